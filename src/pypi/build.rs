//! `cargo xtask build`: sdist and wheel by `python -m build`, checked by
//! `twine check --strict`, into `dist/` with stale versions cleaned out.
//!
//! The build goes to a fresh folder first and reaches `dist/` only after
//! twine passed it, so a failed build never leaves half a release behind.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::backend::Backend;
use super::dist::{describe_file, normalize_version, package_files, parse_filename};
use super::token::normalize;
use super::venv::Tools;
use super::wheel::WheelName;
use crate::config::{BackendChoice, Project};
use crate::error::{IoContext as _, IoError, cannot};
use crate::preflight::{Preflight, Problem};
use crate::secret::Redactor;
use crate::tools::{ChildError, Echo, tail};
use crate::version::{self, VersionAt};

/// A Python package of the project: its name and version from
/// `pyproject.toml`, its folder and the tool that builds it.
#[derive(Clone, Debug)]
pub struct Package {
    /// `[project] name`.
    pub name: String,
    /// `[project] version`, with where it was read.
    pub version: VersionAt,
    /// The folder holding `pyproject.toml`.
    pub dir: PathBuf,
    /// What builds it.
    pub backend: Backend,
}

/// Why a build, or reading `dist/`, failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file or folder could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A file of `dist/` whose name is not a distribution's.
    #[error("{0} is not a distribution file name")]
    NotADistribution(String),
    /// A tool could not be started.
    #[error(transparent)]
    Child(#[from] ChildError),
    /// The build tool failed.
    #[error(
        "`{command}` failed (exit {code}):\n{output}\nfix the package so that `{tool}` succeeds in {}",
        dir.display()
    )]
    Backend {
        /// The command line, redacted.
        command: String,
        /// Its exit code (-1: killed).
        code: i32,
        /// Its last lines, redacted.
        output: String,
        /// The tool (`python -m build`, `maturin`, `cibuildwheel`).
        tool: String,
        /// The package folder.
        dir: PathBuf,
    },
    /// The build produced no file named after the package.
    #[error(
        "{tool} produced no file named after {package} in {}; does [project] name match?",
        dir.display()
    )]
    NoFiles {
        /// The tool.
        tool: String,
        /// The package name.
        package: String,
        /// Where the build wrote.
        dir: PathBuf,
    },
    /// A wheel's `WHEEL` metadata could not be read.
    #[error(
        "{wheel}: cannot read its .dist-info/WHEEL ({reason}); the build tool wrote a broken wheel"
    )]
    WheelMetadata {
        /// The wheel's file name.
        wheel: String,
        /// Why.
        reason: String,
    },
    /// A wheel's file name and its `WHEEL` metadata claim different tags.
    #[error(
        "{wheel}: its file name says {name_tags} but its .dist-info/WHEEL says {metadata_tags}; \
         pip installs by the name and the index checks the metadata: rebuild with a fixed build tool, \
         and do not rename wheels by hand"
    )]
    TagMismatch {
        /// The wheel's file name.
        wheel: String,
        /// Tags of the file name.
        name_tags: String,
        /// `Tag:` lines of the metadata.
        metadata_tags: String,
    },
    /// `twine check --strict` refused the files.
    #[error(
        "twine check --strict refused the build:\n{output}\nfix the metadata in {} (README format, license, classifiers)",
        file.display()
    )]
    TwineCheck {
        /// twine's last lines, redacted.
        output: String,
        /// pyproject.toml.
        file: PathBuf,
    },
}

/// The first Python package of the project (`[python] path`).
pub fn package(project: &Project) -> Result<Package, Problem> {
    package_at(&project.python_dir(), project.config.python.backend)
}

/// Every Python package of the project, the first first; each one that
/// cannot be read, and a second one of the same (normalized) name, which
/// would be built and uploaded twice, is a problem in `pre`.
pub fn packages(project: &Project, pre: &mut Preflight) -> Vec<Package> {
    let mut out: Vec<Package> = Vec::new();
    for (dir, backend) in project.python_packages() {
        let Some(pkg) = pre.check(package_at(&dir, backend)) else {
            continue;
        };
        if let Some(first) = out
            .iter()
            .find(|p| normalize(&p.name) == normalize(&pkg.name))
        {
            pre.problem(Problem::at(
                format!(
                    "the Python package {} is configured twice, in {} and in {}; \
                     remove one of them from [python] / [[python.packages]]",
                    pkg.name,
                    first.dir.display(),
                    pkg.dir.display()
                ),
                project.root.join(crate::config::FILE_NAME),
                None,
            ));
            continue;
        }
        out.push(pkg);
    }
    out
}

/// The packages of the project `--package NAME` selects (all when `None`);
/// an unreadable package or an unknown name is a problem in `pre`.
pub fn selected(project: &Project, name: Option<&str>, pre: &mut Preflight) -> Vec<Package> {
    let all = packages(project, pre);
    if all.is_empty() {
        // Nothing could be read: that is the problem, not the name.
        return Vec::new();
    }
    pre.check(select(all, name)).unwrap_or_default()
}

/// The packages `--package NAME` asks for (all when `None`), compared as
/// normalized names (`Mult_Agentes` is `mult-agentes`).
pub fn select(packages: Vec<Package>, name: Option<&str>) -> Result<Vec<Package>, Problem> {
    let Some(name) = name else {
        return Ok(packages);
    };
    let wanted = normalize(name);
    let known: Vec<String> = packages.iter().map(|p| p.name.clone()).collect();
    let chosen: Vec<Package> = packages
        .into_iter()
        .filter(|p| normalize(&p.name) == wanted)
        .collect();
    if chosen.is_empty() {
        return Err(Problem::new(format!(
            "--package {name}: no such Python package in release-kit.toml; the configured ones are {}",
            if known.is_empty() {
                "none".to_owned()
            } else {
                known.join(", ")
            }
        )));
    }
    Ok(chosen)
}

/// Reads `[project] name` and `version` of the package in `dir`, and which
/// tool builds it.
pub fn package_at(dir: &Path, backend: Option<BackendChoice>) -> Result<Package, Problem> {
    let version = version::pyproject(dir)?;
    let text = std::fs::read_to_string(&version.file)
        .map_err(|e| Problem::new(format!("cannot read {}: {e}", version.file.display())))?;
    let doc: toml::Table = toml::from_str(&text).map_err(|e| {
        Problem::new(format!(
            "{}: {}",
            version.file.display(),
            e.to_string().trim()
        ))
    })?;
    let Some(name) = doc
        .get("project")
        .and_then(|p| p.get("name"))
        .and_then(|n| n.as_str())
    else {
        return Err(Problem::new(format!(
            "{}: [project] has no `name`; add `name = \"your-package\"`",
            version.file.display()
        )));
    };
    Ok(Package {
        name: name.to_owned(),
        version,
        dir: dir.to_owned(),
        backend: super::backend::detect(dir, backend)?,
    })
}

/// A package of version 1.0 read from nowhere, for tests.
#[cfg(test)]
pub(crate) fn test_package(name: &str, backend: Backend) -> Package {
    Package {
        name: name.into(),
        version: VersionAt {
            version: "1.0".into(),
            file: "p".into(),
            line: 1,
        },
        dir: ".".into(),
        backend,
    }
}

/// sdist or wheel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// `.tar.gz`
    Sdist,
    /// `.whl`
    Wheel,
}

/// A built file.
#[derive(Clone, Debug, Serialize)]
pub struct DistFile {
    /// Full path.
    pub path: PathBuf,
    /// File name.
    pub name: String,
    /// sdist or wheel.
    pub kind: Kind,
    /// The version in the file name.
    pub version: String,
    /// Size in bytes.
    pub size: u64,
    /// sha256, lower-case hex.
    pub sha256: String,
}

/// The tag check for a tagged CI run: `v1.2.3` or `1.2.3` for version 1.2.3.
pub fn check_tag(tag: &str, version: &VersionAt) -> Result<(), Problem> {
    let bare = tag.strip_prefix('v').unwrap_or(tag);
    if bare == version.version {
        Ok(())
    } else {
        Err(Problem::new(format!(
            "the tag {tag} does not match the package version {version}; \
             set version = \"{bare}\" there, or tag v{} instead",
            version.version
        )))
    }
}

