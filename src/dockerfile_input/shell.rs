//! Just enough of the shell to find `pip install -r FILE` in a `RUN` line: words (quotes
//! removed, `$VAR` left for later), simple commands split at `&&`, `||`, `;`, `|`, `&` and
//! newlines, `\`-newline continuations and `#` comments.
//!
//! A full shell parser would be heavier than the question asked of it, and the `RUN` text is
//! run by whatever shell the image has: this reads what people write in Dockerfiles.

/// The simple commands of `script`, each as its words.
pub fn commands(script: &str) -> Vec<Vec<String>> {
    let mut lexer = Lexer::default();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some('\n') | None => {}
                Some(escaped) => lexer.push(escaped),
            },
            '\'' => {
                lexer.quoted = true;
                chars
                    .by_ref()
                    .take_while(|&c| c != '\'')
                    .for_each(|c| lexer.word.push(c));
            }
            '"' => {
                lexer.quoted = true;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => break,
                        '\\' if matches!(chars.peek(), Some('"' | '\\' | '$' | '`')) => {
                            lexer.word.extend(chars.next());
                        }
                        other => lexer.word.push(other),
                    }
                }
            }
            '#' if lexer.word.is_empty() && !lexer.quoted => {
                chars.by_ref().take_while(|&c| c != '\n').for_each(drop);
                lexer.end_command();
            }
            ' ' | '\t' | '\r' | '<' | '>' => lexer.end_word(),
            '\n' | ';' | '&' | '|' | '(' | ')' => lexer.end_command(),
            other => lexer.push(other),
        }
    }
    lexer.end_command();
    lexer.commands
}

/// The words of one line (for `ARG` and `ENV`), with quotes removed.
pub fn words(text: &str) -> Vec<String> {
    commands(text).into_iter().flatten().collect()
}

#[derive(Default)]
struct Lexer {
    word: String,
    /// The current word had quotes, so it is a word even when empty (`""`).
    quoted: bool,
    command: Vec<String>,
    commands: Vec<Vec<String>>,
}

impl Lexer {
    fn push(&mut self, c: char) {
        self.word.push(c);
    }

    fn end_word(&mut self) {
        if !self.word.is_empty() || self.quoted {
            self.command.push(std::mem::take(&mut self.word));
        }
        self.quoted = false;
    }

    fn end_command(&mut self) {
        self.end_word();
        if !self.command.is_empty() {
            self.commands.push(std::mem::take(&mut self.command));
        }
    }
}

/// A requirements (`-r`) or constraints (`-c`) file named on a pip command line, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    pub constraint: bool,
    pub path: String,
}

/// The `-r`/`-c` files of a pip command among `words`: `pip install`, `pip3.12 install`,
/// `python -m pip install`, `uv pip install`, also `wheel` and `download`.
pub fn pip_file_refs(words: &[String]) -> Vec<FileRef> {
    let Some(start) = pip_arguments(words) else {
        return Vec::new();
    };
    let mut refs = Vec::new();
    let mut rest = words[start..].iter();
    while let Some(word) = rest.next() {
        let (constraint, value) = match split_option(word) {
            Some((constraint, Some(value))) => (constraint, value.to_string()),
            Some((constraint, None)) => match rest.next() {
                Some(next) => (constraint, next.clone()),
                None => break,
            },
            None => continue,
        };
        refs.push(FileRef {
            constraint,
            path: value,
        });
    }
    refs
}

/// Where the arguments of `pip install|wheel|download` start, if `words` is such a command.
fn pip_arguments(words: &[String]) -> Option<usize> {
    let pip = words.iter().enumerate().find_map(|(i, word)| {
        let name = word.rsplit('/').next().unwrap_or(word);
        let next = |k: usize| words.get(i + k).map(String::as_str);
        if is_versioned(name, "pip") {
            Some(i + 1)
        } else if is_versioned(name, "python") && next(1) == Some("-m") && next(2) == Some("pip") {
            Some(i + 3)
        } else if name == "uv" && next(1) == Some("pip") {
            Some(i + 2)
        } else {
            None
        }
    })?;
    // pip's own options (`pip --no-cache-dir install`) may come before the subcommand.
    let subcommand = pip + words[pip..].iter().position(|w| !w.starts_with('-'))?;
    matches!(words[subcommand].as_str(), "install" | "wheel" | "download").then_some(subcommand + 1)
}

/// `pip`, `pip3`, `pip3.12`; `python`, `python3.12`.
fn is_versioned(name: &str, program: &str) -> bool {
    name.strip_prefix(program)
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit() || c == '.'))
}

/// `-r`, `-rFILE`, `--requirement`, `--requirement=FILE` (and the same for `-c`): whether it
/// names a constraints file, and the value when it is in the same word.
fn split_option(word: &str) -> Option<(bool, Option<&str>)> {
    for (constraint, short, long) in [(false, "-r", "--requirement"), (true, "-c", "--constraint")]
    {
        if word == short || word == long {
            return Some((constraint, None));
        }
        if let Some(value) = word.strip_prefix(&format!("{long}=")) {
            return Some((constraint, Some(value)));
        }
        let attached = word
            .strip_prefix(short)
            .filter(|v| !v.is_empty() && !v.starts_with('-') && !word.starts_with("--"));
        if let Some(value) = attached {
            return Some((constraint, Some(value)));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs(script: &str) -> Vec<(bool, String)> {
        commands(script)
            .iter()
            .flat_map(|c| pip_file_refs(c))
            .map(|r| (r.constraint, r.path))
            .collect()
    }

    #[test]
    fn commands_split_at_operators_and_keep_quoted_words_whole() {
        assert_eq!(
            commands(
                "apt-get update && pip install 'a b' \"c\\\"d\"; echo x | tee y\n# comment\nz"
            ),
            [
                vec!["apt-get", "update"],
                vec!["pip", "install", "a b", "c\"d"],
                vec!["echo", "x"],
                vec!["tee", "y"],
                vec!["z"]
            ]
        );
        assert_eq!(
            commands("pip install \\\n    -r requirements.txt"),
            [vec!["pip", "install", "-r", "requirements.txt"]]
        );
    }

    #[test]
    fn every_spelling_of_pip_and_of_the_file_options_is_found() {
        let script = "pip install --no-cache-dir -r requirements.txt \
            && pip3 install --requirement=base.txt -c constraints.txt \
            && python -m pip install -rdev.txt --constraint=pins.txt \
            && python3.12 -m pip wheel --requirement extra.txt -w /wheels \
            && /usr/local/bin/pip3.12 --no-cache-dir install -r /app/prod.txt \
            && uv pip install --system -r uv.txt";
        assert_eq!(
            refs(script),
            [
                (false, "requirements.txt".to_string()),
                (false, "base.txt".into()),
                (true, "constraints.txt".into()),
                (false, "dev.txt".into()),
                (true, "pins.txt".into()),
                (false, "extra.txt".into()),
                (false, "/app/prod.txt".into()),
                (false, "uv.txt".into()),
            ]
        );
    }

    #[test]
    fn other_commands_and_pip_subcommands_give_nothing() {
        assert!(refs("pip freeze -r requirements.txt > out.txt").is_empty());
        assert!(refs("grep -r pip . && cat -r x").is_empty());
        assert!(refs("pip install --upgrade pip setuptools").is_empty());
        assert!(refs("pipx install -r x.txt").is_empty());
    }
}
