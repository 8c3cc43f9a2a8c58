//! Which files an index already has, with their sha256: the basis of a safe
//! re-run (twine 7 refuses `--skip-existing` for any index but PyPI's).
//!
//! Three dialects, as uv's `--check-url` speaks them: PyPI's JSON API
//! (`/pypi/<name>/<version>/json`), the PEP 691 simple JSON API, and PEP 503
//! simple HTML whose links carry `#sha256=`. A link without a hash is
//! fetched and hashed, so no index leaves us guessing.
//!
//! Where the listing of an upload URL lives is found, not guessed:
//! [`candidates`] applies the known layouts (PyPI, warehouse, pypiserver,
//! devpi, Artifactory, Nexus, GitLab, CodeArtifact), and [`discover`] takes
//! the first candidate that answers like a simple index. A 404 for the
//! project's page means "not uploaded yet" only when the index root answers
//! like a simple index; anything else is an error, never an empty listing.
//!
//! Reads go through a [`Reader`]: redirects to another host are not
//! followed (pypiserver sends a project it lacks to pypi.org: "not here"),
//! and for an index that needs credentials to read, the upload credentials
//! go as HTTP Basic auth to the upload URL's own origin only.

use std::collections::BTreeMap;

pub use super::listing::{Link, ListingError, parse_json_api, parse_pep503, parse_pep691, resolve};
use super::package::normalize;
use crate::net::{Blocking, Failure, Full, Request, RetryPolicy};
use crate::secret::Secret;

/// The upload credentials as HTTP Basic auth for listing reads (an index
/// may need them to read: CodeArtifact always, private GitLab, Artifactory
/// or Nexus without anonymous access). Sent only to the upload URL's
/// origin, never in a URL; never made for PyPI or TestPyPI.
#[derive(Clone, Debug)]
pub struct ReadAuth {
    origin: crate::net::Url,
    header: Secret,
    from: String,
}

impl ReadAuth {
    /// `username` and `password` for reads at `upload_url`'s origin;
    /// `from` names where they come from, for messages (`TWINE_USERNAME
    /// and TWINE_PASSWORD`). `None` for a URL that does not parse.
    pub fn basic(
        upload_url: &str,
        username: &str,
        password: &Secret,
        from: &str,
    ) -> Option<ReadAuth> {
        use base64::Engine as _;
        let origin = crate::net::Url::parse(upload_url).ok()?;
        let pair = format!("{username}:{}", password.expose());
        let header = Secret::new(format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(pair)
        ));
        Some(ReadAuth {
            origin,
            header,
            from: from.to_owned(),
        })
    }
}

/// How listing reads are sent: the client, its retries, and the
/// credentials for an index that needs them to read.
#[derive(Clone, Copy)]
pub struct Reader<'a> {
    http: &'a Blocking,
    policy: RetryPolicy,
    auth: Option<&'a ReadAuth>,
}

impl<'a> Reader<'a> {
    /// Reads with `http` and `policy`, sending `auth` where it belongs.
    pub fn new(http: &'a Blocking, policy: RetryPolicy, auth: Option<&'a ReadAuth>) -> Reader<'a> {
        Reader { http, policy, auth }
    }

    /// `GET url`, with the credentials when `url` is on their origin.
    fn request(&self, url: &str) -> Request {
        let req = Request::get(url);
        match self.auth_for(url) {
            Some(a) => req.secret_header("Authorization", a.header.clone()),
            None => req,
        }
    }

    fn auth_for(&self, url: &str) -> Option<&'a ReadAuth> {
        self.auth
            .filter(|a| crate::net::Url::parse(url).is_ok_and(|u| u.origin() == a.origin.origin()))
    }

    /// A listing read: redirects to another origin are the answer.
    fn get(&self, url: &str, accept: &str) -> Result<Full, IndexError> {
        let req = self
            .request(url)
            .header("Accept", accept)
            .same_origin_redirects_only();
        self.http
            .send(&req, &self.policy)
            .map_err(|f| failure(url, f))
    }

    fn unauthorized(&self, url: String, status: u16) -> IndexError {
        IndexError::Unauthorized {
            sent: self.auth_for(&url).map(|a| a.from.clone()),
            url,
            status,
        }
    }
}

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

    /// The listing's root: the simple-API root, or the JSON API's base.
    pub fn root(&self) -> String {
        match self {
            IndexQuery::JsonApi { base } => format!("{}/pypi/", base.trim_end_matches('/')),
            IndexQuery::Simple { url } => url.clone(),
        }
    }
}