/// What a build produced.
#[derive(Clone, Debug, Serialize)]
pub struct BuildReport {
    /// The package name.
    pub package: String,
    /// Its version.
    pub version: String,
    /// What built it.
    pub backend: Backend,
    /// The built files, in `dist/`.
    pub files: Vec<DistFile>,
    /// Each wheel's tags, as its file name and its `WHEEL` metadata agree.
    pub wheels: Vec<WheelTags>,
    /// Files of other versions removed from `dist/`.
    pub removed: Vec<String>,
}

/// A wheel's compatibility tags (PEP 425).
#[derive(Clone, Debug, Serialize)]
pub struct WheelTags {
    /// The wheel's file name.
    pub file: String,
    /// `python-abi-platform` tags, expanded and sorted.
    pub tags: Vec<String>,
}

/// The platform a native build is for: `cargo xtask build --target …
/// --manylinux … --zig`. Pure-Python packages ignore it (their wheel
/// installs anywhere).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Platform {
    /// A Rust target triple (`aarch64-unknown-linux-gnu`); the host when `None`.
    pub target: Option<String>,
    /// A manylinux / musllinux tag (`2014`, `manylinux_2_28`, `musllinux_1_2`),
    /// or `off` for the native `linux_*` tag (which PyPI refuses).
    pub manylinux: Option<String>,
    /// Link with zig (maturin), for an older glibc or a cross build.
    pub zig: bool,
}

impl Platform {
    /// " for TRIPLE (manylinux …) with zig", empty for the host: for plans
    /// and messages.
    pub fn label(&self) -> String {
        let mut s = String::new();
        if let Some(t) = &self.target {
            s.push_str(&format!(" for {t}"));
        }
        if let Some(m) = &self.manylinux {
            s.push_str(&format!(" (manylinux {m})"));
        }
        if self.zig {
            s.push_str(" with zig");
        }
        s
    }
}

/// Everything `build` needs, checked without side effects; problems go to
/// `pre`. `tag` is the git tag being built (CI), if any; `name` the
/// `--package` asked for (all when `None`).
pub fn preflight(
    project: &Project,
    name: Option<&str>,
    platform: &Platform,
    tag: Option<&str>,
    pre: &mut Preflight,
) -> Vec<Package> {
    let chosen = selected(project, name, pre);
    if let Some(tag) = tag {
        for pkg in &chosen {
            pre.check(check_tag(tag, &pkg.version));
        }
    }
    for e in super::venv::check(project) {
        pre.problem(e.to_string());
    }
    let mut seen = Vec::new();
    for backend in chosen.iter().map(|p| p.backend) {
        if !seen.contains(&backend) {
            seen.push(backend);
            let dirs: Vec<&Path> = chosen
                .iter()
                .filter(|p| p.backend == backend)
                .map(|p| p.dir.as_path())
                .collect();
            native_preflight(project, backend, &dirs, platform, pre);
        }
    }
    if chosen.iter().all(|p| !p.backend.is_native())
        && (platform.target.is_some() || platform.manylinux.is_some() || platform.zig)
        && !chosen.is_empty()
    {
        pre.problem(format!(
            "--target, --manylinux and --zig are for native packages (maturin, cibuildwheel), and {} {} pure Python: \
             drop them, or add --package NAME of a native package",
            chosen.iter().map(|p| p.name.as_str()).collect::<Vec<_>>().join(", "),
            if chosen.len() == 1 { "is" } else { "are" }
        ));
    }
    let dist = project.dist_dir();
    if dist.exists() && !dist.is_dir() {
        pre.problem(format!(
            "{}: exists and is not a folder; remove it or set [python] dist",
            dist.display()
        ));
    }
    for pkg in chosen.iter().filter(|p| p.backend == Backend::Maturin) {
        pre.check(super::maturin_dist::check(&pkg.dir, &dist));
    }
    chosen
}

/// What a native backend needs: its tool (path mode), and cargo, rustc,
/// the Rust target (in each of the packages' `dirs`) and zig for maturin; a
/// container engine for cibuildwheel on Linux.
fn native_preflight(
    project: &Project,
    backend: Backend,
    dirs: &[&Path],
    platform: &Platform,
    pre: &mut Preflight,
) {
    let Some(tool) = backend.tool() else { return };
    if let Some(e) = super::venv::check_native(project, tool) {
        pre.problem(e.to_string());
    }
    match backend {
        Backend::Maturin => {
            let mut found: Vec<String> = Vec::new();
            for dir in dirs {
                for p in rust_problems(dir, platform.target.as_deref()) {
                    if !found.contains(&p) {
                        found.push(p);
                    }
                }
            }
            for p in found {
                pre.problem(p);
            }
            if platform.zig && !zig_found(project) {
                pre.problem(format!(
                    "--zig: zig was not found; put zig on PATH, or install it next to the build tools: \
                     {} -m pip install {ZIGLANG_PIN}",
                    super::venv::tools_python(project)
                        .unwrap_or_else(|| "python3".into())
                        .display()
                ));
            }
            if let Some(m) = &platform.manylinux
                && m != "off"
                && manylinux_tag(m).is_none()
            {
                pre.problem(format!(
                    "--manylinux {m}: not a manylinux or musllinux tag; use e.g. 2014, 2_28, manylinux_2_28, musllinux_1_2 or off"
                ));
            }
        }
        Backend::Cibuildwheel => {
            if platform.zig {
                pre.problem("--zig is maturin's: cibuildwheel builds in manylinux containers instead; drop --zig");
            }
            if platform.manylinux.as_deref() == Some("off") {
                pre.problem("--manylinux off: cibuildwheel always repairs wheels to a manylinux tag; drop it, or name an image (2014, 2_28)");
            }
            let spec = match &platform.target {
                Some(t) => pre.check(cibuildwheel_platform(t).map_err(Problem::new)),
                None => Some(host_cibuildwheel_platform()),
            };
            if let (Some(t), Some((os, _))) = (&platform.target, &spec)
                && let Some(p) = cibuildwheel_os_problem(t, os, host_cibuildwheel_platform().0)
            {
                pre.problem(p);
            }
            if let (Some(m), Some((os, archs))) = (&platform.manylinux, &spec)
                && m != "off"
            {
                if *os != "linux" {
                    pre.problem(format!(
                        "--manylinux {m}: the images are for Linux builds, and this one is for {os}; drop --manylinux"
                    ));
                } else if let Err(p) = cibuildwheel_image(m, archs) {
                    pre.problem(p);
                }
            }
            if let Some((os, _)) = spec
                && os == "linux"
                && let Some(p) = container_problem(
                    std::env::var("CIBW_CONTAINER_ENGINE").ok().as_deref(),
                    &crate::tools::find_on_path,
                    &engine_answers,
                )
            {
                pre.problem(p);
            }
        }
        Backend::Build => {}
    }
}

/// The ziglang pin suggested for `--zig` (from PyPI: the zig toolchain as
/// a Python package, which maturin runs as `python3 -m ziglang`).
pub const ZIGLANG_PIN: &str = "ziglang==0.17.0";

fn zig_found(project: &Project) -> bool {
    crate::tools::find_on_path("zig").is_some()
        || super::venv::tools_python(project)
            .is_some_and(|python| python.exists() && super::venv::has_module(&python, "ziglang"))
}

/// A shell for asking rustc and rustup about the toolchain that builds in
/// `dir`: run there (its `rust-toolchain.toml` picks the toolchain, as it
/// does for maturin's cargo), and with `RUSTUP_AUTO_INSTALL=0`: a check
/// must not download a toolchain.
fn rust_shell(dir: &Path) -> Option<xshell::Shell> {
    let sh = crate::tools::shell()?;
    sh.change_dir(dir);
    sh.set_var("RUSTUP_AUTO_INSTALL", "0");
    Some(sh)
}

/// What stops cargo from building the package in `dir` for `target` (the
/// host when `None`): no cargo or rustc, a toolchain not installed, a
/// triple rustc does not know, a target not installed.
pub fn rust_problems(dir: &Path, target: Option<&str>) -> Vec<String> {
    let install = "install Rust with rustup (https://rustup.rs), then run again";
    let mut out = Vec::new();
    for tool in ["cargo", "rustc"] {
        if crate::tools::find_on_path(tool).is_none() {
            out.push(format!(
                "{tool} was not found on PATH: maturin compiles the extension with it; {install}"
            ));
        }
    }
    if !out.is_empty() {
        return out;
    }
    // A rustup proxy with no toolchain behind it is no compiler.
    let Some(host) = host_triple(dir) else {
        out.push(format!(
            "rustc does not run in {} (`rustc -vV` failed: with rustup, no default toolchain, \
             or the toolchain a rust-toolchain.toml there names is not installed); \
             run `rustup default stable` or `rustup toolchain install` there, or check RUSTUP_HOME and CARGO_HOME",
            dir.display()
        ));
        return out;
    };
    let Some(target) = target else { return out };
    let installed = crate::tools::find_on_path("rustup").and_then(|rustup| {
        let sh = rust_shell(dir)?;
        crate::tools::captured(xshell::cmd!(sh, "{rustup} target list --installed"))
            .ignore_stderr()
            .read()
            .ok()
    });
    let known = rust_shell(dir).and_then(|sh| {
        crate::tools::captured(xshell::cmd!(sh, "rustc --print target-list"))
            .ignore_stderr()
            .read()
            .ok()
    });
    out.extend(target_problem(
        target,
        installed.as_deref(),
        Some(&host),
        known.as_deref(),
    ));
    out
}

