//! uv as the engine of the pinned Python tools (issue 21): `setup` in an
//! empty cache makes the tools' environment with uv, `doctor` reports uv,
//! and without a reachable index the user's pip settings are honoured and
//! the fallback to pip is said in one clear line. No secret gets out.

use std::path::Path;
use std::process::{Command, Output};

const CANARY: &str = "pypi-AgEIcHlwaS5vcmcCANARYuvtools";

fn python_project(root: &Path) {
    std::fs::create_dir_all(root.join("py")).unwrap();
    std::fs::write(
        root.join("release-kit.toml"),
        "[python]\npath = \"py\"\n[vscode]\nenabled = false\n",
    )
    .unwrap();
}

fn xtask(root: &Path, cache: &Path, args: &[&str], env: &[(&str, &str)]) -> (Output, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["--no-env-file", "--root"])
        .arg(root)
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("RELEASE_KIT_CACHE_DIR", cache)
        .env("TWINE_PASSWORD", CANARY)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!text.contains("CANARY"), "a secret got out:\n{text}");
    (out, text)
}

#[test]
fn setup_makes_the_tools_environment_with_uv_and_doctor_reports_it() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, cache) = (tmp.path().join("p"), tmp.path().join("cache"));
    python_project(&root);
    let (out, text) = xtask(&root, &cache, &["setup"], &[]);
    assert!(out.status.success(), "{text}");
    assert!(
        !text.contains("falls back") && !text.contains("pip installs"),
        "{text}"
    );
    let venv = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .unwrap()
                    .to_string_lossy()
                    .starts_with("pypi-tools-")
        })
        .expect("the tools' environment in the cache");
    let cfg = std::fs::read_to_string(venv.join("pyvenv.cfg")).unwrap();
    assert!(cfg.contains("uv = 0.13.8"), "made by the pinned uv:\n{cfg}");
    let (out, text) = xtask(&root, &cache, &["doctor"], &[]);
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("uv (managed)"))
        .unwrap_or_else(|| panic!("doctor lists uv ({:?}):\n{text}", out.status));
    assert!(line.contains("uv 0.13.8"), "{line}");
}

#[test]
fn an_unreachable_pip_index_is_honoured_and_the_pip_fallback_said() {
    let tmp = tempfile::tempdir().unwrap();
    let (root, cache) = (tmp.path().join("p"), tmp.path().join("cache"));
    python_project(&root);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    // A mirror's credentials in the URL are a secret: never printed.
    let index = format!("http://mirror:CANARYmirrorpw@127.0.0.1:{port}/simple/");
    let (out, text) = xtask(
        &root,
        &cache,
        &["setup"],
        &[("PIP_INDEX_URL", &index), ("PIP_RETRIES", "0")],
    );
    assert!(!out.status.success(), "{text}");
    assert!(
        text.contains(
            "note: uv (uv==0.13.8) could not be provisioned, so pip installs the Python tools"
        ),
        "{text}"
    );
    assert!(text.contains("the package index is unreachable"), "{text}");
}
