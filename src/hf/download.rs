//! Downloading one blob: streamed to `blobs/{etag}.incomplete` (large
//! files in chunks, see [`super::queue`]), resumed across runs, verified,
//! renamed into place under a per-blob lock.

use std::fs::File;
use std::io::{Read as _, Write as _};
use std::path::Path;
use std::time::Duration;

use crate::net::{Response, StatusCode, Url};
use sha1::Digest as _;

use super::api::{HubClient, Target};
use super::cache::{RepoCache, RepoFile};
use super::error::HfError;
use super::progress::Progress;

/// Connections a prefetch may open at once unless told otherwise
/// (`--connections`): enough that a link of a few hundred MB/s stays full
/// while some connections wait a round trip for their next chunk; fewer
/// are opened when adding one no longer adds throughput.
pub const DEFAULT_CONNECTIONS: u16 = 32;

/// How downloads are spread over connections.
#[derive(Clone, Debug)]
pub struct Tuning {
    /// The most connections open at once, all files together (fewer are
    /// opened when adding one no longer adds throughput).
    pub connections: usize,
    /// The most connections one file's chunks are sized for.
    pub connections_per_file: usize,
    /// Files at least this big are fetched in chunks.
    pub split_threshold: u64,
    /// The smallest chunk (the last ones of a file).
    pub min_segment: u64,
    /// The largest chunk (the first ones of a big file).
    pub max_chunk: u64,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            connections: usize::from(DEFAULT_CONNECTIONS),
            connections_per_file: usize::from(DEFAULT_CONNECTIONS),
            split_threshold: 4 << 20,
            min_segment: 512 << 10,
            max_chunk: 8 << 20,
        }
    }
}

/// What the download layer shares.
pub(crate) struct Shared {
    pub client: HubClient,
    pub tuning: Tuning,
    pub progress: Progress,
    /// RELEASE_KIT_HF_TIMELINE's record.
    pub timeline: Option<super::timeline::Timeline>,
}

/// One file to put in place.
#[derive(Clone)]
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

/// Puts one file in place over one connection: blob (downloaded if
/// needed) and snapshot link.
pub(crate) async fn fetch_file(shared: &Shared, job: &FileJob) -> Result<Fetched, HfError> {
    let etag = job.file.etag().to_owned();
    let blob = job.cache.blob(&etag);
    if blob_ok(&blob, job.file.size) {
        shared.progress.file_skipped(job.file.size);
        return link(job).map(|()| Fetched::Present);
    }
    let _lock = lock(&job.cache.lock_path(&etag)).await?;
    if blob_ok(&blob, job.file.size) {
        // Another run finished it while we waited.
        shared.progress.file_skipped(job.file.size);
        return link(job).map(|()| Fetched::Present);
    }
    let incomplete = job.cache.incomplete(&etag);
    if let Some(dir) = incomplete.parent() {
        std::fs::create_dir_all(dir).map_err(|e| HfError::io(dir, e))?;
    }
    let mut result = download_stream(shared, job, &incomplete, true).await;
    if let Err(HfError::Verify { .. }) = &result {
        // Bytes can be damaged in transit; one clean attempt from zero.
        let _ = std::fs::remove_file(&incomplete);
        result = download_stream(shared, job, &incomplete, false).await;
    }
    let fetched = match result {
        Ok(f) => f,
        Err(e) => {
            if matches!(e, HfError::Verify { .. }) {
                let _ = std::fs::remove_file(&incomplete);
            }
            return Err(e);
        }
    };
    std::fs::rename(&incomplete, &blob).map_err(|e| HfError::io(&blob, e))?;
    shared.progress.file_done();
    link(job).map(|()| fetched)
}

/// The snapshot's pointer to the blob.
pub(crate) fn link(job: &FileJob) -> Result<(), HfError> {
    job.cache
        .link(&job.commit, &job.file)
        .map_err(|e| HfError::io(job.cache.pointer(&job.commit, &job.file.path), e))
}

