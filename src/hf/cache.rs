//! The huggingface_hub cache layout, written exactly as Python writes it so
//! that `huggingface_hub` (offline) and `transformers` find our files:
//!
//! ```text
//! <root>/CACHEDIR.TAG
//! <root>/models--{org}--{name}/blobs/{etag}                 file contents
//! <root>/models--{org}--{name}/snapshots/{commit}/{path}    relative symlink -> ../../blobs/{etag}
//! <root>/models--{org}--{name}/refs/{revision}              commit, no newline
//! <root>/models--{org}--{name}/trees/{commit}.json          the whole file listing
//! <root>/.locks/models--{org}--{name}/{etag}.lock           per-blob lock
//! ```
//!
//! The etag is the LFS sha256 for LFS files and the git blob sha1 otherwise.
//!
//! Where symlinks cannot be made (Windows without Developer Mode or
//! administrator rights, some network or FAT drives) a snapshot file is a
//! real file instead, as huggingface_hub does: see [`symlinks_supported`].

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::error::HfError;
use super::names;
use crate::platform::Os;

/// The largest `refs/{revision}` read (a commit id is 40 bytes).
const MAX_REF_BYTES: u64 = 4096;
/// The largest `trees/{commit}.json` read (a listing of 100 000 files is
/// about 20 MB).
const MAX_TREE_BYTES: u64 = 64 << 20;

/// What `CACHEDIR.TAG` holds (huggingface_hub's text, byte for byte).
const CACHEDIR_TAG: &str = "Signature: 8a477f597d28d172789f06886806bc55\n\
# This file is a cache directory tag created by huggingface_hub.\n\
# For information about cache directory tags, see:\n\
#\thttps://bford.info/cachedir/\n";

/// The cache root, resolved as huggingface_hub does: `HF_HUB_CACHE`, else
/// `HUGGINGFACE_HUB_CACHE`, else `$HF_HOME/hub`, else
/// `$XDG_CACHE_HOME/huggingface/hub`, else `~/.cache/huggingface/hub`.
/// `get` reads a variable (empty values count as unset).
pub fn cache_root(get: impl Fn(&str) -> Option<String>) -> PathBuf {
    cache_root_for(get, Os::HOST)
}

/// [`cache_root`] as it resolves on `os`: `~` is Python's
/// `os.path.expanduser`, whose home on Windows is `%USERPROFILE%` (else
/// `%HOMEDRIVE%%HOMEPATH%`), never `HOME`.
pub fn cache_root_for(get: impl Fn(&str) -> Option<String>, os: Os) -> PathBuf {
    let get = |k: &str| get(k).filter(|v| !v.is_empty());
    if let Some(v) = get("HF_HUB_CACHE").or_else(|| get("HUGGINGFACE_HUB_CACHE")) {
        return expand_user(&v, &get, os);
    }
    let home = match get("HF_HOME") {
        Some(h) => expand_user(&h, &get, os),
        None => {
            let xdg = get("XDG_CACHE_HOME")
                .map(|x| expand_user(&x, &get, os))
                .unwrap_or_else(|| expand_user("~/.cache", &get, os));
            xdg.join("huggingface")
        }
    };
    home.join("hub")
}

fn expand_user(path: &str, get: &impl Fn(&str) -> Option<String>, os: Os) -> PathBuf {
    let Some(rest) = path
        .strip_prefix('~')
        .filter(|r| r.is_empty() || r.starts_with(|c| os.is_separator(c)))
    else {
        return PathBuf::from(path);
    };
    let home = match os {
        Os::Unix => get("HOME").unwrap_or_else(|| "/".into()),
        Os::Windows => match get("USERPROFILE") {
            Some(h) => h,
            None => match get("HOMEPATH") {
                Some(p) => get("HOMEDRIVE").unwrap_or_default() + &p,
                // Python leaves the path as it is.
                None => return PathBuf::from(path),
            },
        },
    };
    let rest = rest.trim_start_matches(|c| os.is_separator(c));
    if rest.is_empty() {
        PathBuf::from(home)
    } else {
        PathBuf::from(home).join(rest)
    }
}

