//! Each fault of the Hub stand-in ends in a complete verified cache or a
//! clear error with no corrupt blob at a final path.

use std::path::Path;
use std::time::{Duration, Instant};

use release_kit::hf::{self, HfEnvironment, HfError, ModelSpec, Options, RepoCache, RetryPolicy};
use testkit::hub::{Hub, HubConfig, HubRepo, Origin, tiny_model};

const REPO: &str = "acme/tiny";

fn hub() -> Hub {
    Hub::start(HubConfig {
        repos: vec![tiny_model(REPO)],
        page_size: 3,
        ..HubConfig::default()
    })
    .unwrap()
}

fn options(hub: &Hub, cache: &Path) -> Options {
    let mut o = Options::new(HfEnvironment {
        endpoint: hub.endpoint().to_owned(),
        token: None,
        token_source: None,
        cache_root: cache.to_owned(),
        offline: false,
        no_symlinks_warning: false,
        timeline: None,
    });
    o.retry = RetryPolicy {
        attempts: 5,
        base: Duration::from_millis(20),
        max_backoff: Duration::from_millis(200),
        max_wait: Duration::from_secs(5),
    };
    o.timeouts.read = Duration::from_millis(700);
    o
}

fn models() -> Vec<ModelSpec> {
    vec![ModelSpec::parse(REPO).unwrap()]
}

/// Every file of the model is in place and hashes to its etag; nothing
/// half-written is left in blobs/.
fn assert_complete(cache: &Path) {
    let repo = tiny_model(REPO);
    let c = RepoCache::new(cache, REPO);
    let commit = c.read_ref("main").expect("refs/main");
    assert_eq!(commit, repo.commit());
    for f in &repo.files {
        let data = std::fs::read(c.pointer(&commit, &f.path)).unwrap();
        assert_eq!(data, f.data.as_ref(), "{}", f.path);
        assert!(c.blob(&f.etag()).is_file());
    }
    assert_no_partial_at_final_paths(cache);
}

/// Every blob at a final path hashes to its name.
fn assert_no_partial_at_final_paths(cache: &Path) {
    let repo = tiny_model(REPO);
    let c = RepoCache::new(cache, REPO);
    let Ok(entries) = std::fs::read_dir(c.dir().join("blobs")) else {
        return;
    };
    for e in entries {
        let name = e.unwrap().file_name().to_string_lossy().into_owned();
        if name.ends_with(".incomplete") {
            continue;
        }
        let f = repo
            .files
            .iter()
            .find(|f| f.etag() == name)
            .unwrap_or_else(|| panic!("unknown blob {name}"));
        assert_eq!(
            std::fs::read(c.blob(&name)).unwrap(),
            f.data.as_ref(),
            "blob {name} is corrupt"
        );
    }
}

#[test]
fn a_run_killed_after_its_last_chunk_finishes_the_file_without_a_request_for_it() {
    // Killed after the last chunk was saved but before the rename: every
    // chunk is on disk, nothing is left to fetch, the file still needs
    // verifying and putting in place.
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    let big = tiny_model(REPO)
        .files
        .into_iter()
        .find(|f| f.path == "model.safetensors")
        .unwrap();
    let c = RepoCache::new(tmp.path(), REPO);
    let (incomplete, parts) = (c.incomplete(&big.etag()), c.parts_path(&big.etag()));
    for p in [&incomplete, &parts] {
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
    }
    std::fs::write(&incomplete, &big.data).unwrap();
    let n = big.data.len();
    std::fs::write(
        &parts,
        format!("release-kit parts v1 size={n}\n0 {n} {n}\n"),
    )
    .unwrap();
    // Only that file is selected: no other work keeps the queue going.
    let mut spec = ModelSpec::parse(REPO).unwrap();
    spec.include = vec!["model.safetensors".into()];
    hf::prefetch(&[spec], &options(&hub, tmp.path())).unwrap();
    let commit = c.read_ref("main").unwrap();
    assert_eq!(
        std::fs::read(c.pointer(&commit, "model.safetensors")).unwrap(),
        big.data.as_ref()
    );
    assert_no_partial_at_final_paths(tmp.path());
    assert!(
        !hub.records().iter().any(|r| r.uri.contains(&big.sha256())),
        "{:#?}",
        hub.records()
    );
}

#[test]
fn dropped_connections_resume_with_range() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hub.drop_next_bodies(4);
    let report = hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
    assert_eq!(report.models[0].downloaded, 7);
    assert_complete(tmp.path());
    // Cut bodies were resumed from where they broke, not restarted.
    let resumed = hub
        .records()
        .iter()
        .filter(|r| {
            r.range
                .as_deref()
                .is_some_and(|x| !x.starts_with("bytes=0-"))
        })
        .count();
    assert!(resumed > 0, "{:#?}", hub.records());
}

