//! Native wheels: a real maturin build of examples/mult-agentes-native
//! (PyO3, abi3) by `cargo xtask build --package`, its tags read back and
//! printed, uploaded to a real pypiserver, installed by pip into a fresh
//! virtual environment and called into; and what the build refuses up
//! front (exit 3, nothing built): an unknown package, a Rust target that
//! is not installed, no Rust toolchain, --zig without zig, cibuildwheel
//! without a container engine.
//!
//! The maturin build runs once per test binary and is shared; its cargo
//! folder is the workspace target's, so pyo3 compiles cold once per
//! machine.

// Unix only (its tool folders are symlinks and its stand-in tools sh scripts); the
// Windows behaviour is covered by the library's unit tests.
#![cfg(unix)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use release_kit::decode::pypi_token::build_test_token;
use release_kit::pypi::package::WheelName;
use support::{Project, Run};
use testkit::pypi_index::PypiServer;
use testkit::python::test_python;

const NATIVE: &str = "mult-agentes-native";
/// The copies are not git repositories: the build's timestamp is given.
const EPOCH: (&str, &str) = ("SOURCE_DATE_EPOCH", "1700000000");

/// A project with both examples: mult-agentes under `py/` (support's)
/// and mult-agentes-native's git-tracked files under `native/`.
fn project_with_native() -> Project {
    let p = Project::new();
    support::copy_tracked("examples/mult-agentes-native", &p.root().join("native"));
    assert!(p.root().join("native/Cargo.lock").is_file());
    let toml = p.root().join("release-kit.toml");
    let mut text = std::fs::read_to_string(&toml).unwrap();
    text.push_str("[[python.packages]]\npath = \"native\"\n");
    std::fs::write(&toml, text).unwrap();
    p
}

/// The one real maturin build of this test binary: the project and the
/// build's output.
fn built() -> &'static (Project, Run) {
    static BUILT: OnceLock<(Project, Run)> = OnceLock::new();
    BUILT.get_or_init(|| {
        let p = project_with_native();
        let run = p.xtask(&["build", "--package", NATIVE], &[EPOCH]);
        (p, run)
    })
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .filter(|e| e.path().is_file())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// The `Tag:` lines of a wheel's WHEEL file, read by Python's zipfile.
fn wheel_metadata_tags(wheel: &Path) -> Vec<String> {
    let code = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\n\
             w = [n for n in z.namelist() if n.endswith('.dist-info/WHEEL')][0]\n\
             print('\\n'.join(l[4:].strip() for l in z.read(w).decode().splitlines() if l.startswith('Tag:')))";
    let mut tags: Vec<String> = support::python(code, [wheel])
        .lines()
        .map(str::to_owned)
        .collect();
    tags.sort();
    tags
}

