//! The managed tool environment: a virtual environment in the per-user
//! cache ([`crate::cache_dir`]) with
//! pinned `build`, `twine`, `pypiserver` and `passlib`, made on first use
//! (or by `cargo xtask setup`) and reused afterwards.
//!
//! Two runs at once wait for each other on a file lock instead of both
//! installing into the same folder. A stamp written last records the pins,
//! so a half-finished install or a change of pins is redone. With
//! `[python] use-path-tools = true` in release-kit.toml (or
//! `RELEASE_KIT_USE_PATH_TOOLS=1`) the tools on PATH are used instead.
//!
//! The native build tools ([`NATIVE_PINS`](super::backend::NATIVE_PINS): maturin, cibuildwheel) join the
//! same environment only when a package needs them ([`ensure_native`]), each
//! with its own stamp, so a project of pure-Python packages never waits for
//! them.

use std::path::{Path, PathBuf};

use super::backend::NativeTool;
use crate::config::Project;
use crate::platform::Os;
use crate::secret::Redactor;
use crate::tools::ToolReport;
use crate::tools::{Child, Echo, find_on_path, tail, version_of};

/// The pinned packages of the managed environment.
pub const PINS: &[&str] = &[
    "build==1.6.1",
    "twine==7.0.0",
    "pypiserver==2.4.2",
    "passlib==1.7.4",
];

/// Set to `1`/`true` to use `python3 -m build` and `twine` from PATH.
pub const USE_PATH_TOOLS_ENV: &str = "RELEASE_KIT_USE_PATH_TOOLS";

/// Where the tools come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The managed environment at this folder.
    Managed(PathBuf),
    /// PATH (`use-path-tools`).
    Path,
}

/// Ready-to-run tools.
#[derive(Clone, Debug)]
pub struct Tools {
    /// The interpreter that runs `-m build` (and `-m twine` when managed).
    pub python: PathBuf,
    /// `twine` on PATH, when tools come from PATH.
    pub twine_exe: Option<PathBuf>,
    /// Where they come from.
    pub source: Source,
}

impl Tools {
    /// `uv build` with the managed environment's interpreter when uv is
    /// provisioned (the same PEP 517 backend, byte-identical files, in a
    /// third of the time), else `python -m build`. Both take `-o DIR`.
    pub fn build(&self) -> Child {
        match (&self.source, super::uv::installed()) {
            (Source::Managed(_), Some(uv)) => uv.build(&self.python),
            _ => Child::new(&self.python).args(["-m", "build"]),
        }
    }

    /// `twine` (as `python -m twine` in the managed environment).
    pub fn twine(&self) -> Child {
        match &self.twine_exe {
            Some(exe) => Child::new(exe),
            None => Child::new(&self.python).args(["-m", "twine"]),
        }
    }

    /// `maturin` (installed by [`ensure_native`]).
    pub fn maturin(&self) -> Child {
        match &self.source {
            Source::Managed(venv) => Child::new(venv_bin(venv).join(exe("maturin"))),
            Source::Path => Child::new("maturin"),
        }
    }

    /// `cibuildwheel` (installed by [`ensure_native`]).
    pub fn cibuildwheel(&self) -> Child {
        match &self.source {
            Source::Managed(_) => Child::new(&self.python).args(["-m", "cibuildwheel"]),
            Source::Path => Child::new("cibuildwheel"),
        }
    }

    /// The folder of the managed environment's commands, which a native
    /// build puts first on PATH (maturin finds `python3 -m ziglang` there).
    pub fn bin_dir(&self) -> Option<PathBuf> {
        match &self.source {
            Source::Managed(venv) => Some(venv_bin(venv)),
            Source::Path => None,
        }
    }

    /// `pypi-server`, for rehearsals against a local index.
    pub fn pypi_server(&self) -> Child {
        match &self.source {
            Source::Managed(_) => Child::new(&self.python).args(["-m", "pypiserver"]),
            Source::Path => Child::new("pypi-server"),
        }
    }
}

