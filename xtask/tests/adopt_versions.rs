//! Versions as Python packaging has them, on projects written here laid
//! out as real ones are: a flit package whose version is `__version__`
//! and whose changelog is reStructuredText, a hatchling package versioned
//! by its git tag (hatch-vcs), a maturin/PyO3 package (not abi3) whose
//! version is Cargo.toml's, and setuptools at the root with no
//! `.gitignore`. Each goes through `init`, `build`, `publish` to a local
//! pypiserver and a re-run, and the version inside the built files (their
//! metadata, read by Python) is the one the source names.

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
    fn new(files: &[(&str, &str)]) -> Fixture {
        Fixture {
            dir: support::folder_with(files),
        }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, path: &str, content: &str) {
        std::fs::write(self.root().join(path), content).unwrap();
    }

    fn edit(&self, path: &str, from: &str, to: &str) {
        let text = std::fs::read_to_string(self.root().join(path)).unwrap();
        assert!(text.contains(from), "{path}: {text}");
        self.write(path, &text.replace(from, to));
    }

    /// `cargo xtask ARGS` in the project ([`support::in_project`]).
    fn xtask(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        support::in_project(self.root(), args, env)
    }

    /// `git ARGS` in the project, with an identity of its own.
    fn git(&self, args: &[&str]) {
        let out = Command::new("git")
            .args([
                "-c",
                "user.name=Fixture",
                "-c",
                "user.email=fixture@example.invalid",
            ])
            .args(["-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"])
            .args(args)
            .current_dir(self.root())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", support::text(&out));
    }

    /// The files of `dir` (relative to the root), sorted.
    fn files(&self, dir: &str) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.root().join(dir))
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
}

/// `Version:` of a built file's metadata, read by Python (zipfile,
/// tarfile and the email parser).
fn metadata_version(path: &Path) -> String {
    let code = "import sys, tarfile, zipfile, email\np = sys.argv[1]\n\
        if p.endswith('.whl'):\n\
        \x20   z = zipfile.ZipFile(p)\n\
        \x20   t = z.read([n for n in z.namelist() if n.endswith('.dist-info/METADATA') and n.count('/') == 1][0])\n\
        else:\n\
        \x20   tf = tarfile.open(p)\n\
        \x20   t = tf.extractfile([m for m in tf.getmembers() if m.name.count('/') == 1 and m.name.endswith('/PKG-INFO')][0]).read()\n\
        print(email.message_from_bytes(t)['Version'])";
    support::python(code, [path]).trim().to_owned()
}

/// Asserts every file of `dir` is of `version`, by its metadata; returns
/// their names.
fn assert_built(p: &Fixture, dir: &str, version: &str) -> Vec<String> {
    let files = p.files(dir);
    assert!(files.len() >= 2, "{files:?}");
    files
        .iter()
        .map(|f| {
            assert_eq!(metadata_version(f), version, "{}", f.display());
            f.file_name().unwrap().to_string_lossy().into_owned()
        })
        .collect()
}

/// Publishes to a fresh local index, then again: the second run finds
/// every file there already. Returns what the index holds.
fn publish_and_rerun(p: &Fixture) -> Vec<String> {
    let password = build_test_token("pypi.org", "versions", &[]);
    let server = PypiServer::start(&password).unwrap();
    let env = [("TWINE_PASSWORD", password.as_str())];
    p.xtask(&["publish", "--repository-url", &server.url], &env)
        .expect(0);
    let again = p
        .xtask(&["publish", "--repository-url", &server.url], &env)
        .expect(0);
    assert!(
        again.stdout().contains("skipped (already on the index"),
        "{}",
        again.all()
    );
    assert!(!again.stdout().contains("uploaded"), "{}", again.all());
    assert!(!again.all().contains(&password), "the password was printed");
    let mut on_index = server.files();
    on_index.sort();
    on_index
}

const FLIT_PYPROJECT: &str = "[build-system]\nrequires = [\"flit_core>=3.4,<4\"]\n\
build-backend = \"flit_core.buildapi\"\n\n[project]\nname = \"flit-fx\"\n\
dynamic = [\"version\", \"description\"]\nreadme = \"README.md\"\nrequires-python = \">=3.8\"\n";

