//! Findings: what a CI gate acts on, one per problem.
//!
//! Each finding names its package, the line of the user's files that brought it in (for a
//! transitive package the top-level line, with the chain of requirements down to it), the
//! images it concerns, and what to do. Findings are read off the report and the verdicts;
//! nothing is judged again here, so a finding and the verdict it explains cannot disagree.

mod of_target;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

use super::Report;
use crate::requirements::Source;
use crate::target::Target;
use crate::verdict::Verdict;

/// How serious a finding is, least serious first. The first three are the `--fail-on` levels;
/// could-not-check is exit code 3 at every level, since a gate must not pass unchecked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    /// All wheels, but the image lacks libraries a system package provides.
    SystemPackages,
    /// Something is built from source.
    SourceBuild,
    /// The requirements cannot be installed on the image at all.
    Unresolvable,
    /// Something could not be read: no trustworthy answer.
    CouldNotCheck,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::SystemPackages => "system-packages",
            Severity::SourceBuild => "source-build",
            Severity::Unresolvable => "unresolvable",
            Severity::CouldNotCheck => "could-not-check",
        }
    }

    /// The severity a target's verdict stands for; none for `works`.
    pub fn of_verdict(verdict: Verdict) -> Option<Severity> {
        match verdict {
            Verdict::Works => None,
            Verdict::WorksWithPackages => Some(Severity::SystemPackages),
            Verdict::NeedsBuild => Some(Severity::SourceBuild),
            Verdict::Fails => Some(Severity::Unresolvable),
            Verdict::Unknown => Some(Severity::CouldNotCheck),
        }
    }
}

/// `--fail-on`: the least serious finding that makes the exit code 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum FailOn {
    /// Never exit 1 (input errors are still 2, could-not-check still 3).
    None,
    /// Only when some checked image cannot install the requirements (verdict `fails`).
    Unresolvable,
    /// Also when some checked image needs a source build (`needs-build`).
    SourceBuild,
    /// Also when some checked image needs system packages (`works-with-packages`).
    #[default]
    SystemPackages,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::None => None,
            FailOn::Unresolvable => Some(Severity::Unresolvable),
            FailOn::SourceBuild => Some(Severity::SourceBuild),
            FailOn::SystemPackages => Some(Severity::SystemPackages),
        }
    }

    /// Whether a finding of this severity fails the gate: it is an error, not a warning, in
    /// the CI formats. Could-not-check always does (it is exit code 3 at every level).
    pub fn fails(self, severity: Severity) -> bool {
        severity == Severity::CouldNotCheck || self.threshold().is_some_and(|t| severity >= t)
    }
}

/// The kinds of findings; the SARIF rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Rule {
    Unresolvable,
    NoInstallableFile,
    LibraryInNoPackage,
    GlibcTooNew,
    SourceBuild,
    NotInspected,
    MissingSystemLibrary,
    CouldNotCheck,
}

impl Rule {
    pub const ALL: [Rule; 8] = [
        Rule::Unresolvable,
        Rule::NoInstallableFile,
        Rule::LibraryInNoPackage,
        Rule::GlibcTooNew,
        Rule::SourceBuild,
        Rule::NotInspected,
        Rule::MissingSystemLibrary,
        Rule::CouldNotCheck,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Rule::Unresolvable => "unresolvable",
            Rule::NoInstallableFile => "no-installable-file",
            Rule::LibraryInNoPackage => "library-in-no-package",
            Rule::GlibcTooNew => "glibc-too-new",
            Rule::SourceBuild => "source-build",
            Rule::NotInspected => "not-inspected",
            Rule::MissingSystemLibrary => "missing-system-library",
            Rule::CouldNotCheck => "could-not-check",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Rule::Unresolvable
            | Rule::NoInstallableFile
            | Rule::LibraryInNoPackage
            | Rule::GlibcTooNew => Severity::Unresolvable,
            Rule::SourceBuild | Rule::NotInspected => Severity::SourceBuild,
            Rule::MissingSystemLibrary => Severity::SystemPackages,
            Rule::CouldNotCheck => Severity::CouldNotCheck,
        }
    }

    /// A short title, for annotation titles and SARIF rule names.
    pub fn title(self) -> &'static str {
        match self {
            Rule::Unresolvable => "Requirements cannot be resolved",
            Rule::NoInstallableFile => "No installable file",
            Rule::LibraryInNoPackage => "Library in no system package",
            Rule::GlibcTooNew => "Wheel needs a newer glibc",
            Rule::SourceBuild => "Built from source",
            Rule::NotInspected => "Line not inspected",
            Rule::MissingSystemLibrary => "Missing system library",
            Rule::CouldNotCheck => "Could not check",
        }
    }

    /// What the rule means, for SARIF's rule descriptions.
    pub fn description(self) -> &'static str {
        match self {
            Rule::Unresolvable => {
                "pip finds no set of versions that satisfies the requirements on this image"
            }
            Rule::NoInstallableFile => {
                "a package has neither a wheel for this image nor an sdist, so pip cannot install it"
            }
            Rule::LibraryInNoPackage => {
                "a wheel needs a shared library that no package of the image's distribution provides"
            }
            Rule::GlibcTooNew => "a wheel needs a newer glibc than the image has",
            Rule::SourceBuild => {
                "a package has no wheel for this image: pip builds it from the sdist, which needs build tools"
            }
            Rule::NotInspected => {
                "a line pip builds or reads outside the index (local path, checkout, editable), which wheelcheck does not inspect"
            }
            Rule::MissingSystemLibrary => {
                "a wheel needs a shared library the image lacks; a system package provides it"
            }
            Rule::CouldNotCheck => {
                "something could not be fetched or read, so there is no trustworthy answer"
            }
        }
    }
}

