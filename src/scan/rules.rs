//! The patterns of the credentials this project handles, each with the
//! checks that keep documentation placeholders (`sk-ant-...`,
//! `pypi-AgEI...`, `AKIAIOSFODNN7EXAMPLE`) from firing.
//!
//! Every pattern runs in ASCII mode (`(?-u)`): the formats are ASCII, and
//! ASCII classes keep the DFA small and fast.

use super::checks::{
    distinct, generic_value, github_token, is_placeholder_word, mixed_case, not_placeholder,
    random_looking,
};

/// One rule: a credential format.
#[derive(Debug)]
pub struct Rule {
    /// Its name in findings and in `--json` (`hf-token`).
    pub id: &'static str,
    /// What it finds, one line.
    pub about: &'static str,
    /// Literals one of which every match (or, with `near`, its context)
    /// contains: one automaton over all rules' anchors is the prefilter,
    /// and a rule's full pattern only runs on text where one was seen.
    pub(crate) anchors: &'static [Anchor],
    /// A cheap necessary condition on a block for the full pattern to
    /// match anywhere in it (a byte it cannot do without): blocks failing
    /// it skip the pattern, whatever the anchors say.
    pub(crate) precheck: Option<fn(&[u8]) -> bool>,
    /// When every match is one whole word of exactly this many bytes that
    /// starts with an anchor: the full pattern then runs only at anchor
    /// hits, on the span (matches of whole words cannot overlap, so this
    /// finds what a pass over the block would).
    pub(crate) span: Option<usize>,
    /// The full pattern; the group `s` is the secret (masked, fingerprinted),
    /// the rest of the match is shown (`hf_`, `redis://:`, `API_KEY=`).
    pub(crate) pattern: &'static str,
    /// A pattern that must match within `near_lines` lines of the match
    /// (same line included), for formats too plain to stand alone.
    pub(crate) near: Option<&'static str>,
    /// How many lines before and after `near` may be.
    pub(crate) near_lines: usize,
    /// A last check of the secret's text.
    pub(crate) check: fn(&[u8]) -> bool,
    /// For a rule that reads a name (group `n`): whether it names a secret.
    pub(crate) name: Option<fn(&[u8]) -> bool>,
}

