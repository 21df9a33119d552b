//! The layer walker on arbitrary layer bytes (plain, or as gzip/zstd when
//! the bytes say so): an error or a walk, never a panic or a hang.
#![no_main]

use customs_layer::{FileEvent, FileVisitor, LayerInput, LayerWalker, Selector};
use customs_oci::{BoxRead, Limits};
use libfuzzer_sys::fuzz_target;

struct ReadAll(Selector);

impl FileVisitor for ReadAll {
    fn name(&self) -> &'static str {
        "read-all"
    }
    fn selector(&self) -> &Selector {
        &self.0
    }
    fn visit(&self, _: &FileEvent<'_>, content: &mut dyn std::io::Read) -> Result<(), String> {
        std::io::copy(content, &mut std::io::sink()).map(|_| ()).map_err(|e| e.to_string())
    }
}

fuzz_target!(|data: &[u8]| {
    let limits = Limits { max_uncompressed_bytes: 64 << 20, max_entries_per_layer: 100_000, ..Limits::default() };
    let bytes = data.to_vec();
    let input = LayerInput::new(0, "fuzz layer", bytes.len() as u64, move || Ok(Box::new(std::io::Cursor::new(bytes.clone())) as BoxRead));
    let visitor = ReadAll(Selector::all());
    if let Ok(walk) = LayerWalker::new(limits).threads(1).walk_inputs(&[input], &[&visitor], "fuzz") {
        for (_, entry) in walk.index.iter() {
            let _ = walk.index.resolve(&entry.path);
        }
    }
});
