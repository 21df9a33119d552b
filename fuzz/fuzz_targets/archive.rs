//! docker-archive and oci-archive readers on arbitrary tar bytes.
#![no_main]

use customs_oci::{ImageRef, Limits, PlatformChoice, RegistryOptions, SourceOptions, Target};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("input.tar");
    std::fs::write(&path, data).expect("write");
    let options = SourceOptions { limits: Limits::default(), registry: std::sync::Arc::new(RegistryOptions::new(dir.path().join("cache"))) };
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    for transport in ["docker-archive", "oci-archive"] {
        let reference = ImageRef::parse(&format!("{transport}:{}", path.display())).expect("reference");
        if let Ok(Target::Image(source)) = customs_oci::open(&reference, &options) {
            if let Ok(image) = runtime.block_on(source.image(&PlatformChoice::default())) {
                for layer in image.layers() {
                    if let Ok(mut reader) = source.open_layer(&image, &layer) {
                        let _ = std::io::copy(&mut reader, &mut std::io::sink());
                    }
                }
            }
        }
    }
});
