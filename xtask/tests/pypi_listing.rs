//! Reading an index's listing the way each index needs: with the upload
//! credentials when it wants them to read (a real pypiserver with
//! `-a list,update`), never following pypiserver's fallback to another
//! host, and never taking a listing of the whole host for the upload URL's
//! own unless it lists the project.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use support::{Project, Run, canary};
use testkit::pypi_index::PypiServer;
use testkit::server::{Recording, body};

/// The status line pypiserver answers `GET path` with.
fn status_line(port: u16, path: &str) -> String {
    use std::io::{BufRead as _, Write as _};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(s).read_line(&mut line).unwrap();
    line.trim().to_owned()
}

fn count(run: &Run, what: &str) -> usize {
    run.stdout().lines().filter(|l| l.ends_with(what)).count()
}

#[test]
fn an_index_that_needs_credentials_to_read_is_read_with_the_upload_credentials() {
    let password = format!("pypi-{}", canary("readauth"));
    let server =
        PypiServer::start_with(&password, &["-a", "list,update", "--disable-fallback"]).unwrap();
    let url = server.url.clone();
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let env = [("TWINE_PASSWORD", password.as_str())];
    let publish = |extra: &[&str], env: &[(&str, &str)]| {
        let mut args = vec!["publish", "--repository-url", url.as_str()];
        args.extend_from_slice(extra);
        project.xtask(&args, env)
    };
    use base64::Engine as _;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("__token__:{password}"));
    let no_secret = |run: &Run| {
        let all = run.all();
        assert!(!all.contains(&password), "{all}");
        assert!(!all.contains("CANARY"), "{all}");
        assert!(!all.contains(&basic[4..30]), "{all}");
    };

    // The check reads the listing with TWINE_USERNAME (default __token__)
    // and TWINE_PASSWORD.
    let run = publish(&["--dry-run"], &env).expect(0);
    assert_eq!(count(&run, "would upload"), 2, "{}", run.all());
    no_secret(&run);
    let run = publish(&[], &env).expect(0);
    assert_eq!(count(&run, "  uploaded"), 2, "{}", run.all());
    no_secret(&run);
    assert_eq!(server.files().len(), 2);
    // The run's own listing read, too: a re-run skips both.
    let run = publish(&[], &env).expect(0);
    assert_eq!(
        count(&run, "skipped (already on the index, same sha256)"),
        2,
        "{}",
        run.all()
    );
    no_secret(&run);

    // A password the index refuses for reading: exit 3 before any upload,
    // naming the variables and what to check; neither password printed.
    let wrong = format!("pypi-{}", canary("readwrong"));
    let run = publish(&[], &[("TWINE_PASSWORD", wrong.as_str())]).expect(3);
    let err = run.stderr();
    assert!(
        err.contains(
            "answered 403 to a read with the credentials in TWINE_USERNAME and TWINE_PASSWORD"
        ),
        "{}",
        run.all()
    );
    assert!(err.contains("read"), "{}", run.all());
    assert!(!run.all().contains(&wrong), "{}", run.all());
    no_secret(&run);
}

#[test]
fn pypiservers_fallback_to_another_host_is_not_followed() {
    // An unknown project is sent (303) to a host nothing listens on: the
    // project is new here, and the other host is never asked.
    let password = format!("pypi-{}", canary("fallback"));
    let server = PypiServer::start_with(
        &password,
        &[
            "-a",
            "update",
            "--fallback-url",
            "http://127.0.0.1:1/simple/",
        ],
    )
    .unwrap();
    let url = server.url.clone();
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let env = [("TWINE_PASSWORD", password.as_str())];
    let run = project
        .xtask(&["publish", "--repository-url", &url, "--dry-run"], &env)
        .expect(0);
    assert_eq!(count(&run, "would upload"), 2, "{}", run.all());
    assert!(!run.all().contains("127.0.0.1:1/"), "{}", run.all());
    assert_eq!(
        status_line(server.port, "/simple/mult-agentes/"),
        "HTTP/1.1 303 See Other"
    );
    let run = project
        .xtask(&["publish", "--repository-url", &url], &env)
        .expect(0);
    assert_eq!(count(&run, "  uploaded"), 2, "{}", run.all());
    assert_eq!(server.files().len(), 2);
    assert!(!run.all().contains(&password));
}

#[test]
fn a_listing_of_the_whole_host_is_taken_only_when_it_lists_the_project() {
    // Only `<host>/simple/` answers; the upload URL is an index under
    // `/team/uploads/`. A 404 for the project there proves nothing.
    let listed = Arc::new(AtomicBool::new(false));
    let has = listed.clone();
    let index = Recording::start("127.0.0.1:0", move |req| {
        let html = |b: &str| body(200, "text/html", b.as_bytes().to_vec());
        match req.path.as_str() {
            "/simple/" => {
                html("<html><head><title>Simple Index</title></head><body></body></html>")
            }
            "/simple/mult-agentes/" if has.load(Ordering::SeqCst) => html(&format!(
                "<html><body><a href=\"/packages/mult_agentes-0.0.9.tar.gz#sha256={}\">mult_agentes-0.0.9.tar.gz</a></body></html>",
                "0".repeat(64)
            )),
            _ => body(404, "text/plain", b"not found".to_vec()),
        }
    });
    let url = format!("{}/team/uploads/", index.server().url());
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let env = [("TWINE_PASSWORD", "pypi-CANARYhostroot000000000000")];
    let run = project
        .xtask(&["publish", "--repository-url", &url, "--dry-run"], &env)
        .expect(3);
    let err = run.stderr();
    assert!(err.contains("found no package listing"), "{}", run.all());
    assert!(err.contains("another index's"), "{}", run.all());
    assert!(err.contains("--check-url"), "{}", run.all());
    assert!(index.seen().iter().all(|r| r.method == "GET"));

    // Once it lists the project, it is taken, and says how it was found.
    listed.store(true, Ordering::SeqCst);
    let run = project
        .xtask(&["publish", "--repository-url", &url, "--dry-run"], &env)
        .expect(0);
    assert_eq!(count(&run, "would upload"), 2, "{}", run.all());
    assert!(
        run.stderr().contains("found by host root layout"),
        "{}",
        run.all()
    );
}
