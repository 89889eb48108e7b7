//! Reading an input file, and turning byte offsets (TOML spans) into the line numbers that
//! findings and errors print.

use std::path::Path;

use serde::de::DeserializeOwned;

use crate::requirements::{Source, read_bounded};

/// The file's text, read with the same bounds as requirements files.
pub fn read(path: &Path) -> Result<String, String> {
    let bytes = read_bounded(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => format!(
            "{} not found: check the path (a relative path is taken from the current directory)",
            path.display()
        ),
        _ => format!(
            "cannot read {}: {e}; check that it is a readable file",
            path.display()
        ),
    })?;
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "{} is not UTF-8 text (byte {}): TOML and JSON lock files are UTF-8",
            path.display(),
            e.utf8_error().valid_up_to()
        )
    })
}

/// The 1-based line of byte `offset` in `text`.
pub fn line_at(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    1 + text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
}

/// Where byte `offset` of `path` is, as a [`Source`].
pub fn source_at(path: &Path, text: &str, offset: usize) -> Source {
    Source {
        file: path.to_path_buf(),
        line: line_at(text, offset),
    }
}

/// Deserializes TOML; an error names the file, the line and what is wrong.
pub fn parse_toml<T: DeserializeOwned>(path: &Path, text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|err| {
        let place = match err.span() {
            Some(span) => format!("{}:{}", path.display(), line_at(text, span.start)),
            None => path.display().to_string(),
        };
        format!(
            "{place}: not valid {}: {}",
            describe(path),
            err.message().trim_end()
        )
    })
}

/// An environment marker as written in a file; empty means everywhere.
pub fn marker(text: &str) -> Result<pep508_rs::MarkerTree, String> {
    use std::str::FromStr;
    if text.trim().is_empty() {
        return Ok(pep508_rs::MarkerTree::TRUE);
    }
    match crate::guard::guarded(|| pep508_rs::MarkerTree::from_str(text)) {
        Some(Ok(marker)) => Ok(marker),
        Some(Err(err)) => Err(format!("invalid marker `{text}`: {err}")),
        None => Err(format!("invalid marker `{text}`")),
    }
}

fn describe(path: &Path) -> String {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("TOML");
    match name {
        "pyproject.toml" => "pyproject.toml (TOML)".into(),
        _ => format!("{name} (TOML)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_become_lines() {
        let text = "a\nbb\n\nccc";
        assert_eq!(line_at(text, 0), 1);
        assert_eq!(line_at(text, 2), 2);
        assert_eq!(line_at(text, 5), 3);
        assert_eq!(line_at(text, 6), 4);
        assert_eq!(line_at(text, 999), 4);
    }

    #[test]
    fn toml_errors_name_file_and_line() {
        #[derive(serde::Deserialize, Debug)]
        struct Any {}
        let err = parse_toml::<Any>(Path::new("x/uv.lock"), "a = 1\n\nb = [1,\n").unwrap_err();
        assert!(
            err.starts_with("x/uv.lock:3: not valid uv.lock (TOML): "),
            "{err}"
        );
    }
}
