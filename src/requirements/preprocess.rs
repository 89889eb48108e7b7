//! From a requirements file's bytes to pip's logical lines.
//!
//! pip's `preprocess` runs, in this order: `splitlines` → `join_lines` → `ignore_comments` →
//! `expand_env_variables`. The order is observable (a comment line ends a continuation, a `#` in
//! an expanded value is not a comment), so each step is a function of its own, run in that order.

/// One logical line: what pip's line parser sees, plus what is needed to report on it safely.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct LogicalLine {
    /// 1-based number of the line's first physical line.
    pub number: usize,
    /// Continuations joined, comment removed, trimmed; `${VAR}` still unexpanded so that
    /// secrets never reach messages.
    pub raw: String,
    /// `raw` with the defined `${VAR}`s expanded: what is actually parsed.
    pub expanded: String,
    /// `(value, "${NAME}")` for every expansion, to put the names back into messages.
    pub substitutions: Vec<(String, String)>,
}

impl LogicalLine {
    /// Replaces expanded values in `message` by the `${NAME}` they came from.
    pub fn redact(&self, message: &str) -> String {
        let mut redacted = message.to_owned();
        for (value, token) in &self.substitutions {
            redacted = redacted.replace(value, token);
        }
        redacted
    }
}

/// Decodes a requirements file the way pip 26 does, minus the locale fallback.
///
/// A BOM wins (UTF-32 is tested before UTF-16 because `FF FE` starts both), then a PEP 263
/// `coding:` comment in the first two lines, then UTF-8. Text with NUL characters is rejected:
/// it is a binary file (or UTF-16 without a BOM), and parsing it would only produce noise.
pub(super) fn decode(bytes: &[u8]) -> Result<String, String> {
    let text = decode_bytes(bytes)?;
    if text.contains('\0') {
        return Err(
            "it contains NUL bytes, so it is a binary file (or UTF-16 without a BOM), \
                    not a requirements file"
                .to_owned(),
        );
    }
    Ok(text)
}

fn decode_bytes(bytes: &[u8]) -> Result<String, String> {
    const BOMS: [(&[u8], Encoding); 5] = [
        (b"\xEF\xBB\xBF", Encoding::Utf8),
        (b"\xFF\xFE\x00\x00", Encoding::Utf32 { big_endian: false }),
        (b"\x00\x00\xFE\xFF", Encoding::Utf32 { big_endian: true }),
        (b"\xFF\xFE", Encoding::Utf16 { big_endian: false }),
        (b"\xFE\xFF", Encoding::Utf16 { big_endian: true }),
    ];
    for (bom, encoding) in BOMS {
        if let Some(rest) = bytes.strip_prefix(bom) {
            return encoding.decode(rest);
        }
    }
    if let Some(name) = declared_encoding(bytes) {
        let encoding = Encoding::from_name(&name).ok_or_else(|| {
            format!(
                "it declares the encoding '{name}', which wheelcheck cannot read; \
                 re-save it as UTF-8"
            )
        })?;
        return encoding.decode(bytes);
    }
    Encoding::Utf8.decode(bytes)
}

#[derive(Debug, Clone, Copy)]
enum Encoding {
    Utf8,
    Latin1,
    Ascii,
    Utf16 { big_endian: bool },
    Utf32 { big_endian: bool },
}

impl Encoding {
    /// The codec names (after Python's normalisation) that map onto a decoder here.
    fn from_name(name: &str) -> Option<Self> {
        let normalized: String = name
            .chars()
            .filter(|c| !matches!(c, '-' | '_' | ' '))
            .flat_map(char::to_lowercase)
            .collect();
        match normalized.as_str() {
            "utf8" | "u8" | "utf" | "utf8sig" => Some(Self::Utf8),
            "latin1" | "latin" | "l1" | "iso88591" | "88591" | "8859" | "cp819" => {
                Some(Self::Latin1)
            }
            "ascii" | "usascii" | "646" => Some(Self::Ascii),
            _ => None,
        }
    }

