//! `uv.lock`: packages carry no marker of their own, so the install set is found the way
//! `uv sync` / `uv export` find it: from the root project over the dependency edges (with the
//! chosen extras and groups), each edge's marker narrowing where what follows is installed.
//!
//! Registry packages use the lock's own file URLs and hashes; the index is not asked for them.
//! The root project (`editable = "."`) is reported as built from source; a virtual root is not
//! installed. Groups are only installed when chosen with `--group` (like `uv sync --no-dev`,
//! what a production image wants).

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;
use toml::Spanned;
use url::Url;

use super::graph::{self, Edge, Node};
use super::locked::{self, LockedFile, LockedPackage, Origin};
use super::text::{self, source_at};
use super::{Loaded, Selection, choose};

#[derive(Debug, Deserialize)]
struct UvLock {
    #[serde(default)]
    package: Vec<Package>,
    manifest: Option<Manifest>,
}

#[derive(Debug, Deserialize)]
struct Manifest {
    #[serde(default)]
    members: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: Spanned<String>,
    version: Option<String>,
    source: Option<SourceSpec>,
    #[serde(default)]
    dependencies: Vec<Dependency>,
    #[serde(rename = "optional-dependencies", default)]
    optional_dependencies: BTreeMap<String, Vec<Dependency>>,
    #[serde(rename = "dev-dependencies", default)]
    dev_dependencies: BTreeMap<String, Vec<Dependency>>,
    sdist: Option<Artifact>,
    #[serde(default)]
    wheels: Vec<Artifact>,
}

