//! Download progress: an indicatif bar on a terminal, a plain line every
//! few seconds elsewhere (CI logs), or nothing (`--quiet`, `--json`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How progress is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProgressMode {
    /// An indicatif bar on stderr.
    Bar,
    /// A line on stderr at this interval.
    Lines(Duration),
    /// Nothing.
    Off,
}

impl ProgressMode {
    /// A bar when stderr is a terminal (and not in CI), else a line every
    /// 5 seconds.
    pub fn auto() -> ProgressMode {
        use std::io::IsTerminal as _;
        if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
            ProgressMode::Bar
        } else {
            ProgressMode::Lines(Duration::from_secs(5))
        }
    }
}

/// Counters shared by every download task.
pub(crate) struct Progress {
    mode: ProgressMode,
    total: AtomicU64,
    done: AtomicU64,
    files_total: AtomicU64,
    files_done: AtomicU64,
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
}

impl Progress {
    pub fn new(mode: ProgressMode) -> Progress {
        Progress {
            mode,
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            files_total: AtomicU64::new(0),
            files_done: AtomicU64::new(0),
            started: Instant::now(),
            bar: None,
        }
    }

    /// Sets what is to be downloaded, and shows the bar.
    pub fn start(&mut self, bytes: u64, files: u64) {
        self.total.store(bytes, Ordering::Relaxed);
        self.files_total.store(files, Ordering::Relaxed);
        self.started = Instant::now();
        if self.mode == ProgressMode::Bar && files > 0 {
            let bar = indicatif::ProgressBar::new(bytes);
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(format!("hf-prefetch 0/{files} files"));
            bar.enable_steady_tick(Duration::from_millis(200));
            self.bar = Some(bar);
        }
    }

    /// The interval of plain lines, if that is the mode.
    pub fn line_interval(&self) -> Option<Duration> {
        match self.mode {
            ProgressMode::Lines(d) => Some(d),
            _ => None,
        }
    }

    pub fn file_started(&self, _size: u64, already: u64) {
        self.add(already);
    }

    pub fn add(&self, n: u64) {
        self.done.fetch_add(n, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.inc(n);
        }
    }

    /// Bytes counted so far.
    pub fn done(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    pub fn rewind(&self, n: u64) {
        self.done.fetch_sub(n, Ordering::Relaxed);
        if let Some(b) = &self.bar {
            b.set_position(self.done.load(Ordering::Relaxed));
        }
    }

    /// Another run put the file in place while we waited for its lock.
    pub fn file_skipped(&self, size: u64) {
        if self.files_total.load(Ordering::Relaxed) > 0 {
            self.add(size);
            self.file_done();
        }
    }

    pub fn file_done(&self) {
        let n = self.files_done.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(b) = &self.bar {
            b.set_message(format!(
                "hf-prefetch {n}/{} files",
                self.files_total.load(Ordering::Relaxed)
            ));
        }
    }

    /// The plain progress line.
    pub fn line(&self) -> String {
        let done = self.done.load(Ordering::Relaxed);
        let total = self.total.load(Ordering::Relaxed).max(1);
        let secs = self.started.elapsed().as_secs_f64().max(0.001);
        format!(
            "hf-prefetch: {} / {} ({}%), {}/{} files, {}/s",
            human(done),
            human(total),
            done * 100 / total,
            self.files_done.load(Ordering::Relaxed),
            self.files_total.load(Ordering::Relaxed),
            human((done as f64 / secs) as u64)
        )
    }

    pub fn finish(&self) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
    }
}

/// Bytes in MB (decimal, as the Hub shows sizes).
pub fn human(bytes: u64) -> String {
    if bytes >= 1_000_000 {
        format!("{:.1} MB", bytes as f64 / 1e6)
    } else {
        format!("{:.1} kB", bytes as f64 / 1e3)
    }
}
