//! Checking every target: resolution, then the ELF files of the chosen wheels.

use std::sync::Arc;

use super::request::Request;
use crate::index::Index;
use crate::index::activity::Activity;
use crate::inspect::needs;
use crate::knowledge::Knowledge;
use crate::report::{self, TargetReport};
use crate::resolve::{self, TargetEnv};
use crate::tags::TagPriority;
use crate::target::Target;

/// Resolve every target concurrently; metadata fetched for one target serves all others, and
/// targets that resolve alike ([`resolves_alike`]: an image and its `-slim` variant) share one
/// resolution.
pub async fn check_all(
    targets: &[Target],
    request: &Request,
    index: &Arc<Index>,
    knowledge: &Arc<Knowledge>,
) -> Vec<TargetReport> {
    let request = Arc::new(request.clone());
    let activity = &index.http().stats.activity;
    Activity::add(&activity.targets_total, targets.len() as u64);
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (at, target) in targets.iter().enumerate() {
        match groups
            .iter_mut()
            .find(|group| resolves_alike(&targets[group[0]], target))
        {
            Some(group) => group.push(at),
            None => groups.push(vec![at]),
        }
    }
    let tasks: Vec<_> = groups
        .into_iter()
        .map(|group| {
            let members: Vec<Target> = group.iter().map(|&at| targets[at].clone()).collect();
            let request = Arc::clone(&request);
            let index = Arc::clone(index);
            let knowledge = Arc::clone(knowledge);
            let runtime = tokio::runtime::Handle::current();
            let task = tokio::task::spawn_blocking(move || {
                let resolution = resolve_for(&members, &request, &index, runtime.clone());
                members
                    .iter()
                    .map(|target| {
                        report_for(target, &resolution, &request, &index, &runtime, &knowledge)
                    })
                    .collect::<Vec<_>>()
            });
            (group, task)
        })
        .collect();
    let mut reports: Vec<Option<TargetReport>> = targets.iter().map(|_| None).collect();
    for (group, task) in tasks {
        let done = task.await.expect("a target's resolution panicked");
        for (at, report) in group.into_iter().zip(done) {
            reports[at] = Some(report);
        }
    }
    reports.into_iter().flatten().collect()
}

/// Whether two targets get the same resolution: the resolver sees a target only through its
/// tags (Python, C library and its version, architecture) and markers (Python's full version,
/// architecture).
fn resolves_alike(a: &Target, b: &Target) -> bool {
    a.arch == b.arch
        && a.image.python == b.image.python
        && a.image.libc == b.image.libc
        && a.python_full_version() == b.python_full_version()
}

/// One resolution, for targets that [`resolves_alike`].
struct Resolution {
    tags: Vec<crate::tags::Tag>,
    env: TargetEnv,
    outcome: resolve::Outcome,
    binary_only: Option<resolve::Outcome>,
}

fn resolve_for(
    targets: &[Target],
    request: &Request,
    index: &Arc<Index>,
    runtime: tokio::runtime::Handle,
) -> Resolution {
    let target = &targets[0];
    let tags = target.tags();
    let env = TargetEnv {
        tags: TagPriority::new(&tags),
        markers: target.marker_env(),
        python_full: target.python_full_version(),
    };
    let options = resolve::ResolveOptions {
        binary_only: false,
        inspect_picked_wheels: true,
    };
    let outcome = resolve::resolve_target(&request.input, index, runtime.clone(), &env, options);
    // With no sdist in the solution, pip's binary-only resolution is the same one. Its wheels
    // are not inspected: the report reads only the first resolution's.
    let binary_only = match (outcome.ok, outcome.has_sdist()) {
        (_, true) => Some(resolve::resolve_target(
            &request.input,
            index,
            runtime,
            &env,
            resolve::ResolveOptions {
                binary_only: true,
                inspect_picked_wheels: false,
            },
        )),
        (true, false) => Some(outcome.clone()),
        (false, false) => None,
    };
    Activity::add(
        &index.http().stats.activity.targets_resolved,
        targets.len() as u64,
    );
    for target in targets {
        crate::diag::debug(format_args!("{}: resolved", target.label()));
    }
    Resolution {
        tags,
        env,
        outcome,
        binary_only,
    }
}

fn report_for(
    target: &Target,
    resolution: &Resolution,
    request: &Request,
    index: &Arc<Index>,
    runtime: &tokio::runtime::Handle,
    knowledge: &Knowledge,
) -> TargetReport {
    let mut outcome = resolution.outcome.clone();
    if !request.refusals.is_empty() {
        outcome.ok = false;
        outcome.error = Some(format!(
            "pip would refuse to install: {}",
            request.refusals.join("; ")
        ));
    }
    let inspection = inspect_wheels(&outcome, index, runtime, target);
    let sdists = super::judge::sdist_builds(&outcome, index, runtime);
    let mut report = TargetReport::new(
        target,
        &resolution.tags,
        outcome,
        resolution.binary_only.clone(),
        request.unresolved.clone(),
    );
    report.add_inspection(inspection);
    for package in &mut report.packages {
        package.sha256_verified |= sdists
            .iter()
            .any(|s| s.sha256_verified && s.name == package.name);
    }
    report::instead::annotate_twins(&mut report, &resolution.env.tags, &knowledge.twins);
    super::judge::judge_target(&mut report, target, &sdists, knowledge);
    report
}

