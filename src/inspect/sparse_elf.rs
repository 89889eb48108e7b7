//! What a 64-bit little-endian ELF file needs, read from a few known pieces of it: the header
//! and program headers, the dynamic section, its string table and `.gnu.version_r` — the same
//! answers [`super::elf::inspect`] gives from the whole file, for files too large to fetch
//! whole (see [`super::sparse`]).

use std::collections::BTreeMap;

use super::elf::{Budget, Class, ElfError, ElfInfo, ElfKind, Machine, TEXT_BUDGET, split_version};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_SONAME: u64 = 14;
const DT_RPATH: u64 = 15;
const DT_RUNPATH: u64 = 29;
const DT_FLAGS_1: u64 = 0x6fff_fffb;
const DT_VERNEED: u64 = 0x6fff_fffe;
const DT_VERNEEDNUM: u64 = 0x6fff_ffff;
const DF_1_PIE: u64 = 0x0800_0000;
const ET_EXEC: u16 = 2;
const ET_DYN: u16 = 3;
/// How much of `.gnu.version_r` to read: real ones are a few hundred bytes.
pub const VERNEED_READ: u64 = 64 * 1024;

/// The bytes of one piece: in memory, or a window of a mapped temporary file. A large C++
/// library's string table is tens of megabytes, of which a few names are read: mapped, only
/// the pages holding them are ever loaded (torch, tensorflow-cpu, pyarrow and scikit-learn:
/// 82 MB of string tables were copied to the heap at the run's peak).
#[derive(Debug)]
pub enum PieceBytes {
    Owned(Vec<u8>),
    Mapped {
        map: memmap2::Mmap,
        from: usize,
        len: usize,
    },
}

impl std::ops::Deref for PieceBytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            PieceBytes::Owned(bytes) => bytes,
            PieceBytes::Mapped { map, from, len } => &map[*from..*from + *len],
        }
    }
}

impl From<Vec<u8>> for PieceBytes {
    fn from(bytes: Vec<u8>) -> Self {
        PieceBytes::Owned(bytes)
    }
}

/// Byte ranges of a file, as far as they were read.
#[derive(Debug, Default)]
pub struct Pieces {
    pub size: u64,
    pieces: Vec<(u64, PieceBytes)>,
}

impl Pieces {
    pub fn new(size: u64) -> Self {
        Pieces {
            size,
            pieces: Vec::new(),
        }
    }

    pub fn add(&mut self, offset: u64, bytes: impl Into<PieceBytes>) {
        self.pieces.push((offset, bytes.into()));
    }

    /// `len` bytes at `offset`, if one piece holds them all.
    pub fn get(&self, offset: u64, len: u64) -> Option<&[u8]> {
        self.pieces.iter().find_map(|(start, bytes)| {
            let from = offset.checked_sub(*start)? as usize;
            bytes.get(from..from.checked_add(len as usize)?)
        })
    }

    fn u16_at(&self, offset: u64) -> Option<u16> {
        Some(u16::from_le_bytes(self.get(offset, 2)?.try_into().ok()?))
    }

    fn u32_at(&self, offset: u64) -> Option<u32> {
        Some(u32::from_le_bytes(self.get(offset, 4)?.try_into().ok()?))
    }

    fn u64_at(&self, offset: u64) -> Option<u64> {
        Some(u64::from_le_bytes(self.get(offset, 8)?.try_into().ok()?))
    }
}

/// The program headers' view: where the dynamic section is, and how addresses map to offsets.
#[derive(Debug, Clone)]
pub struct Layout {
    pub e_type: u16,
    pub machine: u16,
    /// Offset and size of the dynamic section (`PT_DYNAMIC`).
    pub dynamic: Option<(u64, u64)>,
    /// `PT_INTERP`: offset and size.
    pub interp: Option<(u64, u64)>,
    /// `PT_LOAD` segments: (vaddr, offset, filesz).
    loads: Vec<(u64, u64, u64)>,
}

