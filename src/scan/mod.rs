//! The secret scanner: the credential formats this project handles
//! ([`rules`]) and the secrets actually loaded ([`live`]), searched in the
//! working tree ([`walk`]), the index or the history of a git repository
//! ([`git`]), or any file.
//!
//! A finding names the rule or the variable and where it is; the secret
//! itself is never kept: findings hold a masked preview and a fingerprint
//! (a hash of rule, file and secret) that an [`ignore_file`] can list.
//!
//! Text is scanned in blocks of whole lines: the rules' literal anchors
//! ([`anchors`]) tell which rules can match at all, and only those rules'
//! full patterns run (after a rule's cheap block check, where it has one);
//! the live forms are one more automaton. Blocks are at most
//! [`BLOCK`] bytes (longer lines excepted), so memory stays flat whatever
//! the size of a file or a blob.

mod anchors;
mod checks;
pub mod git;
pub mod ignore_file;
pub mod live;
pub mod rules;
pub mod sarif;
pub mod since;
pub mod walk;

use std::io::Read;

use regex::bytes::{Regex, RegexBuilder};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::secret::MASK;

pub use live::{Form, LiveValue};
pub use rules::{RULES, Rule};

/// The inline marker that silences findings on its line.
pub const ALLOW_MARKER: &str = "xtask:allow";

/// Text is scanned in blocks of whole lines of about this size.
pub const BLOCK: usize = 1 << 20;

/// How many leading bytes decide whether a file is binary (a NUL byte),
/// as git and grep do.
const BINARY_PROBE: usize = 8000;

/// One secret found. Holds no secret: a masked preview and a fingerprint.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Finding {
    /// The file, relative to the repository root where possible.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (characters).
    pub column: usize,
    /// The rule id (`hf-token`) or, for a live value, the variable's name.
    pub rule: String,
    /// `rule`, `live` (a loaded secret's value) or `file` (a staged `.env`).
    pub kind: &'static str,
    /// For a live value: `plain`, `base64` or `url-encoded`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<&'static str>,
    /// For history and staged scans: the commit (or `index`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The match with the secret replaced by the mask (`hf_********`).
    pub masked: String,
    /// Hash of rule, path and secret: what the ignore file lists.
    pub fingerprint: String,
}

impl Finding {
    /// `path:line:column` (with `commit:` in front for history).
    pub fn location(&self) -> String {
        match &self.commit {
            Some(c) => format!("{c}:{}:{}:{}", self.path, self.line, self.column),
            None => format!("{}:{}:{}", self.path, self.line, self.column),
        }
    }

    /// The rule and, for a live value, its encoding (`HF_TOKEN (base64)`).
    pub fn what(&self) -> String {
        match self.encoding {
            Some(e) if e != Form::Plain.name() => format!("{} ({e})", self.rule),
            _ => self.rule.clone(),
        }
    }
}

/// Where scanned text comes from.
#[derive(Clone, Debug)]
pub struct Origin {
    /// The path shown and fingerprinted.
    pub path: String,
    /// The commit, for history.
    pub commit: Option<String>,
}

impl Origin {
    /// A file of the working tree (or any file).
    pub fn file(path: impl Into<String>) -> Origin {
        Origin {
            path: path.into(),
            commit: None,
        }
    }
}

/// What a scan found and how much it read.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Report {
    /// Findings, sorted by place.
    pub findings: Vec<Finding>,
    /// Files (or blobs) read.
    pub files: u64,
    /// Bytes read.
    pub bytes: u64,
    /// Files skipped as binary.
    pub binary: u64,
    /// Findings dropped by the ignore file.
    pub suppressed: u64,
    /// Files that could not be read, with why (never their content).
    pub errors: Vec<String>,
}

impl Report {
    /// Adds another report's counts and findings.
    pub fn merge(&mut self, other: Report) {
        self.findings.extend(other.findings);
        self.files += other.files;
        self.bytes += other.bytes;
        self.binary += other.binary;
        self.suppressed += other.suppressed;
        self.errors.extend(other.errors);
    }