    fn decode(self, bytes: &[u8]) -> Result<String, String> {
        match self {
            Self::Utf8 => {
                let text = std::str::from_utf8(bytes).map_err(|err| {
                    format!(
                        "it is not valid UTF-8 ({err}); re-save it as UTF-8 or declare its \
                         encoding with a '# -*- coding: NAME -*-' first line"
                    )
                })?;
                Ok(text.strip_prefix('\u{feff}').unwrap_or(text).to_owned())
            }
            Self::Latin1 => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            Self::Ascii => match bytes.iter().position(|b| !b.is_ascii()) {
                Some(at) => Err(format!(
                    "it declares ASCII but byte {at} is not ASCII; re-save it as UTF-8"
                )),
                None => Ok(bytes.iter().map(|&b| char::from(b)).collect()),
            },
            Self::Utf16 { big_endian } => {
                let units = chunks::<2>(bytes, "UTF-16")?.map(|pair| {
                    if big_endian {
                        u16::from_be_bytes(pair)
                    } else {
                        u16::from_le_bytes(pair)
                    }
                });
                char::decode_utf16(units)
                    .collect::<Result<String, _>>()
                    .map_err(|err| format!("it has a UTF-16 BOM but is not valid UTF-16 ({err})"))
            }
            Self::Utf32 { big_endian } => chunks::<4>(bytes, "UTF-32")?
                .map(|quad| {
                    let unit = if big_endian {
                        u32::from_be_bytes(quad)
                    } else {
                        u32::from_le_bytes(quad)
                    };
                    char::from_u32(unit).ok_or_else(|| {
                        format!("it has a UTF-32 BOM but {unit:#x} is not a character")
                    })
                })
                .collect(),
        }
    }
}

/// Splits `bytes` into `N`-byte groups, or says why it cannot.
fn chunks<'b, const N: usize>(
    bytes: &'b [u8],
    what: &str,
) -> Result<impl Iterator<Item = [u8; N]> + 'b, String> {
    if !bytes.len().is_multiple_of(N) {
        return Err(format!(
            "it has a {what} BOM but its length is not a multiple of {N} bytes"
        ));
    }
    Ok(bytes
        .chunks_exact(N)
        .map(|chunk| std::array::from_fn(|i| chunk[i])))
}

/// PEP 263: `coding[:=]\s*([-\w.]+)` in one of the first two lines, if that line starts with `#`.
fn declared_encoding(bytes: &[u8]) -> Option<String> {
    bytes
        .split(|&b| b == b'\n')
        .take(2)
        .filter(|line| line.first() == Some(&b'#'))
        .find_map(coding_in_line)
}

fn coding_in_line(line: &[u8]) -> Option<String> {
    const KEY: &[u8] = b"coding";
    let mut from = 0;
    while let Some(offset) = line[from..].windows(KEY.len()).position(|w| w == KEY) {
        let after = from + offset + KEY.len();
        from = from + offset + 1;
        if !matches!(line.get(after), Some(b':' | b'=')) {
            continue;
        }
        let value: String = line[after + 1..]
            .iter()
            .skip_while(|b| b.is_ascii_whitespace() || **b == 0x0b)
            .take_while(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            .map(|&b| char::from(b))
            .collect();
        if !value.is_empty() {
            return Some(value);
        }
    }
    None
}

/// Whitespace as Python's `str.isspace` / regex `\s` sees it.
pub(super) fn is_py_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python's `str.strip()`.
pub(super) fn py_strip(s: &str) -> &str {
    s.trim_matches(is_py_space)
}

/// Runs pip's whole `preprocess` on decoded content.
pub(super) fn logical_lines(
    content: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> Vec<LogicalLine> {
    join_lines(&split_lines(content))
        .into_iter()
        .filter_map(|(number, line)| {
            let raw = py_strip(strip_comment(&line));
            if raw.is_empty() {
                return None;
            }
            let (expanded, substitutions) = expand_env_vars(raw, env);
            Some(LogicalLine {
                number,
                raw: raw.to_owned(),
                expanded,
                substitutions,
            })
        })
        .collect()
}

/// Python's `str.splitlines()`: every Unicode line boundary, `\r\n` counted once, and no empty
/// last line for a trailing newline. Line numbers must match what pip reports.
fn split_lines(content: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut start = 0;
    let mut chars = content.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        let is_boundary = matches!(
            c,
            '\n' | '\r'
                | '\u{0b}'
                | '\u{0c}'
                | '\u{1c}'
                | '\u{1d}'
                | '\u{1e}'
                | '\u{85}'
                | '\u{2028}'
                | '\u{2029}'
        );
        if !is_boundary {
            continue;
        }
        lines.push(&content[start..at]);
        start = at + c.len_utf8();
        if c == '\r'
            && let Some((next_at, '\n')) = chars.peek().copied()
        {
            chars.next();
            start = next_at + 1;
        }
    }
    if start < content.len() {
        lines.push(&content[start..]);
    }
    lines
}

/// pip's `COMMENT_RE.match`: the line is a comment from its first non-blank character.
fn is_comment_line(line: &str) -> bool {
    line.trim_start_matches(is_py_space).starts_with('#')
}

/// pip's `join_lines`: a line ending in `\` continues on the next one, except that a comment
/// line always ends the logical line (and is itself stripped later). The joined line keeps the
/// number of its first physical line. pip strips *every* leading and trailing backslash of a
/// continued line (`str.strip("\\")`), and so does this.
fn join_lines(lines: &[&str]) -> Vec<(usize, String)> {
    let mut joined = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, line) in lines.iter().enumerate() {
        let number = index + 1;
        let comment = is_comment_line(line);
        if !line.ends_with('\\') || comment {
            // The leading space makes the comment pattern match once the line is glued on.
            let line = if comment {
                format!(" {line}")
            } else {
                (*line).to_owned()
            };
            match pending.take() {
                Some((first, mut text)) => {
                    text.push_str(&line);
                    joined.push((first, text));
                }
                None => joined.push((number, line)),
            }
        } else {
            let part = line.trim_matches('\\');
            match &mut pending {
                Some((_, text)) => text.push_str(part),
                None => pending = Some((number, part.to_owned())),
            }
        }
    }
    joined.extend(pending);
    joined
}

