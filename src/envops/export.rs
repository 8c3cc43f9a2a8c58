//! `env export`: the values a deployment or CI needs, written in the format
//! of the place they go to. Rendering is pure (explicit values in, text
//! out); [`write`] puts a rendered file in place with mode 0600 and
//! [`push_github`] hands each value to `gh secret set` on its standard
//! input.
//!
//! What goes where is read from the registry: `--to github` takes the
//! variables whose [`Place`] is GitHub Actions (the publishing credentials
//! and the keys CI uses), a deployment (`docker`, `systemd`, `k8s`) takes
//! the variables whose place is production plus the plain settings of the
//! running app, and never a credential only the release steps use.
//!
//! Each format reads values its own way, and a value one cannot carry is
//! a problem named before anything is written, never a silent mangle:
//!
//! - docker `--env-file` (docker/cli `opts/file.go`): one `KEY=VALUE` per
//!   line, split at the first `=`, nothing unquoted, unescaped or trimmed
//!   after it; the line is read by a Go `bufio.Scanner` (64 KiB at most, a
//!   trailing `\r` dropped). A line break in a value cannot be written.
//! - systemd `EnvironmentFile=` (systemd `src/basic/env-file.c`): every
//!   value is written in double quotes with `"` and `\` escaped; inside
//!   double quotes every other character, line breaks included, is read as
//!   itself, and no `$` expansion happens. `$` and `` ` `` are left
//!   unescaped: systemd releases before v240 keep the backslash of `\$`.
//! - Kubernetes: a `Secret` with `stringData`, every scalar a YAML
//!   double-quoted string whose escapes (`\"`, `\\`, `\n`, `\uXXXX`) are
//!   JSON's too, so the manifest reads back the same in YAML 1.1 and 1.2.
//! - GitHub: `gh secret set NAME` reads the value from standard input when
//!   it is not a terminal and trims trailing `\r`/`\n` from it; GitHub
//!   refuses secrets over 48 KB.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::preflight::{PreflightError, Problem};
use crate::secret::{Redactor, Secret};
use crate::settings::Settings;
use crate::settings::registry::{Kind, Place, Registry, Step, Var};
use crate::tools::{Child, ChildError};

/// Where exported values go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Target {
    /// A docker `--env-file`.
    Docker,
    /// A systemd `EnvironmentFile=`.
    Systemd,
    /// A Kubernetes `Secret` manifest.
    K8s,
    /// GitHub Actions repository secrets, through `gh secret set`.
    Github,
}

impl Target {
    /// Every target, in the order `--help` lists them.
    pub const ALL: &'static [Target] =
        &[Target::Docker, Target::Systemd, Target::K8s, Target::Github];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Target::Docker => "docker",
            Target::Systemd => "systemd",
            Target::K8s => "k8s",
            Target::Github => "github",
        }
    }

    /// Parses a target name.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::ALL.iter().copied().find(|t| t.name() == name)
    }

    /// The file written when `--out` is not given (in the working
    /// directory); `None` for GitHub, which writes no file. The names match
    /// the `.env.*` pattern `env init` asks `.gitignore` to hold.
    pub fn default_out(self) -> Option<&'static str> {
        match self {
            Target::Docker => Some(".env.docker"),
            Target::Systemd => Some(".env.systemd"),
            Target::K8s => Some(".env.k8s.yaml"),
            Target::Github => None,
        }
    }
}

/// Whether only release-kit's shipping steps use `var` (TWINE_*,
/// VSCE_PAT, HF_TOKEN…): a publishing setting, which a deployment never
/// needs.
pub fn is_publishing(var: &Var) -> bool {
    var.required_for
        .iter()
        .chain(&var.optional_for)
        .all(|s| Step::SHIPPING.contains(s))
}

/// Whether `var` is in `target`'s default set: for GitHub, what lives in
/// GitHub Actions secrets; for a deployment, the secrets that live in
/// production and the plain settings of the running app.
pub fn in_default_set(target: Target, var: &Var) -> bool {
    match target {
        Target::Github => var.places.contains(&Place::GithubActions),
        _ => {
            var.places.contains(&Place::Production)
                || (!var.secret && var.places.is_empty() && !is_publishing(var))
        }
    }
}

