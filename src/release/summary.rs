//! The end-of-release summary: a table for people, JSON for machines, and
//! a markdown table for the GitHub Actions step summary.

use std::time::Duration;

use serde::Serialize;

pub use crate::step::Status;

/// One row of the summary.
#[derive(Clone, Debug, Serialize)]
pub struct StepReport {
    /// The step's name.
    pub step: String,
    /// How it ended.
    pub status: Status,
    /// One line of detail (files, counts, where).
    pub detail: String,
    /// Wall time in seconds.
    pub seconds: f64,
    /// Of which, in external tools.
    pub tool_seconds: f64,
}

impl StepReport {
    /// A row.
    pub fn new(
        step: &str,
        status: Status,
        detail: impl Into<String>,
        took: Duration,
        in_tools: Duration,
    ) -> Self {
        StepReport {
            step: step.into(),
            status,
            detail: detail.into(),
            seconds: took.as_secs_f64(),
            tool_seconds: in_tools.as_secs_f64(),
        }
    }
}

/// A plain-text table.
pub fn table(rows: &[StepReport]) -> String {
    let w = rows.iter().map(|r| r.step.len()).max().unwrap_or(4).max(4);
    let mut out = format!(
        "{:w$}  {:8}  {:>7}  {:>7}  detail\n",
        "step", "status", "time", "tools"
    );
    for r in rows {
        out.push_str(&format!(
            "{:w$}  {:8}  {:>6.2}s  {:>6.2}s  {}\n",
            r.step,
            r.status.word(),
            r.seconds,
            r.tool_seconds,
            r.detail
        ));
    }
    out
}

/// A markdown table (GitHub step summary).
pub fn markdown(title: &str, rows: &[StepReport]) -> String {
    let mut out = format!("### {title}\n\n| step | status | time | detail |\n|---|---|---|---|\n");
    for r in rows {
        out.push_str(&format!(
            "| {} | {} | {:.1}s | {} |\n",
            r.step,
            r.status.word(),
            r.seconds,
            r.detail.replace('|', "\\|")
        ));
    }
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders() {
        let rows = vec![
            StepReport::new(
                "build",
                Status::Done,
                "2 files",
                Duration::from_millis(1500),
                Duration::from_secs(1),
            ),
            StepReport::new(
                "publish",
                Status::NotRun,
                "",
                Duration::ZERO,
                Duration::ZERO,
            ),
        ];
        let t = table(&rows);
        assert!(
            t.contains("build    done        1.50s    1.00s  2 files"),
            "{t}"
        );
        assert!(markdown("Release 1.0.0", &rows).contains("| publish | not run | 0.0s |  |"));
    }
}
