//! The ledger's own inputs: what a cluster reports for `deploy verify`
//! (`kubectl get pods -o json`, `docker service inspect`, `docker service
//! ps` JSON lines), the manifests `deploy record` reads images from, and
//! `who-has` package specs; each must be an error or a value, never a
//! panic. The first byte chooses the parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 3 {
        0 => {
            let _ = customs_pipeline::deploy::running_of("pods.json", rest);
        }
        1 => {
            let _ = customs_checks::manifest::workload_images("k8s.yaml", &text);
        }
        _ => {
            if let Ok(filter) = customs_store::PackageFilter::parse(&text, Some("deb")) {
                let _ = filter.accepts("deb", "1:2.3-4");
                let _ = filter.accepts("npm", "1.2.3");
            }
        }
    }
});
