//! A locked package, whatever lock it comes from, turned into an entry of the shared model.
//!
//! A registry package becomes `name===version ; marker` (`===`, so that `1.0` never matches
//! `1.0+cpu`), with the lock's hashes; the files the lock names with URLs are handed to the
//! resolver in [`Locked`] so that the index is not asked for them. Packages from a directory,
//! a VCS or an archive become the same entries a requirements file would give for them.

use std::collections::HashMap;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{MarkerTree, PackageName, Requirement};
use url::Url;

use super::Loaded;
use crate::index::IndexFile;
use crate::requirements::{
    EntryKind, Hash, LineError, ParsedRequirements, RequirementEntry, STRONG_HASHES, Source,
};

/// A package of a lock that is installed on some target.
#[derive(Debug, Clone)]
pub struct LockedPackage {
    pub name: PackageName,
    pub version: Option<Version>,
    /// Where it is installed; `true` = everywhere.
    pub marker: MarkerTree,
    /// Where the lock declares it.
    pub at: Source,
    pub origin: Origin,
}

/// Where a locked package's files come from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// An index: the files the lock allows (possibly without URLs) and their hashes.
    Registry {
        files: Vec<LockedFile>,
        /// Hashes not tied to a file name (Pipfile.lock lists only these).
        hashes: Vec<Hash>,
        requires_python: Option<VersionSpecifiers>,
    },
    /// A local project installed in editable mode (absolute or relative to the lock).
    Editable(String),
    /// A local project directory, built at install time.
    Directory(String),
    /// A version-control checkout (`git+https://…@commit`).
    Vcs(String),
    /// One archive at a URL or local path (a wheel is inspected like an index file).
    Archive {
        location: String,
        hash: Option<Hash>,
    },
}

/// One file a lock names for a package.
#[derive(Debug, Clone, Default)]
pub struct LockedFile {
    pub filename: String,
    pub url: Option<Url>,
    pub hashes: Vec<Hash>,
    pub size: Option<u64>,
}

/// What the resolver needs beyond the entries: the files of each project, as the lock names
/// them. A project is absent when one of its files has no URL (the index is asked instead).
#[derive(Debug, Clone, Default)]
pub struct Locked {
    pub files: HashMap<PackageName, Vec<IndexFile>>,
}

impl Locked {
    /// Hand the lock to the resolver: nothing beyond the locked set, these files.
    pub fn apply(self, input: &mut crate::resolve::Input) {
        input.no_deps = true;
        input.locked_files.extend(self.files);
    }
}

/// `algorithm:digest` (Pipfile.lock, poetry.lock, uv.lock) as a [`Hash`]; `None` for an
/// algorithm pip does not accept.
pub fn hash_of(text: &str) -> Option<Hash> {
    let (algorithm, digest) = text.split_once(':')?;
    hash_from(algorithm, digest)
}

/// A hash given as algorithm and digest (pylock.toml's `hashes` table).
pub fn hash_from(algorithm: &str, digest: &str) -> Option<Hash> {
    let algorithm = algorithm.to_ascii_lowercase();
    STRONG_HASHES.contains(&algorithm.as_str()).then(|| Hash {
        algorithm,
        digest: digest.to_ascii_lowercase(),
    })
}

/// The last path segment of a URL: the file's name.
pub fn filename_of(url: &Url) -> String {
    url.path_segments()
        .and_then(|mut s| s.next_back())
        .unwrap_or("")
        .to_string()
}

/// The loaded input for a lock's installed packages. `warnings` are the lock reader's own.
pub fn into_loaded(lock: &Path, packages: Vec<LockedPackage>, warnings: Vec<LineError>) -> Loaded {
    let mut parsed = ParsedRequirements {
        warnings,
        ..ParsedRequirements::default()
    };
    let mut locked = Locked::default();
    let mut without_hashes = Vec::new();
    for package in packages {
        let (entry, files) = entry_of(lock, &package);
        if matches!(package.origin, Origin::Registry { .. }) && entry.hashes.is_empty() {
            without_hashes.push(entry.clone());
        }
        if let Some(files) = files {
            locked.files.insert(package.name.clone(), files);
        }
        parsed.requirements.push(entry);
    }
    // Hash checking is all or nothing, as in pip: a lock with a package without hashes is
    // checked by version and files only, and says so.
    parsed.options.require_hashes = without_hashes.is_empty()
        && parsed
            .requirements
            .iter()
            .any(|e| matches!(e.kind, EntryKind::Named(_)));
    for entry in without_hashes {
        parsed.warnings.push(LineError {
            source: entry.source.clone(),
            text: entry.text.clone(),
            message: "the lock gives no hashes for this package, so no file of the lock is checked against its hashes".into(),
        });
    }
    Loaded {
        parsed,
        locked: Some(locked),
    }
}

