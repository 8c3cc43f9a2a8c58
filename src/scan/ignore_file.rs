//! The ignore file: fingerprints of findings that are known and accepted
//! (a test vector, a revoked key in old history). One fingerprint per line,
//! `#` starts a comment; the file holds hashes, never a secret.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{IoContext as _, IoError};

use super::Finding;

/// The file's name, at the repository root.
pub const FILE_NAME: &str = ".xtask-scan-ignore";

/// The fingerprints listed.
#[derive(Clone, Debug, Default)]
pub struct IgnoreList {
    fingerprints: HashSet<String>,
}

impl IgnoreList {
    /// True when `fingerprint` is listed.
    pub fn contains(&self, fingerprint: &str) -> bool {
        self.fingerprints.contains(fingerprint)
    }

    /// How many fingerprints are listed.
    pub fn len(&self) -> usize {
        self.fingerprints.len()
    }

    /// True when nothing is listed.
    pub fn is_empty(&self) -> bool {
        self.fingerprints.is_empty()
    }
}

/// The ignore file of the repository at `root`.
pub fn path(root: &Path) -> PathBuf {
    root.join(FILE_NAME)
}

/// Reads the ignore file at `root` (a missing file lists nothing).
pub fn load(root: &Path) -> Result<IgnoreList, IoError> {
    let p = path(root);
    let text = match std::fs::read_to_string(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(IgnoreList::default()),
        Err(e) => return Err(e).io_context(|| format!("cannot read {}", p.display())),
    };
    let fingerprints = text
        .lines()
        .map(|l| l.split('#').next().unwrap_or_default().trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    Ok(IgnoreList { fingerprints })
}

/// Appends the fingerprints of `findings` not listed yet, each with a
/// comment naming the rule and the place. Returns how many were added.
pub fn append(root: &Path, findings: &[Finding]) -> Result<usize, IoError> {
    let have = load(root)?;
    let p = path(root);
    let mut lines = String::new();
    let mut added = HashSet::new();
    for f in findings {
        if f.kind == "file" || have.contains(&f.fingerprint) || !added.insert(&f.fingerprint) {
            continue;
        }
        lines.push_str(&format!(
            "{}  # {} {}\n",
            f.fingerprint,
            f.what(),
            f.location()
        ));
    }
    if added.is_empty() {
        return Ok(0);
    }
    let new = !p.exists();
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&p)
        .io_context(|| format!("cannot write {}", p.display()))?;
    if new {
        lines.insert_str(
            0,
            "# Findings of `cargo xtask scan` accepted on purpose: one fingerprint\n\
             # (hash of rule, file and secret) per line. Never put a secret here.\n",
        );
    }
    file.write_all(lines.as_bytes())
        .io_context(|| format!("cannot write {}", p.display()))?;
    Ok(added.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(fp: &str) -> Finding {
        Finding {
            path: "a.txt".into(),
            line: 3,
            column: 1,
            rule: "HF_TOKEN".into(),
            kind: "live",
            encoding: Some("base64"),
            commit: None,
            masked: crate::secret::MASK.into(),
            fingerprint: fp.into(),
        }
    }

    #[test]
    fn append_then_load() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(load(tmp.path()).unwrap().is_empty());
        let fs = [finding("aaa111"), finding("bbb222"), finding("aaa111")];
        assert_eq!(append(tmp.path(), &fs).unwrap(), 2);
        assert_eq!(append(tmp.path(), &fs).unwrap(), 0);
        let list = load(tmp.path()).unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.contains("bbb222"));
        let text = std::fs::read_to_string(path(tmp.path())).unwrap();
        assert!(
            text.contains("aaa111  # HF_TOKEN (base64) a.txt:3:1\n"),
            "{text}"
        );
    }
}
