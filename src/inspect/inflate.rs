//! Inflating a deflate stream from the middle, without the bytes before it.
//!
//! A shared object's dynamic section sits near its end, and a deflated zip member can normally
//! only be read from its start: reading what a 500 MB library needs would mean downloading all
//! of it. But a deflate stream is a chain of blocks, and a block can be decoded from its first
//! bit if the 32 KiB of output before it are treated as unknown (the technique of rapidgzip and
//! pugz). This module finds a block start at or after a given bit by trial (a dynamic-Huffman
//! header with complete codes that decodes cleanly to the end of the stream), then decodes to
//! the end, marking every byte copied from before the start as [`UNKNOWN`]. Decoding to the end
//! of the member anchors the output: its last byte is the member's last byte, so each decoded
//! byte's offset in the file is known exactly.

/// An output byte that depends on data before the decoding started.
pub const UNKNOWN: u16 = 256;

const WINDOW: usize = 32 * 1024;
/// Codes up to this many bits are decoded by one table lookup.
const FAST_BITS: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InflateError {
    #[error("the compressed data ends before the end of the stream")]
    Truncated,
    #[error("invalid deflate data: {0}")]
    Invalid(&'static str),
}

/// Reads bits least-significant first, as deflate packs them.
struct Bits<'a> {
    data: &'a [u8],
    /// Position of the next unread bit.
    pos: usize,
}

impl Bits<'_> {
    /// The next `count` (at most 32) bits, the first one lowest.
    fn bits(&mut self, count: u32) -> Result<u32, InflateError> {
        debug_assert!(count <= 32);
        let end = self.pos + count as usize;
        if end > self.data.len() * 8 {
            return Err(InflateError::Truncated);
        }
        let value = (self.word() >> (self.pos & 7)) & ((1u64 << count) - 1);
        self.pos = end;
        Ok(value as u32)
    }

    /// Eight bytes from the one holding the next bit (zeros past the end).
    fn word(&self) -> u64 {
        let byte = self.pos >> 3;
        match self.data.get(byte..byte + 8) {
            Some(bytes) => u64::from_le_bytes(bytes.try_into().expect("eight bytes")),
            None => {
                let mut bytes = [0u8; 8];
                let rest = self.data.get(byte..).unwrap_or_default();
                bytes[..rest.len()].copy_from_slice(rest);
                u64::from_le_bytes(bytes)
            }
        }
    }

    /// Up to 16 bits without consuming them; past the end they read as zero.
    fn peek16(&self) -> u32 {
        ((self.word() >> (self.pos & 7)) & 0xffff) as u32
    }

    fn available(&self) -> usize {
        (self.data.len() * 8).saturating_sub(self.pos)
    }
}

/// A canonical Huffman code: a fast table for short codes and a bit-by-bit walk for long ones.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
    /// For each FAST_BITS-bit lookahead: symbol << 4 | length, or 0 for "longer code".
    fast: Vec<u16>,
}

impl Huffman {
    /// `complete` requires the code to use every bit pattern (zlib's rule for all codes but a
    /// single-symbol distance code).
    fn new(lengths: &[u8], allow_incomplete: bool) -> Result<Self, InflateError> {
        let counts = code_counts(lengths, allow_incomplete)?;
        let used: u16 = counts[1..].iter().sum();
        let mut symbols = vec![0u16; used as usize];
        sort_symbols(lengths, &counts, &mut symbols);
        let mut huffman = Huffman {
            counts,
            symbols,
            fast: vec![0; 1 << FAST_BITS],
        };
        huffman.fill_fast();
        Ok(huffman)
    }

    fn fill_fast(&mut self) {
        let mut code: u32 = 0;
        let mut index = 0usize;
        for len in 1..=FAST_BITS {
            for _ in 0..self.counts[len as usize] {
                let reversed = code.reverse_bits() >> (32 - len);
                let entry = (self.symbols[index] << 4) | len as u16;
                let mut fill = reversed;
                while fill < (1 << FAST_BITS) {
                    self.fast[fill as usize] = entry;
                    fill += 1 << len;
                }
                code += 1;
                index += 1;
            }
            code <<= 1;
        }
    }

