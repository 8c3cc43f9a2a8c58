//! `cargo xtask build` and `publish` against a real pypiserver with real
//! build, twine and pip: upload, install, safe re-run, refused credentials,
//! missing password, and a rebuilt file that conflicts.

mod pypi_common;

use pypi_common::{Project, assert_not_in_files, canary};
use release_kit::decode::pypi_token::build_test_token;
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
    let no_secret = |run: &pypi_common::Run| {
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
    let wrong = format!("pypi-{}WRONG", canary("wrong"));
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
    pypi_common::assert_conflict(&run);
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
