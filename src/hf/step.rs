//! `hf-prefetch` as a [`Step`]: the standalone command and the release
//! (`[release] prefetch-models`) drive this same value.

use super::progress::human;
use super::{HfEnvironment, ModelSpec, Options, ProgressMode, Report, select_models};
use crate::preflight::Preflight;
use crate::settings::Settings;
use crate::step::{Context, Outcome, Plan, Status, Step, StepError, register_masks};

/// Which models, and how to fetch them.
#[derive(Clone, Debug)]
pub struct PrefetchArgs {
    /// `--model ORG/NAME[@REV]` entries; empty: release-kit.toml's.
    pub models: Vec<String>,
    /// `--include` globs, replacing the configured ones.
    pub include: Vec<String>,
    /// `--exclude` globs, replacing the configured ones.
    pub exclude: Vec<String>,
    /// Make no request: check the cache only.
    pub offline: bool,
    /// Connections open at once (default: the tuning's).
    pub connections: Option<usize>,
    /// How progress is shown.
    pub progress: ProgressMode,
}

impl Default for PrefetchArgs {
    fn default() -> PrefetchArgs {
        PrefetchArgs {
            models: Vec::new(),
            include: Vec::new(),
            exclude: Vec::new(),
            offline: false,
            connections: None,
            progress: ProgressMode::Off,
        }
    }
}

/// `cargo xtask hf-prefetch`: models into the Hugging Face cache.
#[derive(Debug, Default)]
pub struct Prefetch {
    args: PrefetchArgs,
}

/// A checked prefetch: the Hugging Face environment and the models.
#[derive(Debug)]
pub struct PrefetchPlan {
    args: PrefetchArgs,
    env: HfEnvironment,
    models: Vec<ModelSpec>,
}

impl Prefetch {
    /// A prefetch of `args`.
    pub fn new(args: PrefetchArgs) -> Prefetch {
        Prefetch { args }
    }

    /// The checks that need no project: the step's variables and the
    /// Hugging Face environment (for a command whose release-kit.toml
    /// could not be read, so that every problem is still reported).
    pub fn check_environment(
        settings: &Settings,
        lookup: impl Fn(&str) -> Option<String>,
        pre: &mut Preflight,
    ) -> Option<HfEnvironment> {
        let step = crate::settings::Step::HF_PREFETCH;
        pre.settings(&settings.check(&[step], false));
        // `--model` fetches in a project with no `[[hf.models]]`, whose
        // registry has no HF_TOKEN: the token is judged all the same.
        if settings.registry().var("HF_TOKEN").is_none()
            && let Some(var) = crate::settings::Registry::publishing().var("HF_TOKEN")
        {
            pre.settings(&settings.check_also(var, &[step]));
        }
        pre.absorb(HfEnvironment::from_lookup(lookup))
    }
}

impl Step for Prefetch {
    type Plan = PrefetchPlan;

    fn name(&self) -> &'static str {
        "hf-prefetch"
    }

    fn check(&self, cx: &Context<'_>, pre: &mut Preflight) -> Option<PrefetchPlan> {
        let env = Prefetch::check_environment(cx.settings, |k| cx.lookup(k), pre);
        let a = &self.args;
        let models = pre.absorb(select_models(cx.project, &a.models, &a.include, &a.exclude));
        Some(PrefetchPlan {
            args: a.clone(),
            env: env?,
            models: models?,
        })
    }
}

impl Plan for PrefetchPlan {
    type Report = Report;

    fn describe(&self) -> String {
        let repos: Vec<_> = self.models.iter().map(|m| m.repo.as_str()).collect();
        format!("pre-fetch {} into the Hugging Face cache", repos.join(", "))
    }

    fn run(self, cx: &Context<'_>) -> Result<(Outcome, Report), StepError> {
        let mut env = self.env;
        env.offline |= self.args.offline;
        let mut redactor = cx.redactor().clone();
        if let Some(token) = &env.token {
            redactor.add(token);
        }
        if env.token.is_some() && env.token_source.as_deref().is_some_and(|s| s.contains('/')) {
            // A token read from a file is unknown to the runner's masking.
            register_masks(cx.reporter, cx.actions().as_ref(), &redactor);
        }
        let mut opts = Options::new(env.clone());
        if let Some(n) = self.args.connections {
            opts.tuning.connections = n;
            opts.tuning.connections_per_file = n;
        }
        opts.progress = self.args.progress;
        let n = self.models.len();
        cx.reporter.info(&format!(
            "hf-prefetch: {n} model{} {} {} (cache {}{})",
            if n == 1 { "" } else { "s" },
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
        let r = super::prefetch(&self.models, &opts)
            .map_err(|e| StepError::failed(redactor.redact(&e.to_string())))?;
        for w in &r.warnings {
            cx.reporter.warn(w);
        }
        let downloaded: usize = r.models.iter().map(|m| m.downloaded).sum();
        let files: usize = r.models.iter().map(|m| m.files).sum();
        let bytes: u64 = r.models.iter().map(|m| m.bytes_downloaded).sum();
        let status = if downloaded == 0 {
            Status::Skipped
        } else {
            Status::Done
        };
        let outcome = Outcome::new(
            status,
            format!(
                "{downloaded} of {files} files downloaded ({:.1} MB) into {}",
                bytes as f64 / 1e6,
                r.cache.display()
            ),
        );
        Ok((outcome, r))
    }

    fn summary(report: &Report) -> Option<String> {
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
        Some(md)
    }
}
