//! A release of many wheels: `publish` of an sdist and wheels of several
//! platforms to a real pypiserver (and the re-run, all skipped); every
//! malformed `dist/` refused with exit 3 and nothing uploaded;
//! `release --plan-matrix` for pure and native packages; and the fan-in of
//! a build matrix, `--from-artifacts`, with a platform missing and complete.
//!
//! The wheels are made here (a zip with a valid `.dist-info`, which twine
//! and pypiserver accept): no native toolchain is needed for these rules.

mod support;

use std::path::Path;

use support::{Project, canary};
use testkit::pypi_index::PypiServer;

/// Writes an sdist (`tags` empty) or a wheel of `name` `version` with
/// these tags into `dir`; its metadata passes `twine check --strict`.
fn make(dir: &Path, name: &str, version: &str, tags: Option<&str>) -> String {
    const SCRIPT: &str = r#"
import io, os, sys, tarfile, zipfile
out, name, version, tags = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
dist = name.replace("-", "_")
meta = (f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: test\n"
        "Description-Content-Type: text/markdown\n\n# test\n\nA test package.\n")
os.makedirs(out, exist_ok=True)
if tags:
    file = f"{dist}-{version}-{tags}.whl"
    info = f"{dist}-{version}.dist-info"
    wheel = "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\n" + "".join(
        f"Tag: {py}-{abi}-{plat}\n"
        for py in tags.split("-")[0].split(".")
        for abi in tags.split("-")[1].split(".")
        for plat in tags.split("-")[2].split("."))
    with zipfile.ZipFile(os.path.join(out, file), "w") as z:
        z.writestr(f"{dist}/__init__.py", "")
        z.writestr(f"{info}/METADATA", meta)
        z.writestr(f"{info}/WHEEL", wheel)
        z.writestr(f"{info}/RECORD", "")
else:
    file = f"{dist}-{version}.tar.gz"
    with tarfile.open(os.path.join(out, file), "w:gz") as t:
        for member, text in [("PKG-INFO", meta), ("pyproject.toml", "")]:
            data = text.encode()
            ti = tarfile.TarInfo(f"{dist}-{version}/{member}")
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
print(file)
"#;
    let tags = tags.unwrap_or("");
    support::python(
        SCRIPT,
        [
            dir.as_os_str(),
            name.as_ref(),
            version.as_ref(),
            tags.as_ref(),
        ],
    )
    .trim()
    .to_owned()
}

const LINUX: &str = "cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64";
const WINDOWS: &str = "cp39-abi3-win_amd64";

/// A project whose release checks pass: no extension, the example's
/// changelog, and optionally a second, native (maturin) package.
fn release_project(native: bool) -> Project {
    let p = Project::new();
    std::fs::copy(
        testkit::python::workspace_root().join("examples/mult-agentes/CHANGELOG.md"),
        p.root().join("py/CHANGELOG.md"),
    )
    .unwrap();
    let mut toml = "[python]\npath = \"py\"\ndist = \"dist\"\n".to_owned();
    if native {
        let dir = p.root().join("native");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("pyproject.toml"),
            "[build-system]\nrequires = [\"maturin>=1.9,<2\"]\nbuild-backend = \"maturin\"\n\n\
             [project]\nname = \"mult-agentes-native\"\nversion = \"0.1.0\"\n",
        )
        .unwrap();
        toml.push_str("[[python.packages]]\npath = \"native\"\n");
    }
    toml.push_str("[vscode]\nenabled = false\n[release]\nchangelog = \"py/CHANGELOG.md\"\n");
    std::fs::write(p.root().join("release-kit.toml"), toml).unwrap();
    p
}

