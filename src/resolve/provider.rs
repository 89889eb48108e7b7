//! The pubgrub dependency provider for one target: pip's choice of version and file, dependencies
//! from core metadata evaluated with the target's markers.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::sync::Arc;

use futures::StreamExt;

use pep440_rs::{Operator, Version};
use pep508_rs::{ExtraName, MarkerEnvironment, PackageName, Requirement, VersionOrUrl};
use pubgrub::{
    Dependencies, DependencyConstraints, DependencyProvider, PackageResolutionStatistics, Ranges,
};

use super::candidates::{Candidate, Candidates, FilePolicy};
use super::speculate::Speculator;
use super::{Input, ranges};
use crate::index::{Index, IndexError, ProjectFile};
use crate::metadata::{self, CoreMetadata};
use crate::tags::TagPriority;

/// A node of the resolution: the user's requirements, a project, or a project with an extra
/// (which depends on the project at the same version, the usual way to model extras).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pkg {
    Root,
    Dist(PackageName),
    Extra(PackageName, ExtraName),
}

impl Pkg {
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            Pkg::Root => None,
            Pkg::Dist(name) | Pkg::Extra(name, _) => Some(name),
        }
    }
}

impl fmt::Display for Pkg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Pkg::Root => f.write_str("your requirements"),
            Pkg::Dist(name) => write!(f, "{name}"),
            Pkg::Extra(name, extra) => write!(f, "{name}[{extra}]"),
        }
    }
}

/// An error that stops the resolution: we could not learn something we need, so any answer
/// would be a guess.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ResolveError(pub String);

impl From<IndexError> for ResolveError {
    fn from(err: IndexError) -> Self {
        ResolveError(err.to_string())
    }
}

/// What we learned about a project's specifiers, for pip's pre-release and yanked rules.
#[derive(Debug, Default, Clone)]
struct SpecSummary {
    any_specifier: bool,
    mentions_prerelease: bool,
    pinned: bool,
}

/// The most releases of one project whose metadata is fetched ahead of a resolver walking down
/// its releases ([`Provider::prefetch_if_backtracking`]).
const MAX_BACKTRACK_PREFETCH: usize = 32;

/// Dependencies being collected, merged per package before they are handed to pubgrub.
type Deps = BTreeMap<Pkg, Ranges<Version>>;

/// How the dependencies of a chosen file were learned; `None` means from wheel metadata.
pub type DependencyNote = Option<String>;

pub struct Provider<'a> {
    input: &'a Input,
    index: &'a Arc<Index>,
    runtime: tokio::runtime::Handle,
    tags: &'a TagPriority,
    env: &'a MarkerEnvironment,
    policy: FilePolicy,
    /// See [`super::ResolveOptions::inspect_picked_wheels`].
    pub(super) inspect_picked_wheels: bool,
    /// Walks the graph ahead of the resolver; shares the candidates it evaluates.
    pub(super) speculator: Option<Arc<Speculator>>,
    candidates: RefCell<HashMap<PackageName, Arc<Candidates>>>,
    missing: RefCell<HashMap<PackageName, String>>,
    specs: RefCell<HashMap<PackageName, SpecSummary>>,
    first_seen: RefCell<HashMap<PackageName, usize>>,
    /// The versions of each project chosen so far: more than one means the resolver is walking
    /// down its releases ([`Self::prefetch_if_backtracking`]).
    tried: RefCell<HashMap<PackageName, BTreeSet<Version>>>,
    pub(super) chosen: RefCell<HashMap<(PackageName, Version), Candidate>>,
    pub(super) edges: RefCell<HashMap<(Pkg, Version), Vec<PackageName>>>,
    pub(super) notes: RefCell<HashMap<(PackageName, Version), String>>,
}

