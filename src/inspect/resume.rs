//! Resuming zlib at a deflate block found in the middle of a stream.
//!
//! [`super::inflate`] finds where a block starts and can decode from there itself, but its
//! decoder is several times slower than zlib, and decoding tails was a quarter of a cold run's
//! CPU. flate2 cannot start zlib mid-stream (it has no `inflatePrime`, and the 32 KiB of output
//! before the block are unknown), so zlib is handed a stream in which the block is a valid
//! continuation: a synthetic prefix of a stored block holding a stand-in window, then empty
//! fixed blocks (and, for an odd bit offset, one with a single 9-bit literal) whose lengths
//! bring the bit position to the block's own. The prefix's last bits, all zero (the end-of-block
//! code), replace the bits of the previous block in the block's first byte.
//!
//! Which output bytes came from the real window cannot be told from one decode, so the tail is
//! decoded twice, with stand-ins that differ in every byte: a byte equal in both decodes was
//! built from the tail's own literals; one that differs was copied, through any chain of
//! copies, from before the block, and is unknown. Once the last window's worth of output is
//! equal in both, no later copy can reach an unknown byte, and the second decode stops.

use super::inflate::Window;

/// Deflate's window: the furthest a copy reaches back.
const WINDOW: usize = 32 * 1024;
/// Decoded bytes handed to the sink at a time.
const CHUNK: usize = 1 << 16;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error("the compressed bytes cannot be read: {0}")]
    Read(String),
    #[error("the tail does not inflate: {0}")]
    Invalid(String),
    #[error("the stream ends before its compressed data does")]
    EndsEarly,
    #[error("the compressed data ends before the stream does")]
    Truncated,
    #[error("stopped by the reader")]
    Stopped,
}

/// Decode from bit `start` of `source` (a block start, as [`super::inflate::find_block`] gives)
/// to the end of the stream, which must be the end of the data. `sink` gets the decoded bytes in
/// order with a mask of the same length, `true` where the byte depends on data before `start`,
/// and returns `false` to stop the decoding. Returns the number of bytes decoded.
pub fn decode(
    source: &mut dyn Window,
    start: usize,
    sink: &mut dyn FnMut(&[u8], &[bool]) -> bool,
) -> Result<u64, ResumeError> {
    let shift = start % 8;
    let mut runs = Decodes {
        runs: [
            Run::new(&prefix(shift, 0x00, 0x90))?,
            Run::new(&prefix(shift, 0xff, 0xff))?,
        ],
        known_run: 0,
    };
    let mut at = start / 8;
    let mut mask = Vec::with_capacity(CHUNK);
    loop {
        let (data, whole_rest) = source
            .bytes_from(at)
            .map_err(|e| ResumeError::Read(e.to_string()))?;
        if data.is_empty() {
            return Err(ResumeError::Truncated);
        }
        // The block's first byte goes alone, with the bits before the block cleared as the
        // prefix's end-of-block code left them.
        let first_byte = at == start / 8;
        let (consumed, ended) = match first_byte {
            true => feed_both(&mut runs, &[data[0] & !low_bits(shift)], &mut mask, sink)?,
            false => feed_both(&mut runs, data, &mut mask, sink)?,
        };
        let whole_rest = whole_rest && (!first_byte || data.len() == 1);
        at += consumed;
        match (ended, whole_rest && consumed == data.len()) {
            (true, true) => return Ok(runs.runs[0].produced),
            (true, false) => return Err(ResumeError::EndsEarly),
            (false, _) if consumed == 0 || (whole_rest && consumed == data.len()) => {
                return Err(ResumeError::Truncated);
            }
            (false, _) => {}
        }
    }
}

fn low_bits(count: usize) -> u8 {
    ((1u16 << count) - 1) as u8
}

/// The two decodes, and how many bytes at the end of the output so far are equal in both.
struct Decodes {
    runs: [Run; 2],
    known_run: usize,
}

impl Decodes {
    /// Whether the second decode can stop: copies reach back at most a window, and the last
    /// window is equal in both, so every later byte is too.
    fn settled(&self) -> bool {
        self.known_run >= WINDOW
    }

