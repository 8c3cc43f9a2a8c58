//! What every command shares: global flags, the project, the settings, and
//! the one place errors are turned into messages and exit codes.

use std::cell::OnceCell;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Args;
use release_kit::config::{self, Project, TokenIndex};
use release_kit::preflight::PreflightError;
use release_kit::secret::Redactor;
use release_kit::settings::{EnvFileChoice, EnvFileError, LoadOptions, Registry, Settings};
use release_kit::step::{CommandError, Context, Outcome, Plan, Step, StepError};

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Print machine-readable JSON on stdout instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// Print only errors.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: child tools' output as it comes.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Read this file instead of looking for `.env` from the working
    /// directory up to the filesystem root.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        conflicts_with = "no_env_file"
    )]
    pub env_file: Option<PathBuf>,
    /// Do not read any `.env` file: only the process environment.
    #[arg(long, global = true)]
    pub no_env_file: bool,
    /// The project root (default: the nearest folder at or above the
    /// working directory holding release-kit.toml; `cargo xtask init`
    /// writes one).
    #[arg(long, global = true, value_name = "DIR")]
    pub root: Option<PathBuf>,
}

/// The context of one command.
pub struct Ctx {
    pub global: GlobalArgs,
    pub cwd: PathBuf,
    settings: OnceCell<Settings>,
    /// The secret-shaped command-line arguments ([`argument_secrets`]).
    arguments: Redactor,
    /// `arguments` plus the loaded secrets, once settings load.
    redactor: OnceCell<Redactor>,
}

impl Ctx {
    pub fn new(global: GlobalArgs) -> Ctx {
        let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
        let arguments = argument_secrets(std::env::args_os().skip(1));
        release_kit::secret::register_process_redactor(&arguments);
        Ctx {
            global,
            cwd,
            settings: OnceCell::new(),
            arguments,
            redactor: OnceCell::new(),
        }
    }

    fn load_options(&self) -> LoadOptions {
        LoadOptions {
            start_dir: self.cwd.clone(),
            env_file: match (&self.global.env_file, self.global.no_env_file) {
                (_, true) => EnvFileChoice::None,
                (Some(p), _) => EnvFileChoice::Path(p.clone()),
                (None, false) => EnvFileChoice::Discover,
            },
            environment: None,
        }
    }

    /// The settings, loaded on first use; a bad `.env` is a preflight error.
    pub fn settings(&self) -> Result<&Settings, PreflightError> {
        if let Some(s) = self.settings.get() {
            return Ok(s);
        }
        let mut loaded = self.load_settings()?;
        // The packages being published, so that a PyPI token scoped to
        // other projects is caught wherever the token is checked.
        if let Ok(project) = self.project() {
            let mut ignored = release_kit::preflight::Preflight::new();
            for package in release_kit::pypi::package::packages(&project, &mut ignored) {
                let token = |i| project.token_var(&package.dir, i).to_owned();
                let (pypi, test) = (token(TokenIndex::Pypi), token(TokenIndex::TestPypi));
                loaded.set_package(package.name, &pypi, &test);
            }
        }
        // Before anything is printed: the panic hook and every message
        // mask the loaded secrets, a URL's password alone and the
        // secret-shaped arguments.
        let mut redactor = self.arguments.clone();
        redactor.merge(loaded.redactor());
        for live in release_kit::scan::live::from_settings(&loaded) {
            redactor.add(&live.value);
        }
        release_kit::secret::register_process_redactor(&redactor);
        let redactor = self.redactor.get_or_init(|| redactor);
        for w in loaded.warnings() {
            eprintln!("warning: {}", redactor.redact(w));
        }
        // Masks go out before anything could print a secret, whatever the
        // command.
        release_kit::step::register_masks(self, self.actions().as_ref(), loaded.redactor());
        Ok(self.settings.get_or_init(|| loaded))
    }

