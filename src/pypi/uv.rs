//! uv, the engine that makes release-kit's virtual environments and
//! installs the pinned Python tools into them: seconds instead of pip's
//! tens of seconds on a first run.
//!
//! uv is pinned like every other tool ([`PIN`]) and comes from PyPI (the
//! `uv` wheel ships the binary), installed once by the base interpreter's
//! pip into the per-user cache (`pip install --target`, which needs no
//! virtual environment and so no ensurepip). When that is impossible
//! (no pip, no network) the callers fall back to pip and say so.
//!
//! The user's index settings for pip (`PIP_INDEX_URL`,
//! `PIP_EXTRA_INDEX_URL`) are handed to uv when uv's own are not set, so a
//! mirror that works for pip works for the tools; uv's own configuration
//! (`uv.toml`, `UV_*`) is read by uv itself. uv's download cache lives in
//! release-kit's cache unless `UV_CACHE_DIR` says otherwise.

use std::path::{Path, PathBuf};

use crate::platform::Os;
use crate::secret::Redactor;
use crate::tools::{Child, Echo, tail};

/// The pinned uv.
pub const PIN: &str = "uv==0.13.8";

/// Set to `1`/`true` to never use uv (pip makes and fills the venvs).
pub const NO_UV_ENV: &str = "RELEASE_KIT_NO_UV";

/// A ready uv binary.
#[derive(Clone, Debug)]
pub struct Uv {
    /// The `uv` executable.
    pub exe: PathBuf,
}

/// Why uv could not be provisioned (the caller falls back to pip).
#[derive(Debug, thiserror::Error)]
pub enum UvError {
    /// Turned off by [`NO_UV_ENV`].
    #[error("uv is turned off ({NO_UV_ENV})")]
    Disabled,
    /// pip could not install the uv wheel.
    #[error("`pip install {PIN}` into {dir} failed:\n{output}")]
    Install {
        /// The folder.
        dir: String,
        /// pip's last lines.
        output: String,
    },
    /// Filesystem trouble.
    #[error("{0}")]
    Io(String),
}

/// The folder uv is installed into (keyed by its pin).
pub fn dir() -> PathBuf {
    crate::cache_dir::pinned("uv", &[PIN])
}

/// The `uv` executable inside [`dir`] (`bin/uv`, `Scripts\uv.exe`).
pub fn exe_in(dir: &Path) -> PathBuf {
    Os::HOST.venv_bin(dir).join(Os::HOST.exe("uv"))
}

fn disabled() -> bool {
    std::env::var(NO_UV_ENV)
        .is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"))
}

/// uv when it is already provisioned (no side effect).
pub fn installed() -> Option<Uv> {
    if disabled() {
        return None;
    }
    let dir = dir();
    let exe = exe_in(&dir);
    let stamped = std::fs::read_to_string(dir.join(".pins")).ok().as_deref() == Some(PIN);
    (stamped && exe.exists()).then_some(Uv { exe })
}

/// uv, installed first with `base_python`'s pip when needed (once, under a
/// file lock, so concurrent runs wait for each other).
pub fn ensure(base_python: &Path, echo: Echo) -> Result<Uv, UvError> {
    if disabled() {
        return Err(UvError::Disabled);
    }
    if let Some(uv) = installed() {
        return Ok(uv);
    }
    let dir = dir();
    let io = |what: &str, p: &Path, e: std::io::Error| {
        UvError::Io(format!("cannot {what} {}: {e}", p.display()))
    };
    let parent = dir.parent().expect("cache folder has a parent");
    std::fs::create_dir_all(parent).map_err(|e| io("create", parent, e))?;
    let lock_path = dir.with_extension("lock");
    let lock = std::fs::File::create(&lock_path).map_err(|e| io("create", &lock_path, e))?;
    lock.lock().map_err(|e| io("lock", &lock_path, e))?;
    if let Some(uv) = installed() {
        return Ok(uv);
    }
    if dir.exists() {
        std::fs::remove_dir_all(&dir).map_err(|e| io("remove", &dir, e))?;
    }
    let out = Child::new(base_python)
        .args(["-m", "pip", "install", "--target"])
        .arg(&dir)
        .args(["--no-deps", "--only-binary", ":all:", "--no-input"])
        .args(["--disable-pip-version-check", "--retries", "2"])
        .args(["--timeout", "15", "-q", PIN])
        .env("PIP_NO_INPUT", "1")
        .echo(echo)
        .run(&Redactor::new())
        .map_err(|e| UvError::Io(format!("{e:#}")))?;
    let exe = exe_in(&dir);
    if !out.status.success() || !exe.exists() {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(UvError::Install {
            dir: dir.display().to_string(),
            output: tail(&out.combined(), 8),
        });
    }
    std::fs::write(dir.join(".pins"), PIN).map_err(|e| io("write", &dir, e))?;
    Ok(Uv { exe })
}

