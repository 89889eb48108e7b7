//! A target is one image on one architecture: the unit for which wheelcheck
//! predicts what pip installs.

use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder};

use crate::knowledge::catalog::ImageEntry;
use crate::tags::{self, Arch, Tag, TagPriority};

/// An image the catalog does not publish for the requested architecture.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{tag} is not published for {arch} (available: {available})")]
pub struct UnsupportedArch {
    pub tag: String,
    pub arch: String,
    pub available: String,
}

/// One image × architecture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub image: ImageEntry,
    pub arch: Arch,
}

impl Target {
    /// Pairs an image with an architecture. Does not check `image.arches`;
    /// use [`Target::checked`] where the pair comes from user input.
    pub fn new(image: ImageEntry, arch: Arch) -> Target {
        Target { image, arch }
    }

    /// Like [`Target::new`], but refuses an architecture the image is not
    /// published for, since pip could never run there.
    pub fn checked(image: &ImageEntry, arch: Arch) -> Result<Target, UnsupportedArch> {
        if image.arches.contains(&arch) {
            return Ok(Target::new(image.clone(), arch));
        }
        let names: Vec<&str> = image.arches.iter().map(|a| a.docker_name()).collect();
        Err(UnsupportedArch {
            tag: image.tag.clone(),
            arch: arch.docker_name().to_string(),
            available: names.join(", "),
        })
    }

    /// One target per architecture the image is published for.
    pub fn all_arches(image: &ImageEntry) -> Vec<Target> {
        image
            .arches
            .iter()
            .map(|&arch| Target::new(image.clone(), arch))
            .collect()
    }

    /// Supported wheel tags inside the image, best first (pip's order).
    pub fn tags(&self) -> Vec<Tag> {
        tags::supported_tags(self.image.python, self.image.libc, self.arch)
    }

    /// Platform tags inside the image, best first.
    pub fn platform_tags(&self) -> Vec<String> {
        tags::platform_tags(self.image.libc, self.arch)
    }

    /// [`Target::tags`] indexed for ranking wheels.
    pub fn tag_priority(&self) -> TagPriority {
        TagPriority::new(&self.tags())
    }

    /// The image's Python version; `X.Y.0` when the catalog does not know
    /// the patch level (derived entries), which only matters for markers
    /// that compare `python_full_version` inside that minor.
    pub fn python_full_version(&self) -> Version {
        let (major, minor) = self.image.python;
        let fallback = || Version::new([u64::from(major), u64::from(minor), 0]);
        match &self.image.python_full {
            Some(full) => Version::from_str(full).unwrap_or_else(|_| fallback()),
            None => fallback(),
        }
    }

    /// PEP 508 environment markers as they evaluate inside the image, not on
    /// this machine: CPython on Linux with the image's Python and the
    /// target's architecture. `platform_release` and `platform_version`
    /// describe the kernel, which is the Docker host's and unknowable here, so
    /// they are empty. Python versions come from [`Target::python_full_version`].
    pub fn marker_env(&self) -> MarkerEnvironment {
        let full = self.python_full_version().to_string();
        let short = format!("{}.{}", self.image.python.0, self.image.python.1);
        let builder = MarkerEnvironmentBuilder {
            implementation_name: "cpython",
            implementation_version: &full,
            os_name: "posix",
            platform_machine: self.arch.as_str(),
            platform_python_implementation: "CPython",
            platform_release: "",
            platform_system: "Linux",
            platform_version: "",
            python_full_version: &full,
            python_version: &short,
            sys_platform: "linux",
        };
        // Both version strings are printed from integers or from a parsed
        // `Version`, so they always parse back; no user input reaches here.
        MarkerEnvironment::try_from(builder).expect("versions built from a Version always parse")
    }

    /// `python:3.12-slim-trixie (amd64)`.
    pub fn label(&self) -> String {
        format!("{} ({})", self.image.tag, self.arch.docker_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::catalog::Catalog;
    use pep508_rs::MarkerTree;

    fn target(spec: &str, arch: Arch) -> Target {
        let catalog = Catalog::load().unwrap();
        Target::checked(catalog.resolve(spec, None).unwrap(), arch).unwrap()
    }

    fn eval(target: &Target, marker: &str) -> bool {
        let tree = MarkerTree::from_str(marker).unwrap();
        tree.evaluate(&target.marker_env(), &[])
    }

    #[test]
    fn markers_evaluate_inside_the_image() {
        let arm = target("python:3.12-slim-trixie", Arch::Aarch64);
        let amd = target("python:3.12-slim-trixie", Arch::X86_64);
        assert!(eval(&arm, "platform_machine == 'aarch64'"));
        assert!(!eval(&amd, "platform_machine == 'aarch64'"));
        assert!(eval(&amd, "platform_machine == 'x86_64'"));
        assert!(!eval(&amd, "python_version < '3.11'"));
        assert!(eval(
            &amd,
            "python_version >= '3.12' and python_version < '3.13'"
        ));
        assert!(!eval(&amd, "sys_platform == 'win32'"));
        assert!(eval(&amd, "sys_platform == 'linux' and os_name == 'posix'"));
        assert!(eval(&amd, "platform_system == 'Linux'"));
        assert!(eval(&amd, "implementation_name == 'cpython'"));
        assert!(eval(&amd, "platform_python_implementation == 'CPython'"));
        assert!(eval(&amd, "python_full_version == '3.12.14'"));
    }

    #[test]
    fn old_python_markers() {
        let t = target("python:3.10-slim-bookworm", Arch::X86_64);
        assert!(eval(&t, "python_version < '3.11'"));
        // Patch level unknown for this derived entry: X.Y.0 is documented.
        assert_eq!(t.python_full_version().to_string(), "3.10.0");
        assert!(eval(&t, "python_full_version == '3.10.0'"));
    }

    #[test]
    fn tags_follow_the_image() {
        let musl = target("alpine", Arch::Aarch64);
        assert_eq!(musl.platform_tags()[0], "musllinux_1_2_aarch64");
        assert_eq!(
            musl.tags()[0].to_string(),
            "cp314-cp314-musllinux_1_2_aarch64"
        );
        let glibc = target("python:3.12-bookworm", Arch::X86_64);
        assert_eq!(glibc.platform_tags()[0], "manylinux_2_36_x86_64");
        assert!(!glibc.tag_priority().is_empty());
    }

    #[test]
    fn labels_and_arches() {
        let t = target("python:3.12-slim", Arch::X86_64);
        assert_eq!(t.label(), "python:3.12-slim-trixie (amd64)");
        let all = Target::all_arches(&t.image);
        let arches: Vec<Arch> = all.iter().map(|t| t.arch).collect();
        assert_eq!(arches, [Arch::X86_64, Arch::Aarch64]);
        let mut amd_only = t.image.clone();
        amd_only.arches = vec![Arch::X86_64];
        let err = Target::checked(&amd_only, Arch::Aarch64).unwrap_err();
        assert!(err.to_string().contains("arm64"), "{err}");
    }

    #[test]
    fn bad_python_full_falls_back() {
        let mut t = target("python:3.13-trixie", Arch::X86_64);
        t.image.python_full = Some("not a version".to_string());
        assert_eq!(t.python_full_version().to_string(), "3.13.0");
        assert!(eval(&t, "python_version == '3.13'"));
    }
}
