//! The command line, as clap sees it.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::index::http;
pub use crate::report::findings::FailOn;

/// What `--help` says the defaults are; kept beside the catalog's real defaults by a test.
pub const DEFAULTS_HELP: &str = "Defaults: the images alpine, slim and full of today's official python:3 \
(python:3.14-alpine3.24, python:3.14-slim-trixie, python:3.14-trixie), on amd64, \
with the Python Package Index as the index.";

#[derive(Debug, Parser)]
#[command(
    name = "wheelcheck",
    version,
    about = "Tell, before you write a Dockerfile, which file pip would install for each requirement \
             on each official Python image (alpine = musl, slim and full = Debian glibc).",
    after_help = DEFAULTS_HELP,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Requirements files (pip's format: -r/-c includes, options, hashes, markers...), or
    /// pyproject.toml, pylock.toml, uv.lock, poetry.lock, Pipfile.lock (told by the name).
    #[arg(required_unless_present = "dockerfile", value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Read the image (final stage's FROM) and, when no FILE is given, the requirements files
    /// of its `pip install -r` lines (relative to the Dockerfile's directory, the build context).
    #[arg(long, value_name = "DOCKERFILE")]
    pub dockerfile: Option<PathBuf>,

    /// pyproject.toml and lock files: also install this extra (optional-dependency group);
    /// `all` for every one. Repeatable.
    #[arg(long = "extra", value_name = "NAME")]
    pub extras: Vec<String>,

    /// pyproject.toml [dependency-groups], uv and Poetry groups, Pipfile.lock's `develop`:
    /// also install this group. Repeatable.
    #[arg(long = "group", value_name = "NAME")]
    pub groups: Vec<String>,

    /// Python version X.Y of the images [default: the Python of today's python:3 tag].
    #[arg(long, value_name = "X.Y")]
    pub python: Option<String>,

    /// Image to check: a shorthand (alpine, slim, full) or an exact tag such as
    /// python:3.12-slim-bookworm. Repeatable [default: alpine, slim, full].
    #[arg(long = "image", value_name = "IMAGE")]
    pub images: Vec<String>,

    /// CPU architecture: amd64 or arm64. Repeatable [default: amd64].
    #[arg(long = "arch", value_name = "ARCH")]
    pub arches: Vec<String>,

    /// Base URL of the package index (simple API) [default: the Python Package Index].
    #[arg(short = 'i', long, env = "PIP_INDEX_URL", value_name = "URL")]
    pub index_url: Option<String>,

    /// Extra index URLs, searched as well (repeatable; the variable is space-separated).
    #[arg(
        long = "extra-index-url",
        env = "PIP_EXTRA_INDEX_URL",
        value_delimiter = ' ',
        value_name = "URL"
    )]
    pub extra_index_urls: Vec<String>,

    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,

    /// Which findings make the exit code 1: none, unresolvable (an image cannot install the
    /// requirements), source-build (also: something is built from source), system-packages
    /// (also: system packages must be added). Any checked image counts; narrow with --image.
    #[arg(long, value_enum, value_name = "LEVEL", default_value_t = FailOn::SystemPackages)]
    pub fail_on: FailOn,
    /// Colour in the human report: auto = only when standard output is a terminal and
    /// NO_COLOR is not set (never with -o FILE).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Write the report to FILE instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,

    /// Also write a Dockerfile for the recommended image to FILE.
    #[arg(long, value_name = "FILE")]
    pub dockerfile_out: Option<PathBuf>,

    /// With --dockerfile-out, build sdists in the final image (build packages removed in the
    /// same RUN) instead of a multi-stage build.
    #[arg(long, requires = "dockerfile_out")]
    pub build_in_place: bool,

    /// Use only the cache; fail on anything not cached.
    #[arg(long, conflicts_with = "refresh")]
    pub offline: bool,

    /// Download every chosen wheel whole and compare its sha256 with the index's. Without it,
    /// wheels are read by range requests, which check sizes, zip structure and the CRCs of
    /// members read to their end, but cannot check the whole file's hash. A match is cached,
    /// so a wheel is downloaded once.
    #[arg(long)]
    pub verify_hashes: bool,

    /// Ignore cached index pages (file contents keyed by sha256 are still reused).
    #[arg(long)]
    pub refresh: bool,

    /// How long a cached index page is used without asking the index again, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 600)]
    pub index_ttl: u64,

    /// Seconds the whole run may spend on the network; what is not fetched by then is
    /// reported as could not check (exit code 3). One request also gives up after 60 seconds
    /// without data (or this, if shorter).
    #[arg(long, value_name = "SECONDS", default_value_t = http::DEFAULT_TIMEOUT_SECS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub timeout: u64,

    /// Most HTTP requests one run makes (retries and redirects included).
    #[arg(long, value_name = "N", default_value_t = http::DEFAULT_MAX_REQUESTS,
          value_parser = clap::value_parser!(u64).range(1..))]
    pub max_requests: u64,

    /// Largest answer read into memory (index page, metadata, sdist, range of a wheel), in bytes
    /// or with a suffix: 512K, 256M, 1G (powers of 1024) [default: 256M].
    #[arg(long, value_name = "BYTES", default_value = "256M", value_parser = parse_size)]
    pub max_response_size: u64,

    /// Cache directory [default: the user's cache dir, or WHEELCHECK_CACHE_DIR].
    #[arg(long, env = "WHEELCHECK_CACHE_DIR", value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,

    /// Print only the report and errors.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// More detail: -v per-target files and network statistics, -vv debugging.
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// After the report, explain PACKAGE: the chains of requirements that pull it in and, per
    /// image, the file pip takes and why, with a pin or twin that avoids a source build.
    /// Repeatable.
    #[arg(long = "explain", value_name = "PACKAGE")]
    pub explain: Vec<String>,

    /// Set by `why`: print the explanations instead of the report.
    #[arg(skip)]
    pub explain_only: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Explain one package: why it is installed (the chains of requirements from your files)
    /// and, per image, which file pip takes and why. Takes the files and options of the main
    /// command: `wheelcheck why psycopg2 requirements.txt --image alpine`.
    Why {
        /// The package to explain.
        package: String,
        /// Requirements files and options, as for the main command.
        #[arg(
            required = true,
            trailing_var_arg = true,
            allow_hyphen_values = true,
            value_name = "FILE|OPTION"
        )]
        args: Vec<OsString>,
    },
    /// Print a shell completion script for wheelcheck to standard output.
    Completions {
        /// The shell: bash, zsh, fish, elvish or powershell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print wheelcheck's manual page (roff) to standard output.
    Man,
}