    /// Mark in `mask` the bytes of `a`'s output that differ from `b`'s (none once settled).
    fn compare(&mut self, mask: &mut Vec<bool>) {
        let [a, b] = &self.runs;
        mask.clear();
        if self.settled() {
            mask.resize(a.out.len(), false);
            return;
        }
        mask.extend(a.out.iter().zip(&b.out).map(|(x, y)| x != y));
        self.known_run = match mask.iter().rposition(|&unknown| unknown) {
            Some(last) => mask.len() - last - 1,
            None => self.known_run + mask.len(),
        };
    }
}

/// Feed the same input to both decodes (the first alone once [`Decodes::settled`]), passing
/// their output on as it comes; returns the bytes consumed (the same for both: they decode the
/// same codes) and whether the stream ended.
fn feed_both(
    decodes: &mut Decodes,
    mut input: &[u8],
    mask: &mut Vec<bool>,
    sink: &mut dyn FnMut(&[u8], &[bool]) -> bool,
) -> Result<(usize, bool), ResumeError> {
    let mut consumed = 0;
    loop {
        let settled = decodes.settled();
        let [a, b] = &mut decodes.runs;
        let (used, ended) = a.step(input)?;
        if !settled && (b.step(input)? != (used, ended) || a.out.len() != b.out.len()) {
            return Err(ResumeError::Invalid(
                "the two decodes differ in shape".into(),
            ));
        }
        if !decodes.runs[0].out.is_empty() {
            decodes.compare(mask);
            if !sink(&decodes.runs[0].out, mask) {
                return Err(ResumeError::Stopped);
            }
        }
        consumed += used;
        input = &input[used..];
        if ended || input.is_empty() || (used == 0 && decodes.runs[0].out.is_empty()) {
            return Ok((consumed, ended));
        }
    }
}

/// One of the two decodes.
struct Run {
    inflater: flate2::Decompress,
    out: Vec<u8>,
    /// Output still to drop: the prefix's.
    to_drop: usize,
    /// Output kept: the tail's.
    produced: u64,
}

impl Run {
    /// A decode that has been through `prefix` (whose output is dropped as it comes).
    fn new(prefix: &Prefix) -> Result<Self, ResumeError> {
        let mut run = Run {
            inflater: flate2::Decompress::new(false),
            out: Vec::with_capacity(CHUNK),
            to_drop: prefix.output,
            produced: 0,
        };
        let mut input = &prefix.bytes[..];
        while !input.is_empty() {
            let before = run.inflater.total_out();
            let (used, ended) = run.step(input)?;
            let stalled = used == 0 && run.inflater.total_out() == before;
            if ended || stalled || !run.out.is_empty() {
                return Err(ResumeError::Invalid("the synthetic prefix".into()));
            }
            input = &input[used..];
        }
        Ok(run)
    }

    /// One call into zlib with `input`; `out` then holds the tail's part of what it produced.
    fn step(&mut self, input: &[u8]) -> Result<(usize, bool), ResumeError> {
        self.out.clear();
        self.out.resize(CHUNK, 0);
        let (before_in, before_out) = (self.inflater.total_in(), self.inflater.total_out());
        let status = self
            .inflater
            .decompress(input, &mut self.out, flate2::FlushDecompress::None)
            .map_err(|e| ResumeError::Invalid(e.to_string()))?;
        let used = (self.inflater.total_in() - before_in) as usize;
        let produced = (self.inflater.total_out() - before_out) as usize;
        self.out.truncate(produced);
        let dropped = self.to_drop.min(produced);
        self.out.drain(..dropped);
        self.to_drop -= dropped;
        self.produced += self.out.len() as u64;
        Ok((used, status == flate2::Status::StreamEnd))
    }
}

/// The synthetic start of a stream: whole bytes, the output they stand for, and (implicitly)
/// `shift` zero bits more that the block's first byte supplies.
struct Prefix {
    bytes: Vec<u8>,
    output: usize,
}

