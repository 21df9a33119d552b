//! The Dockerfile linter, the manifest linter and pin's reference finder on
//! arbitrary text: a result or an error naming the input, never a panic;
//! every pin target's span is a char-boundary range of the input holding
//! exactly the reference.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = customs_checks::dockerfile::lint("Dockerfile", text);
    let _ = customs_checks::manifest::lint("k8s.yaml", text, customs_checks::manifest::Options { production: true });
    for name in ["Dockerfile", "compose.yaml"] {
        if let Ok(targets) = customs_checks::pin::targets(name, text) {
            for t in targets {
                assert_eq!(text.get(t.span.clone()), Some(t.reference.as_str()));
            }
        }
    }
});
