//! `--format github`: GitHub Actions workflow commands, one annotation per finding, on the
//! requirement line responsible.
//!
//! A finding that fails the gate at the chosen `--fail-on` level is an `error`, one below it a
//! `warning`, so the annotations say which findings turned the job red. One `notice` at the
//! end gives the recommendation.

use super::Report;
use super::findings::{FailOn, Finding};

pub fn render(report: &Report, fail_on: FailOn) -> String {
    let mut out = String::new();
    for finding in &report.findings {
        out.push_str(&command(finding, fail_on));
        out.push('\n');
    }
    if let Some(recommendation) = &report.recommendation {
        let text = match &recommendation.image {
            Some(image) => format!(
                "Use {image} ({}). {}",
                recommendation.verdict.as_str(),
                recommendation.why
            ),
            None => recommendation.why.clone(),
        };
        out.push_str(&format!(
            "::notice title={}::{}\n",
            property("wheelcheck recommendation"),
            data(&text)
        ));
    }
    out
}

/// `::error file=requirements.txt,line=3,title=...::message` at the finding's first location.
fn command(finding: &Finding, fail_on: FailOn) -> String {
    let level = if fail_on.fails(finding.severity) {
        "error"
    } else {
        "warning"
    };
    let mut properties = Vec::new();
    if let Some(location) = finding.locations.first() {
        properties.push(format!(
            "file={}",
            property(&location.file.to_string_lossy())
        ));
        if let Some(line) = location.line {
            properties.push(format!("line={line}"));
        }
    }
    let title = match &finding.package {
        Some(package) => format!("{}: {package}", finding.rule.title()),
        None => finding.rule.title().to_string(),
    };
    properties.push(format!("title={}", property(&title)));
    format!(
        "::{level} {}::{}",
        properties.join(","),
        data(&finding.full_text())
    )
}

/// The message of a workflow command: `%`, CR and LF escaped.
pub fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// A property value: as [`data`], and `:` and `,` too, which end a property.
pub fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::findings::{Location, Rule, Severity};

    #[test]
    fn messages_and_properties_are_escaped() {
        assert_eq!(data("50% a\r\nb: c, d"), "50%25 a%0D%0Ab: c, d");
        assert_eq!(property("a: b, 5%\n"), "a%3A b%2C 5%25%0A");
    }

    fn finding(severity: Severity, line: Option<usize>) -> Finding {
        Finding {
            rule: Rule::SourceBuild,
            severity,
            package: Some("anyio".into()),
            chain: vec!["fastapi".into(), "anyio".into()],
            locations: vec![Location {
                file: "dir,x/req.txt".into(),
                line,
            }],
            targets: vec!["python:3.12-alpine3.24 (amd64)".into()],
            message: "anyio 4.0 has no wheel\nsecond line".into(),
            action: "pin anyio==3".into(),
        }
    }

    #[test]
    fn a_finding_is_one_command_on_its_line_error_or_warning_by_level() {
        let error = command(
            &finding(Severity::SourceBuild, Some(4)),
            FailOn::SourceBuild,
        );
        assert_eq!(
            error,
            "::error file=dir%2Cx/req.txt,line=4,title=Built from source%3A anyio::anyio 4.0 has no wheel%0Asecond line. Pulled in by fastapi → anyio. Images: python:3.12-alpine3.24 (amd64). What to do: pin anyio==3."
        );
        let warning = command(&finding(Severity::SourceBuild, None), FailOn::Unresolvable);
        assert!(
            warning.starts_with("::warning file=dir%2Cx/req.txt,title="),
            "{warning}"
        );
        assert!(!warning.contains('\n'));
    }
}
