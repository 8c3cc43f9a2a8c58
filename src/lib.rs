//! release-kit: ship a Python package, a VS Code extension and Hugging Face
//! models from one `cargo xtask`, with secrets kept out of every output.
//!
//! The library holds the logic; its `cli` module (the `cli` feature, on by
//! default) only parses arguments and prints, and a repository's `xtask`
//! is one call into it. Each step is a plain function over explicit inputs.

// The CLI names the library `release_kit::…`, as any other user does.
extern crate self as release_kit;

pub mod cache_dir;
pub mod changelog;
pub mod ci;
#[cfg(feature = "cli")]
pub mod cli;
pub mod config;
pub mod decode;
pub mod digest;
pub mod doctor;
pub mod envops;
pub mod error;
pub mod fsread;
pub mod hf;
pub mod hooks;
pub mod init;
pub mod members;
pub mod net;
pub mod pep440;
pub mod platform;
pub mod preflight;
pub mod pypi;
pub mod release;
pub mod repo;
pub mod scan;
pub mod secret;
pub mod settings;
pub mod step;
pub mod tools;
pub mod verify;
pub mod version;
pub mod vscode;
pub mod zip;

/// Exit code: a step failed.
pub const EXIT_FAILED: i32 = 1;
/// Exit code: usage error.
pub const EXIT_USAGE: i32 = 2;
/// Exit code: the up-front check failed and nothing was changed.
pub const EXIT_PREFLIGHT: i32 = 3;
