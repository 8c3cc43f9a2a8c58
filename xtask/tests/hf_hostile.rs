//! `hf-prefetch` (and the other readers of the network) against hostile
//! stand-ins (`testkit::hostile`): names that climb out of the cache, ids
//! that are not hex, refs that are not commits, bodies that never end or
//! end short. Nothing may be written outside the cache, nothing may panic
//! or hang, memory stays bounded, and the token never shows.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use testkit::hostile::{COMMIT, Hostile, HubAttack, blob_id};

const CANARY: &str = "hf_canaryHostileNeverPrinted5Vz";
const VICTIM: &[u8] = b"the victim's own content\n";

/// A project folder with a victim file beside the cache folder.
struct Scene {
    tmp: tempfile::TempDir,
}

impl Scene {
    fn new() -> Scene {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(tmp.path().join("hub-cache")).unwrap();
        std::fs::write(tmp.path().join("victim"), VICTIM).unwrap();
        Scene { tmp }
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }

    fn cache(&self) -> PathBuf {
        self.root().join("hub-cache")
    }

    /// The CLI: the stand-in as HF_ENDPOINT, the canary as HF_TOKEN.
    fn xtask(&self, endpoint: &str, args: &[&str]) -> Command {
        let mut c = support::hf_prefetch(endpoint, &self.cache(), self.root(), CANARY);
        c.args(args);
        c
    }

    /// The victim is untouched, and nothing but the cache, the victim and
    /// release-kit's own files appeared in the project folder; no symlink
    /// anywhere points out of the cache.
    fn assert_nothing_outside(&self) {
        if std::env::var_os("SHOW_TREE").is_some() {
            let o = Command::new("find")
                .arg(self.root())
                .arg("-ls")
                .output()
                .unwrap();
            eprintln!("{}", String::from_utf8_lossy(&o.stdout));
        }
        let victim = self.root().join("victim");
        let meta = std::fs::symlink_metadata(&victim).unwrap();
        assert!(meta.is_file(), "the victim was replaced by a link");
        assert_eq!(std::fs::read(&victim).unwrap(), VICTIM);
        for e in std::fs::read_dir(self.root()).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            assert!(
                name == "victim" || name == "hub-cache",
                "written outside the cache: {name}"
            );
        }
        let cache = self.cache().canonicalize().unwrap();
        for f in files(&self.cache()) {
            if let Ok(target) = std::fs::read_link(&f) {
                let resolved = f.parent().unwrap().join(target);
                let mut clean = PathBuf::new();
                for c in resolved.components() {
                    match c {
                        std::path::Component::ParentDir => {
                            clean.pop();
                        }
                        other => clean.push(other),
                    }
                }
                assert!(
                    clean.starts_with(&cache) || clean.starts_with(self.cache()),
                    "{} links out of the cache",
                    f.display()
                );
            }
        }
    }
}

/// Every file under `dir`, symlinks not followed.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if std::fs::symlink_metadata(&p).unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out
}

/// Runs `cmd`, killing it after `limit` (a hang is a failure); checks the
/// token never shows and nothing panicked.
fn run(cmd: &mut Command, limit: Duration) -> (Output, Duration) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let took = started.elapsed();
    let out = child.wait_with_output().unwrap();
    let all = support::text(&out);
    assert!(!all.contains(CANARY), "the token leaked:\n{all}");
    assert!(!all.contains("panicked"), "a panic:\n{all}");
    (out, took)
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn fails_with(out: &Output, code: i32, words: &[&str]) {
    let err = stderr(out);
    if std::env::var_os("SHOW_STDERR").is_some() {
        eprintln!("---- exit {:?}\n{err}", out.status.code());
    }
    assert_eq!(out.status.code(), Some(code), "{err}");
    for w in words {
        assert!(err.contains(w), "no {w:?} in:\n{err}");
    }
}

const QUICK: Duration = Duration::from_secs(60);

