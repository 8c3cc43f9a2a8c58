//! Running `twine upload`: the password only through twine's environment,
//! never prompting, output redacted, and its failures mapped to causes the
//! caller can act on (retry, or explain).

use super::package::DistFile;
use super::venv::Tools;
use crate::secret::{Redactor, Secret};
use crate::tools::{Child, Echo, tail};

/// One twine run.
pub struct Upload<'a> {
    /// The tools.
    pub tools: &'a Tools,
    /// The upload endpoint (`https://upload.pypi.org/legacy/`).
    pub url: &'a str,
    /// TWINE_USERNAME.
    pub username: &'a str,
    /// TWINE_PASSWORD, and the variable it came from (for messages).
    pub password: &'a Secret,
    /// Where the password came from: `TWINE_PASSWORD_TEST`, or "trusted publishing".
    pub password_origin: &'a str,
    /// Files to upload.
    pub files: &'a [&'a DistFile],
}

/// Why an upload failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum UploadError {
    /// Worth another try: no connection, 5xx after twine's own retries, 429.
    #[error("{detail}")]
    Transient {
        /// The HTTP status, when there was one.
        status: Option<u16>,
        /// What twine said.
        detail: String,
    },
    /// The credentials were refused.
    #[error("{}", refused_message(*status, reason, origin, login))]
    Refused {
        /// 401 or 403.
        status: u16,
        /// The index's reason phrase.
        reason: String,
        /// The variable.
        origin: String,
        /// Who logged in.
        login: Login,
    },
    /// The index refused the file itself (400, 409).
    #[error("the index refused the upload ({status}): {reason}")]
    Rejected {
        /// The status.
        status: u16,
        /// The index's message (PyPI puts it in the reason).
        reason: String,
    },
    /// Anything else twine reported.
    #[error("twine upload failed:\n{output}")]
    Other {
        /// twine's last lines, redacted.
        output: String,
    },
}

/// How twine logged in: the advice for a refusal differs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Login {
    /// `__token__` and an API token.
    Token,
    /// An account's user name (TWINE_USERNAME) and password.
    Account(String),
}

impl Login {
    /// The login of `username`.
    pub fn of(username: &str) -> Login {
        if username == "__token__" {
            Login::Token
        } else {
            Login::Account(username.to_owned())
        }
    }
}

fn refused_message(status: u16, reason: &str, origin: &str, login: &Login) -> String {
    let head = format!("the index refused the credentials ({status} {reason})");
    match login {
        Login::Token => format!(
            "{head}: the token in {origin} is wrong, expired or revoked, not allowed to upload \
             this project, or made for another index. Make a token on the index you upload to, \
             scoped to this project, and put it in {origin}"
        ),
        Login::Account(user) => format!(
            "{head} for the account `{user}` (TWINE_USERNAME): the password in {origin} is wrong, \
             or the account has no permission to upload to this index. Check the password, and \
             ask the index's owner to give `{user}` upload permission on it"
        ),
    }
}

impl UploadError {
    /// True when another attempt may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, UploadError::Transient { .. })
    }
}

impl Upload<'_> {
    /// The twine command. Holds no secret in its arguments: the password is
    /// in its environment only.
    pub fn child(&self, echo: Echo) -> Child {
        // twine's output always goes through a pipe and the redactor, never
        // straight to a terminal: a progress bar would only garble it.
        self.tools
            .twine()
            .args(["upload", "--non-interactive", "--disable-progress-bar"])
            .args(["--repository-url", self.url])
            .args(self.files.iter().map(|f| f.path.as_os_str()))
            .env("TWINE_USERNAME", self.username)
            .secret_env("TWINE_PASSWORD", self.password)
            .env("TWINE_NON_INTERACTIVE", "1")
            // Our choice of index wins over a stray configuration.
            .env_remove("TWINE_REPOSITORY")
            .env_remove("TWINE_REPOSITORY_URL")
            .env_remove("TWINE_CERT")
            // keyring could prompt or read another credential: off.
            .env("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
            .echo(echo)
    }

    /// Runs twine once.
    pub fn run(&self, redactor: &Redactor, echo: Echo) -> Result<String, UploadError> {
        let out = self
            .child(echo)
            .run(redactor)
            .map_err(|e| UploadError::Other {
                output: redactor.redact(&format!("{e:#}")),
            })?;
        let text = out.combined();
        if out.status.success() {
            return Ok(text);
        }
        Err(classify(
            &text,
            self.password_origin,
            Login::of(self.username),
        ))
    }
}

/// Maps twine's failure output to a cause.
pub fn classify(output: &str, origin: &str, login: Login) -> UploadError {
    if let Some((status, reason)) = http_error(output) {
        return match status {
            401 | 403 => UploadError::Refused {
                status,
                reason,
                origin: origin.to_owned(),
                login,
            },
            429 | 500..=599 => UploadError::Transient {
                status: Some(status),
                detail: format!("the index answered {status} {reason}"),
            },
            _ => UploadError::Rejected { status, reason },
        };
    }
    const CONNECTION: &[&str] = &[
        "ConnectionError",
        "Connection refused",
        "Connection aborted",
        "Connection reset",
        "Max retries exceeded",
        "Failed to establish a new connection",
        "Read timed out",
        "RemoteDisconnected",
        "Temporary failure in name resolution",
    ];
    if let Some(m) = CONNECTION.iter().find(|m| output.contains(*m)) {
        return UploadError::Transient {
            status: None,
            detail: format!("no answer from the index ({m})"),
        };
    }
    UploadError::Other {
        output: tail(output, 15),
    }
}

