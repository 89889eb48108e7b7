//! `--format html`: one self-contained HTML5 file to hand to a team — the answer first (the
//! image and the lines to add), then a size chart, the verdict per image, the recommended
//! Dockerfile, the packages per image and the notes.
//!
//! The page loads nothing: the style is inline, the chart is inline SVG, there is no script and
//! no link, and file names are shown as text. Every piece of text goes through maud's
//! escaping, since package names, reasons and notes come from the index and the user's files.

pub mod chart;

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::{PackageReport, Report, TargetReport, dockerfile, human::megabytes};
use crate::resolve::Kind;
use crate::verdict::TargetVerdict;
use crate::verdict::recommend::Recommendation;

/// Light and dark colours, print rules; ours, so it is written into the page unescaped.
const STYLE: &str = include_str!("style.css");

pub fn render(report: &Report) -> String {
    let title = match report
        .recommendation
        .as_ref()
        .and_then(|r| r.image.as_deref())
    {
        Some(image) => format!("wheelcheck: use {image}"),
        None => "wheelcheck report".to_string(),
    };
    let page = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="color-scheme" content="light dark";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body {
                (answer(report))
                main {
                    (sizes(report))
                    (verdicts(report))
                    (dockerfile_section(report))
                    (packages(report))
                    (notes(report))
                }
                footer {
                    "wheelcheck " (report.wheelcheck_version) " · Python " (report.python)
                    " · report schema " (report.schema_version)
                }
            }
        }
    };
    let mut text = page.into_string();
    text.push('\n');
    text
}

/// The verdict as the tables and chart name it; `unknown` when nothing could be judged because
/// something could not be read.
fn verdict_name(target: &TargetReport) -> &'static str {
    match &target.verdict {
        Some(verdict) => verdict.verdict.as_str(),
        None if target.could_not_check() => "unknown",
        None => "not-judged",
    }
}

/// The header: the image to use, why, and the exact lines to add — the first screenful.
fn answer(report: &Report) -> Markup {
    let checked = report.targets.len();
    html! {
        header #answer {
            p.eyebrow {
                "wheelcheck · Python " (report.python) " · " (checked)
                @if checked == 1 { " image checked" } @else { " images and architectures checked" }
            }
            @match &report.recommendation {
                Some(recommendation) => (recommendation_block(recommendation)),
                None => h1 { "No recommendation was made." },
            }
        }
    }
}

fn recommendation_block(recommendation: &Recommendation) -> Markup {
    let verdict = recommendation.verdict.as_str();
    html! {
        @match &recommendation.image {
            Some(image) => {
                h1 { "Use " code { (image) } }
                p.headline {
                    span class=(format!("badge {verdict}")) { (verdict) }
                    @if let Some(bytes) = recommendation.estimated_size_bytes {
                        " about " strong { (megabytes(bytes)) }
                    }
                }
            }
            None if verdict == "unknown" => h1 { "Could not check: no image can be recommended." },
            None => h1 { "No checked image can install these requirements." },
        }
        p.why { (recommendation.why) }
        @if !recommendation.dockerfile_lines.is_empty() {
            h2 { "Add to your Dockerfile" }
            pre.lines { code { (recommendation.dockerfile_lines.join("\n")) } }
        } @else if recommendation.image.is_some() {
            p { "Nothing to add: the image as it is, and " code { "pip install -r" } " your file." }
        }
        @if let Some(build) = &recommendation.build {
            p.build {
                "Build the wheels in a " code { (build.builder_image) } " stage"
                @if !recommendation.build_packages.is_empty() {
                    " (add there: " code { (recommendation.build_packages.join(" ")) } ")"
                }
                ". Final image: about "
                (build.multi_stage_bytes.map(megabytes).unwrap_or_else(|| "?".into()))
                " multi-stage; about "
                (build.in_place_bytes.map(megabytes).unwrap_or_else(|| "?".into()))
                " if built in place with the tools left installed."
            }
        }
    }
}

fn sizes(report: &Report) -> Markup {
    let bars = chart::bars(report);
    html! {
        section #sizes {
            h2 { "Estimated image size" }
            @if bars.is_empty() {
                p { "No image was checked." }
            } @else {
                figure {
                    (chart::svg(&bars))
                    figcaption {
                        "Published image size + installed wheels + added system packages. "
                        "★ marks the recommended image."
                    }
                }
            }
        }
    }
}

