//! Whole-parser tests on real files in temporary directories.
//!
//! Expected results were checked against pip 26.3's own parser on the same files.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep508_rs::pep440_rs::VersionSpecifiers;
use pep508_rs::{ExtraName, MarkerTree, PackageName, VersionOrUrl};
use tempfile::TempDir;

use super::parser::parse_in;
use super::*;

const SHA_A: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const SHA_B: &str = "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";

fn no_env(_: &str) -> Option<String> {
    None
}

/// A temporary directory that is also the working directory of the parse.
struct Fixture {
    dir: TempDir,
}

impl Fixture {
    fn new() -> Self {
        Self {
            dir: TempDir::new().expect("a temporary directory"),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.root().join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create parent directories");
        }
        std::fs::write(&path, content).expect("write fixture file");
        path
    }

    fn parse(&self, relative: &str, content: &str) -> ParsedRequirements {
        self.parse_with_env(relative, content, &no_env)
    }

    fn parse_with_env(
        &self,
        relative: &str,
        content: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> ParsedRequirements {
        let path = self.write(relative, content);
        parse_in(content, &path, env, self.root().to_path_buf())
    }
}

fn package(name: &str) -> PackageName {
    PackageName::from_str(name).expect("valid test name")
}

fn extra(name: &str) -> ExtraName {
    ExtraName::from_str(name).expect("valid test extra")
}

fn marker(text: &str) -> MarkerTree {
    MarkerTree::from_str(text).expect("valid test marker")
}

/// The named requirement of an entry, or a panic naming what it was instead.
fn named(entry: &RequirementEntry) -> &Requirement {
    match &entry.kind {
        EntryKind::Named(req) => req,
        other => panic!("expected a named requirement, got {other:?}"),
    }
}

/// `name` of every entry, for order checks.
fn names(entries: &[RequirementEntry]) -> Vec<String> {
    entries
        .iter()
        .map(|entry| {
            entry
                .kind
                .name()
                .map_or_else(|| "?".to_owned(), ToString::to_string)
        })
        .collect()
}

fn lines(entries: &[RequirementEntry]) -> Vec<usize> {
    entries.iter().map(|entry| entry.source.line).collect()
}

fn messages(diagnostics: &[LineError]) -> Vec<String> {
    diagnostics.iter().map(ToString::to_string).collect()
}

fn assert_clean(parsed: &ParsedRequirements) {
    assert!(
        parsed.errors.is_empty(),
        "unexpected errors: {:#?}",
        parsed.errors
    );
}

// ---------------------------------------------------------------- lines and comments

#[test]
fn comments_whole_line_inline_and_hash_inside_words() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "# a comment\n\
         \n\
         requests==2.31 # pinned for reasons\n\
         git+https://example.com/repo.git#egg=repo  # trailing\n\
         foo#bar\n",
    );
    assert_eq!(names(&parsed.requirements), ["requests", "repo"]);
    assert_eq!(lines(&parsed.requirements), [3, 4]);
    assert_eq!(parsed.requirements[0].text, "requests==2.31");
    assert_eq!(
        parsed.requirements[1].text,
        "git+https://example.com/repo.git#egg=repo"
    );
    // `foo#bar` is not a comment, so pip parses it and fails on the `#`.
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].source.line, 5);
    assert_eq!(parsed.errors[0].text, "foo#bar");
}

#[test]
fn continuations_keep_the_first_line_number() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "alpha\n\
         beta>=1,\\\n\
         <2 \\\n\
         ; python_version >= \"3.8\"\n\
         gamma\n",
    );
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["alpha", "beta", "gamma"]);
    assert_eq!(lines(&parsed.requirements), [1, 2, 5]);
    let beta = named(&parsed.requirements[1]);
    assert_eq!(
        beta.version_or_url,
        Some(VersionOrUrl::VersionSpecifier(
            VersionSpecifiers::from_str(">=1,<2").expect("valid specifiers")
        ))
    );
    assert_eq!(beta.marker, marker("python_version >= '3.8'"));
    assert_eq!(
        parsed.requirements[1].text,
        "beta>=1,<2 ; python_version >= \"3.8\""
    );
}

#[test]
fn a_comment_line_ends_a_continuation() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "alpha \\\n# note\nbeta\n");
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["alpha", "beta"]);
    assert_eq!(lines(&parsed.requirements), [1, 3]);
}

#[test]
fn env_vars_defined_undefined_and_lowercase() {
    let fx = Fixture::new();
    let env = |name: &str| match name {
        "TOKEN" => Some("s3cr3t".to_owned()),
        "VERSION" => Some("2.0".to_owned()),
        "lower" => Some("nope".to_owned()),
        _ => None,
    };
    let parsed = fx.parse_with_env(
        "requirements.txt",
        "--extra-index-url https://user:${TOKEN}@pkgs.example.com/simple\n\
         pkg==${VERSION}\n\
         private @ https://${TOKEN}@example.com/private-1.0.tar.gz\n\
         --index-url https://${UNSET}/simple\n",
        &env,
    );
    assert_clean(&parsed);
    // `--index-url` replaces the extra index (pip's rule), and an unset variable stays literal.
    assert_eq!(
        parsed.options.index_url.as_deref(),
        Some("https://${UNSET}/simple")
    );
    assert_eq!(named(&parsed.requirements[0]).to_string(), "pkg==2.0");
    let private = named(&parsed.requirements[1]);
    match &private.version_or_url {
        Some(VersionOrUrl::Url(url)) => assert_eq!(
            url.as_str(),
            "https://s3cr3t@example.com/private-1.0.tar.gz"
        ),
        other => panic!("expected a URL requirement, got {other:?}"),
    }
    // The written text keeps the variable, not the secret.
    assert_eq!(
        parsed.requirements[1].text,
        "private @ https://${TOKEN}@example.com/private-1.0.tar.gz"
    );

    // Lowercase names are never expanded, even when set.
    let parsed = fx.parse_with_env("lower.txt", "--index-url https://${lower}/simple\n", &env);
    assert_eq!(
        parsed.options.index_url.as_deref(),
        Some("https://${lower}/simple")
    );
}

