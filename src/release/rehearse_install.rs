//! The rehearsal's install check: the project's packages come from the
//! local index and nowhere else, their dependencies from the user's own
//! index configuration, and each is imported by the top-level modules its
//! wheel installed (or checked by its `rehearse-check` instead).
//!
//! Two installs into one fresh virtual environment, so that a package
//! under test can never come from the user's index (dependency confusion):
//!
//! 1. the project's packages, `name==version`, `--no-deps`, wheels only,
//!    from the local index only (no config file, no index variable);
//! 2. their dependencies (`Requires-Dist`, less the project's own names),
//!    with the user's own settings (uv: `uv.toml`, `UV_*`, pip's index
//!    variables translated; pip: `pip.conf`, `PIP_*`), constrained to the
//!    installed versions of the project's packages. What is installed
//!    already is kept; the check below proves the project's files stayed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{IoContext as _, IoError, cannot};
use crate::pypi::package::normalize;
use crate::pypi::uv::Uv;
use crate::pypi::venv::venv_python;
use crate::secret::Redactor;
use crate::tools::{Child, ChildError, Echo, Output, tail};

/// A package the install check installs, and what it runs after.
#[derive(Clone, Debug)]
pub struct Installed {
    /// The distribution name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// A native package must load a compiled extension when imported.
    pub native: bool,
    /// Python run instead of the import of its modules
    /// (`rehearse-check`: a call into it).
    pub check: Option<String>,
}

/// Why the install check failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    /// A file or folder could not be made.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A tool could not be started.
    #[error(transparent)]
    Child(#[from] ChildError),
    /// A tool ran and failed; the message says what to do.
    #[error("{0}")]
    Failed(String),
}

/// Where the install check works: the local index and a scratch folder.
#[derive(Clone, Copy, Debug)]
pub struct Local<'a> {
    /// The local index's PEP 503 listing.
    pub index_url: &'a str,
    /// A folder of the rehearsal's own (the venv and files go there).
    pub scratch: &'a Path,
    /// The project's root: the dependencies install from there, so that
    /// its own uv settings (`uv.toml`, `[tool.uv]`) apply as uv reads them.
    pub project_root: &'a Path,
}

/// Installs every package as the module documentation says, imports
/// each (or runs its `rehearse-check`), makes sure a native one loaded its
/// compiled extension; returns what each reported.
pub fn install_check(
    base_python: &Path,
    pip_python: &Path,
    local: Local<'_>,
    packages: &[Installed],
    redactor: &Redactor,
    echo: Echo,
) -> Result<Vec<String>, InstallError> {
    let uv = crate::pypi::uv::installed();
    install_with(uv, base_python, pip_python, local, packages, redactor, echo)
}

