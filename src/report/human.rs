//! `--format human`: a summary line per target, then one table with a column per target.

use comfy_table::{ContentArrangement, Table, presets};

use super::style::Palette;
use super::{PackageReport, Report, TargetReport};
use crate::resolve::Kind;
use crate::verdict::recommend::Recommendation;
use crate::verdict::{TargetVerdict, Verdict};

const WIDTH: u16 = 100;

pub fn render(report: &Report) -> String {
    render_with(report, &Palette::plain())
}

/// The report with the verdicts, the recommended image and the Dockerfile lines styled by
/// `palette` (plain text when it is disabled).
pub fn render_with(report: &Report, palette: &Palette) -> String {
    let mut out = String::new();
    if let Some(recommendation) = &report.recommendation {
        out.push_str(&recommendation_text(recommendation, palette));
        out.push('\n');
    }
    for target in &report.targets {
        out.push_str(&summary_line(target, palette));
        out.push('\n');
        if let Some(error) = &target.binary_only_error {
            out.push_str(&format!(
                "    could not check the wheels-only alternative: {error}\n"
            ));
        }
        if let Some(error) = &target.resolution.error {
            for line in error.lines() {
                out.push_str(&format!("    {line}\n"));
            }
        }
        for package in target.packages.iter().filter(|p| p.kind == Kind::Sdist) {
            let version = package.version.as_deref().unwrap_or("?");
            let instead = match (&package.binary_only_version, &target.binary_only_error) {
                (Some(v), _) => format!("with wheels only, pip would take {v}"),
                (None, Some(_)) => {
                    "could not check whether an older release has a wheel (see the error above)"
                        .to_string()
                }
                (None, None) => {
                    "no release the requirements allow has a wheel for this image".to_string()
                }
            };
            out.push_str(&format!(
                "    {} {version}: sdist, built from source; {instead}\n",
                package.name
            ));
            out.push_str(&super::instead::human_lines(package));
        }
        if let Some(verdict) = &target.verdict {
            out.push_str(&verdict_lines(target, verdict));
        }
        for (package, version) in target.glibc_too_new() {
            out.push_str(&format!(
                "    {package} needs GLIBC {version}, newer than the image's {}\n",
                target.libc_version
            ));
        }
        for package in target
            .packages
            .iter()
            .filter(|p| p.elf.as_ref().is_some_and(|e| !e.is_done()))
        {
            let analysis = package
                .elf
                .as_ref()
                .map(|e| e.analysis.as_str())
                .unwrap_or_default();
            out.push_str(&format!(
                "    {}: ELF analysis {analysis}; its needs are unknown\n",
                package.name
            ));
        }
        for package in target.packages.iter().filter(|p| p.kind == Kind::None) {
            let reason = package.reason.as_deref().unwrap_or("no usable file");
            out.push_str(&format!("    {}: {reason}\n", package.name));
        }
    }
    out.push('\n');
    out.push_str(&matrix(report).to_string());
    out.push('\n');
    out.push_str(&unresolved(report));
    out.push_str(&super::findings::human_text(&report.findings));
    if crate::diag::level() >= 2 {
        out.push_str(&files(report));
    }
    out
}

/// The answer first: the image, why, and the exact lines to add.
fn recommendation_text(recommendation: &Recommendation, palette: &Palette) -> String {
    let mut out = String::new();
    match &recommendation.image {
        Some(image) => {
            let size = recommendation
                .estimated_size_bytes
                .map(|b| format!(", about {}", megabytes(b)))
                .unwrap_or_default();
            out.push_str(&format!(
                "Use {} ({}{size}).\n",
                palette.answer(image),
                palette.verdict(recommendation.verdict, recommendation.verdict.as_str())
            ));
        }
        None if recommendation.verdict == Verdict::Unknown => {
            out.push_str("Could not check: no image can be recommended.\n")
        }
        None => out.push_str("No checked image can install these requirements.\n"),
    }
    out.push_str(&format!("  {}\n", recommendation.why));
    if !recommendation.dockerfile_lines.is_empty() {
        out.push_str("  Add to your Dockerfile:\n");
        for line in &recommendation.dockerfile_lines {
            out.push_str(&format!("    {}\n", palette.code(line)));
        }
    }
    if let Some(build) = &recommendation.build {
        out.push_str(&format!(
            "  Build in a {} stage ({} to add there: {}); multi-stage final image ~{}, building in place and keeping the tools ~{}.\n",
            build.builder_image,
            recommendation.build_packages.len(),
            if recommendation.build_packages.is_empty() { "none".to_string() } else { recommendation.build_packages.join(" ") },
            build.multi_stage_bytes.map(megabytes).unwrap_or_else(|| "?".into()),
            build.in_place_bytes.map(megabytes).unwrap_or_else(|| "?".into()),
        ));
        out.push_str("  --dockerfile-out Dockerfile writes the whole file.\n");
    }
    let others: Vec<String> = recommendation
        .alternatives
        .iter()
        .filter(|a| Some(&a.image) != recommendation.image.as_ref())
        .map(|a| {
            let size = a
                .estimated_size_bytes
                .map(megabytes)
                .unwrap_or_else(|| "size unknown".into());
            format!(
                "{} {} ({size})",
                a.image,
                palette.verdict(a.verdict, a.verdict.as_str())
            )
        })
        .collect();
    if !others.is_empty() {
        out.push_str(&format!("  Other images, by size: {}\n", others.join("; ")));
    }
    out
}

