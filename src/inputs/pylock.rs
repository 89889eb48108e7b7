//! `pylock.toml` (PEP 751). Every package says where it is installed (`marker`) and which files
//! it may be installed from (`wheels`, `sdist`, with URLs and hashes), so it is installed as it
//! is: the lock's files, no index page. Markers may test `'name' in extras` and
//! `'name' in dependency_groups`; those are decided from `--extra` and `--group` (or the
//! lock's `default-groups`) before the rest of the marker is evaluated per image.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::PackageName;
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::locked::{self, LockedFile, LockedPackage, Origin};
use super::text::{self, source_at};
use super::{Loaded, Selection, choose};
use crate::requirements::Hash;

#[derive(Debug, Deserialize)]
struct Pylock {
    #[serde(rename = "lock-version")]
    lock_version: Spanned<String>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(rename = "dependency-groups", default)]
    dependency_groups: Vec<String>,
    #[serde(rename = "default-groups", default)]
    default_groups: Vec<String>,
    #[serde(default)]
    packages: Vec<Package>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: Spanned<String>,
    version: Option<String>,
    marker: Option<String>,
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
    vcs: Option<Vcs>,
    directory: Option<Directory>,
    archive: Option<Dist>,
    sdist: Option<Dist>,
    #[serde(default)]
    wheels: Vec<Dist>,
}

