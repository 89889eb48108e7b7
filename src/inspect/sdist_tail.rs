//! An sdist's `PKG-INFO` and `pyproject.toml` from the last bytes of its `.tar.gz`.
//!
//! Most sdists today are written by meson-python, hatchling, flit or maturin, which add
//! `PKG-INFO` last: matplotlib's 33 MB sdist (68 MB of tar) ends with it, and downloading and
//! unpacking all of it was the critical path of a whole alpine/arm64 resolution. So the last
//! compressed bytes are fetched, decoded from a deflate block found in them
//! ([`super::resume`]), and the tar entries there are walked to the end of the archive.
//!
//! The decoded bytes are anchored by the gzip trailer's size (modulo 2^32, which keeps tar's
//! 512-byte alignment), and a walk is believed only if it goes header by header, each with a
//! valid checksum, to the archive's end marker with nothing but zeros after it. Then
//! [`read`] gives the files only when they settle everything: `PKG-INFO` with its
//! requirements stated statically (PEP 643) and `pyproject.toml`, both at the top and fully
//! decoded. Anything else (a setuptools sdist with `PKG-INFO` first, a second gzip member,
//! metadata that leaves the requirements to the build) is `None`, and the caller downloads the
//! whole file, as before: this can make reading cheaper, never less exact.

use super::inflate::{self, SliceWindow};
use super::resume;
use super::sdist::SdistFiles;
use crate::metadata::CoreMetadata;

const BLOCK: usize = 512;
/// No sdist's last megabytes decode to more than this; a tail that does is not read further.
const MAX_DECODED: usize = 256 << 20;
/// Block starts tried before giving up (a false one fails at the latest at the stream's end).
const CANDIDATES: usize = 16;
/// The largest file taken from a tail (as for whole sdists).
const MAX_KEPT_FILE: usize = 4 << 20;

/// The files of a `.tar.gz` sdist from its last bytes (`tail`, ending at the file's end), or
/// `None` when they cannot be known from there. `top` is the directory every sdist member is
/// under (`name-version`, the file name's stem); files elsewhere (a tar inside the sdist) are
/// not taken for the sdist's own.
pub fn read(tail: &[u8], top: &str) -> Option<SdistFiles> {
    let (bytes, unknown) = decode(tail)?;
    let entries = walk(&bytes, &unknown)?;
    let mut files = SdistFiles::default();
    for entry in &entries {
        if entry.path.trim_start_matches("./").split('/').next() != Some(top) {
            continue;
        }
        let Some(slot) = files.slot_for(&entry.path) else {
            continue;
        };
        let data = entry.data.clone();
        if data.len() > MAX_KEPT_FILE || unknown[data.clone()].iter().any(|&u| u) {
            return None;
        }
        *slot = Some(String::from_utf8_lossy(&bytes[data]).into_owned());
    }
    files.partial = true;
    settles_everything(&files).then_some(files)
}

/// Build backends that never put an egg-info directory in an sdist: with them, PKG-INFO is what
/// a whole read would also go by, even when its requirements are not declared static.
const BACKENDS_WITHOUT_EGG_INFO: &[&str] = &[
    "mesonpy",
    "hatchling.build",
    "flit_core.buildapi",
    "maturin",
    "poetry.core.masonry.api",
    "pdm.backend",
    "scikit_build_core.build",
    "uv_build",
];

/// What the resolver and the build knowledge read of an sdist is all there: `pyproject.toml`,
/// and `PKG-INFO` either with static requirements (PEP 643) or written by a backend that has
/// no egg-info to say otherwise. (A setuptools sdist's `requires.txt` could be anywhere in it.)
fn settles_everything(files: &SdistFiles) -> bool {
    let (Some(pkg_info), Some(pyproject)) = (&files.pkg_info, &files.pyproject_toml) else {
        return false;
    };
    let static_requirements =
        CoreMetadata::parse(pkg_info.as_bytes()).is_ok_and(|meta| meta.has_static_requirements());
    static_requirements || BACKENDS_WITHOUT_EGG_INFO.contains(&build_backend(pyproject).as_str())
}

