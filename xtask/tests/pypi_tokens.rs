//! A token per Python package, as PyPI scopes them: two packages whose
//! tokens live in two variables publish in one run to a pypiserver that
//! takes each token for its own project only; a token scoped to the wrong
//! package is refused in preflight naming the package and the variable;
//! neither token reaches stdout, stderr, a file or a child's argv.

// Unix only: a shell shim stands in for twine to record what it is given.
#![cfg(unix)]

mod support;

use std::path::Path;

use release_kit::decode::pypi_token::build_test_token;
use support::{Project, assert_not_in_files, canary};
use testkit::pypi_index::PypiServer;

/// Writes the sdist and a pure wheel of `name` 0.1.0 into `dir`; their
/// metadata passes `twine check --strict`.
fn make(dir: &Path, name: &str) {
    const SCRIPT: &str = r#"
import io, os, sys, tarfile, zipfile
out, name = sys.argv[1], sys.argv[2]
dist, version = name.replace("-", "_"), "0.1.0"
meta = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n"
        "Description-Content-Type: text/markdown\n\n# test\n\nA test package.\n")
os.makedirs(out, exist_ok=True)
info = f"{dist}-{version}.dist-info"
with zipfile.ZipFile(os.path.join(out, f"{dist}-{version}-py3-none-any.whl"), "w") as z:
    z.writestr(f"{dist}/__init__.py", "")
    z.writestr(f"{info}/METADATA", meta)
    z.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
    z.writestr(f"{info}/RECORD", "")
with tarfile.open(os.path.join(out, f"{dist}-{version}.tar.gz"), "w:gz") as t:
    for member, text in [("PKG-INFO", meta), ("pyproject.toml", "")]:
        data = text.encode()
        ti = tarfile.TarInfo(f"{dist}-{version}/{member}")
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
"#;
    support::python(SCRIPT, [dir.as_os_str(), name.as_ref()]);
}

/// The example package under `py/` and a second pure package
/// `mult-agentes-extra` under `extra/` whose token is in
/// PYPI_TOKEN_EXTRA; both built into `dist/`. With `path_tools`, twine
/// comes from PATH (the recording shim of [`twine_shim`]).
fn two_packages(path_tools: bool) -> Project {
    let p = Project::new();
    let extra = p.root().join("extra");
    std::fs::create_dir_all(&extra).unwrap();
    std::fs::write(
        extra.join("pyproject.toml"),
        "[build-system]\nrequires = [\"hatchling>=1.27\"]\nbuild-backend = \"hatchling.build\"\n\n\
         [project]\nname = \"mult-agentes-extra\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(
        p.root().join("release-kit.toml"),
        format!(
            "[python]\npath = \"py\"\ndist = \"dist\"\nuse-path-tools = {path_tools}\n\
             [[python.packages]]\npath = \"extra\"\ntoken = \"PYPI_TOKEN_EXTRA\"\n"
        ),
    )
    .unwrap();
    make(&p.dist(), "mult-agentes");
    make(&p.dist(), "mult-agentes-extra");
    p
}

/// A project-scoped token (as PyPI makes them) for `project`.
fn token_for(project: &str, id: &str) -> String {
    build_test_token("pypi.org", id, &[&format!("[1,[\"{project}\"]]")])
}

