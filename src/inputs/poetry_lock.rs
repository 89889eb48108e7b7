//! `poetry.lock`. Since Poetry 2 (lock-version 2.1) each package says which dependency groups
//! need it (`groups`) and where (`markers`, possibly one per group), which is what
//! `poetry install` installs from; those are used as they are. Older locks only have markers on
//! edges: the roots then come from `pyproject.toml` beside the lock (`[project]` or
//! `[tool.poetry.dependencies]`) and the lock is walked from them; without it, every package
//! whose markers match is taken, with a warning.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerTree, PackageName};
use serde::Deserialize;
use toml::Spanned;

use super::graph::{self, Edge, Node};
use super::locked::{self, LockedFile, LockedPackage, Origin};
use super::text::{self, source_at};
use super::{Loaded, Selection, choose};
use crate::requirements::{LineError, Source, canonicalize_name};

#[derive(Debug, Deserialize)]
struct PoetryLock {
    #[serde(default)]
    package: Vec<Package>,
    #[serde(default)]
    metadata: Metadata,
}

#[derive(Debug, Deserialize, Default)]
struct Metadata {
    /// lock-version 1.x kept the files here, by package name.
    #[serde(default)]
    files: BTreeMap<String, Vec<PoetryFile>>,
}

#[derive(Debug, Deserialize)]
struct Package {
    name: Spanned<String>,
    version: String,
    #[serde(default)]
    optional: bool,
    groups: Option<Vec<String>>,
    markers: Option<Markers>,
    #[serde(default)]
    files: Vec<PoetryFile>,
    #[serde(default)]
    dependencies: BTreeMap<String, DependencySpec>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
    source: Option<PoetrySource>,
}

/// One marker for every group, or one per group.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum Markers {
    All(String),
    PerGroup(BTreeMap<String, String>),
}

#[derive(Debug, Deserialize)]
struct PoetryFile {
    file: String,
    hash: String,
}

#[derive(Debug, Deserialize)]
struct PoetrySource {
    #[serde(rename = "type")]
    kind: String,
    url: String,
    reference: Option<String>,
    resolved_reference: Option<String>,
}

/// `"^1.2"`, `{ version = "…", markers = "…", extras = […], optional = true }`, or a list of
/// such tables (one per marker).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum DependencySpec {
    Table(DependencyTable),
    Several(Vec<DependencyTable>),
    /// A bare version constraint; only the name matters here.
    Version(serde::de::IgnoredAny),
}

#[derive(Debug, Deserialize, Default, Clone)]
struct DependencyTable {
    markers: Option<String>,
    #[serde(default)]
    extras: Vec<String>,
    #[serde(default)]
    optional: bool,
}

impl DependencySpec {
    fn tables(&self) -> Vec<DependencyTable> {
        match self {
            DependencySpec::Version(_) => vec![DependencyTable::default()],
            DependencySpec::Table(table) => vec![table.clone()],
            DependencySpec::Several(tables) => tables.clone(),
        }
    }
}

/// The pyproject.toml beside the lock, as far as roots are concerned.
#[derive(Debug, Deserialize, Default)]
struct Pyproject {
    project: Option<Project>,
    #[serde(default)]
    tool: Tool,
}

#[derive(Debug, Deserialize, Default)]
struct Project {
    #[serde(default)]
    dependencies: Vec<String>,
    #[serde(rename = "optional-dependencies", default)]
    optional_dependencies: BTreeMap<String, Vec<String>>,
}

#[derive(Debug, Deserialize, Default)]
struct Tool {
    #[serde(default)]
    poetry: Poetry,
}

#[derive(Debug, Deserialize, Default)]
struct Poetry {
    #[serde(default)]
    dependencies: BTreeMap<String, DependencySpec>,
    #[serde(default)]
    extras: BTreeMap<String, Vec<String>>,
    #[serde(default)]
    group: BTreeMap<String, PoetryGroup>,
}

