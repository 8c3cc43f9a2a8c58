//! `env rotate --actions OWNER/REPO`: the old value searched for in the
//! logs of the repository's recent GitHub Actions runs, through the REST
//! API (`GET /repos/{o}/{r}/actions/runs`, then each run's
//! `GET …/runs/{id}/logs`, a 302 to a zip on another host).
//!
//! The token goes only to the API's origin: the net layer never sends a
//! request's `Authorization` across a redirect to another origin, and the
//! API base must be https (or plain http to this machine, a stand-in).
//! Everything read is bounded: the listing by the net layer's default, a
//! zip by [`ZIP_LIMIT`], each member by [`MEMBER_LIMIT`] inflated and all
//! members of a search by [`TOTAL_LIMIT`]. Member names are data: shown
//! (cleaned), never used as paths.

use std::io::Read;

use serde::{Deserialize, Serialize};

use crate::net::{Blocking, Request, RetryPolicy};
use crate::scan::{Finding, Origin, Report, Scanner};
use crate::secret::{Redactor, Secret};

/// The most a run's log archive may weigh.
pub const ZIP_LIMIT: u64 = 64 << 20;
/// The most one log file of it is inflated and searched.
pub const MEMBER_LIMIT: u64 = 64 << 20;
/// The most all log files of a search are inflated, together.
pub const TOTAL_LIMIT: u64 = 512 << 20;
/// Runs searched unless told.
pub const DEFAULT_RUNS: u32 = 30;
/// The REST API when `GITHUB_API_URL` is unset.
pub const DEFAULT_API: &str = "https://api.github.com";

/// Why the Actions logs cannot be searched; nothing was asked yet.
#[derive(Debug, thiserror::Error)]
pub enum ActionsError {
    /// `--actions` is not `OWNER/REPO`.
    #[error("--actions: give the repository as OWNER/REPO (letters, digits, `-`, `_`, `.`)")]
    Repo,
    /// No token to read the logs with.
    #[error(
        "--actions needs a GitHub token in GH_TOKEN or GITHUB_TOKEN (environment or .env) that can \
         read the repository's Actions (fine-grained: Actions read; classic: repo): \
         `GH_TOKEN=$(gh auth token) cargo xtask env rotate …`"
    )]
    NoToken,
    /// `GITHUB_API_URL` is unusable or would send the token in clear.
    #[error(
        "GITHUB_API_URL ({0}) must be an https:// URL (or http:// to this machine, for a local \
         stand-in): the token is sent there; unset it to use {DEFAULT_API}"
    )]
    Api(String),
}

/// Where and how to read the runs.
#[derive(Debug)]
pub struct Actions {
    api: String,
    repo: String,
    token: Secret,
    runs: u32,
}

impl Actions {
    /// Checked, asking nothing: `repo` is `OWNER/REPO`; `api` the
    /// `GITHUB_API_URL` (default [`DEFAULT_API`]); `runs` the most recent
    /// runs to search (1 to 100, the API's page).
    pub fn new(
        repo: &str,
        api: Option<&str>,
        token: Option<&Secret>,
        runs: u32,
    ) -> Result<Actions, ActionsError> {
        let part = |p: &str| {
            !p.is_empty()
                && p != "."
                && p != ".."
                && p.chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        };
        match repo.split_once('/') {
            Some((o, r)) if part(o) && part(r) => {}
            _ => return Err(ActionsError::Repo),
        }
        let api = api
            .filter(|a| !a.trim().is_empty())
            .unwrap_or(DEFAULT_API)
            .trim()
            .trim_end_matches('/');
        let shown = || crate::net::describe_str(api);
        let url = crate::net::Url::parse(api).map_err(|_| ActionsError::Api(shown()))?;
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if crate::net::has_credentials(&url)
            || !(url.scheme() == "https" || (url.scheme() == "http" && local))
        {
            return Err(ActionsError::Api(shown()));
        }
        Ok(Actions {
            api: api.to_owned(),
            repo: repo.to_owned(),
            token: token.cloned().ok_or(ActionsError::NoToken)?,
            runs: runs.clamp(1, 100),
        })
    }

    /// `OWNER/REPO`.
    pub fn repo(&self) -> &str {
        &self.repo
    }

    fn get(&self, path: &str) -> Request {
        self.request(crate::net::Method::GET, path)
    }

    fn request(&self, method: crate::net::Method, path: &str) -> Request {
        Request::new(method, format!("{}/repos/{}/{path}", self.api, self.repo))
            .bearer(&self.token)
            .header("Accept", "application/vnd.github+json")
            .header("X-GitHub-Api-Version", "2022-11-28")
    }
}

