//! `cargo xtask hf-prefetch` against the local Hub stand-in, checked with
//! the real huggingface_hub (offline loads, and its own downloads through
//! the stand-in).

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use testkit::hub::{Hub, HubConfig, Origin, Shaping, tiny_model};

const REPO: &str = "acme/tiny";
const CANARY: &str = "hf_canaryTokenNeverPrinted7Q2x";

fn hub_with(config: HubConfig) -> Hub {
    Hub::start(HubConfig {
        repos: vec![tiny_model(REPO), tiny_model("acme/gated").gated()],
        tokens: vec![CANARY.into()],
        page_size: 3,
        ..config
    })
    .unwrap()
}

fn hub() -> Hub {
    hub_with(HubConfig::default())
}

/// The CLI with a clean Hugging Face environment: the stand-in's endpoint,
/// `cache` as HF_HUB_CACHE, the canary as HF_TOKEN.
fn xtask(hub: &Hub, cache: &Path) -> Command {
    support::hf_prefetch(hub.endpoint(), cache, cache.parent().unwrap(), CANARY)
}

fn run(cmd: &mut Command) -> Output {
    let out = cmd.output().unwrap();
    let all = support::text(&out);
    assert!(!all.contains(CANARY), "the token leaked:\n{all}");
    out
}

fn ok(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}\n{}{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A cache folder inside a temporary project root.
fn cache_dir(tmp: &tempfile::TempDir) -> PathBuf {
    let c = tmp.path().join("hub-cache");
    std::fs::create_dir_all(&c).unwrap();
    c
}

/// Runs Python code in the test venv with an offline huggingface_hub on
/// `cache`.
fn python_offline(cache: &Path, code: &str) -> Output {
    let python = testkit::python::test_python().expect("test venv (python3 -m venv, pip)");
    Command::new(python)
        .arg("-c")
        .arg(code)
        .env("HF_HUB_CACHE", cache)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env_remove("HF_TOKEN")
        .env_remove("HF_ENDPOINT")
        .output()
        .unwrap()
}

fn py_ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "python failed:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Every file under `dir` (symlinks not followed), for the leak check.
fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            let meta = std::fs::symlink_metadata(&p).unwrap();
            if meta.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn cold_download_loads_offline_in_huggingface_hub_and_token_stays_on_the_hub() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);
    let report = ok(&run(xtask(&hub, &cache).args(["--model", REPO, "--json"])));
    let commit = tiny_model(REPO).commit();
    assert_eq!(report["models"][0]["commit"], commit.as_str());
    assert_eq!(report["models"][0]["downloaded"], 7);
    assert_eq!(
        std::fs::read_to_string(cache.join("models--acme--tiny/refs/main")).unwrap(),
        commit
    );

    // The token went to the Hub on every request and never to the CDN.
    let records = hub.records();
    assert!(records.iter().any(|r| r.origin == Origin::Cdn));
    for r in &records {
        match r.origin {
            Origin::Hub => assert_eq!(
                r.authorization.as_deref(),
                Some(format!("Bearer {CANARY}").as_str())
            ),
            Origin::Cdn => assert!(r.authorization.is_none(), "{r:?}"),
        }
    }
    // One metadata call listed the files (the tree listing and its pages
    // are the fallback, tests/hf_faults.rs).
    let api: Vec<&str> = records
        .iter()
        .filter(|r| r.uri.starts_with("/api/models/"))
        .map(|r| r.uri.as_str())
        .collect();
    assert_eq!(api, ["/api/models/acme/tiny/revision/main?blobs=true"]);
    // Nothing written holds the token.
    for f in all_files(tmp.path()) {
        let bytes = std::fs::read(&f).unwrap_or_default();
        assert!(
            !String::from_utf8_lossy(&bytes).contains(CANARY),
            "{}",
            f.display()
        );
    }

    let files: Vec<String> = tiny_model(REPO)
        .files
        .iter()
        .map(|f| f.path.clone())
        .collect();
    let code = format!(
        r#"
import hashlib, os
from huggingface_hub import snapshot_download, hf_hub_download
snap = snapshot_download("{REPO}", local_files_only=True)
print("SNAP", snap)
for f in {files:?}:
    p = hf_hub_download("{REPO}", f, local_files_only=True)
    assert p.startswith(snap), (p, snap)
    print("FILE", f, hashlib.sha256(open(p, "rb").read()).hexdigest())
p = hf_hub_download("{REPO}", "config.json", revision="{commit}", local_files_only=True)
print("PINNED", p)
"#
    );
    let out = py_ok(&python_offline(&cache, &code));
    assert!(
        out.contains(&format!("models--acme--tiny/snapshots/{commit}")),
        "{out}"
    );
    for f in tiny_model(REPO).files {
        assert!(
            out.contains(&format!("FILE {} {}", f.path, sha256_hex(&f.data))),
            "{}: {out}",
            f.path
        );
    }
}

