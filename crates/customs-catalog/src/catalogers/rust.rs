//! Rust binaries built with [`cargo auditable`](https://github.com/rust-secure-code/cargo-auditable):
//! the dependency tree in the `.dep-v0` section, read with `auditable-info`
//! (made for untrusted input, size-limited).

use customs_sbom::{Package, PackageType, purl};

use crate::cataloger::{CatalogError, FileInput};

const NAME: &str = "cargo-auditable-binary-cataloger";

/// The crates of a `cargo auditable` binary (none for other binaries).
///
/// # Errors
/// When the binary has audit data that cannot be read.
pub(crate) fn rust_packages(file: &FileInput<'_>) -> Result<Vec<Package>, CatalogError> {
    let info = match auditable_info::audit_info_from_slice(file.content, 8 << 20) {
        Ok(info) => info,
        // Most binaries are not auditable binaries: that is not an error.
        Err(auditable_info::Error::NoAuditData | auditable_info::Error::BinaryParsing(_)) => {
            return Ok(Vec::new());
        }
        Err(e) => {
            return Err(CatalogError::Malformed(format!(
                "cargo-auditable data: {e}"
            )));
        }
    };
    let packages = info
        .packages
        .iter()
        .filter(|p| !matches!(p.kind, auditable_serde::DependencyKind::Build))
        .map(|p| {
            let version = p.version.to_string();
            let mut package = Package::new(
                PackageType::RustCrate,
                &p.name,
                &version,
                purl("cargo", None, &p.name, &version, &[]).unwrap_or_default(),
                NAME,
                file.path,
            );
            if p.root {
                package
                    .metadata
                    .insert("main-module".to_owned(), "true".to_owned());
            }
            package.metadata.insert(
                "source".to_owned(),
                match &p.source {
                    auditable_serde::Source::CratesIo => "crates.io".to_owned(),
                    auditable_serde::Source::Git => "git".to_owned(),
                    auditable_serde::Source::Local => "local".to_owned(),
                    auditable_serde::Source::Registry => "registry".to_owned(),
                    auditable_serde::Source::Other(o) => o.clone(),
                    _ => "unknown".to_owned(),
                },
            );
            package
        })
        .collect();
    Ok(packages)
}
