//! The fan-in of a build matrix: the artifacts every platform job uploaded,
//! downloaded by `actions/download-artifact` into `DIR/<artifact>/…`,
//! checked complete against the plan ([`super::matrix`]) and handed to the
//! publish step in place (nothing is copied or changed, so a dry run can
//! check them too).
//!
//! Complete means: every planned artifact is there, and holds for each of
//! its packages a wheel of the job's platform; each package's sdist comes
//! from the job the plan names for it. The release rules of the files
//! themselves (one version, one wheel per tag, platform tags an index
//! takes) are [`crate::pypi::dist`]'s, applied by the publish check.

use std::path::{Path, PathBuf};

use super::matrix::{Entry, Matrix};
use crate::error::describe;
use crate::preflight::{Preflight, Problem};
use crate::pypi::package::{self, Kind, Package, WheelName, file_name, normalize, parse_filename};

/// The files the artifacts hold for the release.
#[derive(Clone, Debug, Default)]
pub struct Collected {
    /// The distribution files, each once (sdists from their planned job).
    pub files: Vec<PathBuf>,
    /// What was found but not used, one line each (for an info message).
    pub ignored: Vec<String>,
}

/// Reads a plan written by `cargo xtask release --plan-matrix`.
pub fn read_plan(path: &Path) -> Result<Matrix, Problem> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Problem::new(format!(
            "--plan {}: cannot read it ({e}); write it with `cargo xtask release --plan-matrix > {}`",
            path.display(),
            path.display()
        ))
    })?;
    serde_json::from_str(&text).map_err(|e| {
        Problem::new(format!(
            "--plan {}: not a plan ({e}); write it with `cargo xtask release --plan-matrix`",
            path.display()
        ))
    })
}

/// Collects the files of every artifact of `plan` under `dir` for
/// `packages`, recording into `pre` each planned platform whose artifact
/// or wheel is missing (naming the platform and the artifact), and two
/// files of one name with different bytes.
pub fn collect(dir: &Path, plan: &Matrix, packages: &[Package], pre: &mut Preflight) -> Collected {
    let mut out = Collected::default();
    if !dir.is_dir() {
        pre.problem(format!(
            "--from-artifacts {}: no such folder; download the build jobs' artifacts there \
             (actions/download-artifact with `path: {}`, one folder per artifact)",
            dir.display(),
            dir.display()
        ));
        return out;
    }
    if plan.include.is_empty() {
        pre.problem("the build plan is empty: release-kit.toml names no Python package");
        return out;
    }
    // (name, sha256) of every file taken, so a file two jobs both
    // uploaded is taken once, and two different files of one name refused.
    let mut taken: Vec<(String, String, PathBuf)> = Vec::new();
    for entry in &plan.include {
        // A job of packages not selected (`--package` with a `--plan` of
        // them all) is not needed.
        if !entry
            .package_names()
            .any(|n| packages.iter().any(|p| normalize(n) == normalize(&p.name)))
        {
            continue;
        }
        let folder = dir.join(&entry.artifact);
        let files = match list(&folder) {
            Ok(f) => f,
            Err(_) => {
                pre.problem(format!(
                    "platform {}: its artifact `{}` is missing from {}; the build job on {} ({}) \
                     failed or did not upload it: re-run the workflow's build jobs",
                    entry.name,
                    entry.artifact,
                    dir.display(),
                    entry.os,
                    if entry.target.is_empty() {
                        "pure Python"
                    } else {
                        &entry.target
                    }
                ));
                continue;
            }
        };
        for pkg in packages.iter().filter(|p| {
            entry
                .package_names()
                .any(|n| normalize(n) == normalize(&p.name))
        }) {
            take_package(entry, &folder, &files, pkg, &mut taken, &mut out, pre);
        }
    }
    // A package's sdist from another job when its planned job has none.
    for pkg in packages {
        if taken.iter().any(|(n, _, _)| is_sdist_of(n, &pkg.name)) {
            continue;
        }
        let other = plan.include.iter().find_map(|e| {
            list(&dir.join(&e.artifact))
                .ok()?
                .into_iter()
                .find(|p| is_sdist_of(&file_name(p), &pkg.name))
        });
        if let Some(p) = other {
            add(&p, &mut taken, pre);
        }
    }
    out.files = taken.into_iter().map(|(_, _, path)| path).collect();
    for d in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let name = d.file_name().to_string_lossy().into_owned();
        if !plan.include.iter().any(|e| e.artifact == name) {
            out.ignored
                .push(format!("{name} (not an artifact of the plan)"));
        }
    }
    out
}

