//! Rust binaries built with [`cargo auditable`](https://github.com/rust-secure-code/cargo-auditable):
//! the dependency tree in the `.dep-v0` section, read with `auditable-info`
//! (made for untrusted input, size-limited).

use customs_layer::Selector;
use customs_sbom::{Package, PackageType, purl};

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};
use crate::catalogers::golang::is_executable;

/// The cargo-auditable cataloger.
pub struct RustAuditable;

const NAME: &str = "cargo-auditable-binary-cataloger";

impl Cataloger for RustAuditable {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tags(&self) -> &'static [&'static str] {
        &["binary", "rust", "rust-crate", "cargo"]
    }
    fn selector(&self) -> Selector {
        Selector::new().executables()
    }
    fn max_file_size(&self) -> u64 {
        512 << 20
    }
    fn accepts(&self, head: &[u8]) -> bool {
        is_executable(head)
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let info = match auditable_info::audit_info_from_slice(file.content, 8 << 20) {
            Ok(info) => info,
            // Most binaries are not auditable binaries: that is not an error.
            Err(auditable_info::Error::NoAuditData | auditable_info::Error::BinaryParsing(_)) => {
                return Ok(Found::Packages(Vec::new()));
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
        Ok(Found::Packages(packages))
    }
}
