//! The run half of `publish`: obtaining the upload credential (a variable
//! or a token minted by trusted publishing), asking the index what it
//! lacks, and one twine run per package, re-checked after a refusal
//! (another run may have uploaded the same files meanwhile).

use std::time::Duration;

use super::Target;
use super::dist::Release;
use super::index::{self, Candidate, IndexQuery};
use super::oidc::{self, PublisherContext};
use super::package::DistFile;
use super::publish::{
    Action, Credential, FileOutcome, PackageOutcome, Prepared, PublishError, PublishOptions,
    PublishReport, read_auth, short,
};
use super::twine_check::{self, Verdict};
use super::upload::{Login, Upload, UploadError};
use super::venv;
use crate::ci::Actions;
use crate::config::Project;
use crate::decode::pypi_token::{self as token, Severity};
use crate::secret::{Redactor, Secret};
use crate::settings::Settings;
use crate::step::Reporter;
use crate::tools::Echo;

/// Where `credential` came from, in words.
pub(super) fn origin_of(credential: &Credential) -> String {
    match credential {
        Credential::Variable(v) => format!("TWINE_USERNAME and {v}"),
        Credential::TrustedPublishing(_) => "the token minted by trusted publishing".into(),
    }
}

/// What obtaining the upload credentials needs.
pub(super) struct Obtain<'a> {
    pub(super) settings: &'a Settings,
    pub(super) prepared: &'a Prepared,
    pub(super) opts: &'a PublishOptions,
    pub(super) env: &'a dyn Fn(&str) -> Option<String>,
    pub(super) reporter: &'a dyn Reporter,
    pub(super) client: &'a crate::net::Blocking,
}

impl Obtain<'_> {
    /// Each package's password and where it came from, in the order of
    /// the releases: its variable, or the token minted by trusted
    /// publishing (minted once for every package that has no token,
    /// masked and added to `redactor` before anything can print it; a
    /// dry run mints nothing).
    pub(super) fn credentials(
        &self,
        redactor: &mut Redactor,
    ) -> Result<Vec<(Secret, String)>, PublishError> {
        let mut minted: Option<(Secret, String)> = None;
        let mut out = Vec::new();
        for credential in &self.prepared.credentials {
            let got = match credential {
                Credential::Variable(var) => self.variable(var)?,
                Credential::TrustedPublishing(source) => match &minted {
                    Some(m) => m.clone(),
                    None => minted.insert(self.mint(source, redactor)?).clone(),
                },
            };
            out.push(got);
        }
        Ok(out)
    }

    /// The password in `var`, its token's notes said once.
    fn variable(&self, var: &str) -> Result<(Secret, String), PublishError> {
        let pw = self.settings.explicit(var).cloned();
        let pw = pw.ok_or_else(|| PublishError::Vanished(var.to_owned()))?;
        let notes = self.prepared.token_notes.iter().filter(|(v, _)| v == var);
        for note in notes.flat_map(|(_, n)| n) {
            let msg = format!("{var}: {}", note.message);
            match note.severity {
                Severity::Warning => self.reporter.warn(&msg),
                _ => self.reporter.info(&msg),
            }
        }
        Ok((pw, var.to_owned()))
    }

    /// A token minted by trusted publishing (none in a dry run).
    fn mint(
        &self,
        source: &oidc::GithubIdTokenSource,
        redactor: &mut Redactor,
    ) -> Result<(Secret, String), PublishError> {
        let (opts, reporter) = (self.opts, self.reporter);
        let target = &opts.target;
        if opts.dry_run {
            // Minting is a request with an effect (a token exists for 15
            // minutes): a dry run only says it would.
            reporter.info(&format!(
                "dry run: no {} set; a real run mints a short-lived token by trusted publishing",
                self.trusted_vars()
            ));
            let origin = "trusted publishing (not minted in a dry run)";
            return Ok((Secret::new(""), origin.to_owned()));
        }
        redactor.add(&source.request_token);
        let base = opts
            .oidc_url
            .clone()
            .unwrap_or_else(|| target.default_oidc_base());
        reporter.info(&format!(
            "no {} set: minting a short-lived token by trusted publishing at {}",
            self.trusted_vars(),
            crate::net::describe_str(&base)
        ));
        let context = PublisherContext {
            repository: (self.env)("GITHUB_REPOSITORY"),
            workflow_ref: (self.env)("GITHUB_WORKFLOW_REF"),
            project: self.trusted_projects().first().map(|p| (*p).to_owned()),
        };
        let actions = Actions::from_env(self.env);
        let mut mask = |jwt: &Secret| {
            if let Some(a) = &actions {
                reporter.workflow_command(&a.add_mask(jwt));
            }
            redactor.add(jwt);
        };
        let minted =
            oidc::exchange(self.client, &base, source, opts.policy, &context, &mut mask)
                .map_err(|e| PublishError::TrustedPublishing(redactor.redact(&e.to_string())))?;
        // Masked before anything else can print it.
        mask_minted(actions.as_ref(), reporter, &minted.token);
        redactor.add(&minted.token);
        if let Some(exp) = minted.expires {
            let left = exp.saturating_sub(token::unix_now());
            reporter.info(&format!(
                "minted an upload token valid for {} min",
                left / 60
            ));
        }
        Ok((
            minted.token,
            "the token minted by trusted publishing".to_owned(),
        ))
    }

    /// The packages published by trusted publishing.
    fn trusted_projects(&self) -> Vec<&str> {
        let p = self.prepared;
        p.releases
            .iter()
            .zip(&p.credentials)
            .filter(|(_, c)| matches!(c, Credential::TrustedPublishing(_)))
            .map(|(r, _)| r.package.name.as_str())
            .collect()
    }

    /// What is left unset, for messages.
    fn trusted_vars(&self) -> String {
        format!("token for {}", self.trusted_projects().join(", "))
    }
}

