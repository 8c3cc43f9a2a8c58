//! The Hub's HTTP API: revision → commit, the recursive tree listing, and
//! file requests on `resolve/`, with retries and our own redirect handling.
//!
//! Redirects are followed here, not by reqwest, so that the token goes
//! exactly where we decide: `Authorization` is sent only to the endpoint's
//! origin (scheme, host and port), never to the CDN a large file redirects
//! to. Retries cover connection errors, 408, 429 (waiting as `RateLimit:
//! …;r=0;t=N` or `Retry-After` says) and 5xx, with exponential backoff.
//!
//! Plain `http://` URLs (local mirrors, the benchmark stand-in) go through
//! hyper's pooled client directly: any reqwest client, even one trusting no
//! root, builds an OpenSSL connector that reads the system CA bundle (tens
//! of milliseconds, most of a warm run). `https://` goes through reqwest,
//! built on first use. When an HTTP proxy is configured in the environment,
//! plain URLs go through reqwest too, which honours it.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use http_body_util::{BodyExt as _, Empty};
use hyper::body::{Bytes, Incoming};
use hyper_util::client::legacy::Client as PlainClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
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

/// A network failure, already in words and without its URL.
#[derive(Clone, Debug)]
pub struct NetError(String);

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl NetError {
    fn reqwest(e: reqwest::Error) -> NetError {
        let e = e.without_url();
        let words = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else if e.is_body() || e.is_decode() {
            "the connection broke while reading the answer"
        } else {
            "request failed"
        };
        NetError(with_sources(words, std::error::Error::source(&e)))
    }

    /// A failure of hyper's client before the answer's headers.
    fn plain_request(e: &hyper_util::client::legacy::Error) -> NetError {
        let words = if chain_timed_out(e) {
            "timed out"
        } else if e.is_connect() {
            "cannot connect"
        } else {
            "request failed"
        };
        NetError(with_sources(words, Some(e)))
    }

    /// A failure while reading a plain answer's body.
    fn plain_body(e: &hyper::Error) -> NetError {
        let words = if chain_timed_out(e) {
            "timed out"
        } else {
            "the connection broke while reading the answer"
        };
        NetError(with_sources(words, Some(e)))
    }

    /// No byte for longer than the read timeout.
    fn timed_out() -> NetError {
        NetError("timed out: operation timed out".into())
    }
}

/// `words` then each error of the chain from `source`, `: `-separated.
fn with_sources(words: &str, mut source: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut msg = words.to_owned();
    while let Some(s) = source {
        msg.push_str(": ");
        msg.push_str(&s.to_string());
        source = s.source();
    }
    msg
}

fn chain_timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut)
            || s.downcast_ref::<hyper::Error>()
                .is_some_and(hyper::Error::is_timeout)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// An answer, from hyper (plain http) or reqwest (https).
pub struct Response {
    inner: Inner,
    read_timeout: Duration,
}

enum Inner {
    Plain(hyper::Response<Incoming>),
    Tls(reqwest::Response),
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        match &self.inner {
            Inner::Plain(r) => r.status(),
            Inner::Tls(r) => r.status(),
        }
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        match &self.inner {
            Inner::Plain(r) => r.headers(),
            Inner::Tls(r) => r.headers(),
        }
    }

    /// The next piece of the body, `None` at its end; at most the read
    /// timeout between two pieces.
    pub async fn chunk(&mut self) -> Result<Option<Bytes>, NetError> {
        match &mut self.inner {
            Inner::Tls(r) => r.chunk().await.map_err(NetError::reqwest),
            Inner::Plain(r) => loop {
                let frame = tokio::time::timeout(self.read_timeout, r.body_mut().frame())
                    .await
                    .map_err(|_| NetError::timed_out())?;
                match frame {
                    None => return Ok(None),
                    Some(Err(e)) => return Err(NetError::plain_body(&e)),
                    // Trailers are skipped, as reqwest does.
                    Some(Ok(frame)) => {
                        if let Ok(data) = frame.into_data() {
                            return Ok(Some(data));
                        }
                    }
                }
            },
        }
    }
}

/// A file response, ready to stream.
pub struct Opened {
    /// The answer (200 or 206).
    pub response: Response,
    /// Where the bytes came from (the CDN for LFS files): later ranges of
    /// the same file go straight there.
    pub final_url: Url,
    /// The resolve answer's metadata.
    pub headers: FileHeaders,
}

const USER_AGENT: &str = concat!("release-kit/", env!("CARGO_PKG_VERSION"), "; hf-prefetch");

/// How http:// URLs are sent.
enum PlainTransport {
    /// hyper's pooled client: no TLS set up at all.
    Direct(PlainClient<HttpConnector, Empty<Bytes>>),
    /// A proxy is configured: reqwest (which honours it), trusting no root,
    /// built on first use.
    Proxied(OnceLock<Result<reqwest::Client, String>>),
}

/// A client of one Hub endpoint.
pub struct HubClient {
    /// For http:// URLs (local mirrors, the stand-in).
    http: PlainTransport,
    /// For https:// URLs, built on first use (native-tls parses the
    /// system root store when it is built).
    https: OnceLock<Result<reqwest::Client, String>>,
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
    Done(Response, Url, FileHeaders),
    Failed(NetError),
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
        .user_agent(USER_AGENT)
        .build()
        .map_err(|e| format!("cannot start the HTTP client: {}", e.without_url()))
}

