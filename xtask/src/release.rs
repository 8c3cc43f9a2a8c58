//! `cargo xtask release`

use clap::Args;
use release_kit::pypi::Target;
use release_kit::release::{self, Mode, ReleaseError, ReleaseOptions};

use crate::ctx::{Ctx, Exit};

/// Release everything in order: build the sdist and wheel, package the
/// extension, publish to (Test)PyPI, publish the extension.
///
/// Every variable, tool, file and version every step needs is checked
/// first (exit 3, nothing uploaded anywhere): pyproject.toml, package.json
/// (in lockstep), the newest released CHANGELOG entry and, on a tag in
/// GitHub Actions, the tag must all name one version. A release that fails
/// half-way says what was done and can simply be run again.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// Publish the Python package to TestPyPI (TWINE_PASSWORD_TEST).
    #[arg(long, conflicts_with_all = ["repository_url", "rehearse"])]
    testpypi: bool,
    /// Publish the Python package to this index (its upload URL).
    #[arg(long, value_name = "URL", conflicts_with = "rehearse")]
    repository_url: Option<String>,
    /// Check everything and print the plan; build and upload nothing.
    #[arg(long, conflicts_with = "rehearse")]
    dry_run: bool,
    /// The whole pipeline with no credentials and no internet: a local
    /// pypiserver with a throwaway password, pip install from it into a
    /// fresh venv, the extension packaged. Everything is cleaned up after,
    /// even on Ctrl-C.
    #[arg(long)]
    rehearse: bool,
    /// Trusted publishing endpoints' base URL (private warehouse, tests).
    #[arg(
        long,
        value_name = "URL",
        env = "RELEASE_KIT_OIDC_URL",
        hide_env_values = true
    )]
    oidc_url: Option<String>,
}

pub fn run(ctx: &Ctx, args: ReleaseArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    let opts = ReleaseOptions {
        target: match (args.testpypi, args.repository_url) {
            (true, _) => Target::TestPypi,
            (false, Some(url)) => Target::Custom { url },
            (false, None) => Target::Pypi,
        },
        mode: if args.rehearse {
            Mode::Rehearse
        } else if args.dry_run {
            Mode::DryRun
        } else {
            Mode::Release
        },
        echo: ctx.echo(),
        oidc_url: args.oidc_url.filter(|u| !u.trim().is_empty()),
    };
    let env = |k: &str| std::env::var(k).ok();
    match release::run(&project, settings, &opts, &env, ctx) {
        Ok(report) => {
            if ctx.global.json {
                return ctx.json(&report);
            }
            ctx.out(format!(
                "\n{}",
                release::summary::table(&report.steps).trim_end()
            ));
            ctx.out(format!(
                "\n{} {} in {:.1}s ({:.1}s in external tools, {:.1}s in release-kit)",
                match report.mode {
                    Mode::Release => "released",
                    Mode::DryRun => "checked (dry run)",
                    Mode::Rehearse => "rehearsed",
                },
                report.version,
                report.seconds,
                report.tool_seconds,
                (report.seconds - report.tool_seconds).max(0.0)
            ));
            Ok(())
        }
        Err(ReleaseError::Failed { report, message }) => {
            if ctx.global.json {
                ctx.json(&report)?;
            } else {
                ctx.out(format!(
                    "\n{}",
                    release::summary::table(&report.steps).trim_end()
                ));
            }
            eprintln!("error: {}", ctx.redactor().redact(&message));
            Err(Exit(release_kit::EXIT_FAILED as u8).into())
        }
        Err(ReleaseError::Preflight(e)) => Err(e.into()),
    }
}
