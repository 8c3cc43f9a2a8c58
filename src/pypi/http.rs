//! The HTTP client for index queries and the OIDC exchange: timeouts, a
//! user agent, and retries with bounded backoff for what is worth retrying
//! (connection errors, 5xx, 429 honouring `Retry-After`).
//!
//! `https://` goes through reqwest (native TLS), built on first use: making
//! that client loads the system's CA bundle, about 45 ms, which a publish
//! to a plain-HTTP index (a local pypiserver, a rehearsal) never needs.
//! Those requests take a small HTTP/1.0 path over a std `TcpStream`
//! instead: one request per connection, the body ends with the connection.

use std::cell::OnceCell;
use std::io::{Read as _, Write as _};
use std::net::{TcpStream, ToSocketAddrs as _};
use std::time::Duration;

use reqwest::blocking::Client;

/// How many attempts a request gets, and the longest wait between two.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    /// Attempts in all (1 = no retry).
    pub attempts: u32,
    /// First backoff; doubled after each failure.
    pub base: Duration,
    /// No single wait is longer (a larger `Retry-After` is an error).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(500),
            max_wait: Duration::from_secs(30),
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `n + 1` after failure `n` (0-based), or the
    /// server's `Retry-After` when it gave one.
    pub fn wait(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        retry_after
            .unwrap_or_else(|| self.base.saturating_mul(1 << n.min(16)))
            .min(self.max_wait)
    }
}

const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
const TIMEOUT: Duration = Duration::from_secs(60);
const USER_AGENT: &str = concat!("release-kit/", env!("CARGO_PKG_VERSION"));
const MAX_REDIRECTS: usize = 5;

/// A request. Header values in `secret_headers` are marked sensitive and
/// never part of any message. Its Debug shows neither header values nor
/// the body (a mint request's body is a credential).
#[derive(Clone)]
pub struct Request {
    method: &'static str,
    url: String,
    headers: Vec<(String, String)>,
    bearer: Option<crate::secret::Secret>,
    body: Option<Vec<u8>>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &strip_query(&self.url))
            .field(
                "headers",
                &self
                    .headers
                    .iter()
                    .map(|(k, _)| k.as_str())
                    .collect::<Vec<_>>(),
            )
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .finish()
    }
}

impl Request {
    /// `GET url`.
    pub fn get(url: impl Into<String>) -> Request {
        Request {
            method: "GET",
            url: url.into(),
            headers: Vec::new(),
            bearer: None,
            body: None,
        }
    }

    /// `POST url` with a JSON body.
    pub fn post_json(url: impl Into<String>, body: String) -> Request {
        Request {
            method: "POST",
            url: url.into(),
            headers: vec![("Content-Type".into(), "application/json".into())],
            bearer: None,
            body: Some(body.into_bytes()),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// `Authorization: bearer …`, sent to the request's own host only.
    pub fn bearer(mut self, token: &crate::secret::Secret) -> Request {
        self.bearer = Some(token.clone());
        self
    }

    /// The URL.
    pub fn url(&self) -> &str {
        &self.url
    }
}

/// A whole response.
#[derive(Clone, Debug)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
    /// The URL finally answered (after redirects).
    pub url: String,
}

impl Response {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// `Retry-After` in seconds (the HTTP-date form is treated as absent).
    pub fn retry_after(&self) -> Option<Duration> {
        self.header("retry-after")?
            .trim()
            .parse::<u64>()
            .ok()
            .map(Duration::from_secs)
    }

    /// 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A request that got no answer.
#[derive(Debug)]
pub struct SendError {
    /// Worth retrying (connect failure, timeout, reset).
    pub transient: bool,
    /// What happened, without the URL's query or any header.
    pub message: String,
}

/// The client: plain HTTP by hand, HTTPS by reqwest built on first use.
#[derive(Default)]
pub struct Http {
    tls: OnceCell<Client>,
}

impl Http {
    /// A client; nothing is loaded until the first request.
    pub fn new() -> Http {
        Http::default()
    }

    /// Sends once, following redirects.
    pub fn send(&self, req: &Request) -> Result<Response, SendError> {
        if req.url.starts_with("http://") {
            send_plain(req)
        } else {
            self.send_tls(req)
        }
    }

