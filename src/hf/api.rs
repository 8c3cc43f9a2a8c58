//! The Hub's HTTP API: revision → commit, the recursive tree listing, and
//! file requests on `resolve/`, over the one client in [`crate::net`].
//!
//! The token is attached only when a request goes to the endpoint's origin
//! (scheme, host and port); `net` follows redirects and never carries it
//! to the CDN a large file redirects to. Retries, `RateLimit` and
//! `Retry-After` are `net`'s policy.

use crate::net::header;
use crate::net::{self, Client, Failure, HeaderMap, Request, Response, StatusCode, Url};

pub use crate::net::{RetryPolicy, Timeouts};

use super::cache::{RepoFile, check_file};
use super::error::HfError;
use super::names;
use crate::secret::Secret;

/// What a request is about, for error messages.
#[derive(Clone, Debug)]
pub struct Target<'a> {
    /// `org/name`.
    pub repo: &'a str,
    /// Revision or commit.
    pub revision: &'a str,
    /// The file, for resolve requests.
    pub path: Option<&'a str>,
}

/// The metadata headers of a resolve answer.
#[derive(Clone, Debug, Default)]
pub struct FileHeaders {
    /// `X-Linked-Etag`, else `ETag`, without `W/` and quotes.
    pub etag: Option<String>,
    /// `X-Repo-Commit`.
    pub commit: Option<String>,
    /// `X-Linked-Size`.
    pub size: Option<u64>,
}

/// A file response, ready to stream.
pub struct Opened {
    /// The answer (200 or 206).
    pub response: Response,
    /// Where the bytes came from (the CDN for LFS files): later ranges of
    /// the same file go straight there.
    pub final_url: Url,
    /// The resolve answer's metadata.
    pub headers: FileHeaders,
}

/// A client of one Hub endpoint.
pub struct HubClient {
    client: Client,
    endpoint: Url,
    token: Option<Secret>,
    retry: RetryPolicy,
}

impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("endpoint", &self.endpoint.as_str())
            .field("token", &self.token)
            .finish()
    }
}

impl HubClient {
    /// A client for `endpoint` (e.g. `https://huggingface.co`).
    pub fn new(
        endpoint: &str,
        token: Option<Secret>,
        retry: RetryPolicy,
        timeouts: &Timeouts,
    ) -> Result<HubClient, EndpointError> {
        let endpoint = parse_endpoint(endpoint)?;
        let client = Client::with(*timeouts, Some("hf-prefetch"))?;
        Ok(HubClient {
            client,
            endpoint,
            token: token.filter(|t| !t.is_blank()),
            retry,
        })
    }

    /// The endpoint, without a trailing slash.
    pub fn endpoint(&self) -> &str {
        self.endpoint.as_str().trim_end_matches('/')
    }

    /// True when a token is sent to the endpoint.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// HTTP requests sent so far (each redirect hop counts).
    pub fn requests(&self) -> u64 {
        self.client.requests()
    }

    /// The retry policy.
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    fn url(&self, path: &str) -> Url {
        Url::parse(&format!("{}{path}", self.endpoint())).expect("endpoint URL plus a quoted path")
    }

    /// Every file of `repo` at `commit`, following `Link: rel="next"`.
    pub async fn tree(&self, repo: &str, commit: &str) -> Result<Vec<RepoFile>, HfError> {
        let mut url = self.url(&format!(
            "/api/models/{repo}/tree/{}?recursive=true",
            quote(commit, "")
        ));
        let target = Target {
            repo,
            revision: commit,
            path: None,
        };
        let what = format!("file list of {repo}@{commit}");
        let mut files = Vec::new();
        for _page in 0..10_000 {
            let resp = self.send(&url, None, &target).await?.0;
            let next = next_link(resp.headers()).map(|n| url.join(&n));
            let body: serde_json::Value = read_json(resp, &what).await?;
            let Some(entries) = body.as_array() else {
                return Err(HfError::Protocol {
                    what,
                    detail: "the tree answer is not a list".into(),
                });
            };
            for e in entries {
                if let Some(file) = tree_entry(repo, &what, e)? {
                    files.push(file);
                }
            }
            match next {
                Some(Ok(n)) => url = n,
                Some(Err(_)) => {
                    return Err(HfError::Protocol {
                        what,
                        detail: "unparsable Link: rel=\"next\"".into(),
                    });
                }
                None => return Ok(files),
            }
        }
        Err(HfError::Protocol {
            what,
            detail: "more than 10000 pages".into(),
        })
    }