/// This machine's Rust target triple (`rustc -vV`'s `host:`), when rustc
/// runs in `dir` (the toolchain building there).
pub fn host_triple(dir: &Path) -> Option<String> {
    let sh = rust_shell(dir)?;
    let out = crate::tools::captured(xshell::cmd!(sh, "rustc -vV"))
        .ignore_stderr()
        .read()
        .ok()?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(|h| h.trim().to_owned())
}

/// Whether `target` can be built: known to rustc (`known`: its target
/// list), and installed (`installed`: `rustup target list --installed`, or
/// `None` without rustup, when only the host is).
fn target_problem(
    target: &str,
    installed: Option<&str>,
    host: Option<&str>,
    known: Option<&str>,
) -> Option<String> {
    if let Some(known) = known
        && !known.lines().any(|l| l.trim() == target)
    {
        return Some(format!(
            "--target {target}: not a target rustc knows (rustc --print target-list); check the triple, e.g. aarch64-unknown-linux-gnu"
        ));
    }
    let present = match installed {
        Some(list) => list.lines().any(|l| l.trim() == target),
        None => host == Some(target),
    };
    (!present).then(|| {
        format!(
            "the Rust target {target} is not installed: run `rustup target add {target}`{}",
            if installed.is_none() {
                " (rustup was not found: install Rust with rustup, https://rustup.rs)"
            } else {
                ""
            }
        )
    })
}

/// `--manylinux` as maturin's compatibility tag: `2014` → `manylinux2014`,
/// `2_28` → `manylinux_2_28`; full tags as they are.
fn manylinux_tag(m: &str) -> Option<String> {
    let digits = |s: &str| {
        !s.is_empty()
            && s.split('_')
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
    };
    if m.starts_with("manylinux") || m.starts_with("musllinux_") {
        let rest = m
            .trim_start_matches("manylinux")
            .trim_start_matches("musllinux")
            .trim_start_matches('_');
        return digits(rest).then(|| m.to_owned());
    }
    if !digits(m) {
        return None;
    }
    Some(if m.contains('_') {
        format!("manylinux_{m}")
    } else {
        format!("manylinux{m}")
    })
}

/// A Rust target triple as cibuildwheel's `--platform` and `--archs`.
fn cibuildwheel_platform(triple: &str) -> Result<(&'static str, String), String> {
    let arch = triple.split('-').next().unwrap_or("");
    let os = if triple.contains("-linux-") {
        "linux"
    } else if triple.contains("-apple-darwin") {
        "macos"
    } else if triple.contains("-windows-") {
        "windows"
    } else {
        return Err(format!(
            "--target {triple}: cibuildwheel builds for linux, macos and windows; use a triple such as x86_64-unknown-linux-gnu"
        ));
    };
    let archs = match (os, arch) {
        ("macos", "aarch64") => "arm64",
        ("windows", "x86_64") => "AMD64",
        ("windows", "i686") => "x86",
        ("windows", "aarch64") => "ARM64",
        ("linux", "armv7") => "armv7l",
        ("linux", "riscv64gc") => "riscv64",
        ("linux", "powerpc64le") => "ppc64le",
        (_, a) => a,
    };
    Ok((os, archs.to_owned()))
}

/// Why cibuildwheel cannot build for `target` (of `os`) on a `host` OS: it
/// builds macOS wheels only on macOS and Windows wheels only on Windows
/// (Linux ones, in containers, anywhere).
fn cibuildwheel_os_problem(target: &str, os: &str, host: &str) -> Option<String> {
    (os != host && os != "linux").then(|| {
        format!(
            "--target {target}: cibuildwheel builds {os} wheels only on {os} (it builds only for the host OS, \
             and this one is {host}); build them on a {os} runner (`cargo xtask release --plan-matrix`)"
        )
    })
}

/// The container images the pinned cibuildwheel knows for a Linux `arch`
/// (its `resources/pinned_docker_images.cfg`).
fn cibuildwheel_images(arch: &str) -> &'static [&'static str] {
    match arch {
        "armv7l" => &["manylinux_2_31", "manylinux_2_35", "musllinux_1_2"],
        "riscv64" => &["manylinux_2_39", "musllinux_1_2"],
        _ => &[
            "manylinux2014",
            "manylinux_2_28",
            "manylinux_2_34",
            "musllinux_1_2",
        ],
    }
}

/// `--manylinux m` for cibuildwheel on `arch`: the variable that picks the
/// image (`CIBW_MANYLINUX_X86_64_IMAGE`, `CIBW_MUSLLINUX_AARCH64_IMAGE`)
/// and the image; an error naming the known ones when `m` is not one
/// (cibuildwheel would take it for an image reference and fail to pull it).
fn cibuildwheel_image(m: &str, arch: &str) -> Result<(String, String), String> {
    let known = cibuildwheel_images(arch);
    match manylinux_tag(m) {
        Some(image) if known.contains(&image.as_str()) => {
            let family = if image.starts_with("musllinux") {
                "MUSLLINUX"
            } else {
                "MANYLINUX"
            };
            Ok((
                format!("CIBW_{family}_{}_IMAGE", arch.to_ascii_uppercase()),
                image,
            ))
        }
        _ => Err(format!(
            "--manylinux {m}: not an image cibuildwheel has for {arch}; use one of {}",
            known.join(", ")
        )),
    }
}

/// `CIBW_ENVIRONMENT_PASS_LINUX` with `SOURCE_DATE_EPOCH` added to the
/// variables the user passes already (`existing`, space-separated).
fn pass_linux(existing: Option<&str>) -> String {
    match existing.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) if e.split_whitespace().any(|v| v == "SOURCE_DATE_EPOCH") => e.to_owned(),
        Some(e) => format!("{e} SOURCE_DATE_EPOCH"),
        None => "SOURCE_DATE_EPOCH".to_owned(),
    }
}

/// `CIBW_SKIP` for a Linux `target`: cibuildwheel builds manylinux and
/// musllinux wheels alike, but a `…-linux-gnu` job of the build matrix
/// ships only manylinux ones and a `…-linux-musl` job only musllinux ones
/// (otherwise two artifacts claim the same tags). The user's own skips
/// are kept. `None` when the target says nothing of its C library.
fn cibuildwheel_skip(target: &str, existing: Option<&str>) -> Option<String> {
    let other = if target.ends_with("-musl") || target.contains("-linux-musl") {
        "*-manylinux_*"
    } else if target.contains("-linux-gnu") {
        "*-musllinux_*"
    } else {
        return None;
    };
    Some(match existing.map(str::trim).filter(|e| !e.is_empty()) {
        Some(e) if e.split_whitespace().any(|v| v == other) => e.to_owned(),
        Some(e) => format!("{e} {other}"),
        None => other.to_owned(),
    })
}

fn host_cibuildwheel_platform() -> (&'static str, String) {
    let os = match std::env::consts::OS {
        "macos" => "macos",
        "windows" => "windows",
        _ => "linux",
    };
    (os, std::env::consts::ARCH.to_owned())
}

/// Why cibuildwheel cannot start its Linux containers: the engine
/// (`CIBW_CONTAINER_ENGINE`, docker by default) missing from PATH, or
/// present with no daemon answering.
fn container_problem(
    engine_env: Option<&str>,
    find: &dyn Fn(&str) -> Option<std::path::PathBuf>,
    answers: &dyn Fn(&Path) -> bool,
) -> Option<String> {
    // `docker; create_args: …` names the engine first.
    let engine = engine_env
        .and_then(|e| e.split(';').next())
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .unwrap_or("docker");
    let other = if engine == "podman" {
        "docker"
    } else {
        "podman"
    };
    let Some(path) = find(engine) else {
        return Some(format!(
            "cibuildwheel builds Linux wheels in containers, and {engine} was not found on PATH; install docker or podman \
             (apt-get install podman){}",
            if find(other).is_some() {
                format!(", or use the {other} found on PATH: CIBW_CONTAINER_ENGINE={other}")
            } else {
                String::new()
            }
        ));
    };
    (!answers(&path)).then(|| {
        format!(
            "cibuildwheel builds Linux wheels in containers, and `{engine} info` fails: start its daemon \
             (systemctl start {engine}), or use another engine (CIBW_CONTAINER_ENGINE={other})"
        )
    })
}

