//! `cargo xtask publish`: check everything, then upload only what the index
//! does not already have.
//!
//! Every selected package is published: its sdist and every wheel (checked
//! by [`super::dist`]), `twine check --strict` once over all of them, one
//! index query and one twine run per package, sdist first.
//!
//! Safe re-run: before each twine run the index is asked which files it
//! holds (see [`super::index`]). A file already there with the same sha256
//! is skipped; the same name with another hash stops the run, because no
//! index lets a published file be replaced. A transient failure (no
//! connection, 5xx, 429) is retried with bounded backoff, asking the index
//! again first, so a file that did land is not sent twice.

use std::path::PathBuf;
use std::time::Duration;

use serde::Serialize;

use super::Target;
use super::dist::{self, Release};
use super::index::{self, Candidate, IndexQuery, Source};
use super::oidc::{self, GithubIdTokenSource, PublisherContext};
use super::package::{self, DistFile, Package};
use super::twine_check::{self, Verdict};
use super::upload::{Login, Upload, UploadError};
use super::venv;
use crate::ci::Actions;
use crate::config::Project;
use crate::decode::pypi_token::{self as token, Finding, Severity};
use crate::net::RetryPolicy;
use crate::preflight::{Preflight, PreflightError};
use crate::secret::{Redactor, Secret};
use crate::settings::Settings;
use crate::step::Reporter;
use crate::tools::Echo;

/// What the user asked for.
#[derive(Clone, Debug)]
pub struct PublishOptions {
    /// Where to.
    pub target: Target,
    /// Everything but the upload.
    pub dry_run: bool,
    /// Ask this simple-API root which files exist, instead of the one
    /// found for the target (`--check-url`; `[python] check-url` applies
    /// to `--repository-url` targets when this is unset).
    pub check_url: Option<String>,
    /// The trusted publishing base URL, instead of the target's.
    pub oidc_url: Option<String>,
    /// Child output to stderr as it comes.
    pub echo: Echo,
    /// Retries of index queries and uploads.
    pub policy: RetryPolicy,
    /// `dist/` is about to be built (the release pipeline checks before
    /// building): skip the check of its files.
    pub dist_pending: bool,
    /// The index is started by an earlier step (the rehearsal): find its
    /// listing at run time.
    pub index_pending: bool,
    /// `--package NAME`: publish only this package (all when `None`).
    pub package: Option<String>,
    /// Publish these files instead of those in `dist/` (the downloaded
    /// artifacts of a CI build matrix).
    pub files: Option<ListedFiles>,
}

/// Files to publish that are not in `dist/`.
#[derive(Clone, Debug)]
pub struct ListedFiles {
    /// Where they came from (the artifacts folder), for messages.
    pub from: PathBuf,
    /// The files; those of packages not published are ignored.
    pub paths: Vec<PathBuf>,
}

impl PublishOptions {
    /// Defaults for `target`.
    pub fn new(target: Target) -> PublishOptions {
        PublishOptions {
            target,
            dry_run: false,
            check_url: None,
            oidc_url: None,
            echo: Echo::Quiet,
            policy: RetryPolicy::default(),
            dist_pending: false,
            index_pending: false,
            package: None,
            files: None,
        }
    }

    /// Where the listing may be: the URL the user named, else the known
    /// layouts of the target.
    fn candidates(&self, project: &Project) -> Vec<Candidate> {
        let config = project.config.python.check_url.as_deref();
        match (&self.check_url, &self.target) {
            (Some(url), _) => vec![Candidate::given(url, Source::Flag)],
            (None, Target::Custom { .. }) if config.is_some() => {
                vec![Candidate::given(config.unwrap_or_default(), Source::Config)]
            }
            (None, t) => index::candidates(&t.upload_url()),
        }
    }
}

/// Where the upload credential comes from.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A password variable (`TWINE_PASSWORD`, `TWINE_PASSWORD_TEST`).
    Variable(&'static str),
    /// Trusted publishing in GitHub Actions.
    TrustedPublishing(GithubIdTokenSource),
}

/// Everything checked, ready to run.
#[derive(Debug)]
pub struct Prepared {
    /// Each package published, with its files (sdist first).
    pub releases: Vec<Release>,
    /// TWINE_USERNAME.
    pub username: String,
    /// The credential.
    pub credential: Credential,
    /// What the token inspection found that does not stop the run.
    pub token_notes: Vec<Finding>,
    /// Where the index lists its files (`None` until the index exists:
    /// [`PublishOptions::index_pending`]).
    pub listing: Option<Candidate>,
}

