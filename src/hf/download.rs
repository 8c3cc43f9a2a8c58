//! Downloading one blob: streamed to `blobs/{etag}.incomplete`, in parallel
//! byte ranges for large files, resumed across runs, verified, renamed into
//! place under a per-blob lock.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::net::{StatusCode, Url};
use sha1::Digest as _;
use tokio::sync::Semaphore;

use super::api::{HubClient, Target};
use super::cache::{RepoCache, RepoFile, atomic_write};
use super::error::HfError;
use super::progress::Progress;

/// How downloads are spread over connections.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// Connections open at once, all files together.
    pub connections: usize,
    /// Byte ranges fetched at once for one large file.
    pub connections_per_file: usize,
    /// Files at least this big are fetched in parallel ranges.
    pub split_threshold: u64,
    /// The smallest range worth its own connection.
    pub min_segment: u64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            connections: 16,
            connections_per_file: 16,
            split_threshold: 4 << 20,
            min_segment: 1 << 20,
        }
    }
}

/// What the download layer shares.
pub(crate) struct Shared {
    pub client: HubClient,
    pub permits: Semaphore,
    pub tuning: Tuning,
    pub progress: Progress,
}

/// One file to put in place.
pub(crate) struct FileJob {
    pub repo: String,
    pub commit: String,
    pub file: RepoFile,
    pub cache: RepoCache,
}

/// What happened to a file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fetched {
    /// The blob was already there (another run, another snapshot).
    Present,
    /// Downloaded; `resumed_from` bytes were already on disk.
    Downloaded { bytes: u64, resumed_from: u64 },
}

/// Puts one file in place: blob (downloaded if needed) and snapshot link.
pub(crate) async fn fetch_file(shared: &Shared, job: &FileJob) -> Result<Fetched, HfError> {
    let etag = job.file.etag().to_owned();
    let blob = job.cache.blob(&etag);
    let link = |r: Fetched| {
        job.cache
            .link(&job.commit, &job.file)
            .map_err(|e| HfError::io(job.cache.pointer(&job.commit, &job.file.path), e))
            .map(|()| r)
    };
    if blob_ok(&blob, job.file.size) {
        shared.progress.file_skipped(job.file.size);
        return link(Fetched::Present);
    }
    let lock_path = job.cache.lock_path(&etag);
    let _lock = lock(&lock_path).await?;
    if blob_ok(&blob, job.file.size) {
        // Another run finished it while we waited.
        shared.progress.file_skipped(job.file.size);
        return link(Fetched::Present);
    }
    let incomplete = job.cache.incomplete(&etag);
    if let Some(dir) = incomplete.parent() {
        std::fs::create_dir_all(dir).map_err(|e| HfError::io(dir, e))?;
    }
    let parts = job.cache.parts_path(&etag);
    let mut result = download(shared, job, &incomplete, &parts, true).await;
    if let Err(HfError::Verify { .. }) = &result {
        // Bytes can be damaged in transit; one clean attempt from zero.
        discard(&incomplete, &parts);
        result = download(shared, job, &incomplete, &parts, false).await;
    }
    let fetched = match result {
        Ok(f) => f,
        Err(e) => {
            if matches!(e, HfError::Verify { .. }) {
                discard(&incomplete, &parts);
            }
            return Err(e);
        }
    };
    std::fs::rename(&incomplete, &blob).map_err(|e| HfError::io(&blob, e))?;
    let _ = std::fs::remove_file(&parts);
    shared.progress.file_done();
    link(fetched)
}

fn blob_ok(blob: &Path, size: u64) -> bool {
    std::fs::metadata(blob).is_ok_and(|m| m.is_file() && m.len() == size)
}

fn discard(incomplete: &Path, parts: &Path) {
    let _ = std::fs::remove_file(incomplete);
    let _ = std::fs::remove_file(parts);
}

/// Takes the per-blob lock (the file huggingface_hub's `filelock` uses),
/// waiting for another process that holds it.
async fn lock(path: &Path) -> Result<File, HfError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| HfError::io(dir, e))?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| HfError::io(path, e))?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => return Err(HfError::io(path, e)),
        }
    }
}

