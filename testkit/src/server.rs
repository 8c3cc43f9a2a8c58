//! The HTTP/1 server scaffolding the small stand-ins share: a listener on
//! its own thread and current-thread runtime, a handler per request, a
//! stop on drop. The Marketplace runs on it, and so do the Anthropic API,
//! dashboard and OTLP stand-ins; the Hub has its own (shaping, two origins).

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

/// A whole response.
pub type Answer = Response<Full<Bytes>>;

/// A running server; stops when dropped.
pub struct Server {
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Listens on `bind` (`127.0.0.1:0` for a free loopback port) and
    /// answers each request with `handler`.
    pub fn start<F, Fut>(bind: &str, handler: F) -> Server
    where
        F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Answer> + Send + 'static,
    {
        let listener = std::net::TcpListener::bind(bind).expect("bind the stand-in's port");
        listener
            .set_nonblocking(true)
            .expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let handler = Arc::new(handler);
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            rt.block_on(serve(listener, handler, stopped));
        });
        Server {
            addr,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// `http://ADDR:PORT` as bound (for `0.0.0.0`, use [`Server::port`]
    /// with an address of this machine).
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve<F, Fut>(
    listener: std::net::TcpListener,
    handler: Arc<F>,
    mut stopped: tokio::sync::oneshot::Receiver<()>,
) where
    F: Fn(Request<Incoming>) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Answer> + Send + 'static,
{
    let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
    loop {
        tokio::select! {
            _ = &mut stopped => return,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let handler = handler.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req| {
                        let fut = handler(req);
                        async move { Ok::<_, std::convert::Infallible>(fut.await) }
                    });
                    let _ = http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        }
    }
}

/// A request read whole, as the simple stand-ins record it.
#[derive(Clone, Debug)]
pub struct Seen {
    /// GET, POST…
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Headers, names in lower case, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Seen {
    /// Reads a request whole.
    pub async fn read(req: Request<Incoming>) -> Seen {
        let method = req.method().as_str().to_owned();
        let path = req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let headers = req
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = req
            .into_body()
            .collect()
            .await
            .map(|b| b.to_bytes().to_vec())
            .unwrap_or_default();
        Seen {
            method,
            path,
            headers,
            body,
        }
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A stand-in built from a plain function of the request: every request is
/// read whole, recorded, and answered by `route`.
pub struct Recording {
    server: Server,
    seen: Arc<std::sync::Mutex<Vec<Seen>>>,
}

impl Recording {
    /// Starts on `bind`.
    pub fn start(bind: &str, route: impl Fn(&Seen) -> Answer + Send + Sync + 'static) -> Recording {
        let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
        let log = seen.clone();
        let route = Arc::new(route);
        let server = Server::start(bind, move |req| {
            let log = log.clone();
            let route = route.clone();
            async move {
                let s = Seen::read(req).await;
                let answer = route(&s);
                log.lock().unwrap().push(s);
                answer
            }
        });
        Recording { server, seen }
    }

    /// The server.
    pub fn server(&self) -> &Server {
        &self.server
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }
}

/// A JSON answer.
pub fn json(status: u16, value: &serde_json::Value) -> Answer {
    body(status, "application/json", value.to_string().into_bytes())
}

/// An answer with a body of a content type.
pub fn body(status: u16, content_type: &str, body: Vec<u8>) -> Answer {
    Response::builder()
        .status(StatusCode::from_u16(status).expect("a status code"))
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("response")
}

/// An IPv4 address of this machine other than loopback, for stand-ins that
/// must be reached "from elsewhere" (bind them to `0.0.0.0`): the source
/// address of a route out (no packet is sent), else the first address
/// `hostname -I` lists.
pub fn non_loopback_ipv4() -> Option<std::net::Ipv4Addr> {
    let routed = std::net::UdpSocket::bind("0.0.0.0:0")
        .and_then(|s| s.connect("192.0.2.1:9").map(|_| s))
        .and_then(|s| s.local_addr())
        .ok()
        .and_then(|a| match a.ip() {
            std::net::IpAddr::V4(ip) if !ip.is_loopback() && !ip.is_unspecified() => Some(ip),
            _ => None,
        });
    routed.or_else(|| {
        let out = std::process::Command::new("hostname")
            .arg("-I")
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .filter_map(|w| w.parse::<std::net::Ipv4Addr>().ok())
            .find(|ip| !ip.is_loopback())
    })
}
