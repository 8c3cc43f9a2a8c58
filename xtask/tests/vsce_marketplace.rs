//! The real vsce (and ovsx) against the local Marketplace of `testkit`:
//! `cargo xtask vsce-verify`, `vsce-package`, `vsce-publish`.
//!
//! vsce and ovsx are installed by the command itself into the workspace's
//! `target/node-tools/` on first use (npm must reach the registry once).

// Unix only (its vsce and ovsx stand-ins are sh scripts); the
// Windows behaviour is covered by the library's unit tests.
#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Output;

use testkit::marketplace::Marketplace;

const PUBLISHER: &str = "mult-agentes";
const NAME: &str = "mult-agentes";

/// A project root with the example extension (at `version`, `publisher`)
/// and a Python package at `py_version`.
struct Project {
    dir: tempfile::TempDir,
}

impl Project {
    fn new(version: &str, py_version: &str, publisher: Option<&str>, toml_extra: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let ext = dir.path().join("ext");
        std::fs::create_dir_all(&ext).unwrap();
        let example =
            testkit::python::workspace_root().join("examples/mult-agentes/vscode-extension");
        for f in [
            "extension.js",
            "README.md",
            "LICENSE",
            "CHANGELOG.md",
            ".vscodeignore",
        ] {
            std::fs::copy(example.join(f), ext.join(f)).unwrap();
        }
        let text = std::fs::read_to_string(example.join("package.json")).unwrap();
        let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        manifest["version"] = version.into();
        match publisher {
            Some(p) => manifest["publisher"] = p.into(),
            None => {
                manifest.as_object_mut().unwrap().remove("publisher");
            }
        }
        std::fs::write(
            ext.join("package.json"),
            serde_json::to_string_pretty(&manifest).unwrap(),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("py")).unwrap();
        std::fs::write(
            dir.path().join("py/pyproject.toml"),
            format!("[project]\nname = \"mult-agentes\"\nversion = \"{py_version}\"\n"),
        )
        .unwrap();
        std::fs::write(
            dir.path().join("release-kit.toml"),
            format!("[python]\npath = \"py\"\n\n[vscode]\npath = \"ext\"\n{toml_extra}"),
        )
        .unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        Project { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn vsix(&self, version: &str) -> PathBuf {
        self.root().join(format!("dist/{NAME}-{version}.vsix"))
    }

    /// `cargo xtask ARGS` in this project, with a clean environment for
    /// the variables that matter.
    fn xtask(&self, mp: Option<&Marketplace>, env: &[(&str, &str)], args: &[&str]) -> Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
        cmd.arg("--root").arg(self.root());
        if !args.contains(&"--env-file") {
            cmd.arg("--no-env-file");
        }
        cmd.args(args)
            .current_dir(self.root())
            .env("RELEASE_KIT_CACHE_DIR", testkit::python::tool_cache())
            .env("HOME", self.root().join("home"))
            .env("VSCE_STORE", "file")
            .env_remove("VSCE_PAT")
            .env_remove("OVSX_PAT")
            .env_remove("OVSX_REGISTRY_URL")
            .env_remove("GITHUB_ACTIONS")
            .env_remove("VSCE_MARKETPLACE_URL");
        if let Some(mp) = mp {
            cmd.env("VSCE_MARKETPLACE_URL", mp.url());
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().unwrap()
    }
}

fn expect(out: &Output, code: i32) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(code),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    (stdout, stderr)
}

#[test]
fn verify_pat_succeeds_for_a_member() {
    let mp = Marketplace::start();
    mp.add_pat("good-pat-0123456789", &[PUBLISHER]);
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let out = p.xtask(
        Some(&mp),
        &[("VSCE_PAT", "good-pat-0123456789")],
        &["vsce-verify"],
    );
    let (stdout, _) = expect(&out, 0);
    assert!(
        stdout.contains("verification succeeded for the publisher 'mult-agentes'"),
        "{stdout}"
    );
    let reqs = mp.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "OPTIONS" && r.path == "/_apis/securityroles"),
        "{reqs:?}"
    );
    let get = reqs
        .iter()
        .find(|r| r.method == "GET")
        .expect("a role-assignment GET");
    assert_eq!(
        get.path.split('?').next().unwrap(),
        "/_apis/securityroles/scopes/gallery.publisher/roleassignments/resources/mult-agentes"
    );
    assert_eq!(get.basic_password.as_deref(), Some("good-pat-0123456789"));
    assert_eq!(get.status, 200);
}