/// [`install_check`] with `uv` when given, else pip.
fn install_with(
    uv: Option<Uv>,
    base_python: &Path,
    pip_python: &Path,
    local: Local<'_>,
    packages: &[Installed],
    redactor: &Redactor,
    echo: Echo,
) -> Result<Vec<String>, InstallError> {
    let python = venv_python(&local.scratch.join("install-venv"));
    let wanted: Vec<String> = packages
        .iter()
        .map(|p| format!("{}=={}", p.name, p.version))
        .collect();
    let (installer, out) =
        first_phase(uv, base_python, pip_python, local, &wanted, redactor, echo)?;
    if !out.status.success() {
        return Err(InstallError::Failed(format!(
            "{} could not install {} from the local index {}:\n{}\n\
             the uploaded files do not install (a native package needs a wheel for this platform)",
            installer.name(),
            wanted.join(" "),
            local.index_url,
            tail(&out.combined(), 15)
        )));
    }
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    let before = inspect(&python, local.scratch, &names, redactor)?;
    let deps = dependencies(&before, &names);
    if !deps.is_empty() {
        let constraints = local.scratch.join("rehearsal-constraints.txt");
        std::fs::write(&constraints, wanted.join("\n") + "\n")
            .io_context(cannot("write", &constraints))?;
        let out = installer
            .with_user_config(&python, &deps, &constraints, echo)
            .current_dir(local.project_root)
            .run(redactor)?;
        if !out.status.success() {
            return Err(InstallError::Failed(deps_failed(
                &installer, &deps, &out, packages,
            )));
        }
    }
    let after = inspect(&python, local.scratch, &names, redactor)?;
    let consistent = installer.check(&python, echo).run(redactor)?;
    if !consistent.status.success() {
        return Err(InstallError::Failed(format!(
            "the installed packages' requirements do not agree ({} check):\n{}\n\
             fix: the versions the project's packages require of each other and of their dependencies",
            installer.name(),
            tail(&consistent.combined(), 15)
        )));
    }
    for p in packages {
        let key = normalize(&p.name);
        if before.get(&key).map(|d| &d.record) != after.get(&key).map(|d| &d.record) {
            return Err(InstallError::Failed(format!(
                "installing the dependencies replaced {} from the local index with another copy: \
                 a dependency wants a different {}; the package under test must come from the local index only",
                p.name, p.name
            )));
        }
    }
    packages
        .iter()
        .map(|p| {
            let modules = after
                .get(&normalize(&p.name))
                .map(Dist::modules)
                .unwrap_or_default();
            import_check(&python, local.scratch, p, &modules, redactor, echo)
        })
        .collect()
}

/// The message of a dependency install that failed.
fn deps_failed(
    installer: &Installer,
    deps: &[String],
    out: &Output,
    packages: &[Installed],
) -> String {
    let names: Vec<&str> = packages.iter().map(|p| p.name.as_str()).collect();
    format!(
        "{} could not install the dependencies of {} ({}) from your own index configuration:\n{}\n\
         the rehearsal takes dependencies from where {} would for you ({}); \
         make them reachable there (or set the index there), then run the rehearsal again",
        installer.name(),
        names.join(", "),
        deps.join(", "),
        tail(&out.combined(), 15),
        installer.name(),
        installer.config_sources()
    )
}

/// What installs into the rehearsal's venv.
enum Installer {
    /// The pinned uv.
    Uv(Uv),
    /// `python -m pip`, aimed at another environment's Python when
    /// `target` is set (the tools' pip: `pip --python`, pip >= 22.3).
    Pip {
        python: PathBuf,
        target: Option<PathBuf>,
    },
}

impl Installer {
    fn name(&self) -> &'static str {
        match self {
            Installer::Uv(_) => "uv",
            Installer::Pip { .. } => "pip",
        }
    }

    fn config_sources(&self) -> &'static str {
        match self {
            Installer::Uv(_) => {
                "uv.toml, UV_INDEX_URL / UV_DEFAULT_INDEX / UV_INDEX, or PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS"
            }
            _ => "pip.conf, PIP_INDEX_URL / PIP_EXTRA_INDEX_URL / PIP_FIND_LINKS",
        }
    }

    /// Phase 1: `wanted` from `url` only, without dependencies.
    fn local_only(&self, python: &Path, url: &str, wanted: &[String], echo: Echo) -> Child {
        match self {
            Installer::Uv(uv) => uv.install_only_from(python, url, wanted, echo),
            Installer::Pip {
                python: program,
                target,
            } => pip_install_from(pip(program, target.as_deref()), url, wanted, echo),
        }
        .arg("--no-deps")
    }

    /// `pip check` of `python`'s environment: every installed package's
    /// requirements are met (the first phase installed without them).
    fn check(&self, python: &Path, echo: Echo) -> Child {
        match self {
            Installer::Uv(uv) => uv.check(python, echo),
            Installer::Pip {
                python: program,
                target,
            } => pip(program, target.as_deref())
                .args(["check", "--disable-pip-version-check"])
                .echo(echo),
        }
    }

    /// Phase 2: `deps` with the user's own settings, within `constraints`.
    fn with_user_config(
        &self,
        python: &Path,
        deps: &[String],
        constraints: &Path,
        echo: Echo,
    ) -> Child {
        match self {
            Installer::Uv(uv) => uv.install(python, &[], echo),
            Installer::Pip {
                python: program,
                target,
            } => pip(program, target.as_deref())
                .args(["install", "--no-input", "--disable-pip-version-check"])
                .echo(echo),
        }
        .arg("-c")
        .arg(constraints)
        .args(deps)
    }
}

