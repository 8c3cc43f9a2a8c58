//! Hugging Face model pre-fetch: fast, resumable, verified downloads into
//! the standard huggingface_hub cache (`cargo xtask hf-prefetch`).
//!
//! We speak the Hub's HTTP protocol ourselves ([`api`]), write the cache
//! exactly as Python's `huggingface_hub` does ([`cache`]), and download in
//! parallel byte ranges with resume and verification ([`download`]).
//!
//! ```no_run
//! use release_kit::hf::{self, HfEnvironment, ModelSpec, Options};
//! let env = HfEnvironment::from_lookup(|k| std::env::var(k).ok()).unwrap();
//! let models = [ModelSpec::parse("sentence-transformers/all-MiniLM-L6-v2").unwrap()];
//! let report = hf::prefetch(&models, &Options::new(env)).unwrap();
//! println!("{} requests", report.requests);
//! ```

pub mod api;
mod big;
pub mod cache;
mod download;
pub mod error;
pub mod filter;
pub mod names;
mod parts;
pub mod progress;
mod queue;
pub mod step;
mod timeline;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;

pub use api::{RetryPolicy, Timeouts};
pub use cache::{RepoCache, RepoFile, cache_root};
pub use download::{DEFAULT_CONNECTIONS, Tuning};
pub use error::HfError;
pub use filter::Filter;
pub use progress::ProgressMode;

use crate::config::{ModelConfig, Project};
use crate::preflight::{PreflightError, Problem};
use crate::secret::Secret;
use crate::tools::ToolReport;
use download::{Fetched, FileJob, Shared};
use progress::Progress;

/// The Hub used when HF_ENDPOINT is not set.
pub const DEFAULT_ENDPOINT: &str = "https://huggingface.co";

/// One model to fetch.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ModelSpec {
    /// `org/name`.
    pub repo: String,
    /// Branch, tag or full commit id.
    pub revision: String,
    /// Keep only files matching one of these.
    pub include: Vec<String>,
    /// Drop files matching one of these.
    pub exclude: Vec<String>,
}

impl ModelSpec {
    /// Parses `ORG/NAME[@REV]` (revision `main` by default).
    pub fn parse(spec: &str) -> Result<ModelSpec, Problem> {
        let (repo, revision) = match spec.split_once('@') {
            Some((r, rev)) => (r, rev),
            None => (spec, "main"),
        };
        check_repo_id(repo)
            .map_err(|e| Problem::new(format!("--model {}: {e}", shown_arg(spec))))?;
        if revision.trim().is_empty() {
            return Err(Problem::new(format!(
                "--model {}: empty revision after @; write ORG/NAME@REV (a branch, tag or commit) or drop the @",
                shown_arg(spec)
            )));
        }
        names::check_revision(revision).map_err(|why| {
            Problem::new(format!(
                "--model {}: the revision after @ is not usable: {why}; write ORG/NAME@REV with a branch, tag or commit (e.g. main, v1.0, refs/pr/1)",
                shown_arg(spec)
            ))
        })?;
        Ok(ModelSpec {
            repo: repo.to_owned(),
            revision: revision.to_owned(),
            include: Vec::new(),
            exclude: Vec::new(),
        })
    }

    /// A `[[hf.models]]` entry of release-kit.toml.
    pub fn from_config(m: &ModelConfig) -> Result<ModelSpec, Problem> {
        check_repo_id(&m.repo).map_err(|e| {
            Problem::new(format!(
                "release-kit.toml [[hf.models]] repo = \"{}\": {e}",
                m.repo
            ))
        })?;
        let revision = m
            .revision
            .clone()
            .filter(|r| !r.trim().is_empty())
            .unwrap_or_else(|| "main".into());
        names::check_revision(&revision).map_err(|why| {
            Problem::new(format!(
                "release-kit.toml [[hf.models]] repo = \"{}\": revision {} is not usable: {why}; use a branch, tag or commit (e.g. main, v1.0, refs/pr/1)",
                m.repo,
                names::shown(&revision)
            ))
        })?;
        Ok(ModelSpec {
            repo: m.repo.clone(),
            revision,
            include: m.include.clone(),
            exclude: m.exclude.clone(),
        })
    }

