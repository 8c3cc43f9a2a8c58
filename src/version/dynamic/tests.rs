use super::super::{Source, pyproject};

fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = tmp.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    tmp
}

const MATURIN: &str = "[build-system]\nrequires = [\"maturin>=1\"]\nbuild-backend = \"maturin\"\n\
[project]\nname = \"native-x\"\ndynamic = [\"version\"]\n";

#[test]
fn maturin_takes_cargo_s_version_in_its_pep_440_form() {
    let t = project(&[
        ("pyproject.toml", MATURIN),
        (
            "Cargo.toml",
            "[package]\nname = \"native-x\"\nversion = \"1.2.0-rc.1\"\n",
        ),
    ]);
    let v = pyproject(t.path()).unwrap();
    assert_eq!(
        (v.version.as_str(), v.line, v.source),
        ("1.2.0rc1", 3, Source::Cargo)
    );
    assert_eq!(v.file, t.path().join("Cargo.toml"));
    // No `dynamic` at all: maturin fills the version in from Cargo.toml.
    std::fs::write(
        t.path().join("pyproject.toml"),
        MATURIN.replace("dynamic = [\"version\"]\n", ""),
    )
    .unwrap();
    assert_eq!(pyproject(t.path()).unwrap().version, "1.2.0rc1");
}

#[test]
fn maturin_follows_the_workspace_and_manifest_path() {
    let t = project(&[
        (
            "Cargo.toml",
            "[workspace]\nmembers = [\"py\"]\n\n[workspace.package]\nversion = \"0.7.1\"\n",
        ),
        (
            "py/pyproject.toml",
            &format!("{MATURIN}[tool.maturin]\nmanifest-path = \"rust/Cargo.toml\"\n"),
        ),
        (
            "py/rust/Cargo.toml",
            "[package]\nname = \"native-x\"\nversion.workspace = true\n",
        ),
    ]);
    let v = pyproject(&t.path().join("py")).unwrap();
    assert_eq!((v.version.as_str(), v.line), ("0.7.1", 5));
    assert_eq!(v.file, t.path().join("Cargo.toml"));
    std::fs::write(
        t.path().join("Cargo.toml"),
        "[workspace]\nmembers = [\"py\"]\n",
    )
    .unwrap();
    let e = pyproject(&t.path().join("py")).unwrap_err();
    assert!(e.message.contains("[workspace.package] version"), "{e}");
}

const FLIT: &str = "[build-system]\nrequires = [\"flit_core>=3.4\"]\nbuild-backend = \"flit_core.buildapi\"\n\
[project]\nname = \"flit-fx\"\ndynamic = [\"version\", \"description\"]\n";

#[test]
fn flit_reads_a_literal_dunder_version_where_flit_finds_the_module() {
    for (module, file) in [
        ("flit_fx/__init__.py", "flit_fx/__init__.py"),
        ("src/flit_fx.py", "src/flit_fx.py"),
    ] {
        let t = project(&[
            ("pyproject.toml", FLIT),
            (
                module,
                "\"\"\"Docs.\"\"\"\n\nimport os\n__version__ = '0.9.0'  # the release\n",
            ),
        ]);
        let v = pyproject(t.path()).unwrap();
        assert_eq!(
            (v.version.as_str(), v.line, v.source),
            ("0.9.0", 4, Source::Module),
            "{file}"
        );
        assert_eq!(v.file, t.path().join(file));
    }
    // [tool.flit.module] name wins over the project name.
    let t = project(&[
        (
            "pyproject.toml",
            &format!("{FLIT}[tool.flit.module]\nname = \"other\"\n"),
        ),
        ("other/__init__.py", "__version__: str = \"2.0.post1\"\n"),
    ]);
    assert_eq!(pyproject(t.path()).unwrap().version, "2.0.post1");
}