#[test]
fn maturin_build_prints_the_tags_and_the_wheel_installs_and_calls_rust() {
    let (p, run) = built();
    assert_eq!(run.code(), 0, "{}", run.all());
    // --package: only the native package was built.
    let dist = files_in(&p.dist());
    let wheels: Vec<&String> = dist.iter().filter(|f| f.ends_with(".whl")).collect();
    assert_eq!(dist.len(), 2, "{dist:?}");
    assert!(
        dist.contains(&"mult_agentes_native-0.1.0.tar.gz".to_owned()),
        "{dist:?}"
    );
    assert_eq!(wheels.len(), 1, "{dist:?}");
    let wheel = wheels[0];
    let name = WheelName::parse(wheel).unwrap();
    assert_eq!(name.python, ["cp39"], "{wheel}");
    assert_eq!(name.abi, ["abi3"], "{wheel}");
    assert!(!name.is_pure(), "{wheel}");
    // The printed tags are the file name's and the WHEEL file's.
    let metadata = wheel_metadata_tags(&p.dist().join(wheel));
    assert_eq!(metadata, name.tags());
    let printed = format!("{wheel} tags: {}", metadata.join(" "));
    assert!(run.stdout().contains(&printed), "{printed}\n{}", run.all());
    says(run, "twine check --strict: passed");

    // Published to a real pypiserver with a token scoped to this package
    // only (the other package is not published), installed by pip, called
    // into.
    let password = build_test_token(
        "pypi.org",
        "native-test",
        &[r#"{"version": 1, "permissions": {"projects": ["mult-agentes-native"]}}"#],
    );
    let server = PypiServer::start(&password).unwrap();
    p.xtask(
        &[
            "publish",
            "--package",
            NATIVE,
            "--repository-url",
            &server.url,
        ],
        &[("TWINE_PASSWORD", password.as_str())],
    )
    .expect(0);
    let mut on_index = server.files();
    on_index.sort();
    assert_eq!(on_index, dist, "{}", server.log());
    let venv = p.root().join("install-venv");
    let status = Command::new(test_python().unwrap())
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(status.success());
    let python = venv.join("bin/python");
    let out = Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-cache-dir",
        ])
        .args([
            "--only-binary",
            ":all:",
            "--index-url",
            &server.simple_url(),
        ])
        .arg(format!("{NATIVE}==0.1.0"))
        .env_remove("PIP_FIND_LINKS")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", support::text(&out));
    let out = Command::new(&python)
        .args([
            "-c",
            "import mult_agentes_native as m, mult_agentes_native._native as n\n\
             print(n.__file__.rsplit('.', 1)[-1], m.count_tokens(\"Don't stop, agents: 42!\"), \
             m.fits(['one two', 'three four five'], 4), m.__version__)",
        ])
        .current_dir(&venv)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "so 7 ['one two'] 0.1.0"
    );

    // Every package now: the pure one joins, the native files are rebuilt
    // with the same bytes (SOURCE_DATE_EPOCH), and each package's files
    // are cleaned on their own.
    let bytes: Vec<Vec<u8>> = dist
        .iter()
        .map(|n| std::fs::read(p.dist().join(n)).unwrap())
        .collect();
    let all = p.xtask(&["build"], &[EPOCH]).expect(0);
    let after = files_in(&p.dist());
    assert_eq!(after.len(), 4, "{after:?}\n{}", all.all());
    for (name, before) in dist.iter().zip(bytes) {
        assert_eq!(
            std::fs::read(p.dist().join(name)).unwrap(),
            before,
            "{name} changed on rebuild"
        );
    }
    assert_eq!(all.stdout().matches(" tags: ").count(), 2, "{}", all.all());
    assert!(
        all.stdout()
            .contains("mult_agentes-0.1.0-py3-none-any.whl tags: py3-none-any"),
        "{}",
        all.all()
    );

    // The token cannot upload the other package: refused up front.
    let run = p
        .xtask(
            &[
                "publish",
                "--package",
                "mult-agentes",
                "--repository-url",
                &server.url,
            ],
            &[("TWINE_PASSWORD", password.as_str())],
        )
        .expect(3);
    says(&run, "cannot upload mult-agentes");
    assert_eq!(server.files().len(), 2, "{:?}", server.files());
}

/// Asserts the run's stderr says `text`.
fn says(run: &Run, text: &str) {
    assert!(run.stderr().contains(text), "{}", run.all());
}

/// A PATH holding only `names` (linked from the real PATH).
fn path_with_only(dir: &Path, names: &[&str]) -> String {
    std::fs::create_dir_all(dir).unwrap();
    for name in names {
        let found = which(name).unwrap_or_else(|| panic!("{name} is needed for this test"));
        std::os::unix::fs::symlink(found, dir.join(name)).unwrap();
    }
    dir.display().to_string()
}