#[test]
fn extra_index_url_uses_the_expanded_value() {
    let fx = Fixture::new();
    let env = |name: &str| (name == "TOKEN").then(|| "s3cr3t".to_owned());
    let parsed = fx.parse_with_env(
        "requirements.txt",
        "--extra-index-url https://user:${TOKEN}@pkgs.example.com/simple\n",
        &env,
    );
    assert_eq!(
        parsed.options.extra_index_urls,
        ["https://user:s3cr3t@pkgs.example.com/simple"]
    );
}

#[test]
fn secrets_never_reach_error_messages_or_texts() {
    let fx = Fixture::new();
    let env = |name: &str| (name == "TOKEN").then(|| "s3cr3t".to_owned());
    let parsed = fx.parse_with_env(
        "requirements.txt",
        "git+https://${TOKEN}@example.com/repo.git#egg=bad[extra]\n\
         -e https://${TOKEN}@example.com/not-vcs\n",
        &env,
    );
    assert_eq!(parsed.errors.len(), 2, "{:#?}", parsed.errors);
    for error in &parsed.errors {
        let shown = error.to_string();
        assert!(!shown.contains("s3cr3t"), "secret leaked: {shown}");
        assert!(
            shown.contains("${TOKEN}"),
            "the variable name should be shown: {shown}"
        );
    }
}

// ---------------------------------------------------------------- includes

#[test]
fn includes_are_relative_to_the_including_file_and_nest() {
    let fx = Fixture::new();
    fx.write("reqs/base.txt", "base-pkg\n-r common/shared.txt\n");
    fx.write("reqs/common/shared.txt", "shared-pkg\n");
    let parsed = fx.parse("requirements.txt", "first\n-r reqs/base.txt\nlast\n");
    assert_clean(&parsed);
    assert_eq!(
        names(&parsed.requirements),
        ["first", "base-pkg", "shared-pkg", "last"]
    );
    let shared = &parsed.requirements[2];
    assert_eq!(shared.source.file, fx.root().join("reqs/common/shared.txt"));
    assert_eq!(shared.source.line, 1);
}

#[test]
fn every_include_spelling_works() {
    let fx = Fixture::new();
    for (file, name) in [
        ("a.txt", "a"),
        ("b.txt", "b"),
        ("c.txt", "c"),
        ("d.txt", "d"),
    ] {
        fx.write(file, format!("{name}\n"));
    }
    let parsed = fx.parse(
        "requirements.txt",
        "-r a.txt\n-rb.txt\n--requirement c.txt\n--requirement=d.txt\n",
    );
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["a", "b", "c", "d"]);
}

#[test]
fn an_include_cycle_is_an_error_not_a_loop() {
    let fx = Fixture::new();
    fx.write("b.txt", "b\n-r a.txt\n");
    let parsed = fx.parse("a.txt", "a\n-r b.txt\nafter\n");
    assert_eq!(names(&parsed.requirements), ["a", "b", "after"]);
    assert_eq!(parsed.errors.len(), 1);
    let error = &parsed.errors[0];
    assert_eq!(error.source.file, fx.root().join("b.txt"));
    assert_eq!(error.source.line, 2);
    assert!(
        error.message.contains("recursively references itself"),
        "{error}"
    );
}

#[test]
fn a_file_including_itself_is_a_cycle() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "-r ./requirements.txt\nx\n");
    assert_eq!(names(&parsed.requirements), ["x"]);
    assert_eq!(parsed.errors.len(), 1);
}

#[cfg(unix)]
#[test]
fn a_cycle_through_a_symlinked_directory_is_caught() {
    // Lexically `loop/requirements.txt`, `loop/loop/requirements.txt`, ... are all different
    // paths, so only the file's real identity can stop this.
    let fx = Fixture::new();
    std::os::unix::fs::symlink(fx.root(), fx.root().join("loop")).expect("create symlink");
    let parsed = fx.parse("requirements.txt", "x\n-r loop/requirements.txt\n");
    assert_eq!(names(&parsed.requirements), ["x"]);
    assert_eq!(parsed.errors.len(), 1);
    assert!(
        parsed.errors[0]
            .message
            .contains("recursively references itself")
    );
}

#[test]
fn the_same_file_twice_is_not_a_cycle() {
    let fx = Fixture::new();
    fx.write("common.txt", "common\n");
    let parsed = fx.parse("requirements.txt", "-r common.txt\n-r common.txt\n");
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["common", "common"]);
}