    /// Settings with the project's variables (in a project) or the
    /// publishing credentials (outside one). A release-kit.toml that
    /// cannot be read is an error here too (which variables exist is not
    /// known), reported with a bad `.env` at once.
    fn load_settings(&self) -> Result<Settings, PreflightError> {
        let env_error = |e: EnvFileError| PreflightError::one(e.to_string());
        match self.registry() {
            Ok(registry) => Settings::load_for(&self.load_options(), registry).map_err(env_error),
            Err(mut e) => {
                if let Err(env) = Settings::load(&self.load_options()) {
                    e.problems.insert(0, env.to_string().into());
                }
                Err(e)
            }
        }
    }

    /// The project's variables (in a project) or the publishing
    /// credentials (outside one); a release-kit.toml that cannot be read
    /// or declares a variable wrongly is exit 3.
    pub fn registry(&self) -> Result<Registry, PreflightError> {
        match self.root() {
            None => Ok(Registry::publishing()),
            Some(_) => self
                .project()
                .and_then(|p| p.registry().map_err(PreflightError::one)),
        }
    }

    /// The project root: `--root`, else the nearest folder at or above the
    /// working directory holding release-kit.toml; `None` when there is
    /// none (never release-kit's own tree).
    pub fn root(&self) -> Option<PathBuf> {
        match &self.global.root {
            Some(r) => Some(std::path::absolute(r).unwrap_or_else(|_| r.clone())),
            None => config::find_root(&self.cwd),
        }
    }

    /// The project root, or the working directory outside any project
    /// (where `.env` commands work on their own).
    pub fn root_or_cwd(&self) -> PathBuf {
        self.root().unwrap_or_else(|| self.cwd.clone())
    }

    /// The project and its configuration; none found is exit 3, saying to
    /// run `cargo xtask init`.
    pub fn project(&self) -> Result<Project, PreflightError> {
        let root = self
            .root()
            .ok_or_else(|| PreflightError::one(config::not_found(&self.cwd)))?;
        if !root.is_dir() {
            return Err(PreflightError::one(format!(
                "--root {}: no such folder",
                root.display()
            )));
        }
        Project::load(&root).map_err(PreflightError::from)
    }

    /// Settings and project together: a bad `.env` and a bad
    /// `release-kit.toml` are reported at once, not one after the other.
    pub fn load(&self) -> Result<(&Settings, Project), PreflightError> {
        match (self.settings(), self.project()) {
            (Ok(s), Ok(p)) => Ok((s, p)),
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => Err(e),
            (Err(mut a), Err(b)) => {
                // A bad release-kit.toml stops both: say it once.
                for p in b.problems {
                    if !a.problems.iter().any(|q| q.to_string() == p.to_string()) {
                        a.problems.push(p);
                    }
                }
                Err(a)
            }
        }
    }

    /// The redactor of the loaded settings and the secret-shaped arguments
    /// (only the latter before settings load).
    pub fn redactor(&self) -> Redactor {
        self.redactor.get().unwrap_or(&self.arguments).clone()
    }

    /// How child tools' output is shown: streamed with `--verbose`.
    pub fn echo(&self) -> release_kit::tools::Echo {
        if self.global.verbose {
            release_kit::tools::Echo::Stderr
        } else {
            release_kit::tools::Echo::Quiet
        }
    }

