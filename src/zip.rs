//! Reading one file out of a zip archive (a wheel), without a zip crate:
//! the end-of-central-directory record, the central directory, and the
//! entry's local header, stored or deflated (miniz_oxide). Enough for the
//! archives build tools write; zip64 and encryption are refused by name.

/// Why an entry could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ZipError {
    /// The bytes are not a zip archive, or it is cut short.
    #[error("not a zip archive, or a truncated one")]
    NotZip,
    /// A zip64 archive (over 4 GiB or 65535 entries).
    #[error("a zip64 archive, which is not read here")]
    Zip64,
    /// The entry is compressed another way than stored or deflate.
    #[error("{name} is compressed with method {method}; only stored and deflate are read")]
    Method {
        /// The entry.
        name: String,
        /// Its compression method.
        method: u16,
    },
    /// The entry's deflate stream is broken.
    #[error("{0} does not inflate")]
    Inflate(String),
    /// The entry is larger than [`MAX_ENTRY`] (a zip bomb, not metadata).
    #[error("{0} is larger than {MAX_ENTRY} bytes, which no metadata file is")]
    TooLarge(String),
}

/// The most an entry may hold: metadata (`WHEEL`, `METADATA`) is a few KiB;
/// a deflate stream that inflates past this is refused, not held in memory.
pub const MAX_ENTRY: usize = 1 << 20;

fn u16_at(b: &[u8], i: usize) -> Result<u16, ZipError> {
    let s = b.get(i..i + 2).ok_or(ZipError::NotZip)?;
    Ok(u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], i: usize) -> Result<u32, ZipError> {
    let s = b.get(i..i + 4).ok_or(ZipError::NotZip)?;
    Ok(u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

/// The names of the entries of `zip`, in the central directory's order,
/// with where each one's record starts.
fn central_directory(zip: &[u8]) -> Result<Vec<(String, usize)>, ZipError> {
    const EOCD: [u8; 4] = [0x50, 0x4b, 0x05, 0x06];
    // The record is 22 bytes plus a comment of at most 65535.
    let lowest = zip.len().saturating_sub(22 + 0xffff);
    let eocd = (lowest..zip.len().saturating_sub(21))
        .rev()
        .find(|&i| zip[i..].starts_with(&EOCD))
        .ok_or(ZipError::NotZip)?;
    let count = u16_at(zip, eocd + 10)?;
    let start = u32_at(zip, eocd + 16)?;
    if count == 0xffff || start == 0xffff_ffff {
        return Err(ZipError::Zip64);
    }
    let mut at = start as usize;
    let mut out = Vec::with_capacity(count.into());
    for _ in 0..count {
        if !zip
            .get(at..)
            .ok_or(ZipError::NotZip)?
            .starts_with(&[0x50, 0x4b, 0x01, 0x02])
        {
            return Err(ZipError::NotZip);
        }
        let n = usize::from(u16_at(zip, at + 28)?);
        let extra = usize::from(u16_at(zip, at + 30)?);
        let comment = usize::from(u16_at(zip, at + 32)?);
        let name = zip.get(at + 46..at + 46 + n).ok_or(ZipError::NotZip)?;
        out.push((String::from_utf8_lossy(name).into_owned(), at));
        at += 46 + n + extra + comment;
    }
    Ok(out)
}

/// The names of every entry of `zip`, in the central directory's order.
pub fn entry_names(zip: &[u8]) -> Result<Vec<String>, ZipError> {
    Ok(central_directory(zip)?
        .into_iter()
        .map(|(n, _)| n)
        .collect())
}

/// One entry's stored bytes, not yet inflated.
#[derive(Debug)]
pub struct RawEntry<'a> {
    /// Its name, as the archive spells it (data: never a path to write).
    pub name: String,
    /// Compression method: 0 stored, 8 deflate.
    pub method: u16,
    /// The stored (compressed) bytes.
    pub data: &'a [u8],
}

/// Every entry of `zip`, in the central directory's order, each with its
/// stored bytes or why they cannot be had; nothing is inflated here, so a
/// caller bounds what it inflates.
pub fn raw_entries(zip: &[u8]) -> Result<Vec<Result<RawEntry<'_>, ZipError>>, ZipError> {
    Ok(central_directory(zip)?
        .into_iter()
        .map(|(name, at)| raw_entry(zip, name, at))
        .collect())
}

