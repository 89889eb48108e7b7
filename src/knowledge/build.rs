//! What building an sdist from source needs on each distribution: the compiler toolchain, the
//! system packages a build backend invokes (Rust for maturin, cmake, ...), the headers of
//! well-known native sdists, and the shared libraries the built extension then needs at run time.
//!
//! The data lives in `data/build-needs.toml`, generated and checked by
//! `scripts/knowledge/build_build_needs.py` (every package name is verified against the Debian
//! and Alpine package indexes; see `data/knowledge/README.md`), and is embedded in the binary.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

const BUILD_NEEDS_TOML: &str = include_str!("../../data/build-needs.toml");

/// The distribution of an image, with its release (`bookworm`, `trixie`; `3.23`, `3.24`, ...).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Distro {
    Debian { release: String },
    Alpine { release: String },
}

impl Distro {
    /// `debian` or `alpine`.
    pub fn family(&self) -> &'static str {
        match self {
            Distro::Debian { .. } => "debian",
            Distro::Alpine { .. } => "alpine",
        }
    }

    pub fn release(&self) -> &str {
        match self {
            Distro::Debian { release } | Distro::Alpine { release } => release,
        }
    }
}

/// System packages for one build: installed to compile (`build`) and needed in the final image
/// (`runtime`), with caveats.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildNeeds {
    pub build: BTreeSet<String>,
    pub runtime: BTreeSet<String>,
    pub notes: Vec<String>,
}

impl BuildNeeds {
    fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        if !note.is_empty() && !self.notes.contains(&note) {
            self.notes.push(note);
        }
    }
}

/// The embedded build-needs data could not be used.
#[derive(Debug, thiserror::Error)]
pub enum KnowledgeError {
    #[error("the embedded build-needs data is not valid: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("the embedded build-needs data is inconsistent: {0}")]
    Invalid(String),
}

#[derive(Deserialize)]
struct RawFile {
    meta: RawMeta,
    toolchain: RawToolchains,
    #[serde(default)]
    backend: BTreeMap<String, RawEntry>,
    #[serde(default)]
    package: BTreeMap<String, RawEntry>,
    #[serde(default)]
    preinstalled: BTreeMap<String, RawPreinstalled>,
    #[serde(default)]
    unverified: BTreeMap<String, BTreeMap<String, String>>,
}

#[derive(Deserialize)]
struct RawMeta {
    /// Oldest first; the newest one answers for releases without data.
    debian_releases: Vec<String>,
}

#[derive(Deserialize)]
struct RawToolchains {
    debian: Toolchain,
    alpine: Toolchain,
}

/// The compiler toolchain of one distribution.
#[derive(Clone, Debug, Default, Deserialize)]
struct Toolchain {
    /// What compiling a C/C++ extension needs (build-essential, build-base).
    build: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct RawEntry {
    /// Backends: normalised requirement names that trigger the entry.
    #[serde(default)]
    requires: Vec<String>,
    /// Packages: other project names with the same needs.
    #[serde(default)]
    aliases: Vec<String>,
    /// Packages: backends whose needs apply whatever the pyproject.toml says.
    #[serde(default)]
    backends: Vec<String>,
    #[serde(default)]
    debian_build: Vec<String>,
    #[serde(default)]
    debian_runtime: Vec<String>,
    #[serde(default)]
    alpine_build: Vec<String>,
    #[serde(default)]
    alpine_runtime: Vec<String>,
    #[serde(default)]
    notes: Vec<String>,
    #[serde(default)]
    debian_notes: Vec<String>,
    #[serde(default)]
    alpine_notes: Vec<String>,
    #[serde(default)]
    optional: RawOptional,
    /// Per Debian release: lists that replace the generic ones, notes that are added.
    #[serde(default)]
    release: BTreeMap<String, RawRelease>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct RawOptional {
    #[serde(default)]
    debian_build: Vec<String>,
    #[serde(default)]
    alpine_build: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize)]
struct RawRelease {
    debian_build: Option<Vec<String>>,
    debian_runtime: Option<Vec<String>>,
    #[serde(default)]
    notes: Vec<String>,
}

#[derive(Deserialize)]
struct RawPreinstalled {
    packages: BTreeSet<String>,
}

/// Everything `data/build-needs.toml` says, indexed for lookups.
#[derive(Debug)]
pub struct BuildKnowledge {
    debian_releases: Vec<String>,
    debian: Toolchain,
    alpine: Toolchain,
    backends: BTreeMap<String, RawEntry>,
    /// Normalised requirement name -> backend keys.
    backend_triggers: BTreeMap<String, Vec<String>>,
    packages: BTreeMap<String, RawEntry>,
    /// Normalised alias -> package key.
    aliases: BTreeMap<String, String>,
    /// `<variant>-<release>` -> packages the image already has.
    preinstalled: BTreeMap<String, BTreeSet<String>>,
    /// distro family -> package name -> why it is not verified.
    unverified: BTreeMap<String, BTreeMap<String, String>>,
    empty: BTreeSet<String>,
}

impl BuildKnowledge {
    /// Load the embedded `data/build-needs.toml`.
    pub fn load() -> Result<Self, KnowledgeError> {
        Self::from_toml(BUILD_NEEDS_TOML)
    }

