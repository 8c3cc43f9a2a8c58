//! The files of a release: per package one sdist and any number of wheels,
//! all of one version, no two wheels claiming the same tag, and only
//! platform tags an index accepts. `dist/` is read here; the files of
//! downloaded CI artifacts are checked by the same rules
//! ([`check_release`]).
//!
//! Every problem is recorded into a [`Preflight`], so a release with three
//! things wrong says all three before anything is uploaded.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::package::{
    DistFile, FileError, Kind, Package, WheelName, describe_file, normalize_version, package_files,
    platform_problem,
};
use crate::preflight::Preflight;

/// The fix for files of `dist/`: `cargo xtask build` cleans stale files.
pub const BUILD_HINT: &str = "run `cargo xtask build` (it cleans stale files)";

/// One package's files, checked: the sdist first, then the wheels by name.
#[derive(Clone, Debug, Serialize)]
pub struct Release {
    /// The package.
    #[serde(skip)]
    pub package: Package,
    /// Its files.
    pub files: Vec<DistFile>,
}

/// Checks `dir` holds a release of `package` (see [`check_release`]);
/// returns its files, sdist first.
pub fn release_files(
    dir: &Path,
    package: &Package,
    pre: &mut Preflight,
) -> Result<Vec<DistFile>, FileError> {
    let paths = package_files(dir, &package.name)?;
    check_release(&paths, package, &dir.display().to_string(), BUILD_HINT, pre)
}

/// Checks that `paths` (the files of `package`, from `place`) are one
/// sdist and at least one wheel at the package's version, nothing of
/// another version, no two wheels claiming one tag, and no platform tag an
/// index refuses. Each problem goes to `pre`, with `fix` where a rebuild
/// is the fix. Returns the files of the version, sdist first.
pub fn check_release(
    paths: &[PathBuf],
    package: &Package,
    place: &str,
    fix: &str,
    pre: &mut Preflight,
) -> Result<Vec<DistFile>, FileError> {
    let version = &package.version.version;
    if paths.is_empty() {
        pre.problem(format!(
            "{place}: no sdist or wheel of {} {version}; {fix}",
            package.name
        ));
        return Ok(Vec::new());
    }
    let mut files = Vec::new();
    let mut other_versions = Vec::new();
    for p in paths {
        let f = describe_file(p)?;
        if normalize_version(&f.version) == normalize_version(version) {
            files.push(f);
        } else {
            other_versions.push(f.name);
        }
    }
    if !other_versions.is_empty() {
        pre.problem(format!(
            "{place} holds files of {} of another version than {version} ({}): one release is one version; {fix}",
            package.name,
            other_versions.join(", ")
        ));
    }
    let sdists: Vec<&str> = files
        .iter()
        .filter(|f| f.kind == Kind::Sdist)
        .map(|f| f.name.as_str())
        .collect();
    match sdists.len() {
        0 => pre.problem(format!(
            "{place}: no sdist (.tar.gz) of {} {version}; every release needs one (pip builds from it \
             where no wheel fits); {fix}",
            package.name
        )),
        1 => {}
        _ => pre.problem(format!(
            "{place}: more than one sdist of {} {version} ({}); keep one",
            package.name,
            sdists.join(", ")
        )),
    }
    check_wheels(&files, package, place, fix, pre);
    files.sort_by_key(|f| (f.kind == Kind::Wheel, f.name.clone()));
    Ok(files)
}

