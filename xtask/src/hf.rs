//! `cargo xtask hf-prefetch`

use clap::Args;
use release_kit::hf::ProgressMode;
use release_kit::hf::progress::human;
use release_kit::hf::step::{Prefetch, PrefetchArgs};
use release_kit::preflight::Preflight;
use release_kit::step::lookup;

use crate::ctx::Ctx;

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
    let mut step = Prefetch::new(PrefetchArgs {
        models: args.models,
        include: args.include,
        exclude: args.exclude,
        offline: args.offline,
        connections: Some(usize::from(args.connections)),
        progress: if ctx.global.quiet || ctx.global.json {
            ProgressMode::Off
        } else {
            ProgressMode::auto()
        },
    });
    let project = match ctx.project() {
        Ok(p) => p,
        Err(found) => {
            // A bad release-kit.toml joins the other problems instead of
            // hiding them.
            let mut pre = Preflight::new();
            pre.absorb::<()>(Err(found));
            Prefetch::check_environment(settings, |k| lookup(settings, &Ctx::env, k), &mut pre);
            return Err(pre
                .finish()
                .expect_err("holds the project's problem")
                .into());
        }
    };
    ctx.run_step(&mut step, settings, &project)?;
    let report = step.report().expect("a report after a run");
    if ctx.global.json {
        ctx.json(report)?;
    } else {
        for m in &report.models {
            let commit = m.commit.as_deref().unwrap_or("?");
            let mut line = format!(
                "{}@{} -> {}: {} file{} ({}), {} in place",
                m.repo,
                m.revision,
                release_kit::hf::names::prefix(commit, 12),
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
    Ok(())
}