pub(crate) fn blob_ok(blob: &Path, size: u64) -> bool {
    std::fs::metadata(blob).is_ok_and(|m| m.is_file() && m.len() == size)
}

/// Takes the per-blob lock (the file huggingface_hub's `filelock` uses),
/// waiting for another process that holds it.
pub(crate) async fn lock(path: &Path) -> Result<File, HfError> {
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

/// The hasher a file is verified with.
pub(crate) enum Hasher {
    Sha256(sha2::Sha256),
    GitSha1(sha1::Sha1),
}

impl Hasher {
    pub fn for_file(file: &RepoFile) -> Hasher {
        if file.lfs_sha256.is_some() {
            Hasher::Sha256(sha2::Sha256::new())
        } else {
            let mut h = sha1::Sha1::new();
            h.update(format!("blob {}\0", file.size).as_bytes());
            Hasher::GitSha1(h)
        }
    }

    pub fn update(&mut self, bytes: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(bytes),
            Hasher::GitSha1(h) => h.update(bytes),
        }
    }

    pub(crate) fn algo(&self) -> &'static str {
        match self {
            Hasher::Sha256(_) => "sha256",
            Hasher::GitSha1(_) => "git-sha1",
        }
    }

    pub(crate) fn finish(self) -> String {
        let bytes: Vec<u8> = match self {
            Hasher::Sha256(h) => h.finalize().to_vec(),
            Hasher::GitSha1(h) => h.finalize().to_vec(),
        };
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }
}

pub(crate) fn verify(job: &FileJob, hasher: Hasher) -> Result<(), HfError> {
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

pub(crate) fn target(job: &FileJob) -> Target<'_> {
    Target {
        repo: &job.repo,
        revision: &job.commit,
        path: Some(&job.file.path),
    }
}

