//! Real distribution files (wheels and sdists), built in memory for the fixture index.

use sha2::{Digest, Sha256};
use std::io::{Cursor, Read, Write};

/// Core metadata of a distribution, rendered as `METADATA` / `PKG-INFO`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    pub version: String,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub provides_extra: Vec<String>,
    /// Defaults to `"2.1"`.
    pub metadata_version: String,
    /// Fields declared `Dynamic:` (metadata 2.2+), e.g. `"Requires-Dist"`.
    pub dynamic: Vec<String>,
}

impl Meta {
    /// Metadata with only a name and a version (metadata version 2.1).
    pub fn new(name: &str, version: &str) -> Self {
        Meta {
            name: name.into(),
            version: version.into(),
            requires_dist: vec![],
            requires_python: None,
            provides_extra: vec![],
            metadata_version: "2.1".into(),
            dynamic: vec![],
        }
    }

    /// Adds a `Requires-Dist:` line, e.g. `"idna>=2.5"` or `"PySocks!=1.5.7; extra == \"socks\""`.
    pub fn dep(mut self, requirement: &str) -> Self {
        self.requires_dist.push(requirement.into());
        self
    }

    /// Sets `Requires-Python:`, e.g. `">=3.9"`.
    pub fn requires_python(mut self, specifier: &str) -> Self {
        self.requires_python = Some(specifier.into());
        self
    }

    /// Adds a `Provides-Extra:` line.
    pub fn extra(mut self, extra: &str) -> Self {
        self.provides_extra.push(extra.into());
        self
    }

    /// Sets `Metadata-Version:`.
    pub fn metadata_version(mut self, version: &str) -> Self {
        self.metadata_version = version.into();
        self
    }

    /// Adds a `Dynamic:` line, e.g. `"Requires-Dist"`.
    pub fn dynamic(mut self, field: &str) -> Self {
        self.dynamic.push(field.into());
        self
    }

    /// The RFC 822 style core metadata text.
    pub fn render(&self) -> String {
        let mut lines = vec![
            format!("Metadata-Version: {}", self.metadata_version),
            format!("Name: {}", self.name),
            format!("Version: {}", self.version),
        ];
        lines.extend(self.dynamic.iter().map(|f| format!("Dynamic: {f}")));
        lines.extend(
            self.requires_python
                .iter()
                .map(|r| format!("Requires-Python: {r}")),
        );
        lines.extend(
            self.requires_dist
                .iter()
                .map(|r| format!("Requires-Dist: {r}")),
        );
        lines.extend(
            self.provides_extra
                .iter()
                .map(|e| format!("Provides-Extra: {e}")),
        );
        lines.join("\n") + "\n"
    }

    /// The name as used in file names: normalised (PEP 503) with `-` replaced by `_`,
    /// e.g. `Foo.Bar-baz` → `foo_bar_baz`.
    pub fn file_name_stem(&self) -> String {
        format!(
            "{}-{}",
            normalize(&self.name).replace('-', "_"),
            self.version.replace('-', "_")
        )
    }
}

/// A distribution file: its name, its bytes and their SHA-256 (lowercase hex).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Built {
    pub filename: String,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Built {
    /// Wraps arbitrary bytes (e.g. a deliberately broken file) under a file name.
    pub fn from_bytes(filename: &str, bytes: Vec<u8>) -> Built {
        let sha256 = sha256_hex(&bytes);
        Built {
            filename: filename.into(),
            bytes,
            sha256,
        }
    }
}

/// PEP 503 name normalisation: lowercase, runs of `-`, `_`, `.` become one `-`.
pub fn normalize(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        if matches!(c, '-' | '_' | '.') {
            if !out.ends_with('-') {
                out.push('-');
            }
        } else {
            out.push(c.to_ascii_lowercase());
        }
    }
    out
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A real wheel named `{norm_name}-{version}-{tag}.whl` (e.g. tag `py3-none-any`): the given
/// `files` then `{norm_name}-{version}.dist-info/{METADATA,WHEEL,RECORD}`, all deflated.
/// A given file with the path of a generated one (e.g. `….dist-info/METADATA`) replaces it.
pub fn wheel(meta: &Meta, tag: &str, files: &[(&str, &[u8])]) -> Built {
    let dist_info = format!("{}.dist-info", meta.file_name_stem());
    let pure = tag.ends_with("-none-any");
    let mut wheel_txt =
        format!("Wheel-Version: 1.0\nGenerator: wheelcheck-fixture\nRoot-Is-Purelib: {pure}\n");
    for t in expand_tag(tag) {
        wheel_txt += &format!("Tag: {t}\n");
    }
    let generated = [
        (format!("{dist_info}/METADATA"), meta.render().into_bytes()),
        (format!("{dist_info}/WHEEL"), wheel_txt.into_bytes()),
    ];
    let mut entries: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(p, b)| (p.to_string(), b.to_vec()))
        .collect();
    for (path, bytes) in generated {
        if !entries.iter().any(|(p, _)| *p == path) {
            entries.push((path, bytes));
        }
    }
    let record_path = format!("{dist_info}/RECORD");
    if !entries.iter().any(|(p, _)| *p == record_path) {
        let mut record = String::new();
        for (path, bytes) in &entries {
            let digest = base64_urlsafe_nopad(&Sha256::digest(bytes));
            record += &format!("{path},sha256={digest},{}\n", bytes.len());
        }
        record += &format!("{record_path},,\n");
        entries.push((record_path, record.into_bytes()));
    }
    let filename = format!("{}-{tag}.whl", meta.file_name_stem());
    Built::from_bytes(&filename, zip_bytes(&entries))
}

