//! The rehearsal's local index and install check: pypiserver on
//! 127.0.0.1 with a throwaway password, and a fresh virtual environment
//! that installs every package from it (a native one as this platform's
//! wheel), imports each, and runs its `rehearse-check` (a call into it).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::cleanup::{self, Guard};
use super::matrix::{self, Matrix};
pub use super::rehearse_install::Installed;
use super::rehearse_install::{InstallError, Local, install_check};
use crate::error::{IoContext as _, IoError, cannot};
use crate::preflight::Preflight;
use crate::pypi::native;
use crate::pypi::package::{self, Package, normalize};
use crate::pypi::venv::{self, Tools};
use crate::secret::{Redactor, Secret};
use crate::step::{Context as StepContext, Outcome, Plan, Status, Step, StepError};
use crate::tools::{Child, ChildError, tail};

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
    /// The install check failed.
    #[error(transparent)]
    Install(#[from] InstallError),
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
        write_htpasswd(tools, &htpasswd, password, redactor)?;
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
        wait_listening(&server_slot, port, pid, &log_path, redactor)?;
        Ok(LocalIndex {
            url: format!("http://127.0.0.1:{port}/"),
            packages,
            scratch,
            _guard: guard,
        })
    }
}

/// The local index's password file, hashed by passlib; the password
/// travels in the child's environment only.
fn write_htpasswd(
    tools: &Tools,
    htpasswd: &Path,
    password: &Secret,
    redactor: &Redactor,
) -> Result<(), RehearsalError> {
    let out = Child::new(&tools.python)
        .args([
            "-c",
            "import os, sys\nfrom passlib.apache import HtpasswdFile\n\
             h = HtpasswdFile(sys.argv[1], new=True)\n\
             h.set_password(sys.argv[2], os.environ['RK_REHEARSAL_PASSWORD'])\nh.save()",
        ])
        .arg(htpasswd)
        .arg(USER)
        .secret_env("RK_REHEARSAL_PASSWORD", password)
        .run(redactor)?;
    if !out.status.success() {
        return Err(RehearsalError::Failed(format!(
            "cannot write the local index's password file with passlib:\n{}\nfix: `cargo xtask setup` installs passlib into the managed tools",
            out.combined().trim()
        )));
    }
    Ok(())
}

/// Waits until pypiserver (in `slot`) listens on `port`: an error with its
/// log's tail when it exits first, or after 30 s.
fn wait_listening(
    slot: &std::sync::Mutex<Option<std::process::Child>>,
    port: u16,
    pid: u32,
    log_path: &Path,
    redactor: &Redactor,
) -> Result<(), RehearsalError> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        let exited = match slot.lock().unwrap_or_else(|e| e.into_inner()).as_mut() {
            Some(child) => child
                .try_wait()
                .io_context(|| "cannot wait for pypiserver".to_owned())?,
            None => None,
        };
        if let Some(status) = exited {
            let log = std::fs::read_to_string(log_path).unwrap_or_default();
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
    Ok(())
}

/// The local index, shared by the rehearsal's steps that start and use it.
pub type SharedIndex = std::rc::Rc<std::cell::RefCell<Option<LocalIndex>>>;

/// The rehearsal's `local-index` step: pypiserver on 127.0.0.1 with the
/// throwaway password the release put into `TWINE_PASSWORD`. It is its own
/// plan: the check only looks for pypi-server.
#[derive(Clone)]
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
    type Plan = StartIndex;

    fn name(&self) -> &'static str {
        "local-index"
    }

    fn check(&self, cx: &StepContext<'_>, pre: &mut Preflight) -> Option<StartIndex> {
        if venv::prefer_path(cx.project) && crate::tools::find_on_path("pypi-server").is_none() {
            pre.problem(
                "pypi-server: not found on PATH (use-path-tools is on); install pypiserver and passlib, or turn use-path-tools off so `cargo xtask setup` provisions them",
            );
        }
        Some(self.clone())
    }
}

impl Plan for StartIndex {
    type Report = ();

    fn describe(&self) -> String {
        "start pypiserver on 127.0.0.1 with a throwaway password".into()
    }

