//! One work queue for every file of a prefetch, so that every connection
//! works until the last byte.
//!
//! Large files are cut into chunks (a few MB, smaller towards the end, in
//! file order) that whichever connection is free takes next; small files
//! fill the free slots. The first request for a large file follows only
//! the Hub's own redirects: its redirect to the CDN releases the waiting
//! chunks at once. Connections are opened a few at a time and kept alive
//! across chunks; new ones are added while the link still gives each about
//! as much as the first ones got. The sha256 is computed as the contiguous
//! start of the file grows, so the file is verified as its last byte lands.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::net::{Response, StatusCode};

use super::api::Located;
use super::big::{Big, prepare};
use super::download::{
    self, Fetched, FileJob, Shared, check_headers, short_read, target, too_long,
};
use super::error::HfError;
use super::timeline::{Open, Timeline};

/// The outcome of every job, in the order given.
pub(crate) type Outcomes = Vec<Result<Fetched, HfError>>;

/// Connections opened together.
const WAVE: usize = 4;
/// Time between two waves.
const WAVE_GAP: Duration = Duration::from_millis(10);
/// Bytes a chunk receives between two nudges of the hashing thread.
const HASH_STEP: u64 = 1 << 20;
/// The window throughput is measured over.
const WINDOW: Duration = Duration::from_millis(40);

/// Downloads `jobs` over at most `shared.tuning.connections` connections.
pub(crate) async fn run(shared: Arc<Shared>, jobs: Vec<FileJob>) -> Outcomes {
    let t = &shared.tuning;
    let split = |j: &FileJob| j.file.size >= t.split_threshold && t.connections_per_file > 1;
    let mut order: Vec<usize> = (0..jobs.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(jobs[i].file.size));
    let (big, small): (Vec<usize>, Vec<usize>) = order.into_iter().partition(|&i| split(&jobs[i]));
    let results: Vec<Mutex<Option<Result<Fetched, HfError>>>> =
        jobs.iter().map(|_| Mutex::new(None)).collect();
    let prepared = download::join_all(big.iter().map(|&i| prepare(&shared, &jobs[i], i))).await;
    let mut files = Vec::new();
    for (r, &i) in prepared.into_iter().zip(&big) {
        match r {
            Ok(Some(b)) => files.push(FileQ::new(b)),
            Ok(None) => *results[i].lock().expect("results") = Some(Ok(Fetched::Present)),
            Err(e) => *results[i].lock().expect("results") = Some(Err(e)),
        }
    }
    let ctx = Arc::new(Ctx {
        shared,
        jobs,
        results,
        queue: Mutex::new(Queue {
            files,
            small: small.into(),
        }),
        wake: tokio::sync::Notify::new(),
        idle: AtomicUsize::new(0),
        streaming: AtomicUsize::new(0),
    });
    drive(&ctx).await;
    let ctx = Arc::into_inner(ctx).expect("every worker has ended");
    ctx.results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .expect("results")
                .expect("every job has an outcome")
        })
        .collect()
}

struct Ctx {
    shared: Arc<Shared>,
    jobs: Vec<FileJob>,
    results: Vec<Mutex<Option<Result<Fetched, HfError>>>>,
    queue: Mutex<Queue>,
    wake: tokio::sync::Notify,
    /// Workers waiting for work.
    idle: AtomicUsize,
    /// Workers reading a body now.
    streaming: AtomicUsize,
}

struct Queue {
    files: Vec<FileQ>,
    small: VecDeque<usize>,
}

/// Where a large file's bytes are.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Loc {
    Unknown,
    Locating,
    Known,
}

/// A large file in the queue.
struct FileQ {
    big: Arc<Big>,
    todo: VecDeque<usize>,
    running: usize,
    loc: Loc,
    failed: Option<HfError>,
    /// The one clean attempt after a hash mismatch was made.
    retried: bool,
    finalizing: bool,
    finished: bool,
}

impl FileQ {
    fn new(big: Big) -> FileQ {
        let parts = big.parts.lock().expect("parts");
        let todo = (0..parts.segments.len())
            .filter(|&i| !parts.complete(i))
            .collect();
        drop(parts);
        FileQ {
            big: Arc::new(big),
            todo,
            running: 0,
            loc: Loc::Unknown,
            failed: None,
            retried: false,
            finalizing: false,
            finished: false,
        }
    }
}

