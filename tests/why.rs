//! `wheelcheck why PACKAGE FILE...` and `--explain`: chains, per-image reasons for the file
//! chosen, the pin that avoids a source build and binary twins, end to end against the fixture
//! index.

mod support;

use serde_json::Value;
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";
const ALPINE: &str = "python:3.12-alpine3.24";
const MUSL_TAG: &str = "cp312-cp312-musllinux_1_2_x86_64";
const GLIBC_228_TAG: &str = "cp312-cp312-manylinux_2_28_x86_64";

fn pure(meta: Meta) -> IndexFile {
    IndexFile::from(wheel(&meta, "py3-none-any", &[]))
}

fn sdist(name: &str, version: &str) -> IndexFile {
    let meta = Meta::new(name, version).metadata_version("2.2");
    IndexFile::from(sdist_tar_gz(&meta, &[]))
}

/// duck: 1.3.2 has a musllinux wheel; 1.4.0 and 2.0.0 have only an sdist and a manylinux_2_28
/// wheel. On Alpine pip builds 2.0.0; on slim it takes 2.0.0's wheel.
fn duck() -> Vec<IndexFile> {
    let wheel_of =
        |version: &str, tag: &str| IndexFile::from(wheel(&Meta::new("duck", version), tag, &[]));
    vec![
        wheel_of("1.3.2", MUSL_TAG),
        sdist("duck", "1.3.2"),
        wheel_of("1.4.0", GLIBC_228_TAG),
        sdist("duck", "1.4.0"),
        wheel_of("2.0.0", GLIBC_228_TAG),
        sdist("duck", "2.0.0"),
    ]
}

/// `app` → `mid` → `leaf`, and `other` → `leaf`: two chains to leaf.
fn tree() -> Vec<(&'static str, Vec<IndexFile>)> {
    vec![
        ("app", vec![pure(Meta::new("app", "1.0").dep("mid"))]),
        ("mid", vec![pure(Meta::new("mid", "1.0").dep("leaf>=1"))]),
        ("other", vec![pure(Meta::new("other", "1.0").dep("leaf"))]),
        ("leaf", vec![pure(Meta::new("leaf", "1.0"))]),
        ("duck", duck()),
    ]
}

