//! The version setuptools-scm and hatch-vcs compute from git: on a commit
//! tagged `vX.Y.Z` (or `X.Y.Z`) with no uncommitted change, `X.Y.Z`;
//! anywhere else a development version with a local part
//! (`X.Y.(Z+1).devN+gHASH`), which PyPI refuses: that is a problem, said
//! before anything is built.

use std::path::Path;

use super::{Source, VersionAt, line_of};
use crate::pep440::{self, Version};
use crate::preflight::Problem;

/// What `git describe --dirty --tags --long` says of HEAD.
#[derive(Debug, PartialEq, Eq)]
struct Described {
    tag: String,
    distance: u64,
    hash: String,
    dirty: bool,
}

/// The version `tool` computes for the package of `pyproject` (`text`),
/// named `name`.
pub(super) fn version(
    pyproject: &Path,
    text: &str,
    tool: &'static str,
    name: &str,
) -> Result<VersionAt, Problem> {
    let table = if tool == "hatch-vcs" {
        "[tool.hatch.version]"
    } else {
        "[tool.setuptools_scm]"
    };
    let line = line_of(text, |l| l.trim_start().starts_with(table));
    if let Some((var, raw)) = pretend(name) {
        let v = Version::parse(&raw).map_err(|e| Problem::new(format!("{var}: {e}")))?;
        return Ok(VersionAt {
            version: v.to_string(),
            file: var.into(),
            line: 1,
            source: Source::Environment,
        });
    }
    let dir = pyproject.parent().unwrap_or(Path::new("."));
    let at = |message: String| Problem::at(message, pyproject, Some(line));
    let d = describe(dir).map_err(|Why(why)| {
        at(format!(
            "{tool} computes the version from git, and {why}: tag the release commit (`git tag vX.Y.Z`), \
             or set SETUPTOOLS_SCM_PRETEND_VERSION"
        ))
    })?;
    let bare = d.tag.strip_prefix(['v', 'V']).unwrap_or(&d.tag);
    let tagged = Version::parse(bare).map_err(|e| {
        at(format!(
            "{tool} computes the version from the git tag {}, which is not a version: {e}",
            d.tag
        ))
    })?;
    if d.distance == 0 && !d.dirty {
        return Ok(VersionAt {
            version: tagged.to_string(),
            file: pyproject.to_owned(),
            line,
            source: Source::GitTag,
        });
    }
    Err(at(not_on_a_tag(tool, &d, &tagged)))
}

/// Why a build off a release tag cannot be published, with the version
/// it would have and the fix.
fn not_on_a_tag(tool: &str, d: &Described, tagged: &Version) -> String {
    let next = next_release(tagged);
    let mut local = format!("g{}", d.hash);
    if d.dirty {
        local.push_str(&format!(".d{}", today()));
    }
    let example = format!("{next}.dev{}+{local}", d.distance);
    let refusal = pep440::local_refusal(&example, "PyPI").unwrap_or_default();
    let where_ = match (d.distance, d.dirty) {
        (0, _) => format!("HEAD is the tag {} but has uncommitted changes", d.tag),
        (n, dirty) => format!(
            "HEAD is {n} commit{} after the tag {}{}",
            if n == 1 { "" } else { "s" },
            d.tag,
            if dirty {
                " with uncommitted changes"
            } else {
                ""
            }
        ),
    };
    format!(
        "{tool} computes the version from git, and {where_}: the build would make a development version \
         with a local part, like {example}; {refusal}. To release, commit every change and tag the commit \
         (`git tag v{next}`)"
    )
}

/// The release after `v` as setuptools-scm guesses it: the last release
/// number plus one (a pre-release's own release).
fn next_release(v: &Version) -> String {
    let mut release = v.release.clone();
    if v.pre.is_none()
        && v.dev.is_none()
        && let Some(last) = release.last_mut()
    {
        *last += 1;
    }
    let parts: Vec<String> = release.iter().map(u64::to_string).collect();
    parts.join(".")
}

