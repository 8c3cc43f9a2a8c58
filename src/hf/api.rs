//! The Hub's HTTP API: revision → commit, the recursive tree listing, and
//! file requests on `resolve/`, with retries and our own redirect handling.
//!
//! Redirects are followed here, not by reqwest, so that the token goes
//! exactly where we decide: `Authorization` is sent only to the endpoint's
//! origin (scheme, host and port), never to the CDN a large file redirects
//! to. Retries cover connection errors, 408, 429 (waiting as `RateLimit:
//! …;r=0;t=N` or `Retry-After` says) and 5xx, with exponential backoff.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode, Url};

use super::cache::RepoFile;
use super::error::HfError;
use crate::secret::Secret;

/// How hard to retry.
#[derive(Clone, Debug)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub attempts: u32,
    /// First backoff; doubles each retry.
    pub base: Duration,
    /// Backoff ceiling.
    pub max_backoff: Duration,
    /// The longest 429 wait we accept before failing.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 6,
            base: Duration::from_millis(400),
            max_backoff: Duration::from_secs(10),
            max_wait: Duration::from_secs(120),
        }
    }
}

impl RetryPolicy {
    /// The pause before retry number `retry` (1-based), with jitter.
    pub fn backoff(&self, retry: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << retry.saturating_sub(1).min(16));
        let d = exp.min(self.max_backoff);
        let mut b = [0u8; 1];
        let _ = getrandom::fill(&mut b);
        d + d.mul_f64(f64::from(b[0]) / 255.0 * 0.25)
    }
}

/// The client's timeouts.
#[derive(Clone, Debug)]
pub struct Timeouts {
    /// TCP (and TLS) connection.
    pub connect: Duration,
    /// Longest pause between two reads of a response.
    pub read: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            read: Duration::from_secs(30),
        }
    }
}

/// What a request is about, for error messages.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// `org/name`.
    pub repo: &'a str,
    /// Revision or commit.
    pub revision: &'a str,
    /// The file, for resolve requests.
    pub path: Option<&'a str>,
}

/// The metadata headers of a resolve answer.
#[derive(Clone, Debug, Default)]
pub struct FileHeaders {
    /// `X-Linked-Etag`, else `ETag`, without `W/` and quotes.
    pub etag: Option<String>,
    /// `X-Repo-Commit`.
    pub commit: Option<String>,
    /// `X-Linked-Size`.
    pub size: Option<u64>,
}

/// A file response, ready to stream.
pub struct Opened {
    /// The answer (200 or 206).
    pub response: reqwest::Response,
    /// Where the bytes came from (the CDN for LFS files): later ranges of
    /// the same file go straight there.
    pub final_url: Url,
    /// The resolve answer's metadata.
    pub headers: FileHeaders,
}

/// A client of one Hub endpoint.
pub struct HubClient {
    /// For http:// URLs (local mirrors, the stand-in); trusts no root.
    http: reqwest::Client,
    /// For https:// URLs, built on first use (native-tls parses the
    /// system root store when it is built).
    https: std::sync::OnceLock<Result<reqwest::Client, String>>,
    timeouts: Timeouts,
    endpoint: Url,
    token: Option<Secret>,
    retry: RetryPolicy,
    requests: AtomicU64,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("token", &self.token)
            .finish()
    }
}

// Built and consumed once per attempt: its size does not matter.
#[allow(clippy::large_enum_variant)]
enum Outcome {
    Done(reqwest::Response, Url, FileHeaders),
    Failed(reqwest::Error),
    Redirects,
    Setup(String),
}

fn build_client(timeouts: &Timeouts, tls: bool) -> Result<reqwest::Client, String> {
    let mut builder = reqwest::Client::builder();
    if !tls {
        // No root store: this client only ever speaks plain http.
        builder = builder.tls_certs_only([]);
    }
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeouts.connect)
        .read_timeout(timeouts.read)
        .pool_max_idle_per_host(64)
        .user_agent(concat!(
            "release-kit/",
            env!("CARGO_PKG_VERSION"),
            "; hf-prefetch"
        ))
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {}", e.without_url()))
}

