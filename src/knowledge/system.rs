//! What each image's system has and what its distribution offers: the sonames an image ships,
//! its installed packages, which package provides a soname, and packages' sizes and
//! dependencies. All from the tables under `data/knowledge/` (see its README for sources).
//!
//! The tables are embedded in the binary and parsed on first use, one table at a time, so a run
//! that needs no system package pays nothing for the other releases and architectures.

use std::collections::{BTreeSet, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use include_dir::{Dir, include_dir};

use crate::knowledge::catalog::{ImageEntry, Variant};
use crate::tags::Arch;

static KNOWLEDGE: Dir = include_dir!("$CARGO_MANIFEST_DIR/data/knowledge");

/// The newest Alpine release we have complete index data for; newer images use it.
const ALPINE_DATA_RELEASE: &str = "3.22";

#[derive(Debug, Clone, thiserror::Error)]
#[error("no system data for {0}: {1}")]
pub struct KnowledgeError(pub String, pub String);

/// The system side of one image on one architecture.
#[derive(Debug, Clone, Default)]
pub struct ImageSystem {
    pub sonames: BTreeSet<String>,
    pub packages: BTreeSet<String>,
    /// Where the data is approximate: carried forward, or taken from a sibling image.
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SonameProvider {
    pub package: String,
    /// Alpine's `so:` name (`apk add so:libGL.so.1`), which survives package renames.
    pub apk_name: Option<String>,
    pub alternatives: Vec<String>,
}

/// A distribution's packages, borrowed from the embedded table: a row's columns are only
/// split when the closure visits it, since a run looks at a few dozen of tens of thousands.
#[derive(Default)]
struct PackageTable {
    alpine: bool,
    /// Name → (installed size in KiB, dependencies), as written in the table.
    rows: HashMap<&'static str, (&'static str, &'static str)>,
    /// Virtual or `so:` name → packages providing it.
    providers: HashMap<&'static str, Vec<&'static str>>,
}

#[derive(Default)]
pub struct SystemData {
    sonames: Mutex<HashMap<String, Arc<HashMap<String, SonameProvider>>>>,
    packages: Mutex<HashMap<String, Arc<PackageTable>>>,
}

/// Which distribution tables an image uses.
struct Tables {
    sonames: String,
    packages: String,
    note: Option<String>,
}

impl SystemData {
    pub fn new() -> Self {
        SystemData::default()
    }

    /// The sonames and packages of an image. Images without a record of their own use their
    /// catalog sibling's (same base system), with the libpython names changed.
    pub fn image(&self, image: &ImageEntry, arch: Arch) -> Result<ImageSystem, KnowledgeError> {
        let mut system = ImageSystem::default();
        let (tag, sibling) = match image_file(&image.tag, arch) {
            Some(_) => (image.tag.clone(), None),
            None => {
                let sibling = image
                    .derived_from
                    .clone()
                    .ok_or_else(|| KnowledgeError(image.tag.clone(), "no package record".into()))?;
                (sibling.clone(), Some(sibling))
            }
        };
        let text = image_file(&tag, arch).ok_or_else(|| {
            KnowledgeError(image.tag.clone(), format!("no soname record for {tag}"))
        })?;
        let python = image.python_str();
        for row in rows(text) {
            system.sonames.insert(with_python(row[0], &python));
        }
        if let Some(list) = KNOWLEDGE.get_file(format!("image-packages/{}.txt", file_stem(&tag))) {
            let text = list.contents_utf8().unwrap_or_default();
            system.packages = rows(text).map(|row| row[0].to_string()).collect();
        }
        if let Some(sibling) = sibling {
            system.notes.push(format!(
                "{}: no published package record; its system is taken from {sibling}",
                image.tag
            ));
        }
        if let Some(note) = tables(image, arch).note {
            system.notes.push(note);
        }
        Ok(system)
    }

    /// The package that provides `soname` in the image's distribution release, if any does.
    pub fn provider(&self, image: &ImageEntry, arch: Arch, soname: &str) -> Option<SonameProvider> {
        let table = self.soname_table(&tables(image, arch).sonames);
        let mut provider = table.get(soname).cloned();
        if provider.is_none() && arch == Arch::Aarch64 {
            // Alpine data is x86_64 only; the loader is the one arch-named soname.
            let x86 = soname.replace("aarch64", "x86_64");
            provider = table.get(&x86).cloned();
        }
        provider
    }

    /// Installed size in bytes of `packages` plus every dependency the image lacks, and the
    /// packages that adds.
    pub fn added_size(
        &self,
        image: &ImageEntry,
        arch: Arch,
        packages: &[String],
        installed: &BTreeSet<String>,
    ) -> (u64, Vec<String>) {
        // The table is megabytes of text, parsed on first use: most images need no package.
        if packages.is_empty() {
            return (0, Vec::new());
        }
        let table = self.package_table(&tables(image, arch).packages);
        let mut added: Vec<String> = Vec::new();
        let mut have = Have {
            installed,
            added: HashSet::new(),
        };
        let mut queue: VecDeque<String> = packages.iter().cloned().collect();
        let mut kib = 0;
        while let Some(name) = queue.pop_front() {
            let Some(name) = table.resolve(&name, &have) else {
                continue;
            };
            if !have.insert(name) {
                continue;
            }
            let Some(&(installed_kib, depends)) = table.rows.get(name) else {
                continue;
            };
            kib += installed_kib.parse::<u64>().unwrap_or(0);
            added.push(name.to_string());
            for group in table.depends(depends) {
                if !group.iter().any(|alt| table.satisfied(alt, &have)) {
                    queue.push_back(group[0].to_string());
                }
            }
        }
        (kib * 1024, added)
    }

    fn soname_table(&self, file: &str) -> Arc<HashMap<String, SonameProvider>> {
        let mut cache = self.sonames.lock().expect("lock");
        cache
            .entry(file.to_string())
            .or_insert_with(|| Arc::new(parse_sonames(file)))
            .clone()
    }

    fn package_table(&self, file: &str) -> Arc<PackageTable> {
        let mut cache = self.packages.lock().expect("lock");
        cache
            .entry(file.to_string())
            .or_insert_with(|| Arc::new(parse_packages(file)))
            .clone()
    }
}

/// The image's packages and those added so far, without copying the image's (thousands of)
/// names for every closure computed.
struct Have<'a> {
    installed: &'a BTreeSet<String>,
    added: HashSet<String>,
}

impl Have<'_> {
    fn contains(&self, name: &str) -> bool {
        self.installed.contains(name) || self.added.contains(name)
    }

    /// False when it was already there.
    fn insert(&mut self, name: &str) -> bool {
        !self.contains(name) && self.added.insert(name.to_string())
    }
}

