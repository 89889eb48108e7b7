//! The option part of a requirements line, parsed the way pip's `optparse` parser does.
//!
//! pip splits a line at the first token starting with `-` (`break_args_options`), `shlex`-splits
//! only the part from there on, and hands that to an `optparse` parser that knows only the options
//! allowed in requirements files. `optparse` has behaviours people rely on without knowing it
//! (unambiguous prefixes such as `--extra-index`, `-ivalue`, `--opt=value`, a value that starts
//! with `-`), so they are reproduced here rather than approximated.

use super::format_control::{Kind, ReleaseKind};
use super::{Hash, STRONG_HASHES};

/// An option that pip accepts in a requirements file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Opt {
    IndexUrl,
    ExtraIndexUrl,
    NoIndex,
    Constraint,
    Requirement,
    Editable,
    FindLinks,
    NoBinary,
    OnlyBinary,
    PreferBinary,
    RequireHashes,
    NoRequireHashes,
    Pre,
    AllReleases,
    OnlyFinal,
    TrustedHost,
    UseFeature,
    Hash,
    ConfigSettings,
    GlobalOption,
}

struct Spec {
    opt: Opt,
    shorts: &'static [char],
    longs: &'static [&'static str],
    takes_value: bool,
}

const fn spec(
    opt: Opt,
    shorts: &'static [char],
    longs: &'static [&'static str],
    takes_value: bool,
) -> Spec {
    Spec {
        opt,
        shorts,
        longs,
        takes_value,
    }
}

/// pip 26's `SUPPORTED_OPTIONS` + `SUPPORTED_OPTIONS_REQ`, plus `--global-option`, which older
/// pips accepted and which is still common in the wild.
const SPECS: &[Spec] = &[
    spec(Opt::IndexUrl, &['i'], &["--index-url", "--pypi-url"], true),
    spec(Opt::ExtraIndexUrl, &[], &["--extra-index-url"], true),
    spec(Opt::NoIndex, &[], &["--no-index"], false),
    spec(Opt::Constraint, &['c'], &["--constraint"], true),
    spec(Opt::Requirement, &['r'], &["--requirement"], true),
    spec(Opt::Editable, &['e'], &["--editable"], true),
    spec(Opt::FindLinks, &['f'], &["--find-links"], true),
    spec(Opt::NoBinary, &[], &["--no-binary"], true),
    spec(Opt::OnlyBinary, &[], &["--only-binary"], true),
    spec(Opt::PreferBinary, &[], &["--prefer-binary"], false),
    spec(Opt::RequireHashes, &[], &["--require-hashes"], false),
    spec(Opt::NoRequireHashes, &[], &["--no-require-hashes"], false),
    spec(Opt::Pre, &[], &["--pre"], false),
    spec(Opt::AllReleases, &[], &["--all-releases"], true),
    spec(Opt::OnlyFinal, &[], &["--only-final"], true),
    spec(Opt::TrustedHost, &[], &["--trusted-host"], true),
    spec(Opt::UseFeature, &[], &["--use-feature"], true),
    spec(Opt::Hash, &[], &["--hash"], true),
    spec(Opt::ConfigSettings, &['C'], &["--config-settings"], true),
    spec(Opt::GlobalOption, &[], &["--global-option"], true),
];

/// `--use-feature` choices across pip 23–26 (pip validates them; unknown ones are an error).
const FEATURES: &[&str] = &[
    "fast-deps",
    "inprocess-build-deps",
    "venv-isolation",
    "truststore",
    "no-binary-enable-wheel-cache",
    "build-constraint",
];

impl Opt {
    /// The option's main spelling, for messages.
    pub fn name(self) -> &'static str {
        SPECS
            .iter()
            .find(|spec| spec.opt == self)
            .map_or("?", |spec| spec.longs[0])
    }
}

