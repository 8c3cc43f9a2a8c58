//! `cargo xtask release` end to end, with the real tools (python -m build,
//! twine, pip, pypiserver, vsce) against local stand-ins (testkit's
//! pypiserver and Marketplace): the rehearsal from a fresh clone; every
//! variable, tool and version mismatch caught up front (exit 3, nothing
//! sent anywhere); a release that fails after the upload and completes when
//! run again; the GitHub Actions output with no secret in it; the dry run;
//! an interrupted rehearsal that cleans up.
//!
//! Each run gets a cleared environment (PATH, HOME and what the test sets,
//! so no real credential or GITHUB_* variable leaks in), its own project
//! (a copy of examples/mult-agentes) and its own target folder, whose tool
//! folders link to the workspace's provisioned ones.

// Unix only (its tool stand-ins are sh scripts, shared tool folders are symlinks and the interrupt is a SIGINT); the
// Windows behaviour is covered by the library's unit tests.
#![cfg(unix)]

mod support;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant, SystemTime};

use release_kit::decode::pypi_token::build_test_token;
use testkit::marketplace::Marketplace;
use testkit::pypi_index::PypiServer;
use testkit::python::{tool_cache, workspace_root};

const PUBLISHER: &str = "mult-agentes";
const EXTENSION: &str = "mult-agentes";
const SDIST: &str = "mult_agentes-0.1.0.tar.gz";
const WHEEL: &str = "mult_agentes-0.1.0-py3-none-any.whl";
const VSIX: &str = "mult-agentes-0.1.0.vsix";

fn real_path() -> String {
    std::env::var("PATH").unwrap_or_default()
}

/// A unique canary fragment.
fn canary(tag: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("CANARY{tag}{}x{nanos}", std::process::id())
}

/// The suite's release-kit cache with the managed tools provisioned
/// (`cargo xtask setup`: a no-op when they are there), once per test binary.
fn shared_target() -> &'static Path {
    static SHARED: OnceLock<PathBuf> = OnceLock::new();
    SHARED.get_or_init(|| {
        let shared = tool_cache();
        let out = Command::new(env!("CARGO_BIN_EXE_xtask"))
            .arg("--no-env-file")
            .arg("--root")
            .arg(workspace_root())
            .arg("setup")
            .env("RELEASE_KIT_CACHE_DIR", &shared)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "cargo xtask setup:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::create_dir_all(shared.join("wheelhouse")).unwrap();
        // The native example's cargo folder too: pyo3 compiles once.
        std::fs::create_dir_all(shared.join("cargo")).unwrap();
        shared
    })
}

/// A release-kit cache of its own (a rehearsal's scratch folder lands in
/// its `scratch/`) whose tool folders link to the shared, provisioned ones.
fn own_target() -> tempfile::TempDir {
    let shared = shared_target();
    let t = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(t.path().join("scratch")).unwrap();
    for entry in std::fs::read_dir(shared).unwrap() {
        let name = entry.unwrap().file_name();
        if name != "scratch" {
            std::os::unix::fs::symlink(shared.join(&name), t.path().join(&name)).unwrap();
        }
    }
    t
}

/// The managed Python tools' folder in the cache `shared`.
fn managed_tools(shared: &Path) -> PathBuf {
    std::fs::read_dir(shared)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.is_dir()
                && p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("pypi-tools-"))
        })
        .expect("`cargo xtask setup` provisioned the Python tools")
}

/// The `rehearsal-*` folders under `target`.
fn rehearsal_dirs(target: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(target.join("scratch"))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .filter(|e| e.file_name().to_string_lossy().starts_with("rehearsal-"))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default()
}

/// A project root: the example package under `ma/` (its git-tracked
/// files), a release-kit.toml, a HOME, and its own target folder.
struct Project {
    dir: tempfile::TempDir,
    target: tempfile::TempDir,
}