/// A stored block of `fill` bytes as the window, then blocks that end `shift` bits into a byte.
fn prefix(shift: usize, fill: u8, literal: u8) -> Prefix {
    let mut bits = BitWriter::default();
    // A stored block, not final: header, padding to the byte, LEN and NLEN, the bytes.
    bits.put(0b000, 3);
    bits.align();
    bits.put(WINDOW as u32, 16);
    bits.put(!(WINDOW as u32) & 0xffff, 16);
    bits.bytes.resize(bits.used / 8 + WINDOW, fill);
    bits.used += 8 * WINDOW;
    let mut output = WINDOW;
    // A fixed block is 3 header bits and a 7-bit end code (10 bits: 2 more mod 8), plus 9 for a
    // literal of 144 to 255 (which makes the total odd).
    let mut empty_blocks = shift / 2;
    if shift % 2 == 1 {
        fixed_block(&mut bits, Some(literal));
        output += 1;
        empty_blocks = (shift + 8 - 3) % 8 / 2;
    }
    for _ in 0..empty_blocks {
        fixed_block(&mut bits, None);
    }
    debug_assert_eq!(bits.used % 8, shift);
    // The last `shift` bits (zeros of the end code) are the block's first byte's to give.
    bits.bytes.truncate(bits.used / 8);
    Prefix {
        bytes: bits.bytes,
        output,
    }
}

/// A fixed-Huffman block, not final, with at most one literal of 144 to 255 (a 9-bit code).
fn fixed_block(bits: &mut BitWriter, literal: Option<u8>) {
    bits.put(0b0, 1);
    bits.put(0b01, 2);
    if let Some(literal) = literal {
        debug_assert!(literal >= 144);
        bits.put_code(0b1_1001_0000 + u32::from(literal - 144), 9);
    }
    bits.put_code(0, 7);
}

/// Writes bits least-significant first, as deflate packs them; Huffman codes go
/// most-significant bit first.
#[derive(Default)]
pub(super) struct BitWriter {
    pub(super) bytes: Vec<u8>,
    used: usize,
}

impl BitWriter {
    pub(super) fn put(&mut self, value: u32, count: usize) {
        for i in 0..count {
            self.bit((value >> i) & 1);
        }
    }

    pub(super) fn put_code(&mut self, code: u32, len: usize) {
        for i in (0..len).rev() {
            self.bit((code >> i) & 1);
        }
    }

    fn align(&mut self) {
        self.used = self.used.div_ceil(8) * 8;
    }

    fn bit(&mut self, bit: u32) {
        if self.used / 8 == self.bytes.len() {
            self.bytes.push(0);
        }
        self.bytes[self.used / 8] |= (bit as u8) << (self.used % 8);
        self.used += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inspect::inflate::{self, SliceWindow, UNKNOWN};
    use std::io::Write;

    /// Text-like data with long-distance repeats, deflated into many blocks.
    fn compressed_sample(len: usize) -> (Vec<u8>, Vec<u8>) {
        let mut state = 0x9E37_79B9u32;
        let original: Vec<u8> = (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                match i % 5 {
                    0 => b'a' + (state % 26) as u8,
                    _ => b"resume the stream in the middle "[(state % 32) as usize],
                }
            })
            .collect();
        let mut encoder =
            flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
        encoder.write_all(&original).unwrap();
        (original, encoder.finish().unwrap())
    }

    fn resume_all(data: &[u8], start: usize) -> Result<(Vec<u8>, Vec<bool>), ResumeError> {
        let (mut bytes, mut unknown) = (Vec::new(), Vec::new());
        decode(&mut SliceWindow(data), start, &mut |chunk, mask| {
            bytes.extend_from_slice(chunk);
            unknown.extend_from_slice(mask);
            true
        })?;
        Ok((bytes, unknown))
    }