/// The variables to export: those of `groups` when any are given, else
/// `target`'s default set; in registry order.
pub fn select<'r>(registry: &'r Registry, target: Target, groups: &[&str]) -> Vec<&'r Var> {
    registry
        .vars()
        .iter()
        .filter(|v| {
            if groups.is_empty() {
                in_default_set(target, v)
            } else {
                groups.contains(&v.group)
            }
        })
        .collect()
}

/// What one export will do, checked: the values to write, the variables
/// left out because they are not set, and warnings. Its Debug shows no
/// value.
#[derive(Debug)]
pub struct Export {
    /// Where the values go.
    pub target: Target,
    /// Name and value of every selected variable that is set explicitly
    /// (environment or `.env`), as the app reads it (`${…}` expanded).
    pub values: Vec<(&'static str, Secret)>,
    /// Selected variables left out because they are not set (defaults are
    /// the app's own, and are not exported).
    pub unset: Vec<&'static str>,
    /// Worth reading, stopping nothing (never a value).
    pub warnings: Vec<String>,
}

/// Selects and checks what `target` gets, before anything is written:
/// with `production`, the production checks of `env check --production`
/// over the selected variables (an invalid or missing required value is a
/// problem); always, every value the target's format cannot carry. Every
/// problem is reported at once.
pub fn prepare(
    settings: &Settings,
    target: Target,
    groups: &[&str],
    production: bool,
) -> Result<Export, PreflightError> {
    let selected = select(settings.registry(), target, groups);
    let mut values = Vec::new();
    let mut unset = Vec::new();
    for var in &selected {
        match settings.explicit(var.name) {
            Some(v) => values.push((var.name, v.clone())),
            None => unset.push(var.name),
        }
    }
    let mut problems: Vec<Problem> = Vec::new();
    let mut warnings = Vec::new();
    let chosen = |name: &str| selected.iter().any(|v| v.name == name);
    // The steps of the app this selection is for, among those configured
    // (as `env check` without --for); a domain's steps for its `localhost`
    // warning.
    let mut steps: Vec<Step> = settings
        .configured_steps()
        .into_iter()
        .filter(|s| selected.iter().any(|v| v.concerns(*s)))
        .collect();
    for v in selected.iter().filter(|v| v.kind == Kind::Domain) {
        for s in v.required_for.iter().chain(&v.optional_for) {
            if !steps.contains(s) {
                steps.push(*s);
            }
        }
    }
    let report = settings.check(&steps, production);
    for p in report.errors.iter().filter(|p| chosen(p.name)) {
        if production {
            problems.push(p.to_string().into());
        } else {
            warnings.push(format!(
                "{}: {} (exported anyway; --production refuses it)",
                p.name, p.message
            ));
        }
    }
    for p in report.warnings.iter().filter(|p| chosen(p.name)) {
        warnings.push(format!("{}: {}", p.name, p.message));
    }
    for (name, value) in &values {
        if let Some(why) = unrepresentable(target, name, value.expose()) {
            problems.push(why.into());
        }
    }
    if values.is_empty() && problems.is_empty() {
        problems.push(
            format!(
                "nothing to export to {}: none of {} is set; set them in .env (see `cargo xtask env status`) or choose others with --group",
                target.name(),
                selected.iter().map(|v| v.name).collect::<Vec<_>>().join(", ")
            )
            .into(),
        );
    }
    if !problems.is_empty() {
        return Err(PreflightError { problems });
    }
    Ok(Export {
        target,
        values,
        unset,
        warnings,
    })
}

/// Docker reads at most this many bytes per line (Go's
/// `bufio.MaxScanTokenSize`), newline included.
const DOCKER_MAX_LINE: usize = 64 * 1024;

/// GitHub's limit on a secret's size.
const GITHUB_MAX_SECRET: usize = 48 * 1024;

/// Why `target` cannot carry `value` for `name`, or `None` when it can.
/// The message names the variable, never the value.
pub fn unrepresentable(target: Target, name: &str, value: &str) -> Option<String> {
    match target {
        Target::Docker if value.contains(['\n', '\r']) => Some(format!(
            "{name}: the value holds a line break, which a docker --env-file cannot carry \
             (one KEY=VALUE per line, no quoting); export it --to systemd or --to k8s, or give \
             it to the container another way (a mounted secret file)"
        )),
        Target::Docker if name.len() + 1 + value.len() + 1 > DOCKER_MAX_LINE => Some(format!(
            "{name}: the value is longer than the 64 KiB line docker reads from an --env-file; \
             mount it into the container as a file instead"
        )),
        Target::Github if value.ends_with(['\n', '\r']) => Some(format!(
            "{name}: the value ends with a line break, which `gh secret set` strips from its \
             standard input; remove it from the value in .env, or set the secret in the \
             repository's Settings -> Secrets and variables -> Actions"
        )),
        Target::Github if value.len() > GITHUB_MAX_SECRET => Some(format!(
            "{name}: the value is larger than the 48 KB GitHub allows for a secret; store it \
             encrypted in the repository and keep only its passphrase as a secret"
        )),
        _ => None,
    }
}

/// The first lines of every file written: what it is and that it stays
/// private.
fn header(target: Target, comment: &str) -> String {
    format!(
        "{comment} Written by `cargo xtask env export --to {}` (mode 0600). It holds secrets:\n\
         {comment} never commit it, and delete it once it is where it belongs.\n",
        target.name()
    )
}

/// A docker `--env-file`: `KEY=VALUE` lines, values verbatim.
pub fn render_docker(values: &[(&str, &Secret)]) -> Result<Secret, PreflightError> {
    check_all(Target::Docker, values)?;
    let mut out = header(Target::Docker, "#");
    for (name, value) in values {
        out.push_str(name);
        out.push('=');
        out.push_str(value.expose());
        out.push('\n');
    }
    Ok(Secret::new(out))
}

/// A systemd `EnvironmentFile=`: `KEY="VALUE"` with `"` and `\` escaped.
pub fn render_systemd(values: &[(&str, &Secret)]) -> Secret {
    let mut out = header(Target::Systemd, "#");
    for (name, value) in values {
        out.push_str(name);
        out.push_str("=\"");
        for c in value.expose().chars() {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
        out.push_str("\"\n");
    }
    Secret::new(out)
}

/// The metadata of a Kubernetes `Secret`.
#[derive(Clone, Debug)]
pub struct K8sMeta {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace`, when given.
    pub namespace: Option<String>,
}

/// A Kubernetes `Secret` manifest (`type: Opaque`, values in `stringData`).
pub fn render_k8s(values: &[(&str, &Secret)], meta: &K8sMeta) -> Secret {
    let mut out = header(Target::K8s, "#");
    out.push_str("apiVersion: v1\nkind: Secret\nmetadata:\n");
    out.push_str(&format!("  name: {}\n", yaml_string(&meta.name)));
    if let Some(ns) = &meta.namespace {
        out.push_str(&format!("  namespace: {}\n", yaml_string(ns)));
    }
    out.push_str("type: Opaque\nstringData:\n");
    for (name, value) in values {
        out.push_str(&format!(
            "  {}: {}\n",
            yaml_string(name),
            yaml_string(value.expose())
        ));
    }
    Secret::new(out)
}

/// `s` as a YAML double-quoted scalar that is also a JSON string: `"` and
/// `\` escaped, and every character YAML does not allow raw or would fold
/// (C0 and C1 controls, DEL, U+2028/U+2029, BOM, U+FFFE/U+FFFF) written as
/// an escape.
pub fn yaml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if matches!(c as u32, 0..=0x1F | 0x7F..=0x9F | 0x2028 | 0x2029 | 0xFEFF | 0xFFFE | 0xFFFF) =>
            {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A DNS-1123 subdomain made from `name` (a project name): lower case,
/// other characters turned into `-`, at most 253 characters; `app` when
/// nothing is left.
pub fn k8s_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    out.truncate(253);
    let out = out.trim_matches(|c: char| !c.is_ascii_alphanumeric());
    if out.is_empty() {
        "app".into()
    } else {
        out.into()
    }
}

/// A name given on the command line that the target would refuse.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    /// Not a Kubernetes object name.
    #[error(
        "`{name}` is not a valid Kubernetes name: lower-case letters, digits, `-` and `.`, \
         starting and ending with a letter or digit, at most 253 characters (e.g. {suggested})"
    )]
    K8s {
        /// The name given.
        name: String,
        /// A valid name made from it.
        suggested: String,
    },
    /// Not a GitHub repository name.
    #[error("--repo `{0}`: expected OWNER/REPO (or HOST/OWNER/REPO), e.g. octo-org/octo-repo")]
    Repo(String),
}

