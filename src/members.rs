//! What must never ship inside a built package: the members of every sdist,
//! wheel and `.vsix` are listed and checked for secrets (`.env*`), version
//! control folders, an earlier build's `dist/`, a virtual environment, and
//! release-kit's own tools and caches. A build tool packs whatever the
//! project does not ignore; nothing else would notice a 7.8 MB sdist that
//! should be 6 KB, or a `.env` on PyPI.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::preflight::{Preflight, Problem};

/// The kinds of built file, told by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Packaging {
    /// A Python source distribution (`.tar.gz`).
    Sdist,
    /// A Python wheel (`.whl`).
    Wheel,
    /// A VS Code extension package (`.vsix`).
    Vsix,
}

impl Packaging {
    /// The kind of the file at `path`, by its name; `None` for other files.
    pub fn of(path: &Path) -> Option<Packaging> {
        let name = path.file_name()?.to_string_lossy().to_ascii_lowercase();
        if name.ends_with(".tar.gz") {
            Some(Packaging::Sdist)
        } else if name.ends_with(".whl") {
            Some(Packaging::Wheel)
        } else if name.ends_with(".vsix") {
            Some(Packaging::Vsix)
        } else {
            None
        }
    }

    /// How to keep a member out of this kind of package.
    fn fix(self) -> &'static str {
        match self {
            Packaging::Sdist | Packaging::Wheel => {
                "keep it out of the package: list it in .gitignore (maturin, hatchling, flit \
                 and setuptools-scm leave out what git ignores) or in the build backend's \
                 exclude list ([tool.maturin] exclude, [tool.hatch.build] exclude, \
                 MANIFEST.in `prune` for setuptools), then build again"
            }
            Packaging::Vsix => {
                "keep it out of the package: list it in the extension's .vscodeignore, \
                 then package again"
            }
        }
    }
}

