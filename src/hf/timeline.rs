//! A debug record of where a prefetch's time goes
//! (`RELEASE_KIT_HF_TIMELINE=path`): per connection slot, each request's
//! start, first byte and last byte, written as a text chart and one line
//! per request when the prefetch ends. Off (and free) when unset.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The slot of the metadata calls (not a queue worker).
pub(crate) const API: usize = usize::MAX;

/// The spans recorded so far.
pub(crate) struct Timeline {
    t0: Instant,
    path: PathBuf,
    spans: Mutex<Vec<Span>>,
}

/// One request (or one step without a request, such as the verification).
#[derive(Clone, Debug)]
pub(crate) struct Span {
    slot: usize,
    what: String,
    start: Duration,
    first: Option<Duration>,
    end: Option<Duration>,
    bytes: u64,
}

/// A span being recorded; dropped without `end`, it is not kept.
pub(crate) struct Open<'a> {
    tl: Option<&'a Timeline>,
    span: Option<Span>,
}

impl Timeline {
    /// A timeline written to `path` by [`Timeline::write`].
    pub fn new(path: PathBuf) -> Timeline {
        Timeline {
            t0: Instant::now(),
            path,
            spans: Mutex::new(Vec::new()),
        }
    }

    /// Starts a span of `slot` (named by `what`, which must never hold a
    /// URL or a secret: a path and a byte range).
    pub fn open(tl: Option<&Timeline>, slot: usize, what: impl FnOnce() -> String) -> Open<'_> {
        Open {
            span: tl.map(|t| Span {
                slot,
                what: what(),
                start: t.t0.elapsed(),
                first: None,
                end: None,
                bytes: 0,
            }),
            tl,
        }
    }

    /// Writes the chart; a failure is reported on stderr only (debug aid).
    pub fn write(&self) {
        let text = render(&self.spans.lock().expect("timeline"));
        if let Err(e) = std::fs::write(&self.path, text) {
            eprintln!("RELEASE_KIT_HF_TIMELINE {}: {e}", self.path.display());
        }
    }
}

impl Open<'_> {
    /// `n` bytes arrived.
    pub fn bytes(&mut self, n: u64) {
        if let (Some(t), Some(s)) = (self.tl, self.span.as_mut()) {
            s.first.get_or_insert_with(|| t.t0.elapsed());
            s.bytes += n;
        }
    }

    /// The span is over.
    pub fn end(mut self) {
        if let (Some(t), Some(mut s)) = (self.tl, self.span.take()) {
            s.end = Some(t.t0.elapsed());
            t.spans.lock().expect("timeline").push(s);
        }
    }
}

/// A chart, 10 ms a column: `.` a request waiting for its first byte,
/// `=` bytes arriving, `s` a small file (its requests and body), `#`
/// work without a request (hashing, renaming), blank idle; then every span with its times in ms.
fn render(spans: &[Span]) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let end = spans.iter().filter_map(|s| s.end).max().unwrap_or_default();
    let cols = (ms(end) / 10.0) as usize + 1;
    let mut slots: Vec<usize> = spans.iter().map(|s| s.slot).collect();
    slots.sort_unstable();
    slots.dedup();
    let mut out = format!(
        "prefetch timeline: {} spans on {} slots, {:.0} ms from the start to the last end; 10 ms a column\n",
        spans.len(),
        slots.len(),
        ms(end)
    );
    for &slot in &slots {
        let mut row = vec![' '; cols];
        let mut n = 0;
        for s in spans.iter().filter(|s| s.slot == slot) {
            n += 1;
            let col = |d: Duration| ((ms(d) / 10.0) as usize).min(cols - 1);
            let stop = col(s.end.unwrap_or(end));
            let first = s.first.map(col);
            for (i, c) in row.iter_mut().enumerate().take(stop + 1).skip(col(s.start)) {
                *c = match first {
                    Some(f) if i >= f => '=',
                    Some(_) => '.',
                    None if s.what.starts_with("verify") => '#',
                    None if s.what.starts_with("file") => 's',
                    None => '.',
                };
            }
        }
        let name = if slot == API {
            "api".to_owned()
        } else {
            format!("{slot:3}")
        };
        let _ = writeln!(out, "{name:>3} |{}| {n}", row.iter().collect::<String>());
    }
    out.push_str("\nslot start first-byte end bytes what\n");
    let mut sorted = spans.to_vec();
    sorted.sort_by_key(|s| (s.slot, s.start));
    for s in &sorted {
        let _ = writeln!(
            out,
            "{} {:.1} {} {:.1} {} {}",
            if s.slot == API {
                "api".to_owned()
            } else {
                s.slot.to_string()
            },
            ms(s.start),
            s.first.map_or("-".into(), |f| format!("{:.1}", ms(f))),
            ms(s.end.unwrap_or(end)),
            s.bytes,
            s.what
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_waits_bytes_and_idle_per_slot() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.txt");
        let tl = Timeline::new(path.clone());
        let span = |slot, what: &str, start, first: Option<u64>, end| Span {
            slot,
            what: what.into(),
            start: Duration::from_millis(start),
            first: first.map(Duration::from_millis),
            end: Some(Duration::from_millis(end)),
            bytes: 10,
        };
        tl.spans.lock().unwrap().extend([
            span(API, "revision", 0, Some(30), 30),
            span(0, "chunk 0", 30, Some(60), 90),
            span(0, "verify", 100, None, 110),
        ]);
        tl.write();
        let text = std::fs::read_to_string(&path).unwrap();
        let rows: Vec<&str> = text.lines().skip(1).take(2).collect();
        assert_eq!(rows[0], "  0 |   ...====##| 2", "{text}");
        assert_eq!(rows[1], "api |...=        | 1", "{text}");
        assert!(text.contains("0 30.0 60.0 90.0 10 chunk 0"), "{text}");
        // Nothing is recorded without a timeline, and a span dropped
        // before its end is not kept.
        let mut off = Timeline::open(None, 0, || unreachable!());
        off.bytes(5);
        off.end();
        drop(Timeline::open(Some(&tl), 1, || "x".into()));
        assert_eq!(tl.spans.lock().unwrap().len(), 3);
    }
}