    fn filter(&self) -> Filter {
        Filter::new(&self.include, &self.exclude)
    }
}

/// A `--model` value as an error may quote it: only when it cannot be a
/// token pasted in the wrong place (no token prefix, only the characters
/// of `ORG/NAME@REV`, no long random-looking run), escaped.
fn shown_arg(spec: &str) -> String {
    let plain = spec.len() <= 200
        && spec
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./@".contains(&b));
    let random_run = spec.split(|c: char| !c.is_ascii_alphanumeric()).any(|run| {
        run.len() >= 20
            && run.bytes().any(|b| b.is_ascii_digit())
            && run.bytes().any(|b| b.is_ascii_uppercase())
            && run.bytes().any(|b| b.is_ascii_lowercase())
    });
    // The credential shapes are the scanner's (one judgement for every
    // argument); a long mixed-case run is one no rule names.
    if plain
        && !random_run
        && !spec
            .split(['/', '@'])
            .any(crate::scan::rules::looks_like_credential)
    {
        names::shown(spec)
    } else {
        "(value not shown: it could be a token)".to_owned()
    }
}

/// The Hub's rules for a repository id, so that a typo fails before any
/// request.
pub fn check_repo_id(repo: &str) -> Result<(), Problem> {
    let parts: Vec<&str> = repo.split('/').collect();
    let ok_part = |p: &str| {
        !p.is_empty()
            && p.len() <= 96
            && p.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
            && !p.contains("--")
            && !p.contains("..")
            && !p.starts_with(['-', '.'])
            && !p.ends_with(['-', '.'])
    };
    if parts.len() != 2 || !parts.iter().all(|p| ok_part(p)) {
        return Err(Problem::new(
            "not a model id: write ORG/NAME with letters, digits, '-', '_' and '.' (e.g. sentence-transformers/all-MiniLM-L6-v2)",
        ));
    }
    Ok(())
}

/// The models to fetch: `--model` entries when given, else the
/// configuration's; `--include`/`--exclude`, when given, replace every
/// model's patterns for this run.
pub fn select_models(
    project: &Project,
    cli_models: &[String],
    include: &[String],
    exclude: &[String],
) -> Result<Vec<ModelSpec>, PreflightError> {
    let mut problems = Vec::new();
    let mut models: Vec<ModelSpec> = if cli_models.is_empty() {
        project
            .config
            .hf
            .models
            .iter()
            .filter_map(|m| ModelSpec::from_config(m).map_err(|e| problems.push(e)).ok())
            .collect()
    } else {
        cli_models
            .iter()
            .filter_map(|m| {
                ModelSpec::parse(m)
                    .map(|spec| with_configured(project, spec, m.contains('@')))
                    .map_err(|e| problems.push(e))
                    .ok()
            })
            .collect()
    };
    for m in &mut models {
        if !include.is_empty() {
            m.include = include.to_vec();
        }
        if !exclude.is_empty() {
            m.exclude = exclude.to_vec();
        }
    }
    if models.is_empty() && problems.is_empty() {
        problems.push(Problem::new(
            "no model to fetch: add [[hf.models]] entries to release-kit.toml or pass --model ORG/NAME",
        ));
    }
    if problems.is_empty() {
        Ok(models)
    } else {
        Err(PreflightError { problems })
    }
}

/// A `--model` that names a configured repository keeps that entry's
/// include/exclude, and its revision unless `has_revision` (an `@REV`).
fn with_configured(project: &Project, mut spec: ModelSpec, has_revision: bool) -> ModelSpec {
    let configured = project
        .config
        .hf
        .models
        .iter()
        .find(|m| m.repo.eq_ignore_ascii_case(&spec.repo))
        .and_then(|m| ModelSpec::from_config(m).ok());
    if let Some(c) = configured {
        spec.include = c.include;
        spec.exclude = c.exclude;
        if !has_revision {
            spec.revision = c.revision;
        }
    }
    spec
}

