//! The squashed view of an image: which file survives at each path, which
//! layer put it there, and what became of every file that did not survive.
//!
//! Rules from the OCI layer spec: a layer's opaque directories and whiteouts
//! apply to the layers below it only, then its own entries are added; a later
//! entry at the same path replaces the earlier one.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use serde::Serialize;

use crate::entry::{Entry, EntryKind};
use crate::path::{join, parent, resolve_dir, resolve_parents};
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
#[derive(Debug, Clone, Serialize)]
pub struct Shadowed {
    /// The layer that added it.
    pub layer: usize,
    /// The entry.
    pub entry: Entry,
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

/// An entry that a runtime unpacks somewhere else than its name says,
/// because a parent directory is a symlink made by a lower layer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Moved {
    /// The layer (0-based).
    pub layer: usize,
    /// The path the walk first read it under.
    pub from: String,
    /// Where a runtime puts it, now its path in the listing and index.
    pub to: String,
}

/// The squashed filesystem.
#[derive(Debug, Default)]
pub struct FileIndex {
    files: BTreeMap<String, (usize, Entry)>,
    shadowed: Vec<Shadowed>,
    fates: HashMap<(usize, String), Fate>,
    moved_from: HashSet<(usize, String)>,
    max_symlink_depth: usize,
}

impl FileIndex {
    /// Squashes layer listings, base first, as a runtime unpacks them: each
    /// entry's parent directories are resolved through the symlinks of the
    /// layers below and of earlier entries of its own layer, so a layer
    /// cannot hide `/var/lib/dpkg/status` as `/x/status` behind
    /// `x -> /var/lib/dpkg`. Entries so moved get their real path in the
    /// listings and are returned.
    #[must_use]
    pub fn build(layers: &mut [LayerListing], max_symlink_depth: usize) -> (Self, Vec<Moved>) {
        let mut index = Self {
            max_symlink_depth,
            ..Self::default()
        };
        let mut moved = Vec::new();
        for layer in layers {
            let by = layer.index;
            for dir in &mut layer.opaque_dirs {
                if let Some(Cow::Owned(real)) = resolve_dir(dir, index.links(), max_symlink_depth) {
                    *dir = real;
                }
                index.remove_under(dir, Fate::Deleted { by_layer: by });
            }
            for path in &mut layer.whiteouts {
                if let Some(Cow::Owned(real)) =
                    resolve_parents(path, index.links(), max_symlink_depth)
                {
                    *path = real;
                }
                index.remove_exact(path, Fate::Deleted { by_layer: by });
                index.remove_under(path, Fate::Deleted { by_layer: by });
            }
            // The root directory (`./`) is metadata, not a file of the image.
            for entry in layer.entries.iter_mut().filter(|e| e.path != "/") {
                if let Some(Cow::Owned(real)) =
                    resolve_parents(&entry.path, index.links(), max_symlink_depth)
                {
                    let from = std::mem::replace(&mut entry.path, real);
                    index.moved_from.insert((by, from.clone()));
                    moved.push(Moved {
                        layer: by,
                        from,
                        to: entry.path.clone(),
                    });
                }
                if let Some((old_layer, old)) = index.files.get(&entry.path) {
                    let both_dirs =
                        old.kind == EntryKind::Directory && entry.kind == EntryKind::Directory;
                    if !both_dirs {
                        let (old_layer, old) = (*old_layer, old.clone());
                        if old.kind == EntryKind::Directory {
                            index.remove_under(&entry.path, Fate::Deleted { by_layer: by });
                        } else {
                            index.shadow(old_layer, old, Fate::Overwritten { by_layer: by });
                        }
                    }
                }
                index.files.insert(entry.path.clone(), (by, entry.clone()));
            }
        }
        (index, moved)
    }

