//! Shared helpers of the CLI tests (`mod support;`): the built CLI run with a
//! hermetic environment, a throw-away Python project (a copy of
//! examples/mult-agentes), and the text of a run.

#![allow(dead_code)]

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built xtask in `cwd` with only `env` (plus PATH and HOME, each
/// unless `env` sets it): no secret of the test's own environment is inherited.
pub fn xtask(cwd: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(cwd).env_clear().args(args);
    for k in ["PATH", "HOME"] {
        if let Some(v) = std::env::var_os(k) {
            cmd.env(k, v);
        }
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("xtask runs")
}

/// Stdout then stderr of a run, as text.
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Variables a developer's shell or a CI runner may carry that would change
/// what the CLI does.
const SCRUB: &[&str] = &[
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "TWINE_PASSWORD_TEST",
    "TWINE_REPOSITORY",
    "TWINE_REPOSITORY_URL",
    "GITHUB_ACTIONS",
    "GITHUB_REF_TYPE",
    "GITHUB_REF_NAME",
    "GITHUB_STEP_SUMMARY",
    "GITHUB_OUTPUT",
    "GITHUB_REPOSITORY",
    "GITHUB_WORKFLOW_REF",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "RELEASE_KIT_OIDC_URL",
    "RELEASE_KIT_USE_PATH_TOOLS",
];

/// Stdout of a run that must have succeeded (else the test fails with its
/// stderr).
pub fn ok_stdout(out: Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Stdout of the test Python running `code` (`-c`) with `args`, which must
/// succeed.
pub fn python<S: AsRef<OsStr>>(code: &str, args: impl IntoIterator<Item = S>) -> String {
    let py = testkit::python::test_python().unwrap();
    ok_stdout(
        Command::new(py)
            .arg("-c")
            .arg(code)
            .args(args)
            .output()
            .unwrap(),
    )
}

/// `xtask --no-env-file --root ROOT hf-prefetch` with a clean Hugging Face
/// environment: `endpoint` as HF_ENDPOINT, `cache` as HF_HUB_CACHE (and
/// HF_HOME inside it), `token` as HF_TOKEN.
pub fn hf_prefetch(endpoint: &str, cache: &Path, root: &Path, token: &str) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_xtask"));
    for k in [
        "HF_TOKEN",
        "HUGGING_FACE_HUB_TOKEN",
        "HF_HUB_OFFLINE",
        "HF_HOME",
        "HF_TOKEN_PATH",
        "HUGGINGFACE_HUB_CACHE",
        "GITHUB_ACTIONS",
    ] {
        c.env_remove(k);
    }
    c.env("HF_ENDPOINT", endpoint)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HOME", cache.join("hf-home"))
        .env("HF_TOKEN", token)
        .args(["--no-env-file", "--root"])
        .arg(root)
        .arg("hf-prefetch");
    c
}

/// A temporary folder holding these files (path relative to it, text).
pub fn folder_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let path = tmp.path().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    tmp
}

/// A project root in a temporary folder holding a copy of the example
/// package under `py/`.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let src = testkit::python::workspace_root().join("examples/mult-agentes");
        let py = dir.path().join("py");
        for f in [
            "pyproject.toml",
            "README.md",
            "LICENSE",
            "src/mult_agentes/__init__.py",
        ] {
            let to = py.join(f);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::copy(src.join(f), &to).unwrap();
        }
        std::fs::write(
            dir.path().join("release-kit.toml"),
            "[python]\npath = \"py\"\ndist = \"dist\"\n",
        )
        .unwrap();
        Project { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn dist(&self) -> PathBuf {
        self.root().join("dist")
    }

    /// Builds again after a change to the README: same file names, other
    /// bytes (the README is the long description of both files).
    pub fn rebuild_with_other_bytes(&self) {
        let readme = self.root().join("py/README.md");
        let mut text = std::fs::read_to_string(&readme).unwrap();
        text.push_str("\nA line added after the release.\n");
        std::fs::write(&readme, text).unwrap();
        self.xtask(&["build"], &[]).expect(0);
    }

    /// Runs `cargo xtask ARGS` at this root with `env` set and nothing else
    /// of ours inherited; no `.env` is read.
    pub fn xtask(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("--root")
            .arg(self.root())
            .arg("--no-env-file")
            .args(args)
            .current_dir(self.root())
            // Share the managed tool venv with every test: provisioned once.
            .env("RELEASE_KIT_CACHE_DIR", testkit::python::tool_cache());
        for k in SCRUB {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        Run(cmd.output().unwrap())
    }
}

/// A finished CLI run.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    pub fn all(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout(), self.stderr())
    }
    /// Panics unless the exit code is `code`.
    pub fn expect(self, code: i32) -> Run {
        assert_eq!(self.code(), code, "{}", self.all());
        self
    }
}