    #[test]
    fn gives_the_reference_decoder_s_bytes_and_unknowns_at_every_bit_offset() {
        let (original, compressed) = compressed_sample(3_000_000);
        let mut shifts = std::collections::BTreeSet::new();
        let mut from = compressed.len() * 2;
        while shifts.len() < 8 && from < compressed.len() * 8 {
            let Some(start) = inflate::find_block(&compressed, from, compressed.len() * 8) else {
                break;
            };
            from = start + 1;
            if !shifts.insert(start % 8) {
                continue;
            }
            let mut reference = Vec::new();
            inflate::decode_from(&compressed, start, &mut |c| reference.extend_from_slice(c))
                .unwrap();
            let (bytes, unknown) = resume_all(&compressed, start).unwrap();
            assert_eq!(bytes.len(), reference.len(), "block at bit {start}");
            let offset = original.len() - bytes.len();
            for (i, &value) in reference.iter().enumerate() {
                assert_eq!(unknown[i], value == UNKNOWN, "byte {i} from bit {start}");
                if value != UNKNOWN {
                    assert_eq!(bytes[i], original[offset + i]);
                }
            }
            assert!(
                unknown.iter().any(|&u| u),
                "some bytes copy from before the block"
            );
        }
        assert_eq!(shifts.len(), 8, "blocks at bit offsets {shifts:?}");
    }

    #[test]
    fn the_second_decode_stops_once_a_window_of_output_is_equal_in_both() {
        let run = || Run::new(&prefix(0, 0x00, 0x90)).unwrap();
        let mut decodes = Decodes {
            runs: [run(), run()],
            known_run: 0,
        };
        let mut mask = Vec::new();
        decodes.runs[0].out = vec![1, 2, 3, 4];
        decodes.runs[1].out = vec![1, 9, 3, 4];
        decodes.compare(&mut mask);
        assert_eq!(mask, [false, true, false, false]);
        assert_eq!(decodes.known_run, 2);
        decodes.runs[0].out = vec![5; WINDOW - 3];
        decodes.runs[1].out = vec![5; WINDOW - 3];
        decodes.compare(&mut mask);
        assert!(!decodes.settled(), "one byte short of a window");
        decodes.runs[0].out = vec![6; 1];
        decodes.runs[1].out = vec![6; 1];
        decodes.compare(&mut mask);
        assert!(decodes.settled());
        // From here the second decode is not run: its stale output no longer counts.
        decodes.runs[0].out = vec![7; 10];
        decodes.runs[1].out = vec![8; 3];
        decodes.compare(&mut mask);
        assert_eq!(mask, [false; 10]);
    }

    #[test]
    fn the_stream_must_end_where_the_data_does() {
        let (_, compressed) = compressed_sample(500_000);
        let start = inflate::find_block(&compressed, compressed.len() * 4, compressed.len() * 8)
            .expect("a block in the second half");
        let mut longer = compressed.clone();
        longer.extend_from_slice(b"trailing");
        assert_eq!(resume_all(&longer, start), Err(ResumeError::EndsEarly));
        assert_eq!(
            resume_all(&compressed[..compressed.len() - 10], start),
            Err(ResumeError::Truncated)
        );
        let stopped = decode(&mut SliceWindow(&compressed), start, &mut |_, _| false);
        assert_eq!(stopped, Err(ResumeError::Stopped));
    }

    #[test]
    fn the_prefix_ends_at_every_bit_offset_and_decodes_to_nothing_but_its_window() {
        for shift in 0..8 {
            let prefix = prefix(shift, 0x00, 0x90);
            // The prefix, the `shift` zero bits, then a final empty stored block.
            let mut stream = prefix.bytes.clone();
            let mut tail = BitWriter {
                bytes: vec![0],
                used: shift,
            };
            tail.put(0b1, 1);
            tail.put(0b00, 2);
            tail.align();
            tail.put(0, 16);
            tail.put(0xffff, 16);
            stream.extend_from_slice(&tail.bytes);
            let mut inflater = flate2::Decompress::new(false);
            let mut out = Vec::with_capacity(WINDOW + 2);
            let status = inflater
                .decompress_vec(&stream, &mut out, flate2::FlushDecompress::Finish)
                .unwrap();
            assert_eq!(status, flate2::Status::StreamEnd, "shift {shift}");
            assert_eq!(out.len(), prefix.output, "shift {shift}");
            assert_eq!(inflater.total_in() as usize, stream.len(), "shift {shift}");
        }
    }
}
