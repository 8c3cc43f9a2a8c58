//! Reading one `.env` file exactly as the Python app reads it: python-dotenv
//! 1.2.4's `load_dotenv()` (override off), with our own line numbers and
//! error messages that never quote the file's text.
//!
//! The grammar is python-dotenv's `parser.py`, step for step (its regexes
//! written out as loops, so reading stays linear in the file's size):
//! universal newlines, a leading byte-order mark dropped, `export ` prefix,
//! unquoted names up to `=`, `#` or whitespace (or `'quoted'` names), an
//! optional `=`, then a single-quoted value (escapes `\\` `\'`), a
//! double-quoted value (escapes `\\ \' \" \a \b \f \n \r \t \v`), both
//! possibly spanning lines, or an unquoted value up to the line's end with a
//! whitespace-led `# comment` and trailing whitespace dropped. A name with
//! no `=` has no value (python-dotenv: `None`; `load_dotenv` leaves it
//! unset). The last of several lines for one name wins.
//!
//! Expansion is python-dotenv's `resolve_variables` with override off:
//! only `${NAME}` and `${NAME:-default}` (never `$NAME`), inside any value,
//! single-quoted ones too; NAME is looked up in the process environment
//! first, then in the lines above; the default applies only when NAME is
//! set nowhere, and is used as written.
//!
//! Where docker compose (compose-go's dotenv) reads a line differently, the
//! line is read as python-dotenv reads it and a warning names compose's
//! reading. Lines python-dotenv cannot parse (it skips them with a log line)
//! stop the load with `FILE:LINE: what` and nothing of the text.

mod expand;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

#[cfg(test)]
use expand::references;
use expand::resolve;

/// One name of the file with the value python-dotenv gives it.
#[derive(Clone)]
pub struct FileEntry {
    /// The name.
    pub key: String,
    /// The value after unquoting and expansion; `None` for a line holding
    /// only the name (python-dotenv's `None`: the app does not get it).
    pub value: Option<String>,
    /// 1-based line where the name's last entry starts.
    pub line: usize,
    /// The value differs from the file's text because `${…}` was expanded.
    pub expanded: bool,
}

