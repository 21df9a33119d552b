//! The package-file parsers (dpkg status, apk database, Go build info,
//! Java archives, Python METADATA, package.json, os-release, rpmdb, the binary
//! classifiers, whole and streamed): arbitrary
//! bytes give packages or an error, never a panic. The first byte picks the
//! parser; the rest is the file.
#![no_main]

use customs_catalog::{Cataloger, FileInput, default_catalogers};
use libfuzzer_sys::fuzz_target;

const PATHS: [&str; 14] = [
    "/var/lib/dpkg/status",
    "/lib/apk/db/installed",
    "/usr/local/bin/tool",
    "/app/lib/app.jar",
    "/usr/lib/python3/dist-packages/x-1.0.dist-info/METADATA",
    "/app/node_modules/x/package.json",
    "/etc/os-release",
    "/usr/share/doc/x/copyright",
    "/var/lib/rpm/rpmdb.sqlite",
    // The binary classifiers' files.
    "/usr/local/bin/node",
    "/usr/local/bin/python3.11",
    "/opt/java/openjdk/release",
    "/opt/java/openjdk/bin/java",
    "/usr/local/lib/libcrypto.so.3",
];

fuzz_target!(|data: &[u8]| {
    let Some((&choice, content)) = data.split_first() else { return };
    let path = PATHS[usize::from(choice) % PATHS.len()];
    let file = FileInput { path, layer: 0, mode: 0o755, content };
    for cataloger in default_catalogers() {
        let selector = cataloger.selector();
        let head = &content[..content.len().min(4096)];
        if selector.matches(path, content.len() as u64, 0o755) && cataloger.accepts(head) {
            let _ = cataloger.catalog(&file);
            if cataloger.streams() {
                // The same file as the walker gives it: a head, then the rest.
                let first = FileInput { content: head, ..file };
                let _ = cataloger.catalog_stream(&first, &mut &content[head.len()..]);
            }
        }
    }
});