    /// The process environment, as steps read it.
    pub fn env(name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    /// The GitHub Actions context, when running in it.
    pub fn actions(&self) -> Option<release_kit::ci::Actions> {
        release_kit::ci::Actions::detect()
    }

    /// The context steps run in.
    pub fn step_context<'a>(&'a self, settings: &'a Settings, project: &'a Project) -> Context<'a> {
        Context {
            project,
            settings,
            env: &Ctx::env,
            reporter: self,
            echo: self.echo(),
        }
    }

    /// Checks then runs one step, the way every standalone command does
    /// (the same path `release` drives its steps through): its report.
    pub fn run_step<S: Step>(
        &self,
        step: &S,
        settings: &Settings,
        project: &Project,
    ) -> Result<<S::Plan as Plan>::Report, StepError> {
        release_kit::step::run(step, &self.step_context(settings, project))
            .map(|(_, report): (Outcome, _)| report)
    }

    /// A GitHub Actions workflow command, verbatim (a redacted
    /// `::add-mask::` line would mask nothing). The runner reads commands
    /// on both streams; with `--json` they go to stderr so stdout stays JSON.
    pub fn workflow_command(&self, line: &str) {
        if self.global.json {
            eprintln!("{line}");
        } else {
            println!("{line}");
        }
    }

    /// A progress or result line (stderr keeps stdout clean for --json).
    pub fn info(&self, msg: impl AsRef<str>) {
        if !self.global.quiet {
            eprintln!("{}", self.redactor().redact(msg.as_ref()));
        }
    }

    /// A warning.
    pub fn warn(&self, msg: impl AsRef<str>) {
        eprintln!("warning: {}", self.redactor().redact(msg.as_ref()));
    }

    /// Prints a line of the command's result on stdout.
    pub fn out(&self, msg: impl AsRef<str>) {
        println!("{}", self.redactor().redact(msg.as_ref()));
    }

    /// Prints JSON on stdout.
    pub fn json(&self, value: &impl serde::Serialize) -> anyhow::Result<()> {
        let text = serde_json::to_string_pretty(value).context("serialising the report")?;
        println!("{}", self.redactor().redact(&text));
        Ok(())
    }

    /// Maps a command's result to an exit code, printing the error once,
    /// redacted; in GitHub Actions also as `::error` annotations (file and
    /// line when the problem has them), and with `--json` also as a JSON
    /// result on stdout (`{"ok": false, "exit", "error", "problems"}`).
    /// The one place an error becomes an exit code: its
    /// [`CommandError::class`].
    pub fn finish(&self, result: anyhow::Result<()>) -> ExitCode {
        let Err(err) = result else {
            return ExitCode::SUCCESS;
        };
        let err = classify(err);
        let code = err.class().code();
        let redactor = self.redactor();
        match &err {
            CommandError::Usage(lines) => {
                for line in lines {
                    eprintln!("error: {}", redactor.redact(line));
                }
            }
            CommandError::Preflight(pre) => {
                let text = redactor.redact(&pre.to_string());
                eprint!("error: {text}");
                for p in &pre.problems {
                    self.annotate(p.file.as_deref(), p.line, &p.message);
                }
                let problems: Vec<String> = pre
                    .problems
                    .iter()
                    .map(|p| redactor.redact(&p.to_string()))
                    .collect();
                self.json_error(code, text.trim_end(), &problems);
            }
            CommandError::Step(cause) | CommandError::Failed(cause) => {
                let lines = self.print_chain(&**cause);
                // A step's failure was annotated by `step::execute`.
                if matches!(err, CommandError::Failed(_)) {
                    self.annotate(None, None, &lines.join(": "));
                }
                self.json_error(code, &lines.join(": "), &[]);
            }
            CommandError::Reported { message, .. } => {
                if let Some(m) = message {
                    eprintln!("error: {}", redactor.redact(m));
                }
            }
        }
        ExitCode::from(code)
    }

    /// Prints an error and its causes, redacted (`error: …`, then
    /// `  caused by: …`); returns the lines.
    fn print_chain(&self, err: &(dyn std::error::Error + 'static)) -> Vec<String> {
        let redactor = self.redactor();
        let mut lines = Vec::new();
        let mut next = Some(err);
        while let Some(e) = next {
            lines.push(redactor.redact(&e.to_string()).trim_end().to_owned());
            next = e.source();
        }
        for (i, line) in lines.iter().enumerate() {
            if i == 0 {
                eprintln!("error: {line}");
            } else {
                eprintln!("  caused by: {line}");
            }
        }
        lines
    }

    /// An `::error` annotation in GitHub Actions, redacted; on stderr (the
    /// runner reads both), so that stdout redirected to a file (`changelog
    /// > notes.md`) stays clean and the annotation is not lost.
    fn annotate(&self, file: Option<&std::path::Path>, line: Option<usize>, message: &str) {
        if self.actions().is_some() {
            let message = self.redactor().redact(message);
            eprintln!(
                "{}",
                release_kit::ci::error(file, line, "cargo xtask", &message)
            );
        }
    }

    /// With `--json`, the error as the command's JSON result.
    fn json_error(&self, code: u8, error: &str, problems: &[String]) {
        if self.global.json {
            let _ = self.json(&serde_json::json!({
                "ok": false,
                "exit": code,
                "error": error,
                "problems": problems,
            }));
        }
    }
}