    fn decode(&self, bits: &mut Bits) -> Result<u16, InflateError> {
        let entry = self.fast[(bits.peek16() & ((1 << FAST_BITS) - 1)) as usize];
        if entry != 0 {
            let len = (entry & 15) as usize;
            if bits.available() < len {
                return Err(InflateError::Truncated);
            }
            bits.pos += len;
            return Ok(entry >> 4);
        }
        canonical_decode(&self.counts, &self.symbols, bits)
    }
}

/// How many codes of each length `lengths` give, if they make a valid prefix code: `complete`
/// (using every bit pattern), as zlib requires of all codes but a distance code of at most one
/// symbol, which `allow_incomplete` permits.
fn code_counts(lengths: &[u8], allow_incomplete: bool) -> Result<[u16; 16], InflateError> {
    let mut counts = [0u16; 16];
    for &len in lengths {
        counts[usize::from(len & 15)] += 1;
    }
    counts[0] = 0;
    let mut left: i32 = 1;
    for &count in &counts[1..] {
        left = (left << 1) - i32::from(count);
        if left < 0 {
            return Err(InflateError::Invalid("over-subscribed code"));
        }
    }
    let used: u16 = counts[1..].iter().sum();
    if left > 0 && !(allow_incomplete && used <= 1) {
        return Err(InflateError::Invalid("incomplete code"));
    }
    Ok(counts)
}

/// The symbols in canonical order (by code length, then symbol) into `symbols`.
fn sort_symbols(lengths: &[u8], counts: &[u16; 16], symbols: &mut [u16]) {
    let mut offsets = [0u16; 16];
    for len in 1..15 {
        offsets[len + 1] = offsets[len] + counts[len];
    }
    for (symbol, &len) in lengths.iter().enumerate() {
        if len != 0 {
            symbols[offsets[len as usize] as usize] = symbol as u16;
            offsets[len as usize] += 1;
        }
    }
}

/// One symbol of a canonical code, a bit at a time.
fn canonical_decode(
    counts: &[u16; 16],
    symbols: &[u16],
    bits: &mut Bits,
) -> Result<u16, InflateError> {
    let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
    for &count in &counts[1..] {
        code |= bits.bits(1)? as i32;
        let count = i32::from(count);
        if code - count < first {
            return symbols
                .get((index + (code - first)) as usize)
                .copied()
                .ok_or(InflateError::Invalid("no such code"));
        }
        index += count;
        first += count;
        first <<= 1;
        code <<= 1;
    }
    Err(InflateError::Invalid("no such code"))
}

const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
const LENGTH_EXTRA: [u8; 29] = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
];
const DIST_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];
const DIST_EXTRA: [u8; 30] = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
];
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// Where decoded symbols go.
trait Emit {
    fn push(&mut self, value: u16);
    fn copy(&mut self, distance: usize, length: usize);
}

/// Output that is only checked for being well formed, not kept: a block search's validation.
struct Discard;

impl Emit for Discard {
    fn push(&mut self, _: u16) {}
    fn copy(&mut self, _: usize, _: usize) {}
}

/// The decoder's output side: a 32 KiB history for back-references, flushed to a sink.
struct Output<'s> {
    history: Vec<u16>,
    produced: u64,
    pending: Vec<u16>,
    sink: &'s mut dyn FnMut(&[u16]),
}

impl<'s> Output<'s> {
    fn new(sink: &'s mut dyn FnMut(&[u16])) -> Self {
        Output {
            history: vec![UNKNOWN; WINDOW],
            produced: 0,
            pending: Vec::with_capacity(1 << 16),
            sink,
        }
    }

    fn flush(&mut self) {
        (self.sink)(&self.pending);
        self.pending.clear();
    }
}

impl Emit for Output<'_> {
    fn push(&mut self, value: u16) {
        self.history[(self.produced as usize) & (WINDOW - 1)] = value;
        self.produced += 1;
        self.pending.push(value);
        if self.pending.len() >= 1 << 16 {
            self.flush();
        }
    }

    fn copy(&mut self, distance: usize, length: usize) {
        for _ in 0..length {
            let value = if distance as u64 > self.produced {
                UNKNOWN
            } else {
                self.history[(self.produced as usize - distance) & (WINDOW - 1)]
            };
            self.push(value);
        }
    }
}

