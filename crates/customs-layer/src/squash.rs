//! The squashed view of an image: which file survives at each path, which
//! layer put it there, and what became of every file that did not survive.
//!
//! Rules from the OCI layer spec: a layer's opaque directories and whiteouts
//! apply to the layers below it only, then its own entries are added; a later
//! entry at the same path replaces the earlier one.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use serde::Serialize;

use crate::entry::{Entry, EntryKind};
use crate::path::{resolve_dir, resolve_parents};
use crate::walker::LayerListing;

/// What became of a file a layer added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "fate")]
pub enum Fate {
    /// It is in the final filesystem.
    Present,
    /// A later layer deleted it (whiteout, opaque directory, or a file
    /// replacing its directory). Deleting does not remove it from the image.
    Deleted {
        /// The deleting layer (0-based).
        by_layer: usize,
    },
    /// A later layer (or a later entry of the same layer) replaced it.
    Overwritten {
        /// The replacing layer (0-based).
        by_layer: usize,
    },
}

/// A file that is in the image's layers but not in its final filesystem.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Shadowed<'a> {
    /// The layer that added it.
    pub layer: usize,
    /// The entry.
    pub entry: &'a Entry,
    /// What happened to it.
    pub fate: Fate,
}

/// A path resolved through symlinks.
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'a> {
    /// The final path after following links.
    pub layer: usize,
    /// The entry found there.
    pub entry: &'a Entry,
}

/// An entry moved by a symlinked parent directory (see [`FileIndex::build`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The layer (0-based).
    pub layer: usize,
    /// The path the walk first read it under.
    pub from: String,
    /// Where a runtime puts it, now its path in the listing and index.
    pub to: String,
}

/// Where an entry is: its layer's position in the listings, and its
/// position in that layer's entries. The index keeps these, never a copy of
/// an entry, so that a walk's memory is the listings and little more.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Slot {
    layer: u32,
    entry: u32,
}

/// The squashed filesystem, over the layer listings it shares with the walk.
#[derive(Debug, Default)]
pub struct FileIndex {
    layers: Arc<Vec<LayerListing>>,
    files: BTreeMap<Box<str>, Slot>,
    /// Entries that did not survive (directories too), sorted by layer
    /// number and path once built, so that [`FileIndex::fate`] is a search.
    shadowed: Vec<(Slot, Fate)>,
    moved_from: HashSet<(usize, String)>,
    max_symlink_depth: usize,
}

fn slot(layer: usize, entry: usize) -> Slot {
    // The walk refuses more entries than fit: see `Limits::max_entries_total`.
    Slot {
        layer: u32::try_from(layer).unwrap_or(u32::MAX),
        entry: u32::try_from(entry).unwrap_or(u32::MAX),
    }
}

/// Where a symlink entry points; `None` for anything else.
fn symlink_target(entry: &Entry) -> Option<&str> {
    (entry.kind == EntryKind::Symlink).then(|| entry.link_target.as_deref().unwrap_or(""))
}

/// The paths of `files` strictly under the directory `dir` (everything for
/// `/`), in order.
fn under_dir<'a>(
    files: &'a BTreeMap<Box<str>, Slot>,
    dir: &str,
) -> impl Iterator<Item = (&'a Box<str>, &'a Slot)> + 'a {
    let prefix = if dir == "/" {
        "/".to_owned()
    } else {
        format!("{}/", dir.trim_end_matches('/'))
    };
    files
        .range::<str, _>((
            std::ops::Bound::Included(prefix.as_str()),
            std::ops::Bound::Unbounded,
        ))
        .take_while(move |(k, _)| k.starts_with(&prefix))
        // The root itself is never an entry of the index (see `build`).
        .filter(|(k, _)| &***k != "/")
}

/// The squashed filesystem while it is built: the listings are still
/// being given their real paths.
struct Builder<'a> {
    layers: &'a mut [LayerListing],
    files: BTreeMap<Box<str>, Slot>,
    shadowed: Vec<(Slot, Fate)>,
}