/// Checks `name` is a valid Kubernetes object name (DNS-1123 subdomain).
pub fn check_k8s_name(name: &str) -> Result<(), NameError> {
    let ok = !name.is_empty()
        && name.len() <= 253
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
        && name
            .split('.')
            .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    if ok {
        Ok(())
    } else {
        Err(NameError::K8s {
            name: name.to_owned(),
            suggested: k8s_name(name),
        })
    }
}

fn check_all(target: Target, values: &[(&str, &Secret)]) -> Result<(), PreflightError> {
    let problems: Vec<Problem> = values
        .iter()
        .filter_map(|(n, v)| unrepresentable(target, n, v.expose()))
        .map(Problem::from)
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(PreflightError { problems })
    }
}

/// An existing file at the destination with permissions wider than 0600.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LooseMode(pub u32);

/// Checks the destination before anything is written: not a folder, its
/// folder exists, and a file already there is private (mode 0600 or
/// stricter) unless `force`. A wider mode is refused rather than silently
/// tightened: it may be deliberate (a group the service reads as), and the
/// values it held may have been read, which the operator should know.
/// Returns the mode of a file that `force` lets us replace.
pub fn check_destination(path: &Path, force: bool) -> Result<Option<LooseMode>, Problem> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !dir.is_dir() {
        return Err(Problem::new(format!(
            "--out {}: the folder {} does not exist; create it first",
            path.display(),
            dir.display()
        )));
    }
    let Ok(meta) = std::fs::symlink_metadata(path) else {
        return Ok(None);
    };
    if meta.file_type().is_symlink() {
        // Renaming over a link replaces the link, not the file it points
        // to: say so rather than leave the real file stale.
        return Err(Problem::new(format!(
            "--out {}: is a symbolic link; give the file it points to (--out \"$(readlink -f {})\")",
            path.display(),
            path.display()
        )));
    }
    if meta.is_dir() {
        return Err(Problem::new(format!(
            "--out {}: is a folder; give a file name",
            path.display()
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            if force {
                return Ok(Some(LooseMode(mode)));
            }
            return Err(Problem::new(format!(
                "{} exists with mode {mode:04o}: others on this machine may read it. It was left \
                 untouched. Re-run with --force to replace it with a mode 0600 file (and rotate \
                 what it held if others could read it: `cargo xtask env rotate VAR`), or write \
                 elsewhere with --out",
                path.display()
            )));
        }
    }
    // Windows has ACLs, not modes: the file written replaces the old one
    // and inherits its folder's ACL (see `doctor` and docs/secrets.md).
    #[cfg(not(unix))]
    let _ = force;
    Ok(None)
}

/// Writes a rendered file to `path` with mode 0600: created private in the
/// same folder, synced, then renamed over any old file, so no reader ever
/// sees a partial or a group-readable file.
pub fn write(path: &Path, text: &Secret) -> Result<(), crate::settings::userfile::WriteError> {
    let mode = crate::settings::userfile::Mode::Set(0o600);
    crate::settings::userfile::write(path, text.expose(), mode, None)?;
    Ok(())
}

/// The `gh` command line that sets secret `name` (its value goes on
/// standard input, never here).
pub fn gh_args(name: &str, repo: Option<&str>) -> Vec<String> {
    let mut args = vec!["secret".to_string(), "set".into(), name.into()];
    if let Some(repo) = repo {
        args.push("--repo".into());
        args.push(repo.into());
    }
    args
}

/// Checks a `--repo` value: `[HOST/]OWNER/REPO`, nothing gh could take for
/// a flag.
pub fn check_repo(repo: &str) -> Result<(), NameError> {
    let parts: Vec<&str> = repo.split('/').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts.iter().all(|p| {
            !p.is_empty()
                && !p.starts_with('-')
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(NameError::Repo(repo.to_owned()))
    }
}

/// The variables `gh` authenticates with; the runner drops inherited
/// secrets, so they are handed over explicitly (gh's own credential).
pub const GH_AUTH_VARS: &[&str] = &[
    "GH_TOKEN",
    "GITHUB_TOKEN",
    "GH_ENTERPRISE_TOKEN",
    "GITHUB_ENTERPRISE_TOKEN",
];

/// How to run `gh`.
#[derive(Debug)]
pub struct Gh<'a> {
    /// The `gh` program.
    pub program: &'a Path,
    /// `--repo` to pass on.
    pub repo: Option<&'a str>,
    /// `--env` to pass on: the secrets of this GitHub environment.
    pub environment: Option<&'a str>,
    /// gh's own credentials from our environment (see [`GH_AUTH_VARS`]).
    pub auth: Vec<(&'static str, Secret)>,
    /// Where gh runs (it finds the repository from there).
    pub cwd: PathBuf,
}

/// A `gh secret set` that failed; the secrets before it were set.
#[derive(Debug, thiserror::Error)]
#[error(
    "`gh secret set {name}` failed{}; fix the cause (`gh auth status`, --repo) and re-run: setting a secret again is harmless",
    if set.is_empty() { String::new() } else { format!(" after {} were set", set.join(", ")) }
)]
pub struct GhError {
    /// The secret that failed.
    pub name: String,
    /// Those set before it.
    pub set: Vec<String>,
    /// Why.
    #[source]
    pub source: ChildError,
}

