//! The built-in kinds of credential and setting: what a value must look
//! like, whether it is a secret, and the words of its runbook. A variable
//! is a name and a kind (release-kit.toml's `[[variables]]`, or implied by
//! what the project ships); its live check, if any, is the verify layer's
//! (`verify::Group::for_kind`).

use super::{Place, Step};
use crate::settings::format::Format;

/// A kind of variable, as `kind = "…"` names it in release-kit.toml.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The user name twine sends (`__token__` for API tokens).
    PypiUsername,
    /// A pypi.org API token.
    PypiToken,
    /// A test.pypi.org API token.
    TestpypiToken,
    /// An Azure DevOps personal access token for the VS Code Marketplace.
    VscePat,
    /// An Open VSX access token.
    OvsxPat,
    /// A Hugging Face access token.
    HfToken,
    /// An Anthropic API key.
    AnthropicKey,
    /// An AWS access key id (the public half of the key pair).
    AwsAccessKeyId,
    /// An AWS secret access key (the secret half).
    AwsSecretAccessKey,
    /// An AWS region.
    AwsRegion,
    /// An S3 bucket name.
    S3Bucket,
    /// A random hex key we generate (`env init`, `env rotate`).
    HexKey,
    /// A generated hex key that signs records with HMAC-SHA256.
    HmacKey,
    /// A generated hex key clients send as a bearer token.
    ApiKey,
    /// A `redis://` or `rediss://` URL (may hold a password: a secret).
    RedisUrl,
    /// An OTLP collector endpoint.
    OtlpEndpoint,
    /// The OTLP transport.
    OtlpProtocol,
    /// An http(s) URL.
    Url,
    /// A DNS domain.
    Domain,
    /// A positive whole number.
    Integer,
    /// A file or folder path.
    Path,
    /// Any non-empty text.
    Text,
    /// Any non-empty secret text.
    Secret,
}

/// What a kind brings to every variable of it; a declaration may override
/// the words (description, how, revoke) and the steps.
#[derive(Debug)]
pub struct KindSpec {
    /// The kind's name in release-kit.toml.
    pub name: &'static str,
    /// The format check (hex kinds: sized by the key's bytes).
    pub format: Format,
    /// Whether values are secrets (masked everywhere).
    pub secret: bool,
    /// The group a variable of this kind is listed in unless it says.
    pub group: &'static str,
    /// What a value is for, one line.
    pub about: &'static str,
    /// How to obtain or generate a value.
    pub how: &'static str,
    /// How to test a value.
    pub test: &'static str,
    /// How to revoke an old value (the last step of a rotation).
    pub revoke: &'static str,
    /// Generated keys: the default size in random bytes.
    pub keygen_bytes: Option<usize>,
    /// Steps that cannot run without it (the publishing credentials').
    pub required_for: &'static [Step],
    /// Steps that use it when set.
    pub optional_for: &'static [Step],
    /// The value used when unset.
    pub default: Option<&'static str>,
    /// Where values live besides `.env`.
    pub places: &'static [Place],
}

const NOT_SECRET: &str = "nothing to revoke: not a secret";
const PROD: &[Place] = &[Place::Production];
const GITHUB: &[Place] = &[Place::GithubActions];

/// A kind with the common defaults: a plain setting in "Settings".
const fn plain(name: &'static str, format: Format, about: &'static str) -> KindSpec {
    KindSpec {
        name,
        format,
        secret: false,
        group: "Settings",
        about,
        how: "set it to what the project needs",
        test: "cargo xtask env check",
        revoke: NOT_SECRET,
        keygen_bytes: None,
        required_for: &[],
        optional_for: &[],
        default: None,
        places: &[],
    }
}

/// A secret kind, kept in production unless it says otherwise.
const fn secret(name: &'static str, format: Format, about: &'static str) -> KindSpec {
    let mut k = plain(name, format, about);
    k.secret = true;
    k.group = "Secrets";
    k.places = PROD;
    k.revoke = "revoke it where it was issued";
    k
}

/// A generated hex key of `bytes` random bytes.
const fn hex(name: &'static str, about: &'static str) -> KindSpec {
    let mut k = secret(name, Format::Hex { min_chars: 64 }, about);
    k.keygen_bytes = Some(32);
    k.how = "cargo xtask env gen-key --bytes N   (or: openssl rand -hex N)";
    k.revoke = "nothing to revoke at a provider: once every reader has the new key, remove the old one everywhere";
    k
}