    /// Sorts findings by place and drops those the ignore file lists.
    pub fn finish(&mut self, ignored: &ignore_file::IgnoreList) {
        let before = self.findings.len();
        self.findings
            .retain(|f| f.kind == "file" || !ignored.contains(&f.fingerprint));
        self.suppressed += (before - self.findings.len()) as u64;
        self.findings.sort_by(|a, b| {
            (&a.commit, &a.path, a.line, a.column).cmp(&(&b.commit, &b.path, b.line, b.column))
        });
        // A file scanned twice (a log under the tree, given with --logs too).
        self.findings.dedup_by(|a, b| {
            (&a.commit, &a.path, a.line, a.column, &a.rule)
                == (&b.commit, &b.path, b.line, b.column, &b.rule)
        });
    }
}

/// Why a scanner could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    /// A rule's pattern does not compile (a bug in [`rules::RULES`]).
    #[error("scan rule {rule} does not compile: {reason}")]
    Rule {
        /// The rule id.
        rule: &'static str,
        /// The regex error.
        reason: String,
    },
    /// Too many or too long live values for one pattern.
    #[error(
        "the loaded secrets do not fit in one search pattern ({reason}); scan with fewer variables set"
    )]
    Live {
        /// The regex error (it never quotes the pattern's text here).
        reason: String,
    },
}

struct Compiled {
    rule: &'static Rule,
    regex: Regex,
    near: Option<Regex>,
}

/// The live values' forms in one automaton (one pass over a block finds
/// them all), and what each form stands for.
struct Live {
    automaton: aho_corasick::AhoCorasick,
    forms: Vec<(usize, Form)>,
    names: Vec<String>,
}

/// The compiled rules and live values. Its Debug names no value.
pub struct Scanner {
    anchors: anchors::Anchors,
    rules: Vec<Compiled>,
    live: Option<Live>,
}

impl std::fmt::Debug for Scanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Scanner")
            .field("rules", &self.rules.len())
            .field("live", &self.live.as_ref().map(|l| &l.names))
            .finish()
    }
}

fn compile(rule: &'static str, pattern: &str) -> Result<Regex, ScanError> {
    RegexBuilder::new(&format!("(?-u){pattern}"))
        .build()
        .map_err(|e| ScanError::Rule {
            rule,
            reason: e.to_string(),
        })
}

impl Scanner {
    /// A scanner for the rules (when `rules`) and these live values. Compile
    /// once, share across threads.
    pub fn new(rules: bool, live: &[LiveValue]) -> Result<Scanner, ScanError> {
        let mut compiled = Vec::new();
        if rules {
            for rule in RULES {
                compiled.push(Compiled {
                    rule,
                    regex: compile(rule.id, rule.pattern)?,
                    near: rule.near.map(|n| compile(rule.id, n)).transpose()?,
                });
            }
        }
        let live = Live::new(live)?;
        Ok(Scanner {
            anchors: anchors::Anchors::new(&compiled.iter().map(|c| c.rule).collect::<Vec<_>>())?,
            rules: compiled,
            live,
        })
    }