/// One file of a repository at a commit, as the tree API lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepoFile {
    /// Path inside the repository, `/`-separated.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Git blob sha1 (hex).
    pub blob_id: String,
    /// LFS sha256 (hex), for LFS files.
    pub lfs_sha256: Option<String>,
}

/// Checks every name of `file` that becomes a file name in the cache: its
/// path, its blob id and its LFS sha256 (`from_cache`: read from a cached
/// listing rather than received).
pub fn check_file(repo: &str, file: &RepoFile, from_cache: bool) -> Result<(), HfError> {
    let bad = |what, name: &str, why| HfError::BadName {
        repo: repo.to_owned(),
        what,
        name: name.to_owned(),
        why,
        from_cache,
    };
    names::check_repo_path(&file.path).map_err(|why| bad("file path", &file.path, why))?;
    names::check_blob_id(&file.blob_id).map_err(|why| bad("blob id", &file.blob_id, why))?;
    if let Some(sha) = &file.lfs_sha256 {
        if sha.len() != 64 {
            return Err(bad("LFS sha256", sha, names::Bad::NotABlobId));
        }
        names::check_blob_id(sha).map_err(|why| bad("LFS sha256", sha, why))?;
    }
    Ok(())
}

impl RepoFile {
    /// The name of its blob: the LFS sha256, else the git blob sha1.
    pub fn etag(&self) -> &str {
        self.lfs_sha256.as_deref().unwrap_or(&self.blob_id)
    }
}

/// `trees/{commit}.json`, huggingface_hub's format version 1.
#[derive(Serialize, Deserialize)]
struct TreeFileJson {
    format_version: u32,
    files: BTreeMap<String, TreeEntryJson>,
}

#[derive(Serialize, Deserialize)]
struct TreeEntryJson {
    size: u64,
    blob_id: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    lfs_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    lfs_size: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    xet_hash: Option<String>,
}

/// The cache folders of one model repository.
#[derive(Clone, Debug)]
pub struct RepoCache {
    root: PathBuf,
    folder: String,
    repo: String,
}

impl RepoCache {
    /// The cache of model `repo_id` (`org/name`) under `root`.
    pub fn new(root: &Path, repo_id: &str) -> RepoCache {
        RepoCache {
            root: root.to_owned(),
            folder: format!("models--{}", repo_id.replace('/', "--")),
            repo: repo_id.to_owned(),
        }
    }

    /// `models--{org}--{name}`.
    pub fn dir(&self) -> PathBuf {
        self.root.join(&self.folder)
    }

    /// `blobs/{etag}`.
    pub fn blob(&self, etag: &str) -> PathBuf {
        self.dir().join("blobs").join(etag)
    }

    /// `blobs/{etag}.incomplete`: where a download streams to.
    pub fn incomplete(&self, etag: &str) -> PathBuf {
        self.dir().join("blobs").join(format!("{etag}.incomplete"))
    }

    /// `snapshots/{commit}`.
    pub fn snapshot_dir(&self, commit: &str) -> PathBuf {
        self.dir().join("snapshots").join(commit)
    }

    /// `snapshots/{commit}/{path}`.
    pub fn pointer(&self, commit: &str, path: &str) -> PathBuf {
        let mut p = self.snapshot_dir(commit);
        p.extend(path.split('/'));
        p
    }

    /// `refs/{revision}` (a revision like `refs/pr/1` nests folders).
    pub fn ref_path(&self, revision: &str) -> PathBuf {
        let mut p = self.dir().join("refs");
        p.extend(revision.split('/'));
        p
    }

    /// `.locks/models--{org}--{name}/{etag}.lock`.
    pub fn lock_path(&self, etag: &str) -> PathBuf {
        self.root
            .join(".locks")
            .join(&self.folder)
            .join(format!("{etag}.lock"))
    }

