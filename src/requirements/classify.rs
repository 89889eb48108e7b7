//! What a requirement or `-e` target is: pip's `parse_req_from_line` and `parse_editable`.
//!
//! pip decides from both the text and the file system: `./pkg` is a project directory only if
//! it exists and has a `pyproject.toml` or `setup.py`, `foo.whl` is a local file even if missing.
//! Relative paths are resolved against the working directory, as pip does (not against the
//! requirements file; only `-r`/`-c`/`-f` are relative to it).

use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use pep508_rs::{
    ExtraName, MarkerTree, PackageName, Pep508Error, Requirement, VerbatimUrl, VersionOrUrl,
};

use super::EntryKind;
use super::format_control::canonicalize_name;
use super::preprocess::py_strip;

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

/// `vcs.all_schemes`: a URL is a VCS URL only with one of these exact schemes.
const VCS_SCHEMES: [&str; 22] = [
    "bzr+http",
    "bzr+https",
    "bzr+ssh",
    "bzr+sftp",
    "bzr+ftp",
    "bzr+lp",
    "bzr+file",
    "git+http",
    "git+https",
    "git+ssh",
    "git+git",
    "git+file",
    "hg+file",
    "hg+http",
    "hg+https",
    "hg+ssh",
    "hg+static-http",
    "svn+ssh",
    "svn+http",
    "svn+https",
    "svn+svn",
    "svn+file",
];

