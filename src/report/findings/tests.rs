use std::collections::HashMap;

use super::*;
use crate::knowledge::catalog::Catalog;
use crate::report::{PackageReport, TargetReport};
use crate::requirements::Source;
use crate::resolve::{Kind, Outcome};
use crate::tags::Arch;
use crate::verdict::TargetVerdict;

fn package(name: &str, kind: Kind, chain: &[&str]) -> PackageReport {
    PackageReport {
        version: Some("1.0".into()),
        requested: chain.len() == 1,
        chain: chain.iter().map(|s| s.to_string()).collect(),
        ..PackageReport::named(name, kind)
    }
}

fn verdict(verdict: Verdict) -> TargetVerdict {
    TargetVerdict::new(verdict)
}

fn target(spec: &str, arch: Arch) -> Target {
    let catalog = Catalog::load().unwrap();
    Target::new(catalog.resolve(spec, Some((3, 12))).unwrap().clone(), arch)
}

fn checked(target: &Target, packages: Vec<PackageReport>, verdict: TargetVerdict) -> TargetReport {
    let outcome = Outcome {
        ok: true,
        error: None,
        could_not_check: false,
        packages: Vec::new(),
    };
    let mut report = TargetReport::new(target, &[], outcome, None, Vec::new());
    report.packages = packages;
    report.verdict = Some(verdict);
    report
}

fn sources() -> HashMap<String, Vec<Source>> {
    HashMap::from([(
        "fastapi".to_string(),
        vec![Source {
            file: "reqs/app.txt".into(),
            line: 3,
        }],
    )])
}

#[test]
fn fail_on_levels_take_the_findings_at_and_above_them() {
    use Severity::*;
    let all = [SystemPackages, SourceBuild, Unresolvable];
    let failing = |level: FailOn| -> Vec<Severity> {
        all.iter().copied().filter(|s| level.fails(*s)).collect()
    };
    assert_eq!(failing(FailOn::None), []);
    assert_eq!(failing(FailOn::Unresolvable), [Unresolvable]);
    assert_eq!(failing(FailOn::SourceBuild), [SourceBuild, Unresolvable]);
    assert_eq!(failing(FailOn::SystemPackages), all);
    for level in [FailOn::None, FailOn::Unresolvable, FailOn::SystemPackages] {
        assert!(
            level.fails(CouldNotCheck),
            "could-not-check fails at {level:?}"
        );
    }
    assert_eq!(FailOn::default(), FailOn::SystemPackages);
}

#[test]
fn verdicts_map_onto_the_levels_in_their_order() {
    assert_eq!(Severity::of_verdict(Verdict::Works), None);
    assert_eq!(
        Severity::of_verdict(Verdict::WorksWithPackages),
        Some(Severity::SystemPackages)
    );
    assert_eq!(
        Severity::of_verdict(Verdict::NeedsBuild),
        Some(Severity::SourceBuild)
    );
    assert_eq!(
        Severity::of_verdict(Verdict::Fails),
        Some(Severity::Unresolvable)
    );
    for rule in Rule::ALL {
        assert!(!rule.id().is_empty() && !rule.description().is_empty());
    }
}

#[test]
fn a_transitive_sdist_points_at_its_top_level_line_with_the_build_packages() {
    let alpine = target("alpine", Arch::X86_64);
    let slim = target("slim", Arch::X86_64);
    let mut needs = verdict(Verdict::NeedsBuild);
    needs.system_packages.build = vec!["gcc".into(), "musl-dev".into()];
    let packages = |kind| {
        vec![
            package("fastapi", Kind::Wheel, &["fastapi"]),
            package("anyio", kind, &["fastapi", "starlette", "anyio"]),
        ]
    };
    let mut report = Report::new("3.12".into(), Vec::new());
    report
        .targets
        .push(checked(&alpine, packages(Kind::Sdist), needs));
    report.targets.push(checked(
        &slim,
        packages(Kind::Wheel),
        verdict(Verdict::Works),
    ));
    let sources = sources();
    let context = Context {
        sources: &sources,
        file: Path::new("reqs/app.txt"),
    };
    let findings = collect(&report, &[alpine, slim], &context);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    let finding = &findings[0];
    assert_eq!(finding.rule, Rule::SourceBuild);
    assert_eq!(finding.package.as_deref(), Some("anyio"));
    assert_eq!(finding.locations[0].to_string(), "reqs/app.txt:3");
    assert_eq!(finding.targets, ["python:3.12-alpine3.24 (amd64)"]);
    assert!(
        finding
            .action
            .contains("RUN apk add --no-cache gcc musl-dev")
    );
    assert!(finding.action.contains("python:3.12-slim-trixie"));
    assert!(
        finding
            .full_text()
            .contains("Pulled in by fastapi → starlette → anyio.")
    );
}

