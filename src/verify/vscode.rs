//! VS Code Marketplace: `vsce verify-pat`, exactly as `cargo xtask
//! vsce-verify` runs it ([`crate::vscode::verify`]).

use std::sync::Arc;

use super::{Inputs, Outcome};
use crate::preflight::Preflight;
use crate::tools::Echo;
use crate::vscode::{npm, verify};

pub(super) async fn check(inputs: Arc<Inputs>) -> Outcome {
    let entra = inputs
        .project
        .as_ref()
        .is_ok_and(|p| p.config.vscode.azure_credential);
    if inputs.explicit("VSCE_PAT").is_none() && !entra {
        return Outcome::skipped("not configured: VSCE_PAT is not set");
    }
    // vsce is a child process: run it off the async threads. On timeout the
    // child finishes on its own (its requests have their own timeouts).
    tokio::task::spawn_blocking(move || blocking(&inputs))
        .await
        .unwrap_or_else(|_| Outcome::fail("the vsce check stopped unexpectedly"))
}

fn blocking(inputs: &Inputs) -> Outcome {
    let project = match &inputs.project {
        Ok(p) => p,
        Err(e) => {
            let why: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
            return Outcome::fail(format!("the project cannot be read: {}", why.join("; ")));
        }
    };
    let mut pre = Preflight::new();
    let plan = verify::plan(project, &inputs.settings, &mut pre);
    if let Err(e) = pre.finish() {
        let problems: Vec<String> = e.problems.iter().map(|p| p.to_string()).collect();
        return Outcome::fail(problems.join("\n"));
    }
    let Some(plan) = plan else {
        return Outcome::fail("nothing to verify");
    };
    // Installing vsce takes minutes the first time: not inside a check
    // with a timeout. `setup` (or `vsce-verify`) installs it.
    if !project.config.vscode.use_path_tools && !npm::is_provisioned(project) {
        return Outcome::fail(format!(
            "vsce is not installed in {} yet; run `cargo xtask setup` (or `cargo xtask vsce-verify`, which installs it on first use), then verify again",
            npm::tools_dir(project).display()
        ));
    }
    let tools = match npm::ensure(project, &|_| {}) {
        Ok(t) => t,
        Err(e) => return Outcome::fail(format!("vsce is not available: {e}")),
    };
    match verify::run(&plan, &tools, &inputs.settings, Echo::Quiet) {
        Ok(report) => Outcome::pass(format!(
            "{} ({} at {})",
            report.message, report.auth, report.marketplace
        )),
        Err(e) => Outcome::fail(crate::error::describe(&e)),
    }
}