    /// True when there is nothing to search for.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty() && self.live.is_none()
    }

    /// Scans a stream (a file, a blob) block by block. Returns the bytes
    /// read, or `None` when the text is binary (a NUL byte near its start);
    /// the stream is read to its end either way. `buf` is reused.
    ///
    /// Each byte is read once and searched about once: a line longer than a
    /// block is searched in blocks that overlap by [`OVERLAP`] bytes, so time
    /// is linear and memory bounded whatever the length of a line.
    pub fn scan_reader(
        &self,
        reader: &mut dyn Read,
        origin: &Origin,
        buf: &mut Vec<u8>,
        out: &mut Vec<Finding>,
    ) -> std::io::Result<Option<u64>> {
        buf.clear();
        let mut total = 0u64;
        let mut place = Place::start();
        let mut first = true;
        loop {
            // `buf` holds no newline here: what is left of the last line.
            let old = buf.len();
            let want = BLOCK.saturating_sub(old).max(64 << 10);
            let n = (&mut *reader).take(want as u64).read_to_end(buf)?;
            total += n as u64;
            let eof = n < want;
            if std::mem::take(&mut first)
                && memchr::memchr(0, &buf[..buf.len().min(BINARY_PROBE)]).is_some()
            {
                std::io::copy(reader, &mut std::io::sink())?;
                return Ok(None);
            }
            if eof {
                self.scan_chunk(buf, place.clone(), buf.len(), origin, out);
                return Ok(Some(total));
            }
            if let Some(i) = memchr::memrchr(b'\n', &buf[old..]) {
                let end = old + i + 1;
                self.scan_chunk(&buf[..end], place.clone(), end, origin, out);
                place.next_lines(memchr::memchr_iter(b'\n', &buf[..end]).count());
                buf.drain(..end);
            } else if buf.len() >= BLOCK {
                // A long line: search it up to here, keep the tail.
                let cut = buf.len() - OVERLAP;
                self.scan_chunk(buf, place.clone(), cut + OVERLAP / 2, origin, out);
                place.continue_line(&buf[..cut]);
                buf.drain(..cut);
            }
        }
    }

    /// Scans one block of whole lines whose first line is `first_line`.
    pub fn scan_block(
        &self,
        block: &[u8],
        first_line: usize,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) {
        let place = Place {
            line: first_line,
            ..Place::start()
        };
        self.scan_chunk(block, place, block.len(), origin, out);
    }

    /// Scans `block`, reporting the secrets that start in `place.from..limit`.
    fn scan_chunk(
        &self,
        block: &[u8],
        place: Place,
        limit: usize,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) {
        let mut hits = Vec::new();
        if let Some(live) = &self.live {
            live.hits(block, &mut hits);
        }
        // Each rule's block check, run at most once, and only when asked.
        let mut checked: Vec<Option<bool>> = vec![None; self.rules.len()];
        let mut pass = |i: usize| {
            let precheck = self.rules[i].rule.precheck;
            *checked[i].get_or_insert_with(|| precheck.is_none_or(|check| check(block)))
        };
        let which = self.anchors.matched(block, &mut pass);
        if which.iter().all(Vec::is_empty) && hits.is_empty() {
            return;
        }
        for (i, (c, starts)) in self.rules.iter().zip(which).enumerate() {
            if !starts.is_empty() && pass(i) {
                c.hits(block, &starts, &mut hits);
            }
        }
        hits.retain(|h| (place.from..limit).contains(&h.s_start));
        hits.sort_by_key(|h| h.s_start);
        self.emit(block, place, hits, origin, out);
    }

    /// Turns hits into findings: line, column, mask, fingerprint; drops
    /// those on a line with the allow marker.
    fn emit(
        &self,
        block: &[u8],
        place: Place,
        hits: Vec<Hit>,
        origin: &Origin,
        out: &mut Vec<Finding>,
    ) {
        let (mut line, mut pos) = (place.line, 0usize);
        for h in hits {
            line += memchr::memchr_iter(b'\n', &block[pos..h.s_start]).count();
            pos = h.s_start;
            let line_start = memchr::memrchr(b'\n', &block[..h.s_start]).map_or(0, |i| i + 1);
            let line_end =
                memchr::memchr(b'\n', &block[h.s_start..]).map_or(block.len(), |i| h.s_start + i);
            if memchr::memmem::find(&block[line_start..line_end], ALLOW_MARKER.as_bytes()).is_some()
            {
                continue;
            }
            let carried = if line_start == 0 { place.column } else { 0 };
            let column = 1 + carried + chars(&block[line_start..h.s_start]);
            let secret = &block[h.s_start..h.s_end];
            let (rule, kind, encoding, masked) = match h.label {
                Label::Rule(r) => {
                    let mut shown =
                        String::from_utf8_lossy(&block[h.start..h.s_start]).into_owned();
                    shown.push_str(MASK);
                    shown.push_str(&String::from_utf8_lossy(&block[h.s_end..h.end]));
                    (r.id.to_owned(), "rule", None, shown.trim().to_owned())
                }
                Label::Live(name, encoding) => (
                    self.live.as_ref().expect("live hit").names[name].clone(),
                    "live",
                    Some(encoding.name()),
                    MASK.to_owned(),
                ),
            };
            out.push(Finding {
                fingerprint: fingerprint(&rule, &origin.path, secret),
                path: origin.path.clone(),
                line,
                column,
                rule,
                kind,
                encoding,
                commit: origin.commit.clone(),
                masked,
            });
        }
    }
}