#[test]
fn a_missing_include_names_the_including_line_and_parsing_goes_on() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "before\n-r missing.txt\nafter\n");
    assert_eq!(names(&parsed.requirements), ["before", "after"]);
    assert_eq!(parsed.errors.len(), 1);
    let shown = parsed.errors[0].to_string();
    let expected_prefix = format!(
        "{}:2: could not open requirements file {}: it does not exist",
        fx.root().join("requirements.txt").display(),
        fx.root().join("missing.txt").display(),
    );
    assert!(shown.starts_with(&expected_prefix), "{shown}");
    assert!(shown.ends_with(": -r missing.txt"), "{shown}");
}

#[test]
fn a_remote_include_asks_for_a_download() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "-r https://example.com/reqs.txt\nx\n");
    assert_eq!(names(&parsed.requirements), ["x"]);
    assert_eq!(parsed.errors.len(), 1);
    assert!(
        parsed.errors[0]
            .message
            .contains("remote requirements files are not supported")
    );
    assert!(parsed.errors[0].message.contains("download"));
}

#[test]
fn a_file_url_include_is_read() {
    let fx = Fixture::new();
    let inner = fx.write("inner.txt", "inner\n");
    let url = url::Url::from_file_path(&inner).expect("absolute path");
    let parsed = fx.parse("requirements.txt", &format!("-r {url}\n"));
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["inner"]);
}

#[test]
fn constraints_files_give_constraints_but_their_r_gives_requirements() {
    let fx = Fixture::new();
    fx.write("sub/constraints.txt", "numpy<2\n-r inner.txt\n");
    fx.write("sub/inner.txt", "inner==1\n");
    let parsed = fx.parse("requirements.txt", "-c sub/constraints.txt\nscipy\n");
    assert_clean(&parsed);
    assert_eq!(names(&parsed.constraints), ["numpy"]);
    // pip 26.3 installs `inner` here: `-r` is never a constraint, even inside a `-c` file.
    assert_eq!(names(&parsed.requirements), ["inner", "scipy"]);
    assert_eq!(named(&parsed.constraints[0]).to_string(), "numpy<2");
}

#[test]
fn constraint_spellings_and_nested_constraints() {
    let fx = Fixture::new();
    fx.write("c1.txt", "one==1\n--constraint c2.txt\n");
    fx.write("c2.txt", "two==2\n");
    fx.write("c3.txt", "three==3\n");
    let parsed = fx.parse("requirements.txt", "-c c1.txt\n-cc3.txt\n");
    assert_clean(&parsed);
    assert_eq!(names(&parsed.constraints), ["one", "two", "three"]);
    assert!(parsed.requirements.is_empty());
}

#[test]
fn constraints_pip_refuses_are_errors() {
    let fx = Fixture::new();
    fx.write("proj/pyproject.toml", "");
    fx.write(
        "constraints.txt",
        "ok==1\n\
         extras[x]==1\n\
         https://example.com/dist/unnamed-1.0.tar.gz\n\
         -e ./proj\n\
         https://example.com/named-1.0-py3-none-any.whl\n",
    );
    let parsed = fx.parse("requirements.txt", "-c constraints.txt\n");
    assert_eq!(names(&parsed.constraints), ["ok", "named"]);
    let errors: Vec<&str> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        errors,
        [
            "Constraints cannot have extras",
            "Unnamed requirements are not allowed as constraints",
            "Editable requirements are not allowed as constraints",
        ]
    );
}

// ---------------------------------------------------------------- options

#[test]
fn index_url_in_every_spelling() {
    let fx = Fixture::new();
    for line in [
        "-i https://idx/simple",
        "-ihttps://idx/simple",
        "--index-url https://idx/simple",
        "--index-url=https://idx/simple",
        "--pypi-url https://idx/simple",
        "--index-url   https://idx/simple",
    ] {
        let parsed = fx.parse("requirements.txt", &format!("{line}\n"));
        assert_clean(&parsed);
        assert_eq!(
            parsed.options.index_url.as_deref(),
            Some("https://idx/simple"),
            "{line}"
        );
    }
}

#[test]
fn every_other_index_option_in_every_spelling() {
    let fx = Fixture::new();
    fx.write("wheels/.keep", "");
    let parsed = fx.parse(
        "requirements.txt",
        "--extra-index-url https://a/simple\n\
         --extra-index-url=https://b/simple\n\
         -f https://links/\n\
         -fwheels\n\
         --find-links=/abs/links\n\
         --find-links ./missing-dir\n\
         --trusted-host a.example\n\
         --trusted-host=b.example:8080\n\
         --pre\n\
         --prefer-binary\n\
         --use-feature=fast-deps\n\
         --use-feature fast-deps\n",
    );
    assert_clean(&parsed);
    let options = &parsed.options;
    assert_eq!(options.index_url, None);
    assert_eq!(
        options.extra_index_urls,
        ["https://a/simple", "https://b/simple"]
    );
    let wheels = fx.root().join("wheels").to_string_lossy().into_owned();
    assert_eq!(
        options.find_links,
        [
            "https://links/",
            wheels.as_str(),
            "/abs/links",
            "./missing-dir"
        ]
    );
    assert_eq!(options.trusted_hosts, ["a.example", "b.example:8080"]);
    assert!(options.pre && options.prefer_binary);
    assert!(options.release_control.all_releases.contains(":all:"));
    assert_eq!(options.features, ["fast-deps"]);
    assert!(!options.no_index && !options.require_hashes);
}

