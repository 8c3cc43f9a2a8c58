//! The GitHub Actions workflows: every `cargo xtask …` they call exists,
//! actionlint finds nothing, and zizmor finds nothing of medium severity
//! or above.

mod support;

use std::path::{Path, PathBuf};

fn workflows() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml" || e == "yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 2, "ci.yml and release.yml exist");
    files
}

/// One `cargo xtask …` of a workflow: its subcommand words, and the flags
/// it passes (on its line, and through a shell array built just before it:
/// `args+=(--target "$TARGET")` … `"${args[@]}"`).
#[derive(Debug)]
struct Invocation {
    file: PathBuf,
    words: Vec<String>,
    flags: Vec<String>,
}

fn flags_in(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || c == '(')
        .filter(|w| w.starts_with("--") && w.len() > 2)
        .map(|w| {
            w.trim_end_matches(|c: char| !c.is_ascii_alphanumeric())
                .split('=')
                .next()
                .unwrap_or(w)
                .to_owned()
        })
        .collect()
}

fn xtask_invocations() -> Vec<Invocation> {
    let mut out = Vec::new();
    for file in workflows() {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut array_flags: Vec<String> = Vec::new();
        for line in text.lines() {
            if line.trim_start().starts_with("run:") {
                array_flags.clear();
            }
            if line.contains("+=(") {
                array_flags.extend(flags_in(line));
            }
            let mut rest = line;
            while let Some(i) = rest.find("cargo xtask ") {
                rest = &rest[i + "cargo xtask ".len()..];
                let call = rest.split(['>', '|', '&', ';', ')']).next().unwrap_or(rest);
                let words: Vec<String> = call
                    .split_whitespace()
                    .take_while(|w| {
                        !w.starts_with('-') && !w.starts_with('"') && !w.contains(['$', '`'])
                    })
                    .map(str::to_owned)
                    .collect();
                let mut flags = flags_in(call);
                if call.contains("${args[@]}") {
                    flags.extend(array_flags.iter().cloned());
                }
                if !words.is_empty() {
                    out.push(Invocation {
                        file: file.clone(),
                        words,
                        flags,
                    });
                }
            }
        }
    }
    out
}

#[test]
fn every_xtask_command_and_flag_in_the_workflows_exists() {
    let calls = xtask_invocations();
    assert!(calls.len() >= 6, "{calls:?}");
    let build = calls
        .iter()
        .find(|c| c.words == ["build"])
        .expect("the matrix builds with `cargo xtask build`");
    for flag in ["--package", "--target", "--manylinux", "--zig"] {
        assert!(build.flags.iter().any(|f| f == flag), "{build:?}");
    }
    for Invocation { file, words, flags } in calls {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_xtask"))
            .args(&words)
            .arg("--help")
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}: `cargo xtask {}` does not exist:\n{}",
            file.display(),
            words.join(" "),
            String::from_utf8_lossy(&out.stderr)
        );
        for flag in flags {
            let known = help
                .split(|c: char| c.is_whitespace() || c == ',' || c == '[' || c == '<')
                .any(|w| w == flag);
            assert!(
                known,
                "{}: `cargo xtask {}` has no flag {flag}:\n{help}",
                file.display(),
                words.join(" ")
            );
        }
    }
}

#[test]
fn zizmor_finds_nothing_medium_or_above() {
    let python = testkit::python::test_python().expect("the test venv (testkit/requirements.txt)");
    let zizmor = python.parent().unwrap().join("zizmor");
    let out = std::process::Command::new(&zizmor)
        .args(["--offline", "--min-severity", "medium", "--format", "plain"])
        .args(workflows())
        .output()
        .expect("zizmor runs");
    let text = support::text(&out);
    assert!(out.status.success(), "zizmor findings:\n{text}");
}

#[test]
fn actionlint_finds_nothing() {
    let python = testkit::python::test_python().expect("the test venv (testkit/requirements.txt)");
    let actionlint = python.parent().unwrap().join("actionlint");
    let out = std::process::Command::new(&actionlint)
        .args(["-no-color"])
        .args(workflows())
        .output()
        .expect("actionlint runs");
    let text = support::text(&out);
    assert!(out.status.success(), "actionlint findings:\n{text}");
}