    fn send_tls(&self, req: &Request) -> Result<Response, SendError> {
        let client = match self.tls.get() {
            Some(c) => c,
            None => {
                // 307/308 resend the body: never to another host (a mint
                // request's body is a credential). Other redirects drop it.
                let policy = reqwest::redirect::Policy::custom(|attempt| {
                    let cross_host = attempt.previous().first().is_some_and(|first| {
                        first.host_str() != attempt.url().host_str()
                            || first.port_or_known_default()
                                != attempt.url().port_or_known_default()
                    });
                    if cross_host && matches!(attempt.status().as_u16(), 307 | 308) {
                        attempt.stop()
                    } else if attempt.previous().len() > MAX_REDIRECTS {
                        attempt.error("too many redirects")
                    } else {
                        attempt.follow()
                    }
                });
                let c = Client::builder()
                    .redirect(policy)
                    .user_agent(USER_AGENT)
                    .connect_timeout(CONNECT_TIMEOUT)
                    .timeout(TIMEOUT)
                    .build()
                    .map_err(|e| SendError {
                        transient: false,
                        message: format!("cannot set up the HTTP client: {}", describe(&e)),
                    })?;
                self.tls.get_or_init(|| c)
            }
        };
        let method = reqwest::Method::from_bytes(req.method.as_bytes()).expect("valid method");
        let mut b = client.request(method, &req.url);
        for (k, v) in &req.headers {
            b = b.header(k, v);
        }
        if let Some(t) = &req.bearer {
            // reqwest marks it sensitive and drops it on cross-host redirects.
            b = b.bearer_auth(t.expose());
        }
        if let Some(body) = &req.body {
            b = b.body(body.clone());
        }
        let resp = b.send().map_err(|e| SendError {
            transient: e.is_connect() || e.is_timeout() || e.is_request(),
            message: describe(&e),
        })?;
        let status = resp.status().as_u16();
        let url = resp.url().to_string();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    v.to_str().unwrap_or("").to_owned(),
                )
            })
            .collect();
        let body = resp.bytes().map_err(|e| SendError {
            transient: true,
            message: describe(&e),
        })?;
        Ok(Response {
            status,
            headers,
            body: body.to_vec(),
            url,
        })
    }
}

fn send_plain(req: &Request) -> Result<Response, SendError> {
    let mut url = req.url.clone();
    let mut method = req.method;
    let mut body = req.body.clone();
    let origin = host_port(&url).map(|(h, p, _)| (h, p));
    for _ in 0..=MAX_REDIRECTS {
        let (host, port, path) = host_port(&url).ok_or_else(|| SendError {
            transient: false,
            message: format!("not an http:// URL: {}", strip_query(&url)),
        })?;
        // Like reqwest: credentials never follow a redirect to another host.
        let same_host = origin.as_ref() == Some(&(host.clone(), port));
        if !same_host && body.is_some() {
            // A 307/308 would resend the body (a credential, for the mint
            // request) to a host we were not asked to talk to.
            return Err(SendError {
                transient: false,
                message: format!(
                    "refusing to resend the request body to another host after a redirect ({})",
                    strip_query(&url)
                ),
            });
        }
        let resp = exchange_once(req, method, &host, port, &path, body.as_deref(), same_host)?;
        if matches!(resp.status, 301 | 302 | 303 | 307 | 308)
            && let Some(loc) = resp.header("location")
        {
            url = super::index::resolve(&url, loc);
            if resp.status == 303 || (resp.status != 307 && resp.status != 308 && method == "POST")
            {
                method = "GET";
                body = None;
            }
            if !url.starts_with("http://") {
                return Err(SendError {
                    transient: false,
                    message: format!("redirected away from plain HTTP to {}", strip_query(&url)),
                });
            }
            continue;
        }
        return Ok(Response { url, ..resp });
    }
    Err(SendError {
        transient: false,
        message: format!("more than {MAX_REDIRECTS} redirects"),
    })
}

