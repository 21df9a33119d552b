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
pub mod http;
pub mod oci11;
pub mod postgres;
pub mod registry;
pub mod schema;
pub mod sigstore;
pub mod webdriver;

pub use builder::{
    BuiltImage, Compression, ImageBuilder, LayerBuilder, write_docker_archive_multi,
    write_index_layout,
};
pub use example::example_image;

/// Variables a test run passes through to the commands it starts; every
/// other variable of the caller's environment is dropped.
const PASSED_THROUGH: &[&str] = &["PATH", "TMPDIR", "RUST_BACKTRACE", "LLVM_PROFILE_FILE"];

/// A command whose every customs location (data, cache, vulnerability
/// database, config, Docker credentials) is inside `home`, whatever the
/// caller's environment holds: the environment is cleared, then `HOME`, the
/// XDG base directories and `CUSTOMS_CACHE_DIR` point into `home`. No test
/// may read or write the user's real data (issue 14).
#[must_use]
pub fn isolated(
    program: impl AsRef<std::ffi::OsStr>,
    home: &std::path::Path,
) -> std::process::Command {
    let mut cmd = std::process::Command::new(program);
    cmd.env_clear();
    for name in PASSED_THROUGH {
        if let Some(value) = std::env::var_os(name) {
            cmd.env(name, value);
        }
    }
    cmd.env("HOME", home)
        .env("XDG_DATA_HOME", home.join(".local/share"))
        .env("XDG_CACHE_HOME", home.join(".cache"))
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env("XDG_STATE_HOME", home.join(".local/state"))
        .env("CUSTOMS_CACHE_DIR", home.join("cache"));
    cmd
}

/// Writes a Debian 12 OSV record `id` (aliasing `alias`) into `dir`:
/// `package` (the source package) affected below `fixed`.
pub fn write_debian_advisory(
    dir: &std::path::Path,
    id: &str,
    alias: &str,
    package: &str,
    fixed: &str,
) {
    let record = serde_json::json!({
        "id": id,
        "aliases": [alias],
        "modified": "2026-01-01T00:00:00Z",
        "affected": [{
            "package": {"ecosystem": "Debian:12", "name": package},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}]
        }]
    });
    fs_err::write(dir.join(format!("{id}.json")), record.to_string()).unwrap();
}
