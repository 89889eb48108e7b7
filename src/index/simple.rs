//! The index's project pages: the JSON simple API (PEP 691) and the HTML one (PEP 503), both read
//! into one list of [`IndexFile`]s.

use std::borrow::Cow;
use std::collections::HashMap;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::VersionSpecifiers;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use url::Url;

/// One distribution file listed on a project page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexFile {
    pub filename: String,
    pub url: FileUrl,
    pub sha256: Option<String>,
    /// `None` when absent, and also when unparsable: pip ignores an invalid Requires-Python.
    /// Shared by the files of a page that state the same one.
    pub requires_python: Option<Arc<VersionSpecifiers>>,
    /// `Some(reason)` when yanked (PEP 592); the reason may be empty.
    pub yanked: Option<String>,
    pub size: Option<u64>,
    /// The index serves the core metadata next to the file (PEP 658 / 714).
    pub has_metadata_file: bool,
    /// The sha256 the index gives for that metadata file, to check it against.
    pub metadata_sha256: Option<String>,
}

#[cfg(test)]
impl IndexFile {
    /// A file listed by name only, under a made-up URL: for tests of choices among files.
    pub fn named(filename: &str) -> Self {
        IndexFile {
            filename: filename.into(),
            url: Url::parse(&format!("https://files.example/{filename}"))
                .expect("a valid URL")
                .into(),
            sha256: None,
            requires_python: None,
            yanked: None,
            size: None,
            has_metadata_file: false,
            metadata_sha256: None,
        }
    }
}

/// A file's URL, parsed when first used: a page read back from the cache lists thousands of
/// files, of which the resolver fetches a few, and parsing every URL was a tenth of a warm run's
/// CPU (a web-app list with boto3's and pydantic-core's pages). Dereferences to the [`Url`].
#[derive(Clone)]
pub struct FileUrl {
    text: String,
    parsed: std::sync::OnceLock<Url>,
}

impl FileUrl {
    /// A URL string that this program wrote from a parsed [`Url`] (a cached page, checked by its
    /// checksum); parsing it again gives the same URL.
    fn written(text: String) -> Self {
        FileUrl {
            text,
            parsed: std::sync::OnceLock::new(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// An absolute URL from a page, kept unparsed when it is already as [`Url`] would write it:
    /// `https`, a lower-case host name, a path of unreserved characters without empty or dot
    /// segments.
    /// Joining every Linux file's URL to the page's was most of the 12 ms SQLAlchemy's page
    /// took to read (3,374 files), of which the resolver fetches a few.
    fn plain(text: &str) -> Option<Self> {
        let rest = text.strip_prefix("https://")?;
        let (host, path) = rest.split_once('/')?;
        let plain = plain_host(host)
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
            && path
                .split('/')
                .all(|segment| !matches!(segment, "" | "." | ".."));
        plain.then(|| FileUrl::written(text.to_owned()))
    }
}

/// A DNS name that [`Url`] keeps as it is: lower-case labels of letters, digits and inner
/// hyphens, not punycode, and not read as an IPv4 address (its last label starts with a letter).
fn plain_host(host: &str) -> bool {
    let mut last = "";
    for label in host.split('.') {
        let ok = !label.is_empty()
            && label
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
            && !label.starts_with("xn--");
        if !ok {
            return false;
        }
        last = label;
    }
    last.bytes().next().is_some_and(|b| b.is_ascii_lowercase())
}

impl From<Url> for FileUrl {
    fn from(url: Url) -> Self {
        FileUrl {
            text: url.as_str().to_string(),
            parsed: std::sync::OnceLock::from(url),
        }
    }
}

impl std::ops::Deref for FileUrl {
    type Target = Url;

    fn deref(&self) -> &Url {
        self.parsed.get_or_init(|| {
            // Only a cache file altered to keep a valid checksum gets here: its URL then
            // names nothing, and fetching it fails with that URL in the message.
            Url::parse(&self.text).unwrap_or_else(|_| {
                Url::parse("file:///wheelcheck-cache-entry-with-an-invalid-url")
                    .expect("a valid URL")
            })
        })
    }
}

impl std::fmt::Debug for FileUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.text, f)
    }
}