async fn download(
    shared: &Shared,
    job: &FileJob,
    incomplete: &Path,
    parts: &Path,
    resume: bool,
) -> Result<Fetched, HfError> {
    let size = job.file.size;
    let t = &shared.tuning;
    let segments = if size >= t.split_threshold && t.connections_per_file > 1 {
        (size.div_ceil(t.min_segment.max(1)) as usize).clamp(1, t.connections_per_file)
    } else {
        1
    };
    if segments > 1 {
        download_ranges(shared, job, incomplete, parts, segments, resume).await
    } else {
        download_stream(shared, job, incomplete, resume).await
    }
}

/// The hasher a file is verified with.
enum Hasher {
    Sha256(sha2::Sha256),
    GitSha1(sha1::Sha1),
}

impl Hasher {
    fn for_file(file: &RepoFile) -> Hasher {
        if file.lfs_sha256.is_some() {
            Hasher::Sha256(sha2::Sha256::new())
        } else {
            let mut h = sha1::Sha1::new();
            h.update(format!("blob {}\0", file.size).as_bytes());
            Hasher::GitSha1(h)
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::GitSha1(h) => h.update(bytes),
        }
    }

    fn algo(&self) -> &'static str {
        match self {
            Hasher::Sha256(_) => "sha256",
            Hasher::GitSha1(_) => "git-sha1",
        }
    }

    fn finish(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::GitSha1(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

fn verify(job: &FileJob, hasher: Hasher) -> Result<(), HfError> {
    let algo = hasher.algo();
    let actual = hasher.finish();
    let expected = job.file.etag();
    if actual != expected {
        return Err(HfError::Verify {
            repo: job.repo.clone(),
            path: job.file.path.clone(),
            algo,
            expected: expected.to_owned(),
            actual,
        });
    }
    Ok(())
}

/// Hashes the first `len` bytes of `path` on a blocking thread.
async fn hash_prefix(path: &Path, len: u64, mut hasher: Hasher) -> Result<Hasher, HfError> {
    let path = path.to_owned();
    tokio::task::spawn_blocking(move || {
        let mut f = File::open(&path).map_err(|e| HfError::io(&path, e))?;
        let mut buf = vec![0u8; 1 << 20];
        let mut left = len;
        while left > 0 {
            let want = buf.len().min(left as usize);
            let n = f
                .read(&mut buf[..want])
                .map_err(|e| HfError::io(&path, e))?;
            if n == 0 {
                return Err(HfError::io(
                    &path,
                    std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "file shorter than expected",
                    ),
                ));
            }
            hasher.update(&buf[..n]);
            left -= n as u64;
        }
        Ok(hasher)
    })
    .await
    .expect("hashing thread")
}

fn target(job: &FileJob) -> Target<'_> {
    Target {
        repo: &job.repo,
        revision: &job.commit,
        path: Some(&job.file.path),
    }
}

fn check_headers(job: &FileJob, headers: &super::api::FileHeaders) -> Result<(), HfError> {
    if let Some(etag) = &headers.etag
        && etag.len() >= 40
        && etag != job.file.etag()
    {
        return Err(HfError::Protocol {
            what: format!("{}@{}: {}", job.repo, job.commit, job.file.path),
            detail: format!(
                "the resolve answer names blob {etag} but the tree listed {}",
                job.file.etag()
            ),
        });
    }
    Ok(())
}

