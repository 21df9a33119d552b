//! Bounds on everything read from an image, so hostile input fails fast and clearly.

/// Size and count limits applied while reading images. Every limit that a
/// legitimate image could exceed can be raised from the CLI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest manifest or index document (containerd uses 4 MiB).
    pub max_manifest_bytes: u64,
    /// Largest image config document.
    pub max_config_bytes: u64,
    /// Most layers in one image (Docker's overlay driver stops at 125).
    pub max_layers: usize,
    /// Most entries in one index.
    pub max_index_entries: usize,
    /// Deepest nesting of indexes inside indexes.
    pub max_index_depth: usize,
    /// Total uncompressed bytes of all layers (decompression bombs).
    pub max_uncompressed_bytes: u64,
    /// Most tar entries in one layer.
    pub max_entries_per_layer: u64,
    /// Most tar entries in all the layers of one image together: what a
    /// walk keeps per entry (its listing and the squashed index) is about
    /// 200 bytes, so this bounds a walk's memory whatever the layer count
    /// (a small image repeating one huge layer a thousand times).
    pub max_entries_total: u64,
    /// Longest path inside a layer, in bytes.
    pub max_path_bytes: usize,
    /// Most symlinks followed while resolving one path.
    pub max_symlink_depth: usize,
    /// Largest `manifest.json` or `index.json` in an archive or layout.
    pub max_metadata_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_manifest_bytes: 4 << 20,
            max_config_bytes: 8 << 20,
            max_layers: 1000,
            max_index_entries: 10_000,
            max_index_depth: 8,
            max_uncompressed_bytes: 64 << 30,
            max_entries_per_layer: 5_000_000,
            max_entries_total: 5_000_000,
            max_path_bytes: 4096,
            max_symlink_depth: 40,
            max_metadata_bytes: 16 << 20,
        }
    }
}