/// pip's `COMMENT_RE.sub("", line)` with `(^|\s+)#.*$`: a `#` starts a comment only at the start
/// of the line or after whitespace, so `pkg#frag` and URL fragments survive.
fn strip_comment(line: &str) -> &str {
    let mut previous: Option<char> = None;
    for (at, c) in line.char_indices() {
        if c == '#' && previous.is_none_or(is_py_space) {
            return &line[..at];
        }
        previous = Some(c);
    }
    line
}

/// pip's `expand_env_variables`: only `${NAME}` with NAME in `[A-Z0-9_]+`, and only when the
/// variable is set to a non-empty value; anything else stays as written.
///
/// Like pip, the tokens are collected from the line first and then replaced one after the other
/// in the line as it is being rewritten.
fn expand_env_vars(
    line: &str,
    env: &dyn Fn(&str) -> Option<String>,
) -> (String, Vec<(String, String)>) {
    let mut expanded = line.to_owned();
    let mut substitutions: Vec<(String, String)> = Vec::new();
    for (token, name) in env_var_tokens(line) {
        let Some(value) = env(name).filter(|value| !value.is_empty()) else {
            continue;
        };
        expanded = expanded.replace(token, &value);
        if !substitutions.iter().any(|(_, t)| t == token) {
            substitutions.push((value, token.to_owned()));
        }
    }
    // Longest values first, so that redacting one value cannot break a longer one containing it.
    substitutions.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
    (expanded, substitutions)
}

