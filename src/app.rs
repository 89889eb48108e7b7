//! One run: read the requirements, resolve them for every target, report, choose the exit code.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use pep508_rs::{PackageName, Requirement, VersionOrUrl};
use url::Url;

use crate::cli::{Args, Format};
use crate::index::cache::Cache;
use crate::index::http::HttpClient;
use crate::index::{Index, IndexFile, Sources};
use crate::knowledge::catalog::Catalog;
use crate::report::{self, Report, TargetReport, UnresolvedLine};
use crate::requirements::{self, EntryKind, ParsedRequirements, RequirementEntry};
use crate::resolve::{self, Input, TargetEnv};
use crate::tags::{Arch, TagPriority};
use crate::target::Target;

pub const DEFAULT_INDEX: &str = "https://pypi.org/simple/";
/// Largest single response we read (index pages, sdists).
const MAX_BODY: u64 = 256 << 20;

/// Exit codes, documented in the README.
pub mod exit {
    /// Every target installs from wheels only.
    pub const OK: i32 = 0;
    /// Some target needs a source build or cannot be installed.
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

pub fn run(args: Args) -> anyhow::Result<i32> {
    crate::diag::set_level(if args.quiet { 0 } else { 1 + args.verbose });
    let catalog = Catalog::load().map_err(|e| InputError(e.to_string()))?;
    let targets = targets_of(&args, &catalog)?;
    let parsed = read_requirements(&args.files)?;
    let request = Request::from_parsed(&parsed);
    let sources = sources_of(&args, &parsed)?;
    let cache = Cache::new(
        args.cache_dir.clone().unwrap_or_else(Cache::default_dir),
        Duration::from_secs(args.index_ttl),
        args.refresh,
    );
    let http = HttpClient::new(args.offline, Duration::from_secs(60), MAX_BODY)?;
    let index = Arc::new(Index::new(http, cache, sources));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let python = args.python.clone().unwrap_or_else(|| {
        let (major, minor) = catalog.default_python();
        format!("{major}.{minor}")
    });
    let progress = crate::progress::Progress::start(
        format!("checking {} targets:", targets.len()),
        Arc::clone(&index.http().stats),
    );
    let reports = runtime.block_on(check_all(&targets, &request, &index));
    progress.finish();
    let report = Report::new(python, reports);
    let text = match args.format {
        Format::Human => report::human::render(&report),
        Format::Json => report::json::render(&report),
    };
    write_output(args.output.as_deref(), &text)?;
    let (requests, bytes, hits) = index.http().stats.snapshot();
    crate::diag::info(format_args!(
        "network: {requests} requests, {bytes} bytes downloaded, {hits} cache hits"
    ));
    Ok(exit_code(&report, &parsed))
}

fn exit_code(report: &Report, parsed: &ParsedRequirements) -> i32 {
    if !parsed.errors.is_empty() {
        return exit::INPUT;
    }
    if report.targets.iter().any(|t| t.could_not_check()) {
        return exit::UNKNOWN;
    }
    if report.targets.iter().all(|t| t.wheels_only()) {
        exit::OK
    } else {
        exit::FINDINGS
    }
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

/// Every image asked for, on every architecture asked for.
fn targets_of(args: &Args, catalog: &Catalog) -> anyhow::Result<Vec<Target>> {
    let python = match &args.python {
        Some(text) => Some(parse_python(text)?),
        None => None,
    };
    let images: Vec<String> = if args.images.is_empty() {
        vec!["alpine".into(), "slim".into(), "full".into()]
    } else {
        args.images.clone()
    };
    let arches: Vec<Arch> = if args.arches.is_empty() {
        vec![Arch::X86_64]
    } else {
        args.arches
            .iter()
            .map(|a| Arch::from_str(a).map_err(|e| InputError(format!("--arch {a}: {e}"))))
            .collect::<Result<_, _>>()?
    };
    let mut targets = Vec::new();
    for spec in &images {
        let image = catalog
            .resolve(spec, python)
            .map_err(|e| InputError(format!("--image {spec}: {e}")))?;
        for arch in &arches {
            if !image.arches.contains(arch) {
                bail!(InputError(format!(
                    "{} is not published for {}",
                    image.tag,
                    arch.docker_name()
                )));
            }
            targets.push(Target::new(image.clone(), *arch));
        }
    }
    Ok(targets)
}

fn parse_python(text: &str) -> anyhow::Result<(u32, u32)> {
    let bad = || InputError(format!("--python {text}: expected X.Y, such as 3.12"));
    let (major, minor) = text.split_once('.').ok_or_else(bad)?;
    Ok((
        major.parse().map_err(|_| bad())?,
        minor.parse().map_err(|_| bad())?,
    ))
}

fn read_requirements(files: &[std::path::PathBuf]) -> anyhow::Result<ParsedRequirements> {
    let env = |name: &str| std::env::var(name).ok();
    let mut merged: Option<ParsedRequirements> = None;
    for file in files {
        let parsed = requirements::parse_file(file, &env).map_err(|e| InputError(e.to_string()))?;
        merged = Some(match merged {
            None => parsed,
            Some(mut all) => {
                all.requirements.extend(parsed.requirements);
                all.constraints.extend(parsed.constraints);
                all.errors.extend(parsed.errors);
                merge_options(&mut all.options, parsed.options);
                all
            }
        });
    }
    merged.ok_or_else(|| InputError("no requirements file given".into()).into())
}

/// Several files on the command line act like `-r` lines of one file: later index options win,
/// lists and switches accumulate.
fn merge_options(into: &mut requirements::IndexOptions, from: requirements::IndexOptions) {
    if from.index_url.is_some() {
        into.index_url = from.index_url;
    }
    into.extra_index_urls.extend(from.extra_index_urls);
    into.find_links.extend(from.find_links);
    into.trusted_hosts.extend(from.trusted_hosts);
    into.no_index |= from.no_index;
    into.pre |= from.pre;
    into.prefer_binary |= from.prefer_binary;
    into.require_hashes |= from.require_hashes;
    into.format_control
        .no_binary
        .extend(from.format_control.no_binary);
    into.format_control
        .only_binary
        .extend(from.format_control.only_binary);
}

/// pip's order: the command line (or `PIP_INDEX_URL`) first; an `--index-url` line in a file
/// replaces the index list, `--extra-index-url` lines add to it, `--no-index` empties it.
fn sources_of(args: &Args, parsed: &ParsedRequirements) -> anyhow::Result<Sources> {
    let options = &parsed.options;
    let mut urls: Vec<String> = vec![
        args.index_url
            .clone()
            .unwrap_or_else(|| DEFAULT_INDEX.into()),
    ];
    urls.extend(
        args.extra_index_urls
            .iter()
            .filter(|u| !u.is_empty())
            .cloned(),
    );
    if let Some(url) = &options.index_url {
        urls = vec![url.clone()];
    }
    urls.extend(options.extra_index_urls.iter().cloned());
    if options.no_index {
        urls.clear();
    }
    let indexes = urls
        .iter()
        .map(|u| index_url(u))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Sources {
        indexes,
        find_links: options.find_links.clone(),
    })
}

fn index_url(text: &str) -> Result<Url, InputError> {
    let with_slash = if text.ends_with('/') {
        text.to_string()
    } else {
        format!("{text}/")
    };
    Url::parse(&with_slash).map_err(|e| {
        let shown = Url::parse(text)
            .map(|u| crate::index::http::redact(&u))
            .unwrap_or_else(|_| "the index URL".into());
        InputError(format!("{shown}: not a valid index URL ({e})"))
    })
}

/// The requirements turned into resolver input, and the lines that cannot be resolved.
#[derive(Clone)]
pub struct Request {
    pub input: Input,
    pub unresolved: Vec<UnresolvedLine>,
    /// Problems that make pip refuse the whole install (hash-checking mode violations).
    pub refusals: Vec<String>,
}

impl Request {
    pub fn from_parsed(parsed: &ParsedRequirements) -> Self {
        let mut request = Request {
            input: Input {
                pre: parsed.options.pre,
                prefer_binary: parsed.options.prefer_binary,
                format_control: parsed.options.format_control.clone(),
                ..Input::default()
            },
            unresolved: parsed
                .errors
                .iter()
                .map(|e| UnresolvedLine {
                    source: e.source.to_string(),
                    line: e.text.clone(),
                    why: e.message.clone(),
                })
                .collect(),
            refusals: Vec::new(),
        };
        for entry in &parsed.requirements {
            if let Some(requirement) = request.requirement_of(entry) {
                request.input.requirements.push(requirement);
            }
        }
        for entry in &parsed.constraints {
            match &entry.kind {
                EntryKind::Named(req) if req.extras.is_empty() && !is_url(req) => {
                    request.input.constraints.push(req.clone())
                }
                _ => request.unresolve(
                    entry,
                    "constraints must be a plain name and version specifier; ignored",
                ),
            }
        }
        if parsed.options.require_hashes {
            request.enable_hash_mode(parsed);
        }
        request
    }

