//! URLs and file names the way pip's `Link`, `utils/urls.py` and `utils/filetypes.py` see them.
//!
//! pip never fully parses URLs: it uses `urlsplit` pieces, regexes on the raw string (`#egg=`)
//! and extension checks on the last path segment. The helpers here reproduce those exact checks,
//! because a "proper" URL parse would accept or reject different lines than pip.

use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

use pep508_rs::PackageName;

use super::format_control::canonicalize_name;

/// `vcs.all_schemes`: a URL is a VCS URL only with one of these exact schemes.
pub(super) const VCS_SCHEMES: [&str; 22] = [
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

/// pip's `is_url`: a scheme pip can fetch from (`http`, `https`, `file`, `ftp`) or a VCS scheme.
pub(super) fn is_url(name: &str) -> bool {
    url_scheme(name).is_some_and(|scheme| {
        ["http", "https", "file", "ftp"].contains(&scheme.as_str())
            || VCS_SCHEMES.contains(&scheme.as_str())
    })
}

pub(super) fn is_vcs(url: &str) -> bool {
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
pub(super) struct SplitUrl<'a> {
    pub scheme: String,
    pub netloc: &'a str,
    pub path: &'a str,
}

impl<'a> SplitUrl<'a> {
    pub fn new(url: &'a str) -> Self {
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
pub(super) fn link_name(url: &str) -> Result<Option<PackageName>, String> {
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
pub(super) fn egg_fragment(url: &str) -> Result<Option<PackageName>, String> {
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

pub(super) fn is_archive_file(name: &str) -> bool {
    ARCHIVE_EXTENSIONS.contains(&splitext(name).1.to_lowercase().as_str())
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

/// pip's `path_to_url` for an absolute path.
pub(super) fn file_url(path: &Path) -> String {
    url::Url::from_file_path(path)
        .map_or_else(|()| format!("file://{}", path.display()), String::from)
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
pub(super) fn percent_decode(text: &str) -> String {
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
