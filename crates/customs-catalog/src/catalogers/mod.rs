//! One module per ecosystem.

pub mod apk;
pub mod binary;
pub mod classifiers;
pub mod dpkg;
pub mod golang;
pub mod java;
pub mod lockfiles;
pub mod npm;
pub mod os_release;
pub mod python;
pub mod rpm;
pub mod rust;