/// pip's `ARCHIVE_EXTENSIONS`.
const ARCHIVE_EXTENSIONS: [&str; 12] = [
    ".zip",
    ".whl",
    ".tar.bz2",
    ".tbz",
    ".tar.gz",
    ".tgz",
    ".tar",
    ".tar.xz",
    ".txz",
    ".tlz",
    ".tar.lz",
    ".tar.lzma",
];

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
    if let Ok(req) = Requirement::<VerbatimUrl>::parse(target, cwd)
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
    MarkerTree::from_str(markers).map(Some).map_err(|err| {
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
    let mut req =
        Requirement::parse(name, cwd).map_err(|err| invalid_requirement(name, &err, cwd))?;
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

/// pip's `is_url`: a scheme pip can fetch from (`http`, `https`, `file`, `ftp`) or a VCS scheme.
pub(super) fn is_url(name: &str) -> bool {
    url_scheme(name).is_some_and(|scheme| {
        ["http", "https", "file", "ftp"].contains(&scheme.as_str())
            || VCS_SCHEMES.contains(&scheme.as_str())
    })
}

fn is_vcs(url: &str) -> bool {
    VCS_SCHEMES.contains(&SplitUrl::new(url).scheme.as_str())
}

/// `urllib.parse.urlsplit(url).scheme`: letters first, then letters, digits, `+`, `-`, `.`.
fn url_scheme(url: &str) -> Option<String> {
    let (scheme, _) = url.split_once(':')?;
    let mut chars = scheme.chars();
    let first_ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    (first_ok && rest_ok).then(|| scheme.to_ascii_lowercase())
}

/// The parts of `urlsplit` pip looks at.
struct SplitUrl<'a> {
    scheme: String,
    netloc: &'a str,
    path: &'a str,
}

impl<'a> SplitUrl<'a> {
    fn new(url: &'a str) -> Self {
        let (scheme, rest) = match url_scheme(url) {
            Some(scheme) => (scheme, &url[url.find(':').map_or(0, |at| at + 1)..]),
            None => (String::new(), url),
        };
        let (netloc, rest) = match rest.strip_prefix("//") {
            Some(after) => {
                let end = after.find(['/', '?', '#']).unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
            None => ("", rest),
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let path = rest.split_once('?').map_or(rest, |(before, _)| before);
        Self {
            scheme,
            netloc,
            path,
        }
    }
}

/// The project name a link carries: from a wheel filename, else from `#egg=`.
fn link_name(url: &str) -> Result<Option<PackageName>, String> {
    let path = percent_decode(SplitUrl::new(url).path);
    let filename = path
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if splitext(filename).1 == ".whl" {
        return wheel_name(filename).map(Some);
    }
    egg_fragment(url)
}

/// pip's `Link.egg_fragment` (pip 25+: an invalid name is an error, not a warning).
fn egg_fragment(url: &str) -> Result<Option<PackageName>, String> {
    let start = [url.find("#egg="), url.find("&egg=")]
        .into_iter()
        .flatten()
        .min();
    let Some(start) = start else {
        return Ok(None);
    };
    let fragment = url[start + 5..].split('&').next().unwrap_or_default();
    if is_project_name(fragment)
        && let Ok(name) = PackageName::from_str(fragment)
    {
        return Ok(Some(name));
    }
    let mut hint = String::new();
    if fragment.contains(['>', '=', '<']) {
        hint.push_str("Version specifiers are silently ignored for URL references. Remove them. ");
    }
    if fragment.contains('[') && fragment.contains(']') {
        hint.push_str("Try using the Direct URL requirement syntax: 'name[extra] @ URL'");
    }
    if hint.is_empty() {
        hint.push_str("Egg fragments can only be a valid project name.");
    }
    Err(format!(
        "The '{fragment}' egg fragment is invalid (from '{url}'). Hint: {}",
        hint.trim_end()
    ))
}

/// PEP 508 project names: `^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$`, case-insensitive.
fn is_project_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    match (bytes.first(), bytes.last()) {
        (Some(first), Some(last)) => {
            first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        }
        _ => false,
    }
}

/// packaging's `parse_wheel_filename`, keeping only the (canonical) name; every check that can
/// make pip reject the filename is kept too.
fn wheel_name(filename: &str) -> Result<PackageName, String> {
    let stem = filename.strip_suffix(".whl").ok_or_else(|| {
        format!("Invalid wheel filename (extension must be '.whl'): '{filename}'")
    })?;
    let dashes = stem.matches('-').count();
    if !(4..=5).contains(&dashes) {
        return Err(format!(
            "Invalid wheel filename (wrong number of parts): '{stem}'"
        ));
    }
    let parts: Vec<&str> = stem.splitn(dashes - 1, '-').collect();
    let name = parts[0];
    let valid_name = !name.is_empty()
        && !name.contains("__")
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '.');
    if !valid_name {
        return Err(format!("Invalid project name: '{stem}'"));
    }
    if pep440_rs::Version::from_str(parts[1]).is_err() {
        return Err(format!(
            "Invalid wheel filename (invalid version): '{stem}'"
        ));
    }
    if dashes == 5 && !parts[2].starts_with(|c: char| c.is_ascii_digit()) {
        return Err(format!("Invalid build number: {} in '{stem}'", parts[2]));
    }
    if !valid_tag(parts[parts.len() - 1]) {
        return Err(format!(
            "Invalid wheel filename (invalid tag component): '{stem}'"
        ));
    }
    PackageName::from_str(&canonicalize_name(name))
        .map_err(|_| format!("Invalid project name: '{stem}'"))
}

/// packaging 26's `parse_tag` checks: three non-empty fields, no empty member in a compressed
/// set, and interpreters that are identifiers.
fn valid_tag(tag: &str) -> bool {
    let fields: Vec<&str> = tag.split('-').collect();
    let [interpreters, abis, platforms] = fields.as_slice() else {
        return false;
    };
    let members_ok = |field: &str| field.split('.').all(|member| !member.is_empty());
    let identifier = |member: &str| {
        let mut chars = member.chars();
        chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
            && chars.all(|c| c.is_alphanumeric() || c == '_')
    };
    members_ok(interpreters)
        && members_ok(abis)
        && members_ok(platforms)
        && interpreters.split('.').all(identifier)
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
    let parsed = Requirement::<VerbatimUrl>::from_str(&placeholder)
        .map_err(|err| format!("Invalid extras {extras}: {}", err.message))?;
    let without = body[..open].trim_end_matches(super::preprocess::is_py_space);
    Ok((without.to_owned(), parsed.extras))
}

/// pip's "Invalid requirement" message with its two hints.
fn invalid_requirement(req: &str, err: &Pep508Error, cwd: &Path) -> String {
    let mut message = format!("Invalid requirement: {}", err.message);
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
    let Ok(bytes) = std::fs::read(path) else {
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
    Requirement::<VerbatimUrl>::from_str(&line).is_ok()
}

/// Python's `posixpath.splitext` plus pip's `.tar.*` rule.
fn splitext(path: &str) -> (&str, &str) {
    let name_start = path.rfind('/').map_or(0, |at| at + 1);
    let name = &path[name_start..];
    let split = match name.rfind('.') {
        Some(dot) if name[..dot].chars().any(|c| c != '.') => name_start + dot,
        _ => return (path, ""),
    };
    let (base, ext) = path.split_at(split);
    let tar_start = base.len().saturating_sub(4);
    if base
        .get(tar_start..)
        .is_some_and(|tail| tail.eq_ignore_ascii_case(".tar"))
    {
        return path.split_at(tar_start);
    }
    (base, ext)
}

fn is_archive_file(name: &str) -> bool {
    ARCHIVE_EXTENSIONS.contains(&splitext(name).1.to_lowercase().as_str())
}

/// `os.path.normpath(os.path.abspath(name))` against `cwd`.
fn abspath(cwd: &Path, name: &str) -> PathBuf {
    normalize(&cwd.join(name))
}

/// Lexical normalisation like `os.path.normpath`: `.` dropped, `..` pops (not past the root).
pub(super) fn normalize(path: &Path) -> PathBuf {
    let mut normalized = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match normalized.components().next_back() {
                Some(Component::Normal(_)) => {
                    normalized.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => normalized.push(".."),
            },
            other => normalized.push(other),
        }
    }
    normalized
}

fn display(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// pip's `path_to_url` for an absolute path.
fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path)
        .map_or_else(|()| format!("file://{}", display(path)), String::from)
}

