//! Go module versions: SemVer with a `v` prefix (optional here, since OSV
//! records omit it), `+incompatible` (build metadata, ignored for order),
//! pseudo-versions (ordered by their pre-release parts), and Go's shorthand
//! `v1` / `v1.2` meaning `v1.0.0` / `v1.2.0`.

use crate::{ParseVersionError, SemverVersion, VersionScheme};

/// The Go modules scheme.
pub struct Go;

impl VersionScheme for Go {
    type Version = SemverVersion;

    fn parse(version: &str) -> Result<SemverVersion, ParseVersionError> {
        let v = version.trim();
        let bare = v.strip_prefix('v').unwrap_or(v);
        let (core, rest) = match bare.find(['-', '+']) {
            Some(i) => bare.split_at(i),
            None => (bare, ""),
        };
        let padded = match core.split('.').count() {
            1 => format!("{core}.0.0{rest}"),
            2 => format!("{core}.0{rest}"),
            _ => bare.to_owned(),
        };
        semver::Version::parse(&padded)
            .map(SemverVersion)
            .map_err(|_| ParseVersionError::new("Go", version))
    }
}