#[test]
fn traversing_file_paths_from_the_hub_write_nothing_outside_the_cache() {
    let echoed = format!("../{CANARY}");
    for path in [
        "../../../../victim",
        "sub/../../../../../victim",
        "..\\..\\..\\..\\victim",
        "a//b",
        // A Hub that echoes the token in a name: the error must not.
        echoed.as_str(),
    ] {
        let scene = Scene::new();
        let hub = Hostile::hub(HubAttack::Path(path.into()));
        let (out, _) = run(
            &mut scene.xtask(&hub.url(), &["--model", "evil/repo"]),
            QUICK,
        );
        scene.assert_nothing_outside();
        fails_with(
            &out,
            1,
            &[
                "evil/repo: the Hub gave an unusable file path",
                "Nothing was written",
            ],
        );
    }
    // An absolute path naming the victim itself.
    let scene = Scene::new();
    let victim = scene.root().join("victim");
    let hub = Hostile::hub(HubAttack::Path(victim.display().to_string()));
    let (out, _) = run(
        &mut scene.xtask(&hub.url(), &["--model", "evil/repo"]),
        QUICK,
    );
    scene.assert_nothing_outside();
    fails_with(&out, 1, &["unusable file path", "it is an absolute path"]);
}

#[test]
fn traversing_blob_ids_write_no_lock_or_partial_file_outside_the_cache() {
    let climb = "../../../victim";
    for attack in [
        HubAttack::BlobId(climb.into()),
        HubAttack::LfsOid(format!("../../../../{}", "a".repeat(60))),
        HubAttack::BlobId("g".repeat(40)),
    ] {
        let scene = Scene::new();
        let hub = Hostile::hub(attack.clone());
        let (out, _) = run(
            &mut scene.xtask(&hub.url(), &["--model", "evil/repo"]),
            QUICK,
        );
        scene.assert_nothing_outside();
        fails_with(&out, 1, &["evil/repo: the Hub gave an unusable", "blob id"]);
        assert!(
            !hub.requests().iter().any(|r| r.path.contains("/resolve/")),
            "{attack:?}: a file was requested"
        );
    }
}

#[test]
fn a_commit_or_etag_that_is_not_hex_is_an_error() {
    let scene = Scene::new();
    let hub = Hostile::hub(HubAttack::Revision("../../../../victim".into()));
    let (out, _) = run(
        &mut scene.xtask(&hub.url(), &["--model", "evil/repo"]),
        QUICK,
    );
    fails_with(
        &out,
        1,
        &["evil/repo: the Hub gave an unusable commit", "40 hex"],
    );
    scene.assert_nothing_outside();
    assert!(!scene.cache().join("models--evil--repo/refs/main").exists());

    let scene = Scene::new();
    let hub = Hostile::hub(HubAttack::Etag(format!("../../../../{}", "a".repeat(40))));
    let (out, _) = run(
        &mut scene.xtask(&hub.url(), &["--model", "evil/repo"]),
        QUICK,
    );
    fails_with(&out, 1, &["evil/repo: the Hub gave an unusable ETag"]);
    scene.assert_nothing_outside();
}

#[test]
fn a_traversing_revision_argument_is_refused_before_any_request() {
    let scene = Scene::new();
    let hub = Hostile::hub(HubAttack::Path("ok.json".into()));
    for spec in [
        "o/n@../../../../victim",
        "o/n@/abs/victim",
        "o/n@a\\b",
        "o/n@main:x",
    ] {
        let (out, _) = run(&mut scene.xtask(&hub.url(), &["--model", spec]), QUICK);
        fails_with(&out, 3, &["--model", "the revision after @ is not usable"]);
    }
    // A token pasted as --model is not quoted back.
    let (out, _) = run(&mut scene.xtask(&hub.url(), &["--model", CANARY]), QUICK);
    fails_with(&out, 3, &["--model", "value not shown"]);
    assert!(hub.requests().is_empty(), "{:?}", hub.requests());
    scene.assert_nothing_outside();
}

