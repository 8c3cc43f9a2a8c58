//! `release-kit`: the same command line as `cargo xtask`, installed as a
//! binary (`cargo install --path .`).

fn main() -> std::process::ExitCode {
    release_kit::cli::run_as("release-kit")
}
