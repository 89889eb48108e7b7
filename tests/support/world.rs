//! A fixture index with its own working directory and cache: one test's whole world.

use serde_json::Value;

use super::cli::{Run, wheelcheck};
use super::server::{FixtureIndex, IndexFile, PageFormat};

pub struct World {
    pub index: FixtureIndex,
    pub dir: tempfile::TempDir,
    pub cache: tempfile::TempDir,
}

impl World {
    pub fn new(projects: Vec<(&str, Vec<IndexFile>)>) -> World {
        World {
            index: FixtureIndex::start(projects, PageFormat::Json),
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    /// Run wheelcheck on `requirements` (written to requirements.txt) against this index for
    /// Python 3.12, with `extra` arguments.
    pub fn run(&self, requirements: &str, extra: &[&str]) -> Run {
        std::fs::write(self.dir.path().join("requirements.txt"), requirements).unwrap();
        let url = self.index.simple_url();
        let mut args = vec!["requirements.txt", "--index-url", &url, "--python", "3.12"];
        args.extend_from_slice(extra);
        wheelcheck(self.dir.path(), self.cache.path(), &args)
    }

    /// A JSON run on the given images.
    pub fn run_json(&self, requirements: &str, images: &[&str]) -> Run {
        let mut extra = vec!["--format", "json"];
        for image in images {
            extra.extend(["--image", image]);
        }
        self.run(requirements, &extra)
    }

    /// The JSON report and exit code of a run on the given images.
    pub fn json(&self, requirements: &str, images: &[&str]) -> (Value, i32) {
        let run = self.run_json(requirements, images);
        (run.json(), run.code)
    }
}
