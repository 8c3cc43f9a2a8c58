//! What went wrong with a request, in words that never carry a credential.

use std::time::Duration;

use super::Response;

/// A request that got no (usable) answer. Its text names what happened and
/// the chain of causes; never the URL's query, user info or a header value
/// (reqwest's own Display appends the URL, so it is never used directly).
#[derive(Clone, Debug)]
pub struct NetError {
    kind: Kind,
    message: String,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Connect,
    /// Refused: nothing listens there; another attempt would not change it.
    Refused,
    Timeout,
    Broken,
    Redirect,
    Setup,
    TooLarge,
}

impl std::fmt::Display for NetError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for NetError {}

impl NetError {
    /// From reqwest, without its URL, with its causes.
    pub(crate) fn from_reqwest(e: reqwest::Error) -> NetError {
        let e = e.without_url();
        let (kind, words) = if e.is_timeout() || chain_timed_out(&e) {
            (Kind::Timeout, "timed out")
        } else if e.is_connect() && chain_has(&e, std::io::ErrorKind::ConnectionRefused) {
            (
                Kind::Refused,
                "cannot connect (connection refused: is the server running, and on that port?)",
            )
        } else if e.is_connect() {
            (Kind::Connect, "cannot connect")
        } else if e.is_body() || e.is_decode() {
            (
                Kind::Broken,
                "the connection broke while reading the answer",
            )
        } else if e.is_builder() {
            (Kind::Setup, "cannot build the request")
        } else {
            (Kind::Broken, "request failed")
        };
        NetError {
            kind,
            message: with_sources(words, std::error::Error::source(&e)),
        }
    }

    pub(crate) fn setup(e: &reqwest::Error) -> NetError {
        NetError {
            kind: Kind::Setup,
            message: with_sources(
                "cannot set up the HTTP client",
                std::error::Error::source(e),
            ),
        }
    }

    pub(crate) fn setup_msg(message: String) -> NetError {
        NetError {
            kind: Kind::Setup,
            message,
        }
    }

    pub(crate) fn bad_url(url: &str, why: impl std::fmt::Display) -> NetError {
        NetError {
            kind: Kind::Setup,
            message: format!("unusable URL {} ({why})", super::describe_str(url)),
        }
    }

    pub(crate) fn bad_header(name: &str) -> NetError {
        NetError {
            kind: Kind::Setup,
            message: format!(
                "the value for the {name} header has characters HTTP cannot carry (a line break or control character?); check the variable it comes from"
            ),
        }
    }

    /// A body larger than the request reads: `length` when the server
    /// announced it, else it grew past `limit` while being read.
    pub(crate) fn too_large(url: &super::Url, limit: u64, length: Option<u64>) -> NetError {
        let limit = human_limit(limit);
        let what = match length {
            Some(n) => format!(
                "announces {n} bytes (Content-Length), more than the {limit} this request reads; nothing was read"
            ),
            None => format!("went on past {limit}, the most this request reads; stopped reading"),
        };
        NetError {
            kind: Kind::TooLarge,
            message: format!(
                "the answer from {} {what}. The server is not answering as expected: check that \
                 the URL (and any proxy in between) points at the right service",
                super::describe(url)
            ),
        }
    }

    pub(crate) fn redirect(message: String) -> NetError {
        NetError {
            kind: Kind::Redirect,
            message,
        }
    }

    /// Worth another attempt: a refused or failed connection, a timeout, a
    /// connection that broke.
    pub fn is_transient(&self) -> bool {
        matches!(self.kind, Kind::Connect | Kind::Timeout | Kind::Broken)
    }

    /// The answer was larger than the request's size limit.
    pub fn is_too_large(&self) -> bool {
        self.kind == Kind::TooLarge
    }

    /// No connection could be made (refused, DNS, TLS handshake).
    pub fn is_connect(&self) -> bool {
        matches!(self.kind, Kind::Connect | Kind::Refused)
    }
}

/// `32 MiB`, `512 KiB`, `100 bytes`.
fn human_limit(n: u64) -> String {
    if n >= 1 << 20 && n.is_multiple_of(1 << 20) {
        format!("{} MiB", n >> 20)
    } else if n >= 1 << 10 && n.is_multiple_of(1 << 10) {
        format!("{} KiB", n >> 10)
    } else {
        format!("{n} bytes")
    }
}

/// `words` then each error of the chain from `source`, `: `-separated,
/// skipping a cause already said.
fn with_sources(words: &str, mut source: Option<&(dyn std::error::Error + 'static)>) -> String {
    let mut msg = words.to_owned();
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

fn chain_timed_out(e: &(dyn std::error::Error + 'static)) -> bool {
    chain_has(e, std::io::ErrorKind::TimedOut)
}

/// An I/O error of `kind` somewhere in `e`'s chain.
fn chain_has(e: &(dyn std::error::Error + 'static), kind: std::io::ErrorKind) -> bool {
    let mut source = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == kind)
        {
            return true;
        }
        source = s.source();
    }
    false
}

/// A request that failed after the retry policy was spent.
#[derive(Debug)]
pub enum Failure {
    /// No answer, after `attempts` tries (or at once, when not transient).
    Network {
        /// The last error.
        error: NetError,
        /// Attempts made.
        attempts: u32,
    },
    /// A retryable status (408, 429, 5xx) on every attempt.
    Status {
        /// The last answer.
        response: Box<Response>,
        /// Attempts made.
        attempts: u32,
    },
    /// The server asked us to wait longer than the policy accepts.
    WaitTooLong {
        /// The answer that asked.
        response: Box<Response>,
        /// How long it asked for.
        wait: Duration,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Network { error, attempts: 1 } => write!(f, "{error}"),
            Failure::Network { error, attempts } => {
                write!(f, "{error} (after {attempts} attempts)")
            }
            Failure::Status { response, attempts } => write!(
                f,
                "HTTP {} after {attempts} attempts",
                response.status().as_u16()
            ),
            Failure::WaitTooLong { response, wait } => write!(
                f,
                "HTTP {}: the server asks us to wait {} s, longer than we retry for; try again later",
                response.status().as_u16(),
                wait.as_secs()
            ),
        }
    }
}
