//! Dockerfile variables: `ARG` and `ENV` values, and `$NAME`, `${NAME}`, `${NAME:-default}`
//! substitution as BuildKit does it in `FROM` lines (and as the shell does it in `RUN`).

use std::collections::HashMap;

use super::shell;

pub type Vars = HashMap<String, String>;

/// Why a text could not be substituted: a variable without a value, or a modifier
/// (`${NAME#prefix}`, ...) this reader does not evaluate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unresolved {
    Unset(String),
    Unsupported(String),
}

/// `text` with every variable replaced by its value. A variable with no value and no default is
/// an error rather than an empty string: an image name with a hole in it would be checked as a
/// different image than the one built.
pub fn substitute(text: &str, vars: &Vars) -> Result<String, Unresolved> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'$') => {
                out.push('$');
                chars.next();
            }
            '$' if chars.peek() == Some(&'{') => {
                chars.next();
                let inner: String = chars.by_ref().take_while(|&c| c != '}').collect();
                out.push_str(&braced(&inner, vars)?);
            }
            '$' if chars.peek().is_some_and(|&c| is_name_char(c)) => {
                let mut name = String::new();
                while let Some(&c) = chars.peek().filter(|&&c| is_name_char(c)) {
                    name.push(c);
                    chars.next();
                }
                out.push_str(vars.get(&name).ok_or(Unresolved::Unset(name))?);
            }
            other => out.push(other),
        }
    }
    Ok(out)
}

/// `${NAME}`, `${NAME:-word}`, `${NAME-word}`, `${NAME:+word}`, `${NAME+word}`.
fn braced(inner: &str, vars: &Vars) -> Result<String, Unresolved> {
    let name_end = inner.find(|c| !is_name_char(c)).unwrap_or(inner.len());
    let (name, modifier) = inner.split_at(name_end);
    let value = vars.get(name);
    let set_non_empty = value.is_some_and(|v| !v.is_empty());
    let word = |w: &str| substitute(w, vars);
    if modifier.is_empty() {
        return value.cloned().ok_or(Unresolved::Unset(name.to_string()));
    }
    if let Some(w) = modifier.strip_prefix(":-") {
        return if set_non_empty {
            Ok(value.cloned().unwrap_or_default())
        } else {
            word(w)
        };
    }
    if let Some(w) = modifier.strip_prefix(":+") {
        return if set_non_empty {
            word(w)
        } else {
            Ok(String::new())
        };
    }
    if let Some(w) = modifier.strip_prefix('-') {
        return value.cloned().map_or_else(|| word(w), Ok);
    }
    if let Some(w) = modifier.strip_prefix('+') {
        return if value.is_some() {
            word(w)
        } else {
            Ok(String::new())
        };
    }
    Err(Unresolved::Unsupported(format!("${{{inner}}}")))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The `NAME[=default]` pairs of an `ARG` line (`ARG A=1 B="two words"`).
pub fn arg_declarations(arguments: &str) -> Vec<(String, Option<String>)> {
    shell::words(arguments)
        .into_iter()
        .map(|word| match word.split_once('=') {
            Some((name, value)) => (name.to_string(), Some(value.to_string())),
            None => (word, None),
        })
        .collect()
}

/// The `KEY=value` pairs of an `ENV` line, or its legacy form `ENV KEY value with spaces`.
pub fn env_assignments(arguments: &str) -> Vec<(String, String)> {
    let words = shell::words(arguments);
    match words.first() {
        Some(first) if !first.contains('=') => {
            let rest = arguments.trim_start()[first.len()..].trim();
            vec![(first.clone(), rest.to_string())]
        }
        _ => words
            .into_iter()
            .filter_map(|w| {
                w.split_once('=')
                    .map(|(k, v)| (k.to_string(), v.to_string()))
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn every_form_of_reference_is_substituted() {
        let v = vars(&[("PY", "3.12"), ("EMPTY", "")]);
        assert_eq!(
            substitute("python:${PY}-slim", &v).unwrap(),
            "python:3.12-slim"
        );
        assert_eq!(
            substitute("python:$PY-slim", &v).unwrap(),
            "python:3.12-slim"
        );
        assert_eq!(substitute("${NO:-3.11}", &v).unwrap(), "3.11");
        assert_eq!(substitute("${EMPTY:-3.11}", &v).unwrap(), "3.11");
        assert_eq!(substitute("${EMPTY-3.11}", &v).unwrap(), "");
        assert_eq!(substitute("${PY:+set}${NO:+set}", &v).unwrap(), "set");
        assert_eq!(substitute("\\$PY", &v).unwrap(), "$PY");
        assert_eq!(substitute("a $ b$", &v).unwrap(), "a $ b$");
    }

    #[test]
    fn a_variable_without_value_or_default_is_an_error() {
        assert_eq!(
            substitute("python:${VERSION}", &Vars::new()),
            Err(Unresolved::Unset("VERSION".into()))
        );
        assert!(matches!(
            substitute("${PY#3.}", &vars(&[("PY", "3.12")])),
            Err(Unresolved::Unsupported(_))
        ));
    }

    #[test]
    fn arg_and_env_lines_give_their_pairs() {
        assert_eq!(
            arg_declarations(r#"A=1 B="two words" C"#),
            [
                ("A".into(), Some("1".into())),
                ("B".into(), Some("two words".into())),
                ("C".into(), None)
            ]
        );
        assert_eq!(
            env_assignments("REQS=/app/requirements.txt X=1"),
            [
                ("REQS".into(), "/app/requirements.txt".into()),
                ("X".into(), "1".into())
            ]
        );
        assert_eq!(
            env_assignments("REQS /app/requirements.txt"),
            [("REQS".into(), "/app/requirements.txt".into())]
        );
    }
}
