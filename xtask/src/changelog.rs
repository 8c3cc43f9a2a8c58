//! `cargo xtask changelog [VERSION]`

use clap::Args;
use release_kit::changelog;
use release_kit::preflight::PreflightError;

use crate::ctx::Ctx;

#[derive(Debug, Args)]
pub struct ChangelogArgs {
    /// The version whose notes to print (default: the newest released one,
    /// never [Unreleased]). Prints only the notes, for a GitHub release body.
    version: Option<String>,
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
