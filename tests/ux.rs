//! What a person sees: colour only when asked for or on a terminal, no progress drawing into
//! pipes, the answer on the first screen, `--dockerfile` as input, completions and the manual.

mod support;

use std::process::Command;

use support::elf::*;
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";
const FULL: &str = "python:3.12-trixie";
const BOOKWORM: &str = "python:3.12-slim-bookworm";
const GLIBC_TAG: &str = "cp312-cp312-manylinux_2_17_x86_64";
const RUN_LIBGOMP: &str = "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*";

fn pure(name: &str, version: &str) -> IndexFile {
    let module = format!("{}/__init__.py", name.replace('-', "_"));
    IndexFile::from(wheel(
        &Meta::new(name, version),
        "py3-none-any",
        &[(module.as_str(), b"")],
    ))
}

/// `boost` needs libgomp (which slim lacks), and `pure_count` pure-Python packages make the
/// package table long.
fn boost_world(pure_count: usize) -> (World, String) {
    let so = build_shared_object(&SharedObject {
        source: "int entry(void) { return 0; }".into(),
        soname: None,
        links: Vec::new(),
        rpath: None,
        old_rpath: false,
        needed_libs: vec![("libgomp.so.1".into(), "int stub(void) { return 1; }".into())],
    });
    let boost = IndexFile::from(wheel(
        &Meta::new("boost", "1.0"),
        GLIBC_TAG,
        &[("boost/_ext.so", so.as_slice())],
    ));
    let names: Vec<String> = (0..pure_count).map(|i| format!("pure-{i:02}")).collect();
    let mut projects = vec![("boost", vec![boost])];
    let files: Vec<IndexFile> = names.iter().map(|n| pure(n, "1.0")).collect();
    projects.extend(
        names
            .iter()
            .map(String::as_str)
            .zip(files.into_iter().map(|f| vec![f])),
    );
    let mut requirements = String::from("boost\n");
    for name in &names {
        requirements.push_str(&format!("{name}\n"));
    }
    (World::new(projects), requirements)
}

/// The text without ANSI escape sequences (`ESC [ ... letter`).
fn strip_ansi(text: &str) -> String {
    let mut out = String::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[test]
fn colour_only_with_color_always_and_never_with_no_color_or_a_pipe() {
    let (world, requirements) = boost_world(2);
    let images = ["--image", SLIM, "--image", FULL];
    // The test harness sets NO_COLOR=1, and standard output is a pipe.
    let plain = world.run(&requirements, &images);
    assert!(!plain.stdout.contains('\u{1b}'), "{}", plain.stdout);
    let always = world.run(
        &requirements,
        &[&images[..], &["--color", "always"]].concat(),
    );
    assert!(always.stdout.contains("\u{1b}["), "{}", always.stdout);
    assert_eq!(always.code, plain.code);
    // Colour changes how the words look, never what they say.
    assert_eq!(strip_ansi(&always.stdout), plain.stdout);
    let first = always.stdout.lines().next().unwrap();
    assert!(
        first.contains(&format!("{SLIM}\u{1b}[0m")),
        "the image is styled: {first:?}"
    );
    // An empty NO_COLOR does not count, but a pipe is still no terminal.
    let url = world.index.simple_url();
    let piped = wheelcheck_with_env(
        world.dir.path(),
        world.cache.path(),
        &[
            "requirements.txt",
            "--index-url",
            &url,
            "--python",
            "3.12",
            "--image",
            SLIM,
        ],
        &[("NO_COLOR", "")],
    );
    assert!(!piped.stdout.contains('\u{1b}'), "{}", piped.stdout);
    let never = world.run(
        &requirements,
        &[&images[..], &["--color", "never"]].concat(),
    );
    assert_eq!(never.stdout, plain.stdout);
}

#[test]
fn no_progress_is_drawn_when_stderr_is_not_a_terminal() {
    let (world, requirements) = boost_world(3);
    for extra in [&[][..], &["-v"][..]] {
        let args = [&["--image", SLIM][..], extra].concat();
        let run = world.run(&requirements, &args);
        assert!(
            !run.stderr.contains('\r') && !run.stderr.contains('\u{1b}'),
            "progress drawing in a pipe: {:?}",
            run.stderr
        );
        assert!(run.stdout.starts_with("Use "), "{}", run.stdout);
    }
}

#[test]
fn the_first_screen_shows_the_image_to_use_and_the_line_to_add() {
    let (world, requirements) = boost_world(40);
    let run = world.run(&requirements, &["--image", SLIM, "--image", FULL]);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines.len() > 40,
        "the report is longer than a screen: {}",
        run.stdout
    );
    let screen = lines[..24].join("\n");
    assert!(
        screen.contains(&format!("Use {SLIM} (works-with-packages")),
        "{screen}"
    );
    assert!(screen.contains(RUN_LIBGOMP), "{screen}");
}