    fn run(self, cx: &StepContext<'_>) -> Result<(Outcome, ()), StepError> {
        let tools = venv::ensure(cx.project, cx.echo).map_err(StepError::cause)?;
        let password = cx
            .settings
            .explicit("TWINE_PASSWORD")
            .cloned()
            .ok_or_else(|| StepError::failed("the rehearsal's throwaway password is not set"))?;
        let index = LocalIndex::start(
            &tools,
            &crate::cache_dir::scratch(),
            self.port,
            &password,
            cx.redactor(),
        )?;
        let detail = format!("pypiserver at {}", index.url);
        *self.index.borrow_mut() = Some(index);
        Ok((Outcome::new(Status::Done, detail), ()))
    }
}

/// The rehearsal's `install-check` step: every package installs from the
/// local index into one fresh virtual environment and imports; a native
/// one loads its extension, and each runs its `rehearse-check`.
pub struct InstallCheck {
    index: SharedIndex,
    only: Option<String>,
}

/// A checked install-check: the packages, and the Python that makes the
/// fresh venv.
pub struct InstallPlan {
    index: SharedIndex,
    packages: Vec<Installed>,
    base_python: PathBuf,
}

impl InstallCheck {
    /// Installs from the index [`StartIndex`] started.
    pub fn new(index: SharedIndex) -> InstallCheck {
        InstallCheck { index, only: None }
    }

    /// Only the package `only` names (`--package`; all when `None`).
    pub fn select(mut self, only: Option<String>) -> InstallCheck {
        self.only = only;
        self
    }
}

impl Step for InstallCheck {
    type Plan = InstallPlan;

    fn name(&self) -> &'static str {
        "install-check"
    }

    fn check(&self, cx: &StepContext<'_>, pre: &mut Preflight) -> Option<InstallPlan> {
        let packages = package::selected(cx.project, self.only.as_deref(), pre)
            .into_iter()
            .map(|p: Package| Installed {
                check: cx.project.rehearse_check(&p.dir).map(str::to_owned),
                native: p.backend.is_native(),
                name: p.name,
                version: p.version.version,
            })
            .collect();
        let base_python = venv::base_python();
        if base_python.is_none() {
            pre.problem(venv::ToolsError::NoPython.to_string());
        }
        Some(InstallPlan {
            index: self.index.clone(),
            packages,
            base_python: base_python?,
        })
    }
}

impl Plan for InstallPlan {
    type Report = ();

    fn describe(&self) -> String {
        let wanted: Vec<String> = self
            .packages
            .iter()
            .map(|p| format!("{}=={}", p.name, p.version))
            .collect();
        format!(
            "pip install {} from the local index into a fresh venv, then import{}",
            if wanted.is_empty() {
                "?".to_owned()
            } else {
                wanted.join(" ")
            },
            if self.packages.iter().any(|p| p.check.is_some()) {
                " and run the rehearse-checks"
            } else {
                ""
            }
        )
    }

    fn run(self, cx: &StepContext<'_>) -> Result<(Outcome, ()), StepError> {
        let tools = venv::ensure(cx.project, cx.echo).map_err(StepError::cause)?;
        let index = self.index.borrow();
        let index = index
            .as_ref()
            .ok_or_else(|| StepError::failed("the local index was not started"))?;
        let local = Local {
            index_url: &index.simple_url(),
            scratch: &index.scratch,
            project_root: &cx.project.root,
        };
        let reported = install_check(
            &self.base_python,
            &tools.python,
            local,
            &self.packages,
            cx.redactor(),
            cx.echo,
        )
        .map_err(RehearsalError::from)?;
        let outcome = Outcome::new(
            Status::Done,
            format!(
                "installed from {}: {}",
                index.simple_url(),
                reported.join(", ")
            ),
        );
        Ok((outcome, ()))
    }
}

/// The plan's jobs this machine builds: the pure one, and the native one
/// for `host` (a Rust triple); each then carries its packages' sdists.
pub fn host_plan(plan: Matrix, host: Option<&str>) -> Matrix {
    Matrix {
        include: plan
            .include
            .into_iter()
            .filter(|e| e.target.is_empty() || Some(e.target.as_str()) == host)
            .map(|mut e| {
                e.sdist = true;
                e
            })
            .collect(),
    }
}

/// The rehearsal's `fan-in` step: the files the build put into `dist/`,
/// laid out as a build matrix's artifacts of this machine's platform and
/// checked complete by the code `release --from-artifacts` runs.
pub struct FanIn {
    only: Option<String>,
}