impl std::fmt::Display for IndexQuery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IndexQuery::JsonApi { .. } => {
                write!(f, "{} (JSON API)", crate::net::describe_str(&self.root()))
            }
            IndexQuery::Simple { url } => {
                write!(f, "{} (simple API)", crate::net::describe_str(url))
            }
        }
    }
}

/// Why the index could not be asked.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    /// No answer.
    #[error(
        "cannot reach the index at {url}: {reason}; check the URL and your network, then run again \
         (if the index lists its files elsewhere, pass that simple-API root with --check-url)"
    )]
    Unreachable {
        /// What was asked.
        url: String,
        /// Why.
        reason: String,
    },
    /// The index wants credentials even to read, or refused those sent.
    #[error("{}", unauthorized_message(url, *status, sent.as_deref()))]
    Unauthorized {
        /// What was asked.
        url: String,
        /// 401 or 403.
        status: u16,
        /// Where the credentials sent came from (`None`: none were sent).
        sent: Option<String>,
    },
    /// Another error status, or an answer we cannot read.
    #[error(
        "the index at {} gave an unexpected answer: {detail}; is --check-url / --repository-url right?",
        crate::net::describe_str(url)
    )]
    Unexpected {
        /// What was asked.
        url: String,
        /// What came back.
        detail: String,
    },
    /// The project's page is missing and the root is not a simple index:
    /// this is not where the index lists its files.
    #[error(
        "{} is not a package listing: {detail}; pass --check-url with the index's simple-API root \
         (the URL pip's --index-url takes), or set `check-url` under [python] in release-kit.toml",
        crate::net::describe_str(url)
    )]
    NotAListing {
        /// The root asked.
        url: String,
        /// What it answered.
        detail: String,
    },
    /// No candidate listing of an upload URL answered like a simple index.
    #[error(
        "found no package listing for the index {upload}: tried {}; pass --check-url with the \
         index's simple-API root (the URL pip's --index-url takes), or set `check-url` under \
         [python] in release-kit.toml",
        tried.join(", ")
    )]
    NoListing {
        /// The upload URL.
        upload: String,
        /// Each candidate with why it was not taken.
        tried: Vec<String>,
    },
}

fn unauthorized_message(url: &str, status: u16, sent: Option<&str>) -> String {
    let url = crate::net::describe_str(url);
    match sent {
        Some(from) => format!(
            "the index at {url} answered {status} to a read with the credentials in {from}: \
             it refused them to list files. Check that they are right (the same ones upload), \
             and that the account may read this index (its read or download permission), or \
             pass --check-url with a listing of the index they can read"
        ),
        None => format!(
            "the index at {url} answered {status} to a read without credentials: it needs them \
             to list files. The upload credentials (TWINE_USERNAME and the password variable) \
             are sent only to the upload URL's host, and a token minted by trusted publishing \
             only once minted: pass --check-url with a listing on the upload URL's host, or one \
             that can be read anonymously"
        ),
    }
}

impl IndexError {
    /// True when the index is not there at all (no connection): asking
    /// another listing of the same host is pointless.
    fn is_unreachable(&self) -> bool {
        matches!(self, IndexError::Unreachable { .. })
    }
}

