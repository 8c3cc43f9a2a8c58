//! A local OTLP/HTTP receiver for `env verify`: `POST /v1/traces` with
//! `application/x-protobuf` (or `application/json`) answers 200 with an
//! empty `ExportTraceServiceRequest` response, as the collector does; other
//! paths 404, other methods 405, other content types 415. `failing` makes
//! every answer a 503 (a collector whose exporter is down);
//! [`OtlpHttp::answering`] gives every request one status (a receiver
//! behind auth, a proxy that refuses the content type, …).

use crate::server::{Answer, Recording, Seen, body, json};

/// The running stand-in; stops when dropped.
pub struct OtlpHttp {
    rec: Recording,
}

impl OtlpHttp {
    /// Starts on a free loopback port.
    pub fn start(failing: bool) -> OtlpHttp {
        OtlpHttp::with(failing.then_some(503))
    }

    /// Starts on a free loopback port, answering `status` to everything.
    pub fn answering(status: u16) -> OtlpHttp {
        OtlpHttp::with(Some(status))
    }

    fn with(fixed: Option<u16>) -> OtlpHttp {
        OtlpHttp {
            rec: Recording::start("127.0.0.1:0", move |s| route(s, fixed)),
        }
    }

    /// The base URL, for OTEL_EXPORTER_OTLP_ENDPOINT.
    pub fn url(&self) -> String {
        self.rec.server().url()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.rec.seen()
    }
}

fn route(s: &Seen, fixed: Option<u16>) -> Answer {
    match fixed {
        Some(503) => return body(503, "text/plain", b"exporter unavailable".to_vec()),
        Some(status) => return body(status, "text/plain", format!("{status}").into_bytes()),
        None => {}
    }
    if s.path != "/v1/traces" {
        return body(404, "text/plain", b"404 page not found".to_vec());
    }
    if s.method != "POST" {
        return body(
            405,
            "text/plain",
            b"405 method not allowed, supported: [POST]".to_vec(),
        );
    }
    match s.header("content-type") {
        Some("application/x-protobuf") => body(200, "application/x-protobuf", Vec::new()),
        Some("application/json") => json(200, &serde_json::json!({})),
        _ => body(415, "text/plain", b"415 unsupported media type".to_vec()),
    }
}
