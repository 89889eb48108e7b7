//! Which image to use: the smallest one that works (with packages if need be); else the
//! smallest that works with source builds, built in a multi-stage file; with the alternatives
//! ranked by size beside it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{TargetVerdict, Verdict};
use crate::knowledge::catalog::{ImageEntry, Variant};
use crate::report::dockerfile::{BuildPlan, DockerPlan, PackageManager};

/// One checked image on one architecture, with its verdict.
pub struct Checked<'a> {
    pub image: &'a ImageEntry,
    pub verdict: &'a TargetVerdict,
    /// Bytes the build packages would add if left in the image (building in place).
    pub toolchain_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Alternative {
    pub image: String,
    pub verdict: Verdict,
    pub estimated_size_bytes: Option<u64>,
    pub runtime_packages: Vec<String>,
    pub build_packages: Vec<String>,
    /// Packages built from source there (the most on any architecture).
    pub built_from_source: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct BuildComparison {
    /// The final image built in place, build packages left installed.
    pub in_place_bytes: Option<u64>,
    /// Wheels built in a builder stage and installed into the final image.
    pub multi_stage_bytes: Option<u64>,
    pub builder_image: String,
    pub smaller: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct Recommendation {
    /// None when no checked image can install the requirements.
    pub image: Option<String>,
    pub verdict: Verdict,
    pub why: String,
    pub estimated_size_bytes: Option<u64>,
    pub runtime_packages: Vec<String>,
    pub build_packages: Vec<String>,
    pub build: Option<BuildComparison>,
    /// The lines to add to a Dockerfile based on the recommended image.
    pub dockerfile_lines: Vec<String>,
    /// Every checked image, ranked: working ones by size first.
    pub alternatives: Vec<Alternative>,
    #[serde(skip)]
    pub plan: Option<DockerPlan>,
    /// The same, building in the final image instead (`--build-in-place`).
    #[serde(skip)]
    pub in_place_plan: Option<DockerPlan>,
}

/// Several architectures of one image: it counts as working only if it works on each, and its
/// size and number of source builds are the largest.
fn by_image<'a>(checked: &'a [Checked<'a>]) -> Vec<Alternative> {
    let mut images: BTreeMap<&str, Alternative> = BTreeMap::new();
    for one in checked {
        let entry = images.entry(&one.image.tag).or_insert_with(|| Alternative {
            image: one.image.tag.clone(),
            verdict: one.verdict.verdict,
            estimated_size_bytes: one.verdict.estimated_size_bytes,
            runtime_packages: Vec::new(),
            build_packages: Vec::new(),
            built_from_source: 0,
        });
        entry.verdict = entry.verdict.max(one.verdict.verdict);
        entry.estimated_size_bytes = entry
            .estimated_size_bytes
            .max(one.verdict.estimated_size_bytes);
        merge(
            &mut entry.runtime_packages,
            &one.verdict.system_packages.runtime,
        );
        merge(
            &mut entry.build_packages,
            &one.verdict.system_packages.build,
        );
        entry.built_from_source = entry
            .built_from_source
            .max(one.verdict.built_from_source.len());
    }
    let mut ranked: Vec<Alternative> = images.into_values().collect();
    // Working images by size; among images that need builds, fewer builds first (each one is a
    // compiler run that can fail), then size.
    ranked.sort_by_key(|a| {
        (
            a.verdict.max(Verdict::WorksWithPackages),
            a.built_from_source,
            a.estimated_size_bytes.unwrap_or(u64::MAX),
            a.runtime_packages.len(),
        )
    });
    ranked
}

fn merge(into: &mut Vec<String>, from: &[String]) {
    for item in from {
        if !into.contains(item) {
            into.push(item.clone());
        }
    }
    into.sort();
}

pub fn recommend(
    checked: &[Checked],
    builder_for: impl Fn(&ImageEntry) -> Option<(String, Vec<String>)>,
    requirements: &str,
) -> Recommendation {
    let alternatives = by_image(checked);
    let Some(best) = alternatives.first().cloned() else {
        return nothing(alternatives, "no image was checked".into());
    };
    let image = checked
        .iter()
        .find(|c| c.image.tag == best.image)
        .expect("ranked from checked")
        .image;
    match best.verdict {
        Verdict::Fails => {
            let why = checked
                .iter()
                .flat_map(|c| {
                    c.verdict
                        .reasons
                        .iter()
                        .map(move |r| format!("{}: {r}", c.image.tag))
                })
                .collect::<Vec<_>>()
                .join("; ");
            nothing(
                alternatives,
                format!("no checked image can install these requirements: {why}"),
            )
        }
        Verdict::Unknown => nothing(
            alternatives,
            "some files could not be read, so no image can be recommended with confidence".into(),
        ),
        Verdict::NeedsBuild => with_build(
            best,
            image,
            checked,
            builder_for,
            requirements,
            alternatives,
        ),
        Verdict::Works | Verdict::WorksWithPackages => {
            let why = if best.runtime_packages.is_empty() {
                format!(
                    "{} is the smallest image where every package installs from a wheel and finds every library it needs",
                    best.image
                )
            } else {
                format!(
                    "{} is the smallest image that works: all wheels, once {} {} added",
                    best.image,
                    best.runtime_packages.join(", "),
                    if best.runtime_packages.len() == 1 {
                        "is"
                    } else {
                        "are"
                    }
                )
            };
            let plan = DockerPlan {
                final_image: best.image.clone(),
                package_manager: manager(image),
                runtime_packages: best.runtime_packages.clone(),
                build: None,
                requirements: requirements.to_string(),
                built_from_source: Vec::new(),
                comments: vec![why.clone()],
            };
            Recommendation {
                image: Some(best.image.clone()),
                verdict: best.verdict,
                why,
                estimated_size_bytes: best.estimated_size_bytes,
                dockerfile_lines: install_lines(image, &best.runtime_packages),
                runtime_packages: best.runtime_packages.clone(),
                build_packages: Vec::new(),
                build: None,
                alternatives,
                plan: Some(plan),
                in_place_plan: None,
            }
        }
    }
}

fn with_build(
    best: Alternative,
    image: &ImageEntry,
    checked: &[Checked],
    builder_for: impl Fn(&ImageEntry) -> Option<(String, Vec<String>)>,
    requirements: &str,
    alternatives: Vec<Alternative>,
) -> Recommendation {
    let toolchain = checked
        .iter()
        .filter(|c| c.image.tag == best.image)
        .map(|c| c.toolchain_bytes)
        .max()
        .unwrap_or(0);
    // Every architecture's builds: one may have a wheel where another has not.
    let built: Vec<String> = checked
        .iter()
        .filter(|c| c.image.tag == best.image)
        .flat_map(|c| c.verdict.built_from_source.iter().cloned())
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let (builder_image, builder_packages) =
        builder_for(image).unwrap_or_else(|| (best.image.clone(), best.build_packages.clone()));
    let comparison = BuildComparison {
        in_place_bytes: best.estimated_size_bytes.map(|s| s + toolchain),
        multi_stage_bytes: best.estimated_size_bytes,
        builder_image: builder_image.clone(),
        smaller: if toolchain > 0 {
            "multi-stage"
        } else {
            "equal"
        },
    };
    let what = if built.is_empty() {
        let unchecked = checked
            .iter()
            .find(|c| c.image.tag == best.image)
            .map(|c| c.verdict.reasons.join("; "))
            .unwrap_or_default();
        format!("is the smallest, though not everything was checked ({unchecked})")
    } else {
        format!(
            "is the smallest once {} {} built",
            built.join(", "),
            if built.len() == 1 { "is" } else { "are" }
        )
    };
    let why = format!(
        "no checked image installs everything from wheels; {} {what}: build the wheels in a {builder_image} stage and install them into {}, so the build tools ({} MB) never reach the final image",
        best.image,
        best.image,
        toolchain / 1_000_000
    );
    let plan = DockerPlan {
        final_image: best.image.clone(),
        package_manager: manager(image),
        runtime_packages: best.runtime_packages.clone(),
        build: Some(BuildPlan::MultiStage {
            builder_image,
            builder_package_manager: manager(image),
            build_packages: builder_packages.clone(),
        }),
        requirements: requirements.to_string(),
        built_from_source: built,
        comments: vec![why.clone()],
    };
    let in_place_plan = DockerPlan {
        build: Some(BuildPlan::InPlace {
            build_packages: best.build_packages.clone(),
        }),
        comments: vec![format!(
            "{why}. Built in place instead (--build-in-place): the build packages are removed in the same RUN"
        )],
        ..plan.clone()
    };
    Recommendation {
        image: Some(best.image.clone()),
        verdict: best.verdict,
        why,
        estimated_size_bytes: best.estimated_size_bytes,
        dockerfile_lines: install_lines(image, &best.runtime_packages),
        runtime_packages: best.runtime_packages.clone(),
        build_packages: builder_packages,
        build: Some(comparison),
        alternatives,
        plan: Some(plan),
        in_place_plan: Some(in_place_plan),
    }
}

fn nothing(alternatives: Vec<Alternative>, why: String) -> Recommendation {
    Recommendation {
        image: None,
        verdict: alternatives.first().map_or(Verdict::Fails, |a| a.verdict),
        why,
        estimated_size_bytes: None,
        runtime_packages: Vec::new(),
        build_packages: Vec::new(),
        build: None,
        dockerfile_lines: Vec::new(),
        alternatives,
        plan: None,
        in_place_plan: None,
    }
}

fn manager(image: &ImageEntry) -> PackageManager {
    match image.variant {
        Variant::Alpine => PackageManager::Apk,
        _ => PackageManager::Apt,
    }
}

/// The one line a Dockerfile based on the image needs for its runtime packages.
pub fn install_lines(image: &ImageEntry, packages: &[String]) -> Vec<String> {
    if packages.is_empty() {
        return Vec::new();
    }
    let list = packages.join(" ");
    vec![match image.variant {
        Variant::Alpine => format!("RUN apk add --no-cache {list}"),
        _ => format!(
            "RUN apt-get update && apt-get install -y --no-install-recommends {list} && rm -rf /var/lib/apt/lists/*"
        ),
    }]
}
