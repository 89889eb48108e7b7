//! What one ELF file needs from outside itself: the libraries it names (`DT_NEEDED`), where it
//! looks for them (`DT_RPATH`/`DT_RUNPATH`), and the symbol versions it requires from them
//! (`.gnu.version_r`), which is what decides whether a glibc (or musl) image can load it.
//!
//! Input comes from wheels downloaded off the internet, so parsing borrows the bytes (no copy)
//! and everything copied out of them is charged against a small budget: a hostile file cannot
//! make us allocate or loop more than a real one would.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use goblin::elf::{Elf, dynamic, header, program_header};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ElfInfo {
    pub machine: Machine,
    pub class: Class,
    pub kind: ElfKind,
    /// `DT_SONAME`.
    pub soname: Option<String>,
    /// `DT_NEEDED`, in order.
    pub needed: Vec<String>,
    /// `DT_RPATH` entries split on `:` (empty entries dropped).
    pub rpath: Vec<String>,
    /// `DT_RUNPATH` entries split on `:` (empty entries dropped).
    pub runpath: Vec<String>,
    /// Highest required version per (library file it is needed from, namespace), from
    /// `.gnu.version_r`: `{"libc.so.6": {"GLIBC": "2.28"}, "libstdc++.so.6": {"GLIBCXX": "3.4.29"}}`.
    pub version_needs: BTreeMap<String, BTreeMap<String, String>>,
    /// `PT_INTERP`: set for executables (and for libc itself, which is also runnable).
    pub interpreter: Option<String>,
}

/// `e_machine`, with names for the architectures Python images exist for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum Machine {
    X86_64,
    Aarch64,
    I386,
    Arm,
    Other(u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Elf32,
    Elf64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ElfKind {
    SharedObject,
    Executable,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum ElfError {
    #[error("not an ELF file")]
    NotElf,
    #[error("malformed ELF file: {0}")]
    Malformed(String),
}

/// Bytes of names (plus a per-entry overhead) copied out of one file. Real libraries use a few
/// KiB; without a cap, thousands of `DT_NEEDED` entries pointing at one long string, or version
/// chains revisiting the same entries, would cost memory or time quadratic in the file size.
pub(crate) const TEXT_BUDGET: usize = 1 << 20;
const ENTRY_COST: usize = 16;

/// The `\x7fELF` magic: enough to tell an ELF file from anything else without parsing.
pub fn is_elf(bytes: &[u8]) -> bool {
    bytes.starts_with(b"\x7fELF")
}

pub fn inspect(bytes: &[u8]) -> Result<ElfInfo, ElfError> {
    if !is_elf(bytes) {
        return Err(ElfError::NotElf);
    }
    let elf = Elf::parse(bytes).map_err(|e| ElfError::Malformed(e.to_string()))?;
    let mut budget = Budget(TEXT_BUDGET);

    let mut rpath = Vec::new();
    let mut runpath = Vec::new();
    for (paths, out) in [(&elf.rpaths, &mut rpath), (&elf.runpaths, &mut runpath)] {
        for entry in paths
            .iter()
            .flat_map(|p| p.split(':'))
            .filter(|e| !e.is_empty())
        {
            out.push(budget.copy(entry)?);
        }
    }
    Ok(ElfInfo {
        machine: Machine::from(elf.header.e_machine),
        class: if elf.is_64 {
            Class::Elf64
        } else {
            Class::Elf32
        },
        kind: kind_of(&elf),
        soname: elf.soname.map(|s| budget.copy(s)).transpose()?,
        needed: elf
            .libraries
            .iter()
            .map(|l| budget.copy(l))
            .collect::<Result<_, _>>()?,
        rpath,
        runpath,
        version_needs: version_needs(&elf, &mut budget)?,
        interpreter: elf.interpreter.map(|s| budget.copy(s)).transpose()?,
    })
}

pub(crate) struct Budget(pub(crate) usize);

impl Budget {
    pub(crate) fn charge(&mut self, bytes: usize) -> Result<(), ElfError> {
        self.0 = self.0.checked_sub(bytes + ENTRY_COST).ok_or_else(|| {
            ElfError::Malformed(format!("dynamic section names exceed {TEXT_BUDGET} bytes"))
        })?;
        Ok(())
    }

    pub(crate) fn copy(&mut self, text: &str) -> Result<String, ElfError> {
        self.charge(text.len())?;
        Ok(text.to_string())
    }
}

/// A position-independent executable is `ET_DYN` like a library; `DF_1_PIE` says which, and
/// for old linkers that did not set it, an interpreter without a soname means a program
/// (libc.so.6 has both, extension modules neither).
fn kind_of(elf: &Elf) -> ElfKind {
    match elf.header.e_type {
        header::ET_EXEC => ElfKind::Executable,
        header::ET_DYN => {
            let pie = elf
                .dynamic
                .as_ref()
                .is_some_and(|d| d.info.flags_1 & dynamic::DF_1_PIE != 0);
            let interp = elf
                .program_headers
                .iter()
                .any(|p| p.p_type == program_header::PT_INTERP);
            if pie || (interp && elf.soname.is_none()) {
                ElfKind::Executable
            } else {
                ElfKind::SharedObject
            }
        }
        _ => ElfKind::Other,
    }
}

/// `.gnu.version_r`: for each library file, the versions (`GLIBC_2.17`, ...) it must define.
/// Files stripped of section headers lose this (goblin finds it by section); the loader does not
/// need it, so such files merely look less demanding than they are.
fn version_needs(
    elf: &Elf,
    budget: &mut Budget,
) -> Result<BTreeMap<String, BTreeMap<String, String>>, ElfError> {
    let mut needs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let Some(verneed) = &elf.verneed else {
        return Ok(needs);
    };
    for need in verneed.iter() {
        budget.charge(0)?;
        let Some(file) = elf.dynstrtab.get_at(need.vn_file) else {
            continue;
        };
        for aux in need.iter() {
            budget.charge(0)?;
            let Some((namespace, version)) =
                elf.dynstrtab.get_at(aux.vna_name).and_then(split_version)
            else {
                continue;
            };
            let by_namespace = match needs.get_mut(file) {
                Some(existing) => existing,
                None => needs.entry(budget.copy(file)?).or_default(),
            };
            match by_namespace.get_mut(namespace) {
                Some(current) if version_cmp(current, &version).is_ge() => {}
                Some(current) => {
                    budget.charge(version.len())?;
                    *current = version;
                }
                None => {
                    budget.charge(version.len())?;
                    by_namespace.insert(budget.copy(namespace)?, version);
                }
            }
        }
    }
    Ok(needs)
}

/// `GLIBC_2.2.5` → `("GLIBC", "2.2.5")`, `CXXABI_TM_1` → `("CXXABI_TM", "1")`: the namespace ends
/// at the first `_` followed by a digit. Names without a numeric version (`GLIBC_PRIVATE`) are
/// `None`. OpenSSL's `OPENSSL_1_1_0` style reads as `1.1.0`.
pub(crate) fn split_version(name: &str) -> Option<(&str, String)> {
    // A byte position: `_` is ASCII, so slicing there is safe whatever else the name holds.
    let at = name
        .as_bytes()
        .windows(2)
        .position(|pair| pair[0] == b'_' && pair[1].is_ascii_digit())?;
    let (namespace, version) = (&name[..at], &name[at + 1..]);
    let numeric = version
        .split(['.', '_'])
        .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()));
    (numeric && !namespace.is_empty()).then(|| (namespace, version.replace('_', ".")))
}