/// `python -m pip`, with `--python target` when set.
fn pip(python: &Path, target: Option<&Path>) -> Child {
    let child = Child::new(python).args(["-m", "pip"]);
    match target {
        Some(t) => child.arg("--python").arg(t),
        None => child,
    }
}

/// Makes the venv and installs `wanted` from `url` only, the fastest way
/// that works: uv; a venv without pip filled by the tools' pip; the classic
/// venv with pip (whose error is the one shown).
fn first_phase(
    uv: Option<Uv>,
    base_python: &Path,
    pip_python: &Path,
    local: Local<'_>,
    wanted: &[String],
    redactor: &Redactor,
    echo: Echo,
) -> Result<(Installer, Output), InstallError> {
    let (venv, url) = (&local.scratch.join("install-venv"), local.index_url);
    let python = venv_python(venv);
    if let Some(uv) = uv
        && uv
            .venv(base_python, venv, echo)
            .run(redactor)?
            .status
            .success()
    {
        let installer = Installer::Uv(uv);
        let out = installer
            .local_only(&python, url, wanted, echo)
            .run(redactor)?;
        if out.status.success() {
            return Ok((installer, out));
        }
    }
    let bare = Child::new(base_python)
        .args(["-m", "venv", "--without-pip", "--clear"])
        .arg(venv)
        .echo(echo)
        .run(redactor)?;
    if bare.status.success() {
        let installer = Installer::Pip {
            python: pip_python.to_owned(),
            target: Some(python.clone()),
        };
        let out = installer
            .local_only(&python, url, wanted, echo)
            .run(redactor)?;
        if out.status.success() {
            return Ok((installer, out));
        }
    }
    let _ = std::fs::remove_dir_all(venv);
    let made = Child::new(base_python)
        .args(["-m", "venv"])
        .arg(venv)
        .echo(echo)
        .run(redactor)?;
    if !made.status.success() {
        return Err(InstallError::Failed(format!(
            "cannot create a virtual environment with {}:\n{}\nfix: install the venv module (apt-get install python3-venv)",
            base_python.display(),
            tail(&made.combined(), 10)
        )));
    }
    let installer = Installer::Pip {
        python: python.clone(),
        target: None,
    };
    let out = installer
        .local_only(&python, url, wanted, echo)
        .run(redactor)?;
    Ok((installer, out))
}

/// `pip install wanted` from the index at `url` and nowhere else: no
/// pip.conf (`extra-index-url`, `find-links`: `PIP_CONFIG_FILE` set to the
/// null device skips every config file, which `--isolated` alone does not
/// for the global and site ones) and no `PIP_*` variable (`--isolated`).
pub(crate) fn pip_install_from(pip: Child, url: &str, wanted: &[String], echo: Echo) -> Child {
    pip.args([
        "install",
        "--isolated",
        "--no-input",
        "--no-cache-dir",
        "--disable-pip-version-check",
        // The platform's wheel or nothing: an sdist fallback would
        // compile the extension here and hide a missing wheel.
        "--only-binary",
        ":all:",
        "--index-url",
    ])
    .arg(url)
    .args(wanted)
    .env("PIP_CONFIG_FILE", NULL_DEVICE)
    .echo(echo)
}

/// What pip reads as "no config file at all" in `PIP_CONFIG_FILE`.
const NULL_DEVICE: &str = if cfg!(windows) { "nul" } else { "/dev/null" };

