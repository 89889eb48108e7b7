//! Inputs beyond pip requirements files: `pyproject.toml` and the lock files of the common tools.
//!
//! Every format is read into the model the rest of wheelcheck already uses
//! ([`ParsedRequirements`]: entries with a `file:line`, the text and the hashes), so reports and
//! findings point at the line of `pyproject.toml` or of the lock where a package is declared.
//!
//! `pyproject.toml` gives requirements to resolve, like a requirements file. A lock file gives
//! the install set itself: every package pinned to its locked version (`===`), with the lock's
//! marker for it, its hashes, and the lock's file URLs when it has them ([`Locked`]); the
//! resolver then follows no dependency (pip's `--no-deps`), so nothing is added or changed.
//!
//! One file per format: `pyproject`, `uv_lock`, `poetry_lock`, `pylock`, `pipfile_lock`; shared
//! pieces are `locked` (a locked package → an entry), `graph` (which packages a root reaches,
//! under which markers) and `text` (reading, line numbers, TOML errors).

mod graph;
mod locked;
mod pipfile_lock;
mod poetry_lock;
mod pylock;
mod pyproject;
mod text;
mod uv_lock;

use std::path::Path;

use crate::requirements::{self, ParsedRequirements};

pub use locked::Locked;

/// The kinds of input file, told apart by the file's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Anything not named below: pip's requirements-file format.
    Requirements,
    Pyproject,
    /// PEP 751: `pylock.toml` or `pylock.<name>.toml`.
    Pylock,
    UvLock,
    PoetryLock,
    PipfileLock,
}

impl InputKind {
    pub fn of(path: &Path) -> InputKind {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match name {
            "pyproject.toml" => InputKind::Pyproject,
            "pylock.toml" => InputKind::Pylock,
            "uv.lock" => InputKind::UvLock,
            "poetry.lock" => InputKind::PoetryLock,
            "Pipfile.lock" => InputKind::PipfileLock,
            _ if is_named_pylock(name) => InputKind::Pylock,
            _ => InputKind::Requirements,
        }
    }

    /// A lock file: its packages are installed as locked, not resolved.
    pub fn is_lock(self) -> bool {
        !matches!(self, InputKind::Requirements | InputKind::Pyproject)
    }
}

/// PEP 751 allows `pylock.<name>.toml` where the name has no dot.
fn is_named_pylock(name: &str) -> bool {
    name.strip_prefix("pylock.")
        .and_then(|rest| rest.strip_suffix(".toml"))
        .is_some_and(|middle| !middle.is_empty() && !middle.contains('.'))
}

/// What the command line selects beyond the required dependencies.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `--extra NAME`: optional-dependency groups (`all` selects every one).
    pub extras: Vec<String>,
    /// `--group NAME`: dependency groups (PEP 735, uv, Poetry; Pipfile.lock's `develop`).
    pub groups: Vec<String>,
}

/// One input file, read.
#[derive(Debug, Default)]
pub struct Loaded {
    pub parsed: ParsedRequirements,
    /// For lock files: the install set is fixed; files named by the lock.
    pub locked: Option<Locked>,
}

#[cfg(test)]
impl Selection {
    pub fn of(extras: &[&str], groups: &[&str]) -> Selection {
        Selection {
            extras: extras.iter().map(|s| s.to_string()).collect(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
        }
    }
}

#[cfg(test)]
impl Loaded {
    /// Each requirement as `text:line`, for assertions.
    pub fn lines(&self) -> Vec<String> {
        self.parsed
            .requirements
            .iter()
            .map(|e| format!("{}:{}", e.text, e.source.line))
            .collect()
    }
}

/// Reads one input file of any kind. Errors are the user's to fix and name the file (and the
/// line when there is one).
pub fn load(
    path: &Path,
    selection: &Selection,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Loaded, String> {
    let kind = InputKind::of(path);
    if kind == InputKind::Requirements {
        let parsed = requirements::parse_file(path, env).map_err(|e| e.to_string())?;
        return Ok(Loaded {
            parsed,
            locked: None,
        });
    }
    let content = text::read(path)?;
    match kind {
        InputKind::Pyproject => pyproject::load(path, &content, selection),
        InputKind::UvLock => uv_lock::load(path, &content, selection),
        InputKind::PoetryLock => poetry_lock::load(path, &content, selection),
        InputKind::Pylock => pylock::load(path, &content, selection),
        InputKind::PipfileLock => pipfile_lock::load(path, &content, selection),
        InputKind::Requirements => unreachable!("handled above"),
    }
}

/// `--extra` and `--group` need a file that has extras or groups: refuse them when every input
/// is a requirements file, rather than ignore them.
pub fn check_selection(files: &[std::path::PathBuf], selection: &Selection) -> Result<(), String> {
    let Some(option) = selection.first_option() else {
        return Ok(());
    };
    if files
        .iter()
        .all(|f| InputKind::of(f) == InputKind::Requirements)
    {
        return Err(format!(
            "{option} applies to pyproject.toml and lock files, not to requirements files such as {}",
            files
                .first()
                .map_or(String::new(), |f| f.display().to_string())
        ));
    }
    Ok(())
}

/// Several inputs are merged like `-r` lines, but a lock is a whole install set: it cannot be
/// combined with anything else.
pub fn check_combination(files: &[std::path::PathBuf]) -> Result<(), String> {
    let lock = files.iter().find(|f| InputKind::of(f).is_lock());
    match lock {
        Some(lock) if files.len() > 1 => Err(format!(
            "{} is a lock file, the whole install set: check it on its own, without other files",
            lock.display()
        )),
        _ => Ok(()),
    }
}

impl InputKind {
    /// For a Dockerfile (which installs with `pip install -r requirements.txt`): how to write
    /// that file from this input, or `None` for a requirements file.
    pub fn export_hint(self) -> Option<&'static str> {
        Some(match self {
            InputKind::Requirements => return None,
            InputKind::Pyproject => "uv pip compile pyproject.toml -o requirements.txt",
            InputKind::Pylock => {
                "uv export --format requirements-txt -o requirements.txt (or pip install -r pylock.toml with pip 25.1+ instead)"
            }
            InputKind::UvLock => "uv export --no-dev --format requirements-txt -o requirements.txt",
            InputKind::PoetryLock => "poetry export -o requirements.txt (poetry-plugin-export)",
            InputKind::PipfileLock => "pipenv requirements > requirements.txt",
        })
    }
}

impl Selection {
    fn first_option(&self) -> Option<String> {
        let extra = self.extras.first().map(|e| format!("--extra {e}"));
        extra.or_else(|| self.groups.first().map(|g| format!("--group {g}")))
    }