/// The library's error a command ended with, found in `err` (a command
/// returns it, or a step's or a check's error that converts to it); any
/// other error is a failure (exit 1).
fn classify(err: anyhow::Error) -> CommandError {
    let err = match err.downcast::<CommandError>() {
        Ok(e) => return e,
        Err(err) => err,
    };
    let err = match err.downcast::<PreflightError>() {
        Ok(e) => return e.into(),
        Err(err) => err,
    };
    match err.downcast::<StepError>() {
        Ok(e) => e.into(),
        Err(err) => CommandError::Failed(err.into()),
    }
}

/// Prints a clap error with anything that may be a secret masked: clap
/// echoes invalid values, and a token pasted in the wrong place is one.
pub fn usage_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion
    ) {
        let _ = err.print();
        return ExitCode::SUCCESS;
    }
    let mut text = err.render().to_string();
    // clap quotes the offending value: hide it unless it is short and
    // plainly not a credential (a typo in a step name stays visible).
    if let Some(clap::error::ContextValue::String(value)) =
        err.get(clap::error::ContextKind::InvalidValue)
        && (value.len() > 16 || secret_shaped(value, &Redactor::new()))
    {
        text = text.replace(value.as_str(), "<hidden value>");
    }
    let cwd = std::env::current_dir().unwrap_or_default();
    let registry = config::find_root(&cwd)
        .and_then(|root| Project::load(&root).ok())
        .and_then(|p| p.registry().ok())
        .unwrap_or_else(Registry::publishing);
    let mut redactor = Settings::load_for(&LoadOptions::discover(cwd), registry)
        .map(|s| s.redactor().clone())
        .unwrap_or_default();
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '=')
        .filter(|w| secret_shaped(w, &redactor))
        .collect();
    for word in words {
        redactor.add(&word.into());
    }
    eprint!("{}", redactor.redact(&text));
    ExitCode::from(release_kit::EXIT_USAGE as u8)
}

/// The one judgement of whether a word (an argument, or a word of a
/// message) may be a secret: it holds a loaded secret, or one of the
/// scanner's credential formats (`release_kit::scan::RULES`) finds a token
/// in it. Anything it accepts is masked before a message can quote it.
pub fn secret_shaped(word: &str, loaded: &Redactor) -> bool {
    loaded.redact(word) != word || release_kit::scan::rules::looks_like_credential(word)
}

/// A redactor for the command-line arguments [`secret_shaped`] judges
/// secret (whole, and each part between `=`, `@`, `,`, `:` and `/`, so
/// that `--model=hf_…@main` hides the token however a message quotes it);
/// for a URL with a password, the password too.
pub fn argument_secrets(args: impl Iterator<Item = std::ffi::OsString>) -> Redactor {
    let none = Redactor::new();
    let mut redactor = Redactor::new();
    for arg in args {
        let arg = arg.to_string_lossy();
        let parts = arg.split(['=', '@', ',', ':', '/']);
        for word in std::iter::once(arg.as_ref()).chain(parts) {
            if secret_shaped(word, &none) {
                let secret = release_kit::secret::Secret::new(word);
                redactor.add(&secret);
                if let Some(live) = release_kit::scan::live::live_value("argument", &secret) {
                    redactor.add(&live.value);
                }
            }
        }
    }
    redactor
}

/// Installs the panic hook, first thing: a panic is a bug, said so, with
/// its message redacted by the process-wide redactor (the loaded secrets,
/// once loaded; the environment's before) and the secret-shaped words
/// masked. Rust then exits with code 101.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("{}", panic_report(&message, &at));
    }));
}

/// What the panic hook prints for a panic `message` raised `at`.
fn panic_report(message: &str, at: &str) -> String {
    let message = match release_kit::secret::redact_with_process(message) {
        Some(m) => mask_secret_words(&m),
        None => "(withheld: it could not be checked for secrets)".to_owned(),
    };
    format!(
        "error: internal error{at}: {message}\n  This is a bug in release-kit, not a problem with your settings or files. \
         Please report it to the release-kit maintainers (the project's issue tracker) with the command you ran \
         and this message; secret values are masked in it."
    )
}

