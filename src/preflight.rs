//! Up-front checks: every problem a command would meet, found before its
//! first side effect and reported together (ARCHITECTURE.md, "check first,
//! then act").
//!
//! A check records [`Problem`]s into a [`Preflight`]; [`Preflight::finish`]
//! turns them into a [`PreflightError`] (the CLI exits with code 3). A
//! check that stands alone returns `Result<_, Problem>` or
//! `Result<_, PreflightError>`, and [`Preflight::check`] /
//! [`Preflight::absorb`] collect those.

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

/// One thing that stops a command, found before anything changed: what is
/// wrong, where, and what to do. `file` and `line`, when known, point at
/// the place to fix (GitHub Actions annotates them).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// What is wrong and how to fix it.
    pub message: String,
    /// The file to fix.
    pub file: Option<PathBuf>,
    /// Its line (1-based).
    pub line: Option<usize>,
}

impl Problem {
    /// A problem with no particular place.
    pub fn new(message: impl Into<String>) -> Problem {
        Problem {
            message: message.into(),
            file: None,
            line: None,
        }
    }

    /// A problem at `file` (and `line`, when known).
    pub fn at(
        message: impl Into<String>,
        file: impl Into<PathBuf>,
        line: Option<usize>,
    ) -> Problem {
        Problem {
            message: message.into(),
            file: Some(file.into()),
            line,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.file, self.line) {
            (Some(file), Some(line)) => write!(f, "{}:{line}: {}", file.display(), self.message),
            (Some(file), None) => write!(f, "{}: {}", file.display(), self.message),
            _ => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Problem {}

impl From<String> for Problem {
    fn from(message: String) -> Problem {
        Problem::new(message)
    }
}

impl From<&str> for Problem {
    fn from(message: &str) -> Problem {
        Problem::new(message)
    }
}

/// Problems found before anything was changed. The CLI exits with code 3.
#[derive(Debug, Default)]
pub struct PreflightError {
    /// Each problem: what is wrong, where, and what to do.
    pub problems: Vec<Problem>,
}

impl PreflightError {
    /// A single problem.
    pub fn one(problem: impl Into<Problem>) -> PreflightError {
        PreflightError {
            problems: vec![problem.into()],
        }
    }
}

impl From<Problem> for PreflightError {
    fn from(p: Problem) -> PreflightError {
        PreflightError::one(p)
    }
}

impl fmt::Display for PreflightError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len();
        writeln!(
            f,
            "{n} problem{} found before anything was changed:",
            if n == 1 { "" } else { "s" }
        )?;
        for p in &self.problems {
            let text = p.to_string();
            let mut lines = text.lines();
            if let Some(first) = lines.next() {
                writeln!(f, "  - {first}")?;
            }
            for l in lines {
                writeln!(f, "    {l}")?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for PreflightError {}

/// Collects problems; [`Preflight::finish`] turns them into an error.
#[derive(Debug, Default)]
pub struct Preflight {
    problems: Vec<Problem>,
}

impl Preflight {
    /// An empty check.
    pub fn new() -> Preflight {
        Preflight::default()
    }

    /// Records a problem.
    pub fn problem(&mut self, problem: impl Into<Problem>) {
        self.problems.push(problem.into());
    }

    /// Records the problem of a result, returning its value if any.
    pub fn check<T, E: Into<Problem>>(&mut self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(e);
                None
            }
        }
    }

    /// Records every problem of a result, returning its value if any.
    pub fn absorb<T>(&mut self, result: Result<T, PreflightError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.problems.extend(e.problems);
                None
            }
        }
    }

    /// Adds the problems of a settings check.
    pub fn settings(&mut self, report: &crate::settings::CheckReport) {
        for p in &report.errors {
            self.problem(p.to_string());
        }
    }

    /// The problems so far.
    pub fn problems(&self) -> &[Problem] {
        &self.problems
    }

    /// `value` when nothing was found, otherwise every problem at once. A
    /// check that produced nothing and found no problem is a bug, reported
    /// as a problem rather than a panic.
    pub fn finish_with<T>(self, value: Option<T>) -> Result<T, PreflightError> {
        match (value, self.finish()) {
            (_, Err(e)) => Err(e),
            (Some(v), Ok(())) => Ok(v),
            (None, Ok(())) => Err(PreflightError::one(
                "a check produced nothing and found no problem; this is a bug in release-kit, \
                 please report it",
            )),
        }
    }

    /// `Ok` when nothing was found, otherwise every problem at once (a
    /// problem two checks both found is reported once).
    pub fn finish(self) -> Result<(), PreflightError> {
        let mut problems = self.problems;
        let mut seen = std::collections::HashSet::new();
        problems.retain(|p| seen.insert(p.to_string()));
        if problems.is_empty() {
            Ok(())
        } else {
            Err(PreflightError { problems })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_all() {
        let mut p = Preflight::new();
        p.problem("A is missing");
        p.check::<(), _>(Err("B is bad\nfix: do x"));
        p.problem("A is missing");
        p.problem(Problem::at("C is off", "f.toml", Some(3)));
        let e = p.finish().unwrap_err().to_string();
        assert!(e.starts_with("3 problems found before anything was changed:"));
        assert!(
            e.contains("  - A is missing\n  - B is bad\n    fix: do x\n  - f.toml:3: C is off"),
            "{e}"
        );
    }

    #[test]
    fn finish_with_gives_the_value_only_when_nothing_was_found() {
        assert_eq!(Preflight::new().finish_with(Some(7)).unwrap(), 7);
        let mut p = Preflight::new();
        p.problem("A is missing");
        let e = p.finish_with(Some(7)).unwrap_err();
        assert_eq!(e.problems[0].message, "A is missing");
        // Nothing produced and nothing found: a problem, never a panic.
        let e = Preflight::new().finish_with::<()>(None).unwrap_err();
        assert!(e.problems[0].message.contains("bug in release-kit"), "{e}");
    }
}
