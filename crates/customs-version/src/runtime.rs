//! Versions of upstream runtimes and servers as Bitnami's OSV data gives
//! them (`SEMVER` ranges over `node 16.2`, `erlang 25.3.2.7`, `postgresql
//! 15.1`): SemVer precedence where missing numeric parts are zero (`16.2`
//! is `16.2.0`) and any number of numeric parts is allowed; a `-` starts a
//! pre-release (lower than the release), `+` build metadata is ignored.

use std::cmp::Ordering;

use crate::{ParseVersionError, VersionScheme};

/// Runtime versions (Bitnami).
pub struct Runtime;

/// A parsed runtime version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeVersion {
    numbers: Vec<u64>,
    pre: Option<semver::Prerelease>,
}

impl Ord for RuntimeVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let len = self.numbers.len().max(other.numbers.len());
        for i in 0..len {
            let a = self.numbers.get(i).copied().unwrap_or(0);
            let b = other.numbers.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                unequal => return unequal,
            }
        }
        match (&self.pre, &other.pre) {
            (None, None) => Ordering::Equal,
            (None, Some(_)) => Ordering::Greater,
            (Some(_), None) => Ordering::Less,
            (Some(a), Some(b)) => a.cmp(b),
        }
    }
}

impl PartialOrd for RuntimeVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl VersionScheme for Runtime {
    type Version = RuntimeVersion;
    fn parse(version: &str) -> Result<Self::Version, ParseVersionError> {
        let err = || ParseVersionError::new("runtime SemVer", version);
        let text = version.trim().trim_start_matches('v');
        let text = text.split('+').next().unwrap_or(text);
        let (core, pre) = match text.split_once('-') {
            Some((_, "")) => return Err(err()),
            Some((core, pre)) => (core, Some(semver::Prerelease::new(pre).map_err(|_| err())?)),
            None => (text, None),
        };
        if core.is_empty() {
            return Err(err());
        }
        let numbers = core
            .split('.')
            .map(|part| {
                if part.is_empty() || part.len() > 18 || !part.bytes().all(|b| b.is_ascii_digit()) {
                    Err(err())
                } else {
                    part.parse::<u64>().map_err(|_| err())
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        if numbers.len() > 8 {
            return Err(err());
        }
        Ok(RuntimeVersion { numbers, pre })
    }
}
