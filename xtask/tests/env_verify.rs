//! `cargo xtask env verify` as a user runs it, against real servers where
//! they exist (redis-server, moto's S3, vsce with the Marketplace stand-in)
//! and the stand-ins of `testkit` (Hub whoami, Anthropic models, dashboard,
//! OTLP). Every check's pass and failure paths, `--json`, exit codes, and
//! canary secrets that must never come out.

mod support;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use support::{text, xtask};
use testkit::anthropic::AnthropicApi;
use testkit::dashboard::{Auth, Dashboard};
use testkit::hub::{Hub, HubConfig};
use testkit::otlp::OtlpHttp;
use testkit::python::{free_port, test_python};

/// Runs `xtask --no-env-file env verify ARGS` in a scratch project with
/// only `env` (plus PATH and HOME).
fn verify(env: &[(&str, &str)], args: &[&str]) -> Output {
    let root = support::example_vars_dir();
    verify_in(root.path(), env, args)
}

fn verify_in(root: &Path, env: &[(&str, &str)], args: &[&str]) -> Output {
    let cache = testkit::python::tool_cache();
    let mut all = vec![("RELEASE_KIT_CACHE_DIR", cache.to_str().unwrap())];
    all.extend_from_slice(env);
    let root_arg = root.to_str().unwrap();
    let head = ["--no-env-file", "--root", root_arg, "env", "verify"];
    xtask(root, &all, &[&head[..], args].concat())
}

/// The `--json` report, after checking the exit code.
fn json(out: &Output, code: i32) -> serde_json::Value {
    assert_eq!(out.status.code(), Some(code), "{}", text(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(out)))
}

/// The one check of a `--json` report named `id`.
fn check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report}"))
}

/// `--json` for one group: (status, message, warnings joined).
fn one(env: &[(&str, &str)], group: &str, extra: &[&str]) -> (String, String, String) {
    let mut args = vec!["--json", group];
    args.extend_from_slice(extra);
    let out = verify(env, &args);
    let report: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&out)));
    let checks = report["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 1, "{report}");
    let c = &checks[0];
    let status = c["status"].as_str().unwrap().to_owned();
    let code = if status == "fail" { 1 } else { 0 };
    assert_eq!(out.status.code(), Some(code), "{}", text(&out));
    for (name, value) in env {
        if value.contains("CNRY") {
            assert!(
                !text(&out).contains(value),
                "{name} leaked:\n{}",
                text(&out)
            );
        }
    }
    let warnings: Vec<&str> = c["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    (
        status,
        c["message"].as_str().unwrap().to_owned(),
        warnings.join(" | "),
    )
}

