//! `cargo xtask`: release-kit's command line. Argument parsing and printing
//! only; the work is done by the `release_kit` library.

mod ctx;
mod doctor;
mod env;
mod hf;

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
    /// Settings: status, checks, .env and .env.example, keys.
    #[command(subcommand)]
    Env(env::EnvCommand),
    /// Check the machine: .env hygiene and the external tools the steps use.
    Doctor(doctor::DoctorArgs),
    /// Pre-fetch Hugging Face models into the standard cache (verified,
    /// resumable, parallel), so that they load offline later.
    HfPrefetch(hf::HfArgs),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return ctx::usage_error(err),
    };
    let ctx = Ctx::new(cli.global);
    let result = match cli.command {
        Command::Env(cmd) => env::run(&ctx, cmd),
        Command::Doctor(args) => doctor::run(&ctx, args),
        Command::HfPrefetch(args) => hf::run(&ctx, args),
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
