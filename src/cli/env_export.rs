//! `cargo xtask env export`: arguments and printing; the work is in
//! `release_kit::envops::export`.

use std::path::PathBuf;

use clap::Args;
use release_kit::envops::export::{self, Export, Gh, K8sMeta, Target};
use release_kit::preflight::PreflightError;
use release_kit::secret::Secret;

use release_kit::step::CommandError;

use crate::cli::ctx::Ctx;

#[derive(Debug, Args)]
#[command(after_help = "\
What goes where (from the registry's places):
  --to github                  what lives in GitHub Actions secrets: the publishing
                               credentials (TWINE_PASSWORD, VSCE_PAT, HF_TOKEN, ...)
                               and the keys CI uses
  --to docker|systemd|k8s      what a running deployment needs: its secrets (AUDIT_HMAC_KEY,
                               DASHBOARD_API_KEY, REDIS_URL, ...) and plain settings,
                               never a publishing credential
  --group G (repeatable)       instead, every variable of these groups (short name or
                               registry name, as env verify: `--group dashboard --group s3`)

Only values set in .env or the environment are exported, as the app reads them
(`${...}` expanded as python-dotenv does); defaults are left to the app, and the
variables left out because unset are listed. Nothing is written when a value is
invalid (--production) or cannot be carried by the format (a line break in a docker
env-file): exit 3, naming each variable and the fix. Values are never printed.

Files (mode 0600, written atomically, never to stdout; default name in the current
folder):
  docker   .env.docker     docker run --env-file .env.docker IMAGE
                           (compose: env_file: [{path: .env.docker, format: raw}])
  systemd  .env.systemd    EnvironmentFile=/abs/path/.env.systemd in the unit
  k8s      .env.k8s.yaml   kubectl apply -f .env.k8s.yaml   (then delete the file)
An existing file readable by others is refused unless --force.

Examples:
  cargo xtask env export --to docker --production
  cargo xtask env export --to systemd --out /etc/mult-agentes/env --production
  cargo xtask env export --to k8s --name agents-env --namespace prod
  cargo xtask env export --to github --dry-run
  cargo xtask env export --to github --repo octo-org/octo-repo
  cargo xtask env export --to github --env pypi   (secrets of the `pypi` environment)")]
pub struct ExportArgs {
    /// Where the values go: docker (an --env-file), systemd (an
    /// EnvironmentFile), k8s (a Secret manifest with stringData), github
    /// (repository secrets, each set with `gh secret set NAME`, the value
    /// on gh's standard input).
    #[arg(long, value_name = "TARGET", value_parser = parse_target)]
    to: Target,
    /// The file to write (docker, systemd, k8s). Default: .env.docker,
    /// .env.systemd or .env.k8s.yaml in the current folder. Never `-`:
    /// secrets are not printed.
    #[arg(long, value_name = "PATH")]
    out: Option<PathBuf>,
    /// Export the variables of this group instead of the target's default
    /// set (repeatable; a group's short name or registry name, e.g. `s3`).
    #[arg(long = "group", value_name = "GROUP")]
    groups: Vec<String>,
    /// Apply the production checks first (as `env check --production`):
    /// a missing required or invalid value stops the export.
    #[arg(long)]
    production: bool,
    /// Say what would be written or run, without values; change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Replace an existing file even when others may read it (the new one
    /// is mode 0600).
    #[arg(long)]
    force: bool,
    /// k8s: the Secret's metadata.name. Default: the project's name
    /// followed by `-env`.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// k8s: the Secret's metadata.namespace (default: none, kubectl's
    /// current namespace).
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// github: the repository, passed to gh as `--repo` (default: the one
    /// gh finds from the current folder).
    #[arg(long, value_name = "[HOST/]OWNER/REPO")]
    repo: Option<String>,
    /// github: set the secrets of this GitHub environment (`gh secret set
    /// --env NAME`, e.g. `pypi`) instead of repository secrets
    /// (docs/github.md).
    #[arg(long = "env", value_name = "NAME", value_parser = environment_name)]
    environment: Option<String>,
}

/// A GitHub environment's name: letters, digits, `-`, `_`, `.`; nothing gh
/// could take for a flag.
fn environment_name(s: &str) -> Result<String, String> {
    let ok = !s.is_empty()
        && !s.starts_with('-')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(s.to_owned())
    } else {
        Err("a GitHub environment name: letters, digits, `-`, `_`, `.`".into())
    }
}

