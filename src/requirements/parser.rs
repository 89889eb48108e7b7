//! Walking the lines of a requirements file and the files it includes: pip's
//! `RequirementsFileParser` and `handle_line` / `handle_option_line`.
//!
//! Each logical line is split into requirement and options, then it is one of: a requirement
//! (or `-e`), an include (`-r` / `-c`), or options only. What pip does with each is mirrored,
//! including what it silently ignores (reported here as warnings).

use std::path::{Path, PathBuf};

use super::options::{self, LineOptions, Opt};
use super::preprocess::{self, LogicalLine};
use super::{
    EntryKind, Hash, LineError, ParsedRequirements, ReadError, RequirementEntry, Source, classify,
    read_requirements_file, urls,
};

/// Includes nested deeper than this are refused, so that a cycle pip cannot see (through
/// symlinks the file system does not resolve) still ends.
const MAX_INCLUDE_DEPTH: usize = 64;

/// [`super::parse_str`] with an explicit working directory (which must be absolute).
///
/// Relative paths (the top-level file, local requirements) are taken from `cwd`; tests use it
/// to stay independent of the process's working directory.
pub(super) fn parse_in(
    content: &str,
    path: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    cwd: PathBuf,
) -> ParsedRequirements {
    let chain = [file_identity(&cwd, path)];
    let mut parser = Parser {
        env,
        cwd,
        out: ParsedRequirements::default(),
        hash_mode: HashMode::default(),
    };
    parser.parse_content(
        content,
        &FileContext {
            path,
            constraint: false,
            chain: &chain,
        },
    );
    parser.finish()
}

/// How a file is recognised in an include chain: its real path when it exists (so symlinks
/// cannot hide a cycle), else pip's `abspath`.
fn file_identity(cwd: &Path, path: &Path) -> PathBuf {
    let path = cwd.join(path);
    std::fs::canonicalize(&path).unwrap_or_else(|_| urls::normalize(&path))
}

/// The file a line comes from.
struct FileContext<'c> {
    path: &'c Path,
    /// Lines of a `-c` file are constraints.
    constraint: bool,
    /// Identities of the files being read, from the top-level one to this one.
    chain: &'c [PathBuf],
}

/// A line being handled: where it is and its text.
struct Line<'l> {
    source: Source,
    logical: &'l LogicalLine,
}

/// Where hash-checking mode was asked for, for and against, and whether any hash was seen.
#[derive(Default)]
struct HashMode {
    required_at: Option<(Source, String)>,
    opted_out_at: Option<(Source, String)>,
    any_hashes: bool,
}

/// Options that do something on a requirement line (everything else is ignored there by pip).
const REQUIREMENT_LINE_OPTIONS: &[Opt] = &[
    Opt::Editable,
    Opt::Hash,
    Opt::ConfigSettings,
    Opt::GlobalOption,
    Opt::NoBinary,
    Opt::OnlyBinary,
    Opt::AllReleases,
    Opt::OnlyFinal,
];

/// Options that do something on a `-r` / `-c` line.
const INCLUDE_LINE_OPTIONS: &[Opt] = &[
    Opt::Requirement,
    Opt::Constraint,
    Opt::NoBinary,
    Opt::OnlyBinary,
    Opt::AllReleases,
    Opt::OnlyFinal,
];

/// Options that do something on a line with no requirement.
const OPTION_LINE_OPTIONS: &[Opt] = &[
    Opt::IndexUrl,
    Opt::ExtraIndexUrl,
    Opt::NoIndex,
    Opt::FindLinks,
    Opt::NoBinary,
    Opt::OnlyBinary,
    Opt::PreferBinary,
    Opt::RequireHashes,
    Opt::NoRequireHashes,
    Opt::Pre,
    Opt::AllReleases,
    Opt::OnlyFinal,
    Opt::TrustedHost,
    Opt::UseFeature,
    // Warned about on its own, with pip's words.
    Opt::Hash,
];

struct Parser<'e> {
    env: &'e dyn Fn(&str) -> Option<String>,
    cwd: PathBuf,
    out: ParsedRequirements,
    hash_mode: HashMode,
}

