//! Why pip's choice fell on a file, and which pin would avoid a source build.
//!
//! Both are read from the same ordered candidates the choice was made from, so the explanation
//! cannot drift from the choice: "best of 3 usable wheels", "its wheels are all for
//! manylinux_2_28", "an older release has a wheel here; `<2.0.0` takes it".

use std::collections::BTreeSet;

use pep440_rs::Version;
use pep508_rs::{Requirement, VersionOrUrl};

use super::candidates::{Candidate, Candidates, Rejection};
use crate::filename::WheelFilename;

/// What the report needs to say why this file was chosen on this target.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Choice {
    /// Wheels of the chosen release this target can use (the chosen one is the best of them).
    pub usable_wheels: usize,
    /// Whether the chosen release's sdist is usable here.
    pub usable_sdist: bool,
    /// The chosen release's wheels this target cannot use: their distinct interpreter tags
    /// (`cp313`) and platform tags (`manylinux_2_28_x86_64`), sorted. Only Linux and pure
    /// wheels get this far: the index reader drops those no Linux image could use.
    pub other_wheel_pythons: Vec<String>,
    pub other_wheel_platforms: Vec<String>,
    /// Why some of those wheels are unusable other than by their tags (Requires-Python,
    /// `--no-binary`, hashes), in words.
    pub other_wheel_reasons: Vec<String>,
    /// The newest release older than the chosen one with a wheel usable here (not yanked, not
    /// a pre-release unless those are allowed); the requirements' specifiers are not applied.
    pub older_wheel_version: Option<Version>,
}

/// A pin that makes pip take an older release's wheel instead of building the chosen sdist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvoidBuild {
    /// `name<below` is the pin: `below` is the oldest release newer than `wheel_version`.
    pub below: Version,
    /// The release pip then takes, from a wheel.
    pub wheel_version: Version,
    /// The user's own requirements and constraints on the project that exclude `wheel_version`
    /// (as written, `duckdb>=2`): the pin conflicts with them.
    pub conflicts: Vec<String>,
}

/// Why `chosen` was pip's choice among `candidates`, with pre-releases allowed or not.
pub fn explain(candidates: &Candidates, chosen: &Candidate, allow_pre: bool) -> Choice {
    let same_release = |version: &Version| *version == chosen.version;
    let usable: Vec<&Candidate> = candidates
        .ordered
        .iter()
        .filter(|c| same_release(&c.version))
        .collect();
    let mut pythons = BTreeSet::new();
    let mut platforms = BTreeSet::new();
    let mut reasons: Vec<String> = Vec::new();
    for rejected in candidates
        .rejected
        .iter()
        .filter(|r| same_release(&r.version))
    {
        let Ok(wheel) = WheelFilename::parse(&rejected.file.filename) else {
            continue;
        };
        let reason = match &rejected.why {
            Rejection::Tags => {
                pythons.extend(wheel.python_tags.iter().cloned());
                platforms.extend(wheel.platform_tags.iter().cloned());
                continue;
            }
            Rejection::RequiresPython(spec) => format!("its wheels' Requires-Python is {spec}"),
            Rejection::NoBinary => "--no-binary forbids its wheels".to_string(),
            Rejection::Hash => "no wheel matches the --hash values".to_string(),
            Rejection::OnlyBinary => continue,
        };
        if !reasons.contains(&reason) {
            reasons.push(reason);
        }
    }
    Choice {
        usable_wheels: usable.iter().filter(|c| c.is_wheel()).count(),
        usable_sdist: usable.iter().any(|c| !c.is_wheel()),
        other_wheel_pythons: pythons.into_iter().collect(),
        other_wheel_platforms: platforms.into_iter().collect(),
        other_wheel_reasons: reasons,
        older_wheel_version: older_wheel(candidates, &chosen.version, allow_pre),
    }
}

/// The newest release below `version` with a usable, unyanked wheel.
fn older_wheel(candidates: &Candidates, version: &Version, allow_pre: bool) -> Option<Version> {
    candidates
        .ordered
        .iter()
        .filter(|c| c.is_wheel() && !c.is_yanked() && c.version < *version)
        .filter(|c| allow_pre || !c.version.any_prerelease())
        .map(|c| c.version.clone())
        .max()
}

/// For a chosen sdist: the pin below the first release after the newest older release with a
/// wheel here, and which of `own` (the user's requirements on this project) it conflicts with.
pub fn avoid_build(
    candidates: &Candidates,
    chosen: &Candidate,
    choice: &Choice,
    allow_pre: bool,
    own: &[&Requirement],
) -> Option<AvoidBuild> {
    if chosen.is_wheel() {
        return None;
    }
    let wheel_version = choice.older_wheel_version.clone()?;
    let below = releases(candidates, allow_pre)
        .into_iter()
        .find(|release| *release > wheel_version)?;
    let conflicts = own
        .iter()
        .filter(|requirement| match &requirement.version_or_url {
            Some(VersionOrUrl::VersionSpecifier(spec)) => !spec.contains(&wheel_version),
            Some(VersionOrUrl::Url(_)) => true,
            None => false,
        })
        .map(|requirement| requirement.to_string())
        .collect();
    Some(AvoidBuild {
        below,
        wheel_version,
        conflicts,
    })
}