/// Masks a minted token in GitHub Actions: the raw value first, then its
/// encodings.
fn mask_minted(actions: Option<&Actions>, reporter: &dyn Reporter, token: &Secret) {
    let Some(a) = actions else { return };
    let mut only = Redactor::new();
    only.add(token);
    let raw = a.add_mask(token);
    reporter.workflow_command(&raw);
    for line in a.mask_lines(&only).into_iter().filter(|l| *l != raw) {
        reporter.workflow_command(&line);
    }
}

/// Every package's missing files, all asked before any upload, so a
/// conflict anywhere stops the run with nothing sent.
pub(super) fn pending_all(
    reader: &index::Reader<'_>,
    query: &IndexQuery,
    prepared: &Prepared,
    redactor: &Redactor,
) -> Result<Vec<Vec<String>>, PublishError> {
    let mut todos = Vec::new();
    let mut conflicts = Vec::new();
    for release in &prepared.releases {
        let (todo, found) = pending(reader, query, release, redactor)?;
        conflicts.extend(found);
        todos.push(todo);
    }
    if !conflicts.is_empty() {
        return Err(PublishError::Conflict {
            conflicts,
            version: prepared
                .releases
                .first()
                .map(|r| r.package.version.to_string())
                .unwrap_or_default(),
        });
    }
    Ok(todos)
}

/// The report: per package, what happened to each file (`todos`: sent,
/// `meanwhile`: found there after the index refused them).
pub(super) fn report(
    prepared: &Prepared,
    opts: &PublishOptions,
    found: &Candidate,
    attempts: u32,
    todos: &[Vec<String>],
    meanwhile: &[Vec<String>],
) -> PublishReport {
    let target = &opts.target;
    let action =
        |name: &String, todo: &[String], late: &[String]| match (opts.dry_run, todo.contains(name))
        {
            _ if late.contains(name) => Action::UploadedMeanwhile,
            (true, true) => Action::WouldUpload,
            (true, false) => Action::WouldSkip,
            (false, true) => Action::Uploaded,
            (false, false) => Action::Skipped,
        };
    let packages = prepared
        .releases
        .iter()
        .zip(todos.iter().zip(meanwhile))
        .zip(&prepared.credentials)
        .map(|((r, (todo, late)), c)| PackageOutcome {
            package: r.package.name.clone(),
            credential: c.label().to_owned(),
            version: r.package.version.version.clone(),
            listing: found.query.url(&r.package.name, &r.package.version.version),
            files: r
                .files
                .iter()
                .map(|f| FileOutcome {
                    name: f.name.clone(),
                    size: f.size,
                    sha256: f.sha256.clone(),
                    action: action(&f.name, todo, late),
                })
                .collect(),
        })
        .collect();
    PublishReport {
        target: target.label(),
        upload_url: crate::net::describe_str(&target.upload_url()),
        checked: found.query.to_string(),
        found_by: found.source.to_string(),
        version: prepared
            .releases
            .first()
            .map(|r| r.package.version.version.clone())
            .unwrap_or_default(),
        dry_run: opts.dry_run,
        credential: credential_labels(&prepared.credentials),
        attempts,
        packages,
    }
}

