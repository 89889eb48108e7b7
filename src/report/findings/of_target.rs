//! The findings of one checked target, read off its report and verdict.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use super::{Context, Finding, Location, Rule};
use crate::report::{PackageReport, Report, TargetReport};
use crate::resolve::Kind;
use crate::target::Target;
use crate::verdict::recommend::install_lines;
use crate::verdict::{TargetVerdict, Verdict};

/// One target's findings, in the order the report shows them.
pub fn findings(
    checked: &TargetReport,
    target: &Target,
    report: &Report,
    context: &Context,
) -> Vec<Finding> {
    let at = At {
        checked,
        target,
        context,
    };
    let mut out = Vec::new();
    out.extend(at.resolution());
    for package in &checked.packages {
        out.extend(at.package(package, report));
    }
    if let Some(verdict) = &checked.verdict {
        out.extend(at.libraries(verdict));
    }
    out.extend(at.glibc());
    out.extend(at.not_inspected());
    if !out.iter().any(|f| f.rule == Rule::CouldNotCheck) {
        out.extend(at.unknown_verdict());
    }
    out
}

/// A target being read, with where its findings point.
struct At<'a> {
    checked: &'a TargetReport,
    target: &'a Target,
    context: &'a Context<'a>,
}

impl At<'_> {
    fn finding(
        &self,
        rule: Rule,
        package: Option<&PackageReport>,
        message: String,
        action: String,
    ) -> Finding {
        let locations = match package {
            Some(p) => self.context.lines_of(p.chain.first().map(String::as_str)),
            None => self.context.whole_file(),
        };
        Finding {
            rule,
            severity: rule.severity(),
            package: package.map(|p| p.name.clone()),
            chain: package.map(|p| p.chain.clone()).unwrap_or_default(),
            locations,
            targets: vec![self.checked.label()],
            message,
            action,
        }
    }

    /// A resolution that failed, or could not be done: pointed at the lines of the projects
    /// its message names, else at the file. A failure that packages without a file explain is
    /// left to their own, more precise findings (the resolver's text then only says that the
    /// requirements depend on them).
    fn resolution(&self) -> Option<Finding> {
        let resolution = &self.checked.resolution;
        let error = resolution.error.clone()?;
        let explained = self.checked.packages.iter().any(|p| p.kind == Kind::None);
        if explained && !resolution.could_not_check {
            return None;
        }
        let (rule, action) = if resolution.could_not_check {
            (
                Rule::CouldNotCheck,
                "fix what the message names (the index's address, access to it, or the limit flag it names) and run again",
            )
        } else if !resolution.ok {
            (
                Rule::Unresolvable,
                "change the requirements the message names so that one set of versions satisfies them on this image, or use an image where they resolve",
            )
        } else {
            return None;
        };
        let mut finding = self.finding(rule, None, error.clone(), action.to_string());
        let named: Vec<Location> = named_projects(&error, self.context)
            .iter()
            .flat_map(|name| self.context.lines_of(Some(name)))
            .filter(|l| l.line.is_some())
            .collect();
        if !named.is_empty() {
            finding.locations = named;
        }
        Some(finding)
    }

    fn package(&self, package: &PackageReport, report: &Report) -> Option<Finding> {
        let version = package.version.as_deref().unwrap_or("");
        let name = &package.name;
        match package.kind {
            Kind::None => {
                let reason = package.reason.as_deref().unwrap_or("no usable file");
                let elsewhere = images_where(report, name, |p| p.kind != Kind::None);
                let action = if elsewhere.is_empty() {
                    format!(
                        "pin {name} to a release that publishes a wheel for {} {} or an sdist, or drop it",
                        self.checked.libc,
                        self.target.arch.docker_name()
                    )
                } else {
                    format!(
                        "use an image where it installs ({}), or pin {name} to a release with a file for this one",
                        elsewhere.join(", ")
                    )
                };
                let message = format!("{name} has no file pip can install on this image: {reason}");
                Some(self.finding(Rule::NoInstallableFile, Some(package), message, action))
            }
            Kind::Sdist => {
                let message = format!(
                    "{name} {version} has no wheel for this image: pip builds it from the sdist"
                );
                let action = self.build_action(package, report);
                Some(self.finding(Rule::SourceBuild, Some(package), message, action))
            }
            Kind::Wheel => {
                let elf = package.elf.as_ref().filter(|e| !e.is_done())?;
                let message = format!(
                    "{name} {version}: ELF analysis {}; what it needs from the image is unknown",
                    elf.analysis
                );
                let action = format!(
                    "run again; if it persists, the wheel {} cannot be read",
                    package.file.as_deref().unwrap_or("file")
                );
                Some(self.finding(Rule::CouldNotCheck, Some(package), message, action))
            }
        }
    }

    /// The ways out of a source build, best first: an older release with a wheel, another
    /// image with a wheel, or the build packages to build it here.
    fn build_action(&self, package: &PackageReport, report: &Report) -> String {
        let name = &package.name;
        let mut ways = Vec::new();
        if let Some(pin) = package.avoid_build_pin.as_ref().filter(|p| p.consistent) {
            ways.push(format!(
                "add `{}` to the requirements: pip then takes {}'s wheel",
                pin.pin, pin.wheel_version
            ));
        } else if let Some(version) = &package.binary_only_version {
            // From pip's wheels-only choice, which may not honour every constraint when that
            // resolution fails as a whole: hence "if your constraints allow it".
            ways.push(format!(
                "pin {name}=={version}, the newest release with a wheel here, if your constraints allow it"
            ));
        }
        for twin in &package.binary_twins {
            ways.push(format!(
                "install {} instead, which has a wheel here ({}; caveat: {})",
                twin.install, twin.why, twin.caveat
            ));
        }
        let elsewhere = images_where(report, name, |p| p.kind == Kind::Wheel);
        if !elsewhere.is_empty() {
            ways.push(format!(
                "use an image with a wheel: {}",
                elsewhere.join(", ")
            ));
        }
        let build = self
            .checked
            .verdict
            .as_ref()
            .map(|v| v.system_packages.build.clone())
            .unwrap_or_default();
        match install_lines(&self.target.image, &build).first() {
            Some(line) => ways.push(format!(
                "build it here with the build packages this image lacks: `{line}`"
            )),
            None => ways.push(
                "build it here (the image has the build packages wheelcheck knows it needs)".into(),
            ),
        }
        ways.join("; or ")
    }

    /// Libraries the image lacks, per package: those a system package provides, and those none
    /// does.
    fn libraries(&self, verdict: &TargetVerdict) -> Vec<Finding> {
        let mut by_package: BTreeMap<&str, Lacking> = BTreeMap::new();
        for (soname, providers) in &verdict.missing_sonames {
            let needing = self
                .checked
                .system_libs_needed
                .get(soname)
                .into_iter()
                .flatten();
            for package in needing {
                let lacking = by_package.entry(package).or_default();
                if providers.is_empty() {
                    lacking.unprovided.insert(soname);
                } else {
                    lacking.provided.insert(soname);
                    lacking.providers.extend(providers.iter().cloned());
                }
            }
        }
        let mut out = Vec::new();
        for (name, lacking) in by_package {
            let package = self.checked.packages.iter().find(|p| p.name == name);
            if !lacking.provided.is_empty() {
                let providers: Vec<String> = lacking.providers.into_iter().collect();
                let line = install_lines(&self.target.image, &providers).join(" ");
                out.push(self.finding(
                    Rule::MissingSystemLibrary,
                    package,
                    format!(
                        "{name} needs {}, which the image lacks",
                        list(&lacking.provided)
                    ),
                    format!("add `{line}`"),
                ));
            }
            if !lacking.unprovided.is_empty() {
                out.push(self.finding(
                    Rule::LibraryInNoPackage,
                    package,
                    format!(
                        "{name} needs {}, which no package of this image's distribution provides",
                        list(&lacking.unprovided)
                    ),
                    format!("use another image (see the other images checked), or a release of {name} that does not need it"),
                ));
            }
        }
        out
    }

    fn glibc(&self) -> Vec<Finding> {
        let image_glibc = &self.checked.libc_version;
        self.checked
            .glibc_too_new()
            .into_iter()
            .map(|(name, needed)| {
                let package = self.checked.packages.iter().find(|p| p.name == name);
                let version = package.and_then(|p| p.version.as_deref()).unwrap_or("");
                self.finding(
                    Rule::GlibcTooNew,
                    package,
                    format!("{name} {version}'s wheel needs GLIBC {needed}; the image has {image_glibc}"),
                    format!("use an image with glibc {needed} or newer (a newer Debian release), or pin {name} to a release built for glibc {image_glibc}"),
                )
            })
            .collect()
    }

    /// Lines pip builds or reads outside the index: they point at themselves.
    fn not_inspected(&self) -> Vec<Finding> {
        self.checked
            .unresolved_lines
            .iter()
            .map(|line| {
                let mut finding = self.finding(
                    Rule::NotInspected,
                    None,
                    format!("{}: `{}`", line.why, line.line),
                    "check what this line needs by hand: wheelcheck only inspects what the index serves".into(),
                );
                if let Some(location) = parse_source(&line.source) {
                    finding.locations = vec![location];
                }
                finding
            })
            .collect()
    }

    /// An unknown verdict with nothing above to say why (no system data for the image, say).
    fn unknown_verdict(&self) -> Option<Finding> {
        let verdict = self.checked.verdict.as_ref()?;
        if verdict.verdict != Verdict::Unknown && !self.checked.could_not_check() {
            return None;
        }
        let message = match verdict.reasons.is_empty() {
            true => "this image could not be judged".to_string(),
            false => verdict.reasons.join("; "),
        };
        Some(self.finding(
            Rule::CouldNotCheck,
            None,
            message,
            "see the report; nothing about this image can be trusted until it is checked".into(),
        ))
    }
}

