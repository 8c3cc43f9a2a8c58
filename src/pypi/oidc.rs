//! Trusted publishing: trade GitHub Actions' OIDC ID token for a
//! short-lived upload token, so CI holds no long-lived PyPI secret.
//!
//! The exchange, as warehouse and pypa/gh-action-pypi-publish speak it:
//! `GET <index>/_/oidc/audience` gives the audience; GitHub's
//! `$ACTIONS_ID_TOKEN_REQUEST_URL&audience=<aud>` (bearer
//! `$ACTIONS_ID_TOKEN_REQUEST_TOKEN`) gives the ID token; `POST
//! <index>/_/oidc/mint-token {"token": …}` gives the upload token. The
//! index base URL is a parameter: private warehouse deployments and tests
//! point it elsewhere.

use serde::Deserialize;

use crate::net::{Blocking, Failure, Full, Request, RetryPolicy};
use crate::secret::Secret;

/// Where GitHub hands out ID tokens (from the runner's environment).
#[derive(Clone, Debug)]
pub struct GithubIdTokenSource {
    /// `ACTIONS_ID_TOKEN_REQUEST_URL`.
    pub request_url: String,
    /// `ACTIONS_ID_TOKEN_REQUEST_TOKEN`.
    pub request_token: Secret,
}

impl GithubIdTokenSource {
    /// Reads the two variables through `get`; `None` when either is missing
    /// (the job lacks `permissions: id-token: write`, or runs for a fork).
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Option<GithubIdTokenSource> {
        let url = get("ACTIONS_ID_TOKEN_REQUEST_URL").filter(|v| !v.trim().is_empty())?;
        let token = get("ACTIONS_ID_TOKEN_REQUEST_TOKEN").filter(|v| !v.trim().is_empty())?;
        Some(GithubIdTokenSource {
            request_url: url,
            request_token: Secret::new(token),
        })
    }
}

/// A minted upload token.
#[derive(Debug)]
pub struct Minted {
    /// The token (`pypi-…`), for twine's environment only.
    pub token: Secret,
    /// Unix time it expires, when the index said.
    pub expires: Option<u64>,
}

/// Why the exchange failed.
#[derive(Debug, thiserror::Error)]
pub enum OidcError {
    /// A request got no answer, or an unexpected one.
    #[error("trusted publishing: {step} failed: {detail}")]
    Http {
        /// Which request.
        step: &'static str,
        /// What happened (redacted by the caller).
        detail: String,
    },
    /// The index refused to mint, with warehouse's error codes.
    #[error("trusted publishing: {index} refused to mint an upload token:\n{}", .messages.join("\n"))]
    Refused {
        /// The index base URL.
        index: String,
        /// One explained line per error code.
        messages: Vec<String>,
    },
}

/// Runs the whole exchange against the index at `base` (`https://pypi.org`).
/// `on_secret` receives the GitHub ID token as soon as it arrives, to mask it.
pub fn exchange(
    client: &Blocking,
    base: &str,
    github: &GithubIdTokenSource,
    policy: RetryPolicy,
    context: &PublisherContext,
    on_secret: &mut dyn FnMut(&Secret),
) -> Result<Minted, OidcError> {
    let base = base.trim_end_matches('/');
    let audience = audience(client, base, policy)?;
    let jwt = id_token(client, github, &audience, policy)?;
    // The ID token is a credential too: masked before it can be printed.
    on_secret(&jwt);
    mint(client, base, &jwt, policy, context)
}

/// What the messages name: the repository and workflow the publisher must
/// match, and the project.
#[derive(Clone, Debug, Default)]
pub struct PublisherContext {
    /// `GITHUB_REPOSITORY`.
    pub repository: Option<String>,
    /// `GITHUB_WORKFLOW_REF` (`owner/repo/.github/workflows/x.yml@ref`).
    pub workflow_ref: Option<String>,
    /// The project being published.
    pub project: Option<String>,
}

fn audience(client: &Blocking, base: &str, policy: RetryPolicy) -> Result<String, OidcError> {
    #[derive(Deserialize)]
    struct Audience {
        audience: String,
    }
    let url = format!("{base}/_/oidc/audience");
    let step = "asking the index for its audience (GET /_/oidc/audience)";
    let resp = client
        .send(
            &Request::get(&url).header("Accept", "application/json"),
            &policy,
        )
        .map_err(|f| http(step, f))?;
    let status = resp.status;
    if status == 404 {
        return Err(OidcError::Http {
            step,
            detail: format!(
                "{base} does not offer trusted publishing (404); check the index URL, or set a token instead"
            ),
        });
    }
    if !resp.is_success() {
        return Err(OidcError::Http {
            step,
            detail: format!("HTTP {status}"),
        });
    }
    json::<Audience>(&resp, step).map(|a| a.audience)
}

fn id_token(
    client: &Blocking,
    github: &GithubIdTokenSource,
    audience: &str,
    policy: RetryPolicy,
) -> Result<Secret, OidcError> {
    #[derive(Deserialize)]
    struct Value {
        value: String,
    }
    let sep = if github.request_url.contains('?') {
        '&'
    } else {
        '?'
    };
    let url = format!(
        "{}{sep}audience={}",
        github.request_url,
        crate::secret::percent_encode(audience)
    );
    let step = "requesting the GitHub Actions ID token";
    let req = Request::get(&url)
        .bearer(&github.request_token)
        .header("Accept", "application/json");
    let resp = client.send(&req, &policy).map_err(|f| http(step, f))?;
    let status = resp.status;
    if !resp.is_success() {
        return Err(OidcError::Http {
            step,
            detail: format!(
                "HTTP {status}; the job needs `permissions: id-token: write`, and pull requests from forks never get an ID token"
            ),
        });
    }
    json::<Value>(&resp, step).map(|v| Secret::new(v.value))
}

