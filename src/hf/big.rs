//! A large file being downloaded in chunks: its `.incomplete` file, its
//! chunk list (saved for resuming), and its hash, computed as the
//! contiguous start of the file grows (see [`super::queue`]).

use std::fs::File;
use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

use crate::net::Url;

use super::cache::atomic_write;
use super::download::{self, FileJob, Hasher, Shared, write_at};
use super::error::HfError;
use super::parts::Parts;

/// A large file being downloaded in chunks.
pub(crate) struct Big {
    pub(crate) idx: usize,
    pub(crate) job: FileJob,
    pub(crate) incomplete: PathBuf,
    pub(crate) parts_path: PathBuf,
    /// `None` once the download is over (a file must be closed before
    /// Windows renames it).
    pub(crate) file: RwLock<Option<File>>,
    /// The blob's lock, held until the file is in place.
    pub(crate) _lock: File,
    pub(crate) parts: Mutex<Parts>,
    pub(crate) save_lock: Mutex<()>,
    pub(crate) hash: Mutex<Hashing>,
    /// A thread is hashing (see [`Big::hash_ahead`]).
    pub(crate) hashing: std::sync::atomic::AtomicBool,
    pub(crate) url: Mutex<Option<Url>>,
    pub(crate) resumed_from: u64,
}

/// The hash of the contiguous start of the file.
pub(crate) struct Hashing {
    /// `None` once taken for the verification.
    pub(crate) hasher: Option<Hasher>,
    /// The bytes hashed so far (the reader's position).
    pub(crate) at: u64,
    pub(crate) reader: Option<File>,
}

/// Takes the blob's lock and sets up the `.incomplete` file and its chunk
/// list (the saved one when resuming); `None` when the blob is in place.
pub(crate) async fn prepare(
    shared: &Shared,
    job: &FileJob,
    idx: usize,
) -> Result<Option<Big>, HfError> {
    let etag = job.file.etag().to_owned();
    let blob = job.cache.blob(&etag);
    let size = job.file.size;
    if download::blob_ok(&blob, size) {
        shared.progress.file_skipped(size);
        return download::link(job).map(|()| None);
    }
    let lock = download::lock(&job.cache.lock_path(&etag)).await?;
    if download::blob_ok(&blob, size) {
        shared.progress.file_skipped(size);
        return download::link(job).map(|()| None);
    }
    let incomplete = job.cache.incomplete(&etag);
    if let Some(dir) = incomplete.parent() {
        std::fs::create_dir_all(dir).map_err(|e| HfError::io(dir, e))?;
    }
    let parts_path = job.cache.parts_path(&etag);
    let on_disk = std::fs::metadata(&incomplete).map(|m| m.len()).ok();
    let t = &shared.tuning;
    let parts = (on_disk == Some(size))
        .then(|| std::fs::read_to_string(&parts_path).ok())
        .flatten()
        .and_then(|text| Parts::parse(&text, size))
        .unwrap_or_else(|| {
            let conns = t.connections.min(t.connections_per_file).max(1);
            Parts::chunked(size, conns, t.min_segment, t.max_chunk)
        });
    let file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(false)
        .open(&incomplete)
        .map_err(|e| HfError::io(&incomplete, e))?;
    file.set_len(size)
        .map_err(|e| HfError::io(&incomplete, e))?;
    let resumed_from = parts.done();
    shared.progress.file_started(size, resumed_from);
    let big = Big {
        idx,
        job: FileJob::clone(job),
        incomplete,
        parts_path,
        file: RwLock::new(Some(file)),
        _lock: lock,
        parts: Mutex::new(parts),
        save_lock: Mutex::new(()),
        hash: Mutex::new(Hashing::new(&job.file)),
        hashing: std::sync::atomic::AtomicBool::new(false),
        url: Mutex::new(None),
        resumed_from,
    };
    big.save();
    Ok(Some(big))
}

