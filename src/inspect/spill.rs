//! Bytes written in order and read back by offset: in memory up to a limit, then in an unnamed
//! temporary file. A sparse read decodes a few hundred KiB in most cases (a tail, a start) and
//! hundreds of MB in a few. Before, each went to a named temporary file (490 of them on the
//! 30-package list, cold); an unnamed one is removed by the kernel however the process ends
//! (a named one outlives a kill), and small ones cost no file at all.

use std::io::Write;
use std::os::unix::fs::FileExt;

use super::sparse_elf::PieceBytes;

#[derive(Debug)]
pub struct Spill {
    limit: usize,
    memory: Vec<u8>,
    file: Option<std::fs::File>,
    len: u64,
}

impl Spill {
    /// Bytes beyond `limit` move everything to a temporary file.
    pub fn new(limit: usize) -> Self {
        Spill {
            limit,
            memory: Vec::new(),
            file: None,
            len: 0,
        }
    }

    pub fn write_all(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.file.is_none() && self.memory.len() + bytes.len() > self.limit {
            let mut file = tempfile::tempfile()?;
            file.write_all(&self.memory)?;
            self.memory = Vec::new();
            self.file = Some(file);
        }
        match &mut self.file {
            Some(file) => file.write_all(bytes)?,
            None => self.memory.extend_from_slice(bytes),
        }
        self.len += bytes.len() as u64;
        Ok(())
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// `len` bytes at `offset`, if written: copied, or mapped when in the file and longer than
    /// `map_over`.
    pub fn piece(&self, offset: u64, len: u64, map_over: u64) -> Option<PieceBytes> {
        let end = offset.checked_add(len)?;
        if end > self.len {
            return None;
        }
        let (from, len) = (usize::try_from(offset).ok()?, usize::try_from(len).ok()?);
        let Some(file) = &self.file else {
            return Some(PieceBytes::Owned(self.memory[from..from + len].to_vec()));
        };
        if len as u64 > map_over {
            // SAFETY: the file is unnamed, ours alone, and no longer written once read.
            let map = unsafe { memmap2::Mmap::map(file) }.ok()?;
            return Some(PieceBytes::Mapped { map, from, len });
        }
        let mut bytes = vec![0; len];
        file.read_exact_at(&mut bytes, offset).ok()?;
        Some(PieceBytes::Owned(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(spill: &mut Spill, total: usize) -> Vec<u8> {
        let bytes: Vec<u8> = (0..total).map(|i| (i * 7) as u8).collect();
        for chunk in bytes.chunks(1000) {
            spill.write_all(chunk).unwrap();
        }
        bytes
    }

    #[test]
    fn bytes_under_the_limit_stay_in_memory() {
        let mut spill = Spill::new(10_000);
        let bytes = written(&mut spill, 10_000);
        assert!(spill.file.is_none());
        assert_eq!(spill.len(), 10_000);
        let piece = spill.piece(2500, 5000, 100).unwrap();
        assert!(matches!(piece, PieceBytes::Owned(_)), "never mapped");
        assert_eq!(&piece[..], &bytes[2500..7500]);
        assert!(spill.piece(9000, 1001, 100).is_none(), "past the end");
    }

    #[test]
    fn bytes_over_the_limit_move_to_a_file_and_read_back_the_same() {
        let mut spill = Spill::new(10_000);
        let bytes = written(&mut spill, 25_000);
        assert!(spill.file.is_some() && spill.memory.is_empty());
        assert_eq!(spill.len(), 25_000);
        let short = spill.piece(5, 50, 100).unwrap();
        assert!(matches!(short, PieceBytes::Owned(_)));
        assert_eq!(&short[..], &bytes[5..55]);
        let long = spill.piece(9000, 12_000, 100).unwrap();
        assert!(matches!(long, PieceBytes::Mapped { .. }));
        assert_eq!(&long[..], &bytes[9000..21_000]);
        assert!(spill.piece(24_999, 2, 100).is_none(), "past the end");
    }
}
