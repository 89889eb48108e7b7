//! pip requirements files, read exactly the way pip 26 reads them.
//!
//! The reference is pip's `req/req_file.py` (lines, options, includes) and
//! `req/constructors.py` (what a requirement line is). Where a file is ambiguous, pip's answer is
//! the right one: this module exists so that the rest of wheelcheck sees the same requirements,
//! index options and hash mode that `pip install -r` would in the image.
//!
//! Unlike pip, a bad line does not stop everything: it becomes a [`LineError`] and parsing goes
//! on, so one run reports every problem. Things pip silently ignores (an option with no effect
//! where it is, a second `-r` on one line) or only logs become warnings.
//!
//! Submodules, in the order a line goes through them:
//! - `preprocess`: bytes → decoded text → pip's logical lines (continuations, comments, `${VAR}`)
//! - `options`: the option part of a line, as pip's `optparse` parser sees it
//! - `format_control`: `--no-binary` / `--only-binary` (and pip 26's release control)
//! - `classify`: what a requirement or `-e` target is (name, URL, VCS, archive, directory)

mod classify;
mod format_control;
mod options;
mod preprocess;
#[cfg(test)]
mod tests;

use std::fmt;
use std::path::{Path, PathBuf};

use pep508_rs::{ExtraName, MarkerTree, PackageName, Requirement};
use serde::Serialize;

pub use format_control::{
    AllowedFormats, FormatControl, Kind, MissingValue, ReleaseControl, ReleaseKind,
    canonicalize_name,
};
use options::{LineOptions, Opt};
use preprocess::LogicalLine;

/// pip's `STRONG_HASHES`: the only algorithms `--hash` accepts.
pub const STRONG_HASHES: [&str; 3] = ["sha256", "sha384", "sha512"];

/// Includes nested deeper than this are refused, so that a cycle pip cannot see (through
/// symlinks the file system does not resolve) still ends.
const MAX_INCLUDE_DEPTH: usize = 64;

/// Where a line is: the file as it was named (relative to the including file's directory for
/// includes) and the number of its first physical line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Source {
    pub file: PathBuf,
    pub line: usize,
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)
    }
}

/// One requirement (or constraint) line.
#[derive(Debug, Clone, PartialEq)]
pub struct RequirementEntry {
    pub source: Source,
    /// The logical line as written: continuations joined, comment removed, `${VAR}` *not*
    /// expanded, so that printing it never leaks a secret.
    pub text: String,
    pub kind: EntryKind,
    /// `--hash` options of the line, in order (always empty for editables: pip ignores them).
    pub hashes: Vec<Hash>,
}

/// A `--hash=algorithm:digest` option.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Hash {
    /// One of [`STRONG_HASHES`].
    pub algorithm: String,
    /// Lowercased, as pip compares it.
    pub digest: String,
}

/// What a requirement line asks for. URL and path fields carry expanded `${VAR}` values;
/// relative local paths are resolved against the working directory, as pip does.
#[derive(Debug, Clone, PartialEq)]
pub enum EntryKind {
    /// A named requirement, possibly `name @ url`, with extras, specifiers and markers.
    Named(Requirement),
    /// A URL or local archive that is neither VCS nor editable (`https://h/foo-1.0-py3-none-any.whl`,
    /// `./dist/foo-1.0.tar.gz`). Local archives are given as `file://` URLs. `name` comes from a
    /// wheel filename or `#egg=`.
    Url {
        url: String,
        name: Option<PackageName>,
        markers: Option<MarkerTree>,
        /// `[extras]` after a local archive path (pip does not look for them after a URL).
        extras: Vec<ExtraName>,
    },
    /// `-e` / `--editable`: `target` is the absolute project directory for local projects, or
    /// the VCS URL (with `git:` turned into `git+git:` like pip does).
    Editable {
        target: String,
        name: Option<PackageName>,
        extras: Vec<ExtraName>,
        /// Only the `name @ url ; markers` form can carry markers.
        markers: Option<MarkerTree>,
    },
    /// A non-editable `git+`, `hg+`, `svn+` or `bzr+` URL.
    Vcs {
        url: String,
        name: Option<PackageName>,
        markers: Option<MarkerTree>,
    },
    /// A local project directory, or a `file:` URL to something that is not an archive.
    LocalPath {
        /// Absolute and normalised.
        path: String,
        name: Option<PackageName>,
        markers: Option<MarkerTree>,
        extras: Vec<ExtraName>,
    },
}

