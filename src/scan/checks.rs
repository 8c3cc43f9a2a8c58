//! The last checks a rule's match goes through: placeholders, randomness,
//! checksums. Each takes the secret's bytes (ASCII for every format here).

/// Text documentation and examples use in place of a credential.
pub(crate) fn not_placeholder(s: &[u8]) -> bool {
    if s.len() >= 16 && distinct(s) < 6 {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    const MARKERS: &[&str] = &[
        "...",
        "\u{2026}",
        "<",
        ">",
        "{",
        "}",
        "$",
        "*",
        "%(",
        "example",
        "xxxx",
        "placeholder",
        "your",
        "dummy",
        "redacted",
        "changeme",
        "sample",
    ];
    !MARKERS
        .iter()
        .any(|m| memchr::memmem::find(&lower, m.as_bytes()).is_some())
}

/// Words that stand for a password in documentation and tests
/// (`redis://user:pass@…`, `redis://foo:bar@…`).
pub(crate) fn is_placeholder_word(s: &[u8]) -> bool {
    const WORDS: &[&str] = &[
        "password",
        "passwd",
        "pass",
        "pwd",
        "secret",
        "pw",
        "token",
        "redis",
        "user",
        "auth",
        "foo",
        "bar",
        "baz",
        "qux",
        "quux",
        "foobar",
        "example",
        "changeme",
        "change_me",
        "xxx",
        "test",
        "testing",
        "admin",
        "root",
        "guest",
        "hunter2",
        "letmein",
        "secret123",
        "password123",
        "p4ssw0rd",
        "mypassword",
        "default",
        "none",
        "null",
        "empty",
    ];
    let lower = s.to_ascii_lowercase();
    WORDS.iter().any(|w| lower == w.as_bytes())
        || s.iter().all(|b| b.is_ascii_uppercase() || *b == b'_')
        || (s.len() >= 3 && distinct(s) == 1)
}

/// Upper- and lower-case letters both.
pub(crate) fn mixed_case(s: &[u8]) -> bool {
    s.iter().any(u8::is_ascii_uppercase) && s.iter().any(u8::is_ascii_lowercase)
}

/// How many different bytes.
pub(crate) fn distinct(s: &[u8]) -> usize {
    let mut seen = [false; 256];
    s.iter()
        .filter(|&&b| !std::mem::replace(&mut seen[b as usize], true))
        .count()
}

/// Shannon entropy in bits per byte: random base62 of 20+ characters is
/// above 4, an English word or an identifier below 3.5.
pub(crate) fn entropy(s: &[u8]) -> f64 {
    let mut counts = [0u32; 256];
    for &b in s {
        counts[b as usize] += 1;
    }
    let n = s.len() as f64;
    counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = f64::from(c) / n;
            -p * p.log2()
        })
        .sum()
}

/// Looks randomly drawn: letters and digits both, enough entropy, no
/// placeholder marker.
pub(crate) fn random_looking(s: &[u8]) -> bool {
    s.iter().any(u8::is_ascii_digit)
        && s.iter().any(u8::is_ascii_alphabetic)
        && entropy(s) >= 3.5
        && not_placeholder(s)
}

const CRC32_TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
};

/// CRC-32 (IEEE, as zlib computes it).
fn crc32(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |c, &b| {
        CRC32_TABLE[((c ^ u32::from(b)) & 0xFF) as usize] ^ (c >> 8)
    })
}

/// `n` in base62 (`0-9A-Za-z`), left-padded with `0` to `width`.
fn base62(mut n: u32, width: usize) -> Vec<u8> {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    let mut out = vec![b'0'; width];
    for slot in out.iter_mut().rev() {
        *slot = DIGITS[(n % 62) as usize];
        n /= 62;
    }
    out
}

/// The checksum GitHub's token formats of 2021 end with: the last 6
/// characters of the 36 after the prefix are the CRC-32 of the first 30,
/// in base62.
pub(crate) fn github_checksum_ok(body: &[u8]) -> bool {
    body.len() == 36 && base62(crc32(&body[..30]), 6) == body[30..]
}

/// A GitHub token body (`ghp_` + 36): its checksum holds, or, when it does
/// not (a test value, a format change), it looks random.
pub(crate) fn github_token(body: &[u8]) -> bool {
    not_placeholder(body)
        && (github_checksum_ok(body) || (mixed_case(body) && random_looking(body)))
}

