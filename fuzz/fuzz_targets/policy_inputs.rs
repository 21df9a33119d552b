//! The policy's own inputs: exceptions files, VEX documents (OpenVEX JSON
//! and YAML, CycloneDX), block lists, KEV catalogues, customs.toml, and
//! Rego modules; each must be an error or a value, never a panic. The
//! first byte chooses the parser.
#![no_main]

use std::path::Path;

use customs_policy::{Exceptions, PolicyConfig, blocklist::BlockList, kev::Kev, vex};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&which, rest)) = data.split_first() else {
        return;
    };
    let text = String::from_utf8_lossy(rest);
    match which % 6 {
        0 => {
            let _ = Exceptions::parse(Path::new("exceptions.yaml"), &text, 20_000, 180);
        }
        1 => {
            let _ = vex::parse("vex.json", rest);
        }
        2 => {
            let _ = BlockList::parse(Path::new("blocked.yaml"), &text);
        }
        3 => {
            let _ = Kev::parse(Path::new("kev.json"), &text);
        }
        4 => {
            let _ = PolicyConfig::parse(Path::new("customs.toml"), &text);
        }
        _ => {
            let _ = customs_policy::engine::check_module("fuzz.rego", &text);
        }
    }
});