/// Header and program headers, from the start of the file. `None` when the file is not a
/// 64-bit little-endian ELF file (the caller then reads it whole).
pub fn layout(start: &[u8]) -> Result<Option<Layout>, ElfError> {
    if start.len() < 64 || &start[..4] != b"\x7fELF" {
        return Err(ElfError::NotElf);
    }
    if start[4] != 2 || start[5] != 1 {
        return Ok(None);
    }
    let mut pieces = Pieces::new(start.len() as u64);
    pieces.add(0, start.to_vec());
    let field = |offset| pieces.u64_at(offset).unwrap_or(0);
    let (phoff, phentsize) = (field(32), u64::from(pieces.u16_at(54).unwrap_or(0)));
    let phnum = u64::from(pieces.u16_at(56).unwrap_or(0));
    if phentsize != 56 {
        return Ok(None);
    }
    let mut layout = Layout {
        e_type: pieces.u16_at(16).unwrap_or(0),
        machine: pieces.u16_at(18).unwrap_or(0),
        dynamic: None,
        interp: None,
        loads: Vec::new(),
    };
    for i in 0..phnum {
        // Offsets saturate: past the end of every piece, a read finds nothing.
        let at = phoff.saturating_add(i.saturating_mul(phentsize));
        let (Some(kind), Some(offset), Some(vaddr), Some(filesz)) = (
            pieces.u32_at(at),
            pieces.u64_at(at.saturating_add(8)),
            pieces.u64_at(at.saturating_add(16)),
            pieces.u64_at(at.saturating_add(32)),
        ) else {
            return Ok(None);
        };
        match kind {
            PT_LOAD => layout.loads.push((vaddr, offset, filesz)),
            PT_DYNAMIC => layout.dynamic = Some((offset, filesz)),
            PT_INTERP => layout.interp = Some((offset, filesz)),
            _ => {}
        }
    }
    Ok(Some(layout))
}

impl Layout {
    /// The file offset of a virtual address, through the segment that loads it.
    pub fn offset_of(&self, vaddr: u64) -> Option<u64> {
        self.loads
            .iter()
            .find(|(start, _, size)| vaddr >= *start && vaddr - start < *size)
            .and_then(|(start, offset, _)| offset.checked_add(vaddr - start))
    }
}

/// The dynamic section's entries that matter here.
#[derive(Debug, Default, Clone)]
pub struct Dynamic {
    needed: Vec<u64>,
    soname: Option<u64>,
    rpath: Vec<u64>,
    runpath: Vec<u64>,
    flags_1: u64,
    strtab: Option<u64>,
    strsz: u64,
    verneed: Option<u64>,
    verneednum: u64,
}

impl Dynamic {
    /// Parse the section; `None` when it does not look like one (no terminator, no string
    /// table): the caller then reads the file whole rather than trust it.
    pub fn parse(bytes: &[u8]) -> Option<Dynamic> {
        let mut dynamic = Dynamic::default();
        let mut terminated = false;
        for entry in bytes.chunks_exact(16) {
            let tag = u64::from_le_bytes(entry[..8].try_into().ok()?);
            let value = u64::from_le_bytes(entry[8..].try_into().ok()?);
            match tag {
                0 => {
                    terminated = true;
                    break;
                }
                DT_NEEDED => dynamic.needed.push(value),
                DT_SONAME => dynamic.soname = Some(value),
                DT_RPATH => dynamic.rpath.push(value),
                DT_RUNPATH => dynamic.runpath.push(value),
                DT_FLAGS_1 => dynamic.flags_1 = value,
                DT_STRTAB => dynamic.strtab = Some(value),
                DT_STRSZ => dynamic.strsz = value,
                DT_VERNEED => dynamic.verneed = Some(value),
                DT_VERNEEDNUM => dynamic.verneednum = value,
                _ => {}
            }
        }
        (terminated && dynamic.strtab.is_some() && dynamic.strsz > 0).then_some(dynamic)
    }