/// An sdist `{norm_name}-{version}.tar.gz` holding `{norm_name}-{version}/PKG-INFO` and the
/// `extra` files (paths relative to that folder: `pyproject.toml`, `setup.py`,
/// `{name}.egg-info/requires.txt`, …).
pub fn sdist_tar_gz(meta: &Meta, extra: &[(&str, &[u8])]) -> Built {
    tar_gz_sdist(meta, sdist_entries(meta, extra))
}

/// Like [`sdist_tar_gz`], with `PKG-INFO` written last, as meson-python, hatchling and flit do.
pub fn sdist_tar_gz_pkg_info_last(meta: &Meta, extra: &[(&str, &[u8])]) -> Built {
    let mut entries = sdist_entries(meta, extra);
    entries.rotate_left(1);
    tar_gz_sdist(meta, entries)
}

fn tar_gz_sdist(meta: &Meta, entries: Vec<(String, Vec<u8>)>) -> Built {
    let mut tar = tar::Builder::new(flate2::write::GzEncoder::new(
        Vec::new(),
        flate2::Compression::default(),
    ));
    for (path, bytes) in entries {
        let mut header = tar::Header::new_ustar();
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_mtime(0);
        tar.append_data(&mut header, path, bytes.as_slice())
            .unwrap();
    }
    let bytes = tar.into_inner().unwrap().finish().unwrap();
    Built::from_bytes(&format!("{}.tar.gz", meta.file_name_stem()), bytes)
}

/// Bytes that do not compress (xorshift), `len` of them.
pub fn noise(len: usize, seed: u32) -> Vec<u8> {
    let mut state = seed | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            state as u8
        })
        .collect()
}

/// The same content as [`sdist_tar_gz`], as a `.zip` sdist.
pub fn sdist_zip(meta: &Meta, extra: &[(&str, &[u8])]) -> Built {
    let bytes = zip_bytes(&sdist_entries(meta, extra));
    Built::from_bytes(&format!("{}.zip", meta.file_name_stem()), bytes)
}

/// The bytes of `path` inside a zip archive (wheel or zip sdist), if present.
pub fn read_zip_entry(archive: &[u8], path: &str) -> Option<Vec<u8>> {
    let mut zip = zip::ZipArchive::new(Cursor::new(archive)).ok()?;
    let mut file = zip.by_name(path).ok()?;
    let mut out = Vec::new();
    file.read_to_end(&mut out).ok()?;
    Some(out)
}

/// The `*.dist-info/METADATA` of a wheel, if it has one.
pub fn wheel_metadata(wheel: &[u8]) -> Option<Vec<u8>> {
    let zip = zip::ZipArchive::new(Cursor::new(wheel)).ok()?;
    let path = zip
        .file_names()
        .find(|n| n.ends_with(".dist-info/METADATA") && n.matches('/').count() == 1)?
        .to_string();
    read_zip_entry(wheel, &path)
}

fn sdist_entries(meta: &Meta, extra: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    let root = meta.file_name_stem();
    let mut entries = vec![(format!("{root}/PKG-INFO"), meta.render().into_bytes())];
    entries.extend(
        extra
            .iter()
            .map(|(p, b)| (format!("{root}/{p}"), b.to_vec())),
    );
    entries
}

fn zip_bytes(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (path, bytes) in entries {
        zip.start_file(path.as_str(), options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// `py2.py3-none-any` → `py2-none-any`, `py3-none-any` (compressed tag sets).
fn expand_tag(tag: &str) -> Vec<String> {
    let parts: Vec<&str> = tag.splitn(3, '-').collect();
    assert_eq!(
        parts.len(),
        3,
        "wheel tag must be python-abi-platform: {tag}"
    );
    let mut out = vec![];
    for py in parts[0].split('.') {
        for abi in parts[1].split('.') {
            for plat in parts[2].split('.') {
                out.push(format!("{py}-{abi}-{plat}"));
            }
        }
    }
    out
}

/// Standard, padded base64 (for `Authorization: Basic` headers).
pub fn base64(bytes: &[u8]) -> String {
    encode_base64(
        bytes,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
        true,
    )
}

/// The URL-safe, unpadded base64 wheels' RECORD files use.
fn base64_urlsafe_nopad(bytes: &[u8]) -> String {
    encode_base64(
        bytes,
        b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
        false,
    )
}

fn encode_base64(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, &b)| n | (b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(alphabet[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}
