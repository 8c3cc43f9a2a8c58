//! vsce and ovsx: pinned versions installed with `npm ci` from a shipped
//! lockfile ([`TOOLS_LOCK`]) into the per-user
//! cache ([`crate::cache_dir`]) on first use (under a file lock, so parallel runs
//! wait for one install), or taken from PATH with `[vscode] use-path-tools`.
//!
//! On Windows npm, npx and a globally installed vsce or ovsx are `.cmd`
//! batch shims ([`Os::npm_shim`]): they are found on PATH through
//! `PATHEXT` and run by their full path (Rust starts a `.cmd` through
//! `cmd.exe`, quoting its arguments: paths and flags, never a secret). The
//! managed tools are JavaScript files `node` runs, the same everywhere.

use std::path::{Path, PathBuf};

use super::VsceError;
use crate::config::Project;
use crate::error::{IoContext as _, cannot};
use crate::platform::Os;
use crate::preflight::Preflight;
use crate::secret::Redactor;
use crate::tools::ToolReport;
use crate::tools::{Child, find_on_path, tail, version_of};

/// The pinned `@vscode/vsce`: the newest 3.9.x, the last line that runs on
/// Node 20 (vsce 4 needs Node 22).
pub const VSCE_VERSION: &str = "3.9.2";
/// The pinned `ovsx`: 1.1.x is the last line that runs on Node 20.
pub const OVSX_VERSION: &str = "1.1.1";
/// Both pins: the key of their folder in the cache.
pub const PINS: [&str; 2] = [VSCE_VERSION, OVSX_VERSION];
/// The oldest Node both pinned tools run on.
pub const MIN_NODE_MAJOR: u64 = 20;
/// The Node that vsce 4 and ovsx 1.2 need.
pub const NODE_FOR_VSCE4: u64 = 22;

/// Where the managed tools live: in the per-user cache, keyed by the pins.
pub fn tools_dir(_project: &Project) -> PathBuf {
    crate::cache_dir::pinned("node-tools", &PINS)
}

/// How a tool is started.
#[derive(Clone, Debug)]
pub struct Tool {
    /// The program to run (`node`, or the tool itself from PATH).
    pub program: PathBuf,
    /// The script `node` runs, for managed tools.
    pub script: Option<PathBuf>,
    /// The tool's version, when known.
    pub version: Option<String>,
}

impl Tool {
    /// A command running this tool (arguments follow).
    pub fn child(&self) -> Child {
        let c = Child::new(&self.program);
        match &self.script {
            Some(s) => c.arg(s),
            None => c,
        }
    }
}

/// Node, vsce and ovsx, ready to run.
#[derive(Clone, Debug)]
pub struct NodeTools {
    /// `node`.
    pub node: PathBuf,
    /// Node's version, `major.minor.patch`.
    pub node_version: (u64, u64, u64),
    /// vsce.
    pub vsce: Tool,
    /// ovsx.
    pub ovsx: Tool,
}

/// `node --version` parsed (`v20.11.1` → `(20, 11, 1)`).
pub fn node_version(node: &Path) -> Option<(u64, u64, u64)> {
    parse_node_version(&version_of(node, &["--version"])?)
}

fn parse_node_version(s: &str) -> Option<(u64, u64, u64)> {
    let mut it = s.trim().trim_start_matches('v').split('.');
    Some((
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.split('-').next()?.parse().ok()?,
    ))
}