/// A GitHub token with a valid checksum, for tests: `prefix` + 30
/// characters of `seed` (repeated) + their checksum.
/// The words of a name in any case style: `apiToken`, `API_TOKEN`,
/// `api-token`, `api.token` are all `["api", "token"]`.
fn words(name: &[u8]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for &b in name {
        if !b.is_ascii_alphanumeric() {
            out.push(std::mem::take(&mut cur));
            prev_lower = false;
            continue;
        }
        if b.is_ascii_uppercase() && prev_lower {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = b.is_ascii_lowercase() || b.is_ascii_digit();
        cur.push(b.to_ascii_lowercase() as char);
    }
    out.push(cur);
    out.retain(|w| !w.is_empty());
    out
}

/// Whether a name (`apiToken`, `DB_PASSWORD`, `client-secret`) names a
/// secret: a secret word is its last word, or is followed only by words
/// that still mean the value (`token_value`, `secret_key_base`). A name
/// ending in `_path`, `_file`, `_url`, `_id`, `_type` … names something
/// else.
pub(crate) fn secret_name(name: &[u8]) -> bool {
    const EXACT: &[&str] = &[
        "key",
        "token",
        "secret",
        "password",
        "passwd",
        "pwd",
        "pat",
        "credential",
        "credentials",
        "creds",
        "auth",
        "apikey",
        "passphrase",
    ];
    const JOINED: &[&str] = &[
        "token",
        "secret",
        "password",
        "passwd",
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "authkey",
    ];
    const STILL_VALUE: &[&str] = &[
        "value", "val", "str", "string", "hex", "b64", "base64", "raw", "base", "plain", "data",
        "key", "token", "secret",
    ];
    if name.len() > 80 {
        return false;
    }
    let words = words(name);
    let Some(at) = words.iter().rposition(|w| {
        EXACT.contains(&w.as_str()) || JOINED.iter().any(|j| w.len() > j.len() && w.ends_with(j))
    }) else {
        return false;
    };
    words[at + 1..]
        .iter()
        .all(|w| STILL_VALUE.contains(&w.as_str()))
}

#[cfg(test)]
pub(crate) fn github_sample(prefix: &str, seed: &str) -> String {
    let random: String = seed.chars().cycle().take(30).collect();
    let sum = base62(crc32(random.as_bytes()), 6);
    format!("{prefix}{random}{}", String::from_utf8(sum).unwrap())
}

/// The value of a generic `NAME = value` assignment: random-looking, and
/// not a path, a URL, a version, a dotted or snake-case identifier, a
/// number, a hash of a well-known length in hex, or a template.
pub(crate) fn generic_value(s: &[u8]) -> bool {
    if !(12..=150).contains(&s.len()) || !random_looking(s) {
        return false;
    }
    let lower = s.to_ascii_lowercase();
    let starts = |p: &[u8]| lower.starts_with(p);
    if starts(b"0x") || starts(b"/") || starts(b"./") || starts(b"../") || starts(b"~/") {
        return false;
    }
    if identifier_like(s) || has_extension(s) {
        return false;
    }
    // A long token of its own, or a shorter one mixing cases and digits.
    let classes = [
        s.iter().any(u8::is_ascii_uppercase),
        s.iter().any(u8::is_ascii_lowercase),
        s.iter().any(u8::is_ascii_digit),
    ]
    .iter()
    .filter(|&&c| c)
    .count();
    classes >= 3 || (s.len() >= 20 && entropy(s) >= 3.8)
}

/// A file name: ends in `.` and 1 to 4 lower-case letters (`key_1.pem`).
fn has_extension(s: &[u8]) -> bool {
    s.iter().rposition(|&b| b == b'.').is_some_and(|dot| {
        let ext = &s[dot + 1..];
        (1..=4).contains(&ext.len()) && ext.iter().all(u8::is_ascii_lowercase)
    })
}

/// An identifier or a path (`MSV1_0_CREDENTIAL_KEY_TYPE`,
/// `x25519_generate_private_key`, `pkcs-9-at-pkcs15Token`,
/// `keys/test_1.pem`): its letters and digits come in long runs of one
/// kind (lower, upper, `Capitalised`, digits), 3 characters or more on
/// average, where a random value changes kind every one or two.
fn identifier_like(s: &[u8]) -> bool {
    #[derive(PartialEq, Clone, Copy)]
    enum Kind {
        Lower,
        Upper,
        Digit,
        Other,
    }
    let kind = |b: u8| match b {
        b'a'..=b'z' => Kind::Lower,
        b'A'..=b'Z' => Kind::Upper,
        b'0'..=b'9' => Kind::Digit,
        _ => Kind::Other,
    };
    let (mut runs, mut alnum, mut prev) = (0usize, 0usize, Kind::Other);
    for (i, &b) in s.iter().enumerate() {
        let k = kind(b);
        if k == Kind::Other {
            prev = k;
            continue;
        }
        alnum += 1;
        // `Token`: an upper-case letter starting a lower-case word is one run.
        let capital =
            k == Kind::Lower && prev == Kind::Upper && (i < 2 || kind(s[i - 2]) != Kind::Upper);
        if k != prev && !capital {
            runs += 1;
        }
        prev = k;
    }
    runs > 0 && alnum >= 3 * runs
}

/// Whether a block has one of the bytes every assignment contains (`:`,
/// `=` or `,`): the generic rule cannot match a block without one.
pub(crate) fn has_assignment(block: &[u8]) -> bool {
    memchr::memchr3(b':', b'=', b',', block).is_some()
}

/// Whether a block has one of the bytes a `NAME_KEY=hex` assignment
/// contains: `_`, and `:` or `=`.
pub(crate) fn has_named_assignment(block: &[u8]) -> bool {
    memchr::memchr(b'_', block).is_some() && memchr::memchr2(b':', b'=', block).is_some()
}

/// Whether a block has a URL's `://`.
pub(crate) fn has_url(block: &[u8]) -> bool {
    memchr::memmem::find(block, b"://").is_some()
}

/// A byte of the legacy Azure DevOps token's alphabet (`a-z2-7`).
fn azure_legacy_byte(b: u8) -> bool {
    b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)
}