fn engine_answers(engine: &Path) -> bool {
    crate::tools::shell().is_some_and(|sh| {
        crate::tools::captured(xshell::cmd!(sh, "{engine} info"))
            .ignore_stdout()
            .ignore_stderr()
            .run()
            .is_ok()
    })
}

/// `SOURCE_DATE_EPOCH` for a reproducible build: the one already set, else
/// the time of the last commit touching the package. A rebuild after a
/// half-finished release then has the same bytes (and sha256) as the files
/// already uploaded, so the re-run skips them instead of failing.
fn source_date_epoch(python_dir: &Path) -> Option<String> {
    if let Ok(v) = std::env::var("SOURCE_DATE_EPOCH") {
        return Some(v);
    }
    let sh = crate::tools::shell()?;
    sh.change_dir(python_dir);
    let out = crate::tools::captured(xshell::cmd!(sh, "git log -1 --format=%ct -- ."))
        .ignore_stderr()
        .read()
        .ok()?;
    let t = out.trim();
    (!t.is_empty() && t.bytes().all(|b| b.is_ascii_digit())).then(|| t.to_owned())
}

/// Where maturin's cargo builds a package: in the per-user cache (never in
/// the project), one per package name, reused from build to build and by
/// every checkout (cargo keeps sources of other paths apart).
pub fn cargo_target_dir(_project: &Project, package: &Package) -> PathBuf {
    crate::cache_dir::root()
        .join("cargo")
        .join(normalize(&package.name))
}

/// `maturin sdist` into `out`; its cargo runs would make a target/ in the
/// package unless given `cargo_dir`.
fn maturin_sdist(tools: &Tools, out: &Path, cargo_dir: &Path) -> crate::tools::Child {
    tools
        .maturin()
        .args(["sdist", "--out"])
        .arg(out)
        .env("CARGO_TARGET_DIR", cargo_dir)
}

/// The commands that build `package` into `out` with a native backend.
/// `python -m build` is run by [`build`] itself (it has a wheelhouse to
/// fall back from).
struct NativeCommands {
    /// In the order they run when not `parallel`.
    steps: Vec<crate::tools::Child>,
    /// Whether they may run at once: maturin's sdist only reads the source
    /// folder; setuptools' sdist writes `*.egg-info/` and `build/` into it
    /// while cibuildwheel copies it, so there the sdist comes first.
    parallel: bool,
}

fn native_commands(
    project: &Project,
    package: &Package,
    tools: &Tools,
    platform: &Platform,
    out: &Path,
) -> NativeCommands {
    let steps = match package.backend {
        Backend::Build => Vec::new(),
        Backend::Maturin => {
            let mut wheel = tools
                .maturin()
                .args(["build", "--release", "--out"])
                .arg(out)
                .arg("--target-dir")
                .arg(cargo_target_dir(project, package));
            if let Some(t) = &platform.target {
                wheel = wheel.args(["--target", t]);
            }
            if let Some(m) = &platform.manylinux {
                let tag = if m == "off" {
                    "off".to_owned()
                } else {
                    manylinux_tag(m).unwrap_or_else(|| m.clone())
                };
                wheel = wheel.args(["--manylinux", &tag]);
            }
            if platform.zig {
                wheel = wheel.arg("--zig");
            }
            let sdist = maturin_sdist(tools, out, &cargo_target_dir(project, package));
            vec![wheel, sdist]
        }
        Backend::Cibuildwheel => {
            let (os, archs) = match &platform.target {
                Some(t) => {
                    cibuildwheel_platform(t).unwrap_or_else(|_| host_cibuildwheel_platform())
                }
                None => host_cibuildwheel_platform(),
            };
            let mut wheels = tools
                .cibuildwheel()
                .args(["--platform", os, "--archs", &archs, "--output-dir"])
                .arg(out)
                .arg(&package.dir)
                // The build runs in a container: pass the timestamp in.
                .env(
                    "CIBW_ENVIRONMENT_PASS_LINUX",
                    pass_linux(std::env::var("CIBW_ENVIRONMENT_PASS_LINUX").ok().as_deref()),
                );
            if let Some(skip) = platform
                .target
                .as_deref()
                .and_then(|t| cibuildwheel_skip(t, std::env::var("CIBW_SKIP").ok().as_deref()))
            {
                wheels = wheels.env("CIBW_SKIP", skip);
            }
            // Preflight refused an unknown image.
            if let Some(m) = &platform.manylinux
                && os == "linux"
                && let Ok((var, image)) = cibuildwheel_image(m, &archs)
            {
                wheels = wheels.env(&var, image);
            }
            let sdist = tools
                .build()
                .args(["--sdist", "--outdir"])
                .arg(out)
                .arg(&package.dir);
            vec![sdist, wheels]
        }
    };
    NativeCommands {
        steps,
        parallel: package.backend == Backend::Maturin,
    }
}

/// A wheel's tags read back from its file name and from its
/// `*.dist-info/WHEEL` (`Tag:` lines); an error when they differ.
pub fn wheel_tags(path: &Path) -> Result<WheelTags, BuildError> {
    let file = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = WheelName::parse(&file).ok_or_else(|| BuildError::NotADistribution(file.clone()))?;
    let bytes = std::fs::read(path).io_context(cannot("read", path))?;
    let unreadable = |reason: String| BuildError::WheelMetadata {
        wheel: file.clone(),
        reason,
    };
    let (_, wheel) = crate::zip::find_entry(&bytes, |n| {
        n.ends_with(".dist-info/WHEEL") && n.matches('/').count() == 1
    })
    .map_err(|e| unreadable(e.to_string()))?
    .ok_or_else(|| unreadable("it has no *.dist-info/WHEEL file".into()))?;
    let text = String::from_utf8_lossy(&wheel);
    let mut metadata: Vec<String> = text
        .lines()
        .filter_map(|l| l.strip_prefix("Tag:"))
        .map(|t| t.trim().to_owned())
        .collect();
    metadata.sort();
    metadata.dedup();
    let tags = name.tags();
    if metadata != tags {
        return Err(BuildError::TagMismatch {
            wheel: file,
            name_tags: tags.join(", "),
            metadata_tags: if metadata.is_empty() {
                "none".into()
            } else {
                metadata.join(", ")
            },
        });
    }
    Ok(WheelTags { file, tags })
}

/// Runs one build command, mapping a failure to [`BuildError::Backend`].
fn run_backend(
    child: &crate::tools::Child,
    tool: &str,
    package: &Package,
    redactor: &Redactor,
) -> Result<(), BuildError> {
    let out = child.run(redactor)?;
    if out.status.success() {
        return Ok(());
    }
    Err(BuildError::Backend {
        command: child.display(redactor),
        code: out.status.code().unwrap_or(-1),
        output: tail(&out.combined(), 20),
        tool: tool.to_owned(),
        dir: package.dir.clone(),
    })
}