impl Project {
    fn new(python_extra: &str, vscode_extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        support::copy_tracked("examples/mult-agentes", &dir.path().join("ma"));
        std::fs::write(
            dir.path().join("release-kit.toml"),
            format!(
                "[python]\npath = \"ma\"\ndist = \"dist\"\n{python_extra}\n\
                 [vscode]\npath = \"ma/vscode-extension\"\nlockstep = true\n{vscode_extra}\n\
                 [release]\nchangelog = \"ma/CHANGELOG.md\"\n"
            ),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Project {
            dir,
            target: own_target(),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn py(&self) -> PathBuf {
        self.root().join("ma")
    }

    fn ext(&self) -> PathBuf {
        self.root().join("ma/vscode-extension")
    }

    fn dist(&self) -> PathBuf {
        self.root().join("dist")
    }

    /// `cargo xtask ARGS` at this root: a cleared environment plus `env`;
    /// no `.env` read.
    fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.env_clear()
            .env("PATH", real_path())
            .env("HOME", self.root().join("home"))
            .env("RELEASE_KIT_CACHE_DIR", self.target.path())
            .env("VSCE_STORE", "file")
            .arg("--root")
            .arg(self.root())
            .arg("--no-env-file")
            .args(args)
            .current_dir(self.root());
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    }

    fn xtask(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        Run(self.command(args, env).output().unwrap())
    }

    /// Replaces `from` by `to` in the file at `path` (exactly once).
    fn edit(&self, path: &Path, from: &str, to: &str) {
        let text = std::fs::read_to_string(path).unwrap();
        assert_eq!(
            text.matches(from).count(),
            1,
            "{from} in {}",
            path.display()
        );
        std::fs::write(path, text.replace(from, to)).unwrap();
    }
}

/// The 1-based line of the first line of `path` containing `needle`.
fn line_of(path: &Path, needle: &str) -> usize {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in {}", path.display()))
        + 1
}

/// A finished CLI run.
struct Run(Output);

impl Run {
    fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    fn all(&self) -> String {
        format!("--- stdout\n{}--- stderr\n{}", self.stdout(), self.stderr())
    }
    fn expect(self, code: i32) -> Run {
        assert_eq!(self.0.status.code(), Some(code), "{}", self.all());
        self
    }
    /// The status word of `step` in the summary table.
    fn status(&self, step: &str) -> Option<String> {
        status_in(&self.stdout(), step)
    }
    /// The problems of a preflight failure (`  - ...` lines).
    fn problems(&self) -> usize {
        self.stderr()
            .lines()
            .filter(|l| l.starts_with("  - "))
            .count()
    }
}

fn status_in(table: &str, step: &str) -> Option<String> {
    table.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some(step)).then(|| w.next().unwrap_or("").to_owned())
    })
}

/// The local index and Marketplace, with a canary PyPI-shaped token the
/// index accepts (user `__token__`) and a canary PAT the stand-in accepts
/// for the example's publisher.
struct Stands {
    server: PypiServer,
    mp: Marketplace,
    token: String,
    pat: String,
}

impl Stands {
    fn start(tag: &str) -> Stands {
        let token = build_test_token("pypi.org", &canary(tag), &["[1,[\"mult-agentes\"]]"]);
        let server = PypiServer::start(&token).unwrap();
        let mp = Marketplace::start();
        let pat = format!("{}pat", canary(tag));
        mp.add_pat(&pat, &[PUBLISHER]);
        Stands {
            server,
            mp,
            token,
            pat,
        }
    }

    /// What a real release needs: both secrets and the Marketplace's URL.
    fn env(&self) -> Vec<(&str, &str)> {
        vec![
            ("TWINE_PASSWORD", self.token.as_str()),
            ("VSCE_PAT", self.pat.as_str()),
            ("VSCE_MARKETPLACE_URL", self.mp.url()),
        ]
    }

    /// `release --repository-url <the local index>` plus `extra`.
    fn args<'a>(&'a self, extra: &[&'a str]) -> Vec<&'a str> {
        let mut a = vec!["release", "--repository-url", self.server.url.as_str()];
        a.extend_from_slice(extra);
        a
    }

    /// Nothing reached the index or the Marketplace, nothing was built.
    fn assert_untouched(&self, p: &Project, run: &Run) {
        assert!(
            self.server.files().is_empty(),
            "uploaded: {:?}\n{}",
            self.server.files(),
            run.all()
        );
        assert!(
            self.mp.requests().is_empty(),
            "Marketplace requests: {:?}\n{}",
            self.mp.requests(),
            run.all()
        );
        assert!(!p.dist().exists(), "dist/ was made\n{}", run.all());
    }

    fn mtimes(&self) -> Vec<(String, SystemTime)> {
        self.server
            .files()
            .into_iter()
            .map(|f| {
                let m = std::fs::metadata(self.server.packages.join(&f))
                    .unwrap()
                    .modified()
                    .unwrap();
                (f, m)
            })
            .collect()
    }
}

fn with<'a>(base: &[(&'a str, &'a str)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<_> = base
        .iter()
        .filter(|(k, _)| !more.iter().any(|(m, _)| m == k))
        .copied()
        .collect();
    v.extend_from_slice(more);
    v
}

fn without<'a>(base: &[(&'a str, &'a str)], names: &[&str]) -> Vec<(&'a str, &'a str)> {
    base.iter()
        .filter(|(k, _)| !names.contains(k))
        .copied()
        .collect()
}

/// Where `name` is on the real PATH.
fn which(name: &str) -> PathBuf {
    std::env::split_paths(&real_path())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} is not on PATH"))
}

