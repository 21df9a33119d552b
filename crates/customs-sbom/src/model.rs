//! The package model.

use std::collections::BTreeMap;
use std::fmt;

use customs_types::Digest;
use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// The kind of package, named as syft names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum PackageType {
    /// Debian package (dpkg).
    Deb,
    /// Alpine package (apk).
    Apk,
    /// RPM package.
    Rpm,
    /// Python distribution.
    Python,
    /// npm package.
    Npm,
    /// Go module (from a binary's build info).
    GoModule,
    /// Rust crate.
    RustCrate,
    /// Java archive.
    JavaArchive,
    /// Ruby gem.
    Gem,
    /// PHP Composer package.
    PhpComposer,
    /// .NET package.
    Dotnet,
    /// A runtime or server found in a binary by a classifier (Node,
    /// CPython, a JDK, OpenSSL …), no package database owning it.
    Binary,
}

impl PackageType {
    /// The kebab-case name (`deb`, `go-module`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Deb => "deb",
            Self::Apk => "apk",
            Self::Rpm => "rpm",
            Self::Python => "python",
            Self::Npm => "npm",
            Self::GoModule => "go-module",
            Self::RustCrate => "rust-crate",
            Self::JavaArchive => "java-archive",
            Self::Gem => "gem",
            Self::PhpComposer => "php-composer",
            Self::Dotnet => "dotnet",
            Self::Binary => "binary",
        }
    }

    /// Whether packages of this type come from an OS distribution's database.
    #[must_use]
    pub fn is_os(self) -> bool {
        matches!(self, Self::Deb | Self::Apk | Self::Rpm)
    }

    /// Every type, for parsing names back.
    pub const ALL: [Self; 12] = [
        Self::Deb,
        Self::Apk,
        Self::Rpm,
        Self::Python,
        Self::Npm,
        Self::GoModule,
        Self::RustCrate,
        Self::JavaArchive,
        Self::Gem,
        Self::PhpComposer,
        Self::Dotnet,
        Self::Binary,
    ];

    /// The type a purl type maps to.
    #[must_use]
    pub fn from_purl_type(ty: &str) -> Option<Self> {
        Some(match ty {
            "deb" => Self::Deb,
            "apk" => Self::Apk,
            "rpm" => Self::Rpm,
            "pypi" => Self::Python,
            "npm" => Self::Npm,
            "golang" => Self::GoModule,
            "cargo" => Self::RustCrate,
            "maven" => Self::JavaArchive,
            "gem" => Self::Gem,
            "composer" => Self::PhpComposer,
            "nuget" => Self::Dotnet,
            "generic" => Self::Binary,
            _ => return None,
        })
    }
}

impl fmt::Display for PackageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where evidence of a package was found.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Location {
    /// Absolute path in the image.
    pub path: String,
    /// The layer (0-based) the evidence came from, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// That layer's digest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer_digest: Option<Digest>,
}

/// One package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// Package name as its ecosystem spells it.
    pub name: String,
    /// Version as its ecosystem spells it (dpkg/rpm: with epoch and release).
    pub version: String,
    /// Kind of package.
    #[serde(rename = "type")]
    pub kind: PackageType,
    /// Package URL.
    pub purl: String,
    /// Licences: SPDX expressions where they could be read as such, the
    /// declared text otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub licenses: Vec<String>,
    /// The files that evidence it (first is the primary one).
    pub locations: Vec<Location>,
    /// The layer that introduced it (0-based): the lowest layer whose
    /// evidence at the same path lists the same name and version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub introduced_by_layer: Option<usize>,
    /// The cataloger that found it.
    pub found_by: String,
    /// For distro packages: the source package, when it differs from `name`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_name: Option<String>,
    /// For distro packages: the source version, when it differs from `version`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_version: Option<String>,
    /// Files the package installs (distro packages).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    /// Further metadata (architecture, maintainer, group id, …).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: BTreeMap<String, String>,
}

impl Package {
    /// A package with the fields every cataloger knows.
    #[must_use]
    pub fn new(
        kind: PackageType,
        name: &str,
        version: &str,
        purl: String,
        found_by: &str,
        path: &str,
    ) -> Self {
        Self {
            name: name.to_owned(),
            version: version.to_owned(),
            kind,
            purl,
            licenses: Vec::new(),
            locations: vec![Location {
                path: path.to_owned(),
                layer: None,
                layer_digest: None,
            }],
            introduced_by_layer: None,
            found_by: found_by.to_owned(),
            source_name: None,
            source_version: None,
            files: Vec::new(),
            metadata: BTreeMap::new(),
        }
    }

