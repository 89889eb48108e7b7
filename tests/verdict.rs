//! Verdicts, system packages, sizes, the recommendation and the Dockerfile, end to end against
//! the fixture index with wheels holding real ELF files.

mod support;

use serde_json::Value;
use support::elf::*;
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";
const FULL: &str = "python:3.12-trixie";
const BOOKWORM: &str = "python:3.12-slim-bookworm";
const ALPINE: &str = "python:3.12-alpine3.24";
const GLIBC_TAG: &str = "cp312-cp312-manylinux_2_17_x86_64";
const MUSL_TAG: &str = "cp312-cp312-musllinux_1_2_x86_64";

/// A shared object that needs `sonames` (built against stub libraries of those names).
fn needing(sonames: &[&str]) -> Vec<u8> {
    build_shared_object(&SharedObject {
        source: "int entry(void) { return 0; }".into(),
        soname: None,
        links: Vec::new(),
        rpath: None,
        old_rpath: false,
        needed_libs: sonames
            .iter()
            .map(|s| (s.to_string(), "int stub(void) { return 1; }".to_string()))
            .collect(),
    })
}

fn native(name: &str, tag: &str, so: &[u8]) -> IndexFile {
    let path = format!("{name}/_ext.so");
    IndexFile::from(wheel(&Meta::new(name, "1.0"), tag, &[(path.as_str(), so)]))
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn libgomp_on_slim_asks_for_libgomp1_and_nothing_the_image_ships() {
    let world = World::new(vec![(
        "boost",
        vec![native(
            "boost",
            GLIBC_TAG,
            &needing(&["libgomp.so.1", "libz.so.1"]),
        )],
    )]);
    let (report, code) = world.json("boost\n", &[SLIM, FULL]);
    let slim = target(&report, SLIM, "x86_64");
    assert_eq!(slim["verdict"], "works-with-packages", "{slim:#}");
    assert_eq!(
        strings(&slim["missing_sonames"]["libgomp.so.1"]),
        ["libgomp1"]
    );
    assert!(
        slim["missing_sonames"].get("libz.so.1").is_none(),
        "slim ships zlib"
    );
    assert_eq!(strings(&slim["system_packages"]["runtime"]), ["libgomp1"]);
    // The full image has libgomp already.
    let full = target(&report, FULL, "x86_64");
    assert_eq!(full["verdict"], "works", "{full:#}");
    assert!(full["missing_sonames"].as_object().unwrap().is_empty());
    // Slim is smaller, so it is recommended, with the line to add.
    let recommendation = &report["recommendation"];
    assert_eq!(recommendation["image"], SLIM);
    assert_eq!(
        strings(&recommendation["dockerfile_lines"]),
        [
            "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*"
        ]
    );
    assert_eq!(code, 1, "an image that needs packages is a finding");
}

#[test]
fn opencv_like_wheels_ask_for_gl_and_glib_packages_named_per_release() {
    let so = needing(&["libGL.so.1", "libglib-2.0.so.0", "libgthread-2.0.so.0"]);
    let world = World::new(vec![("cvlike", vec![native("cvlike", GLIBC_TAG, &so)])]);
    let (report, _) = world.json("cvlike\n", &[SLIM, BOOKWORM]);
    let trixie = target(&report, SLIM, "x86_64");
    assert_eq!(
        strings(&trixie["missing_sonames"]["libGL.so.1"]),
        ["libgl1"]
    );
    assert_eq!(
        strings(&trixie["missing_sonames"]["libglib-2.0.so.0"]),
        ["libglib2.0-0t64"]
    );
    let bookworm = target(&report, BOOKWORM, "x86_64");
    assert_eq!(
        strings(&bookworm["missing_sonames"]["libglib-2.0.so.0"]),
        ["libglib2.0-0"]
    );
    let size = trixie["estimated_size_bytes"].as_u64().unwrap();
    let base = trixie["size"]["base_image"].as_u64().unwrap();
    assert!(
        size > base + 1_000_000,
        "adding libgl1 and its X11 dependencies costs megabytes: {size} vs {base}"
    );
    assert!(strings(&trixie["size"]["packages_added"]).len() > 3);
}

#[test]
fn a_library_no_alpine_package_provides_is_reported_unavailable_and_fails() {
    let so = musl_object_needing(&["libGLX.so.0"]);
    let world = World::new(vec![("glx", vec![native("glx", MUSL_TAG, &so)])]);
    let (report, code) = world.json("glx\n", &[ALPINE]);
    let alpine = target(&report, ALPINE, "x86_64");
    assert_eq!(alpine["verdict"], "fails");
    assert_eq!(
        alpine["missing_sonames"]["libGLX.so.0"],
        serde_json::json!([])
    );
    assert!(
        strings(&alpine["reasons"])
            .iter()
            .any(|r| r.contains("libGLX.so.0") && r.contains("in no Alpine")),
        "{alpine:#}"
    );
    assert!(report["recommendation"]["image"].is_null());
    assert_eq!(code, 1);
}

#[test]
fn alpine_packages_come_with_their_so_names() {
    let so = musl_object_needing(&["libgomp.so.1"]);
    let world = World::new(vec![("omp", vec![native("omp", MUSL_TAG, &so)])]);
    let (report, _) = world.json("omp\n", &[ALPINE]);
    let alpine = target(&report, ALPINE, "x86_64");
    assert_eq!(strings(&alpine["system_packages"]["runtime"]), ["libgomp"]);
    assert_eq!(
        strings(&alpine["system_packages"]["runtime_so_names"]),
        ["so:libgomp.so.1"]
    );
    assert!(
        strings(&alpine["notes"])
            .iter()
            .any(|n| n.contains("carried forward"))
    );
    assert_eq!(
        strings(&report["recommendation"]["dockerfile_lines"]),
        ["RUN apk add --no-cache libgomp"]
    );
}

#[test]
fn an_sdist_needs_a_build_with_its_build_and_runtime_packages_and_a_multi_stage_file() {
    let psycopg = Meta::new("psycopg2", "2.9.9").metadata_version("2.2");
    let world = World::new(vec![(
        "psycopg2",
        vec![IndexFile::from(sdist_tar_gz(&psycopg, &[]))],
    )]);
    let (report, code) = world.json("psycopg2==2.9.9\n", &[SLIM, ALPINE]);
    let slim = target(&report, SLIM, "x86_64");
    assert_eq!(slim["verdict"], "needs-build", "{slim:#}");
    assert!(
        strings(&slim["system_packages"]["build"]).contains(&"libpq-dev".to_string()),
        "{slim:#}"
    );
    assert!(
        strings(&slim["system_packages"]["runtime"]).contains(&"libpq5".to_string()),
        "{slim:#}"
    );
    assert_eq!(strings(&slim["built_from_source"]), ["psycopg2 2.9.9"]);
    let alpine = target(&report, ALPINE, "x86_64");
    assert!(
        strings(&alpine["system_packages"]["build"]).contains(&"libpq-dev".to_string()),
        "{alpine:#}"
    );
    let recommendation = &report["recommendation"];
    assert_eq!(recommendation["verdict"], "needs-build");
    assert!(recommendation["build"]["builder_image"].as_str().is_some());
    assert_eq!(code, 1);

    let dockerfile = world.dir.path().join("Dockerfile");
    let run = world.run(
        "psycopg2==2.9.9\n",
        &[
            "--image",
            SLIM,
            "--dockerfile-out",
            dockerfile.to_str().unwrap(),
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    assert!(text.contains(&format!("FROM {FULL} AS builder")), "{text}");
    assert!(text.contains(&format!("FROM {SLIM}\n")), "{text}");
    assert!(
        text.contains("pip wheel --no-cache-dir --wheel-dir /wheels"),
        "{text}"
    );
    let final_stage = text.split(&format!("FROM {SLIM}\n")).nth(1).unwrap();
    assert!(final_stage.contains("libpq5"), "{text}");
    assert!(
        !final_stage.contains("libpq-dev") && !final_stage.contains("build-essential"),
        "build tools leaked: {text}"
    );

    let run = world.run(
        "psycopg2==2.9.9\n",
        &[
            "--image",
            ALPINE,
            "--dockerfile-out",
            dockerfile.to_str().unwrap(),
            "--build-in-place",
        ],
    );
    assert_eq!(run.code, 1, "{}", run.stderr);
    let text = std::fs::read_to_string(&dockerfile).unwrap();
    assert!(!text.contains("AS builder"), "{text}");
    assert!(
        text.contains("apk add --no-cache --virtual .build-deps"),
        "{text}"
    );
    assert!(text.contains("apk del --no-network .build-deps"), "{text}");
    assert!(
        text.contains("libpq-dev") && text.contains("RUN apk add --no-cache libpq\n"),
        "{text}"
    );
}

#[test]
fn human_report_leads_with_the_recommendation() {
    let world = World::new(vec![(
        "boost",
        vec![native("boost", GLIBC_TAG, &needing(&["libgomp.so.1"]))],
    )]);
    let run = world.run("boost\n", &["--image", SLIM, "--image", FULL]);
    let first = run.stdout.lines().next().unwrap_or_default();
    assert!(first.starts_with(&format!("Use {SLIM}")), "{}", run.stdout);
    assert!(
        run.stdout
            .contains("apt-get install -y --no-install-recommends libgomp1"),
        "{}",
        run.stdout
    );
}

#[test]
fn among_images_that_need_builds_the_one_with_fewer_builds_wins() {
    let psycopg = Meta::new("psycopg2", "2.9.9").metadata_version("2.2");
    let only_glibc = needing(&[]);
    let world = World::new(vec![
        (
            "psycopg2",
            vec![IndexFile::from(sdist_tar_gz(&psycopg, &[]))],
        ),
        (
            "fastlib",
            vec![
                native("fastlib", GLIBC_TAG, &only_glibc),
                IndexFile::from(sdist_tar_gz(
                    &Meta::new("fastlib", "1.0").metadata_version("2.2"),
                    &[],
                )),
            ],
        ),
    ]);
    let (report, _) = world.json("psycopg2==2.9.9\nfastlib\n", &[SLIM, ALPINE]);
    // Alpine is smaller but builds two packages; slim builds one.
    assert_eq!(
        target(&report, ALPINE, "x86_64")["built_from_source"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        report["recommendation"]["image"], SLIM,
        "{:#}",
        report["recommendation"]
    );
}

#[test]
fn the_recommendation_names_builds_on_any_architecture_and_unchecked_lines() {
    let fastlib = vec![
        native("fastlib", GLIBC_TAG, &needing(&[])),
        IndexFile::from(sdist_tar_gz(
            &Meta::new("fastlib", "1.0").metadata_version("2.2"),
            &[],
        )),
    ];
    let world = World::new(vec![("fastlib", fastlib)]);
    // amd64 has a wheel; arm64 builds the sdist.
    let both = [
        "--format", "json", "--image", SLIM, "--arch", "amd64", "--arch", "arm64",
    ];
    let report = world.run("fastlib\n", &both).json();
    assert_eq!(
        strings(&target(&report, SLIM, "aarch64")["built_from_source"]),
        ["fastlib 1.0"]
    );
    let why = report["recommendation"]["why"].as_str().unwrap();
    assert!(why.contains("once fastlib 1.0 is built"), "{why}");

    std::fs::create_dir_all(world.dir.path().join("local")).unwrap();
    let (report, _) = world.json("fastlib\n./local\n", &[SLIM]);
    let why = report["recommendation"]["why"].as_str().unwrap();
    assert!(why.contains("requirements.txt:2 (./local)"), "{why}");
    assert!(!why.contains("once  "), "{why}");
}
