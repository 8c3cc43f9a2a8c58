//! Names that become file names in the cache: a repository file path, a
//! blob id, a revision, a commit. They come from the Hub (tree listing,
//! revision answer, resolve headers), from the command line and from the
//! cache itself, and each is checked here, once, before it is joined to a
//! path: a name from a server is data, never a path of its choosing.
//!
//! The rules match what huggingface_hub accepts (it refuses a pointer path
//! outside `snapshots/`, a filename with `..` on Windows, a commit that is
//! not 40 hex digits): repository paths are relative, `/`-separated, with
//! no empty, `.` or `..` segment, no backslash and no NUL; a blob id is 40
//! hex digits (git sha1) or 64 (LFS sha256); a resolved commit is 40.

use std::fmt;

/// Why a name was refused (the name itself is not in the text: the error
/// that carries this quotes it, escaped and shortened, with its repository).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bad {
    /// Empty.
    Empty,
    /// Starts with `/` (or a drive such as `C:`).
    Absolute,
    /// Holds a `..` segment.
    Parent,
    /// Holds an empty segment (`a//b`, a trailing `/`) or a `.` segment.
    EmptySegment,
    /// Holds a backslash.
    Backslash,
    /// Holds NUL or another control character.
    Control,
    /// Has characters a git ref cannot have (space, `~^:?*[`, `@{`) or a
    /// segment starting with `.` or ending in `.lock`.
    NotARef,
    /// Not 40 or 64 hex digits.
    NotABlobId,
    /// Not 40 hex digits.
    NotACommit,
    /// Longer than any real name.
    TooLong,
}

impl fmt::Display for Bad {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Bad::Empty => "it is empty",
            Bad::Absolute => "it is an absolute path",
            Bad::Parent => "it has a `..` segment (it would leave its folder)",
            Bad::EmptySegment => "it has an empty or `.` segment",
            Bad::Backslash => "it has a backslash",
            Bad::Control => "it has a NUL or control character",
            Bad::NotARef => "it is not a valid branch or tag name",
            Bad::NotABlobId => "it is not a blob id (40 or 64 hex digits)",
            Bad::NotACommit => "it is not a commit id (40 hex digits)",
            Bad::TooLong => "it is too long",
        })
    }
}

/// The longest repository path or revision accepted (git and the Hub allow
/// far less in practice; this bounds what a message may quote).
const MAX_LEN: usize = 4096;

/// A file path inside a repository, as the tree API lists it.
pub fn check_repo_path(path: &str) -> Result<(), Bad> {
    if path.is_empty() {
        return Err(Bad::Empty);
    }
    if path.len() > MAX_LEN {
        return Err(Bad::TooLong);
    }
    if path.chars().any(char::is_control) {
        return Err(Bad::Control);
    }
    if path.contains('\\') {
        return Err(Bad::Backslash);
    }
    if path.starts_with('/') || is_drive(path) {
        return Err(Bad::Absolute);
    }
    for segment in path.split('/') {
        match segment {
            ".." => return Err(Bad::Parent),
            "" | "." => return Err(Bad::EmptySegment),
            // On Windows a later `C:x` segment replaces the whole path.
            s if is_drive(s) => return Err(Bad::Absolute),
            _ => {}
        }
    }
    Ok(())
}

/// `C:`, `c:foo`: a drive on Windows, where `join` would leave the cache.
fn is_drive(path: &str) -> bool {
    let b = path.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// A blob id: the git sha1 (40 hex) or the LFS sha256 (64 hex), any case.
pub fn check_blob_id(id: &str) -> Result<(), Bad> {
    if matches!(id.len(), 40 | 64) && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(Bad::NotABlobId)
    }
}

/// A resolved commit id: 40 hex digits, any case.
pub fn check_commit(id: &str) -> Result<(), Bad> {
    if is_commit(id) {
        Ok(())
    } else {
        Err(Bad::NotACommit)
    }
}