#[test]
fn flit_with_dunder_version_and_an_rst_changelog() {
    let p = Fixture::new(&[
        ("pyproject.toml", FLIT_PYPROJECT),
        ("README.md", "# flit-fx\n\nA fixture.\n"),
        (
            "flit_fx/__init__.py",
            "\"\"\"A flit fixture.\"\"\"\n\n__version__ = \"0.9.0\"\n",
        ),
        (
            "CHANGES.rst",
            "Changes\n=======\n\n0.9.0 (2026-01-01)\n------------------\n\n- First.\n",
        ),
    ]);
    let init = p.xtask(&["init"], &[]).expect(0);
    assert!(
        init.stdout().contains("flit_core.buildapi"),
        "{}",
        init.all()
    );
    // Pointed at the .rst file, the release says what it is and both ways on.
    p.edit(
        "release-kit.toml",
        "changelog = false",
        "changelog = \"CHANGES.rst\"",
    );
    let run = p.xtask(&["release", "--dry-run"], &[]).expect(3);
    let line = run
        .stderr()
        .lines()
        .find(|l| l.contains("not Keep a Changelog"))
        .unwrap_or_else(|| panic!("{}", run.all()))
        .to_owned();
    assert!(line.contains("reStructuredText"), "{line}");
    assert!(
        line.contains("changelog = false") && line.contains("[release] changelog = \"…\""),
        "{line}"
    );
    assert_eq!(
        line.matches("CHANGES.rst").count(),
        1,
        "the path twice: {line}"
    );
    assert!(!run.all().contains("only [Unreleased]"), "{}", run.all());
    let notes = p.xtask(&["changelog"], &[]).expect(3);
    assert!(
        notes.stderr().contains("not Keep a Changelog"),
        "{}",
        notes.all()
    );

    p.edit(
        "release-kit.toml",
        "changelog = \"CHANGES.rst\"",
        "changelog = false",
    );
    let build = p.xtask(&["build"], &[]).expect(0);
    assert!(build.stdout().contains("0.9.0"), "{}", build.all());
    let built = assert_built(&p, "dist", "0.9.0");
    assert_eq!(
        built,
        ["flit_fx-0.9.0-py3-none-any.whl", "flit_fx-0.9.0.tar.gz"]
    );
    assert_eq!(publish_and_rerun(&p), built);
    assert_rehearsed(&p, "flit_fx");
}

/// `release --rehearse` passes with nothing edited beyond what `init`
/// wrote (and the changelog switch above), importing `module`.
fn assert_rehearsed(p: &Fixture, module: &str) {
    let run = p.xtask(&["release", "--rehearse"], &[]).expect(0);
    assert!(
        run.all().contains(&format!("imported as {module}")),
        "{}",
        run.all()
    );
}

const HATCH_VCS_PYPROJECT: &str = "[build-system]\nrequires = [\"hatchling\", \"hatch-vcs\"]\n\
build-backend = \"hatchling.build\"\n\n[project]\nname = \"vcs-fx\"\ndynamic = [\"version\"]\n\
readme = \"README.md\"\ndescription = \"A fixture\"\n\n[tool.hatch.version]\nsource = \"vcs\"\n";

#[test]
fn hatch_vcs_on_a_tagged_commit_and_off_it() {
    let p = Fixture::new(&[
        ("pyproject.toml", HATCH_VCS_PYPROJECT),
        ("README.md", "# vcs-fx\n"),
        ("src/vcs_fx/__init__.py", "\"\"\"A fixture.\"\"\"\n"),
    ]);
    p.git(&["init", "-q"]);
    p.xtask(&["init"], &[]).expect(0);
    p.git(&["add", "-A"]);
    p.git(&["commit", "-qm", "first"]);
    // No tag yet: the build would make a development version.
    let run = p.xtask(&["build"], &[]).expect(3);
    assert!(
        run.stderr().contains("hatch-vcs") && run.stderr().contains("no version tag"),
        "{}",
        run.all()
    );
    p.git(&["tag", "v0.5.0"]);
    p.xtask(&["build"], &[]).expect(0);
    let built = assert_built(&p, "dist", "0.5.0");
    assert_eq!(
        built,
        ["vcs_fx-0.5.0-py2.py3-none-any.whl", "vcs_fx-0.5.0.tar.gz"]
    );
    assert_eq!(publish_and_rerun(&p), built);
    assert_rehearsed(&p, "vcs_fx");
    // A commit after the tag: the build would be 0.5.1.devN+g…, which
    // PyPI refuses; said up front, nothing built.
    p.write("README.md", "# vcs-fx\n\nMore.\n");
    p.git(&["commit", "-qam", "second"]);
    let run = p.xtask(&["build"], &[]).expect(3);
    let err = run.stderr();
    assert!(
        err.contains("1 commit after the tag v0.5.0"),
        "{}",
        run.all()
    );
    assert!(
        err.contains("like 0.5.1.dev1+g") && err.contains("PyPI refuses local versions"),
        "{err}"
    );
    assert!(err.contains("git tag v0.5.1"), "{err}");
    assert_eq!(p.files("dist").len(), 2, "{:?}", p.files("dist"));
}

#[test]
fn hatchling_that_computes_another_version_is_stopped_by_the_metadata() {
    // hatchling reads RELEASE by its pattern; release-kit reads the
    // default `__version__`: the metadata is the truth, and the build stops.
    let p = Fixture::new(&[
        (
            "pyproject.toml",
            "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n\
             [project]\nname = \"pattern-fx\"\ndynamic = [\"version\"]\nreadme = \"README.md\"\n\
             description = \"A fixture\"\n\n[tool.hatch.version]\npath = \"src/pattern_fx/__init__.py\"\n\
             pattern = \"RELEASE = \\\"(?P<version>[^\\\"]+)\\\"\"\n",
        ),
        ("README.md", "# pattern-fx\n"),
        (
            "src/pattern_fx/__init__.py",
            "__version__ = \"1.0.0\"\nRELEASE = \"1.1.0\"\n",
        ),
    ]);
    p.xtask(&["init"], &[]).expect(0);
    let run = p.xtask(&["build"], &[]).expect(1);
    let err = run.stderr();
    assert!(
        err.contains("its metadata says Version 1.1.0")
            && err.contains("src/pattern_fx/__init__.py:1"),
        "{}",
        run.all()
    );
    assert!(err.contains("set `__version__ = \"1.1.0\"`"), "{err}");
    assert!(p.files("dist").is_empty(), "{:?}", p.files("dist"));
}

