//! `cargo xtask hf-prefetch`

use clap::Args;
use release_kit::hf::ProgressMode;
use release_kit::hf::progress::human;
use release_kit::hf::step::{Prefetch, PrefetchArgs};
use release_kit::preflight::Preflight;
use release_kit::step::lookup;

use crate::cli::ctx::Ctx;

/// Warm the Hugging Face cache: download models (verified, resumable,
/// in parallel) into the standard huggingface_hub layout, so that they
/// later load offline.
#[derive(Debug, Args)]
#[command(after_help = "\
Environment (from the environment or .env):
  HF_TOKEN                 read token for private or gated models (else HUGGING_FACE_HUB_TOKEN,
                           else the file HF_TOKEN_PATH names, else $HF_HOME/token); sent to
                           HF_ENDPOINT only, never printed
  HF_ENDPOINT              the Hub or a mirror (default https://huggingface.co)
  HF_HUB_CACHE             the cache folder (else HUGGINGFACE_HUB_CACHE, else $HF_HOME/hub,
                           else $XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub)
  HF_HOME                  huggingface_hub's home (cache in hub/, token file in token)
  HF_HUB_OFFLINE=1         as --offline

Examples:
  cargo xtask hf-prefetch                     the [[hf.models]] of release-kit.toml
  cargo xtask hf-prefetch --model sentence-transformers/all-MiniLM-L6-v2@main --include '*.json'
  HF_HUB_OFFLINE=1 cargo xtask hf-prefetch    check that the cache holds every file")]
pub struct HfArgs {
    /// A model to fetch instead of release-kit.toml's [[hf.models]]:
    /// ORG/NAME or ORG/NAME@REV (branch, tag or commit). Repeatable. A
    /// configured model keeps its include/exclude (and its revision when
    /// no @REV is given).
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
    #[arg(long, value_name = "N", default_value_t = crate::hf::DEFAULT_CONNECTIONS, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub connections: u16,
}

pub fn run(ctx: &Ctx, args: HfArgs) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let step = Prefetch::new(PrefetchArgs {
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
        Err(mut found) => {
            // A bad release-kit.toml joins the other problems instead of
            // hiding them.
            let mut pre = Preflight::new();
            Prefetch::check_environment(settings, |k| lookup(settings, &Ctx::env, k), &mut pre);
            if let Err(more) = pre.finish() {
                found.problems.extend(more.problems);
            }
            return Err(found.into());
        }
    };
    let report = ctx.run_step(&step, settings, &project)?;
    if ctx.global.json {
        ctx.json(&report)?;
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

#[cfg(test)]
mod tests {
    use clap::{Args as _, Command};

    #[test]
    fn help_names_the_environment_and_has_an_example() {
        let mut cmd = super::HfArgs::augment_args(Command::new("hf-prefetch"));
        let help = cmd.render_help().to_string();
        for var in [
            "HF_TOKEN",
            "HUGGING_FACE_HUB_TOKEN",
            "HF_TOKEN_PATH",
            "HF_ENDPOINT",
            "HF_HUB_CACHE",
            "HUGGINGFACE_HUB_CACHE",
            "HF_HOME",
            "XDG_CACHE_HOME",
            "HF_HUB_OFFLINE",
            "Examples:",
            "cargo xtask hf-prefetch --model ",
        ] {
            assert!(help.contains(var), "no {var} in:\n{help}");
        }
    }
}
