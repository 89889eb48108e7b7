//! Where a path inside the image came from in the build context: `WORKDIR` makes relative paths
//! absolute, and the latest `COPY`/`ADD` (or `RUN --mount=type=bind`) that put something there
//! names the context path.

/// One copy from the build context into the image: `COPY src... dest`.
#[derive(Debug, Clone)]
pub struct Copy {
    pub sources: Vec<String>,
    /// Absolute, `WORKDIR` applied.
    pub dest: String,
    /// The destination is a directory: it ends with `/`, is `.`, or there are several sources.
    pub dest_is_dir: bool,
}

/// What a stage's image holds that came from the build context, in the order it was added.
#[derive(Debug, Clone)]
pub struct Filesystem {
    pub workdir: String,
    pub copies: Vec<Copy>,
}

impl Default for Filesystem {
    fn default() -> Self {
        Filesystem {
            workdir: "/".into(),
            copies: Vec::new(),
        }
    }
}

impl Filesystem {
    /// `path` made absolute against the working directory, `.` and `..` resolved.
    pub fn absolute(&self, path: &str) -> String {
        let joined = if path.starts_with('/') {
            path.to_string()
        } else {
            format!("{}/{path}", self.workdir)
        };
        let mut parts: Vec<&str> = Vec::new();
        for part in joined.split('/') {
            match part {
                "" | "." => {}
                ".." => {
                    parts.pop();
                }
                other => parts.push(other),
            }
        }
        format!("/{}", parts.join("/"))
    }

    pub fn set_workdir(&mut self, path: &str) {
        self.workdir = self.absolute(path);
    }

    pub fn add_copy(&mut self, sources: Vec<String>, dest: &str) {
        let dest_is_dir = dest.ends_with('/') || dest == "." || sources.len() > 1;
        self.copies.push(Copy {
            dest: self.absolute(dest),
            sources,
            dest_is_dir,
        });
    }

    /// The build-context path that `path` (as a `RUN` line names it) was copied from, if any.
    /// `is_dir` tells whether a context path is a directory (its contents are copied then).
    pub fn context_source(&self, path: &str, is_dir: &dyn Fn(&str) -> bool) -> Option<String> {
        let wanted = self.absolute(path);
        self.copies
            .iter()
            .rev()
            .find_map(|copy| copy_source(copy, &wanted, is_dir))
    }
}

fn copy_source(copy: &Copy, wanted: &str, is_dir: &dyn Fn(&str) -> bool) -> Option<String> {
    copy.sources.iter().find_map(|source| {
        let source = source.trim_start_matches("./");
        let source_dir =
            source.is_empty() || source == "." || source.ends_with('/') || is_dir(source);
        if source_dir {
            let rest = wanted.strip_prefix(&copy.dest)?.strip_prefix('/')?;
            let base = source.trim_end_matches('/');
            return Some(if base.is_empty() || base == "." {
                rest.to_string()
            } else {
                format!("{base}/{rest}")
            });
        }
        let name = source.rsplit('/').next().unwrap_or(source);
        let target = if copy.dest_is_dir {
            format!("{}/{name}", copy.dest.trim_end_matches('/'))
        } else {
            copy.dest.clone()
        };
        if target == wanted {
            return Some(source.to_string());
        }
        // `COPY requirements*.txt ./`: the file keeps its name, which the pattern must match.
        let (parent, file) = wanted.rsplit_once('/')?;
        let dir = copy.dest.trim_end_matches('/');
        let same_dir = parent == dir || (parent.is_empty() && dir.is_empty());
        let pattern = glob::Pattern::new(name).ok()?;
        (copy.dest_is_dir && same_dir && has_wildcard(name) && pattern.matches(file)).then(|| {
            match source.rsplit_once('/') {
                Some((dir, _)) => format!("{dir}/{file}"),
                None => file.to_string(),
            }
        })
    })
}

fn has_wildcard(name: &str) -> bool {
    name.contains(['*', '?', '['])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_dirs(_: &str) -> bool {
        false
    }

    #[test]
    fn workdir_makes_paths_absolute() {
        let mut fs = Filesystem::default();
        fs.set_workdir("/app");
        fs.set_workdir("src");
        assert_eq!(fs.absolute("../requirements.txt"), "/app/requirements.txt");
        assert_eq!(fs.absolute("/tmp/./r.txt"), "/tmp/r.txt");
    }

    #[test]
    fn a_copied_file_is_found_by_its_place_in_the_image() {
        let mut fs = Filesystem::default();
        fs.set_workdir("/app");
        fs.add_copy(vec!["requirements/prod.txt".into()], ".");
        fs.add_copy(vec!["deploy/constraints.txt".into()], "/tmp/pins.txt");
        assert_eq!(
            fs.context_source("prod.txt", &no_dirs).as_deref(),
            Some("requirements/prod.txt")
        );
        assert_eq!(
            fs.context_source("/tmp/pins.txt", &no_dirs).as_deref(),
            Some("deploy/constraints.txt")
        );
        assert_eq!(fs.context_source("other.txt", &no_dirs), None);
    }

    #[test]
    fn a_copied_directory_and_a_wildcard_are_followed() {
        let mut fs = Filesystem::default();
        fs.add_copy(vec!["requirements".into()], "/src/reqs");
        fs.add_copy(vec!["requirements*.txt".into()], "/app/");
        let is_dir = |p: &str| p == "requirements";
        assert_eq!(
            fs.context_source("/src/reqs/base.txt", &is_dir).as_deref(),
            Some("requirements/base.txt")
        );
        assert_eq!(
            fs.context_source("/app/requirements-dev.txt", &is_dir)
                .as_deref(),
            Some("requirements-dev.txt")
        );
        // The whole context copied to the working directory.
        let mut all = Filesystem::default();
        all.set_workdir("/code");
        all.add_copy(vec![".".into()], ".");
        assert_eq!(
            all.context_source("deps/requirements.txt", &no_dirs)
                .as_deref(),
            Some("deps/requirements.txt")
        );
    }
}
