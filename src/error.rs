//! Error pieces every layer shares: a file-system failure with what was
//! being done, and the one way an error and its causes become a line.

use std::error::Error as StdError;
use std::path::Path;

/// What kind of failure ended a command, which decides its exit code:
/// the CLI maps it in one place (`Ctx::finish`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitClass {
    /// A step failed while running (exit 1).
    Failed,
    /// The command line asks for what cannot be done (exit 2).
    Usage,
    /// Found before anything was changed (exit 3).
    Preflight,
    /// A check found something: secrets, a failed live check (exit 1).
    Findings,
}

impl ExitClass {
    /// The process exit code.
    pub fn code(self) -> u8 {
        let code = match self {
            ExitClass::Failed | ExitClass::Findings => crate::EXIT_FAILED,
            ExitClass::Usage => crate::EXIT_USAGE,
            ExitClass::Preflight => crate::EXIT_PREFLIGHT,
        };
        code as u8
    }
}

/// A file-system operation that failed: what was being done (names the
/// path), and the operating system's reason as the source.
#[derive(Debug, thiserror::Error)]
#[error("{what}")]
pub struct IoError {
    /// What was being done, e.g. "cannot create dist".
    pub what: String,
    /// Why.
    #[source]
    pub source: std::io::Error,
}

/// Names what an I/O operation was doing when it failed.
pub trait IoContext<T> {
    /// `what` when it fails (built only then).
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T, IoError>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T, IoError> {
        self.map_err(|source| IoError {
            what: what(),
            source,
        })
    }
}

/// `cannot <verb> <path>` for the common case.
pub fn cannot(verb: &str, path: &Path) -> impl FnOnce() -> String {
    let what = format!("cannot {verb} {}", path.display());
    move || what
}

/// An error and its causes on one line: `top: cause: cause`.
pub fn describe(e: &(dyn StdError + 'static)) -> String {
    let mut s = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cause = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_name_the_place_and_keep_the_reason() {
        let e = std::fs::read("/nonexistent/rk-file")
            .io_context(cannot("read", Path::new("/nonexistent/rk-file")))
            .unwrap_err();
        assert_eq!(e.to_string(), "cannot read /nonexistent/rk-file");
        let line = describe(&e);
        assert!(
            line.starts_with("cannot read /nonexistent/rk-file: "),
            "{line}"
        );
        assert!(line.len() > "cannot read /nonexistent/rk-file: ".len());
    }
}
