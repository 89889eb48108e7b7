//! Properties of the requirements parser: it never panics on any text, and a requirement it
//! prints parses back to the same value.

use std::path::Path;

use pep508_rs::{MarkerEnvironment, MarkerEnvironmentBuilder, MarkerTree};
use proptest::prelude::*;
use wheelcheck::requirements::{EntryKind, parse_str};

fn parse(text: &str) -> wheelcheck::requirements::ParsedRequirements {
    parse_str(
        text,
        Path::new("/nonexistent-wheelcheck-props/requirements.txt"),
        &|_| None,
    )
}

fn name() -> impl Strategy<Value = String> {
    "[A-Za-z][A-Za-z0-9]{0,6}([-_.][A-Za-z0-9]{1,5}){0,2}"
}

fn version() -> impl Strategy<Value = String> {
    (
        "[0-9]{1,3}",
        prop::collection::vec("[0-9]{1,2}", 0..3),
        prop::option::of("(a|b|rc|\\.post|\\.dev)[0-9]"),
    )
        .prop_map(|(major, rest, suffix)| {
            let mut v = major;
            for part in rest {
                v.push('.');
                v.push_str(&part);
            }
            v + &suffix.unwrap_or_default()
        })
}

fn specifier() -> impl Strategy<Value = String> {
    let plain = (
        prop::sample::select(vec!["==", "!=", ">=", "<=", ">", "<"]),
        version(),
    )
        .prop_map(|(op, v)| format!("{op}{v}"));
    // `~=` needs at least two release components.
    let compatible = ("[0-9]{1,2}", "[0-9]{1,2}").prop_map(|(a, b)| format!("~={a}.{b}"));
    prop_oneof![plain, compatible]
}

fn marker() -> impl Strategy<Value = String> {
    let variable = prop::sample::select(vec![
        "python_version",
        "sys_platform",
        "platform_machine",
        "implementation_name",
        "os_name",
    ]);
    let value = prop::sample::select(vec![
        "3.12", "linux", "x86_64", "aarch64", "cpython", "posix", "win32",
    ]);
    let op = prop::sample::select(vec!["==", "!=", "<", ">="]);
    prop::collection::vec((variable, op, value), 1..3).prop_map(|parts| {
        parts
            .into_iter()
            .map(|(var, op, value)| format!("{var} {op} \"{value}\""))
            .collect::<Vec<_>>()
            .join(" and ")
    })
}

fn requirement() -> impl Strategy<Value = String> {
    (
        name(),
        prop::collection::vec("[a-z][a-z0-9]{0,5}", 0..3),
        prop::collection::vec(specifier(), 0..3),
        prop::option::of(marker()),
    )
        .prop_map(|(name, extras, specifiers, marker)| {
            let mut line = name;
            if !extras.is_empty() {
                line += &format!("[{}]", extras.join(","));
            }
            line += &specifiers.join(",");
            if let Some(marker) = marker {
                line += &format!(" ; {marker}");
            }
            line
        })
}

/// Two markers mean the same when they agree in every environment of a grid that covers each
/// value the generator uses (and the images wheelcheck checks).
fn same_meaning(a: &MarkerTree, b: &MarkerTree) -> bool {
    let mut environments = Vec::new();
    for python in ["3.8", "3.12", "3.14"] {
        for platform in ["linux", "win32"] {
            for machine in ["x86_64", "aarch64"] {
                for (implementation, os) in [("cpython", "posix"), ("pypy", "nt")] {
                    let full = format!("{python}.1");
                    let builder = MarkerEnvironmentBuilder {
                        implementation_name: implementation,
                        implementation_version: &full,
                        os_name: os,
                        platform_machine: machine,
                        platform_python_implementation: "CPython",
                        platform_release: "",
                        platform_system: "Linux",
                        platform_version: "",
                        python_full_version: &full,
                        python_version: python,
                        sys_platform: platform,
                    };
                    environments.push(MarkerEnvironment::try_from(builder).expect("valid"));
                }
            }
        }
    }
    environments
        .iter()
        .all(|env| a.evaluate(env, &[]) == b.evaluate(env, &[]))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn never_panics_on_any_text(text in any::<String>()) {
        let _ = parse(&text);
    }

    #[test]
    fn never_panics_on_requirement_like_lines(lines in prop::collection::vec("[-a-zA-Z0-9_.\\[\\],;<>=!~\"' @:/#\\\\$ {}]{0,40}", 0..8)) {
        let _ = parse(&lines.join("\n"));
    }

    #[test]
    fn a_printed_requirement_parses_back_to_the_same_value(line in requirement()) {
        let first = parse(&line);
        prop_assert!(first.errors.is_empty(), "{line}: {:?}", first.errors);
        let EntryKind::Named(requirement) = &first.requirements[0].kind else {
            return Err(TestCaseError::fail(format!("{line} is not a named requirement")));
        };
        let printed = requirement.to_string();
        let second = parse(&printed);
        prop_assert!(second.errors.is_empty(), "{printed}: {:?}", second.errors);
        let EntryKind::Named(again) = &second.requirements[0].kind else {
            return Err(TestCaseError::fail(format!("{printed} is not a named requirement")));
        };
        // Name, extras and specifiers must come back exactly; markers must mean the same thing:
        // pep508_rs prints a marker that can never hold as `python_version < '0'`, which parses
        // back to an equivalent but differently built tree.
        prop_assert_eq!(&requirement.name, &again.name);
        prop_assert_eq!(&requirement.extras, &again.extras);
        prop_assert_eq!(&requirement.version_or_url, &again.version_or_url);
        prop_assert!(same_meaning(&requirement.marker, &again.marker), "{} printed as {}", line, printed);
    }
}