    /// Parse build-needs data in the format of `data/build-needs.toml`.
    pub fn from_toml(text: &str) -> Result<Self, KnowledgeError> {
        let raw: RawFile = toml::from_str(text)?;
        let mut backend_triggers: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for (key, entry) in &raw.backend {
            for req in &entry.requires {
                backend_triggers
                    .entry(normalize(req))
                    .or_default()
                    .push(key.clone());
            }
        }
        for (key, entry) in &raw.package {
            for backend in &entry.backends {
                if !raw.backend.contains_key(backend) {
                    return Err(KnowledgeError::Invalid(format!(
                        "package {key} names the unknown backend {backend}"
                    )));
                }
            }
        }
        let mut packages = BTreeMap::new();
        let mut aliases = BTreeMap::new();
        for (key, entry) in raw.package {
            for alias in &entry.aliases {
                aliases.insert(normalize(alias), normalize(&key));
            }
            packages.insert(normalize(&key), entry);
        }
        Ok(BuildKnowledge {
            debian_releases: raw.meta.debian_releases,
            debian: raw.toolchain.debian,
            alpine: raw.toolchain.alpine,
            backends: raw.backend,
            backend_triggers,
            packages,
            aliases,
            preinstalled: raw
                .preinstalled
                .into_iter()
                .map(|(key, value)| (key, value.packages))
                .collect(),
            unverified: raw.unverified,
            empty: BTreeSet::new(),
        })
    }

    /// The compiler toolchain packages for this distro (what any C extension build needs).
    pub fn toolchain(&self, distro: &Distro) -> BuildNeeds {
        let toolchain = match distro {
            Distro::Debian { .. } => &self.debian,
            Distro::Alpine { .. } => &self.alpine,
        };
        let mut needs = BuildNeeds {
            build: toolchain.build.iter().cloned().collect(),
            ..BuildNeeds::default()
        };
        for note in &toolchain.notes {
            needs.note(note.as_str());
        }
        needs
    }

    /// What the given image variant ("slim" | "full" | "alpine", release) already has of the
    /// toolchain, the -dev packages and the packages this data names; empty when unknown.
    pub fn preinstalled(&self, variant: &str, release: &str) -> &BTreeSet<String> {
        let key = format!(
            "{}-{}",
            variant.trim().to_ascii_lowercase(),
            release.trim().to_ascii_lowercase()
        );
        self.preinstalled.get(&key).unwrap_or(&self.empty)
    }

