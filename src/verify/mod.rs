//! `env verify`: a live check of each configured group of variables — the
//! "Test:" of the secrets how-to, run safely and all at once.
//!
//! One file per check; each takes the loaded [`Settings`] (and what else it
//! needs in [`Inputs`]) and returns an [`Outcome`]: pass, fail or skipped
//! (not configured), with one line saying why. Outcomes never hold a value:
//! they are built from names, statuses and what servers say about the
//! credential, and are redacted with every loaded secret (and the parts of
//! URLs that carry one) before they leave [`run`].
//!
//! Every HTTP request goes through [`crate::net`]; Redis and the OTLP gRPC
//! probe open a TCP connection themselves (they are not HTTP).

mod anthropic;
mod audit;
mod dashboard;
mod deploy;
mod hf;
mod otel;
mod pypi;
mod redis;
mod s3;
pub mod sigv4;
mod vscode;

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;

use crate::config::Project;
use crate::net::{self, Client, Failure, Full, Request, RetryPolicy, Timeouts};
use crate::preflight::PreflightError;
use crate::secret::{Redactor, Secret};
use crate::settings::registry::Kind;
use crate::settings::{Settings, registry};

/// A group of variables with a live check.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Group {
    /// TWINE_PASSWORD, TWINE_PASSWORD_TEST: read offline.
    Pypi,
    /// ANTHROPIC_API_KEY.
    Anthropic,
    /// AUDIT_HMAC_KEY.
    Audit,
    /// DASHBOARD_API_KEY against DASHBOARD_URL.
    Dashboard,
    /// REDIS_URL.
    Federation,
    /// OTEL_EXPORTER_OTLP_ENDPOINT.
    Otel,
    /// AWS keys and S3_AUDIT_BUCKET.
    S3,
    /// VSCE_PAT (vsce verify-pat).
    Vscode,
    /// HF_TOKEN.
    Hf,
    /// ORG_DOMAIN.
    Deploy,
}

impl Group {
    /// Every group, in the registry's order.
    pub const ALL: &'static [Group] = &[
        Group::Pypi,
        Group::Anthropic,
        Group::Audit,
        Group::Dashboard,
        Group::Federation,
        Group::Otel,
        Group::S3,
        Group::Vscode,
        Group::Hf,
        Group::Deploy,
    ];

    /// The registry's name of the group.
    pub fn title(self) -> &'static str {
        match self {
            Group::Pypi => "PyPI publishing",
            Group::Anthropic => "Anthropic API",
            Group::Audit => "Audit chain",
            Group::Dashboard => "Dashboard",
            Group::Federation => "Federation",
            Group::Otel => "OpenTelemetry",
            Group::S3 => "AWS S3 Object Lock",
            Group::Vscode => "VS Code Marketplace",
            Group::Hf => "Hugging Face",
            Group::Deploy => "Production deploy",
        }
    }

    /// The short name (command line, JSON `id`).
    pub fn slug(self) -> &'static str {
        registry::known_group(self.title()).map_or("", |(_, short)| short)
    }

    /// A group as every command names it (its name in any case, short
    /// name, or another accepted word: `"Hugging Face"`, `"hf"`,
    /// `"redis"`).
    pub fn parse(name: &str) -> Option<Group> {
        let (title, _) = registry::known_group(name)?;
        Group::ALL.iter().copied().find(|g| g.title() == title)
    }

    /// The live check of a kind of variable, if it has one: the check runs
    /// for a project that has a variable of such a kind.
    pub fn for_kind(kind: Kind) -> Option<Group> {
        Some(match kind {
            Kind::PypiUsername | Kind::PypiToken | Kind::TestpypiToken => Group::Pypi,
            Kind::AnthropicKey => Group::Anthropic,
            Kind::HmacKey => Group::Audit,
            Kind::ApiKey => Group::Dashboard,
            Kind::RedisUrl => Group::Federation,
            Kind::OtlpEndpoint | Kind::OtlpProtocol => Group::Otel,
            Kind::AwsAccessKeyId | Kind::AwsSecretAccessKey | Kind::AwsRegion | Kind::S3Bucket => {
                Group::S3
            }
            Kind::VscePat | Kind::OvsxPat => Group::Vscode,
            Kind::HfToken => Group::Hf,
            Kind::Domain => Group::Deploy,
            Kind::HexKey | Kind::Url | Kind::Integer | Kind::Path | Kind::Text | Kind::Secret => {
                return None;
            }
        })
    }

    /// The checks of a project's variables, in order.
    pub fn of(registry: &registry::Registry) -> Vec<Group> {
        Group::ALL
            .iter()
            .copied()
            .filter(|g| {
                registry
                    .vars()
                    .iter()
                    .any(|v| Group::for_kind(v.kind) == Some(*g))
            })
            .collect()
    }

    /// The group's name as the project lists it: the group of its first
    /// variable of a kind this check covers, else the built-in title.
    pub fn title_in(self, registry: &registry::Registry) -> &'static str {
        registry
            .vars()
            .iter()
            .find(|v| Group::for_kind(v.kind) == Some(self))
            .map_or(self.title(), |v| v.group)
    }
}

