//! Colour in the human report: whether to use it, and how each kind of text looks.
//!
//! Colour helps a person find the answer on a terminal and harms everything else (files, pipes,
//! CI logs), so `auto` colours only a terminal, never with `NO_COLOR` set (non-empty, as
//! no-color.org says) or a report written with `-o FILE`. `--color always` is the user's explicit
//! wish and wins over all of these.

use std::ffi::OsStr;

use anstyle::{AnsiColor, Style};

use crate::cli::ColorChoice;
use crate::verdict::Verdict;

/// What decides whether to colour; the terminal test is passed in so that it can be tested.
#[derive(Debug, Clone, Copy)]
pub struct Surroundings<'a> {
    pub stdout_is_terminal: bool,
    /// The value of `NO_COLOR`, if set.
    pub no_color: Option<&'a OsStr>,
    /// `TERM=dumb` terminals show escape codes as text.
    pub dumb_terminal: bool,
    /// The report goes to a file (`-o FILE`).
    pub to_file: bool,
}

pub fn use_color(choice: ColorChoice, around: Surroundings<'_>) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            around.stdout_is_terminal
                && !around.to_file
                && !around.dumb_terminal
                && around.no_color.is_none_or(OsStr::is_empty)
        }
    }
}

/// The palette for a report written to standard output (or to a file, with `to_file`), looking
/// at this process's terminal and environment.
pub fn detect(choice: ColorChoice, to_file: bool) -> Palette {
    use std::io::IsTerminal;
    let no_color = std::env::var_os("NO_COLOR");
    let around = Surroundings {
        stdout_is_terminal: std::io::stdout().is_terminal(),
        no_color: no_color.as_deref(),
        dumb_terminal: std::env::var_os("TERM").is_some_and(|t| t == "dumb"),
        to_file,
    };
    Palette::new(use_color(choice, around))
}

/// How the report's words look: plain, or with ANSI styles.
#[derive(Debug, Clone, Copy, Default)]
pub struct Palette {
    enabled: bool,
}

impl Palette {
    pub fn new(enabled: bool) -> Self {
        Palette { enabled }
    }

    pub fn plain() -> Self {
        Palette { enabled: false }
    }

    fn paint(&self, style: Style, text: &str) -> String {
        if self.enabled {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }

    /// A verdict word, coloured by how good it is.
    pub fn verdict(&self, verdict: Verdict, text: &str) -> String {
        let color = match verdict {
            Verdict::Works => AnsiColor::Green,
            Verdict::WorksWithPackages => AnsiColor::Cyan,
            Verdict::NeedsBuild => AnsiColor::Yellow,
            Verdict::Unknown => AnsiColor::Magenta,
            Verdict::Fails => AnsiColor::Red,
        };
        self.paint(Style::new().fg_color(Some(color.into())).bold(), text)
    }

    /// The answer: the image to use.
    pub fn answer(&self, text: &str) -> String {
        self.paint(Style::new().bold().underline(), text)
    }

    /// Lines to copy into a Dockerfile.
    pub fn code(&self, text: &str) -> String {
        self.paint(Style::new().fg_color(Some(AnsiColor::Cyan.into())), text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn around(terminal: bool, no_color: Option<&str>, to_file: bool) -> Surroundings<'_> {
        Surroundings {
            stdout_is_terminal: terminal,
            no_color: no_color.map(OsStr::new),
            dumb_terminal: false,
            to_file,
        }
    }

    #[test]
    fn auto_colours_only_a_terminal_without_no_color_and_without_a_file() {
        assert!(use_color(ColorChoice::Auto, around(true, None, false)));
        assert!(!use_color(ColorChoice::Auto, around(false, None, false)));
        assert!(!use_color(
            ColorChoice::Auto,
            around(true, Some("1"), false)
        ));
        assert!(!use_color(ColorChoice::Auto, around(true, None, true)));
        // An empty NO_COLOR does not count (no-color.org).
        assert!(use_color(ColorChoice::Auto, around(true, Some(""), false)));
        let dumb = Surroundings {
            dumb_terminal: true,
            ..around(true, None, false)
        };
        assert!(!use_color(ColorChoice::Auto, dumb));
    }

    #[test]
    fn always_and_never_are_obeyed_whatever_the_surroundings() {
        assert!(use_color(
            ColorChoice::Always,
            around(false, Some("1"), true)
        ));
        assert!(!use_color(ColorChoice::Never, around(true, None, false)));
    }

    #[test]
    fn a_plain_palette_adds_nothing_and_a_coloured_one_wraps_in_escapes() {
        let plain = Palette::plain();
        assert_eq!(plain.verdict(Verdict::Fails, "fails"), "fails");
        assert_eq!(plain.code("RUN x"), "RUN x");
        let coloured = Palette::new(true);
        let red = coloured.verdict(Verdict::Fails, "fails");
        assert!(
            red.starts_with("\u{1b}[") && red.ends_with("\u{1b}[0m"),
            "{red:?}"
        );
        assert!(red.contains("fails"));
        assert_ne!(red, coloured.verdict(Verdict::Works, "fails"));
    }
}