#[test]
fn an_sdist_and_wheels_of_two_platforms_publish_once() {
    // A token that decodes: one that does not is refused for PyPI.
    let password =
        release_kit::decode::pypi_token::build_test_token("pypi.org", &canary("multi"), &[]);
    let server = PypiServer::start(&password).unwrap();
    let project = Project::new();
    let dist = project.dist();
    let sdist = make(&dist, "mult-agentes", "0.1.0", None);
    let linux = make(&dist, "mult-agentes", "0.1.0", Some(LINUX));
    let windows = make(&dist, "mult-agentes", "0.1.0", Some(WINDOWS));
    let env = [("TWINE_PASSWORD", password.as_str())];
    let url = server.url.clone();

    let run = project
        .xtask(&["publish", "--repository-url", &url], &env)
        .expect(0);
    assert_eq!(
        run.stdout().matches("  uploaded").count(),
        3,
        "{}",
        run.all()
    );
    // One twine run, the sdist first (twine sends in argv order).
    let uploading: Vec<&str> = run
        .0
        .stderr
        .split(|b| *b == b'\n')
        .filter_map(|l| std::str::from_utf8(l).ok())
        .filter(|l| l.starts_with("uploading "))
        .collect();
    assert_eq!(
        uploading,
        [format!("uploading {sdist}, {linux}, {windows} to {url}").as_str()],
        "{}",
        run.all()
    );
    let mut expected = vec![sdist.clone(), linux.clone(), windows.clone()];
    expected.sort();
    assert_eq!(server.files(), expected);
    assert!(!run.all().contains(&password));

    // Again: every file skipped, nothing sent, nothing changed.
    let before: Vec<_> = expected
        .iter()
        .map(|f| {
            std::fs::metadata(server.packages.join(f))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();
    let run = project
        .xtask(&["--json", "publish", "--repository-url", &url], &env)
        .expect(0);
    let report: serde_json::Value = serde_json::from_str(&run.stdout()).unwrap();
    let files = report["packages"][0]["files"].as_array().unwrap();
    assert_eq!(files.len(), 3, "{report}");
    assert!(files.iter().all(|f| f["action"] == "skipped"), "{report}");
    assert_eq!(report["attempts"], 0);
    let after: Vec<_> = expected
        .iter()
        .map(|f| {
            std::fs::metadata(server.packages.join(f))
                .unwrap()
                .modified()
                .unwrap()
        })
        .collect();
    assert_eq!(before, after);
}

#[test]
fn a_malformed_release_is_refused_with_nothing_uploaded() {
    // A token that decodes: one that does not is refused for PyPI.
    let password =
        release_kit::decode::pypi_token::build_test_token("pypi.org", &canary("bad"), &[]);
    let server = PypiServer::start(&password).unwrap();
    let env = [("TWINE_PASSWORD", password.as_str())];
    let url = server.url.clone();
    let refused = |files: &[(&str, Option<&str>)], expected: &[&str]| {
        let project = Project::new();
        for (version, tags) in files {
            make(&project.dist(), "mult-agentes", version, *tags);
        }
        let run = project
            .xtask(&["publish", "--repository-url", &url], &env)
            .expect(3);
        for e in expected {
            assert!(run.stderr().contains(e), "{e}:\n{}", run.all());
        }
        assert!(!run.stderr().contains("uploading"), "{}", run.all());
        assert!(server.files().is_empty(), "{:?}", server.files());
    };
    // Two wheels claiming one tag.
    refused(
        &[
            ("0.1.0", None),
            ("0.1.0", Some(LINUX)),
            ("0.1.0", Some("cp39-abi3-manylinux2014_x86_64")),
        ],
        &["claim the same tags (cp39-abi3-manylinux2014_x86_64)"],
    );
    // Mixed versions.
    refused(
        &[
            ("0.1.0", None),
            ("0.1.0", Some(LINUX)),
            ("0.0.9", Some(WINDOWS)),
        ],
        &[
            "another version than 0.1.0",
            "mult_agentes-0.0.9-cp39-abi3-win_amd64.whl",
        ],
    );
    // A wheel PyPI refuses, with the fix.
    refused(
        &[("0.1.0", None), ("0.1.0", Some("cp312-cp312-linux_x86_64"))],
        &["`linux_x86_64` is refused by PyPI", "--manylinux"],
    );
    // No sdist.
    refused(
        &[("0.1.0", Some(LINUX))],
        &["no sdist (.tar.gz) of mult-agentes 0.1.0"],
    );
    // Everything at once: all reported in one run.
    refused(
        &[
            ("0.1.0", Some(LINUX)),
            ("0.1.0", Some("cp39-abi3-manylinux2014_x86_64")),
            ("0.1.0", Some("cp312-cp312-linux_x86_64")),
            ("0.0.9", Some(WINDOWS)),
        ],
        &[
            "claim the same tags",
            "another version",
            "refused by PyPI",
            "no sdist",
        ],
    );
}

fn plan(project: &Project) -> serde_json::Value {
    let run = project.xtask(&["release", "--plan-matrix"], &[]).expect(0);
    serde_json::from_str(run.stdout().trim()).unwrap()
}

fn field(plan: &serde_json::Value, key: &str) -> Vec<String> {
    plan["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e[key].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn plan_matrix_names_the_platforms_the_packages_need() {
    let pure = plan(&release_project(false));
    assert_eq!(field(&pure, "name"), ["pure"]);
    assert_eq!(field(&pure, "os"), ["ubuntu-latest"]);
    assert_eq!(field(&pure, "packages"), ["mult-agentes"]);
    assert_eq!(field(&pure, "artifact"), ["dist-pure"]);

    let project = release_project(true);
    let both = plan(&project);
    assert_eq!(
        field(&both, "name"),
        [
            "pure",
            "linux-x86_64",
            "linux-aarch64",
            "musllinux-x86_64",
            "macos-x86_64",
            "macos-arm64",
            "windows-x86_64"
        ]
    );
    assert_eq!(
        field(&both, "os"),
        [
            "ubuntu-latest",
            "ubuntu-latest",
            "ubuntu-24.04-arm",
            "ubuntu-latest",
            "macos-15-intel",
            "macos-15",
            "windows-latest"
        ]
    );
    assert_eq!(
        field(&both, "target")[1..],
        [
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "x86_64-unknown-linux-musl",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc"
        ]
    );
    assert_eq!(
        field(&both, "manylinux")[1..4],
        ["2014", "2014", "musllinux_1_2"]
    );
    assert!(
        field(&both, "packages")[1..]
            .iter()
            .all(|p| p == "mult-agentes-native")
    );

    // --package narrows it.
    let run = project
        .xtask(
            &["release", "--plan-matrix", "--package", "mult_agentes"],
            &[],
        )
        .expect(0);
    let only: serde_json::Value = serde_json::from_str(run.stdout().trim()).unwrap();
    assert_eq!(field(&only, "name"), ["pure"]);
    let run = project
        .xtask(&["release", "--plan-matrix", "--package", "nope"], &[])
        .expect(3);
    assert!(
        run.stderr().contains("mult-agentes-native"),
        "{}",
        run.all()
    );
}

/// Lays out what a complete matrix run downloads: every job's artifact
/// with its wheels, and (as maturin does on every runner) the sdist.
fn artifacts(dir: &Path, plan: &serde_json::Value) {
    for e in plan["include"].as_array().unwrap() {
        let folder = dir.join(e["artifact"].as_str().unwrap());
        for p in e["packages"].as_str().unwrap().split_whitespace() {
            let plat = e["wheel"].as_str().unwrap().replace('*', "_2_17");
            let tags = if plat == "any" {
                "py3-none-any".to_owned()
            } else {
                format!("cp39-abi3-{plat}")
            };
            make(&folder, p, "0.1.0", Some(&tags));
            make(&folder, p, "0.1.0", None);
        }
    }
}

#[test]
fn from_artifacts_checks_the_set_is_complete_then_publishes_it() {
    let project = release_project(true);
    let plan = plan(&project);
    let dir = project.root().join("artifacts");
    artifacts(&dir, &plan);
    let macos = dir.join("dist-macos-arm64");
    let kept = project.root().join("kept");
    std::fs::rename(&macos, &kept).unwrap();

    // One platform missing: exit 3 naming it and its artifact.
    // A token that decodes: one that does not is refused for PyPI.
    let password =
        release_kit::decode::pypi_token::build_test_token("pypi.org", &canary("fanin"), &[]);
    let server = PypiServer::start(&password).unwrap();
    let env = [("TWINE_PASSWORD", password.as_str())];
    let url = server.url.clone();
    let run = project
        .xtask(
            &[
                "release",
                "--from-artifacts",
                "artifacts",
                "--repository-url",
                &url,
            ],
            &env,
        )
        .expect(3);
    assert!(
        run.stderr()
            .contains("platform macos-arm64: its artifact `dist-macos-arm64` is missing"),
        "{}",
        run.all()
    );
    assert!(server.files().is_empty());

    // The plan passed in: the same verdict.
    let plan_file = project.root().join("plan.json");
    std::fs::write(&plan_file, plan.to_string()).unwrap();
    let run = project
        .xtask(
            &[
                "release",
                "--from-artifacts",
                "artifacts",
                "--plan",
                "plan.json",
                "--dry-run",
            ],
            &env,
        )
        .expect(3);
    assert!(run.stderr().contains("dist-macos-arm64"), "{}", run.all());

    // `publish --from-artifacts` too, with the step's own problems in the
    // same round (no password here).
    let run = project
        .xtask(
            &[
                "publish",
                "--from-artifacts",
                "artifacts",
                "--repository-url",
                &url,
            ],
            &[],
        )
        .expect(3);
    let err = run.stderr();
    assert!(err.contains("dist-macos-arm64"), "{}", run.all());
    assert!(err.contains("TWINE_PASSWORD: is not set"), "{}", run.all());

    // One package of a plan of both: the other's jobs are not needed.
    let run = project
        .xtask(
            &[
                "publish",
                "--from-artifacts",
                "artifacts",
                "--plan",
                "plan.json",
                "--package",
                "mult-agentes",
                "--repository-url",
                &url,
                "--dry-run",
            ],
            &env,
        )
        .expect(0);
    assert_eq!(
        run.stdout().matches("would upload").count(),
        2,
        "{}",
        run.all()
    );

    // Complete: the dry run plans it without building; the release
    // publishes both packages, one sdist each, every wheel.
    std::fs::rename(&kept, &macos).unwrap();
    let run = project
        .xtask(
            &["release", "--from-artifacts", "artifacts", "--dry-run"],
            &env,
        )
        .expect(0);
    assert!(!run.stderr().contains("build "), "{}", run.all());
    assert!(
        run.stderr().contains(
            "mult-agentes 0.1.0 (sdist + 1 wheel), mult-agentes-native 0.1.0 (sdist + 6 wheels)"
        ),
        "{}",
        run.all()
    );
    assert!(!project.dist().exists(), "the dry run wrote dist/");
    let run = project
        .xtask(
            &[
                "release",
                "--from-artifacts",
                "artifacts",
                "--repository-url",
                &url,
            ],
            &env,
        )
        .expect(0);
    let files = server.files();
    assert_eq!(files.len(), 2 + 7, "{files:?}\n{}", run.all());
    assert_eq!(
        files.iter().filter(|f| f.ends_with(".tar.gz")).count(),
        2,
        "{files:?}"
    );
    assert!(
        run.stderr()
            .contains("not published: dist-linux-aarch64/mult_agentes_native-0.1.0.tar.gz"),
        "{}",
        run.all()
    );
}

#[test]
fn every_package_s_listing_is_checked_before_anything_runs() {
    // The first package is new there (a 404 under a simple root); the
    // second's page is no listing at all: exit 3, not a failed run.
    let index = testkit::server::Recording::start("127.0.0.1:0", |req| {
        let html = |b: &str| testkit::server::body(200, "text/html", b.as_bytes().to_vec());
        match req.path.as_str() {
            "/simple/" => {
                html("<html><head><title>Simple Index</title></head><body></body></html>")
            }
            "/simple/mult-agentes-native/" => html(
                "<html><head><title>Sign in</title></head><body><div id=app></div></body></html>",
            ),
            _ => testkit::server::body(404, "text/plain", b"not found".to_vec()),
        }
    });
    let url = format!("{}/", index.server().url());
    let project = release_project(true);
    let plan = plan(&project);
    artifacts(&project.root().join("artifacts"), &plan);
    // A token that decodes: one that does not is refused for PyPI.
    let password =
        release_kit::decode::pypi_token::build_test_token("pypi.org", &canary("probe"), &[]);
    let run = project
        .xtask(
            &[
                "publish",
                "--from-artifacts",
                "artifacts",
                "--repository-url",
                &url,
                "--dry-run",
            ],
            &[("TWINE_PASSWORD", password.as_str())],
        )
        .expect(3);
    let err = run.stderr();
    assert!(err.contains("found no package listing"), "{}", run.all());
    assert!(
        err.contains("/simple/mult-agentes-native/ answers, but not like"),
        "{}",
        run.all()
    );
}
