//! A project adopting release-kit declares its own variables: after
//! `init`, `env status`, `env check`, `env example`, `env init` and
//! `env verify` know its publishing credentials and what its
//! release-kit.toml declares, and nothing of the bundled example
//! (mult-agentes). A declared secret is masked like a built-in one.

#![cfg(unix)]

mod support;

use std::path::Path;

use support::{text, xtask};

/// The example's variables, none of which another project has.
const EXAMPLE_ONLY: &[&str] = &[
    "ANTHROPIC_API_KEY",
    "AUDIT_HMAC_KEY",
    "DASHBOARD_API_KEY",
    "DASHBOARD_URL",
    "FRAMEWORK_DIR",
    "REDIS_URL",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "AWS_ACCESS_KEY_ID",
    "S3_AUDIT_BUCKET",
    "ORG_DOMAIN",
    "VSCE_PAT",
    "HF_TOKEN",
];

/// Its own two variables: a secret whose name does not look secret (only
/// the declaration makes it one) and an integer with a default.
const DECLARED: &str = r#"
[[variables]]
name = "PAYMENT_GATEWAY"
kind = "secret"
group = "Shop"
description = "Credential of the payment gateway"
needed-by = ["checkout"]
production = "required"

[[variables]]
name = "WORKERS"
kind = "integer"
group = "Shop"
needed-by = ["checkout"]
default = "4"
"#;

/// A canary secret value: it must never come out.
const CANARY: &str = "CNRYpayment-7Qz-4d9e1f0a";

/// A Python project of our own, after `init`, with its declarations.
fn shop() -> tempfile::TempDir {
    let dir = support::folder_with(&[(
        "pyproject.toml",
        "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n\n\
         [project]\nname = \"shop\"\nversion = \"0.1.0\"\n",
    )]);
    let out = xtask(dir.path(), &[], &["init"]);
    assert!(out.status.success(), "{}", text(&out));
    let toml = std::fs::read_to_string(dir.path().join("release-kit.toml")).unwrap();
    for name in EXAMPLE_ONLY {
        assert!(!toml.contains(name), "init wrote {name}:\n{toml}");
    }
    assert!(
        toml.contains("implies TWINE_USERNAME, TWINE_PASSWORD, TWINE_PASSWORD_TEST"),
        "{toml}"
    );
    std::fs::write(dir.path().join("release-kit.toml"), toml + DECLARED).unwrap();
    dir
}

fn assert_no_example(what: &str, t: &str) {
    for name in EXAMPLE_ONLY {
        assert!(!t.contains(name), "{what} shows {name}:\n{t}");
    }
}

fn assert_no_canary(what: &str, t: &str) {
    assert!(!t.contains("CNRY"), "{what} leaked the canary:\n{t}");
}