    /// The resolve URL of a file.
    pub fn resolve_url(&self, repo: &str, commit: &str, path: &str) -> Url {
        self.url(&format!(
            "/{repo}/resolve/{}/{}",
            quote(commit, ""),
            quote(path, "/")
        ))
    }

    /// Opens a file for reading, from `direct` (a CDN URL an earlier
    /// request was redirected to) when given, else from its resolve URL.
    /// `range` is `(start, inclusive end)`.
    pub async fn open(
        &self,
        target: &Target<'_>,
        direct: Option<&Url>,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Opened, HfError> {
        let path = target.path.expect("open() needs a file path");
        if let Some(url) = direct {
            // A pre-signed URL may have expired: fall back to resolve.
            if let Ok((response, final_url, headers)) = self.send(url, range, target).await {
                return Ok(Opened {
                    response,
                    final_url,
                    headers,
                });
            }
        }
        let url = self.resolve_url(target.repo, target.revision, path);
        let (response, final_url, headers) = self.send(&url, range, target).await?;
        Ok(Opened {
            response,
            final_url,
            headers,
        })
    }

    /// One GET with redirects followed, retried; a 2xx answer or an error.
    async fn send(
        &self,
        url: &Url,
        range: Option<(u64, Option<u64>)>,
        target: &Target<'_>,
    ) -> Result<(Response, Url, FileHeaders), HfError> {
        let what = net::describe(url);
        let mut req = Request::get(url.as_str()).header("Accept-Encoding", "identity");
        if let Some((start, end)) = range {
            let value = match end {
                Some(end) => format!("bytes={start}-{end}"),
                None => format!("bytes={start}-"),
            };
            req = req.header("Range", &value);
        }
        // The token goes to the endpoint's origin only, never to the CDN.
        if let Some(token) = &self.token
            && url.origin() == self.endpoint.origin()
        {
            req = req.bearer(token);
        }
        match self.client.send(&req, &self.retry).await {
            Ok(resp) if resp.status().is_success() => {
                let mut headers = FileHeaders::default();
                for hop in resp.redirect_headers() {
                    merge_headers(&mut headers, hop);
                }
                merge_headers(&mut headers, resp.headers());
                check_headers(target.repo, &mut headers)?;
                let final_url = resp.url().clone();
                Ok((resp, final_url, headers))
            }
            Ok(resp) => Err(self.status_error(&resp, target, &what)),
            Err(Failure::Network { error, attempts })
                if error.is_transient() || error.is_connect() =>
            {
                Err(HfError::Network {
                    what,
                    reason: error.to_string(),
                    attempts,
                    endpoint: self.endpoint().to_owned(),
                })
            }
            Err(Failure::Network { error, .. }) => Err(HfError::Protocol {
                what,
                detail: error.to_string(),
            }),
            Err(Failure::WaitTooLong { response, wait })
                if response.status() == StatusCode::TOO_MANY_REQUESTS =>
            {
                Err(HfError::RateLimited {
                    what,
                    anonymous: !self.has_token(),
                    wait,
                })
            }
            Err(Failure::Status { response, .. })
                if response.status() == StatusCode::TOO_MANY_REQUESTS =>
            {
                Err(HfError::RateLimited {
                    what,
                    anonymous: !self.has_token(),
                    wait: net::retry_wait(response.headers()).unwrap_or_default(),
                })
            }
            Err(Failure::Status { response, .. } | Failure::WaitTooLong { response, .. }) => {
                Err(self.status_error(&response, target, &what))
            }
        }
    }

    fn status_error(&self, resp: &Response, t: &Target<'_>, what: &str) -> HfError {
        let status = resp.status().as_u16();
        let code = header_str(resp.headers(), "x-error-code").unwrap_or_default();
        let message = header_str(resp.headers(), "x-error-message").unwrap_or_default();
        let repo = t.repo.to_owned();
        match (status, code.as_str()) {
            (401, _) if self.has_token() && message.to_ascii_lowercase().contains("invalid") => {
                HfError::InvalidToken { repo }
            }
            (401 | 403, _) => HfError::NoAccess {
                repo,
                status,
                gated: code == "GatedRepo",
                token_set: self.has_token(),
            },
            (404, "RevisionNotFound") => HfError::RevisionNotFound {
                repo,
                revision: t.revision.to_owned(),
            },
            (404, "EntryNotFound") => HfError::EntryNotFound {
                repo,
                revision: t.revision.to_owned(),
                path: t.path.unwrap_or_default().to_owned(),
            },
            (404, "RepoNotFound") => HfError::RepoNotFound {
                repo,
                endpoint: self.endpoint().to_owned(),
            },
            (404, _) if t.path.is_some() => HfError::EntryNotFound {
                repo,
                revision: t.revision.to_owned(),
                path: t.path.unwrap_or_default().to_owned(),
            },
            (404, _) => HfError::RepoNotFound {
                repo,
                endpoint: self.endpoint().to_owned(),
            },
            _ => HfError::Http {
                what: what.to_owned(),
                status,
                message,
            },
        }
    }
}

/// One entry of a tree listing: a file (its names checked, see
/// [`names`]), `None` for a folder, an error for anything unusable.
fn tree_entry(repo: &str, what: &str, e: &serde_json::Value) -> Result<Option<RepoFile>, HfError> {
    if e["type"] != "file" {
        return Ok(None);
    }
    let (Some(path), Some(size), Some(oid)) =
        (e["path"].as_str(), e["size"].as_u64(), e["oid"].as_str())
    else {
        return Err(HfError::Protocol {
            what: what.to_owned(),
            detail: "a file entry lacks path, size or oid".into(),
        });
    };
    let lfs = match &e["lfs"] {
        serde_json::Value::Null => None,
        l => match l["oid"].as_str() {
            Some(oid) => Some(oid),
            None => {
                return Err(HfError::Protocol {
                    what: what.to_owned(),
                    detail: "an LFS entry lacks its oid".into(),
                });
            }
        },
    };
    let file = RepoFile {
        path: path.to_owned(),
        size: e["lfs"]["size"].as_u64().unwrap_or(size),
        blob_id: oid.to_ascii_lowercase(),
        lfs_sha256: lfs.map(str::to_ascii_lowercase),
    };
    check_file(repo, &file, false)?;
    Ok(Some(file))
}

/// A resolve answer's names: an ETag that claims to be a blob id (40
/// characters or more; a CDN's own short ETag is ignored) must be one, and
/// `X-Repo-Commit` must be a commit.
fn check_headers(repo: &str, headers: &mut FileHeaders) -> Result<(), HfError> {
    let bad = |what, name: &str, why| HfError::BadName {
        repo: repo.to_owned(),
        what,
        name: name.to_owned(),
        why,
        from_cache: false,
    };
    if let Some(etag) = &headers.etag {
        if etag.len() < 40 {
            headers.etag = None;
        } else {
            names::check_blob_id(etag).map_err(|why| bad("ETag", etag, why))?;
        }
    }
    if let Some(commit) = &headers.commit {
        names::check_commit(commit).map_err(|why| bad("X-Repo-Commit", commit, why))?;
    }
    Ok(())
}

fn merge_headers(into: &mut FileHeaders, h: &HeaderMap) {
    if into.commit.is_none() {
        into.commit = header_str(h, "x-repo-commit");
    }
    if into.etag.is_none() {
        into.etag = header_str(h, "x-linked-etag")
            .or_else(|| header_str(h, "etag"))
            .map(|e| normalize_etag(&e));
    }
    if into.size.is_none() {
        into.size = header_str(h, "x-linked-size").and_then(|s| s.parse().ok());
    }
}

/// An ETag without `W/` and quotes, as huggingface_hub normalises it.
pub fn normalize_etag(etag: &str) -> String {
    etag.trim()
        .trim_start_matches("W/")
        .trim_matches('"')
        .to_owned()
}

fn header_str(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned)
}

