//! `cargo xtask hf-prefetch`

use clap::Args;
use release_kit::ci::{self, Actions};
use release_kit::hf::{self, HfEnvironment, Options, ProgressMode, progress::human};
use release_kit::preflight::Preflight;
use release_kit::settings::Step;

use crate::ctx::{Ctx, Exit};

/// Warm the Hugging Face cache: download models (verified, resumable,
/// in parallel) into the standard huggingface_hub layout, so that they
/// later load offline.
#[derive(Debug, Args)]
pub struct HfArgs {
    /// A model to fetch instead of release-kit.toml's [[hf.models]]:
    /// ORG/NAME or ORG/NAME@REV (branch, tag or commit). Repeatable.
    #[arg(long = "model", value_name = "ORG/NAME[@REV]")]
    pub models: Vec<String>,
    /// Fetch only files matching this glob (case-sensitive fnmatch, `*`
    /// crosses `/`, `dir/` means the folder). Repeatable; replaces the
    /// configured patterns.
    #[arg(long, value_name = "GLOB")]
    pub include: Vec<String>,
    /// Skip files matching this glob. Repeatable; replaces the configured
    /// patterns.
    #[arg(long, value_name = "GLOB")]
    pub exclude: Vec<String>,
    /// Make no request: check that every selected file is in the cache
    /// (also when HF_HUB_OFFLINE=1); missing files fail with exit 1.
    #[arg(long)]
    pub offline: bool,
    /// Connections open at once.
    #[arg(long, value_name = "N", default_value_t = 16, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub connections: u16,
}

pub fn run(ctx: &Ctx, args: HfArgs) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let mut pre = Preflight::new();
    pre.settings(&settings.check(&[Step::HfPrefetch], false));
    // A bad release-kit.toml joins the other problems instead of hiding them.
    let project = match ctx.project() {
        Ok(p) => Some(p),
        Err(e) => {
            match e.downcast::<release_kit::preflight::PreflightError>() {
                Ok(found) => found.problems.into_iter().for_each(|p| pre.problem(p)),
                Err(e) => pre.problem(format!("{e:#}")),
            }
            None
        }
    };
    // .env values first (they include the environment's, which win), then
    // the process environment for what settings do not track (HOME…).
    let lookup = |k: &str| {
        settings
            .explicit(k)
            .map(|v| v.expose().to_owned())
            .or_else(|| std::env::var(k).ok())
    };
    let env = match HfEnvironment::from_lookup(lookup) {
        Ok(env) => Some(env),
        Err(problems) => {
            problems.into_iter().for_each(|p| pre.problem(p));
            None
        }
    };
    let models = match project
        .as_ref()
        .map(|p| hf::select_models(p, &args.models, &args.include, &args.exclude))
    {
        Some(Ok(m)) => m,
        Some(Err(problems)) => {
            problems.into_iter().for_each(|p| pre.problem(p));
            Vec::new()
        }
        None => Vec::new(),
    };
    pre.finish()?;
    let mut env = env.expect("preflight passed");
    env.offline |= args.offline;

    let mut redactor = ctx.redactor();
    if let Some(token) = &env.token {
        redactor.add(token);
    }
    let actions = Actions::detect();
    if let Some(a) = &actions
        && env.token.is_some()
        && env.token_source.as_deref().is_some_and(|s| s.contains('/'))
    {
        // A token read from a file is unknown to the runner's masking.
        for line in a.mask_lines(&redactor) {
            ctx.workflow_command(&line);
        }
    }

    let mut opts = Options::new(env.clone());
    opts.tuning.connections = usize::from(args.connections);
    opts.tuning.connections_per_file = usize::from(args.connections);
    opts.progress = if ctx.global.quiet || ctx.global.json {
        ProgressMode::Off
    } else {
        ProgressMode::auto()
    };
    ctx.info(format!(
        "hf-prefetch: {} model{} {} {} (cache {}{})",
        models.len(),
        if models.len() == 1 { "" } else { "s" },
        if env.offline {
            "checked offline against"
        } else {
            "from"
        },
        if env.offline {
            "the cache"
        } else {
            env.endpoint.as_str()
        },
        env.cache_root.display(),
        match (&env.token_source, env.offline) {
            (_, true) => String::new(),
            (Some(s), false) => format!(", token from {s}"),
            (None, false) => ", anonymous".into(),
        }
    ));

    let report = match hf::prefetch(&models, &opts) {
        Ok(r) => r,
        Err(e) => {
            let msg = redactor.redact(&e.to_string());
            if actions.is_some() {
                ctx.workflow_command(&ci::error(None, None, "hf-prefetch failed", &msg));
            }
            eprintln!("error: {msg}");
            return Err(Exit(release_kit::EXIT_FAILED as u8).into());
        }
    };
    for w in &report.warnings {
        ctx.warn(w);
    }
    if ctx.global.json {
        ctx.json(&report)?;
    } else {
        for m in &report.models {
            let commit = m.commit.as_deref().unwrap_or("?");
            let mut line = format!(
                "{}@{} -> {}: {} file{} ({}), {} in place",
                m.repo,
                m.revision,
                &commit[..commit.len().min(12)],
                m.files,
                if m.files == 1 { "" } else { "s" },
                human(m.bytes_total),
                m.present
            );
            if m.downloaded > 0 {
                line.push_str(&format!(
                    ", {} downloaded ({}{})",
                    m.downloaded,
                    human(m.bytes_downloaded),
                    if m.resumed > 0 {
                        format!(", {} resumed", m.resumed)
                    } else {
                        String::new()
                    }
                ));
            }
            ctx.out(line);
            if let Some(s) = &m.snapshot {
                ctx.out(format!("  {}", s.display()));
            }
        }
        ctx.info(format!(
            "hf-prefetch: done in {:.2} s, {} request{}{}",
            report.seconds,
            report.requests,
            if report.requests == 1 { "" } else { "s" },
            if report.offline { " (offline)" } else { "" }
        ));
    }
    if let Some(path) = actions.as_ref().and_then(|a| a.step_summary.as_deref()) {
        let mut md = String::from(
            "### hf-prefetch\n\n| model | commit | files | downloaded |\n|---|---|---|---|\n",
        );
        for m in &report.models {
            md.push_str(&format!(
                "| {}@{} | `{}` | {} | {} ({}) |\n",
                m.repo,
                m.revision,
                m.commit.as_deref().unwrap_or("?"),
                m.files,
                m.downloaded,
                human(m.bytes_downloaded)
            ));
        }
        if let Err(e) = ci::append_summary(path, &md) {
            ctx.warn(format!("cannot write the step summary: {e}"));
        }
    }
    Ok(())
}
