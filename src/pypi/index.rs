//! Which files an index already has, with their sha256: the basis of a safe
//! re-run (twine 7 refuses `--skip-existing` for any index but PyPI's).
//!
//! Three dialects, as uv's `--check-url` speaks them: PyPI's JSON API
//! (`/pypi/<name>/<version>/json`), the PEP 691 simple JSON API, and PEP 503
//! simple HTML whose links carry `#sha256=`. A link without a hash is
//! fetched and hashed, so no index leaves us guessing.

use std::collections::BTreeMap;

use serde::Deserialize;
use sha2::Digest as _;

use super::token::normalize;
use crate::net::{Blocking, Failure, Request, RetryPolicy};

/// How to ask an index what it holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndexQuery {
    /// Warehouse's JSON API under this base (`https://pypi.org`).
    JsonApi {
        /// The index host, no trailing slash.
        base: String,
    },
    /// A simple repository API root (`http://host/simple/`), PEP 691 JSON
    /// or PEP 503 HTML.
    Simple {
        /// The root, with a trailing slash.
        url: String,
    },
}

impl IndexQuery {
    /// The URL asked for `project` at `version`.
    pub fn url(&self, project: &str, version: &str) -> String {
        match self {
            IndexQuery::JsonApi { base } => {
                format!(
                    "{}/pypi/{}/{version}/json",
                    base.trim_end_matches('/'),
                    normalize(project)
                )
            }
            IndexQuery::Simple { url } => format!("{url}{}/", normalize(project)),
        }
    }
}

impl std::fmt::Display for IndexQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexQuery::JsonApi { base } => write!(f, "{base}/pypi/ (JSON API)"),
            IndexQuery::Simple { url } => write!(f, "{url} (simple API)"),
        }
    }
}

/// Why the index could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No answer.
    #[error(
        "cannot reach the index at {url}: {reason}; check the URL and your network, then run again"
    )]
    Unreachable {
        /// What was asked.
        url: String,
        /// Why.
        reason: String,
    },
    /// The index wants credentials even to read.
    #[error(
        "the index at {url} answered {status} to a read: it needs credentials to list files. \
         Pass --check-url with a URL of the index that can be read anonymously"
    )]
    Unauthorized {
        /// What was asked.
        url: String,
        /// 401 or 403.
        status: u16,
    },
    /// Another error status, or an answer we cannot read.
    #[error(
        "the index at {url} gave an unexpected answer: {detail}; is --check-url / --repository-url right?"
    )]
    Unexpected {
        /// What was asked.
        url: String,
        /// What came back.
        detail: String,
    },
}

/// Filenames the index holds for `project` `version`, each with its sha256
/// (lower-case hex). Files in `wanted` whose hash the listing omits are
/// downloaded and hashed; others without a hash are left out.
pub fn existing_files(
    http: &Blocking,
    query: &IndexQuery,
    project: &str,
    version: &str,
    wanted: &[&str],
    policy: RetryPolicy,
) -> Result<BTreeMap<String, String>, IndexError> {
    let url = query.url(project, version);
    let accept = match query {
        IndexQuery::JsonApi { .. } => "application/json",
        IndexQuery::Simple { .. } => {
            "application/vnd.pypi.simple.v1+json, text/html;q=0.2, application/vnd.pypi.simple.v1+html;q=0.1"
        }
    };
    let req = Request::get(&url).header("Accept", accept);
    let resp = http.send(&req, &policy).map_err(|f| failure(&url, f))?;
    match resp.status {
        404 => return Ok(BTreeMap::new()),
        401 | 403 => {
            return Err(IndexError::Unauthorized {
                url,
                status: resp.status,
            });
        }
        s if !(200..300).contains(&s) => {
            return Err(IndexError::Unexpected {
                url,
                detail: format!("HTTP {s}"),
            });
        }
        _ => {}
    }
    let content_type = resp
        .header("content-type")
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = resp.text();
    let unexpected = |detail: String| IndexError::Unexpected {
        url: url.clone(),
        detail,
    };
    let links = match query {
        IndexQuery::JsonApi { .. } => parse_json_api(&body).map_err(unexpected)?,
        IndexQuery::Simple { .. } if content_type.contains("json") => {
            parse_pep691(&body).map_err(unexpected)?
        }
        IndexQuery::Simple { .. } => parse_pep503(&body),
    };
    let mut out = BTreeMap::new();
    for link in links {
        match link.sha256 {
            Some(h) => {
                out.insert(link.filename, h.to_ascii_lowercase());
            }
            None if wanted.contains(&link.filename.as_str()) => {
                let href = resolve(resp.url.as_str(), &link.href);
                let h = download_sha256(http, &href, policy)?;
                out.insert(link.filename, h);
            }
            None => {}
        }
    }
    Ok(out)
}

