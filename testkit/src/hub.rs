//! A local Hugging Face Hub for tests and benchmarks.
//!
//! Two listeners: the Hub itself (the revision and tree APIs, `resolve/`)
//! and a separate "CDN" origin that large (LFS) files redirect to with a
//! pre-signed URL, as the real Hub does, so that a client leaking its
//! `Authorization` header across hosts is caught (the CDN records it and,
//! like S3 with a pre-signed URL, answers 400).
//!
//! Faults can be switched on at run time (a connection dropped mid-body,
//! 5xx bursts, 429 with a `RateLimit` header, wrong bytes, a stalled body,
//! a slow server) and the network shaped (round-trip delay, per-connection
//! and total bandwidth). Every request is recorded.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hyper::body::Frame;
use hyper::{Request, Response, StatusCode};
use sha1::Digest as _;

/// A file of a repository.
#[derive(Clone, Debug)]
pub struct HubFile {
    /// Path in the repository.
    pub path: String,
    /// Contents.
    pub data: Bytes,
    /// Stored with LFS (served through the CDN redirect).
    pub lfs: bool,
    /// Hashes, computed once (the benchmark serves 91 MB per request).
    hashes: OnceLock<(String, String)>,
}

impl HubFile {
    /// A file.
    pub fn new(path: &str, data: impl Into<Bytes>, lfs: bool) -> HubFile {
        HubFile {
            path: path.into(),
            data: data.into(),
            lfs,
            hashes: OnceLock::new(),
        }
    }

    fn hashes(&self) -> &(String, String) {
        self.hashes.get_or_init(|| {
            let mut h = sha1::Sha1::new();
            h.update(format!("blob {}\0", self.data.len()).as_bytes());
            h.update(&self.data);
            (hex(&h.finalize()), hex(&sha2::Sha256::digest(&self.data)))
        })
    }

    /// Git blob sha1 (hex).
    pub fn git_sha1(&self) -> String {
        self.hashes().0.clone()
    }

    /// sha256 (hex).
    pub fn sha256(&self) -> String {
        self.hashes().1.clone()
    }

    /// What huggingface_hub names its blob.
    pub fn etag(&self) -> String {
        if self.lfs {
            self.sha256()
        } else {
            self.git_sha1()
        }
    }
}

/// A model repository at one commit.
#[derive(Clone, Debug)]
pub struct HubRepo {
    /// `org/name`.
    pub id: String,
    /// Files.
    pub files: Vec<HubFile>,
    /// Branches and tags (each names [`HubRepo::commit`]); `main` always.
    pub refs: Vec<String>,
    /// Needs a valid token.
    pub gated: bool,
    commit: OnceLock<String>,
}

impl HubRepo {
    /// An empty repository `id`.
    pub fn new(id: &str) -> HubRepo {
        HubRepo {
            id: id.into(),
            files: Vec::new(),
            refs: vec!["main".into()],
            gated: false,
            commit: OnceLock::new(),
        }
    }

    /// Adds a regular (git) file.
    pub fn file(mut self, path: &str, data: impl Into<Bytes>) -> HubRepo {
        self.files.push(HubFile::new(path, data, false));
        self
    }

    /// Adds an LFS file.
    pub fn lfs_file(mut self, path: &str, data: impl Into<Bytes>) -> HubRepo {
        self.files.push(HubFile::new(path, data, true));
        self
    }

    /// Marks the repository gated (a valid token is needed).
    pub fn gated(mut self) -> HubRepo {
        self.gated = true;
        self
    }

    /// Every file under `dir`; files of `lfs_threshold` bytes or more are LFS.
    pub fn from_dir(id: &str, dir: &Path, lfs_threshold: u64) -> anyhow::Result<HubRepo> {
        let mut repo = HubRepo::new(id);
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d)? {
                let p = entry?.path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let rel = p.strip_prefix(dir)?.to_string_lossy().replace('\\', "/");
                    let data = std::fs::read(&p)?;
                    let lfs = data.len() as u64 >= lfs_threshold;
                    repo.files.push(HubFile::new(&rel, data, lfs));
                }
            }
        }
        repo.files.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(repo)
    }

    /// The commit id: a hash of the contents, so it changes with them.
    pub fn commit(&self) -> String {
        self.commit
            .get_or_init(|| {
                let mut h = sha1::Sha1::new();
                h.update(self.id.as_bytes());
                for f in &self.files {
                    h.update(f.path.as_bytes());
                    h.update(f.git_sha1().as_bytes());
                }
                hex(&h.finalize())
            })
            .clone()
    }

    fn get(&self, path: &str) -> Option<&HubFile> {
        self.files.iter().find(|f| f.path == path)
    }
}