impl Hashing {
    pub(crate) fn new(file: &super::cache::RepoFile) -> Hashing {
        Hashing {
            hasher: Some(Hasher::for_file(file)),
            at: 0,
            reader: None,
        }
    }
}

impl Big {
    pub(crate) fn done(&self, c: usize) -> u64 {
        self.parts.lock().expect("parts").segments[c].2
    }

    /// The bytes of chunk `c` not on disk yet, as an inclusive range.
    pub(crate) fn remaining(&self, c: usize) -> (u64, Option<u64>) {
        let (s, e, d) = self.parts.lock().expect("parts").segments[c];
        (s + d, Some(e - 1))
    }

    pub(crate) fn write(&self, bytes: &[u8], at: u64) -> Result<(), HfError> {
        let file = self.file.read().expect("file");
        let file = file.as_ref().expect("the file is open while chunks run");
        write_at(file, bytes, at).map_err(|e| HfError::io(&self.incomplete, e))
    }

    pub(crate) fn save(&self) {
        let _one = self.save_lock.lock().expect("save lock");
        let text = self.parts.lock().expect("parts").render();
        // Best effort: losing it only costs re-downloading some bytes.
        let _ = atomic_write(&self.parts_path, text.as_bytes());
    }

    /// Hashes the bytes now on disk at the start of the file, on a
    /// blocking thread, unless one is at it already (it then takes these
    /// too). Called as chunks grow, so the hash keeps up with the download
    /// and is ready soon after its last byte.
    pub(crate) fn hash_ahead(self: &Arc<Self>) {
        if self.hashing.swap(true, Ordering::SeqCst) {
            return;
        }
        let big = self.clone();
        tokio::task::spawn_blocking(move || {
            loop {
                let at = big.hash.lock().map_or(u64::MAX, |mut h| {
                    let _ = big.hash_ready(&mut h);
                    h.at
                });
                big.hashing.store(false, Ordering::SeqCst);
                // Bytes that landed after the last look get a new look,
                // unless another thread has taken over.
                if big.frontier() <= at || big.hashing.swap(true, Ordering::SeqCst) {
                    return;
                }
            }
        });
    }

    /// The end of the contiguous start of the file on disk: every chunk
    /// before the first incomplete one, and that one's bytes so far (a
    /// chunk is written front to back).
    pub(crate) fn frontier(&self) -> u64 {
        let p = self.parts.lock().expect("parts");
        p.segments
            .iter()
            .find(|(s, e, d)| s + d < *e)
            .map_or(self.job.file.size, |(s, _, d)| s + d)
    }

    /// Feeds the hasher the bytes from `h.at` to the frontier.
    pub(crate) fn hash_ready(&self, h: &mut Hashing) -> Result<(), HfError> {
        use std::io::Read as _;
        let io = |e| HfError::io(&self.incomplete, e);
        if h.hasher.is_none() {
            return Ok(());
        }
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let left = self.frontier().saturating_sub(h.at);
            if left == 0 {
                return Ok(());
            }
            if h.reader.is_none() {
                let mut f = File::open(&self.incomplete).map_err(io)?;
                std::io::Seek::seek(&mut f, std::io::SeekFrom::Start(h.at)).map_err(io)?;
                h.reader = Some(f);
            }
            let reader = h.reader.as_mut().expect("opened above");
            let want = buf.len().min(left as usize);
            reader.read_exact(&mut buf[..want]).map_err(io)?;
            if let Some(hasher) = h.hasher.as_mut() {
                hasher.update(&buf[..want]);
            }
            h.at += want as u64;
        }
    }

    /// Hashes what is left, verifies, and renames the file into place.
    pub(crate) async fn finish(self: &Arc<Self>, shared: &Shared) -> Result<(), HfError> {
        let big = self.clone();
        let hasher = tokio::task::spawn_blocking(move || {
            let mut h = big.hash.lock().expect("hash");
            big.hash_ready(&mut h)?;
            h.reader = None;
            Ok::<_, HfError>(h.hasher.take())
        })
        .await
        .expect("hashing thread")?
        .expect("one verification per attempt");
        download::verify(&self.job, hasher)?;
        let blob = self.job.cache.blob(self.job.file.etag());
        *self.file.write().expect("file") = None;
        std::fs::rename(&self.incomplete, &blob).map_err(|e| HfError::io(&blob, e))?;
        let _ = std::fs::remove_file(&self.parts_path);
        shared.progress.file_done();
        Ok(())
    }

    /// Starts over from zero; returns the bytes to take off the progress.
    pub(crate) fn restart(&self) -> u64 {
        let mut p = self.parts.lock().expect("parts");
        let done = p.done();
        p.segments.iter_mut().for_each(|s| s.2 = 0);
        drop(p);
        *self.hash.lock().expect("hash") = Hashing::new(&self.job.file);
        self.save();
        done
    }

    pub(crate) fn discard(&self) {
        *self.file.write().expect("file") = None;
        let _ = std::fs::remove_file(&self.incomplete);
        let _ = std::fs::remove_file(&self.parts_path);
    }

    pub(crate) fn link(&self) -> Result<(), HfError> {
        download::link(&self.job)
    }
}

