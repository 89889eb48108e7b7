//! `--format markdown`: a pull-request comment. The recommendation first (image and Dockerfile
//! lines), then a table of the checked images, then the findings with their lines and what to
//! do. Text from outside (error messages, package names) is escaped, so it cannot start a
//! table, a link or HTML.

use super::findings::{FailOn, Finding};
use super::{Report, TargetReport};
use crate::verdict::recommend::Recommendation;

pub fn render(report: &Report, fail_on: FailOn) -> String {
    let mut out = String::new();
    if let Some(recommendation) = &report.recommendation {
        out.push_str(&recommendation_text(recommendation));
    }
    out.push_str("\n### Images\n\n");
    out.push_str(&images_table(&report.targets));
    out.push_str(&findings_text(&report.findings, fail_on));
    out
}

fn recommendation_text(recommendation: &Recommendation) -> String {
    let mut out = match &recommendation.image {
        Some(image) => format!(
            "## wheelcheck: use `{image}` ({})\n\n",
            recommendation.verdict.as_str()
        ),
        None => "## wheelcheck: no checked image can be recommended\n\n".to_string(),
    };
    out.push_str(&escape(&recommendation.why));
    out.push('\n');
    if let Some(image) = &recommendation.image {
        out.push_str("\n```dockerfile\n");
        out.push_str(&format!("FROM {image}\n"));
        for line in &recommendation.dockerfile_lines {
            out.push_str(line);
            out.push('\n');
        }
        out.push_str("```\n");
    }
    if let Some(build) = &recommendation.build {
        out.push_str(&format!(
            "\nSource builds happen in a `{}` stage; `wheelcheck --dockerfile-out Dockerfile` writes the whole multi-stage file.\n",
            build.builder_image
        ));
    }
    out
}

fn images_table(targets: &[TargetReport]) -> String {
    let mut out = String::from(
        "| image | arch | verdict | wheels | sdists | packages to add | size |\n\
         |---|---|---|---:|---:|---|---:|\n",
    );
    for target in targets {
        let verdict = target.verdict.as_ref();
        let packages = verdict.map(|v| &v.system_packages);
        let mut add = packages.map(|p| p.runtime.join(" ")).unwrap_or_default();
        if let Some(build) = packages.filter(|p| !p.build.is_empty()) {
            if !add.is_empty() {
                add.push_str("; ");
            }
            add.push_str(&format!("build: {}", build.build.join(" ")));
        }
        let size = verdict
            .and_then(|v| v.estimated_size_bytes)
            .map(megabytes)
            .unwrap_or_else(|| "?".into());
        out.push_str(&format!(
            "| `{}` | {} | {} | {} | {} | {} | {size} |\n",
            target.image,
            arch_name(&target.arch),
            verdict.map_or("unknown", |v| v.verdict.as_str()),
            target.summary.wheels,
            target.summary.sdists,
            if add.is_empty() {
                "—".into()
            } else {
                escape(&add)
            },
        ));
    }
    out
}

fn findings_text(findings: &[Finding], fail_on: FailOn) -> String {
    if findings.is_empty() {
        return "\n### Findings\n\nNone: every checked image works as is.\n".into();
    }
    let mut out = format!("\n### Findings ({})\n\n", findings.len());
    for finding in findings {
        let level = if fail_on.fails(finding.severity) {
            "error"
        } else {
            "warning"
        };
        let at: Vec<String> = finding.locations.iter().map(|l| format!("`{l}`")).collect();
        let package = finding
            .package
            .as_deref()
            .map(|p| format!(" `{p}`"))
            .unwrap_or_default();
        out.push_str(&format!(
            "- **{level}** {}{package} at {}: {}\n",
            finding.rule.id(),
            at.join(", "),
            escape(&one_line(&finding.message)),
        ));
        let chain = finding.chain_text();
        if !chain.is_empty() {
            out.push_str(&format!("  {}\n", escape(&chain)));
        }
        out.push_str(&format!(
            "  Images: {}.  \n  **What to do:** {}\n",
            escape(&finding.targets.join(", ")),
            escape_around_code(&finding.action)
        ));
    }
    out
}

/// Markdown's punctuation escaped (CommonMark allows a backslash before any ASCII
/// punctuation), so outside text shows as written.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Like [`escape`], but text between backticks (a Dockerfile line in an action) stays a code
/// span, shown as written: code spans need no escapes.
fn escape_around_code(text: &str) -> String {
    if text.matches('`').count() % 2 == 1 {
        return escape(text);
    }
    text.split('`')
        .enumerate()
        .map(|(i, part)| match i % 2 {
            1 if !part.is_empty() => format!("`{part}`"),
            _ => escape(part),
        })
        .collect()
}

/// Several lines (a resolver's explanation) as one, for a list item.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn arch_name(arch: &str) -> &str {
    match arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    }
}

fn megabytes(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{} MB", (bytes + 500_000) / 1_000_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outside_text_cannot_make_markup() {
        assert_eq!(escape("a|b <x> *y*"), "a\\|b \\<x\\> \\*y\\*");
        assert_eq!(one_line("a\n  b\n\nc"), "a b c");
        assert_eq!(
            escape_around_code("add `RUN a && b/*` or *c*"),
            "add `RUN a && b/*` or \\*c\\*"
        );
    }
}
