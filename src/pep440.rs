//! Python versions as packaging has them (PEP 440): `26.4`, `26.4rc1`,
//! `26.4.post1`, `26.4.dev0`, `1!2.0`, and local versions (`0.1.0+abc`),
//! which an index such as PyPI refuses. Pure functions: parsing into the
//! normalized form, ordering, and the checks a release needs.

use std::cmp::Ordering;
use std::fmt;
use std::sync::LazyLock;

/// Why a string is not a PEP 440 version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a PEP 440 version (N[.N…][aN|bN|rcN][.postN][.devN], e.g. 26.4, 26.4rc1, 26.4.dev0)"
)]
pub struct Pep440Error(pub String);

/// Why a valid version cannot be used where it was asked for (an index
/// that refuses local versions, the Marketplace's major.minor.patch).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnusableVersion {
    /// Not a version at all.
    #[error(transparent)]
    Invalid(#[from] Pep440Error),
    /// Valid, but not here; the message says why and what to do.
    #[error("{0}")]
    Refused(String),
}

/// A pre-release's kind, in their order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Pre {
    /// `a` (alpha).
    Alpha,
    /// `b` (beta).
    Beta,
    /// `rc` (release candidate; also spelled `c`, `pre`, `preview`).
    Rc,
}

/// A parsed version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// `N!`, 0 when absent.
    pub epoch: u64,
    /// `N.N…`.
    pub release: Vec<u64>,
    /// `aN`, `bN`, `rcN`.
    pub pre: Option<(Pre, u64)>,
    /// `.postN`.
    pub post: Option<u64>,
    /// `.devN`.
    pub dev: Option<u64>,
    /// `+local`, normalized (lower case, `.` separators).
    pub local: Option<String>,
}

// The pattern of PEP 440's appendix, accepting every spelling the
// specification normalizes.
static PATTERN: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(
        r"(?ix)^\s*v?
        (?:(?P<epoch>[0-9]+)!)?
        (?P<release>[0-9]+(?:\.[0-9]+)*)
        (?:[-_.]?(?P<pre_l>alpha|a|beta|b|preview|pre|c|rc)[-_.]?(?P<pre_n>[0-9]+)?)?
        (?:-(?P<post_n1>[0-9]+)|[-_.]?(?P<post_l>post|rev|r)[-_.]?(?P<post_n2>[0-9]+)?)?
        (?:[-_.]?(?P<dev_l>dev)[-_.]?(?P<dev_n>[0-9]+)?)?
        (?:\+(?P<local>[a-z0-9]+(?:[-_.][a-z0-9]+)*))?
        \s*$",
    )
    .expect("the PEP 440 pattern compiles")
});

fn number(m: Option<regex::Match<'_>>) -> Option<u64> {
    m.map(|m| m.as_str().parse().unwrap_or(u64::MAX))
}

impl Version {
    /// Parses `text`, accepting PEP 440's alternative spellings.
    pub fn parse(text: &str) -> Result<Version, Pep440Error> {
        let c = PATTERN
            .captures(text)
            .ok_or_else(|| Pep440Error(text.to_owned()))?;
        let release = c["release"]
            .split('.')
            .map(|n| n.parse().map_err(|_| Pep440Error(text.to_owned())))
            .collect::<Result<Vec<u64>, _>>()?;
        let pre = c.name("pre_l").map(|l| {
            let kind = match l.as_str().to_ascii_lowercase().as_str() {
                "a" | "alpha" => Pre::Alpha,
                "b" | "beta" => Pre::Beta,
                _ => Pre::Rc,
            };
            (kind, number(c.name("pre_n")).unwrap_or(0))
        });
        let post = number(c.name("post_n1")).or_else(|| {
            c.name("post_l")
                .map(|_| number(c.name("post_n2")).unwrap_or(0))
        });
        let dev = c
            .name("dev_l")
            .map(|_| number(c.name("dev_n")).unwrap_or(0));
        let local = c
            .name("local")
            .map(|l| l.as_str().to_ascii_lowercase().replace(['-', '_'], "."));
        Ok(Version {
            epoch: number(c.name("epoch")).unwrap_or(0),
            release,
            pre,
            post,
            dev,
            local,
        })
    }