/// Compare versions component-wise, numerically where both components are digits ("3.4.9" <
/// "3.4.29"), of any length (no overflow); missing components count as zero ("2.17" == "2.17.0").
pub fn version_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.split('.'), b.split('.'));
    loop {
        let ordering = match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (x, y) => component_cmp(x.unwrap_or("0"), y.unwrap_or("0")),
        };
        if ordering.is_ne() {
            return ordering;
        }
    }
}

fn component_cmp(a: &str, b: &str) -> Ordering {
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    if digits(a) && digits(b) {
        let (a, b) = (a.trim_start_matches('0'), b.trim_start_matches('0'));
        a.len().cmp(&b.len()).then_with(|| a.cmp(b))
    } else {
        a.cmp(b)
    }
}

impl ElfInfo {
    /// The highest version of `namespace` (`GLIBC`, `GLIBCXX`, ...) needed from any library.
    pub fn highest(&self, namespace: &str) -> Option<String> {
        self.version_needs
            .values()
            .filter_map(|by_namespace| by_namespace.get(namespace))
            .max_by(|a, b| version_cmp(a, b))
            .cloned()
    }

    /// The architecture as wheel platform tags spell it (`manylinux_2_17_x86_64`, `..._i686`).
    pub fn arch_name(&self) -> &'static str {
        self.machine.arch_name()
    }
}

impl Machine {
    pub fn arch_name(self) -> &'static str {
        match self {
            Machine::X86_64 => "x86_64",
            Machine::Aarch64 => "aarch64",
            Machine::I386 => "i686",
            Machine::Arm => "armv7l",
            Machine::Other(_) => "unknown",
        }
    }
}

