//! `cargo xtask init`: what a project has (its Python packages and their
//! build backends, a VS Code extension, a changelog), found without
//! changing anything, and the files that let release-kit ship it:
//! `release-kit.toml`, the `.gitignore` lines that keep secrets and built
//! files out of packages, `.env.example`, and with `--xtask` the cargo
//! alias. A file that exists is never replaced without `force`.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::config::FILE_NAME;
use crate::error::{IoContext as _, IoError, cannot};
use crate::preflight::{Preflight, PreflightError, Problem};
use crate::settings::envfile;
use crate::settings::registry::{Registry, Ships};

/// Folders never searched: build output, dependencies, caches, VCS.
const SKIP: &[&str] = &[
    "target",
    "node_modules",
    "dist",
    "build",
    "site-packages",
    "__pycache__",
];
/// How deep below the root packages are looked for.
const MAX_DEPTH: usize = 4;
/// Changelog files, in the order they are preferred.
const CHANGELOGS: &[&str] = &[
    "CHANGELOG.md",
    "CHANGES.md",
    "HISTORY.md",
    "CHANGELOG.rst",
    "CHANGES.rst",
    "HISTORY.rst",
];
/// The `.gitignore` lines every adopting project needs: secrets and built
/// files stay out of git and out of packages (backends skip what git
/// ignores).
pub const GITIGNORE_LINES: &[&str] = &[".env", "dist/"];
/// The `.vscodeignore` lines of an extension: vsce refuses to pack a
/// `.env`, and nothing secret may ship.
pub const VSCODEIGNORE_LINES: &[&str] = &[".env", ".env.*"];

/// A Python package found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PythonPackage {
    /// Its folder, relative to the root (`.` for the root).
    pub dir: PathBuf,
    /// `[project] name`, when static.
    pub name: Option<String>,
    /// `[build-system] build-backend` (`None`: setuptools' legacy default).
    pub backend: Option<String>,
}

impl PythonPackage {
    /// Whether maturin builds it.
    pub fn is_maturin(&self) -> bool {
        self.backend.as_deref() == Some("maturin")
    }
}

/// A VS Code extension found: a `package.json` with `engines.vscode`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Extension {
    /// Its folder, relative to the root.
    pub dir: PathBuf,
    /// `name`.
    pub name: Option<String>,
}

/// What a project has.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Detected {
    /// The Python packages, the one at the root (or the shallowest) first.
    pub python: Vec<PythonPackage>,
    /// The extension, if any (the shallowest).
    pub extension: Option<Extension>,
    /// The changelog, relative to the root.
    pub changelog: Option<PathBuf>,
}

impl Detected {
    /// Whether the changelog is Keep a Changelog Markdown, which the
    /// release reads.
    pub fn changelog_is_markdown(&self) -> bool {
        self.changelog
            .as_deref()
            .is_some_and(|c| c.extension().is_some_and(|e| e == "md"))
    }
}

fn is_skipped(dir: &Path) -> bool {
    let name = dir.file_name().unwrap_or_default().to_string_lossy();
    name.starts_with('.') || SKIP.contains(&name.as_ref()) || dir.join("pyvenv.cfg").is_file()
}

/// Every folder under `root` (the root first, then by path) that is
/// searched for packages.
fn folders(root: &Path) -> Vec<PathBuf> {
    let mut out = vec![root.to_owned()];
    let mut level = vec![root.to_owned()];
    for _ in 0..MAX_DEPTH {
        let mut next = Vec::new();
        for dir in &level {
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut subs: Vec<PathBuf> = entries
                .flatten()
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .filter(|p| !is_skipped(p))
                .collect();
            subs.sort();
            next.extend(subs);
        }
        out.extend(next.iter().cloned());
        level = next;
    }
    out
}

fn relative(root: &Path, dir: &Path) -> PathBuf {
    match dir.strip_prefix(root) {
        Ok(r) if r.as_os_str().is_empty() => PathBuf::from("."),
        Ok(r) => r.to_owned(),
        Err(_) => dir.to_owned(),
    }
}

