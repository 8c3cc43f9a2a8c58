//! Audit chain: AUDIT_HMAC_KEY is a real key (not the development default,
//! at least 32 bytes of key material, not a placeholder) and signs and
//! verifies a test record with HMAC-SHA256.

use hmac::{KeyInit as _, Mac as _};

use super::{Inputs, Outcome};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The least key material accepted, in bytes (`env gen-key --bytes 32`).
pub const MIN_KEY_BYTES: usize = 32;

const HOWTO: &str = "generate one with `cargo xtask env gen-key --bytes 32` (or `cargo xtask env rotate AUDIT_HMAC_KEY --force` after storing the old key offline)";

pub(super) fn check(inputs: &Inputs) -> Outcome {
    let dev_default = inputs
        .settings
        .registry()
        .var(inputs.name("AUDIT_HMAC_KEY"))
        .and_then(|v| v.dev_default);
    let Some(key) = inputs.explicit("AUDIT_HMAC_KEY") else {
        return Outcome::skipped(
            "not configured: AUDIT_HMAC_KEY is not set, so the development default is in effect (production refuses it)",
        );
    };
    match judge(key.expose(), dev_default) {
        Ok(bytes) => Outcome::pass(format!(
            "{bytes} bytes of key material; an HMAC-SHA256 of a test record verifies and a changed record does not"
        )),
        Err(why) => Outcome::fail(format!("AUDIT_HMAC_KEY {why}; {HOWTO}")),
    }
}

/// What is wrong with an audit key, in words that follow its name (never
/// the key).
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
enum KeyProblem {
    #[error("holds the development default, which production refuses")]
    DevDefault,
    #[error("is not hexadecimal (the key is stored as hex, two characters per byte)")]
    NotHex,
    #[error("holds {0} bytes of key material; at least {MIN_KEY_BYTES} are needed")]
    TooShort(usize),
    #[error("is one byte repeated: a placeholder, not a random key")]
    Repeated,
    #[error("cannot key HMAC")]
    Hmac,
    #[error("signs a record that then does not verify")]
    NoVerify,
    #[error("verifies a changed record")]
    VerifiesChanged,
}

/// The key's size in bytes, or what is wrong with it.
fn judge(value: &str, dev_default: Option<&str>) -> Result<usize, KeyProblem> {
    if Some(value) == dev_default {
        return Err(KeyProblem::DevDefault);
    }
    let key = decode_hex(value.trim()).ok_or(KeyProblem::NotHex)?;
    if key.len() < MIN_KEY_BYTES {
        return Err(KeyProblem::TooShort(key.len()));
    }
    if key.iter().all(|b| *b == key[0]) {
        return Err(KeyProblem::Repeated);
    }
    sign_and_verify(&key)?;
    Ok(key.len())
}

/// Signs a test record and checks that it verifies and that a changed
/// record does not.
fn sign_and_verify(key: &[u8]) -> Result<(), KeyProblem> {
    const RECORD: &[u8] =
        br#"{"seq":0,"prev":"0000000000000000","event":"env-verify","detail":"test record"}"#;
    let mac = |data: &[u8]| {
        let mut m = HmacSha256::new_from_slice(key).map_err(|_| KeyProblem::Hmac)?;
        m.update(data);
        Ok::<_, KeyProblem>(m)
    };
    let tag = mac(RECORD)?.finalize().into_bytes();
    mac(RECORD)?
        .verify_slice(&tag)
        .map_err(|_| KeyProblem::NoVerify)?;
    let mut changed = RECORD.to_vec();
    changed[8] ^= 1;
    if mac(&changed)?.verify_slice(&tag).is_ok() {
        return Err(KeyProblem::VerifiesChanged);
    }
    Ok(())
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_judged() {
        const DEV: &str = "dev_only_audit_key_DO_NOT_USE_IN_PROD";
        let dev = Some(DEV);
        assert_eq!(judge(DEV, dev), Err(KeyProblem::DevDefault));
        assert!(
            judge("zz".repeat(32).as_str(), dev)
                .unwrap_err()
                .to_string()
                .contains("hexadecimal")
        );
        assert!(
            judge(&"a1".repeat(31), dev)
                .unwrap_err()
                .to_string()
                .contains("31 bytes")
        );
        assert!(
            judge(&"00".repeat(32), dev)
                .unwrap_err()
                .to_string()
                .contains("placeholder")
        );
        let key: String = (0..32u8).map(|b| format!("{:02x}", b * 7 + 1)).collect();
        assert_eq!(judge(&key, dev), Ok(32));
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        let mut m = HmacSha256::new_from_slice(b"Jefe").unwrap();
        m.update(b"what do ya want for nothing?");
        let tag = crate::digest::hex(&m.finalize().into_bytes());
        assert_eq!(
            tag,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
