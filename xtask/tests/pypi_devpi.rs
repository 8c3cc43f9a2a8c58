//! `cargo xtask publish` against a real devpi-server (a second kind of
//! index, whose listing is not `<upload-url>/simple/` but
//! `…/USER/INDEX/+simple/`): the listing is found, a re-run skips every
//! file, a dry run tells the truth, a rebuilt file is refused, a listing
//! that cannot be found stops the run before any upload, and a refused
//! password is explained as an account's, never printed.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::{Project, Run, canary};

const USER: &str = "alice";

/// A devpi-server on 127.0.0.1 with user [`USER`]; killed and its folder
/// removed when dropped.
struct Devpi {
    child: Child,
    /// `http://127.0.0.1:PORT`
    base: String,
    dir: tempfile::TempDir,
    bin: PathBuf,
}

impl Devpi {
    fn start(password: &str) -> Devpi {
        let python = testkit::python::test_python().unwrap();
        let bin = python.parent().unwrap().to_owned();
        let dir = tempfile::tempdir_in(testkit::python::target_dir()).unwrap();
        let server_dir = dir.path().join("server");
        let out = Command::new(bin.join("devpi-init"))
            .arg("--serverdir")
            .arg(&server_dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "devpi-init: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let port = testkit::python::free_port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(bin.join("devpi-server"))
            .arg("--serverdir")
            .arg(&server_dir)
            .args(["--host", "127.0.0.1", "--port", &port.to_string()])
            // Never reach for pypi.org (root/pypi is a mirror).
            .arg("--offline-mode")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let mut server = Devpi {
            child,
            base: format!("http://127.0.0.1:{port}"),
            dir,
            bin,
        };
        let deadline = Instant::now() + Duration::from_secs(90);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = server.child.try_wait().unwrap() {
                panic!("devpi-server exited ({status}): {}", server.log());
            }
            assert!(
                Instant::now() < deadline,
                "devpi-server did not listen: {}",
                server.log()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        server.client(&["use", &server.base]);
        server.client(&[
            "user",
            "-c",
            USER,
            &format!("password={password}"),
            "email=alice@example.com",
        ]);
        server.client(&["login", USER, "--password", password]);
        server
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// Runs devpi-client with its state in our folder.
    fn client(&self, args: &[&str]) -> String {
        let out = Command::new(self.bin.join("devpi"))
            .args(args)
            .env("DEVPI_CLIENTDIR", self.dir.path().join("client"))
            .current_dir(self.dir.path())
            .output()
            .unwrap();
        let text = support::text(&out);
        assert!(out.status.success(), "devpi {args:?}: {text}");
        text
    }

    /// A new index `USER/NAME` inheriting from `bases` (none: nothing from
    /// the PyPI mirror); returns its upload URL.
    fn index(&self, name: &str, bases: &str) -> String {
        self.client(&[
            "index",
            "-c",
            &format!("{USER}/{name}"),
            &format!("bases={bases}"),
            "volatile=False",
        ]);
        format!("{}/{USER}/{name}/", self.base)
    }

    /// `(filename, sha256)` of every file `+simple/mult-agentes/` lists (PEP
    /// 691 JSON, as pip reads it); empty when the project is not there.
    fn listed(&self, upload_url: &str) -> Vec<(String, String)> {
        let python = self.bin.join("python");
        let code = "import json, sys, urllib.request, urllib.error\n\
                 req = urllib.request.Request(sys.argv[1], headers={'Accept': 'application/vnd.pypi.simple.v1+json'})\n\
                 try:\n    page = json.load(urllib.request.urlopen(req))\n\
                 except urllib.error.HTTPError as e:\n    sys.exit(0 if e.code == 404 else 1)\n\
                 for f in page['files']:\n    print(f['filename'], f['hashes']['sha256'])";
        let out = support::ok_stdout(
            Command::new(python)
                .args(["-c", code])
                .arg(format!("{upload_url}+simple/mult-agentes/"))
                .output()
                .unwrap(),
        );
        let mut files: Vec<(String, String)> = out
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(a, b)| (a.to_owned(), b.to_owned()))
            .collect();
        files.sort();
        files
    }
}

impl Drop for Devpi {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(filename, sha256)` of what `cargo xtask build` left in `dist/`.
fn built(dist: &Path) -> Vec<(String, String)> {
    use sha2::Digest as _;
    let mut files: Vec<(String, String)> = std::fs::read_dir(dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap();
            let hash = sha2::Sha256::digest(&bytes);
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            (p.file_name().unwrap().to_string_lossy().into_owned(), hex)
        })
        .collect();
    files.sort();
    files
}

fn count(run: &Run, what: &str) -> usize {
    run.stdout().lines().filter(|l| l.ends_with(what)).count()
}

#[test]
fn devpi_upload_rerun_dry_run_conflict_and_refusals() {
    let password = canary("devpi");
    let devpi = Devpi::start(&password);
    let url = devpi.index("dev", "");
    let simple = format!("{url}+simple/");
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let env = [
        ("TWINE_USERNAME", USER),
        ("TWINE_PASSWORD", password.as_str()),
    ];
    let publish = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["publish", "--repository-url", url.as_str()];
        args.extend_from_slice(extra);
        project.xtask(&args, env)
    };

    // A dry run on the new index: both would go, the listing is devpi's.
    let run = publish(&["--dry-run"], &env).expect(0);
    assert_eq!(count(&run, "would upload"), 2, "{}", run.all());
    assert!(
        run.stderr()
            .contains(&format!("listed at {simple}mult-agentes/")),
        "{}",
        run.all()
    );
    assert!(run.stderr().contains("devpi layout"), "{}", run.all());

    // A wrong password: the account and its permission are named (with
    // devpi's acl_upload), the canary password never printed, nothing
    // uploaded.
    let wrong = canary("wrongpw");
    let run = publish(
        &[],
        &[("TWINE_USERNAME", USER), ("TWINE_PASSWORD", wrong.as_str())],
    )
    .expect(1);
    let err = run.stderr();
    assert!(err.contains("account `alice`"), "{}", run.all());
    assert!(err.contains("permission"), "{}", run.all());
    assert!(err.contains("acl_upload"), "{}", run.all());
    assert!(!err.contains("token in"), "{}", run.all());
    assert!(!run.all().contains(&wrong), "{}", run.all());
    assert!(!run.all().contains("CANARY"), "{}", run.all());
    assert!(devpi.listed(&url).is_empty());

    // Upload: both files, and the done line names the listing that now
    // holds them.
    let run = publish(&[], &env).expect(0);
    assert_eq!(count(&run, "  uploaded"), 2, "{}", run.all());
    assert!(
        run.stderr().contains(&format!(
            "done: mult-agentes 0.1.0 on {url} (listed at {simple}mult-agentes/"
        )),
        "{}",
        run.all()
    );
    assert_eq!(devpi.listed(&url), built(&project.dist()));
    assert!(!run.all().contains(&password), "{}", run.all());

    // Again: every file skipped, nothing sent.
    let run = publish(&[], &env).expect(0);
    assert_eq!(
        count(&run, "skipped (already on the index, same sha256)"),
        2,
        "{}",
        run.all()
    );
    assert!(!run.stderr().contains("uploading"), "{}", run.all());

    // A dry run says so too.
    let run = publish(&["--dry-run"], &env).expect(0);
    assert_eq!(
        count(&run, "would skip (already on the index, same sha256)"),
        2,
        "{}",
        run.all()
    );

    // An index whose base is dev lists dev's files as its own pages'
    // (inherited): they are not on it, so they are uploaded there, and then
    // skipped. The same through --check-url.
    let staging = devpi.index("staging", &format!("{USER}/dev"));
    let to_staging = |extra: &[&str]| {
        let mut args = vec!["publish", "--repository-url", staging.as_str()];
        args.extend_from_slice(extra);
        project.xtask(&args, &env)
    };
    let staging_simple = format!("{staging}+simple/");
    let run = to_staging(&["--dry-run", "--check-url", &staging_simple]).expect(0);
    assert_eq!(count(&run, "would upload"), 2, "{}", run.all());
    let run = to_staging(&[]).expect(0);
    assert_eq!(count(&run, "  uploaded"), 2, "{}", run.all());
    let run = to_staging(&[]).expect(0);
    assert_eq!(
        count(&run, "skipped (already on the index, same sha256)"),
        2,
        "{}",
        run.all()
    );

    // --check-url overrides the layout; so does `check-url` in
    // release-kit.toml.
    let run = publish(&["--dry-run", "--check-url", &simple], &env).expect(0);
    assert_eq!(
        count(&run, "would skip (already on the index, same sha256)"),
        2
    );
    assert!(
        run.stderr().contains("found by --check-url"),
        "{}",
        run.all()
    );
    let toml = project.root().join("release-kit.toml");
    let before = std::fs::read_to_string(&toml).unwrap();
    std::fs::write(&toml, format!("{before}check-url = \"{simple}\"\n")).unwrap();
    let run = publish(&["--dry-run"], &env).expect(0);
    assert_eq!(
        count(&run, "would skip (already on the index, same sha256)"),
        2
    );
    assert!(
        run.stderr().contains("found by [python] check-url"),
        "{}",
        run.all()
    );
    std::fs::write(&toml, &before).unwrap();

    // Rebuilt with other bytes under the same names: a clear error, exit 1,
    // nothing uploaded.
    let published = devpi.listed(&url);
    project.rebuild_with_other_bytes();
    assert_ne!(built(&project.dist()), published);
    let run = publish(&[], &env).expect(1);
    support::assert_conflict(&run);
    assert_eq!(devpi.listed(&url), published);

    // An upload URL whose listing is nowhere to be found, and a
    // --check-url that is no listing: exit 3 before any upload, naming
    // --check-url.
    let odd = format!("{}/{USER}/dev/not/here/", devpi.base);
    let run = project
        .xtask(&["publish", "--repository-url", &odd], &env)
        .expect(3);
    let err = run.stderr();
    assert!(err.contains("found no package listing"), "{}", run.all());
    assert!(err.contains("--check-url"), "{}", run.all());
    assert!(err.contains("check-url` under [python]"), "{}", run.all());
    let run = publish(&["--check-url", &format!("{url}nothing/")], &env).expect(3);
    assert!(run.stderr().contains("--check-url"), "{}", run.all());
    assert!(
        run.stderr().contains("is not a package listing"),
        "{}",
        run.all()
    );
    assert_eq!(devpi.listed(&url), published);
    assert!(!run.all().contains(&password));

    // `release` checks the same listing, with the same flag.
    std::fs::write(&toml, format!("{before}[vscode]\nenabled = false\n")).unwrap();
    std::fs::write(
        project.root().join("CHANGELOG.md"),
        "# Changelog\n\n## [Unreleased]\n\n## [0.1.0] - 2026-01-01\n\n### Added\n\n- Agents.\n",
    )
    .unwrap();
    let release = |extra: &[&str]| {
        let mut args = vec!["release", "--dry-run", "--repository-url", url.as_str()];
        args.extend_from_slice(extra);
        project.xtask(&args, &env)
    };
    release(&[]).expect(0);
    let run = release(&["--check-url", &format!("{url}nothing/")]).expect(3);
    assert!(run.stderr().contains("--check-url"), "{}", run.all());
    assert!(
        run.stderr().contains("is not a package listing"),
        "{}",
        run.all()
    );
}