/// A folder of wrapper scripts, one per `(name, program)`: a PATH that
/// holds exactly these tools.
fn bin_dir(dir: &Path, tools: &[(&str, &Path)]) -> String {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::create_dir_all(dir).unwrap();
    for (name, program) in tools {
        let path = dir.join(name);
        std::fs::write(
            &path,
            format!("#!/bin/sh\nexec '{}' \"$@\"\n", program.display()),
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    dir.display().to_string()
}

#[test]
fn rehearsal_from_a_fresh_clone() {
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().join("home");
    std::fs::create_dir_all(&home).unwrap();
    let git = |args: &[&str], cwd: &Path| {
        let out = Command::new("git")
            .args(args)
            .current_dir(cwd)
            .env_clear()
            .env("PATH", real_path())
            .env("HOME", &home)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "git {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_owned()
    };
    let top = git(&["rev-parse", "--show-toplevel"], &workspace_root());
    let clone = tmp.path().join("clone");
    git(
        &["clone", "--quiet", &top, &clone.display().to_string()],
        tmp.path(),
    );
    assert!(clone.join("release-kit.toml").is_file());
    assert!(!clone.join("dist").exists() && !clone.join("target").exists());
    let target = own_target();
    let started = Instant::now();
    // No --root: the root is found from the working directory.
    let run = Run(Command::new(env!("CARGO_BIN_EXE_xtask"))
        .args(["--no-env-file", "release", "--rehearse"])
        .current_dir(&clone)
        .env_clear()
        .env("PATH", real_path())
        .env("HOME", &home)
        // The Rust toolchain maturin builds the native example with.
        .env("RUSTUP_HOME", rust_home("RUSTUP_HOME", ".rustup"))
        .env("CARGO_HOME", rust_home("CARGO_HOME", ".cargo"))
        .env("RELEASE_KIT_CACHE_DIR", target.path())
        .output()
        .unwrap())
    .expect(0);
    eprintln!(
        "rehearsal from a fresh clone: {:.1}s",
        started.elapsed().as_secs_f64()
    );
    for step in [
        "build",
        "fan-in",
        "vsce-package",
        "local-index",
        "publish",
        "install-check",
    ] {
        assert_eq!(
            run.status(step).as_deref(),
            Some("done"),
            "{step}\n{}",
            run.all()
        );
    }
    assert_eq!(run.status("vsce-publish"), None, "{}", run.all());
    assert!(run.stdout().contains("rehearsed 0.1.0"), "{}", run.all());
    assert!(
        run.all()
            .contains("release mult-agentes, mult-agentes-native 0.1.0 (rehearsal)"),
        "{}",
        run.all()
    );
    // Both packages of release-kit.toml: the pure one and the native one
    // (this machine's wheel), uploaded, installed, the Rust function called.
    assert!(
        run.stdout().contains("4 uploaded, 0 already there"),
        "{}",
        run.all()
    );
    for f in [SDIST, WHEEL, VSIX, "mult_agentes_native-0.1.0.tar.gz"] {
        assert!(clone.join("dist").join(f).is_file(), "{f}\n{}", run.all());
    }
    let native_wheels: Vec<String> = std::fs::read_dir(clone.join("dist"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("mult_agentes_native-0.1.0-cp39-abi3-") && n.ends_with(".whl"))
        .collect();
    assert_eq!(native_wheels.len(), 1, "{native_wheels:?}");
    assert!(
        run.stdout()
            .contains("mult-agentes-native==0.1.0 imported with its compiled extension (check: count_tokens: 4)"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout()
            .contains("4 files complete for pure, linux-x86_64"),
        "{}",
        run.all()
    );
    // Cleaned up: no scratch folder, the local index stopped.
    assert!(
        rehearsal_dirs(target.path()).is_empty(),
        "{:?}",
        rehearsal_dirs(target.path())
    );
    assert!(!clone.join("target").exists());
    let port = local_index_port(&run.all()).expect("the local index's port");
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the local index still listens on {port}"
    );
}

/// Where rustup and cargo keep their state for this user (`var`, else
/// `~/NAME`), for runs with another HOME.
fn rust_home(var: &str, name: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").expect("HOME is set")).join(name))
}

/// The port of `pypiserver at http://127.0.0.1:PORT/` in a run's output.
fn local_index_port(text: &str) -> Option<u16> {
    let at =
        text.find("pypiserver at http://127.0.0.1:")? + "pypiserver at http://127.0.0.1:".len();
    text[at..].split('/').next()?.parse().ok()
}

#[test]
fn every_missing_variable_and_tool_stops_before_anything_is_sent() {
    let s = Stands::start("pre");
    let env = s.env();
    let p = Project::new("", "");
    // With everything there the checks pass: each failure below is the
    // removal's.
    let run = p.xtask(&s.args(&["--dry-run"]), &env).expect(0);
    s.assert_untouched(&p, &run);

    let refused = |p: &Project, env: &[(&str, &str)], wants: &[&str]| {
        let run = p.xtask(&s.args(&[]), env).expect(3);
        let err = run.stderr();
        for want in wants {
            assert!(err.contains(want), "{want}:\n{}", run.all());
        }
        assert_eq!(run.problems(), wants.len(), "{}", run.all());
        assert!(
            err.contains("found before anything was changed"),
            "{}",
            run.all()
        );
        s.assert_untouched(p, &run);
        run
    };

    // Each variable in turn, then both: both named at once.
    refused(
        &p,
        &without(&env, &["TWINE_PASSWORD"]),
        &["TWINE_PASSWORD: is not set"],
    );
    refused(&p, &without(&env, &["VSCE_PAT"]), &["VSCE_PAT: is not set"]);
    let run = refused(
        &p,
        &without(&env, &["TWINE_PASSWORD", "VSCE_PAT"]),
        &["TWINE_PASSWORD: is not set", "VSCE_PAT: is not set"],
    );
    assert!(run.stderr().contains("2 problems"), "{}", run.all());
    // Empty counts as missing.
    refused(
        &p,
        &with(&env, &[("VSCE_PAT", "")]),
        &["VSCE_PAT: is set but empty"],
    );

    // Tools: PATHs of wrapper scripts holding exactly what each case keeps.
    let bins = tempfile::tempdir().unwrap();
    let shared = shared_target();
    let managed_python = managed_tools(shared).join("bin/python");
    let managed_twine = managed_tools(shared).join("bin/twine");
    let node = which("node");
    let npm = which("npm");
    // An interpreter with no `build` module: a bare venv.
    let bare = bins.path().join("bare-venv");
    let st = Command::new(which("python3"))
        .args(["-m", "venv", "--without-pip"])
        .arg(&bare)
        .status()
        .unwrap();
    assert!(st.success());
    let bare_python = bare.join("bin/python");

    // node: not on PATH.
    let path = bin_dir(
        &bins.path().join("no-node"),
        &[("python3", &managed_python)],
    );
    refused(
        &p,
        &with(&env, &[("PATH", path.as_str())]),
        &["node: not found on PATH"],
    );

    // vsce: taken from PATH ([vscode] use-path-tools), and not there.
    let pv = Project::new("", "use-path-tools = true");
    let path = bin_dir(
        &bins.path().join("no-vsce"),
        &[("python3", &managed_python), ("node", &node), ("npm", &npm)],
    );
    refused(
        &pv,
        &with(&env, &[("PATH", path.as_str())]),
        &["vsce: not found on PATH, and [vscode] use-path-tools = true"],
    );

    // twine and build: taken from PATH ([python] use-path-tools).
    let pp = Project::new("use-path-tools = true", "");
    let path = bin_dir(
        &bins.path().join("no-twine"),
        &[("python3", &managed_python), ("node", &node), ("npm", &npm)],
    );
    refused(
        &pp,
        &with(&env, &[("PATH", path.as_str())]),
        &["`twine` was not found on PATH"],
    );
    let path = bin_dir(
        &bins.path().join("no-build"),
        &[
            ("python3", &bare_python),
            ("twine", &managed_twine),
            ("node", &node),
            ("npm", &npm),
        ],
    );
    refused(
        &pp,
        &with(&env, &[("PATH", path.as_str())]),
        &["has no `build` module"],
    );

    // Everything missing at once: every problem listed.
    let path = bin_dir(&bins.path().join("bare"), &[("python3", &bare_python)]);
    let run = refused(
        &pp,
        &with(
            &without(&env, &["TWINE_PASSWORD", "VSCE_PAT"]),
            &[("PATH", path.as_str())],
        ),
        &[
            "TWINE_PASSWORD: is not set",
            "VSCE_PAT: is not set",
            "node: not found on PATH",
            "`twine` was not found on PATH",
            "has no `build` module",
        ],
    );
    assert!(run.stderr().contains("5 problems"), "{}", run.all());
}

#[test]
fn every_version_mismatch_is_named_with_file_and_line() {
    let s = Stands::start("ver");
    let env = s.env();
    let gha = with(&env, &[("GITHUB_ACTIONS", "true")]);

    // Checks a refused run: each (file, line, words) in the message, and
    // as an ::error annotation under GitHub Actions.
    let refused = |p: &Project, env: &[(&str, &str)], places: &[(&Path, usize, &str)]| {
        let run = p.xtask(&s.args(&[]), env).expect(3);
        let err = run.stderr();
        for (file, line, words) in places {
            let at = format!("{}:{line}: ", file.display());
            assert!(
                err.lines().any(|l| l.contains(&at) && l.contains(words)),
                "{at} {words}\n{}",
                run.all()
            );
            if env.contains(&("GITHUB_ACTIONS", "true")) {
                // On stderr: stdout may be redirected to a file.
                let annotation = format!("::error file={},line={line},", file.display());
                assert!(
                    err.lines()
                        .any(|l| l.starts_with(&annotation) && l.contains(words)),
                    "{annotation} {words}\n{}",
                    run.all()
                );
            } else {
                assert!(!run.all().contains("::error"), "{}", run.all());
            }
        }
        s.assert_untouched(p, &run);
        run
    };

    // package.json (lockstep) says another version.
    let p = Project::new("", "");
    let manifest = p.ext().join("package.json");
    p.edit(
        &manifest,
        "\"version\": \"0.1.0\"",
        "\"version\": \"0.1.1\"",
    );
    let line = line_of(&manifest, "\"version\"");
    let place = [(manifest.as_path(), line, "package.json says 0.1.1")];
    refused(&p, &gha, &place);
    refused(&p, &env, &place);

    // The newest released CHANGELOG entry is another version ([Unreleased]
    // does not count).
    let p = Project::new("", "");
    let changelog = p.py().join("CHANGELOG.md");
    p.edit(&changelog, "## [0.1.0] - ", "## [0.0.9] - ");
    let line = line_of(&changelog, "## [0.0.9]");
    refused(
        &p,
        &gha,
        &[(changelog.as_path(), line, "newest released entry is 0.0.9")],
    );

    // The tag being released in CI.
    let p = Project::new("", "");
    let pyproject = p.py().join("pyproject.toml");
    let line = line_of(&pyproject, "version = ");
    let tagged = with(
        &gha,
        &[("GITHUB_REF_TYPE", "tag"), ("GITHUB_REF_NAME", "v9.9.9")],
    );
    refused(
        &p,
        &tagged,
        &[(
            pyproject.as_path(),
            line,
            "the git tag v9.9.9 does not match",
        )],
    );
    // The same run on a branch passes the checks.
    let branch = with(
        &gha,
        &[("GITHUB_REF_TYPE", "branch"), ("GITHUB_REF_NAME", "v9.9.9")],
    );
    p.xtask(&s.args(&["--dry-run"]), &branch).expect(0);

    // pyproject.toml bumped alone: package.json and CHANGELOG both named.
    let p = Project::new("", "");
    let pyproject = p.py().join("pyproject.toml");
    p.edit(&pyproject, "version = \"0.1.0\"", "version = \"0.2.0\"");
    let manifest = p.ext().join("package.json");
    let changelog = p.py().join("CHANGELOG.md");
    let run = refused(
        &p,
        &gha,
        &[
            (
                manifest.as_path(),
                line_of(&manifest, "\"version\""),
                "package.json says 0.1.0",
            ),
            (
                changelog.as_path(),
                line_of(&changelog, "## [0.1.0]"),
                "newest released entry is 0.1.0",
            ),
        ],
    );
    assert!(
        run.stderr()
            .contains(&format!("{} says 0.2.0", pyproject.display())),
        "{}",
        run.all()
    );
}

#[test]
fn a_release_that_fails_after_the_upload_completes_when_run_again() {
    let s = Stands::start("rerun");
    let p = Project::new("", "");
    // A PAT the Marketplace does not know: refused at publish, after the
    // package reached the index.
    let wrong = format!("{}wrong", canary("pat"));
    let env = with(&s.env(), &[("VSCE_PAT", wrong.as_str())]);
    let run = p.xtask(&s.args(&[]), &env).expect(1);
    let err = run.stderr();
    for want in [
        "the release stopped at vsce-publish",
        "done: build, vsce-package, publish",
        "not done: vsce-publish",
        "Running the same command again is safe",
    ] {
        assert!(err.contains(want), "{want}\n{}", run.all());
    }
    assert!(err.contains("TF400813"), "{}", run.all());
    assert_eq!(
        run.status("publish").as_deref(),
        Some("done"),
        "{}",
        run.all()
    );
    assert_eq!(
        run.status("vsce-publish").as_deref(),
        Some("FAILED"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains(&wrong), "{}", run.all());
    assert!(!run.all().contains(&s.token), "{}", run.all());
    assert_eq!(s.server.files(), [WHEEL, SDIST]);
    assert!(s.mp.versions(PUBLISHER, EXTENSION).is_empty());
    assert!(s.mp.requests().iter().any(|r| r.status == 401));

    // Fixed (the right PAT) and run again: the upload is skipped, the
    // extension published.
    let before = s.mtimes();
    let run = p.xtask(&s.args(&[]), &s.env()).expect(0);
    assert_eq!(
        run.status("build").as_deref(),
        Some("done"),
        "{}",
        run.all()
    );
    assert_eq!(
        run.status("publish").as_deref(),
        Some("skipped"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout().contains("0 uploaded, 2 already there"),
        "{}",
        run.all()
    );
    assert_eq!(
        run.status("vsce-publish").as_deref(),
        Some("done"),
        "{}",
        run.all()
    );
    assert_eq!(s.mtimes(), before, "files were re-uploaded");
    // What the index and the Marketplace hold is what dist/ holds.
    for f in [SDIST, WHEEL] {
        assert!(
            std::fs::read(s.server.packages.join(f)).unwrap()
                == std::fs::read(p.dist().join(f)).unwrap(),
            "{f} differs"
        );
    }
    let versions = s.mp.versions(PUBLISHER, EXTENSION);
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, "0.1.0");
    assert!(
        versions[0].vsix == std::fs::read(p.dist().join(VSIX)).unwrap(),
        "the Marketplace received other bytes than dist/{VSIX}"
    );

    // A third run changes nothing anywhere.
    let requests = s.mp.requests().len();
    let run = p.xtask(&s.args(&[]), &s.env()).expect(0);
    assert_eq!(run.status("publish").as_deref(), Some("skipped"));
    assert_eq!(
        run.status("vsce-publish").as_deref(),
        Some("skipped"),
        "{}",
        run.all()
    );
    assert_eq!(s.mtimes(), before);
    assert_eq!(s.mp.versions(PUBLISHER, EXTENSION).len(), 1);
    assert!(
        s.mp.requests()[requests..]
            .iter()
            .all(|r| r.method == "GET" || r.method == "OPTIONS"),
        "{:?}",
        &s.mp.requests()[requests..]
    );
}

/// `key=value` and `key<<DELIM ... DELIM` entries of a `$GITHUB_OUTPUT` file.
fn parse_outputs(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if let Some((k, delim)) = line.split_once("<<") {
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delim {
                    break;
                }
                value.push(l);
            }
            out.push((k.to_owned(), value.join("\n")));
        } else if let Some((k, v)) = line.split_once('=') {
            out.push((k.to_owned(), v.to_owned()));
        }
    }
    out
}

#[test]
fn github_actions_masks_groups_summary_and_outputs_without_secrets() {
    let s = Stands::start("gha");
    let p = Project::new("", "");
    let gh = tempfile::tempdir().unwrap();
    let summary = gh.path().join("step_summary.md");
    let outputs = gh.path().join("output.txt");
    std::fs::write(&summary, "").unwrap();
    std::fs::write(&outputs, "").unwrap();
    let (summary_s, outputs_s) = (summary.display().to_string(), outputs.display().to_string());
    let env = with(
        &s.env(),
        &[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_STEP_SUMMARY", summary_s.as_str()),
            ("GITHUB_OUTPUT", outputs_s.as_str()),
            ("GITHUB_REF_TYPE", "tag"),
            ("GITHUB_REF_NAME", "v0.1.0"),
        ],
    );
    let run = p.xtask(&s.args(&[]), &env).expect(0);
    let (out, err) = (run.stdout(), run.stderr());
    let lines: Vec<&str> = out.lines().collect();
    let secrets = [s.token.as_str(), s.pat.as_str()];

    // Masks: one per secret, before any other output.
    let first_other = lines
        .iter()
        .position(|l| !l.starts_with("::add-mask::"))
        .unwrap_or(lines.len());
    for secret in secrets {
        let mask = format!("::add-mask::{secret}");
        let at = lines.iter().position(|l| *l == mask);
        assert!(
            at.is_some_and(|i| i < first_other),
            "{mask} not first:\n{}",
            run.all()
        );
    }
    // Groups: one per step, each closed before the next opens.
    let steps = ["build", "vsce-package", "publish", "vsce-publish"];
    let marks: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| l.starts_with("::group::") || *l == "::endgroup::")
        .collect();
    assert_eq!(marks.len(), 2 * steps.len(), "{}", run.all());
    for (i, step) in steps.iter().enumerate() {
        assert!(
            marks[2 * i].starts_with(&format!("::group::{step}: ")),
            "{step}: {marks:?}"
        );
        assert_eq!(marks[2 * i + 1], "::endgroup::");
    }
    for step in steps {
        assert_eq!(
            run.status(step).as_deref(),
            Some("done"),
            "{step}\n{}",
            run.all()
        );
    }

    // The step summary: a markdown table of the steps.
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(md.contains("### Release 0.1.0 (release)"), "{md}");
    assert!(
        md.contains("| step | status | time | detail |\n|---|---|---|---|"),
        "{md}"
    );
    for step in steps {
        assert!(md.contains(&format!("| {step} | done | ")), "{step}: {md}");
    }

    // The outputs: the version and each artifact's path.
    let text = std::fs::read_to_string(&outputs).unwrap();
    let kv = parse_outputs(&text);
    let get = |k: &str| {
        kv.iter()
            .find(|(key, _)| key == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no {k} in {text}"))
    };
    assert_eq!(get("version"), "0.1.0");
    for (key, file) in [("sdist", SDIST), ("wheel", WHEEL), ("vsix", VSIX)] {
        let path = PathBuf::from(get(key));
        assert_eq!(path, p.dist().join(file), "{text}");
        assert!(path.is_file());
        assert!(
            get("artifacts").lines().any(|l| Path::new(l) == path),
            "{text}"
        );
    }

    // The secrets did their job (the index and the Marketplace got them)
    // and appear nowhere but in the masks.
    assert_eq!(s.server.files(), [WHEEL, SDIST]);
    assert!(
        s.mp.requests()
            .iter()
            .any(|r| r.basic_password.as_deref() == Some(s.pat.as_str()))
    );
    for secret in secrets {
        for line in out.lines().filter(|l| l.contains(secret)) {
            assert!(line.starts_with("::add-mask::"), "{line}");
        }
        assert!(!err.contains(secret), "stderr: {err}");
        assert!(!md.contains(secret), "summary: {md}");
        assert!(!text.contains(secret), "outputs: {text}");
        for f in std::fs::read_dir(p.dist()).unwrap() {
            let bytes = std::fs::read(f.unwrap().path()).unwrap();
            assert!(!bytes.windows(secret.len()).any(|w| w == secret.as_bytes()));
        }
    }
    // Not even the token's body.
    let body = &s.token[5..30];
    assert!(!err.contains(body) && !md.contains(body) && !text.contains(body));
}

#[test]
fn dry_run_prints_the_plan_and_changes_nothing() {
    let s = Stands::start("dry");
    let p = Project::new("", "");
    let run = p.xtask(&s.args(&["--dry-run"]), &s.env()).expect(0);
    let err = run.stderr();
    assert!(
        err.contains("release mult-agentes 0.1.0 (dry run): 4 steps"),
        "{}",
        run.all()
    );
    for (i, step) in ["build", "vsce-package", "publish", "vsce-publish"]
        .iter()
        .enumerate()
    {
        assert!(
            err.contains(&format!("  {}. {step} ", i + 1)),
            "{step}\n{}",
            run.all()
        );
        assert_eq!(
            run.status(step).as_deref(),
            Some("planned"),
            "{}",
            run.all()
        );
    }
    assert!(err.contains(&s.server.url), "{}", run.all());
    assert!(
        err.contains("dry run: everything checked, nothing built or uploaded"),
        "{}",
        run.all()
    );
    assert!(
        run.stdout().contains("checked (dry run) 0.1.0"),
        "{}",
        run.all()
    );
    s.assert_untouched(&p, &run);

    // --json: one JSON document on stdout.
    let mut args = vec!["--json"];
    args.extend(s.args(&["--dry-run"]));
    let run = p.xtask(&args, &s.env()).expect(0);
    let report: serde_json::Value =
        serde_json::from_str(&run.stdout()).unwrap_or_else(|e| panic!("{e}\n{}", run.all()));
    assert_eq!(report["mode"], "dry-run");
    assert_eq!(report["version"], "0.1.0");
    assert_eq!(report["ok"], true);
    assert_eq!(report["artifacts"].as_array().map(Vec::len), Some(0));
    let steps: Vec<(&str, &str)> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["step"].as_str().unwrap(), s["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        steps,
        [
            ("build", "planned"),
            ("vsce-package", "planned"),
            ("publish", "planned"),
            ("vsce-publish", "planned")
        ]
    );
    s.assert_untouched(&p, &run);
}

/// Processes whose command line mentions `needle`.
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        if let Ok(cmdline) = std::fs::read(e.path().join("cmdline")) {
            let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
            if cmdline.contains(needle) {
                found.push(format!("{}: {cmdline}", e.file_name().to_string_lossy()));
            }
        }
    }
    found
}