/// How a check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// The credential works.
    Pass,
    /// It does not, or the service cannot be reached.
    Fail,
    /// The group is not configured (its variables are not set).
    Skipped,
}

/// What one check found: a status and one line saying why, never a value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// Pass, fail or skipped.
    pub status: Status,
    /// Why: what was asked, what answered, what to do on failure.
    pub message: String,
    /// Worth fixing, not failing (a write token used for downloads only).
    pub warnings: Vec<String>,
}

impl Outcome {
    /// A pass.
    pub fn pass(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Pass,
            message: message.into(),
            warnings: Vec::new(),
        }
    }

    /// A failure.
    pub fn fail(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Fail,
            message: message.into(),
            warnings: Vec::new(),
        }
    }

    /// Not configured.
    pub fn skipped(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Skipped,
            message: message.into(),
            warnings: Vec::new(),
        }
    }

    /// Adds a warning.
    pub fn warn(mut self, warning: impl Into<String>) -> Outcome {
        self.warnings.push(warning.into());
        self
    }
}

/// One group's result, as printed and as JSON.
#[derive(Clone, Debug, Serialize)]
pub struct CheckResult {
    /// The short name (`hf`).
    pub id: &'static str,
    /// The registry's group name (`Hugging Face`).
    pub group: &'static str,
    /// `pass`, `fail` or `skipped`.
    pub status: Status,
    /// Why.
    pub message: String,
    /// Warnings.
    pub warnings: Vec<String>,
}

/// Every check's result, in the registry's group order.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// True when no configured check failed.
    pub ok: bool,
    /// The checks run.
    pub checks: Vec<CheckResult>,
}

/// How the checks run.
#[derive(Clone, Debug)]
pub struct Options {
    /// The longest one check may take.
    pub timeout: Duration,
    /// The dashboard endpoint, over DASHBOARD_URL.
    pub dashboard_url: Option<String>,
}

/// The default of `--timeout`.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(20);

impl Default for Options {
    fn default() -> Self {
        Options {
            timeout: DEFAULT_TIMEOUT,
            dashboard_url: None,
        }
    }
}

/// What the checks read: shared by the concurrent tasks.
pub(crate) struct Inputs {
    pub settings: Settings,
    /// The project, or why it cannot be read (only the VS Code check needs
    /// it).
    pub project: Result<Project, PreflightError>,
    pub options: Options,
    pub client: Client,
    /// The names a check reads that this project names otherwise
    /// ([`renames`]).
    pub renames: Vec<(&'static str, &'static str)>,
}

/// Variables the checks read by the example's name that a project may
/// name otherwise: the check of such a kind reads the project's variable
/// of that kind.
const NAMED_BY_KIND: &[(Kind, &str)] = &[
    (Kind::RedisUrl, "REDIS_URL"),
    (Kind::Domain, "ORG_DOMAIN"),
    (Kind::HmacKey, "AUDIT_HMAC_KEY"),
    (Kind::ApiKey, "DASHBOARD_API_KEY"),
    (Kind::S3Bucket, "S3_AUDIT_BUCKET"),
];

/// (the name a check reads, the project's variable of that kind) for each
/// such name the project does not declare itself.
fn renames(registry: &registry::Registry) -> Vec<(&'static str, &'static str)> {
    NAMED_BY_KIND
        .iter()
        .filter(|(_, name)| registry.var(name).is_none())
        .filter_map(|(kind, name)| Some((*name, registry.of_kind(*kind)?.name)))
        .collect()
}

/// `text` with each name a check used replaced by the project's.
fn renamed(text: &str, renames: &[(&str, &str)]) -> String {
    renames
        .iter()
        .fold(text.to_owned(), |t, (from, to)| t.replace(from, to))
}

impl Inputs {
    /// The project's name for the variable a check reads as `name`.
    fn name<'a>(&'a self, name: &'a str) -> &'a str {
        self.renames
            .iter()
            .find(|(from, _)| *from == name)
            .map_or(name, |(_, to)| to)
    }