/// Why a listing, a run's archive or one of its log files was not read:
/// a line of the report, and the search goes on.
#[derive(Debug, thiserror::Error)]
enum Unread {
    /// The runs listing.
    #[error("{0}")]
    Listing(String),
    /// The run's logs are deleted or expired (404, 410).
    #[error("no logs (deleted or expired)")]
    Gone,
    /// The archive could not be had.
    #[error("logs not read: {0}")]
    Logs(String),
    /// A log file compressed another way than stored or deflate.
    #[error("compressed with method {0}, not searched")]
    Method(u16),
    /// A log file whose deflate stream breaks.
    #[error("does not inflate ({0})")]
    Inflate(std::io::ErrorKind),
    /// A log file that inflates past the bound (MiB).
    #[error(
        "inflates past {0} MiB (a zip bomb, or a log too large): searched its first {0} MiB only"
    )]
    TooLarge(u64),
}

/// A run whose logs hold the old value.
#[derive(Clone, Debug, Serialize)]
pub struct RunFound {
    /// The run's id (`gh run delete ID`).
    pub id: u64,
    /// Its workflow and number, cleaned for display.
    pub label: String,
}

/// What the Actions search found.
#[derive(Debug, Default)]
pub struct ActionsSearch {
    /// Findings: path `actions run ID (LABEL) MEMBER`, line, encoding.
    pub report: Report,
    /// Runs whose logs were read.
    pub runs_read: u32,
    /// Runs whose logs hold the value.
    pub found: Vec<RunFound>,
}

/// One run of the listing (the fields used).
#[derive(Deserialize)]
struct RunJson {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    run_number: Option<u64>,
}

#[derive(Deserialize)]
struct RunsPage {
    workflow_runs: Vec<RunJson>,
}

/// Lists the recent runs and searches each one's logs with `scanner`.
/// A run whose logs cannot be had is an error line, and the rest go on;
/// a listing that cannot be read is the one error line. Every message is
/// redacted with `redactor`.
pub fn search(
    client: &Blocking,
    actions: &Actions,
    scanner: &Scanner,
    redactor: &Redactor,
) -> ActionsSearch {
    let mut out = ActionsSearch::default();
    let policy = RetryPolicy {
        attempts: 3,
        ..RetryPolicy::default()
    };
    let runs = match list_runs(client, actions, &policy) {
        Ok(runs) => runs,
        Err(e) => {
            out.report.errors.push(redactor.redact(&e.to_string()));
            return out;
        }
    };
    let mut budget = TOTAL_LIMIT;
    for run in runs {
        let label = clean(&format!(
            "{} #{}",
            run.name.as_deref().unwrap_or("workflow"),
            run.run_number.unwrap_or(0)
        ));
        let zip = match run_logs(client, actions, run.id, &policy) {
            Ok(zip) => zip,
            Err(e) => {
                let msg = format!("Actions run {} ({label}): {e}", run.id);
                out.report.errors.push(redactor.redact(&msg));
                continue;
            }
        };
        out.runs_read += 1;
        let prefix = format!("actions run {} ({label})", run.id);
        let before = out.report.findings.len();
        search_zip(scanner, &zip, &prefix, &mut budget, &mut out.report);
        if out.report.findings.len() > before {
            out.found.push(RunFound { id: run.id, label });
        }
    }
    out
}

/// The most recent runs (one page).
fn list_runs(
    client: &Blocking,
    actions: &Actions,
    policy: &RetryPolicy,
) -> Result<Vec<RunJson>, Unread> {
    let req = actions.get(&format!("actions/runs?per_page={}", actions.runs));
    let what = format!("listing the Actions runs of {}", actions.repo);
    let full = client
        .send(&req, policy)
        .map_err(|e| Unread::Listing(format!("{what}: {e}")))?;
    if !full.is_success() {
        return Err(Unread::Listing(format!(
            "{what}: {}",
            status_hint(full.status)
        )));
    }
    serde_json::from_slice::<RunsPage>(&full.body)
        .map(|p| p.workflow_runs)
        .map_err(|_| Unread::Listing(format!("{what}: the answer is not a GitHub runs listing")))
}

/// One run's log archive (followed through its redirect, without the token).
fn run_logs(
    client: &Blocking,
    actions: &Actions,
    id: u64,
    policy: &RetryPolicy,
) -> Result<Vec<u8>, Unread> {
    let req = actions.get(&format!("actions/runs/{id}/logs"));
    let full = client
        .send_within(&req, policy, ZIP_LIMIT)
        .map_err(|e| Unread::Logs(e.to_string()))?;
    match full.status {
        200 => Ok(full.body),
        404 | 410 => Err(Unread::Gone),
        s => Err(Unread::Logs(status_hint(s))),
    }
}

/// `--purge-logs`: deletes the logs of `runs` (`DELETE
/// /repos/{o}/{r}/actions/runs/{id}/logs`, 204), after the whole search,
/// in order, stopping at the first refusal (a token that may not write
/// Actions is refused for every run). The ids done, and what stopped it.
pub fn purge(
    client: &Blocking,
    actions: &Actions,
    runs: &[RunFound],
    redactor: &Redactor,
) -> (Vec<u64>, Option<String>) {
    let policy = RetryPolicy {
        attempts: 3,
        ..RetryPolicy::default()
    };
    let mut done = Vec::new();
    for run in runs {
        let req = actions.request(
            crate::net::Method::DELETE,
            &format!("actions/runs/{}/logs", run.id),
        );
        let failed = match client.send(&req, &policy) {
            Ok(full) if full.status == 204 || full.status == 404 => None,
            Ok(full) if full.status == 403 => Some(
                "403: the token may not delete Actions logs (fine-grained: Actions read and \
                 write; classic: repo)"
                    .to_owned(),
            ),
            Ok(full) => Some(status_hint(full.status)),
            Err(e) => Some(e.to_string()),
        };
        if let Some(why) = failed {
            let msg = format!(
                "the logs of Actions run {} ({}) were not deleted: {why}",
                run.id, run.label
            );
            return (done, Some(redactor.redact(&msg)));
        }
        done.push(run.id);
    }
    (done, None)
}