/// pip's `url_to_path`, with relative `file:` paths taken from `cwd`.
pub(super) fn file_url_to_path(url: &str, cwd: &Path) -> Result<PathBuf, String> {
    let split = SplitUrl::new(url);
    if !(split.netloc.is_empty() || split.netloc == "localhost") {
        return Err(format!(
            "non-local file URIs are not supported on this platform: '{url}'"
        ));
    }
    Ok(normalize(&cwd.join(percent_decode(split.path))))
}

/// `urllib.parse.unquote`: `%XX` to bytes, then UTF-8 with replacement characters.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let hex = bytes
            .get(at + 1..at + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[at], hex) {
            (b'%', Some(byte)) => {
                decoded.push(byte);
                at += 3;
            }
            (byte, _) => {
                decoded.push(byte);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_detection_follows_pips_scheme_list() {
        assert!(is_url("https://x/y"));
        assert!(is_url("FILE:///x"));
        assert!(is_url("git+ssh://git@h/r.git"));
        assert!(is_url("ftp://h/f.tar.gz"));
        // `git://` is not in pip's list: only `git+git://` is.
        assert!(!is_url("git://h/r"));
        assert!(!is_url("s3://bucket/f.whl"));
        assert!(!is_url("foo @ https://x/y"));
        assert!(!is_url("C:\\x"));
    }

    #[test]
    fn splitext_treats_tar_compounds_as_one_extension() {
        assert_eq!(splitext("/a/foo-1.0.tar.gz"), ("/a/foo-1.0", ".tar.gz"));
        assert_eq!(splitext("/a/foo-1.0.TAR.bz2"), ("/a/foo-1.0", ".TAR.bz2"));
        assert_eq!(splitext("foo.whl"), ("foo", ".whl"));
        assert_eq!(splitext("/a.b/.bashrc"), ("/a.b/.bashrc", ""));
        assert_eq!(splitext("noext"), ("noext", ""));
        assert!(is_archive_file("x/Y.ZIP"));
        assert!(!is_archive_file("x/y.txt"));
    }

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

    #[test]
    fn wheel_filenames_are_validated_like_packaging() {
        assert_eq!(
            wheel_name("Foo_Bar-1.0-py3-none-any.whl").map(|n| n.to_string()),
            Ok("foo-bar".to_owned())
        );
        assert_eq!(
            wheel_name("foo-1.0-1build-py2.py3-none-any.whl").map(|n| n.to_string()),
            Ok("foo".to_owned())
        );
        assert_eq!(
            wheel_name("foo-bad.whl"),
            Err("Invalid wheel filename (wrong number of parts): 'foo-bad'".to_owned())
        );
        assert!(
            wheel_name("foo-x.y.z-py3-none-any.whl").is_err_and(|e| e.contains("invalid version"))
        );
        assert!(
            wheel_name("foo-1.0-b1-py3-none-any.whl").is_err_and(|e| e.contains("build number"))
        );
        assert!(
            wheel_name("fo__o-1.0-py3-none-any.whl").is_err_and(|e| e.contains("project name"))
        );
        assert!(wheel_name("foo-1.0-3py-none-any.whl").is_err_and(|e| e.contains("tag")));
    }

    #[test]
    fn egg_fragments_must_be_project_names() {
        assert_eq!(
            egg_fragment("git+https://h/r.git#egg=My_Pkg&subdirectory=s")
                .map(|n| n.map(|n| n.to_string())),
            Ok(Some("my-pkg".to_owned()))
        );
        assert_eq!(egg_fragment("https://h/r.tar.gz"), Ok(None));
        let err = egg_fragment("git+https://h/r#egg=pkg[extra]").expect_err("extras are invalid");
        assert!(
            err.contains("The 'pkg[extra]' egg fragment is invalid"),
            "{err}"
        );
        assert!(err.contains("'name[extra] @ URL'"), "{err}");
        let err = egg_fragment("git+https://h/r#egg=pkg>=1").expect_err("specifiers are invalid");
        assert!(
            err.contains("Version specifiers are silently ignored"),
            "{err}"
        );
    }

    #[test]
    fn normalize_is_lexical() {
        assert_eq!(normalize(Path::new("/a/./b/../c")), PathBuf::from("/a/c"));
        assert_eq!(normalize(Path::new("/../x")), PathBuf::from("/x"));
    }

    #[test]
    fn percent_decode_keeps_invalid_escapes() {
        assert_eq!(percent_decode("/a%20b/%zz%4"), "/a b/%zz%4");
        assert_eq!(percent_decode("/caf%C3%A9"), "/café");
    }
}