    /// An explicitly set, non-blank value.
    pub fn explicit(&self, name: &str) -> Option<&Secret> {
        self.settings
            .explicit(self.name(name))
            .filter(|s| !s.is_blank())
    }

    /// The value in effect (set or default), as text: for non-secret
    /// settings only.
    pub fn plain(&self, name: &str) -> Option<String> {
        self.settings
            .value(self.name(name))
            .map(|s| s.expose().trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    /// The problem a value's format check finds, in words (never the
    /// value): checks fail on it before asking anyone.
    pub fn format_problem(&self, name: &str, value: &str) -> Option<String> {
        let var = self.settings.registry().var(self.name(name))?;
        var.format.check(value).err().map(|expected| {
            format!(
                "{name} is not valid: expected {expected}; fix: {}",
                var.generate
            )
        })
    }

    /// A retry policy for a check: one retry of a passing fault, short
    /// waits (the check's timeout bounds it all anyway).
    pub fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            attempts: 2,
            base: Duration::from_millis(250),
            max_backoff: Duration::from_secs(1),
            max_wait: Duration::from_secs(3),
        }
    }

    /// Sends `req` and reads the answer, whatever its status (a 5xx after
    /// the retries is still an answer to describe); `Err` says why there
    /// was none, naming the URL without its secrets.
    pub async fn fetch(&self, req: &Request) -> Result<Full, NoAnswer> {
        let what = net::describe_str(req.url());
        let resp = match self.client.send(req, &self.retry()).await {
            Ok(r) => r,
            Err(Failure::Status { response, .. } | Failure::WaitTooLong { response, .. }) => {
                *response
            }
            Err(Failure::Network { error, .. }) => {
                return Err(NoAnswer {
                    what,
                    detail: error.to_string(),
                });
            }
        };
        resp.full().await.map_err(|e| NoAnswer {
            what,
            detail: e.to_string(),
        })
    }
}

/// No answer to a check's request: the URL (through `net::describe`) and
/// why.
#[derive(Debug, thiserror::Error)]
#[error("{what}: {detail}")]
pub struct NoAnswer {
    /// The URL, without its secrets.
    pub what: String,
    /// Why there was no answer.
    pub detail: String,
}

/// Runs the checks of `groups` (every group when empty) concurrently, each
/// within `options.timeout`. The project is needed by the VS Code check
/// only.
pub async fn run(
    settings: &Settings,
    project: Result<Project, PreflightError>,
    groups: &[Group],
    options: &Options,
) -> Report {
    let groups: Vec<Group> = if groups.is_empty() {
        Group::of(settings.registry())
    } else {
        let mut g = groups.to_vec();
        g.sort();
        g.dedup();
        g
    };
    let timeouts = Timeouts {
        connect: options.timeout,
        read: options.timeout,
    };
    let client = match Client::with(timeouts, Some("env-verify")) {
        Ok(c) => c,
        Err(e) => {
            let checks = groups
                .iter()
                .map(|g| {
                    let o = Outcome::fail(format!("cannot set up HTTP: {e}"));
                    result(*g, settings, o)
                })
                .collect();
            return Report { ok: false, checks };
        }
    };
    let inputs = Arc::new(Inputs {
        settings: settings.clone(),
        project,
        options: options.clone(),
        client,
        renames: renames(settings.registry()),
    });
    let mut tasks = tokio::task::JoinSet::new();
    for (i, group) in groups.iter().copied().enumerate() {
        let inputs = inputs.clone();
        let limit = options.timeout;
        tasks.spawn(async move {
            let outcome = match tokio::time::timeout(limit, check(group, inputs)).await {
                Ok(o) => o,
                Err(_) => Outcome::fail(format!(
                    "no answer within {} s (--timeout); check the address and the network, or allow more time",
                    limit.as_secs_f64()
                )),
            };
            (i, outcome)
        });
    }
    let mut outcomes: Vec<Option<Outcome>> = vec![None; groups.len()];
    while let Some(joined) = tasks.join_next().await {
        if let Ok((i, o)) = joined {
            outcomes[i] = Some(o);
        }
    }
    report(settings, &groups, outcomes, &inputs.renames)
}

