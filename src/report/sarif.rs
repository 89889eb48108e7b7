//! `--format sarif`: SARIF 2.1.0, for code-scanning upload. One rule per kind of finding, one
//! result per finding, located on the requirement line responsible (relative to the checkout,
//! `%SRCROOT%`). Levels follow `--fail-on` as in the GitHub format: `error` when the finding
//! fails the gate, `warning` otherwise.

use serde_json::{Value, json};

use super::Report;
use super::findings::{FailOn, Finding, Location, Rule};

const SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

pub fn render(report: &Report, fail_on: FailOn) -> String {
    let mut text =
        serde_json::to_string_pretty(&log(report, fail_on)).expect("a SARIF log serializes");
    text.push('\n');
    text
}

fn log(report: &Report, fail_on: FailOn) -> Value {
    let mut driver = json!({
        "name": "wheelcheck",
        "version": report.wheelcheck_version,
        "semanticVersion": report.wheelcheck_version,
        "rules": Rule::ALL.iter().map(|rule| rule_descriptor(*rule, fail_on)).collect::<Vec<_>>(),
    });
    if let Some(uri) = information_uri(env!("CARGO_PKG_HOMEPAGE"), env!("CARGO_PKG_REPOSITORY")) {
        driver["informationUri"] = json!(uri);
    }
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": driver },
            "results": report.findings.iter().map(|f| result(f, fail_on)).collect::<Vec<_>>(),
        }],
    })
}

/// The project's page, from the package's `homepage` or `repository`; none when neither is set.
fn information_uri(homepage: &str, repository: &str) -> Option<String> {
    [homepage, repository]
        .into_iter()
        .find(|uri| !uri.is_empty())
        .map(String::from)
}

fn level(fail_on: FailOn, severity: super::findings::Severity) -> &'static str {
    if fail_on.fails(severity) {
        "error"
    } else {
        "warning"
    }
}

fn rule_descriptor(rule: Rule, fail_on: FailOn) -> Value {
    json!({
        "id": rule.id(),
        "name": rule.title().replace(' ', ""),
        "shortDescription": { "text": rule.title() },
        "fullDescription": { "text": rule.description() },
        "defaultConfiguration": { "level": level(fail_on, rule.severity()) },
        "properties": { "fail-on-level": rule.severity().as_str() },
    })
}

fn result(finding: &Finding, fail_on: FailOn) -> Value {
    let index = Rule::ALL
        .iter()
        .position(|r| *r == finding.rule)
        .expect("every rule is listed");
    json!({
        "ruleId": finding.rule.id(),
        "ruleIndex": index,
        "level": level(fail_on, finding.severity),
        "message": { "text": finding.full_text() },
        "locations": finding.locations.iter().map(location).collect::<Vec<_>>(),
        "properties": {
            "package": finding.package,
            "chain": finding.chain,
            "images": finding.targets,
            "severity": finding.severity.as_str(),
            "action": finding.action,
        },
    })
}

/// A relative path is relative to the checkout (`%SRCROOT%`); an absolute one is a file URI.
fn location(location: &Location) -> Value {
    let artifact = if location.file.is_absolute() {
        match url::Url::from_file_path(&location.file) {
            Ok(uri) => json!({ "uri": uri.as_str() }),
            Err(()) => json!({ "uri": relative_uri(&location.file.to_string_lossy()) }),
        }
    } else {
        json!({
            "uri": relative_uri(&location.file.to_string_lossy()),
            "uriBaseId": "%SRCROOT%",
        })
    };
    let mut physical = json!({ "artifactLocation": artifact });
    if let Some(line) = location.line {
        physical["region"] = json!({ "startLine": line });
    }
    json!({ "physicalLocation": physical })
}

/// A relative path as a URI reference: `/` separators, each segment percent-encoded.
fn relative_uri(path: &str) -> String {
    path.replace('\\', "/")
        .split('/')
        .map(|segment| {
            url::form_urlencoded::byte_serialize(segment.as_bytes())
                .collect::<String>()
                .replace('+', "%20")
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_stay_relative_and_are_encoded() {
        assert_eq!(relative_uri("reqs/dev file.txt"), "reqs/dev%20file.txt");
        assert_eq!(relative_uri("requirements.txt"), "requirements.txt");
        let found = location(&Location {
            file: "reqs/a.txt".into(),
            line: Some(7),
        });
        let physical = &found["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uriBaseId"], "%SRCROOT%");
        assert_eq!(physical["region"]["startLine"], 7);
        let whole = location(&Location {
            file: "/abs/r.txt".into(),
            line: None,
        });
        assert_eq!(
            whole["physicalLocation"]["artifactLocation"]["uri"],
            "file:///abs/r.txt"
        );
        assert!(whole["physicalLocation"].get("region").is_none());
    }

    #[test]
    fn the_information_uri_comes_from_the_package_when_set() {
        assert_eq!(information_uri("", ""), None);
        assert_eq!(
            information_uri("", "https://example.org/r").as_deref(),
            Some("https://example.org/r")
        );
    }
}
