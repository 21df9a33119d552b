//! One streaming pass over an image's layers.
//!
//! Each layer is decompressed once and its tar stream read once; layers are
//! walked in parallel. Analyzers ([`FileVisitor`]s) subscribe to paths with a
//! [`Selector`] and see only those files' contents; nothing is extracted to
//! disk, so hostile entries (`../`, absolute paths, links out of the root)
//! have nowhere to escape to. The per-layer listings are then squashed into a
//! [`FileIndex`] following the OCI
//! [whiteout rules](https://github.com/opencontainers/image-spec/blob/main/layer.md#whiteouts),
//! which knows which layer put each surviving file there and which files a
//! later layer deleted or overwrote.

mod entry;
mod path;
mod selector;
mod squash;
mod walker;

pub use entry::{Entry, EntryKind, FileEvent};
pub use path::normalize;
pub use selector::Selector;
pub use squash::{Fate, FileIndex, Moved, Resolved, Shadowed};
pub use walker::{
    FileVisitor, HEAD_BYTES, LayerInput, LayerListing, LayerWalker, Walk, WalkError, WalkWarning,
};
