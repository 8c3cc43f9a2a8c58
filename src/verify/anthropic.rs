//! Anthropic API: `GET /v1/models` with the key, which lists the models the
//! key may use and spends no tokens.

use super::{Inputs, Outcome};
use crate::net::Request;

/// The API when ANTHROPIC_BASE_URL is unset.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";

const HOWTO: &str =
    "create a key at https://console.anthropic.com/settings/keys and set ANTHROPIC_API_KEY";

pub(super) async fn check(inputs: &Inputs) -> Outcome {
    let Some(key) = inputs.explicit("ANTHROPIC_API_KEY") else {
        return Outcome::skipped("not configured: ANTHROPIC_API_KEY is not set");
    };
    let base = inputs
        .plain("ANTHROPIC_BASE_URL")
        .unwrap_or_else(|| DEFAULT_BASE_URL.into());
    if let Some(p) = inputs.format_problem("ANTHROPIC_BASE_URL", &base) {
        return Outcome::fail(p);
    }
    if let Some(refused) =
        super::cleartext_refusal("ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", &base).await
    {
        return refused;
    }
    let url = format!("{}/v1/models", base.trim_end_matches('/'));
    let req = Request::get(&url)
        .header("anthropic-version", "2023-06-01")
        .secret_header("x-api-key", key.clone());
    let full = match inputs.fetch(&req).await {
        Ok(f) => f,
        Err(e) => return Outcome::fail(format!("no answer from {e}")),
    };
    let body: serde_json::Value = serde_json::from_slice(&full.body).unwrap_or_default();
    let said = body["error"]["message"].as_str().unwrap_or("").to_owned();
    let said = if said.is_empty() {
        String::new()
    } else {
        format!(": \"{said}\"")
    };
    let at = crate::net::describe_str(&url);
    match full.status {
        200..=299 => {
            let n = body["data"].as_array().map_or(0, Vec::len);
            let more = if body["has_more"].as_bool() == Some(true) {
                " (first page)"
            } else {
                ""
            };
            Outcome::pass(format!(
                "the key is accepted: {n} model(s) listed{more} by {at}"
            ))
        }
        401 => Outcome::fail(format!(
            "the API refused ANTHROPIC_API_KEY (HTTP 401{said}): the key is invalid, disabled or deleted; {HOWTO}"
        )),
        403 => Outcome::fail(format!(
            "the key is valid but not allowed to list models (HTTP 403{said}); check the key's workspace and permissions in the console"
        )),
        429 => Outcome::fail(format!("rate limited (HTTP 429{said}); try again later")),
        s => Outcome::fail(format!(
            "{at} answered HTTP {s}{said}; check ANTHROPIC_BASE_URL and https://status.anthropic.com"
        )),
    }
}