fn mint(
    client: &Blocking,
    base: &str,
    jwt: &Secret,
    policy: RetryPolicy,
    context: &PublisherContext,
) -> Result<Minted, OidcError> {
    #[derive(Deserialize)]
    struct Ok_ {
        token: String,
        #[serde(default)]
        expires: Option<u64>,
    }
    #[derive(Deserialize)]
    struct Failure {
        #[serde(default)]
        errors: Vec<Code>,
    }
    #[derive(Deserialize)]
    struct Code {
        code: String,
        #[serde(default)]
        description: String,
    }
    let url = format!("{base}/_/oidc/mint-token");
    let step = "minting an upload token (POST /_/oidc/mint-token)";
    let body = serde_json::json!({ "token": jwt.expose() }).to_string();
    let req = Request::post_json(&url, body).header("Accept", "application/json");
    let resp = client.send(&req, &policy).map_err(|f| http(step, f))?;
    let status = resp.status;
    if resp.is_success() {
        let ok: Ok_ = json(&resp, step)?;
        return Ok(Minted {
            token: Secret::new(ok.token),
            expires: ok.expires,
        });
    }
    let failure: Option<Failure> = serde_json::from_slice(&resp.body).ok();
    match failure {
        Some(f) if !f.errors.is_empty() => Err(OidcError::Refused {
            index: base.to_owned(),
            messages: f
                .errors
                .iter()
                .map(|c| explain(&c.code, &c.description, base, context))
                .collect(),
        }),
        _ => Err(OidcError::Http {
            step,
            detail: format!("HTTP {status}"),
        }),
    }
}

fn http(step: &'static str, f: Failure) -> OidcError {
    OidcError::Http {
        step,
        detail: f.to_string(),
    }
}

fn json<T: serde::de::DeserializeOwned>(resp: &Full, step: &'static str) -> Result<T, OidcError> {
    serde_json::from_slice(&resp.body).map_err(|e| OidcError::Http {
        step,
        detail: format!("unreadable answer ({e})"),
    })
}

/// One line per warehouse error code: what to configure where.
pub fn explain(code: &str, description: &str, base: &str, ctx: &PublisherContext) -> String {
    let repo = ctx.repository.as_deref().unwrap_or("<owner>/<repository>");
    let workflow = ctx
        .workflow_ref
        .as_deref()
        .and_then(|w| w.split('@').next())
        .and_then(|w| w.rsplit('/').next())
        .unwrap_or("<workflow file>");
    let project = ctx.project.as_deref().unwrap_or("<project>");
    let what = match code {
        "invalid-publisher" => format!(
            "no trusted publisher on {base} matches this run. On {base}/manage/project/{project}/settings/publishing/ \
             add a GitHub publisher: repository {repo}, workflow {workflow}, and the environment this job uses (if any)"
        ),
        "invalid-pending-publisher" => format!(
            "a pending publisher matches, but it cannot create {project} (the name is taken, or the pending \
             publisher names another project). Check {base}/manage/account/publishing/"
        ),
        "invalid-token" => {
            "the GitHub ID token was refused (expired, or the wrong audience): re-run the job; \
             do not cache ID tokens between steps"
                .to_owned()
        }
        "invalid-reuse-token" => {
            "this ID token was already used to mint a token: each ID token mints once; \
             re-run the job"
                .to_owned()
        }
        "invalid-payload" => {
            "the mint request was malformed (a release-kit bug: please report it)".to_owned()
        }
        "not-enabled" => format!(
            "trusted publishing is disabled on {base} right now; set an API token in the password variable \
             for this run instead"
        ),
        _ => "unknown error code".to_owned(),
    };
    if description.is_empty() {
        format!("  - [{code}] {what}")
    } else {
        format!("  - [{code}] {what} (index said: {})", description.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_say_what_to_configure() {
        let ctx = PublisherContext {
            repository: Some("acme/mult".into()),
            workflow_ref: Some("acme/mult/.github/workflows/release.yml@refs/tags/v1".into()),
            project: Some("mult-agentes".into()),
        };
        let m = explain(
            "invalid-publisher",
            "valid token, but no publisher",
            "https://pypi.org",
            &ctx,
        );
        assert!(
            m.contains("https://pypi.org/manage/project/mult-agentes/settings/publishing/"),
            "{m}"
        );
        assert!(
            m.contains("repository acme/mult") && m.contains("workflow release.yml"),
            "{m}"
        );
        for code in [
            "invalid-pending-publisher",
            "invalid-token",
            "invalid-reuse-token",
            "invalid-payload",
            "not-enabled",
        ] {
            assert!(
                !explain(code, "", "https://test.pypi.org", &ctx).contains("unknown"),
                "{code}"
            );
        }
    }

    #[test]
    fn source_needs_both_variables() {
        assert!(
            GithubIdTokenSource::from_env(
                |k| (k == "ACTIONS_ID_TOKEN_REQUEST_URL").then(|| "http://x".to_string())
            )
            .is_none()
        );
        let s = GithubIdTokenSource::from_env(|_| Some("v".into())).unwrap();
        assert_eq!(format!("{:?}", s.request_token), crate::secret::MASK);
    }
}
