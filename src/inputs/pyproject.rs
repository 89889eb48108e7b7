//! `pyproject.toml`: the project's PEP 621 dependencies, the optional-dependency groups chosen
//! with `--extra`, and PEP 735 dependency groups chosen with `--group`. They are resolved like
//! the lines of a requirements file; each one points at its line of `pyproject.toml`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;

use super::text::{self, source_at};
use super::{Loaded, Selection, choose};
use crate::requirements::{
    EntryKind, LineError, ParsedRequirements, RequirementEntry, canonicalize_name,
};

#[derive(Debug, Deserialize)]
struct PyprojectFile {
    project: Option<Spanned<Project>>,
    #[serde(rename = "dependency-groups", default)]
    dependency_groups: BTreeMap<String, Vec<Spanned<GroupItem>>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Project {
    pub name: Option<String>,
    pub dependencies: Option<Vec<Spanned<String>>>,
    #[serde(rename = "optional-dependencies", default)]
    pub optional_dependencies: BTreeMap<String, Vec<Spanned<String>>>,
    #[serde(default)]
    pub dynamic: Vec<Spanned<String>>,
}

/// A PEP 735 group item: a requirement, or another group to include.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum GroupItem {
    Requirement(String),
    Include {
        #[serde(rename = "include-group")]
        include_group: String,
    },
}

/// One dependency string and the byte offset where it is written.
struct Declared {
    at: usize,
    text: String,
}

impl Declared {
    fn of(spanned: &Spanned<String>) -> Declared {
        Declared {
            at: spanned.span().start,
            text: spanned.get_ref().clone(),
        }
    }
}

pub fn load(path: &Path, content: &str, selection: &Selection) -> Result<Loaded, String> {
    let file: PyprojectFile = text::parse_toml(path, content)?;
    let mut declared: Vec<Declared> = Vec::new();
    match &file.project {
        Some(project) => declared.extend(project_dependencies(path, content, project, selection)?),
        None if selection.groups.is_empty() => {
            return Err(format!(
                "{} has no [project] table, so it declares no dependencies wheelcheck can read (PEP 621); \
                 give a requirements file or a lock file instead, or choose a [dependency-groups] group with --group",
                path.display()
            ));
        }
        None if !selection.extras.is_empty() => {
            return Err(format!(
                "--extra needs [project.optional-dependencies], and {} has no [project] table",
                path.display()
            ));
        }
        None => {}
    }
    declared.extend(group_dependencies(
        path,
        &file.dependency_groups,
        selection,
    )?);
    let mut parsed = ParsedRequirements::default();
    for dependency in declared {
        let source = source_at(path, content, dependency.at);
        let text = dependency.text;
        match crate::guard::requirement(&text) {
            Ok(requirement) => parsed.requirements.push(RequirementEntry {
                source,
                text,
                kind: EntryKind::Named(requirement),
                hashes: Vec::new(),
            }),
            Err(message) => parsed.errors.push(LineError {
                source,
                text,
                message,
            }),
        }
    }
    Ok(Loaded {
        parsed,
        locked: None,
    })
}

/// `[project] dependencies` and the chosen extras, with the project's references to its own
/// extras (`all = ["me[cli,gui]"]`) followed instead of looked up on an index.
fn project_dependencies(
    path: &Path,
    content: &str,
    project: &Spanned<Project>,
    selection: &Selection,
) -> Result<Vec<Declared>, String> {
    let inner = project.get_ref();
    refuse_dynamic(path, content, inner, "dependencies", "")?;
    if !selection.extras.is_empty() {
        refuse_dynamic(
            path,
            content,
            inner,
            "optional-dependencies",
            " with --extra",
        )?;
    }
    let available: Vec<String> = inner.optional_dependencies.keys().cloned().collect();
    let mut extras = choose(
        path,
        "--extra",
        &selection.extras,
        &available,
        selection.wants_all_extras(),
    )?;
    let extras_by_name: BTreeMap<String, &Vec<Spanned<String>>> = inner
        .optional_dependencies
        .iter()
        .map(|(name, deps)| (canonicalize_name(name), deps))
        .collect();
    let own_name = inner.name.as_deref().map(canonicalize_name);
    let mut out: Vec<Declared> = Vec::new();
    let mut queue: Vec<&Spanned<String>> = inner.dependencies.iter().flatten().collect();
    let mut next_extra = 0;
    loop {
        for dependency in queue.drain(..) {
            match self_extras(dependency.get_ref(), own_name.as_deref()) {
                Some(more) => {
                    for extra in more.into_iter().filter(|e| extras_by_name.contains_key(e)) {
                        if !extras.contains(&extra) {
                            extras.push(extra);
                        }
                    }
                }
                None => out.push(Declared::of(dependency)),
            }
        }
        let Some(extra) = extras.get(next_extra) else {
            break;
        };
        queue.extend(extras_by_name[extra].iter());
        next_extra += 1;
    }
    Ok(out)
}