/// Starts `release --rehearse`, waits until `ready` holds for its output
/// (stdout + stderr so far) and the scratch folders, sends SIGINT to it
/// alone, and checks that it exits 130 with everything cleaned up.
/// Returns its output.
fn interrupt_rehearsal(p: &Project, ready: &dyn Fn(&str, &[PathBuf]) -> bool) -> String {
    let mut child = p
        .command(&["release", "--rehearse"], &[])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let output = Arc::new(Mutex::new(String::new()));
    let readers: Vec<_> = [
        Box::new(child.stdout.take().unwrap()) as Box<dyn std::io::Read + Send>,
        Box::new(child.stderr.take().unwrap()),
    ]
    .into_iter()
    .map(|mut stream| {
        let output = output.clone();
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                output
                    .lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    })
    .collect();
    let deadline = Instant::now() + Duration::from_secs(180);
    let scratch = loop {
        let dirs = rehearsal_dirs(p.target.path());
        if ready(&output.lock().unwrap(), &dirs) {
            break dirs;
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("exited ({status}) first:\n{}", output.lock().unwrap());
        }
        assert!(Instant::now() < deadline, "{}", output.lock().unwrap());
        std::thread::sleep(Duration::from_millis(2));
    };
    assert_eq!(scratch.len(), 1, "{scratch:?}");
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "still running after SIGINT");
        std::thread::sleep(Duration::from_millis(20));
    };
    for r in readers {
        r.join().unwrap();
    }
    let output = output.lock().unwrap().clone();
    assert_eq!(status.code(), Some(130), "{status}\n{output}");
    assert!(output.contains("interrupted: cleaning up"), "{output}");
    assert!(
        !scratch[0].exists() && rehearsal_dirs(p.target.path()).is_empty(),
        "left behind: {scratch:?}\n{output}"
    );
    // pypiserver was stopped before the exit. A short-lived child that was
    // running at the signal (passlib, twine: only the parent got SIGINT,
    // where a terminal's Ctrl-C reaches the whole process group) may
    // outlive it for a moment, but must not bring the folder back.
    let scratch_path = scratch[0].display().to_string();
    let servers: Vec<_> = processes_mentioning(&scratch_path)
        .into_iter()
        .filter(|p| p.contains("pypiserver"))
        .collect();
    assert!(servers.is_empty(), "pypiserver still running: {servers:?}");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !processes_mentioning(&scratch_path).is_empty() {
        assert!(
            Instant::now() < deadline,
            "still running: {:?}",
            processes_mentioning(&scratch_path)
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!scratch[0].exists(), "{scratch_path} came back");
    output
}

