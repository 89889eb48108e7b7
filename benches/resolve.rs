//! Resolution of the seed FastAPI example against a recorded index, without the network.
//!
//! Fixture: `benches/fixtures/fastapi-cache.tar.gz`, a wheelcheck cache directory filled by one
//! real run (see the README's `## Speed` section):
//!
//! ```sh
//! WHEELCHECK_CACHE_DIR=/tmp/rec/cache wheelcheck examples/fastapi-requirements.txt \
//!     --python 3.12 --arch amd64 --arch arm64
//! tar -C /tmp/rec -czf benches/fixtures/fastapi-cache.tar.gz cache
//! ```
//!
//! It is unpacked into a temporary directory once; every run below is `--offline` on it, so only
//! the cache is read (index pages, metadata, central directories, ELF analyses).
//!
//! - `fastapi_offline/process`: the release binary (`CARGO_BIN_EXE_wheelcheck`) run as a user
//!   runs it, `--offline -q`, report to /dev/null: process start, loading the embedded data,
//!   reading the cache, resolving and judging six targets (default images x amd64, arm64).
//! - `fastapi_offline/app_run`: the same run in-process (`wheelcheck::app::run`), without the
//!   process start.
//! - `fastapi_resolve/fresh_index`: `resolve::resolve_target` for the six targets with a new
//!   `Index` each iteration (cache read from disk, pages parsed again), no ELF or report work.
//! - `fastapi_resolve/memoized_index`: the same on one `Index` kept across iterations, so pages
//!   and metadata are already in memory: the resolver's own CPU time (pubgrub, candidate
//!   ordering, metadata parsing, markers).
//!
//! If the offline run does not succeed on the fixture (e.g. the cache format changed), the bench
//! says so and measures nothing: record the fixture again.
//!
//! Run: `cargo bench --bench resolve`

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use clap::Parser;
use criterion::{Criterion, criterion_group, criterion_main};
use url::Url;

use wheelcheck::app::Request;
use wheelcheck::index::cache::Cache;
use wheelcheck::index::http::{Credentials, HttpClient, Limits};
use wheelcheck::index::{Index, Sources};
use wheelcheck::knowledge::catalog::Catalog;
use wheelcheck::resolve::{ResolveOptions, TargetEnv, resolve_target};
use wheelcheck::tags::{Arch, TagPriority};
use wheelcheck::target::Target;

const PYTHON: (u32, u32) = (3, 12);

fn requirements_file() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/fastapi-requirements.txt")
}

/// Unpacks the recorded cache; the returned directory holds `cache/`.
fn unpack_fixture() -> tempfile::TempDir {
    let archive =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/fixtures/fastapi-cache.tar.gz");
    let file =
        std::fs::File::open(&archive).unwrap_or_else(|e| panic!("{}: {e}", archive.display()));
    let dir = tempfile::tempdir().unwrap();
    tar::Archive::new(flate2::read::GzDecoder::new(file))
        .unpack(dir.path())
        .unwrap();
    dir
}

/// The command-line arguments of the offline run, after the program name.
fn offline_args(cache: &Path) -> Vec<String> {
    let mut args: Vec<String> = vec![
        requirements_file().display().to_string(),
        "--python".into(),
        "3.12".into(),
        "--arch".into(),
        "amd64".into(),
        "--arch".into(),
        "arm64".into(),
        "--offline".into(),
        "--cache-dir".into(),
        cache.display().to_string(),
    ];
    args.extend(["-q", "-o", "/dev/null"].map(String::from));
    args
}

fn run_process(cache: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_wheelcheck"))
        .args(offline_args(cache))
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("WHEELCHECK_CACHE_DIR")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output()
        .expect("run wheelcheck")
}

/// Exit codes 0 and 1 are answers; 2 and 3 mean the fixture (or the run) is broken.
fn answered(code: i32) -> bool {
    code == 0 || code == 1
}