impl Parser<'_> {
    fn parse_content(&mut self, content: &str, file: &FileContext<'_>) {
        for logical in preprocess::logical_lines(content, self.env) {
            let line = Line {
                source: Source {
                    file: file.path.to_path_buf(),
                    line: logical.number,
                },
                logical: &logical,
            };
            self.handle_line(&line, file);
        }
    }

    /// pip's `RequirementsFileParser._parse_and_recurse` + `handle_line` for one line.
    fn handle_line(&mut self, line: &Line<'_>, file: &FileContext<'_>) {
        let (args, option_text) = options::break_args_options(&line.logical.expanded);
        let parsed = options::shlex_split(&option_text)
            .map_err(|err| format!("could not split options ({err}): {option_text}"))
            .and_then(|tokens| options::parse(&tokens));
        let opts = match parsed {
            Ok(opts) => opts,
            Err(message) => return self.error(line, message),
        };
        // pip's parser writes these into the finder's own objects, whatever the line is.
        self.apply_shared_controls(line, &opts);
        if !opts.ignored_args.is_empty() {
            self.warn(
                line,
                format!(
                    "pip ignores the arguments {:?} after the options",
                    opts.ignored_args
                ),
            );
        }
        if !args.is_empty() || !opts.editables.is_empty() {
            self.requirement_line(line, file, &args, &opts);
        } else if let Some(target) = opts.requirements.first() {
            self.include(line, file, target, false, &opts);
        } else if let Some(target) = opts.constraints.first() {
            self.include(line, file, target, true, &opts);
        } else {
            self.option_line(line, file, &opts);
        }
    }

    fn apply_shared_controls(&mut self, line: &Line<'_>, opts: &LineOptions) {
        let options = &mut self.out.options;
        let mut failures = Vec::new();
        for (kind, value) in &opts.binary {
            failures.extend(options.format_control.handle(value, *kind).err());
        }
        for (kind, value) in &opts.releases {
            failures.extend(options.release_control.handle(value, *kind).err());
        }
        for failure in failures {
            self.error(line, failure.to_string());
        }
    }

    /// A requirement or `-e` line (pip 26: with both, the requirement text is taken as the
    /// editable target).
    fn requirement_line(
        &mut self,
        line: &Line<'_>,
        file: &FileContext<'_>,
        args: &str,
        opts: &LineOptions,
    ) {
        self.warn_ignored(
            line,
            opts,
            REQUIREMENT_LINE_OPTIONS,
            "on a requirement line",
        );
        if opts.editables.len() > 1 || (!args.is_empty() && !opts.editables.is_empty()) {
            self.warn(
                line,
                "pip takes only one requirement per line; the other -e targets are ignored",
            );
        }
        if !opts.global_options.is_empty() {
            self.warn(
                line,
                "--global-option is ignored (recent pip versions reject it in requirements files)",
            );
        }
        let editable = !opts.editables.is_empty();
        let requirement = match opts.editables.first() {
            Some(target) if args.is_empty() => target.as_str(),
            _ => args,
        };
        let classified = if editable {
            if file.constraint {
                return self.error(line, "Editable requirements are not allowed as constraints");
            }
            if !opts.hashes.is_empty() {
                self.warn(line, "pip ignores --hash on an editable requirement");
            }
            classify::editable(requirement, &self.cwd)
        } else {
            classify::requirement(requirement, &self.cwd)
        };
        let classified = match classified {
            Ok(classified) => classified,
            Err(message) => return self.error(line, message),
        };
        for warning in classified.warnings {
            self.warn(line, warning);
        }
        if file.constraint
            && let Some(problem) = constraint_problem(&classified.kind)
        {
            return self.error(line, problem);
        }
        let hashes = if editable {
            Vec::new()
        } else {
            opts.hashes.clone()
        };
        self.check_digests(line, &hashes);
        self.hash_mode.any_hashes |= !hashes.is_empty();
        let entry = RequirementEntry {
            source: line.source.clone(),
            text: line.logical.raw.clone(),
            kind: classified.kind,
            hashes,
        };
        if file.constraint {
            self.out.constraints.push(entry);
        } else {
            self.out.requirements.push(entry);
        }
    }

    /// `-r` / `-c`: parse the named file in place. `-r` always gives requirements, even inside
    /// a constraints file, because that is what pip does.
    fn include(
        &mut self,
        line: &Line<'_>,
        file: &FileContext<'_>,
        target: &str,
        constraint: bool,
        opts: &LineOptions,
    ) {
        self.warn_ignored(line, opts, INCLUDE_LINE_OPTIONS, "on a -r/-c line");
        if opts.requirements.len() + opts.constraints.len() > 1 {
            self.warn(
                line,
                "pip reads only one file per line (the first -r, else the first -c); the others are ignored",
            );
        }
        let path = match self.include_path(file.path, target) {
            Ok(path) => path,
            Err(message) => return self.error(line, message),
        };
        let identity = file_identity(&self.cwd, &path);
        if file.chain.contains(&identity) {
            return self.error(
                line,
                format!(
                    "{} recursively references itself in {}; not reading it again",
                    path.display(),
                    file.path.display()
                ),
            );
        }
        if file.chain.len() >= MAX_INCLUDE_DEPTH {
            return self.error(
                line,
                format!("requirements files are nested more than {MAX_INCLUDE_DEPTH} deep"),
            );
        }
        let content = match read_requirements_file(&self.cwd.join(&path)) {
            Ok(content) => content,
            Err(err) => return self.error(line, include_failure(&err, constraint)),
        };
        let mut chain = file.chain.to_vec();
        chain.push(identity);
        self.parse_content(
            &content,
            &FileContext {
                path: &path,
                constraint,
                chain: &chain,
            },
        );
    }

    /// Where an include points: relative to the including file's directory, or a `file:` URL.
    fn include_path(&self, including: &Path, target: &str) -> Result<PathBuf, String> {
        let scheme = target
            .split_once(':')
            .map(|(scheme, _)| scheme.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("http" | "https") => Err(format!(
                "remote requirements files are not supported: download {target} first and \
                 refer to the local copy"
            )),
            Some("file") => urls::file_url_to_path(target, &self.cwd),
            _ => Ok(including
                .parent()
                .unwrap_or_else(|| Path::new(""))
                .join(target)),
        }
    }

    /// pip's `handle_option_line`: a line of options only.
    fn option_line(&mut self, line: &Line<'_>, file: &FileContext<'_>, opts: &LineOptions) {
        self.warn_ignored(line, opts, OPTION_LINE_OPTIONS, "without a requirement");
        if !opts.hashes.is_empty() {
            self.warn(line, "has --hash but no requirement, and will be ignored");
        }
        if opts.find_links.len() > 1 {
            self.warn(
                line,
                "pip uses only the first -f of a line; the others are ignored",
            );
        }
        let recorded = || (line.source.clone(), line.logical.raw.clone());
        if opts.require_hashes {
            self.hash_mode.required_at = Some(recorded());
        }
        if opts.no_require_hashes {
            self.hash_mode.opted_out_at = Some(recorded());
        }
        let find_link = opts
            .find_links
            .first()
            .map(|value| self.find_link(file.path, value));
        let options = &mut self.out.options;
        for feature in &opts.features {
            if !options.features.contains(feature) {
                options.features.push(feature.clone());
            }
        }
        if opts.no_index {
            options.no_index = true;
            options.index_url = None;
            options.extra_index_urls.clear();
        }
        if !options.no_index {
            if let Some(url) = &opts.index_url {
                options.index_url = Some(url.clone());
                options.extra_index_urls.clear();
            }
            options
                .extra_index_urls
                .extend(opts.extra_index_urls.iter().cloned());
        }
        options.find_links.extend(find_link);
        if opts.pre {
            options.pre = true;
            options
                .release_control
                .all_releases
                .insert(":all:".to_owned());
        }
        options.prefer_binary |= opts.prefer_binary;
        options
            .trusted_hosts
            .extend(opts.trusted_hosts.iter().cloned());
    }

    /// pip makes a `-f` value absolute when it exists relative to the requirements file.
    fn find_link(&self, file: &Path, value: &str) -> String {
        let dir = urls::normalize(&self.cwd.join(file));
        let candidate = dir.parent().unwrap_or(&dir).join(value);
        if candidate.exists() {
            urls::normalize(&candidate).to_string_lossy().into_owned()
        } else {
            value.to_owned()
        }
    }

    fn warn_ignored(&mut self, line: &Line<'_>, opts: &LineOptions, allowed: &[Opt], place: &str) {
        let mut ignored: Vec<&str> = Vec::new();
        for opt in opts.seen.iter().filter(|opt| !allowed.contains(opt)) {
            if !ignored.contains(&opt.name()) {
                ignored.push(opt.name());
            }
        }
        if !ignored.is_empty() {
            self.warn(line, format!("pip ignores {} {place}", ignored.join(", ")));
        }
    }

    /// A digest that cannot be a hex digest of its algorithm will never match, so pip would
    /// fail the install with a hash mismatch.
    fn check_digests(&mut self, line: &Line<'_>, hashes: &[Hash]) {
        for hash in hashes {
            let expected = match hash.algorithm.as_str() {
                "sha256" => 64,
                "sha384" => 96,
                _ => 128,
            };
            let is_hex = hash.digest.bytes().all(|b| b.is_ascii_hexdigit());
            if hash.digest.len() != expected || !is_hex {
                self.warn(
                    line,
                    format!(
                        "the {} digest {} is not {expected} hex digits, so it can never match",
                        hash.algorithm, hash.digest
                    ),
                );
            }
        }
    }

    fn finish(mut self) -> ParsedRequirements {
        let mode = std::mem::take(&mut self.hash_mode);
        let options = &mut self.out.options;
        options.no_require_hashes = mode.opted_out_at.is_some();
        options.require_hashes =
            mode.required_at.is_some() || (mode.any_hashes && mode.opted_out_at.is_none());
        if let (Some(required), Some(opted_out)) = (mode.required_at, mode.opted_out_at) {
            let (source, text) = std::cmp::max_by_key(required, opted_out, |(source, _)| {
                (source.file.clone(), source.line)
            });
            self.out.errors.push(LineError {
                source,
                text,
                message: "--require-hashes and --no-require-hashes are mutually exclusive"
                    .to_owned(),
            });
        }
        self.out
    }

    fn error(&mut self, line: &Line<'_>, message: impl AsRef<str>) {
        let error = self.diagnostic(line, message.as_ref());
        self.out.errors.push(error);
    }

    fn warn(&mut self, line: &Line<'_>, message: impl AsRef<str>) {
        let warning = self.diagnostic(line, message.as_ref());
        self.out.warnings.push(warning);
    }

    fn diagnostic(&self, line: &Line<'_>, message: &str) -> LineError {
        LineError {
            source: line.source.clone(),
            text: line.logical.raw.clone(),
            message: line.logical.redact(message),
        }
    }
}

