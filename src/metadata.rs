//! Core metadata (`METADATA`, `PKG-INFO`): the fields resolution needs, and setuptools'
//! `requires.txt`, which is where an older sdist keeps its dependencies.

use std::str::FromStr;

use pep440_rs::{Version, VersionSpecifiers};
use pep508_rs::{ExtraName, PackageName, Requirement};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreMetadata {
    pub metadata_version: String,
    pub name: PackageName,
    pub version: Version,
    pub requires_dist: Vec<Requirement>,
    pub requires_python: Option<VersionSpecifiers>,
    pub provides_extra: Vec<ExtraName>,
    /// Fields a build may still change (PEP 643); only meaningful in an sdist's PKG-INFO.
    pub dynamic: Vec<String>,
    /// `Requires-Dist` lines that do not parse; pip would fail on them, we report them.
    pub invalid_requirements: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid core metadata: {0}")]
pub struct MetadataError(pub String);

impl CoreMetadata {
    pub fn parse(bytes: &[u8]) -> Result<Self, MetadataError> {
        let text = String::from_utf8_lossy(bytes);
        let fields = header_fields(&text);
        let get = |key: &str| {
            fields
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim().to_string())
        };
        let all = |key: &str| -> Vec<String> {
            fields
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(key))
                .map(|(_, v)| v.trim().to_string())
                .collect()
        };
        let name = get("Name").ok_or_else(|| MetadataError("no Name field".into()))?;
        let name = PackageName::from_str(&name)
            .map_err(|e| MetadataError(format!("Name `{name}`: {e}")))?;
        let version = get("Version").ok_or_else(|| MetadataError("no Version field".into()))?;
        let version = Version::from_str(&version)
            .map_err(|e| MetadataError(format!("Version `{version}`: {e}")))?;
        let (requires_dist, invalid_requirements) = parse_requirements(all("Requires-Dist"));
        Ok(CoreMetadata {
            metadata_version: get("Metadata-Version").unwrap_or_default(),
            name,
            version,
            requires_dist,
            requires_python: get("Requires-Python")
                .and_then(|v| VersionSpecifiers::from_str(&v).ok()),
            provides_extra: all("Provides-Extra")
                .iter()
                .filter_map(|e| ExtraName::from_str(e).ok())
                .collect(),
            dynamic: all("Dynamic"),
            invalid_requirements,
        })
    }

    /// Whether an sdist's PKG-INFO states its dependencies for certain: metadata 2.2 or later
    /// (PEP 643) with `Requires-Dist` not declared dynamic.
    pub fn has_static_requirements(&self) -> bool {
        let version = Version::from_str(&self.metadata_version).ok();
        let at_least_2_2 = version.is_some_and(|v| v >= Version::from_str("2.2").expect("valid"));
        at_least_2_2
            && !self
                .dynamic
                .iter()
                .any(|field| field.eq_ignore_ascii_case("Requires-Dist"))
    }
}

fn parse_requirements(lines: Vec<String>) -> (Vec<Requirement>, Vec<String>) {
    let mut good = Vec::new();
    let mut bad = Vec::new();
    for line in lines {
        match crate::guard::requirement(&line) {
            Ok(requirement) => good.push(requirement),
            Err(_) => bad.push(line),
        }
    }
    (good, bad)
}

/// The RFC 822-style header block: `Key: value` lines with indented continuation lines, ending
/// at the first empty line (the description body follows it). A line of only spaces is a
/// continuation, not the end: long License fields are written that way.
fn header_fields(text: &str) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push('\n');
                value.push_str(line.trim());
            }
            continue;
        }
        if let Some((key, value)) = line.split_once(':') {
            fields.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    fields
}

/// Convert setuptools' `*.egg-info/requires.txt` to requirements: plain lines are unconditional,
/// `[extra]`, `[extra:marker]` and `[:marker]` sections add the extra and/or marker.
pub fn parse_requires_txt(text: &str) -> (Vec<Requirement>, Vec<String>) {
    let mut condition: Option<String> = None;
    let mut lines = Vec::new();
    for line in text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            condition = section_marker(section);
            continue;
        }
        lines.push(match &condition {
            Some(marker) => format!("{line} ; {marker}"),
            None => line.to_string(),
        });
    }
    parse_requirements(lines)
}