/// An installed distribution, as the venv's `importlib.metadata` sees it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
pub struct Dist {
    /// Its `Requires-Dist` lines, markers and all.
    #[serde(default)]
    pub requires: Vec<String>,
    /// The SHA-256 of its installed `RECORD`: which files it is.
    #[serde(default)]
    pub record: String,
    /// Its `top_level.txt`, when the wheel has one.
    #[serde(default)]
    pub top_level: Option<String>,
    /// Its files, as `RECORD` lists them.
    #[serde(default)]
    pub files: Vec<String>,
}

impl Dist {
    /// The modules it installed at the top level.
    pub fn modules(&self) -> Vec<String> {
        top_level_modules(self.top_level.as_deref(), &self.files)
    }
}

/// Reads the installed distributions `names` in `python`'s environment,
/// keyed by their normalised names.
fn inspect(
    python: &Path,
    scratch: &Path,
    names: &[&str],
    redactor: &Redactor,
) -> Result<BTreeMap<String, Dist>, InstallError> {
    const CODE: &str = "import sys, json, hashlib, importlib.metadata as md\n\
        out = {}\n\
        for n in sys.argv[1:]:\n\
        \x20   d = md.distribution(n)\n\
        \x20   rec = d.read_text('RECORD') or ''\n\
        \x20   out[n] = {'requires': d.requires or [], 'record': hashlib.sha256(rec.encode()).hexdigest(),\n\
        \x20             'top_level': d.read_text('top_level.txt'), 'files': [str(f) for f in (d.files or [])]}\n\
        print(json.dumps(out))\n";
    let out = Child::new(python)
        .args(["-I", "-c", CODE])
        .args(names)
        .current_dir(scratch)
        .run(redactor)?;
    let parsed: Option<BTreeMap<String, Dist>> = out
        .status
        .success()
        .then(|| serde_json::from_str(out.stdout.trim()).ok())
        .flatten();
    let Some(parsed) = parsed else {
        return Err(InstallError::Failed(format!(
            "cannot read the installed metadata of {} in the rehearsal's venv:\n{}",
            names.join(", "),
            tail(&out.combined(), 10)
        )));
    };
    Ok(parsed
        .into_iter()
        .map(|(k, v)| (normalize(&k), v))
        .collect())
}

/// The requirements of `dists` other than the project's own packages
/// (`own`), each once, as written (markers stay: the installer evaluates
/// them, and an `extra == …` one is left out as it should).
pub fn dependencies(dists: &BTreeMap<String, Dist>, own: &[&str]) -> Vec<String> {
    let own: Vec<String> = own.iter().map(|n| normalize(n)).collect();
    let mut out: Vec<String> = Vec::new();
    for req in dists.values().flat_map(|d| &d.requires) {
        let name: String = req
            .trim()
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        if name.is_empty() || own.contains(&normalize(&name)) {
            continue;
        }
        let req = req.trim().to_owned();
        if !out.contains(&req) {
            out.push(req);
        }
    }
    out
}

