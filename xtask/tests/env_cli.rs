//! The settings commands as a user runs them: `env status|check|init|example|gen-key`
//! and `doctor`, with canary secrets that must never come out.

// Unix only (it checks the `.env` file's Unix mode); the
// Windows behaviour is covered by the library's unit tests.
#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Output;

use support::{text, xtask};

/// A canary per secret variable: some shaped to pass the format check, some
/// not, so both the valid and the invalid paths run. The marker `CNRY` and
/// each value's unique tail must never be printed.
fn canaries() -> Vec<(&'static str, String)> {
    support::example_registry()
        .vars()
        .iter()
        .filter(|v| v.secret)
        .enumerate()
        .map(|(i, v)| {
            let tail = format!("CNRY{i:02}x7Qz");
            let value = match v.name {
                "TWINE_PASSWORD" | "TWINE_PASSWORD_TEST" => format!("pypi-AgEIcHlwaS5vcmc{tail}"),
                "HF_TOKEN" => format!("hf_{tail}abcdef"),
                "ANTHROPIC_API_KEY" => format!("sk-ant-api03-{tail}-bad value"),
                "AUDIT_HMAC_KEY" => format!("{tail}{}", "ab".repeat(40)),
                "REDIS_URL" => format!("redis://:{tail}@cache.example.org:6379/0"),
                _ => format!("{tail}-secret-value"),
            };
            (v.name, value)
        })
        .collect()
}

fn assert_no_canary(what: &str, haystack: &str) {
    for (name, value) in canaries() {
        assert!(
            !haystack.contains(&value),
            "{what}: value of {name} leaked:\n{haystack}"
        );
        let tail = &value[value.find("CNRY").unwrap()..][..10];
        assert!(
            !haystack.contains(tail),
            "{what}: part of {name} leaked:\n{haystack}"
        );
    }
    assert!(
        !haystack.contains("CNRY"),
        "{what}: a canary leaked:\n{haystack}"
    );
}

/// The canaries as `.env` text, in each way a user writes values: single
/// quotes, double quotes, and through `${…}` expansion of an earlier line
/// after a stale duplicate (last wins, so every canary is read).
fn env_file_texts() -> Vec<String> {
    let mut single = String::new();
    let mut double = String::new();
    let mut expanded = String::new();
    for (name, value) in canaries() {
        single.push_str(&format!("{name}='{value}'\n"));
        double.push_str(&format!("{name}=\"{value}\"\n"));
        expanded.push_str(&format!(
            "{name}=stale-CNRY-{name}\nSRC_{name}='{value}'\n{name}=${{SRC_{name}}}\n"
        ));
    }
    let mut texts = vec![single, double, expanded];
    for t in &mut texts {
        t.push_str("S3_AUDIT_BUCKET=audit-bucket\n");
    }
    texts
}

/// Every command of the settings core, success and failure paths.
fn all_commands(root: &Path) -> Vec<Vec<String>> {
    let r = root.display().to_string();
    let mut cmds: Vec<Vec<&str>> = vec![
        vec!["env", "status"],
        vec!["env", "status", "--json"],
        vec!["env", "check"],
        vec!["env", "check", "--json"],
        vec!["env", "check", "--production"],
        vec![
            "env",
            "check",
            "--for",
            "publish-testpypi",
            "--for",
            "deploy",
        ],
        vec!["env", "example", "--check", "--root", &r],
        vec!["env", "example", "--root", &r],
        vec!["env", "gen-key"],
        vec!["env", "check", "--for", "nope-pypi-AgEIcHlwaS5vcmcCNRYzz"],
        vec!["doctor"],
        vec!["doctor", "--json"],
    ];
    let mut all = vec![
        "publish",
        "publish-testpypi",
        "vsce",
        "hf-prefetch",
        "headless",
        "audit",
    ];
    all.extend(["dashboard", "federation", "otel", "s3-audit", "deploy"]);
    let mut check_all = vec!["env", "check", "--production", "--for"];
    check_all.extend(all.iter().copied());
    cmds.push(check_all);
    cmds.into_iter()
        .map(|c| c.into_iter().map(String::from).collect())
        .collect()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push(p);
        }
    }
    out
}

