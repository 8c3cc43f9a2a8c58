//! `cargo xtask build`

use clap::Args;
use release_kit::pypi::native::Platform;
use release_kit::pypi::step::Build;

use crate::cli::ctx::Ctx;

/// `cargo xtask build`'s arguments (the help is on the command, in main.rs).
#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  cargo xtask build\n  cargo xtask build --package mult-agentes-native\n  cargo xtask build --package mult-agentes-native --target aarch64-unknown-linux-gnu --zig"
)]
pub struct BuildArgs {
    /// Build only this package (its [project] name); default: every package
    /// of release-kit.toml.
    #[arg(long, value_name = "NAME")]
    pub package: Option<String>,
    /// Build native wheels for this Rust target triple (default: this
    /// machine's); it must be installed (`rustup target add TRIPLE`).
    /// cibuildwheel packages get the matching --platform and --archs.
    #[arg(long, value_name = "TRIPLE")]
    pub target: Option<String>,
    /// The manylinux or musllinux tag of native Linux wheels (`2014`,
    /// `2_28`, `musllinux_1_2`); `off` gives `linux_*`, which PyPI refuses.
    /// Default: the lowest tag the build qualifies for.
    #[arg(long, value_name = "TAG|off")]
    pub manylinux: Option<String>,
    /// Link maturin wheels with zig (an older glibc, or a cross build
    /// without a cross linker); zig on PATH or `pip install ziglang`.
    #[arg(long)]
    pub zig: bool,
}

pub fn run(ctx: &Ctx, args: BuildArgs) -> anyhow::Result<()> {
    let (settings, project) = ctx.load()?;
    if !project.config.python.enabled {
        ctx.info(
            "no Python package to build: [python] enabled = false in release-kit.toml \
             (`cargo xtask vsce-package` packages the extension)",
        );
        return Ok(());
    }
    let tag = ctx.actions().and_then(|a| a.tag().map(str::to_owned));
    let platform = Platform {
        target: args.target,
        manylinux: args.manylinux,
        zig: args.zig,
    };
    let step = Build::new(tag).select(args.package, platform);
    let reports = ctx.run_step(&step, settings, &project)?;
    if ctx.global.json {
        return ctx.json(&serde_json::json!({ "packages": reports }));
    }
    ctx.info("twine check --strict: passed");
    let width = reports
        .iter()
        .flat_map(|r| &r.files)
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0);
    for report in &reports {
        for r in &report.removed {
            ctx.info(format!("removed stale {r}"));
        }
        for f in &report.files {
            ctx.out(format!(
                "{:width$}  {:>9} bytes  sha256 {}",
                f.name, f.size, f.sha256
            ));
        }
        for w in &report.wheels {
            ctx.out(format!(
                "  {} tags: {} (file name and WHEEL agree)",
                w.file,
                w.tags.join(" ")
            ));
        }
    }
    Ok(())
}