impl PartialEq for FileUrl {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for FileUrl {}

pub const JSON_MEDIA_TYPE: &str = "application/vnd.pypi.simple.v1+json";
/// What we ask for: JSON first, HTML as a fallback for indexes that only speak PEP 503.
pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

#[derive(Debug, thiserror::Error)]
#[error("{url}: {message}")]
pub struct PageError {
    pub url: String,
    pub message: String,
}

/// Parse a project page by its content type; `base` is the page's own URL.
pub fn parse_page(
    body: &[u8],
    content_type: &str,
    base: &Url,
) -> Result<Vec<IndexFile>, PageError> {
    let error = |message: String| PageError {
        url: crate::index::http::redact(base),
        message,
    };
    let text = std::str::from_utf8(body).map_err(|_| error("page is not UTF-8".into()))?;
    if content_type == PARSED_MEDIA_TYPE {
        decode_parsed(text).map_err(|e| error(format!("invalid cached page: {e}")))
    } else if content_type.contains("json") {
        parse_json(text, base).map_err(|e| error(format!("invalid JSON simple-API page: {e}")))
    } else if content_type.contains("html") || text.trim_start().starts_with('<') {
        Ok(parse_html(text, base))
    } else {
        Err(error(format!(
            "unexpected content type `{content_type}` (expected JSON or HTML simple API)"
        )))
    }
}

// The page is read without copying: a large project (thousands of files, most of them for
// Windows or macOS) costs only the files a Linux image could install.
#[derive(Deserialize)]
struct JsonPage<'a> {
    #[serde(borrow)]
    files: Vec<JsonFile<'a>>,
}

#[derive(Deserialize)]
struct JsonFile<'a> {
    #[serde(borrow)]
    filename: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(default, borrow)]
    hashes: Hashes<'a>,
    #[serde(rename = "requires-python", default, borrow)]
    requires_python: Option<Cow<'a, str>>,
    /// `false`, `true` or a reason string (PEP 592).
    #[serde(default, borrow)]
    yanked: Option<&'a RawValue>,
    #[serde(default)]
    size: Option<u64>,
    /// `false`, `true` or a map of hashes (PEP 658 / 714).
    #[serde(rename = "core-metadata", default, borrow)]
    core_metadata: Option<&'a RawValue>,
    #[serde(rename = "dist-info-metadata", default, borrow)]
    dist_info_metadata: Option<&'a RawValue>,
}

#[derive(Deserialize, Default)]
struct Hashes<'a> {
    #[serde(default, borrow)]
    sha256: Option<Cow<'a, str>>,
}

fn parse_json(text: &str, base: &Url) -> Result<Vec<IndexFile>, serde_json::Error> {
    let page: JsonPage = serde_json::from_str(text)?;
    let mut files = Vec::new();
    // A project states the same Requires-Python for hundreds of files: parse each text once.
    let mut requires_python: HashMap<Option<Cow<str>>, Option<Arc<VersionSpecifiers>>> =
        HashMap::new();
    for file in page
        .files
        .into_iter()
        .filter(|f| linux_could_use(&f.filename))
    {
        let url = match FileUrl::plain(&file.url) {
            Some(url) => url,
            None => match base.join(&file.url) {
                Ok(url) => url.into(),
                Err(_) => continue,
            },
        };
        let metadata = file.core_metadata.or(file.dist_info_metadata);
        let (has_metadata_file, metadata_sha256) = metadata_flag(metadata)?;
        files.push(IndexFile {
            sha256: file.hashes.sha256.map(|h| h.to_ascii_lowercase()),
            requires_python: requires_python
                .entry(file.requires_python.clone())
                .or_insert_with(|| parse_requires_python(file.requires_python.as_deref()))
                .clone(),
            has_metadata_file,
            metadata_sha256,
            yanked: yanked(file.yanked)?,
            filename: file.filename.into_owned(),
            url,
            size: file.size,
        });
    }
    Ok(files)
}

