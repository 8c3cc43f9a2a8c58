//! `cargo xtask env export` as a user runs it: every file is mode 0600 and
//! reads back to the same values by the rules of the tool that reads it
//! (docker's env-file reader, systemd's EnvironmentFile parser, a YAML
//! parser); GitHub secrets reach a (fake) `gh` on standard input only; a
//! canary in every variable never reaches stdout, stderr or an argv.

// Unix only (it checks the files' Unix modes and its `gh` stand-in is an sh script); the
// Windows behaviour is covered by the library's unit tests.
#![cfg(unix)]

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Output;

use release_kit::envops::export::{Target, in_default_set};
use support::text;

/// [`support::xtask`] with owned values.
fn xtask(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    support::xtask(cwd, &env, args)
}

/// `cargo xtask --no-env-file env export ARGS…`: values from `env` only.
fn export(cwd: &Path, env: &[(&str, String)], args: &[&str]) -> Output {
    xtask(
        cwd,
        env,
        &[&["--no-env-file", "env", "export"][..], args].concat(),
    )
}

/// A canary value for every registry variable, each holding what trips
/// quoting: both quotes, `$` forms, `#`, backslashes, spaces (leading and
/// trailing), unicode, `=`, a backtick; with `multiline`, line breaks too.
/// Every one holds the marker `CNRY`.
fn canaries(multiline: bool) -> Vec<(&'static str, String)> {
    support::example_registry()
        .vars()
        .iter()
        .enumerate()
        .map(|(i, v)| {
            let tricky = match i % 5 {
                0 => r#"say "hi" & 'bye' $HOME ${X:-y} `id`"#,
                1 => r#"back\slash\ \\ \" \n end\"#,
                2 => " #not-a-comment = a=b=c ; | * ? [ ",
                3 => "unicode héllo ✓ 日本 🚀 \u{7f} nel\u{85} ls\u{2028}",
                _ => "$(echo pwned)",
            };
            let breaks = if multiline && i % 2 == 0 {
                "\nsecond line\r\nthird\n"
            } else {
                ""
            };
            (v.name, format!("CNRY{i:02}q {tricky}{breaks}tail"))
        })
        .collect()
}