/// Where to fetch from, with what credentials, into which cache.
#[derive(Clone, Debug)]
pub struct HfEnvironment {
    /// HF_ENDPOINT, default [`DEFAULT_ENDPOINT`].
    pub endpoint: String,
    /// HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, else the token file.
    pub token: Option<Secret>,
    /// Which of those the token came from (never the value).
    pub token_source: Option<String>,
    /// The cache root (see [`cache_root`]).
    pub cache_root: PathBuf,
    /// HF_HUB_OFFLINE.
    pub offline: bool,
    /// HF_HUB_DISABLE_SYMLINKS_WARNING: no warning when the cache holds
    /// copies for want of symlinks ([`cache::no_symlinks_warning`]).
    pub no_symlinks_warning: bool,
    /// RELEASE_KIT_HF_TIMELINE: where to write a timeline of the
    /// requests (a debug aid, see `hf::timeline`).
    pub timeline: Option<PathBuf>,
}

impl HfEnvironment {
    /// Reads the environment through `get` (the process environment and
    /// `.env`). Errors are problems for the preflight.
    pub fn from_lookup(
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<HfEnvironment, PreflightError> {
        let get = |k: &str| get(k).filter(|v| !v.trim().is_empty());
        let mut problems = Vec::new();
        let endpoint = get("HF_ENDPOINT")
            .map(|e| e.trim().trim_end_matches('/').to_owned())
            .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
        if let Err(e) = api::check_endpoint(&endpoint) {
            problems.push(Problem::new(e.to_string()));
        }
        let mut token_source = None;
        let mut token = None;
        for name in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] {
            if let Some(v) = get(name) {
                token = Some(Secret::new(v.trim()));
                token_source = Some(name.to_owned());
                break;
            }
        }
        if token.is_none() {
            let file = get("HF_TOKEN_PATH").map(PathBuf::from).unwrap_or_else(|| {
                cache_root(|k| get(k))
                    .parent()
                    .map(|p| p.join("token"))
                    .unwrap_or_default()
            });
            // Read only when it is a small regular file: a FIFO would
            // block, a device never end.
            match crate::fsread::read_regular(&file, 64 << 10) {
                Ok(Some(bytes)) => {
                    let text = String::from_utf8_lossy(&bytes);
                    if !text.trim().is_empty() {
                        token = Some(Secret::new(text.trim()));
                        token_source = Some(file.display().to_string());
                    }
                }
                Ok(None) => {}
                Err(e) => problems.push(Problem::new(format!(
                    "the Hugging Face token file {} cannot be read ({e}); it must be a regular file \
                     holding the token: fix or remove it, or set HF_TOKEN instead",
                    file.display()
                ))),
            }
        }
        let offline = get("HF_HUB_OFFLINE").is_some_and(|v| is_true(&v));
        let no_symlinks_warning =
            get("HF_HUB_DISABLE_SYMLINKS_WARNING").is_some_and(|v| is_true(&v));
        let cache_root = cache_root(|k| get(k));
        if problems.is_empty() {
            Ok(HfEnvironment {
                endpoint,
                token,
                token_source,
                cache_root,
                offline,
                no_symlinks_warning,
                timeline: get("RELEASE_KIT_HF_TIMELINE").map(PathBuf::from),
            })
        } else {
            Err(PreflightError { problems })
        }
    }
}

/// huggingface_hub's truth values: 1, ON, YES, TRUE (any case).
pub fn is_true(value: &str) -> bool {
    matches!(
        value.trim().to_ascii_uppercase().as_str(),
        "1" | "ON" | "YES" | "TRUE"
    )
}