impl PackageTable {
    /// A real package for a name that may be virtual (`libc-dev`, `so:libz.so.1`).
    fn resolve(&self, name: &str, have: &Have) -> Option<&'static str> {
        if let Some((&known, _)) = self.rows.get_key_value(name) {
            return Some(known);
        }
        let providers = self.providers.get(name)?;
        providers
            .iter()
            .find(|p| have.contains(p))
            .or_else(|| providers.first())
            .copied()
    }

    /// Groups of alternatives: every group must be satisfied by one of its names.
    fn depends(&self, text: &'static str) -> Vec<Vec<&'static str>> {
        if self.alpine {
            apk_depends(text)
        } else {
            deb_depends(text)
        }
    }

    fn satisfied(&self, name: &str, have: &Have) -> bool {
        have.contains(name)
            || self
                .providers
                .get(name)
                .is_some_and(|ps| ps.iter().any(|p| have.contains(p)))
    }
}

fn tables(image: &ImageEntry, arch: Arch) -> Tables {
    match image.variant {
        Variant::Alpine => Tables {
            sonames: format!("alpine-{ALPINE_DATA_RELEASE}-sonames.tsv"),
            packages: format!("alpine-{ALPINE_DATA_RELEASE}-packages.tsv"),
            note: (image.release != ALPINE_DATA_RELEASE).then(|| {
                format!(
                    "Alpine {} package data is carried forward from Alpine {ALPINE_DATA_RELEASE} (x86_64 main), the newest complete index available",
                    image.release
                )
            }),
        },
        _ => {
            let arch = arch.docker_name();
            Tables {
                sonames: format!("debian-{}-{arch}-sonames.tsv", image.release),
                packages: format!("debian-{}-{arch}-packages.tsv", image.release),
                note: None,
            }
        }
    }
}

fn file_stem(tag: &str) -> String {
    tag.replace(':', "-")
}

fn image_file(tag: &str, arch: Arch) -> Option<&'static str> {
    let path = format!(
        "image-sonames/{}-{}.tsv",
        file_stem(tag),
        arch.docker_name()
    );
    KNOWLEDGE.get_file(path)?.contents_utf8()
}