/// Which known layout, or which setting, named a listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A known index layout (its name).
    Layout(&'static str),
    /// `--check-url`.
    Flag,
    /// `check-url` under `[python]` in release-kit.toml.
    Config,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Layout(name) => write!(f, "{name} layout"),
            Source::Flag => f.write_str("--check-url"),
            Source::Config => f.write_str("[python] check-url"),
        }
    }
}

/// A place an index may list its files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// How to ask it.
    pub query: IndexQuery,
    /// Why it is a candidate.
    pub source: Source,
}

impl Candidate {
    /// A listing the user named (`--check-url`, `[python] check-url`): a
    /// simple-API root.
    pub fn given(url: &str, source: Source) -> Candidate {
        Candidate {
            query: IndexQuery::Simple {
                url: format!(
                    "{}/",
                    url.split('#').next().unwrap_or(url).trim_end_matches('/')
                ),
            },
            source,
        }
    }
}

/// The listings an index with this upload URL may have, most likely
/// first: the layout the URL's shape names (see docs/python.md), then the
/// usual places (`<url>/simple/`, devpi's `<url>/+simple/`,
/// `<origin>/simple/`). PyPI's and TestPyPI's upload URLs name their JSON
/// API only.
pub fn candidates(upload_url: &str) -> Vec<Candidate> {
    let Ok(url) = crate::net::Url::parse(upload_url) else {
        return Vec::new();
    };
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    let json = |base: &str, name| {
        vec![Candidate {
            query: IndexQuery::JsonApi { base: base.into() },
            source: Source::Layout(name),
        }]
    };
    match host.as_str() {
        "upload.pypi.org" | "pypi.org" => return json("https://pypi.org", "PyPI"),
        "test.pypi.org" => return json("https://test.pypi.org", "TestPyPI"),
        _ => {}
    }
    let segs: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|s| !s.is_empty()).collect())
        .unwrap_or_default();
    let origin = url.origin().ascii_serialization();
    // `<origin>/<first n segments>/`
    let prefix = |n: usize| {
        let mut p = format!("{origin}/");
        for s in &segs[..n] {
            p.push_str(s);
            p.push('/');
        }
        p
    };
    let at = |name: &str| segs.iter().position(|s| s.eq_ignore_ascii_case(name));
    let mut out: Vec<(String, &'static str)> = Vec::new();
    let n = segs.len();
    if segs.last().is_some_and(|s| *s == "legacy") {
        out.push((format!("{}simple/", prefix(n - 1)), "warehouse"));
    } else if let Some(i) = at("api").filter(|&i| segs.get(i + 1) == Some(&"pypi") && i + 2 < n) {
        out.push((format!("{}simple/", prefix(i + 3)), "Artifactory"));
    } else if let Some(i) = at("projects")
        .filter(|&i| segs.get(i + 2) == Some(&"packages") && segs.get(i + 3) == Some(&"pypi"))
    {
        out.push((format!("{}simple/", prefix(i + 4)), "GitLab"));
    } else if host.contains(".codeartifact.")
        && let Some(i) = at("pypi").filter(|&i| i + 1 < n)
    {
        out.push((format!("{}simple/", prefix(i + 2)), "CodeArtifact"));
    } else if n >= 2 && segs[n - 2].eq_ignore_ascii_case("repository") {
        out.push((format!("{}simple/", prefix(n)), "Nexus"));
    } else if n == 2 && !segs.iter().any(|s| s.starts_with('+')) {
        out.push((format!("{}+simple/", prefix(n)), "devpi"));
    }
    out.push((format!("{}simple/", prefix(n)), "pypiserver"));
    out.push((format!("{}+simple/", prefix(n)), "devpi"));
    out.push((format!("{origin}/simple/"), HOST_ROOT));
    let mut seen = std::collections::BTreeSet::new();
    out.into_iter()
        .filter(|(u, _)| seen.insert(u.clone()))
        .map(|(url, name)| Candidate {
            query: IndexQuery::Simple { url },
            source: Source::Layout(name),
        })
        .collect()
}