/// Checks, without installing anything, that the tools can be had: Node is
/// there and new enough, and either npm can provision the pins or (with
/// `use_path_tools`) vsce is on PATH. `need_ovsx` adds ovsx to the check.
pub fn check(project: &Project, need_ovsx: bool, pre: &mut Preflight) {
    let Some(node) = find_on_path("node") else {
        pre.problem(format!(
            "node: not found on PATH; vsce needs Node.js {MIN_NODE_MAJOR} or newer: install it \
             (https://nodejs.org, or `apt-get install nodejs npm`)"
        ));
        return;
    };
    let Some(v) = node_version(&node) else {
        pre.problem(format!(
            "{}: `node --version` did not run; reinstall Node.js {MIN_NODE_MAJOR} or newer",
            node.display()
        ));
        return;
    };
    if v.0 < MIN_NODE_MAJOR {
        pre.problem(format!(
            "{}: Node {}.{}.{} is too old; @vscode/vsce {VSCE_VERSION} needs Node {MIN_NODE_MAJOR} or newer \
             (and vsce 4.x needs Node {NODE_FOR_VSCE4}): install a newer Node.js",
            node.display(),
            v.0,
            v.1,
            v.2
        ));
        return;
    }
    if project.config.vscode.use_path_tools {
        let mut names = vec!["vsce"];
        if need_ovsx {
            names.push("ovsx");
        }
        for name in names {
            match find_on_path(name) {
                None => pre.problem(format!(
                    "{name}: not found on PATH, and [vscode] use-path-tools = true says to take it from there: \
                     `npm install -g {}` or drop use-path-tools to let release-kit provision it into its cache",
                    pin(name)
                )),
                Some(p) => {
                    let ver = version_of(&p, &["--version"]).unwrap_or_default();
                    if name == "vsce" && ver.trim().starts_with("4.") && v.0 < NODE_FOR_VSCE4 {
                        pre.problem(format!(
                            "{}: vsce {} needs Node {NODE_FOR_VSCE4} but this is Node {}: \
                             `npm install -g {}` (the last line for Node 20) or upgrade Node",
                            p.display(),
                            ver.trim(),
                            v.0,
                            pin("vsce")
                        ));
                    }
                }
            }
        }
    } else if !is_provisioned(project) && find_on_path("npm").is_none() {
        pre.problem(format!(
            "npm: not found on PATH; it installs {} into {} on first use: install npm (comes with Node.js)",
            pin("vsce"),
            tools_dir(project).display()
        ));
    }
}

fn pin(name: &str) -> String {
    match name {
        "vsce" => format!("@vscode/vsce@{VSCE_VERSION}"),
        _ => format!("ovsx@{OVSX_VERSION}"),
    }
}

/// The lockfile of the pins (generated with `npm install --package-lock-only
/// --omit-lockfile-registry-resolved=false` from the manifest [`provision`]
/// writes): `npm ci` installs exactly it, with no resolution at install time.
pub const TOOLS_LOCK: &str = include_str!("tools-lock/package-lock.json");

fn stamp_text() -> String {
    let lock = crate::digest::sha256_hex(TOOLS_LOCK.as_bytes());
    format!("{} {} lock:{}\n", pin("vsce"), pin("ovsx"), &lock[..12])
}

fn vsce_script(dir: &Path) -> PathBuf {
    dir.join("node_modules")
        .join("@vscode")
        .join("vsce")
        .join("vsce")
}

fn ovsx_script(dir: &Path) -> PathBuf {
    dir.join("node_modules")
        .join("ovsx")
        .join("bin")
        .join("ovsx")
}

/// True when the pinned tools are installed in the cache (`tools_dir`).
pub fn is_provisioned(project: &Project) -> bool {
    let dir = tools_dir(project);
    std::fs::read_to_string(dir.join(".pins")).ok().as_deref() == Some(stamp_text().as_str())
        && vsce_script(&dir).is_file()
        && ovsx_script(&dir).is_file()
}

fn package_version(dir: &Path, package: &str) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("node_modules").join(package).join("package.json"))
        .ok()?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc.get("version")?.as_str().map(str::to_owned)
}

/// The tools, installing the pins first when needed (`log` hears about it).
/// Call after [`check`] passed.
pub fn ensure(project: &Project, log: &dyn Fn(&str)) -> Result<NodeTools, VsceError> {
    let node = find_on_path("node").ok_or_else(|| {
        VsceError::Tool("node: not found on PATH; install Node.js 20 or newer".into())
    })?;
    let node_version = node_version(&node)
        .ok_or_else(|| VsceError::Tool(format!("{}: `node --version` failed", node.display())))?;
    if project.config.vscode.use_path_tools {
        let from_path = |name: &str| -> Result<Tool, VsceError> {
            let program = find_on_path(name).ok_or_else(|| {
                VsceError::Tool(format!(
                    "{name}: not found on PATH ([vscode] use-path-tools = true); `npm install -g {}`",
                    pin(name)
                ))
            })?;
            Ok(Tool {
                version: version_of(&program, &["--version"]),
                program,
                script: None,
            })
        };
        return Ok(NodeTools {
            vsce: from_path("vsce")?,
            ovsx: from_path("ovsx").unwrap_or_else(|_| Tool {
                program: Os::HOST.npm_shim("ovsx").into(),
                script: None,
                version: None,
            }),
            node,
            node_version,
        });
    }
    let dir = provision(project, log)?;
    let tool = |script: PathBuf, package: &str| Tool {
        program: node.clone(),
        script: Some(script),
        version: package_version(&dir, package),
    };
    Ok(NodeTools {
        vsce: tool(vsce_script(&dir), "@vscode/vsce"),
        ovsx: tool(ovsx_script(&dir), "ovsx"),
        node,
        node_version,
    })
}