/// Everything a prefetch needs.
#[derive(Clone, Debug)]
pub struct Options {
    /// Endpoint, token, cache, offline.
    pub env: HfEnvironment,
    /// Connections and ranges.
    pub tuning: Tuning,
    /// Retries.
    pub retry: RetryPolicy,
    /// Timeouts.
    pub timeouts: Timeouts,
    /// How progress is shown.
    pub progress: ProgressMode,
}

impl Options {
    /// Defaults for `env`, progress off.
    pub fn new(env: HfEnvironment) -> Options {
        Options {
            env,
            tuning: Tuning::default(),
            // The Hub rate-limits in 5-minute windows: more patience than
            // the default.
            retry: RetryPolicy {
                attempts: 6,
                base: std::time::Duration::from_millis(400),
                max_backoff: std::time::Duration::from_secs(10),
                max_wait: std::time::Duration::from_secs(120),
            },
            timeouts: Timeouts::default(),
            progress: ProgressMode::Off,
        }
    }
}

/// What happened to one model.
#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    /// `org/name`.
    pub repo: String,
    /// The revision asked for.
    pub revision: String,
    /// The commit it names.
    pub commit: Option<String>,
    /// `snapshots/{commit}`: what `snapshot_download` returns.
    pub snapshot: Option<PathBuf>,
    /// Files selected.
    pub files: usize,
    /// Files already in place.
    pub present: usize,
    /// Files downloaded now.
    pub downloaded: usize,
    /// Of those, resumed from an earlier run's partial download.
    pub resumed: usize,
    /// Bytes received now.
    pub bytes_downloaded: u64,
    /// Bytes of the selected files.
    pub bytes_total: u64,
}

/// The result of a prefetch.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The cache root.
    pub cache: PathBuf,
    /// The Hub.
    pub endpoint: String,
    /// No request was made.
    pub offline: bool,
    /// HTTP requests sent (redirect hops included).
    pub requests: u64,
    /// Per model.
    pub models: Vec<ModelReport>,
    /// Things worth knowing that are not failures.
    pub warnings: Vec<String>,
    /// Wall time.
    pub seconds: f64,
}

