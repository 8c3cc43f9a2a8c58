//! `release --rehearse` on projects written here as real ones are: a
//! package with a runtime dependency that only the user's own index
//! serves (and that index also serving a hostile copy of the package
//! under test), imported by its module name, not its distribution name;
//! an extension compiled by TypeScript, whose `vscode:prepublish` needs
//! its devDependencies installed first.

mod support;

use std::path::{Path, PathBuf};

use release_kit::decode::pypi_token::build_test_token;
use support::Run;
use testkit::fixtures;
use testkit::pypi_index::PypiServer;

/// A project of our own in a temporary folder, holding `files`.
fn project<S: AsRef<str>>(files: &[(&str, S)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (path, content) in files {
        let to = dir.path().join(path);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, content.as_ref()).unwrap();
    }
    dir
}

/// `cargo xtask ARGS` in `root` ([`support::in_project`]).
fn xtask(root: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    support::in_project(root, args, env)
}

const APP_PYPROJECT: &str = "[build-system]\nrequires = [\"setuptools>=61\"]\n\
build-backend = \"setuptools.build_meta\"\n\n[project]\nname = \"fixture-app\"\nversion = \"1.0.0\"\n\
description = \"A fixture with a dependency\"\nreadme = \"README.md\"\nrequires-python = \">=3.9\"\n\
dependencies = [\"rkfxdep-adopt>=1.0\"]\n";

/// A setuptools package at the root whose module (`fxapp`) is not its
/// distribution name and imports its runtime dependency, which no index
/// but the user's serves.
fn app_with_a_dependency() -> tempfile::TempDir {
    project(&[
        ("pyproject.toml", APP_PYPROJECT),
        ("README.md", "# fixture-app\n"),
        (
            "src/fxapp/__init__.py",
            "import rkfxdep_adopt\n\n__version__ = \"1.0.0\"\n\n\ndef hello():\n    return rkfxdep_adopt.WORD\n",
        ),
        (
            "CHANGELOG.md",
            "# Changelog\n\n## [Unreleased]\n\n## [1.0.0] - 2026-01-01\n\n- First.\n",
        ),
    ])
}

/// The user's own index: the dependency, and the hostile copies of the
/// package under test (the same version with other content, and a higher
/// one) that must never be installed in its place.
fn users_index() -> PypiServer {
    let server = PypiServer::start(&build_test_token("pypi.org", "user-index", &[])).unwrap();
    let dep = [("rkfxdep_adopt.py", "WORD = 'from-the-users-index'\n")];
    fixtures::pure_wheel(&server.packages, "rkfxdep-adopt", "1.2.0", &dep, &[]).unwrap();
    for (version, text) in [
        ("1.0.0", "hostile-same-version"),
        ("9.9.0", "hostile-higher"),
    ] {
        let init = format!(
            "__version__ = '1.0.0'\ndef hello():\n    return '{text}'\nraise SystemExit('{text}')\n"
        );
        fixtures::pure_wheel(
            &server.packages,
            "fixture-app",
            version,
            &[("fxapp/__init__.py", &init)],
            &[],
        )
        .unwrap();
    }
    server
}

#[test]
fn rehearsal_takes_the_package_from_the_local_index_and_its_dependency_from_the_users() {
    let p = app_with_a_dependency();
    let user = users_index();
    let user_url = user.simple_url();
    // The user's index settings, as pip has them (uv gets them
    // translated), and secrets of the user's shell that no output shows.
    let canary = support::canary("rehearse-deps");
    let env = [
        ("PIP_EXTRA_INDEX_URL", user_url.as_str()),
        ("VSCE_PAT", canary.as_str()),
        ("SOME_SERVICE_TOKEN", canary.as_str()),
    ];
    xtask(p.path(), &["init"], &[]).expect(0);
    let run = xtask(p.path(), &["release", "--rehearse"], &env);
    assert_eq!(run.code(), 0, "{}", run.all());
    let out = run.all();
    assert!(
        out.contains("fixture-app==1.0.0 imported as fxapp"),
        "{out}"
    );
    assert!(!out.contains("hostile"), "{out}");
    assert!(!out.contains(&canary), "{out}");
    // (fxapp imports rkfxdep_adopt, which only the user's index serves.)

    // A rehearse-check replaces the import: it calls into the package.
    let config = std::fs::read_to_string(p.path().join("release-kit.toml")).unwrap();
    let config = config.replacen(
        "[python]\n",
        "[python]\nrehearse-check = \"import fxapp; print(fxapp.hello())\"\n",
        1,
    );
    std::fs::write(p.path().join("release-kit.toml"), config).unwrap();
    let run = xtask(p.path(), &["release", "--rehearse"], &env);
    assert_eq!(run.code(), 0, "{}", run.all());
    assert!(
        run.all()
            .contains("fixture-app==1.0.0 imported (check: from-the-users-index)"),
        "{}",
        run.all()
    );
}

