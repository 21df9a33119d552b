//! Version parsers and orderings of every scheme: arbitrary text parses or
//! errors, never panics, and comparing is antisymmetric.
#![no_main]

use customs_version::Scheme;
use libfuzzer_sys::fuzz_target;

const ALL: [Scheme; 9] = [
    Scheme::Dpkg,
    Scheme::Apk,
    Scheme::Rpm,
    Scheme::Semver,
    Scheme::Go,
    Scheme::Pep440,
    Scheme::Maven,
    Scheme::Gem,
    Scheme::Nuget,
];

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let (a, b) = text.split_once('\n').unwrap_or((text, "1.0"));
    for scheme in ALL {
        if let (Ok(ab), Ok(ba)) = (scheme.compare(a, b), scheme.compare(b, a)) {
            assert_eq!(ab, ba.reverse(), "{scheme:?}: {a:?} vs {b:?}");
        }
    }
});
