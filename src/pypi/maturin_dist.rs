//! maturin's sdist holds every file cargo lists in the package folder, and
//! cargo lists a `dist/` that is not excluded (git-ignoring it is not
//! enough outside a committed repository): each rebuild would pack the
//! previous build's files (3,885 → 241,529 → 479,234 bytes), so no rebuild
//! is byte-identical and re-publishing fails. Found before building.

use std::path::{Component, Path};

use crate::preflight::Problem;

/// A pattern of an exclude list, reduced to the folder it excludes whole
/// (`dist`, `/dist/`, `dist/**`, `dist/**/*`, `dist/*` all give `dist`).
fn excluded_folder(pattern: &str) -> &str {
    let mut p = pattern
        .trim()
        .trim_start_matches("./")
        .trim_start_matches('/');
    for suffix in ["/**/*", "/**", "/*", "/"] {
        p = p.strip_suffix(suffix).unwrap_or(p);
    }
    p
}

/// Whether `[tool.maturin] exclude` of the package's pyproject.toml leaves
/// out the folder `rel` from the sdist.
fn maturin_excludes(pyproject: &toml::Table, rel: &str) -> bool {
    let Some(list) = pyproject
        .get("tool")
        .and_then(|t| t.get("maturin"))
        .and_then(|m| m.get("exclude"))
        .and_then(|e| e.as_array())
    else {
        return false;
    };
    list.iter().any(|e| {
        let (path, format) = match e {
            toml::Value::String(s) => (Some(s.as_str()), None),
            toml::Value::Table(t) => (
                t.get("path").and_then(|p| p.as_str()),
                t.get("format").and_then(|f| f.as_str()),
            ),
            _ => (None, None),
        };
        format.is_none_or(|f| f == "sdist") && path.is_some_and(|p| excluded_folder(p) == rel)
    })
}

/// Whether Cargo.toml's `[package]` keeps the folder `rel` out of cargo's
/// list: an `include` list (only what it names), or `exclude` naming it.
fn cargo_excludes(cargo: &toml::Table, rel: &str) -> bool {
    let Some(package) = cargo.get("package") else {
        return false;
    };
    if package.get("include").is_some() {
        return true;
    }
    package
        .get("exclude")
        .and_then(|e| e.as_array())
        .is_some_and(|l| {
            l.iter()
                .filter_map(|v| v.as_str())
                .any(|p| excluded_folder(p) == rel)
        })
}

fn read_table(path: &Path) -> toml::Table {
    std::fs::read_to_string(path)
        .ok()
        .and_then(|t| toml::from_str(&t).ok())
        .unwrap_or_default()
}

/// The problem of a maturin package in `package_dir` whose sdist would take
/// in `dist` (the project's output folder), naming the fix.
pub fn check(package_dir: &Path, dist: &Path) -> Result<(), Problem> {
    let Ok(rel) = dist.strip_prefix(package_dir) else {
        return Ok(());
    };
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    // cargo never lists its own target/ folder at the package's root.
    if parts.is_empty() || parts[0] == "target" {
        return Ok(());
    }
    let rel = parts.join("/");
    let pyproject = package_dir.join("pyproject.toml");
    if maturin_excludes(&read_table(&pyproject), &rel)
        || cargo_excludes(&read_table(&package_dir.join("Cargo.toml")), &rel)
    {
        return Ok(());
    }
    Err(Problem::at(
        format!(
            "maturin would pack {rel}/ (where release-kit puts built files) into the sdist, so each \
             rebuild would hold the last one and none would be byte-identical: add \
             `exclude = [{{ path = \"{rel}/**\", format = \"sdist\" }}]` under [tool.maturin], or set \
             [python] dist in release-kit.toml to a folder outside the package (\"target/wheels\", \
             maturin's own)"
        ),
        pyproject,
        None,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(pyproject_extra: &str, cargo_extra: &str) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        std::fs::write(
            tmp.path().join("pyproject.toml"),
            format!(
                "[project]\nname = \"x\"\n[tool.maturin]\nbindings = \"bin\"\n{pyproject_extra}"
            ),
        )
        .unwrap();
        std::fs::write(
            tmp.path().join("Cargo.toml"),
            format!("[package]\nname = \"x\"\n{cargo_extra}"),
        )
        .unwrap();
        tmp
    }

    #[test]
    fn dist_inside_the_package_must_be_excluded() {
        let p = package("", "");
        let err = check(p.path(), &p.path().join("dist")).unwrap_err();
        assert!(err.message.contains("path = \"dist/**\""), "{err}");
        assert_eq!(
            err.file.as_deref(),
            Some(p.path().join("pyproject.toml").as_path())
        );
        // Outside the package, or in cargo's target/: nothing to say.
        let parent = p.path().parent().unwrap();
        assert!(check(&parent.join("elsewhere"), &p.path().join("dist")).is_ok());
        assert!(check(p.path(), &p.path().join("target/wheels")).is_ok());
    }

    #[test]
    fn exclusions_that_count() {
        for extra in [
            "exclude = [{ path = \"dist/**\", format = \"sdist\" }]",
            "exclude = [\"dist/**/*\"]",
            "exclude = [{ path = \"/dist/\" }]",
        ] {
            let p = package(extra, "");
            assert!(check(p.path(), &p.path().join("dist")).is_ok(), "{extra}");
        }
        let wheel_only = package("exclude = [{ path = \"dist/**\", format = \"wheel\" }]", "");
        assert!(check(wheel_only.path(), &wheel_only.path().join("dist")).is_err());
        let other = package("exclude = [\"docs/**\"]", "");
        assert!(check(other.path(), &other.path().join("dist")).is_err());
        for cargo in [
            "exclude = [\"/dist\"]",
            "include = [\"src/**\", \"Cargo.toml\"]",
        ] {
            let p = package("", cargo);
            assert!(check(p.path(), &p.path().join("dist")).is_ok(), "{cargo}");
        }
    }
}
