//! Format checks of variable values.
//!
//! A failed check says what was expected, never what was found: the message
//! may be printed next to a secret's name, so it must not hold the value nor
//! any part of it.

/// A format a variable's value must have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    /// Any non-blank value.
    NonEmpty,
    /// A PyPI API token (`pypi-` + URL-safe base64) when the username is
    /// `__token__`; `index` is the domain the token should be made for.
    PypiToken {
        /// `pypi.org` or `test.pypi.org`.
        index: &'static str,
    },
    /// A fixed prefix and a minimum total length.
    Prefix {
        /// The prefix, e.g. `sk-ant-`.
        prefix: &'static str,
        /// Minimum length of the whole value.
        min_len: usize,
    },
    /// Hexadecimal, at least this many characters.
    Hex {
        /// Minimum number of hex characters.
        min_chars: usize,
    },
    /// A positive integer.
    PositiveInt,
    /// `redis://` or `rediss://` with a host, optional password, port, db.
    RedisUrl,
    /// `host:port` or an `http(s)://` URL.
    OtlpEndpoint,
    /// `AKIA`/`ASIA` and 16 upper-case letters or digits.
    AwsKeyId,
    /// 40 characters of base64.
    AwsSecret,
    /// A plausible AWS region such as `eu-west-1`.
    AwsRegion,
    /// A valid S3 bucket name.
    S3Bucket,
    /// A DNS hostname.
    Hostname,
    /// An `http://` or `https://` URL with a host.
    HttpUrl,
    /// One of these words, exactly.
    OneOf(&'static [&'static str]),
}

/// A value not in its format: says what was expected, never the value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{expected}")]
pub struct Mismatch {
    /// What a valid value looks like, in words ([`Format::expected`]).
    pub expected: String,
}

impl Format {
    /// Checks `value`; the error says what was expected.
    pub fn check(self, value: &str) -> Result<(), Mismatch> {
        let ok = match self {
            Format::NonEmpty => !value.trim().is_empty(),
            Format::PypiToken { .. } => is_pypi_token(value),
            Format::Prefix { prefix, min_len } => {
                value.starts_with(prefix)
                    && value.len() >= min_len
                    && !value.contains(char::is_whitespace)
            }
            Format::Hex { min_chars } => {
                value.len() >= min_chars && value.bytes().all(|b| b.is_ascii_hexdigit())
            }
            Format::PositiveInt => value.parse::<u64>().is_ok_and(|n| n > 0),
            Format::RedisUrl => is_redis_url(value),
            Format::OtlpEndpoint => is_otlp_endpoint(value),
            Format::AwsKeyId => {
                value.len() == 20
                    && (value.starts_with("AKIA") || value.starts_with("ASIA"))
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            }
            Format::AwsSecret => {
                value.len() == 40
                    && value
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'/' || b == b'+')
            }
            Format::AwsRegion => is_aws_region(value),
            Format::S3Bucket => is_s3_bucket(value),
            Format::Hostname => is_hostname(value),
            Format::HttpUrl => is_http_url(value),
            Format::OneOf(words) => words.contains(&value),
        };
        if ok {
            Ok(())
        } else {
            Err(Mismatch {
                expected: self.expected(),
            })
        }
    }

    /// What a valid value looks like, in words.
    pub fn expected(self) -> String {
        match self {
            Format::NonEmpty => "a non-empty value".into(),
            Format::PypiToken { .. } => {
                "a PyPI API token: `pypi-` followed by URL-safe base64 (when TWINE_USERNAME is `__token__`)".into()
            }
            Format::Prefix { prefix, min_len } => {
                format!("a value starting with `{prefix}`, at least {min_len} characters, no spaces")
            }
            Format::Hex { min_chars } => {
                format!("at least {min_chars} hexadecimal characters ({} random bytes)", min_chars / 2)
            }
            Format::PositiveInt => "a positive whole number".into(),
            Format::RedisUrl => "a URL redis://[:password@]host[:port][/db] (or rediss://)".into(),
            Format::OtlpEndpoint => "host:port or an http:// or https:// URL".into(),
            Format::AwsKeyId => "`AKIA` or `ASIA` followed by 16 upper-case letters or digits".into(),
            Format::AwsSecret => "40 characters of letters, digits, `/` and `+`".into(),
            Format::AwsRegion => "an AWS region such as `us-east-1` or `eu-central-1`".into(),
            Format::S3Bucket => {
                "an S3 bucket name: 3-63 lower-case letters, digits, `-` and `.`, starting and ending with a letter or digit".into()
            }
            Format::Hostname => "a hostname such as `example.org` (letters, digits, `-`, dots)".into(),
            Format::HttpUrl => "an http:// or https:// URL with a host".into(),
            Format::OneOf(words) => format!("one of: {}", words.join(", ")),
        }
    }
}

