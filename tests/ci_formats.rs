//! CI formats and `--fail-on`, end to end against the fixture index: GitHub annotations on the
//! top-level requirement line, SARIF validated against the official 2.1.0 schema, Markdown
//! parsed back into headings, table cells and list items, the JSON `findings`, and the exit code
//! of every `--fail-on` level.

mod support;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use regex::Regex;
use serde_json::Value;
use support::elf::*;
use support::*;

const ALPINE: &str = "python:3.12-alpine3.24";
const SLIM: &str = "python:3.12-slim-trixie";
const FULL: &str = "python:3.12-trixie";
const GLIBC_TAG: &str = "cp312-cp312-manylinux_2_17_x86_64";
const MUSL_TAG: &str = "cp312-cp312-musllinux_1_2_x86_64";

/// Line 2 asks for `webapp`, which pulls in `middle`, which pulls in `fastcore`; line 3 asks
/// for `omp`.
const REQUIREMENTS: &str = "# the service\nwebapp\nomp\n";

fn pure(meta: Meta) -> IndexFile {
    IndexFile::from(wheel(&meta, "py3-none-any", &[]))
}

fn native(name: &str, tag: &str, so: &[u8]) -> IndexFile {
    let path = format!("{name}/_ext.so");
    IndexFile::from(wheel(&Meta::new(name, "1.0"), tag, &[(path.as_str(), so)]))
}

/// `fastcore` has a manylinux wheel and an sdist: Alpine builds it, Debian does not. `omp`'s
/// manylinux wheel needs libgomp, which slim lacks and the full image has; its musllinux wheel
/// needs nothing. So: Alpine needs a build, slim needs a package, full works.
fn world() -> World {
    let glibc_so = build_shared_object(&SharedObject {
        source: "int entry(void) { return 0; }".into(),
        needed_libs: vec![("libgomp.so.1".into(), "int stub(void) { return 1; }".into())],
        ..SharedObject::default()
    });
    World::new(vec![
        (
            "webapp",
            vec![pure(Meta::new("webapp", "1.0").dep("middle"))],
        ),
        (
            "middle",
            vec![pure(Meta::new("middle", "1.0").dep("fastcore"))],
        ),
        (
            "fastcore",
            vec![
                native("fastcore", GLIBC_TAG, &needing_nothing()),
                IndexFile::from(sdist_tar_gz(
                    &Meta::new("fastcore", "1.0").metadata_version("2.2"),
                    &[],
                )),
            ],
        ),
        (
            "omp",
            vec![
                native("omp", GLIBC_TAG, &glibc_so),
                native("omp", MUSL_TAG, &musl_object_needing(&[])),
            ],
        ),
    ])
}

fn needing_nothing() -> Vec<u8> {
    build_shared_object(&SharedObject {
        source: "int entry(void) { return 0; }".into(),
        ..SharedObject::default()
    })
}

fn images(list: &[&str]) -> Vec<String> {
    list.iter()
        .flat_map(|i| ["--image".into(), i.to_string()])
        .collect()
}

fn run(world: &World, requirements: &str, format: &str, extra: &[&str]) -> Run {
    let mut args = vec!["--format", format];
    args.extend_from_slice(extra);
    world.run(requirements, &args)
}