/// Everything the option part of one line said, in pip's `Values` shape.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct LineOptions {
    pub index_url: Option<String>,
    pub extra_index_urls: Vec<String>,
    pub no_index: bool,
    pub constraints: Vec<String>,
    pub requirements: Vec<String>,
    pub editables: Vec<String>,
    pub find_links: Vec<String>,
    /// `--no-binary` / `--only-binary` values in the order given (the order changes the result).
    pub binary: Vec<(Kind, String)>,
    /// `--all-releases` / `--only-final` values in the order given.
    pub releases: Vec<(ReleaseKind, String)>,
    pub prefer_binary: bool,
    pub require_hashes: bool,
    pub no_require_hashes: bool,
    pub pre: bool,
    pub trusted_hosts: Vec<String>,
    pub features: Vec<String>,
    pub hashes: Vec<Hash>,
    pub config_settings: Vec<(String, String)>,
    pub global_options: Vec<String>,
    /// Every option seen, in order (for "has no effect here" warnings).
    pub seen: Vec<Opt>,
    /// Arguments that were not options; `optparse` collects them and pip drops them.
    pub ignored_args: Vec<String>,
}

/// pip's `break_args_options`: tokens split on single spaces up to the first one starting with
/// `-` are the requirement (markers must not go through `shlex`), the rest are options.
pub(super) fn break_args_options(line: &str) -> (String, String) {
    let tokens: Vec<&str> = line.split(' ').collect();
    let first_option = tokens
        .iter()
        .position(|token| token.starts_with('-'))
        .unwrap_or(tokens.len());
    (
        tokens[..first_option].join(" "),
        tokens[first_option..].join(" "),
    )
}

/// Python's `shlex.split` (POSIX mode): whitespace splits, quotes group, `\` escapes outside
/// single quotes (inside double quotes only before `"` and `\`).
pub(super) fn shlex_split(input: &str) -> Result<Vec<String>, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum State {
        Between,
        Word,
        Quote(char),
        Escape { back_to: Option<char> },
    }
    let mut words = Vec::new();
    let mut word = String::new();
    let mut state = State::Between;
    for c in input.chars() {
        state = match state {
            State::Between | State::Word => match c {
                ' ' | '\t' | '\r' | '\n' => {
                    if state == State::Word {
                        words.push(std::mem::take(&mut word));
                    }
                    State::Between
                }
                '\\' => State::Escape { back_to: None },
                // A quoted empty string is still a word: the state becomes `Word` when it closes.
                '\'' | '"' => State::Quote(c),
                _ => {
                    word.push(c);
                    State::Word
                }
            },
            State::Quote(q) if c == q => State::Word,
            State::Quote('"') if c == '\\' => State::Escape { back_to: Some('"') },
            State::Quote(q) => {
                word.push(c);
                State::Quote(q)
            }
            State::Escape { back_to } => {
                // Inside double quotes a backslash only escapes `"` and `\`.
                if back_to.is_some_and(|q| c != q && c != '\\') {
                    word.push('\\');
                }
                word.push(c);
                back_to.map_or(State::Word, State::Quote)
            }
        };
    }
    match state {
        State::Quote(_) => Err("No closing quotation".to_owned()),
        State::Escape { .. } => Err("No escaped character".to_owned()),
        State::Word => {
            words.push(word);
            Ok(words)
        }
        State::Between => Ok(words),
    }
}

