//! Reading a large project page and ranking its files for a target.
//!
//! Fixture: `benches/fixtures/numpy.json.gz`, numpy's JSON simple-API page (PEP 691) as the
//! default index served it (see the README's `## Speed` section for the date), gzipped; it is
//! decompressed once before measuring.
//!
//! - `numpy_page/parse_page`: `index::simple::parse_page` on the whole JSON body.
//! - `numpy_page/parse_names`: `index::ProjectFile::parse_all`, parsing every file name of the
//!   page (once per run; every target shares the result).
//! - `numpy_page/evaluate/{glibc,musl}`: `resolve::candidates::Candidates::evaluate` over every
//!   file of the page for CPython 3.12 on x86_64 with glibc 2.41 (python:3.12-slim-trixie) and
//!   musl 1.2 (python:3.12-alpine): tag ranking, Requires-Python, sort.
//! - `tags/supported_tags+priority/{glibc,musl}`: building a target's tag list and its
//!   `TagPriority` lookup table (once per target per run).
//!
//! Run: `cargo bench --bench candidates`

use std::hint::black_box;
use std::io::Read;
use std::str::FromStr;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use pep440_rs::Version;
use pep508_rs::PackageName;
use url::Url;

use wheelcheck::index::ProjectFile;
use wheelcheck::index::simple::{JSON_MEDIA_TYPE, parse_page};
use wheelcheck::requirements::FormatControl;
use wheelcheck::resolve::candidates::{Candidates, FilePolicy};
use wheelcheck::tags::{Arch, Libc, TagPriority, supported_tags};

const PYTHON: (u32, u32) = (3, 12);
const PYTHON_FULL: &str = "3.12.14";

fn numpy_page() -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/benches/fixtures/numpy.json.gz"
    );
    let gz = std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut body = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut body)
        .unwrap();
    body
}

/// The page's own URL, under wheelcheck's default index.
fn page_url() -> Url {
    Url::parse(wheelcheck::app::DEFAULT_INDEX)
        .unwrap()
        .join("numpy/")
        .unwrap()
}

fn targets() -> [(&'static str, Libc); 2] {
    [
        (
            "glibc",
            Libc::Glibc {
                major: 2,
                minor: 41,
            },
        ),
        ("musl", Libc::Musl { major: 1, minor: 2 }),
    ]
}

fn policy() -> FilePolicy {
    FilePolicy {
        python_full: Version::from_str(PYTHON_FULL).unwrap(),
        format_control: FormatControl::default(),
        binary_only: false,
        prefer_binary: false,
        allowed_hashes: None,
    }
}

fn bench_page(c: &mut Criterion) {
    let body = numpy_page();
    let base = page_url();
    let name = PackageName::from_str("numpy").unwrap();
    let listed = parse_page(&body, JSON_MEDIA_TYPE, &base).unwrap();
    let files = ProjectFile::parse_all(&name, listed.clone());
    let policy = policy();
    eprintln!(
        "numpy page: {} bytes of JSON, {} files",
        body.len(),
        files.len()
    );

    let mut group = c.benchmark_group("numpy_page");
    group.throughput(Throughput::Bytes(body.len() as u64));
    group.bench_function("parse_page", |b| {
        b.iter(|| parse_page(black_box(&body), JSON_MEDIA_TYPE, &base).unwrap())
    });
    group.throughput(Throughput::Elements(files.len() as u64));
    // Once per run, shared by every target.
    group.bench_function("parse_names", |b| {
        b.iter(|| ProjectFile::parse_all(&name, black_box(listed.clone())))
    });
    for (label, libc) in targets() {
        let priority = TagPriority::new(&supported_tags(PYTHON, libc, Arch::X86_64));
        // Sanity: the best file is a cp312 wheel for this libc.
        let candidates = Candidates::evaluate(&name, &files, &priority, &policy);
        let best = &candidates
            .ordered
            .first()
            .expect("a usable numpy file")
            .file;
        eprintln!(
            "  {label}: {} usable, {} rejected, best {}",
            candidates.ordered.len(),
            candidates.rejected.len(),
            best.filename
        );
        group.bench_function(format!("evaluate/{label}"), |b| {
            b.iter(|| Candidates::evaluate(&name, black_box(&files), &priority, &policy))
        });
    }
    group.finish();
}

fn bench_tags(c: &mut Criterion) {
    let mut group = c.benchmark_group("tags");
    for (label, libc) in targets() {
        group.bench_function(format!("supported_tags+priority/{label}"), |b| {
            b.iter(|| TagPriority::new(&supported_tags(PYTHON, black_box(libc), Arch::X86_64)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_page, bench_tags);
criterion_main!(benches);
