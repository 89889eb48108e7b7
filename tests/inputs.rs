//! Inputs beyond requirements.txt, end to end: pyproject.toml (resolved) and lock files
//! (installed as locked: pinned versions, the lock's markers and hashes, no dependency followed).

mod support;

use serde_json::Value;
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";

/// `alpha` 1.0 (depending on `beta`) and a newer 2.0; `native` with an x86_64 and an aarch64
/// wheel; `winonly`, `beta` and `gamma` pure Python.
struct Files {
    alpha1: Built,
    alpha2: Built,
    native_x86: Built,
    native_arm: Built,
    winonly: Built,
    gamma: Built,
}

fn files() -> Files {
    Files {
        alpha1: wheel(&Meta::new("alpha", "1.0").dep("beta"), "py3-none-any", &[]),
        alpha2: wheel(&Meta::new("alpha", "2.0").dep("beta"), "py3-none-any", &[]),
        native_x86: wheel(
            &Meta::new("native", "1.0"),
            "cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64",
            &[],
        ),
        native_arm: wheel(
            &Meta::new("native", "1.0"),
            "cp312-cp312-manylinux_2_17_aarch64.manylinux2014_aarch64",
            &[],
        ),
        winonly: wheel(&Meta::new("winonly", "1.0"), "py3-none-any", &[]),
        gamma: wheel(&Meta::new("gamma", "1.0"), "py3-none-any", &[]),
    }
}

fn world(files: &Files) -> World {
    let beta = wheel(&Meta::new("beta", "1.0"), "py3-none-any", &[]);
    World::new(vec![
        (
            "alpha",
            vec![files.alpha1.clone().into(), files.alpha2.clone().into()],
        ),
        ("beta", vec![beta.into()]),
        (
            "native",
            vec![
                files.native_x86.clone().into(),
                files.native_arm.clone().into(),
            ],
        ),
        ("winonly", vec![files.winonly.clone().into()]),
        ("gamma", vec![files.gamma.clone().into()]),
    ])
}

