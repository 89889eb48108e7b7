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
//! - `parser`: one logical line at a time: requirement, include or options; hash mode at the end
//! - `options`: the option part of a line, as pip's `optparse` parser sees it
//! - `format_control`: `--no-binary` / `--only-binary` (and pip 26's release control)
//! - `classify`: what a requirement or `-e` target is (name, URL, VCS, archive, directory)
//! - `urls`: pip's URL and file-name checks (`is_url`, `#egg=`, wheel names, archive extensions)

mod classify;
mod format_control;
mod options;
mod parser;
mod preprocess;
#[cfg(test)]
mod tests;
mod urls;

use std::fmt;
use std::path::{Path, PathBuf};

use pep508_rs::{ExtraName, MarkerTree, PackageName, Requirement};
use serde::Serialize;

pub use format_control::{
    AllowedFormats, FormatControl, Kind, MissingValue, ReleaseControl, ReleaseKind,
    canonicalize_name,
};

/// pip's `STRONG_HASHES`: the only algorithms `--hash` accepts.
pub const STRONG_HASHES: [&str; 3] = ["sha256", "sha384", "sha512"];

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
    parser::parse_in(content, path, env, cwd)
}

/// No requirements file is this large; a larger one (or `/dev/zero`) is refused, not read.
const MAX_FILE_SIZE: u64 = 16 << 20;

/// Read a regular file of at most [`MAX_FILE_SIZE`] bytes: devices, FIFOs and directories are
/// refused so that an include such as `-r /dev/zero` cannot hang or exhaust memory.
pub(crate) fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    if !file.metadata()?.is_file() {
        return Err(std::io::Error::other("not a regular file"));
    }
    let mut bytes = Vec::new();
    file.take(MAX_FILE_SIZE + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_FILE_SIZE {
        return Err(std::io::Error::other(format!(
            "larger than {} MiB: not a requirements file",
            MAX_FILE_SIZE >> 20
        )));
    }
    Ok(bytes)
}

/// Reads and decodes one requirements file (top-level or included).
fn read_requirements_file(path: &Path) -> Result<String, ReadError> {
    let bytes = read_bounded(path).map_err(|source| match source.kind() {
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
