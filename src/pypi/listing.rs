//! Reading a package index's listing of one project: PyPI's JSON API, the
//! PEP 691 simple JSON API and PEP 503 simple HTML, into the files it names
//! (with their sha256 when the listing gives it). Pure parsing: what to
//! fetch and how is [`index`](super::index)'s.

use serde::Deserialize;
use std::collections::BTreeMap;

/// One file a listing names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// The file's name.
    pub filename: String,
    /// Where to fetch it (may be relative to the page).
    pub href: String,
    /// Its sha256 when the listing gives it.
    pub sha256: Option<String>,
}

/// A listing that does not parse as the format asked for.
#[derive(Debug, thiserror::Error)]
#[error("not {format} ({detail})")]
pub struct ListingError {
    /// The format expected.
    pub format: &'static str,
    /// What the JSON reader said.
    pub detail: serde_json::Error,
}

/// PyPI's `/pypi/<name>/<version>/json`.
pub fn parse_json_api(body: &str) -> Result<Vec<Link>, ListingError> {
    #[derive(Deserialize)]
    struct Release {
        urls: Vec<Url>,
    }
    #[derive(Deserialize)]
    struct Url {
        filename: String,
        url: String,
        digests: BTreeMap<String, String>,
    }
    let r: Release = serde_json::from_str(body).map_err(|detail| ListingError {
        format: "PyPI JSON API output",
        detail,
    })?;
    Ok(r.urls
        .into_iter()
        .map(|u| Link {
            filename: u.filename,
            href: u.url,
            sha256: u.digests.get("sha256").cloned(),
        })
        .collect())
}

/// PEP 691 `application/vnd.pypi.simple.v1+json`.
pub fn parse_pep691(body: &str) -> Result<Vec<Link>, ListingError> {
    #[derive(Deserialize)]
    struct Page {
        files: Vec<File>,
    }
    #[derive(Deserialize)]
    struct File {
        filename: String,
        url: String,
        #[serde(default)]
        hashes: BTreeMap<String, String>,
    }
    let p: Page = serde_json::from_str(body).map_err(|detail| ListingError {
        format: "PEP 691 JSON",
        detail,
    })?;
    Ok(p.files
        .into_iter()
        .map(|f| Link {
            filename: f.filename,
            href: f.url,
            sha256: f.hashes.get("sha256").cloned(),
        })
        .collect())
}

/// PEP 503 HTML: every `<a href="…#sha256=…">filename</a>`.
pub fn parse_pep503(body: &str) -> Vec<Link> {
    let mut out = Vec::new();
    let lower = body.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(start) = lower[pos..].find("<a").map(|i| pos + i) {
        let Some(tag_end) = lower[start..].find('>').map(|i| start + i) else {
            break;
        };
        let Some(close) = lower[tag_end..].find("</a>").map(|i| tag_end + i) else {
            break;
        };
        let tag = &body[start..tag_end];
        let text = unescape(body[tag_end + 1..close].trim());
        pos = close + 4;
        let Some(href) = attr(tag, "href") else {
            continue;
        };
        let href = unescape(&href);
        let (path, fragment) = href.split_once('#').unwrap_or((&href, ""));
        let sha256 = fragment
            .strip_prefix("sha256=")
            .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
            .map(str::to_owned);
        let from_href = path.rsplit('/').next().unwrap_or(path);
        let filename = if text.is_empty() {
            from_href.to_owned()
        } else {
            text
        };
        out.push(Link {
            filename,
            href: path.to_owned(),
            sha256,
        });
    }
    out
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let lower = tag.to_ascii_lowercase();
    let mut from = 0;
    while let Some(i) = lower[from..].find(name).map(|i| from + i) {
        from = i + name.len();
        let before_ok = i == 0 || lower.as_bytes()[i - 1].is_ascii_whitespace();
        let rest = lower[from..].trim_start();
        if !before_ok || !rest.starts_with('=') {
            continue;
        }
        let value_start = tag.len() - rest.len() + 1;
        let value = tag[value_start..].trim_start();
        return Some(match value.chars().next()? {
            q @ ('"' | '\'') => value[1..].split(q).next()?.to_owned(),
            _ => value.split(|c: char| c.is_whitespace()).next()?.to_owned(),
        });
    }
    None
}

fn unescape(s: &str) -> String {
    s.replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// `href` made absolute against the page it was found on.
pub fn resolve(page: &str, href: &str) -> String {
    match crate::net::Url::parse(page).and_then(|base| base.join(href)) {
        Ok(u) => u.to_string(),
        Err(_) => href.to_owned(),
    }
}