/// Checks everything `publish` needs, changing nothing: the only requests
/// are reads of the index's listing, to find it (a listing that cannot be
/// found is a problem here, not an empty listing later).
/// `env` reads the process environment (GitHub Actions variables).
pub fn prepare(
    project: &Project,
    settings: &Settings,
    opts: &PublishOptions,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Prepared, PreflightError> {
    let mut pre = Preflight::new();
    let target = &opts.target;
    let var = target.password_var();
    let password = settings.explicit(var);
    let in_actions = Actions::from_env(env).is_some();
    let oidc_source = GithubIdTokenSource::from_env(env);
    let trusted = password.is_none() && in_actions && oidc_source.is_some();

    // Every variable of the step, but a missing password is fine when
    // trusted publishing will mint one.
    let report = settings.check(&[target.step()], false);
    for p in &report.errors {
        if p.name == var && password.is_none() {
            continue;
        }
        pre.problem(p.to_string());
    }
    if password.is_none() && !trusted {
        let hint = if in_actions {
            "\n    in GitHub Actions: give the job `permissions: id-token: write` and add a trusted \
             publisher on the index to publish without a token (pull requests from forks never get one)"
        } else {
            ""
        };
        let fix = crate::settings::registry::var(var)
            .map(|v| v.generate)
            .unwrap_or("");
        pre.problem(format!(
            "{var}: is not set; needed by publish to {}\n    fix: {fix}{hint}",
            target.label()
        ));
    }

    let packages = package::selected(project, opts.package.as_deref(), &mut pre);
    let mut releases = Vec::new();
    for package in packages {
        let files = if opts.dist_pending {
            Vec::new()
        } else {
            release_files(project, &package, opts.files.as_ref(), &mut pre)
        };
        releases.push(Release { package, files });
    }
    for e in venv::check(project) {
        pre.problem(e.to_string());
    }
    let before = pre.problems().len();
    if let Target::Custom { url } = target {
        check_index_url("--repository-url", url, &mut pre);
    }
    if let Some(url) = &opts.check_url {
        check_index_url("--check-url", url, &mut pre);
    }
    if let Some(url) = project.config.python.check_url.as_deref()
        && opts.check_url.is_none()
        && matches!(target, Target::Custom { .. })
    {
        check_index_url("[python] check-url", url, &mut pre);
    }
    let username = settings
        .value("TWINE_USERNAME")
        .map(|s| s.expose().to_owned())
        .unwrap_or_else(|| "__token__".into());
    // One listing serves every package; each one's page is probed. Before
    // trusted publishing mints a token there is none to read with: an
    // index that wants one is asked again after minting.
    let names: Vec<&str> = releases.iter().map(|r| r.package.name.as_str()).collect();
    let listing = if !names.is_empty() && pre.problems().len() == before && !opts.index_pending {
        let from = format!("TWINE_USERNAME and {var}");
        let auth = password.and_then(|pw| read_auth(target, &username, pw, &from));
        find_listing(project, opts, &names, auth.as_ref(), trusted, &mut pre)
    } else {
        None
    };
    let mut token_notes: Vec<Finding> = Vec::new();
    if let Some(pw) = password
        && username == "__token__"
        && let Ok(info) = token::inspect(pw.expose())
    {
        let mut findings: Vec<Finding> = Vec::new();
        for r in &releases {
            for f in token::assess(
                &info,
                target.token_index(),
                Some(&r.package.name),
                token::unix_now(),
            ) {
                if !findings.iter().any(|g| g.message == f.message) {
                    findings.push(f);
                }
            }
        }
        for f in findings {
            if f.severity == Severity::Error {
                // The settings check already reports a wrong index / expiry.
                let line = format!("{var}: {}", f.message);
                if !report
                    .errors
                    .iter()
                    .any(|p| p.name == var && p.message.contains(&f.message))
                {
                    pre.problem(line);
                }
            } else {
                token_notes.push(f);
            }
        }
    }

    pre.finish()?;
    Ok(Prepared {
        releases,
        // A minted token always goes with `__token__`.
        username: if trusted {
            "__token__".into()
        } else {
            username
        },
        credential: if trusted {
            Credential::TrustedPublishing(oidc_source.expect("checked"))
        } else {
            Credential::Variable(var)
        },
        token_notes,
        listing,
    })
}

/// The upload credentials for listing reads of a `--repository-url`
/// index (never PyPI's or TestPyPI's: their JSON API is public).
fn read_auth(
    target: &Target,
    username: &str,
    password: &Secret,
    from: &str,
) -> Option<index::ReadAuth> {
    let Target::Custom { url } = target else {
        return None;
    };
    index::ReadAuth::basic(url, username, password, from)
}

/// The index's listing, found by [`index::discover`]; a problem when it
/// cannot be found. With trusted publishing still to mint a token, an
/// index that wants credentials to read is left to the run.
fn find_listing(
    project: &Project,
    opts: &PublishOptions,
    names: &[&str],
    auth: Option<&index::ReadAuth>,
    trusted: bool,
    pre: &mut Preflight,
) -> Option<Candidate> {
    let http = match crate::net::Blocking::new() {
        Ok(h) => h,
        Err(e) => {
            pre.problem(e.to_string());
            return None;
        }
    };
    let candidates = opts.candidates(project);
    let upload = opts.target.upload_url();
    let reader = index::Reader::new(&http, opts.policy, auth);
    match index::discover(&reader, &candidates, &upload, names) {
        Ok(c) => Some(c),
        Err(index::IndexError::Unauthorized { sent: None, .. })
            if trusted && matches!(opts.target, Target::Custom { .. }) =>
        {
            None
        }
        Err(e) => {
            let given = candidates
                .first()
                .filter(|c| !matches!(c.source, Source::Layout(_)));
            pre.problem(match given {
                Some(c) => format!("{} {}: {e}", c.source, c.query.root()),
                None => format!("publish to {}: {e}", opts.target.label()),
            });
            None
        }
    }
}

/// The checked files of `package`: from `listed` when given, else from
/// `dist/`.
fn release_files(
    project: &Project,
    package: &Package,
    listed: Option<&ListedFiles>,
    pre: &mut Preflight,
) -> Vec<DistFile> {
    let found = match listed {
        Some(l) => {
            let mine: Vec<PathBuf> = l
                .paths
                .iter()
                .filter(|p| package::is_package_file(p, &package.name))
                .cloned()
                .collect();
            dist::check_release(
                &mine,
                package,
                &l.from.display().to_string(),
                "rebuild the artifacts (run the release workflow's build jobs again)",
                pre,
            )
        }
        None => dist::release_files(&project.dist_dir(), package, pre),
    };
    found.unwrap_or_else(|e| {
        pre.problem(crate::error::describe(&e));
        Vec::new()
    })
}

/// An index URL must parse and hold no credentials: it is printed, put in
/// twine's argv and in reports. The message never repeats a URL that
/// carries credentials.
fn check_index_url(flag: &str, url: &str, pre: &mut Preflight) {
    match crate::net::Url::parse(url) {
        Err(_) => pre.problem(format!(
            "{flag}: not a URL; give the index's URL, e.g. http://127.0.0.1:8080/"
        )),
        Ok(u) if crate::net::has_credentials(&u) => {
            pre.problem(format!(
                "{flag}: the URL carries credentials (user, password or query string), which would be printed \
                 and passed on the command line; give the bare URL and put the credentials in \
                 TWINE_USERNAME and TWINE_PASSWORD"
            ))
        }
        Ok(u) if !matches!(u.scheme(), "http" | "https") => pre.problem(format!(
            "{flag}: only http:// and https:// indexes are supported"
        )),
        Ok(_) => {}
    }
}

/// What happened (or would happen) to one file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    /// Sent to the index.
    Uploaded,
    /// Already there with the same sha256.
    Skipped,
    /// Dry run: would be sent.
    WouldUpload,
    /// Dry run: already there.
    WouldSkip,
}