/// The checks' results in the project's words (its variable names),
/// redacted with every loaded secret.
fn report(
    settings: &Settings,
    groups: &[Group],
    outcomes: Vec<Option<Outcome>>,
    names: &[(&str, &str)],
) -> Report {
    let redactor = redactor(settings);
    let checks: Vec<CheckResult> = groups
        .iter()
        .zip(outcomes)
        .map(|(g, o)| {
            let o = o.unwrap_or_else(|| Outcome::fail("the check stopped unexpectedly"));
            let mut r = result(*g, settings, o);
            r.message = redactor.redact(&renamed(&r.message, names));
            r.warnings = r
                .warnings
                .iter()
                .map(|w| redactor.redact(&renamed(w, names)))
                .collect();
            r
        })
        .collect();
    Report {
        ok: checks.iter().all(|c| c.status != Status::Fail),
        checks,
    }
}

/// [`run`] for a caller that is not async (the CLI): on a runtime of its
/// own, which is shut down without waiting for a vsce child a timeout gave
/// up on.
pub fn run_blocking(
    settings: &Settings,
    project: Result<Project, PreflightError>,
    groups: &[Group],
    options: &Options,
) -> Result<Report, std::io::Error> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let report = rt.block_on(run(settings, project, groups, options));
    rt.shutdown_background();
    Ok(report)
}

fn result(group: Group, settings: &Settings, o: Outcome) -> CheckResult {
    CheckResult {
        id: group.slug(),
        group: group.title_in(settings.registry()),
        status: o.status,
        message: o.message,
        warnings: o.warnings,
    }
}

async fn check(group: Group, inputs: Arc<Inputs>) -> Outcome {
    match group {
        Group::Pypi => pypi::check(&inputs),
        Group::Anthropic => anthropic::check(&inputs).await,
        Group::Audit => audit::check(&inputs),
        Group::Dashboard => dashboard::check(&inputs).await,
        Group::Federation => redis::check(&inputs).await,
        Group::Otel => otel::check(&inputs).await,
        Group::S3 => s3::check(&inputs).await,
        Group::Vscode => vscode::check(inputs).await,
        Group::Hf => hf::check(&inputs).await,
        Group::Deploy => deploy::check(&inputs).await,
    }
}

/// The settings' redactor plus the credentials inside URL-shaped secrets
/// (REDIS_URL's password), which a server's words could quote alone.
fn redactor(settings: &Settings) -> Redactor {
    let mut r = settings.redactor().clone();
    for (_, entry) in settings.secrets() {
        if let Some((user, password)) = redis::url_credentials(entry.value.expose()) {
            for part in [user, password].into_iter().flatten() {
                r.add(&Secret::new(part));
            }
        }
    }
    r
}

/// A failure when `url` would carry the secret variable `secret` in
/// cleartext: `http://` to a host that is not this machine ([`is_loopback`]).
/// Checked before anything is sent; `setting` names where the URL comes
/// from.
pub(crate) async fn cleartext_refusal(secret: &str, setting: &str, url: &str) -> Option<Outcome> {
    let parsed = net::Url::parse(url.trim()).ok()?;
    if parsed.scheme() != "http" || is_loopback(parsed.host_str()?).await {
        return None;
    }
    Some(Outcome::fail(format!(
        "refusing to send {secret} over plain http:// to {} (not this machine): anyone on the way could read it, and nothing was sent; set {setting} to an https:// URL, or to a loopback one (http://localhost:…) when the service runs here",
        net::describe(&parsed)
    )))
}

/// True when `host` is this machine: a loopback IP literal or `localhost`
/// at once, any other name when it resolves and every address it resolves
/// to is loopback (`*.localhost` is resolved too: a resolver may send it
/// elsewhere). A name that does not resolve is not loopback.
pub(crate) async fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    if let Some(known) = loopback_literal(h) {
        return known;
    }
    match tokio::net::lookup_host((h, 0)).await {
        Ok(addrs) => all_loopback(&addrs.map(|a| a.ip()).collect::<Vec<_>>()),
        Err(_) => false,
    }
}

/// What `host` says without asking a resolver: an IP literal is or is not
/// loopback, `localhost` is; any other name must be resolved (`None`).
fn loopback_literal(host: &str) -> Option<bool> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Some(ip.to_canonical().is_loopback());
    }
    host.eq_ignore_ascii_case("localhost").then_some(true)
}

