//! The one HTTP client every request goes through: index queries, the
//! OIDC exchange, the Hub API, CDN byte ranges, live credential checks.
//!
//! One reqwest client over rustls (ring, the built-in webpki roots), so
//! nothing needs a system TLS library to build and nothing reads a CA bundle
//! at start-up. On top of it, the rules every request keeps:
//!
//! - **Redirects are followed here**, not by reqwest. Credentials (the
//!   request's secret headers: `Authorization`, `x-api-key`, …) go only to
//!   the origin the request was made for, never to a host a redirect points
//!   at; a body is never resent to another origin by a 307/308. A request
//!   may refuse other origins altogether
//!   ([`Request::same_origin_redirects_only`]): the redirect is its answer.
//! - **One retry policy** ([`RetryPolicy`]): connection errors, 408, 429
//!   and 5xx are retried with jittered, capped exponential backoff;
//!   `Retry-After` and `RateLimit: …;r=0;t=N` are honoured; a wait longer
//!   than the policy accepts is an error, not a hang.
//! - **One error description** ([`NetError`]): what happened and its causes,
//!   never the URL's query, user info or any header value.
//! - Proxies from the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
//!   `NO_PROXY`) are honoured by reqwest; `SSL_CERT_FILE` adds trusted
//!   roots, as uv and curl read it.
//!
//! The client is async; [`Blocking`] runs it on a private current-thread
//! runtime for the blocking callers (publish, OIDC).

mod blocking;
mod error;
mod retry;
mod tls;

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

pub use blocking::Blocking;
pub use error::{Failure, NetError};
pub use reqwest::header::{self, HeaderMap, HeaderValue};
pub use reqwest::{Method, StatusCode, Url};
use retry::is_retryable;
pub use retry::{RetryPolicy, retry_wait};

use crate::secret::Secret;

/// The most [`Response::full`] reads: 32 MiB. The largest whole answers
/// read are JSON and listings: a Hub tree page (1000 entries, about 0.3
/// MB), a package index's simple page or JSON (a few MB for projects with
/// thousands of files), OIDC and credential checks (kilobytes). 32 MiB is
/// several times the largest of those and still bounds what an endless
/// answer can cost; file downloads stream to disk and do not use it.
pub const DEFAULT_BODY_LIMIT: u64 = 32 << 20;

/// The most read into memory for a whole file (a listed wheel hashed to
/// compare it with ours): 1 GiB, above PyPI's default upload limit (100
/// MB) and the raised limits large native wheels get.
pub const FILE_BODY_LIMIT: u64 = 1 << 30;

/// How many redirects one request follows.
pub const MAX_REDIRECTS: usize = 10;

const USER_AGENT: &str = concat!("release-kit/", env!("CARGO_PKG_VERSION"));

/// The client's timeouts.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    /// TCP and TLS connection.
    pub connect: Duration,
    /// Longest pause between two reads (headers included).
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

/// A request. Secret headers are sent only to the URL's own origin and
/// are marked sensitive; Debug shows neither header values nor the body (a
/// mint request's body is a credential), nor the URL's query.
#[derive(Clone)]
pub struct Request {
    method: Method,
    url: String,
    headers: Vec<(String, String)>,
    secret_headers: Vec<(String, Secret)>,
    body: Option<Vec<u8>>,
    same_origin_only: bool,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &describe_str(&self.url))
            .field(
                "headers",
                &self.headers.iter().map(|(k, _)| k).collect::<Vec<_>>(),
            )
            .field(
                "secret_headers",
                &self
                    .secret_headers
                    .iter()
                    .map(|(k, _)| k)
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("same_origin_only", &self.same_origin_only)
            .finish()
    }
}