/// Decode from bit `start` to the end of the stream (the block marked final). Returns the
/// number of bytes produced; each goes to `sink` in order. Fails on invalid data, and when
/// `data` ends first.
pub fn decode_from(
    data: &[u8],
    start: usize,
    sink: &mut dyn FnMut(&[u16]),
) -> Result<u64, InflateError> {
    decode_blocks(data, start, usize::MAX, sink)
}

/// Compressed bytes too many to hold at once (a 150 MB tail), handed to the decoder
/// ([`super::resume::decode`]) a window at a time.
pub trait Window {
    /// The stream's bytes from byte `from` on — at least `LOOKAHEAD` of them, or all
    /// that are left — and whether they reach the end of the stream.
    fn bytes_from(&mut self, from: usize) -> std::io::Result<(&[u8], bool)>;
}

impl dyn Window + '_ {
    /// No deflate block of a real encoder comes near this many compressed bytes (zlib's hold at
    /// most 64 Ki symbols); a longer one makes the decoding fail rather than be held whole.
    pub const LOOKAHEAD: usize = 1 << 20;
}

/// A [`Window`] over bytes in memory: all of them at once.
pub struct SliceWindow<'a>(pub &'a [u8]);

impl Window for SliceWindow<'_> {
    fn bytes_from(&mut self, from: usize) -> std::io::Result<(&[u8], bool)> {
        Ok((self.0.get(from..).unwrap_or_default(), true))
    }
}

/// Decode at most `max_blocks` blocks (fewer if the stream ends first).
fn decode_blocks(
    data: &[u8],
    start: usize,
    max_blocks: usize,
    sink: &mut dyn FnMut(&[u16]),
) -> Result<u64, InflateError> {
    let mut bits = Bits { data, pos: start };
    let mut out = Output::new(sink);
    for _ in 0..max_blocks {
        if decode_block(&mut bits, &mut out)? {
            break;
        }
    }
    out.flush();
    Ok(out.produced)
}

/// One block; `true` if it is the stream's last.
fn decode_block(bits: &mut Bits, out: &mut impl Emit) -> Result<bool, InflateError> {
    let last = bits.bits(1)? == 1;
    match bits.bits(2)? {
        0 => stored(bits, out)?,
        1 => {
            let (lit, dist) = fixed_codes();
            codes(bits, out, &lit, &dist)?;
        }
        2 => {
            let (lit, dist) = dynamic_codes(bits)?;
            codes(bits, out, &lit, &dist)?;
        }
        _ => return Err(InflateError::Invalid("block type 3")),
    }
    Ok(last)
}

/// The first bit at or after `from` (and before `until`) where a dynamic-Huffman block starts
/// that decodes cleanly ([`CHECKED_BLOCKS`]). Candidates are cheap to reject: most fail the
/// header's code checks. (The caller then decodes to the end, which a false start would not
/// survive.)
pub fn find_block(data: &[u8], from: usize, until: usize) -> Option<usize> {
    let until = until.min(data.len() * 8);
    (from..until).find(|&pos| plausible_header(data, pos) && decodes_to_end(data, pos))
}

/// Like [`find_block`], but also taking a stored block (its length checked against its
/// complement) and the final block: for archives whose last megabyte may be incompressible
/// files (an sdist's images) or one block. Each candidate after `from` in turn, so that a
/// caller whose decode from one fails can go on from the next.
pub fn find_any_block(data: &[u8], from: usize, until: usize) -> Option<usize> {
    let until = until.min(data.len() * 8);
    (from..until).find(|&pos| {
        (plausible_header(data, pos) || plausible_other_header(data, pos))
            && decodes_to_end(data, pos)
    })
}

