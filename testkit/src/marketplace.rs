//! A local VS Code Marketplace (and Open VSX registry) that the real `vsce`
//! and `ovsx` talk to, through `VSCE_MARKETPLACE_URL` and `--registryUrl`.
//!
//! It speaks what vsce 3.9 sends through azure-devops-node-api:
//! `OPTIONS /_apis/<area>` location discovery (a list of resource
//! locations with route templates), the role-assignment GET of
//! `verify-pat`, and the gallery calls of `publish` (GET the extension with
//! its versions, POST a new extension, PUT a new version). Auth is HTTP
//! Basic, user `OAuth`, password the PAT: an unknown PAT gets 401 TF400813,
//! a PAT whose user is not a member of the publisher gets 403 "needs the
//! following permission(s)". Open VSX lives under `/openvsx`:
//! `POST /openvsx/api/-/publish?token=...`.
//!
//! Every request is recorded (method, path, Basic-auth password, body) and
//! every uploaded `.vsix` is kept, so tests can assert what arrived.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};

use crate::server::{Answer, Seen, Server};

/// The id azure-devops-node-api asks for in `securityroles`.
pub const ROLE_ASSIGNMENTS_ID: &str = "9461c234-c84c-4ed2-b918-2f0f92ad0a35";
/// `gallery` extensions by publisher and name (GET, PUT).
pub const EXTENSIONS_BY_NAME_ID: &str = "e11ea35a-16fe-4b80-ab11-c4cab88a0966";
/// `gallery` extensions (POST creates one).
pub const EXTENSIONS_ID: &str = "a41192c8-9525-4b58-bc86-179fa549d80d";

/// One request the stand-in received.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// The password of Basic auth (the PAT), when sent.
    pub basic_password: Option<String>,
    /// The body's length.
    pub body_len: usize,
    /// The status answered.
    pub status: u16,
}

/// A version stored by the stand-in.
#[derive(Clone, Debug)]
pub struct StoredVersion {
    /// The version.
    pub version: String,
    /// The uploaded bytes.
    pub vsix: Vec<u8>,
}

#[derive(Default)]
struct State {
    /// PAT -> publishers its user is a member of.
    pats: HashMap<String, Vec<String>>,
    /// (publisher, name) -> versions.
    extensions: HashMap<(String, String), Vec<StoredVersion>>,
    /// Open VSX token -> namespaces it may publish to.
    ovsx_tokens: HashMap<String, Vec<String>>,
    /// Open VSX (namespace, name) -> versions.
    ovsx_extensions: HashMap<(String, String), Vec<StoredVersion>>,
    requests: Vec<Recorded>,
}

/// The running stand-in; stops when dropped.
pub struct Marketplace {
    url: String,
    state: Arc<Mutex<State>>,
    _server: Server,
}

impl Marketplace {
    /// Starts on a free port of 127.0.0.1.
    pub fn start() -> Marketplace {
        let state = Arc::new(Mutex::new(State::default()));
        let st = state.clone();
        let server = Server::start("127.0.0.1:0", move |req| handle(req, st.clone()));
        Marketplace {
            url: server.url(),
            state,
            _server: server,
        }
    }

    /// The base URL, for `VSCE_MARKETPLACE_URL`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The Open VSX registry URL, for `--registryUrl`.
    pub fn open_vsx_url(&self) -> String {
        format!("{}/openvsx", self.url)
    }

    /// Accepts `pat`, whose user is a member of `publishers` (an empty list
    /// makes a valid PAT that may act for no publisher: 403).
    pub fn add_pat(&self, pat: &str, publishers: &[&str]) {
        self.state.lock().unwrap().pats.insert(
            pat.into(),
            publishers.iter().map(|p| p.to_string()).collect(),
        );
    }

    /// Accepts an Open VSX token for `namespaces`.
    pub fn add_ovsx_token(&self, token: &str, namespaces: &[&str]) {
        self.state.lock().unwrap().ovsx_tokens.insert(
            token.into(),
            namespaces.iter().map(|p| p.to_string()).collect(),
        );
    }

    /// Every request received so far.
    pub fn requests(&self) -> Vec<Recorded> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The versions of `publisher.name` on the Marketplace.
    pub fn versions(&self, publisher: &str, name: &str) -> Vec<StoredVersion> {
        self.state
            .lock()
            .unwrap()
            .extensions
            .get(&(publisher.into(), name.into()))
            .cloned()
            .unwrap_or_default()
    }