fn is_pypi_token(value: &str) -> bool {
    let Some(body) = value.strip_prefix("pypi-") else {
        return false;
    };
    body.len() >= 16
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'=')
}

fn is_redis_url(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("redis://")
        .or_else(|| value.strip_prefix("rediss://"))
    else {
        return false;
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, ""),
    };
    // The password may hold `@`: the host starts after the last one.
    let hostport = match authority.rfind('@') {
        Some(i) => &authority[i + 1..],
        None => authority,
    };
    let (host, port) = split_host_port(hostport);
    let port_ok = port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0));
    let db_ok = path.is_empty() || path.parse::<u32>().is_ok();
    !host.is_empty() && (is_hostname(host) || is_ip_literal(host)) && port_ok && db_ok
}

fn is_http_url(value: &str) -> bool {
    let Some(rest) = value
        .strip_prefix("http://")
        .or_else(|| value.strip_prefix("https://"))
    else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let (host, port) = split_host_port(authority);
    (is_hostname(host) || is_ip_literal(host))
        && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

fn is_otlp_endpoint(value: &str) -> bool {
    if value.starts_with("http://") || value.starts_with("https://") {
        return is_http_url(value);
    }
    if value.contains("://") {
        return false;
    }
    let (host, port) = split_host_port(value);
    (is_hostname(host) || is_ip_literal(host))
        && port.is_some_and(|p| p.parse::<u16>().is_ok_and(|p| p > 0))
}

/// Splits `host:port`, keeping `[::1]:port` literals together.
fn split_host_port(s: &str) -> (&str, Option<&str>) {
    if s.starts_with('[') {
        return match s.find(']') {
            Some(i) => {
                let port = s[i + 1..].strip_prefix(':');
                (&s[..=i], port)
            }
            None => (s, None),
        };
    }
    match s.rfind(':') {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    }
}

fn is_ip_literal(host: &str) -> bool {
    host.parse::<std::net::Ipv4Addr>().is_ok()
        || host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .is_some_and(|h| h.parse::<std::net::Ipv6Addr>().is_ok())
}

fn is_hostname(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.trim_end_matches('.').split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

fn is_aws_region(value: &str) -> bool {
    // partition-area-number, e.g. us-east-1, us-gov-west-1, ap-southeast-2.
    let parts: Vec<&str> = value.split('-').collect();
    parts.len() >= 3
        && parts[0].len() == 2
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
        && parts.last().is_some_and(|n| n.parse::<u8>().is_ok())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.bytes().all(|b| b.is_ascii_lowercase()))
}

fn is_s3_bucket(name: &str) -> bool {
    let len_ok = (3..=63).contains(&name.len());
    let chars_ok = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.');
    let ends_ok = name
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .last()
            .is_some_and(|b| b.is_ascii_alphanumeric());
    len_ok
        && chars_ok
        && ends_ok
        && !name.contains("..")
        && name.parse::<std::net::Ipv4Addr>().is_err()
        && !name.starts_with("xn--")
        && !name.ends_with("-s3alias")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pypi_tokens() {
        let f = Format::PypiToken { index: "pypi.org" };
        assert!(f.check("pypi-AgEIcHlwaS5vcmcCJGFiY2Rl").is_ok());
        assert!(f.check("pypi-").is_err());
        assert!(f.check("AgEIcHlwaS5vcmcCJGFiY2Rl").is_err());
        assert!(f.check("pypi-AgEI cHlwaS5vcmcCJGFiY2Rl").is_err());
    }

    #[test]
    fn hex_keys() {
        let f = Format::Hex { min_chars: 64 };
        assert!(f.check(&"a1".repeat(32)).is_ok());
        assert!(f.check(&"a1".repeat(31)).is_err());
        assert!(f.check(&"g1".repeat(32)).is_err());
    }

    #[test]
    fn redis_urls() {
        for ok in [
            "redis://localhost",
            "redis://localhost:6379/0",
            "rediss://:p@ss@cache.example.org:6380/2",
            "redis://127.0.0.1:6379",
            "redis://[::1]:6379",
        ] {
            assert!(Format::RedisUrl.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://localhost",
            "redis://",
            "redis://host:notaport",
            "redis://host/db",
            "localhost:6379",
        ] {
            assert!(Format::RedisUrl.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn otlp_endpoints() {
        for ok in [
            "localhost:4317",
            "http://collector:4318/v1/traces",
            "https://otel.example.org",
            "10.0.0.1:4317",
        ] {
            assert!(Format::OtlpEndpoint.check(ok).is_ok(), "{ok}");
        }
        for bad in ["localhost", "grpc://x:1", "host:0", ""] {
            assert!(Format::OtlpEndpoint.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn aws() {
        assert!(Format::AwsKeyId.check("AKIAIOSFODNN7EXAMPLE").is_ok());
        assert!(Format::AwsKeyId.check("ASIAIOSFODNN7EXAMPLE").is_ok());
        assert!(Format::AwsKeyId.check("AKIAIOSFODNN7EXAMPL").is_err());
        assert!(Format::AwsKeyId.check("XKIAIOSFODNN7EXAMPLE").is_err());
        assert!(
            Format::AwsSecret
                .check("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
                .is_ok()
        );
        for ok in [
            "us-east-1",
            "eu-central-1",
            "us-gov-west-1",
            "ap-southeast-2",
        ] {
            assert!(Format::AwsRegion.check(ok).is_ok(), "{ok}");
        }
        for bad in ["useast1", "US-EAST-1", "us-east", "europe-west-1"] {
            assert!(Format::AwsRegion.check(bad).is_err(), "{bad}");
        }
        assert!(Format::S3Bucket.check("my-audit.bucket-1").is_ok());
        for bad in [
            "ab",
            "My-Bucket",
            "bucket..x",
            "-bucket",
            "192.168.1.1",
            "a_b_c",
        ] {
            assert!(Format::S3Bucket.check(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn others() {
        assert!(Format::PositiveInt.check("60").is_ok());
        assert!(Format::PositiveInt.check("0").is_err());
        assert!(Format::PositiveInt.check("-1").is_err());
        assert!(Format::Hostname.check("agents.example.org").is_ok());
        assert!(Format::Hostname.check("localhost").is_ok());
        assert!(Format::Hostname.check("http://x").is_err());
        assert!(Format::Hostname.check("-x.org").is_err());
        assert!(
            Format::Prefix {
                prefix: "sk-ant-",
                min_len: 20
            }
            .check("sk-ant-api03-abcdefghijkl")
            .is_ok()
        );
        assert!(
            Format::Prefix {
                prefix: "hf_",
                min_len: 10
            }
            .check("hx_abcdefghijk")
            .is_err()
        );
    }

    #[test]
    fn http_urls_and_words() {
        for ok in [
            "http://localhost:8000/api/chat",
            "https://api.anthropic.com",
            "http://127.0.0.1:9000",
            "http://[::1]:8000/x?y=1",
        ] {
            assert!(Format::HttpUrl.check(ok).is_ok(), "{ok}");
        }
        for bad in [
            "localhost:8000",
            "ftp://x",
            "http://",
            "http://user@host",
            "",
        ] {
            assert!(Format::HttpUrl.check(bad).is_err(), "{bad}");
        }
        let f = Format::OneOf(&["grpc", "http/protobuf"]);
        assert!(f.check("grpc").is_ok());
        assert!(f.check("GRPC").is_err());
        assert_eq!(f.expected(), "one of: grpc, http/protobuf");
    }

    #[test]
    fn messages_never_hold_the_value() {
        let canary = "CANARY-zz9-value";
        for f in [
            Format::NonEmpty,
            Format::PypiToken { index: "pypi.org" },
            Format::Hex { min_chars: 64 },
            Format::RedisUrl,
            Format::AwsKeyId,
            Format::Hostname,
        ] {
            if let Err(msg) = f.check(canary) {
                assert!(!msg.to_string().contains("CANARY"), "{msg}");
            }
        }
    }
}