fn plausible_other_header(data: &[u8], pos: usize) -> bool {
    let mut bits = Bits { data, pos };
    match bits.bits(3).ok() {
        Some(0b101) => code_length_code_is_complete(&bits) && dynamic_header_is_valid(&mut bits),
        Some(0b000) => {
            bits.pos = bits.pos.div_ceil(8) * 8;
            let (Ok(len), Ok(nlen)) = (bits.bits(16), bits.bits(16)) else {
                return false;
            };
            len != 0 && len == !nlen & 0xffff
        }
        _ => false,
    }
}

fn plausible_header(data: &[u8], pos: usize) -> bool {
    let mut bits = Bits { data, pos };
    // Not final (the final block is the stream's last) and dynamic.
    if bits.bits(3).ok() != Some(0b100) {
        return false;
    }
    code_length_code_is_complete(&bits) && dynamic_header_is_valid(&mut bits)
}

/// Whether the code-length code of the dynamic header at `bits` (just after the type bits) is
/// complete, from one word and without decoding anything: most candidates of a block search
/// fail here, several times faster than reading the whole header.
fn code_length_code_is_complete(bits: &Bits) -> bool {
    // HLIT and HDIST (5 bits each), HCLEN (4), then 3 bits per code-length code length.
    let header = Bits {
        data: bits.data,
        pos: bits.pos + 10,
    };
    let ncode = ((header.word() >> (header.pos & 7)) & 0xf) as usize + 4;
    let lengths = Bits {
        data: bits.data,
        pos: header.pos + 4,
    };
    if lengths.available() < 3 * ncode {
        return false;
    }
    // At most 19 lengths of 3 bits: 57 bits, within the word after a shift of at most 7.
    let word = lengths.word() >> (lengths.pos & 7);
    // Each length's share of the code space, in 1/128ths: a complete code sums to 128.
    const SHARE: [u32; 8] = [0, 64, 32, 16, 8, 4, 2, 1];
    let total: u32 = (0..ncode)
        .map(|i| SHARE[((word >> (3 * i)) & 7) as usize])
        .sum();
    total == 128
}

/// What [`dynamic_codes`] checks of the header that follows a dynamic block's type bits, without
/// building its tables: nearly every position a block search tries fails here.
fn dynamic_header_is_valid(bits: &mut Bits) -> bool {
    code_lengths(bits).is_ok_and(|(lengths, nlen, ndist)| {
        code_counts(&lengths[..nlen], false).is_ok()
            && code_counts(&lengths[nlen..nlen + ndist], true).is_ok()
    })
}

/// Blocks a candidate must decode cleanly (or end the data) to be taken for a block start. Of
/// the candidates that passed the header's code checks on the data-science and 30-package
/// lists, 6 targets (202 searches), none failed in its first block; four blocks of checking
/// were 5% of a cold run's CPU, the slow decoder going through what zlib then decodes again.
const CHECKED_BLOCKS: usize = 1;

fn decodes_to_end(data: &[u8], pos: usize) -> bool {
    let mut bits = Bits { data, pos };
    for _ in 0..CHECKED_BLOCKS {
        match decode_block(&mut bits, &mut Discard) {
            Ok(false) => {}
            Ok(true) | Err(InflateError::Truncated) => return true,
            Err(InflateError::Invalid(_)) => return false,
        }
    }
    true
}

fn stored(bits: &mut Bits, out: &mut impl Emit) -> Result<(), InflateError> {
    bits.pos = bits.pos.div_ceil(8) * 8;
    let len = bits.bits(16)?;
    let nlen = bits.bits(16)?;
    if len != !nlen & 0xffff {
        return Err(InflateError::Invalid("stored block length"));
    }
    let start = bits.pos / 8;
    let bytes = data_slice(bits.data, start, len as usize)?;
    for &byte in bytes {
        out.push(u16::from(byte));
    }
    bits.pos += 8 * len as usize;
    Ok(())
}

fn data_slice(data: &[u8], start: usize, len: usize) -> Result<&[u8], InflateError> {
    data.get(start..start + len).ok_or(InflateError::Truncated)
}