/// A parsed file with the warnings met on the way.
pub struct ParsedFile {
    /// The file.
    pub path: PathBuf,
    /// One entry per name, in order of first appearance, with the value and
    /// line of its last appearance (python-dotenv's dict).
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
    /// A FIFO, device or socket where a file was expected.
    #[error("{path}: is {kind}, not a regular file; point --env-file at a file, or use --no-env-file", path = .path.display())]
    NotAFile {
        /// The path.
        path: PathBuf,
        /// What it is.
        kind: &'static str,
    },
    /// Larger than [`MAX_FILE_BYTES`].
    #[error("{path}: larger than the {limit}-byte limit for a .env file; is it the right file?", path = .path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit, in bytes.
        limit: u64,
    },
    /// `${…}` expansion would build a value beyond the limits.
    #[error("{path}:{line}: the value of {key} grows beyond {limit} bytes through `${{…}}` expansion; nested references repeat values, so write the value out or reference fewer times", path = .path.display())]
    ExpansionTooLarge {
        /// The file.
        path: PathBuf,
        /// The line of the name.
        line: usize,
        /// The name (never its value).
        key: String,
        /// The limit, in bytes.
        limit: usize,
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

/// The largest `.env` read: far above any real one (`bench/dotenv.sh`
/// reads 10 MB), far below what would strain memory (`.env` → `/dev/zero`
/// or a huge file fails here).
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The largest value `${…}` expansion may build, and the most it may build
/// over the whole file: nested references double a value per line, so a
/// few hundred bytes could otherwise ask for gigabytes.
pub const MAX_EXPANDED_BYTES: usize = 1024 * 1024;

/// [`MAX_EXPANDED_BYTES`] for the sum of a file's expanded values.
pub const MAX_EXPANDED_TOTAL: usize = 64 * MAX_EXPANDED_BYTES;

/// Reads and parses `path`, expanding `${…}` from `environment` first.
/// Only a regular file under [`MAX_FILE_BYTES`] is read; a FIFO, device or
/// folder is an error that names it, and never blocks.
pub fn parse_file(
    path: &Path,
    environment: &HashMap<String, String>,
) -> Result<ParsedFile, EnvFileError> {
    let bytes = read_bounded(path)?;
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
    parse_str(path, &text, environment)
}

/// The bytes of `path` when it is a regular file of at most
/// [`MAX_FILE_BYTES`], read by the one bounded reader ([`crate::fsread`]:
/// a FIFO is never opened, nothing blocks), its refusal in our words.
fn read_bounded(path: &Path) -> Result<Vec<u8>, EnvFileError> {
    use crate::fsread::Refused;
    let path_buf = path.to_owned();
    let unreadable = |kind: std::io::ErrorKind| EnvFileError::Unreadable {
        path: path.to_owned(),
        reason: kind.to_string(),
    };
    match crate::fsread::read_bounded(path, MAX_FILE_BYTES) {
        Ok(Some(bytes)) => Ok(bytes),
        Ok(None) => Err(unreadable(std::io::ErrorKind::NotFound)),
        Err(Refused::Folder) => Err(EnvFileError::IsDir { path: path_buf }),
        Err(Refused::NotRegular(kind)) => Err(EnvFileError::NotAFile {
            path: path_buf,
            kind,
        }),
        Err(Refused::TooLarge(limit)) => Err(EnvFileError::TooLarge {
            path: path_buf,
            limit,
        }),
        Err(Refused::Io(e)) => Err(unreadable(e.kind())),
    }
}

/// Parses the contents of a `.env` file named `path` (used in messages).
pub fn parse_str(
    path: &Path,
    text: &str,
    environment: &HashMap<String, String>,
) -> Result<ParsedFile, EnvFileError> {
    // Python opens the file with universal newlines: CRLF and a lone CR
    // are line breaks, inside quoted values too.
    let had_cr = text.contains('\r');
    let normalized;
    let text = if had_cr {
        normalized = text.replace("\r\n", "\n").replace('\r', "\n");
        normalized.as_str()
    } else {
        text
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let bindings = read_bindings(text).map_err(|e| EnvFileError::Syntax {
        path: path.to_owned(),
        line: e.line,
        what: format!(
            "{}; python-dotenv skips this line, so the app would not see it: fix the line",
            e.what
        ),
    })?;
    resolve(path, bindings, environment, had_cr)
}

/// How a value was written.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    Double,
}

/// One `NAME[=value]` statement, before expansion.
struct Binding {
    key: String,
    /// The value after unquoting and unescaping; `None` without `=`.
    value: Option<String>,
    quote: Quote,
    line: usize,
    /// Docker compose reads the text differently (before expansion).
    compose: Vec<&'static str>,
    /// The unquoted value had whitespace dropped around it.
    padded: bool,
    /// A quoted value spanning lines.
    multiline: bool,
}

struct SyntaxError {
    line: usize,
    what: &'static str,
}

/// Python's `str.isspace()` (and `\s` of its `re`): Unicode whitespace plus
/// the four ASCII separators U+001C..U+001F.
fn is_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `[^\S\r\n]`: whitespace other than a line break (no CR is left).
fn is_hspace(c: char) -> bool {
    c != '\n' && is_space(c)
}

/// A cursor over the normalized text that knows its line.
struct Reader<'a> {
    text: &'a str,
    pos: usize,
    /// `line` is the line of byte `line_pos`; both only move forward.
    line_pos: usize,
    line: usize,
}