fn entry_of(lock: &Path, package: &LockedPackage) -> (RequirementEntry, Option<Vec<IndexFile>>) {
    let markers = (!package.marker.is_true()).then(|| package.marker.clone());
    let name = Some(package.name.clone());
    let (kind, hashes, files) = match &package.origin {
        Origin::Registry {
            files,
            hashes,
            requires_python,
        } => {
            let requirement = pinned(package);
            let mut all = hashes.clone();
            all.extend(files.iter().flat_map(|f| f.hashes.iter().cloned()));
            all.dedup();
            let files = index_files(files, requires_python.as_ref());
            (EntryKind::Named(requirement), all, files)
        }
        Origin::Editable(path) => (
            EntryKind::Editable {
                target: local(lock, path),
                name,
                extras: Vec::new(),
                markers,
            },
            Vec::new(),
            None,
        ),
        Origin::Directory(path) => (
            EntryKind::LocalPath {
                path: local(lock, path),
                name,
                markers,
                extras: Vec::new(),
            },
            Vec::new(),
            None,
        ),
        Origin::Vcs(url) => (
            EntryKind::Vcs {
                url: url.clone(),
                name,
                markers,
            },
            Vec::new(),
            None,
        ),
        Origin::Archive { location, hash } => (
            EntryKind::Url {
                url: archive_url(lock, location, hash.as_ref()),
                name,
                markers,
                extras: Vec::new(),
            },
            hash.iter().cloned().collect(),
            None,
        ),
    };
    let entry = RequirementEntry {
        source: package.at.clone(),
        text: describe(package),
        kind,
        hashes,
    };
    (entry, files)
}

/// `name===version ; marker`: exactly the locked version, where the lock installs it.
fn pinned(package: &LockedPackage) -> Requirement {
    let version = package
        .version
        .as_ref()
        .map_or(String::new(), |v| format!("==={v}"));
    let mut requirement = Requirement::from_str(&format!("{}{version}", package.name))
        .expect("a normalized name and a parsed version always form a requirement");
    requirement.marker = package.marker.clone();
    requirement
}

/// How the package appears in messages: `name 1.2.3 (locked) ; marker`.
fn describe(package: &LockedPackage) -> String {
    let mut text = package.name.to_string();
    if let Some(version) = &package.version {
        text.push_str(&format!(" {version}"));
    }
    text.push_str(" (locked)");
    if let Some(marker) = package.marker.try_to_string() {
        text.push_str(&format!(" ; {marker}"));
    }
    text
}

/// The lock's files as index files, when every one has a URL.
fn index_files(
    files: &[LockedFile],
    requires_python: Option<&VersionSpecifiers>,
) -> Option<Vec<IndexFile>> {
    if files.is_empty() || files.iter().any(|f| f.url.is_none()) {
        return None;
    }
    let converted = files.iter().map(|file| IndexFile {
        filename: file.filename.clone(),
        url: file.url.clone().expect("checked above").into(),
        sha256: file
            .hashes
            .iter()
            .find(|h| h.algorithm == "sha256")
            .map(|h| h.digest.clone()),
        requires_python: requires_python.cloned().map(std::sync::Arc::new),
        yanked: None,
        size: file.size,
        has_metadata_file: false,
        metadata_sha256: None,
    });
    Some(converted.collect())
}

/// A local path of a lock, made absolute against the lock's directory.
fn local(lock: &Path, path: &str) -> String {
    let base = lock.parent().unwrap_or(Path::new(""));
    let joined = base.join(path);
    let absolute = std::path::absolute(&joined).unwrap_or(joined);
    normalize(&absolute).display().to_string()
}