/// hyper's client for plain http, set up as reqwest sets up its own.
fn build_plain(timeouts: &Timeouts) -> PlainClient<HttpConnector, Empty<Bytes>> {
    let mut connector = HttpConnector::new();
    connector.set_connect_timeout(Some(timeouts.connect));
    connector.set_nodelay(true);
    connector.enforce_http(true);
    PlainClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(64)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_timer(TokioTimer::new())
        .build(connector)
}

/// True when the environment names a proxy for http:// URLs (reqwest's
/// system proxy rules then apply, so those requests go through it).
fn http_proxy_configured() -> bool {
    ["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]
        .iter()
        .any(|k| std::env::var_os(k).is_some_and(|v| !v.is_empty()))
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
        let http = if http_proxy_configured() {
            PlainTransport::Proxied(OnceLock::new())
        } else {
            PlainTransport::Direct(build_plain(timeouts))
        };
        Ok(HubClient {
            http,
            https: OnceLock::new(),
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
    ) -> Result<(Response, Url, FileHeaders), HfError> {
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
                        reason: e.to_string(),
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
            let mut extra = HeaderMap::new();
            extra.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_static("identity"),
            );
            if let Some((start, end)) = range {
                let value = match end {
                    Some(end) => format!("bytes={start}-{end}"),
                    None => format!("bytes={start}-"),
                };
                if let Ok(v) = HeaderValue::from_str(&value) {
                    extra.insert(header::RANGE, v);
                }
            }
            // The token goes to the endpoint's origin only, never to the
            // CDN a redirect points at.
            if let Some(token) = &self.token
                && url.origin() == self.endpoint.origin()
                && let Ok(mut v) = HeaderValue::from_str(&format!("Bearer {}", token.expose()))
            {
                v.set_sensitive(true);
                extra.insert(header::AUTHORIZATION, v);
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let resp = match self.request(&url, extra).await {
                Ok(r) => r,
                Err(outcome) => return outcome,
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

    /// One GET, without redirects; `Err` is the outcome of the attempt.
    async fn request(&self, url: &Url, headers: HeaderMap) -> Result<Response, Outcome> {
        let client = match (url.scheme(), &self.http) {
            ("https", _) => self
                .https
                .get_or_init(|| build_client(&self.timeouts, true)),
            (_, PlainTransport::Proxied(c)) => {
                c.get_or_init(|| build_client(&self.timeouts, false))
            }
            (_, PlainTransport::Direct(plain)) => {
                return self.request_plain(plain, url, headers).await;
            }
        };
        let client = client.as_ref().map_err(|e| Outcome::Setup(e.clone()))?;
        let resp = client
            .request(Method::GET, url.clone())
            .headers(headers)
            .send()
            .await
            .map_err(|e| Outcome::Failed(NetError::reqwest(e)))?;
        Ok(Response {
            inner: Inner::Tls(resp),
            read_timeout: self.timeouts.read,
        })
    }

    /// One GET over plain http through hyper, with reqwest's defaults: a
    /// user agent, `Accept: */*`, the read timeout until the headers.
    async fn request_plain(
        &self,
        client: &PlainClient<HttpConnector, Empty<Bytes>>,
        url: &Url,
        headers: HeaderMap,
    ) -> Result<Response, Outcome> {
        let mut u = url.clone();
        u.set_fragment(None);
        let uri: hyper::Uri = u
            .as_str()
            .parse()
            .map_err(|e| Outcome::Setup(format!("unusable URL {} ({e})", describe(url))))?;
        let mut req = hyper::Request::new(Empty::<Bytes>::new());
        *req.uri_mut() = uri;
        let h = req.headers_mut();
        h.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        h.extend(headers);
        let resp = tokio::time::timeout(self.timeouts.read, client.request(req))
            .await
            .map_err(|_| Outcome::Failed(NetError::timed_out()))?
            .map_err(|e| Outcome::Failed(NetError::plain_request(&e)))?;
        Ok(Response {
            inner: Inner::Plain(resp),
            read_timeout: self.timeouts.read,
        })
    }

    fn status_error(&self, resp: &Response, t: &Target<'_>, what: &str) -> HfError {
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

async fn read_json(mut resp: Response, what: &str) -> Result<serde_json::Value, HfError> {
    let mut bytes = Vec::new();
    loop {
        match resp.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            Ok(None) => break,
            Err(e) => {
                return Err(HfError::Protocol {
                    what: what.to_owned(),
                    detail: e.to_string(),
                });
            }
        }
    }
    serde_json::from_slice(&bytes).map_err(|e| HfError::Protocol {
        what: what.to_owned(),
        detail: format!("invalid JSON ({e})"),
    })
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
    let keep: Vec<u8> = b"_.-~".iter().chain(safe.as_bytes()).copied().collect();
    crate::secret::percent_encode_keeping(s, &keep)
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
    fn plain_http_connection_errors_are_network_errors() {
        // A port nothing listens on: refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let retry = RetryPolicy {
            attempts: 2,
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let client = HubClient::new(
            &format!("http://127.0.0.1:{port}"),
            None,
            retry,
            &Timeouts::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt.block_on(client.revision("o/r", "main")).unwrap_err();
        match err {
            HfError::Network {
                reason, attempts, ..
            } => {
                assert!(reason.starts_with("cannot connect"), "{reason}");
                assert_eq!(attempts, 2);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(client.requests(), 2);
    }

    #[test]
    fn describe_drops_query() {
        let u = Url::parse("https://cdn.example/x?X-Amz-Signature=abc").unwrap();
        assert_eq!(describe(&u), "https://cdn.example/x");
    }
}
