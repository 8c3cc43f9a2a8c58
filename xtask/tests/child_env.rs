//! Secrets in our own environment never reach the external tools' children:
//! the package's import in the rehearsal's install check runs arbitrary
//! project code, and it must see no TWINE_PASSWORD, VSCE_PAT or HF_TOKEN.

mod support;

use std::path::Path;
use std::process::Command;

use testkit::python::workspace_root;

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            std::fs::copy(e.path(), dst).unwrap();
        }
    }
}

#[test]
fn the_package_import_sees_no_inherited_secret() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    copy_dir(
        &workspace_root().join("examples/mult-agentes/src"),
        &root.join("py/src"),
    );
    for f in ["pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"] {
        std::fs::copy(
            workspace_root().join("examples/mult-agentes").join(f),
            root.join("py").join(f),
        )
        .unwrap();
    }
    std::fs::copy(
        workspace_root().join("examples/mult-agentes/CHANGELOG.md"),
        root.join("CHANGELOG.md"),
    )
    .unwrap();
    // The package writes the environment it sees when imported.
    let dump = root.join("env-seen.txt");
    let init = root.join("py/src/mult_agentes/__init__.py");
    let code = std::fs::read_to_string(&init).unwrap();
    std::fs::write(
        &init,
        format!(
            "{code}\nimport os as _os\nwith open({:?}, 'a') as _f:\n    _f.write(repr(sorted(_os.environ.items())))\n",
            dump.display().to_string()
        ),
    )
    .unwrap();
    std::fs::write(
        root.join("release-kit.toml"),
        "[python]\npath = \"py\"\n[vscode]\nenabled = false\n",
    )
    .unwrap();

    let canaries = [
        ("TWINE_PASSWORD", "pypi-AgEIcHlwaS5vcmcCANARYchildenv1"),
        ("VSCE_PAT", "CANARYchildenv2vscepat"),
        ("HF_TOKEN", "hf_CANARYchildenv3"),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "CANARYchildenv4request"),
        ("SOME_SERVICE_TOKEN", "CANARYchildenv5other"),
    ];
    let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["--no-env-file", "--root"])
        .arg(root)
        .args(["release", "--rehearse"])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::var_os("HOME").unwrap_or_default())
        .env("RELEASE_KIT_CACHE_DIR", testkit::python::tool_cache())
        .envs(canaries)
        .output()
        .unwrap();
    let text = support::text(&out);
    assert!(out.status.success(), "{text}");
    let seen = std::fs::read_to_string(&dump).expect("the install check imported the package");
    assert!(
        seen.contains("'PATH'"),
        "the dump holds the environment: {seen}"
    );
    assert!(
        !seen.contains("CANARY"),
        "a secret reached the package's import:\n{seen}"
    );
    assert!(!text.contains("CANARY"), "{text}");
}
