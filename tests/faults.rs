//! What wheelcheck says when the index misbehaves, and that credentials are used but never shown.
//!
//! Every test pins the exact outcome: the exit code, the target's `verdict` and
//! `resolution.could_not_check`, the message (naming the URL, without credentials), and where it
//! matters the requests the fixture index saw. No fault may ever end in `works`.

mod support;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::dist::base64;
use support::elf::{SharedObject, build_shared_object};
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";
const PAGE: &str = "/simple/alpha/";
const WHEEL: &str = "alpha-1.0-py3-none-any.whl";

fn any(name: &str, version: &str) -> IndexFile {
    IndexFile::from(wheel(&Meta::new(name, version), "py3-none-any", &[]))
}

/// `alpha` (a pure wheel) and `beta` (only an sdist).
fn world() -> World {
    World::new(vec![
        ("alpha", vec![any("alpha", "1.0")]),
        (
            "beta",
            vec![IndexFile::from(sdist_tar_gz(
                &Meta::new("beta", "1.0").metadata_version("2.2"),
                &[],
            ))],
        ),
    ])
}

/// A wheel of `name` 1.0 holding `extra` (path, bytes).
fn wheel_with(name: &str, extra: &[(&str, &[u8])]) -> IndexFile {
    IndexFile::from(wheel(&Meta::new(name, "1.0"), "py3-none-any", extra))
}

/// A run of wheelcheck: its own HOME (no netrc of whoever runs the tests), no pip variables.
struct Call<'a> {
    world: &'a World,
    index_url: String,
    args: Vec<String>,
    home: Option<&'a Path>,
}

impl<'a> Call<'a> {
    fn new(world: &'a World) -> Self {
        Call {
            world,
            index_url: world.index.simple_url(),
            args: Vec::new(),
            home: None,
        }
    }

    fn index_url(mut self, url: String) -> Self {
        self.index_url = url;
        self
    }

    fn home(mut self, home: &'a Path) -> Self {
        self.home = Some(home);
        self
    }

    fn args(mut self, args: &[&str]) -> Self {
        self.args.extend(args.iter().map(|a| a.to_string()));
        self
    }

    fn run(&self, requirements: &str) -> Run {
        let dir = self.world.dir.path();
        std::fs::write(dir.join("requirements.txt"), requirements).unwrap();
        let default_home = dir.join("home");
        std::fs::create_dir_all(&default_home).unwrap();
        let home = self.home.unwrap_or(&default_home);
        let output = Command::new(env!("CARGO_BIN_EXE_wheelcheck"))
            .args([
                "requirements.txt",
                "--index-url",
                &self.index_url,
                "--python",
                "3.12",
                "--image",
                SLIM,
            ])
            .args(&self.args)
            .current_dir(dir)
            .env("WHEELCHECK_CACHE_DIR", self.world.cache.path())
            .env("HOME", home)
            .env_remove("NETRC")
            .env_remove("PIP_INDEX_URL")
            .env_remove("PIP_EXTRA_INDEX_URL")
            .env("NO_COLOR", "1")
            .output()
            .expect("run wheelcheck");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn json(self, requirements: &str) -> Run {
        self.args(&["--format", "json"]).run(requirements)
    }
}

fn slim(report: &Value) -> &Value {
    target(report, SLIM, "x86_64")
}

fn error_of(report: &Value) -> String {
    slim(report)["resolution"]["error"]
        .as_str()
        .unwrap_or_else(|| panic!("no resolution error in {report:#}"))
        .to_string()
}

/// The outcome every fault that hits needed data must give: exit 3, verdict unknown, could not
/// check; returns the resolution's error.
fn assert_could_not_check(run: &Run) -> String {
    let report = run.json();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(slim(&report)["verdict"], "unknown", "{report:#}");
    assert_eq!(slim(&report)["resolution"]["ok"], false);
    assert_eq!(slim(&report)["resolution"]["could_not_check"], true);
    assert_ne!(report["recommendation"]["verdict"], "works");
    error_of(&report)
}

fn statuses(index: &FixtureIndex, path: &str) -> Vec<u16> {
    index
        .requests()
        .iter()
        .filter(|r| r.path == path)
        .map(|r| r.status)
        .collect()
}

/// `network: N requests, B bytes downloaded, ...` from a `-v` run.
fn network_line(run: &Run) -> (u64, u64) {
    let line = run
        .stderr
        .lines()
        .find(|l| l.starts_with("network: "))
        .unwrap_or_else(|| panic!("no network line:\n{}", run.stderr));
    let numbers: Vec<u64> = line
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|n| n.parse().ok())
        .collect();
    (numbers[0], numbers[1])
}

