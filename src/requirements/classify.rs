//! What a requirement or `-e` target is: pip's `parse_req_from_line` and `parse_editable`.
//!
//! pip decides from both the text and the file system: `./pkg` is a project directory only if
//! it exists and has a `pyproject.toml` or `setup.py`, `foo.whl` is a local file even if missing.
//! Relative paths are resolved against the working directory, as pip does (not against the
//! requirements file; only `-r`/`-c`/`-f` are relative to it).

use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{
    ExtraName, MarkerTree, PackageName, Pep508Error, Requirement, VerbatimUrl, VersionOrUrl,
};

use super::EntryKind;
use super::preprocess::{is_py_space, py_strip};
use super::urls::{
    SplitUrl, VCS_SCHEMES, egg_fragment, file_url, file_url_to_path, is_archive_file, is_url,
    is_vcs, link_name, normalize, percent_decode,
};

/// A classified requirement, with pip's warnings about it.
#[derive(Debug)]
pub(super) struct Classified {
    pub kind: EntryKind,
    pub warnings: Vec<String>,
}

impl From<EntryKind> for Classified {
    fn from(kind: EntryKind) -> Self {
        Self {
            kind,
            warnings: Vec::new(),
        }
    }
}

/// pip's VCS backends, in its registry order (used to turn `git:` into `git+git:`).
const VCS_NAMES: [&str; 4] = ["bzr", "git", "hg", "svn"];

/// PEP 440 operators, for pip's "did you mean ==" hint.
const OPERATORS: [&str; 8] = ["~=", "==", "!=", "<=", ">=", "<", ">", "==="];

/// pip's `parse_req_from_line` for a non-editable requirement.
pub(super) fn requirement(line: &str, cwd: &Path) -> Result<Classified, String> {
    // pip only needs "; " for URLs, so that `;` inside a URL survives.
    let separator = if is_url(line) { "; " } else { ";" };
    let (name, markers) = match line.split_once(separator) {
        Some((name, markers)) => (py_strip(name), parse_markers(markers, name)?),
        None => (py_strip(line), None),
    };
    if is_url(name) {
        return from_url(name, markers, cwd).map(Classified::from);
    }
    let (path, extras) = strip_extras(&abspath(cwd, name).to_string_lossy())?;
    let mut warnings = Vec::new();
    let kind = match local_target(Path::new(&path), name, &mut warnings)? {
        Some(target) => from_local(target, markers, extras)?,
        None => named(name, markers, cwd)?,
    };
    Ok(Classified { kind, warnings })
}

/// pip's `parse_editable`: `name[extras] @ url ; markers`, a local project directory (with
/// optional `[extras]`), a `file:` URL, or a VCS URL with `#egg=name`.
pub(super) fn editable(target: &str, cwd: &Path) -> Result<Classified, String> {
    if let Some(Ok(req)) = crate::guard::guarded(|| Requirement::<VerbatimUrl>::parse(target, cwd))
        && let Some(VersionOrUrl::Url(url)) = &req.version_or_url
    {
        // pip validates the URL as written, not pep508_rs's absolutised version of it.
        let url = url.given().unwrap_or(url.as_str()).to_owned();
        let markers = (!req.marker.is_true()).then(|| req.marker.clone());
        return editable_from_url(target, url, Some(req.name), req.extras, markers, cwd);
    }
    let (no_extras, extras) = strip_extras(target)?;
    let local = cwd.join(&no_extras);
    if local.is_dir() {
        return Ok(EntryKind::Editable {
            target: display(&normalize(&local)),
            name: None,
            extras,
            markers: None,
        }
        .into());
    }
    if no_extras.to_lowercase().starts_with("file:") {
        let name = egg_fragment(&no_extras)?;
        return editable_from_url(target, no_extras, name, extras, None, cwd);
    }
    let url = VCS_NAMES
        .iter()
        .find(|vcs| target.to_lowercase().starts_with(&format!("{vcs}:")))
        .map_or_else(|| target.to_owned(), |vcs| format!("{vcs}+{target}"));
    let name = egg_fragment(&url)?;
    editable_from_url(target, url, name, Vec::new(), None, cwd)
}

