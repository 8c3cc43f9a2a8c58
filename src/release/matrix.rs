//! The build matrix of a release: which platforms the configured packages
//! need wheels for, as the GitHub Actions matrix `release.yml` builds
//! (`cargo xtask release --plan-matrix`), and what the fan-in job checks
//! the downloaded artifacts against ([`super::artifacts`]).
//!
//! A pure-Python package (built by `python -m build`) needs one build, on
//! Linux: its wheel installs anywhere. A native one (maturin, cibuildwheel)
//! needs one build per platform. The JSON is documented in docs/release.md;
//! fields are only ever added.

use serde::{Deserialize, Serialize};

use crate::pypi::package::Package;

/// One platform build: a job of the matrix.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The platform's name (`pure`, `linux-x86_64`, `macos-arm64`...).
    pub name: String,
    /// The GitHub-hosted runner label the job runs on.
    pub os: String,
    /// The Rust target triple passed to `cargo xtask build --target`
    /// (empty for the pure build).
    pub target: String,
    /// `--manylinux` for Linux targets (`2014`, `musllinux_1_2`), else empty.
    pub manylinux: String,
    /// Whether to link with zig (`--zig`): cross builds and musl.
    pub zig: bool,
    /// The artifact the job uploads (`dist-<name>`).
    pub artifact: String,
    /// The packages built there, space-separated.
    pub packages: String,
    /// Whether the job's sdists are the release's (one job per package).
    pub sdist: bool,
    /// The platform tag its wheels carry, `*` matching any run of
    /// characters (`manylinux*_x86_64`, `win_amd64`, `any`).
    pub wheel: String,
}

impl Entry {
    /// The package names.
    pub fn package_names(&self) -> impl Iterator<Item = &str> {
        self.packages.split_whitespace()
    }

    /// Whether a wheel's platform tag is one this job builds.
    pub fn builds_platform(&self, tag: &str) -> bool {
        glob(&self.wheel, tag)
    }
}

/// The matrix: `{"include": [...]}`, for `strategy.matrix: ${{ fromJSON(…) }}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matrix {
    /// The jobs.
    pub include: Vec<Entry>,
}

/// (name, runner, target, manylinux, zig, wheel platform tag) of each
/// platform a native package is built for.
const NATIVE: &[(&str, &str, &str, &str, bool, &str)] = &[
    (
        "linux-x86_64",
        "ubuntu-latest",
        "x86_64-unknown-linux-gnu",
        "2014",
        false,
        "manylinux*_x86_64",
    ),
    (
        "linux-aarch64",
        "ubuntu-24.04-arm",
        "aarch64-unknown-linux-gnu",
        "2014",
        false,
        "manylinux*_aarch64",
    ),
    (
        "musllinux-x86_64",
        "ubuntu-latest",
        "x86_64-unknown-linux-musl",
        "musllinux_1_2",
        true,
        "musllinux*_x86_64",
    ),
    // macos-13 was retired in December 2025; macos-15-intel is the
    // x86_64 image (until August 2027).
    (
        "macos-x86_64",
        "macos-15-intel",
        "x86_64-apple-darwin",
        "",
        false,
        "macosx*_x86_64",
    ),
    (
        "macos-arm64",
        "macos-15",
        "aarch64-apple-darwin",
        "",
        false,
        "macosx*_arm64",
    ),
    (
        "windows-x86_64",
        "windows-latest",
        "x86_64-pc-windows-msvc",
        "",
        false,
        "win_amd64",
    ),
];

/// The matrix `packages` need: one `pure` job for the pure-Python ones,
/// one job per platform for the native ones. Empty when `packages` is.
pub fn plan(packages: &[Package]) -> Matrix {
    let names = |native: bool| {
        packages
            .iter()
            .filter(|p| p.backend.is_native() == native)
            .map(|p| p.name.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (pure, native) = (names(false), names(true));
    let mut include = Vec::new();
    if !pure.is_empty() {
        include.push(Entry {
            name: "pure".into(),
            os: "ubuntu-latest".into(),
            target: String::new(),
            manylinux: String::new(),
            zig: false,
            artifact: "dist-pure".into(),
            packages: pure,
            sdist: true,
            wheel: "any".into(),
        });
    }
    if !native.is_empty() {
        for (i, (name, os, target, manylinux, zig, wheel)) in NATIVE.iter().enumerate() {
            include.push(Entry {
                name: (*name).into(),
                os: (*os).into(),
                target: (*target).into(),
                manylinux: (*manylinux).into(),
                zig: *zig,
                artifact: format!("dist-{name}"),
                packages: native.clone(),
                sdist: i == 0,
                wheel: (*wheel).into(),
            });
        }
    }
    Matrix { include }
}

/// `pattern` with `*` matching any run of characters, against all of `text`.
fn glob(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for m in middle {
        match rest.find(m) {
            Some(i) => rest = &rest[i + m.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

/// A package named `name` at version 1.0, built by `backend` (tests).
#[cfg(test)]
pub(crate) fn test_package(name: &str, backend: crate::pypi::backend::Backend) -> Package {
    crate::pypi::package::test_package(name, backend)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pypi::backend::Backend;

    fn pkg(name: &str, backend: Backend) -> Package {
        test_package(name, backend)
    }

    #[test]
    fn pure_only_is_one_linux_job() {
        let m = plan(&[pkg("a", Backend::Build)]);
        assert_eq!(m.include.len(), 1);
        let e = &m.include[0];
        assert_eq!(
            (e.name.as_str(), e.os.as_str(), e.artifact.as_str()),
            ("pure", "ubuntu-latest", "dist-pure")
        );
        assert!(e.sdist && e.builds_platform("any") && !e.builds_platform("win_amd64"));
        assert_eq!(plan(&[]), Matrix::default());
    }

    #[test]
    fn native_is_every_platform() {
        let m = plan(&[
            pkg("a", Backend::Build),
            pkg("n", Backend::Maturin),
            pkg("c", Backend::Cibuildwheel),
        ]);
        let names: Vec<_> = m.include.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "pure",
                "linux-x86_64",
                "linux-aarch64",
                "musllinux-x86_64",
                "macos-x86_64",
                "macos-arm64",
                "windows-x86_64"
            ]
        );
        assert_eq!(m.include[0].packages, "a");
        assert!(m.include[1..].iter().all(|e| e.packages == "n c"));
        // One sdist per package.
        assert_eq!(
            m.include
                .iter()
                .filter(|e| e.sdist)
                .map(|e| e.name.as_str())
                .collect::<Vec<_>>(),
            ["pure", "linux-x86_64"]
        );
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(serde_json::from_str::<Matrix>(&json).unwrap(), m);
    }

    #[test]
    fn platform_globs() {
        let m = plan(&[pkg("n", Backend::Maturin)]);
        let by = |n: &str| m.include.iter().find(|e| e.name == n).unwrap().clone();
        assert!(by("linux-x86_64").builds_platform("manylinux_2_17_x86_64"));
        assert!(by("linux-x86_64").builds_platform("manylinux2014_x86_64"));
        assert!(!by("linux-x86_64").builds_platform("musllinux_1_2_x86_64"));
        assert!(!by("linux-x86_64").builds_platform("manylinux_2_17_aarch64"));
        assert!(by("macos-arm64").builds_platform("macosx_11_0_arm64"));
        assert!(!by("macos-arm64").builds_platform("macosx_10_12_x86_64"));
        assert!(by("windows-x86_64").builds_platform("win_amd64"));
        assert!(glob("a*b*c", "aXbYc") && !glob("a*b*c", "aXcYb") && glob("*", ""));
    }
}