#[test]
fn an_interrupted_rehearsal_cleans_up() {
    let p = Project::new("", "");
    // Interrupted as soon as the local-index step made its folder (the
    // server may not be up yet).
    interrupt_rehearsal(&p, &|_, dirs| !dirs.is_empty());
    // Interrupted with the server up and the upload under way.
    let output = interrupt_rehearsal(&p, &|out, _| local_index_port(out).is_some());
    let port = local_index_port(&output).unwrap();
    assert!(
        std::net::TcpStream::connect(("127.0.0.1", port)).is_err(),
        "the local index still listens on {port}"
    );
}

#[test]
fn testpypi_is_a_rehearsal_that_never_publishes_the_extension() {
    let s = Stands::start("testpypi");
    let p = Project::new("", "");
    let test_token = build_test_token("test.pypi.org", &canary("tp"), &[]);
    // No VSCE_PAT: a rehearsal on TestPyPI does not need it.
    let env = [
        ("TWINE_PASSWORD_TEST", test_token.as_str()),
        ("VSCE_MARKETPLACE_URL", s.mp.url()),
    ];
    let simple = s.server.simple_url();
    let args = [
        "release",
        "--testpypi",
        "--check-url",
        simple.as_str(),
        "--dry-run",
    ];
    let run = p.xtask(&args, &env).expect(0);
    assert_eq!(run.status("vsce-package").as_deref(), Some("planned"));
    assert_eq!(
        run.status("vsce-publish").as_deref(),
        Some("skipped"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr()
            .contains("4. vsce-publish  skipped: --testpypi is a rehearsal"),
        "{}",
        run.all()
    );
    s.assert_untouched(&p, &run);

    // --only and --skip: every step still named, the others skipped.
    let run = p
        .xtask(
            &s.args(&["--only", "python", "--dry-run"]),
            &without(&s.env(), &["VSCE_PAT"]),
        )
        .expect(0);
    for (step, status) in [
        ("build", "planned"),
        ("vsce-package", "skipped"),
        ("publish", "planned"),
        ("vsce-publish", "skipped"),
    ] {
        assert_eq!(
            run.status(step).as_deref(),
            Some(status),
            "{step}\n{}",
            run.all()
        );
    }
    let run = p
        .xtask(
            &s.args(&["--skip", "vsce-publish", "--dry-run"]),
            &without(&s.env(), &["VSCE_PAT"]),
        )
        .expect(0);
    assert_eq!(run.status("vsce-publish").as_deref(), Some("skipped"));
    let run = p
        .xtask(&s.args(&["--skip", "upload", "--dry-run"]), &s.env())
        .expect(3);
    assert!(
        run.stderr()
            .contains("--skip upload: this release has no such step"),
        "{}",
        run.all()
    );

    // env check agrees: publishing to TestPyPI needs no VSCE_PAT.
    p.xtask(&["env", "check", "--for", "publish-testpypi"], &env)
        .expect(0);
}
