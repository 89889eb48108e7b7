//! Distribution filenames as pip reads them from an index page.
//!
//! pip decides what a file is from its name alone: wheels through
//! `packaging.utils.parse_wheel_filename` (PEP 427/491), source distributions
//! through `_extract_version_from_fragment`, which splits at the first `-`
//! whose prefix canonicalises to the project name. Everything else (`.egg`,
//! `.exe`, `.msi`, `.rpm`, ...) is skipped. This module mirrors those rules so
//! wheelcheck sees the same candidates pip sees.

use std::collections::HashMap;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use pep440_rs::Version;
use pep508_rs::PackageName;

use crate::tags::Tag;

/// Why a filename is not a usable distribution filename.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilenameError {
    #[error("{0:?} is not a wheel filename: it does not end in \".whl\"")]
    NotAWheel(String),
    #[error(
        "wheel filename {0:?} needs 5 or 6 '-'-separated parts \
         (name-version[-build]-python-abi-platform.whl)"
    )]
    WrongPartCount(String),
    #[error("invalid project name in {filename:?}: {reason}")]
    InvalidName { filename: String, reason: String },
    #[error("invalid version {version:?} in {filename:?}: {reason}")]
    InvalidVersion {
        filename: String,
        version: String,
        reason: String,
    },
    #[error("invalid build tag {build:?} in {filename:?}: it must start with a digit")]
    InvalidBuildTag { filename: String, build: String },
    #[error("empty python, abi or platform tag in wheel filename {0:?}")]
    InvalidTag(String),
    #[error("{0:?} has no source-distribution extension pip accepts ({exts})", exts = SdistExtension::list())]
    NotAnSdist(String),
    #[error("{filename:?} does not start with the project name {project:?} followed by '-'")]
    ProjectMismatch { filename: String, project: String },
    #[error("{0:?} has no version after the project name")]
    MissingVersion(String),
    #[error(
        "{0:?} is marked for one Python version (\"-pyX.Y\" suffix); \
         pip never picks such files for Python 3.10+"
    )]
    PythonSuffix(String),
}

/// A parsed wheel filename. Tag parts are lower-cased (as packaging does) and
/// kept as the compressed sets written in the name; [`WheelFilename::tags`]
/// expands them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WheelFilename {
    pub name: PackageName,
    pub version: Version,
    pub build_tag: Option<(u64, String)>,
    pub python_tags: TagList,
    pub abi_tags: TagList,
    pub platform_tags: TagList,
}

/// One compressed tag set of a wheel's name (`cp312`, or `py2`+`py3`), lower-cased. The wheels
/// of a page that carry the same tags share them (see [`PageNames`]).
pub type TagList = Arc<[String]>;

/// The `-`-separated parts of a wheel's file name, split but not yet checked.
struct WheelParts<'a> {
    name: &'a str,
    version: &'a str,
    build: Option<&'a str>,
    /// `python-abi-platform`.
    tags: &'a str,
}

impl<'a> WheelParts<'a> {
    fn split(filename: &'a str) -> Result<Self, FilenameError> {
        let stem = filename
            .strip_suffix(".whl")
            .ok_or_else(|| FilenameError::NotAWheel(filename.to_string()))?;
        let dashes = stem.matches('-').count();
        let wrong_count = || FilenameError::WrongPartCount(filename.to_string());
        if dashes != 4 && dashes != 5 {
            return Err(wrong_count());
        }
        let (name, rest) = stem.split_once('-').ok_or_else(wrong_count)?;
        let (version, rest) = rest.split_once('-').ok_or_else(wrong_count)?;
        let (build, tags) = match dashes {
            5 => rest
                .split_once('-')
                .map(|(build, tags)| (Some(build), tags))
                .ok_or_else(wrong_count)?,
            _ => (None, rest),
        };
        Ok(WheelParts {
            name,
            version,
            build,
            tags,
        })
    }
}