/// Parses `shlex`-split option tokens like `optparse` with pip's requirements-file parser.
pub(super) fn parse(tokens: &[String]) -> Result<LineOptions, String> {
    let mut parsed = LineOptions::default();
    let mut rest = tokens.iter().map(String::as_str);
    while let Some(token) = rest.next() {
        if token == "--" {
            parsed.ignored_args.extend(rest.by_ref().map(str::to_owned));
            break;
        }
        if let Some(body) = token.strip_prefix("--") {
            let (name, inline) = match body.split_once('=') {
                Some((name, value)) => (format!("--{name}"), Some(value)),
                None => (token.to_owned(), None),
            };
            let spec = match_long(&name)?;
            let value = match (spec.takes_value, inline) {
                (true, Some(value)) => Some(value.to_owned()),
                (true, None) => Some(
                    rest.next()
                        .ok_or_else(|| {
                            format!("{} option requires 1 argument", spec.longs_for(&name))
                        })?
                        .to_owned(),
                ),
                (false, Some(_)) => {
                    return Err(format!(
                        "{} option does not take a value",
                        spec.longs_for(&name)
                    ));
                }
                (false, None) => None,
            };
            apply(&mut parsed, spec, spec.longs_for(&name), value)?;
        } else if token.len() > 1 && token.starts_with('-') {
            // Every short option takes a value: the rest of the token, or the next token.
            let Some(short) = token[1..].chars().next() else {
                continue;
            };
            let spec = SPECS
                .iter()
                .find(|spec| spec.shorts.contains(&short))
                .ok_or_else(|| format!("unknown option -{short} (pip: no such option)"))?;
            let attached = &token[1 + short.len_utf8()..];
            let value = if attached.is_empty() {
                rest.next()
                    .ok_or_else(|| format!("-{short} option requires 1 argument"))?
                    .to_owned()
            } else {
                attached.to_owned()
            };
            apply(&mut parsed, spec, &format!("-{short}"), Some(value))?;
        } else {
            parsed.ignored_args.push(token.to_owned());
        }
    }
    Ok(parsed)
}

impl Spec {
    /// The long spelling that `name` resolved to (what `optparse` puts in its messages).
    fn longs_for(&self, name: &str) -> &'static str {
        self.longs
            .iter()
            .find(|long| long.starts_with(name))
            .copied()
            .unwrap_or(self.longs[0])
    }
}

/// `optparse`'s `_match_abbrev`: an exact long option, or the only one `name` is a prefix of.
fn match_long(name: &str) -> Result<&'static Spec, String> {
    let all = || {
        SPECS
            .iter()
            .flat_map(|spec| spec.longs.iter().map(move |long| (*long, spec)))
    };
    if let Some((_, spec)) = all().find(|(long, _)| *long == name) {
        return Ok(spec);
    }
    let mut candidates: Vec<(&str, &Spec)> =
        all().filter(|(long, _)| long.starts_with(name)).collect();
    match candidates.len() {
        0 => Err(format!("unknown option {name} (pip: no such option)")),
        1 => Ok(candidates.remove(0).1),
        _ => {
            let mut names: Vec<&str> = candidates.iter().map(|(long, _)| *long).collect();
            names.sort_unstable();
            Err(format!("ambiguous option: {name} ({}?)", names.join(", ")))
        }
    }
}

/// Stores one option's value like its `optparse` action (store, append, store_true, callback).
fn apply(
    parsed: &mut LineOptions,
    spec: &Spec,
    spelled: &str,
    value: Option<String>,
) -> Result<(), String> {
    parsed.seen.push(spec.opt);
    let value = value.unwrap_or_default();
    match spec.opt {
        Opt::IndexUrl => parsed.index_url = Some(value),
        Opt::ExtraIndexUrl => parsed.extra_index_urls.push(value),
        Opt::NoIndex => parsed.no_index = true,
        Opt::Constraint => parsed.constraints.push(value),
        Opt::Requirement => parsed.requirements.push(value),
        Opt::Editable => parsed.editables.push(value),
        Opt::FindLinks => parsed.find_links.push(value),
        Opt::NoBinary => parsed.binary.push((
            Kind::NoBinary,
            checked_set_value(value, "--no-binary / --only-binary")?,
        )),
        Opt::OnlyBinary => parsed.binary.push((
            Kind::OnlyBinary,
            checked_set_value(value, "--no-binary / --only-binary")?,
        )),
        Opt::AllReleases => parsed.releases.push((
            ReleaseKind::AllReleases,
            checked_set_value(value, "--all-releases / --only-final")?,
        )),
        Opt::OnlyFinal => parsed.releases.push((
            ReleaseKind::OnlyFinal,
            checked_set_value(value, "--all-releases / --only-final")?,
        )),
        Opt::PreferBinary => parsed.prefer_binary = true,
        Opt::RequireHashes => parsed.require_hashes = true,
        Opt::NoRequireHashes => parsed.no_require_hashes = true,
        Opt::Pre => parsed.pre = true,
        Opt::TrustedHost => parsed.trusted_hosts.push(value),
        Opt::UseFeature => parsed.features.push(checked_feature(value, spelled)?),
        Opt::Hash => parsed.hashes.push(parse_hash(&value, spelled)?),
        Opt::ConfigSettings => parsed
            .config_settings
            .push(parse_config_setting(&value, spelled)?),
        Opt::GlobalOption => parsed.global_options.push(value),
    }
    Ok(())
}