/// One connection, start to end (resuming from what is on disk).
async fn download_stream(
    shared: &Shared,
    job: &FileJob,
    incomplete: &Path,
    resume: bool,
) -> Result<Fetched, HfError> {
    let size = job.file.size;
    if size == 0 {
        File::create(incomplete).map_err(|e| HfError::io(incomplete, e))?;
        verify(job, Hasher::for_file(&job.file))?;
        return Ok(Fetched::Downloaded {
            bytes: 0,
            resumed_from: 0,
        });
    }
    let mut have = if resume {
        std::fs::metadata(incomplete).map(|m| m.len()).unwrap_or(0)
    } else {
        0
    };
    if have > size {
        have = 0;
    }
    let resumed_from = have;
    let mut hasher = Hasher::for_file(&job.file);
    if have > 0 {
        hasher = hash_prefix(incomplete, have, hasher).await?;
    }
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(incomplete)
        .map_err(|e| HfError::io(incomplete, e))?;
    file.set_len(have).map_err(|e| HfError::io(incomplete, e))?;
    let mut file = std::io::BufWriter::with_capacity(256 << 10, {
        use std::io::Seek as _;
        file.seek(std::io::SeekFrom::End(0))
            .map_err(|e| HfError::io(incomplete, e))?;
        file
    });
    shared.progress.file_started(size, have);
    let _permit = shared.permits.acquire().await.expect("semaphore open");
    let policy = *shared.client.retry_policy();
    let mut failures = 0;
    let mut direct: Option<Url> = None;
    while have < size {
        let range = (have > 0).then_some((have, None));
        let opened = shared
            .client
            .open(&target(job), direct.as_ref(), range)
            .await?;
        check_headers(job, &opened.headers)?;
        direct = Some(opened.final_url.clone());
        let mut resp = opened.response;
        if have > 0 && resp.status() != StatusCode::PARTIAL_CONTENT {
            // The server ignored Range: start over.
            file.flush().map_err(|e| HfError::io(incomplete, e))?;
            file.get_ref()
                .set_len(0)
                .map_err(|e| HfError::io(incomplete, e))?;
            use std::io::Seek as _;
            file.seek(std::io::SeekFrom::Start(0))
                .map_err(|e| HfError::io(incomplete, e))?;
            shared.progress.rewind(have);
            have = 0;
            hasher = Hasher::for_file(&job.file);
        }
        let mut progressed = false;
        let broke = loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    if have + chunk.len() as u64 > size {
                        return Err(too_long(job));
                    }
                    file.write_all(&chunk)
                        .map_err(|e| HfError::io(incomplete, e))?;
                    hasher.update(&chunk);
                    have += chunk.len() as u64;
                    shared.progress.add(chunk.len() as u64);
                    progressed = true;
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        file.flush().map_err(|e| HfError::io(incomplete, e))?;
        if have < size {
            short_read(shared, job, &policy, &mut failures, progressed, broke).await?;
        }
    }
    drop(file);
    verify(job, hasher)?;
    Ok(Fetched::Downloaded {
        bytes: size - resumed_from,
        resumed_from,
    })
}

/// A body that ended before its last byte: a body that made progress
/// resets the count of failures in a row; after `policy.attempts` of them
/// the download fails, otherwise it backs off before asking again.
async fn short_read(
    shared: &Shared,
    job: &FileJob,
    policy: &super::api::RetryPolicy,
    failures: &mut u32,
    progressed: bool,
    broke: Option<crate::net::NetError>,
) -> Result<(), HfError> {
    if progressed {
        *failures = 0;
    }
    *failures += 1;
    if *failures >= policy.attempts {
        return Err(HfError::Network {
            what: format!("{}: {}", job.repo, job.file.path),
            reason: broke
                .map(|e| e.to_string())
                .unwrap_or_else(|| "the answer ended early".into()),
            attempts: *failures,
            endpoint: shared.client.endpoint().to_owned(),
        });
    }
    tokio::time::sleep(policy.backoff(*failures)).await;
    Ok(())
}

fn too_long(job: &FileJob) -> HfError {
    HfError::Protocol {
        what: format!("{}: {}", job.repo, job.file.path),
        detail: format!("more than the {} bytes the tree listed", job.file.size),
    }
}

/// Progress of a parallel download: `[start, end)` ranges and how much of
/// each is on disk, saved so that a later run resumes.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Parts {
    size: u64,
    segments: Vec<(u64, u64, u64)>, // start, end, done
}

impl Parts {
    fn new(size: u64, n: usize) -> Parts {
        let len = size.div_ceil(n as u64);
        let segments = (0..n as u64)
            .map(|i| (i * len, ((i + 1) * len).min(size), 0))
            .filter(|(s, e, _)| s < e)
            .collect();
        Parts { size, segments }
    }

    fn parse(text: &str, size: u64) -> Option<Parts> {
        let mut lines = text.lines();
        let header = lines.next()?;
        if header
            .strip_prefix("release-kit parts v1 size=")?
            .parse::<u64>()
            .ok()?
            != size
        {
            return None;
        }
        let mut segments = Vec::new();
        for l in lines {
            let mut it = l.split_whitespace().map(|x| x.parse::<u64>());
            let (Some(Ok(s)), Some(Ok(e)), Some(Ok(d))) = (it.next(), it.next(), it.next()) else {
                return None;
            };
            if s >= e || d > e - s {
                return None;
            }
            segments.push((s, e, d));
        }
        // The segments must tile the file exactly.
        let mut at = 0;
        for (s, e, _) in &segments {
            if *s != at {
                return None;
            }
            at = *e;
        }
        (at == size).then_some(Parts { size, segments })
    }

