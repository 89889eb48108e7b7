//! Parsing a large requirements file with `wheelcheck::requirements::parse_file`.
//!
//! The file is generated (deterministically) into a temporary directory: 500 physical lines
//! mixing every form pip files use in practice — pins, ranges, extras, environment markers,
//! comments (whole-line and trailing), `\` continuations, `--hash` options, `${VAR}` expansion,
//! `name @ URL`, option lines, and a `-r` include and a `-c` constraints file next to it.
//!
//! Run: `cargo bench --bench requirements`

use std::fmt::Write as _;
use std::hint::black_box;
use std::path::Path;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};

/// Physical lines of the main file.
const LINES: usize = 500;

/// A fake but well-formed sha256 digest, different for each `seed`.
fn digest(seed: usize) -> String {
    let mut out = String::with_capacity(64);
    let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    while out.len() < 64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        write!(out, "{:016x}", x).unwrap();
    }
    out.truncate(64);
    out
}

/// The main file's text: exactly [`LINES`] physical lines.
fn main_file() -> String {
    let mut lines: Vec<String> = vec![
        "# Generated for the requirements-parsing benchmark.".into(),
        "--prefer-binary".into(),
        "--only-binary pkg-binary-only".into(),
        "-r common.txt".into(),
        "-c constraints.txt".into(),
        String::new(),
    ];
    let mut i = 0;
    while lines.len() < LINES {
        let name = format!("pkg{i}");
        match i % 12 {
            0 => lines.push(format!("{name}==1.{}.{}", i % 7, i)),
            1 => lines.push(format!("{name}>=1.0,<2.0")),
            2 => lines.push(format!("{name}[extra-one,extra_two]~=2.{}", i % 10)),
            3 => lines.push(format!(
                "{name}>=0.{i} ; python_version >= \"3.8\" and sys_platform == \"linux\""
            )),
            4 => lines.push(format!("# {name} is pinned below for a reason ({i})")),
            5 => {
                // A hashed pin over three physical lines.
                lines.push(format!("{name}==3.0.{i} \\"));
                lines.push(format!("    --hash=sha256:{} \\", digest(i)));
                lines.push(format!("    --hash=sha256:{}", digest(i + 100_000)));
            }
            6 => lines.push(format!(
                "{name}==1.0.{i} --hash=sha256:{} --hash=sha256:{}",
                digest(i),
                digest(i + 200_000)
            )),
            7 => lines.push(format!(
                "{name} @ https://files.example.invalid/packages/{name}-1.0-py3-none-any.whl ; platform_machine == \"x86_64\""
            )),
            8 => lines.push(format!(
                "{name}!=1.5.*,>=1.0 ; implementation_name == \"cpython\"  # trailing comment"
            )),
            9 => lines.push(format!("{name}==${{BENCH_VERSION}}")),
            10 => {
                // A requirement split by a continuation inside its marker.
                lines.push(format!("{name}[socks]>=2.{} ; \\", i % 30));
                lines.push("    python_version < \"3.14\" and platform_system != \"Windows\"".into());
            }
            _ => lines.push(String::new()),
        }
        i += 1;
    }
    lines.truncate(LINES);
    // A continuation must not be cut in half by the truncation.
    while lines.last().is_some_and(|l| l.ends_with('\\')) {
        lines.pop();
        lines.push("# (end)".into());
    }
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

fn write_fixture(dir: &Path) -> std::path::PathBuf {
    let main = dir.join("requirements.txt");
    std::fs::write(&main, main_file()).unwrap();
    let mut common = String::from("# included with -r\n");
    for i in 0..20 {
        writeln!(common, "common{i}>=1.{i}").unwrap();
    }
    std::fs::write(dir.join("common.txt"), common).unwrap();
    let mut constraints = String::new();
    for i in 0..20 {
        writeln!(constraints, "pkg{i}<10").unwrap();
    }
    std::fs::write(dir.join("constraints.txt"), constraints).unwrap();
    main
}

fn env(name: &str) -> Option<String> {
    (name == "BENCH_VERSION").then(|| "4.5.6".to_string())
}

fn bench_parse(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let path = write_fixture(dir.path());
    let bytes = std::fs::metadata(&path).unwrap().len();

    // Sanity: the generated file parses the way it is meant to (no errors, the include read).
    let parsed = wheelcheck::requirements::parse_file(&path, &env).unwrap();
    assert!(
        parsed.errors.is_empty(),
        "generated file has errors: {:?}",
        parsed.errors
    );
    eprintln!(
        "requirements fixture: {LINES} lines, {bytes} bytes -> {} requirements, {} constraints, {} warnings",
        parsed.requirements.len(),
        parsed.constraints.len(),
        parsed.warnings.len()
    );

    let mut group = c.benchmark_group("requirements");
    group.throughput(Throughput::Elements(LINES as u64));
    group.bench_function("parse_file_500_lines", |b| {
        b.iter(|| wheelcheck::requirements::parse_file(black_box(&path), &env).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