    fn unresolve(&mut self, entry: &RequirementEntry, why: &str) {
        self.unresolved.push(UnresolvedLine {
            source: entry.source.to_string(),
            line: entry.text.clone(),
            why: why.to_string(),
        });
    }

    fn requirement_of(&mut self, entry: &RequirementEntry) -> Option<Requirement> {
        match &entry.kind {
            EntryKind::Named(req) => {
                if let Some(VersionOrUrl::Url(url)) = &req.version_or_url {
                    let file = self.direct_file(entry, url.to_string().as_str())?;
                    self.input.direct.insert(req.name.clone(), file);
                }
                Some(req.clone())
            }
            EntryKind::Url {
                url, name, markers, ..
            } => {
                let Some(name) = name.clone() else {
                    self.unresolve(entry, "cannot tell the project name of this URL; add #egg=<name> or use `name @ URL`");
                    return None;
                };
                let file = self.direct_file(entry, url)?;
                self.input.direct.insert(name.clone(), file);
                let mut requirement = Requirement::from_str(name.as_ref()).ok()?;
                if let Some(markers) = markers {
                    requirement.marker = markers.clone();
                }
                Some(requirement)
            }
            EntryKind::Editable { .. } => {
                self.unresolve(entry, "editable install: built from source, not inspected");
                None
            }
            EntryKind::Vcs { .. } => {
                self.unresolve(
                    entry,
                    "version-control checkout: built from source, not inspected",
                );
                None
            }
            EntryKind::LocalPath { .. } => {
                self.unresolve(
                    entry,
                    "local project directory: built from source, not inspected",
                );
                None
            }
        }
    }