#[test]
fn index_url_replaces_extras_and_no_index_wins() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "--extra-index-url https://early/simple\n\
         -i https://main/simple\n\
         --extra-index-url https://late/simple\n",
    );
    assert_eq!(
        parsed.options.index_url.as_deref(),
        Some("https://main/simple")
    );
    assert_eq!(parsed.options.extra_index_urls, ["https://late/simple"]);

    let parsed = fx.parse(
        "requirements.txt",
        "-i https://main/simple\n\
         --no-index\n\
         -i https://ignored/simple\n\
         --extra-index-url https://ignored-too/simple\n",
    );
    assert!(parsed.options.no_index);
    assert_eq!(parsed.options.index_url, None);
    assert!(parsed.options.extra_index_urls.is_empty());
}

#[test]
fn abbreviated_long_options_work_like_optparse() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "--extra-index https://x/simple\n--prefer\n--trusted h\n",
    );
    assert_clean(&parsed);
    assert_eq!(parsed.options.extra_index_urls, ["https://x/simple"]);
    assert!(parsed.options.prefer_binary);
    assert_eq!(parsed.options.trusted_hosts, ["h"]);
}

#[test]
fn format_control_sequences_across_lines() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "--no-binary :all:\n--only-binary NumPy,SciPy\n--no-binary=scipy\n",
    );
    assert_clean(&parsed);
    let control = &parsed.options.format_control;
    assert_eq!(
        control.no_binary,
        BTreeSet::from([":all:".to_owned(), "scipy".to_owned()])
    );
    assert_eq!(control.only_binary, BTreeSet::from(["numpy".to_owned()]));
    let numpy = control.allowed_formats(&package("numpy"));
    assert!(numpy.binary && !numpy.source);
    let scipy = control.allowed_formats(&package("scipy"));
    assert!(!scipy.binary && scipy.source);

    let parsed = fx.parse(
        "requirements.txt",
        "--only-binary a\n--no-binary b\n--only-binary :none:\n",
    );
    let control = &parsed.options.format_control;
    assert!(control.only_binary.is_empty());
    assert_eq!(control.no_binary, BTreeSet::from(["b".to_owned()]));
}

#[test]
fn format_control_applies_even_on_requirement_and_include_lines() {
    let fx = Fixture::new();
    fx.write("other.txt", "other\n");
    let parsed = fx.parse(
        "requirements.txt",
        "foo --only-binary foo\n-r other.txt --no-binary bar\n",
    );
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["foo", "other"]);
    let control = &parsed.options.format_control;
    assert_eq!(control.only_binary, BTreeSet::from(["foo".to_owned()]));
    assert_eq!(control.no_binary, BTreeSet::from(["bar".to_owned()]));
}

#[test]
fn release_control_options() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "--only-final :all:\n--all-releases Django\n",
    );
    assert_clean(&parsed);
    let control = &parsed.options.release_control;
    assert_eq!(control.allows_prereleases(&package("django")), Some(true));
    assert_eq!(control.allows_prereleases(&package("flask")), Some(false));
}

#[test]
fn other_options_on_a_requirement_line_are_ignored_with_a_warning() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "foo --pre -i https://x/simple\n");
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["foo"]);
    assert!(!parsed.options.pre);
    assert_eq!(parsed.options.index_url, None);
    assert_eq!(parsed.warnings.len(), 1);
    assert!(
        parsed.warnings[0].message.contains("--pre, --index-url"),
        "{:?}",
        parsed.warnings
    );
}

#[test]
fn unknown_and_malformed_options_are_errors_and_parsing_goes_on() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "--frobnicate\n\
         foo --install-option=--prefix=/x\n\
         --no x\n\
         -i\n\
         --pre=yes\n\
         --use-feature=warp-drive\n\
         -e 'unclosed\n\
         ok\n",
    );
    assert_eq!(names(&parsed.requirements), ["ok"]);
    let errors: Vec<(usize, &str)> = parsed
        .errors
        .iter()
        .map(|e| (e.source.line, e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 7, "{errors:#?}");
    assert_eq!(
        errors[0],
        (1, "unknown option --frobnicate (pip: no such option)")
    );
    assert_eq!(
        errors[1],
        (2, "unknown option --install-option (pip: no such option)")
    );
    assert!(
        errors[2].1.starts_with("ambiguous option: --no ("),
        "{errors:?}"
    );
    assert_eq!(errors[3], (4, "-i option requires 1 argument"));
    assert_eq!(errors[4], (5, "--pre option does not take a value"));
    assert!(errors[5].1.contains("invalid choice: 'warp-drive'"));
    assert!(errors[6].1.contains("No closing quotation"));
}

#[test]
fn per_requirement_options_are_accepted() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "foo --config-settings=--build-option=x -C key=value\n\
         bar --global-option=--no-user-cfg\n",
    );
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["foo", "bar"]);
    assert_eq!(parsed.warnings.len(), 1, "{:?}", parsed.warnings);
    assert!(parsed.warnings[0].message.contains("--global-option"));
}

// ---------------------------------------------------------------- hashes