/// Wheels built only for other systems (`win_amd64`, `macosx_11_0_arm64`, `manylinux_2_17_s390x`,
/// ...) can never be chosen on an image wheelcheck checks (Linux on x86_64 or aarch64), so they
/// are dropped while the page is read.
fn linux_could_use(filename: &str) -> bool {
    let Some(stem) = filename.strip_suffix(".whl") else {
        return true;
    };
    let platforms = stem.rsplit('-').next().unwrap_or_default();
    platforms.split('.').any(|platform| {
        platform == "any"
            || (platform.contains("linux")
                && (platform.ends_with("_x86_64") || platform.ends_with("_aarch64")))
    })
}

fn yanked(value: Option<&RawValue>) -> Result<Option<String>, serde_json::Error> {
    Ok(
        match value
            .map(|v| serde_json::from_str::<serde_json::Value>(v.get()))
            .transpose()?
        {
            Some(serde_json::Value::Bool(true)) => Some(String::new()),
            Some(serde_json::Value::String(reason)) => Some(reason),
            _ => None,
        },
    )
}

fn metadata_flag(value: Option<&RawValue>) -> Result<(bool, Option<String>), serde_json::Error> {
    Ok(
        match value
            .map(|v| serde_json::from_str::<serde_json::Value>(v.get()))
            .transpose()?
        {
            Some(serde_json::Value::Bool(flag)) => (flag, None),
            Some(serde_json::Value::Object(hashes)) => (
                true,
                hashes
                    .get("sha256")
                    .and_then(|h| h.as_str())
                    .map(str::to_ascii_lowercase),
            ),
            _ => (false, None),
        },
    )
}

fn parse_html(text: &str, base: &Url) -> Vec<IndexFile> {
    let Ok(dom) = tl::parse(text, tl::ParserOptions::default()) else {
        return Vec::new();
    };
    let parser = dom.parser();
    let base = html_base(&dom, base);
    let Some(anchors) = dom.query_selector("a") else {
        return Vec::new();
    };
    anchors
        .filter_map(|handle| handle.get(parser)?.as_tag().cloned())
        .filter_map(|tag| anchor_to_file(&tag, parser, &base))
        .collect()
}

/// A `<base href>` changes what relative links are relative to (pip honours it).
fn html_base(dom: &tl::VDom, page_url: &Url) -> Url {
    dom.query_selector("base")
        .and_then(|mut bases| bases.next())
        .and_then(|handle| handle.get(dom.parser())?.as_tag().cloned())
        .and_then(|tag| attribute(&tag, "href"))
        .and_then(|href| page_url.join(&href).ok())
        .unwrap_or_else(|| page_url.clone())
}

fn anchor_to_file(tag: &tl::HTMLTag, parser: &tl::Parser, base: &Url) -> Option<IndexFile> {
    let href = attribute(tag, "href")?;
    let mut url = base.join(&href).ok()?;
    let sha256 = url.fragment().and_then(|fragment| {
        fragment
            .strip_prefix("sha256=")
            .map(|h| h.to_ascii_lowercase())
    });
    url.set_fragment(None);
    let filename = url.path_segments()?.next_back()?.to_string();
    let filename = percent_decode(&filename);
    if filename.is_empty() || !linux_could_use(&filename) {
        return None;
    }
    let _ = parser;
    let metadata =
        attribute(tag, "data-core-metadata").or_else(|| attribute(tag, "data-dist-info-metadata"));
    Some(IndexFile {
        filename,
        url: url.into(),
        sha256,
        requires_python: parse_requires_python(attribute(tag, "data-requires-python").as_deref()),
        yanked: attribute(tag, "data-yanked"),
        size: None,
        metadata_sha256: metadata
            .as_deref()
            .and_then(|value| value.strip_prefix("sha256="))
            .map(str::to_ascii_lowercase),
        has_metadata_file: metadata.is_some_and(|value| value != "false"),
    })
}