impl WheelFilename {
    /// Parses `name-version[-build]-python-abi-platform.whl` with the checks
    /// of `packaging.utils.parse_wheel_filename`: the name may hold letters,
    /// digits, `_` and `.` (no `-`, no `__`), the version must be PEP 440 and
    /// a build tag must start with a digit.
    pub fn parse(filename: &str) -> Result<Self, FilenameError> {
        let parts = WheelParts::split(filename)?;
        let name = wheel_name(parts.name, filename)?;
        let version = parse_version(parts.version, filename)?;
        let build_tag = parts.build.map(|b| build_tag(b, filename)).transpose()?;
        let [python_tags, abi_tags, platform_tags] = tag_lists(parts.tags, filename)?;
        Ok(WheelFilename {
            name,
            version,
            build_tag,
            python_tags,
            abi_tags,
            platform_tags,
        })
    }

    /// Every tag the compressed sets stand for (`py2.py3-none-any` gives
    /// `py2-none-any` and `py3-none-any`), as pip's `Wheel.file_tags`.
    pub fn tags(&self) -> impl Iterator<Item = Tag> + '_ {
        self.python_tags.iter().flat_map(move |python| {
            self.abi_tags.iter().flat_map(move |abi| {
                self.platform_tags
                    .iter()
                    .map(move |platform| Tag::new(python, abi, platform))
            })
        })
    }

    /// True for `*-none-any` style wheels, which run anywhere the Python
    /// version matches and so never depend on the image's libc or arch.
    pub fn is_pure(&self) -> bool {
        self.abi_tags.iter().all(|a| a == "none") && self.platform_tags.iter().all(|p| p == "any")
    }
}

impl FromStr for WheelFilename {
    type Err = FilenameError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WheelFilename::parse(s)
    }
}

impl fmt::Display for WheelFilename {
    /// The canonical spelling: escaped normalised name, normalised version,
    /// lower-case tags. It equals the original for well-formed modern wheels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.name.as_dist_info_name(), self.version)?;
        if let Some((number, rest)) = &self.build_tag {
            write!(f, "-{number}{rest}")?;
        }
        write!(
            f,
            "-{}-{}-{}.whl",
            self.python_tags.join("."),
            self.abi_tags.join("."),
            self.platform_tags.join(".")
        )
    }
}

/// PEP 427 escapes `-` in names to `_`; packaging additionally rejects `__`
/// and anything but word characters and dots before canonicalising.
fn wheel_name(raw: &str, filename: &str) -> Result<PackageName, FilenameError> {
    let invalid = |reason: &str| FilenameError::InvalidName {
        filename: filename.to_string(),
        reason: reason.to_string(),
    };
    if raw.is_empty() {
        return Err(invalid("the name is empty"));
    }
    if raw.contains("__") {
        return Err(invalid("\"__\" is not allowed"));
    }
    if !raw
        .chars()
        .all(|c| c.is_alphanumeric() || c == '_' || c == '.')
    {
        return Err(invalid("only letters, digits, '_' and '.' are allowed"));
    }
    PackageName::new(raw.to_string()).map_err(|e| invalid(&e.to_string()))
}

fn parse_version(raw: &str, filename: &str) -> Result<Version, FilenameError> {
    Version::from_str(raw).map_err(|e| FilenameError::InvalidVersion {
        filename: filename.to_string(),
        version: raw.to_string(),
        reason: e.to_string(),
    })
}

/// `(\d+)(.*)`: the leading digits sort numerically, the rest as text.
fn build_tag(raw: &str, filename: &str) -> Result<(u64, String), FilenameError> {
    let digits = raw.bytes().take_while(u8::is_ascii_digit).count();
    let number = raw[..digits].parse::<u64>().ok();
    number
        .map(|n| (n, raw[digits..].to_string()))
        .ok_or_else(|| FilenameError::InvalidBuildTag {
            filename: filename.to_string(),
            build: raw.to_string(),
        })
}

