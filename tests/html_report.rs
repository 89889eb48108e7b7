//! `--format html`, end to end: wheelcheck writes the page against the fixture index, headless
//! Chromium opens it, and the tests read what it renders and look at a screenshot.

mod support;

use std::path::PathBuf;

use support::browser::{self, HEIGHT, Page, WIDTH};
use support::elf::*;
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";
const FULL: &str = "python:3.12-trixie";
const ALPINE: &str = "python:3.12-alpine3.24";
const WHEEL: &str = "psycopg2-2.9.9-cp312-cp312-manylinux_2_17_x86_64.whl";
const APT_LINE: &str = "RUN apt-get update && apt-get install -y --no-install-recommends \
                        libgomp1 && rm -rf /var/lib/apt/lists/*";

/// psycopg2 with a glibc wheel needing libgomp and an sdist, and a pure-Python package: slim
/// works once libgomp1 is added, the full image works as is, Alpine builds psycopg2.
fn world() -> World {
    let so = build_shared_object(&SharedObject {
        source: "int entry(void) { return 0; }".into(),
        soname: None,
        links: Vec::new(),
        rpath: None,
        old_rpath: false,
        needed_libs: vec![(
            "libgomp.so.1".to_string(),
            "int stub(void) { return 1; }".to_string(),
        )],
    });
    let meta = Meta::new("psycopg2", "2.9.9").metadata_version("2.2");
    let wheel_file = wheel(
        &meta,
        "cp312-cp312-manylinux_2_17_x86_64",
        &[("psycopg2/_psycopg.so", so.as_slice())],
    );
    World::new(vec![
        (
            "psycopg2",
            vec![
                IndexFile::from(wheel_file),
                IndexFile::from(sdist_tar_gz(&meta, &[])),
            ],
        ),
        (
            "tinyfmt",
            vec![IndexFile::from(wheel(
                &Meta::new("tinyfmt", "0.3"),
                "py3-none-any",
                &[("tinyfmt/__init__.py", b"".as_slice())],
            ))],
        ),
    ])
}

/// The report written with `--format html -o report.html`, and the exit code.
fn html_report(world: &World) -> (PathBuf, i32) {
    let path = world.dir.path().join("report.html");
    let run = world.run(
        "psycopg2==2.9.9\ntinyfmt\n",
        &[
            "--format",
            "html",
            "-o",
            path.to_str().unwrap(),
            "--image",
            SLIM,
            "--image",
            FULL,
            "--image",
            ALPINE,
        ],
    );
    assert!(
        run.stdout.is_empty(),
        "the report goes to the file: {}",
        run.stdout
    );
    assert!(path.exists(), "no report written: {}", run.stderr);
    (path, run.code)
}