/// The relative layout of a cache: every file and symlink (with its target)
/// under the model's folder, and the tree listing's content.
fn layout(cache: &Path, repo: &str) -> (Vec<String>, serde_json::Value) {
    let dir = cache.join(format!("models--{}", repo.replace('/', "--")));
    let mut entries: Vec<String> = all_files(&dir)
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&dir).unwrap().display().to_string();
            match std::fs::read_link(&p) {
                Ok(t) => format!("{rel} -> {}", t.display()),
                Err(_) => format!("{rel} ({} bytes)", std::fs::metadata(&p).unwrap().len()),
            }
        })
        .filter(|e| !e.starts_with("trees/"))
        .collect();
    entries.sort();
    let trees = std::fs::read_dir(dir.join("trees"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let tree: serde_json::Value = serde_json::from_slice(&std::fs::read(trees).unwrap()).unwrap();
    (entries, tree)
}

#[test]
fn huggingface_hub_downloads_through_the_stand_in_into_the_same_layout() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let ours = cache_dir(&tmp);
    let theirs = tmp.path().join("python-cache");
    ok(&run(xtask(&hub, &ours).args(["--model", REPO])));
    hub.clear_records();

    let python = testkit::python::test_python().expect("test venv");
    let out = Command::new(python)
        .arg("-c")
        .arg(format!(
            "from huggingface_hub import snapshot_download\nprint(snapshot_download('{REPO}'))"
        ))
        .env("HF_ENDPOINT", hub.endpoint())
        .env("HF_HUB_CACHE", &theirs)
        .env("HF_TOKEN", CANARY)
        .env("HF_HUB_DISABLE_XET", "1")
        .env("HF_HUB_DISABLE_TELEMETRY", "1")
        .env_remove("HF_HUB_OFFLINE")
        .output()
        .unwrap();
    py_ok(&out);
    // huggingface_hub used the revision, tree and resolve APIs, followed
    // the relative redirects and the CDN redirect, and kept its token off
    // the CDN as we do.
    let records = hub.records();
    assert!(records.iter().any(|r| r.uri.contains("/revision/main")));
    assert!(records.iter().any(|r| r.uri.contains("/resolve-cache/")));
    assert!(
        records
            .iter()
            .any(|r| r.origin == Origin::Cdn && r.status == 200)
    );
    assert!(records.iter().all(|r| r.status < 400), "{records:#?}");
    assert_eq!(layout(&ours, REPO), layout(&theirs, REPO));
}

#[test]
fn warm_runs_make_one_request_or_none() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);
    ok(&run(xtask(&hub, &cache).args(["--model", REPO])));
    let commit = tiny_model(REPO).commit();

    hub.clear_records();
    let report = ok(&run(xtask(&hub, &cache).args(["--model", REPO, "--json"])));
    assert_eq!(report["requests"], 1);
    assert_eq!(report["models"][0]["downloaded"], 0);
    let records = hub.records();
    assert_eq!(records.len(), 1, "{records:#?}");
    assert!(
        records[0]
            .uri
            .ends_with("/api/models/acme/tiny/revision/main?blobs=true")
    );

    hub.clear_records();
    let pinned = format!("{REPO}@{commit}");
    let report = ok(&run(
        xtask(&hub, &cache).args(["--model", &pinned, "--json"])
    ));
    assert_eq!(report["requests"], 0);
    assert!(hub.records().is_empty());

    // Offline: no request, success when everything is there...
    let report = ok(&run(xtask(&hub, &cache).args([
        "--model",
        REPO,
        "--offline",
        "--json",
    ])));
    assert_eq!(report["offline"], true);
    let report = ok(&run(xtask(&hub, &cache)
        .args(["--model", REPO, "--json"])
        .env("HF_HUB_OFFLINE", "yes")));
    assert_eq!(report["offline"], true);
    assert!(hub.records().is_empty());

    // ...exit 1 naming what is missing otherwise.
    std::fs::remove_file(cache.join(format!(
        "models--acme--tiny/snapshots/{commit}/onnx/model.onnx"
    )))
    .unwrap();
    let out =
        run(xtask(&hub, &cache).args(["--model", REPO, "--model", "acme/other", "--offline"]));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("acme/tiny@main: onnx/model.onnx"), "{err}");
    assert!(err.contains("acme/other@main: never fetched"), "{err}");
    assert!(hub.records().is_empty());

    // A damaged snapshot is repaired from the blob without a download.
    let report = ok(&run(xtask(&hub, &cache).args(["--model", REPO, "--json"])));
    assert_eq!(report["models"][0]["present"], 7);
    assert!(!hub.records().iter().any(|r| r.uri.contains("resolve")));
}

