//! Distribution file names: sdists (`name-version.tar.gz`, PEP 625) and
//! wheels (PEP 427 and the binary distribution format), their
//! compatibility tags (PEP 425), and project names compared as PEP 503
//! normalizes them.

use serde::Serialize;

pub use crate::decode::pypi_name::normalize;

/// Splits a distribution file name into (normalized project, version,
/// kind): a wheel's by [`WheelName::parse`], an sdist's as PEP 625 writes
/// it (`name-version.tar.gz`, the name with `_` for `-`). `None` for any
/// other name, a pre-PEP 625 `my-pkg-1.0.tar.gz` too (PyPI deprecates them).
pub fn parse_filename(name: &str) -> Option<(String, String, Kind)> {
    if name.ends_with(".whl") {
        let w = WheelName::parse(name)?;
        return Some((normalize(&w.distribution), w.version, Kind::Wheel));
    }
    let (project, version) = name.strip_suffix(".tar.gz")?.split_once('-')?;
    (is_distribution(project) && is_version(version))
        .then(|| (normalize(project), version.to_owned(), Kind::Sdist))
}

/// The name of a file that claims to be `package`'s, whether or not the
/// rest of it is well-formed: the name field of a `.whl`, or of a
/// `.tar.gz` as older tools wrote it (`my-pkg-1.0.tar.gz`). Such a file
/// is the package's to describe (and to refuse with a reason), never
/// silently passed over.
pub fn claims(name: &str, package: &str) -> bool {
    let field = if let Some(stem) = name.strip_suffix(".whl") {
        stem.split('-').next()
    } else if let Some(stem) = name.strip_suffix(".tar.gz") {
        stem.rsplit_once('-').map(|(p, _)| p)
    } else {
        None
    };
    field.is_some_and(|p| normalize(p) == normalize(package))
}

/// A distribution field of a file name: letters, digits, `_` and `.`
/// (the binary distribution format normalizes `-` to `_`).
fn is_distribution(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.')
}

/// A version field: PEP 440's characters (`1!2.0rc1.post1+local.7`), no `-`.
fn is_version(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphanumeric())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'+' | b'!'))
}

/// A compressed tag set (`py2.py3`, `manylinux_2_17_x86_64.manylinux2014_x86_64`).
fn is_tag_set(s: &str) -> bool {
    s.split('.')
        .all(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// sdist or wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `.tar.gz`
    Sdist,
    /// `.whl`
    Wheel,
}

/// A version's key for comparing, as PEP 440 compares (`1.0.0-RC1`,
/// `1.0.0rc1` and `1.0rc1` are one version): the normal form with the
/// release's trailing zeros dropped; text that is no version, lower case
/// with `.` for `_` and `-`.
pub fn normalize_version(v: &str) -> String {
    match crate::pep440::Version::parse(v) {
        Ok(mut p) => {
            while p.release.len() > 1 && p.release.last() == Some(&0) {
                p.release.pop();
            }
            p.to_string()
        }
        Err(_) => v.to_ascii_lowercase().replace(['_', '-'], "."),
    }
}

/// A wheel's file name, split.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WheelName {
    /// The distribution, as written in the file name (`mult_agentes`).
    pub distribution: String,
    /// The version.
    pub version: String,
    /// The optional build tag (`-1-`), which sorts rebuilds of one version.
    pub build: Option<String>,
    /// Python tags (`cp39`, `py3`); several when compressed (`py2.py3`).
    pub python: Vec<String>,
    /// ABI tags (`abi3`, `none`, `cp312`).
    pub abi: Vec<String>,
    /// Platform tags (`any`, `manylinux_2_17_x86_64`, `win_amd64`).
    pub platform: Vec<String>,
}