#[test]
fn hashes_accumulate_and_turn_on_hash_checking() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        &format!(
            "foo==1.0 \\\n    --hash=sha256:{} \\\n    --hash sha256:{SHA_B}\nbar==2\n",
            SHA_A.to_uppercase()
        ),
    );
    assert_clean(&parsed);
    assert_eq!(
        parsed.requirements[0].hashes,
        [
            Hash {
                algorithm: "sha256".into(),
                digest: SHA_A.into()
            },
            Hash {
                algorithm: "sha256".into(),
                digest: SHA_B.into()
            }
        ]
    );
    assert!(parsed.requirements[1].hashes.is_empty());
    assert!(parsed.options.require_hashes);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
}

#[test]
fn no_hashes_means_no_hash_checking_unless_required() {
    let fx = Fixture::new();
    assert!(!fx.parse("requirements.txt", "foo\n").options.require_hashes);
    assert!(
        fx.parse("requirements.txt", "--require-hashes\nfoo\n")
            .options
            .require_hashes
    );
}

#[test]
fn a_bad_hash_algorithm_rejects_the_line() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "foo --hash=md5:00ff\nbar\n");
    assert_eq!(names(&parsed.requirements), ["bar"]);
    assert_eq!(
        messages(&parsed.errors),
        [format!(
            "{}:1: Allowed hash algorithms for --hash are sha256, sha384, sha512.: foo --hash=md5:00ff",
            fx.root().join("requirements.txt").display()
        )]
    );
    assert!(!parsed.options.require_hashes);
}

#[test]
fn a_digest_that_cannot_match_is_a_warning() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "foo --hash=sha256:abc\n");
    assert_clean(&parsed);
    assert_eq!(parsed.warnings.len(), 1);
    assert!(parsed.warnings[0].message.contains("not 64 hex digits"));
}

#[test]
fn no_require_hashes_keeps_hashes_from_turning_checking_on() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        &format!("--no-require-hashes\nfoo --hash=sha256:{SHA_A}\n"),
    );
    assert_clean(&parsed);
    assert!(!parsed.options.require_hashes);
    assert!(parsed.options.no_require_hashes);

    let parsed = fx.parse(
        "requirements.txt",
        "--require-hashes\n--no-require-hashes\n",
    );
    assert_eq!(parsed.errors.len(), 1);
    assert_eq!(parsed.errors[0].source.line, 2);
    assert!(parsed.errors[0].message.contains("mutually exclusive"));
}

#[test]
fn hashes_on_constraints_count_and_on_option_lines_do_not() {
    let fx = Fixture::new();
    fx.write("c.txt", format!("foo==1 --hash=sha256:{SHA_A}\n"));
    assert!(
        fx.parse("requirements.txt", "-c c.txt\n")
            .options
            .require_hashes
    );

    let parsed = fx.parse("requirements.txt", &format!("--hash=sha256:{SHA_A}\n"));
    assert!(!parsed.options.require_hashes);
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.message.contains("has --hash but no requirement"))
    );
}

// ---------------------------------------------------------------- requirement forms

#[test]
fn named_requirements_with_extras_specifiers_and_markers() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "Requests[Security, socks]>=2.8.1,==2.8.*\n\
         django ~= 4.2 ; python_version < \"3.12\"\n\
         attrs;platform_system=='Linux'\n\
         plain\n",
    );
    assert_clean(&parsed);
    let requests = named(&parsed.requirements[0]);
    assert_eq!(requests.name, package("requests"));
    assert_eq!(requests.extras, [extra("security"), extra("socks")]);
    assert_eq!(
        requests.version_or_url,
        Some(VersionOrUrl::VersionSpecifier(
            VersionSpecifiers::from_str("==2.8.*,>=2.8.1").expect("valid specifiers")
        ))
    );
    let django = named(&parsed.requirements[1]);
    assert_eq!(django.marker, marker("python_version < '3.12'"));
    assert_eq!(
        parsed.requirements[1].kind.markers(),
        Some(&marker("python_version < '3.12'"))
    );
    let attrs = named(&parsed.requirements[2]);
    assert_eq!(attrs.marker, marker("platform_system == 'Linux'"));
    assert_eq!(parsed.requirements[3].kind.markers(), None);
}

#[test]
fn name_at_url_is_a_named_requirement() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "foo[bar] @ https://example.com/foo-1.0-py3-none-any.whl ; sys_platform == 'linux'\n\
         baz@https://example.com/baz-2.0.tar.gz\n",
    );
    assert_clean(&parsed);
    let foo = named(&parsed.requirements[0]);
    assert_eq!(foo.name, package("foo"));
    assert_eq!(foo.extras, [extra("bar")]);
    assert_eq!(foo.marker, marker("sys_platform == 'linux'"));
    match &foo.version_or_url {
        Some(VersionOrUrl::Url(url)) => {
            assert_eq!(url.as_str(), "https://example.com/foo-1.0-py3-none-any.whl");
        }
        other => panic!("expected a URL, got {other:?}"),
    }
    assert_eq!(named(&parsed.requirements[1]).name, package("baz"));
}