/// The `rel="next"` target of a `Link` header.
pub fn next_link(h: &HeaderMap) -> Option<String> {
    for value in h.get_all(header::LINK) {
        let value = value.to_str().ok()?;
        for link in value.split(',') {
            let mut parts = link.split(';');
            let target = parts.next()?.trim();
            let is_next = parts.any(|p| {
                let p = p.trim().replace(' ', "");
                p == "rel=\"next\"" || p == "rel=next"
            });
            if is_next {
                return Some(
                    target
                        .trim_start_matches('<')
                        .trim_end_matches('>')
                        .to_owned(),
                );
            }
        }
    }
    None
}

async fn read_json(resp: Response, what: &str) -> Result<serde_json::Value, HfError> {
    let full = resp.full().await.map_err(|e| HfError::Protocol {
        what: what.to_owned(),
        detail: e.to_string(),
    })?;
    serde_json::from_slice(&full.body).map_err(|e| HfError::Protocol {
        what: what.to_owned(),
        detail: format!("invalid JSON ({e})"),
    })
}

/// Why HF_ENDPOINT gives no client. Never quotes the value (it could hold
/// credentials).
#[derive(Debug, thiserror::Error)]
pub enum EndpointError {
    /// Not a URL.
    #[error("HF_ENDPOINT is not a URL ({0}); set it like https://huggingface.co or unset it")]
    NotUrl(String),
    /// Not http(s), or no host.
    #[error("HF_ENDPOINT must be an http(s) URL with a host, like https://huggingface.co")]
    NotHttp,
    /// Credentials, a query or a fragment in it.
    #[error(
        "HF_ENDPOINT must not carry credentials, a query string or a #fragment; give the bare URL \
         (like https://huggingface.co) and put the token in HF_TOKEN"
    )]
    NotBare,
    /// The HTTP client could not be built.
    #[error(transparent)]
    Client(#[from] net::NetError),
}

