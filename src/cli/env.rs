//! `cargo xtask env …`

use clap::{Args, Subcommand};
use release_kit::envops::actions_logs as rotate_actions;
use release_kit::envops::rotate;
use release_kit::preflight::PreflightError;
use release_kit::settings::registry::Registry;
use release_kit::settings::{Step, envfile, registry};

use release_kit::error::ExitClass;
use release_kit::step::CommandError;

use crate::cli::ctx::Ctx;

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Every variable: set or not, valid or not, where it comes from, which
    /// steps need it, whether `${…}` in `.env` was expanded. Never a value:
    /// safe to paste into a chat or a CI log. `.env` is read as the Python
    /// app's python-dotenv reads it (last duplicate wins, `${VAR:-default}`
    /// expanded from the environment first); warnings name lines docker
    /// compose reads differently.
    Status,
    /// Exit 3 listing every missing or invalid variable the given steps
    /// need, each with how to obtain it; exit 0 when all is well.
    Check(CheckArgs),
    /// Create `.env` from the registry (mode 0600) with fresh random keys.
    Init(InitArgs),
    /// Write `.env.example` from the registry, or check it is up to date.
    Example(ExampleArgs),
    /// Print a random hex key from the OS random generator
    /// (like `openssl rand -hex N`).
    GenKey(GenKeyArgs),
    /// The rotation runbook of one secret, made concrete: where to create
    /// the new value, every place the old one lives, how to check the new
    /// one, and revoking the old one last. Keys we generate
    /// (DASHBOARD_API_KEY, AUDIT_HMAC_KEY) are replaced in .env directly,
    /// the file's mode kept. Before the old value is forgotten, the
    /// repository, its git history and the --logs files are searched for
    /// it (plain, base64, URL-encoded); the report names places, never the
    /// value.
    Rotate(RotateArgs),
    /// Live credential checks, one per configured group, at the same time:
    /// pass, FAIL or skipped (not configured), with the reason and never a
    /// value. Exit 1 when a configured check fails.
    Verify(crate::cli::env_verify::VerifyArgs),
    /// Put the values where they run: a docker --env-file, a systemd
    /// EnvironmentFile or a Kubernetes Secret (files of mode 0600, never
    /// stdout), or GitHub Actions secrets through `gh secret set` (values
    /// on gh's standard input). Deployments get what the app needs, GitHub
    /// the publishing credentials; values are never printed.
    Export(crate::cli::env_export::ExportArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Steps to check (repeatable): release-kit's (publish,
    /// publish-testpypi, vsce, hf-prefetch) and those the project's
    /// variables name (`needed-by`, `optional-for`; `env status` lists
    /// them). Default: every step some of whose variables are set.
    #[arg(long = "for", value_name = "STEP", num_args = 1..)]
    steps: Vec<String>,
    /// Apply production rules: variables declared `production =
    /// "required"` must be set (not by a default, nor the development
    /// default); `"recommended"` ones warn when unset.
    #[arg(long)]
    production: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Replace an existing `.env` (its values are lost).
    #[arg(long)]
    force: bool,
}

#[derive(Debug, Args)]
pub struct ExampleArgs {
    /// Do not write: exit 1 when the file differs from the registry.
    #[arg(long)]
    check: bool,
}

#[derive(Debug, Args)]
pub struct GenKeyArgs {
    /// Number of random bytes (the key has twice as many hex characters).
    #[arg(long, default_value_t = 32, value_parser = clap::value_parser!(u16).range(1..=1024))]
    bytes: u16,
}

