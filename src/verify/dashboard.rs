//! Dashboard: DASHBOARD_API_KEY is accepted by the dashboard, a wrong key
//! is refused, and a request without any key is refused when the dashboard
//! is reachable from elsewhere.
//!
//! Each request is a POST of `{}` to DASHBOARD_URL (default
//! `http://localhost:8000/api/chat`) — a body a chat endpoint refuses as
//! invalid once the key has been checked, so nothing runs and no model is
//! called. A refused key is 401 or 403. The wrong key is random (never a
//! real value): a dashboard that gives it the same answer as the real key
//! does not check the key (or validates the body first), wherever it runs.
//! A redirect (a login page) or 429 on the real key says nothing about the
//! key, so it fails as inconclusive.

use super::{Inputs, NoAnswer, Outcome, is_loopback};
use crate::net::{Full, Request, Url};
use crate::secret::Secret;

pub(super) async fn check(inputs: &Inputs) -> Outcome {
    let Some(key) = inputs.explicit("DASHBOARD_API_KEY") else {
        return Outcome::skipped(
            "not configured: DASHBOARD_API_KEY is not set (the dashboard then takes any request)",
        );
    };
    let url = inputs
        .options
        .dashboard_url
        .clone()
        .or_else(|| inputs.plain("DASHBOARD_URL"))
        .unwrap_or_default();
    if let Some(p) = inputs.format_problem("DASHBOARD_URL", &url) {
        return Outcome::fail(p);
    }
    let Ok(parsed) = Url::parse(&url) else {
        return Outcome::fail(
            "DASHBOARD_URL is not a URL; set it like http://localhost:8000/api/chat",
        );
    };
    if let Some(refused) = super::cleartext_refusal(
        "DASHBOARD_API_KEY",
        "DASHBOARD_URL (or --dashboard-url)",
        &url,
    )
    .await
    {
        return refused;
    }
    let at = crate::net::describe(&parsed);
    let probe = || Request::post_json(&url, "{}".into());
    let with_key = match inputs.fetch(&probe().bearer(key)).await {
        Ok(f) => f,
        Err(e) => {
            return Outcome::fail(format!(
                "no answer from {e}; is the dashboard running? Set DASHBOARD_URL (or --dashboard-url) to its chat endpoint"
            ));
        }
    };
    if with_key.url != parsed {
        return Outcome::fail(format!(
            "{at} redirected to {} (HTTP {} there; a login page?): nothing can be told about the key; set DASHBOARD_URL to the chat API endpoint itself, not a page behind a login",
            crate::net::describe(&with_key.url),
            with_key.status
        ));
    }
    let accepted = match accepted_status(&at, &with_key) {
        Ok(s) => s,
        Err(fail) => return fail,
    };
    if let Err(fail) = wrong_key_refused(inputs, &url, &at, accepted).await {
        return fail;
    }
    let loopback = match parsed.host_str() {
        Some(h) => is_loopback(h).await,
        None => false,
    };
    let without = inputs.fetch(&probe()).await.map(|f| f.status);
    keyless(&at, accepted, without, loopback)
}

/// The status the real key got, or the failure it means: refused, not
/// the endpoint, failing, rate-limited, or redirected.
fn accepted_status(at: &str, with_key: &Full) -> Result<u16, Outcome> {
    let fail = |m: String| Err(Outcome::fail(m));
    match with_key.status {
        401 | 403 => fail(format!(
            "{at} refused DASHBOARD_API_KEY (HTTP {}{}): the dashboard runs with another key; set the same DASHBOARD_API_KEY in both places (cargo xtask env rotate DASHBOARD_API_KEY prints where)",
            with_key.status,
            said(with_key)
        )),
        404 | 405 => fail(format!(
            "{at} answered HTTP {}: not the chat endpoint (it takes POST); set DASHBOARD_URL to it",
            with_key.status
        )),
        s @ 500..=599 => fail(format!(
            "{at} answered HTTP {s}: the dashboard is failing; see its logs"
        )),
        429 => fail(format!(
            "{at} answered HTTP 429 (rate-limited{}): nothing can be told about the key; retry in a while",
            said(with_key)
        )),
        s @ 300..=399 => fail(format!(
            "{at} answered HTTP {s} (a redirect, to {}): nothing can be told about the key; set DASHBOARD_URL to the chat API endpoint itself, not a page behind a login",
            with_key.header("location").unwrap_or("nowhere")
        )),
        s => Ok(s),
    }
}

