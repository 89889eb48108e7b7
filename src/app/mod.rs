//! One run: read the requirements, resolve them for every target, report, choose the exit code.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

mod check;
mod commands;
mod from_dockerfile;
mod inputs;
mod judge;
mod request;

pub use request::Request;

use crate::cli::{Args, Format};
use crate::index::Index;
use crate::index::cache::Cache;
use crate::index::http::{Credentials, HttpClient, Limits, redact_text};
use crate::knowledge::Knowledge;
use crate::knowledge::build::BuildKnowledge;
use crate::knowledge::catalog::Catalog;
use crate::knowledge::system::SystemData;
use crate::report::findings::{FailOn, Severity};
use crate::report::{self, Report};
use crate::requirements::{EntryKind, ParsedRequirements, Source};
use crate::verdict::Verdict;
use crate::verdict::recommend::{Checked, Recommendation, recommend};

pub const DEFAULT_INDEX: &str = "https://pypi.org/simple/";

/// Exit codes, documented in the README.
pub mod exit {
    /// Every target installs from wheels only.
    pub const OK: i32 = 0;
    /// Some target has a finding at or above the `--fail-on` level (by default: it needs
    /// system packages, a source build, or cannot be installed).
    pub const FINDINGS: i32 = 1;
    /// Usage or input error (bad option, missing or unreadable file, unparsable line).
    pub const INPUT: i32 = 2;
    /// Could not check: the index or a file could not be read, so no answer is trustworthy.
    pub const UNKNOWN: i32 = 3;
}

/// An error that is the user's to fix; printed as one line, exit code 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InputError(pub String);

/// One run; whatever it says in an error passes [`redact_text`] first.
pub fn run(args: Args) -> anyhow::Result<i32> {
    run_checked(args).map_err(|err| {
        let message = redact_text(&format!("{err:#}"));
        if err.downcast_ref::<InputError>().is_some() {
            InputError(message).into()
        } else {
            anyhow::anyhow!(message)
        }
    })
}

