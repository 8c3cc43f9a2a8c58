//! Adopting release-kit in projects written here, laid out as real ones
//! are (not like the bundled example): nothing of the tool and nothing
//! secret ends up inside a built package, and a maturin rebuild is
//! byte-identical although its `dist/` is not ignored.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use release_kit::decode::pypi_token::build_test_token;
use support::Run;
use testkit::pypi_index::PypiServer;

/// A project of our own in a temporary folder.
struct Fixture {
    dir: tempfile::TempDir,
}

impl Fixture {
    /// A project holding `files` (path, content).
    fn new(files: &[(&str, &str)]) -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        for (path, content) in files {
            let to = dir.path().join(path);
            std::fs::create_dir_all(to.parent().unwrap()).unwrap();
            std::fs::write(to, content).unwrap();
        }
        Fixture { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, path: &str, content: &str) {
        std::fs::write(self.root().join(path), content).unwrap();
    }

    /// `cargo xtask ARGS` in the project ([`support::in_project`]).
    fn xtask(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        support::in_project(self.root(), args, env)
    }

    /// The files of `dist/`.
    fn dist_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.root().join("dist"))
            .map(|d| {
                d.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
    }

    /// The sdist of `dist/`.
    fn sdist(&self) -> PathBuf {
        self.dist_files()
            .into_iter()
            .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
            .expect("an sdist in dist/")
    }
}