/// Why an included file could not be read. Unlike the top-level file's [`ReadError`], a relative
/// path here is relative to the including file, so the message says so.
fn include_failure(err: &ReadError, constraint: bool) -> String {
    let what = if constraint {
        "constraint"
    } else {
        "requirements"
    };
    match err {
        ReadError::NotFound { path } => format!(
            "could not open {what} file {}: it does not exist (-r/-c paths are relative to the \
             file that names them)",
            path.display()
        ),
        ReadError::NotText { path, why } => {
            format!("could not open {what} file {}: {why}", path.display())
        }
        ReadError::Io { path, source } => {
            format!("could not open {what} file {}: {source}", path.display())
        }
    }
}

/// pip's `check_invalid_constraint_type`: the resolver refuses these forms as constraints.
fn constraint_problem(kind: &EntryKind) -> Option<&'static str> {
    let has_extras = match kind {
        EntryKind::Named(req) => !req.extras.is_empty(),
        EntryKind::Url { extras, .. } | EntryKind::LocalPath { extras, .. } => !extras.is_empty(),
        EntryKind::Editable { .. } => {
            return Some("Editable requirements are not allowed as constraints");
        }
        EntryKind::Vcs { .. } => false,
    };
    if kind.name().is_none() {
        Some("Unnamed requirements are not allowed as constraints")
    } else if has_extras {
        Some("Constraints cannot have extras")
    } else {
        None
    }
}