/// Network shaping.
#[derive(Clone, Debug, Default)]
pub struct Shaping {
    /// Added before each answer (and once more on a new connection, for the
    /// handshake).
    pub rtt: Duration,
    /// Bytes per second per connection.
    pub per_connection: Option<u64>,
    /// Bytes per second, all connections together.
    pub total: Option<u64>,
}

/// The stand-in's settings.
#[derive(Clone, Debug)]
pub struct HubConfig {
    /// Repositories served.
    pub repos: Vec<HubRepo>,
    /// Tokens the Hub accepts (as `Authorization: Bearer <token>`).
    pub tokens: Vec<String>,
    /// Tree entries per page (`Link: rel="next"` beyond).
    pub page_size: usize,
    /// Small files answer with a relative 307 to `/api/resolve-cache/…`.
    pub relative_redirects: bool,
    /// Network shaping.
    pub shaping: Shaping,
    /// Fixed ports (0 = any free one).
    pub ports: (u16, u16),
    /// The account `/api/whoami-v2` names for every token.
    pub user: String,
    /// Each token's role as whoami-v2 states it (`read`, `write`,
    /// `fineGrained`); a token not listed is `read`.
    pub roles: BTreeMap<String, String>,
    /// `revision?blobs=true` lists each file's blob id, size and LFS
    /// sha256, as the Hub does (off: a mirror that ignores `blobs`).
    pub blobs_listing: bool,
    /// The listen queue of both listeners (a CDN's is deep).
    pub backlog: u32,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            repos: Vec::new(),
            tokens: Vec::new(),
            page_size: 1000,
            relative_redirects: true,
            shaping: Shaping::default(),
            ports: (0, 0),
            user: "stand-in-user".into(),
            roles: BTreeMap::new(),
            blobs_listing: true,
            backlog: 1024,
        }
    }
}

/// Which origin a request reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The Hub (HF_ENDPOINT).
    Hub,
    /// The CDN large files redirect to.
    Cdn,
}

/// One request as the stand-in saw it.
#[derive(Clone, Debug)]
pub struct Record {
    /// Hub or CDN.
    pub origin: Origin,
    /// GET, HEAD…
    pub method: String,
    /// Path and query.
    pub uri: String,
    /// The `Authorization` header, verbatim.
    pub authorization: Option<String>,
    /// The `Range` header.
    pub range: Option<String>,
    /// The status answered.
    pub status: u16,
    /// The connection it came on (numbered from 1 per origin, in order).
    pub conn: u64,
    /// When it arrived, from the stand-in's start.
    pub at: Duration,
    /// When its answer's body was all sent (or broke off).
    pub ended: Option<Duration>,
}

/// Switchable faults; each counter applies to that many next occasions.
#[derive(Debug, Default)]
pub struct Faults {
    /// File bodies cut after half their bytes (the connection dropped).
    pub drop_mid_body: AtomicU32,
    /// File bodies with one byte flipped.
    pub wrong_bytes: AtomicU32,
    /// Requests answered with `error_status`.
    pub error_burst: AtomicU32,
    /// 500, 503…
    pub error_status: AtomicU32,
    /// Requests answered 429 with `RateLimit: "api";r=0;t=<rate_limit_secs>`.
    pub rate_limited: AtomicU32,
    /// The `t` of the 429 answers.
    pub rate_limit_secs: AtomicU64,
    /// File bodies that stall half-way for `stall_ms`.
    pub stalls: AtomicU32,
    /// How long a stall lasts.
    pub stall_ms: AtomicU64,
    /// Added before every answer (a slow server).
    pub delay_ms: AtomicU64,
    /// File requests whose `Range` is ignored (the whole file, 200).
    pub ignore_range: AtomicU32,
}

fn take(counter: &AtomicU32) -> bool {
    counter
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok()
}

/// A bandwidth budget: reserves time for bytes, returns when they are sent.
#[derive(Debug)]
struct Pace {
    rate: Option<u64>,
    next: Mutex<Instant>,
}

impl Pace {
    fn new(rate: Option<u64>) -> Pace {
        Pace {
            rate,
            next: Mutex::new(Instant::now()),
        }
    }

    fn reserve(&self, n: usize) -> Option<Instant> {
        let rate = self.rate?;
        let mut next = self.next.lock().unwrap();
        // A sender a little late (timer granularity) may catch up, so the
        // average rate is the configured one.
        let now = Instant::now();
        let start = (*next).max(now.checked_sub(Duration::from_millis(20)).unwrap_or(now));
        *next = start + Duration::from_secs_f64(n as f64 / rate as f64);
        Some(*next)
    }
}

struct State {
    config: HubConfig,
    endpoint: String,
    cdn: String,
    faults: Faults,
    records: Mutex<Vec<Record>>,
    link: Arc<Pace>,
    started: Instant,
    conns: [AtomicU64; 2],
}

