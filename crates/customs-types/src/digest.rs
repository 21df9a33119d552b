//! Content digests as defined by the OCI image specification (`algorithm:encoded`).
//!
//! Only the registered algorithms `sha256` and `sha512` are accepted, with their
//! lowercase hex encodings of exactly 64 and 128 characters; anything else is an
//! error, because a digest that cannot be verified must never be trusted.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::Digest as _;

/// A registered digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Algorithm {
    /// SHA-256, the algorithm every registry and runtime supports.
    Sha256,
    /// SHA-512, registered by the OCI spec and seen rarely in practice.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name as written before the colon.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    fn hex_len(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

/// Why a string is not a valid digest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// There is no `algorithm:` prefix.
    #[error("digest `{0}` has no `algorithm:` prefix")]
    MissingAlgorithm(String),
    /// The algorithm is not one customs can verify.
    #[error("digest `{0}` uses an unsupported algorithm (supported: sha256, sha512)")]
    UnsupportedAlgorithm(String),
    /// The encoded part is not lowercase hex of the algorithm's length.
    #[error("digest `{0}` is not lowercase hex of the algorithm's length")]
    BadEncoding(String),
}

/// A verified-format content digest such as `sha256:e3b0…`.
///
/// The string form is stored once so that display and serialisation are free.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    text: String,
}

impl Digest {
    /// Parses `algorithm:hex`, accepting only registered algorithms and exact
    /// lowercase hex.
    ///
    /// # Errors
    /// Returns a [`DigestError`] naming the input when it is not a valid digest.
    pub fn parse(text: &str) -> Result<Self, DigestError> {
        let shown = || truncate_for_error(text);
        let (algorithm, hex) = text
            .split_once(':')
            .ok_or_else(|| DigestError::MissingAlgorithm(shown()))?;
        let algorithm = match algorithm {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => return Err(DigestError::UnsupportedAlgorithm(shown())),
        };
        if hex.len() != algorithm.hex_len()
            || !hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        {
            return Err(DigestError::BadEncoding(shown()));
        }
        Ok(Self {
            algorithm,
            text: text.to_owned(),
        })
    }

    /// The SHA-256 digest of `bytes`.
    #[must_use]
    pub fn sha256(bytes: &[u8]) -> Self {
        let mut hasher = Hasher::new(Algorithm::Sha256);
        hasher.update(bytes);
        hasher.finish()
    }

    /// The digest's algorithm.
    #[must_use]
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The hex-encoded part after the colon.
    #[must_use]
    pub fn hex(&self) -> &str {
        &self.text[self.algorithm.name().len() + 1..]
    }

    /// The full `algorithm:hex` text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The first 12 hex characters, as `docker images` shows them.
    #[must_use]
    pub fn short(&self) -> &str {
        &self.hex()[..12]
    }

    /// The SHA-256 digest whose 32 bytes are `bytes`.
    #[must_use]
    pub fn from_sha256(bytes: [u8; 32]) -> Self {
        Self {
            algorithm: Algorithm::Sha256,
            text: format!("{}:{}", Algorithm::Sha256.name(), encode_hex(&bytes)),
        }
    }

    /// The raw digest bytes (32 for sha256, 64 for sha512).
    #[must_use]
    pub fn to_bytes(&self) -> Vec<u8> {
        // The hex part was validated when the digest was made.
        decode_hex(self.hex()).unwrap_or_default()
    }

    /// Whether `bytes` hash to this digest.
    #[must_use]
    pub fn matches(&self, bytes: &[u8]) -> bool {
        let mut hasher = Hasher::new(self.algorithm);
        hasher.update(bytes);
        hasher.finish() == *self
    }
}

fn truncate_for_error(text: &str) -> String {
    const MAX: usize = 160;
    if text.len() <= MAX {
        return text.to_owned();
    }
    let mut end = MAX;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.text)
    }
}

impl FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl Serialize for Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Self::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// An incremental hasher that yields a [`Digest`].
#[derive(Clone)]
pub struct Hasher(HasherState);

#[derive(Clone)]
enum HasherState {
    Sha256(sha2::Sha256),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// A fresh hasher for `algorithm`.
    #[must_use]
    pub fn new(algorithm: Algorithm) -> Self {
        Self(match algorithm {
            Algorithm::Sha256 => HasherState::Sha256(sha2::Sha256::new()),
            Algorithm::Sha512 => HasherState::Sha512(sha2::Sha512::new()),
        })
    }

    /// Feeds `bytes`.
    pub fn update(&mut self, bytes: &[u8]) {
        match &mut self.0 {
            HasherState::Sha256(h) => h.update(bytes),
            HasherState::Sha512(h) => h.update(bytes),
        }
    }

    /// The digest of everything fed so far.
    #[must_use]
    pub fn finish(self) -> Digest {
        let (algorithm, bytes): (Algorithm, Vec<u8>) = match self.0 {
            HasherState::Sha256(h) => (Algorithm::Sha256, h.finalize().to_vec()),
            HasherState::Sha512(h) => (Algorithm::Sha512, h.finalize().to_vec()),
        };
        let text = format!("{}:{}", algorithm.name(), encode_hex(&bytes));
        Digest { algorithm, text }
    }
}

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Lowercase hex of `bytes`.
fn encode_hex(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(HEX[usize::from(byte >> 4)]));
        text.push(char::from(HEX[usize::from(byte & 0xf)]));
    }
    text
}

/// The bytes of a hex string (either case); `None` when it is not hex of
/// whole bytes.
#[must_use]
pub fn decode_hex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let nibble = |b: u8| {
        char::from(b)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    };
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const EMPTY: &str = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    #[test]
    fn hashes_the_empty_string() {
        assert_eq!(Digest::sha256(b"").as_str(), EMPTY);
        assert!(Digest::parse(EMPTY).unwrap().matches(b""));
        assert!(!Digest::parse(EMPTY).unwrap().matches(b"x"));
    }

    #[test]
    fn raw_bytes_round_trip() {
        let digest = Digest::sha256(b"");
        let bytes: [u8; 32] = digest.to_bytes().try_into().unwrap();
        assert_eq!(Digest::from_sha256(bytes), digest);
        assert_eq!(decode_hex("0aFf"), Some(vec![0x0a, 0xff]));
        assert_eq!(decode_hex("abc"), None);
        assert_eq!(decode_hex("zz"), None);
    }

    #[test]
    fn rejects_malformed_digests() {
        for bad in [
            "",
            "sha256",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85",
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855 ",
            "sha256:../../../../etc/passwd",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn error_names_the_input_and_truncates_huge_input() {
        let err = Digest::parse("sha1:abc").unwrap_err();
        assert_eq!(
            err.to_string(),
            "digest `sha1:abc` uses an unsupported algorithm (supported: sha256, sha512)"
        );
        let huge = format!("sha256:{}", "a".repeat(10_000));
        assert!(Digest::parse(&huge).unwrap_err().to_string().len() < 300);
    }

    #[test]
    fn serde_round_trip_validates() {
        let d: Digest = serde_json::from_str(&format!("\"{EMPTY}\"")).unwrap();
        assert_eq!(d.short(), "e3b0c44298fc");
        assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{EMPTY}\""));
        assert!(serde_json::from_str::<Digest>("\"sha256:nope\"").is_err());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in ".{0,200}") {
            let _ = Digest::parse(&s);
        }
    }
}
