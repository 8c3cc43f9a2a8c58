//! A hostile server: it answers as a Hub, a package index or an S3-style
//! store would, but with what an attacker (or a broken mirror) sends:
//! names that climb out of their folder, ids that are not hex, bodies
//! that never end, bodies shorter than they promised.
//!
//! It is written on plain TCP rather than the hyper scaffolding of
//! [`crate::server`]: hyper refuses to send a body that disagrees with its
//! `Content-Length`, and a hostile server must be able to lie. Each
//! connection gets one answer and is closed.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The git blob id of [`FILE_BYTES`]: the file is served whole at any
/// path, so that only the attack can stop a download.
pub fn blob_id() -> String {
    use sha1::Digest as _;
    let mut h = sha1::Sha1::new();
    h.update(format!("blob {}\0", FILE_BYTES.len()).as_bytes());
    h.update(FILE_BYTES);
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}
/// The commit every hostile Hub resolves to (unless told otherwise).
pub const COMMIT: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";

/// How one request is answered.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A whole body with its true length.
    Whole {
        /// Status code.
        status: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// The body.
        body: Vec<u8>,
    },
    /// `open` once, then `repeat` over and over, chunked, as fast as the
    /// client reads, until it goes away: a body that never ends.
    Endless {
        /// Content type.
        content_type: String,
        /// The start (`[`, `<ListBucketResult>`…).
        open: String,
        /// What repeats.
        repeat: String,
    },
    /// Promises `promised` bytes (`Content-Length`), sends `body`, closes.
    Short {
        /// The length announced.
        promised: u64,
        /// What is sent.
        body: Vec<u8>,
    },
}

impl Reply {
    /// A JSON answer.
    pub fn json(value: &serde_json::Value) -> Reply {
        Reply::Whole {
            status: 200,
            headers: vec![("content-type".into(), "application/json".into())],
            body: value.to_string().into_bytes(),
        }
    }

    /// An endless JSON list of `item`.
    pub fn endless_json(item: &str) -> Reply {
        Reply::Endless {
            content_type: "application/json".into(),
            open: "[".into(),
            repeat: format!("{item},"),
        }
    }
}

/// The request line, as the route sees it.
#[derive(Clone, Debug)]
pub struct Head {
    /// GET, POST…
    pub method: String,
    /// Path and query.
    pub path: String,
}

/// A running hostile server; stops when dropped.
pub struct Hostile {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    requests: Arc<std::sync::Mutex<Vec<Head>>>,
}

impl Hostile {
    /// Answers every request on a loopback port with `route`.
    pub fn start(route: impl Fn(&Head) -> Reply + Send + Sync + 'static) -> Hostile {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let addr = listener.local_addr().expect("local address");
        let stop = Arc::new(AtomicBool::new(false));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (route, stopping, log) = (Arc::new(route), stop.clone(), requests.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                if stopping.load(Ordering::Relaxed) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let (route, stopping, log) = (route.clone(), stopping.clone(), log.clone());
                std::thread::spawn(move || {
                    if let Some(head) = read_head(&conn) {
                        log.lock().unwrap().push(head.clone());
                        let _ = answer(conn, &route(&head), &stopping);
                    }
                });
            }
        });
        Hostile {
            addr,
            stop,
            requests,
        }
    }

    /// A Hub whose answers carry `attack` (see [`HubAttack`]).
    pub fn hub(attack: HubAttack) -> Hostile {
        Hostile::start(move |head| hub_route(&attack, head))
    }

    /// A server whose every answer is the endless `reply`.
    pub fn endless(content_type: &str, open: &str, repeat: &str) -> Hostile {
        let reply = Reply::Endless {
            content_type: content_type.into(),
            open: open.into(),
            repeat: repeat.into(),
        };
        Hostile::start(move |_| reply.clone())
    }

    /// A package index whose project pages never end.
    pub fn endless_index() -> Hostile {
        Hostile::endless(
            "text/html",
            "<!DOCTYPE html><html><head><title>Links for p</title></head><body>\n",
            "<a href=\"/packages/p-1.0-py3-none-any.whl#sha256=00\">p-1.0-py3-none-any.whl</a><br/>\n",
        )
    }

    /// An S3-style store whose XML listing never ends.
    pub fn endless_s3() -> Hostile {
        Hostile::endless(
            "application/xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>b</Name>",
            "<Contents><Key>k</Key><Size>1</Size></Contents>",
        )
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far.
    pub fn requests(&self) -> Vec<Head> {
        self.requests.lock().unwrap().clone()
    }
}

impl Drop for Hostile {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        // Wake the accept loop so that it sees the stop.
        let _ = TcpStream::connect(self.addr);
    }
}

