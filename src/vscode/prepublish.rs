//! The extension's own build, which `vsce package` runs as its
//! `vscode:prepublish` script (`tsc -p ./`, a bundler): the dependencies it
//! needs are installed first with `npm ci` from the extension's lockfile,
//! and when the script fails, its own error lines (`sh: 1: tsc: not
//! found`, `error TS2304: …`) are in the message, not only vsce's
//! "npm failed with exit code 127".

use std::path::{Path, PathBuf};

use super::VsceError;
use crate::preflight::Preflight;
use crate::secret::Redactor;
use crate::tools::{Child, Echo, Output, find_on_path, tail};

/// The lockfiles `npm ci` installs from.
const NPM_LOCKFILES: [&str; 2] = ["package-lock.json", "npm-shrinkwrap.json"];

/// What runs before `vsce package`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Prepublish {
    /// The `vscode:prepublish` script, when the manifest has one.
    pub script: Option<String>,
    /// `npm ci` in the extension's folder first: the script has
    /// dependencies to install, from the lockfile.
    pub npm_ci: bool,
}

/// The dependency names of a manifest's `devDependencies` and
/// `dependencies`, in that order.
fn dependency_names(doc: &serde_json::Value) -> Vec<String> {
    ["devDependencies", "dependencies"]
        .iter()
        .filter_map(|k| doc.get(k)?.as_object())
        .flat_map(|o| o.keys().cloned())
        .collect()
}

/// Reads the extension's `package.json` in `dir` and says what must run
/// before packaging; a script with dependencies but no npm lockfile is a
/// problem (with the fix). A manifest that cannot be read is left to the
/// manifest's own check.
pub fn check(dir: &Path, pre: &mut Preflight) -> Prepublish {
    let file = dir.join("package.json");
    let Some(doc) = std::fs::read_to_string(&file)
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
    else {
        return Prepublish::default();
    };
    let script = doc
        .get("scripts")
        .and_then(|s| s.get("vscode:prepublish"))
        .and_then(|s| s.as_str())
        .map(str::to_owned);
    let deps = dependency_names(&doc);
    let Some(shown) = script.as_deref().filter(|_| !deps.is_empty()) else {
        return Prepublish {
            script,
            npm_ci: false,
        };
    };
    if !NPM_LOCKFILES.iter().any(|l| dir.join(l).is_file()) {
        let other = ["yarn.lock", "pnpm-lock.yaml"]
            .into_iter()
            .find(|l| dir.join(l).is_file())
            .map(|l| format!(" ({l} is not read: the install is `npm ci`)"))
            .unwrap_or_default();
        pre.problem(format!(
            "{}: `vscode:prepublish` (`{shown}`) needs the extension's dependencies ({}), and there is no \
             package-lock.json to install them from with `npm ci`{other}\n\
             fix: run `npm install` in {} and commit the package-lock.json it writes",
            file.display(),
            deps.join(", "),
            dir.display()
        ));
        return Prepublish {
            script,
            npm_ci: false,
        };
    }
    if find_on_path("npm").is_none() {
        pre.problem(format!(
            "npm: not found on PATH; `npm ci` installs the dependencies of {}'s `vscode:prepublish`: \
             install npm (comes with Node.js)",
            file.display()
        ));
    }
    Prepublish {
        script,
        npm_ci: true,
    }
}

/// `npm ci` in `dir`: exactly the lockfile's dependencies, installed
/// fresh (the extension's own install scripts run, as they would for its
/// developers; no publishing token is in npm's environment).
pub fn npm_ci(dir: &Path, redactor: &Redactor, echo: Echo) -> Result<(), VsceError> {
    let npm: PathBuf = find_on_path("npm").ok_or_else(|| {
        VsceError::Tool("npm: not found on PATH; install npm (comes with Node.js)".into())
    })?;
    let out = Child::new(&npm)
        .args(["ci", "--no-audit", "--no-fund"])
        .env_remove("VSCE_PAT")
        .env_remove("OVSX_PAT")
        .env("npm_config_update_notifier", "false")
        .current_dir(dir)
        .echo(echo)
        .run(redactor)?;
    if !out.status.success() {
        return Err(VsceError::Tool(format!(
            "`npm ci` in {} failed ({}), before `vscode:prepublish`:\n{}\n\
             fix: make `npm ci` pass there (package-lock.json in step with package.json: run `npm install` \
             and commit the lockfile; the npm registry reachable)",
            dir.display(),
            out.status,
            tail(&out.combined(), 15)
        )));
    }
    Ok(())
}