    /// Where the byte ranges already on disk of a parallel download are
    /// recorded, beside the lock (huggingface_hub ignores this folder's
    /// other files; `blobs/` must hold only blobs and `.incomplete` files).
    pub fn parts_path(&self, etag: &str) -> PathBuf {
        self.root
            .join(".locks")
            .join(&self.folder)
            .join(format!("{etag}.parts"))
    }

    /// `trees/{commit}.json`.
    pub fn tree_path(&self, commit: &str) -> PathBuf {
        self.dir().join("trees").join(format!("{commit}.json"))
    }

    /// What `refs/{revision}` holds, trimmed, if it is a small regular
    /// file (never a FIFO or device: reading one would hang), unchecked.
    pub fn read_ref(&self, revision: &str) -> Option<String> {
        crate::fsread::read_regular(&self.ref_path(revision), MAX_REF_BYTES)
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
            .filter(|s| !s.is_empty())
    }

    /// The commit `refs/{revision}` names, if any; a ref that holds
    /// anything but a commit id is an error naming the repository.
    pub fn read_commit_ref(&self, revision: &str) -> Result<Option<String>, HfError> {
        let path = self.ref_path(revision);
        let bytes = match crate::fsread::read_regular(&path, MAX_REF_BYTES) {
            Ok(Some(b)) => b,
            Ok(None) => return Ok(None),
            Err(e) => return Err(HfError::io(path, e)),
        };
        let text = String::from_utf8_lossy(&bytes);
        let commit = text.trim();
        // Named, not quoted: a ref planted as a link to another file must
        // not print that file.
        names::check_commit(commit).map_err(|why| HfError::BadName {
            repo: self.repo.clone(),
            what: "ref",
            name: format!("refs/{revision}"),
            why,
            from_cache: true,
        })?;
        Ok(Some(commit.to_ascii_lowercase()))
    }

    /// Points `refs/{revision}` at `commit`, atomically, unless it already
    /// does or `revision` is the commit itself (as huggingface_hub does).
    pub fn write_ref(&self, revision: &str, commit: &str) -> std::io::Result<()> {
        if revision == commit || self.read_ref(revision).as_deref() == Some(commit) {
            return Ok(());
        }
        atomic_write(&self.ref_path(revision), commit.as_bytes())
    }

    /// The whole file listing of `commit`, when cached (an unreadable or
    /// unparsable one counts as absent: it is fetched again). Its names
    /// become file names, so each is checked: a bad one is an error.
    pub fn read_tree(&self, commit: &str) -> Result<Option<Vec<RepoFile>>, HfError> {
        let Ok(Some(bytes)) = crate::fsread::read_regular(&self.tree_path(commit), MAX_TREE_BYTES)
        else {
            return Ok(None);
        };
        let Ok(parsed) = serde_json::from_slice::<TreeFileJson>(&bytes) else {
            return Ok(None);
        };
        if parsed.format_version != 1 {
            return Ok(None);
        }
        let files: Vec<RepoFile> = parsed
            .files
            .into_iter()
            .map(|(path, e)| RepoFile {
                path,
                size: e.size,
                blob_id: e.blob_id.to_ascii_lowercase(),
                lfs_sha256: e.lfs_sha256.map(|s| s.to_ascii_lowercase()),
            })
            .collect();
        for f in &files {
            check_file(&self.repo, f, true)?;
        }
        Ok(Some(files))
    }

