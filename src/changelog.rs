//! CHANGELOG.md (Keep a Changelog 1.1.0): the notes of one version, and
//! the newest released version for the up-front version check. Another
//! format (reStructuredText, Markdown without `## [X.Y.Z]` headings) is
//! said to be one, with the settings that fit it, not parsed wrongly.

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

/// A version heading: anything from a digit on (PEP 440 and semver), or
/// `Unreleased`.
const VERSION_FORMAT: &str = r"^[0-9][0-9A-Za-z.!+_-]*$|^Unreleased$";

/// The two ways on for a changelog the release cannot read.
const FIXES: &str = "set `[release] changelog = false` in release-kit.toml (the release then reads no notes), \
     or point `[release] changelog = \"…\"` at a Keep a Changelog Markdown file \
     (`## [Unreleased]`, `## [X.Y.Z] - YYYY-MM-DD`)";

/// Why notes could not be found. Displayed as `file: reason`;
/// [`ChangelogError::reason`] leaves the file out, for a problem that
/// names it already.
#[derive(Debug, thiserror::Error)]
pub enum ChangelogError {
    /// The file cannot be read.
    #[error("{}: {}", .file.display(), self.reason())]
    Unreadable {
        /// The file.
        file: PathBuf,
        /// Why.
        reason: String,
    },
    /// The file is not Keep a Changelog Markdown.
    #[error("{}: {}", .file.display(), self.reason())]
    NotKeepAChangelog {
        /// The file.
        file: PathBuf,
        /// What shows it.
        why: String,
    },
    /// No released entry at all.
    #[error("{}: {}", .file.display(), self.reason())]
    NoRelease {
        /// The file.
        file: PathBuf,
    },
    /// No entry for this version.
    #[error("{}: {}", .file.display(), self.reason())]
    Missing {
        /// The file.
        file: PathBuf,
        /// The version looked for.
        version: String,
        /// The newest version the file has.
        newest: String,
    },
}

impl ChangelogError {
    /// The changelog file.
    pub fn file(&self) -> &Path {
        match self {
            ChangelogError::Unreadable { file, .. }
            | ChangelogError::NotKeepAChangelog { file, .. }
            | ChangelogError::NoRelease { file }
            | ChangelogError::Missing { file, .. } => file,
        }
    }

    /// What is wrong and what to do, without the file's name.
    pub fn reason(&self) -> String {
        match self {
            ChangelogError::Unreadable { reason, .. } => format!(
                "cannot be read ({reason}); create it (Keep a Changelog 1.1.0) or set [release] changelog \
                 in release-kit.toml"
            ),
            ChangelogError::NotKeepAChangelog { why, .. } => format!(
                "not Keep a Changelog Markdown ({why}), the only changelog format the release reads: {FIXES}"
            ),
            ChangelogError::NoRelease { .. } => "no released version (only [Unreleased]); add a \
                 `## [X.Y.Z] - YYYY-MM-DD` heading for the release"
                .to_owned(),
            ChangelogError::Missing {
                version, newest, ..
            } => format!(
                "no entry for version {version}; move the [Unreleased] notes under \
                 `## [{version}] - YYYY-MM-DD` (newest is {newest})"
            ),
        }
    }
}

/// Why `text` of `file` is not Keep a Changelog Markdown, if it is not:
/// no `## [` heading (reStructuredText, or Markdown of another style).
fn not_keep_a_changelog(file: &Path, text: &str) -> Option<String> {
    let headed = text.lines().any(|l| {
        l.trim_start()
            .strip_prefix("## ")
            .is_some_and(|r| r.trim_start().starts_with('['))
    });
    if headed {
        return None;
    }
    let ext = file
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    Some(match ext.as_str() {
        "rst" => "a reStructuredText file".to_owned(),
        "md" | "markdown" => "no `## [X.Y.Z]` or `## [Unreleased]` heading".to_owned(),
        _ => format!(
            "{}, with no `## [X.Y.Z]` heading",
            if ext.is_empty() {
                "a file without extension".to_owned()
            } else {
                format!("a .{ext} file")
            }
        ),
    })
}

/// Every released version, newest first (file order), `[Unreleased]` left out.
pub fn releases(file: &Path) -> Result<Vec<Release>, ChangelogError> {
    let text = std::fs::read_to_string(file).map_err(|e| ChangelogError::Unreadable {
        file: file.to_owned(),
        reason: e.kind().to_string(),
    })?;
    if let Some(why) = not_keep_a_changelog(file, &text) {
        return Err(ChangelogError::NotKeepAChangelog {
            file: file.to_owned(),
            why,
        });
    }
    // Python's versions as well as semver: `## [26.4]`, `## [1.2.0rc1]`
    // (parse-changelog's default takes semver only and skips the rest).
    let parsed = match parse_changelog::Parser::new()
        .version_format(VERSION_FORMAT)
        .and_then(|p| p.parse(&text))
    {
        Ok(p) => p,
        Err(e) => {
            return Err(ChangelogError::NotKeepAChangelog {
                file: file.to_owned(),
                why: e.to_string(),
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
        .find(|r| crate::pep440::same(&r.version, version))
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
    fn another_format_is_said_to_be_one_with_both_fixes() {
        for (name, text, why) in [
            (
                "CHANGES.rst",
                "Changes\n=======\n\n1.0.0 (2026-01-01)\n------------------\n\n- x\n",
                "reStructuredText",
            ),
            (
                "CHANGELOG.md",
                "# History\n\n## Version 1.0.0\n\n- x\n",
                "no `## [X.Y.Z]`",
            ),
            ("NEWS", "1.0.0\n- x\n", "a file without extension"),
        ] {
            let tmp = tempfile::tempdir().unwrap();
            let p = tmp.path().join(name);
            std::fs::write(&p, text).unwrap();
            let e = newest(&p).unwrap_err();
            assert!(matches!(e, ChangelogError::NotKeepAChangelog { .. }), "{e}");
            let m = e.to_string();
            assert!(m.contains(why) && m.contains("not Keep a Changelog"), "{m}");
            assert!(
                m.contains("changelog = false") && m.contains("[release] changelog = \"…\""),
                "{m}"
            );
            assert!(!m.contains("only [Unreleased]"), "{m}");
            // The file once: in the Display, never in the reason.
            assert_eq!(m.matches(name).count(), 1, "{m}");
            assert!(!e.reason().contains(name), "{m}");
        }
    }

    #[test]
    fn python_versions_are_headings_too() {
        let (_t, p) = file(&TEXT.replace("1.2.0", "1.2.0rc1").replace("1.1.0", "26.4"));
        assert_eq!(newest(&p).unwrap().version, "1.2.0rc1");
        assert_eq!(notes_for(&p, "1.2.0-RC1").unwrap().version, "1.2.0rc1");
        assert_eq!(notes_for(&p, "26.4.0").unwrap().notes, "### Fixed\n\n- one");
    }

    #[test]
    fn only_unreleased() {
        let (_t, p) = file("# Changelog\n\n## [Unreleased]\n\n- x\n");
        assert!(matches!(newest(&p), Err(ChangelogError::NoRelease { .. })));
    }
}
