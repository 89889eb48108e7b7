//! Where each package comes from: the chain of requirements that pulled it in and the lines of
//! the user's files responsible.
//!
//! A finding about a transitive package is only actionable if it points at something the user
//! wrote: CI annotations, `why` and every report name the top-level line and the chain to it.

use std::collections::{HashMap, HashSet, VecDeque};

use super::{PackageReport, Report};

/// `required_by`'s marker for "asked for by the user's own files".
const USER: &str = "requirements";

/// Fill `chain` and `lines` of every package of every target. `lines` maps a normalized
/// project name to where the user's files ask for it (`requirements.txt:3`).
pub fn annotate(report: &mut Report, lines: &HashMap<String, Vec<String>>) {
    for target in &mut report.targets {
        let chains: Vec<Vec<String>> = target
            .packages
            .iter()
            .map(|package| chain_to(package, &target.packages))
            .collect();
        for (package, chain) in target.packages.iter_mut().zip(chains) {
            package.lines = chain
                .first()
                .and_then(|top| lines.get(top))
                .cloned()
                .unwrap_or_default();
            package.chain = chain;
        }
    }
}

/// The shortest chain of requirements from a package the user asked for down to `package`,
/// both included: `["fastapi", "starlette", "anyio"]`. Just `[name]` for a requested package;
/// empty when nothing leads to it (it then cannot be blamed on a line).
pub fn chain_to(package: &PackageReport, all: &[PackageReport]) -> Vec<String> {
    let by_name: HashMap<&str, &PackageReport> = all.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut came_from: HashMap<&str, &str> = HashMap::new();
    let mut seen: HashSet<&str> = HashSet::from([package.name.as_str()]);
    let mut queue = VecDeque::from([package.name.as_str()]);
    while let Some(name) = queue.pop_front() {
        let Some(current) = by_name.get(name) else {
            continue;
        };
        if current.requested || current.required_by.iter().any(|p| p == USER) {
            return walk_down(name, &came_from);
        }
        for parent in &current.required_by {
            let parent = parent_name(parent);
            if seen.insert(parent) {
                came_from.insert(parent, name);
                queue.push_back(parent);
            }
        }
    }
    Vec::new()
}

/// Every chain of requirements from a package the user asked for down to `package` (each
/// without repeats, stopping at the first requested package met going up), shortest first, at
/// most `limit`; the second value is true when more were left out. `why` shows them all, since
/// removing one parent does not remove a package another parent still pulls in.
pub fn all_chains(
    package: &PackageReport,
    all: &[PackageReport],
    limit: usize,
) -> (Vec<Vec<String>>, bool) {
    let by_name: HashMap<&str, &PackageReport> = all.iter().map(|p| (p.name.as_str(), p)).collect();
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut more = false;
    let mut path = vec![package.name.as_str()];
    climb(&by_name, &mut path, &mut found, limit, &mut more);
    found.sort_by(|a, b| a.len().cmp(&b.len()).then_with(|| a.cmp(b)));
    (found, more)
}

/// Depth-first up the `required_by` edges; `path` runs from `package` up to the current node.
fn climb<'a>(
    by_name: &HashMap<&'a str, &'a PackageReport>,
    path: &mut Vec<&'a str>,
    found: &mut Vec<Vec<String>>,
    limit: usize,
    more: &mut bool,
) {
    let Some(current) = path.last().and_then(|name| by_name.get(name)) else {
        return;
    };
    let is_start = path.len() == 1;
    if current.requested || current.required_by.iter().any(|p| p == USER) {
        if found.len() == limit {
            *more = true;
            return;
        }
        found.push(path.iter().rev().map(|n| n.to_string()).collect());
        if !is_start {
            return;
        }
    }
    for parent in &current.required_by {
        let parent = parent_name(parent);
        if parent == USER || path.contains(&parent) {
            continue;
        }
        path.push(parent);
        climb(by_name, path, found, limit, more);
        path.pop();
    }
}

