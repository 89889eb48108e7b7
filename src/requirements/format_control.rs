//! `--no-binary` / `--only-binary` and `--all-releases` / `--only-final`.
//!
//! Both pairs are sets of canonical project names (or `:all:`) that pip keeps mutually exclusive
//! with one shared algorithm (`FormatControl.handle_mutual_excludes` and its copy in
//! `ReleaseControl`). The order of values matters (`:all:` wipes both sets, `:none:` empties one),
//! so the options are applied one value at a time, in file order.

use std::collections::BTreeSet;

use pep508_rs::PackageName;
use serde::Serialize;

/// Which of pip's `--no-binary` / `--only-binary` options a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Kind {
    /// `--no-binary`: build these projects from source.
    NoBinary,
    /// `--only-binary`: never build these projects from source.
    OnlyBinary,
}

/// Which of pip's `--all-releases` / `--only-final` options a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ReleaseKind {
    /// `--all-releases`: pre-releases are allowed for these projects.
    AllReleases,
    /// `--only-final`: only final releases for these projects.
    OnlyFinal,
}

/// The distribution formats pip may pick for one project.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AllowedFormats {
    /// Wheels may be used.
    pub binary: bool,
    /// Source distributions may be built.
    pub source: bool,
}

/// A `--no-binary` style value that was really the next option (pip's "requires 1 argument").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{options} option requires 1 argument.")]
pub struct MissingValue {
    options: &'static str,
}

/// pip's `FormatControl`: which projects must (not) come from wheels.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FormatControl {
    /// Canonical names (or `:all:`) given to `--no-binary`.
    pub no_binary: BTreeSet<String>,
    /// Canonical names (or `:all:`) given to `--only-binary`.
    pub only_binary: BTreeSet<String>,
}

impl FormatControl {
    /// Applies one `--no-binary` / `--only-binary` value, exactly like pip.
    ///
    /// A value starting with `-` is rejected because pip treats it as a missing argument (the
    /// user wrote `--no-binary --pre`); nothing is changed then.
    pub fn handle(&mut self, value: &str, kind: Kind) -> Result<(), MissingValue> {
        if value.starts_with('-') {
            return Err(MissingValue {
                options: "--no-binary / --only-binary",
            });
        }
        match kind {
            Kind::NoBinary => {
                handle_mutual_excludes(value, &mut self.no_binary, &mut self.only_binary)
            }
            Kind::OnlyBinary => {
                handle_mutual_excludes(value, &mut self.only_binary, &mut self.no_binary)
            }
        }
        Ok(())
    }

    /// pip's `get_allowed_formats`: a project's own entry beats `:all:`, and `--only-binary`
    /// beats `--no-binary` at the same level.
    pub fn allowed_formats(&self, name: &PackageName) -> AllowedFormats {
        let name = name.as_ref();
        let mut allowed = AllowedFormats {
            binary: true,
            source: true,
        };
        if self.only_binary.contains(name) {
            allowed.source = false;
        } else if self.no_binary.contains(name) {
            allowed.binary = false;
        } else if self.only_binary.contains(ALL) {
            allowed.source = false;
        } else if self.no_binary.contains(ALL) {
            allowed.binary = false;
        }
        allowed
    }
}

/// pip's `ReleaseControl` (pip 26+): per-project pre-release policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReleaseControl {
    /// Canonical names (or `:all:`) for which pre-releases are allowed.
    pub all_releases: BTreeSet<String>,
    /// Canonical names (or `:all:`) restricted to final releases.
    pub only_final: BTreeSet<String>,
}

impl ReleaseControl {
    /// Applies one `--all-releases` / `--only-final` value, exactly like pip.
    pub fn handle(&mut self, value: &str, kind: ReleaseKind) -> Result<(), MissingValue> {
        if value.starts_with('-') {
            return Err(MissingValue {
                options: "--all-releases / --only-final",
            });
        }
        match kind {
            ReleaseKind::AllReleases => {
                handle_mutual_excludes(value, &mut self.all_releases, &mut self.only_final)
            }
            ReleaseKind::OnlyFinal => {
                handle_mutual_excludes(value, &mut self.only_final, &mut self.all_releases)
            }
        }
        Ok(())
    }

    /// `Some(true)` if pre-releases are allowed, `Some(false)` if only final releases are,
    /// `None` when nothing was said (pip then allows a pre-release only if nothing else matches).
    pub fn allows_prereleases(&self, name: &PackageName) -> Option<bool> {
        let name = name.as_ref();
        if self.all_releases.contains(name) {
            Some(true)
        } else if self.only_final.contains(name) {
            Some(false)
        } else if self.all_releases.contains(ALL) {
            Some(true)
        } else if self.only_final.contains(ALL) {
            Some(false)
        } else {
            None
        }
    }
}

const ALL: &str = ":all:";
const NONE: &str = ":none:";