/// Why the tools are not available.
#[derive(Debug, thiserror::Error)]
pub enum ToolsError {
    /// No Python to make the environment with.
    #[error(
        "python3 was not found on PATH: it is needed to build and upload the package; \
         install Python 3.9+ with its venv module (apt-get install python3 python3-venv)"
    )]
    NoPython,
    /// The venv module is missing (Debian splits it out).
    #[error(
        "{python} cannot create virtual environments (no venv/ensurepip module); \
         install it (apt-get install python3-venv) and run again"
    )]
    NoVenv {
        /// The interpreter tried.
        python: String,
    },
    /// pip could not reach the package index.
    #[error(
        "cannot download the pinned tools ({pins}): the package index is unreachable ({reason}). \
         Connect to the network (or set PIP_INDEX_URL to a reachable mirror) and run \
         `cargo xtask setup`, or install build and twine yourself and set \
         `[python] use-path-tools = true` in release-kit.toml (or {env}=1)"
    )]
    NoNetwork {
        /// The pins.
        pins: String,
        /// pip's one-line reason.
        reason: String,
        /// The switch's variable.
        env: &'static str,
    },
    /// pip failed for another reason.
    #[error("installing {pins} into {venv} failed:\n{output}")]
    Install {
        /// The pins.
        pins: String,
        /// The environment.
        venv: String,
        /// pip's last lines.
        output: String,
    },
    /// A tool is missing from PATH in path mode.
    #[error(
        "`{tool}` was not found on PATH, and use-path-tools is on; install it \
         (pipx install {tool}) or turn use-path-tools off to use the managed environment"
    )]
    MissingOnPath {
        /// The tool.
        tool: &'static str,
    },
    /// The PATH interpreter lacks a module `python -m` needs.
    #[error(
        "{python}: has no `{module}` module (python3 -m {module}), and use-path-tools is on; install it \
         (python3 -m pip install {pin}) or turn use-path-tools off to use the managed environment"
    )]
    MissingModule {
        /// The interpreter.
        python: String,
        /// The module.
        module: &'static str,
        /// What to install.
        pin: &'static str,
    },
    /// Filesystem trouble.
    #[error("{0}")]
    Io(String),
}

