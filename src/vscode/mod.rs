//! The VS Code extension: `vsce-verify`, `vsce-package`, `vsce-publish`.
//!
//! The real `vsce` (and `ovsx` for Open VSX) does the work; this module
//! checks everything up front, hands the token to the child only through
//! its environment (`VSCE_PAT`, `OVSX_PAT`), and turns the tool's failures
//! into causes with a fix.

pub mod manifest;
pub mod npm;
pub mod package;
pub mod prepublish;
pub mod publish;
pub mod step;
pub mod verify;

use serde::Serialize;

pub use npm::doctor_tools;

use crate::config::Project;
use crate::error::IoError;
use crate::preflight::Preflight;
use crate::secret::Secret;
use crate::settings::Settings;
use crate::step::StepError;
use crate::tools::{Child, ChildError, Output};

/// `cargo xtask setup`: checks Node and installs the pinned vsce and ovsx
/// into the per-user cache (a no-op when they are there, or when
/// `[vscode] use-path-tools = true` and vsce is on PATH).
pub fn setup(project: &Project, log: &dyn Fn(&str)) -> Result<npm::NodeTools, StepError> {
    let mut pre = Preflight::new();
    npm::check(project, false, &mut pre);
    pre.finish()?;
    Ok(npm::ensure(project, log)?)
}

/// How vsce authenticates to the Marketplace.
#[derive(Clone, Debug)]
pub enum Auth {
    /// An Azure DevOps personal access token, from VSCE_PAT.
    Pat(Secret),
    /// Microsoft Entra ID (`--azure-credential`): vsce gets a token from the
    /// DefaultAzureCredential chain (Azure CLI login, workload identity...).
    AzureCredential,
}

impl Auth {
    /// For messages and JSON.
    pub fn describe(&self) -> &'static str {
        match self {
            Auth::Pat(_) => "VSCE_PAT",
            Auth::AzureCredential => "Microsoft Entra ID (--azure-credential)",
        }
    }

    /// Adds the authentication to a vsce command: the PAT into its
    /// environment only, or the `--azure-credential` flag. With Entra ID
    /// VSCE_PAT is removed, since vsce would prefer it over the flag.
    pub fn apply(&self, child: Child) -> Child {
        match self {
            Auth::Pat(pat) => child.secret_env("VSCE_PAT", pat),
            Auth::AzureCredential => child.arg("--azure-credential").env_remove("VSCE_PAT"),
        }
    }
}

/// How VSCE_PAT is obtained, for messages.
pub const PAT_HOWTO: &str = "create one at dev.azure.com -> User settings -> Personal access tokens -> New token, \
Organization: \"All accessible organizations\", Scopes: Custom defined -> Marketplace -> Manage; \
put it in VSCE_PAT (.env locally, a repository secret in CI). Global PATs stop working on 2026-12-01: \
to use Microsoft Entra ID instead, set `[vscode] azure-credential = true` in release-kit.toml \
(vsce publish --azure-credential; sign in with `az login`, or azure/login in GitHub Actions)";

/// The authentication the configuration chooses, checked: with
/// `[vscode] azure-credential = true` Entra ID (VSCE_PAT not needed),
/// otherwise VSCE_PAT must be set and non-blank.
pub fn auth(project: &Project, settings: &Settings, pre: &mut Preflight) -> Option<Auth> {
    if project.config.vscode.azure_credential {
        return Some(Auth::AzureCredential);
    }
    match settings.explicit("VSCE_PAT") {
        Some(pat) if !pat.is_blank() => Some(Auth::Pat(pat.clone())),
        _ => {
            let empty = settings.get("VSCE_PAT").is_some();
            pre.problem(format!(
                "VSCE_PAT: {}; vsce would otherwise send a literal `y` as the token (it answers its own prompt \
                 when not on a terminal) and fail with a baffling TF400813.\n\
                 fix: {PAT_HOWTO}",
                if empty { "is set but empty" } else { "is not set" }
            ));
            None
        }
    }
}

/// A non-secret setting from `.env` or the process environment
/// (VSCE_MARKETPLACE_URL, OVSX_REGISTRY_URL are not in the registry).
pub fn setting(settings: &Settings, name: &str) -> Option<String> {
    settings
        .get(name)
        .map(|e| e.value.expose().to_owned())
        .or_else(|| std::env::var(name).ok())
        .filter(|v| !v.trim().is_empty())
}

/// The Marketplace vsce talks to.
pub fn marketplace_url(settings: &Settings) -> Option<String> {
    setting(settings, "VSCE_MARKETPLACE_URL")
}

/// The default Marketplace.
pub const MARKETPLACE: &str = "https://marketplace.visualstudio.com";

/// Settings every vsce/ovsx child gets: the Marketplace URL when it came
/// from `.env` (children inherit only the process environment), and no
/// token that the command does not need.
pub(crate) fn base_child(child: Child, settings: &Settings) -> Child {
    let mut c = child.env_remove("VSCE_PAT").env_remove("OVSX_PAT");
    if let Some(url) = marketplace_url(settings) {
        c = c.env("VSCE_MARKETPLACE_URL", url);
    }
    c
}

