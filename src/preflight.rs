//! Up-front checks: every problem a command would meet, found before its
//! first side effect and reported together (DESIGN rule 2).

use std::fmt;

/// Problems found before anything was changed. The CLI exits with code 3.
#[derive(Debug, Default)]
pub struct PreflightError {
    /// Each problem: what is wrong, where, and what to do.
    pub problems: Vec<String>,
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
            let mut lines = p.lines();
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
    problems: Vec<String>,
}

impl Preflight {
    /// An empty check.
    pub fn new() -> Preflight {
        Preflight::default()
    }

    /// Records a problem.
    pub fn problem(&mut self, message: impl Into<String>) {
        self.problems.push(message.into());
    }

    /// Records the problem of a result, returning its value if any.
    pub fn check<T, E: fmt::Display>(&mut self, result: Result<T, E>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.problem(e.to_string());
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

    /// `Ok` when nothing was found, otherwise every problem at once.
    pub fn finish(self) -> Result<(), PreflightError> {
        if self.problems.is_empty() {
            Ok(())
        } else {
            Err(PreflightError {
                problems: self.problems,
            })
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
        let e = p.finish().unwrap_err().to_string();
        assert!(e.starts_with("2 problems found before anything was changed:"));
        assert!(e.contains("  - A is missing\n  - B is bad\n    fix: do x"));
    }
}
