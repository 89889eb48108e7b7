//! Calls into library parsers that can panic on hostile input, turned into errors.
//!
//! pep508_rs 0.9 panics on some malformed names and extras (`H. `, found by our property
//! test): its parser accepts a name ending in `.` before another character and then `expect`s
//! the name to be valid. Requirement strings come from users' files and from indexes, so a
//! panic there would let any index crash wheelcheck. Parsing runs under `catch_unwind`, with
//! the panic message kept off stderr for those calls only.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Run `parse`; a panic inside becomes `None`.
pub fn guarded<T>(parse: impl FnOnce() -> T) -> Option<T> {
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                default(info);
            }
        }));
    });
    QUIET.with(|quiet| quiet.set(true));
    let result = catch_unwind(AssertUnwindSafe(parse));
    QUIET.with(|quiet| quiet.set(false));
    result.ok()
}

/// A PEP 508 requirement from a string, never panicking.
pub fn requirement(text: &str) -> Result<pep508_rs::Requirement, String> {
    use std::str::FromStr;
    match guarded(|| pep508_rs::Requirement::from_str(text)) {
        Some(result) => result.map_err(|e| e.to_string()),
        None => Err(format!(
            "`{text}` is not a valid requirement (the parser rejected it)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_ending_in_a_separator_are_errors_not_panics() {
        for text in [
            "H. ",
            "H.[x]",
            "a-_ ; python_version > '3'",
            "ok[extra.]",
            "ok[.]",
        ] {
            assert!(requirement(text).is_err(), "{text}");
        }
        assert!(requirement("requests[socks]>=2").is_ok());
    }

    #[test]
    fn other_panics_still_surface() {
        let caught = guarded(|| -> u8 { panic!("inside") });
        assert!(caught.is_none());
        assert_eq!(guarded(|| 7), Some(7));
    }
}