/// What an image lacks and what to add there; notes with `-v`.
fn verdict_lines(target: &TargetReport, verdict: &TargetVerdict) -> String {
    let mut out = String::new();
    for (soname, packages) in &verdict.missing_sonames {
        let needed_by = target
            .system_libs_needed
            .get(soname)
            .map(|p| p.join(", "))
            .unwrap_or_default();
        match packages.as_slice() {
            [] => out.push_str(&format!(
                "    lacks {soname} (for {needed_by}): no package provides it here\n"
            )),
            _ => out.push_str(&format!(
                "    lacks {soname} (for {needed_by}): add {}\n",
                packages.join(" ")
            )),
        }
    }
    for (soname, packages) in &verdict.host_libraries {
        out.push_str(&format!(
            "    needs {soname} from the host's GPU driver (for {}): run on a GPU host with the NVIDIA Container Toolkit\n",
            packages.join(", ")
        ));
    }
    if !verdict.system_packages.build.is_empty() {
        out.push_str(&format!(
            "    to build here, add {}\n",
            verdict.system_packages.build.join(" ")
        ));
    }
    if crate::diag::level() >= 2 {
        for note in &verdict.notes {
            out.push_str(&format!("    note: {note}\n"));
        }
    }
    out
}

pub(super) fn megabytes(bytes: u64) -> String {
    if bytes >= 1_000_000_000 {
        format!("{:.2} GB", bytes as f64 / 1e9)
    } else {
        format!("{} MB", (bytes + 500_000) / 1_000_000)
    }
}

fn summary_line(target: &TargetReport, palette: &Palette) -> String {
    let s = &target.summary;
    let verdict = match target.verdict.as_ref().map(|v| v.verdict) {
        Some(verdict) => palette.verdict(verdict, &verdict.as_str().to_uppercase()),
        None if target.could_not_check() => palette.verdict(Verdict::Unknown, "UNKNOWN"),
        None => "NOT JUDGED".to_string(),
    };
    let mut line = format!(
        "{:<42} {verdict}: {} wheels, {} sdists, {} without a usable file",
        target.label(),
        s.wheels,
        s.sdists,
        s.none
    );
    let sdists = names(target, Kind::Sdist);
    if !sdists.is_empty() {
        line.push_str(&format!("; builds {sdists}"));
    }
    let missing = names(target, Kind::None);
    if !missing.is_empty() {
        line.push_str(&format!("; cannot install {missing}"));
    }
    line
}

fn names(target: &TargetReport, kind: Kind) -> String {
    target
        .packages
        .iter()
        .filter(|p| p.kind == kind)
        .map(|p| p.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// One row per package, one column per target: what pip installs there.
fn matrix(report: &Report) -> Table {
    let mut table = Table::new();
    table
        .load_preset(presets::UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(WIDTH);
    let mut header = vec!["package".to_string()];
    header.extend(report.targets.iter().map(column_title));
    table.set_header(header);
    let mut names: Vec<&str> = report
        .targets
        .iter()
        .flat_map(|t| t.packages.iter().map(|p| p.name.as_str()))
        .collect();
    names.sort_unstable();
    names.dedup();
    for name in names {
        let mut row = vec![name.to_string()];
        for target in &report.targets {
            row.push(match target.packages.iter().find(|p| p.name == name) {
                Some(package) => cell(package),
                None => "-".to_string(),
            });
        }
        table.add_row(row);
    }
    table
}

fn column_title(target: &TargetReport) -> String {
    let short = target.image.trim_start_matches("python:");
    let family = short.split_once('-').map_or(short, |(_, family)| family);
    let arch = if target.arch == "aarch64" {
        "arm64"
    } else {
        "amd64"
    };
    format!("{family}\n{arch}")
}

/// `2.0.1 wheel` (binary), `2.0.1 any` (pure Python), `1.0 SDIST`, `NONE`; the exact files are
/// shown with `-v` and in the JSON.
fn cell(package: &PackageReport) -> String {
    let version = package.version.as_deref().unwrap_or("");
    match package.kind {
        Kind::Wheel if package.tag.as_deref().is_some_and(|t| t.ends_with("-any")) => {
            format!("{version} any")
        }
        Kind::Wheel => format!("{version} wheel"),
        Kind::Sdist => format!("{version} SDIST"),
        Kind::None => "NONE".to_string(),
    }
}

fn unresolved(report: &Report) -> String {
    let Some(first) = report.targets.first() else {
        return String::new();
    };
    first
        .unresolved_lines
        .iter()
        .map(|line| format!("{}: {} ({})\n", line.source, line.why, line.line))
        .collect()
}

fn files(report: &Report) -> String {
    let mut out = String::new();
    for target in &report.targets {
        out.push_str(&format!("\n{}:\n", target.label()));
        for package in &target.packages {
            let file = package.file.as_deref().unwrap_or("-");
            let version = package.version.as_deref().unwrap_or("-");
            out.push_str(&format!("  {:<24} {version:<12} {file}\n", package.name));
            if let Some(note) = &package.note {
                out.push_str(&format!("  {:<37} note: {note}\n", ""));
            }
        }
    }
    out
}