#[test]
fn flit_without_a_literal_version_says_so() {
    let t = project(&[
        ("pyproject.toml", FLIT),
        (
            "flit_fx/__init__.py",
            "from ._v import VERSION\n__version__ = VERSION\n",
        ),
    ]);
    let e = pyproject(t.path()).unwrap_err();
    assert!(
        e.message.contains("literal string") && e.line == Some(2),
        "{e}"
    );
    let t = project(&[("pyproject.toml", FLIT)]);
    let e = pyproject(t.path()).unwrap_err();
    assert!(e.message.contains("flit_fx/__init__.py"), "{e}");
    let t = project(&[("pyproject.toml", FLIT), ("flit_fx.py", "x = 1\n")]);
    let e = pyproject(t.path()).unwrap_err();
    assert!(e.message.contains("has none at the top level"), "{e}");
}

#[test]
fn hatchling_path_source() {
    let t = project(&[
        (
            "pyproject.toml",
            "[build-system]\nbuild-backend = \"hatchling.build\"\n[project]\nname = \"h\"\ndynamic = [\"version\"]\n\
             [tool.hatch.version]\npath = \"src/h/__about__.py\"\n",
        ),
        ("src/h/__about__.py", "VERSION = \"v3.1\"\n"),
    ]);
    let v = pyproject(t.path()).unwrap();
    assert_eq!((v.version.as_str(), v.source), ("3.1", Source::Module));
}

/// A git repository in `dir` with everything committed.
fn git(dir: &std::path::Path, args: &[&str]) {
    let st = std::process::Command::new("git")
        .args([
            "-c",
            "user.name=t",
            "-c",
            "user.email=t@t",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        st.status.success(),
        "{}",
        String::from_utf8_lossy(&st.stderr)
    );
}

#[test]
fn hatch_vcs_and_setuptools_scm_take_the_exact_tag_only() {
    for (tool, extra) in [
        ("hatch-vcs", "[tool.hatch.version]\nsource = \"vcs\"\n"),
        ("setuptools-scm", "[tool.setuptools_scm]\n"),
    ] {
        let t = project(&[(
            "pyproject.toml",
            &format!(
                "[build-system]\nbuild-backend = \"x\"\n[project]\nname = \"g\"\ndynamic = [\"version\"]\n{extra}"
            ),
        )]);
        let e = pyproject(t.path()).unwrap_err();
        assert!(e.message.contains("not in a git repository"), "{e}");
        git(t.path(), &["init", "-q"]);
        git(t.path(), &["add", "-A"]);
        git(t.path(), &["commit", "-qm", "one"]);
        let e = pyproject(t.path()).unwrap_err();
        assert!(e.message.contains("no version tag"), "{tool}: {e}");
        git(t.path(), &["tag", "v0.5.0"]);
        let v = pyproject(t.path()).unwrap();
        assert_eq!(
            (v.version.as_str(), v.source, v.line),
            ("0.5.0", Source::GitTag, 6),
            "{tool}"
        );
        std::fs::write(t.path().join("a.txt"), "x").unwrap();
        git(t.path(), &["add", "a.txt"]);
        git(t.path(), &["commit", "-qm", "two"]);
        let e = pyproject(t.path()).unwrap_err();
        assert!(
            e.message.contains(tool) && e.message.contains("like 0.5.1.dev1+g"),
            "{e}"
        );
        assert!(e.message.contains("PyPI refuses local versions"), "{e}");
    }
}

#[test]
fn setuptools_attr_reads_the_literal_assignment() {
    let t = project(&[
        (
            "pyproject.toml",
            "[build-system]\nbuild-backend = \"setuptools.build_meta\"\n[project]\nname = \"s\"\n\
             dynamic = [\"version\"]\n[tool.setuptools.dynamic]\nversion = {attr = \"s_pkg.about.VERSION\"}\n",
        ),
        ("src/s_pkg/about.py", "VERSION = '4.0b1'\n"),
    ]);
    let v = pyproject(t.path()).unwrap();
    assert_eq!((v.version.as_str(), v.source), ("4.0b1", Source::Module));
    assert_eq!(v.file, t.path().join("src/s_pkg/about.py"));
}