impl EntryKind {
    /// The project name, when the line says it.
    pub fn name(&self) -> Option<&PackageName> {
        match self {
            Self::Named(req) => Some(&req.name),
            Self::Url { name, .. }
            | Self::Editable { name, .. }
            | Self::Vcs { name, .. }
            | Self::LocalPath { name, .. } => name.as_ref(),
        }
    }

    /// The environment markers, if any (`None` when the requirement applies everywhere).
    pub fn markers(&self) -> Option<&MarkerTree> {
        match self {
            Self::Named(req) => (!req.marker.is_true()).then_some(&req.marker),
            Self::Url { markers, .. }
            | Self::Editable { markers, .. }
            | Self::Vcs { markers, .. }
            | Self::LocalPath { markers, .. } => markers.as_ref(),
        }
    }
}

/// The index and install options the files set, after pip's rules for combining them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct IndexOptions {
    /// `-i`: replaces PyPI *and* every extra index given before it, as in pip.
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    /// `--no-index`: no index at all (later `-i` / `--extra-index-url` are ignored, as in pip).
    pub no_index: bool,
    /// `-f`: a relative path that exists next to the requirements file is made absolute.
    pub find_links: Vec<String>,
    pub pre: bool,
    pub prefer_binary: bool,
    /// pip's hash-checking mode: `--require-hashes`, or any `--hash` unless
    /// `--no-require-hashes` was given.
    pub require_hashes: bool,
    /// `--no-require-hashes` (pip 26): hashes do not switch hash-checking mode on.
    pub no_require_hashes: bool,
    pub format_control: FormatControl,
    /// `--all-releases` / `--only-final` (pip 26); `--pre` adds `:all:` to `all_releases`.
    pub release_control: ReleaseControl,
    pub trusted_hosts: Vec<String>,
    /// `--use-feature` values, without duplicates.
    pub features: Vec<String>,
}

/// Everything read from a requirements file and the files it includes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ParsedRequirements {
    /// Requirements, in file order with includes expanded where they appear.
    pub requirements: Vec<RequirementEntry>,
    /// Constraints from `-c` files (a `-r` inside a `-c` file gives requirements, as in pip).
    pub constraints: Vec<RequirementEntry>,
    pub options: IndexOptions,
    /// Lines pip would refuse; each one was skipped and parsing went on.
    pub errors: Vec<LineError>,
    /// Lines pip accepts but partly ignores or warns about.
    pub warnings: Vec<LineError>,
}

/// A problem with one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    pub source: Source,
    /// The line as written (unexpanded, see [`RequirementEntry::text`]).
    pub text: String,
    /// What is wrong; expanded `${VAR}` values are replaced by their names.
    pub message: String,
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.source, self.message, self.text)
    }
}

/// The top-level requirements file cannot be read. Included files failing are [`LineError`]s.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error(
        "requirements file {} not found: check the path (a relative path is taken from the current directory)",
        .path.display()
    )]
    NotFound { path: PathBuf },
    #[error("{} is not a text requirements file: {why}", .path.display())]
    NotText { path: PathBuf, why: String },
    #[error("cannot read requirements file {}: {source}; check that it is a readable file", .path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Reads and parses a requirements file; `env` looks up `${VAR}`s (normally `std::env::var`).
pub fn parse_file(
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<ParsedRequirements, ReadError> {
    let content = read_requirements_file(path)?;
    Ok(parse_str(&content, path, env))
}

/// Parses requirements-file content as if it had been read from `path` (includes are resolved
/// relative to `path`'s directory).
pub fn parse_str(
    content: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> ParsedRequirements {
    // pip resolves local requirement paths against the working directory; without one
    // (deleted directory), the root is the only honest absolute base.
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/"));
    parse_in(content, path, env, cwd)
}

/// [`parse_str`] with an explicit working directory (which must be absolute).
fn parse_in(
    content: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: PathBuf,
) -> ParsedRequirements {
    let chain = [file_identity(&cwd, path)];
    let mut parser = Parser {
        env,
        cwd,
        out: ParsedRequirements::default(),
        hash_mode: HashMode::default(),
    };
    parser.parse_content(
        content,
        &FileContext {
            path,
            constraint: false,
            chain: &chain,
        },
    );
    parser.finish()
}

fn read_requirements_file(path: &Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::NotFound => ReadError::NotFound {
            path: path.to_path_buf(),
        },
        _ => ReadError::Io {
            path: path.to_path_buf(),
            source,
        },
    })?;
    preprocess::decode(&bytes).map_err(|why| ReadError::NotText {
        path: path.to_path_buf(),
        why,
    })
}

/// How a file is recognised in an include chain: its real path when it exists (so symlinks
/// cannot hide a cycle), else pip's `abspath`.
fn file_identity(cwd: &Path, path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| classify::normalize(&cwd.join(path)))
}