/// The layout name of the last resort, `<origin>/simple/`: a listing of
/// the whole host, which may be another index's than the upload URL's.
const HOST_ROOT: &str = "host root";

/// The first of `candidates` that answers like a simple index for every
/// one of `projects` (its page, or a 404 for it and a simple-index root),
/// without changing anything. The host-wide `<origin>/simple/`, which the
/// upload URL's layout did not name, is taken only when it lists one of
/// the projects: a 404 there may be another index's. A JSON API candidate
/// (PyPI, TestPyPI) is taken as it is, with no request. A listing the user
/// named that does not answer is an error of its own; no answer from the
/// host stops the search.
pub fn discover(
    reader: &Reader<'_>,
    candidates: &[Candidate],
    upload_url: &str,
    projects: &[&str],
) -> Result<Candidate, IndexError> {
    let mut tried = Vec::new();
    for c in candidates {
        if matches!(c.query, IndexQuery::JsonApi { .. }) {
            return Ok(c.clone());
        }
        let mut listed = false;
        let mut failed = None;
        for project in projects {
            match project_page(reader, &c.query, project, "") {
                Ok(page) => listed |= page.is_some(),
                Err(e) => {
                    failed = Some(e);
                    break;
                }
            }
        }
        match failed {
            None if c.source == Source::Layout(HOST_ROOT) && !listed => tried.push(format!(
                "{} (does not list {}; a listing of the whole host may be another index's)",
                c.query.root(),
                projects.join(", ")
            )),
            None => return Ok(c.clone()),
            Some(e) if e.is_unreachable() || !matches!(c.source, Source::Layout(_)) => {
                return Err(e);
            }
            Some(e @ IndexError::Unauthorized { .. }) => return Err(e),
            Some(e) => tried.push(format!("{} ({})", c.query.root(), short_reason(&e))),
        }
    }
    Err(IndexError::NoListing {
        upload: crate::net::describe_str(upload_url),
        tried,
    })
}

/// What gives an account upload permission on an index of this layout,
/// for a refused user name and password.
pub fn permission_hint(found: &Candidate, upload_url: &str, user: &str) -> Option<String> {
    let Source::Layout(layout) = found.source else {
        return None;
    };
    let path = crate::net::Url::parse(upload_url)
        .map(|u| u.path().trim_matches('/').to_owned())
        .unwrap_or_default();
    Some(match layout {
        "devpi" => format!(
            "devpi: check the password with `devpi login {user}`; the index {path} takes uploads \
             from the users in its acl_upload (`devpi getjson /{path}` shows it; its owner adds \
             you with `devpi index {path} acl_upload={user}`, keeping the names already there)"
        ),
        "pypiserver" => "pypiserver: the user and password must be in the server's htpasswd file \
                         (-P), and uploads allowed (-a update)"
            .to_owned(),
        "Artifactory" => "Artifactory: the user needs Deploy/Cache permission on the repository; \
                          an identity token works as the password"
            .to_owned(),
        "Nexus" => "Nexus: the user needs the nx-repository-view-pypi-<repository>-add privilege"
            .to_owned(),
        "GitLab" => {
            "GitLab: use a personal, project or deploy token with the write_package_registry \
                     scope as the password and the token's user name (or __token__ for a personal \
                     access token) as TWINE_USERNAME"
                .to_owned()
        }
        "CodeArtifact" => "CodeArtifact: TWINE_USERNAME is `aws` and the password a fresh \
                           `aws codeartifact get-authorization-token` (valid 12 hours)"
            .to_owned(),
        _ => return None,
    })
}

fn short_reason(e: &IndexError) -> String {
    match e {
        IndexError::NotAListing { detail, .. } | IndexError::Unexpected { detail, .. } => {
            detail.clone()
        }
        other => other.to_string(),
    }
}