impl HubClient {
    /// A client for `endpoint` (e.g. `https://huggingface.co`).
    pub fn new(
        endpoint: &str,
        token: Option<Secret>,
        retry: RetryPolicy,
        timeouts: &Timeouts,
    ) -> Result<HubClient, String> {
        let endpoint = parse_endpoint(endpoint)?;
        let http = build_client(timeouts, false)?;
        Ok(HubClient {
            http,
            https: std::sync::OnceLock::new(),
            timeouts: timeouts.clone(),
            endpoint,
            token: token.filter(|t| !t.is_blank()),
            retry,
            requests: AtomicU64::new(0),
        })
    }

    /// The endpoint, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str().trim_end_matches('/')
    }

    /// True when a token is sent to the endpoint.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// HTTP requests sent so far (each redirect hop counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.endpoint())).expect("endpoint URL plus a quoted path")
    }

    /// `GET /api/models/{repo}/revision/{rev}` → the commit.
    pub async fn revision(&self, repo: &str, revision: &str) -> Result<String, HfError> {
        let url = self.url(&format!(
            "/api/models/{repo}/revision/{}",
            quote(revision, "")
        ));
        let target = Target {
            repo,
            revision,
            path: None,
        };
        let resp = self.send(&url, None, &target).await?.0;
        let what = format!("revision {revision} of {repo}");
        let body: serde_json::Value = read_json(resp, &what).await?;
        let sha = body["sha"].as_str().unwrap_or_default();
        if !is_commit(sha) {
            return Err(HfError::Protocol {
                what,
                detail: "no 40-hex `sha` in the revision answer".into(),
            });
        }
        Ok(sha.to_owned())
    }

    /// Every file of `repo` at `commit`, following `Link: rel="next"`.
    pub async fn tree(&self, repo: &str, commit: &str) -> Result<Vec<RepoFile>, HfError> {
        let mut url = self.url(&format!(
            "/api/models/{repo}/tree/{}?recursive=true",
            quote(commit, "")
        ));
        let target = Target {
            repo,
            revision: commit,
            path: None,
        };
        let what = format!("file list of {repo}@{commit}");
        let mut files = Vec::new();
        for _page in 0..10_000 {
            let resp = self.send(&url, None, &target).await?.0;
            let next = next_link(resp.headers()).map(|n| url.join(&n));
            let body: serde_json::Value = read_json(resp, &what).await?;
            let Some(entries) = body.as_array() else {
                return Err(HfError::Protocol {
                    what,
                    detail: "the tree answer is not a list".into(),
                });
            };
            for e in entries {
                if e["type"] != "file" {
                    continue;
                }
                let (Some(path), Some(size), Some(oid)) =
                    (e["path"].as_str(), e["size"].as_u64(), e["oid"].as_str())
                else {
                    return Err(HfError::Protocol {
                        what,
                        detail: "a file entry lacks path, size or oid".into(),
                    });
                };
                let lfs = e["lfs"]["oid"].as_str().map(|s| s.to_ascii_lowercase());
                let size = e["lfs"]["size"].as_u64().unwrap_or(size);
                files.push(RepoFile {
                    path: path.to_owned(),
                    size,
                    blob_id: oid.to_ascii_lowercase(),
                    lfs_sha256: lfs,
                });
            }
            match next {
                Some(Ok(n)) => url = n,
                Some(Err(_)) => {
                    return Err(HfError::Protocol {
                        what,
                        detail: "unparsable Link: rel=\"next\"".into(),
                    });
                }
                None => return Ok(files),
            }
        }
        Err(HfError::Protocol {
            what,
            detail: "more than 10000 pages".into(),
        })
    }

    /// The resolve URL of a file.
    pub fn resolve_url(&self, repo: &str, commit: &str, path: &str) -> Url {
        self.url(&format!(
            "/{repo}/resolve/{}/{}",
            quote(commit, ""),
            quote(path, "/")
        ))
    }

    /// Opens a file for reading, from `direct` (a CDN URL an earlier
    /// request was redirected to) when given, else from its resolve URL.
    /// `range` is `(start, inclusive end)`.
    pub async fn open(
        &self,
        target: &Target<'_>,
        direct: Option<&Url>,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Opened, HfError> {
        let path = target.path.expect("open() needs a file path");
        if let Some(url) = direct {
            // A pre-signed URL may have expired: fall back to resolve.
            if let Ok((response, final_url, headers)) = self.send(url, range, target).await {
                return Ok(Opened {
                    response,
                    final_url,
                    headers,
                });
            }
        }
        let url = self.resolve_url(target.repo, target.revision, path);
        let (response, final_url, headers) = self.send(&url, range, target).await?;
        Ok(Opened {
            response,
            final_url,
            headers,
        })
    }

    /// One GET with redirects followed, retried; a 2xx answer or an error.
    async fn send(
        &self,
        url: &Url,
        range: Option<(u64, Option<u64>)>,
        target: &Target<'_>,
    ) -> Result<(reqwest::Response, Url, FileHeaders), HfError> {
        let what = describe(url);
        let mut retry = 0;
        loop {
            let (wait, last) = match self.attempt(url, range).await {
                Outcome::Done(resp, final_url, headers) => {
                    let status = resp.status();
                    if status.is_success() {
                        return Ok((resp, final_url, headers));
                    }
                    if !is_retryable(status) {
                        return Err(self.status_error(&resp, target, &what));
                    }
                    let wait = if status == StatusCode::TOO_MANY_REQUESTS {
                        let asked = rate_limit_wait(resp.headers());
                        if asked.is_some_and(|w| w > self.retry.max_wait) {
                            return Err(HfError::RateLimited {
                                what,
                                anonymous: !self.has_token(),
                                wait: asked.unwrap_or_default(),
                            });
                        }
                        asked
                    } else {
                        None
                    };
                    (wait, Err(resp))
                }
                Outcome::Failed(e) => (None, Ok(e)),
                Outcome::Setup(detail) => {
                    return Err(HfError::Protocol { what, detail });
                }
                Outcome::Redirects => {
                    return Err(HfError::Protocol {
                        what,
                        detail: "more than 10 redirects".into(),
                    });
                }
            };
            retry += 1;
            if retry >= self.retry.attempts {
                return Err(match last {
                    Err(resp) if resp.status() == StatusCode::TOO_MANY_REQUESTS => {
                        HfError::RateLimited {
                            what,
                            anonymous: !self.has_token(),
                            wait: rate_limit_wait(resp.headers()).unwrap_or_default(),
                        }
                    }
                    Err(resp) => self.status_error(&resp, target, &what),
                    Ok(e) => HfError::Network {
                        what,
                        reason: network_reason(&e),
                        attempts: retry,
                        endpoint: self.endpoint().to_owned(),
                    },
                });
            }
            tokio::time::sleep(wait.unwrap_or_else(|| self.retry.backoff(retry))).await;
        }
    }

    /// One request and its redirects; the last answer whatever its status.
    async fn attempt(&self, url: &Url, range: Option<(u64, Option<u64>)>) -> Outcome {
        let mut url = url.clone();
        let mut headers = FileHeaders::default();
        for _hop in 0..10 {
            let client = if url.scheme() == "https" {
                match self
                    .https
                    .get_or_init(|| build_client(&self.timeouts, true))
                {
                    Ok(c) => c,
                    Err(e) => return Outcome::Setup(e.clone()),
                }
            } else {
                &self.http
            };
            let mut req = client
                .request(Method::GET, url.clone())
                .header(header::ACCEPT_ENCODING, "identity");
            if let Some((start, end)) = range {
                let value = match end {
                    Some(end) => format!("bytes={start}-{end}"),
                    None => format!("bytes={start}-"),
                };
                req = req.header(header::RANGE, value);
            }
            // The token goes to the endpoint's origin only, never to the
            // CDN a redirect points at.
            if let Some(token) = &self.token
                && url.origin() == self.endpoint.origin()
                && let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            {
                v.set_sensitive(true);
                req = req.header(header::AUTHORIZATION, v);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => return Outcome::Failed(e.without_url()),
            };
            merge_headers(&mut headers, resp.headers());
            if resp.status().is_redirection()
                && let Some(next) = resp
                    .headers()
                    .get(header::LOCATION)
                    .and_then(|l| l.to_str().ok())
                    .and_then(|l| url.join(l).ok())
            {
                url = next;
                continue;
            }
            return Outcome::Done(resp, url, headers);
        }
        Outcome::Redirects
    }

    fn status_error(&self, resp: &reqwest::Response, t: &Target<'_>, what: &str) -> HfError {
        let status = resp.status().as_u16();
        let code = header_str(resp.headers(), "x-error-code").unwrap_or_default();
        let message = header_str(resp.headers(), "x-error-message").unwrap_or_default();
        let repo = t.repo.to_owned();
        match (status, code.as_str()) {
            (401, _) if self.has_token() && message.to_ascii_lowercase().contains("invalid") => {
                HfError::InvalidToken { repo }
            }
            (401 | 403, _) => HfError::NoAccess {
                repo,
                status,
                gated: code == "GatedRepo",
                token_set: self.has_token(),
            },
            (404, "RevisionNotFound") => HfError::RevisionNotFound {
                repo,
                revision: t.revision.to_owned(),
            },
            (404, "EntryNotFound") => HfError::EntryNotFound {
                repo,
                revision: t.revision.to_owned(),
                path: t.path.unwrap_or_default().to_owned(),
            },
            (404, "RepoNotFound") => HfError::RepoNotFound {
                repo,
                endpoint: self.endpoint().to_owned(),
            },
            (404, _) if t.path.is_some() => HfError::EntryNotFound {
                repo,
                revision: t.revision.to_owned(),
                path: t.path.unwrap_or_default().to_owned(),
            },
            (404, _) => HfError::RepoNotFound {
                repo,
                endpoint: self.endpoint().to_owned(),
            },
            _ => HfError::Http {
                what: what.to_owned(),
                status,
                message,
            },
        }
    }
}

fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED
}

/// The wait a 429 asks for: `RateLimit: "api";r=0;t=N` (when no request
/// remains), else `Retry-After: N`.
pub fn rate_limit_wait(headers: &HeaderMap) -> Option<Duration> {
    if let Some(rl) = header_str(headers, "ratelimit") {
        let mut remaining = None;
        let mut reset = None;
        for part in rl.split([';', ',']) {
            let part = part.trim();
            if let Some(v) = part.strip_prefix("r=") {
                remaining = v.trim().parse::<u64>().ok();
            } else if let Some(v) = part.strip_prefix("t=") {
                reset = v.trim().parse::<u64>().ok();
            }
        }
        if remaining == Some(0)
            && let Some(t) = reset
        {
            return Some(Duration::from_secs(t));
        }
    }
    header_str(headers, "retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

fn merge_headers(into: &mut FileHeaders, h: &HeaderMap) {
    if into.commit.is_none() {
        into.commit = header_str(h, "x-repo-commit");
    }
    if into.etag.is_none() {
        into.etag = header_str(h, "x-linked-etag")
            .or_else(|| header_str(h, "etag"))
            .map(|e| normalize_etag(&e));
    }
    if into.size.is_none() {
        into.size = header_str(h, "x-linked-size").and_then(|s| s.parse().ok());
    }
}

/// An ETag without `W/` and quotes, as huggingface_hub normalises it.
pub fn normalize_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(h: &HeaderMap) -> Option<String> {
    for value in h.get_all(header::LINK) {
        let value = value.to_str().ok()?;
        for link in value.split(',') {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let is_next = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                return Some(
                    target
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned(),
                );
            }
        }
    }
    None
}

async fn read_json(resp: reqwest::Response, what: &str) -> Result<serde_json::Value, HfError> {
    let bytes = resp.bytes().await.map_err(|e| HfError::Protocol {
        what: what.to_owned(),
        detail: network_reason(&e.without_url()),
    })?;
    serde_json::from_slice(&bytes).map_err(|e| HfError::Protocol {
        what: what.to_owned(),
        detail: format!("invalid JSON ({e})"),
    })
}

/// A reqwest error in words, without its URL.
pub fn network_reason(e: &reqwest::Error) -> String {
    let mut msg = if e.is_timeout() {
        "timed out".to_owned()
    } else if e.is_connect() {
        "cannot connect".to_owned()
    } else if e.is_body() || e.is_decode() {
        "the connection broke while reading the answer".to_owned()
    } else {
        "request failed".to_owned()
    };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

/// A URL as shown in messages: no query string (pre-signed CDN URLs carry
/// signatures there).
pub fn describe(url: &Url) -> String {
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

fn parse_endpoint(endpoint: &str) -> Result<Url, String> {
    let url = Url::parse(endpoint.trim()).map_err(|e| {
        format!("HF_ENDPOINT is not a URL ({e}); set it like https://huggingface.co or unset it")
    })?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(
            "HF_ENDPOINT must be an http(s) URL with a host, like https://huggingface.co".into(),
        );
    }
    if url.query().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err(
            "HF_ENDPOINT must not carry credentials or a query string; put the token in HF_TOKEN"
                .into(),
        );
    }
    Ok(url)
}

/// Checks HF_ENDPOINT without building a client.
pub fn check_endpoint(endpoint: &str) -> Result<(), String> {
    parse_endpoint(endpoint).map(|_| ())
}

/// True for a full 40-hex commit id.
pub fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Python's `urllib.parse.quote(s, safe)`.
pub fn quote(s: &str, safe: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"_.-~".contains(&b) || safe.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_limit_header() {
        let mut h = HeaderMap::new();
        h.insert("ratelimit", HeaderValue::from_static("\"api\";r=0;t=7"));
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(7)));
        h.insert("ratelimit", HeaderValue::from_static("\"api\";r=3;t=7"));
        assert_eq!(rate_limit_wait(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(rate_limit_wait(&h), Some(Duration::from_secs(2)));
    }

    #[test]
    fn link_next() {
        let mut h = HeaderMap::new();
        h.insert(
            header::LINK,
            HeaderValue::from_static("<https://h/api/x?cursor=a>; rel=\"next\""),
        );
        assert_eq!(next_link(&h).as_deref(), Some("https://h/api/x?cursor=a"));
        h.insert(
            header::LINK,
            HeaderValue::from_static("<https://h/p>; rel=\"prev\""),
        );
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn quoting_and_etags() {
        assert_eq!(quote("refs/pr/1", ""), "refs%2Fpr%2F1");
        assert_eq!(quote("a b/c.json", "/"), "a%20b/c.json");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert!(is_commit(&"a".repeat(40)) && !is_commit("main"));
        assert!(check_endpoint("ftp://x").is_err());
        assert!(check_endpoint("https://user:pw@h").is_err());
        assert!(check_endpoint("http://127.0.0.1:9/").is_ok());
    }

    #[test]
    fn backoff_grows_and_caps() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_wait: Duration::from_secs(1),
        };
        assert!(p.backoff(1) >= Duration::from_millis(100));
        assert!(p.backoff(1) <= Duration::from_millis(125));
        assert!(p.backoff(5) <= Duration::from_millis(375));
    }

    #[test]
    fn describe_drops_query() {
        let u = Url::parse("https://cdn.example/x?X-Amz-Signature=abc").unwrap();
        assert_eq!(describe(&u), "https://cdn.example/x");
    }
}
