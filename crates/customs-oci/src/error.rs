//! The errors of reading an image. Every message names the input.

use std::io;

use customs_types::Digest;

use crate::manifest::ManifestError;
use crate::reference::ReferenceError;
use crate::source::registry::RegistryError;

/// A blob whose bytes are not what its descriptor promised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum IntegrityError {
    /// The bytes hash to another digest.
    #[error("{what}: digest mismatch (expected {expected}, got {actual})")]
    DigestMismatch {
        /// Names the blob.
        what: String,
        /// The digest the descriptor declared.
        expected: Digest,
        /// The digest of the bytes read.
        actual: Digest,
    },
    /// There are fewer bytes than declared.
    #[error("{what}: size mismatch (expected {expected} bytes, got {actual})")]
    SizeMismatch {
        /// Names the blob.
        what: String,
        /// The declared size.
        expected: u64,
        /// The bytes there were.
        actual: u64,
    },
    /// There are more bytes than declared (reading stops at the first byte
    /// too many, so how many more is not known).
    #[error("{what}: size mismatch (expected {expected} bytes, got more)")]
    TooLong {
        /// Names the blob.
        what: String,
        /// The declared size.
        expected: u64,
    },
}

/// Why an image could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The reference is malformed.
    #[error(transparent)]
    Reference(#[from] ReferenceError),
    /// A file or stream could not be read.
    #[error("cannot read {what}")]
    Read {
        /// Names the file or blob.
        what: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
    /// A blob failed verification.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// A document or blob is larger than its limit.
    #[error("{what} is larger than the limit of {limit} bytes{hint}")]
    TooLarge {
        /// Names the input.
        what: String,
        /// The limit in bytes.
        limit: u64,
        /// How to raise the limit, if it can be raised.
        hint: &'static str,
    },
    /// A manifest or index is malformed or unsupported.
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    /// The image config is malformed.
    #[error("{what} is not a valid image config")]
    Config {
        /// Names the config blob.
        what: String,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// An OCI layout or archive does not have the structure its format requires.
    #[error("{what}: {reason}")]
    MalformedContainer {
        /// Names the layout or archive.
        what: String,
        /// What is wrong.
        reason: String,
    },
    /// No image carries the requested tag.
    #[error(
        "{what} has no image tagged `{tag}` (available: {})",
        list_or_none(available)
    )]
    TagNotFound {
        /// Names the layout or archive.
        what: String,
        /// The requested tag.
        tag: String,
        /// The tags that exist.
        available: Vec<String>,
    },
    /// Several images and no way to choose.
    #[error(
        "{what} holds {count} images; choose one with `:TAG` (available: {})",
        list_or_none(available)
    )]
    Ambiguous {
        /// Names the layout or archive.
        what: String,
        /// How many images it holds.
        count: usize,
        /// The tags that exist.
        available: Vec<String>,
    },
    /// No manifest in the index is for the requested platform.
    #[error(
        "{what} has no image for platform {wanted} (available: {})",
        list_or_none(available)
    )]
    PlatformNotFound {
        /// Names the index.
        what: String,
        /// The requested platform.
        wanted: String,
        /// The platforms the index lists.
        available: Vec<String>,
    },
    /// Indexes nest deeper than the limit.
    #[error("{what}: indexes nest deeper than {limit} levels")]
    IndexTooDeep {
        /// Names the index.
        what: String,
        /// The limit.
        limit: usize,
    },
    /// A count limit (layers, index entries) was exceeded.
    #[error("{what} has {count} {item}, more than the limit of {limit}")]
    TooMany {
        /// Names the document.
        what: String,
        /// What was counted.
        item: &'static str,
        /// How many there are.
        count: usize,
        /// The limit.
        limit: usize,
    },
    /// A blob the image needs is missing from the layout or archive.
    #[error("{what} does not contain blob {digest}")]
    BlobNotFound {
        /// Names the layout or archive.
        what: String,
        /// The missing blob.
        digest: Digest,
    },
    /// The registry could not be read.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The source has no manifest (an unpacked root filesystem).
    #[error("{what} is an unpacked root filesystem: it has no manifest and so no digest")]
    NoManifest {
        /// Names the directory.
        what: String,
    },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "none".to_owned()
    } else {
        items.join(", ")
    }
}

impl SourceError {
    pub(crate) fn read(what: impl Into<String>, source: io::Error) -> Self {
        // Integrity failures travel through `io::Read` as io errors; surface them as such.
        if source.get_ref().is_some_and(|e| e.is::<IntegrityError>()) {
            if let Some(Ok(integrity)) = source.into_inner().map(|e| e.downcast::<IntegrityError>())
            {
                return Self::Integrity(*integrity);
            }
            unreachable!("checked with `is` above");
        }
        Self::Read {
            what: what.into(),
            source,
        }
    }

    pub(crate) fn too_large(what: impl Into<String>, limit: u64) -> Self {
        Self::TooLarge {
            what: what.into(),
            limit,
            hint: "",
        }
    }

    /// Opening a local path failed: a missing path says so plainly (and a
    /// `oci://…` written as a URL is pointed out), anything else is a read
    /// error naming the path.
    pub(crate) fn open_path(path: &std::path::Path, source: io::Error) -> Self {
        let what = path.display().to_string();
        if source.kind() != io::ErrorKind::NotFound {
            return Self::read(what, source);
        }
        let reason = if what.starts_with("//") {
            "does not exist (a transport takes a path, not a URL: `oci:DIR`, not `oci://DIR`)"
        } else {
            "does not exist"
        };
        Self::malformed(what, reason)
    }

    /// A document or container that does not have the structure its
    /// format requires, naming it and what is wrong.
    #[must_use]
    pub fn malformed(what: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::MalformedContainer {
            what: what.into(),
            reason: reason.into(),
        }
    }
}