/// The three compressed tag sets of `python-abi-platform`.
fn tag_lists(raw: &str, filename: &str) -> Result<[TagList; 3], FilenameError> {
    let mut sets = raw.splitn(3, '-');
    let mut next = || tag_set(sets.next().unwrap_or_default(), filename);
    Ok([next()?, next()?, next()?])
}

/// One `.`-separated compressed tag set, lower-cased like `packaging.tags.Tag`.
fn tag_set(raw: &str, filename: &str) -> Result<TagList, FilenameError> {
    let parts: Vec<String> = raw.split('.').map(str::to_ascii_lowercase).collect();
    if parts.iter().any(String::is_empty) {
        return Err(FilenameError::InvalidTag(filename.to_string()));
    }
    Ok(parts.into())
}

/// The archive formats pip accepts for source distributions
/// (`pip._internal.utils.unpacking.SUPPORTED_EXTENSIONS` on an interpreter
/// with bz2 and lzma, which every official image has).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SdistExtension {
    TarGz,
    Tgz,
    Tar,
    Zip,
    TarBz2,
    Tbz,
    TarXz,
    Txz,
    Tlz,
    TarLz,
    TarLzma,
}

impl SdistExtension {
    pub const ALL: [SdistExtension; 11] = [
        SdistExtension::TarGz,
        SdistExtension::Tgz,
        SdistExtension::Tar,
        SdistExtension::Zip,
        SdistExtension::TarBz2,
        SdistExtension::Tbz,
        SdistExtension::TarXz,
        SdistExtension::Txz,
        SdistExtension::Tlz,
        SdistExtension::TarLz,
        SdistExtension::TarLzma,
    ];

    /// The extension including its leading dot, e.g. `.tar.gz`.
    pub fn as_str(self) -> &'static str {
        match self {
            SdistExtension::TarGz => ".tar.gz",
            SdistExtension::Tgz => ".tgz",
            SdistExtension::Tar => ".tar",
            SdistExtension::Zip => ".zip",
            SdistExtension::TarBz2 => ".tar.bz2",
            SdistExtension::Tbz => ".tbz",
            SdistExtension::TarXz => ".tar.xz",
            SdistExtension::Txz => ".txz",
            SdistExtension::Tlz => ".tlz",
            SdistExtension::TarLz => ".tar.lz",
            SdistExtension::TarLzma => ".tar.lzma",
        }
    }

    /// Splits `filename` like pip's `splitext` (the last extension, plus a
    /// preceding `.tar` in any case) and accepts the result only if it is
    /// one of pip's extensions, compared case-sensitively as pip does.
    pub fn split(filename: &str) -> Option<(&str, SdistExtension)> {
        let (base, ext) = pip_splitext(filename);
        let found = Self::ALL.into_iter().find(|e| e.as_str() == ext)?;
        Some((base, found))
    }

    fn list() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|e| e.as_str()).collect();
        names.join(", ")
    }
}