/// True when tools on PATH are preferred.
pub fn prefer_path(project: &Project) -> bool {
    project.config.python.use_path_tools
        || std::env::var(USE_PATH_TOOLS_ENV)
            .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// The managed environment's folder: in the per-user cache, keyed by the
/// pins (never inside the project, whose packages would take it in).
pub fn venv_dir(_project: &Project) -> PathBuf {
    crate::cache_dir::pinned("pypi-tools", PINS)
}

fn venv_bin(venv: &Path) -> PathBuf {
    Os::HOST.venv_bin(venv)
}

fn exe(name: &str) -> String {
    Os::HOST.exe(name)
}

/// The interpreter of a virtual environment made by `python -m venv`
/// (`bin/python`, or `Scripts\python.exe` on Windows).
pub fn venv_python(venv: &Path) -> PathBuf {
    Os::HOST.venv_program(venv, "python")
}

fn stamp_text() -> String {
    PINS.join("\n") + "\n"
}

/// True when the managed environment exists with the current pins.
pub fn is_provisioned(venv: &Path) -> bool {
    venv_python(venv).exists()
        && std::fs::read_to_string(venv.join(".pins")).ok().as_deref() == Some(&stamp_text())
}

/// The base interpreter that makes the environment ([`Os::python_names`]).
pub fn base_python() -> Option<PathBuf> {
    Os::HOST.python_names().iter().find_map(|n| find_on_path(n))
}

/// What would stop [`ensure`], found without side effects (for preflight).
pub fn check(project: &Project) -> Vec<ToolsError> {
    let mut out = Vec::new();
    if prefer_path(project) {
        if base_python().is_none() {
            out.push(ToolsError::NoPython);
        }
        if find_on_path("twine").is_none() {
            out.push(ToolsError::MissingOnPath { tool: "twine" });
        }
        if let Some(python) = base_python()
            && !has_module(&python, "build")
        {
            out.push(ToolsError::MissingModule {
                python: python.display().to_string(),
                module: "build",
                pin: PINS
                    .iter()
                    .find(|p| p.starts_with("build=="))
                    .copied()
                    .unwrap_or("build"),
            });
        }
    } else if !is_provisioned(&venv_dir(project)) && base_python().is_none() {
        out.push(ToolsError::NoPython);
    }
    out
}

/// The interpreter the tools run with: the managed environment's (which
/// may not exist yet), or python3 from PATH in path mode.
pub fn tools_python(project: &Project) -> Option<PathBuf> {
    if prefer_path(project) {
        base_python()
    } else {
        Some(venv_python(&venv_dir(project)))
    }
}

/// True when `python` can import `module` (no side effect).
pub fn has_module(python: &Path, module: &str) -> bool {
    let Some(sh) = crate::tools::shell() else {
        return false;
    };
    let code = format!(
        "import importlib.util, sys; sys.exit(importlib.util.find_spec({module:?}) is None)"
    );
    crate::tools::captured(xshell::cmd!(sh, "{python} -c {code}"))
        .ignore_stdout()
        .ignore_stderr()
        .run()
        .is_ok()
}

/// The tools, provisioning the managed environment first when needed.
pub fn ensure(project: &Project, echo: Echo) -> Result<Tools, ToolsError> {
    if prefer_path(project) {
        if let Some(e) = check(project).into_iter().next() {
            return Err(e);
        }
        return Ok(Tools {
            python: base_python().ok_or(ToolsError::NoPython)?,
            twine_exe: find_on_path("twine"),
            source: Source::Path,
        });
    }
    let venv = venv_dir(project);
    let tools = Tools {
        python: venv_python(&venv),
        twine_exe: None,
        source: Source::Managed(venv.clone()),
    };
    if is_provisioned(&venv) {
        return Ok(tools);
    }
    let parent = venv.parent().expect("venv has a parent");
    std::fs::create_dir_all(parent)
        .map_err(|e| ToolsError::Io(format!("cannot create {}: {e}", parent.display())))?;
    let lock_path = venv.with_extension("lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| ToolsError::Io(format!("cannot create {}: {e}", lock_path.display())))?;
    // Another run may be installing: wait for it, then look again.
    lock.lock()
        .map_err(|e| ToolsError::Io(format!("cannot lock {}: {e}", lock_path.display())))?;
    if is_provisioned(&venv) {
        return Ok(tools);
    }
    provision(&venv, echo)?;
    Ok(tools)
}

fn provision(venv: &Path, echo: Echo) -> Result<(), ToolsError> {
    let base = base_python().ok_or(ToolsError::NoPython)?;
    if venv.exists() {
        std::fs::remove_dir_all(venv)
            .map_err(|e| ToolsError::Io(format!("cannot remove {}: {e}", venv.display())))?;
    }
    let r = Redactor::new();
    match super::uv::ensure(&base, echo).map(|uv| provision_with_uv(&uv, &base, venv, echo)) {
        Ok(Ok(())) => return Ok(()),
        Ok(Err(e)) => eprintln!(
            "note: uv could not install the Python tools, so pip does (slower): {}",
            tail(&e.to_string(), 3)
        ),
        Err(super::uv::UvError::Disabled) => {}
        Err(e) => eprintln!(
            "note: uv ({}) could not be provisioned, so pip installs the Python tools (slower): {}",
            super::uv::PIN,
            tail(&e.to_string(), 3)
        ),
    }
    let _ = std::fs::remove_dir_all(venv);
    let out = Child::new(&base)
        .args(["-m", "venv"])
        .arg(venv)
        .echo(echo)
        .run(&r)
        .map_err(|e| ToolsError::Io(format!("{e:#}")))?;
    if !out.status.success() {
        let text = out.combined();
        if text.contains("ensurepip") || text.contains("No module named venv") {
            return Err(ToolsError::NoVenv {
                python: base.display().to_string(),
            });
        }
        return Err(ToolsError::Install {
            pins: PINS.join(" "),
            venv: venv.display().to_string(),
            output: tail(&text, 15),
        });
    }
    pip_install(venv, PINS, None, echo).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(venv);
    })?;
    std::fs::write(venv.join(".pins"), stamp_text())
        .map_err(|e| ToolsError::Io(format!("cannot write {}: {e}", venv.display())))?;
    Ok(())
}

