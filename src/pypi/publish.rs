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

use serde::Serialize;

use super::Target;
use super::dist::{self, Release};
use super::index::{self, Candidate, Source};
use super::oidc::GithubIdTokenSource;
use super::package::{self, DistFile, Package};
use super::venv;
use crate::ci::Actions;
use crate::config::Project;
use crate::decode::pypi_token::{self as token, Finding, Severity};
use crate::net::RetryPolicy;
use crate::preflight::{Preflight, PreflightError};
use crate::secret::Secret;
use crate::settings::Settings;
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
    pub(super) fn candidates(&self, project: &Project) -> Vec<Candidate> {
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

/// Where one package's upload credential comes from.
#[derive(Clone, Debug)]
pub enum Credential {
    /// A password variable (`TWINE_PASSWORD`, `TWINE_PASSWORD_TEST`, or
    /// the one the package names in release-kit.toml).
    Variable(String),
    /// Trusted publishing in GitHub Actions.
    TrustedPublishing(GithubIdTokenSource),
}

impl Credential {
    /// The variable, or `trusted publishing`.
    pub fn label(&self) -> &str {
        match self {
            Credential::Variable(v) => v,
            Credential::TrustedPublishing(_) => "trusted publishing",
        }
    }
}

/// Everything checked, ready to run.
#[derive(Debug)]
pub struct Prepared {
    /// Each package published, with its files (sdist first).
    pub releases: Vec<Release>,
    /// TWINE_USERNAME (a minted token goes with `__token__`:
    /// [`Prepared::username_for`]).
    pub username: String,
    /// Each package's credential, in the order of `releases`.
    pub credentials: Vec<Credential>,
    /// Per token variable, what the token inspection found that does not
    /// stop the run.
    pub token_notes: Vec<(String, Vec<Finding>)>,
    /// Where the index lists its files (`None` until the index exists:
    /// [`PublishOptions::index_pending`]).
    pub listing: Option<Candidate>,
}

impl Prepared {
    /// The user name sent with `credential`.
    pub fn username_for(&self, credential: &Credential) -> &str {
        match credential {
            Credential::TrustedPublishing(_) => "__token__",
            Credential::Variable(_) => &self.username,
        }
    }
}

/// The token in `var` judged as `env check` judges it ([`token::judge`]),
/// for the packages of this run whose token it holds: its errors are
/// problems, the rest notes for the plan.
fn judge_token(
    target: &Target,
    var: &str,
    password: &Secret,
    projects: &[String],
    pre: &mut Preflight,
) -> Vec<Finding> {
    let judged = token::judge(
        password.expose(),
        target.token_index(),
        projects,
        token::unix_now(),
    );
    let mut notes = Vec::new();
    for f in judged.findings {
        if f.severity == Severity::Error {
            pre.problem(format!("{var}: {}", f.message));
        } else {
            notes.push(f);
        }
    }
    notes
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
    let in_actions = Actions::from_env(env).is_some();
    let oidc_source = GithubIdTokenSource::from_env(env).filter(|_| in_actions);
    let username = settings
        .value("TWINE_USERNAME")
        .map(|s| s.expose().to_owned())
        .unwrap_or_else(|| "__token__".into());
    let packages = package::selected(project, opts.package.as_deref(), &mut pre);
    // Each package's token variable: PyPI scopes a token to one project.
    let vars: Vec<String> = packages
        .iter()
        .map(|p| project.token_var(&p.dir, target.token_slot()).to_owned())
        .collect();
    let credentials: Vec<Credential> = vars
        .iter()
        .map(|v| match (settings.explicit(v), &oidc_source) {
            (None, Some(source)) => Credential::TrustedPublishing(source.clone()),
            _ => Credential::Variable(v.clone()),
        })
        .collect();
    credential_problems(
        settings,
        target,
        &packages,
        &credentials,
        in_actions,
        &mut pre,
    );
    let mut releases = Vec::new();
    for package in packages {
        public_version_problem(target, &package, &mut pre);
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
    url_problems(project, opts, &mut pre);
    let trusted = credentials
        .iter()
        .any(|c| matches!(c, Credential::TrustedPublishing(_)));
    // One listing serves every package; each one's page is probed. Before
    // trusted publishing mints a token there is none to read with: an
    // index that wants one is asked again after minting.
    let names: Vec<&str> = releases.iter().map(|r| r.package.name.as_str()).collect();
    let listing = if !names.is_empty() && pre.problems().len() == before && !opts.index_pending {
        let first = vars.first().and_then(|v| Some((v, settings.explicit(v)?)));
        let auth = first.and_then(|(v, pw)| {
            read_auth(target, &username, pw, &format!("TWINE_USERNAME and {v}"))
        });
        find_listing(project, opts, &names, auth.as_ref(), trusted, &mut pre)
    } else {
        None
    };
    let token_notes = if username == "__token__" {
        judge_all(settings, target, &releases, &credentials, &mut pre)
    } else {
        Vec::new()
    };
    pre.finish()?;
    Ok(Prepared {
        releases,
        username,
        credentials,
        token_notes,
        listing,
    })
}

/// Every token variable of this run judged once, for the packages whose
/// token it holds.
fn judge_all(
    settings: &Settings,
    target: &Target,
    releases: &[Release],
    credentials: &[Credential],
    pre: &mut Preflight,
) -> Vec<(String, Vec<Finding>)> {
    let mut notes = Vec::new();
    for var in distinct_vars(credentials) {
        let Some(pw) = settings.explicit(var) else {
            continue;
        };
        let projects: Vec<String> = releases
            .iter()
            .zip(credentials)
            .filter(|(_, c)| matches!(c, Credential::Variable(v) if v == var))
            .map(|(r, _)| r.package.name.clone())
            .collect();
        notes.push((var.to_owned(), judge_token(target, var, pw, &projects, pre)));
    }
    notes
}

/// The variables of `credentials`, each once, in order.
pub(super) fn distinct_vars(credentials: &[Credential]) -> Vec<&str> {
    let mut vars: Vec<&str> = Vec::new();
    for c in credentials {
        if let Credential::Variable(v) = c
            && !vars.contains(&v.as_str())
        {
            vars.push(v);
        }
    }
    vars
}

/// The step's variables into `pre`: every one `env check` finds wrong
/// except the packages' token variables, which [`prepare`] judges for the
/// packages of this run; then each token variable that is missing (fine
/// when trusted publishing will mint a token), naming the packages that
/// need it. The index is named only through [`crate::net::describe_str`];
/// for a private index the fix does not send the user to PyPI's token page.
fn credential_problems(
    settings: &Settings,
    target: &Target,
    packages: &[Package],
    credentials: &[Credential],
    in_actions: bool,
    pre: &mut Preflight,
) {
    let report = settings.check(&[target.step()], false);
    let token_var = |name: &str| {
        name == target.password_var()
            || settings.package_token_vars().iter().any(|v| v.name == name)
            || credentials.iter().any(|c| c.label() == name)
    };
    for p in report.errors.iter().filter(|p| !token_var(p.name)) {
        pre.problem(p.to_string());
    }
    for var in distinct_vars(credentials) {
        if settings.explicit(var).is_some() {
            continue;
        }
        let needing: Vec<&str> = packages
            .iter()
            .zip(credentials)
            .filter(|(_, c)| c.label() == var)
            .map(|(p, _)| p.name.as_str())
            .collect();
        pre.problem(missing_token(
            target,
            var,
            &needing,
            packages.len(),
            in_actions,
        ));
    }
}

/// The problem of a token variable that is not set, with how to get one,
/// and the first-upload case (no project-scoped token before it).
fn missing_token(
    target: &Target,
    var: &str,
    needing: &[&str],
    packages: usize,
    in_actions: bool,
) -> String {
    let mut fix = match target {
        Target::Custom { url } => format!(
            "the password or API token of the index at {} (and its user name in \
             TWINE_USERNAME, unless it takes `__token__`)",
            crate::net::describe_str(url)
        ),
        _ => {
            let domain = target.token_index().unwrap_or("pypi.org");
            let first = needing.first().copied().unwrap_or("the project");
            format!(
                "make a token scoped to {first} at https://{domain}/manage/account/token/ and put it \
                 in {var}. A project-scoped token exists only after the project's first upload: \
                 for a first upload add a pending trusted publisher (docs/github.md) or use a \
                 one-time account-wide token, revoked right after"
            )
        }
    };
    if packages > 1 && target.token_index().is_some() {
        fix.push_str(&format!(
            "; PyPI scopes a token to one project: give each package its own variable \
             (`{}` in its release-kit.toml entry)",
            if matches!(target, Target::TestPypi) {
                "testpypi-token = \"TESTPYPI_TOKEN_<NAME>\""
            } else {
                "token = \"PYPI_TOKEN_<NAME>\""
            }
        ));
    }
    let hint = if in_actions {
        "\n    in GitHub Actions: give the job `permissions: id-token: write` and add a trusted \
         publisher on the index to publish without a token (pull requests from forks never get one)"
    } else {
        ""
    };
    format!(
        "{var}: is not set; needed to publish {} to {}\n    fix: {fix}{hint}",
        needing.join(", "),
        target.label()
    )
}

/// The index URLs given (`--repository-url`, `--check-url`, `check-url` of
/// release-kit.toml) into `pre`.
fn url_problems(project: &Project, opts: &PublishOptions, pre: &mut Preflight) {
    if let Target::Custom { url } = &opts.target {
        check_index_url("--repository-url", url, pre);
    }
    if let Some(url) = &opts.check_url {
        check_index_url("--check-url", url, pre);
    }
    if let Some(url) = project.config.python.check_url.as_deref()
        && opts.check_url.is_none()
        && matches!(opts.target, Target::Custom { .. })
    {
        check_index_url("[python] check-url", url, pre);
    }
}

/// The upload credentials for listing reads of a `--repository-url`
/// index (never PyPI's or TestPyPI's: their JSON API is public).
pub(super) fn read_auth(
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
    /// Refused by the index because another run uploaded it meanwhile:
    /// there now with the same sha256.
    UploadedMeanwhile,
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
    /// The credentials used, joined: `TWINE_PASSWORD`,
    /// `TWINE_PASSWORD_TEST`, the variables packages name, or `trusted
    /// publishing`.
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
    /// Its credential: the variable, or `trusted publishing`.
    pub credential: String,
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
    Vanished(String),
    /// Minting a token by trusted publishing failed.
    #[error("{0}")]
    TrustedPublishing(String),
    /// The index could not say which files it has.
    #[error("{0}")]
    Index(String),
    /// The index holds files of these names with other content.
    #[error(
        "{}\nan index never lets a published file be replaced: bump the version, now {version}, \
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

/// PyPI and TestPyPI refuse a local version (`0.1.0+abc`): say so before
/// anything is built or sent, naming where the version is written.
fn public_version_problem(target: &Target, package: &Package, pre: &mut Preflight) {
    let index = match target {
        Target::Pypi => "PyPI",
        Target::TestPypi => "TestPyPI",
        Target::Custom { .. } => return,
    };
    let at = &package.version;
    if let Err(e) = crate::pep440::check_publishable(&at.version, index) {
        pre.problem(format!(
            "{}:{}: {}: {e}",
            at.file.display(),
            at.line,
            package.name
        ));
    }
}

/// The first 12 characters of a hash, for display (whole when shorter;
/// never a panic on what an index sent).
pub(super) fn short(h: &str) -> &str {
    h.get(..12).unwrap_or(h)
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
    use crate::pypi::upload::UploadError;
    use crate::pypi::uploader::upload_error;

    #[test]
    fn a_local_version_is_refused_for_pypi_and_testpypi_only() {
        let mut pkg =
            crate::pypi::package::test_package("demo", super::super::backend::Backend::Build);
        pkg.version.version = "0.1.0+abc123".into();
        for (target, refused) in [
            (Target::Pypi, true),
            (Target::TestPypi, true),
            (
                Target::Custom {
                    url: "http://127.0.0.1:1/".into(),
                },
                false,
            ),
        ] {
            let mut pre = Preflight::new();
            public_version_problem(&target, &pkg, &mut pre);
            let found = pre
                .problems()
                .iter()
                .map(|p| p.to_string())
                .collect::<Vec<_>>()
                .join("\n");
            assert_eq!(!found.is_empty(), refused, "{found}");
            if refused {
                assert!(
                    found.contains("p:1: demo:") && found.contains("release 0.1.0 instead"),
                    "{found}"
                );
            }
        }
        // A pre-release is public: accepted.
        pkg.version.version = "26.4rc1".into();
        let mut pre = Preflight::new();
        public_version_problem(&Target::Pypi, &pkg, &mut pre);
        assert!(pre.problems().is_empty());
    }

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