/// Rotate a secret: searches the repository, its history and the logs
/// given for the OLD value (plain and in every encoding the scanner knows:
/// base64, URL-encoded, …), writes a new key for the keys we generate, and
/// prints the runbook. The old value is read before anything changes: the
/// current setting, or `--old-from FILE|-` when .env already holds the new
/// one (never as an argument: argv is visible to every process).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo xtask env rotate HF_TOKEN --logs ~/.bash_history ci-log.txt\n  cargo xtask env rotate TWINE_PASSWORD --leaked --old-from old-token.txt --logs run.log\n  GH_TOKEN=$(gh auth token) cargo xtask env rotate HF_TOKEN --actions OWNER/REPO\n  pass show pypi/old | cargo xtask env rotate TWINE_PASSWORD --old-from -\n  cargo xtask env rotate DASHBOARD_API_KEY\n  cargo xtask env rotate AUDIT_HMAC_KEY --force   (after storing the old key offline)"
)]
pub struct RotateArgs {
    /// The variable to rotate (a secret of the registry).
    #[arg(value_name = "VAR")]
    var: String,
    /// Rotate even a key whose rotation has lasting effects
    /// (AUDIT_HMAC_KEY: existing audit chains no longer verify).
    #[arg(long)]
    force: bool,
    /// Also search these files for the old value (shell history, CI logs:
    /// `gh run view RUN_ID --log > run.log`).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    logs: Vec<std::path::PathBuf>,
    /// Read the old value from FILE (its first line), or from stdin with
    /// `-`: when .env already holds the new value.
    #[arg(long, value_name = "FILE|-")]
    old_from: Option<std::path::PathBuf>,
    /// The old value leaked: revoke it first, then replace, then purge
    /// (delete CI logs, rewrite or note history).
    #[arg(long)]
    leaked: bool,
    /// Also search the logs of this GitHub repository's recent Actions
    /// runs (REST API; token from GH_TOKEN or GITHUB_TOKEN, API base from
    /// GITHUB_API_URL).
    #[arg(long, value_name = "OWNER/REPO")]
    actions: Option<String>,
    /// How many of the most recent runs `--actions` searches (1 to 100).
    #[arg(long, value_name = "N", default_value_t = rotate_actions::DEFAULT_RUNS, requires = "actions")]
    actions_runs: u32,
    /// With --leaked: delete the logs of every run found holding the old
    /// value, once the whole search is done (the token must write Actions).
    #[arg(long, requires_all = ["actions", "leaked"])]
    purge_logs: bool,
}

/// The steps named by `--for`, each a step of the project's registry;
/// an unknown one is a usage error (exit 2) that lists them, without
/// echoing the word (it may be a pasted token).
fn parse_steps(registry: &Registry, names: &[String]) -> anyhow::Result<Vec<Step>> {
    let mut steps = Vec::new();
    for name in names {
        match registry.step(name) {
            Some(step) => steps.push(step),
            None => {
                let known: Vec<_> = registry.steps().iter().map(|s| s.name()).collect();
                return Err(CommandError::usage(format!(
                    "--for: unknown step; expected one of: {} (the project's variables name its steps in release-kit.toml)",
                    known.join(", ")
                ))
                .into());
            }
        }
    }
    Ok(steps)
}

pub fn run(ctx: &Ctx, cmd: EnvCommand) -> anyhow::Result<()> {
    match cmd {
        EnvCommand::Status => status(ctx),
        EnvCommand::Check(args) => check(ctx, args),
        EnvCommand::Init(args) => init(ctx, args),
        EnvCommand::Example(args) => example(ctx, args),
        EnvCommand::Rotate(args) => rotate(ctx, args),
        EnvCommand::Verify(args) => crate::cli::env_verify::run(ctx, args),
        EnvCommand::Export(args) => crate::cli::env_export::run(ctx, args),
        EnvCommand::GenKey(args) => {
            println!("{}", envfile::gen_key(args.bytes.into())?);
            Ok(())
        }
    }
}