/// `uv venv --seed` (pip in it: `python -m build` and the wheelhouse use
/// it) then `uv pip install PINS`, then the stamp.
fn provision_with_uv(
    uv: &super::uv::Uv,
    base: &Path,
    venv: &Path,
    echo: Echo,
) -> Result<(), ToolsError> {
    let out = uv
        .venv_with_pip(base, venv, echo)
        .run(&Redactor::new())
        .map_err(|e| ToolsError::Io(format!("{e:#}")))?;
    if !out.status.success() {
        return Err(ToolsError::Install {
            pins: PINS.join(" "),
            venv: venv.display().to_string(),
            output: tail(&out.combined(), 15),
        });
    }
    pip_install(venv, PINS, Some(uv), echo).inspect_err(|_| {
        let _ = std::fs::remove_dir_all(venv);
    })?;
    std::fs::write(venv.join(".pins"), stamp_text())
        .map_err(|e| ToolsError::Io(format!("cannot write {}: {e}", venv.display())))
}

/// `pins` into the environment at `venv`: by `uv` when given, else by the
/// venv's pip.
fn pip_install(
    venv: &Path,
    pins: &[&str],
    uv: Option<&super::uv::Uv>,
    echo: Echo,
) -> Result<(), ToolsError> {
    let child = match uv {
        Some(uv) => uv.install(&venv_python(venv), pins, echo),
        None => pip_command(venv, pins, echo),
    };
    let out = child
        .run(&Redactor::new())
        .map_err(|e| ToolsError::Io(format!("{e:#}")))?;
    if out.status.success() {
        return Ok(());
    }
    install_error(venv, pins, &out.combined())
}

/// `python -m pip install PINS` in the environment at `venv`.
fn pip_command(venv: &Path, pins: &[&str], echo: Echo) -> Child {
    Child::new(venv_python(venv))
        .args([
            "-m",
            "pip",
            "install",
            "--disable-pip-version-check",
            "--no-input",
            "--retries",
            "2",
            "--timeout",
            "15",
            "-q",
        ])
        .args(pins.iter().copied())
        .env("PIP_NO_INPUT", "1")
        .echo(echo)
}

/// The error for a failed install of `pins` (pip's or uv's output `text`).
fn install_error(venv: &Path, pins: &[&str], text: &str) -> Result<(), ToolsError> {
    if let Some(reason) = network_reason(text) {
        return Err(ToolsError::NoNetwork {
            pins: pins.join(" "),
            reason,
            env: USE_PATH_TOOLS_ENV,
        });
    }
    Err(ToolsError::Install {
        pins: pins.join(" "),
        venv: venv.display().to_string(),
        output: tail(text, 15),
    })
}

fn native_stamp(venv: &Path, tool: NativeTool) -> PathBuf {
    venv.join(format!(".pins-{}", tool.name()))
}

/// True when `tool` is ready: installed at its pin in the managed
/// environment, or on PATH in path mode.
pub fn native_ready(project: &Project, tool: NativeTool) -> bool {
    if prefer_path(project) {
        return find_on_path(tool.name()).is_some();
    }
    let venv = venv_dir(project);
    is_provisioned(&venv)
        && std::fs::read_to_string(native_stamp(&venv, tool))
            .ok()
            .as_deref()
            == Some(tool.pin())
}

/// What would stop [`ensure_native`], found without side effects: in path
/// mode the tool must be on PATH (the managed environment installs it).
pub fn check_native(project: &Project, tool: NativeTool) -> Option<ToolsError> {
    (prefer_path(project) && find_on_path(tool.name()).is_none())
        .then_some(ToolsError::MissingOnPath { tool: tool.name() })
}

/// Installs `tool` at its pin into the managed environment of `tools`
/// unless it is there (a no-op for tools from PATH, checked up front).
pub fn ensure_native(
    project: &Project,
    tools: &Tools,
    tool: NativeTool,
    echo: Echo,
) -> Result<(), ToolsError> {
    let Source::Managed(venv) = &tools.source else {
        return check_native(project, tool).map_or(Ok(()), Err);
    };
    if native_ready(project, tool) {
        return Ok(());
    }
    let lock_path = venv.with_extension("lock");
    let lock = std::fs::File::create(&lock_path)
        .map_err(|e| ToolsError::Io(format!("cannot create {}: {e}", lock_path.display())))?;
    lock.lock()
        .map_err(|e| ToolsError::Io(format!("cannot lock {}: {e}", lock_path.display())))?;
    if native_ready(project, tool) {
        return Ok(());
    }
    // uv when it can be had (the venv has pip either way: `uv venv --seed`).
    let uv = base_python().and_then(|b| super::uv::ensure(&b, echo).ok());
    pip_install(venv, &[tool.pin()], uv.as_ref(), echo)?;
    let stamp = native_stamp(venv, tool);
    std::fs::write(&stamp, tool.pin())
        .map_err(|e| ToolsError::Io(format!("cannot write {}: {e}", stamp.display())))
}