/// `source = { registry = "…" }`, `{ editable = "." }`, `{ git = "…" }`, …: exactly one key.
#[derive(Debug, Deserialize, Default, Clone)]
struct SourceSpec {
    registry: Option<String>,
    editable: Option<String>,
    #[serde(rename = "virtual")]
    virtual_: Option<String>,
    directory: Option<String>,
    path: Option<String>,
    git: Option<String>,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Dependency {
    name: String,
    version: Option<String>,
    #[serde(default)]
    extra: Vec<String>,
    marker: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Artifact {
    url: Option<String>,
    path: Option<String>,
    filename: Option<String>,
    hash: Option<String>,
    size: Option<u64>,
}

pub fn load(path: &Path, content: &str, selection: &Selection) -> Result<Loaded, String> {
    let lock: UvLock = text::parse_toml(path, content)?;
    let roots = root_packages(path, &lock)?;
    let extras = selected(path, "--extra", &lock, &roots, selection)?;
    let groups = selected(path, "--group", &lock, &roots, selection)?;
    let here = |package: &Package| source_at(path, content, package.name.span().start);
    let nodes = lock
        .package
        .iter()
        .map(|package| node_of(&lock, package).map_err(|e| format!("{}: {e}", here(package))))
        .collect::<Result<Vec<Node>, String>>()?;
    let mut root_edges = Vec::new();
    for &root in &roots {
        root_edges.push(Edge {
            to: root,
            extras: known_extras(&lock.package[root], &extras),
            marker: MarkerTree::TRUE,
        });
        for (group, dependencies) in &lock.package[root].dev_dependencies {
            if groups.contains(&crate::requirements::canonicalize_name(group)) {
                root_edges.extend(
                    edges(&lock, dependencies)
                        .map_err(|e| format!("{}: {e}", here(&lock.package[root])))?,
                );
            }
        }
    }
    let markers = graph::reach(&nodes, &root_edges);
    let mut packages = Vec::new();
    for (package, marker) in lock.package.iter().zip(markers) {
        if marker.is_false() {
            continue;
        }
        let at = here(package);
        let origin = origin_of(path, package).map_err(|e| format!("{at}: {e}"))?;
        let Some(origin) = origin else { continue };
        packages.push(LockedPackage {
            name: name_of(package.name.get_ref()).map_err(|e| format!("{at}: {e}"))?,
            version: version_of(package.version.as_deref()).map_err(|e| format!("{at}: {e}"))?,
            marker,
            at,
            origin,
        });
    }
    Ok(locked::into_loaded(path, packages, Vec::new()))
}

/// The projects `uv sync` installs from: the one at the lock's directory, else every
/// workspace member.
fn root_packages(path: &Path, lock: &UvLock) -> Result<Vec<usize>, String> {
    let at_root = |p: &Package| {
        p.source.as_ref().is_some_and(|s| {
            s.editable.as_deref() == Some(".") || s.virtual_.as_deref() == Some(".")
        })
    };
    let mut roots: Vec<usize> = (0..lock.package.len())
        .filter(|&i| at_root(&lock.package[i]))
        .collect();
    if roots.is_empty() {
        let members: Vec<String> = lock
            .manifest
            .iter()
            .flat_map(|m| m.members.iter())
            .map(|m| crate::requirements::canonicalize_name(m))
            .collect();
        roots = (0..lock.package.len())
            .filter(|&i| {
                members.contains(&crate::requirements::canonicalize_name(
                    lock.package[i].name.get_ref(),
                ))
            })
            .collect();
    }
    if roots.is_empty() {
        return Err(format!(
            "{}: no root project (a package with source = {{ editable = \".\" }} or {{ virtual = \".\" }}, or a [manifest] member), so nothing says what `uv sync` would install",
            path.display()
        ));
    }
    Ok(roots)
}

/// The chosen extras (or groups) of the roots, checked against those the roots define.
fn selected(
    path: &Path,
    option: &str,
    lock: &UvLock,
    roots: &[usize],
    selection: &Selection,
) -> Result<Vec<String>, String> {
    let mut available: Vec<String> = Vec::new();
    for &root in roots {
        let package = &lock.package[root];
        let names = match option {
            "--extra" => package.optional_dependencies.keys(),
            _ => package.dev_dependencies.keys(),
        };
        available.extend(names.cloned());
    }
    available.sort();
    available.dedup();
    let (asked, all) = match option {
        "--extra" => (&selection.extras, selection.wants_all_extras()),
        _ => (&selection.groups, false),
    };
    choose(path, option, asked, &available, all)
}

fn known_extras(package: &Package, chosen: &[String]) -> Vec<ExtraName> {
    package
        .optional_dependencies
        .keys()
        .filter(|e| chosen.contains(&crate::requirements::canonicalize_name(e)))
        .filter_map(|e| ExtraName::from_str(e).ok())
        .collect()
}

fn node_of(lock: &UvLock, package: &Package) -> Result<Node, String> {
    let mut optional = BTreeMap::new();
    for (extra, dependencies) in &package.optional_dependencies {
        let name = ExtraName::from_str(extra).map_err(|e| format!("extra `{extra}`: {e}"))?;
        optional.insert(name, edges(lock, dependencies)?);
    }
    Ok(Node {
        dependencies: edges(lock, &package.dependencies)?,
        optional,
    })
}

fn edges(lock: &UvLock, dependencies: &[Dependency]) -> Result<Vec<Edge>, String> {
    dependencies
        .iter()
        .map(|dependency| {
            let to = target_of(lock, dependency)?;
            let extras = dependency
                .extra
                .iter()
                .map(|e| ExtraName::from_str(e).map_err(|err| format!("extra `{e}`: {err}")))
                .collect::<Result<_, _>>()?;
            let marker = text::marker(dependency.marker.as_deref().unwrap_or(""))?;
            Ok(Edge { to, extras, marker })
        })
        .collect()
}

/// The package an edge points at: by name, and by version when the lock has several.
fn target_of(lock: &UvLock, dependency: &Dependency) -> Result<usize, String> {
    let name = crate::requirements::canonicalize_name(&dependency.name);
    let same_name = |p: &Package| crate::requirements::canonicalize_name(p.name.get_ref()) == name;
    let matches = |p: &Package| {
        same_name(p)
            && dependency
                .version
                .as_ref()
                .is_none_or(|v| p.version.as_ref() == Some(v))
    };
    lock.package.iter().position(matches).ok_or_else(|| {
        format!(
            "a dependency on {}{} that the lock has no [[package]] for: the lock is incomplete; run `uv lock` again",
            dependency.name,
            dependency.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default()
        )
    })
}

fn name_of(name: &str) -> Result<PackageName, String> {
    PackageName::from_str(name).map_err(|e| format!("package name `{name}`: {e}"))
}

fn version_of(version: Option<&str>) -> Result<Option<Version>, String> {
    version
        .map(|v| Version::from_str(v).map_err(|e| format!("version `{v}`: {e}")))
        .transpose()
}

/// Where the package's files come from; `None` for a virtual project (nothing installed).
fn origin_of(lock_path: &Path, package: &Package) -> Result<Option<Origin>, String> {
    let source = package.source.clone().unwrap_or_default();
    let hash_of_one = || {
        package
            .wheels
            .first()
            .or(package.sdist.as_ref())
            .and_then(|a| a.hash.as_deref())
            .and_then(locked::hash_of)
    };
    Ok(Some(if let Some(registry) = &source.registry {
        Origin::Registry {
            files: files_of(lock_path, registry, package)?,
            hashes: Vec::new(),
            requires_python: None,
        }
    } else if source.virtual_.is_some() {
        return Ok(None);
    } else if let Some(path) = &source.editable {
        Origin::Editable(path.clone())
    } else if let Some(path) = &source.directory {
        Origin::Directory(path.clone())
    } else if let Some(git) = &source.git {
        Origin::Vcs(vcs_url(git))
    } else if let Some(location) = source.url.as_ref().or(source.path.as_ref()) {
        Origin::Archive {
            location: location.clone(),
            hash: hash_of_one(),
        }
    } else {
        return Err("a package without a known `source`".into());
    }))
}

/// uv writes `https://host/repo?rev=main#<commit>`; pip wants `git+https://host/repo@<commit>`.
fn vcs_url(git: &str) -> String {
    let (base, commit) = git.split_once('#').unwrap_or((git, ""));
    let base = base.split('?').next().unwrap_or(base);
    match commit {
        "" => format!("git+{base}"),
        commit => format!("git+{base}@{commit}"),
    }
}

/// The sdist and wheels of a registry package. A registry that is a local directory (a flat
/// `--find-links` folder) gives paths, made `file:` URLs against the lock's directory.
fn files_of(
    lock_path: &Path,
    registry: &str,
    package: &Package,
) -> Result<Vec<LockedFile>, String> {
    package
        .sdist
        .iter()
        .chain(&package.wheels)
        .map(|artifact| {
            let url = match (&artifact.url, &artifact.path) {
                (Some(url), _) => {
                    Some(Url::parse(url).map_err(|e| format!("file URL `{url}`: {e}"))?)
                }
                (None, Some(file)) => local_url(lock_path, registry, file),
                (None, None) => None,
            };
            let filename = match (&artifact.filename, &url) {
                (Some(name), _) => name.clone(),
                (None, Some(url)) => locked::filename_of(url),
                (None, None) => return Err("a file with neither url, path nor filename".into()),
            };
            Ok(LockedFile {
                filename,
                url,
                hashes: artifact
                    .hash
                    .as_deref()
                    .and_then(locked::hash_of)
                    .into_iter()
                    .collect(),
                size: artifact.size,
            })
        })
        .collect()
}

fn local_url(lock_path: &Path, registry: &str, file: &str) -> Option<Url> {
    let base = lock_path.parent().unwrap_or(Path::new(""));
    let absolute = std::path::absolute(base.join(registry).join(file)).ok()?;
    Url::from_file_path(absolute).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::requirements::EntryKind;

    /// As `uv lock` 0.9 writes it (hashes shortened).
    const UV_LOCK: &str = r#"version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "anyio"
version = "4.9.0"
source = { registry = "https://index.example/simple" }
dependencies = [
    { name = "idna" },
    { name = "sniffio" },
]
sdist = { url = "https://files.example/anyio-4.9.0.tar.gz", hash = "sha256:aa01", size = 190949, upload-time = "2025-03-17T00:02:54.77Z" }
wheels = [
    { url = "https://files.example/anyio-4.9.0-py3-none-any.whl", hash = "sha256:aa02", size = 100916, upload-time = "2025-03-17T00:02:52.713Z" },
]

[[package]]
name = "colorama"
version = "0.4.6"
source = { registry = "https://index.example/simple" }
wheels = [
    { url = "https://files.example/colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:cc01", size = 25335 },
]

[[package]]
name = "idna"
version = "3.10"
source = { registry = "https://index.example/simple" }
wheels = [
    { url = "https://files.example/idna-3.10-py3-none-any.whl", hash = "sha256:dd01", size = 70442 },
]

[[package]]
name = "my-app"
version = "0.1.0"
source = { editable = "." }
dependencies = [
    { name = "anyio" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
    { name = "uvloop", marker = "platform_machine == 'aarch64'" },
]

[package.optional-dependencies]
fast = [
    { name = "orjson" },
]

[package.dev-dependencies]
dev = [
    { name = "pytest" },
]

[package.metadata]
requires-dist = [
    { name = "anyio", specifier = ">=4" },
    { name = "colorama", marker = "sys_platform == 'win32'" },
]

[[package]]
name = "orjson"
version = "3.10.18"
source = { registry = "https://index.example/simple" }
wheels = [
    { url = "https://files.example/orjson-3.10.18-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:ee01", size = 133000 },
]

[[package]]
name = "pytest"
version = "8.4.0"
source = { registry = "https://index.example/simple" }
wheels = [
    { url = "https://files.example/pytest-8.4.0-py3-none-any.whl", hash = "sha256:ff01", size = 363000 },
]

[[package]]
name = "sniffio"
version = "1.3.1"
source = { git = "https://github.example/python-trio/sniffio?rev=v1.3.1#a1b2c3" }

[[package]]
name = "uvloop"
version = "0.21.0"
source = { registry = "https://index.example/simple" }
sdist = { url = "https://files.example/uvloop-0.21.0.tar.gz", hash = "sha256:0101", size = 2492741 }
"#;

    fn load_with(extras: &[&str], groups: &[&str]) -> Result<Loaded, String> {
        let selection = Selection::of(extras, groups);
        load(Path::new("/proj/uv.lock"), UV_LOCK, &selection)
    }

    #[test]
    fn the_install_set_is_what_the_root_reaches_with_markers() {
        let loaded = load_with(&[], &[]).unwrap();
        assert_eq!(
            loaded.lines(),
            [
                "anyio 4.9.0 (locked):6",
                "colorama 0.4.6 (locked) ; sys_platform == 'win32':19",
                "idna 3.10 (locked):27",
                "my-app 0.1.0 (locked):35",
                "sniffio 1.3.1 (locked):77",
                "uvloop 0.21.0 (locked) ; platform_machine == 'aarch64':82",
            ]
        );
        let kinds: Vec<&EntryKind> = loaded.parsed.requirements.iter().map(|e| &e.kind).collect();
        assert!(matches!(kinds[3], EntryKind::Editable { target, .. } if target == "/proj"));
        assert!(
            matches!(kinds[4], EntryKind::Vcs { url, .. } if url == "git+https://github.example/python-trio/sniffio@a1b2c3")
        );
        assert!(loaded.parsed.options.require_hashes);
    }

    #[test]
    fn the_locks_urls_and_hashes_replace_the_index() {
        let loaded = load_with(&[], &[]).unwrap();
        let files = &loaded.locked.unwrap().files;
        let anyio = &files[&PackageName::from_str("anyio").unwrap()];
        let names: Vec<&str> = anyio.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            ["anyio-4.9.0.tar.gz", "anyio-4.9.0-py3-none-any.whl"]
        );
        assert_eq!(anyio[1].sha256.as_deref(), Some("aa02"));
        assert_eq!(anyio[1].size, Some(100916));
    }

    #[test]
    fn extras_and_groups_of_the_root_are_chosen() {
        let with = load_with(&["fast"], &["dev"]).unwrap().lines();
        assert!(with.iter().any(|l| l.starts_with("orjson 3.10.18")));
        assert!(with.iter().any(|l| l.starts_with("pytest 8.4.0")));
        let without = load_with(&[], &[]).unwrap().lines();
        assert!(
            !without
                .iter()
                .any(|l| l.starts_with("orjson") || l.starts_with("pytest"))
        );
        let err = load_with(&["gui"], &[]).unwrap_err();
        assert_eq!(
            err,
            "--extra gui: /proj/uv.lock has no such extra; available: fast"
        );
        let err = load_with(&[], &["docs"]).unwrap_err();
        assert_eq!(
            err,
            "--group docs: /proj/uv.lock has no such group; available: dev"
        );
    }

    #[test]
    fn a_lock_without_a_root_or_with_a_dangling_edge_is_refused() {
        let no_root = "version = 1\n[[package]]\nname = 'a'\nversion = '1'\nsource = { registry = 'https://i/simple' }\n";
        let err = load(Path::new("uv.lock"), no_root, &Selection::default()).unwrap_err();
        assert!(err.starts_with("uv.lock: no root project"), "{err}");
        let dangling = "version = 1\n[[package]]\nname = 'r'\nversion = '1'\nsource = { virtual = '.' }\ndependencies = [{ name = 'gone' }]\n";
        let err = load(Path::new("uv.lock"), dangling, &Selection::default()).unwrap_err();
        assert!(err.starts_with("uv.lock:3: a dependency on gone"), "{err}");
    }
}
