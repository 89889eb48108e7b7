//! The renderer's output, parsed back as a browser would read it.

use std::collections::BTreeMap;

use scraper::{ElementRef, Html, Selector};

use super::*;
use crate::inspect::needs::ElfReport;
use crate::report::{Bytes, Resolution, Summary, UnresolvedLine};
use crate::verdict::Verdict;
use crate::verdict::recommend::{Alternative, BuildComparison};

const SLIM: &str = "python:3.12-slim-trixie";
const ALPINE: &str = "python:3.12-alpine3.24";
const APT_LINE: &str = "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 && rm -rf /var/lib/apt/lists/*";

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn package(name: &str, kind: Kind, file: Option<&str>, size: Option<u64>) -> PackageReport {
    PackageReport {
        version: Some("1.0".into()),
        file: file.map(Into::into),
        size,
        requested: true,
        chain: vec![name.into()],
        lines: vec!["requirements.txt:1".into()],
        ..PackageReport::named(name, kind)
    }
}

fn needing(mut package: PackageReport, sonames: &[&str]) -> PackageReport {
    package.elf = Some(ElfReport {
        analysis: "done".into(),
        files: 1,
        needed_from_system: sonames.iter().map(|s| s.to_string()).collect(),
        ..ElfReport::default()
    });
    package
}

fn verdict(verdict: Verdict, size: Option<u64>) -> TargetVerdict {
    TargetVerdict {
        estimated_size_bytes: size,
        ..TargetVerdict::new(verdict)
    }
}

fn target(image: &str, libc: &'static str, packages: Vec<PackageReport>) -> TargetReport {
    let summary = Summary {
        wheels: packages.iter().filter(|p| p.kind == Kind::Wheel).count(),
        sdists: packages.iter().filter(|p| p.kind == Kind::Sdist).count(),
        none: packages.iter().filter(|p| p.kind == Kind::None).count(),
        ..Summary::default()
    };
    TargetReport {
        image: image.into(),
        python: "3.12".into(),
        python_full_version: "3.12.12".into(),
        libc,
        libc_version: if libc == "musl" { "1.2" } else { "2.41" }.into(),
        arch: "x86_64".into(),
        platform_tags: Vec::new(),
        resolution: Resolution {
            ok: true,
            error: None,
            could_not_check: false,
        },
        packages,
        unresolved_lines: Vec::new(),
        binary_only_error: None,
        summary,
        system_libs_needed: BTreeMap::new(),
        glibc_max: None,
        glibcxx_max: None,
        bytes: Bytes::default(),
        verdict: None,
        builder: None,
    }
}

/// Slim works once libgomp1 is added; Alpine builds `fast` from source.
fn report() -> Report {
    let omp = needing(
        package(
            "omp",
            Kind::Wheel,
            Some("omp-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"),
            Some(2_400_000),
        ),
        &["libgomp.so.1", "libz.so.1"],
    );
    let mut tiny = package(
        "tiny",
        Kind::Wheel,
        Some("tiny-1.0-py3-none-any.whl"),
        Some(1500),
    );
    tiny.chain = strings(&["top", "middle", "tiny"]);
    let mut slim = target(SLIM, "glibc", vec![omp, tiny.clone()]);
    let mut slim_verdict = verdict(Verdict::WorksWithPackages, Some(160_000_000));
    slim_verdict
        .missing_sonames
        .insert("libgomp.so.1".into(), strings(&["libgomp1"]));
    slim_verdict.system_packages.runtime = strings(&["libgomp1"]);
    slim_verdict.notes = strings(&["a note about slim"]);
    slim.verdict = Some(slim_verdict);

    let fast = package("fast", Kind::Sdist, Some("fast-1.0.tar.gz"), Some(80_000));
    let mut alpine = target(ALPINE, "musl", vec![fast, tiny]);
    let mut alpine_verdict = verdict(Verdict::NeedsBuild, Some(90_000_000));
    alpine_verdict.system_packages.build = strings(&["gcc", "musl-dev"]);
    alpine_verdict.built_from_source = strings(&["fast 1.0"]);
    alpine.verdict = Some(alpine_verdict);

    let mut report = Report::new("3.12".into(), vec![slim, alpine]);
    report.recommendation = Some(recommendation(SLIM));
    report
}