/// True when there are addresses and every one is loopback.
pub(crate) fn all_loopback(addrs: &[std::net::IpAddr]) -> bool {
    !addrs.is_empty() && addrs.iter().all(|ip| ip.to_canonical().is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_registry_group_has_a_check() {
        let reg = registry::tests::example();
        let titles: Vec<_> = Group::of(&reg).iter().map(|g| g.title_in(&reg)).collect();
        assert_eq!(titles, reg.groups());
        let builtin: Vec<_> = Group::ALL.iter().map(|g| g.title()).collect();
        assert_eq!(titles, builtin);
        // A project with no variable of a kind a check covers has no check.
        assert!(Group::of(&registry::Registry::default()).is_empty());
    }

    /// A project's own names: the check of a kind reads the project's
    /// variable of that kind and names it, never the example's.
    #[tokio::test]
    async fn a_kind_check_reads_the_projects_variable() {
        #[derive(serde::Deserialize)]
        struct File {
            variables: Vec<registry::Declared>,
        }
        let file: File = toml::from_str(
            "[[variables]]\nname = \"PUBLIC_HOST\"\nkind = \"domain\"\ngroup = \"Web\"\n",
        )
        .unwrap();
        let reg = registry::Registry::build(&registry::Ships::default(), &file.variables).unwrap();
        let load = |env: Vec<(String, String)>| {
            let opts = crate::settings::LoadOptions {
                start_dir: "/".into(),
                env_file: crate::settings::EnvFileChoice::None,
                environment: Some(env),
            };
            Settings::load_for(&opts, reg.clone()).unwrap()
        };
        let no_project = || Err(PreflightError::one("no project"));
        let settings = load(vec![("PUBLIC_HOST".into(), "localhost".into())]);
        let report = run(&settings, no_project(), &[], &Options::default()).await;
        assert_eq!(report.checks.len(), 1, "{report:?}");
        let c = &report.checks[0];
        assert_eq!((c.id, c.group, c.status), ("deploy", "Web", Status::Pass));
        assert!(c.message.starts_with("localhost resolves to"), "{c:?}");
        let report = run(&load(Vec::new()), no_project(), &[], &Options::default()).await;
        let c = &report.checks[0];
        assert_eq!(c.status, Status::Skipped);
        assert!(c.message.contains("PUBLIC_HOST is not set"), "{c:?}");
        assert!(!c.message.contains("ORG_DOMAIN"), "{c:?}");
    }

    #[test]
    fn groups_parse_by_name_slug_and_alias() {
        assert_eq!(Group::parse("hugging face"), Some(Group::Hf));
        assert_eq!(Group::parse("HF"), Some(Group::Hf));
        assert_eq!(Group::parse("redis"), Some(Group::Federation));
        assert_eq!(Group::parse("Federation"), Some(Group::Federation));
        assert_eq!(Group::parse("aws s3 object lock"), Some(Group::S3));
        assert_eq!(Group::parse("otel"), Some(Group::Otel));
        assert_eq!(Group::parse("nope"), None);
        for g in Group::ALL {
            assert_eq!(Group::parse(g.slug()), Some(*g));
            assert_eq!(Group::parse(g.title()), Some(*g));
        }
    }

    #[test]
    fn loopback_literals_and_names_to_resolve() {
        for yes in [
            "localhost",
            "LocalHost",
            "127.0.0.1",
            "127.8.0.1",
            "::1",
            "::ffff:127.0.0.1",
        ] {
            assert_eq!(loopback_literal(yes), Some(true), "{yes}");
        }
        for no in ["10.0.0.1", "192.0.2.2", "fd00::2", "::ffff:10.0.0.1"] {
            assert_eq!(loopback_literal(no), Some(false), "{no}");
        }
        // Names, `*.localhost` included, are resolved, not trusted.
        for name in ["app.localhost", "localhost.org", "example.org"] {
            assert_eq!(loopback_literal(name), None, "{name}");
        }
        let ip = |s: &str| s.parse::<std::net::IpAddr>().unwrap();
        assert!(all_loopback(&[ip("127.0.0.1"), ip("::1")]));
        assert!(!all_loopback(&[ip("127.0.0.1"), ip("203.0.113.7")]));
        assert!(!all_loopback(&[ip("203.0.113.7")]));
        assert!(!all_loopback(&[]));
    }

    #[tokio::test]
    async fn loopback_hosts() {
        for yes in ["localhost", "127.0.0.1", "[::1]"] {
            assert!(is_loopback(yes).await, "{yes}");
        }
        for no in ["10.0.0.1", "[fd00::2]"] {
            assert!(!is_loopback(no).await, "{no}");
        }
        // What the resolver says, whatever the name looks like.
        let resolved: Vec<std::net::IpAddr> = tokio::net::lookup_host(("app.localhost", 0))
            .await
            .map(|a| a.map(|s| s.ip()).collect())
            .unwrap_or_default();
        assert_eq!(is_loopback("app.localhost").await, all_loopback(&resolved));
    }
}
