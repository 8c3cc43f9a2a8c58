//! Reading one `.env` file: dotenvy's parser, with our own line numbers and
//! error messages that never quote the file's text.
//!
//! dotenvy's `LineParse` error displays the offending line (or, for an
//! unclosed quote, the rest of the file) and a character index. We scan the
//! file ourselves to know where each entry starts, so every message reads
//! `FILE:LINE: what is wrong` and nothing of the value.

use std::io::Cursor;
use std::path::{Path, PathBuf};

/// One `KEY=value` of a file.
#[derive(Clone)]
pub struct FileEntry {
    /// The key.
    pub key: String,
    /// The value, after dotenvy's unquoting and substitution.
    pub value: String,
    /// 1-based line of the entry's start.
    pub line: usize,
}

/// A parsed file with the warnings met on the way.
pub struct ParsedFile {
    /// The file.
    pub path: PathBuf,
    /// Entries in file order; a duplicate key keeps its first entry only.
    pub entries: Vec<FileEntry>,
    /// Problems that do not stop the file from being used.
    pub warnings: Vec<String>,
}

/// Why a `.env` file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum EnvFileError {
    /// Could not be read (permissions, I/O).
    #[error("{path}: cannot be read ({reason}); check its permissions (chmod 600 {path})", path = .path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error, without any content.
        reason: String,
    },
    /// A folder where a file was expected.
    #[error("{path}: is a folder, not a file; remove it or point --env-file at a file", path = .path.display())]
    IsDir {
        /// The path.
        path: PathBuf,
    },
    /// Bytes that are not UTF-8.
    #[error("{path}:{line}: not valid UTF-8; save the file as UTF-8", path = .path.display())]
    NotUtf8 {
        /// The file.
        path: PathBuf,
        /// The line of the first invalid byte.
        line: usize,
    },
    /// A line that does not parse.
    #[error("{path}:{line}: {what}", path = .path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// The line where the entry starts.
        line: usize,
        /// What is wrong, without the line's text.
        what: String,
    },
}

/// One logical entry found by our scan: where it starts and what looks off.
struct Scanned {
    line: usize,
    problem: Option<&'static str>,
    padded_value: bool,
    /// `$` in an unquoted or double-quoted value: dotenvy substitutes it.
    substitutes: bool,
}

/// Reads and parses `path`.
pub fn parse_file(path: &Path) -> Result<ParsedFile, EnvFileError> {
    if path.is_dir() {
        return Err(EnvFileError::IsDir {
            path: path.to_owned(),
        });
    }
    let bytes = std::fs::read(path).map_err(|e| EnvFileError::Unreadable {
        path: path.to_owned(),
        reason: e.kind().to_string(),
    })?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
            return Err(EnvFileError::NotUtf8 {
                path: path.to_owned(),
                line,
            });
        }
    };
    parse_str(path, &text)
}

/// Parses the contents of a `.env` file named `path` (used in messages).
pub fn parse_str(path: &Path, text: &str) -> Result<ParsedFile, EnvFileError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let text = text.replace("\r\n", "\n");
    let scanned = scan(&text);
    let mut entries: Vec<FileEntry> = Vec::new();
    let mut warnings = Vec::new();
    for (i, item) in dotenvy::from_read_iter(Cursor::new(text.as_bytes())).enumerate() {
        let here = scanned.get(i);
        let line = here
            .map(|s| s.line)
            .unwrap_or_else(|| text.lines().count().max(1));
        let (key, value) = match item {
            Ok(kv) => kv,
            Err(err) => {
                let what = here
                    .and_then(|s| s.problem)
                    .map(str::to_owned)
                    .unwrap_or_else(|| describe(&err));
                return Err(EnvFileError::Syntax {
                    path: path.to_owned(),
                    line,
                    what,
                });
            }
        };
        if here.is_some_and(|s| s.padded_value) {
            warnings.push(format!(
                "{}:{line}: the value of {key} has spaces around it, which are dropped; quote the value if they belong to it",
                path.display()
            ));
        }
        if here.is_some_and(|s| s.substitutes) {
            warnings.push(format!(
                "{}:{line}: the value of {key} holds `$`, which is replaced by the variable it names; \
                 put the value in single quotes to keep it as written",
                path.display()
            ));
        }
        if let Some(first) = entries.iter().find(|e| e.key == key) {
            warnings.push(format!(
                "{}:{line}: {key} is set again (first at line {}); the first value is used, remove one of them",
                path.display(),
                first.line
            ));
            continue;
        }
        entries.push(FileEntry { key, value, line });
    }
    Ok(ParsedFile {
        path: path.to_owned(),
        entries,
        warnings,
    })
}

/// What a dotenvy error means, without its quoted text.
fn describe(err: &dotenvy::Error) -> String {
    match err {
        dotenvy::Error::LineParse(..) => {
            "cannot be parsed; expected KEY=value with the value quoted if it holds spaces, quotes or `#`".into()
        }
        dotenvy::Error::Io(e) => format!("cannot be read ({})", e.kind()),
        dotenvy::Error::EnvVar(_) => "refers to a variable that is not valid Unicode".into(),
        _ => "cannot be parsed".into(),
    }
}