fn wait_for_port(port: u16, what: &str, child: &mut Child) {
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if let Ok(Some(status)) = child.try_wait() {
            panic!("{what} exited ({status}) before listening on {port}");
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "{what} did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A child process killed when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn nothing_configured_skips_every_group_and_exits_0() {
    let report = json(&verify(&[], &["--json"]), 0);
    assert_eq!(report["ok"], true);
    let checks = report["checks"].as_array().unwrap();
    let ids: Vec<_> = checks.iter().map(|c| c["id"].as_str().unwrap()).collect();
    assert_eq!(
        ids,
        [
            "pypi",
            "anthropic",
            "audit",
            "dashboard",
            "federation",
            "otel",
            "s3",
            "vscode",
            "hf",
            "deploy"
        ]
    );
    for c in checks {
        assert_eq!(c["status"], "skipped", "{c}");
        assert!(c["message"].as_str().unwrap().starts_with("not configured"));
        assert!(c["group"].is_string() && c["warnings"].is_array());
    }
    let out = verify(&[], &[]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("Hugging Face         skipped  not configured: HF_TOKEN is not set"),
        "{stdout}"
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("0 passed, 0 failed, 10 skipped"),
        "{}",
        text(&out)
    );
}

#[test]
fn groups_by_name_slug_or_alias_and_unknown_is_a_usage_error() {
    let report = json(
        &verify(&[], &["--json", "Hugging Face", "REDIS", "otel"]),
        0,
    );
    let ids: Vec<_> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["federation", "otel", "hf"]);
    let out = verify(&[], &["nosuchgroup"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("unknown group; expected one of: pypi, anthropic"));
}

#[test]
fn hugging_face_whoami_names_the_account_and_role() {
    let read = "hf_CNRYread0123456789";
    let write = "hf_CNRYwrite0123456789";
    let mut config = HubConfig {
        tokens: vec![read.into(), write.into()],
        user: "alice".into(),
        ..HubConfig::default()
    };
    config.roles.insert(write.into(), "write".into());
    let hub = Hub::start(config).unwrap();
    let ep = hub.endpoint().to_owned();

    let (status, message, warnings) = one(&[("HF_TOKEN", read), ("HF_ENDPOINT", &ep)], "hf", &[]);
    assert_eq!(status, "pass");
    assert_eq!(message, "token \"read-token\" of user alice, role: read");
    assert!(warnings.is_empty());
    let seen = hub.records();
    assert_eq!(seen.last().unwrap().uri, "/api/whoami-v2");
    assert_eq!(
        seen.last().unwrap().authorization.as_deref(),
        Some(format!("Bearer {read}").as_str())
    );

    let (status, message, warnings) = one(&[("HF_TOKEN", write), ("HF_ENDPOINT", &ep)], "hf", &[]);
    assert_eq!(status, "pass");
    assert!(message.ends_with("role: write"), "{message}");
    assert!(warnings.contains("only downloads"), "{warnings}");

    let (status, message, _) = one(
        &[("HF_TOKEN", "hf_CNRYunknown012345"), ("HF_ENDPOINT", &ep)],
        "hf",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("the Hub refused HF_TOKEN (HTTP 401)"),
        "{message}"
    );
}

#[test]
fn huggingface_hub_whoami_accepts_the_stand_in() {
    let token = "hf_pythonwhoami0123456";
    let mut config = HubConfig {
        tokens: vec![token.into()],
        user: "alice".into(),
        ..HubConfig::default()
    };
    config.roles.insert(token.into(), "fineGrained".into());
    let hub = Hub::start(config).unwrap();
    let python = test_python().unwrap();
    let out = Command::new(python)
        .args([
            "-c",
            "import sys\nfrom huggingface_hub import HfApi\n\
             info = HfApi(endpoint=sys.argv[1]).whoami(token=sys.argv[2])\n\
             print(info['name'], info['type'], info['auth']['accessToken']['role'], \
             info['auth']['accessToken']['displayName'], len(info['orgs']))",
            hub.endpoint(),
            token,
        ])
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "alice user fineGrained fineGrained-token 0"
    );
    // And what our check makes of the same answer.
    let (status, message, warnings) = one(
        &[("HF_TOKEN", token), ("HF_ENDPOINT", hub.endpoint())],
        "hf",
        &[],
    );
    assert_eq!(status, "pass");
    assert!(message.ends_with("role: fine-grained"), "{message}");
    assert!(warnings.is_empty(), "{warnings}");
}

#[test]
fn anthropic_models_with_the_key_header_and_version() {
    let key = "sk-ant-api03-CNRYgood-0123456789";
    let api = AnthropicApi::start(&[key]);
    let url = api.url();
    let (status, message, _) = one(
        &[("ANTHROPIC_API_KEY", key), ("ANTHROPIC_BASE_URL", &url)],
        "anthropic",
        &[],
    );
    assert_eq!(status, "pass");
    assert!(message.contains("2 model(s) listed"), "{message}");
    let seen = api.seen();
    let req = seen.last().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("GET", "/v1/models")
    );
    assert_eq!(req.header("x-api-key"), Some(key));
    assert_eq!(req.header("anthropic-version"), Some("2023-06-01"));

    let (status, message, _) = one(
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-api03-CNRYrevoked-01234"),
            ("ANTHROPIC_BASE_URL", &url),
        ],
        "anthropic",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("refused ANTHROPIC_API_KEY (HTTP 401: \"invalid x-api-key\")"),
        "{message}"
    );
}