// ---------------------------------------------------------------------------------------------
// Retries

#[test]
fn a_page_answering_503_twice_is_retried_with_backoff_and_then_works() {
    let world = world();
    world.index.set_fault(PAGE, Fault::Status(503, 2));
    let started = Instant::now();
    let run = Call::new(&world).json("alpha\n");
    let report = run.json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(slim(&report)["verdict"], "works");
    assert_eq!(slim(&report)["resolution"]["could_not_check"], false);
    assert_eq!(statuses(&world.index, PAGE), [503, 503, 200]);
    // 400 ms then 800 ms between the attempts.
    assert!(started.elapsed() >= Duration::from_millis(1200));
}

#[test]
fn a_wheel_answering_500_once_is_retried_once() {
    let world = world();
    world
        .index
        .set_fault(&format!("/files/{WHEEL}"), Fault::Status(500, 1));
    let run = Call::new(&world).json("alpha\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(slim(&run.json())["verdict"], "works");
    assert_eq!(
        statuses(&world.index, &format!("/files/{WHEEL}")),
        [500, 206]
    );
}

#[test]
fn a_page_failing_every_attempt_is_given_up_after_three_and_could_not_check() {
    let world = world();
    world.index.set_fault(PAGE, Fault::Status(503, 100));
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    let url = format!("{}alpha/", world.index.simple_url());
    assert!(
        error.contains(&format!("{url} answered HTTP 503 (tried 3 times)")),
        "{error}"
    );
    assert_eq!(statuses(&world.index, PAGE), [503, 503, 503]);
}

// ---------------------------------------------------------------------------------------------
// Broken answers

#[test]
fn a_hanging_index_stops_at_the_deadline_naming_the_url_and_the_flag() {
    let world = world();
    world.index.set_fault(PAGE, Fault::Hang);
    let started = Instant::now();
    let run = Call::new(&world).args(&["--timeout", "2"]).json("alpha\n");
    let elapsed = started.elapsed();
    let error = assert_could_not_check(&run);
    let url = format!("{}alpha/", world.index.simple_url());
    assert!(
        error.contains(&format!(
            "{url}: stopped by the run's deadline (--timeout 2 s) before the answer was complete; raise it with --timeout SECONDS"
        )),
        "{error}"
    );
    assert!(
        run.stderr.contains(
            "error: the run's deadline (--timeout 2 s) passed with requests unfinished; raise it with --timeout SECONDS"
        ),
        "{}",
        run.stderr
    );
    assert!(elapsed < Duration::from_secs(15), "took {elapsed:?}");
    assert_eq!(
        statuses(&world.index, PAGE),
        [0],
        "one request, never answered"
    );
}

#[test]
fn a_page_reset_mid_body_is_retried_then_could_not_check() {
    let world = world();
    world.index.set_fault(PAGE, Fault::ResetMidBody);
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    let url = format!("{}alpha/", world.index.simple_url());
    assert!(
        error.contains(&format!(
            "{url}: the connection broke while reading the answer"
        )) && error.ends_with("(tried 3 times)"),
        "{error}"
    );
    assert_eq!(statuses(&world.index, PAGE).len(), 3);
}

#[test]
fn a_wheel_reset_mid_body_is_could_not_check() {
    let world = world();
    let path = format!("/files/{WHEEL}");
    world.index.set_fault(&path, Fault::ResetMidBody);
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    assert!(
        error.contains(&format!(
            "{}: the connection broke while reading the answer",
            world.index.file_url(WHEEL)
        )),
        "{error}"
    );
    assert_eq!(statuses(&world.index, &path).len(), 3);
}

#[test]
fn a_truncated_json_page_is_could_not_check() {
    let world = world();
    world.index.set_fault(PAGE, Fault::TruncateBody(20));
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    let url = format!("{}alpha/", world.index.simple_url());
    assert!(
        error.contains(&format!(
            "{url}: the connection broke while reading the answer"
        )),
        "{error}"
    );
}

#[test]
fn an_invalid_json_page_is_could_not_check_and_not_cached() {
    let world = world();
    world.index.set_fault(
        PAGE,
        Fault::BodyOverride(b"{\"files\": [{\"filename\": ".to_vec()),
    );
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    let url = format!("{}alpha/", world.index.simple_url());
    assert!(
        error.contains(&format!("{url}: invalid JSON simple-API page")),
        "{error}"
    );
    assert_eq!(
        statuses(&world.index, PAGE),
        [200],
        "a bad page is not retried"
    );

    // The broken page was not cached: the next run asks again and works.
    world.index.clear_faults();
    world.index.clear_log();
    let run = Call::new(&world).json("alpha\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(slim(&run.json())["verdict"], "works");
    assert_eq!(statuses(&world.index, PAGE), [200]);
}

// ---------------------------------------------------------------------------------------------
// Range requests

#[test]
fn a_server_ignoring_ranges_is_read_once_and_never_past_the_file() {
    let so = build_shared_object(&SharedObject {
        source: "int entry(void) { return 0; }".into(),
        ..SharedObject::default()
    });
    let native = IndexFile::from(wheel(
        &Meta::new("gamma", "1.0"),
        "cp312-cp312-manylinux_2_17_x86_64",
        &[("gamma/_ext.so", &so)],
    ));
    let gamma_file = native.built.filename.clone();
    let gamma_size = native.built.bytes.len() as u64;
    let alpha = any("alpha", "1.0");
    let alpha_size = alpha.built.bytes.len() as u64;
    let world = World::new(vec![("alpha", vec![alpha]), ("gamma", vec![native])]);
    world.index.set_fault("/files/", Fault::IgnoreRange);
    let run = Call::new(&world).args(&["-v"]).json("alpha\ngamma\n");
    let report = run.json();
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(slim(&report)["verdict"], "works", "{report:#}");
    assert_eq!(
        package(&report, SLIM, "x86_64", "gamma")["elf"]["analysis"],
        "done"
    );
    // The pure wheel: one request, its bytes kept for the directory and METADATA.
    let alpha_requests = world
        .index
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/files/{WHEEL}"))
        .count();
    assert_eq!(alpha_requests, 1);
    // The native one: its head, then the ELF member (read up to the member, not further).
    let gamma_requests: Vec<Logged> = world
        .index
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/files/{gamma_file}"))
        .collect();
    assert_eq!(gamma_requests.len(), 2, "{gamma_requests:?}");
    assert!(gamma_requests.iter().all(|r| r.status == 200));
    let pages: u64 = world
        .index
        .requests()
        .iter()
        .filter(|r| r.path.starts_with("/simple/"))
        .map(|r| r.bytes_sent as u64)
        .sum();
    let (_, downloaded) = network_line(&run);
    assert!(
        downloaded <= pages + alpha_size + 2 * gamma_size,
        "read {downloaded} bytes for files of {alpha_size} + {gamma_size} (twice) and pages of {pages}"
    );
}

/// A wheel larger than 64 KiB + 100 KiB whose bytes do not compress.
fn big_world() -> (World, String) {
    let mut noise = Vec::with_capacity(300_000);
    let mut x: u32 = 0x1234_5678;
    while noise.len() < 300_000 {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        noise.extend_from_slice(&x.to_le_bytes());
    }
    let big = wheel_with("big", &[("big/data.bin", &noise)]);
    let filename = big.built.filename.clone();
    assert!(big.built.bytes.len() > 300_000);
    (World::new(vec![("big", vec![big])]), filename)
}

#[test]
fn a_server_ignoring_ranges_on_a_file_over_the_limit_fails_clearly_without_reading_it() {
    // With ranges, 100 KiB answers suffice.
    let (world, _) = big_world();
    let run = Call::new(&world)
        .args(&["--max-response-size", "100K"])
        .json("big\n");
    assert_eq!(run.code, 0, "{}", run.stderr);

    let (world, filename) = big_world();
    world.index.set_fault("/files/", Fault::IgnoreRange);
    let run = Call::new(&world)
        .args(&["--max-response-size", "100K", "-v"])
        .json("big\n");
    let error = assert_could_not_check(&run);
    assert!(
        error.contains(&format!(
            "{}: the server ignores range requests, and reading this file up to the bytes needed",
            world.index.file_url(&filename)
        )) && error.contains(
            "is more than --max-response-size allows (102400 bytes); raise it with --max-response-size BYTES"
        ),
        "{error}"
    );
    assert!(
        run.stderr.contains("error: an answer was larger than --max-response-size (102400 bytes); raise it with --max-response-size BYTES"),
        "{}",
        run.stderr
    );
    let (_, downloaded) = network_line(&run);
    assert!(downloaded < 100_000, "read {downloaded} bytes");
}

#[test]
fn a_wrong_content_range_is_rejected() {
    let world = world();
    world.index.set_fault("/files/", Fault::WrongContentRange);
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    assert!(
        error.contains(&format!(
            "{}: bad answer to a range request: Content-Range `bytes 1-",
            world.index.file_url(WHEEL)
        )) && error.contains("gives the file's size as"),
        "{error}"
    );
    assert_eq!(
        statuses(&world.index, &format!("/files/{WHEEL}")),
        [206],
        "a bad range answer is not retried"
    );
}

// ---------------------------------------------------------------------------------------------
// Hashes

#[test]
fn an_sdist_whose_sha256_differs_from_the_index_is_rejected_and_not_cached() {
    let world = world();
    let other = sdist_tar_gz(&Meta::new("beta", "1.0").dep("alpha"), &[]);
    world
        .index
        .set_fault("/files/beta-1.0.tar.gz", Fault::BodyOverride(other.bytes));
    let run = Call::new(&world).json("beta\n");
    let error = assert_could_not_check(&run);
    assert!(
        error.contains(&format!(
            "{}: sha256 {} differs from the index's ",
            world.index.file_url("beta-1.0.tar.gz"),
            other.sha256
        )) && error.contains("the file is rejected"),
        "{error}"
    );
    assert!(
        !world.index.requests().iter().any(|r| r.path == PAGE),
        "nothing read from the rejected sdist was used"
    );

    world.index.clear_faults();
    let run = Call::new(&world).json("beta\n");
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(slim(&run.json())["verdict"], "needs-build");
}

/// The fixture wheel with one byte of its first local header (a modification time, which
/// range reads never compare) changed: same size, valid zip, different sha256.
fn tampered_wheel(world: &World) -> Vec<u8> {
    let path = format!("/files/{WHEEL}");
    let _ = world;
    let original = any("alpha", "1.0").built.bytes;
    let mut tampered = original.clone();
    tampered[10] ^= 0xff;
    assert_eq!(
        &tampered[..4],
        b"PK\x03\x04",
        "{path} starts with a local header"
    );
    tampered
}

#[test]
fn verify_hashes_downloads_wheels_whole_and_rejects_one_that_differs() {
    let world = world();
    let tampered = tampered_wheel(&world);
    world.index.set_fault(
        &format!("/files/{WHEEL}"),
        Fault::BodyOverride(tampered.clone()),
    );
    // Range reads cannot see it: the run works, and says the hash was not verified.
    let run = Call::new(&world).json("alpha\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let report = run.json();
    assert_eq!(slim(&report)["verdict"], "works");
    assert_eq!(
        package(&report, SLIM, "x86_64", "alpha")["sha256_verified"],
        false
    );

    let run = Call::new(&world).args(&["--verify-hashes"]).json("alpha\n");
    let report = run.json();
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    assert_eq!(slim(&report)["verdict"], "unknown", "{report:#}");
    assert_ne!(report["recommendation"]["verdict"], "works");
    let alpha = package(&report, SLIM, "x86_64", "alpha");
    let message = alpha["elf"]["analysis"].as_str().unwrap_or_default();
    assert!(
        message.contains(&format!(
            "{}: sha256 {} differs from the index's ",
            world.index.file_url(WHEEL),
            support::dist::sha256_hex(&tampered)
        )) && message.contains("the file is rejected"),
        "{alpha:#}"
    );
    assert_eq!(alpha["sha256_verified"], false);
}

#[test]
fn a_verified_wheel_is_marked_and_not_downloaded_again() {
    let world = world();
    let wheel_path = format!("/files/{WHEEL}");
    let wheel_requests = |world: &World| {
        world
            .index
            .requests()
            .iter()
            .filter(|r| r.path == wheel_path)
            .count()
    };
    let run = Call::new(&world)
        .args(&["--verify-hashes"])
        .json("alpha\nbeta\n");
    assert_eq!(run.code, 1, "{}", run.stderr);
    let report = run.json();
    assert_eq!(
        package(&report, SLIM, "x86_64", "alpha")["sha256_verified"],
        true
    );
    assert_eq!(
        package(&report, SLIM, "x86_64", "beta")["sha256_verified"],
        true,
        "sdists are always downloaded whole and checked"
    );
    let first_run = wheel_requests(&world);

    let run = Call::new(&world)
        .args(&["--verify-hashes"])
        .json("alpha\nbeta\n");
    assert_eq!(
        package(&run.json(), SLIM, "x86_64", "alpha")["sha256_verified"],
        true
    );
    assert_eq!(wheel_requests(&world), first_run, "the match was cached");
}

#[test]
fn verify_hashes_refuses_a_wheel_the_index_gives_no_sha256_for() {
    let mut alpha = any("alpha", "1.0");
    alpha.built.sha256 = String::new();
    let world = World::new(vec![("alpha", vec![alpha])]);
    let run = Call::new(&world).args(&["--verify-hashes"]).json("alpha\n");
    assert_eq!(run.code, 3, "{}\n{}", run.stdout, run.stderr);
    let report = run.json();
    let alpha = package(&report, SLIM, "x86_64", "alpha");
    assert!(
        alpha["elf"]["analysis"]
            .as_str()
            .unwrap_or_default()
            .contains(
                "the index gives no sha256 for this file, so --verify-hashes cannot check it"
            ),
        "{alpha:#}"
    );
}

#[test]
fn a_wheel_read_by_range_whose_size_differs_from_the_index_is_rejected() {
    let world = world();
    let other = wheel_with("alpha", &[("alpha/extra.py", b"x = 1\n")]);
    world.index.set_fault(
        &format!("/files/{WHEEL}"),
        Fault::BodyOverride(other.built.bytes.clone()),
    );
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    assert!(
        error.contains(&format!(
            "{}: bad answer to a range request: Content-Range",
            world.index.file_url(WHEEL)
        )) && error.contains(&format!(
            "gives the file's size as {} bytes",
            other.built.bytes.len()
        )),
        "{error}"
    );
}

// ---------------------------------------------------------------------------------------------
// Redirects and missing projects

#[test]
fn a_redirect_loop_is_named_and_not_followed_forever() {
    let world = world();
    world
        .index
        .set_fault(PAGE, Fault::RedirectTo("/simple/alpha-moved/".into()));
    world
        .index
        .set_fault("/simple/alpha-moved/", Fault::RedirectTo(PAGE.into()));
    let run = Call::new(&world).json("alpha\n");
    let error = assert_could_not_check(&run);
    let url = format!("{}alpha/", world.index.simple_url());
    let moved = format!("{}alpha-moved/", world.index.simple_url());
    assert!(
        error.contains(&format!("{url}: redirect loop: {url} -> {moved} -> {url}")),
        "{error}"
    );
    assert_eq!(statuses(&world.index, PAGE), [302]);
    assert_eq!(statuses(&world.index, "/simple/alpha-moved/"), [302]);
}

#[test]
fn a_redirect_to_another_index_is_followed_and_its_links_resolve_there() {
    let elsewhere = World::new(vec![("alpha", vec![any("alpha", "1.0")])]);
    let world = World::new(vec![]);
    world.index.set_fault(
        PAGE,
        Fault::RedirectTo(format!("{}alpha/", elsewhere.index.simple_url())),
    );
    let run = Call::new(&world).json("alpha\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        package(&run.json(), SLIM, "x86_64", "alpha")["url"],
        elsewhere.index.file_url(WHEEL)
    );
    assert_eq!(statuses(&world.index, PAGE), [302]);
    assert_eq!(statuses(&elsewhere.index, PAGE), [200]);
}

#[test]
fn an_unknown_project_names_the_index_and_the_requirement_line() {
    let world = world();
    let run = Call::new(&world).json("alpha\nnosuchthing>=1\n");
    let report = run.json();
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(slim(&report)["verdict"], "fails");
    assert_eq!(slim(&report)["resolution"]["could_not_check"], false);
    let missing = package(&report, SLIM, "x86_64", "nosuchthing");
    assert_eq!(missing["kind"], "none");
    assert_eq!(
        missing["reason"],
        format!(
            "no project named `nosuchthing` on {} (asked for at requirements.txt:2)",
            world.index.simple_url()
        )
    );
    assert_eq!(statuses(&world.index, "/simple/nosuchthing/"), [404]);
    let human = Call::new(&world).run("alpha\nnosuchthing>=1\n");
    assert_eq!(human.code, 1);
    assert!(
        human.stdout.contains(&format!(
            "nosuchthing: no project named `nosuchthing` on {} (asked for at requirements.txt:2)",
            world.index.simple_url()
        )),
        "{}",
        human.stdout
    );
}

// ---------------------------------------------------------------------------------------------
// Limits

#[test]
fn the_request_limit_stops_the_run_with_exit_3_naming_the_flag() {
    let world = world();
    let run = Call::new(&world)
        .args(&["--max-requests", "1"])
        .json("alpha\n");
    let error = assert_could_not_check(&run);
    assert!(
        error.contains(&format!(
            "{}: not requested: the run has made its 1 requests (--max-requests); raise it with --max-requests N",
            world.index.file_url(WHEEL)
        )),
        "{error}"
    );
    assert!(
        run.stderr.contains(
            "error: the run reached its limit of 1 requests (--max-requests); raise it with --max-requests N"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(world.index.requests().len(), 1);
}

#[test]
fn the_response_size_limit_stops_a_large_page_with_exit_3_naming_the_flag() {
    let world = world();
    let run = Call::new(&world)
        .args(&["--max-response-size", "100"])
        .json("alpha\n");
    let error = assert_could_not_check(&run);
    let url = format!("{}alpha/", world.index.simple_url());
    assert!(
        error.contains(&format!("{url}: the answer (")) && error.contains(
            "bytes) is more than --max-response-size allows (100 bytes); raise it with --max-response-size BYTES"
        ),
        "{error}"
    );
}

#[test]
fn limits_have_defaults_and_reject_nonsense() {
    let world = world();
    let help = Call::new(&world).args(&["--help"]).run("");
    for text in [
        "--timeout",
        "--max-requests",
        "--max-response-size",
        "600",
        "5000",
        "256M",
    ] {
        assert!(
            help.stdout.contains(text),
            "{text} not in --help:\n{}",
            help.stdout
        );
    }
    for bad in [
        ["--timeout", "0"],
        ["--max-requests", "0"],
        ["--max-response-size", "lots"],
    ] {
        let run = Call::new(&world).args(&bad).run("alpha\n");
        assert_eq!(run.code, 2, "{bad:?}: {}", run.stderr);
        assert!(world.index.requests().is_empty());
    }
}

// ---------------------------------------------------------------------------------------------
// Credentials

/// The fixture's index URL with `userinfo@` in it.
fn with_userinfo(world: &World, userinfo: &str) -> String {
    world
        .index
        .simple_url()
        .replacen("http://", &format!("http://{userinfo}@"), 1)
}

/// Every request the index saw carried `Authorization: Basic base64(user:password)`.
fn assert_all_authorized(index: &FixtureIndex, user: &str, password: &str) {
    let expected = format!("Basic {}", base64(format!("{user}:{password}").as_bytes()));
    let requests = index.requests();
    assert!(!requests.is_empty());
    for request in &requests {
        assert_eq!(
            request.header("authorization"),
            Some(expected.as_str()),
            "{} without the credentials",
            request.path
        );
    }
}

/// Run every format (human with -v and -vv, json, with --dockerfile-out) and check the secret is
/// nowhere: stdout, stderr, the Dockerfile. Returns the runs.
fn run_every_format(world: &World, call: impl Fn() -> Call<'static>, secret: &str) -> Vec<Run> {
    let dockerfile = world.dir.path().join("Dockerfile");
    let dockerfile_arg = dockerfile.to_str().unwrap().to_string();
    let variants: Vec<Vec<&str>> = vec![
        vec![],
        vec!["-v"],
        vec!["-vv"],
        vec!["--format", "json"],
        vec!["--format", "json", "-vv"],
        vec!["--dockerfile-out", &dockerfile_arg, "-vv"],
    ];
    let mut runs = Vec::new();
    for extra in variants {
        let _ = std::fs::remove_file(&dockerfile);
        let run = call()
            .args(&extra)
            .args(&["--refresh"])
            .run("alpha\nbeta\n");
        for (what, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
            assert!(
                !text.contains(secret),
                "{extra:?}: the secret is in {what}:\n{text}"
            );
        }
        if let Ok(text) = std::fs::read_to_string(&dockerfile) {
            assert!(
                !text.contains(secret),
                "the secret is in the Dockerfile:\n{text}"
            );
        }
        runs.push(run);
    }
    runs
}

/// Leaks a world so that calls can be made from a `Fn() -> Call<'static>`.
fn leak(world: World) -> &'static World {
    Box::leak(Box::new(world))
}

#[test]
fn credentials_in_the_index_url_are_sent_and_never_shown() {
    for (user, password) in [
        ("alice", "s3cret-pw-4711"),
        ("__token__", "pypi-AgEIcHlwaS5vcmcCJGExYjJjM2Q0"),
    ] {
        let world = leak(world());
        let url = with_userinfo(world, &format!("{user}:{password}"));
        let runs = run_every_format(world, || Call::new(world).index_url(url.clone()), password);
        for run in &runs {
            assert_eq!(run.code, 1, "beta is built from source: {}", run.stderr);
        }
        assert_all_authorized(&world.index, user, password);
        let report = runs[3].json();
        let shown = package(&report, SLIM, "x86_64", "alpha")["url"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            shown,
            world
                .index
                .file_url(WHEEL)
                .replacen("http://", "http://****@", 1)
        );
        assert!(
            runs[2].stderr.contains("(with credentials)"),
            "-vv logs requests: {}",
            runs[2].stderr
        );
        let dockerfile = world.dir.path().join("Dockerfile");
        assert!(dockerfile.exists(), "the Dockerfile run wrote one");
    }
}

#[test]
fn credentials_never_appear_in_error_messages_of_any_format() {
    let password = "s3cret-pw-0815";
    let world = leak(world());
    world
        .index
        .set_fault(&format!("/files/{WHEEL}"), Fault::Status(500, u32::MAX));
    let url = with_userinfo(world, &format!("alice:{password}"));
    let runs = run_every_format(world, || Call::new(world).index_url(url.clone()), password);
    let shown = world
        .index
        .file_url(WHEEL)
        .replacen("http://", "http://****@", 1);
    for run in &runs {
        assert_eq!(run.code, 3, "{}", run.stderr);
        assert!(
            run.stdout
                .contains(&format!("{shown} answered HTTP 500 (tried 3 times)")),
            "the error names the URL, redacted:\n{}",
            run.stdout
        );
    }
    let dockerfile_run = runs.last().unwrap();
    assert!(
        dockerfile_run
            .stderr
            .contains("error: no Dockerfile written to"),
        "{}",
        dockerfile_run.stderr
    );
    assert!(
        runs[1].stderr.contains("trying again in 400 ms"),
        "-v shows retries: {}",
        runs[1].stderr
    );
    assert_all_authorized(&world.index, "alice", password);
}

#[test]
fn netrc_credentials_are_used_for_the_index_host_and_never_shown() {
    let password = "netrc-s3cret-42";
    let world = leak(world());
    let home = leak_dir();
    std::fs::write(
        home.join(".netrc"),
        format!(
            "# fixture\nmachine elsewhere.invalid login nobody password wrong\n\
             machine 127.0.0.1\n  login bob\n  password {password}\n"
        ),
    )
    .unwrap();
    let runs = run_every_format(world, || Call::new(world).home(home), password);
    assert_eq!(runs[0].code, 1, "{}", runs[0].stderr);
    assert_all_authorized(&world.index, "bob", password);

    // And in the error messages of a failing run.
    world.index.clear_log();
    world.index.set_fault(PAGE, Fault::ResetMidBody);
    let runs = run_every_format(world, || Call::new(world).home(home), password);
    for run in &runs {
        assert_eq!(run.code, 3, "{}", run.stderr);
    }
    assert_all_authorized(&world.index, "bob", password);
}

fn leak_dir() -> &'static Path {
    let dir = Box::leak(Box::new(tempfile::tempdir().unwrap()));
    dir.path()
}

#[test]
fn files_linked_by_absolute_url_on_the_index_host_get_its_credentials() {
    let world = world();
    world.index.set_absolute_urls(true);
    let url = with_userinfo(&world, "alice:pw-abs-123");
    let run = Call::new(&world).index_url(url).json("alpha\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        world
            .index
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/files/"))
    );
    assert_all_authorized(&world.index, "alice", "pw-abs-123");
}

#[test]
fn credentials_do_not_follow_a_redirect_to_another_host() {
    let elsewhere = World::new(vec![("alpha", vec![any("alpha", "1.0")])]);
    let world = World::new(vec![]);
    world.index.set_fault(
        PAGE,
        Fault::RedirectTo(format!("{}alpha/", elsewhere.index.simple_url())),
    );
    let url = with_userinfo(&world, "alice:pw-no-follow");
    let run = Call::new(&world).index_url(url).json("alpha\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_all_authorized(&world.index, "alice", "pw-no-follow");
    for request in elsewhere.index.requests() {
        assert_eq!(request.header("authorization"), None, "{}", request.path);
    }
}

#[test]
fn a_fault_in_the_wheels_only_check_is_reported_not_turned_into_no_wheel() {
    let world = World::new(vec![(
        "mu",
        vec![
            any("mu", "1.0"),
            IndexFile::from(sdist_tar_gz(
                &Meta::new("mu", "2.0").metadata_version("2.2"),
                &[],
            )),
        ],
    )]);
    world
        .index
        .set_fault("/files/mu-1.0-py3-none-any.whl", Fault::Status(500, 100));
    let run = world.run_json("mu\n", &[SLIM]);
    let report = run.json();
    let mu = package(&report, SLIM, "x86_64", "mu");
    assert_eq!(mu["kind"], "sdist");
    assert!(mu["binary_only_version"].is_null());
    let target = target(&report, SLIM, "x86_64");
    assert!(
        target["binary_only_error"]
            .as_str()
            .unwrap()
            .contains("500"),
        "{target:#}"
    );
    let human = world.run("mu\n", &["--image", SLIM]).stdout;
    assert!(
        human.contains("could not check whether an older release has a wheel"),
        "{human}"
    );
    assert!(
        !human.contains("no release the requirements allow has a wheel"),
        "{human}"
    );
}
