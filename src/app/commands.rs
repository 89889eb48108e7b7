//! The subcommands that describe wheelcheck itself: shell completions and the manual page, both
//! generated from the clap definition so they never drift from `--help`.

use std::io::Write;

use anyhow::Context;
use clap::CommandFactory;

use crate::cli::{Args, Command};

/// Runs `command`, writing to `out`. A reader that stops early (`wheelcheck man | head`) is not
/// an error.
pub fn run(command: &Command, out: &mut dyn Write) -> anyhow::Result<()> {
    match write(command, out) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to standard output"),
    }
}

fn write(command: &Command, out: &mut dyn Write) -> std::io::Result<()> {
    let mut cli = Args::command();
    // Generated in memory first: clap_complete panics on a failed write.
    let mut text = Vec::new();
    match command {
        Command::Completions { shell } => {
            clap_complete::generate(*shell, &mut cli, "wheelcheck", &mut text);
        }
        Command::Man => clap_mangen::Man::new(cli).render(&mut text)?,
        // `Args::from_command_line` has already turned `why` into the main command.
        Command::Why { .. } => {}
    }
    out.write_all(&text)?;
    out.flush()
}
