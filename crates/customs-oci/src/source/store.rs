//! Random access to the files of a directory or of a tar archive, so that an
//! OCI layout reads the same whether it is unpacked (`oci:`) or archived
//! (`oci-archive:`, `docker-archive:`). Archives are indexed once; each file
//! is then read straight from its offset, never extracted.

use std::collections::HashMap;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::SourceError;
use crate::limits::Limits;

/// A boxed, sendable reader.
pub type BoxRead = Box<dyn Read + Send>;

/// Files addressed by their slash-separated path inside a directory or archive.
#[derive(Debug, Clone)]
pub(crate) enum Store {
    Dir(PathBuf),
    Tar(Arc<TarIndex>),
}

#[derive(Debug)]
pub(crate) struct TarIndex {
    path: PathBuf,
    entries: HashMap<String, TarEntry>,
}

#[derive(Debug, Clone)]
enum TarEntry {
    File { offset: u64, size: u64 },
    Symlink(String),
}

/// `a/./b/../c` → `a/c`; `None` when the path climbs out of the root.
pub(crate) fn clean(path: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            p => parts.push(p),
        }
    }
    Some(parts.join("/"))
}

impl Store {
    pub(crate) fn describe(&self) -> String {
        match self {
            Self::Dir(p) => p.display().to_string(),
            Self::Tar(t) => t.path.display().to_string(),
        }
    }

    pub(crate) fn open_dir(path: &Path) -> Result<Self, SourceError> {
        let meta = fs_err::metadata(path).map_err(|e| SourceError::open_path(path, e))?;
        if !meta.is_dir() {
            return Err(SourceError::malformed(
                path.display().to_string(),
                "is not a directory",
            ));
        }
        Ok(Self::Dir(path.to_owned()))
    }

    /// Indexes a tar archive's regular files and symlinks.
    pub(crate) fn open_tar(path: &Path, limits: &Limits) -> Result<Self, SourceError> {
        let what = path.display().to_string();
        let file = fs_err::File::open(path).map_err(|e| SourceError::open_path(path, e))?;
        let mut archive = tar::Archive::new(io::BufReader::new(file));
        let mut entries = HashMap::new();
        let iter = archive.entries().map_err(|e| SourceError::read(&what, e))?;
        for entry in iter {
            let entry = entry.map_err(|e| SourceError::read(format!("{what} (tar header)"), e))?;
            if entries.len() as u64 >= limits.max_entries_per_layer {
                return Err(SourceError::malformed(&what, "has too many entries"));
            }
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let Some(name) = clean(&name) else {
                return Err(SourceError::malformed(
                    &what,
                    format!("entry `{name}` points outside the archive"),
                ));
            };
            let kind = entry.header().entry_type();
            if kind.is_file() || kind == tar::EntryType::Continuous {
                let size = entry.size();
                entries.insert(
                    name,
                    TarEntry::File {
                        offset: entry.raw_file_position(),
                        size,
                    },
                );
            } else if kind.is_symlink() || kind.is_hard_link() {
                let target = entry
                    .link_name_bytes()
                    .map(|b| String::from_utf8_lossy(&b).into_owned())
                    .unwrap_or_default();
                let dir = name.rsplit_once('/').map_or("", |(d, _)| d);
                let joined = if kind.is_hard_link() || target.starts_with('/') {
                    target.trim_start_matches('/').to_owned()
                } else {
                    format!("{dir}/{target}")
                };
                if let Some(resolved) = clean(&joined) {
                    entries.insert(name, TarEntry::Symlink(resolved));
                }
            }
        }
        Ok(Self::Tar(Arc::new(TarIndex {
            path: path.to_owned(),
            entries,
        })))
    }

    /// Opens a file and returns it with its size.
    pub(crate) fn open(&self, name: &str) -> Result<Option<(BoxRead, u64)>, SourceError> {
        match self {
            Self::Dir(root) => {
                let Some(name) = clean(name) else {
                    return Ok(None);
                };
                let path = root.join(&name);
                // Refuse symlinks inside a layout: blobs must be files of the layout.
                match fs_err::symlink_metadata(&path) {
                    Ok(meta) if meta.is_file() => {
                        let file = fs_err::File::open(&path)
                            .map_err(|e| SourceError::read(path.display().to_string(), e))?;
                        Ok(Some((
                            Box::new(io::BufReader::with_capacity(256 * 1024, file)),
                            meta.len(),
                        )))
                    }
                    Ok(_) => Err(SourceError::malformed(
                        path.display().to_string(),
                        "is not a regular file",
                    )),
                    Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(SourceError::read(path.display().to_string(), e)),
                }
            }
            Self::Tar(index) => {
                let Some(mut name) = clean(name) else {
                    return Ok(None);
                };
                for _ in 0..16 {
                    match index.entries.get(&name) {
                        None => return Ok(None),
                        Some(TarEntry::Symlink(target)) => name.clone_from(target),
                        Some(TarEntry::File { offset, size }) => {
                            let what = index.path.display().to_string();
                            let mut file = fs_err::File::open(&index.path)
                                .map_err(|e| SourceError::read(&what, e))?;
                            file.seek(SeekFrom::Start(*offset))
                                .map_err(|e| SourceError::read(&what, e))?;
                            let reader = io::BufReader::with_capacity(256 * 1024, file).take(*size);
                            return Ok(Some((Box::new(reader), *size)));
                        }
                    }
                }
                Err(SourceError::malformed(
                    index.path.display().to_string(),
                    format!("symlink loop at `{name}`"),
                ))
            }
        }
    }

    /// Reads a whole small file, refusing one over `limit` bytes.
    pub(crate) fn read_small(
        &self,
        name: &str,
        limit: u64,
    ) -> Result<Option<Vec<u8>>, SourceError> {
        let Some((reader, size)) = self.open(name)? else {
            return Ok(None);
        };
        let what = format!("{}/{name}", self.describe());
        if size > limit {
            return Err(SourceError::too_large(what, limit));
        }
        let mut out = Vec::new();
        reader
            .take(limit + 1)
            .read_to_end(&mut out)
            .map_err(|e| SourceError::read(&what, e))?;
        Ok(Some(out))
    }
}