/// Builds `package`, checks the files, and moves them into `dist/`.
pub fn build(
    project: &Project,
    package: &Package,
    tools: &Tools,
    platform: &Platform,
    redactor: &Redactor,
    echo: Echo,
) -> Result<BuildReport, BuildError> {
    let dist = project.dist_dir();
    std::fs::create_dir_all(&dist).io_context(cannot("create", &dist))?;
    // Next to dist/ so the final rename stays on one filesystem.
    let staging = tempfile::Builder::new()
        .prefix(".build-")
        .tempdir_in(&dist)
        .io_context(cannot("create a staging folder in", &dist))?;
    // twine's import is most of `twine check`'s time: it happens while
    // the build runs. Unless a rebuild will most likely give the bytes
    // twine already passed (reproducible builds): then it waits to see.
    let passed = super::publish::checked(tools);
    let mut early = if rebuild_of_checked(&dist, package, &passed) {
        EarlyCheck(None)
    } else {
        EarlyCheck::start(tools, redactor)
    };
    let epoch = source_date_epoch(&package.dir);
    let with_epoch = |child: crate::tools::Child| match &epoch {
        Some(e) => child.env("SOURCE_DATE_EPOCH", e),
        None => child,
    };
    if package.backend == Backend::Build {
        build_with_build(
            package,
            tools,
            project,
            staging.path(),
            &with_epoch,
            redactor,
            echo,
        )?;
    } else {
        // maturin looks for `python3 -m ziglang` (--zig) on PATH: the
        // managed environment's first.
        let path = tools.bin_dir().map(|bin| {
            let rest = std::env::var_os("PATH").unwrap_or_default();
            std::env::join_paths(std::iter::once(bin).chain(std::env::split_paths(&rest)))
                .unwrap_or(rest)
        });
        // maturin stages files in the cargo folder (`maturin/`) outside
        // cargo's own lock: two builds of one package wait for each other.
        let _lock = if package.backend == Backend::Maturin {
            let cargo_dir = cargo_target_dir(project, package);
            std::fs::create_dir_all(&cargo_dir).io_context(cannot("create", &cargo_dir))?;
            let lock_path = cargo_dir.with_extension("lock");
            let lock =
                std::fs::File::create(&lock_path).io_context(cannot("create", &lock_path))?;
            lock.lock().io_context(cannot("lock", &lock_path))?;
            Some(lock)
        } else {
            None
        };
        let commands = native_commands(project, package, tools, platform, staging.path());
        let children: Vec<crate::tools::Child> = commands
            .steps
            .into_iter()
            .map(|child| {
                let child = with_epoch(child).current_dir(&package.dir).echo(echo);
                match &path {
                    Some(p) => child.env("PATH", p),
                    None => child,
                }
            })
            .collect();
        let run = |child: &crate::tools::Child| {
            run_backend(child, package.backend.name(), package, redactor)
        };
        if commands.parallel {
            // maturin's wheels and sdist do not depend on each other: built
            // at once, the sdist costs no wall time.
            let results: Vec<Result<(), BuildError>> = std::thread::scope(|scope| {
                let running: Vec<_> = children
                    .iter()
                    .map(|child| scope.spawn(move || run(child)))
                    .collect();
                running
                    .into_iter()
                    .map(|r| r.join().expect("a build thread panicked"))
                    .collect()
            });
            for r in results {
                r?;
            }
        } else {
            for child in &children {
                run(child)?;
            }
        }
    }
    let built = package_files(staging.path(), &package.name)?;
    if built.is_empty() {
        return Err(BuildError::NoFiles {
            tool: package.backend.name().to_owned(),
            package: package.name.clone(),
            dir: staging.path().to_owned(),
        });
    }
    let mut wheels = Vec::new();
    for p in built
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
    {
        wheels.push(wheel_tags(p)?);
    }
    // Described once: the hash decides the check and goes in the report.
    let mut files = built
        .iter()
        .map(|p| describe_file(p))
        .collect::<Result<Vec<DistFile>, _>>()?;
    // Bytes twine passed before need no second look (the check reads
    // nothing but the file).
    let unchecked: Vec<PathBuf> = files
        .iter()
        .filter(|f| !passed.contains(&f.sha256))
        .map(|f| f.path.clone())
        .collect();
    if let Err(output) = early.check(tools, &unchecked, redactor, echo)? {
        return Err(BuildError::TwineCheck {
            output,
            file: package.version.file.clone(),
        });
    }
    let removed = remove_stale(&dist, package, &built)?;
    for f in &mut files {
        let dst = dist.join(&f.name);
        std::fs::rename(&f.path, &dst)
            .io_context(|| format!("cannot move {} to {}", f.path.display(), dst.display()))?;
        f.path = dst;
    }
    files.sort_by_key(|f| (f.kind == Kind::Wheel, f.name.clone()));
    // twine passed these bytes: publish need not check them again.
    super::publish::remember_checked(tools, files.iter().map(|f| f.sha256.as_str()));
    Ok(BuildReport {
        package: package.name.clone(),
        version: package.version.version.clone(),
        backend: package.backend,
        files,
        wheels,
        removed,
    })
}

/// `twine check --strict` by twine's own entry point in a Python started
/// before the build, waiting for the file names on stdin: importing twine
/// (a quarter second) overlaps the build instead of following it. An empty
/// list (the build failed) exits at once.
const EARLY_TWINE: &str = "import sys\n\
import twine.__main__, twine.commands.check\n\
files = sys.stdin.read().splitlines()\n\
if not files:\n    sys.exit(0)\n\
sys.argv = ['twine', '--no-color', 'check', '--strict', *files]\n\
sys.exit(twine.__main__.main())\n";

/// The started `twine check`, or none (twine from PATH, or it did not
/// start): then it runs the usual way. Dropped unused, it ends at once.
struct EarlyCheck(Option<crate::tools::Streaming>);

impl EarlyCheck {
    fn start(tools: &Tools, redactor: &Redactor) -> EarlyCheck {
        if tools.twine_exe.is_some() {
            return EarlyCheck(None);
        }
        let child = crate::tools::Child::new(&tools.python).args(["-c", EARLY_TWINE]);
        EarlyCheck(child.spawn_streaming(redactor, true).ok())
    }

    /// Checks `files`: `Ok(Err(output))` when twine refuses them.
    fn check(
        &mut self,
        tools: &Tools,
        files: &[PathBuf],
        redactor: &Redactor,
        echo: Echo,
    ) -> Result<Result<(), String>, BuildError> {
        use std::io::{Read as _, Write as _};
        if files.is_empty() {
            // A started check reads no names and ends when dropped.
            return Ok(Ok(()));
        }
        let Some(mut running) = self.0.take() else {
            let out = tools
                .twine()
                .args(["--no-color", "check", "--strict"])
                .args(files)
                .echo(echo)
                .run(redactor)?;
            return Ok(if out.status.success() {
                Ok(())
            } else {
                Err(tail(&out.combined(), 20))
            });
        };
        let names: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
        if let Some(mut stdin) = running.stdin.take() {
            // A write error means twine ended early: its exit says why.
            let _ = stdin.write_all(names.as_bytes());
        }
        let mut stdout = String::new();
        let _ = running.stdout.read_to_string(&mut stdout);
        let stdout = redactor.redact(&stdout);
        if echo == Echo::Stderr {
            for line in stdout.lines() {
                eprintln!("  | {line}");
            }
        }
        match running.finish() {
            Ok(()) => Ok(Ok(())),
            Err(crate::tools::ChildError::Failed { tail: stderr, .. }) => {
                Ok(Err(tail(&format!("{stdout}\n{stderr}"), 20)))
            }
            Err(e) => Err(e.into()),
        }
    }
}

impl Drop for EarlyCheck {
    fn drop(&mut self) {
        if let Some(running) = self.0.take() {
            let _ = running.finish();
        }
    }
}

/// `python -m build --sdist --wheel`, its build requirements from the
/// wheelhouse when it has them.
fn build_with_build(
    package: &Package,
    tools: &Tools,
    project: &Project,
    out: &Path,
    with_epoch: &dyn Fn(crate::tools::Child) -> crate::tools::Child,
    redactor: &Redactor,
    echo: Echo,
) -> Result<(), BuildError> {
    let requires = super::wheelhouse::build_requires(&package.dir);
    let wheelhouse = super::wheelhouse::ensure(project, tools, &requires, redactor, echo);
    let command = || {
        with_epoch(
            tools
                .build()
                .args(["--sdist", "--wheel", "--outdir"])
                .arg(out)
                .arg(&package.dir)
                .echo(echo),
        )
    };
    let child = match &wheelhouse {
        Some(dir) => super::wheelhouse::apply(command(), dir),
        None => command(),
    };
    let out = child.run(redactor)?;
    if out.status.success() {
        return Ok(());
    }
    if wheelhouse.is_some() && out.combined().contains("No matching distribution") {
        // The backend asked for more than [build-system] requires: let
        // pip reach the index for it.
        return run_backend(&command(), "python -m build", package, redactor);
    }
    Err(BuildError::Backend {
        command: child.display(redactor),
        code: out.status.code().unwrap_or(-1),
        output: tail(&out.combined(), 20),
        tool: "python -m build".into(),
        dir: package.dir.clone(),
    })
}