#[test]
fn include_exclude_select_files() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);
    let report = ok(&run(xtask(&hub, &cache).args([
        "--model",
        REPO,
        "--include",
        "*.json",
        "--include",
        "onnx/",
        "--exclude",
        "1_Pooling/*",
        "--json",
    ])));
    assert_eq!(report["models"][0]["files"], 3);
    let snap = cache.join(format!(
        "models--acme--tiny/snapshots/{}",
        tiny_model(REPO).commit()
    ));
    let mut got: Vec<String> = all_files(&snap)
        .iter()
        .map(|p| p.strip_prefix(&snap).unwrap().display().to_string())
        .collect();
    got.sort();
    assert_eq!(got, ["config.json", "onnx/model.onnx", "tokenizer.json"]);

    // huggingface_hub agrees that this selection is complete, and that the
    // whole snapshot is not.
    let out = python_offline(
        &cache,
        &format!(
            "from huggingface_hub import snapshot_download\n\
             snapshot_download('{REPO}', allow_patterns=['*.json', 'onnx/'], ignore_patterns=['1_Pooling/*'], local_files_only=True)\n\
             try:\n    snapshot_download('{REPO}', local_files_only=True)\nexcept Exception as e:\n    print('INCOMPLETE', type(e).__name__)\n"
        ),
    );
    assert!(py_ok(&out).contains("INCOMPLETE"));

    let out = run(xtask(&hub, &cache).args(["--model", REPO, "--include", "*.JSON"]));
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("no file matches"), "{}", stderr(&out));
}

