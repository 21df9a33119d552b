//! Version parsers and orderings of every scheme: arbitrary text parses or
//! errors, never panics, and comparing is antisymmetric.
#![no_main]

use customs_version::Scheme;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (a, b) = text.split_once('\n').unwrap_or((text, "1.0"));
    for scheme in Scheme::ALL {
        if let (Ok(ab), Ok(ba)) = (scheme.compare(a, b), scheme.compare(b, a)) {
            assert_eq!(ab, ba.reverse(), "{scheme:?}: {a:?} vs {b:?}");
        }
    }
});
