//! What `customs serve` is sent by others: distribution's notification
//! envelopes, Harbor's webhooks and Kubernetes AdmissionReviews; each must
//! be an error or a value, never a panic. The first byte chooses the
//! parser.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    match which % 3 {
        0 => {
            let _ = customs_server::inputs::registry_notification(rest);
        }
        1 => {
            let _ = customs_server::inputs::harbor_event(rest);
        }
        _ => {
            let _ = customs_server::inputs::admission_review(rest);
        }
    }
});