/// The tools' package.json and the shipped lockfile, which `npm ci` installs.
fn write_manifest(dir: &Path) -> Result<(), VsceError> {
    let manifest = serde_json::json!({
        "name": "release-kit-node-tools",
        "private": true,
        "description": "Tools release-kit runs; managed by `cargo xtask setup`",
        "dependencies": { "@vscode/vsce": VSCE_VERSION, "ovsx": OVSX_VERSION },
    });
    let package_json = dir.join("package.json");
    std::fs::write(
        &package_json,
        serde_json::to_string_pretty(&manifest).expect("static JSON"),
    )
    .io_context(cannot("write", &package_json))?;
    let lock_file = dir.join("package-lock.json");
    std::fs::write(&lock_file, TOOLS_LOCK).io_context(cannot("write", &lock_file))?;
    Ok(())
}

/// Installs the pinned vsce and ovsx into the cache (`tools_dir`) unless they
/// are there already. Returns the folder.
pub fn provision(project: &Project, log: &dyn Fn(&str)) -> Result<PathBuf, VsceError> {
    let dir = tools_dir(project);
    if is_provisioned(project) {
        return Ok(dir);
    }
    std::fs::create_dir_all(&dir).io_context(cannot("create", &dir))?;
    let lock_path = dir.join(".lock");
    let lock = std::fs::File::create(&lock_path).io_context(cannot("create", &lock_path))?;
    lock.lock().io_context(cannot("lock", &lock_path))?;
    // Another run may have finished the install while we waited.
    if is_provisioned(project) {
        return Ok(dir);
    }
    let npm = find_on_path("npm").ok_or_else(|| {
        VsceError::Tool(
            "npm: not found on PATH; it is needed once to install vsce: install Node.js 20+ with npm"
                .into(),
        )
    })?;
    log(&format!(
        "installing {} and {} into {} (once) ...",
        pin("vsce"),
        pin("ovsx"),
        dir.display()
    ));
    let _ = std::fs::remove_file(dir.join(".pins"));
    write_manifest(&dir)?;
    // No install scripts: nothing the tools need runs at install time (the
    // one script, @vscode/vsce-sign's, is for signing, which we do not use),
    // and secrets are removed from npm's environment all the same.
    // `npm ci`: the shipped lockfile, tarballs from npm's cache when there.
    let out = Child::new(&npm)
        .args([
            "ci",
            "--prefer-offline",
            "--no-audit",
            "--no-fund",
            "--ignore-scripts",
            "--prefix",
        ])
        .arg(&dir)
        .env_remove("VSCE_PAT")
        .env_remove("OVSX_PAT")
        .env("npm_config_update_notifier", "false")
        .current_dir(&dir)
        .run(&Redactor::new())?;
    if !out.status.success() {
        return Err(VsceError::Tool(format!(
            "`npm ci` of {} into {} failed ({}):\n{}\nCheck the network access to the npm registry \
             (or set [vscode] use-path-tools = true and `npm install -g {}`)",
            pin("vsce"),
            dir.display(),
            out.status,
            tail(&out.combined(), 15),
            pin("vsce")
        )));
    }
    if !vsce_script(&dir).is_file() || !ovsx_script(&dir).is_file() {
        return Err(VsceError::Tool(format!(
            "`npm ci` finished but {} or {} is missing; remove {} and run `cargo xtask setup` again",
            vsce_script(&dir).display(),
            ovsx_script(&dir).display(),
            dir.display()
        )));
    }
    let pins = dir.join(".pins");
    std::fs::write(&pins, stamp_text()).io_context(cannot("write", &pins))?;
    Ok(dir)
}