#[test]
fn plain_wheel_and_sdist_urls() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "https://example.com/Foo_Bar-1.0-py3-none-any.whl\n\
         https://example.com/pkg-2.0.tar.gz#egg=pkg ; python_version >= '3.9'\n\
         https://example.com/unnamed-1.0.tar.gz;python_version<'3'\n",
    );
    assert_clean(&parsed);
    assert_eq!(
        parsed.requirements[0].kind,
        EntryKind::Url {
            url: "https://example.com/Foo_Bar-1.0-py3-none-any.whl".into(),
            name: Some(package("foo-bar")),
            markers: None,
            extras: vec![],
        }
    );
    assert_eq!(
        parsed.requirements[1].kind,
        EntryKind::Url {
            url: "https://example.com/pkg-2.0.tar.gz#egg=pkg".into(),
            name: Some(package("pkg")),
            markers: Some(marker("python_version >= '3.9'")),
            extras: vec![],
        }
    );
    // For URLs pip needs whitespace before `;`: without it the marker is part of the URL.
    assert_eq!(
        parsed.requirements[2].kind,
        EntryKind::Url {
            url: "https://example.com/unnamed-1.0.tar.gz;python_version<'3'".into(),
            name: None,
            markers: None,
            extras: vec![],
        }
    );
}

#[test]
fn a_bad_wheel_filename_is_an_error() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "https://example.com/foo-bad.whl\nok\n");
    assert_eq!(names(&parsed.requirements), ["ok"]);
    assert_eq!(
        parsed.errors[0].message,
        "Invalid wheel filename (wrong number of parts): 'foo-bad'"
    );
}

#[test]
fn local_archive_paths_existing_or_not() {
    let fx = Fixture::new();
    let wheel = fx.write("dist/foo-1.0-py3-none-any.whl", "not really a zip");
    let parsed = fx.parse(
        "requirements.txt",
        "./dist/foo-1.0-py3-none-any.whl\n\
         dist/missing-2.0.tar.gz[extra] ; os_name == 'posix'\n",
    );
    assert_clean(&parsed);
    assert_eq!(
        parsed.requirements[0].kind,
        EntryKind::Url {
            url: url::Url::from_file_path(&wheel)
                .expect("absolute")
                .to_string(),
            name: Some(package("foo")),
            markers: None,
            extras: vec![],
        }
    );
    let missing = fx.root().join("dist/missing-2.0.tar.gz");
    assert_eq!(
        parsed.requirements[1].kind,
        EntryKind::Url {
            url: url::Url::from_file_path(&missing)
                .expect("absolute")
                .to_string(),
            name: None,
            markers: Some(marker("os_name == 'posix'")),
            extras: vec![extra("extra")],
        }
    );
    assert_eq!(parsed.warnings.len(), 1);
    assert!(
        parsed.warnings[0]
            .message
            .contains("looks like a filename, but the file does not exist")
    );
}

#[test]
fn local_project_directories() {
    let fx = Fixture::new();
    fx.write("proj/pyproject.toml", "[project]\nname = 'proj'\n");
    fx.write("legacy/setup.py", "");
    fx.write("empty/README", "");
    let proj = fx.root().join("proj");
    let parsed = fx.parse(
        "requirements.txt",
        &format!(
            "./proj[dev]\n\
             {}\n\
             legacy\n\
             ./legacy\n\
             ./empty\n\
             ./nowhere\n",
            proj.display()
        ),
    );
    assert_eq!(
        parsed.requirements[0].kind,
        EntryKind::LocalPath {
            path: proj.to_string_lossy().into_owned(),
            name: None,
            markers: None,
            extras: vec![extra("dev")],
        }
    );
    assert!(
        matches!(&parsed.requirements[1].kind, EntryKind::LocalPath { path, .. } if Path::new(path) == proj)
    );
    // Without a path separator or leading dot, `legacy` is a project name even if the
    // directory exists.
    assert_eq!(named(&parsed.requirements[2]).name, package("legacy"));
    assert!(matches!(
        &parsed.requirements[3].kind,
        EntryKind::LocalPath { .. }
    ));
    assert_eq!(parsed.requirements.len(), 4);
    let errors: Vec<&str> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(errors.len(), 2);
    assert_eq!(
        errors[0],
        "Directory './empty' is not installable. Neither 'setup.py' nor 'pyproject.toml' found."
    );
    assert!(
        errors[1].contains("It looks like a path. File './nowhere' does not exist."),
        "{}",
        errors[1]
    );
}

#[test]
fn a_requirements_file_given_without_r_gets_pips_hint() {
    let fx = Fixture::new();
    fx.write("sub/dev.txt", "pytest\n");
    let parsed = fx.parse("requirements.txt", "./sub/dev.txt\n");
    assert_eq!(parsed.errors.len(), 1);
    assert!(
        parsed.errors[0]
            .message
            .contains("appears to be a requirements file")
            && parsed.errors[0].message.contains("'-r' flag"),
        "{}",
        parsed.errors[0].message
    );
}

#[test]
fn file_urls_to_directories_and_relative_file_urls() {
    let fx = Fixture::new();
    fx.write("proj/setup.py", "");
    fx.write("dist/pkg-1.0.tar.gz", "");
    let proj = fx.root().join("proj");
    let proj_url = url::Url::from_file_path(&proj).expect("absolute");
    let parsed = fx.parse(
        "requirements.txt",
        &format!("{proj_url}#egg=proj\nfile:sub/../dist/pkg-1.0.tar.gz\n"),
    );
    assert_clean(&parsed);
    assert_eq!(
        parsed.requirements[0].kind,
        EntryKind::LocalPath {
            path: proj.to_string_lossy().into_owned(),
            name: Some(package("proj")),
            markers: None,
            extras: vec![],
        }
    );
    let sdist = url::Url::from_file_path(fx.root().join("dist/pkg-1.0.tar.gz")).expect("absolute");
    assert!(
        matches!(&parsed.requirements[1].kind, EntryKind::Url { url, .. } if *url == sdist.to_string()),
        "{:?}",
        parsed.requirements[1].kind
    );
}

