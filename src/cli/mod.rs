//! release-kit's command line (the `cli` feature, on by default): argument
//! parsing and printing only; the work is done by the library's modules.
//! A repository's `xtask/src/main.rs` is one call, [`main`]; `cargo install`
//! builds the same CLI as the `release-kit` binary ([`run_as`]).

mod build;
mod changelog;
mod ctx;
mod doctor;
mod env;
mod env_export;
mod env_verify;
mod hf;
mod hooks;
mod init;
mod publish;
mod release;
mod scan;
mod setup;
mod vsce;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

use ctx::{Ctx, GlobalArgs};

/// Ship the project to the places its users install it from: PyPI, the VS
/// Code Marketplace, and the Hugging Face cache. Every command checks all it
/// needs before its first side effect and never prints a secret.
///
/// Exit codes: 0 success; 1 a step failed; 2 usage error; 3 preflight
/// failed (a variable, tool or file is missing or invalid) and nothing was
/// changed anywhere.
#[derive(Debug, Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    version,
    max_term_width = 100
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Adopt release-kit: detect the project's packages, extension and
    /// changelog; write release-kit.toml, .env.example and .gitignore lines.
    Init(init::InitArgs),
    /// Settings: status, checks, .env and .env.example, keys.
    #[command(subcommand)]
    Env(env::EnvCommand),
    /// Check the machine: .env hygiene and the external tools the steps use.
    Doctor(doctor::DoctorArgs),
    /// Provision the pinned external tools (Python and Node) into the per-user cache.
    Setup(setup::SetupArgs),
    /// Build the Python packages (sdist + wheels) into dist/ and check them.
    ///
    /// Each package is built by the tool its pyproject.toml names
    /// (`build-backend = "maturin"`: maturin; `backend = "cibuildwheel"` in
    /// release-kit.toml: cibuildwheel; otherwise `python -m build`), and
    /// checked by `twine check --strict`. Files of other versions are
    /// removed from dist/; a native package's wheels for other platforms of
    /// the same version stay. Each wheel's tags are read back from its file
    /// name and its WHEEL metadata, and printed. On a GitHub Actions tag
    /// run, the tag must match the version.
    Build(build::BuildArgs),
    /// Upload dist/ to PyPI, TestPyPI or another index; safe to re-run.
    Publish(publish::PublishArgs),
    /// Check that VSCE_PAT (or Entra ID) may publish for the extension's publisher.
    VsceVerify(vsce::VerifyArgs),
    /// Check the extension's manifest, then package it into dist/<name>-<version>.vsix.
    VscePackage(vsce::PackageArgs),
    /// Publish the packaged .vsix to the Marketplace (and Open VSX when OVSX_PAT is set).
    VscePublish(vsce::PublishArgs),
    /// Pre-fetch Hugging Face models into the standard cache (verified,
    /// resumable, parallel), so that they load offline later.
    HfPrefetch(hf::HfArgs),
    /// Release everything in order, checked as a whole first; `--rehearse`
    /// runs it locally with no credentials and no internet.
    Release(release::ReleaseArgs),
    /// Print the release notes of one version from the changelog (for the
    /// GitHub release body).
    Changelog(changelog::ChangelogArgs),
    /// Find secrets in the working tree, the index (--staged) or the
    /// history: this project's credential formats and the values loaded
    /// from .env, plain, base64 or URL-encoded. Exit 1 on findings.
    Scan(scan::ScanArgs),
    /// The git pre-commit guard: `hooks install` / `hooks uninstall`.
    #[command(subcommand)]
    Hooks(hooks::HooksCommand),
}

/// The CLI as `cargo xtask`: what a repository's `xtask` binary calls.
pub fn main() -> ExitCode {
    run_as("cargo xtask")
}

/// The CLI under the name `name` in its help and usage lines (`cargo
/// xtask`, or `release-kit` for the installed binary).
pub fn run_as(name: &'static str) -> ExitCode {
    use clap::{CommandFactory as _, FromArgMatches as _};
    ctx::install_panic_hook();
    let parsed = Cli::command()
        .name(name)
        .bin_name(name)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(err) => return ctx::usage_error(err),
    };
    let ctx = Ctx::new(cli.global);
    let result = match cli.command {
        Command::Init(args) => init::run(&ctx, args),
        Command::Env(cmd) => env::run(&ctx, cmd),
        Command::Doctor(args) => doctor::run(&ctx, args),
        Command::Setup(args) => setup::run(&ctx, args),
        Command::Build(args) => build::run(&ctx, args),
        Command::Publish(args) => publish::run(&ctx, args),
        Command::VsceVerify(args) => vsce::run_verify(&ctx, args),
        Command::VscePackage(args) => vsce::run_package(&ctx, args),
        Command::VscePublish(args) => vsce::run_publish(&ctx, args),
        Command::HfPrefetch(args) => hf::run(&ctx, args),
        Command::Release(args) => release::run(&ctx, args),
        Command::Changelog(args) => changelog::run(&ctx, args),
        Command::Scan(args) => scan::run(&ctx, args),
        Command::Hooks(cmd) => hooks::run(&ctx, cmd),
    };
    ctx.finish(result)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory as _;

    #[test]
    fn cli_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