/// A running stand-in; stops when dropped.
pub struct Hub {
    state: Arc<State>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl Hub {
    /// Starts the Hub and its CDN on 127.0.0.1.
    pub fn start(config: HubConfig) -> anyhow::Result<Hub> {
        for r in &config.repos {
            r.commit();
            r.files.iter().for_each(|f| {
                f.hashes();
            });
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let (hub_l, cdn_l) = runtime.block_on(async {
            let listen = |port: u16| {
                let socket = tokio::net::TcpSocket::new_v4()?;
                socket.set_reuseaddr(true)?;
                socket.bind(([127, 0, 0, 1], port).into())?;
                socket.listen(config.backlog)
            };
            anyhow::Ok((listen(config.ports.0)?, listen(config.ports.1)?))
        })?;
        let endpoint = format!("http://{}", hub_l.local_addr()?);
        let cdn = format!("http://{}", cdn_l.local_addr()?);
        let state = Arc::new(State {
            link: Arc::new(Pace::new(config.shaping.total)),
            config,
            endpoint,
            cdn,
            faults: Faults::default(),
            records: Mutex::new(Vec::new()),
            started: Instant::now(),
            conns: [AtomicU64::new(0), AtomicU64::new(0)],
        });
        for (listener, origin) in [(hub_l, Origin::Hub), (cdn_l, Origin::Cdn)] {
            let state = state.clone();
            runtime.spawn(accept_loop(listener, origin, state));
        }
        Ok(Hub {
            state,
            runtime: Some(runtime),
        })
    }

    /// The Hub's URL: set HF_ENDPOINT to it.
    pub fn endpoint(&self) -> &str {
        &self.state.endpoint
    }

    /// The CDN's origin.
    pub fn cdn(&self) -> &str {
        &self.state.cdn
    }

    /// The faults, to switch on.
    pub fn faults(&self) -> &Faults {
        &self.state.faults
    }

    /// The next `n` file bodies are cut half-way.
    pub fn drop_next_bodies(&self, n: u32) {
        self.faults().drop_mid_body.store(n, Ordering::SeqCst);
    }

    /// The next `n` file bodies carry a flipped byte.
    pub fn corrupt_next_bodies(&self, n: u32) {
        self.faults().wrong_bytes.store(n, Ordering::SeqCst);
    }

    /// The next `n` requests are answered with `status`.
    pub fn fail_next(&self, status: u16, n: u32) {
        self.faults()
            .error_status
            .store(u32::from(status), Ordering::SeqCst);
        self.faults().error_burst.store(n, Ordering::SeqCst);
    }

    /// The next `n` requests are answered 429, asking to wait `secs`.
    pub fn rate_limit_next(&self, n: u32, secs: u64) {
        self.faults().rate_limit_secs.store(secs, Ordering::SeqCst);
        self.faults().rate_limited.store(n, Ordering::SeqCst);
    }

    /// The next `n` file bodies stall half-way for `pause`.
    pub fn stall_next_bodies(&self, n: u32, pause: Duration) {
        self.faults()
            .stall_ms
            .store(pause.as_millis() as u64, Ordering::SeqCst);
        self.faults().stalls.store(n, Ordering::SeqCst);
    }

    /// The next `n` file requests ignore `Range` (answer 200, whole file).
    pub fn ignore_range_next(&self, n: u32) {
        self.faults().ignore_range.store(n, Ordering::SeqCst);
    }

    /// Every answer waits `delay` first.
    pub fn set_delay(&self, delay: Duration) {
        self.faults()
            .delay_ms
            .store(delay.as_millis() as u64, Ordering::SeqCst);
    }

    /// Requests seen so far.
    pub fn records(&self) -> Vec<Record> {
        self.state.records.lock().unwrap().clone()
    }

    /// Forgets the requests seen so far.
    pub fn clear_records(&self) {
        self.state.records.lock().unwrap().clear();
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

struct Conn {
    id: u64,
    pace: Arc<Pace>,
    fresh: std::sync::atomic::AtomicBool,
}

async fn accept_loop(listener: tokio::net::TcpListener, origin: Origin, state: Arc<State>) {
    loop {
        let Ok((stream, _peer)) = listener.accept().await else {
            continue;
        };
        let _ = stream.set_nodelay(true);
        let state = state.clone();
        let conn = Arc::new(Conn {
            id: state.conns[origin as usize].fetch_add(1, Ordering::SeqCst) + 1,
            pace: Arc::new(Pace::new(state.config.shaping.per_connection)),
            fresh: std::sync::atomic::AtomicBool::new(true),
        });
        tokio::spawn(async move {
            let io = hyper_util::rt::TokioIo::new(stream);
            let service = hyper::service::service_fn(move |req| {
                let state = state.clone();
                let conn = conn.clone();
                async move { Ok::<_, Infallible>(handle(req, origin, state, &conn).await) }
            });
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(io, service)
                .await;
        });
    }
}

/// A response body: whole, or streamed (paced, possibly cut).
pub enum Body {
    /// All at once.
    Full(Option<Bytes>),
    /// From a producer task.
    Chan(tokio::sync::mpsc::Receiver<Result<Bytes, std::io::Error>>),
    /// Another body, with something to do when it ends.
    Logged {
        /// The body.
        inner: Box<Body>,
        /// Bytes still to send (hyper stops asking once it has the
        /// `Content-Length`).
        left: u64,
        /// Called once, at its end (or error).
        on_end: Option<Box<dyn FnOnce() + Send + Sync>>,
    },
}

impl hyper::body::Body for Body {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        match self.get_mut() {
            Body::Full(b) => Poll::Ready(b.take().map(|b| Ok(Frame::data(b)))),
            Body::Chan(rx) => rx.poll_recv(cx).map(|o| o.map(|r| r.map(Frame::data))),
            Body::Logged {
                inner,
                left,
                on_end,
            } => {
                let polled = Pin::new(inner.as_mut()).poll_frame(cx);
                let ended = match &polled {
                    Poll::Ready(Some(Ok(frame))) => {
                        let n = frame.data_ref().map_or(0, |d| d.len() as u64);
                        *left = left.saturating_sub(n);
                        *left == 0
                    }
                    Poll::Ready(_) => true,
                    Poll::Pending => false,
                };
                if ended && let Some(f) = on_end.take() {
                    f();
                }
                polled
            }
        }
    }
}

type Resp = Response<Body>;

fn respond(status: StatusCode, headers: &[(&str, String)], body: Bytes) -> Resp {
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b.header("content-length", body.len().to_string())
        .body(Body::Full(Some(body)))
        .unwrap()
}

/// The whoami-v2 answer of the Hub for a user's access token (the fields
/// huggingface_hub and huggingface.js read: `type`, `name`, `orgs`,
/// `auth.accessToken.displayName` and `.role`).
fn whoami(token: &str, state: &State) -> Resp {
    let role = state.config.roles.get(token).map_or("read", String::as_str);
    let user = &state.config.user;
    let mut access = serde_json::json!({
        "displayName": format!("{role}-token"),
        "role": role,
        "createdAt": "2026-01-01T00:00:00.000Z",
    });
    if role == "fineGrained" {
        access["fineGrained"] = serde_json::json!({
            "canReadGatedRepos": true,
            "global": [],
            "scoped": [{"entity": {"_id": "0", "type": "user", "name": user},
                        "permissions": ["repo.content.read"]}],
        });
    }
    json(
        serde_json::json!({
            "type": "user",
            "id": "0123456789abcdef01234567",
            "name": user,
            "fullname": "Stand-in User",
            "email": "user@example.org",
            "emailVerified": true,
            "canPay": false,
            "isPro": false,
            "periodEnd": null,
            "avatarUrl": "/avatars/0.svg",
            "orgs": [],
            "auth": {"type": "access_token", "accessToken": access},
        }),
        &[],
    )
}

fn json(value: serde_json::Value, extra: &[(&str, String)]) -> Resp {
    let mut headers = vec![("content-type", "application/json".to_owned())];
    headers.extend(extra.iter().cloned());
    respond(StatusCode::OK, &headers, Bytes::from(value.to_string()))
}

fn error(status: u16, code: Option<&str>, message: &str, extra: &[(&str, String)]) -> Resp {
    let mut headers = vec![
        ("content-type", "application/json".to_owned()),
        ("x-error-message", message.to_owned()),
    ];
    if let Some(c) = code {
        headers.push(("x-error-code", c.to_owned()));
    }
    headers.extend(extra.iter().cloned());
    respond(
        StatusCode::from_u16(status).unwrap(),
        &headers,
        Bytes::from(serde_json::json!({ "error": message }).to_string()),
    )
}

async fn handle(
    req: Request<hyper::body::Incoming>,
    origin: Origin,
    state: Arc<State>,
    conn: &Conn,
) -> Resp {
    let at = state.started.elapsed();
    let conn_id = conn.id;
    let state = &state;
    let method = req.method().as_str().to_owned();
    let uri = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_default();
    let authorization = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let range = req
        .headers()
        .get("range")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    // Latency: one round trip per answer, one more for a new connection.
    let mut wait = state.config.shaping.rtt;
    if conn.fresh.swap(false, Ordering::SeqCst) {
        wait += state.config.shaping.rtt;
    }
    wait += Duration::from_millis(state.faults.delay_ms.load(Ordering::SeqCst));
    if !wait.is_zero() {
        tokio::time::sleep(wait).await;
    }
    let resp = route(
        &method,
        &uri,
        authorization.as_deref(),
        range.as_deref(),
        origin,
        state,
        conn,
    );
    let mut records = state.records.lock().unwrap();
    let index = records.len();
    records.push(Record {
        origin,
        method,
        uri,
        authorization,
        range,
        status: resp.status().as_u16(),
        conn: conn.id,
        at,
        ended: None,
    });
    drop(records);
    // The end of the body is noted in the record (for timelines).
    let state = state.clone();
    let left = resp
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .unwrap_or(0);
    resp.map(move |body| Body::Logged {
        inner: Box::new(body),
        left,
        on_end: Some(Box::new(move || {
            let ended = state.started.elapsed();
            if let Some(r) = state.records.lock().unwrap().get_mut(index)
                && r.at == at
                && r.conn == conn_id
            {
                r.ended = Some(ended);
            }
        })),
    })
}

/// What a request asks, as the routes need it.
struct Ask<'a> {
    method: &'a str,
    path: String,
    query: &'a str,
    auth: Option<&'a str>,
    range: Option<&'a str>,
}

impl Ask<'_> {
    fn head(&self) -> bool {
        self.method == "HEAD"
    }
}

fn route(
    method: &str,
    uri: &str,
    auth: Option<&str>,
    range: Option<&str>,
    origin: Origin,
    state: &State,
    conn: &Conn,
) -> Resp {
    if let Some(resp) = fault(&state.faults) {
        return resp;
    }
    let (path, query) = uri.split_once('?').unwrap_or((uri, ""));
    let ask = Ask {
        method,
        path: percent_decode(path),
        query,
        auth,
        range,
    };
    if origin == Origin::Cdn {
        return cdn(&ask, state, conn);
    }
    // The Hub: the token, when sent, must be one it knows.
    let token_ok = match auth {
        None => false,
        Some(a) => match a.strip_prefix("Bearer ") {
            Some(t) if state.config.tokens.iter().any(|k| k == t) => true,
            _ => {
                return error(
                    401,
                    None,
                    "Invalid credentials in Authorization header",
                    &[],
                );
            }
        },
    };
    let path = ask.path.as_str();
    if path == "/api/whoami-v2" {
        return match auth.and_then(|a| a.strip_prefix("Bearer ")) {
            Some(token) if token_ok => whoami(token, state),
            _ => error(
                401,
                None,
                "Invalid credentials in Authorization header",
                &[],
            ),
        };
    }
    if let Some(rest) = path.strip_prefix("/api/models/") {
        return api(rest, query, token_ok, state);
    }
    if let Some(rest) = path.strip_prefix("/api/resolve-cache/models/") {
        return resolve_cache(rest, &ask, token_ok, state, conn);
    }
    resolve(&ask, token_ok, state, conn)
}

/// The switched-on faults that answer before any route: 429, 5xx.
fn fault(f: &Faults) -> Option<Resp> {
    if take(&f.rate_limited) {
        let t = f.rate_limit_secs.load(Ordering::SeqCst);
        return Some(error(
            429,
            None,
            "You have been rate-limited; you can retry this action later.",
            &[
                ("ratelimit", format!("\"api\";r=0;t={t}")),
                (
                    "ratelimit-policy",
                    "\"fixed window\";\"api\";q=500;w=300".into(),
                ),
            ],
        ));
    }
    if take(&f.error_burst) {
        let status = f.error_status.load(Ordering::SeqCst) as u16;
        return Some(error(
            status,
            None,
            "Internal Error - We're working hard to fix this as soon as possible!",
            &[],
        ));
    }
    None
}

/// The CDN: `/blobs/{sha256}` with a signature, never with a token.
fn cdn(ask: &Ask<'_>, state: &State, conn: &Conn) -> Resp {
    if ask.auth.is_some() {
        // S3 refuses a pre-signed URL plus an Authorization header.
        return error(400, None, "Only one auth mechanism allowed", &[]);
    }
    let Some(sha) = ask.path.strip_prefix("/blobs/") else {
        return error(404, None, "Not Found", &[]);
    };
    if !ask.query.contains("X-Amz-Signature=") {
        return error(403, None, "AccessDenied", &[]);
    }
    let file = state
        .config
        .repos
        .iter()
        .flat_map(|r| r.files.iter())
        .find(|f| f.lfs && f.sha256() == sha);
    match file {
        Some(file) => serve_bytes(file, ask.range, ask.head(), &[], state, conn),
        None => error(404, None, "NoSuchKey", &[]),
    }
}

/// `/api/resolve-cache/models/{org}/{name}/{commit}/{path}`: where small
/// files redirect to.
fn resolve_cache(rest: &str, ask: &Ask<'_>, token_ok: bool, state: &State, conn: &Conn) -> Resp {
    let mut it = rest.splitn(4, '/');
    let (Some(org), Some(name), Some(commit), Some(file)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return error(404, None, "Not Found", &[]);
    };
    let repo = match find_repo(state, &format!("{org}/{name}"), token_ok) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    if commit != repo.commit() {
        return error(404, Some("RevisionNotFound"), "Invalid rev id", &[]);
    }
    match repo.get(file) {
        Some(f) => serve_bytes(
            f,
            ask.range,
            ask.head(),
            &file_headers(repo, f),
            state,
            conn,
        ),
        None => error(
            404,
            Some("EntryNotFound"),
            "Entry not found",
            &[("x-repo-commit", repo.commit())],
        ),
    }
}

/// `/{org}/{name}/resolve/{rev}/{path}`: LFS files redirect to the CDN,
/// small ones (by default) to `resolve-cache`.
fn resolve(ask: &Ask<'_>, token_ok: bool, state: &State, conn: &Conn) -> Resp {
    let mut it = ask.path.trim_start_matches('/').splitn(5, '/');
    let (Some(org), Some(name), Some("resolve"), Some(rev), Some(file)) =
        (it.next(), it.next(), it.next(), it.next(), it.next())
    else {
        return error(404, None, "Not Found", &[]);
    };
    let id = format!("{org}/{name}");
    let repo = match find_repo(state, &id, token_ok) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let commit = repo.commit();
    if rev != commit && !repo.refs.iter().any(|r| r == rev) {
        return error(404, Some("RevisionNotFound"), "Invalid rev id", &[]);
    }
    let Some(f) = repo.get(file) else {
        return error(
            404,
            Some("EntryNotFound"),
            "Entry not found",
            &[("x-repo-commit", commit)],
        );
    };
    let mut headers = file_headers(repo, f);
    if f.lfs {
        let sig = hex(&sha2::Sha256::digest(
            format!("{}{}", f.sha256(), commit).as_bytes(),
        ));
        headers.push((
            "location",
            format!(
                "{}/blobs/{}?X-Amz-Expires=3600&X-Amz-Signature={sig}",
                state.cdn,
                f.sha256()
            ),
        ));
        return respond(StatusCode::FOUND, &headers, Bytes::new());
    }
    if state.config.relative_redirects {
        headers.push((
            "location",
            format!(
                "/api/resolve-cache/models/{id}/{commit}/{}",
                quote_path(file)
            ),
        ));
        return respond(StatusCode::TEMPORARY_REDIRECT, &headers, Bytes::new());
    }
    serve_bytes(f, ask.range, ask.head(), &headers, state, conn)
}

fn file_headers(repo: &HubRepo, f: &HubFile) -> Vec<(&'static str, String)> {
    let mut h = vec![
        ("x-repo-commit", repo.commit()),
        ("accept-ranges", "bytes".to_owned()),
    ];
    if f.lfs {
        h.push(("x-linked-etag", format!("\"{}\"", f.sha256())));
        h.push(("x-linked-size", f.data.len().to_string()));
        h.push(("etag", format!("\"{}\"", f.sha256())));
    } else {
        h.push(("etag", format!("W/\"{}\"", f.git_sha1())));
    }
    h
}

fn find_repo<'a>(state: &'a State, id: &str, token_ok: bool) -> Result<&'a HubRepo, Box<Resp>> {
    match state.config.repos.iter().find(|r| r.id == id) {
        Some(r) if r.gated && !token_ok => Err(Box::new(error(
            401,
            Some("GatedRepo"),
            &format!(
                "Access to model {id} is restricted. You must have access to it and be authenticated to access it. Please log in."
            ),
            &[],
        ))),
        Some(r) => Ok(r),
        // Without a token the Hub cannot tell "missing" from "private".
        None if !token_ok => Err(Box::new(error(
            401,
            Some("RepoNotFound"),
            "Repository not found",
            &[],
        ))),
        None => Err(Box::new(error(
            404,
            Some("RepoNotFound"),
            "Repository not found",
            &[],
        ))),
    }
}

