//! A local dashboard for `env verify`: `POST /api/chat` behind
//! `Authorization: Bearer <key>`, answering as a FastAPI app does — 401
//! `{"detail": …}` for a wrong or (when the key is required) missing key,
//! 422 for a body without the fields a chat needs, 405 for other methods.

use crate::server::{Answer, Recording, Seen, json};

/// The running stand-in; stops when dropped.
pub struct Dashboard {
    rec: Recording,
}

impl Dashboard {
    /// Starts on `bind` (`127.0.0.1:0`, or `0.0.0.0:0` to be reached from
    /// another address) with its key; `open` lets requests without any key
    /// through (a misconfigured dashboard).
    pub fn start(bind: &str, key: &str, open: bool) -> Dashboard {
        let key = key.to_owned();
        Dashboard {
            rec: Recording::start(bind, move |s| route(s, &key, open)),
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

fn route(s: &Seen, key: &str, open: bool) -> Answer {
    if s.path.split('?').next() != Some("/api/chat") {
        return json(404, &serde_json::json!({"detail": "Not Found"}));
    }
    if s.method != "POST" {
        return json(405, &serde_json::json!({"detail": "Method Not Allowed"}));
    }
    match s.header("authorization").map(|a| a.strip_prefix("Bearer ")) {
        Some(Some(k)) if k == key => {}
        Some(_) => return json(401, &serde_json::json!({"detail": "Invalid API key"})),
        None if open => {}
        None => return json(401, &serde_json::json!({"detail": "Not authenticated"})),
    }
    let body: serde_json::Value = serde_json::from_slice(&s.body).unwrap_or_default();
    match body["message"].as_str() {
        Some(m) => json(200, &serde_json::json!({"reply": format!("echo: {m}")})),
        None => json(
            422,
            &serde_json::json!({"detail": [{"type": "missing", "loc": ["body", "message"], "msg": "Field required", "input": body}]}),
        ),
    }
}