impl WheelName {
    /// Parses `name` (`dist-1.0(-build)?-py-abi-plat.whl`); `None` when it
    /// is not a wheel's name: a field empty or of characters the binary
    /// distribution format does not allow, or a build tag not starting
    /// with a digit.
    pub fn parse(name: &str) -> Option<WheelName> {
        let stem = name.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        let (distribution, version, build, tags) = match parts.as_slice() {
            [d, v, py, abi, plat] => (d, v, None, [py, abi, plat]),
            [d, v, b, py, abi, plat] if b.starts_with(|c: char| c.is_ascii_digit()) => {
                (d, v, Some(b.to_string()), [py, abi, plat])
            }
            _ => return None,
        };
        let build_ok = build.as_deref().is_none_or(|b| {
            b.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
        });
        if !is_distribution(distribution)
            || !is_version(version)
            || !build_ok
            || !tags.iter().all(|t| is_tag_set(t))
        {
            return None;
        }
        let split = |t: &str| t.split('.').map(str::to_owned).collect::<Vec<_>>();
        Some(WheelName {
            distribution: distribution.to_string(),
            version: version.to_string(),
            build,
            python: split(tags[0]),
            abi: split(tags[1]),
            platform: split(tags[2]),
        })
    }

    /// Every `python-abi-platform` tag the wheel claims, expanded from the
    /// compressed sets, sorted.
    pub fn tags(&self) -> Vec<String> {
        let mut out = Vec::new();
        for py in &self.python {
            for abi in &self.abi {
                for plat in &self.platform {
                    out.push(format!("{py}-{abi}-{plat}"));
                }
            }
        }
        out.sort();
        out
    }

    /// The tag triple as the file name writes it (`cp39-abi3-win_amd64`).
    pub fn tag_string(&self) -> String {
        format!(
            "{}-{}-{}",
            self.python.join("."),
            self.abi.join("."),
            self.platform.join(".")
        )
    }

    /// Whether the wheel is for any platform (`…-any`).
    pub fn is_pure(&self) -> bool {
        self.platform.iter().all(|p| p == "any")
    }
}

