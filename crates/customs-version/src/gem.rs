//! RubyGems' `Gem::Version` ordering: segments split on `.` and at
//! digit/letter boundaries; numbers compare numerically, strings lexically,
//! a number sorts after a string (`1.0.a < 1.0`), and missing segments are
//! zeros (`1.0 == 1.0.0`).

use std::cmp::Ordering;

use crate::{ParseVersionError, VersionScheme};

/// The RubyGems scheme.
pub struct Gem;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Number(u128),
    Text(String),
}

/// A parsed gem version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GemVersion(Vec<Segment>);

impl VersionScheme for Gem {
    type Version = GemVersion;

    fn parse(version: &str) -> Result<GemVersion, ParseVersionError> {
        let v = version.trim();
        let err = || ParseVersionError::new("RubyGems", version);
        if v.is_empty()
            || v.len() > 256
            || !v.starts_with(|c: char| c.is_ascii_digit())
            || !v
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
        {
            return Err(err());
        }
        // `1.0-rc1` is `1.0.pre.rc1` to RubyGems.
        let v = v.replace('-', ".pre.");
        let mut segments = Vec::new();
        for part in v.split('.') {
            if part.is_empty() {
                return Err(err());
            }
            let mut rest = part;
            while !rest.is_empty() {
                let digits = rest.chars().next().is_some_and(|c| c.is_ascii_digit());
                let end = rest
                    .find(|c: char| c.is_ascii_digit() != digits)
                    .unwrap_or(rest.len());
                let piece = &rest[..end];
                segments.push(if digits {
                    Segment::Number(piece.parse().map_err(|_| err())?)
                } else {
                    Segment::Text(piece.to_owned())
                });
                rest = &rest[end..];
            }
        }
        Ok(GemVersion(segments))
    }
}

impl Ord for GemVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let zero = Segment::Number(0);
        for i in 0..self.0.len().max(other.0.len()) {
            let (a, b) = (
                self.0.get(i).unwrap_or(&zero),
                other.0.get(i).unwrap_or(&zero),
            );
            let order = match (a, b) {
                (Segment::Number(x), Segment::Number(y)) => x.cmp(y),
                (Segment::Text(x), Segment::Text(y)) => x.cmp(y),
                (Segment::Number(_), Segment::Text(_)) => Ordering::Greater,
                (Segment::Text(_), Segment::Number(_)) => Ordering::Less,
            };
            if order != Ordering::Equal {
                return order;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for GemVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