#[test]
fn setuptools_at_the_root_without_gitignore() {
    let p = Fixture::new(&[
        (
            "pyproject.toml",
            "[build-system]\nrequires = [\"setuptools>=61\"]\nbuild-backend = \"setuptools.build_meta\"\n\n\
             [project]\nname = \"root-fx\"\nversion = \"26.4\"\nreadme = \"README.md\"\n\
             description = \"A fixture\"\n",
        ),
        ("README.md", "# root-fx\n"),
        ("src/root_fx/__init__.py", "\"\"\"A fixture.\"\"\"\n"),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n## [26.4.0] - 2026-04-01\n\n- First.\n",
        ),
    ]);
    p.xtask(&["init"], &[]).expect(0);
    assert!(p.root().join(".gitignore").is_file());
    // `26.4` and the changelog's `26.4.0` are one version (PEP 440).
    p.xtask(&["changelog", "--check", "v26.4"], &[]).expect(0);
    p.xtask(&["build"], &[]).expect(0);
    let built = assert_built(&p, "dist", "26.4");
    assert_eq!(
        built,
        ["root_fx-26.4-py3-none-any.whl", "root_fx-26.4.tar.gz"]
    );
    assert_eq!(publish_and_rerun(&p), built);
    assert_rehearsed(&p, "root_fx");
}

const NATIVE_PYPROJECT: &str = "[build-system]\nrequires = [\"maturin>=1.16,<2\"]\nbuild-backend = \"maturin\"\n\n\
[project]\nname = \"native-fx\"\ndynamic = [\"version\"]\nreadme = \"README.md\"\n\
description = \"A fixture\"\nrequires-python = \">=3.9\"\n";

const NATIVE_CARGO: &str = "[package]\nname = \"native-fx\"\nversion = \"0.3.1\"\nedition = \"2021\"\n\n\
[lib]\nname = \"native_fx\"\ncrate-type = [\"cdylib\"]\n\n[dependencies]\n\
pyo3 = { version = \"0.30\", default-features = false, features = [\"macros\", \"extension-module\"] }\n\n\
[workspace]\n";

const NATIVE_LIB: &str = "use pyo3::prelude::*;\n\n#[pyfunction]\nfn double(x: i64) -> i64 {\n    x * 2\n}\n\n\
#[pymodule]\nfn native_fx(m: &Bound<'_, PyModule>) -> PyResult<()> {\n    \
m.add_function(wrap_pyfunction!(double, m)?)?;\n    Ok(())\n}\n";

/// The one native build of this file (slow: PyO3 for one interpreter,
/// not abi3): a maturin package at the root whose version is Cargo.toml's,
/// with no `.gitignore` (so `dist/` is not ignored before `init`).
#[test]
fn maturin_not_abi3_with_the_version_in_cargo_toml() {
    let lock = std::fs::read_to_string(
        testkit::python::workspace_root().join("examples/mult-agentes-native/Cargo.lock"),
    )
    .unwrap()
    .replace("mult-agentes-native", "native-fx");
    let p = Fixture::new(&[
        ("pyproject.toml", NATIVE_PYPROJECT),
        ("Cargo.toml", NATIVE_CARGO),
        ("Cargo.lock", &lock),
        ("src/lib.rs", NATIVE_LIB),
        ("README.md", "# native-fx\n"),
    ]);
    let init = p.xtask(&["init"], &[]).expect(0);
    assert!(init.stdout().contains("maturin"), "{}", init.all());
    let config = std::fs::read_to_string(p.root().join("release-kit.toml")).unwrap();
    let dist = config
        .lines()
        .find_map(|l| l.strip_prefix("dist = \""))
        .and_then(|d| d.strip_suffix('"'))
        .unwrap_or_else(|| panic!("{config}"))
        .to_owned();
    let build = p.xtask(&["build"], &[]).expect(0);
    assert!(build.stdout().contains("0.3.1"), "{}", build.all());
    let built = assert_built(&p, &dist, "0.3.1");
    assert!(
        built.iter().any(|f| f == "native_fx-0.3.1.tar.gz"),
        "{built:?}"
    );
    let wheel = built.iter().find(|f| f.ends_with(".whl")).unwrap();
    assert!(
        wheel.starts_with("native_fx-0.3.1-cp3") && !wheel.contains("abi3"),
        "{wheel}"
    );
    assert_eq!(publish_and_rerun(&p), built);
}