fn api(rest: &str, query: &str, token_ok: bool, state: &State) -> Resp {
    // {org}/{name}/revision/{rev} | {org}/{name}/tree/{rev}
    let mut it = rest.splitn(4, '/');
    let (Some(org), Some(name), Some(kind), Some(rev)) =
        (it.next(), it.next(), it.next(), it.next())
    else {
        return error(404, None, "Not Found", &[]);
    };
    let id = format!("{org}/{name}");
    let repo = match find_repo(state, &id, token_ok) {
        Ok(r) => r,
        Err(resp) => return *resp,
    };
    let commit = repo.commit();
    if rev != commit && !repo.refs.iter().any(|r| r == rev) {
        return error(
            404,
            Some("RevisionNotFound"),
            &format!("Invalid rev id: {rev}"),
            &[],
        );
    }
    let flag = |name: &str| {
        query.split('&').any(|kv| {
            let kv = kv.to_ascii_lowercase();
            kv == format!("{name}=true") || kv == format!("{name}=1")
        })
    };
    match kind {
        "revision" => json(
            revision_json(repo, org, flag("blobs") && state.config.blobs_listing),
            &[],
        ),
        "tree" => tree(repo, rev, query, flag("recursive"), state),
        _ => error(404, None, "Not Found", &[]),
    }
}