/// A literal of a rule's prefilter.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Anchor {
    /// These bytes, exactly.
    Exact(&'static str),
    /// These bytes in any ASCII case.
    Fold(&'static str),
}

use Anchor::{Exact, Fold};

/// The access key id prefixes (`A3T` takes one more character).
const AWS_PREFIXES: [Anchor; 13] = [
    Exact("A3T"),
    Exact("AKIA"),
    Exact("ASIA"),
    Exact("ABIA"),
    Exact("ACCA"),
    Exact("AGPA"),
    Exact("AIDA"),
    Exact("AIPA"),
    Exact("ANPA"),
    Exact("ANVA"),
    Exact("APKA"),
    Exact("AROA"),
    Exact("ASCA"),
];

/// Every rule, in reporting order.
pub static RULES: &[Rule] = &[
    Rule {
        id: "pypi-token",
        about: "PyPI or TestPyPI API token (pypi- + a macaroon for pypi.org or test.pypi.org)",
        anchors: &[Exact("pypi-AgE")],
        precheck: None,
        span: None,
        // base64url of the macaroon's header: 0x02, location packet, domain.
        pattern: r"pypi-(?P<s>AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[A-Za-z0-9_-]{50,})",
        near: None,
        near_lines: 0,
        check: not_placeholder,
        name: None,
    },
    Rule {
        id: "anthropic-key",
        about: "Anthropic API or admin key (sk-ant-api03-…, sk-ant-admin01-…)",
        anchors: &[Exact("sk-ant-")],
        precheck: None,
        span: None,
        pattern: r"sk-ant-(?:api|admin)[0-9]{2}-(?P<s>[A-Za-z0-9_-]{80,120})",
        near: None,
        near_lines: 0,
        check: not_placeholder,
        name: None,
    },
    Rule {
        id: "hf-token",
        about: "Hugging Face token (hf_ + 34 letters)",
        anchors: &[Exact("hf_")],
        precheck: None,
        span: None,
        pattern: r"\bhf_(?P<s>[A-Za-z]{34})\b",
        near: None,
        near_lines: 0,
        check: |s| mixed_case(s) && not_placeholder(s),
        name: None,
    },
    Rule {
        id: "github-token",
        about: "GitHub token (ghp_, gho_, ghu_, ghs_, ghr_ + 36, CRC-32 checked)",
        anchors: &[
            Exact("ghp_"),
            Exact("gho_"),
            Exact("ghu_"),
            Exact("ghs_"),
            Exact("ghr_"),
        ],
        precheck: None,
        span: None,
        pattern: r"\bgh[pousr]_(?P<s>[A-Za-z0-9]{36})\b",
        near: None,
        near_lines: 0,
        check: github_token,
        name: None,
    },
    Rule {
        id: "github-fine-grained-pat",
        about: "GitHub fine-grained personal access token (github_pat_ + 22 + _ + 59)",
        anchors: &[Exact("github_pat_")],
        precheck: None,
        span: None,
        pattern: r"\bgithub_pat_(?P<s>[A-Za-z0-9]{22}_[A-Za-z0-9]{59})\b",
        near: None,
        near_lines: 0,
        check: |s| mixed_case(s) && random_looking(s),
        name: None,
    },
    Rule {
        id: "hf-org-token",
        about: "Hugging Face organisation API token (api_org_ + 34 letters)",
        anchors: &[Exact("api_org_")],
        precheck: None,
        span: None,
        pattern: r"\bapi_org_(?P<s>[A-Za-z]{34})\b",
        near: None,
        near_lines: 0,
        check: |s| mixed_case(s) && not_placeholder(s) && distinct(s) >= 10,
        name: None,
    },
    Rule {
        id: "aws-access-key-id",
        about: "AWS access key or unique id (AKIA, ASIA, A3T…, ABIA, ACCA, AGPA, AIDA, AIPA, ANPA, \
                ANVA, APKA, AROA, ASCA + 16)",
        anchors: &AWS_PREFIXES,
        precheck: None,
        // A3T + 1, or a 4-byte prefix, then 16.
        span: Some(20),
        pattern: r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)(?P<s>[A-Z2-7]{16})\b",
        near: None,
        near_lines: 0,
        check: |s| not_placeholder(s) && distinct(s) >= 6,
        name: None,
    },
    Rule {
        id: "aws-secret-access-key",
        about: "AWS secret access key (40 characters) next to an access key id, or named \
                aws_secret_access_key, aws_secret_key or secret_key",
        anchors: &[
            Exact("AKIA"),
            Exact("ASIA"),
            Exact("ABIA"),
            Exact("ACCA"),
            Exact("A3T"),
            Fold("secret_key"),
            Fold("secretkey"),
            Fold("secret_access_key"),
            Fold("secret_accesskey"),
            Fold("secretaccess_key"),
            Fold("secretaccesskey"),
        ],
        precheck: Some(super::checks::has_aws_secret_edge),
        span: None,
        pattern: r"(?m)(?:^|[^A-Za-z0-9/+])(?P<s>[A-Za-z0-9/+]{40})(?:[^A-Za-z0-9/+=]|$)",
        near: Some(
            r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b|(?i)secret_?(?:access_?)?key",
        ),
        near_lines: 5,
        check: |s| {
            s.iter().any(u8::is_ascii_uppercase)
                && s.iter().any(u8::is_ascii_lowercase)
                && s.iter().any(u8::is_ascii_digit)
                && not_placeholder(s)
        },
        name: None,
    },
    Rule {
        id: "azure-devops-pat",
        about: "Azure DevOps personal access token (84 characters, JQQJ99 and AZDO signatures)",
        anchors: &[Exact("JQQJ99")],
        precheck: None,
        span: None,
        pattern: r"\b(?P<s>[A-Za-z0-9]{52}JQQJ99[A-Za-z0-9]{18}AZDO[A-Za-z0-9]{4})\b",
        near: None,
        near_lines: 0,
        check: not_placeholder,
        name: None,
    },
    Rule {
        id: "azure-devops-pat-legacy",
        about: "Azure DevOps personal access token, legacy 52 characters, next to VSCE_PAT or an Azure keyword",
        anchors: &[
            Fold("vsce"),
            Fold("azure"),
            Fold("devops"),
            Fold("azdo"),
            Fold("visualstudio"),
        ],
        precheck: Some(super::checks::has_azure_legacy_run),
        span: None,
        pattern: r"\b(?P<s>[a-z2-7]{52})\b",
        near: Some(r"(?i)vsce|azure|devops|azdo|visualstudio"),
        near_lines: 1,
        check: |s| s.iter().any(u8::is_ascii_digit) && not_placeholder(s),
        name: None,
    },
    Rule {
        id: "redis-url-password",
        about: "Redis URL with a password (redis://[user]:PASSWORD@host)",
        anchors: &[Fold("redis://"), Fold("rediss://")],
        precheck: Some(super::checks::has_url),
        span: None,
        pattern: r#"(?i)rediss?://[^\s:@/'"`]*:(?P<s>[^\s@/'"`]+)@[^\s/'"`]*"#,
        near: None,
        near_lines: 0,
        check: |s| not_placeholder(s) && !is_placeholder_word(s),
        name: None,
    },
    Rule {
        id: "hex-key",
        about: "hex key (32+ hex digits) assigned to a *_KEY, *_TOKEN, *_SECRET or *_PAT name \
                (AUDIT_HMAC_KEY, DASHBOARD_API_KEY, …)",
        anchors: &[Fold("_key"), Fold("_token"), Fold("_secret"), Fold("_pat")],
        precheck: Some(super::checks::has_named_assignment),
        span: None,
        pattern: r#"(?i)\b[A-Z0-9_]*(?:_KEY|_TOKEN|_SECRET|_PAT)["']?[ \t]*(?::=|=>|=|:)[ \t]*["']?(?P<s>[0-9a-f]{32,})\b"#,
        near: None,
        near_lines: 0,
        check: |s| distinct(s) >= 8 && not_placeholder(s),
        name: None,
    },
    Rule {
        id: "generic-secret",
        about: "a random-looking value assigned to a secret's name (api_key, apiToken, \
                client-secret, DB_PASSWORD, …) with =, :, :=, ::=, ?=, => or as a call's \
                (name, value) pair",
        anchors: &[
            Fold("key"),
            Fold("token"),
            Fold("secret"),
            Fold("passw"),
            Fold("pwd"),
            Fold("pat"),
            Fold("cred"),
            Fold("auth"),
        ],
        precheck: Some(super::checks::has_assignment),
        span: None,
        // No counted repetition: a DFA with counters blows up on long runs
        // of name characters (a base64 blob), so lengths are checked after.
        pattern: r#"(?m)(?P<n>[A-Za-z0-9_.-]+)["'`]?(?:[ \t]*:[ \t]*&?(?:'static[ \t]+)?[A-Za-z][A-Za-z0-9_]*(?:<[A-Za-z0-9_]*>)?)?[ \t]*(?:(?::{0,3}=|\?=|=>|:)[ \t]*["'`]?|,[ \t]*["'`])(?P<s>[A-Za-z0-9_.=+/~-]+)(?:["'`\s;,)\]}]|\\[nrt]|$)"#,
        near: None,
        near_lines: 0,
        check: generic_value,
        name: Some(super::checks::secret_name),
    },
];