/// Whether `dist/` holds this version of `package` already, every file of
/// it passed by twine: a rebuild (byte for byte the same, by
/// SOURCE_DATE_EPOCH) will most likely need no check.
fn rebuild_of_checked(dist: &Path, package: &Package, passed: &[String]) -> bool {
    let version = normalize_version(&package.version.version);
    let files: Vec<PathBuf> = package_files(dist, &package.name)
        .unwrap_or_default()
        .into_iter()
        .filter(|p| {
            p.file_name()
                .and_then(|n| parse_filename(&n.to_string_lossy()))
                .is_some_and(|(_, v, _)| normalize_version(&v) == version)
        })
        .collect();
    !files.is_empty()
        && files
            .iter()
            .all(|p| sha256_of(p).is_some_and(|h| passed.contains(&h)))
}

/// A distribution file's sha256, `None` when it cannot be read.
fn sha256_of(path: &Path) -> Option<String> {
    describe_file(path).ok().map(|f| f.sha256)
}

/// The platform family of a wheel's platform tag: OS (with its C library)
/// and arch, the version of manylinux / musllinux / macOS dropped, so that
/// `manylinux_2_17_x86_64`, `manylinux2014_x86_64` and `linux_x86_64` are
/// one family, and `musllinux_1_2_x86_64` another.
fn platform_family(tag: &str) -> String {
    for (prefix, family) in [
        ("manylinux", "linux"),
        ("musllinux", "musllinux"),
        ("macosx", "macosx"),
    ] {
        if let Some(rest) = tag.strip_prefix(prefix) {
            let arch: Vec<&str> = rest
                .split('_')
                .skip_while(|p| p.is_empty() || p.bytes().all(|b| b.is_ascii_digit()))
                .collect();
            return format!("{family}_{}", arch.join("_"));
        }
    }
    tag.to_owned()
}

/// The platform families of the wheel named `name` (none when it is not a wheel).
fn wheel_families(name: &str) -> Vec<String> {
    WheelName::parse(name)
        .map(|w| w.platform.iter().map(|p| platform_family(p)).collect())
        .unwrap_or_default()
}