/// Run `wheelcheck why PACKAGE requirements.txt ARGS...` in the world.
fn why(world: &World, package: &str, requirements: &str, extra: &[&str]) -> Run {
    std::fs::write(world.dir.path().join("requirements.txt"), requirements).unwrap();
    let url = world.index.simple_url();
    let mut args = vec![
        "why",
        package,
        "requirements.txt",
        "--index-url",
        &url,
        "--python",
        "3.12",
    ];
    args.extend_from_slice(extra);
    wheelcheck(world.dir.path(), world.cache.path(), &args)
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

#[test]
fn why_shows_every_chain_through_transitive_packages_with_the_lines() {
    let world = World::new(tree());
    let run = why(&world, "Leaf", "app\nother\n", &["--image", SLIM]);
    assert_eq!(run.code, 0, "{}\n{}", run.stdout, run.stderr);
    let text = &run.stdout;
    assert!(text.starts_with("why leaf\n"), "{text}");
    assert!(
        text.contains("required by: mid, other\n  chains from your files:\n"),
        "{text}"
    );
    assert!(
        text.contains("    other -> leaf  (requirements.txt:2)\n"),
        "{text}"
    );
    assert!(
        text.contains("    app -> mid -> leaf  (requirements.txt:1)\n"),
        "{text}"
    );
    assert!(
        text.contains(
            "wheel leaf-1.0-py3-none-any.whl: the only wheel of 1.0 usable here, tag py3-none-any"
        ),
        "{text}"
    );
    assert!(
        !text.contains("Use python:"),
        "why prints only the explanation: {text}"
    );
}

#[test]
fn the_file_choice_is_explained_per_image_sdist_on_alpine_wheel_on_slim() {
    let world = World::new(tree());
    let (report, code) = world.json("duck\n", &[ALPINE, SLIM]);
    assert_eq!(code, 1);
    let alpine = package(&report, ALPINE, "x86_64", "duck");
    assert_eq!(alpine["kind"], "sdist");
    let choice = &alpine["choice"];
    assert_eq!(choice["usable_wheels"], 0);
    assert_eq!(choice["usable_sdist"], true);
    assert_eq!(
        strings(&choice["other_wheel_platforms"]),
        ["manylinux_2_28_x86_64"]
    );
    assert_eq!(choice["older_wheel_version"], "1.3.2");
    assert_eq!(
        choice["why"],
        "sdist duck-2.0.0.tar.gz: release 2.0.0 has no wheel for this image's tags (its Linux wheels: \
         manylinux_2_28_x86_64 for cp312); pip prefers a newer sdist over an older wheel (1.3.2 \
         has a wheel here)"
    );
    let slim = package(&report, SLIM, "x86_64", "duck");
    assert_eq!(slim["kind"], "wheel");
    assert_eq!(
        slim["choice"]["why"],
        "wheel duck-2.0.0-cp312-cp312-manylinux_2_28_x86_64.whl: the only wheel of 2.0.0 usable \
         here, tag cp312-cp312-manylinux_2_28_x86_64"
    );
    assert!(slim["avoid_build_pin"].is_null());

    let run = why(
        &world,
        "duck",
        "duck\n",
        &["--image", ALPINE, "--image", SLIM],
    );
    let text = &run.stdout;
    let alpine_part = text.split("python:3.12-slim-trixie").next().unwrap();
    assert!(
        alpine_part.contains("2.0.0, sdist (built from source)"),
        "{text}"
    );
    assert!(alpine_part.contains("pip prefers a newer sdist"), "{text}");
    let slim_part = text
        .split("python:3.12-slim-trixie (amd64):")
        .nth(1)
        .unwrap();
    assert!(slim_part.contains("2.0.0, wheel"), "{text}");
    assert!(!slim_part.contains("pin:"), "{text}");
}

#[test]
fn an_older_release_with_a_wheel_gives_the_pin_that_avoids_the_build() {
    let world = World::new(tree());
    let (report, _) = world.json("duck\n", &[ALPINE]);
    let duck = package(&report, ALPINE, "x86_64", "duck");
    let pin = &duck["avoid_build_pin"];
    // 1.4.0 has no musllinux wheel either: the pin must exclude it too.
    assert_eq!(pin["pin"], "duck<1.4.0", "{duck:#}");
    assert_eq!(pin["wheel_version"], "1.3.2");
    assert_eq!(pin["consistent"], true);
    assert_eq!(duck["binary_only_version"], "1.3.2");

    // The pin does what it says: with it, pip takes 1.3.2's wheel.
    let (pinned, code) = world.json("duck\nduck<1.4.0\n", &[ALPINE]);
    let duck = package(&pinned, ALPINE, "x86_64", "duck");
    assert_eq!(duck["kind"], "wheel");
    assert_eq!(duck["version"], "1.3.2");
    assert_eq!(code, 0);

    let human = world.run("duck\n", &["--image", ALPINE]);
    assert!(
        human.stdout.contains(
            "duck 2.0.0: sdist, built from source; with wheels only, pip would take 1.3.2\n      `duck<1.4.0` avoids the build (pip then takes 1.3.2's wheel)\n"
        ),
        "{}",
        human.stdout
    );
}

#[test]
fn a_pin_the_user_s_own_specifier_excludes_is_reported_as_a_conflict() {
    let world = World::new(tree());
    let (report, _) = world.json("duck>=2\n", &[ALPINE]);
    let pin = &package(&report, ALPINE, "x86_64", "duck")["avoid_build_pin"];
    assert_eq!(pin["pin"], "duck<1.4.0");
    assert_eq!(pin["consistent"], false);
    assert_eq!(strings(&pin["conflicts_with"]), ["duck>=2"]);
    let run = why(&world, "duck", "duck>=2\n", &["--image", ALPINE]);
    assert!(
        run.stdout.contains("but it conflicts with your `duck>=2`"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_psycopg2_build_suggests_its_binary_twins_from_the_data_file() {
    let world = World::new(vec![("psycopg2", vec![sdist("psycopg2", "2.9.9")])]);
    let (report, _) = world.json("psycopg2\n", &[ALPINE]);
    let psycopg2 = package(&report, ALPINE, "x86_64", "psycopg2");
    let twins = psycopg2["binary_twins"].as_array().unwrap();
    let installs: Vec<&str> = twins
        .iter()
        .map(|t| t["install"].as_str().unwrap())
        .collect();
    assert!(installs.contains(&"psycopg2-binary"), "{psycopg2:#}");
    assert!(installs.contains(&"psycopg[binary]"), "{psycopg2:#}");
    let binary = twins
        .iter()
        .find(|t| t["install"] == "psycopg2-binary")
        .unwrap();
    assert!(
        binary["caveat"].as_str().unwrap().contains("production"),
        "{binary:#}"
    );
    assert!(strings(&binary["wheels"]).contains(&"musllinux_x86_64".to_string()));
    // No older release and no wheel: no pin.
    assert!(psycopg2["avoid_build_pin"].is_null());

    let run = why(&world, "psycopg2", "psycopg2\n", &["--image", ALPINE]);
    assert!(
        run.stdout.contains("    binary twin: psycopg2-binary ("),
        "{}",
        run.stdout
    );
    let human = world.run("psycopg2\n", &["--image", ALPINE]);
    assert!(
        human
            .stdout
            .contains("      or install psycopg2-binary instead (a wheel here); caveat:"),
        "{}",
        human.stdout
    );
}

#[test]
fn a_wheel_is_never_offered_a_twin() {
    let world = World::new(vec![(
        "psycopg2",
        vec![IndexFile::from(wheel(
            &Meta::new("psycopg2", "2.9.9"),
            MUSL_TAG,
            &[],
        ))],
    )]);
    let (report, _) = world.json("psycopg2\n", &[ALPINE]);
    let psycopg2 = package(&report, ALPINE, "x86_64", "psycopg2");
    assert_eq!(psycopg2["kind"], "wheel");
    assert_eq!(psycopg2["binary_twins"], serde_json::json!([]));
}

#[test]
fn why_of_a_package_not_in_the_tree_is_an_input_error_with_a_near_name() {
    let world = World::new(tree());
    let run = why(&world, "nothere", "app\n", &["--image", SLIM]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains(
            "`nothere` is not in the dependency tree of requirements.txt on any checked image"
        ),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "{}", run.stdout);

    let mut projects = tree();
    projects.push(("pg-lite", vec![pure(Meta::new("pg-lite", "1.0"))]));
    let world = World::new(projects);
    let run = world.run("pg-lite\n", &["--image", SLIM, "--explain", "pglite"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr.contains("did you mean `pg-lite`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn explain_appends_the_explanation_to_the_report() {
    let world = World::new(tree());
    let run = world.run("app\n", &["--image", SLIM, "--explain", "mid"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let (report, explanation) = run.stdout.split_once("why mid\n").unwrap();
    assert!(
        report.starts_with("Use python:3.12-slim-trixie"),
        "{report}"
    );
    assert!(
        explanation.contains("    app -> mid  (requirements.txt:1)"),
        "{explanation}"
    );
}

#[test]
fn a_package_only_some_images_install_says_so_on_the_others() {
    let mut projects = tree();
    projects.push((
        "glibc-only",
        vec![pure(Meta::new("glibc-only", "1.0").dep(
            "leaf; sys_platform == 'linux' and platform_machine == 'aarch64'",
        ))],
    ));
    let world = World::new(projects);
    let run = why(
        &world,
        "leaf",
        "glibc-only\n",
        &["--image", SLIM, "--arch", "amd64", "--arch", "arm64"],
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stdout.contains(
            "python:3.12-slim-trixie (amd64): not installed here: no requirement that applies on this image pulls it in"
        ),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("python:3.12-slim-trixie (arm64): 1.0, wheel"),
        "{}",
        run.stdout
    );
}