    /// `--extra all` selects every extra the file defines.
    fn wants_all_extras(&self) -> bool {
        self.extras.iter().any(|e| e == "all")
    }
}

/// Checks the selected names against those a file defines: an unknown one is an error that
/// lists the known ones. Returns the selected names, normalised (`all` expanded for extras).
fn choose(
    path: &Path,
    option: &str,
    asked: &[String],
    available: &[String],
    all_means_every: bool,
) -> Result<Vec<String>, String> {
    let normal: Vec<String> = available
        .iter()
        .map(|a| requirements::canonicalize_name(a))
        .collect();
    let mut chosen = Vec::new();
    for name in asked {
        if all_means_every && name == "all" && !normal.iter().any(|a| a == "all") {
            chosen.extend(normal.iter().cloned());
            continue;
        }
        let wanted = requirements::canonicalize_name(name);
        if !normal.contains(&wanted) {
            let known = if available.is_empty() {
                "it defines none".to_string()
            } else {
                format!("available: {}", available.join(", "))
            };
            return Err(format!(
                "{option} {name}: {} has no such {}; {known}",
                path.display(),
                if option == "--extra" {
                    "extra"
                } else {
                    "group"
                }
            ));
        }
        chosen.push(wanted);
    }
    chosen.sort();
    chosen.dedup();
    Ok(chosen)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_come_from_file_names() {
        let kind = |name: &str| InputKind::of(Path::new(name));
        assert_eq!(kind("dir/pyproject.toml"), InputKind::Pyproject);
        assert_eq!(kind("pylock.toml"), InputKind::Pylock);
        assert_eq!(kind("pylock.dev.toml"), InputKind::Pylock);
        assert_eq!(kind("pylock.a.b.toml"), InputKind::Requirements);
        assert_eq!(kind("pylock..toml"), InputKind::Requirements);
        assert_eq!(kind("uv.lock"), InputKind::UvLock);
        assert_eq!(kind("poetry.lock"), InputKind::PoetryLock);
        assert_eq!(kind("Pipfile.lock"), InputKind::PipfileLock);
        assert_eq!(kind("requirements.lock"), InputKind::Requirements);
        assert_eq!(kind("reqs/dev.txt"), InputKind::Requirements);
        assert!(InputKind::UvLock.is_lock() && !InputKind::Pyproject.is_lock());
    }

    #[test]
    fn unknown_names_list_the_available_ones() {
        let path = Path::new("pyproject.toml");
        let available = vec!["Socks".to_string(), "cli".to_string()];
        let err = choose(path, "--extra", &["gui".into()], &available, true).unwrap_err();
        assert_eq!(
            err,
            "--extra gui: pyproject.toml has no such extra; available: Socks, cli"
        );
        let all = choose(path, "--extra", &["all".into()], &available, true).unwrap();
        assert_eq!(all, ["cli", "socks"]);
        let one = choose(path, "--group", &["CLI".into()], &available, false).unwrap();
        assert_eq!(one, ["cli"]);
        let none = choose(path, "--group", &["dev".into()], &[], false).unwrap_err();
        assert!(
            none.ends_with("has no such group; it defines none"),
            "{none}"
        );
    }

    #[test]
    fn selections_are_refused_for_requirements_files_only() {
        let selection = Selection {
            extras: vec!["cli".into()],
            groups: vec![],
        };
        let reqs = vec![std::path::PathBuf::from("requirements.txt")];
        let err = check_selection(&reqs, &selection).unwrap_err();
        assert!(
            err.starts_with("--extra cli applies to pyproject.toml"),
            "{err}"
        );
        let mixed = vec![reqs[0].clone(), "pyproject.toml".into()];
        assert!(check_selection(&mixed, &selection).is_ok());
        assert!(check_selection(&reqs, &Selection::default()).is_ok());
    }

    #[test]
    fn a_lock_is_checked_alone() {
        let lock = vec![std::path::PathBuf::from("uv.lock")];
        assert!(check_combination(&lock).is_ok());
        let both = vec![lock[0].clone(), "requirements.txt".into()];
        let err = check_combination(&both).unwrap_err();
        assert!(err.starts_with("uv.lock is a lock file"), "{err}");
        let unlocked = vec!["pyproject.toml".into(), "requirements.txt".into()];
        assert!(check_combination(&unlocked).is_ok());
    }
}
