//! The retry policy: what is retried, how long to wait.

use std::time::Duration;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

/// How hard to retry, and how long a server may make us wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts per request, the first included (1 = no retry).
    pub attempts: u32,
    /// First backoff; doubles each retry.
    pub base: Duration,
    /// Backoff ceiling.
    pub max_backoff: Duration,
    /// The longest `Retry-After` / `RateLimit` wait we accept; a longer
    /// one fails the request at once.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            attempts: 4,
            base: Duration::from_millis(500),
            max_backoff: Duration::from_secs(10),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The pause after failed attempt number `attempt` (1-based): doubling
    /// from `base`, capped at `max_backoff`, plus up to 25% jitter so that
    /// parallel downloads do not retry in lockstep.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let d = exp.min(self.max_backoff);
        let mut b = [0u8; 1];
        let _ = getrandom::fill(&mut b);
        d + d.mul_f64(f64::from(b[0]) / 255.0 * 0.25)
    }
}

/// Statuses worth another attempt: 408, 429 and 5xx but 501.
pub fn is_retryable(status: StatusCode) -> bool {
    status == StatusCode::REQUEST_TIMEOUT
        || status == StatusCode::TOO_MANY_REQUESTS
        || status.is_server_error() && status != StatusCode::NOT_IMPLEMENTED
}

/// The wait an answer asks for: `RateLimit: "api";r=0;t=N` (when no
/// request remains), else `Retry-After: N` (seconds; the HTTP-date form is
/// treated as absent).
pub fn retry_wait(headers: &HeaderMap) -> Option<Duration> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(rl) = text("ratelimit") {
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
    text("retry-after")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn rate_limit_then_retry_after() {
        let mut h = HeaderMap::new();
        h.insert("ratelimit", HeaderValue::from_static("\"api\";r=0;t=7"));
        assert_eq!(retry_wait(&h), Some(Duration::from_secs(7)));
        h.insert("ratelimit", HeaderValue::from_static("\"api\";r=3;t=7"));
        assert_eq!(retry_wait(&h), None);
        h.insert("retry-after", HeaderValue::from_static("2"));
        assert_eq!(retry_wait(&h), Some(Duration::from_secs(2)));
        h.insert(
            "retry-after",
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_wait(&h), None);
    }

    #[test]
    fn backoff_grows_with_jitter_and_caps() {
        let p = RetryPolicy {
            attempts: 5,
            base: Duration::from_millis(100),
            max_backoff: Duration::from_millis(300),
            max_wait: Duration::from_secs(1),
        };
        let first = p.backoff(1);
        assert!(first >= Duration::from_millis(100) && first <= Duration::from_millis(125));
        let second = p.backoff(2);
        assert!(second >= Duration::from_millis(200) && second <= Duration::from_millis(250));
        assert!(p.backoff(30) <= Duration::from_millis(375));
        assert!(p.backoff(30) >= Duration::from_millis(300));
    }

    #[test]
    fn retryable_statuses() {
        for s in [408, 429, 500, 502, 503, 504] {
            assert!(is_retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
        for s in [200, 301, 400, 401, 403, 404, 409, 501] {
            assert!(!is_retryable(StatusCode::from_u16(s).unwrap()), "{s}");
        }
    }
}
