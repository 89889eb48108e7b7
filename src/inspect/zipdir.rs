//! A zip archive's end records and central directory, parsed from bytes we fetched by range.
//!
//! The `zip` crate reads every member's local header before it tells where the member starts,
//! which would cost one request per member over HTTP. Here the central directory alone gives each
//! member's offset and sizes, so only the members we need are ever fetched. Everything is bounds
//! checked: the input is whatever a server sent.

use serde::{Deserialize, Serialize};

const EOCD_SIGNATURE: u32 = 0x0605_4b50;
const ZIP64_LOCATOR_SIGNATURE: u32 = 0x0706_4b50;
const ZIP64_EOCD_SIGNATURE: u32 = 0x0606_4b50;
const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const EOCD_LEN: usize = 22;
const ZIP64_LOCATOR_LEN: usize = 20;
const ZIP64_EOCD_LEN: usize = 56;
const CENTRAL_HEADER_LEN: usize = 46;
pub const LOCAL_HEADER_LEN: usize = 30;
/// The end record may be followed by a comment of at most 65535 bytes.
pub const MAX_EOCD_SEARCH: usize = EOCD_LEN + 65535 + ZIP64_LOCATOR_LEN;
/// No wheel has this many members; a directory claiming more is hostile or corrupt.
const MAX_ENTRIES: u64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ZipError(pub String);

fn bad(message: impl Into<String>) -> ZipError {
    ZipError(message.into())
}

/// Where the central directory is, read from the end of the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DirectoryLocation {
    pub offset: u64,
    pub size: u64,
    pub entries: u64,
}

/// What the tail tells us: the directory's location, or that the zip64 end record lies before
/// the bytes we have and must be fetched first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TailInfo {
    Found(DirectoryLocation),
    NeedZip64Record { offset: u64 },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipEntry {
    pub name: String,
    pub method: u16,
    pub crc32: u32,
    pub compressed_size: u64,
    pub size: u64,
    pub local_header_offset: u64,
}

impl ZipEntry {
    /// An upper bound of the bytes from the local header to the end of the data (the local
    /// header's extra field may differ from the central one; we allow for a generous one).
    pub fn span_estimate(&self) -> u64 {
        LOCAL_HEADER_LEN as u64 + self.name.len() as u64 + 1024 + self.compressed_size
    }
}

/// Find the end of central directory record in `tail`, the last bytes of an archive of
/// `total` bytes.
pub fn locate_directory(tail: &[u8], total: u64) -> Result<TailInfo, ZipError> {
    let tail_start = total
        .checked_sub(tail.len() as u64)
        .ok_or_else(|| bad("tail longer than the file"))?;
    let eocd_at = find_eocd(tail)
        .ok_or_else(|| bad("no end-of-central-directory record: not a zip file, or truncated"))?;
    let eocd = &tail[eocd_at..];
    let entries = u64::from(u16_at(eocd, 10)?);
    let size = u64::from(u32_at(eocd, 12)?);
    let offset = u64::from(u32_at(eocd, 16)?);
    let is_zip64 = entries == 0xFFFF || size == 0xFFFF_FFFF || offset == 0xFFFF_FFFF;
    let location = if is_zip64 || has_zip64_locator(tail, eocd_at) {
        match zip64_location(tail, tail_start, eocd_at)? {
            Some(location) => location,
            None => {
                let locator = &tail[eocd_at - ZIP64_LOCATOR_LEN..];
                return Ok(TailInfo::NeedZip64Record {
                    offset: u64_at(locator, 8)?,
                });
            }
        }
    } else {
        DirectoryLocation {
            offset,
            size,
            entries,
        }
    };
    check_location(&location, tail_start + eocd_at as u64)?;
    Ok(TailInfo::Found(location))
}

/// Read a zip64 end record fetched separately (after [`TailInfo::NeedZip64Record`]).
pub fn parse_zip64_record(
    record: &[u8],
    end_of_directory: u64,
) -> Result<DirectoryLocation, ZipError> {
    if u32_at(record, 0)? != ZIP64_EOCD_SIGNATURE {
        return Err(bad("zip64 end record has a wrong signature"));
    }
    let location = DirectoryLocation {
        entries: u64_at(record, 32)?,
        size: u64_at(record, 40)?,
        offset: u64_at(record, 48)?,
    };
    check_location(&location, end_of_directory)?;
    Ok(location)
}

