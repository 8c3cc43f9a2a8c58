//! The working tree: a parallel walk (the `ignore` crate) that respects
//! `.gitignore`, skips `.git` and binary files, and reads each file in
//! blocks.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use ignore::{WalkBuilder, WalkState};

use super::{Origin, Report, Scanner};

/// Scans `paths` (files or folders; the whole of `root` when empty).
/// Paths are shown relative to `root` when under it.
pub fn scan_paths(scanner: &Scanner, root: &Path, paths: &[PathBuf]) -> Report {
    let paths: Vec<PathBuf> = if paths.is_empty() {
        vec![root.to_owned()]
    } else {
        paths
            .iter()
            .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
            .collect()
    };
    let mut builder = WalkBuilder::new(&paths[0]);
    for p in &paths[1..] {
        builder.add(p);
    }
    builder
        .hidden(false)
        .ignore(false)
        .git_ignore(true)
        .git_exclude(true)
        .git_global(true)
        .follow_links(false)
        .filter_entry(|e| e.file_name() != ".git");
    let total = Mutex::new(Report::default());
    builder.build_parallel().run(|| {
        let mut mine = Worker {
            report: Report::default(),
            buf: Vec::with_capacity(super::BLOCK + (64 << 10)),
            total: &total,
        };
        Box::new(move |entry| {
            match entry {
                Ok(e) if e.file_type().is_some_and(|t| t.is_file()) => {
                    let shown = display(root, e.path());
                    mine.file(scanner, e.path(), shown);
                }
                Ok(_) => {}
                Err(err) => mine.report.errors.push(walk_error(root, &err)),
            }
            WalkState::Continue
        })
    });
    total.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// Scans single files as given (logs, shell history), ignore rules or not.
pub fn scan_files(scanner: &Scanner, root: &Path, files: &[PathBuf]) -> Report {
    let total = Mutex::new(Report::default());
    {
        let mut w = Worker {
            report: Report::default(),
            buf: Vec::new(),
            total: &total,
        };
        for f in files {
            w.file(
                scanner,
                f,
                display(root, &std::path::absolute(f).unwrap_or_else(|_| f.clone())),
            );
        }
    }
    total.into_inner().unwrap_or_else(|e| e.into_inner())
}

/// One thread's share: its findings and counts join the total when it ends.
struct Worker<'a> {
    report: Report,
    buf: Vec<u8>,
    total: &'a Mutex<Report>,
}

impl Worker<'_> {
    fn file(&mut self, scanner: &Scanner, path: &Path, shown: String) {
        let origin = Origin::file(shown);
        let result = std::fs::File::open(path).and_then(|mut f| {
            scanner.scan_reader(&mut f, &origin, &mut self.buf, &mut self.report.findings)
        });
        match result {
            Ok(Some(n)) => {
                self.report.files += 1;
                self.report.bytes += n;
            }
            Ok(None) => self.report.binary += 1,
            Err(e) => self
                .report
                .errors
                .push(format!("{}: cannot be read ({e})", origin.path)),
        }
    }
}

impl Drop for Worker<'_> {
    fn drop(&mut self) {
        let mine = std::mem::take(&mut self.report);
        if let Ok(mut t) = self.total.lock() {
            t.merge(mine);
        }
    }
}

/// What went wrong walking, naming the path (the walker's own text says
/// "IO error for operation on …").
fn walk_error(root: &Path, err: &ignore::Error) -> String {
    fn path_of(err: &ignore::Error) -> Option<&Path> {
        match err {
            ignore::Error::WithPath { path, .. } => Some(path),
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                path_of(err)
            }
            _ => None,
        }
    }
    let why = err
        .io_error()
        .map_or_else(|| err.to_string(), ToString::to_string);
    match path_of(err) {
        Some(p) => format!("{}: cannot be read ({why})", display(root, p)),
        None => format!("cannot be read: {why}"),
    }
}

/// `path` relative to `root` when under it, with `/` separators, as git
/// names it (on Unix a `\\` is part of a file name and stays).
pub fn display(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    let s = crate::platform::Os::HOST.slash_path(&rel.to_string_lossy());
    if s.is_empty() { ".".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_uses_slashes_as_git_does() {
        let root = Path::new("repo");
        assert_eq!(display(root, &root.join("docs").join("a.md")), "docs/a.md");
        assert_eq!(display(root, root), ".");
        // A backslash separates only on Windows; elsewhere it is a name.
        let odd = root.join(r"odd\name.txt");
        let shown = display(root, &odd);
        if cfg!(windows) {
            assert_eq!(shown, "odd/name.txt");
        } else {
            assert_eq!(shown, r"odd\name.txt");
        }
    }
    use crate::scan::LiveValue;
    use crate::secret::Secret;

    #[test]
    fn walk_respects_gitignore_and_skips_binaries() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let sh = xshell::Shell::new().unwrap();
        sh.change_dir(root);
        xshell::cmd!(sh, "git init -q").quiet().run().unwrap();
        let canary = "CANARY-walk-51d0e8aa";
        std::fs::write(root.join(".gitignore"), "ignored/\n").unwrap();
        std::fs::create_dir_all(root.join("ignored")).unwrap();
        std::fs::create_dir_all(root.join("src/deep")).unwrap();
        std::fs::write(root.join("ignored/x.txt"), canary).unwrap();
        std::fs::write(root.join("src/deep/y.txt"), format!("a\nb {canary}\n")).unwrap();
        std::fs::write(root.join(".hidden.cfg"), format!("{canary}\n")).unwrap();
        std::fs::write(root.join("bin.dat"), format!("\0\0{canary}")).unwrap();
        let scanner = Scanner::new(
            true,
            &[LiveValue {
                name: "VSCE_PAT".into(),
                value: Secret::new(canary),
            }],
        )
        .unwrap();
        let mut r = scan_paths(&scanner, root, &[]);
        r.finish(&Default::default());
        let places: Vec<_> = r.findings.iter().map(|f| f.location()).collect();
        assert_eq!(places, vec![".hidden.cfg:1:1", "src/deep/y.txt:2:3"]);
        assert_eq!(r.binary, 1);
        assert!(r.files >= 3);
        // A path given explicitly is walked alone.
        let r = scan_paths(&scanner, root, &[root.join("src")]);
        assert_eq!(r.findings.len(), 1);
        assert_eq!(r.findings[0].path, "src/deep/y.txt");
    }
}
