//! The rehearsal's local index and install check: pypiserver on
//! 127.0.0.1 with a throwaway password, and a fresh virtual environment
//! that installs the package from it and imports it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cleanup::{self, Guard};
use crate::error::{IoContext as _, IoError, cannot};
use crate::preflight::Preflight;
use crate::pypi::build::{self, Package};
use crate::pypi::venv::{self, Tools};
use crate::secret::{Redactor, Secret};
use crate::step::{Context as StepContext, Outcome, Status, Step, StepError};
use crate::tools::{Child, ChildError, Echo, tail};

/// The user name the rehearsal uploads as (not `__token__`, so the
/// throwaway password is not mistaken for a PyPI token).
pub const USER: &str = "rehearsal";

/// Why the rehearsal's local index or install check failed.
#[derive(Debug, thiserror::Error)]
pub enum RehearsalError {
    /// A file, folder or socket could not be made.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A tool could not be started.
    #[error(transparent)]
    Child(#[from] ChildError),
    /// A tool ran and failed; the message says what to do.
    #[error("{0}")]
    Failed(String),
}

impl From<RehearsalError> for StepError {
    fn from(e: RehearsalError) -> StepError {
        StepError::cause(e)
    }
}

/// A free port on 127.0.0.1.
pub fn free_port() -> Result<u16, IoError> {
    let what = || "cannot bind a port on 127.0.0.1".to_owned();
    let l = std::net::TcpListener::bind("127.0.0.1:0").io_context(what)?;
    Ok(l.local_addr().io_context(what)?.port())
}

/// A running local index. Stopped, and its folder removed, when dropped
/// or on Ctrl-C.
pub struct LocalIndex {
    /// Upload URL, `http://127.0.0.1:PORT/`.
    pub url: String,
    /// Where it keeps packages.
    pub packages: PathBuf,
    /// The scratch folder (also used for the install check).
    pub scratch: PathBuf,
    _guard: Guard,
}

impl LocalIndex {
    /// The PEP 503 listing, `http://127.0.0.1:PORT/simple/`.
    pub fn simple_url(&self) -> String {
        format!("{}simple/", self.url)
    }

