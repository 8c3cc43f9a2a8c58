//! `cargo xtask vsce-verify`, `vsce-package`, `vsce-publish`.

use clap::Args;
use release_kit::preflight::Preflight;
use release_kit::tools::Echo;
use release_kit::vscode::{npm, step, verify};

use crate::cli::ctx::Ctx;

#[derive(Debug, Args)]
pub struct VerifyArgs {}

#[derive(Debug, Args)]
pub struct PackageArgs {
    /// Mark the package as a pre-release (the version stays plain X.Y.Z;
    /// needs engines.vscode >= 1.63).
    #[arg(long)]
    pub pre_release: bool,
}

#[derive(Debug, Args)]
#[command(
    after_help = "Environment:\n  VSCE_PAT   Azure DevOps personal access token, scope Marketplace: Manage (or azure-credential = true in release-kit.toml for Microsoft Entra ID)\n  OVSX_PAT   when set, also publishes to Open VSX\n  VSCE_MARKETPLACE_URL, OVSX_REGISTRY_URL   other registries (tests, private galleries)\n\nExamples:\n  cargo xtask vsce-publish --dry-run\n  VSCE_PAT=... cargo xtask vsce-publish   (better: put it in .env)"
)]
pub struct PublishArgs {
    /// Publish as a pre-release (package with --pre-release first).
    #[arg(long)]
    pub pre_release: bool,
    /// Run every check and print the plan; upload nothing.
    #[arg(long)]
    pub dry_run: bool,
}

fn echo(ctx: &Ctx) -> Echo {
    ctx.echo()
}

fn tools(ctx: &Ctx, project: &release_kit::config::Project) -> anyhow::Result<npm::NodeTools> {
    Ok(npm::ensure(project, &|m| ctx.info(m))?)
}

pub fn run_verify(ctx: &Ctx, _args: VerifyArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    let mut pre = Preflight::new();
    let plan = verify::plan(&project, settings, &mut pre);
    let plan = pre.finish_with(plan)?;
    let tools = tools(ctx, &project)?;
    ctx.info(format!(
        "verifying {} for publisher '{}' at {} ...",
        plan.auth.describe(),
        plan.publisher,
        plan.url
    ));
    let report = verify::run(&plan, &tools, settings, echo(ctx))?;
    if ctx.global.json {
        ctx.json(&report)
    } else {
        ctx.out(&report.message);
        Ok(())
    }
}

pub fn run_package(ctx: &Ctx, args: PackageArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    let step = step::Package::new(args.pre_release);
    let packaged = ctx.run_step(&step, settings, &project)?;
    if ctx.global.json {
        ctx.json(&packaged)
    } else {
        ctx.out(format!("{}", packaged.path.display()));
        ctx.out(format!("  size    {} bytes", packaged.size));
        ctx.out(format!("  sha256  {}", packaged.sha256));
        Ok(())
    }
}

pub fn run_publish(ctx: &Ctx, args: PublishArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    let step = step::Publish::new(args.pre_release, false);
    let cx = ctx.step_context(settings, &project);
    let checked = release_kit::step::check(&step, &cx, Preflight::new())?;
    if args.dry_run {
        let view = checked.view()?;
        let plan = checked.plan();
        if ctx.global.json {
            return ctx.json(&serde_json::json!({ "dry_run": true, "plan": view }));
        }
        ctx.out(format!(
            "dry run: nothing is uploaded. Plan for {} {}{}:",
            view.extension,
            view.version,
            if view.pre_release {
                " (pre-release)"
            } else {
                ""
            }
        ));
        ctx.out(format!(
            "  1. vsce publish --skip-duplicate --packagePath {}{}{}",
            view.vsix.display(),
            if view.pre_release {
                " --pre-release"
            } else {
                ""
            },
            if matches!(plan.auth, release_kit::vscode::Auth::AzureCredential) {
                " --azure-credential"
            } else {
                ""
            }
        ));
        ctx.out(format!("     to {} with {}", view.marketplace, view.auth));
        ctx.out(format!("     {} bytes, sha256 {}", view.size, view.sha256));
        match &view.open_vsx {
            Some(url) => ctx.out(format!(
                "  2. ovsx publish --skip-duplicate {} to {url} with OVSX_PAT",
                view.vsix.display()
            )),
            None => ctx.out("  (Open VSX: skipped, OVSX_PAT is not set)"),
        }
        return Ok(());
    }
    let (_, report) = release_kit::step::execute(&step, checked, &cx)?;
    if ctx.global.json {
        return ctx.json(&report);
    }
    let view = &report.plan;
    ctx.out(format!(
        "Marketplace: {} {} {}",
        view.extension, view.version, report.marketplace
    ));
    if let Some(o) = report.open_vsx {
        ctx.out(format!(
            "Open VSX:    {} {} {o}",
            view.extension, view.version
        ));
    }
    Ok(())
}