impl Builder<'_> {
    fn entry(&self, at: Slot) -> &Entry {
        &self.layers[at.layer as usize].entries[at.entry as usize]
    }

    fn link(&self, path: &str) -> Option<&str> {
        symlink_target(self.entry(*self.files.get(path)?))
    }

    /// `path` with its parent directories resolved in the tree so far
    /// (`None`: unchanged).
    fn resolved_parents(&self, path: &str, depth: usize) -> Option<String> {
        match resolve_parents(path, |p| self.link(p), depth)? {
            Cow::Owned(real) => Some(real),
            Cow::Borrowed(_) => None,
        }
    }

    /// `dir` resolved in the tree so far (`None`: unchanged).
    fn resolved_dir(&self, dir: &str, depth: usize) -> Option<String> {
        match resolve_dir(dir, |p| self.link(p), depth)? {
            Cow::Owned(real) => Some(real),
            Cow::Borrowed(_) => None,
        }
    }

    fn shadow(&mut self, at: Slot, fate: Fate) {
        self.shadowed.push((at, fate));
    }

    fn remove_exact(&mut self, path: &str, fate: Fate) {
        if let Some(at) = self.files.remove(path) {
            self.shadow(at, fate);
        }
    }

    fn remove_under(&mut self, dir: &str, fate: Fate) {
        let doomed: Vec<Box<str>> = under_dir(&self.files, dir)
            .map(|(k, _)| k.clone())
            .collect();
        for path in doomed {
            self.remove_exact(&path, fate);
        }
    }
}

impl FileIndex {
    /// Squashes layer listings, base first, as a runtime unpacks them: each
    /// entry's parent directories are resolved through the symlinks of the
    /// layers below and of earlier entries of its own layer, so a layer
    /// cannot hide `/var/lib/dpkg/status` as `/x/status` behind
    /// `x -> /var/lib/dpkg`. Entries so moved get their real path in the
    /// listings and are returned. The index keeps the listings.
    #[must_use]
    pub fn build(mut layers: Vec<LayerListing>, max_symlink_depth: usize) -> (Self, Vec<Moved>) {
        let mut moved = Vec::new();
        let mut moved_from = HashSet::new();
        let mut b = Builder {
            layers: &mut layers,
            files: BTreeMap::new(),
            shadowed: Vec::new(),
        };
        for position in 0..b.layers.len() {
            let by = b.layers[position].index;
            for i in 0..b.layers[position].opaque_dirs.len() {
                let dir = b.layers[position].opaque_dirs[i].clone();
                let dir = b.resolved_dir(&dir, max_symlink_depth).unwrap_or(dir);
                b.remove_under(&dir, Fate::Deleted { by_layer: by });
                b.layers[position].opaque_dirs[i] = dir;
            }
            for i in 0..b.layers[position].whiteouts.len() {
                let path = b.layers[position].whiteouts[i].clone();
                let path = b.resolved_parents(&path, max_symlink_depth).unwrap_or(path);
                b.remove_exact(&path, Fate::Deleted { by_layer: by });
                b.remove_under(&path, Fate::Deleted { by_layer: by });
                b.layers[position].whiteouts[i] = path;
            }
            for i in 0..b.layers[position].entries.len() {
                // The root directory (`./`) is metadata, not a file of the image.
                if b.layers[position].entries[i].path == "/" {
                    continue;
                }
                let real =
                    b.resolved_parents(&b.layers[position].entries[i].path, max_symlink_depth);
                if let Some(real) = real {
                    let from = std::mem::replace(&mut b.layers[position].entries[i].path, real);
                    moved_from.insert((by, from.clone()));
                    moved.push(Moved {
                        layer: by,
                        from,
                        to: b.layers[position].entries[i].path.clone(),
                    });
                }
                let path: Box<str> = b.layers[position].entries[i].path.as_str().into();
                let kind = b.layers[position].entries[i].kind;
                if let Some(&old) = b.files.get(&path) {
                    let old_kind = b.entry(old).kind;
                    let both_dirs =
                        old_kind == EntryKind::Directory && kind == EntryKind::Directory;
                    if !both_dirs {
                        if old_kind == EntryKind::Directory {
                            b.remove_under(&path, Fate::Deleted { by_layer: by });
                            b.files.remove(&path);
                            b.shadow(old, Fate::Deleted { by_layer: by });
                        } else {
                            b.shadow(old, Fate::Overwritten { by_layer: by });
                        }
                    }
                }
                b.files.insert(path, slot(position, i));
            }
        }
        let Builder {
            files,
            mut shadowed,
            ..
        } = b;
        let key = |at: &Slot| {
            let layer = &layers[at.layer as usize];
            (layer.index, layer.entries[at.entry as usize].path.as_str())
        };
        shadowed.sort_by(|(a, _), (b, _)| key(a).cmp(&key(b)));
        let index = Self {
            layers: Arc::new(layers),
            files,
            shadowed,
            moved_from,
            max_symlink_depth,
        };
        (index, moved)
    }

