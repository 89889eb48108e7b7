//! Diagnostics on stderr, gated by `-q` / `-v`.
//!
//! A global level rather than a logger passed around: every stage may need to say something, and
//! none of them should need a parameter for it.

use std::fmt::Arguments;
use std::sync::LazyLock;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Instant;

static LEVEL: AtomicU8 = AtomicU8::new(1);
/// Debug lines carry the time since start-up, so that a slow run shows where it waited.
static STARTED: LazyLock<Instant> = LazyLock::new(Instant::now);

/// 0 = quiet (errors only), 1 = normal, 2 = verbose (`-v`), 3 = debug (`-vv`).
pub fn set_level(level: u8) {
    LazyLock::force(&STARTED);
    LEVEL.store(level, Ordering::Relaxed);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

pub fn warn(message: Arguments) {
    if level() >= 1 {
        eprintln!("warning: {message}");
    }
}

pub fn info(message: Arguments) {
    if level() >= 2 {
        eprintln!("{message}");
    }
}

pub fn debug(message: Arguments) {
    if level() >= 3 {
        eprintln!("debug: {:7.3}s {message}", STARTED.elapsed().as_secs_f64());
    }
}