/// Runs wheelcheck on `name` (written with `content`) for slim on both architectures.
fn run(world: &World, name: &str, content: &str, extra: &[&str]) -> Run {
    std::fs::write(world.dir.path().join(name), content).unwrap();
    let url = world.index.simple_url();
    let mut args = vec![
        name,
        "--index-url",
        &url,
        "--python",
        "3.12",
        "--image",
        SLIM,
        "--arch",
        "amd64",
        "--arch",
        "arm64",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    wheelcheck(world.dir.path(), world.cache.path(), &args)
}

fn names(report: &Value, arch: &str) -> Vec<String> {
    target(report, SLIM, arch)["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect()
}

fn wheel_entry(world: &World, built: &Built) -> String {
    format!(
        "{{ url = \"{}\", hash = \"sha256:{}\", size = {} }}",
        world.index.file_url(&built.filename),
        built.sha256,
        built.bytes.len()
    )
}

fn uv_lock(world: &World, files: &Files) -> String {
    format!(
        r#"version = 1
revision = 3
requires-python = ">=3.12"

[[package]]
name = "alpha"
version = "1.0"
source = {{ registry = "{index}" }}
wheels = [
    {alpha},
]

[[package]]
name = "app"
version = "0.1.0"
source = {{ editable = "." }}
dependencies = [
    {{ name = "alpha" }},
    {{ name = "native", marker = "platform_machine == 'aarch64'" }},
    {{ name = "winonly", marker = "sys_platform == 'win32'" }},
]

[package.optional-dependencies]
extra-g = [
    {{ name = "gamma" }},
]

[[package]]
name = "gamma"
version = "1.0"
source = {{ registry = "{index}" }}
wheels = [
    {gamma},
]

[[package]]
name = "native"
version = "1.0"
source = {{ registry = "{index}" }}
wheels = [
    {native_x86},
    {native_arm},
]

[[package]]
name = "winonly"
version = "1.0"
source = {{ registry = "{index}" }}
wheels = [
    {winonly},
]
"#,
        index = world.index.simple_url(),
        alpha = wheel_entry(world, &files.alpha1),
        gamma = wheel_entry(world, &files.gamma),
        native_x86 = wheel_entry(world, &files.native_x86),
        native_arm = wheel_entry(world, &files.native_arm),
        winonly = wheel_entry(world, &files.winonly),
    )
}

#[test]
fn uv_lock_installs_the_locked_set_per_target_from_the_locks_urls() {
    let files = files();
    let world = world(&files);
    let out = run(&world, "uv.lock", &uv_lock(&world, &files), &[]);
    let report = out.json();
    // The newer alpha 2.0 on the index is not taken, the dependency on beta its metadata
    // declares is not followed (the lock is the whole set), and native only where locked.
    assert_eq!(names(&report, "x86_64"), ["alpha"], "{}", out.stderr);
    assert_eq!(names(&report, "aarch64"), ["alpha", "native"]);
    let alpha = package(&report, SLIM, "x86_64", "alpha");
    assert_eq!(alpha["version"], "1.0");
    assert_eq!(alpha["lines"], serde_json::json!(["uv.lock:6"]));
    let native = package(&report, SLIM, "aarch64", "native");
    assert_eq!(native["file"], files.native_arm.filename.as_str());
    let unresolved = &target(&report, SLIM, "x86_64")["unresolved_lines"][0];
    assert_eq!(unresolved["source"], "uv.lock:14");
    assert!(
        unresolved["why"]
            .as_str()
            .unwrap()
            .starts_with("editable install")
    );
    // The lock's URLs replace the index pages.
    let pages: Vec<String> = world
        .index
        .requests()
        .into_iter()
        .map(|r| r.path)
        .filter(|p| p.starts_with("/simple/"))
        .collect();
    assert!(pages.is_empty(), "index pages fetched: {pages:?}");
}

#[test]
fn uv_lock_extras_add_the_roots_optional_dependencies() {
    let files = files();
    let world = world(&files);
    let out = run(
        &world,
        "uv.lock",
        &uv_lock(&world, &files),
        &["--extra", "extra-g"],
    );
    assert_eq!(names(&out.json(), "x86_64"), ["alpha", "gamma"]);
    let out = run(
        &world,
        "uv.lock",
        &uv_lock(&world, &files),
        &["--extra", "gui"],
    );
    assert_eq!(out.code, 2);
    assert!(
        out.stderr
            .contains("--extra gui: uv.lock has no such extra; available: extra-g"),
        "{}",
        out.stderr
    );
}

fn poetry_lock(files: &Files, gamma_hash: &str) -> String {
    format!(
        r#"# This file is automatically @generated by Poetry 2.1.3 and should not be changed by hand.

[[package]]
name = "alpha"
version = "1.0"
description = ""
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = [
    {{file = "{alpha}", hash = "sha256:{alpha_sha}"}},
]

[package.dependencies]
beta = "*"

[[package]]
name = "gamma"
version = "1.0"
description = ""
optional = false
python-versions = ">=3.8"
groups = ["main"]
files = [
    {{file = "{gamma}", hash = "sha256:{gamma_hash}"}},
]

[[package]]
name = "native"
version = "1.0"
description = ""
optional = false
python-versions = ">=3.8"
groups = ["main"]
markers = "platform_machine == \"aarch64\""
files = [
    {{file = "{native_x86}", hash = "sha256:{native_x86_sha}"}},
    {{file = "{native_arm}", hash = "sha256:{native_arm_sha}"}},
]

[metadata]
lock-version = "2.1"
python-versions = ">=3.10"
content-hash = "0000"
"#,
        alpha = files.alpha1.filename,
        alpha_sha = files.alpha1.sha256,
        gamma = files.gamma.filename,
        native_x86 = files.native_x86.filename,
        native_x86_sha = files.native_x86.sha256,
        native_arm = files.native_arm.filename,
        native_arm_sha = files.native_arm.sha256,
    )
}

#[test]
fn poetry_lock_pins_versions_and_a_hash_mismatch_is_reported_not_installed() {
    let files = files();
    let world = world(&files);
    let wrong = "0".repeat(64);
    let out = run(&world, "poetry.lock", &poetry_lock(&files, &wrong), &[]);
    let report = out.json();
    assert_eq!(out.code, 1, "{}", out.stderr);
    assert_eq!(package(&report, SLIM, "x86_64", "alpha")["version"], "1.0");
    assert_eq!(names(&report, "x86_64"), ["alpha", "gamma"]);
    assert_eq!(names(&report, "aarch64"), ["alpha", "gamma", "native"]);
    let gamma = package(&report, SLIM, "x86_64", "gamma");
    assert_eq!(gamma["kind"], "none");
    assert!(
        gamma["reason"].as_str().unwrap().contains("--hash"),
        "{gamma:#}"
    );
    assert_eq!(gamma["lines"], serde_json::json!(["poetry.lock:18"]));
    // With the right hash, everything installs from wheels.
    let out = run(
        &world,
        "poetry.lock",
        &poetry_lock(&files, &files.gamma.sha256),
        &[],
    );
    assert_eq!(
        package(&out.json(), SLIM, "x86_64", "gamma")["kind"],
        "wheel"
    );
}

#[test]
fn pipfile_lock_uses_its_sources_versions_and_markers() {
    let files = files();
    let world = world(&files);
    let lock = serde_json::json!({
        "_meta": {
            "hash": {"sha256": "00"},
            "pipfile-spec": 6,
            "requires": {"python_version": "3.12"},
            "sources": [{"name": "fixture", "url": world.index.simple_url(), "verify_ssl": false}]
        },
        "default": {
            "alpha": {"hashes": [format!("sha256:{}", files.alpha1.sha256)], "index": "fixture", "version": "==1.0"},
            "winonly": {"hashes": [format!("sha256:{}", files.winonly.sha256)], "markers": "sys_platform == 'win32'", "version": "==1.0"}
        },
        "develop": {
            "gamma": {"hashes": [format!("sha256:{}", files.gamma.sha256)], "version": "==1.0"}
        }
    });
    let text = serde_json::to_string_pretty(&lock).unwrap();
    // No --index-url: the lock's own source is the index.
    std::fs::write(world.dir.path().join("Pipfile.lock"), &text).unwrap();
    let args = [
        "Pipfile.lock",
        "--python",
        "3.12",
        "--image",
        SLIM,
        "--format",
        "json",
    ];
    let out = wheelcheck(world.dir.path(), world.cache.path(), &args);
    let report = out.json();
    assert_eq!(names(&report, "x86_64"), ["alpha"], "{}", out.stderr);
    assert_eq!(package(&report, SLIM, "x86_64", "alpha")["version"], "1.0");
    let mut with_dev = args.to_vec();
    with_dev.extend(["--group", "develop"]);
    let out = wheelcheck(world.dir.path(), world.cache.path(), &with_dev);
    assert_eq!(names(&out.json(), "x86_64"), ["alpha", "gamma"]);
}

#[test]
fn pylock_toml_takes_the_locked_files_where_the_marker_holds() {
    let files = files();
    let world = world(&files);
    let entry = |built: &Built| {
        format!(
            "{{name = '{}', url = '{}', size = {}, hashes = {{sha256 = '{}'}}}}",
            built.filename,
            world.index.file_url(&built.filename),
            built.bytes.len(),
            built.sha256
        )
    };
    let lock = format!(
        "lock-version = '1.0'\ncreated-by = 'test'\nrequires-python = '>=3.12'\n\n\
         [[packages]]\nname = 'alpha'\nversion = '1.0'\nwheels = [{}]\n\n\
         [[packages]]\nname = 'native'\nversion = '1.0'\nmarker = \"platform_machine == 'aarch64'\"\n\
         wheels = [{}, {}]\n\n\
         [[packages]]\nname = 'winonly'\nversion = '1.0'\nmarker = \"sys_platform == 'win32'\"\nwheels = [{}]\n",
        entry(&files.alpha1),
        entry(&files.native_x86),
        entry(&files.native_arm),
        entry(&files.winonly),
    );
    let out = run(&world, "pylock.toml", &lock, &[]);
    let report = out.json();
    assert_eq!(names(&report, "x86_64"), ["alpha"], "{}", out.stderr);
    assert_eq!(names(&report, "aarch64"), ["alpha", "native"]);
    let native = package(&report, SLIM, "aarch64", "native");
    assert_eq!(native["file"], files.native_arm.filename.as_str());
    assert_eq!(native["lines"], serde_json::json!(["pylock.toml:11"]));
}

const PYPROJECT: &str = r#"[project]
name = "app"
version = "0.1.0"
dependencies = [
    "alpha>=1",
]

[project.optional-dependencies]
g = ["gamma"]
"#;

#[test]
fn pyproject_dependencies_are_resolved_and_extras_chosen() {
    let files = files();
    let world = world(&files);
    let out = run(&world, "pyproject.toml", PYPROJECT, &[]);
    let report = out.json();
    // Resolved, not locked: the newest alpha, and its dependency beta.
    assert_eq!(
        names(&report, "x86_64"),
        ["alpha", "beta"],
        "{}",
        out.stderr
    );
    let alpha = package(&report, SLIM, "x86_64", "alpha");
    assert_eq!(alpha["version"], "2.0");
    assert_eq!(alpha["lines"], serde_json::json!(["pyproject.toml:5"]));
    let out = run(&world, "pyproject.toml", PYPROJECT, &["--extra", "g"]);
    assert_eq!(names(&out.json(), "x86_64"), ["alpha", "beta", "gamma"]);
}

#[test]
fn bad_inputs_exit_2_naming_the_file_and_line() {
    let files = files();
    let world = world(&files);
    let cases: [(&str, &str, &[&str], &str); 5] = [
        (
            "uv.lock",
            "version = 1\n\n[[package]]\nname = \"a\nversion = \"1\"\n",
            &[],
            "uv.lock:4: not valid uv.lock (TOML)",
        ),
        (
            "pyproject.toml",
            PYPROJECT,
            &["--extra", "gui"],
            "--extra gui: pyproject.toml has no such extra; available: g",
        ),
        (
            "pyproject.toml",
            "[project]\nname = \"x\"\nversion = \"1\"\ndynamic = [\"dependencies\"]\n",
            &[],
            "pyproject.toml:4: the project's dependencies are dynamic",
        ),
        (
            "pyproject.toml",
            "[tool.ruff]\nline-length = 99\n",
            &[],
            "pyproject.toml has no [project] table",
        ),
        (
            "requirements.txt",
            "alpha\n",
            &["--extra", "g"],
            "--extra g applies to pyproject.toml and lock files",
        ),
    ];
    for (name, content, extra, expected) in cases {
        let out = run(&world, name, content, extra);
        assert_eq!(out.code, 2, "{name}: {}", out.stderr);
        assert!(out.stderr.contains(expected), "{name}: {}", out.stderr);
    }
}
