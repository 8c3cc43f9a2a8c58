//! Secret values and the [`Redactor`] that keeps them out of every output.
//!
//! A [`Secret`] wraps [`secrecy::SecretString`]: its `Debug` and `Display`
//! print a mask, and the only way to the value is [`Secret::expose`], which
//! is meant for exactly one use: putting the value into a child's
//! environment or an HTTP header marked sensitive.

use std::collections::HashSet;
use std::fmt;

use base64::Engine as _;
use secrecy::{ExposeSecret, SecretString};

/// What a masked secret looks like in any output.
pub const MASK: &str = "********";

/// Secrets shorter than this are not searched for in output: masking every
/// `y` or `1` would garble text without protecting anything.
pub const MIN_REDACT_LEN: usize = 4;

/// A secret value. Printing it (Debug or Display) prints [`MASK`].
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(SecretString::from(value.into()))
    }

    /// The value itself. Only for a child's environment or a sensitive header.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// True when the value is empty or only whitespace.
    pub fn is_blank(&self) -> bool {
        self.expose().trim().is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(MASK)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

/// Masks every known secret value, and its common encodings, in text.
///
/// Built from the loaded settings (every secret variable's value) plus any
/// value minted at run time (an OIDC token). Child output, error messages
/// and log lines all pass through [`Redactor::redact`] before they are shown.
#[derive(Clone, Default)]
pub struct Redactor {
    /// Longest first, so that a secret containing another is masked whole.
    needles: Vec<Secret>,
    /// The first [`PREFIX_LEN`] bytes of every needle that long: text
    /// holding none of them (nor a short needle's start) holds no needle,
    /// which most lines show in one pass however many secrets there are (a
    /// `.env` of thousands of tokens).
    prefixes: HashSet<[u8; PREFIX_LEN]>,
    /// The same for needles shorter than [`PREFIX_LEN`] (rare).
    short_prefixes: HashSet<[u8; MIN_REDACT_LEN]>,
}

/// Long enough that a random secret's prefix does not turn up in ordinary
/// text by chance.
const PREFIX_LEN: usize = 8;

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Redactor({} forms)", self.needles.len())
    }
}

impl Redactor {
    /// A redactor that masks nothing yet.
    pub fn new() -> Redactor {
        Redactor::default()
    }

    /// Adds a secret value and its encodings ([`forms`]): base64 (standard
    /// and URL-safe, with and without padding, and at any offset of a longer
    /// encoded text), percent-encoding, and the `user:password` form of HTTP
    /// Basic auth.
    pub fn add(&mut self, secret: &Secret) {
        self.add_all([secret]);
    }

    /// [`Redactor::add`] for many secrets at once: one sort for all of
    /// them, so loading thousands of secrets stays fast.
    pub fn add_all<'a>(&mut self, secrets: impl IntoIterator<Item = &'a Secret>) {
        for secret in secrets {
            for (_, form) in forms(secret) {
                let bytes = form.expose().as_bytes();
                match bytes.first_chunk::<PREFIX_LEN>() {
                    Some(prefix) => self.prefixes.insert(*prefix),
                    None => self
                        .short_prefixes
                        .insert(*bytes.first_chunk::<MIN_REDACT_LEN>().expect("long enough")),
                };
                self.needles.push(form);
            }
        }
        self.needles.sort_by(|a, b| {
            let (a, b) = (a.expose(), b.expose());
            b.len().cmp(&a.len()).then_with(|| a.cmp(b))
        });
        self.needles.dedup_by(|a, b| a.expose() == b.expose());
    }

    /// Every form this redactor masks (for `::add-mask::`).
    pub fn forms(&self) -> impl Iterator<Item = &Secret> {
        self.needles.iter()
    }

    /// True when nothing is registered.
    pub fn is_empty(&self) -> bool {
        self.needles.is_empty()
    }

    /// `text` with every registered form replaced by [`MASK`].
    pub fn redact(&self, text: &str) -> String {
        let mut out = text.to_owned();
        let bytes = text.as_bytes();
        let long = bytes.windows(PREFIX_LEN).any(|w| self.prefixes.contains(w));
        let short = !self.short_prefixes.is_empty()
            && bytes
                .windows(MIN_REDACT_LEN)
                .any(|w| self.short_prefixes.contains(w));
        if !long && !short {
            return out;
        }
        for needle in &self.needles {
            let n = needle.expose();
            if out.contains(n) {
                out = out.replace(n, MASK);
            }
        }
        out
    }

    /// Adds every form `other` masks (already expanded: no new forms).
    pub fn merge(&mut self, other: &Redactor) {
        self.needles.extend(other.needles.iter().cloned());
        self.prefixes.extend(other.prefixes.iter().copied());
        self.short_prefixes
            .extend(other.short_prefixes.iter().copied());
        self.needles.sort_by(|a, b| {
            let (a, b) = (a.expose(), b.expose());
            b.len().cmp(&a.len()).then_with(|| a.cmp(b))
        });
        self.needles.dedup_by(|a, b| a.expose() == b.expose());
    }

    /// Like [`Redactor::redact`] for bytes that may not be UTF-8.
    pub fn redact_bytes(&self, bytes: &[u8]) -> String {
        self.redact(&String::from_utf8_lossy(bytes))
    }
}

