//! Transient upload failures are retried with bounded backoff, asking the
//! index again before each attempt; then the run gives up with advice.

mod support;

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use support::Project;

/// An index that lists nothing (an empty simple root, a 404 for the
/// project) and answers every upload 429.
fn rate_limited_index() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut first = String::new();
            if reader.read_line(&mut first).is_err() {
                continue;
            }
            let mut len = 0usize;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).is_err() || h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; len];
            let _ = reader.read_exact(&mut body);
            let line = first.trim().to_owned();
            let answer = if line.starts_with("POST") {
                "HTTP/1.1 429 Too Many Requests\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            } else if line.starts_with("GET /simple/ ") {
                "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 53\r\nconnection: close\r\n\r\n<html><title>Simple Index</title><body></body></html>"
            } else {
                "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            };
            log.lock().unwrap().push(line);
            let _ = stream.write_all(answer.as_bytes());
        }
    });
    (url, seen)
}

#[test]
fn rate_limited_uploads_are_retried_then_explained() {
    let (url, seen) = rate_limited_index();
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let password = "pypi-CANARYretry000000000000";
    let run = project
        .xtask(
            &["publish", "--repository-url", &url],
            &[("TWINE_PASSWORD", password)],
        )
        .expect(1);
    let err = run.stderr();
    assert!(err.contains("429"), "{}", run.all());
    assert!(
        err.contains("attempt 2 of 4") && err.contains("attempt 4 of 4"),
        "{}",
        run.all()
    );
    assert!(err.contains("gave up after retries"), "{}", run.all());
    assert!(!run.all().contains("CANARY"), "{}", run.all());
    let seen = seen.lock().unwrap();
    let posts = seen.iter().filter(|l| l.starts_with("POST")).count();
    let lists = seen
        .iter()
        .filter(|l| l.starts_with("GET /simple/mult-agentes/"))
        .count();
    assert_eq!(posts, 4, "{seen:?}");
    assert_eq!(
        lists, 5,
        "the index is asked once to find its listing, then again before each attempt: {seen:?}"
    );
}
