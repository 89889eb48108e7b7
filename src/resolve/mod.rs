//! Resolution for one target, as pip would do it inside that image.
//!
//! pubgrub finds the solution; the [`provider`] makes every choice the way pip makes it (see
//! [`candidates`]). When there is no solution, a second, greedy pass still reports what each
//! package would get, so that one uninstallable package does not hide the rest.

pub mod candidates;
pub mod choice;
mod provider;
mod ranges;
mod salvage;
mod speculate;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::{MarkerEnvironment, PackageName, Requirement};
use pubgrub::{DefaultStringReporter, PubGrubError, Reporter};

use crate::index::{Index, IndexFile};
use crate::requirements::FormatControl;
use crate::tags::TagPriority;
use candidates::{Candidate, FileKind, FilePolicy};
use choice::{AvoidBuild, Choice};
pub use provider::{Pkg, Provider, ResolveError};

/// Everything about the request that is the same for every target.
#[derive(Debug, Clone, Default)]
pub struct Input {
    pub requirements: Vec<Requirement>,
    pub constraints: Vec<Requirement>,
    /// `name @ url` requirements: the only file considered for that name.
    pub direct: HashMap<PackageName, IndexFile>,
    pub pre: bool,
    pub prefer_binary: bool,
    pub format_control: FormatControl,
    /// Hash-checking mode: the allowed sha256 digests per project.
    pub allowed_hashes: Option<HashMap<PackageName, BTreeSet<String>>>,
    /// pip's `--no-deps`: the requirements are the whole install set (a lock file's packages),
    /// so dependencies are not followed. Metadata is still read, for Requires-Python.
    pub no_deps: bool,
    /// Files a lock file names for a project (with their URLs and hashes): used instead of the
    /// index's page for that project, as installers of the lock do.
    pub locked_files: HashMap<PackageName, Vec<IndexFile>>,
}

/// What differs between targets: tags, markers and the interpreter.
pub struct TargetEnv {
    pub tags: TagPriority,
    pub markers: MarkerEnvironment,
    pub python_full: Version,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Wheel,
    Sdist,
    None,
}

#[derive(Debug, Clone)]
pub struct ResolvedPackage {
    pub name: PackageName,
    pub version: Option<Version>,
    pub kind: Kind,
    pub file: Option<Arc<IndexFile>>,
    pub requested: bool,
    pub reason: Option<String>,
    /// How its dependencies were learned when not from wheel metadata (sdists).
    pub note: Option<String>,
    /// Who pulled it in: `requirements` for the user's own lines, else `package` or `package[extra]`.
    pub required_by: Vec<String>,
    /// Why its file was pip's choice here (absent for `none`).
    pub choice: Option<Choice>,
    /// For sdists: the pin that would make pip take an older release's wheel instead.
    pub avoid_build: Option<AvoidBuild>,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub ok: bool,
    pub error: Option<String>,
    /// The failure is ours, not the requirements': something could not be fetched or read.
    pub could_not_check: bool,
    pub packages: Vec<ResolvedPackage>,
}

impl Outcome {
    pub fn has_sdist(&self) -> bool {
        self.packages.iter().any(|p| p.kind == Kind::Sdist)
    }
}

/// How [`resolve_target`] runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct ResolveOptions {
    /// Only wheels, as pip's `--only-binary :all:`.
    pub binary_only: bool,
    /// Start reading the ELF files of each wheel the resolver picks, in the background, as soon
    /// as it picks it: their downloads then overlap the rest of the resolution instead of
    /// starting after it (cold, 6 targets: 0.08-0.11 s off the data-science list's 0.71 s,
    /// 0.02-0.06 s off the FastAPI example's 0.52 s). A wheel given up on when the resolver
    /// backtracks has been read
    /// for nothing; that costs bandwidth, never a wrong answer, since only the chosen files'
    /// analyses are looked up.
    pub inspect_picked_wheels: bool,
}

