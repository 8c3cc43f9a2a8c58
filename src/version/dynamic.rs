//! A dynamic `[project] version`, read where the build backend reads it:
//! maturin's Cargo.toml (also `version.workspace = true`), flit's
//! `__version__` (a literal string, as flit reads it without importing),
//! hatchling's `[tool.hatch.version] path`, and the git tag
//! (setuptools-scm, hatch-vcs; `super::vcs`).

use std::path::{Path, PathBuf};

use super::{Source, VersionAt, line_in_table, line_of, tidy, vcs};
use crate::pep440::Version;
use crate::preflight::Problem;

/// The dynamic version of the package whose `pyproject.toml` is `file`.
/// `listed`: "version" is in `[project] dynamic`.
pub(super) fn version(
    file: &Path,
    text: &str,
    doc: &toml::Table,
    listed: bool,
) -> Result<VersionAt, Problem> {
    let dir = file.parent().unwrap_or(Path::new("."));
    let get = |path: &[&str]| -> Option<&toml::Value> {
        let mut v = doc.get(path[0])?;
        for k in &path[1..] {
            v = v.get(k)?;
        }
        Some(v)
    };
    let backend = get(&["build-system", "build-backend"])
        .and_then(|b| b.as_str())
        .unwrap_or("");
    let name = get(&["project", "name"])
        .and_then(|n| n.as_str())
        .unwrap_or("");
    if let Some(tool) = vcs_tool(doc, backend) {
        return vcs::version(file, text, tool, name);
    }
    if backend.starts_with("maturin") {
        let manifest = get(&["tool", "maturin", "manifest-path"])
            .and_then(|m| m.as_str())
            .unwrap_or("Cargo.toml");
        return cargo(&tidy(&dir.join(manifest)));
    }
    if backend.starts_with("flit_core") || backend.starts_with("flit.") {
        let module = get(&["tool", "flit", "module", "name"])
            .and_then(|m| m.as_str())
            .unwrap_or(name);
        return flit(dir, module, file);
    }
    if backend.starts_with("hatchling")
        && let Some(path) = get(&["tool", "hatch", "version", "path"]).and_then(|p| p.as_str())
    {
        return module_version(
            &tidy(&dir.join(path)),
            &["__version__", "VERSION"],
            "hatchling",
        );
    }
    if (backend.starts_with("setuptools") || backend.is_empty())
        && let Some(attr) =
            get(&["tool", "setuptools", "dynamic", "version", "attr"]).and_then(|a| a.as_str())
    {
        return setuptools_attr(dir, attr, file);
    }
    let line = line_of(text, |l| l.trim_start().starts_with("dynamic"));
    let why = if listed {
        format!(
            "[project] version is dynamic and release-kit cannot read it for the build backend {:?}",
            if backend.is_empty() {
                "setuptools (legacy)"
            } else {
                backend
            }
        )
    } else {
        "[project] has no `version` and does not list it in `dynamic`".to_owned()
    };
    Err(Problem::at(
        format!(
            "{why}: release-kit reads a dynamic version from Cargo.toml (maturin), a literal \
             `__version__ = \"X.Y.Z\"` (flit, hatchling's [tool.hatch.version] path, setuptools' \
             `version = {{attr = …}}`) or the git tag \
             (setuptools-scm, hatch-vcs); set `version = \"X.Y.Z\"` under [project] otherwise"
        ),
        file,
        Some(line),
    ))
}

/// The git-tag tool configured for the package, if any.
fn vcs_tool(doc: &toml::Table, backend: &str) -> Option<&'static str> {
    let tool = doc.get("tool");
    let hatch_source = tool
        .and_then(|t| t.get("hatch"))
        .and_then(|h| h.get("version"))
        .and_then(|v| v.get("source"))
        .and_then(|s| s.as_str());
    if hatch_source == Some("vcs") {
        return Some("hatch-vcs");
    }
    let scm_table = tool.is_some_and(|t| t.get("setuptools_scm").is_some());
    // setuptools-scm 8 is active with only its build requirement, too.
    let scm_required = backend.starts_with("setuptools")
        && doc
            .get("build-system")
            .and_then(|b| b.get("requires"))
            .and_then(|r| r.as_array())
            .is_some_and(|r| {
                r.iter().filter_map(|x| x.as_str()).any(|x| {
                    let x = x.trim_start().to_ascii_lowercase().replace('_', "-");
                    x.starts_with("setuptools-scm")
                })
            });
    (scm_table || scm_required).then_some("setuptools-scm")
}