/// Whether a block has a run of 52 bytes of `a-z2-7`, which every legacy
/// Azure DevOps token is.
pub(crate) fn has_azure_legacy_run(block: &[u8]) -> bool {
    has_run(block, 52, azure_legacy_byte)
}

/// Whether `block` has `n` consecutive bytes of `class`. Looks at the last
/// byte of each window of `n` first and skips a whole window when it is
/// outside the class, so random text costs a few reads per `n` bytes, and
/// no byte is read more than twice.
pub(crate) fn has_run(block: &[u8], n: usize, class: impl Fn(u8) -> bool) -> bool {
    if n == 0 {
        return true;
    }
    // Invariant: no run of `n` ends before `end`.
    let mut end = n - 1;
    while end < block.len() {
        if !class(block[end]) {
            end += n;
            continue;
        }
        // Where the run through `end` starts (looking back no further than
        // the window), then whether it reaches `n` going forward.
        let lo = end + 1 - n;
        let mut start = end;
        while start > lo && class(block[start - 1]) {
            start -= 1;
        }
        let want = start + n - 1;
        match (end + 1..=want.min(block.len() - 1)).find(|&i| !class(block[i])) {
            Some(bad) => end = bad + n,
            None if want < block.len() => return true,
            None => return false,
        }
    }
    false
}

/// A byte of base64 (`A-Za-z0-9/+`, no padding).
fn base64_byte(b: u8) -> bool {
    let folded = b | 0x20;
    folded.is_ascii_lowercase() || b.is_ascii_digit() || b == b'/' || b == b'+'
}

