//! Reports: the data every format shows, and the formats.

pub mod choice;
pub mod dockerfile;
pub mod findings;
pub mod github;
pub mod html;
pub mod human;
pub mod instead;
pub mod json;
pub mod markdown;
pub mod provenance;
pub mod sarif;
pub mod style;
pub mod why;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;

use crate::filename::WheelFilename;
use crate::index::IndexFile;
use crate::inspect::needs::{self, ElfReport};
use crate::resolve::{Kind, Outcome, ResolvedPackage};
use crate::tags::{Libc, Tag, TagPriority};
use crate::target::Target;
use crate::verdict::TargetVerdict;
use crate::verdict::recommend::Recommendation;

pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub wheelcheck_version: &'static str,
    pub python: String,
    /// The image to use and what to add; see the README for how it is chosen.
    pub recommendation: Option<Recommendation>,
    pub targets: Vec<TargetReport>,
    /// What to act on, with the lines responsible and what to do (see the README).
    pub findings: Vec<findings::Finding>,
}

impl Report {
    pub fn new(python: String, targets: Vec<TargetReport>) -> Self {
        Report {
            schema_version: SCHEMA_VERSION,
            wheelcheck_version: env!("CARGO_PKG_VERSION"),
            python,
            recommendation: None,
            targets,
            findings: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub image: String,
    pub python: String,
    pub python_full_version: String,
    pub libc: &'static str,
    pub libc_version: String,
    pub arch: String,
    pub platform_tags: Vec<String>,
    pub resolution: Resolution,
    pub packages: Vec<PackageReport>,
    pub unresolved_lines: Vec<UnresolvedLine>,
    /// Why the binary-only resolution (behind `binary_only_version`) could not be done, when a
    /// fetch failed there; the `binary_only_version`s are then unknown, not "no wheel".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binary_only_error: Option<String>,
    pub summary: Summary,
    /// Sonames the wheels need from the image, and which packages need each.
    pub system_libs_needed: BTreeMap<String, Vec<String>>,
    /// The highest GLIBC symbol version any chosen wheel needs.
    pub glibc_max: Option<String>,
    pub glibcxx_max: Option<String>,
    pub bytes: Bytes,
    /// The verdict and what to add (`verdict`, `missing_sonames`, `system_packages`,
    /// `estimated_size_bytes`, ...), flattened into the target.
    #[serde(flatten)]
    pub verdict: Option<TargetVerdict>,
    /// Where source builds would be done in a multi-stage file, for the recommendation.
    #[serde(skip)]
    pub builder: Option<Builder>,
}

/// The builder stage for this target's source builds.
#[derive(Debug, Clone)]
pub struct Builder {
    pub image: String,
    pub packages: Vec<String>,
    /// What the build packages would add to this image if left installed.
    pub toolchain_bytes: u64,
}

/// What reading the wheels cost, against what downloading them would.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Bytes {
    /// Compressed bytes fetched to read ELF members (metadata reads are not counted).
    pub elf_fetched: u64,
    /// Total size of the chosen wheels.
    pub wheels_total: u64,
    /// What the chosen wheels take once installed (their members' uncompressed sizes).
    pub wheels_installed: u64,
}

/// The ELF step's results for one target, by package name.
pub struct Inspection {
    pub elf: BTreeMap<String, ElfReport>,
    /// Wheels whose whole-file sha256 was compared with the index's and matched.
    pub sha256_verified: std::collections::BTreeSet<String>,
    pub bytes_fetched: u64,
    pub wheels_total: u64,
    pub wheels_installed: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    pub ok: bool,
    pub error: Option<String>,
    pub could_not_check: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Summary {
    pub wheels: usize,
    pub sdists: usize,
    pub none: usize,
    pub not_inspected: usize,
    /// Wheels whose ELF analysis failed: what they need is unknown.
    pub elf_failed: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct PackageReport {
    pub name: String,
    pub version: Option<String>,
    pub kind: Kind,
    pub file: Option<String>,
    /// Where the file is (credentials removed).
    pub url: Option<String>,
    pub sha256: Option<String>,
    /// Whether the whole file was hashed and matched `sha256`: sdists (always downloaded
    /// whole) and, with `--verify-hashes`, wheels. Wheels read by range are `false`.
    pub sha256_verified: bool,
    pub size: Option<u64>,
    /// The target's tag this wheel was chosen for (its best-ranked compatible tag).
    pub tag: Option<String>,
    pub requested: bool,
    pub binary_only_version: Option<String>,
    pub reason: Option<String>,
    pub note: Option<String>,
    pub required_by: Vec<String>,
    /// The shortest chain of requirements from a package the user asked for down to this one,
    /// both included (`["fastapi", "starlette", "anyio"]`); empty if none leads to it.
    pub chain: Vec<String>,
    /// The lines of the user's files that ask for the chain's first package
    /// (`requirements.txt:3`): where to act on a finding about this package.
    pub lines: Vec<String>,
    /// For wheels: what their ELF files need.
    pub elf: Option<ElfReport>,
    /// Why this file was pip's choice here (null for `none`).
    pub choice: Option<choice::ChoiceReport>,
    /// For sdists: the pin that makes pip take an older release's wheel instead.
    pub avoid_build_pin: Option<instead::AvoidBuildPin>,
    /// For sdists: well-known twins with a wheel for this image (`data/binary-twins.toml`).
    pub binary_twins: Vec<instead::TwinReport>,
}

#[cfg(test)]
impl PackageReport {
    /// A package with only its name and kind, for tests to fill in.
    pub fn named(name: &str, kind: Kind) -> PackageReport {
        PackageReport {
            name: name.into(),
            version: None,
            kind,
            file: None,
            url: None,
            sha256: None,
            sha256_verified: false,
            size: None,
            tag: None,
            requested: false,
            binary_only_version: None,
            reason: None,
            note: None,
            required_by: Vec::new(),
            chain: Vec::new(),
            lines: Vec::new(),
            elf: None,
            choice: None,
            avoid_build_pin: None,
            binary_twins: Vec::new(),
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct UnresolvedLine {
    pub source: String,
    pub line: String,
    pub why: String,
}

impl TargetReport {
    pub fn new(
        target: &Target,
        tags: &[Tag],
        outcome: Outcome,
        binary_only: Option<Outcome>,
        unresolved_lines: Vec<UnresolvedLine>,
    ) -> Self {
        let priority = TagPriority::new(tags);
        let packages: Vec<PackageReport> = outcome
            .packages
            .iter()
            .map(|p| package_report(p, &priority, tags, binary_only.as_ref()))
            .collect();
        let summary = Summary {
            wheels: count(&packages, Kind::Wheel),
            sdists: count(&packages, Kind::Sdist),
            none: count(&packages, Kind::None),
            not_inspected: unresolved_lines.len(),
            elf_failed: 0,
        };
        let (libc, libc_version) = libc_fields(target.image.libc);
        let binary_only_error = binary_only
            .as_ref()
            .filter(|outcome| outcome.could_not_check)
            .and_then(|outcome| outcome.error.clone());
        TargetReport {
            image: target.image.tag.clone(),
            python: format!("{}.{}", target.image.python.0, target.image.python.1),
            python_full_version: target.python_full_version().to_string(),
            libc,
            libc_version,
            arch: target.arch.to_string(),
            platform_tags: target.platform_tags(),
            resolution: Resolution {
                ok: outcome.ok,
                error: outcome.error,
                could_not_check: outcome.could_not_check,
            },
            packages,
            unresolved_lines,
            binary_only_error,
            summary,
            system_libs_needed: BTreeMap::new(),
            glibc_max: None,
            glibcxx_max: None,
            bytes: Bytes::default(),
            verdict: None,
            builder: None,
        }
    }

    pub fn add_inspection(&mut self, inspection: Inspection) {
        let mut versions = BTreeMap::new();
        for package in &mut self.packages {
            package.sha256_verified |= inspection.sha256_verified.contains(&package.name);
            let Some(elf) = inspection.elf.get(&package.name) else {
                continue;
            };
            for soname in &elf.needed_from_system {
                self.system_libs_needed
                    .entry(soname.clone())
                    .or_default()
                    .push(package.name.clone());
            }
            for (namespace, version) in &elf.symbol_versions {
                needs::raise(&mut versions, namespace, version);
            }
            self.summary.elf_failed += usize::from(!elf.is_done());
            package.elf = Some(elf.clone());
        }
        self.glibc_max = versions.get("GLIBC").cloned();
        self.glibcxx_max = versions.get("GLIBCXX").cloned();
        self.bytes = Bytes {
            elf_fetched: inspection.bytes_fetched,
            wheels_total: inspection.wheels_total,
            wheels_installed: inspection.wheels_installed,
        };
    }

    /// Wheels that need a newer glibc than the image has: (package, version needed).
    pub fn glibc_too_new(&self) -> Vec<(&str, &str)> {
        if self.libc != "glibc" {
            return Vec::new();
        }
        self.packages
            .iter()
            .filter_map(|p| {
                let needed = p.elf.as_ref()?.symbol_versions.get("GLIBC")?;
                let newer = crate::inspect::elf::version_cmp(needed, &self.libc_version).is_gt();
                newer.then_some((p.name.as_str(), needed.as_str()))
            })
            .collect()
    }

    pub fn label(&self) -> String {
        format!("{} ({})", self.image, self.docker_arch())
    }

    /// The architecture as Docker names it (`amd64`, `arm64`).
    pub fn docker_arch(&self) -> &str {
        match self.arch.as_str() {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            other => other,
        }
    }

    /// pip installs from wheels alone: resolved, no sdist, nothing missing, nothing built from
    /// a local path or checkout.
    pub fn wheels_only(&self) -> bool {
        self.resolution.ok
            && self.summary.sdists == 0
            && self.summary.none == 0
            && self.unresolved_lines.is_empty()
    }

    pub fn could_not_check(&self) -> bool {
        self.resolution.could_not_check || self.summary.elf_failed > 0
    }
}

fn count(packages: &[PackageReport], kind: Kind) -> usize {
    packages.iter().filter(|p| p.kind == kind).count()
}

fn libc_fields(libc: Libc) -> (&'static str, String) {
    match libc {
        Libc::Glibc { major, minor } => ("glibc", format!("{major}.{minor}")),
        Libc::Musl { major, minor } => ("musl", format!("{major}.{minor}")),
    }
}

fn package_report(
    package: &ResolvedPackage,
    priority: &TagPriority,
    tags: &[Tag],
    binary_only: Option<&Outcome>,
) -> PackageReport {
    let file: Option<&Arc<IndexFile>> = package.file.as_ref();
    // When the binary-only resolution fails as a whole (one package has no wheel at all), its
    // greedy per-package walk still tells which release of each other package has a wheel.
    let binary_only_version = binary_only
        .filter(|outcome| !outcome.could_not_check)
        .and_then(|outcome| outcome.packages.iter().find(|p| p.name == package.name))
        .filter(|p| p.kind == Kind::Wheel)
        .and_then(|p| p.version.as_ref())
        .map(ToString::to_string);
    let tag = file.and_then(|f| best_tag(&f.filename, priority, tags));
    PackageReport {
        choice: choice::report(package, tag.as_deref()),
        avoid_build_pin: package
            .avoid_build
            .as_ref()
            .map(|avoid| instead::pin(package.name.as_ref(), avoid)),
        binary_twins: Vec::new(),
        name: package.name.to_string(),
        version: package.version.as_ref().map(ToString::to_string),
        kind: package.kind,
        file: file.map(|f| f.filename.clone()),
        url: file.map(|f| crate::index::http::redact(&f.url)),
        sha256: file.and_then(|f| f.sha256.clone()),
        sha256_verified: false,
        size: file.and_then(|f| f.size),
        tag,
        requested: package.requested,
        binary_only_version,
        reason: package.reason.clone(),
        note: package.note.clone(),
        required_by: package.required_by.clone(),
        chain: Vec::new(),
        lines: Vec::new(),
        elf: None,
    }
}

fn best_tag(filename: &str, priority: &TagPriority, tags: &[Tag]) -> Option<String> {
    let wheel = WheelFilename::parse(filename).ok()?;
    priority.rank(&wheel).map(|rank| tags[rank].to_string())
}