/// The member names of an sdist, read by Python's tarfile.
fn sdist_members(path: &Path) -> Vec<String> {
    support::python(
        "import sys, tarfile\nprint('\\n'.join(tarfile.open(sys.argv[1]).getnames()))",
        [path],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

/// Nothing of release-kit's own in the project folder after a run.
fn assert_no_tool_inside(root: &Path) {
    for tool_folder in ["target", "node_modules", ".release-kit"] {
        assert!(
            !root.join(tool_folder).exists(),
            "{tool_folder}/ was created inside the project"
        );
    }
}

const MATURIN_PYPROJECT: &str = "[build-system]\nrequires = [\"maturin>=1.0,<2.0\"]\n\
build-backend = \"maturin\"\n\n[project]\nname = \"fixture-tool\"\nversion = \"0.3.0\"\n\
readme = \"README.md\"\n\n[tool.maturin]\nbindings = \"bin\"\n";

/// A maturin package at the repository root (a Rust command line shipped
/// as a wheel: no Python dependency to compile), with no `.gitignore`.
fn maturin_at_root() -> Fixture {
    Fixture::new(&[
        (
            "Cargo.toml",
            "[package]\nname = \"fixture-tool\"\nversion = \"0.3.0\"\nedition = \"2021\"\n",
        ),
        ("src/main.rs", "fn main() { println!(\"fixture-tool\"); }\n"),
        ("pyproject.toml", MATURIN_PYPROJECT),
        ("README.md", "# fixture-tool\n"),
        (
            "release-kit.toml",
            "[python]\npath = \".\"\n[vscode]\nenabled = false\n",
        ),
    ])
}

#[test]
fn maturin_rebuild_with_dist_not_ignored_is_byte_identical() {
    let p = maturin_at_root();
    // Without an exclusion the sdist would take in dist/: found before
    // anything is built, with the fix.
    let run = p.xtask(&["build"], &[]).expect(3);
    assert!(
        run.stderr()
            .contains("exclude = [{ path = \"dist/**\", format = \"sdist\" }]"),
        "{}",
        run.all()
    );
    assert!(p.dist_files().is_empty(), "{:?}", p.dist_files());

    p.write(
        "pyproject.toml",
        &format!("{MATURIN_PYPROJECT}exclude = [{{ path = \"dist/**\", format = \"sdist\" }}]\n"),
    );
    p.xtask(&["build"], &[]).expect(0);
    let first = std::fs::read(p.sdist()).unwrap();
    let members = sdist_members(&p.sdist());
    assert!(members.iter().all(|m| !m.contains("/dist/")), "{members:?}");
    // Again and again: the same bytes, never the last build inside.
    for _ in 0..2 {
        p.xtask(&["build"], &[]).expect(0);
        assert_eq!(
            std::fs::read(p.sdist()).unwrap(),
            first,
            "a rebuild differs"
        );
    }
    assert_no_tool_inside(p.root());
}

const HATCH_PYPROJECT: &str = "[build-system]\nrequires = [\"hatchling\"]\n\
build-backend = \"hatchling.build\"\n\n[project]\nname = \"fixture-hatch\"\n\
version = \"1.2.0\"\nreadme = \"README.md\"\ndescription = \"A fixture\"\n";

/// A local index, its upload password (a token of the index's own form)
/// and the environment of a publish.
fn index() -> (PypiServer, String) {
    let password = build_test_token("pypi.org", "adopt", &[]);
    let server = PypiServer::start(&password).unwrap();
    (server, password)
}

/// Asserts no file of `dist/` holds anything that must not ship.
fn assert_clean_packages(p: &Fixture) {
    assert!(!p.dist_files().is_empty());
    for f in p.dist_files() {
        let problems = release_kit::members::problems(&f);
        assert!(problems.is_empty(), "{problems:?}");
    }
}

#[test]
fn hatchling_package_with_a_secret_and_a_venv_is_refused_until_ignored() {
    let canary = "canary-5ecr3t-adopt-0451";
    let p = Fixture::new(&[
        ("pyproject.toml", HATCH_PYPROJECT),
        ("README.md", "# fixture-hatch\n"),
        ("src/fixture_hatch/__init__.py", "__version__ = \"1.2.0\"\n"),
        (".env", &format!("API_TOKEN={canary}\n")),
        ("venv/pyvenv.cfg", "home = /usr/bin\n"),
    ]);
    // No release-kit.toml: no guess, exit 3 saying what to run.
    let run = p.xtask(&["build"], &[]).expect(3);
    assert!(run.stderr().contains("cargo xtask init"), "{}", run.all());
    // A release-kit.toml of our own, without the .gitignore init writes:
    // hatchling packs what no .gitignore excludes, the .env and the venv.
    p.write("release-kit.toml", "[python]\npath = \".\"\n");
    let run = p.xtask(&["build"], &[]).expect(3);
    let err = run.stderr();
    assert!(err.contains("fixture_hatch-1.2.0/.env"), "{}", run.all());
    assert!(
        err.contains("may hold secrets") && err.contains(".gitignore"),
        "{err}"
    );
    assert!(err.contains("fixture_hatch-1.2.0/venv/pyvenv.cfg"), "{err}");
    assert!(
        !run.all().contains(canary),
        "the secret's value was printed"
    );
    // The publish check refuses the same files, before any upload.
    let (server, password) = index();
    let publish = p
        .xtask(
            &["publish", "--repository-url", &server.url],
            &[("TWINE_PASSWORD", password.as_str())],
        )
        .expect(3);
    assert!(
        publish.stderr().contains("fixture_hatch-1.2.0/.env"),
        "{}",
        publish.all()
    );
    assert!(!publish.all().contains(canary));
    assert!(server.files().is_empty(), "{:?}", server.files());

    // init writes the .gitignore lines (.env, dist/); the venv is the
    // project's own to ignore.
    std::fs::remove_file(p.root().join("release-kit.toml")).unwrap();
    p.xtask(&["init"], &[]).expect(0);
    let run = p.xtask(&["build"], &[]).expect(3);
    assert!(!run.stderr().contains(".env"), "{}", run.all());
    assert!(run.stderr().contains("venv/pyvenv.cfg"), "{}", run.all());
    let ignore = std::fs::read_to_string(p.root().join(".gitignore")).unwrap();
    p.write(".gitignore", &format!("{ignore}venv/\n"));
    p.xtask(&["build"], &[]).expect(0);
    assert_clean_packages(&p);
    for f in p.dist_files() {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
            "{} holds the secret",
            f.display()
        );
    }
    // Then it publishes to the local index.
    p.xtask(
        &["publish", "--repository-url", &server.url],
        &[("TWINE_PASSWORD", password.as_str())],
    )
    .expect(0);
    let mut on_index = server.files();
    on_index.sort();
    assert_eq!(
        on_index,
        [
            "fixture_hatch-1.2.0-py2.py3-none-any.whl",
            "fixture_hatch-1.2.0.tar.gz"
        ]
    );
    assert_no_tool_inside(p.root());
}

#[test]
fn setuptools_at_the_root_without_gitignore_through_init_build_publish_install() {
    let p = Fixture::new(&[
        (
            "pyproject.toml",
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"sampleproject-fx\"\nversion = \"2.1.0\"\nreadme = \"README.md\"\n\
             description = \"A fixture\"\nrequires-python = \">=3.9\"\n",
        ),
        ("README.md", "# sampleproject-fx\n"),
        ("src/sample/__init__.py", "__version__ = \"2.1.0\"\n"),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n## [2.1.0] - 2026-01-01\n\n- First.\n",
        ),
    ]);
    let init = p.xtask(&["init"], &[]).expect(0);
    assert!(
        init.stdout().contains("setuptools.build_meta"),
        "{}",
        init.all()
    );
    p.xtask(&["build"], &[]).expect(0);
    assert_clean_packages(&p);
    let (server, password) = index();
    let env = [("TWINE_PASSWORD", password.as_str())];
    p.xtask(&["publish", "--repository-url", &server.url], &env)
        .expect(0);
    // Re-running is safe: the same files are already there.
    p.xtask(&["publish", "--repository-url", &server.url], &env)
        .expect(0);
    let mut on_index = server.files();
    on_index.sort();
    assert_eq!(
        on_index,
        [
            "sampleproject_fx-2.1.0-py3-none-any.whl",
            "sampleproject_fx-2.1.0.tar.gz"
        ]
    );
    // Installed from the index and imported by its module name.
    let venv = p.root().join("install-venv");
    let python = testkit::python::test_python().unwrap();
    let st = Command::new(&python)
        .args(["-m", "venv"])
        .arg(&venv)
        .status()
        .unwrap();
    assert!(st.success());
    let vpy = venv.join("bin/python");
    support::ok_stdout(
        Command::new(&vpy)
            .args(["-m", "pip", "install", "-q", "--no-deps", "--index-url"])
            .arg(format!("{}simple/", server.url))
            .arg("sampleproject-fx==2.1.0")
            .output()
            .unwrap(),
    );
    let out = Command::new(&vpy)
        .args(["-c", "import sample; print(sample.__version__)"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "2.1.0");
    std::fs::remove_dir_all(&venv).unwrap();
    assert_no_tool_inside(p.root());
}

#[test]
fn extension_only_project_through_init_build_package_and_rehearsal() {
    let p = Fixture::new(&[
        (
            "package.json",
            "{\n  \"name\": \"fixture-ext\",\n  \"displayName\": \"Fixture\",\n  \"description\": \"A fixture\",\n  \
             \"version\": \"0.4.0\",\n  \"publisher\": \"fixture-pub\",\n  \"license\": \"MIT\",\n  \
             \"repository\": {\"type\": \"git\", \"url\": \"https://example.invalid/fixture-ext\"},\n  \
             \"engines\": {\"vscode\": \"^1.85.0\"},\n  \"main\": \"./extension.js\",\n  \
             \"activationEvents\": []\n}\n",
        ),
        ("extension.js", "exports.activate = () => {};\n"),
        ("README.md", "# Fixture extension\n\nDoes nothing, well.\n"),
        ("LICENSE", "MIT License\n"),
        (".env", "VSCE_PAT=canary-ext-0451\n"),
    ]);
    let init = p.xtask(&["init"], &[]).expect(0);
    assert!(init.stdout().contains("fixture-ext"), "{}", init.all());
    let config = std::fs::read_to_string(p.root().join("release-kit.toml")).unwrap();
    assert!(
        config.contains("[python]\n# No pyproject.toml") && config.contains("enabled = false"),
        "{config}"
    );
    // `build` and `release` work, skipping Python with a line that says so.
    let build = p.xtask(&["build"], &[]).expect(0);
    assert!(
        build.stderr().contains("[python] enabled = false"),
        "{}",
        build.all()
    );
    let vsix = p.xtask(&["vsce-package"], &[]).expect(0);
    let packaged: Vec<PathBuf> = p
        .dist_files()
        .into_iter()
        .filter(|f| f.to_string_lossy().ends_with(".vsix"))
        .collect();
    assert_eq!(packaged.len(), 1, "{}", vsix.all());
    // init listed .env in .vscodeignore (vsce refuses to pack one): the
    // package holds nothing that must not ship.
    assert!(init.stdout().contains(".vscodeignore"), "{}", init.all());
    let members = release_kit::members::problems(&packaged[0]);
    assert!(members.is_empty(), "{members:?}");
    assert!(!vsix.all().contains("canary-ext-0451"));
    // A version-control folder vsce does not leave out on its own (.hg)
    // is refused after packaging, naming the member and .vscodeignore.
    std::fs::create_dir_all(p.root().join(".hg")).unwrap();
    p.write(".hg/hgrc", "[paths]\n");
    let refused = p.xtask(&["vsce-package"], &[]).expect(3);
    assert!(
        refused.stderr().contains("extension/.hg/hgrc"),
        "{}",
        refused.all()
    );
    assert!(
        refused.stderr().contains(".vscodeignore"),
        "{}",
        refused.all()
    );
    std::fs::remove_dir_all(p.root().join(".hg")).unwrap();
    p.xtask(&["vsce-package"], &[]).expect(0);
    let rehearse = p.xtask(&["release", "--rehearse"], &[]);
    assert!(
        !rehearse.all().contains("canary-ext-0451"),
        "{}",
        rehearse.all()
    );
    assert_eq!(rehearse.code(), 0, "{}", rehearse.all());
    assert!(
        !rehearse.all().contains("local-index"),
        "{}",
        rehearse.all()
    );
    assert_no_tool_inside(p.root());
}
