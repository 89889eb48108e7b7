//! Why a file was pip's choice on a target, as data (JSON `choice`) and as one sentence.

use serde::Serialize;

use crate::resolve::choice::Choice;
use crate::resolve::{Kind, ResolvedPackage};

/// Platform tags named in a sentence before "and N more".
const SHOWN_PLATFORMS: usize = 6;

/// JSON `choice`: the resolver's [`Choice`] and the sentence the reports print.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChoiceReport {
    pub usable_wheels: usize,
    pub usable_sdist: bool,
    pub other_wheel_pythons: Vec<String>,
    pub other_wheel_platforms: Vec<String>,
    pub other_wheel_reasons: Vec<String>,
    pub older_wheel_version: Option<String>,
    pub why: String,
}

/// The report of `package`'s choice, `tag` being the target tag its wheel was chosen for.
pub fn report(package: &ResolvedPackage, tag: Option<&str>) -> Option<ChoiceReport> {
    let choice = package.choice.as_ref()?;
    let file = package.file.as_ref().map_or("?", |f| f.filename.as_str());
    let version = package
        .version
        .as_ref()
        .map_or_else(|| "?".to_string(), ToString::to_string);
    Some(ChoiceReport {
        usable_wheels: choice.usable_wheels,
        usable_sdist: choice.usable_sdist,
        other_wheel_pythons: choice.other_wheel_pythons.clone(),
        other_wheel_platforms: choice.other_wheel_platforms.clone(),
        other_wheel_reasons: choice.other_wheel_reasons.clone(),
        older_wheel_version: choice.older_wheel_version.as_ref().map(ToString::to_string),
        why: sentence(package.kind, &version, file, tag, choice),
    })
}

/// "wheel X: best of 3 usable wheels of 2.1.0, tag cp312-cp312-musllinux_1_2_x86_64", or for an
/// sdist why no wheel of its release fits and whether an older release has one.
pub fn sentence(
    kind: Kind,
    version: &str,
    file: &str,
    tag: Option<&str>,
    choice: &Choice,
) -> String {
    match kind {
        Kind::Wheel => {
            let tag = tag.unwrap_or("?");
            match choice.usable_wheels {
                0 | 1 => {
                    format!("wheel {file}: the only wheel of {version} usable here, tag {tag}")
                }
                n => format!("wheel {file}: best of {n} usable wheels of {version}, tag {tag}"),
            }
        }
        Kind::Sdist => {
            let mut text = format!("sdist {file}: {}", no_wheel_because(version, choice));
            if let Some(older) = &choice.older_wheel_version {
                text.push_str(&format!(
                    "; pip prefers a newer sdist over an older wheel ({older} has a wheel here)"
                ));
            }
            text
        }
        Kind::None => "none: no usable file".to_string(),
    }
}

/// Why release `version` offers no wheel to this target.
fn no_wheel_because(version: &str, choice: &Choice) -> String {
    let mut parts = Vec::new();
    if !choice.other_wheel_platforms.is_empty() {
        parts.push(format!(
            "release {version} has no wheel for this image's tags (its Linux wheels: {} for {})",
            list(&choice.other_wheel_platforms),
            choice.other_wheel_pythons.join(", ")
        ));
    }
    parts.extend(choice.other_wheel_reasons.iter().cloned());
    if parts.is_empty() {
        // The index reader drops wheels no Linux image can use (win_amd64, macosx_*).
        parts.push(format!("release {version} has no Linux wheels"));
    }
    parts.join("; ")
}

fn list(items: &[String]) -> String {
    if items.len() <= SHOWN_PLATFORMS {
        return items.join(", ");
    }
    format!(
        "{} and {} more",
        items[..SHOWN_PLATFORMS].join(", "),
        items.len() - SHOWN_PLATFORMS
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn choice() -> Choice {
        Choice {
            usable_wheels: 0,
            usable_sdist: true,
            other_wheel_pythons: vec!["cp312".into()],
            other_wheel_platforms: vec!["manylinux_2_28_x86_64".into()],
            other_wheel_reasons: Vec::new(),
            older_wheel_version: Some("1.3.2".parse().unwrap()),
        }
    }

    #[test]
    fn an_sdist_sentence_names_the_release_s_wheels_and_the_older_wheel() {
        let text = sentence(Kind::Sdist, "2.0.0", "d-2.0.0.tar.gz", None, &choice());
        assert_eq!(
            text,
            "sdist d-2.0.0.tar.gz: release 2.0.0 has no wheel for this image's tags (its Linux wheels: \
             manylinux_2_28_x86_64 for cp312); pip prefers a newer sdist over an older wheel \
             (1.3.2 has a wheel here)"
        );
    }

    #[test]
    fn a_release_without_wheels_says_so_and_long_lists_are_cut() {
        let mut bare = choice();
        bare.other_wheel_platforms.clear();
        bare.older_wheel_version = None;
        let text = sentence(Kind::Sdist, "1.0", "d-1.0.tar.gz", None, &bare);
        assert_eq!(text, "sdist d-1.0.tar.gz: release 1.0 has no Linux wheels");
        let many: Vec<String> = (0..9).map(|i| format!("p{i}")).collect();
        assert_eq!(list(&many), "p0, p1, p2, p3, p4, p5 and 3 more");
    }

    #[test]
    fn a_wheel_sentence_counts_the_usable_wheels() {
        let mut wheels = choice();
        wheels.usable_wheels = 3;
        let text = sentence(Kind::Wheel, "2.0", "d.whl", Some("cp312-cp312-x"), &wheels);
        assert_eq!(
            text,
            "wheel d.whl: best of 3 usable wheels of 2.0, tag cp312-cp312-x"
        );
    }
}