impl Args {
    /// The command line of this process; clap's usage errors exit with code 2.
    pub fn parse_command_line() -> Args {
        Self::from_command_line(std::env::args_os()).unwrap_or_else(|err| err.exit())
    }

    /// `why PACKAGE ARGS...` is the main command on `ARGS...` with `--explain PACKAGE`, printing
    /// only the explanation: the files and options are parsed by the one `Args` parser, so the
    /// subcommand accepts every option the main command has, without a second list of them.
    pub fn from_command_line<I, T>(argv: I) -> Result<Args, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args = Args::try_parse_from(argv)?;
        let Some(Command::Why {
            package,
            args: rest,
        }) = args.command
        else {
            return Ok(args);
        };
        let argv = std::iter::once(OsString::from("wheelcheck why")).chain(rest);
        let mut inner = Args::try_parse_from(argv)?;
        if inner.command.is_some() {
            return Err(clap::Error::raw(
                clap::error::ErrorKind::ArgumentConflict,
                "`why` takes requirements files and options, not another subcommand\n",
            ));
        }
        inner.explain.push(package);
        inner.explain_only = true;
        Ok(inner)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
    /// GitHub Actions workflow commands (annotations), one per finding.
    Github,
    /// SARIF 2.1.0, for code-scanning upload.
    Sarif,
    /// A pull-request comment.
    Markdown,
    /// One self-contained HTML page (no external assets).
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `1048576`, `512K`, `256M`, `1G` (also `KiB`, `MiB`, `GiB`, `KB`, ...: all powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let digits_end = trimmed
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(trimmed.len());
    let (digits, unit) = trimmed.split_at(digits_end);
    let number: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size such as 1048576, 512K, 256M or 1G"))?;
    let shift = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 0,
        "k" | "kb" | "kib" => 10,
        "m" | "mb" | "mib" => 20,
        "g" | "gb" | "gib" => 30,
        _ => return Err(format!("`{text}`: unknown unit (use K, M or G)")),
    };
    let bytes = number
        .checked_mul(1 << shift)
        .ok_or_else(|| format!("`{text}` is too large"))?;
    if bytes == 0 {
        return Err("the limit must be at least 1 byte".into());
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Result<Args, clap::Error> {
        Args::from_command_line(line.split_whitespace())
    }

    #[test]
    fn why_takes_the_main_command_s_files_and_options() {
        let args = parse("wheelcheck why Psycopg2 req.txt --image alpine --arch arm64 -v").unwrap();
        assert_eq!(args.explain, ["Psycopg2"]);
        assert!(args.explain_only);
        assert_eq!(args.files, [PathBuf::from("req.txt")]);
        assert_eq!(args.images, ["alpine"]);
        assert_eq!(args.arches, ["arm64"]);
        assert_eq!(args.verbose, 1);
    }

    #[test]
    fn explain_is_repeatable_on_the_main_command() {
        let args = parse("wheelcheck req.txt --explain a --explain b").unwrap();
        assert_eq!(args.explain, ["a", "b"]);
        assert!(!args.explain_only);
        assert!(args.command.is_none());
    }

    #[test]
    fn why_needs_files_and_refuses_options_before_it() {
        assert!(parse("wheelcheck why psycopg2").is_err());
        assert!(parse("wheelcheck why psycopg2 --image alpine").is_err());
        // After an option, `why` is a file name like any other (the run then says it is missing).
        let late = parse("wheelcheck --image alpine why psycopg2 req.txt").unwrap();
        assert!(!late.explain_only);
        assert_eq!(late.files[0], PathBuf::from("why"));
        assert!(parse("wheelcheck").is_err());
    }

    #[test]
    fn sizes_parse_with_binary_suffixes() {
        assert_eq!(parse_size("1048576"), Ok(1 << 20));
        assert_eq!(parse_size("512K"), Ok(512 << 10));
        assert_eq!(parse_size("256M"), Ok(http::DEFAULT_MAX_RESPONSE_SIZE));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("5X").is_err());
        assert!(parse_size("0").is_err());
    }
}
