//! Reading an sdist without building it: the files that state what it is and what it needs.
//!
//! pip would run the build backend to learn an sdist's dependencies. We never run package code,
//! so we read `PKG-INFO` (trustworthy from metadata 2.2 on, PEP 643), setuptools'
//! `*.egg-info/requires.txt`, and `pyproject.toml` (its build requirements, for the build
//! knowledge). Archives are read in memory, never extracted, with bounded decompression.

use std::io::Read;

/// Largest total of decompressed bytes we read from one sdist before giving up.
const MAX_UNPACKED: u64 = 512 << 20;
/// Largest single file we keep.
const MAX_KEPT_FILE: u64 = 4 << 20;
const MAX_MEMBERS: usize = 200_000;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SdistFiles {
    pub pkg_info: Option<String>,
    pub requires_txt: Option<String>,
    /// An `*.egg-info` directory exists (so a missing requires.txt means "no dependencies").
    pub has_egg_info: bool,
    pub pyproject_toml: Option<String>,
    /// Read from the archive's last bytes only ([`super::sdist_tail`]): its sha256 was not
    /// checked.
    #[serde(default)]
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SdistError(pub String);

/// Read the interesting files of an sdist given its name (for the format) and bytes.
pub fn read_sdist(filename: &str, bytes: &[u8]) -> Result<SdistFiles, SdistError> {
    let lower = filename.to_ascii_lowercase();
    if lower.ends_with(".zip") {
        read_zip(bytes)
    } else if lower.ends_with(".tar.gz") || lower.ends_with(".tgz") {
        read_tar(flate2::read::GzDecoder::new(bytes))
    } else if lower.ends_with(".tar") {
        read_tar(bytes)
    } else {
        Err(SdistError(format!(
            "unsupported sdist format: {filename} (wheelcheck reads .tar.gz, .tar and .zip)"
        )))
    }
}

fn read_tar(reader: impl Read) -> Result<SdistFiles, SdistError> {
    let mut archive = tar::Archive::new(reader.take(MAX_UNPACKED));
    let mut files = SdistFiles::default();
    let entries = archive
        .entries()
        .map_err(|e| SdistError(format!("not a tar archive: {e}")))?;
    for (count, entry) in entries.enumerate() {
        if count > MAX_MEMBERS {
            return Err(SdistError("too many members".into()));
        }
        let mut entry = entry.map_err(|e| SdistError(format!("broken tar archive: {e}")))?;
        if !entry.header().entry_type().is_file() {
            continue;
        }
        let path = entry
            .path()
            .map_err(|e| SdistError(format!("bad member name: {e}")))?
            .to_string_lossy()
            .into_owned();
        if let Some(slot) = files.slot_for(&path) {
            *slot = Some(read_limited(&mut entry, &path)?);
        }
    }
    finish(files)
}

fn read_zip(bytes: &[u8]) -> Result<SdistFiles, SdistError> {
    use crate::inspect::zipdir;
    let entries = zipdir::read_directory_in_memory(bytes).map_err(|e| SdistError(e.0))?;
    let mut files = SdistFiles::default();
    for entry in &entries {
        if let Some(slot) = files.slot_for(&entry.name) {
            let data = zipdir::extract_in_memory(bytes, entry, MAX_KEPT_FILE)
                .map_err(|e| SdistError(e.0))?;
            *slot = Some(String::from_utf8_lossy(&data).into_owned());
        }
    }
    finish(files)
}

impl SdistFiles {
    /// Where a member belongs, by its path: `<top>/PKG-INFO`, `<top>/pyproject.toml`, and the
    /// `requires.txt` of an egg-info directory at the top or under `src/`.
    pub(super) fn slot_for(&mut self, path: &str) -> Option<&mut Option<String>> {
        let parts: Vec<&str> = path.trim_start_matches("./").split('/').collect();
        let egg_info_at = parts.iter().position(|p| p.ends_with(".egg-info"));
        if let Some(at) = egg_info_at
            && (at == 1 || (at == 2 && parts[1] == "src"))
        {
            self.has_egg_info = true;
            if parts.len() == at + 2 && parts[at + 1] == "requires.txt" {
                return Some(&mut self.requires_txt);
            }
        }
        match parts.as_slice() {
            [_, "PKG-INFO"] => Some(&mut self.pkg_info),
            [_, "pyproject.toml"] => Some(&mut self.pyproject_toml),
            _ => None,
        }
    }
}

fn read_limited(reader: &mut impl Read, path: &str) -> Result<String, SdistError> {
    let mut data = Vec::new();
    reader
        .take(MAX_KEPT_FILE + 1)
        .read_to_end(&mut data)
        .map_err(|e| SdistError(format!("reading {path}: {e}")))?;
    if data.len() as u64 > MAX_KEPT_FILE {
        return Err(SdistError(format!(
            "{path} is larger than {MAX_KEPT_FILE} bytes"
        )));
    }
    Ok(String::from_utf8_lossy(&data).into_owned())
}

fn finish(files: SdistFiles) -> Result<SdistFiles, SdistError> {
    if files.pkg_info.is_none() {
        return Err(SdistError(
            "no PKG-INFO at the top of the archive: not a valid sdist".into(),
        ));
    }
    Ok(files)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    /// A .tar.gz of `members` in order (GNU headers, long names as GNU long-name entries).
    pub(in crate::inspect) fn tar_gz(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        for (path, data) in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn finds_pkg_info_requires_txt_and_pyproject() {
        let bytes = tar_gz(&[
            ("demo-1.0/setup.py", b"raise SystemExit('never run')"),
            (
                "demo-1.0/PKG-INFO",
                b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n",
            ),
            ("demo-1.0/src/demo.egg-info/requires.txt", b"requests\n"),
            ("demo-1.0/src/demo.egg-info/PKG-INFO", b"ignored"),
            (
                "demo-1.0/pyproject.toml",
                b"[build-system]\nrequires = [\"setuptools\"]\n",
            ),
            ("demo-1.0/tests/PKG-INFO", b"not the top one"),
        ]);
        let files = read_sdist("demo-1.0.tar.gz", &bytes).unwrap();
        assert!(files.pkg_info.unwrap().contains("Name: demo"));
        assert_eq!(files.requires_txt.as_deref(), Some("requests\n"));
        assert!(files.has_egg_info);
        assert!(files.pyproject_toml.unwrap().contains("build-system"));
    }

    #[test]
    fn archive_without_pkg_info_is_rejected() {
        let bytes = tar_gz(&[("demo-1.0/setup.py", b"")]);
        assert!(
            read_sdist("demo-1.0.tar.gz", &bytes)
                .unwrap_err()
                .0
                .contains("PKG-INFO")
        );
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(read_sdist("x-1.tar.gz", b"not gzip at all").is_err());
        assert!(read_sdist("x-1.zip", b"PK\x05\x06 short").is_err());
        assert!(read_sdist("x-1.rar", b"").is_err());
    }
}