    /// The versions of `namespace.name` on Open VSX.
    pub fn ovsx_versions(&self, namespace: &str, name: &str) -> Vec<StoredVersion> {
        self.state
            .lock()
            .unwrap()
            .ovsx_extensions
            .get(&(namespace.into(), name.into()))
            .cloned()
            .unwrap_or_default()
    }
}

fn json(status: StatusCode, value: serde_json::Value) -> Answer {
    Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .body(Full::new(Bytes::from(value.to_string())))
        .expect("response")
}

fn vss_error(status: StatusCode, type_key: &str, message: &str) -> Answer {
    json(
        status,
        serde_json::json!({
            "$id": "1",
            "innerException": null,
            "message": message,
            "typeName": format!("Microsoft.VisualStudio.Services.{type_key}, Microsoft.VisualStudio.Services.WebApi"),
            "typeKey": type_key,
            "errorCode": 0,
            "eventId": 3000
        }),
    )
}

fn location(id: &str, area: &str, resource: &str, template: &str) -> serde_json::Value {
    serde_json::json!({
        "id": id,
        "area": area,
        "resourceName": resource,
        "routeTemplate": template,
        "resourceVersion": 2,
        "minVersion": "1.0",
        "maxVersion": "7.2",
        "releasedVersion": "0.0"
    })
}

fn basic_password(authorization: Option<&str>) -> Option<String> {
    let encoded = authorization?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    text.split_once(':').map(|(_, p)| p.to_owned())
}

async fn handle(req: Request<Incoming>, state: Arc<Mutex<State>>) -> Answer {
    let seen = Seen::read(req).await;
    let method = Method::from_bytes(seen.method.as_bytes()).unwrap_or(Method::GET);
    let password = basic_password(seen.header("authorization"));
    let answer = route(&method, &seen.path, password.as_deref(), &seen.body, &state);
    state.lock().unwrap().requests.push(Recorded {
        method: seen.method,
        path: seen.path,
        basic_password: password,
        body_len: seen.body.len(),
        status: answer.status().as_u16(),
    });
    answer
}

fn route(
    method: &Method,
    path_and_query: &str,
    password: Option<&str>,
    body: &[u8],
    state: &Mutex<State>,
) -> Answer {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    let segments: Vec<String> = path
        .trim_matches('/')
        .split('/')
        .map(percent_decode)
        .collect();
    let seg: Vec<&str> = segments.iter().map(String::as_str).collect();
    if seg.first() == Some(&"openvsx") {
        return open_vsx(method, &seg[1..], query, body, state);
    }
    if *method == Method::OPTIONS {
        return options(&seg);
    }
    let st = &mut *state.lock().unwrap();
    let Some(publishers) = password.and_then(|p| st.pats.get(p)).cloned() else {
        return vss_error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestException",
            "TF400813: The user '' is not authorized to access this resource.",
        );
    };
    let mine = |p: &str| publishers.iter().any(|x| x == p);
    match (method, seg.as_slice()) {
        (
            &Method::GET,
            [
                "_apis",
                "securityroles",
                "scopes",
                "gallery.publisher",
                "roleassignments",
                "resources",
                publisher,
            ],
        ) if mine(publisher) => json(StatusCode::OK, role_assignments()),
        (&Method::GET, ["_apis", "securityroles", .., publisher]) => {
            denied(publisher, "View user permissions on a resource")
        }
        (
            &Method::GET,
            [
                "_apis",
                "gallery",
                "publishers",
                publisher,
                "extensions",
                name,
            ],
        ) => {
            if !mine(publisher) {
                return denied(publisher, "Read extension");
            }
            extension(st, publisher, name)
        }
        (&Method::POST, ["_apis", "gallery", "extensions"])
        | (&Method::PUT, ["_apis", "gallery", "publishers", _, "extensions", _]) => {
            upload(*method == Method::POST, body, &publishers, st)
        }
        _ => vss_error(
            StatusCode::NOT_FOUND,
            "ResourceNotFoundException",
            &format!("No route for {method} {path}"),
        ),
    }
}

/// An extension's published versions, or the Marketplace's 404.
fn extension(st: &State, publisher: &str, name: &str) -> Answer {
    match st
        .extensions
        .get(&(publisher.to_string(), name.to_string()))
    {
        None => vss_error(
            StatusCode::NOT_FOUND,
            "ExtensionDoesNotExistException",
            &format!("Extension '{publisher}.{name}' does not exist."),
        ),
        Some(versions) => json(StatusCode::OK, published(publisher, name, versions)),
    }
}