#[test]
fn wrong_pat_is_explained_as_expired_or_retired() {
    let mp = Marketplace::start();
    mp.add_pat("good-pat-0123456789", &[PUBLISHER]);
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let out = p.xtask(
        Some(&mp),
        &[("VSCE_PAT", "wrong-pat-0123456789")],
        &["vsce-verify"],
    );
    let (_, stderr) = expect(&out, 1);
    for want in [
        "TF400813",
        "expired",
        "2026-12-01",
        "azure-credential",
        "Marketplace -> Manage",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    assert!(mp.requests().iter().any(|r| r.status == 401));
}

#[test]
fn non_member_is_explained_as_scope_or_membership() {
    let mp = Marketplace::start();
    mp.add_pat("outsider-pat-0123456789", &["someone-else"]);
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let out = p.xtask(
        Some(&mp),
        &[("VSCE_PAT", "outsider-pat-0123456789")],
        &["vsce-verify"],
    );
    let (_, stderr) = expect(&out, 1);
    for want in [
        "needs the following permission(s)",
        "Marketplace -> Manage",
        "not a member",
        "manage/publishers/mult-agentes",
    ] {
        assert!(stderr.contains(want), "{want}: {stderr}");
    }
    assert!(mp.requests().iter().any(|r| r.status == 403));
}

#[test]
fn network_error_is_explained() {
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let closed = format!("http://127.0.0.1:{}", testkit::python::free_port());
    let out = p.xtask(
        None,
        &[
            ("VSCE_PAT", "any-pat-0123456789"),
            ("VSCE_MARKETPLACE_URL", &closed),
        ],
        &["vsce-verify"],
    );
    let (_, stderr) = expect(&out, 1);
    assert!(
        stderr.contains("cannot reach the Marketplace") && stderr.contains(&closed),
        "{stderr}"
    );
}

#[test]
fn no_pat_stops_before_any_request() {
    let mp = Marketplace::start();
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    for args in [&["vsce-verify"][..], &["vsce-publish"][..]] {
        let out = p.xtask(Some(&mp), &[("VSCE_PAT", "")], args);
        let (_, stderr) = expect(&out, 3);
        assert!(
            stderr.contains("VSCE_PAT")
                && stderr.contains("dev.azure.com")
                && stderr.contains("`y`"),
            "{stderr}"
        );
        let out = p.xtask(Some(&mp), &[], args);
        let (_, stderr) = expect(&out, 3);
        assert!(stderr.contains("VSCE_PAT: is not set"), "{stderr}");
    }
    assert!(mp.requests().is_empty(), "{:?}", mp.requests());
}

#[test]
fn publish_uploads_the_packaged_bytes_then_skips() {
    let mp = Marketplace::start();
    mp.add_pat("good-pat-0123456789", &[PUBLISHER]);
    mp.add_ovsx_token("ovsx-token-0123456789", &[PUBLISHER]);
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let (stdout, _) = expect(&p.xtask(None, &[], &["vsce-package"]), 0);
    let vsix = p.vsix("0.1.0");
    let bytes = std::fs::read(&vsix).unwrap();
    assert!(stdout.contains(&vsix.display().to_string()), "{stdout}");
    assert!(
        stdout.contains(&format!("size    {} bytes", bytes.len())),
        "{stdout}"
    );
    assert!(stdout.contains("sha256  "), "{stdout}");
    let ovsx_url = mp.open_vsx_url();
    let env = [
        ("VSCE_PAT", "good-pat-0123456789"),
        ("OVSX_PAT", "ovsx-token-0123456789"),
        ("OVSX_REGISTRY_URL", ovsx_url.as_str()),
    ];
    let (stdout, _) = expect(&p.xtask(Some(&mp), &env, &["vsce-publish"]), 0);
    assert!(
        stdout.contains("Marketplace: mult-agentes.mult-agentes 0.1.0 published"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Open VSX:    mult-agentes.mult-agentes 0.1.0 published"),
        "{stdout}"
    );
    let versions = mp.versions(PUBLISHER, NAME);
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, "0.1.0");
    assert!(
        versions[0].vsix == bytes,
        "the Marketplace received other bytes"
    );
    assert!(mp.ovsx_versions(PUBLISHER, NAME)[0].vsix == bytes);
    let reqs = mp.requests();
    assert!(
        reqs.iter()
            .any(|r| r.method == "POST" && r.path.starts_with("/_apis/gallery/extensions")),
        "{reqs:?}"
    );

    // A re-run (a release that failed half-way) skips both registries.
    let (stdout, _) = expect(&p.xtask(Some(&mp), &env, &["vsce-publish"]), 0);
    assert!(stdout.contains("0.1.0 skipped"), "{stdout}");
    assert_eq!(stdout.matches("skipped").count(), 2, "{stdout}");
    assert_eq!(mp.versions(PUBLISHER, NAME).len(), 1);
    assert_eq!(mp.ovsx_versions(PUBLISHER, NAME).len(), 1);

    // The next version goes through the update (PUT) call.
    let text = std::fs::read_to_string(p.root().join("ext/package.json")).unwrap();
    std::fs::write(
        p.root().join("ext/package.json"),
        text.replace("0.1.0", "0.2.0"),
    )
    .unwrap();
    std::fs::write(
        p.root().join("py/pyproject.toml"),
        "[project]\nname = \"mult-agentes\"\nversion = \"0.2.0\"\n",
    )
    .unwrap();
    expect(&p.xtask(None, &[], &["vsce-package"]), 0);
    let (stdout, _) = expect(&p.xtask(Some(&mp), &env, &["vsce-publish"]), 0);
    assert!(stdout.contains("0.2.0 published"), "{stdout}");
    let versions = mp.versions(PUBLISHER, NAME);
    assert_eq!(versions.len(), 2);
    assert!(versions[1].vsix == std::fs::read(p.vsix("0.2.0")).unwrap());
    assert!(mp.requests().iter().any(|r| r.method == "PUT"));
}

#[test]
fn dry_run_checks_and_plans_without_requests() {
    let mp = Marketplace::start();
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    // Without a package, the dry run reports it with everything else.
    let (_, stderr) = expect(&p.xtask(Some(&mp), &[], &["vsce-publish", "--dry-run"]), 3);
    assert!(stderr.contains("2 problems"), "{stderr}");
    assert!(
        stderr.contains("VSCE_PAT") && stderr.contains("cargo xtask vsce-package"),
        "{stderr}"
    );
    expect(&p.xtask(None, &[], &["vsce-package"]), 0);
    let (stdout, _) = expect(
        &p.xtask(
            Some(&mp),
            &[("VSCE_PAT", "good-pat-0123456789")],
            &["vsce-publish", "--dry-run"],
        ),
        0,
    );
    assert!(
        stdout.contains("dry run") && stdout.contains("--packagePath"),
        "{stdout}"
    );
    assert!(stdout.contains("OVSX_PAT is not set"), "{stdout}");
    assert!(mp.requests().is_empty(), "{:?}", mp.requests());
}

#[test]
fn azure_credential_needs_no_pat() {
    let mp = Marketplace::start();
    let p = Project::new(
        "0.1.0",
        "0.1.0",
        Some(PUBLISHER),
        "azure-credential = true\n",
    );
    expect(&p.xtask(None, &[], &["vsce-package"]), 0);
    let (stdout, _) = expect(&p.xtask(Some(&mp), &[], &["vsce-publish", "--dry-run"]), 0);
    assert!(
        stdout.contains("--azure-credential") && stdout.contains("Entra ID"),
        "{stdout}"
    );
    assert!(mp.requests().is_empty());
    // With no Entra ID identity on this machine vsce fails before any
    // request, and a VSCE_PAT in the environment is not used instead.
    let out = p.xtask(
        Some(&mp),
        &[
            ("VSCE_PAT", "good-pat-0123456789"),
            ("AZURE_CLIENT_ID", ""),
            ("AZURE_TENANT_ID", ""),
            ("IDENTITY_ENDPOINT", ""),
        ],
        &["vsce-verify"],
    );
    let (_, stderr) = expect(&out, 1);
    assert!(
        stderr.contains("Microsoft Entra ID") && stderr.contains("az login"),
        "{stderr}"
    );
    assert!(mp.requests().is_empty(), "{:?}", mp.requests());
}

#[test]
fn package_rejects_prerelease_version_missing_publisher_and_lockstep_mismatch() {
    let p = Project::new("1.2.3-beta", "1.2.3", Some(PUBLISHER), "");
    let (_, stderr) = expect(&p.xtask(None, &[], &["vsce-package"]), 3);
    assert!(
        stderr.contains("\"1.2.3-beta\"")
            && stderr.contains("--pre-release")
            && stderr.contains("package.json:"),
        "{stderr}"
    );

    let p = Project::new("0.1.0", "0.1.0", None, "");
    let (_, stderr) = expect(&p.xtask(None, &[], &["vsce-package"]), 3);
    assert!(stderr.contains("no \"publisher\""), "{stderr}");

    let p = Project::new("0.1.0", "0.2.0", Some(PUBLISHER), "");
    let (_, stderr) = expect(&p.xtask(None, &[], &["vsce-package"]), 3);
    assert!(
        stderr.contains("version mismatch")
            && stderr.contains("0.2.0")
            && stderr.contains("pyproject.toml:3"),
        "{stderr}"
    );
    assert!(!p.root().join("dist").exists());

    // All at once, and lockstep can be turned off.
    let p = Project::new("0.1.0-rc.1", "0.2.0", Some("Mult Agentes"), "");
    let (_, stderr) = expect(&p.xtask(None, &[], &["vsce-package"]), 3);
    assert!(stderr.contains("3 problems"), "{stderr}");
    let p = Project::new("0.1.0", "0.2.0", Some(PUBLISHER), "lockstep = false\n");
    expect(&p.xtask(None, &[], &["vsce-package"]), 0);
    assert!(p.vsix("0.1.0").is_file());
}

#[test]
fn pre_release_flag_needs_engine_1_63() {
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let manifest = p.root().join("ext/package.json");
    let text = std::fs::read_to_string(&manifest).unwrap();
    std::fs::write(&manifest, text.replace("^1.85.0", "^1.60.0")).unwrap();
    let (_, stderr) = expect(&p.xtask(None, &[], &["vsce-package", "--pre-release"]), 3);
    assert!(stderr.contains("1.63"), "{stderr}");
    std::fs::write(&manifest, text).unwrap();
    let (stdout, _) = expect(
        &p.xtask(None, &[], &["--json", "vsce-package", "--pre-release"]),
        0,
    );
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["pre_release"], true);
    assert_eq!(report["sha256"].as_str().unwrap().len(), 64);
}

