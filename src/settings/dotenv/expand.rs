//! `${…}` expansion as python-dotenv's `resolve_variables` (override off),
//! bounded, with the warnings of each line.

use std::collections::HashMap;
use std::path::Path;

use super::{
    Binding, EnvFileError, FileEntry, MAX_EXPANDED_BYTES, MAX_EXPANDED_TOTAL, ParsedFile, Quote,
};

/// One `${NAME}` or `${NAME:-default}` python-dotenv finds in a value.
pub(super) struct Reference<'a> {
    start: usize,
    end: usize,
    name: &'a str,
    default: Option<&'a str>,
}

/// python-dotenv's `_posix_variable.finditer`:
/// `\$\{(?P<name>[^\}:]*)(?::-(?P<default>[^\}]*))?\}`. Written as a
/// scan that never looks at a byte twice, so a line of unclosed `${` stays
/// linear.
pub(super) fn references(value: &str) -> Vec<Reference<'_>> {
    let b = value.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(off) = value[i..].find("${") {
        let start = i + off;
        let name_start = start + 2;
        let Some(stop) = b[name_start..]
            .iter()
            .position(|&c| c == b'}' || c == b':')
            .map(|n| name_start + n)
        else {
            // No `}` or `:` after: no later `${` can match either.
            break;
        };
        let name = &value[name_start..stop];
        if b[stop] == b'}' {
            out.push(Reference {
                start,
                end: stop + 1,
                name,
                default: None,
            });
            i = stop + 1;
        } else if b.get(stop + 1) == Some(&b'-') {
            let Some(close) = value[stop + 2..].find('}').map(|n| stop + 2 + n) else {
                break;
            };
            out.push(Reference {
                start,
                end: close + 1,
                name,
                default: Some(&value[stop + 2..close]),
            });
            i = close + 1;
        } else {
            // A `:` not followed by `-`: every `${` before it fails the same way.
            i = stop + 1;
        }
    }
    out
}

/// python-dotenv's `resolve_variables` with override off, duplicates folded
/// (last wins), and the warnings. Expansion is bounded by
/// [`MAX_EXPANDED_BYTES`] per value and [`MAX_EXPANDED_TOTAL`] per file.
pub(super) fn resolve(
    path: &Path,
    bindings: Vec<Binding>,
    environment: &HashMap<String, String>,
    had_cr: bool,
) -> Result<ParsedFile, EnvFileError> {
    let mut last_line: HashMap<&str, usize> = HashMap::with_capacity(bindings.len());
    for b in &bindings {
        last_line.insert(&b.key, b.line);
    }
    let mut r = Resolver {
        path,
        environment,
        last_line,
        index: HashMap::with_capacity(bindings.len()),
        entries: Vec::new(),
        warnings: Vec::new(),
        expanded_total: 0,
    };
    for b in &bindings {
        let mut compose = b.compose.clone();
        let mut notes = Vec::new();
        let value = match &b.value {
            Some(raw) => Some(r.expand(b, raw, &mut compose, &mut notes)?),
            None => None,
        };
        if had_cr && b.multiline {
            compose.push(
                "it keeps the carriage returns (Windows line ends) inside this multi-line value",
            );
        }
        compose.dedup();
        r.warn(b, &notes, &compose);
        let expanded = matches!((&value, &b.value), (Some(v), Some(raw)) if v != raw);
        r.insert(FileEntry {
            key: b.key.clone(),
            value,
            line: b.line,
            expanded,
        });
    }
    Ok(ParsedFile {
        path: path.to_owned(),
        entries: r.entries,
        warnings: r.warnings,
    })
}

/// The state of [`resolve`]: the names read so far and the warnings.
struct Resolver<'a> {
    path: &'a Path,
    environment: &'a HashMap<String, String>,
    /// The last line of each name, for "set further down".
    last_line: HashMap<&'a str, usize>,
    index: HashMap<String, usize>,
    entries: Vec<FileEntry>,
    warnings: Vec<String>,
    /// Bytes built by expansion so far, against [`MAX_EXPANDED_TOTAL`].
    expanded_total: usize,
}