/// Filenames the index holds for `project` `version`, each with its sha256
/// (lower-case hex). Files in `wanted` whose hash the listing omits are
/// downloaded and hashed; others without a hash are left out. A simple
/// index's 404 for the project is an empty listing only when its root
/// answers like a simple index ([`IndexError::NotAListing`] otherwise).
/// A devpi listing's files inherited from the index's bases are not on it.
pub fn existing_files(
    reader: &Reader<'_>,
    query: &IndexQuery,
    project: &str,
    version: &str,
    wanted: &[&str],
) -> Result<BTreeMap<String, String>, IndexError> {
    let Some(page) = project_page(reader, query, project, version)? else {
        return Ok(BTreeMap::new());
    };
    let own = own_prefix(query);
    let mut out = BTreeMap::new();
    for link in page.links {
        if let Some(prefix) = &own {
            let at = crate::net::Url::parse(&resolve(&page.url, &link.href));
            if !at.is_ok_and(|u| u.path().starts_with(prefix.as_str())) {
                continue;
            }
        }
        match link.sha256 {
            Some(h) => {
                out.insert(link.filename, h.to_ascii_lowercase());
            }
            None if wanted.contains(&link.filename.as_str()) => {
                let href = resolve(&page.url, &link.href);
                let h = download_sha256(reader, &href)?;
                out.insert(link.filename, h);
            }
            None => {}
        }
    }
    Ok(out)
}

/// For a devpi listing (`…/USER/INDEX/+simple/`), the path the index's own
/// files live under (`…/USER/INDEX/`): its pages also list the files of
/// the index's bases (`root/pypi`, another index), which are not on it.
fn own_prefix(query: &IndexQuery) -> Option<String> {
    let IndexQuery::Simple { url } = query else {
        return None;
    };
    let u = crate::net::Url::parse(url).ok()?;
    let prefix = u.path().strip_suffix("+simple/")?;
    (prefix.len() > 1).then(|| prefix.to_owned())
}

/// A project's page, read.
struct Page {
    /// Where it answered from (after redirects), for relative links.
    url: String,
    links: Vec<Link>,
}

const SIMPLE_ACCEPT: &str = "application/vnd.pypi.simple.v1+json, text/html;q=0.2, application/vnd.pypi.simple.v1+html;q=0.1";

/// The project's page (`None`: not on the index yet, the root answered).
fn project_page(
    reader: &Reader<'_>,
    query: &IndexQuery,
    project: &str,
    version: &str,
) -> Result<Option<Page>, IndexError> {
    let url = query.url(project, version);
    let accept = match query {
        IndexQuery::JsonApi { .. } => "application/json",
        IndexQuery::Simple { .. } => SIMPLE_ACCEPT,
    };
    let resp = reader.get(&url, accept)?;
    // pypiserver's fallback sends a project it lacks to pypi.org: what
    // another host holds is not on this index (and is not asked).
    let elsewhere = matches!(query, IndexQuery::Simple { .. })
        && (300..400).contains(&resp.status)
        && resp.header("location").is_some();
    match resp.status {
        // Warehouse's JSON API: a 404 is an unknown project or version.
        404 if matches!(query, IndexQuery::JsonApi { .. }) => return Ok(None),
        _ if elsewhere => return root_answers(reader, query),
        404 => return root_answers(reader, query),
        401 | 403 => return Err(reader.unauthorized(url, resp.status)),
        s if !(200..300).contains(&s) => {
            return Err(IndexError::Unexpected {
                url,
                detail: format!("HTTP {s}"),
            });
        }
        _ => {}
    }
    let unexpected = |e: ListingError| IndexError::Unexpected {
        url: url.clone(),
        detail: e.to_string(),
    };
    let links = match query {
        IndexQuery::JsonApi { .. } => parse_json_api(&resp.text()).map_err(unexpected)?,
        IndexQuery::Simple { .. } => match simple_kind(&resp) {
            Some(Kind::Project) if is_json(&resp) => {
                parse_pep691(&resp.text()).map_err(unexpected)?
            }
            Some(Kind::Project) => parse_pep503(&resp.text()),
            _ => {
                return Err(IndexError::NotAListing {
                    url: query.root(),
                    detail: format!(
                        "{} answers, but not like a simple index's project page",
                        crate::net::describe_str(&url)
                    ),
                });
            }
        },
    };
    Ok(Some(Page {
        url: resp.url.to_string(),
        links,
    }))
}