fn which(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

#[test]
fn what_the_build_refuses_up_front() {
    let p = project_with_native();
    // An unknown package: the configured ones are named.
    let run = p.xtask(&["build", "--package", "nope"], &[]).expect(3);
    says(
        &run,
        "--package nope: no such Python package in release-kit.toml; the configured ones are mult-agentes, mult-agentes-native",
    );
    // A target that is not installed, and --zig without zig: both at once.
    // (Tests run where aarch64 Linux is not an installed target.)
    let run = p
        .xtask(
            &[
                "build",
                "--package",
                NATIVE,
                "--target",
                "aarch64-unknown-linux-gnu",
                "--zig",
            ],
            &[],
        )
        .expect(3);
    says(&run, "run `rustup target add aarch64-unknown-linux-gnu`");
    says(&run, "--zig: zig was not found");
    says(&run, "pip install ziglang==");
    // No Rust toolchain at all.
    let tmp = tempfile::tempdir().unwrap();
    let bare = path_with_only(&tmp.path().join("bin"), &["python3", "git"]);
    let run = p
        .xtask(&["build", "--package", NATIVE], &[("PATH", bare.as_str())])
        .expect(3);
    assert!(
        run.stderr().contains("cargo was not found on PATH") && run.stderr().contains("rustup"),
        "{}",
        run.all()
    );
    // Platform flags on a pure package.
    let run = p
        .xtask(&["build", "--package", "mult-agentes", "--zig"], &[])
        .expect(3);
    says(&run, "pure Python");
    // cibuildwheel builds Linux wheels in containers: no docker or podman.
    let toml = p.root().join("release-kit.toml");
    let text = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(
        &toml,
        text.replace(
            "path = \"native\"\n",
            "path = \"native\"\nbackend = \"cibuildwheel\"\n",
        ),
    )
    .unwrap();
    let run = p
        .xtask(&["build", "--package", NATIVE], &[("PATH", bare.as_str())])
        .expect(3);
    assert!(
        run.stderr().contains("docker was not found on PATH")
            && run.stderr().contains("install docker or podman"),
        "{}",
        run.all()
    );
    // Nothing was built.
    assert!(files_in(&p.dist()).is_empty(), "{:?}", files_in(&p.dist()));
}

#[test]
fn the_native_build_sees_no_inherited_secret() {
    // A build script that writes down the environment cargo gives it:
    // maturin's, which is ours less the secrets.
    let p = project_with_native();
    std::fs::write(
        p.root().join("native/build.rs"),
        "fn main() {\n\
         let seen: String = std::env::vars().map(|(k, v)| format!(\"{k}={v}\\n\")).collect();\n\
         let dir = std::path::PathBuf::from(std::env::var(\"CARGO_MANIFEST_DIR\").unwrap());\n\
         std::fs::write(dir.parent().unwrap().join(\"env-seen.txt\"), seen).unwrap();\n\
         }\n",
    )
    .unwrap();
    let twine = support::canary("twine");
    let token = support::canary("token");
    let run = p
        .xtask(
            &["build", "--package", NATIVE],
            &[
                EPOCH,
                ("TWINE_PASSWORD", twine.as_str()),
                ("MY_API_TOKEN", token.as_str()),
                ("RK_NATIVE_MARKER", "passed-through"),
            ],
        )
        .expect(0);
    let seen = std::fs::read_to_string(p.root().join("env-seen.txt")).unwrap();
    // Our environment does reach it (so the dump can show a leak)...
    assert!(seen.contains("RK_NATIVE_MARKER=passed-through"), "{seen}");
    assert!(seen.contains("SOURCE_DATE_EPOCH=1700000000"), "{seen}");
    // ...but not the secrets in it.
    for canary in [&twine, &token] {
        assert!(!seen.contains(canary.as_str()), "the build saw a secret");
        assert!(!run.all().contains(canary.as_str()), "{}", run.all());
        support::assert_not_in_files(&p.dist(), canary);
    }
}

#[test]
fn a_build_twine_refuses_leaves_dist_alone() {
    // A README PyPI cannot render: twine check --strict refuses the build
    // (its verdict through the twine started while the build ran).
    let p = Project::new();
    let pyproject = p.root().join("py/pyproject.toml");
    let text = std::fs::read_to_string(&pyproject).unwrap();
    std::fs::write(
        &pyproject,
        text.replace(
            "readme = \"README.md\"",
            "readme = { file = \"README.rst\", content-type = \"text/x-rst\" }",
        ),
    )
    .unwrap();
    std::fs::write(
        p.root().join("py/README.rst"),
        "Broken\n=====\n\n.. unknown-directive::\n\n`unclosed\n",
    )
    .unwrap();
    let run = p.xtask(&["build"], &[EPOCH]).expect(1);
    says(&run, "twine check --strict refused the build");
    says(&run, "has syntax errors in markup");
    assert!(
        !run.stderr().contains('\u{1b}'),
        "colour codes: {}",
        run.all()
    );
    assert!(files_in(&p.dist()).is_empty(), "{:?}", files_in(&p.dist()));
}