fn fixed_codes() -> (Huffman, Huffman) {
    let mut lengths = [0u8; 288];
    lengths[..144].fill(8);
    lengths[144..256].fill(9);
    lengths[256..280].fill(7);
    lengths[280..].fill(8);
    let lit = Huffman::new(&lengths, false).expect("the fixed code is valid");
    // 32 five-bit codes: symbols 30 and 31 exist in the code but are invalid distances,
    // which `codes` rejects.
    let dist = Huffman::new(&[5u8; 32], false).expect("the fixed code is valid");
    (lit, dist)
}

fn dynamic_codes(bits: &mut Bits) -> Result<(Huffman, Huffman), InflateError> {
    let (lengths, nlen, ndist) = code_lengths(bits)?;
    let lit = Huffman::new(&lengths[..nlen], false)?;
    let dist = Huffman::new(&lengths[nlen..nlen + ndist], true)?;
    Ok((lit, dist))
}

/// A dynamic block's header after its type bits: the code lengths of its literal/length codes
/// (the first `nlen`) and distance codes (the next `ndist`), read through the code-length code.
/// Nothing is allocated: a block search calls this at nearly every position it tries.
fn code_lengths(bits: &mut Bits) -> Result<([u8; 286 + 30], usize, usize), InflateError> {
    let nlen = bits.bits(5)? as usize + 257;
    let ndist = bits.bits(5)? as usize + 1;
    let ncode = bits.bits(4)? as usize + 4;
    if nlen > 286 || ndist > 30 {
        return Err(InflateError::Invalid("too many length or distance codes"));
    }
    let mut code_lengths = [0u8; 19];
    for &index in &CODE_LENGTH_ORDER[..ncode] {
        code_lengths[index] = bits.bits(3)? as u8;
    }
    let counts = code_counts(&code_lengths, false)?;
    let mut symbols = [0u16; 19];
    sort_symbols(&code_lengths, &counts, &mut symbols);
    let mut lengths = [0u8; 286 + 30];
    let mut i = 0;
    while i < nlen + ndist {
        let symbol = canonical_decode(&counts, &symbols, bits)?;
        let (value, repeat) = match symbol {
            0..=15 => (symbol as u8, 1),
            16 => {
                let previous = *i
                    .checked_sub(1)
                    .and_then(|p| lengths.get(p))
                    .ok_or(InflateError::Invalid("repeat with no previous length"))?;
                (previous, 3 + bits.bits(2)? as usize)
            }
            17 => (0, 3 + bits.bits(3)? as usize),
            _ => (0, 11 + bits.bits(7)? as usize),
        };
        if i + repeat > nlen + ndist {
            return Err(InflateError::Invalid("too many lengths"));
        }
        lengths[i..i + repeat].fill(value);
        i += repeat;
    }
    if lengths[256] == 0 {
        return Err(InflateError::Invalid("no end-of-block code"));
    }
    Ok((lengths, nlen, ndist))
}

