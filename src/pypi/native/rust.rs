//! The Rust toolchain a maturin build needs, asked where the package
//! builds (its `rust-toolchain.toml` picks the toolchain) and never
//! installed by asking; and zig for `--zig`.

use std::path::Path;

use crate::config::Project;

/// The ziglang pin suggested for `--zig` (from PyPI: the zig toolchain as
/// a Python package, which maturin runs as `python3 -m ziglang`).
pub const ZIGLANG_PIN: &str = "ziglang==0.17.0";

pub(super) fn zig_found(project: &Project) -> bool {
    crate::tools::find_on_path("zig").is_some()
        || crate::pypi::venv::tools_python(project).is_some_and(|python| {
            python.exists() && crate::pypi::venv::has_module(&python, "ziglang")
        })
}

/// A shell for asking rustc and rustup about the toolchain that builds in
/// `dir`: run there (its `rust-toolchain.toml` picks the toolchain, as it
/// does for maturin's cargo), and with `RUSTUP_AUTO_INSTALL=0`: a check
/// must not download a toolchain.
fn rust_shell(dir: &Path) -> Option<xshell::Shell> {
    let sh = crate::tools::shell()?;
    sh.change_dir(dir);
    sh.set_var("RUSTUP_AUTO_INSTALL", "0");
    Some(sh)
}

/// What stops cargo from building the package in `dir` for `target` (the
/// host when `None`): no cargo or rustc, a toolchain not installed, a
/// triple rustc does not know, a target not installed.
pub fn rust_problems(dir: &Path, target: Option<&str>) -> Vec<String> {
    let install = "install Rust with rustup (https://rustup.rs), then run again";
    let mut out = Vec::new();
    for tool in ["cargo", "rustc"] {
        if crate::tools::find_on_path(tool).is_none() {
            out.push(format!(
                "{tool} was not found on PATH: maturin compiles the extension with it; {install}"
            ));
        }
    }
    if !out.is_empty() {
        return out;
    }
    // A rustup proxy with no toolchain behind it is no compiler.
    let Some(host) = host_triple(dir) else {
        out.push(format!(
            "rustc does not run in {} (`rustc -vV` failed: with rustup, no default toolchain, \
             or the toolchain a rust-toolchain.toml there names is not installed); \
             run `rustup default stable` or `rustup toolchain install` there, or check RUSTUP_HOME and CARGO_HOME",
            dir.display()
        ));
        return out;
    };
    let Some(target) = target else { return out };
    let installed = crate::tools::find_on_path("rustup").and_then(|rustup| {
        let sh = rust_shell(dir)?;
        crate::tools::captured(xshell::cmd!(sh, "{rustup} target list --installed"))
            .ignore_stderr()
            .read()
            .ok()
    });
    let known = rust_shell(dir).and_then(|sh| {
        crate::tools::captured(xshell::cmd!(sh, "rustc --print target-list"))
            .ignore_stderr()
            .read()
            .ok()
    });
    out.extend(target_problem(
        target,
        installed.as_deref(),
        Some(&host),
        known.as_deref(),
    ));
    out
}

/// This machine's Rust target triple (`rustc -vV`'s `host:`), when rustc
/// runs in `dir` (the toolchain building there).
pub fn host_triple(dir: &Path) -> Option<String> {
    let sh = rust_shell(dir)?;
    let out = crate::tools::captured(xshell::cmd!(sh, "rustc -vV"))
        .ignore_stderr()
        .read()
        .ok()?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
}

/// Whether `target` can be built: known to rustc (`known`: its target
/// list), and installed (`installed`: `rustup target list --installed`, or
/// `None` without rustup, when only the host is).
fn target_problem(
    target: &str,
    installed: Option<&str>,
    host: Option<&str>,
    known: Option<&str>,
) -> Option<String> {
    if let Some(known) = known
        && !known.lines().any(|l| l.trim() == target)
    {
        return Some(format!(
            "--target {target}: not a target rustc knows (rustc --print target-list); check the triple, e.g. aarch64-unknown-linux-gnu"
        ));
    }
    let present = match installed {
        Some(list) => list.lines().any(|l| l.trim() == target),
        None => host == Some(target),
    };
    (!present).then(|| {
        format!(
            "the Rust target {target} is not installed: run `rustup target add {target}`{}",
            if installed.is_none() {
                " (rustup was not found: install Rust with rustup, https://rustup.rs)"
            } else {
                ""
            }
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rust_targets() {
        let known = "x86_64-unknown-linux-gnu\naarch64-unknown-linux-gnu\n";
        let installed = "x86_64-unknown-linux-gnu\n";
        let host = Some("x86_64-unknown-linux-gnu");
        assert_eq!(
            target_problem(
                "x86_64-unknown-linux-gnu",
                Some(installed),
                host,
                Some(known)
            ),
            None
        );
        let e = target_problem(
            "aarch64-unknown-linux-gnu",
            Some(installed),
            host,
            Some(known),
        )
        .unwrap();
        assert!(
            e.contains("rustup target add aarch64-unknown-linux-gnu"),
            "{e}"
        );
        let e = target_problem("nonsense", Some(installed), host, Some(known)).unwrap();
        assert!(e.contains("not a target rustc knows"), "{e}");
        // Without rustup only the host's target is there.
        assert_eq!(
            target_problem("x86_64-unknown-linux-gnu", None, host, Some(known)),
            None
        );
        let e = target_problem("aarch64-unknown-linux-gnu", None, host, Some(known)).unwrap();
        assert!(e.contains("rustup was not found"), "{e}");
    }

    #[test]
    fn rust_is_asked_in_the_package_folder_without_installing() {
        // cargo run through rustup sets RUSTUP_TOOLCHAIN, which outranks a
        // rust-toolchain.toml: the test runs again in a child without it
        // (and without a RUSTUP_AUTO_INSTALL of this machine's).
        const INNER: &str = "RELEASE_KIT_TEST_RUST_DIR";
        if std::env::var_os(INNER).is_none() {
            let name =
                "pypi::native::rust::tests::rust_is_asked_in_the_package_folder_without_installing";
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", name, "--test-threads=1"])
                .env(INNER, "1")
                .env_remove("RUSTUP_TOOLCHAIN")
                .env_remove("RUSTUP_AUTO_INSTALL")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("1 passed"),
                "{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        assert!(
            host_triple(tmp.path()).is_some(),
            "rustc runs (this test needs it)"
        );
        let sh = rust_shell(tmp.path()).unwrap();
        assert_eq!(sh.current_dir(), tmp.path());
        assert_eq!(sh.var("RUSTUP_AUTO_INSTALL").unwrap(), "0");
        if crate::tools::find_on_path("rustup").is_none() {
            return; // A rustc without rustup reads no rust-toolchain.toml.
        }
        // A toolchain nobody has: rustup must neither use another one nor
        // download it.
        std::fs::write(
            tmp.path().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"1.0.0\"\n",
        )
        .unwrap();
        assert_eq!(host_triple(tmp.path()), None);
        let problems = rust_problems(tmp.path(), None);
        assert!(
            problems.len() == 1 && problems[0].contains("rustup toolchain install"),
            "{problems:?}"
        );
    }
}