#[test]
fn server_error_bursts_are_retried() {
    for status in [500, 503, 502] {
        let hub = hub();
        let tmp = tempfile::tempdir().unwrap();
        hub.fail_next(status, 3);
        hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
        assert_complete(tmp.path());
        assert_eq!(
            hub.records().iter().filter(|r| r.status == status).count(),
            3
        );
    }
}

#[test]
fn persistent_server_errors_fail_clearly() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hub.fail_next(503, 1000);
    let err = hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("HTTP 503") && msg.contains("re-run later"),
        "{msg}"
    );
    assert!(msg.contains("/api/models/acme/tiny/revision/main"), "{msg}");
    assert_no_partial_at_final_paths(tmp.path());
}

#[test]
fn rate_limit_waits_as_told() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hub.rate_limit_next(2, 1);
    let t = Instant::now();
    hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
    assert!(t.elapsed() >= Duration::from_secs(2), "waited t=1 twice");
    assert_complete(tmp.path());
}

#[test]
fn rate_limit_beyond_patience_names_hf_token() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hub.rate_limit_next(1000, 3600);
    let err = hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap_err();
    assert!(matches!(
        err,
        HfError::RateLimited {
            anonymous: true,
            ..
        }
    ));
    let msg = err.to_string();
    assert!(msg.contains("HF_TOKEN") && msg.contains("429"), "{msg}");
}

#[test]
fn wrong_bytes_once_are_downloaded_again() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hub.corrupt_next_bodies(1);
    hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
    assert_complete(tmp.path());
}

#[test]
fn wrong_bytes_always_fail_naming_file_and_hashes() {
    let hub = Hub::start(HubConfig {
        repos: vec![HubRepo::new(REPO).file("config.json", &b"{}\n"[..])],
        ..HubConfig::default()
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    hub.corrupt_next_bodies(1000);
    let err = hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap_err();
    let HfError::Verify {
        path,
        expected,
        actual,
        ..
    } = &err
    else {
        panic!("{err}");
    };
    assert_eq!(path, "config.json");
    let msg = err.to_string();
    assert!(
        msg.contains(expected.as_str())
            && msg.contains(actual.as_str())
            && msg.contains("git-sha1"),
        "{msg}"
    );
    let c = RepoCache::new(tmp.path(), REPO);
    assert!(!c.blob(expected).exists(), "no blob at the final path");
    assert!(
        !c.incomplete(expected).exists(),
        "the corrupt download is removed"
    );
}

#[test]
fn stalled_bodies_time_out_and_resume() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hub.stall_next_bodies(2, Duration::from_secs(5));
    let t = Instant::now();
    hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
    assert!(
        t.elapsed() < Duration::from_secs(5),
        "did not wait the stall out"
    );
    assert_complete(tmp.path());
}

#[test]
fn slow_server_still_completes() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hub.set_delay(Duration::from_millis(150));
    hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
    assert_complete(tmp.path());
}

