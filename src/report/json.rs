//! `--format json`: the stable, documented schema (see the README). Any breaking change bumps
//! `schema_version`.

use super::Report;

pub fn render(report: &Report) -> String {
    let mut text = serde_json::to_string_pretty(report).expect("a report always serializes");
    text.push('\n');
    text
}