/// A PATH with `vsce` and `ovsx` shims that record their argv, then run
/// the provisioned tools.
fn shims(dir: &Path, log: &Path) -> String {
    let tools = release_kit::cache_dir::pinned_in(
        &testkit::python::tool_cache(),
        "node-tools",
        &release_kit::vscode::npm::PINS,
    )
    .join("node_modules");
    for (name, script) in [("vsce", "@vscode/vsce/vsce"), ("ovsx", "ovsx/bin/ovsx")] {
        let shim = dir.join(name);
        std::fs::write(
            &shim,
            format!(
                "#!/bin/sh\nprintf '%s\\n' \"{name}\" \"$@\" >> '{}'\nexec node '{}' \"$@\"\n",
                log.display(),
                tools.join(script).display()
            ),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

fn files_containing(dir: &Path, needle: &[u8]) -> Vec<PathBuf> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let path = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle)
            {
                hits.push(path);
            }
        }
    }
    hits
}

#[test]
fn canary_pat_never_leaves_through_output_files_or_argv() {
    let canary = format!("CANARY-vsce-{}", std::process::id());
    let ovsx_canary = format!("CANARY-ovsx-{}", std::process::id());
    let mp = Marketplace::start();
    mp.add_pat(&canary, &[PUBLISHER]);
    mp.add_ovsx_token(&ovsx_canary, &[PUBLISHER]);
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "use-path-tools = true\n");
    // Provision the pinned tools the shims run.
    let provision = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    expect(&provision.xtask(None, &[], &["vsce-package"]), 0);
    let shim_dir = tempfile::tempdir().unwrap();
    let argv_log = shim_dir.path().join("argv.log");
    let path = shims(shim_dir.path(), &argv_log);
    let ovsx_url = mp.open_vsx_url();
    let env = [
        ("PATH", path.as_str()),
        ("VSCE_PAT", canary.as_str()),
        ("OVSX_PAT", ovsx_canary.as_str()),
        ("OVSX_REGISTRY_URL", ovsx_url.as_str()),
    ];
    let mut outputs = Vec::new();
    for args in [
        &["-v", "vsce-verify"][..],
        &["-v", "vsce-package"][..],
        &["-v", "vsce-publish"][..],
        &["-v", "vsce-publish"][..],
        &["--json", "vsce-publish", "--dry-run"][..],
    ] {
        let out = p.xtask(Some(&mp), &env, args);
        outputs.push(expect(&out, 0));
    }
    // A failing run (unknown token) must not quote it either.
    let mp2 = Marketplace::start();
    let out = p.xtask(Some(&mp2), &env, &["-v", "vsce-verify"]);
    outputs.push(expect(&out, 1));
    for (stdout, stderr) in &outputs {
        for secret in [&canary, &ovsx_canary] {
            assert!(!stdout.contains(secret.as_str()), "stdout leaks: {stdout}");
            assert!(!stderr.contains(secret.as_str()), "stderr leaks: {stderr}");
        }
    }
    let argv = std::fs::read_to_string(&argv_log).unwrap();
    assert!(
        argv.contains("verify-pat") && argv.contains("publish"),
        "shims not used: {argv}"
    );
    assert!(
        argv.lines().any(|l| l == "ovsx"),
        "ovsx shim not used: {argv}"
    );
    assert!(!argv.contains("CANARY"), "a token in argv: {argv}");
    assert!(!argv.lines().any(|l| l == "-p" || l == "--pat"), "{argv}");
    // The tokens did arrive, through the environment.
    assert!(
        mp.requests()
            .iter()
            .any(|r| r.basic_password.as_deref() == Some(canary.as_str()))
    );
    assert_eq!(mp.ovsx_versions(PUBLISHER, NAME).len(), 1);
    for secret in [&canary, &ovsx_canary] {
        let hits = files_containing(p.root(), secret.as_bytes());
        assert!(hits.is_empty(), "files hold the token: {hits:?}");
    }
}