fn verdicts(report: &Report) -> Markup {
    html! {
        section #verdicts {
            h2 { "Verdict per image" }
            table {
                thead { tr {
                    th { "Image" } th { "Arch" } th { "libc" } th { "Verdict" }
                    th { "Files" } th { "Missing libraries" } th { "Add at run time" }
                    th { "Add to build" } th.num { "Est. size" }
                } }
                tbody {
                    @for target in &report.targets { (verdict_row(target)) }
                }
            }
        }
    }
}

fn verdict_row(target: &TargetReport) -> Markup {
    let verdict = verdict_name(target);
    let summary = &target.summary;
    let judged = target.verdict.as_ref();
    html! {
        tr {
            td { code { (target.image) } }
            td { (target.docker_arch()) }
            td { (target.libc) " " (target.libc_version) }
            td {
                span class=(format!("badge {verdict}")) { (verdict) }
                @for reason in judged.map(|v| v.reasons.as_slice()).unwrap_or_default() {
                    div.reason { (reason) }
                }
            }
            td {
                (counted(summary.wheels, "wheel"))
                @if summary.sdists > 0 { ", " (counted(summary.sdists, "sdist")) }
                @if summary.none > 0 { ", " (summary.none) " without a file" }
            }
            td { (missing_libraries(judged)) }
            td { (words(judged.map(|v| v.system_packages.runtime.as_slice()))) }
            td { (words(judged.map(|v| v.system_packages.build.as_slice()))) }
            td.num {
                (judged.and_then(|v| v.estimated_size_bytes).map(megabytes).unwrap_or_else(|| "?".into()))
            }
        }
    }
}

/// `1 wheel`, `2 wheels`.
fn counted(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

fn missing_libraries(verdict: Option<&TargetVerdict>) -> Markup {
    let missing = verdict.map(|v| &v.missing_sonames);
    html! {
        @match missing {
            Some(missing) if !missing.is_empty() => {
                @for (soname, packages) in missing {
                    div {
                        code { (soname) }
                        @if packages.is_empty() { " (in no package)" }
                    }
                }
            }
            _ => "—",
        }
    }
}

fn words(items: Option<&[String]>) -> Markup {
    html! {
        @match items {
            Some(items) if !items.is_empty() => code { (items.join(" ")) },
            _ => "—",
        }
    }
}

fn dockerfile_section(report: &Report) -> Markup {
    let plan = report.recommendation.as_ref().and_then(|r| r.plan.as_ref());
    html! {
        section #dockerfile {
            h2 { "Recommended Dockerfile" }
            @match plan {
                Some(plan) => {
                    p { "What " code { "--dockerfile-out Dockerfile" } " writes:" }
                    pre { code { (dockerfile::render(plan)) } }
                }
                None => p { "None: no checked image can be recommended." },
            }
        }
    }
}

fn packages(report: &Report) -> Markup {
    html! {
        section #packages {
            h2 { "Packages per image" }
            @for target in &report.targets { (target_packages(target)) }
        }
    }
}

fn target_packages(target: &TargetReport) -> Markup {
    let verdict = verdict_name(target);
    html! {
        section.target {
            h3 {
                code { (target.label()) } " "
                span class=(format!("badge {verdict}")) { (verdict) }
            }
            table {
                thead { tr {
                    th { "Package" } th { "Version" } th { "File" } th.num { "Size" }
                    th { "Needs from the system" } th { "Packages to add" }
                } }
                tbody {
                    @for package in &target.packages { (package_row(target, package)) }
                }
            }
        }
    }
}