/// The resource areas vsce asks for (`OPTIONS`): where each API lives.
fn options(seg: &[&str]) -> Answer {
    match seg {
        ["_apis", "securityroles"] => json(
            StatusCode::OK,
            serde_json::json!({"count": 1, "value": [location(
                ROLE_ASSIGNMENTS_ID,
                "securityroles",
                "roleassignments",
                "_apis/securityroles/scopes/{scopeId}/roleassignments/resources/{resourceId}/{identityId}",
            )]}),
        ),
        ["_apis", "gallery"] => json(
            StatusCode::OK,
            serde_json::json!({"count": 2, "value": [
                location(
                    EXTENSIONS_BY_NAME_ID,
                    "gallery",
                    "extensions",
                    "_apis/{area}/publishers/{publisherName}/{resource}/{extensionName}",
                ),
                location(EXTENSIONS_ID, "gallery", "extensions", "_apis/{area}/{resource}/{extensionId}"),
            ]}),
        ),
        _ => json(StatusCode::OK, serde_json::json!({"count": 0, "value": []})),
    }
}

/// The answer to a PAT that may not act on `publisher`.
fn denied(publisher: &str, permission: &str) -> Answer {
    vss_error(
        StatusCode::FORBIDDEN,
        "AccessCheckException",
        &format!(
            "Access Denied: 7d9e0c2e-4f35-4d5f-9d1e-2b0c1b8c4f11 needs the following permission(s) on \
             the resource /{publisher} to perform this action: {permission}"
        ),
    )
}

/// The role a PAT's user holds on a publisher it may publish for.
fn role_assignments() -> serde_json::Value {
    serde_json::json!({"count": 1, "value": [{
        "role": {
            "name": "Contributor",
            "displayName": "Contributor",
            "identifier": "gallery.publisher.contributor",
            "scope": "gallery.publisher",
            "allowPermissions": 7,
            "denyPermissions": 0,
            "description": "Can publish extensions"
        },
        "identity": {"displayName": "Test User", "id": "7d9e0c2e-4f35-4d5f-9d1e-2b0c1b8c4f11"},
        "access": "assigned",
        "accessDisplayName": "Assigned"
    }]})
}

/// A `.vsix` uploaded: `creating` a new extension (POST) or a version of
/// one that exists (PUT), as the Marketplace judges them.
fn upload(creating: bool, body: &[u8], publishers: &[String], st: &mut State) -> Answer {
    let Some(id) = vsix_identity(body) else {
        return vss_error(
            StatusCode::BAD_REQUEST,
            "InvalidPackageFormatException",
            "The extension package is not a valid VSIX (no extension.vsixmanifest).",
        );
    };
    if !publishers.contains(&id.publisher) {
        return denied(&id.publisher, "Publish extension");
    }
    let key = (id.publisher.clone(), id.name.clone());
    let exists = st.extensions.contains_key(&key);
    if creating && exists {
        return vss_error(
            StatusCode::CONFLICT,
            "ExtensionAlreadyExistsException",
            &format!("Extension '{}.{}' already exists.", id.publisher, id.name),
        );
    }
    if !creating && !exists {
        return vss_error(
            StatusCode::NOT_FOUND,
            "ExtensionDoesNotExistException",
            &format!("Extension '{}.{}' does not exist.", id.publisher, id.name),
        );
    }
    let versions = st.extensions.entry(key).or_default();
    if versions.iter().any(|v| v.version == id.version) {
        return vss_error(
            StatusCode::CONFLICT,
            "ExtensionVersionAlreadyExistsException",
            &format!(
                "Version {} of {}.{} already exists.",
                id.version, id.publisher, id.name
            ),
        );
    }
    versions.push(StoredVersion {
        version: id.version.clone(),
        vsix: body.to_vec(),
    });
    let v = versions.clone();
    json(StatusCode::OK, published(&id.publisher, &id.name, &v))
}

fn published(publisher: &str, name: &str, versions: &[StoredVersion]) -> serde_json::Value {
    serde_json::json!({
        "publisher": {"publisherName": publisher, "displayName": publisher},
        "extensionId": "5a1b6c1e-0000-4000-8000-000000000001",
        "extensionName": name,
        "displayName": name,
        "versions": versions.iter().rev().map(|v| serde_json::json!({"version": v.version})).collect::<Vec<_>>(),
    })
}