#[test]
fn offline_refs_that_are_not_commits_are_errors_not_panics() {
    let scene = Scene::new();
    let refs = scene.cache().join("models--o--n/refs");
    std::fs::create_dir_all(&refs).unwrap();
    // Byte 12 falls inside a multi-byte character: `&commit[..12]` panicked.
    for content in [
        "0123456789aé€€€€€€€€€€€€€€€€€€€€€€€€€€€€",
        "not a commit",
        "../../../../victim",
    ] {
        std::fs::write(refs.join("main"), content).unwrap();
        let snap = scene
            .cache()
            .join("models--o--n/snapshots")
            .join(content.split('/').next_back().unwrap());
        let _ = std::fs::create_dir_all(&snap);
        let (out, _) = run(
            &mut scene.xtask("http://127.0.0.1:9", &["--model", "o/n", "--offline"]),
            QUICK,
        );
        fails_with(
            &out,
            1,
            &[
                "o/n: the cache gave an unusable ref",
                "not a commit id",
                "fetch it again",
            ],
        );
    }
    scene.assert_nothing_outside();
}

/// Runs `inner` under `/usr/bin/time` (when installed): its output and
/// peak RSS in kB.
fn peak_rss_kb(inner: &Command, report: &Path) -> Option<(Output, u64)> {
    let time = Path::new("/usr/bin/time");
    if !time.exists() {
        return None;
    }
    let mut cmd = Command::new(time);
    cmd.arg("-f").arg("%M").arg("-o").arg(report);
    cmd.arg(inner.get_program()).args(inner.get_args());
    if let Some(dir) = inner.get_current_dir() {
        cmd.current_dir(dir);
    }
    for (k, v) in inner.get_envs() {
        match v {
            Some(v) => cmd.env(k, v),
            None => cmd.env_remove(k),
        };
    }
    let (out, _) = run(&mut cmd, QUICK);
    // GNU time puts "Command exited with non-zero status 1" first.
    let text = std::fs::read_to_string(report).ok()?;
    let kb = text.lines().last()?.trim().parse().ok()?;
    if std::env::var_os("SHOW_STDERR").is_some() {
        eprintln!(
            "{:?}: peak RSS {kb} kB",
            inner.get_args().collect::<Vec<_>>()
        );
    }
    Some((out, kb))
}

#[test]
fn endless_hub_answers_stop_at_the_size_limit_with_bounded_memory() {
    for attack in [HubAttack::EndlessRevision, HubAttack::EndlessTree] {
        let scene = Scene::new();
        let hub = Hostile::hub(attack.clone());
        let (out, took) = run(
            &mut scene.xtask(&hub.url(), &["--model", "evil/repo"]),
            QUICK,
        );
        fails_with(&out, 1, &["went on past", "32 MiB", &hub.url()]);
        assert!(took < Duration::from_secs(20), "{attack:?} took {took:?}");
        let cmd = scene.xtask(&hub.url(), &["--model", "evil/repo"]);
        if let Some((out, kb)) = peak_rss_kb(&cmd, &scene.cache().join("time.txt")) {
            assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
            assert!(kb < 256 * 1024, "{attack:?}: peak RSS {kb} kB");
        }
        scene.assert_nothing_outside();
    }
}

#[test]
fn a_tree_cut_short_fails_at_once_without_hanging() {
    let scene = Scene::new();
    let hub = Hostile::hub(HubAttack::ShortTree);
    let (out, _) = run(
        &mut scene.xtask(&hub.url(), &["--model", "evil/repo"]),
        Duration::from_secs(120),
    );
    fails_with(&out, 1, &["file list of evil/repo", "broke"]);
    assert!(!scene.cache().join("models--evil--repo/trees").exists());
    scene.assert_nothing_outside();
}

