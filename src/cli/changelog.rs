//! `cargo xtask changelog [VERSION]`

use clap::Args;
use release_kit::preflight::PreflightError;
use release_kit::{changelog, release};

use crate::cli::ctx::Ctx;

#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// The version whose notes to print (default: the newest released one,
    /// never [Unreleased]). Prints only the notes, for a GitHub release body.
    version: Option<String>,
    /// Also check that every place names VERSION, as `release` does: the
    /// pyproject.toml of every package, package.json (in lockstep), the
    /// newest released entry, and the git tag in GitHub Actions (exit 3,
    /// each mismatch with its file and line).
    #[arg(long, requires = "version")]
    check: bool,
}

pub fn run(ctx: &Ctx, args: ChangelogArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    if !project.has_changelog() {
        return Err(PreflightError::one(
            "no changelog to read: release-kit.toml says [release] changelog = false; \
             set it to the project's Keep a Changelog file",
        )
        .into());
    }
    let file = project.changelog();
    if args.check {
        let tag = ctx.actions().and_then(|a| a.tag().map(str::to_owned));
        let mut pre = release_kit::preflight::Preflight::new();
        let given = args.version.clone();
        for t in tag.iter().chain(&given) {
            release::versions::check_into(&project, Some(t), &mut pre);
        }
        pre.finish()?;
    }
    let release = match &args.version {
        Some(v) => changelog::notes_for(&file, v.trim_start_matches('v')),
        None => changelog::newest(&file),
    }
    .map_err(|e| PreflightError::one(e.to_string()))?;
    if ctx.global.json {
        return ctx.json(&serde_json::json!({
            "version": release.version,
            "date": release.date,
            "notes": release.notes,
            "file": release.file.display().to_string(),
            "line": release.line,
        }));
    }
    ctx.out(&release.notes);
    Ok(())
}