/// The wheel rules: at least one; names that parse; platform tags an index
/// takes; no tag claimed by two wheels (an installer could pick either).
fn check_wheels(
    files: &[DistFile],
    package: &Package,
    place: &str,
    fix: &str,
    pre: &mut Preflight,
) {
    let version = &package.version.version;
    let mut named: Vec<(&str, WheelName)> = Vec::new();
    for f in files.iter().filter(|f| f.kind == Kind::Wheel) {
        match WheelName::parse(&f.name) {
            Some(w) => named.push((&f.name, w)),
            None => pre.problem(format!(
                "{place}: {} is not a valid wheel file name (name-version-python-abi-platform.whl); {fix}",
                f.name
            )),
        }
    }
    if named.is_empty() && files.iter().all(|f| f.kind != Kind::Wheel) {
        pre.problem(format!(
            "{place}: no wheel (.whl) of {} {version}; {fix}",
            package.name
        ));
    }
    for (name, w) in &named {
        for tag in &w.platform {
            if let Some(why) = platform_problem(tag) {
                pre.problem(format!("{place}: {name}: {why}"));
            }
        }
    }
    for (i, (a, wa)) in named.iter().enumerate() {
        let tags_a = wa.tags();
        for (b, wb) in &named[i + 1..] {
            let shared: Vec<String> = wb
                .tags()
                .into_iter()
                .filter(|t| tags_a.contains(t))
                .collect();
            if !shared.is_empty() {
                pre.problem(format!(
                    "{place}: {a} and {b} claim the same tags ({}): an installer could take either; \
                     keep one wheel per platform (remove the other, or rebuild: {fix})",
                    shared.join(", ")
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pypi::backend::Backend;

    fn pkg(dir: &Path) -> Package {
        let mut pkg = crate::pypi::package::test_package("mult-agentes", Backend::Build);
        pkg.version.version = "0.2.0".into();
        pkg.dir = dir.to_owned();
        pkg
    }

    fn problems(dir: &Path) -> (Vec<DistFile>, String) {
        let mut pre = Preflight::new();
        let files = release_files(dir, &pkg(dir), &mut pre).unwrap();
        let e = pre
            .finish()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        (files, e)
    }

    #[test]
    fn release_files_reports_every_problem() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("mult_agentes-0.1.0.tar.gz"), "a").unwrap();
        std::fs::write(tmp.path().join("mult_agentes-0.2.0-py3-none-any.whl"), "b").unwrap();
        std::fs::write(tmp.path().join("other-1.0.tar.gz"), "c").unwrap();
        let (files, e) = problems(tmp.path());
        assert_eq!(files.len(), 1);
        assert!(
            e.contains("another version") && e.contains("mult_agentes-0.1.0.tar.gz"),
            "{e}"
        );
        assert!(e.contains("no sdist"), "{e}");
        assert!(!e.contains("other-1.0"), "{e}");
    }

    #[test]
    fn many_wheels_one_per_tag() {
        let tmp = tempfile::tempdir().unwrap();
        let w = |n: &str| std::fs::write(tmp.path().join(n), n).unwrap();
        w("mult_agentes-0.2.0.tar.gz");
        w("mult_agentes-0.2.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl");
        w("mult_agentes-0.2.0-cp39-abi3-macosx_11_0_arm64.whl");
        w("mult_agentes-0.2.0-cp39-abi3-win_amd64.whl");
        let (files, e) = problems(tmp.path());
        assert_eq!(e, "");
        assert_eq!(files.len(), 4);
        assert_eq!(files[0].kind, Kind::Sdist);

        // A second wheel claiming one of those tags, and a linux_ wheel.
        w("mult_agentes-0.2.0-cp39-abi3-manylinux2014_x86_64.whl");
        w("mult_agentes-0.2.0-cp312-cp312-linux_x86_64.whl");
        let (_, e) = problems(tmp.path());
        assert!(
            e.contains("claim the same tags (cp39-abi3-manylinux2014_x86_64)"),
            "{e}"
        );
        assert!(e.contains("linux_x86_64") && e.contains("manylinux"), "{e}");
        assert_eq!(e.matches("claim the same tags").count(), 1, "{e}");
    }

    #[test]
    fn an_sdist_alone_or_wheels_alone_are_refused() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("mult_agentes-0.2.0.tar.gz"), "a").unwrap();
        let (_, e) = problems(tmp.path());
        assert!(e.contains("no wheel"), "{e}");
        std::fs::remove_file(tmp.path().join("mult_agentes-0.2.0.tar.gz")).unwrap();
        std::fs::write(tmp.path().join("mult_agentes-0.2.0-py3-none-any.whl"), "a").unwrap();
        let (_, e) = problems(tmp.path());
        assert!(e.contains("no sdist"), "{e}");
    }

    #[test]
    fn a_malformed_name_of_the_package_is_refused_with_the_rule() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("mult_agentes-0.2.0.tar.gz"), "a").unwrap();
        std::fs::write(
            tmp.path().join("mult_agentes-0.2.0-b-py3-none-any.whl"),
            "b",
        )
        .unwrap();
        let mut pre = Preflight::new();
        let e = release_files(tmp.path(), &pkg(tmp.path()), &mut pre)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("mult_agentes-0.2.0-b-py3-none-any.whl is not a distribution file name")
                && e.contains("PEP 625"),
            "{e}"
        );
    }
}