/// Fetches `models` into the cache (or, offline, checks they are there).
pub fn prefetch(models: &[ModelSpec], opts: &Options) -> Result<Report, HfError> {
    let started = Instant::now();
    if opts.env.offline {
        let mut report = check_offline(models, &opts.env)?;
        report.seconds = started.elapsed().as_secs_f64();
        return Ok(report);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .map_err(|e| HfError::io("tokio runtime", e))?;
    let mut report = runtime.block_on(fetch_online(models, opts))?;
    report.seconds = started.elapsed().as_secs_f64();
    Ok(report)
}

struct Plan {
    spec: ModelSpec,
    cache: RepoCache,
    commit: String,
    selected: Vec<RepoFile>,
    missing: Vec<RepoFile>,
}

async fn plan_model(
    client: &api::HubClient,
    root: &std::path::Path,
    spec: &ModelSpec,
) -> Result<Plan, HfError> {
    let cache = RepoCache::new(root, &spec.repo);
    let (commit, listed) = if api::is_commit(&spec.revision) {
        let commit = spec.revision.to_ascii_lowercase();
        if cache.read_tree(&commit)?.is_some() {
            (commit, None)
        } else {
            client.revision_files(&spec.repo, &commit).await?
        }
    } else {
        client.revision_files(&spec.repo, &spec.revision).await?
    };
    let files = match cache.read_tree(&commit)? {
        Some(files) => files,
        None => {
            let files = match listed {
                Some(files) => files,
                // A Hub that does not list blobs with the revision.
                None => client.tree(&spec.repo, &commit).await?,
            };
            cache
                .write_tree(&commit, &files)
                .map_err(|e| HfError::io(cache.tree_path(&commit), e))?;
            files
        }
    };
    cache
        .write_ref(&spec.revision, &commit)
        .map_err(|e| HfError::io(cache.ref_path(&spec.revision), e))?;
    cache.tag_root();
    let filter = spec.filter();
    let selected: Vec<RepoFile> = files
        .into_iter()
        .filter(|f| filter.keeps(&f.path))
        .collect();
    if selected.is_empty() {
        return Err(HfError::Protocol {
            what: format!("{}@{}", spec.repo, spec.revision),
            detail: format!(
                "no file matches include {:?} / exclude {:?}; fix the patterns (case-sensitive fnmatch, `*` crosses `/`, `dir/` means the folder)",
                spec.include, spec.exclude
            ),
        });
    }
    let missing = selected
        .iter()
        .filter(|f| !cache.is_in_place(&commit, f))
        .cloned()
        .collect();
    Ok(Plan {
        spec: spec.clone(),
        cache,
        commit,
        selected,
        missing,
    })
}

/// The cache's fallback to copies, said once per run unless silenced.
fn symlink_warning(env: &HfEnvironment) -> Vec<String> {
    if env.no_symlinks_warning || cache::symlinks_supported(&env.cache_root) {
        return Vec::new();
    }
    vec![cache::no_symlinks_warning(
        &env.cache_root,
        crate::platform::Os::HOST,
    )]
}

async fn fetch_online(models: &[ModelSpec], opts: &Options) -> Result<Report, HfError> {
    let client = api::HubClient::new(
        &opts.env.endpoint,
        opts.env.token.clone(),
        opts.retry,
        &opts.timeouts,
    )
    .map_err(|e| HfError::Protocol {
        what: "HF_ENDPOINT".into(),
        detail: e.to_string(),
    })?;
    let root = &opts.env.cache_root;
    let mut errors = Vec::new();
    let mut plans = Vec::new();
    let timeline = opts.env.timeline.clone().map(timeline::Timeline::new);
    let meta = timeline::Timeline::open(timeline.as_ref(), timeline::API, || "metadata".into());
    let planned =
        download::join_all(models.iter().map(|spec| plan_model(&client, root, spec))).await;
    meta.end();
    for p in planned {
        match p {
            Ok(p) => plans.push(p),
            Err(e) => errors.push(e),
        }
    }
    let (owners, jobs): (Vec<usize>, Vec<FileJob>) = plans
        .iter()
        .enumerate()
        .flat_map(|(i, p)| p.missing.iter().map(move |f| (i, p.job(f))))
        .unzip();
    let mut progress = Progress::new(opts.progress);
    progress.start(jobs.iter().map(|j| j.file.size).sum(), jobs.len() as u64);
    let shared = Arc::new(Shared {
        client,
        tuning: opts.tuning.clone(),
        progress,
        timeline,
    });
    let outcomes = download_all(&shared, jobs).await;
    if let Some(t) = &shared.timeline {
        t.write();
    }
    let mut per_model: Vec<Vec<Fetched>> = plans.iter().map(|_| Vec::new()).collect();
    for (i, r) in owners.into_iter().zip(outcomes) {
        match r {
            Ok(f) => per_model[i].push(f),
            Err(e) => errors.push(e),
        }
    }
    let reports = plans
        .iter()
        .zip(&per_model)
        .map(|(p, out)| p.report(out))
        .collect();
    if !errors.is_empty() {
        return Err(if errors.len() == 1 {
            errors.remove(0)
        } else {
            HfError::Many { errors }
        });
    }
    Ok(Report {
        cache: root.clone(),
        endpoint: shared.client.endpoint().to_owned(),
        offline: false,
        requests: shared.client.requests(),
        models: reports,
        warnings: symlink_warning(&opts.env),
        seconds: 0.0,
    })
}

/// The commit a spec names offline: its revision when that is a commit,
/// else what the cached ref says (checked: a ref that is not a commit is
/// an error, not a path).
fn offline_commit(cache: &RepoCache, spec: &ModelSpec) -> Result<Option<String>, HfError> {
    if api::is_commit(&spec.revision) {
        return Ok(Some(spec.revision.to_ascii_lowercase()));
    }
    cache.read_commit_ref(&spec.revision)
}

/// Runs every download through the queue, with a progress line every few
/// seconds when that is the mode.
async fn download_all(shared: &Arc<Shared>, jobs: Vec<FileJob>) -> Vec<Result<Fetched, HfError>> {
    let ticker = shared
        .progress
        .line_interval()
        .filter(|_| !jobs.is_empty())
        .map(|every| {
            let shared = shared.clone();
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(every);
                tick.tick().await;
                loop {
                    tick.tick().await;
                    eprintln!("{}", shared.progress.line());
                }
            })
        });
    let outcomes = queue::run(shared.clone(), jobs).await;
    if let Some(t) = ticker {
        t.abort();
        eprintln!("{}", shared.progress.line());
    }
    shared.progress.finish();
    outcomes
}

