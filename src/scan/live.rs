//! The secrets actually loaded (from `.env` and the environment), to be
//! searched for as themselves and in the encoded forms the
//! [`Redactor`](crate::secret::Redactor) masks ([`crate::secret::forms`]).

use crate::secret::{Encoding, Secret, percent_encode_keeping};
use crate::settings::Settings;

/// Values (and forms) shorter than this are not searched for: an 8-byte
/// needle still finds nothing by chance, a shorter one would.
pub const MIN_LEN: usize = 8;

/// A loaded secret to search for. Its Debug prints the name only.
#[derive(Clone, Debug)]
pub struct LiveValue {
    /// The variable's name, what a finding reports.
    pub name: String,
    /// The value.
    pub value: Secret,
}

/// Every secret set explicitly in `settings` that is worth searching for.
/// For a URL with a password (`REDIS_URL`), the password is the secret; a
/// URL without one (`redis://localhost:6379`) is not searched for.
pub fn from_settings(settings: &Settings) -> Vec<LiveValue> {
    settings
        .secrets()
        .filter_map(|(name, entry)| live_value(name, &entry.value))
        .collect()
}

/// The part of `value` worth searching for (the password of a URL), if it
/// is long enough.
pub fn live_value(name: &str, value: &Secret) -> Option<LiveValue> {
    let value = value.expose().trim();
    let secret = match url_password(value) {
        Some(Some(pw)) => pw,
        Some(None) => return None,
        None => value,
    };
    (secret.len() >= MIN_LEN).then(|| LiveValue {
        name: name.to_owned(),
        value: Secret::new(secret),
    })
}

/// For `scheme://[user][:password]@host…`: `Some(password)`; for a URL
/// without a password `Some(None)`; for anything else `None`.
fn url_password(value: &str) -> Option<Option<&str>> {
    let (scheme, rest) = value.split_once("://")?;
    if scheme.is_empty()
        || !scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+')
    {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let Some((userinfo, _)) = authority.rsplit_once('@') else {
        return Some(None);
    };
    Some(
        userinfo
            .split_once(':')
            .map(|(_, pw)| pw)
            .filter(|pw| !pw.is_empty()),
    )
}

/// How a form of a live value is written, as findings name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// The value itself.
    Plain,
    /// Base64 or base64url, padded or not, at any offset.
    Base64,
    /// Percent-encoded as JavaScript or Python write it.
    UrlEncoded,
    /// Hex, lower or upper case.
    Hex,
}

impl Form {
    /// `plain`, `base64`, `url-encoded` or `hex`.
    pub fn name(self) -> &'static str {
        match self {
            Form::Plain => "plain",
            Form::Base64 => "base64",
            Form::UrlEncoded => "url-encoded",
            Form::Hex => "hex",
        }
    }
}

/// Every form of `value` the scanner searches for, at least [`MIN_LEN`]
/// long, without duplicates: those the redactor masks
/// ([`crate::secret::forms`]: plain, base64 at any offset,
/// `encodeURIComponent`), and the percent-encodings of Python's `quote`
/// (keeps `/`), `quote(safe="")` and `quote_plus` (space as `+`), each with
/// upper- and lower-case hex digits, and the value in hex.
pub fn forms(value: &Secret) -> Vec<(Form, Secret)> {
    let mut out: Vec<(Form, String)> = crate::secret::forms(value)
        .into_iter()
        .map(|(e, s)| {
            let form = match e {
                Encoding::Plain => Form::Plain,
                Encoding::Base64 => Form::Base64,
                Encoding::UrlEncoded => Form::UrlEncoded,
            };
            (form, s.expose().to_owned())
        })
        .collect();
    if out.is_empty() {
        return Vec::new();
    }
    let v = value.expose();
    let mut url = vec![
        percent_encode_keeping(v, b"-_.!~*'()"),
        percent_encode_keeping(v, b"_.-~/"),
        percent_encode_keeping(v, b"_.-~"),
    ];
    url.push(
        v.split(' ')
            .map(|part| percent_encode_keeping(part, b"_.-~"))
            .collect::<Vec<_>>()
            .join("+"),
    );
    url.push(url[0].replace("%20", "+"));
    for u in url.clone() {
        url.push(lower_escapes(&u));
    }
    out.extend(url.into_iter().map(|u| (Form::UrlEncoded, u)));
    let hex: String = v.bytes().map(|b| format!("{b:02x}")).collect();
    out.push((Form::Hex, hex.to_ascii_uppercase()));
    out.push((Form::Hex, hex));
    let mut unique: Vec<(Form, Secret)> = Vec::new();
    for (form, s) in out {
        if s.len() >= MIN_LEN && !unique.iter().any(|(_, u)| u.expose() == s) {
            unique.push((form, Secret::new(s)));
        }
    }
    unique
}

/// `%2B` → `%2b`: the escapes' hex digits in lower case.
fn lower_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut left = 0;
    for c in s.chars() {
        if c == '%' {
            left = 2;
            out.push(c);
        } else if left > 0 {
            left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{EnvFileChoice, LoadOptions};

    #[test]
    fn url_passwords() {
        assert_eq!(
            url_password("redis://:pw123456@h:6379/0"), // xtask:allow
            Some(Some("pw123456"))
        );
        assert_eq!(url_password("rediss://u:p@ss@h"), Some(Some("p@ss"))); // xtask:allow
        assert_eq!(url_password("redis://localhost:6379/0"), Some(None));
        assert_eq!(url_password("redis://user@host"), Some(None));
        assert_eq!(url_password("hf_abcdef"), None);
    }

    #[test]
    fn explicit_secrets_only() {
        let opts = LoadOptions {
            start_dir: "/".into(),
            env_file: EnvFileChoice::None,
            environment: Some(vec![
                ("HF_TOKEN".into(), "hf_CANARYlive123".into()),
                (
                    "REDIS_URL".into(),
                    "redis://:CANARYredis9@cache:6379".into(), // xtask:allow
                ),
                ("OVSX_PAT".into(), "short".into()),
                ("ORG_DOMAIN".into(), "example.org".into()),
                ("NPM_TOKEN".into(), "npm_CANARYnpm456".into()),
            ]),
        };
        // The example's variables: REDIS_URL is a secret there.
        let example = crate::settings::registry::tests::example();
        let s = Settings::load_for(&opts, example).unwrap();
        let mut got: Vec<_> = from_settings(&s)
            .into_iter()
            .map(|l| (l.name, l.value.expose().to_owned()))
            .collect();
        got.sort();
        assert_eq!(
            got,
            vec![
                ("HF_TOKEN".into(), "hf_CANARYlive123".into()),
                ("NPM_TOKEN".into(), "npm_CANARYnpm456".into()),
                ("REDIS_URL".into(), "CANARYredis9".into()),
            ]
        );
    }
}