fn run_checked(mut args: Args) -> anyhow::Result<i32> {
    if let Some(command) = &args.command {
        commands::run(command, &mut std::io::stdout().lock())?;
        return Ok(exit::OK);
    }
    crate::diag::set_level(if args.quiet { 0 } else { 1 + args.verbose });
    let knowledge = Arc::new(load_knowledge()?);
    let catalog = &knowledge.catalog;
    let dockerfile = from_dockerfile::apply(&mut args, catalog)?;
    let targets = inputs::targets_of(&args, catalog)?;
    let selection = crate::inputs::Selection {
        extras: args.extras.clone(),
        groups: args.groups.clone(),
    };
    let (parsed, locked) =
        from_dockerfile::read_requirements(&args, dockerfile.as_ref(), &selection)?;
    for warning in &parsed.warnings {
        crate::diag::warn(format_args!("{}", redact_text(&warning.to_string())));
    }
    let mut request = Request::from_parsed(&parsed);
    if let Some(locked) = locked {
        locked.apply(&mut request.input);
    }
    let sources = inputs::sources_of(&args, &parsed)?;
    let cache = Cache::new(
        args.cache_dir.clone().unwrap_or_else(Cache::default_dir),
        Duration::from_secs(args.index_ttl),
        args.refresh,
    );
    let limits = Limits {
        timeout: Duration::from_secs(args.timeout),
        max_requests: args.max_requests,
        max_response_size: args.max_response_size,
    };
    let mut credential_urls = sources.indexes.clone();
    credential_urls.extend(
        sources
            .find_links
            .iter()
            .filter_map(|location| url::Url::parse(location).ok()),
    );
    let http = HttpClient::new(args.offline, limits, Credentials::new(&credential_urls));
    let index = Arc::new(
        Index::new(http, cache, sources)
            .with_requirement_lines(requirement_lines(&parsed))
            .with_hash_verification(args.verify_hashes),
    );
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let python = args.python.clone().unwrap_or_else(|| {
        let (major, minor) = catalog.default_python();
        format!("{major}.{minor}")
    });
    let progress = crate::progress::Progress::start(Arc::clone(&index.http().stats));
    let reports = runtime.block_on(check::check_all(&targets, &request, &index, &knowledge));
    progress.finish();
    let mut report = Report::new(python, reports);
    report::provenance::annotate(&mut report, &lines_by_name(&parsed));
    let requirements_name = match args.files.first() {
        Some(first) => dockerfile_requirements(first, &args),
        None => from_dockerfile::requirements_name(&args, dockerfile.as_ref()),
    };
    let primary_file = from_dockerfile::primary_file(&args, dockerfile.as_ref());
    report.recommendation = Some(recommend_for(&report, &targets, &requirements_name));
    let sources = requirement_sources(&parsed);
    let context = report::findings::Context {
        sources: &sources,
        file: &primary_file,
    };
    report.findings = report::findings::collect(&report, &targets, &context);
    let code = exit_code(&report, &parsed, args.fail_on);
    if let Some(path) = &args.dockerfile_out {
        if code == exit::UNKNOWN && !has_plan(&report, args.build_in_place) {
            // Not the user's error, and not a finding: say why, still write the report.
            eprintln!(
                "error: no Dockerfile written to {}: some files could not be read, so no image can be recommended (see the report)",
                path.display()
            );
        } else {
            write_dockerfile(path, &report, args.build_in_place)?;
        }
    }
    let explained = report::why::check_names(&report, &args.explain, &files_label(&args.files))
        .map_err(InputError)?;
    let text = match args.format {
        Format::Human if args.explain_only => report::why::render(&report, &explained),
        Format::Human => {
            let palette = report::style::detect(args.color, args.output.is_some());
            let text = report::human::render_with(&report, &palette);
            if explained.is_empty() {
                text
            } else {
                format!("{text}\n{}", report::why::render(&report, &explained))
            }
        }
        Format::Json => report::json::render(&report),
        Format::Github => report::github::render(&report, args.fail_on),
        Format::Sarif => report::sarif::render(&report, args.fail_on),
        Format::Markdown => report::markdown::render(&report, args.fail_on),
        Format::Html => report::html::render(&report),
    };
    write_output(args.output.as_deref(), &redact_text(&text))?;
    let (requests, bytes, hits) = index.http().stats.snapshot();
    crate::diag::info(format_args!(
        "network: {requests} requests, {bytes} bytes downloaded, {hits} cache hits"
    ));
    for notice in index.http().limit_notices() {
        eprintln!("error: {notice}");
    }
    // The process ends here: freeing every page, file and analysis one by one would cost more
    // than a warm run's whole resolution. Forgetting the index skips its cache's flush on drop,
    // so the entries still queued are written first.
    index.flush_cache();
    std::mem::forget(index);
    std::mem::forget(report);
    Ok(code)
}

/// `requirements.txt`, `a.txt and b.txt`: the user's files, for messages.
fn files_label(files: &[std::path::PathBuf]) -> String {
    let names: Vec<String> = files.iter().map(|f| f.display().to_string()).collect();
    names.join(" and ")
}

/// Where the user's files name each project: `requirements.txt:3`.
fn requirement_lines(parsed: &ParsedRequirements) -> HashMap<pep508_rs::PackageName, Vec<String>> {
    let mut lines: HashMap<_, Vec<String>> = HashMap::new();
    for entry in &parsed.requirements {
        if let EntryKind::Named(requirement) = &entry.kind {
            lines
                .entry(requirement.name.clone())
                .or_default()
                .push(entry.source.to_string());
        }
    }
    lines
}

/// Where the user's files name each project, by normalized name, for the findings.
fn requirement_sources(parsed: &ParsedRequirements) -> HashMap<String, Vec<Source>> {
    let mut sources: HashMap<String, Vec<Source>> = HashMap::new();
    for entry in &parsed.requirements {
        if let EntryKind::Named(requirement) = &entry.kind {
            sources
                .entry(requirement.name.to_string())
                .or_default()
                .push(entry.source.clone());
        }
    }
    sources
}

fn lines_by_name(parsed: &ParsedRequirements) -> HashMap<String, Vec<String>> {
    requirement_lines(parsed)
        .into_iter()
        .map(|(name, lines)| (name.to_string(), lines))
        .collect()
}

