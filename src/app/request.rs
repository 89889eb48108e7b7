//! The parsed requirements turned into resolver input, and the lines the resolver cannot take.

use std::collections::{BTreeSet, HashMap};
use std::str::FromStr;

use pep508_rs::{PackageName, Requirement, VersionOrUrl};
use url::Url;

use crate::index::IndexFile;
use crate::report::UnresolvedLine;
use crate::requirements::{EntryKind, ParsedRequirements, RequirementEntry};
use crate::resolve::Input;

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
            url: parsed.into(),
            sha256,
            requires_python: None,
            yanked: None,
            size: None,
            has_metadata_file: false,
            metadata_sha256: None,
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