/// The credentials' labels, each once, joined.
fn credential_labels(credentials: &[Credential]) -> String {
    let mut labels: Vec<&str> = Vec::new();
    for c in credentials {
        if !labels.contains(&c.label()) {
            labels.push(c.label());
        }
    }
    labels.join(", ")
}

/// The names of `release`'s files the index lacks, and one line per file
/// it holds with other content.
fn pending(
    reader: &index::Reader<'_>,
    query: &IndexQuery,
    release: &Release,
    redactor: &Redactor,
) -> Result<(Vec<String>, Vec<String>), PublishError> {
    let names: Vec<&str> = release.files.iter().map(|f| f.name.as_str()).collect();
    let existing = index::existing_files(
        reader,
        query,
        &release.package.name,
        &release.package.version.version,
        &names,
    )
    .map_err(|e| PublishError::Index(redactor.redact(&e.to_string())))?;
    let mut todo = Vec::new();
    let mut conflicts = Vec::new();
    for f in &release.files {
        match existing.get(&f.name) {
            Some(h) if *h == f.sha256 => {}
            Some(h) => conflicts.push(format!(
                "{}: the index already has a file of this name with other content \
                 (index sha256 {}, local {}; listed at {})",
                f.path.display(),
                short(h),
                short(&f.sha256),
                crate::net::describe_str(
                    &query.url(&release.package.name, &release.package.version.version)
                )
            )),
            None => todo.push(f.name.clone()),
        }
    }
    Ok((todo, conflicts))
}

/// One package's login: user name, password and where it came from.
pub(super) struct Creds<'a> {
    pub(super) username: &'a str,
    pub(super) password: &'a Secret,
    pub(super) origin: &'a str,
}

/// One package's upload: one twine run over its missing files (sdist
/// first), retried on a transient failure after asking the index again.
pub(super) struct Uploader<'a> {
    pub(super) tools: &'a venv::Tools,
    pub(super) target: &'a Target,
    pub(super) query: &'a IndexQuery,
    pub(super) found: &'a Candidate,
    pub(super) reader: &'a index::Reader<'a>,
    pub(super) redactor: &'a Redactor,
    pub(super) opts: &'a PublishOptions,
    pub(super) reporter: &'a dyn Reporter,
}

