//! Locating external tools and running them with secrets kept safe.
//!
//! A secret reaches a child only through its environment ([`Child::secret_env`]);
//! the child's stdin is closed (so no tool can prompt for a token, and vsce
//! cannot answer its own prompt with `y`), and everything it prints passes
//! through the [`Redactor`] before it reaches our output or an error.

use std::ffi::OsString;
use std::io::{BufRead as _, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::secret::{Redactor, Secret};

/// Nanoseconds spent waiting for children, process-wide.
static IN_CHILDREN: AtomicU64 = AtomicU64::new(0);

/// Wall time spent in external tools so far (for "our code vs the tools").
pub fn time_in_tools() -> Duration {
    Duration::from_nanos(IN_CHILDREN.load(Ordering::Relaxed))
}

/// Where to send a child's output lines while it runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Echo {
    /// Capture only.
    Quiet,
    /// Capture and copy each (redacted) line to our stderr.
    Stderr,
}

/// A command to run: program, arguments (never secrets), environment.
pub struct Child {
    program: PathBuf,
    args: Vec<OsString>,
    env: Vec<(String, EnvValue)>,
    env_remove: Vec<String>,
    cwd: Option<PathBuf>,
    echo: Echo,
}

enum EnvValue {
    Plain(OsString),
    Secret(Secret),
}