/// One file's outcome.
#[derive(Clone, Debug, Serialize)]
pub struct FileOutcome {
    /// File name.
    pub name: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256.
    pub sha256: String,
    /// What happened.
    pub action: Action,
}

/// The result of `publish`.
#[derive(Clone, Debug, Serialize)]
pub struct PublishReport {
    /// Where to (label).
    pub target: String,
    /// The upload URL.
    pub upload_url: String,
    /// The index query used for the skip check.
    pub checked: String,
    /// How the listing was found (`devpi layout`, `--check-url`, …).
    pub found_by: String,
    /// The version (every package's).
    pub version: String,
    /// Dry run?
    pub dry_run: bool,
    /// `TWINE_PASSWORD`, `TWINE_PASSWORD_TEST` or `trusted publishing`.
    pub credential: String,
    /// Twine upload runs made, over all packages.
    pub attempts: u32,
    /// Per package, in order.
    pub packages: Vec<PackageOutcome>,
}

/// What happened to one package's files.
#[derive(Clone, Debug, Serialize)]
pub struct PackageOutcome {
    /// Package name.
    pub package: String,
    /// Version.
    pub version: String,
    /// The package's page on the index's listing.
    pub listing: String,
    /// Per file, sdist first.
    pub files: Vec<FileOutcome>,
}