    /// Writes the whole file listing of `commit` (never a filtered one:
    /// huggingface_hub trusts it to tell a complete snapshot).
    pub fn write_tree(&self, commit: &str, files: &[RepoFile]) -> std::io::Result<()> {
        let json = TreeFileJson {
            format_version: 1,
            files: files
                .iter()
                .map(|f| {
                    (
                        f.path.clone(),
                        TreeEntryJson {
                            size: f.size,
                            blob_id: f.blob_id.clone(),
                            lfs_sha256: f.lfs_sha256.clone(),
                            lfs_size: f.lfs_sha256.as_ref().map(|_| f.size),
                            xet_hash: None,
                        },
                    )
                })
                .collect(),
        };
        let mut text = serde_json::to_string_pretty(&json).map_err(std::io::Error::other)?;
        text.push('\n');
        atomic_write(&self.tree_path(commit), text.as_bytes())
    }

    /// True when `snapshots/{commit}/{path}` leads to the blob `etag` of
    /// `size` bytes.
    pub fn is_in_place(&self, commit: &str, file: &RepoFile) -> bool {
        let pointer = self.pointer(commit, &file.path);
        match std::fs::metadata(&pointer) {
            Ok(meta) if meta.len() == file.size => {}
            _ => return false,
        }
        // A pointer to another blob (a stale link) is not in place.
        match std::fs::read_link(&pointer) {
            Ok(target) => target.file_name().and_then(|n| n.to_str()) == Some(file.etag()),
            Err(_) => true, // a copied file (no symlink support) of the right size
        }
    }

    /// Makes `snapshots/{commit}/{path}` a relative symlink to its blob,
    /// replacing any other entry atomically; where the cache root cannot
    /// hold symlinks ([`symlinks_supported`]), a real file instead.
    pub fn link(&self, commit: &str, file: &RepoFile) -> std::io::Result<()> {
        // Checked where names enter (api, read_tree); checked again here,
        // the one place a server's name becomes a link.
        if names::check_repo_path(&file.path).is_err()
            || names::check_blob_id(file.etag()).is_err()
            || names::check_commit(commit).is_err()
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "refusing a file name that would leave the cache",
            ));
        }
        self.place(commit, file, symlinks_supported(&self.root))
    }

    /// [`link`](Self::link) with the choice made: a symlink, or a file of
    /// the blob's content (a hard link where the drive has them, so no
    /// space is spent twice, else a copy; huggingface_hub moves or copies).
    fn place(&self, commit: &str, file: &RepoFile, symlinks: bool) -> std::io::Result<()> {
        let pointer = self.pointer(commit, &file.path);
        let parent = pointer.parent().expect("pointer has a parent");
        std::fs::create_dir_all(parent)?;
        let depth = file.path.split('/').count() + 1; // snapshots/{commit}/...
        let mut target = PathBuf::new();
        for _ in 0..depth {
            target.push("..");
        }
        target.push("blobs");
        target.push(file.etag());
        if symlinks && std::fs::read_link(&pointer).is_ok_and(|t| t == target) {
            return Ok(());
        }
        let tmp = parent.join(format!(".{}.{}.tmp", file_name(&pointer), random_hex()));
        // A link the probe allowed may still be refused here (another
        // volume, a policy): a file then, as huggingface_hub falls back.
        let linked = symlinks && symlink(&target, &tmp).is_ok();
        if !linked {
            let blob = self.blob(file.etag());
            std::fs::hard_link(&blob, &tmp).or_else(|_| std::fs::copy(&blob, &tmp).map(|_| ()))?;
        }
        let renamed = std::fs::rename(&tmp, &pointer);
        if renamed.is_err() || !linked {
            // Renaming a hard link over another link to the same blob
            // does nothing (POSIX) and leaves the temporary name behind.
            let _ = std::fs::remove_file(&tmp);
        }
        if renamed.is_err() && linked {
            // A link that cannot be put in place: a file then.
            return self.place(commit, file, false);
        }
        renamed
    }

    /// Writes `CACHEDIR.TAG` at the root when missing.
    pub fn tag_root(&self) {
        let tag = self.root.join("CACHEDIR.TAG");
        if !tag.exists() {
            let _ = atomic_write(&tag, CACHEDIR_TAG.as_bytes());
        }
    }
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    // Fails with "a required privilege is not held" (os error 1314)
    // without Developer Mode or administrator rights.
    std::os::windows::fs::symlink_file(target, link)
}