/// pip rejects a `--no-binary` style value starting with `-` (it was the next option).
fn checked_set_value(value: String, options: &str) -> Result<String, String> {
    if value.starts_with('-') {
        return Err(format!("{options} option requires 1 argument."));
    }
    Ok(value)
}

fn checked_feature(value: String, spelled: &str) -> Result<String, String> {
    if FEATURES.contains(&value.as_str()) {
        return Ok(value);
    }
    let choices: Vec<String> = FEATURES.iter().map(|f| format!("'{f}'")).collect();
    Err(format!(
        "option {spelled}: invalid choice: '{value}' (choose from {})",
        choices.join(", ")
    ))
}

/// pip's `_handle_merge_hash`: `algo:digest`, algo one of pip's strong hashes (case-sensitive,
/// as in pip). The digest is lowercased because pip compares lowercased digests.
fn parse_hash(value: &str, spelled: &str) -> Result<Hash, String> {
    let (algorithm, digest) = value.split_once(':').ok_or_else(|| {
        format!("Arguments to {spelled} must be a hash name followed by a value, like --hash=sha256:abcde...")
    })?;
    if !STRONG_HASHES.contains(&algorithm) {
        return Err(format!(
            "Allowed hash algorithms for {spelled} are {}.",
            STRONG_HASHES.join(", ")
        ));
    }
    Ok(Hash {
        algorithm: algorithm.to_owned(),
        digest: digest.to_lowercase(),
    })
}