/// The entry whose central record starts at `at`.
fn raw_entry(zip: &[u8], name: String, at: usize) -> Result<RawEntry<'_>, ZipError> {
    let method = u16_at(zip, at + 10)?;
    let size = u32_at(zip, at + 20)?;
    let local = u32_at(zip, at + 42)?;
    if size == 0xffff_ffff || local == 0xffff_ffff {
        return Err(ZipError::Zip64);
    }
    let local = local as usize;
    if !zip
        .get(local..)
        .ok_or(ZipError::NotZip)?
        .starts_with(&[0x50, 0x4b, 0x03, 0x04])
    {
        return Err(ZipError::NotZip);
    }
    let data_at =
        local + 30 + usize::from(u16_at(zip, local + 26)?) + usize::from(u16_at(zip, local + 28)?);
    let data = zip
        .get(data_at..data_at + size as usize)
        .ok_or(ZipError::NotZip)?;
    Ok(RawEntry { name, method, data })
}

/// The first entry whose name `pick` accepts: its name and content;
/// `None` when no entry matches.
pub fn find_entry(
    zip: &[u8],
    pick: impl Fn(&str) -> bool,
) -> Result<Option<(String, Vec<u8>)>, ZipError> {
    let Some((name, at)) = central_directory(zip)?.into_iter().find(|(n, _)| pick(n)) else {
        return Ok(None);
    };
    let RawEntry { name, method, data } = raw_entry(zip, name, at)?;
    let content = match method {
        0 if data.len() > MAX_ENTRY => return Err(ZipError::TooLarge(name)),
        0 => data.to_vec(),
        8 => miniz_oxide::inflate::decompress_to_vec_with_limit(data, MAX_ENTRY).map_err(|e| {
            if e.status == miniz_oxide::inflate::TINFLStatus::HasMoreOutput {
                ZipError::TooLarge(name.clone())
            } else {
                ZipError::Inflate(name.clone())
            }
        })?,
        method => return Err(ZipError::Method { name, method }),
    };
    Ok(Some((name, content)))
}

/// Writes at `path` the archive Python's zipfile makes running each of
/// `statements` in `with zipfile.ZipFile(path, 'w') as z:`, the way wheel
/// builders write them: for tests.
#[cfg(test)]
pub(crate) fn write_by_python(path: &std::path::Path, statements: &[&str]) {
    let python = crate::pypi::venv::base_python()
        .expect("python3 is needed for this test: apt-get install python3");
    let body: String = statements.iter().map(|s| format!("\t{s}\n")).collect();
    let out = std::process::Command::new(python)
        .args([
            "-c",
            &format!("import sys, zipfile\nwith zipfile.ZipFile(sys.argv[1], 'w') as z:\n{body}"),
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An archive written by Python's zipfile (a stored and a deflated
    /// entry, and a comment), the way wheel builders write them.
    fn python_zip() -> Vec<u8> {
        zip_by_python(&[
            "z.comment = b'made for a test'",
            "z.writestr('a/stored.txt', 'plain', compress_type=zipfile.ZIP_STORED)",
            "z.writestr('a-1.0.dist-info/WHEEL', 'Tag: py3-none-any\\n' * 50, compress_type=zipfile.ZIP_DEFLATED)",
        ])
    }

    fn zip_by_python(statements: &[&str]) -> Vec<u8> {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("t.zip");
        write_by_python(&path, statements);
        std::fs::read(path).unwrap()
    }

    #[test]
    fn reads_stored_and_deflated_entries() {
        let zip = python_zip();
        let (name, body) = find_entry(&zip, |n| n.ends_with(".dist-info/WHEEL"))
            .unwrap()
            .unwrap();
        assert_eq!(name, "a-1.0.dist-info/WHEEL");
        assert_eq!(body, "Tag: py3-none-any\n".repeat(50).as_bytes());
        let (_, body) = find_entry(&zip, |n| n == "a/stored.txt").unwrap().unwrap();
        assert_eq!(body, b"plain");
        assert_eq!(find_entry(&zip, |n| n == "nope").unwrap(), None);
    }

    #[test]
    fn a_zip_bomb_is_not_inflated() {
        // 64 MiB of zeros deflate to some 64 KiB.
        let zip = zip_by_python(&[
            "z.writestr('a-1.0.dist-info/WHEEL', bytes(64 << 20), compress_type=zipfile.ZIP_DEFLATED)",
        ]);
        assert!(zip.len() < MAX_ENTRY);
        assert_eq!(
            find_entry(&zip, |_| true),
            Err(ZipError::TooLarge("a-1.0.dist-info/WHEEL".into()))
        );
        // Just at the limit is still read.
        let zip = zip_by_python(&[&format!(
            "z.writestr('x', bytes({MAX_ENTRY}), compress_type=zipfile.ZIP_DEFLATED)"
        )]);
        assert_eq!(
            find_entry(&zip, |_| true).unwrap().unwrap().1.len(),
            MAX_ENTRY
        );
    }

    #[test]
    fn broken_archives_are_errors() {
        assert_eq!(find_entry(b"not a zip", |_| true), Err(ZipError::NotZip));
        let zip = python_zip();
        let cut = &zip[zip.len() / 2..];
        assert_eq!(find_entry(cut, |_| true), Err(ZipError::NotZip));
    }
}