    /// A direct reference to a wheel or sdist is inspected like an index file.
    fn direct_file(&mut self, entry: &RequirementEntry, url: &str) -> Option<IndexFile> {
        let parsed = Url::parse(url).ok().or_else(|| {
            let path = entry.source.file.parent()?.join(url);
            Url::from_file_path(std::fs::canonicalize(path).ok()?).ok()
        });
        let Some(mut parsed) = parsed else {
            self.unresolve(entry, "not a URL or an existing local file");
            return None;
        };
        let sha256 = parsed
            .fragment()
            .and_then(|f| f.split('&').find_map(|p| p.strip_prefix("sha256=")))
            .map(str::to_ascii_lowercase);
        parsed.set_fragment(None);
        let filename = parsed
            .path_segments()
            .and_then(|mut s| s.next_back())
            .unwrap_or("")
            .to_string();
        let lower = filename.to_ascii_lowercase();
        let is_dist = lower.ends_with(".whl")
            || [".tar.gz", ".zip", ".tar", ".tgz"]
                .iter()
                .any(|e| lower.ends_with(e));
        if !is_dist {
            self.unresolve(entry, "direct reference to something that is not a wheel or sdist: built from source, not inspected");
            return None;
        }
        Some(IndexFile {
            filename,
            url: parsed,
            sha256,
            requires_python: None,
            yanked: None,
            size: None,
            has_metadata_file: false,
        })
    }