/// When vsce failed because the prepublish script did (`npm failed with
/// exit code N`), the script's own lines: what it printed, without npm's
/// echo of the command and vsce's own lines. `None` for another failure.
pub fn script_error(out: &Output) -> Option<String> {
    let combined = out.combined();
    let failed = combined.lines().any(|l| {
        let l = l.to_ascii_lowercase();
        ["npm", "yarn", "pnpm"]
            .iter()
            .any(|t| l.contains(&format!("{t} failed with exit code")))
    });
    if !failed {
        return None;
    }
    let lines: Vec<&str> = out
        .stdout
        .lines()
        .skip_while(|l| !l.contains("Executing prepublish script"))
        .skip(1)
        .chain(out.stderr.lines())
        .map(str::trim_end)
        .filter(|l| {
            let t = l.trim_start();
            !t.is_empty()
                && !t.starts_with("> ")
                && !t.contains("failed with exit code")
                && !t.starts_with("Executing prepublish script")
        })
        .collect();
    (!lines.is_empty()).then(|| tail(&lines.join("\n"), 15))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(stdout: &str, stderr: &str) -> Output {
        Output {
            status: std::process::ExitStatus::default(),
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn the_scripts_own_error_line_is_found() {
        // vsce 3.9's words when `tsc` is missing (stdout, then stderr).
        let out = output(
            "Executing prepublish script 'npm run vscode:prepublish'...\n\n\
             > fixture-ts@0.5.0 vscode:prepublish\n> tsc -p ./\n\n",
            "sh: 1: tsc: not found\n \u{1b}[41m ERROR \u{1b}[49m npm failed with exit code 127\n",
        );
        assert_eq!(script_error(&out).as_deref(), Some("sh: 1: tsc: not found"));
        let compile = output(
            "Executing prepublish script 'npm run vscode:prepublish'...\n\n> x@1 vscode:prepublish\n> tsc -p ./\n\n\
             src/extension.ts(1,7): error TS2322: Type 'number' is not assignable to type 'string'.\n",
            " ERROR  npm failed with exit code 2\n",
        );
        assert_eq!(
            script_error(&compile).as_deref(),
            Some(
                "src/extension.ts(1,7): error TS2322: Type 'number' is not assignable to type 'string'."
            )
        );
        // Another failure of vsce: not the script's.
        assert_eq!(
            script_error(&output("", " ERROR  Missing publisher name.\n")),
            None
        );
    }

    fn manifest(files: &[(&str, &str)]) -> (tempfile::TempDir, Prepublish, Preflight) {
        let tmp = tempfile::tempdir().unwrap();
        for (name, text) in files {
            std::fs::write(tmp.path().join(name), text).unwrap();
        }
        let mut pre = Preflight::new();
        let p = check(tmp.path(), &mut pre);
        (tmp, p, pre)
    }

    #[test]
    fn npm_ci_runs_when_the_script_has_dependencies_and_a_lockfile() {
        let ts = r#"{"scripts": {"vscode:prepublish": "tsc -p ./"}, "devDependencies": {"typescript": "5.6.3"}}"#;
        let (_t, p, pre) = manifest(&[("package.json", ts), ("package-lock.json", "{}")]);
        assert!(p.npm_ci && pre.problems().is_empty(), "{p:?}");
        assert_eq!(p.script.as_deref(), Some("tsc -p ./"));
        // No lockfile: a problem, with the fix; nothing runs.
        let (t, p, pre) = manifest(&[("package.json", ts), ("yarn.lock", "")]);
        assert!(!p.npm_ci);
        let e = pre.finish().unwrap_err().to_string();
        assert!(
            e.contains("typescript") && e.contains("`npm install` in"),
            "{e}"
        );
        assert!(e.contains("yarn.lock is not read"), "{e}");
        assert!(e.contains(&t.path().display().to_string()), "{e}");
        // No script, or a script without dependencies: nothing to install.
        for text in [
            r#"{"devDependencies": {"typescript": "5.6.3"}}"#,
            r#"{"scripts": {"vscode:prepublish": "node build.js"}}"#,
        ] {
            let (_t, p, pre) = manifest(&[("package.json", text)]);
            assert!(!p.npm_ci && pre.problems().is_empty(), "{text}");
        }
    }
}