fn open_vsx(
    method: &Method,
    seg: &[&str],
    query: &str,
    body: &[u8],
    state: &Mutex<State>,
) -> Answer {
    let token = query
        .split('&')
        .find_map(|kv| kv.strip_prefix("token="))
        .map(percent_decode);
    let err = |status, msg: String| json(status, serde_json::json!({"error": msg}));
    let st = &mut *state.lock().unwrap();
    match (method, seg) {
        (&Method::POST, ["api", "-", "publish"]) => {
            let Some(namespaces) = token
                .as_deref()
                .and_then(|t| st.ovsx_tokens.get(t))
                .cloned()
            else {
                return err(StatusCode::FORBIDDEN, "Invalid access token.".into());
            };
            let Some(id) = vsix_identity(body) else {
                return err(
                    StatusCode::BAD_REQUEST,
                    "Invalid VSIX: no extension.vsixmanifest".into(),
                );
            };
            if !st
                .ovsx_tokens
                .values()
                .flatten()
                .any(|n| *n == id.publisher)
            {
                return err(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "Unknown publisher: {}\nUse the 'create-namespace' command to create a namespace corresponding to your publisher name.",
                        id.publisher
                    ),
                );
            }
            if !namespaces.contains(&id.publisher) {
                return err(
                    StatusCode::FORBIDDEN,
                    format!("Insufficient access rights for namespace: {}", id.publisher),
                );
            }
            let versions = st
                .ovsx_extensions
                .entry((id.publisher.clone(), id.name.clone()))
                .or_default();
            if versions.iter().any(|v| v.version == id.version) {
                return err(
                    StatusCode::BAD_REQUEST,
                    format!(
                        "Extension {}.{} {} is already published.",
                        id.publisher, id.name, id.version
                    ),
                );
            }
            versions.push(StoredVersion {
                version: id.version.clone(),
                vsix: body.to_vec(),
            });
            json(
                StatusCode::CREATED,
                serde_json::json!({
                    "namespace": id.publisher,
                    "name": id.name,
                    "version": id.version,
                    "targetPlatform": "universal"
                }),
            )
        }
        _ => err(StatusCode::NOT_FOUND, "Not found".into()),
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let Some(v) = std::str::from_utf8(&b[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
            continue;
        }
        out.push(if b[i] == b'+' { b' ' } else { b[i] });
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Publisher, name and version of a `.vsix`, from its `extension.vsixmanifest`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VsixIdentity {
    /// `Publisher`.
    pub publisher: String,
    /// `Id` (the extension's name).
    pub name: String,
    /// `Version`.
    pub version: String,
}

/// Reads the identity of a `.vsix` (a zip file).
pub fn vsix_identity(vsix: &[u8]) -> Option<VsixIdentity> {
    let xml = String::from_utf8(zip_entry(vsix, "extension.vsixmanifest")?).ok()?;
    let start = xml.find("<Identity ")?;
    let tag = &xml[start..start + xml[start..].find('>')?];
    let attr = |name: &str| {
        let key = format!(" {name}=\"");
        let i = tag.find(&key)? + key.len();
        Some(tag[i..i + tag[i..].find('"')?].to_owned())
    };
    Some(VsixIdentity {
        publisher: attr("Publisher")?,
        name: attr("Id")?,
        version: attr("Version")?,
    })
}

fn u16_at(b: &[u8], i: usize) -> Option<usize> {
    Some(u16::from_le_bytes(b.get(i..i + 2)?.try_into().ok()?) as usize)
}

fn u32_at(b: &[u8], i: usize) -> Option<usize> {
    Some(u32::from_le_bytes(b.get(i..i + 4)?.try_into().ok()?) as usize)
}

/// One file of a zip archive, by name (stored or deflated entries).
pub fn zip_entry(zip: &[u8], wanted: &str) -> Option<Vec<u8>> {
    let eocd = (0..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(&[0x50, 0x4b, 0x05, 0x06]))?;
    let count = u16_at(zip, eocd + 10)?;
    let mut at = u32_at(zip, eocd + 16)?;
    for _ in 0..count {
        if !zip.get(at..)?.starts_with(&[0x50, 0x4b, 0x01, 0x02]) {
            return None;
        }
        let method = u16_at(zip, at + 10)?;
        let compressed = u32_at(zip, at + 20)?;
        let (n, e, c) = (
            u16_at(zip, at + 28)?,
            u16_at(zip, at + 30)?,
            u16_at(zip, at + 32)?,
        );
        let local = u32_at(zip, at + 42)?;
        let name = zip.get(at + 46..at + 46 + n)?;
        if name == wanted.as_bytes() {
            let data_at = local + 30 + u16_at(zip, local + 26)? + u16_at(zip, local + 28)?;
            let data = zip.get(data_at..data_at + compressed)?;
            return match method {
                0 => Some(data.to_vec()),
                8 => miniz_oxide::inflate::decompress_to_vec(data).ok(),
                _ => None,
            };
        }
        at += 46 + n + e + c;
    }
    None
}