/// `SETUPTOOLS_SCM_PRETEND_VERSION_FOR_<NAME>` or
/// `SETUPTOOLS_SCM_PRETEND_VERSION`, which both tools take over git.
fn pretend(name: &str) -> Option<(String, String)> {
    let upper: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    [
        format!("SETUPTOOLS_SCM_PRETEND_VERSION_FOR_{upper}"),
        "SETUPTOOLS_SCM_PRETEND_VERSION".to_owned(),
    ]
    .into_iter()
    .find_map(|var| {
        std::env::var(&var)
            .ok()
            .filter(|v| !v.is_empty())
            .map(|v| (var, v))
    })
}

/// Why HEAD could not be described, in words.
struct Why(String);

/// `git describe --dirty --tags --long --match *[0-9]*` in `dir` (the
/// command setuptools-scm runs), parsed; why not, in words.
fn describe(dir: &Path) -> Result<Described, Why> {
    let sh = crate::tools::shell().ok_or(Why("git cannot be run".into()))?;
    sh.change_dir(dir);
    let inside = crate::tools::captured(xshell::cmd!(sh, "git rev-parse --is-inside-work-tree"))
        .ignore_stderr()
        .read();
    if !inside.is_ok_and(|o| o.trim() == "true") {
        return Err(Why(format!(
            "{} is not in a git repository (or git is not installed)",
            dir.display()
        )));
    }
    let out = crate::tools::captured(xshell::cmd!(
        sh,
        "git describe --dirty --tags --long --match *[0-9]*"
    ))
    .ignore_stderr()
    .read()
    .map_err(|_| Why("the repository has no version tag yet".into()))?;
    parse_describe(out.trim()).ok_or_else(|| {
        Why(format!(
            "`git describe` said {:?}, which is not understood",
            out.trim()
        ))
    })
}

/// `TAG-N-gHASH[-dirty]`.
fn parse_describe(text: &str) -> Option<Described> {
    let (rest, dirty) = match text.strip_suffix("-dirty") {
        Some(r) => (r, true),
        None => (text, false),
    };
    let mut parts = rest.rsplitn(3, '-');
    let hash = parts.next()?.strip_prefix('g')?;
    let distance = parts.next()?.parse().ok()?;
    let tag = parts.next()?;
    Some(Described {
        tag: tag.to_owned(),
        distance,
        hash: hash.to_owned(),
        dirty,
    })
}

/// Today's date, `YYYYMMDD` (UTC), as setuptools-scm writes it.
fn today() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    // Days to the civil date (H. Hinnant's algorithm).
    let z = (secs / 86_400) as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}{month:02}{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_output_is_parsed() {
        assert_eq!(
            parse_describe("v0.4.0-3-gabc1234-dirty"),
            Some(Described {
                tag: "v0.4.0".into(),
                distance: 3,
                hash: "abc1234".into(),
                dirty: true
            })
        );
        assert_eq!(
            parse_describe("release-1-0-0-0-gdeadbee").map(|d| (d.tag, d.distance)),
            Some(("release-1-0-0".into(), 0))
        );
        assert_eq!(parse_describe("v1.0"), None);
    }

    #[test]
    fn off_a_tag_says_what_the_build_would_make_and_that_pypi_refuses_it() {
        let d = Described {
            tag: "v0.4.0".into(),
            distance: 3,
            hash: "abc1234".into(),
            dirty: false,
        };
        let m = not_on_a_tag("hatch-vcs", &d, &Version::parse("0.4.0").unwrap());
        assert!(m.contains("3 commits after the tag v0.4.0"), "{m}");
        assert!(m.contains("like 0.4.1.dev3+gabc1234"), "{m}");
        assert!(m.contains("PyPI refuses local versions"), "{m}");
        assert!(m.contains("git tag v0.4.1"), "{m}");
        let dirty = Described {
            distance: 0,
            dirty: true,
            ..d
        };
        let m = not_on_a_tag("setuptools-scm", &dirty, &Version::parse("0.4.0").unwrap());
        assert!(
            m.contains("uncommitted changes") && m.contains("+gabc1234.d20"),
            "{m}"
        );
    }

    #[test]
    fn today_is_a_date() {
        let t = today();
        assert_eq!(t.len(), 8);
        assert!(t.starts_with("20"), "{t}");
    }
}