/// The file a line comes from.
struct FileContext<'c> {
    path: &'c Path,
    /// Lines of a `-c` file are constraints.
    constraint: bool,
    /// Identities of the files being read, from the top-level one to this one.
    chain: &'c [PathBuf],
}

/// A line being handled: where it is and its text.
struct Line<'l> {
    source: Source,
    logical: &'l LogicalLine,
}

/// Where hash-checking mode was asked for, for and against, and whether any hash was seen.
#[derive(Default)]
struct HashMode {
    required_at: Option<(Source, String)>,
    opted_out_at: Option<(Source, String)>,
    any_hashes: bool,
}

/// Options that do something on a requirement line (everything else is ignored there by pip).
const REQUIREMENT_LINE_OPTIONS: &[Opt] = &[
    Opt::Editable,
    Opt::Hash,
    Opt::ConfigSettings,
    Opt::GlobalOption,
    Opt::NoBinary,
    Opt::OnlyBinary,
    Opt::AllReleases,
    Opt::OnlyFinal,
];

/// Options that do something on a `-r` / `-c` line.
const INCLUDE_LINE_OPTIONS: &[Opt] = &[
    Opt::Requirement,
    Opt::Constraint,
    Opt::NoBinary,
    Opt::OnlyBinary,
    Opt::AllReleases,
    Opt::OnlyFinal,
];

/// Options that do something on a line with no requirement.
const OPTION_LINE_OPTIONS: &[Opt] = &[
    Opt::IndexUrl,
    Opt::ExtraIndexUrl,
    Opt::NoIndex,
    Opt::FindLinks,
    Opt::NoBinary,
    Opt::OnlyBinary,
    Opt::PreferBinary,
    Opt::RequireHashes,
    Opt::NoRequireHashes,
    Opt::Pre,
    Opt::AllReleases,
    Opt::OnlyFinal,
    Opt::TrustedHost,
    Opt::UseFeature,
    // Warned about on its own, with pip's words.
    Opt::Hash,
];

struct Parser<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    cwd: PathBuf,
    out: ParsedRequirements,
    hash_mode: HashMode,
}