/// Whether a relative symlink can be made under `root`, probed once per
/// root per process as huggingface_hub's `are_symlinks_supported` does
/// (two files in a temporary folder of the root). A root that cannot be
/// probed counts as supporting them: the real write then says why.
pub fn symlinks_supported(root: &Path) -> bool {
    static SEEN: std::sync::Mutex<BTreeMap<PathBuf, bool>> = std::sync::Mutex::new(BTreeMap::new());
    let key = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_owned());
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    *seen.entry(key).or_insert_with(|| probe_symlinks(root))
}

fn probe_symlinks(root: &Path) -> bool {
    let Ok(dir) = std::fs::create_dir_all(root).and_then(|()| {
        tempfile::Builder::new()
            .prefix(".symlink-probe")
            .tempdir_in(root)
    }) else {
        return true;
    };
    if std::fs::write(dir.path().join("src"), b"").is_err() {
        return true;
    }
    // Read back too: Wine reports success and makes nothing.
    let dst = dir.path().join("dst");
    symlink(Path::new("src"), &dst).is_ok() && std::fs::read(&dst).is_ok()
}

/// The warning when [`symlinks_supported`] says no, with huggingface_hub's
/// advice: its `HF_HUB_DISABLE_SYMLINKS_WARNING` silences both.
pub fn no_symlinks_warning(root: &Path, os: Os) -> String {
    let mut text = format!(
        "{}: symbolic links cannot be made here, so each snapshot file is a hard link to its blob, \
         or a copy where the drive has no hard links (huggingface_hub copies and warns likewise); \
         the cache works, a copy takes its space twice. Set HF_HUB_DISABLE_SYMLINKS_WARNING=1 to \
         hide this warning",
        root.display()
    );
    if os == Os::Windows {
        text.push_str(
            ". Windows makes symbolic links with Developer Mode on (Settings > System > For \
             developers) or from an administrator shell",
        );
    }
    text
}