    /// Needs of one sdist: its project name (PEP 503 normalised) and the `[build-system] requires`
    /// strings of its pyproject.toml (may be empty). Toolchain + backends + package-specific
    /// packages, deduplicated; the toolchain's general notes are left to [`Self::toolchain`].
    pub fn needs_for(
        &self,
        project: &str,
        build_requires: &[String],
        distro: &Distro,
    ) -> BuildNeeds {
        let mut needs = BuildNeeds::default();
        let toolchain = match distro {
            Distro::Debian { .. } => &self.debian,
            Distro::Alpine { .. } => &self.alpine,
        };
        needs.build.extend(toolchain.build.iter().cloned());
        let release = self.debian_release(distro, &mut needs);
        let entry = self.entry(project);

        let mut backends: Vec<&str> = Vec::new();
        let triggered = build_requires
            .iter()
            .filter_map(|r| requirement_name(r))
            .filter_map(|name| self.backend_triggers.get(&name))
            .flatten();
        let named = entry.into_iter().flat_map(|e| e.backends.iter());
        for key in triggered.chain(named) {
            if !backends.contains(&key.as_str()) {
                backends.push(key);
            }
        }
        for key in backends {
            if let Some(backend) = self.backends.get(key) {
                self.apply(backend, distro, release.as_deref(), &mut needs);
            }
        }
        if let Some(entry) = entry {
            self.apply(entry, distro, release.as_deref(), &mut needs);
        }
        if let Some(unverified) = self.unverified.get(distro.family()) {
            let notes: Vec<String> = (needs.build.iter().chain(&needs.runtime))
                .filter(|name| unverified.contains_key(*name))
                .map(|name| {
                    let family = distro.family();
                    format!(
                        "the {family} package name {name} is not verified against a package index"
                    )
                })
                .collect();
            for note in notes {
                needs.note(note);
            }
        }
        needs
    }

    /// Whether the data has an entry (or alias) for this project.
    pub fn is_known(&self, project: &str) -> bool {
        self.entry(project).is_some()
    }

    fn entry(&self, project: &str) -> Option<&RawEntry> {
        let name = normalize(project);
        self.packages.get(&name).or_else(|| {
            self.aliases
                .get(&name)
                .and_then(|key| self.packages.get(key))
        })
    }

    /// The Debian release whose lists apply (`None` for Alpine): the image's own when the data
    /// covers it, the newest covered one otherwise (with a note).
    fn debian_release(&self, distro: &Distro, needs: &mut BuildNeeds) -> Option<String> {
        let Distro::Debian { release } = distro else {
            return None;
        };
        let release = release.trim().to_ascii_lowercase();
        if self.debian_releases.contains(&release) {
            return Some(release);
        }
        let newest = self.debian_releases.last()?;
        needs.note(format!(
            "no build data for Debian {release}: package names are those of Debian {newest}"
        ));
        Some(newest.clone())
    }

    fn apply(
        &self,
        entry: &RawEntry,
        distro: &Distro,
        release: Option<&str>,
        needs: &mut BuildNeeds,
    ) {
        let overrides = release.and_then(|r| entry.release.get(r));
        let (build, runtime, extra, optional) = match distro {
            Distro::Debian { .. } => (
                overrides
                    .and_then(|o| o.debian_build.as_ref())
                    .unwrap_or(&entry.debian_build),
                overrides
                    .and_then(|o| o.debian_runtime.as_ref())
                    .unwrap_or(&entry.debian_runtime),
                &entry.debian_notes,
                &entry.optional.debian_build,
            ),
            Distro::Alpine { .. } => (
                &entry.alpine_build,
                &entry.alpine_runtime,
                &entry.alpine_notes,
                &entry.optional.alpine_build,
            ),
        };
        needs.build.extend(build.iter().cloned());
        needs.runtime.extend(runtime.iter().cloned());
        for note in entry.notes.iter().chain(extra) {
            needs.note(note.as_str());
        }
        if let Some(overrides) = overrides {
            for note in &overrides.notes {
                needs.note(note.as_str());
            }
        }
        if !optional.is_empty() {
            needs.note(format!(
                "optional, for more features: {}",
                optional.join(" ")
            ));
        }
    }
}

/// PEP 503 normalisation: lower case, runs of `-`, `_` and `.` become one `-`.
fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut separator = false;
    for c in name.trim().chars() {
        if matches!(c, '-' | '_' | '.') {
            separator = true;
            continue;
        }
        if separator && !out.is_empty() {
            out.push('-');
        }
        separator = false;
        out.extend(c.to_lowercase());
    }
    out
}

