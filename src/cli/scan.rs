//! `cargo xtask scan`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use release_kit::scan::{self, Report, Scanner, git, ignore_file, live, walk};

use release_kit::error::ExitClass;
use release_kit::step::CommandError;

use crate::cli::ctx::Ctx;

/// Finds secrets: the credential formats this project handles (PyPI,
/// Anthropic, Hugging Face, GitHub, AWS, Azure DevOps, Redis URLs with a
/// password, hex keys assigned to *_KEY / *_TOKEN / *_SECRET / *_PAT,
/// random-looking values assigned to a secret's name) and every secret
/// currently loaded from .env and the environment, as itself, base64-,
/// URL- or hex-encoded. A finding names the rule or the variable and the
/// place, never the secret. Exit 1 when anything is found, 2 when a path
/// could not be read.
///
/// Allow a finding with an inline `xtask:allow` comment on its line, or
/// list its fingerprint in .xtask-scan-ignore at the repository root
/// (`--add-to-ignore FINGERPRINT…` appends those findings of this run,
/// `--add-to-ignore --all` every one).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo xtask scan                 the working tree (respects .gitignore)\n  cargo xtask scan docs/ README.md\n  cargo xtask scan --staged        what the next commit holds (the pre-commit hook runs this)\n  cargo xtask scan --history --json\n  cargo xtask scan --since origin/main --format sarif > scan.sarif   a pull request's lines, for code scanning"
)]
pub struct ScanArgs {
    /// Scan the index (what is about to be committed), not the working
    /// tree; a staged .env file other than .env.example is refused too.
    #[arg(long, conflicts_with_all = ["history", "paths"])]
    staged: bool,
    /// Scan every blob of every commit reachable from HEAD.
    #[arg(long, conflicts_with = "paths")]
    history: bool,
    /// Scan only the lines HEAD adds since it forked from REF (a pull
    /// request's lines: `--since origin/main`).
    #[arg(long, value_name = "REF", conflicts_with_all = ["staged", "history", "paths"])]
    since: Option<String>,
    /// How findings are printed: `text`, `json` (as --json), or `sarif`
    /// (SARIF 2.1.0, for GitHub code scanning).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Accept these findings of this run: append their fingerprints (as
    /// printed in brackets) to .xtask-scan-ignore. Each must be a finding
    /// of this run; `--all` instead of fingerprints accepts every finding.
    #[arg(long, value_name = "FINGERPRINT", num_args = 0..)]
    add_to_ignore: Option<Vec<String>>,
    /// With --add-to-ignore: accept every finding of this run.
    #[arg(long, requires = "add_to_ignore")]
    all: bool,
    /// Only the rules: do not search for the values loaded from .env and
    /// the environment.
    #[arg(long)]
    no_live: bool,
    /// Files or folders to scan (default: the whole working tree).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

/// How findings are printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One line per finding.
    Text,
    /// The whole report.
    Json,
    /// SARIF 2.1.0.
    Sarif,
}

pub fn run(ctx: &Ctx, args: ScanArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    check_add_to_ignore(&args)?;
    let root = release_kit::repo::root(ctx.global.root.as_deref(), &ctx.cwd)?;
    let settings = ctx.settings()?;
    let values = if args.no_live {
        Vec::new()
    } else {
        live::from_settings(settings)
    };
    let scanner = Scanner::new(true, &values)?;
    let ignored = ignore_file::load(&root)?;
    let redactor = settings.redactor();
    let (source, mut report) = if args.staged {
        ("index", git::scan_staged(&scanner, &root, redactor)?)
    } else if args.history {
        ("history", git::scan_history(&scanner, &root, redactor)?)
    } else if let Some(rev) = &args.since {
        (
            "lines added",
            scan::since::scan_since(&scanner, &root, rev, redactor)?,
        )
    } else {
        (
            "working tree",
            walk::scan_paths(&scanner, &root, &args.paths),
        )
    };
    report.finish(&ignored);
    let elapsed = started.elapsed();
    if let Some(wanted) = &args.add_to_ignore {
        add_to_ignore(ctx, &root, wanted, &ignored, &mut report)?;
    }
    let format = if ctx.global.json {
        Format::Json
    } else {
        args.format
    };
    let live: Vec<&str> = values.iter().map(|v| v.name.as_str()).collect();
    let summary = summary(source, &report, live.len(), elapsed.as_secs_f64());
    match format {
        Format::Sarif => {
            ctx.json(&scan::sarif::to_sarif(&report, env!("CARGO_PKG_VERSION")))?;
            ctx.info(summary);
        }
        Format::Json => ctx.json(&serde_json::json!({
            "root": root.display().to_string(),
            "source": source,
            "live_variables": live,
            "report": &report,
        }))?,
        Format::Text => {
            print(ctx, &report);
            ctx.info(summary);
            if !report.findings.is_empty() {
                ctx.info(hint(&report));
            }
        }
    }
    outcome(&report)
}