/// `HTTPError: 403 Forbidden from URL` plus the indented lines after it
/// (twine prints the reason there; PyPI's message is in the reason).
fn http_error(output: &str) -> Option<(u16, String)> {
    let mut lines = output.lines();
    while let Some(line) = lines.next() {
        let Some(rest) = line.split_once("HTTPError: ").map(|(_, r)| r) else {
            continue;
        };
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status = code.trim().parse::<u16>().ok()?;
        let mut reason = reason
            .rsplit_once(" from ")
            .map(|(r, _)| r)
            .unwrap_or(reason)
            .trim()
            .to_owned();
        let more: Vec<&str> = lines
            .by_ref()
            .take_while(|l| l.starts_with(' ') && !l.trim().is_empty())
            .map(str::trim)
            .collect();
        if !more.is_empty() {
            let more = more.join(" ");
            if !reason.contains(&more) {
                reason = format!("{reason}: {more}");
            }
        }
        return Some((status, reason));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_never_in_argv() {
        use super::super::package::Kind;
        use super::super::venv::{Source, Tools};
        let tools = Tools {
            python: "/usr/bin/python3".into(),
            twine_exe: None,
            source: Source::Path,
        };
        let password = Secret::new("pypi-CANARY-argv-7c1d");
        let file = DistFile {
            path: "/d/x-1.tar.gz".into(),
            name: "x-1.tar.gz".into(),
            kind: Kind::Sdist,
            version: "1".into(),
            size: 1,
            sha256: "0".repeat(64),
        };
        let up = Upload {
            tools: &tools,
            url: "http://127.0.0.1:1/",
            username: "__token__",
            password: &password,
            password_origin: "TWINE_PASSWORD",
            files: &[&file],
        };
        let argv = up.child(Echo::Quiet).argv();
        assert!(argv.iter().all(|a| !a.contains("CANARY")), "{argv:?}");
        assert!(argv.contains(&"--non-interactive".to_string()));
        let mut r = Redactor::new();
        r.add(&password);
        assert!(!up.child(Echo::Quiet).display(&r).contains("CANARY"));
    }

    #[test]
    fn maps_twine_errors() {
        let out = "Uploading mult_agentes-0.1.0-py3-none-any.whl\n\
                   WARNING  Error during upload. Retry with the --verbose option for more details.\n\
                   ERROR    HTTPError: 403 Forbidden from http://127.0.0.1:4000/\n         Forbidden\n";
        let e = classify(out, "TWINE_PASSWORD", Login::Token);
        assert_eq!(
            e,
            UploadError::Refused {
                status: 403,
                reason: "Forbidden".into(),
                origin: "TWINE_PASSWORD".into(),
                login: Login::Token,
            }
        );
        assert!(e.to_string().contains("TWINE_PASSWORD"));
        let out = "ERROR    HTTPError: 400 Bad Request from https://test.pypi.org/legacy/\n         \
                   File already exists ('x-1.whl', with blake2_256 hash 'ab'). See https://test.pypi.org/help/#file-name-reuse\n";
        match classify(out, "X", Login::Token) {
            UploadError::Rejected {
                status: 400,
                reason,
            } => {
                assert!(reason.contains("File already exists"), "{reason}")
            }
            other => panic!("{other:?}"),
        }
        assert!(
            classify(
                "ERROR    HTTPError: 503 Service Unavailable from u\n",
                "X",
                Login::Token
            )
            .is_transient()
        );
        assert!(
            classify(
                "ERROR    HTTPError: 429 Too Many Requests from u\n",
                "X",
                Login::Token
            )
            .is_transient()
        );
        assert!(
            classify(
                "ERROR    ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max retries exceeded",
                "X",
                Login::Token
            )
            .is_transient()
        );
        assert!(matches!(
            classify("InvalidDistribution: bad", "X", Login::Token),
            UploadError::Other { .. }
        ));
    }

    #[test]
    fn a_refusal_speaks_of_what_logged_in() {
        let out = "ERROR    HTTPError: 401 Unauthorized from http://127.0.0.1:4000/alice/dev/\n         Unauthorized\n";
        let token = classify(out, "TWINE_PASSWORD", Login::of("__token__")).to_string();
        assert!(
            token.contains("token in TWINE_PASSWORD") && token.contains("scoped"),
            "{token}"
        );
        assert!(!token.contains("account"), "{token}");
        let account = classify(out, "TWINE_PASSWORD", Login::of("alice")).to_string();
        assert!(account.contains("401 Unauthorized"), "{account}");
        assert!(
            account.contains("account `alice`") && account.contains("upload permission"),
            "{account}"
        );
        assert!(!account.contains("token"), "{account}");
    }
}