#[test]
fn github_actions_errors_on_stdout_are_explained_and_masked() {
    let canary = format!("CANARY-gha-{}", std::process::id());
    let mp = Marketplace::start();
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let out = p.xtask(
        Some(&mp),
        &[("VSCE_PAT", canary.as_str()), ("GITHUB_ACTIONS", "true")],
        &["vsce-verify"],
    );
    let (stdout, stderr) = expect(&out, 1);
    assert!(
        stderr.contains("TF400813") && stderr.contains("2026-12-01"),
        "{stderr}"
    );
    // The only place the value appears is the runner's mask command.
    for line in stdout.lines().filter(|l| l.contains(&canary)) {
        assert!(line.starts_with("::add-mask::"), "{stdout}");
    }
    assert!(
        stdout.contains(&format!("::add-mask::{canary}")),
        "{stdout}"
    );
    assert!(!stderr.contains(&canary), "{stderr}");
}

#[test]
fn pat_and_marketplace_url_from_dot_env_reach_vsce() {
    let mp = Marketplace::start();
    mp.add_pat("dotenv-pat-0123456789", &[PUBLISHER]);
    let p = Project::new("0.1.0", "0.1.0", Some(PUBLISHER), "");
    let env_file = p.root().join(".env");
    std::fs::write(
        &env_file,
        format!(
            "VSCE_PAT=dotenv-pat-0123456789\nVSCE_MARKETPLACE_URL={}\n",
            mp.url()
        ),
    )
    .unwrap();
    let env_arg = env_file.display().to_string();
    let out = p.xtask(None, &[], &["--env-file", &env_arg, "vsce-verify"]);
    let (stdout, stderr) = expect(&out, 0);
    assert!(stdout.contains("verification succeeded"), "{stdout}");
    assert!(!stderr.contains("dotenv-pat-0123456789"), "{stderr}");
    assert!(
        mp.requests()
            .iter()
            .any(|r| r.basic_password.as_deref() == Some("dotenv-pat-0123456789"))
    );
}