/// Takes `pkg`'s files from one job's `files`: every wheel, and the sdist
/// when the job is the package's sdist job; a job without a wheel of its
/// platform is a problem.
fn take_package(
    entry: &Entry,
    folder: &Path,
    files: &[PathBuf],
    pkg: &Package,
    taken: &mut Vec<(String, String, PathBuf)>,
    out: &mut Collected,
    pre: &mut Preflight,
) {
    let mut has_platform_wheel = false;
    for path in files
        .iter()
        .filter(|p| package::is_package_file(p, &pkg.name))
    {
        let name = file_name(path);
        match parse_filename(&name).map(|(_, _, k)| k) {
            Some(Kind::Wheel) => {
                has_platform_wheel |= WheelName::parse(&name)
                    .is_some_and(|w| w.platform.iter().any(|t| entry.builds_platform(t)));
                add(path, taken, pre);
            }
            Some(Kind::Sdist) if entry.sdist => add(path, taken, pre),
            Some(Kind::Sdist) => out.ignored.push(format!(
                "{}/{name} (the sdist is taken from the plan's sdist job)",
                entry.artifact
            )),
            None => {}
        }
    }
    if !has_platform_wheel {
        pre.problem(format!(
            "platform {}: artifact `{}` ({}) holds no {} wheel of {}; its build job did not build \
             it: re-run the workflow's build jobs",
            entry.name,
            entry.artifact,
            folder.display(),
            entry.wheel,
            pkg.name
        ));
    }
}

/// Takes `path` unless a file of its name was taken: the same bytes are
/// one file; other bytes under one name are a problem.
fn add(path: &Path, taken: &mut Vec<(String, String, PathBuf)>, pre: &mut Preflight) {
    let file = match package::describe_file(path) {
        Ok(f) => f,
        Err(e) => {
            pre.problem(describe(&e));
            return;
        }
    };
    match taken.iter().find(|(n, _, _)| *n == file.name) {
        Some((_, sha, _)) if *sha == file.sha256 => {}
        Some((_, _, first)) => pre.problem(format!(
            "{} and {} are two different files of one name; an index takes one: \
             re-run the workflow's build jobs",
            first.display(),
            path.display()
        )),
        None => taken.push((file.name, file.sha256, path.to_owned())),
    }
}

fn is_sdist_of(name: &str, package: &str) -> bool {
    parse_filename(name).is_some_and(|(p, _, k)| k == Kind::Sdist && p == normalize(package))
}