#[derive(Debug, Deserialize, Default)]
struct PoetryGroup {
    #[serde(default)]
    dependencies: BTreeMap<String, DependencySpec>,
}

pub fn load(path: &Path, content: &str, selection: &Selection) -> Result<Loaded, String> {
    let lock: PoetryLock = text::parse_toml(path, content)?;
    let pyproject = read_pyproject(path)?;
    let here = |package: &Package| source_at(path, content, package.name.span().start);
    let with_groups = lock.package.iter().all(|p| p.groups.is_some()) && !lock.package.is_empty();
    let mut warnings = Vec::new();
    let chosen: Vec<(usize, MarkerTree)> = if with_groups {
        by_groups(path, &lock, pyproject.as_ref(), selection)?
    } else if let Some(pyproject) = &pyproject {
        by_walk(path, &lock, pyproject, selection)?
    } else {
        if let Some(option) = selection.first_option() {
            return Err(format!(
                "{option}: {} predates Poetry 2 (no `groups` per package) and there is no pyproject.toml beside it to say what the extras and groups hold",
                path.display()
            ));
        }
        warnings.push(LineError {
            source: Source { file: path.to_path_buf(), line: 1 },
            text: String::new(),
            message: "no pyproject.toml beside this poetry.lock, which predates Poetry 2: every non-optional package of the lock whose markers match is checked, as if all were required".into(),
        });
        everything(&lock)?
    };
    let mut packages = Vec::new();
    for (index, marker) in chosen {
        let package = &lock.package[index];
        let at = here(package);
        let wrap = |e: String| format!("{at}: {e}");
        packages.push(LockedPackage {
            name: PackageName::from_str(package.name.get_ref()).map_err(|e| wrap(e.to_string()))?,
            version: Some(Version::from_str(&package.version).map_err(|e| wrap(e.to_string()))?),
            marker,
            origin: origin_of(&lock, package),
            at,
        });
    }
    Ok(locked::into_loaded(path, packages, warnings))
}

fn read_pyproject(lock: &Path) -> Result<Option<Pyproject>, String> {
    let path = lock.with_file_name("pyproject.toml");
    if !path.is_file() {
        return Ok(None);
    }
    let content = text::read(&path)?;
    text::parse_toml(&path, &content).map(Some)
}

/// Poetry 2 locks: the packages of the chosen groups (`main` always), with their markers for
/// those groups; `extra == "…"` markers hold for the chosen extras.
fn by_groups(
    path: &Path,
    lock: &PoetryLock,
    pyproject: Option<&Pyproject>,
    selection: &Selection,
) -> Result<Vec<(usize, MarkerTree)>, String> {
    let mut available_groups: Vec<String> = lock
        .package
        .iter()
        .flat_map(|p| p.groups.iter().flatten().cloned())
        .filter(|g| g != "main")
        .collect();
    available_groups.sort();
    available_groups.dedup();
    let mut groups = choose(path, "--group", &selection.groups, &available_groups, false)?;
    groups.push("main".into());
    let extras = chosen_extras(path, lock, pyproject, selection)?;
    let mut out = Vec::new();
    for (index, package) in lock.package.iter().enumerate() {
        let mut marker = MarkerTree::FALSE;
        for group in package.groups.iter().flatten() {
            if groups.contains(&canonicalize_name(group)) {
                marker.or(group_marker(package, group)?);
            }
        }
        // `extra == "x"` holds for the chosen extras; a package that still needs another extra
        // is not installed, as with `poetry install` without that extra.
        let marker = marker.simplify_extras(&extras);
        if marker.evaluate_extras(&[]) {
            out.push((index, marker));
        }
    }
    Ok(out)
}