/// The checks pip runs on every editable URL, then the entry.
fn editable_from_url(
    written: &str,
    url: String,
    name: Option<PackageName>,
    extras: Vec<ExtraName>,
    markers: Option<MarkerTree>,
    cwd: &Path,
) -> Result<Classified, String> {
    // Case-sensitive on purpose: pip checks `link.url.startswith("file:")` here.
    let is_file = url.starts_with("file:");
    if !is_vcs(&url) && !is_file {
        return Err(format!(
            "{written} is not a valid editable requirement. It should either be a path to a \
             local project or a VCS URL (beginning with {}).",
            VCS_SCHEMES.join(", ")
        ));
    }
    if name.is_none() && !is_file {
        return Err(format!(
            "Could not detect requirement name for '{written}', please specify one with \
             your_package_name @ URL"
        ));
    }
    let target = if is_file {
        display(&file_url_to_path(&url, cwd)?)
    } else {
        url
    };
    Ok(EntryKind::Editable {
        target,
        name,
        extras,
        markers,
    }
    .into())
}

/// Markers after the separator; empty markers are no markers, as in pip.
fn parse_markers(markers: &str, name: &str) -> Result<Option<MarkerTree>, String> {
    let markers = py_strip(markers);
    if markers.is_empty() {
        return Ok(None);
    }
    let parsed = crate::guard::guarded(|| MarkerTree::from_str(markers))
        .ok_or_else(|| format!("Invalid marker: {}", py_strip(markers)))?;
    parsed.map(Some).map_err(|err| {
        format!(
            "Invalid requirement: '{}': invalid markers: {}",
            py_strip(name),
            err.message
        )
    })
}

/// A PEP 508 requirement (`name[extras] specifiers`, `name @ url`), with markers split off
/// earlier put back in.
fn named(name: &str, markers: Option<MarkerTree>, cwd: &Path) -> Result<EntryKind, String> {
    let parsed = crate::guard::guarded(|| Requirement::parse(name, cwd)).ok_or_else(|| {
        format!(
            "Invalid requirement: {}: not a valid requirement",
            py_strip(name)
        )
    })?;
    let mut req = parsed.map_err(|err| invalid_requirement(name, &err, cwd))?;
    if let Some(markers) = markers {
        req.marker = markers;
    }
    Ok(EntryKind::Named(req))
}

/// A line with a URL scheme pip knows: VCS, remote or `file:` archive, or local directory.
fn from_url(url: &str, markers: Option<MarkerTree>, cwd: &Path) -> Result<EntryKind, String> {
    let split = SplitUrl::new(url);
    let url = if split.scheme == "file" && url.contains("../") {
        // pip's "relative file URL" fix-up: resolve against the working directory.
        file_url(&normalize(&cwd.join(percent_decode(split.path))))
    } else {
        url.to_owned()
    };
    let name = link_name(&url)?;
    if is_vcs(&url) {
        return Ok(EntryKind::Vcs { url, name, markers });
    }
    if SplitUrl::new(&url).scheme == "file" {
        let path = file_url_to_path(&url, cwd)?;
        if path.is_dir() || !is_archive_file(&path.to_string_lossy()) {
            return Ok(EntryKind::LocalPath {
                path: display(&path),
                name,
                markers,
                extras: Vec::new(),
            });
        }
    }
    Ok(EntryKind::Url {
        url,
        name,
        markers,
        extras: Vec::new(),
    })
}

/// A local path that pip turned into a `file:` link.
#[derive(Debug)]
enum Local {
    Dir(PathBuf),
    File(PathBuf),
}

fn from_local(
    target: Local,
    markers: Option<MarkerTree>,
    extras: Vec<ExtraName>,
) -> Result<EntryKind, String> {
    Ok(match target {
        Local::Dir(path) => EntryKind::LocalPath {
            name: link_name(&file_url(&path))?,
            path: display(&path),
            markers,
            extras,
        },
        Local::File(path) => {
            let url = file_url(&path);
            EntryKind::Url {
                name: link_name(&url)?,
                url,
                markers,
                extras,
            }
        }
    })
}

/// pip's `_get_url_from_path`: a project directory, an archive (existing or not), or `None`
/// for "parse it as a PEP 508 requirement".
fn local_target(
    path: &Path,
    name: &str,
    warnings: &mut Vec<String>,
) -> Result<Option<Local>, String> {
    if looks_like_path(name) && path.is_dir() {
        if is_installable_dir(path) {
            return Ok(Some(Local::Dir(normalize(path))));
        }
        return Err(format!(
            "Directory '{name}' is not installable. Neither 'setup.py' nor 'pyproject.toml' found."
        ));
    }
    if !is_archive_file(&path.to_string_lossy()) {
        return Ok(None);
    }
    if path.is_file() {
        return Ok(Some(Local::File(normalize(path))));
    }
    if let Some((before, _)) = name.split_once('@')
        && !looks_like_path(before)
    {
        // `name @ https://host/pkg.whl`: a PEP 508 URL requirement, not a file.
        return Ok(None);
    }
    warnings.push(format!(
        "Requirement '{name}' looks like a filename, but the file does not exist"
    ));
    Ok(Some(Local::File(normalize(path))))
}