impl PublishReport {
    /// Every file of every package.
    pub fn files(&self) -> impl Iterator<Item = &FileOutcome> {
        self.packages.iter().flat_map(|p| p.files.iter())
    }

    /// Each package's page on the listing, joined.
    pub fn listings(&self) -> String {
        self.packages
            .iter()
            .map(|p| p.listing.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The package names, joined.
    pub fn names(&self) -> String {
        self.packages
            .iter()
            .map(|p| p.package.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Why a publish failed after its check. Messages that may quote a
/// server's answer are already redacted (with the minted token too).
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The upload tools could not be provisioned.
    #[error(transparent)]
    Tools(#[from] venv::ToolsError),
    /// The password variable was there at the check and is not now.
    #[error("{0} vanished between the check and the upload")]
    Vanished(&'static str),
    /// Minting a token by trusted publishing failed.
    #[error("{0}")]
    TrustedPublishing(String),
    /// The index could not say which files it has.
    #[error("{0}")]
    Index(String),
    /// The index holds files of these names with other content.
    #[error(
        "{}\nan index never lets a published file be replaced: bump the version in {version} \
         and run `cargo xtask build` again (or, if these are the files you meant, \
         restore them from the release that published them)",
        conflicts.join("\n")
    )]
    Conflict {
        /// One line per file.
        conflicts: Vec<String>,
        /// The version and where it is set.
        version: String,
    },
    /// twine's upload failed (with what to do).
    #[error("{0}")]
    Upload(String),
    /// `twine check --strict` refused files; nothing was uploaded.
    #[error(
        "twine check --strict refused files, nothing was uploaded:\n{output}\n\
         fix the package metadata (README format, license, classifiers) and build again"
    )]
    TwineCheck {
        /// twine's last lines, redacted.
        output: String,
    },
    /// A tool could not be started.
    #[error(transparent)]
    Child(#[from] crate::tools::ChildError),
    /// The HTTP client could not be set up (a bad SSL_CERT_FILE).
    #[error(transparent)]
    Net(#[from] crate::net::NetError),
}

/// Runs the publish after [`prepare`]: tools, credential, index query,
/// upload with retries. `redactor` masks every loaded secret; minted tokens
/// are added to a copy of it.
pub fn run(
    project: &Project,
    settings: &Settings,
    prepared: &Prepared,
    opts: &PublishOptions,
    env: &dyn Fn(&str) -> Option<String>,
    reporter: &dyn Reporter,
) -> Result<PublishReport, PublishError> {
    let mut redactor: Redactor = settings.redactor().clone();
    let actions = Actions::from_env(env);
    let target = &opts.target;
    // Provisioning may already have changed target/: a failure here is a
    // failed step (exit 1), not a preflight problem.
    // A dry run installs nothing: the index query is ours, not twine's.
    let tools = if opts.dry_run {
        None
    } else {
        Some(venv::ensure(project, opts.echo)?)
    };
    let client = crate::net::Blocking::new()?;

    let (password, origin): (Secret, String) = match &prepared.credential {
        Credential::Variable(var) => (
            settings
                .explicit(var)
                .cloned()
                .ok_or(PublishError::Vanished(var))?,
            (*var).to_owned(),
        ),
        Credential::TrustedPublishing(_) if opts.dry_run => {
            // Minting is a request with an effect (a token exists for 15
            // minutes): a dry run only says it would.
            reporter.info(&format!(
                "dry run: no {} set; a real run mints a short-lived token by trusted publishing",
                target.password_var()
            ));
            (
                Secret::new(""),
                "trusted publishing (not minted in a dry run)".to_owned(),
            )
        }
        Credential::TrustedPublishing(source) => {
            redactor.add(&source.request_token);
            let base = opts
                .oidc_url
                .clone()
                .unwrap_or_else(|| target.default_oidc_base());
            reporter.info(&format!(
                "no {} set: minting a short-lived token by trusted publishing at {base}",
                target.password_var()
            ));
            let context = PublisherContext {
                repository: env("GITHUB_REPOSITORY"),
                workflow_ref: env("GITHUB_WORKFLOW_REF"),
                project: prepared.releases.first().map(|r| r.package.name.clone()),
            };
            let mut mask = |jwt: &Secret| {
                if let Some(a) = &actions {
                    reporter.workflow_command(&a.add_mask(jwt));
                }
                redactor.add(jwt);
            };
            let minted = oidc::exchange(&client, &base, source, opts.policy, &context, &mut mask)
                .map_err(|e| {
                PublishError::TrustedPublishing(redactor.redact(&e.to_string()))
            })?;
            // Masked before anything else can print it.
            let mut only = Redactor::new();
            only.add(&minted.token);
            if let Some(a) = &actions {
                // The raw value first, then its encodings.
                let raw = a.add_mask(&minted.token);
                reporter.workflow_command(&raw);
                for line in a.mask_lines(&only).into_iter().filter(|l| *l != raw) {
                    reporter.workflow_command(&line);
                }
            }
            redactor.add(&minted.token);
            if let Some(exp) = minted.expires {
                let left = exp.saturating_sub(token::unix_now());
                reporter.info(&format!(
                    "minted an upload token valid for {} min",
                    left / 60
                ));
            }
            (
                minted.token,
                "the token minted by trusted publishing".to_owned(),
            )
        }
    };
    for note in &prepared.token_notes {
        let msg = format!("{origin}: {}", note.message);
        match note.severity {
            Severity::Warning => reporter.warn(&msg),
            _ => reporter.info(&msg),
        }
    }

    if let Some(tools) = &tools {
        twine_check(tools, prepared, &redactor, opts.echo)?;
    }

    let auth = read_auth(
        target,
        &prepared.username,
        &password,
        &match &prepared.credential {
            Credential::Variable(v) => format!("TWINE_USERNAME and {v}"),
            Credential::TrustedPublishing(_) => "the token minted by trusted publishing".into(),
        },
    )
    .filter(|_| !password.expose().is_empty());
    let reader = index::Reader::new(&client, opts.policy, auth.as_ref());
    let discovered;
    let found = match prepared.listing.as_ref() {
        Some(found) => found,
        // Trusted publishing: the index wanted credentials to read.
        None => {
            let names: Vec<&str> = prepared
                .releases
                .iter()
                .map(|r| r.package.name.as_str())
                .collect();
            discovered = index::discover(
                &reader,
                &opts.candidates(project),
                &target.upload_url(),
                &names,
            )
            .map_err(|e| PublishError::Index(redactor.redact(&e.to_string())))?;
            &discovered
        }
    };
    let query = found.query.clone();
    let version = prepared
        .releases
        .first()
        .map(|r| r.package.version.version.clone())
        .unwrap_or_default();
    // Asked once per package, every package before any upload, so a
    // conflict anywhere stops the run with nothing sent.
    let mut todos = Vec::new();
    let mut conflicts = Vec::new();
    for release in &prepared.releases {
        let (todo, found) = pending(&reader, &query, release, &redactor)?;
        conflicts.extend(found);
        todos.push(todo);
    }
    if !conflicts.is_empty() {
        return Err(PublishError::Conflict {
            conflicts,
            version: prepared
                .releases
                .first()
                .map(|r| r.package.version.to_string())
                .unwrap_or_default(),
        });
    }
    let mut attempts = 0u32;
    if let Some(tools) = tools.as_ref().filter(|_| !opts.dry_run) {
        for (release, todo) in prepared.releases.iter().zip(todos.iter_mut()) {
            let upload = Uploader {
                tools,
                target,
                query: &query,
                found,
                reader: &reader,
                username: &prepared.username,
                password: &password,
                origin: &origin,
                redactor: &redactor,
                opts,
                reporter,
            };
            attempts += upload.run(release, todo)?;
        }
    }
    Ok(PublishReport {
        target: target.label(),
        upload_url: target.upload_url(),
        checked: query.to_string(),
        found_by: found.source.to_string(),
        version,
        dry_run: opts.dry_run,
        credential: match &prepared.credential {
            Credential::Variable(v) => (*v).to_owned(),
            Credential::TrustedPublishing(_) => "trusted publishing".into(),
        },
        attempts,
        packages: prepared
            .releases
            .iter()
            .zip(&todos)
            .map(|(r, todo)| PackageOutcome {
                package: r.package.name.clone(),
                version: r.package.version.version.clone(),
                listing: query.url(&r.package.name, &r.package.version.version),
                files: r
                    .files
                    .iter()
                    .map(|f| FileOutcome {
                        name: f.name.clone(),
                        size: f.size,
                        sha256: f.sha256.clone(),
                        action: match (opts.dry_run, todo.contains(&f.name)) {
                            (true, true) => Action::WouldUpload,
                            (true, false) => Action::WouldSkip,
                            (false, true) => Action::Uploaded,
                            (false, false) => Action::Skipped,
                        },
                    })
                    .collect(),
            })
            .collect(),
    })
}

/// The names of `release`'s files the index lacks, and one line per file
/// it holds with other content.
fn pending(
    reader: &index::Reader<'_>,
    query: &IndexQuery,
    release: &Release,
    redactor: &Redactor,
) -> Result<(Vec<String>, Vec<String>), PublishError> {
    let names: Vec<&str> = release.files.iter().map(|f| f.name.as_str()).collect();
    let existing = index::existing_files(
        reader,
        query,
        &release.package.name,
        &release.package.version.version,
        &names,
    )
    .map_err(|e| PublishError::Index(redactor.redact(&e.to_string())))?;
    let mut todo = Vec::new();
    let mut conflicts = Vec::new();
    for f in &release.files {
        match existing.get(&f.name) {
            Some(h) if *h == f.sha256 => {}
            Some(h) => conflicts.push(format!(
                "{}: the index already has a file of this name with other content \
                 (index sha256 {}, local {})",
                f.path.display(),
                short(h),
                short(&f.sha256)
            )),
            None => todo.push(f.name.clone()),
        }
    }
    Ok((todo, conflicts))
}

/// One package's upload: one twine run over its missing files (sdist
/// first), retried on a transient failure after asking the index again.
struct Uploader<'a> {
    tools: &'a venv::Tools,
    target: &'a Target,
    query: &'a IndexQuery,
    found: &'a Candidate,
    reader: &'a index::Reader<'a>,
    username: &'a str,
    password: &'a Secret,
    origin: &'a str,
    redactor: &'a Redactor,
    opts: &'a PublishOptions,
    reporter: &'a dyn Reporter,
}

impl Uploader<'_> {
    /// Uploads `todo` (names of `release`'s files), updating it to what
    /// was actually sent; returns the twine runs made.
    fn run(&self, release: &Release, todo: &mut Vec<String>) -> Result<u32, PublishError> {
        let (opts, redactor) = (self.opts, self.redactor);
        let mut attempts = 0u32;
        let mut failure = 0u32;
        loop {
            if todo.is_empty() {
                return Ok(attempts);
            }
            let files: Vec<&DistFile> = release
                .files
                .iter()
                .filter(|f| todo.contains(&f.name))
                .collect();
            attempts += 1;
            let url = self.target.upload_url();
            let upload = Upload {
                tools: self.tools,
                url: &url,
                username: self.username,
                password: self.password,
                password_origin: self.origin,
                files: &files,
            };
            self.reporter.info(&format!(
                "uploading {} to {url}",
                files
                    .iter()
                    .map(|f| f.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            match upload.run(redactor, opts.echo) {
                // No second listing: PyPI's JSON API is cached and would lag.
                Ok(_) => return Ok(attempts),
                Err(e) if e.is_transient() && failure + 1 < opts.policy.attempts => {
                    let wait = opts.policy.backoff(failure + 1);
                    failure += 1;
                    self.reporter.warn(&format!(
                        "{}; asking the index again and retrying in {:.1} s (attempt {} of {})",
                        redactor.redact(&e.to_string()),
                        wait.as_secs_f32(),
                        failure + 1,
                        opts.policy.attempts
                    ));
                    sleep(wait);
                    let (left, conflicts) = pending(self.reader, self.query, release, redactor)?;
                    if !conflicts.is_empty() {
                        return Err(PublishError::Conflict {
                            conflicts,
                            version: release.package.version.to_string(),
                        });
                    }
                    *todo = left;
                }
                Err(e) => {
                    return Err(PublishError::Upload(redactor.redact(&upload_error(
                        &e,
                        self.target,
                        self.found,
                    ))));
                }
            }
        }
    }
}

/// `twine check --strict` over every file of every package, in one run.
/// Files whose bytes already passed with the managed twine (recorded by
/// sha256 next to it) are not checked again: the check reads nothing but
/// the file.
fn twine_check(
    tools: &venv::Tools,
    prepared: &Prepared,
    redactor: &Redactor,
    echo: Echo,
) -> Result<(), PublishError> {
    let files: Vec<&DistFile> = prepared
        .releases
        .iter()
        .flat_map(|r| r.files.iter())
        .collect();
    match twine_check::check(tools, &files, redactor, echo)? {
        Verdict::Passed => Ok(()),
        Verdict::Refused(output) => Err(PublishError::TwineCheck { output }),
    }
}

fn sleep(d: Duration) {
    std::thread::sleep(d);
}

fn upload_error(e: &UploadError, target: &Target, found: &Candidate) -> String {
    match e {
        UploadError::Refused {
            login: Login::Account(user),
            ..
        } => match index::permission_hint(found, &target.upload_url(), user) {
            Some(hint) => format!("{e}\n{hint}"),
            None => e.to_string(),
        },
        UploadError::Rejected {
            status: 400 | 409,
            reason,
        } if reason.contains("exist") => format!(
            "{e}\nthe index holds a file of this name that the listing checked, {} (found by {}), \
             does not show. First make sure that listing is this index's: if not, pass \
             --check-url with the simple-API root of the index you upload to and run again, \
             and files already there are skipped. Only if it is (a deleted file stays reserved \
             on PyPI) bump the version and run `cargo xtask build` again",
            found.query.root(),
            found.source
        ),
        UploadError::Transient { .. } => format!(
            "{e}\ngave up after retries; run `cargo xtask publish` again later: files already on {} are skipped",
            target.label()
        ),
        _ => e.to_string(),
    }
}

fn short(h: &str) -> &str {
    &h[..h.len().min(12)]
}

/// The markdown table of a report, for `$GITHUB_STEP_SUMMARY`.
pub fn summary_markdown(r: &PublishReport) -> String {
    let mut s = format!(
        "### {} {} → {}{}\n\n| file | size | sha256 | action |\n|---|---:|---|---|\n",
        r.names(),
        r.version,
        r.target,
        if r.dry_run { " (dry run)" } else { "" }
    );
    for f in r.files() {
        s.push_str(&format!(
            "| `{}` | {} | `{}` | {:?} |\n",
            f.name,
            f.size,
            short(&f.sha256),
            f.action
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_existing_file_points_at_the_listing_before_the_version() {
        let e = UploadError::Rejected {
            status: 400,
            reason: "File already exists.".into(),
        };
        let target = Target::Custom {
            url: "http://h/team/uploads/".into(),
        };
        let found = index::candidates("http://h/team/uploads/").pop().unwrap();
        let m = upload_error(&e, &target, &found);
        let check = m.find("--check-url").expect(&m);
        let bump = m.find("bump the version").expect(&m);
        assert!(check < bump, "{m}");
        assert!(
            m.contains("http://h/simple/ (found by host root layout)"),
            "{m}"
        );
    }

    #[test]
    fn index_urls_with_credentials_are_refused_without_echo() {
        let mut pre = Preflight::new();
        check_index_url(
            "--repository-url",
            "http://alice:S3cretIdx@127.0.0.1:9/",
            &mut pre,
        );
        check_index_url(
            "--check-url",
            "https://idx.example/simple/?token=S3cretTok",
            &mut pre,
        );
        check_index_url("--check-url", "not a url S3cretWord", &mut pre);
        check_index_url("--repository-url", "http://127.0.0.1:8080/", &mut pre);
        let e = pre.finish().unwrap_err();
        assert_eq!(e.problems.len(), 3, "{:?}", e.problems);
        assert!(!e.to_string().contains("S3cret"), "{e}");
    }
}