fn parse_config_setting(value: &str, spelled: &str) -> Result<(String, String), String> {
    value
        .split_once('=')
        .map(|(key, val)| (key.to_owned(), val.to_owned()))
        .ok_or_else(|| format!("Arguments to {spelled} must be of the form KEY=VAL"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(options: &str) -> Result<LineOptions, String> {
        parse(&shlex_split(options)?)
    }

    #[test]
    fn break_args_options_splits_at_first_dash_token() {
        assert_eq!(
            break_args_options("foo>=1 ; python_version<'3' --hash=sha256:ab"),
            (
                "foo>=1 ; python_version<'3'".to_owned(),
                "--hash=sha256:ab".to_owned()
            )
        );
        assert_eq!(
            break_args_options("-r x.txt"),
            (String::new(), "-r x.txt".to_owned())
        );
        // A tab is not a separator for pip here: the whole line stays the requirement.
        assert_eq!(
            break_args_options("foo\t--pre"),
            ("foo\t--pre".to_owned(), String::new())
        );
    }

    #[test]
    fn shlex_handles_quotes_and_escapes() {
        assert_eq!(
            shlex_split(r#"-e "a b" 'c"d' e\ f "g\"h\i" '' x"y"z"#),
            Ok(vec![
                "-e".to_owned(),
                "a b".to_owned(),
                "c\"d".to_owned(),
                "e f".to_owned(),
                "g\"h\\i".to_owned(),
                String::new(),
                "xyz".to_owned()
            ])
        );
        assert_eq!(shlex_split("  "), Ok(vec![]));
        assert_eq!(shlex_split("'open"), Err("No closing quotation".to_owned()));
        assert_eq!(shlex_split("end\\"), Err("No escaped character".to_owned()));
    }

    #[test]
    fn every_spelling_of_a_value_option() {
        for spelling in [
            "-i https://x/simple",
            "-ihttps://x/simple",
            "--index-url https://x/simple",
            "--index-url=https://x/simple",
            "--pypi-url https://x/simple",
            "--index https://x/simple",
        ] {
            let parsed = parse_str(spelling).expect(spelling);
            assert_eq!(
                parsed.index_url.as_deref(),
                Some("https://x/simple"),
                "{spelling}"
            );
        }
    }

    #[test]
    fn value_may_start_with_a_dash_like_optparse() {
        let parsed = parse_str("--index-url --pre").expect("optparse takes the next token");
        assert_eq!(parsed.index_url.as_deref(), Some("--pre"));
        assert!(!parsed.pre);
    }

    #[test]
    fn errors_match_optparse() {
        assert_eq!(
            parse_str("--no x").unwrap_err(),
            "ambiguous option: --no (--no-binary, --no-index, --no-require-hashes?)"
        );
        assert_eq!(
            parse_str("--frobnicate").unwrap_err(),
            "unknown option --frobnicate (pip: no such option)"
        );
        assert_eq!(
            parse_str("-x 1").unwrap_err(),
            "unknown option -x (pip: no such option)"
        );
        assert_eq!(
            parse_str("-i").unwrap_err(),
            "-i option requires 1 argument"
        );
        assert_eq!(
            parse_str("--extra-index-url").unwrap_err(),
            "--extra-index-url option requires 1 argument"
        );
        assert_eq!(
            parse_str("--pre=1").unwrap_err(),
            "--pre option does not take a value"
        );
        assert_eq!(
            parse_str("--no-binary --pre").unwrap_err(),
            "--no-binary / --only-binary option requires 1 argument."
        );
        assert!(
            parse_str("--use-feature=nope")
                .unwrap_err()
                .contains("invalid choice: 'nope'")
        );
        assert_eq!(
            parse_str("-C novalue").unwrap_err(),
            "Arguments to -C must be of the form KEY=VAL"
        );
    }

    #[test]
    fn hashes_accumulate_and_are_validated() {
        let parsed = parse_str("--hash=sha256:ABCD --hash sha512:ef").expect("valid hashes");
        assert_eq!(
            parsed.hashes,
            [
                Hash {
                    algorithm: "sha256".into(),
                    digest: "abcd".into()
                },
                Hash {
                    algorithm: "sha512".into(),
                    digest: "ef".into()
                }
            ]
        );
        assert_eq!(
            parse_str("--hash=md5:00").unwrap_err(),
            "Allowed hash algorithms for --hash are sha256, sha384, sha512."
        );
        assert_eq!(
            parse_str("--hash=SHA256:00").unwrap_err(),
            "Allowed hash algorithms for --hash are sha256, sha384, sha512."
        );
        assert!(
            parse_str("--hash=deadbeef")
                .unwrap_err()
                .contains("must be a hash name")
        );
    }

    #[test]
    fn flags_lists_and_positional_leftovers() {
        let parsed = parse_str(
            "--pre --prefer-binary --no-index --require-hashes --trusted-host a --trusted-host=b \
             stray -- -r after",
        )
        .expect("valid");
        assert!(parsed.pre && parsed.prefer_binary && parsed.no_index && parsed.require_hashes);
        assert_eq!(parsed.trusted_hosts, ["a", "b"]);
        assert_eq!(parsed.ignored_args, ["stray", "-r", "after"]);
        assert!(parsed.requirements.is_empty());
    }

    #[test]
    fn binary_values_keep_their_order() {
        let parsed = parse_str("--only-binary a --no-binary=:all: --only-binary b").expect("valid");
        assert_eq!(
            parsed.binary,
            [
                (Kind::OnlyBinary, "a".to_owned()),
                (Kind::NoBinary, ":all:".to_owned()),
                (Kind::OnlyBinary, "b".to_owned())
            ]
        );
    }
}