/// A checked fan-in: the packages, the host's part of the build matrix,
/// and the host.
pub struct FanInPlan {
    packages: Vec<Package>,
    plan: Matrix,
    host: Option<String>,
}

impl FanIn {
    /// The fan-in of the packages `only` names (all when `None`).
    pub fn new(only: Option<String>) -> FanIn {
        FanIn { only }
    }
}

impl Step for FanIn {
    type Plan = FanInPlan;

    fn name(&self) -> &'static str {
        "fan-in"
    }

    fn check(&self, cx: &StepContext<'_>, pre: &mut Preflight) -> Option<FanInPlan> {
        let packages = package::selected(cx.project, self.only.as_deref(), pre);
        // The toolchain a native package builds with decides the host.
        let dir = packages
            .iter()
            .find(|p| p.backend.is_native())
            .map_or(cx.project.root.as_path(), |p| p.dir.as_path());
        let host = native::host_triple(dir);
        let plan = host_plan(matrix::plan(&packages), host.as_deref());
        Some(FanInPlan {
            packages,
            plan,
            host,
        })
    }
}

impl Plan for FanInPlan {
    type Report = ();

    fn describe(&self) -> String {
        let names: Vec<&str> = self.plan.include.iter().map(|e| e.name.as_str()).collect();
        format!(
            "lay dist/ out as the artifacts of {} and check them as `release --from-artifacts` does",
            if names.is_empty() {
                "no platform".to_owned()
            } else {
                names.join(", ")
            }
        )
    }

    fn run(self, cx: &StepContext<'_>) -> Result<(Outcome, ()), StepError> {
        let parent = crate::cache_dir::scratch();
        std::fs::create_dir_all(&parent).io_context(cannot("create", &parent))?;
        let dir = tempfile::Builder::new()
            .prefix("fan-in-")
            .tempdir_in(&parent)
            .io_context(cannot("create a folder in", &parent))?;
        let dist = cx.project.dist_dir();
        for entry in &self.plan.include {
            let folder = dir.path().join(&entry.artifact);
            std::fs::create_dir_all(&folder).io_context(cannot("create", &folder))?;
            for pkg in self.packages.iter().filter(|p| {
                entry
                    .package_names()
                    .any(|n| normalize(n) == normalize(&p.name))
            }) {
                for file in package::package_files(&dist, &pkg.name)? {
                    let to = folder.join(file.file_name().unwrap_or_default());
                    // A link where the filesystem allows: nothing is copied.
                    if std::fs::hard_link(&file, &to).is_err() {
                        std::fs::copy(&file, &to).io_context(cannot("copy", &file))?;
                    }
                }
            }
        }
        let mut pre = Preflight::new();
        let collected = super::artifacts::collect(dir.path(), &self.plan, &self.packages, &mut pre);
        pre.finish().map_err(|e| {
            StepError::failed(format!(
                "the built files do not pass the fan-in check of `release --from-artifacts`: {e}"
            ))
        })?;
        let platforms: Vec<&str> = self.plan.include.iter().map(|e| e.name.as_str()).collect();
        let outcome = Outcome::new(
            Status::Done,
            format!(
                "{} files complete for {} ({})",
                collected.files.len(),
                platforms.join(", "),
                match &self.host {
                    Some(h) => format!("host {h}"),
                    None => "no Rust toolchain: pure packages only".into(),
                }
            ),
        );
        Ok((outcome, ()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pypi::backend::Backend;
    use crate::pypi::package::test_package as pkg;

    #[test]
    fn the_host_plan_is_the_pure_job_and_the_host_platform() {
        let plan = matrix::plan(&[pkg("a", Backend::Build), pkg("b", Backend::Maturin)]);
        let host = host_plan(plan.clone(), Some("aarch64-apple-darwin"));
        let names: Vec<&str> = host.include.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["pure", "macos-arm64"]);
        assert!(host.include.iter().all(|e| e.sdist));
        // No Rust toolchain, or a host no job builds for: the pure job only.
        assert_eq!(host_plan(plan.clone(), None).include.len(), 1);
        assert_eq!(
            host_plan(plan, Some("riscv64gc-unknown-linux-gnu"))
                .include
                .len(),
            1
        );
    }
}