impl<'a> Provider<'a> {
    pub fn new(
        input: &'a Input,
        index: &'a Arc<Index>,
        runtime: tokio::runtime::Handle,
        tags: &'a TagPriority,
        env: &'a MarkerEnvironment,
        policy: FilePolicy,
    ) -> Self {
        Provider {
            input,
            index,
            runtime,
            tags,
            env,
            policy,
            inspect_picked_wheels: false,
            speculator: None,
            candidates: RefCell::default(),
            missing: RefCell::default(),
            specs: RefCell::default(),
            first_seen: RefCell::default(),
            tried: RefCell::default(),
            chosen: RefCell::default(),
            edges: RefCell::default(),
            notes: RefCell::default(),
        }
    }

    pub fn root_version() -> Version {
        Version::new([0])
    }

    /// `--no-deps`: the requirements are the whole install set.
    pub fn no_deps(&self) -> bool {
        self.input.no_deps
    }

    pub fn python(&self) -> &Version {
        &self.policy.python_full
    }

    /// The usable files of a project on this target, fetching its page on first use.
    pub fn candidates_of(&self, name: &PackageName) -> Result<Arc<Candidates>, ResolveError> {
        self.load_pages(std::slice::from_ref(name), |_| {})?;
        Ok(self.candidates.borrow()[name].clone())
    }

    /// Why a project has no usable file here among the versions `wanted` accepts.
    pub fn explain_none(&self, name: &PackageName, wanted: impl Fn(&Version) -> bool) -> String {
        if let Some(reason) = self.missing.borrow().get(name) {
            return reason.clone();
        }
        match self.candidates.borrow().get(name) {
            Some(candidates) => candidates.explain_none(self.python(), wanted),
            None => "no release matches the requirement".into(),
        }
    }

    /// Fetch the pages of `names` not loaded yet, all at once (independent requests overlap);
    /// `on_loaded` runs as each one arrives, so that work depending on one page does not wait
    /// for the slowest.
    fn load_pages(
        &self,
        names: &[PackageName],
        on_loaded: impl Fn(&PackageName),
    ) -> Result<(), ResolveError> {
        let wanted: Vec<&PackageName> = names
            .iter()
            .filter(|name| !self.candidates.borrow().contains_key(*name))
            .collect();
        if wanted.is_empty() {
            return Ok(());
        }
        self.runtime.block_on(async {
            let mut pages: futures::stream::FuturesUnordered<_> = wanted
                .into_iter()
                .map(|name| async move { (name, self.files_of(name).await) })
                .collect();
            while let Some((name, page)) = pages.next().await {
                self.add_page(name, page)?;
                on_loaded(name);
            }
            Ok(())
        })
    }

    fn add_page(
        &self,
        name: &PackageName,
        page: Result<Arc<Vec<ProjectFile>>, IndexError>,
    ) -> Result<(), ResolveError> {
        let files = match page {
            Ok(files) => files,
            Err(missing @ IndexError::NoSuchProject { .. }) => {
                self.missing
                    .borrow_mut()
                    .insert(name.clone(), missing.to_string());
                Arc::new(Vec::new())
            }
            Err(err) => return Err(err.into()),
        };
        let evaluate = || Arc::new(Candidates::evaluate(name, &files, self.tags, &self.policy));
        let candidates = match &self.speculator {
            Some(speculator) => speculator
                .candidates(name)
                .unwrap_or_else(|| speculator.remember(name, evaluate())),
            None => evaluate(),
        };
        self.candidates
            .borrow_mut()
            .insert(name.clone(), candidates);
        Ok(())
    }

    /// A project's files: its direct URL when the user gave one, else the indexes' files.
    async fn files_of(&self, name: &PackageName) -> Result<Arc<Vec<ProjectFile>>, IndexError> {
        if let Some(file) = self.input.direct.get(name) {
            return Ok(Arc::new(ProjectFile::parse_all(name, vec![file.clone()])));
        }
        match self.input.locked_files.get(name) {
            Some(files) => Ok(Arc::new(ProjectFile::parse_all(name, files.clone()))),
            None => self.index.project(name).await,
        }
    }

    /// Whether a requirement applies on this target (its markers, no extras active).
    pub(super) fn applies(&self, requirement: &Requirement) -> bool {
        requirement.evaluate_markers(self.env, &[])
    }