/// A redis-server on a free port with `requirepass` and an ACL user.
fn redis(password: &str) -> (Running, u16) {
    let port = free_port();
    let mut child = Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--requirepass", password])
        .args(["--user", "app", "on", ">CNRYapppass", "~*", "&*", "+@all"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("redis-server is installed (apt-get install redis-server; .ci/run does)");
    wait_for_port(port, "redis-server", &mut child);
    (Running(child), port)
}

#[test]
fn redis_auth_select_ping_against_a_real_server() {
    let pw = "CNRYredis-pw-41";
    let (_redis, port) = redis(pw);
    let url = |auth: &str, db: u32| format!("redis://{auth}127.0.0.1:{port}/{db}");

    let (status, message, _) = one(&[("REDIS_URL", &url(&format!(":{pw}@"), 3))], "redis", &[]);
    assert_eq!(status, "pass", "{message}");
    assert_eq!(
        message,
        format!("PONG from 127.0.0.1:{port} (database 3, authenticated)")
    );

    let (status, message, _) = one(
        &[("REDIS_URL", &url("app:CNRYapppass@", 0))],
        "federation",
        &[],
    );
    assert_eq!(status, "pass", "{message}");
    assert!(message.contains("authenticated as app"), "{message}");

    let (status, message, _) = one(&[("REDIS_URL", &url(":CNRYwrong-pw@", 0))], "redis", &[]);
    assert_eq!(status, "fail");
    assert!(
        message.contains("Redis refused the password in REDIS_URL (WRONGPASS"),
        "{message}"
    );

    let (status, message, _) = one(&[("REDIS_URL", &url("", 0))], "redis", &[]);
    assert_eq!(status, "fail");
    assert!(
        message.contains("the server needs a password and REDIS_URL has none"),
        "{message}"
    );

    let (status, message, _) = one(&[("REDIS_URL", &url(&format!(":{pw}@"), 99))], "redis", &[]);
    assert_eq!(status, "fail");
    assert!(
        message.contains("database 99 cannot be selected"),
        "{message}"
    );
}

/// A CA and a server certificate for `localhost`, made with the openssl
/// command line (installed with ca-certificates): (ca.pem, cert, key).
fn tls_files(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .expect("openssl is installed");
        assert!(out.status.success(), "openssl {args:?}: {}", text(&out));
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=env-verify test CA",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-keyout",
            "server.key",
            "-out",
            "server.csr",
            "-subj",
            "/CN=localhost",
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
    ]);
    (
        dir.join("ca.pem"),
        dir.join("server.pem"),
        dir.join("server.key"),
    )
}

#[test]
fn rediss_over_tls_with_our_rustls_config() {
    let dir = support::example_vars_dir();
    let (ca, cert, key) = tls_files(dir.path());
    let port = free_port();
    let mut child = Command::new("redis-server")
        .args([
            "--port",
            "0",
            "--tls-port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
        ])
        .args([
            "--save",
            "",
            "--appendonly",
            "no",
            "--requirepass",
            "CNRYtls-pw",
        ])
        .arg("--tls-cert-file")
        .arg(&cert)
        .arg("--tls-key-file")
        .arg(&key)
        .arg("--tls-ca-cert-file")
        .arg(&ca)
        .args(["--tls-auth-clients", "no"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, "redis-server (TLS)", &mut child);
    let _redis = Running(child);
    let url = format!("rediss://:CNRYtls-pw@localhost:{port}/0");
    let ca = ca.to_str().unwrap();
    let (status, message, _) = one(&[("REDIS_URL", &url), ("SSL_CERT_FILE", ca)], "redis", &[]);
    assert_eq!(status, "pass", "{message}");
    assert_eq!(
        message,
        format!("PONG from localhost:{port} (database 0, authenticated, TLS)")
    );
    // The server's CA is not trusted without SSL_CERT_FILE.
    let (status, message, _) = one(&[("REDIS_URL", &url)], "redis", &[]);
    assert_eq!(status, "fail");
    assert!(message.contains("TLS with localhost:"), "{message}");
    assert!(message.contains("set SSL_CERT_FILE"), "{message}");
    // Plain RESP to a TLS port.
    let plain = format!("redis://:CNRYtls-pw@localhost:{port}/0");
    let (status, message, _) = one(
        &[("REDIS_URL", &plain), ("SSL_CERT_FILE", ca)],
        "redis",
        &["--timeout", "5"],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("rediss:// for a TLS port") || message.contains("no answer within"),
        "{message}"
    );
}

#[test]
fn redis_nothing_listening_and_a_server_that_never_answers() {
    let closed = free_port();
    let (status, message, _) = one(
        &[(
            "REDIS_URL",
            &format!("redis://:CNRYpw-closed@127.0.0.1:{closed}/0"),
        )],
        "redis",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(message.contains("cannot connect to 127.0.0.1"), "{message}");

    // Accepts, never answers: the per-check timeout ends it.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let (status, message, _) = one(
        &[(
            "REDIS_URL",
            &format!("redis://:CNRYpw-silent@127.0.0.1:{port}/0"),
        )],
        "redis",
        &["--timeout", "1"],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("no answer within 1 s (--timeout)"),
        "{message}"
    );
}

#[test]
fn otel_grpc_connection_and_http_answer() {
    let grpc = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = grpc.local_addr().unwrap().port();
    let (status, message, _) = one(
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &format!("127.0.0.1:{port}"))],
        "otel",
        &[],
    );
    assert_eq!(status, "pass");
    assert!(message.contains("accepts connections (gRPC"), "{message}");
    drop(grpc);
    let (status, message, _) = one(
        &[
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                &format!("http://127.0.0.1:{port}"),
            ),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
        ],
        "otel",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(message.contains("cannot connect to 127.0.0.1"), "{message}");

    let collector = OtlpHttp::start(false);
    let (status, message, _) = one(
        &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url())],
        "otel",
        &[],
    );
    assert_eq!(status, "pass");
    assert!(
        message.contains("/v1/traces accepted an empty export (HTTP 200; http/protobuf"),
        "{message}"
    );
    let seen = collector.seen();
    let req = seen.last().unwrap();
    assert_eq!(
        (req.method.as_str(), req.path.as_str()),
        ("POST", "/v1/traces")
    );
    assert_eq!(req.header("content-type"), Some("application/x-protobuf"));
    assert!(req.body.is_empty());

    let failing = OtlpHttp::start(true);
    let (status, message, _) = one(
        &[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", &failing.url()),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ],
        "otel",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("answered HTTP 503 (http/json)"),
        "{message}"
    );
}

