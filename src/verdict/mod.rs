//! The answer per image: does it work as is, with system packages, only with source builds, or
//! not at all — and what to add, at run time and at build time, and how big the result is.

pub mod recommend;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::knowledge::build::{BuildKnowledge, Distro};
use crate::knowledge::catalog::{ImageEntry, Variant};
use crate::knowledge::system::SystemData;
use crate::report::TargetReport;
use crate::resolve::Kind;
use crate::tags::Arch;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// All wheels, every needed library present.
    Works,
    /// All wheels; some system packages must be added.
    WorksWithPackages,
    /// One or more packages are built from source.
    NeedsBuild,
    /// Something could not be read: no answer is trustworthy.
    Unknown,
    /// A package has no usable file, a library exists in no package, or a wheel needs a newer
    /// glibc than the image has.
    Fails,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Works => "works",
            Verdict::WorksWithPackages => "works-with-packages",
            Verdict::NeedsBuild => "needs-build",
            Verdict::Unknown => "unknown",
            Verdict::Fails => "fails",
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SystemPackages {
    pub runtime: Vec<String>,
    pub build: Vec<String>,
    /// Alpine's library-named spelling of the runtime packages (`so:libGL.so.1`), which
    /// survives package renames.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runtime_so_names: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct SizeEstimate {
    pub base_image: Option<u64>,
    pub wheels: u64,
    pub packages: u64,
    /// Packages added with their dependencies the image lacks.
    pub packages_added: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetVerdict {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    /// Sonames the image lacks → the packages that provide them (empty: no package does).
    pub missing_sonames: BTreeMap<String, Vec<String>>,
    /// Sonames the container runtime must mount from the host (the GPU driver's) → the packages
    /// needing them.
    pub host_libraries: BTreeMap<String, Vec<String>>,
    pub system_packages: SystemPackages,
    pub built_from_source: Vec<String>,
    pub estimated_size_bytes: Option<u64>,
    pub size: SizeEstimate,
    /// Where the data behind the verdict is approximate.
    pub notes: Vec<String>,
}

impl TargetVerdict {
    /// `verdict` with nothing found yet.
    pub fn new(verdict: Verdict) -> TargetVerdict {
        TargetVerdict {
            verdict,
            reasons: Vec::new(),
            missing_sonames: BTreeMap::new(),
            host_libraries: BTreeMap::new(),
            system_packages: SystemPackages::default(),
            built_from_source: Vec::new(),
            estimated_size_bytes: None,
            size: SizeEstimate::default(),
            notes: Vec::new(),
        }
    }
}

/// An sdist the target builds, with what its `pyproject.toml` asks for to build.
pub struct SdistBuild {
    pub name: String,
    pub version: String,
    pub build_requires: Vec<String>,
    /// Downloaded whole and its sha256 matched the index's.
    pub sha256_verified: bool,
}

pub struct Judge<'a> {
    pub system: &'a SystemData,
    pub build: &'a BuildKnowledge,
}