/// Whether `value` alone (a command-line argument, say) is a credential by
/// one of the formats that stand alone (a GitHub, Hugging Face, PyPI,
/// Anthropic, AWS or Azure DevOps token): for masking it before an error
/// quotes it. Rules that need a name or a neighbour do not count.
pub fn looks_like_credential(value: &str) -> bool {
    static SCANNER: std::sync::OnceLock<Option<super::Scanner>> = std::sync::OnceLock::new();
    let Some(scanner) = SCANNER.get_or_init(|| super::Scanner::new(true, &[]).ok()) else {
        return false;
    };
    let mut out = Vec::new();
    let origin = super::Origin::file("");
    scanner.scan_block(value.trim().as_bytes(), 1, &origin, &mut out);
    out.iter().any(|f| {
        RULES
            .iter()
            .any(|r| r.id == f.rule && r.near.is_none() && r.name.is_none() && r.id != "hex-key")
    })
}

#[cfg(test)]
mod tests {
    use crate::scan::{Origin, Scanner};

    /// The rule ids that fire on `text`.
    fn fired(text: &str) -> Vec<String> {
        let scanner = Scanner::new(true, &[]).unwrap();
        let mut out = Vec::new();
        scanner.scan_block(text.as_bytes(), 1, &Origin::file("t.txt"), &mut out);
        out.into_iter().map(|f| f.rule).collect()
    }

