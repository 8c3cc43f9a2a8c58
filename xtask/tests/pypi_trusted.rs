//! Trusted publishing in GitHub Actions mode against the local OIDC
//! stand-in, whose minted token is the password pypiserver accepts.

mod support;

use support::{Project, canary};
use testkit::oidc::{OidcConfig, OidcStandIn};
use testkit::pypi_index::PypiServer;

fn actions_env<'a>(
    stand_in: &'a OidcStandIn,
    request_token: &'a str,
    summary: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("GITHUB_ACTIONS", "true"),
        ("GITHUB_REPOSITORY", "acme/mult-agentes"),
        (
            "GITHUB_WORKFLOW_REF",
            "acme/mult-agentes/.github/workflows/release.yml@refs/tags/v0.1.0",
        ),
        (
            "ACTIONS_ID_TOKEN_REQUEST_URL",
            stand_in.id_token_request_url.as_str(),
        ),
        ("ACTIONS_ID_TOKEN_REQUEST_TOKEN", request_token),
        ("GITHUB_STEP_SUMMARY", summary),
    ]
}

#[test]
fn mints_masks_and_uploads_without_a_password() {
    let minted = format!("pypi-{}", canary("minted"));
    let request_token = canary("request");
    let server = PypiServer::start(&minted).unwrap();
    let stand_in = OidcStandIn::start(OidcConfig {
        audience: "pypi".into(),
        request_token: request_token.clone(),
        minted_token: minted.clone(),
        fail_with: None,
    })
    .unwrap();
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let summary = project.root().join("summary.md");
    let summary_s = summary.display().to_string();
    let env = actions_env(&stand_in, &request_token, &summary_s);
    let run = project
        .xtask(
            &[
                "publish",
                "--repository-url",
                &server.url,
                "--oidc-url",
                &stand_in.base_url,
            ],
            &env,
        )
        .expect(0);

    // The minted token is masked first: every ::add-mask:: line comes
    // before any other stdout line, and the raw token is among them.
    let stdout = run.stdout();
    let lines: Vec<&str> = stdout.lines().collect();
    let masks = lines
        .iter()
        .take_while(|l| l.starts_with("::add-mask::"))
        .count();
    assert!(masks >= 1, "{}", run.all());
    assert!(
        lines[..masks].contains(&format!("::add-mask::{minted}").as_str()),
        "{}",
        run.all()
    );
    assert!(
        lines[masks..]
            .iter()
            .all(|l| !l.starts_with("::add-mask::"))
    );
    // Apart from its mask lines, neither token appears anywhere.
    let rest = lines[masks..].join("\n") + &run.stderr();
    assert!(!rest.contains(&minted[5..]), "{}", run.all());
    assert!(!rest.contains(&request_token), "{}", run.all());
    assert_eq!(rest.matches("  uploaded").count(), 2, "{}", run.all());
    assert!(run.stderr().contains("trusted publishing"), "{}", run.all());

    assert_eq!(server.files().len(), 2);
    let seen = stand_in.seen();
    assert_eq!(seen.minted, 1);
    assert_eq!(seen.id_token_auth, [format!("Bearer {request_token}")]);
    assert!(
        seen.requests
            .iter()
            .any(|r| r.starts_with("GET /_actions/id-token?api-version=2.0&audience=pypi")),
        "{:?}",
        seen.requests
    );
    let md = std::fs::read_to_string(&summary).unwrap();
    assert!(
        md.contains("mult_agentes-0.1.0.tar.gz") && md.contains("Uploaded"),
        "{md}"
    );
    assert!(!md.contains(&minted[5..]) && !md.contains(&request_token));
}

#[test]
fn refused_mint_says_what_to_configure() {
    let request_token = canary("request2");
    let server = PypiServer::start("pypi-never-used-password-0000").unwrap();
    let stand_in = OidcStandIn::start(OidcConfig {
        audience: "pypi".into(),
        request_token: request_token.clone(),
        minted_token: "pypi-unused".into(),
        fail_with: Some("invalid-publisher".into()),
    })
    .unwrap();
    let project = Project::new();
    project.xtask(&["build"], &[]).expect(0);
    let summary = project.root().join("summary.md").display().to_string();
    let env = actions_env(&stand_in, &request_token, &summary);
    let run = project
        .xtask(
            &[
                "publish",
                "--repository-url",
                &server.url,
                "--oidc-url",
                &stand_in.base_url,
            ],
            &env,
        )
        .expect(1);
    let err = run.stderr();
    assert!(err.contains("invalid-publisher"), "{}", run.all());
    assert!(
        err.contains("/manage/project/mult-agentes/settings/publishing/"),
        "{}",
        run.all()
    );
    assert!(
        err.contains("acme/mult-agentes") && err.contains("release.yml"),
        "{}",
        run.all()
    );
    // Only ::add-mask:: lines may carry it.
    assert!(
        run.all()
            .lines()
            .all(|l| l.starts_with("::add-mask::") || !l.contains(&request_token)),
        "{}",
        run.all()
    );
    assert!(server.files().is_empty());

    // Outside a job with `id-token: write`: exit 3, and the fix says so.
    let run = project
        .xtask(
            &["publish", "--repository-url", &server.url],
            &[("GITHUB_ACTIONS", "true")],
        )
        .expect(3);
    assert!(run.stderr().contains("id-token: write"), "{}", run.all());
}
