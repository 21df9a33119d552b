//! Image references and platforms: any string parses or errors, never panics,
//! and what parses prints back to something that parses to the same value.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(reference) = customs_oci::ImageRef::parse(text) {
        let again = customs_oci::ImageRef::parse(&reference.to_string()).expect("a printed reference parses");
        assert_eq!(again, reference);
    }
    let _ = text.parse::<customs_oci::Platform>();
});