/// How many bytes of a long line two consecutive blocks share: a secret
/// starting in the shared part is reported by the block that sees it with
/// half of this on either side.
const OVERLAP: usize = 64 << 10;

/// Where a block starts in its text.
#[derive(Clone, Debug)]
struct Place {
    /// The 1-based line of its first byte.
    line: usize,
    /// Characters of that line before the block (a long line's rest).
    column: usize,
    /// Secrets starting before this offset were reported already.
    from: usize,
}

impl Place {
    fn start() -> Place {
        Place {
            line: 1,
            column: 0,
            from: 0,
        }
    }

    fn next_lines(&mut self, n: usize) {
        *self = Place {
            line: self.line + n,
            ..Place::start()
        };
    }

    /// The block goes on after `done`, bytes of the same line.
    fn continue_line(&mut self, done: &[u8]) {
        self.column += chars(done);
        self.from = OVERLAP / 2;
    }
}

/// UTF-8 characters in `bytes` (continuation bytes not counted). Counted
/// per 255 bytes into a byte-wide sum, which vectorises 16 or 32 bytes to
/// an instruction (a long line's column is counted once per block).
fn chars(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|c| {
            let n = c
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b & 0xC0 != 0x80)));
            usize::from(n)
        })
        .sum()
}

/// One match: its extent, the secret's extent within it, and what it is.
struct Hit {
    start: usize,
    end: usize,
    s_start: usize,
    s_end: usize,
    label: Label,
}

impl Compiled {
    /// This rule's matches in `block`, but those overlapping a live value
    /// already in `hits` (the variable's name says more).
    /// A rule with a `span` runs only at its anchors' `starts` (sorted),
    /// on the span and one byte after it (for its `\b`).
    fn hits(&self, block: &[u8], starts: &[usize], hits: &mut Vec<Hit>) {
        let Some(span) = self.rule.span else {
            for caps in self.regex.captures_iter(block) {
                self.keep(block, &caps, hits);
            }
            return;
        };
        for &start in starts {
            let end = (start + span + 1).min(block.len());
            if let Some(caps) = self.regex.captures_at(&block[..end], start) {
                self.keep(block, &caps, hits);
            }
        }
    }

    /// Keeps one match when it passes the rule's checks.
    fn keep(&self, block: &[u8], caps: &regex::bytes::Captures<'_>, hits: &mut Vec<Hit>) {
        let (Some(all), Some(s)) = (caps.get(0), caps.name("s")) else {
            return;
        };
        if !(self.rule.check)(s.as_bytes()) {
            return;
        }
        if let (Some(named), Some(n)) = (self.rule.name, caps.name("n"))
            && !named(n.as_bytes())
        {
            return;
        }
        if let Some(near) = &self.near {
            let (a, b) = lines_around(block, s.start(), s.end(), self.rule.near_lines);
            if !near.is_match(&block[a..b]) {
                return;
            }
        }
        if hits.iter().any(|h| h.start < s.end() && s.start() < h.end) {
            return;
        }
        hits.push(Hit {
            start: all.start(),
            end: all.end(),
            s_start: s.start(),
            s_end: s.end(),
            label: Label::Rule(self.rule),
        });
    }
}

#[derive(Clone, Copy)]
enum Label {
    Rule(&'static Rule),
    Live(usize, Form),
}

impl Live {
    fn hits(&self, block: &[u8], hits: &mut Vec<Hit>) {
        for m in self.automaton.find_iter(block) {
            let (name, form) = self.forms[m.pattern().as_usize()];
            hits.push(Hit {
                start: m.start(),
                end: m.end(),
                s_start: m.start(),
                s_end: m.end(),
                label: Label::Live(name, form),
            });
        }
    }