/// Only a 2xx to the empty export passes: a receiver that wants
/// credentials, is not there (404/405), refuses the content type (415) or
/// the request (400) fails, with what to fix.
#[test]
fn otel_http_passes_on_2xx_only() {
    for (code, words) in [
        (401, "the collector wants credentials"),
        (403, "the collector wants credentials"),
        (404, "no OTLP/HTTP receiver at /v1/traces"),
        (405, "no OTLP/HTTP receiver at /v1/traces"),
        (415, "the receiver does not take application/x-protobuf"),
        (400, "not an OTLP/HTTP receiver taking an empty export"),
        (413, "not an OTLP/HTTP receiver taking an empty export"),
    ] {
        let collector = OtlpHttp::answering(code);
        let (status, message, warnings) = one(
            &[("OTEL_EXPORTER_OTLP_ENDPOINT", &collector.url())],
            "otel",
            &[],
        );
        assert_eq!(status, "fail", "HTTP {code}: {message} | {warnings}");
        assert!(
            message.contains(&format!("answered HTTP {code} (http/protobuf")),
            "{message}"
        );
        assert!(message.contains(words), "HTTP {code}: {message}");
        assert_eq!(collector.seen().len(), 1);
    }
}

#[test]
fn dashboard_key_accepted_and_unauthenticated_refused() {
    let key = "CNRYdash0123456789abcdef0123456789abcdef01234567";
    let closed = Dashboard::start("127.0.0.1:0", key, false);
    let url = format!("http://127.0.0.1:{}/api/chat", closed.port());
    let env = [("DASHBOARD_API_KEY", key), ("DASHBOARD_URL", url.as_str())];
    let (status, message, _) = one(&env, "dashboard", &[]);
    assert_eq!(status, "pass");
    assert!(
        message.ends_with("accepted DASHBOARD_API_KEY (HTTP 422 to an empty request) and refused a wrong key; without it: refused (HTTP 401)"),
        "{message}"
    );
    let seen = closed.seen();
    assert_eq!(seen.len(), 3);
    assert_eq!(
        seen[0].header("authorization"),
        Some(format!("Bearer {key}").as_str())
    );
    let wrong = seen[1].header("authorization").unwrap();
    assert!(wrong.starts_with("Bearer wrong-"), "{wrong}");
    assert!(!wrong.contains(key), "{wrong}");
    assert_eq!(seen[2].header("authorization"), None);
    assert_eq!(seen[0].body, b"{}");

    let (status, message, _) = one(
        &[
            ("DASHBOARD_API_KEY", "CNRYwrongkey"),
            ("DASHBOARD_URL", &url),
        ],
        "dashboard",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("refused DASHBOARD_API_KEY (HTTP 401: \"Invalid API key\")"),
        "{message}"
    );

    // --dashboard-url wins over DASHBOARD_URL.
    let (status, message, _) = one(
        &[
            ("DASHBOARD_API_KEY", key),
            ("DASHBOARD_URL", "http://127.0.0.1:9/api/chat"),
        ],
        "dashboard",
        &[
            "--dashboard-url",
            &format!("http://127.0.0.1:{}/api/other", closed.port()),
        ],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("answered HTTP 404: not the chat endpoint"),
        "{message}"
    );

    // An open dashboard on loopback: said, not failed.
    let open = Dashboard::start("127.0.0.1:0", key, true);
    let url = format!("http://127.0.0.1:{}/api/chat", open.port());
    let (status, message, _) = one(
        &[("DASHBOARD_API_KEY", key), ("DASHBOARD_URL", &url)],
        "dashboard",
        &[],
    );
    assert_eq!(status, "pass");
    assert!(
        message.contains("without it: HTTP 422 — not refused"),
        "{message}"
    );
    assert!(message.contains("this URL is loopback"), "{message}");
}