/// Finds where each entry starts, as dotenvy will see them, and flags the
/// problems we can name precisely.
fn scan(text: &str) -> Vec<Scanned> {
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let raw = lines[i];
        let trimmed = raw.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            i += 1;
            continue;
        }
        let start = i + 1;
        let body = trimmed
            .strip_prefix("export ")
            .map(str::trim_start)
            .unwrap_or(trimmed);
        let Some(eq) = body.find('=') else {
            out.push(Scanned {
                line: start,
                problem: Some("missing `=` between the name and the value (expected KEY=value)"),
                padded_value: false,
                substitutes: false,
            });
            i += 1;
            continue;
        };
        let key = body[..eq].trim_end();
        let mut problem = None;
        if key.is_empty() {
            problem = Some("missing the variable's name before `=`");
        } else if !key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
        {
            problem = Some("the name may hold only letters, digits, `_` and `.` (no spaces)");
        }
        let value = &body[eq + 1..];
        let vtrim = value.trim_start();
        let mut padded_value = false;
        let substitutes = !vtrim.starts_with('\'') && vtrim.contains('$');
        match vtrim.chars().next() {
            Some(q @ ('"' | '\'')) => {
                // Find the closing quote, possibly lines later.
                let mut rest = vtrim[1..].to_owned();
                let mut j = i;
                loop {
                    if closes(&rest, q) {
                        break;
                    }
                    j += 1;
                    if j >= lines.len() {
                        problem.get_or_insert("a quote opened here is never closed");
                        j = lines.len() - 1;
                        break;
                    }
                    rest = lines[j].to_owned();
                }
                i = j;
            }
            _ => {
                let unquoted = value.split(" #").next().unwrap_or(value);
                padded_value = !unquoted.trim().is_empty()
                    && (unquoted.starts_with([' ', '\t']) || unquoted.ends_with([' ', '\t']));
            }
        }
        out.push(Scanned {
            line: start,
            problem,
            padded_value,
            substitutes,
        });
        i += 1;
    }
    out
}

/// Whether `rest` (the text after an opening quote) holds the closing one.
fn closes(rest: &str, quote: char) -> bool {
    let mut escaped = false;
    for c in rest.chars() {
        if quote == '"' && c == '\\' && !escaped {
            escaped = true;
            continue;
        }
        if c == quote && !escaped {
            return true;
        }
        escaped = false;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<ParsedFile, EnvFileError> {
        parse_str(Path::new("/p/.env"), text)
    }

    #[test]
    fn plain_export_quotes_bom_crlf() {
        let f =
            parse("\u{feff}A=1\r\nexport B=two\r\n# c\r\nC=\"x y\"\r\nD='a#b'\r\nE=v # note\r\n")
                .unwrap();
        let kv: Vec<_> = f
            .entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_str(), e.line))
            .collect();
        assert_eq!(
            kv,
            [
                ("A", "1", 1),
                ("B", "two", 2),
                ("C", "x y", 4),
                ("D", "a#b", 5),
                ("E", "v", 6)
            ]
        );
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    }

    #[test]
    fn multiline_values_keep_line_numbers() {
        let f = parse("A=\"one\ntwo\"\nB=3\n").unwrap();
        assert_eq!(f.entries[0].value, "one\ntwo");
        assert_eq!(f.entries[1].line, 3);
    }

    #[test]
    fn duplicates_warn_and_first_wins() {
        let f = parse("A=1\nB=2\nA=3\n").unwrap();
        assert_eq!(f.entries.len(), 2);
        assert_eq!(f.entries[0].value, "1");
        assert_eq!(f.warnings.len(), 1);
        assert!(
            f.warnings[0].starts_with("/p/.env:3: A is set again (first at line 1)"),
            "{}",
            f.warnings[0]
        );
    }

    #[test]
    fn errors_name_line_not_text() {
        for (text, line, what) in [
            ("A=1\nSECRETKEYNOEQUALS\n", 2, "missing `=`"),
            ("A=1\n\nMY KEY=hunter2secret\n", 3, "only letters"),
            ("A=1\nB=\"hunter2secret\nC=3\n", 2, "never closed"),
        ] {
            let err = parse(text).err().expect(text).to_string();
            assert!(err.starts_with(&format!("/p/.env:{line}: ")), "{err}");
            assert!(err.contains(what), "{err}");
            assert!(
                !err.contains("hunter2") && !err.contains("SECRETKEY"),
                "{err}"
            );
        }
    }

    #[test]
    fn dollar_substitution_warns() {
        let f = parse("A=ab$cd\nB='ab$cd'\n").unwrap();
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(f.warnings[0].contains(":1: the value of A holds `$`"));
        assert_eq!(f.entries[1].value, "ab$cd");
    }

    #[test]
    fn padded_values_warn() {
        let f = parse("A= padded\nB=fine\n").unwrap();
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(f.warnings[0].contains(":1: the value of A has spaces"));
        assert!(!f.warnings[0].contains("padded"));
    }
}
