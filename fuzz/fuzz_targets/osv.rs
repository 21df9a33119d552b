//! The OSV reader and range evaluation: arbitrary bytes parse as a record or
//! fail with an error naming the input, never panic; every range of a record
//! that parses evaluates for versions of every scheme without panicking, and
//! an affected verdict always comes with a fixed version that is later than
//! the installed one, or none.
#![no_main]

use customs_version::Scheme;
use customs_vuln::matching::evaluate_range;
use libfuzzer_sys::fuzz_target;

const VERSIONS: [&str; 8] = ["0", "1.0.0", "1.2.3-rc.1", "2.36-9+deb12u4", "1:1.2.13.dfsg-1", "3.0.0.0", "v1.20.7", "5.3.1"];

fuzz_target!(|data: &[u8]| {
    let Ok(record) = customs_vuln::osv::parse("fuzz.json", data) else { return };
    for affected in &record.affected {
        for range in &affected.ranges {
            for scheme in Scheme::ALL {
                for version in VERSIONS.iter().copied().chain(affected.versions.iter().map(String::as_str)) {
                    if let Some(hit) = evaluate_range(range, version, scheme) {
                        if let Some(fixed) = &hit.fixed {
                            let scheme = customs_vuln::matching::range_scheme(&range.kind, scheme);
                            assert_eq!(scheme.compare(version, fixed).ok(), Some(std::cmp::Ordering::Less));
                        }
                    }
                }
            }
        }
    }
});