/// Removes from `dist` the files of `package` that the new build replaces:
/// every other version; for a pure-Python package also the same version's
/// other files; for a native one the same version's sdist and its wheels
/// for a platform family just built (an older `--manylinux off`, pre-abi3
/// or cross build). Wheels of the same version for other platforms stay (a
/// native release collects one per platform). Returns their names.
fn remove_stale(
    dist: &Path,
    package: &Package,
    built: &[PathBuf],
) -> Result<Vec<String>, BuildError> {
    let built_names: Vec<_> = built.iter().filter_map(|p| p.file_name()).collect();
    let built_families: Vec<String> = built_names
        .iter()
        .flat_map(|n| wheel_families(&n.to_string_lossy()))
        .collect();
    let built_sdist = built_names
        .iter()
        .any(|n| n.to_string_lossy().ends_with(".tar.gz"));
    let version = normalize_version(&package.version.version);
    let mut removed = Vec::new();
    for old in package_files(dist, &package.name)? {
        let name = old.file_name().unwrap_or_default();
        if built_names.contains(&name) {
            continue;
        }
        let text = name.to_string_lossy();
        let same_version =
            parse_filename(&text).is_some_and(|(_, v, _)| normalize_version(&v) == version);
        let replaced = if text.ends_with(".whl") {
            wheel_families(&text)
                .iter()
                .any(|f| built_families.contains(f))
        } else {
            built_sdist
        };
        if same_version && package.backend.is_native() && !replaced {
            continue;
        }
        std::fs::remove_file(&old).io_context(cannot("remove the stale", &old))?;
        removed.push(name.to_string_lossy().into_owned());
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_must_match() {
        let v = VersionAt {
            version: "0.1.0".into(),
            file: "pyproject.toml".into(),
            line: 7,
        };
        assert!(check_tag("v0.1.0", &v).is_ok());
        assert!(check_tag("0.1.0", &v).is_ok());
        let e = check_tag("v0.2.0", &v).unwrap_err().message;
        assert!(
            e.contains("pyproject.toml:7") && e.contains("tag v0.1.0"),
            "{e}"
        );
    }

    #[test]
    fn packages_and_select() {
        let tmp = tempfile::tempdir().unwrap();
        for (dir, name, backend) in [
            ("a", "Mult_Agentes", "setuptools.build_meta"),
            ("b", "native", "maturin"),
        ] {
            std::fs::create_dir(tmp.path().join(dir)).unwrap();
            std::fs::write(
                tmp.path().join(dir).join("pyproject.toml"),
                format!("[build-system]\nbuild-backend = \"{backend}\"\n[project]\nname = \"{name}\"\nversion = \"1.0\"\n"),
            )
            .unwrap();
        }
        std::fs::write(
            tmp.path().join(crate::config::FILE_NAME),
            "[python]\npath = \"a\"\n[[python.packages]]\npath = \"b\"\n[[python.packages]]\npath = \"missing\"\n",
        )
        .unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let mut pre = Preflight::new();
        let all = packages(&project, &mut pre);
        assert_eq!(all.len(), 2);
        assert_eq!(all[1].backend, Backend::Maturin);
        assert!(pre.finish().unwrap_err().to_string().contains("missing"));
        let one = select(all.clone(), Some("mult-agentes")).unwrap();
        assert_eq!(one[0].dir, tmp.path().join("a"));
        assert_eq!(select(all.clone(), None).unwrap().len(), 2);
        let e = select(all, Some("nope")).unwrap_err().message;
        assert!(e.contains("Mult_Agentes, native"), "{e}");
        // The same package twice (a name that normalizes alike, or one
        // folder named twice) would build and upload twice.
        std::fs::create_dir(tmp.path().join("c")).unwrap();
        std::fs::write(
            tmp.path().join("c/pyproject.toml"),
            "[project]\nname = \"mult-agentes\"\nversion = \"1.0\"\n",
        )
        .unwrap();
        std::fs::write(
            tmp.path().join(crate::config::FILE_NAME),
            "[python]\npath = \"a\"\n[[python.packages]]\npath = \"b\"\n\
             [[python.packages]]\npath = \"c\"\n[[python.packages]]\npath = \"b\"\n",
        )
        .unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let mut pre = Preflight::new();
        let all = packages(&project, &mut pre);
        assert_eq!(all.len(), 2);
        let e = pre.finish().unwrap_err().to_string();
        assert!(
            e.contains("mult-agentes is configured twice")
                && e.contains("native is configured twice")
                && e.contains(crate::config::FILE_NAME),
            "{e}"
        );
    }

    #[test]
    fn rust_targets() {
        let known = "x86_64-unknown-linux-gnu\naarch64-unknown-linux-gnu\n";
        let installed = "x86_64-unknown-linux-gnu\n";
        let host = Some("x86_64-unknown-linux-gnu");
        assert_eq!(
            target_problem(
                "x86_64-unknown-linux-gnu",
                Some(installed),
                host,
                Some(known)
            ),
            None
        );
        let e = target_problem(
            "aarch64-unknown-linux-gnu",
            Some(installed),
            host,
            Some(known),
        )
        .unwrap();
        assert!(
            e.contains("rustup target add aarch64-unknown-linux-gnu"),
            "{e}"
        );
        let e = target_problem("nonsense", Some(installed), host, Some(known)).unwrap();
        assert!(e.contains("not a target rustc knows"), "{e}");
        // Without rustup only the host's target is there.
        assert_eq!(
            target_problem("x86_64-unknown-linux-gnu", None, host, Some(known)),
            None
        );
        let e = target_problem("aarch64-unknown-linux-gnu", None, host, Some(known)).unwrap();
        assert!(e.contains("rustup was not found"), "{e}");
    }

    #[test]
    fn rust_is_asked_in_the_package_folder_without_installing() {
        // cargo run through rustup sets RUSTUP_TOOLCHAIN, which outranks a
        // rust-toolchain.toml: the test runs again in a child without it
        // (and without a RUSTUP_AUTO_INSTALL of this machine's).
        const INNER: &str = "RELEASE_KIT_TEST_RUST_DIR";
        if std::env::var_os(INNER).is_none() {
            let name = "pypi::build::tests::rust_is_asked_in_the_package_folder_without_installing";
            let out = std::process::Command::new(std::env::current_exe().unwrap())
                .args(["--exact", name, "--test-threads=1"])
                .env(INNER, "1")
                .env_remove("RUSTUP_TOOLCHAIN")
                .env_remove("RUSTUP_AUTO_INSTALL")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success() && stdout.contains("1 passed"),
                "{stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            return;
        }
        let tmp = tempfile::tempdir().unwrap();
        assert!(
            host_triple(tmp.path()).is_some(),
            "rustc runs (this test needs it)"
        );
        let sh = rust_shell(tmp.path()).unwrap();
        assert_eq!(sh.current_dir(), tmp.path());
        assert_eq!(sh.var("RUSTUP_AUTO_INSTALL").unwrap(), "0");
        if crate::tools::find_on_path("rustup").is_none() {
            return; // A rustc without rustup reads no rust-toolchain.toml.
        }
        // A toolchain nobody has: rustup must neither use another one nor
        // download it.
        std::fs::write(
            tmp.path().join("rust-toolchain.toml"),
            "[toolchain]\nchannel = \"1.0.0\"\n",
        )
        .unwrap();
        assert_eq!(host_triple(tmp.path()), None);
        let problems = rust_problems(tmp.path(), None);
        assert!(
            problems.len() == 1 && problems[0].contains("rustup toolchain install"),
            "{problems:?}"
        );
    }

    #[test]
    fn manylinux_tags() {
        assert_eq!(manylinux_tag("2014").as_deref(), Some("manylinux2014"));
        assert_eq!(manylinux_tag("2_28").as_deref(), Some("manylinux_2_28"));
        assert_eq!(
            manylinux_tag("manylinux_2_17").as_deref(),
            Some("manylinux_2_17")
        );
        assert_eq!(
            manylinux_tag("musllinux_1_2").as_deref(),
            Some("musllinux_1_2")
        );
        for bad in ["", "x", "2_", "manylinux_a", "linux"] {
            assert_eq!(manylinux_tag(bad), None, "{bad}");
        }
    }

    #[test]
    fn cibuildwheel_platforms_and_containers() {
        assert_eq!(
            cibuildwheel_platform("aarch64-apple-darwin").unwrap(),
            ("macos", "arm64".to_owned())
        );
        assert_eq!(
            cibuildwheel_platform("x86_64-pc-windows-msvc").unwrap(),
            ("windows", "AMD64".to_owned())
        );
        assert_eq!(
            cibuildwheel_platform("aarch64-unknown-linux-musl").unwrap(),
            ("linux", "aarch64".to_owned())
        );
        assert_eq!(
            cibuildwheel_platform("armv7-unknown-linux-gnueabihf").unwrap(),
            ("linux", "armv7l".to_owned())
        );
        assert!(cibuildwheel_platform("wasm32-unknown-unknown").is_err());
        let only = |names: &'static [&'static str]| {
            move |n: &str| {
                names
                    .contains(&n)
                    .then(|| PathBuf::from(format!("/bin/{n}")))
            }
        };
        let up = |_: &Path| true;
        let down = |_: &Path| false;
        let e = container_problem(None, &only(&[]), &up).unwrap();
        assert!(
            e.contains("docker was not found") && e.contains("podman"),
            "{e}"
        );
        let e = container_problem(None, &only(&["podman"]), &up).unwrap();
        assert!(e.contains("CIBW_CONTAINER_ENGINE=podman"), "{e}");
        assert_eq!(container_problem(None, &only(&["docker"]), &up), None);
        assert_eq!(
            container_problem(Some("podman; create_args: --x"), &only(&["podman"]), &up),
            None
        );
        let e = container_problem(None, &only(&["docker"]), &down).unwrap();
        assert!(e.contains("`docker info` fails"), "{e}");
    }

    #[test]
    fn cibuildwheel_images_environment_and_host_os() {
        let image = |m: &str, arch: &str| cibuildwheel_image(m, arch);
        assert_eq!(
            image("musllinux_1_2", "x86_64").unwrap(),
            (
                "CIBW_MUSLLINUX_X86_64_IMAGE".to_owned(),
                "musllinux_1_2".to_owned()
            )
        );
        assert_eq!(
            image("2_28", "aarch64").unwrap(),
            (
                "CIBW_MANYLINUX_AARCH64_IMAGE".to_owned(),
                "manylinux_2_28".to_owned()
            )
        );
        assert_eq!(image("2014", "x86_64").unwrap().1, "manylinux2014");
        for (bad, arch) in [
            ("2_17", "x86_64"),
            ("musllinux_1_1", "x86_64"),
            ("2014", "armv7l"),
            ("nonsense", "x86_64"),
        ] {
            let e = image(bad, arch).unwrap_err();
            assert!(e.contains("not an image cibuildwheel has"), "{bad}: {e}");
        }
        assert!(
            image("x", "x86_64")
                .unwrap_err()
                .contains("manylinux2014, manylinux_2_28, manylinux_2_34, musllinux_1_2")
        );
        assert_eq!(
            cibuildwheel_skip("x86_64-unknown-linux-gnu", None).as_deref(),
            Some("*-musllinux_*")
        );
        assert_eq!(
            cibuildwheel_skip("aarch64-unknown-linux-musl", Some("pp*")).as_deref(),
            Some("pp* *-manylinux_*")
        );
        assert_eq!(cibuildwheel_skip("aarch64-apple-darwin", None), None);
        assert_eq!(pass_linux(None), "SOURCE_DATE_EPOCH");
        assert_eq!(pass_linux(Some("")), "SOURCE_DATE_EPOCH");
        assert_eq!(pass_linux(Some("FOO BAR")), "FOO BAR SOURCE_DATE_EPOCH");
        assert_eq!(
            pass_linux(Some("SOURCE_DATE_EPOCH FOO")),
            "SOURCE_DATE_EPOCH FOO"
        );
        let e = cibuildwheel_os_problem("aarch64-apple-darwin", "macos", "linux").unwrap();
        assert!(e.contains("only for the host OS"), "{e}");
        assert!(cibuildwheel_os_problem("x86_64-pc-windows-msvc", "windows", "macos").is_some());
        assert_eq!(
            cibuildwheel_os_problem("aarch64-apple-darwin", "macos", "macos"),
            None
        );
        // Linux wheels build in containers, from any host.
        assert_eq!(
            cibuildwheel_os_problem("x86_64-unknown-linux-gnu", "linux", "macos"),
            None
        );
    }

    #[test]
    fn cibuildwheel_preflight_refuses_unknown_images_and_other_oses() {
        let (_tmp, project, pkg) = native_package(Backend::Cibuildwheel);
        let problems = |platform: Platform| {
            let mut pre = Preflight::new();
            native_preflight(&project, pkg.backend, &[], &platform, &mut pre);
            pre.finish()
                .map_or_else(|e| e.to_string(), |()| String::new())
        };
        let arch = std::env::consts::ARCH;
        let host = match std::env::consts::OS {
            "macos" => format!("{arch}-apple-darwin"),
            "windows" => format!("{arch}-pc-windows-msvc"),
            _ => format!("{arch}-unknown-linux-gnu"),
        };
        let e = problems(Platform {
            target: Some("x86_64-unknown-linux-gnu".into()),
            manylinux: Some("2_99".into()),
            zig: false,
        });
        assert!(e.contains("--manylinux 2_99: not an image"), "{e}");
        let e = problems(Platform {
            target: Some("x86_64-unknown-linux-gnu".into()),
            manylinux: Some("musllinux_1_2".into()),
            zig: false,
        });
        assert!(!e.contains("--manylinux"), "{e}");
        let other = if std::env::consts::OS == "windows" {
            "aarch64-apple-darwin"
        } else {
            "x86_64-pc-windows-msvc"
        };
        let e = problems(Platform {
            target: Some(other.into()),
            ..Platform::default()
        });
        assert!(e.contains("only for the host OS"), "{e}");
        let e = problems(Platform {
            target: Some(host),
            ..Platform::default()
        });
        assert!(!e.contains("only for the host OS"), "{e}");
    }

    fn native_package(backend: Backend) -> (tempfile::TempDir, Project, Package) {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(tmp.path().join(crate::config::FILE_NAME), "").unwrap();
        let project = Project::load(tmp.path()).unwrap();
        let package = Package {
            dir: tmp.path().join("py"),
            ..test_package("Native_Pkg", backend)
        };
        (tmp, project, package)
    }

    #[test]
    fn maturin_and_cibuildwheel_commands() {
        let tools = Tools {
            python: "/venv/bin/python".into(),
            twine_exe: None,
            source: super::super::venv::Source::Managed("/venv".into()),
        };
        let out = Path::new("/out");
        let (_t, project, pkg) = native_package(Backend::Maturin);
        let platform = Platform {
            target: Some("aarch64-unknown-linux-gnu".into()),
            manylinux: Some("2_28".into()),
            zig: true,
        };
        let maturin = native_commands(&project, &pkg, &tools, &platform, out);
        assert!(maturin.parallel, "maturin's sdist only reads the tree");
        let argv: Vec<Vec<String>> = maturin.steps.iter().map(|c| c.argv()).collect();
        let target_dir = cargo_target_dir(&project, &pkg);
        assert!(
            target_dir.ends_with("native-pkg"),
            "{}",
            target_dir.display()
        );
        assert!(
            !target_dir.starts_with(&project.root),
            "never in the project"
        );
        let target_dir = target_dir.display().to_string();
        assert_eq!(
            argv,
            [
                vec![
                    "/venv/bin/maturin",
                    "build",
                    "--release",
                    "--out",
                    "/out",
                    "--target-dir",
                    &target_dir,
                    "--target",
                    "aarch64-unknown-linux-gnu",
                    "--manylinux",
                    "manylinux_2_28",
                    "--zig",
                ],
                vec!["/venv/bin/maturin", "sdist", "--out", "/out"],
            ]
        );
        let host = native_commands(&project, &pkg, &tools, &Platform::default(), out).steps;
        assert_eq!(host[0].argv().len(), 7, "{:?}", host[0].argv());
        let (_t, project, pkg) = native_package(Backend::Cibuildwheel);
        let platform = Platform {
            target: Some("x86_64-pc-windows-msvc".into()),
            ..Platform::default()
        };
        let cibw = native_commands(&project, &pkg, &tools, &platform, out);
        // setuptools writes egg-info/ and build/ into the tree that
        // cibuildwheel copies: the sdist first, then the wheels.
        assert!(!cibw.parallel);
        let argv: Vec<Vec<String>> = cibw.steps.iter().map(|c| c.argv()).collect();
        let dir = pkg.dir.display().to_string();
        assert_eq!(
            argv,
            [
                vec![
                    "/venv/bin/python",
                    "-m",
                    "build",
                    "--sdist",
                    "--outdir",
                    "/out",
                    &dir
                ],
                vec![
                    "/venv/bin/python",
                    "-m",
                    "cibuildwheel",
                    "--platform",
                    "windows",
                    "--archs",
                    "AMD64",
                    "--output-dir",
                    "/out",
                    &dir,
                ],
            ]
        );
        let (_t, project, pkg) = native_package(Backend::Build);
        assert!(
            native_commands(&project, &pkg, &tools, &Platform::default(), out)
                .steps
                .is_empty()
        );
    }

    /// A wheel written by Python's zipfile whose WHEEL says `tags`.
    fn wheel_with_tags(dir: &Path, name: &str, tags: &[&str]) -> PathBuf {
        let path = dir.join(name);
        let body: String = tags.iter().map(|t| format!("Tag: {t}\\n")).collect();
        crate::zip::write_by_python(
            &path,
            &[
                "z.writestr('x/__init__.py', '', compress_type=zipfile.ZIP_DEFLATED)",
                &format!(
                    "z.writestr('x-1.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\n{body}', compress_type=zipfile.ZIP_DEFLATED)"
                ),
            ],
        );
        path
    }

    #[test]
    fn wheel_tags_from_name_and_metadata() {
        let tmp = tempfile::tempdir().unwrap();
        let ok = wheel_with_tags(
            tmp.path(),
            "x-1.0-cp39-abi3-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            &[
                "cp39-abi3-manylinux_2_17_x86_64",
                "cp39-abi3-manylinux2014_x86_64",
            ],
        );
        assert_eq!(
            wheel_tags(&ok).unwrap().tags,
            [
                "cp39-abi3-manylinux2014_x86_64",
                "cp39-abi3-manylinux_2_17_x86_64"
            ]
        );
        let renamed = wheel_with_tags(
            tmp.path(),
            "x-1.0-cp39-abi3-manylinux_2_17_x86_64.whl",
            &["cp39-abi3-linux_x86_64"],
        );
        let e = wheel_tags(&renamed).unwrap_err().to_string();
        assert!(
            e.contains("file name says cp39-abi3-manylinux_2_17_x86_64")
                && e.contains("WHEEL says cp39-abi3-linux_x86_64"),
            "{e}"
        );
        std::fs::write(tmp.path().join("y-1.0-py3-none-any.whl"), "junk").unwrap();
        let e = wheel_tags(&tmp.path().join("y-1.0-py3-none-any.whl"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot read its .dist-info/WHEEL"), "{e}");
    }

    #[test]
    fn stale_files_go_other_platforms_of_a_native_release_stay() {
        let (tmp, _project, pkg) = native_package(Backend::Maturin);
        let dist = tmp.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        for f in [
            "native_pkg-0.9-cp39-abi3-win_amd64.whl",
            "native_pkg-1.0-cp39-abi3-win_amd64.whl",
            "native_pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.whl",
            "native_pkg-1.0.tar.gz",
            "other-0.9.tar.gz",
        ] {
            std::fs::write(dist.join(f), "x").unwrap();
        }
        let built = [
            PathBuf::from("/s/native_pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.whl"),
            PathBuf::from("/s/native_pkg-1.0.tar.gz"),
        ];
        assert_eq!(
            remove_stale(&dist, &pkg, &built).unwrap(),
            ["native_pkg-0.9-cp39-abi3-win_amd64.whl"]
        );
        // Older builds of this version for the platform just built go
        // (they would be published next to the new wheel); other
        // platforms' wheels stay.
        let older = [
            "native_pkg-1.0-cp39-abi3-linux_x86_64.whl",
            "native_pkg-1.0-cp312-cp312-manylinux_2_28_x86_64.whl",
            "native_pkg-1.0-cp39-abi3-manylinux2014_x86_64.whl",
        ];
        let others = [
            "native_pkg-1.0-cp39-abi3-manylinux_2_17_aarch64.whl",
            "native_pkg-1.0-cp39-abi3-musllinux_1_2_x86_64.whl",
            "native_pkg-1.0-cp39-abi3-macosx_11_0_arm64.whl",
        ];
        for f in older.iter().chain(&others) {
            std::fs::write(dist.join(f), "x").unwrap();
        }
        let mut removed = remove_stale(&dist, &pkg, &built).unwrap();
        removed.sort();
        let mut expected = older.to_vec();
        expected.sort();
        assert_eq!(removed, expected);
        for f in others {
            assert!(dist.join(f).exists(), "{f}");
        }
        for f in others {
            std::fs::remove_file(dist.join(f)).unwrap();
        }
        let pure = Package {
            backend: Backend::Build,
            ..pkg
        };
        assert_eq!(
            remove_stale(&dist, &pure, &built).unwrap(),
            ["native_pkg-1.0-cp39-abi3-win_amd64.whl"]
        );
        assert!(dist.join("other-0.9.tar.gz").exists());
    }

    #[test]
    fn platform_families() {
        for (tag, family) in [
            ("manylinux_2_17_x86_64", "linux_x86_64"),
            ("manylinux2014_x86_64", "linux_x86_64"),
            ("manylinux1_i686", "linux_i686"),
            ("linux_x86_64", "linux_x86_64"),
            ("musllinux_1_2_aarch64", "musllinux_aarch64"),
            ("macosx_10_12_x86_64", "macosx_x86_64"),
            ("macosx_11_0_universal2", "macosx_universal2"),
            ("win_amd64", "win_amd64"),
        ] {
            assert_eq!(platform_family(tag), family, "{tag}");
        }
    }

    #[test]
    fn a_rebuild_of_checked_bytes_waits_before_starting_twine() {
        let (tmp, _project, pkg) = native_package(Backend::Maturin);
        let dist = tmp.path().join("dist");
        std::fs::create_dir_all(&dist).unwrap();
        assert!(!rebuild_of_checked(&dist, &pkg, &[]), "nothing built yet");
        let files = [
            "native_pkg-1.0-cp39-abi3-manylinux_2_17_x86_64.whl",
            "native_pkg-1.0.tar.gz",
        ];
        for f in files {
            std::fs::write(dist.join(f), f).unwrap();
        }
        std::fs::write(dist.join("native_pkg-0.9.tar.gz"), "old").unwrap();
        let hashes: Vec<String> = files
            .iter()
            .map(|f| sha256_of(&dist.join(f)).unwrap())
            .collect();
        assert!(rebuild_of_checked(&dist, &pkg, &hashes));
        assert!(
            !rebuild_of_checked(&dist, &pkg, &hashes[..1]),
            "one file not checked"
        );
    }
}
