//! Running the real `wheelcheck` binary against the fixture index.

use std::path::Path;
use std::process::Command;

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// The JSON report; panics with the whole output when it is not JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}):\nstdout: {}\nstderr: {}",
                self.stdout, self.stderr
            )
        })
    }
}

/// Run wheelcheck with `args` in `dir`, with its own cache and no pip settings from the
/// environment of whoever runs the tests.
pub fn wheelcheck(dir: &Path, cache: &Path, args: &[&str]) -> Run {
    wheelcheck_with_env(dir, cache, args, &[])
}

/// Like [`wheelcheck`], with extra environment variables (`PIP_INDEX_URL`, ...).
pub fn wheelcheck_with_env(dir: &Path, cache: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut command = Command::new(env!("CARGO_BIN_EXE_wheelcheck"));
    command
        .args(args)
        .current_dir(dir)
        .env("WHEELCHECK_CACHE_DIR", cache)
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env("NO_COLOR", "1");
    for (key, value) in env {
        command.env(key, value);
    }
    let output = command.output().expect("run wheelcheck");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The package entry named `name` in the target whose image and arch match.
pub fn package<'a>(
    report: &'a serde_json::Value,
    image: &str,
    arch: &str,
    name: &str,
) -> &'a serde_json::Value {
    let target = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["image"] == image && t["arch"] == arch)
        .unwrap_or_else(|| panic!("no target {image} {arch} in {report:#}"));
    target["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no package {name} in {image} {arch}: {target:#}"))
}

pub fn target<'a>(report: &'a serde_json::Value, image: &str, arch: &str) -> &'a serde_json::Value {
    report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["image"] == image && t["arch"] == arch)
        .unwrap_or_else(|| panic!("no target {image} {arch} in {report:#}"))
}
