//! Plain data shared by every customs crate.
//!
//! This is the leaf of the workspace: it owns no I/O and no policy, only the
//! small value types whose meaning is fixed by a specification, such as the
//! [`Digest`] of the [OCI image spec](https://github.com/opencontainers/image-spec/blob/main/descriptor.md#digests),
//! and [`Redacted`], the wrapper that keeps secrets out of output.

mod digest;
mod redacted;
mod severity;
pub mod time;

pub use digest::{Algorithm, Digest, DigestError, Hasher, decode_hex};
pub use redacted::Redacted;
pub use severity::{ParseSeverityError, Severity};