    /// File ranges still to read: the string table and `.gnu.version_r` (at most
    /// [`VERNEED_READ`] bytes of it, clamped to the file).
    pub fn wanted(&self, layout: &Layout, size: u64) -> Option<Vec<(u64, u64)>> {
        let strtab = layout.offset_of(self.strtab?)?;
        let mut ranges = vec![(strtab, self.strsz.min(size.saturating_sub(strtab)))];
        if let Some(verneed) = self.verneed {
            let offset = layout.offset_of(verneed)?;
            ranges.push((offset, VERNEED_READ.min(size.saturating_sub(offset))));
        }
        Some(ranges)
    }
}

/// Follows the start of a file as it is inflated, and tells when it holds every piece
/// [`inspect`] reads — the header and program headers, the dynamic section, its string table,
/// `.gnu.version_r` and the interpreter's name. What comes after (code, data, symbol tables,
/// debug sections) tells nothing more, and need not be inflated: 30% of the bytes of the
/// data-science example's x86-64 glibc shared objects (kiwisolver's needs 3.5% of its file,
/// fonttools' 11%, pandas' 98%).
#[derive(Debug, Default)]
pub enum StartNeeds {
    /// Waiting for the header and program headers.
    #[default]
    Header,
    /// Waiting for the dynamic section.
    Dynamic(Layout),
    /// Waiting for the start to reach `end`, the last byte of every piece.
    Pieces {
        layout: Layout,
        dynamic: Dynamic,
        end: u64,
    },
    /// The file must be read whole: not a 64-bit little-endian ELF file, no dynamic section,
    /// or one that does not parse.
    Whole,
}

impl StartNeeds {
    /// Look at the first `start.len()` bytes of a file of `size` bytes: true once they hold every
    /// piece.
    pub fn advance(&mut self, start: &[u8], size: u64) -> bool {
        let have = start.len() as u64;
        loop {
            match self {
                StartNeeds::Header => match headers_end(start) {
                    HeadersEnd::Wait => return false,
                    HeadersEnd::At(end) if have < end => return false,
                    HeadersEnd::At(_) => *self = StartNeeds::after_headers(start, size),
                    HeadersEnd::Never => *self = StartNeeds::Whole,
                },
                StartNeeds::Dynamic(layout) => {
                    let (offset, len) = layout.dynamic.unwrap_or_default();
                    if have < offset + len {
                        return false;
                    }
                    let bytes = &start[offset as usize..(offset + len) as usize];
                    *self = match pieces_end(layout, bytes, size) {
                        Some((dynamic, end)) => StartNeeds::Pieces {
                            layout: layout.clone(),
                            dynamic,
                            end: end.max(offset + len),
                        },
                        None => StartNeeds::Whole,
                    };
                }
                StartNeeds::Pieces { .. } | StartNeeds::Whole => return self.holds(have),
            }
        }
    }

    /// With the program headers read: wait for a dynamic section that lies inside the file.
    fn after_headers(start: &[u8], size: u64) -> StartNeeds {
        match layout(start) {
            Ok(Some(layout))
                if layout
                    .dynamic
                    .and_then(|(offset, len)| offset.checked_add(len))
                    .is_some_and(|end| end <= size) =>
            {
                StartNeeds::Dynamic(layout)
            }
            _ => StartNeeds::Whole,
        }
    }

    /// Whether a start of `have` bytes holds every piece (as last [`advance`](Self::advance)d).
    pub fn holds(&self, have: u64) -> bool {
        matches!(self, StartNeeds::Pieces { end, .. } if have >= *end)
    }