/// True for a full 40-hex commit id.
pub fn is_commit(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A revision asked for (`main`, `v1.0`, `refs/pr/1`, a commit): it names
/// `refs/{revision}` in the cache, so it follows the path rules and git's
/// ref-name rules.
pub fn check_revision(rev: &str) -> Result<(), Bad> {
    check_repo_path(rev)?;
    let bad_char = |c: char| c.is_whitespace() || "~^:?*[".contains(c);
    if rev.chars().any(bad_char) || rev.contains("@{") || rev == "@" {
        return Err(Bad::NotARef);
    }
    if rev
        .split('/')
        .any(|s| s.starts_with('.') || s.ends_with(".lock"))
        || rev.ends_with('.')
    {
        return Err(Bad::NotARef);
    }
    Ok(())
}

/// A name as a message may show it: escaped (no terminal control
/// sequence gets through) and cut to 80 characters.
pub fn shown(name: &str) -> String {
    let cut: String = name.chars().take(80).collect();
    let more = if cut.len() < name.len() { "…" } else { "" };
    format!("{:?}{more}", cut)
}

/// The first `n` characters of `s` (a commit shortened for display):
/// never panics, whatever `s` holds.
pub fn prefix(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths_as_huggingface_hub_accepts_them() {
        for ok in [
            "config.json",
            "a/b/c.json",
            "1_Pooling/config.json",
            "weird name (1).txt",
            "..hidden",
            "x..y",
            "ünïcode/文件.bin",
        ] {
            assert_eq!(check_repo_path(ok), Ok(()), "{ok}");
        }
        let bad = [
            ("", Bad::Empty),
            ("../victim", Bad::Parent),
            ("a/../../victim", Bad::Parent),
            ("a/..", Bad::Parent),
            ("..", Bad::Parent),
            ("/etc/passwd", Bad::Absolute),
            ("C:/x", Bad::Absolute),
            ("c:x", Bad::Absolute),
            ("a/D:/x", Bad::Absolute),
            ("a\\..\\b", Bad::Backslash),
            ("a//b", Bad::EmptySegment),
            ("a/", Bad::EmptySegment),
            ("./a", Bad::EmptySegment),
            ("a/./b", Bad::EmptySegment),
            ("a\0b", Bad::Control),
            ("a\nb", Bad::Control),
            ("a\u{1b}[2Jb", Bad::Control),
        ];
        for (name, why) in bad {
            assert_eq!(check_repo_path(name), Err(why), "{name:?}");
        }
        assert_eq!(check_repo_path(&"a".repeat(5000)), Err(Bad::TooLong));
    }

    #[test]
    fn blob_ids_and_commits() {
        let sha1 = "0123456789abcdef0123456789ABCDEF01234567";
        let sha256 = "a".repeat(64);
        assert_eq!(check_blob_id(sha1), Ok(()));
        assert_eq!(check_blob_id(&sha256), Ok(()));
        for bad in [
            "",
            "../../../../victim",
            "abc",
            &"a".repeat(41),
            &"g".repeat(40),
            &format!("{}/", "a".repeat(39)),
            &"é".repeat(20),
        ] {
            assert_eq!(check_blob_id(bad), Err(Bad::NotABlobId), "{bad}");
        }
        assert_eq!(check_commit(sha1), Ok(()));
        assert_eq!(check_commit(&sha256), Err(Bad::NotACommit));
        assert_eq!(check_commit("main"), Err(Bad::NotACommit));
        assert!(is_commit(&"a".repeat(40)) && !is_commit("main"));
    }

    #[test]
    fn revisions() {
        for ok in [
            "main",
            "v1.0",
            "refs/pr/1",
            "release-2024_01",
            &"f".repeat(40),
        ] {
            assert_eq!(check_revision(ok), Ok(()), "{ok}");
        }
        for bad in [
            "../../victim",
            "refs/../../x",
            "/abs",
            "a b",
            "a:b",
            "a~1",
            "x^",
            "a?",
            "a*",
            "a[b",
            "a@{1}",
            "@",
            ".hidden",
            "refs/.x",
            "x.lock",
            "x.",
            "a\\b",
            "a//b",
            "",
        ] {
            assert!(check_revision(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shown_and_prefix_never_panic() {
        assert_eq!(shown("a\u{1b}b"), "\"a\\u{1b}b\"");
        assert!(shown(&"x".repeat(200)).ends_with('…'));
        assert_eq!(prefix("0123456789abcdef", 12), "0123456789ab");
        assert_eq!(prefix("short", 12), "short");
        // A multi-byte character across byte 12: `&s[..12]` would panic.
        let s = "0123456789aé€€€";
        assert_eq!(prefix(s, 12), "0123456789aé");
        assert_eq!(prefix("", 12), "");
    }

    /// Random names over the characters that matter: whatever passes
    /// stays inside the folder it is joined to, and nothing panics.
    #[test]
    fn accepted_paths_never_leave_their_folder() {
        use std::path::{Component, Path};
        let alphabet = ['a', '.', '/', '\\', '\0', 'é', '€', ':', 'C', '~', ' '];
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let base = Path::new("/cache/snapshots/c");
        for _ in 0..50_000 {
            let len = (next() % 10) as usize;
            let name: String = (0..len)
                .map(|_| alphabet[(next() % alphabet.len() as u64) as usize])
                .collect();
            let _ = (check_blob_id(&name), check_commit(&name), shown(&name));
            let _ = prefix(&name, (next() % 12) as usize);
            let rev = check_revision(&name);
            if check_repo_path(&name).is_err() {
                assert!(rev.is_err(), "{name:?}: a revision is a path first");
                continue;
            }
            let mut p = base.to_path_buf();
            p.extend(name.split('/'));
            assert!(p.starts_with(base) && p != base, "{name:?}");
            for c in p.strip_prefix(base).unwrap().components() {
                assert!(matches!(c, Component::Normal(_)), "{name:?}: {c:?}");
            }
        }
    }
}