/// A large file of `size` bytes in 1 MiB chunks, in `dir`, for tests.
#[cfg(test)]
pub(crate) fn test_big(dir: &std::path::Path, size: u64) -> Big {
    use crate::hf::cache::{RepoCache, RepoFile};
    let file = |name: &str| File::create(dir.join(name)).unwrap();
    let job = FileJob {
        repo: "o/n".into(),
        commit: "c".repeat(40),
        file: RepoFile {
            path: "model.bin".into(),
            size,
            blob_id: "b".repeat(40),
            lfs_sha256: Some("a".repeat(64)),
        },
        cache: RepoCache::new(dir, "o/n"),
    };
    Big {
        idx: 0,
        hash: Mutex::new(Hashing::new(&job.file)),
        hashing: std::sync::atomic::AtomicBool::new(false),
        job,
        incomplete: dir.join("x.incomplete"),
        parts_path: dir.join("x.parts"),
        file: RwLock::new(Some(file("x.incomplete"))),
        _lock: file("x.lock"),
        parts: Mutex::new(Parts::chunked(size, 4, 1 << 20, 1 << 20)),
        save_lock: Mutex::new(()),
        url: Mutex::new(None),
        resumed_from: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hash_follows_the_start_of_the_file_into_a_chunk_still_arriving() {
        let tmp = tempfile::tempdir().unwrap();
        let size = 3 << 20;
        let b = test_big(tmp.path(), size);
        let data = crate::hf::download::tests_noise(size as usize);
        let write = |c: usize, len: u64| {
            let (s, _, d) = b.parts.lock().unwrap().segments[c];
            b.write(&data[(s + d) as usize..(s + d + len) as usize], s + d)
                .unwrap();
            b.parts.lock().unwrap().segments[c].2 += len;
        };
        let hashed = || {
            let mut h = b.hash.lock().unwrap();
            b.hash_ready(&mut h).unwrap();
            h.at
        };
        // Chunk 1 complete, chunk 0 half there: the hash takes chunk 0's
        // first half already, not chunk 1 (not contiguous yet).
        write(1, 1 << 20);
        write(0, 512 << 10);
        assert_eq!(hashed(), 512 << 10);
        // Chunk 0 complete: the hash runs on through chunk 1 and into
        // what chunk 2 has so far.
        write(2, 100);
        write(0, 512 << 10);
        assert_eq!(hashed(), (2 << 20) + 100);
        write(2, (1 << 20) - 100);
        assert_eq!(hashed(), size);
        let mut h = b.hash.lock().unwrap();
        let mut expect = Hasher::for_file(&b.job.file);
        expect.update(&data);
        assert_eq!(
            h.hasher.take().unwrap().finish(),
            expect.finish(),
            "the bytes hashed are the file's, in order"
        );
    }
}