/// A dashboard that gives any key the answer it gives the real one fails,
/// on loopback too; a 429 or a login redirect on the real key tells
/// nothing, so it fails as inconclusive.
#[test]
fn dashboard_that_does_not_check_the_key_fails_even_on_loopback() {
    let key = "CNRYdash-nocheck-0123456789abcdef0123456789abcdef";
    let verify_at = |dash: &Dashboard| {
        let url = format!("http://127.0.0.1:{}/api/chat", dash.port());
        one(
            &[("DASHBOARD_API_KEY", key), ("DASHBOARD_URL", &url)],
            "dashboard",
            &[],
        )
    };
    for auth in [Auth::None, Auth::BodyFirst] {
        let dash = Dashboard::with_auth("127.0.0.1:0", key, auth);
        let (status, message, _) = verify_at(&dash);
        assert_eq!(status, "fail", "{auth:?}: {message}");
        assert!(
            message.starts_with("the dashboard does not check the key:")
                && message.contains(
                    "answered HTTP 422 with DASHBOARD_API_KEY and HTTP 422 with a wrong key too"
                ),
            "{auth:?}: {message}"
        );
        let seen = dash.seen();
        assert_eq!(seen.len(), 2, "{auth:?}");
        let wrong = seen[1].header("authorization").unwrap();
        assert!(wrong.starts_with("Bearer wrong-") && !wrong.contains(key));
    }

    let limited = Dashboard::with_auth("127.0.0.1:0", key, Auth::RateLimited);
    let (status, message, _) = verify_at(&limited);
    assert_eq!(status, "fail", "{message}");
    assert!(
        message.contains("answered HTTP 429 (rate-limited")
            && message.contains("nothing can be told about the key; retry"),
        "{message}"
    );

    let login = Dashboard::with_auth("127.0.0.1:0", key, Auth::LoginRedirect);
    let (status, message, _) = verify_at(&login);
    assert_eq!(status, "fail", "{message}");
    assert!(
        message.contains(&format!(
            "redirected to http://127.0.0.1:{}/login (HTTP 200 there; a login page?)",
            login.port()
        )),
        "{message}"
    );
}

/// DASHBOARD_API_KEY, ANTHROPIC_API_KEY and HF_TOKEN are never sent over
/// plain http:// to another host: each check fails before any request,
/// with the fix. (A dashboard reached from elsewhere over https must also
/// refuse a request without the key: `dashboard::tests`.)
#[test]
fn secrets_never_sent_over_plain_http_to_another_host() {
    let ip = testkit::server::non_loopback_ipv4()
        .expect("this machine has a non-loopback IPv4 address to reach the stand-in by");
    let key = "CNRYdash-remote-0123456789abcdef0123456789abcdef";
    // Listens on every address and records whatever reaches it.
    let listener = Dashboard::start("0.0.0.0:0", key, true);
    let base = format!("http://{ip}:{}", listener.port());
    let cases = [
        (
            "dashboard",
            [
                ("DASHBOARD_API_KEY", key.to_owned()),
                ("DASHBOARD_URL", format!("{base}/api/chat")),
            ],
            "set DASHBOARD_URL (or --dashboard-url) to an https:// URL",
        ),
        (
            "anthropic",
            [
                (
                    "ANTHROPIC_API_KEY",
                    "sk-ant-api03-CNRYremote-0123456789".into(),
                ),
                ("ANTHROPIC_BASE_URL", base.clone()),
            ],
            "set ANTHROPIC_BASE_URL to an https:// URL",
        ),
        (
            "hf",
            [
                ("HF_TOKEN", "hf_CNRYremote0123456789".into()),
                ("HF_ENDPOINT", base.clone()),
            ],
            "set HF_ENDPOINT to an https:// URL",
        ),
    ];
    for (group, env, fix) in &cases {
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, message, _) = one(&env, group, &[]);
        assert_eq!(status, "fail", "{group}: {message}");
        let name = env[0].0;
        assert!(
            message.starts_with(&format!(
                "refusing to send {name} over plain http:// to http://{ip}:"
            )) && message.contains("nothing was sent")
                && message.contains(fix),
            "{group}: {message}"
        );
    }
    assert!(listener.seen().is_empty(), "{:?}", listener.seen());

    // https to the same host is not refused (it fails on TLS instead), and
    // loopback over http is fine (every other dashboard test).
    let (status, message, _) = one(
        &[
            ("ANTHROPIC_API_KEY", "sk-ant-api03-CNRYremote-0123456789"),
            (
                "ANTHROPIC_BASE_URL",
                &format!("https://{ip}:{}", listener.port()),
            ),
        ],
        "anthropic",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(!message.contains("refusing to send"), "{message}");
}

