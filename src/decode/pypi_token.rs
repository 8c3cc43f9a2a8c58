//! Offline inspection of PyPI API tokens.
//!
//! A PyPI token is `pypi-` followed by the URL-safe base64 of a libmacaroons
//! v2 binary macaroon. Its location names the index it was made for, and its
//! caveats (JSON) say what it may do: which projects, until when. Reading
//! them catches the classic mistakes before a request is made: a TestPyPI
//! token where a PyPI one belongs, an expired token, a token for another
//! project. Nothing here ever returns or prints any part of the token
//! itself: only the index, the scope and the dates.

use base64::Engine as _;
use serde::Serialize;

use super::pypi_name::normalize;

/// What an index token was made for, as far as the token itself says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    /// The macaroon's location: the index's domain (`pypi.org`, `test.pypi.org`).
    pub location: Option<String>,
    /// What the token may touch.
    pub scope: Scope,
    /// Unix time after which the token is refused.
    pub expires_at: Option<u64>,
    /// Unix time before which the token is refused.
    pub not_before: Option<u64>,
}

/// The scope a token's caveats grant.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "projects", rename_all = "kebab-case")]
pub enum Scope {
    /// No caveat says: the server may hold more caveats than the token shows.
    Unknown,
    /// Every project of the account (`[3, user_id]`, or legacy `"user"`).
    Account,
    /// These projects, by name.
    Projects(Vec<String>),
    /// These projects, by PyPI's internal ids (not checkable offline).
    ProjectIds(Vec<String>),
    /// Minted by trusted publishing for one publisher.
    Publisher,
}

/// Why a token cannot be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    /// Not `pypi-` followed by base64.
    #[error("is not a PyPI API token (`pypi-` followed by URL-safe base64)")]
    NotAToken,
    /// The base64 decodes but is not a v2 macaroon.
    #[error("does not hold a macaroon PyPI would accept (damaged or truncated when pasted?)")]
    NotAMacaroon,
}

/// How much a finding weighs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// For information only.
    Note,
    /// Works, but should be fixed.
    Warning,
    /// Will be refused: stop before any request.
    Error,
}

/// One thing learnt about a token, never holding any of its text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// How much it weighs.
    pub severity: Severity,
    /// What is wrong and what to do.
    pub message: String,
}

/// Decodes a token offline.
pub fn inspect(token: &str) -> Result<TokenInfo, TokenError> {
    let body = token
        .trim()
        .strip_prefix("pypi-")
        .ok_or(TokenError::NotAToken)?;
    let body = body.trim_end_matches('=');
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(body)
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(body))
        .map_err(|_| {
            // Only base64 letters but no whole base64: cut short.
            let letters = |c: char| c.is_ascii_alphanumeric() || "-_+/".contains(c);
            if !body.is_empty() && body.chars().all(letters) {
                TokenError::NotAMacaroon
            } else {
                TokenError::NotAToken
            }
        })?;
    let macaroon = parse_v2(&bytes).ok_or(TokenError::NotAMacaroon)?;
    let mut info = TokenInfo {
        location: macaroon.location,
        scope: Scope::Unknown,
        expires_at: None,
        not_before: None,
    };
    for caveat in &macaroon.caveats {
        let Ok(json) = serde_json::from_slice::<serde_json::Value>(caveat) else {
            continue;
        };
        apply_caveat(&mut info, &json);
    }
    Ok(info)
}

