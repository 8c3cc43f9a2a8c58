//! Federation: connect to REDIS_URL (`redis://`, or `rediss://` over TLS
//! with the network layer's rustls configuration), AUTH with the URL's
//! user name and password, SELECT its database, PING. RESP is spoken
//! directly: three commands do not need a client library.

use std::sync::Arc;

use tokio::io::{
    AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader,
};

use super::{Inputs, Outcome};
use crate::net::Url;
use crate::secret::{Redactor, Secret};

/// What REDIS_URL says, the password kept secret.
#[derive(Debug)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    user: Option<String>,
    password: Option<Secret>,
    db: u32,
}

/// Why the Redis check failed, in words (a server's own words cut short,
/// never the URL's credentials: the caller redacts them too).
#[derive(Debug, thiserror::Error)]
enum RedisProblem {
    #[error(
        "REDIS_URL {0}; expected redis://[[user]:password@]host[:port][/db] (or rediss:// for TLS)"
    )]
    BadUrl(&'static str),
    #[error(
        "Redis refused the {what} in REDIS_URL ({said}); fix REDIS_URL, or the server's requirepass / ACL"
    )]
    WrongPassword { what: &'static str, said: String },
    #[error(
        "REDIS_URL carries a password but the server has none set ({0}); remove it from REDIS_URL or set requirepass on the server"
    )]
    NoPasswordSet(String),
    #[error(
        "the server needs a password and REDIS_URL has none ({said}); use redis://:PASSWORD@{address}/{db}"
    )]
    NoAuth {
        said: String,
        address: String,
        db: u32,
    },
    #[error("database {db} cannot be selected ({said}); fix the /DB at the end of REDIS_URL")]
    BadDatabase { db: u32, said: String },
    #[error("{what} refused: {said}")]
    Refused { what: &'static str, said: String },
    #[error("PING answered {0:?}, not PONG")]
    NotPong(String),
    #[error("the answer is not Redis's protocol (RESP); {PORT_HINT}")]
    NotRedis,
    #[error("the connection failed ({0}); {PORT_HINT}")]
    Broken(std::io::Error),
    #[error("the server closed the connection without answering; {PORT_HINT}")]
    Closed,
}

impl Target {
    fn parse(value: &str) -> Result<Target, RedisProblem> {
        let bad = RedisProblem::BadUrl;
        let url = Url::parse(value.trim()).map_err(|_| bad("is not a URL"))?;
        let tls = match url.scheme() {
            "redis" => false,
            "rediss" => true,
            _ => return Err(bad("has another scheme")),
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("has no host"))?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let path = url.path().trim_matches('/');
        let db = if path.is_empty() {
            0
        } else {
            path.parse()
                .map_err(|_| bad("has a database that is not a number"))?
        };
        let (user, password) = url_credentials(value).unwrap_or((None, None));
        Ok(Target {
            tls,
            host,
            port: url.port().unwrap_or(6379),
            user,
            password: password.map(Secret::new),
            db,
        })
    }

    /// Masks the URL's password (and its encodings) in a server's words.
    fn redactor(&self) -> Redactor {
        let mut r = Redactor::new();
        if let Some(p) = &self.password {
            r.add(p);
        }
        r
    }