/// Every kind's spec, in the order [`Kind::all`] lists them.
static KINDS: &[(Kind, KindSpec)] = &[
    (
        Kind::PypiUsername,
        KindSpec {
            group: "PyPI publishing",
            how: "leave unset: `__token__` is right for PyPI API tokens",
            test: "cargo xtask publish --dry-run",
            required_for: &[Step::PUBLISH, Step::PUBLISH_TESTPYPI],
            default: Some("__token__"),
            ..plain(
                "pypi-username",
                Format::NonEmpty,
                "Username twine sends to the index; `__token__` for API tokens",
            )
        },
    ),
    (
        Kind::PypiToken,
        KindSpec {
            group: "PyPI publishing",
            how: "https://pypi.org/manage/account/token/ -> Add API token, scope: this project only",
            test: "cargo xtask publish --dry-run",
            revoke: "https://pypi.org/manage/account/ -> API tokens -> Options -> Remove token",
            required_for: &[Step::PUBLISH],
            places: &[],
            ..secret(
                "pypi-token",
                Format::PypiToken { index: "pypi.org" },
                "PyPI API token for uploads to pypi.org (unset in CI: trusted publishing)",
            )
        },
    ),
    (
        Kind::TestpypiToken,
        KindSpec {
            group: "PyPI publishing",
            how: "https://test.pypi.org/manage/account/token/ -> Add API token, scope: this project only",
            test: "cargo xtask publish --testpypi --dry-run",
            revoke: "https://test.pypi.org/manage/account/ -> API tokens -> Options -> Remove token",
            required_for: &[Step::PUBLISH_TESTPYPI],
            places: &[],
            ..secret(
                "testpypi-token",
                Format::PypiToken {
                    index: "test.pypi.org",
                },
                "TestPyPI API token, handed to twine as TWINE_PASSWORD for --testpypi",
            )
        },
    ),
    (
        Kind::VscePat,
        KindSpec {
            group: "VS Code Marketplace",
            how: "dev.azure.com -> User settings -> Personal access tokens -> New token, \
              Organization: All accessible organizations, Scopes: Marketplace -> Manage \
              (or use Microsoft Entra ID: azure-credential = true in release-kit.toml)",
            test: "cargo xtask vsce-verify",
            revoke: "dev.azure.com -> User settings -> Personal access tokens -> the old token -> Revoke",
            required_for: &[Step::VSCE],
            places: GITHUB,
            ..secret(
                "vsce-pat",
                Format::NonEmpty,
                "Azure DevOps personal access token (Marketplace: Manage) for vsce",
            )
        },
    ),
    (
        Kind::OvsxPat,
        KindSpec {
            group: "VS Code Marketplace",
            how: "https://open-vsx.org/user-settings/tokens -> Generate New Token",
            test: "npx ovsx verify-pat NAMESPACE",
            revoke: "https://open-vsx.org/user-settings/tokens -> the old token -> Delete",
            optional_for: &[Step::VSCE],
            places: GITHUB,
            ..secret(
                "ovsx-pat",
                Format::NonEmpty,
                "Open VSX access token; when set, vsce-publish also publishes to Open VSX",
            )
        },
    ),
    (
        Kind::HfToken,
        KindSpec {
            group: "Hugging Face",
            how: "https://huggingface.co/settings/tokens -> Create new token, type: Read",
            test: "cargo xtask env verify hf   (GET /api/whoami-v2: the account and the token's role)",
            revoke: "https://huggingface.co/settings/tokens -> the old token -> Invalidate and refresh, or Delete",
            optional_for: &[Step::HF_PREFETCH],
            places: &[],
            ..secret(
                "hf-token",
                Format::Prefix {
                    prefix: "hf_",
                    min_len: 10,
                },
                "Hugging Face read token: gated models and higher rate limits",
            )
        },
    ),
    (
        Kind::AnthropicKey,
        KindSpec {
            group: "Anthropic API",
            how: "https://console.anthropic.com/settings/keys -> Create Key",
            test: "cargo xtask env verify anthropic   (GET /v1/models with x-api-key: spends no tokens)",
            revoke: "https://console.anthropic.com/settings/keys -> the old key -> Delete (or Disable)",
            ..secret(
                "anthropic-key",
                Format::Prefix {
                    prefix: "sk-ant-",
                    min_len: 20,
                },
                "Anthropic API key",
            )
        },
    ),
    (
        Kind::AwsAccessKeyId,
        KindSpec {
            group: "AWS",
            how: "AWS console -> IAM -> Users -> Security credentials -> Create access key",
            test: "cargo xtask env verify s3",
            revoke: "AWS console -> IAM -> Users -> Security credentials -> the old access key -> Deactivate, then Delete (aws iam update-access-key --status Inactive; aws iam delete-access-key)",
            ..secret("aws-access-key-id", Format::AwsKeyId, "AWS access key id")
        },
    ),
    (
        Kind::AwsSecretAccessKey,
        KindSpec {
            group: "AWS",
            how: "shown once when the access key is created",
            test: "cargo xtask env verify s3",
            revoke: "deactivate and delete its access key (see AWS_ACCESS_KEY_ID): the secret goes with it",
            ..secret(
                "aws-secret-access-key",
                Format::AwsSecret,
                "Secret of the AWS access key",
            )
        },
    ),
    (
        Kind::AwsRegion,
        KindSpec {
            group: "AWS",
            how: "the region, e.g. eu-west-1",
            ..plain("aws-region", Format::AwsRegion, "AWS region")
        },
    ),
    (
        Kind::S3Bucket,
        KindSpec {
            group: "AWS",
            how: "aws s3api create-bucket --bucket NAME",
            test: "cargo xtask env verify s3",
            ..plain("s3-bucket", Format::S3Bucket, "S3 bucket")
        },
    ),
    (Kind::HexKey, hex("hex-key", "A random key we generate")),
    (
        Kind::HmacKey,
        KindSpec {
            test: "cargo xtask env verify audit",
            ..hex("hmac-key", "HMAC-SHA256 key that signs records")
        },
    ),
    (
        Kind::ApiKey,
        KindSpec {
            test: "cargo xtask env verify dashboard",
            ..hex("api-key", "API key clients send as a bearer token")
        },
    ),
    (
        Kind::RedisUrl,
        KindSpec {
            how: "redis://[:PASSWORD@]HOST[:PORT][/DB], e.g. redis://localhost:6379/0",
            test: "cargo xtask env verify federation   (AUTH, SELECT, PING; like redis-cli -u \"$REDIS_URL\" ping)",
            revoke: "change the password on the Redis server (ACL SETUSER / requirepass) and restart the clients; the old password stops working then",
            ..secret("redis-url", Format::RedisUrl, "Redis URL")
        },
    ),
    (
        Kind::OtlpEndpoint,
        KindSpec {
            group: "OpenTelemetry",
            how: "HOST:PORT or an http(s) URL, e.g. http://localhost:4317",
            test: "cargo xtask env verify otel",
            ..plain(
                "otlp-endpoint",
                Format::OtlpEndpoint,
                "OTLP collector traces and metrics are sent to",
            )
        },
    ),
    (
        Kind::OtlpProtocol,
        KindSpec {
            group: "OpenTelemetry",
            how: "grpc for a collector's port 4317, http/protobuf for its port 4318",
            test: "cargo xtask env verify otel",
            ..plain(
                "otlp-protocol",
                Format::OneOf(&["grpc", "http/protobuf", "http/json"]),
                "OTLP transport: grpc, http/protobuf or http/json",
            )
        },
    ),
    (
        Kind::Url,
        plain("url", Format::HttpUrl, "An http:// or https:// URL"),
    ),
    (
        Kind::Domain,
        KindSpec {
            how: "the domain, e.g. example.org",
            test: "host \"$DOMAIN\"",
            ..plain("domain", Format::Hostname, "A domain name")
        },
    ),
    (
        Kind::Integer,
        plain("integer", Format::PositiveInt, "A positive whole number"),
    ),
    (
        Kind::Path,
        plain("path", Format::NonEmpty, "A file or folder path"),
    ),
    (Kind::Text, plain("text", Format::NonEmpty, "Text")),
    (Kind::Secret, secret("secret", Format::NonEmpty, "A secret")),
];

