//! Native builds (maturin, cibuildwheel): what a platform needs before
//! anything runs (Rust toolchain and target, zig, container engine,
//! manylinux images), and the command lines that build for it.

use std::path::{Path, PathBuf};

use serde::Serialize;

mod rust;

use rust::zig_found;
pub use rust::{ZIGLANG_PIN, host_triple, rust_problems};

use crate::config::Project;
use crate::preflight::{Preflight, Problem};
use crate::pypi::backend::Backend;
use crate::pypi::package::{Package, normalize};
use crate::pypi::venv::Tools;

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

/// What a native backend needs: its tool (path mode), and cargo, rustc,
/// the Rust target (in each of the packages' `dirs`) and zig for maturin; a
/// container engine for cibuildwheel on Linux.
pub fn preflight(
    project: &Project,
    backend: Backend,
    dirs: &[&Path],
    platform: &Platform,
    pre: &mut Preflight,
) {
    let Some(tool) = backend.tool() else { return };
    if let Some(e) = crate::pypi::venv::check_native(project, tool) {
        pre.problem(e.to_string());
    }
    match backend {
        Backend::Maturin => maturin_preflight(project, dirs, platform, pre),
        Backend::Cibuildwheel => cibuildwheel_preflight(platform, pre),
        Backend::Build => {}
    }
}

/// maturin's needs: cargo and rustc, the Rust target in each of `dirs`,
/// zig for `--zig`, a known `--manylinux` tag.
fn maturin_preflight(project: &Project, dirs: &[&Path], platform: &Platform, pre: &mut Preflight) {
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
            crate::pypi::venv::tools_python(project)
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

/// cibuildwheel's needs: a platform it builds on this host, a known
/// image, a container engine that answers for Linux builds.
fn cibuildwheel_preflight(platform: &Platform, pre: &mut Preflight) {
    if platform.zig {
        pre.problem(
            "--zig is maturin's: cibuildwheel builds in manylinux containers instead; drop --zig",
        );
    }
    if platform.manylinux.as_deref() == Some("off") {
        pre.problem("--manylinux off: cibuildwheel always repairs wheels to a manylinux tag; drop it, or name an image (2014, 2_28)");
    }
    let spec = match &platform.target {
        Some(t) => pre.check(cibuildwheel_platform(t)),
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
fn cibuildwheel_platform(triple: &str) -> Result<(&'static str, String), Problem> {
    let arch = triple.split('-').next().unwrap_or("");
    let os = if triple.contains("-linux-") {
        "linux"
    } else if triple.contains("-apple-darwin") {
        "macos"
    } else if triple.contains("-windows-") {
        "windows"
    } else {
        return Err(Problem::new(format!(
            "--target {triple}: cibuildwheel builds for linux, macos and windows; use a triple such as x86_64-unknown-linux-gnu"
        )));
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
fn cibuildwheel_image(m: &str, arch: &str) -> Result<(String, String), Problem> {
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
        _ => Err(Problem::new(format!(
            "--manylinux {m}: not an image cibuildwheel has for {arch}; use one of {}",
            known.join(", ")
        ))),
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

/// Where maturin's cargo builds a package: in the per-user cache (never in
/// the project), one per package name, reused from build to build and by
/// every checkout (cargo keeps sources of other paths apart).
pub fn cargo_target_dir(_project: &Project, package: &Package) -> PathBuf {
    crate::cache_dir::root()
        .join("cargo")
        .join(normalize(&package.name))
}

/// The commands that build `package` into `out` with a native backend.
/// `python -m build` is run by [`build`] itself (it has a wheelhouse to
/// fall back from).
pub struct NativeCommands {
    /// In the order they run when not `parallel`.
    pub steps: Vec<crate::tools::Child>,
    /// Whether they may run at once: maturin's sdist only reads the source
    /// folder; setuptools' sdist writes `*.egg-info/` and `build/` into it
    /// while cibuildwheel copies it, so there the sdist comes first.
    pub parallel: bool,
}

/// The command lines that build `package` into `out` with its native
/// backend (none for `python -m build`, which [`build`](super::build)
/// runs itself).
pub fn native_commands(
    project: &Project,
    package: &Package,
    tools: &Tools,
    platform: &Platform,
    out: &Path,
) -> NativeCommands {
    let steps = match package.backend {
        Backend::Build => Vec::new(),
        Backend::Maturin => maturin_commands(project, package, tools, platform, out),
        Backend::Cibuildwheel => cibuildwheel_commands(package, tools, platform, out),
    };
    NativeCommands {
        steps,
        parallel: package.backend == Backend::Maturin,
    }
}

/// `maturin build` (the wheel) and `maturin sdist`, both with their cargo
/// folder in the per-user cache.
fn maturin_commands(
    project: &Project,
    package: &Package,
    tools: &Tools,
    platform: &Platform,
    out: &Path,
) -> Vec<crate::tools::Child> {
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
    // Its cargo runs make a target/ in the package unless told.
    let sdist = tools
        .maturin()
        .args(["sdist", "--out"])
        .arg(out)
        .env("CARGO_TARGET_DIR", cargo_target_dir(project, package));
    vec![wheel, sdist]
}

/// `python -m build --sdist` first (setuptools writes into the tree that
/// cibuildwheel copies), then `cibuildwheel` for the platform.
fn cibuildwheel_commands(
    package: &Package,
    tools: &Tools,
    platform: &Platform,
    out: &Path,
) -> Vec<crate::tools::Child> {
    let (os, archs) = match &platform.target {
        Some(t) => cibuildwheel_platform(t).unwrap_or_else(|_| host_cibuildwheel_platform()),
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
        .args(["--sdist", "-o"])
        .arg(out)
        .arg(&package.dir);
    vec![sdist, wheels]
}

/// A package in a project of its own, built by `backend` (tests).
#[cfg(test)]
pub(crate) fn native_package(backend: Backend) -> (tempfile::TempDir, Project, Package) {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join(crate::config::FILE_NAME), "").unwrap();
    let project = Project::load(tmp.path()).unwrap();
    let package = Package {
        dir: tmp.path().join("py"),
        ..crate::pypi::package::test_package("Native_Pkg", backend)
    };
    (tmp, project, package)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            let e = image(bad, arch).unwrap_err().message;
            assert!(e.contains("not an image cibuildwheel has"), "{bad}: {e}");
        }
        assert!(
            image("x", "x86_64")
                .unwrap_err()
                .message
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
            preflight(&project, pkg.backend, &[], &platform, &mut pre);
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

    #[test]
    fn maturin_and_cibuildwheel_commands() {
        let tools = Tools {
            python: "/venv/bin/python".into(),
            twine_exe: None,
            source: crate::pypi::venv::Source::Managed("/venv".into()),
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
        // `Scripts\maturin.exe` on Windows.
        let maturin_exe = crate::platform::Os::HOST
            .venv_program(Path::new("/venv"), "maturin")
            .display()
            .to_string();
        assert_eq!(
            argv,
            [
                vec![
                    &maturin_exe,
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
                vec![&maturin_exe, "sdist", "--out", "/out"],
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
        // `uv build` or `python -m build` (when uv is not provisioned).
        let mut sdist = tools.build().argv();
        sdist.extend(["--sdist", "-o", "/out", &dir].map(String::from));
        assert_eq!(
            argv,
            [
                sdist.iter().map(String::as_str).collect::<Vec<_>>(),
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
}
