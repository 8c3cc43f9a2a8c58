//! The scanner's prefilter: which rules have one of their literal anchors
//! in a block, and where.
//!
//! Two automata. The exact-case anchors (`AKIA`, `ghp_`, `hf_`, …) are
//! one case-sensitive automaton, which a SIMD literal prefilter (Teddy)
//! runs ahead of, so text without them is skipped at memory speed. The
//! ASCII-case-folded anchors (`key`, `token`, `azure`, …) are short and
//! common in every case: their automaton walks every byte, so it runs only
//! when one of the rules it anchors passes its cheap block check (a blob
//! with no `=`, `:` or `,` cannot hold an assignment).

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use super::ScanError;
use super::rules::{Anchor, Rule};

/// Automata over some anchors, and the rules (by index) each of its
/// literals stands for.
struct Set {
    /// Leftmost-first, for the pass over a block: the kind the SIMD
    /// prefilter (Teddy) is built for.
    pass: AhoCorasick,
    /// Standard, for the overlapping search around each hit of the pass.
    all: AhoCorasick,
    owners: Vec<Vec<usize>>,
    /// The longest literal's length.
    max_len: usize,
}

impl Set {
    /// The set of `literals` (with their rules), `None` when there are none.
    fn new(literals: Vec<(Vec<u8>, Vec<usize>)>, fold: bool) -> Result<Option<Set>, ScanError> {
        if literals.is_empty() {
            return Ok(None);
        }
        let build = |kind| {
            AhoCorasick::builder()
                .ascii_case_insensitive(fold)
                .kind(Some(AhoCorasickKind::DFA))
                .match_kind(kind)
                .build(literals.iter().map(|(l, _)| l))
                .map_err(|e| ScanError::Rule {
                    rule: "(anchors)",
                    reason: e.to_string(),
                })
        };
        Ok(Some(Set {
            pass: build(MatchKind::LeftmostFirst)?,
            all: build(MatchKind::Standard)?,
            max_len: literals.iter().map(|(l, _)| l.len()).max().unwrap_or(0),
            owners: literals.into_iter().map(|(_, o)| o).collect(),
        }))
    }

    /// Records in `which` where each rule's anchors start in `block`.
    fn matched(&self, block: &[u8], which: &mut [Vec<usize>]) {
        // A fast non-overlapping pass finds each leftmost hit; the hits it
        // hides start inside that one, so an overlapping search of the
        // small window from its start alone recovers them.
        for m in self.pass.find_iter(block) {
            let from = m.start();
            let to = block.len().min(m.end() + self.max_len);
            for w in self.all.find_overlapping_iter(&block[from..to]) {
                let start = from + w.start();
                if start < m.end() {
                    for &rule in &self.owners[w.pattern().as_usize()] {
                        which[rule].push(start);
                    }
                }
            }
        }
    }
}

/// Every rule's anchors: one pass of each automaton over a block tells
/// which rules can match in it.
pub(super) struct Anchors {
    exact: Option<Set>,
    fold: Option<Set>,
    /// The rules (by index) with a folded anchor.
    fold_rules: Vec<usize>,
    rules: usize,
}

impl Anchors {
    pub(super) fn new(rules: &[&'static Rule]) -> Result<Anchors, ScanError> {
        // Per automaton, each distinct literal (folded for the folding one)
        // with the rules it anchors.
        let mut exact: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
        let mut fold: Vec<(Vec<u8>, Vec<usize>)> = Vec::new();
        let mut fold_rules = Vec::new();
        for (i, rule) in rules.iter().enumerate() {
            for anchor in rule.anchors {
                let (set, literal) = match *anchor {
                    Anchor::Exact(t) => (&mut exact, t.as_bytes().to_vec()),
                    Anchor::Fold(t) => {
                        if fold_rules.last() != Some(&i) {
                            fold_rules.push(i);
                        }
                        (&mut fold, t.to_ascii_lowercase().into_bytes())
                    }
                };
                match set.iter_mut().find(|(l, _)| *l == literal) {
                    Some((_, owners)) => owners.push(i),
                    None => set.push((literal, vec![i])),
                }
            }
        }
        Ok(Anchors {
            exact: Set::new(exact, false)?,
            fold: Set::new(fold, true)?,
            fold_rules,
            rules: rules.len(),
        })
    }

    /// Where each rule (by index) has an anchor in `block`, sorted; empty
    /// for a rule that cannot match. `gate` says whether a rule passes its
    /// block check: the folded anchors are searched only when a rule they
    /// anchor does (the others' anchor lists may then be left empty).
    pub(super) fn matched(
        &self,
        block: &[u8],
        gate: &mut dyn FnMut(usize) -> bool,
    ) -> Vec<Vec<usize>> {
        let mut which = vec![Vec::new(); self.rules];
        if let Some(set) = &self.exact {
            set.matched(block, &mut which);
        }
        if let Some(set) = &self.fold
            && self.fold_rules.iter().any(|&r| gate(r))
        {
            set.matched(block, &mut which);
        }
        for starts in &mut which {
            starts.sort_unstable();
            starts.dedup();
        }
        which
    }
}

#[cfg(test)]
mod tests {
    use super::Anchor;
    use crate::scan::checks::github_sample;
    use crate::scan::{Finding, Origin, Place, Scanner};