    fn render(&self) -> String {
        let mut out = format!("release-kit parts v1 size={}\n", self.size);
        for (s, e, d) in &self.segments {
            out.push_str(&format!("{s} {e} {d}\n"));
        }
        out
    }

    fn done(&self) -> u64 {
        self.segments.iter().map(|(_, _, d)| d).sum()
    }
}

struct RangeState {
    parts: Mutex<Parts>,
    parts_path: PathBuf,
    file: File,
    direct: Mutex<Option<Url>>,
}

impl RangeState {
    fn save(&self) {
        let text = self.parts.lock().expect("parts lock").render();
        // Best effort: losing it only costs re-downloading some bytes.
        let _ = atomic_write(&self.parts_path, text.as_bytes());
    }
}

async fn download_ranges(
    shared: &Shared,
    job: &FileJob,
    incomplete: &Path,
    parts_path: &Path,
    n: usize,
    resume: bool,
) -> Result<Fetched, HfError> {
    let size = job.file.size;
    let on_disk = std::fs::metadata(incomplete).map(|m| m.len()).ok();
    let saved = if resume && on_disk == Some(size) {
        std::fs::read_to_string(parts_path)
            .ok()
            .and_then(|t| Parts::parse(&t, size))
    } else {
        None
    };
    let parts = saved.unwrap_or_else(|| Parts::new(size, n));
    let resumed_from = parts.done();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(incomplete)
        .map_err(|e| HfError::io(incomplete, e))?;
    file.set_len(size).map_err(|e| HfError::io(incomplete, e))?;
    let state = Arc::new(RangeState {
        parts: Mutex::new(parts.clone()),
        parts_path: parts_path.to_owned(),
        file,
        direct: Mutex::new(None),
    });
    state.save();
    shared.progress.file_started(size, resumed_from);
    let todo: Vec<usize> = (0..parts.segments.len())
        .filter(|&i| {
            let (s, e, d) = parts.segments[i];
            s + d < e
        })
        .collect();
    // The first range goes through resolve; its answer tells the CDN URL
    // the other ranges then use directly (saving a redirect each), so they
    // start once it has answered.
    let (ready_tx, ready_rx) = tokio::sync::watch::channel(false);
    let first = todo.first().copied();
    let state = &state;
    let results = join_all(todo.iter().map(|&i| {
        let ready_tx = (Some(i) == first).then(|| ready_tx.clone());
        let mut ready_rx = ready_rx.clone();
        async move {
            if ready_tx.is_none() {
                let _ = ready_rx.wait_for(|r| *r).await;
            }
            fetch_segment(shared, job, state, i, ready_tx).await
        }
    }))
    .await;
    state.save();
    results.into_iter().collect::<Result<Vec<()>, HfError>>()?;
    let hasher = hash_prefix(incomplete, size, Hasher::for_file(&job.file)).await?;
    verify(job, hasher)?;
    Ok(Fetched::Downloaded {
        bytes: size - resumed_from,
        resumed_from,
    })
}

/// Runs futures concurrently on this task; results in input order.
pub(crate) async fn join_all<F, T>(futs: impl Iterator<Item = F>) -> Vec<T>
where
    F: std::future::Future<Output = T>,
{
    let mut set: Vec<std::pin::Pin<Box<F>>> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<T>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter()
        .map(|v| v.expect("every future finished"))
        .collect()
}

/// Writes `buf` at byte `at` of `file` without moving a shared cursor, so
/// ranges fetched in parallel write into one file.
#[cfg(unix)]
fn write_all_at(file: &std::fs::File, buf: &[u8], at: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, at)
}

