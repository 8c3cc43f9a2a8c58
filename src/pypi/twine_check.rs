//! `twine check --strict`, and the record of the files it passed (by
//! sha256, next to the managed twine): build and publish both check, and
//! neither checks bytes twine passed before.

use std::path::PathBuf;

use super::venv::{self, Tools};
use crate::secret::Redactor;
use crate::tools::{ChildError, Echo, tail};

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

/// The started `twine check`, or none (twine from PATH, or it did not
/// start): then it runs the usual way. Dropped unused, it ends at once.
pub struct EarlyCheck(Option<crate::tools::Streaming>);

impl EarlyCheck {
    /// No early check: `check` runs twine the usual way.
    pub fn none() -> EarlyCheck {
        EarlyCheck(None)
    }

    pub fn start(tools: &Tools, redactor: &Redactor) -> EarlyCheck {
        if tools.twine_exe.is_some() {
            return EarlyCheck(None);
        }
        let child = crate::tools::Child::new(&tools.python).args(["-c", EARLY_TWINE]);
        EarlyCheck(child.spawn_streaming(redactor, true).ok())
    }

    /// Checks `files`: `Ok(Err(output))` when twine refuses them.
    pub fn check(
        &mut self,
        tools: &Tools,
        files: &[PathBuf],
        redactor: &Redactor,
        echo: Echo,
    ) -> Result<Result<(), String>, ChildError> {
        use std::io::{Read as _, Write as _};
        if files.is_empty() {
            // A started check reads no names and ends when dropped.
            return Ok(Ok(()));
        }
        let Some(mut running) = self.0.take() else {
            let out = tools
                .twine()
                .args(["--no-color", "check", "--strict"])
                .args(files)
                .echo(echo)
                .run(redactor)?;
            return Ok(if out.status.success() {
                Ok(())
            } else {
                Err(tail(&out.combined(), 20))
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
            Ok(()) => Ok(Ok(())),
            Err(ChildError::Failed { tail: stderr, .. }) => {
                Ok(Err(tail(&format!("{stdout}\n{stderr}"), 20)))
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
fn checked_record(tools: &venv::Tools) -> Option<std::path::PathBuf> {
    match &tools.source {
        venv::Source::Managed(dir) => Some(dir.join("twine-checked")),
        venv::Source::Path => None,
    }
}

/// The sha256 of files that passed `twine check --strict` before.
pub(crate) fn checked(tools: &venv::Tools) -> Vec<String> {
    checked_record(tools)
        .and_then(|p| std::fs::read_to_string(p).ok())
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

/// Records that files of these sha256 passed `twine check --strict` (also
/// `build`'s check), so that publish does not check them again.
pub fn remember_checked<'a>(tools: &venv::Tools, sha256: impl IntoIterator<Item = &'a str>) {
    let Some(path) = checked_record(tools) else {
        return;
    };
    // The newest few hundred; only a cache: a failed write means checking
    // again next time.
    let mut all = checked(tools);
    for h in sha256 {
        if !all.iter().any(|a| a == h) {
            all.push(h.to_owned());
        }
    }
    let keep = &all[all.len().saturating_sub(CHECKED_KEPT)..];
    let _ = std::fs::write(&path, keep.join("\n") + "\n");
}

/// How many checked files' hashes are remembered.
const CHECKED_KEPT: usize = 500;
