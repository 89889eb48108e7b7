//! What to do instead of a source build: the pin that takes an older release's wheel
//! (`avoid_build_pin`) and the well-known binary twins with a wheel on the image
//! (`binary_twins`).

use std::str::FromStr;

use pep508_rs::PackageName;
use serde::Serialize;

use super::{PackageReport, TargetReport};
use crate::knowledge::twins::BinaryTwins;
use crate::resolve::Kind;
use crate::resolve::choice::AvoidBuild;
use crate::tags::TagPriority;

/// JSON `avoid_build_pin`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AvoidBuildPin {
    /// The requirement to add: `duckdb<1.4.0`.
    pub pin: String,
    /// The release pip then takes, from a wheel.
    pub wheel_version: String,
    /// False when the user's own requirements on the project exclude `wheel_version`.
    pub consistent: bool,
    /// Those requirements, as written (`duckdb>=2`).
    pub conflicts_with: Vec<String>,
}

pub fn pin(name: &str, avoid: &AvoidBuild) -> AvoidBuildPin {
    AvoidBuildPin {
        pin: format!("{name}<{}", avoid.below),
        wheel_version: avoid.wheel_version.to_string(),
        consistent: avoid.conflicts.is_empty(),
        conflicts_with: avoid.conflicts.clone(),
    }
}

impl AvoidBuildPin {
    /// One clause for the reports: "`d<1.4.0` avoids the build (pip then takes 1.3.2's wheel)".
    pub fn sentence(&self) -> String {
        let base = format!(
            "`{}` avoids the build (pip then takes {}'s wheel)",
            self.pin, self.wheel_version
        );
        if self.consistent {
            base
        } else {
            let conflicts: Vec<String> = self
                .conflicts_with
                .iter()
                .map(|c| format!("`{c}`"))
                .collect();
            format!(
                "{base}, but it conflicts with your {}",
                conflicts.join(", ")
            )
        }
    }
}

/// JSON `binary_twins`: one twin with a wheel for this image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TwinReport {
    /// What to write in the requirements instead (`psycopg2-binary`, `psycopg[binary]`).
    pub install: String,
    pub project: String,
    /// Its latest release and wheel platforms when the data was checked (`checked`).
    pub latest: String,
    pub wheels: Vec<String>,
    pub checked: String,
    pub why: String,
    pub caveat: String,
    pub source: String,
}

/// The lines under a needs-build note in the human report: the pin, then each twin.
pub fn human_lines(package: &PackageReport) -> String {
    let mut out = String::new();
    if let Some(pin) = &package.avoid_build_pin {
        out.push_str(&format!("      {}\n", pin.sentence()));
    }
    for twin in &package.binary_twins {
        out.push_str(&format!(
            "      or install {} instead (a wheel here); caveat: {}\n",
            twin.install, twin.caveat
        ));
    }
    out
}

/// Fill `binary_twins` of every sdist of the target whose twin has a wheel the image accepts.
pub fn annotate_twins(target: &mut TargetReport, tags: &TagPriority, twins: &BinaryTwins) {
    for package in target.packages.iter_mut().filter(|p| p.kind == Kind::Sdist) {
        let Ok(name) = PackageName::from_str(&package.name) else {
            continue;
        };
        package.binary_twins = twins
            .with_wheel_for(&name, tags)
            .into_iter()
            .map(|twin| TwinReport {
                install: twin.install.clone(),
                project: twin.project.clone(),
                latest: twin.latest.clone(),
                wheels: twin.wheels.clone(),
                checked: twins.checked.clone(),
                why: twin.why.clone(),
                caveat: twin.caveat.clone(),
                source: twin.source.clone(),
            })
            .collect();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_against_the_user_s_specifier_says_it_conflicts() {
        let avoid = AvoidBuild {
            below: "1.4.0".parse().unwrap(),
            wheel_version: "1.3.2".parse().unwrap(),
            conflicts: vec!["duck>=2".into()],
        };
        let pin = pin("duck", &avoid);
        assert_eq!(pin.pin, "duck<1.4.0");
        assert!(!pin.consistent);
        assert_eq!(
            pin.sentence(),
            "`duck<1.4.0` avoids the build (pip then takes 1.3.2's wheel), but it conflicts with your `duck>=2`"
        );
    }
}
