//! `--dockerfile`: an existing Dockerfile's image and requirements files as the run's inputs,
//! for whatever the command line leaves open (`--image`, `--arch` and FILEs still win).

use std::str::FromStr;

use super::InputError;
use crate::cli::Args;
use crate::dockerfile_input::{self, DockerfileInput};
use crate::knowledge::catalog::Catalog;
use crate::requirements::{self, ParsedRequirements};
use crate::tags::Arch;

/// Reads `--dockerfile` (if given) and fills in the image and architecture the command line
/// left open.
pub fn apply(args: &mut Args, catalog: &Catalog) -> anyhow::Result<Option<DockerfileInput>> {
    let Some(path) = &args.dockerfile else {
        return Ok(None);
    };
    let input = dockerfile_input::read(path).map_err(|e| InputError(e.to_string()))?;
    let at = |line: usize| format!("{}:{line}", input.path.display());
    if args.images.is_empty() {
        let python = args.python.as_deref().and_then(parse_python);
        let image = catalog.resolve(&input.image, python).map_err(|e| {
            InputError(format!(
                "{}: the final stage's base image is {}: {e}; pass --image to check one that wheelcheck knows",
                at(input.image_line),
                input.image
            ))
        })?;
        crate::diag::info(format_args!(
            "{}: checking {} (the final stage's base image)",
            at(input.image_line),
            image.tag
        ));
        args.images = vec![image.tag.clone()];
        args.python.get_or_insert_with(|| image.python_str());
    }
    if let (true, Some(platform)) = (args.arches.is_empty(), &input.platform) {
        Arch::from_str(platform).map_err(|_| {
            InputError(format!(
                "{}: --platform={platform}: wheelcheck checks linux/amd64 and linux/arm64; pass --arch",
                at(input.platform_line)
            ))
        })?;
        args.arches = vec![platform.clone()];
    }
    Ok(Some(input))
}

fn parse_python(text: &str) -> Option<(u32, u32)> {
    let (major, minor) = text.split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// The requirements to check: the FILEs given, else the Dockerfile's `pip install -r` files.
pub fn read_requirements(
    args: &Args,
    dockerfile: Option<&DockerfileInput>,
    selection: &crate::inputs::Selection,
) -> anyhow::Result<(ParsedRequirements, Option<crate::inputs::Locked>)> {
    match dockerfile {
        Some(input) if args.files.is_empty() => Ok((dockerfile_requirements(input)?, None)),
        _ => super::inputs::read_requirements(&args.files, selection),
    }
}

/// The file findings point at when no line is known: the first FILE, or the Dockerfile's
/// first requirements file.
pub fn primary_file(args: &Args, dockerfile: Option<&DockerfileInput>) -> std::path::PathBuf {
    match (args.files.first(), dockerfile) {
        (Some(file), _) => file.clone(),
        (None, Some(input)) => input
            .files
            .first()
            .map(|f| input.context.join(&f.context_path))
            .unwrap_or_else(|| input.path.clone()),
        (None, None) => "requirements.txt".into(),
    }
}

/// The Dockerfile's files, read as one requirements file of `-r`/`-c` lines next to the
/// Dockerfile would be: pip's own include rules, one merged result.
fn dockerfile_requirements(input: &DockerfileInput) -> anyhow::Result<ParsedRequirements> {
    if input.files.is_empty() {
        anyhow::bail!(InputError(format!(
            "{}: no `pip install -r FILE` line in the stages the final image is built from; give the requirements files on the command line",
            input.path.display()
        )));
    }
    let mut lines = Vec::new();
    for file in &input.files {
        let full = input.context.join(&file.context_path);
        if !full.is_file() {
            anyhow::bail!(InputError(format!(
                "{}:{}: pip reads {}, which is {} in the build context (taken to be the Dockerfile's directory), and that is not a file; give the requirements files on the command line",
                input.path.display(),
                file.line,
                file.written,
                full.display()
            )));
        }
        let option = if file.constraint { "-c" } else { "-r" };
        lines.push(format!("{option} {}", file.context_path));
    }
    let env = |name: &str| std::env::var(name).ok();
    Ok(requirements::parse_str(
        &lines.join("\n"),
        &input.path,
        &env,
    ))
}

/// The name the recommendation's Dockerfile lines give the requirements file.
pub fn requirements_name(args: &Args, dockerfile: Option<&DockerfileInput>) -> String {
    let first = match (args.files.first(), dockerfile) {
        (Some(file), _) => Some(file.to_string_lossy().into_owned()),
        (None, Some(input)) => input.files.first().map(|f| f.context_path.clone()),
        (None, None) => None,
    };
    first
        .as_deref()
        .and_then(|path| path.rsplit('/').next())
        .filter(|name| !name.is_empty())
        .unwrap_or("requirements.txt")
        .to_string()
}
