//! What can go wrong in a prefetch, each case with the fix in its message.

use std::path::PathBuf;
use std::time::Duration;

const TOKEN_HOWTO: &str = "create a read token at https://huggingface.co/settings/tokens \
(Create new token, type: Read) and set HF_TOKEN in .env or the environment";

/// A prefetch failure. Messages never hold the token.
#[derive(Debug, thiserror::Error)]
pub enum HfError {
    /// 401/403 on a private or gated repository.
    #[error(
        "{repo}: access denied (HTTP {status}{gated}). {}",
        if *token_set {
            "HF_TOKEN is set but gives no access to this repository: accept the model's conditions on its Hub page with the token's account, or use a token of an account that has access".to_owned()
        } else {
            format!("The repository is private or gated, or does not exist, and HF_TOKEN is not set: {TOKEN_HOWTO}")
        },
        gated = if *gated { ", gated repository" } else { "" }
    )]
    NoAccess {
        /// The repository.
        repo: String,
        /// 401 or 403.
        status: u16,
        /// The Hub said `GatedRepo`.
        gated: bool,
        /// Whether a token was sent.
        token_set: bool,
    },
    /// The Hub refused the token itself.
    #[error(
        "{repo}: the Hub rejected HF_TOKEN (invalid credentials): the token is wrong, expired or revoked. {TOKEN_HOWTO}"
    )]
    InvalidToken {
        /// The repository.
        repo: String,
    },
    /// No such repository (or hidden from this token).
    #[error(
        "{repo}: repository not found on {endpoint}. Check the name in release-kit.toml [[hf.models]] or --model (ORG/NAME); a private repository also needs HF_TOKEN"
    )]
    RepoNotFound {
        /// The repository.
        repo: String,
        /// The Hub.
        endpoint: String,
    },
    /// The repository exists, the revision does not.
    #[error(
        "{repo}: revision '{revision}' not found (no such branch, tag or commit). Fix `revision` in release-kit.toml or the @REV of --model"
    )]
    RevisionNotFound {
        /// The repository.
        repo: String,
        /// The revision asked for.
        revision: String,
    },
    /// A listed file could not be found.
    #[error(
        "{repo}@{revision}: file '{path}' not found on the Hub although the tree listed it; re-run, and if it persists the repository changed under us"
    )]
    EntryNotFound {
        /// The repository.
        repo: String,
        /// The commit.
        revision: String,
        /// The file.
        path: String,
    },
    /// Rate limited beyond what retrying can wait for.
    #[error("{what}: rate limited by the Hub (HTTP 429){}", if *anonymous {
        format!(" while anonymous; anonymous downloads have low per-IP limits: {TOKEN_HOWTO}")
    } else {
        format!("; the Hub asked to wait {}s: re-run later", wait.as_secs())
    })]
    RateLimited {
        /// The request.
        what: String,
        /// No token was sent.
        anonymous: bool,
        /// What the Hub asked for.
        wait: Duration,
    },
    /// Any other HTTP status after the retries.
    #[error("{what}: HTTP {status}{}{}", if message.is_empty() { String::new() } else { format!(" ({message})") }, hint(*status))]
    Http {
        /// The request (no query string).
        what: String,
        /// Status code.
        status: u16,
        /// The Hub's X-Error-Message, if any.
        message: String,
    },
    /// The connection failed after the retries.
    #[error(
        "{what}: {reason} (after {attempts} attempts). Check the network and HF_ENDPOINT ({endpoint})"
    )]
    Network {
        /// The request (no query string).
        what: String,
        /// What failed.
        reason: String,
        /// Attempts made.
        attempts: u32,
        /// The Hub.
        endpoint: String,
    },
    /// A downloaded file does not hash to what the Hub listed.
    #[error(
        "{repo}: '{path}' failed verification: expected {algo} {expected}, got {actual}. The corrupt download was removed; re-run to download it again"
    )]
    Verify {
        /// The repository.
        repo: String,
        /// The file.
        path: String,
        /// `sha256` or `git-sha1`.
        algo: &'static str,
        /// From the tree listing.
        expected: String,
        /// Of the bytes received.
        actual: String,
    },
    /// The Hub answered something we cannot use.
    #[error("{what}: unexpected answer from the Hub: {detail}")]
    Protocol {
        /// The request.
        what: String,
        /// What was wrong.
        detail: String,
    },
    /// The Hub (or the cache) gave a name that cannot be a file name in
    /// the cache: a path leaving its folder, a blob id or commit that is
    /// not hex. Nothing was written for it.
    #[error(
        "{repo}: {source_} gave an unusable {what} {shown}: {why}. Nothing was written for it; {fix}",
        shown = super::names::shown(name),
        fix = if *from_cache {
            "delete that model's folder in the Hugging Face cache (HF_HUB_CACHE / HF_HOME) and fetch it again"
        } else {
            "check that HF_ENDPOINT is the Hub (or a faithful mirror); the repository's listing is not usable as it is"
        },
        source_ = if *from_cache { "the cache" } else { "the Hub" }
    )]
    BadName {
        /// The repository.
        repo: String,
        /// What the name is (`file path`, `blob id`, `commit`, …).
        what: &'static str,
        /// The name as received.
        name: String,
        /// What is wrong with it.
        why: super::names::Bad,
        /// Read from the local cache, not the Hub.
        from_cache: bool,
    },
    /// A file system operation failed.
    #[error("{}: {source}. Check that the Hugging Face cache folder is writable (HF_HUB_CACHE / HF_HOME)", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// Offline mode and files are missing.
    #[error(
        "offline (--offline or HF_HUB_OFFLINE): {} missing from the cache:\n{}\nrun `cargo xtask hf-prefetch` with network access first",
        if missing.len() == 1 { "1 item is".to_owned() } else { format!("{} items are", missing.len()) },
        missing.iter().map(|m| format!("  {m}")).collect::<Vec<_>>().join("\n")
    )]
    OfflineMissing {
        /// `repo: what` lines.
        missing: Vec<String>,
    },
    /// Several models failed.
    #[error("{}", errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))]
    Many {
        /// Every failure.
        errors: Vec<HfError>,
    },
}

fn hint(status: u16) -> &'static str {
    match status {
        500..=599 => ": the Hub is failing; re-run later (downloads resume)",
        416 => ": a partial download no longer fits the file; it was discarded, re-run",
        _ => "",
    }
}

impl HfError {
    /// Wraps an I/O error with its path.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> HfError {
        HfError::Io {
            path: path.into(),
            source,
        }
    }
}