/// The release workflow is the fan-in of a build matrix planned by the
/// xtask: plan → build (one artifact per platform) → publish everything.
#[test]
fn release_is_plan_matrix_build_fan_in() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows");
    let text = std::fs::read_to_string(dir.join("release.yml")).unwrap();
    for needle in [
        "cargo xtask release --plan-matrix",
        "matrix: ${{ fromJSON(needs.plan.outputs.matrix) }}",
        "runs-on: ${{ matrix.os }}",
        "name: ${{ matrix.artifact }}",
        "cargo xtask release --from-artifacts artifacts",
        "pattern: dist-*",
    ] {
        assert!(text.contains(needle), "release.yml lacks {needle}");
    }
    // id-token only where a job publishes to an index.
    let mut jobs: Vec<String> = Vec::new();
    for line in text.lines() {
        if line.starts_with("  ") && !line.starts_with("   ") {
            jobs.push(String::new());
        }
        if let Some(job) = jobs.last_mut() {
            job.push_str(line);
            job.push('\n');
        }
    }
    let minting: Vec<&String> = jobs
        .iter()
        .filter(|j| j.contains("id-token: write"))
        .collect();
    assert_eq!(minting.len(), 2, "{jobs:?}");
    for job in minting {
        assert!(
            job.contains("cargo xtask publish")
                || job.contains("cargo xtask release --from-artifacts"),
            "{job}"
        );
    }
}

#[test]
fn workflows_keep_least_privilege() {
    for file in workflows() {
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(
            text.contains("\npermissions: {}\n"),
            "{}: top-level permissions: {{}}",
            file.display()
        );
        for line in text.lines().filter(|l| l.contains("uses: ")) {
            let spec = line.split("uses: ").nth(1).unwrap();
            let (_, rev) = spec.split_once('@').unwrap();
            let sha = rev.split_whitespace().next().unwrap();
            assert!(
                sha.len() == 40 && sha.bytes().all(|b| b.is_ascii_hexdigit()),
                "{}: {line}",
                file.display()
            );
            assert!(
                line.contains(" # v"),
                "{}: version comment: {line}",
                file.display()
            );
        }
        assert_eq!(
            text.matches("actions/checkout@").count(),
            text.matches("persist-credentials: false").count(),
            "{}",
            file.display()
        );
    }
}

/// The plan job runs the same version-everywhere check as `release`: a tag
/// v0.2.0 with a 0.2.0 changelog entry but pyproject.toml at 0.1.0 fails
/// there (not in every build job later), annotated with file and line, as
/// are `build`'s errors; the release job hands OVSX_PAT to Open VSX.
#[test]
fn the_plan_job_checks_the_version_and_every_command_annotates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.github/workflows");
    let text = std::fs::read_to_string(dir.join("release.yml")).unwrap();
    assert!(
        text.contains("OVSX_PAT: ${{ secrets.OVSX_PAT }}"),
        "release.yml"
    );
    let line = text
        .lines()
        .find(|l| l.contains("cargo xtask changelog"))
        .expect("the plan job prints the notes");
    let command = line
        .trim()
        .trim_start_matches("run:")
        .trim()
        .replace("cargo xtask", env!("CARGO_BIN_EXE_xtask"));
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    std::fs::create_dir_all(root.join("py/src/pkg")).unwrap();
    std::fs::write(
        root.join("release-kit.toml"),
        "[python]\npath = \"py\"\n[vscode]\nenabled = false\n",
    )
    .unwrap();
    std::fs::write(
        root.join("py/pyproject.toml"),
        "[project]\nname = \"pkg\"\nversion = \"0.1.0\"\n",
    )
    .unwrap();
    std::fs::write(root.join("py/src/pkg/__init__.py"), "").unwrap();
    std::fs::write(
        root.join("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n\n## [0.2.0] - 2026-01-01\n\n- x\n",
    )
    .unwrap();
    let run = |cmd: &str| {
        std::process::Command::new("sh")
            .args(["-c", cmd])
            .current_dir(root)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap())
            .env("HOME", root)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_REF_TYPE", "tag")
            .env("GITHUB_REF_NAME", "v0.2.0")
            .output()
            .unwrap()
    };
    let pyproject = root.join("py/pyproject.toml").display().to_string();
    for cmd in [
        command.clone(),
        format!("{} build", env!("CARGO_BIN_EXE_xtask")),
    ] {
        let out = run(&cmd);
        let all = format!(
            "{cmd}\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(out.status.code(), Some(3), "{all}");
        // The version check names the file and line as properties; build's
        // tag problem (pypi::build) names them in its words.
        let at = if cmd.ends_with(" build") {
            "::error ".to_owned()
        } else {
            format!("::error file={pyproject},line=")
        };
        assert!(
            all.lines()
                .any(|l| l.starts_with(&at) && l.contains("0.2.0")),
            "{all}"
        );
    }
}
