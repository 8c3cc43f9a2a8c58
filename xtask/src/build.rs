//! `cargo xtask build`

use clap::Args;
use release_kit::pypi::step::Build;

use crate::ctx::Ctx;

/// Build the Python package: sdist and wheel by `python -m build` into
/// dist/, checked by `twine check --strict`; files of other versions are
/// removed from dist/. On a GitHub Actions tag run, the tag must match the
/// package version.
#[derive(Debug, Args)]
pub struct BuildArgs {}

pub fn run(ctx: &Ctx, _args: BuildArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    let tag = ctx.actions().and_then(|a| a.tag().map(str::to_owned));
    let mut step = Build::new(tag);
    ctx.run_step(&mut step, settings, &project)?;
    let report = step.report().expect("a report after a run");
    if ctx.global.json {
        return ctx.json(report);
    }
    for r in &report.removed {
        ctx.info(format!("removed stale {r}"));
    }
    ctx.info("twine check --strict: passed");
    let width = report.files.iter().map(|f| f.name.len()).max().unwrap_or(0);
    for f in &report.files {
        ctx.out(format!(
            "{:width$}  {:>9} bytes  sha256 {}",
            f.name, f.size, f.sha256
        ));
    }
    Ok(())
}