/// What `doctor` shows for the extension's tools.
pub fn doctor_tools(project: &Project) -> Vec<ToolReport> {
    let node = find_on_path("node");
    let node_v = node.as_deref().and_then(node_version);
    let mut out = vec![ToolReport {
        name: "node".into(),
        version: node_v.map(|(a, b, c)| {
            let note = if a < MIN_NODE_MAJOR {
                format!(" (too old: vsce {VSCE_VERSION} needs Node {MIN_NODE_MAJOR}+)")
            } else if a < NODE_FOR_VSCE4 {
                format!(" (vsce pinned to {VSCE_VERSION}: vsce 4 needs Node {NODE_FOR_VSCE4})")
            } else {
                String::new()
            };
            format!("v{a}.{b}.{c}{note}")
        }),
        path: node,
        used_by: "vsce-verify, vsce-package, vsce-publish".into(),
        install: format!("install Node.js {MIN_NODE_MAJOR} or newer (https://nodejs.org)"),
    }];
    if project.config.vscode.use_path_tools {
        for name in ["vsce", "ovsx"] {
            let path = find_on_path(name);
            out.push(ToolReport {
                name: name.into(),
                version: path.as_deref().and_then(|p| version_of(p, &["--version"])),
                path,
                used_by: if name == "vsce" {
                    "vsce-*"
                } else {
                    "vsce-publish (OVSX_PAT set)"
                }
                .into(),
                install: format!(
                    "npm install -g {} ([vscode] use-path-tools = true)",
                    pin(name)
                ),
            });
        }
    } else {
        let dir = tools_dir(project);
        let ready = is_provisioned(project);
        for (name, package, script) in [
            ("vsce", "@vscode/vsce", vsce_script(&dir)),
            ("ovsx", "ovsx", ovsx_script(&dir)),
        ] {
            out.push(ToolReport {
                name: name.into(),
                path: ready.then_some(script),
                version: ready.then(|| package_version(&dir, package)).flatten(),
                used_by: if name == "vsce" { "vsce-*" } else { "vsce-publish (OVSX_PAT set)" }.into(),
                install: format!(
                    "run `cargo xtask setup` (npm installs {} into {}); vsce-* also do it on first use",
                    pin(name),
                    dir.display()
                ),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Windows only (the CI's windows-latest job): npm is its `.cmd` shim
    /// and runs by its full path.
    #[cfg(windows)]
    #[test]
    fn npm_runs_as_its_cmd_shim() {
        let Some(npm) = find_on_path("npm") else {
            return; // no Node.js here (windows-latest has it)
        };
        let name = npm.file_name().unwrap().to_string_lossy().to_lowercase();
        assert_eq!(name, Os::Windows.npm_shim("npm"), "{}", npm.display());
        assert!(
            version_of(&npm, &["--version"]).is_some(),
            "{}",
            npm.display()
        );
    }

    #[test]
    fn the_shipped_lock_matches_the_pins() {
        let lock: serde_json::Value = serde_json::from_str(TOOLS_LOCK).unwrap();
        let packages = &lock["packages"];
        assert_eq!(
            packages[""]["dependencies"],
            serde_json::json!({ "@vscode/vsce": VSCE_VERSION, "ovsx": OVSX_VERSION }),
            "regenerate src/vscode/tools-lock/package-lock.json for the new pins"
        );
        assert_eq!(
            packages["node_modules/@vscode/vsce"]["version"],
            VSCE_VERSION
        );
        assert_eq!(packages["node_modules/ovsx"]["version"], OVSX_VERSION);
        // Every package pinned by its hash, none resolved at install time.
        let all = packages.as_object().unwrap();
        assert!(all.len() > 2);
        for (path, p) in all.iter().filter(|(k, _)| !k.is_empty()) {
            assert!(
                p["integrity"]
                    .as_str()
                    .is_some_and(|i| i.starts_with("sha512-")),
                "{path}: no integrity"
            );
        }
    }

    #[test]
    fn node_versions() {
        assert_eq!(parse_node_version("v20.20.2"), Some((20, 20, 2)));
        assert_eq!(parse_node_version("v22.1.0-nightly"), Some((22, 1, 0)));
        assert_eq!(parse_node_version("node"), None);
    }

    #[test]
    fn not_provisioned_in_an_empty_target() {
        let tmp = tempfile::tempdir().unwrap();
        let project = Project {
            root: tmp.path().into(),
            config: Default::default(),
        };
        if std::env::var_os("CARGO_TARGET_DIR").is_none() {
            assert!(!is_provisioned(&project));
            let tools = doctor_tools(&project);
            let vsce = tools.iter().find(|t| t.name == "vsce").unwrap();
            assert!(vsce.path.is_none() && vsce.install.contains("cargo xtask setup"));
        }
    }
}