/// Sets each value as a repository secret with `gh secret set NAME`, the
/// value written to gh's standard input (never in its argv or
/// environment), gh's output redacted. Stops at the first failure.
/// Returns the names set.
pub fn push_github(
    gh: &Gh<'_>,
    values: &[(&str, &Secret)],
    redactor: &Redactor,
) -> Result<Vec<String>, GhError> {
    let mut set = Vec::new();
    for (name, value) in values {
        let mut args = gh_args(name, gh.repo);
        if let Some(env) = gh.environment {
            args.extend(["--env".to_owned(), env.to_owned()]);
        }
        let mut child = Child::new(gh.program)
            .args(args)
            .current_dir(&gh.cwd)
            .env("GH_NO_UPDATE_NOTIFIER", "1")
            .env("GH_PROMPT_DISABLED", "1");
        for (k, v) in &gh.auth {
            child = child.secret_env(k, v);
        }
        let result = child
            .spawn_streaming(redactor, true)
            .and_then(|mut running| {
                if let Some(mut stdin) = running.stdin.take() {
                    // A gh that exits early closes the pipe: its exit status
                    // and stderr, from finish(), say why.
                    let _ = stdin.write_all(value.expose().as_bytes());
                }
                running.finish()
            });
        if let Err(source) = result {
            return Err(GhError {
                name: name.to_string(),
                set,
                source,
            });
        }
        set.push(name.to_string());
    }
    Ok(set)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::registry::tests::example;
    use crate::settings::status::tests::with as settings;

    /// Values that trip every quoting rule at once.
    const TRICKY: &[&str] = &[
        "plain",
        "with space",
        "  padded  ",
        "dq\"inside\"",
        "sq'inside'",
        "dollar $HOME ${X:-y} $(id) `id`",
        "hash # not a comment",
        "#leading-hash",
        "back\\slash\\",
        "\\\"",
        "a=b=c",
        "unicode: héllo ✓ 日本 🚀",
        "semi;colon|pipe&amp<>*?[",
        "tab\there",
    ];

    fn secrets(values: &[&str]) -> Vec<(String, Secret)> {
        values
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("VAR_{i}"), Secret::new(*v)))
            .collect()
    }

    fn refs(v: &[(String, Secret)]) -> Vec<(&str, &Secret)> {
        v.iter().map(|(n, s)| (n.as_str(), s)).collect()
    }

    /// docker/cli's reading of an env-file: split at the first `=`, the
    /// value verbatim.
    fn docker_read(text: &str) -> Vec<(String, String)> {
        text.lines()
            .map(|l| l.trim_start())
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
            .map(|l| {
                let (k, v) = l.split_once('=').unwrap();
                (k.to_string(), v.to_string())
            })
            .collect()
    }

    #[test]
    fn docker_values_verbatim() {
        let values = secrets(TRICKY);
        let text = render_docker(&refs(&values)).unwrap();
        let back = docker_read(text.expose());
        let want: Vec<_> = values
            .iter()
            .map(|(n, v)| (n.clone(), v.expose().to_string()))
            .collect();
        assert_eq!(back, want);
        assert!(text.expose().contains("\nVAR_1=with space\n"));
        assert!(text.expose().contains("\nVAR_3=dq\"inside\"\n"));
    }

    #[test]
    fn docker_refuses_line_breaks_and_long_lines_naming_the_variable() {
        let values = secrets(&["ok", "CANARY-multi\nline", "CANARY-cr\r"]);
        let err = render_docker(&refs(&values)).unwrap_err();
        let text = err.to_string();
        assert_eq!(err.problems.len(), 2, "{text}");
        assert!(text.contains("VAR_1") && text.contains("VAR_2") && !text.contains("VAR_0"));
        assert!(!text.contains("CANARY"), "{text}");
        let long = "x".repeat(DOCKER_MAX_LINE);
        assert!(unrepresentable(Target::Docker, "K", &long).is_some());
        assert!(unrepresentable(Target::Docker, "K", &long[..1000]).is_none());
        // systemd and k8s carry them.
        assert!(unrepresentable(Target::Systemd, "K", "a\nb").is_none());
        assert!(unrepresentable(Target::K8s, "K", "a\r\nb").is_none());
    }

    #[test]
    fn systemd_quotes_and_escapes() {
        let values = secrets(&["plain", "dq\"x", "back\\slash", "$HOME `id`", "two\nlines"]);
        let text = render_systemd(&refs(&values));
        let body: Vec<&str> = text.expose().lines().skip(2).collect();
        assert_eq!(
            body,
            [
                "VAR_0=\"plain\"",
                "VAR_1=\"dq\\\"x\"",
                "VAR_2=\"back\\\\slash\"",
                "VAR_3=\"$HOME `id`\"",
                "VAR_4=\"two",
                "lines\"",
            ]
        );
    }

    #[test]
    fn yaml_strings_are_json_strings() {
        for s in TRICKY.iter().copied().chain([
            "nul\u{1}x",
            "del\u{7f}",
            "nel\u{85}",
            "ls\u{2028}ps\u{2029}",
            "\u{feff}bom",
            "cr\r\nlf",
        ]) {
            let quoted = yaml_string(s);
            let back: String = serde_json::from_str(&quoted).unwrap();
            assert_eq!(back, s, "{quoted}");
            assert!(
                !quoted.contains(['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}', '\u{feff}']),
                "{quoted}"
            );
        }
        assert_eq!(yaml_string("a\"b\\c"), r#""a\"b\\c""#);
        assert_eq!(yaml_string("\u{85}"), r#""\u0085""#);
    }

    #[test]
    fn k8s_manifest_shape() {
        let values = secrets(&["v: 1", "yes"]);
        let meta = K8sMeta {
            name: "my-app-env".into(),
            namespace: Some("prod".into()),
        };
        let text = render_k8s(&refs(&values), &meta);
        let body: Vec<&str> = text
            .expose()
            .lines()
            .filter(|l| !l.starts_with('#'))
            .collect();
        assert_eq!(
            body,
            [
                "apiVersion: v1",
                "kind: Secret",
                "metadata:",
                "  name: \"my-app-env\"",
                "  namespace: \"prod\"",
                "type: Opaque",
                "stringData:",
                "  \"VAR_0\": \"v: 1\"",
                "  \"VAR_1\": \"yes\"",
            ]
        );
    }

    #[test]
    fn k8s_names() {
        assert_eq!(k8s_name("Mult_Agentes-env"), "mult-agentes-env");
        assert_eq!(k8s_name("__"), "app");
        assert!(check_k8s_name("mult-agentes-env").is_ok());
        assert!(check_k8s_name("a.b-c").is_ok());
        for bad in [
            "",
            "Upper",
            "-lead",
            "trail-",
            "a..b",
            "sp ace",
            &"a".repeat(254),
        ] {
            assert!(check_k8s_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn github_refuses_what_gh_would_trim() {
        assert!(unrepresentable(Target::Github, "K", "value\n").is_some());
        assert!(unrepresentable(Target::Github, "K", "value\r").is_some());
        assert!(unrepresentable(Target::Github, "K", "in\nside").is_none());
        assert!(unrepresentable(Target::Github, "K", &"x".repeat(49 * 1024)).is_some());
        assert_eq!(
            gh_args("HF_TOKEN", Some("o/r")),
            ["secret", "set", "HF_TOKEN", "--repo", "o/r"]
        );
        assert!(check_repo("octo-org/octo.repo").is_ok());
        assert!(check_repo("github.example.com/o/r").is_ok());
        for bad in ["o", "o/", "/r", "-o/r", "o/r/x/y", "o r/x"] {
            assert!(check_repo(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn default_sets_follow_places() {
        let reg = example();
        let names = |t| {
            select(&reg, t, &[])
                .iter()
                .map(|v| v.name)
                .collect::<Vec<_>>()
        };
        let deploy = names(Target::Docker);
        let ci = names(Target::Github);
        for publishing in [
            "TWINE_USERNAME",
            "TWINE_PASSWORD",
            "TWINE_PASSWORD_TEST",
            "VSCE_PAT",
            "OVSX_PAT",
            "HF_TOKEN",
        ] {
            assert!(!deploy.contains(&publishing), "{publishing}");
        }
        for needed in [
            "AUDIT_HMAC_KEY",
            "DASHBOARD_API_KEY",
            "REDIS_URL",
            "FRAMEWORK_DIR",
            "S3_AUDIT_BUCKET",
            "ORG_DOMAIN",
            "ANTHROPIC_API_KEY",
        ] {
            assert!(deploy.contains(&needed), "{needed}");
        }
        for v in example().vars() {
            // A secret reaches a deployment only when the registry says
            // it lives there.
            if v.secret && deploy.contains(&v.name) {
                assert!(v.places.contains(&Place::Production), "{}", v.name);
            }
            assert_eq!(
                ci.contains(&v.name),
                v.places.contains(&Place::GithubActions)
            );
        }
        assert_eq!(names(Target::Systemd), deploy);
        assert_eq!(names(Target::K8s), deploy);
    }

    #[test]
    fn select_by_group() {
        let reg = example();
        let sel = select(&reg, Target::Github, &["Dashboard"]);
        assert!(sel.iter().all(|v| v.group == "Dashboard") && !sel.is_empty());
    }

    #[test]
    fn prepare_exports_only_set_values_and_checks_production() {
        let key = "ab".repeat(32);
        let s = settings(&[
            ("AUDIT_HMAC_KEY", &key),
            ("REDIS_URL", "redis://:CANARYpw@localhost:6379/0"),
            ("TWINE_PASSWORD", "pypi-CANARY"),
        ]);
        let e = prepare(&s, Target::Docker, &[], true).unwrap();
        let names: Vec<_> = e.values.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, ["AUDIT_HMAC_KEY", "REDIS_URL"]);
        assert!(e.unset.contains(&"DASHBOARD_API_KEY") && e.unset.contains(&"FRAMEWORK_DIR"));
        assert!(!format!("{e:?}").contains("CANARY"));
        // The dev default is refused in production; the error names the
        // variable and the fix, never a value.
        let s = settings(&[("REDIS_URL", "redis://:CANARYpw@localhost:6379/0")]);
        let err = prepare(&s, Target::K8s, &[], true).unwrap_err().to_string();
        assert!(
            err.contains("AUDIT_HMAC_KEY") && err.contains("gen-key"),
            "{err}"
        );
        assert!(!err.contains("CANARY"));
        // Without --production the same export goes ahead.
        assert!(prepare(&s, Target::K8s, &[], false).is_ok());
        // Invalid and unrepresentable values are reported together.
        let s = settings(&[
            ("AUDIT_HMAC_KEY", &key),
            ("ANTHROPIC_API_KEY", "CANARY\nnot-a-key"),
        ]);
        let err = prepare(&s, Target::Docker, &[], true).unwrap_err();
        assert_eq!(err.problems.len(), 2, "{err}");
        assert!(!err.to_string().contains("CANARY"));
        // Nothing set: nothing to write.
        let err = prepare(&settings(&[]), Target::Github, &[], false).unwrap_err();
        assert!(err.to_string().contains("nothing to export"), "{err}");
    }

    #[test]
    fn destination_with_wider_mode_is_refused_unless_forced() {
        let tmp = tempfile::tempdir().unwrap();
        let p = tmp.path().join("out.env");
        assert_eq!(check_destination(&p, false), Ok(None));
        write(&p, &Secret::new("A=1\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert_eq!(check_destination(&p, false), Ok(None));
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o644)).unwrap();
            let err = check_destination(&p, false).unwrap_err();
            assert!(err.message.contains("0644") && err.message.contains("--force"));
            assert_eq!(check_destination(&p, true), Ok(Some(LooseMode(0o644))));
            write(&p, &Secret::new("A=2\n")).unwrap();
            assert_eq!(
                std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        assert!(check_destination(tmp.path(), false).is_err());
        #[cfg(unix)]
        {
            let link = tmp.path().join("link.env");
            std::os::unix::fs::symlink(&p, &link).unwrap();
            assert!(
                check_destination(&link, true)
                    .unwrap_err()
                    .message
                    .contains("symbolic link")
            );
        }
        assert!(check_destination(&tmp.path().join("no/such/dir/f"), false).is_err());
    }
}