    /// What the scanner finds in `block` without any prefilter: every
    /// rule's full pattern over the whole block, then the same checks.
    fn unfiltered(s: &Scanner, block: &[u8]) -> Vec<Finding> {
        let mut hits = Vec::new();
        for c in &s.rules {
            for caps in c.regex.captures_iter(block) {
                c.keep(block, &caps, &mut hits);
            }
        }
        hits.sort_by_key(|h| h.s_start);
        let mut out = Vec::new();
        s.emit(block, Place::start(), hits, &Origin::file("c"), &mut out);
        out
    }

    fn filtered(s: &Scanner, block: &[u8]) -> Vec<Finding> {
        let mut out = Vec::new();
        s.scan_block(block, 1, &Origin::file("c"), &mut out);
        out
    }

    /// Base64 text from a fixed seed, with `=` or `:` every `sep` bytes
    /// when `sep` is not 0.
    fn blob(len: usize, seed: u64, sep: usize) -> String {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut x = seed;
        (0..len)
            .map(|i| {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                match sep {
                    0 => B64[(x >> 58) as usize] as char,
                    _ if i % sep == sep - 1 => [':', '=', '_', ','][(x >> 62) as usize],
                    _ => B64[(x >> 58) as usize] as char,
                }
            })
            .collect()
    }

