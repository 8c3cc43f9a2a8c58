//! GitHub Actions workflow commands and files, in one place.
//!
//! Everything that talks to the runner goes through here: masks, groups,
//! annotations, the step summary and step outputs. Outside Actions
//! ([`Actions::detect`] returns `None`) nothing is printed or written.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::secret::{Redactor, Secret};

/// The GitHub Actions context of this run.
#[derive(Clone, Debug, Default)]
pub struct Actions {
    /// `$GITHUB_STEP_SUMMARY`.
    pub step_summary: Option<PathBuf>,
    /// `$GITHUB_OUTPUT`.
    pub output: Option<PathBuf>,
    /// `tag` or `branch`.
    pub ref_type: Option<String>,
    /// The tag or branch name.
    pub ref_name: Option<String>,
}

impl Actions {
    /// `Some` when running in GitHub Actions (`GITHUB_ACTIONS=true`).
    pub fn detect() -> Option<Actions> {
        Actions::from_env(|k| std::env::var(k).ok())
    }

    /// Like [`Actions::detect`], reading variables through `get`.
    pub fn from_env(get: impl Fn(&str) -> Option<String>) -> Option<Actions> {
        if get("GITHUB_ACTIONS").as_deref() != Some("true") {
            return None;
        }
        Some(Actions {
            step_summary: get("GITHUB_STEP_SUMMARY")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            output: get("GITHUB_OUTPUT")
                .filter(|s| !s.is_empty())
                .map(PathBuf::from),
            ref_type: get("GITHUB_REF_TYPE"),
            ref_name: get("GITHUB_REF_NAME"),
        })
    }

    /// The tag being built, when the run is for a tag.
    pub fn tag(&self) -> Option<&str> {
        (self.ref_type.as_deref() == Some("tag"))
            .then_some(self.ref_name.as_deref())
            .flatten()
    }

    /// `::add-mask::` for one secret value.
    pub fn add_mask(&self, secret: &Secret) -> String {
        format!("::add-mask::{}", escape_data(secret.expose()))
    }

    /// `::add-mask::` lines for every form a redactor knows. Print them
    /// before anything else, so the runner masks the values in its log.
    pub fn mask_lines(&self, redactor: &Redactor) -> Vec<String> {
        redactor.forms().map(|s| self.add_mask(s)).collect()
    }
}

/// `::group::TITLE`.
pub fn group(title: &str) -> String {
    format!("::group::{}", escape_data(title))
}

/// `::endgroup::`.
pub fn endgroup() -> &'static str {
    "::endgroup::"
}

/// An `::error` annotation, optionally pointing at a file and line.
pub fn error(file: Option<&Path>, line: Option<usize>, title: &str, message: &str) -> String {
    let mut props = Vec::new();
    if let Some(f) = file {
        props.push(format!(
            "file={}",
            escape_property(&f.display().to_string())
        ));
    }
    if let Some(l) = line {
        props.push(format!("line={l}"));
    }
    props.push(format!("title={}", escape_property(title)));
    format!("::error {}::{}", props.join(","), escape_data(message))
}

/// Escapes a command's message.
pub fn escape_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a command's property value.
pub fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Appends markdown to the step summary (kept under the 1 MiB limit).
pub fn append_summary(path: &Path, markdown: &str) -> std::io::Result<()> {
    const LIMIT: u64 = 1024 * 1024;
    let used = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if used + markdown.len() as u64 > LIMIT {
        return Ok(());
    }
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    f.write_all(markdown.as_bytes())
}

/// Appends `key=value` to `$GITHUB_OUTPUT`, with a random heredoc delimiter
/// when the value spans lines.
pub fn set_output(path: &Path, key: &str, value: &str) -> std::io::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    if value.contains('\n') || value.contains('\r') {
        let delim = loop {
            let d = format!(
                "ghadelim_{}",
                crate::settings::envfile::gen_key(12).map_err(std::io::Error::other)?
            );
            if !value.contains(&d) {
                break d;
            }
        };
        writeln!(f, "{key}<<{delim}\n{value}\n{delim}")
    } else {
        writeln!(f, "{key}={value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(escape_data("a%b\nc\r"), "a%25b%0Ac%0D");
        assert_eq!(
            error(Some(Path::new("a,b:c.toml")), Some(3), "Version", "x\ny"),
            "::error file=a%2Cb%3Ac.toml,line=3,title=Version::x%0Ay"
        );
    }

    #[test]
    fn detect_only_on_actions() {
        assert!(Actions::from_env(|_| None).is_none());
        let a = Actions::from_env(|k| match k {
            "GITHUB_ACTIONS" => Some("true".into()),
            "GITHUB_REF_TYPE" => Some("tag".into()),
            "GITHUB_REF_NAME" => Some("v1.2.3".into()),
            _ => None,
        })
        .unwrap();
        assert_eq!(a.tag(), Some("v1.2.3"));
    }

    #[test]
    fn outputs_and_masks() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("out");
        set_output(&out, "version", "1.2.3").unwrap();
        set_output(&out, "notes", "a\nb").unwrap();
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.starts_with("version=1.2.3\nnotes<<ghadelim_"));
        let mut r = Redactor::new();
        r.add(&Secret::new("CANARY-mask-1"));
        let lines = Actions::default().mask_lines(&r);
        assert!(lines.contains(&"::add-mask::CANARY-mask-1".to_string()));
        assert!(lines.len() > 3, "encoded forms are masked too");
    }
}