impl Uploader<'_> {
    /// Uploads `todo` (names of `release`'s files), updating it to what
    /// was actually sent and `late` to what another run sent meanwhile;
    /// returns the twine runs made.
    pub(super) fn run(
        &self,
        release: &Release,
        creds: &Creds<'_>,
        todo: &mut Vec<String>,
        late: &mut Vec<String>,
    ) -> Result<u32, PublishError> {
        let (opts, redactor) = (self.opts, self.redactor);
        let mut attempts = 0u32;
        let mut failure = 0u32;
        while !todo.is_empty() {
            attempts += 1;
            let e = match self.send(release, creds, todo) {
                // No second listing: PyPI's JSON API is cached and would lag.
                Ok(()) => return Ok(attempts),
                Err(e) => e,
            };
            if e.is_transient() && failure + 1 < opts.policy.attempts {
                failure += 1;
                let wait = opts.policy.backoff(failure);
                self.reporter.warn(&format!(
                    "{}; asking the index again and retrying in {:.1} s (attempt {} of {})",
                    redactor.redact(&e.to_string()),
                    wait.as_secs_f32(),
                    failure + 1,
                    opts.policy.attempts
                ));
                sleep(wait);
                *todo = self.still_missing(release)?;
            } else if matches!(
                e,
                UploadError::Rejected {
                    status: 400 | 409,
                    ..
                }
            ) && self.arrived_meanwhile(release, todo, late)?
            {
                // Another run uploaded them: the rest (if any) goes again.
            } else {
                let msg = upload_error(&e, self.target, self.found);
                return Err(PublishError::Upload(redactor.redact(&msg)));
            }
        }
        Ok(attempts)
    }

    /// One twine run over the files named in `todo`.
    fn send(
        &self,
        release: &Release,
        creds: &Creds<'_>,
        todo: &[String],
    ) -> Result<(), UploadError> {
        let files: Vec<&DistFile> = release
            .files
            .iter()
            .filter(|f| todo.contains(&f.name))
            .collect();
        let url = self.target.upload_url();
        let upload = Upload {
            tools: self.tools,
            url: &url,
            username: creds.username,
            password: creds.password,
            password_origin: creds.origin,
            files: &files,
        };
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        self.reporter.info(&format!(
            "uploading {} to {}",
            names.join(", "),
            crate::net::describe_str(&url)
        ));
        upload.run(self.redactor, self.opts.echo).map(|_| ())
    }

    /// The files of `release` the index lacks, asked again; a file there
    /// with other content is the conflict error.
    fn still_missing(&self, release: &Release) -> Result<Vec<String>, PublishError> {
        let (left, conflicts) = pending(self.reader, self.query, release, self.redactor)?;
        if !conflicts.is_empty() {
            return Err(PublishError::Conflict {
                conflicts,
                version: release.package.version.to_string(),
            });
        }
        Ok(left)
    }

    /// After the index refused the upload (400/409, as when another run
    /// uploads the same files at the same time): reads the listing again.
    /// Files now there with the same sha256 move from `todo` to `late`;
    /// one with another hash is the conflict error naming the listing and
    /// the file. False when nothing arrived (the refusal stands).
    fn arrived_meanwhile(
        &self,
        release: &Release,
        todo: &mut Vec<String>,
        late: &mut Vec<String>,
    ) -> Result<bool, PublishError> {
        let left = self.still_missing(release)?;
        let arrived: Vec<String> = todo.iter().filter(|n| !left.contains(n)).cloned().collect();
        if arrived.is_empty() {
            return Ok(false);
        }
        self.reporter.info(&format!(
            "the index refused the upload, and now lists {} with the same sha256: already there \
             (uploaded meanwhile by another run)",
            arrived.join(", ")
        ));
        late.extend(arrived);
        todo.retain(|n| left.contains(n));
        Ok(true)
    }
}

fn sleep(d: Duration) {
    std::thread::sleep(d);
}

pub(super) fn upload_error(e: &UploadError, target: &Target, found: &Candidate) -> String {
    match e {
        UploadError::Refused {
            login: Login::Account(user),
            ..
        } => match index::permission_hint(found, &target.upload_url(), user) {
            Some(hint) => format!("{e}\n{hint}"),
            None => e.to_string(),
        },
        UploadError::Rejected {
            status: 400 | 409,
            reason,
        } if reason.contains("exist") => format!(
            "{e}\nthe index holds a file of this name that the listing checked, {} (found by {}), \
             does not show. First make sure that listing is this index's: if not, pass \
             --check-url with the simple-API root of the index you upload to and run again, \
             and files already there are skipped. Only if it is (a deleted file stays reserved \
             on PyPI) bump the version and run `cargo xtask build` again",
            found.query.root(),
            found.source
        ),
        UploadError::Transient { .. } => format!(
            "{e}\ngave up after retries; run `cargo xtask publish` again later: files already on {} are skipped",
            target.label()
        ),
        _ => e.to_string(),
    }
}

