//! `vsce-package`: the Marketplace's rules checked up front, then
//! `vsce package` into `dist/<name>-<version>.vsix`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::manifest::{Manifest, PackageRules};
use super::npm::{self, NodeTools};
use super::prepublish::{self, Prepublish};
use super::verify::extension_dir;
use super::{VsceError, base_child, error_text};
use crate::config::Project;
use crate::error::{IoContext as _, cannot};
use crate::preflight::Preflight;
use crate::settings::Settings;
use crate::tools::Echo;

/// What `vsce-package` will do.
#[derive(Clone, Debug)]
pub struct PackagePlan {
    /// The extension's folder.
    pub ext_dir: PathBuf,
    /// Its manifest.
    pub manifest: Manifest,
    /// The `.vsix` to write.
    pub out: PathBuf,
    /// `--pre-release`.
    pub pre_release: bool,
    /// What runs before `vsce package` runs `vscode:prepublish`.
    pub prepublish: Prepublish,
}

/// A packaged extension.
#[derive(Clone, Debug, Serialize)]
pub struct Packaged {
    /// The `.vsix`.
    pub path: PathBuf,
    /// Its size in bytes.
    pub size: u64,
    /// Its SHA-256, hex.
    pub sha256: String,
    /// Whether it is marked as a pre-release.
    pub pre_release: bool,
}

/// A manifest that was read, and how it ships.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The manifest.
    pub manifest: Manifest,
    /// Packaged and published with `--pre-release`: asked for, or in
    /// lockstep with a Python pre-release (`pep440::marketplace_version`).
    pub pre_release: bool,
}

/// Reads the manifest and checks every rule: version, publisher, engine,
/// README, LICENSE, lockstep. Returns the manifest even when some rules
/// fail (callers need its name), `None` when it cannot be read.
pub fn check_manifest(
    project: &Project,
    pre_release: bool,
    pre: &mut Preflight,
) -> Option<Checked> {
    let dir = extension_dir(project, pre)?;
    let manifest = match Manifest::read(&dir) {
        Ok(m) => m,
        Err(e) => {
            pre.problem(format!("{e:#}"));
            return None;
        }
    };
    let lockstep_with = if project.config.vscode.lockstep {
        match crate::version::pyproject(&project.python_dir()) {
            Ok(v) => Some(v),
            Err(e) => {
                pre.problem(format!(
                    "lockstep: the extension's version must equal the Python package's, which cannot be read: {e:#}\n\
                     fix: point [python] path at the package, or set [vscode] lockstep = false in release-kit.toml"
                ));
                None
            }
        }
    } else {
        None
    };
    // A Python pre-release ships the extension as a Marketplace pre-release.
    let pre_release = pre_release
        || lockstep_with.as_ref().is_some_and(|py| {
            crate::pep440::Version::parse(&py.version).is_ok_and(|v| v.is_prerelease())
        });
    manifest.check(
        &PackageRules {
            pre_release,
            lockstep_with,
        },
        pre,
    );
    Some(Checked {
        manifest,
        pre_release,
    })
}

/// The `.vsix` path for a manifest: `dist/<name>-<version>.vsix`.
pub fn vsix_path(project: &Project, manifest: &Manifest) -> Option<PathBuf> {
    Some(project.dist_dir().join(manifest.vsix_name()?))
}

/// Checks what `vsce-package` needs; problems go to `pre`.
pub fn plan(project: &Project, pre_release: bool, pre: &mut Preflight) -> Option<PackagePlan> {
    let checked = check_manifest(project, pre_release, pre);
    npm::check(project, false, pre);
    let Checked {
        manifest,
        pre_release,
    } = checked?;
    let ext_dir = manifest.file.parent()?.to_owned();
    Some(PackagePlan {
        prepublish: prepublish::check(&ext_dir, pre),
        ext_dir,
        out: vsix_path(project, &manifest)?,
        manifest,
        pre_release,
    })
}