/// Narrows `info` by one caveat. Several scope caveats all hold at once, so
/// the narrowest wins (a project list beats account-wide).
fn apply_caveat(info: &mut TokenInfo, caveat: &serde_json::Value) {
    use serde_json::Value;
    let narrow = |info: &mut TokenInfo, scope: Scope| {
        let rank = |s: &Scope| match s {
            Scope::Unknown => 0,
            Scope::Account => 1,
            Scope::ProjectIds(_) | Scope::Publisher => 2,
            Scope::Projects(_) => 3,
        };
        if rank(&scope) >= rank(&info.scope) {
            info.scope = scope;
        }
    };
    let strings = |v: &Value| -> Vec<String> {
        v.as_array()
            .map(|a| {
                a.iter()
                    .map(|x| match x {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    match caveat {
        Value::Array(items) => match items.first().and_then(Value::as_u64) {
            Some(0) => {
                info.expires_at = items.get(1).and_then(Value::as_u64);
                info.not_before = items.get(2).and_then(Value::as_u64);
            }
            Some(1) => narrow(
                info,
                Scope::Projects(strings(items.get(1).unwrap_or(&Value::Null))),
            ),
            Some(2) => narrow(
                info,
                Scope::ProjectIds(strings(items.get(1).unwrap_or(&Value::Null))),
            ),
            Some(3) => narrow(info, Scope::Account),
            Some(4) => narrow(info, Scope::Publisher),
            _ => {}
        },
        Value::Object(map) => {
            if let Some(exp) = map.get("exp").and_then(Value::as_u64) {
                info.expires_at = Some(exp);
                info.not_before = map.get("nbf").and_then(Value::as_u64);
            }
            match map.get("permissions") {
                Some(Value::String(s)) if s == "user" => narrow(info, Scope::Account),
                Some(Value::Object(p)) => {
                    if let Some(projects) = p.get("projects") {
                        narrow(info, Scope::Projects(strings(projects)));
                    }
                }
                _ => {}
            }
        }
        _ => {}
    }
}

struct Macaroon {
    location: Option<String>,
    caveats: Vec<Vec<u8>>,
}

/// libmacaroons v2 binary: 0x02, header section, one section per caveat,
/// an empty section, then the signature packet.
fn parse_v2(bytes: &[u8]) -> Option<Macaroon> {
    let (&version, mut rest) = bytes.split_first()?;
    if version != 2 {
        return None;
    }
    let mut next = || -> Option<(u64, Vec<u8>)> {
        let (kind, r) = varint(rest)?;
        if kind == 0 {
            rest = r;
            return Some((0, Vec::new()));
        }
        let (len, r) = varint(r)?;
        let len = usize::try_from(len).ok()?;
        if r.len() < len {
            return None;
        }
        let (data, r) = r.split_at(len);
        rest = r;
        Some((kind, data.to_vec()))
    };
    let mut location = None;
    let mut identifier = false;
    loop {
        match next()? {
            (0, _) => break,
            (1, d) => location = Some(String::from_utf8(d).ok()?),
            (2, _) => identifier = true,
            _ => return None,
        }
    }
    if !identifier {
        return None;
    }
    let mut caveats = Vec::new();
    loop {
        let mut caveat = None;
        let mut empty = true;
        loop {
            match next()? {
                (0, _) => break,
                (2, d) => {
                    caveat = Some(d);
                    empty = false;
                }
                (1 | 4, _) => empty = false,
                _ => return None,
            }
        }
        if empty {
            break;
        }
        caveats.extend(caveat);
    }
    match next()? {
        (6, sig) if sig.len() == 32 => Some(Macaroon { location, caveats }),
        _ => None,
    }
}

fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, &bytes[i + 1..]));
        }
    }
    None
}

/// Whether the token names the index it is used for.
fn index_finding(info: &TokenInfo, expected: Option<&str>, index: &str) -> Option<Finding> {
    let (severity, message) = match info.location.as_deref() {
        Some(loc) if expected.is_some() && !same_index(loc, index) => (
            Severity::Error,
            format!(
                "is a token for {loc}, not {index}: {}",
                if index == "test.pypi.org" {
                    "put TestPyPI tokens in TWINE_PASSWORD_TEST and make one at https://test.pypi.org/manage/account/token/"
                } else {
                    "put PyPI tokens in TWINE_PASSWORD (TestPyPI ones go in TWINE_PASSWORD_TEST) and make one at https://pypi.org/manage/account/token/"
                }
            ),
        ),
        None => (
            Severity::Note,
            "names no index (no location in the macaroon)".into(),
        ),
        Some(_) => return None,
    };
    Some(Finding { severity, message })
}