    /// Starts pypiserver on `port` with user [`USER`] and `password`.
    pub fn start(
        tools: &Tools,
        scratch_parent: &Path,
        port: u16,
        password: &Secret,
        redactor: &Redactor,
    ) -> Result<LocalIndex, RehearsalError> {
        // Catch Ctrl-C before the first thing that needs cleaning up exists.
        cleanup::install();
        std::fs::create_dir_all(scratch_parent).io_context(cannot("create", scratch_parent))?;
        let scratch = tempfile::Builder::new()
            .prefix("rehearsal-")
            .tempdir_in(scratch_parent)
            .io_context(cannot("create a folder in", scratch_parent))?
            .keep();
        // From here on the folder (and the server, once spawned) go away
        // however `start` or the run ends: an error, the drop, or Ctrl-C.
        let server_slot: std::sync::Arc<std::sync::Mutex<Option<std::process::Child>>> =
            std::sync::Arc::default();
        let guard = {
            let (scratch, slot) = (scratch.clone(), server_slot.clone());
            cleanup::register(move || {
                if let Some(mut child) = slot.lock().unwrap_or_else(|e| e.into_inner()).take() {
                    let _ = child.kill();
                    let _ = child.wait();
                }
                let _ = std::fs::remove_dir_all(&scratch);
            })
        };
        let packages = scratch.join("packages");
        std::fs::create_dir_all(&packages).io_context(cannot("create", &packages))?;
        let htpasswd = scratch.join("htpasswd");
        // passlib writes the hash; the password travels in the environment.
        let out = Child::new(&tools.python)
            .args([
                "-c",
                "import os, sys\nfrom passlib.apache import HtpasswdFile\n\
                 h = HtpasswdFile(sys.argv[1], new=True)\n\
                 h.set_password(sys.argv[2], os.environ['RK_REHEARSAL_PASSWORD'])\nh.save()",
            ])
            .arg(&htpasswd)
            .arg(USER)
            .secret_env("RK_REHEARSAL_PASSWORD", password)
            .run(redactor)?;
        if !out.status.success() {
            return Err(RehearsalError::Failed(format!(
                "cannot write the local index's password file with passlib:\n{}\nfix: `cargo xtask setup` installs passlib into the managed tools",
                out.combined().trim()
            )));
        }
        let log_path = scratch.join("pypiserver.log");
        let log = std::fs::File::create(&log_path).io_context(cannot("create", &log_path))?;
        let server = tools
            .pypi_server()
            .args(["run", "-i", "127.0.0.1", "-p"])
            .arg(port.to_string())
            .arg("-P")
            .arg(&htpasswd)
            .args(["-a", "update", "--disable-fallback"])
            .arg(&packages)
            .spawn_background(log)
            .io_context(|| "cannot start pypiserver; `cargo xtask setup` installs it".to_owned())?;
        let pid = server.id();
        // In the slot at once, so that a Ctrl-C while it starts stops it.
        *server_slot.lock().unwrap_or_else(|e| e.into_inner()) = Some(server);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            let exited = match server_slot
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .as_mut()
            {
                Some(child) => child
                    .try_wait()
                    .io_context(|| "cannot wait for pypiserver".to_owned())?,
                None => None,
            };
            if let Some(status) = exited {
                let log = std::fs::read_to_string(&log_path).unwrap_or_default();
                return Err(RehearsalError::Failed(format!(
                    "pypiserver (pid {pid}) exited ({status}) before listening on 127.0.0.1:{port}:\n{}",
                    redactor.redact(tail(&log, 15).trim())
                )));
            }
            if Instant::now() > deadline {
                return Err(RehearsalError::Failed(format!(
                    "pypiserver did not listen on 127.0.0.1:{port} within 30 s"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(LocalIndex {
            url: format!("http://127.0.0.1:{port}/"),
            packages,
            scratch,
            _guard: guard,
        })
    }
}

/// Installs `name==version` from `index` into a fresh virtual environment
/// and imports it; returns the `__version__` the module reports.
pub fn install_check(
    base_python: &Path,
    pip_python: &Path,
    index: &LocalIndex,
    name: &str,
    version: &str,
    redactor: &Redactor,
    echo: Echo,
) -> Result<String, RehearsalError> {
    let venv = index.scratch.join("install-venv");
    let python = venv.join("bin/python");
    let pip_install = |pip: Child| {
        pip.args([
            "install",
            "--no-cache-dir",
            "--disable-pip-version-check",
            "--index-url",
        ])
        .arg(index.simple_url())
        .arg(format!("{name}=={version}"))
        .env("PIP_NO_INPUT", "1")
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .echo(echo)
        .run(redactor)
    };
    // Fast path: a venv without pip (no ensurepip: seconds saved), filled
    // by the tools' pip through `pip --python` (pip >= 22.3).
    let fast = Child::new(base_python)
        .args(["-m", "venv", "--without-pip"])
        .arg(&venv)
        .echo(echo)
        .run(redactor)?;
    let mut out = None;
    if fast.status.success() {
        let o = pip_install(
            Child::new(pip_python)
                .args(["-m", "pip", "--python"])
                .arg(&python),
        )?;
        if o.status.success() {
            out = Some(o);
        }
    }
    let out = match out {
        Some(o) => o,
        None => {
            // The classic way, whose error is the one worth showing.
            let _ = std::fs::remove_dir_all(&venv);
            let made = Child::new(base_python)
                .args(["-m", "venv"])
                .arg(&venv)
                .echo(echo)
                .run(redactor)?;
            if !made.status.success() {
                return Err(RehearsalError::Failed(format!(
                    "cannot create a virtual environment with {}:\n{}\nfix: install the venv module (apt-get install python3-venv)",
                    base_python.display(),
                    tail(&made.combined(), 10)
                )));
            }
            pip_install(Child::new(&python).args(["-m", "pip"]))?
        }
    };
    if !out.status.success() {
        return Err(RehearsalError::Failed(format!(
            "pip could not install {name}=={version} from the local index {}:\n{}\n\
             the uploaded files do not install; if the package has dependencies, they are not on the local index \
             (the rehearsal never reaches the internet)",
            index.simple_url(),
            tail(&out.combined(), 15)
        )));
    }
    let module = name.replace(['-', '.'], "_").to_ascii_lowercase();
    let out = Child::new(&python)
        .args([
            "-c",
            &format!("import {module}; print(getattr({module}, '__version__', ''))"),
        ])
        .current_dir(&index.scratch)
        .echo(echo)
        .run(redactor)?;
    if !out.status.success() {
        return Err(RehearsalError::Failed(format!(
            "the installed package does not import as `{module}`:\n{}",
            tail(&out.combined(), 15)
        )));
    }
    let reported = out.stdout.trim().to_owned();
    if !reported.is_empty() && reported != version {
        return Err(RehearsalError::Failed(format!(
            "`{module}.__version__` is {reported} but the package version is {version}; make them agree"
        )));
    }
    Ok(reported)
}

/// The local index, shared by the rehearsal's steps that start and use it.
pub type SharedIndex = std::rc::Rc<std::cell::RefCell<Option<LocalIndex>>>;

/// The rehearsal's `local-index` step: pypiserver on 127.0.0.1 with the
/// throwaway password the release put into `TWINE_PASSWORD`.
pub struct StartIndex {
    port: u16,
    index: SharedIndex,
}

impl StartIndex {
    /// Starts on `port`, into `index`.
    pub fn new(port: u16, index: SharedIndex) -> StartIndex {
        StartIndex { port, index }
    }
}

impl Step for StartIndex {
    fn name(&self) -> &'static str {
        "local-index"
    }

    fn check(&mut self, cx: &StepContext<'_>, pre: &mut Preflight) {
        if venv::prefer_path(cx.project) && crate::tools::find_on_path("pypi-server").is_none() {
            pre.problem(
                "pypi-server: not found on PATH (use-path-tools is on); install pypiserver and passlib, or turn use-path-tools off so `cargo xtask setup` provisions them",
            );
        }
    }

    fn plan(&self) -> String {
        "start pypiserver on 127.0.0.1 with a throwaway password".into()
    }

    fn run(&mut self, cx: &StepContext<'_>) -> Result<Outcome, StepError> {
        let tools = venv::ensure(cx.project, cx.echo).map_err(StepError::cause)?;
        let password = cx
            .settings
            .explicit("TWINE_PASSWORD")
            .cloned()
            .ok_or_else(|| StepError::failed("the rehearsal's throwaway password is not set"))?;
        let index = LocalIndex::start(
            &tools,
            &cx.project.target_dir().join("release-kit"),
            self.port,
            &password,
            cx.redactor(),
        )?;
        let detail = format!("pypiserver at {}", index.url);
        *self.index.borrow_mut() = Some(index);
        Ok(Outcome::new(Status::Done, detail))
    }
}

/// The rehearsal's `install-check` step: the package installs from the
/// local index into a fresh virtual environment and imports.
pub struct InstallCheck {
    index: SharedIndex,
    package: Option<Package>,
    base_python: Option<PathBuf>,
}

impl InstallCheck {
    /// Installs from the index [`StartIndex`] started.
    pub fn new(index: SharedIndex) -> InstallCheck {
        InstallCheck {
            index,
            package: None,
            base_python: None,
        }
    }
}

impl Step for InstallCheck {
    fn name(&self) -> &'static str {
        "install-check"
    }

    fn check(&mut self, cx: &StepContext<'_>, pre: &mut Preflight) {
        self.package = pre.check(build::package(cx.project));
        self.base_python = venv::base_python();
        if self.base_python.is_none() {
            pre.problem(venv::ToolsError::NoPython.to_string());
        }
    }

    fn plan(&self) -> String {
        let (name, version) = self.package.as_ref().map_or(("?", "?"), |p| {
            (p.name.as_str(), p.version.version.as_str())
        });
        format!(
            "pip install {name}=={version} from the local index into a fresh venv, then import it"
        )
    }

    fn run(&mut self, cx: &StepContext<'_>) -> Result<Outcome, StepError> {
        let package = self
            .package
            .as_ref()
            .expect("InstallCheck::run after a passing check");
        let base_python = self.base_python.as_deref().expect("checked");
        let tools = venv::ensure(cx.project, cx.echo).map_err(StepError::cause)?;
        let index = self.index.borrow();
        let index = index
            .as_ref()
            .ok_or_else(|| StepError::failed("the local index was not started"))?;
        let (name, version) = (&package.name, &package.version.version);
        let reported = install_check(
            base_python,
            &tools.python,
            index,
            name,
            version,
            cx.redactor(),
            cx.echo,
        )?;
        Ok(Outcome::new(
            Status::Done,
            format!(
                "{name}=={version} installed from {} and imported{}",
                index.simple_url(),
                if reported.is_empty() {
                    String::new()
                } else {
                    format!(" (__version__ {reported})")
                }
            ),
        ))
    }
}
