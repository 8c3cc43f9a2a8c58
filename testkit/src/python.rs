//! The Python environment tests use: a virtual environment under
//! `target/test-venv` with the pinned packages of `testkit/requirements.txt`,
//! created on first use (under a lock, so parallel tests wait for one
//! install) and recreated when the requirements change.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context as _, bail};

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("testkit is in the workspace")
        .to_owned()
}

/// The `target/` folder tests may write to.
pub fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|p| {
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"))
}

/// The release-kit cache tests share (`RELEASE_KIT_CACHE_DIR` of the CLI
/// runs): its pinned tools are provisioned once for the whole suite, and
/// nothing lands in the developer's own `~/.cache`.
pub fn tool_cache() -> PathBuf {
    target_dir().join("release-kit-cache")
}

/// The Python interpreter of the test environment, creating it if needed.
pub fn test_python() -> anyhow::Result<PathBuf> {
    let requirements = workspace_root().join("testkit/requirements.txt");
    let venv = target_dir().join("test-venv");
    ensure_venv(&venv, &requirements)
}

/// Creates (or reuses) a venv at `venv` with `requirements` installed.
pub fn ensure_venv(venv: &Path, requirements: &Path) -> anyhow::Result<PathBuf> {
    let wanted = std::fs::read_to_string(requirements)
        .with_context(|| format!("reading {}", requirements.display()))?;
    let python = venv.join("bin/python");
    let stamp = venv.join(".requirements");
    std::fs::create_dir_all(venv.parent().unwrap())?;
    let lock = std::fs::File::create(venv.with_extension("lock"))?;
    lock.lock().context("locking the test venv")?;
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    let _ = std::fs::remove_dir_all(venv);
    let base = ["python3", "python"]
        .iter()
        .find_map(|p| which(p))
        .context("python3 not found on PATH")?;
    run(Command::new(base).args(["-m", "venv"]).arg(venv))?;
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "-q",
            "--disable-pip-version-check",
            "-r",
        ])
        .arg(requirements))?;
    std::fs::write(&stamp, wanted)?;
    Ok(python)
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

/// A free TCP port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