/// How a form of a secret is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Encoding {
    /// The value itself (or one line of a multi-line value).
    Plain,
    /// Base64 of the value (or of `user:value`), standard or URL-safe.
    Base64,
    /// Percent-encoded (`encodeURIComponent`, or `+` for spaces).
    UrlEncoded,
}

impl Encoding {
    /// `plain`, `base64` or `url-encoded`.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Plain => "plain",
            Encoding::Base64 => "base64",
            Encoding::UrlEncoded => "url-encoded",
        }
    }
}

/// Every form a secret may take in output or in a file, each at least
/// [`MIN_REDACT_LEN`] long, without duplicates. Values shorter than that
/// have no forms. The [`Redactor`] masks these; the scanner searches them.
pub fn forms(secret: &Secret) -> Vec<(Encoding, Secret)> {
    let value = secret.expose();
    if value.trim().len() < MIN_REDACT_LEN {
        return Vec::new();
    }
    let mut forms = encodings(value);
    // Output is redacted line by line, and the runner masks line by line: a
    // multi-line secret (a PEM key) is masked per line too.
    if value.contains('\n') {
        forms.extend(
            value
                .lines()
                .map(str::trim)
                .map(|l| (Encoding::Plain, l.to_owned())),
        );
    }
    let mut out: Vec<(Encoding, Secret)> = Vec::new();
    for (encoding, form) in forms {
        if form.len() >= MIN_REDACT_LEN && !out.iter().any(|(_, f)| f.expose() == form) {
            out.push((encoding, Secret::new(form)));
        }
    }
    out
}

/// The encoded forms of a value (plain first).
fn encodings(value: &str) -> Vec<(Encoding, String)> {
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let mut forms = vec![
        (Encoding::Plain, value.to_owned()),
        (Encoding::Plain, value.trim().to_owned()),
    ];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push((Encoding::Base64, engine.encode(value)));
    }
    // Basic auth headers encode `user:password`; the password alone shifts
    // with the user's length, so cover the users our tools send.
    for user in ["__token__:", "OAuth:", ":"] {
        let joined = format!("{user}{value}");
        forms.push((Encoding::Base64, STANDARD.encode(&joined)));
        forms.push((Encoding::Base64, STANDARD_NO_PAD.encode(&joined)));
    }
    // Inside a longer encoded text (a base64 dump of a whole .env, a
    // Kubernetes secret) the value starts at any of three byte offsets and
    // its first and last characters mix with its neighbours: keep only the
    // characters that depend on the value alone.
    for engine in [&STANDARD_NO_PAD, &URL_SAFE_NO_PAD] {
        for offset in 0..3usize {
            let mut bytes = vec![0u8; offset];
            bytes.extend_from_slice(value.as_bytes());
            let encoded = engine.encode(&bytes);
            let skip = (offset * 8).div_ceil(6);
            let whole = bytes.len() / 3 * 4;
            if whole > skip {
                forms.push((Encoding::Base64, encoded[skip..whole].to_owned()));
            }
        }
    }
    forms.push((Encoding::UrlEncoded, percent_encode(value)));
    forms.push((
        Encoding::UrlEncoded,
        percent_encode(value).replace("%20", "+"),
    ));
    forms
}

/// Percent-encoding as `encodeURIComponent` does it.
pub fn percent_encode(value: &str) -> String {
    percent_encode_keeping(value, b"-_.!~*'()")
}

