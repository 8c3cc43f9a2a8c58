//! Hugging Face: `GET {HF_ENDPOINT}/api/whoami-v2` with HF_TOKEN names the
//! account and the token's role. This project only downloads, so a token
//! that may write is worth replacing with a read one.

use super::{Inputs, Outcome};
use crate::hf::{DEFAULT_ENDPOINT, api::check_endpoint};
use crate::net::Request;

const HOWTO: &str = "create a read token at https://huggingface.co/settings/tokens (Create new token, type: Read) and set HF_TOKEN";

pub(super) async fn check(inputs: &Inputs) -> Outcome {
    let Some(token) = inputs.explicit("HF_TOKEN") else {
        return Outcome::skipped(
            "not configured: HF_TOKEN is not set (public models download anonymously)",
        );
    };
    let endpoint = inputs
        .plain("HF_ENDPOINT")
        .unwrap_or_else(|| DEFAULT_ENDPOINT.into());
    if let Err(e) = check_endpoint(&endpoint) {
        return Outcome::fail(e.to_string());
    }
    if let Some(refused) = super::cleartext_refusal("HF_TOKEN", "HF_ENDPOINT", &endpoint).await {
        return refused;
    }
    let url = format!("{}/api/whoami-v2", endpoint.trim().trim_end_matches('/'));
    let shown = crate::net::describe_str(&url);
    let full = match inputs.fetch(&Request::get(&url).bearer(token)).await {
        Ok(f) => f,
        Err(e) => return Outcome::fail(format!("no answer from {e}")),
    };
    match full.status {
        200 => {}
        401 => {
            return Outcome::fail(format!(
                "the Hub refused HF_TOKEN (HTTP 401): the token is wrong, expired or revoked; {HOWTO}"
            ));
        }
        429 => {
            return Outcome::fail(
                "rate limited by the Hub (HTTP 429): whoami is strictly limited; try again in a few minutes",
            );
        }
        s => {
            return Outcome::fail(format!("{shown} answered HTTP {s}; check HF_ENDPOINT"));
        }
    }
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(&full.body) else {
        return Outcome::fail(format!(
            "{shown} answered 200 without JSON; check HF_ENDPOINT points at a Hub"
        ));
    };
    judge(&body)
}

/// What the whoami answer says of the token.
fn judge(body: &serde_json::Value) -> Outcome {
    let name = body["name"].as_str().unwrap_or("?");
    let kind = body["type"].as_str().unwrap_or("user");
    let token = &body["auth"]["accessToken"];
    let display = token["displayName"]
        .as_str()
        .map(|d| format!(" \"{d}\""))
        .unwrap_or_default();
    let role = token["role"].as_str().unwrap_or("");
    let (words, writes) = match role {
        "read" => ("read", false),
        "write" | "admin" | "contributor" => ("write", true),
        "fineGrained" => ("fine-grained", fine_grained_writes(&token["fineGrained"])),
        "" => ("not stated", false),
        other => (other, false),
    };
    let out = Outcome::pass(format!("token{display} of {kind} {name}, role: {words}"));
    if writes {
        out.warn(
            "the token may write to repositories, but this project only downloads: replace it with a read token (https://huggingface.co/settings/tokens, type: Read) so that a leak cannot change models",
        )
    } else {
        out
    }
}

/// Whether a fine-grained token holds a repository write permission,
/// globally or on some entity.
fn fine_grained_writes(fg: &serde_json::Value) -> bool {
    let writes = |perms: &serde_json::Value| {
        perms.as_array().is_some_and(|p| {
            p.iter()
                .filter_map(|x| x.as_str())
                .any(|x| x.starts_with("repo.") && x.ends_with(".write") || x == "repo.write")
        })
    };
    writes(&fg["global"])
        || fg["scoped"]
            .as_array()
            .is_some_and(|s| s.iter().any(|e| writes(&e["permissions"])))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn who(access: serde_json::Value) -> serde_json::Value {
        json!({"type": "user", "name": "alice", "auth": {"type": "access_token", "accessToken": access}})
    }

    #[test]
    fn roles() {
        let o = judge(&who(json!({"displayName": "ci", "role": "read"})));
        assert_eq!(o.message, "token \"ci\" of user alice, role: read");
        assert!(o.warnings.is_empty());
        let o = judge(&who(json!({"displayName": "ci", "role": "write"})));
        assert!(o.message.ends_with("role: write") && o.warnings.len() == 1);
        let fg = |perms: serde_json::Value| {
            judge(&who(
                json!({"displayName": "fg", "role": "fineGrained", "fineGrained": {
                    "canReadGatedRepos": true, "global": [],
                    "scoped": [{"entity": {"type": "user", "name": "alice"}, "permissions": perms}]
                }}),
            ))
        };
        let o = fg(json!(["repo.content.read"]));
        assert!(o.message.ends_with("role: fine-grained") && o.warnings.is_empty());
        assert_eq!(
            fg(json!(["repo.content.read", "repo.write"]))
                .warnings
                .len(),
            1
        );
    }
}