/// The model info the Hub answers for a revision; with `blobs`, each
/// sibling also has its `blobId`, `size` and `lfs` (`sha256`, `size`,
/// `pointerSize`), as `huggingface_hub`'s `files_metadata=True` reads them.
fn revision_json(repo: &HubRepo, org: &str, blobs: bool) -> serde_json::Value {
    let commit = repo.commit();
    let siblings: Vec<serde_json::Value> = repo
        .files
        .iter()
        .map(|f| {
            let mut s = serde_json::json!({"rfilename": f.path});
            if blobs {
                s["blobId"] = serde_json::json!(git_oid(f));
                s["size"] = serde_json::json!(f.data.len());
                if f.lfs {
                    s["lfs"] = serde_json::json!({"sha256": f.sha256(), "size": f.data.len(), "pointerSize": 134});
                }
            }
            s
        })
        .collect();
    serde_json::json!({
        "_id": format!("fake{}", &commit[..20]),
        "id": repo.id,
        "modelId": repo.id,
        "author": org,
        "sha": commit,
        "lastModified": "2026-01-01T00:00:00.000Z",
        "createdAt": "2025-01-01T00:00:00.000Z",
        "private": false,
        "gated": if repo.gated { serde_json::json!("auto") } else { serde_json::json!(false) },
        "disabled": false,
        "downloads": 0,
        "likes": 0,
        "tags": [],
        "siblings": siblings,
    })
}