fn group_marker(package: &Package, group: &str) -> Result<MarkerTree, String> {
    match &package.markers {
        None => Ok(MarkerTree::TRUE),
        Some(Markers::All(text)) => text::marker(text),
        Some(Markers::PerGroup(by_group)) => {
            text::marker(by_group.get(group).map_or("", String::as_str))
        }
    }
}

/// Extras come from pyproject.toml when it is there, else from the `extra == "…"` markers.
fn chosen_extras(
    path: &Path,
    lock: &PoetryLock,
    pyproject: Option<&Pyproject>,
    selection: &Selection,
) -> Result<Vec<ExtraName>, String> {
    let available: Vec<String> = match pyproject {
        Some(p) => pyproject_extras(p).into_keys().collect(),
        None => {
            let mut found: Vec<String> = lock
                .package
                .iter()
                .filter_map(|p| match &p.markers {
                    Some(Markers::All(text)) => Some(extras_named(text)),
                    Some(Markers::PerGroup(m)) => {
                        Some(m.values().flat_map(|t| extras_named(t)).collect())
                    }
                    None => None,
                })
                .flatten()
                .collect();
            found.sort();
            found.dedup();
            found
        }
    };
    let names = choose(
        path,
        "--extra",
        &selection.extras,
        &available,
        selection.wants_all_extras(),
    )?;
    Ok(names
        .iter()
        .filter_map(|n| ExtraName::from_str(n).ok())
        .collect())
}

/// The names in `extra == "name"` expressions of a marker.
fn extras_named(marker: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = marker;
    while let Some(at) = rest.find("extra") {
        rest = &rest[at + "extra".len()..];
        let after = rest.trim_start();
        let Some(value) = after.strip_prefix("==") else {
            continue;
        };
        let value = value.trim_start();
        let Some(quote) = value.chars().next().filter(|c| *c == '"' || *c == '\'') else {
            continue;
        };
        if let Some(end) = value[1..].find(quote) {
            names.push(value[1..1 + end].to_string());
        }
    }
    names
}

/// The root's extras: PEP 621 optional dependencies, or `[tool.poetry.extras]` (package names).
fn pyproject_extras(pyproject: &Pyproject) -> BTreeMap<String, Vec<String>> {
    let mut extras = pyproject.tool.poetry.extras.clone();
    if let Some(project) = &pyproject.project {
        for (extra, requirements) in &project.optional_dependencies {
            let names = requirements
                .iter()
                .filter_map(|r| crate::guard::requirement(r).ok());
            extras.insert(extra.clone(), names.map(|r| r.name.to_string()).collect());
        }
    }
    extras
}

/// Older locks: walk the lock from pyproject.toml's dependencies.
fn by_walk(
    path: &Path,
    lock: &PoetryLock,
    pyproject: &Pyproject,
    selection: &Selection,
) -> Result<Vec<(usize, MarkerTree)>, String> {
    let poetry = &pyproject.tool.poetry;
    let available: Vec<String> = poetry.group.keys().cloned().collect();
    let groups = choose(path, "--group", &selection.groups, &available, false)?;
    let extras_table = pyproject_extras(pyproject);
    let available: Vec<String> = extras_table.keys().cloned().collect();
    let extras = choose(
        path,
        "--extra",
        &selection.extras,
        &available,
        selection.wants_all_extras(),
    )?;
    let wanted_optional: Vec<String> = extras_table
        .iter()
        .filter(|(extra, _)| extras.contains(&canonicalize_name(extra)))
        .flat_map(|(_, names)| names.iter().map(|n| canonicalize_name(n)))
        .collect();
    let mut roots = Vec::new();
    for requirement in pyproject.project.iter().flat_map(|p| &p.dependencies) {
        let requirement = crate::guard::requirement(requirement)
            .map_err(|e| format!("{}: {e}", path.with_file_name("pyproject.toml").display()))?;
        if let Some(to) = position(lock, requirement.name.as_ref()) {
            roots.push(Edge {
                to,
                extras: requirement.extras.clone(),
                marker: requirement.marker.clone(),
            });
        }
    }
    let mut tables: Vec<&BTreeMap<String, DependencySpec>> = vec![&poetry.dependencies];
    tables.extend(
        poetry
            .group
            .iter()
            .filter(|(g, _)| groups.contains(&canonicalize_name(g)))
            .map(|(_, g)| &g.dependencies),
    );
    for table in tables {
        roots.extend(spec_edges(lock, table, |name, spec| {
            !spec.optional || wanted_optional.contains(&canonicalize_name(name))
        })?);
    }
    let nodes = lock
        .package
        .iter()
        .map(|p| node_of(lock, p))
        .collect::<Result<Vec<_>, _>>()?;
    let reached = graph::reach(&nodes, &roots);
    Ok(reached
        .into_iter()
        .enumerate()
        .filter(|(_, m)| !m.is_false())
        .collect())
}

