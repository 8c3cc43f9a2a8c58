//! A local stand-in for trusted publishing: GitHub Actions' ID-token
//! endpoint and warehouse's `/_/oidc/audience` and `/_/oidc/mint-token`, on
//! one 127.0.0.1 port.
//!
//! The ID token is JWT-shaped (base64url header, claims, signature); the
//! mint endpoint accepts only tokens it issued, for its audience, once, and
//! answers with the configured upload token (make it the password of the
//! local pypiserver so the upload succeeds), or with warehouse's 422 error
//! body when told to fail.

use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use serde_json::json;

use crate::server::Server;

/// How the stand-in behaves.
#[derive(Clone, Debug)]
pub struct OidcConfig {
    /// What `/_/oidc/audience` answers (`pypi`, `testpypi`).
    pub audience: String,
    /// The bearer token the ID-token endpoint requires
    /// (`ACTIONS_ID_TOKEN_REQUEST_TOKEN`).
    pub request_token: String,
    /// The upload token minted on success.
    pub minted_token: String,
    /// When set, mint-token fails with this warehouse error code.
    pub fail_with: Option<String>,
}

/// What the stand-in saw.
#[derive(Clone, Debug, Default)]
pub struct Seen {
    /// `METHOD path?query` of every request, in order.
    pub requests: Vec<String>,
    /// `Authorization` headers received by the ID-token endpoint.
    pub id_token_auth: Vec<String>,
    /// Upload tokens minted.
    pub minted: usize,
}

struct State {
    config: OidcConfig,
    seen: Seen,
    /// Issued ID tokens and whether they were used.
    issued: HashMap<String, bool>,
}

/// A running stand-in; stops when dropped.
pub struct OidcStandIn {
    /// `http://127.0.0.1:PORT`: the index base for `/_/oidc/…`.
    pub base_url: String,
    /// The value for `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub id_token_request_url: String,
    state: Arc<Mutex<State>>,
    _server: Server,
}

impl OidcStandIn {
    /// Starts on a free port.
    pub fn start(config: OidcConfig) -> anyhow::Result<OidcStandIn> {
        let state = Arc::new(Mutex::new(State {
            config,
            seen: Seen::default(),
            issued: HashMap::new(),
        }));
        let st = state.clone();
        let server = Server::start("127.0.0.1:0", move |req| {
            let st = st.clone();
            async move {
                match handle(st, req).await {
                    Ok(answer) => answer,
                    Err(never) => match never {},
                }
            }
        });
        let base_url = server.url();
        Ok(OidcStandIn {
            id_token_request_url: format!("{base_url}/_actions/id-token?api-version=2.0"),
            base_url,
            state,
            _server: server,
        })
    }

    /// What it saw so far.
    pub fn seen(&self) -> Seen {
        self.state.lock().unwrap().seen.clone()
    }
}

fn reply(status: StatusCode, body: serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body.to_string())))
        .expect("valid response")
}

fn b64(data: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(data)
}

async fn handle(
    state: Arc<Mutex<State>>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or("").to_owned();
    let auth = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = req
        .into_body()
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let mut st = state.lock().unwrap();
    st.seen.requests.push(format!("{method} {path}?{query}"));
    let resp = match (method.as_str(), path.as_str()) {
        ("GET", "/_/oidc/audience") => {
            reply(StatusCode::OK, json!({ "audience": st.config.audience }))
        }
        ("GET", "/_actions/id-token") => {
            st.seen.id_token_auth.push(auth.clone());
            let expected = format!("bearer {}", st.config.request_token);
            if !auth.eq_ignore_ascii_case(&expected) {
                return Ok(reply(
                    StatusCode::UNAUTHORIZED,
                    json!({"message": "bad request token"}),
                ));
            }
            let audience = query
                .split('&')
                .find_map(|kv| kv.strip_prefix("audience="))
                .unwrap_or("")
                .to_owned();
            let n = st.issued.len();
            let claims = json!({
                "iss": "https://token.actions.githubusercontent.com",
                "aud": audience,
                "sub": "repo:acme/mult-agentes:ref:refs/tags/v0.1.0",
                "repository": "acme/mult-agentes",
                "job_workflow_ref": "acme/mult-agentes/.github/workflows/release.yml@refs/tags/v0.1.0",
                "jti": format!("id-token-{n}"),
            });
            let jwt = format!(
                "{}.{}.{}",
                b64(br#"{"alg":"RS256","typ":"JWT"}"#),
                b64(claims.to_string().as_bytes()),
                b64(format!("signature-{n}").as_bytes())
            );
            st.issued.insert(jwt.clone(), false);
            reply(StatusCode::OK, json!({ "count": 1, "value": jwt }))
        }
        ("POST", "/_/oidc/mint-token") => mint(&mut st, &body),
        _ => reply(StatusCode::NOT_FOUND, json!({"message": "not found"})),
    };
    Ok(resp)
}

fn mint(st: &mut State, body: &[u8]) -> Response<Full<Bytes>> {
    let fail = |code: &str, description: &str| {
        reply(
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({
                "message": "Token request failed",
                "errors": [{ "code": code, "description": description }],
            }),
        )
    };
    let Some(jwt) = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("token").and_then(|t| t.as_str()).map(str::to_owned))
    else {
        return fail("invalid-payload", "missing or malformed token");
    };
    if let Some(code) = st.config.fail_with.clone() {
        return fail(&code, "the stand-in was told to fail");
    }
    let audience_ok = jwt
        .split('.')
        .nth(1)
        .and_then(|c| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(c)
                .ok()
        })
        .and_then(|c| serde_json::from_slice::<serde_json::Value>(&c).ok())
        .is_some_and(|c| c["aud"] == st.config.audience.as_str());
    match st.issued.get_mut(&jwt) {
        None => return fail("invalid-token", "unknown token"),
        Some(true) => return fail("invalid-reuse-token", "token already used"),
        Some(used) => *used = true,
    }
    if !audience_ok {
        return fail("invalid-token", "wrong audience");
    }
    st.seen.minted += 1;
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + 900;
    reply(
        StatusCode::OK,
        json!({ "success": true, "token": st.config.minted_token, "expires": expires }),
    )
}