#[derive(Debug, Deserialize)]
struct Dist {
    name: Option<String>,
    url: Option<String>,
    path: Option<String>,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    size: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct Vcs {
    #[serde(rename = "type")]
    kind: String,
    url: Option<String>,
    path: Option<String>,
    #[serde(rename = "commit-id")]
    commit_id: String,
}

#[derive(Debug, Deserialize)]
struct Directory {
    path: String,
    #[serde(default)]
    editable: bool,
}

pub fn load(path: &Path, content: &str, selection: &Selection) -> Result<Loaded, String> {
    let lock: Pylock = text::parse_toml(path, content)?;
    let version = lock.lock_version.get_ref();
    if version.split('.').next() != Some("1") {
        return Err(format!(
            "{}: lock-version = \"{version}\": wheelcheck reads version 1 of pylock.toml (PEP 751)",
            source_at(path, content, lock.lock_version.span().start)
        ));
    }
    let all = selection.wants_all_extras();
    let extras = choose(path, "--extra", &selection.extras, &lock.extras, all)?;
    let groups = match selection.groups.is_empty() {
        true => lock
            .default_groups
            .iter()
            .map(|g| crate::requirements::canonicalize_name(g))
            .collect(),
        false => choose(
            path,
            "--group",
            &selection.groups,
            &lock.dependency_groups,
            false,
        )?,
    };
    let mut packages = Vec::new();
    for package in &lock.packages {
        let at = source_at(path, content, package.name.span().start);
        let wrap = |e: String| format!("{at}: {e}");
        let written = package.marker.as_deref().unwrap_or("");
        let marker = text::marker(&decide_lists(written, &extras, &groups)).map_err(wrap)?;
        if marker.is_false() {
            continue;
        }
        packages.push(LockedPackage {
            name: PackageName::from_str(package.name.get_ref()).map_err(|e| wrap(e.to_string()))?,
            version: package
                .version
                .as_deref()
                .map(Version::from_str)
                .transpose()
                .map_err(|e| wrap(e.to_string()))?,
            marker,
            origin: origin_of(path, package).map_err(wrap)?,
            at,
        });
    }
    Ok(locked::into_loaded(path, packages, Vec::new()))
}

fn origin_of(lock: &Path, package: &Package) -> Result<Origin, String> {
    if let Some(vcs) = &package.vcs {
        let location = vcs
            .url
            .as_ref()
            .or(vcs.path.as_ref())
            .ok_or("a [packages.vcs] without url or path")?;
        return Ok(Origin::Vcs(format!(
            "{}+{location}@{}",
            vcs.kind, vcs.commit_id
        )));
    }
    if let Some(directory) = &package.directory {
        return Ok(match directory.editable {
            true => Origin::Editable(directory.path.clone()),
            false => Origin::Directory(directory.path.clone()),
        });
    }
    if let Some(archive) = &package.archive {
        let location = archive
            .url
            .as_ref()
            .or(archive.path.as_ref())
            .ok_or("a [packages.archive] without url or path")?;
        return Ok(Origin::Archive {
            location: location.clone(),
            hash: hashes_of(&archive.hashes).into_iter().next(),
        });
    }
    let requires_python = package
        .requires_python
        .as_deref()
        .map(|text| {
            VersionSpecifiers::from_str(text).map_err(|e| format!("requires-python `{text}`: {e}"))
        })
        .transpose()?;
    let files = package
        .sdist
        .iter()
        .chain(&package.wheels)
        .map(|dist| file_of(lock, dist))
        .collect::<Result<Vec<_>, _>>()?;
    if files.is_empty() {
        return Err("a package with no wheels, sdist, archive, directory or vcs: nothing to install it from".into());
    }
    Ok(Origin::Registry {
        files,
        hashes: Vec::new(),
        requires_python,
    })
}

fn file_of(lock: &Path, dist: &Dist) -> Result<LockedFile, String> {
    let url = match (&dist.url, &dist.path) {
        (Some(url), _) => Some(Url::parse(url).map_err(|e| format!("url `{url}`: {e}"))?),
        (None, Some(path)) => {
            let base = lock.parent().unwrap_or(Path::new(""));
            let absolute =
                std::path::absolute(base.join(path)).map_err(|e| format!("path `{path}`: {e}"))?;
            Url::from_file_path(absolute).ok()
        }
        (None, None) => None,
    };
    let filename = match (&dist.name, &url) {
        (Some(name), _) => name.clone(),
        (None, Some(url)) => locked::filename_of(url),
        (None, None) => return Err("a file with neither name, url nor path".into()),
    };
    Ok(LockedFile {
        filename,
        url,
        hashes: hashes_of(&dist.hashes),
        size: dist.size,
    })
}

fn hashes_of(table: &BTreeMap<String, String>) -> Vec<Hash> {
    table
        .iter()
        .filter_map(|(algorithm, digest)| locked::hash_from(algorithm, digest))
        .collect()
}

/// Replaces `'x' in extras`, `'x' not in dependency_groups` (and the like) by an always-true or
/// always-false comparison, as PEP 751 evaluates them with the chosen extras and groups.
fn decide_lists(marker: &str, extras: &[String], groups: &[String]) -> String {
    // PEP 508 has no literal true or false; these are the ones the marker algebra reduces.
    const TRUE: &str = "(python_full_version >= '0' or python_full_version < '0')";
    const FALSE: &str = "(python_full_version >= '0' and python_full_version < '0')";
    let mut out = String::new();
    let mut rest = marker;
    loop {
        let Some(start) = rest.find(['\'', '"']) else {
            out.push_str(rest);
            return out;
        };
        let quote = rest[start..].chars().next().expect("found above");
        let Some(len) = rest[start + 1..].find(quote) else {
            out.push_str(rest);
            return out;
        };
        let value = &rest[start + 1..start + 1 + len];
        let after = &rest[start + len + 2..];
        match list_test(after) {
            Some((negated, list, consumed)) => {
                let names = if list == "extras" { extras } else { groups };
                let present = names.contains(&crate::requirements::canonicalize_name(value));
                out.push_str(&rest[..start]);
                out.push_str(if present != negated { TRUE } else { FALSE });
                rest = &after[consumed..];
            }
            None => {
                out.push_str(&rest[..start + len + 2]);
                rest = after;
            }
        }
    }
}

/// After a quoted value: ` in extras` / ` not in dependency_groups` → (negated, list, length).
fn list_test(after: &str) -> Option<(bool, &'static str, usize)> {
    let words: Vec<&str> = after.split_whitespace().take(3).collect();
    let (negated, list) = match words.as_slice() {
        ["not", "in", list, ..] => (true, *list),
        ["in", list, ..] => (false, *list),
        _ => return None,
    };
    let list = list.trim_end_matches(')');
    let name = ["extras", "dependency_groups"]
        .into_iter()
        .find(|l| *l == list)?;
    let end = after.find(name)? + name.len();
    Some((negated, name, end))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::EntryKind;

    /// Modelled on PEP 751's example (hashes shortened).
    const PYLOCK: &str = r#"lock-version = '1.0'
environments = ["sys_platform == 'win32'", "sys_platform == 'linux'"]
requires-python = '== 3.12'
extras = ['cli']
dependency-groups = ['dev']
default-groups = []
created-by = 'mousebender'

[[packages]]
name = 'attrs'
version = '25.1.0'
requires-python = '>= 3.8'
wheels = [
  {name = 'attrs-25.1.0-py3-none-any.whl', upload-time = 2025-01-25T11:30:10.164985+00:00, url = 'https://files.example/attrs-25.1.0-py3-none-any.whl', size = 63152, hashes = {sha256 = 'c75a69e2'}},
]

[[packages]]
name = 'numpy'
version = '2.2.3'
marker = "platform_machine == 'aarch64'"
requires-python = '>= 3.10'
wheels = [
  {url = 'https://files.example/numpy-2.2.3-cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64.whl', hashes = {sha256 = 'a1b2'}},
]
[packages.sdist]
url = 'https://files.example/numpy-2.2.3.tar.gz'
hashes = {sha256 = 'c3d4'}

[[packages]]
name = 'click'
version = '8.2.0'
marker = "'cli' in extras"
wheels = [{url = 'https://files.example/click-8.2.0-py3-none-any.whl', hashes = {sha256 = 'e5'}}]

[[packages]]
name = 'pytest'
version = '8.4.0'
marker = "'dev' in dependency_groups and sys_platform != 'win32'"
wheels = [{url = 'https://files.example/pytest-8.4.0-py3-none-any.whl', hashes = {sha256 = 'f6'}}]

[[packages]]
name = 'my-tool'
directory = { path = '.', editable = true }
"#;

    fn run(extras: &[&str], groups: &[&str]) -> Result<Loaded, String> {
        let selection = Selection::of(extras, groups);
        load(Path::new("/w/pylock.toml"), PYLOCK, &selection)
    }

    #[test]
    fn packages_keep_their_markers_files_and_requires_python() {
        let loaded = run(&[], &[]).unwrap();
        assert_eq!(
            loaded.lines(),
            [
                "attrs 25.1.0 (locked):10",
                "numpy 2.2.3 (locked) ; platform_machine == 'aarch64':18",
                "my-tool (locked):42",
            ]
        );
        assert!(
            matches!(&loaded.parsed.requirements[2].kind, EntryKind::Editable { target, .. } if target == "/w")
        );
        let files = loaded.locked.unwrap().files;
        let numpy = &files[&PackageName::from_str("numpy").unwrap()];
        assert_eq!(numpy.len(), 2);
        assert_eq!(numpy[0].filename, "numpy-2.2.3.tar.gz");
        assert_eq!(numpy[1].sha256.as_deref(), Some("a1b2"));
        assert_eq!(
            numpy[1].requires_python.as_ref().unwrap().to_string(),
            ">=3.10"
        );
    }

    #[test]
    fn extras_and_groups_decide_list_markers() {
        let loaded = run(&["cli"], &["dev"]).unwrap();
        let texts = loaded.lines();
        assert!(
            texts.contains(&"click 8.2.0 (locked):30".to_string()),
            "{texts:?}"
        );
        assert!(
            texts.contains(&"pytest 8.4.0 (locked) ; sys_platform != 'win32':36".to_string()),
            "{texts:?}"
        );
        let err = run(&[], &["docs"]).unwrap_err();
        assert_eq!(
            err,
            "--group docs: /w/pylock.toml has no such group; available: dev"
        );
    }

    #[test]
    fn list_markers_are_rewritten() {
        let reduced =
            |text: &str| text::marker(&decide_lists(text, &["cli".to_string()], &[])).unwrap();
        assert!(reduced("'cli' in extras").is_true());
        assert!(reduced("'gui' in extras or 'cli' not in extras").is_false());
        let extras = vec!["cli".to_string()];
        assert_eq!(
            decide_lists("'cli' in extras and os_name == 'posix'", &extras, &[]),
            "(python_full_version >= '0' or python_full_version < '0') and os_name == 'posix'"
        );
        assert_eq!(
            decide_lists("(\"dev\" not in dependency_groups)", &extras, &[]),
            "((python_full_version >= '0' or python_full_version < '0'))"
        );
        assert_eq!(
            decide_lists("sys_platform == 'linux'", &extras, &[]),
            "sys_platform == 'linux'"
        );
    }

    #[test]
    fn other_lock_versions_are_refused() {
        let err = load(
            Path::new("pylock.toml"),
            "lock-version = '2.0'\n",
            &Selection::default(),
        )
        .unwrap_err();
        assert_eq!(
            err,
            "pylock.toml:1: lock-version = \"2.0\": wheelcheck reads version 1 of pylock.toml (PEP 751)"
        );
    }
}
