//! `Pipfile.lock` (pipenv): JSON with a `default` section (and `develop`, chosen with
//! `--group develop`), each package with its pinned `version`, `hashes` and `markers`; the
//! `_meta.sources` are the indexes, in order.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::PackageName;
use serde::Deserialize;

use super::locked::{self, LockedPackage, Origin};
use super::text::{self, source_at};
use super::{Loaded, Selection, choose};

#[derive(Debug, Deserialize)]
struct PipfileLock {
    #[serde(rename = "_meta", default)]
    meta: Meta,
    #[serde(default)]
    default: BTreeMap<String, Entry>,
    #[serde(default)]
    develop: BTreeMap<String, Entry>,
}

#[derive(Debug, Deserialize, Default)]
struct Meta {
    #[serde(default)]
    sources: Vec<IndexSource>,
}

#[derive(Debug, Deserialize)]
struct IndexSource {
    url: String,
}

#[derive(Debug, Deserialize)]
struct Entry {
    version: Option<String>,
    #[serde(default)]
    hashes: Vec<String>,
    markers: Option<String>,
    git: Option<String>,
    #[serde(rename = "ref")]
    reference: Option<String>,
    path: Option<String>,
    file: Option<String>,
    #[serde(default)]
    editable: bool,
}

/// The one group a Pipfile.lock has besides `default`.
const DEVELOP: &str = "develop";

pub fn load(path: &Path, content: &str, selection: &Selection) -> Result<Loaded, String> {
    let lock: PipfileLock = serde_json::from_str(content).map_err(|e| {
        format!(
            "{}:{}: not valid Pipfile.lock (JSON): {e}",
            path.display(),
            e.line()
        )
    })?;
    choose(path, "--extra", &selection.extras, &[], false)?;
    let groups = choose(path, "--group", &selection.groups, &[DEVELOP.into()], false)?;
    let mut sections = vec![("default", &lock.default)];
    if groups.iter().any(|g| g == DEVELOP) {
        sections.push((DEVELOP, &lock.develop));
    }
    let mut packages = Vec::new();
    for (section, entries) in sections {
        let section_start = content.find(&format!("\"{section}\"")).unwrap_or(0);
        for (name, entry) in entries {
            let offset = key_offset(content, section_start, name);
            let at = source_at(path, content, offset);
            let wrap = |e: String| format!("{at}: {name}: {e}");
            packages.push(LockedPackage {
                name: PackageName::from_str(name).map_err(|e| wrap(e.to_string()))?,
                version: pinned_version(entry).map_err(wrap)?,
                marker: text::marker(entry.markers.as_deref().unwrap_or("")).map_err(wrap)?,
                origin: origin_of(entry),
                at,
            });
        }
    }
    let mut loaded = locked::into_loaded(path, packages, Vec::new());
    let mut urls = lock.meta.sources.into_iter().map(|s| s.url);
    loaded.parsed.options.index_url = urls.next();
    loaded.parsed.options.extra_index_urls = urls.collect();
    Ok(loaded)
}

/// Where `"name": {` is written in a section: JSON parsers give no positions, and pipenv
/// writes one key per line.
fn key_offset(content: &str, section_start: usize, name: &str) -> usize {
    let key = format!("\"{name}\":");
    content[section_start..]
        .find(&key)
        .map_or(section_start, |at| section_start + at)
}

/// `"version": "==2.32.3"` → 2.32.3.
fn pinned_version(entry: &Entry) -> Result<Option<Version>, String> {
    let Some(text) = entry.version.as_deref() else {
        return Ok(None);
    };
    let bare = text
        .trim()
        .trim_start_matches("===")
        .trim_start_matches("==");
    Version::from_str(bare)
        .map(Some)
        .map_err(|e| format!("version `{text}` is not a pin: {e}"))
}

