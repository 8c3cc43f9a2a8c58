//! `cargo xtask hooks install|uninstall`

use clap::Subcommand;
use release_kit::hooks::{self, Installed, Uninstalled};

use crate::cli::ctx::Ctx;

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Install the pre-commit guard: every commit runs `scan --staged`,
    /// which refuses staged secrets and any .env file but .env.example.
    /// Safe to run again; a pre-commit hook already there keeps working
    /// (it runs first).
    Install,
    /// Remove the guard and put back the hook it chained to.
    Uninstall,
}

pub fn run(ctx: &Ctx, cmd: HooksCommand) -> anyhow::Result<()> {
    let dir = release_kit::repo::root(ctx.global.root.as_deref(), &ctx.cwd)?;
    let paths = hooks::paths(&dir)?;
    match cmd {
        HooksCommand::Install => {
            let command = command_for(&dir)?;
            let what = match hooks::install(&paths, &command)? {
                Installed::Fresh => "installed".to_string(),
                Installed::Refreshed => "already installed; refreshed".to_string(),
                Installed::Chained(saved) => format!(
                    "installed; the hook that was there now lives at {} and runs first",
                    saved.display()
                ),
            };
            ctx.info(format!(
                "{}: {what} (runs `{command} scan --staged`)",
                paths.hook.display()
            ));
        }
        HooksCommand::Uninstall => {
            let what = match hooks::uninstall(&paths)? {
                Uninstalled::Removed => "removed".to_string(),
                Uninstalled::Restored(_) => "removed; the hook it chained to is back".to_string(),
                Uninstalled::NotInstalled => "not installed; nothing to do".to_string(),
            };
            ctx.info(format!("{}: {what}", paths.hook.display()));
        }
    }
    Ok(())
}

/// How the hook calls us: `cargo xtask` in a workspace that defines the
/// alias (always the current build), else this binary by its path.
fn command_for(dir: &std::path::Path) -> anyhow::Result<String> {
    let top = release_kit::repo::toplevel(dir).unwrap_or_else(|| dir.to_owned());
    let config = std::fs::read_to_string(top.join(".cargo/config.toml")).unwrap_or_default();
    if config.lines().any(|l| l.trim_start().starts_with("xtask")) {
        return Ok("cargo xtask".into());
    }
    let exe = std::env::current_exe()?;
    Ok(hooks::shell_quote(&exe.to_string_lossy()))
}