/// Why a vsce or ovsx run failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Cause {
    /// 401: the token is not accepted.
    Unauthorized,
    /// 403: valid token without the scope or the publisher membership.
    Forbidden,
    /// The server could not be reached.
    Network,
    /// `--azure-credential` found no Entra ID identity.
    AzureCredential,
    /// A semver pre-release version.
    PreReleaseVersion,
    /// `--pre-release` with a package that was not packaged as one.
    NotPreReleasePackage,
    /// Open VSX: the namespace does not exist.
    UnknownNamespace,
    /// Anything else.
    Other,
}

/// Why a vsce/ovsx step failed after its check.
#[derive(Debug, thiserror::Error)]
pub enum VsceError {
    /// A file could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A tool could not be started.
    #[error(transparent)]
    Child(#[from] ChildError),
    /// A tool is missing, or could not be installed or run; the message
    /// says what to do.
    #[error("{0}")]
    Tool(String),
    /// vsce or ovsx ran and failed: the cause, explained.
    #[error(transparent)]
    Failure(#[from] ToolFailure),
}

impl From<VsceError> for StepError {
    fn from(e: VsceError) -> StepError {
        StepError::cause(e)
    }
}

/// A failed vsce/ovsx run, explained.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ToolFailure {
    /// The cause found in the tool's output.
    pub cause: Cause,
    /// What happened, why, and what to do (already redacted).
    pub message: String,
}

/// The cause of a failure, from the tool's own words.
pub fn classify(text: &str) -> Cause {
    let t = text.to_ascii_lowercase();
    let any = |words: &[&str]| words.iter().any(|w| t.contains(&w.to_ascii_lowercase()));
    if any(&[
        "microsoft entra id access token",
        "defaultazurecredential",
        "credentialunavailableerror",
    ]) {
        Cause::AzureCredential
    } else if any(&[
        "econnrefused",
        "enotfound",
        "etimedout",
        "econnreset",
        "eai_again",
        "socket hang up",
        "getaddrinfo",
        "unable to verify the first certificate",
        "self-signed certificate",
        "self signed certificate",
        "unable_to_get_issuer",
    ]) {
        Cause::Network
    } else if any(&["doesn't support prerelease versions"]) {
        Cause::PreReleaseVersion
    } else if any(&["was not packaged as pre-release"]) {
        Cause::NotPreReleasePackage
    } else if any(&[
        "needs the following permission",
        "access denied",
        "failed request: (403)",
        "insufficient access rights",
        "forbidden(403)",
    ]) {
        Cause::Forbidden
    } else if any(&[
        "tf400813",
        "failed request: (401)",
        "unauthorized(401)",
        "personal access token used has expired",
        "invalid resource",
        "invalid access token",
        "status 401",
    ]) {
        Cause::Unauthorized
    } else if any(&[
        "unknown publisher",
        "create-namespace",
        "namespace does not exist",
    ]) {
        Cause::UnknownNamespace
    } else {
        Cause::Other
    }
}

/// The error text of a tool's output: vsce prints ` ERROR  msg` on stderr,
/// or `::error::msg` on stdout under GitHub Actions; ovsx prints `❌  msg`.
/// Falls back to the last lines of both streams.
pub fn error_text(out: &Output) -> String {
    let mut lines = Vec::new();
    let mut in_error = false;
    for raw in out.stdout.lines().chain(out.stderr.lines()) {
        let line = strip_ansi(raw);
        let l = line.trim();
        if let Some(msg) = l.strip_prefix("::error::") {
            lines.push(unescape_actions(msg));
            in_error = false;
        } else if let Some(msg) = l.strip_prefix("ERROR") {
            lines.push(msg.trim().to_owned());
            in_error = true;
        } else if let Some(msg) = l.strip_prefix('\u{274c}') {
            lines.push(msg.trim().to_owned());
            in_error = true;
        } else if in_error && !l.is_empty() {
            lines.push(l.to_owned());
        }
    }
    if lines.is_empty() {
        return crate::tools::tail(&strip_ansi(&out.combined()), 12);
    }
    lines.join("\n").trim().to_owned()
}

fn unescape_actions(s: &str) -> String {
    s.replace("%0A", "\n")
        .replace("%0D", "\r")
        .replace("%25", "%")
}

fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Where a failure happened, for the explanation.
#[derive(Clone, Debug)]
pub struct FailureContext<'a> {
    /// `Marketplace` or `Open VSX`.
    pub service: &'a str,
    /// Its URL.
    pub url: &'a str,
    /// The publisher (Open VSX: namespace).
    pub publisher: &'a str,
    /// The authentication used.
    pub auth: &'a str,
}