/// `.` and `..` components resolved without the file system, as pip's `normpath` does.
pub fn normalize(path: &Path) -> std::path::PathBuf {
    use std::path::Component;
    let mut out = std::path::PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// A URL (with the hash as pip's `#sha256=` fragment), or a local archive as a `file:` URL.
fn archive_url(lock: &Path, location: &str, hash: Option<&Hash>) -> String {
    let mut url = match Url::parse(location) {
        Ok(url) => url,
        Err(_) => match Url::from_file_path(local(lock, location)) {
            Ok(url) => url,
            Err(()) => return location.to_string(),
        },
    };
    if let Some(hash) = hash {
        url.set_fragment(Some(&format!("{}={}", hash.algorithm, hash.digest)));
    }
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(name: &str, version: &str, marker: &str, files: Vec<LockedFile>) -> LockedPackage {
        LockedPackage {
            name: PackageName::from_str(name).unwrap(),
            version: Some(Version::from_str(version).unwrap()),
            marker: crate::inputs::text::marker(marker).unwrap(),
            at: Source {
                file: "uv.lock".into(),
                line: 7,
            },
            origin: Origin::Registry {
                files,
                hashes: Vec::new(),
                requires_python: None,
            },
        }
    }

    fn file(name: &str, url: Option<&str>, sha: &str) -> LockedFile {
        LockedFile {
            filename: name.into(),
            url: url.map(|u| Url::parse(u).unwrap()),
            hashes: vec![hash_of(&format!("sha256:{sha}")).unwrap()],
            size: Some(10),
        }
    }

    #[test]
    fn registry_packages_are_exact_pins_with_their_hashes_and_files() {
        let wheel = file(
            "a-1.0-py3-none-any.whl",
            Some("https://h/a-1.0-py3-none-any.whl"),
            "AA",
        );
        let package = registry("a", "1.0", "sys_platform == 'linux'", vec![wheel]);
        let loaded = into_loaded(Path::new("uv.lock"), vec![package], Vec::new());
        let entry = &loaded.parsed.requirements[0];
        let EntryKind::Named(requirement) = &entry.kind else {
            panic!("{entry:?}")
        };
        assert_eq!(requirement.to_string(), "a===1.0 ; sys_platform == 'linux'");
        assert_eq!(entry.source.to_string(), "uv.lock:7");
        assert_eq!(entry.hashes[0].digest, "aa");
        assert!(loaded.parsed.options.require_hashes);
        let files = &loaded.locked.unwrap().files[&requirement.name];
        assert_eq!(files[0].sha256.as_deref(), Some("aa"));
        assert_eq!(files[0].url.as_str(), "https://h/a-1.0-py3-none-any.whl");
    }

    #[test]
    fn files_without_urls_leave_the_choice_to_the_index() {
        let wheel = file("a-1.0-py3-none-any.whl", None, "bb");
        let loaded = into_loaded(
            Path::new("poetry.lock"),
            vec![registry("a", "1.0", "", vec![wheel])],
            Vec::new(),
        );
        assert!(loaded.locked.unwrap().files.is_empty());
        assert!(loaded.parsed.options.require_hashes);
    }

    #[test]
    fn a_package_without_hashes_turns_hash_checking_off_and_warns() {
        let loaded = into_loaded(
            Path::new("Pipfile.lock"),
            vec![
                registry("a", "1.0", "", vec![file("a-1.0.tar.gz", None, "cc")]),
                registry("b", "2.0", "", Vec::new()),
            ],
            Vec::new(),
        );
        assert!(!loaded.parsed.options.require_hashes);
        assert_eq!(loaded.parsed.warnings.len(), 1);
        assert!(loaded.parsed.warnings[0].text.starts_with("b 2.0 (locked)"));
    }

    #[test]
    fn local_and_vcs_packages_become_entries_pip_would_build() {
        let mut editable = registry("proj", "0.1", "", Vec::new());
        editable.origin = Origin::Editable(".".into());
        let mut git = registry("lib", "0.2", "", Vec::new());
        git.origin = Origin::Vcs("git+https://example.invalid/lib@abc".into());
        let loaded = into_loaded(Path::new("/p/uv.lock"), vec![editable, git], Vec::new());
        let kinds: Vec<&EntryKind> = loaded.parsed.requirements.iter().map(|e| &e.kind).collect();
        assert!(matches!(kinds[0], EntryKind::Editable { target, .. } if target == "/p"));
        assert!(matches!(kinds[1], EntryKind::Vcs { .. }));
        assert!(!loaded.parsed.options.require_hashes);
    }
}