enum Work {
    Locate(usize, usize),
    Chunk(usize, usize),
    Finalize(usize),
    Small(usize),
}

impl Queue {
    /// The next piece of work: a file to finish, a chunk whose URL is
    /// known, a file to locate, a small file; `Err(true)` to wait for one,
    /// `Err(false)` when everything is done.
    fn next(&mut self) -> Result<Work, bool> {
        for (fi, f) in self.files.iter_mut().enumerate() {
            if !f.finished
                && !f.finalizing
                && f.running == 0
                && (f.todo.is_empty() || f.failed.is_some())
            {
                f.finalizing = true;
                return Ok(Work::Finalize(fi));
            }
        }
        for (fi, f) in self.files.iter_mut().enumerate() {
            if f.loc == Loc::Known
                && f.failed.is_none()
                && let Some(c) = f.todo.pop_front()
            {
                f.running += 1;
                return Ok(Work::Chunk(fi, c));
            }
        }
        for (fi, f) in self.files.iter_mut().enumerate() {
            if f.loc == Loc::Unknown
                && f.failed.is_none()
                && let Some(c) = f.todo.pop_front()
            {
                f.running += 1;
                f.loc = Loc::Locating;
                return Ok(Work::Locate(fi, c));
            }
        }
        if let Some(i) = self.small.pop_front() {
            return Ok(Work::Small(i));
        }
        Err(self.files.iter().any(|f| !f.finished))
    }

    /// Work not yet taken.
    fn left(&self) -> usize {
        self.small.len() + self.files.iter().map(|f| f.todo.len()).sum::<usize>()
    }
}

/// Opens workers in waves while there is work for them, the bound allows
/// it and the link is not full; returns when every worker has ended.
async fn drive(ctx: &Arc<Ctx>) {
    let max = ctx.shared.tuning.connections.max(1);
    let mut workers = tokio::task::JoinSet::new();
    let mut link = LinkMeter::new(ctx.shared.progress.done());
    let mut tick = tokio::time::interval(WAVE_GAP);
    let mut spawned = 0;
    loop {
        let (left, pending) = {
            let q = ctx.queue.lock().expect("queue");
            (q.left(), q.files.iter().any(|f| !f.finished))
        };
        let streaming = ctx.streaming.load(Ordering::SeqCst);
        let full = link.full(ctx.shared.progress.done(), streaming);
        for _ in 0..to_open(workers.len(), max, left, pending, full) {
            let ctx = ctx.clone();
            let slot = spawned;
            spawned += 1;
            workers.spawn(async move { worker(&ctx, slot).await });
        }
        if workers.is_empty() {
            return;
        }
        tokio::select! {
            _ = tick.tick() => {}
            joined = workers.join_next() => {
                if let Some(Err(e)) = joined && e.is_panic() {
                    std::panic::resume_unwind(e.into_panic());
                }
            }
        }
    }
}

/// How many connections to open now: while there is more work waiting
/// than connections to take it (a new connection costs two round trips
/// before its first byte, more than waiting for a busy one near the end),
/// the bound allows it and the link is not full; one when there are none
/// and a file still needs finishing (resumed with every chunk on disk).
fn to_open(workers: usize, max: usize, left: usize, pending: bool, full: bool) -> usize {
    if workers == 0 && (left > 0 || pending) {
        return WAVE.min(max).min(left).max(1);
    }
    if workers >= max || left <= workers || full {
        return 0;
    }
    WAVE.min(max - workers).min(left - workers)
}

/// Tells whether adding connections still adds throughput: the bytes per
/// connection of the last window against the best window seen.
struct LinkMeter {
    at: Instant,
    bytes: u64,
    best: f64,
    full: bool,
}

impl LinkMeter {
    fn new(bytes: u64) -> LinkMeter {
        LinkMeter {
            at: Instant::now(),
            bytes,
            best: 0.0,
            full: false,
        }
    }

    fn full(&mut self, bytes: u64, streaming: usize) -> bool {
        self.full_at(bytes, streaming, Instant::now())
    }

    fn full_at(&mut self, bytes: u64, streaming: usize, now: Instant) -> bool {
        let dt = now.saturating_duration_since(self.at);
        if dt < WINDOW {
            return self.full;
        }
        if streaming > 0 {
            let per_conn =
                bytes.saturating_sub(self.bytes) as f64 / dt.as_secs_f64() / streaming as f64;
            self.best = self.best.max(per_conn);
            self.full = streaming >= WAVE && per_conn < 0.7 * self.best;
        }
        self.at = now;
        self.bytes = bytes;
        self.full
    }
}