/// Every non-overlapping `${NAME}` in `line`, left to right, as `(token, NAME)`.
fn env_var_tokens(line: &str) -> Vec<(&str, &str)> {
    let mut tokens = Vec::new();
    let mut rest = line;
    let mut offset = 0;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let name_len = after
            .bytes()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b == b'_')
            .count();
        if name_len > 0 && after.as_bytes().get(name_len) == Some(&b'}') {
            let begin = offset + start;
            let end = begin + 2 + name_len + 1;
            tokens.push((&line[begin..end], &line[begin + 2..end - 1]));
            offset = end;
            rest = &line[end..];
        } else {
            offset += start + 1;
            rest = &line[offset..];
        }
    }
    tokens
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn raw_lines(content: &str) -> Vec<(usize, String)> {
        logical_lines(content, &no_env)
            .into_iter()
            .map(|line| (line.number, line.raw))
            .collect()
    }

    #[test]
    fn splitlines_matches_python() {
        assert_eq!(split_lines("a\r\nb\rc\nd"), ["a", "b", "c", "d"]);
        assert_eq!(split_lines("a\n"), ["a"]);
        assert_eq!(split_lines("a\n\nb"), ["a", "", "b"]);
        assert_eq!(split_lines("a\u{2028}b\u{0c}c"), ["a", "b", "c"]);
        assert!(split_lines("").is_empty());
    }

    #[test]
    fn comments_need_whitespace_before_the_hash() {
        assert_eq!(strip_comment("foo #bar"), "foo ");
        assert_eq!(strip_comment("foo\t# bar"), "foo\t");
        assert_eq!(strip_comment("foo#bar"), "foo#bar");
        assert_eq!(strip_comment("# all"), "");
        assert_eq!(
            strip_comment("git+https://h/r.git#egg=x # why"),
            "git+https://h/r.git#egg=x "
        );
    }

    #[test]
    fn continuation_takes_the_first_line_number() {
        let lines = raw_lines("a\nfoo>=1,\\\n<2\nbar\n");
        assert_eq!(
            lines,
            [(1, "a".into()), (2, "foo>=1,<2".into()), (4, "bar".into())]
        );
    }

    #[test]
    fn a_comment_line_ends_a_continuation() {
        let lines = raw_lines("foo \\\n# note \\\nbar\n");
        assert_eq!(lines, [(1, "foo".into()), (3, "bar".into())]);
    }

    #[test]
    fn every_edge_backslash_is_stripped_like_python_strip() {
        let lines = raw_lines("\\\\foo\\\\\nbar");
        assert_eq!(lines, [(1, "foobar".into())]);
    }

    #[test]
    fn trailing_continuation_at_end_of_file_is_kept() {
        assert_eq!(raw_lines("foo\\"), [(1, "foo".into())]);
    }

    #[test]
    fn env_vars_expand_only_when_set_non_empty_and_uppercase() {
        let env = |name: &str| match name {
            "TOKEN" => Some("s3cr3t".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        };
        let (expanded, subs) = expand_env_vars(
            "https://${TOKEN}@h/${EMPTY}/${MISSING}/${token}/$TOKEN",
            &env,
        );
        assert_eq!(
            expanded,
            "https://s3cr3t@h/${EMPTY}/${MISSING}/${token}/$TOKEN"
        );
        assert_eq!(subs, [("s3cr3t".to_owned(), "${TOKEN}".to_owned())]);
    }

    #[test]
    fn env_var_tokens_skip_malformed_ones() {
        assert_eq!(env_var_tokens("${A-B} ${} ${${X_1}}"), [("${X_1}", "X_1")]);
    }

    #[test]
    fn redact_puts_names_back() {
        let env = |_: &str| Some("pw".to_owned());
        let line = &logical_lines("https://u:${PW}@h/simple", &env)[0];
        assert_eq!(line.expanded, "https://u:pw@h/simple");
        assert_eq!(line.raw, "https://u:${PW}@h/simple");
        assert_eq!(
            line.redact("bad url https://u:pw@h"),
            "bad url https://u:${PW}@h"
        );
    }

    #[test]
    fn decoding_honours_boms_and_coding_lines() {
        assert_eq!(decode(b"\xEF\xBB\xBFfoo\n").as_deref(), Ok("foo\n"));
        let utf16le: Vec<u8> = b"\xFF\xFE"
            .iter()
            .copied()
            .chain("fé\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        assert_eq!(decode(&utf16le).as_deref(), Ok("fé\n"));
        let utf16be: Vec<u8> = b"\xFE\xFF"
            .iter()
            .copied()
            .chain("x".encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        assert_eq!(decode(&utf16be).as_deref(), Ok("x"));
        let utf32le: Vec<u8> = b"\xFF\xFE\x00\x00"
            .iter()
            .copied()
            .chain(['o', 'k'].iter().flat_map(|c| u32::from(*c).to_le_bytes()))
            .collect();
        assert_eq!(decode(&utf32le).as_deref(), Ok("ok"));
        assert_eq!(
            decode(b"# -*- coding: latin-1 -*-\ncaf\xE9\n").as_deref(),
            Ok("# -*- coding: latin-1 -*-\ncaf\u{e9}\n")
        );
    }

    #[test]
    fn undecodable_content_is_rejected_with_a_reason() {
        assert!(decode(b"caf\xE9\n").is_err_and(|why| why.contains("not valid UTF-8")));
        assert!(decode(b"foo\0bar").is_err_and(|why| why.contains("NUL")));
        assert!(decode(b"# coding: shift_jis\nfoo").is_err_and(|why| why.contains("shift_jis")));
        assert!(decode(b"\xFF\xFEa").is_err_and(|why| why.contains("multiple of 2")));
    }
}
