//! AWS Signature Version 4, for the few S3 requests `env verify` makes
//! (HEAD bucket, GET `?object-lock`): the canonical request, the string to
//! sign, the derived key, the `Authorization` header. Checked against the
//! AWS test suite's `get-vanilla` case and against moto's server, which
//! recomputes every signature once authentication is on.

use hmac::{KeyInit as _, Mac as _};
use sha2::Digest as _;

use crate::digest::hex;
use crate::net::Url;
use crate::secret::Secret;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The SHA-256 of an empty payload, as `x-amz-content-sha256` carries it.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// An access key: id and secret (and a session token for `ASIA…` keys).
#[derive(Clone, Debug)]
pub struct Credentials {
    /// AWS_ACCESS_KEY_ID.
    pub access_key_id: Secret,
    /// AWS_SECRET_ACCESS_KEY.
    pub secret_access_key: Secret,
    /// AWS_SESSION_TOKEN, for temporary credentials.
    pub session_token: Option<Secret>,
}

/// What to sign: the request's method, URL, headers besides `host` (names
/// in any case) and the payload's SHA-256 (hex).
pub struct Signing<'a> {
    /// `GET`, `HEAD`…
    pub method: &'a str,
    /// The URL (its host and port are the `host` header).
    pub url: &'a Url,
    /// Headers to sign besides `host`.
    pub headers: &'a [(&'a str, &'a str)],
    /// SHA-256 of the body, hex.
    pub payload_sha256: &'a str,
    /// `us-east-1`.
    pub region: &'a str,
    /// `s3`.
    pub service: &'a str,
    /// `YYYYMMDDTHHMMSSZ`.
    pub amz_date: &'a str,
}

/// The `Authorization` header value.
pub fn authorization(s: &Signing<'_>, creds: &Credentials) -> Secret {
    let mut headers: Vec<(String, String)> = s
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_ascii_lowercase(),
                v.split_whitespace().collect::<Vec<_>>().join(" "),
            )
        })
        .collect();
    headers.push(("host".into(), host_header(s.url)));
    headers.sort();
    let signed: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    let signed = signed.join(";");
    let canonical_headers: String = headers.iter().map(|(k, v)| format!("{k}:{v}\n")).collect();
    let canonical = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed}\n{}",
        s.method,
        canonical_path(s.url),
        canonical_query(s.url),
        s.payload_sha256
    );
    let date = &s.amz_date[..8];
    let scope = format!("{date}/{}/{}/aws4_request", s.region, s.service);
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{}\n{scope}\n{}",
        s.amz_date,
        hex(&sha2::Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(
        format!("AWS4{}", creds.secret_access_key.expose()).as_bytes(),
        date.as_bytes(),
    );
    for part in [s.region, s.service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    Secret::new(format!(
        "AWS4-HMAC-SHA256 Credential={}/{scope}, SignedHeaders={signed}, Signature={signature}",
        creds.access_key_id.expose()
    ))
}

/// The `host` header HTTP clients send for `url`: the port only when it is
/// not the scheme's default.
pub fn host_header(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(p) => format!("{host}:{p}"),
        None => host.to_owned(),
    }
}

/// `x-amz-date` for a time: `YYYYMMDDTHHMMSSZ` (UTC).
pub fn amz_date(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

fn canonical_path(url: &Url) -> String {
    // The URL keeps its path percent-encoded once, as S3 signs it.
    let p = url.path();
    if p.is_empty() {
        "/".into()
    } else {
        p.to_owned()
    }
}

fn canonical_query(url: &Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| (encode(&k), encode(&v)))
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

/// AWS's URI encoding: everything but `A-Za-z0-9-_.~` as `%XX`.
fn encode(s: &str) -> String {
    crate::secret::percent_encode_keeping(s, b"-_.~")
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    m.update(data);
    m.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials {
            access_key_id: Secret::new("AKIDEXAMPLE"),
            secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
            session_token: None,
        }
    }

    /// The AWS Signature Version 4 test suite, `get-vanilla`.
    #[test]
    fn aws_test_suite_get_vanilla() {
        let url = Url::parse("https://example.amazonaws.com/").unwrap();
        let auth = authorization(
            &Signing {
                method: "GET",
                url: &url,
                headers: &[("X-Amz-Date", "20150830T123600Z")],
                payload_sha256: EMPTY_SHA256,
                region: "us-east-1",
                service: "service",
                amz_date: "20150830T123600Z",
            },
            &creds(),
        );
        assert_eq!(
            auth.expose(),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, \
             SignedHeaders=host;x-amz-date, \
             Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        );
    }

    #[test]
    fn query_and_host() {
        let url = Url::parse("http://127.0.0.1:9000/bucket?object-lock").unwrap();
        assert_eq!(canonical_query(&url), "object-lock=");
        assert_eq!(host_header(&url), "127.0.0.1:9000");
        let url = Url::parse("https://b.s3.us-east-1.amazonaws.com/?b=2&a=x y").unwrap();
        assert_eq!(canonical_query(&url), "a=x%20y&b=2");
        assert_eq!(host_header(&url), "b.s3.us-east-1.amazonaws.com");
    }

    #[test]
    fn dates() {
        use std::time::{Duration, UNIX_EPOCH};
        assert_eq!(amz_date(UNIX_EPOCH), "19700101T000000Z");
        assert_eq!(
            amz_date(UNIX_EPOCH + Duration::from_secs(1_440_938_160)),
            "20150830T123600Z"
        );
        assert_eq!(
            amz_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "20000229T000000Z"
        );
    }
}