#[test]
fn chromium_renders_the_answer_first_then_verdicts_packages_and_dockerfile() {
    let world = world();
    let (path, code) = html_report(&world);
    assert_eq!(code, 1, "an image that needs packages is a finding");
    let page = Page::open(&path);
    let text = page.rendered_text();

    // The answer, before anything else.
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(
        lines[..2],
        [
            "wheelcheck · Python 3.12 · 3 images and architectures checked",
            "Use python:3.12-slim-trixie",
        ],
        "{text}"
    );
    assert!(
        lines[2].starts_with("works-with-packages about ") && lines[2].ends_with(" MB"),
        "{text}"
    );
    assert!(text.contains(APT_LINE), "{text}");
    let viewport = page.eval("[innerWidth, innerHeight]");
    let (width, height) = (viewport[0].as_u64().unwrap(), viewport[1].as_u64().unwrap());
    let fold = page.eval(
        "Math.max(document.querySelector('header h1').getBoundingClientRect().bottom, \
                  document.querySelector('header pre').getBoundingClientRect().bottom)",
    );
    assert!(
        fold.as_f64().unwrap() < height as f64,
        "the image and the line to add are below the first screenful ({height} px): {fold}"
    );

    // One verdict row per image, as rendered (cells are tab-separated in innerText).
    let rows: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("python:3.12-") && l.contains('\t'))
        .collect();
    let verdict_of = |image: &str| {
        rows.iter()
            .find(|r| r.starts_with(&format!("{image}\t")))
            .unwrap_or_else(|| panic!("no row for {image} in {rows:#?}"))
            .split('\t')
            .nth(3)
            .unwrap()
            .to_string()
    };
    assert_eq!(verdict_of(SLIM), "works-with-packages");
    assert_eq!(verdict_of(FULL), "works");
    assert_eq!(verdict_of(ALPINE), "needs-build");

    // Packages: the chosen files as text, the sdist, what is missing and what provides it.
    assert!(text.contains(WHEEL), "{text}");
    assert!(text.contains("tinyfmt-0.3-py3-none-any.whl"), "{text}");
    assert!(
        text.contains("sdist, built from source: psycopg2-2.9.9.tar.gz"),
        "{text}"
    );
    assert!(text.contains("libgomp.so.1 (missing)"), "{text}");

    // The chart's bars, one per image, the recommended one marked.
    assert_eq!(
        page.eval("document.querySelectorAll('svg rect.bar').length"),
        3
    );
    let marked = page.eval(
        "[...document.querySelectorAll('svg g.recommended text.value')].map(t => t.textContent)",
    );
    let marked = marked.as_array().unwrap();
    assert_eq!(marked.len(), 1, "{marked:?}");
    let label = marked[0].as_str().unwrap();
    assert!(
        label.ends_with(" MB · works-with-packages ★ recommended"),
        "{label}"
    );

    // The Dockerfile, as --dockerfile-out writes it.
    let dockerfile = world.dir.path().join("Dockerfile");
    world.run(
        "psycopg2==2.9.9\ntinyfmt\n",
        &[
            "--image",
            SLIM,
            "--image",
            FULL,
            "--image",
            ALPINE,
            "--dockerfile-out",
            dockerfile.to_str().unwrap(),
        ],
    );
    let written = std::fs::read_to_string(&dockerfile).unwrap();
    let shown = page.eval("document.querySelector('#dockerfile pre').innerText");
    assert_eq!(shown.as_str().unwrap().trim_end(), written.trim_end());

    // Nothing was fetched to draw it.
    assert_eq!(
        page.eval("performance.getEntriesByType('resource').length"),
        0
    );

    let png = page.screenshot();
    assert_eq!(
        browser::png_size(&png),
        (width as u32, height as u32),
        "the screenshot is the viewport"
    );
    assert!(width == u64::from(WIDTH) && height > u64::from(HEIGHT) / 2);
    assert!(
        png.len() > 20_000,
        "a near-blank screenshot: {} bytes",
        png.len()
    );
    std::fs::write(
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("html-report.png"),
        &png,
    )
    .unwrap();
}

#[test]
fn the_page_follows_dark_mode_and_prints_on_white() {
    let world = world();
    let (path, _) = html_report(&world);
    let page = Page::open(&path);
    let background = "getComputedStyle(document.body).backgroundColor";
    page.emulate("screen", "light");
    assert_eq!(page.eval(background), "rgb(255, 255, 255)");
    page.emulate("screen", "dark");
    assert_eq!(page.eval(background), "rgb(15, 18, 23)");
    let bar = "getComputedStyle(document.querySelector('svg rect.bar.works')).fill";
    assert_eq!(page.eval(bar), "rgb(63, 185, 80)", "bars follow the scheme");
    page.emulate("print", "dark");
    assert_eq!(page.eval(background), "rgb(255, 255, 255)");
    // Long file names wrap instead of running off the printed page.
    let overflow = page.eval(
        "[...document.querySelectorAll('pre, table')].filter(e => e.scrollWidth > e.clientWidth + 1).length",
    );
    assert_eq!(overflow, 0);
}