fn recommendation(image: &str) -> Recommendation {
    let plan = dockerfile::DockerPlan {
        final_image: image.into(),
        package_manager: dockerfile::PackageManager::Apt,
        runtime_packages: strings(&["libgomp1"]),
        build: None,
        requirements: "requirements.txt".into(),
        built_from_source: Vec::new(),
        comments: strings(&["why"]),
    };
    Recommendation {
        image: Some(image.into()),
        verdict: Verdict::WorksWithPackages,
        why: format!("{image} is the smallest image that works"),
        estimated_size_bytes: Some(160_000_000),
        runtime_packages: strings(&["libgomp1"]),
        build_packages: Vec::new(),
        build: None,
        dockerfile_lines: strings(&[APT_LINE]),
        alternatives: vec![Alternative {
            image: image.into(),
            verdict: Verdict::WorksWithPackages,
            estimated_size_bytes: Some(160_000_000),
            runtime_packages: strings(&["libgomp1"]),
            build_packages: Vec::new(),
            built_from_source: 0,
        }],
        plan: Some(plan),
        in_place_plan: None,
    }
}

fn select<'a>(doc: &'a Html, css: &str) -> Vec<ElementRef<'a>> {
    doc.select(&Selector::parse(css).unwrap()).collect()
}

/// An element's text with whitespace runs collapsed, as a reader sees it.
fn text(element: &ElementRef) -> String {
    element
        .text()
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

fn cells(row: &ElementRef) -> Vec<String> {
    row.select(&Selector::parse("td").unwrap())
        .map(|c| text(&c))
        .collect()
}

fn parse(report: &Report) -> Html {
    let doc = Html::parse_document(&render(report));
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    doc
}

#[test]
fn the_answer_comes_first_with_the_lines_to_add() {
    let doc = parse(&report());
    let body_children: Vec<&str> = select(&doc, "body > *")
        .iter()
        .map(|e| e.value().name())
        .collect();
    assert_eq!(body_children, ["header", "main", "footer"]);
    assert_eq!(text(&select(&doc, "header h1")[0]), format!("Use {SLIM}"));
    assert_eq!(
        text(&select(&doc, "header .headline")[0]),
        "works-with-packages about 160 MB"
    );
    assert_eq!(text(&select(&doc, "header pre.lines")[0]), APT_LINE);
    assert_eq!(
        text(&select(&doc, "title")[0]),
        format!("wheelcheck: use {SLIM}")
    );
}

#[test]
fn the_verdict_table_has_a_row_per_target() {
    let doc = parse(&report());
    let rows = select(&doc, "#verdicts tbody tr");
    assert_eq!(rows.len(), 2);
    assert_eq!(
        cells(&rows[0]),
        [
            SLIM,
            "amd64",
            "glibc 2.41",
            "works-with-packages",
            "2 wheels",
            "libgomp.so.1",
            "libgomp1",
            "—",
            "160 MB"
        ]
    );
    assert_eq!(
        cells(&rows[1]),
        [
            ALPINE,
            "amd64",
            "musl 1.2",
            "needs-build",
            "1 wheel, 1 sdist",
            "—",
            "—",
            "gcc musl-dev",
            "90 MB"
        ]
    );
}

#[test]
fn package_rows_show_the_file_its_size_needs_and_packages() {
    let doc = parse(&report());
    let targets = select(&doc, "#packages section.target");
    assert_eq!(targets.len(), 2);
    let slim_rows: Vec<Vec<String>> = targets[0]
        .select(&Selector::parse("tbody tr").unwrap())
        .map(|r| cells(&r))
        .collect();
    // Cells' texts are joined as in the source: the line break a `div` renders as is not there.
    assert_eq!(
        slim_rows,
        [
            vec![
                "omp",
                "1.0",
                "omp-1.0-cp312-cp312-manylinux_2_17_x86_64.whl",
                "2 MB",
                "libgomp.so.1 (missing)libz.so.1",
                "libgomp1",
            ],
            vec![
                "tinyvia top → middle",
                "1.0",
                "tiny-1.0-py3-none-any.whl",
                "2 kB",
                "—",
                "—"
            ],
        ]
    );
    let needs: Vec<String> = select(&doc, "#packages section.target tbody td:nth-child(5) div")
        .iter()
        .map(text)
        .collect();
    assert_eq!(needs, ["libgomp.so.1 (missing)", "libz.so.1"]);
    let via: Vec<String> = targets[0]
        .select(&Selector::parse("td.name .via").unwrap())
        .map(|e| text(&e))
        .collect();
    assert_eq!(
        via,
        ["via top → middle"],
        "only transitive packages say how"
    );
    let alpine_first = targets[1]
        .select(&Selector::parse("tbody tr").unwrap())
        .next()
        .unwrap();
    assert!(
        alpine_first
            .value()
            .has_class("sdist", scraper::CaseSensitivity::CaseSensitive)
    );
    assert_eq!(
        cells(&alpine_first)[2],
        "sdist, built from source: fast-1.0.tar.gz"
    );
}

#[test]
fn a_package_without_a_file_shows_why() {
    let mut report = report();
    let mut missing = package("gone", Kind::None, None, None);
    missing.reason = Some("no file for this platform".into());
    report.targets[0].packages.push(missing);
    let doc = parse(&report);
    let row = select(&doc, "#packages tr.none")[0];
    assert_eq!(cells(&row)[2], "none: no file for this platform");
    assert_eq!(cells(&row)[3], "—");
}

#[test]
fn the_chart_has_a_bar_per_target_and_marks_the_recommendation() {
    let mut report = report();
    let mut no_size = target("python:3.12-trixie", "glibc", Vec::new());
    no_size.verdict = Some(verdict(Verdict::Works, None));
    report.targets.push(no_size);
    let doc = parse(&report);
    assert_eq!(select(&doc, "#sizes svg rect.bar").len(), 2);
    let values: Vec<String> = select(&doc, "#sizes svg text.value")
        .iter()
        .map(text)
        .collect();
    assert_eq!(
        values,
        [
            "160 MB · works-with-packages ★ recommended",
            "90 MB · needs-build",
            "size unknown · works"
        ]
    );
}

#[test]
fn the_dockerfile_is_the_recommendation_plan_rendered() {
    let report = report();
    let doc = parse(&report);
    let pre = select(&doc, "#dockerfile pre")[0];
    let plan = report
        .recommendation
        .as_ref()
        .unwrap()
        .plan
        .as_ref()
        .unwrap();
    assert_eq!(pre.text().collect::<String>(), dockerfile::render(plan));
}

#[test]
fn a_build_recommendation_compares_multi_stage_and_in_place() {
    let mut report = report();
    let recommendation = report.recommendation.as_mut().unwrap();
    recommendation.verdict = Verdict::NeedsBuild;
    recommendation.build_packages = strings(&["gcc", "libpq-dev"]);
    recommendation.build = Some(BuildComparison {
        in_place_bytes: Some(400_000_000),
        multi_stage_bytes: Some(150_000_000),
        builder_image: "python:3.12-trixie".into(),
        smaller: "multi-stage",
    });
    let doc = parse(&report);
    assert_eq!(
        text(&select(&doc, "header p.build")[0]),
        "Build the wheels in a python:3.12-trixie stage (add there: gcc libpq-dev). \
         Final image: about 150 MB multi-stage; about 400 MB if built in place with the tools \
         left installed."
    );
}

#[test]
fn without_an_image_the_header_says_so_and_no_dockerfile_is_shown() {
    let mut report = report();
    let recommendation = report.recommendation.as_mut().unwrap();
    recommendation.image = None;
    recommendation.verdict = Verdict::Fails;
    recommendation.dockerfile_lines.clear();
    recommendation.plan = None;
    let doc = parse(&report);
    assert_eq!(
        text(&select(&doc, "header h1")[0]),
        "No checked image can install these requirements."
    );
    assert!(select(&doc, "#dockerfile pre").is_empty());
    assert!(select(&doc, "#sizes svg g.recommended").is_empty());

    report.recommendation.as_mut().unwrap().verdict = Verdict::Unknown;
    let doc = parse(&report);
    assert_eq!(
        text(&select(&doc, "header h1")[0]),
        "Could not check: no image can be recommended."
    );
}

#[test]
fn notes_gather_errors_alternatives_and_unchecked_lines() {
    let mut report = report();
    let alpine = &mut report.targets[1];
    alpine.packages[0].binary_only_version = Some("0.9".into());
    alpine.resolution.error = Some("first line\nsecond line".into());
    report.targets[0].unresolved_lines.push(UnresolvedLine {
        source: "requirements.txt:4".into(),
        line: "./local".into(),
        why: "a local path".into(),
    });
    let doc = parse(&report);
    let notes: Vec<String> = select(&doc, "#notes li").iter().map(text).collect();
    assert_eq!(
        notes,
        [
            "a note about slim",
            "first line second line",
            "fast: built from source; with wheels only, pip would take 0.9",
            "requirements.txt:4: a local path (./local)",
        ]
    );
}

#[test]
fn every_text_is_escaped() {
    const HOSTILE: &str = "<script>alert(1)</script><img src=x onerror=alert(2)>&amp;\"'";
    let mut report = report();
    let recommendation = report.recommendation.as_mut().unwrap();
    recommendation.why = HOSTILE.into();
    recommendation.dockerfile_lines = vec![HOSTILE.into()];
    let slim = &mut report.targets[0];
    slim.packages[1].name = HOSTILE.into();
    slim.packages[1].file = Some(HOSTILE.into());
    let slim_verdict = slim.verdict.as_mut().unwrap();
    slim_verdict.notes.push(HOSTILE.into());
    slim_verdict.reasons.push(HOSTILE.into());
    slim_verdict
        .missing_sonames
        .insert(HOSTILE.into(), Vec::new());
    report.targets[1].image = HOSTILE.into();
    let doc = parse(&report);
    assert!(select(&doc, "script, img, [onerror]").is_empty());
    let body = text(&select(&doc, "body")[0]);
    // why, line to add, image (verdict table, chart, packages, notes), package name, file, note,
    // reason, soname (verdict table)
    assert_eq!(body.matches(HOSTILE).count(), 10, "{body}");
}

#[test]
fn the_page_loads_nothing() {
    let mut report = report();
    report.targets[0].packages[0].url =
        Some("https://files.example/omp-1.0-cp312-cp312-manylinux_2_17_x86_64.whl".into());
    let html = render(&report);
    let doc = parse(&report);
    assert!(
        select(
            &doc,
            "script, link, img, iframe, object, embed, [src], [href]"
        )
        .is_empty()
    );
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "{html}"
    );
    assert!(!STYLE.contains("url(") && !STYLE.contains("@import"));
    assert!(!STYLE.contains("</"), "the style cannot close its element");
}

#[test]
fn verdict_classes_have_colours_in_the_style() {
    for verdict in [
        Verdict::Works,
        Verdict::WorksWithPackages,
        Verdict::NeedsBuild,
        Verdict::Fails,
    ] {
        let name = verdict.as_str();
        assert!(STYLE.contains(&format!(".badge.{name} ")), "{name}");
        assert!(STYLE.contains(&format!("rect.bar.{name} ")), "{name}");
    }
    // Unknown falls back to the grey every badge and bar starts with.
    assert!(STYLE.contains("background: var(--unknown)"));
}

#[test]
fn a_target_that_could_not_be_checked_is_unknown() {
    let mut report = report();
    report.targets[1].verdict = None;
    report.targets[1].resolution.could_not_check = true;
    let doc = parse(&report);
    let rows = select(&doc, "#verdicts tbody tr");
    assert_eq!(cells(&rows[1])[3], "unknown");
}