/// The pip index variables uv reads under other names, for the user's
/// mirror: `(pip's, uv's)`.
const INDEX_ENV: &[(&str, &str)] = &[
    ("PIP_INDEX_URL", "UV_INDEX_URL"),
    ("PIP_EXTRA_INDEX_URL", "UV_EXTRA_INDEX_URL"),
    ("PIP_FIND_LINKS", "UV_FIND_LINKS"),
];

/// uv's own index variables: any of them set means uv is configured and
/// pip's are not translated.
const UV_INDEX_ENV: &[&str] = &[
    "UV_INDEX_URL",
    "UV_DEFAULT_INDEX",
    "UV_INDEX",
    "UV_EXTRA_INDEX_URL",
    "UV_FIND_LINKS",
];

/// The `UV_*` index variables to set from pip's, given the environment
/// `var` (a pure function, for tests).
pub fn index_env(var: &dyn Fn(&str) -> Option<String>) -> Vec<(&'static str, String)> {
    if UV_INDEX_ENV
        .iter()
        .any(|k| var(k).is_some_and(|v| !v.is_empty()))
    {
        return Vec::new();
    }
    INDEX_ENV
        .iter()
        .filter_map(|(pip, uv)| var(pip).filter(|v| !v.is_empty()).map(|v| (*uv, v)))
        .collect()
}

impl Uv {
    /// `uv ARGS`, quiet, with the cache in release-kit's cache (unless the
    /// user chose `UV_CACHE_DIR`), and the platform's certificates (as pip
    /// and npm trust them: a company's proxy CA installed in the system
    /// store works) unless the user set `UV_SYSTEM_CERTS`.
    fn cmd(&self, echo: Echo) -> Child {
        let mut child = Child::new(&self.exe)
            .env("UV_NO_PROGRESS", "1")
            .env("UV_PYTHON_DOWNLOADS", "never")
            .echo(echo);
        if std::env::var_os("UV_CACHE_DIR").is_none() {
            child = child.env("UV_CACHE_DIR", crate::cache_dir::root().join("uv-cache"));
        }
        if std::env::var_os("UV_SYSTEM_CERTS").is_none() {
            child = child.env("UV_SYSTEM_CERTS", "1");
        }
        child
    }

    /// `uv venv DIR` with `python` (never a Python uv downloads).
    pub fn venv(&self, python: &Path, dir: &Path, echo: Echo) -> Child {
        self.cmd(echo)
            .args(["venv", "-q", "--python"])
            .arg(python)
            .arg(dir)
    }

    /// [`Uv::venv`] with pip in it (`--seed`): the managed tools'
    /// environment, whose pip `python -m build` and the wheelhouse use.
    pub fn venv_with_pip(&self, python: &Path, dir: &Path, echo: Echo) -> Child {
        self.venv(python, dir, echo).arg("--seed")
    }

    /// `uv pip install PINS` into the environment of `python`, from the
    /// user's index (pip's settings translated by [`index_env`]).
    pub fn install(&self, python: &Path, pins: &[&str], echo: Echo) -> Child {
        let var = |k: &str| std::env::var(k).ok();
        let mut child = self.cmd(echo).args(["pip", "install", "-q", "--python"]);
        child = child.arg(python).args(pins.iter().copied());
        for (k, v) in index_env(&var) {
            child = child.env(k, v);
        }
        child
    }

    /// `uv pip check` of `python`'s environment: every installed
    /// package's requirements are met.
    pub fn check(&self, python: &Path, echo: Echo) -> Child {
        self.cmd(echo)
            .args(["pip", "check", "--python"])
            .arg(python)
    }

