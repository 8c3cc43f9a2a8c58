//! CHANGELOG.md (Keep a Changelog 1.1.0): the notes of one version, and
//! the newest released version for the up-front version check.

use std::path::{Path, PathBuf};

/// One released version of the changelog.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// The version, e.g. `1.2.3`.
    pub version: String,
    /// The heading's title after the version, e.g. `2026-01-31`.
    pub date: Option<String>,
    /// The notes below the heading.
    pub notes: String,
    /// The changelog file.
    pub file: PathBuf,
    /// 1-based line of the heading.
    pub line: usize,
}

/// Why notes could not be found.
#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    /// The file cannot be read.
    #[error("{}: cannot be read ({reason}); create it (Keep a Changelog 1.1.0) or set [release] changelog in release-kit.toml", .file.display())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// No released entry at all.
    #[error("{}: no released version (only [Unreleased]); add a `## [X.Y.Z] - YYYY-MM-DD` heading for the release", .file.display())]
    NoRelease {
        /// The file.
        file: PathBuf,
    },
    /// No entry for this version.
    #[error("{}: no entry for version {version}; move the [Unreleased] notes under `## [{version}] - YYYY-MM-DD` (newest is {newest})", .file.display())]
    Missing {
        /// The file.
        file: PathBuf,
        /// The version looked for.
        version: String,
        /// The newest version the file has.
        newest: String,
    },
}

/// Every released version, newest first (file order), `[Unreleased]` left out.
pub fn releases(file: &Path) -> Result<Vec<Release>, ChangelogError> {
    let text = std::fs::read_to_string(file).map_err(|e| ChangelogError::Unreadable {
        file: file.to_owned(),
        reason: e.kind().to_string(),
    })?;
    let parsed = match parse_changelog::parse(&text) {
        Ok(p) => p,
        Err(_) => {
            return Err(ChangelogError::NoRelease {
                file: file.to_owned(),
            });
        }
    };
    let out: Vec<Release> = parsed
        .values()
        .filter(|r| !r.version.eq_ignore_ascii_case("unreleased"))
        .map(|r| {
            let title = r.title_no_link();
            let date = title
                .split_once(" - ")
                .map(|(_, d)| d.trim().to_owned())
                .filter(|d| !d.is_empty());
            Release {
                version: r.version.to_owned(),
                date,
                notes: strip_link_definitions(r.notes),
                file: file.to_owned(),
                line: heading_line(&text, r.version),
            }
        })
        .collect();
    if out.is_empty() {
        return Err(ChangelogError::NoRelease {
            file: file.to_owned(),
        });
    }
    Ok(out)
}

/// The newest released version.
pub fn newest(file: &Path) -> Result<Release, ChangelogError> {
    Ok(releases(file)?.remove(0))
}

/// The notes of `version`.
pub fn notes_for(file: &Path, version: &str) -> Result<Release, ChangelogError> {
    let all = releases(file)?;
    let newest = all[0].version.clone();
    all.into_iter()
        .find(|r| r.version == version)
        .ok_or_else(|| ChangelogError::Missing {
            file: file.to_owned(),
            version: version.to_owned(),
            newest,
        })
}

/// The notes without the link reference definitions that end the file.
fn strip_link_definitions(notes: &str) -> String {
    let mut lines: Vec<&str> = notes.trim_end().lines().collect();
    while let Some(last) = lines.last() {
        let t = last.trim();
        if t.is_empty() || (t.starts_with('[') && t.contains("]: ")) {
            lines.pop();
        } else {
            break;
        }
    }
    lines.join("\n").trim().to_owned()
}

/// Line of the `## [version]` (or `## version`) heading.
fn heading_line(text: &str, version: &str) -> usize {
    crate::version::line_of(text, |l| {
        let Some(rest) = l.trim_start().strip_prefix("## ") else {
            return false;
        };
        let rest = rest
            .trim_start()
            .trim_start_matches('[')
            .trim_start_matches('v');
        rest.starts_with(version)
            && rest[version.len()..]
                .chars()
                .next()
                .is_none_or(|c| !c.is_ascii_alphanumeric() && c != '.')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "# Changelog\n\n## [Unreleased]\n\n### Added\n\n- soon\n\n## [1.2.0] - 2026-02-01\n\n### Added\n\n- two\n\n## [1.1.0] - 2026-01-01\n\n### Fixed\n\n- one\n\n[Unreleased]: https://x/compare/v1.2.0...HEAD\n[1.2.0]: https://x/compare/v1.1.0...v1.2.0\n[1.1.0]: https://x/releases/v1.1.0\n";

    fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("CHANGELOG.md");
        std::fs::write(&p, text).unwrap();
        (tmp, p)
    }

    #[test]
    fn newest_skips_unreleased() {
        let (_t, p) = file(TEXT);
        let r = newest(&p).unwrap();
        assert_eq!(r.version, "1.2.0");
        assert_eq!(r.date.as_deref(), Some("2026-02-01"));
        assert_eq!(r.line, 9);
        assert_eq!(r.notes, "### Added\n\n- two");
    }

    #[test]
    fn notes_of_older_and_missing() {
        let (_t, p) = file(TEXT);
        assert_eq!(notes_for(&p, "1.1.0").unwrap().notes, "### Fixed\n\n- one");
        let e = notes_for(&p, "1.3.0").unwrap_err().to_string();
        assert!(
            e.contains("no entry for version 1.3.0") && e.contains("newest is 1.2.0"),
            "{e}"
        );
    }

    #[test]
    fn crlf_changelog_reads_as_lf() {
        // A CHANGELOG saved on Windows (git autocrlf, an editor's default).
        let (_t, p) = file(&TEXT.replace('\n', "\r\n"));
        let r = newest(&p).unwrap();
        assert_eq!(r.version, "1.2.0");
        assert_eq!(r.date.as_deref(), Some("2026-02-01"));
        assert_eq!(r.line, 9);
        assert_eq!(r.notes, "### Added\n\n- two");
        assert_eq!(notes_for(&p, "1.1.0").unwrap().notes, "### Fixed\n\n- one");
    }

    #[test]
    fn only_unreleased() {
        let (_t, p) = file("# Changelog\n\n## [Unreleased]\n\n- x\n");
        assert!(matches!(newest(&p), Err(ChangelogError::NoRelease { .. })));
    }
}
