//! `cargo xtask`: release-kit's command line, as any repository adopts it.

fn main() -> std::process::ExitCode {
    release_kit::cli::main()
}
