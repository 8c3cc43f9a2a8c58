//! The HTTP client for index queries and the OIDC exchange: timeouts, a
//! user agent, and retries with bounded backoff for what is worth retrying
//! (connection errors, 5xx, 429 honouring `Retry-After`).

use std::time::Duration;

use reqwest::blocking::{Client, RequestBuilder, Response};
use reqwest::header::RETRY_AFTER;

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

/// Our client: 10 s to connect, 60 s per request, no proxy surprises for
/// loopback.
pub fn client() -> anyhow::Result<Client> {
    Client::builder()
        .user_agent(concat!("release-kit/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| anyhow::anyhow!("cannot set up the HTTP client: {}", e.without_url()))
}

/// What went wrong with a request, after retries.
#[derive(Debug)]
pub enum HttpFailure {
    /// No answer at all (connection refused, DNS, timeout).
    Connect(String),
    /// An answer with an error status (4xx, or 5xx/429 after retries).
    Status(Response),
}

/// Sends the request made by `make` until it gets an answer that is not
/// worth retrying. 2xx-4xx (but 429) come back as `Ok`; callers decide.
pub fn send_with_retries(
    policy: RetryPolicy,
    mut make: impl FnMut() -> RequestBuilder,
) -> Result<Response, HttpFailure> {
    let mut n = 0;
    loop {
        let last = n + 1 >= policy.attempts;
        match make().send() {
            Ok(resp) => {
                let status = resp.status();
                let retryable = status.is_server_error() || status.as_u16() == 429;
                if !retryable {
                    return Ok(resp);
                }
                if last {
                    return Err(HttpFailure::Status(resp));
                }
                let after = retry_after(&resp);
                if after.is_some_and(|a| a > policy.max_wait) {
                    return Err(HttpFailure::Status(resp));
                }
                std::thread::sleep(policy.wait(n, after));
            }
            Err(e) => {
                // reqwest appends the URL to its errors; ours never hold a
                // secret in the URL, but keep the habit.
                let msg = describe(&e);
                if last || !(e.is_connect() || e.is_timeout() || e.is_request()) {
                    return Err(HttpFailure::Connect(msg));
                }
                std::thread::sleep(policy.wait(n, None));
            }
        }
        n += 1;
    }
}

/// `Retry-After` in seconds (the HTTP-date form is treated as absent).
pub fn retry_after(resp: &Response) -> Option<Duration> {
    resp.headers()
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// A reqwest error without its URL, with its causes.
pub fn describe(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut msg = String::new();
    let mut source = e.source();
    let head = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    msg.push_str(head);
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

    #[test]
    fn retries_503_then_succeeds_and_gives_up_on_refused() {
        use std::io::{Read as _, Write as _};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let answers = [
                "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
                "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
            ];
            for a in answers {
                let (mut s, _) = listener.accept().unwrap();
                let mut buf = [0u8; 2048];
                let _ = s.read(&mut buf);
                s.write_all(a.as_bytes()).unwrap();
            }
        });
        let c = client().unwrap();
        let policy = RetryPolicy {
            attempts: 3,
            base: Duration::from_millis(10),
            max_wait: Duration::from_secs(1),
        };
        let url = format!("http://{addr}/x");
        let resp = send_with_retries(policy, || c.get(&url)).unwrap();
        assert_eq!(resp.text().unwrap(), "ok");
        server.join().unwrap();
        // Nothing listens there any more.
        let err = send_with_retries(policy, || c.get(&url)).unwrap_err();
        assert!(matches!(err, HttpFailure::Connect(ref m) if m.starts_with("cannot connect")), "{err:?}");
    }
}
