//! The shared cache under concurrent processes and corruption.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::elf::needs_system_lib;
use support::*;

const SLIM: &str = "python:3.12-slim-trixie";

fn world() -> World {
    let so = needs_system_lib();
    let app = Meta::new("app", "1.0").dep("lib>=1");
    World::new(vec![
        (
            "app",
            vec![IndexFile::from(wheel(&app, "py3-none-any", &[]))],
        ),
        (
            "lib",
            vec![IndexFile::from(wheel(
                &Meta::new("lib", "1.2"),
                "cp312-cp312-manylinux_2_17_x86_64",
                &[("lib/_ext.so", &so.object)],
            ))],
        ),
    ])
}

#[test]
fn eight_processes_on_one_cache_give_identical_reports() {
    let world = world();
    std::fs::write(world.dir.path().join("requirements.txt"), "app\n").unwrap();
    let url = world.index.simple_url();
    let children: Vec<_> = (0..8)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_wheelcheck"))
                .args([
                    "requirements.txt",
                    "--index-url",
                    &url,
                    "--format",
                    "json",
                    "--python",
                    "3.12",
                    "--image",
                    SLIM,
                ])
                .current_dir(world.dir.path())
                .env("WHEELCHECK_CACHE_DIR", world.cache.path())
                .env_remove("PIP_INDEX_URL")
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let outputs: Vec<String> = children
        .into_iter()
        .map(|child| {
            let output = child.wait_with_output().unwrap();
            assert!(output.status.code() == Some(1), "exit {:?}", output.status);
            String::from_utf8(output.stdout).unwrap()
        })
        .collect();
    assert!(outputs.iter().all(|o| o == &outputs[0]), "reports differ");
    let report: serde_json::Value = serde_json::from_str(&outputs[0]).unwrap();
    assert_eq!(
        package(&report, SLIM, "x86_64", "lib")["elf"]["analysis"],
        "done"
    );
    // And a ninth run from the cache they wrote says the same.
    let again = world.run_json("app\n", &[SLIM]);
    assert_eq!(again.stdout, outputs[0]);
}

#[test]
fn a_corrupted_cache_entry_is_detected_and_fetched_again() {
    let world = world();
    let first = world.run_json("app\n", &[SLIM]);
    world.index.clear_log();
    for file in files_under(&world.cache.path().join("entries-v1")) {
        let mut bytes = std::fs::read(&file).unwrap();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0xff;
        std::fs::write(&file, bytes).unwrap();
    }
    let second = world.run_json("app\n", &[SLIM]);
    assert_eq!(first.stdout, second.stdout, "{}", second.stderr);
    assert!(
        !world.index.requests().is_empty(),
        "corrupt entries were trusted instead of refetched"
    );
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push(path);
        }
    }
    out
}