    /// A stable identifier: the same package at the same place always gets
    /// the same one, across runs and formats.
    #[must_use]
    pub fn id(&self) -> String {
        let mut hasher = sha2::Sha256::new();
        for part in [
            self.kind.as_str(),
            &self.name,
            &self.version,
            self.locations.first().map_or("", |l| l.path.as_str()),
        ] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
        let digest = hasher.finalize();
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The primary path.
    #[must_use]
    pub fn path(&self) -> &str {
        self.locations.first().map_or("", |l| l.path.as_str())
    }
}

/// How two things relate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum RelationshipKind {
    /// A binary or archive contains a package (Go modules in a binary, jars in a jar).
    Contains,
    /// A distro package owns a file that another cataloger also read.
    OwnsFileOf,
}

/// A relationship between two packages, by their ids.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Relationship {
    /// The package that contains or owns.
    pub from: String,
    /// The package contained or owned.
    pub to: String,
    /// How.
    pub kind: RelationshipKind,
}

/// A file that looked like package metadata but could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unknown {
    /// The file.
    pub path: String,
    /// Its layer (0-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layer: Option<usize>,
    /// What went wrong, naming the package type.
    pub message: String,
    /// The type of package metadata that could not be read (none for what
    /// the layer walk itself found odd). An OS package database that could
    /// not be read makes a vulnerability scan incomplete, never clean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package_type: Option<PackageType>,
}

/// The operating system distribution, from `os-release`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Distro {
    /// `ID` (`debian`, `alpine`).
    pub id: String,
    /// `VERSION_ID` (`12`, `3.19.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version_id: Option<String>,
    /// `VERSION_CODENAME` (`bookworm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub codename: Option<String>,
    /// `PRETTY_NAME`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pretty_name: Option<String>,
    /// `ID_LIKE`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_like: Vec<String>,
}

/// What the SBOM describes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Subject {
    /// The reference as given.
    pub name: String,
    /// The manifest digest (absent for a root filesystem).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// The image's package URL, per the purl spec's `oci` type:
    /// `pkg:oci/NAME@DIGEST?arch=…&repository_url=…&tag=…`, NAME being the
    /// last component of the repository.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purl: Option<String>,
    /// The index digest, when chosen from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub index_digest: Option<Digest>,
    /// The config digest (the image ID).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_digest: Option<Digest>,
    /// `os/arch[/variant]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<String>,
    /// Layer digests, base first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Digest>,
}

/// The tool that made the document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Creator {
    /// `customs`.
    pub name: String,
    /// Its version.
    pub version: String,
}

impl Default for Creator {
    fn default() -> Self {
        Self {
            name: "customs".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}

/// A software bill of materials for one image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sbom {
    /// What it describes.
    pub subject: Subject,
    /// The OS distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distro: Option<Distro>,
    /// Packages, sorted by type, name, version and path.
    pub packages: Vec<Package>,
    /// Relationships between packages.
    #[serde(default)]
    pub relationships: Vec<Relationship>,
    /// Files that could not be read.
    #[serde(default)]
    pub unknowns: Vec<Unknown>,
    /// The tool.
    pub creator: Creator,
    /// Seconds since the epoch (`SOURCE_DATE_EPOCH` when set).
    pub created: u64,
}

impl Sbom {
    /// Sorts packages and relationships into their canonical order.
    pub fn normalize(&mut self) {
        self.packages.sort_by(|a, b| {
            (a.kind, &a.name, &a.version, a.path()).cmp(&(b.kind, &b.name, &b.version, b.path()))
        });
        self.relationships.sort();
        self.relationships.dedup();
        self.unknowns
            .sort_by(|a, b| (&a.path, a.layer).cmp(&(&b.path, b.layer)));
    }

    /// Package counts by type.
    #[must_use]
    pub fn counts(&self) -> BTreeMap<PackageType, usize> {
        let mut counts = BTreeMap::new();
        for p in &self.packages {
            *counts.entry(p.kind).or_insert(0) += 1;
        }
        counts
    }
}