#[test]
fn an_endless_index_listing_or_s3_reply_stops_at_the_size_limit() {
    use release_kit::net::{Blocking, Request, RetryPolicy};
    use release_kit::pypi::index::{Candidate, Reader, Source, existing_files};
    let index = Hostile::endless_index();
    let http = Blocking::new().unwrap();
    let reader = Reader::new(&http, RetryPolicy::default(), None);
    let given = Candidate::given(&format!("{}/simple/#{CANARY}", index.url()), Source::Flag);
    let started = Instant::now();
    let err = existing_files(&reader, &given.query, "p", "1.0", &[]).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("went on past") && text.contains("32 MiB"),
        "{text}"
    );
    assert!(!text.contains(CANARY), "{text}");
    assert!(started.elapsed() < Duration::from_secs(20));

    let s3 = Hostile::endless_s3();
    let err = http
        .send(
            &Request::get(format!("{}/bucket?list-type=2", s3.url())),
            &RetryPolicy::default(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("went on past"), "{err}");
}

#[test]
fn check_url_fragments_and_credentials_are_never_shown() {
    use release_kit::pypi::index::{Candidate, Source};
    let c = Candidate::given(
        &format!("http://u:{CANARY}@127.0.0.1:9/simple/#{CANARY}"),
        Source::Flag,
    );
    let shown = c.query.to_string();
    assert_eq!(shown, "http://127.0.0.1:9/simple/ (simple API)");
    // The fragment is not part of what is asked either.
    assert_eq!(
        c.query.url("p", "1"),
        format!("http://u:{CANARY}@127.0.0.1:9/simple/p/")
    );
}

#[test]
fn the_same_stand_in_without_an_attack_is_fetched() {
    // The stand-in's own names are valid and its file downloads: only the
    // attack is refused.
    assert!(release_kit::hf::names::check_blob_id(&blob_id()).is_ok());
    assert!(release_kit::hf::names::check_commit(COMMIT).is_ok());
    let scene = Scene::new();
    let hub = Hostile::hub(HubAttack::Path("sub/config.json".into()));
    let (out, _) = run(
        &mut scene.xtask(&hub.url(), &["--model", "fine/repo"]),
        QUICK,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let file = scene
        .cache()
        .join("models--fine--repo/snapshots")
        .join(COMMIT)
        .join("sub/config.json");
    assert_eq!(
        std::fs::read(file).unwrap(),
        testkit::hostile::FILE_BYTES,
        "{}",
        stderr(&out)
    );
    scene.assert_nothing_outside();
}

#[test]
fn env_verify_s3_against_an_endless_reply_fails_with_the_size_limit() {
    let s3 = Hostile::endless_s3();
    let root = tempfile::tempdir().unwrap();
    // A project declaring the example's variables (S3_AUDIT_BUCKET…).
    support::declare_example_variables(root.path());
    let secret = "CNRYsecretKeyNeverPrinted0123456789abcdEF";
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_xtask"));
    cmd.current_dir(root.path())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("S3_AUDIT_BUCKET", "audit-bucket")
        .env("AWS_ACCESS_KEY_ID", "AKIACNRY000000000000")
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_ENDPOINT_URL", s3.url())
        .args(["--no-env-file", "--root"])
        .arg(root.path())
        .args(["env", "verify", "--json", "s3"]);
    let (out, took) = run(&mut cmd, QUICK);
    let all = support::text(&out);
    assert!(!all.contains(secret), "{all}");
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("went on past 32 MiB"), "{all}");
    assert!(took < Duration::from_secs(30), "{took:?}");
    assert!(!s3.requests().is_empty());
    let report = tempfile::NamedTempFile::new().unwrap();
    if let Some((out, kb)) = peak_rss_kb(&cmd, report.path()) {
        assert_eq!(out.status.code(), Some(1));
        assert!(kb < 256 * 1024, "peak RSS {kb} kB");
    }
}