    /// A pre-release (`a`, `b`, `rc`) or a development release.
    pub fn is_prerelease(&self) -> bool {
        self.pre.is_some() || self.dev.is_some()
    }

    /// The version without its local part.
    pub fn public(&self) -> Version {
        Version {
            local: None,
            ..self.clone()
        }
    }

    fn cmp_key(&self) -> (u64, Vec<u64>, [(i8, u64); 3]) {
        let mut release = self.release.clone();
        while release.len() > 1 && release.last() == Some(&0) {
            release.pop();
        }
        // A development release of a final version sorts before its
        // pre-releases; a final one after them.
        let pre = match (self.pre, self.post, self.dev) {
            (None, None, Some(_)) => (-1, 0),
            (None, _, _) => (4, 0),
            (Some((k, n)), _, _) => (k as i8, n),
        };
        let post = self.post.map_or((-1, 0), |n| (0, n));
        let dev = self.dev.map_or((1, 0), |n| (0, n));
        (self.epoch, release, [pre, post, dev])
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Version) -> Ordering {
        self.cmp_key()
            .cmp(&other.cmp_key())
            .then_with(|| match (&self.local, &other.local) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(a), Some(b)) => cmp_local(a, b),
            })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Version) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Local parts compare segment by segment; a number sorts after a word.
fn cmp_local(a: &str, b: &str) -> Ordering {
    let seg = |s: &str| -> (bool, u64, String) {
        match s.parse::<u64>() {
            Ok(n) => (true, n, String::new()),
            Err(_) => (false, 0, s.to_owned()),
        }
    };
    let (a, b): (Vec<_>, Vec<_>) = (
        a.split('.').map(seg).collect(),
        b.split('.').map(seg).collect(),
    );
    a.cmp(&b)
}

impl fmt::Display for Version {
    /// The normalized form (`1.0-RC1` → `1.0rc1`, `1.0-1` → `1.0.post1`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.epoch != 0 {
            write!(f, "{}!", self.epoch)?;
        }
        let release: Vec<String> = self.release.iter().map(u64::to_string).collect();
        f.write_str(&release.join("."))?;
        if let Some((kind, n)) = self.pre {
            let l = match kind {
                Pre::Alpha => "a",
                Pre::Beta => "b",
                Pre::Rc => "rc",
            };
            write!(f, "{l}{n}")?;
        }
        if let Some(n) = self.post {
            write!(f, ".post{n}")?;
        }
        if let Some(n) = self.dev {
            write!(f, ".dev{n}")?;
        }
        if let Some(l) = &self.local {
            write!(f, "+{l}")?;
        }
        Ok(())
    }
}

/// Whether two version texts name the same version: by PEP 440 when both
/// are versions (`1.0` is `1.0.0`, `1.0-RC1` is `1.0rc1`), else as text.
pub fn same(a: &str, b: &str) -> bool {
    match (Version::parse(a), Version::parse(b)) {
        (Ok(x), Ok(y)) => x.cmp(&y) == Ordering::Equal,
        _ => a == b,
    }
}

/// Why `index` refuses `version` when it is a local version (`+…`), in
/// words; `None` for a public version or text that is no version.
pub fn local_refusal(version: &str, index: &str) -> Option<String> {
    let v = Version::parse(version).ok()?;
    let local = v.local.as_ref()?;
    Some(format!(
        "{version} is a local version (+{local}): {index} refuses local versions (PEP 440 keeps \
         them for builds that are never published)"
    ))
}