impl Request {
    /// `METHOD url`.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            secret_headers: Vec::new(),
            body: None,
            same_origin_only: false,
        }
    }

    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::GET, url)
    }

    /// `POST url` with a JSON body.
    pub fn post_json(url: impl Into<String>, body: String) -> Request {
        Request::new(Method::POST, url)
            .header("Content-Type", "application/json")
            .body(body.into_bytes())
    }

    /// Sets the body.
    pub fn body(mut self, body: Vec<u8>) -> Request {
        self.body = Some(body);
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds a header whose value is a credential: sent to the request's
    /// own origin only, marked sensitive, never shown.
    pub fn secret_header(mut self, name: &str, value: Secret) -> Request {
        self.secret_headers.push((name.into(), value));
        self
    }

    /// `Authorization: Bearer …`, to the request's own origin only.
    pub fn bearer(self, token: &Secret) -> Request {
        let value = Secret::new(format!("Bearer {}", token.expose()));
        self.secret_header("Authorization", value)
    }

    /// Follows redirects within the request's own origin only: a redirect
    /// to another origin is returned as the 3xx answer (its `Location`
    /// readable), so nothing is asked of a host the caller did not name
    /// (pypiserver sends an unknown project to pypi.org).
    pub fn same_origin_redirects_only(mut self) -> Request {
        self.same_origin_only = true;
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// An answer whose body has not been read yet.
pub struct Response {
    inner: reqwest::Response,
    url: Url,
    hops: Vec<HeaderMap>,
}

impl std::fmt::Debug for Response {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Response")
            .field("status", &self.status())
            .field("url", &describe(&self.url))
            .finish()
    }
}

impl Response {
    /// The status code.
    pub fn status(&self) -> StatusCode {
        self.inner.status()
    }

    /// The headers.
    pub fn headers(&self) -> &HeaderMap {
        self.inner.headers()
    }

    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.headers().get(name)?.to_str().ok()
    }

    /// The URL that answered (after redirects).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The headers of each redirect answer on the way here, in order (the
    /// Hub puts a file's metadata on the first one).
    pub fn redirect_headers(&self) -> &[HeaderMap] {
        &self.hops
    }

    /// The next piece of the body, `None` at its end; at most the read
    /// timeout between two pieces.
    pub async fn chunk(&mut self) -> Result<Option<bytes::Bytes>, NetError> {
        self.inner.chunk().await.map_err(NetError::from_reqwest)
    }

    /// Reads the body to its end, at most [`DEFAULT_BODY_LIMIT`] bytes.
    pub async fn full(self) -> Result<Full, NetError> {
        self.full_within(DEFAULT_BODY_LIMIT).await
    }

    /// Reads the body to its end, at most `limit` bytes: a `Content-Length`
    /// above it fails before anything is read, and a body that grows past
    /// it (no length, or a server that lies) fails as soon as it does, so
    /// a fast endless answer costs `limit` bytes of memory, never more.
    pub async fn full_within(mut self, limit: u64) -> Result<Full, NetError> {
        if let Some(len) = self.inner.content_length()
            && len > limit
        {
            return Err(NetError::too_large(&self.url, limit, Some(len)));
        }
        let hint = self.inner.content_length().unwrap_or(0).min(1 << 20);
        let mut body = Vec::with_capacity(usize::try_from(hint).unwrap_or(0));
        while let Some(c) = self.chunk().await? {
            if (body.len() as u64).saturating_add(c.len() as u64) > limit {
                return Err(NetError::too_large(&self.url, limit, None));
            }
            body.extend_from_slice(&c);
        }
        Ok(Full {
            status: self.inner.status().as_u16(),
            headers: self.inner.headers().clone(),
            url: self.url,
            body,
        })
    }
}

/// An answer read to its end.
#[derive(Clone, Debug)]
pub struct Full {
    /// Status code.
    pub status: u16,
    /// Headers.
    pub headers: HeaderMap,
    /// The URL that answered (after redirects).
    pub url: Url,
    /// The body.
    pub body: Vec<u8>,
}