    fn new(values: &[LiveValue]) -> Result<Option<Live>, ScanError> {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let mut forms = Vec::new();
        let mut names = Vec::new();
        for v in values {
            let idx = names.len();
            names.push(v.name.clone());
            for (form, text) in live::forms(&v.value) {
                let bytes = text.expose().as_bytes();
                if bytes.len() >= live::MIN_LEN && !patterns.iter().any(|p| p == bytes) {
                    patterns.push(bytes.to_vec());
                    forms.push((idx, form));
                }
            }
        }
        if patterns.is_empty() {
            return Ok(None);
        }
        // Leftmost-longest: the whole value wins over a form that is its
        // prefix.
        let automaton = aho_corasick::AhoCorasick::builder()
            .match_kind(aho_corasick::MatchKind::LeftmostLongest)
            .build(&patterns)
            .map_err(|e| ScanError::Live {
                reason: e.to_string(),
            })?;
        Ok(Some(Live {
            automaton,
            forms,
            names,
        }))
    }
}

/// The byte range of the `n` lines before and after `start..end` (whole
/// lines, within the block).
fn lines_around(block: &[u8], start: usize, end: usize, n: usize) -> (usize, usize) {
    let mut a = start;
    for _ in 0..=n {
        match memchr::memrchr(b'\n', &block[..a]) {
            Some(i) => a = i,
            None => {
                a = 0;
                break;
            }
        }
    }
    let mut b = end;
    for _ in 0..=n {
        match memchr::memchr(b'\n', &block[b.min(block.len())..]) {
            Some(i) => b += i + 1,
            None => {
                b = block.len();
                break;
            }
        }
    }
    (a, b.min(block.len()))
}

/// The fingerprint of a finding: the first 24 hex digits of
/// sha256(rule, path, secret). The secret cannot be read back from it.
pub fn fingerprint(rule: &str, path: &str, secret: &[u8]) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0]);
    h.update(path.as_bytes());
    h.update([0]);
    h.update(secret);
    h.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::Secret;
    use base64::Engine as _;

    const CANARY: &str = "CANARY-live-7f3a9c2e1d";

    fn live() -> Vec<LiveValue> {
        vec![LiveValue {
            name: "HF_TOKEN".into(),
            value: Secret::new(CANARY),
        }]
    }

    fn scan(text: &str) -> Vec<Finding> {
        let s = Scanner::new(true, &live()).unwrap();
        let mut out = Vec::new();
        let mut buf = Vec::new();
        s.scan_reader(
            &mut text.as_bytes(),
            &Origin::file("f.txt"),
            &mut buf,
            &mut out,
        )
        .unwrap();
        out
    }

    #[test]
    fn live_values_plain_base64_and_url_encoded() {
        let b64 = base64::engine::general_purpose::STANDARD.encode(format!("HF_TOKEN={CANARY}\n"));
        let url = crate::secret::percent_encode(&format!("{CANARY}/x"));
        let text = format!("one\ntwo {CANARY} three\n{b64}\n?t={url}\n");
        let found = scan(&text);
        let got: Vec<_> = found
            .iter()
            .map(|f| (f.line, f.rule.as_str(), f.encoding.unwrap()))
            .collect();
        assert_eq!(
            got,
            vec![
                (2, "HF_TOKEN", "plain"),
                (3, "HF_TOKEN", "base64"),
                (4, "HF_TOKEN", "plain")
            ]
        );
        assert_eq!(found[0].column, 5);
        let dbg = format!("{found:?}{:?}", Scanner::new(true, &live()).unwrap());
        assert!(!dbg.contains(CANARY) && !dbg.contains("7f3a9c"), "{dbg}");
    }

    /// A scanner without the rules that looks for one live REDIS_PASSWORD.
    fn redis_scanner(value: &str) -> Scanner {
        let live = [LiveValue {
            name: "REDIS_PASSWORD".into(),
            value: Secret::new(value),
        }];
        Scanner::new(false, &live).unwrap()
    }

    #[test]
    fn url_encoded_form_is_named() {
        let value = "CANARY pass/word+7f3a";
        let s = redis_scanner(value);
        let mut out = Vec::new();
        let text = format!("u=redis://:{}@h\n", crate::secret::percent_encode(value));
        s.scan_block(text.as_bytes(), 1, &Origin::file("x"), &mut out);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].encoding, Some("url-encoded"));
        assert_eq!(out[0].what(), "REDIS_PASSWORD (url-encoded)");
    }

    #[test]
    fn every_encoding_js_and_python_write() {
        let value = "CNRY p@ss/w+rd!7f3a";
        let s = redis_scanner(value);
        let hex: String = value.bytes().map(|b| format!("{b:02x}")).collect();
        let b64 = |pre: &str, engine: &base64::engine::GeneralPurpose| {
            engine.encode(format!("{pre}K={value}\n"))
        };
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let lines = [
            (
                "encodeURIComponent",
                "CNRY%20p%40ss%2Fw%2Brd!7f3a".to_owned(),
            ),
            ("quote", "CNRY%20p%40ss/w%2Brd%217f3a".to_owned()),
            ("quote_plus", "CNRY+p%40ss%2Fw%2Brd%217f3a".to_owned()),
            (
                "quote_plus, lower hex",
                "CNRY+p%40ss%2fw%2brd%217f3a".to_owned(),
            ),
            (
                "quote(safe=''), lower",
                "cnry".to_owned() + "%20p%40ss%2fw%2brd%217f3a",
            ),
            ("hex", hex.clone()),
            ("HEX", hex.to_ascii_uppercase()),
            ("base64 at 0", b64("", &STANDARD)),
            ("base64 at 1", b64("A", &STANDARD)),
            ("base64url at 2", b64("AB", &URL_SAFE_NO_PAD)),
        ];
        let text: String = lines.iter().map(|(w, l)| format!("{w}: x{l}y\n")).collect();
        let mut out = Vec::new();
        s.scan_block(text.as_bytes(), 1, &Origin::file("x"), &mut out);
        let got: Vec<_> = out.iter().map(|f| (f.line, f.encoding.unwrap())).collect();
        let want = [
            (1, "url-encoded"),
            (2, "url-encoded"),
            (3, "url-encoded"),
            (4, "url-encoded"),
            (6, "hex"),
            (7, "hex"),
            (8, "base64"),
            (9, "base64"),
            (10, "base64"),
        ];
        // Line 5 is not a form: `cnry` is not the value's case.
        assert_eq!(got, want);
    }

    #[test]
    fn lines_and_columns_across_blocks() {
        // Push the value past the first block: line numbers carry over.
        let filler = "é filler line\n".repeat(BLOCK / 10);
        let text = format!("{filler}ab {CANARY}\n");
        let found = scan(&text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, BLOCK / 10 + 1);
        assert_eq!(found[0].column, 4);
    }

    #[test]
    fn a_long_line_is_read_in_bounded_blocks_and_every_value_found() {
        // One line of 12 blocks, a value every BLOCK - 4097 bytes so that
        // some straddle the places where a block is cut.
        let step = BLOCK - 4097;
        let mut line = Vec::new();
        let mut columns = Vec::new();
        while line.len() < 12 * BLOCK {
            line.resize(line.len() + step - CANARY.len() - 2, b'a');
            line.extend_from_slice(format!(" {CANARY} ").as_bytes());
            columns.push(line.len() - CANARY.len());
        }
        line.extend_from_slice(b"\nnext\n");
        let s = Scanner::new(true, &live()).unwrap();
        let (mut out, mut buf) = (Vec::new(), Vec::new());
        let read = s
            .scan_reader(&mut line.as_slice(), &Origin::file("l"), &mut buf, &mut out)
            .unwrap();
        assert_eq!(read, Some(line.len() as u64));
        assert!(buf.capacity() <= 3 * BLOCK, "{}", buf.capacity());
        let got: Vec<_> = out.iter().map(|f| (f.line, f.column)).collect();
        let want: Vec<_> = columns.iter().map(|&c| (1, c)).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn binary_is_skipped() {
        let s = Scanner::new(true, &live()).unwrap();
        let mut out = Vec::new();
        let text = format!("\0\0{CANARY}");
        let r = s
            .scan_reader(
                &mut text.as_bytes(),
                &Origin::file("b"),
                &mut Vec::new(),
                &mut out,
            )
            .unwrap();
        assert_eq!(r, None);
        assert!(out.is_empty());
    }

    #[test]
    fn masked_preview_and_fingerprint_hide_the_secret() {
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"; // xtask:allow
        let found = scan(&format!("AUDIT_HMAC_KEY={key}\n"));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].masked, format!("AUDIT_HMAC_KEY={MASK}"));
        assert_eq!(found[0].fingerprint.len(), 24);
        assert!(!found[0].fingerprint.contains(&key[..8]));
        assert_eq!(
            found[0].fingerprint,
            fingerprint("hex-key", "f.txt", key.as_bytes())
        );
        assert_ne!(
            found[0].fingerprint,
            fingerprint("hex-key", "g.txt", key.as_bytes())
        );
    }

    #[test]
    fn a_live_value_matching_a_rule_is_reported_once_by_name() {
        let token = format!("hf_{}", "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuIo");
        let s = Scanner::new(
            true,
            &[LiveValue {
                name: "HF_TOKEN".into(),
                value: Secret::new(token.clone()),
            }],
        )
        .unwrap();
        let mut out = Vec::new();
        s.scan_block(
            format!("x={token}\n").as_bytes(),
            1,
            &Origin::file("x"),
            &mut out,
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].rule, "HF_TOKEN");
    }

    #[test]
    fn anchors_fold_case_only_where_the_rule_does() {
        let s = Scanner::new(true, &[]).unwrap();
        let on = |text: &str| -> Vec<&str> {
            let which = s.anchors.matched(text.as_bytes(), &mut |_| true);
            s.rules
                .iter()
                .zip(which)
                .filter(|(_, on)| !on.is_empty())
                .map(|(c, _)| c.rule.id)
                .collect()
        };
        assert_eq!(
            on("x AKIA y"),
            ["aws-access-key-id", "aws-secret-access-key"]
        );
        assert!(on("x akia GHP_ Hf_ y").is_empty());
        assert_eq!(
            on("Secret_Access_KEY"),
            ["aws-secret-access-key", "hex-key", "generic-secret"]
        );
        assert_eq!(on("REDISS://"), ["redis-url-password"]);
        assert_eq!(on("ghr_"), ["github-token"]);
    }

    #[test]
    fn characters_are_counted_as_utf8_has_them() {
        let text = "aé€😀".repeat(300);
        for cut in [0, 1, 254, 255, 256, 1000, text.len()] {
            let bytes = &text.as_bytes()[..cut];
            assert_eq!(
                chars(bytes),
                String::from_utf8_lossy(bytes).chars().count(),
                "{cut}"
            );
        }
        assert_eq!(chars(&[b'x'; 100_000]), 100_000);
    }

    /// Base64-ish text from a fixed seed: no secret, no `=`.
    fn blob(len: usize, seed: u64) -> String {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                B64[(x >> 58) as usize] as char
            })
            .collect()
    }

    #[test]
    fn secrets_inside_a_long_base64_line_are_found() {
        let key = "AKIAQWERTYUIOPASDF23";
        let secret = "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";
        let text = format!(
            "{} {key} {secret} {} api_key=\"aB3dE5fG7hJ9kL1mN3pQ5rS7tU\" {}\n",
            blob(1_500_000, 1),
            blob(200_000, 2),
            blob(1_500_000, 3)
        );
        let found = scan(&text);
        let got: Vec<_> = found.iter().map(|f| (f.line, f.rule.as_str())).collect();
        assert_eq!(
            got,
            [
                (1, "aws-access-key-id"),
                (1, "aws-secret-access-key"),
                (1, "generic-secret")
            ]
        );
        assert_eq!(found[0].column, 1_500_006, "after AKIA");
        assert!(scan(&blob(3_000_000, 4)).is_empty());
    }
}