#[test]
fn vcs_urls_with_egg_and_markers() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "git+https://github.com/org/repo.git@v1.2#egg=My_Repo&subdirectory=pkg ; python_version < '3.13'\n\
         hg+https://hg.example.com/repo\n\
         svn+svn://svn.example.com/repo/trunk#egg=svnpkg\n\
         bzr+lp:project#egg=bzrpkg\n",
    );
    assert_clean(&parsed);
    assert_eq!(
        parsed.requirements[0].kind,
        EntryKind::Vcs {
            url: "git+https://github.com/org/repo.git@v1.2#egg=My_Repo&subdirectory=pkg".into(),
            name: Some(package("my-repo")),
            markers: Some(marker("python_version < '3.13'")),
        }
    );
    assert!(matches!(
        &parsed.requirements[1].kind,
        EntryKind::Vcs { name: None, .. }
    ));
    assert_eq!(
        names(&parsed.requirements),
        ["my-repo", "?", "svnpkg", "bzrpkg"]
    );
}

#[test]
fn an_egg_fragment_with_extras_is_refused_like_pip_25() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "git+https://h/r.git#egg=pkg[extra]\n");
    assert!(parsed.requirements.is_empty());
    assert!(
        parsed.errors[0]
            .message
            .contains("The 'pkg[extra]' egg fragment is invalid")
    );
}

#[test]
fn editables_local_and_vcs() {
    let fx = Fixture::new();
    fx.write("proj/pyproject.toml", "");
    let proj = fx.root().join("proj").to_string_lossy().into_owned();
    let parsed = fx.parse(
        "requirements.txt",
        "-e ./proj[dev,test]\n\
         --editable=git+https://github.com/org/repo.git#egg=repo\n\
         -e git://github.com/org/other.git#egg=other\n\
         -e \"named[x] @ git+https://github.com/org/named.git ; python_version > '3'\"\n",
    );
    assert_clean(&parsed);
    assert_eq!(
        parsed.requirements[0].kind,
        EntryKind::Editable {
            target: proj,
            name: None,
            extras: vec![extra("dev"), extra("test")],
            markers: None,
        }
    );
    assert_eq!(
        parsed.requirements[1].kind,
        EntryKind::Editable {
            target: "git+https://github.com/org/repo.git#egg=repo".into(),
            name: Some(package("repo")),
            extras: vec![],
            markers: None,
        }
    );
    // pip turns `git:` into `git+git:`.
    assert!(matches!(
        &parsed.requirements[2].kind,
        EntryKind::Editable { target, .. } if target == "git+git://github.com/org/other.git#egg=other"
    ));
    assert_eq!(
        parsed.requirements[3].kind,
        EntryKind::Editable {
            target: "git+https://github.com/org/named.git".into(),
            name: Some(package("named")),
            extras: vec![extra("x")],
            markers: Some(marker("python_version > '3'")),
        }
    );
    assert_eq!(parsed.requirements[0].text, "-e ./proj[dev,test]");
}

#[test]
fn editables_pip_refuses() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "-e ./missing\n\
         -e git+https://github.com/org/repo.git\n\
         -e\n",
    );
    assert!(parsed.requirements.is_empty());
    let errors: Vec<&str> = parsed.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(errors[0].starts_with("./missing is not a valid editable requirement."));
    assert!(errors[1].starts_with(
        "Could not detect requirement name for 'git+https://github.com/org/repo.git'"
    ));
    assert_eq!(errors[2], "-e option requires 1 argument");
}

#[test]
fn hashes_on_an_editable_are_ignored() {
    let fx = Fixture::new();
    fx.write("proj/setup.py", "");
    let parsed = fx.parse(
        "requirements.txt",
        &format!("-e ./proj --hash=sha256:{SHA_A}\n"),
    );
    assert_clean(&parsed);
    assert!(parsed.requirements[0].hashes.is_empty());
    assert!(!parsed.options.require_hashes);
    assert!(
        parsed
            .warnings
            .iter()
            .any(|w| w.message.contains("--hash on an editable"))
    );
}

#[test]
fn a_requirement_and_e_on_one_line_is_an_editable_of_the_requirement() {
    // pip 26.3: the requirement text becomes the editable target, and `foo` is not a valid one.
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "foo -e bar\n");
    assert!(parsed.requirements.is_empty());
    assert!(
        parsed.errors[0]
            .message
            .starts_with("foo is not a valid editable requirement.")
    );
}

#[test]
fn invalid_requirements_are_errors_and_other_lines_survive() {
    let fx = Fixture::new();
    let parsed = fx.parse(
        "requirements.txt",
        "good==1\n\
         bad>=\n\
         foo=1\n\
         also-good ; python_version >\n\
         last\n",
    );
    assert_eq!(names(&parsed.requirements), ["good", "last"]);
    let errors: Vec<(usize, &str)> = parsed
        .errors
        .iter()
        .map(|e| (e.source.line, e.message.as_str()))
        .collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    assert_eq!(errors[0].0, 2);
    assert!(errors[0].1.starts_with("Invalid requirement: "));
    assert_eq!(errors[1].0, 3);
    assert!(
        errors[1]
            .1
            .ends_with("Hint: = is not a valid operator. Did you mean == ?"),
        "{}",
        errors[1].1
    );
    assert_eq!(errors[2].0, 4);
    assert!(errors[2].1.contains("invalid markers"), "{}", errors[2].1);
}

