//! Platforms (`os/arch[/variant]`) and how one is picked from an image index.
//!
//! Matching follows containerd's platform normalisation: `x86_64` is `amd64`,
//! `aarch64` is `arm64`, and `arm64` without a variant is `arm64/v8`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// An image's platform as written in an index or config.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Platform {
    /// Operating system (`linux`, `windows`).
    pub os: String,
    /// CPU architecture in GOARCH form (`amd64`, `arm64`).
    pub architecture: String,
    /// CPU variant (`v7`, `v8`), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// OS version (Windows images).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
}

/// Why a platform string is invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid platform `{0}`: expected os/arch[/variant], e.g. linux/amd64 or linux/arm64/v8")]
pub struct PlatformError(String);

impl Platform {
    /// A platform from its parts, normalised.
    #[must_use]
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        let architecture = match architecture {
            "x86_64" | "x86-64" => "amd64",
            "aarch64" => "arm64",
            "i386" | "i686" => "386",
            other => other,
        };
        Self {
            os: os.to_owned(),
            architecture: architecture.to_owned(),
            variant: variant.map(str::to_owned),
            os_version: None,
        }
    }

    /// The platform this process runs on.
    #[must_use]
    pub fn host() -> Self {
        let os = match std::env::consts::OS {
            "macos" => "darwin",
            other => other,
        };
        // Containers on a macOS or Windows host run Linux images.
        let os = if os == "darwin" || os == "windows" {
            "linux"
        } else {
            os
        };
        let arch = std::env::consts::ARCH;
        let variant = match arch {
            "arm" => Some("v7"),
            _ => None,
        };
        Self::new(os, arch, variant)
    }

    fn normalised_variant(&self) -> Option<&str> {
        match (self.architecture.as_str(), self.variant.as_deref()) {
            ("arm64", None | Some("v8" | "8")) => None,
            ("arm", None) => Some("v7"),
            (_, v) => v,
        }
    }

    /// Whether an image built for `candidate` satisfies a request for `self`.
    #[must_use]
    pub fn matches(&self, candidate: &Self) -> bool {
        let normal = Self::new(
            &candidate.os,
            &candidate.architecture,
            candidate.variant.as_deref(),
        );
        self.os == normal.os
            && self.architecture == normal.architecture
            && (self.variant.is_none() && self.architecture != "arm"
                || self.normalised_variant() == normal.normalised_variant())
    }
}

impl FromStr for Platform {
    type Err = PlatformError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Vec<&str> = s.split('/').collect();
        let valid = |p: &str| {
            !p.is_empty()
                && p.len() <= 64
                && p.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
        };
        match parts.as_slice() {
            [os, arch] if valid(os) && valid(arch) => Ok(Self::new(os, arch, None)),
            [os, arch, variant] if valid(os) && valid(arch) && valid(variant) => {
                Ok(Self::new(os, arch, Some(variant)))
            }
            _ => Err(PlatformError(s.chars().take(100).collect())),
        }
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Platform {
        s.parse().unwrap()
    }

    #[test]
    fn normalises_and_matches() {
        assert_eq!(p("linux/x86_64"), p("linux/amd64"));
        assert!(p("linux/arm64").matches(&p("linux/arm64/v8")));
        assert!(p("linux/arm64/v8").matches(&p("linux/arm64")));
        assert!(p("linux/arm").matches(&p("linux/arm/v7")));
        assert!(!p("linux/arm/v6").matches(&p("linux/arm/v7")));
        assert!(!p("linux/amd64").matches(&p("linux/arm64")));
        assert!(p("linux/amd64").matches(&p("linux/amd64/v3")));
        assert!(!p("linux/amd64/v2").matches(&p("linux/amd64/v3")));
    }

    #[test]
    fn rejects_garbage() {
        for bad in ["", "linux", "linux/", "a/b/c/d", "linux/amd 64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad:?}");
        }
    }
}
