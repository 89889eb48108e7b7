//! Live checks against the public Python Package Index. They need the network, so they are
//! ignored by `cargo test` and run by `.ci/run` with `cargo test --test live -- --ignored`.

mod support;

use std::path::Path;

use support::*;

fn run_seed(file: &str, extra: &[&str]) -> serde_json::Value {
    let cache = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut args = vec![
        file, "--format", "json", "--python", "3.12", "--image", "alpine", "--image", "slim",
    ];
    args.extend_from_slice(extra);
    let run = wheelcheck(root, cache.path(), &args);
    assert!(
        run.code == 0 || run.code == 1,
        "exit {}: {}",
        run.code,
        run.stderr
    );
    run.json()
}

#[test]
#[ignore = "needs the public package index"]
fn seed_fastapi_example_installs_from_wheels_on_alpine_and_slim() {
    let report = run_seed(
        "examples/fastapi-requirements.txt",
        &["--arch", "amd64", "--arch", "arm64"],
    );
    for image in ["python:3.12-alpine3.24", "python:3.12-slim-trixie"] {
        for arch in ["x86_64", "aarch64"] {
            let psycopg = package(&report, image, arch, "psycopg2-binary");
            assert_eq!(psycopg["version"], "2.9.9");
            assert_eq!(psycopg["kind"], "wheel");
            let platform = if image.contains("alpine") {
                "musllinux"
            } else {
                "manylinux"
            };
            assert!(
                psycopg["file"].as_str().unwrap().contains(platform),
                "{psycopg}"
            );
            assert!(
                psycopg["file"].as_str().unwrap().contains(arch),
                "{psycopg}"
            );
            assert_eq!(
                package(&report, image, arch, "fastapi")["file"],
                "fastapi-0.109.0-py3-none-any.whl"
            );
            // Transitive dependencies are there too.
            assert_eq!(package(&report, image, arch, "starlette")["kind"], "wheel");
            assert_eq!(target(&report, image, arch)["resolution"]["ok"], true);
        }
    }
}

#[test]
#[ignore = "needs the public package index"]
fn seed_data_science_list_resolves_with_numpy_wheels() {
    let report = run_seed("examples/data-science-requirements.txt", &[]);
    for image in ["python:3.12-alpine3.24", "python:3.12-slim-trixie"] {
        let numpy = package(&report, image, "x86_64", "numpy");
        assert_eq!(numpy["kind"], "wheel", "{numpy}");
        assert!(
            package(&report, image, "x86_64", "matplotlib")["required_by"][0] == "requirements"
        );
        // matplotlib's own dependencies are resolved, not lost.
        assert_eq!(
            package(&report, image, "x86_64", "kiwisolver")["kind"],
            "wheel"
        );
    }
}

#[test]
#[ignore = "needs the public package index"]
fn opencv_on_slim_asks_for_the_gl_and_glib_packages_and_nothing_slim_ships() {
    let cache = tempfile::tempdir().unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("requirements.txt"), "opencv-python\n").unwrap();
    let run = wheelcheck(
        dir.path(),
        cache.path(),
        &[
            "requirements.txt",
            "--format",
            "json",
            "--python",
            "3.12",
            "--image",
            "slim",
        ],
    );
    let report = run.json();
    let slim = target(&report, "python:3.12-slim-trixie", "x86_64");
    assert_eq!(slim["verdict"], "works-with-packages", "{slim:#}");
    let missing = slim["missing_sonames"].as_object().unwrap();
    assert_eq!(missing["libGL.so.1"][0], "libgl1");
    assert_eq!(missing["libglib-2.0.so.0"][0], "libglib2.0-0t64");
    let runtime: Vec<&str> = slim["system_packages"]["runtime"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    for shipped in ["zlib1g", "libstdc++6", "libgcc-s1", "libc6"] {
        assert!(
            !runtime.contains(&shipped),
            "asks for {shipped}, which slim ships: {runtime:?}"
        );
    }
}
