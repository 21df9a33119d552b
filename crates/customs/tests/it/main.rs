//! End-to-end tests of the `customs` binary.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

mod blob;
mod checks;
mod common;
mod dashboard;
mod example;
mod files;
mod gate;
mod governance;
mod inspect;
mod ledger;
mod registry;
mod regression;
mod runtimes;
mod sbom;
mod scan;
mod serve;
mod sign;