/// What a status means here.
fn status_hint(status: u16) -> String {
    match status {
        401 => "401: the token in GH_TOKEN/GITHUB_TOKEN is wrong or expired".into(),
        403 => "403: the token may not read this repository's Actions (fine-grained: Actions \
                read; classic: repo), or the API's rate limit is spent"
            .into(),
        404 => "404: no such repository, or the token cannot see it".into(),
        s => format!("the API answered {s}"),
    }
}

/// Searches every member of the archive `zip`, each bounded; what cannot
/// be read (not a zip, another method, too large) is an error line.
fn search_zip(scanner: &Scanner, zip: &[u8], prefix: &str, budget: &mut u64, report: &mut Report) {
    let entries = match crate::zip::raw_entries(zip) {
        Ok(e) => e,
        Err(e) => {
            report
                .errors
                .push(format!("{prefix}: the logs are not readable: {e}"));
            return;
        }
    };
    let mut buf = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                report
                    .errors
                    .push(format!("{prefix}: a log file is not readable: {e}"));
                continue;
            }
        };
        let name = clean(&entry.name);
        if name.ends_with('/') {
            continue;
        }
        if *budget == 0 {
            report.errors.push(format!(
                "{prefix}: not searched further: {} MiB of logs read in all, the most one search reads",
                TOTAL_LIMIT >> 20
            ));
            return;
        }
        let origin = Origin::file(format!("{prefix} {name}"));
        match search_member(
            scanner,
            &entry,
            &origin,
            budget,
            &mut buf,
            &mut report.findings,
        ) {
            Ok(bytes) => {
                report.files += 1;
                report.bytes += bytes;
            }
            Err(e) => report.errors.push(format!("{prefix} {name}: {e}")),
        }
    }
}

/// One member, inflated at most [`MEMBER_LIMIT`] (and what is left of
/// `budget`) bytes: the bytes searched, or why it was cut or not read.
fn search_member(
    scanner: &Scanner,
    entry: &crate::zip::RawEntry<'_>,
    origin: &Origin,
    budget: &mut u64,
    buf: &mut Vec<u8>,
    out: &mut Vec<Finding>,
) -> Result<u64, Unread> {
    let mut inner: Box<dyn Read + '_> = match entry.method {
        0 => Box::new(entry.data),
        8 => Box::new(flate2::read::DeflateDecoder::new(entry.data)),
        m => return Err(Unread::Method(m)),
    };
    let limit = MEMBER_LIMIT.min(*budget);
    let mut bounded = (&mut inner).take(limit);
    let read = scanner
        .scan_reader(&mut bounded, origin, buf, out)
        .map_err(|e| Unread::Inflate(e.kind()))?;
    let bytes = limit - bounded.limit();
    *budget -= bytes;
    let mut one = [0u8; 1];
    if bytes == limit && matches!(inner.read(&mut one), Ok(1)) {
        return Err(Unread::TooLarge(limit >> 20));
    }
    Ok(read.unwrap_or(bytes))
}

/// A name from the server, for display: control characters replaced, at
/// most 200 characters.
fn clean(name: &str) -> String {
    name.chars()
        .take(200)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checked_before_anything_is_asked() {
        let t = Secret::new("ghp_CANARYtoken0000000000000000000000");
        assert!(matches!(
            Actions::new("owner", None, Some(&t), 30),
            Err(ActionsError::Repo)
        ));
        assert!(matches!(
            Actions::new("o/../x", None, Some(&t), 30),
            Err(ActionsError::Repo)
        ));
        assert!(matches!(
            Actions::new("o/r", None, None, 30),
            Err(ActionsError::NoToken)
        ));
        for api in [
            "http://api.example.com",
            "ftp://127.0.0.1",
            "https://u:CANARYpw@h.example",
        ] {
            let e = Actions::new("o/r", Some(api), Some(&t), 30).unwrap_err();
            assert!(matches!(e, ActionsError::Api(_)), "{api}");
            assert!(!e.to_string().contains("CANARY"), "{e}");
        }
        let a = Actions::new("o/r", Some("http://127.0.0.1:9/"), Some(&t), 500).unwrap();
        assert_eq!((a.api.as_str(), a.runs), ("http://127.0.0.1:9", 100));
        assert!(!format!("{a:?}").contains("CANARY"));
        assert_eq!(clean("a\u{1b}[2Jb\n"), "a?[2Jb?");
    }
}