fn build_backend(pyproject: &str) -> String {
    let Ok(table) = pyproject.parse::<toml::Table>() else {
        return String::new();
    };
    table
        .get("build-system")
        .and_then(|b| b.get("build-backend"))
        .and_then(|b| b.as_str())
        .unwrap_or_default()
        .to_string()
}

/// The decoded end of the tar and which of its bytes are unknown; the first byte's offset in
/// the tar is a multiple of 512 (the bytes before it are dropped).
fn decode(tail: &[u8]) -> Option<(Vec<u8>, Vec<bool>)> {
    let (deflated, trailer) = tail.split_at_checked(tail.len().checked_sub(8)?)?;
    let tar_size = u32::from_le_bytes(trailer[4..8].try_into().ok()?);
    let search_end = (deflated.len() * 8).min(8 << 20);
    let mut from = 0;
    let mut tries = 0..CANDIDATES;
    let (mut bytes, mut unknown) = loop {
        tries.next()?;
        let start = inflate::find_any_block(deflated, from, search_end)?;
        if let Some(decoded) = decode_from(deflated, start) {
            break decoded;
        }
        from = start + 1;
    };
    // The tar offset of the first decoded byte, modulo 512 (2^32 is a multiple of 512).
    let first = tar_size.wrapping_sub(bytes.len() as u32) as usize % BLOCK;
    let skip = (BLOCK - first) % BLOCK;
    bytes.drain(..skip.min(bytes.len()));
    unknown.drain(..skip.min(unknown.len()));
    Some((bytes, unknown))
}

fn decode_from(deflated: &[u8], start: usize) -> Option<(Vec<u8>, Vec<bool>)> {
    let (mut bytes, mut unknown) = (Vec::new(), Vec::new());
    resume::decode(&mut SliceWindow(deflated), start, &mut |chunk, mask| {
        bytes.extend_from_slice(chunk);
        unknown.extend_from_slice(mask);
        bytes.len() <= MAX_DECODED
    })
    .ok()?;
    Some((bytes, unknown))
}

/// One member found in the tail: its full path and where its data is.
#[derive(Debug)]
struct Entry {
    path: String,
    data: std::ops::Range<usize>,
}

/// The entries from the first block at which a walk of valid headers reaches the archive's
/// end; `None` if none does.
fn walk(bytes: &[u8], unknown: &[bool]) -> Option<Vec<Entry>> {
    (0..bytes.len() / BLOCK)
        .map(|block| block * BLOCK)
        .filter(|&at| Header::at(bytes, unknown, at).is_some())
        .find_map(|at| walk_from(bytes, unknown, at))
}

fn walk_from(bytes: &[u8], unknown: &[bool], mut at: usize) -> Option<Vec<Entry>> {
    let mut entries = Vec::new();
    let mut long_name: Option<String> = None;
    loop {
        let block = bytes.get(at..at + BLOCK)?;
        if block.iter().all(|&b| b == 0) && !unknown[at..at + BLOCK].iter().any(|&u| u) {
            let rest_is_zero = bytes[at..].iter().all(|&b| b == 0);
            let rest_known = !unknown[at..].iter().any(|&u| u);
            return (rest_is_zero && rest_known).then_some(entries);
        }
        let header = Header::at(bytes, unknown, at)?;
        let data = at + BLOCK..at + BLOCK + header.size;
        let next = data
            .start
            .checked_add(header.size.div_ceil(BLOCK) * BLOCK)?;
        match header.kind {
            // A pax extended header or a GNU long name: the next member's path.
            b'x' | b'L' => {
                let text = bytes.get(data.clone())?;
                if unknown[data.clone()].iter().any(|&u| u) {
                    return None;
                }
                long_name = match header.kind {
                    b'x' => pax_path(text).or(long_name),
                    _ => Some(
                        String::from_utf8_lossy(text)
                            .trim_end_matches('\0')
                            .to_string(),
                    ),
                };
            }
            // Global pax headers and GNU long link names leave the next path alone.
            b'g' | b'K' => {}
            b'0' | b'\0' | b'7' => entries.push(Entry {
                path: long_name.take().unwrap_or(header.name),
                data,
            }),
            _ => long_name = None,
        }
        at = next;
    }
}

