//! The registry: one entry per variable the project knows.
//!
//! `.env.example`, `env status`, `env check`, the README table and every
//! step's preflight are derived from [`VARS`]; adding a variable is adding
//! one entry here.

use std::fmt;

use super::format::Format;

/// A step of the project that needs variables (`env check --for STEP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Step {
    /// Upload to PyPI.
    Publish,
    /// Upload to TestPyPI.
    PublishTestpypi,
    /// Verify, package and publish the VS Code extension.
    Vsce,
    /// Pre-fetch Hugging Face models.
    HfPrefetch,
    /// Run the framework's agents headless (Anthropic API).
    Headless,
    /// The audit chain (HMAC-signed records).
    Audit,
    /// The dashboard web server.
    Dashboard,
    /// Federation over Redis.
    Federation,
    /// OpenTelemetry export.
    Otel,
    /// Audit records to S3 with Object Lock.
    S3Audit,
    /// A production deployment.
    Deploy,
}

impl Step {
    /// Every step, in the order they are listed.
    pub const ALL: &'static [Step] = &[
        Step::Publish,
        Step::PublishTestpypi,
        Step::Vsce,
        Step::HfPrefetch,
        Step::Headless,
        Step::Audit,
        Step::Dashboard,
        Step::Federation,
        Step::Otel,
        Step::S3Audit,
        Step::Deploy,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Step::Publish => "publish",
            Step::PublishTestpypi => "publish-testpypi",
            Step::Vsce => "vsce",
            Step::HfPrefetch => "hf-prefetch",
            Step::Headless => "headless",
            Step::Audit => "audit",
            Step::Dashboard => "dashboard",
            Step::Federation => "federation",
            Step::Otel => "otel",
            Step::S3Audit => "s3-audit",
            Step::Deploy => "deploy",
        }
    }

    /// Parses a step name.
    pub fn from_name(name: &str) -> Option<Step> {
        Step::ALL.iter().copied().find(|s| s.name() == name)
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// How much production cares about a variable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Production {
    /// Production does not treat it specially.
    Normal,
    /// Must be set (explicitly, not by default) in production.
    Required,
    /// A warning in production when unset.
    Recommended,
}

/// Where a variable's value lives besides the local `.env` (the rotation
/// runbook lists each).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// A GitHub Actions secret that a workflow reads (release.yml: VSCE_PAT,
    /// OVSX_PAT); PyPI publishes by trusted publishing, so no token is
    /// stored (docs/github.md).
    GithubActions,
    /// The production deployment: a systemd EnvironmentFile, a docker
    /// env-file, a Kubernetes secret.
    Production,
}

/// One variable of the registry.
#[derive(Debug)]
pub struct Var {
    /// The environment variable's name.
    pub name: &'static str,
    /// Its group, as in the secrets how-to.
    pub group: &'static str,
    /// What it is for, one line.
    pub about: &'static str,
    /// Steps that cannot run without it.
    pub required_for: &'static [Step],
    /// Steps that use it when set (and check its format then).
    pub optional_for: &'static [Step],
    /// Production requirement.
    pub production: Production,
    /// The value used when unset.
    pub default: Option<&'static str>,
    /// A default that works in development and is refused in production.
    pub dev_default: Option<&'static str>,
    /// Whether the value is a secret (masked everywhere).
    pub secret: bool,
    /// The format check.
    pub format: Format,
    /// How to obtain or generate a value.
    pub generate: &'static str,
    /// How to test a value (`env verify`).
    pub test: &'static str,
    /// Who reads it.
    pub used_by: &'static str,
    /// How to revoke a value (the last step of a rotation).
    pub revoke: &'static str,
    /// For keys we generate ourselves: their size in random bytes
    /// (`env init` fills them, `env rotate` replaces them).
    pub keygen_bytes: Option<usize>,
    /// Where the value lives besides `.env`.
    pub places: &'static [Place],
    /// Why rotating it needs `--force`, when it does.
    pub rotate_guard: Option<&'static str>,
}

impl Var {
    /// Whether `step` needs or uses this variable.
    pub fn concerns(&self, step: Step) -> bool {
        self.required_for.contains(&step) || self.optional_for.contains(&step)
    }
}

/// Looks a variable up by name.
pub fn var(name: &str) -> Option<&'static Var> {
    VARS.iter().find(|v| v.name == name)
}