impl<'a> Reader<'a> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn rest(&self) -> &'a str {
        &self.text[self.pos..]
    }

    /// The position after the chars from `from` that satisfy `f`.
    fn skip(&self, from: usize, f: impl Fn(char) -> bool) -> usize {
        self.text[from..]
            .char_indices()
            .find(|&(_, c)| !f(c))
            .map_or(self.text.len(), |(i, _)| from + i)
    }

    fn line_at(&mut self, pos: usize) -> usize {
        self.line += self.text.as_bytes()[self.line_pos..pos]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.line_pos = pos;
        self.line
    }

    /// The end of the current line (before its `\n`).
    fn line_end(&self, from: usize) -> usize {
        self.text[from..]
            .find('\n')
            .map_or(self.text.len(), |i| from + i)
    }
}

/// python-dotenv's `parse_stream`, stopping at the first line it cannot
/// parse.
fn read_bindings(text: &str) -> Result<Vec<Binding>, SyntaxError> {
    let mut r = Reader {
        text,
        pos: 0,
        line_pos: 0,
        line: 1,
    };
    let mut out = Vec::new();
    loop {
        r.pos = r.skip(r.pos, is_space);
        if r.pos >= text.len() {
            return Ok(out);
        }
        let line = r.line_at(r.pos);
        if let Some(after) = r.rest().strip_prefix("export") {
            let spaces = r.skip(text.len() - after.len(), is_hspace);
            if spaces > text.len() - after.len() {
                r.pos = spaces;
            }
        }
        let fail = |what| SyntaxError { line, what };
        let key = read_key(&mut r).map_err(fail)?;
        let key_end = r.pos;
        r.pos = r.skip(r.pos, is_hspace);
        let spaced_eq = r.pos > key_end;
        let mut binding = Binding {
            key: String::new(),
            value: None,
            quote: Quote::None,
            line,
            compose: Vec::new(),
            padded: false,
            multiline: false,
        };
        if r.peek() == Some('=') {
            let after_eq = r.pos + 1;
            r.pos = r.skip(after_eq, is_hspace);
            read_value(&mut r, after_eq, spaced_eq, &mut binding).map_err(fail)?;
        }
        end_of_line(&mut r, binding.value.is_some()).map_err(fail)?;
        if let Some((key, quoted)) = key {
            if let Some(note) = compose_name_note(&key, quoted) {
                binding.compose.push(note);
            }
            binding.key = key;
            out.push(binding);
        }
    }
}

/// The name at `r.pos`, and whether it was quoted; `None` for a comment
/// line (`#`).
fn read_key(r: &mut Reader) -> Result<Option<(String, bool)>, &'static str> {
    match r.peek() {
        Some('#') => Ok(None),
        Some('\'') => {
            let body = &r.rest()[1..];
            match body.find('\'') {
                Some(n) if n > 0 => {
                    r.pos += n + 2;
                    Ok(Some((body[..n].to_owned(), true)))
                }
                _ => Err("a quoted name is empty or never closed"),
            }
        }
        _ => {
            let end = r.skip(r.pos, |c| c != '=' && c != '#' && !is_space(c));
            if end == r.pos {
                return Err("missing the variable's name before `=`");
            }
            let k = r.text[r.pos..end].to_owned();
            r.pos = end;
            Ok(Some((k, false)))
        }
    }
}

/// An optional comment, then the end of the line (or of the text).
fn end_of_line(r: &mut Reader, has_value: bool) -> Result<(), &'static str> {
    let text = r.text;
    let spaces = r.skip(r.pos, is_hspace);
    if text[spaces..].starts_with('#') {
        r.pos = r.line_end(spaces);
    }
    let spaces = r.skip(r.pos, is_hspace);
    match text[spaces..].chars().next() {
        None => r.pos = spaces,
        Some('\n') => r.pos = spaces + 1,
        Some(_) if has_value => {
            return Err(
                "text after the closing quote; put `#` before a comment or quote the whole value",
            );
        }
        Some(_) => {
            return Err(
                "more text after the name without `=` (names hold no spaces; expected KEY=value)",
            );
        }
    }
    Ok(())
}

