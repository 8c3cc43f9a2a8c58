use super::*;
use crate::config::Project;

fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    for (path, text) in files {
        let to = tmp.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    tmp
}

const SETUPTOOLS: &str = "[build-system]\nrequires = [\"setuptools\"]\nbuild-backend = \"setuptools.build_meta\"\n[project]\nname = \"rootpkg\"\nversion = \"1.0\"\n";
const HATCH: &str = "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n[project]\nname = \"hatched\"\nversion = \"1.0\"\n";

#[test]
fn detects_packages_extension_and_changelog_skipping_tool_folders() {
    let t = tree(&[
        ("pyproject.toml", SETUPTOOLS),
        ("libs/hatched/pyproject.toml", HATCH),
        (
            "ruff-only/pyproject.toml",
            "[tool.ruff]\nline-length = 100\n",
        ),
        ("node_modules/x/pyproject.toml", HATCH),
        ("target/release-kit/pypi-tools/pyproject.toml", HATCH),
        ("venv/pyvenv.cfg", "home = /usr\n"),
        ("venv/lib/pkg/pyproject.toml", HATCH),
        (".git/x/pyproject.toml", HATCH),
        ("dist/x/pyproject.toml", HATCH),
        (
            "editor/package.json",
            "{\"name\": \"ed\", \"engines\": {\"vscode\": \"^1.85.0\"}}",
        ),
        ("web/package.json", "{\"name\": \"web\"}"),
        ("CHANGES.rst", "Changes\n=======\n"),
    ]);
    let found = detect(t.path());
    let dirs: Vec<&Path> = found.python.iter().map(|p| p.dir.as_path()).collect();
    assert_eq!(dirs, [Path::new("."), Path::new("libs/hatched")]);
    assert_eq!(
        found.python[0].backend.as_deref(),
        Some("setuptools.build_meta")
    );
    assert_eq!(found.python[1].name.as_deref(), Some("hatched"));
    let ext = found.extension.as_ref().unwrap();
    assert_eq!(
        (ext.dir.as_path(), ext.name.as_deref()),
        (Path::new("editor"), Some("ed"))
    );
    assert_eq!(found.changelog.as_deref(), Some(Path::new("CHANGES.rst")));
    assert!(!found.changelog_is_markdown());
}

#[test]
fn written_configuration_loads_as_detected() {
    let t = tree(&[
        ("pyproject.toml", SETUPTOOLS),
        ("libs/hatched/pyproject.toml", HATCH),
        ("CHANGELOG.md", "# Changelog\n"),
    ]);
    let report = write(t.path(), false, None).unwrap();
    assert_eq!(report.written.len(), 2, "{report:?}");
    let p = Project::load(t.path()).unwrap();
    assert_eq!(p.python_packages().len(), 2);
    assert_eq!(p.python_dir(), t.path().join("."));
    assert!(!p.config.vscode.enabled);
    assert!(p.has_changelog() && p.changelog() == t.path().join("CHANGELOG.md"));
    assert!(p.config.hf.models.is_empty());
    let gitignore = std::fs::read_to_string(t.path().join(".gitignore")).unwrap();
    assert_eq!(gitignore, ".env\ndist/\n");
    let example = std::fs::read_to_string(t.path().join(".env.example")).unwrap();
    assert!(example.contains("TWINE_PASSWORD=") && !example.contains("VSCE_PAT"));
}

#[test]
fn extension_only_and_maturin_at_the_root() {
    let t = tree(&[(
        "package.json",
        "{\"name\": \"e\", \"version\": \"1.0.0\", \"engines\": {\"vscode\": \"^1.85.0\"}}",
    )]);
    let report = write(t.path(), false, None).unwrap();
    assert_eq!(report.vscodeignore_added, [".env", ".env.*"]);
    let p = Project::load(t.path()).unwrap();
    assert!(!p.config.python.enabled && p.config.vscode.enabled);
    assert!(!p.has_changelog());
    let m = tree(&[(
        "pyproject.toml",
        "[build-system]\nbuild-backend = \"maturin\"\n[project]\nname = \"m\"\nversion = \"1.0\"\n",
    )]);
    write(m.path(), false, None).unwrap();
    let p = Project::load(m.path()).unwrap();
    // Built files go where maturin's sdist never looks.
    assert_eq!(p.dist_dir(), m.path().join("target/wheels"));
}