fn package_row(target: &TargetReport, package: &PackageReport) -> Markup {
    let needed: Vec<&String> = package
        .elf
        .as_ref()
        .map(|elf| elf.needed_from_system.iter().collect())
        .unwrap_or_default();
    let missing = target.verdict.as_ref().map(|v| &v.missing_sonames);
    let mut add: Vec<&str> = needed
        .iter()
        .filter_map(|soname| missing.and_then(|m| m.get(*soname)))
        .flatten()
        .map(String::as_str)
        .collect();
    add.sort_unstable();
    add.dedup();
    html! {
        tr class=(kind_class(package.kind)) {
            td.name {
                (package.name)
                @if let Some((_, via)) = package.chain.split_last().filter(|(_, via)| !via.is_empty()) {
                    div.via { "via " (via.join(" → ")) }
                }
            }
            td { (package.version.as_deref().unwrap_or("—")) }
            td.file { (file_cell(package)) }
            td.num { (package.size.map(file_size).unwrap_or_else(|| "—".into())) }
            td {
                @if needed.is_empty() { "—" }
                @for soname in &needed {
                    div { code { (soname) }
                        @if missing.is_some_and(|m| m.contains_key(*soname)) { " (missing)" }
                    }
                }
            }
            td { @if add.is_empty() { "—" } @else { code { (add.join(" ")) } } }
        }
    }
}

fn kind_class(kind: Kind) -> &'static str {
    match kind {
        Kind::Wheel => "wheel",
        Kind::Sdist => "sdist",
        Kind::None => "none",
    }
}

/// The file name as text (never a link: the page fetches nothing), or what stands instead.
fn file_cell(package: &PackageReport) -> Markup {
    html! {
        @match package.kind {
            Kind::Wheel => (package.file.as_deref().unwrap_or("—")),
            Kind::Sdist => {
                strong { "sdist, built from source: " }
                (package.file.as_deref().unwrap_or("—"))
            }
            Kind::None => {
                strong { "none: " }
                (package.reason.as_deref().unwrap_or("no usable file"))
            }
        }
    }
}

/// File sizes in kB under a megabyte (small pure-Python wheels), else as image sizes are shown.
fn file_size(bytes: u64) -> String {
    if bytes < 1_000_000 {
        format!("{} kB", bytes.div_ceil(1000))
    } else {
        megabytes(bytes)
    }
}

/// Everything behind the verdicts, per image: errors, sdists' alternatives, libraries from the
/// host, glibc too old, failed ELF reads, the verdict's notes; then the lines not checked.
fn notes(report: &Report) -> Markup {
    let unresolved = report
        .targets
        .first()
        .map(|t| t.unresolved_lines.as_slice())
        .unwrap_or_default();
    html! {
        section #notes {
            h2 { "Notes" }
            @for target in &report.targets {
                @let items = target_notes(target);
                @if !items.is_empty() {
                    h3 { code { (target.label()) } }
                    ul { @for item in &items { li { (item) } } }
                }
            }
            @if !unresolved.is_empty() {
                h3 { "Lines not checked" }
                ul {
                    @for line in unresolved {
                        li { code { (line.source) } ": " (line.why) " (" code { (line.line) } ")" }
                    }
                }
            }
        }
    }
}

fn target_notes(target: &TargetReport) -> Vec<String> {
    let mut items = Vec::new();
    items.extend(target.resolution.error.clone());
    if let Some(error) = &target.binary_only_error {
        items.push(format!(
            "could not check the wheels-only alternative: {error}"
        ));
    }
    for package in target.packages.iter().filter(|p| p.kind == Kind::Sdist) {
        if let Some(version) = &package.binary_only_version {
            items.push(format!(
                "{}: built from source; with wheels only, pip would take {version}",
                package.name
            ));
        }
    }
    for (package, version) in target.glibc_too_new() {
        items.push(format!(
            "{package} needs GLIBC {version}, newer than the image's {}",
            target.libc_version
        ));
    }
    for package in &target.packages {
        if let Some(elf) = package.elf.as_ref().filter(|e| !e.is_done()) {
            items.push(format!(
                "{}: ELF analysis {}; its needs are unknown",
                package.name, elf.analysis
            ));
        }
        if let Some(note) = &package.note {
            items.push(format!("{}: {note}", package.name));
        }
    }
    if let Some(verdict) = &target.verdict {
        for (soname, packages) in &verdict.host_libraries {
            items.push(format!(
                "needs {soname} from the host's GPU driver (for {}): run on a GPU host with the NVIDIA Container Toolkit",
                packages.join(", ")
            ));
        }
        items.extend(verdict.notes.iter().cloned());
    }
    items
}

#[cfg(test)]
mod tests;
