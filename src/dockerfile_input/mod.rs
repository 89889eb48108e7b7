//! `--dockerfile`: what an existing Dockerfile says wheelcheck should check — the final stage's
//! base image (stages followed back to an image, `ARG` defaults substituted, `--platform` giving
//! the architecture) and the requirements files its `pip install -r` lines read.
//!
//! Not to be confused with [`crate::report::dockerfile`], which *writes* a Dockerfile.
//!
//! Requirements files are found in the build context, taken to be the Dockerfile's directory:
//! a path in a `RUN` line is followed back through `WORKDIR` and the `COPY` that put the file
//! there; a relative path that no `COPY` explains is taken relative to the context.

mod context;
mod shell;
#[cfg(test)]
mod tests;
mod vars;

use std::path::{Path, PathBuf};

use parse_dockerfile::{Command, Instruction, RunInstruction, Stage};

use context::Filesystem;
use vars::{Unresolved, Vars};

/// BuildKit's automatic platform arguments: their values depend on the machine that builds, so
/// a `--platform` naming them does not fix the architecture.
const PLATFORM_ARGS: [&str; 8] = [
    "BUILDPLATFORM",
    "BUILDOS",
    "BUILDARCH",
    "BUILDVARIANT",
    "TARGETPLATFORM",
    "TARGETOS",
    "TARGETARCH",
    "TARGETVARIANT",
];

/// What a Dockerfile asks wheelcheck to check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DockerfileInput {
    pub path: PathBuf,
    /// The build context: the Dockerfile's directory.
    pub context: PathBuf,
    /// The final stage's base image, followed through earlier stages, without a digest.
    pub image: String,
    /// The line of the `FROM` that names [`Self::image`].
    pub image_line: usize,
    /// `linux/arm64` from a `--platform` that does not depend on the building machine.
    pub platform: Option<String>,
    pub platform_line: usize,
    /// The `-r`/`-c` files of the stages the final stage is built from, in file order.
    pub files: Vec<PipFile>,
}

/// A requirements or constraints file named by a `pip install` line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipFile {
    pub constraint: bool,
    /// Relative to the build context (`requirements/prod.txt`).
    pub context_path: String,
    /// As the `RUN` line names it, variables substituted (`/app/prod.txt`).
    pub written: String,
    pub line: usize,
}

