//! `env rotate VAR --actions OWNER/REPO`: the old value searched for in the
//! logs of the repository's recent GitHub Actions runs, through a local
//! stand-in of the REST API (the runs listing, the 302 to a zip on another
//! host:port). Found plain and base64 with the run, job file and line; the
//! token reaches the API only, never the redirect's host; a hostile
//! stand-in (endless body, zip bomb member, climbing member names, not a
//! zip) is bounded and does not crash; the token and the old value are
//! never printed.

mod support;

use std::path::Path;
use std::process::Output;

use support::{assert_not_in_files, canary, text, xtask};
use testkit::github_actions::{GithubActions, Logs, Run};
use testkit::hostile::{Hostile, Reply};

/// A zip of `members` (name, content) as Python's zipfile writes it
/// (deflated), at `path`; returns its bytes.
fn zip_of(dir: &Path, members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let path = dir.join(format!("logs-{}.zip", members.len()));
    let mut listing = String::new();
    for (i, (name, content)) in members.iter().enumerate() {
        let file = dir.join(format!("member-{i}"));
        std::fs::write(&file, content).unwrap();
        listing.push_str(&format!("{}\t{}\n", file.display(), name));
    }
    let list = dir.join("members.tsv");
    std::fs::write(&list, listing).unwrap();
    support::python(
        "import sys, zipfile\n\
         with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:\n\
         \tfor line in open(sys.argv[2], encoding='utf-8').read().splitlines():\n\
         \t\tsrc, name = line.split('\\t', 1)\n\
         \t\tz.writestr(name, open(src, 'rb').read())\n",
        [path.as_os_str(), list.as_os_str()],
    );
    std::fs::read(&path).unwrap()
}

/// A git repository at `root` with one clean commit.
fn repo(root: &Path) {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("README.md"), "# app\n").unwrap();
    // A project whose variables hold HF_TOKEN (the example's).
    support::declare_example_variables(root);
    for args in [
        &["init", "-q", "-b", "main"][..],
        &["add", "-A"],
        &["commit", "-q", "-m", "init"],
    ] {
        let out = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args(args)
            .current_dir(root)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out));
    }
}

fn rotate(root: &Path, env: &[(&str, &str)], extra: &[&str]) -> Output {
    let r = root.display().to_string();
    let mut args = vec!["env", "rotate", "HF_TOKEN", "--root", &r, "--no-env-file"];
    args.extend_from_slice(extra);
    xtask(root, env, &args)
}

