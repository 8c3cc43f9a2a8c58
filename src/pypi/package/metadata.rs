//! The version a built file says of itself — `Version:` of a wheel's
//! `*.dist-info/METADATA` or an sdist's `NAME-VERSION/PKG-INFO` — which is
//! what the index and pip go by: checked after a build against the version
//! release-kit read from the source, so that a backend computing it
//! otherwise (a dynamic version read wrongly) stops the build.

use std::io::Read as _;
use std::path::Path;

use super::filename::{normalize_version, parse_filename};
use super::files::file_name;
use crate::version::VersionAt;

/// The most of a metadata file read (its headers come first).
const MAX_METADATA: u64 = 16 << 20;

/// Why a built file's version could not be confirmed.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    /// The metadata could not be read.
    #[error("{file}: cannot read its metadata ({reason}); the build tool wrote a broken file")]
    Unreadable {
        /// The built file's name.
        file: String,
        /// Why.
        reason: String,
    },
    /// The file says another version than the source.
    #[error(
        "{file}: its metadata says Version {built}, but release-kit read {expected} from {source_at}; what the \
         metadata says is what the index and pip see, so nothing was put in dist/. {fix}"
    )]
    Mismatch {
        /// The built file's name.
        file: String,
        /// `Version:` of its metadata (or of its name, when that differs).
        built: String,
        /// The version read from the source.
        expected: String,
        /// Where it was read (`file:line`).
        source_at: String,
        /// What to do.
        fix: String,
    },
}

/// `Version:` of the metadata inside the sdist or wheel at `path`.
pub fn built_version(path: &Path) -> Result<String, MetadataError> {
    let name = file_name(path);
    let unreadable = |reason: String| MetadataError::Unreadable {
        file: name.clone(),
        reason,
    };
    let text = if name.ends_with(".whl") {
        wheel_metadata(path)
    } else {
        sdist_metadata(path)
    }
    .map_err(|Why(reason)| unreadable(reason))?;
    text.lines()
        .take_while(|l| !l.trim().is_empty())
        .find_map(|l| l.strip_prefix("Version:"))
        .map(|v| v.trim().to_owned())
        .ok_or_else(|| MetadataError::Unreadable {
            file: name,
            reason: "its metadata has no Version field".into(),
        })
}

/// Why a metadata file could not be read, in words.
struct Why(String);

impl<E: std::fmt::Display> From<E> for Why {
    fn from(e: E) -> Why {
        Why(e.to_string())
    }
}

fn wheel_metadata(path: &Path) -> Result<String, Why> {
    let bytes = std::fs::read(path)?;
    let (_, metadata) = crate::zip::find_entry(&bytes, |n| {
        n.ends_with(".dist-info/METADATA") && n.matches('/').count() == 1
    })?
    .ok_or(Why("it has no *.dist-info/METADATA".into()))?;
    Ok(String::from_utf8_lossy(&metadata).into_owned())
}

fn sdist_metadata(path: &Path) -> Result<String, Why> {
    let file = std::fs::File::open(path)?;
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
    for entry in archive.entries()? {
        let entry = entry?;
        let member = entry.path()?;
        let member = member.to_string_lossy();
        let member = member.trim_start_matches("./");
        if member.matches('/').count() == 1 && member.ends_with("/PKG-INFO") {
            let mut text = String::new();
            entry.take(MAX_METADATA).read_to_string(&mut text)?;
            return Ok(text);
        }
    }
    Err(Why("it has no NAME-VERSION/PKG-INFO".into()))
}

/// Checks that the built file at `path` is of version `expected`: its
/// metadata and its name.
pub fn check_version(path: &Path, expected: &VersionAt) -> Result<(), MetadataError> {
    let metadata = built_version(path)?;
    let named = parse_filename(&file_name(path)).map(|(_, v, _)| v);
    let want = normalize_version(&expected.version);
    let built = [Some(metadata), named]
        .into_iter()
        .flatten()
        .find(|v| normalize_version(v) != want);
    match built {
        None => Ok(()),
        Some(built) => Err(MetadataError::Mismatch {
            file: file_name(path),
            fix: format!(
                "If {built} is the version to release, {}; if not, find what made the build backend compute {built} \
                 (a setting of its own, SETUPTOOLS_SCM_PRETEND_VERSION, a plugin) and build again",
                expected.how_to_set(&built)
            ),
            built,
            expected: expected.version.clone(),
            source_at: match expected.source {
                crate::version::Source::Environment => expected.file.display().to_string(),
                _ => expected.place(),
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wheel(dir: &Path, name: &str, version: &str) -> std::path::PathBuf {
        let path = dir.join(name);
        crate::zip::write_by_python(
            &path,
            &[&format!(
                "z.writestr('x-{version}.dist-info/METADATA', 'Metadata-Version: 2.4\\nName: x\\nVersion: {version}\\n\\nVersion: 9\\n', compress_type=zipfile.ZIP_DEFLATED)"
            )],
        );
        path
    }

    #[test]
    fn wheel_and_sdist_versions_are_read_and_checked() {
        let tmp = tempfile::tempdir().unwrap();
        let w = wheel(tmp.path(), "x-1.2.0rc1-py3-none-any.whl", "1.2.0rc1");
        assert_eq!(built_version(&w).unwrap(), "1.2.0rc1");
        let source = VersionAt::new("1.2.0-rc.1", "py/pyproject.toml", 4);
        check_version(&w, &source).unwrap();
        // An sdist, written by Python's tarfile.
        let sd = tmp.path().join("x-0.3.0.tar.gz");
        sdist(&sd, "x-0.3.0", "0.3.0");
        assert_eq!(built_version(&sd).unwrap(), "0.3.0");
        let e = check_version(&sd, &source).unwrap_err().to_string();
        assert!(
            e.contains("x-0.3.0.tar.gz: its metadata says Version 0.3.0")
                && e.contains("read 1.2.0-rc.1 from py/pyproject.toml:4")
                && e.contains("set the version to 0.3.0 in py/pyproject.toml:4"),
            "{e}"
        );
        // The name and the metadata disagree: the name is checked too.
        let renamed = tmp.path().join("x-1.3.0-py3-none-any.whl");
        std::fs::copy(&w, &renamed).unwrap();
        let e = check_version(&renamed, &source).unwrap_err().to_string();
        assert!(e.contains("says Version 1.3.0"), "{e}");
    }

    fn sdist(path: &Path, top: &str, version: &str) {
        let code = "import io, sys, tarfile\n\
            t = tarfile.open(sys.argv[1], 'w:gz')\n\
            data = ('Metadata-Version: 2.1\\nName: x\\nVersion: %s\\n' % sys.argv[3]).encode()\n\
            i = tarfile.TarInfo(sys.argv[2] + '/PKG-INFO'); i.size = len(data)\n\
            t.addfile(i, io.BytesIO(data)); t.close()";
        let py = crate::pypi::venv::base_python().expect("python3 is needed for this test");
        let out = std::process::Command::new(py)
            .args(["-c", code])
            .arg(path)
            .args([top, version])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
