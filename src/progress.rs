//! Progress bars on stderr while a run works: resolution (targets done of all), metadata read,
//! wheel inspection (wheels done of those queued, ELF bytes fetched), and the network (requests,
//! bytes, and which request has been waited on longest, so a slow run says what it waits for).
//!
//! Shown only when stderr is a terminal and not with `-q`, so logs, pipes and CI stay clean.
//! The bars read the run's atomic counters ([`Activity`]) from a thread of their own.

use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::index::activity::Activity;
use crate::index::http::Stats;

/// Whether to draw: only to a terminal, and not when the user asked for quiet (`level` 0).
pub fn enabled(stderr_is_terminal: bool, level: u8) -> bool {
    stderr_is_terminal && level > 0
}

pub struct Progress {
    running: Option<Running>,
}

struct Running {
    multi: MultiProgress,
    stop: Arc<AtomicBool>,
    ticker: JoinHandle<()>,
}

impl Progress {
    pub fn start(stats: Arc<Stats>) -> Progress {
        if !enabled(std::io::stderr().is_terminal(), crate::diag::level()) {
            return Progress { running: None };
        }
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let bars = Bars {
            resolve: multi.add(bar("resolving ", "{prefix} {bar:24} {pos}/{len} targets")),
            metadata: multi.add(bar("metadata  ", "{prefix} {spinner} {wide_msg}")),
            inspect: multi.add(bar("inspecting", "{prefix} {bar:24} {wide_msg}")),
            network: multi.add(bar(
                "network   ",
                "{prefix} {spinner} [{elapsed}] {wide_msg}",
            )),
        };
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let ticker = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                bars.update(&stats);
                std::thread::sleep(Duration::from_millis(100));
            }
            bars.clear();
        });
        Progress {
            running: Some(Running {
                multi,
                stop,
                ticker,
            }),
        }
    }

    pub fn finish(self) {
        if let Some(running) = self.running {
            running.stop.store(true, Ordering::Relaxed);
            let _ = running.ticker.join();
            let _ = running.multi.clear();
        }
    }
}

fn bar(prefix: &'static str, template: &str) -> ProgressBar {
    let style = ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> ");
    ProgressBar::no_length()
        .with_style(style)
        .with_prefix(prefix)
}

struct Bars {
    resolve: ProgressBar,
    metadata: ProgressBar,
    inspect: ProgressBar,
    network: ProgressBar,
}

impl Bars {
    fn update(&self, stats: &Stats) {
        let activity = &stats.activity;
        let get = Activity::get;
        self.resolve.set_length(get(&activity.targets_total));
        self.resolve.set_position(get(&activity.targets_resolved));
        self.metadata
            .set_message(metadata_line(get(&activity.pages), get(&activity.metadata)));
        self.metadata.tick();
        // The counts are in the message: until a wheel is queued, a length of 0 would draw a
        // full bar.
        let (queued, inspected) = (
            get(&activity.wheels_queued),
            get(&activity.wheels_inspected),
        );
        self.inspect.set_length(queued.max(1));
        self.inspect.set_position(inspected);
        self.inspect.set_message(format!(
            "{inspected}/{queued} wheels, {} of ELF files",
            HumanBytes(get(&activity.elf_bytes))
        ));
        let (requests, bytes, hits) = stats.snapshot();
        self.network.set_message(network_line(
            requests,
            bytes,
            hits,
            activity.waiting.longest(),
        ));
        self.network.tick();
    }

    fn clear(&self) {
        for bar in [&self.resolve, &self.metadata, &self.inspect, &self.network] {
            bar.finish_and_clear();
        }
    }
}

fn metadata_line(pages: u64, metadata: u64) -> String {
    format!("{pages} project pages, {metadata} metadata files")
}

/// `12 requests, 3.40 MiB, 5 from cache; waiting on numpy-2.1.0-…whl (4s) and 2 more`: the
/// request waited on longest is named once it has taken a second.
fn network_line(
    requests: u64,
    bytes: u64,
    hits: u64,
    longest: Option<(String, Duration, usize)>,
) -> String {
    let mut line = format!(
        "{requests} requests, {}, {hits} from cache",
        HumanBytes(bytes)
    );
    if let Some((name, age, count)) = longest.filter(|(_, age, _)| *age >= Duration::from_secs(1)) {
        line.push_str(&format!("; waiting on {name} ({}s)", age.as_secs()));
        if count > 1 {
            line.push_str(&format!(" and {} more", count - 1));
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_are_drawn_only_on_a_terminal_and_not_when_quiet() {
        assert!(enabled(true, 1));
        assert!(enabled(true, 3));
        assert!(!enabled(false, 1), "not a terminal");
        assert!(!enabled(true, 0), "-q");
    }

    #[test]
    fn the_network_line_names_what_it_has_waited_on_for_a_second_or_more() {
        let line = network_line(12, 3 << 20, 5, None);
        assert_eq!(line, "12 requests, 3.00 MiB, 5 from cache");
        let quick = network_line(
            1,
            0,
            0,
            Some(("numpy".into(), Duration::from_millis(200), 1)),
        );
        assert!(!quick.contains("waiting"), "{quick}");
        let slow = network_line(
            1,
            0,
            0,
            Some((
                "torch-2.5.0-cp312-cp312-manylinux_2_28_x86_64.whl".into(),
                Duration::from_secs(7),
                3,
            )),
        );
        assert!(
            slow.ends_with(
                "; waiting on torch-2.5.0-cp312-cp312-manylinux_2_28_x86_64.whl (7s) and 2 more"
            ),
            "{slow}"
        );
    }
}