/// What one package lacks on an image.
#[derive(Default)]
struct Lacking<'a> {
    /// Sonames a system package provides ...
    provided: BTreeSet<&'a str>,
    /// ... these packages.
    providers: BTreeSet<String>,
    /// Sonames no package provides.
    unprovided: BTreeSet<&'a str>,
}

/// The other checked images where the package satisfies `good`.
fn images_where(report: &Report, name: &str, good: impl Fn(&PackageReport) -> bool) -> Vec<String> {
    let mut images: Vec<String> = Vec::new();
    for target in &report.targets {
        let fits = target.packages.iter().any(|p| p.name == name && good(p));
        if fits && !images.contains(&target.image) {
            images.push(target.image.clone());
        }
    }
    images
}

/// The requested projects an error message names: its words, normalized as project names.
fn named_projects(message: &str, context: &Context) -> Vec<String> {
    let mut names: Vec<String> = message
        .split(|c: char| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        .map(normalize)
        .filter(|word| context.sources.contains_key(word))
        .collect();
    names.sort();
    names.dedup();
    names
}

/// A word of a message as a project name: separators at its ends dropped, then PEP 503's form.
fn normalize(word: &str) -> String {
    crate::requirements::canonicalize_name(word.trim_matches(['-', '_', '.']))
}

/// `requirements.txt:3` (the report's form of a line) back into a location.
fn parse_source(source: &str) -> Option<Location> {
    let (file, line) = source.rsplit_once(':')?;
    Some(Location {
        file: PathBuf::from(file),
        line: Some(line.parse().ok()?),
    })
}

fn list(items: &BTreeSet<&str>) -> String {
    items.iter().copied().collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_in_a_message_are_found_normalized() {
        let sources = std::collections::HashMap::from([
            ("zope-interface".to_string(), Vec::new()),
            ("numpy".to_string(), Vec::new()),
            ("a".to_string(), Vec::new()),
        ]);
        let context = Context {
            sources: &sources,
            file: std::path::Path::new("requirements.txt"),
        };
        let message =
            "Because Zope.Interface>=6 depends on numpy==1.0 and you require numpy>=2, ...";
        assert_eq!(
            named_projects(message, &context),
            ["numpy", "zope-interface"]
        );
        assert!(named_projects("nothing here", &context).is_empty());
    }

    #[test]
    fn a_report_line_parses_back_into_a_location() {
        let location = parse_source("dir/req:uirements.txt:12").unwrap();
        assert_eq!(location.file, PathBuf::from("dir/req:uirements.txt"));
        assert_eq!(location.line, Some(12));
        assert!(parse_source("no-line").is_none());
    }
}
