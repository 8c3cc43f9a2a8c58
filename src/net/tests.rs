use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::time::Duration;

use super::*;

/// A server answering each connection with the next canned answer and
/// closing it, returning every request it received (head and body).
fn canned(answers: Vec<String>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let t = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for a in answers {
            let (s, _) = listener.accept().unwrap();
            let mut r = BufReader::new(s);
            let mut head = String::new();
            let mut len = 0;
            loop {
                let mut line = String::new();
                r.read_line(&mut line).unwrap();
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
                head.push_str(&line);
                if line == "\r\n" || line.is_empty() {
                    break;
                }
            }
            let mut body = vec![0; len];
            r.read_exact(&mut body).unwrap();
            head.push_str(&String::from_utf8_lossy(&body));
            seen.push(head);
            let mut s = r.into_inner();
            s.write_all(a.as_bytes()).unwrap();
        }
        seen
    });
    (format!("http://{addr}"), t)
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(5),
        max_backoff: Duration::from_millis(20),
        max_wait: Duration::from_secs(1),
    }
}

#[test]
fn retries_503_and_429_then_succeeds_then_gives_up_on_refused() {
    let (base, server) = canned(vec![
        "HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
        "HTTP/1.1 429 Too Many Requests\r\nretry-after: 0\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
        "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n2\r\nok\r\n0\r\n\r\n".into(),
    ]);
    let http = Blocking::new().unwrap();
    let req = Request::get(format!("{base}/x"));
    let resp = http.send(&req, &quick()).unwrap();
    assert_eq!((resp.status, resp.text().as_str()), (200, "ok"));
    assert_eq!(server.join().unwrap().len(), 3);
    assert_eq!(http.client().requests(), 3);
    // Nothing listens there any more.
    let err = http.send(&req, &quick()).unwrap_err();
    match err {
        Failure::Network { error, attempts } => {
            assert!(error.is_connect(), "{error}");
            assert!(error.to_string().starts_with("cannot connect"), "{error}");
            // Refused is final: no retries (it used to take 14.5 s).
            assert_eq!(attempts, 1);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_long_retry_after_fails_at_once() {
    let (base, server) = canned(vec![
        "HTTP/1.1 429 Too Many Requests\r\nratelimit: \"api\";r=0;t=600\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
    ]);
    let err = Blocking::new()
        .unwrap()
        .send(&Request::get(format!("{base}/x")), &quick())
        .unwrap_err();
    assert!(
        matches!(err, Failure::WaitTooLong { wait, .. } if wait == Duration::from_secs(600)),
        "{err:?}"
    );
    assert!(err.to_string().contains("600 s"), "{err}");
    server.join().unwrap();
}

#[test]
fn a_4xx_is_an_answer_not_a_failure() {
    let (base, server) = canned(vec![
        "HTTP/1.1 404 Not Found\r\ncontent-length: 4\r\nconnection: close\r\n\r\nnope".into(),
    ]);
    let resp = Blocking::new()
        .unwrap()
        .send(&Request::get(format!("{base}/x")), &quick())
        .unwrap();
    assert_eq!((resp.status, resp.text().as_str()), (404, "nope"));
    server.join().unwrap();
}

#[test]
fn redirect_to_another_host_drops_secret_headers() {
    let (other, other_server) = canned(vec![
        "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: close\r\n\r\nthere".into(),
    ]);
    // `localhost` and `127.0.0.1` are different origins to a client.
    let other = other.replace("127.0.0.1", "localhost");
    let (base, server) = canned(vec![format!(
        "HTTP/1.1 302 Found\r\nlocation: {other}/y\r\nx-repo-commit: abc\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    )]);
    let token = Secret::new("CANARY-bearer-4d2c");
    let req = Request::get(format!("{base}/x"))
        .bearer(&token)
        .secret_header("x-api-key", Secret::new("CANARY-key-77e1"));
    let http = Blocking::new().unwrap();
    let resp = http
        .block_on(async { http.client().send_once(&req).await.unwrap() })
        .unwrap();
    assert_eq!(resp.redirect_headers().len(), 1);
    assert_eq!(resp.redirect_headers()[0]["x-repo-commit"], "abc");
    let full = http.block_on(resp.full()).unwrap().unwrap();
    assert_eq!(full.text(), "there");
    let first = &server.join().unwrap()[0];
    assert!(
        first
            .to_ascii_lowercase()
            .contains("authorization: bearer canary-bearer-4d2c"),
        "{first}"
    );
    assert!(first.contains("CANARY-key-77e1"), "{first}");
    assert!(!other_server.join().unwrap()[0].contains("CANARY"));
}

#[test]
fn same_origin_redirects_only_returns_a_redirect_to_another_host() {
    // A same-origin hop is followed; the one to a dead host is the answer.
    let (base, server) = canned(vec![
        "HTTP/1.1 301 Moved\r\nlocation: /simple/x/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
        "HTTP/1.1 303 See Other\r\nlocation: http://127.0.0.1:1/simple/x/\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
    ]);
    let http = Blocking::new().unwrap();
    let req = Request::get(format!("{base}/simple/X")).same_origin_redirects_only();
    let resp = http.send(&req, &quick()).unwrap();
    assert_eq!(resp.status, 303);
    assert_eq!(
        resp.header("location"),
        Some("http://127.0.0.1:1/simple/x/")
    );
    assert_eq!(resp.url.as_str(), format!("{base}/simple/x/"));
    assert_eq!(server.join().unwrap().len(), 2);
    assert_eq!(http.client().requests(), 2);
}

#[test]
fn post_json_sends_its_body_and_length() {
    let (base, server) = canned(vec![
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}".into(),
    ]);
    let resp = Blocking::new()
        .unwrap()
        .send(
            &Request::post_json(format!("{base}/m"), r#"{"token":"t"}"#.into()),
            &quick(),
        )
        .unwrap();
    assert_eq!(resp.text(), "{}");
    let seen = &server.join().unwrap()[0];
    assert!(seen.starts_with("POST /m HTTP/1.1\r\n"), "{seen}");
    let lower = seen.to_ascii_lowercase();
    assert!(lower.contains("content-length: 13\r\n"), "{seen}");
    assert!(
        lower.contains("content-type: application/json\r\n"),
        "{seen}"
    );
    assert!(seen.ends_with("\r\n\r\n{\"token\":\"t\"}"), "{seen}");
}

#[test]
fn a_post_body_never_follows_a_307_to_another_host() {
    let (base, server) = canned(vec![
        "HTTP/1.1 307 Temporary Redirect\r\nlocation: http://localhost:9/steal\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
    ]);
    let err = Blocking::new()
        .unwrap()
        .send(
            &Request::post_json(format!("{base}/mint"), r#"{"token":"CANARY-jwt"}"#.into()),
            &quick(),
        )
        .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("refusing to resend the request body"),
        "{text}"
    );
    assert!(!text.contains("CANARY"));
    // Not retried: a policy decision, not a network fault.
    assert_eq!(server.join().unwrap().len(), 1);
}

#[test]
fn a_post_redirected_by_302_becomes_a_get_without_body() {
    let (base, server) = canned(vec![
        "HTTP/1.1 302 Found\r\nlocation: /done\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            .into(),
        "HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
    ]);
    let resp = Blocking::new()
        .unwrap()
        .send(
            &Request::post_json(format!("{base}/m"), "{\"a\":1}".into()),
            &quick(),
        )
        .unwrap();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.url.path(), "/done");
    let seen = server.join().unwrap();
    assert!(seen[1].starts_with("GET /done "), "{}", seen[1]);
    assert!(!seen[1].contains("{\"a\":1}"));
}

#[test]
fn nothing_secret_in_debug_or_errors() {
    let req = Request::post_json("http://u:CANARY-pw@x/m?k=CANARY-q", "CANARY-body".into())
        .bearer(&Secret::new("CANARY-tok"));
    let dbg = format!("{req:?}");
    assert!(!dbg.contains("CANARY"), "{dbg}");
    let err = Blocking::new()
        .unwrap()
        .send(
            &Request::get("http://u:CANARY-pw@127.0.0.1:1/x?sig=CANARY-sig"),
            &RetryPolicy {
                attempts: 1,
                ..quick()
            },
        )
        .unwrap_err();
    assert!(!format!("{err} {err:?}").contains("CANARY"), "{err:?}");
    assert_eq!(
        describe_str("https://u:p@cdn.example/x?X-Amz-Signature=abc#f"),
        "https://cdn.example/x"
    );
}

#[test]
fn ssl_cert_file_that_is_not_pem_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("ca.pem");
    std::fs::write(&f, "not a certificate").unwrap();
    let mut roots = rustls::RootCertStore::empty();
    let err = super::tls::add_pem_file(&mut roots, &f).unwrap_err();
    assert!(err.to_string().contains("SSL_CERT_FILE="), "{err}");
    assert!(err.to_string().contains("no PEM certificate"), "{err}");
}

#[test]
fn plain_http_never_sets_up_tls() {
    let (base, server) = canned(vec![
        "HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok".into(),
    ]);
    let http = Blocking::new().unwrap();
    let resp = http
        .send(&Request::get(format!("{base}/x")), &quick())
        .unwrap();
    assert_eq!(resp.status, 200);
    // SSL_CERT_FILE (a whole CA bundle) is read only for https://.
    assert!(http.client().tls.get().is_none());
    assert!(http.client().plain.get().is_some());
    server.join().unwrap();
}

#[test]
fn describe_drops_user_info_query_and_fragment_even_from_text_that_is_no_url() {
    for (text, shown) in [
        (
            "https://u:CANARY@h.example/simple/?t=CANARY#CANARY",
            "https://h.example/simple/",
        ),
        (
            "http://127.0.0.1:8080/simple/#CANARY",
            "http://127.0.0.1:8080/simple/",
        ),
        (
            "redis://:CANARY@127.0.0.1:6379/0",
            "redis://127.0.0.1:6379/0",
        ),
        // Not URLs (no scheme, a bad port): still no user info.
        ("user:CANARY@index.example/simple/", "index.example/simple/"),
        (
            "http://u:CANARY@h.example:99999/x?q",
            "http://h.example:99999/x",
        ),
        ("http://u:CANARY@[::1/x#f", "http://[::1/x"),
        ("just-a-name", "just-a-name"),
    ] {
        let got = describe_str(text);
        assert_eq!(got, shown, "{text}");
        assert!(!got.contains("CANARY"));
    }
}

/// A server that answers every request with `head` and then, when
/// `endless`, chunk after chunk of `{"a":[` as fast as it can, until the
/// client goes away.
fn hostile(head: &'static str, endless: bool) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                let _ = s.read(&mut buf);
                if s.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let chunk = format!(
                    "10000\r\n{}\r\n",
                    "{\"a\":[".repeat(65536 / 6 + 1)[..65536].to_owned()
                );
                while endless && s.write_all(chunk.as_bytes()).is_ok() {}
                // Otherwise hold the connection open, sending nothing.
                std::thread::sleep(Duration::from_secs(30));
            });
        }
    });
    format!("http://{addr}")
}