#[test]
fn a_source_build_s_action_offers_the_pin_and_the_binary_twin_first() {
    let alpine = target("alpine", Arch::X86_64);
    let mut psycopg2 = package("psycopg2", Kind::Sdist, &["psycopg2"]);
    psycopg2.binary_only_version = Some("2.9.9".into());
    psycopg2.avoid_build_pin = Some(crate::report::instead::AvoidBuildPin {
        pin: "psycopg2<2.9.10".into(),
        wheel_version: "2.9.9".into(),
        consistent: true,
        conflicts_with: Vec::new(),
    });
    psycopg2.binary_twins = vec![crate::report::instead::TwinReport {
        install: "psycopg2-binary".into(),
        project: "psycopg2-binary".into(),
        latest: "2.9.10".into(),
        wheels: vec!["musllinux_x86_64".into()],
        checked: "2026-11-24".into(),
        why: "the same module, pre-compiled".into(),
        caveat: "bundles its own libpq".into(),
        source: "the install guide".into(),
    }];
    let mut report = Report::new("3.12".into(), Vec::new());
    report.targets.push(checked(
        &alpine,
        vec![psycopg2],
        verdict(Verdict::NeedsBuild),
    ));
    let sources = sources();
    let context = Context {
        sources: &sources,
        file: Path::new("requirements.txt"),
    };
    let findings = collect(&report, &[alpine], &context);
    let action = &findings[0].action;
    let ways: Vec<&str> = action.split("; or ").collect();
    assert_eq!(
        ways[0], "add `psycopg2<2.9.10` to the requirements: pip then takes 2.9.9's wheel",
        "{action}"
    );
    assert_eq!(
        ways[1],
        "install psycopg2-binary instead, which has a wheel here (the same module, pre-compiled; caveat: bundles its own libpq)",
        "{action}"
    );
    assert!(!action.contains("pin psycopg2==2.9.9"), "{action}");
}

#[test]
fn missing_libraries_are_grouped_per_package_and_merged_across_arches() {
    let amd = target("slim", Arch::X86_64);
    let arm = target("slim", Arch::Aarch64);
    let mut report = Report::new("3.12".into(), Vec::new());
    for target in [&amd, &arm] {
        let mut lacking = verdict(Verdict::Fails);
        lacking
            .missing_sonames
            .insert("libgomp.so.1".into(), vec!["libgomp1".into()]);
        lacking
            .missing_sonames
            .insert("libweird.so.9".into(), Vec::new());
        let mut one = checked(
            target,
            vec![package("fastapi", Kind::Wheel, &["fastapi"])],
            lacking,
        );
        for soname in ["libgomp.so.1", "libweird.so.9"] {
            one.system_libs_needed
                .insert(soname.into(), vec!["fastapi".into()]);
        }
        report.targets.push(one);
    }
    let sources = sources();
    let context = Context {
        sources: &sources,
        file: Path::new("reqs/app.txt"),
    };
    let findings = collect(&report, &[amd, arm], &context);
    let rules: Vec<Rule> = findings.iter().map(|f| f.rule).collect();
    assert_eq!(
        rules,
        [Rule::LibraryInNoPackage, Rule::MissingSystemLibrary],
        "most serious first"
    );
    let missing = &findings[1];
    assert_eq!(missing.targets.len(), 2, "one finding for both arches");
    assert!(missing.message.contains("libgomp.so.1"));
    assert!(
        missing
            .action
            .contains("apt-get install -y --no-install-recommends libgomp1")
    );
    assert!(findings[0].message.contains("libweird.so.9"));
}

#[test]
fn an_unresolvable_target_points_at_the_lines_its_error_names() {
    let slim = target("slim", Arch::X86_64);
    let outcome = Outcome {
        ok: false,
        error: Some("Because FastAPI>=1 depends on starlette>9 ...".into()),
        could_not_check: false,
        packages: Vec::new(),
    };
    let mut report = Report::new("3.12".into(), Vec::new());
    let mut one = TargetReport::new(&slim, &[], outcome, None, Vec::new());
    one.verdict = Some(verdict(Verdict::Fails));
    report.targets.push(one);
    let sources = sources();
    let context = Context {
        sources: &sources,
        file: Path::new("requirements.txt"),
    };
    let findings = collect(&report, &[slim], &context);
    assert_eq!(findings[0].rule, Rule::Unresolvable);
    assert_eq!(findings[0].locations[0].to_string(), "reqs/app.txt:3");
    assert_eq!(findings[0].package, None);
}

#[test]
fn human_text_names_line_package_and_action() {
    let finding = Finding {
        rule: Rule::SourceBuild,
        severity: Severity::SourceBuild,
        package: Some("anyio".into()),
        chain: vec!["fastapi".into(), "anyio".into()],
        locations: vec![Location {
            file: "requirements.txt".into(),
            line: Some(2),
        }],
        targets: vec!["python:3.12-alpine3.24 (amd64)".into()],
        message: "anyio 4 has no wheel".into(),
        action: "pin anyio==3".into(),
    };
    let text = human_text(&[finding]);
    let line = text.lines().nth(2).unwrap();
    assert!(line.starts_with("  requirements.txt:2 [source-build] anyio: "));
    assert!(line.ends_with("What to do: pin anyio==3."), "{line}");
    assert!(human_text(&[]).is_empty());
}
