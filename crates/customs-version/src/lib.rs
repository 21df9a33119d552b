//! Version orderings, one module per scheme behind one [`VersionScheme`]
//! trait, and the closed [`Scheme`] enum that picks one per ecosystem.
//!
//! Advisory matching compares an installed version with the bounds of an
//! affected range, so each ordering must be exactly the ecosystem's own:
//! dpkg's (Debian Policy §5.6.12), apk-tools', rpm's `rpmvercmp`, SemVer 2.0
//! precedence (npm, crates.io), Go modules', PEP 440 (PyPI), Maven's
//! `ComparableVersion`, RubyGems' `Gem::Version`, NuGet's and Composer's
//! (PHP's `version_compare`).

mod apk;
mod composer;
mod gem;
mod go;
mod maven;
mod nuget;
mod runtime;

use std::cmp::Ordering;
use std::fmt;

/// Why a version string is not a version of its scheme.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{version}` is not a valid {scheme} version")]
pub struct ParseVersionError {
    version: String,
    scheme: &'static str,
}

impl ParseVersionError {
    pub(crate) fn new(scheme: &'static str, version: &str) -> Self {
        Self {
            version: version.chars().take(100).collect(),
            scheme,
        }
    }
}

/// A version scheme: parse into a totally ordered value.
pub trait VersionScheme {
    /// The parsed version.
    type Version: Ord + fmt::Debug;
    /// Parses a version string.
    ///
    /// # Errors
    /// [`ParseVersionError`] when the string is not a version of this scheme.
    fn parse(version: &str) -> Result<Self::Version, ParseVersionError>;
}

/// Every scheme customs knows. The match in [`Scheme::compare`] is the
/// checklist: a new scheme is one module and one arm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Scheme {
    /// Debian and Ubuntu packages.
    Dpkg,
    /// Alpine packages.
    Apk,
    /// RPM packages (epoch:version-release).
    Rpm,
    /// SemVer 2.0 precedence (npm, crates.io, Packagist, Hex …).
    Semver,
    /// Go modules (`v` prefix, `+incompatible`, pseudo-versions).
    Go,
    /// PEP 440 (PyPI).
    Pep440,
    /// Maven's `ComparableVersion`.
    Maven,
    /// RubyGems' `Gem::Version`.
    Gem,
    /// NuGet (SemVer with four numeric parts, case-insensitive labels).
    Nuget,
    /// Composer (Packagist): PHP's `version_compare`.
    Composer,
    /// Upstream runtimes and servers (Bitnami's `SEMVER` ranges): SemVer
    /// precedence with missing numeric parts taken as zero.
    Runtime,
}

/// dpkg versions (`[epoch:]upstream[-revision]`, `~` sorting first).
pub struct Dpkg;

impl VersionScheme for Dpkg {
    type Version = debversion::Version;
    fn parse(version: &str) -> Result<Self::Version, ParseVersionError> {
        let v = version.trim();
        let err = || ParseVersionError::new("dpkg", version);
        // Policy 5.6.12: an epoch is an unsigned integer.
        let rest = match v.split_once(':') {
            Some((epoch, rest)) => {
                if epoch.is_empty() || !epoch.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err());
                }
                rest
            }
            None => v,
        };
        // dpkg's parseversion: an empty revision (`1.0-`) is no revision,
        // and the upstream version may not be empty (`-1`, `1:-1`).
        let trimmed = v.strip_suffix('-').unwrap_or(v);
        let upstream = rest.strip_suffix('-').unwrap_or(rest);
        let upstream = upstream.rsplit_once('-').map_or(upstream, |(u, _)| u);
        if upstream.is_empty() {
            return Err(err());
        }
        trimmed.parse().map_err(|_| err())
    }
}

/// RPM `[epoch:]version[-release]`, compared segment by segment as `rpmvercmp`.
pub struct Rpm;

/// A parsed RPM version (kept as text; `rpmvercmp` compares the text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpmVersion(String);

impl Ord for RpmVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        rpm_version::rpm_evr_compare(&self.0, &other.0)
    }
}

impl PartialOrd for RpmVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl VersionScheme for Rpm {
    type Version = RpmVersion;
    fn parse(version: &str) -> Result<Self::Version, ParseVersionError> {
        let v = version.trim();
        let valid = !v.is_empty()
            && v.len() <= 256
            && v.split_once(':').is_none_or(|(e, rest)| {
                !e.is_empty() && e.bytes().all(|b| b.is_ascii_digit()) && !rest.is_empty()
            })
            && v.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+~^-:".contains(&b));
        if valid {
            Ok(RpmVersion(v.to_owned()))
        } else {
            Err(ParseVersionError::new("rpm", version))
        }
    }
}

/// SemVer 2.0, compared by precedence (build metadata ignored). A leading
/// `v` or `=` is accepted, as npm does.
pub struct Semver;

/// A SemVer version ordered by precedence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemverVersion(semver::Version);

impl Ord for SemverVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.cmp_precedence(&other.0)
    }
}

