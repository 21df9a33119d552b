//! Reading blobs so that no unverified byte is ever trusted.
//!
//! [`VerifiedReader`] hashes and counts while it reads and fails the read that
//! reaches the end (or passes the declared size) when the blob is not exactly
//! what its descriptor promised. Consumers must read to the end — the layer
//! walker drains every blob — so a mismatch always surfaces as an error.

use std::io::{self, Read};

use customs_types::{Digest, Hasher};

use crate::error::{IntegrityError, SourceError};

/// A reader that verifies size and digest of the stream it wraps.
pub struct VerifiedReader<R> {
    inner: R,
    what: String,
    expected_digest: Digest,
    expected_size: u64,
    hasher: Option<Hasher>,
    read: u64,
}

impl<R: Read> VerifiedReader<R> {
    /// Wraps `inner`, which must yield exactly `size` bytes hashing to `digest`.
    /// `what` names the blob in errors.
    pub fn new(inner: R, digest: &Digest, size: u64, what: impl Into<String>) -> Self {
        Self {
            inner,
            what: what.into(),
            hasher: Some(Hasher::new(digest.algorithm())),
            expected_digest: digest.clone(),
            expected_size: size,
            read: 0,
        }
    }

    /// Bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.read
    }

    /// Reads whatever is left so that the digest is checked.
    ///
    /// # Errors
    /// The integrity error, or the I/O error of the underlying reader.
    pub fn drain(&mut self) -> io::Result<()> {
        let mut buf = vec![0; 64 * 1024];
        while self.read(&mut buf)? > 0 {}
        Ok(())
    }

    fn fail(&self, error: IntegrityError) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, error)
    }
}

impl<R: Read> Read for VerifiedReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.hasher.is_none() {
            return Ok(0); // verified already
        }
        // Ask for one byte more than declared so an over-long blob is caught.
        let remaining = self
            .expected_size
            .saturating_sub(self.read)
            .saturating_add(1);
        let want = buf
            .len()
            .min(usize::try_from(remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.read += n as u64;
        if self.read > self.expected_size {
            return Err(self.fail(IntegrityError::TooLong {
                what: self.what.clone(),
                expected: self.expected_size,
            }));
        }
        if let Some(h) = &mut self.hasher {
            h.update(&buf[..n]);
        }
        if n == 0 {
            if self.read != self.expected_size {
                return Err(self.fail(IntegrityError::SizeMismatch {
                    what: self.what.clone(),
                    expected: self.expected_size,
                    actual: self.read,
                }));
            }
            let actual = self.hasher.take().map(Hasher::finish);
            if let Some(actual) = actual
                && actual != self.expected_digest
            {
                return Err(self.fail(IntegrityError::DigestMismatch {
                    what: self.what.clone(),
                    expected: self.expected_digest.clone(),
                    actual,
                }));
            }
        }
        Ok(n)
    }
}

/// Reads a whole small blob (manifest, config) and verifies it, refusing
/// anything over `limit` bytes before reading it.
///
/// # Errors
/// [`SourceError::TooLarge`], an integrity error, or the read error.
pub fn read_verified(
    reader: impl Read,
    digest: &Digest,
    size: u64,
    limit: u64,
    what: &str,
) -> Result<Vec<u8>, SourceError> {
    if size > limit {
        return Err(SourceError::too_large(what, limit));
    }
    let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    VerifiedReader::new(reader, digest, size, what)
        .read_to_end(&mut out)
        .map_err(|e| SourceError::read(what, e))?;
    Ok(out)
}

/// Verifies bytes already in memory.
///
/// # Errors
/// The integrity error when size or digest differ.
pub fn verify_bytes(
    bytes: &[u8],
    digest: &Digest,
    size: Option<u64>,
    what: &str,
) -> Result<(), IntegrityError> {
    if let Some(size) = size
        && bytes.len() as u64 != size
    {
        return Err(IntegrityError::SizeMismatch {
            what: what.to_owned(),
            expected: size,
            actual: bytes.len() as u64,
        });
    }
    let mut hasher = Hasher::new(digest.algorithm());
    hasher.update(bytes);
    let actual = hasher.finish();
    if &actual != digest {
        return Err(IntegrityError::DigestMismatch {
            what: what.to_owned(),
            expected: digest.clone(),
            actual,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(bytes: &[u8]) -> Digest {
        Digest::sha256(bytes)
    }

    #[test]
    fn passes_exact_content() {
        let data = b"hello world";
        let out = read_verified(&data[..], &digest(data), 11, 100, "blob").unwrap();
        assert_eq!(out, data);
    }

    #[test]
    fn fails_on_wrong_digest_short_and_long_content() {
        let data = b"hello world";
        let e = read_verified(&data[..], &digest(b"other"), 11, 100, "blob x").unwrap_err();
        assert!(e.to_string().starts_with("blob x: digest mismatch"), "{e}");
        let e = read_verified(&data[..5], &digest(data), 11, 100, "blob x").unwrap_err();
        assert!(
            e.to_string()
                .contains("size mismatch (expected 11 bytes, got 5)"),
            "{e}"
        );
        // Issue 14: not "got 6" (the declared size + 1, where reading stopped).
        let e = read_verified(&data[..], &digest(data), 5, 100, "blob x").unwrap_err();
        assert!(
            e.to_string()
                .contains("size mismatch (expected 5 bytes, got more)"),
            "{e}"
        );
        let e = read_verified(&data[..], &digest(data), 11, 10, "blob x").unwrap_err();
        assert!(e.to_string().contains("larger than the limit"), "{e}");
    }
}