/// `libpython3.11.so.1.0` in a sibling's record becomes the image's own Python.
fn with_python(soname: &str, python: &str) -> String {
    match soname.strip_prefix("libpython3.") {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            let after = rest.trim_start_matches(|c: char| c.is_ascii_digit());
            format!("libpython{python}{after}")
        }
        _ => soname.to_string(),
    }
}

fn rows(text: &'static str) -> impl Iterator<Item = Vec<&'static str>> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| line.split('\t').collect())
}

fn parse_sonames(file: &str) -> HashMap<String, SonameProvider> {
    let Some(text) = KNOWLEDGE.get_file(file).and_then(|f| f.contents_utf8()) else {
        return HashMap::new();
    };
    let alpine = file.starts_with("alpine-");
    rows(text)
        .filter(|row| row.len() >= 2)
        .map(|row| {
            let alternatives_column = if alpine { 6 } else { 3 };
            let provider = SonameProvider {
                package: row[1].to_string(),
                apk_name: alpine
                    .then(|| row.get(2).unwrap_or(&"").to_string())
                    .filter(|s| !s.is_empty()),
                alternatives: row
                    .get(alternatives_column)
                    .filter(|a| **a != "-")
                    .map(|a| {
                        a.split([',', ' '])
                            .filter(|s| !s.is_empty())
                            .map(String::from)
                            .collect()
                    })
                    .unwrap_or_default(),
            };
            (row[0].to_string(), provider)
        })
        .collect()
}

fn parse_packages(file: &str) -> PackageTable {
    let Some(text) = KNOWLEDGE.get_file(file).and_then(|f| f.contents_utf8()) else {
        return PackageTable::default();
    };
    let alpine = file.starts_with("alpine-");
    let mut table = PackageTable {
        alpine,
        ..PackageTable::default()
    };
    for row in rows(text).filter(|row| row.len() >= 3) {
        let depends = row.get(3).copied().unwrap_or("-");
        let provides = row.get(4).copied().unwrap_or("-");
        for virtual_name in names(provides, alpine) {
            table
                .providers
                .entry(virtual_name)
                .or_default()
                .push(row[0]);
        }
        table.rows.insert(row[0], (row[2], depends));
    }
    table
}