/// What the token means for an upload to `index` (`pypi.org` or
/// `test.pypi.org`; `None` for another index) of `project` (when known), at
/// unix time `now`.
pub fn assess(
    info: &TokenInfo,
    expected: Option<&str>,
    project: Option<&str>,
    now: u64,
) -> Vec<Finding> {
    let index = expected.or(info.location.as_deref()).unwrap_or("pypi.org");
    let mut out: Vec<Finding> = index_finding(info, expected, index).into_iter().collect();
    let mut push = |severity, message: String| out.push(Finding { severity, message });
    if let Some(exp) = info.expires_at
        && exp <= now
    {
        push(
            Severity::Error,
            format!(
                "expired {} ago; make a new token at https://{index}/manage/account/token/",
                ago(now - exp)
            ),
        );
    }
    if let Some(nbf) = info.not_before
        && nbf > now + 60
    {
        push(
            Severity::Error,
            format!(
                "is not valid for another {}; check the machine's clock",
                ago(nbf - now)
            ),
        );
    }
    match &info.scope {
        Scope::Unknown => push(
            Severity::Note,
            "scope unknown: the token shows no scope caveat (the index may still restrict it)"
                .into(),
        ),
        Scope::Account => push(
            Severity::Warning,
            format!(
                "is account-wide: it can upload to every project of the account. Replace it with a token \
                 scoped to this project only (https://{index}/manage/account/token/)"
            ),
        ),
        Scope::Projects(names) => {
            if let Some(project) = project
                && !names.iter().any(|n| normalize(n) == normalize(project))
            {
                push(
                    Severity::Error,
                    format!(
                        "is scoped to {} and cannot upload {project}; make a token scoped to {project} at \
                         https://{index}/manage/account/token/",
                        names.join(", ")
                    ),
                );
            }
        }
        Scope::ProjectIds(_) => push(
            Severity::Note,
            "is scoped to projects by id (not checkable offline)".into(),
        ),
        Scope::Publisher => {}
    }
    out
}

/// The one judgement of a token, shared by `env status`, `env check`,
/// `env verify` and the publish preflight so that they cannot disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Judgement {
    /// The token in words (index, scope, expiry; never its text), when it
    /// decodes.
    pub words: Option<String>,
    /// What it means for the uploads: errors stop, warnings and notes do not.
    pub findings: Vec<Finding>,
}

impl Judgement {
    /// The messages of one severity.
    pub fn messages(&self, severity: Severity) -> Vec<String> {
        self.findings
            .iter()
            .filter(|f| f.severity == severity)
            .map(|f| f.message.clone())
            .collect()
    }
}

/// Judges `token` for uploads of every one of `projects` to `index`
/// (`pypi.org`, `test.pypi.org`; `None` for another index) at unix time
/// `now`. A token that does not decode is an error with the reason (a
/// note for another index, which may take passwords); a
/// project it cannot upload is an error (PyPI scopes a token to one
/// project), whose message says what to do with several packages.
pub fn judge(token: &str, index: Option<&str>, projects: &[String], now: u64) -> Judgement {
    let info = match inspect(token) {
        Ok(info) => info,
        Err(e) => {
            // Another index may take any password; PyPI takes only tokens.
            let (severity, message) = match index {
                Some(i) => (
                    Severity::Error,
                    format!(
                        "{e}; make a new token at https://{i}/manage/account/token/ and paste it whole"
                    ),
                ),
                None => (
                    Severity::Note,
                    format!("{e}: fine if this index takes passwords, else paste the token whole"),
                ),
            };
            let findings = vec![Finding { severity, message }];
            return Judgement {
                words: None,
                findings,
            };
        }
    };
    let mut findings = assess(&info, index, None, now);
    for project in projects {
        for mut f in assess(&info, index, Some(project), now) {
            if findings.contains(&f) {
                continue;
            }
            if f.severity == Severity::Error {
                f.message.push_str(if projects.len() > 1 {
                    SEVERAL_PACKAGES
                } else {
                    FIRST_UPLOAD
                });
            }
            findings.push(f);
        }
    }
    Judgement {
        words: Some(describe(&info, now)),
        findings,
    }
}

/// [`judge`] at `index` now, for `env verify`: `None` when the token does
/// not decode (the caller says why, from [`inspect`]).
pub fn projects_view(
    token: &str,
    index: &str,
    projects: &[String],
) -> Option<(String, Vec<Finding>)> {
    let j = judge(token, Some(index), projects, unix_now());
    Some((j.words?, j.findings))
}

/// What to do when one token must upload several packages.
const SEVERAL_PACKAGES: &str = ". PyPI scopes a token to one project, and this release has several: \
    prefer trusted publishing (no token; one publisher per package and index, created as a pending \
    publisher before the first upload, docs/github.md), or give each package its own token \
    variable (`token = \"PYPI_TOKEN_<NAME>\"`, `testpypi-token = \"TESTPYPI_TOKEN_<NAME>\"` in its \
    release-kit.toml entry); a project-scoped token cannot exist before the \
    project's first upload, so a first upload needs a pending publisher or a one-time \
    account-wide token, revoked after";

/// The first-upload case, for a token that cannot upload a project.
const FIRST_UPLOAD: &str = " (a project-scoped token exists only after the project's first upload: \
    for a first upload add a pending trusted publisher, docs/github.md, or use a one-time \
    account-wide token, revoked right after)";

