//! A local GitHub REST API for the Actions run logs, as `env rotate
//! --actions` reads them: `GET /repos/{owner}/{repo}/actions/runs?per_page=N`
//! (the runs listing, newest first, as GitHub shapes it) and
//! `GET /repos/{owner}/{repo}/actions/runs/{id}/logs`, answered with a 302
//! to a short-lived URL on another host:port (the blob store) that serves
//! the run's log archive. Both ask for `Authorization: Bearer <token>` on
//! the API (401 `Bad credentials` otherwise); the blob store records what
//! it was sent, so a test can see the token never reached it.

use crate::server::{Answer, Recording, Seen, body, json};

/// Where a run's logs are.
#[derive(Clone, Debug)]
pub enum Logs {
    /// A zip on the blob store.
    Zip(Vec<u8>),
    /// Deleted or expired: the API answers 404.
    Gone,
    /// The 302 goes to this URL (another server, a hostile one).
    At(String),
}

/// One workflow run.
#[derive(Clone, Debug)]
pub struct Run {
    /// Its id.
    pub id: u64,
    /// The workflow's name.
    pub name: String,
    /// Its number.
    pub run_number: u64,
    /// Its logs.
    pub logs: Logs,
}

/// The running API and blob store; stop when dropped.
pub struct GithubActions {
    api: Recording,
    blobs: Recording,
}

impl GithubActions {
    /// Serves `runs` (newest first) of `repo` (`owner/name`) to requests
    /// bearing `token`, which may also delete a run's logs.
    pub fn start(repo: &str, token: &str, runs: Vec<Run>) -> GithubActions {
        GithubActions::with_access(repo, token, runs, true)
    }

    /// [`GithubActions::start`]; `write: false` is a token that may only
    /// read Actions: deleting logs is 403.
    pub fn with_access(repo: &str, token: &str, runs: Vec<Run>, write: bool) -> GithubActions {
        let zips: Vec<(u64, Vec<u8>)> = runs
            .iter()
            .filter_map(|r| match &r.logs {
                Logs::Zip(z) => Some((r.id, z.clone())),
                _ => None,
            })
            .collect();
        let blobs = Recording::start("127.0.0.1:0", move |s| blob(s, &zips));
        let base = blobs.server().url();
        let (repo, token) = (repo.to_owned(), token.to_owned());
        let deleted = std::sync::Mutex::new(Vec::<u64>::new());
        let api = Recording::start("127.0.0.1:0", move |s| {
            let gone = deleted.lock().expect("not poisoned").clone();
            let runs: Vec<Run> = runs
                .iter()
                .map(|r| Run {
                    logs: if gone.contains(&r.id) {
                        Logs::Gone
                    } else {
                        r.logs.clone()
                    },
                    ..r.clone()
                })
                .collect();
            let answer = route(s, &repo, &token, &runs, &base, write);
            if s.method == "DELETE" && answer.status() == 204 {
                let id = s
                    .path
                    .split('/')
                    .rev()
                    .nth(1)
                    .and_then(|i| i.parse::<u64>().ok());
                deleted.lock().expect("not poisoned").extend(id);
            }
            answer
        });
        GithubActions { api, blobs }
    }

    /// The API base, as `GITHUB_API_URL` holds it (no trailing slash).
    pub fn api_url(&self) -> String {
        self.api.server().url()
    }

    /// Requests the API received.
    pub fn api_seen(&self) -> Vec<Seen> {
        self.api.seen()
    }

    /// Requests the blob store received.
    pub fn blob_seen(&self) -> Vec<Seen> {
        self.blobs.seen()
    }
}

fn blob(s: &Seen, zips: &[(u64, Vec<u8>)]) -> Answer {
    let id = s
        .path
        .strip_prefix("/actions-logs/")
        .and_then(|p| p.split('.').next())
        .and_then(|p| p.parse::<u64>().ok());
    match zips.iter().find(|(i, _)| Some(*i) == id) {
        Some((_, zip)) => body(200, "application/zip", zip.clone()),
        None => body(
            404,
            "application/xml",
            b"<Error><Code>BlobNotFound</Code></Error>".to_vec(),
        ),
    }
}

fn route(s: &Seen, repo: &str, token: &str, runs: &[Run], blobs: &str, write: bool) -> Answer {
    if s.header("authorization") != Some(&format!("Bearer {token}")) {
        return json(
            401,
            &serde_json::json!({"message": "Bad credentials",
                "documentation_url": "https://docs.github.com/rest", "status": "401"}),
        );
    }
    let (path, query) = s.path.split_once('?').unwrap_or((&s.path, ""));
    let Some(rest) = path.strip_prefix(&format!("/repos/{repo}/actions/runs")) else {
        return not_found();
    };
    if rest.is_empty() {
        let per_page = query
            .split('&')
            .find_map(|kv| kv.strip_prefix("per_page="))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(30)
            .min(100);
        let listed: Vec<_> = runs
            .iter()
            .take(per_page)
            .map(|r| run_json(r, repo))
            .collect();
        return json(
            200,
            &serde_json::json!({"total_count": runs.len(), "workflow_runs": listed}),
        );
    }
    let id = rest
        .strip_prefix('/')
        .and_then(|r| r.strip_suffix("/logs"))
        .and_then(|r| r.parse::<u64>().ok());
    let Some(run) = runs.iter().find(|r| Some(r.id) == id) else {
        return not_found();
    };
    if s.method == "DELETE" {
        return match (write, &run.logs) {
            (false, _) => json(
                403,
                &serde_json::json!({"message": "Resource not accessible by personal access token",
                    "documentation_url": "https://docs.github.com/rest", "status": "403"}),
            ),
            (true, Logs::Gone) => not_found(),
            (true, _) => body(204, "text/plain", Vec::new()),
        };
    }
    let to = match &run.logs {
        Logs::Gone => return not_found(),
        Logs::Zip(_) => format!(
            "{blobs}/actions-logs/{}.zip?sv=2021-12-02&se=2026-12-03T00%3A01%3A00Z&sig=c2lnbmF0dXJl",
            run.id
        ),
        Logs::At(url) => url.clone(),
    };
    let mut a = body(302, "text/plain", Vec::new());
    a.headers_mut()
        .insert("location", to.parse().expect("a header value"));
    a
}

fn not_found() -> Answer {
    json(
        404,
        &serde_json::json!({"message": "Not Found",
            "documentation_url": "https://docs.github.com/rest", "status": "404"}),
    )
}

/// A run as the listing shows it (the fields GitHub sends that a client
/// reads; ids and URLs consistent with `repo`).
fn run_json(r: &Run, repo: &str) -> serde_json::Value {
    let api = format!("https://api.github.com/repos/{repo}/actions/runs/{}", r.id);
    serde_json::json!({
        "id": r.id,
        "name": r.name,
        "node_id": format!("WFR_kwLO{}", r.id),
        "head_branch": "main",
        "head_sha": "4f0c9d3f1a5e2b7c8d9e0f1a2b3c4d5e6f7a8b9c",
        "path": ".github/workflows/ci.yml",
        "display_title": format!("{} run", r.name),
        "run_number": r.run_number,
        "event": "push",
        "status": "completed",
        "conclusion": "success",
        "workflow_id": 161335,
        "url": api,
        "html_url": format!("https://github.com/{repo}/actions/runs/{}", r.id),
        "logs_url": format!("{api}/logs"),
        "jobs_url": format!("{api}/jobs"),
        "run_attempt": 1,
        "created_at": "2026-12-01T10:00:00Z",
        "updated_at": "2026-12-01T10:05:00Z",
    })
}
