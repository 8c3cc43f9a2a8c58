//! `scan`, `hooks` and `env rotate` as a user runs them, in throwaway git
//! repositories, with canary secrets that must never come out: not on
//! stdout or stderr, not in any file we write (the ignore file, the hook).

use std::path::PathBuf;
use std::process::{Command, Output};

use base64::Engine as _;

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

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
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

    let out = repo.xtask(&["scan", "--add-to-ignore"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let ignore = std::fs::read_to_string(repo.root.join(".xtask-scan-ignore")).unwrap();
    assert!(!ignore.contains(&key[..16]), "{ignore}");
    assert_no_canary("ignore file", &ignore);
    let out = repo.xtask(&["scan", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(json(&out)["report"]["suppressed"], 1);
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
}