fn origin_of(entry: &Entry) -> Origin {
    if let Some(git) = &entry.git {
        let url = git.strip_prefix("git+").unwrap_or(git);
        return Origin::Vcs(match &entry.reference {
            Some(reference) => format!("git+{url}@{reference}"),
            None => format!("git+{url}"),
        });
    }
    if let Some(path) = &entry.path {
        return match entry.editable {
            true => Origin::Editable(path.clone()),
            false => Origin::Directory(path.clone()),
        };
    }
    if let Some(file) = &entry.file {
        return Origin::Archive {
            location: file.clone(),
            hash: entry.hashes.first().and_then(|h| locked::hash_of(h)),
        };
    }
    Origin::Registry {
        files: Vec::new(),
        hashes: entry
            .hashes
            .iter()
            .filter_map(|h| locked::hash_of(h))
            .collect(),
        requires_python: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::EntryKind;

    /// As pipenv 2024 writes it (hashes shortened).
    const PIPFILE_LOCK: &str = r#"{
    "_meta": {
        "hash": {
            "sha256": "0123"
        },
        "pipfile-spec": 6,
        "requires": {
            "python_version": "3.12"
        },
        "sources": [
            {
                "name": "pypi",
                "url": "https://index.example/simple",
                "verify_ssl": true
            }
        ]
    },
    "default": {
        "certifi": {
            "hashes": [
                "sha256:AA01",
                "sha256:aa02"
            ],
            "index": "pypi",
            "markers": "python_version >= '3.6'",
            "version": "==2024.8.30"
        },
        "pywin32": {
            "hashes": [
                "sha256:bb01"
            ],
            "markers": "sys_platform == 'win32'",
            "version": "==308"
        },
        "mylib": {
            "editable": true,
            "path": "./libs/mylib"
        }
    },
    "develop": {
        "pytest": {
            "hashes": [
                "sha256:cc01"
            ],
            "index": "pypi",
            "version": "==8.3.3"
        }
    }
}
"#;

    fn run(groups: &[&str]) -> Result<Loaded, String> {
        let selection = Selection::of(&[], groups);
        load(Path::new("/app/Pipfile.lock"), PIPFILE_LOCK, &selection)
    }

    #[test]
    fn default_packages_with_versions_hashes_markers_and_lines() {
        let loaded = run(&[]).unwrap();
        assert_eq!(
            loaded.lines(),
            [
                "certifi 2024.8.30 (locked) ; python_full_version >= '3.6':19",
                "mylib (locked):35",
                "pywin32 308 (locked) ; sys_platform == 'win32':28",
            ]
        );
        let certifi = &loaded.parsed.requirements[0];
        assert_eq!(
            certifi
                .hashes
                .iter()
                .map(|h| h.digest.as_str())
                .collect::<Vec<_>>(),
            ["aa01", "aa02"]
        );
        assert!(
            matches!(&loaded.parsed.requirements[1].kind, EntryKind::Editable { target, .. } if target == "/app/libs/mylib")
        );
        assert!(loaded.parsed.options.require_hashes);
        assert_eq!(
            loaded.parsed.options.index_url.as_deref(),
            Some("https://index.example/simple")
        );
    }

    #[test]
    fn develop_is_a_group() {
        let loaded = run(&["develop"]).unwrap();
        assert_eq!(loaded.parsed.requirements.len(), 4);
        assert_eq!(loaded.parsed.requirements[3].source.line, 41);
        let err = run(&["dev"]).unwrap_err();
        assert_eq!(
            err,
            "--group dev: /app/Pipfile.lock has no such group; available: develop"
        );
    }

    #[test]
    fn broken_json_names_the_line() {
        let err = load(
            Path::new("Pipfile.lock"),
            "{\n  \"default\": {\n    \"a\": ,\n}",
            &Selection::default(),
        )
        .unwrap_err();
        assert!(
            err.starts_with("Pipfile.lock:3: not valid Pipfile.lock (JSON)"),
            "{err}"
        );
    }
}