/// How docker compose reads a name differently, if it does.
fn compose_name_note(key: &str, quoted: bool) -> Option<&'static str> {
    if quoted || !key.chars().all(compose_name_char) {
        Some(
            "it refuses this name (it accepts letters, digits, `_`, `.`, `-`, `[` and `]`, unquoted)",
        )
    } else if key.starts_with(|c: char| c.is_ascii_digit()) {
        Some("it ignores a name that starts with a digit")
    } else {
        None
    }
}

fn compose_name_char(c: char) -> bool {
    c.is_alphanumeric() || matches!(c, '_' | '.' | '-' | '[' | ']')
}

/// The value after `=` (`r.pos` is past the spaces after `=`, which starts
/// at `after_eq`; `spaced_eq`: `KEY = value` style).
fn read_value(
    r: &mut Reader,
    after_eq: usize,
    spaced_eq: bool,
    b: &mut Binding,
) -> Result<(), &'static str> {
    let text = r.text;
    match r.peek() {
        Some(q @ ('\'' | '"')) => read_quoted(r, q, b)?,
        None | Some('\n') => b.value = Some(String::new()),
        Some('#') if r.pos > after_eq => {
            // python-dotenv 1.2.4: `KEY= # comment` is an empty value.
            b.value = Some(String::new());
            b.compose
                .push("it reads the `#…` after `=` as the value, not as a comment");
        }
        Some(_) => {
            let end = r.line_end(r.pos);
            let part = &text[r.pos..end];
            // `re.sub(r"\s+#.*", "", part).rstrip()`: cut at the first
            // whitespace run followed by `#`.
            let mut cut = part.len();
            let mut run_start = None;
            for (i, c) in part.char_indices() {
                if c == '#' && run_start.is_some() {
                    cut = run_start.unwrap_or(i);
                    break;
                }
                run_start = if is_space(c) {
                    run_start.or(Some(i))
                } else {
                    None
                };
            }
            let value = part[..cut].trim_end_matches(is_space);
            // Spaces that look meant for the value: after `=` (unless the
            // line is written `KEY = value`), or at the end of a line
            // without a comment.
            b.padded = !value.is_empty()
                && ((r.pos > after_eq && !spaced_eq) || (value.len() < cut && cut == part.len()));
            // Docker compose's reading: from the first char after `=` that
            // is not one of its spaces, up to the first ` #`, trimmed.
            let skipped = &text[after_eq..r.pos];
            let compose_from = r.pos - skipped.trim_start_matches(compose_space).len();
            let compose = &text[compose_from..end];
            let compose = compose.split(" #").next().unwrap_or(compose).trim_end();
            if compose != value {
                b.compose.push(
                    "it starts a comment only at a space followed by `#`, so it reads another value here",
                );
            }
            b.value = Some(value.to_owned());
            r.pos = end;
        }
    }
    Ok(())
}

/// A quoted value: `q` at `r.pos`, escapes as python-dotenv reads them.
fn read_quoted(r: &mut Reader, q: char, b: &mut Binding) -> Result<(), &'static str> {
    let text = r.text;
    let start = r.pos + 1;
    let mut escaped = false;
    let mut close = None;
    for (i, c) in text[start..].char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == q {
            close = Some(start + i);
            break;
        }
    }
    let close = close.ok_or("a quote opened here is never closed")?;
    let raw = &text[start..close];
    r.pos = close + 1;
    b.multiline = raw.contains('\n');
    if q == '\'' {
        b.quote = Quote::Single;
        b.value = Some(unescape(raw, b"\\'"));
        if raw.contains("\\\\") {
            b.compose
                .push("it keeps both backslashes of `\\\\` inside single quotes");
        }
    } else {
        b.quote = Quote::Double;
        b.value = Some(unescape(raw, b"\\'\"abfnrtv"));
        if raw.contains("\\'") || raw.contains("\\$") || raw.contains("\\0") {
            b.compose.push(
                    "inside double quotes it reads `\\'` as backslash and quote, `\\$` as `$` and `\\0…` as an octal character",
                );
        }
    }
    Ok(())
}