/// After a 404 for the project's page: "not there yet" when the root
/// answers like a simple index, else this is no listing.
fn root_answers(reader: &Reader<'_>, query: &IndexQuery) -> Result<Option<Page>, IndexError> {
    let root = query.root();
    let answer = reader.get(&root, SIMPLE_ACCEPT)?;
    match answer.status {
        200..=299 if simple_kind(&answer) == Some(Kind::Root) => Ok(None),
        401 | 403 => Err(reader.unauthorized(root, answer.status)),
        200..=299 => Err(IndexError::NotAListing {
            url: root,
            detail: "the project's page is missing and the root does not answer \
                     like a simple index"
                .into(),
        }),
        s => Err(IndexError::NotAListing {
            url: root,
            detail: format!(
                "no project page here (HTTP 404, or sent to another host), and HTTP {s} for the root"
            ),
        }),
    }
}

fn is_json(resp: &Full) -> bool {
    resp.header("content-type")
        .is_some_and(|c| c.to_ascii_lowercase().contains("json"))
}

/// What a simple-index page is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The root: the list of projects.
    Root,
    /// One project's files.
    Project,
}

/// Which kind of simple-index page `resp` is, if it is one at all: PEP 691
/// JSON (`meta` with `projects` or `files`), or HTML that says so (PEP 629's
/// `pypi:repository-version` meta, a title with "simple" or "links for",
/// links to distribution files, or only links to project folders). A web
/// app answering every path with the same page is none.
fn simple_kind(resp: &Full) -> Option<Kind> {
    let body = resp.text();
    if is_json(resp) {
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        v.get("meta")?.get("api-version")?;
        return if v.get("files").is_some_and(|f| f.is_array()) {
            Some(Kind::Project)
        } else if v.get("projects").is_some_and(|p| p.is_array()) {
            Some(Kind::Root)
        } else {
            None
        };
    }
    html_kind(&body)
}

fn html_kind(body: &str) -> Option<Kind> {
    let lower = body.to_ascii_lowercase();
    let links = parse_pep503(body);
    let dist = |l: &Link| {
        let f = l.filename.to_ascii_lowercase();
        [".whl", ".tar.gz", ".zip", ".tar.bz2", ".tgz", ".egg"]
            .iter()
            .any(|e| f.ends_with(e))
    };
    if links.iter().any(dist) {
        return Some(Kind::Project);
    }
    let title = lower
        .find("<title")
        .and_then(|i| lower[i..].find('>').map(|j| i + j + 1))
        .and_then(|i| lower[i..].find("</title>").map(|j| &lower[i..i + j]))
        .unwrap_or("");
    if title.contains("links for") {
        return Some(Kind::Project);
    }
    let says_simple = lower.contains("pypi:repository-version") || title.contains("simple");
    let only_folders = !links.is_empty()
        && links
            .iter()
            .all(|l| !l.href.contains("://") && l.href.ends_with('/'));
    (says_simple || only_folders).then_some(Kind::Root)
}

fn failure(url: &str, f: Failure) -> IndexError {
    IndexError::Unreachable {
        url: crate::net::describe_str(url),
        reason: f.to_string(),
    }
}

