//! apk-tools' version ordering (`apk version -t`): numbers, a letter,
//! `_suffix[N]` pre-release (`alpha`, `beta`, `pre`, `rc`) and post-release
//! (`cvs`, `svn`, `git`, `hg`, `p`) parts, `~hash`, and `-rN` revisions.
//! Where tokens of different kinds meet, a pre-release suffix sorts first;
//! otherwise the version whose next token is "later" in the grammar
//! (digit < letter < suffix < revision < end) sorts first, so `1.0 < 1.0.1`,
//! `1.0 < 1.0a`, `1.0_rc1 < 1.0 < 1.0_p1` and `1.0 < 1.0-r1`.

use std::cmp::Ordering;

use crate::{ParseVersionError, VersionScheme};

/// The apk scheme.
pub struct Apk;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// A numeric component; `text` is kept to compare leading-zero parts as fractions.
    Digit {
        value: u128,
        text: String,
        first: bool,
    },
    Letter(u8),
    Suffix(i8),
    SuffixNumber(u128),
    Hash(String),
    Revision(u128),
    End,
}

impl Token {
    fn rank(&self) -> u8 {
        match self {
            Self::Digit { .. } => 1,
            Self::Letter(_) => 2,
            Self::Suffix(_) => 3,
            Self::SuffixNumber(_) => 4,
            Self::Hash(_) => 5,
            Self::Revision(_) => 6,
            Self::End => 7,
        }
    }

    fn is_pre_release(&self) -> bool {
        matches!(self, Self::Suffix(r) if *r < 0)
    }
}

/// A parsed apk version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApkVersion(Vec<Token>);

const SUFFIXES: [(&str, i8); 9] = [
    ("alpha", -4),
    ("beta", -3),
    ("pre", -2),
    ("rc", -1),
    ("cvs", 1),
    ("svn", 2),
    ("git", 3),
    ("hg", 4),
    ("p", 5),
];

fn number(bytes: &[u8], at: &mut usize) -> Option<(u128, String)> {
    let start = *at;
    while *at < bytes.len() && bytes[*at].is_ascii_digit() {
        *at += 1;
    }
    if *at == start || *at - start > 30 {
        return None;
    }
    let text = std::str::from_utf8(&bytes[start..*at]).ok()?.to_owned();
    Some((text.parse().ok()?, text))
}

impl VersionScheme for Apk {
    type Version = ApkVersion;

    fn parse(version: &str) -> Result<ApkVersion, ParseVersionError> {
        let err = || ParseVersionError::new("apk", version);
        let bytes = version.trim().as_bytes();
        let mut at = 0;
        let mut tokens = Vec::new();
        let (value, text) = number(bytes, &mut at).ok_or_else(err)?;
        tokens.push(Token::Digit {
            value,
            text,
            first: true,
        });
        while at < bytes.len() {
            match bytes[at] {
                b'.' => {
                    at += 1;
                    let (value, text) = number(bytes, &mut at).ok_or_else(err)?;
                    tokens.push(Token::Digit {
                        value,
                        text,
                        first: false,
                    });
                }
                c @ b'a'..=b'z' if matches!(tokens.last(), Some(Token::Digit { .. })) => {
                    at += 1;
                    tokens.push(Token::Letter(c));
                }
                // apk-tools' next_token: a digit after a letter starts a new
                // number (`1.9.5p2`, as sudo and opensmtpd are versioned).
                b'0'..=b'9' if matches!(tokens.last(), Some(Token::Letter(_))) => {
                    let (value, text) = number(bytes, &mut at).ok_or_else(err)?;
                    tokens.push(Token::Digit {
                        value,
                        text,
                        first: false,
                    });
                }
                b'_' => {
                    at += 1;
                    let (name, rank) = SUFFIXES
                        .iter()
                        .find(|(name, _)| bytes[at..].starts_with(name.as_bytes()))
                        .ok_or_else(err)?;
                    at += name.len();
                    tokens.push(Token::Suffix(*rank));
                    if at < bytes.len() && bytes[at].is_ascii_digit() {
                        let (n, _) = number(bytes, &mut at).ok_or_else(err)?;
                        tokens.push(Token::SuffixNumber(n));
                    }
                }
                b'~' => {
                    at += 1;
                    let start = at;
                    while at < bytes.len() && bytes[at].is_ascii_hexdigit() {
                        at += 1;
                    }
                    if at == start {
                        return Err(err());
                    }
                    tokens.push(Token::Hash(
                        String::from_utf8_lossy(&bytes[start..at]).into_owned(),
                    ));
                }
                b'-' if bytes.get(at + 1) == Some(&b'r') => {
                    at += 2;
                    let (n, _) = number(bytes, &mut at).ok_or_else(err)?;
                    tokens.push(Token::Revision(n));
                    if at != bytes.len() {
                        return Err(err());
                    }
                }
                _ => return Err(err()),
            }
        }
        tokens.push(Token::End);
        Ok(ApkVersion(tokens))
    }
}

fn compare_same(a: &Token, b: &Token) -> Ordering {
    match (a, b) {
        (
            Token::Digit {
                value: av,
                text: at,
                first: af,
            },
            Token::Digit {
                value: bv,
                text: bt,
                first: bf,
            },
        ) => {
            // Leading zeros after the first component compare as fractions.
            if !af && !bf && (at.starts_with('0') || bt.starts_with('0')) {
                at.cmp(bt)
            } else {
                av.cmp(bv)
            }
        }
        (Token::Letter(x), Token::Letter(y)) => x.cmp(y),
        (Token::Suffix(x), Token::Suffix(y)) => x.cmp(y),
        (Token::SuffixNumber(x), Token::SuffixNumber(y))
        | (Token::Revision(x), Token::Revision(y)) => x.cmp(y),
        (Token::Hash(x), Token::Hash(y)) => x.cmp(y),
        _ => Ordering::Equal,
    }
}

impl Ord for ApkVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        for (a, b) in self.0.iter().zip(&other.0) {
            if a.rank() == b.rank() {
                match compare_same(a, b) {
                    Ordering::Equal => continue,
                    unequal => return unequal,
                }
            }
            if a.is_pre_release() {
                return Ordering::Less;
            }
            if b.is_pre_release() {
                return Ordering::Greater;
            }
            return b.rank().cmp(&a.rank());
        }
        self.0.len().cmp(&other.0.len())
    }
}

impl PartialOrd for ApkVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