/// Read the ELF files of every chosen wheel (each wheel once for all targets) and work out what
/// the install set needs from the image.
fn inspect_wheels(
    outcome: &resolve::Outcome,
    index: &Arc<Index>,
    runtime: &tokio::runtime::Handle,
    target: &Target,
) -> report::Inspection {
    let wheels: Vec<&resolve::ResolvedPackage> = outcome
        .packages
        .iter()
        .filter(|p| p.kind == resolve::Kind::Wheel && p.file.is_some())
        .collect();
    let fetched = runtime.block_on(futures::future::join_all(wheels.iter().map(
        |package| async {
            let file = package.file.as_ref().expect("wheels have files");
            let (head, analysis, verified) = futures::join!(
                index.wheel_summary(file),
                index.wheel_elf(file),
                verify(index, file)
            );
            // A wheel whose hash differs is not checked, whatever its ELF files said.
            match verified {
                Err(err) => (head, Err(err), false),
                Ok(verified) => (head, analysis, verified),
            }
        },
    )));
    let verified: std::collections::BTreeSet<String> = wheels
        .iter()
        .zip(&fetched)
        .filter(|(_, (_, _, verified))| *verified)
        .map(|(package, _)| package.name.to_string())
        .collect();
    let fetched: Vec<_> = fetched.into_iter().map(|(h, a, _)| (h, a)).collect();
    let names: Vec<String> = wheels.iter().map(|p| p.name.to_string()).collect();
    let inputs: Vec<needs::WheelInput> = fetched
        .iter()
        .zip(&names)
        .map(|((head, analysis), name)| needs::WheelInput {
            package: name,
            file_names: head
                .as_ref()
                .map(|h| h.names.iter().map(String::as_str).collect())
                .unwrap_or_default(),
            analysis: analysis
                .as_ref()
                .map(|a| a.as_ref())
                .map_err(|e| e.to_string()),
        })
        .collect();
    let libc_sonames = crate::knowledge::libc::LibcSonames::load();
    let reports = needs::needs(&inputs, target.image.libc, target.arch, &libc_sonames);
    report::Inspection {
        elf: names.into_iter().zip(reports).collect(),
        sha256_verified: verified,
        bytes_fetched: fetched
            .iter()
            .filter_map(|(_, a)| a.as_ref().ok())
            .map(|a| a.bytes_fetched)
            .sum(),
        wheels_total: fetched
            .iter()
            .filter_map(|(h, _)| h.as_ref().ok())
            .map(|h| h.size)
            .sum(),
        wheels_installed: fetched
            .iter()
            .filter_map(|(h, _)| h.as_ref().ok())
            .map(|h| h.installed)
            .sum(),
    }
}

/// With `--verify-hashes`, whether the wheel's whole-file sha256 matched; without, `false`.
async fn verify(
    index: &Index,
    file: &crate::index::simple::IndexFile,
) -> Result<bool, crate::index::IndexError> {
    if !index.verifies_hashes() {
        return Ok(false);
    }
    index.verify_wheel(file).await.map(|v| *v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::catalog::Catalog;
    use crate::tags::Arch;

    fn target(tag: &str, arch: Arch) -> Target {
        let catalog = Catalog::load().unwrap();
        Target::checked(catalog.resolve(tag, None).unwrap(), arch).unwrap()
    }

    #[test]
    fn an_image_and_its_slim_variant_resolve_alike_and_nothing_else_does() {
        let slim = target("python:3.12-slim-trixie", Arch::X86_64);
        let full = target("python:3.12-trixie", Arch::X86_64);
        assert_eq!(slim.tags(), full.tags(), "the premise: same tags");
        assert!(resolves_alike(&slim, &full));
        let unlike = [
            target("python:3.12-slim-trixie", Arch::Aarch64),
            target("python:3.12-alpine", Arch::X86_64),
            target("python:3.12-slim-bookworm", Arch::X86_64),
            target("python:3.13-slim-trixie", Arch::X86_64),
        ];
        for other in &unlike {
            assert!(!resolves_alike(&slim, other), "{}", other.label());
            assert!(
                other.tags() != slim.tags() || other.marker_env() != slim.marker_env(),
                "{} resolves like slim but is not grouped with it",
                other.label()
            );
        }
    }
}