/// The git blob id the Hub lists: an LFS file's is its pointer's.
fn git_oid(f: &HubFile) -> String {
    if f.lfs {
        hex(&sha1::Sha1::digest(f.sha256().as_bytes()))
    } else {
        f.git_sha1()
    }
}

/// `tree/{rev}`: folders and files, a page at a time.
fn tree(repo: &HubRepo, rev: &str, query: &str, recursive: bool, state: &State) -> Resp {
    let mut dirs = std::collections::BTreeSet::new();
    for f in &repo.files {
        let parts: Vec<&str> = f.path.split('/').collect();
        for i in 1..parts.len() {
            dirs.insert(parts[..i].join("/"));
        }
    }
    let mut all: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for d in dirs {
        if recursive || !d.contains('/') {
            all.insert(d.clone(), serde_json::json!({"type": "directory", "oid": "0".repeat(40), "size": 0, "path": d}));
        }
    }
    for f in &repo.files {
        if !recursive && f.path.contains('/') {
            continue;
        }
        let mut e = serde_json::json!({"type": "file", "oid": git_oid(f), "size": f.data.len(), "path": f.path});
        if f.lfs {
            e["lfs"] =
                serde_json::json!({"oid": f.sha256(), "size": f.data.len(), "pointerSize": 134});
        }
        all.insert(f.path.clone(), e);
    }
    let entries: Vec<serde_json::Value> = all.into_values().collect();
    let cursor: usize = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("cursor="))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let page = state.config.page_size.max(1);
    let end = (cursor + page).min(entries.len());
    let mut extra = Vec::new();
    if end < entries.len() {
        extra.push((
            "link",
            format!(
                "<{}/api/models/{}/tree/{rev}?recursive={recursive}&cursor={end}>; rel=\"next\"",
                state.endpoint, repo.id
            ),
        ));
    }
    json(
        serde_json::Value::Array(entries[cursor.min(end)..end].to_vec()),
        &extra,
    )
}