fn with_images<'a>(images: &'a [String], extra: &[&'a str]) -> Vec<&'a str> {
    let mut args: Vec<&str> = images.iter().map(String::as_str).collect();
    args.extend_from_slice(extra);
    args
}

#[test]
fn github_annotations_point_at_the_top_level_line_with_the_chain() {
    let world = world();
    let images = images(&[ALPINE, SLIM, FULL]);
    let out = run(&world, REQUIREMENTS, "github", &with_images(&images, &[]));
    assert_eq!(out.code, 1, "{}", out.stderr);
    let build = Regex::new(
        r"^::error file=requirements\.txt,line=2,title=Built from source%3A fastcore::fastcore 1\.0 has no wheel for this image: pip builds it from the sdist\. Pulled in by webapp → middle → fastcore\. Images: python:3\.12-alpine3\.24 \(amd64\)\. What to do: .*use an image with a wheel: python:3\.12-slim-trixie, python:3\.12-trixie",
    )
    .unwrap();
    assert_eq!(
        out.stdout.lines().filter(|l| build.is_match(l)).count(),
        1,
        "{}",
        out.stdout
    );
    let package = Regex::new(
        r"^::error file=requirements\.txt,line=3,title=Missing system library%3A omp::omp needs libgomp\.so\.1, which the image lacks\. Images: python:3\.12-slim-trixie \(amd64\)\. What to do: add `RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/\*`\.$",
    )
    .unwrap();
    assert!(
        out.stdout.lines().any(|l| package.is_match(l)),
        "{}",
        out.stdout
    );
    // Every line is one workflow command; the last one is the recommendation.
    assert!(out.stdout.lines().all(|l| l.starts_with("::")));
    assert!(
        out.stdout
            .lines()
            .last()
            .unwrap()
            .starts_with("::notice title=wheelcheck recommendation::Use ")
    );
}

#[test]
fn github_levels_follow_fail_on_and_included_files_keep_their_relative_path() {
    let world = world();
    std::fs::create_dir_all(world.dir.path().join("reqs")).unwrap();
    std::fs::write(world.dir.path().join("reqs/base.txt"), "\n\nwebapp\n").unwrap();
    let images = images(&[ALPINE]);
    let out = run(
        &world,
        "-r reqs/base.txt\n",
        "github",
        &with_images(&images, &["--fail-on", "unresolvable"]),
    );
    assert_eq!(
        out.code, 0,
        "a source build is below --fail-on unresolvable"
    );
    let warning = Regex::new(
        r"^::warning file=reqs/base\.txt,line=3,title=Built from source%3A fastcore::.*Pulled in by webapp → middle → fastcore\.",
    )
    .unwrap();
    assert!(
        out.stdout.lines().any(|l| warning.is_match(l)),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("::error"), "{}", out.stdout);
}

#[test]
fn every_fail_on_level_has_its_exit_code() {
    let world = world();
    // Alpine needs a build, slim needs a system package, full works.
    let all = images(&[ALPINE, SLIM, FULL]);
    let slim = images(&[SLIM]);
    let cases: [(&[String], &str, i32); 8] = [
        (&all, "system-packages", 1),
        (&all, "source-build", 1),
        (&all, "unresolvable", 0),
        (&all, "none", 0),
        (&slim, "system-packages", 1),
        (&slim, "source-build", 0),
        (&slim, "unresolvable", 0),
        (&slim, "none", 0),
    ];
    for (images, level, code) in cases {
        let out = run(
            &world,
            REQUIREMENTS,
            "json",
            &with_images(images, &["--fail-on", level]),
        );
        assert_eq!(out.code, code, "--fail-on {level} on {images:?}");
    }
    // Without --fail-on: as system-packages.
    assert_eq!(
        run(&world, REQUIREMENTS, "json", &with_images(&slim, &[])).code,
        1
    );
}

#[test]
fn an_image_that_cannot_install_fails_even_fail_on_unresolvable() {
    // Only a manylinux wheel: nothing pip can install on Alpine.
    let world = World::new(vec![(
        "glibconly",
        vec![native("glibconly", GLIBC_TAG, &needing_nothing())],
    )]);
    let images = images(&[ALPINE]);
    let out = run(
        &world,
        "glibconly\n",
        "json",
        &with_images(&images, &["--fail-on", "unresolvable"]),
    );
    assert_eq!(out.code, 1, "{}", out.stderr);
    let report = out.json();
    let findings = report["findings"].as_array().unwrap();
    assert_eq!(
        findings.len(),
        1,
        "the missing file explains the failure: {findings:#?}"
    );
    let finding = &findings[0];
    assert_eq!(finding["rule"], "no-installable-file", "{finding:#}");
    assert_eq!(finding["package"], "glibconly");
    assert_eq!(finding["severity"], "unresolvable");
    assert_eq!(finding["locations"][0]["line"], 1);
    let none = run(
        &world,
        "glibconly\n",
        "json",
        &with_images(&images, &["--fail-on", "none"]),
    );
    assert_eq!(none.code, 0);
}

#[test]
fn could_not_check_is_exit_3_at_every_level() {
    let world = world();
    world
        .index
        .set_fault("/simple/webapp/", Fault::Status(503, 100));
    let images = images(&[SLIM]);
    for level in ["none", "unresolvable"] {
        let out = run(
            &world,
            REQUIREMENTS,
            "github",
            &with_images(&images, &["--fail-on", level]),
        );
        assert_eq!(out.code, 3, "--fail-on {level}: {}", out.stderr);
        assert!(
            out.stdout
                .lines()
                .any(|l| l
                    .starts_with("::error file=requirements.txt,line=2,title=Could not check::")),
            "{}",
            out.stdout
        );
    }
}

#[test]
fn json_findings_name_package_line_chain_and_action() {
    let world = world();
    let images = images(&[ALPINE, SLIM]);
    let out = run(&world, REQUIREMENTS, "json", &with_images(&images, &[]));
    let report = out.json();
    assert_eq!(report["schema_version"], 1);
    let findings = report["findings"].as_array().unwrap();
    let build = findings
        .iter()
        .find(|f| f["rule"] == "source-build")
        .expect("a source-build finding");
    assert_eq!(build["package"], "fastcore");
    assert_eq!(
        build["chain"],
        serde_json::json!(["webapp", "middle", "fastcore"])
    );
    assert_eq!(
        build["locations"],
        serde_json::json!([{"file": "requirements.txt", "line": 2}])
    );
    assert_eq!(
        build["targets"],
        serde_json::json!(["python:3.12-alpine3.24 (amd64)"])
    );
    assert!(
        build["action"]
            .as_str()
            .unwrap()
            .contains("use an image with a wheel: python:3.12-slim-trixie")
    );
    let missing = findings
        .iter()
        .find(|f| f["rule"] == "missing-system-library")
        .expect("a missing-system-library finding");
    assert_eq!(missing["package"], "omp");
    assert_eq!(missing["severity"], "system-packages");
    // Most serious first.
    let order: Vec<&str> = findings
        .iter()
        .map(|f| f["severity"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["source-build", "system-packages"]);
}

#[test]
fn sarif_is_valid_against_the_official_schema_and_located_on_the_line() {
    let world = world();
    let images = images(&[ALPINE, SLIM, FULL]);
    let out = run(
        &world,
        REQUIREMENTS,
        "sarif",
        &with_images(&images, &["--fail-on", "source-build"]),
    );
    assert_eq!(out.code, 1);
    let log: Value = serde_json::from_str(&out.stdout).unwrap();
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(&log)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{errors:#?}");

    let run = &log["runs"][0];
    let driver = &run["tool"]["driver"];
    assert_eq!(driver["name"], "wheelcheck");
    let rules: Vec<&str> = driver["rules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap())
        .collect();
    let results = run["results"].as_array().unwrap();
    let build = results
        .iter()
        .find(|r| r["ruleId"] == "source-build")
        .unwrap();
    assert_eq!(build["level"], "error");
    assert_eq!(
        rules[build["ruleIndex"].as_u64().unwrap() as usize],
        "source-build"
    );
    let physical = &build["locations"][0]["physicalLocation"];
    assert_eq!(physical["artifactLocation"]["uri"], "requirements.txt");
    assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(physical["region"]["startLine"], 2);
    assert!(
        build["message"]["text"]
            .as_str()
            .unwrap()
            .contains("webapp → middle → fastcore")
    );
    // Below the --fail-on level: a warning.
    let missing = results
        .iter()
        .find(|r| r["ruleId"] == "missing-system-library")
        .unwrap();
    assert_eq!(missing["level"], "warning");
    assert_eq!(
        missing["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
}

#[test]
fn the_schema_check_catches_a_broken_log() {
    // The validation above means something: a result without a message is refused.
    let schema: Value =
        serde_json::from_str(include_str!("fixtures/sarif-schema-2.1.0.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let broken = serde_json::json!({
        "version": "2.1.0",
        "runs": [{"tool": {"driver": {"name": "x"}}, "results": [{"ruleId": "a"}]}]
    });
    assert!(!validator.is_valid(&broken));
}

/// A Markdown document as the parts a test looks at.
#[derive(Default)]
struct Markdown {
    headings: Vec<String>,
    /// Rows of every table, header row included, as cell texts.
    rows: Vec<Vec<String>>,
    items: Vec<String>,
    code_blocks: Vec<String>,
}

fn parse_markdown(text: &str) -> Markdown {
    let mut doc = Markdown::default();
    let mut current = String::new();
    let mut row: Vec<String> = Vec::new();
    for event in Parser::new_ext(text, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::Heading { .. } | Tag::TableCell | Tag::Item | Tag::CodeBlock(_)) => {
                current.clear()
            }
            Event::Text(t) | Event::Code(t) => current.push_str(&t),
            Event::SoftBreak | Event::HardBreak => current.push(' '),
            Event::End(TagEnd::Heading(_)) => doc.headings.push(current.clone()),
            Event::End(TagEnd::TableCell) => row.push(current.clone()),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => {
                doc.rows.push(std::mem::take(&mut row))
            }
            Event::End(TagEnd::Item) => doc.items.push(current.clone()),
            Event::End(TagEnd::CodeBlock) => doc.code_blocks.push(current.clone()),
            _ => {}
        }
    }
    doc
}

#[test]
fn markdown_leads_with_the_recommendation_then_the_table_then_the_findings() {
    let world = world();
    let images = images(&[ALPINE, SLIM]);
    let out = run(&world, REQUIREMENTS, "markdown", &with_images(&images, &[]));
    assert_eq!(out.code, 1);
    let doc = parse_markdown(&out.stdout);
    assert_eq!(
        doc.headings,
        [
            format!("wheelcheck: use {SLIM} (works-with-packages)"),
            "Images".to_string(),
            "Findings (2)".to_string(),
        ],
        "{}",
        out.stdout
    );
    assert_eq!(
        doc.code_blocks,
        [format!(
            "FROM {SLIM}\nRUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*\n"
        )]
    );
    assert_eq!(
        doc.rows[0],
        [
            "image",
            "arch",
            "verdict",
            "wheels",
            "sdists",
            "packages to add",
            "size"
        ]
    );
    let alpine = doc.rows.iter().find(|r| r[0] == ALPINE).unwrap();
    assert_eq!(alpine[1..5], ["amd64", "needs-build", "3", "1"]);
    let slim = doc.rows.iter().find(|r| r[0] == SLIM).unwrap();
    assert_eq!(
        slim[1..6],
        ["amd64", "works-with-packages", "4", "0", "libgomp1"]
    );
    assert!(slim[6].ends_with(" MB"), "{slim:?}");
    let build = doc
        .items
        .iter()
        .find(|i| i.contains("source-build"))
        .unwrap();
    assert!(
        build.starts_with("error source-build fastcore at requirements.txt:2: "),
        "{build}"
    );
    assert!(
        build.contains("Pulled in by webapp → middle → fastcore."),
        "{build}"
    );
    assert!(build.contains("What to do:"), "{build}");
    // The Dockerfile line in an action is a code span, shown as written.
    let missing = doc
        .items
        .iter()
        .find(|i| i.contains("missing-system-library"))
        .unwrap();
    assert!(
        missing.contains("What to do: add RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*"),
        "{missing}"
    );
}