/// Windows has no `pwrite`: `seek_write` writes at an offset (it moves the
/// handle's cursor, which no caller here relies on) and may write less.
#[cfg(windows)]
fn write_all_at(file: &std::fs::File, mut buf: &[u8], mut at: u64) -> std::io::Result<()> {
    use std::os::windows::fs::FileExt as _;
    while !buf.is_empty() {
        match file.seek_write(buf, at) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                at += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

async fn fetch_segment(
    shared: &Shared,
    job: &FileJob,
    state: &RangeState,
    i: usize,
    ready: Option<tokio::sync::watch::Sender<bool>>,
) -> Result<(), HfError> {
    // Whatever happens to this range, release the ones waiting for it.
    struct Release(Option<tokio::sync::watch::Sender<bool>>);
    impl Drop for Release {
        fn drop(&mut self) {
            if let Some(tx) = self.0.take() {
                let _ = tx.send(true);
            }
        }
    }
    let mut release = Release(ready);
    let _permit = shared.permits.acquire().await.expect("semaphore open");
    let policy = *shared.client.retry_policy();
    let (start, end, mut done) = state.parts.lock().expect("parts lock").segments[i];
    let mut failures = 0;
    let mut since_save = 0u64;
    let mut saved_at = std::time::Instant::now();
    while start + done < end {
        let direct = state.direct.lock().expect("direct lock").clone();
        let range = (start + done, Some(end - 1));
        let opened = shared
            .client
            .open(&target(job), direct.as_ref(), Some(range))
            .await?;
        check_headers(job, &opened.headers)?;
        let mut resp = opened.response;
        if resp.status() != StatusCode::PARTIAL_CONTENT {
            return Err(HfError::Protocol {
                what: format!("{}: {}", job.repo, job.file.path),
                detail: format!(
                    "asked for a byte range, got HTTP {} (the server must support Range)",
                    resp.status().as_u16()
                ),
            });
        }
        *state.direct.lock().expect("direct lock") = Some(opened.final_url);
        if let Some(tx) = release.0.take() {
            let _ = tx.send(true);
        }
        let mut progressed = false;
        let broke = loop {
            match resp.chunk().await {
                Ok(Some(chunk)) => {
                    let at = start + done;
                    if at + chunk.len() as u64 > end {
                        return Err(too_long(job));
                    }
                    write_all_at(&state.file, &chunk, at)
                        .map_err(|e| HfError::io(&state.parts_path, e))?;
                    done += chunk.len() as u64;
                    state.parts.lock().expect("parts lock").segments[i].2 = done;
                    shared.progress.add(chunk.len() as u64);
                    progressed = true;
                    since_save += chunk.len() as u64;
                    // Saved often enough that a killed run loses little,
                    // rarely enough to cost nothing at full speed.
                    if since_save >= 4 << 20 || saved_at.elapsed() >= Duration::from_millis(500) {
                        since_save = 0;
                        saved_at = std::time::Instant::now();
                        state.save();
                    }
                }
                Ok(None) => break None,
                Err(e) => break Some(e),
            }
        };
        if start + done < end {
            state.save();
            short_read(shared, job, &policy, &mut failures, progressed, broke).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positioned_writes_land_at_their_offsets_in_any_order() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("blob.incomplete");
        let file = std::fs::File::create(&path).unwrap();
        file.set_len(12).unwrap();
        write_all_at(&file, b"world!", 6).unwrap();
        write_all_at(&file, b"hello ", 0).unwrap();
        write_all_at(&file, b"W", 6).unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello World!");
    }

    #[test]
    fn parts_tile_and_round_trip() {
        let p = Parts::new(10, 3);
        assert_eq!(p.segments, vec![(0, 4, 0), (4, 8, 0), (8, 10, 0)]);
        let mut q = p.clone();
        q.segments[1].2 = 2;
        let back = Parts::parse(&q.render(), 10).unwrap();
        assert_eq!(back, q);
        assert_eq!(back.done(), 2);
        assert!(Parts::parse(&q.render(), 11).is_none(), "other size");
        assert!(Parts::parse("release-kit parts v1 size=10\n0 4 0\n5 10 0\n", 10).is_none());
        assert!(Parts::parse("release-kit parts v1 size=10\n0 4 9\n4 10 0\n", 10).is_none());
    }

    #[test]
    fn git_blob_sha1() {
        // `git hash-object` of "hello\n".
        let file = RepoFile {
            path: "x".into(),
            size: 6,
            blob_id: String::new(),
            lfs_sha256: None,
        };
        let mut h = Hasher::for_file(&file);
        h.update(b"hello\n");
        assert_eq!(h.finish(), "ce013625030ba8dba906f756967f9e9ca394464a");
    }
}