/// A bare `--add-to-ignore` is a usage error: accepting every finding is
/// said explicitly (`--all`), never by leaving the fingerprints out.
fn check_add_to_ignore(args: &ScanArgs) -> anyhow::Result<()> {
    let Some(wanted) = &args.add_to_ignore else {
        return Ok(());
    };
    let problem = match (wanted.is_empty(), args.all) {
        (true, false) => {
            "--add-to-ignore needs the fingerprints to accept \
             (`--add-to-ignore FINGERPRINT…`, as printed in brackets after each finding), \
             or `--add-to-ignore --all` to accept every finding of this run"
        }
        (false, true) => "give either fingerprints or --all to --add-to-ignore, not both",
        _ => return Ok(()),
    };
    Err(CommandError::usage(problem).into())
}

/// Appends the chosen findings (all of them when `wanted` is empty, i.e.
/// `--all`) to the ignore file and drops them from the report. A
/// fingerprint that is no finding of this run is exit 2, nothing written.
fn add_to_ignore(
    ctx: &Ctx,
    root: &std::path::Path,
    wanted: &[String],
    ignored: &ignore_file::IgnoreList,
    report: &mut Report,
) -> anyhow::Result<()> {
    let unknown: Vec<&String> = wanted
        .iter()
        .filter(|w| !report.findings.iter().any(|f| &f.fingerprint == *w))
        .collect();
    if !unknown.is_empty() {
        let mut lines: Vec<String> = unknown
            .iter()
            .map(|w| {
                let why = if ignored.contains(w) {
                    format!("already in {}", ignore_file::FILE_NAME)
                } else {
                    "not a finding of this scan".to_owned()
                };
                format!("--add-to-ignore {w}: {why}")
            })
            .collect();
        lines.push(
            "nothing was added; give fingerprints as this scan prints them \
             (in brackets after each finding), scanning the same paths"
                .to_owned(),
        );
        return Err(CommandError::Usage(lines).into());
    }
    let chosen = |f: &scan::Finding| wanted.is_empty() || wanted.contains(&f.fingerprint);
    let accepted: Vec<scan::Finding> = report
        .findings
        .iter()
        .filter(|f| chosen(f))
        .cloned()
        .collect();
    let file = ignore_file::path(root);
    let n = ignore_file::append(root, &accepted)
        .with_context(|| format!("updating {}", file.display()))?;
    ctx.info(format!(
        "added {n} fingerprint(s) to {}; commit it",
        file.display()
    ));
    report.findings.retain(|f| f.kind == "file" || !chosen(f));
    Ok(())
}

/// Exit 2 when a path could not be read (what it holds is unknown: never
/// a pass), else 1 when anything was found.
fn outcome(report: &Report) -> anyhow::Result<()> {
    if !report.errors.is_empty() {
        let mut lines = report.errors.clone();
        lines.push(format!(
            "{} path(s) could not be read, so the scan does not pass; \
             give paths that exist, or make them readable, and scan again",
            report.errors.len()
        ));
        return Err(CommandError::Usage(lines).into());
    }
    if report.findings.is_empty() {
        Ok(())
    } else {
        Err(CommandError::reported(ExitClass::Findings).into())
    }
}

fn print(ctx: &Ctx, report: &Report) {
    let width = report
        .findings
        .iter()
        .map(|f| f.location().len())
        .max()
        .unwrap_or(0);
    for f in &report.findings {
        ctx.out(format!(
            "{:width$}  {}  {}  [{}]",
            f.location(),
            f.what(),
            f.masked,
            f.fingerprint
        ));
    }
}

fn summary(source: &str, r: &Report, live: usize, secs: f64) -> String {
    let mut s = format!(
        "{} finding(s) in the {source}: {} file(s), {:.1} MB in {secs:.2} s ({} rules, {live} loaded secret(s) searched)",
        r.findings.len(),
        r.files,
        r.bytes as f64 / 1e6,
        scan::RULES.len(),
    );
    if r.binary > 0 {
        s.push_str(&format!("; {} binary file(s) skipped", r.binary));
    }
    if r.suppressed > 0 {
        s.push_str(&format!(
            "; {} allowed by {}",
            r.suppressed,
            ignore_file::FILE_NAME
        ));
    }
    s
}

fn hint(r: &Report) -> String {
    let mut s = String::new();
    if r.findings.iter().any(|f| f.kind == "file") {
        s.push_str(
            "a .env file is staged: unstage it (git rm --cached FILE) and make sure .gitignore has .env and .env.*\n",
        );
    }
    if r.findings.iter().any(|f| f.kind != "file") {
        s.push_str(&format!(
            "remove each secret (and rotate it: cargo xtask env rotate VAR), or, when a finding is fine, \
             allow it with an inline `{}` comment or its fingerprint in {} (--add-to-ignore FINGERPRINT…)",
            scan::ALLOW_MARKER,
            ignore_file::FILE_NAME
        ));
    }
    s.trim_end().to_owned()
}