/// Debian `Depends`: `a (>= 1), b | c, d:any` → [[a], [b, c], [d]].
fn deb_depends(text: &str) -> Vec<Vec<&str>> {
    if text == "-" {
        return Vec::new();
    }
    text.split(',')
        .map(|group| {
            group
                .split('|')
                .map(|alt| bare_name(alt.trim()))
                .filter(|n| !n.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|group| !group.is_empty())
        .collect()
}

/// apk `D:` tokens: `so:libc.musl-x86_64.so.1 lua5.2 name=1.0 !conflict` → one group each.
fn apk_depends(text: &str) -> Vec<Vec<&str>> {
    if text == "-" {
        return Vec::new();
    }
    text.split_whitespace()
        .filter(|token| !token.starts_with('!'))
        .map(|token| vec![bare_name(token)])
        .filter(|group| !group[0].is_empty())
        .collect()
}

fn names(text: &str, alpine: bool) -> Vec<&str> {
    if text == "-" {
        return Vec::new();
    }
    let separators: &[char] = if alpine { &[' '] } else { &[','] };
    text.split(separators)
        .map(|n| bare_name(n.trim()))
        .filter(|n| !n.is_empty())
        .collect()
}

/// Strip version constraints and architecture qualifiers: `libc6 (>= 2.36)`, `name=1.0-r0`,
/// `python3:any`, `pc:foo>=1`.
fn bare_name(text: &str) -> &str {
    let end = text
        .find([' ', '(', '=', '<', '>', '~'])
        .unwrap_or(text.len());
    let name = &text[..end];
    name.strip_suffix(":any").unwrap_or(name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::catalog::Catalog;

    fn image(tag: &str) -> ImageEntry {
        Catalog::load().unwrap().resolve(tag, None).unwrap().clone()
    }

    #[test]
    fn slim_lacks_libgl_and_libgomp_but_has_zlib_and_python() {
        let data = SystemData::new();
        let slim = data
            .image(&image("python:3.12-slim-trixie"), Arch::X86_64)
            .unwrap();
        assert!(!slim.sonames.contains("libGL.so.1"));
        assert!(!slim.sonames.contains("libgomp.so.1"));
        assert!(slim.sonames.contains("libz.so.1"));
        assert!(slim.sonames.contains("libpython3.12.so.1.0"));
        assert!(slim.packages.contains("libc6"));
        let full = data
            .image(&image("python:3.12-trixie"), Arch::X86_64)
            .unwrap();
        assert!(full.sonames.contains("libgomp.so.1"));
    }

    #[test]
    fn a_derived_image_uses_its_siblings_system_with_its_own_python() {
        let data = SystemData::new();
        let derived = image("python:3.10-slim-trixie");
        assert!(derived.derived_from.is_some());
        let system = data.image(&derived, Arch::Aarch64).unwrap();
        assert!(
            system.sonames.contains("libpython3.10.so.1.0"),
            "{:?}",
            system.sonames
        );
        assert!(
            !system
                .sonames
                .iter()
                .any(|s| s.starts_with("libpython3.11"))
        );
        assert!(
            system
                .notes
                .iter()
                .any(|n| n.contains("no published package record"))
        );
    }

    #[test]
    fn providers_are_the_runtime_packages_of_each_distribution() {
        let data = SystemData::new();
        let trixie = image("python:3.12-slim-trixie");
        let bookworm = image("python:3.12-slim-bookworm");
        let alpine = image("python:3.12-alpine3.24");
        assert_eq!(
            data.provider(&trixie, Arch::X86_64, "libgomp.so.1")
                .unwrap()
                .package,
            "libgomp1"
        );
        assert_eq!(
            data.provider(&trixie, Arch::Aarch64, "libGL.so.1")
                .unwrap()
                .package,
            "libgl1"
        );
        assert_eq!(
            data.provider(&trixie, Arch::X86_64, "libglib-2.0.so.0")
                .unwrap()
                .package,
            "libglib2.0-0t64"
        );
        assert_eq!(
            data.provider(&bookworm, Arch::X86_64, "libglib-2.0.so.0")
                .unwrap()
                .package,
            "libglib2.0-0"
        );
        let gl = data.provider(&alpine, Arch::X86_64, "libGL.so.1").unwrap();
        assert_eq!(
            (gl.package.as_str(), gl.apk_name.as_deref()),
            ("mesa-gl", Some("so:libGL.so.1"))
        );
        assert!(
            data.provider(&alpine, Arch::X86_64, "libGLX.so.0")
                .is_none(),
            "Alpine has no libglvnd"
        );
        let alpine_system = data.image(&alpine, Arch::X86_64).unwrap();
        assert!(
            alpine_system
                .notes
                .iter()
                .any(|n| n.contains("carried forward"))
        );
    }

    #[test]
    fn added_size_follows_dependencies_the_image_lacks() {
        let data = SystemData::new();
        let slim = image("python:3.12-slim-trixie");
        let system = data.image(&slim, Arch::X86_64).unwrap();
        let (bytes, added) =
            data.added_size(&slim, Arch::X86_64, &["libgomp1".into()], &system.packages);
        assert_eq!(
            added,
            ["libgomp1"],
            "libgomp1 depends only on what slim has"
        );
        assert!(bytes > 100 * 1024, "{bytes}");
        let (gl_bytes, gl_added) =
            data.added_size(&slim, Arch::X86_64, &["libgl1".into()], &system.packages);
        assert!(
            gl_added.len() > 3,
            "libgl1 pulls in its GLX/X11 dependencies: {gl_added:?}"
        );
        assert!(gl_bytes > bytes);
    }

    #[test]
    fn dependency_fields_parse() {
        assert_eq!(
            deb_depends("libc6 (>= 2.34), default-dbus | dbus-system-bus, python3:any"),
            [
                vec!["libc6".to_string()],
                vec!["default-dbus".into(), "dbus-system-bus".into()],
                vec!["python3".into()]
            ]
        );
        assert_eq!(
            apk_depends("so:libc.musl-x86_64.so.1 lua5.2 libfoo=1.0-r0 !bar"),
            [
                vec!["so:libc.musl-x86_64.so.1".to_string()],
                vec!["lua5.2".into()],
                vec!["libfoo".into()]
            ]
        );
        assert_eq!(
            with_python("libpython3.11.so.1.0", "3.13"),
            "libpython3.13.so.1.0"
        );
        assert_eq!(with_python("libpython3.so", "3.13"), "libpython3.so");
    }
}