/// Whether `version` may be uploaded to a public index (PyPI, TestPyPI):
/// the reason when not (a local version).
pub fn check_publishable(version: &str, index: &str) -> Result<Version, UnusableVersion> {
    let v = Version::parse(version)?;
    match local_refusal(version, index) {
        Some(why) => Err(UnusableVersion::Refused(format!(
            "{why}; release {} instead",
            v.public()
        ))),
        None => Ok(v),
    }
}

/// The extension's Marketplace version in lockstep with a Python version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MarketplaceVersion {
    /// `major.minor.patch`.
    pub version: String,
    /// Published with `--pre-release` (the Python version is one).
    pub pre_release: bool,
}

/// How a Python pre-release maps, for messages and docs.
pub const PRE_RELEASE_MAPPING: &str = "a Python pre-release of X.Y.0 ships the extension as X.(Y-1).P with \
     --pre-release (VS Code's convention: pre-releases on the minor below the release they lead to), P = N for \
     X.Y.0.devN, 1000+N for aN, 2000+N for bN, 3000+N for rcN: after every X.(Y-1) release, before X.Y.0";

/// The Marketplace version of the extension that ships with Python
/// version `version` in lockstep. A final release `X.Y[.Z]` is `X.Y.Z`.
/// The Marketplace takes `major.minor.patch` only and one version once,
/// pre-release or not, so a pre-release of `X.Y.0` is `X.(Y-1).P`,
/// published with `--pre-release` ([`PRE_RELEASE_MAPPING`]): `1.4.0rc1`
/// is `1.3.3001`. Other versions (a post or local release, an epoch, a
/// pre-release of `X.Y.Z` with Z > 0 or of `X.0.0`) have none.
pub fn marketplace_version(version: &Version) -> Result<MarketplaceVersion, UnusableVersion> {
    let refused = |why: &str| {
        Err(UnusableVersion::Refused(format!(
            "{version} {why}; set [vscode] lockstep = false in release-kit.toml and give the extension a \
             version of its own (X.Y.Z; `vsce-publish --pre-release` for a pre-release)"
        )))
    };
    if version.epoch != 0 || version.post.is_some() || version.local.is_some() {
        return refused(
            "has no major.minor.patch form for the Marketplace (an epoch, post or local release)",
        );
    }
    if version.release.len() > 3 {
        return refused("has more than three release numbers, which the Marketplace does not take");
    }
    let mut parts = version.release.clone();
    parts.resize(3, 0);
    let [x, y, z] = [parts[0], parts[1], parts[2]];
    if !version.is_prerelease() {
        return Ok(MarketplaceVersion {
            version: format!("{x}.{y}.{z}"),
            pre_release: false,
        });
    }
    let (stage, n) = match (version.pre, version.dev) {
        (None, Some(n)) => (0, n),
        (Some((kind, n)), None) => (kind as u64 + 1, n),
        _ => {
            return refused(
                "is a development release of a pre-release, which has no Marketplace form",
            );
        }
    };
    if z != 0 || y == 0 || n >= 1000 {
        return refused(&format!(
            "is a pre-release the Marketplace cannot order in lockstep ({PRE_RELEASE_MAPPING}; \
             a pre-release of X.Y.Z with Z > 0 or of X.0.0, or a number from 1000 on, has no such place)"
        ));
    }
    let patch = 1000 * stage + n;
    Ok(MarketplaceVersion {
        version: format!("{x}.{}.{patch}", y - 1),
        pre_release: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn accepts_and_normalizes() {
        for (given, normal) in [
            ("26.4", "26.4"),
            ("26.4rc1", "26.4rc1"),
            ("26.4.dev0", "26.4.dev0"),
            ("26.4.dev", "26.4.dev0"),
            ("1.0-RC1", "1.0rc1"),
            ("1.0.alpha.2", "1.0a2"),
            ("1.0b", "1.0b0"),
            ("1.0c3", "1.0rc3"),
            ("1.0-1", "1.0.post1"),
            ("1.0.post", "1.0.post0"),
            ("1.0rev2", "1.0.post2"),
            ("1.0r", "1.0.post0"),
            ("1.0.preview1", "1.0rc1"),
            ("1!2.0", "1!2.0"),
            ("v3.1.4", "3.1.4"),
            ("0.1.0+ABC-1_x", "0.1.0+abc.1.x"),
            ("2.0a1.post2.dev3", "2.0a1.post2.dev3"),
        ] {
            assert_eq!(v(given).to_string(), normal, "{given}");
        }
        for bad in [
            "",
            "1.0.0-",
            "one",
            "1..0",
            "1.0+",
            "1.0+a..b",
            "1.0 beta 2 extra",
        ] {
            assert!(Version::parse(bad).is_err(), "{bad}");
        }
        assert!(v("26.4rc1").is_prerelease() && v("26.4.dev0").is_prerelease());
        assert!(!v("26.4").is_prerelease() && !v("26.4.post1").is_prerelease());
    }

    #[test]
    fn orders_as_pep_440() {
        let ordered = [
            "1.0.dev0",
            "1.0a1.dev1",
            "1.0a1",
            "1.0a2",
            "1.0b1",
            "1.0rc1",
            "1.0",
            "1.0+abc",
            "1.0+abc.5",
            "1.0.post1.dev0",
            "1.0.post1",
            "1.1.dev0",
            "1.1",
            "2!0.1",
        ];
        for pair in ordered.windows(2) {
            assert!(v(pair[0]) < v(pair[1]), "{} < {}", pair[0], pair[1]);
        }
        assert_eq!(v("1.0").cmp(&v("1.0.0")), Ordering::Equal);
        assert!(v("26.4") < v("26.10"));
    }

    #[test]
    fn local_versions_are_refused_for_an_index_with_the_reason() {
        let err = check_publishable("0.1.0+abc", "PyPI")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("local version (+abc)") && err.contains("0.1.0 instead"),
            "{err}"
        );
        assert!(check_publishable("26.4rc1", "TestPyPI").is_ok());
        assert!(
            check_publishable("26.4.x", "PyPI")
                .unwrap_err()
                .to_string()
                .contains("not a PEP 440")
        );
    }

    #[test]
    fn marketplace_lockstep() {
        let m = |s: &str| marketplace_version(&v(s)).map(|m| (m.version, m.pre_release));
        assert_eq!(m("26.4").unwrap(), ("26.4.0".into(), false));
        assert_eq!(m("1.2.3").unwrap(), ("1.2.3".into(), false));
        // Pre-releases of 1.4.0 sit between every 1.3.x release and 1.4.0,
        // in PEP 440's order.
        let pre: Vec<String> = ["1.4.0.dev2", "1.4.0a1", "1.4.0b2", "1.4.0rc1", "1.4.0rc2"]
            .iter()
            .map(|s| {
                let (version, pre_release) = m(s).unwrap();
                assert!(pre_release, "{s}");
                version
            })
            .collect();
        assert_eq!(
            pre,
            ["1.3.2", "1.3.1001", "1.3.2002", "1.3.3001", "1.3.3002"]
        );
        for refused in [
            "1.2.3rc1",
            "2.0.0rc1",
            "1.4.0rc1.dev1",
            "1.2.3.4",
            "1.0.post1",
            "1!1.0",
            "1.0+l",
            "1.4rc1000",
        ] {
            let e = m(refused).unwrap_err().to_string();
            assert!(e.contains("lockstep = false"), "{refused}: {e}");
        }
        assert!(
            m("1.2.3rc1")
                .unwrap_err()
                .to_string()
                .contains("3000+N for rcN")
        );
    }

    #[test]
    fn same_version_by_pep_440() {
        assert!(same("1.0", "1.0.0") && same("1.0-RC1", "1.0rc1") && same("v2.1", "2.1"));
        assert!(!same("1.0", "1.0.post0") && !same("1.0+a", "1.0"));
        assert!(same("not a version", "not a version") && !same("x", "1.0"));
    }
}
