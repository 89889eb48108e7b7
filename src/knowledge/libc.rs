//! Which sonames the C library itself provides, from `data/libc.toml`.

use std::collections::BTreeSet;

use serde::Deserialize;

use crate::tags::Libc;

#[derive(Debug, Deserialize)]
struct File {
    glibc: Provided,
    musl: Provided,
    host: Provided,
}

#[derive(Debug, Deserialize)]
struct Provided {
    provided: BTreeSet<String>,
}

#[derive(Debug)]
pub struct LibcSonames {
    glibc: BTreeSet<String>,
    musl: BTreeSet<String>,
    host: BTreeSet<String>,
}

impl LibcSonames {
    pub fn load() -> Self {
        let file: File = toml::from_str(include_str!("../../data/libc.toml"))
            .expect("data/libc.toml is checked by its test");
        LibcSonames {
            glibc: file.glibc.provided,
            musl: file.musl.provided,
            host: file.host.provided,
        }
    }

    /// Provided by the host through the container runtime (the GPU driver's libraries).
    pub fn host_provides(&self, soname: &str) -> bool {
        self.host.contains(soname)
    }

    pub fn provides(&self, libc: Libc, soname: &str) -> bool {
        match libc {
            Libc::Glibc { .. } => self.glibc.contains(soname),
            Libc::Musl { .. } => self.musl.contains(soname),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_and_keeps_the_two_libcs_apart() {
        let sonames = LibcSonames::load();
        let glibc = Libc::Glibc {
            major: 2,
            minor: 36,
        };
        let musl = Libc::Musl { major: 1, minor: 2 };
        assert!(sonames.provides(glibc, "libm.so.6"));
        assert!(!sonames.provides(glibc, "libc.so"));
        assert!(sonames.provides(musl, "libc.so"));
        assert!(sonames.provides(musl, "libc.musl-aarch64.so.1"));
        assert!(!sonames.provides(musl, "libstdc++.so.6"));
        assert!(!sonames.provides(glibc, "libgomp.so.1"));
        assert!(sonames.host_provides("libcuda.so.1"));
        assert!(!sonames.host_provides("libgomp.so.1"));
    }
}