/// Serves a file's bytes (or a range), paced and with the body faults.
fn serve_bytes(
    file: &HubFile,
    range: Option<&str>,
    head: bool,
    headers: &[(&'static str, String)],
    state: &State,
    conn: &Conn,
) -> Resp {
    let size = file.data.len() as u64;
    let range = range.filter(|_| head || !take(&state.faults.ignore_range));
    let (status, start, end) = match range.map(|r| parse_range(r, size)) {
        None => (StatusCode::OK, 0, size),
        Some(Some((s, e))) => (StatusCode::PARTIAL_CONTENT, s, e),
        Some(None) => {
            return respond(
                StatusCode::RANGE_NOT_SATISFIABLE,
                &[("content-range", format!("bytes */{size}"))],
                Bytes::new(),
            );
        }
    };
    let mut b = Response::builder().status(status);
    for (k, v) in headers {
        b = b.header(*k, v);
    }
    b = b
        .header("accept-ranges", "bytes")
        .header("content-length", (end - start).to_string())
        .header("content-type", "application/octet-stream");
    if status == StatusCode::PARTIAL_CONTENT {
        b = b.header(
            "content-range",
            format!("bytes {start}-{}/{size}", end.saturating_sub(1)),
        );
    }
    if head {
        return b.body(Body::Full(None)).unwrap();
    }
    let data = file.data.slice(start as usize..end as usize);
    b.body(paced_body(data, state, conn)).unwrap()
}

/// The body, sent in 64 KiB pieces as the connection's and the link's
/// bandwidth allow, with this answer's share of the body faults (a cut, a
/// flipped byte, a stall).
fn paced_body(mut data: Bytes, state: &State, conn: &Conn) -> Body {
    let f = &state.faults;
    let cut = take(&f.drop_mid_body);
    let corrupt = take(&f.wrong_bytes);
    let stall = take(&f.stalls).then(|| Duration::from_millis(f.stall_ms.load(Ordering::SeqCst)));
    if corrupt && !data.is_empty() {
        let mut v = data.to_vec();
        let mid = v.len() / 2;
        v[mid] ^= 0xff;
        data = Bytes::from(v);
    }
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    let len = data.len();
    let stop = if cut { len / 2 } else { len };
    let per_conn = conn.pace.clone();
    let link_state = state.link.clone();
    tokio::spawn(async move {
        const CHUNK: usize = 64 << 10;
        let mut sent = 0;
        let mut stalled = false;
        while sent < stop {
            let n = CHUNK.min(stop - sent);
            let until = [per_conn.reserve(n), link_state.reserve(n)]
                .into_iter()
                .flatten()
                .max();
            if let Some(t) = until {
                tokio::time::sleep_until(t.into()).await;
            }
            if let Some(p) = stall
                && !stalled
                && sent >= len / 2
            {
                stalled = true;
                tokio::time::sleep(p).await;
            }
            if tx.send(Ok(data.slice(sent..sent + n))).await.is_err() {
                return;
            }
            sent += n;
        }
        if cut {
            let _ = tx
                .send(Err(std::io::Error::other(
                    "fault: connection dropped mid-body",
                )))
                .await;
        }
    });
    Body::Chan(rx)
}

/// `bytes=a-b`, `bytes=a-`, `bytes=-n` → `[start, end)`.
fn parse_range(range: &str, size: u64) -> Option<(u64, u64)> {
    let spec = range.trim().strip_prefix("bytes=")?;
    if spec.contains(',') {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (start, end) = if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        (size.saturating_sub(n), size)
    } else {
        let s: u64 = a.parse().ok()?;
        let e = if b.is_empty() {
            size
        } else {
            (b.parse::<u64>().ok()? + 1).min(size)
        };
        (s, e)
    };
    (start < end || (size == 0 && start == 0)).then_some((start, end))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hexval = |c: u8| (c as char).to_digit(16);
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hexval(b[i + 1]), hexval(b[i + 2]))
        {
            out.push((h * 16 + l) as u8);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn quote_path(p: &str) -> String {
    p.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"/_.-~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// The address of a URL like `http://127.0.0.1:1234`.
pub fn addr(url: &str) -> Option<SocketAddr> {
    url.strip_prefix("http://")?.parse().ok()
}

/// Deterministic pseudo-random bytes (xorshift), for test files that do
/// not compress and differ per seed.
pub fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        out.extend_from_slice(&x.to_le_bytes());
    }
    out.truncate(len);
    out
}

/// The small model the tests use: a few small files (one nested, one
/// empty), a 1.5 MB LFS file fetched in one stream and a 5 MB LFS file
/// fetched in parallel ranges.
pub fn tiny_model(id: &str) -> HubRepo {
    HubRepo::new(id)
        .file("config.json", &b"{\"hidden_size\": 8}\n"[..])
        .file("README.md", &b"# tiny\n"[..])
        .file(
            "1_Pooling/config.json",
            &b"{\"pooling_mode_mean_tokens\": true}\n"[..],
        )
        .file("empty.txt", Bytes::new())
        .file("tokenizer.json", noise(200_000, 1))
        .lfs_file("onnx/model.onnx", noise(1_500_000, 2))
        .lfs_file("model.safetensors", noise(5_000_000, 3))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 10)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 100)));
        assert_eq!(parse_range("bytes=-5", 100), Some((95, 100)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-200", 100), Some((5, 100)));
    }

    #[test]
    fn decode() {
        assert_eq!(percent_decode("/a%20b/c%2Fd"), "/a b/c/d");
        assert_eq!(percent_decode("/x%2"), "/x%2");
    }
}
