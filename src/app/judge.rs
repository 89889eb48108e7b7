//! The verdict stage of one target: what it lacks, what to add, how big it gets, and where its
//! source builds would happen.

use std::sync::Arc;

use crate::index::Index;
use crate::knowledge::Knowledge;
use crate::knowledge::catalog::{ImageEntry, Variant};
use crate::report::{Builder, TargetReport};
use crate::resolve::{Kind, Outcome};
use crate::target::Target;
use crate::verdict::{Judge, SdistBuild, distro_of};

/// The sdists a target builds, with the build requirements their `pyproject.toml` states (read
/// from the archive the resolver already fetched; nothing is run).
pub fn sdist_builds(
    outcome: &Outcome,
    index: &Arc<Index>,
    runtime: &tokio::runtime::Handle,
) -> Vec<SdistBuild> {
    outcome
        .packages
        .iter()
        .filter(|p| p.kind == Kind::Sdist)
        .filter_map(|package| {
            let file = package.file.as_ref()?;
            let files = runtime.block_on(index.sdist_files(file)).ok();
            let sha256_verified =
                files.as_ref().is_some_and(|f| !f.partial) && file.sha256.is_some();
            Some(SdistBuild {
                name: package.name.to_string(),
                version: package
                    .version
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default(),
                build_requires: files
                    .and_then(|f| f.pyproject_toml.clone())
                    .map(|text| build_requires(&text))
                    .unwrap_or_default(),
                sha256_verified,
            })
        })
        .collect()
}

/// `[build-system] requires` of a pyproject.toml; nothing when it does not parse.
fn build_requires(pyproject: &str) -> Vec<String> {
    let Ok(value) = pyproject.parse::<toml::Table>() else {
        return Vec::new();
    };
    value
        .get("build-system")
        .and_then(|b| b.get("requires"))
        .and_then(|r| r.as_array())
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

pub fn judge_target(
    report: &mut TargetReport,
    target: &Target,
    sdists: &[SdistBuild],
    knowledge: &Knowledge,
) {
    let judge = Judge {
        system: &knowledge.system,
        build: &knowledge.build,
    };
    let verdict = judge.judge(report, &target.image, target.arch, sdists);
    if !sdists.is_empty() {
        report.builder = builder(
            &target.image,
            target,
            sdists,
            &verdict.system_packages.build,
            knowledge,
        );
    }
    report.verdict = Some(verdict);
}

/// Debian images build in the full image of the same release (it has the compilers and most
/// -dev packages already), Alpine ones in the same Alpine image.
fn builder(
    image: &ImageEntry,
    target: &Target,
    sdists: &[SdistBuild],
    build_in_final: &[String],
    knowledge: &Knowledge,
) -> Option<Builder> {
    let builder_image = match image.variant {
        Variant::Alpine => image.clone(),
        _ => {
            let tag = format!("python:{}-{}", image.python_str(), image.release);
            knowledge
                .catalog
                .resolve(&tag, Some(image.python))
                .ok()?
                .clone()
        }
    };
    let builder_system = knowledge.system.image(&builder_image, target.arch).ok()?;
    let distro = distro_of(&builder_image);
    let mut packages: Vec<String> = sdists
        .iter()
        .flat_map(|s| {
            knowledge
                .build
                .needs_for(&s.name, &s.build_requires, &distro)
                .build
        })
        .filter(|p| !builder_system.packages.contains(p))
        .collect();
    packages.sort();
    packages.dedup();
    let final_system = knowledge.system.image(image, target.arch).ok()?;
    let (toolchain_bytes, _) =
        knowledge
            .system
            .added_size(image, target.arch, build_in_final, &final_system.packages);
    Some(Builder {
        image: builder_image.tag,
        packages,
        toolchain_bytes,
    })
}