/// A `twine` on PATH that records each run's argv and the sha256 of the
/// TWINE_PASSWORD it got (never the password), then runs the real twine.
/// Returns the PATH to use and the log.
fn twine_shim(dir: &Path) -> (String, std::path::PathBuf) {
    let venv_bin = testkit::python::test_python()
        .unwrap()
        .parent()
        .unwrap()
        .to_owned();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("twine-runs.log");
    let shim = bin.join("twine");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\n{{ printf 'argv:'; for a in \"$@\"; do printf ' %s' \"$a\"; done; \
             printf '\\npw: %s\\n' \"$(printf %s \"$TWINE_PASSWORD\" | sha256sum | cut -c1-16)\"; }} >> {log:?}\n\
             exec {twine:?} \"$@\"\n",
            twine = venv_bin.join("twine")
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&shim, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}:{}",
        bin.display(),
        venv_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    (path, log)
}

fn sha16(text: &str) -> String {
    support::python(
        "import hashlib, sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest()[:16])",
        [text],
    )
    .trim()
    .to_owned()
}

#[test]
fn two_packages_publish_with_their_own_tokens_in_one_run() {
    let (id_a, id_b) = (canary("toka"), canary("tokb"));
    let (tok_a, tok_b) = (
        token_for("mult-agentes", &id_a),
        token_for("mult-agentes-extra", &id_b),
    );
    let server =
        PypiServer::start_scoped(&[("mult-agentes", &tok_a), ("mult-agentes-extra", &tok_b)])
            .unwrap();
    let project = two_packages(true);
    let shim_dir = tempfile::tempdir().unwrap();
    let (path, log) = twine_shim(shim_dir.path());
    let env = [
        ("TWINE_PASSWORD", tok_a.as_str()),
        ("PYPI_TOKEN_EXTRA", tok_b.as_str()),
        ("PATH", path.as_str()),
    ];
    // env check names both variables, each judged for its package.
    let check = project
        .xtask(&["env", "check", "--for", "publish"], &env)
        .expect(0);
    let run_status = project.xtask(&["--json", "env", "status"], &env).expect(0);
    assert!(
        run_status.stdout().contains("\"PYPI_TOKEN_EXTRA\""),
        "{}",
        run_status.all()
    );
    let run = project
        .xtask(&["publish", "--repository-url", &server.url], &env)
        .expect(0);
    assert_eq!(
        server.files(),
        [
            "mult_agentes-0.1.0-py3-none-any.whl",
            "mult_agentes-0.1.0.tar.gz",
            "mult_agentes_extra-0.1.0-py3-none-any.whl",
            "mult_agentes_extra-0.1.0.tar.gz",
        ],
        "{}\n{}",
        run.all(),
        server.log()
    );
    // Each upload run got its package's token, in its environment only.
    let runs = std::fs::read_to_string(&log).unwrap();
    let uploads: Vec<(&str, &str)> = runs
        .lines()
        .collect::<Vec<_>>()
        .chunks(2)
        .filter(|c| c[0].contains(" upload "))
        .map(|c| (c[0], c[1]))
        .collect();
    assert_eq!(uploads.len(), 2, "{runs}");
    assert!(uploads[0].0.contains("mult_agentes-0.1.0.tar.gz"), "{runs}");
    assert!(uploads[0].1.ends_with(&sha16(&tok_a)), "{runs}");
    assert!(
        uploads[1].0.contains("mult_agentes_extra-0.1.0.tar.gz"),
        "{runs}"
    );
    assert!(uploads[1].1.ends_with(&sha16(&tok_b)), "{runs}");
    // The canaries: never printed, written, or in an argv.
    for secret in [&tok_a, &tok_b, &id_a, &id_b] {
        for text in [run.all(), check.all(), run_status.all(), runs.clone()] {
            assert!(!text.contains(secret.as_str()), "{text}");
        }
        assert_not_in_files(project.root(), secret);
    }
}

#[test]
fn a_token_scoped_to_the_wrong_package_is_refused_before_any_upload() {
    let (id_a, id_b) = (canary("wronga"), canary("wrongb"));
    let tok_a = token_for("mult-agentes", &id_a);
    // The extra package's variable holds a token for the first package.
    let wrong = token_for("mult-agentes", &id_b);
    let server =
        PypiServer::start_scoped(&[("mult-agentes", &tok_a), ("mult-agentes-extra", &wrong)])
            .unwrap();
    let project = two_packages(false);
    let env = [
        ("TWINE_PASSWORD", tok_a.as_str()),
        ("PYPI_TOKEN_EXTRA", wrong.as_str()),
    ];
    for args in [
        &["publish", "--repository-url", &server.url][..],
        &["env", "check", "--for", "publish"][..],
    ] {
        let run = project.xtask(args, &env).expect(3);
        let err = run.stderr();
        assert!(
            err.contains(
                "PYPI_TOKEN_EXTRA: is scoped to mult-agentes and cannot upload mult-agentes-extra"
            ),
            "{args:?}\n{}",
            run.all()
        );
        assert!(err.contains("first upload"), "{}", run.all());
        // TWINE_PASSWORD, right for its package, is not refused.
        assert!(!err.contains("TWINE_PASSWORD:"), "{}", run.all());
        for secret in [&tok_a, &wrong, &id_a, &id_b] {
            assert!(!run.all().contains(secret.as_str()), "{}", run.all());
        }
    }
    assert!(server.files().is_empty(), "{:?}", server.files());
    // A variable the package names and nobody set: exit 3, named with
    // its package.
    let run = project
        .xtask(
            &["publish", "--repository-url", &server.url],
            &[("TWINE_PASSWORD", tok_a.as_str())],
        )
        .expect(3);
    assert!(
        run.stderr()
            .contains("PYPI_TOKEN_EXTRA: is not set; needed to publish mult-agentes-extra"),
        "{}",
        run.all()
    );
    assert!(server.files().is_empty());
}

/// The rehearsal's local index has one login: every package's token
/// variable gets its throwaway password, so a package that names its own
/// variable (unset here) rehearses like the others.
#[test]
fn a_rehearsal_gives_each_package_variable_the_throwaway_password() {
    let p = Project::new();
    let root = p.root();
    std::fs::copy(
        testkit::python::workspace_root().join("examples/mult-agentes/CHANGELOG.md"),
        root.join("CHANGELOG.md"),
    )
    .unwrap();
    let extra = root.join("extra");
    std::fs::create_dir_all(extra.join("src/mult_agentes_extra")).unwrap();
    std::fs::write(
        extra.join("pyproject.toml"),
        "[build-system]\nrequires = [\"hatchling>=1.27\"]\nbuild-backend = \"hatchling.build\"\n\n\
         [project]\nname = \"mult-agentes-extra\"\nversion = \"0.1.0\"\ndescription = \"test\"\n\
         readme = \"README.md\"\nrequires-python = \">=3.9\"\n",
    )
    .unwrap();
    std::fs::write(extra.join("README.md"), "# extra\n\nA test package.\n").unwrap();
    std::fs::write(extra.join("src/mult_agentes_extra/__init__.py"), "X = 1\n").unwrap();
    std::fs::write(
        root.join("release-kit.toml"),
        "[python]\npath = \"py\"\ndist = \"dist\"\n[[python.packages]]\npath = \"extra\"\n\
         token = \"PYPI_TOKEN_EXTRA\"\n[vscode]\nenabled = false\n",
    )
    .unwrap();
    let run = p.xtask(&["release", "--rehearse"], &[]).expect(0);
    let all = run.all();
    assert!(all.contains("mult-agentes-extra"), "{all}");
    assert!(!all.contains("PYPI_TOKEN_EXTRA: is not set"), "{all}");
}