/// Whether the AWS secret rule (40 base64 bytes with an edge on either
/// side) can match in a block: only when a byte outside base64 bounds a
/// run, or the block is itself the 40 bytes. A block of one base64 blob
/// cannot hold a match. Branch-free over 64-byte chunks, so it vectorises.
pub(crate) fn has_aws_secret_edge(block: &[u8]) -> bool {
    if block.len() == 40 {
        return true;
    }
    let chunks = block.chunks_exact(64);
    let rest = chunks.remainder();
    chunks
        .into_iter()
        .any(|c| c.iter().fold(false, |acc, &b| acc | !base64_byte(b)))
        || rest.iter().any(|&b| !base64_byte(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc32_and_base62_are_the_usual_ones() {
        // The check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(base62(61, 2), b"0z");
        assert_eq!(base62(62, 3), b"010");
    }

    #[test]
    fn github_checksums() {
        let t = github_sample("", "Zq8mLk2PwX9sVb4nRt7yHc3JdF6gAe");
        assert!(github_checksum_ok(t.as_bytes()));
        let mut bad = t.clone().into_bytes();
        bad[0] = if bad[0] == b'A' { b'B' } else { b'A' };
        assert!(!github_checksum_ok(&bad));
        // A plain body with a valid checksum is still a token.
        let plain = github_sample("", "abcdefghij");
        assert!(github_token(plain.as_bytes()));
        // Without the checksum, a plain one is not.
        assert!(!github_token(b"abcdefghijabcdefghijabcdefghijabcdef"));
    }

    #[test]
    fn entropy_and_generic_values() {
        assert!(entropy(b"aaaa") < 0.01);
        assert!(entropy(b"Zq8mLk2PwX9sVb4nRt7y") > 4.0);
        assert!(generic_value(b"Zq8mLk2PwX9sVb4nRt7y"));
        assert!(generic_value(b"9f2c7a1e4b8d3f60a5c2"));
        for v in [
            "hello_world_foo",
            "crate.module.Item2",
            "src/keys/test_1.pem",
            "0x1234567890abcdef",
            "/usr/share/keyrings/x1.gpg",
            "1234567890123456",
            "your_api_key_here1",
            "abcdefabcdefabcdef",
            "MSV1_0_CREDENTIAL_KEY_TYPE",
            "x25519_generate_private_key",
            "pkcs-9-at-pkcs15Token",
            "MI_UserCredentials_0",
            "tests/keys/rsa_2048.pem",
        ] {
            assert!(!generic_value(v.as_bytes()), "{v}");
        }
    }

    #[test]
    fn secret_names_in_every_case_style() {
        for n in [
            "apiToken",
            "API_TOKEN",
            "api-token",
            "api.token",
            "client_secret",
            "DB_PASSWORD",
            "githubPat",
            "authToken",
            "secret_key_base",
            "AWS_SECRET_ACCESS_KEY",
            "accesstoken",
            "x.credentials",
        ] {
            assert!(secret_name(n.as_bytes()), "{n}");
        }
        for n in [
            "key_path",
            "tokenType",
            "password_file",
            "api_key_id",
            "path",
            "pattern",
            "monkey",
            "tokenizer",
            "auth_url",
            "secretary",
        ] {
            assert!(!secret_name(n.as_bytes()), "{n}");
        }
    }

    #[test]
    fn placeholder_words() {
        for w in ["foo", "bar", "BAZ", "changeme", "xxx", "PASSWORD", "aaaa"] {
            assert!(is_placeholder_word(w.as_bytes()), "{w}");
        }
        assert!(!is_placeholder_word(b"s3cr3tPw9x"));
    }

    #[test]
    fn block_prechecks() {
        let blob = "aB3+/9xZ".repeat(1000);
        assert!(!has_aws_secret_edge(blob.as_bytes()));
        assert!(has_aws_secret_edge(format!("{blob}=").as_bytes()));
        assert!(has_aws_secret_edge(
            format!("{}\n{blob}", &blob[..7]).as_bytes()
        ));
        assert!(has_aws_secret_edge(format!("{}@", &blob[..70]).as_bytes()));
        assert!(has_aws_secret_edge(&blob.as_bytes()[..40]));
        assert!(!has_aws_secret_edge(&blob.as_bytes()[..41]));
        assert!(!has_assignment(blob.as_bytes()));
        assert!(has_assignment(b"a=b") && has_assignment(b"a: b") && has_assignment(b"(a, b)"));
        assert!(!has_named_assignment(blob.as_bytes()));
        assert!(!has_named_assignment(b"A_KEY is set") && !has_named_assignment(b"KEY=1"));
        assert!(has_named_assignment(b"A_KEY=1") && has_named_assignment(b"a_key: 1"));
        assert!(!has_url(blob.as_bytes()) && has_url(b"redis://h"));
    }

    /// The longest run of `class` bytes, the plain way.
    fn longest_run(block: &[u8], class: impl Fn(u8) -> bool) -> usize {
        let (mut best, mut cur) = (0, 0);
        for &b in block {
            cur = if class(b) { cur + 1 } else { 0 };
            best = best.max(cur);
        }
        best
    }

    #[test]
    fn runs_are_found_as_a_plain_count_finds_them() {
        // Text from a fixed seed over an alphabet half in the class, with
        // long runs planted: every length around `n`, at every offset.
        let mut x = 7u64;
        let mut next = move || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        let alphabet = b"abcdefghijklmnopqrstuvwxyz234567ABCDEFGHIJKLMNOPQRSTUVWXYZ01890+/";
        for round in 0..3000 {
            let len = next() % 300;
            let mut block: Vec<u8> = (0..len).map(|_| alphabet[next() % 64]).collect();
            if round % 2 == 0 && len > 0 {
                let run = next() % 70;
                let at = next() % len;
                for b in block.iter_mut().skip(at).take(run) {
                    *b = b'a' + (next() % 26) as u8;
                }
            }
            for n in [0, 1, 2, 5, 52] {
                assert_eq!(
                    has_run(&block, n, azure_legacy_byte),
                    longest_run(&block, azure_legacy_byte) >= n,
                    "n={n} {:?}",
                    String::from_utf8_lossy(&block)
                );
            }
        }
        let token = "q7zk4mdkfhwu5rnp2c3xvt6yblj4ahs7ewq3oiz2ukrdme5ntpfa"; // xtask:allow
        assert!(has_azure_legacy_run(format!("VSCE_PAT={token}").as_bytes()));
        assert!(!has_azure_legacy_run(&token.as_bytes()[1..]));
    }
}