fn node_of(lock: &PoetryLock, package: &Package) -> Result<Node, String> {
    let dependencies = spec_edges(lock, &package.dependencies, |_, spec| !spec.optional)?;
    let mut optional = BTreeMap::new();
    for (extra, members) in &package.extras {
        let names: Vec<String> = members
            .iter()
            .map(|m| canonicalize_name(leading_name(m)))
            .collect();
        let edges = spec_edges(lock, &package.dependencies, |name, _| {
            names.contains(&canonicalize_name(name))
        })?;
        let extra = ExtraName::from_str(extra).map_err(|e| format!("extra `{extra}`: {e}"))?;
        optional.insert(
            extra.clone(),
            edges
                .into_iter()
                .map(|mut e| {
                    e.marker = e.marker.simplify_extras(std::slice::from_ref(&extra));
                    e
                })
                .collect(),
        );
    }
    Ok(Node {
        dependencies,
        optional,
    })
}

/// `PySocks (>=1.5.6,!=1.5.7)` or `uvicorn[standard] (>=0.30)`: the name.
fn leading_name(text: &str) -> &str {
    let end = text
        .find(|c: char| {
            c == ' ' || c == '(' || c == '[' || c == ';' || c == '<' || c == '>' || c == '='
        })
        .unwrap_or(text.len());
    &text[..end]
}

/// Edges for the entries of a dependency table that `keep` accepts (`python` is not a package).
fn spec_edges(
    lock: &PoetryLock,
    table: &BTreeMap<String, DependencySpec>,
    keep: impl Fn(&str, &DependencyTable) -> bool,
) -> Result<Vec<Edge>, String> {
    let mut edges = Vec::new();
    for (name, spec) in table {
        if name == "python" {
            continue;
        }
        let Some(to) = position(lock, name) else {
            continue;
        };
        for table in spec.tables().into_iter().filter(|t| keep(name, t)) {
            let extras = table
                .extras
                .iter()
                .filter_map(|e| ExtraName::from_str(e).ok())
                .collect();
            let marker = text::marker(table.markers.as_deref().unwrap_or(""))?;
            edges.push(Edge { to, extras, marker });
        }
    }
    Ok(edges)
}

fn position(lock: &PoetryLock, name: &str) -> Option<usize> {
    let name = canonicalize_name(name);
    lock.package
        .iter()
        .position(|p| canonicalize_name(p.name.get_ref()) == name)
}

/// Without roots: every package that is not optional, with its own markers.
fn everything(lock: &PoetryLock) -> Result<Vec<(usize, MarkerTree)>, String> {
    let mut out = Vec::new();
    for (index, package) in lock.package.iter().enumerate().filter(|(_, p)| !p.optional) {
        let marker = match &package.markers {
            Some(Markers::All(text)) => text::marker(text)?,
            _ => MarkerTree::TRUE,
        };
        out.push((index, marker));
    }
    Ok(out)
}