    /// pip's hash-checking mode: every requirement pinned with `==` and carrying hashes; the
    /// chosen file must match one of them.
    fn enable_hash_mode(&mut self, parsed: &ParsedRequirements) {
        let mut allowed: HashMap<PackageName, BTreeSet<String>> = HashMap::new();
        for entry in &parsed.requirements {
            let EntryKind::Named(req) = &entry.kind else {
                continue;
            };
            if !is_pinned(req) && !is_url(req) {
                self.refusals.push(format!(
                    "{}: hash-checking mode needs every requirement pinned with ==, `{}` is not",
                    entry.source, entry.text
                ));
            }
            if entry.hashes.is_empty() {
                self.refusals.push(format!(
                    "{}: hash-checking mode needs --hash for `{}`",
                    entry.source, entry.text
                ));
            }
            allowed.entry(req.name.clone()).or_default().extend(
                entry
                    .hashes
                    .iter()
                    .filter(|h| h.algorithm == "sha256")
                    .map(|h| h.digest.to_ascii_lowercase()),
            );
        }
        self.input.allowed_hashes = Some(allowed);
    }
}

fn is_url(req: &Requirement) -> bool {
    matches!(req.version_or_url, Some(VersionOrUrl::Url(_)))
}

fn is_pinned(req: &Requirement) -> bool {
    use pep440_rs::Operator;
    match &req.version_or_url {
        Some(VersionOrUrl::VersionSpecifier(spec)) => spec
            .iter()
            .any(|s| matches!(s.operator(), Operator::Equal | Operator::ExactEqual)),
        _ => false,
    }
}

/// Resolve every target concurrently; metadata fetched for one target serves all others.
async fn check_all(targets: &[Target], request: &Request, index: &Arc<Index>) -> Vec<TargetReport> {
    let request = Arc::new(request.clone());
    let tasks: Vec<_> = targets
        .iter()
        .map(|target| {
            let target = target.clone();
            let request = Arc::clone(&request);
            let index = Arc::clone(index);
            let runtime = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || check_target(&target, &request, &index, runtime))
        })
        .collect();
    let mut reports = Vec::new();
    for task in tasks {
        reports.push(task.await.expect("a target's resolution panicked"));
    }
    reports
}

fn check_target(
    target: &Target,
    request: &Request,
    index: &Arc<Index>,
    runtime: tokio::runtime::Handle,
) -> TargetReport {
    let tags = target.tags();
    let env = TargetEnv {
        tags: TagPriority::new(&tags),
        markers: target.marker_env(),
        python_full: target.python_full_version(),
    };
    let mut outcome = resolve::resolve_target(&request.input, index, runtime.clone(), &env, false);
    // With no sdist in the solution, pip's binary-only resolution is the same one.
    let binary_only = match (outcome.ok, outcome.has_sdist()) {
        (true, true) => Some(resolve::resolve_target(
            &request.input,
            index,
            runtime,
            &env,
            true,
        )),
        (true, false) => Some(outcome.clone()),
        (false, _) => None,
    };
    if !request.refusals.is_empty() {
        outcome.ok = false;
        outcome.error = Some(format!(
            "pip would refuse to install: {}",
            request.refusals.join("; ")
        ));
    }
    TargetReport::new(
        target,
        &tags,
        outcome,
        binary_only,
        request.unresolved.clone(),
    )
}
