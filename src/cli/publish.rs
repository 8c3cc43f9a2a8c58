//! `cargo xtask publish`

use std::path::PathBuf;

use clap::Args;
use release_kit::preflight::Preflight;
use release_kit::pypi::Target;
use release_kit::pypi::publish::{Action, PublishOptions};
use release_kit::pypi::step::Publish;
use release_kit::release::{self, FromArtifacts};

use crate::cli::ctx::Ctx;

/// Upload dist/ to PyPI (default), TestPyPI or another index with twine.
///
/// Checks first (exit 3, nothing uploaded; only the index's listing is
/// read, to find it): the password variable
/// (TWINE_PASSWORD, or TWINE_PASSWORD_TEST for --testpypi; none needed in
/// GitHub Actions with `id-token: write`: trusted publishing), the token's
/// index, scope and expiry, twine, the index's listing, and for every
/// Python package (or the one of --package) one sdist and any number of
/// wheels of one version, no two wheels with the same tags, no platform tag
/// PyPI refuses (`linux_x86_64`). Then `twine check --strict` on every
/// file, and one twine upload per package, sdist first. Files the index
/// already has with the same sha256 are skipped, so a re-run after a
/// half-finished upload is safe.
#[derive(Debug, Args)]
pub struct PublishArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Everything but the upload: checks, index query, and the plan.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    select: SelectArgs,
}

/// Which packages, and from where; shared by `publish` and `release`.
#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Only this Python package (its [project] name); default: every
    /// package of release-kit.toml.
    #[arg(long, value_name = "NAME")]
    package: Option<String>,
    /// Publish the artifacts of a CI build matrix instead of dist/:
    /// DIR/<artifact>/<files> as actions/download-artifact lays them out,
    /// checked complete for the plan first (a missing platform: exit 3).
    #[arg(long, value_name = "DIR")]
    from_artifacts: Option<PathBuf>,
    /// The plan the artifacts were built from (the JSON of
    /// `release --plan-matrix`); default: computed from release-kit.toml.
    #[arg(long, value_name = "FILE", requires = "from_artifacts")]
    plan: Option<PathBuf>,
}

impl SelectArgs {
    /// `--package`.
    pub fn package(&self) -> Option<String> {
        self.package.clone()
    }

    /// `--from-artifacts` and `--plan`.
    pub fn artifacts(&self) -> Option<FromArtifacts> {
        self.from_artifacts.clone().map(|dir| FromArtifacts {
            dir,
            plan: self.plan.clone(),
        })
    }
}

/// Where the Python package goes; shared by `publish` and `release`.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Upload to TestPyPI with TWINE_PASSWORD_TEST.
    #[arg(long, conflicts_with = "repository_url")]
    testpypi: bool,
    /// Upload to this index (its upload URL, e.g. http://127.0.0.1:8080/)
    /// with TWINE_PASSWORD.
    #[arg(long, value_name = "URL")]
    repository_url: Option<String>,
    /// The simple-API root that lists what the index holds (the URL pip's
    /// --index-url takes, e.g. http://host/USER/INDEX/+simple/). Default:
    /// found from the upload URL's layout (PyPI, pypiserver, devpi,
    /// Artifactory, Nexus, GitLab, CodeArtifact) and checked to answer;
    /// also `check-url` under [python] in release-kit.toml.
    #[arg(long, value_name = "URL")]
    check_url: Option<String>,
    /// Trusted publishing endpoints' base URL (default: the target's host;
    /// also RELEASE_KIT_OIDC_URL). For private warehouse deployments.
    #[arg(
        long,
        value_name = "URL",
        env = "RELEASE_KIT_OIDC_URL",
        hide_env_values = true
    )]
    oidc_url: Option<String>,
}

impl TargetArgs {
    /// PyPI unless told otherwise.
    pub fn target(&self) -> Target {
        match (self.testpypi, &self.repository_url) {
            (true, _) => Target::TestPypi,
            (false, Some(url)) => Target::Custom { url: url.clone() },
            (false, None) => Target::Pypi,
        }
    }

    /// `--check-url`.
    pub fn check_url(&self) -> Option<String> {
        self.check_url.clone()
    }

    /// `--oidc-url`, a blank value counting as none.
    pub fn oidc_url(&self) -> Option<String> {
        self.oidc_url.clone().filter(|u| !u.trim().is_empty())
    }
}

pub fn run(ctx: &Ctx, args: PublishArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    if !project.config.python.enabled {
        ctx.info(
            "no Python package to publish: [python] enabled = false in release-kit.toml \
             (`cargo xtask vsce-publish` publishes the extension)",
        );
        return Ok(());
    }
    let mut opts = PublishOptions::new(args.target.target());
    opts.dry_run = args.dry_run;
    opts.check_url = args.target.check_url();
    opts.oidc_url = args.target.oidc_url();
    opts.echo = ctx.echo();
    opts.package = args.select.package();
    // The artifacts' problems join the step's check: all come at once.
    let mut pre = Preflight::new();
    if let Some(from) = args.select.artifacts() {
        opts.files = Some(release::collect_artifacts(
            &project,
            &from,
            opts.package.as_deref(),
            ctx,
            &mut pre,
        ));
    }
    let step = Publish::new(opts);
    let cx = ctx.step_context(settings, &project);
    let plan = release_kit::step::check(&step, &cx, pre)?;
    let (_, report) = release_kit::step::execute(&step, plan, &cx)?;
    if ctx.global.json {
        return ctx.json(&report);
    }
    let width = report.files().map(|f| f.name.len()).max().unwrap_or(0);
    for f in report.files() {
        let what = match f.action {
            Action::Uploaded => "uploaded",
            Action::Skipped => "skipped (already on the index, same sha256)",
            Action::WouldUpload => "would upload",
            Action::WouldSkip => "would skip (already on the index, same sha256)",
            Action::UploadedMeanwhile => {
                "already there (uploaded meanwhile by another run, same sha256)"
            }
        };
        ctx.out(format!("{:width$}  {what}", f.name));
    }
    let verb = if report.dry_run {
        "dry run: nothing uploaded to"
    } else {
        "done:"
    };
    ctx.info(format!(
        "{verb} {} {} on {} (listed at {}, found by {}; with {})",
        report.names(),
        report.version,
        report.target,
        report.listings(),
        report.found_by,
        report.credential
    ));
    Ok(())
}
