//! A local dashboard for `env verify`: `POST /api/chat` behind
//! `Authorization: Bearer <key>`, answering as a FastAPI app does — 401
//! `{"detail": …}` for a wrong or (when the key is required) missing key,
//! 422 for a body without the fields a chat needs, 405 for other methods.
//! The [`Auth`] modes are the misconfigurations `env verify` must catch.

use crate::server::{Answer, Recording, Seen, body, json};

/// How the stand-in treats the key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Auth {
    /// A missing or wrong key is refused (401).
    Required,
    /// A wrong key is refused, a request without any key goes through.
    Open,
    /// The key is never looked at.
    None,
    /// The body is validated before the key: `{}` gets 422 whatever the
    /// key (FastAPI with the key read inside the handler).
    BodyFirst,
    /// Every request is rate-limited (429).
    RateLimited,
    /// Every request is redirected (302) to a login page that answers 200.
    LoginRedirect,
}

/// The running stand-in; stops when dropped.
pub struct Dashboard {
    rec: Recording,
}

impl Dashboard {
    /// Starts on `bind` (`127.0.0.1:0`, or `0.0.0.0:0` to be reached from
    /// another address) with its key; `open` lets requests without any key
    /// through (a misconfigured dashboard).
    pub fn start(bind: &str, key: &str, open: bool) -> Dashboard {
        Dashboard::with_auth(bind, key, if open { Auth::Open } else { Auth::Required })
    }

    /// Starts on `bind` with its key, treated as `auth` says.
    pub fn with_auth(bind: &str, key: &str, auth: Auth) -> Dashboard {
        let key = key.to_owned();
        Dashboard {
            rec: Recording::start(bind, move |s| route(s, &key, auth)),
        }
    }

    /// The server's port.
    pub fn port(&self) -> u16 {
        self.rec.server().port()
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.rec.seen()
    }
}

fn route(s: &Seen, key: &str, auth: Auth) -> Answer {
    let path = s.path.split('?').next();
    if auth == Auth::LoginRedirect {
        if path == Some("/login") {
            return body(200, "text/html", b"<form>Sign in</form>".to_vec());
        }
        let mut a = body(302, "text/html", Vec::new());
        a.headers_mut()
            .insert("location", "/login".parse().expect("a header value"));
        return a;
    }
    if path != Some("/api/chat") {
        return json(404, &serde_json::json!({"detail": "Not Found"}));
    }
    if s.method != "POST" {
        return json(405, &serde_json::json!({"detail": "Method Not Allowed"}));
    }
    if auth == Auth::RateLimited {
        return json(429, &serde_json::json!({"detail": "Too Many Requests"}));
    }
    let body: serde_json::Value = serde_json::from_slice(&s.body).unwrap_or_default();
    let invalid = || {
        json(
            422,
            &serde_json::json!({"detail": [{"type": "missing", "loc": ["body", "message"], "msg": "Field required", "input": body}]}),
        )
    };
    if auth == Auth::BodyFirst && body["message"].as_str().is_none() {
        return invalid();
    }
    if auth != Auth::None {
        match s.header("authorization").map(|a| a.strip_prefix("Bearer ")) {
            Some(Some(k)) if k == key => {}
            Some(_) => return json(401, &serde_json::json!({"detail": "Invalid API key"})),
            None if auth == Auth::Open => {}
            None => return json(401, &serde_json::json!({"detail": "Not authenticated"})),
        }
    }
    match body["message"].as_str() {
        Some(m) => json(200, &serde_json::json!({"reply": format!("echo: {m}")})),
        None => invalid(),
    }
}