/// Resolve `input` for one target. Blocks: run it on a blocking thread of `runtime`.
pub fn resolve_target(
    input: &Input,
    index: &Arc<Index>,
    runtime: tokio::runtime::Handle,
    env: &TargetEnv,
    options: ResolveOptions,
) -> Outcome {
    let policy = FilePolicy {
        python_full: env.python_full.clone(),
        format_control: input.format_control.clone(),
        binary_only: options.binary_only,
        prefer_binary: input.prefer_binary,
        allowed_hashes: input.allowed_hashes.clone(),
    };
    // The binary-only resolution comes second and finds everything in the index's memo.
    let speculator = (!options.binary_only).then(|| {
        speculate::Speculator::new(speculate::Setup {
            index,
            runtime: runtime.clone(),
            tags: &env.tags,
            markers: &env.markers,
            policy: &policy,
            input,
        })
    });
    let mut provider = Provider::new(input, index, runtime, &env.tags, &env.markers, policy);
    provider.inspect_picked_wheels = options.inspect_picked_wheels;
    provider.speculator = speculator;
    match pubgrub::resolve(&provider, Pkg::Root, Provider::root_version()) {
        Ok(solution) => Outcome {
            ok: true,
            error: None,
            could_not_check: false,
            packages: packages_of(&provider, &solution, input),
        },
        Err(PubGrubError::NoSolution(mut tree)) => {
            tree.collapse_no_versions();
            Outcome {
                ok: false,
                error: Some(DefaultStringReporter::report(&tree)),
                could_not_check: false,
                packages: salvage::greedy(&provider, input),
            }
        }
        Err(PubGrubError::ErrorRetrievingDependencies {
            package,
            version,
            source,
        }) => failed(match package {
            Pkg::Root => format!("could not read your requirements' projects: {source}"),
            _ => format!("could not read the dependencies of {package} {version}: {source}"),
        }),
        Err(PubGrubError::ErrorChoosingVersion { package, source }) => {
            failed(format!("could not list the files of {package}: {source}"))
        }
        Err(PubGrubError::ErrorInShouldCancel(err)) => failed(err.to_string()),
    }
}

fn failed(error: String) -> Outcome {
    Outcome {
        ok: false,
        error: Some(error),
        could_not_check: true,
        packages: Vec::new(),
    }
}

fn packages_of(
    provider: &Provider,
    solution: &pubgrub::SelectedDependencies<Pkg, Version>,
    input: &Input,
) -> Vec<ResolvedPackage> {
    let parents = parents_in(provider, solution);
    let requested: BTreeSet<&PackageName> = input.requirements.iter().map(|r| &r.name).collect();
    let projects: BTreeMap<PackageName, Version> = provider::solution_projects(solution);
    projects
        .into_iter()
        .map(|(name, version)| {
            let key = (name.clone(), version.clone());
            let candidate = provider.chosen.borrow()[&key].clone();
            let (choice, avoid_build) = explain_choice(provider, input, &name, &candidate);
            ResolvedPackage {
                choice,
                avoid_build,
                kind: match candidate.kind {
                    FileKind::Wheel { .. } => Kind::Wheel,
                    FileKind::Sdist => Kind::Sdist,
                },
                file: Some(candidate.file),
                requested: requested.contains(&name),
                reason: None,
                note: provider.notes.borrow().get(&key).cloned(),
                required_by: parents.get(&name).cloned().unwrap_or_default(),
                version: Some(version),
                name,
            }
        })
        .collect()
}

/// Why pip chose `candidate` for `name`, and for an sdist which pin would avoid building it.
pub(crate) fn explain_choice(
    provider: &Provider,
    input: &Input,
    name: &PackageName,
    candidate: &Candidate,
) -> (Option<Choice>, Option<AvoidBuild>) {
    let Ok(candidates) = provider.candidates_of(name) else {
        return (None, None);
    };
    let allow_pre = input.pre || candidate.version.any_prerelease();
    let choice = choice::explain(&candidates, candidate, allow_pre);
    let own: Vec<&Requirement> = input
        .requirements
        .iter()
        .chain(&input.constraints)
        .filter(|r| &r.name == name && provider.applies(r))
        .collect();
    let avoid_build = choice::avoid_build(&candidates, candidate, &choice, allow_pre, &own);
    (Some(choice), avoid_build)
}

/// Invert the dependency edges of the solution: for each project, who requires it.
fn parents_in(
    provider: &Provider,
    solution: &pubgrub::SelectedDependencies<Pkg, Version>,
) -> HashMap<PackageName, Vec<String>> {
    let mut parents: HashMap<PackageName, Vec<String>> = HashMap::new();
    for (pkg, version) in solution.iter() {
        let edges = provider.edges.borrow();
        let Some(children) = edges.get(&(pkg.clone(), version.clone())) else {
            continue;
        };
        let label = match pkg {
            Pkg::Root => "requirements".to_string(),
            other => other.to_string(),
        };
        for child in children {
            let list = parents.entry(child.clone()).or_default();
            if !list.contains(&label) && pkg.name() != Some(child) {
                list.push(label.clone());
            }
        }
    }
    parents
}