fn section_marker(section: &str) -> Option<String> {
    let (extra, marker) = match section.split_once(':') {
        Some((extra, marker)) => (extra.trim(), marker.trim()),
        None => (section.trim(), ""),
    };
    match (extra.is_empty(), marker.is_empty()) {
        (true, true) => None,
        (true, false) => Some(format!("({marker})")),
        (false, true) => Some(format!("extra == \"{extra}\"")),
        (false, false) => Some(format!("({marker}) and extra == \"{extra}\"")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const METADATA: &str = "Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.0.post1\nRequires-Python: >=3.8\nRequires-Dist: idna (>=2.5)\nRequires-Dist: PySocks!=1.5.7,>=1.5.6; extra == \"socks\"\nRequires-Dist: not a valid ((requirement\nProvides-Extra: socks\nDescription: first\n  second\n\nRequires-Dist: body-is-not-a-header\n";

    #[test]
    fn parses_the_fields_resolution_needs() {
        let meta = CoreMetadata::parse(METADATA.as_bytes()).unwrap();
        assert_eq!(meta.name.as_ref(), "demo-pkg");
        assert_eq!(meta.version.to_string(), "1.0.post1");
        assert_eq!(meta.requires_python.as_ref().unwrap().to_string(), ">=3.8");
        let names: Vec<_> = meta
            .requires_dist
            .iter()
            .map(|r| r.name.to_string())
            .collect();
        assert_eq!(names, ["idna", "pysocks"]);
        assert_eq!(meta.invalid_requirements, ["not a valid ((requirement"]);
        assert_eq!(meta.provides_extra.len(), 1);
        assert!(!meta.has_static_requirements());
    }

    #[test]
    fn static_requirements_need_metadata_2_2_and_no_dynamic_requires_dist() {
        let meta = |text: &str| CoreMetadata::parse(text.as_bytes()).unwrap();
        assert!(meta("Metadata-Version: 2.2\nName: a\nVersion: 1\n").has_static_requirements());
        assert!(
            !meta("Metadata-Version: 2.3\nName: a\nVersion: 1\nDynamic: Requires-Dist\n")
                .has_static_requirements()
        );
        assert!(!meta("Metadata-Version: 1.2\nName: a\nVersion: 1\n").has_static_requirements());
    }

    #[test]
    fn whitespace_only_continuation_lines_do_not_end_the_headers() {
        let text = "Metadata-Version: 2.1\nName: matplotlib\nVersion: 3.11.2\nLicense: first\n         \n         second\nRequires-Dist: numpy>=1.25\n\nbody\n";
        let meta = CoreMetadata::parse(text.as_bytes()).unwrap();
        assert_eq!(meta.requires_dist.len(), 1);
        assert_eq!(meta.requires_dist[0].name.as_ref(), "numpy");
    }

    #[test]
    fn missing_name_is_an_error() {
        assert!(CoreMetadata::parse(b"Version: 1.0\n").is_err());
    }

    #[test]
    fn requires_txt_sections_become_markers() {
        let text = "requests>=2\n\n[:python_version < \"3.8\"]\nimportlib-metadata\n\n[security]\npyopenssl\n\n[socks:sys_platform == \"win32\"]\nwin-inet-pton\n";
        let (reqs, bad) = parse_requires_txt(text);
        assert!(bad.is_empty(), "{bad:?}");
        let shown: Vec<String> = reqs.iter().map(|r| r.to_string()).collect();
        assert_eq!(shown[0], "requests>=2");
        assert_eq!(shown[1], "importlib-metadata ; python_full_version < '3.8'");
        assert!(shown[2].contains("extra == 'security'"), "{}", shown[2]);
        assert!(
            shown[3].contains("sys_platform == 'win32'") && shown[3].contains("extra == 'socks'"),
            "{}",
            shown[3]
        );
    }
}