fn codes(
    bits: &mut Bits,
    out: &mut impl Emit,
    lit: &Huffman,
    dist: &Huffman,
) -> Result<(), InflateError> {
    loop {
        let symbol = lit.decode(bits)?;
        match symbol {
            0..=255 => out.push(symbol),
            256 => return Ok(()),
            257..=285 => {
                let index = (symbol - 257) as usize;
                let length = LENGTH_BASE[index] as usize
                    + bits.bits(u32::from(LENGTH_EXTRA[index]))? as usize;
                let code = dist.decode(bits)? as usize;
                if code >= 30 {
                    return Err(InflateError::Invalid("distance code"));
                }
                let distance =
                    DIST_BASE[code] as usize + bits.bits(u32::from(DIST_EXTRA[code]))? as usize;
                out.copy(distance, length);
            }
            _ => return Err(InflateError::Invalid("length code")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression;
    use flate2::write::DeflateEncoder;
    use std::io::Write;

    fn deflate(data: &[u8]) -> Vec<u8> {
        let mut encoder = DeflateEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(data).unwrap();
        encoder.finish().unwrap()
    }

    /// Text-like data that compresses but not trivially, so the encoder emits many blocks.
    fn sample(len: usize) -> Vec<u8> {
        let mut state = 0x2545F491u32;
        (0..len)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if i % 7 == 0 {
                    b'a' + (state % 26) as u8
                } else {
                    b"the quick brown fox jumps over "[(state % 31) as usize]
                }
            })
            .collect()
    }

    fn decode_all(data: &[u8], start: usize) -> Result<Vec<u16>, InflateError> {
        let mut out = Vec::new();
        decode_from(data, start, &mut |chunk| out.extend_from_slice(chunk))?;
        Ok(out)
    }

    #[test]
    fn decodes_a_whole_stream_like_zlib() {
        let original = sample(300_000);
        let out = decode_all(&deflate(&original), 0).unwrap();
        let bytes: Vec<u8> = out.iter().map(|&v| v as u8).collect();
        assert!(out.iter().all(|&v| v < 256));
        assert_eq!(bytes, original);
    }

    #[test]
    fn from_the_middle_the_tail_is_exact_and_anchored_at_the_end() {
        let original = sample(2_000_000);
        let compressed = deflate(&original);
        let start = find_block(&compressed, compressed.len() * 4, compressed.len() * 8)
            .expect("a block starts in the second half");
        let out = decode_all(&compressed, start).unwrap();
        let offset = original.len() - out.len();
        assert!(offset > 0);
        let known = out.iter().filter(|&&v| v != UNKNOWN).count();
        assert!(known > out.len() / 2, "most of the tail is known");
        for (i, &value) in out.iter().enumerate() {
            if value != UNKNOWN {
                assert_eq!(value as u8, original[offset + i], "byte {}", offset + i);
            }
        }
    }

    #[test]
    fn decodes_fixed_huffman_blocks_and_rejects_the_reserved_distances() {
        // zlib codes a short input with the fixed code (block type 1) at every level.
        let original = b"fixed fixed fixed huffman block, fixed again".to_vec();
        let compressed = deflate(&original);
        assert_eq!(compressed[0] >> 1 & 0b11, 1, "zlib chose a fixed block");
        let bytes: Vec<u8> = decode_all(&compressed, 0)
            .unwrap()
            .iter()
            .map(|&v| v as u8)
            .collect();
        assert_eq!(bytes, original);
        // Final fixed block: literal 'a' (0x30 + 0x61 as eight bits), then length code 257
        // (0000001) and distance code 30 (11110), which the format reserves.
        let mut writer = crate::inspect::resume::BitWriter::default();
        writer.put(0b1, 1);
        writer.put(0b01, 2);
        writer.put_code(0x30 + u32::from(b'a'), 8);
        writer.put_code(1, 7);
        writer.put_code(30, 5);
        assert_eq!(
            decode_all(&writer.bytes, 0),
            Err(InflateError::Invalid("distance code"))
        );
    }

    #[test]
    fn the_quick_code_length_check_agrees_with_reading_the_header() {
        let noise: Vec<u8> = sample(4_000).iter().map(|b| b.wrapping_mul(167)).collect();
        let mut agreed = 0;
        for pos in 0..(noise.len() - 16) * 8 {
            let bits = Bits { data: &noise, pos };
            let mut reading = Bits {
                data: &noise,
                pos: pos + 10,
            };
            let ncode = reading.bits(4).unwrap() as usize + 4;
            let mut lengths = [0u8; 19];
            for &index in &CODE_LENGTH_ORDER[..ncode] {
                lengths[index] = reading.bits(3).unwrap() as u8;
            }
            let complete = code_counts(&lengths, false).is_ok();
            assert_eq!(code_length_code_is_complete(&bits), complete, "bit {pos}");
            agreed += usize::from(complete);
        }
        assert!(
            agreed > 0,
            "no complete code in the sample: the test tests nothing"
        );
    }

    #[test]
    fn truncated_and_garbage_streams_are_errors() {
        let compressed = deflate(&sample(100_000));
        assert_eq!(
            decode_all(&compressed[..compressed.len() / 2], 0),
            Err(InflateError::Truncated)
        );
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        assert_eq!(find_block(&garbage, 0, garbage.len() * 8), None);
    }
}