fn check_location(location: &DirectoryLocation, end_of_directory: u64) -> Result<(), ZipError> {
    let end = location
        .offset
        .checked_add(location.size)
        .ok_or_else(|| bad("central directory offset overflows"))?;
    if end > end_of_directory {
        return Err(bad(
            "central directory extends past the end record (truncated or lying archive)",
        ));
    }
    if location.entries > MAX_ENTRIES
        || location.entries * CENTRAL_HEADER_LEN as u64 > location.size
    {
        return Err(bad(format!(
            "central directory claims {} entries in {} bytes",
            location.entries, location.size
        )));
    }
    Ok(())
}

/// The rightmost end record whose comment fits in what follows it.
fn find_eocd(tail: &[u8]) -> Option<usize> {
    let last_start = tail.len().checked_sub(EOCD_LEN)?;
    (0..=last_start).rev().find(|&at| {
        u32_at(tail, at).ok() == Some(EOCD_SIGNATURE)
            && u16_at(tail, at + 20)
                .map(|comment| at + EOCD_LEN + comment as usize <= tail.len())
                .unwrap_or(false)
    })
}

fn has_zip64_locator(tail: &[u8], eocd_at: usize) -> bool {
    eocd_at >= ZIP64_LOCATOR_LEN
        && u32_at(tail, eocd_at - ZIP64_LOCATOR_LEN).ok() == Some(ZIP64_LOCATOR_SIGNATURE)
}

fn zip64_location(
    tail: &[u8],
    tail_start: u64,
    eocd_at: usize,
) -> Result<Option<DirectoryLocation>, ZipError> {
    if !has_zip64_locator(tail, eocd_at) {
        return Err(bad("zip64 values without a zip64 locator"));
    }
    let locator = &tail[eocd_at - ZIP64_LOCATOR_LEN..];
    let record_offset = u64_at(locator, 8)?;
    let end_of_directory = tail_start + (eocd_at - ZIP64_LOCATOR_LEN) as u64;
    let Some(relative) = record_offset.checked_sub(tail_start) else {
        return Ok(None);
    };
    let record = tail
        .get(relative as usize..)
        .filter(|r| r.len() >= ZIP64_EOCD_LEN)
        .ok_or_else(|| bad("zip64 end record is cut off"))?;
    parse_zip64_record(record, end_of_directory).map(Some)
}

/// Parse `location.entries` central directory headers from `directory`.
pub fn parse_directory(
    directory: &[u8],
    location: &DirectoryLocation,
) -> Result<Vec<ZipEntry>, ZipError> {
    let mut entries = Vec::with_capacity(location.entries.min(4096) as usize);
    let mut at = 0usize;
    for _ in 0..location.entries {
        let (entry, next) = parse_central_header(directory, at)?;
        if entry.local_header_offset >= location.offset {
            return Err(bad(format!(
                "member {} starts inside the central directory",
                entry.name
            )));
        }
        entries.push(entry);
        at = next;
    }
    Ok(entries)
}

fn parse_central_header(directory: &[u8], at: usize) -> Result<(ZipEntry, usize), ZipError> {
    if u32_at(directory, at)? != CENTRAL_SIGNATURE {
        return Err(bad("central directory header has a wrong signature"));
    }
    let name_len = u16_at(directory, at + 28)? as usize;
    let extra_len = u16_at(directory, at + 30)? as usize;
    let comment_len = u16_at(directory, at + 32)? as usize;
    let name_start = at + CENTRAL_HEADER_LEN;
    let extra_start = name_start + name_len;
    let next = extra_start + extra_len + comment_len;
    let name = directory
        .get(name_start..extra_start)
        .ok_or_else(|| bad("central directory is cut off"))?;
    let extra = directory
        .get(extra_start..extra_start + extra_len)
        .ok_or_else(|| bad("central directory is cut off"))?;
    let mut entry = ZipEntry {
        name: String::from_utf8_lossy(name).into_owned(),
        method: u16_at(directory, at + 10)?,
        crc32: u32_at(directory, at + 16)?,
        compressed_size: u64::from(u32_at(directory, at + 20)?),
        size: u64::from(u32_at(directory, at + 24)?),
        local_header_offset: u64::from(u32_at(directory, at + 42)?),
    };
    apply_zip64_extra(&mut entry, extra)?;
    Ok((entry, next))
}