#[test]
fn never_overwrites_without_force() {
    let t = tree(&[
        ("pyproject.toml", SETUPTOOLS),
        (".env.example", "MINE=1\n"),
        (".gitignore", "/dist\nbuild/"),
    ]);
    let first = write(t.path(), false, None).unwrap();
    assert_eq!(first.kept, [t.path().join(".env.example")]);
    assert_eq!(first.gitignore_added, [".env"]);
    assert_eq!(
        std::fs::read_to_string(t.path().join(".gitignore")).unwrap(),
        "/dist\nbuild/\n.env\n"
    );
    std::fs::write(t.path().join(FILE_NAME), "# mine\n").unwrap();
    let err = write(t.path(), false, None).unwrap_err();
    assert!(err.to_string().contains("--force"), "{err}");
    assert_eq!(
        std::fs::read_to_string(t.path().join(FILE_NAME)).unwrap(),
        "# mine\n"
    );
    let again = write(t.path(), true, Some(Path::new("/opt/release-kit"))).unwrap();
    // Re-running adds nothing but what --xtask brings (its build folder).
    assert_eq!(again.gitignore_added, ["xtask/target/"]);
    assert_ne!(
        std::fs::read_to_string(t.path().join(FILE_NAME)).unwrap(),
        "# mine\n"
    );
    let alias = std::fs::read_to_string(t.path().join(".cargo/config.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&alias).unwrap();
    let args = doc["alias"]["xtask"].as_array().unwrap();
    assert!(args.iter().any(|a| a.as_str() == Some("xtask/Cargo.toml")));
    // The project's own xtask crate: one call into release-kit's CLI.
    let manifest = std::fs::read_to_string(t.path().join("xtask/Cargo.toml")).unwrap();
    let doc: toml::Table = toml::from_str(&manifest).unwrap();
    let dep = &doc["dependencies"]["release-kit"];
    assert_eq!(dep["path"].as_str(), Some("/opt/release-kit"));
    assert_eq!(dep["features"].as_array().unwrap()[0].as_str(), Some("cli"));
    assert!(doc.contains_key("workspace"), "a crate of its own");
    let main = std::fs::read_to_string(t.path().join("xtask/src/main.rs")).unwrap();
    assert!(main.contains("release_kit::cli::main()"), "{main}");
    let ignore = std::fs::read_to_string(t.path().join(".gitignore")).unwrap();
    assert!(ignore.lines().any(|l| l == "xtask/target/"), "{ignore}");
    let third = write(t.path(), true, Some(Path::new("/opt/release-kit"))).unwrap();
    assert!(third.gitignore_added.is_empty(), "re-running adds nothing");
}

#[test]
fn ignore_lines_match_in_any_spelling() {
    assert!(missing_ignores(".env\n/dist/\n").is_empty());
    assert_eq!(missing_ignores("dist\n"), [".env"]);
    assert_eq!(missing_ignores(""), [".env", "dist/"]);
}

/// A FIFO or folder named like a project file is skipped, never read: a
/// plain read of a FIFO blocks `init` forever.
#[cfg(unix)]
#[test]
fn a_fifo_named_like_a_project_file_is_not_read() {
    let t = tempfile::tempdir().unwrap();
    let sub = t.path().join("pkg");
    std::fs::create_dir(&sub).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(sub.join("pyproject.toml"))
        .status()
        .is_ok_and(|s| s.success());
    assert!(made, "mkfifo is needed for this test");
    let (tx, rx) = std::sync::mpsc::channel();
    let root = t.path().to_owned();
    std::thread::spawn(move || {
        let _ = tx.send(detect(&root).python.len());
    });
    let found = rx
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("init's detection returned (a FIFO must not block it)");
    assert_eq!(found, 0);
}