fn is_installable_dir(path: &Path) -> bool {
    path.join("pyproject.toml").is_file() || path.join("setup.py").is_file()
}

/// pip's `_looks_like_path`: a path separator anywhere, or a leading dot.
fn looks_like_path(name: &str) -> bool {
    name.contains(std::path::MAIN_SEPARATOR) || name.contains('/') || name.starts_with('.')
}

/// pip's `strip_extras`: a trailing `[...]` (with no `]` inside) is split off and parsed as
/// extras; the rest is right-stripped.
fn strip_extras(path: &str) -> Result<(String, Vec<ExtraName>), String> {
    let Some(body) = path.strip_suffix(']') else {
        return Ok((path.to_owned(), Vec::new()));
    };
    let Some(open) = body.rfind('[') else {
        return Ok((path.to_owned(), Vec::new()));
    };
    let inside = &body[open + 1..];
    if open == 0 || inside.is_empty() || inside.contains(']') {
        return Ok((path.to_owned(), Vec::new()));
    }
    let extras = &path[open..];
    let placeholder = format!("placeholder{}", extras.to_lowercase());
    let parsed = crate::guard::guarded(|| Requirement::<VerbatimUrl>::from_str(&placeholder))
        .ok_or_else(|| format!("Invalid extras {extras}"))?
        .map_err(|err| format!("Invalid extras {extras}: {}", err.message))?;
    let without = body[..open].trim_end_matches(is_py_space);
    Ok((without.to_owned(), parsed.extras))
}

/// pip's "Invalid requirement" message with its two hints.
fn invalid_requirement(req: &str, err: &Pep508Error, cwd: &Path) -> String {
    let reason = err.message.to_string();
    let mut message = format!("Invalid requirement: {}", reason.trim_end_matches('.'));
    if req.contains(std::path::MAIN_SEPARATOR) {
        message.push_str(". Hint: It looks like a path.");
        message.push_str(&deduce_helpful_msg(req, cwd));
    } else if req.contains('=') && !OPERATORS.iter().any(|op| req.contains(op)) {
        message.push_str(". Hint: = is not a valid operator. Did you mean == ?");
    }
    message
}

/// pip's `deduce_helpful_msg`: whether the path exists, and whether it looks like a
/// requirements file the user forgot `-r` for.
fn deduce_helpful_msg(req: &str, cwd: &Path) -> String {
    let path = cwd.join(req);
    if !path.exists() {
        return format!(" File '{req}' does not exist.");
    }
    let mut message = " The path does exist.".to_owned();
    if first_line_is_requirement(&path) {
        message.push_str(&format!(
            " The argument you provided ({req}) appears to be a requirements file. If that is \
             the case, use the '-r' flag to install the packages specified within it."
        ));
    }
    message
}

/// pip's `check_first_requirement_in_file`.
fn first_line_is_requirement(path: &Path) -> bool {
    let Ok(bytes) = super::read_bounded(path) else {
        return false;
    };
    let content = String::from_utf8_lossy(&bytes);
    let mut lines = content
        .lines()
        .map(py_strip)
        .filter(|line| !line.is_empty() && !line.starts_with('#'));
    let Some(first) = lines.next() else {
        return false;
    };
    let mut line = first.split(" #").next().unwrap_or_default().to_owned();
    if line.ends_with('\\') {
        // pip drops the last two characters (`line[:-2]`), not just the backslash.
        let mut chars = line.chars();
        chars.next_back();
        chars.next_back();
        line = format!(
            "{}{}",
            py_strip(chars.as_str()),
            lines.next().unwrap_or_default()
        );
    }
    crate::guard::guarded(|| Requirement::<VerbatimUrl>::from_str(&line)).is_some_and(|r| r.is_ok())
}

/// `os.path.normpath(os.path.abspath(name))` against `cwd`.
fn abspath(cwd: &Path, name: &str) -> PathBuf {
    normalize(&cwd.join(name))
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_extras_needs_a_prefix_and_a_closed_bracket() {
        let (path, extras) = strip_extras("/p/proj [A,b]").expect("valid extras");
        assert_eq!(path, "/p/proj");
        assert_eq!(
            extras,
            [
                ExtraName::from_str("a").unwrap(),
                ExtraName::from_str("b").unwrap()
            ]
        );
        assert_eq!(strip_extras("[a]").expect("no prefix").0, "[a]");
        assert_eq!(strip_extras("x[]").expect("empty").0, "x[]");
        assert_eq!(strip_extras("x[a]b]").expect("inner ]").0, "x[a]b]");
        assert!(strip_extras("x[!]").is_err());
    }
}
