//! What the walk records about each tar entry.

use serde::Serialize;

/// The kind of a filesystem entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A hard link to another path of the same layer.
    Hardlink,
    /// A character device.
    CharDevice,
    /// A block device.
    BlockDevice,
    /// A named pipe.
    Fifo,
}

impl EntryKind {
    /// A short name for tables.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::File => "file",
            Self::Directory => "dir",
            Self::Symlink => "symlink",
            Self::Hardlink => "hardlink",
            Self::CharDevice => "char",
            Self::BlockDevice => "block",
            Self::Fifo => "fifo",
        }
    }
}

/// One entry of a layer, with its path normalised to an absolute path.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// Absolute, normalised path (`/etc/os-release`).
    pub path: String,
    /// What it is.
    pub kind: EntryKind,
    /// Size of a regular file's content.
    pub size: u64,
    /// Permission bits and set-id bits.
    pub mode: u32,
    /// Owner.
    pub uid: u64,
    /// Group.
    pub gid: u64,
    /// A link's target as written (symlink) or normalised (hardlink).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link_target: Option<String>,
}

/// A file offered to a visitor.
#[derive(Debug, Clone, Copy)]
pub struct FileEvent<'a> {
    /// Which layer (0-based, base first); 0 for a root filesystem directory.
    pub layer: usize,
    /// The entry. For a hard link whose target was read instead, `path` is
    /// the link's path and `kind` is [`EntryKind::File`].
    pub entry: &'a Entry,
}