/// Runs `vsce package`, writing the `.vsix` atomically.
pub fn run(
    plan: &PackagePlan,
    tools: &NodeTools,
    settings: &Settings,
    echo: Echo,
) -> Result<Packaged, VsceError> {
    let dist = plan.out.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dist).io_context(cannot("create", dist))?;
    let file_name = plan.out.file_name().unwrap_or_default().to_string_lossy();
    let partial = dist.join(format!(".{file_name}.partial"));
    let _ = std::fs::remove_file(&partial);
    if plan.prepublish.npm_ci {
        prepublish::npm_ci(&plan.ext_dir, settings.redactor(), echo)?;
    }
    // --no-dependencies: the extension bundles what it needs; `npm list`
    // would otherwise fail on a machine without its node_modules.
    let mut child = base_child(tools.vsce.child(), settings)
        .args(["package", "--no-dependencies", "--out"])
        .arg(&partial)
        .current_dir(&plan.ext_dir)
        .echo(echo);
    if plan.pre_release {
        child = child.arg("--pre-release");
    }
    let out = child.run(settings.redactor())?;
    if !out.status.success() || !partial.is_file() {
        let _ = std::fs::remove_file(&partial);
        let mut detail = error_text(&out);
        if let Some(lines) = prepublish::script_error(&out) {
            detail.push_str(&format!(
                "\nthe extension's `vscode:prepublish` script (`{}`) failed:\n{lines}{}",
                plan.prepublish.script.as_deref().unwrap_or("?"),
                if lines.contains("not found") {
                    "\nfix: a tool the script runs is missing: list it in devDependencies and commit \
                     package-lock.json (release-kit runs `npm ci` before packaging)"
                } else {
                    ""
                }
            ));
        }
        let hint = if detail.contains(".env") || detail.to_ascii_lowercase().contains("secret") {
            "\nvsce's secret scan found a credential in a file it would ship: remove the file or list it \
             in .vscodeignore, and rotate the secret if it was ever published"
        } else {
            ""
        };
        return Err(VsceError::Tool(format!(
            "vsce package failed in {} ({}): {detail}{hint}",
            plan.ext_dir.display(),
            out.status
        )));
    }
    std::fs::rename(&partial, &plan.out).io_context(cannot("move the package to", &plan.out))?;
    let (size, sha256) = crate::digest::file_sha256(&plan.out)?;
    Ok(Packaged {
        path: plan.out.clone(),
        size,
        sha256,
        pre_release: plan.pre_release,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A project with a Python package of version `py` and an extension
    /// of version `ext`, in lockstep.
    fn project(py: &str, ext: &str) -> (tempfile::TempDir, Project) {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        for (rel, text) in [
            (
                "py/pyproject.toml",
                format!("[project]\nname = \"x\"\nversion = \"{py}\"\n"),
            ),
            (
                "ext/package.json",
                format!(
                    "{{\n  \"name\": \"ext\",\n  \"version\": \"{ext}\",\n  \"publisher\": \"my-org\",\n  \
                     \"engines\": {{\"vscode\": \"^1.85.0\"}}\n}}\n"
                ),
            ),
            ("ext/README.md", "# ext\n".into()),
            ("ext/LICENSE", "MIT\n".into()),
            (
                "release-kit.toml",
                "[python]\npath = \"py\"\n[vscode]\npath = \"ext\"\n".into(),
            ),
        ] {
            std::fs::create_dir_all(root.join(rel).parent().unwrap()).unwrap();
            std::fs::write(root.join(rel), text).unwrap();
        }
        let p = Project::load(root).unwrap();
        (tmp, p)
    }

    #[test]
    fn a_python_pre_release_packages_the_extension_as_a_marketplace_pre_release() {
        let (_t, p) = project("1.4.0rc1", "1.3.3001");
        let mut pre = Preflight::new();
        let checked = check_manifest(&p, false, &mut pre).unwrap();
        assert!(pre.problems().is_empty(), "{:?}", pre.problems());
        assert!(checked.pre_release);
        let (_t, p) = project("1.4.0", "1.4.0");
        let mut pre = Preflight::new();
        assert!(!check_manifest(&p, false, &mut pre).unwrap().pre_release);
        assert!(pre.problems().is_empty(), "{:?}", pre.problems());
    }
}
