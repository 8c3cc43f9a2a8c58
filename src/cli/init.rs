//! `cargo xtask init`: adopt release-kit in a project.

use std::path::PathBuf;

use clap::Args;
use release_kit::init::{self, InitError, InitReport};

use crate::cli::ctx::Ctx;

/// Detect what the project holds (every pyproject.toml and its build
/// backend, a VS Code extension, the changelog) and write release-kit.toml,
/// .env.example and the .gitignore lines (.env, dist/) in the working
/// directory (or --root). Never replaces a file without --force.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// Write release-kit.toml and .env.example again even if they exist.
    #[arg(long)]
    pub force: bool,
    /// Also write the cargo-xtask crate: `xtask/` (one call into
    /// release-kit's CLI, a path dependency on the checkout at PATH —
    /// default: the one this command was built from; edit it to a git URL
    /// to share) and the `.cargo/config.toml` alias `cargo xtask`.
    #[arg(long, value_name = "PATH", num_args = 0..=1)]
    pub xtask: Option<Option<PathBuf>>,
}

/// The release-kit checkout this command was built from (the library's
/// own folder: the CLI is part of it).
fn own_checkout() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn run(ctx: &Ctx, args: InitArgs) -> anyhow::Result<()> {
    let root = match &ctx.global.root {
        Some(r) => std::path::absolute(r)?,
        None => ctx.cwd.clone(),
    };
    let kit = args.xtask.map(|p| {
        let p = p.unwrap_or_else(own_checkout);
        std::path::absolute(&p).unwrap_or(p)
    });
    let report = match init::write(&root, args.force, kit.as_deref()) {
        Ok(r) => r,
        Err(InitError::Preflight(p)) => return Err(p.into()),
        Err(InitError::Io(e)) => return Err(e.into()),
    };
    if ctx.global.json {
        return ctx.json(&report);
    }
    print(ctx, &root, &report);
    Ok(())
}

fn print(ctx: &Ctx, root: &std::path::Path, report: &InitReport) {
    let found = &report.detected;
    for p in &found.python {
        ctx.out(format!(
            "found Python package {} in {} (build backend: {})",
            p.name.as_deref().unwrap_or("(dynamic name)"),
            p.dir.display(),
            p.backend.as_deref().unwrap_or("setuptools, legacy")
        ));
    }
    if let Some(e) = &found.extension {
        ctx.out(format!(
            "found VS Code extension {} in {}",
            e.name.as_deref().unwrap_or("?"),
            e.dir.display()
        ));
    }
    match &found.changelog {
        Some(c) if found.changelog_is_markdown() => {
            ctx.out(format!("found changelog {}", c.display()))
        }
        Some(c) => ctx.warn(format!(
            "{} is not Keep a Changelog Markdown: the release will not read it (changelog = false)",
            c.display()
        )),
        None => ctx.out("no changelog found (changelog = false)"),
    }
    let rel = |p: &std::path::Path| p.strip_prefix(root).unwrap_or(p).display().to_string();
    for w in &report.written {
        ctx.out(format!("wrote {}", rel(w)));
    }
    for k in &report.kept {
        ctx.out(format!(
            "kept {} (it exists; --force writes it again)",
            rel(k)
        ));
    }
    if !report.gitignore_added.is_empty() {
        ctx.out(format!(
            "added to .gitignore: {}",
            report.gitignore_added.join(", ")
        ));
    }
    if !report.vscodeignore_added.is_empty() {
        ctx.out(format!(
            "added to the extension's .vscodeignore: {}",
            report.vscodeignore_added.join(", ")
        ));
    }
    ctx.info("next: read release-kit.toml, then `cargo xtask build` and `cargo xtask release --rehearse`");
}