fn attribute(tag: &tl::HTMLTag, name: &str) -> Option<String> {
    let value = tag.attributes().get(name)?;
    let raw = value
        .map(|bytes| bytes.as_utf8_str().into_owned())
        .unwrap_or_default();
    Some(unescape_html(&raw))
}

fn unescape_html(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#x27;", "'")
        .replace("&amp;", "&")
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| text.to_string())
}

/// The media type of a page stored already read: the files a Linux image could use, in
/// `ParsedPage`'s form. A warm run reads it instead of scanning the index's whole page again
/// (most of a large project's files are for Windows and macOS).
pub const PARSED_MEDIA_TYPE: &str = "application/x-wheelcheck-files.v1+json";

/// A page's files as [`parse_page`] gave them; Requires-Python texts are listed once.
#[derive(Serialize, Deserialize)]
struct ParsedPage<'a> {
    #[serde(borrow)]
    requires_python: Vec<Cow<'a, str>>,
    #[serde(borrow)]
    files: Vec<ParsedFile<'a>>,
}

#[derive(Serialize, Deserialize)]
struct ParsedFile<'a> {
    #[serde(borrow)]
    filename: Cow<'a, str>,
    #[serde(borrow)]
    url: Cow<'a, str>,
    #[serde(borrow)]
    sha256: Option<Cow<'a, str>>,
    /// Index into `requires_python`.
    requires_python: Option<usize>,
    #[serde(borrow)]
    yanked: Option<Cow<'a, str>>,
    size: Option<u64>,
    has_metadata_file: bool,
    #[serde(borrow)]
    metadata_sha256: Option<Cow<'a, str>>,
}

/// `files` in the form [`parse_page`] reads back under [`PARSED_MEDIA_TYPE`].
pub fn encode_parsed(files: &[IndexFile]) -> Vec<u8> {
    let mut texts: Vec<String> = Vec::new();
    let mut text_index: HashMap<String, usize> = HashMap::new();
    let files = files
        .iter()
        .map(|file| ParsedFile {
            filename: Cow::Borrowed(&file.filename),
            url: Cow::Borrowed(file.url.as_str()),
            sha256: file.sha256.as_deref().map(Cow::Borrowed),
            requires_python: file.requires_python.as_ref().map(|specifiers| {
                let text = specifiers.to_string();
                *text_index.entry(text.clone()).or_insert_with(|| {
                    texts.push(text);
                    texts.len() - 1
                })
            }),
            yanked: file.yanked.as_deref().map(Cow::Borrowed),
            size: file.size,
            has_metadata_file: file.has_metadata_file,
            metadata_sha256: file.metadata_sha256.as_deref().map(Cow::Borrowed),
        })
        .collect();
    let page = ParsedPage {
        requires_python: texts.into_iter().map(Cow::Owned).collect(),
        files,
    };
    serde_json::to_vec(&page).expect("a page serializes")
}

fn decode_parsed(text: &str) -> Result<Vec<IndexFile>, String> {
    let page: ParsedPage = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let specifiers: Vec<Option<Arc<VersionSpecifiers>>> = page
        .requires_python
        .iter()
        .map(|text| parse_requires_python(Some(text)))
        .collect();
    // Filled in a loop, not collected from a fallible iterator: that would grow the vector
    // step by step, copying a large page's files several times.
    let mut files = Vec::with_capacity(page.files.len());
    for file in page.files {
        let requires_python = match file.requires_python {
            Some(i) => specifiers
                .get(i)
                .ok_or("bad Requires-Python index")?
                .clone(),
            None => None,
        };
        files.push(IndexFile {
            url: FileUrl::written(file.url.into_owned()),
            filename: file.filename.into_owned(),
            sha256: file.sha256.map(Cow::into_owned),
            requires_python,
            yanked: file.yanked.map(Cow::into_owned),
            size: file.size,
            has_metadata_file: file.has_metadata_file,
            metadata_sha256: file.metadata_sha256.map(Cow::into_owned),
        });
    }
    Ok(files)
}