impl From<u16> for Machine {
    fn from(e_machine: u16) -> Self {
        match e_machine {
            header::EM_X86_64 => Machine::X86_64,
            header::EM_AARCH64 => Machine::Aarch64,
            header::EM_386 => Machine::I386,
            header::EM_ARM => Machine::Arm,
            other => Machine::Other(other),
        }
    }
}

/// Serialized as `x86_64`, `aarch64`, `i386`, `arm`, or `em_<number>`.
impl From<Machine> for String {
    fn from(machine: Machine) -> String {
        match machine {
            Machine::X86_64 => "x86_64".into(),
            Machine::Aarch64 => "aarch64".into(),
            Machine::I386 => "i386".into(),
            Machine::Arm => "arm".into(),
            Machine::Other(number) => format!("em_{number}"),
        }
    }
}

impl TryFrom<String> for Machine {
    type Error = String;
    fn try_from(name: String) -> Result<Self, String> {
        match name.as_str() {
            "x86_64" => Ok(Machine::X86_64),
            "aarch64" => Ok(Machine::Aarch64),
            "i386" => Ok(Machine::I386),
            "arm" => Ok(Machine::Arm),
            _ => name
                .strip_prefix("em_")
                .and_then(|n| n.parse().ok())
                .map(Machine::Other)
                .ok_or_else(|| format!("unknown machine {name:?}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real shared library of this machine, if one of the usual places has it.
    fn system_libz() -> Option<Vec<u8>> {
        let dirs = ["/lib", "/usr/lib", "/lib64", "/usr/lib64"];
        let triplets = ["x86_64-linux-gnu", "aarch64-linux-gnu", ""];
        dirs.iter()
            .flat_map(|d| triplets.iter().map(move |t| format!("{d}/{t}/libz.so.1")))
            .find_map(|path| std::fs::read(path).ok())
    }

    /// Deterministic pseudo-random bytes (xorshift), so a failure reproduces.
    fn noise(seed: u64) -> impl Iterator<Item = u8> {
        let mut state = seed | 1;
        std::iter::repeat_with(move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
    }

    #[test]
    fn reads_a_system_library() {
        let Some(bytes) = system_libz() else {
            eprintln!("skipped: no libz.so.1 found");
            return;
        };
        let info = inspect(&bytes).unwrap();
        assert_eq!(info.soname.as_deref(), Some("libz.so.1"));
        assert!(info.needed.iter().any(|n| n == "libc.so.6"), "{info:?}");
        assert!(info.highest("GLIBC").is_some(), "{info:?}");
        assert!(info.version_needs["libc.so.6"].contains_key("GLIBC"));
        assert_eq!(info.kind, ElfKind::SharedObject);
        assert_eq!(info.class, Class::Elf64);
        assert_ne!(info.arch_name(), "unknown");
        let json = serde_json::to_string(&info).unwrap();
        assert_eq!(serde_json::from_str::<ElfInfo>(&json).unwrap(), info);
    }

    #[test]
    fn reads_this_test_program() {
        let info = inspect(&std::fs::read(std::env::current_exe().unwrap()).unwrap()).unwrap();
        assert_eq!(
            info.kind,
            ElfKind::Executable,
            "a PIE is ET_DYN but still a program"
        );
        assert!(info.interpreter.is_some());
        assert_eq!(info.arch_name(), std::env::consts::ARCH);
    }

    #[test]
    fn truncated_files_are_errors() {
        let Some(bytes) = system_libz() else {
            eprintln!("skipped: no libz.so.1 found");
            return;
        };
        // Every length below the header, then ~2000 cuts through the rest. Section headers sit
        // at the end of the file, so any cut loses some of them.
        let step = (bytes.len() / 2000).max(1);
        for len in (0..128).chain((128..bytes.len()).step_by(step)) {
            let result = inspect(&bytes[..len]);
            assert!(result.is_err(), "{len} bytes parsed");
        }
    }

    #[test]
    fn hostile_bytes_never_panic() {
        assert!(matches!(inspect(b""), Err(ElfError::NotElf)));
        assert!(matches!(inspect(b"\x7fEL"), Err(ElfError::NotElf)));
        assert!(matches!(
            inspect(b"PK\x03\x04 a zip"),
            Err(ElfError::NotElf)
        ));
        for seed in 1..200u64 {
            let random: Vec<u8> = noise(seed).take(4096).collect();
            assert!(matches!(inspect(&random), Err(ElfError::NotElf)));
            let with_magic: Vec<u8> = b"\x7fELF"
                .iter()
                .copied()
                .chain(noise(seed))
                .take(4096)
                .collect();
            assert!(inspect(&with_magic).is_err());
        }
        let Some(real) = system_libz() else { return };
        for seed in 1..50u64 {
            let garbage: Vec<u8> = real[..64]
                .iter()
                .copied()
                .chain(noise(seed).take(8192))
                .collect();
            assert!(matches!(inspect(&garbage), Err(ElfError::Malformed(_))));
        }
        // Flipped bytes anywhere in a real library may still parse; they just must not panic.
        for seed in 1..3000u64 {
            let mut mutated = real.clone();
            let mut random = noise(seed);
            for _ in 0..8 {
                let at = usize::from_le_bytes([0; 8].map(|_| random.next().unwrap_or(0)))
                    % mutated.len();
                mutated[at] = random.next().unwrap_or(0);
            }
            let _ = inspect(&mutated);
        }
    }

    #[test]
    fn budget_runs_out() {
        let mut budget = Budget(2 * ENTRY_COST + 15);
        assert!(budget.copy("0123456789").is_ok());
        assert!(matches!(
            budget.copy("0123456789"),
            Err(ElfError::Malformed(_))
        ));
    }

    #[test]
    fn versions_compare_numerically() {
        use Ordering::*;
        for (a, b, expected) in [
            ("2.17", "2.28", Less),
            ("3.4.9", "3.4.29", Less),
            ("2.2.5", "2.17", Less),
            ("2.17", "2.17.0", Equal),
            ("2.17.1", "2.17", Greater),
            ("1.3.11", "1.3.9", Greater),
            ("010", "9", Greater),
            ("99999999999999999999999", "1", Greater),
            ("2.28", "2.28", Equal),
            ("", "", Equal),
        ] {
            assert_eq!(version_cmp(a, b), expected, "{a} vs {b}");
            assert_eq!(version_cmp(b, a), expected.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn splits_version_names() {
        let split = |n| split_version(n).map(|(ns, v)| (ns.to_string(), v));
        let pair = |ns: &str, v: &str| Some((ns.to_string(), v.to_string()));
        assert_eq!(split("GLIBC_2.17"), pair("GLIBC", "2.17"));
        assert_eq!(split("GLIBC_2.2.5"), pair("GLIBC", "2.2.5"));
        assert_eq!(split("GLIBCXX_3.4.21"), pair("GLIBCXX", "3.4.21"));
        assert_eq!(split("CXXABI_TM_1"), pair("CXXABI_TM", "1"));
        assert_eq!(split("GCC_4.2.0"), pair("GCC", "4.2.0"));
        assert_eq!(split("OPENSSL_1_1_0"), pair("OPENSSL", "1.1.0"));
        assert_eq!(split("ÄÖ_1.2"), pair("ÄÖ", "1.2"));
        for skipped in [
            "GLIBC_PRIVATE",
            "GLIBC_",
            "_2.17",
            "GLIBC_2.",
            "GLIBC_2..3",
            "GLIBC_2.17a",
            "x",
        ] {
            assert_eq!(split(skipped), None, "{skipped}");
        }
    }

    #[test]
    fn highest_spans_libraries() {
        let mut info = ElfInfo {
            machine: Machine::Aarch64,
            class: Class::Elf64,
            kind: ElfKind::SharedObject,
            soname: None,
            needed: vec![],
            rpath: vec![],
            runpath: vec![],
            version_needs: BTreeMap::new(),
            interpreter: None,
        };
        let needs = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect()
        };
        info.version_needs
            .insert("libc.so.6".into(), needs(&[("GLIBC", "2.17")]));
        info.version_needs
            .insert("libm.so.6".into(), needs(&[("GLIBC", "2.29")]));
        info.version_needs.insert(
            "libstdc++.so.6".into(),
            needs(&[("GLIBCXX", "3.4.9"), ("CXXABI", "1.3")]),
        );
        info.version_needs
            .insert("libfoo.so".into(), needs(&[("GLIBCXX", "3.4.29")]));
        assert_eq!(info.highest("GLIBC").as_deref(), Some("2.29"));
        assert_eq!(info.highest("GLIBCXX").as_deref(), Some("3.4.29"));
        assert_eq!(info.highest("GCC"), None);
    }

    #[test]
    fn machine_names() {
        for machine in [
            Machine::X86_64,
            Machine::Aarch64,
            Machine::I386,
            Machine::Arm,
            Machine::Other(243),
        ] {
            let name = String::from(machine);
            assert_eq!(Machine::try_from(name).unwrap(), machine);
        }
        assert_eq!(String::from(Machine::Other(243)), "em_243");
        assert!(Machine::try_from("sparc".to_string()).is_err());
    }
}
