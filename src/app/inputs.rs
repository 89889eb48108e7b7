//! What the command line and the requirements files ask for: targets, files, indexes.

use std::str::FromStr;

use anyhow::bail;
use url::Url;

use super::{DEFAULT_INDEX, InputError};
use crate::cli::Args;
use crate::index::Sources;
use crate::knowledge::catalog::Catalog;
use crate::requirements::{self, ParsedRequirements};
use crate::tags::Arch;
use crate::target::Target;

/// Every image asked for, on every architecture asked for.
pub fn targets_of(args: &Args, catalog: &Catalog) -> anyhow::Result<Vec<Target>> {
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

/// Reads every input file (requirements, pyproject.toml or a lock: `crate::inputs`) into one
/// set of requirements; a lock also gives the files it allows.
pub fn read_requirements(
    files: &[std::path::PathBuf],
    selection: &crate::inputs::Selection,
) -> anyhow::Result<(ParsedRequirements, Option<crate::inputs::Locked>)> {
    crate::inputs::check_selection(files, selection).map_err(InputError)?;
    crate::inputs::check_combination(files).map_err(InputError)?;
    let env = |name: &str| std::env::var(name).ok();
    let mut merged: Option<ParsedRequirements> = None;
    let mut locked = None;
    for file in files {
        let loaded = crate::inputs::load(file, selection, &env).map_err(InputError)?;
        locked = locked.or(loaded.locked);
        let parsed = loaded.parsed;
        merged = Some(match merged {
            None => parsed,
            Some(mut all) => {
                all.requirements.extend(parsed.requirements);
                all.constraints.extend(parsed.constraints);
                all.errors.extend(parsed.errors);
                all.warnings.extend(parsed.warnings);
                merge_options(&mut all.options, parsed.options);
                all
            }
        });
    }
    let merged = merged.ok_or_else(|| InputError("no requirements file given".into()))?;
    Ok((merged, locked))
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
pub fn sources_of(args: &Args, parsed: &ParsedRequirements) -> anyhow::Result<Sources> {
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