#[test]
fn the_old_value_is_found_in_run_logs_and_the_token_goes_to_the_api_only() {
    use base64::Engine as _;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    repo(&root);
    let old = format!("hf_{}", canary("rotactold"));
    let gh = format!("ghp_{}", canary("rotactgh"));
    let b64 = base64::engine::general_purpose::STANDARD.encode(format!("HF_TOKEN={old}"));
    let leaking = zip_of(
        tmp.path(),
        &[
            (
                "0_build.txt",
                format!("2026-12-01T10:00:00Z start\n{b64}\n").into_bytes(),
            ),
            ("build/", Vec::new()),
            (
                "build/3_Run tests.txt",
                format!("2026-12-01T10:00:01Z env\n2026-12-01T10:00:02Z HF_TOKEN={old}\n")
                    .into_bytes(),
            ),
        ],
    );
    let clean = zip_of(
        tmp.path(),
        &[("release/1_Set up job.txt", b"nothing here\n".to_vec())],
    );
    let server = GithubActions::start(
        "octo/app",
        &gh,
        vec![
            Run {
                id: 1001,
                name: "CI".into(),
                run_number: 7,
                logs: Logs::Zip(leaking),
            },
            Run {
                id: 1000,
                name: "Release".into(),
                run_number: 6,
                logs: Logs::Zip(clean),
            },
            Run {
                id: 999,
                name: "CI".into(),
                run_number: 5,
                logs: Logs::Gone,
            },
        ],
    );
    let api = server.api_url();
    let old_file = tmp.path().join("old.txt");
    std::fs::write(&old_file, format!("{old}\n")).unwrap();
    let env = [("GH_TOKEN", gh.as_str()), ("GITHUB_API_URL", api.as_str())];
    let out = rotate(
        &root,
        &env,
        &[
            "--leaked",
            "--old-from",
            old_file.to_str().unwrap(),
            "--actions",
            "octo/app",
        ],
    );
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("actions run 1001 (CI #7) build/3_Run tests.txt:2:"),
        "{all}"
    );
    assert!(
        all.contains("actions run 1001 (CI #7) 0_build.txt:2:"),
        "{all}"
    );
    assert!(all.contains("(base64)"), "{all}");
    assert!(all.contains("gh run delete 1001 --repo octo/app"), "{all}");
    assert!(
        all.contains("gh api -X DELETE repos/octo/app/actions/runs/1001/logs"),
        "{all}"
    );
    assert!(!all.contains("run 1000 ("), "{all}");
    assert!(all.contains("999") && all.contains("no logs"), "{all}");
    // The token went to the API, with every request, and never to the
    // host the logs were redirected to.
    let api_seen = server.api_seen();
    assert_eq!(api_seen.len(), 4, "{api_seen:?}");
    assert!(
        api_seen[0]
            .path
            .starts_with("/repos/octo/app/actions/runs?per_page=30")
    );
    let bearer = format!("Bearer {gh}");
    assert!(
        api_seen
            .iter()
            .all(|s| s.header("authorization") == Some(bearer.as_str()))
    );
    let blob_seen = server.blob_seen();
    assert_eq!(blob_seen.len(), 2, "{blob_seen:?}");
    for s in &blob_seen {
        assert!(s.header("authorization").is_none(), "{s:?}");
        assert!(!format!("{:?}", s.headers).contains(&gh), "{s:?}");
    }
    // Neither the token nor the old value (in any form) is printed or written.
    for secret in [&gh, &old, &b64] {
        assert!(!all.contains(secret.as_str()), "{all}");
        assert_not_in_files(&root, secret);
    }
    // --purge-logs, after the whole search: the logs of the run that
    // printed it are deleted, the others left; searched again, it is gone.
    let purge = [
        "--leaked",
        "--old-from",
        old_file.to_str().unwrap(),
        "--actions",
        "octo/app",
    ];
    let out = rotate(&root, &env, &[&purge[..], &["--purge-logs"]].concat());
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("done: the logs of GitHub Actions run 1001 (CI #7) of octo/app"),
        "{all}"
    );
    let deletes: Vec<String> = server
        .api_seen()
        .into_iter()
        .filter(|s| s.method == "DELETE")
        .map(|s| s.path)
        .collect();
    assert_eq!(deletes, ["/repos/octo/app/actions/runs/1001/logs"]);
    let out = rotate(&root, &env, &purge);
    assert!(!text(&out).contains("actions run 1001"), "{}", text(&out));
    for secret in [&gh, &old, &b64] {
        assert!(!all.contains(secret.as_str()), "{all}");
    }
    let seen_before = server.api_seen().len();
    // Check first: no token, or an API that would get it in clear, is
    // exit 3 before any request.
    let out = rotate(
        &root,
        &[("GITHUB_API_URL", api.as_str())],
        &["--actions", "octo/app"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("GH_TOKEN or GITHUB_TOKEN"),
        "{}",
        text(&out)
    );
    let out = rotate(
        &root,
        &[
            ("GH_TOKEN", gh.as_str()),
            ("GITHUB_API_URL", "http://api.example.com"),
        ],
        &["--actions", "octo/app"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!text(&out).contains(&gh));
    assert_eq!(server.api_seen().len(), seen_before);
}

/// A token that may only read: the purge is refused, said (exit 1), and
/// the runbook still names the run and the command.
#[test]
fn a_purge_the_token_may_not_do_is_said() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    repo(&root);
    let old = format!("hf_{}", canary("rotpurgeold"));
    let gh = format!("ghp_{}", canary("rotpurgegh"));
    let zip = zip_of(
        tmp.path(),
        &[("0_ci.txt", format!("HF_TOKEN={old}\n").into_bytes())],
    );
    let run = Run {
        id: 77,
        name: "CI".into(),
        run_number: 1,
        logs: Logs::Zip(zip),
    };
    let server = GithubActions::with_access("octo/app", &gh, vec![run], false);
    let api = server.api_url();
    let env = [
        ("GH_TOKEN", gh.as_str()),
        ("GITHUB_API_URL", api.as_str()),
        ("HF_TOKEN", old.as_str()),
    ];
    let args = ["--leaked", "--actions", "octo/app", "--purge-logs"];
    let out = rotate(&root, &env, &args);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("the logs of Actions run 77 (CI #1) were not deleted: 403"),
        "{all}"
    );
    assert!(all.contains("gh run delete 77 --repo octo/app"), "{all}");
    for secret in [&gh, &old] {
        assert!(!all.contains(secret.as_str()), "{all}");
    }
    // --purge-logs is for a leak searched in Actions: refused alone.
    let out = rotate(&root, &env, &["--purge-logs"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
}

#[test]
fn a_hostile_api_is_bounded_and_does_not_crash() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("app");
    repo(&root);
    let old = format!("hf_{}", canary("rothostold"));
    let gh = format!("ghp_{}", canary("rothostgh"));
    let endless = Hostile::start(|_| Reply::Endless {
        content_type: "application/zip".into(),
        open: "PK".into(),
        repeat: "0123456789abcdef".into(),
    });
    let bomb = zip_of(
        tmp.path(),
        &[
            ("bomb.txt", vec![b'A'; 100 << 20]),
            ("../../escape.txt", format!("HF_TOKEN={old}\n").into_bytes()),
            ("job\u{1b}[2J/1_step.txt", format!("x {old}\n").into_bytes()),
        ],
    );
    let server = GithubActions::start(
        "octo/app",
        &gh,
        vec![
            Run {
                id: 3,
                name: "Endless".into(),
                run_number: 3,
                logs: Logs::At(format!("{}/x.zip", endless.url())),
            },
            Run {
                id: 2,
                name: "Bomb".into(),
                run_number: 2,
                logs: Logs::Zip(bomb),
            },
            Run {
                id: 1,
                name: "Garbage".into(),
                run_number: 1,
                logs: Logs::Zip(b"not a zip at all".to_vec()),
            },
        ],
    );
    let api = server.api_url();
    let env = [
        ("GH_TOKEN", gh.as_str()),
        ("GITHUB_API_URL", api.as_str()),
        ("HF_TOKEN", old.as_str()),
    ];
    let started = std::time::Instant::now();
    let out = rotate(&root, &env, &["--actions", "octo/app"]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(started.elapsed().as_secs() < 120, "{:?}", started.elapsed());
    assert!(
        all.contains("Actions run 3 (Endless #3): logs not read"),
        "{all}"
    );
    assert!(all.contains("bomb.txt: inflates past 64 MiB"), "{all}");
    assert!(
        all.contains("actions run 2 (Bomb #2) ../../escape.txt:1:"),
        "{all}"
    );
    assert!(!all.contains('\u{1b}'), "{all}");
    assert!(
        all.contains("actions run 1 (Garbage #1): the logs are not readable"),
        "{all}"
    );
    // A name with a terminal escape is shown cleaned.
    assert!(
        all.contains("actions run 2 (Bomb #2) job?[2J/1_step.txt:1:3"),
        "{all}"
    );
    assert!(all.contains("not a zip"), "{all}");
    // A name that climbs is data: nothing is written anywhere.
    assert!(!tmp.path().join("escape.txt").exists());
    assert!(!root.join("escape.txt").exists());
    for secret in [&gh, &old] {
        assert!(!all.contains(secret.as_str()), "{all}");
    }
}