/// A failure with its cause and what to do about it.
pub fn explain(what: &str, out: &Output, cx: &FailureContext<'_>) -> ToolFailure {
    let detail = error_text(out);
    let cause = classify(&detail);
    let FailureContext {
        service,
        url,
        publisher,
        auth,
    } = cx;
    let why = match (cause, *service) {
        (Cause::Unauthorized, "Open VSX") => format!(
            "Open VSX at {url} refused OVSX_PAT: it is invalid, expired or revoked. Generate a new token at \
             https://open-vsx.org/user-settings/tokens and put it in OVSX_PAT."
        ),
        (Cause::Unauthorized, _) => format!(
            "the {service} at {url} refused the credentials ({auth}): 401 / TF400813 means the token is expired, \
             revoked or mistyped, or is a global PAT that Azure DevOps retired (creation stopped on 2026-03-15; \
             every global PAT stops working on 2026-12-01).\nfix: {PAT_HOWTO}"
        ),
        (Cause::Forbidden, "Open VSX") => format!(
            "Open VSX at {url} accepted OVSX_PAT but its user may not publish to namespace '{publisher}': \
             ask a namespace owner to add you (https://open-vsx.org/user-settings/namespaces)."
        ),
        (Cause::Forbidden, _) => format!(
            "the {service} at {url} accepted the credentials ({auth}) but they may not act for publisher \
             '{publisher}' (403, \"needs the following permission(s)\"). Either the PAT lacks the scope \
             Marketplace -> Manage, or was made for one organization instead of \"All accessible organizations\" \
             (edit it at dev.azure.com -> User settings -> Personal access tokens), or its user is not a member \
             of the publisher: ask an owner to add it at {MARKETPLACE}/manage/publishers/{publisher} \
             (Members, role Contributor or higher)."
        ),
        (Cause::Network, _) => format!(
            "cannot reach the {service} at {url}: check the network and proxy settings (HTTPS_PROXY), \
             and VSCE_MARKETPLACE_URL / OVSX_REGISTRY_URL if set; then run the command again."
        ),
        (Cause::AzureCredential, _) => "vsce found no Microsoft Entra ID identity (--azure-credential): \
             sign in with `az login` locally, or in GitHub Actions run azure/login with a federated \
             credential (OIDC) before this step; the identity must be a member of the publisher. \
             Or set `[vscode] azure-credential = false` and use VSCE_PAT."
            .to_owned(),
        (Cause::PreReleaseVersion, _) => "the Marketplace rejects semver pre-release versions: use a plain \
             X.Y.Z version and the --pre-release flag."
            .to_owned(),
        (Cause::NotPreReleasePackage, _) => "the .vsix was not packaged as a pre-release: run \
             `cargo xtask vsce-package --pre-release` and publish again with --pre-release."
            .to_owned(),
        (Cause::UnknownNamespace, _) => format!(
            "the namespace '{publisher}' does not exist on Open VSX at {url}: create it once with \
             `npx ovsx create-namespace {publisher}` (OVSX_PAT in the environment), then publish again."
        ),
        (Cause::Other, _) => format!("{what} failed ({}); its output is above.", out.status),
    };
    ToolFailure {
        cause,
        message: format!("{what} failed: {detail}\n\n{why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(stdout: &str, stderr: &str) -> Output {
        // Exit code 1: a wait status on Unix, the code itself on Windows.
        #[cfg(unix)]
        let status = {
            use std::os::unix::process::ExitStatusExt as _;
            std::process::ExitStatus::from_raw(256)
        };
        #[cfg(windows)]
        let status = {
            use std::os::windows::process::ExitStatusExt as _;
            std::process::ExitStatus::from_raw(1)
        };
        Output {
            status,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn causes_from_vsce_messages() {
        assert_eq!(
            classify(
                "The Personal Access Token verification has failed. Additional information:\n\nTF400813: The user '' is not authorized"
            ),
            Cause::Unauthorized
        );
        assert_eq!(
            classify("Access Denied: x needs the following permission(s) on the resource p"),
            Cause::Forbidden
        );
        assert_eq!(classify("connect ECONNREFUSED 127.0.0.1:9"), Cause::Network);
        assert_eq!(
            classify("Can not acquire a Microsoft Entra ID access token. Additional information:"),
            Cause::AzureCredential
        );
        assert_eq!(classify("something odd"), Cause::Other);
    }

    #[test]
    fn error_text_on_both_streams() {
        let plain = output("", "\u{1b}[41m ERROR \u{1b}[49m Failed request: (401)\n");
        assert_eq!(error_text(&plain), "Failed request: (401)");
        let actions = output(
            "::error::The Personal Access Token verification has failed. Additional information:%0A%0ATF400813: x\n",
            "",
        );
        let t = error_text(&actions);
        assert!(
            t.contains("verification has failed") && t.contains("\n\nTF400813"),
            "{t}"
        );
        let cx = FailureContext {
            service: "Marketplace",
            url: "http://x",
            publisher: "p",
            auth: "VSCE_PAT",
        };
        let f = explain("vsce verify-pat", &actions, &cx);
        assert_eq!(f.cause, Cause::Unauthorized);
        assert!(f.message.contains("2026-12-01") && f.message.contains("azure-credential"));
    }
}
