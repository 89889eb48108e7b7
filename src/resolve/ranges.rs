//! Version specifiers as pubgrub ranges over the versions that actually exist.
//!
//! PEP 440 matching has rules that intervals cannot express exactly (`==1.0` matches `1.0+local`,
//! `!=1.*`, `===`). Rather than approximate them, we ask the specifier itself about every version
//! the project really has, and turn each run of consecutive matches into one interval. The
//! versions between two neighbours never exist, so including them changes nothing.

use pep440_rs::{Version, VersionSpecifiers};
use pubgrub::Ranges;

/// The range of `versions` (ascending) matching `spec`; `None` means any version.
pub fn matching(versions: &[Version], spec: Option<&VersionSpecifiers>) -> Ranges<Version> {
    let Some(spec) = spec else {
        return Ranges::full();
    };
    let mut range = Ranges::empty();
    let mut run: Option<(usize, usize)> = None;
    for (i, version) in versions.iter().enumerate() {
        if spec.contains(version) {
            run = Some(run.map_or((i, i), |(start, _)| (start, i)));
        } else if let Some((start, end)) = run.take() {
            range = range.union(&interval(&versions[start], &versions[end]));
        }
    }
    if let Some((start, end)) = run {
        range = range.union(&interval(&versions[start], &versions[end]));
    }
    range
}

fn interval(low: &Version, high: &Version) -> Ranges<Version> {
    Ranges::between(low.clone(), high.clone()).union(&Ranges::singleton(high.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn versions(list: &[&str]) -> Vec<Version> {
        list.iter().map(|v| Version::from_str(v).unwrap()).collect()
    }

    fn contained(range: &Ranges<Version>, all: &[Version]) -> Vec<String> {
        all.iter()
            .filter(|v| range.contains(v))
            .map(|v| v.to_string())
            .collect()
    }

    #[test]
    fn runs_of_matches_become_intervals() {
        let all = versions(&["0.9", "1.0", "1.0+cpu", "1.1", "1.2", "2.0", "2.1"]);
        let spec = VersionSpecifiers::from_str("==1.0").unwrap();
        assert_eq!(
            contained(&matching(&all, Some(&spec)), &all),
            ["1.0", "1.0+cpu"]
        );
        let spec = VersionSpecifiers::from_str(">=1.0,!=1.1,<2.1").unwrap();
        assert_eq!(
            contained(&matching(&all, Some(&spec)), &all),
            ["1.0", "1.0+cpu", "1.2", "2.0"]
        );
        let spec = VersionSpecifiers::from_str("!=1.*").unwrap();
        assert_eq!(
            contained(&matching(&all, Some(&spec)), &all),
            ["0.9", "2.0", "2.1"]
        );
    }

    #[test]
    fn no_specifier_is_everything_and_no_match_is_empty() {
        let all = versions(&["1.0", "2.0"]);
        assert_eq!(matching(&all, None), Ranges::full());
        let spec = VersionSpecifiers::from_str(">3").unwrap();
        assert_eq!(matching(&all, Some(&spec)), Ranges::empty());
    }
}