impl fmt::Display for SdistExtension {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `pip._internal.utils.misc.splitext`: `posixpath.splitext` (which ignores
/// leading dots), then moves a trailing `.tar` of the base into the extension.
fn pip_splitext(path: &str) -> (&str, &str) {
    let (mut base, mut ext) = match path.rfind('.') {
        Some(dot) if path[..dot].chars().any(|c| c != '.') => path.split_at(dot),
        _ => (path, ""),
    };
    if base.len() >= 4 && base.is_char_boundary(base.len() - 4) {
        let cut = base.len() - 4;
        if base[cut..].eq_ignore_ascii_case(".tar") {
            ext = &path[cut..];
            base = &base[..cut];
        }
    }
    (base, ext)
}

/// A parsed source-distribution filename.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdistFilename {
    pub name: PackageName,
    pub version: Version,
    pub extension: SdistExtension,
}

impl SdistFilename {
    /// Parses `<name>-<version><ext>` for a known project. Sdist names are not
    /// escaped (`typing-extensions-4.0.0.tar.gz` and
    /// `typing_extensions-4.0.0.tar.gz` both occur), so like pip we take the
    /// first `-` whose prefix canonicalises to `project` as the separator.
    pub fn parse(filename: &str, project: &PackageName) -> Result<Self, FilenameError> {
        let (stem, extension) = SdistExtension::split(filename)
            .ok_or_else(|| FilenameError::NotAnSdist(filename.to_string()))?;
        let version =
            version_after_name(stem, project).ok_or_else(|| FilenameError::ProjectMismatch {
                filename: filename.to_string(),
                project: project.to_string(),
            })?;
        if version.is_empty() {
            return Err(FilenameError::MissingVersion(filename.to_string()));
        }
        if has_python_suffix(version) {
            return Err(FilenameError::PythonSuffix(filename.to_string()));
        }
        Ok(SdistFilename {
            name: project.clone(),
            version: parse_version(version, filename)?,
            extension,
        })
    }
}

impl fmt::Display for SdistFilename {
    /// The normalised (PEP 625) spelling, not necessarily the original.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.name.as_dist_info_name();
        write!(f, "{name}-{}{}", self.version, self.extension)
    }
}

/// pip's `_find_name_version_sep`: the text after the first `-` whose prefix
/// canonicalises to the project name.
fn version_after_name<'a>(stem: &'a str, project: &PackageName) -> Option<&'a str> {
    stem.match_indices('-')
        .find(|(i, _)| canonicalize(&stem[..*i]) == project.as_ref())
        .map(|(i, _)| &stem[i + 1..])
}

/// `packaging.utils.canonicalize_name` without validation: lower-case and
/// collapse every run of `-`, `_` and `.` into one `-`.
fn canonicalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut in_separator = false;
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !in_separator {
                out.push('-');
            }
            in_separator = true;
        } else {
            out.extend(c.to_lowercase());
            in_separator = false;
        }
    }
    out
}

/// pip's `-py([123]\.?[0-9]?)$` check. pip keeps such a file only if the
/// suffix equals the running "X.Y"; the pattern can't express 3.10+, so on
/// the images we model these files are always dropped.
fn has_python_suffix(version: &str) -> bool {
    let Some(idx) = version.rfind("-py") else {
        return false;
    };
    let rest = &version.as_bytes()[idx + 3..];
    match rest {
        [b'1'..=b'3'] | [b'1'..=b'3', b'.'] => true,
        [b'1'..=b'3', d] | [b'1'..=b'3', b'.', d] => d.is_ascii_digit(),
        _ => false,
    }
}

/// A file pip would consider as a candidate for a project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DistFilename {
    Wheel(WheelFilename),
    Sdist(SdistFilename),
}

/// Reads the file names of one project's page as [`DistFilename::parse`] does, parsing each
/// distinct name, version and tag text once: a page lists thousands of files that repeat a few
/// hundred versions and a few dozen tag sets, and a warm run reads every page of the
/// resolution.
pub struct PageNames<'p> {
    project: &'p PackageName,
    /// A wheel's name part → whether it names `project`.
    names: HashMap<Box<str>, bool>,
    versions: HashMap<Box<str>, Option<Version>>,
    /// `python-abi-platform` → the page's number for that tag set, and its parsed parts.
    tag_sets: HashMap<Box<str>, Option<(u32, [TagList; 3])>>,
    next_tag_set: u32,
}

impl<'p> PageNames<'p> {
    pub fn new(project: &'p PackageName) -> Self {
        PageNames {
            project,
            names: HashMap::new(),
            versions: HashMap::new(),
            tag_sets: HashMap::new(),
            next_tag_set: 0,
        }
    }

    /// What pip makes of `filename` (`None`: it is skipped, as with [`DistFilename::parse`]),
    /// and for a wheel the page's number for its tag set: the same number for the same tags.
    pub fn parse(&mut self, filename: &str) -> Option<(DistFilename, Option<u32>)> {
        if filename.ends_with(".whl") {
            let (wheel, tag_set) = self.wheel(filename)?;
            return Some((DistFilename::Wheel(wheel), Some(tag_set)));
        }
        DistFilename::parse(filename, self.project).map(|dist| (dist, None))
    }