    /// The layer listings, base first.
    #[must_use]
    pub fn layers(&self) -> &Arc<Vec<LayerListing>> {
        &self.layers
    }

    fn at(&self, at: Slot) -> (usize, &Entry) {
        let layer = &self.layers[at.layer as usize];
        (layer.index, &layer.entries[at.entry as usize])
    }

    /// Whether a visitor that was given `path` of `layer` was given a name
    /// the runtime does not use: the entry was moved (see [`Moved`]) and is
    /// offered again under its real path. Results recorded under the old
    /// name are to be dropped.
    #[must_use]
    pub fn was_moved(&self, layer: usize, path: &str) -> bool {
        !self.moved_from.is_empty() && self.moved_from.contains(&(layer, path.to_owned()))
    }

    /// The surviving entry at exactly `path` (no symlink resolution).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<(usize, &Entry)> {
        self.files.get(path).map(|at| self.at(*at))
    }

    /// Every surviving entry, by path.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.files.values().map(|at| self.at(*at))
    }

    /// How many entries survive.
    #[must_use]
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether nothing survives.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// Files added by some layer that are not in the final filesystem
    /// (directories are not listed), by layer and path.
    pub fn shadowed(&self) -> impl Iterator<Item = Shadowed<'_>> {
        self.shadowed.iter().filter_map(|(at, fate)| {
            let (layer, entry) = self.at(*at);
            (entry.kind != EntryKind::Directory).then_some(Shadowed {
                layer,
                entry,
                fate: *fate,
            })
        })
    }

    /// What became of the entry `layer` added at `path` (a directory too).
    #[must_use]
    pub fn fate(&self, layer: usize, path: &str) -> Fate {
        if let Some((l, _)) = self.get(path)
            && l == layer
        {
            return Fate::Present;
        }
        self.shadowed
            .binary_search_by(|(at, _)| {
                let (l, e) = self.at(*at);
                (l, e.path.as_str()).cmp(&(layer, path))
            })
            .map_or(Fate::Present, |i| self.shadowed[i].1)
    }

    /// Where `path` leads after following symlinks in every component (the
    /// last one included), whether or not anything is there; `None` when
    /// links loop.
    #[must_use]
    pub fn real_path(&self, path: &str) -> Option<String> {
        let link = |p: &str| symlink_target(self.get(p)?.1);
        resolve_dir(path, link, self.max_symlink_depth).map(Cow::into_owned)
    }

    /// Every surviving entry strictly under the directory `dir`.
    pub fn under<'a>(&'a self, dir: &str) -> impl Iterator<Item = (usize, &'a Entry)> + 'a {
        under_dir(&self.files, dir).map(|(_, at)| self.at(*at))
    }

    /// Resolves `path` through symlinks in every component, as the kernel
    /// would inside the image root (`..` stops at `/`; tars may omit parent
    /// directories, so a missing component is an implicit directory).
    /// `None` when the path does not exist, or links loop or nest deeper
    /// than the limit.
    #[must_use]
    pub fn resolve(&self, path: &str) -> Option<Resolved<'_>> {
        let (layer, entry) = self.get(&self.real_path(path)?)?;
        Some(Resolved { layer, entry })
    }
}
