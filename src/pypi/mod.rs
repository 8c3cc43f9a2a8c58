//! The Python release: build (sdist + wheel), and publish to PyPI, TestPyPI
//! or any index twine can upload to, safely re-runnable.
//!
//! [`publish::prepare`] checks everything up front (exit 3, no request
//! made); [`uploader::run`] then provisions tools, mints a token by trusted
//! publishing when there is no password, asks the index what it already
//! has, and uploads only what is missing.

pub mod backend;
pub mod build;
pub mod dist;
pub mod index;
pub mod listing;
pub mod maturin_dist;
pub mod native;
pub mod oidc;
pub mod package;
pub mod publish;
pub mod step;
pub mod twine_check;
pub mod upload;
mod uploader;
pub mod uv;
pub mod venv;
pub mod wheelhouse;

pub use venv::doctor_tools;

use crate::config::Project;
use crate::settings::Step;
use crate::tools::Echo;

/// `cargo xtask setup`: provisions the managed tool environment under
/// `target/` (pinned build, twine, pypiserver, passlib, and maturin or
/// cibuildwheel when a package needs them), or checks the tools on PATH
/// when `use-path-tools` is on. Reuses what is there; safe to run
/// concurrently (file lock).
pub fn setup(project: &Project, echo: Echo) -> Result<venv::Tools, venv::ToolsError> {
    let tools = venv::ensure(project, echo)?;
    for tool in venv::native_tools_used(project) {
        venv::ensure_native(project, &tools, tool, echo)?;
    }
    Ok(tools)
}

/// Where to publish.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// pypi.org
    Pypi,
    /// test.pypi.org
    TestPypi,
    /// Another index, by its upload URL.
    Custom {
        /// The upload URL twine posts to.
        url: String,
    },
}

impl Target {
    /// The URL twine uploads to.
    pub fn upload_url(&self) -> String {
        match self {
            Target::Pypi => "https://upload.pypi.org/legacy/".into(),
            Target::TestPypi => "https://test.pypi.org/legacy/".into(),
            Target::Custom { url } => url.clone(),
        }
    }

    /// The variable holding the password for this target.
    pub fn password_var(&self) -> &'static str {
        match self {
            Target::TestPypi => "TWINE_PASSWORD_TEST",
            _ => "TWINE_PASSWORD",
        }
    }

    /// Which of a package's token variables this target reads.
    pub fn token_slot(&self) -> crate::config::TokenIndex {
        match self {
            Target::TestPypi => crate::config::TokenIndex::TestPypi,
            _ => crate::config::TokenIndex::Pypi,
        }
    }

    /// The settings step whose variables this target needs.
    pub fn step(&self) -> Step {
        match self {
            Target::TestPypi => Step::PUBLISH_TESTPYPI,
            _ => Step::PUBLISH,
        }
    }

    /// The domain a token for this target names, for PyPI and TestPyPI.
    pub fn token_index(&self) -> Option<&'static str> {
        match self {
            Target::Pypi => Some("pypi.org"),
            Target::TestPypi => Some("test.pypi.org"),
            Target::Custom { .. } => None,
        }
    }

    /// The base URL of the trusted publishing endpoints (`/_/oidc/...`).
    pub fn default_oidc_base(&self) -> String {
        match self {
            Target::Pypi => "https://pypi.org".into(),
            Target::TestPypi => "https://test.pypi.org".into(),
            Target::Custom { url } => match crate::net::Url::parse(url) {
                Ok(u) => u.origin().ascii_serialization(),
                Err(_) => url.clone(),
            },
        }
    }

    /// A short name for messages.
    pub fn label(&self) -> String {
        match self {
            Target::Pypi => "PyPI".into(),
            Target::TestPypi => "TestPyPI".into(),
            // Never the user info, query or fragment of a private index's URL.
            Target::Custom { url } => crate::net::describe_str(url),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_targets_derive_their_urls() {
        let t = Target::Custom {
            url: "http://127.0.0.1:8080".into(),
        };
        assert_eq!(t.default_oidc_base(), "http://127.0.0.1:8080");
        assert_eq!(Target::TestPypi.password_var(), "TWINE_PASSWORD_TEST");
        assert_eq!(Target::Pypi.token_index(), Some("pypi.org"));
    }
}
