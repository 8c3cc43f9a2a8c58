//! `twine check --strict`, and the record of the files it passed (by
//! sha256, next to the managed twine): build and publish both check here,
//! and neither checks again bytes twine passed before (the check reads
//! nothing but the file).

use std::path::PathBuf;

use super::package::DistFile;
use super::venv::{self, Tools};
use crate::secret::Redactor;
use crate::tools::{ChildError, Echo, tail};

/// What `twine check --strict` said of the files.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Every file passed (or had passed before).
    Passed,
    /// twine refused some: its last lines, redacted.
    Refused(String),
}

/// `twine check --strict` by twine's own entry point in a Python started
/// before the build, waiting for the file names on stdin: importing twine
/// (a quarter second) overlaps the build instead of following it. An empty
/// list (the build failed) exits at once.
const EARLY_TWINE: &str = "import sys\n\
import twine.__main__, twine.commands.check\n\
files = sys.stdin.read().splitlines()\n\
if not files:\n    sys.exit(0)\n\
sys.argv = ['twine', '--no-color', 'check', '--strict', *files]\n\
sys.exit(twine.__main__.main())\n";

/// Checks `files` with twine, the usual way: those whose bytes passed
/// before are skipped, those that pass now are recorded.
pub fn check(
    tools: &Tools,
    files: &[&DistFile],
    redactor: &Redactor,
    echo: Echo,
) -> Result<Verdict, ChildError> {
    EarlyCheck::none().check(tools, files, redactor, echo)
}

/// A `twine check` started ahead of the files it checks, or none (twine
/// from PATH, or it did not start): then it runs the usual way. Dropped
/// unused, it ends at once.
pub struct EarlyCheck(Option<crate::tools::Streaming>);

impl EarlyCheck {
    /// No early start: [`EarlyCheck::check`] runs twine the usual way.
    pub fn none() -> EarlyCheck {
        EarlyCheck(None)
    }

    /// Starts twine (the managed one) to wait for the file names.
    pub fn start(tools: &Tools, redactor: &Redactor) -> EarlyCheck {
        if tools.twine_exe.is_some() {
            return EarlyCheck(None);
        }
        let child = crate::tools::Child::new(&tools.python).args(["-c", EARLY_TWINE]);
        EarlyCheck(child.spawn_streaming(redactor, true).ok())
    }

    /// Checks the `files` twine has not passed before, and records them
    /// when they pass.
    pub fn check(
        &mut self,
        tools: &Tools,
        files: &[&DistFile],
        redactor: &Redactor,
        echo: Echo,
    ) -> Result<Verdict, ChildError> {
        let known = passed(tools);
        let unchecked: Vec<&DistFile> = files
            .iter()
            .copied()
            .filter(|f| !known.contains(&f.sha256))
            .collect();
        let paths: Vec<PathBuf> = unchecked.iter().map(|f| f.path.clone()).collect();
        let verdict = self.run(tools, &paths, redactor, echo)?;
        if verdict == Verdict::Passed {
            remember(tools, unchecked.iter().map(|f| f.sha256.as_str()));
        }
        Ok(verdict)
    }

    /// Runs twine over `files` (none: nothing to check).
    fn run(
        &mut self,
        tools: &Tools,
        files: &[PathBuf],
        redactor: &Redactor,
        echo: Echo,
    ) -> Result<Verdict, ChildError> {
        use std::io::{Read as _, Write as _};
        if files.is_empty() {
            // A started check reads no names and ends when dropped.
            return Ok(Verdict::Passed);
        }
        let Some(mut running) = self.0.take() else {
            let out = tools
                .twine()
                .args(["--no-color", "check", "--strict"])
                .args(files)
                .echo(echo)
                .run(redactor)?;
            return Ok(if out.status.success() {
                Verdict::Passed
            } else {
                Verdict::Refused(tail(&out.combined(), 20))
            });
        };
        let names: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
        if let Some(mut stdin) = running.stdin.take() {
            // A write error means twine ended early: its exit says why.
            let _ = stdin.write_all(names.as_bytes());
        }
        let mut stdout = String::new();
        let _ = running.stdout.read_to_string(&mut stdout);
        let stdout = redactor.redact(&stdout);
        if echo == Echo::Stderr {
            for line in stdout.lines() {
                eprintln!("  | {line}");
            }
        }
        match running.finish() {
            Ok(()) => Ok(Verdict::Passed),
            Err(ChildError::Failed { tail: stderr, .. }) => {
                Ok(Verdict::Refused(tail(&format!("{stdout}\n{stderr}"), 20)))
            }
            Err(e) => Err(e),
        }
    }
}

impl Drop for EarlyCheck {
    fn drop(&mut self) {
        if let Some(running) = self.0.take() {
            let _ = running.finish();
        }
    }
}

/// Where the sha256 of files that passed the managed twine's check are kept.
fn record(tools: &Tools) -> Option<PathBuf> {
    match &tools.source {
        venv::Source::Managed(dir) => Some(dir.join("twine-checked")),
        venv::Source::Path => None,
    }
}

/// The sha256 of files that passed `twine check --strict` before.
pub fn passed(tools: &Tools) -> Vec<String> {
    record(tools)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Records that files of these sha256 passed `twine check --strict`.
fn remember<'a>(tools: &Tools, sha256: impl IntoIterator<Item = &'a str>) {
    let Some(path) = record(tools) else {
        return;
    };
    // The newest few hundred; only a cache: a failed write means checking
    // again next time.
    let mut all = passed(tools);
    for h in sha256 {
        if !all.iter().any(|a| a == h) {
            all.push(h.to_owned());
        }
    }
    let keep = &all[all.len().saturating_sub(KEPT)..];
    let _ = std::fs::write(&path, keep.join("\n") + "\n");
}

/// How many checked files' hashes are remembered.
const KEPT: usize = 500;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pypi::package::Kind;

    fn file(dir: &std::path::Path, sha256: &str) -> DistFile {
        DistFile {
            path: dir.join(format!("{sha256}.whl")),
            name: format!("{sha256}.whl"),
            kind: Kind::Wheel,
            version: "1.0".into(),
            size: 1,
            sha256: sha256.into(),
        }
    }

    #[test]
    fn passed_bytes_are_not_checked_again_and_the_record_is_bounded() {
        let tmp = tempfile::tempdir().unwrap();
        // A twine that cannot start: only files needing no run pass.
        let tools = Tools {
            python: tmp.path().join("no-python"),
            twine_exe: Some(tmp.path().join("no-twine")),
            source: venv::Source::Managed(tmp.path().to_owned()),
        };
        let redactor = Redactor::default();
        let a = file(tmp.path(), "aa");
        assert!(check(&tools, &[&a], &redactor, Echo::Quiet).is_err());
        remember(&tools, ["aa"]);
        assert_eq!(passed(&tools), ["aa"]);
        assert_eq!(
            check(&tools, &[&a], &redactor, Echo::Quiet).unwrap(),
            Verdict::Passed
        );
        let many: Vec<String> = (0..KEPT + 5).map(|i| format!("{i:x}")).collect();
        remember(&tools, many.iter().map(String::as_str));
        let kept = passed(&tools);
        assert_eq!(kept.len(), KEPT);
        assert_eq!(
            kept.last().map(String::as_str),
            Some(many.last().unwrap().as_str())
        );
    }
}
