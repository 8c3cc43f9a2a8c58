//! `cargo xtask setup`

use clap::Args;
use release_kit::preflight::Preflight;
use release_kit::step::StepError;

use crate::cli::ctx::Ctx;

/// Provision the pinned external tools into the per-user cache
/// (`RELEASE_KIT_CACHE_DIR` overrides it): build, twine,
/// pypiserver and passlib (and maturin / cibuildwheel when a package needs
/// them) in a managed Python venv; @vscode/vsce and ovsx
/// with npm. Steps do this on first use; `setup` does it up front (for a CI
/// cache, or before going offline). Reuses what is there; safe to run
/// concurrently.
#[derive(Debug, Args)]
pub struct SetupArgs {}

pub fn run(ctx: &Ctx, _args: SetupArgs) -> anyhow::Result<()> {
    let project = ctx.project()?;
    let echo = ctx.echo();
    // Checks that fail before anything is installed are preflight problems
    // (exit 3); a failed install is a failed step (exit 1).
    let mut problems = Preflight::new();
    let mut failures = Vec::new();
    // The Node tools install meanwhile (npm works while uv and pip wait
    // on the network): the first run takes the longer of the two.
    let node_log = std::sync::Mutex::new(Vec::<String>::new());
    let log = |m: &str| node_log.lock().expect("log").push(m.to_owned());
    let (python, node) = std::thread::scope(|s| {
        let node = project
            .config
            .vscode
            .enabled
            .then(|| s.spawn(|| release_kit::vscode::setup(&project, &log)));
        let python = project.config.python.enabled.then(|| {
            ctx.info("Python tools (build, twine, pypiserver, passlib) ...");
            release_kit::pypi::setup(&project, echo)
        });
        (
            python,
            node.map(|h| h.join().expect("the Node tools' thread")),
        )
    });
    match python {
        None => {}
        Some(Ok(tools)) => ctx.out(format!("python tools: ready ({})", tools.python.display())),
        Some(Err(e @ release_kit::pypi::venv::ToolsError::NoPython)) => {
            problems.problem(e.to_string())
        }
        Some(Err(e)) => failures.push(e.to_string()),
    }
    if let Some(node) = node {
        ctx.info("Node tools (@vscode/vsce, ovsx) ...");
        for m in node_log.into_inner().expect("log") {
            ctx.info(&m);
        }
        match node {
            Ok(tools) => ctx.out(format!(
                "node tools: ready (vsce {}, ovsx {}, node {}.{}.{})",
                tools.vsce.version.as_deref().unwrap_or("?"),
                tools.ovsx.version.as_deref().unwrap_or("?"),
                tools.node_version.0,
                tools.node_version.1,
                tools.node_version.2
            )),
            Err(StepError::Preflight(pre)) => {
                problems.absorb::<()>(Err(pre));
            }
            Err(e) => failures.push(e.describe()),
        }
    }
    if !failures.is_empty() {
        failures.extend(problems.problems().iter().map(|p| p.to_string()));
        anyhow::bail!("setup failed:\n  - {}", failures.join("\n  - "));
    }
    Ok(problems.finish()?)
}