/// compose-go's `isSpace`, which it skips after `=`.
fn compose_space(c: char) -> bool {
    matches!(c, '\t' | '\u{b}' | '\u{c}' | ' ' | '\u{85}' | '\u{a0}')
}

/// python-dotenv's `decode_escapes`: `\x` for x in `set` becomes what
/// Python's `unicode-escape` makes of it; any other backslash stays.
fn unescape(raw: &str, set: &[u8]) -> String {
    if !raw.contains('\\') {
        return raw.to_owned();
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match chars.peek().copied() {
            Some(n) if c == '\\' && n.is_ascii() && set.contains(&(n as u8)) => {
                chars.next();
                out.push(match n {
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{b}',
                    other => other,
                });
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_env(text: &str, env: &[(&str, &str)]) -> Result<ParsedFile, EnvFileError> {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        parse_str(Path::new("/p/.env"), text, &env)
    }

    fn parse(text: &str) -> Result<ParsedFile, EnvFileError> {
        parse_env(text, &[])
    }

    fn values(f: &ParsedFile) -> Vec<(&str, Option<&str>, usize)> {
        f.entries
            .iter()
            .map(|e| (e.key.as_str(), e.value.as_deref(), e.line))
            .collect()
    }

    #[test]
    fn plain_export_quotes_bom_crlf() {
        let f =
            parse("\u{feff}A=1\r\nexport B=two\r\n# c\r\nC=\"x y\"\r\nD='a#b'\r\nE=v # note\r\n")
                .unwrap();
        assert_eq!(
            values(&f),
            [
                ("A", Some("1"), 1),
                ("B", Some("two"), 2),
                ("C", Some("x y"), 4),
                ("D", Some("a#b"), 5),
                ("E", Some("v"), 6)
            ]
        );
        assert!(f.warnings.is_empty(), "{:?}", f.warnings);
    }

    #[test]
    fn multiline_values_keep_line_numbers() {
        let f = parse("A=\"one\ntwo\"\nB=3\n").unwrap();
        assert_eq!(f.entries[0].value.as_deref(), Some("one\ntwo"));
        assert_eq!(f.entries[1].line, 3);
    }

    #[test]
    fn duplicates_warn_and_last_wins() {
        let f = parse("A=1\nB=2\nA=3\n").unwrap();
        assert_eq!(values(&f), [("A", Some("3"), 3), ("B", Some("2"), 2)]);
        assert_eq!(f.warnings.len(), 1);
        assert!(
            f.warnings[0].starts_with("/p/.env:3: A is set again (also at line 1); the last"),
            "{}",
            f.warnings[0]
        );
    }

    #[test]
    fn bare_name_has_no_value_and_unsets_an_earlier_one() {
        let f = parse("A\nB=1\nB # gone\n").unwrap();
        assert_eq!(values(&f), [("A", None, 1), ("B", None, 3)]);
        assert!(
            f.warnings[0].contains(":1: this line holds only a name, no `=`"),
            "{:?}",
            f.warnings
        );
        assert!(f.warnings[1].contains(":3: B is named again without `=`"));
    }

    #[test]
    fn errors_name_line_not_text() {
        for (text, line, what) in [
            ("A=1\n\nMY KEY=hunter2secret\n", 3, "without `=`"),
            ("A=1\nB=\"hunter2secret\nC=3\n", 2, "never closed"),
            ("A=1\nB='hunter2secret' x\n", 2, "after the closing quote"),
            ("A=1\n  =hunter2secret\n", 2, "missing the variable's name"),
            ("'hunter2\n", 1, "quoted name"),
        ] {
            let err = parse(text).err().expect(text).to_string();
            assert!(err.starts_with(&format!("/p/.env:{line}: ")), "{err}");
            assert!(err.contains(what), "{err}");
            assert!(err.contains("python-dotenv skips this line"), "{err}");
            assert!(!err.contains("hunter2"), "{err}");
        }
    }

    #[test]
    fn quoted_escapes_and_unquoted_spaces() {
        let f = parse("A=\"tab\\there\"\nB='it\\'s'\nC=two words here\nD='a\\\\b\\n'\n").unwrap();
        assert_eq!(
            values(&f),
            [
                ("A", Some("tab\there"), 1),
                ("B", Some("it's"), 2),
                ("C", Some("two words here"), 3),
                ("D", Some("a\\b\\n"), 4),
            ]
        );
    }

    #[test]
    fn dollar_without_braces_is_kept_and_compose_warned() {
        let f = parse("R=redis://:pa$word@host\nS='pa$word'\n").unwrap();
        assert_eq!(f.entries[0].value.as_deref(), Some("redis://:pa$word@host"));
        assert!(!f.entries[0].expanded);
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(
            f.warnings[0]
                .contains(":1: docker compose reads R differently: it substitutes `$NAME`"),
            "{}",
            f.warnings[0]
        );
        assert!(!f.warnings[0].contains("word"), "{}", f.warnings[0]);
    }

    #[test]
    fn expansion_environment_first_then_earlier_lines() {
        let f = parse_env(
            "R=${UNDEFINED:-eu-west-1}\nH=file\nU=${H}/${E}\nS='${H}'\nL=${LATER}\nLATER=x\n",
            &[("E", "env"), ("H", "envwins")],
        )
        .unwrap();
        let v = values(&f);
        assert_eq!(v[0].1, Some("eu-west-1"));
        assert_eq!(v[2].1, Some("envwins/env"));
        assert_eq!(v[3].1, Some("envwins"));
        assert_eq!(v[4].1, Some(""));
        assert!(f.entries[0].expanded && f.entries[2].expanded && !f.entries[1].expanded);
        assert!(
            f.warnings
                .iter()
                .any(|w| w.contains(":5: the value of L refers"))
        );
        assert!(
            f.warnings
                .iter()
                .any(|w| w.contains(":4: docker compose reads S"))
        );
    }

    #[test]
    fn python_dotenv_reference_forms() {
        let f = parse_env(
            "E=\nA=${E:-d}\nB=${X-d}\nC=${X:?e}\nD=${X:-${Y}}\nN=${}\n",
            &[("X-d", "odd")],
        )
        .unwrap();
        let v = values(&f);
        assert_eq!(v[1].1, Some(""));
        assert_eq!(v[2].1, Some("odd"));
        assert_eq!(v[3].1, Some("${X:?e}"));
        assert_eq!(v[4].1, Some("${Y}"));
        assert_eq!(v[5].1, Some(""));
    }

    #[test]
    fn references_scan_is_linear_on_unclosed_braces() {
        let value = "${a:-".repeat(200_000);
        assert!(references(&value).is_empty());
        let value = "${a:x".repeat(200_000);
        assert!(references(&value).is_empty());
    }

    #[test]
    fn padded_values_warn() {
        let f = parse("A= padded\nB=fine\nC= # only a comment\nD = styled\nE=v   # c\nF=trail \n")
            .unwrap();
        assert_eq!(f.entries[2].value.as_deref(), Some(""));
        let padded: Vec<_> = f.warnings.iter().filter(|w| w.contains("spaces")).collect();
        assert_eq!(padded.len(), 2, "{:?}", f.warnings);
        assert!(padded[0].contains(":1: the value of A has spaces"));
        assert!(padded[1].contains(":6: the value of F has spaces"));
        assert!(!padded[0].contains("padded"));
    }

    #[test]
    fn a_token_alone_on_a_line_is_never_quoted() {
        let token = "hf_CANARYbareLine0123456789abcdef";
        let f = parse(&format!("{token}\nA=1\n{token}\n'{token}/x'\n")).unwrap();
        assert!(f.warnings.len() >= 3, "{:?}", f.warnings);
        for w in &f.warnings {
            assert!(!w.contains("CANARY"), "{w}");
        }
        assert!(f.warnings[0].starts_with("/p/.env:1: this line holds only a name"));
        assert!(f.warnings.iter().any(|w| w.starts_with("/p/.env:3: ")));
    }

    /// `A0` of 16 bytes, then `lines` lines each holding the line above
    /// `copies` times.
    fn nested(lines: usize, copies: usize) -> String {
        let mut text = format!("A0={}\n", "s".repeat(16));
        for i in 1..=lines {
            text.push_str(&format!(
                "A{i}={}\n",
                format!("${{A{}}}", i - 1).repeat(copies)
            ));
        }
        text
    }

    #[test]
    fn nested_expansion_is_bounded_per_value() {
        // 16 * 2^22 = 64 MiB before the limit existed.
        let text = nested(22, 2);
        assert!(text.len() < 600, "{}", text.len());
        let err = parse(&text).err().expect("refused");
        assert!(
            matches!(&err, EnvFileError::ExpansionTooLarge { line: 18, key, limit, .. }
                if key == "A17" && *limit == MAX_EXPANDED_BYTES),
            "{err:?}"
        );
        let msg = err.to_string();
        assert!(
            msg.starts_with("/p/.env:18: the value of A17 grows beyond"),
            "{msg}"
        );
        assert!(!msg.contains("sss"), "{msg}");
    }

    #[test]
    fn nested_expansion_is_bounded_per_file() {
        // A15 is 512 KiB; 130 copies of it are 65 MiB.
        let mut text = nested(15, 2);
        for i in 0..130 {
            text.push_str(&format!("C{i}=${{A15}}\n"));
        }
        let err = parse(&text).err().expect("refused");
        assert!(
            matches!(&err, EnvFileError::ExpansionTooLarge { limit, key, .. }
                if *limit == MAX_EXPANDED_TOTAL && key.starts_with('C')),
            "{err:?}"
        );
        // Just under the limits still reads.
        let f = parse(&nested(15, 2)).unwrap();
        assert_eq!(f.entries[15].value.as_ref().unwrap().len(), 16 << 15);
    }

    /// `parse_file` on another thread; `None` when it has not returned
    /// within 10 s (it hangs).
    #[cfg(unix)]
    fn parse_file_timed(path: &Path) -> Option<Result<ParsedFile, EnvFileError>> {
        let (tx, rx) = std::sync::mpsc::channel();
        let path = path.to_owned();
        std::thread::spawn(move || {
            let _ = tx.send(parse_file(&path, &HashMap::new()));
        });
        rx.recv_timeout(std::time::Duration::from_secs(10)).ok()
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let tmp = tempfile::tempdir().unwrap();
        let fifo = tmp.path().join(".env");
        let status = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(status.success());
        let err = parse_file_timed(&fifo)
            .expect("returns")
            .err()
            .expect("refused");
        assert!(matches!(err, EnvFileError::NotAFile { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(
            msg.contains(".env: is a named pipe (FIFO), not a regular file"),
            "{msg}"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_device_behind_a_link_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let link = tmp.path().join(".env");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        let err = parse_file_timed(&link)
            .expect("returns")
            .err()
            .expect("refused");
        assert!(err.to_string().contains(".env: is a device"), "{err}");
    }

    #[test]
    fn a_file_over_the_limit_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join(".env");
        // One comment line of exactly the limit reads; one byte more does not.
        let line = format!("#{}\n", "x".repeat(MAX_FILE_BYTES as usize - 2));
        std::fs::write(&path, &line).unwrap();
        assert!(parse_file(&path, &HashMap::new()).is_ok());
        std::fs::write(&path, line + "\n").unwrap();
        let err = parse_file(&path, &HashMap::new()).err().expect("refused");
        let msg = err.to_string();
        assert!(
            msg.contains(".env: larger than the 16777216-byte limit"),
            "{msg}"
        );
    }
}