/// A project with a Dockerfile in `app/`: requirements copied into a directory, constraints to
/// /tmp, a `--platform` and an `ARG` for the Python version, a stage built on a stage.
fn dockerfile_project(world: &World, dockerfile: &str) -> std::path::PathBuf {
    let app = world.dir.path().join("app");
    std::fs::create_dir_all(app.join("requirements")).unwrap();
    std::fs::write(app.join("requirements/prod.txt"), "# prod\nwebfw\n").unwrap();
    std::fs::write(app.join("constraints.txt"), "helper==1.0\n").unwrap();
    std::fs::write(app.join("Dockerfile"), dockerfile).unwrap();
    app.join("Dockerfile")
}

const PROJECT_DOCKERFILE: &str = "# syntax=docker/dockerfile:1
ARG PY=3.12
FROM --platform=linux/arm64 python:${PY}-slim-bookworm@sha256:0000000000000000 AS build
WORKDIR /src
COPY requirements/ requirements/
COPY constraints.txt /tmp/
RUN apt-get update && \\
    python -m pip install --no-cache-dir \\
      -r requirements/prod.txt \\
      -c /tmp/constraints.txt
FROM build AS final
CMD [\"python\", \"-m\", \"webfw\"]
";

fn webfw_world() -> World {
    World::new(vec![
        (
            "webfw",
            vec![IndexFile::from(wheel(
                &Meta::new("webfw", "2.0").dep("helper"),
                "py3-none-any",
                &[("webfw/__init__.py", b"")],
            ))],
        ),
        ("helper", vec![pure("helper", "1.0"), pure("helper", "2.0")]),
    ])
}

#[test]
fn a_dockerfile_gives_the_image_arch_and_requirements_to_check() {
    let world = webfw_world();
    dockerfile_project(&world, PROJECT_DOCKERFILE);
    let url = world.index.simple_url();
    let run = wheelcheck(
        world.dir.path(),
        world.cache.path(),
        &[
            "--dockerfile",
            "app/Dockerfile",
            "--index-url",
            &url,
            "--format",
            "json",
        ],
    );
    let report = run.json();
    let targets = report["targets"].as_array().unwrap();
    assert_eq!(targets.len(), 1, "{report:#}");
    assert_eq!(targets[0]["image"], BOOKWORM);
    assert_eq!(targets[0]["arch"], "aarch64", "--platform=linux/arm64");
    assert_eq!(report["python"], "3.12");
    let webfw = package(&report, BOOKWORM, "aarch64", "webfw");
    assert_eq!(webfw["requested"], true);
    assert_eq!(
        webfw["lines"][0], "app/requirements/prod.txt:2",
        "{webfw:#}"
    );
    // The -c file is read as constraints: helper stays at 1.0.
    let helper = package(&report, BOOKWORM, "aarch64", "helper");
    assert_eq!(helper["version"], "1.0", "{helper:#}");
    assert_eq!(helper["requested"], false);
    assert_eq!(run.code, 0, "{}", run.stderr);

    // The command line still wins: another image, another arch, another file.
    std::fs::write(world.dir.path().join("other.txt"), "helper\n").unwrap();
    let overridden = wheelcheck(
        world.dir.path(),
        world.cache.path(),
        &[
            "other.txt",
            "--dockerfile",
            "app/Dockerfile",
            "--index-url",
            &url,
            "--format",
            "json",
            "--image",
            SLIM,
            "--arch",
            "amd64",
        ],
    )
    .json();
    let helper = package(&overridden, SLIM, "x86_64", "helper");
    assert_eq!(helper["version"], "2.0");
    assert!(
        overridden["targets"][0]["packages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["name"] != "webfw")
    );
}

#[test]
fn dockerfile_errors_name_the_file_and_line() {
    let world = webfw_world();
    let url = world.index.simple_url();
    let run_with = |dockerfile: &str| {
        dockerfile_project(&world, dockerfile);
        wheelcheck(
            world.dir.path(),
            world.cache.path(),
            &["--dockerfile", "app/Dockerfile", "--index-url", &url],
        )
    };
    let node = run_with(
        "FROM python:3.12 AS build\nRUN pip install -r requirements/prod.txt\n\nFROM node:22-slim\nCOPY --from=build /usr/local /usr/local\n",
    );
    assert_eq!(node.code, 2, "{}", node.stderr);
    assert!(
        node.stderr
            .contains("app/Dockerfile:4: the final stage's base image is node:22-slim")
            && node.stderr.contains("python:<tag>")
            && node.stderr.contains("--image"),
        "{}",
        node.stderr
    );
    let missing = run_with(
        "FROM python:3.12-slim\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements/missing.txt\n",
    );
    assert_eq!(missing.code, 2, "{}", missing.stderr);
    assert!(
        missing
            .stderr
            .contains("app/Dockerfile:4: pip reads requirements/missing.txt")
            && missing.stderr.contains("build context"),
        "{}",
        missing.stderr
    );
    let absent = wheelcheck(
        world.dir.path(),
        world.cache.path(),
        &["--dockerfile", "no/Dockerfile", "--index-url", &url],
    );
    assert_eq!(absent.code, 2);
    assert!(
        absent
            .stderr
            .contains("no/Dockerfile: cannot read the Dockerfile"),
        "{}",
        absent.stderr
    );
    let none = run_with("FROM python:3.12-slim\nRUN pip install flask\n");
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("no `pip install -r FILE` line"),
        "{}",
        none.stderr
    );
}

fn run_plain(args: &[&str]) -> (i32, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_wheelcheck"))
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
    )
}