    fn wheel(&mut self, filename: &str) -> Option<(WheelFilename, u32)> {
        let parts = WheelParts::split(filename).ok()?;
        let project = self.project;
        let names_project = memo(&mut self.names, parts.name, |name| {
            wheel_name(name, filename).is_ok_and(|name| &name == project)
        });
        if !names_project {
            return None;
        }
        let version = memo(&mut self.versions, parts.version, |version| {
            parse_version(version, filename).ok()
        })?;
        let build_tag = parts
            .build
            .map(|b| build_tag(b, filename))
            .transpose()
            .ok()?;
        let next = &mut self.next_tag_set;
        let (tag_set, [python_tags, abi_tags, platform_tags]) =
            memo(&mut self.tag_sets, parts.tags, |tags| {
                let lists = tag_lists(tags, filename).ok()?;
                *next += 1;
                Some((*next - 1, lists))
            })?;
        let wheel = WheelFilename {
            name: project.clone(),
            version,
            build_tag,
            python_tags,
            abi_tags,
            platform_tags,
        };
        Some((wheel, tag_set))
    }
}

/// The value for `key`, computed the first time.
fn memo<V: Clone>(map: &mut HashMap<Box<str>, V>, key: &str, compute: impl FnOnce(&str) -> V) -> V {
    if let Some(value) = map.get(key) {
        return value.clone();
    }
    let value = compute(key);
    map.insert(key.into(), value.clone());
    value
}

impl DistFilename {
    /// Classifies a file listed for `project`. `None` means pip ignores it:
    /// eggs, installers and other formats, unparsable names or versions,
    /// wheels of another project, and `.zip` files whose name contains
    /// `macosx10` (an old pip special case).
    pub fn parse(filename: &str, project: &PackageName) -> Option<Self> {
        if filename.ends_with(".whl") {
            let wheel = WheelFilename::parse(filename).ok()?;
            return (&wheel.name == project).then_some(DistFilename::Wheel(wheel));
        }
        if filename.contains("macosx10") && filename.ends_with(".zip") {
            return None;
        }
        SdistFilename::parse(filename, project)
            .ok()
            .map(DistFilename::Sdist)
    }

    pub fn name(&self) -> &PackageName {
        match self {
            DistFilename::Wheel(w) => &w.name,
            DistFilename::Sdist(s) => &s.name,
        }
    }

    pub fn version(&self) -> &Version {
        match self {
            DistFilename::Wheel(w) => &w.version,
            DistFilename::Sdist(s) => &s.version,
        }
    }
}