/// The names of the groups, in registry order.
pub fn groups() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for v in VARS {
        if !out.contains(&v.group) {
            out.push(v.group);
        }
    }
    out
}

/// Each group's short name (the command line's word, `env verify --json`'s
/// `id`) and other words accepted for it, in registry order.
const GROUP_NAMES: &[(&str, &str, &[&str])] = &[
    ("PyPI publishing", "pypi", &["twine"]),
    ("Anthropic API", "anthropic", &[]),
    ("Audit chain", "audit", &[]),
    ("Dashboard", "dashboard", &[]),
    ("Federation", "federation", &["redis"]),
    ("OpenTelemetry", "otel", &["opentelemetry", "otlp"]),
    ("AWS S3 Object Lock", "s3", &["aws"]),
    ("VS Code Marketplace", "vscode", &["vsce", "marketplace"]),
    ("Hugging Face", "hf", &["huggingface"]),
    ("Production deploy", "deploy", &["production"]),
];

/// A group's short name (`hf` for "Hugging Face").
pub fn group_short_name(group: &str) -> &'static str {
    GROUP_NAMES
        .iter()
        .find(|(g, _, _)| *g == group)
        .map(|(_, short, _)| *short)
        .unwrap_or("")
}

/// The group `name` designates, as every command takes it: the registry's
/// name in any case (`"Hugging Face"`), written as one word
/// (`hugging-face`), its short name (`hf`) or another accepted word
/// (`redis` for Federation).
pub fn group_by_name(name: &str) -> Option<&'static str> {
    let want = slug(name);
    GROUP_NAMES
        .iter()
        .find(|(g, short, other)| {
            slug(g) == want || *short == want || other.contains(&want.as_str())
        })
        .map(|(g, _, _)| *g)
}