#[test]
fn completion_scripts_know_the_options() {
    let (code, bash) = run_plain(&["completions", "bash"]);
    assert_eq!(code, 0);
    assert!(bash.contains("complete -F"), "{bash}");
    for option in ["--python", "--image", "--arch", "--dockerfile", "--color"] {
        assert!(bash.contains(option), "bash completion lacks {option}");
    }
    for shell in ["zsh", "fish"] {
        let (code, script) = run_plain(&["completions", shell]);
        assert_eq!(code, 0);
        assert!(
            script.contains("python") && script.contains("dockerfile"),
            "{script}"
        );
    }
    let (code, _) = run_plain(&["completions", "tcsh"]);
    assert_eq!(code, 2, "an unknown shell is a usage error");
}

#[test]
fn the_manual_page_is_valid_roff_with_the_options() {
    let (code, page) = run_plain(&["man"]);
    assert_eq!(code, 0);
    assert!(page.contains(".TH wheelcheck 1"), "{page}");
    assert!(page.contains(".SH OPTIONS"), "{page}");
    for option in ["\\-\\-python", "\\-\\-image", "\\-\\-dockerfile"] {
        assert!(page.contains(option), "the manual lacks {option}");
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wheelcheck.1");
    std::fs::write(&file, &page).unwrap();
    // Where groff is installed, it must read the page without a warning.
    if let Ok(output) = Command::new("groff")
        .args(["-man", "-ww", "-z"])
        .arg(&file)
        .output()
    {
        assert!(
            output.status.success() && output.stderr.is_empty(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if let Ok(output) = Command::new("man")
        .arg("-l")
        .arg(&file)
        .env("MANPAGER", "cat")
        .env("MANWIDTH", "100")
        .output()
    {
        let text = String::from_utf8_lossy(&output.stdout);
        assert!(
            text.contains("--python") && text.contains("OPTIONS"),
            "{text}"
        );
    }
}