fn status(ctx: &Ctx) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let vars = settings.status();
    if ctx.global.json {
        return ctx.json(&serde_json::json!({
            "env_file": settings.env_file().map(|p| p.display().to_string()),
            "warnings": settings.warnings(),
            "variables": vars,
        }));
    }
    match settings.env_file() {
        Some(p) => ctx.out(format!(".env: {}", p.display())),
        None => ctx.out(".env: none found (only the process environment)"),
    }
    let width = vars.iter().map(|v| v.name.len()).max().unwrap_or(0);
    ctx.out(format!(
        "\n  {:width$}  {:5}  {:7}  {:11}  needed by (or optional for)",
        "variable", "set", "valid", "source"
    ));
    for group in settings.registry().groups() {
        ctx.out(format!("\n{group}"));
        for v in vars.iter().filter(|v| v.group == group) {
            let source = match (&v.file, v.line) {
                (Some(_), Some(line)) => format!(".env:{line}"),
                _ => v.source.to_string(),
            };
            let valid = match v.valid {
                Some(true) => "valid",
                Some(false) => "INVALID",
                None => "-",
            };
            let set = if v.set { "set" } else { "unset" };
            let needs = if v.required_for.is_empty() {
                format!("optional: {}", v.optional_for.join(", "))
            } else {
                v.required_for.join(", ")
            };
            ctx.out(format!(
                "  {:width$}  {set:5}  {valid:7}  {source:11}  {needs}",
                v.name
            ));
            if v.expanded {
                ctx.out(format!(
                    "  {:width$}  ^ expanded: `${{…}}` in the .env value was replaced, as python-dotenv does; checked as expanded",
                    ""
                ));
            }
            if let Some(t) = &v.token {
                ctx.out(format!("  {:width$}  ^ token: {t}", ""));
            }
            if let Some(p) = &v.problem {
                ctx.out(format!("  {:width$}  ^ {p}", ""));
            }
            for w in &v.warnings {
                ctx.out(format!("  {:width$}  ^ warning: {w}", ""));
            }
        }
    }
    Ok(())
}

fn check(ctx: &Ctx, args: CheckArgs) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let steps = if args.steps.is_empty() {
        settings.configured_steps()
    } else {
        parse_steps(settings.registry(), &args.steps)?
    };
    let report = settings.check(&steps, args.production);
    if ctx.global.json {
        ctx.json(&report)?;
        return if report.is_ok() {
            Ok(())
        } else {
            // The JSON report lists the problems.
            Err(CommandError::reported(ExitClass::Preflight).into())
        };
    }
    if steps.is_empty() {
        ctx.info("no step has any variable set; name steps with --for (e.g. --for publish vsce)");
    }
    for w in &report.warnings {
        ctx.warn(w.to_string());
    }
    if report.is_ok() {
        let names: Vec<_> = steps.iter().map(|s| s.name()).collect();
        if !names.is_empty() {
            ctx.info(format!(
                "ok: everything {} need{} is set and valid{}",
                names.join(", "),
                if names.len() == 1 { "s" } else { "" },
                if args.production {
                    " for production"
                } else {
                    ""
                }
            ));
        }
        return Ok(());
    }
    Err(PreflightError {
        problems: report.errors.iter().map(|p| p.to_string().into()).collect(),
    }
    .into())
}

fn init(ctx: &Ctx, args: InitArgs) -> anyhow::Result<()> {
    let path = match &ctx.global.env_file {
        Some(p) => std::path::absolute(p)?,
        None => ctx.root_or_cwd().join(".env"),
    };
    let registry = &ctx.registry()?;
    let text = envfile::initial(registry, |name| {
        registry
            .var(name)
            .and_then(|v| v.keygen_bytes)
            .and_then(|n| envfile::gen_key(n).ok())
    });
    envfile::write_private(&path, &text, args.force).map_err(|e| PreflightError {
        problems: vec![format!("{e:#}").into()],
    })?;
    let generated: Vec<&str> = registry
        .vars()
        .iter()
        .filter(|v| v.keygen_bytes.is_some())
        .map(|v| v.name)
        .collect();
    let fresh = match generated.as_slice() {
        [] => String::new(),
        names => format!(" with fresh {}", names.join(" and ")),
    };
    ctx.info(format!(
        "wrote {} (mode 600){fresh}; every other variable is commented out (`# KEY=default`: the app reads its default); uncomment and fill in what your steps need, then run `cargo xtask env check`",
        path.display()
    ));
    match release_kit::doctor::is_git_ignored(&path) {
        Some(true) => {}
        Some(false) => ctx.warn(format!(
            "{} is not ignored by git: add these lines to .gitignore before committing anything:\n  .env\n  .env.*\n  !.env.example",
            path.display()
        )),
        None => {}
    }
    Ok(())
}