/// A problem with the Dockerfile, at a line (0: the file as a whole).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {message}", .file.display(), at_line(*.line))]
pub struct DockerfileError {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

fn at_line(line: usize) -> String {
    match line {
        0 => String::new(),
        n => format!(":{n}"),
    }
}

/// Reads and interprets the Dockerfile at `path`.
pub fn read(path: &Path) -> Result<DockerfileInput, DockerfileError> {
    let bytes = crate::requirements::read_bounded(path).map_err(|e| DockerfileError {
        file: path.to_path_buf(),
        line: 0,
        message: format!("cannot read the Dockerfile: {e}"),
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let context = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let is_dir = |p: &str| context.join(p).is_dir();
    parse(&text, path, &is_dir)
}

/// Interprets Dockerfile `text` read from `path`; `is_dir` tells whether a build-context path
/// is a directory (a `COPY` of a directory copies its contents).
pub fn parse(
    text: &str,
    path: &Path,
    is_dir: &dyn Fn(&str) -> bool,
) -> Result<DockerfileInput, DockerfileError> {
    let reader = Reader::new(text, path);
    let parsed =
        parse_dockerfile::parse(text).map_err(|e| reader.error(e.line(), e.to_string()))?;
    let mut global = Vars::new();
    for arg in parsed.global_args() {
        for (name, value) in vars::arg_declarations(&arg.arguments.value) {
            global.insert(name, value.unwrap_or_default());
        }
    }
    let mut stages: Vec<StageInfo> = Vec::new();
    for stage in parsed.stages() {
        let info = reader.stage(&stage, &stages, &global, is_dir)?;
        stages.push(info);
    }
    let last = stages
        .len()
        .checked_sub(1)
        .ok_or_else(|| reader.error(1, "no FROM line".into()))?;
    let mut files = Vec::new();
    for index in needed_stages(&stages, last) {
        files.extend(stages[index].files.iter().cloned());
    }
    let final_stage = &stages[last];
    Ok(DockerfileInput {
        path: path.to_path_buf(),
        context: path.parent().unwrap_or(Path::new("")).to_path_buf(),
        image: final_stage.image.clone(),
        image_line: final_stage.image_line,
        platform: final_stage.platform.clone(),
        platform_line: final_stage.platform_line,
        files,
    })
}

/// One stage, as far as wheelcheck cares.
#[derive(Debug, Clone)]
struct StageInfo {
    name: Option<String>,
    /// The image at the root of this stage's chain of `FROM`s.
    image: String,
    image_line: usize,
    platform: Option<String>,
    platform_line: usize,
    /// The stage it is built on, if it is built on a stage.
    parent: Option<usize>,
    /// Stages it copies from (`COPY --from`, `RUN --mount=from=`).
    copies_from: Vec<usize>,
    filesystem: Filesystem,
    env: Vars,
    files: Vec<PipFile>,
}

/// The stages whose `pip install` lines shape the final one: its chain of parents and every
/// stage it copies from, transitively, in Dockerfile order.
fn needed_stages(stages: &[StageInfo], last: usize) -> Vec<usize> {
    let mut needed = vec![false; stages.len()];
    let mut todo = vec![last];
    while let Some(index) = todo.pop() {
        if std::mem::replace(&mut needed[index], true) {
            continue;
        }
        todo.extend(stages[index].parent);
        todo.extend(&stages[index].copies_from);
    }
    (0..stages.len()).filter(|&i| needed[i]).collect()
}

struct Reader<'t> {
    path: &'t Path,
    line_starts: Vec<usize>,
}

impl<'t> Reader<'t> {
    fn new(text: &str, path: &'t Path) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Reader { path, line_starts }
    }

    fn line_of(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&start| start <= offset)
    }

    fn error(&self, line: usize, message: String) -> DockerfileError {
        DockerfileError {
            file: self.path.to_path_buf(),
            line,
            message,
        }
    }

    fn stage(
        &self,
        stage: &Stage<'_, '_>,
        earlier: &[StageInfo],
        global: &Vars,
        is_dir: &dyn Fn(&str) -> bool,
    ) -> Result<StageInfo, DockerfileError> {
        let from = stage.from;
        let line = self.line_of(from.image.span.start);
        let image = vars::substitute(&from.image.value, global).map_err(|e| {
            self.error(
                line,
                format!("FROM {}: {}", from.image.value, unresolved(&e)),
            )
        })?;
        let platform = from
            .options
            .iter()
            .find(|flag| flag.name.value == "platform")
            .and_then(|flag| flag.value.as_ref());
        let platform = match platform {
            Some(value) => match vars::substitute(&value.value, global) {
                Ok(p) => Some(p),
                Err(Unresolved::Unset(name)) if PLATFORM_ARGS.contains(&name.as_str()) => None,
                Err(e) => return Err(self.error(line, format!("--platform: {}", unresolved(&e)))),
            },
            None => None,
        };
        let parent = find_stage(earlier, &image);
        let mut info = match parent {
            Some(index) => StageInfo {
                parent: Some(index),
                copies_from: Vec::new(),
                files: Vec::new(),
                ..earlier[index].clone()
            },
            None => StageInfo {
                name: None,
                image: base_reference(&image).map_err(|m| self.error(line, m))?,
                image_line: line,
                platform: None,
                platform_line: line,
                parent: None,
                copies_from: Vec::new(),
                filesystem: Filesystem::default(),
                env: Vars::new(),
                files: Vec::new(),
            },
        };
        info.name = from
            .as_
            .as_ref()
            .map(|(_, name)| name.value.to_ascii_lowercase());
        if platform.is_some() {
            info.platform = platform;
            info.platform_line = line;
        }
        let mut args = Vars::new();
        for instruction in stage.instructions {
            self.instruction(instruction, &mut info, &mut args, global, earlier, is_dir)?;
        }
        Ok(info)
    }

    fn instruction(
        &self,
        instruction: &Instruction<'_>,
        info: &mut StageInfo,
        args: &mut Vars,
        global: &Vars,
        earlier: &[StageInfo],
        is_dir: &dyn Fn(&str) -> bool,
    ) -> Result<(), DockerfileError> {
        let scope = |info: &StageInfo, args: &Vars| {
            let mut all = args.clone();
            all.extend(info.env.clone());
            all
        };
        match instruction {
            Instruction::Arg(arg) => {
                for (name, value) in vars::arg_declarations(&arg.arguments.value) {
                    let value = value.or_else(|| global.get(&name).cloned());
                    args.insert(name, value.unwrap_or_default());
                }
            }
            Instruction::Env(env) => {
                for (name, value) in vars::env_assignments(&env.arguments.value) {
                    let value = vars::substitute(&value, &scope(info, args)).unwrap_or(value);
                    info.env.insert(name, value);
                }
            }
            Instruction::Workdir(workdir) => {
                let dir = &workdir.arguments.value;
                let dir =
                    vars::substitute(dir, &scope(info, args)).unwrap_or_else(|_| dir.to_string());
                info.filesystem.set_workdir(&dir);
            }
            Instruction::Copy(copy) => {
                self.copy(&copy.options, &copy.src, &copy.dest.value, info, earlier)
            }
            Instruction::Add(add) => {
                self.copy(&add.options, &add.src, &add.dest.value, info, earlier)
            }
            Instruction::Run(run) => {
                let vars = scope(info, args);
                self.run(run, info, &vars, earlier, is_dir)?;
            }
            _ => {}
        }
        Ok(())
    }

    fn copy(
        &self,
        options: &[parse_dockerfile::Flag<'_>],
        sources: &[parse_dockerfile::Source<'_>],
        dest: &str,
        info: &mut StageInfo,
        earlier: &[StageInfo],
    ) {
        if let Some(from) = flag(options, "from") {
            // From another stage or image: nothing of the build context arrives this way.
            info.copies_from.extend(find_stage(earlier, &from));
            return;
        }
        let paths: Vec<String> = sources
            .iter()
            .filter_map(|source| match source {
                parse_dockerfile::Source::Path(path) if !path.value.contains("://") => {
                    Some(path.value.to_string())
                }
                _ => None,
            })
            .collect();
        if !paths.is_empty() {
            info.filesystem.add_copy(paths, dest);
        }
    }

    fn run(
        &self,
        run: &RunInstruction<'_>,
        info: &mut StageInfo,
        vars: &Vars,
        earlier: &[StageInfo],
        is_dir: &dyn Fn(&str) -> bool,
    ) -> Result<(), DockerfileError> {
        let line = self.line_of(run.run.span.start);
        // Bind mounts exist for this RUN only: a copy of the filesystem gets them.
        let mut filesystem = info.filesystem.clone();
        for mount in run.options.iter().filter(|f| f.name.value == "mount") {
            let value = mount
                .value
                .as_ref()
                .map(|v| v.value.to_string())
                .unwrap_or_default();
            let fields = mount_fields(&value);
            let field = |key: &str| {
                fields
                    .iter()
                    .find(|(k, _)| k == key)
                    .map(|(_, v)| v.clone())
            };
            if let Some(from) = field("from") {
                info.copies_from.extend(find_stage(earlier, &from));
                continue;
            }
            let is_bind = field("type").is_none_or(|t| t == "bind");
            if let (true, Some(target)) = (is_bind, field("target").or_else(|| field("dst"))) {
                let source = field("source")
                    .or_else(|| field("src"))
                    .unwrap_or_else(|| ".".into());
                filesystem.add_copy(vec![source], &target);
            }
        }
        for command in run_commands(run) {
            for file in shell::pip_file_refs(&command) {
                let written = vars::substitute(&file.path, vars).map_err(|e| {
                    self.error(
                        line,
                        format!("pip's file {}: {}", file.path, unresolved(&e)),
                    )
                })?;
                let context_path = match filesystem.context_source(&written, is_dir) {
                    Some(source) => source,
                    None if !written.starts_with('/') => written.clone(),
                    None => {
                        return Err(self.error(
                            line,
                            format!(
                                "pip reads {written}, which no COPY before this line puts in the image from the build context ({}); give the requirements files on the command line instead",
                                shown_context(self.path)
                            ),
                        ));
                    }
                };
                info.files.push(PipFile {
                    constraint: file.constraint,
                    context_path,
                    written,
                    line,
                });
            }
        }
        Ok(())
    }
}

/// The commands a `RUN` runs: its shell form, here-documents, or exec form (whose `sh -c`
/// script is read as a script).
fn run_commands(run: &RunInstruction<'_>) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    match &run.arguments {
        Command::Shell(script) => commands.extend(shell::commands(script.value)),
        Command::Exec(words) => {
            let words: Vec<String> = words.value.iter().map(|w| w.value.to_string()).collect();
            for word in words.iter().filter(|w| w.contains(char::is_whitespace)) {
                commands.extend(shell::commands(word));
            }
            commands.push(words);
        }
        _ => {}
    }
    for doc in &run.here_docs {
        commands.extend(shell::commands(&doc.value));
    }
    commands
}

/// `type=bind,source=requirements.txt,target=/tmp/r.txt` as key-value pairs.
fn mount_fields(value: &str) -> Vec<(String, String)> {
    value
        .split(',')
        .map(|field| match field.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
            None => (field.trim().to_ascii_lowercase(), "true".into()),
        })
        .collect()
}

fn flag(options: &[parse_dockerfile::Flag<'_>], name: &str) -> Option<String> {
    options
        .iter()
        .find(|f| f.name.value == name)
        .and_then(|f| f.value.as_ref())
        .map(|v| v.value.to_string())
}

/// An earlier stage named `reference` (case-insensitively), or numbered so (`COPY --from=0`).
fn find_stage(earlier: &[StageInfo], reference: &str) -> Option<usize> {
    let lower = reference.to_ascii_lowercase();
    earlier
        .iter()
        .rposition(|s| s.name.as_deref() == Some(lower.as_str()))
        .or_else(|| lower.parse::<usize>().ok().filter(|&i| i < earlier.len()))
}

/// The image reference without its digest. A reference by digest alone names no tag, so the
/// catalog cannot tell which Python and release it is.
fn base_reference(image: &str) -> Result<String, String> {
    let Some((name, digest)) = image.split_once('@') else {
        return Ok(image.to_string());
    };
    let last_segment = name.rsplit('/').next().unwrap_or(name);
    if last_segment.contains(':') {
        return Ok(name.to_string());
    }
    Err(format!(
        "FROM {image} names the image by digest ({digest}) without a tag, so its Python version and release are unknown; add the tag (python:3.12-slim@{digest}) or pass --image"
    ))
}

fn unresolved(err: &Unresolved) -> String {
    match err {
        Unresolved::Unset(name) => format!(
            "${name} has no value here; give it a default (ARG {name}=...) or pass --image and FILEs"
        ),
        Unresolved::Unsupported(text) => {
            format!("{text}: this form of substitution is not read; pass --image and FILEs")
        }
    }
}

/// The build context as it may be shown to a person.
fn shown_context(dockerfile: &Path) -> String {
    match dockerfile.parent().map(Path::display) {
        Some(dir) if !dir.to_string().is_empty() => {
            format!("taken to be {dir}, the Dockerfile's directory")
        }
        _ => "taken to be the Dockerfile's directory".into(),
    }
}