/// The project name of a PEP 508 requirement string (`maturin>=1,<2`, `cffi; python_version<'4'`,
/// `scikit-build-core[pyproject]`), normalised; `None` if it does not start with a name.
fn requirement_name(requirement: &str) -> Option<String> {
    let text = requirement.trim_start();
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .unwrap_or(text.len());
    let name = &text[..end];
    if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return None;
    }
    Some(normalize(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> BuildKnowledge {
        BuildKnowledge::load().expect("embedded build-needs.toml loads")
    }

    fn debian(release: &str) -> Distro {
        Distro::Debian {
            release: release.into(),
        }
    }

    fn alpine(release: &str) -> Distro {
        Distro::Alpine {
            release: release.into(),
        }
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn reqs(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn embedded_toml_parses() {
        let data = data();
        assert!(data.is_known("psycopg2"));
        assert!(
            data.packages.len() >= 30,
            "{} packages",
            data.packages.len()
        );
        assert_eq!(data.debian_releases, ["bookworm", "trixie"]);
        for (key, entry) in &data.backends {
            assert!(!entry.requires.is_empty(), "backend {key} has no trigger");
        }
    }

    #[test]
    fn psycopg2_on_each_distro() {
        let data = data();
        for release in ["bookworm", "trixie"] {
            let needs = data.needs_for("psycopg2", &[], &debian(release));
            assert_eq!(
                needs.build,
                set(&["build-essential", "libpq-dev"]),
                "{release}"
            );
            assert_eq!(needs.runtime, set(&["libpq5"]), "{release}");
        }
        let needs = data.needs_for("psycopg2", &reqs(&["setuptools", "wheel"]), &alpine("3.24"));
        assert_eq!(needs.build, set(&["build-base", "libpq-dev"]));
        assert_eq!(needs.runtime, set(&["libpq"]));
        // the binary distribution builds the same way when pip has to build it
        let binary = data.needs_for("Psycopg2_Binary", &[], &debian("trixie"));
        assert_eq!(binary.runtime, set(&["libpq5"]));
    }

    #[test]
    fn release_specific_names() {
        let data = data();
        let bookworm = data.needs_for("cryptography", &[], &debian("bookworm"));
        let trixie = data.needs_for("cryptography", &[], &debian("trixie"));
        assert!(bookworm.runtime.contains("libssl3"));
        assert!(trixie.runtime.contains("libssl3t64"));
        assert!(!trixie.runtime.contains("libssl3"));
        // cryptography needs Rust even when its pyproject.toml was not read
        assert!(trixie.build.contains("rustc") && trixie.build.contains("cargo"));
        assert!(
            bookworm.notes.iter().any(|n| n.contains("rustc 1.63")),
            "{:?}",
            bookworm.notes
        );
        let shapely = data.needs_for("shapely", &[], &debian("trixie"));
        assert!(shapely.runtime.contains("libgeos-c1t64"));
    }

    #[test]
    fn maturin_requirement_adds_rust() {
        let data = data();
        let requires = reqs(&["maturin>=1.5,<2.0"]);
        let needs = data.needs_for("some-rust-project", &requires, &debian("trixie"));
        assert!(
            needs.build.contains("rustc") && needs.build.contains("cargo"),
            "{:?}",
            needs.build
        );
        assert!(needs.build.contains("build-essential"));
        assert!(
            needs.notes.iter().any(|n| n.contains("rustc 1.85")),
            "{:?}",
            needs.notes
        );
        let needs = data.needs_for("some-rust-project", &requires, &alpine("3.23"));
        assert!(
            needs.build.contains("rust") && needs.build.contains("cargo"),
            "{:?}",
            needs.build
        );
        let needs = data.needs_for("x", &reqs(&["setuptools_rust >= 1.5"]), &alpine("3.24"));
        assert!(needs.build.contains("rust"));
    }

    #[test]
    fn unknown_pure_c_project_gets_the_toolchain() {
        let data = data();
        assert!(!data.is_known("my-c-ext"));
        for distro in [debian("bookworm"), debian("trixie"), alpine("3.24")] {
            let needs = data.needs_for("my-c-ext", &reqs(&["setuptools>=61", "wheel"]), &distro);
            assert_eq!(needs.build, data.toolchain(&distro).build, "{distro:?}");
            assert!(needs.runtime.is_empty());
            assert!(needs.notes.is_empty(), "{:?}", needs.notes);
        }
    }

    #[test]
    fn cxx_backend_needs_libstdcxx_on_alpine() {
        let data = data();
        let requires = reqs(&["scikit-build-core[pyproject]>=0.9", "pybind11>=2.12"]);
        let needs = data.needs_for("fastthing", &requires, &alpine("3.24"));
        assert!(needs.runtime.contains("libstdc++") && needs.runtime.contains("libgcc"));
        assert!(needs.build.contains("cmake") && needs.build.contains("samurai"));
        let needs = data.needs_for("fastthing", &requires, &debian("bookworm"));
        assert!(needs.build.contains("ninja-build"));
    }

    #[test]
    fn full_image_has_compilers_and_headers() {
        // shared reference images/python-3.12-trixie.tsv and python-3.12-bookworm.tsv list gcc,
        // libc6-dev, make and libpq-dev (buildpack-deps); slim and alpine lists have no compiler.
        let data = data();
        for release in ["bookworm", "trixie"] {
            let full = data.preinstalled("full", release);
            for package in [
                "gcc",
                "g++",
                "make",
                "libc6-dev",
                "libpq-dev",
                "libssl-dev",
                "build-essential",
            ] {
                assert!(full.contains(package), "full-{release} lacks {package}");
            }
            let slim = data.preinstalled("slim", release);
            assert!(
                !slim.contains("gcc")
                    && !slim.contains("libpq-dev")
                    && !slim.contains("build-essential")
            );
            assert!(!slim.is_empty());
        }
        let alpine = data.preinstalled("alpine", "3.24");
        assert!(!alpine.contains("gcc") && !alpine.contains("build-base"));
        assert!(alpine.contains("zlib"));
        assert!(data.preinstalled("full", "buster").is_empty());
    }

    #[test]
    fn unknown_debian_release_uses_newest() {
        let data = data();
        let needs = data.needs_for("cryptography", &[], &debian("forky"));
        assert!(needs.runtime.contains("libssl3t64"));
        assert!(
            needs.notes.iter().any(|n| n.contains("Debian forky")),
            "{:?}",
            needs.notes
        );
    }

    #[test]
    fn optional_and_unverified_are_noted() {
        let data = data();
        let needs = data.needs_for("PyYAML", &[], &debian("trixie"));
        assert_eq!(needs.build, set(&["build-essential"]));
        assert!(
            needs.notes.iter().any(|n| n.contains("libyaml-dev")),
            "{:?}",
            needs.notes
        );
        let needs = data.needs_for("xmlsec", &[], &alpine("3.24"));
        assert!(needs.build.contains("xmlsec-dev"));
        assert!(
            needs
                .notes
                .iter()
                .any(|n| n.contains("xmlsec-dev is not verified")),
            "{:?}",
            needs.notes
        );
    }

    #[test]
    fn requirement_names() {
        assert_eq!(
            requirement_name("maturin>=1,<2").as_deref(),
            Some("maturin")
        );
        assert_eq!(
            requirement_name("  Setuptools_Rust >= 1.5").as_deref(),
            Some("setuptools-rust")
        );
        assert_eq!(
            requirement_name("cffi; python_version < '4'").as_deref(),
            Some("cffi")
        );
        assert_eq!(
            requirement_name("scikit-build-core[pyproject]").as_deref(),
            Some("scikit-build-core")
        );
        assert_eq!(
            requirement_name("meson-python @ https://example.invalid/x.tar.gz").as_deref(),
            Some("meson-python")
        );
        assert_eq!(requirement_name(""), None);
        assert_eq!(requirement_name(">=1.0"), None);
        assert_eq!(normalize("Foo.Bar__baz"), "foo-bar-baz");
    }

    #[test]
    fn bad_data_is_an_error_not_a_panic() {
        assert!(BuildKnowledge::from_toml("not toml [").is_err());
        assert!(BuildKnowledge::from_toml("[meta]\ndebian_releases = []\n").is_err());
        let minimal = "[meta]\ndebian_releases = []\n[toolchain.debian]\nbuild = [\"b\"]\n\
                       [toolchain.alpine]\nbuild = [\"a\"]\n[package.x]\nbackends = [\"nope\"]\n";
        assert!(matches!(
            BuildKnowledge::from_toml(minimal),
            Err(KnowledgeError::Invalid(_))
        ));
        let ok = minimal.replace("backends = [\"nope\"]", "");
        let data = BuildKnowledge::from_toml(&ok).expect("minimal data");
        let needs = data.needs_for("x", &reqs(&["", "???", "maturin"]), &debian("sid"));
        assert_eq!(needs.build, set(&["b"]));
    }
}
