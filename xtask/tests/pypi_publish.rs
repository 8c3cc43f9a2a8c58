//! `cargo xtask build` and `publish` against a real pypiserver with real
//! build, twine and pip: upload, install, safe re-run, refused credentials,
//! missing password, and a rebuilt file that conflicts.

mod support;

use release_kit::decode::pypi_token::build_test_token;
use support::{Project, assert_not_in_files, canary, folder_with, text, xtask};
use testkit::pypi_index::PypiServer;

#[test]
fn build_publish_install_rerun_and_failures() {
    // An account-wide PyPI-shaped token: pypiserver takes it as the
    // password, and publish must warn that it is account-wide.
    let id = canary("flow");
    let password = build_test_token("pypi.org", &id, &["[3,\"user-1\"]"]);
    let server = PypiServer::start(&password).unwrap();
    let project = Project::new();
    let url = server.url.clone();

    // The extension folder next door and a stray .env stay out of the sdist.
    let ext = project.root().join("py/vscode-extension");
    std::fs::create_dir_all(&ext).unwrap();
    std::fs::write(ext.join("package.json"), "{}").unwrap();
    std::fs::write(project.root().join("py/.env"), format!("X={id}\n")).unwrap();

    // build: two files, each with size and sha256.
    let run = project.xtask(&["build"], &[]).expect(0);
    let names = std::process::Command::new(testkit::python::test_python().unwrap())
        .args([
            "-c",
            "import sys, tarfile; print('\\n'.join(tarfile.open(sys.argv[1]).getnames()))",
        ])
        .arg(project.dist().join("mult_agentes-0.1.0.tar.gz"))
        .output()
        .unwrap();
    let names = String::from_utf8_lossy(&names.stdout).into_owned();
    assert!(
        names.contains("mult_agentes-0.1.0/src/mult_agentes/__init__.py"),
        "{names}"
    );
    assert!(
        !names.contains("vscode-extension") && !names.contains(".env"),
        "{names}"
    );
    let out = run.stdout();
    assert!(out.contains("mult_agentes-0.1.0.tar.gz"), "{}", run.all());
    assert!(
        out.contains("mult_agentes-0.1.0-py3-none-any.whl"),
        "{}",
        run.all()
    );
    assert_eq!(out.matches("sha256 ").count(), 2, "{}", run.all());
    assert!(run.stderr().contains("twine check --strict: passed"));

    // No password: exit 3, the index untouched.
    let run = project
        .xtask(&["publish", "--repository-url", &url], &[])
        .expect(3);
    assert!(
        run.stderr().contains("TWINE_PASSWORD: is not set"),
        "{}",
        run.all()
    );
    assert!(server.files().is_empty());

    // dry run: the plan, nothing uploaded.
    let env = [("TWINE_PASSWORD", password.as_str())];
    let run = project
        .xtask(&["publish", "--repository-url", &url, "--dry-run"], &env)
        .expect(0);
    assert_eq!(
        run.stdout().matches("would upload").count(),
        2,
        "{}",
        run.all()
    );
    assert!(server.files().is_empty());

    // publish: both files uploaded, the account-wide token warned about.
    let run = project
        .xtask(&["publish", "--repository-url", &url], &env)
        .expect(0);
    assert_eq!(
        run.stdout().matches("  uploaded").count(),
        2,
        "{}",
        run.all()
    );
    assert!(run.stderr().contains("account-wide"), "{}", run.all());
    assert_eq!(
        server.files(),
        [
            "mult_agentes-0.1.0-py3-none-any.whl",
            "mult_agentes-0.1.0.tar.gz"
        ]
    );
    let no_secret = |run: &support::Run| {
        let all = run.all();
        assert!(!all.contains(&password), "{all}");
        assert!(!all.contains(&password[5..25]), "{all}");
        assert!(!all.contains(&id), "{all}");
    };
    no_secret(&run);

    // pip installs it from that index into a fresh venv, and it imports.
    let python = testkit::python::test_python().unwrap();
    let venv = project.root().join("venv");
    let st = std::process::Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(st.success());
    let vpy = venv.join("bin/python");
    let out = std::process::Command::new(&vpy)
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(["--no-cache-dir", "--index-url", &server.simple_url()])
        .arg("mult-agentes==0.1.0")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = std::process::Command::new(&vpy)
        .args([
            "-c",
            "import mult_agentes as m; print(m.__version__, m.run_all([m.Agent('u', str.upper)], 'hi'))",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "0.1.0 {'u': 'HI'}"
    );

    // Again: exit 0, both skipped, nothing sent.
    let before = mtimes(&server);
    let run = project
        .xtask(&["publish", "--repository-url", &url], &env)
        .expect(0);
    assert_eq!(
        run.stdout()
            .matches("skipped (already on the index, same sha256)")
            .count(),
        2,
        "{}",
        run.all()
    );
    assert!(!run.stderr().contains("uploading"), "{}", run.all());
    assert_eq!(mtimes(&server), before);

    // A half-finished upload: the wheel is missing. A wrong password is
    // refused with exit 1 naming the variable and the 403; no canary leaks.
    std::fs::remove_file(server.packages.join("mult_agentes-0.1.0-py3-none-any.whl")).unwrap();
    // (A token that decodes: one that does not is refused before upload.)
    let wrong = build_test_token("pypi.org", &canary("wrong"), &["[3,\"user-1\"]"]);
    let run = project
        .xtask(
            &["publish", "--repository-url", &url],
            &[("TWINE_PASSWORD", wrong.as_str())],
        )
        .expect(1);
    let err = run.stderr();
    assert!(
        err.contains("TWINE_PASSWORD") && err.contains("403"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains(&wrong), "{}", run.all());
    assert!(!run.all().contains("CANARY"), "{}", run.all());
    assert_eq!(server.files(), ["mult_agentes-0.1.0.tar.gz"]);

    // The re-run with the right password sends only the missing wheel.
    let run = project
        .xtask(&["publish", "--repository-url", &url], &env)
        .expect(0);
    let out = run.stdout();
    assert!(
        out.lines()
            .any(|l| l.starts_with("mult_agentes-0.1.0.tar.gz") && l.contains("skipped")),
        "{}",
        run.all()
    );
    assert!(
        out.lines().any(
            |l| l.starts_with("mult_agentes-0.1.0-py3-none-any.whl") && l.ends_with("uploaded")
        ),
        "{}",
        run.all()
    );
    no_secret(&run);

    // Rebuilt with other bytes under the same names: a clear error, and
    // nothing replaced.
    project.rebuild_with_other_bytes();
    let before = mtimes(&server);
    let run = project
        .xtask(&["publish", "--repository-url", &url], &env)
        .expect(1);
    support::assert_conflict(&run);
    assert_eq!(mtimes(&server), before);

    // The secret is in no file we wrote.
    assert_not_in_files(&project.dist(), &password);
    assert_not_in_files(&project.root().join("py/src"), &password);
}

fn mtimes(server: &PypiServer) -> Vec<(String, std::time::SystemTime)> {
    server
        .files()
        .into_iter()
        .map(|f| {
            let m = std::fs::metadata(server.packages.join(&f))
                .unwrap()
                .modified()
                .unwrap();
            (f, m)
        })
        .collect()
}

#[test]
fn preflight_reports_every_problem_without_a_request() {
    let project = Project::new();
    // A TestPyPI token in TWINE_PASSWORD, expired, scoped to another project;
    // and dist/ is empty. All reported at once, exit 3.
    let id = canary("pre");
    let token = build_test_token(
        "test.pypi.org",
        &id,
        &["[0,1000,900]", "[1,[\"someone-else\"]]"],
    );
    let run = project
        .xtask(
            &["publish", "--dry-run"],
            &[("TWINE_PASSWORD", token.as_str())],
        )
        .expect(3);
    let err = run.stderr();
    assert!(
        err.contains("is a token for test.pypi.org, not pypi.org"),
        "{err}"
    );
    assert!(err.contains("expired"), "{err}");
    assert!(err.contains("scoped to someone-else"), "{err}");
    assert!(err.contains("no sdist or wheel"), "{err}");
    assert!(
        !run.all().contains(&id) && !run.all().contains(&token[5..30]),
        "{err}"
    );

    // env check shows the same token problem (the settings core asks the
    // token inspection).
    let run = project
        .xtask(
            &["env", "check", "--for", "publish"],
            &[("TWINE_PASSWORD", token.as_str())],
        )
        .expect(3);
    assert!(
        run.stderr().contains("test.pypi.org, not pypi.org"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains(&token[5..30]));

    // The reverse: a PyPI token for --testpypi.
    let prod = build_test_token("pypi.org", &id, &["[1,[\"mult-agentes\"]]"]);
    let run = project
        .xtask(
            &["publish", "--testpypi", "--dry-run"],
            &[("TWINE_PASSWORD_TEST", prod.as_str())],
        )
        .expect(3);
    assert!(
        run.stderr().contains("TWINE_PASSWORD_TEST"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr()
            .contains("is a token for pypi.org, not test.pypi.org"),
        "{}",
        run.all()
    );
}

#[test]
fn build_refuses_a_tag_that_does_not_match() {
    let project = Project::new();
    let run = project
        .xtask(
            &["build"],
            &[
                ("GITHUB_ACTIONS", "true"),
                ("GITHUB_REF_TYPE", "tag"),
                ("GITHUB_REF_NAME", "v9.9.9"),
            ],
        )
        .expect(3);
    assert!(
        run.stderr()
            .contains("the tag v9.9.9 does not match the package version 0.1.0"),
        "{}",
        run.all()
    );
    assert!(!project.dist().exists());
}

#[test]
fn a_truncated_token_is_invalid_everywhere_with_the_reason_never_the_value() {
    let project = Project::new();
    let id = canary("cut");
    let whole = build_test_token("pypi.org", &id, &["[1,[\"mult-agentes\"]]"]);
    // Pasted short: `pypi-AgEIcHlwaS5vcmc…`.
    let cut = &whole[..40];
    let env = [("TWINE_PASSWORD", cut)];
    let leaked = |text: &str| text.contains(&cut[5..]) || text.contains(&id);
    for args in [
        &["publish", "--dry-run"][..],
        &["env", "check", "--for", "publish"][..],
    ] {
        let run = project.xtask(args, &env).expect(3);
        assert!(
            run.stderr().contains("damaged or truncated"),
            "{args:?}\n{}",
            run.all()
        );
        assert!(!leaked(&run.all()), "{args:?}\n{}", run.all());
    }
    let run = project.xtask(&["--json", "env", "status"], &env).expect(0);
    let status: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let var = status["variables"]
        .as_array()
        .or_else(|| status.as_array())
        .unwrap()
        .iter()
        .find(|v| v["name"] == "TWINE_PASSWORD")
        .unwrap()
        .clone();
    assert_eq!(var["valid"], false, "{var}");
    assert!(
        var["problem"]
            .as_str()
            .unwrap()
            .contains("damaged or truncated"),
        "{var}"
    );
    assert!(!leaked(&run.all()));
}

/// A TCP forwarder to `upstream` that holds every connection opening with
/// a POST (an upload) until `open` is set; `held` says one is waiting.
struct UploadGate {
    url: String,
    held: std::sync::Arc<std::sync::atomic::AtomicBool>,
    open: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl UploadGate {
    fn start(upstream_port: u16) -> UploadGate {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let held = Arc::new(AtomicBool::new(false));
        let open = Arc::new(AtomicBool::new(false));
        let (h, o) = (held.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (h, o) = (h.clone(), o.clone());
                std::thread::spawn(move || {
                    let mut first = [0u8; 4];
                    let _ = client.peek(&mut first);
                    if &first == b"POST" {
                        h.store(true, Ordering::SeqCst);
                        while !o.load(Ordering::SeqCst) {
                            std::thread::sleep(std::time::Duration::from_millis(20));
                        }
                    }
                    let server =
                        std::net::TcpStream::connect(("127.0.0.1", upstream_port)).unwrap();
                    let (mut c_in, mut s_out) =
                        (client.try_clone().unwrap(), server.try_clone().unwrap());
                    let up = std::thread::spawn(move || {
                        let _ = std::io::copy(&mut c_in, &mut s_out);
                        let _ = s_out.shutdown(std::net::Shutdown::Write);
                    });
                    let (mut s_in, mut c_out) = (server, client);
                    let _ = std::io::copy(&mut s_in, &mut c_out);
                    let _ = c_out.shutdown(std::net::Shutdown::Both);
                    let _ = up.join();
                });
            }
        });
        UploadGate {
            url: format!("http://127.0.0.1:{port}/"),
            held,
            open,
        }
    }

    /// Waits until an upload is held (at most two minutes); false when
    /// `done` says the run ended first.
    fn wait_held(&self, done: impl Fn() -> bool) -> bool {
        let start = std::time::Instant::now();
        while !self.held.load(std::sync::atomic::Ordering::SeqCst) {
            if done() {
                return false;
            }
            assert!(
                start.elapsed().as_secs() < 120,
                "no upload reached the gate"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        true
    }

    fn open(&self) {
        self.open.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Two publishes at once (a CI re-run while the first still uploads): the
/// one whose upload is refused reads the listing again and goes on when
/// the files there are its own (same sha256); with other bytes it is the
/// conflict that names the listing and the file.
#[test]
fn two_publishes_racing_against_one_index() {
    let id = canary("race");
    let password = build_test_token("pypi.org", &id, &["[1,[\"mult-agentes\"]]"]);
    let env = [("TWINE_PASSWORD", password.as_str())];
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);

    for other_bytes in [false, true] {
        let server = PypiServer::start(&password).unwrap();
        let check = server.simple_url();
        let gate = UploadGate::start(server.port);
        // The second run, from the same files or from a rebuild.
        let second = Project::new();
        second.xtask(&["build"], &[]).expect(0);
        if other_bytes {
            second.rebuild_with_other_bytes();
        }
        std::thread::scope(|s| {
            let late = s.spawn(|| {
                second.xtask(
                    &[
                        "publish",
                        "--repository-url",
                        &gate.url,
                        "--check-url",
                        &check,
                    ],
                    &env,
                )
            });
            if !gate.wait_held(|| late.is_finished()) {
                panic!("ended before uploading:\n{}", late.join().unwrap().all());
            }
            // Meanwhile the first run uploads everything.
            project
                .xtask(&["publish", "--repository-url", &server.url], &env)
                .expect(0);
            gate.open();
            let run = late.join().unwrap();
            let run = if other_bytes {
                let run = run.expect(1);
                let err = run.stderr();
                assert!(
                    err.contains("already has a file of this name with other content"),
                    "{}",
                    run.all()
                );
                assert!(err.contains("listed at http://127.0.0.1:"), "{}", run.all());
                assert!(err.contains("mult_agentes-0.1.0"), "{}", run.all());
                run
            } else {
                let run = run.expect(0);
                assert!(
                    run.all().contains("already there (uploaded meanwhile"),
                    "{}",
                    run.all()
                );
                run
            };
            assert!(!run.all().contains(&id), "{}", run.all());
        });
        assert_eq!(server.files().len(), 2, "{:?}", server.files());
    }
}

/// The missing-password message names a private index only through
/// `net::describe` (no user info, query or fragment) and does not send the
/// user to PyPI's token page; under `publish`, `release` and `--json`.
#[test]
fn a_private_index_url_with_credentials_never_appears_whole() {
    let project = Project::new();
    let secret = canary("url");
    let url = format!("http://user:{secret}@127.0.0.1:9/?token={secret}q#{secret}f");
    for args in [
        &["publish", "--repository-url", url.as_str()][..],
        &["--json", "publish", "--repository-url", url.as_str()][..],
        &[
            "release",
            "--repository-url",
            url.as_str(),
            "--skip",
            "vsce-publish",
        ][..],
        &["--json", "release", "--repository-url", url.as_str()][..],
    ] {
        let run = project.xtask(args, &[]).expect(3);
        let all = run.all();
        assert!(!all.contains(&secret), "{args:?}\n{all}");
        assert!(
            all.contains("TWINE_PASSWORD: is not set"),
            "{args:?}\n{all}"
        );
        assert!(all.contains("http://127.0.0.1:9/"), "{args:?}\n{all}");
        assert!(!all.contains("pypi.org/manage"), "{args:?}\n{all}");
    }
}

/// A port nothing listens on is refused at once: the check fails in well
/// under the 14.5 s the retries used to take.
#[test]
fn a_refused_port_fails_fast() {
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let token = build_test_token("pypi.org", &canary("refused"), &[]);
    let url = format!("http://127.0.0.1:{port}/");
    let started = std::time::Instant::now();
    let run = project
        .xtask(
            &["publish", "--repository-url", &url, "--dry-run"],
            &[("TWINE_PASSWORD", token.as_str())],
        )
        .expect(3);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "{:?}\n{}",
        started.elapsed(),
        run.all()
    );
    assert!(run.stderr().contains("connection refused"), "{}", run.all());
}

/// A project without Python packages has nothing to publish: said, exit 0
/// (it was a panic: the standalone command asked the step for a report its
/// run never made).
#[test]
fn publish_without_python_packages_says_so() {
    let tmp = folder_with(&[(
        "release-kit.toml",
        "[python]\nenabled = false\n[vscode]\nenabled = false\n",
    )]);
    for json in [false, true] {
        let mut args = vec!["--no-env-file", "publish"];
        if json {
            args.insert(0, "--json");
        }
        let out = xtask(tmp.path(), &[], &args);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("no Python package to publish: [python] enabled = false"),
            "{stderr}"
        );
        assert!(!stderr.contains("internal error"), "{stderr}");
    }
}