#[allow(clippy::too_many_arguments)]
fn exchange_once(
    req: &Request,
    method: &str,
    host: &str,
    port: u16,
    path: &str,
    body: Option<&[u8]>,
    send_auth: bool,
) -> Result<Response, SendError> {
    let io = |what: &str, e: std::io::Error| SendError {
        transient: true,
        message: format!("{what} {host}:{port}: {e}"),
    };
    let addr = (host, port)
        .to_socket_addrs()
        .map_err(|e| io("cannot resolve", e))?
        .next()
        .ok_or_else(|| SendError {
            transient: true,
            message: format!("cannot resolve {host}"),
        })?;
    let mut stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)
        .map_err(|e| io("cannot connect to", e))?;
    let _ = stream.set_read_timeout(Some(TIMEOUT));
    let _ = stream.set_write_timeout(Some(TIMEOUT));
    let _ = stream.set_nodelay(true);
    let host_header = if port == 80 {
        host.to_owned()
    } else {
        format!("{host}:{port}")
    };
    let mut head = format!(
        "{method} {path} HTTP/1.0\r\nHost: {host_header}\r\nUser-Agent: {USER_AGENT}\r\nAccept-Encoding: identity\r\nConnection: close\r\n"
    );
    for (k, v) in &req.headers {
        if body.is_none() && k.eq_ignore_ascii_case("content-type") {
            continue;
        }
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    let mut bytes = head.into_bytes();
    if send_auth && let Some(t) = &req.bearer {
        bytes.extend_from_slice(b"Authorization: Bearer ");
        bytes.extend_from_slice(t.expose().as_bytes());
        bytes.extend_from_slice(b"\r\n");
    }
    if let Some(b) = body {
        bytes.extend_from_slice(format!("Content-Length: {}\r\n\r\n", b.len()).as_bytes());
        bytes.extend_from_slice(b);
    } else {
        bytes.extend_from_slice(b"\r\n");
    }
    stream
        .write_all(&bytes)
        .map_err(|e| io("cannot send to", e))?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| io("no complete answer from", e))?;
    parse_response(&raw).ok_or_else(|| SendError {
        transient: true,
        message: format!("malformed HTTP answer from {host}:{port}"),
    })
}

/// Parses a whole HTTP/1.x answer read to the end of the connection.
fn parse_response(raw: &[u8]) -> Option<Response> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let get = |n: &str| {
        headers
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    if get("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        body = dechunk(&body)?;
    } else if let Some(len) = get("content-length").and_then(|v| v.parse::<usize>().ok()) {
        if body.len() < len {
            return None;
        }
        body.truncate(len);
    }
    Some(Response {
        status,
        headers,
        body,
        url: String::new(),
    })
}

fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n")?;
        let size_text = std::str::from_utf8(&data[..line_end]).ok()?;
        let size = usize::from_str_radix(size_text.split(';').next()?.trim(), 16).ok()?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Some(out);
        }
        if data.len() < size + 2 {
            return None;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

/// (host, port, path-and-query) of an `http://` URL.
fn host_port(url: &str) -> Option<(String, u16, String)> {
    let u = reqwest::Url::parse(url).ok()?;
    if u.scheme() != "http" {
        return None;
    }
    let host = u
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_owned();
    let port = u.port_or_known_default()?;
    let mut path = u.path().to_owned();
    if let Some(q) = u.query() {
        path.push('?');
        path.push_str(q);
    }
    Some((host, port, path))
}

fn strip_query(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// What went wrong with a request, after retries.
#[derive(Debug)]
pub enum HttpFailure {
    /// No answer at all (connection refused, DNS, timeout).
    Connect(String),
    /// An answer with a retryable status (5xx, 429) after all attempts.
    Status(Response),
}

/// Sends `req` until it gets an answer not worth retrying. 2xx-4xx (but
/// 429) come back as `Ok`; callers decide what they mean.
pub fn send_with_retries(
    http: &Http,
    policy: RetryPolicy,
    req: &Request,
) -> Result<Response, HttpFailure> {
    let mut n = 0;
    loop {
        let last = n + 1 >= policy.attempts;
        match http.send(req) {
            Ok(resp) => {
                let retryable = resp.status >= 500 || resp.status == 429;
                if !retryable {
                    return Ok(resp);
                }
                let after = resp.retry_after();
                if last || after.is_some_and(|a| a > policy.max_wait) {
                    return Err(HttpFailure::Status(resp));
                }
                std::thread::sleep(policy.wait(n, after));
            }
            Err(e) => {
                if last || !e.transient {
                    return Err(HttpFailure::Connect(e.message));
                }
                std::thread::sleep(policy.wait(n, None));
            }
        }
        n += 1;
    }
}

/// A reqwest error without its URL, with its causes.
pub fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut msg = String::from(if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    });
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !msg.contains(&text) {
            msg.push_str(": ");
            msg.push_str(&text);
        }
        source = s.source();
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        let p = RetryPolicy::default();
        assert_eq!(p.wait(0, None), Duration::from_millis(500));
        assert_eq!(p.wait(2, None), Duration::from_secs(2));
        assert_eq!(p.wait(20, None), Duration::from_secs(30));
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(7))),
            Duration::from_secs(7)
        );
    }

    /// A server answering each connection with the next canned answer,
    /// returning what it received.
    fn canned(answers: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for a in answers {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 4096];
                let n = s.read(&mut buf).unwrap();
                seen.push(String::from_utf8_lossy(&buf[..n]).into_owned());
                s.write_all(a.as_bytes()).unwrap();
            }
            seen
        });
        (format!("http://{addr}"), t)
    }

    #[test]
    fn retries_503_and_429_then_succeeds_then_gives_up_on_refused() {
        let (base, server) = canned(vec![
            "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\n\r\n".into(),
            "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\n\r\n".into(),
            "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n".into(),
        ]);
        let http = Http::new();
        let policy = RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(10),
            max_wait: Duration::from_secs(1),
        };
        let req = Request::get(format!("{base}/x"));
        let resp = send_with_retries(&http, policy, &req).unwrap();
        assert_eq!((resp.status, resp.text().as_str()), (200, "ok"));
        assert_eq!(server.join().unwrap().len(), 3);
        // Nothing listens there any more.
        let err = send_with_retries(&http, policy, &req).unwrap_err();
        assert!(
            matches!(err, HttpFailure::Connect(ref m) if m.starts_with("cannot connect")),
            "{err:?}"
        );
        // The TLS client was never needed.
        assert!(http.tls.get().is_none());
    }

    #[test]
    fn redirect_to_another_host_drops_the_bearer() {
        let (other, other_server) = canned(vec![
            "HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\nthere".into(),
        ]);
        // `localhost` and `127.0.0.1` are different hosts to a client.
        let other = other.replace("127.0.0.1", "localhost");
        let (base, server) = canned(vec![format!(
            "HTTP/1.0 302 Found\r\nlocation: {other}/y\r\ncontent-length: 0\r\n\r\n"
        )]);
        let token = crate::secret::Secret::new("CANARY-bearer-4d2c");
        let req = Request::get(format!("{base}/x")).bearer(&token);
        let resp = Http::new().send(&req).unwrap();
        assert_eq!(resp.text(), "there");
        assert!(server.join().unwrap()[0].contains("Authorization: Bearer CANARY-bearer-4d2c"));
        assert!(!other_server.join().unwrap()[0].contains("CANARY"));
    }

    #[test]
    fn post_json_and_content_length() {
        let (base, server) = canned(vec![
            "HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\n{}trailing".into(),
        ]);
        let resp = Http::new()
            .send(&Request::post_json(
                format!("{base}/m"),
                r#"{"token":"t"}"#.into(),
            ))
            .unwrap();
        assert_eq!(resp.text(), "{}");
        let seen = &server.join().unwrap()[0];
        assert!(seen.starts_with("POST /m HTTP/1.0\r\n"), "{seen}");
        assert!(
            seen.contains("Content-Length: 13\r\n\r\n{\"token\":\"t\"}"),
            "{seen}"
        );
    }

    #[test]
    fn a_post_body_never_follows_a_307_to_another_host() {
        let (base, server) = canned(vec![
            "HTTP/1.0 307 Temporary Redirect\r\nlocation: http://localhost:9/steal\r\ncontent-length: 0\r\n\r\n".into(),
        ]);
        let err = Http::new()
            .send(&Request::post_json(
                format!("{base}/mint"),
                r#"{"token":"CANARY-jwt"}"#.into(),
            ))
            .unwrap_err();
        assert!(
            err.message.contains("refusing to resend the request body"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("CANARY"));
        server.join().unwrap();
        let dbg = format!(
            "{:?}",
            Request::post_json("http://x/m?k=CANARY-q", "CANARY-body".into())
        );
        assert!(!dbg.contains("CANARY"), "{dbg}");
    }
}