/// Values of 0xFFFFFFFF in the fixed header are stored in the zip64 extra field, in this order.
fn apply_zip64_extra(entry: &mut ZipEntry, extra: &[u8]) -> Result<(), ZipError> {
    let mut at = 0;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at)?;
        let len = u16_at(extra, at + 2)? as usize;
        let body = extra
            .get(at + 4..at + 4 + len)
            .ok_or_else(|| bad("extra field is cut off"))?;
        if id == 0x0001 {
            let mut field = 0;
            for value in [
                &mut entry.size,
                &mut entry.compressed_size,
                &mut entry.local_header_offset,
            ] {
                if *value == 0xFFFF_FFFF {
                    *value = u64_at(body, field)?;
                    field += 8;
                }
            }
        }
        at += 4 + len;
    }
    Ok(())
}

/// The members of an archive held whole in memory.
pub fn read_directory_in_memory(bytes: &[u8]) -> Result<Vec<ZipEntry>, ZipError> {
    let total = bytes.len() as u64;
    let tail = &bytes[bytes.len().saturating_sub(MAX_EOCD_SEARCH)..];
    let location = match locate_directory(tail, total)? {
        TailInfo::Found(location) => location,
        TailInfo::NeedZip64Record { offset } => {
            let record = bytes
                .get(offset as usize..)
                .ok_or_else(|| bad("zip64 end record out of range"))?;
            parse_zip64_record(record, total)?
        }
    };
    let directory = bytes
        .get(location.offset as usize..(location.offset + location.size) as usize)
        .ok_or_else(|| bad("central directory out of range"))?;
    parse_directory(directory, &location)
}

/// Extract a member of an archive held whole in memory.
pub fn extract_in_memory(bytes: &[u8], entry: &ZipEntry, limit: u64) -> Result<Vec<u8>, ZipError> {
    let local = bytes
        .get(entry.local_header_offset as usize..)
        .ok_or_else(|| bad(format!("member {} starts past the end", entry.name)))?;
    extract(entry, local, limit)
}

/// Where a member's data starts, given the bytes from its local header on.
pub fn data_offset(local: &[u8]) -> Result<usize, ZipError> {
    if u32_at(local, 0)? != LOCAL_SIGNATURE {
        return Err(bad("local header has a wrong signature"));
    }
    let name_len = u16_at(local, 26)? as usize;
    let extra_len = u16_at(local, 28)? as usize;
    Ok(LOCAL_HEADER_LEN + name_len + extra_len)
}

/// Decompress one member from the bytes starting at its local header, refusing to produce more
/// than `limit` bytes (a zip bomb declares small sizes and inflates to gigabytes) and checking
/// the CRC.
pub fn extract(entry: &ZipEntry, local: &[u8], limit: u64) -> Result<Vec<u8>, ZipError> {
    use std::io::Read;
    if entry.size > limit {
        return Err(bad(format!(
            "member {} declares {} bytes, more than the {} allowed",
            entry.name, entry.size, limit
        )));
    }
    let start = data_offset(local)?;
    let data = local
        .get(start..)
        .and_then(|rest| rest.get(..entry.compressed_size as usize))
        .ok_or_else(|| bad(format!("member {} is cut off", entry.name)))?;
    let mut out = Vec::with_capacity(entry.size as usize);
    let read = match entry.method {
        0 => {
            out.extend_from_slice(data);
            Ok(())
        }
        8 => flate2::read::DeflateDecoder::new(data)
            .take(entry.size + 1)
            .read_to_end(&mut out)
            .map(|_| ()),
        other => {
            return Err(bad(format!(
                "member {} uses compression method {other}",
                entry.name
            )));
        }
    };
    read.map_err(|e| bad(format!("member {} does not inflate: {e}", entry.name)))?;
    if out.len() as u64 != entry.size {
        return Err(bad(format!(
            "member {} inflates to {} bytes, not the {} its header says",
            entry.name,
            out.len(),
            entry.size
        )));
    }
    let mut crc = flate2::Crc::new();
    crc.update(&out);
    if crc.sum() != entry.crc32 {
        return Err(bad(format!("member {} fails its CRC check", entry.name)));
    }
    Ok(out)
}

fn u16_at(bytes: &[u8], at: usize) -> Result<u16, ZipError> {
    bytes
        .get(at..at + 2)
        .map(|b| u16::from_le_bytes([b[0], b[1]]))
        .ok_or_else(|| bad("record is cut off"))
}

fn u32_at(bytes: &[u8], at: usize) -> Result<u32, ZipError> {
    bytes
        .get(at..at + 4)
        .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .ok_or_else(|| bad("record is cut off"))
}