    fn note_spec(&self, requirement: &Requirement) {
        let mut specs = self.specs.borrow_mut();
        let summary = specs.entry(requirement.name.clone()).or_default();
        let order = self.first_seen.borrow().len();
        self.first_seen
            .borrow_mut()
            .entry(requirement.name.clone())
            .or_insert(order);
        match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(spec)) if !spec.is_empty() => {
                summary.any_specifier = true;
                for one in spec.iter() {
                    let operator = *one.operator();
                    let counts_for_pre =
                        !matches!(operator, Operator::NotEqual | Operator::NotEqualStar);
                    summary.mentions_prerelease |= counts_for_pre && one.version().any_prerelease();
                    summary.pinned |= matches!(operator, Operator::Equal | Operator::ExactEqual);
                }
            }
            Some(VersionOrUrl::Url(_)) => summary.pinned = true,
            _ => {}
        }
    }

    /// pip's choice among the files in `range`: the first in pip's order that passes the
    /// pre-release rule (packaging's `SpecifierSet.filter`) and the yanked rule (PEP 592).
    pub(super) fn pick(
        &self,
        name: &PackageName,
        candidates: &Candidates,
        range: &Ranges<Version>,
    ) -> Option<Candidate> {
        self.eligible(name, candidates, range)
            .first()
            .map(|c| (*c).clone())
    }

    /// The files pip would try in `range`, best first: what [`Self::pick`] takes the first of.
    fn eligible<'c>(
        &self,
        name: &PackageName,
        candidates: &'c Candidates,
        range: &Ranges<Version>,
    ) -> Vec<&'c Candidate> {
        let in_range: Vec<&Candidate> = candidates
            .ordered
            .iter()
            .filter(|c| range.contains(&c.version))
            .collect();
        let allow_pre = self.prereleases_allowed(name, &in_range);
        let in_range: Vec<&Candidate> = in_range
            .into_iter()
            .filter(|c| allow_pre || !c.version.any_prerelease())
            .collect();
        let pinned = self.specs.borrow().get(name).is_some_and(|s| s.pinned);
        let allow_yanked = pinned && in_range.iter().all(|c| c.is_yanked());
        in_range
            .into_iter()
            .filter(|c| allow_yanked || !c.is_yanked())
            .collect()
    }

    /// `--pre`, or a specifier that names a pre-release, allows them; an empty specifier allows
    /// them only when no final release exists; any other specifier never does.
    fn prereleases_allowed(&self, name: &PackageName, in_range: &[&Candidate]) -> bool {
        let summary = self.specs.borrow().get(name).cloned().unwrap_or_default();
        if self.input.pre || summary.mentions_prerelease {
            return true;
        }
        if summary.any_specifier {
            return false;
        }
        in_range.iter().all(|c| c.version.any_prerelease())
    }

    /// Core metadata of a chosen file, and a note when it is not the wheel's own metadata.
    pub(super) fn metadata_of(
        &self,
        name: &PackageName,
        candidate: &Candidate,
    ) -> Result<(CoreMetadata, DependencyNote), ResolveError> {
        if candidate.is_wheel() {
            // The version is settled here: its ELF members are read beside the metadata (they
            // need only the wheel's directory). Not on a guess, unless pinned: the speculator's
            // and the prefetch's guesses are wrong often enough in large sets (torch,
            // tensorflow-cpu, pyarrow, scikit-learn: 656 MB downloaded instead of 492 MB) to
            // break the download budget. Nor while the resolver walks down the project's
            // releases: the next one is likely given up too, and the one finally chosen is read
            // after the resolution.
            if self.inspect_picked_wheels && !self.is_walking_down(name) {
                let index = Arc::clone(self.index);
                let file = Arc::clone(&candidate.file);
                self.runtime.spawn(async move {
                    let _ = index.wheel_elf(&file).await;
                });
            }
            let parsed = self
                .runtime
                .block_on(self.index.wheel_core_metadata(&candidate.file))?;
            return Ok((CoreMetadata::clone(&parsed), None));
        }
        let files = self
            .runtime
            .block_on(self.index.sdist_files(&candidate.file))?;
        let pkg_info = files.pkg_info.as_deref().unwrap_or_default();
        let mut meta = CoreMetadata::parse(pkg_info.as_bytes())
            .map_err(|e| ResolveError(format!("{} PKG-INFO: {e}", candidate.file.filename)))?;
        let note = if meta.has_static_requirements() {
            None
        } else if let Some(requires) = &files.requires_txt {
            meta.requires_dist = metadata::parse_requires_txt(requires).0;
            Some("dependencies read from the sdist's egg-info/requires.txt".to_string())
        } else if files.has_egg_info {
            meta.requires_dist.clear();
            Some("no dependencies per the sdist's egg-info".to_string())
        } else if !meta.requires_dist.is_empty() {
            Some(format!(
                "dependencies read from PKG-INFO (metadata {}), which a build may change",
                meta.metadata_version
            ))
        } else {
            Some(
                "dependencies unknown: the sdist does not state them without running its build"
                    .to_string(),
            )
        };
        Ok((meta, note))
    }

    /// The constraint of one requirement on a project, as a range over its real versions.
    fn range_of(&self, requirement: &Requirement) -> Ranges<Version> {
        let Some(VersionOrUrl::VersionSpecifier(spec)) = &requirement.version_or_url else {
            return Ranges::full();
        };
        let candidates = self.candidates.borrow();
        ranges::matching(candidates[&requirement.name].versions(), Some(spec))
    }

    /// Add the requirements that apply on this target (markers, with `extras` active) to `deps`.
    fn add_requirements<'r>(
        &self,
        requirements: impl IntoIterator<Item = &'r Requirement>,
        extras: &[ExtraName],
        deps: &mut Deps,
    ) -> Result<Vec<PackageName>, ResolveError> {
        let active: Vec<&Requirement> = requirements
            .into_iter()
            .filter(|r| r.evaluate_markers(self.env, extras))
            .collect();
        let names: Vec<PackageName> = active.iter().map(|r| r.name.clone()).collect();
        let constraint_names = self.input.constraints.iter().map(|c| c.name.clone());
        let mut to_load = names.clone();
        to_load.extend(constraint_names.filter(|n| names.contains(n)));
        // Noted in the file's order before any page arrives (pip's tie-break follows it), so a
        // prefetch started by an early page picks as the resolver will.
        for requirement in &active {
            self.note_spec(requirement);
            self.note_constraints(&requirement.name);
            if let Some(speculator) = &self.speculator {
                speculator.follow(requirement);
            }
        }
        let loaded = |name: &PackageName| {
            let range = active
                .iter()
                .filter(|r| &r.name == name)
                .fold(self.constraint_range(name), |range, r| {
                    range.intersection(&self.range_of(r))
                });
            self.prefetch_one(name, &range);
        };
        self.load_pages(&to_load, loaded)?;
        for requirement in active {
            let mut range = self
                .range_of(requirement)
                .intersection(&self.constraint_range(&requirement.name));
            let dist = Pkg::Dist(requirement.name.clone());
            if let Some(existing) = deps.get(&dist) {
                range = range.intersection(existing);
            }
            for extra in &requirement.extras {
                let key = Pkg::Extra(requirement.name.clone(), extra.clone());
                let merged = deps
                    .get(&key)
                    .map_or(range.clone(), |r| r.intersection(&range));
                deps.insert(key, merged);
            }
            deps.insert(dist, range);
        }
        self.prefetch(deps);
        Ok(names)
    }

    /// The constraints (`-c`) on a project that apply on this target.
    fn constraints_on<'s>(
        &'s self,
        name: &'s PackageName,
    ) -> impl Iterator<Item = &'s Requirement> {
        self.input
            .constraints
            .iter()
            .filter(move |c| &c.name == name && c.evaluate_markers(self.env, &[]))
    }

    fn note_constraints(&self, name: &PackageName) {
        self.constraints_on(name).for_each(|c| self.note_spec(c));
    }

    /// Constraints narrow a project's versions wherever it is required.
    fn constraint_range(&self, name: &PackageName) -> Ranges<Version> {
        self.constraints_on(name).fold(Ranges::full(), |range, c| {
            range.intersection(&self.range_of(c))
        })
    }

    /// Start fetching the metadata of the file each new dependency will most likely get, so that
    /// the network follows the depth of the graph rather than the number of packages.
    fn prefetch(&self, deps: &Deps) {
        for (pkg, range) in deps {
            if let Pkg::Dist(name) = pkg {
                self.prefetch_one(name, range);
            }
        }
    }

    /// Start fetching the metadata of the file `name` will most likely get in `range`, and its
    /// ELF members when `range` allows one version only (a pin): then the guess is the choice.
    fn prefetch_one(&self, name: &PackageName, range: &Ranges<Version>) {
        let Some(candidates) = self.candidates.borrow().get(name).cloned() else {
            return;
        };
        let Some(candidate) = self.pick(name, &candidates, range) else {
            return;
        };
        let index = Arc::clone(self.index);
        let file = Arc::clone(&candidate.file);
        let is_wheel = candidate.is_wheel();
        let inspect = is_wheel && self.inspect_picked_wheels && range.as_singleton().is_some();
        self.runtime.spawn(async move {
            if inspect {
                let _ = futures::join!(index.wheel_metadata(&file), index.wheel_elf(&file));
            } else if is_wheel {
                let _ = index.wheel_metadata(&file).await;
            } else {
                let _ = index.sdist_files(&file).await;
            }
        });
    }

    /// Once the resolver has given up a version of `name` for another, it is likely walking down
    /// the project's releases, each waiting for the metadata of the last: a binary-only
    /// resolution of scrapy for Alpine, where no release of zope.interface has a musl wheel,
    /// tried 70 releases of scrapy and 20 of twisted, one round trip (60-90 ms) each. So the
    /// metadata of the next releases in `eligible` (pip's order, the chosen one first) is
    /// fetched ahead of it, more the longer the walk: 2, 4, 8... up to
    /// [`MAX_BACKTRACK_PREFETCH`]. A release given up on later was read for nothing; that costs
    /// a request, never a wrong answer. Wheels only: an sdist may be downloaded whole.
    fn prefetch_if_backtracking(&self, name: &PackageName, eligible: &[&Candidate]) {
        let Some(chosen) = eligible.first() else {
            return;
        };
        let walked = {
            let mut tried = self.tried.borrow_mut();
            let versions = tried.entry(name.clone()).or_default();
            versions.insert(chosen.version.clone());
            versions.len()
        };
        if walked < 2 {
            return;
        }
        let ahead = (1usize << (walked - 1).min(16)).min(MAX_BACKTRACK_PREFETCH);
        let mut last = &chosen.version;
        let next_releases = eligible.iter().filter(|c| {
            let first_of_release = c.version != *last;
            last = &c.version;
            first_of_release
        });
        for candidate in next_releases.take(ahead).filter(|c| c.is_wheel()) {
            let index = Arc::clone(self.index);
            let file = Arc::clone(&candidate.file);
            self.runtime.spawn(async move {
                let _ = index.wheel_metadata(&file).await;
            });
        }
    }

    fn is_walking_down(&self, name: &PackageName) -> bool {
        self.tried.borrow().get(name).is_some_and(|v| v.len() > 1)
    }

    fn dependencies_of(
        &self,
        pkg: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Ranges<Version>, String>, ResolveError> {
        let mut deps = Deps::new();
        let names = match pkg {
            Pkg::Root => {
                let roots = self.input.requirements.iter();
                self.add_requirements(roots, &[], &mut deps)?
            }
            Pkg::Dist(name) | Pkg::Extra(name, _) => {
                let candidate = self.chosen.borrow()[&(name.clone(), version.clone())].clone();
                let (meta, note) = self.metadata_of(name, &candidate)?;
                if let Some(reason) = self.unusable_metadata(name, version, &meta) {
                    return Ok(Dependencies::Unavailable(reason));
                }
                if let Some(note) = note {
                    self.notes
                        .borrow_mut()
                        .insert((name.clone(), version.clone()), note);
                }
                let extras: Vec<ExtraName> = match pkg {
                    Pkg::Extra(_, extra) => vec![extra.clone()],
                    _ => Vec::new(),
                };
                let own = meta
                    .requires_dist
                    .iter()
                    .filter(|_| !self.input.no_deps)
                    .filter(|r| &r.name != name || !r.extras.is_empty());
                let names = self.add_requirements(own, &extras, &mut deps)?;
                if let Pkg::Extra(..) = pkg {
                    deps.insert(Pkg::Dist(name.clone()), Ranges::singleton(version.clone()));
                }
                names
            }
        };
        self.edges
            .borrow_mut()
            .insert((pkg.clone(), version.clone()), names);
        Ok(Dependencies::Available(DependencyConstraints::from_iter(
            deps,
        )))
    }

    /// pip drops a candidate whose metadata disagrees with its file name or excludes this Python.
    fn unusable_metadata(
        &self,
        name: &PackageName,
        version: &Version,
        meta: &CoreMetadata,
    ) -> Option<String> {
        if &meta.name != name || meta.version != *version {
            return Some(format!(
                "its metadata says {} {}, not {name} {version}",
                meta.name, meta.version
            ));
        }
        let spec = meta.requires_python.as_ref()?;
        (!spec.contains(self.python())).then(|| format!("it requires Python {spec}"))
    }

    /// Conflicts and the user's own order decide which package pubgrub settles first, as pip's
    /// `get_preference` prefers backtracking causes, pins and the order of the requirements file.
    fn priority_of(&self, pkg: &Pkg, stats: &PackageResolutionStatistics) -> Priority {
        let Some(name) = pkg.name() else {
            return Priority {
                root: true,
                conflicts: 0,
                pinned: true,
                order: std::cmp::Reverse(0),
            };
        };
        let pinned = self.specs.borrow().get(name).is_some_and(|s| s.pinned);
        let order = self
            .first_seen
            .borrow()
            .get(name)
            .copied()
            .unwrap_or(usize::MAX);
        Priority {
            root: false,
            conflicts: stats.conflict_count(),
            pinned,
            order: std::cmp::Reverse(order),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Priority {
    root: bool,
    conflicts: u32,
    pinned: bool,
    order: std::cmp::Reverse<usize>,
}

impl DependencyProvider for Provider<'_> {
    type P = Pkg;
    type V = Version;
    type VS = Ranges<Version>;
    type M = String;
    type Priority = Priority;
    type Err = ResolveError;

    fn prioritize(
        &self,
        package: &Pkg,
        _range: &Ranges<Version>,
        stats: &PackageResolutionStatistics,
    ) -> Priority {
        self.priority_of(package, stats)
    }

    fn choose_version(
        &self,
        package: &Pkg,
        range: &Ranges<Version>,
    ) -> Result<Option<Version>, ResolveError> {
        let Some(name) = package.name() else {
            return Ok(Some(Self::root_version()));
        };
        let candidates = self.candidates_of(name)?;
        let eligible = self.eligible(name, &candidates, range);
        let Some(candidate) = eligible.first().map(|c| (*c).clone()) else {
            return Ok(None);
        };
        self.prefetch_if_backtracking(name, &eligible);
        let version = candidate.version.clone();
        self.chosen
            .borrow_mut()
            .entry((name.clone(), version.clone()))
            .or_insert(candidate);
        Ok(Some(version))
    }

    fn get_dependencies(
        &self,
        package: &Pkg,
        version: &Version,
    ) -> Result<Dependencies<Pkg, Ranges<Version>, String>, ResolveError> {
        self.dependencies_of(package, version)
    }
}

/// For reports: the chosen version of every project in a solution, in name order.
pub fn solution_projects(
    solution: &pubgrub::SelectedDependencies<Pkg, Version>,
) -> BTreeMap<PackageName, Version> {
    solution
        .iter()
        .filter_map(|(pkg, version)| match pkg {
            Pkg::Dist(name) => Some((name.clone(), version.clone())),
            _ => None,
        })
        .collect()
}