impl Full {
    /// A header's value, when it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name)?.to_str().ok()
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// The client. Cheap to build: nothing is set up, no file is read and no
/// connection is made until the first request. Inside, one reqwest client
/// per scheme, each made on first use: the `https://` one reads
/// `SSL_CERT_FILE` (a whole CA bundle on many machines), which a run that
/// only speaks plain HTTP (a local index, a mirror) never pays for. Both
/// follow the same rules, in [`Client::send_once`].
pub struct Client {
    timeouts: Timeouts,
    user_agent: String,
    plain: OnceLock<Result<reqwest::Client, NetError>>,
    tls: OnceLock<Result<reqwest::Client, NetError>>,
    requests: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("requests", &self.requests())
            .finish()
    }
}

impl Client {
    /// A client with the default timeouts and user agent.
    pub fn new() -> Result<Client, NetError> {
        Client::with(Timeouts::default(), None)
    }

    /// A client with these timeouts; `product` is added to the user agent
    /// (`release-kit/0.1.0; hf-prefetch`).
    pub fn with(timeouts: Timeouts, product: Option<&str>) -> Result<Client, NetError> {
        let user_agent = match product {
            Some(p) => format!("{USER_AGENT}; {p}"),
            None => USER_AGENT.to_owned(),
        };
        Ok(Client {
            timeouts,
            user_agent,
            plain: OnceLock::new(),
            tls: OnceLock::new(),
            requests: AtomicU64::new(0),
        })
    }

    /// The reqwest client for `url`'s scheme, made on first use.
    fn inner(&self, url: &Url) -> Result<&reqwest::Client, NetError> {
        let https = url.scheme() == "https";
        let cell = if https { &self.tls } else { &self.plain };
        cell.get_or_init(|| {
            reqwest::Client::builder()
                .tls_backend_preconfigured(tls::config(https)?)
                .redirect(reqwest::redirect::Policy::none())
                .connect_timeout(self.timeouts.connect)
                .read_timeout(self.timeouts.read)
                .pool_max_idle_per_host(64)
                .tcp_nodelay(true)
                .user_agent(self.user_agent.clone())
                .build()
                .map_err(|e| NetError::setup(&e))
        })
        .as_ref()
        .map_err(Clone::clone)
    }