    fn address(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// The user name and password of a `redis://` or `rediss://` URL,
/// percent-decoded as redis-py reads them; `None` for other text.
pub(super) fn url_credentials(value: &str) -> Option<(Option<String>, Option<String>)> {
    let value = value.trim();
    if !(value.starts_with("redis://") || value.starts_with("rediss://")) {
        return None;
    }
    let url = Url::parse(value).ok()?;
    let user = Some(percent_decode(url.username())).filter(|u| !u.is_empty());
    let password = url.password().map(percent_decode);
    Some((user, password))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

pub(super) async fn check(inputs: &Inputs) -> Outcome {
    let Some(url) = inputs.explicit("REDIS_URL") else {
        return Outcome::skipped("not configured: REDIS_URL is not set");
    };
    if let Some(p) = inputs.format_problem("REDIS_URL", url.expose()) {
        return Outcome::fail(p);
    }
    let target = match Target::parse(url.expose()) {
        Ok(t) => t,
        Err(e) => return Outcome::fail(e.to_string()),
    };
    let addr = target.address();
    let tcp = match tokio::net::TcpStream::connect((target.host.as_str(), target.port)).await {
        Ok(s) => s,
        Err(e) => {
            return Outcome::fail(format!(
                "cannot connect to {addr} ({e}); is Redis running there, and is REDIS_URL's host and port right?"
            ));
        }
    };
    let result = if target.tls {
        let config = match crate::net::tls_config() {
            Ok(c) => c,
            Err(e) => return Outcome::fail(e.to_string()),
        };
        let Ok(name) = rustls::pki_types::ServerName::try_from(target.host.clone()) else {
            return Outcome::fail(format!("{} is not a name TLS can verify", target.host));
        };
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        match connector.connect(name, tcp).await {
            Ok(tls) => converse(tls, &target).await,
            Err(e) => {
                return Outcome::fail(format!(
                    "TLS with {addr} failed ({e}); for a private CA set SSL_CERT_FILE to its PEM file, or use redis:// if the server does not speak TLS"
                ));
            }
        }
    } else {
        converse(tcp, &target).await
    };
    match result {
        Ok(()) => Outcome::pass(format!(
            "PONG from {addr} (database {}{}{})",
            target.db,
            match (&target.user, &target.password) {
                (Some(u), Some(_)) => format!(", authenticated as {u}"),
                (None, Some(_)) => ", authenticated".to_owned(),
                _ => ", no password".to_owned(),
            },
            if target.tls { ", TLS" } else { "" }
        )),
        // A server may echo what it was sent (`AUTH user password`): its
        // words never carry the URL's credentials out.
        Err(e) => Outcome::fail(target.redactor().redact(&format!("{addr}: {e}"))),
    }
}

/// AUTH, SELECT, PING; the first refusal, explained.
async fn converse<S: AsyncRead + AsyncWrite + Unpin>(
    stream: S,
    t: &Target,
) -> Result<(), RedisProblem> {
    let mut conn = BufReader::new(stream);
    if let Some(password) = &t.password {
        let mut args = vec!["AUTH"];
        if let Some(u) = &t.user {
            args.push(u);
        }
        args.push(password.expose());
        match command(&mut conn, &args).await? {
            Reply::Ok(_) => {}
            Reply::Error(e) if e.starts_with("WRONGPASS") || e.contains("invalid password") => {
                return Err(RedisProblem::WrongPassword {
                    what: if t.user.is_some() {
                        "user name and password"
                    } else {
                        "password"
                    },
                    said: first_words(&e),
                });
            }
            Reply::Error(e) if e.contains("without any password configured") => {
                return Err(RedisProblem::NoPasswordSet(first_words(&e)));
            }
            Reply::Error(e) => {
                return Err(RedisProblem::Refused {
                    what: "AUTH",
                    said: first_words(&e),
                });
            }
        }
    }
    if t.db != 0 {
        match command(&mut conn, &["SELECT", &t.db.to_string()]).await? {
            Reply::Ok(_) => {}
            Reply::Error(e) => return Err(refusal("SELECT", t, &e)),
        }
    }
    match command(&mut conn, &["PING"]).await? {
        Reply::Ok(s) if s == "PONG" => Ok(()),
        Reply::Ok(s) => Err(RedisProblem::NotPong(s)),
        Reply::Error(e) => Err(refusal("PING", t, &e)),
    }
}

fn refusal(what: &'static str, t: &Target, e: &str) -> RedisProblem {
    if e.starts_with("NOAUTH") {
        return RedisProblem::NoAuth {
            said: first_words(e),
            address: t.address(),
            db: t.db,
        };
    }
    if what == "SELECT" {
        return RedisProblem::BadDatabase {
            db: t.db,
            said: first_words(e),
        };
    }
    RedisProblem::Refused {
        what,
        said: first_words(e),
    }
}

/// A server's error line, cut short.
fn first_words(e: &str) -> String {
    let e = e.trim();
    if e.chars().count() > 120 {
        format!("{}…", e.chars().take(120).collect::<String>())
    } else {
        e.to_owned()
    }
}

enum Reply {
    /// `+…`, `:…` or a bulk string.
    Ok(String),
    /// `-…`.
    Error(String),
}

async fn command<S: AsyncRead + AsyncWrite + Unpin>(
    conn: &mut BufReader<S>,
    args: &[&str],
) -> Result<Reply, RedisProblem> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    let io = RedisProblem::Broken;
    conn.get_mut().write_all(&out).await.map_err(io)?;
    conn.get_mut().flush().await.map_err(io)?;
    let line = read_line(conn).await?;
    match head(&line)? {
        Head::Reply(reply) => Ok(reply),
        Head::Bulk(None) => Ok(Reply::Ok(String::new())),
        Head::Bulk(Some(n)) => {
            let mut data = vec![0; n + 2];
            conn.read_exact(&mut data).await.map_err(io)?;
            data.truncate(n);
            Ok(Reply::Ok(String::from_utf8_lossy(&data).into_owned()))
        }
    }
}

/// A reply's first line, read.
enum Head {
    /// A whole reply: `+…`, `:…` or `-…`.
    Reply(Reply),
    /// A bulk string of this many bytes to come (`None`: nil).
    Bulk(Option<usize>),
}

/// Reads a reply's first line (without its CRLF). Any bytes at all are
/// read without panicking: the type is the first byte, not the first char.
fn head(line: &[u8]) -> Result<Head, RedisProblem> {
    let Some((&kind, rest)) = line.split_first() else {
        return Err(RedisProblem::NotRedis);
    };
    let text = || String::from_utf8_lossy(rest).into_owned();
    match kind {
        b'+' | b':' => Ok(Head::Reply(Reply::Ok(text()))),
        b'-' => Ok(Head::Reply(Reply::Error(text()))),
        b'$' => {
            // A length from the wire: -1 is nil; anything else must be a
            // size these three commands could get back, so a server that
            // is not Redis cannot make us allocate what it claims.
            let n: i64 = std::str::from_utf8(rest)
                .ok()
                .and_then(|r| r.parse().ok())
                .ok_or(RedisProblem::NotRedis)?;
            if n == -1 {
                return Ok(Head::Bulk(None));
            }
            usize::try_from(n)
                .ok()
                .filter(|n| *n <= MAX_BULK)
                .map(|n| Head::Bulk(Some(n)))
                .ok_or(RedisProblem::NotRedis)
        }
        _ => Err(RedisProblem::NotRedis),
    }
}

/// The longest bulk reply read: AUTH, SELECT and PING answer a few bytes.
const MAX_BULK: usize = 1024 * 1024;

const PORT_HINT: &str = "is it a Redis port, and does the scheme match it (rediss:// for a TLS port, redis:// for a plain one)?";

async fn read_line<S: AsyncRead + Unpin>(conn: &mut BufReader<S>) -> Result<Vec<u8>, RedisProblem> {
    let mut line = Vec::new();
    let n = (&mut *conn)
        .take(64 * 1024)
        .read_until(b'\n', &mut line)
        .await
        .map_err(RedisProblem::Broken)?;
    if n == 0 {
        return Err(RedisProblem::Closed);
    }
    if !line.ends_with(b"\r\n") {
        return Err(RedisProblem::NotRedis);
    }
    line.truncate(line.len() - 2);
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `command` against a fake server that answers `reply`.
    async fn answer(reply: &[u8]) -> Result<Reply, RedisProblem> {
        let fake = tokio::io::join(reply, tokio::io::sink());
        command(&mut BufReader::new(fake), &["PING"]).await
    }

    #[tokio::test]
    async fn bulk_lengths_are_bounded() {
        match answer(b"$4\r\nPONG\r\n").await {
            Ok(Reply::Ok(s)) => assert_eq!(s, "PONG"),
            _ => panic!("a bulk PONG is read"),
        }
        assert!(matches!(answer(b"$-1\r\n").await, Ok(Reply::Ok(s)) if s.is_empty()));
        for bad in [
            &b"$99999999999\r\n"[..],
            b"$2000000\r\n",
            b"$99999999999999999999999\r\n",
            b"$-5\r\n",
            b"$9223372036854775807\r\n",
        ] {
            match answer(bad).await {
                Err(e) => assert!(e.to_string().contains("not Redis's protocol"), "{e}"),
                Ok(_) => panic!("{} was taken", String::from_utf8_lossy(bad)),
            }
        }
    }

    #[test]
    fn urls() {
        let t = Target::parse("redis://localhost").unwrap();
        assert_eq!(
            (t.tls, t.host.as_str(), t.port, t.db),
            (false, "localhost", 6379, 0)
        );
        assert!(t.user.is_none() && t.password.is_none());
        let t = Target::parse("rediss://app:p%40ss@cache.example.org:6380/2").unwrap();
        assert_eq!((t.tls, t.port, t.db), (true, 6380, 2));
        assert_eq!(t.user.as_deref(), Some("app"));
        assert_eq!(t.password.unwrap().expose(), "p@ss");
        let t = Target::parse("redis://:p@ss@[::1]:7000/1").unwrap();
        assert_eq!((t.host.as_str(), t.port), ("::1", 7000));
        assert_eq!(t.address(), "[::1]:7000");
        assert_eq!(t.password.unwrap().expose(), "p@ss");
        assert!(
            format!("{:?}", Target::parse("redis://:CANARYpw@h").unwrap())
                .find("CANARY")
                .is_none()
        );
        assert!(Target::parse("http://x").is_err());
        assert_eq!(url_credentials("https://u:p@x"), None);
    }

    #[tokio::test]
    async fn a_multi_byte_first_char_is_not_redis() {
        for bad in ["é\r\n", "€OK\r\n", "\u{1F600}\r\n", "$é\r\n", "\r\n"] {
            match answer(bad.as_bytes()).await {
                Err(e) => assert!(e.to_string().contains("not Redis's protocol"), "{e}"),
                Ok(_) => panic!("{bad:?} was taken"),
            }
        }
        assert!(
            matches!(answer("-ERR é\r\n".as_bytes()).await, Ok(Reply::Error(e)) if e == "ERR é")
        );
    }

    /// A small deterministic generator (xorshift64), for the fuzz loop.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
    }

    #[tokio::test]
    async fn any_bytes_are_read_without_panic() {
        let seeds: [&[u8]; 6] = [
            b"+PONG\r\n",
            b"-WRONGPASS invalid\r\n",
            b"$4\r\nPONG\r\n",
            b":1\r\n",
            "+\u{e9}\u{20ac}\r\n".as_bytes(),
            b"$-1\r\n",
        ];
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for round in 0..20_000 {
            let mut bytes = seeds[round % seeds.len()].to_vec();
            for _ in 0..=(rng.next() % 4) {
                let at = (rng.next() as usize) % (bytes.len() + 1);
                match rng.next() % 3 {
                    0 => bytes.insert(at, rng.next() as u8),
                    1 if at < bytes.len() => bytes[at] = rng.next() as u8,
                    _ if at < bytes.len() => {
                        bytes.remove(at);
                    }
                    _ => bytes.push(0x80 | rng.next() as u8),
                }
            }
            let _ = answer(&bytes).await;
            let _ = head(&bytes);
        }
    }
}
