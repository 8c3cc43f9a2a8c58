//! The differential test of the `.env` reader: every file of
//! `tests/dotenv_corpus/` is read by python-dotenv (the version pinned in
//! `testkit/requirements.txt`, what the Python app uses) and by
//! release-kit, and the two must agree name for name and line for line:
//! the same names in the same order, the line of each name's last entry,
//! the value python-dotenv's loader computes, the value the app then sees
//! (environment first), and the line of the first statement python-dotenv
//! cannot parse. Values cross only as sha256 hashes, so nothing here can
//! print one.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use release_kit::settings::dotenv::{self, EnvFileError};
use sha2::{Digest as _, Sha256};

/// The process environment both readers get: what `${…}` looks up first.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("LC_ALL", "C.UTF-8"),
    ("FROM_ENV", "value-from-the-environment"),
    ("SHARED", "environment-wins"),
    ("EMPTY_IN_ENV", ""),
    ("HF_TOKEN", "hf_environmentCNRYwins"),
];

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/dotenv_corpus")
}

fn env_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "env"))
        .collect();
    files.sort();
    files
}

fn digest(value: Option<&str>) -> Option<String> {
    value.map(|v| {
        Sha256::digest(v.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// python-dotenv's reading of `files`, and the environment it ran with.
fn python_reading(files: &[PathBuf]) -> serde_json::Value {
    let python = testkit::python::test_python().expect("test venv");
    let out = std::process::Command::new(python)
        .env_clear()
        .envs(ENVIRONMENT.iter().copied())
        .arg(corpus().join("read_with_python_dotenv.py"))
        .args(files)
        .output()
        .expect("python runs");
    // stderr holds python-dotenv's "could not parse statement starting at
    // line N" log lines only; never values.
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json")
}

fn pinned_version() -> String {
    let req = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("testkit/requirements.txt"),
    )
    .unwrap();
    req.lines()
        .find_map(|l| l.strip_prefix("python-dotenv=="))
        .expect("python-dotenv is pinned in testkit/requirements.txt")
        .trim()
        .to_owned()
}

type Row = (String, usize, Option<String>, Option<String>);

#[test]
fn corpus_reads_as_python_dotenv_does() {
    let ok = env_files(&corpus());
    let errors = env_files(&corpus().join("errors"));
    let all: Vec<PathBuf> = ok.iter().chain(&errors).cloned().collect();
    let py = python_reading(&all);
    assert_eq!(py["version"], pinned_version().as_str());
    let environ: HashMap<String, String> = serde_json::from_value(py["environ"].clone()).unwrap();
    for (k, v) in ENVIRONMENT {
        assert_eq!(environ.get(*k).map(String::as_str), Some(*v));
    }
    let mut compared = 0;
    for path in &ok {
        let name = path.file_name().unwrap().to_string_lossy();
        let theirs = &py["files"][path.to_str().unwrap()];
        assert!(
            theirs["first_error"].is_null(),
            "{name}: python-dotenv cannot parse line {}; corpus files must parse",
            theirs["first_error"]
        );
        let want: Vec<Row> = theirs["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                (
                    e["key"].as_str().unwrap().to_owned(),
                    e["line"].as_u64().unwrap() as usize,
                    e["file"].as_str().map(str::to_owned),
                    e["app"].as_str().map(str::to_owned),
                )
            })
            .collect();
        let parsed = dotenv::parse_file(path, &environ)
            .unwrap_or_else(|e| panic!("{name}: release-kit refuses the file: {e}"));
        let got: Vec<Row> = parsed
            .entries
            .iter()
            .map(|e| {
                let app = environ
                    .get(&e.key)
                    .map(String::as_str)
                    .or(e.value.as_deref());
                (
                    e.key.clone(),
                    e.line,
                    digest(e.value.as_deref()),
                    digest(app),
                )
            })
            .collect();
        assert_eq!(
            got, want,
            "{name}: (name, line, sha256 of python-dotenv's value, sha256 of what the app sees)"
        );
        // Warnings name lines and names, never a value.
        for e in &parsed.entries {
            let Some(v) = e.value.as_deref().filter(|v| v.trim().len() >= 6) else {
                continue;
            };
            for w in &parsed.warnings {
                assert!(
                    !w.contains(v),
                    "{name}: a warning holds the value of {}",
                    e.key
                );
            }
        }
        compared += got.len();
    }
    assert!(compared >= 120, "only {compared} names compared");
    for path in &errors {
        let name = path.file_name().unwrap().to_string_lossy();
        let theirs = &py["files"][path.to_str().unwrap()]["first_error"];
        let line = theirs
            .as_u64()
            .unwrap_or_else(|| panic!("{name}: python-dotenv parses it; move it out of errors/"));
        match dotenv::parse_file(path, &environ) {
            Err(err @ EnvFileError::Syntax { line: ours, .. }) => {
                assert_eq!(ours as u64, line, "{name}: {err}");
                let text = err.to_string();
                assert!(
                    !text.contains("hunter2"),
                    "{name}: the error quotes the file"
                );
                assert!(text.contains(&format!("{name}:{line}: ")), "{text}");
            }
            Err(other) => panic!("{name}: {other}"),
            Ok(_) => panic!("{name}: python-dotenv cannot parse line {line}, release-kit reads it"),
        }
    }
}
