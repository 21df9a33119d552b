//! Catalogers: what packages an image contains.
//!
//! Each ecosystem is one module implementing [`Cataloger`] — a
//! [`Selector`](customs_layer::Selector) saying which files it reads and a
//! parser for one file — and is registered once in [`default_catalogers`].
//! Catalogers run as visitors of the single layer walk, in every layer; the
//! [`Catalog`] then keeps the packages whose evidence is still in the final
//! filesystem and attributes each to the layer that introduced it. A file
//! that cannot be parsed becomes an [`Unknown`](customs_sbom::Unknown)
//! naming the file and the package type; the rest of the SBOM is still made.

mod catalog;
mod cataloger;
pub mod catalogers;

pub use catalog::{Catalog, CatalogRun};
pub use cataloger::{
    CatalogError, Cataloger, FileInput, Found, SelectionError, default_catalogers, select,
};
