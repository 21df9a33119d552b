//! The package model of an image and the SBOM formats customs speaks.
//!
//! A [`Sbom`] names its subject by digest, lists [`Package`]s with the
//! layer and paths that evidence each one, the relationships between them,
//! and the [`Unknown`]s — files that looked like package metadata but could
//! not be read. Writers produce [SPDX 2.3](https://spdx.github.io/spdx-spec/v2.3/)
//! JSON, [CycloneDX 1.6](https://cyclonedx.org/docs/1.6/json/) JSON, customs's
//! native JSON and a table; readers bring SPDX and CycloneDX back.

pub mod format;
mod model;
mod purl;

pub use customs_types::time::{rfc3339, timestamp};
pub use model::{
    Creator, Distro, Location, Package, PackageType, Relationship, RelationshipKind, Sbom, Subject,
    Unknown,
};
pub use purl::{PurlError, purl};