fn python_package(root: &Path, dir: &Path) -> Option<PythonPackage> {
    let text = read_small(&dir.join("pyproject.toml"))?;
    let doc: toml::Table = toml::from_str(&text).ok()?;
    if !doc.contains_key("project") && !doc.contains_key("build-system") {
        // A tool's configuration only (ruff, black): not a package.
        return None;
    }
    let str_at = |table: &str, key: &str| {
        doc.get(table)
            .and_then(|t| t.get(key))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    Some(PythonPackage {
        dir: relative(root, dir),
        name: str_at("project", "name"),
        backend: str_at("build-system", "build-backend"),
    })
}

fn extension(root: &Path, dir: &Path) -> Option<Extension> {
    let text = read_small(&dir.join("package.json"))?;
    let doc: serde_json::Value = serde_json::from_str(&text).ok()?;
    doc.get("engines")?.get("vscode")?;
    Some(Extension {
        dir: relative(root, dir),
        name: doc.get("name").and_then(|n| n.as_str()).map(str::to_owned),
    })
}

/// What the project at `root` has, read without changing anything.
pub fn detect(root: &Path) -> Detected {
    let mut found = Detected::default();
    for dir in folders(root) {
        if let Some(p) = python_package(root, &dir) {
            found.python.push(p);
        }
        if found.extension.is_none() {
            found.extension = extension(root, &dir);
        }
    }
    found.changelog = CHANGELOGS
        .iter()
        .map(PathBuf::from)
        .find(|c| root.join(c).is_file());
    found
}

fn toml_str(path: &Path) -> String {
    // Paths are written with `/` on every platform; a TOML basic string.
    let s = path.to_string_lossy().replace('\\', "/");
    format!("\"{}\"", s.replace('"', "\\\""))
}

fn render_python(found: &Detected, out: &mut String) {
    let Some((first, rest)) = found.python.split_first() else {
        out.push_str("[python]\n# No pyproject.toml was found: nothing to build for PyPI.\nenabled = false\n");
        return;
    };
    let backend = |p: &PythonPackage| {
        p.backend
            .as_deref()
            .unwrap_or("setuptools (legacy)")
            .to_owned()
    };
    out.push_str(&format!(
        "[python]\n# {} (build backend: {})\npath = {}\n",
        first.name.as_deref().unwrap_or("?"),
        backend(first),
        toml_str(&first.dir)
    ));
    if first.is_maturin() && first.dir == Path::new(".") {
        // maturin packs every file of its folder cargo lists: dist/ at
        // the root would go into each sdist. cargo never lists target/.
        out.push_str(
            "# maturin packs the package's folder: built files go under cargo's target/.\n",
        );
        out.push_str("dist = \"target/wheels\"\n");
    } else {
        out.push_str("dist = \"dist\"\n");
    }
    for p in rest {
        out.push_str(&format!(
            "\n[[python.packages]]\n# {} (build backend: {})\npath = {}\n",
            p.name.as_deref().unwrap_or("?"),
            backend(p),
            toml_str(&p.dir)
        ));
    }
}

/// The `release-kit.toml` for what was found.
pub fn render(found: &Detected) -> String {
    let mut out = String::from(
        "# release-kit configuration, written by `cargo xtask init` from what the\n\
         # project holds. Paths are relative to this file. See docs/adopting.md.\n\n",
    );
    render_python(found, &mut out);
    out.push('\n');
    match &found.extension {
        Some(e) => out.push_str(&format!(
            "[vscode]\n# {}\nenabled = true\npath = {}\n# The extension ships in the Python package's version.\nlockstep = {}\n",
            e.name.as_deref().unwrap_or("?"),
            toml_str(&e.dir),
            !found.python.is_empty()
        )),
        None => out.push_str("[vscode]\nenabled = false\n"),
    }
    out.push_str("\n[release]\n");
    match &found.changelog {
        Some(c) if found.changelog_is_markdown() => {
            out.push_str(&format!("changelog = {}\n", toml_str(c)));
        }
        Some(c) => out.push_str(&format!(
            "# {} is not Keep a Changelog Markdown, the only format the release reads:\n\
             # set `changelog = \"CHANGELOG.md\"` once the project keeps one.\nchangelog = false\n",
            c.display()
        )),
        None => out.push_str("# No changelog was found.\nchangelog = false\n"),
    }
    render_variables(found, &mut out);
    out
}

/// What the detected project ships, which implies its publishing
/// credentials (init finds no models: `[[hf.models]]` is added by hand).
fn ships(found: &Detected) -> Ships {
    Ships {
        python: !found.python.is_empty(),
        vscode: found.extension.is_some(),
        models: false,
    }
}

/// The `.env.example` for what the project ships: its publishing
/// credentials, empty, exactly as `cargo xtask env example` writes it
/// (so `env example --check` passes until variables are declared).
pub fn env_example(found: &Detected) -> String {
    envfile::example(&Registry::build(&ships(found), &[]).unwrap_or_default())
}

/// The `[[variables]]` part of release-kit.toml: the implied credentials
/// named, and a commented declaration to copy.
fn render_variables(found: &Detected, out: &mut String) {
    let implied: Vec<&str> = Registry::build(&ships(found), &[])
        .unwrap_or_default()
        .vars()
        .iter()
        .map(|v| v.name)
        .collect();
    out.push_str("\n# The project's own variables (docs/configuration.md, \"Variables\").\n");
    match implied.as_slice() {
        [] => out.push_str("# Nothing shipped implies a credential.\n"),
        names => out.push_str(&format!(
            "# What it ships implies {}; declare the rest, e.g.:\n",
            names.join(", ")
        )),
    }
    out.push_str(VARIABLES_EXAMPLE);
}

/// A declaration to copy, commented out.
const VARIABLES_EXAMPLE: &str = "\
# [[variables]]
# name = \"CACHE_URL\"
# kind = \"redis-url\"                 # validation, secret or not, runbook
# group = \"Storage\"
# description = \"Redis the app caches in\"
# needed-by = [\"app\"]                # env check --for app
# production = \"required\"            # or \"recommended\"
";

/// What [`write`] did with each file.
#[derive(Clone, Debug, Default, Serialize)]
pub struct InitReport {
    /// What was found.
    pub detected: Detected,
    /// Files written (new, or replaced with `force`).
    pub written: Vec<PathBuf>,
    /// Files left as they were (they exist; `force` replaces them).
    pub kept: Vec<PathBuf>,
    /// Lines added to `.gitignore`.
    pub gitignore_added: Vec<String>,
    /// Lines added to the extension's `.vscodeignore`.
    pub vscodeignore_added: Vec<String>,
}

/// The lines of [`GITIGNORE_LINES`] that `text` does not hold yet
/// (`dist`, `/dist`, `dist/` and `/dist/` are the same line).
pub fn missing_ignores(text: &str) -> Vec<String> {
    missing_lines(text, GITIGNORE_LINES)
}

fn missing_lines(text: &str, lines: &[&str]) -> Vec<String> {
    let norm = |l: &str| {
        l.trim()
            .trim_start_matches('/')
            .trim_end_matches('/')
            .to_owned()
    };
    let have: Vec<String> = text.lines().map(norm).collect();
    lines
        .iter()
        .filter(|l| !have.contains(&norm(l)))
        .map(|l| (*l).to_owned())
        .collect()
}

/// Whether `release-kit.toml` may be written at `root` (it does not exist
/// yet, or `force`): the only file whose presence stops `init`.
pub fn check(root: &Path, force: bool, pre: &mut Preflight) {
    let file = root.join(FILE_NAME);
    if !root.is_dir() {
        pre.problem(format!("{}: no such folder", root.display()));
    } else if file.exists() && !force {
        pre.problem(Problem::at(
            "exists already: edit it, or run `cargo xtask init --force` to write it again from what the project holds",
            file,
            None,
        ));
    }
}

fn write_new(path: &Path, text: &str, force: bool, report: &mut InitReport) -> Result<(), IoError> {
    if path.exists() && !force {
        report.kept.push(path.to_owned());
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).io_context(cannot("create", parent))?;
    }
    std::fs::write(path, text).io_context(cannot("write", path))?;
    report.written.push(path.to_owned());
    Ok(())
}