    fn fires(rule: &str, text: &str) {
        assert_eq!(
            fired(text),
            vec![rule.to_string()],
            "{rule} should fire on {text:?}"
        );
    }

    fn silent(text: &str) {
        assert!(
            fired(text).is_empty(),
            "nothing should fire on {text:?}: {:?}",
            fired(text)
        );
    }

    // Realistic shapes built from pieces, so that no complete credential
    // pattern sits in this file for other scanners to trip on.
    fn pypi(index: &str) -> String {
        format!("pypi-{index}{}", "Q2xCdWlsZGVyVG9rZW4K7x_-9".repeat(4))
    }

    #[test]
    fn pypi_tokens() {
        fires(
            "pypi-token",
            &format!("TWINE_PASSWORD={}", pypi("AgEIcHlwaS5vcmc")),
        );
        fires(
            "pypi-token",
            &format!("password: {}", pypi("AgENdGVzdC5weXBpLm9yZw")),
        );
        silent("TWINE_PASSWORD=pypi-AgEI...");
        silent("a token looks like `pypi-AgEIcHlwaS5vcmc...`");
        silent("pypi-AgEIcHlwaS5vcmcshort");
    }

    #[test]
    fn anthropic_keys() {
        let body = "Zk3Qx9-Lm2_PqRsTuVw".repeat(5);
        fires(
            "anthropic-key",
            &format!("ANTHROPIC_API_KEY=sk-ant-api03-{body}AA"),
        );
        fires(
            "anthropic-key",
            &format!("key = \"sk-ant-admin01-{body}AA\""),
        );
        silent("ANTHROPIC_API_KEY=sk-ant-...");
        silent(
            "ANTHROPIC_API_KEY=sk-ant-api03-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        );
    }

    #[test]
    fn hf_tokens() {
        fires(
            "hf-token",
            &format!("HF_TOKEN=hf_{}", "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuIo"),
        );
        silent("HF_TOKEN=hf_...");
        silent(&format!("HF_TOKEN=hf_{}", "x".repeat(34)));
        silent("fn hf_download_file_with_resume_support_for_models() {}");
        // 33 or 35 letters are not the format.
        silent(&format!("hf_{}", "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuI"));
        silent(&format!("hf_{}", "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuIoP"));
    }

    #[test]
    fn aws_keys() {
        let id = format!("AKIA{}", "Z7QWERTY2ASDFGH3");
        fires("aws-access-key-id", &format!("aws_access_key_id = {id}"));
        fires("aws-access-key-id", &format!("ASIA{}", "Z7QWERTY2ASDFGH3"));
        silent("aws_access_key_id = AKIAIOSFODNN7EXAMPLE");
        silent("AKIA is the prefix of long-term key ids");
        let secret = "k9Lm/2PqRsTu+VwXyZ0aBcDeFgHiJkLmNoPqRsTu"; // xtask:allow
        assert_eq!(secret.len(), 40);
        assert_eq!(
            fired(&format!(
                "[default]\naws_access_key_id = {id}\naws_secret_access_key = {secret}\n"
            )),
            vec!["aws-access-key-id", "aws-secret-access-key"]
        );
        fires(
            "aws-secret-access-key",
            &format!("AWS_SECRET_ACCESS_KEY={secret}"),
        );
        // 40 characters far from any key id are not taken for a secret.
        silent(&format!("checksum {secret}"));
        silent("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
        // A git commit id near a key id is not a secret either.
        silent("AKIA\ncommit 9fceb02d0ae598e95dc970b74767f19372d61af8");
    }

    #[test]
    fn azure_devops_pats() {
        let pat = format!(
            "{}JQQJ99{}AZDO{}",
            "FBdFol081crwkIHWJH2yiqDDyrFjVSi7HWl22hN2hTYfsB8NlGDp", "BACAAAAAAAAAAAASAZ", "BucT"
        );
        assert_eq!(pat.len(), 84);
        fires("azure-devops-pat", &format!("token: {pat}"));
        silent("the new PATs carry JQQJ99 and AZDO signatures");
        let legacy = "q7zk4mdkfhwu5rnp2c3xvt6yblj4ahs7ewq3oiz2ukrdme5ntpfa"; // xtask:allow
        assert_eq!(legacy.len(), 52);
        fires("azure-devops-pat-legacy", &format!("VSCE_PAT={legacy}"));
        fires(
            "azure-devops-pat-legacy",
            &format!("# Azure DevOps\npat: {legacy}"),
        );
        silent(&format!("id: {legacy}"));
    }

    #[test]
    fn redis_urls() {
        fires(
            "redis-url-password",
            "REDIS_URL=redis://:s3cr3tPw9x@cache.internal:6379/0", // xtask:allow
        );
        fires(
            "redis-url-password",
            "url = 'rediss://app:Zq9-xLm2@redis.example.org'", // xtask:allow
        );
        silent("REDIS_URL=redis://localhost:6379/0");
        silent("redis://[:PASSWORD@]HOST[:PORT][/DB]");
        silent("REDIS_URL=redis://:password@localhost:6379");
        silent("REDIS_URL=redis://:${REDIS_PASSWORD}@redis:6379");
        silent("redis://user:pass@host");
    }

    #[test]
    fn hex_keys() {
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        fires("hex-key", &format!("AUDIT_HMAC_KEY={key}"));
        fires("hex-key", &format!("DASHBOARD_API_KEY=\"{}\"", &key[..48]));
        fires("hex-key", &format!("  github_token: {key}"));
        fires("hex-key", &format!("\"MY_SECRET\": \"{key}\""));
        fires("hex-key", &format!("export DEPLOY_PAT={key}"));
        silent("AUDIT_HMAC_KEY=");
        silent("AUDIT_HMAC_KEY=dev_only_audit_key_DO_NOT_USE_IN_PROD");
        silent(&format!("AUDIT_HMAC_KEY={}", "0".repeat(64)));
        silent(&format!("KEY_ID={key}"));
        silent(&format!("checksum = \"{key}\""));
        silent("DASHBOARD_API_KEY=abc123");
    }

    #[test]
    fn inline_allow_silences_a_line() {
        let key = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
        silent(&format!("AUDIT_HMAC_KEY={key}  # test vector, xtask:allow"));
        fires("hex-key", &format!("# xtask:allow\nAUDIT_HMAC_KEY={key}"));
    }

    #[test]
    fn github_tokens() {
        use crate::scan::checks::github_sample;
        for prefix in ["ghp_", "gho_", "ghu_", "ghs_", "ghr_"] {
            let t = github_sample(prefix, "Zq8mLk2PwX9sVb4nRt7yHc3JdF6gAe");
            fires("github-token", &format!("GH_TOKEN={t}"));
            // A plain-looking body is a token when its checksum holds.
            fires("github-token", &github_sample(prefix, "abcdefghij"));
        }
        // Random-looking without a valid checksum (gitleaks' samples).
        fires(
            "github-token",
            &format!("token: ghp_{}", "k8ZqT3vLmW9xRp2YsN6bHc4JdF7gAe1QuO5i"),
        );
        silent(&format!(
            "ghp_{}",
            "abcdefghij".repeat(4).get(..36).unwrap()
        ));
        silent("GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        silent("ghp_... is a classic personal access token");
        silent(&format!("ghx_{}", "k8ZqT3vLmW9xRp2YsN6bHc4JdF7gAe1QuO5i"));
        let body = format!(
            "{}_{}",
            "11AZQ3KXY0aB7cD9eF2gH4", "kL8mN1pQ5rS3tU6vW0xY2zA4bC7dE9fG1hJ3kL5mN7pQ9rS2tU4vW6xY8zA"
        );
        fires(
            "github-fine-grained-pat",
            &format!("GH_TOKEN=github_pat_{body}"),
        );
        silent("github_pat_11AAAAAAA0xxxxxxxxxxxx_yyyy");
    }

    #[test]
    fn hf_org_tokens() {
        fires(
            "hf-org-token",
            &format!("HF_TOKEN=api_org_{}", "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuIo"),
        );
        silent(&format!("api_org_{}", "x".repeat(34)));
        silent("api_org_tokens_are_the_old_organisation_tokens_of_the_hub");
    }

    #[test]
    fn aws_key_id_prefixes_and_secret_keys_by_name() {
        for prefix in [
            "A3TX", "AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AIPA", "ANPA", "ANVA", "AROA",
        ] {
            fires(
                "aws-access-key-id",
                &format!("id: {prefix}{}", "Z7QWERTY2ASDFGH3"),
            );
        }
        silent("AROAAAAAAAAAAAAAAAAA");
        silent(&format!("AXYZ{}", "Z7QWERTY2ASDFGH3"));
        let secret = "k9Lm/2PqRsTu+VwXyZ0aBcDeFgHiJkLmNoPqRsTu"; // xtask:allow
        fires(
            "aws-secret-access-key",
            &format!("aws_secret_key = {secret}"),
        );
        fires(
            "aws-secret-access-key",
            &format!("secret_key: \"{secret}\""),
        );
        fires("aws-secret-access-key", &format!("SecretKey={secret}"));
        silent(&format!("sha = {secret}"));
        silent("aws_secret_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    }

    #[test]
    fn generic_assignments() {
        let v = "Zq8mLk2PwX9sVb4nRt7y";
        fires("generic-secret", &format!("apiToken = \"{v}\""));
        fires(
            "generic-secret",
            &format!("const clientSecret: string = '{v}';"),
        );
        fires("generic-secret", &format!("API_KEY ::= {v}"));
        fires("generic-secret", &format!("API_KEY :::= {v}"));
        fires("generic-secret", &format!("API_KEY ?= {v}"));
        fires("generic-secret", &format!("token := \"{v}\""));
        fires("generic-secret", &format!("'db-password' => '{v}',"));
        fires("generic-secret", &format!("\"auth.token\": \"{v}\""));
        fires(
            "generic-secret",
            &format!("System.setProperty(\"X_TOKEN\", \"{v}\");"),
        );
        fires("generic-secret", &format!("  github_pat: {v}"));
        fires(
            "generic-secret",
            &format!("const API_TOKEN: &str = \"{v}\";"),
        );
        silent("api_key = os.environ[\"API_KEY\"]");
        silent("token_path = \"/etc/app/token_file.txt\"");
        silent("password = \"changeme\"");
        silent("apiToken = \"your-api-token-here-123\"");
        silent("secret = get_secret(name)");
        silent("let key = self.cache_key.clone();");
        silent("key: String,");
        silent("token = \"${{ secrets.TOKEN }}\"");
        silent("auth_url = \"https://auth.example.org/v1/tok\"");
        silent("key = \"crate.module.Item2\"");
        silent(&format!("pattern = \"{v}\""));
        silent("KEY_SIZE = 0x1234567890ABCDEF");
    }

    #[test]
    fn url_password_placeholders() {
        for pw in ["foo", "bar", "baz", "changeme", "xxx", "example"] {
            silent(&format!("redis://user:{pw}@localhost:6379"));
        }
        fires("redis-url-password", "redis://foo:Zq8m-Lk2P@cache:6379"); // xtask:allow
    }

    #[test]
    fn a_single_value_looks_like_a_credential() {
        use super::looks_like_credential;
        use crate::scan::checks::github_sample;
        assert!(looks_like_credential(&github_sample(
            "ghp_",
            "Zq8mLk2PwX9sV"
        )));
        assert!(looks_like_credential(&format!(
            "hf_{}",
            "QmRtLkWpZsXcVbNmAsDfGhJkLqWeRtYuIo"
        )));
        assert!(looks_like_credential(&format!(
            "AKIA{}",
            "Z7QWERTY2ASDFGH3"
        )));
        assert!(!looks_like_credential("org/model-name"));
        assert!(!looks_like_credential("hf_..."));
        assert!(!looks_like_credential("9f86d081884c7d659a2feaa0c55ad015"));
    }

    #[test]
    fn every_rule_compiles_and_has_a_test_above() {
        // rustfmt may break a call over lines: compare without whitespace.
        let this: String = include_str!("rules.rs")
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        for r in super::RULES {
            assert!(
                this.matches(&format!("fires(\"{}\"", r.id)).count() >= 1,
                "{}",
                r.id
            );
        }
    }
}