/// Why a member list could not be read.
#[derive(Debug, thiserror::Error)]
pub enum MembersError {
    /// The file could not be read.
    #[error("cannot read it: {0}")]
    Io(#[from] std::io::Error),
    /// A zip (wheel, `.vsix`) that cannot be read.
    #[error("{0}")]
    Zip(#[from] crate::zip::ZipError),
}

/// The member names of the archive at `path` (a `.tar.gz` sdist, or a zip:
/// wheel, `.vsix`), as stored.
pub fn list(path: &Path, kind: Packaging) -> Result<Vec<String>, MembersError> {
    match kind {
        Packaging::Sdist => {
            let file = std::fs::File::open(path)?;
            let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
            let mut names = Vec::new();
            for entry in archive.entries()? {
                let entry = entry?;
                names.push(entry.path()?.to_string_lossy().into_owned());
            }
            Ok(names)
        }
        Packaging::Wheel | Packaging::Vsix => {
            let mut bytes = Vec::new();
            std::fs::File::open(path)?.read_to_end(&mut bytes)?;
            Ok(crate::zip::entry_names(&bytes)?)
        }
    }
}

/// A member's path inside the package's own tree: an sdist's top folder
/// (`name-version/`) and a `.vsix`'s `extension/` are dropped.
fn relative(kind: Packaging, member: &str) -> Option<String> {
    let member = member.trim_start_matches("./");
    let rest = match kind {
        Packaging::Sdist => member.split_once('/').map(|(_, r)| r)?,
        Packaging::Vsix => member.strip_prefix("extension/")?,
        Packaging::Wheel => member,
    };
    Some(rest.to_owned())
}

/// Why `member` (as stored in a package of `kind`) must not ship, or
/// `None` when it may.
pub fn forbidden(kind: Packaging, member: &str) -> Option<&'static str> {
    let rel = relative(kind, member)?;
    let parts: Vec<&str> = rel.split('/').filter(|p| !p.is_empty()).collect();
    let pair = |a: &str, b: &str| parts.windows(2).any(|w| w[0] == a && w[1] == b);
    if parts.iter().any(|p| matches!(*p, ".git" | ".hg" | ".svn")) {
        return Some("a version-control folder");
    }
    if parts
        .iter()
        .any(|p| p.starts_with(".env") && *p != ".env.example")
    {
        return Some("an environment file or folder (.env*), which may hold secrets");
    }
    if kind != Packaging::Vsix && parts.first() == Some(&"dist") {
        return Some("an earlier build's output (dist/)");
    }
    if pair("target", "release-kit")
        || pair("target", "node-tools")
        || parts.iter().any(|p| {
            p.starts_with("pypi-tools-")
                || p.starts_with("node-tools-")
                || *p == "release-kit-cache"
        })
    {
        return Some("release-kit's own tools or cache");
    }
    if pair("node_modules", ".cache") {
        return Some("a build cache (node_modules/.cache)");
    }
    if parts.last() == Some(&"pyvenv.cfg") {
        return Some("a Python virtual environment");
    }
    None
}

/// The problems of the package at `path`: one per reason, naming up to
/// three members and how many there are, and the fix. A file of another
/// kind has none; one that cannot be read is a problem itself.
pub fn problems(path: &Path) -> Vec<Problem> {
    let Some(kind) = Packaging::of(path) else {
        return Vec::new();
    };
    let names = match list(path, kind) {
        Ok(names) => names,
        Err(e) => {
            return vec![Problem::at(
                format!("cannot list the package's files: {e}; build it again"),
                path,
                None,
            )];
        }
    };
    let mut by_reason: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    for name in names {
        if let Some(reason) = forbidden(kind, &name) {
            by_reason.entry(reason).or_default().push(name);
        }
    }
    by_reason
        .into_iter()
        .map(|(reason, members)| {
            let shown: Vec<&str> = members.iter().take(3).map(String::as_str).collect();
            let more = match members.len() {
                n if n > shown.len() => format!(" and {} more", n - shown.len()),
                _ => String::new(),
            };
            Problem::at(
                format!("holds {reason}: {}{more}; {}", shown.join(", "), kind.fix()),
                path,
                None,
            )
        })
        .collect()
}

/// Records the problems of every package among `paths` into `pre`.
pub fn check<'a>(paths: impl IntoIterator<Item = &'a Path>, pre: &mut Preflight) {
    for path in paths {
        for p in problems(path) {
            pre.problem(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_by_name() {
        assert_eq!(
            Packaging::of(Path::new("a-1.0.tar.gz")),
            Some(Packaging::Sdist)
        );
        assert_eq!(
            Packaging::of(Path::new("a-1.0-py3-none-any.whl")),
            Some(Packaging::Wheel)
        );
        assert_eq!(Packaging::of(Path::new("x.vsix")), Some(Packaging::Vsix));
        assert_eq!(Packaging::of(Path::new("SHA256SUMS")), None);
    }

    #[test]
    fn rules() {
        use Packaging::*;
        let bad = |k, m| forbidden(k, m).is_some();
        assert!(bad(Sdist, "pkg-1.0/.env"));
        assert!(bad(Sdist, "pkg-1.0/sub/.env.local"));
        assert!(bad(Sdist, "pkg-1.0/.env/bin/python"), "a venv named .env");
        assert!(!bad(Sdist, "pkg-1.0/.env.example"));
        assert!(bad(Sdist, "pkg-1.0/dist/pkg-0.9.tar.gz"));
        assert!(
            !bad(Sdist, "pkg-1.0/src/pkg/dist/x.py"),
            "only the top dist/"
        );
        assert!(bad(Sdist, "pkg-1.0/.git/config"));
        assert!(bad(Sdist, "pkg-1.0/.hg/store/x"));
        assert!(bad(
            Sdist,
            "pkg-1.0/target/release-kit/pypi-tools/bin/python"
        ));
        assert!(bad(Sdist, "pkg-1.0/target/node-tools/node_modules/x.js"));
        assert!(bad(
            Sdist,
            "pkg-1.0/cache/pypi-tools-0123456789ab/pyvenv.cfg"
        ));
        assert!(bad(Sdist, "pkg-1.0/venv/pyvenv.cfg"));
        assert!(
            !bad(Sdist, "pkg-1.0/target/debug/x"),
            "a plain cargo target/"
        );
        assert!(!bad(Sdist, "pkg-1.0/PKG-INFO"));
        assert!(bad(Wheel, "dist/x.whl"));
        assert!(bad(Wheel, "pkg/.env"));
        assert!(!bad(Wheel, "pkg/__init__.py"));
        assert!(!bad(Wheel, "pkg-1.0.dist-info/METADATA"));
        assert!(
            !bad(Vsix, "extension/dist/extension.js"),
            "bundlers write dist/"
        );
        assert!(bad(Vsix, "extension/node_modules/.cache/x"));
        assert!(bad(Vsix, "extension/.env"));
        assert!(!bad(Vsix, "extension.vsixmanifest"));
        assert!(!bad(Vsix, "[Content_Types].xml"));
    }

    fn sdist(dir: &Path, members: &[&str]) -> std::path::PathBuf {
        let path = dir.join("pkg-1.0.tar.gz");
        let file = std::fs::File::create(&path).unwrap();
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        for m in members {
            let mut header = tar::Header::new_gnu();
            header.set_size(1);
            header.set_mode(0o644);
            header.set_cksum();
            tar.append_data(&mut header, m, &b"x"[..]).unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        path
    }

    #[test]
    fn sdist_problems_name_archive_members_and_fix() {
        let tmp = tempfile::tempdir().unwrap();
        let long = format!("pkg-1.0/{}/deep.py", "d".repeat(120));
        let path = sdist(
            tmp.path(),
            &[
                "pkg-1.0/PKG-INFO",
                "pkg-1.0/dist/pkg-0.9.tar.gz",
                "pkg-1.0/dist/pkg-0.9-py3-none-any.whl",
                "pkg-1.0/dist/a",
                "pkg-1.0/dist/b",
                "pkg-1.0/.env",
                &long,
            ],
        );
        let problems = problems(&path);
        assert_eq!(problems.len(), 2, "{problems:?}");
        let text: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let dist = text.iter().find(|t| t.contains("dist/")).unwrap();
        assert!(dist.starts_with(&path.display().to_string()), "{dist}");
        assert!(dist.contains("pkg-1.0/dist/pkg-0.9.tar.gz") && dist.contains("and 1 more"));
        assert!(dist.contains(".gitignore") && dist.contains("[tool.maturin] exclude"));
        assert!(
            text.iter()
                .any(|t| t.contains("pkg-1.0/.env") && t.contains("secrets"))
        );
        let clean = tmp.path().join("clean");
        std::fs::create_dir(&clean).unwrap();
        assert!(super::problems(&sdist(&clean, &["pkg-1.0/PKG-INFO", &long])).is_empty());
    }

    #[test]
    fn vsix_and_wheel_from_zip() {
        let tmp = tempfile::tempdir().unwrap();
        let vsix = tmp.path().join("ext-1.0.0.vsix");
        crate::zip::write_by_python(
            &vsix,
            &[
                "z.writestr('extension.vsixmanifest', 'x')",
                "z.writestr('extension/dist/extension.js', 'x')",
                "z.writestr('extension/node_modules/.cache/babel/x', 'x')",
            ],
        );
        let problems = problems(&vsix);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].message.contains(".vscodeignore"));
        assert!(
            problems[0]
                .message
                .contains("extension/node_modules/.cache/babel/x")
        );
        let whl = tmp.path().join("pkg-1.0-py3-none-any.whl");
        crate::zip::write_by_python(&whl, &["z.writestr('pkg/__init__.py', '')"]);
        assert!(super::problems(&whl).is_empty());
        std::fs::write(tmp.path().join("broken.whl"), b"not a zip").unwrap();
        let broken = super::problems(&tmp.path().join("broken.whl"));
        assert!(broken[0].message.contains("cannot list"), "{broken:?}");
    }
}