/// Why a child could not be run (a non-zero exit is not an error: callers
/// map it to a cause).
#[derive(Debug, thiserror::Error)]
pub enum ChildError {
    /// The program could not be started.
    #[error("cannot start `{command}`; is it installed? (cargo xtask doctor)")]
    Start {
        /// The command line, redacted.
        command: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Waiting for it failed.
    #[error("waiting for a child process")]
    Wait(#[source] std::io::Error),
    /// A streamed child exited non-zero.
    #[error("`{command}` failed ({status}): {tail}")]
    Failed {
        /// The command line, redacted.
        command: String,
        /// Its exit status.
        status: ExitStatus,
        /// The last lines of its stderr, redacted.
        tail: String,
    },
    /// Its output could not be read whole: what it printed is not known.
    #[error("cannot read the output of `{command}`")]
    Output {
        /// The command line, redacted.
        command: String,
        /// Why (a read error, or the reader stopping).
        #[source]
        source: std::io::Error,
    },
}

/// What a finished child left behind, already redacted.
#[derive(Debug)]
pub struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output, redacted.
    pub stdout: String,
    /// Standard error, redacted.
    pub stderr: String,
}

impl Output {
    /// stdout and stderr together, for matching error messages.
    pub fn combined(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl Child {
    /// A command running `program`.
    pub fn new(program: impl Into<PathBuf>) -> Child {
        Child {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            env_remove: Vec::new(),
            cwd: None,
            echo: Echo::Quiet,
        }
    }

    /// Adds an argument. Never pass a secret here: argv is visible to every
    /// user of the machine (`ps`, /proc) and ends up in error messages.
    pub fn arg(mut self, arg: impl Into<OsString>) -> Child {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<OsString>>(mut self, args: I) -> Child {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets a non-secret environment variable.
    pub fn env(mut self, key: &str, value: impl Into<OsString>) -> Child {
        self.env.push((key.into(), EnvValue::Plain(value.into())));
        self
    }

    /// Sets a secret environment variable: the only way a secret reaches a child.
    pub fn secret_env(mut self, key: &str, value: &Secret) -> Child {
        self.env.push((key.into(), EnvValue::Secret(value.clone())));
        self
    }

    /// Removes a variable the child would otherwise inherit.
    pub fn env_remove(mut self, key: &str) -> Child {
        self.env_remove.push(key.into());
        self
    }

    /// The variables removed from the child's environment, for tests.
    pub fn env_removed(&self) -> &[String] {
        &self.env_remove
    }

    /// Runs in `dir`.
    pub fn current_dir(mut self, dir: impl Into<PathBuf>) -> Child {
        self.cwd = Some(dir.into());
        self
    }

    /// Copies output lines to stderr as they come.
    pub fn echo(mut self, echo: Echo) -> Child {
        self.echo = echo;
        self
    }

    /// The command line for messages: program and arguments, redacted.
    pub fn display(&self, redactor: &Redactor) -> String {
        let mut s = self.program.display().to_string();
        for a in &self.args {
            s.push(' ');
            s.push_str(&a.to_string_lossy());
        }
        redactor.redact(&s)
    }

    /// The arguments, for tests that assert no secret is in argv.
    pub fn argv(&self) -> Vec<String> {
        std::iter::once(self.program.display().to_string())
            .chain(self.args.iter().map(|a| a.to_string_lossy().into_owned()))
            .collect()
    }

    /// The process to start: stdin closed, and an environment without the
    /// secrets this process inherited (registry secrets, names that look
    /// secret, the GitHub ID-token request variables): a build backend, an
    /// npm script or a package's import must not see TWINE_PASSWORD or
    /// HF_TOKEN. Only what [`Child::secret_env`] adds gets through.
    fn command(&self) -> Command {
        let mut cmd = Command::new(&self.program);
        cmd.args(&self.args).stdin(Stdio::null());
        for key in inherited_secrets() {
            cmd.env_remove(key);
        }
        for k in &self.env_remove {
            cmd.env_remove(k);
        }
        for (k, v) in &self.env {
            match v {
                EnvValue::Plain(p) => cmd.env(k, p),
                EnvValue::Secret(s) => cmd.env(k, s.expose()),
            };
        }
        if let Some(dir) = &self.cwd {
            cmd.current_dir(dir);
        }
        cmd
    }

    /// Runs to completion; output is redacted with `redactor`. A non-zero
    /// exit is not an error here: callers map it to a cause.
    pub fn run(&self, redactor: &Redactor) -> Result<Output, ChildError> {
        let mut cmd = self.command();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().map_err(|source| ChildError::Start {
            command: self.display(redactor),
            source,
        })?;
        let out = child.stdout.take().expect("piped");
        let err = child.stderr.take().expect("piped");
        let echo = self.echo;
        let (r1, r2) = (redactor.clone(), redactor.clone());
        let t_out = std::thread::spawn(move || pump(out, &r1, echo));
        let t_err = std::thread::spawn(move || pump(err, &r2, echo));
        let status = child.wait().map_err(ChildError::Wait)?;
        let output_error = |source| ChildError::Output {
            command: self.display(redactor),
            source,
        };
        let stdout = joined(t_out).map_err(output_error)?;
        let stderr = joined(t_err).map_err(output_error)?;
        IN_CHILDREN.fetch_add(started.elapsed().as_nanos() as u64, Ordering::Relaxed);
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }
}

impl Child {
    /// Starts the command in the background (a server), its output going to
    /// `log`. Secrets still reach it only through its environment.
    pub fn spawn_background(&self, log: std::fs::File) -> std::io::Result<std::process::Child> {
        let mut cmd = self.command();
        cmd.stdout(log.try_clone()?).stderr(log);
        cmd.spawn()
    }
}

/// The variables of our own environment that children must not see.
fn inherited_secrets() -> impl Iterator<Item = String> {
    std::env::vars_os()
        .filter_map(|(key, _)| key.into_string().ok())
        .filter(|key| is_inherited_secret(key))
}

/// A running child whose output is read as it comes (`git cat-file
/// --batch`): stdout (and stdin when asked for) are pipes, stderr is
/// collected, redacted, for the error message.
pub struct Streaming {
    child: std::process::Child,
    /// The child's stdin, when it was asked for; drop it to send EOF.
    pub stdin: Option<std::process::ChildStdin>,
    /// The child's stdout.
    pub stdout: BufReader<std::process::ChildStdout>,
    stderr: std::thread::JoinHandle<std::io::Result<String>>,
    display: String,
}

impl Child {
    /// Starts the command with stdout piped (and stdin piped when `stdin`),
    /// for a caller that streams through it; see [`Streaming::finish`].
    pub fn spawn_streaming(
        &self,
        redactor: &Redactor,
        stdin: bool,
    ) -> Result<Streaming, ChildError> {
        let mut cmd = self.command();
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        if stdin {
            cmd.stdin(Stdio::piped());
        }
        let display = self.display(redactor);
        let mut child = cmd.spawn().map_err(|source| ChildError::Start {
            command: display.clone(),
            source,
        })?;
        let err = child.stderr.take().expect("piped");
        let r = redactor.clone();
        let stderr = std::thread::spawn(move || pump(err, &r, Echo::Quiet));
        Ok(Streaming {
            stdin: child.stdin.take(),
            stdout: BufReader::with_capacity(1 << 16, child.stdout.take().expect("piped")),
            child,
            stderr,
            display,
        })
    }
}

impl Streaming {
    /// Waits for the child; an error names the command and the last lines
    /// of its stderr.
    pub fn finish(mut self) -> Result<(), ChildError> {
        drop(self.stdin.take());
        // Whatever the caller left unread, so that the child is not blocked
        // on a full pipe while we wait for it.
        let _ = std::io::copy(&mut self.stdout, &mut std::io::sink());
        let status = self.child.wait().map_err(ChildError::Wait)?;
        let stderr = joined(self.stderr).map_err(|source| ChildError::Output {
            command: self.display.clone(),
            source,
        })?;
        if status.success() {
            return Ok(());
        }
        Err(ChildError::Failed {
            command: self.display,
            status,
            tail: tail(&stderr, 5),
        })
    }
}

/// Whether a variable of our own environment is kept from children.
pub fn is_inherited_secret(name: &str) -> bool {
    crate::settings::registry::is_known_secret(name)
        || crate::settings::looks_secret(name)
        || name.starts_with("ACTIONS_ID_TOKEN_REQUEST_")
}

/// The last `n` non-blank lines of `text` (for error messages).
pub fn tail(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Reads a stream line by line, redacting each line. A read error is
/// returned, never taken for the end of the output.
fn pump(stream: impl Read, redactor: &Redactor, echo: Echo) -> std::io::Result<String> {
    let mut reader = BufReader::new(stream);
    let mut all = String::new();
    let mut buf = Vec::new();
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(all);
        }
        let line = redactor.redact_bytes(&buf);
        if echo == Echo::Stderr {
            eprint!("  | {line}");
            if !line.ends_with('\n') {
                eprintln!();
            }
        }
        all.push_str(&line);
    }
}

/// What a [`pump`] thread read; a thread that panicked is an error (its
/// output is lost), not an empty output.
fn joined(handle: std::thread::JoinHandle<std::io::Result<String>>) -> std::io::Result<String> {
    handle.join().unwrap_or_else(|_| {
        Err(std::io::Error::other(
            "the thread reading it stopped (panicked)",
        ))
    })
}

/// An external tool.
#[derive(Clone, Debug, Serialize)]
pub struct ToolReport {
    /// Its name.
    pub name: String,
    /// Where it was found.
    pub path: Option<PathBuf>,
    /// Its version line.
    pub version: Option<String>,
    /// Which steps use it.
    pub used_by: String,
    /// How to get it when missing.
    pub install: String,
}

/// A tool looked up on PATH.
pub fn probe(name: &str, version_args: &[&str], used_by: &str, install: &str) -> ToolReport {
    let path = find_on_path(name);
    let version = path.as_deref().and_then(|p| version_of(p, version_args));
    ToolReport {
        name: name.into(),
        path,
        version,
        used_by: used_by.into(),
        install: install.into(),
    }
}

/// Finds `name` on PATH.
pub fn find_on_path(name: &str) -> Option<PathBuf> {
    which::which(name).ok()
}

/// A shell for commands run once with their output captured (tool
/// versions, git queries). Streaming runs with secrets go through
/// [`Child`] instead.
///
/// xshell's traps (PROTOCOLS.md): never `{:?}` a `Shell` or `Cmd` (their
/// Debug shows env values), and its errors quote the whole argv: no secret
/// may ever be in a `cmd!` argv, and none is (only paths, flags, names).
pub fn shell() -> Option<xshell::Shell> {
    xshell::Shell::new().ok()
}

/// A captured command, made quiet (no `$ cmd` echo on stderr) and given
/// the same scrubbed environment as a [`Child`]: no inherited secret.
pub fn captured(cmd: xshell::Cmd<'_>) -> xshell::Cmd<'_> {
    inherited_secrets().fold(cmd.quiet(), |cmd, key| cmd.env_remove(key))
}

/// The first line of `program --version` (or other args), if it runs.
pub fn version_of(program: &Path, args: &[&str]) -> Option<String> {
    let sh = shell()?;
    let out = captured(xshell::cmd!(sh, "{program} {args...}"))
        .ignore_status()
        .output()
        .ok()?;
    let text = if out.stdout.is_empty() {
        out.stderr
    } else {
        out.stdout
    };
    String::from_utf8_lossy(&text)
        .lines()
        .find(|l| !l.trim().is_empty())
        .map(|l| l.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_only_in_env_and_output_redacted() {
        let secret = Secret::new("CANARY-tools-9f8e7d");
        let mut r = Redactor::new();
        r.add(&secret);
        let child = Child::new("sh")
            .arg("-c")
            .arg("echo out:$TOKEN; echo err:$TOKEN >&2")
            .secret_env("TOKEN", &secret);
        assert!(child.argv().iter().all(|a| !a.contains("CANARY")));
        let out = child.run(&r).unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout.trim(), "out:********");
        assert_eq!(out.stderr.trim(), "err:********");
    }

    #[test]
    fn inherited_secrets_are_not_passed_on() {
        assert!(is_inherited_secret("TWINE_PASSWORD"));
        assert!(is_inherited_secret("ACTIONS_ID_TOKEN_REQUEST_TOKEN"));
        assert!(is_inherited_secret("NPM_TOKEN"));
        assert!(!is_inherited_secret("TWINE_USERNAME"));
        assert!(!is_inherited_secret("PATH"));
        // The test process itself may lack these; the child must lack them
        // whatever the parent has, unless given explicitly.
        let out = Child::new("sh")
            .arg("-c")
            .arg("echo ${HF_TOKEN:-none} ${VSCE_PAT:-given}")
            .secret_env("VSCE_PAT", &Secret::new("explicit-value"))
            .run(&Redactor::new())
            .unwrap();
        assert_eq!(out.stdout.trim(), "none explicit-value");
    }

    #[test]
    fn captured_commands_get_no_inherited_secret() {
        // SAFETY: no other thread of this test reads the variable.
        unsafe { std::env::set_var("RK_TEST_CAPTURED_TOKEN", "CANARY-captured-1") };
        let sh = shell().unwrap();
        let script = "echo ${RK_TEST_CAPTURED_TOKEN:-none}";
        let out = captured(xshell::cmd!(sh, "sh -c {script}")).read().unwrap();
        assert_eq!(out, "none");
        assert_eq!(
            version_of(Path::new("sh"), &["-c", "echo v1.2 >&2"]).as_deref(),
            Some("v1.2")
        );
    }

    #[test]
    fn stdin_is_closed() {
        let out = Child::new("sh")
            .arg("-c")
            .arg("read x || echo eof")
            .run(&Redactor::new())
            .unwrap();
        // The status and stderr say why, should the output ever be wrong.
        assert_eq!(out.stdout.trim(), "eof", "{:?}: {}", out.status, out.stderr);
        assert!(out.status.success(), "{:?}: {}", out.status, out.stderr);
    }

    #[test]
    fn missing_program_says_what_to_do() {
        let err = Child::new("/nonexistent/tool-xyz")
            .run(&Redactor::new())
            .unwrap_err();
        assert!(format!("{err:#}").contains("cargo xtask doctor"));
    }

    /// A reader that fails after its first line.
    struct Failing(bool);
    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if std::mem::replace(&mut self.0, true) {
                return Err(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
            }
            buf[..5].copy_from_slice(b"one\nt");
            Ok(5)
        }
    }

    #[test]
    fn a_read_error_or_a_stopped_reader_is_an_error_not_empty_output() {
        let err = pump(Failing(false), &Redactor::new(), Echo::Quiet).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
        let stopped = std::thread::spawn(|| -> std::io::Result<String> { panic!("reader bug") });
        let err = joined(stopped).unwrap_err();
        assert!(err.to_string().contains("panicked"), "{err}");
        let ok = std::thread::spawn(|| pump(&b"a\nb"[..], &Redactor::new(), Echo::Quiet));
        assert_eq!(joined(ok).unwrap(), "a\nb");
    }
}