    /// The answers from `start`, once [`advance`](Self::advance) said it holds every piece.
    pub fn inspect(&self, start: Vec<u8>, size: u64) -> Option<Result<ElfInfo, ElfError>> {
        let StartNeeds::Pieces {
            layout, dynamic, ..
        } = self
        else {
            return None;
        };
        if !self.holds(start.len() as u64) {
            return None;
        }
        let mut pieces = Pieces::new(size);
        pieces.add(0, start);
        Some(inspect(layout, dynamic, &pieces))
    }
}

enum HeadersEnd {
    Wait,
    At(u64),
    Never,
}

/// Where the program headers end, from the ELF header (64 bytes).
fn headers_end(start: &[u8]) -> HeadersEnd {
    if start.len() < 64 {
        return HeadersEnd::Wait;
    }
    if &start[..4] != b"\x7fELF" || start[4] != 2 || start[5] != 1 {
        return HeadersEnd::Never;
    }
    let phoff = u64::from_le_bytes(start[32..40].try_into().unwrap_or_default());
    let phentsize = u64::from(u16::from_le_bytes([start[54], start[55]]));
    let phnum = u64::from(u16::from_le_bytes([start[56], start[57]]));
    match phoff.checked_add(phentsize * phnum) {
        Some(end) => HeadersEnd::At(end.max(64)),
        None => HeadersEnd::Never,
    }
}

/// The parsed dynamic section and the end of the last piece it points to.
fn pieces_end(layout: &Layout, bytes: &[u8], size: u64) -> Option<(Dynamic, u64)> {
    let dynamic = Dynamic::parse(bytes)?;
    let wanted = dynamic.wanted(layout, size)?;
    let interp = layout.interp.into_iter();
    let end = wanted
        .into_iter()
        .chain(interp)
        .map(|(offset, len)| offset.checked_add(len))
        .try_fold(0u64, |end, piece| piece.map(|p| end.max(p)))?;
    (end <= size).then_some((dynamic, end))
}

/// The answers, from the pieces read.
pub fn inspect(layout: &Layout, dynamic: &Dynamic, pieces: &Pieces) -> Result<ElfInfo, ElfError> {
    let malformed = |what: &str| ElfError::Malformed(what.to_string());
    let strtab = layout
        .offset_of(dynamic.strtab.ok_or_else(|| malformed("no DT_STRTAB"))?)
        .ok_or_else(|| malformed("DT_STRTAB outside every segment"))?;
    let strings = pieces
        .get(
            strtab,
            dynamic.strsz.min(pieces.size.saturating_sub(strtab)),
        )
        .ok_or_else(|| malformed("string table not read"))?;
    let string = |offset: u64| -> Result<&str, ElfError> {
        let tail = strings
            .get(offset as usize..)
            .ok_or_else(|| malformed("string offset past the string table"))?;
        let end = tail
            .iter()
            .position(|&b| b == 0)
            .ok_or_else(|| malformed("unterminated string"))?;
        std::str::from_utf8(&tail[..end]).map_err(|_| malformed("string is not UTF-8"))
    };
    let mut budget = Budget(TEXT_BUDGET);
    let paths = |offsets: &[u64], budget: &mut Budget| -> Result<Vec<String>, ElfError> {
        let mut out = Vec::new();
        for &offset in offsets {
            for entry in string(offset)?.split(':').filter(|e| !e.is_empty()) {
                out.push(budget.copy(entry)?);
            }
        }
        Ok(out)
    };
    let rpath = paths(&dynamic.rpath, &mut budget)?;
    let runpath = paths(&dynamic.runpath, &mut budget)?;
    let soname = dynamic
        .soname
        .map(|offset| budget.copy(string(offset)?))
        .transpose()?;
    let needed = dynamic
        .needed
        .iter()
        .map(|&offset| budget.copy(string(offset)?))
        .collect::<Result<Vec<_>, _>>()?;
    let interpreter = interpreter(layout, pieces, &mut budget)?;
    let kind = kind_of(layout, dynamic, soname.is_some());
    Ok(ElfInfo {
        machine: Machine::from(layout.machine),
        class: Class::Elf64,
        kind,
        soname,
        needed,
        rpath,
        runpath,
        version_needs: version_needs(layout, dynamic, pieces, &string, &mut budget)?,
        interpreter,
    })
}

