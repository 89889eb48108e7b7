//! When pubgrub finds no solution, a greedy walk still says what each package would get.
//!
//! The walk takes each requirement once, in the order met, picks pip's choice within the
//! specifiers seen so far, and never backtracks. It is only used to describe a failed target:
//! every package it reports carries the target's failure with it.

use std::collections::{BTreeSet, VecDeque};

use pep508_rs::{PackageName, Requirement, VersionOrUrl};
use pubgrub::Ranges;

use super::candidates::FileKind;
use super::provider::Provider;
use super::{Input, Kind, ResolvedPackage, ranges};

pub fn greedy(provider: &Provider, input: &Input) -> Vec<ResolvedPackage> {
    let requested: BTreeSet<&PackageName> = input.requirements.iter().map(|r| &r.name).collect();
    let mut queue: VecDeque<(Requirement, String)> = input
        .requirements
        .iter()
        .map(|r| (r.clone(), "requirements".to_string()))
        .collect();
    let mut seen: BTreeSet<PackageName> = BTreeSet::new();
    let mut out = Vec::new();
    while let Some((requirement, parent)) = queue.pop_front() {
        if !provider.applies(&requirement) || !seen.insert(requirement.name.clone()) {
            continue;
        }
        let mut package = visit(provider, input, &requirement, &mut queue);
        package.requested = requested.contains(&requirement.name);
        package.required_by = vec![parent];
        out.push(package);
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn visit(
    provider: &Provider,
    input: &Input,
    requirement: &Requirement,
    queue: &mut VecDeque<(Requirement, String)>,
) -> ResolvedPackage {
    let name = &requirement.name;
    let none = |reason: String| ResolvedPackage {
        name: name.clone(),
        version: None,
        kind: Kind::None,
        file: None,
        requested: false,
        reason: Some(reason),
        note: None,
        required_by: Vec::new(),
        choice: None,
        avoid_build: None,
    };
    let candidates = match provider.candidates_of(name) {
        Ok(candidates) => candidates,
        Err(err) => return none(err.0),
    };
    let spec = match &requirement.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(spec)) => Some(spec),
        _ => None,
    };
    let range: Ranges<_> = ranges::matching(candidates.versions(), spec);
    let Some(candidate) = provider.pick(name, &candidates, &range) else {
        let wanted = |version: &pep440_rs::Version| spec.is_none_or(|s| s.contains(version));
        return none(provider.explain_none(name, wanted));
    };
    let kind = match candidate.kind {
        FileKind::Wheel { .. } => Kind::Wheel,
        FileKind::Sdist => Kind::Sdist,
    };
    let note = match provider.metadata_of(name, &candidate) {
        Ok((meta, dependency_note)) => {
            let followed = meta
                .requires_dist
                .into_iter()
                .filter(|_| !provider.no_deps());
            for child in followed {
                queue.push_back((child, name.to_string()));
            }
            dependency_note
        }
        Err(err) => Some(format!("dependencies not read: {err}")),
    };
    let (choice, avoid_build) = super::explain_choice(provider, input, name, &candidate);
    ResolvedPackage {
        choice,
        avoid_build,
        name: name.clone(),
        version: Some(candidate.version.clone()),
        kind,
        file: Some(candidate.file.clone()),
        requested: false,
        reason: None,
        note,
        required_by: Vec::new(),
    }
}