    /// HTTP requests sent so far (each redirect hop counts).
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::Relaxed)
    }

    /// Sends once, following redirects by the rules above. Any status is
    /// an answer; `Err` means no answer.
    pub async fn send_once(&self, req: &Request) -> Result<Response, NetError> {
        let start = Url::parse(&req.url).map_err(|e| NetError::bad_url(&req.url, e))?;
        if !matches!(start.scheme(), "http" | "https") {
            return Err(NetError::bad_url(&req.url, "not an http(s) URL"));
        }
        let origin = start.origin();
        let mut url = start;
        let mut method = req.method.clone();
        let mut body = req.body.clone();
        let mut hops = Vec::new();
        loop {
            let same_origin = url.origin() == origin;
            let mut b = self.inner(&url)?.request(method.clone(), url.clone());
            for (k, v) in &req.headers {
                if body.is_none() && k.eq_ignore_ascii_case("content-type") {
                    continue;
                }
                b = b.header(k.as_str(), v.as_str());
            }
            if same_origin {
                for (k, v) in &req.secret_headers {
                    let mut value =
                        HeaderValue::from_str(v.expose()).map_err(|_| NetError::bad_header(k))?;
                    value.set_sensitive(true);
                    b = b.header(k.as_str(), value);
                }
            }
            if let Some(body) = &body {
                b = b.body(body.clone());
            }
            self.requests.fetch_add(1, Ordering::Relaxed);
            let resp = b.send().await.map_err(NetError::from_reqwest)?;
            let status = resp.status();
            let next = status
                .is_redirection()
                .then(|| resp.headers().get(reqwest::header::LOCATION))
                .flatten()
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok());
            let Some(next) = next.filter(|n| !req.same_origin_only || n.origin() == origin) else {
                return Ok(Response {
                    inner: resp,
                    url,
                    hops,
                });
            };
            if hops.len() >= MAX_REDIRECTS {
                return Err(NetError::redirect(format!(
                    "more than {MAX_REDIRECTS} redirects, the last to {}",
                    describe(&next)
                )));
            }
            if !matches!(next.scheme(), "http" | "https") {
                return Err(NetError::redirect(format!(
                    "redirected to a non-HTTP URL ({})",
                    describe(&next)
                )));
            }
            match status.as_u16() {
                307 | 308 if body.is_some() && next.origin() != origin => {
                    return Err(NetError::redirect(format!(
                        "refusing to resend the request body to another host after a redirect ({})",
                        describe(&next)
                    )));
                }
                307 | 308 => {}
                303 => {
                    method = Method::GET;
                    body = None;
                }
                _ if method == Method::POST => {
                    method = Method::GET;
                    body = None;
                }
                _ => {}
            }
            hops.push(resp.headers().clone());
            url = next;
        }
    }

    /// Sends until an answer not worth retrying comes back. Any such answer
    /// (2xx, 3xx, 4xx but 408/429) is `Ok`: callers decide what it means.
    pub async fn send(&self, req: &Request, policy: &RetryPolicy) -> Result<Response, Failure> {
        let mut attempts = 0;
        loop {
            attempts += 1;
            let last = attempts >= policy.attempts;
            let wait = match self.send_once(req).await {
                Ok(resp) if !is_retryable(resp.status()) => return Ok(resp),
                Ok(resp) => {
                    let asked = retry_wait(resp.headers());
                    if let Some(wait) = asked.filter(|w| *w > policy.max_wait) {
                        return Err(Failure::WaitTooLong {
                            response: Box::new(resp),
                            wait,
                        });
                    }
                    if last {
                        return Err(Failure::Status {
                            response: Box::new(resp),
                            attempts,
                        });
                    }
                    asked
                }
                Err(error) if last || !error.is_transient() => {
                    return Err(Failure::Network { error, attempts });
                }
                Err(_) => None,
            };
            tokio::time::sleep(wait.unwrap_or_else(|| policy.backoff(attempts))).await;
        }
    }
}

/// The TLS client configuration every connection uses (rustls, the
/// built-in roots plus `SSL_CERT_FILE`), for the protocols that are not
/// HTTP (`rediss://`).
pub fn tls_config() -> Result<rustls::ClientConfig, NetError> {
    tls::config(true)
}

/// A URL as shown in messages: no query string (pre-signed URLs carry
/// signatures there), no fragment, no user info.
pub fn describe(url: &Url) -> String {
    if url.cannot_be_a_base() {
        // `user:pass@host/x` parses with the scheme `user`: no authority
        // to clear, so the text rule applies.
        return describe_text(url.as_str());
    }
    let mut u = url.clone();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    u.to_string()
}

/// [`describe`] for a URL in text; text that is not a URL (no scheme, a
/// bad port…) loses everything from the first `?` or `#` on and whatever
/// stands before an `@` in its authority (`user:pass@`).
pub fn describe_str(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => describe(&u),
        Err(_) => describe_text(url),
    }
}

fn describe_text(url: &str) -> String {
    let cut = url.split(['?', '#']).next().unwrap_or("");
    let (scheme, rest) = match cut.find("://") {
        Some(i) => cut.split_at(i + 3),
        None => ("", cut),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let rest = match rest[..authority_end].rfind('@') {
        Some(at) => &rest[at + 1..],
        None => rest,
    };
    format!("{scheme}{rest}")
}

/// True when `url` carries a user name, password or query: places where a
/// credential would be sent and shown.
pub fn has_credentials(url: &Url) -> bool {
    !url.username().is_empty() || url.password().is_some() || url.query().is_some()
}

#[cfg(test)]
mod tests;