/// `text` with the environment's secrets and every secret-shaped word masked.
fn mask_secret_words(text: &str) -> String {
    let env = Settings::load(&LoadOptions {
        start_dir: PathBuf::from("/"),
        env_file: EnvFileChoice::None,
        environment: None,
    })
    .map(|s| s.redactor().clone())
    .unwrap_or_default();
    let mut redactor = Redactor::new();
    for word in text.split(|c: char| c.is_whitespace() || "'\"`=,;()[]{}".contains(c)) {
        if secret_shaped(word, &env) {
            redactor.add(&word.into());
        }
    }
    redactor.merge(&env);
    redactor.redact(text)
}

impl release_kit::step::Reporter for Ctx {
    fn info(&self, msg: &str) {
        Ctx::info(self, msg);
    }
    fn warn(&self, msg: &str) {
        Ctx::warn(self, msg);
    }
    fn workflow_command(&self, line: &str) {
        Ctx::workflow_command(self, line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_report_masks_registered_and_token_shaped_secrets() {
        let mut loaded = Redactor::new();
        loaded.add(&"CNRY-loaded-password".into());
        release_kit::secret::register_process_redactor(&loaded);
        let token = format!("hf_{}", "CnRyTokenShapedabcdefghijklmnopqrs");
        let report = panic_report(
            &format!("reply `AUTH app CNRY-loaded-password` and {token}"),
            " at src/x.rs:1",
        );
        assert!(
            report.starts_with("error: internal error at src/x.rs:1: reply `AUTH app "),
            "{report}"
        );
        assert!(report.contains("This is a bug in release-kit"), "{report}");
        assert!(
            !report.contains("CNRY") && !report.contains("CnRy"),
            "{report}"
        );
    }

    #[test]
    fn every_error_a_command_returns_finds_its_exit_class() {
        use release_kit::error::ExitClass;
        let cases: Vec<(anyhow::Error, u8)> = vec![
            (CommandError::usage("--x: no").into(), 2),
            (PreflightError::one("A is missing").into(), 3),
            (StepError::Preflight(PreflightError::one("A")).into(), 3),
            (StepError::failed("broke").into(), 1),
            (CommandError::reported(ExitClass::Findings).into(), 1),
            (CommandError::reported(ExitClass::Preflight).into(), 3),
            (anyhow::anyhow!("refused").context("uploading"), 1),
        ];
        for (err, code) in cases {
            let shown = format!("{err:#}");
            assert_eq!(classify(err).class().code(), code, "{shown}");
        }
        // A failure keeps its causes for the `caused by:` lines.
        let err = anyhow::anyhow!("refused").context("uploading");
        let CommandError::Failed(cause) = classify(err) else {
            panic!("expected a failure");
        };
        assert_eq!(release_kit::error::describe(&*cause), "uploading: refused");
        let step = StepError::cause(std::io::Error::other("disk full"));
        let CommandError::Step(cause) = classify(step.into()) else {
            panic!("expected a step failure");
        };
        assert_eq!(cause.to_string(), "disk full");
    }

    #[test]
    fn arguments_are_judged_by_the_scanner_rules() {
        let token = format!("hf_{}", "CnRyTokenShapedabcdefghijklmnopqrs");
        let args = [
            "--model".to_owned(),
            format!("org/name@{token}"),
            format!("--package={token}"),
            "mult-agentes".to_owned(),
            "redis://:CNRYpassword@host:6379".to_owned(),
        ];
        let r = argument_secrets(args.iter().map(Into::into));
        let text = format!(
            "--package {token}: no such package; model org/name@{token}; mult-agentes; CNRYpassword"
        );
        let masked = r.redact(&text);
        assert!(
            !masked.contains("CnRy") && !masked.contains("CNRY"),
            "{masked}"
        );
        assert!(masked.contains("mult-agentes"), "{masked}");
        assert!(!secret_shaped("mult-agentes-native", &Redactor::new()));
        assert!(!secret_shaped(
            "0123456789abcdef0123456789abcdef01234567",
            &Redactor::new()
        ));
    }
}