fn parse_requires_python(value: Option<&str>) -> Option<Arc<VersionSpecifiers>> {
    let value = value?.trim();
    if value.is_empty() {
        return None;
    }
    VersionSpecifiers::from_str(value).ok().map(Arc::new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_stored_parsed_reads_back_the_same_files() {
        let base = Url::parse("https://index.example/simple/demo/").unwrap();
        let page = r#"{"meta": {"api-version": "1.1"}, "name": "demo", "files": [
            {"filename": "demo-1.0-py3-none-any.whl", "url": "../../files/demo-1.0-py3-none-any.whl",
             "hashes": {"sha256": "AB12"}, "requires-python": ">=3.9, <4", "yanked": "broken",
             "size": 10, "core-metadata": {"sha256": "cd34"}},
            {"filename": "demo-1.0-cp312-cp312-win_amd64.whl", "url": "w.whl", "hashes": {}},
            {"filename": "demo-1.0.tar.gz", "url": "https://other.example/demo-1.0.tar.gz",
             "hashes": {}, "requires-python": "not a specifier", "yanked": true},
            {"filename": "demo-0.9.tar.gz", "url": "d.tar.gz", "hashes": {}, "requires-python": ">=3.9, <4"}
        ]}"#;
        let files = parse_page(page.as_bytes(), JSON_MEDIA_TYPE, &base).unwrap();
        assert_eq!(files.len(), 3, "the Windows wheel is dropped");
        let stored = encode_parsed(&files);
        let read = parse_page(&stored, PARSED_MEDIA_TYPE, &base).unwrap();
        assert_eq!(read, files);
        assert_eq!(read[0].yanked.as_deref(), Some("broken"));
        assert_eq!(read[1].yanked.as_deref(), Some(""));
        assert!(read[1].requires_python.is_none());
        assert!(parse_page(b"{\"files\": 3}", PARSED_MEDIA_TYPE, &base).is_err());
    }

    fn base() -> Url {
        Url::parse("https://index.example/simple/demo/").unwrap()
    }

    #[test]
    fn json_page_reads_every_field() {
        let json = r#"{"meta":{"api-version":"1.1"},"name":"demo","files":[
          {"filename":"demo-1.0-py3-none-any.whl","url":"../../files/demo-1.0-py3-none-any.whl",
           "hashes":{"sha256":"ABCD"},"requires-python":">=3.8","yanked":"broken","size":123,
           "core-metadata":{"sha256":"ff"}},
          {"filename":"demo-1.0.tar.gz","url":"https://cdn.example/demo-1.0.tar.gz","hashes":{},
           "yanked":false,"dist-info-metadata":false}]}"#;
        let files = parse_page(json.as_bytes(), JSON_MEDIA_TYPE, &base()).unwrap();
        assert_eq!(files.len(), 2);
        assert_eq!(
            files[0].url.as_str(),
            "https://index.example/files/demo-1.0-py3-none-any.whl"
        );
        assert_eq!(files[0].sha256.as_deref(), Some("abcd"));
        assert_eq!(
            files[0].requires_python.as_ref().unwrap().to_string(),
            ">=3.8"
        );
        assert_eq!(files[0].yanked.as_deref(), Some("broken"));
        assert_eq!(files[0].size, Some(123));
        assert!(files[0].has_metadata_file);
        assert_eq!(files[1].yanked, None);
        assert!(!files[1].has_metadata_file);
        assert_eq!(files[1].sha256, None);
    }

    #[test]
    fn html_page_reads_anchors_attributes_and_hash_fragments() {
        let html = r#"<!DOCTYPE html><html><body>
          <a href="../../files/demo-1.0-py3-none-any.whl#sha256=AB12" data-requires-python="&gt;=3.9" data-dist-info-metadata="sha256=00">demo-1.0-py3-none-any.whl</a>
          <a href="/files/demo-0.9.tar.gz" data-yanked="">demo-0.9.tar.gz</a>
          <a href="/files/demo%2B1-0.8.tar.gz" data-requires-python="not a specifier">x</a>
        </body></html>"#;
        let files = parse_page(html.as_bytes(), "text/html", &base()).unwrap();
        assert_eq!(files.len(), 3);
        assert_eq!(files[0].filename, "demo-1.0-py3-none-any.whl");
        assert_eq!(files[0].sha256.as_deref(), Some("ab12"));
        assert_eq!(files[0].url.fragment(), None);
        assert_eq!(
            files[0].requires_python.as_ref().unwrap().to_string(),
            ">=3.9"
        );
        assert!(files[0].has_metadata_file);
        assert_eq!(files[1].yanked.as_deref(), Some(""));
        assert_eq!(
            files[1].url.as_str(),
            "https://index.example/files/demo-0.9.tar.gz"
        );
        assert_eq!(files[2].filename, "demo+1-0.8.tar.gz");
        assert_eq!(
            files[2].requires_python, None,
            "invalid Requires-Python is ignored, as pip does"
        );
    }

    #[test]
    fn html_base_tag_changes_link_resolution() {
        let html = r#"<html><head><base href="https://mirror.example/pkgs/"></head>
          <body><a href="demo-1.0.tar.gz">demo-1.0.tar.gz</a></body></html>"#;
        let files = parse_page(html.as_bytes(), "text/html; charset=utf-8", &base()).unwrap();
        assert_eq!(
            files[0].url.as_str(),
            "https://mirror.example/pkgs/demo-1.0.tar.gz"
        );
    }

    #[test]
    fn a_url_read_back_from_the_cache_is_parsed_when_used_and_equals_the_original() {
        let original =
            Url::parse("https://files.example/packages/ab/cd/demo%2B1-1.0.tar.gz#x").unwrap();
        let written = FileUrl::written(original.as_str().to_string());
        assert!(written.parsed.get().is_none(), "parsed before use");
        assert_eq!(*written, original);
        assert_eq!(written.path(), original.path());
        assert_eq!(written, FileUrl::from(original));
        // A cache file altered to hold no URL at all names nothing, and does not panic.
        let broken = FileUrl::written("not a url".into());
        assert_eq!(broken.scheme(), "file");
        assert_eq!(broken.as_str(), "not a url");
    }

    #[test]
    fn a_plain_absolute_url_is_kept_unparsed_and_parses_to_the_same_text() {
        let plain = [
            "https://files.pythonhosted.org/packages/0b/b6/f9c0c52f7a2f/pandas-3.1.1-cp312-cp312-manylinux_2_24_x86_64.manylinux_2_28_x86_64.whl",
            "https://mirror.example/simple/demo/demo-1.0+local.7-py3-none-any.whl",
            "https://a-b.c9.example/x/y~z_1.tar.gz",
        ];
        for text in plain {
            let url = FileUrl::plain(text).unwrap_or_else(|| panic!("{text} is plain"));
            assert!(url.parsed.get().is_none(), "parsed before use");
            assert_eq!(url.as_str(), text);
            assert_eq!(Url::parse(text).unwrap().as_str(), text, "as Url writes it");
        }
        let not_plain = [
            "http://files.example/a.whl",
            "https://Files.example/a.whl",
            "https://files.example:443/a.whl",
            "https://files.example/a%2Bb.whl",
            "https://files.example/a/./b.whl",
            "https://files.example/a/../b.whl",
            "https://files.example//b.whl",
            "https://files.example/a.whl#sha256=00",
            "https://files.example/a.whl?x=1",
            "https://1.2.3/a.whl",
            "https://xn--nxasmq6b.example/a.whl",
            "https://-bad.example/a.whl",
            "https://a..b/a.whl",
            "https://files.example",
            "../../packages/a.whl",
            "/packages/a.whl",
        ];
        for text in not_plain {
            assert!(FileUrl::plain(text).is_none(), "{text} is joined");
        }
    }

    #[test]
    fn every_url_of_a_real_page_reads_the_same_unparsed_or_joined() {
        use std::io::Read;
        let gz = std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/benches/fixtures/numpy.json.gz"
        ))
        .unwrap();
        let mut text = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut text)
            .unwrap();
        let base = Url::parse("https://pypi.org/simple/numpy/").unwrap();
        let files = parse_page(text.as_bytes(), JSON_MEDIA_TYPE, &base).unwrap();
        assert!(files.len() > 100);
        let unparsed = files
            .iter()
            .filter(|f| f.url.parsed.get().is_none())
            .count();
        assert_eq!(unparsed, files.len(), "the index's URLs are all plain");
        for file in &files {
            let joined = base.join(file.url.as_str()).unwrap();
            assert_eq!(*file.url, joined);
            assert_eq!(file.url.as_str(), joined.as_str());
        }
    }

    #[test]
    fn wheels_for_other_systems_are_dropped_while_reading() {
        let json = r#"{"files":[
          {"filename":"demo-1.0-cp312-cp312-win_amd64.whl","url":"a","hashes":{}},
          {"filename":"demo-1.0-cp312-cp312-macosx_11_0_arm64.whl","url":"b","hashes":{}},
          {"filename":"demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl","url":"c","hashes":{}},
          {"filename":"demo-1.0-cp312-cp312-musllinux_1_2_aarch64.whl","url":"d","hashes":{}},
          {"filename":"demo-1.0-cp312-cp312-manylinux_2_17_s390x.whl","url":"s","hashes":{}},
          {"filename":"demo-1.0-cp312-cp312-musllinux_1_2_i686.whl","url":"i","hashes":{}},
          {"filename":"demo-1.0-py3-none-any.whl","url":"e","hashes":{}, "yanked": true},
          {"filename":"demo-1.0.tar.gz","url":"f","hashes":{"sha256":"AA","md5":"x"}}]}"#;
        let files = parse_page(json.as_bytes(), JSON_MEDIA_TYPE, &base()).unwrap();
        let names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
        assert_eq!(
            names,
            [
                "demo-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
                "demo-1.0-cp312-cp312-musllinux_1_2_aarch64.whl",
                "demo-1.0-py3-none-any.whl",
                "demo-1.0.tar.gz"
            ]
        );
        assert_eq!(files[2].yanked.as_deref(), Some(""));
        assert_eq!(files[3].sha256.as_deref(), Some("aa"));
    }

    #[test]
    fn json_strings_with_escapes_are_read() {
        let json = r#"{"files":[{"filename":"demo-1.0.tar.gz","url":"x\/demo-1.0.tar.gz","hashes":{},"requires-python":"\u003e=3.8","yanked":"bad \"build\""}]}"#;
        let files = parse_page(json.as_bytes(), JSON_MEDIA_TYPE, &base()).unwrap();
        assert_eq!(
            files[0].url.as_str(),
            "https://index.example/simple/demo/x/demo-1.0.tar.gz"
        );
        assert_eq!(
            files[0].requires_python.as_ref().unwrap().to_string(),
            ">=3.8"
        );
        assert_eq!(files[0].yanked.as_deref(), Some("bad \"build\""));
    }

    #[test]
    fn invalid_json_is_an_error_naming_the_url() {
        let err = parse_page(b"{\"files\": [", JSON_MEDIA_TYPE, &base()).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("https://index.example/simple/demo/")
        );
        assert!(err.to_string().contains("invalid JSON"));
    }
}