impl Kind {
    /// Every kind, in the order the documentation lists them.
    pub fn all() -> impl Iterator<Item = Kind> {
        KINDS.iter().map(|(k, _)| *k)
    }

    /// What this kind brings to a variable.
    pub fn spec(self) -> &'static KindSpec {
        &KINDS
            .iter()
            .find(|(k, _)| *k == self)
            .expect("every kind has a spec")
            .1
    }

    /// Its name in release-kit.toml (`redis-url`).
    pub fn name(self) -> &'static str {
        self.spec().name
    }

    /// Whether values are random keys we generate.
    pub fn is_generated(self) -> bool {
        self.spec().keygen_bytes.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_one_spec_named_as_toml_names_it() {
        #[derive(serde::Deserialize)]
        struct One {
            kind: Kind,
        }
        let mut seen = Vec::new();
        for kind in Kind::all() {
            assert!(!seen.contains(&kind), "{kind:?} twice");
            seen.push(kind);
            let parsed: One = toml::from_str(&format!("kind = \"{}\"", kind.name())).unwrap();
            assert_eq!(parsed.kind, kind);
            if let Some(d) = kind.spec().default {
                assert!(kind.spec().format.check(d).is_ok(), "{kind:?}");
            }
        }
        assert_eq!(seen.len(), KINDS.len());
    }
}
