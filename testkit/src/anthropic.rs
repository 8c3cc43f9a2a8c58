//! A local Anthropic API for `env verify`: `GET /v1/models` as the real
//! API answers it — the `x-api-key` header checked against the keys it
//! knows, `anthropic-version` required, errors in the API's
//! `{"type": "error", "error": {"type", "message"}}` shape.

use crate::server::{Answer, Recording, Seen, json};

/// The running stand-in; stops when dropped.
pub struct AnthropicApi {
    rec: Recording,
}

impl AnthropicApi {
    /// Starts on a free loopback port, accepting `keys`.
    pub fn start(keys: &[&str]) -> AnthropicApi {
        let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        AnthropicApi {
            rec: Recording::start("127.0.0.1:0", move |s| route(s, &keys)),
        }
    }

    /// The base URL, for ANTHROPIC_BASE_URL.
    pub fn url(&self) -> String {
        self.rec.server().url()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.rec.seen()
    }
}

fn error(status: u16, kind: &str, message: &str) -> Answer {
    json(
        status,
        &serde_json::json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

fn route(s: &Seen, keys: &[String]) -> Answer {
    if s.path.split('?').next() != Some("/v1/models") {
        return error(404, "not_found_error", "Not found");
    }
    if s.method != "GET" {
        return error(405, "invalid_request_error", "Method not allowed");
    }
    match s.header("x-api-key") {
        None => return error(401, "authentication_error", "x-api-key header is required"),
        Some(k) if !keys.iter().any(|known| known == k) => {
            return error(401, "authentication_error", "invalid x-api-key");
        }
        Some(_) => {}
    }
    if s.header("anthropic-version").is_none() {
        return error(
            400,
            "invalid_request_error",
            "anthropic-version: header is required",
        );
    }
    json(
        200,
        &serde_json::json!({
            "data": [
                {"type": "model", "id": "claude-sonnet-4-5", "display_name": "Claude Sonnet 4.5", "created_at": "2025-09-29T00:00:00Z"},
                {"type": "model", "id": "claude-haiku-4-5", "display_name": "Claude Haiku 4.5", "created_at": "2025-10-15T00:00:00Z"}
            ],
            "has_more": false,
            "first_id": "claude-sonnet-4-5",
            "last_id": "claude-haiku-4-5"
        }),
    )
}