fn bench_app(c: &mut Criterion) {
    let fixture = unpack_fixture();
    let cache = fixture.path().join("cache");

    let first = run_process(&cache);
    let code = first.status.code().unwrap_or(-1);
    if !answered(code) {
        eprintln!(
            "note: skipping fastapi_offline: the offline run on the recorded cache exited {code}; \
             record benches/fixtures/fastapi-cache.tar.gz again (see the README). stderr:\n{}",
            String::from_utf8_lossy(&first.stderr)
        );
        return;
    }

    let mut group = c.benchmark_group("fastapi_offline");
    group.sample_size(20);
    group.bench_function("process", |b| {
        b.iter(|| {
            let out = run_process(&cache);
            assert!(answered(out.status.code().unwrap_or(-1)));
        })
    });
    // `app::run` sets its only process-global state (the diagnostic level) at each call, so it
    // can run repeatedly in one process.
    let args: Vec<String> = std::iter::once("wheelcheck".to_string())
        .chain(offline_args(&cache))
        .collect();
    group.bench_function("app_run", |b| {
        b.iter(|| {
            let parsed = wheelcheck::cli::Args::try_parse_from(&args).unwrap();
            let code = wheelcheck::app::run(parsed).expect("offline run");
            assert!(answered(code));
        })
    });
    group.finish();
}

/// The six targets of the offline run: default images for Python 3.12 on amd64 and arm64.
fn targets() -> Vec<Target> {
    let catalog = Catalog::load().expect("embedded image catalog");
    let mut targets = Vec::new();
    for spec in ["alpine", "slim", "full"] {
        let image = catalog.resolve(spec, Some(PYTHON)).expect("image");
        for arch in [Arch::X86_64, Arch::Aarch64] {
            targets.push(Target::new(image.clone(), arch));
        }
    }
    targets
}

fn offline_index(cache: &Path) -> Arc<Index> {
    let url = Url::parse(wheelcheck::app::DEFAULT_INDEX).unwrap();
    let http = HttpClient::new(
        true,
        Limits::default(),
        Credentials::new(std::slice::from_ref(&url)),
    );
    let cache = Cache::new(cache.to_path_buf(), Duration::from_secs(600), false);
    Arc::new(Index::new(
        http,
        cache,
        Sources {
            indexes: vec![url],
            find_links: Vec::new(),
        },
    ))
}

/// Resolves every target; returns how many packages were chosen in all.
fn resolve_all(
    request: &Request,
    index: &Arc<Index>,
    runtime: &tokio::runtime::Runtime,
    envs: &[TargetEnv],
) -> usize {
    // Resolution only: no ELF file is read, as before the resolver could start that.
    let no_elf = ResolveOptions::default();
    envs.iter()
        .map(|env| {
            let outcome =
                resolve_target(&request.input, index, runtime.handle().clone(), env, no_elf);
            assert!(outcome.ok, "resolution failed: {:?}", outcome.error);
            outcome.packages.len()
        })
        .sum()
}

fn bench_resolver(c: &mut Criterion) {
    let fixture = unpack_fixture();
    let cache = fixture.path().join("cache");
    let parsed = wheelcheck::requirements::parse_file(&requirements_file(), &|name| {
        std::env::var(name).ok()
    })
    .unwrap();
    let request = Request::from_parsed(&parsed);
    let envs: Vec<TargetEnv> = targets()
        .iter()
        .map(|target| TargetEnv {
            tags: TagPriority::new(&target.tags()),
            markers: target.marker_env(),
            python_full: target.python_full_version(),
        })
        .collect();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();

    // Sanity (and skip when the fixture no longer matches the code).
    let index = offline_index(&cache);
    let check = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        resolve_all(&request, &index, &runtime, &envs)
    }));
    match check {
        Ok(packages) => eprintln!(
            "fastapi_resolve: {} targets, {packages} packages chosen in all",
            envs.len()
        ),
        Err(_) => {
            eprintln!(
                "note: skipping fastapi_resolve: the recorded cache does not resolve offline; \
                 record benches/fixtures/fastapi-cache.tar.gz again (see the README)"
            );
            return;
        }
    }

    let mut group = c.benchmark_group("fastapi_resolve");
    group.sample_size(20);
    group.bench_function("fresh_index", |b| {
        b.iter(|| resolve_all(&request, &offline_index(&cache), &runtime, &envs))
    });
    group.bench_function("memoized_index", |b| {
        b.iter(|| resolve_all(&request, &index, &runtime, &envs))
    });
    group.finish();
}

criterion_group!(benches, bench_app, bench_resolver);
criterion_main!(benches);