/// The extras of a dependency on the project itself (`me[cli]`), or `None` for another project.
fn self_extras(text: &str, own_name: Option<&str>) -> Option<Vec<String>> {
    let own_name = own_name?;
    let requirement = crate::guard::requirement(text).ok()?;
    (requirement.name.as_ref() == own_name).then(|| {
        requirement
            .extras
            .iter()
            .map(|e| e.as_ref().to_string())
            .collect()
    })
}

/// Dependencies listed in `dynamic` are computed by the build backend, which wheelcheck never
/// runs: say so, and how to get a file that can be checked.
fn refuse_dynamic(
    path: &Path,
    content: &str,
    project: &Project,
    field: &str,
    with: &str,
) -> Result<(), String> {
    let Some(entry) = project.dynamic.iter().find(|d| d.get_ref() == field) else {
        return Ok(());
    };
    Err(format!(
        "{}: the project's {field} are dynamic (dynamic = [\"{field}\"]){with}: only its build backend \
         can compute them, and wheelcheck does not run package code; write them out with \
         `uv pip compile {} -o requirements.txt` (or pip-tools' pip-compile) and check that file",
        source_at(path, content, entry.span().start),
        path.display()
    ))
}

/// The requirements of the chosen `[dependency-groups]`, with `include-group` followed.
fn group_dependencies(
    path: &Path,
    groups: &BTreeMap<String, Vec<Spanned<GroupItem>>>,
    selection: &Selection,
) -> Result<Vec<Declared>, String> {
    let available: Vec<String> = groups.keys().cloned().collect();
    let chosen = choose(path, "--group", &selection.groups, &available, false)?;
    let by_name: BTreeMap<String, &Vec<Spanned<GroupItem>>> = groups
        .iter()
        .map(|(name, items)| (canonicalize_name(name), items))
        .collect();
    let mut out = Vec::new();
    for group in &chosen {
        expand_group(path, group, &by_name, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

fn expand_group(
    path: &Path,
    group: &str,
    groups: &BTreeMap<String, &Vec<Spanned<GroupItem>>>,
    stack: &mut Vec<String>,
    out: &mut Vec<Declared>,
) -> Result<(), String> {
    if stack.iter().any(|g| g == group) {
        return Err(format!(
            "{}: [dependency-groups] include each other in a cycle: {} -> {group}",
            path.display(),
            stack.join(" -> ")
        ));
    }
    let Some(items) = groups.get(group) else {
        return Err(format!(
            "{}: include-group = \"{group}\" names a group [dependency-groups] does not define",
            path.display()
        ));
    };
    stack.push(group.to_string());
    for item in items.iter() {
        match item.get_ref() {
            GroupItem::Requirement(text) => out.push(Declared {
                at: item.span().start,
                text: text.clone(),
            }),
            GroupItem::Include { include_group } => {
                expand_group(path, &canonicalize_name(include_group), groups, stack, out)?
            }
        }
    }
    stack.pop();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PYPROJECT: &str = r#"[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "my-app"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = [
    "fastapi>=0.115",
    "uvicorn[standard]>=0.30 ; sys_platform != 'win32'",
]

[project.optional-dependencies]
postgres = ["psycopg[binary]>=3.2"]
Redis = ["redis>=5"]
all = ["my-app[postgres,redis]"]

[dependency-groups]
test = ["pytest>=8"]
dev = [{ include-group = "test" }, "ruff"]
"#;

    fn names(loaded: &Loaded) -> Vec<(String, usize)> {
        loaded
            .parsed
            .requirements
            .iter()
            .map(|e| (e.kind.name().unwrap().to_string(), e.source.line))
            .collect()
    }

    fn run(content: &str, selection: &Selection) -> Result<Loaded, String> {
        load(Path::new("pyproject.toml"), content, selection)
    }

    #[test]
    fn dependencies_point_at_their_lines() {
        let loaded = run(PYPROJECT, &Selection::default()).unwrap();
        assert_eq!(
            names(&loaded),
            [("fastapi".to_string(), 10), ("uvicorn".to_string(), 11)]
        );
        assert_eq!(loaded.parsed.requirements[0].text, "fastapi>=0.115");
        assert!(loaded.locked.is_none());
    }

    #[test]
    fn extras_add_their_groups_and_follow_self_references() {
        let loaded = run(PYPROJECT, &Selection::of(&["postgres"], &[])).unwrap();
        assert_eq!(names(&loaded)[2], ("psycopg".to_string(), 15));
        let all = run(PYPROJECT, &Selection::of(&["all"], &[])).unwrap();
        let found: Vec<String> = names(&all).into_iter().map(|(n, _)| n).collect();
        assert_eq!(found, ["fastapi", "uvicorn", "psycopg", "redis"]);
        let err = run(PYPROJECT, &Selection::of(&["gui"], &[])).unwrap_err();
        assert_eq!(
            err,
            "--extra gui: pyproject.toml has no such extra; available: Redis, all, postgres"
        );
    }

    #[test]
    fn dependency_groups_include_each_other() {
        let loaded = run(PYPROJECT, &Selection::of(&[], &["dev"])).unwrap();
        let found: Vec<(String, usize)> = names(&loaded).into_iter().skip(2).collect();
        assert_eq!(
            found,
            [("pytest".to_string(), 20), ("ruff".to_string(), 21)]
        );
        let cycle = "[project]\nname='a'\n[dependency-groups]\na=[{include-group='b'}]\nb=[{include-group='a'}]\n";
        let err = run(cycle, &Selection::of(&[], &["a"])).unwrap_err();
        assert!(err.contains("cycle: a -> b -> a"), "{err}");
    }

    #[test]
    fn dynamic_dependencies_are_refused_with_a_way_out() {
        let content =
            "[project]\nname = 'x'\nversion = '1'\ndynamic = [\"version\", \"dependencies\"]\n";
        let err = run(content, &Selection::default()).unwrap_err();
        assert!(
            err.starts_with("pyproject.toml:4: the project's dependencies are dynamic"),
            "{err}"
        );
        assert!(
            err.contains("uv pip compile pyproject.toml -o requirements.txt"),
            "{err}"
        );
    }

    #[test]
    fn a_file_without_project_is_refused_unless_a_group_is_chosen() {
        let content = "[tool.black]\nline-length = 100\n[dependency-groups]\nlint = ['ruff']\n";
        let err = run(content, &Selection::default()).unwrap_err();
        assert!(
            err.starts_with("pyproject.toml has no [project] table"),
            "{err}"
        );
        let loaded = run(content, &Selection::of(&[], &["lint"])).unwrap();
        assert_eq!(names(&loaded), [("ruff".to_string(), 4)]);
    }

    #[test]
    fn a_bad_dependency_is_a_line_error_and_the_rest_is_kept() {
        let content =
            "[project]\nname = 'x'\ndependencies = [\n  'ok>=1',\n  'bad name here',\n]\n";
        let loaded = run(content, &Selection::default()).unwrap();
        assert_eq!(names(&loaded), [("ok".to_string(), 4)]);
        assert_eq!(loaded.parsed.errors[0].source.line, 5);
    }

    #[test]
    fn malformed_toml_names_file_and_line() {
        let err = run(
            "[project]\nname = 'x'\ndependencies = [\n  'a'\n  'b',\n]\n",
            &Selection::default(),
        )
        .unwrap_err();
        assert!(
            err.starts_with("pyproject.toml:5: not valid pyproject.toml (TOML)"),
            "{err}"
        );
    }
}