fn read_head(conn: &TcpStream) -> Option<Head> {
    let mut r = BufReader::new(conn);
    let mut line = String::new();
    r.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let head = Head {
        method: words.next()?.to_owned(),
        path: words.next()?.to_owned(),
    };
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).ok()? == 0 || h == "\r\n" || h == "\n" {
            return Some(head);
        }
    }
}

fn answer(mut conn: TcpStream, reply: &Reply, stop: &AtomicBool) -> std::io::Result<()> {
    match reply {
        Reply::Whole {
            status,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\nconnection: close\r\n",
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            conn.write_all(head.as_bytes())?;
            conn.write_all(body)
        }
        Reply::Short { promised, body } => {
            conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-length: {promised}\r\nconnection: close\r\n\r\n"
                )
                .as_bytes(),
            )?;
            conn.write_all(body)
        }
        Reply::Endless {
            content_type,
            open,
            repeat,
        } => {
            conn.write_all(
                format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n"
                )
                .as_bytes(),
            )?;
            conn.write_all(format!("{:x}\r\n{open}\r\n", open.len()).as_bytes())?;
            // 64 KiB chunks: fast enough that no read timeout ever fires.
            let block = repeat.repeat((65536 / repeat.len().max(1)).max(1));
            let chunk = format!("{:x}\r\n{block}\r\n", block.len());
            while !stop.load(Ordering::Relaxed) {
                conn.write_all(chunk.as_bytes())?;
            }
            Ok(())
        }
    }
}

/// What a hostile Hub gets wrong. Everything else it answers as the Hub
/// does: `revision` → [`COMMIT`], a one-file tree, `resolve/` with the
/// file's bytes.
#[derive(Clone, Debug)]
pub enum HubAttack {
    /// The tree lists a file at this path (`../../victim`, `/abs`, `a\b`).
    Path(String),
    /// The tree lists a file whose git blob id (`oid`) is this.
    BlobId(String),
    /// The tree lists an LFS file whose sha256 (`lfs.oid`) is this.
    LfsOid(String),
    /// The revision answer's `sha` is this.
    Revision(String),
    /// The revision answer never ends.
    EndlessRevision,
    /// The tree listing never ends.
    EndlessTree,
    /// The tree listing is cut short of its `Content-Length`.
    ShortTree,
    /// The resolve answer's `ETag` is this.
    Etag(String),
}

/// The one file of a hostile Hub's tree.
pub const FILE_BYTES: &[u8] = b"{\"hostile\": true}\n";

fn hub_route(attack: &HubAttack, head: &Head) -> Reply {
    let path = head.path.split('?').next().unwrap_or_default();
    if path.starts_with("/api/models/") && path.contains("/revision/") {
        return match attack {
            HubAttack::EndlessRevision => Reply::Endless {
                content_type: "application/json".into(),
                open: "{\"siblings\":[".into(),
                repeat: "{\"rfilename\":\"x\"},".into(),
            },
            HubAttack::Revision(sha) => Reply::json(&serde_json::json!({ "sha": sha })),
            _ => Reply::json(&serde_json::json!({ "sha": COMMIT })),
        };
    }
    if path.starts_with("/api/models/") && path.contains("/tree/") {
        let entry = tree_entry(attack);
        return match attack {
            HubAttack::EndlessTree => Reply::endless_json(&entry.to_string()),
            HubAttack::ShortTree => Reply::Short {
                promised: 1 << 20,
                body: format!("[{entry}").into_bytes(),
            },
            _ => Reply::json(&serde_json::json!([entry])),
        };
    }
    if !path.starts_with("/api/") {
        // `resolve/`, and any path a traversing name makes of it.
        let etag = match attack {
            HubAttack::Etag(e) => e.clone(),
            _ => blob_id(),
        };
        return Reply::Whole {
            status: 200,
            headers: vec![
                ("etag".into(), format!("\"{etag}\"")),
                ("x-repo-commit".into(), COMMIT.into()),
            ],
            body: FILE_BYTES.to_vec(),
        };
    }
    Reply::Whole {
        status: 404,
        headers: vec![("x-error-code".into(), "RepoNotFound".into())],
        body: b"not found".to_vec(),
    }
}

fn tree_entry(attack: &HubAttack) -> serde_json::Value {
    let blob = blob_id();
    let (path, oid) = match attack {
        HubAttack::Path(p) => (p.as_str(), blob.as_str()),
        HubAttack::BlobId(b) => ("config.json", b.as_str()),
        _ => ("config.json", blob.as_str()),
    };
    let mut e = serde_json::json!({
        "type": "file",
        "path": path,
        "size": FILE_BYTES.len(),
        "oid": oid,
    });
    if let HubAttack::LfsOid(sha) = attack {
        e["lfs"] = serde_json::json!({ "oid": sha, "size": FILE_BYTES.len(), "pointerSize": 130 });
    }
    e
}
