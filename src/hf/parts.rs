//! The chunk list of a large download, saved beside the blob's lock as
//! `{etag}.parts` (`release-kit parts v1 size=N`, then `start end done`
//! per chunk) so that a run killed at any point resumes where it was.

/// Progress of a parallel download: `[start, end)` ranges and how much of
/// each is on disk, saved so that a later run resumes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Parts {
    size: u64,
    pub segments: Vec<(u64, u64, u64)>, // start, end, done
}

impl Parts {
    #[cfg(test)]
    fn new(size: u64, n: usize) -> Parts {
        let len = size.div_ceil(n as u64);
        let segments = (0..n as u64)
            .map(|i| (i * len, ((i + 1) * len).min(size), 0))
            .filter(|(s, e, _)| s < e)
            .collect();
        Parts { size, segments }
    }

    pub fn parse(text: &str, size: u64) -> Option<Parts> {
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

    pub fn render(&self) -> String {
        let mut out = format!("release-kit parts v1 size={}\n", self.size);
        for (s, e, d) in &self.segments {
            out.push_str(&format!("{s} {e} {d}\n"));
        }
        out
    }

    pub fn done(&self) -> u64 {
        self.segments.iter().map(|(_, _, d)| d).sum()
    }

    /// Chunks in file order for `conns` connections: each a share of what
    /// is left (`left / conns`), between `min` and `max` bytes and a
    /// multiple of 64 KiB, so chunks shrink towards the end and the last
    /// ones finish together.
    pub fn chunked(size: u64, conns: usize, min: u64, max: u64) -> Parts {
        const ALIGN: u64 = 64 << 10;
        let min = min.max(ALIGN);
        let max = max.max(min);
        let mut segments = Vec::new();
        let mut at = 0;
        while at < size {
            let left = size - at;
            let share = (left / conns.max(1) as u64).clamp(min, max);
            let len = share.div_ceil(ALIGN) * ALIGN;
            // A remainder smaller than a chunk joins the last one.
            let len = if left < len + min { left } else { len };
            segments.push((at, at + len, 0));
            at += len;
        }
        Parts { size, segments }
    }

    /// Chunk `i` is all on disk.
    pub fn complete(&self, i: usize) -> bool {
        let (s, e, d) = self.segments[i];
        s + d >= e
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn chunks_shrink_towards_the_end_and_tile_the_file() {
        let size = 91_000_000;
        let p = Parts::chunked(size, 16, 512 << 10, 8 << 20);
        let lens: Vec<u64> = p.segments.iter().map(|(s, e, _)| e - s).collect();
        assert!(Parts::parse(&p.render(), size).is_some(), "tiles the file");
        assert!(
            lens.windows(2)
                .all(|w| w[0] >= w[1] || w[1] == *lens.last().unwrap())
        );
        assert!(lens[0] > 4 << 20 && lens[0] <= 8 << 20, "{lens:?}");
        assert!(*lens.last().unwrap() < 1 << 20, "{lens:?}");
        assert!(lens.len() < 100, "{}", lens.len());
        let one = Parts::chunked(5, 4, 1, 1);
        assert_eq!(one.segments, vec![(0, 5, 0)]);
        assert!(Parts::chunked(0, 4, 1, 1).segments.is_empty());
    }
}