#[test]
fn a_content_length_above_the_limit_fails_before_reading() {
    let base = hostile(
        "HTTP/1.1 200 OK\r\ncontent-length: 68719476736\r\n\r\n",
        false,
    );
    let started = std::time::Instant::now();
    let err = Blocking::new()
        .unwrap()
        .send(&Request::get(format!("{base}/x?token=CANARY")), &quick())
        .unwrap_err();
    let Failure::Network { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(error.is_too_large(), "{error}");
    let text = error.to_string();
    assert!(text.contains("announces 68719476736 bytes"), "{text}");
    assert!(text.contains("32 MiB"), "{text}");
    assert!(
        text.contains(&format!("{base}/x")) && !text.contains("CANARY"),
        "{text}"
    );
    // Nothing was awaited: the server sends no byte of the body.
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_endless_body_stops_at_the_limit_fast() {
    let base = hostile(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n",
        true,
    );
    let started = std::time::Instant::now();
    let err = Blocking::new()
        .unwrap()
        .send_within(&Request::get(format!("{base}/x")), &quick(), 1 << 20)
        .unwrap_err();
    let Failure::Network { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert!(error.is_too_large(), "{error}");
    assert!(
        error.to_string().contains("went on past 1 MiB, the most"),
        "{error}"
    );
    assert!(!error.is_transient(), "a body too large is not retried");
    assert!(started.elapsed() < Duration::from_secs(5));
    // The default limit, on the async client, the same way.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let err = rt
        .block_on(async {
            let c = Client::new().unwrap();
            let r = c
                .send(&Request::get(format!("{base}/y")), &quick())
                .await
                .unwrap();
            r.full().await
        })
        .unwrap_err();
    assert!(err.to_string().contains("went on past 32 MiB"), "{err}");
}