/// A random wrong key must be refused (401/403) where the real one got
/// `accepted`; else the failure saying why nothing can be trusted.
async fn wrong_key_refused(
    inputs: &Inputs,
    url: &str,
    at: &str,
    accepted: u16,
) -> Result<(), Outcome> {
    let wrong = wrong_key()
        .map_err(|e| Outcome::fail(format!("cannot make a wrong key to compare: {e}")))?;
    let probe = Request::post_json(url, "{}".into()).bearer(&wrong);
    match inputs.fetch(&probe).await {
        Ok(f) if matches!(f.status, 401 | 403) => Ok(()),
        Ok(f) if f.status == accepted => Err(Outcome::fail(format!(
            "the dashboard does not check the key: {at} answered HTTP {accepted} with DASHBOARD_API_KEY and HTTP {} with a wrong key too (a wrong key must get 401/403; a dashboard that validates the body before the key answers the same). Make it check the key first, on every route",
            f.status
        ))),
        Ok(f) => Err(Outcome::fail(format!(
            "cannot tell whether {at} checks the key: HTTP {accepted} with DASHBOARD_API_KEY, HTTP {}{} with a wrong key (expected 401/403); retry, and check DASHBOARD_URL is the chat endpoint",
            f.status,
            said(&f)
        ))),
        Err(e) => Err(Outcome::fail(format!(
            "{at} answered HTTP {accepted} with DASHBOARD_API_KEY, then no answer with a wrong key: {e}"
        ))),
    }
}

/// What the answer to the request without any key means, after the real
/// key got `accepted` and a wrong one was refused: refused passes; not
/// refused passes on loopback only (over https elsewhere: plain http to
/// another host is refused before anything is sent).
fn keyless(at: &str, accepted: u16, without: Result<u16, NoAnswer>, loopback: bool) -> Outcome {
    let message = |rest: String| {
        format!(
            "{at} accepted DASHBOARD_API_KEY (HTTP {accepted} to an empty request) and refused a wrong key; {rest}"
        )
    };
    match (without, loopback) {
        (Ok(s @ (401 | 403)), _) => {
            Outcome::pass(message(format!("without it: refused (HTTP {s})")))
        }
        (Ok(s), true) => Outcome::pass(message(format!(
            "without it: HTTP {s} — not refused, which only matters when the dashboard is reachable from elsewhere (this URL is loopback)"
        ))),
        (Ok(s), false) => Outcome::fail(message(format!(
            "but a request WITHOUT the key got HTTP {s} instead of 401/403: anyone who reaches {at} can use the dashboard. Make the dashboard require the key on every route"
        ))),
        (Err(e), _) => Outcome::fail(message(format!("then no answer without it: {e}"))),
    }
}

/// A random bearer token no dashboard holds: compared with the real key.
fn wrong_key() -> Result<Secret, crate::settings::envfile::EnvWriteError> {
    crate::settings::envfile::gen_key(24).map(|hex| Secret::new(format!("wrong-{hex}")))
}

/// The server's `detail` (FastAPI) or `error` words, when short.
fn said(f: &Full) -> String {
    let v: serde_json::Value = serde_json::from_slice(&f.body).unwrap_or_default();
    let words = v["detail"]
        .as_str()
        .or_else(|| v["error"].as_str())
        .or_else(|| v["message"].as_str())
        .unwrap_or("");
    if words.is_empty() || words.len() > 120 {
        String::new()
    } else {
        format!(": \"{words}\"")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::Status;

    #[test]
    fn keyless_must_be_refused_unless_loopback() {
        let at = "https://dash.example.org/api/chat";
        let o = keyless(at, 422, Ok(401), false);
        assert_eq!(o.status, Status::Pass, "{}", o.message);
        assert!(o.message.ends_with("without it: refused (HTTP 401)"));
        let o = keyless(at, 422, Ok(422), false);
        assert_eq!(o.status, Status::Fail);
        assert!(
            o.message
                .contains("but a request WITHOUT the key got HTTP 422 instead of 401/403"),
            "{}",
            o.message
        );
        let o = keyless(at, 422, Ok(422), true);
        assert_eq!(o.status, Status::Pass);
        assert!(o.message.contains("this URL is loopback"));
        let refused = NoAnswer {
            what: at.into(),
            detail: "refused".into(),
        };
        let o = keyless(at, 422, Err(refused), true);
        assert_eq!(o.status, Status::Fail);
    }
}