/// A one-line reason when pip's output says the index was unreachable.
fn network_reason(pip_output: &str) -> Option<String> {
    const MARKERS: &[(&str, &str)] = &[
        ("Temporary failure in name resolution", "DNS lookup failed"),
        ("Name or service not known", "DNS lookup failed"),
        ("nodename nor servname", "DNS lookup failed"),
        ("Failed to establish a new connection", "connection failed"),
        ("Network is unreachable", "network is unreachable"),
        ("Connection refused", "connection refused"),
        ("timed out", "connection timed out"),
        ("ProxyError", "the proxy refused the connection"),
        ("SSLError", "TLS failed (proxy or certificate trouble)"),
        // uv's words for the same failures.
        ("dns error", "DNS lookup failed"),
        ("tcp connect error", "connection failed"),
        ("error sending request", "connection failed"),
    ];
    let found = MARKERS.iter().find(|(m, _)| pip_output.contains(m));
    match found {
        Some((_, reason)) => Some((*reason).to_owned()),
        // pip says this when every retry failed and no version was found.
        None if pip_output.contains("Could not find a version that satisfies")
            && pip_output.contains("from versions: none") =>
        {
            Some("no versions found: the index could not be read".into())
        }
        None => None,
    }
}

/// The Python release tools for `cargo xtask doctor`.
pub fn doctor_tools(project: &Project) -> Vec<ToolReport> {
    let setup = "cargo xtask setup (or any build/publish provisions it on first use)";
    if prefer_path(project) {
        let python = base_python();
        let build_version = python
            .as_deref()
            .and_then(|p| version_of(p, &["-m", "build", "--version"]))
            .filter(|v| v.starts_with("build "));
        return vec![
            ToolReport {
                name: "python -m build (PATH)".into(),
                path: build_version.as_ref().and(python.clone()),
                version: build_version,
                used_by: "build".into(),
                install: "python3 -m pip install build==1.6.1 (use-path-tools is on)".into(),
            },
            crate::tools::probe(
                "twine",
                &["--version"],
                "build (check), publish",
                "pipx install twine==7.0.0 (use-path-tools is on)",
            ),
        ];
    }
    let venv = venv_dir(project);
    let ready = is_provisioned(&venv);
    let python = venv_python(&venv);
    let mut reports: Vec<ToolReport> = ["build", "twine", "pypiserver"]
        .iter()
        .map(|module| {
            let version = ready
                .then(|| version_of(&python, &["-m", module, "--version"]))
                .flatten();
            ToolReport {
                name: format!("{module} (managed)"),
                path: ready.then(|| venv.clone()),
                version,
                used_by: match *module {
                    "build" => "build",
                    "twine" => "build (check), publish",
                    _ => "release --rehearse, tests",
                }
                .into(),
                install: setup.into(),
            }
        })
        .collect();
    let uv = super::uv::installed();
    reports.push(ToolReport {
        name: "uv (managed)".into(),
        path: uv.as_ref().map(|u| u.exe.clone()),
        version: uv.and_then(|u| version_of(&u.exe, &["--version"])),
        used_by: "setup, build, release --rehearse (venvs and installs)".into(),
        install: setup.into(),
    });
    reports.extend(native_doctor_tools(project));
    reports
}

/// The native build tools the project's packages use, each once.
pub fn native_tools_used(project: &Project) -> Vec<NativeTool> {
    let mut used: Vec<NativeTool> = Vec::new();
    for (dir, choice) in project.python_packages() {
        if let Some(tool) = super::package::backend_at(&dir, choice)
            .ok()
            .and_then(|b| b.tool())
            && !used.contains(&tool)
        {
            used.push(tool);
        }
    }
    used
}