fn example(ctx: &Ctx, args: ExampleArgs) -> anyhow::Result<()> {
    let path = ctx.root_or_cwd().join(".env.example");
    let want = envfile::example(&ctx.registry()?);
    if args.check {
        let Ok(have) = std::fs::read_to_string(&path) else {
            ctx.warn(format!(
                "{} is missing; run `cargo xtask env example` and commit the result",
                path.display()
            ));
            return Err(CommandError::reported(ExitClass::Findings).into());
        };
        if have == want {
            ctx.info(format!("{} is up to date", path.display()));
            return Ok(());
        }
        ctx.warn(format!(
            "{} is stale: it does not match the variable registry; run `cargo xtask env example` and commit the result",
            path.display()
        ));
        return Err(CommandError::reported(ExitClass::Findings).into());
    }
    // Through a link, its target is written atomically and keeps its mode.
    let mode = release_kit::settings::userfile::Mode::Keep(0o644);
    release_kit::settings::userfile::write(&path, &want, mode, None)?;
    ctx.info(format!("wrote {}", path.display()));
    Ok(())
}

fn rotate(ctx: &Ctx, args: RotateArgs) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let var =
        rotate::variable(settings.registry(), &args.var, args.force).map_err(|e| match e {
            rotate::RotateError::Unknown { .. } | rotate::RotateError::NotSecret { .. } => {
                anyhow::Error::from(CommandError::usage(e.to_string()))
            }
            e => PreflightError {
                problems: vec![e.to_string().into()],
            }
            .into(),
        })?;
    let given = read_old(&args)?;
    let actions = rotate_actions_source(&args, settings)?;
    let repo = release_kit::repo::root(ctx.global.root.as_deref(), &ctx.cwd)?;
    // The old value, read before anything changes: given, or the current.
    let mut redactor = settings.redactor().clone();
    if let Some(old) = &given {
        redactor.add(old);
    }
    let search = match given.as_ref().or(settings.explicit(var.name)) {
        Some(old) => rotate::find_old(
            var.name,
            old,
            &repo,
            settings.env_file(),
            &rotate::Elsewhere {
                logs: &args.logs,
                actions: actions.as_ref(),
            },
            &redactor,
        )?,
        None => rotate::Search {
            errors: vec![format!(
                "{} is not set: no old value to search for (give it with --old-from FILE|-)",
                var.name
            )],
            ..Default::default()
        },
    };
    let mut search = search;
    let purge_failed = match (args.purge_logs, actions.as_ref()) {
        (true, Some(actions)) => purge_logs(ctx, actions, &mut search, &redactor)?,
        _ => None,
    };
    let generated = match var.keygen_bytes {
        Some(_) => {
            let path = settings.env_file();
            let bytes = rotate::write_new_key(var, path).map_err(|e| match e {
                e @ rotate::RotateError::NoEnvFile { .. } => PreflightError {
                    problems: vec![e.to_string().into()],
                }
                .into(),
                e => anyhow::Error::from(e),
            })?;
            path.map(|p| (p, bytes))
        }
        None => None,
    };
    let rotation = rotate::Rotation {
        generated,
        search,
        leaked: args.leaked,
        verify: verify_command(var),
        trusted_publishing: trusted_publishing(&repo),
        old_given: given.is_some(),
    };
    print_rotation(ctx, var, settings, &rotation)?;
    match purge_failed {
        Some(why) => anyhow::bail!("{why}; run again once the token may delete them"),
        None => Ok(()),
    }
}

/// `--purge-logs`: the logs of the runs found deleted, after the search;
/// what stopped it, if anything (the command then ends with exit 1, after
/// the runbook says what was deleted).
fn purge_logs(
    ctx: &Ctx,
    actions: &rotate_actions::Actions,
    search: &mut rotate::Search,
    redactor: &release_kit::secret::Redactor,
) -> anyhow::Result<Option<String>> {
    let client = release_kit::net::Blocking::new()?;
    let (done, failed) = rotate_actions::purge(&client, actions, &search.actions_runs, redactor);
    for id in &done {
        ctx.info(format!("deleted the logs of Actions run {id}"));
    }
    search.purged = done;
    Ok(failed)
}

