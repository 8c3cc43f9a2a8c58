//! The `env` features that act on settings with the rest of the house:
//! `export` (to GitHub, Docker, systemd, Kubernetes; runs `gh`) and
//! `rotate` (asks the scanner where an old secret was exposed, and
//! `actions_logs` reads the Actions run logs it searches). They sit
//! above `settings` and `scan` so that `settings` depends only on `secret`
//! and the pure decoders.

pub mod actions_logs;
pub mod export;
pub mod rotate;