/// Eight random hex digits for temporary names.
pub(crate) fn random_hex() -> String {
    let mut b = [0u8; 4];
    let _ = getrandom::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// Writes `bytes` to `path` through a temporary file and a rename, so that
/// readers see the old content or the new, never a part.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let parent = path.parent().expect("path has a parent");
    std::fs::create_dir_all(parent)?;
    let tmp = parent.join(format!("{}.{}.tmp", file_name(path), random_hex()));
    let result = (|| {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(vars: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| {
            vars.iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn root_resolution_order() {
        // Unix's resolution (HOME), on every platform.
        let cache_root = |get| cache_root_for(get, Os::Unix);
        let all = [
            ("HF_HUB_CACHE", "/a"),
            ("HUGGINGFACE_HUB_CACHE", "/b"),
            ("HF_HOME", "/c"),
            ("XDG_CACHE_HOME", "/d"),
            ("HOME", "/home/u"),
        ];
        assert_eq!(cache_root(env(&all)), PathBuf::from("/a"));
        assert_eq!(cache_root(env(&all[1..])), PathBuf::from("/b"));
        assert_eq!(cache_root(env(&all[2..])), PathBuf::from("/c/hub"));
        assert_eq!(
            cache_root(env(&all[3..])),
            PathBuf::from("/d/huggingface/hub")
        );
        assert_eq!(
            cache_root(env(&all[4..])),
            PathBuf::from("/home/u/.cache/huggingface/hub")
        );
        assert_eq!(
            cache_root(env(&[
                ("HF_HUB_CACHE", ""),
                ("HF_HOME", "~/hf"),
                ("HOME", "/h")
            ])),
            PathBuf::from("/h/hf/hub")
        );
    }

    const C0: &str = "c0ffee00c0ffee00c0ffee00c0ffee00c0ffee00";
    const B1: &str = "1111111111111111111111111111111111111111";
    const B2: &str = "2222222222222222222222222222222222222222";
    const B3: &str = "3333333333333333333333333333333333333333";
    const L1: &str = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";

    #[test]
    fn home_on_windows_is_the_user_profile() {
        let root = |vars: &[(&str, &str)]| cache_root_for(env(vars), Os::Windows);
        let profile = PathBuf::from(r"C:\Users\ana");
        assert_eq!(
            root(&[("USERPROFILE", r"C:\Users\ana"), ("HOME", "/home/u")]),
            profile.join(".cache").join("huggingface").join("hub")
        );
        assert_eq!(
            root(&[("HOMEDRIVE", "D:"), ("HOMEPATH", r"\Users\bo")]),
            PathBuf::from(r"D:\Users\bo")
                .join(".cache")
                .join("huggingface")
                .join("hub")
        );
        assert_eq!(
            root(&[("HF_HOME", r"~\hf"), ("USERPROFILE", r"C:\Users\ana")]),
            profile.join("hf").join("hub")
        );
        // No home known: Python keeps `~` as it is.
        assert_eq!(
            root(&[]),
            PathBuf::from("~/.cache").join("huggingface").join("hub")
        );
        // On Unix, `~\x` is a name, not the home.
        assert_eq!(
            cache_root_for(env(&[("HF_HOME", r"~\hf"), ("HOME", "/h")]), Os::Unix),
            PathBuf::from(r"~\hf").join("hub")
        );
    }

    #[test]
    fn layout_refs_links_and_trees() {
        let tmp = tempfile::tempdir().unwrap();
        let c = RepoCache::new(tmp.path(), "org/name");
        assert_eq!(c.dir(), tmp.path().join("models--org--name"));
        assert_eq!(
            c.lock_path(B1),
            tmp.path()
                .join(format!(".locks/models--org--name/{B1}.lock"))
        );
        c.write_ref("main", C0).unwrap();
        assert_eq!(
            std::fs::read_to_string(c.dir().join("refs/main")).unwrap(),
            C0,
            "no trailing newline"
        );
        c.write_ref("refs/pr/1", "c1").unwrap();
        assert_eq!(c.read_ref("refs/pr/1").as_deref(), Some("c1"));
        c.write_ref("abc", "abc").unwrap();
        assert!(!c.ref_path("abc").exists(), "a commit gets no ref");

        let f = RepoFile {
            path: "a/b/c.json".into(),
            size: 3,
            blob_id: B1.into(),
            lfs_sha256: None,
        };
        assert!(!c.is_in_place(C0, &f));
        std::fs::create_dir_all(c.dir().join("blobs")).unwrap();
        std::fs::write(c.blob(B1), b"abc").unwrap();
        c.link(C0, &f).unwrap();
        c.link(C0, &f).unwrap();
        let p = c.pointer(C0, "a/b/c.json");
        // A relative link where the machine makes them (a file elsewhere).
        if symlinks_supported(tmp.path()) {
            let mut target = PathBuf::new();
            target.extend(["..", "..", "..", "..", "blobs", B1]);
            assert_eq!(std::fs::read_link(&p).unwrap(), target);
        }
        assert_eq!(std::fs::read(&p).unwrap(), b"abc");
        assert!(c.is_in_place(C0, &f));
        let other = RepoFile {
            blob_id: B2.into(),
            ..f.clone()
        };
        // A file (no symlinks) is judged by its size: a commit's path
        // never changes content, so only a link can point elsewhere.
        if symlinks_supported(tmp.path()) {
            assert!(!c.is_in_place(C0, &other), "stale link");
        }

        let lfs = RepoFile {
            path: "m.bin".into(),
            size: 9,
            blob_id: B3.into(),
            lfs_sha256: Some(L1.into()),
        };
        c.write_tree(C0, &[f.clone(), lfs.clone()]).unwrap();
        let text = std::fs::read_to_string(c.tree_path(C0)).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["files"]["m.bin"]["lfs_sha256"], L1);
        assert_eq!(v["files"]["m.bin"]["lfs_size"], 9);
        assert!(v["files"]["a/b/c.json"].get("lfs_sha256").is_none());
        let mut back = c.read_tree(C0).unwrap().unwrap();
        back.sort_by(|a, b| a.path.cmp(&b.path));
        assert_eq!(back, vec![f, lfs]);
    }

    #[test]
    fn without_symlinks_the_snapshot_holds_the_content() {
        let tmp = tempfile::tempdir().unwrap();
        let c = RepoCache::new(tmp.path(), "org/name");
        let f = RepoFile {
            path: "sub/w.bin".into(),
            size: 5,
            blob_id: "4444".into(),
            lfs_sha256: None,
        };
        std::fs::create_dir_all(c.dir().join("blobs")).unwrap();
        std::fs::write(c.blob("4444"), b"hello").unwrap();
        c.place("c0ffee", &f, false).unwrap();
        c.place("c0ffee", &f, false).unwrap();
        let p = c.pointer("c0ffee", "sub/w.bin");
        let meta = std::fs::symlink_metadata(&p).unwrap();
        assert!(meta.is_file(), "a real file, not a link: {meta:?}");
        assert_eq!(std::fs::read(&p).unwrap(), b"hello");
        assert!(c.is_in_place("c0ffee", &f));
        assert!(
            c.blob("4444").is_file(),
            "the blob stays for other snapshots"
        );
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("w.bin")]);
        // A stale copy (another blob) is replaced, as a stale link is.
        let other = RepoFile {
            blob_id: "5555".into(),
            size: 3,
            ..f.clone()
        };
        assert!(!c.is_in_place("c0ffee", &other));
        std::fs::write(c.blob("5555"), b"new").unwrap();
        c.place("c0ffee", &other, false).unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
        assert_eq!(std::fs::read(c.blob("4444")).unwrap(), b"hello");
        // And a link replaces a copy when symlinks are back (where the
        // machine makes them; a file again elsewhere).
        c.place("c0ffee", &other, true).unwrap();
        assert_eq!(
            std::fs::symlink_metadata(&p)
                .unwrap()
                .file_type()
                .is_symlink(),
            symlinks_supported(tmp.path())
        );
        assert_eq!(std::fs::read(&p).unwrap(), b"new");
    }

    /// The oracle: huggingface_hub itself (the test venv's, offline) finds
    /// and reads a snapshot made of files instead of symlinks.
    #[cfg(unix)]
    #[test]
    fn huggingface_hub_reads_a_snapshot_without_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let c = RepoCache::new(tmp.path(), "org/name");
        let commit = "0123456789abcdef0123456789abcdef01234567";
        let files = [
            (
                "config.json",
                &b"{\"a\": 1}"[..],
                "1111111111111111111111111111111111111111",
            ),
            (
                "sub/w.bin",
                &b"weights"[..],
                "2222222222222222222222222222222222222222",
            ),
        ];
        std::fs::create_dir_all(c.dir().join("blobs")).unwrap();
        let mut listed = Vec::new();
        for (path, bytes, id) in files {
            std::fs::write(c.blob(id), bytes).unwrap();
            let f = RepoFile {
                path: path.into(),
                size: bytes.len() as u64,
                blob_id: id.into(),
                lfs_sha256: None,
            };
            c.place(commit, &f, false).unwrap();
            listed.push(f);
        }
        c.write_tree(commit, &listed).unwrap();
        c.write_ref("main", commit).unwrap();
        c.tag_root();
        let python = testkit::python::test_python().expect("the test venv");
        let out = std::process::Command::new(python)
            .arg("-c")
            .arg(
                "import os\n\
                 from huggingface_hub import snapshot_download, hf_hub_download\n\
                 p = snapshot_download('org/name')\n\
                 print(open(os.path.join(p, 'sub', 'w.bin')).read())\n\
                 print(open(hf_hub_download('org/name', 'config.json')).read())\n",
            )
            .env("HF_HUB_CACHE", tmp.path())
            .env("HF_HUB_OFFLINE", "1")
            .env("HF_HUB_DISABLE_TELEMETRY", "1")
            .env_remove("HF_TOKEN")
            .env_remove("HF_ENDPOINT")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{text}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(text, "weights\n{\"a\": 1}\n");
    }

    #[test]
    fn symlink_support_is_probed_in_the_root() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("hub");
        // Unix makes symlinks (Windows may not); the probe leaves nothing
        // behind either way.
        let supported = symlinks_supported(&root);
        assert!(supported || cfg!(windows));
        assert!(root.is_dir());
        assert_eq!(std::fs::read_dir(&root).unwrap().count(), 0);
    }

    #[test]
    fn no_symlinks_warning_says_what_and_how() {
        let root = Path::new("hub");
        let unix = no_symlinks_warning(root, Os::Unix);
        assert!(
            unix.starts_with("hub: symbolic links cannot be made"),
            "{unix}"
        );
        assert!(unix.contains("HF_HUB_DISABLE_SYMLINKS_WARNING"), "{unix}");
        assert!(!unix.contains("Developer Mode"), "{unix}");
        let windows = no_symlinks_warning(root, Os::Windows);
        assert!(windows.contains("Developer Mode"), "{windows}");
    }

    #[test]
    fn refs_from_the_cache_are_commits_or_errors() {
        let tmp = tempfile::tempdir().unwrap();
        let c = RepoCache::new(tmp.path(), "org/name");
        assert!(c.read_commit_ref("main").unwrap().is_none());
        c.write_ref("main", &C0.to_uppercase()).unwrap();
        assert_eq!(c.read_commit_ref("main").unwrap().as_deref(), Some(C0));
        for bad in [
            "not-a-commit",
            "../../../etc",
            "0123456789aé€€€€€€€€€€€€€€€€€€€€€€€€€",
        ] {
            std::fs::write(c.ref_path("main"), bad).unwrap();
            let err = c.read_commit_ref("main").unwrap_err().to_string();
            assert!(!err.contains(bad), "the content is not quoted: {err}");
            assert!(
                err.starts_with("org/name: the cache gave an unusable ref"),
                "{err}"
            );
            assert!(err.contains("not a commit id"), "{err}");
        }
        // A FIFO or a folder is never read (a FIFO would block forever).
        std::fs::remove_file(c.ref_path("main")).unwrap();
        std::fs::create_dir(c.ref_path("main")).unwrap();
        assert!(c.read_commit_ref("main").is_err());
        assert!(c.read_ref("main").is_none());
        #[cfg(unix)]
        {
            let fifo = c.ref_path("fifo");
            let made = std::process::Command::new("mkfifo").arg(&fifo).status();
            if made.is_ok_and(|s| s.success()) {
                assert!(c.read_commit_ref("fifo").is_err());
            }
        }
    }

    #[test]
    fn a_cached_listing_with_a_traversing_name_is_an_error() {
        let tmp = tempfile::tempdir().unwrap();
        let c = RepoCache::new(tmp.path(), "org/name");
        for (path, blob) in [("../../victim", B1), ("ok.json", "../../../../victim")] {
            let f = RepoFile {
                path: path.into(),
                size: 1,
                blob_id: blob.into(),
                lfs_sha256: None,
            };
            c.write_tree(C0, std::slice::from_ref(&f)).unwrap();
            let err = c.read_tree(C0).unwrap_err().to_string();
            assert!(err.contains("the cache gave an unusable"), "{err}");
            // And the link is refused even if a caller skipped the check.
            assert!(c.link(C0, &f).is_err());
        }
        assert!(!tmp.path().join("victim").exists());
    }
}
