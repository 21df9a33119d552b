//! Reading container images safely: references, manifests, configs, and the
//! sources they come from, with every blob verified against its digest.
//!
//! Specifications: [OCI image spec](https://github.com/opencontainers/image-spec),
//! [OCI distribution spec](https://github.com/opencontainers/distribution-spec),
//! Docker [image manifest v2 schema 2](https://distribution.github.io/distribution/spec/manifest-v2-2/).

pub mod config;
pub mod decompress;
mod error;
mod image;
mod limits;
pub mod manifest;
pub mod media_type;
mod platform;
mod reference;
pub mod source;
mod verify;

pub use error::{IntegrityError, SourceError};
pub use image::{Image, IndexEntry, IndexSummary, Layer, PlatformChoice};
pub use limits::Limits;
pub use platform::{Platform, PlatformError};
pub use reference::{ArchiveSelector, DOCKER_HUB, ImageRef, ReferenceError, RegistryRef};
pub use source::registry::{
    CopyReport, Credential, NoProgress, Progress, RegistryError, RegistryOptions, RegistrySource,
    referrers_tag,
};
pub use source::{AnySource, BoxRead, SourceOptions, Target, local_path_suggestion, open};
pub use verify::{VerifiedReader, read_verified, verify_bytes};

/// Installs the process-wide TLS crypto provider (ring) once. Idempotent.
pub fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}