/// The PEP 440 form of a version read from `at` (Cargo's `1.2.0-rc.1`
/// is Python's `1.2.0rc1`), or a problem there.
fn pep440_at(raw: &str, at: &Path, line: usize, whose: &str) -> Result<String, Problem> {
    Version::parse(raw).map(|v| v.to_string()).map_err(|e| {
        Problem::at(
            format!("{whose}: {e}; the build backend would refuse it"),
            at,
            Some(line),
        )
    })
}

/// `[package] version` of the Cargo.toml `manifest`, or the workspace's
/// (`version.workspace = true`), in its PEP 440 form.
fn cargo(manifest: &Path) -> Result<VersionAt, Problem> {
    let (text, doc) = read_toml(manifest, "maturin takes the version from it")?;
    let version = doc.get("package").and_then(|p| p.get("version"));
    let line = line_in_table(&text, "package", "version");
    match version {
        Some(toml::Value::String(v)) => Ok(VersionAt {
            version: pep440_at(v, manifest, line, "[package] version")?,
            file: manifest.to_owned(),
            line,
            source: Source::Cargo,
        }),
        Some(toml::Value::Table(t))
            if t.get("workspace").and_then(|w| w.as_bool()) == Some(true) =>
        {
            workspace_version(manifest)
        }
        _ => Err(Problem::at(
            "[package] has no `version` (maturin takes the Python package's version from it): \
             add `version = \"X.Y.Z\"`",
            manifest,
            Some(line),
        )),
    }
}

/// `[workspace.package] version` of the first Cargo.toml above `member`
/// with a `[workspace]`.
fn workspace_version(member: &Path) -> Result<VersionAt, Problem> {
    let mut dir = member.parent().and_then(Path::parent);
    while let Some(d) = dir {
        let candidate = d.join("Cargo.toml");
        if candidate.is_file() {
            let (text, doc) = read_toml(&candidate, "the workspace of a maturin package")?;
            if let Some(ws) = doc.get("workspace") {
                let line = line_in_table(&text, "workspace.package", "version");
                let Some(v) = ws
                    .get("package")
                    .and_then(|p| p.get("version"))
                    .and_then(|v| v.as_str())
                else {
                    return Err(Problem::at(
                        format!(
                            "{} takes its version from the workspace (`version.workspace = true`), which has no \
                             [workspace.package] version: add `version = \"X.Y.Z\"` there",
                            member.display()
                        ),
                        candidate,
                        Some(line),
                    ));
                };
                return Ok(VersionAt {
                    version: pep440_at(v, &candidate, line, "[workspace.package] version")?,
                    file: candidate,
                    line,
                    source: Source::Cargo,
                });
            }
        }
        dir = d.parent();
    }
    Err(Problem::at(
        "`version.workspace = true`, but no Cargo.toml with [workspace] was found above it: \
         set `version = \"X.Y.Z\"` under [package]",
        member,
        None,
    ))
}

fn read_toml(path: &Path, why: &str) -> Result<(String, toml::Table), Problem> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Problem::new(format!("cannot read {} ({why}): {e}", path.display())))?;
    let doc = toml::from_str(&text)
        .map_err(|e| Problem::new(format!("{}: {}", path.display(), e.to_string().trim())))?;
    Ok((text, doc))
}

/// flit's module `name` (`[tool.flit.module] name`, else the project
/// name) in `dir`: a package (`name/__init__.py`) or a module
/// (`name.py`), at the top or under `src/`, as flit looks for it.
fn flit(dir: &Path, module: &str, pyproject: &Path) -> Result<VersionAt, Problem> {
    in_module(
        dir,
        module,
        "__version__",
        "flit",
        pyproject,
        "set [tool.flit.module] name",
    )
}

