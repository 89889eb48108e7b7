//! A spinner on stderr while the network works: requests, bytes and cache hits so far.
//!
//! Shown only when stderr is a terminal and not with `-q`, so logs and pipes stay clean.

use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};

use crate::index::http::Stats;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn start(what: String, stats: Arc<Stats>) -> Progress {
        if crate::diag::level() == 0 || !std::io::stderr().is_terminal() {
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {prefix} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_prefix(what);
        bar.enable_steady_tick(Duration::from_millis(100));
        let ticker = bar.clone();
        std::thread::spawn(move || {
            while !ticker.is_finished() {
                let (requests, bytes, hits) = stats.snapshot();
                ticker.set_message(format!(
                    "{requests} requests, {} downloaded, {hits} from cache",
                    HumanBytes(bytes)
                ));
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        Progress { bar: Some(bar) }
    }

    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}