#[test]
fn audit_key_rules() {
    let cases = [
        (
            "dev_only_audit_key_DO_NOT_USE_IN_PROD",
            "fail",
            "development default",
        ),
        ("CNRYnothex", "fail", "is not hexadecimal"),
        ("ab12", "fail", "holds 2 bytes of key material; at least 32"),
        (&"00".repeat(32), "fail", "placeholder"),
    ];
    for (value, want, says) in cases {
        let (status, message, _) = one(&[("AUDIT_HMAC_KEY", value)], "audit", &[]);
        assert_eq!(status, want, "{message}");
        assert!(message.contains(says), "{message}");
        assert!(message.contains("env gen-key --bytes 32"), "{message}");
    }
    let key: String = (0..32u8)
        .map(|b| format!("{:02x}", b.wrapping_mul(37) ^ 0x5a))
        .collect();
    let (status, message, _) = one(&[("AUDIT_HMAC_KEY", &key)], "audit", &[]);
    assert_eq!(status, "pass");
    assert!(
        message.starts_with("32 bytes of key material; an HMAC-SHA256"),
        "{message}"
    );
}

#[test]
fn pypi_tokens_read_offline() {
    use release_kit::decode::pypi_token::build_test_token;
    let scoped = build_test_token(
        "pypi.org",
        "id-CNRY",
        &[r#"{"version":1,"permissions":{"projects":["mult-agentes"]}}"#],
    );
    let (status, message, _) = one(&[("TWINE_PASSWORD", &scoped)], "pypi", &[]);
    assert_eq!(status, "pass", "{message}");
    assert!(
        message.starts_with("TWINE_PASSWORD: pypi.org, scoped to mult-agentes"),
        "{message}"
    );
    let test_token = build_test_token("test.pypi.org", "id2", &[]);
    let (status, message, _) = one(&[("TWINE_PASSWORD", &test_token)], "pypi", &[]);
    assert_eq!(status, "fail");
    assert!(
        message.contains("is a token for test.pypi.org, not pypi.org"),
        "{message}"
    );
    let (status, message, _) = one(
        &[("TWINE_PASSWORD_TEST", "pypi-CNRYnotamacaroon")],
        "pypi",
        &[],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("TWINE_PASSWORD_TEST cannot be read as a PyPI token"),
        "{message}"
    );
}

#[test]
fn deploy_domain_resolves() {
    let (status, message, warnings) = one(&[("ORG_DOMAIN", "localhost")], "deploy", &[]);
    assert_eq!(status, "pass");
    assert!(message.starts_with("localhost resolves to "), "{message}");
    assert!(warnings.contains("this machine"), "{warnings}");
    let (status, message, _) = one(
        &[("ORG_DOMAIN", "no-such-host.invalid")],
        "deploy",
        &["--timeout", "5"],
    );
    assert_eq!(status, "fail");
    assert!(
        message.contains("does not resolve") || message.contains("no answer within"),
        "{message}"
    );
}

/// moto's S3 server with an IAM user allowed `s3:*`, a bucket with
/// COMPLIANCE retention, one with GOVERNANCE, one without Object Lock;
/// authentication switched on once set up, so every request's SigV4
/// signature is recomputed and checked by moto.
fn moto() -> (Running, String, String, String) {
    let python = test_python().unwrap();
    let port = free_port();
    let mut child = Command::new(&python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for_port(port, "moto.server", &mut child);
    let child = Running(child);
    let endpoint = format!("http://127.0.0.1:{port}");
    let setup = r#"
import json, sys, urllib.request
import boto3
ep = sys.argv[1]
kw = dict(endpoint_url=ep, region_name="us-east-1",
          aws_access_key_id="testing", aws_secret_access_key="testing")
iam, s3 = boto3.client("iam", **kw), boto3.client("s3", **kw)
iam.create_user(UserName="auditor")
iam.put_user_policy(UserName="auditor", PolicyName="s3", PolicyDocument=json.dumps(
    {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}))
key = iam.create_access_key(UserName="auditor")["AccessKey"]
for name, mode in [("audit-locked", "COMPLIANCE"), ("audit-governance", "GOVERNANCE")]:
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": mode, "Days": 30}}})
s3.create_bucket(Bucket="audit-plain")
urllib.request.urlopen(urllib.request.Request(ep + "/moto-api/reset-auth", data=b"0", method="POST",
                                              headers={"Content-Type": "text/plain"}))
print(key["AccessKeyId"], key["SecretAccessKey"])
"#;
    let out = Command::new(&python)
        .args(["-c", setup, &endpoint])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", text(&out));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let (id, secret) = stdout.trim().split_once(' ').unwrap();
    (child, endpoint, id.to_owned(), secret.to_owned())
}

#[test]
fn s3_object_lock_against_moto_with_signatures_checked() {
    let (_moto, endpoint, id, secret) = moto();
    let s3 = |bucket: &str, id: &str, secret: &str| {
        one(
            &[
                ("S3_AUDIT_BUCKET", bucket),
                ("AWS_ACCESS_KEY_ID", id),
                ("AWS_SECRET_ACCESS_KEY", secret),
                ("AWS_ENDPOINT_URL", &endpoint),
            ],
            "s3",
            &[],
        )
    };
    let (status, message, _) = s3("audit-locked", &id, &secret);
    assert_eq!(status, "pass", "{message}");
    assert_eq!(
        message,
        "bucket audit-locked exists, the credentials are valid, Object Lock is enabled with COMPLIANCE default retention of 30 day(s)"
    );

    let (status, message, _) = s3("audit-plain", &id, &secret);
    assert_eq!(status, "fail");
    assert!(
        message.contains("exists but Object Lock is not enabled on it"),
        "{message}"
    );

    let (status, message, _) = s3("audit-governance", &id, &secret);
    assert_eq!(status, "fail");
    assert!(
        message.contains("mode is GOVERNANCE, not COMPLIANCE"),
        "{message}"
    );

    let (status, message, _) = s3("audit-missing", &id, &secret);
    assert_eq!(status, "fail");
    assert!(message.contains("bucket audit-missing at"), "{message}");
    assert!(message.contains("does not exist"), "{message}");

    let wrong_secret = "CNRYwrongsecret0123456789abcdefghijklmno";
    let (status, message, _) = s3("audit-locked", &id, wrong_secret);
    assert_eq!(status, "fail");
    assert!(message.contains("(SignatureDoesNotMatch)"), "{message}");

    let (status, message, _) = s3("audit-locked", "AKIACNRY000000000000", &secret);
    assert_eq!(status, "fail");
    assert!(message.contains("(InvalidAccessKeyId)"), "{message}");
    assert!(!message.contains(&secret));

    let (status, message, _) = one(&[("S3_AUDIT_BUCKET", "audit-locked")], "s3", &[]);
    assert_eq!(status, "fail");
    assert!(message.contains("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set"));
}

/// A project with the example extension, for the vsce check.
fn vsce_project() -> tempfile::TempDir {
    let dir = support::example_vars_dir();
    let ext = dir.path().join("ext");
    std::fs::create_dir_all(&ext).unwrap();
    let example: PathBuf =
        testkit::python::workspace_root().join("examples/mult-agentes/vscode-extension");
    for f in [
        "extension.js",
        "package.json",
        "README.md",
        "LICENSE",
        "CHANGELOG.md",
        ".vscodeignore",
    ] {
        std::fs::copy(example.join(f), ext.join(f)).unwrap();
    }
    std::fs::create_dir_all(dir.path().join("py")).unwrap();
    std::fs::write(
        dir.path().join("py/pyproject.toml"),
        "[project]\nname = \"mult-agentes\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("release-kit.toml"),
        "[python]\npath = \"py\"\n\n[vscode]\npath = \"ext\"\n",
    )
    .unwrap();
    dir
}

#[test]
fn vscode_runs_vsce_verify_pat() {
    let mp = testkit::marketplace::Marketplace::start();
    let pat = "CNRYvsce-pat-0123456789";
    mp.add_pat(pat, &["mult-agentes"]);
    let project = vsce_project();
    // Without vsce installed the check says how to install it rather than
    // spend minutes installing inside its timeout.
    let empty_target = support::example_vars_dir();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    let out = cmd
        .current_dir(project.path())
        .args(["--no-env-file", "--root"])
        .arg(project.path())
        .args(["env", "verify", "--json", "vscode"])
        .env("RELEASE_KIT_CACHE_DIR", empty_target.path())
        .env("VSCE_PAT", pat)
        .output()
        .unwrap();
    let report = json(&out, 1);
    let message = check(&report, "vscode")["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("vsce is not installed"), "{message}");
    assert!(message.contains("run `cargo xtask setup`"), "{message}");
    // Installed once into the shared cache (as `cargo xtask setup` does).
    let setup = Command::new(env!("CARGO_BIN_EXE_xtask"))
        .arg("--root")
        .arg(project.path())
        .arg("setup")
        .env("RELEASE_KIT_CACHE_DIR", testkit::python::tool_cache())
        .output()
        .unwrap();
    assert!(setup.status.success(), "{}", text(&setup));
    let run = |pat: &str| {
        let out = verify_in(
            project.path(),
            &[
                ("VSCE_PAT", pat),
                ("VSCE_MARKETPLACE_URL", mp.url()),
                ("VSCE_STORE", "file"),
            ],
            &["--json", "vscode", "--timeout", "120"],
        );
        assert!(!text(&out).contains(pat), "{}", text(&out));
        out
    };
    let out = run(pat);
    let report = json(&out, 0);
    let c = check(&report, "vscode");
    assert_eq!(c["status"], "pass", "{c}");
    assert!(
        c["message"].as_str().unwrap().contains(
            "The Personal Access Token verification succeeded for the publisher 'mult-agentes'"
        ),
        "{c}"
    );
    let out = run("CNRYvsce-bad-pat-98765");
    let report = json(&out, 1);
    let c = check(&report, "vscode");
    assert_eq!(c["status"], "fail", "{c}");
    assert!(c["message"].as_str().unwrap().contains("401"), "{c}");
}

/// Every secret variable holds a canary and every group is configured at
/// once (passing and failing checks mixed): no canary in any output, text
/// or JSON, and the exit code is 1.
#[test]
fn canaries_never_printed_with_every_group_at_once() {
    let hub = Hub::start(HubConfig {
        tokens: vec!["hf_CNRYall0123456789".into()],
        ..HubConfig::default()
    })
    .unwrap();
    let api = AnthropicApi::start(&["sk-ant-api03-CNRYall-0123456789"]);
    let dash_key = "CNRYdashall0123456789abcdef0123456789abcdef012345";
    let dash = Dashboard::start("127.0.0.1:0", dash_key, false);
    let (_redis, redis_port) = redis("CNRYall-redis-pw");
    let otlp = OtlpHttp::start(false);
    let audit_key: String = (0..32u8)
        .map(|b| format!("{:02x}", b.wrapping_mul(53) ^ 0xc3))
        .collect();
    let audit_key = format!("{}CNRY", &audit_key[..60]);
    let env: Vec<(&str, String)> = vec![
        ("HF_TOKEN", "hf_CNRYall0123456789".into()),
        ("HF_ENDPOINT", hub.endpoint().into()),
        (
            "ANTHROPIC_API_KEY",
            "sk-ant-api03-CNRYall-0123456789".into(),
        ),
        ("ANTHROPIC_BASE_URL", api.url()),
        ("DASHBOARD_API_KEY", dash_key.into()),
        (
            "DASHBOARD_URL",
            format!("http://127.0.0.1:{}/api/chat", dash.port()),
        ),
        (
            "REDIS_URL",
            format!("redis://:CNRYall-redis-pw@127.0.0.1:{redis_port}/1"),
        ),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", otlp.url()),
        ("AUDIT_HMAC_KEY", audit_key),
        ("TWINE_PASSWORD", "pypi-CNRYall-not-a-macaroon".into()),
        (
            "TWINE_PASSWORD_TEST",
            "pypi-CNRYall-test-not-a-macaroon".into(),
        ),
        ("AWS_SESSION_TOKEN", "CNRYall-session-token".into()),
        ("VSCE_PAT", "CNRYall-vsce-pat".into()),
        ("S3_AUDIT_BUCKET", "audit-locked".into()),
        ("AWS_ACCESS_KEY_ID", "AKIACNRYALL000000000".into()),
        (
            "AWS_SECRET_ACCESS_KEY",
            "CNRYallsecret0123456789abcdefghijklmnopq".into(),
        ),
        (
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{}", free_port()),
        ),
        ("OVSX_PAT", "CNRYall-ovsx".into()),
    ];
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let root = support::example_vars_dir();
    for args in [&["--timeout", "30"][..], &["--json", "--timeout", "30"][..]] {
        let out = verify_in(root.path(), &env, args);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        let all = text(&out);
        for (name, value) in &env {
            if value.contains("CNRY") {
                assert!(!all.contains(value), "{name} leaked:\n{all}");
            }
        }
        for tail in ["CNRYall", "CNRYALL", "all-redis-pw"] {
            assert!(!all.contains(tail), "{tail} leaked:\n{all}");
        }
        if args.contains(&"--json") {
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(report["ok"], false);
            let status = |id: &str| check(&report, id)["status"].as_str().unwrap().to_owned();
            assert_eq!(status("hf"), "pass");
            assert_eq!(status("anthropic"), "pass");
            assert_eq!(status("dashboard"), "pass");
            assert_eq!(status("federation"), "pass");
            assert_eq!(status("otel"), "pass");
            assert_eq!(status("audit"), "fail");
            assert_eq!(status("pypi"), "fail");
            assert_eq!(status("s3"), "fail");
            assert_eq!(status("vscode"), "fail");
            assert_eq!(status("deploy"), "skipped");
        }
    }
}