impl PartialOrd for SemverVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl VersionScheme for Semver {
    type Version = SemverVersion;
    fn parse(version: &str) -> Result<Self::Version, ParseVersionError> {
        let v = version
            .trim()
            .trim_start_matches('=')
            .trim_start_matches('v');
        semver::Version::parse(v)
            .map(SemverVersion)
            .map_err(|_| ParseVersionError::new("semver", version))
    }
}

/// PEP 440 versions.
pub struct Pep440;

impl VersionScheme for Pep440 {
    type Version = pep440_rs::Version;
    fn parse(version: &str) -> Result<Self::Version, ParseVersionError> {
        version
            .trim()
            .parse()
            .map_err(|_| ParseVersionError::new("PEP 440", version))
    }
}

pub use apk::Apk;
pub use composer::Composer;
pub use gem::Gem;
pub use go::Go;
pub use maven::Maven;
pub use nuget::Nuget;
pub use runtime::Runtime;

/// A version parsed by one [`Scheme`], to compare many times without
/// parsing again. Versions of the same scheme compare as that scheme orders
/// them; comparing versions of different schemes orders by scheme (a
/// caller never needs that).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum AnyVersion {
    /// dpkg.
    Dpkg(<Dpkg as VersionScheme>::Version),
    /// apk.
    Apk(<Apk as VersionScheme>::Version),
    /// rpm.
    Rpm(<Rpm as VersionScheme>::Version),
    /// SemVer.
    Semver(<Semver as VersionScheme>::Version),
    /// Go.
    Go(<Go as VersionScheme>::Version),
    /// PEP 440.
    Pep440(<Pep440 as VersionScheme>::Version),
    /// Maven.
    Maven(<Maven as VersionScheme>::Version),
    /// RubyGems.
    Gem(<Gem as VersionScheme>::Version),
    /// NuGet.
    Nuget(<Nuget as VersionScheme>::Version),
    /// Composer.
    Composer(<Composer as VersionScheme>::Version),
    /// Runtime.
    Runtime(<Runtime as VersionScheme>::Version),
}

impl Scheme {
    /// Every scheme.
    pub const ALL: [Self; 11] = [
        Self::Dpkg,
        Self::Apk,
        Self::Rpm,
        Self::Semver,
        Self::Go,
        Self::Pep440,
        Self::Maven,
        Self::Gem,
        Self::Nuget,
        Self::Composer,
        Self::Runtime,
    ];

    /// Parses a version of this scheme.
    ///
    /// # Errors
    /// When it is not a version of this scheme.
    pub fn parse(self, version: &str) -> Result<AnyVersion, ParseVersionError> {
        Ok(match self {
            Self::Dpkg => AnyVersion::Dpkg(Dpkg::parse(version)?),
            Self::Apk => AnyVersion::Apk(Apk::parse(version)?),
            Self::Rpm => AnyVersion::Rpm(Rpm::parse(version)?),
            Self::Semver => AnyVersion::Semver(Semver::parse(version)?),
            Self::Go => AnyVersion::Go(Go::parse(version)?),
            Self::Pep440 => AnyVersion::Pep440(Pep440::parse(version)?),
            Self::Maven => AnyVersion::Maven(Maven::parse(version)?),
            Self::Gem => AnyVersion::Gem(Gem::parse(version)?),
            Self::Nuget => AnyVersion::Nuget(Nuget::parse(version)?),
            Self::Composer => AnyVersion::Composer(Composer::parse(version)?),
            Self::Runtime => AnyVersion::Runtime(Runtime::parse(version)?),
        })
    }

    /// Compares two versions of this scheme.
    ///
    /// # Errors
    /// When either is not a version of this scheme.
    pub fn compare(self, a: &str, b: &str) -> Result<Ordering, ParseVersionError> {
        Ok(self.parse(a)?.cmp(&self.parse(b)?))
    }

    /// Whether `version` parses in this scheme.
    #[must_use]
    pub fn is_valid(self, version: &str) -> bool {
        self.parse(version).is_ok()
    }

    /// The scheme of an OSV ecosystem name (`Debian:12` → dpkg, `PyPI` → PEP 440).
    #[must_use]
    pub fn for_ecosystem(ecosystem: &str) -> Option<Self> {
        let base = ecosystem.split(':').next().unwrap_or(ecosystem);
        Some(match base {
            "Debian" | "Ubuntu" => Self::Dpkg,
            "Alpine" | "Wolfi" | "Chainguard" => Self::Apk,
            "Red Hat" | "AlmaLinux" | "Rocky Linux" | "openSUSE" | "SUSE" | "Mageia"
            | "Photon OS" | "Oracle Linux" | "Amazon Linux" => Self::Rpm,
            "npm" | "crates.io" | "Hex" | "Pub" | "SwiftURL" => Self::Semver,
            "Packagist" => Self::Composer,
            "Go" => Self::Go,
            "PyPI" => Self::Pep440,
            "Maven" => Self::Maven,
            "RubyGems" => Self::Gem,
            "NuGet" => Self::Nuget,
            "Bitnami" => Self::Runtime,
            _ => return None,
        })
    }
}

#[cfg(test)]
mod tests;