#[test]
fn a_new_project_sees_only_its_own_variables() {
    let dir = shop();
    let root = dir.path();
    // env example: the publishing credentials and the declarations.
    let out = xtask(root, &[], &["env", "example", "--check"]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "init's .env.example lacks the declarations: {}",
        text(&out)
    );
    let out = xtask(root, &[], &["env", "example"]);
    assert!(out.status.success(), "{}", text(&out));
    let example = std::fs::read_to_string(root.join(".env.example")).unwrap();
    let names: Vec<&str> = example
        .lines()
        .filter_map(|l| l.strip_suffix('='))
        .collect();
    assert_eq!(
        names,
        [
            "TWINE_USERNAME",
            "TWINE_PASSWORD",
            "TWINE_PASSWORD_TEST",
            "PAYMENT_GATEWAY",
            "WORKERS"
        ]
    );
    assert!(example.contains("# --- Shop ---"), "{example}");
    assert!(
        example.contains("default `4`; secret") || example.contains("default `4`."),
        "{example}"
    );
    assert!(
        xtask(root, &[], &["env", "example", "--check"])
            .status
            .success()
    );
    // env status: the same five, in that order; the project's step.
    let out = xtask(root, &[], &["--no-env-file", "env", "status", "--json"]);
    assert!(out.status.success(), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let vars = json["variables"].as_array().unwrap();
    let got: Vec<&str> = vars.iter().map(|v| v["name"].as_str().unwrap()).collect();
    assert_eq!(got, names);
    let workers = &vars[4];
    assert_eq!(workers["kind"], "integer");
    assert_eq!(workers["source"], "default");
    assert_eq!(workers["required_for"], serde_json::json!(["checkout"]));
    assert_eq!(vars[3]["secret"], true);
    let out = xtask(root, &[], &["--no-env-file", "env", "status"]);
    assert_no_example("env status", &text(&out));
    assert!(text(&out).contains("PAYMENT_GATEWAY"), "{}", text(&out));
    // env check: the declared step needs the secret; a bad integer is named.
    let out = xtask(
        root,
        &[],
        &["--no-env-file", "env", "check", "--for", "checkout"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("PAYMENT_GATEWAY: is not set; needed by checkout"),
        "{}",
        text(&out)
    );
    let env = [("PAYMENT_GATEWAY", CANARY), ("WORKERS", "many")];
    let out = xtask(
        root,
        &env,
        &["--no-env-file", "env", "check", "--for", "checkout"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).contains("WORKERS: is not valid: expected a positive whole number"),
        "{}",
        text(&out)
    );
    assert!(!text(&out).contains("PAYMENT_GATEWAY"), "{}", text(&out));
    assert_no_canary("env check", &text(&out));
    // The example's steps are not this project's.
    let out = xtask(
        root,
        &[],
        &["--no-env-file", "env", "check", "--for", "dashboard"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("publish, publish-testpypi, checkout"),
        "{}",
        text(&out)
    );
    // env init writes no example key; env verify has only PyPI's check.
    let out = xtask(root, &[], &["env", "init"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(!text(&out).contains("fresh"), "{}", text(&out));
    let env_file = std::fs::read_to_string(root.join(".env")).unwrap();
    assert_no_example(".env", &env_file);
    assert!(env_file.contains("# WORKERS=4\n"), "{env_file}");
    let out = xtask(root, &[], &["--no-env-file", "env", "verify", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let ids: Vec<&str> = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pypi"], "{json}");
}

/// Canary: the declared secret, set in `.env` and in the environment, is
/// never printed by status or check, nor written by an export (masked in
/// its message), and is kept from child tools like a built-in secret.
#[test]
fn a_declared_secret_never_comes_out() {
    let dir = shop();
    let root = dir.path();
    std::fs::write(
        root.join(".env"),
        format!("PAYMENT_GATEWAY='{CANARY}'\nWORKERS=8\n"),
    )
    .unwrap();
    for args in [
        &["env", "status"][..],
        &["env", "status", "--json"],
        &["env", "check"],
        &["env", "check", "--json"],
        &["env", "check", "--for", "checkout", "--production"],
        &["env", "check", "--for", "nope"],
        &["env", "verify"],
        &["env", "export", "--to", "github", "--dry-run"],
    ] {
        let out = xtask(root, &[], args);
        assert_no_canary(&format!("{args:?}"), &text(&out));
    }
    let out = xtask(root, &[], &["env", "status", "--json"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let secret = &json["variables"][3];
    assert_eq!(secret["name"], "PAYMENT_GATEWAY");
    assert_eq!(
        (secret["set"].as_bool(), secret["secret"].as_bool()),
        (Some(true), Some(true))
    );
    let out = xtask(
        root,
        &[],
        &["env", "check", "--for", "checkout", "--production"],
    );
    assert!(out.status.success(), "{}", text(&out));
    // A value clap quotes back (a short word it would show) is masked
    // when it is the declared secret's: the project's registry, not the
    // name, makes it a secret.
    let short = "CNRYpay7Qz";
    std::fs::write(root.join(".env"), format!("PAYMENT_GATEWAY={short}\n")).unwrap();
    let out = xtask(root, &[], &["env", "gen-key", "--bytes", short]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--bytes"), "{}", text(&out));
    assert_no_canary("clap's error", &text(&out));
    // A value the CLI quotes back (a pasted argument) is masked: the
    // registry, not the name, makes it a secret.
    let out = xtask(root, &[], &["env", "check", "--for", CANARY]);
    assert_eq!(out.status.code(), Some(2));
    assert_no_canary("a pasted value", &text(&out));
}

/// A declaration release-kit cannot use stops every command with the file,
/// the line and the fix; nothing is written.
#[test]
fn wrong_declarations_name_the_file_line_and_fix() {
    let dir = shop();
    let root = dir.path();
    let file = root.join("release-kit.toml");
    let base = std::fs::read_to_string(&file).unwrap();
    let line_of = |needle: &str, text: &str| {
        // The last line holding it: the entry added at the end.
        let lines: Vec<&str> = text.lines().collect();
        lines.iter().rposition(|l| l.contains(needle)).unwrap() + 1
    };
    for (extra, want, at) in [
        (
            "\n[[variables]]\nname = \"QUEUE\"\nkind = \"rabbit-url\"\n",
            "unknown variant `rabbit-url`, expected one of",
            "rabbit-url",
        ),
        (
            "\n[[variables]]\nname = \"QUEUE\"\nkind = \"url\"\nneded-by = [\"app\"]\n",
            "unknown field `neded-by`",
            "neded-by",
        ),
        (
            "\n[[variables]]\nname = \"QUEUE\"\nkind = \"integer\"\ndefault = \"lots\"\n",
            "[[variables]] QUEUE: its `default` is not a valid integer: expected a positive whole number; see docs/configuration.md",
            "[[variables]]",
        ),
    ] {
        let text_now = base.clone() + extra;
        std::fs::write(&file, &text_now).unwrap();
        let out = xtask(root, &[], &["--no-env-file", "env", "status"]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(3), "{t}");
        assert!(t.contains(want), "{t}");
        assert!(t.contains(&file.display().to_string()), "{t}");
        let line = line_of(at, &text_now);
        assert!(
            t.contains(&format!("line {line},"))
                || t.contains(&format!("release-kit.toml:{line}:")),
            "not at line {line}: {t}"
        );
        assert!(!Path::new(&root.join(".env")).exists());
    }
}

/// Canary: a declared secret in the process environment is kept from a
/// child tool's environment and argv (as a built-in secret is), though its
/// name does not look secret; `env export --to github` hands it to gh on
/// standard input only.
#[test]
fn a_declared_secret_stays_out_of_child_tools() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = shop();
    let root = dir.path();
    let bin = root.join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = root.join("gh-log");
    let gh = bin.join("gh");
    std::fs::write(
        &gh,
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > \"$GH_LOG.argv\"\nenv > \"$GH_LOG.env\"\ncat > \"$GH_LOG.stdin\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let log_arg = log.display().to_string();
    let env = [
        ("PAYMENT_GATEWAY", CANARY),
        ("PATH", path.as_str()),
        ("GH_LOG", log_arg.as_str()),
    ];
    let out = xtask(
        root,
        &env,
        &[
            "--no-env-file",
            "env",
            "export",
            "--to",
            "github",
            "--group",
            "shop",
            "--repo",
            "o/r",
        ],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_no_canary("env export", &text(&out));
    let read = |ext: &str| std::fs::read_to_string(format!("{log_arg}.{ext}")).unwrap();
    assert_eq!(read("argv"), "secret\nset\nPAYMENT_GATEWAY\n--repo\no/r\n");
    assert_no_canary("gh's environment", &read("env"));
    assert!(
        read("env").contains("GH_LOG="),
        "the dump is gh's environment"
    );
    assert_eq!(read("stdin"), CANARY);
}

/// A generated key the project declares is what `env init` fills (and
/// only it), at the size declared.
#[test]
fn env_init_generates_the_declared_keys() {
    let dir = shop();
    let root = dir.path();
    let file = root.join("release-kit.toml");
    let toml = std::fs::read_to_string(&file).unwrap()
        + "\n[[variables]]\nname = \"SESSION_KEY\"\nkind = \"hex-key\"\nbytes = 16\n";
    std::fs::write(&file, toml).unwrap();
    let out = xtask(root, &[], &["env", "init"]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("with fresh SESSION_KEY;"),
        "{}",
        text(&out)
    );
    let env = std::fs::read_to_string(root.join(".env")).unwrap();
    let key = env
        .lines()
        .find_map(|l| l.strip_prefix("SESSION_KEY="))
        .expect("the key is filled");
    assert!(
        key.len() == 32 && key.bytes().all(|b| b.is_ascii_hexdigit()),
        "{key}"
    );
    assert!(!text(&out).contains(key), "the key was printed");
    let filled: Vec<&str> = env
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains('='))
        .collect();
    assert_eq!(filled.len(), 1, "{env}");
    let out = xtask(root, &[], &["env", "check", "--for", "checkout"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(!text(&out).contains("SESSION_KEY"), "{}", text(&out));
}