/// The native build tools the project's packages use (maturin also needs
/// cargo), for `cargo xtask doctor`.
fn native_doctor_tools(project: &Project) -> Vec<ToolReport> {
    let mut out = Vec::new();
    for tool in native_tools_used(project) {
        let used_by = format!("build ({} packages)", tool.name());
        if prefer_path(project) {
            out.push(crate::tools::probe(
                tool.name(),
                &["--version"],
                &used_by,
                &format!("pipx install {} (use-path-tools is on)", tool.pin()),
            ));
        } else {
            let venv = venv_dir(project);
            let ready = native_ready(project, tool);
            let version = ready
                .then(|| match tool {
                    NativeTool::Maturin => {
                        version_of(&venv_bin(&venv).join(exe("maturin")), &["--version"])
                    }
                    NativeTool::Cibuildwheel => {
                        version_of(&venv_python(&venv), &["-m", "cibuildwheel", "--version"])
                    }
                })
                .flatten();
            out.push(ToolReport {
                name: format!("{} (managed)", tool.name()),
                path: ready.then(|| venv.clone()),
                version,
                used_by: used_by.clone(),
                install: "installed on first use by cargo xtask build".into(),
            });
        }
        if tool == NativeTool::Maturin {
            out.push(crate::tools::probe(
                "cargo",
                &["--version"],
                &used_by,
                "install Rust with rustup (https://rustup.rs), then run again",
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_failures_are_recognised() {
        let pip = "WARNING: Retrying (Retry(total=1...)) after connection broken by \
                   'NewConnectionError(...: Failed to establish a new connection: [Errno -3] \
                   Temporary failure in name resolution')': /simple/build/\n\
                   ERROR: Could not find a version that satisfies the requirement build==1.6.1 (from versions: none)";
        assert_eq!(network_reason(pip).as_deref(), Some("DNS lookup failed"));
        assert_eq!(
            network_reason("ERROR: No matching distribution found for buildd==1"),
            None
        );
        let e = ToolsError::NoNetwork {
            pins: PINS.join(" "),
            reason: "DNS lookup failed".into(),
            env: USE_PATH_TOOLS_ENV,
        }
        .to_string();
        assert!(
            e.contains("use-path-tools") && e.contains("cargo xtask setup"),
            "{e}"
        );
        assert!(!e.contains("Traceback"));
    }

    #[test]
    fn doctor_lists_unprovisioned_tools_with_the_fix() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("release-kit.toml"), "").unwrap();
        let project = Project {
            root: tmp.path().to_owned(),
            config: Default::default(),
        };
        let reports = doctor_tools(&project);
        let names: Vec<_> = reports.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "build (managed)",
                "twine (managed)",
                "pypiserver (managed)",
                "uv (managed)"
            ]
        );
        assert_eq!(
            reports[3].path.is_some(),
            super::super::uv::installed().is_some()
        );
        // RELEASE_KIT_CACHE_DIR, when set, may point at a provisioned cache.
        let ready = is_provisioned(&venv_dir(&project));
        assert!(
            reports[..3]
                .iter()
                .all(|r| r.path.is_some() == ready && r.install.contains("cargo xtask setup"))
        );
    }

    #[test]
    fn real_pip_offline_output_is_recognised() {
        // pip against a closed port: the failure a machine without network
        // meets, mapped to a one-line reason instead of a traceback.
        let python = base_python()
            .expect("python3 is needed for this test: apt-get install python3 python3-venv");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let tmp = tempfile::tempdir().unwrap();
        let out = Child::new(python)
            .args(["-m", "pip", "download", "--no-deps", "--retries", "0"])
            .args(["--timeout", "2", "--disable-pip-version-check", "-d"])
            .arg(tmp.path())
            .arg("--index-url")
            .arg(format!("http://127.0.0.1:{port}/simple/"))
            .arg("build==1.6.1")
            .run(&Redactor::new())
            .unwrap();
        assert!(!out.status.success());
        assert!(
            network_reason(&out.combined()).is_some(),
            "{}",
            out.combined()
        );
    }
}
