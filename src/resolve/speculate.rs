//! Walking the dependency graph ahead of the resolver.
//!
//! pubgrub settles one package at a time and asks for a package's dependencies only when it
//! settles it, so a dependency's page was fetched only then, however long ago its parent's
//! metadata had arrived (web-app list, cold: `amqp`'s page was asked for 0.19 s after
//! `kombu`'s metadata, while the resolver waited on other packages). The speculator walks the
//! graph as fast as the network answers: for each requirement it fetches the page, takes the
//! file pip would most likely pick (the best file of the newest version the requirement
//! allows), fetches its metadata, and goes on with the dependencies that apply on the target. The
//! network then follows the depth of the graph, whatever order the resolver settles packages in.
//! ELF members are not read on a guess: the resolver starts that once it settles a version.
//!
//! A wrong guess costs requests, never an answer: the resolver makes every choice itself and
//! only finds what the speculator fetched already in the index's memo. What is not cached
//! waits until the run has sent a request of its own: a warm run, whose every answer is cached,
//! sends none (a guess the cold run had not followed before it ended was fetched by the warm
//! run: tzdata's page and wheel head on the 30-package list, in 3 of 6 warm runs). The
//! candidates it evaluates for a page are shared with the resolver, so no page is evaluated
//! twice.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};

use super::candidates::{Candidate, Candidates, FilePolicy};
use crate::index::Index;
use crate::tags::TagPriority;

pub struct Speculator {
    index: Arc<Index>,
    runtime: tokio::runtime::Handle,
    tags: TagPriority,
    markers: MarkerEnvironment,
    policy: FilePolicy,
    /// `--pre`: pre-releases are as likely as final releases.
    pre: bool,
    /// `--no-deps`: only the requirements themselves.
    no_deps: bool,
    /// Projects whose files do not come from the index (direct URLs, lock files): left to the
    /// resolver.
    not_indexed: HashSet<PackageName>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Each project is followed once per set of extras.
    followed: HashSet<(PackageName, Vec<ExtraName>)>,
    candidates: HashMap<PackageName, Arc<Candidates>>,
}

/// What [`Speculator::new`] needs of the resolution.
pub struct Setup<'a> {
    pub index: &'a Arc<Index>,
    pub runtime: tokio::runtime::Handle,
    pub tags: &'a TagPriority,
    pub markers: &'a MarkerEnvironment,
    pub policy: &'a FilePolicy,
    pub input: &'a super::Input,
}

impl Speculator {
    pub fn new(setup: Setup<'_>) -> Arc<Self> {
        let input = setup.input;
        let not_indexed = input
            .direct
            .keys()
            .chain(input.locked_files.keys())
            .cloned()
            .collect();
        Arc::new(Speculator {
            index: Arc::clone(setup.index),
            runtime: setup.runtime,
            tags: setup.tags.clone(),
            markers: setup.markers.clone(),
            policy: setup.policy.clone(),
            pre: input.pre,
            no_deps: input.no_deps,
            not_indexed,
            state: Mutex::default(),
        })
    }

    /// Start following `requirement` (already known to apply on the target).
    pub fn follow(self: &Arc<Self>, requirement: &Requirement) {
        let mut extras = requirement.extras.clone();
        extras.sort();
        let key = (requirement.name.clone(), extras);
        if self.not_indexed.contains(&key.0) || !self.lock().followed.insert(key) {
            return;
        }
        let this = Arc::clone(self);
        let requirement = requirement.clone();
        self.runtime
            .spawn(async move { this.walk(requirement).await });
    }

    /// The candidates evaluated for `name`, if its page has been read.
    pub fn candidates(&self, name: &PackageName) -> Option<Arc<Candidates>> {
        self.lock().candidates.get(name).cloned()
    }

    /// Keep `candidates` for `name` unless some are kept already; returns the kept ones, so
    /// that the resolver and the speculator share one evaluation.
    pub fn remember(&self, name: &PackageName, candidates: Arc<Candidates>) -> Arc<Candidates> {
        Arc::clone(
            self.lock()
                .candidates
                .entry(name.clone())
                .or_insert(candidates),
        )
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn walk(self: Arc<Self>, requirement: Requirement) {
        let name = &requirement.name;
        let candidates = match self.candidates(name) {
            Some(candidates) => candidates,
            None => {
                if !self.index.project_is_local(name) {
                    self.index.http().network_in_use().await;
                }
                let Ok(files) = self.index.project(name).await else {
                    return;
                };
                let evaluated = Candidates::evaluate(name, &files, &self.tags, &self.policy);
                self.remember(name, Arc::new(evaluated))
            }
        };
        let Some(candidate) = self.likely(&candidates, &requirement) else {
            return;
        };
        if !candidate.is_wheel() {
            return;
        }
        if !self.index.core_metadata_is_local(&candidate.file) {
            self.index.http().network_in_use().await;
        }
        let Ok(metadata) = self.index.wheel_core_metadata(&candidate.file).await else {
            return;
        };
        if self.no_deps {
            return;
        }
        for dependency in &metadata.requires_dist {
            if dependency.evaluate_markers(&self.markers, &requirement.extras) {
                self.follow(dependency);
            }
        }
    }

    /// The file pip would most likely pick for `requirement`: the first in pip's order whose
    /// version the specifier allows, not yanked, and not a pre-release unless allowed (by
    /// `--pre`, by the specifier, or because nothing else matches).
    fn likely<'c>(
        &self,
        candidates: &'c Candidates,
        requirement: &Requirement,
    ) -> Option<&'c Candidate> {
        let spec = match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(spec)) => Some(spec),
            Some(VersionOrUrl::Url(_)) => return None,
            None => None,
        };
        let allowed =
            |c: &&Candidate| !c.is_yanked() && spec.is_none_or(|spec| spec.contains(&c.version));
        let mentions_pre =
            spec.is_some_and(|spec| spec.iter().any(|s| s.version().any_prerelease()));
        let mut matching = candidates.ordered.iter().filter(allowed);
        if self.pre || mentions_pre {
            return matching.next();
        }
        let first = matching.clone().next()?;
        matching
            .find(|c| !c.version.any_prerelease())
            .or(Some(first))
    }
}