fn parse_target(s: &str) -> Result<Target, String> {
    Target::from_name(s).ok_or_else(|| {
        let names: Vec<_> = Target::ALL.iter().map(|t| t.name()).collect();
        format!("expected one of: {}", names.join(", "))
    })
}

/// Refuses flags that do not apply to the target and unknown groups
/// (usage, exit 2); returns the groups named. Checked here rather than by
/// clap, whose error would hide a slug like `pypi-publishing` as a
/// token-looking value.
fn check_usage(ctx: &Ctx, args: &ExportArgs) -> anyhow::Result<Vec<&'static str>> {
    let mut wrong = Vec::new();
    let mut groups = Vec::new();
    let registry = ctx.registry()?;
    for g in &args.groups {
        match registry.group_by_name(g) {
            Some(group) => groups.push(group),
            None => wrong.push(format!(
                "--group `{g}`: no such group; the groups are: {}",
                registry.group_choices()
            )),
        }
    }
    let file = args.to != Target::Github;
    if !file && args.out.is_some() {
        wrong.push("--out: --to github writes no file (it runs `gh secret set`)".to_string());
    }
    if !file && args.force {
        wrong.push("--force: --to github writes no file".into());
    }
    if args.to != Target::K8s && (args.name.is_some() || args.namespace.is_some()) {
        wrong.push("--name/--namespace: only for --to k8s".into());
    }
    if args.to != Target::Github && args.environment.is_some() {
        wrong.push("--env: only for --to github".into());
    }
    if args.to != Target::Github && args.repo.is_some() {
        wrong.push("--repo: only for --to github".into());
    }
    if args.out.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        wrong.push("--out -: exported values are never written to stdout; give a file".into());
    }
    if let Some(repo) = &args.repo
        && let Err(e) = export::check_repo(repo)
    {
        wrong.push(e.to_string());
    }
    for (flag, value) in [("--name", &args.name), ("--namespace", &args.namespace)] {
        if let Some(v) = value
            && let Err(e) = export::check_k8s_name(v)
        {
            wrong.push(format!("{flag}: {e}"));
        }
    }
    if wrong.is_empty() {
        return Ok(groups);
    }
    Err(CommandError::Usage(wrong).into())
}

pub fn run(ctx: &Ctx, args: ExportArgs) -> anyhow::Result<()> {
    let groups = check_usage(ctx, &args)?;
    let settings = ctx.settings()?;
    let mut problems = Vec::new();
    let gh = if args.to == Target::Github && !args.dry_run {
        let found = release_kit::tools::find_on_path("gh");
        if found.is_none() {
            problems.push(
                "gh (the GitHub CLI) is not on PATH: install it (https://cli.github.com; Debian/Ubuntu: \
                 `apt-get install gh`), run `gh auth login`, then re-run; or see the commands with --dry-run"
                    .into(),
            );
        }
        found
    } else {
        None
    };
    let out = match (args.to.default_out(), &args.out) {
        (_, Some(p)) => Some(std::path::absolute(p)?),
        (Some(name), None) => Some(ctx.cwd.join(name)),
        (None, None) => None,
    };
    let loose = match &out {
        Some(path) if !args.dry_run => {
            export::check_destination(path, args.force).unwrap_or_else(|p| {
                problems.push(p);
                None
            })
        }
        _ => None,
    };
    let plan = match export::prepare(settings, args.to, &groups, args.production) {
        Ok(plan) if problems.is_empty() => plan,
        Ok(_) => return Err(PreflightError { problems }.into()),
        Err(mut e) => {
            e.problems.extend(problems);
            return Err(e.into());
        }
    };
    for w in &plan.warnings {
        ctx.warn(w);
    }
    let values: Vec<(&str, &Secret)> = plan.values.iter().map(|(n, v)| (*n, v)).collect();
    let names: Vec<&str> = values.iter().map(|(n, _)| *n).collect();
    match (render(ctx, &args, &values)?, &out, gh) {
        (Some(_), Some(path), _) if args.dry_run => report(ctx, &plan, Some(path), true, &names),
        (Some(text), Some(path), _) => write_file(ctx, &plan, path, &text, loose, &names),
        (None, _, None) => {
            // --to github --dry-run: the commands, no value.
            for name in names.iter().filter(|_| !ctx.global.json) {
                let mut line = format!(
                    "gh {}",
                    export::gh_args(name, args.repo.as_deref()).join(" ")
                );
                if let Some(env) = &args.environment {
                    line.push_str(&format!(" --env {env}"));
                }
                line.push_str(&format!("   # value of {name} on standard input"));
                ctx.out(line);
            }
            report(ctx, &plan, None, true, &names)
        }
        (None, _, Some(program)) => {
            let gh = Gh {
                program: &program,
                repo: args.repo.as_deref(),
                environment: args.environment.as_deref(),
                auth: export::GH_AUTH_VARS
                    .iter()
                    .filter_map(|k| Ctx::env(k).map(|v| (*k, Secret::new(v))))
                    .collect(),
                cwd: ctx.cwd.clone(),
            };
            export::push_github(&gh, &values, settings.redactor())?;
            report(ctx, &plan, None, false, &names)
        }
        (Some(_), None, _) => unreachable!("every file target has a default --out"),
    }
}