pub(crate) fn check_headers(
    job: &FileJob,
    headers: &super::api::FileHeaders,
) -> Result<(), HfError> {
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

/// A file written front to back, with the hash of what is in it.
struct Sink {
    file: std::io::BufWriter<File>,
    path: std::path::PathBuf,
    have: u64,
    hasher: Hasher,
}

impl Sink {
    /// Opens `path`, keeping (and hashing) what an earlier run left when
    /// `resume` and it is not longer than the file.
    async fn open(path: &Path, job: &FileJob, resume: bool) -> Result<Sink, HfError> {
        let size = job.file.size;
        let on_disk = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        let have = if resume && on_disk <= size {
            on_disk
        } else {
            0
        };
        let mut hasher = Hasher::for_file(&job.file);
        if have > 0 {
            hasher = hash_prefix(path, have, hasher).await?;
        }
        let file = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(false)
            .open(path)
            .map_err(|e| HfError::io(path, e))?;
        let mut sink = Sink {
            file: std::io::BufWriter::with_capacity(256 << 10, file),
            path: path.to_owned(),
            have: 0,
            hasher,
        };
        sink.truncate(have)?;
        Ok(sink)
    }

    /// Keeps the first `len` bytes only, the write position after them.
    fn truncate(&mut self, len: u64) -> Result<(), HfError> {
        use std::io::Seek as _;
        let io = |e| HfError::io(&self.path, e);
        self.file.flush().map_err(io)?;
        self.file.get_ref().set_len(len).map_err(io)?;
        self.file.seek(std::io::SeekFrom::Start(len)).map_err(io)?;
        self.have = len;
        Ok(())
    }

    fn write(&mut self, bytes: &[u8]) -> Result<(), HfError> {
        self.file
            .write_all(bytes)
            .map_err(|e| HfError::io(&self.path, e))?;
        self.hasher.update(bytes);
        self.have += bytes.len() as u64;
        Ok(())
    }
}

/// One connection, start to end (resuming from what is on disk).
async fn download_stream(
    shared: &Shared,
    job: &FileJob,
    incomplete: &Path,
    resume: bool,
) -> Result<Fetched, HfError> {
    let size = job.file.size;
    let mut sink = Sink::open(incomplete, job, resume).await?;
    let resumed_from = sink.have;
    shared.progress.file_started(size, resumed_from);
    let policy = *shared.client.retry_policy();
    let mut failures = 0;
    let mut furthest = sink.have;
    let mut direct: Option<Url> = None;
    while sink.have < size {
        let range = (sink.have > 0).then_some((sink.have, None));
        let opened = shared
            .client
            .open(&target(job), direct.as_ref(), range)
            .await?;
        check_headers(job, &opened.headers)?;
        direct = Some(opened.final_url.clone());
        let mut resp = opened.response;
        if sink.have > 0 && resp.status() != StatusCode::PARTIAL_CONTENT {
            // The server ignored Range: start over.
            shared.progress.rewind(sink.have);
            sink.truncate(0)?;
            sink.hasher = Hasher::for_file(&job.file);
        }
        let broke = read_body(shared, job, &mut sink, &mut resp).await?;
        sink.file.flush().map_err(|e| HfError::io(incomplete, e))?;
        // Progress is only what goes beyond the furthest point reached:
        // re-reading bytes already had (a server ignoring Range) is not.
        let progressed = sink.have > furthest;
        furthest = furthest.max(sink.have);
        if sink.have < size {
            short_read(shared, job, &policy, &mut failures, progressed, broke).await?;
        }
    }
    sink.file.flush().map_err(|e| HfError::io(incomplete, e))?;
    verify(job, sink.hasher)?;
    Ok(Fetched::Downloaded {
        bytes: size - resumed_from,
        resumed_from,
    })
}

/// Reads one answer into `sink`; `Ok(Some(e))` when it broke off.
async fn read_body(
    shared: &Shared,
    job: &FileJob,
    sink: &mut Sink,
    resp: &mut Response,
) -> Result<Option<crate::net::NetError>, HfError> {
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                if sink.have + chunk.len() as u64 > job.file.size {
                    return Err(too_long(job));
                }
                sink.write(&chunk)?;
                shared.progress.add(chunk.len() as u64);
            }
            Ok(None) => return Ok(None),
            Err(e) => return Ok(Some(e)),
        }
    }
}

/// A body that ended before its last byte: a body that made progress
/// resets the count of failures in a row; after `policy.attempts` of them
/// the download fails, otherwise it backs off before asking again.
pub(crate) async fn short_read(
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

pub(crate) fn too_long(job: &FileJob) -> HfError {
    HfError::Protocol {
        what: format!("{}: {}", job.repo, job.file.path),
        detail: format!("more than the {} bytes the tree listed", job.file.size),
    }
}

/// Writes all of `buf` at `offset` without moving a shared cursor, so
/// that several ranges write to one file at once.
#[cfg(unix)]
pub(crate) fn write_at(file: &File, buf: &[u8], offset: u64) -> std::io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, buf, offset)
}

/// Writes all of `buf` at `offset` (`seek_write` may write less than asked).
#[cfg(windows)]
pub(crate) fn write_at(file: &File, mut buf: &[u8], mut offset: u64) -> std::io::Result<()> {
    while !buf.is_empty() {
        match std::os::windows::fs::FileExt::seek_write(file, buf, offset) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => {
                buf = &buf[n..];
                offset += n as u64;
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
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

/// Pseudo-random bytes for tests (xorshift).
#[cfg(test)]
pub(crate) fn tests_noise(len: usize) -> Vec<u8> {
    let mut x = 0x9E37_79B9_7F4A_7C15u64;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
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
        write_at(&file, b"world!", 6).unwrap();
        write_at(&file, b"hello ", 0).unwrap();
        write_at(&file, b"W", 6).unwrap();
        drop(file);
        assert_eq!(std::fs::read(&path).unwrap(), b"hello World!");
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