/// A token's index, scope and expiry in words.
pub fn describe(info: &TokenInfo, now: u64) -> String {
    let index = info.location.as_deref().unwrap_or("no index named");
    let scope = match &info.scope {
        Scope::Unknown => "scope unknown".to_owned(),
        Scope::Account => "account-wide".to_owned(),
        Scope::Projects(names) => format!("scoped to {}", names.join(", ")),
        Scope::ProjectIds(ids) => format!("scoped to {} project id(s)", ids.len()),
        Scope::Publisher => "minted for a trusted publisher".to_owned(),
    };
    let expiry = match info.expires_at {
        None => "no expiry".to_owned(),
        Some(t) if t <= now => format!("expired {} ago", ago(now - t)),
        Some(t) => format!("expires in {}", ago(t - now)),
    };
    format!("{index}, {scope}, {expiry}")
}

/// Seconds since the epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn same_index(location: &str, index: &str) -> bool {
    let loc = location
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    loc.eq_ignore_ascii_case(index)
        || (index == "pypi.org" && loc.eq_ignore_ascii_case("upload.pypi.org"))
}

fn ago(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
    }
}

/// Builds a v2 macaroon token, for tests and stand-ins: never for real use
/// (the signature is not a real HMAC chain).
#[doc(hidden)]
pub fn build_test_token(location: &str, identifier: &str, caveats: &[&str]) -> String {
    fn packet(out: &mut Vec<u8>, kind: u8, data: &[u8]) {
        out.push(kind);
        let mut n = data.len();
        loop {
            let b = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                out.push(b);
                break;
            }
            out.push(b | 0x80);
        }
        out.extend_from_slice(data);
    }
    let mut out = vec![2u8];
    packet(&mut out, 1, location.as_bytes());
    packet(&mut out, 2, identifier.as_bytes());
    out.push(0);
    for c in caveats {
        packet(&mut out, 2, c.as_bytes());
        out.push(0);
    }
    out.push(0);
    packet(&mut out, 6, &[7u8; 32]);
    format!(
        "pypi-{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn tok(loc: &str, caveats: &[&str]) -> String {
        build_test_token(loc, "CANARY-identifier-5f1e", caveats)
    }

    #[test]
    fn current_caveats_both_indexes() {
        for index in ["pypi.org", "test.pypi.org"] {
            let t = tok(
                index,
                &[
                    &format!("[0,{},{}]", NOW + 3600, NOW - 10),
                    r#"[1,["mult-agentes"]]"#,
                ],
            );
            let info = inspect(&t).unwrap();
            assert_eq!(info.location.as_deref(), Some(index));
            assert_eq!(info.scope, Scope::Projects(vec!["mult-agentes".into()]));
            assert_eq!(info.expires_at, Some(NOW + 3600));
            let f = assess(&info, Some(index), Some("Mult_Agentes"), NOW);
            assert!(f.iter().all(|f| f.severity != Severity::Error), "{f:?}");
        }
    }

    #[test]
    fn legacy_caveats_both_indexes() {
        for index in ["pypi.org", "test.pypi.org"] {
            let t = tok(
                index,
                &[
                    r#"{"version": 1, "permissions": {"projects": ["mult-agentes"]}}"#,
                    &format!(r#"{{"exp": {}, "nbf": {}}}"#, NOW - 5, NOW - 100),
                ],
            );
            let info = inspect(&t).unwrap();
            assert_eq!(info.scope, Scope::Projects(vec!["mult-agentes".into()]));
            let f = assess(&info, Some(index), Some("mult-agentes"), NOW);
            assert_eq!(f.len(), 1, "{f:?}");
            assert_eq!(f[0].severity, Severity::Error);
            assert!(f[0].message.starts_with("expired"), "{f:?}");

            let t = tok(index, &[r#"{"version": 1, "permissions": "user"}"#]);
            assert_eq!(inspect(&t).unwrap().scope, Scope::Account);
        }
    }

    #[test]
    fn wrong_index_is_an_error_both_ways() {
        let test_token = tok("test.pypi.org", &["[3,\"user-id\"]"]);
        let info = inspect(&test_token).unwrap();
        let f = assess(&info, Some("pypi.org"), None, NOW);
        assert!(
            f.iter().any(|f| f.severity == Severity::Error
                && f.message.contains("test.pypi.org, not pypi.org"))
        );
        assert!(
            f.iter()
                .any(|f| f.severity == Severity::Warning && f.message.contains("account-wide"))
        );
        let prod = tok("pypi.org", &[]);
        let j = judge(&prod, Some("test.pypi.org"), &[], NOW);
        let (words, f) = (j.words.unwrap(), j.findings);
        assert_eq!(words, "pypi.org, scope unknown, no expiry");
        assert!(
            f.iter().any(|f| f.severity == Severity::Error
                && f.message.contains("TWINE_PASSWORD_TEST")),
            "{f:?}"
        );
        let f = judge(&prod, Some("pypi.org"), &[], NOW).findings;
        assert!(f.iter().all(|f| f.severity == Severity::Note), "{f:?}");
    }

    #[test]
    fn no_caveat_is_unknown_not_account_wide() {
        let info = inspect(&tok("pypi.org", &[])).unwrap();
        assert_eq!(info.scope, Scope::Unknown);
        let f = assess(&info, Some("pypi.org"), Some("x"), NOW);
        assert!(f.iter().any(|f| f.message.starts_with("scope unknown")));
        assert!(f.iter().all(|f| f.severity == Severity::Note));
    }

    #[test]
    fn other_project_is_an_error_and_ids_are_noted() {
        let t = tok("pypi.org", &[r#"[1,["other-pkg","third"]]"#]);
        let f = assess(
            &inspect(&t).unwrap(),
            Some("pypi.org"),
            Some("mult-agentes"),
            NOW,
        );
        assert!(
            f.iter().any(|f| f.severity == Severity::Error
                && f.message.contains("scoped to other-pkg, third"))
        );
        let t = tok("pypi.org", &[r#"[2,["0a1b"]]"#, "[3,\"u\"]"]);
        assert_eq!(
            inspect(&t).unwrap().scope,
            Scope::ProjectIds(vec!["0a1b".into()])
        );
    }

    #[test]
    fn nothing_of_the_token_in_findings() {
        let t = tok(
            "test.pypi.org",
            &[&format!("[0,{},{}]", NOW - 100, NOW - 200), "[3,\"u\"]"],
        );
        let info = inspect(&t).unwrap();
        let text = format!(
            "{info:?}{:?}",
            assess(&info, Some("pypi.org"), Some("p"), NOW)
        );
        assert!(!text.contains("CANARY"), "{text}");
        assert!(!text.contains(&t[5..20]), "{text}");
    }

    #[test]
    fn garbage_is_rejected() {
        assert_eq!(inspect("hunter2"), Err(TokenError::NotAToken));
        assert_eq!(inspect("pypi-!!!!"), Err(TokenError::NotAToken));
        assert_eq!(
            inspect("pypi-AAAAAAAAAAAAAAAAAAAA"),
            Err(TokenError::NotAMacaroon)
        );
        // Truncated: the signature is cut off.
        let t = tok("pypi.org", &[]);
        assert_eq!(inspect(&t[..t.len() - 8]), Err(TokenError::NotAMacaroon));
    }

    #[test]
    fn a_token_that_does_not_decode_is_an_error_with_the_reason_never_the_value() {
        let t = tok("pypi.org", &[r#"[1,["mult-agentes"]]"#]);
        // Pasted short, the way `pypi-AgEIcHlwaS5vcmc…` ends up in a file.
        let cut = &t[..30];
        let j = judge(cut, Some("pypi.org"), &["mult-agentes".into()], NOW);
        assert_eq!(j.words, None);
        let errors = j.messages(Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("damaged or truncated"), "{errors:?}");
        assert!(errors[0].contains("https://pypi.org/manage/account/token/"));
        assert!(!errors[0].contains(&cut[5..]), "{errors:?}");
    }

    #[test]
    fn a_token_must_upload_every_package_it_is_used_for() {
        let t = tok("pypi.org", &[r#"[1,["mult-agentes"]]"#]);
        let both = ["mult-agentes".to_owned(), "mult-agentes-native".to_owned()];
        let errors = judge(&t, Some("pypi.org"), &both, NOW).messages(Severity::Error);
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].contains("cannot upload mult-agentes-native"));
        assert!(errors[0].contains("trusted publishing"), "{errors:?}");
        assert!(errors[0].contains("pending publisher"), "{errors:?}");
        assert!(errors[0].contains("account-wide token"), "{errors:?}");
        let one = judge(&t, Some("pypi.org"), &both[..1], NOW);
        assert!(one.messages(Severity::Error).is_empty());
    }
}