fn interpreter(
    layout: &Layout,
    pieces: &Pieces,
    budget: &mut Budget,
) -> Result<Option<String>, ElfError> {
    let Some((offset, size)) = layout.interp else {
        return Ok(None);
    };
    let bytes = pieces
        .get(offset, size)
        .ok_or_else(|| ElfError::Malformed("PT_INTERP not read".into()))?;
    let text = bytes.split(|&b| b == 0).next().unwrap_or_default();
    Ok(Some(budget.copy(&String::from_utf8_lossy(text))?))
}

/// As [`super::elf`] decides it: `DF_1_PIE`, or an interpreter without a soname, is a program.
fn kind_of(layout: &Layout, dynamic: &Dynamic, has_soname: bool) -> ElfKind {
    match layout.e_type {
        ET_EXEC => ElfKind::Executable,
        ET_DYN => {
            let pie = dynamic.flags_1 & DF_1_PIE != 0;
            if pie || (layout.interp.is_some() && !has_soname) {
                ElfKind::Executable
            } else {
                ElfKind::SharedObject
            }
        }
        _ => ElfKind::Other,
    }
}

type Needs = BTreeMap<String, BTreeMap<String, String>>;

fn version_needs<'s>(
    layout: &Layout,
    dynamic: &Dynamic,
    pieces: &Pieces,
    string: &dyn Fn(u64) -> Result<&'s str, ElfError>,
    budget: &mut Budget,
) -> Result<Needs, ElfError> {
    let mut needs = Needs::new();
    let Some(vaddr) = dynamic.verneed else {
        return Ok(needs);
    };
    let malformed = || ElfError::Malformed(".gnu.version_r not read".into());
    let mut at = layout.offset_of(vaddr).ok_or_else(malformed)?;
    for _ in 0..dynamic.verneednum {
        budget.charge(0)?;
        let field = |delta: u64| at.saturating_add(delta);
        let count = pieces.u16_at(field(2)).ok_or_else(malformed)?;
        let file = string(u64::from(pieces.u32_at(field(4)).ok_or_else(malformed)?))?;
        let mut aux = field(u64::from(pieces.u32_at(field(8)).ok_or_else(malformed)?));
        for _ in 0..count {
            budget.charge(0)?;
            let name = string(u64::from(
                pieces.u32_at(aux.saturating_add(8)).ok_or_else(malformed)?,
            ))?;
            if let Some((namespace, version)) = split_version(name) {
                raise(&mut needs, file, namespace, version, budget)?;
            }
            let next_aux = pieces
                .u32_at(aux.saturating_add(12))
                .ok_or_else(malformed)?;
            aux = aux.saturating_add(u64::from(next_aux));
        }
        let next = pieces.u32_at(field(12)).ok_or_else(malformed)?;
        if next == 0 {
            break;
        }
        at = at.saturating_add(u64::from(next));
    }
    Ok(needs)
}

fn raise(
    needs: &mut Needs,
    file: &str,
    namespace: &str,
    version: String,
    budget: &mut Budget,
) -> Result<(), ElfError> {
    let by_namespace = match needs.get_mut(file) {
        Some(existing) => existing,
        None => needs.entry(budget.copy(file)?).or_default(),
    };
    match by_namespace.get_mut(namespace) {
        Some(current) if super::elf::version_cmp(current, &version).is_ge() => {}
        Some(current) => {
            budget.charge(version.len())?;
            *current = version;
        }
        None => {
            budget.charge(version.len())?;
            by_namespace.insert(budget.copy(namespace)?, version);
        }
    }
    Ok(())
}