/// A tar header block with a valid checksum.
struct Header {
    name: String,
    size: usize,
    kind: u8,
}

impl Header {
    fn at(bytes: &[u8], unknown: &[bool], at: usize) -> Option<Header> {
        let block = bytes.get(at..at + BLOCK)?;
        if unknown[at..at + BLOCK].iter().any(|&u| u) || &block[257..262] != b"ustar" {
            return None;
        }
        let stored = octal(&block[148..156])?;
        let sum: u64 = block
            .iter()
            .enumerate()
            .map(|(i, &b)| {
                if (148..156).contains(&i) {
                    32
                } else {
                    u64::from(b)
                }
            })
            .sum();
        if sum != stored {
            return None;
        }
        let size = usize::try_from(octal(&block[124..136])?).ok()?;
        let name = field(&block[..100]);
        // POSIX ustar ("ustar\0") has a prefix for long paths; GNU ("ustar ") does not.
        let prefix = match block[262] {
            0 => field(&block[345..500]),
            _ => String::new(),
        };
        let name = match prefix.is_empty() {
            true => name,
            false => format!("{prefix}/{name}"),
        };
        Some(Header {
            name,
            size,
            kind: block[156],
        })
    }
}

fn field(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// An octal number field, NUL- or space-terminated (base-256 sizes are beyond any tail).
fn octal(bytes: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(bytes).ok()?;
    let digits = text.trim_matches(|c: char| c == '\0' || c == ' ');
    u64::from_str_radix(digits, 8).ok()
}

/// The `path` record of a pax extended header (`<length> path=<value>\n` records).
fn pax_path(text: &[u8]) -> Option<String> {
    let mut rest = text;
    let mut path = None;
    while !rest.is_empty() {
        let space = rest.iter().position(|&b| b == b' ')?;
        let len: usize = std::str::from_utf8(&rest[..space]).ok()?.parse().ok()?;
        let record = rest.get(space + 1..len)?;
        if let Some(value) = record.strip_prefix(b"path=") {
            let value = value.strip_suffix(b"\n").unwrap_or(value);
            path = Some(String::from_utf8_lossy(value).into_owned());
        }
        rest = &rest[len..];
    }
    path
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::sdist::tests::tar_gz;

    /// Bytes that do not compress, so that a tail of them is mid-stream.
    fn noise(len: usize, seed: u32) -> Vec<u8> {
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

    const MESON: &[u8] =
        b"[build-system]\nbuild-backend = 'mesonpy'\nrequires = ['meson-python']\n";
    const SETUPTOOLS: &[u8] =
        b"[build-system]\nbuild-backend = 'setuptools.build_meta'\nrequires = ['setuptools']\n";
    const PKG_INFO_21: &[u8] =
        b"Metadata-Version: 2.1\nName: demo\nVersion: 1.0\nRequires-Dist: numpy>=2\n";
    const PKG_INFO_22: &[u8] =
        b"Metadata-Version: 2.2\nName: demo\nVersion: 1.0\nRequires-Dist: numpy>=2\n";

    fn last_mebibyte(archive: &[u8]) -> &[u8] {
        assert!(
            archive.len() > 2 << 20,
            "the archive is larger than its tail"
        );
        &archive[archive.len() - (1 << 20)..]
    }

    #[test]
    fn pkg_info_and_pyproject_at_the_end_are_read_from_the_tail() {
        let big = noise(3 << 20, 7);
        let long = format!("demo-1.0/{}/deep.txt", "nested-directory".repeat(8));
        let archive = tar_gz(&[
            ("demo-1.0/src/data.bin", &big),
            (&long, b"a GNU long name on the way"),
            ("demo-1.0/pyproject.toml", MESON),
            ("demo-1.0/PKG-INFO", PKG_INFO_21),
        ]);
        let files = read(last_mebibyte(&archive), "demo-1.0").expect("read from the tail");
        assert_eq!(
            files.pkg_info.as_deref().map(str::as_bytes),
            Some(PKG_INFO_21)
        );
        assert_eq!(
            files.pyproject_toml.as_deref().map(str::as_bytes),
            Some(MESON)
        );
        assert!(files.partial);
        assert!(!files.has_egg_info && files.requires_txt.is_none());
    }

    #[test]
    fn a_setuptools_sdist_is_left_to_the_whole_read_unless_its_requirements_are_static() {
        let big = noise(3 << 20, 11);
        let members = |pkg_info: &'static [u8]| {
            tar_gz(&[
                ("demo-1.0/src/data.bin", &big),
                ("demo-1.0/pyproject.toml", SETUPTOOLS),
                ("demo-1.0/PKG-INFO", pkg_info),
            ])
        };
        // Metadata 2.1 from setuptools: an egg-info requires.txt elsewhere may say otherwise.
        assert_eq!(read(last_mebibyte(&members(PKG_INFO_21)), "demo-1.0"), None);
        // Metadata 2.2 with Requires-Dist not dynamic: PKG-INFO is the answer (PEP 643).
        let files = read(last_mebibyte(&members(PKG_INFO_22)), "demo-1.0").unwrap();
        assert_eq!(
            files.pkg_info.as_deref().map(str::as_bytes),
            Some(PKG_INFO_22)
        );
    }

    #[test]
    fn pkg_info_at_the_start_or_missing_pieces_leave_it_to_the_whole_read() {
        let big = noise(3 << 20, 13);
        let first = tar_gz(&[
            ("demo-1.0/PKG-INFO", PKG_INFO_22),
            ("demo-1.0/src/data.bin", &big),
            ("demo-1.0/pyproject.toml", MESON),
        ]);
        assert_eq!(read(last_mebibyte(&first), "demo-1.0"), None);
        let no_pyproject = tar_gz(&[
            ("demo-1.0/src/data.bin", &big),
            ("demo-1.0/PKG-INFO", PKG_INFO_22),
        ]);
        assert_eq!(read(last_mebibyte(&no_pyproject), "demo-1.0"), None);
    }

    #[test]
    fn files_under_another_top_directory_are_not_the_sdist_s() {
        let big = noise(3 << 20, 17);
        let archive = tar_gz(&[
            ("demo-1.0/src/data.bin", &big),
            ("other-2.0/pyproject.toml", MESON),
            ("other-2.0/PKG-INFO", PKG_INFO_22),
        ]);
        assert_eq!(read(last_mebibyte(&archive), "demo-1.0"), None);
        assert!(read(last_mebibyte(&archive), "other-2.0").is_some());
    }

    #[test]
    fn garbage_and_cut_tails_are_none_not_a_panic() {
        assert_eq!(read(b"", "demo-1.0"), None);
        assert_eq!(read(&noise(1 << 20, 19), "demo-1.0"), None);
        let archive = tar_gz(&[
            ("demo-1.0/src/data.bin", &noise(3 << 20, 23)),
            ("demo-1.0/pyproject.toml", MESON),
            ("demo-1.0/PKG-INFO", PKG_INFO_22),
        ]);
        let tail = last_mebibyte(&archive);
        assert_eq!(read(&tail[..tail.len() - 100], "demo-1.0"), None);
        // A wrong size in the trailer breaks the 512-byte alignment of every header.
        let mut shifted = tail.to_vec();
        let at = shifted.len() - 4;
        shifted[at] = shifted[at].wrapping_add(1);
        assert_eq!(read(&shifted, "demo-1.0"), None);
    }
}