impl Judge<'_> {
    pub fn judge(
        &self,
        report: &TargetReport,
        image: &ImageEntry,
        arch: Arch,
        sdists: &[SdistBuild],
    ) -> TargetVerdict {
        let mut verdict = TargetVerdict {
            host_libraries: host_libraries(report),
            built_from_source: sdists
                .iter()
                .map(|s| format!("{} {}", s.name, s.version))
                .collect(),
            ..TargetVerdict::new(Verdict::Works)
        };
        let system = match self.system.image(image, arch) {
            Ok(system) => system,
            Err(err) => {
                verdict.verdict = Verdict::Unknown;
                verdict.reasons.push(err.to_string());
                return verdict;
            }
        };
        verdict.notes.extend(system.notes.iter().cloned());
        let mut runtime: BTreeSet<String> = BTreeSet::new();
        for (soname, packages) in &report.system_libs_needed {
            if system.sonames.contains(soname) {
                continue;
            }
            match self.system.provider(image, arch, soname) {
                Some(provider) => {
                    verdict
                        .missing_sonames
                        .insert(soname.clone(), vec![provider.package.clone()]);
                    runtime.insert(provider.package);
                    verdict
                        .system_packages
                        .runtime_so_names
                        .extend(provider.apk_name);
                }
                None => {
                    verdict.missing_sonames.insert(soname.clone(), Vec::new());
                    verdict.reasons.push(format!(
                        "{soname} (needed by {}) is in no {} package",
                        packages.join(", "),
                        distro_name(image)
                    ));
                }
            }
        }
        let distro = distro_of(image);
        let mut build: BTreeSet<String> = BTreeSet::new();
        for sdist in sdists {
            let needs = self
                .build
                .needs_for(&sdist.name, &sdist.build_requires, &distro);
            build.extend(needs.build);
            runtime.extend(needs.runtime);
            verdict.notes.extend(
                needs
                    .notes
                    .into_iter()
                    .map(|n| format!("{}: {n}", sdist.name)),
            );
        }
        let preinstalled = &system.packages;
        build.retain(|p| !preinstalled.contains(p));
        runtime.retain(|p| !preinstalled.contains(p));
        verdict.system_packages.runtime = runtime.into_iter().collect();
        verdict.system_packages.build = build.into_iter().collect();
        verdict.verdict = classify(report, &mut verdict);
        self.estimate_size(report, image, arch, &system.packages, &mut verdict);
        verdict
    }

    fn estimate_size(
        &self,
        report: &TargetReport,
        image: &ImageEntry,
        arch: Arch,
        installed: &BTreeSet<String>,
        verdict: &mut TargetVerdict,
    ) {
        let (packages, added) =
            self.system
                .added_size(image, arch, &verdict.system_packages.runtime, installed);
        verdict.size = SizeEstimate {
            base_image: image.size_bytes,
            wheels: report.bytes.wheels_installed,
            packages,
            packages_added: added,
        };
        if image.size_bytes.is_none() {
            verdict
                .notes
                .push(format!("{}: no published image size", image.tag));
        }
        if arch != Arch::X86_64 {
            verdict
                .notes
                .push("the base image size is the amd64 image's".into());
        }
        if !verdict.built_from_source.is_empty() {
            verdict
                .notes
                .push("packages built from source are not counted in the size".into());
        }
        verdict.estimated_size_bytes = image
            .size_bytes
            .map(|base| base + verdict.size.wheels + packages);
    }
}

fn host_libraries(report: &TargetReport) -> BTreeMap<String, Vec<String>> {
    let mut libraries: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in &report.packages {
        for soname in package.elf.iter().flat_map(|e| &e.provided_by_host) {
            libraries
                .entry(soname.clone())
                .or_default()
                .push(package.name.clone());
        }
    }
    libraries
}

/// The verdict from the worst finding: failures, then unknowns, then builds, then packages.
fn classify(report: &TargetReport, verdict: &mut TargetVerdict) -> Verdict {
    let mut worst = Verdict::Works;
    if !verdict.system_packages.runtime.is_empty() {
        worst = Verdict::WorksWithPackages;
        verdict
            .reasons
            .push(format!("add {}", verdict.system_packages.runtime.join(" ")));
    }
    let built = report
        .packages
        .iter()
        .filter(|p| p.kind == Kind::Sdist)
        .count();
    if built > 0 || !report.unresolved_lines.is_empty() {
        worst = Verdict::NeedsBuild;
        if built > 0 {
            verdict.reasons.push(format!(
                "{built} package(s) built from source: {}",
                verdict.built_from_source.join(", ")
            ));
        }
        for line in &report.unresolved_lines {
            verdict.reasons.push(format!(
                "{} ({}) is installed as it is, without a wheel to check: {}",
                line.source, line.line, line.why
            ));
        }
    }
    if report.could_not_check() {
        worst = worst.max(Verdict::Unknown);
        verdict
            .reasons
            .push("some files could not be read; see the report".into());
    }
    let unavailable = verdict.missing_sonames.values().any(Vec::is_empty);
    let too_new = report.glibc_too_new();
    for (package, version) in &too_new {
        verdict.reasons.push(format!(
            "{package} needs GLIBC {version}; the image has {}",
            report.libc_version
        ));
    }
    for package in report.packages.iter().filter(|p| p.kind == Kind::None) {
        verdict.reasons.push(format!(
            "{} cannot be installed: {}",
            package.name,
            package.reason.as_deref().unwrap_or("no usable file")
        ));
    }
    let none = report.packages.iter().any(|p| p.kind == Kind::None);
    if !report.resolution.ok && !report.resolution.could_not_check
        || none
        || unavailable
        || !too_new.is_empty()
    {
        worst = Verdict::Fails;
    }
    worst
}

pub fn distro_of(image: &ImageEntry) -> Distro {
    match image.variant {
        Variant::Alpine => Distro::Alpine {
            release: image.release.clone(),
        },
        _ => Distro::Debian {
            release: image.release.clone(),
        },
    }
}

fn distro_name(image: &ImageEntry) -> String {
    match image.variant {
        Variant::Alpine => format!("Alpine {}", image.release),
        _ => format!("Debian {}", image.release),
    }
}