fn assert_no_canary(what: &str, haystack: &str) {
    assert!(
        !haystack.contains("CNRY"),
        "{what}: a canary value leaked:\n{haystack}"
    );
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

/// The values `target` exports by default, from `env`.
fn expected(target: Target, env: &[(&'static str, String)]) -> BTreeMap<String, String> {
    env.iter()
        .filter(|(n, _)| in_default_set(target, support::example_registry().var(n).unwrap()))
        .map(|(n, v)| (n.to_string(), v.clone()))
        .collect()
}

/// docker/cli's reading of an `--env-file` (opts/file.go): lines split at
/// `\n` with a trailing `\r` dropped (Go's bufio.ScanLines), leading
/// whitespace trimmed, blank and `#` lines skipped, the rest split at the
/// first `=`; the name may not hold whitespace and the value is kept
/// verbatim: no quote removal, no unescaping, no trimming.
fn docker_read(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for raw in text.split_terminator('\n') {
        let line = raw.strip_suffix('\r').unwrap_or(raw).trim_start();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, value) = line.split_once('=').expect("docker needs KEY=VALUE here");
        let key = key.trim_start_matches([' ', '\t']);
        assert!(
            !key.contains([' ', '\t']) && !key.is_empty(),
            "bad key {key}"
        );
        out.insert(key.to_string(), value.to_string());
    }
    out
}

/// systemd's reading of an `EnvironmentFile=` (`parse_env_file_internal`
/// in src/basic/env-file.c, as `load_env_file` uses it: no `$`
/// expansion), state for state.
fn systemd_read(text: &str) -> BTreeMap<String, String> {
    #[derive(Clone, Copy, PartialEq)]
    enum S {
        PreKey,
        Key,
        PreValue,
        Value,
        ValueEscape,
        Single,
        Double,
        DoubleEscape,
        Comment,
        CommentEscape,
    }
    let ws = |c: char| " \t\n\r".contains(c);
    let nl = |c: char| c == '\n' || c == '\r';
    let mut out = BTreeMap::new();
    let (mut key, mut value) = (String::new(), None::<String>);
    let (mut key_ws, mut value_ws) = (None::<usize>, None::<usize>);
    let mut push = |key: &mut String, value: &mut Option<String>, key_ws: Option<usize>| {
        if let Some(i) = key_ws {
            key.truncate(i);
        }
        out.insert(std::mem::take(key), value.take().unwrap_or_default());
    };
    let mut state = S::PreKey;
    for c in text.chars() {
        state = match state {
            S::PreKey if "#;".contains(c) => S::Comment,
            S::PreKey if !ws(c) => {
                key_ws = None;
                key.push(c);
                S::Key
            }
            S::PreKey => S::PreKey,
            S::Key if nl(c) => {
                key.clear();
                S::PreKey
            }
            S::Key if c == '=' => {
                value_ws = None;
                S::PreValue
            }
            S::Key => {
                if !ws(c) {
                    key_ws = None;
                } else if key_ws.is_none() {
                    key_ws = Some(key.len());
                }
                key.push(c);
                S::Key
            }
            S::PreValue if nl(c) => {
                push(&mut key, &mut value, key_ws);
                S::PreKey
            }
            S::PreValue if c == '\'' => S::Single,
            S::PreValue if c == '"' => S::Double,
            S::PreValue if c == '\\' => S::ValueEscape,
            S::PreValue if !ws(c) => {
                value.get_or_insert_default().push(c);
                S::Value
            }
            S::PreValue => S::PreValue,
            S::Value if nl(c) => {
                if let (Some(i), Some(v)) = (value_ws, value.as_mut()) {
                    v.truncate(i);
                }
                push(&mut key, &mut value, key_ws);
                S::PreKey
            }
            S::Value if c == '\\' => {
                value_ws = None;
                S::ValueEscape
            }
            S::Value => {
                let v = value.get_or_insert_default();
                if !ws(c) {
                    value_ws = None;
                } else if value_ws.is_none() {
                    value_ws = Some(v.len());
                }
                v.push(c);
                S::Value
            }
            S::ValueEscape => {
                if !nl(c) {
                    value.get_or_insert_default().push(c);
                }
                S::Value
            }
            S::Single if c == '\'' => S::PreValue,
            S::Single => {
                value.get_or_insert_default().push(c);
                S::Single
            }
            S::Double if c == '"' => S::PreValue,
            S::Double if c == '\\' => S::DoubleEscape,
            S::Double => {
                value.get_or_insert_default().push(c);
                S::Double
            }
            S::DoubleEscape => {
                let v = value.get_or_insert_default();
                if "\"\\`$".contains(c) {
                    v.push(c);
                } else if c != '\n' {
                    v.push('\\');
                    v.push(c);
                }
                S::Double
            }
            S::Comment if c == '\\' => S::CommentEscape,
            S::Comment if nl(c) => S::PreKey,
            S::Comment => S::Comment,
            S::CommentEscape if nl(c) => S::PreKey,
            S::CommentEscape => S::Comment,
        };
    }
    if !matches!(state, S::PreKey | S::Key | S::Comment | S::CommentEscape) {
        if state == S::Value
            && let (Some(i), Some(v)) = (value_ws, value.as_mut())
        {
            v.truncate(i);
        }
        push(&mut key, &mut value, key_ws);
    }
    out
}

#[test]
fn the_test_readers_follow_their_tools() {
    // Readings stated in docker's and systemd's sources, so that the round
    // trips below are checked against the tools, not against our writer.
    let d = docker_read("# c\n  A=\"q\" x \r\nB==b\nC=\n");
    assert_eq!(d["A"], "\"q\" x ");
    assert_eq!(d["B"], "=b");
    assert_eq!(d["C"], "");
    let s = systemd_read(
        "# c \\\nA= plain  \nB=\"a\\\"b\\\\c\\$d\\xe\"\nC='x \\ y'\nD=a\\ b\\\nc\n;x\nE=\"multi\nline\"\n",
    );
    assert_eq!(s["A"], "plain");
    assert_eq!(s["B"], "a\"b\\c$d\\xe");
    assert_eq!(s["C"], "x \\ y");
    assert_eq!(s["D"], "a bc");
    assert_eq!(s["E"], "multi\nline");
    assert!(!s.contains_key(";x"));
}

#[test]
fn docker_env_file_round_trips_with_mode_0600() {
    let tmp = support::example_vars_dir();
    let values = canaries(false);
    let out = export(tmp.path(), &values, &["--to", "docker"]);
    assert!(out.status.success(), "{}", text(&out));
    assert_no_canary("docker export output", &text(&out));
    let path = tmp.path().join(".env.docker");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    let written = std::fs::read_to_string(&path).unwrap();
    assert_eq!(docker_read(&written), expected(Target::Docker, &values));
    // Publishing credentials stay out of a deployment.
    for name in ["TWINE_PASSWORD", "VSCE_PAT", "HF_TOKEN", "TWINE_USERNAME"] {
        assert!(!written.contains(name), "{name}");
    }
    assert!(text(&out).contains("docker run --env-file"));
    // And the real docker CLI reads it the same.
    match docker_cli_read(&path) {
        Some(env) => assert_eq!(env, expected(Target::Docker, &values)),
        None => eprintln!("no docker CLI on PATH: the real-reader check was not run"),
    }
}

/// What the real docker CLI sends a (fake) engine for
/// `docker create --env-file FILE`: the container's `Env`, as docker read
/// the file. `None` when no docker CLI is installed.
fn docker_cli_read(file: &Path) -> Option<BTreeMap<String, String>> {
    use std::io::{BufRead as _, BufReader, Read as _, Write as _};
    let docker = std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join("docker"))
        .find(|p| p.is_file())?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    // A minimal engine: answers the version ping, records the create
    // request's body and refuses it (nothing is run).
    let engine = std::thread::spawn(move || -> Option<String> {
        for conn in listener.incoming() {
            let mut conn = BufReader::new(conn.ok()?);
            loop {
                let mut request = String::new();
                if conn.read_line(&mut request).ok()? == 0 {
                    break;
                }
                let mut length = 0;
                loop {
                    let mut header = String::new();
                    conn.read_line(&mut header).ok()?;
                    if header.trim().is_empty() {
                        break;
                    }
                    if let Some((k, v)) = header.split_once(':')
                        && k.eq_ignore_ascii_case("content-length")
                    {
                        length = v.trim().parse().ok()?;
                    }
                }
                let mut body = vec![0; length];
                conn.read_exact(&mut body).ok()?;
                let stream = conn.get_mut();
                if request.contains("/_ping") {
                    stream
                        .write_all(b"HTTP/1.1 200 OK\r\nApi-Version: 1.47\r\nOstype: linux\r\nContent-Length: 0\r\n\r\n")
                        .ok()?;
                    continue;
                }
                let refusal = br#"{"message":"test engine: not creating anything"}"#;
                let head = format!(
                    "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                    refusal.len()
                );
                stream.write_all(head.as_bytes()).ok()?;
                stream.write_all(refusal).ok()?;
                if request.contains("/containers/create") {
                    return String::from_utf8(body).ok();
                }
            }
        }
        None
    });
    let out = std::process::Command::new(docker)
        .args(["create", "--env-file"])
        .arg(file)
        .arg("busybox")
        .env("DOCKER_HOST", format!("tcp://127.0.0.1:{port}"))
        .env(
            "DOCKER_CONFIG",
            file.parent().unwrap().join("docker-config"),
        )
        .output()
        .unwrap();
    assert!(
        !out.status.success(),
        "the test engine refuses every create"
    );
    let body = engine.join().unwrap().unwrap_or_else(|| {
        panic!(
            "docker sent no create request: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let config: serde_json::Value = serde_json::from_str(&body).unwrap();
    Some(
        config["Env"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kv| {
                let (k, v) = kv.as_str().unwrap().split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect(),
    )
}

#[test]
fn docker_refuses_a_line_break_naming_the_variable_and_writes_nothing() {
    let tmp = support::example_vars_dir();
    let values = canaries(true);
    let out = export(tmp.path(), &values, &["--to", "docker"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    let msg = text(&out);
    assert_no_canary("docker refusal", &msg);
    // Every deployment variable with a line break is named.
    for (i, (name, _)) in values.iter().enumerate() {
        let reg = support::example_registry();
        let var = reg.var(name).unwrap();
        if i % 2 == 0 && in_default_set(Target::Docker, var) {
            assert!(msg.contains(name), "{name} not named:\n{msg}");
        }
    }
    assert!(msg.contains("--to systemd"), "{msg}");
    assert!(!tmp.path().join(".env.docker").exists());
}

#[test]
fn systemd_environment_file_round_trips_multiline_values() {
    let tmp = support::example_vars_dir();
    let values = canaries(true);
    let dest = tmp.path().join("etc/app.env");
    std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
    let out = export(
        tmp.path(),
        &values,
        &["--to", "systemd", "--out", "etc/app.env"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_no_canary("systemd export output", &text(&out));
    #[cfg(unix)]
    assert_eq!(mode(&dest), 0o600);
    let written = std::fs::read_to_string(&dest).unwrap();
    assert_eq!(systemd_read(&written), expected(Target::Systemd, &values));
    assert!(text(&out).contains("EnvironmentFile="));
}

#[test]
fn k8s_secret_parses_back_to_the_same_string_data() {
    let tmp = support::example_vars_dir();
    let values = canaries(true);
    let out = export(
        tmp.path(),
        &values,
        &["--to", "k8s", "--name", "agents-env", "--namespace", "prod"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_no_canary("k8s export output", &text(&out));
    let path = tmp.path().join(".env.k8s.yaml");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    // A real YAML parser (PyYAML, in the test venv with huggingface_hub).
    let python = testkit::python::test_python().unwrap();
    let parsed = std::process::Command::new(python)
        .args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1], encoding='utf-8'))))",
        ])
        .arg(&path)
        .output()
        .unwrap();
    assert!(
        parsed.status.success(),
        "{}",
        String::from_utf8_lossy(&parsed.stderr)
    );
    let doc: serde_json::Value = serde_json::from_slice(&parsed.stdout).unwrap();
    assert_eq!(doc["apiVersion"], "v1");
    assert_eq!(doc["kind"], "Secret");
    assert_eq!(doc["type"], "Opaque");
    assert_eq!(doc["metadata"]["name"], "agents-env");
    assert_eq!(doc["metadata"]["namespace"], "prod");
    let data: BTreeMap<String, String> = serde_json::from_value(doc["stringData"].clone()).unwrap();
    assert_eq!(data, expected(Target::K8s, &values));
}

#[test]
fn values_are_exported_as_the_app_reads_them_and_unset_ones_listed() {
    let tmp = support::example_vars_dir();
    let key = "ab".repeat(32);
    std::fs::write(
        tmp.path().join(".env"),
        format!(
            "AUDIT_HMAC_KEY={key}\nDASHBOARD_API_KEY=${{AUDIT_HMAC_KEY}}\nREDIS_URL='redis://:CNRYpw$x@h:6379/0'\nFRAMEWORK_DIR=\"dir with # hash\" # comment\n"
        ),
    )
    .unwrap();
    let out = xtask(
        tmp.path(),
        &[],
        &["--json", "env", "export", "--to", "docker", "--production"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_no_canary("output", &text(&out));
    let written = docker_read(&std::fs::read_to_string(tmp.path().join(".env.docker")).unwrap());
    assert_eq!(
        written["DASHBOARD_API_KEY"], key,
        "expanded as python-dotenv does"
    );
    assert_eq!(written["REDIS_URL"], "redis://:CNRYpw$x@h:6379/0");
    assert_eq!(written["FRAMEWORK_DIR"], "dir with # hash");
    assert!(
        !written.contains_key("DASHBOARD_RATE_LIMIT_PER_MIN"),
        "defaults stay the app's"
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let unset: Vec<&str> = report["unset"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert!(
        unset.contains(&"ANTHROPIC_API_KEY") && unset.contains(&"DASHBOARD_RATE_LIMIT_PER_MIN")
    );
    assert!(!unset.contains(&"REDIS_URL"));
    // --group picks groups instead of the default set.
    let out = xtask(
        tmp.path(),
        &[],
        &[
            "env",
            "export",
            "--to",
            "k8s",
            "--group",
            "dashboard",
            "--dry-run",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    let msg = text(&out);
    assert!(
        msg.contains("DASHBOARD_API_KEY, FRAMEWORK_DIR")
            || msg.contains("FRAMEWORK_DIR, DASHBOARD_API_KEY"),
        "{msg}"
    );
    assert!(
        !msg.contains("REDIS_URL, ") && !msg.contains("AUDIT_HMAC_KEY,"),
        "{msg}"
    );
    assert!(
        !tmp.path().join(".env.k8s.yaml").exists(),
        "--dry-run writes nothing"
    );
}

#[test]
fn production_missing_or_invalid_value_writes_no_file() {
    let tmp = support::example_vars_dir();
    let dest = tmp.path().join("deploy.env");
    std::fs::write(&dest, "OLD=1\n").unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let env = vec![
        ("REDIS_URL", "redis://:CNRY-redis@h:6379/0".to_string()),
        ("ANTHROPIC_API_KEY", "CNRY-not-an-anthropic-key".to_string()),
    ];
    for to in ["docker", "systemd", "k8s"] {
        let out = export(
            tmp.path(),
            &env,
            &["--to", to, "--production", "--out", "deploy.env"],
        );
        assert_eq!(out.status.code(), Some(3), "{to}: {}", text(&out));
        let msg = text(&out);
        assert_no_canary(to, &msg);
        // Every problem, each with its fix.
        assert!(
            msg.contains("AUDIT_HMAC_KEY") && msg.contains("gen-key"),
            "{msg}"
        );
        assert!(
            msg.contains("ANTHROPIC_API_KEY") && msg.contains("console.anthropic.com"),
            "{msg}"
        );
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "OLD=1\n", "{to}");
    }
    // Without --production the same values go out, with a warning.
    let out = export(tmp.path(), &env, &["--to", "docker", "--out", "deploy.env"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("--production refuses it"));
    assert!(
        std::fs::read_to_string(&dest)
            .unwrap()
            .contains("REDIS_URL=")
    );
}

#[cfg(unix)]
#[test]
fn a_file_others_may_read_is_refused_unless_forced() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = support::example_vars_dir();
    let dest = tmp.path().join(".env.systemd");
    std::fs::write(&dest, "OLD=1\n").unwrap();
    std::fs::set_permissions(&dest, std::fs::Permissions::from_mode(0o644)).unwrap();
    let env = vec![("REDIS_URL", "redis://:CNRY-redis@h:6379/0".to_string())];
    let args = ["--to", "systemd"];
    let out = export(tmp.path(), &env, &args);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("0644") && text(&out).contains("--force"));
    assert_eq!(std::fs::read_to_string(&dest).unwrap(), "OLD=1\n");
    assert_eq!(mode(&dest), 0o644);
    let out = export(tmp.path(), &env, &[&args[..], &["--force"]].concat());
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(mode(&dest), 0o600);
    assert!(text(&out).contains("was mode 0644"));
    assert_no_canary("forced export", &text(&out));
    // A 0600 file is simply replaced: re-running is safe.
    let out = export(tmp.path(), &env, &args);
    assert!(out.status.success(), "{}", text(&out));
}

/// A fake `gh` that records, per call, its argv, its stdin and its
/// environment into `log`, then fails when FAKE_GH_FAIL names the secret.
fn fake_gh(dir: &Path) -> PathBuf {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let gh = bin.join("gh");
    std::fs::write(
        &gh,
        r#"#!/bin/sh
n=$(ls "$FAKE_GH_LOG" | grep -c '\.argv$')
for a in "$@"; do printf '%s\n' "$a"; done > "$FAKE_GH_LOG/$n.argv"
cat > "$FAKE_GH_LOG/$n.stdin"
env > "$FAKE_GH_LOG/$n.env"
if [ "$3" = "$FAKE_GH_FAIL" ]; then
  echo "HTTP 401: Bad credentials (https://api.github.com/repos/o/r/actions/secrets/public-key)" >&2
  exit 1
fi
"#,
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    bin
}

fn gh_env(
    tmp: &Path,
    bin: &Path,
    values: &[(&'static str, String)],
) -> Vec<(&'static str, String)> {
    let log = tmp.join("log");
    std::fs::create_dir_all(&log).unwrap();
    let mut env = values.to_vec();
    env.push((
        "PATH",
        format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
    ));
    env.push(("FAKE_GH_LOG", log.display().to_string()));
    env.push(("GH_TOKEN", "gho_CNRYghtoken0000".to_string()));
    env
}

/// Each recorded gh call: (argv, stdin, environment).
fn gh_calls(tmp: &Path) -> Vec<(Vec<String>, String, String)> {
    let log = tmp.join("log");
    let mut calls = Vec::new();
    for n in 0.. {
        let argv = log.join(format!("{n}.argv"));
        if !argv.exists() {
            break;
        }
        calls.push((
            std::fs::read_to_string(&argv)
                .unwrap()
                .lines()
                .map(String::from)
                .collect(),
            std::fs::read_to_string(log.join(format!("{n}.stdin"))).unwrap(),
            std::fs::read_to_string(log.join(format!("{n}.env"))).unwrap(),
        ));
    }
    calls
}

#[test]
fn github_values_reach_gh_on_stdin_only() {
    let tmp = support::example_vars_dir();
    let bin = fake_gh(tmp.path());
    // gh strips trailing line breaks from stdin: values without them.
    let values: Vec<_> = canaries(true)
        .into_iter()
        .map(|(n, v)| (n, v.trim_end().to_string()))
        .collect();
    let env = gh_env(tmp.path(), &bin, &values);
    let out = export(
        tmp.path(),
        &env,
        &["--to", "github", "--repo", "octo-org/octo-repo"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_no_canary("github export output", &text(&out));
    let calls = gh_calls(tmp.path());
    let want = expected(Target::Github, &values);
    assert_eq!(calls.len(), want.len());
    let mut got = BTreeMap::new();
    for (argv, stdin, environ) in &calls {
        assert_no_canary("gh argv", &argv.join(" "));
        assert_eq!(argv[..2], ["secret", "set"]);
        assert_eq!(argv[3..], ["--repo", "octo-org/octo-repo"]);
        got.insert(argv[2].clone(), stdin.clone());
        // No exported secret rides in gh's environment; gh's own token does.
        for (name, value) in &want {
            assert!(
                !environ.contains(value.as_str()),
                "{name} in gh's environment"
            );
        }
        assert!(environ.contains("GH_TOKEN=gho_CNRYghtoken0000"));
    }
    assert_eq!(got, want);
    // Only what a workflow reads (docs/github.md).
    assert!(want.contains_key("VSCE_PAT") && !want.contains_key("AUDIT_HMAC_KEY"));
    assert!(!want.contains_key("TWINE_PASSWORD") && !want.contains_key("HF_TOKEN"));
}

#[test]
fn github_dry_run_prints_commands_without_values_and_runs_nothing() {
    let tmp = support::example_vars_dir();
    let bin = fake_gh(tmp.path());
    let values = canaries(false);
    let env = gh_env(tmp.path(), &bin, &values);
    let out = export(tmp.path(), &env, &["--to", "github", "--dry-run"]);
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_no_canary("dry run", &text(&out));
    assert!(!stdout.contains("gh secret set TWINE_PASSWORD"), "{stdout}");
    assert!(stdout.contains("gh secret set VSCE_PAT"), "{stdout}");
    assert!(!stdout.contains("AUDIT_HMAC_KEY"), "{stdout}");
    assert!(gh_calls(tmp.path()).is_empty(), "--dry-run ran gh");
}

#[test]
fn github_failures_name_the_secret_and_a_missing_gh_says_how_to_install() {
    let tmp = support::example_vars_dir();
    let bin = fake_gh(tmp.path());
    let values = vec![
        ("VSCE_PAT", "CNRYvscepat".to_string()),
        ("OVSX_PAT", "CNRYovsxpat".to_string()),
        ("HF_TOKEN", "hf_CNRYhftoken".to_string()),
    ];
    let mut env = gh_env(tmp.path(), &bin, &values);
    env.push(("FAKE_GH_FAIL", "OVSX_PAT".into()));
    let out = export(tmp.path(), &env, &["--to", "github"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let msg = text(&out);
    assert_no_canary("gh failure", &msg);
    assert!(
        msg.contains("gh secret set OVSX_PAT` failed after VSCE_PAT were set"),
        "{msg}"
    );
    assert!(msg.contains("Bad credentials"), "{msg}");
    assert_eq!(gh_calls(tmp.path()).len(), 2, "stops at the first failure");

    // No gh on PATH: exit 3 before anything, with how to install it.
    let empty = tmp.path().join("empty-bin");
    std::fs::create_dir_all(&empty).unwrap();
    let mut env = values.clone();
    env.push(("PATH", empty.display().to_string()));
    let out = export(tmp.path(), &env, &["--to", "github"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(text(&out).contains("cli.github.com"), "{}", text(&out));
    assert!(text(&out).contains("--dry-run"));
}

#[test]
fn usage_errors_and_help() {
    let tmp = support::example_vars_dir();
    for args in [
        &["--to", "podman"][..],
        &["--to", "github", "--out", "x"],
        &["--to", "docker", "--repo", "o/r"],
        &["--to", "docker", "--out", "-"],
        &["--to", "k8s", "--name", "Not_Valid"],
        &["--to", "docker", "--group", "nope"],
        &["--to", "github", "--repo", "--evil"],
    ] {
        let out = export(tmp.path(), &[], args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
    let out = xtask(tmp.path(), &[], &["env", "export", "--help"]);
    let help = text(&out);
    for want in [
        ".env.docker",
        ".env.systemd",
        ".env.k8s.yaml",
        "0600",
        "--production",
        "gh secret set",
        "format: raw",
    ] {
        assert!(help.contains(want), "help lacks {want}:\n{help}");
    }
}

/// `--env NAME` sets the secrets of a GitHub environment (docs/github.md).
#[test]
fn github_env_sets_environment_secrets() {
    let tmp = support::example_vars_dir();
    let bin = fake_gh(tmp.path());
    let values = vec![("VSCE_PAT", "CNRYvscepatenv".to_string())];
    let env = gh_env(tmp.path(), &bin, &values);
    let out = export(tmp.path(), &env, &["--to", "github", "--env", "pypi"]);
    assert!(out.status.success(), "{}", text(&out));
    let calls = gh_calls(tmp.path());
    assert_eq!(calls.len(), 1, "{}", text(&out));
    assert_eq!(calls[0].0, ["secret", "set", "VSCE_PAT", "--env", "pypi"]);
    let out = export(
        tmp.path(),
        &env,
        &["--to", "github", "--env", "pypi", "--dry-run"],
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("gh secret set VSCE_PAT --env pypi"),
        "{}",
        text(&out)
    );
    for args in [
        &["--to", "github", "--env", "--evil"][..],
        &["--to", "docker", "--env", "pypi"],
    ] {
        let out = export(tmp.path(), &env, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
    }
}