/// One connection's loop (`slot` numbers it for the timeline): takes
/// work until none is left.
async fn worker(ctx: &Ctx, slot: usize) {
    loop {
        let notified = ctx.wake.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let next = ctx.queue.lock().expect("queue").next();
        match next {
            Ok(work) => do_work(ctx, slot, work).await,
            Err(true) => {
                ctx.idle.fetch_add(1, Ordering::SeqCst);
                notified.await;
                ctx.idle.fetch_sub(1, Ordering::SeqCst);
            }
            Err(false) => {
                ctx.wake.notify_waiters();
                return;
            }
        }
    }
}

async fn do_work(ctx: &Ctx, slot: usize, work: Work) {
    let tl = ctx.shared.timeline.as_ref();
    match work {
        Work::Small(i) => {
            let span = Timeline::open(tl, slot, || format!("file {}", ctx.jobs[i].file.path));
            let r = download::fetch_file(&ctx.shared, &ctx.jobs[i]).await;
            span.end();
            *ctx.results[i].lock().expect("results") = Some(r);
        }
        Work::Locate(fi, c) | Work::Chunk(fi, c) => {
            let big = ctx.queue.lock().expect("queue").files[fi].big.clone();
            let r = match work {
                Work::Locate(..) => locate_and_fetch(ctx, slot, fi, &big, c).await,
                _ => fetch_chunk(ctx, slot, &big, c, None).await,
            };
            if r.is_ok() {
                big.hash_ahead();
            }
            chunk_done(ctx, fi, r);
        }
        Work::Finalize(fi) => {
            let path = || {
                let q = ctx.queue.lock().expect("queue");
                format!("verify {}", q.files[fi].big.job.file.path)
            };
            let span = Timeline::open(tl, slot, path);
            finalize(ctx, fi).await;
            span.end();
        }
    }
}

fn chunk_done(ctx: &Ctx, fi: usize, r: Result<(), HfError>) {
    let mut q = ctx.queue.lock().expect("queue");
    let f = &mut q.files[fi];
    f.running -= 1;
    if let Err(e) = r {
        f.todo.clear();
        if f.loc == Loc::Locating {
            f.loc = Loc::Unknown;
        }
        f.failed.get_or_insert(e);
    }
    drop(q);
    ctx.wake.notify_waiters();
}

fn set_loc(ctx: &Ctx, fi: usize, loc: Loc) {
    ctx.queue.lock().expect("queue").files[fi].loc = loc;
    ctx.wake.notify_waiters();
}

/// The first request for a large file: through the Hub, stopping at its
/// redirect to the CDN, which releases the other chunks at once.
async fn locate_and_fetch(
    ctx: &Ctx,
    slot: usize,
    fi: usize,
    big: &Arc<Big>,
    c: usize,
) -> Result<(), HfError> {
    let job = &big.job;
    let range = big.remaining(c);
    let span = Timeline::open(ctx.shared.timeline.as_ref(), slot, || {
        format!("locate {}", job.file.path)
    });
    let located = ctx.shared.client.locate(&target(job), Some(range)).await;
    span.end();
    let located = located?;
    let first = match located {
        Located::Elsewhere { url, headers } => {
            check_headers(job, &headers)?;
            *big.url.lock().expect("url") = Some(url);
            None
        }
        Located::Here(opened) => {
            let opened = *opened;
            check_headers(job, &opened.headers)?;
            expect_partial(job, &opened.response)?;
            *big.url.lock().expect("url") = Some(opened.final_url);
            Some(opened.response)
        }
    };
    set_loc(ctx, fi, Loc::Known);
    fetch_chunk(ctx, slot, big, c, first).await
}

fn expect_partial(job: &FileJob, resp: &Response) -> Result<(), HfError> {
    if resp.status() == StatusCode::PARTIAL_CONTENT {
        return Ok(());
    }
    Err(HfError::Protocol {
        what: format!("{}: {}", job.repo, job.file.path),
        detail: format!(
            "asked for a byte range, got HTTP {} (the server must support Range)",
            resp.status().as_u16()
        ),
    })
}