#[test]
fn canaries_never_leave_through_env_file() {
    let tmp = support::example_vars_dir();
    let envf = tmp.path().join(".env");
    let nested = tmp.path().join("sub/dir");
    std::fs::create_dir_all(&nested).unwrap();
    for (i, file) in env_file_texts().iter().enumerate() {
        std::fs::write(&envf, file).unwrap();
        let mut codes = Vec::new();
        for args in all_commands(tmp.path()) {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = xtask(&nested, &[], &args);
            assert_no_canary(&format!("file {i}: {args:?}"), &text(&out));
            codes.push(out.status.code());
        }
        // Both paths ran: some commands failed their checks, some succeeded.
        assert!(
            codes.contains(&Some(0)) && codes.contains(&Some(3)),
            "file {i}: {codes:?}"
        );
    }
    // `env init --force` over the canary .env, then every file written.
    let out = xtask(
        &nested,
        &[],
        &[
            "env",
            "init",
            "--root",
            &tmp.path().display().to_string(),
            "--force",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_no_canary("env init", &text(&out));
    for f in files_under(tmp.path()) {
        let content = String::from_utf8_lossy(&std::fs::read(&f).unwrap()).into_owned();
        assert_no_canary(&f.display().to_string(), &content);
    }
}

#[test]
fn canaries_never_leave_through_environment() {
    let tmp = support::example_vars_dir();
    let canaries = canaries();
    let mut env: Vec<(&str, &str)> = canaries.iter().map(|(k, v)| (*k, v.as_str())).collect();
    env.push(("S3_AUDIT_BUCKET", "audit-bucket"));
    for args in all_commands(tmp.path()) {
        let mut args: Vec<&str> = args.iter().map(String::as_str).collect();
        args.push("--no-env-file");
        let out = xtask(tmp.path(), &env, &args);
        assert_no_canary(&format!("{args:?}"), &text(&out));
    }
    for f in files_under(tmp.path()) {
        assert_no_canary(
            &f.display().to_string(),
            &std::fs::read_to_string(&f).unwrap(),
        );
    }
}

#[test]
fn status_json_walks_up_and_reports_sources() {
    let tmp = example_folder_with(&[(
        ".env",
        "# comment\nVSCE_PAT=abcdefgh\nHF_TOKEN=hf_fromthefile\n",
    )]);
    let nested = tmp.path().join("a/b/c");
    std::fs::create_dir_all(&nested).unwrap();
    let out = xtask(
        &nested,
        &[("HF_TOKEN", "hf_fromtheenvironment")],
        &["env", "status", "--json"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let envf = tmp.path().join(".env").display().to_string();
    assert_eq!(json["env_file"], envf.as_str());
    let var = |name: &str| status_var(&out, name);
    let pat = var("VSCE_PAT");
    assert_eq!(pat["source"], "env_file");
    assert_eq!(pat["file"], envf.as_str());
    assert_eq!(pat["line"], 2);
    assert_eq!(pat["set"], true);
    assert_eq!(pat["required_for"], serde_json::json!(["vsce"]));
    assert_eq!(var("HF_TOKEN")["source"], "environment");
    assert_eq!(var("TWINE_USERNAME")["source"], "default");
    assert_eq!(var("TWINE_PASSWORD")["source"], "unset");
    assert_eq!(var("TWINE_PASSWORD")["valid"], serde_json::Value::Null);
    assert_eq!(var("AUDIT_HMAC_KEY")["source"], "dev_default");
    assert_eq!(
        json["variables"].as_array().unwrap().len(),
        support::example_registry().vars().len()
    );
    assert!(!String::from_utf8_lossy(&out.stdout).contains("fromthe"));
}

#[test]
fn bad_env_files_exit_3_with_file_and_line() {
    let tmp = support::example_vars_dir();
    let envf = tmp.path().join(".env");
    let cases: &[(&[u8], &str)] = &[
        (
            b"A=1\nB=\"hunter2-unclosed\nC=3\n",
            ".env:2: a quote opened here is never closed",
        ),
        (
            b"A=1\n\nMY KEY=hunter2\n",
            ".env:3: more text after the name without `=`",
        ),
        (b"A=1\n=hunter2\n", ".env:2: missing the variable's name"),
        (
            b"A=1\nB='hunter2' trailing\n",
            ".env:2: text after the closing quote",
        ),
        (b"A=1\nB=hunter2\xff\xfe\n", ".env:2: not valid UTF-8"),
    ];
    for (content, expected) in cases {
        std::fs::write(&envf, content).unwrap();
        let out = xtask(tmp.path(), &[], &["env", "status"]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(3), "{t}");
        assert!(t.contains(expected), "expected {expected:?} in:\n{t}");
        assert!(!t.contains("hunter2"), "{t}");
        if !expected.contains("UTF-8") {
            assert!(t.contains("python-dotenv skips this line"), "{t}");
        }
    }
    std::fs::remove_file(&envf).unwrap();
    std::fs::create_dir(&envf).unwrap();
    let out = xtask(tmp.path(), &[], &["env", "check", "--env-file", ".env"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("is a folder, not a file"),
        "{}",
        text(&out)
    );
}

/// The `variables` entry of `name` in `env status --json` output.
fn status_var(out: &Output, name: &str) -> serde_json::Value {
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    json["variables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap()
        .clone()
}

#[test]
fn warnings_for_duplicates_and_padding_never_show_values() {
    let tmp = example_folder_with(&[(
        ".env",
        "VSCE_PAT=first-hunter2\nHF_TOKEN= hf_padded-hunter2 \nVSCE_PAT=second-hunter2\n",
    )]);
    let out = xtask(tmp.path(), &[], &["env", "status", "--json"]);
    assert!(out.status.success());
    let t = text(&out);
    assert!(
        t.contains(".env:3: VSCE_PAT is set again (also at line 1); the last value is used"),
        "{t}"
    );
    assert!(
        t.contains(".env:2: the value of HF_TOKEN has spaces around it"),
        "{t}"
    );
    assert!(!t.contains("hunter2"), "{t}");
    // The last value is the one in effect, as python-dotenv and compose read it.
    assert_eq!(status_var(&out, "VSCE_PAT")["line"], 3);
}

/// Shapes dotenvy refused (exit 3) or read otherwise, now read as the
/// Python app's python-dotenv reads them; nothing of a value is printed.
#[test]
fn python_dotenv_shapes_expansion_and_dollar_secrets() {
    let tmp = example_folder_with(&[(
        ".env",
        concat!(
            "S3_AUDIT_BUCKET=\"audit\\tbucket\"\n",
            "NOTE='it\\'s fine'\n",
            "GREETING=two words CNRYspace\n",
            "BARE_NAME_ONLY\n",
            "AWS_DEFAULT_REGION=${UNDEFINED_REGION:-eu-west-1}\n",
            "REDIS_PASSWORD=CNRYredis7Qz\n",
            "REDIS_URL=redis://:${REDIS_PASSWORD}@${REDIS_HOST:-cache.example.org}:6379/0\n",
            "OTEL_EXPORTER_OTLP_ENDPOINT=${OTEL_HOST}:notaport\n",
            "VSCE_PAT=pa$wordCNRYvsce\n",
        ),
    )]);
    let out = xtask(tmp.path(), &[], &["env", "status", "--json"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(!t.contains("CNRY"), "{t}");
    let region = status_var(&out, "AWS_DEFAULT_REGION");
    assert_eq!(region["source"], "env_file", "{region}");
    assert_eq!(region["expanded"], true);
    assert_eq!(region["valid"], true);
    let redis = status_var(&out, "REDIS_URL");
    assert_eq!(redis["expanded"], true);
    assert_eq!(redis["valid"], true, "{redis}");
    let otel = status_var(&out, "OTEL_EXPORTER_OTLP_ENDPOINT");
    assert_eq!(otel["expanded"], true);
    assert_eq!(otel["valid"], false);
    assert!(
        otel["problem"]
            .as_str()
            .unwrap()
            .contains("after expanding `${…}`"),
        "{otel}"
    );
    let pat = status_var(&out, "VSCE_PAT");
    assert_eq!(pat["expanded"], false);
    assert_eq!(pat["set"], true);
    assert!(
        t.contains(".env:9: docker compose reads VSCE_PAT differently: it substitutes `$NAME`"),
        "{t}"
    );
    assert!(
        t.contains(".env:4: this line holds only a name, no `=`"),
        "{t}"
    );
    assert!(
        t.contains(".env:8: the value of OTEL_EXPORTER_OTLP_ENDPOINT refers with `${…}` to a variable set neither"),
        "{t}"
    );
    // The text form says which values were expanded, never what they hold.
    let out = xtask(tmp.path(), &[], &["env", "status"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(!t.contains("CNRY"), "{t}");
    assert_eq!(t.matches("^ expanded:").count(), 3, "{t}");
    // The environment wins over the file and over what `${…}` sees first.
    let out = xtask(
        tmp.path(),
        &[
            ("REDIS_HOST", "bad host name"),
            ("AWS_DEFAULT_REGION", "us-west-2"),
        ],
        &["env", "status", "--json"],
    );
    assert_eq!(status_var(&out, "REDIS_URL")["valid"], false);
    let region = status_var(&out, "AWS_DEFAULT_REGION");
    assert_eq!(region["source"], "environment");
    assert_eq!(region["expanded"], false);
}

#[test]
fn check_lists_every_problem_and_production_refuses_dev_key() {
    let tmp = support::example_vars_dir();
    let out = xtask(
        tmp.path(),
        &[("REDIS_URL", "http://nope")],
        &["env", "check", "--for", "vsce", "federation", "publish"],
    );
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    for needle in [
        "3 problems",
        "VSCE_PAT: is not set",
        "REDIS_URL: is not valid",
        "TWINE_PASSWORD: is not set",
        "fix:",
    ] {
        assert!(t.contains(needle), "{needle}: {t}");
    }
    let dev = [("AUDIT_HMAC_KEY", "dev_only_audit_key_DO_NOT_USE_IN_PROD")];
    assert_eq!(
        xtask(tmp.path(), &dev, &["env", "check", "--for", "audit"])
            .status
            .code(),
        Some(0)
    );
    let out = xtask(
        tmp.path(),
        &dev,
        &["env", "check", "--for", "audit", "--production"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        text(&out).contains("AUDIT_HMAC_KEY: holds the development default"),
        "{}",
        text(&out)
    );
    let good = "0123456789abcdef".repeat(4);
    let out = xtask(
        tmp.path(),
        &[("AUDIT_HMAC_KEY", &good)],
        &["env", "check", "--for", "audit", "--production"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
}

#[test]
fn init_writes_0600_with_keys_and_refuses_to_overwrite() {
    let tmp = support::example_vars_dir();
    let root = tmp.path().display().to_string();
    let out = xtask(tmp.path(), &[], &["env", "init", "--root", &root]);
    assert!(out.status.success(), "{}", text(&out));
    let envf = tmp.path().join(".env");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(
            std::fs::metadata(&envf).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }
    let first = std::fs::read_to_string(&envf).unwrap();
    let key = first
        .lines()
        .find_map(|l| l.strip_prefix("AUDIT_HMAC_KEY="))
        .unwrap();
    assert_eq!(key.len(), 64);
    assert!(
        !text(&out).contains(key),
        "the generated key is not printed"
    );
    let dash = first
        .lines()
        .find_map(|l| l.strip_prefix("DASHBOARD_API_KEY="))
        .unwrap();
    assert_eq!(dash.len(), 48);
    let out = xtask(
        tmp.path(),
        &[],
        &[
            "env",
            "check",
            "--for",
            "audit",
            "dashboard",
            "--production",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "the fresh keys pass production checks: {}",
        text(&out)
    );
    let out = xtask(tmp.path(), &[], &["env", "init", "--root", &root]);
    assert_eq!(out.status.code(), Some(3));
    assert!(text(&out).contains("already exists"), "{}", text(&out));
    assert_eq!(std::fs::read_to_string(&envf).unwrap(), first);
}

#[test]
fn example_check_detects_stale_file() {
    let tmp = support::example_vars_dir();
    let root = tmp.path().display().to_string();
    assert_eq!(
        xtask(
            tmp.path(),
            &[],
            &["env", "example", "--check", "--root", &root]
        )
        .status
        .code(),
        Some(1)
    );
    assert!(
        xtask(tmp.path(), &[], &["env", "example", "--root", &root])
            .status
            .success()
    );
    assert!(
        xtask(
            tmp.path(),
            &[],
            &["env", "example", "--check", "--root", &root]
        )
        .status
        .success()
    );
}

#[test]
fn committed_env_example_is_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let committed = std::fs::read_to_string(root.join(".env.example")).unwrap();
    assert_eq!(
        committed,
        release_kit::settings::envfile::example(&support::example_registry()),
        ".env.example is stale: run `cargo xtask env example` and commit it"
    );
}

#[test]
fn gen_key_and_usage_errors() {
    let tmp = support::example_vars_dir();
    let out = xtask(tmp.path(), &[], &["env", "gen-key", "--bytes", "16"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim().len(), 32);
    let out = xtask(tmp.path(), &[], &["env", "gen-key", "--bytes", "0"]);
    assert_eq!(out.status.code(), Some(2));
    // A token pasted in place of a step name is masked in clap's error.
    let out = xtask(
        tmp.path(),
        &[],
        &["env", "check", "--for", "pypi-AgEIcHlwaS5vcmcSECRETSECRET"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(!text(&out).contains("SECRETSECRET"), "{}", text(&out));
    assert!(text(&out).contains("unknown step"), "{}", text(&out));
}

#[test]
fn help_teaches() {
    let tmp = support::example_vars_dir();
    let out = xtask(tmp.path(), &[], &["env", "check", "--help"]);
    let t = text(&out);
    assert!(out.status.success());
    assert!(
        t.contains("--production") && t.contains("--for <STEP>"),
        "{t}"
    );
    let out = xtask(tmp.path(), &[], &["--help"]);
    assert!(text(&out).contains("Exit codes"), "{}", text(&out));
}

/// A project whose Python package is `mult-agentes`.
/// A folder with `files` that is a project declaring the example's
/// variables.
fn example_folder_with(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = support::folder_with(files);
    support::declare_example_variables(dir.path());
    dir
}

fn project_dir() -> tempfile::TempDir {
    example_folder_with(&[
        ("release-kit.toml", "[python]\npath = \".\"\n"),
        (
            "pyproject.toml",
            "[project]\nname = \"mult-agentes\"\nversion = \"0.1.0\"\n",
        ),
    ])
}

#[test]
fn token_scope_is_checked_wherever_the_token_is() {
    use release_kit::decode::pypi_token::build_test_token;
    let tmp = project_dir();
    // Scoped to another project: refused by check (exit 3) and status.
    let other = build_test_token("pypi.org", "CANARY-id-1", &["[1,[\"someone-else\"]]"]);
    let env = [("TWINE_PASSWORD", other.as_str())];
    let out = xtask(tmp.path(), &env, &["env", "check", "--for", "publish"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(
        t.contains("TWINE_PASSWORD: is scoped to someone-else and cannot upload mult-agentes"),
        "{t}"
    );
    let out = xtask(tmp.path(), &env, &["env", "status"]);
    let t = text(&out);
    assert!(
        t.contains("token: pypi.org, scoped to someone-else, no expiry"),
        "{t}"
    );
    assert!(t.contains("INVALID"), "{t}");
    let v = status_var(
        &xtask(tmp.path(), &env, &["--json", "env", "status"]),
        "TWINE_PASSWORD",
    );
    assert_eq!(v["valid"], false);
    assert_eq!(v["token"], "pypi.org, scoped to someone-else, no expiry");

    // Account-wide: a warning, exit 0.
    let wide = build_test_token("pypi.org", "CANARY-id-2", &["[3,\"user-1\"]"]);
    let env = [("TWINE_PASSWORD", wide.as_str())];
    let out = xtask(tmp.path(), &env, &["env", "check", "--for", "publish"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(t.contains("account-wide"), "{t}");
    let out = xtask(tmp.path(), &env, &["env", "status"]);
    let t = text(&out);
    assert!(t.contains("warning: is account-wide"), "{t}");

    // Scoped to this project: valid, no warning.
    let mine = build_test_token("pypi.org", "CANARY-id-3", &["[1,[\"mult_agentes\"]]"]);
    let env = [("TWINE_PASSWORD", mine.as_str())];
    let out = xtask(tmp.path(), &env, &["env", "check", "--for", "publish"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(0), "{t}");
    assert!(
        !t.contains("account-wide") && !t.contains("cannot upload"),
        "{t}"
    );
    // No token ever printed, whatever the verdict.
    for token in [&other, &wide, &mine] {
        for args in [&["env", "status"][..], &["--json", "env", "status"][..]] {
            let out = xtask(tmp.path(), &[("TWINE_PASSWORD", token.as_str())], args);
            assert!(!text(&out).contains(token.as_str()), "{args:?}");
        }
    }
}

/// [`xtask`] that fails the test instead of hanging when the command has
/// not ended within 20 s.
fn xtask_timed(cwd: &Path, args: &[&str]) -> Output {
    use std::process::Stdio;
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(cwd)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("xtask runs");
    let start = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > std::time::Duration::from_secs(20) {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`xtask {}` hung", args.join(" "));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

/// Makes a named pipe at `path` (the real `mkfifo`).
fn mkfifo(path: &Path) {
    let made = std::process::Command::new("mkfifo").arg(path).status();
    assert!(made.unwrap().success());
}

#[cfg(unix)]
#[test]
fn a_fifo_or_device_env_never_hangs_any_command() {
    let tmp = project_dir();
    let fifo = tmp.path().join(".env");
    mkfifo(&fifo);
    // A usage error reads .env too (for the values to hide): it must not block.
    let out = xtask_timed(tmp.path(), &["env", "status", "--bogus-flag"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for args in [&["env", "status"][..], &["doctor"], &["scan", "."]] {
        let out = xtask_timed(tmp.path(), args);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {t}");
        assert!(
            t.contains(".env: is a named pipe (FIFO), not a regular file"),
            "{t}"
        );
    }
    let dev = tmp.path().join("dev.env");
    std::os::unix::fs::symlink("/dev/zero", &dev).unwrap();
    let out = xtask_timed(tmp.path(), &["--env-file", "dev.env", "env", "status"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(3), "{t}");
    assert!(
        t.contains("dev.env: is a device, not a regular file"),
        "{t}"
    );
}

#[test]
fn a_token_pasted_alone_in_env_is_never_echoed() {
    let tmp = project_dir();
    let token = "hf_CNRYpastedAlone0123456789abcdefgh";
    std::fs::write(
        tmp.path().join(".env"),
        format!("TWINE_USERNAME=__token__\n{token}\n"),
    )
    .unwrap();
    let out = xtask(
        tmp.path(),
        &[("GITHUB_ACTIONS", "true")],
        &["env", "status"],
    );
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(
        t.contains(".env:2: this line holds only a name, no `=`"),
        "{t}"
    );
    assert!(!t.contains("CNRY"), "{t}");
}

/// A one-connection Redis stand-in on 127.0.0.1 that reads the first
/// command and answers `reply` with that command's words appended (a server
/// that echoes `AUTH user password` back).
fn hostile_redis(reply: &'static str) -> u16 {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let Ok((mut conn, _)) = listener.accept() else {
            return;
        };
        let mut buf = [0u8; 4096];
        let n = conn.read(&mut buf).unwrap_or(0);
        let echoed = String::from_utf8_lossy(&buf[..n]).replace("\r\n", " ");
        let _ = conn.write_all(format!("{reply}{echoed}\r\n").as_bytes());
        let _ = conn.read(&mut buf);
    });
    port
}

#[test]
fn a_hostile_redis_neither_panics_nor_prints_the_password() {
    let tmp = project_dir();
    for reply in ["\u{e9}", "\u{1F600}ERR ", "-ERR unknown command ", "+"] {
        let port = hostile_redis(reply);
        let url = format!("redis://app:CNRYredisPw42@127.0.0.1:{port}/0");
        let out = xtask(
            tmp.path(),
            &[("REDIS_URL", &url)],
            &["--no-env-file", "env", "verify", "--json", "redis"],
        );
        let t = text(&out);
        assert_eq!(out.status.code(), Some(1), "{reply:?}: {t}");
        assert!(
            !t.contains("panicked") && !t.contains("internal error"),
            "{t}"
        );
        assert!(!t.contains("CNRY"), "{reply:?}: {t}");
    }
}

#[test]
fn token_shaped_arguments_are_masked_in_every_error() {
    let tmp = project_dir();
    // An hf-token by the scanner's rule: hf_ and 34 letters, mixed case.
    let token = format!("hf_{}", "CnRyArgumentTokenabcdefghijklmnopq");
    let runs: [Vec<String>; 6] = [
        vec![
            "hf-prefetch".into(),
            "--offline".into(),
            "--model".into(),
            token.clone(),
        ],
        vec![
            "hf-prefetch".into(),
            "--offline".into(),
            format!("--model=org/x@{token}"),
        ],
        vec!["build".into(), "--package".into(), token.clone()],
        vec!["publish".into(), "--package".into(), token.clone()],
        vec!["env".into(), "rotate".into(), token.clone()],
        vec![
            "env".into(),
            "export".into(),
            "--to=docker".into(),
            "--dry-run".into(),
            format!("--group={token},pypi"),
        ],
    ];
    for args in runs {
        let mut all = vec!["--no-env-file"];
        all.extend(args.iter().map(String::as_str));
        let out = xtask(tmp.path(), &[], &all);
        let t = text(&out);
        assert!(!out.status.success(), "{args:?}: {t}");
        assert!(!t.contains("CnRy"), "{args:?}: {t}");
        // Masked by the CLI, or never quoted by the library at all.
        assert!(
            t.contains("********") || t.contains("value not shown"),
            "{args:?}: {t}"
        );
    }
}

#[cfg(unix)]
fn mode_of(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[cfg(unix)]
fn is_link(p: &Path) -> bool {
    std::fs::symlink_metadata(p)
        .unwrap()
        .file_type()
        .is_symlink()
}

#[cfg(unix)]
#[test]
fn rotate_and_init_write_through_a_symlinked_env() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = project_dir();
    let secrets = tmp.path().join("secrets");
    std::fs::create_dir(&secrets).unwrap();
    let real = secrets.join("real.env");
    let old = "CNRY".to_owned() + &"ab12".repeat(15);
    std::fs::write(&real, format!("DASHBOARD_API_KEY={old}\n")).unwrap();
    std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o640)).unwrap();
    let link = tmp.path().join(".env");
    std::os::unix::fs::symlink("secrets/real.env", &link).unwrap();
    let out = xtask(tmp.path(), &[], &["env", "rotate", "DASHBOARD_API_KEY"]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(is_link(&link), "the link was replaced");
    let now = std::fs::read_to_string(&real).unwrap();
    assert!(
        now.starts_with("DASHBOARD_API_KEY=") && !now.contains(&old),
        "the real file kept the old key"
    );
    assert_eq!(mode_of(&real), 0o640);
    assert!(!t.contains(&old), "{t}");
    // `env init --force` writes the target too, private.
    let out = xtask(tmp.path(), &[], &["env", "init", "--force"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(is_link(&link), "init replaced the link");
    assert!(
        std::fs::read_to_string(&real)
            .unwrap()
            .contains("DASHBOARD_API_KEY=")
    );
    assert_eq!(mode_of(&real), 0o600);
}

#[cfg(unix)]
#[test]
fn example_writes_a_linked_target_atomically_or_refuses() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = project_dir();
    let shared = tmp.path().join("shared.example");
    std::fs::write(&shared, "stale\n").unwrap();
    std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o664)).unwrap();
    let link = tmp.path().join(".env.example");
    std::os::unix::fs::symlink("shared.example", &link).unwrap();
    let out = xtask_timed(tmp.path(), &["--root", ".", "env", "example"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(is_link(&link));
    assert!(
        std::fs::read_to_string(&shared)
            .unwrap()
            .contains("TWINE_PASSWORD=")
    );
    assert_eq!(mode_of(&shared), 0o664);
    // A link to a pipe is refused, never opened (which would block).
    std::fs::remove_file(&link).unwrap();
    let fifo = tmp.path().join("pipe");
    mkfifo(&fifo);
    std::os::unix::fs::symlink("pipe", &link).unwrap();
    let out = xtask_timed(tmp.path(), &["--root", ".", "env", "example"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("pipe: is not a regular file; nothing was written"),
        "{t}"
    );
}

#[cfg(unix)]
#[test]
fn hooks_install_never_writes_outside_the_hooks_folder_through_a_link() {
    let tmp = project_dir();
    let git = |args: &[&str]| {
        let ok = std::process::Command::new("git")
            .current_dir(tmp.path())
            .args(args)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
    };
    git(&["init", "-q"]);
    let victim = tmp.path().join("victim.sh");
    std::fs::write(&victim, "#!/bin/sh\necho mine\n").unwrap();
    let hooks = tmp.path().join(".git/hooks");
    std::fs::create_dir_all(&hooks).unwrap();
    let hook = hooks.join("pre-commit");
    std::os::unix::fs::symlink(&victim, &hook).unwrap();
    let out = xtask(tmp.path(), &[], &["hooks", "install"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains("pre-commit: is a symbolic link to") && t.contains("victim.sh"),
        "{t}"
    );
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "#!/bin/sh\necho mine\n"
    );
    assert_eq!(
        mode_of(&victim) & 0o111,
        0,
        "the target was made executable"
    );
    assert!(is_link(&hook));
    let leftovers: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .chain(std::fs::read_dir(&hooks).unwrap())
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("saved"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
    // A hooks folder that is itself a link is refused too.
    std::fs::remove_file(&hook).unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::remove_dir_all(&hooks).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &hooks).unwrap();
    let out = xtask(tmp.path(), &[], &["hooks", "install"]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("hooks: is a symbolic link to"), "{t}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn init_leaves_defaults_to_the_app_and_an_empty_value_is_flagged() {
    let tmp = support::example_vars_dir();
    let root = tmp.path().display().to_string();
    let out = xtask(tmp.path(), &[], &["env", "init", "--root", &root]);
    assert!(out.status.success(), "{}", text(&out));
    let envf = tmp.path().join(".env");
    let written = std::fs::read_to_string(&envf).unwrap();
    // Unset optional variables are commented out, with their default.
    assert!(
        written.contains("\n# AWS_DEFAULT_REGION=us-east-1\n"),
        "{written}"
    );
    assert!(
        !written
            .lines()
            .any(|l| l.ends_with('=') && !l.starts_with('#')),
        "{written}"
    );
    let status = |envf_text: &str| {
        std::fs::write(&envf, envf_text).unwrap();
        let out = xtask(
            tmp.path(),
            &[],
            &["--json", "env", "status", "--root", &root],
        );
        assert!(out.status.success(), "{}", text(&out));
        let all = text(&out);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let vars = v["variables"]
            .as_array()
            .or_else(|| v.as_array())
            .cloned()
            .unwrap();
        let region = vars
            .into_iter()
            .find(|x| x["name"] == "AWS_DEFAULT_REGION")
            .unwrap();
        (region, all)
    };
    let (region, _) = status(&written);
    assert_eq!(region["source"], "default");
    assert!(region.get("warnings").is_none(), "{region}");
    // `KEY=`: python-dotenv sets "", so the app never sees the default.
    let (region, _) = status(&format!("{written}AWS_DEFAULT_REGION=\n"));
    let warning = region["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.contains("is set but empty")
            && warning.contains("the app will read an empty string, not the default `us-east-1`"),
        "{region}"
    );
}

/// `env rotate` searches for the OLD value: given with `--old-from FILE|-`
/// when .env already holds the new one; found in history and a log
/// (base64); `--leaked` revokes first and purges; the live check is `env
/// verify`; no `gh secret set` for a token trusted publishing replaces.
/// Neither value is ever printed.
#[test]
fn rotate_finds_the_old_value_in_history_and_logs_and_orders_a_leak() {
    use base64::Engine as _;
    use std::io::Write as _;
    let tmp = support::example_vars_dir();
    let root = tmp.path().join("repo");
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    let git = |args: &[&str]| {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(&root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    };
    git(&["init", "-q", "-b", "main"]);
    let old = release_kit::decode::pypi_token::build_test_token("pypi.org", "CANARYrotold1", &[]);
    let new = release_kit::decode::pypi_token::build_test_token("pypi.org", "CANARYrotnew2", &[]);
    std::fs::write(
        root.join("deploy.sh"),
        format!("export TWINE_PASSWORD={old}\n"),
    )
    .unwrap();
    std::fs::write(
        root.join(".github/workflows/release.yml"),
        "jobs:\n  publish:\n    permissions:\n      id-token: write\n",
    )
    .unwrap();
    std::fs::write(root.join(".gitignore"), ".env\n").unwrap();
    git(&["add", "-A"]);
    git(&["commit", "-q", "-m", "leak"]);
    std::fs::remove_file(root.join("deploy.sh")).unwrap();
    git(&["commit", "-q", "-am", "remove"]);
    // .env already holds the new token.
    std::fs::write(root.join(".env"), format!("TWINE_PASSWORD={new}\n")).unwrap();
    let log = tmp.path().join("run.log");
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("TWINE_PASSWORD={old}"));
    std::fs::write(&log, format!("step\n{b64}\n")).unwrap();
    let old_file = tmp.path().join("old.txt");
    std::fs::write(&old_file, format!("{old}\n")).unwrap();
    let r = root.display().to_string();
    let l = log.display().to_string();
    let clean = |out: &Output| {
        let all = text(out);
        assert!(
            !all.contains(&old[5..]) && !all.contains(&new[5..]),
            "{all}"
        );
        assert!(!all.contains(&b64), "{all}");
        all
    };

    // The value set now is the new one: nothing found, and it says why.
    let out = xtask(
        &root,
        &[],
        &[
            "env",
            "rotate",
            "TWINE_PASSWORD",
            "--root",
            &r,
            "--logs",
            &l,
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let all = clean(&out);
    assert!(
        all.contains("not found in") && all.contains("--old-from"),
        "{all}"
    );

    // The old one from a file, as a leak.
    let args = [
        "env",
        "rotate",
        "TWINE_PASSWORD",
        "--root",
        &r,
        "--logs",
        &l,
        "--leaked",
        "--old-from",
        old_file.to_str().unwrap(),
    ];
    let out = xtask(&root, &[], &args);
    assert!(out.status.success(), "{}", text(&out));
    let all = clean(&out);
    assert!(
        all.contains("deploy.sh:1:") && all.contains("run.log:2:"),
        "{all}"
    );
    assert!(all.contains("(base64)"), "{all}");
    let first = all.find("1. First, revoke the leaked value").expect(&all);
    let create = all.find("2. Create the new value").expect(&all);
    assert!(first < create, "{all}");
    assert!(all.contains("cargo xtask env verify pypi"), "{all}");
    assert!(all.contains("gh run delete"), "{all}");
    assert!(all.contains("git filter-repo"), "{all}");
    assert!(!all.contains("gh secret set TWINE_PASSWORD"), "{all}");
    assert!(all.contains("trusted publishing"), "{all}");

    // From stdin, scheduled: revoke last.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
        .current_dir(&root)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap())
        .args([
            "env",
            "rotate",
            "TWINE_PASSWORD",
            "--root",
            &r,
            "--old-from",
            "-",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(old.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let all = clean(&out);
    assert!(all.contains("deploy.sh:1:"), "{all}");
    assert!(all.contains("5. Last, revoke the old value"), "{all}");
}

/// `--json` prints a JSON result whatever happens, errors included.
#[test]
fn json_always_prints_a_json_result() {
    let tmp = example_folder_with(&[
        ("release-kit.toml", "[vscode]\nenabled = false\n"),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-01\n\n- x\n",
        ),
    ]);
    let root = tmp.path().display().to_string();
    for (args, code) in [
        (&["--json", "--root", &root, "changelog", "v9.9.9"][..], 3),
        (
            &["--json", "--root", &root, "changelog", "--check", "v0.1.0"][..],
            3,
        ),
    ] {
        let out = xtask(tmp.path(), &[], args);
        assert_eq!(out.status.code(), Some(code), "{args:?}\n{}", text(&out));
        let v: serde_json::Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{args:?}: {e}\n{}", text(&out)));
        assert_eq!(v["ok"], false, "{v}");
        assert_eq!(v["exit"], code, "{v}");
        assert!(!v["problems"].as_array().unwrap().is_empty(), "{v}");
    }
}

/// Help and tables say what they need: `env check --help` lists the
/// shipping steps (an unknown step the project's too),
/// `vsce-publish --help` names VSCE_PAT, `env status` has a column header.
#[test]
fn help_texts_name_steps_variables_and_columns() {
    let tmp = support::example_vars_dir();
    let out = xtask(tmp.path(), &[], &["env", "check", "--help"]);
    let help = text(&out);
    for step in release_kit::settings::Step::SHIPPING {
        assert!(help.contains(step.name()), "{step} not in:\n{help}");
    }
    // The project's own steps are named by its variables: an unknown
    // step's error lists them all.
    let out = xtask(tmp.path(), &[], &["env", "check", "--for", "nope"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    for step in support::example_registry().steps() {
        assert!(
            text(&out).contains(step.name()),
            "{step} not in:\n{}",
            text(&out)
        );
    }
    let out = xtask(tmp.path(), &[], &["vsce-publish", "--help"]);
    let help = text(&out);
    assert!(
        help.contains("VSCE_PAT") && help.contains("OVSX_PAT"),
        "{help}"
    );
    let out = xtask(tmp.path(), &[], &["--no-env-file", "env", "status"]);
    let header = String::from_utf8_lossy(&out.stdout)
        .lines()
        .find(|l| l.trim_start().starts_with("variable"))
        .map(str::to_owned)
        .unwrap_or_default();
    for column in ["set", "valid", "source", "needed by"] {
        assert!(header.contains(column), "{column}: {}", text(&out));
    }
}
