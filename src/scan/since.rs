//! `scan --since REF`: only the lines a branch adds, for pull-request CI.
//! `git diff --unified=0 REF...HEAD` (from the merge base, so that what the
//! base branch gained meanwhile is not this branch's) streams through; each
//! run of added lines is scanned as a block at its line in the new file.

use std::io::BufRead as _;
use std::path::Path;

use super::git::{GitScanError, is_refused_env_file};
use super::{Finding, Origin, Report, Scanner};
use crate::secret::Redactor;
use crate::tools::Child;

/// Scans the lines added on HEAD since it forked from `rev`; files a
/// branch adds named `.env*` (but `.env.example`) are findings too.
pub fn scan_since(
    scanner: &Scanner,
    repo: &Path,
    rev: &str,
    redactor: &Redactor,
) -> Result<Report, GitScanError> {
    if rev.is_empty() || rev.starts_with('-') || rev.contains("..") {
        return Err(GitScanError::BadRevision(rev.to_owned()));
    }
    let mut diff = Child::new("git")
        .args([
            "-c",
            "core.quotePath=false",
            "diff",
            "--no-color",
            "--no-ext-diff",
        ])
        .args(["--unified=0", "--diff-filter=ACMRT", "--find-renames"])
        .arg(format!("{rev}...HEAD"))
        .arg("--")
        .current_dir(repo)
        .spawn_streaming(redactor, false)
        .map_err(|e| GitScanError::While {
            what: format!("cannot diff {} against {rev}", repo.display()),
            source: Box::new(e),
        })?;
    let mut report = Report::default();
    let mut hunk = Hunk::default();
    let mut line = Vec::new();
    while {
        line.clear();
        diff.stdout
            .read_until(b'\n', &mut line)
            .map_err(|e| GitScanError::While {
                what: format!("cannot read the diff against {rev}"),
                source: Box::new(e),
            })?
            > 0
    } {
        hunk.feed(scanner, &line, &mut report);
    }
    hunk.flush(scanner, &mut report);
    diff.finish().map_err(|e| GitScanError::While {
        what: format!(
            "cannot diff against {rev} (is it fetched? in CI: actions/checkout with fetch-depth: 0)"
        ),
        source: Box::new(e),
    })?;
    Ok(report)
}

/// The added lines being collected: the file, the line of the first, the
/// text.
#[derive(Default)]
struct Hunk {
    path: Option<String>,
    first: usize,
    next: usize,
    text: Vec<u8>,
}

impl Hunk {
    fn feed(&mut self, scanner: &Scanner, line: &[u8], report: &mut Report) {
        if let Some(path) = line.strip_prefix(b"+++ ") {
            self.flush(scanner, report);
            let path = String::from_utf8_lossy(path).trim_end().to_owned();
            self.path = path.strip_prefix("b/").map(str::to_owned);
            if let Some(p) = &self.path
                && is_refused_env_file(p)
            {
                report.findings.push(env_file(p));
            }
        } else if line.starts_with(b"@@ ") {
            self.flush(scanner, report);
            self.first = new_start(line).unwrap_or(1);
            self.next = self.first;
        } else if let Some(added) = line.strip_prefix(b"+")
            && self.path.is_some()
        {
            self.text.extend_from_slice(added);
            self.next += 1;
        } else if line.starts_with(b"Binary files ") {
            report.binary += 1;
        }
    }

    fn flush(&mut self, scanner: &Scanner, report: &mut Report) {
        if self.text.is_empty() {
            return;
        }
        let origin = Origin::file(self.path.clone().unwrap_or_default());
        scanner.scan_block(&self.text, self.first, &origin, &mut report.findings);
        report.files += 1;
        report.bytes += self.text.len() as u64;
        self.text.clear();
        self.first = self.next;
    }
}

/// `@@ -a,b +c,d @@` → `c`.
fn new_start(header: &[u8]) -> Option<usize> {
    let text = std::str::from_utf8(header).ok()?;
    let plus = text.split(' ').find(|w| w.starts_with('+'))?;
    plus[1..].split(',').next()?.parse().ok()
}

fn env_file(path: &str) -> Finding {
    Finding {
        path: path.to_owned(),
        line: 1,
        column: 1,
        rule: "env-file".into(),
        kind: "file",
        encoding: None,
        commit: None,
        masked: "a .env file; only .env.example may be committed".into(),
        fingerprint: super::fingerprint("env-file", path, b""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunk_headers() {
        assert_eq!(new_start(b"@@ -3,0 +4,2 @@ fn x()\n"), Some(4));
        assert_eq!(new_start(b"@@ -1 +1 @@\n"), Some(1));
        assert_eq!(new_start(b"@@ garbage\n"), None);
    }
}