impl Plan {
    fn job(&self, file: &RepoFile) -> FileJob {
        FileJob {
            repo: self.spec.repo.clone(),
            commit: self.commit.clone(),
            file: file.clone(),
            cache: self.cache.clone(),
        }
    }

    fn report(&self, fetched: &[Fetched]) -> ModelReport {
        let mut r = ModelReport {
            repo: self.spec.repo.clone(),
            revision: self.spec.revision.clone(),
            commit: Some(self.commit.clone()),
            snapshot: Some(self.cache.snapshot_dir(&self.commit)),
            files: self.selected.len(),
            present: self.selected.len() - self.missing.len(),
            downloaded: 0,
            resumed: 0,
            bytes_downloaded: 0,
            bytes_total: self.selected.iter().map(|f| f.size).sum(),
        };
        for f in fetched {
            match f {
                Fetched::Present => r.present += 1,
                Fetched::Downloaded {
                    bytes,
                    resumed_from,
                } => {
                    r.downloaded += 1;
                    r.bytes_downloaded += bytes;
                    if *resumed_from > 0 {
                        r.resumed += 1;
                    }
                }
            }
        }
        r
    }
}

/// Offline: no request at all; every selected file must be in the cache.
fn check_offline(models: &[ModelSpec], env: &HfEnvironment) -> Result<Report, HfError> {
    let mut missing = Vec::new();
    let mut bad = Vec::new();
    let mut warnings = Vec::new();
    let mut reports = Vec::new();
    for spec in models {
        let cache = RepoCache::new(&env.cache_root, &spec.repo);
        let at = format!("{}@{}", spec.repo, spec.revision);
        let commit = match offline_commit(&cache, spec) {
            Ok(c) => c,
            Err(e) => {
                bad.push(e);
                continue;
            }
        };
        let Some(commit) = commit else {
            missing.push(format!(
                "{at}: never fetched (no {})",
                cache.ref_path(&spec.revision).display()
            ));
            continue;
        };
        let snapshot = cache.snapshot_dir(&commit);
        let mut r = ModelReport {
            repo: spec.repo.clone(),
            revision: spec.revision.clone(),
            commit: Some(commit.clone()),
            snapshot: Some(snapshot.clone()),
            files: 0,
            present: 0,
            downloaded: 0,
            resumed: 0,
            bytes_downloaded: 0,
            bytes_total: 0,
        };
        match cache.read_tree(&commit) {
            Err(e) => bad.push(e),
            Ok(Some(files)) => {
                let filter = spec.filter();
                for f in files.iter().filter(|f| filter.keeps(&f.path)) {
                    r.files += 1;
                    r.bytes_total += f.size;
                    if cache.is_in_place(&commit, f) {
                        r.present += 1;
                    } else {
                        missing.push(format!("{at}: {}", f.path));
                    }
                }
            }
            Ok(None) if snapshot.is_dir() => warnings.push(format!(
                "{at}: no file listing cached for commit {commit} ({}): the snapshot exists but its completeness cannot be checked offline",
                cache.tree_path(&commit).display()
            )),
            Ok(None) => missing.push(format!("{at}: snapshot {commit} is not in the cache")),
        }
        reports.push(r);
    }
    if !missing.is_empty() {
        bad.push(HfError::OfflineMissing { missing });
    }
    if !bad.is_empty() {
        return Err(if bad.len() == 1 {
            bad.remove(0)
        } else {
            HfError::Many { errors: bad }
        });
    }
    Ok(Report {
        cache: env.cache_root.clone(),
        endpoint: env.endpoint.clone(),
        offline: true,
        requests: 0,
        models: reports,
        warnings,
        seconds: 0.0,
    })
}