/// Every parser here, the mid-stream inflater and the sdist tail reader, on one buffer taken as the whole file: what
/// the `sparse` fuzz target runs, and its regression inputs replay. Never panics.
#[doc(hidden)]
pub fn parse_all(data: &[u8]) {
    let _ = super::inflate::decode_from(data, 0, &mut |_| {});
    let _ = super::inflate::find_block(data, 0, 4096);
    let _ = super::sdist_tail::read(data, "x-1.0");
    let mut needs = StartNeeds::default();
    for have in [data.len() / 2, data.len()] {
        if needs.advance(&data[..have], data.len() as u64) {
            let _ = needs.inspect(data[..have].to_vec(), data.len() as u64);
        }
    }
    let Ok(Some(layout)) = layout(data) else {
        return;
    };
    let Some((offset, size)) = layout.dynamic else {
        return;
    };
    let Some(rest) = data.get(offset.min(usize::MAX as u64) as usize..) else {
        return;
    };
    let Some(dynamic) = Dynamic::parse(&rest[..rest.len().min(size as usize)]) else {
        return;
    };
    let _ = dynamic.wanted(&layout, data.len() as u64);
    let mut pieces = Pieces::new(data.len() as u64);
    pieces.add(0, data.to_vec());
    let _ = inspect(&layout, &dynamic, &pieces);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This test program: a 64-bit little-endian ELF file with a dynamic section, its debug
    /// sections after it.
    fn program() -> Vec<u8> {
        std::fs::read(std::env::current_exe().unwrap()).unwrap()
    }

    /// Feeds `file`'s start `step` bytes at a time; the length at which it held the answers.
    fn first_holding(needs: &mut StartNeeds, file: &[u8], step: usize) -> Option<usize> {
        (0..=file.len())
            .step_by(step)
            .find(|&have| needs.advance(&file[..have], file.len() as u64))
    }

    #[test]
    fn the_start_holds_the_same_answers_as_the_whole_file() {
        let file = program();
        if file[4..6] != [2, 1] {
            return; // not a 64-bit little-endian machine
        }
        let whole = super::super::elf::inspect(&file).unwrap();
        for step in [1, 1000, 65536] {
            let mut needs = StartNeeds::default();
            let have = first_holding(&mut needs, &file, step).expect("the start holds them");
            assert!(have < file.len(), "stops before the end (step {step})");
            assert!(!needs.holds(have as u64 - 1) || step > 1);
            let start = file[..have].to_vec();
            assert_eq!(
                needs.inspect(start, file.len() as u64).unwrap().unwrap(),
                whole
            );
        }
    }

    #[test]
    fn a_start_that_cannot_tell_asks_for_the_whole_file() {
        let file = program();
        let whole = |bytes: &[u8], size: u64| {
            let mut needs = StartNeeds::default();
            needs.advance(bytes, size);
            matches!(needs, StartNeeds::Whole)
        };
        let mut thirty_two_bit = file.clone();
        thirty_two_bit[4] = 1;
        assert!(whole(&thirty_two_bit, file.len() as u64));
        assert!(whole(
            b"#!/bin/sh\necho not an ELF file, but long enough to tell: 64 bytes",
            70
        ));
        // The dynamic section would end past the file's declared size.
        assert!(whole(&file, 4096));
        // Waiting, not giving up, while the header is incomplete.
        let mut needs = StartNeeds::default();
        assert!(!needs.advance(&file[..40], file.len() as u64));
        assert!(matches!(needs, StartNeeds::Header));
        assert!(
            needs
                .inspect(file[..40].to_vec(), file.len() as u64)
                .is_none()
        );
    }

    /// Inputs the fuzzer found crashing these parsers (fuzz/regressions/sparse/).
    #[test]
    fn fuzzer_crash_inputs_do_not_panic() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/sparse");
        let mut replayed = 0;
        for entry in std::fs::read_dir(dir).expect("regression inputs") {
            super::parse_all(&std::fs::read(entry.unwrap().path()).unwrap());
            replayed += 1;
        }
        assert!(replayed > 0);
    }
}