/// Adds to the ignore file at `path` the `lines` it lacks (appending is
/// not replacing: what is there stays); returns them.
fn append_lines(path: &Path, lines: &[&str]) -> Result<Vec<String>, IoError> {
    // Missing is empty; anything unreadable stops before a write could
    // replace what the file holds.
    let bytes = crate::fsread::read_regular(path, 1 << 20)
        .io_context(cannot("read", path))?
        .unwrap_or_default();
    let text = String::from_utf8(bytes)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        .io_context(cannot("read", path))?;
    let missing = missing_lines(&text, lines);
    if !missing.is_empty() {
        let mut new = text;
        if !new.is_empty() && !new.ends_with('\n') {
            new.push('\n');
        }
        new.push_str(&(missing.join("\n") + "\n"));
        std::fs::write(path, new).io_context(cannot("write", path))?;
    }
    Ok(missing)
}

/// Why `init` stopped.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Found before writing anything (exit 3).
    #[error(transparent)]
    Preflight(#[from] PreflightError),
    /// A file could not be written.
    #[error(transparent)]
    Io(#[from] IoError),
}

/// Detects and writes the project's files at `root`. With `cargo_alias`
/// (the path of a release-kit checkout) also `.cargo/config.toml` with the
/// `cargo xtask` alias running it.
pub fn write(
    root: &Path,
    force: bool,
    cargo_alias: Option<&Path>,
) -> Result<InitReport, InitError> {
    let mut pre = Preflight::new();
    check(root, force, &mut pre);
    pre.finish()?;
    let detected = detect(root);
    let mut report = InitReport::default();
    write_new(
        &root.join(FILE_NAME),
        &render(&detected),
        force,
        &mut report,
    )?;
    write_new(
        &root.join(".env.example"),
        &env_example(&detected),
        force,
        &mut report,
    )?;
    report.gitignore_added = append_lines(&root.join(".gitignore"), GITIGNORE_LINES)?;
    if let Some(e) = &detected.extension {
        let file = root.join(&e.dir).join(".vscodeignore");
        report.vscodeignore_added = append_lines(&file, VSCODEIGNORE_LINES)?;
    }
    if let Some(kit) = cargo_alias {
        write_xtask(root, kit, force, &mut report)?;
    }
    report.detected = detected;
    Ok(report)
}

/// The cargo-xtask way: an `xtask/` crate of the project's own whose
/// `main` is one call into release-kit's CLI (a path dependency on the
/// checkout at `kit`), and the `.cargo/config.toml` alias that runs it.
/// Its build folder is git-ignored, so no package takes it in.
fn write_xtask(
    root: &Path,
    kit: &Path,
    force: bool,
    report: &mut InitReport,
) -> Result<(), InitError> {
    write_new(
        &root.join("xtask/Cargo.toml"),
        &xtask_manifest(kit),
        force,
        report,
    )?;
    write_new(&root.join("xtask/src/main.rs"), XTASK_MAIN, force, report)?;
    write_new(
        &root.join(".cargo/config.toml"),
        ALIAS_CONFIG,
        force,
        report,
    )?;
    report
        .gitignore_added
        .extend(append_lines(&root.join(".gitignore"), &["xtask/target/"])?);
    Ok(())
}

/// `xtask/Cargo.toml`: a crate of its own (not a member of any workspace
/// the project has), depending on release-kit's CLI at `kit`.
pub fn xtask_manifest(kit: &Path) -> String {
    format!(
        "# The project's `cargo xtask`: release-kit's command line (written by\n\
         # `cargo xtask init --xtask`). Point the dependency at a git URL to share it.\n\
         [package]\nname = \"xtask\"\nversion = \"0.1.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nrelease-kit = {{ path = {}, features = [\"cli\"] }}\n\n\
         # Not a member of another workspace.\n[workspace]\n",
        toml_str(kit)
    )
}

/// `xtask/src/main.rs`: one call.
pub const XTASK_MAIN: &str =
    "fn main() -> std::process::ExitCode {\n    release_kit::cli::main()\n}\n";

/// `.cargo/config.toml`: `cargo xtask …` runs the `xtask/` crate.
pub const ALIAS_CONFIG: &str = "# `cargo xtask …` runs release-kit (written by `cargo xtask init --xtask`).\n\
     [alias]\nxtask = [\"run\", \"--quiet\", \"--manifest-path\", \"xtask/Cargo.toml\", \"--\"]\n";

/// A project file `init` reads, as text: only a regular file of at most
/// 1 MiB (a FIFO named `pyproject.toml` must not hang `init`).
fn read_small(path: &Path) -> Option<String> {
    let bytes = crate::fsread::read_regular(path, 1 << 20).ok()??;
    String::from_utf8(bytes).ok()
}

#[cfg(test)]
mod tests;
