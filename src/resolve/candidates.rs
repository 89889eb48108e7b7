//! Which files of a project pip could install on one target, and in which order it tries them.
//!
//! This mirrors pip's `LinkEvaluator` (is a file usable here at all: name, tags, Requires-Python,
//! `--only-binary`/`--no-binary`, hashes) and `CandidateEvaluator._sort_key` (which usable file
//! is best). The order is the whole answer to "which file would pip pick": a newer version with
//! only an sdist beats an older one with a wheel, yanked files come last, and within a version
//! the wheel with the most preferred tag wins.

use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::filename::DistFilename;
use crate::index::{IndexFile, ProjectFile};
use crate::requirements::FormatControl;
use crate::tags::TagPriority;

/// What a target allows, beyond its tags: the run's options and the target's interpreter.
#[derive(Debug, Clone)]
pub struct FilePolicy {
    pub python_full: Version,
    pub format_control: FormatControl,
    /// `--only-binary :all:` forced on top of the file's options (the binary-only resolution).
    pub binary_only: bool,
    pub prefer_binary: bool,
    /// In hash-checking mode, the sha256 digests the requirements file allows per project.
    pub allowed_hashes: Option<std::collections::HashMap<PackageName, BTreeSet<String>>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileKind {
    /// `rank` is the position of the wheel's best tag in the target's tag list (0 is best).
    Wheel {
        rank: usize,
        build: Option<(u64, String)>,
    },
    Sdist,
}

#[derive(Debug, Clone)]
pub struct Candidate {
    pub version: Version,
    pub file: Arc<IndexFile>,
    pub kind: FileKind,
}

impl Candidate {
    pub fn is_yanked(&self) -> bool {
        self.file.yanked.is_some()
    }

    pub fn is_wheel(&self) -> bool {
        matches!(self.kind, FileKind::Wheel { .. })
    }
}

/// Why a file of the project cannot be installed on this target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rejection {
    Tags,
    RequiresPython(String),
    OnlyBinary,
    NoBinary,
    Hash,
}

/// A file of the project this target cannot use, kept so that reports can say why a release
/// has no usable wheel here (its wheels' tags) and what the project's releases are.
#[derive(Debug, Clone)]
pub struct Rejected {
    pub version: Version,
    pub file: Arc<IndexFile>,
    pub why: Rejection,
}

impl Rejected {
    pub fn is_yanked(&self) -> bool {
        self.file.yanked.is_some()
    }
}

impl Rejection {
    /// The reason in words, as the report shows it when nothing of a release is usable.
    pub fn describe(&self, python: &Version) -> String {
        match self {
            Rejection::Tags => "no wheel for this platform and Python, and no sdist".into(),
            Rejection::RequiresPython(spec) => {
                format!("Requires-Python {spec} excludes Python {python}")
            }
            Rejection::OnlyBinary => "only an sdist, and binary-only was asked for".into(),
            Rejection::NoBinary => "only wheels, and --no-binary forbids them".into(),
            Rejection::Hash => "no file matches the --hash values".into(),
        }
    }
}

/// All usable files of a project on a target, best first, and what was rejected.
#[derive(Debug, Clone, Default)]
pub struct Candidates {
    pub ordered: Vec<Candidate>,
    pub rejected: Vec<Rejected>,
    /// The versions of `ordered`, ascending, once each: every requirement on the project is
    /// turned into a range over them.
    versions: Vec<Version>,
}

impl Candidates {
    pub fn evaluate(
        name: &PackageName,
        files: &[ProjectFile],
        tags: &TagPriority,
        policy: &FilePolicy,
    ) -> Self {
        let mut out = Candidates::default();
        let allowed = policy.format_control.allowed_formats(name);
        // Files with the same tags rank alike, and a project's thousands of files carry few
        // distinct tag sets: each is ranked once.
        let mut ranks: Vec<Option<Option<usize>>> = Vec::new();
        for ProjectFile {
            file,
            dist,
            tag_set,
        } in files
        {
            let kind = match dist {
                DistFilename::Wheel(_) if !allowed.binary => Err(Rejection::NoBinary),
                DistFilename::Wheel(wheel) => rank_once(&mut ranks, *tag_set, || tags.rank(wheel))
                    .map(|rank| FileKind::Wheel {
                        rank,
                        build: wheel.build_tag.clone(),
                    })
                    .ok_or(Rejection::Tags),
                DistFilename::Sdist(_) if !allowed.source || policy.binary_only => {
                    Err(Rejection::OnlyBinary)
                }
                DistFilename::Sdist(_) => Ok(FileKind::Sdist),
            };
            match kind.and_then(|kind| check_file(name, file, policy).map(|()| kind)) {
                Ok(kind) => out.ordered.push(Candidate {
                    version: dist.version().clone(),
                    file: Arc::clone(file),
                    kind,
                }),
                Err(why) => out.rejected.push(Rejected {
                    version: dist.version().clone(),
                    file: Arc::clone(file),
                    why,
                }),
            }
        }
        let sdist_priority = tags.len();
        out.ordered
            .sort_by(|a, b| sort_key_cmp(b, a, policy.prefer_binary, sdist_priority));
        let set: BTreeSet<&Version> = out.ordered.iter().map(|c| &c.version).collect();
        out.versions = set.into_iter().cloned().collect();
        out
    }