/// Percent-encodes every byte but ASCII letters, digits and `keep`.
pub fn percent_encode_keeping(value: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The process-wide redactor, for output that cannot reach the loaded
/// settings (a panic message): the CLI registers its redactor here once
/// settings load, and again when it learns more secrets.
static PROCESS: std::sync::Mutex<Option<Redactor>> = std::sync::Mutex::new(None);

/// Adds `redactor`'s forms to the process-wide redactor.
pub fn register_process_redactor(redactor: &Redactor) {
    let mut guard = PROCESS.lock().unwrap_or_else(|p| p.into_inner());
    guard.get_or_insert_with(Redactor::new).merge(redactor);
}

/// `text` redacted with the process-wide redactor; `None` when it cannot be
/// had without waiting (a panic while it is being registered), so that the
/// caller withholds the text rather than print it unredacted or block.
pub fn redact_with_process(text: &str) -> Option<String> {
    let guard = match PROCESS.try_lock() {
        Ok(g) => g,
        Err(std::sync::TryLockError::Poisoned(p)) => p.into_inner(),
        Err(std::sync::TryLockError::WouldBlock) => return None,
    };
    Some(match guard.as_ref() {
        Some(r) => r.redact(text),
        None => text.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_never_prints() {
        let s = Secret::new("canary-secret-123");
        assert_eq!(format!("{s}"), MASK);
        assert_eq!(format!("{s:?}"), MASK);
        assert_eq!(format!("{:?}", Some(&s)), format!("Some({MASK})"));
    }

    #[test]
    fn many_secrets_at_once_are_all_masked() {
        let secrets: Vec<Secret> = (0..2000)
            .map(|i| Secret::new(format!("tok-{i:04}-CANARY")))
            .collect();
        let mut r = Redactor::new();
        r.add_all(&secrets);
        r.add(&Secret::new("tok-0007-CANARY"));
        r.add(&Secret::new("shrt"));
        assert!(r.forms().count() > 2000 * forms(&secrets[0]).len());
        assert_eq!(
            r.redact("a tok-1999-CANARY b tok-0007-CANARY"),
            "a ******** b ********"
        );
        let b64 = base64::engine::general_purpose::STANDARD.encode("tok-0500-CANARY");
        assert_eq!(r.redact(&format!("[{b64}]")), "[********]");
        assert_eq!(r.redact("nothing secret here"), "nothing secret here");
        assert_eq!(r.redact("a shrt b"), "a ******** b");
    }

    #[test]
    fn redacts_plain_and_encoded_forms() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let value = "pypi-AgEIcHlwaS5vcmc/+x y";
        let mut r = Redactor::new();
        r.add(&Secret::new(value));
        let text = format!(
            "a {value} b {} c {} d {} e {}",
            STANDARD.encode(value),
            URL_SAFE_NO_PAD.encode(value),
            percent_encode(value),
            STANDARD.encode(format!("__token__:{value}"))
        );
        let out = r.redact(&text);
        assert!(!out.contains(value), "{out}");
        assert!(!out.contains(&STANDARD.encode(value)));
        assert!(!out.contains(&percent_encode(value)));
        assert_eq!(out.matches(MASK).count(), 5, "{out}");
    }

    #[test]
    fn base64_inside_a_longer_text_is_masked_at_any_offset() {
        use base64::engine::general_purpose::{STANDARD, URL_SAFE};
        let value = "CANARY-b64-offset-5e4d3c";
        let mut r = Redactor::new();
        r.add(&Secret::new(value));
        for prefix in ["", "A", "AB", "HF_TOKEN=", "X=1\nTOKEN="] {
            for engine in [&STANDARD, &URL_SAFE] {
                let dump = engine.encode(format!("{prefix}{value}\nNEXT=1\n"));
                let out = r.redact(&dump);
                assert!(out.contains(MASK), "{prefix:?}: {out}");
            }
        }
        let labels: Vec<_> = forms(&Secret::new(value))
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        assert_eq!(labels[0], Encoding::Plain);
        assert!(labels.contains(&Encoding::Base64));
    }

    #[test]
    fn multi_line_secrets_are_masked_per_line() {
        let mut r = Redactor::new();
        r.add(&Secret::new(
            "-----BEGIN KEY-----\nAAAAsecretline1\nBBBBsecretline2\n-----END KEY-----",
        ));
        let out = r.redact("got AAAAsecretline1 then BBBBsecretline2");
        assert!(!out.contains("secretline"), "{out}");
    }

    #[test]
    fn short_values_are_not_masked() {
        let mut r = Redactor::new();
        r.add(&Secret::new("y"));
        assert!(r.is_empty());
        assert_eq!(r.redact("yes"), "yes");
    }

    #[test]
    fn longest_form_first() {
        let mut r = Redactor::new();
        r.add(&Secret::new("abcd"));
        r.add(&Secret::new("abcdefgh"));
        assert_eq!(r.redact("xabcdefghx"), format!("x{MASK}x"));
    }
}