/// `--actions OWNER/REPO`, checked before anything is asked or changed.
fn rotate_actions_source(
    args: &RotateArgs,
    settings: &release_kit::settings::Settings,
) -> anyhow::Result<Option<rotate_actions::Actions>> {
    let Some(repo) = &args.actions else {
        return Ok(None);
    };
    let token = settings
        .explicit("GH_TOKEN")
        .or(settings.explicit("GITHUB_TOKEN"));
    let api = std::env::var("GITHUB_API_URL").ok();
    rotate_actions::Actions::new(repo, api.as_deref(), token, args.actions_runs)
        .map(Some)
        .map_err(|e| PreflightError::one(e.to_string()).into())
}

/// `--old-from FILE|-` (its first line) and the `--logs` files, checked;
/// nothing has changed yet.
fn read_old(args: &RotateArgs) -> anyhow::Result<Option<release_kit::secret::Secret>> {
    let mut problems: Vec<String> = args
        .logs
        .iter()
        .filter(|p| !p.is_file())
        .map(|p| format!("--logs {}: no such file", p.display()))
        .collect();
    let old = match args.old_from.as_deref() {
        None => None,
        Some(p) => {
            let text = if p == std::path::Path::new("-") {
                std::io::read_to_string(std::io::stdin())
            } else {
                std::fs::read_to_string(p)
            };
            match text {
                Ok(t) if !t.trim().is_empty() => Some(release_kit::secret::Secret::new(
                    t.lines().next().unwrap_or("").trim(),
                )),
                Ok(_) => {
                    problems.push(format!("--old-from {}: empty", p.display()));
                    None
                }
                Err(e) => {
                    problems.push(format!(
                        "--old-from {}: cannot be read ({})",
                        p.display(),
                        e.kind()
                    ));
                    None
                }
            }
        }
    };
    if !problems.is_empty() {
        return Err(PreflightError {
            problems: problems.into_iter().map(Into::into).collect(),
        }
        .into());
    }
    Ok(old)
}

/// The live check of `var`'s group: `cargo xtask env verify GROUP`.
fn verify_command(var: &registry::Var) -> String {
    match release_kit::verify::Group::parse(var.group) {
        Some(g) => format!("cargo xtask env verify {}", g.slug()),
        None => var.test.to_owned(),
    }
}

/// Whether the repository's release workflow publishes by trusted
/// publishing (`id-token: write`).
fn trusted_publishing(repo: &std::path::Path) -> bool {
    std::fs::read_to_string(repo.join(".github/workflows/release.yml"))
        .is_ok_and(|t| t.contains("id-token: write"))
}

fn print_rotation(
    ctx: &Ctx,
    var: &registry::Var,
    settings: &release_kit::settings::Settings,
    r: &rotate::Rotation<'_>,
) -> anyhow::Result<()> {
    let steps = rotate::runbook(var, settings, r);
    let search = &r.search;
    if ctx.global.json {
        return ctx.json(&serde_json::json!({
            "variable": var.name,
            "leaked": r.leaked,
            "generated": r.generated.is_some(),
            "env_file": r.generated.map(|(p, _)| p.display().to_string()),
            "steps": steps,
            "search": search,
        }));
    }
    ctx.out(format!("Rotating {}: {}", var.name, var.about));
    for (i, step) in steps.iter().enumerate() {
        ctx.out(format!("\n{}. {}", i + 1, step.title));
        for item in &step.items {
            ctx.out(format!("   - {item}"));
        }
    }
    for e in &search.errors {
        ctx.warn(e);
    }
    if !search.found.is_empty() {
        ctx.warn(format!(
            "the old value of {} was found in {} place(s): see the step \"Remove the old value\"",
            var.name,
            search.found.len()
        ));
    }
    Ok(())
}