    /// Every version that has at least one usable file, ascending.
    pub fn versions(&self) -> &[Version] {
        &self.versions
    }

    /// Why no file of the versions `wanted` accepts is installable here, in words.
    pub fn explain_none(&self, python: &Version, wanted: impl Fn(&Version) -> bool) -> String {
        let rejected: Vec<&Rejection> = self
            .rejected
            .iter()
            .filter(|rejected| wanted(&rejected.version))
            .map(|rejected| &rejected.why)
            .collect();
        if rejected.is_empty() {
            return "no release matches the requirement".into();
        }
        let mut reasons: Vec<String> = Vec::new();
        for why in rejected {
            let text = why.describe(python);
            if !reasons.contains(&text) {
                reasons.push(text);
            }
        }
        reasons.join("; ")
    }
}

/// The rank of tag set `id`, computed the first time it is asked for.
fn rank_once(
    ranks: &mut Vec<Option<Option<usize>>>,
    id: u32,
    rank: impl FnOnce() -> Option<usize>,
) -> Option<usize> {
    let at = id as usize;
    if ranks.len() <= at {
        ranks.resize(at + 1, None);
    }
    *ranks[at].get_or_insert_with(rank)
}

/// The rules after the file's kind and tags: Requires-Python and `--hash`.
fn check_file(name: &PackageName, file: &IndexFile, policy: &FilePolicy) -> Result<(), Rejection> {
    if let Some(spec) = &file.requires_python
        && !spec.contains(&policy.python_full)
    {
        return Err(Rejection::RequiresPython(spec.to_string()));
    }
    if let Some(hashes) = &policy.allowed_hashes {
        let ok = hashes
            .get(name)
            .zip(file.sha256.as_ref())
            .is_some_and(|(allowed, sha)| allowed.contains(sha));
        if !ok {
            return Err(Rejection::Hash);
        }
    }
    Ok(())
}

/// pip's `_sort_key`: (has_allowed_hash, yank_value, binary_preference, version, pri, build_tag),
/// larger is better. Hashes are already filtered, so that key is equal for every candidate.
fn sort_key_cmp(
    a: &Candidate,
    b: &Candidate,
    prefer_binary: bool,
    sdist_priority: usize,
) -> Ordering {
    let yank = |c: &Candidate| !c.is_yanked();
    let binary = |c: &Candidate| prefer_binary && c.is_wheel();
    let pri = |c: &Candidate| match c.kind {
        FileKind::Wheel { rank, .. } => -(rank as i64),
        FileKind::Sdist => -(sdist_priority as i64),
    };
    fn build(c: &Candidate) -> Option<&(u64, String)> {
        match &c.kind {
            FileKind::Wheel { build, .. } => build.as_ref(),
            FileKind::Sdist => None,
        }
    }
    yank(a)
        .cmp(&yank(b))
        .then_with(|| binary(a).cmp(&binary(b)))
        .then_with(|| a.version.cmp(&b.version))
        .then_with(|| pri(a).cmp(&pri(b)))
        .then_with(|| build(a).cmp(&build(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_tag_set_is_ranked_once() {
        let mut ranks = Vec::new();
        let mut calls = 0;
        for (id, rank) in [(2, Some(5)), (0, None), (2, Some(9)), (0, Some(1))] {
            rank_once(&mut ranks, id, || {
                calls += 1;
                rank
            });
        }
        assert_eq!(calls, 2);
        assert_eq!(rank_once(&mut ranks, 2, || Some(0)), Some(5));
        assert_eq!(rank_once(&mut ranks, 0, || Some(0)), None);
    }
}
