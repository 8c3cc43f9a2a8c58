//! `cargo xtask scan`

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context as _;
use clap::Args;
use release_kit::scan::{self, Report, Scanner, git, ignore_file, live, walk};

use crate::ctx::{Ctx, Exit};

/// Finds secrets: the credential formats this project handles (PyPI,
/// Anthropic, Hugging Face, AWS, Azure DevOps, Redis URLs with a password,
/// hex keys assigned to *_KEY / *_TOKEN / *_SECRET / *_PAT) and every
/// secret currently loaded from .env and the environment, as itself,
/// base64-encoded or URL-encoded. A finding names the rule or the variable
/// and the place, never the secret. Exit 1 when anything is found.
///
/// Allow a finding with an inline `xtask:allow` comment on its line, or
/// list its fingerprint in .xtask-scan-ignore at the repository root
/// (`--add-to-ignore` appends what this run finds).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo xtask scan                 the working tree (respects .gitignore)\n  cargo xtask scan docs/ README.md\n  cargo xtask scan --staged        what the next commit holds (the pre-commit hook runs this)\n  cargo xtask scan --history --json"
)]
pub struct ScanArgs {
    /// Scan the index (what is about to be committed), not the working
    /// tree; a staged .env file other than .env.example is refused too.
    #[arg(long, conflicts_with_all = ["history", "paths"])]
    staged: bool,
    /// Scan every blob of every commit reachable from HEAD.
    #[arg(long, conflicts_with = "paths")]
    history: bool,
    /// Append the fingerprints of this run's findings to .xtask-scan-ignore
    /// (accepting them) instead of failing.
    #[arg(long)]
    add_to_ignore: bool,
    /// Only the rules: do not search for the values loaded from .env and
    /// the environment.
    #[arg(long)]
    no_live: bool,
    /// Files or folders to scan (default: the whole working tree).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
}

pub fn run(ctx: &Ctx, args: ScanArgs) -> anyhow::Result<()> {
    let started = Instant::now();
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
    } else {
        (
            "working tree",
            walk::scan_paths(&scanner, &root, &args.paths),
        )
    };
    report.finish(&ignored);
    let elapsed = started.elapsed();
    for e in report.errors.iter().take(20) {
        ctx.warn(e);
    }
    if args.add_to_ignore {
        let n = ignore_file::append(&root, &report.findings)
            .with_context(|| format!("updating {}", ignore_file::path(&root).display()))?;
        ctx.info(format!(
            "added {n} fingerprint(s) to {}; commit it",
            ignore_file::path(&root).display()
        ));
        report.findings.retain(|f| f.kind == "file");
    }
    if ctx.global.json {
        ctx.json(&serde_json::json!({
            "root": root.display().to_string(),
            "source": source,
            "live_variables": values.iter().map(|v| v.name.as_str()).collect::<Vec<_>>(),
            "report": &report,
        }))?;
    } else {
        print(ctx, &report);
        ctx.info(summary(
            source,
            &report,
            values.len(),
            elapsed.as_secs_f64(),
        ));
    }
    if report.findings.is_empty() {
        Ok(())
    } else {
        if !ctx.global.json {
            ctx.info(hint(&report));
        }
        Err(Exit(release_kit::EXIT_FAILED as u8).into())
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
             allow it with an inline `{}` comment or its fingerprint in {} (--add-to-ignore)",
            scan::ALLOW_MARKER,
            ignore_file::FILE_NAME
        ));
    }
    s.trim_end().to_owned()
}
