//! What the wheels of one install set need from the image: each needed soname is provided by
//! the wheel itself, by another wheel of the set, by the C library, or else by the system.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde::Serialize;

use crate::inspect::analysis::WheelAnalysis;
use crate::inspect::elf::version_cmp;
use crate::knowledge::libc::LibcSonames;
use crate::tags::{Arch, Libc};

/// One chosen wheel, as the aggregation sees it.
pub struct WheelInput<'a> {
    pub package: &'a str,
    /// Base names of every file in the wheel (auditwheel's `.libs/` copies among them).
    pub file_names: Vec<&'a str>,
    pub analysis: Result<&'a WheelAnalysis, String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ElfReport {
    /// `done`, `failed: <reason>`, or `none (pure Python)`.
    pub analysis: String,
    pub files: usize,
    pub needed_from_system: BTreeSet<String>,
    pub provided_by_wheel: BTreeSet<String>,
    pub provided_by_other_wheels: BTreeMap<String, String>,
    /// Needed libraries that the C library itself provides (libc.so.6, libm.so.6, ...).
    pub provided_by_libc: BTreeSet<String>,
    /// Needed libraries the container runtime mounts from the host (the GPU driver's).
    pub provided_by_host: BTreeSet<String>,
    /// Highest version needed per namespace (GLIBC, GLIBCXX, CXXABI, GCC, ...).
    pub symbol_versions: BTreeMap<String, String>,
    pub arch_mismatch: bool,
}

impl ElfReport {
    pub fn is_done(&self) -> bool {
        self.analysis == "done" || self.analysis.starts_with("none")
    }
}

/// The needs of every wheel of a target's install set.
pub fn needs(
    wheels: &[WheelInput],
    libc: Libc,
    arch: Arch,
    libc_sonames: &LibcSonames,
) -> Vec<ElfReport> {
    let wanted = needed_anywhere(wheels);
    let providers = providers_of(wheels, &wanted);
    wheels
        .iter()
        .map(|wheel| report_for(wheel, &providers, &wanted, libc, arch, libc_sonames))
        .collect()
}

/// Every library some ELF file of the set needs. Only these names are ever looked up, and the
/// wheels of a large install set list tens of thousands of files (plotly alone 17,000).
fn needed_anywhere<'a>(wheels: &'a [WheelInput]) -> HashSet<&'a str> {
    wheels
        .iter()
        .filter_map(|wheel| wheel.analysis.as_ref().ok())
        .flat_map(|analysis| &analysis.elf_files)
        .flat_map(|file| &file.info.needed)
        .map(String::as_str)
        .collect()
}

/// Needed soname or file name → the package whose wheel ships it.
fn providers_of<'a>(
    wheels: &'a [WheelInput],
    wanted: &HashSet<&str>,
) -> BTreeMap<&'a str, &'a str> {
    let mut providers = BTreeMap::new();
    for wheel in wheels {
        for name in wheel
            .file_names
            .iter()
            .filter(|name| wanted.contains(*name))
        {
            providers.entry(*name).or_insert(wheel.package);
        }
        if let Ok(analysis) = &wheel.analysis {
            for soname in analysis
                .elf_files
                .iter()
                .filter_map(|f| f.info.soname.as_deref())
            {
                providers.entry(soname).or_insert(wheel.package);
            }
        }
    }
    providers
}

fn report_for(
    wheel: &WheelInput,
    providers: &BTreeMap<&str, &str>,
    wanted: &HashSet<&str>,
    libc: Libc,
    arch: Arch,
    libc_sonames: &LibcSonames,
) -> ElfReport {
    let analysis = match &wheel.analysis {
        Ok(analysis) => analysis,
        Err(reason) => {
            return ElfReport {
                analysis: format!("failed: {reason}"),
                ..ElfReport::default()
            };
        }
    };
    let mut report = ElfReport {
        analysis: match (&analysis.failed, analysis.elf_files.is_empty()) {
            (Some(reason), _) => format!("failed: {reason}"),
            (None, true) => "none (pure Python)".into(),
            (None, false) => "done".into(),
        },
        files: analysis.elf_files.len(),
        ..ElfReport::default()
    };
    let own_names: BTreeSet<&str> = wheel
        .file_names
        .iter()
        .copied()
        .filter(|name| !analysis.elf_files.is_empty() && wanted.contains(name))
        .chain(
            analysis
                .elf_files
                .iter()
                .filter_map(|f| f.info.soname.as_deref()),
        )
        .collect();
    for file in &analysis.elf_files {
        report.arch_mismatch |= file.info.arch_name() != arch.as_str();
        for needed in &file.info.needed {
            if own_names.contains(needed.as_str()) {
                report.provided_by_wheel.insert(needed.clone());
            } else if let Some(package) = providers.get(needed.as_str()) {
                report
                    .provided_by_other_wheels
                    .insert(needed.clone(), package.to_string());
            } else if libc_sonames.provides(libc, needed) {
                report.provided_by_libc.insert(needed.clone());
            } else if libc_sonames.host_provides(needed) {
                report.provided_by_host.insert(needed.clone());
            } else {
                report.needed_from_system.insert(needed.clone());
            }
        }
        for by_library in file.info.version_needs.values() {
            for (namespace, version) in by_library {
                raise(&mut report.symbol_versions, namespace, version);
            }
        }
    }
    report
}

/// Keep the highest version per namespace.
pub fn raise(versions: &mut BTreeMap<String, String>, namespace: &str, version: &str) {
    match versions.get(namespace) {
        Some(current) if version_cmp(current, version) != std::cmp::Ordering::Less => {}
        _ => {
            versions.insert(namespace.to_string(), version.to_string());
        }
    }
}