/// The requirements file the Dockerfile installs: the input itself, or for pyproject.toml and
/// lock files a `requirements.txt` exported from it (the report says how, with the Dockerfile).
fn dockerfile_requirements(input: &Path, args: &Args) -> String {
    if let Some(hint) = crate::inputs::InputKind::of(input).export_hint() {
        if args.dockerfile_out.is_some() {
            crate::diag::warn(format_args!(
                "the Dockerfile installs requirements.txt: write it from {} first with `{hint}`",
                input.display()
            ));
        }
        return "requirements.txt".into();
    }
    input
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "requirements.txt".into())
}

fn has_plan(report: &Report, in_place: bool) -> bool {
    report
        .recommendation
        .as_ref()
        .is_some_and(|r| r.plan.is_some() || (in_place && r.in_place_plan.is_some()))
}

/// The exit code follows the verdicts of the images checked and `--fail-on` (see the README).
fn exit_code(report: &Report, parsed: &ParsedRequirements, fail_on: FailOn) -> i32 {
    if !parsed.errors.is_empty() {
        return exit::INPUT;
    }
    let verdicts: Vec<Verdict> = report
        .targets
        .iter()
        .map(|t| t.verdict.as_ref().map_or(Verdict::Unknown, |v| v.verdict))
        .collect();
    if verdicts.contains(&Verdict::Unknown) || report.targets.iter().any(|t| t.could_not_check()) {
        return exit::UNKNOWN;
    }
    let worst = verdicts
        .iter()
        .filter_map(|v| Severity::of_verdict(*v))
        .max();
    match worst {
        Some(severity) if fail_on.fails(severity) => exit::FINDINGS,
        _ => exit::OK,
    }
}

fn load_knowledge() -> anyhow::Result<Knowledge> {
    Ok(Knowledge {
        catalog: Catalog::load().map_err(|e| InputError(e.to_string()))?,
        system: SystemData::new(),
        build: BuildKnowledge::load().map_err(|e| anyhow::anyhow!("data/build-needs.toml: {e}"))?,
        twins: crate::knowledge::twins::BinaryTwins::load()
            .map_err(|e| anyhow::anyhow!("data/binary-twins.toml: {e}"))?,
    })
}

fn recommend_for(
    report: &Report,
    targets: &[crate::target::Target],
    requirements: &str,
) -> Recommendation {
    let checked: Vec<Checked> = report
        .targets
        .iter()
        .zip(targets)
        .filter_map(|(t, target)| {
            Some(Checked {
                image: &target.image,
                verdict: t.verdict.as_ref()?,
                toolchain_bytes: t.builder.as_ref().map_or(0, |b| b.toolchain_bytes),
            })
        })
        .collect();
    let builders: Vec<(String, String, Vec<String>)> = report
        .targets
        .iter()
        .filter_map(|t| {
            t.builder
                .as_ref()
                .map(|b| (t.image.clone(), b.image.clone(), b.packages.clone()))
        })
        .collect();
    recommend(
        &checked,
        |image| {
            builders
                .iter()
                .find(|(tag, _, _)| *tag == image.tag)
                .map(|(_, builder, packages)| (builder.clone(), packages.clone()))
        },
        requirements,
    )
}

fn write_dockerfile(path: &Path, report: &Report, in_place: bool) -> anyhow::Result<()> {
    let recommendation = report.recommendation.as_ref();
    let plan = match recommendation {
        Some(r) if in_place && r.in_place_plan.is_some() => r.in_place_plan.as_ref(),
        Some(r) => r.plan.as_ref(),
        None => None,
    };
    let Some(plan) = plan else {
        anyhow::bail!(InputError(format!(
            "no Dockerfile written to {}: no checked image can install these requirements",
            path.display()
        )));
    };
    std::fs::write(path, redact_text(&report::dockerfile::render(plan)))
        .with_context(|| format!("cannot write the Dockerfile to {}", path.display()))
}

fn write_output(path: Option<&Path>, text: &str) -> anyhow::Result<()> {
    match path {
        Some(path) => std::fs::write(path, text)
            .with_context(|| format!("cannot write the report to {}", path.display())),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}