/// `cargo xtask ARGS` in a fixture project at `root`, as its maintainer
/// runs it: this machine's environment (its index settings are the
/// user's) without the publishing and GitHub Actions variables of the
/// test's own, the suite's shared tool cache, a fixed build timestamp (the
/// copies are not git repositories) and no `.env`; `env` is added.
pub fn in_project(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.arg("--no-env-file")
        .args(args)
        .current_dir(root)
        .env("RELEASE_KIT_CACHE_DIR", testkit::python::tool_cache())
        .env("SOURCE_DATE_EPOCH", "1700000000");
    for k in [
        "TWINE_PASSWORD",
        "TWINE_USERNAME",
        "RELEASE_KIT_USE_PATH_TOOLS",
        "SETUPTOOLS_SCM_PRETEND_VERSION",
        "GITHUB_ACTIONS",
        "GITHUB_STEP_SUMMARY",
        "GITHUB_OUTPUT",
    ] {
        cmd.env_remove(k);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run(cmd.output().unwrap())
}

/// Copies the git-tracked files of the workspace folder `rel`
/// (`examples/mult-agentes`) to `to`, keeping their layout.
pub fn copy_tracked(rel: &str, to: &Path) {
    let ws = testkit::python::workspace_root();
    let out = Command::new("git")
        .args(["ls-files", "-z", rel])
        .current_dir(&ws)
        .output()
        .unwrap();
    assert!(out.status.success());
    let listed = String::from_utf8(out.stdout).unwrap();
    let prefix = format!("{}/", rel.trim_end_matches('/'));
    for file in listed.split('\0').filter(|s| !s.is_empty()) {
        let dest = to.join(file.strip_prefix(&prefix).unwrap());
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::copy(ws.join(file), &dest).unwrap();
    }
}

/// Asserts `run` was refused because the index holds files of the same
/// names with other content, with the advice to bump the version.
pub fn assert_conflict(run: &Run) {
    let err = run.stderr();
    assert!(
        err.contains("already has a file of this name with other content"),
        "{}",
        run.all()
    );
    assert!(err.contains("bump the version"), "{}", run.all());
    assert!(!err.contains("uploading"), "{}", run.all());
}

/// Asserts `needle` appears in no file under `dir` (recursively).
pub fn assert_not_in_files(dir: &Path, needle: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_not_in_files(&path, needle);
        } else {
            let bytes = std::fs::read(&path).unwrap();
            let hay = String::from_utf8_lossy(&bytes);
            assert!(!hay.contains(needle), "secret found in {}", path.display());
        }
    }
}

/// A unique canary fragment for this test run.
pub fn canary(tag: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("CANARY{tag}{}x{nanos}", std::process::id())
}

/// Adds to `dir`'s release-kit.toml (written if missing) the example's
/// variables (this repository's `[[variables]]`): the settings tests'
/// project.
pub fn declare_example_variables(dir: &Path) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let text = std::fs::read_to_string(repo.join("release-kit.toml")).unwrap();
    let at = text
        .find("[[variables]]")
        .expect("the example declares variables");
    let file = dir.join("release-kit.toml");
    let before = std::fs::read_to_string(&file).unwrap_or_default();
    std::fs::write(&file, format!("{before}\n{}", &text[at..])).unwrap();
}

/// A throw-away folder that is a project declaring the example's
/// variables ([`declare_example_variables`]).
pub fn example_vars_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    declare_example_variables(dir.path());
    dir
}

/// The example's registry: this repository's release-kit.toml.
pub fn example_registry() -> release_kit::settings::Registry {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    release_kit::config::Project::load(repo)
        .unwrap()
        .registry()
        .unwrap()
}