/// The project's releases on the index, ascending, whether usable here or not: every version
/// with a file that is not yanked, pre-releases only when allowed.
fn releases(candidates: &Candidates, allow_pre: bool) -> Vec<Version> {
    let usable = candidates
        .ordered
        .iter()
        .filter(|c| !c.is_yanked())
        .map(|c| &c.version);
    let rejected = candidates
        .rejected
        .iter()
        .filter(|r| !r.is_yanked())
        .map(|r| &r.version);
    let all: BTreeSet<&Version> = usable
        .chain(rejected)
        .filter(|v| allow_pre || !v.any_prerelease())
        .collect();
    all.into_iter().cloned().collect()
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;
    use std::sync::Arc;

    use pep508_rs::PackageName;

    use super::*;
    use crate::index::IndexFile;
    use crate::requirements::FormatControl;
    use crate::resolve::candidates::FilePolicy;
    use crate::tags::{Arch, Libc, TagPriority, supported_tags};

    fn file(name: &str) -> IndexFile {
        IndexFile::named(name)
    }

    /// duckdb-like: 1.3.2 has a musllinux wheel, 1.4.0 and 2.0.0 only an sdist and glibc wheels.
    fn duck(extra: &[IndexFile]) -> Candidates {
        let mut files = vec![
            file("duck-1.3.2-cp312-cp312-musllinux_1_2_x86_64.whl"),
            file("duck-1.3.2.tar.gz"),
            file("duck-1.4.0.tar.gz"),
            file("duck-1.4.0-cp312-cp312-manylinux_2_28_x86_64.whl"),
            file("duck-2.0.0.tar.gz"),
            file("duck-2.0.0-cp313-cp313-manylinux_2_28_x86_64.whl"),
            file("duck-2.0.0-cp312-cp312-macosx_11_0_arm64.whl"),
        ];
        files.extend_from_slice(extra);
        let tags = supported_tags((3, 12), Libc::Musl { major: 1, minor: 2 }, Arch::X86_64);
        let policy = FilePolicy {
            python_full: Version::from_str("3.12.4").unwrap(),
            format_control: FormatControl::default(),
            binary_only: false,
            prefer_binary: false,
            allowed_hashes: None,
        };
        let name = PackageName::from_str("duck").unwrap();
        let files = crate::index::ProjectFile::parse_all(&name, files);
        Candidates::evaluate(&name, &files, &TagPriority::new(&tags), &policy)
    }

    #[test]
    fn an_sdist_choice_names_the_release_s_other_wheels_and_the_older_wheel() {
        let candidates = duck(&[]);
        let chosen = &candidates.ordered[0];
        assert_eq!(chosen.file.filename, "duck-2.0.0.tar.gz");
        let choice = explain(&candidates, chosen, false);
        assert_eq!(choice.usable_wheels, 0);
        assert!(choice.usable_sdist);
        assert_eq!(choice.other_wheel_pythons, ["cp312", "cp313"]);
        assert_eq!(
            choice.other_wheel_platforms,
            ["macosx_11_0_arm64", "manylinux_2_28_x86_64"]
        );
        assert_eq!(choice.older_wheel_version.unwrap().to_string(), "1.3.2");
    }

    #[test]
    fn the_pin_stops_below_the_first_release_after_the_wheel() {
        let candidates = duck(&[]);
        let chosen = &candidates.ordered[0];
        let choice = explain(&candidates, chosen, false);
        let pin = avoid_build(&candidates, chosen, &choice, false, &[]).unwrap();
        // 1.4.0 has no wheel here either: the pin is <1.4.0, not <2.0.0.
        assert_eq!(pin.below.to_string(), "1.4.0");
        assert_eq!(pin.wheel_version.to_string(), "1.3.2");
        assert!(pin.conflicts.is_empty());
    }

    #[test]
    fn yanked_and_pre_releases_are_not_pin_bounds() {
        let mut yanked = file("duck-1.3.3.tar.gz");
        yanked.yanked = Some("broken".into());
        let candidates = duck(&[yanked, file("duck-1.3.5rc1.tar.gz")]);
        let chosen = &candidates.ordered[0];
        let choice = explain(&candidates, chosen, false);
        let pin = avoid_build(&candidates, chosen, &choice, false, &[]).unwrap();
        assert_eq!(pin.below.to_string(), "1.4.0");
        let pin = avoid_build(&candidates, chosen, &choice, true, &[]).unwrap();
        assert_eq!(pin.below.to_string(), "1.3.5rc1");
    }

    #[test]
    fn a_pin_the_user_s_own_specifier_excludes_is_a_conflict() {
        let candidates = duck(&[]);
        let chosen = &candidates.ordered[0];
        let choice = explain(&candidates, chosen, false);
        let at_least_two = Requirement::from_str("duck>=2").unwrap();
        let any = Requirement::from_str("duck").unwrap();
        let pin = avoid_build(&candidates, chosen, &choice, false, &[&at_least_two, &any]).unwrap();
        assert_eq!(pin.conflicts, ["duck>=2"]);
    }

    #[test]
    fn a_wheel_choice_counts_its_release_s_usable_wheels_and_has_no_pin() {
        let candidates = duck(&[file("duck-2.0.0-py3-none-any.whl")]);
        let chosen = &candidates.ordered[0];
        assert_eq!(chosen.file.filename, "duck-2.0.0-py3-none-any.whl");
        let choice = explain(&candidates, chosen, false);
        assert_eq!(choice.usable_wheels, 1);
        assert!(avoid_build(&candidates, chosen, &choice, false, &[]).is_none());
    }

    #[test]
    fn requires_python_on_the_release_s_wheels_is_a_reason() {
        let mut newer = file("duck-2.0.0-cp312-cp312-musllinux_1_2_x86_64.whl");
        newer.requires_python = Some(Arc::new(
            pep440_rs::VersionSpecifiers::from_str(">=3.13").unwrap(),
        ));
        let candidates = duck(&[newer]);
        let choice = explain(&candidates, &candidates.ordered[0], false);
        assert_eq!(
            choice.other_wheel_reasons,
            ["its wheels' Requires-Python is >=3.13"]
        );
    }
}