fn u64_at(bytes: &[u8], at: usize) -> Result<u64, ZipError> {
    bytes
        .get(at..at + 8)
        .map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")))
        .ok_or_else(|| bad("record is cut off"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(members: &[(&str, &[u8])], comment: &str) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        writer.set_comment(comment);
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated);
        for (name, data) in members {
            writer.start_file(*name, options).unwrap();
            writer.write_all(data).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn entries_of(bytes: &[u8]) -> Vec<ZipEntry> {
        let TailInfo::Found(location) = locate_directory(bytes, bytes.len() as u64).unwrap() else {
            panic!("not zip64");
        };
        let dir = &bytes[location.offset as usize..(location.offset + location.size) as usize];
        parse_directory(dir, &location).unwrap()
    }

    #[test]
    fn reads_members_and_extracts_them() {
        let bytes = archive(
            &[("a.txt", b"hello hello hello"), ("pkg/b.so", &[7u8; 5000])],
            "a comment",
        );
        let entries = entries_of(&bytes);
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].name, "pkg/b.so");
        assert_eq!(entries[1].size, 5000);
        let local = &bytes[entries[0].local_header_offset as usize..];
        assert_eq!(
            extract(&entries[0], local, 1 << 20).unwrap(),
            b"hello hello hello"
        );
        let local = &bytes[entries[1].local_header_offset as usize..];
        assert_eq!(
            extract(&entries[1], local, 1 << 20).unwrap(),
            vec![7u8; 5000]
        );
    }

    #[test]
    fn truncated_archive_has_no_end_record() {
        let bytes = archive(&[("a.txt", b"x")], "");
        let cut = &bytes[..bytes.len() - 5];
        assert!(locate_directory(cut, cut.len() as u64).is_err());
    }

    #[test]
    fn directory_claiming_to_start_past_its_end_is_rejected() {
        let mut bytes = archive(&[("a.txt", b"x")], "");
        let eocd = bytes.len() - EOCD_LEN;
        let len = bytes.len() as u32;
        bytes[eocd + 16..eocd + 20].copy_from_slice(&len.to_le_bytes());
        let err = locate_directory(&bytes, bytes.len() as u64).unwrap_err();
        assert!(err.0.contains("past the end record"), "{err}");
    }

    #[test]
    fn absurd_declared_size_is_refused_before_inflating() {
        let bytes = archive(&[("bomb", &[0u8; 100_000])], "");
        let mut entries = entries_of(&bytes);
        let local = &bytes[entries[0].local_header_offset as usize..];
        assert!(
            extract(&entries[0], local, 1000)
                .unwrap_err()
                .0
                .contains("allowed")
        );
        entries[0].size = 10; // lies small: inflation stops and the mismatch is reported
        assert!(
            extract(&entries[0], local, 1000)
                .unwrap_err()
                .0
                .contains("not the 10")
        );
    }

    #[test]
    fn corrupted_data_fails_the_crc() {
        let mut bytes = archive(&[("a.txt", b"stored data")], "");
        let entries = entries_of(&bytes);
        let mut entry = entries[0].clone();
        let start = entry.local_header_offset as usize
            + data_offset(&bytes[entry.local_header_offset as usize..]).unwrap();
        entry.method = 0;
        entry.compressed_size = 4;
        entry.size = 4;
        bytes[start] ^= 0xFF;
        let local = &bytes[entry.local_header_offset as usize..];
        assert!(extract(&entry, local, 100).unwrap_err().0.contains("CRC"));
    }

    #[test]
    fn zip64_archive_is_read() {
        let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default().large_file(true);
        writer.start_file("big.bin", options).unwrap();
        writer.write_all(b"zip64 member").unwrap();
        let bytes = writer.finish().unwrap().into_inner();
        let entries = entries_of(&bytes);
        assert_eq!(entries[0].name, "big.bin");
        let local = &bytes[entries[0].local_header_offset as usize..];
        assert_eq!(extract(&entries[0], local, 100).unwrap(), b"zip64 member");
    }

    #[test]
    fn garbage_never_panics() {
        for len in 0..200 {
            let noise: Vec<u8> = (0..len).map(|i| (i * 37 % 251) as u8).collect();
            let _ = locate_directory(&noise, noise.len() as u64);
            let location = DirectoryLocation {
                offset: 0,
                size: noise.len() as u64,
                entries: 3,
            };
            let _ = parse_directory(&noise, &location);
        }
    }
}
