//! End-to-end tests of the `customs` binary.

mod common;
mod example;
mod files;
mod inspect;
mod registry;