/// Why an index refuses a platform tag, with the fix; `None` when the tag
/// is one PyPI accepts.
///
/// PyPI (warehouse) refuses `linux_*` wheels: they are built against the
/// build machine's own libraries and install nowhere else. manylinux and
/// musllinux tags name the C library they need instead.
pub fn platform_problem(tag: &str) -> Option<String> {
    if let Some(arch) = tag.strip_prefix("linux_") {
        return Some(format!(
            "platform tag `{tag}` is refused by PyPI (it only installs on the machine that built it); \
             build a manylinux wheel instead: `cargo xtask build --manylinux 2014` (maturin), \
             or repair it with auditwheel (`auditwheel repair` gives manylinux_*_{arch})"
        ));
    }
    let known = tag == "any"
        || tag.starts_with("manylinux")
        || tag.starts_with("musllinux_")
        || tag.starts_with("macosx_")
        || matches!(tag, "win32" | "win_amd64" | "win_arm64")
        || tag.starts_with("ios_")
        || tag.starts_with("android_");
    (!known).then(|| {
        format!(
            "platform tag `{tag}` is not one an index accepts \
             (any, manylinux*, musllinux_*, macosx_*, win32, win_amd64, win_arm64, ios_*, android_*); \
             check the build's target"
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_compare_as_pep_440() {
        for (a, b) in [
            ("1.2.0-rc.1", "1.2.0rc1"),
            ("26.4", "26.4.0"),
            ("1.0_RC1", "1.0rc1"),
            ("1.0-1", "1.0.post1"),
        ] {
            assert_eq!(normalize_version(a), normalize_version(b), "{a} {b}");
        }
        assert_ne!(normalize_version("1.0"), normalize_version("1.0.post0"));
        assert_ne!(normalize_version("1.0+a"), normalize_version("1.0"));
    }

    #[test]
    fn filenames() {
        assert_eq!(
            parse_filename("mult_agentes-0.1.0-py3-none-any.whl"),
            Some(("mult-agentes".into(), "0.1.0".into(), Kind::Wheel))
        );
        assert_eq!(
            parse_filename("mult_agentes-0.1.0.tar.gz"),
            Some(("mult-agentes".into(), "0.1.0".into(), Kind::Sdist))
        );
        assert_eq!(parse_filename("notes.txt"), None);
        assert_eq!(parse_filename("x-1.whl"), None);
    }

    #[test]
    fn normalizes_names() {
        assert_eq!(normalize("Mult__Agentes.x"), "mult-agentes-x");
    }

    #[test]
    fn parses_names() {
        let w = WheelName::parse(
            "mult_agentes_native-0.2.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        )
        .unwrap();
        assert_eq!(w.distribution, "mult_agentes_native");
        assert_eq!(w.version, "0.2.0");
        assert_eq!(w.build, None);
        assert_eq!(
            w.tags(),
            [
                "cp39-abi3-manylinux2014_x86_64",
                "cp39-abi3-manylinux_2_17_x86_64"
            ]
        );
        assert!(!w.is_pure());
        let b = WheelName::parse("x-1.0-1-py2.py3-none-any.whl").unwrap();
        assert_eq!(b.build.as_deref(), Some("1"));
        assert_eq!(b.python, ["py2", "py3"]);
        assert_eq!(b.tag_string(), "py2.py3-none-any");
        assert!(b.is_pure());
        for bad in [
            "x-1.0.tar.gz",
            "x-1.0-py3-none.whl",
            "x-1.0-b-py3-none-any.whl",
            "x--py3-none-any.whl",
        ] {
            assert_eq!(WheelName::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn platform_tags() {
        for ok in [
            "any",
            "manylinux2014_aarch64",
            "manylinux_2_28_x86_64",
            "musllinux_1_2_x86_64",
            "macosx_11_0_arm64",
            "win_amd64",
        ] {
            assert_eq!(platform_problem(ok), None, "{ok}");
        }
        let e = platform_problem("linux_x86_64").unwrap();
        assert!(e.contains("manylinux") && e.contains("refused"), "{e}");
        assert!(platform_problem("solaris_2_11").is_some());
    }

    #[test]
    fn one_parser_refuses_what_only_the_looser_one_took() {
        for (name, parsed) in [
            (
                "mult_agentes-0.1.0-py3-none-any.whl",
                Some(("mult-agentes", "0.1.0", Kind::Wheel)),
            ),
            (
                "Mult.Agentes-1!2.0rc1+local.7-1-cp39-abi3-win_amd64.whl",
                Some(("mult-agentes", "1!2.0rc1+local.7", Kind::Wheel)),
            ),
            (
                "mult_agentes-0.1.0.tar.gz",
                Some(("mult-agentes", "0.1.0", Kind::Sdist)),
            ),
            (
                "Mult.Agentes-1.0.post1.tar.gz",
                Some(("mult-agentes", "1.0.post1", Kind::Sdist)),
            ),
            // Wheels: seven fields, a build tag not starting with a digit,
            // an empty tag or tag of a compressed set, a space.
            ("x-1.0-a-b-py3-none-any.whl", None),
            ("x-1.0-b-py3-none-any.whl", None),
            ("x-1.0--none-any.whl", None),
            ("x-1.0-py3.-none-any.whl", None),
            ("x y-1.0-py3-none-any.whl", None),
            // sdists: a name with `-` (before PEP 625), an empty name or
            // version, a version with a space, another archive.
            ("mult-agentes-0.1.0.tar.gz", None),
            ("-1.0.tar.gz", None),
            ("x-.tar.gz", None),
            ("x-1 0.tar.gz", None),
            ("x-1.0.zip", None),
        ] {
            let want = parsed.map(|(p, v, k)| (p.to_owned(), v.to_owned(), k));
            assert_eq!(parse_filename(name), want, "{name}");
        }
    }

    #[test]
    fn a_malformed_name_still_claims_its_package() {
        assert!(claims("mult-agentes-0.1.0.tar.gz", "Mult_Agentes"));
        assert!(claims("x-1.0-b-py3-none-any.whl", "x"));
        assert!(claims(
            "mult_agentes-0.1.0-py3-none-any.whl",
            "mult-agentes"
        ));
        assert!(!claims("mult_agentes_extra-0.1.0.tar.gz", "mult-agentes"));
        assert!(!claims("mult_agentes-0.1.0.zip", "mult-agentes"));
    }
}