/// From the top-level package back down to where the search started.
fn walk_down(top: &str, came_from: &HashMap<&str, &str>) -> Vec<String> {
    let mut chain = vec![top.to_string()];
    let mut at = top;
    while let Some(next) = came_from.get(at) {
        chain.push((*next).to_string());
        at = next;
    }
    chain
}

/// `uvicorn[standard]` → `uvicorn`.
fn parent_name(parent: &str) -> &str {
    parent.split('[').next().unwrap_or(parent)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::Kind;

    fn package(name: &str, requested: bool, required_by: &[&str]) -> PackageReport {
        PackageReport {
            requested,
            required_by: required_by.iter().map(|s| s.to_string()).collect(),
            ..PackageReport::named(name, Kind::Wheel)
        }
    }

    fn set() -> Vec<PackageReport> {
        vec![
            package("fastapi", true, &["requirements"]),
            package("starlette", false, &["fastapi"]),
            package("anyio", false, &["starlette", "httpx"]),
            package("httpx", false, &["uvicorn[standard]"]),
            package("uvicorn", true, &["requirements"]),
            package("idna", false, &["anyio"]),
        ]
    }

    #[test]
    fn a_requested_package_is_its_own_chain() {
        let all = set();
        assert_eq!(chain_to(&all[0], &all), ["fastapi"]);
    }

    #[test]
    fn the_shortest_chain_reaches_a_requested_package() {
        let all = set();
        assert_eq!(chain_to(&all[2], &all), ["fastapi", "starlette", "anyio"]);
        assert_eq!(chain_to(&all[3], &all), ["uvicorn", "httpx"]);
        assert_eq!(
            chain_to(&all[5], &all),
            ["fastapi", "starlette", "anyio", "idna"]
        );
    }

    #[test]
    fn all_chains_lists_every_parent_path_shortest_first() {
        let all = set();
        let (chains, more) = all_chains(&all[5], &all, 10);
        assert_eq!(
            chains,
            [
                vec!["fastapi", "starlette", "anyio", "idna"],
                vec!["uvicorn", "httpx", "anyio", "idna"],
            ]
        );
        assert!(!more);
        let (chains, more) = all_chains(&all[5], &all, 1);
        assert_eq!(chains.len(), 1);
        assert!(more);
    }

    #[test]
    fn a_requested_package_also_pulled_in_by_another_shows_both() {
        let mut all = set();
        all[3].required_by.push("requirements".into());
        all[3].requested = true;
        let (chains, _) = all_chains(&all[3], &all, 10);
        assert_eq!(chains, [vec!["httpx"], vec!["uvicorn", "httpx"]]);
    }

    #[test]
    fn an_orphan_has_no_chain() {
        let all = vec![package("lonely", false, &["ghost"])];
        assert!(chain_to(&all[0], &all).is_empty());
    }

    #[test]
    fn annotate_points_transitive_packages_at_the_top_level_line() {
        let mut report = Report::new("3.12".into(), Vec::new());
        let catalog = crate::knowledge::catalog::Catalog::load().unwrap();
        let image = catalog.resolve("slim", Some((3, 12))).unwrap();
        let target = crate::target::Target::new(image.clone(), crate::tags::Arch::X86_64);
        let outcome = crate::resolve::Outcome {
            ok: true,
            error: None,
            could_not_check: false,
            packages: Vec::new(),
        };
        let mut checked = crate::report::TargetReport::new(&target, &[], outcome, None, Vec::new());
        checked.packages = set();
        report.targets.push(checked);
        let lines = HashMap::from([("fastapi".to_string(), vec!["req.txt:2".to_string()])]);
        annotate(&mut report, &lines);
        let idna = &report.targets[0].packages[5];
        assert_eq!(idna.lines, ["req.txt:2"]);
        assert_eq!(idna.chain.len(), 4);
        assert!(report.targets[0].packages[4].lines.is_empty());
    }
}
