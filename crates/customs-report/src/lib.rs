//! Reports, rendered the same way by the CLI and (later) the server: the
//! vulnerability scan as a table grouped by severity, versioned JSON,
//! [SARIF 2.1.0](https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html)
//! and [CycloneDX 1.6](https://cyclonedx.org/docs/1.6/json/) with
//! `vulnerabilities`; the quick overview of an image.

pub mod checks;
pub mod columns;
pub mod gate;
pub mod quickview;
pub mod sarif;
pub mod sbom;
pub mod scan;
pub mod terminal;