fn failure(url: &str, f: Failure) -> IndexError {
    IndexError::Unreachable {
        url: crate::net::describe_str(url),
        reason: f.to_string(),
    }
}

fn download_sha256(http: &Blocking, url: &str, policy: RetryPolicy) -> Result<String, IndexError> {
    let resp = http
        .send(&Request::get(url), &policy)
        .map_err(|f| failure(url, f))?;
    if !resp.is_success() {
        return Err(IndexError::Unexpected {
            url: url.to_owned(),
            detail: format!("HTTP {} downloading a listed file to hash it", resp.status),
        });
    }
    Ok(hex(&sha2::Sha256::digest(&resp.body)))
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

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

/// PyPI's `/pypi/<name>/<version>/json`.
pub fn parse_json_api(body: &str) -> Result<Vec<Link>, String> {
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
    let r: Release =
        serde_json::from_str(body).map_err(|e| format!("not PyPI JSON API output ({e})"))?;
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
pub fn parse_pep691(body: &str) -> Result<Vec<Link>, String> {
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
    let p: Page = serde_json::from_str(body).map_err(|e| format!("not PEP 691 JSON ({e})"))?;
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

#[cfg(test)]
mod tests {
    use super::*;

    const H1: &str = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

    #[test]
    fn pep503_links_with_and_without_hash() {
        let html = format!(
            "<html><body><h1>Links</h1>\n<a href=\"../../packages/mult_agentes-0.1.0.tar.gz#sha256={H1}\">mult_agentes-0.1.0.tar.gz</a><br>\n\
             <A HREF='/p/mult_agentes-0.1.0-py3-none-any.whl#md5=00' data-requires-python=\"&gt;=3.9\">mult_agentes-0.1.0-py3-none-any.whl</A>\n</body></html>"
        );
        let links = parse_pep503(&html);
        assert_eq!(links.len(), 2, "{links:?}");
        assert_eq!(links[0].filename, "mult_agentes-0.1.0.tar.gz");
        assert_eq!(links[0].sha256.as_deref(), Some(H1));
        assert_eq!(links[0].href, "../../packages/mult_agentes-0.1.0.tar.gz");
        assert_eq!(links[1].sha256, None);
        assert_eq!(
            resolve("http://h:1/simple/mult-agentes/", &links[0].href),
            "http://h:1/packages/mult_agentes-0.1.0.tar.gz"
        );
    }

    #[test]
    fn pep691_and_json_api() {
        let j = format!(
            r#"{{"meta":{{"api-version":"1.1"}},"name":"x","files":[{{"filename":"x-1.whl","url":"u","hashes":{{"sha256":"{H1}"}}}}]}}"#
        );
        assert_eq!(parse_pep691(&j).unwrap()[0].sha256.as_deref(), Some(H1));
        let j = format!(
            r#"{{"info":{{}},"urls":[{{"filename":"x-1.tar.gz","url":"https://f/x","digests":{{"md5":"0","sha256":"{H1}"}}}}]}}"#
        );
        let l = parse_json_api(&j).unwrap();
        assert_eq!(
            (l[0].filename.as_str(), l[0].sha256.as_deref()),
            ("x-1.tar.gz", Some(H1))
        );
        assert!(parse_json_api("<html>").is_err());
    }

    #[test]
    fn query_urls_are_normalized() {
        let q = IndexQuery::Simple {
            url: "http://h/simple/".into(),
        };
        assert_eq!(q.url("Mult_Agentes", "1"), "http://h/simple/mult-agentes/");
        let q = IndexQuery::JsonApi {
            base: "https://test.pypi.org".into(),
        };
        assert_eq!(
            q.url("mult_agentes", "0.1.0"),
            "https://test.pypi.org/pypi/mult-agentes/0.1.0/json"
        );
    }
}
