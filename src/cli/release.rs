//! `cargo xtask release`

use clap::Args;
use release_kit::release::{self, Mode, Part, ReleaseError, ReleaseOptions};

use release_kit::error::ExitClass;
use release_kit::step::CommandError;

use crate::cli::ctx::Ctx;

/// Release everything in order: build the sdist and wheel, package the
/// extension, publish to (Test)PyPI, publish the extension.
///
/// `--testpypi` is a rehearsal: the extension is packaged and checked but
/// never published to the Marketplace or Open VSX (a version there cannot
/// be published twice); the plan shows its publish as skipped. `--only`
/// and `--skip` leave steps out; the plan names every step either way.
///
/// In CI with native wheels the build is a matrix: `--plan-matrix` prints
/// the platforms to build on (JSON for `fromJSON`), each job runs
/// `cargo xtask build --target …` and uploads its artifact, and one job
/// downloads them all and runs `release --from-artifacts DIR`, which checks
/// every planned platform is there and publishes those files instead of
/// building (docs/release.md).
///
/// Every variable, tool, file and version every step needs is checked
/// first (exit 3, nothing uploaded anywhere): pyproject.toml, package.json
/// (in lockstep), the newest released CHANGELOG entry and, on a tag in
/// GitHub Actions, the tag must all name one version. A release that fails
/// half-way says what was done and can simply be run again.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    #[command(flatten)]
    target: crate::cli::publish::TargetArgs,
    /// Check everything and print the plan; build and upload nothing.
    #[arg(long, conflicts_with = "rehearse")]
    dry_run: bool,
    /// The whole pipeline with no credentials and no internet: a local
    /// pypiserver with a throwaway password, pip install from it into a
    /// fresh venv, the extension packaged. Everything is cleaned up after,
    /// even on Ctrl-C.
    #[arg(long, conflicts_with_all = ["testpypi", "repository_url", "check_url"])]
    rehearse: bool,
    #[command(flatten)]
    select: crate::cli::publish::SelectArgs,
    /// Print the GitHub Actions build matrix the Python packages need
    /// (JSON: {"include": [{name, os, target, manylinux, zig, artifact,
    /// packages, sdist, wheel}]}) and stop.
    #[arg(long, conflicts_with_all = ["rehearse", "dry_run", "from_artifacts"])]
    plan_matrix: bool,
    /// Release only one part: `python` (build, publish) or `vscode`
    /// (vsce-package, vsce-publish); the other steps are shown as skipped.
    #[arg(long, value_name = "PART", value_parser = ["python", "vscode"])]
    only: Option<String>,
    /// Leave out this step (repeatable): build, fan-in, vsce-package,
    /// publish, vsce-publish, hf-prefetch; shown as skipped in the plan.
    #[arg(long, value_name = "STEP")]
    skip: Vec<String>,
}

pub fn run(ctx: &Ctx, args: ReleaseArgs) -> anyhow::Result<()> {
    if args.plan_matrix {
        let project = ctx.project()?;
        let plan = release::plan_matrix(&project, args.select.package().as_deref())?;
        // One line: `echo "matrix=$(cargo xtask release --plan-matrix)" >> "$GITHUB_OUTPUT"`.
        ctx.out(serde_json::to_string(&plan)?);
        return Ok(());
    }
    let (settings, project) = ctx.load()?;
    let opts = ReleaseOptions {
        target: args.target.target(),
        mode: if args.rehearse {
            Mode::Rehearse
        } else if args.dry_run {
            Mode::DryRun
        } else {
            Mode::Release
        },
        echo: ctx.echo(),
        oidc_url: args.target.oidc_url(),
        check_url: args.target.check_url(),
        package: args.select.package(),
        from_artifacts: args.select.artifacts(),
        only: args.only.as_deref().map(|p| match p {
            "vscode" => Part::Vscode,
            _ => Part::Python,
        }),
        skip: args.skip,
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
            // After the table: what was done, and that re-running is safe.
            Err(CommandError::Reported {
                class: ExitClass::Failed,
                message: Some(message),
            }
            .into())
        }
        Err(ReleaseError::Preflight(e)) => Err(e.into()),
    }
}
