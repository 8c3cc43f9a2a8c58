//! Git as a source: the index (`--staged`, what is about to be committed)
//! and every blob reachable from HEAD (`--history`). One-shot queries go
//! through xshell; blob contents stream through one `git cat-file --batch`
//! child, each blob scanned in blocks as it arrives, so memory stays flat.

use std::collections::HashMap;
use std::io::{BufRead as _, Read as _, Write as _};
use std::path::{Path, PathBuf};

use super::{Finding, Origin, Report, Scanner};
use crate::secret::Redactor;
use crate::tools::{Child, ChildError};

/// Why git could not be read. Names the repository and what was being
/// done; blob contents never appear.
#[derive(Debug, thiserror::Error)]
pub enum GitScanError {
    /// No shell to run git in.
    #[error(transparent)]
    Shell(#[from] xshell::Error),
    /// `git diff --cached` failed.
    #[error("cannot list the staged files of {} (is it a git repository?)", .repo.display())]
    Staged {
        /// The repository.
        repo: PathBuf,
        /// What running git said.
        #[source]
        source: xshell::Error,
    },
    /// What was being done when a cause below failed.
    #[error("{what}")]
    While {
        /// What was being done.
        what: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `--since` was given something that is not one revision.
    #[error("--since takes one commit, branch or tag (like origin/main), not {0:?}")]
    BadRevision(String),
    /// `git cat-file` answered what it should not.
    #[error("git cat-file answered an unexpected header in {}", .0.display())]
    BadHeader(PathBuf),
    /// The thread feeding git panicked.
    #[error("the git input thread panicked")]
    InputThread,
    /// Talking to git failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// A git child failed.
    #[error(transparent)]
    Child(#[from] ChildError),
}

/// Wraps an error with what was being done (the chain keeps both).
fn while_<E: std::error::Error + Send + Sync + 'static>(
    what: impl FnOnce() -> String,
) -> impl FnOnce(E) -> GitScanError {
    move |e| GitScanError::While {
        what: what(),
        source: Box::new(e),
    }
}

/// A file as staged: its index blob and path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StagedFile {
    /// The blob id in the index.
    pub oid: String,
    /// The path, relative to the repository root.
    pub path: String,
}

/// The files the next commit adds or changes (`git diff --cached`), with
/// their index blobs. Deleted files are not listed: removing a `.env` from
/// the index must stay possible.
pub fn staged_files(repo: &Path) -> Result<Vec<StagedFile>, GitScanError> {
    let sh = xshell::Shell::new()?;
    sh.change_dir(repo);
    let out = crate::tools::captured(xshell::cmd!(
        sh,
        "git diff --cached --raw -z --no-renames --no-abbrev --diff-filter=ACMT"
    ))
    .ignore_stderr()
    .output()
    .map_err(|source| GitScanError::Staged {
        repo: repo.to_owned(),
        source,
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    let mut parts = text.split('\0');
    let mut files = Vec::new();
    while let (Some(meta), Some(path)) = (parts.next(), parts.next()) {
        // :old_mode new_mode old_oid new_oid status
        let fields: Vec<&str> = meta.trim_start_matches(':').split(' ').collect();
        let [_, mode, _, oid, _] = fields[..] else {
            continue;
        };
        // Submodules (160000) and symbolic links (120000) hold no text of ours.
        if mode.starts_with("100") {
            files.push(StagedFile {
                oid: oid.to_owned(),
                path: path.to_owned(),
            });
        }
    }
    Ok(files)
}

/// Whether a committed file named like this is refused: any `.env*` but
/// `.env.example`, in any folder.
pub fn is_refused_env_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with(".env") && name != ".env.example"
}

/// Scans what is about to be committed: the index's version of every
/// staged file (not the working tree's), and refuses staged `.env` files.
pub fn scan_staged(
    scanner: &Scanner,
    repo: &Path,
    redactor: &Redactor,
) -> Result<Report, GitScanError> {
    let files = staged_files(repo)?;
    let mut report = Report::default();
    for f in &files {
        if is_refused_env_file(&f.path) {
            report.findings.push(Finding {
                path: f.path.clone(),
                line: 1,
                column: 1,
                rule: "env-file".into(),
                kind: "file",
                encoding: None,
                commit: Some("index".into()),
                masked: "a .env file; only .env.example may be committed".into(),
                fingerprint: super::fingerprint("env-file", &f.path, b""),
            });
        }
    }
    let input: Vec<String> = files
        .into_iter()
        .filter(|f| !f.path.contains('\n'))
        .map(|f| format!("{} {}\n", f.oid, f.path))
        .collect();
    cat_blobs(
        repo,
        redactor,
        move |w| {
            for line in input {
                w.write_all(line.as_bytes())?;
            }
            Ok(())
        },
        |_, path, body, buf, out| {
            let origin = Origin {
                path: path.to_owned(),
                commit: Some("index".into()),
            };
            let r = scanner.scan_reader(body, &origin, buf, &mut out.findings)?;
            count(out, r);
            Ok(())
        },
        &mut report,
    )?;
    Ok(report)
}

/// Scans every blob reachable from HEAD, each once. A finding names the
/// commit that introduced the blob (the oldest one holding it).
pub fn scan_history(
    scanner: &Scanner,
    repo: &Path,
    redactor: &Redactor,
) -> Result<Report, GitScanError> {
    let lister = Child::new("git")
        .args(["rev-list", "--objects", "--filter=object:type=blob", "HEAD"])
        .current_dir(repo);
    let r = redactor.clone();
    let where_ = repo.display().to_string();
    let mut report = Report::default();
    cat_blobs(
        repo,
        redactor,
        move |w| {
            let mut list = lister
                .spawn_streaming(&r, false)
                .map_err(while_(|| format!("cannot list the history of {where_}")))?;
            // Lines are `oid path` for blobs, `oid` alone for commits.
            let mut line = String::new();
            while {
                line.clear();
                list.stdout.read_line(&mut line)? > 0
            } {
                if line.trim_end().contains(' ') {
                    w.write_all(line.as_bytes())?;
                }
            }
            list.finish().map_err(while_(|| {
                format!("cannot list the history of {where_} (no commit yet?)")
            }))
        },
        |oid, path, body, buf, out| {
            // The blob id stands in for the commit until it is looked up.
            let origin = Origin {
                path: path.to_owned(),
                commit: Some(oid.to_owned()),
            };
            let r = scanner.scan_reader(body, &origin, buf, &mut out.findings)?;
            count(out, r);
            Ok(())
        },
        &mut report,
    )?;
    let mut commits: HashMap<String, String> = HashMap::new();
    for f in &mut report.findings {
        let Some(oid) = f.commit.take() else { continue };
        let commit = match commits.get(&oid) {
            Some(c) => c.clone(),
            None => {
                let c = introducing_commit(repo, &oid)
                    .unwrap_or_else(|| format!("blob {}", &oid[..12.min(oid.len())]));
                commits.insert(oid, c.clone());
                c
            }
        };
        f.commit = Some(commit);
    }
    Ok(report)
}

/// The oldest commit reachable from HEAD whose tree holds blob `oid`.
fn introducing_commit(repo: &Path, oid: &str) -> Option<String> {
    let sh = xshell::Shell::new().ok()?;
    sh.change_dir(repo);
    let arg = format!("--find-object={oid}");
    let out = crate::tools::captured(xshell::cmd!(sh, "git log --format=%h --reverse {arg} HEAD"))
        .ignore_stderr()
        .read()
        .ok()?;
    out.lines().next().map(str::to_owned)
}

fn count(report: &mut Report, read: Option<u64>) {
    match read {
        Some(n) => {
            report.files += 1;
            report.bytes += n;
        }
        None => report.binary += 1,
    }
}

/// Runs `git cat-file --batch` in `repo`: `feed` writes its input lines
/// (`oid path`) from a thread of its own while this one reads the blobs
/// back and hands each to `each(oid, path, body, buffer, report)`.
fn cat_blobs(
    repo: &Path,
    redactor: &Redactor,
    feed: impl FnOnce(&mut dyn std::io::Write) -> Result<(), GitScanError> + Send + 'static,
    mut each: impl FnMut(
        &str,
        &str,
        &mut dyn std::io::Read,
        &mut Vec<u8>,
        &mut Report,
    ) -> std::io::Result<()>,
    report: &mut Report,
) -> Result<(), GitScanError> {
    let mut cat = Child::new("git")
        .args([
            "cat-file",
            "--buffer",
            "--batch=%(objectname) %(objecttype) %(objectsize) %(rest)",
        ])
        .current_dir(repo)
        .spawn_streaming(redactor, true)?;
    let stdin = cat.stdin.take().expect("stdin was asked for");
    let writer = std::thread::spawn(move || {
        let mut w = std::io::BufWriter::new(stdin);
        let fed = feed(&mut w);
        // Flush and close: cat-file answers the last lines on EOF.
        let flushed = w.flush();
        drop(w);
        fed.and(flushed.map_err(Into::into))
    });
    let mut header = String::new();
    let mut buf = Vec::new();
    loop {
        header.clear();
        if cat
            .stdout
            .read_line(&mut header)
            .map_err(while_(|| "reading git cat-file".to_owned()))?
            == 0
        {
            break;
        }
        let mut fields = header.trim_end_matches('\n').splitn(4, ' ');
        let (oid, kind) = (
            fields.next().unwrap_or_default(),
            fields.next().unwrap_or_default(),
        );
        if kind == "missing" || kind == "ambiguous" {
            continue;
        }
        let Some(size) = fields.next().and_then(|s| s.parse::<u64>().ok()) else {
            return Err(GitScanError::BadHeader(repo.to_owned()));
        };
        let path = fields.next().unwrap_or_default().to_owned();
        let mut body = (&mut cat.stdout).take(size);
        if kind == "blob" {
            each(oid, &path, &mut body, &mut buf, report)
                .map_err(while_(|| format!("reading blob of {path}")))?;
        }
        std::io::copy(&mut body, &mut std::io::sink())?;
        let mut newline = [0u8; 1];
        cat.stdout.read_exact(&mut newline)?;
    }
    let fed = writer.join().map_err(|_| GitScanError::InputThread)?;
    cat.finish()?;
    fed
}
