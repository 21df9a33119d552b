//! Executables: each ELF, Mach-O or PE file is read once and asked for Go
//! module build information and for `cargo auditable` data. (Two
//! catalogers would each need their own copy of every binary in the
//! image: on the lab's big image that doubled the cost of the SBOM.)

use customs_layer::Selector;

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};
use crate::catalogers::golang::{go_packages, is_executable};
use crate::catalogers::rust::rust_packages;

/// The binary cataloger (Go modules, Rust crates).
pub struct Binary;

impl Cataloger for Binary {
    fn name(&self) -> &'static str {
        "binary-cataloger"
    }
    fn tags(&self) -> &'static [&'static str] {
        &[
            "binary",
            "go",
            "golang",
            "go-module",
            "rust",
            "rust-crate",
            "cargo",
        ]
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
        let mut packages = go_packages(file)?;
        packages.extend(rust_packages(file)?);
        Ok(Found::Packages(packages))
    }
}