/// `name` assigned in the Python module `module` (dotted) of `dir`: a
/// package (`module/__init__.py`) or a file (`module.py`), at the top or
/// under `src/`.
fn in_module(
    dir: &Path,
    module: &str,
    name: &str,
    backend: &str,
    pyproject: &Path,
    setting: &str,
) -> Result<VersionAt, Problem> {
    let rel: PathBuf = module.replace('-', "_").split('.').collect();
    let candidates = [
        dir.join(&rel).join("__init__.py"),
        dir.join(rel.with_extension("py")),
        dir.join("src").join(&rel).join("__init__.py"),
        dir.join("src").join(rel.with_extension("py")),
    ];
    match candidates.iter().find(|c| c.is_file()) {
        Some(file) => module_version(&tidy(file), &[name], backend),
        None => Err(Problem::at(
            format!(
                "{backend} takes the version from `{name}` of the module {module}, and no {} was found \
                 (looked for {}/__init__.py and {}.py, also under src/); {setting}",
                module,
                rel.display(),
                rel.display()
            ),
            pyproject,
            None,
        )),
    }
}

/// setuptools' `[tool.setuptools.dynamic] version = {attr = "pkg.__version__"}`.
fn setuptools_attr(dir: &Path, attr: &str, pyproject: &Path) -> Result<VersionAt, Problem> {
    let (module, name) = attr.rsplit_once('.').unwrap_or(("", attr));
    in_module(
        dir,
        module,
        name,
        "setuptools",
        pyproject,
        "check [tool.setuptools.dynamic] version",
    )
}

/// The literal string assigned to one of `names` at the top level of
/// the Python file `file` (`__version__ = "1.2.0"`, also annotated), as
/// flit and hatchling read it without running the code.
fn module_version(file: &Path, names: &[&str], backend: &str) -> Result<VersionAt, Problem> {
    let text = std::fs::read_to_string(file).map_err(|e| {
        Problem::new(format!(
            "cannot read {} ({backend} takes the version from it): {e}",
            file.display()
        ))
    })?;
    for (i, line) in text.lines().enumerate() {
        let Some(value) = names.iter().find_map(|n| assigned(line, n)) else {
            continue;
        };
        let Some(raw) = string_literal(value) else {
            return Err(Problem::at(
                format!(
                    "{backend} takes the version from this assignment, and release-kit reads only a literal \
                     string (`__version__ = \"X.Y.Z\"`): write the version there as one"
                ),
                file,
                Some(i + 1),
            ));
        };
        let raw = raw.strip_prefix('v').unwrap_or(raw);
        return Ok(VersionAt {
            version: pep440_at(raw, file, i + 1, "__version__")?,
            file: file.to_owned(),
            line: i + 1,
            source: Source::Module,
        });
    }
    Err(Problem::at(
        format!(
            "{backend} takes the version from `{}` in this file, which has none at the top level: \
             add `{} = \"X.Y.Z\"`",
            names[0], names[0]
        ),
        file,
        None,
    ))
}

/// The right-hand side of `name = …` or `name: str = …` at the top level
/// (no indentation).
fn assigned<'a>(line: &'a str, name: &str) -> Option<&'a str> {
    let rest = line.strip_prefix(name)?.trim_start();
    let rest = match rest.strip_prefix(':') {
        Some(annotated) => &annotated[annotated.find('=')?..],
        None => rest,
    };
    let rest = rest.strip_prefix('=')?;
    (!rest.starts_with('=')).then(|| rest.trim())
}

/// The text of a one-line Python string literal (`"…"` or `'…'`, no
/// prefix, no escapes), a trailing comment allowed.
fn string_literal(value: &str) -> Option<&str> {
    let quote = value.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let body = &value[1..];
    let end = body.find(quote)?;
    let (inner, after) = (&body[..end], body[end + 1..].trim());
    (!inner.contains('\\') && (after.is_empty() || after.starts_with('#'))).then_some(inner)
}

#[cfg(test)]
mod tests;
