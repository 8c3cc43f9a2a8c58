//! Where release-kit keeps what it provisions (the pinned Python and Node
//! tools, wheelhouses, maturin's cargo folders): one per-user cache shared
//! by every project, never inside a project, so nothing of the tool can end
//! up in a package built from it.
//!
//! The folder is the platform's cache folder (XDG on Linux and other Unix,
//! `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows), overridden by
//! `RELEASE_KIT_CACHE_DIR`. Each pinned tool set gets a folder named by a
//! short hash of its pins, so a change of pins never reuses a stale install
//! and two projects with the same pins share one.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::digest::sha256_hex;

/// Set to a folder to keep release-kit's cache there.
pub const ENV: &str = "RELEASE_KIT_CACHE_DIR";

/// The folder name under the platform's cache folder.
const NAME: &str = "release-kit";

/// The platform families whose cache folders differ.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    /// Linux and every other Unix but macOS: the XDG base directories.
    Unix,
    /// macOS: `~/Library/Caches`.
    MacOs,
    /// Windows: `%LOCALAPPDATA%`.
    Windows,
}

impl Os {
    /// The platform this program runs on.
    pub fn current() -> Os {
        if cfg!(windows) {
            Os::Windows
        } else if cfg!(target_os = "macos") {
            Os::MacOs
        } else {
            Os::Unix
        }
    }
}

/// The cache folder on `os` given the environment `var`, or `None` when
/// the environment names none (no home folder). A pure function, so every
/// platform's rule is tested on any.
pub fn choose(os: Os, var: &dyn Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    // Empty and relative values are ignored, as the XDG specification says
    // of its variables: a relative cache would land in the project.
    let absolute = |name: &str| {
        var(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    // The override is the user's explicit choice: taken as given (made
    // absolute by [`root`]).
    if let Some(dir) = var(ENV).filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    match os {
        Os::Windows => absolute("LOCALAPPDATA").map(|d| d.join(NAME)),
        Os::MacOs => absolute("HOME").map(|h| h.join("Library/Caches").join(NAME)),
        Os::Unix => absolute("XDG_CACHE_HOME")
            .map(|d| d.join(NAME))
            .or_else(|| absolute("HOME").map(|h| h.join(".cache").join(NAME))),
    }
}

/// The cache folder of this process: [`choose`] over the real environment,
/// else a folder in the system's temporary folder.
pub fn root() -> PathBuf {
    let dir = choose(Os::current(), &|name| std::env::var_os(name))
        .unwrap_or_else(|| std::env::temp_dir().join(NAME));
    std::path::absolute(&dir).unwrap_or(dir)
}

/// A short, stable key for a set of pins (or any strings).
pub fn key(parts: &[&str]) -> String {
    sha256_hex(parts.join("\n").as_bytes())[..12].to_owned()
}

/// The folder of the tool set `kind` installed with `pins`.
pub fn pinned(kind: &str, pins: &[&str]) -> PathBuf {
    pinned_in(&root(), kind, pins)
}

/// The folder of the tool set `kind` installed with `pins` in the cache
/// `cache` (for tests that share one).
pub fn pinned_in(cache: &Path, kind: &str, pins: &[&str]) -> PathBuf {
    cache.join(format!("{kind}-{}", key(pins)))
}

/// Where short-lived working folders go (a rehearsal's index, a build's
/// staging): outside every project.
pub fn scratch() -> PathBuf {
    root().join("scratch")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<OsString> {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        }
    }

    #[test]
    fn unix_follows_xdg_then_home() {
        let with_xdg = env(&[("XDG_CACHE_HOME", "/x/cache"), ("HOME", "/home/u")]);
        assert_eq!(
            choose(Os::Unix, &with_xdg),
            Some(PathBuf::from("/x/cache/release-kit"))
        );
        let home_only = env(&[("HOME", "/home/u")]);
        assert_eq!(
            choose(Os::Unix, &home_only),
            Some(PathBuf::from("/home/u/.cache/release-kit"))
        );
        // Relative or empty XDG_CACHE_HOME is ignored (XDG spec).
        let relative = env(&[("XDG_CACHE_HOME", "target"), ("HOME", "/home/u")]);
        assert_eq!(
            choose(Os::Unix, &relative),
            Some(PathBuf::from("/home/u/.cache/release-kit"))
        );
        let empty = env(&[("XDG_CACHE_HOME", ""), ("HOME", "/home/u")]);
        assert_eq!(
            choose(Os::Unix, &empty),
            Some(PathBuf::from("/home/u/.cache/release-kit"))
        );
        assert_eq!(choose(Os::Unix, &env(&[])), None);
    }

    #[test]
    fn macos_and_windows() {
        let vars = env(&[
            ("HOME", "/Users/u"),
            ("XDG_CACHE_HOME", "/x"),
            ("LOCALAPPDATA", "/c/AppData/Local"),
        ]);
        assert_eq!(
            choose(Os::MacOs, &vars),
            Some(PathBuf::from("/Users/u/Library/Caches/release-kit"))
        );
        assert_eq!(
            choose(Os::Windows, &vars),
            Some(PathBuf::from("/c/AppData/Local/release-kit"))
        );
        assert_eq!(choose(Os::Windows, &env(&[("HOME", "/h")])), None);
    }

    #[test]
    fn override_wins_everywhere() {
        let vars = env(&[
            (ENV, "/shared/rk"),
            ("HOME", "/h"),
            ("XDG_CACHE_HOME", "/x"),
            ("LOCALAPPDATA", "/l"),
        ]);
        for os in [Os::Unix, Os::MacOs, Os::Windows] {
            assert_eq!(choose(os, &vars), Some(PathBuf::from("/shared/rk")));
        }
        let empty = env(&[(ENV, ""), ("HOME", "/h")]);
        assert_eq!(
            choose(Os::Unix, &empty),
            Some(PathBuf::from("/h/.cache/release-kit"))
        );
    }

    #[test]
    fn keys_follow_the_pins() {
        assert_eq!(key(&["a==1", "b==2"]), key(&["a==1", "b==2"]));
        assert_ne!(key(&["a==1", "b==2"]), key(&["a==1", "b==3"]));
        assert_eq!(key(&["a"]).len(), 12);
    }
}
