//! The extension's `package.json` and the rules the Marketplace enforces,
//! checked before vsce runs so that every problem is reported at once, with
//! the file and line to fix.

use std::path::{Path, PathBuf};

use crate::preflight::{Preflight, Problem};
use crate::version::{VersionAt, line_of};

/// The fields of `package.json` release-kit reads.
#[derive(Clone, Debug)]
pub struct Manifest {
    /// The file.
    pub file: PathBuf,
    /// `name`.
    pub name: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `version`.
    pub version: Option<String>,
    /// `publisher`.
    pub publisher: Option<String>,
    /// `engines.vscode`.
    pub engines_vscode: Option<String>,
    text: String,
}

/// What the package step is asked for.
#[derive(Clone, Debug, Default)]
pub struct PackageRules {
    /// `--pre-release`.
    pub pre_release: bool,
    /// The Python package's version when releasing in lockstep, with where
    /// it was read; `None` when lockstep is off.
    pub lockstep_with: Option<VersionAt>,
}

/// The first VS Code that understands pre-release extensions.
pub const PRE_RELEASE_MIN_ENGINE: (u64, u64) = (1, 63);

impl Manifest {
    /// Reads `dir/package.json`; a file that cannot be read or parsed is a
    /// preflight [`Problem`].
    pub fn read(dir: &Path) -> Result<Manifest, Problem> {
        let file = dir.join("package.json");
        let text = std::fs::read_to_string(&file).map_err(|e| {
            Problem::new(format!(
                "cannot read {}; is [vscode] path in release-kit.toml right?: {e}",
                file.display()
            ))
        })?;
        let doc: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            Problem::new(format!(
                "{}:{}: not valid JSON ({}); fix the file",
                file.display(),
                e.line(),
                format!("{:?} error", e.classify()).to_lowercase()
            ))
        })?;
        let s = |key: &str| doc.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        Ok(Manifest {
            name: s("name"),
            display_name: s("displayName"),
            version: s("version"),
            publisher: s("publisher"),
            engines_vscode: doc
                .get("engines")
                .and_then(|e| e.get("vscode"))
                .and_then(|v| v.as_str())
                .map(str::to_owned),
            file,
            text,
        })
    }

    /// `version` with the file and line it is on.
    pub fn version_at(&self) -> Result<VersionAt, Problem> {
        match (self.version.clone(), self.line("version")) {
            (Some(version), Some(line)) => Ok(VersionAt::new(version, self.file.clone(), line)),
            _ => Err(Problem::new(format!(
                "{}: no \"version\" field",
                self.file.display()
            ))),
        }
    }

    /// The line of a top-level key, when present.
    pub fn line(&self, key: &str) -> Option<usize> {
        let quoted = format!("\"{key}\"");
        self.text
            .contains(&quoted)
            .then(|| line_of(&self.text, |l| l.trim_start().starts_with(&quoted)))
    }

    /// `file:line` of a top-level key (the file alone when absent).
    pub fn place(&self, key: &str) -> String {
        match self.line(key) {
            Some(line) => format!("{}:{line}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }

    /// `publisher.name`, the extension's identifier.
    pub fn id(&self) -> String {
        format!(
            "{}.{}",
            self.publisher.as_deref().unwrap_or("?"),
            self.name.as_deref().unwrap_or("?")
        )
    }

    /// The file vsce-package writes: `<name>-<version>.vsix`.
    pub fn vsix_name(&self) -> Option<String> {
        Some(format!(
            "{}-{}.vsix",
            self.name.as_ref()?,
            self.version.as_ref()?
        ))
    }

    /// Checks the rules of publishing: name, version, publisher, engine,
    /// README and LICENSE, lockstep. Every problem is recorded in `pre`.
    pub fn check(&self, rules: &PackageRules, pre: &mut Preflight) {
        let dir = self.file.parent().unwrap_or(Path::new("."));
        match self.name.as_deref() {
            None | Some("") => pre.problem(format!(
                "{}: no \"name\"; add a lowercase name such as \"name\": \"my-extension\"",
                self.file.display()
            )),
            Some(n) if !valid_name(n) => pre.problem(format!(
                "{}: \"name\" is {n:?}; the Marketplace needs lowercase letters, digits, `-`, `_` or `.` and no spaces",
                self.place("name")
            )),
            Some(_) => {}
        }
        match self.version.as_deref() {
            None | Some("") => pre.problem(format!(
                "{}: no \"version\"; add \"version\": \"X.Y.Z\"",
                self.file.display()
            )),
            Some(v) => {
                if let Err(why) = check_plain_version(v) {
                    pre.problem(format!("{}: {why}", self.place("version")));
                }
            }
        }
        match self.publisher.as_deref() {
            None | Some("") => pre.problem(format!(
                "{}: no \"publisher\"; add the Marketplace publisher ID, e.g. \"publisher\": \"my-org\" \
                 (create one at https://marketplace.visualstudio.com/manage)",
                self.file.display()
            )),
            Some(p) if !valid_publisher(p) => pre.problem(format!(
                "{}: \"publisher\" is {p:?}, which is not a publisher ID: it must match ^[a-z0-9][a-z0-9-]*$ \
                 (the ID from https://marketplace.visualstudio.com/manage, not the display name)",
                self.place("publisher")
            )),
            Some(_) => {}
        }
        match self.engines_vscode.as_deref() {
            None | Some("") => pre.problem(format!(
                "{}: no \"engines\": {{\"vscode\": \"^1.63.0\"}}; vsce needs the lowest VS Code version the extension runs on",
                self.file.display()
            )),
            Some(e) if rules.pre_release => match min_engine(e) {
                Some(min) if min >= PRE_RELEASE_MIN_ENGINE => {}
                Some(_) | None => pre.problem(format!(
                    "{}: \"engines.vscode\" is {e:?}; --pre-release needs VS Code 1.63 or newer: set \"vscode\": \"^1.63.0\" or higher",
                    self.place("engines")
                )),
            },
            Some(_) => {}
        }
        if find_file(dir, is_readme).is_none() {
            pre.problem(format!(
                "{}: no README.md; the Marketplace shows it as the extension's page: add one",
                dir.display()
            ));
        }
        if find_file(dir, is_license).is_none() {
            pre.problem(format!(
                "{}: no LICENSE (or LICENSE.md / LICENSE.txt); add the license text (vsce would otherwise ask, and \
                 answer `y` on its own when not on a terminal)",
                dir.display()
            ));
        }
        if let (Some(py), Some(v)) = (&rules.lockstep_with, self.version.as_deref()) {
            self.check_lockstep(py, v, pre);
        }
    }
}

impl Manifest {
    /// The extension's `version` `v` against the Python package's `py`
    /// in lockstep: a final release the same `X.Y.Z`, a pre-release the
    /// Marketplace version `pep440::marketplace_version` maps it to.
    fn check_lockstep(&self, py: &VersionAt, v: &str, pre: &mut Preflight) {
        let mapped = crate::pep440::Version::parse(&py.version)
            .map_err(|e| e.to_string())
            .and_then(|p| crate::pep440::marketplace_version(&p).map_err(|e| e.to_string()));
        match mapped {
            Ok(m) if m.version != v => pre.problem(format!(
                "version mismatch: the extension is {v} ({}) but the Python package is {py}{}; \
                 releases are in lockstep ([vscode] lockstep = true in release-kit.toml): set \"version\": \"{}\"",
                self.place("version"),
                if m.pre_release {
                    format!(
                        ", a pre-release, which the Marketplace takes as {} with --pre-release ({})",
                        m.version,
                        crate::pep440::PRE_RELEASE_MAPPING
                    )
                } else {
                    String::new()
                },
                m.version
            )),
            Ok(_) => {}
            Err(e) => pre.problem(format!("lockstep: the Python package is {py}: {e}")),
        }
    }
}

/// `X.Y.Z` with no pre-release or build suffix, as the Marketplace accepts.
pub fn check_plain_version(v: &str) -> Result<(), Problem> {
    let core = v.split(['-', '+']).next().unwrap_or(v);
    let core_ok = is_xyz(core);
    if core_ok && core.len() < v.len() {
        return Err(Problem::new(format!(
            "\"version\" is {v:?}; the Marketplace rejects semver pre-release and build suffixes. \
             Use a plain version (\"{core}\") and mark a pre-release with `cargo xtask vsce-package --pre-release` \
             and `vsce-publish --pre-release` instead (convention: odd minor for pre-releases, even for releases)"
        )));
    }
    if !core_ok {
        return Err(Problem::new(format!(
            "\"version\" is {v:?}; it must be three numbers X.Y.Z such as \"1.2.3\""
        )));
    }
    Ok(())
}

fn is_xyz(v: &str) -> bool {
    let parts: Vec<&str> = v.split('.').collect();
    parts.len() == 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && (p.len() == 1 || !p.starts_with('0'))
        })
}