fn origin_of(lock: &PoetryLock, package: &Package) -> Origin {
    let kind = package.source.as_ref().map(|s| s.kind.as_str());
    let source = package.source.as_ref();
    match (kind, source) {
        (Some("git"), Some(s)) => {
            let commit = s.resolved_reference.as_ref().or(s.reference.as_ref());
            Origin::Vcs(match commit {
                Some(commit) => format!("git+{}@{commit}", s.url),
                None => format!("git+{}", s.url),
            })
        }
        (Some("directory"), Some(s)) => Origin::Directory(s.url.clone()),
        (Some("file" | "url"), Some(s)) => Origin::Archive {
            location: s.url.clone(),
            hash: package.files.first().and_then(|f| locked::hash_of(&f.hash)),
        },
        _ => {
            let listed = match package.files.is_empty() {
                true => lock
                    .metadata
                    .files
                    .get(package.name.get_ref())
                    .map_or(&[][..], Vec::as_slice),
                false => package.files.as_slice(),
            };
            Origin::Registry {
                files: listed
                    .iter()
                    .map(|f| LockedFile {
                        filename: f.file.clone(),
                        url: None,
                        hashes: locked::hash_of(&f.hash).into_iter().collect(),
                        size: None,
                    })
                    .collect(),
                hashes: Vec::new(),
                requires_python: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As Poetry 2.1 writes it (descriptions and most files left out).
    const POETRY_2: &str = r#"# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.

[[package]]
name = "colorama"
version = "0.4.6"
description = "Cross-platform colored terminal text."
optional = false
python-versions = "!=3.0.*,!=3.1.*,!=3.2.*,!=3.3.*,!=3.4.*,!=3.5.*,!=3.6.*,>=2.7"
groups = ["main", "dev"]
markers = {main = "platform_system == \"Windows\"", dev = "sys_platform == \"win32\""}
files = [
    {file = "colorama-0.4.6-py2.py3-none-any.whl", hash = "sha256:4f1d9991f5acc0ca119f9d443620b77f9d6b33703e51011c16baf57afb285fc6"},
]

[[package]]
name = "psycopg2-binary"
version = "2.9.10"
description = "psycopg2 - Python-PostgreSQL Database Adapter"
optional = true
python-versions = ">=3.8"
groups = ["main"]
markers = "extra == \"postgres\""
files = [
    {file = "psycopg2_binary-2.9.10-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl", hash = "sha256:bb01"},
]

[[package]]
name = "pytest"
version = "8.3.5"
description = "pytest: simple powerful testing with Python"
optional = false
python-versions = ">=3.8"
groups = ["dev"]
files = [
    {file = "pytest-8.3.5-py3-none-any.whl", hash = "sha256:cc01"},
]

[package.dependencies]
colorama = {version = "*", markers = "sys_platform == \"win32\""}

[[package]]
name = "requests"
version = "2.32.3"
description = "Python HTTP for Humans."
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = [
    {file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:dd01"},
    {file = "requests-2.32.3.tar.gz", hash = "sha256:dd02"},
]

[package.extras]
socks = ["PySocks (>=1.5.6,!=1.5.7)"]

[metadata]
lock-version = "2.1"
python-versions = ">=3.10"
content-hash = "abc"
"#;

    fn load_in(dir: &Path, lock: &str, extras: &[&str], groups: &[&str]) -> Result<Loaded, String> {
        let path = dir.join("poetry.lock");
        std::fs::write(&path, lock).unwrap();
        let selection = Selection::of(extras, groups);
        load(&path, lock, &selection)
    }

    #[test]
    fn poetry_2_groups_and_markers_are_used_as_locked() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_in(dir.path(), POETRY_2, &[], &[]).unwrap();
        assert_eq!(
            loaded.lines(),
            [
                "colorama 0.4.6 (locked) ; platform_system == 'Windows':4",
                "requests 2.32.3 (locked):42"
            ]
        );
        let entry = &loaded.parsed.requirements[1];
        assert_eq!(entry.hashes.len(), 2);
        assert!(
            loaded.locked.unwrap().files.is_empty(),
            "poetry.lock has no URLs: the index is asked"
        );
        let dev = load_in(dir.path(), POETRY_2, &["postgres"], &["dev"])
            .unwrap()
            .lines();
        assert_eq!(dev.len(), 4, "{dev:?}");
        assert!(
            dev[0].contains("sys_platform == 'win32' or platform_system == 'Windows'"),
            "{dev:?}"
        );
        assert!(
            dev[1].starts_with("psycopg2-binary 2.9.10 (locked):16"),
            "{dev:?}"
        );
        let err = load_in(dir.path(), POETRY_2, &["mysql"], &[]).unwrap_err();
        assert!(
            err.ends_with("has no such extra; available: postgres"),
            "{err}"
        );
    }

    /// Poetry 1.x locks: no groups; roots from pyproject.toml beside the lock.
    const POETRY_1: &str = r#"[[package]]
name = "certifi"
version = "2024.8.30"
description = ""
optional = false
python-versions = ">=3.6"
files = [
    {file = "certifi-2024.8.30-py3-none-any.whl", hash = "sha256:aa"},
]

[[package]]
name = "pysocks"
version = "1.7.1"
description = ""
optional = true
python-versions = "*"
files = [
    {file = "PySocks-1.7.1-py3-none-any.whl", hash = "sha256:bb"},
]

[[package]]
name = "requests"
version = "2.32.3"
description = ""
optional = false
python-versions = ">=3.8"
files = [
    {file = "requests-2.32.3-py3-none-any.whl", hash = "sha256:cc"},
]

[package.dependencies]
certifi = ">=2017.4.17"
PySocks = {version = ">=1.5.6,<1.5.7 || >1.5.7", optional = true}

[package.extras]
socks = ["PySocks (>=1.5.6,!=1.5.7)"]

[[package]]
name = "unused"
version = "1.0"
description = ""
optional = false
python-versions = "*"
files = []

[metadata]
lock-version = "2.0"
python-versions = "^3.10"
content-hash = "abc"
"#;

    #[test]
    fn older_locks_are_walked_from_the_pyproject_beside_them() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("pyproject.toml"),
            "[tool.poetry.dependencies]\npython = \"^3.10\"\nrequests = {version = \"^2.32\", extras = [\"socks\"], markers = \"sys_platform == 'linux'\"}\n",
        )
        .unwrap();
        let loaded = load_in(dir.path(), POETRY_1, &[], &[]).unwrap();
        assert_eq!(
            loaded.lines(),
            [
                "certifi 2024.8.30 (locked) ; sys_platform == 'linux':2",
                "pysocks 1.7.1 (locked) ; sys_platform == 'linux':12",
                "requests 2.32.3 (locked) ; sys_platform == 'linux':22",
            ]
        );
        assert!(loaded.parsed.warnings.is_empty());
    }

    #[test]
    fn without_a_pyproject_every_required_package_is_taken_with_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        let loaded = load_in(dir.path(), POETRY_1, &[], &[]).unwrap();
        let names: Vec<String> = loaded
            .lines()
            .into_iter()
            .map(|t| t.split(' ').next().unwrap().to_string())
            .collect();
        assert_eq!(names, ["certifi", "requests", "unused"]);
        assert!(
            loaded.parsed.warnings[0]
                .message
                .contains("no pyproject.toml beside this poetry.lock")
        );
        assert!(
            !loaded.parsed.options.require_hashes,
            "unused has no files, so no hashes"
        );
    }

    #[test]
    fn extra_names_are_read_from_markers() {
        assert_eq!(
            extras_named("extra == \"a\" or extra=='b' and python_version < '3'"),
            ["a", "b"]
        );
        assert_eq!(leading_name("uvicorn[standard] (>=0.30)"), "uvicorn");
    }
}
