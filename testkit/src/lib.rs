//! Local stand-ins for release-kit's tests and benchmarks: nothing here
//! talks to the internet. Each stand-in speaks its protocol faithfully
//! enough that the real client (huggingface_hub, vsce, twine) accepts it.

pub mod anthropic;
pub mod dashboard;
pub mod fixtures;
pub mod github_actions;
pub mod hostile;
pub mod hub;
pub mod marketplace;
pub mod oidc;
pub mod otlp;
pub mod pypi_index;
pub mod python;
pub mod server;
