//! Test support shared by every customs crate.
//!
//! - [`ImageBuilder`] writes real images (OCI layouts, oci-archives and
//!   docker-archives in both of Docker's forms) from in-memory file lists, so
//!   fixtures live in code, not in committed tarballs.
//! - [`registry::TestRegistry`] starts Debian's `docker-registry` on a free
//!   loopback port with htpasswd auth, and pushes images with `skopeo`.
//! - [`fault::FaultServer`] is an HTTP server whose every answer a test
//!   scripts: 429s, 5xx, truncated bodies, wrong digests.
#![allow(clippy::missing_panics_doc, clippy::unwrap_used)]

mod builder;
mod example;
pub mod fault;
pub mod registry;
pub mod schema;

pub use builder::{
    BuiltImage, Compression, ImageBuilder, LayerBuilder, write_docker_archive_multi,
    write_index_layout,
};
pub use example::example_image;