    /// Where each rule's anchors start in `block`, position by position.
    fn brute_force(block: &[u8]) -> Vec<Vec<usize>> {
        crate::scan::RULES
            .iter()
            .map(|rule| {
                (0..block.len())
                    .filter(|&i| {
                        rule.anchors.iter().any(|a| match *a {
                            Anchor::Exact(t) => block[i..].starts_with(t.as_bytes()),
                            Anchor::Fold(t) => {
                                block.len() - i >= t.len()
                                    && block[i..i + t.len()].eq_ignore_ascii_case(t.as_bytes())
                            }
                        })
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn every_anchor_hit_is_found_overlapping_ones_too() {
        let s = Scanner::new(true, &[]).unwrap();
        // Pieces of anchors, run together so that hits overlap and hide
        // each other (`ACCAKIA`, `SECRET_ACCESS_KEY`, `ghp_at`).
        let pieces = [
            "A",
            "ACCA",
            "KIA",
            "AKIA",
            "A3T",
            "SIA",
            "secret",
            "_",
            "access",
            "key",
            "KEY",
            "Secret",
            "ghp_",
            "at",
            "pat",
            "hf_",
            "rediss://",
            "Azure",
            "vsce",
            "x",
            " ",
            "AZDO",
            "devops",
            "github_pat_",
            "api_org_",
            "JQQJ99",
            "sk-ant-",
            "pypi-AgE",
            "toKen",
            "pwd",
        ];
        let mut x = 11u64;
        for _ in 0..2000 {
            let mut block = String::new();
            for _ in 0..40 {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                block.push_str(pieces[(x >> 33) as usize % pieces.len()]);
            }
            assert_eq!(
                s.anchors.matched(block.as_bytes(), &mut |_| true),
                brute_force(block.as_bytes()),
                "{block}"
            );
        }
    }

    /// One sample of each rule, built from pieces.
    fn samples() -> Vec<String> {
        let aws_id = format!("AKIA{}", "Z7QWERTY2ASDFGH3");
        let aws_secret = "k9Lm/2PqRsTu+VwXyZ0aBcDeFgHiJkLmNoPqRsTu"; // xtask:allow
        vec![
            format!(
                "TWINE_PASSWORD=pypi-AgEIcHlwaS5vcmc{}",
                "Q2xCdWlsZGVyVG9rZW4K7x_-9".repeat(4)
            ),
            format!("sk-ant-api03-{}AA", "Zk3Qx9-Lm2_PqRsTuVw".repeat(5)),
            format!("HF_TOKEN=hf_{}", "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuIo"),
            github_sample("ghp_", "Zq8mLk2PwX9sVb4nRt7yHc3JdF6gAe"),
            format!(
                "GH_TOKEN=github_pat_{}_{}",
                "11AZQ3KXY0aB7cD9eF2gH4",
                "kL8mN1pQ5rS3tU6vW0xY2zA4bC7dE9fG1hJ3kL5mN7pQ9rS2tU4vW6xY8zA"
            ),
            format!("api_org_{}", "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuIo"),
            format!("id: ASIA{}", "Z7QWERTY2ASDFGH3"),
            format!("{aws_id}\naws_secret_access_key = {aws_secret}"),
            format!("SecretKey={aws_secret}"),
            format!(
                "token: {}JQQJ99{}AZDO{}",
                "FBdFol081crwkIHWJH2yiqDDyrFjVSi7HWl22hN2hTYfsB8NlGDp",
                "BACAAAAAAAAAAAASAZ",
                "BucT"
            ),
            "VSCE_PAT=q7zk4mdkfhwu5rnp2c3xvt6yblj4ahs7ewq3oiz2ukrdme5ntpfa".into(), // xtask:allow
            "# Azure\nq7zk4mdkfhwu5rnp2c3xvt6yblj4ahs7ewq3oiz2ukrdme5ntpfa".into(), // xtask:allow
            "REDIS_URL=REDIS://:s3cr3tPw9x@cache.internal:6379/0".into(),           // xtask:allow
            "AUDIT_HMAC_KEY=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
                .into(),
            "const clientSecret: string = 'Zq8mLk2PwX9sVb4nRt7y';".into(),
            "System.setProperty(\"X_TOKEN\", \"Zq8mLk2PwX9sVb4nRt7y\");".into(),
        ]
    }

    /// The prefilters (anchors, folded anchors gated by block checks,
    /// spans) change no finding: the scanner finds what every rule's full
    /// pattern over every block finds, on the samples alone, inside long
    /// base64 blobs (with and without the bytes the block checks look
    /// for), and on this repository's own sources and docs.
    #[test]
    fn prefilters_change_no_finding() {
        let s = Scanner::new(true, &[]).unwrap();
        let mut corpus: Vec<Vec<u8>> = Vec::new();
        for (i, sample) in samples().iter().enumerate() {
            corpus.push(sample.clone().into_bytes());
            for sep in [0, 7, 64, 5000] {
                let (a, b) = (blob(9000, i as u64, sep), blob(3000, 99 + i as u64, sep));
                corpus.push(format!("{a} {sample} {b}").into_bytes());
                corpus.push(format!("{a}\n{sample}\n{b}").into_bytes());
                corpus.push(format!("{a}{sample}{b}").into_bytes());
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for dir in ["src/scan", "src/settings", "docs", "tests/dotenv_corpus"] {
            for entry in std::fs::read_dir(root.join(dir)).unwrap() {
                let path = entry.unwrap().path();
                if path.is_file() {
                    corpus.push(std::fs::read(path).unwrap());
                }
            }
        }
        let mut rules = std::collections::BTreeSet::new();
        for block in &corpus {
            let want = unfiltered(&s, block);
            assert_eq!(
                filtered(&s, block),
                want,
                "{:?}",
                String::from_utf8_lossy(&block[..block.len().min(200)])
            );
            rules.extend(want.into_iter().map(|f| f.rule));
        }
        // Not vacuous: every rule fires somewhere in the corpus.
        assert_eq!(rules.len(), crate::scan::RULES.len(), "{rules:?}");
    }
}