/// The files of one artifact folder, sorted; an error when it is missing.
fn list(folder: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(folder)?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pypi::backend::Backend;
    use crate::release::matrix::{plan, test_package as pkg};

    /// Writes the files a complete matrix run uploads; each job also
    /// uploads its own copy of the native sdist.
    fn complete(dir: &Path, m: &Matrix) {
        for e in &m.include {
            let folder = dir.join(&e.artifact);
            std::fs::create_dir_all(&folder).unwrap();
            for p in e.package_names() {
                let plat = e.wheel.replace('*', "_2_17");
                let (py, abi) = if plat == "any" {
                    ("py3", "none")
                } else {
                    ("cp39", "abi3")
                };
                std::fs::write(
                    folder.join(format!("{p}-1.0-{py}-{abi}-{plat}.whl")),
                    &e.name,
                )
                .unwrap();
                std::fs::write(folder.join(format!("{p}-1.0.tar.gz")), &e.name).unwrap();
            }
        }
    }

    #[test]
    fn a_complete_set_is_collected_once() {
        let tmp = tempfile::tempdir().unwrap();
        let pkgs = [pkg("pure", Backend::Build), pkg("nat", Backend::Maturin)];
        let m = plan(&pkgs);
        complete(tmp.path(), &m);
        std::fs::create_dir(tmp.path().join("release-notes")).unwrap();
        let mut pre = Preflight::new();
        let c = collect(tmp.path(), &m, &pkgs, &mut pre);
        pre.finish().unwrap();
        let names: Vec<String> = c.files.iter().map(|p| file_name(p)).collect();
        assert_eq!(names.len(), 2 + 7, "{names:?}");
        let sdists: Vec<&PathBuf> = c
            .files
            .iter()
            .filter(|p| file_name(p).ends_with(".tar.gz"))
            .collect();
        assert_eq!(sdists.len(), 2);
        assert!(
            sdists
                .iter()
                .any(|p| p.ends_with("dist-linux-x86_64/nat-1.0.tar.gz"))
        );
        assert!(
            c.ignored.iter().any(|i| i.starts_with("release-notes")),
            "{:?}",
            c.ignored
        );
    }

    #[test]
    fn a_missing_platform_is_named_with_its_artifact() {
        let tmp = tempfile::tempdir().unwrap();
        let pkgs = [pkg("nat", Backend::Maturin)];
        let m = plan(&pkgs);
        complete(tmp.path(), &m);
        std::fs::remove_dir_all(tmp.path().join("dist-macos-arm64")).unwrap();
        // A job that uploaded the wrong platform's wheel.
        let win = tmp.path().join("dist-windows-x86_64");
        std::fs::remove_dir_all(&win).unwrap();
        std::fs::create_dir(&win).unwrap();
        std::fs::write(win.join("nat-1.0-cp39-abi3-win32.whl"), "x").unwrap();
        let mut pre = Preflight::new();
        collect(tmp.path(), &m, &pkgs, &mut pre);
        let e = pre.finish().unwrap_err();
        assert_eq!(e.problems.len(), 2, "{e}");
        assert!(
            e.problems[0]
                .message
                .starts_with("platform macos-arm64: its artifact `dist-macos-arm64` is missing"),
            "{e}"
        );
        assert!(
            e.problems[1].message.contains("platform windows-x86_64")
                && e.problems[1].message.contains("win_amd64"),
            "{e}"
        );
    }

    #[test]
    fn jobs_of_packages_not_selected_are_not_needed() {
        let tmp = tempfile::tempdir().unwrap();
        let all = [pkg("pure", Backend::Build), pkg("nat", Backend::Maturin)];
        let m = plan(&all);
        complete(tmp.path(), &m);
        // Jobs that build only `nat`.
        let only_nat: Vec<&Entry> = m
            .include
            .iter()
            .filter(|e| e.package_names().all(|n| n == "nat"))
            .collect();
        assert!(!only_nat.is_empty(), "{m:?}");
        for e in &only_nat {
            std::fs::remove_dir_all(tmp.path().join(&e.artifact)).unwrap();
        }
        let mut pre = Preflight::new();
        let c = collect(tmp.path(), &m, &all[..1], &mut pre);
        pre.finish().unwrap();
        let names: Vec<String> = c.files.iter().map(|p| file_name(p)).collect();
        assert_eq!(names.len(), 2, "{names:?}");
        assert!(names.iter().all(|n| n.starts_with("pure-")), "{names:?}");
    }

    #[test]
    fn one_name_two_contents_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let pkgs = [pkg("pure", Backend::Build)];
        let mut m = plan(&pkgs);
        let mut second = m.include[0].clone();
        second.artifact = "dist-again".into();
        second.name = "again".into();
        second.sdist = false;
        m.include.push(second);
        complete(tmp.path(), &m);
        let mut pre = Preflight::new();
        collect(tmp.path(), &m, &pkgs, &mut pre);
        let e = pre.finish().unwrap_err().to_string();
        assert!(e.contains("two different files of one name"), "{e}");
        let mut pre = Preflight::new();
        collect(&tmp.path().join("nope"), &m, &pkgs, &mut pre);
        assert!(
            pre.finish()
                .unwrap_err()
                .to_string()
                .contains("no such folder")
        );
    }
}
