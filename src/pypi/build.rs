//! `cargo xtask build`: sdist and wheel by `python -m build`, checked by
//! `twine check --strict`, into `dist/` with stale versions cleaned out.
//!
//! The build goes to a fresh folder first and reaches `dist/` only after
//! twine passed it, so a failed build never leaves half a release behind.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::backend::Backend;
use super::native::{self, Platform};
use super::package::{
    self, DistFile, FileError, Kind, Package, WheelName, describe_file, normalize_version,
    package_files, parse_filename,
};
use super::twine_check::{self, EarlyCheck, Verdict};
use super::venv::Tools;
use crate::config::Project;
use crate::error::{IoContext as _, IoError, cannot};
use crate::preflight::Preflight;
use crate::secret::Redactor;
use crate::tools::{Child, ChildError, Echo, tail};

/// Why a build, or reading `dist/`, failed.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// A file or folder could not be read or written.
    #[error(transparent)]
    Io(#[from] IoError),
    /// A built file that could not be described.
    #[error(transparent)]
    File(#[from] FileError),
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
    /// A built file's metadata names another version than the source.
    #[error(transparent)]
    Version(#[from] package::metadata::MetadataError),
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
    let chosen = package::selected(project, name, pre);
    if let Some(tag) = tag {
        for pkg in &chosen {
            pre.check(package::check_tag(tag, &pkg.version));
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
            native::preflight(project, backend, &dirs, platform, pre);
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
    let passed = twine_check::passed(tools);
    let mut early = if rebuild_of_checked(&dist, package, &passed) {
        EarlyCheck::none()
    } else {
        EarlyCheck::start(tools, redactor)
    };
    let epoch = source_date_epoch(&package.dir);
    let with_epoch = |child: Child| match &epoch {
        Some(e) => child.env("SOURCE_DATE_EPOCH", e),
        None => child,
    };
    let out = staging.path();
    if package.backend == Backend::Build {
        build_with_build(package, tools, project, out, &with_epoch, redactor, echo)?;
    } else {
        let run = Run {
            with_epoch: &with_epoch,
            redactor,
            echo,
        };
        build_native(project, package, tools, platform, out, &run)?;
    }
    let Built {
        paths,
        mut files,
        wheels,
    } = check_built(out, package, tools, &mut early, redactor, echo)?;
    let removed = remove_stale(&dist, package, &paths)?;
    for f in &mut files {
        let dst = dist.join(&f.name);
        std::fs::rename(&f.path, &dst)
            .io_context(|| format!("cannot move {} to {}", f.path.display(), dst.display()))?;
        f.path = dst;
    }
    files.sort_by_key(|f| (f.kind == Kind::Wheel, f.name.clone()));
    Ok(BuildReport {
        package: package.name.clone(),
        version: package.version.version.clone(),
        backend: package.backend,
        files,
        wheels,
        removed,
    })
}

/// How the build's commands run: with the build's timestamp, redacted,
/// echoed or not.
struct Run<'a> {
    with_epoch: &'a dyn Fn(Child) -> Child,
    redactor: &'a Redactor,
    echo: Echo,
}

/// Builds a native `package` into `out` by its backend's commands
/// ([`native::native_commands`]), at once where they allow it.
fn build_native(
    project: &Project,
    package: &Package,
    tools: &Tools,
    platform: &Platform,
    out: &Path,
    run: &Run,
) -> Result<(), BuildError> {
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
        let cargo_dir = native::cargo_target_dir(project, package);
        std::fs::create_dir_all(&cargo_dir).io_context(cannot("create", &cargo_dir))?;
        let lock_path = cargo_dir.with_extension("lock");
        let lock = std::fs::File::create(&lock_path).io_context(cannot("create", &lock_path))?;
        lock.lock().io_context(cannot("lock", &lock_path))?;
        Some(lock)
    } else {
        None
    };
    let commands = native::native_commands(project, package, tools, platform, out);
    let children: Vec<Child> = commands
        .steps
        .into_iter()
        .map(|child| {
            let child = (run.with_epoch)(child)
                .current_dir(&package.dir)
                .echo(run.echo);
            match &path {
                Some(p) => child.env("PATH", p),
                None => child,
            }
        })
        .collect();
    let run_one = |child: &Child| run_backend(child, package.backend.name(), package, run.redactor);
    if commands.parallel {
        // maturin's wheels and sdist do not depend on each other: built
        // at once, the sdist costs no wall time.
        let results: Vec<Result<(), BuildError>> = std::thread::scope(|scope| {
            let running: Vec<_> = children
                .iter()
                .map(|child| scope.spawn(move || run_one(child)))
                .collect();
            running
                .into_iter()
                .map(|r| r.join().expect("a build thread panicked"))
                .collect()
        });
        results.into_iter().collect()
    } else {
        children.iter().try_for_each(run_one)
    }
}

/// The checked files of one build.
struct Built {
    /// Where they are.
    paths: Vec<PathBuf>,
    /// Each described.
    files: Vec<DistFile>,
    /// The wheels' tags.
    wheels: Vec<WheelTags>,
}

/// The files built into `out`: there (some), wheels whose name and
/// metadata agree, passed by twine.
fn check_built(
    out: &Path,
    package: &Package,
    tools: &Tools,
    early: &mut EarlyCheck,
    redactor: &Redactor,
    echo: Echo,
) -> Result<Built, BuildError> {
    let built = package_files(out, &package.name)?;
    if built.is_empty() {
        return Err(BuildError::NoFiles {
            tool: package.backend.name().to_owned(),
            package: package.name.clone(),
            dir: out.to_owned(),
        });
    }
    let wheels = built
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "whl"))
        .map(|p| wheel_tags(p))
        .collect::<Result<Vec<_>, _>>()?;
    // The metadata is the truth: a version read otherwise than the
    // backend computed it stops here, before dist/.
    for p in &built {
        package::metadata::check_version(p, &package.version)?;
    }
    // Described once: the hash decides the check and goes in the report.
    let files = built
        .iter()
        .map(|p| describe_file(p))
        .collect::<Result<Vec<DistFile>, _>>()?;
    // Bytes twine passed before need no second look; those it passes now
    // publish need not check again.
    let to_check: Vec<&DistFile> = files.iter().collect();
    if let Verdict::Refused(output) = early.check(tools, &to_check, redactor, echo)? {
        return Err(BuildError::TwineCheck {
            output,
            file: package.version.file.clone(),
        });
    }
    Ok(Built {
        paths: built,
        files,
        wheels,
    })
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
    let requires = &package.build_requires;
    let wheelhouse = super::wheelhouse::ensure(project, tools, requires, redactor, echo);
    let command = || {
        with_epoch(
            tools
                .build()
                .args(["--sdist", "--wheel", "-o"])
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
    let text = out.combined();
    // pip's words, then uv's, for a requirement the wheelhouse lacks.
    let missing = text.contains("No matching distribution")
        || text.contains("not found in the provided package locations");
    if wheelhouse.is_some() && missing {
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
    use crate::pypi::native::native_package;

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