/// `^[a-z0-9][a-z0-9-]*$`
pub fn valid_publisher(p: &str) -> bool {
    let b = p.as_bytes();
    !b.is_empty()
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.bytes().all(|c| {
            c.is_ascii_lowercase() || c.is_ascii_digit() || matches!(c, b'-' | b'_' | b'.')
        })
}

/// The lowest `major.minor` an `engines.vscode` range allows (`^1.85.0`,
/// `>=1.63.0`, `1.70.x`, `~1.90.2`). `None` for `*` or what is not understood.
pub fn min_engine(range: &str) -> Option<(u64, u64)> {
    let r = range
        .trim()
        .trim_start_matches(['^', '~', '>', '=', 'v', ' ']);
    let mut it = r.split(['.', ' ', '-']);
    let major = it.next()?.parse().ok()?;
    let minor = match it.next() {
        Some("x" | "*") | None => 0,
        Some(m) => m.parse().ok()?,
    };
    Some((major, minor))
}

fn is_readme(name: &str) -> bool {
    name.eq_ignore_ascii_case("readme.md")
}

fn is_license(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    matches!(n.as_str(), "license" | "license.md" | "license.txt")
}

fn find_file(dir: &Path, pred: fn(&str) -> bool) -> Option<PathBuf> {
    std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| {
            e.file_type().is_ok_and(|t| t.is_file()) && pred(&e.file_name().to_string_lossy())
        })
        .map(|e| e.path())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ext(json: &str, files: &[&str]) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("package.json"), json).unwrap();
        for f in files {
            std::fs::write(tmp.path().join(f), "x").unwrap();
        }
        tmp
    }

    fn problems(dir: &Path, rules: &PackageRules) -> Vec<String> {
        let m = Manifest::read(dir).unwrap();
        let mut pre = Preflight::new();
        m.check(rules, &mut pre);
        pre.problems().iter().map(|p| p.to_string()).collect()
    }

    const GOOD: &str = "{\n  \"name\": \"ext\",\n  \"version\": \"1.2.3\",\n  \"publisher\": \"my-org\",\n  \"engines\": {\"vscode\": \"^1.85.0\"}\n}\n";

    #[test]
    fn version_with_its_line() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("package.json"),
            "{\n  \"name\": \"x\",\n  \"version\": \"1.2.4\"\n}\n",
        )
        .unwrap();
        let js = Manifest::read(tmp.path()).unwrap().version_at().unwrap();
        assert_eq!((js.version.as_str(), js.line), ("1.2.4", 3));
    }

    #[test]
    fn good_manifest_passes() {
        let t = ext(GOOD, &["README.md", "LICENSE"]);
        assert_eq!(
            problems(t.path(), &PackageRules::default()),
            Vec::<String>::new()
        );
        let m = Manifest::read(t.path()).unwrap();
        assert_eq!(m.vsix_name().unwrap(), "ext-1.2.3.vsix");
        assert_eq!(m.id(), "my-org.ext");
    }

    #[test]
    fn pre_release_version_is_explained_with_line() {
        let t = ext(
            &GOOD.replace("1.2.3", "1.2.3-beta"),
            &["README.md", "LICENSE"],
        );
        let p = problems(t.path(), &PackageRules::default());
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("package.json:3"), "{p:?}");
        assert!(
            p[0].contains("\"1.2.3\"") && p[0].contains("--pre-release"),
            "{p:?}"
        );
    }

    #[test]
    fn all_problems_at_once() {
        let json = "{\"name\": \"Ext Name\", \"version\": \"1.2\", \"engines\": {\"vscode\": \"^1.50.0\"}}";
        let t = ext(json, &[]);
        let rules = PackageRules {
            pre_release: true,
            lockstep_with: None,
        };
        let p = problems(t.path(), &rules).join("\n");
        for want in [
            "\"name\"",
            "X.Y.Z",
            "no \"publisher\"",
            "1.63",
            "README",
            "LICENSE",
        ] {
            assert!(p.contains(want), "{want}: {p}");
        }
    }

    #[test]
    fn invalid_publisher_and_lockstep() {
        let t = ext(
            &GOOD.replace("my-org", "My Org"),
            &["readme.md", "LICENSE.txt"],
        );
        let rules = PackageRules {
            pre_release: false,
            lockstep_with: Some(crate::version::VersionAt::new(
                "1.2.4",
                "py/pyproject.toml",
                3,
            )),
        };
        let p = problems(t.path(), &rules);
        assert_eq!(p.len(), 2, "{p:?}");
        assert!(p[0].contains("^[a-z0-9][a-z0-9-]*$"), "{p:?}");
        assert!(
            p[1].contains("1.2.3") && p[1].contains("1.2.4 (py/pyproject.toml:3)"),
            "{p:?}"
        );
    }

    #[test]
    fn lockstep_maps_python_versions_to_the_marketplace() {
        let rules = |py: &str| PackageRules {
            pre_release: true,
            lockstep_with: Some(crate::version::VersionAt::new(py, "py/pyproject.toml", 3)),
        };
        for (py, ext_version, ok) in [
            ("26.4", "26.4.0", true),
            ("1.4.0rc1", "1.3.3001", true),
            ("1.4.0rc1", "1.4.0", false),
            ("1.2.3", "1.2.4", false),
        ] {
            let t = ext(
                &GOOD.replace("1.2.3", ext_version),
                &["README.md", "LICENSE"],
            );
            let p = problems(t.path(), &rules(py));
            assert_eq!(p.is_empty(), ok, "{py} / {ext_version}: {p:?}");
            if py == "1.4.0rc1" && !ok {
                let m = &p[0];
                assert!(
                    m.contains("\"version\": \"1.3.3001\"") && m.contains("--pre-release"),
                    "{m}"
                );
            }
        }
        let t = ext(GOOD, &["README.md", "LICENSE"]);
        let p = problems(t.path(), &rules("1.2.3rc1"));
        assert!(p[0].contains("lockstep = false"), "{p:?}");
    }

    #[test]
    fn versions_and_engines() {
        assert!(check_plain_version("0.1.0").is_ok());
        assert!(check_plain_version("10.20.30").is_ok());
        assert!(check_plain_version("01.2.3").is_err());
        assert!(
            check_plain_version("1.2.3+build")
                .unwrap_err()
                .message
                .contains("\"1.2.3\"")
        );
        assert_eq!(min_engine("^1.85.0"), Some((1, 85)));
        assert_eq!(min_engine(">=1.63.0"), Some((1, 63)));
        assert_eq!(min_engine("1.70.x"), Some((1, 70)));
        assert_eq!(min_engine("*"), None);
        assert!(valid_publisher("a-1") && !valid_publisher("-a") && !valid_publisher("A"));
    }
}