/// The groups' short names, joined, for "expected one of" messages.
pub fn group_choices() -> String {
    GROUP_NAMES
        .iter()
        .map(|(_, short, _)| *short)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A name as a command-line word: lower case, `-` between words.
fn slug(name: &str) -> String {
    name.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect::<Vec<_>>()
        .join("-")
}

use Step::*;

/// Every variable the project knows.
pub static VARS: &[Var] = &[
    Var {
        name: "TWINE_USERNAME",
        group: "PyPI publishing",
        about: "Username twine sends to the index; `__token__` for API tokens",
        required_for: &[Publish, PublishTestpypi],
        optional_for: &[],
        production: Production::Normal,
        default: Some("__token__"),
        dev_default: None,
        secret: false,
        format: Format::NonEmpty,
        generate: "leave unset: `__token__` is right for PyPI API tokens",
        test: "cargo xtask publish --dry-run",
        used_by: "twine (cargo xtask publish)",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "TWINE_PASSWORD",
        group: "PyPI publishing",
        about: "PyPI API token for uploads to pypi.org (unset in CI: trusted publishing)",
        required_for: &[Publish],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::PypiToken { index: "pypi.org" },
        generate: "https://pypi.org/manage/account/token/ -> Add API token, scope: this project only",
        test: "cargo xtask publish --dry-run",
        used_by: "twine (cargo xtask publish)",
        revoke: "https://pypi.org/manage/account/ -> API tokens -> Options -> Remove token",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "TWINE_PASSWORD_TEST",
        group: "PyPI publishing",
        about: "TestPyPI API token, handed to twine as TWINE_PASSWORD for --testpypi",
        required_for: &[PublishTestpypi],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::PypiToken {
            index: "test.pypi.org",
        },
        generate: "https://test.pypi.org/manage/account/token/ -> Add API token, scope: this project only",
        test: "cargo xtask publish --testpypi --dry-run",
        used_by: "twine (cargo xtask publish --testpypi)",
        revoke: "https://test.pypi.org/manage/account/ -> API tokens -> Options -> Remove token",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "ANTHROPIC_API_KEY",
        group: "Anthropic API",
        about: "API key for the agents' model calls",
        required_for: &[Headless],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::Prefix {
            prefix: "sk-ant-",
            min_len: 20,
        },
        generate: "https://console.anthropic.com/settings/keys -> Create Key",
        test: "cargo xtask env verify anthropic   (GET /v1/models with x-api-key: spends no tokens)",
        used_by: "the framework's headless runner",
        revoke: "https://console.anthropic.com/settings/keys -> the old key -> Delete (or Disable)",
        keygen_bytes: None,
        places: &[Place::Production],
        rotate_guard: None,
    },
    Var {
        name: "ANTHROPIC_BASE_URL",
        group: "Anthropic API",
        about: "Anthropic API base URL, for a gateway or proxy (the SDK reads it too)",
        required_for: &[],
        optional_for: &[Headless],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: false,
        format: Format::HttpUrl,
        generate: "leave unset for https://api.anthropic.com",
        test: "cargo xtask env verify anthropic",
        used_by: "the Anthropic SDK, cargo xtask env verify",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "AUDIT_HMAC_KEY",
        group: "Audit chain",
        about: "HMAC key that signs the audit chain; the development default is refused in production",
        required_for: &[Audit],
        optional_for: &[],
        production: Production::Required,
        default: None,
        dev_default: Some("dev_only_audit_key_DO_NOT_USE_IN_PROD"),
        secret: true,
        format: Format::Hex { min_chars: 64 },
        generate: "cargo xtask env gen-key --bytes 32   (or: openssl rand -hex 32)",
        test: "cargo xtask env verify audit   (and: cargo xtask env check --for audit --production)",
        used_by: "the framework's audit chain",
        revoke: "nothing to revoke at a provider: take the old key out of every place above and keep one copy offline (sealed), for verifying records signed before the rotation",
        keygen_bytes: Some(32),
        places: &[Place::Production],
        rotate_guard: Some(
            "every audit chain signed so far becomes unverifiable with the new key: records \
             signed with the old key only verify with the old key, so keep it offline (sealed, \
             not in .env) for as long as those records must be verifiable",
        ),
    },
    Var {
        name: "FRAMEWORK_DIR",
        group: "Dashboard",
        about: "Folder the dashboard reads the framework's state from",
        required_for: &[Dashboard],
        optional_for: &[],
        production: Production::Normal,
        default: Some("_framework"),
        dev_default: None,
        secret: false,
        format: Format::NonEmpty,
        generate: "leave unset for `_framework`, or a path relative to the project",
        test: "cargo xtask env check --for dashboard",
        used_by: "the dashboard",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "DASHBOARD_API_KEY",
        group: "Dashboard",
        about: "API key clients send to the dashboard (recommended in production)",
        required_for: &[],
        optional_for: &[Dashboard],
        production: Production::Recommended,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::Hex { min_chars: 48 },
        generate: "cargo xtask env gen-key --bytes 24   (or: openssl rand -hex 24)",
        test: "cargo xtask env verify dashboard   (Authorization: Bearer to DASHBOARD_URL)",
        used_by: "the dashboard",
        revoke: "nothing to revoke at a provider: once every client sends the new key, remove the old one everywhere (the dashboard accepts only the configured key)",
        keygen_bytes: Some(24),
        places: &[Place::Production],
        rotate_guard: None,
    },
    Var {
        name: "DASHBOARD_RATE_LIMIT_PER_MIN",
        group: "Dashboard",
        about: "Requests per minute and client the dashboard accepts",
        required_for: &[Dashboard],
        optional_for: &[],
        production: Production::Normal,
        default: Some("60"),
        dev_default: None,
        secret: false,
        format: Format::PositiveInt,
        generate: "leave unset for 60",
        test: "cargo xtask env check --for dashboard",
        used_by: "the dashboard",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "DASHBOARD_URL",
        group: "Dashboard",
        about: "Dashboard endpoint `env verify` sends DASHBOARD_API_KEY to (a POST of `{}`, refused as invalid once the key passed)",
        required_for: &[],
        optional_for: &[Dashboard],
        production: Production::Normal,
        default: Some("http://localhost:8000/api/chat"),
        dev_default: None,
        secret: false,
        format: Format::HttpUrl,
        generate: "leave unset for http://localhost:8000/api/chat; in production the dashboard's public URL, e.g. https://agents.example.org/api/chat",
        test: "cargo xtask env verify dashboard",
        used_by: "cargo xtask env verify",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "REDIS_URL",
        group: "Federation",
        about: "Redis the federation layer connects to",
        required_for: &[Federation],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::RedisUrl,
        generate: "redis://[:PASSWORD@]HOST[:PORT][/DB], e.g. redis://localhost:6379/0",
        test: "cargo xtask env verify federation   (AUTH, SELECT, PING; like redis-cli -u \"$REDIS_URL\" ping)",
        used_by: "the federation layer",
        revoke: "change the password on the Redis server (ACL SETUSER / requirepass) and restart the clients; the old password stops working then",
        keygen_bytes: None,
        places: &[Place::Production],
        rotate_guard: None,
    },
    Var {
        name: "OTEL_EXPORTER_OTLP_ENDPOINT",
        group: "OpenTelemetry",
        about: "OTLP collector traces and metrics are sent to",
        required_for: &[Otel],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: false,
        format: Format::OtlpEndpoint,
        generate: "HOST:PORT or an http(s) URL, e.g. http://localhost:4317",
        test: "cargo xtask env verify otel",
        used_by: "the OpenTelemetry SDK",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "OTEL_EXPORTER_OTLP_PROTOCOL",
        group: "OpenTelemetry",
        about: "OTLP transport: grpc, http/protobuf or http/json (unset: inferred from the endpoint, port 4317 meaning grpc)",
        required_for: &[],
        optional_for: &[Otel],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: false,
        format: Format::OneOf(&["grpc", "http/protobuf", "http/json"]),
        generate: "grpc for a collector's port 4317, http/protobuf for its port 4318",
        test: "cargo xtask env verify otel",
        used_by: "the OpenTelemetry SDK",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "AWS_ACCESS_KEY_ID",
        group: "AWS S3 Object Lock",
        about: "Access key id for the audit bucket (needed when S3_AUDIT_BUCKET is set)",
        required_for: &[S3Audit],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::AwsKeyId,
        generate: "AWS console -> IAM -> Users -> Security credentials -> Create access key",
        test: "cargo xtask env verify s3",
        used_by: "the S3 audit backend (boto3)",
        revoke: "AWS console -> IAM -> Users -> Security credentials -> the old access key -> Deactivate, then Delete (aws iam update-access-key --status Inactive; aws iam delete-access-key)",
        keygen_bytes: None,
        places: &[Place::Production],
        rotate_guard: None,
    },
    Var {
        name: "AWS_SECRET_ACCESS_KEY",
        group: "AWS S3 Object Lock",
        about: "Secret of the access key (needed when S3_AUDIT_BUCKET is set)",
        required_for: &[S3Audit],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::AwsSecret,
        generate: "shown once when the access key is created",
        test: "cargo xtask env verify s3",
        used_by: "the S3 audit backend (boto3)",
        revoke: "deactivate and delete its access key (see AWS_ACCESS_KEY_ID): the secret goes with it",
        keygen_bytes: None,
        places: &[Place::Production],
        rotate_guard: None,
    },
    Var {
        name: "AWS_DEFAULT_REGION",
        group: "AWS S3 Object Lock",
        about: "Region of the audit bucket",
        required_for: &[S3Audit],
        optional_for: &[],
        production: Production::Normal,
        default: Some("us-east-1"),
        dev_default: None,
        secret: false,
        format: Format::AwsRegion,
        generate: "the bucket's region, e.g. eu-west-1",
        test: "aws s3api get-bucket-location --bucket \"$S3_AUDIT_BUCKET\"",
        used_by: "the S3 audit backend (boto3)",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "S3_AUDIT_BUCKET",
        group: "AWS S3 Object Lock",
        about: "Bucket (with Object Lock) for audit records; setting it enables the S3 backend",
        required_for: &[S3Audit],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: false,
        format: Format::S3Bucket,
        generate: "aws s3api create-bucket --bucket NAME --object-lock-enabled-for-bucket",
        test: "cargo xtask env verify s3   (like aws s3api get-object-lock-configuration --bucket \"$S3_AUDIT_BUCKET\")",
        used_by: "the S3 audit backend",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "AWS_ENDPOINT_URL",
        group: "AWS S3 Object Lock",
        about: "S3 endpoint other than AWS (MinIO, a local test server); path-style requests then",
        required_for: &[],
        optional_for: &[S3Audit],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: false,
        format: Format::HttpUrl,
        generate: "leave unset for AWS; the store's URL otherwise, e.g. http://localhost:9000",
        test: "cargo xtask env verify s3",
        used_by: "boto3 and the AWS CLI, cargo xtask env verify",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "VSCE_PAT",
        group: "VS Code Marketplace",
        about: "Azure DevOps personal access token (Marketplace: Manage) for vsce",
        required_for: &[Vsce],
        optional_for: &[],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::NonEmpty,
        generate: "dev.azure.com -> User settings -> Personal access tokens -> New token, \
                   Organization: All accessible organizations, Scopes: Marketplace -> Manage \
                   (or use Microsoft Entra ID: azure-credential = true in release-kit.toml)",
        test: "cargo xtask vsce-verify",
        used_by: "vsce (cargo xtask vsce-verify, vsce-publish)",
        revoke: "dev.azure.com -> User settings -> Personal access tokens -> the old token -> Revoke",
        keygen_bytes: None,
        places: &[Place::GithubActions],
        rotate_guard: None,
    },
    Var {
        name: "OVSX_PAT",
        group: "VS Code Marketplace",
        about: "Open VSX access token; when set, vsce-publish also publishes to Open VSX",
        required_for: &[],
        optional_for: &[Vsce],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::NonEmpty,
        generate: "https://open-vsx.org/user-settings/tokens -> Generate New Token",
        test: "npx ovsx verify-pat NAMESPACE",
        used_by: "ovsx (cargo xtask vsce-publish)",
        revoke: "https://open-vsx.org/user-settings/tokens -> the old token -> Delete",
        keygen_bytes: None,
        places: &[Place::GithubActions],
        rotate_guard: None,
    },
    Var {
        name: "HF_TOKEN",
        group: "Hugging Face",
        about: "Hugging Face read token: gated models and higher rate limits",
        required_for: &[],
        optional_for: &[HfPrefetch],
        production: Production::Normal,
        default: None,
        dev_default: None,
        secret: true,
        format: Format::Prefix {
            prefix: "hf_",
            min_len: 10,
        },
        generate: "https://huggingface.co/settings/tokens -> Create new token, type: Read",
        test: "cargo xtask env verify hf   (GET /api/whoami-v2: the account and the token's role)",
        used_by: "cargo xtask hf-prefetch, huggingface_hub",
        revoke: "https://huggingface.co/settings/tokens -> the old token -> Invalidate and refresh, or Delete",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
    Var {
        name: "ORG_DOMAIN",
        group: "Production deploy",
        about: "Domain the deployment serves",
        required_for: &[Deploy],
        optional_for: &[],
        production: Production::Normal,
        default: Some("localhost"),
        dev_default: None,
        secret: false,
        format: Format::Hostname,
        generate: "your organisation's domain, e.g. agents.example.org",
        test: "host \"$ORG_DOMAIN\"",
        used_by: "the deployment",
        revoke: "nothing to revoke: not a secret",
        keygen_bytes: None,
        places: &[],
        rotate_guard: None,
    },
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_uppercase() {
        let mut names: Vec<_> = VARS.iter().map(|v| v.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        for v in VARS {
            assert!(
                v.name
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
            );
        }
    }

    #[test]
    fn every_step_has_a_variable() {
        for step in Step::ALL {
            assert!(VARS.iter().any(|v| v.concerns(*step)), "{step}");
            assert_eq!(Step::from_name(step.name()), Some(*step));
        }
    }

    #[test]
    fn defaults_pass_their_own_check() {
        for v in VARS {
            if let Some(d) = v.default {
                assert!(v.format.check(d).is_ok(), "{}", v.name);
            }
        }
    }

    #[test]
    fn every_group_has_one_short_name() {
        let named: Vec<&str> = GROUP_NAMES.iter().map(|(g, _, _)| *g).collect();
        assert_eq!(named, groups());
        for g in groups() {
            for word in [
                g.to_owned(),
                g.to_uppercase(),
                slug(g),
                group_short_name(g).to_owned(),
            ] {
                assert_eq!(group_by_name(&word), Some(g), "{word}");
            }
        }
        assert_eq!(group_by_name("redis"), Some("Federation"));
        assert_eq!(
            group_by_name("aws-s3-object-lock"),
            Some("AWS S3 Object Lock")
        );
        assert_eq!(group_by_name("nope"), None);
    }
}