impl fmt::Display for DistFilename {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DistFilename::Wheel(w) => w.fmt(f),
            DistFilename::Sdist(s) => s.fmt(f),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).unwrap()
    }

    fn version(s: &str) -> Version {
        Version::from_str(s).unwrap()
    }

    fn tag_strings(w: &WheelFilename) -> Vec<String> {
        let mut tags: Vec<String> = w.tags().map(|t| t.to_string()).collect();
        tags.sort();
        tags
    }

    #[test]
    fn simple_wheel() {
        let w = WheelFilename::parse("requests-2.32.3-py3-none-any.whl").unwrap();
        assert_eq!(w.name, name("requests"));
        assert_eq!(w.version, version("2.32.3"));
        assert_eq!(w.build_tag, None);
        assert_eq!(tag_strings(&w), ["py3-none-any"]);
        assert!(w.is_pure());
        assert_eq!(w.to_string(), "requests-2.32.3-py3-none-any.whl");
    }

    #[test]
    fn odd_real_wheel_names() {
        let w = WheelFilename::parse("PyYAML-6.0.1-cp312-cp312-musllinux_1_1_x86_64.whl").unwrap();
        assert_eq!(w.name, name("pyyaml"));
        assert_eq!(*w.platform_tags, ["musllinux_1_1_x86_64"]);
        assert!(!w.is_pure());

        let w = WheelFilename::parse(
            "zope.interface-7.0.3-cp312-cp312-manylinux_2_5_x86_64.manylinux1_x86_64.manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.name, name("zope-interface"));
        assert_eq!(w.platform_tags.len(), 4);
        assert_eq!(w.tags().count(), 4);

        let w = WheelFilename::parse("typing_extensions-4.12.2-py3-none-any.whl").unwrap();
        assert_eq!(w.name, name("typing-extensions"));
        assert_eq!(w.to_string(), "typing_extensions-4.12.2-py3-none-any.whl");

        let w = WheelFilename::parse("backports.zoneinfo-0.2.1-cp38-cp38-manylinux1_x86_64.whl")
            .unwrap();
        assert_eq!(w.name, name("backports-zoneinfo"));
    }

    #[test]
    fn compressed_tags_expand() {
        let w = WheelFilename::parse("six-1.16.0-py2.py3-none-any.whl").unwrap();
        assert_eq!(tag_strings(&w), ["py2-none-any", "py3-none-any"]);
        let w = WheelFilename::parse("x-1-cp311.cp312-cp311.abi3-linux_x86_64.any.whl").unwrap();
        assert_eq!(w.tags().count(), 8);
    }

    #[test]
    fn tags_are_lowercased() {
        let w = WheelFilename::parse("x-1.0-PY3-None-Any.whl").unwrap();
        assert_eq!(tag_strings(&w), ["py3-none-any"]);
    }

    #[test]
    fn build_tags() {
        let w = WheelFilename::parse("foo-1.0-1-py3-none-any.whl").unwrap();
        assert_eq!(w.build_tag, Some((1, String::new())));
        let w = WheelFilename::parse("foo-1.0-20240101abc-py3-none-any.whl").unwrap();
        assert_eq!(w.build_tag, Some((20240101, "abc".to_string())));
        assert_eq!(w.to_string(), "foo-1.0-20240101abc-py3-none-any.whl");
        let err = WheelFilename::parse("foo-1.0-abc-py3-none-any.whl").unwrap_err();
        assert!(
            matches!(err, FilenameError::InvalidBuildTag { .. }),
            "{err}"
        );
        let overflow = "foo-1.0-99999999999999999999999-py3-none-any.whl";
        assert!(WheelFilename::parse(overflow).is_err());
    }

    #[test]
    fn invalid_wheels() {
        let cases = [
            "foo-1.0-py3-none-any.zip",
            "foo-1.0-none-any.whl",
            "foo-1.0-1-2-py3-none-any.whl",
            "foo__bar-1.0-py3-none-any.whl",
            "foo+bar-1.0-py3-none-any.whl",
            "-1.0-py3-none-any.whl",
            "foo-not_a_version!-py3-none-any.whl",
            "foo-1.0-py3..x-none-any.whl",
            "fóo-1.0-py3-none-any.whl",
        ];
        for case in cases {
            assert!(WheelFilename::parse(case).is_err(), "{case}");
        }
        assert!(matches!(
            WheelFilename::parse("foo-1.0-py3-none-any.whl.metadata"),
            Err(FilenameError::NotAWheel(_))
        ));
        assert!(matches!(
            WheelFilename::parse("foo-1.0.0.0-x-py3-none-any.whl"),
            Err(FilenameError::InvalidBuildTag { .. })
        ));
    }

    #[test]
    fn wheel_from_str() {
        let w: WheelFilename = "numpy-2.1.0-cp313-cp313-musllinux_1_2_aarch64.whl"
            .parse()
            .unwrap();
        assert_eq!(w.name, name("numpy"));
    }

    #[test]
    fn sdists_with_dashes_and_dots() {
        let p = name("typing-extensions");
        for f in [
            "typing-extensions-4.0.0.tar.gz",
            "typing_extensions-4.0.0.tar.gz",
        ] {
            let s = SdistFilename::parse(f, &p).unwrap();
            assert_eq!(s.version, version("4.0.0"), "{f}");
            assert_eq!(s.extension, SdistExtension::TarGz);
        }
        let p = name("backports.zoneinfo");
        let s = SdistFilename::parse("backports.zoneinfo-0.2.1.tar.gz", &p).unwrap();
        assert_eq!(s.version, version("0.2.1"));
        assert_eq!(s.to_string(), "backports_zoneinfo-0.2.1.tar.gz");
        let p = name("pyyaml");
        let s = SdistFilename::parse("PyYAML-6.0.1.tar.gz", &p).unwrap();
        assert_eq!(s.version, version("6.0.1"));
    }

    #[test]
    fn sdist_extensions() {
        let p = name("foo");
        let cases = [
            ("foo-1.0.zip", SdistExtension::Zip),
            ("foo-1.0.tar", SdistExtension::Tar),
            ("foo-1.0.tgz", SdistExtension::Tgz),
            ("foo-1.0.tar.bz2", SdistExtension::TarBz2),
            ("foo-1.0.tbz", SdistExtension::Tbz),
            ("foo-1.0.tar.xz", SdistExtension::TarXz),
            ("foo-1.0.txz", SdistExtension::Txz),
            ("foo-1.0.tlz", SdistExtension::Tlz),
            ("foo-1.0.tar.lz", SdistExtension::TarLz),
            ("foo-1.0.tar.lzma", SdistExtension::TarLzma),
        ];
        for (f, ext) in cases {
            assert_eq!(
                SdistFilename::parse(f, &p).map(|s| s.extension),
                Ok(ext),
                "{f}"
            );
        }
        for f in [
            "foo-1.0.tar.Z",
            "foo-1.0.TAR.GZ",
            "foo-1.0.tar.zip",
            "foo-1.0.egg",
            "foo-1.0",
        ] {
            let err = SdistFilename::parse(f, &p).unwrap_err();
            assert!(matches!(err, FilenameError::NotAnSdist(_)), "{f}: {err}");
        }
    }

    #[test]
    fn sdist_name_split_takes_first_matching_dash() {
        // Project "foo-bar": "foo-bar-1.0" splits after "foo-bar".
        let s = SdistFilename::parse("Foo.Bar-1.0.tar.gz", &name("foo-bar")).unwrap();
        assert_eq!(s.version, version("1.0"));
        // Project "foo": the version would be "bar-1.0", not PEP 440.
        let err = SdistFilename::parse("foo-bar-1.0.tar.gz", &name("foo")).unwrap_err();
        assert!(matches!(err, FilenameError::InvalidVersion { .. }), "{err}");
    }

    #[test]
    fn sdist_errors() {
        let p = name("foo");
        let mismatch = SdistFilename::parse("bar-1.0.tar.gz", &p).unwrap_err();
        assert!(matches!(mismatch, FilenameError::ProjectMismatch { .. }));
        let missing = SdistFilename::parse("foo-.tar.gz", &p).unwrap_err();
        assert!(matches!(missing, FilenameError::MissingVersion(_)));
        let no_dash = SdistFilename::parse("foo.tar.gz", &p).unwrap_err();
        assert!(matches!(no_dash, FilenameError::ProjectMismatch { .. }));
        for f in [
            "foo-1.0-py2.7.tar.gz",
            "foo-1.0-py3.zip",
            "foo-1.0-py27.tar.gz",
        ] {
            let err = SdistFilename::parse(f, &p).unwrap_err();
            assert!(matches!(err, FilenameError::PythonSuffix(_)), "{f}: {err}");
        }
        let bad = SdistFilename::parse("foo-latest.tar.gz", &p).unwrap_err();
        assert!(matches!(bad, FilenameError::InvalidVersion { .. }));
    }

    #[test]
    fn dist_filename_classifies_like_pip() {
        let p = name("zope.interface");
        let wheel = "zope.interface-7.0-cp313-cp313-musllinux_1_2_x86_64.whl";
        assert!(matches!(
            DistFilename::parse(wheel, &p),
            Some(DistFilename::Wheel(_))
        ));
        let sdist = DistFilename::parse("zope.interface-7.0.tar.gz", &p).unwrap();
        assert!(matches!(sdist, DistFilename::Sdist(_)));
        assert_eq!(sdist.version(), &version("7.0"));
        assert_eq!(sdist.name(), &p);
        for ignored in [
            "zope.interface-7.0-py3.12.egg",
            "zope.interface-7.0.win32.exe",
            "zope.interface-7.0.msi",
            "zope.interface-7.0-1.x86_64.rpm",
            "zope.interface-7.0-macosx10.6.zip",
            "zope.interface-7.0-py3-none-any.whl.metadata",
            "other-1.0-py3-none-any.whl",
            "zope.interface-bad!-py3-none-any.whl",
        ] {
            assert_eq!(DistFilename::parse(ignored, &p), None, "{ignored}");
        }
    }

    #[test]
    fn splitext_matches_pip() {
        assert_eq!(pip_splitext("a-1.tar.gz"), ("a-1", ".tar.gz"));
        assert_eq!(pip_splitext("a-1.TAR.gz"), ("a-1", ".TAR.gz"));
        assert_eq!(pip_splitext("a-1.zip"), ("a-1", ".zip"));
        assert_eq!(pip_splitext(".zip"), (".zip", ""));
        assert_eq!(pip_splitext("a"), ("a", ""));
        assert_eq!(pip_splitext("é.tar"), ("é", ".tar"));
        assert_eq!(pip_splitext("ééé"), ("ééé", ""));
    }

    #[test]
    fn canonicalize_matches_packaging() {
        assert_eq!(canonicalize("Foo__Bar..Baz-_-Qux"), "foo-bar-baz-qux");
        assert_eq!(canonicalize("typing_extensions"), "typing-extensions");
    }

    #[test]
    fn a_page_s_names_read_as_one_at_a_time_and_share_repeated_tags() {
        let project = name("zope.interface");
        let filenames = [
            "zope.interface-7.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "zope_interface-7.0.1-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "Zope.Interface-7.0.1-1build-CP312-cp312-musllinux_1_1_x86_64.whl",
            "zope.interface-7.0-py3-none-any.whl",
            "zope.interface-7.0.1-py3-none-any.whl",
            "zope.interface-7.0.1.tar.gz",
            "zope.interface-bad!-py3-none-any.whl",
            "zope.interface-7.0.2-x-py3-none-any.whl",
            "zope.interface-7.0.2-py3-none-.whl",
            "zope__interface-7.0-py3-none-any.whl",
            "other-7.0-py3-none-any.whl",
            "zope.interface-7.0-py3.12.egg",
        ];
        let mut names = PageNames::new(&project);
        let read: Vec<_> = filenames.iter().map(|f| names.parse(f)).collect();
        for (filename, got) in filenames.iter().zip(&read) {
            let alone = DistFilename::parse(filename, &project);
            assert_eq!(
                got.as_ref().map(|(dist, _)| dist),
                alone.as_ref(),
                "{filename}"
            );
        }
        let wheel = |i: usize| match &read[i] {
            Some((DistFilename::Wheel(wheel), Some(tag_set))) => (wheel, *tag_set),
            other => panic!("{}: {other:?}", filenames[i]),
        };
        let (first, first_set) = wheel(0);
        let (second, second_set) = wheel(1);
        assert_eq!(first_set, second_set);
        assert!(Arc::ptr_eq(&first.platform_tags, &second.platform_tags));
        assert_ne!(wheel(2).1, first_set);
        assert_eq!(wheel(3).1, wheel(4).1);
        assert_ne!(wheel(3).1, first_set);
        assert!(matches!(read[5], Some((DistFilename::Sdist(_), None))));
    }
}