/// Fetches the rest of chunk `c` (from `first` when the answer is already
/// open), resuming within the chunk after a broken body.
async fn fetch_chunk(
    ctx: &Ctx,
    slot: usize,
    big: &Arc<Big>,
    c: usize,
    mut first: Option<Response>,
) -> Result<(), HfError> {
    let shared = &ctx.shared;
    let job = &big.job;
    let policy = *shared.client.retry_policy();
    let mut failures = 0;
    let mut furthest = big.done(c);
    while !big.parts.lock().expect("parts").complete(c) {
        let mut span = Timeline::open(ctx.shared.timeline.as_ref(), slot, || {
            let (s, e) = big.remaining(c);
            format!("chunk {c} {}: bytes {s}-{}", job.file.path, e.unwrap_or(s))
        });
        let mut resp = match first.take() {
            Some(r) => r,
            None => {
                let direct = big.url.lock().expect("url").clone();
                let opened = shared
                    .client
                    .open(&target(job), direct.as_ref(), Some(big.remaining(c)))
                    .await?;
                check_headers(job, &opened.headers)?;
                expect_partial(job, &opened.response)?;
                *big.url.lock().expect("url") = Some(opened.final_url);
                opened.response
            }
        };
        ctx.streaming.fetch_add(1, Ordering::SeqCst);
        let broke = stream_chunk(shared, big, c, &mut resp, &mut span).await;
        span.end();
        ctx.streaming.fetch_sub(1, Ordering::SeqCst);
        let broke = broke?;
        let done = big.done(c);
        big.save();
        if !big.parts.lock().expect("parts").complete(c) {
            let progressed = done > furthest;
            furthest = furthest.max(done);
            short_read(shared, job, &policy, &mut failures, progressed, broke).await?;
        }
    }
    Ok(())
}

/// Reads one answer into chunk `c`; `Ok(Some(e))` when it broke off.
async fn stream_chunk(
    shared: &Shared,
    big: &Arc<Big>,
    c: usize,
    resp: &mut Response,
    span: &mut Open<'_>,
) -> Result<Option<crate::net::NetError>, HfError> {
    let (start, end, _) = big.parts.lock().expect("parts").segments[c];
    let mut since_save = 0u64;
    let mut since_hash = 0u64;
    let mut saved_at = Instant::now();
    loop {
        let bytes = match resp.chunk().await {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(None),
            Err(e) => return Ok(Some(e)),
        };
        span.bytes(bytes.len() as u64);
        let at = start + big.done(c);
        if at + bytes.len() as u64 > end {
            return Err(too_long(&big.job));
        }
        big.write(&bytes, at)?;
        big.parts.lock().expect("parts").segments[c].2 += bytes.len() as u64;
        shared.progress.add(bytes.len() as u64);
        since_save += bytes.len() as u64;
        since_hash += bytes.len() as u64;
        if since_hash >= HASH_STEP {
            // The hash follows the start of the file as it grows.
            since_hash = 0;
            big.hash_ahead();
        }
        // Saved often enough that a killed run loses little, rarely
        // enough to cost nothing at full speed.
        if since_save >= 4 << 20 || saved_at.elapsed() >= Duration::from_millis(500) {
            since_save = 0;
            saved_at = Instant::now();
            big.save();
        }
    }
}

