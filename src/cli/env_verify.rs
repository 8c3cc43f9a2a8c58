//! `cargo xtask env verify [GROUP…]`

use anyhow::Context as _;
use clap::Args;
use release_kit::verify::{self, Group, Options, Status};

use release_kit::error::ExitClass;
use release_kit::step::CommandError;

use crate::cli::ctx::Ctx;

#[derive(Debug, Args)]
#[command(after_help = "\
Groups (a short name below, or the group's name in any case, e.g. \"Hugging Face\"):
  pypi        PyPI publishing: tokens read offline (index, scope, expiry); no upload
  anthropic   Anthropic API: GET /v1/models with x-api-key (spends no tokens)
  audit       Audit chain: AUDIT_HMAC_KEY not the dev default, >= 32 bytes, HMAC-SHA256 verifies
  dashboard   Dashboard: DASHBOARD_API_KEY accepted at DASHBOARD_URL, refused without it
  federation  Federation (or: redis): REDIS_URL connect (TLS: rediss://), AUTH, SELECT, PING
  otel        OpenTelemetry: gRPC takes a connection, or HTTP answers /v1/traces
  s3          AWS S3 Object Lock (or: aws): bucket, keys, COMPLIANCE retention in days
  vscode      VS Code Marketplace (or: vsce): vsce verify-pat, as vsce-verify runs it
  hf          Hugging Face: GET /api/whoami-v2, the account and the token's role
  deploy      Production deploy: ORG_DOMAIN resolves

Exit codes: 0 no configured check failed; 1 one did; 2 usage; 3 .env cannot be read.

Examples:
  cargo xtask env verify
  cargo xtask env verify hf redis --timeout 5
  cargo xtask env verify dashboard --dashboard-url https://agents.example.org/api/chat
  cargo xtask env verify --json")]
pub struct VerifyArgs {
    /// Groups to check (repeatable; default: every group). Groups whose
    /// variables are not set are reported as skipped.
    #[arg(value_name = "GROUP", value_parser = parse_group)]
    groups: Vec<Group>,
    /// Seconds each check may take; the checks run at the same time.
    #[arg(long, value_name = "SECS", default_value_t = verify::DEFAULT_TIMEOUT.as_secs(),
          value_parser = clap::value_parser!(u64).range(1..=600))]
    timeout: u64,
    /// The dashboard endpoint the key is sent to (default: DASHBOARD_URL,
    /// itself http://localhost:8000/api/chat when unset).
    #[arg(long, value_name = "URL")]
    dashboard_url: Option<String>,
}

fn parse_group(s: &str) -> Result<Group, String> {
    Group::parse(s).ok_or_else(|| {
        format!(
            "unknown group; expected one of: {}",
            Group::ALL
                .iter()
                .map(|g| g.slug())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

pub fn run(ctx: &Ctx, args: VerifyArgs) -> anyhow::Result<()> {
    let settings = ctx.settings()?;
    let project = ctx.project();
    let options = Options {
        timeout: std::time::Duration::from_secs(args.timeout),
        dashboard_url: args.dashboard_url,
    };
    let report = verify::run_blocking(settings, project, &args.groups, &options)
        .context("cannot start the checks' runtime")?;
    if ctx.global.json {
        ctx.json(&report)?;
    } else {
        let width = report
            .checks
            .iter()
            .map(|c| c.group.len())
            .max()
            .unwrap_or(0);
        for c in &report.checks {
            let status = match c.status {
                Status::Pass => "pass",
                Status::Fail => "FAIL",
                Status::Skipped => "skipped",
            };
            let mut lines = c.message.lines();
            let first = lines.next().unwrap_or_default();
            ctx.out(format!("{:width$}  {status:7}  {first}", c.group));
            for l in lines {
                ctx.out(format!("{:width$}           {l}", ""));
            }
            for w in &c.warnings {
                ctx.out(format!("{:width$}  warning  {w}", ""));
            }
        }
        let count = |s| report.checks.iter().filter(|c| c.status == s).count();
        ctx.info(format!(
            "{} passed, {} failed, {} skipped",
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Skipped)
        ));
    }
    if report.ok {
        Ok(())
    } else {
        Err(CommandError::reported(ExitClass::Findings).into())
    }
}