#[test]
fn rehearsal_without_uv_takes_the_same_sources_with_pip() {
    let p = app_with_a_dependency();
    let user = users_index();
    let user_url = user.simple_url();
    // pip reads the user's settings itself (pip.conf, PIP_*).
    let env = [
        ("PIP_EXTRA_INDEX_URL", user_url.as_str()),
        ("RELEASE_KIT_NO_UV", "1"),
    ];
    xtask(p.path(), &["init"], &[]).expect(0);
    let run = xtask(p.path(), &["release", "--rehearse"], &env);
    assert_eq!(run.code(), 0, "{}", run.all());
    assert!(
        run.all().contains("fixture-app==1.0.0 imported as fxapp"),
        "{}",
        run.all()
    );
    assert!(!run.all().contains("hostile"), "{}", run.all());
}

/// The `.vsix` files of `dist/`.
fn vsix_files(root: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(root.join("dist"))
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(".vsix"))
                .collect()
        })
        .unwrap_or_default()
}

/// The member names of a `.vsix` (a zip), read by Python's zipfile.
fn members(vsix: &Path) -> Vec<String> {
    support::python(
        "import sys, zipfile\nprint('\\n'.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        [vsix],
    )
    .lines()
    .map(str::to_owned)
    .collect()
}

#[test]
fn typescript_extension_is_compiled_after_npm_ci_and_rehearsed() {
    let p = project(&fixtures::ts_extension());
    let init = xtask(p.path(), &["init"], &[]).expect(0);
    assert!(init.stdout().contains("fixture-ts"), "{}", init.all());
    // The extension's own install script sees npm's environment: no token.
    let dump = "require('fs').writeFileSync('npm-env.json', JSON.stringify(process.env))";
    let manifest =
        fixtures::ts_extension_manifest("tsc -p ./", Some(&format!("node -e \"{dump}\"")));
    std::fs::write(p.path().join("package.json"), manifest).unwrap();
    let ignore = std::fs::read_to_string(p.path().join(".vscodeignore")).unwrap();
    std::fs::write(
        p.path().join(".vscodeignore"),
        format!("{ignore}npm-env.json\n"),
    )
    .unwrap();
    let canary = support::canary("npm-ci");
    let secrets = [("VSCE_PAT", canary.as_str()), ("OVSX_PAT", canary.as_str())];
    // npm ci runs first; tsc then compiles out/extension.js.
    let run = xtask(p.path(), &["vsce-package"], &secrets);
    assert_eq!(run.code(), 0, "{}", run.all());
    let npm_env = std::fs::read_to_string(p.path().join("npm-env.json")).unwrap();
    assert!(npm_env.contains("npm_lifecycle_event"), "{npm_env}");
    assert!(!npm_env.contains(&canary), "npm ci saw the token");
    assert!(!run.all().contains(&canary));
    let vsix = vsix_files(p.path());
    assert_eq!(vsix.len(), 1, "{}", run.all());
    support::assert_not_in_files(&p.path().join("dist"), &canary);
    let names = members(&vsix[0]);
    assert!(
        names.iter().any(|n| n == "extension/out/extension.js"),
        "{names:?}"
    );
    assert!(
        names.iter().all(|n| !n.contains("node_modules")),
        "{names:?}"
    );
    let rehearse = xtask(p.path(), &["release", "--rehearse"], &[]);
    assert_eq!(rehearse.code(), 0, "{}", rehearse.all());
    assert!(
        rehearse.all().contains("npm ci, then vsce package"),
        "{}",
        rehearse.all()
    );

    // A tool the script runs but no dependency provides: the script's own
    // error line is in the message, without -v.
    let manifest = fixtures::ts_extension_manifest("tsc -p ./ && rkfx-missing-tool", None);
    std::fs::write(p.path().join("package.json"), manifest).unwrap();
    let failed = xtask(p.path(), &["vsce-package"], &[]).expect(1);
    let err = failed.stderr();
    assert!(
        err.contains("rkfx-missing-tool: not found"),
        "{}",
        failed.all()
    );
    assert!(err.contains("vscode:prepublish"), "{err}");

    // Without a lockfile, `npm ci` cannot install what the script needs:
    // found before anything runs, with the fix.
    std::fs::remove_file(p.path().join("package-lock.json")).unwrap();
    let refused = xtask(p.path(), &["vsce-package"], &[]).expect(3);
    let err = refused.stderr();
    assert!(
        err.contains("no package-lock.json") && err.contains("`npm install` in"),
        "{}",
        refused.all()
    );
}