    /// `uv build` (PEP 517, isolated) with `python`, build requirements
    /// from the user's index (pip's settings translated by [`index_env`]).
    pub fn build(&self, python: &Path) -> Child {
        let var = |k: &str| std::env::var(k).ok();
        let mut child = self
            .cmd(Echo::Quiet)
            .args(["build", "--python"])
            .arg(python);
        for (k, v) in index_env(&var) {
            child = child.env(k, v);
        }
        child
    }

    /// `uv pip install WANTED` into `python`'s environment from the index
    /// at `url` and nowhere else: no uv.toml (`--no-config`), no `UV_*`
    /// or `PIP_*` index variable, no cache (the files just uploaded), and
    /// wheels only (an sdist fallback would compile here and hide a
    /// missing wheel).
    pub fn install_only_from(
        &self,
        python: &Path,
        url: &str,
        wanted: &[String],
        echo: Echo,
    ) -> Child {
        let mut child = self
            .cmd(echo)
            .args([
                "pip",
                "install",
                "-q",
                "--no-config",
                "--no-cache",
                "--only-binary",
                ":all:",
            ])
            .args(["--index-url", url, "--python"])
            .arg(python)
            .args(wanted);
        for (pip, uv) in INDEX_ENV {
            child = child.env_remove(pip).env_remove(uv);
        }
        for k in UV_INDEX_ENV {
            child = child.env_remove(k);
        }
        child.env_remove("UV_CONFIG_FILE")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pip_index_settings_reach_uv_unless_uv_has_its_own() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                pairs
                    .iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            }
        };
        let pip_only = env(&[
            ("PIP_INDEX_URL", "https://mirror.example/simple"),
            ("PIP_EXTRA_INDEX_URL", "https://extra.example/simple"),
        ]);
        assert_eq!(
            index_env(&pip_only),
            [
                ("UV_INDEX_URL", "https://mirror.example/simple".to_owned()),
                (
                    "UV_EXTRA_INDEX_URL",
                    "https://extra.example/simple".to_owned()
                ),
            ]
        );
        let both = env(&[
            ("PIP_INDEX_URL", "https://mirror.example/simple"),
            ("UV_DEFAULT_INDEX", "https://uv.example/simple"),
        ]);
        assert!(index_env(&both).is_empty());
        assert!(index_env(&env(&[])).is_empty());
    }

    /// A real uv: the user's find-links (variables, a uv.toml in the
    /// working folder) would serve the package; the rehearsal's install
    /// must not take it from there.
    #[test]
    fn real_uv_installs_from_the_local_index_only() {
        let base = crate::pypi::venv::base_python().expect("python3 is needed for this test");
        let uv = ensure(&base, Echo::Quiet).expect("uv from PyPI (the registry is reachable)");
        let tmp = tempfile::tempdir().unwrap();
        let links = tmp.path().join("links");
        std::fs::create_dir(&links).unwrap();
        crate::zip::write_by_python(
            &links.join("rkelsewhere-1.0-py3-none-any.whl"),
            &[
                "z.writestr('rkelsewhere.py', '')",
                "z.writestr('rkelsewhere-1.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: rkelsewhere\\nVersion: 1.0\\n')",
                "z.writestr('rkelsewhere-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')",
                "z.writestr('rkelsewhere-1.0.dist-info/RECORD', '')",
            ],
        );
        let venv = tmp.path().join("venv");
        assert!(
            uv.venv(&base, &venv, Echo::Quiet)
                .run(&Redactor::default())
                .unwrap()
                .status
                .success()
        );
        let python = crate::pypi::venv::venv_python(&venv);
        let project = tmp.path().join("project");
        std::fs::create_dir(&project).unwrap();
        let toml = format!("find-links = [{:?}]\n", links.display().to_string());
        std::fs::write(project.join("uv.toml"), &toml).unwrap();
        std::fs::write(tmp.path().join("user-uv.toml"), &toml).unwrap();
        let url = "http://127.0.0.1:9/simple/";
        let wanted = ["rkelsewhere==1.0".to_owned()];
        let offline = ["--dry-run", "--offline"];
        let settings: [(&str, &Path, &Path); 4] = [
            ("UV_FIND_LINKS", &links, tmp.path()),
            ("PIP_FIND_LINKS", &links, tmp.path()),
            (
                "UV_CONFIG_FILE",
                &tmp.path().join("user-uv.toml"),
                tmp.path(),
            ),
            ("RK_NOTHING", tmp.path(), &project),
        ];
        // As if the user's environment had `key`: the variable is
        // inherited, then the child's removals apply.
        let run = |c: Child, key: &str, value: &Path, cwd: &Path| {
            let argv = c.argv();
            let mut cmd = std::process::Command::new(&argv[0]);
            cmd.args(&argv[1..]).args(offline).current_dir(cwd);
            cmd.env_remove("UV_FIND_LINKS").env(key, value);
            for k in c.env_removed() {
                cmd.env_remove(k);
            }
            cmd.output().unwrap()
        };
        for (key, value, cwd) in settings {
            // Without the isolation uv takes the wheel: the check can fail.
            let plain = run(
                uv.install(&python, &["rkelsewhere==1.0"], Echo::Quiet)
                    .args(["--index-url", url]),
                key,
                value,
                cwd,
            );
            if key != "PIP_FIND_LINKS" {
                // (uv reads no PIP_* variable; install() translates it.)
                assert!(plain.status.success(), "{key}: {plain:?}");
            }
            let out = run(
                uv.install_only_from(&python, url, &wanted, Echo::Quiet),
                key,
                value,
                cwd,
            );
            assert!(!out.status.success(), "{key}: {out:?}");
        }
    }

    /// `uv build` is used only because its files are the bytes of
    /// `python -m build` (the same backend): checked on the example
    /// package, with the pinned build frontend.
    #[test]
    fn uv_build_gives_the_bytes_of_python_m_build() {
        let base = crate::pypi::venv::base_python().expect("python3 is needed for this test");
        let uv = ensure(&base, Echo::Quiet).expect("uv from PyPI (the registry is reachable)");
        let r = Redactor::default();
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        assert!(
            uv.venv_with_pip(&base, &venv, Echo::Quiet)
                .run(&r)
                .unwrap()
                .status
                .success()
        );
        let python = crate::pypi::venv::venv_python(&venv);
        let build_pin = crate::pypi::venv::PINS
            .iter()
            .find(|p| p.starts_with("build=="))
            .unwrap();
        let o = uv
            .install(&python, &[build_pin], Echo::Quiet)
            .run(&r)
            .unwrap();
        assert!(o.status.success(), "{}", o.combined());
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/mult-agentes");
        let files = |child: Child, out: &Path| {
            let o = child
                .args(["--sdist", "--wheel", "-o"])
                .arg(out)
                .arg(&example)
                .env("SOURCE_DATE_EPOCH", "1700000000")
                .run(&r)
                .unwrap();
            assert!(o.status.success(), "{}", o.combined());
            let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(out)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "whl" || x == "gz"))
                .map(|p| {
                    (
                        p.file_name().unwrap().to_string_lossy().into_owned(),
                        std::fs::read(&p).unwrap(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        let by_build = files(
            Child::new(&python).args(["-m", "build"]),
            &tmp.path().join("a"),
        );
        let by_uv = files(uv.build(&python), &tmp.path().join("b"));
        assert_eq!(by_build.len(), 2, "an sdist and a wheel");
        let names = |v: &[(String, Vec<u8>)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(names(&by_build), names(&by_uv));
        for ((name, a), (_, b)) in by_build.iter().zip(&by_uv) {
            assert!(a == b, "{name}: uv build differs from python -m build");
        }
    }

    #[test]
    fn the_rehearsal_install_ignores_every_other_index() {
        let uv = Uv {
            exe: PathBuf::from("uv"),
        };
        let c = uv.install_only_from(
            Path::new("py"),
            "http://127.0.0.1:1/simple/",
            &["a==1".into()],
            Echo::Quiet,
        );
        let argv = c.argv();
        for flag in ["--no-config", "--index-url", "--only-binary"] {
            assert!(argv.iter().any(|a| a == flag), "{argv:?}");
        }
        let shown = format!("{:?}", c.env_removed());
        for k in [
            "PIP_INDEX_URL",
            "UV_INDEX_URL",
            "UV_INDEX",
            "UV_EXTRA_INDEX_URL",
            "UV_DEFAULT_INDEX",
        ] {
            assert!(shown.contains(k), "{k} not removed: {shown}");
        }
    }
}