/// A Python identifier of ASCII letters, digits and `_`.
fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The top-level modules a wheel installs: its `top_level.txt` when it has
/// one naming any, else from its files: each top-level folder holding
/// Python or compiled code, and each top-level `.py`, `.so` or `.pyd` file;
/// never `*.dist-info`, `*.data`, `__pycache__` or what lies outside
/// site-packages (`../../bin/…`). Sorted, each once.
pub fn top_level_modules(top_level: Option<&str>, files: &[String]) -> Vec<String> {
    let mut out: Vec<String> = top_level
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| is_identifier(l))
        .map(str::to_owned)
        .collect();
    if out.is_empty() {
        let code = |f: &str| [".py", ".so", ".pyd"].iter().any(|x| f.ends_with(x));
        for file in files {
            let parts: Vec<&str> = file.split(['/', '\\']).collect();
            let first = parts[0];
            if first == ".."
                || first == "__pycache__"
                || first.ends_with(".dist-info")
                || first.ends_with(".data")
                || !code(file)
            {
                continue;
            }
            let module = if parts.len() > 1 {
                first
            } else {
                first.split('.').next().unwrap_or_default()
            };
            if is_identifier(module) && module != "__init__" {
                out.push(module.to_owned());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Python that imports each module of `sys.argv[2:]` and prints the first
/// `__version__` it finds (the default check).
const IMPORT_MODULES: &str = "import importlib\nversion = ''\nfor n in names:\n\
    \x20   m = importlib.import_module(n)\n\
    \x20   version = version or str(getattr(m, '__version__', '') or '')\n\
    print(version)\n";

/// Python that fails unless a module of `names` was loaded from a compiled
/// file (`.so`, `.pyd`).
const NATIVE_LOADED: &str = "import importlib.machinery\n\
    suffixes = tuple(importlib.machinery.EXTENSION_SUFFIXES)\n\
    loaded = [n for n, m in list(sys.modules.items()) if n.split('.')[0] in names\n\
    \x20         and str(getattr(m, '__file__', '') or '').endswith(suffixes)]\n\
    if not loaded: sys.exit('no compiled extension of ' + ', '.join(names) + ' was loaded: the wheel holds no native code for this platform')\n";

/// Why an import check failed: the import, or the `rehearse-check`.
fn import_failed(package: &Installed, shown: &str, out: &Output) -> InstallError {
    InstallError::Failed(match &package.check {
        Some(_) => format!(
            "the rehearse-check of {} (release-kit.toml) failed in the installed package (modules: {shown}):\n{}",
            package.name,
            tail(&out.combined(), 15)
        ),
        None => format!(
            "the installed {} does not import as `{shown}` (the top-level modules of its wheel):\n{}\n\
             fix: make the package importable, or set `rehearse-check` for it in release-kit.toml \
             (Python that imports and calls it)",
            package.name,
            tail(&out.combined(), 15)
        ),
    })
}

/// Imports one installed package's `modules` in `python` (run in
/// `scratch`), or runs its `rehearse-check` instead, then makes sure a
/// native one loaded its compiled extension. `python -I`: neither
/// PYTHONPATH nor the working folder can make a source tree importable in
/// place of the installed package. Module names travel in argv, never in
/// the code.
pub fn import_check(
    python: &Path,
    scratch: &Path,
    package: &Installed,
    modules: &[String],
    redactor: &Redactor,
    echo: Echo,
) -> Result<String, InstallError> {
    if modules.is_empty() && package.check.is_none() {
        return Ok(format!(
            "{}=={} installed (its wheel has no module to import)",
            package.name, package.version
        ));
    }
    let mut code = String::from("import sys\nnames = sys.argv[1:]\n");
    match &package.check {
        Some(check) => {
            code.push_str("print('')\n");
            code.push_str(check);
            code.push('\n');
        }
        None => code.push_str(IMPORT_MODULES),
    }
    if package.native && !modules.is_empty() {
        code.push_str(NATIVE_LOADED);
    }
    let out = Child::new(python)
        .args(["-I", "-c", &code])
        .args(modules)
        .current_dir(scratch)
        .echo(echo)
        .run(redactor)?;
    let shown = if modules.is_empty() {
        "(none)".to_owned()
    } else {
        modules.join(", ")
    };
    if !out.status.success() {
        return Err(import_failed(package, &shown, &out));
    }
    let mut lines = out.stdout.lines();
    let reported = lines.next().unwrap_or("").trim().to_owned();
    if !reported.is_empty() && reported != package.version {
        return Err(InstallError::Failed(format!(
            "`__version__` of {shown} is {reported} but the package version is {}; make them agree",
            package.version
        )));
    }
    let said: Vec<&str> = lines.map(str::trim).filter(|l| !l.is_empty()).collect();
    Ok(format!(
        "{}=={} {}{}{}",
        package.name,
        package.version,
        match &package.check {
            // (The check imports it: its output says what it did.)
            Some(_) => "imported".to_owned(),
            None => format!("imported as {shown}"),
        },
        if package.native {
            " with its compiled extension"
        } else {
            ""
        },
        if said.is_empty() {
            String::new()
        } else {
            format!(" (check: {})", said.join("; "))
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn python() -> PathBuf {
        crate::pypi::venv::base_python().expect("python3 is needed for this test")
    }

    /// A pure wheel `name-version` in `dir` holding `files`, requiring `requires`.
    fn wheel(dir: &Path, name: &str, version: &str, files: &[(&str, &str)], requires: &[&str]) {
        let stem = format!("{}-{version}", name.replace('-', "_"));
        let info = format!("{stem}.dist-info");
        let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
        for r in requires {
            metadata.push_str(&format!("Requires-Dist: {r}\n"));
        }
        let mut lines: Vec<String> = files
            .iter()
            .map(|(p, text)| format!("z.writestr({p:?}, {text:?})"))
            .collect();
        lines.push(format!("z.writestr('{info}/METADATA', {metadata:?})"));
        lines.push(format!(
            "z.writestr('{info}/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')"
        ));
        lines.push(format!("z.writestr('{info}/RECORD', '')"));
        let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
        crate::zip::write_by_python(&dir.join(format!("{stem}-py3-none-any.whl")), &lines);
    }

    /// A static PEP 503 index (`file://…/simple/`) listing the wheels of `files`.
    fn file_index(root: &Path, files: &Path) -> String {
        for entry in std::fs::read_dir(files).unwrap() {
            let path = entry.unwrap().path();
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let project = normalize(file.split('-').next().unwrap());
            let dir = root.join("simple").join(&project);
            std::fs::create_dir_all(&dir).unwrap();
            let page = dir.join("index.html");
            let mut html = std::fs::read_to_string(&page).unwrap_or_default();
            html.push_str(&format!("<a href=\"{}\">{file}</a>\n", file_url(&path)));
            std::fs::write(page, html).unwrap();
        }
        format!("{}/simple/", file_url(root))
    }

    /// `file:///…` for a path, on Unix and Windows (`file:///C:/…`).
    fn file_url(path: &Path) -> String {
        let p = path.display().to_string().replace('\\', "/");
        if p.starts_with('/') {
            format!("file://{p}")
        } else {
            format!("file:///{p}")
        }
    }

    #[test]
    fn top_level_modules_come_from_top_level_txt_else_the_files() {
        let files: Vec<String> = [
            "sample/__init__.py",
            "sample/sub/x.py",
            "helper.py",
            "_native.cpython-311-x86_64-linux-gnu.so",
            "sampleproject_fx-2.1.0.dist-info/METADATA",
            "sampleproject_fx-2.1.0.data/scripts/tool",
            "../../bin/tool",
            "__pycache__/helper.cpython-311.pyc",
            "README.txt",
            "data/only.json",
            "not-a-module/x.py",
            "__init__.py",
        ]
        .map(str::to_owned)
        .to_vec();
        assert_eq!(
            top_level_modules(None, &files),
            ["_native", "helper", "sample"]
        );
        assert_eq!(top_level_modules(Some("sample\n\n"), &files), ["sample"]);
        // A top_level.txt naming nothing importable: the files decide.
        assert_eq!(
            top_level_modules(Some("a-b\n"), &files),
            ["_native", "helper", "sample"]
        );
        assert!(top_level_modules(None, &["x-1.data/scripts/x".into()]).is_empty());
    }

    #[test]
    fn dependencies_leave_out_the_projects_own_packages() {
        let dist = |requires: &[&str]| Dist {
            requires: requires.iter().map(|r| r.to_string()).collect(),
            ..Dist::default()
        };
        let dists = BTreeMap::from([
            (
                "app".to_owned(),
                dist(&["Lib_B>=1", "rkdep (>=1.0)", "extra-thing; extra == 'dev'"]),
            ),
            ("lib-b".to_owned(), dist(&["rkdep (>=1.0)", "six"])),
        ]);
        assert_eq!(
            dependencies(&dists, &["app", "lib.b"]),
            ["rkdep (>=1.0)", "extra-thing; extra == 'dev'", "six"]
        );
    }

    /// The package under test from the local index, its dependency from
    /// the user's own index (a project uv.toml for uv, the same index for
    /// pip through the constraints-free second phase), although the user's
    /// index also serves the package under test, another copy of the same
    /// version and a higher one: the local copy is what is installed.
    fn local_package_user_dependency(uv: Option<Uv>) {
        let tmp = tempfile::tempdir().unwrap();
        let (local_files, user_files) = (tmp.path().join("lf"), tmp.path().join("uf"));
        std::fs::create_dir_all(&local_files).unwrap();
        std::fs::create_dir_all(&user_files).unwrap();
        let init = "__version__ = '1.0'\nimport rkfxdep\n";
        wheel(
            &local_files,
            "rkfx-app",
            "1.0",
            &[("rkfxmod/__init__.py", init)],
            &["rkfxdep>=1", "rkfx-never; extra == 'dev'"],
        );
        wheel(&user_files, "rkfxdep", "1.2", &[("rkfxdep.py", "")], &[]);
        // The hostile copies: the same version with other content, and a higher one.
        wheel(
            &user_files,
            "rkfx-app",
            "1.0",
            &[("rkfxmod/__init__.py", "__version__ = 'hostile'\n")],
            &[],
        );
        wheel(
            &user_files,
            "rkfx-app",
            "9.9",
            &[("rkfxmod/__init__.py", "__version__ = '9.9'\n")],
            &[],
        );
        let local_url = file_index(&tmp.path().join("local"), &local_files);
        let user_url = file_index(&tmp.path().join("user"), &user_files);
        let project = tmp.path().join("project");
        std::fs::create_dir_all(&project).unwrap();
        std::fs::write(
            project.join("uv.toml"),
            format!("index-url = {user_url:?}\n"),
        )
        .unwrap();
        let scratch = tmp.path().join("scratch");
        std::fs::create_dir_all(&scratch).unwrap();
        let local = Local {
            index_url: &local_url,
            scratch: &scratch,
            project_root: &project,
        };
        let pkg = Installed {
            name: "rkfx-app".into(),
            version: "1.0".into(),
            native: false,
            check: None,
        };
        let base = python();
        let got = install_with(
            uv,
            &base,
            &base,
            local,
            std::slice::from_ref(&pkg),
            &Redactor::default(),
            Echo::Quiet,
        );
        let got = got.unwrap();
        assert_eq!(got, ["rkfx-app==1.0 imported as rkfxmod"]);
    }

    #[test]
    fn uv_takes_the_package_from_the_local_index_and_its_dependency_from_the_users() {
        let base = python();
        let uv = crate::pypi::uv::ensure(&base, Echo::Quiet)
            .expect("uv from PyPI (the registry is reachable)");
        local_package_user_dependency(Some(uv));
    }

    /// The project's packages install without dependencies, then the
    /// environment is checked: one requiring another at a version the
    /// release does not have is found.
    #[test]
    fn requirements_between_the_projects_packages_are_checked() {
        let base = python();
        let uv = crate::pypi::uv::ensure(&base, Echo::Quiet).expect("uv from PyPI");
        let tmp = tempfile::tempdir().unwrap();
        let files = tmp.path().join("files");
        std::fs::create_dir_all(&files).unwrap();
        wheel(
            &files,
            "rkfx-app",
            "1.0",
            &[("rkfxapp.py", "")],
            &["rkfx-lib>=2"],
        );
        wheel(&files, "rkfx-lib", "1.0", &[("rkfxlib.py", "")], &[]);
        let url = file_index(&tmp.path().join("local"), &files);
        let local = Local {
            index_url: &url,
            scratch: tmp.path(),
            project_root: tmp.path(),
        };
        let packages = [installed("rkfx-app", None), installed("rkfx-lib", None)];
        let e = install_with(
            Some(uv),
            &base,
            &base,
            local,
            &packages,
            &Redactor::default(),
            Echo::Quiet,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("requirements do not agree") && e.contains("rkfx-lib"),
            "{e}"
        );
    }

    #[test]
    fn the_first_install_takes_nothing_from_the_users_settings() {
        let tmp = tempfile::tempdir().unwrap();
        let links = tmp.path().join("links");
        std::fs::create_dir(&links).unwrap();
        wheel(&links, "rkelsewhere", "1.0", &[("rkelsewhere.py", "")], &[]);
        let conf = tmp.path().join("pip.conf");
        std::fs::write(
            &conf,
            format!("[global]\nfind-links = {}\n", links.display()),
        )
        .unwrap();
        // An index that is not there: only the links could serve the wheel.
        let url = "http://127.0.0.1:9/simple/";
        let wanted = ["rkelsewhere==1.0".to_owned()];
        let pip = |env: (&str, &Path)| {
            Child::new(python())
                .args(["-m", "pip"])
                // This machine's own (a wheel cache in PIP_FIND_LINKS) out
                // of the way: the test sets one at a time.
                .env_remove("PIP_FIND_LINKS")
                .env_remove("PIP_CONFIG_FILE")
                .env(env.0, env.1.as_os_str())
        };
        let offline = ["--dry-run", "--retries", "0", "--timeout", "2"];
        for env in [
            ("PIP_FIND_LINKS", links.as_path()),
            ("PIP_CONFIG_FILE", conf.as_path()),
        ] {
            // Plain pip takes the wheel from the links: the check below can fail.
            let plain = pip(env)
                .args(["install", "--index-url", url])
                .args(&wanted)
                .args(offline)
                .run(&Redactor::default())
                .unwrap();
            assert!(plain.status.success(), "{env:?}: {}", plain.combined());
            let out = pip_install_from(pip(env), url, &wanted, Echo::Quiet)
                .args(offline)
                .run(&Redactor::default())
                .unwrap();
            assert!(
                !out.status.success() && !out.stdout.contains("Would install"),
                "{env:?}: {}",
                out.combined()
            );
        }
    }

    fn installed(name: &str, check: Option<&str>) -> Installed {
        Installed {
            name: name.into(),
            version: "1.0".into(),
            native: false,
            check: check.map(str::to_owned),
        }
    }

    #[test]
    fn the_import_check_imports_no_source_tree() {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join("rkshadow.py"), "__version__ = '1.0'\n").unwrap();
        let e = import_check(
            &python(),
            tmp.path(),
            &installed("rkshadow", None),
            &["rkshadow".into()],
            &Redactor::default(),
            Echo::Quiet,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("does not import as `rkshadow`"), "{e}");
        assert!(e.contains("rehearse-check"), "{e}");
    }

    #[test]
    fn a_rehearse_check_replaces_the_import() {
        let tmp = tempfile::tempdir().unwrap();
        let r = Redactor::default();
        // The module is the stdlib's colorsys; the distribution name is another.
        let modules = ["colorsys".to_owned()];
        let ok = import_check(
            &python(),
            tmp.path(),
            &installed("colorsys-dist", None),
            &modules,
            &r,
            Echo::Quiet,
        )
        .unwrap();
        assert_eq!(ok, "colorsys-dist==1.0 imported as colorsys");
        // A module that is not there: the check, not the import, decides.
        let missing = ["rk_not_there".to_owned()];
        assert!(
            import_check(
                &python(),
                tmp.path(),
                &installed("x", None),
                &missing,
                &r,
                Echo::Quiet
            )
            .is_err()
        );
        let check = Some("import json\nprint(json.dumps([names]))");
        let ok = import_check(
            &python(),
            tmp.path(),
            &installed("x", check),
            &missing,
            &r,
            Echo::Quiet,
        )
        .unwrap();
        assert_eq!(ok, "x==1.0 imported (check: [[\"rk_not_there\"]])");
        let failing = Some("raise SystemExit('rk-check-said-no')");
        let e = import_check(
            &python(),
            tmp.path(),
            &installed("x", failing),
            &missing,
            &r,
            Echo::Quiet,
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("rehearse-check of x") && e.contains("rk-check-said-no"),
            "{e}"
        );
    }
}