/// A place in the user's files: a file, and the line when one is responsible.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Location {
    /// As the user named it (relative paths stay relative).
    pub file: PathBuf,
    pub line: Option<usize>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{}:{line}", self.file.display()),
            None => write!(f, "{}", self.file.display()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// The package concerned; none for findings about the whole set (an unresolvable target).
    pub package: Option<String>,
    /// From the top-level requirement down to the package (`["fastapi", "starlette", "anyio"]`).
    pub chain: Vec<String>,
    /// The lines responsible, or the requirements file when no line is.
    pub locations: Vec<Location>,
    /// The checked images (with architecture) the finding concerns.
    pub targets: Vec<String>,
    pub message: String,
    /// What to do about it.
    pub action: String,
}

impl Finding {
    /// `Pulled in by fastapi → starlette → anyio.` for a transitive package; empty otherwise.
    pub fn chain_text(&self) -> String {
        if self.chain.len() < 2 {
            return String::new();
        }
        format!("Pulled in by {}.", self.chain.join(" → "))
    }

    /// The message, the chain, the images and what to do, as one paragraph.
    pub fn full_text(&self) -> String {
        let mut parts = vec![end_sentence(&self.message)];
        let chain = self.chain_text();
        if !chain.is_empty() {
            parts.push(chain);
        }
        parts.push(format!("Images: {}.", self.targets.join(", ")));
        parts.push(format!("What to do: {}", end_sentence(&self.action)));
        parts.join(" ")
    }
}

fn end_sentence(text: &str) -> String {
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// Where findings point in the user's files.
pub struct Context<'a> {
    /// Where the user's files name each project, by normalized name.
    pub sources: &'a HashMap<String, Vec<Source>>,
    /// The first requirements file: the location of findings no line is responsible for.
    pub file: &'a Path,
}

impl Context<'_> {
    fn whole_file(&self) -> Vec<Location> {
        vec![Location {
            file: self.file.to_path_buf(),
            line: None,
        }]
    }

    /// The lines naming `top` (a requested project), or the whole file.
    fn lines_of(&self, top: Option<&str>) -> Vec<Location> {
        let lines: Vec<Location> = top
            .and_then(|name| self.sources.get(name))
            .into_iter()
            .flatten()
            .map(|source| Location {
                file: source.file.clone(),
                line: Some(source.line),
            })
            .collect();
        if lines.is_empty() {
            self.whole_file()
        } else {
            lines
        }
    }
}

/// Every finding of every checked target, most serious first; a finding that is the same on
/// several targets (amd64 and arm64, say) is listed once with all of them.
pub fn collect(report: &Report, targets: &[Target], context: &Context) -> Vec<Finding> {
    let mut findings: Vec<Finding> = Vec::new();
    for (checked, target) in report.targets.iter().zip(targets) {
        for finding in of_target::findings(checked, target, report, context) {
            merge(&mut findings, finding);
        }
    }
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    findings
}

fn merge(findings: &mut Vec<Finding>, finding: Finding) {
    let same = findings.iter_mut().find(|f| {
        f.rule == finding.rule
            && f.package == finding.package
            && f.message == finding.message
            && f.action == finding.action
            && f.locations == finding.locations
    });
    match same {
        Some(existing) => {
            for target in finding.targets {
                if !existing.targets.contains(&target) {
                    existing.targets.push(target);
                }
            }
        }
        None => findings.push(finding),
    }
}

/// The human report's closing section: each finding with its line and what to do.
pub fn human_text(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return String::new();
    }
    let mut out = String::from("\nFindings:\n");
    for finding in findings {
        let at: Vec<String> = finding.locations.iter().map(ToString::to_string).collect();
        let package = finding.package.as_deref().unwrap_or("(all)");
        out.push_str(&format!(
            "  {} [{}] {package}: {}\n",
            at.join(", "),
            finding.rule.id(),
            finding.full_text()
        ));
    }
    out
}

#[cfg(test)]
mod tests;
