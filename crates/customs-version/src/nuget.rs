//! NuGet versions: up to four numeric parts (missing ones are zero),
//! SemVer 2.0 pre-release labels compared case-insensitively, build
//! metadata ignored.

use std::cmp::Ordering;

use crate::{ParseVersionError, VersionScheme};

/// The NuGet scheme.
pub struct Nuget;

/// A parsed NuGet version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NugetVersion {
    numbers: [u64; 4],
    pre: Vec<String>,
}

impl VersionScheme for Nuget {
    type Version = NugetVersion;

    fn parse(version: &str) -> Result<NugetVersion, ParseVersionError> {
        let err = || ParseVersionError::new("NuGet", version);
        let v = version.trim();
        let v = v.split('+').next().unwrap_or(v);
        let (core, pre) = match v.split_once('-') {
            Some((c, p)) => (c, Some(p)),
            None => (v, None),
        };
        let parts: Vec<&str> = core.split('.').collect();
        if parts.is_empty() || parts.len() > 4 {
            return Err(err());
        }
        let mut numbers = [0u64; 4];
        for (slot, part) in numbers.iter_mut().zip(&parts) {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err());
            }
            *slot = part.parse().map_err(|_| err())?;
        }
        let pre = match pre {
            Some(p)
                if p.is_empty()
                    || p.split('.').any(|l| {
                        l.is_empty() || !l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                    }) =>
            {
                return Err(err());
            }
            Some(p) => p.split('.').map(str::to_ascii_lowercase).collect(),
            None => Vec::new(),
        };
        Ok(NugetVersion { numbers, pre })
    }
}

fn label_cmp(a: &str, b: &str) -> Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        (Ok(_), Err(_)) => Ordering::Less,
        (Err(_), Ok(_)) => Ordering::Greater,
        (Err(_), Err(_)) => a.cmp(b),
    }
}

impl Ord for NugetVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.numbers.cmp(&other.numbers).then_with(|| {
            match (self.pre.is_empty(), other.pre.is_empty()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) => {
                    for (a, b) in self.pre.iter().zip(&other.pre) {
                        let order = label_cmp(a, b);
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    self.pre.len().cmp(&other.pre.len())
                }
            }
        })
    }
}

impl PartialOrd for NugetVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