#[test]
fn unknown_url_schemes_are_not_urls() {
    let fx = Fixture::new();
    let parsed = fx.parse("requirements.txt", "s3://bucket/pkg-1.0-py3-none-any.whl\n");
    // pip does not know `s3:`, so this is a local path that does not exist.
    assert!(
        matches!(&parsed.requirements[0].kind, EntryKind::Url { url, .. } if url.starts_with("file://"))
    );
}

// ---------------------------------------------------------------- files

#[test]
fn parse_file_reads_a_bom_file() {
    let fx = Fixture::new();
    let path = fx.write("requirements.txt", b"\xEF\xBB\xBFrequests\n");
    let parsed = parse_file(&path, &no_env).expect("readable");
    assert_eq!(names(&parsed.requirements), ["requests"]);
}

#[test]
fn parse_file_reads_utf16_with_a_bom() {
    let fx = Fixture::new();
    let bytes: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(
            "flask\r\n-r other.txt\r\n"
                .encode_utf16()
                .flat_map(u16::to_le_bytes),
        )
        .collect();
    let path = fx.write("requirements.txt", bytes);
    fx.write("other.txt", "click\n");
    let parsed = parse_file(&path, &no_env).expect("readable");
    assert_eq!(names(&parsed.requirements), ["flask", "click"]);
}

#[test]
fn a_file_with_nul_bytes_is_not_text() {
    let fx = Fixture::new();
    let path = fx.write("requirements.txt", b"requests\0\0\n");
    match parse_file(&path, &no_env) {
        Err(err @ ReadError::NotText { .. }) => {
            let shown = err.to_string();
            assert!(shown.contains("is not a text requirements file"), "{shown}");
            assert!(shown.contains("NUL"), "{shown}");
        }
        other => panic!("expected NotText, got {other:?}"),
    }
}

#[test]
fn invalid_utf8_is_not_text() {
    let fx = Fixture::new();
    let path = fx.write("requirements.txt", b"caf\xE9\n");
    assert!(matches!(
        parse_file(&path, &no_env),
        Err(ReadError::NotText { .. })
    ));
}

#[test]
fn a_missing_file_is_not_found() {
    let fx = Fixture::new();
    let path = fx.root().join("nope.txt");
    match parse_file(&path, &no_env) {
        Err(err @ ReadError::NotFound { .. }) => {
            assert!(err.to_string().contains("nope.txt"));
            assert!(err.to_string().contains("check the path"));
        }
        other => panic!("expected NotFound, got {other:?}"),
    }
}

#[test]
fn a_directory_is_an_io_error() {
    let fx = Fixture::new();
    assert!(matches!(
        parse_file(fx.root(), &no_env),
        Err(ReadError::Io { .. })
    ));
}

#[test]
fn an_unreadable_include_is_a_line_error() {
    let fx = Fixture::new();
    fx.write("binary.txt", b"\0\0\0");
    let parsed = fx.parse("requirements.txt", "-r binary.txt\nx\n");
    assert_eq!(names(&parsed.requirements), ["x"]);
    assert!(parsed.errors[0].message.contains("NUL"));
}

#[test]
fn source_and_line_error_display() {
    let source = Source {
        file: PathBuf::from("requirements.txt"),
        line: 7,
    };
    assert_eq!(source.to_string(), "requirements.txt:7");
    let error = LineError {
        source,
        text: "foo=1".into(),
        message: "Invalid requirement".into(),
    };
    assert_eq!(
        error.to_string(),
        "requirements.txt:7: Invalid requirement: foo=1"
    );
}

#[test]
fn parse_str_resolves_includes_next_to_the_given_path() {
    let fx = Fixture::new();
    fx.write("sub/inner.txt", "inner\n");
    let parsed = parse_str(
        "-r inner.txt\n",
        &fx.root().join("sub/virtual.txt"),
        &no_env,
    );
    assert_clean(&parsed);
    assert_eq!(names(&parsed.requirements), ["inner"]);
}

#[test]
fn devices_and_huge_files_are_refused_not_read() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("requirements.txt");
    std::fs::write(&main, "-r /dev/zero\nrequests\n").unwrap();
    let parsed = parse_file(&main, &|_| None).unwrap();
    assert_eq!(parsed.requirements.len(), 1);
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
    assert!(
        parsed.errors[0].message.contains("not a regular file"),
        "{}",
        parsed.errors[0]
    );
    assert!(matches!(
        parse_file(Path::new("/dev/zero"), &|_| None),
        Err(ReadError::Io { .. })
    ));
}

/// Inputs the fuzzer found crashing the parser (fuzz/regressions/requirements/): each must give
/// errors, not a panic.
#[test]
fn fuzzer_crash_inputs_are_errors() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/regressions/requirements");
    for entry in std::fs::read_dir(dir).expect("regression inputs") {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        let _ = parse_str(
            &text,
            Path::new("/nonexistent-wheelcheck/requirements.txt"),
            &|_| None,
        );
    }
    let parsed = parse_str(
        "-e x- url\n",
        Path::new("/nonexistent-wheelcheck/r.txt"),
        &|_| None,
    );
    assert_eq!(parsed.errors.len(), 1, "{:?}", parsed.errors);
}