#[test]
fn large_files_use_parallel_ranges_on_the_cdn_without_the_token() {
    let hub = Hub::start(HubConfig {
        repos: vec![tiny_model(REPO)],
        tokens: vec!["hf_canaryLibraryToken0001".into()],
        ..HubConfig::default()
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options(&hub, tmp.path());
    o.env.token = Some("hf_canaryLibraryToken0001".into());
    hf::prefetch(&models(), &o).unwrap();
    assert_complete(tmp.path());
    let records = hub.records();
    let sha = tiny_model(REPO)
        .files
        .iter()
        .find(|f| f.path == "model.safetensors")
        .unwrap()
        .sha256();
    let ranges: Vec<_> = records
        .iter()
        .filter(|r| r.origin == Origin::Cdn && r.uri.contains(&sha))
        .collect();
    assert!(ranges.len() >= 4, "5 MB in chunks: {ranges:#?}");
    assert!(ranges.iter().all(|r| r.status == 206 && r.range.is_some()));
    // The chunks tile the file exactly: no byte asked twice.
    let mut spans: Vec<(u64, u64)> = ranges
        .iter()
        .map(|r| {
            let (a, b) = r.range.as_deref().unwrap()["bytes=".len()..]
                .split_once('-')
                .unwrap();
            (a.parse().unwrap(), b.parse::<u64>().unwrap() + 1)
        })
        .collect();
    spans.sort();
    assert_eq!(spans.first().unwrap().0, 0);
    assert_eq!(spans.last().unwrap().1, 5_000_000);
    assert!(spans.windows(2).all(|w| w[0].1 == w[1].0), "{spans:?}");
    // One request to the Hub for it: its redirect gave every chunk the CDN.
    let resolves = records
        .iter()
        .filter(|r| r.origin == Origin::Hub && r.uri.ends_with("/model.safetensors"))
        .count();
    assert_eq!(resolves, 1, "{records:#?}");
    assert!(
        records
            .iter()
            .all(|r| (r.origin == Origin::Cdn) == r.authorization.is_none()),
        "{records:#?}"
    );
}

#[test]
fn a_server_ignoring_range_with_short_bodies_fails_instead_of_looping() {
    // Every body stops half-way and every Range is ignored: each retry
    // re-reads the same first half. That is no progress, so the download
    // must give up after the retry budget instead of looping forever.
    let hub = Hub::start(HubConfig {
        repos: vec![HubRepo::new(REPO).file("tokenizer.json", testkit::hub::noise(200_000, 9))],
        ..HubConfig::default()
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    hub.drop_next_bodies(1_000_000);
    hub.ignore_range_next(1_000_000);
    let opts = options(&hub, tmp.path());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(hf::prefetch(&models(), &opts).map(|_| ()));
    });
    let result = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("hf-prefetch never ended against a server ignoring Range");
    let err = result.unwrap_err();
    assert!(matches!(err, HfError::Network { .. }), "{err}");
    let files = hub
        .records()
        .iter()
        .filter(|r| r.uri.contains("tokenizer.json"))
        .count();
    assert!(files <= 12, "{files} file requests");
    assert_no_partial_at_final_paths(tmp.path());
}

#[test]
fn one_metadata_call_lists_the_files() {
    let hub = hub();
    let tmp = tempfile::tempdir().unwrap();
    hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
    assert_complete(tmp.path());
    let api: Vec<String> = hub
        .records()
        .iter()
        .filter(|r| r.uri.starts_with("/api/models/"))
        .map(|r| r.uri.clone())
        .collect();
    assert_eq!(api, ["/api/models/acme/tiny/revision/main?blobs=true"]);
}

#[test]
fn a_hub_without_the_blobs_listing_falls_back_to_the_tree() {
    let hub = Hub::start(HubConfig {
        repos: vec![tiny_model(REPO)],
        page_size: 3,
        blobs_listing: false,
        ..HubConfig::default()
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    hf::prefetch(&models(), &options(&hub, tmp.path())).unwrap();
    assert_complete(tmp.path());
    let api = hub
        .records()
        .iter()
        .filter(|r| r.uri.starts_with("/api/models/acme/tiny/tree/"))
        .count();
    assert_eq!(api, 3, "9 entries (7 files, 2 folders) in pages of 3");
}

#[test]
fn every_connection_works_until_the_last_chunk() {
    // 4 MB/s per connection, 60 MB/s in all: a 16 MB file in chunks over
    // up to 8 connections. When the last chunk ends, no connection was
    // idle long while chunks were waiting: each one's last chunk ends
    // near the end.
    let hub = Hub::start(HubConfig {
        repos: vec![HubRepo::new(REPO).lfs_file("big.bin", testkit::hub::noise(16_000_000, 5))],
        shaping: testkit::hub::Shaping {
            rtt: Duration::from_millis(10),
            per_connection: Some(4_000_000),
            total: Some(60_000_000),
        },
        ..HubConfig::default()
    })
    .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let mut o = options(&hub, tmp.path());
    o.tuning.connections = 8;
    o.tuning.connections_per_file = 8;
    o.timeouts.read = Duration::from_secs(5);
    hf::prefetch(&models(), &o).unwrap();
    let chunks: Vec<_> = hub
        .records()
        .into_iter()
        .filter(|r| r.origin == Origin::Cdn)
        .collect();
    let end = chunks.iter().filter_map(|r| r.ended).max().unwrap();
    let mut last_per_conn = std::collections::BTreeMap::new();
    for r in &chunks {
        let e = r.ended.unwrap();
        let last = last_per_conn.entry(r.conn).or_insert(e);
        *last = (*last).max(e);
    }
    assert!(last_per_conn.len() >= 4, "{last_per_conn:?}");
    for (conn, last) in &last_per_conn {
        // The longest a connection may idle at the end: about one chunk
        // of the smallest size at its own speed.
        assert!(
            end - *last < Duration::from_millis(400),
            "connection {conn} ended {:?} before the last chunk",
            end - *last
        );
    }
}
