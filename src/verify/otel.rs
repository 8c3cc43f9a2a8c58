//! OpenTelemetry: the OTLP endpoint takes a connection (gRPC: a TCP
//! connection to host:port) or answers HTTP (http/protobuf and http/json:
//! an empty export POSTed to `/v1/traces`, which a collector accepts and
//! which carries no data). Only a 2xx passes: any other answer means the
//! SDK's exports would be refused too.

use super::{Inputs, Outcome};
use crate::net::{Request, Url};

/// The transport, from OTEL_EXPORTER_OTLP_PROTOCOL or guessed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Protocol {
    Grpc,
    HttpProtobuf,
    HttpJson,
}

pub(super) async fn check(inputs: &Inputs) -> Outcome {
    let Some(endpoint) = inputs.explicit("OTEL_EXPORTER_OTLP_ENDPOINT") else {
        return Outcome::skipped("not configured: OTEL_EXPORTER_OTLP_ENDPOINT is not set");
    };
    let endpoint = endpoint.expose().trim().to_owned();
    for (name, value) in [
        ("OTEL_EXPORTER_OTLP_ENDPOINT", Some(endpoint.clone())),
        (
            "OTEL_EXPORTER_OTLP_PROTOCOL",
            inputs.plain("OTEL_EXPORTER_OTLP_PROTOCOL"),
        ),
    ] {
        if let Some(p) = value.and_then(|v| inputs.format_problem(name, &v)) {
            return Outcome::fail(p);
        }
    }
    let Some((host, port, url)) = split(&endpoint) else {
        return Outcome::fail(
            "OTEL_EXPORTER_OTLP_ENDPOINT has no usable host and port; set it like http://collector:4318 or collector:4317",
        );
    };
    let (protocol, why) = match inputs.plain("OTEL_EXPORTER_OTLP_PROTOCOL").as_deref() {
        Some("grpc") => (Protocol::Grpc, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        Some("http/json") => (Protocol::HttpJson, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        Some(_) => (Protocol::HttpProtobuf, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        None if url.is_none() => (Protocol::Grpc, "host:port without a scheme"),
        None if port == 4317 => (
            Protocol::Grpc,
            "port 4317; set OTEL_EXPORTER_OTLP_PROTOCOL to say otherwise",
        ),
        None => (
            Protocol::HttpProtobuf,
            "unset OTEL_EXPORTER_OTLP_PROTOCOL; set it to grpc for a gRPC receiver",
        ),
    };
    match protocol {
        Protocol::Grpc => grpc(&host, port, why).await,
        Protocol::HttpProtobuf | Protocol::HttpJson => {
            let base = url.unwrap_or_else(|| format!("http://{endpoint}"));
            http(inputs, &base, protocol, why).await
        }
    }
}

/// Host, port and the URL (when the endpoint is one).
fn split(endpoint: &str) -> Option<(String, u16, Option<String>)> {
    if endpoint.starts_with("http://") || endpoint.starts_with("https://") {
        let u = Url::parse(endpoint).ok()?;
        let host = u
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        return Some((host, u.port_or_known_default()?, Some(endpoint.to_owned())));
    }
    let (host, port) = endpoint.rsplit_once(':')?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Some((host.to_owned(), port.parse().ok()?, None))
}

async fn grpc(host: &str, port: u16, why: &str) -> Outcome {
    match tokio::net::TcpStream::connect((host, port)).await {
        Ok(_) => Outcome::pass(format!(
            "{host}:{port} accepts connections (gRPC, from {why}; the connection is not used for an export)"
        )),
        Err(e) => Outcome::fail(format!(
            "cannot connect to {host}:{port} ({e}; gRPC, from {why}); is the collector running and its OTLP receiver listening there?"
        )),
    }
}

async fn http(inputs: &Inputs, base: &str, protocol: Protocol, why: &str) -> Outcome {
    let url = format!("{}/v1/traces", base.trim_end_matches('/'));
    // An empty ExportTraceServiceRequest: zero bytes of protobuf, `{}` in
    // JSON. Valid, and it exports nothing.
    let (kind, body, name) = match protocol {
        Protocol::HttpJson => ("application/json", b"{}".to_vec(), "http/json"),
        _ => ("application/x-protobuf", Vec::new(), "http/protobuf"),
    };
    let req = Request::new(crate::net::Method::POST, &url)
        .header("Content-Type", kind)
        .body(body);
    let at = crate::net::describe_str(&url);
    let full = match inputs.fetch(&req).await {
        Ok(f) => f,
        Err(e) => {
            return Outcome::fail(format!(
                "no answer from {e} ({name}, from {why}); is the collector running and its OTLP/HTTP receiver listening there?"
            ));
        }
    };
    let s = full.status;
    match s {
        200..=299 => Outcome::pass(format!(
            "{at} accepted an empty export (HTTP {s}; {name}, from {why})"
        )),
        500..=599 => Outcome::fail(format!(
            "{at} answered HTTP {s} ({name}): the collector is there but failing; see its logs"
        )),
        401 | 403 => Outcome::fail(format!(
            "{at} answered HTTP {s} ({name}, from {why}): {}",
            credentials_hint(inputs)
        )),
        404 | 405 => Outcome::fail(format!(
            "{at} answered HTTP {s} ({name}, from {why}): no OTLP/HTTP receiver at /v1/traces; is this the gRPC port (set OTEL_EXPORTER_OTLP_PROTOCOL=grpc) or the wrong path?"
        )),
        415 => Outcome::fail(format!(
            "{at} answered HTTP 415 ({name}, from {why}): the receiver does not take {kind}; set OTEL_EXPORTER_OTLP_PROTOCOL to what it speaks"
        )),
        _ => Outcome::fail(format!(
            "{at} answered HTTP {s} ({name}, from {why}): not an OTLP/HTTP receiver taking an empty export; check OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_EXPORTER_OTLP_PROTOCOL"
        )),
    }
}

/// What a 401/403 asks for: the variable that carries the collector's
/// credentials when the registry has one.
fn credentials_hint(inputs: &Inputs) -> &'static str {
    let registry = inputs.settings.registry();
    if registry.var("OTEL_EXPORTER_OTLP_HEADERS").is_some() {
        "the collector wants credentials; set them in OTEL_EXPORTER_OTLP_HEADERS"
    } else {
        "the collector wants credentials, and no setting of this project carries them; let the collector take exports from here without them, or point OTEL_EXPORTER_OTLP_ENDPOINT at one that does"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_split() {
        assert_eq!(
            split("collector:4317"),
            Some(("collector".into(), 4317, None))
        );
        assert_eq!(split("[::1]:4317"), Some(("::1".into(), 4317, None)));
        assert_eq!(
            split("https://otel.example.org"),
            Some((
                "otel.example.org".into(),
                443,
                Some("https://otel.example.org".into())
            ))
        );
        assert_eq!(split("http://c:4318/").map(|s| s.1), Some(4318));
    }
}