    /// The symlinks of the filesystem built so far, for path resolution.
    fn links<'s>(&'s self) -> impl Fn(&str) -> Option<&'s str> + 's {
        |path| match self.files.get(path) {
            Some((_, e)) if e.kind == EntryKind::Symlink => e.link_target.as_deref(),
            _ => None,
        }
    }

    /// Whether a visitor that was given `path` of `layer` was given a name
    /// the runtime does not use: the entry was moved (see [`Moved`]) and is
    /// offered again under its real path. Results recorded under the old
    /// name are to be dropped.
    #[must_use]
    pub fn was_moved(&self, layer: usize, path: &str) -> bool {
        !self.moved_from.is_empty() && self.moved_from.contains(&(layer, path.to_owned()))
    }

    fn shadow(&mut self, layer: usize, entry: Entry, fate: Fate) {
        // A deleted directory has a fate too (`files --all-layers` shows
        // it), but only files are listed as shadowed content.
        self.fates.insert((layer, entry.path.clone()), fate);
        if entry.kind == EntryKind::Directory {
            return;
        }
        self.shadowed.push(Shadowed { layer, entry, fate });
    }

    fn remove_exact(&mut self, path: &str, fate: Fate) {
        if let Some((layer, entry)) = self.files.remove(path) {
            self.shadow(layer, entry, fate);
        }
    }

    fn remove_under(&mut self, dir: &str, fate: Fate) {
        let prefix = if dir == "/" {
            "/".to_owned()
        } else {
            format!("{dir}/")
        };
        let doomed: Vec<String> = self
            .files
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(k, _)| k.clone())
            .collect();
        for path in doomed {
            if path == "/" {
                continue;
            }
            self.remove_exact(&path, fate);
        }
    }

    /// The surviving entry at exactly `path` (no symlink resolution).
    #[must_use]
    pub fn get(&self, path: &str) -> Option<(usize, &Entry)> {
        self.files.get(path).map(|(l, e)| (*l, e))
    }

    /// Every surviving entry, by path.
    pub fn iter(&self) -> impl Iterator<Item = (usize, &Entry)> {
        self.files.values().map(|(l, e)| (*l, e))
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

    /// Files added by some layer that are not in the final filesystem.
    #[must_use]
    pub fn shadowed(&self) -> &[Shadowed] {
        &self.shadowed
    }

    /// What became of the file `layer` added at `path`.
    #[must_use]
    pub fn fate(&self, layer: usize, path: &str) -> Fate {
        match self.files.get(path) {
            Some((l, _)) if *l == layer => Fate::Present,
            _ => self
                .fates
                .get(&(layer, path.to_owned()))
                .copied()
                .unwrap_or(Fate::Present),
        }
    }

    /// Resolves `path` through symlinks in every component, as the kernel
    /// would inside the image root (`..` stops at `/`). `None` when the path
    /// does not exist, or links loop or nest deeper than the limit.
    #[must_use]
    pub fn resolve(&self, path: &str) -> Option<Resolved<'_>> {
        let mut pending: Vec<String> = path
            .split('/')
            .filter(|p| !p.is_empty())
            .rev()
            .map(str::to_owned)
            .collect();
        let mut current = String::from("/");
        let mut hops = 0;
        while let Some(part) = pending.pop() {
            let candidate = match part.as_str() {
                "." => continue,
                ".." => {
                    current = parent(&current).to_owned();
                    continue;
                }
                p if current == "/" => format!("/{p}"),
                p => format!("{current}/{p}"),
            };
            let Some((_, entry)) = self.files.get(&candidate) else {
                // Tars may omit parent directories: a missing component is an
                // implicit directory; a missing final component is not found.
                if pending.is_empty() {
                    return None;
                }
                current = candidate;
                continue;
            };
            if entry.kind == EntryKind::Symlink {
                hops += 1;
                if hops > self.max_symlink_depth {
                    return None;
                }
                let target = entry.link_target.as_deref().unwrap_or("");
                let (joined, _) = join(parent(&candidate), target);
                current = "/".to_owned();
                for p in joined.split('/').filter(|p| !p.is_empty()).rev() {
                    pending.push(p.to_owned());
                }
            } else {
                current = candidate;
            }
        }
        let (layer, entry) = self.files.get(&current)?;
        Some(Resolved {
            layer: *layer,
            entry,
        })
    }
}