fn parse_endpoint(endpoint: &str) -> Result<Url, EndpointError> {
    let url = Url::parse(endpoint.trim()).map_err(|e| EndpointError::NotUrl(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(EndpointError::NotHttp);
    }
    if net::has_credentials(&url) || url.fragment().is_some() {
        return Err(EndpointError::NotBare);
    }
    Ok(url)
}

/// Checks HF_ENDPOINT without building a client.
pub fn check_endpoint(endpoint: &str) -> Result<(), EndpointError> {
    parse_endpoint(endpoint).map(|_| ())
}

pub use super::names::is_commit;

/// Python's `urllib.parse.quote(s, safe)`.
pub fn quote(s: &str, safe: &str) -> String {
    let keep: Vec<u8> = b"_.-~".iter().chain(safe.as_bytes()).copied().collect();
    crate::secret::percent_encode_keeping(s, &keep)
}

/// Where a file's bytes are, as the first request for them found out.
pub enum Located {
    /// The Hub redirected to another origin (the CDN): the signed URL and
    /// the metadata of the redirect answer; nothing was asked of the CDN.
    Elsewhere {
        /// The URL to ask for ranges, without the token.
        url: Url,
        /// The redirect answer's metadata.
        headers: FileHeaders,
    },
    /// The Hub (or a same-origin redirect) answered with the bytes.
    Here(Box<Opened>),
}

impl HubClient {
    /// `GET /api/models/{repo}/revision/{rev}?blobs=true` → the commit and,
    /// when the Hub lists them with blob ids and sizes, every file (so the
    /// tree listing is not needed). Each sibling goes through the one
    /// tree-entry parser; `None` when a sibling lacks those fields (a
    /// mirror that ignores `blobs=true`).
    pub async fn revision_files(
        &self,
        repo: &str,
        revision: &str,
    ) -> Result<(String, Option<Vec<RepoFile>>), HfError> {
        let url = self.url(&format!(
            "/api/models/{repo}/revision/{}?blobs=true",
            quote(revision, "")
        ));
        let target = Target {
            repo,
            revision,
            path: None,
        };
        let resp = self.send(&url, None, &target).await?.0;
        let what = format!("revision {revision} of {repo}");
        let body: serde_json::Value = read_json(resp, &what).await?;
        let Some(sha) = body["sha"].as_str() else {
            return Err(HfError::Protocol {
                what,
                detail: "no `sha` in the revision answer".into(),
            });
        };
        names::check_commit(sha).map_err(|why| HfError::BadName {
            repo: repo.to_owned(),
            what: "commit",
            name: sha.to_owned(),
            why,
            from_cache: false,
        })?;
        let commit = sha.to_ascii_lowercase();
        let Some(siblings) = body["siblings"].as_array() else {
            return Ok((commit, None));
        };
        let what = format!("file list of {repo}@{commit}");
        let mut files = Vec::with_capacity(siblings.len());
        for s in siblings {
            let Some(entry) = sibling_as_tree_entry(s) else {
                return Ok((commit, None));
            };
            if let Some(file) = tree_entry(repo, &what, &entry)? {
                files.push(file);
            }
        }
        Ok((commit, Some(files)))
    }

    /// Asks the Hub for a file (a byte range) following redirects within
    /// its origin only: a redirect to the CDN is returned at once, so that
    /// every range can go there without waiting for the first one's bytes.
    /// An answer that is neither goes through [`HubClient::open`] for its
    /// error.
    pub async fn locate(
        &self,
        target: &Target<'_>,
        range: Option<(u64, Option<u64>)>,
    ) -> Result<Located, HfError> {
        let path = target.path.expect("locate() needs a file path");
        let url = self.resolve_url(target.repo, target.revision, path);
        let mut req = Request::get(url.as_str())
            .header("Accept-Encoding", "identity")
            .same_origin_redirects_only();
        if let Some((start, end)) = range {
            let end = end.map(|e| e.to_string()).unwrap_or_default();
            req = req.header("Range", &format!("bytes={start}-{end}"));
        }
        if let Some(token) = &self.token {
            req = req.bearer(token);
        }
        if let Ok(resp) = self.client.send(&req, &self.retry).await {
            let mut headers = FileHeaders::default();
            for hop in resp.redirect_headers() {
                merge_headers(&mut headers, hop);
            }
            merge_headers(&mut headers, resp.headers());
            // The same checks as every other answer: names are data.
            check_headers(target.repo, &mut headers)?;
            let location = resp
                .header("location")
                .and_then(|l| resp.url().join(l).ok());
            if resp.status().is_success() {
                let final_url = resp.url().clone();
                return Ok(Located::Here(Box::new(Opened {
                    response: resp,
                    final_url,
                    headers,
                })));
            }
            if resp.status().is_redirection()
                && let Some(url) = location.filter(|u| matches!(u.scheme(), "http" | "https"))
            {
                return Ok(Located::Elsewhere { url, headers });
            }
        }
        self.open(target, None, range)
            .await
            .map(|o| Located::Here(Box::new(o)))
    }
}

/// A sibling of `revision?blobs=true` (`rfilename`, `size`, `blobId`,
/// `lfs: {sha256, size}`) in the shape of a tree entry.
fn sibling_as_tree_entry(s: &serde_json::Value) -> Option<serde_json::Value> {
    let path = s["rfilename"].as_str()?;
    let size = s["size"].as_u64()?;
    let oid = s["blobId"].as_str()?;
    let mut entry = serde_json::json!({"type": "file", "path": path, "size": size, "oid": oid});
    if !s["lfs"].is_null() {
        entry["lfs"] = serde_json::json!({"oid": s["lfs"]["sha256"], "size": s["lfs"]["size"]});
    }
    Some(entry)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::HeaderValue;
    use std::time::Duration;

    #[test]
    fn link_next() {
        let mut h = HeaderMap::new();
        h.insert(
            header::LINK,
            HeaderValue::from_static("<https://h/api/x?cursor=a>; rel=\"next\""),
        );
        assert_eq!(next_link(&h).as_deref(), Some("https://h/api/x?cursor=a"));
        h.insert(
            header::LINK,
            HeaderValue::from_static("<https://h/p>; rel=\"prev\""),
        );
        assert_eq!(next_link(&h), None);
    }

    #[test]
    fn quoting_and_etags() {
        assert_eq!(quote("refs/pr/1", ""), "refs%2Fpr%2F1");
        assert_eq!(quote("a b/c.json", "/"), "a%20b/c.json");
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert!(is_commit(&"a".repeat(40)) && !is_commit("main"));
        assert!(check_endpoint("ftp://x").is_err());
        assert!(check_endpoint("https://user:pw@h").is_err());
        assert!(check_endpoint("https://h/#x").is_err());
        assert!(check_endpoint("http://127.0.0.1:9/").is_ok());
    }

    #[test]
    fn tree_entries_and_resolve_headers_are_checked() {
        let blob = "a".repeat(40);
        let sha = "b".repeat(64);
        let e = serde_json::json!({"type": "file", "path": "x/y.json", "size": 3, "oid": blob.to_uppercase()});
        let f = tree_entry("o/n", "w", &e).unwrap().unwrap();
        assert_eq!(
            (f.path.as_str(), f.blob_id.as_str()),
            ("x/y.json", blob.as_str())
        );
        let dir = serde_json::json!({"type": "directory", "path": "../x", "oid": "zz"});
        assert!(tree_entry("o/n", "w", &dir).unwrap().is_none());
        let lfs = serde_json::json!({"type": "file", "path": "m.bin", "size": 130, "oid": blob,
            "lfs": {"oid": sha, "size": 9}});
        let f = tree_entry("o/n", "w", &lfs).unwrap().unwrap();
        assert_eq!((f.etag(), f.size), (sha.as_str(), 9));
        for bad in [
            serde_json::json!({"type": "file", "path": "../../v", "size": 1, "oid": blob}),
            serde_json::json!({"type": "file", "path": "ok", "size": 1, "oid": "../../v"}),
            serde_json::json!({"type": "file", "path": "ok", "size": 1, "oid": blob, "lfs": {"oid": blob}}),
            serde_json::json!({"type": "file", "path": "ok", "size": 1, "oid": blob, "lfs": {"size": 1}}),
        ] {
            let err = tree_entry("o/n", "w", &bad).unwrap_err().to_string();
            assert!(err.starts_with("o/n: ") || err.starts_with("w: "), "{err}");
        }
        let mut h = FileHeaders {
            etag: Some("short-cdn-etag".into()),
            commit: Some("c".repeat(40)),
            size: None,
        };
        check_headers("o/n", &mut h).unwrap();
        assert!(h.etag.is_none(), "a CDN's own short ETag is not a blob id");
        h.etag = Some(format!("../../{}", "a".repeat(40)));
        assert!(check_headers("o/n", &mut h).is_err());
        h.etag = Some(sha.clone());
        h.commit = Some("main".into());
        assert!(check_headers("o/n", &mut h).is_err());
    }

    #[test]
    fn plain_http_connection_errors_are_network_errors() {
        // A port nothing listens on: refused at once.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let retry = RetryPolicy {
            attempts: 2,
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        };
        let client = HubClient::new(
            &format!("http://127.0.0.1:{port}"),
            None,
            retry,
            &Timeouts::default(),
        )
        .unwrap();
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let err = rt
            .block_on(client.revision_files("o/r", "main"))
            .unwrap_err();
        match err {
            HfError::Network {
                reason, attempts, ..
            } => {
                assert!(reason.starts_with("cannot connect"), "{reason}");
                // A refused connection is final (net): one attempt.
                assert_eq!(attempts, 1);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(client.requests(), 1);
    }
}