#[test]
fn killed_mid_download_resumes_with_range() {
    // 1 MB/s for all connections: the 6.7 MB model takes seconds.
    let hub = hub_with(HubConfig {
        shaping: Shaping {
            total: Some(1_000_000),
            ..Shaping::default()
        },
        ..HubConfig::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);
    let mut child = xtask(&hub, &cache)
        .args(["--model", REPO, "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let sha = tiny_model(REPO)
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .unwrap()
        .sha256();
    let parts = cache.join(format!(".locks/models--acme--tiny/{sha}.parts"));
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    // Wait until some progress of the large file is saved, then kill -9.
    loop {
        let saved = std::fs::read_to_string(&parts).unwrap_or_default();
        let done: u64 = saved
            .lines()
            .skip(1)
            .filter_map(|l| l.split_whitespace().nth(2)?.parse::<u64>().ok())
            .sum();
        if done > 500_000 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no progress saved");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        cache
            .join(format!("models--acme--tiny/blobs/{sha}.incomplete"))
            .exists()
    );
    assert!(
        !cache
            .join(format!("models--acme--tiny/blobs/{sha}"))
            .exists()
    );

    // Where each chunk stood when the run was killed.
    let saved = std::fs::read_to_string(&parts).unwrap();
    let resume_points: Vec<u64> = saved
        .lines()
        .skip(1)
        .filter_map(|l| {
            let v: Vec<u64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            (v[2] > 0 && v[0] + v[2] < v[1]).then_some(v[0] + v[2])
        })
        .collect();
    assert!(
        !resume_points.is_empty(),
        "a chunk was cut mid-way: {saved}"
    );

    hub.clear_records();
    let report = ok(&run(xtask(&hub, &cache).args(["--model", REPO, "--json"])));
    assert!(
        report["models"][0]["resumed"].as_u64().unwrap() >= 1,
        "{report}"
    );
    // The cut chunks resumed from their saved point, not from their start.
    let starts: Vec<u64> = hub
        .records()
        .iter()
        .filter(|r| r.uri.contains(&sha))
        .filter_map(|r| {
            let x = r.range.as_deref()?.trim_start_matches("bytes=");
            x.split('-').next()?.parse().ok()
        })
        .collect();
    assert!(
        resume_points.iter().all(|p| starts.contains(p)),
        "resumed at {resume_points:?}, asked {starts:?}"
    );
    let out = python_offline(
        &cache,
        &format!(
            "from huggingface_hub import snapshot_download\nsnapshot_download('{REPO}', local_files_only=True)"
        ),
    );
    py_ok(&out);
    let blob = std::fs::read(cache.join(format!("models--acme--tiny/blobs/{sha}"))).unwrap();
    assert_eq!(blob, testkit::hub::noise(5_000_000, 3));
}

#[test]
fn two_concurrent_runs_both_succeed() {
    let hub = hub_with(HubConfig {
        shaping: Shaping {
            rtt: Duration::from_millis(5),
            per_connection: Some(4_000_000),
            total: Some(20_000_000),
        },
        ..HubConfig::default()
    });
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);
    let spawn = || {
        xtask(&hub, &cache)
            .args(["--model", REPO, "--json"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (ra, rb) = (ok(&a), ok(&b));
    let downloaded = ra["models"][0]["downloaded"].as_u64().unwrap()
        + rb["models"][0]["downloaded"].as_u64().unwrap();
    assert_eq!(downloaded, 7, "each blob downloaded once, under its lock");
    let out = python_offline(
        &cache,
        &format!(
            "from huggingface_hub import snapshot_download\nsnapshot_download('{REPO}', local_files_only=True)"
        ),
    );
    py_ok(&out);
    for f in tiny_model(REPO).files {
        let blob = cache.join(format!("models--acme--tiny/blobs/{}", f.etag()));
        assert_eq!(std::fs::read(blob).unwrap(), f.data.as_ref());
    }
}

#[test]
fn access_errors_say_what_to_do_and_never_print_the_token() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);

    let out = run(xtask(&hub, &cache)
        .args(["--model", "acme/gated"])
        .env_remove("HF_TOKEN"));
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("HF_TOKEN is not set") && err.contains("settings/tokens"),
        "{err}"
    );
    assert!(err.contains("gated"), "{err}");

    let wrong = "hf_wrongCanaryTokenXYZ123456";
    let out = xtask(&hub, &cache)
        .args(["--model", REPO])
        .env("HF_TOKEN", wrong)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("rejected HF_TOKEN"), "{err}");
    assert!(!err.contains(wrong) && !String::from_utf8_lossy(&out.stdout).contains(wrong));

    let out = run(xtask(&hub, &cache).args(["--model", "acme/missing"]));
    assert!(
        stderr(&out).contains("acme/missing: repository not found"),
        "{}",
        stderr(&out)
    );
    let out = run(xtask(&hub, &cache).args(["--model", "acme/tiny@v9"]));
    assert!(
        stderr(&out).contains("revision 'v9' not found"),
        "{}",
        stderr(&out)
    );

    // Usage problems are found before anything is done (exit 3).
    hub.clear_records();
    let out = run(xtask(&hub, &cache)
        .args(["--model", "not-a-repo"])
        .env("HF_ENDPOINT", "ftp://example")
        .env("HF_TOKEN", "nothf_format_value"));
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("3 problems") && err.contains("HF_ENDPOINT") && err.contains("not-a-repo"),
        "{err}"
    );
    assert!(!err.contains("nothf_format_value"), "{err}");
    assert!(hub.records().is_empty(), "no request before exit 3");
}

#[test]
fn gated_repo_with_token_and_several_models() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);
    let report = ok(&run(xtask(&hub, &cache).args([
        "--model",
        REPO,
        "--model",
        "acme/gated",
        "--json",
    ])));
    assert_eq!(report["models"].as_array().unwrap().len(), 2);
    assert_eq!(report["models"][1]["downloaded"], 7);
    assert!(cache.join("models--acme--gated/refs/main").is_file());
}

#[test]
fn the_timeline_shows_each_request_and_never_the_token_or_a_signed_url() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let cache = cache_dir(&tmp);
    let timeline = tmp.path().join("timeline.txt");
    ok(&run(xtask(&hub, &cache)
        .env("RELEASE_KIT_HF_TIMELINE", &timeline)
        .args(["--model", REPO, "-q"])));
    let text = std::fs::read_to_string(&timeline).unwrap();
    // The metadata call, the large file located then fetched in chunks
    // with their byte ranges, the small files, the verification.
    for want in [
        "api |",
        "metadata",
        "locate model.safetensors",
        "chunk 0 model.safetensors: bytes 0-",
        "file config.json",
        "verify model.safetensors",
    ] {
        assert!(text.contains(want), "{want}:\n{text}");
    }
    assert!(!text.contains(CANARY), "{text}");
    assert!(!text.contains("X-Amz-Signature"), "{text}");
    assert!(!text.contains("http"), "no URL: {text}");
}
