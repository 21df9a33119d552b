//! Manifests, indexes and configs: arbitrary bytes parse or error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = customs_oci::manifest::ManifestDocument::parse(data, None, "fuzz");
    let _ = customs_oci::manifest::ManifestDocument::parse(data, Some("application/vnd.docker.distribution.manifest.list.v2+json"), "fuzz");
    let _ = customs_oci::config::ImageConfig::parse(data);
});