/// For `cargo xtask doctor`: hf-prefetch runs no external tool; it reports
/// the cache it writes to (missing until the first prefetch).
pub fn doctor_tools(_project: &Project) -> Vec<ToolReport> {
    let root = cache_root(|k| std::env::var(k).ok());
    let exists = root.is_dir();
    vec![ToolReport {
        name: "huggingface cache".into(),
        path: exists.then(|| root.clone()),
        version: exists.then(|| "huggingface_hub layout".into()),
        used_by: "hf-prefetch".into(),
        install: format!(
            "created at {} by `cargo xtask hf-prefetch` (set HF_HUB_CACHE or HF_HOME to move it)",
            root.display()
        ),
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_specs() {
        let m = ModelSpec::parse("org/name@v1.0").unwrap();
        assert_eq!((m.repo.as_str(), m.revision.as_str()), ("org/name", "v1.0"));
        assert_eq!(ModelSpec::parse("org/name").unwrap().revision, "main");
        assert_eq!(
            ModelSpec::parse("o/n@refs/pr/1").unwrap().revision,
            "refs/pr/1"
        );
        for bad in ["name", "a/b/c", "org/", "org/na me", "org/x--y", "org/n@"] {
            assert!(ModelSpec::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn environment() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            HfEnvironment::from_lookup(move |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            })
        };
        let e = env(&[("HF_HOME", "/nonexistent-hf"), ("HF_HUB_OFFLINE", "yes")]).unwrap();
        assert_eq!(e.endpoint, DEFAULT_ENDPOINT);
        assert!(e.token.is_none() && e.offline);
        assert_eq!(e.cache_root, PathBuf::from("/nonexistent-hf/hub"));
        let e = env(&[
            ("HF_HOME", "/nonexistent-hf"),
            ("HUGGING_FACE_HUB_TOKEN", "hf_second_choice"),
            ("HF_ENDPOINT", "http://127.0.0.1:1/"),
            ("HF_HUB_OFFLINE", "0"),
        ])
        .unwrap();
        assert_eq!(e.endpoint, "http://127.0.0.1:1");
        assert_eq!(e.token.unwrap().expose(), "hf_second_choice");
        assert_eq!(e.token_source.as_deref(), Some("HUGGING_FACE_HUB_TOKEN"));
        assert!(!e.offline);
        assert!(env(&[("HF_ENDPOINT", "huggingface.co")]).is_err());
        for t in ["1", "ON", "yes", "True"] {
            assert!(is_true(t));
        }
        assert!(!is_true("0") && !is_true("no") && !is_true(""));
    }

    #[test]
    fn model_arguments_that_could_be_tokens_are_not_quoted() {
        for shown in ["not-a-repo", "org/na me@x", "a/b/c", "org/x--y"] {
            let err = ModelSpec::parse(shown).unwrap_err().to_string();
            assert!(
                err.contains(&format!("{:?}", shown)) || shown.contains(' '),
                "{err}"
            );
        }
        for token in [
            "hf_abcdefghijklmnopqrstuvwxyzABCDEFGH",
            "pypi-AgEIcHlwaS5vcmcCJGFiY2Q",
            "xK9mQ2vL8nR4tY6wZ1aB3cD5eF7gH0jJ",
            "o/n@sk-live secret",
            "o/n@+secret+ x",
        ] {
            let err = ModelSpec::parse(token).unwrap_err().to_string();
            assert!(!err.contains(token), "{err}");
            assert!(err.contains("value not shown"), "{err}");
        }
    }

    #[test]
    fn a_configured_model_named_by_model_keeps_its_settings() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("release-kit.toml"),
            "[[hf.models]]\nrepo = \"org/pinned\"\nrevision = \"v2\"\ninclude = [\"*.json\"]\nexclude = [\"big/*\"]\n",
        )
        .unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let m = select_models(&project, &["org/pinned".into()], &[], &[]).unwrap();
        assert_eq!(m[0].include, vec!["*.json"]);
        assert_eq!(m[0].exclude, vec!["big/*"]);
        assert_eq!(m[0].revision, "v2");
        // An @REV wins over the configured revision, not over the patterns.
        let m = select_models(&project, &["org/pinned@main".into()], &[], &[]).unwrap();
        assert_eq!((m[0].revision.as_str(), m[0].include.len()), ("main", 1));
        // --include/--exclude still replace them for the run.
        let m = select_models(&project, &["org/pinned".into()], &["*.bin".into()], &[]).unwrap();
        assert_eq!(
            (m[0].include.clone(), m[0].exclude.clone()),
            (vec!["*.bin".to_owned()], vec!["big/*".to_owned()])
        );
        // A model that is not configured has none, and a bad one beside a
        // good one does not shift their settings.
        let m = select_models(
            &project,
            &["bad".into(), "other/x".into(), "org/pinned".into()],
            &[],
            &[],
        );
        assert_eq!(m.unwrap_err().problems.len(), 1);
        let m =
            select_models(&project, &["other/x".into(), "org/pinned".into()], &[], &[]).unwrap();
        assert!(m[0].include.is_empty() && m[0].revision == "main");
        assert_eq!(m[1].include, vec!["*.json"]);
    }

    #[test]
    fn a_token_file_that_is_a_fifo_or_folder_is_a_problem_not_a_hang() {
        let tmp = tempfile::tempdir().unwrap();
        let folder = tmp.path().join("token-dir");
        std::fs::create_dir(&folder).unwrap();
        let fifo = tmp.path().join("token-fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        let mut paths = vec![folder];
        if made.is_ok_and(|s| s.success()) {
            paths.push(fifo);
        }
        for path in paths {
            let (tx, rx) = std::sync::mpsc::channel();
            let p = path.display().to_string();
            std::thread::spawn(move || {
                let r = HfEnvironment::from_lookup(|k| (k == "HF_TOKEN_PATH").then(|| p.clone()));
                let _ = tx.send(r.map(|_| ()).map_err(|e| e.to_string()));
            });
            let r = rx
                .recv_timeout(std::time::Duration::from_secs(5))
                .expect("reading the token file hung");
            let err = r.unwrap_err();
            assert!(
                err.contains("token file") && err.contains("regular file"),
                "{err}"
            );
        }
    }

    #[test]
    fn cli_overrides_config() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join(crate::config::FILE_NAME),
            "[[hf.models]]\nrepo = \"sentence-transformers/all-MiniLM-L6-v2\"\n",
        )
        .unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let m = select_models(&project, &[], &["*.json".into()], &[]).unwrap();
        assert_eq!(m[0].repo, "sentence-transformers/all-MiniLM-L6-v2");
        assert_eq!(m[0].include, vec!["*.json"]);
        let m = select_models(&project, &["a/b@v2".into()], &[], &["*.bin".into()]).unwrap();
        assert_eq!((m[0].repo.as_str(), m[0].revision.as_str()), ("a/b", "v2"));
        assert_eq!(m[0].exclude, vec!["*.bin"]);
        let errs = select_models(&project, &["bad".into(), "x/y@".into()], &[], &[]).unwrap_err();
        assert_eq!(errs.problems.len(), 2);
    }
}