/// pip's `handle_mutual_excludes`, value by value.
///
/// `:all:` clears both sets and stands alone in `target`; unless a later `:none:` follows in the
/// same value, everything after it is dropped (it is covered by `:all:`). `:none:` empties
/// `target` only. A name is added to `target` and removed from `other`.
fn handle_mutual_excludes(
    value: &str,
    target: &mut BTreeSet<String>,
    other: &mut BTreeSet<String>,
) {
    let mut rest: Vec<&str> = value.split(',').collect();
    while let Some(position) = rest.iter().position(|item| *item == ALL) {
        other.clear();
        target.clear();
        target.insert(ALL.to_owned());
        rest.drain(..=position);
        if !rest.contains(&NONE) {
            return;
        }
    }
    for item in rest {
        if item == NONE {
            target.clear();
            continue;
        }
        let name = canonicalize_name(item);
        other.remove(&name);
        target.insert(name);
    }
}

/// packaging's `canonicalize_name` without validation: pip applies it to whatever was typed.
pub fn canonicalize_name(name: &str) -> String {
    let mut canonical = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = if c == '_' || c == '.' { '-' } else { c };
        if c == '-' && canonical.ends_with('-') {
            continue;
        }
        canonical.push(c);
    }
    canonical
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn name(s: &str) -> PackageName {
        PackageName::from_str(s).expect("test names are valid")
    }

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    fn apply(steps: &[(Kind, &str)]) -> FormatControl {
        let mut control = FormatControl::default();
        for (kind, value) in steps {
            control
                .handle(value, *kind)
                .expect("values in tests are valid");
        }
        control
    }

    #[test]
    fn no_binary_all_then_only_binary_name_exempts_that_name() {
        let control = apply(&[(Kind::NoBinary, ":all:"), (Kind::OnlyBinary, "NumPy")]);
        assert_eq!(control.no_binary, set(&[":all:"]));
        assert_eq!(control.only_binary, set(&["numpy"]));
        let numpy = control.allowed_formats(&name("numpy"));
        assert!(numpy.binary && !numpy.source);
        let other = control.allowed_formats(&name("requests"));
        assert!(!other.binary && other.source);
    }

    #[test]
    fn all_clears_the_other_set() {
        let control = apply(&[(Kind::OnlyBinary, "a,b"), (Kind::NoBinary, ":all:")]);
        assert_eq!(control.only_binary, set(&[]));
        assert_eq!(control.no_binary, set(&[":all:"]));
    }

    #[test]
    fn names_after_all_are_dropped_unless_none_follows() {
        let control = apply(&[(Kind::NoBinary, ":all:,foo")]);
        assert_eq!(control.no_binary, set(&[":all:"]));

        let control = apply(&[(Kind::NoBinary, ":all:,:none:,foo")]);
        assert_eq!(control.no_binary, set(&["foo"]));
    }

    #[test]
    fn none_empties_only_the_target() {
        let control = apply(&[
            (Kind::NoBinary, "a"),
            (Kind::OnlyBinary, "b"),
            (Kind::NoBinary, ":none:"),
        ]);
        assert_eq!(control.no_binary, set(&[]));
        assert_eq!(control.only_binary, set(&["b"]));
    }

    #[test]
    fn a_name_moves_between_sets() {
        let control = apply(&[(Kind::NoBinary, "Foo.Bar"), (Kind::OnlyBinary, "foo_bar")]);
        assert_eq!(control.no_binary, set(&[]));
        assert_eq!(control.only_binary, set(&["foo-bar"]));
    }

    #[test]
    fn project_entry_beats_all_and_only_binary_beats_no_binary() {
        let control = FormatControl {
            no_binary: set(&["x"]),
            only_binary: set(&[":all:"]),
        };
        // `x`'s own --no-binary entry wins over --only-binary :all:.
        let x = control.allowed_formats(&name("x"));
        assert!(!x.binary && x.source);
        let other = control.allowed_formats(&name("other"));
        assert!(other.binary && !other.source);
        let both = FormatControl {
            no_binary: set(&[":all:"]),
            only_binary: set(&[":all:"]),
        };
        let y = both.allowed_formats(&name("y"));
        assert!(y.binary && !y.source);
        let nothing = FormatControl::default().allowed_formats(&name("y"));
        assert!(nothing.binary && nothing.source);
    }

    #[test]
    fn a_value_that_is_an_option_is_a_missing_argument() {
        let mut control = FormatControl::default();
        let err = control
            .handle("--pre", Kind::NoBinary)
            .expect_err("an option is not a value");
        assert_eq!(
            err.to_string(),
            "--no-binary / --only-binary option requires 1 argument."
        );
        assert_eq!(control, FormatControl::default());
    }

    #[test]
    fn release_control_mirrors_the_same_rules() {
        let mut control = ReleaseControl::default();
        control
            .handle(":all:", ReleaseKind::OnlyFinal)
            .expect("valid");
        control
            .handle("Django", ReleaseKind::AllReleases)
            .expect("valid");
        assert_eq!(control.allows_prereleases(&name("django")), Some(true));
        assert_eq!(control.allows_prereleases(&name("flask")), Some(false));
        control
            .handle(":none:", ReleaseKind::OnlyFinal)
            .expect("valid");
        assert_eq!(control.allows_prereleases(&name("flask")), None);
    }

    #[test]
    fn canonicalize_collapses_separator_runs() {
        assert_eq!(canonicalize_name("Foo__Bar.-baz"), "foo-bar-baz");
        assert_eq!(canonicalize_name(""), "");
    }
}
