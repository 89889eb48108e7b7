//! `wheelcheck why PACKAGE FILE...` and `--explain PACKAGE`: for one package, the chains of
//! requirements that pull it in and, per image, the file pip takes there and why, with what to
//! do instead of a source build.

use std::str::FromStr;

use pep508_rs::PackageName;

use super::{PackageReport, Report, TargetReport};
use crate::resolve::Kind;

/// Most chains listed per package: a deep tree can have thousands of paths to one package.
const MAX_CHAINS: usize = 12;

/// The asked names, normalized, if each is in the result of at least one target; else a
/// message naming the first one that is not (with a near name of the set if one differs only
/// by case or separators). `files` names the user's files in the message.
pub fn check_names(report: &Report, asked: &[String], files: &str) -> Result<Vec<String>, String> {
    asked
        .iter()
        .map(|name| {
            let normalized = PackageName::from_str(name)
                .map_err(|e| format!("`{name}` is not a project name: {e}"))?
                .to_string();
            let present = report
                .targets
                .iter()
                .any(|t| t.packages.iter().any(|p| p.name == normalized));
            if present {
                return Ok(normalized);
            }
            let mut message = format!(
                "`{name}` is not in the dependency tree of {files} on any checked image: nothing \
                 there requires it"
            );
            if let Some(near) = near_name(report, &normalized) {
                message.push_str(&format!("; did you mean `{near}`?"));
            }
            Err(message)
        })
        .collect()
}

/// A package of the set whose name equals `name` once separators are dropped
/// (`psycopg2binary` → `psycopg2-binary`).
fn near_name(report: &Report, name: &str) -> Option<String> {
    let squash = |text: &str| text.replace(['-', '_', '.'], "");
    let wanted = squash(name);
    report
        .targets
        .iter()
        .flat_map(|t| &t.packages)
        .find(|p| squash(&p.name) == wanted)
        .map(|p| p.name.clone())
}

/// The explanation of every name in `names` (normalized, as [`check_names`] returns them).
pub fn render(report: &Report, names: &[String]) -> String {
    names
        .iter()
        .map(|name| explain(report, name))
        .collect::<Vec<_>>()
        .join("\n")
}

fn explain(report: &Report, name: &str) -> String {
    let mut out = format!("why {name}\n");
    let found: Vec<(&TargetReport, Option<&PackageReport>)> = report
        .targets
        .iter()
        .map(|t| (t, t.packages.iter().find(|p| p.name == name)))
        .collect();
    let provenances: Vec<String> = found
        .iter()
        .filter_map(|(target, package)| Some(provenance(package.as_ref()?, target)))
        .collect();
    let shared = provenances.windows(2).all(|w| w[0] == w[1]);
    if shared && let Some(first) = provenances.first() {
        out.push_str(first);
    }
    for (target, package) in found {
        out.push_str(&format!("  {}:", target.label()));
        let Some(package) = package else {
            out.push_str(
                " not installed here: no requirement that applies on this image pulls it in\n",
            );
            continue;
        };
        out.push_str(&format!(" {}\n", version_and_kind(package)));
        if !shared {
            for line in provenance(package, target).lines() {
                out.push_str(&format!("  {line}\n"));
            }
        }
        out.push_str(&file_lines(package, target));
    }
    out
}

/// Who requires the package and the chains from the user's lines, as indented lines.
fn provenance(package: &PackageReport, target: &TargetReport) -> String {
    let mut required_by = package.required_by.clone();
    required_by.sort();
    let parents: Vec<String> = required_by
        .iter()
        .map(|parent| match parent.as_str() {
            "requirements" => format!("your requirements ({})", lines_of(package)),
            other => other.to_string(),
        })
        .collect();
    let mut out = format!("  required by: {}\n", or_none(&parents.join(", ")));
    let (chains, more) = super::provenance::all_chains(package, &target.packages, MAX_CHAINS);
    if chains.is_empty() {
        out.push_str("  no chain of requirements from your files leads to it\n");
    } else {
        out.push_str("  chains from your files:\n");
    }
    for chain in chains {
        let top = target
            .packages
            .iter()
            .find(|p| Some(&p.name) == chain.first());
        let lines = top.map(lines_of).unwrap_or_default();
        out.push_str(&format!(
            "    {}  ({})\n",
            chain.join(" -> "),
            or_none(&lines)
        ));
    }
    if more {
        out.push_str(&format!(
            "    ... (only the first {MAX_CHAINS} chains are shown)\n"
        ));
    }
    out
}

fn lines_of(package: &PackageReport) -> String {
    package.lines.join(", ")
}

fn or_none(text: &str) -> &str {
    if text.is_empty() { "no line" } else { text }
}

fn version_and_kind(package: &PackageReport) -> String {
    let version = package.version.as_deref().unwrap_or("no version");
    match package.kind {
        Kind::Wheel => format!("{version}, wheel"),
        Kind::Sdist => format!("{version}, sdist (built from source)"),
        Kind::None => "nothing installable".to_string(),
    }
}

/// The chosen file and why, then what to do instead of a build.
fn file_lines(package: &PackageReport, target: &TargetReport) -> String {
    let mut out = String::new();
    match (&package.choice, &package.reason) {
        (Some(choice), _) => out.push_str(&format!("    {}\n", choice.why)),
        (None, Some(reason)) => out.push_str(&format!("    none: {reason}\n")),
        (None, None) => {}
    }
    if package.kind == Kind::Sdist {
        match (&package.binary_only_version, &target.binary_only_error) {
            (Some(version), _) => {
                out.push_str(&format!("    with wheels only, pip would take {version}\n"))
            }
            (None, Some(error)) => out.push_str(&format!(
                "    could not check the wheels-only alternative: {error}\n"
            )),
            (None, None) => out.push_str(
                "    with wheels only, no release the requirements allow installs here\n",
            ),
        }
    }
    if let Some(pin) = &package.avoid_build_pin {
        out.push_str(&format!("    pin: {}\n", pin.sentence()));
    }
    for twin in &package.binary_twins {
        out.push_str(&format!(
            "    binary twin: {} ({} {} has wheels for {}, checked {}): {}; caveat: {}; source: {}\n",
            twin.install,
            twin.project,
            twin.latest,
            twin.wheels.join(", "),
            twin.checked,
            twin.why,
            twin.caveat,
            twin.source
        ));
    }
    if let Some(note) = &package.note {
        out.push_str(&format!("    note: {note}\n"));
    }
    out
}