impl Resolver<'_> {
    /// The value of `raw` after `${…}` expansion, within the limits.
    fn expand(
        &mut self,
        b: &Binding,
        raw: &str,
        compose: &mut Vec<&'static str>,
        notes: &mut Vec<&'static str>,
    ) -> Result<String, EnvFileError> {
        let refs = references(raw);
        if refs.is_empty() {
            if b.quote != Quote::Single && raw.contains('$') {
                compose.push(
                    "it substitutes `$NAME` and `$$` where python-dotenv keeps `$` as written (single quotes keep it in both)",
                );
            }
            return Ok(raw.to_owned());
        }
        let too_large = |limit| EnvFileError::ExpansionTooLarge {
            path: self.path.to_owned(),
            line: b.line,
            key: b.key.clone(),
            limit,
        };
        let mut out = String::with_capacity(raw.len());
        let push = |out: &mut String, s: &str| {
            if out.len() + s.len() > MAX_EXPANDED_BYTES {
                return Err(too_large(MAX_EXPANDED_BYTES));
            }
            out.push_str(s);
            Ok(())
        };
        let mut cursor = 0;
        let (mut dollar_outside, mut operator) = (false, false);
        for r in &refs {
            let literal = &raw[cursor..r.start];
            dollar_outside |= literal.contains('$');
            operator |= literal.contains("${");
            push(&mut out, literal)?;
            cursor = r.end;
            operator |= !r
                .name
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.');
            if r.default.is_some_and(|d| d.contains('$')) {
                compose.push(
                    "it expands variables inside a `${…:-default}`, which python-dotenv uses as written",
                );
            }
            push(&mut out, self.lookup(r, b.line, compose, notes))?;
        }
        let tail = &raw[cursor..];
        dollar_outside |= tail.contains('$');
        operator |= tail.contains("${");
        push(&mut out, tail)?;
        self.expanded_total += out.len();
        if self.expanded_total > MAX_EXPANDED_TOTAL {
            return Err(too_large(MAX_EXPANDED_TOTAL));
        }
        expansion_compose(b.quote, operator, dollar_outside, compose);
        Ok(out)
    }

    /// What one reference stands for: the environment, then the lines
    /// above, then its default; else empty, with a note why.
    fn lookup<'v>(
        &'v self,
        r: &Reference<'v>,
        line: usize,
        compose: &mut Vec<&'static str>,
        notes: &mut Vec<&'static str>,
    ) -> &'v str {
        let from_file = self
            .index
            .get(r.name)
            .map(|&i| self.entries[i].value.as_deref().unwrap_or(""));
        match self
            .environment
            .get(r.name)
            .map(String::as_str)
            .or(from_file)
        {
            Some(v) => {
                if v.is_empty() && r.default.is_some() {
                    compose.push(
                        "it uses the default of `${…:-default}` when the variable is set but empty; python-dotenv uses the empty value",
                    );
                }
                v
            }
            None => match r.default {
                Some(d) => d,
                None => {
                    notes.push(if self.last_line.get(r.name).is_some_and(|&l| l >= line) {
                        "refers with `${…}` to a variable set only on this line or further down, which python-dotenv replaces with an empty string; move the line below the one it refers to"
                    } else {
                        "refers with `${…}` to a variable set neither in the environment nor on an earlier line, which python-dotenv replaces with an empty string"
                    });
                    ""
                }
            },
        }
    }

    /// The warnings of one line. A line holding only a name (no `=`) may be
    /// a pasted token: such a name is never quoted.
    fn warn(&mut self, b: &Binding, notes: &[&str], compose: &[&str]) {
        let p = self.path.display();
        let line = b.line;
        let key = if b.value.is_some() {
            b.key.as_str()
        } else {
            "the name on this line"
        };
        for n in notes {
            self.warnings
                .push(format!("{p}:{line}: the value of {key} {n}"));
        }
        if b.padded {
            self.warnings.push(format!(
                "{p}:{line}: the value of {key} has spaces around it, which are dropped; quote the value if they belong to it"
            ));
        }
        if !compose.is_empty() {
            self.warnings.push(format!(
                "{p}:{line}: docker compose reads {key} differently: {}; release-kit reads it as python-dotenv (the app) does",
                compose.join("; ")
            ));
        }
    }

    /// Records an entry (the last line of a name wins), warning about
    /// repeated names and names without `=`.
    fn insert(&mut self, entry: FileEntry) {
        let p = self.path.display();
        let line = entry.line;
        match self.index.get(&entry.key) {
            Some(&i) => {
                let first = self.entries[i].line;
                if entry.value.is_none() && self.entries[i].value.is_some() {
                    let key = &entry.key;
                    self.warnings.push(format!(
                        "{p}:{line}: {key} is named again without `=` (also at line {first}): python-dotenv drops the earlier value and leaves {key} unset, docker compose keeps the earlier value; remove one of them"
                    ));
                } else if entry.value.is_none() {
                    self.warnings.push(format!(
                        "{p}:{line}: this line holds only a name, no `=` (as line {first} does): python-dotenv leaves it unset; write NAME=value, or remove the line"
                    ));
                } else {
                    let key = &entry.key;
                    self.warnings.push(format!(
                        "{p}:{line}: {key} is set again (also at line {first}); the last value is used, as python-dotenv and docker compose do; remove the others"
                    ));
                }
                self.entries[i] = entry;
            }
            None => {
                if entry.value.is_none() {
                    self.warnings.push(format!(
                        "{p}:{line}: this line holds only a name, no `=`: python-dotenv leaves it unset (the app sees only the environment's value); write NAME= for an empty value, or remove the line if it is a pasted value"
                    ));
                }
                self.index.insert(entry.key.clone(), self.entries.len());
                self.entries.push(entry);
            }
        }
    }
}

/// How docker compose's reading of an expanded value differs.
fn expansion_compose(
    quote: Quote,
    operator: bool,
    dollar_outside: bool,
    compose: &mut Vec<&'static str>,
) {
    if quote == Quote::Single {
        compose.push("it keeps `${…}` inside single quotes as written; python-dotenv expands it");
        return;
    }
    if operator {
        compose
            .push("it applies `${…}` forms python-dotenv does not know (`-`, `?`, `+`, nesting)");
    }
    if dollar_outside {
        compose.push("it substitutes `$NAME` and `$$` where python-dotenv keeps `$` as written");
    }
}
