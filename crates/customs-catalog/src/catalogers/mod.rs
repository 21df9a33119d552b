//! One module per ecosystem.

pub mod dpkg;
pub mod os_release;