/// A file whose chunks are all in (or that failed): verified and put in
/// place, downloaded once more from zero after a mismatch, or its error
/// recorded.
async fn finalize(ctx: &Ctx, fi: usize) {
    let (big, failed, retried) = {
        let mut q = ctx.queue.lock().expect("queue");
        let f = &mut q.files[fi];
        (f.big.clone(), f.failed.take(), f.retried)
    };
    let result = match failed {
        Some(e) => {
            big.save();
            Err(e)
        }
        None => big.finish(&ctx.shared).await,
    };
    let mut q = ctx.queue.lock().expect("queue");
    let f = &mut q.files[fi];
    f.finalizing = false;
    match result {
        Err(HfError::Verify { .. }) if !retried => {
            // Bytes can be damaged in transit; one clean attempt from zero.
            ctx.shared.progress.rewind(big.restart());
            f.retried = true;
            f.todo = (0..big.parts.lock().expect("parts").segments.len()).collect();
        }
        result => {
            if matches!(result, Err(HfError::Verify { .. })) {
                big.discard();
            }
            f.finished = true;
            let r = match result {
                Ok(()) => big.link().map(|()| Fetched::Downloaded {
                    bytes: big.job.file.size - big.resumed_from,
                    resumed_from: big.resumed_from,
                }),
                Err(e) => Err(e),
            };
            *ctx.results[big.idx].lock().expect("results") = Some(r);
        }
    }
    drop(q);
    ctx.wake.notify_waiters();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn big_chunks_first_small_files_while_the_cdn_is_unknown() {
        let tmp = tempfile::tempdir().unwrap();
        let mut q = Queue {
            files: vec![FileQ::new(super::super::big::test_big(tmp.path(), 3 << 20))],
            small: VecDeque::from([7, 8]),
        };
        assert_eq!(q.left(), 5);
        // The first request locates the file; while its answer is awaited
        // the small files fill the free connections, then the others wait.
        assert!(matches!(q.next(), Ok(Work::Locate(0, 0))));
        assert!(matches!(q.next(), Ok(Work::Small(7))));
        assert!(matches!(q.next(), Ok(Work::Small(8))));
        assert!(matches!(q.next(), Err(true)));
        // Located: the waiting chunks go, in file order.
        q.files[0].loc = Loc::Known;
        assert!(matches!(q.next(), Ok(Work::Chunk(0, 1))));
        assert!(matches!(q.next(), Ok(Work::Chunk(0, 2))));
        assert!(matches!(q.next(), Err(true)), "chunks still running");
        q.files[0].running = 0;
        assert!(matches!(q.next(), Ok(Work::Finalize(0))));
        assert!(matches!(q.next(), Err(true)), "being finalized");
        q.files[0].finished = true;
        assert!(matches!(q.next(), Err(false)));
    }

    #[test]
    fn a_failed_file_is_finalized_once_its_chunks_stop() {
        let tmp = tempfile::tempdir().unwrap();
        let mut q = Queue {
            files: vec![FileQ::new(super::super::big::test_big(tmp.path(), 3 << 20))],
            small: VecDeque::new(),
        };
        assert!(matches!(q.next(), Ok(Work::Locate(0, 0))));
        q.files[0].loc = Loc::Known;
        assert!(matches!(q.next(), Ok(Work::Chunk(0, 1))));
        // Chunk 1 fails: no more chunks are handed out; the file is
        // finalized (its error recorded) once chunk 0 is back too.
        q.files[0].failed = Some(HfError::Protocol {
            what: "x".into(),
            detail: "y".into(),
        });
        q.files[0].running -= 1;
        assert!(matches!(q.next(), Err(true)));
        q.files[0].running -= 1;
        assert!(matches!(q.next(), Ok(Work::Finalize(0))));
    }

    #[test]
    fn connections_open_while_more_work_waits_than_they_can_take() {
        // The start: a wave at a time, up to the bound.
        assert_eq!(to_open(0, 32, 60, true, false), WAVE);
        assert_eq!(to_open(28, 32, 60, true, false), 4);
        assert_eq!(to_open(32, 32, 60, true, false), 0);
        // Near the end, busy connections take what is left: no new one
        // (it would start two round trips later, and end last).
        assert_eq!(to_open(16, 32, 10, true, false), 0);
        assert_eq!(to_open(16, 32, 18, true, false), 2);
        // A full link takes no more.
        assert_eq!(to_open(16, 32, 60, true, true), 0);
        // Nothing to fetch but a file to finish: one worker does it.
        assert_eq!(to_open(0, 32, 0, true, false), 1);
        assert_eq!(to_open(0, 32, 0, false, false), 0);
    }

    #[test]
    fn the_link_is_full_when_connections_get_less_each() {
        let mut m = LinkMeter::new(0);
        let t0 = m.at;
        // Within a window nothing changes.
        assert!(!m.full_at(1_000_000, 4, t0 + WINDOW / 2));
        // 4 connections at 20 MB/s each.
        assert!(!m.full_at(3_200_000, 4, t0 + WINDOW));
        // 8 connections at 19 MB/s each: the link still gives.
        assert!(!m.full_at(9_280_000, 8, t0 + WINDOW * 2));
        // 12 connections sharing 160 MB/s: each gets much less.
        assert!(m.full_at(15_680_000, 12, t0 + WINDOW * 3));
    }
}