/// The file's text for a file target (`None` for GitHub).
fn render(
    ctx: &Ctx,
    args: &ExportArgs,
    values: &[(&str, &Secret)],
) -> anyhow::Result<Option<Secret>> {
    Ok(match args.to {
        Target::Docker => Some(export::render_docker(values)?),
        Target::Systemd => Some(export::render_systemd(values)),
        Target::K8s => Some(export::render_k8s(
            values,
            &K8sMeta {
                name: args.name.clone().unwrap_or_else(|| default_name(ctx)),
                namespace: args.namespace.clone(),
            },
        )),
        Target::Github => None,
    })
}

/// Writes the export file (mode 0600, atomically) and reports it.
fn write_file(
    ctx: &Ctx,
    plan: &Export,
    path: &std::path::Path,
    text: &Secret,
    loose: Option<export::LooseMode>,
    names: &[&str],
) -> anyhow::Result<()> {
    export::write(path, text).map_err(|e| {
        anyhow::anyhow!(
            "{}; nothing was exported (an old file is left as it was)",
            release_kit::error::describe(&e)
        )
    })?;
    if let Some(export::LooseMode(mode)) = loose {
        ctx.warn(format!(
            "{} was mode {mode:04o} before (others may have read the values it held); it is now 0600",
            path.display()
        ));
    }
    report(ctx, plan, Some(path), false, names)?;
    if release_kit::doctor::is_git_ignored(path) == Some(false) {
        ctx.warn(format!(
            "{} is inside a git work tree and not ignored: add it to .gitignore (or move it out) before committing anything",
            path.display()
        ));
    }
    Ok(())
}

/// The Secret's default name: the first Python package's, as a Kubernetes name.
fn default_name(ctx: &Ctx) -> String {
    let project = ctx
        .settings()
        .ok()
        .and_then(|s| s.projects().first().cloned())
        .or_else(|| {
            ctx.root_or_cwd()
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "app".into());
    export::k8s_name(&format!("{}-env", export::k8s_name(&project)))
}

/// The summary: what was (or would be) exported, what was left out.
fn report(
    ctx: &Ctx,
    plan: &Export,
    path: Option<&std::path::Path>,
    dry_run: bool,
    names: &[&str],
) -> anyhow::Result<()> {
    if ctx.global.json {
        return ctx.json(&serde_json::json!({
            "to": plan.target,
            "file": path.map(|p| p.display().to_string()),
            "dry_run": dry_run,
            "exported": names,
            "unset": plan.unset,
            "warnings": plan.warnings,
        }));
    }
    let what = match (path, dry_run) {
        (Some(p), true) => format!("would write {} (mode 0600) with", p.display()),
        (Some(p), false) => format!("wrote {} (mode 0600) with", p.display()),
        (None, true) => "would set GitHub secrets".to_string(),
        (None, false) => "set GitHub secrets".to_string(),
    };
    ctx.info(format!("{what}: {}", names.join(", ")));
    if !plan.unset.is_empty() {
        ctx.info(format!(
            "left out (not set in .env or the environment): {}",
            plan.unset.join(", ")
        ));
    }
    if let (Some(p), false) = (path, dry_run) {
        let next = match plan.target {
            Target::Docker => format!("docker run --env-file {} IMAGE", p.display()),
            Target::Systemd => format!(
                "EnvironmentFile={} in the unit's [Service] section, then `systemctl daemon-reload` and restart it",
                p.display()
            ),
            Target::K8s => format!("kubectl apply -f {}, then delete the file", p.display()),
            Target::Github => String::new(),
        };
        ctx.info(format!("next: {next}"));
    }
    Ok(())
}
