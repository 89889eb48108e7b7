//! `wheelcheck::inspect::elf::inspect` on real multi-megabyte shared objects of the machine.
//!
//! - `elf_inspect/libstdc++.so.6`: Debian's `/usr/lib/x86_64-linux-gnu/libstdc++.so.6` (about
//!   2 MB), a typical C++ dependency.
//! - `elf_inspect/largest/<name>`: the largest ELF shared object in that directory (on the build
//!   machine `libLLVM-15.so`, 117 MB), found when the bench starts.
//! - `WHEELCHECK_BENCH_ELF=/path/to/file.so` adds `elf_inspect/custom/<name>`.
//!
//! Each file is read into memory once; only the parse is measured. A file that is missing (not
//! Debian, not x86_64) is skipped with a note on stderr.
//!
//! Run: `cargo bench --bench elf`

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

const LIBDIR: &str = "/usr/lib/x86_64-linux-gnu";

/// The largest regular ELF file named `*.so` or `*.so.*` in `dir` (symlinks resolved, each file
/// counted once).
fn largest_shared_object(dir: &Path) -> Option<(PathBuf, u64)> {
    let mut best: Option<(PathBuf, u64)> = None;
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.ends_with(".so") || name.contains(".so.")) {
            continue;
        }
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if !meta.is_file() || best.as_ref().is_some_and(|(_, size)| *size >= meta.len()) {
            continue;
        }
        let mut magic = [0u8; 4];
        let is_elf = std::fs::File::open(&path)
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut magic))
            .is_ok()
            && wheelcheck::inspect::elf::is_elf(&magic);
        if is_elf {
            best = Some((path, meta.len()));
        }
    }
    best
}

fn bench_one(c: &mut Criterion, label: &str, path: &Path) {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(err) => {
            eprintln!(
                "note: skipping elf_inspect/{label}: {}: {err}",
                path.display()
            );
            return;
        }
    };
    match wheelcheck::inspect::elf::inspect(&bytes) {
        Ok(info) => eprintln!(
            "elf_inspect/{label}: {} ({} bytes): {} DT_NEEDED, soname {:?}, {} version needs",
            path.display(),
            bytes.len(),
            info.needed.len(),
            info.soname,
            info.version_needs.values().map(|m| m.len()).sum::<usize>()
        ),
        Err(err) => {
            eprintln!(
                "note: skipping elf_inspect/{label}: {} does not parse: {err}",
                path.display()
            );
            return;
        }
    }
    let mut group = c.benchmark_group("elf_inspect");
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    if bytes.len() > 32 << 20 {
        // A parse of a 100 MB file takes long enough that criterion's default 100 samples
        // would not fit in a short measurement time.
        group.sample_size(10);
    }
    group.bench_function(label, |b| {
        b.iter(|| wheelcheck::inspect::elf::inspect(black_box(&bytes)).unwrap())
    });
    group.finish();
}

fn bench_elf(c: &mut Criterion) {
    let libdir = Path::new(LIBDIR);
    bench_one(c, "libstdc++.so.6", &libdir.join("libstdc++.so.6"));
    match largest_shared_object(libdir) {
        Some((path, _)) => {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            bench_one(c, &format!("largest/{name}"), &path);
        }
        None => eprintln!("note: skipping elf_inspect/largest: no shared object in {LIBDIR}"),
    }
    if let Some(custom) = std::env::var_os("WHEELCHECK_BENCH_ELF") {
        let path = PathBuf::from(custom);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        bench_one(c, &format!("custom/{name}"), &path);
    }
}

/// `inspect::inflate::find_block` in libstdc++.so.6 deflated at zlib's default level (as wheels
/// are), searching from the middle of the compressed bytes, as a sparse read of a member's tail
/// does: every bit position until the first block is tried.
fn bench_find_block(c: &mut Criterion) {
    let path = Path::new(LIBDIR).join("libstdc++.so.6");
    let Ok(bytes) = std::fs::read(&path) else {
        eprintln!("note: skipping find_block: cannot read {}", path.display());
        return;
    };
    let mut encoder =
        flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut encoder, &bytes).unwrap();
    let compressed = encoder.finish().unwrap();
    let middle = &compressed[compressed.len() / 2..];
    let found = wheelcheck::inspect::inflate::find_block(middle, 0, middle.len() * 8);
    eprintln!(
        "find_block: {} compressed bytes from the middle, first block at bit {found:?}",
        middle.len()
    );
    c.bench_function("find_block/libstdc++.so.6", |b| {
        b.iter(|| wheelcheck::inspect::inflate::find_block(black_box(middle), 0, middle.len() * 8))
    });
}

criterion_group!(benches, bench_elf, bench_find_block);
criterion_main!(benches);