/// A listed file's sha256, downloaded (files may live on another host, a
/// CDN: redirects are followed, the credentials kept to their origin).
fn download_sha256(reader: &Reader<'_>, url: &str) -> Result<String, IndexError> {
    let resp = reader
        .http
        .send_within(
            &reader.request(url),
            &reader.policy,
            crate::net::FILE_BODY_LIMIT,
        )
        .map_err(|f| failure(url, f))?;
    if !resp.is_success() {
        return Err(IndexError::Unexpected {
            url: url.to_owned(),
            detail: format!("HTTP {} downloading a listed file to hash it", resp.status),
        });
    }
    Ok(crate::digest::sha256_hex(&resp.body))
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

    /// The first candidate of an upload URL: its listing and layout.
    fn first(upload: &str) -> (String, String) {
        let c = candidates(upload).into_iter().next().unwrap();
        (c.query.root(), c.source.to_string())
    }

    #[test]
    fn the_layout_table() {
        let rows = [
            (
                "https://upload.pypi.org/legacy/",
                "https://pypi.org/pypi/",
                "PyPI layout",
            ),
            (
                "https://test.pypi.org/legacy/",
                "https://test.pypi.org/pypi/",
                "TestPyPI layout",
            ),
            (
                "http://127.0.0.1:8080/",
                "http://127.0.0.1:8080/simple/",
                "pypiserver layout",
            ),
            (
                "http://127.0.0.1:8080",
                "http://127.0.0.1:8080/simple/",
                "pypiserver layout",
            ),
            (
                "https://pypi.example.com/legacy/",
                "https://pypi.example.com/simple/",
                "warehouse layout",
            ),
            (
                "http://h:3141/alice/dev/",
                "http://h:3141/alice/dev/+simple/",
                "devpi layout",
            ),
            (
                "http://h:3141/alice/dev",
                "http://h:3141/alice/dev/+simple/",
                "devpi layout",
            ),
            (
                "https://acme.jfrog.io/artifactory/api/pypi/pypi-local",
                "https://acme.jfrog.io/artifactory/api/pypi/pypi-local/simple/",
                "Artifactory layout",
            ),
            (
                "https://nexus.acme.com/repository/pypi-hosted/",
                "https://nexus.acme.com/repository/pypi-hosted/simple/",
                "Nexus layout",
            ),
            (
                "https://gitlab.com/api/v4/projects/42/packages/pypi",
                "https://gitlab.com/api/v4/projects/42/packages/pypi/simple/",
                "GitLab layout",
            ),
            (
                "https://acme-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/team/",
                "https://acme-111122223333.d.codeartifact.eu-west-1.amazonaws.com/pypi/team/simple/",
                "CodeArtifact layout",
            ),
        ];
        for (upload, listing, layout) in rows {
            assert_eq!(first(upload), (listing.into(), layout.into()), "{upload}");
        }
        // PyPI names only its JSON API; others get the usual places after
        // their layout's, each once.
        assert_eq!(candidates("https://upload.pypi.org/legacy/").len(), 1);
        let all: Vec<String> = candidates("http://h:3141/alice/dev/")
            .iter()
            .map(|c| c.query.root())
            .collect();
        assert_eq!(
            all,
            [
                "http://h:3141/alice/dev/+simple/",
                "http://h:3141/alice/dev/simple/",
                "http://h:3141/simple/"
            ]
        );
        assert!(candidates("not a url").is_empty());
        let given = Candidate::given("http://h/x/+simple", Source::Flag);
        assert_eq!(given.query.root(), "http://h/x/+simple/");
        assert_eq!(given.source.to_string(), "--check-url");
    }

    #[test]
    fn what_answers_like_a_simple_index() {
        // pypiserver's and devpi's roots, empty or not; PEP 691 JSON.
        let pypiserver = "<!DOCTYPE html><html><head><title>Simple Index</title></head><body><h1>Simple Index</h1></body></html>";
        assert_eq!(html_kind(pypiserver), Some(Kind::Root));
        let devpi = "<html><head><title>alice/dev: simple list (including inherited indices)</title></head><body><a href=\"mult-agentes/\">mult-agentes</a></body></html>";
        assert_eq!(html_kind(devpi), Some(Kind::Root));
        assert_eq!(
            html_kind("<html><body><a href='a/'>a</a><a href='/simple/b/'>b</a></body></html>"),
            Some(Kind::Root)
        );
        assert_eq!(
            html_kind(
                "<html><head><meta name=\"pypi:repository-version\" content=\"1.1\"></head><body></body></html>"
            ),
            Some(Kind::Root)
        );
        let page = format!(
            "<html><body><a href=\"../../f/x-1.tar.gz#sha256={H1}\">x-1.tar.gz</a></body></html>"
        );
        assert_eq!(html_kind(&page), Some(Kind::Project));
        assert_eq!(
            html_kind("<html><head><title>Links for x</title></head><body></body></html>"),
            Some(Kind::Project)
        );
        // A welcome page, a login page, a web app's shell: none.
        let welcome = "<html><head><title>Welcome to pypiserver!</title></head><body><p>This is a PyPI compatible package index. <a href=\"https://pypi.org/project/pypiserver/\">pypiserver</a></p></body></html>";
        assert_eq!(html_kind(welcome), None);
        assert_eq!(
            html_kind(
                "<html><head><title>Sign in</title><script src=\"app.js\"></script></head><body><div id=app></div></body></html>"
            ),
            None
        );
        assert_eq!(html_kind(""), None);
    }

    #[test]
    fn a_password_refusal_gets_the_layouts_advice() {
        let devpi = candidates("http://h:3141/alice/dev/").remove(0);
        let hint = permission_hint(&devpi, "http://h:3141/alice/dev/", "bob").unwrap();
        assert!(
            hint.contains("acl_upload") && hint.contains("devpi index alice/dev acl_upload=bob"),
            "{hint}"
        );
        let given = Candidate::given("http://h/simple/", Source::Flag);
        assert_eq!(permission_hint(&given, "http://h/", "bob"), None);
    }

    #[test]
    fn a_devpi_listing_keeps_its_own_files() {
        let own = |url: &str| {
            own_prefix(&IndexQuery::Simple {
                url: url.to_owned(),
            })
        };
        assert_eq!(
            own("http://h:3141/alice/dev/+simple/").as_deref(),
            Some("/alice/dev/")
        );
        assert_eq!(
            own("https://h/devpi/alice/dev/+simple/").as_deref(),
            Some("/devpi/alice/dev/")
        );
        assert_eq!(own("http://h/simple/"), None);
        assert_eq!(own("http://h/+simple/"), None);
        assert_eq!(
            own_prefix(&IndexQuery::JsonApi {
                base: "https://pypi.org".into()
            }),
            None
        );
    }

    #[test]
    fn read_credentials_go_to_the_upload_origin_only() {
        let http = Blocking::new().unwrap();
        let auth = ReadAuth::basic(
            "http://h:8080/team/",
            "alice",
            &Secret::new("CANARYpw"),
            "TWINE_USERNAME and TWINE_PASSWORD",
        )
        .unwrap();
        let reader = Reader::new(&http, RetryPolicy::default(), Some(&auth));
        assert!(reader.auth_for("http://h:8080/simple/x/").is_some());
        assert!(reader.auth_for("http://h:8081/simple/x/").is_none());
        assert!(reader.auth_for("https://h:8080/simple/x/").is_none());
        assert!(reader.auth_for("http://files.h:8080/x.whl").is_none());
        let req = format!("{:?}", reader.request("http://h:8080/simple/x/"));
        assert!(
            req.contains("Authorization") && !req.contains("CANARY"),
            "{req}"
        );
        let e = reader.unauthorized("http://h:8080/simple/x/".into(), 401);
        assert!(
            e.to_string()
                .contains("with the credentials in TWINE_USERNAME and TWINE_PASSWORD"),
            "{e}"
        );
        let e = reader.unauthorized("http://other/simple/x/".into(), 401);
        assert!(e.to_string().contains("without credentials"), "{e}");
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