impl Parser<'_> {
    fn parse_content(&mut self, content: &str, file: &FileContext<'_>) {
        for logical in preprocess::logical_lines(content, self.env) {
            let line = Line {
                source: Source {
                    file: file.path.to_path_buf(),
                    line: logical.number,
                },
                logical: &logical,
            };
            self.handle_line(&line, file);
        }
    }

    /// pip's `RequirementsFileParser._parse_and_recurse` + `handle_line` for one line.
    fn handle_line(&mut self, line: &Line<'_>, file: &FileContext<'_>) {
        let (args, option_text) = options::break_args_options(&line.logical.expanded);
        let parsed = options::shlex_split(&option_text)
            .map_err(|err| format!("could not split options ({err}): {option_text}"))
            .and_then(|tokens| options::parse(&tokens));
        let opts = match parsed {
            Ok(opts) => opts,
            Err(message) => return self.error(line, message),
        };
        // pip's parser writes these into the finder's own objects, whatever the line is.
        self.apply_shared_controls(line, &opts);
        if !opts.ignored_args.is_empty() {
            self.warn(
                line,
                format!(
                    "pip ignores the arguments {:?} after the options",
                    opts.ignored_args
                ),
            );
        }
        if !args.is_empty() || !opts.editables.is_empty() {
            self.requirement_line(line, file, &args, &opts);
        } else if let Some(target) = opts.requirements.first() {
            self.include(line, file, target, false, &opts);
        } else if let Some(target) = opts.constraints.first() {
            self.include(line, file, target, true, &opts);
        } else {
            self.option_line(line, file, &opts);
        }
    }

    fn apply_shared_controls(&mut self, line: &Line<'_>, opts: &LineOptions) {
        let options = &mut self.out.options;
        let mut failures = Vec::new();
        for (kind, value) in &opts.binary {
            failures.extend(options.format_control.handle(value, *kind).err());
        }
        for (kind, value) in &opts.releases {
            failures.extend(options.release_control.handle(value, *kind).err());
        }
        for failure in failures {
            self.error(line, failure.to_string());
        }
    }

    /// A requirement or `-e` line (pip 26: with both, the requirement text is taken as the
    /// editable target).
    fn requirement_line(
        &mut self,
        line: &Line<'_>,
        file: &FileContext<'_>,
        args: &str,
        opts: &LineOptions,
    ) {
        self.warn_ignored(
            line,
            opts,
            REQUIREMENT_LINE_OPTIONS,
            "on a requirement line",
        );
        if opts.editables.len() > 1 || (!args.is_empty() && !opts.editables.is_empty()) {
            self.warn(
                line,
                "pip takes only one requirement per line; the other -e targets are ignored",
            );
        }
        if !opts.global_options.is_empty() {
            self.warn(
                line,
                "--global-option is ignored (recent pip versions reject it in requirements files)",
            );
        }
        let editable = !opts.editables.is_empty();
        let requirement = match opts.editables.first() {
            Some(target) if args.is_empty() => target.as_str(),
            _ => args,
        };
        let classified = if editable {
            if file.constraint {
                return self.error(line, "Editable requirements are not allowed as constraints");
            }
            if !opts.hashes.is_empty() {
                self.warn(line, "pip ignores --hash on an editable requirement");
            }
            classify::editable(requirement, &self.cwd)
        } else {
            classify::requirement(requirement, &self.cwd)
        };
        let classified = match classified {
            Ok(classified) => classified,
            Err(message) => return self.error(line, message),
        };
        for warning in classified.warnings {
            self.warn(line, warning);
        }
        if file.constraint
            && let Some(problem) = constraint_problem(&classified.kind)
        {
            return self.error(line, problem);
        }
        let hashes = if editable {
            Vec::new()
        } else {
            opts.hashes.clone()
        };
        self.check_digests(line, &hashes);
        self.hash_mode.any_hashes |= !hashes.is_empty();
        let entry = RequirementEntry {
            source: line.source.clone(),
            text: line.logical.raw.clone(),
            kind: classified.kind,
            hashes,
        };
        if file.constraint {
            self.out.constraints.push(entry);
        } else {
            self.out.requirements.push(entry);
        }
    }

    /// `-r` / `-c`: parse the named file in place. `-r` always gives requirements, even inside
    /// a constraints file, because that is what pip does.
    fn include(
        &mut self,
        line: &Line<'_>,
        file: &FileContext<'_>,
        target: &str,
        constraint: bool,
        opts: &LineOptions,
    ) {
        self.warn_ignored(line, opts, INCLUDE_LINE_OPTIONS, "on a -r/-c line");
        if opts.requirements.len() + opts.constraints.len() > 1 {
            self.warn(
                line,
                "pip reads only one file per line (the first -r, else the first -c); the others are ignored",
            );
        }
        let path = match self.include_path(file.path, target) {
            Ok(path) => path,
            Err(message) => return self.error(line, message),
        };
        let identity = file_identity(&self.cwd, &path);
        if file.chain.contains(&identity) {
            return self.error(
                line,
                format!(
                    "{} recursively references itself in {}; not reading it again",
                    path.display(),
                    file.path.display()
                ),
            );
        }
        if file.chain.len() >= MAX_INCLUDE_DEPTH {
            return self.error(
                line,
                format!("requirements files are nested more than {MAX_INCLUDE_DEPTH} deep"),
            );
        }
        let content = match read_requirements_file(&path) {
            Ok(content) => content,
            Err(err) => {
                let what = if constraint {
                    "constraint"
                } else {
                    "requirements"
                };
                return self.error(line, format!("could not open {what} file: {err}"));
            }
        };
        let mut chain = file.chain.to_vec();
        chain.push(identity);
        self.parse_content(
            &content,
            &FileContext {
                path: &path,
                constraint,
                chain: &chain,
            },
        );
    }

    /// Where an include points: relative to the including file's directory, or a `file:` URL.
    fn include_path(&self, including: &Path, target: &str) -> Result<PathBuf, String> {
        let scheme = target
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("http" | "https") => Err(format!(
                "remote requirements files are not supported: download {target} first and \
                 refer to the local copy"
            )),
            Some("file") => classify::file_url_to_path(target, &self.cwd),
            _ => Ok(including
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join(target)),
        }
    }

    /// pip's `handle_option_line`: a line of options only.
    fn option_line(&mut self, line: &Line<'_>, file: &FileContext<'_>, opts: &LineOptions) {
        self.warn_ignored(line, opts, OPTION_LINE_OPTIONS, "without a requirement");
        if !opts.hashes.is_empty() {
            self.warn(line, "has --hash but no requirement, and will be ignored");
        }
        if opts.find_links.len() > 1 {
            self.warn(
                line,
                "pip uses only the first -f of a line; the others are ignored",
            );
        }
        let recorded = || (line.source.clone(), line.logical.raw.clone());
        if opts.require_hashes {
            self.hash_mode.required_at = Some(recorded());
        }
        if opts.no_require_hashes {
            self.hash_mode.opted_out_at = Some(recorded());
        }
        let find_link = opts
            .find_links
            .first()
            .map(|value| self.find_link(file.path, value));
        let options = &mut self.out.options;
        for feature in &opts.features {
            if !options.features.contains(feature) {
                options.features.push(feature.clone());
            }
        }
        if opts.no_index {
            options.no_index = true;
            options.index_url = None;
            options.extra_index_urls.clear();
        }
        if !options.no_index {
            if let Some(url) = &opts.index_url {
                options.index_url = Some(url.clone());
                options.extra_index_urls.clear();
            }
            options
                .extra_index_urls
                .extend(opts.extra_index_urls.iter().cloned());
        }
        options.find_links.extend(find_link);
        if opts.pre {
            options.pre = true;
            options
                .release_control
                .all_releases
                .insert(":all:".to_owned());
        }
        options.prefer_binary |= opts.prefer_binary;
        options
            .trusted_hosts
            .extend(opts.trusted_hosts.iter().cloned());
    }

    /// pip makes a `-f` value absolute when it exists relative to the requirements file.
    fn find_link(&self, file: &Path, value: &str) -> String {
        let dir = classify::normalize(&self.cwd.join(file));
        let candidate = dir.parent().unwrap_or(&dir).join(value);
        if candidate.exists() {
            classify::normalize(&candidate)
                .to_string_lossy()
                .into_owned()
        } else {
            value.to_owned()
        }
    }

    fn warn_ignored(&mut self, line: &Line<'_>, opts: &LineOptions, allowed: &[Opt], place: &str) {
        let mut ignored: Vec<&str> = opts
            .seen
            .iter()
            .filter(|opt| !allowed.contains(opt))
            .map(|opt| opt.name())
            .collect();
        ignored.dedup();
        if !ignored.is_empty() {
            self.warn(line, format!("pip ignores {} {place}", ignored.join(", ")));
        }
    }

    /// A digest that cannot be a hex digest of its algorithm will never match, so pip would
    /// fail the install with a hash mismatch.
    fn check_digests(&mut self, line: &Line<'_>, hashes: &[Hash]) {
        for hash in hashes {
            let expected = match hash.algorithm.as_str() {
                "sha256" => 64,
                "sha384" => 96,
                _ => 128,
            };
            let is_hex = hash.digest.bytes().all(|b| b.is_ascii_hexdigit());
            if hash.digest.len() != expected || !is_hex {
                self.warn(
                    line,
                    format!(
                        "the {} digest {} is not {expected} hex digits, so it can never match",
                        hash.algorithm, hash.digest
                    ),
                );
            }
        }
    }

    fn finish(mut self) -> ParsedRequirements {
        let mode = std::mem::take(&mut self.hash_mode);
        let options = &mut self.out.options;
        options.no_require_hashes = mode.opted_out_at.is_some();
        options.require_hashes =
            mode.required_at.is_some() || (mode.any_hashes && mode.opted_out_at.is_none());
        if let (Some(required), Some(opted_out)) = (mode.required_at, mode.opted_out_at) {
            let (source, text) = std::cmp::max_by_key(required, opted_out, |(source, _)| {
                (source.file.clone(), source.line)
            });
            self.out.errors.push(LineError {
                source,
                text,
                message: "--require-hashes and --no-require-hashes are mutually exclusive"
                    .to_owned(),
            });
        }
        self.out
    }

    fn error(&mut self, line: &Line<'_>, message: impl AsRef<str>) {
        let error = self.diagnostic(line, message.as_ref());
        self.out.errors.push(error);
    }

    fn warn(&mut self, line: &Line<'_>, message: impl AsRef<str>) {
        let warning = self.diagnostic(line, message.as_ref());
        self.out.warnings.push(warning);
    }

    fn diagnostic(&self, line: &Line<'_>, message: &str) -> LineError {
        LineError {
            source: line.source.clone(),
            text: line.logical.raw.clone(),
            message: line.logical.redact(message),
        }
    }
}

/// pip's `check_invalid_constraint_type`: the resolver refuses these forms as constraints.
fn constraint_problem(kind: &EntryKind) -> Option<&'static str> {
    let has_extras = match kind {
        EntryKind::Named(req) => !req.extras.is_empty(),
        EntryKind::Url { extras, .. } | EntryKind::LocalPath { extras, .. } => !extras.is_empty(),
        EntryKind::Editable { .. } => {
            return Some("Editable requirements are not allowed as constraints");
        }
        EntryKind::Vcs { .. } => false,
    };
    if kind.name().is_none() {
        Some("Unnamed requirements are not allowed as constraints")
    } else if has_extras {
        Some("Constraints cannot have extras")
    } else {
        None
    }
}