/// Runs the publish after [`prepare`](super::publish::prepare): tools,
/// credential, index query, upload with retries. `redactor` masks every loaded secret; minted tokens
/// are added to a copy of it.
pub fn run(
    project: &Project,
    settings: &Settings,
    prepared: &Prepared,
    opts: &PublishOptions,
    env: &dyn Fn(&str) -> Option<String>,
    reporter: &dyn Reporter,
) -> Result<PublishReport, PublishError> {
    let mut redactor: Redactor = settings.redactor().clone();
    let target = &opts.target;
    // Provisioning may already have changed target/: a failure here is a
    // failed step (exit 1), not a preflight problem.
    // A dry run installs nothing: the index query is ours, not twine's.
    let tools = if opts.dry_run {
        None
    } else {
        Some(venv::ensure(project, opts.echo)?)
    };
    let client = crate::net::Blocking::new()?;
    let cred = Obtain {
        settings,
        prepared,
        opts,
        env,
        reporter,
        client: &client,
    };
    let logins = cred.credentials(&mut redactor)?;
    if let Some(tools) = &tools {
        twine_check(tools, prepared, &redactor, opts.echo)?;
    }
    // The listing of a private index is read with the first package's login.
    let auth = logins
        .iter()
        .zip(&prepared.credentials)
        .next()
        .filter(|((pw, _), _)| !pw.expose().is_empty())
        .and_then(|((pw, _), c)| read_auth(target, prepared.username_for(c), pw, &origin_of(c)));
    let reader = index::Reader::new(&client, opts.policy, auth.as_ref());
    let found = match prepared.listing.clone() {
        Some(found) => found,
        // Trusted publishing: the index wanted credentials to read.
        None => {
            let names: Vec<&str> = prepared
                .releases
                .iter()
                .map(|r| r.package.name.as_str())
                .collect();
            index::discover(
                &reader,
                &opts.candidates(project),
                &target.upload_url(),
                &names,
            )
            .map_err(|e| PublishError::Index(redactor.redact(&e.to_string())))?
        }
    };
    let query = found.query.clone();
    let mut todos = pending_all(&reader, &query, prepared, &redactor)?;
    let mut meanwhile = vec![Vec::new(); todos.len()];
    let mut attempts = 0u32;
    if let Some(tools) = tools.as_ref().filter(|_| !opts.dry_run) {
        let upload = Uploader {
            tools,
            target,
            query: &query,
            found: &found,
            reader: &reader,
            redactor: &redactor,
            opts,
            reporter,
        };
        attempts = upload.each(prepared, &logins, &mut todos, &mut meanwhile)?;
    }
    Ok(report(prepared, opts, &found, attempts, &todos, &meanwhile))
}

impl Uploader<'_> {
    /// Every package's upload, each with its own login (`logins`, in the
    /// order of the releases); the twine runs made.
    fn each(
        &self,
        prepared: &Prepared,
        logins: &[(Secret, String)],
        todos: &mut [Vec<String>],
        meanwhile: &mut [Vec<String>],
    ) -> Result<u32, PublishError> {
        let mut attempts = 0;
        let each = prepared
            .releases
            .iter()
            .zip(&prepared.credentials)
            .zip(logins);
        for (((release, c), (password, origin)), (todo, late)) in
            each.zip(todos.iter_mut().zip(meanwhile.iter_mut()))
        {
            let creds = Creds {
                username: prepared.username_for(c),
                password,
                origin,
            };
            attempts += self.run(release, &creds, todo, late)?;
        }
        Ok(attempts)
    }
}

/// `twine check --strict` over every file of every package, in one run.
/// Files whose bytes already passed with the managed twine (recorded by
/// sha256 next to it) are not checked again: the check reads nothing but
/// the file.
fn twine_check(
    tools: &venv::Tools,
    prepared: &Prepared,
    redactor: &Redactor,
    echo: Echo,
) -> Result<(), PublishError> {
    let files: Vec<&DistFile> = prepared
        .releases
        .iter()
        .flat_map(|r| r.files.iter())
        .collect();
    match twine_check::check(tools, &files, redactor, echo)? {
        Verdict::Passed => Ok(()),
        Verdict::Refused(output) => Err(PublishError::TwineCheck { output }),
    }
}
