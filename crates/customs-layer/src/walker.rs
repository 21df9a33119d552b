//! The layer walk: every layer decompressed once, its tar read once, layers
//! in parallel, visitors fed only the files they asked for.

use std::cell::Cell;
use std::collections::{HashMap, HashSet};
use std::io::{self, BufRead, BufReader, Read, Seek, Write as _};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use customs_oci::media_type::Compression;
use customs_oci::{AnySource, BoxRead, Image, IntegrityError, Limits, SourceError};
use customs_types::{Digest, Hasher};
use serde::Serialize;

use crate::entry::{Entry, EntryKind, FileEvent};
use crate::path::{normalize, parent, resolve_parents};
use crate::selector::Selector;
use crate::squash::{FileIndex, Moved};

/// Bytes a tar parser may read between two entries (headers, GNU long
/// names, PAX records). Real archives use a few KiB; more is an attack.
const METADATA_BUDGET: u64 = 1 << 20;
/// Files larger than this are spooled to a temporary file, not memory, when
/// several visitors want them.
const SPOOL_IN_MEMORY: usize = 32 << 20;

/// An analyzer that reads some files of every layer.
pub trait FileVisitor: Sync {
    /// A stable kebab-case name, used in warnings.
    fn name(&self) -> &'static str;
    /// The files it wants.
    fn selector(&self) -> &Selector;
    /// Reads one file. An `Err` is a soft failure of this visitor on this
    /// file (recorded as a warning naming it); a failure of the layer stream
    /// itself aborts the walk whatever the visitor returns.
    ///
    /// # Errors
    /// The visitor's own message for a file it could not use.
    fn visit(&self, event: &FileEvent<'_>, content: &mut dyn Read) -> Result<(), String>;
    /// Whether, having seen the first [`HEAD_BYTES`] of a file it selected
    /// (all of it, if shorter), it still wants the file. Asked only when
    /// several visitors want one file: a visitor declining it (a text
    /// scanner seeing a binary) spares the walk a copy of the whole file
    /// for the others, and is not visited.
    fn wants_content(&self, _event: &FileEvent<'_>, _head: &[u8]) -> bool {
        true
    }
}

/// How much of a file [`FileVisitor::wants_content`] sees.
pub const HEAD_BYTES: usize = 8192;

/// Why a walk failed. A failed walk produces no result at all.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WalkError {
    /// The source failed (missing blob, integrity).
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A blob failed verification.
    #[error(transparent)]
    Integrity(#[from] IntegrityError),
    /// The layer could not be decompressed or is not a valid tar.
    #[error("cannot read {what}")]
    Layer {
        /// Names the layer.
        what: String,
        /// The decompression or tar error.
        #[source]
        source: io::Error,
    },
    /// The layers decompress to more than the limit (a decompression bomb?).
    #[error(
        "the layers of {image} decompress to more than {limit} bytes (raise the limit with --max-uncompressed-size)"
    )]
    UncompressedTooLarge {
        /// The image.
        image: String,
        /// The limit.
        limit: u64,
    },
    /// A tar header, long name or PAX record is implausibly large.
    #[error("{what}: a tar header, long name or PAX record is larger than {METADATA_BUDGET} bytes")]
    MetadataTooLarge {
        /// Names the layer.
        what: String,
    },
    /// The layers together have more entries than the limit.
    #[error(
        "the layers of {image} have more than {limit} entries in all (raise the limit with --max-entries)"
    )]
    TooManyEntriesTotal {
        /// The image.
        image: String,
        /// The limit.
        limit: u64,
    },
    /// A layer has more entries than the limit.
    #[error("{what} has more than {limit} entries")]
    TooManyEntries {
        /// Names the layer.
        what: String,
        /// The limit.
        limit: u64,
    },
    /// An entry's path is longer than any real filesystem allows.
    #[error("{what}: an entry's path is longer than {limit} bytes (starts `{start}`)")]
    PathTooLong {
        /// Names the layer.
        what: String,
        /// The limit.
        limit: usize,
        /// The first characters of the path.
        start: String,
    },
    /// The root filesystem directory could not be read.
    #[error("cannot read {path}")]
    RootFs {
        /// The file or directory.
        path: String,
        /// The I/O error.
        #[source]
        source: io::Error,
    },
}

/// Something odd that did not stop the walk; always reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WalkWarning {
    /// The layer (0-based).
    pub layer: usize,
    /// The entry's path.
    pub path: String,
    /// What happened.
    pub message: String,
}

/// What one layer contained.
#[derive(Debug, Clone, Serialize)]
pub struct LayerListing {
    /// Position, base first (0-based).
    pub index: usize,
    /// The blob digest (`None` for a root filesystem directory).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<Digest>,
    /// Size of the blob as stored.
    pub stored_size: u64,
    /// Size of the uncompressed tar stream.
    pub uncompressed_size: u64,
    /// The entries, in tar order, without whiteout markers.
    pub entries: Vec<Entry>,
    /// Paths this layer deletes from lower layers (`.wh.NAME`).
    pub whiteouts: Vec<String>,
    /// Directories whose lower-layer contents this layer hides (`.wh..wh..opq`).
    pub opaque_dirs: Vec<String>,
}

/// The result of a walk.
#[derive(Debug)]
pub struct Walk {
    /// Every layer's listing, base first (shared with the index).
    pub layers: std::sync::Arc<Vec<LayerListing>>,
    /// The squashed view.
    pub index: FileIndex,
    /// Everything odd, by layer.
    pub warnings: Vec<WalkWarning>,
}

/// Walks layers under [`Limits`].
#[derive(Debug, Clone)]
pub struct LayerWalker {
    limits: Limits,
    threads: usize,
}

/// One layer to walk.
pub struct LayerInput<'a> {
    index: usize,
    digest: Option<Digest>,
    /// The config's `rootfs.diff_ids` entry: the digest of the uncompressed
    /// tar stream, checked as it is read (containerd refuses a mismatch).
    diff_id: Option<Digest>,
    stored_size: u64,
    what: String,
    open: Box<dyn Fn() -> Result<BoxRead, SourceError> + Sync + 'a>,
}

impl<'a> LayerInput<'a> {
    /// A layer stream that is not part of an image (tests, fuzzing, tools):
    /// `open` yields the stored blob, compressed or not.
    pub fn new(
        index: usize,
        what: impl Into<String>,
        stored_size: u64,
        open: impl Fn() -> Result<BoxRead, SourceError> + Sync + 'a,
    ) -> Self {
        Self {
            index,
            digest: None,
            diff_id: None,
            stored_size,
            what: what.into(),
            open: Box::new(open),
        }
    }
}

#[derive(Debug, thiserror::Error)]
enum MeterError {
    #[error("uncompressed size limit reached")]
    Uncompressed,
    #[error("tar metadata budget exceeded")]
    Metadata,
}

/// Counts decompressed bytes against the image-wide limit and bounds what
/// the tar parser may read between entries.
struct Meter<'a, R> {
    inner: R,
    /// Hashes the uncompressed stream when its diff ID is to be checked.
    hasher: Option<Hasher>,
    total: &'a AtomicU64,
    limit: u64,
    read: Rc<Cell<u64>>,
    armed_at: Rc<Cell<Option<u64>>>,
}

impl<R: Read> Read for Meter<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(hasher) = &mut self.hasher {
            hasher.update(&buf[..n]);
        }
        let read = self.read.get() + n as u64;
        self.read.set(read);
        if self.total.fetch_add(n as u64, Ordering::Relaxed) + n as u64 > self.limit {
            return Err(io::Error::other(MeterError::Uncompressed));
        }
        if self
            .armed_at
            .get()
            .is_some_and(|start| read - start > METADATA_BUDGET)
        {
            return Err(io::Error::other(MeterError::Metadata));
        }
        Ok(n)
    }
}

/// Remembers the first error of the layer stream while a visitor reads, so
/// a visitor cannot swallow a corrupt layer.
struct Guarded<'a> {
    inner: &'a mut dyn Read,
    failure: &'a mut Option<io::Error>,
}

impl Read for Guarded<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).inspect_err(|e| {
            if self.failure.is_none() {
                *self.failure = Some(clone_io_error(e));
            }
        })
    }
}

fn clone_io_error(e: &io::Error) -> io::Error {
    if let Some(integrity) = e.get_ref().and_then(|i| i.downcast_ref::<IntegrityError>()) {
        return io::Error::new(e.kind(), integrity.clone());
    }
    if let Some(meter) = e.get_ref().and_then(|i| i.downcast_ref::<MeterError>()) {
        return io::Error::other(match meter {
            MeterError::Uncompressed => MeterError::Uncompressed,
            MeterError::Metadata => MeterError::Metadata,
        });
    }
    io::Error::new(e.kind(), e.to_string())
}

struct LayerContext<'a> {
    input: &'a LayerInput<'a>,
    /// Entries listed so far by every layer of the walk.
    entries: &'a AtomicU64,
    /// Check the diff ID (the first pass over a layer; later passes read
    /// the same verified blob again).
    check_diff_id: bool,
    visitors: &'a [&'a dyn FileVisitor],
    total: &'a AtomicU64,
    abort: &'a AtomicBool,
    image: &'a str,
}

impl LayerWalker {
    /// A walker using every core.
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Self { limits, threads }
    }

    /// Uses at most `threads` threads.
    #[must_use]
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Walks every layer of `image` from `source`.
    ///
    /// # Errors
    /// [`WalkError`] on the first integrity, format or limit failure; a
    /// failed walk returns nothing, never a partial result.
    pub fn walk_image(
        &self,
        source: &AnySource,
        image: &Image,
        visitors: &[&dyn FileVisitor],
    ) -> Result<Walk, WalkError> {
        let layers = image.layers();
        let inputs: Vec<LayerInput<'_>> = layers
            .iter()
            .map(|layer| LayerInput {
                index: layer.index,
                digest: Some(layer.descriptor.digest.clone()),
                diff_id: layer.diff_id.clone(),
                stored_size: layer.descriptor.size,
                what: format!(
                    "layer {} ({}) of {}",
                    layer.index + 1,
                    layer.descriptor.digest,
                    image.name
                ),
                open: Box::new(move || source.open_layer(image, layer)),
            })
            .collect();
        self.walk_inputs(&inputs, visitors, &image.name)
    }

    /// Walks arbitrary layer streams (each `open` yields the stored blob,
    /// verifying itself). Used by tests and benchmarks.
    ///
    /// # Errors
    /// As [`LayerWalker::walk_image`].
    pub fn walk_inputs(
        &self,
        inputs: &[LayerInput<'_>],
        visitors: &[&dyn FileVisitor],
        image: &str,
    ) -> Result<Walk, WalkError> {
        let total = AtomicU64::new(0);
        let entries = AtomicU64::new(0);
        let abort = AtomicBool::new(false);
        let results: Mutex<Vec<Option<LayerResult>>> =
            Mutex::new((0..inputs.len()).map(|_| None).collect());
        // Biggest first, so the longest layer starts at once.
        let mut order: Vec<usize> = (0..inputs.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(inputs[i].stored_size));
        let next = AtomicU64::new(0);
        std::thread::scope(|scope| {
            for _ in 0..self.threads.min(inputs.len()) {
                scope.spawn(|| {
                    loop {
                        let slot = usize::try_from(next.fetch_add(1, Ordering::Relaxed))
                            .unwrap_or(usize::MAX);
                        let Some(&i) = order.get(slot) else { break };
                        if abort.load(Ordering::Relaxed) {
                            break;
                        }
                        let ctx = LayerContext {
                            input: &inputs[i],
                            entries: &entries,
                            check_diff_id: true,
                            visitors,
                            total: &total,
                            abort: &abort,
                            image,
                        };
                        let result = self.walk_layer(&ctx);
                        if result.is_err() {
                            abort.store(true, Ordering::Relaxed);
                        }
                        if let Ok(mut results) = results.lock() {
                            results[i] = Some(result);
                        }
                    }
                });
            }
        });
        let results = results.into_inner().unwrap_or_default();
        let mut layers = Vec::with_capacity(inputs.len());
        let mut warnings = Vec::new();
        let mut first_error = None;
        for result in results {
            match result {
                Some(Ok((listing, w))) => {
                    layers.push(listing);
                    warnings.extend(w);
                }
                // Report the lowest layer that failed for real, not one that
                // stopped because another failed.
                Some(Err(e)) if first_error.is_none() && !e.is_abort() => first_error = Some(e),
                Some(Err(_)) | None => {}
            }
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        let (index, moved) = FileIndex::build(layers, self.limits.max_symlink_depth);
        // Files the visitors are to see under another name than the walk
        // gave them: one more read of each layer concerned, whatever the
        // reasons.
        let mut offers: HashMap<usize, Vec<(Vec<usize>, Entry)>> = HashMap::new();
        moved_offers(visitors, &moved, index.layers(), &mut offers, &mut warnings);
        for (v, layer, alias) in aliases(visitors, &index, &mut warnings) {
            offers.entry(layer).or_default().push((vec![v], alias));
        }
        if !offers.is_empty() {
            self.reread(inputs, visitors, image, offers, &mut warnings)?;
        }
        Ok(Walk {
            layers: std::sync::Arc::clone(index.layers()),
            index,
            warnings,
        })
    }

    /// Reads layers once more to offer files under other names: each
    /// `(visitors, entry)` is a link named as the visitors are to see it,
    /// to the path the layer holds the content under.
    fn reread(
        &self,
        inputs: &[LayerInput<'_>],
        visitors: &[&dyn FileVisitor],
        image: &str,
        by_layer: HashMap<usize, Vec<(Vec<usize>, Entry)>>,
        warnings: &mut Vec<WalkWarning>,
    ) -> Result<(), WalkError> {
        let total = AtomicU64::new(0);
        // Second reads list nothing new.
        let entries = AtomicU64::new(0);
        let abort = AtomicBool::new(false);
        for (layer, deferred) in by_layer {
            let Some(input) = inputs.iter().find(|i| i.index == layer) else {
                continue;
            };
            let ctx = LayerContext {
                input,
                entries: &entries,
                check_diff_id: false,
                visitors,
                total: &total,
                abort: &abort,
                image,
            };
            self.read_hardlink_targets(&ctx, &deferred, warnings)?;
        }
        Ok(())
    }

    fn walk_layer(
        &self,
        ctx: &LayerContext<'_>,
    ) -> Result<(LayerListing, Vec<WalkWarning>), WalkError> {
        let input = ctx.input;
        let mut warnings = Vec::new();
        let mut deferred: Vec<(Vec<usize>, Entry)> = Vec::new();
        let mut delivered: HashSet<(usize, String)> = HashSet::new();
        let mut raw = (input.open)()?;
        let mut listing = LayerListing {
            index: input.index,
            digest: input.digest.clone(),
            stored_size: input.stored_size,
            uncompressed_size: 0,
            entries: Vec::new(),
            whiteouts: Vec::new(),
            opaque_dirs: Vec::new(),
        };
        let read = Rc::new(Cell::new(0));
        let result = self.read_tar(
            ctx,
            &mut raw,
            &read,
            &mut |entry, content, warnings_out| {
                on_entry(
                    ctx,
                    entry,
                    content,
                    &mut listing,
                    &mut deferred,
                    &mut delivered,
                    warnings_out,
                )
            },
            &mut warnings,
        );
        result.map_err(|e| map_error(e, &input.what, ctx, &self.limits))?;
        // Read to the end of the stored blob: that is where its digest is checked.
        io::copy(&mut raw, &mut io::sink())
            .map_err(|e| map_error(e, &input.what, ctx, &self.limits))?;
        listing.uncompressed_size = read.get();
        if !deferred.is_empty() {
            self.read_hardlink_targets(ctx, &deferred, &mut warnings)?;
        }
        Ok((listing, warnings))
    }

    /// Decompresses and parses one layer stream, calling `on` for each entry
    /// with its content stream, then drains the stream to its end.
    fn read_tar(
        &self,
        ctx: &LayerContext<'_>,
        raw: &mut BoxRead,
        read: &Rc<Cell<u64>>,
        on: &mut EntryHandler<'_>,
        warnings: &mut Vec<WalkWarning>,
    ) -> io::Result<()> {
        let input = ctx.input;
        let mut buffered = BufReader::with_capacity(256 * 1024, raw);
        let compression = Compression::sniff(buffered.fill_buf()?).unwrap_or(Compression::None);
        let decoder: Box<dyn Read + '_> = match compression {
            Compression::Gzip => Box::new(customs_oci::decompress::gzip(&mut buffered)),
            Compression::Zstd => Box::new(customs_oci::decompress::zstd(&mut buffered)?),
            _ => Box::new(&mut buffered),
        };
        let armed_at = Rc::new(Cell::new(None));
        // An uncompressed blob whose digest is its diff ID was verified as
        // it was read; any other needs the uncompressed stream hashed.
        let diff_id = input.diff_id.as_ref().filter(|d| {
            ctx.check_diff_id
                && !(compression == Compression::None && input.digest.as_ref() == Some(*d))
        });
        let meter = Meter {
            inner: decoder,
            hasher: diff_id.map(|d| Hasher::new(d.algorithm())),
            total: ctx.total,
            limit: self.limits.max_uncompressed_bytes,
            read: Rc::clone(read),
            armed_at: Rc::clone(&armed_at),
        };
        let mut archive = tar::Archive::new(meter);
        let mut entries = archive.entries()?;
        let mut count: u64 = 0;
        // This layer's symlinks so far: a later entry under one of them is
        // unpacked through it, as a runtime would (lower layers' links are
        // applied when the layers are squashed).
        let mut links: HashMap<String, String> = HashMap::new();
        loop {
            if ctx.abort.load(Ordering::Relaxed) {
                return Err(io::Error::other(Aborted));
            }
            armed_at.set(Some(read.get()));
            let next = entries.next();
            armed_at.set(None);
            let Some(entry) = next else { break };
            let mut entry = entry?;
            count += 1;
            if count > self.limits.max_entries_per_layer {
                return Err(io::Error::other(TooMany));
            }
            if ctx.entries.fetch_add(1, Ordering::Relaxed) >= self.limits.max_entries_total {
                return Err(io::Error::other(TooManyInAll));
            }
            let name = entry.path_bytes();
            if name.len() > self.limits.max_path_bytes {
                let start: String =
                    String::from_utf8_lossy(&name[..64.min(name.len())]).into_owned();
                return Err(io::Error::other(PathTooLong(start)));
            }
            let name = String::from_utf8_lossy(&name).into_owned();
            let (path, escaped) = normalize(&name);
            if escaped {
                warnings.push(WalkWarning {
                    layer: input.index,
                    path: path.clone(),
                    message: format!("entry name `{name}` climbs above the root; read as `{path}`"),
                });
            }
            let resolved = resolve_parents(
                &path,
                |p| links.get(p).map(String::as_str),
                self.limits.max_symlink_depth,
            )
            .map(|c| match c {
                std::borrow::Cow::Owned(real) => Some(real),
                std::borrow::Cow::Borrowed(_) => None,
            });
            let path = match resolved {
                Some(None) => path,
                Some(Some(real)) => {
                    warnings.push(WalkWarning {
                        layer: input.index,
                        path: real.clone(),
                        message: format!(
                            "`{name}` is under a symlink of its layer: a runtime unpacks it at `{real}`"
                        ),
                    });
                    real
                }
                None => {
                    warnings.push(WalkWarning {
                        layer: input.index,
                        path: path.clone(),
                        message: format!(
                            "the parent directories of `{name}` are symlinks that loop or nest deeper than {}",
                            self.limits.max_symlink_depth
                        ),
                    });
                    path
                }
            };
            let header = entry.header();
            let kind = match header.entry_type() {
                tar::EntryType::Regular
                | tar::EntryType::Continuous
                | tar::EntryType::GNUSparse => EntryKind::File,
                tar::EntryType::Directory => EntryKind::Directory,
                tar::EntryType::Symlink => EntryKind::Symlink,
                tar::EntryType::Link => EntryKind::Hardlink,
                tar::EntryType::Char => EntryKind::CharDevice,
                tar::EntryType::Block => EntryKind::BlockDevice,
                tar::EntryType::Fifo => EntryKind::Fifo,
                tar::EntryType::XGlobalHeader => continue,
                other => {
                    warnings.push(WalkWarning {
                        layer: input.index,
                        path,
                        message: format!("entry of unknown tar type {:?} skipped", other.as_byte()),
                    });
                    continue;
                }
            };
            let link_target = match kind {
                EntryKind::Symlink | EntryKind::Hardlink => entry.link_name_bytes().map(|b| {
                    let target = String::from_utf8_lossy(&b).into_owned();
                    if kind == EntryKind::Hardlink {
                        normalize(&target).0
                    } else {
                        target
                    }
                }),
                _ => None,
            };
            let size = if kind == EntryKind::File {
                entry.size()
            } else {
                0
            };
            if kind == EntryKind::Symlink {
                links.insert(path.clone(), link_target.clone().unwrap_or_default());
            } else if !links.is_empty() {
                links.remove(&path);
            }
            let mode = header.mode().unwrap_or(0);
            let uid = header.uid().unwrap_or(0);
            let gid = header.gid().unwrap_or(0);
            let record = Entry {
                path,
                kind,
                size,
                mode,
                uid,
                gid,
                link_target,
            };
            on(record, &mut entry, warnings)?;
            // Whatever the visitors left unread is read here, not by the
            // parser, so the parser's budget only covers metadata.
            io::copy(&mut entry, &mut io::sink())?;
        }
        let mut meter = archive.into_inner();
        io::copy(&mut meter, &mut io::sink())?;
        if let (Some(expected), Some(hasher)) = (diff_id, meter.hasher.take()) {
            let actual = hasher.finish();
            if actual != *expected {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    IntegrityError::DigestMismatch {
                        what: format!(
                            "{}: the uncompressed layer does not match the config's diff_id",
                            input.what
                        ),
                        expected: expected.clone(),
                        actual,
                    },
                ));
            }
        }
        drop(meter);
        io::copy(&mut buffered, &mut io::sink())?;
        Ok(())
    }

    /// A second pass over layers whose wanted files are hard links: read
    /// each link's target and offer it under the link's path.
    fn read_hardlink_targets(
        &self,
        ctx: &LayerContext<'_>,
        deferred: &[(Vec<usize>, Entry)],
        warnings: &mut Vec<WalkWarning>,
    ) -> Result<(), WalkError> {
        let mut by_target: HashMap<String, Vec<&(Vec<usize>, Entry)>> = HashMap::new();
        for item in deferred {
            if let Some(target) = &item.1.link_target {
                by_target.entry(target.clone()).or_default().push(item);
            }
        }
        let mut found: HashSet<String> = HashSet::new();
        let mut soft: Vec<WalkWarning> = Vec::new();
        let mut raw = (ctx.input.open)()?;
        let read = Rc::new(Cell::new(0));
        // The first pass already counted this layer against the image-wide limit.
        let total = AtomicU64::new(0);
        let entries = AtomicU64::new(0);
        let second = LayerContext {
            total: &total,
            entries: &entries,
            check_diff_id: false,
            ..*ctx
        };
        self.read_tar(
            &second,
            &mut raw,
            &read,
            &mut |entry, content, _| {
                if entry.kind != EntryKind::File {
                    return Ok(());
                }
                let Some(links) = by_target.get(&entry.path) else {
                    return Ok(());
                };
                found.insert(entry.path.clone());
                let as_file = |link: &Entry| Entry {
                    kind: EntryKind::File,
                    size: entry.size,
                    link_target: None,
                    ..link.clone()
                };
                if let [(visitor_indexes, link)] = links.as_slice() {
                    return dispatch(
                        ctx.visitors,
                        ctx.input.index,
                        &as_file(link),
                        visitor_indexes,
                        content,
                        &mut soft,
                    );
                }
                // Several links to one file: read it once, offer it under each name.
                let mut spool = tempfile::SpooledTempFile::new(SPOOL_IN_MEMORY);
                io::copy(content, &mut spool)?;
                for (visitor_indexes, link) in links {
                    spool.rewind()?;
                    dispatch(
                        ctx.visitors,
                        ctx.input.index,
                        &as_file(link),
                        visitor_indexes,
                        &mut spool,
                        &mut soft,
                    )?;
                }
                Ok(())
            },
            &mut Vec::new(),
        )
        .map_err(|e| map_error(e, &ctx.input.what, ctx, &self.limits))?;
        io::copy(&mut raw, &mut io::sink())
            .map_err(|e| map_error(e, &ctx.input.what, ctx, &self.limits))?;
        warnings.extend(soft);
        for (_, link) in deferred {
            if link
                .link_target
                .as_ref()
                .is_some_and(|t| !found.contains(t))
            {
                warnings.push(WalkWarning {
                    layer: ctx.input.index,
                    path: link.path.clone(),
                    message: format!(
                        "hard link target `{}` is not a regular file of this layer",
                        link.link_target.as_deref().unwrap_or("")
                    ),
                });
            }
        }
        Ok(())
    }

    /// Walks an unpacked root filesystem as a single layer. Symlinks are
    /// recorded, never followed.
    ///
    /// # Errors
    /// When a directory or wanted file cannot be read, or a limit is hit.
    pub fn walk_rootfs(
        &self,
        root: &Path,
        visitors: &[&dyn FileVisitor],
    ) -> Result<Walk, WalkError> {
        let mut listing = LayerListing {
            index: 0,
            digest: None,
            stored_size: 0,
            uncompressed_size: 0,
            entries: Vec::new(),
            whiteouts: Vec::new(),
            opaque_dirs: Vec::new(),
        };
        let mut warnings = Vec::new();
        let mut stack: Vec<(PathBuf, String)> = vec![(root.to_owned(), String::new())];
        let rootfs_err = |path: &Path, source| WalkError::RootFs {
            path: path.display().to_string(),
            source,
        };
        while let Some((dir, prefix)) = stack.pop() {
            let mut children: Vec<_> = fs_err::read_dir(&dir)
                .map_err(|e| rootfs_err(&dir, e))?
                .collect::<Result<_, _>>()
                .map_err(|e| rootfs_err(&dir, e))?;
            children.sort_by_key(fs_err::DirEntry::file_name);
            for child in children {
                let name = child.file_name().to_string_lossy().into_owned();
                let path = format!("{prefix}/{name}");
                if path.len() > self.limits.max_path_bytes {
                    return Err(WalkError::PathTooLong {
                        what: root.display().to_string(),
                        limit: self.limits.max_path_bytes,
                        start: path.chars().take(64).collect(),
                    });
                }
                if listing.entries.len() as u64 >= self.limits.max_entries_per_layer {
                    return Err(WalkError::TooManyEntries {
                        what: root.display().to_string(),
                        limit: self.limits.max_entries_per_layer,
                    });
                }
                let meta = fs_err::symlink_metadata(child.path())
                    .map_err(|e| rootfs_err(&child.path(), e))?;
                let file_type = meta.file_type();
                let kind = if file_type.is_dir() {
                    EntryKind::Directory
                } else if file_type.is_symlink() {
                    EntryKind::Symlink
                } else if file_type.is_file() {
                    EntryKind::File
                } else {
                    unix_special(&meta)
                };
                let link_target = if kind == EntryKind::Symlink {
                    Some(
                        fs_err::read_link(child.path())
                            .map_err(|e| rootfs_err(&child.path(), e))?
                            .to_string_lossy()
                            .into_owned(),
                    )
                } else {
                    None
                };
                let (mode, uid, gid) = unix_owner(&meta);
                let entry = Entry {
                    path: path.clone(),
                    kind,
                    size: if kind == EntryKind::File {
                        meta.len()
                    } else {
                        0
                    },
                    mode,
                    uid,
                    gid,
                    link_target,
                };
                if kind == EntryKind::File {
                    listing.uncompressed_size += meta.len();
                    let wanting: Vec<usize> = visitors
                        .iter()
                        .enumerate()
                        .filter(|(_, v)| v.selector().matches(&path, entry.size, entry.mode))
                        .map(|(i, _)| i)
                        .collect();
                    if !wanting.is_empty() {
                        let mut file = fs_err::File::open(child.path())
                            .map_err(|e| rootfs_err(&child.path(), e))?;
                        // The path was a regular file when listed; refuse it if it has
                        // been swapped (for a symlink out of the root, say) since.
                        let opened = file.metadata().map_err(|e| rootfs_err(&child.path(), e))?;
                        if !same_file(&meta, &opened) {
                            return Err(rootfs_err(
                                &child.path(),
                                io::Error::other("the file changed while it was being read"),
                            ));
                        }
                        dispatch(visitors, 0, &entry, &wanting, &mut file, &mut warnings)
                            .map_err(|e| rootfs_err(&child.path(), e))?;
                    }
                }
                if kind == EntryKind::Directory {
                    stack.push((child.path(), path));
                }
                listing.entries.push(entry);
            }
        }
        // A directory walk never goes through a symlink: nothing moves.
        let (index, _) = FileIndex::build(vec![listing], self.limits.max_symlink_depth);
        // But a reader does: files found through a symlinked directory are
        // read from disk under the wanted name, never outside the root.
        let real_root = fs_err::canonicalize(root).map_err(|e| rootfs_err(root, e))?;
        for (v, _, alias) in aliases(visitors, &index, &mut warnings) {
            let real = alias.link_target.clone().unwrap_or_default();
            let on_disk = root.join(real.trim_start_matches('/'));
            let inside = fs_err::canonicalize(&on_disk).is_ok_and(|p| p.starts_with(&real_root));
            if !inside {
                continue;
            }
            let mut file = fs_err::File::open(&on_disk).map_err(|e| rootfs_err(&on_disk, e))?;
            let as_file = Entry {
                kind: EntryKind::File,
                link_target: None,
                ..alias
            };
            dispatch(visitors, 0, &as_file, &[v], &mut file, &mut warnings)
                .map_err(|e| rootfs_err(&on_disk, e))?;
        }
        Ok(Walk {
            layers: std::sync::Arc::clone(index.layers()),
            index,
            warnings,
        })
    }
}

#[cfg(unix)]
fn unix_special(meta: &std::fs::Metadata) -> EntryKind {
    use std::os::unix::fs::FileTypeExt as _;
    let t = meta.file_type();
    if t.is_block_device() {
        EntryKind::BlockDevice
    } else if t.is_char_device() {
        EntryKind::CharDevice
    } else {
        EntryKind::Fifo
    }
}

#[cfg(not(unix))]
fn unix_special(_: &std::fs::Metadata) -> EntryKind {
    EntryKind::Fifo
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt as _;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len()
}

#[cfg(unix)]
fn unix_owner(meta: &std::fs::Metadata) -> (u32, u64, u64) {
    use std::os::unix::fs::MetadataExt as _;
    (
        meta.mode() & 0o7777,
        u64::from(meta.uid()),
        u64::from(meta.gid()),
    )
}

#[cfg(not(unix))]
fn unix_owner(_: &std::fs::Metadata) -> (u32, u64, u64) {
    (0o644, 0, 0)
}

type LayerResult = Result<(LayerListing, Vec<WalkWarning>), WalkError>;
type EntryHandler<'a> =
    dyn FnMut(Entry, &mut dyn Read, &mut Vec<WalkWarning>) -> io::Result<()> + 'a;

/// Another layer failed: this one stopped early and has nothing to report.
#[derive(Debug, thiserror::Error)]
#[error("stopped because another layer failed")]
struct Aborted;

impl WalkError {
    fn is_abort(&self) -> bool {
        matches!(self, Self::Layer { source, .. } if source.get_ref().is_some_and(|e| e.is::<Aborted>()))
    }
}

#[derive(Debug, thiserror::Error)]
#[error("too many entries")]
struct TooMany;

#[derive(Debug, thiserror::Error)]
#[error("too many entries in all")]
struct TooManyInAll;

#[derive(Debug, thiserror::Error)]
#[error("path too long")]
struct PathTooLong(String);

/// The moved entries (see [`Moved`]) to offer again, under their real
/// path, to the visitors that want them there, each a link to where the
/// layer holds its content (the old name of a file, or a hard link's
/// target). What visitors were given under the old name is dropped by them
/// ([`FileIndex::was_moved`]).
fn moved_offers(
    visitors: &[&dyn FileVisitor],
    moved: &[Moved],
    layers: &[LayerListing],
    offers: &mut HashMap<usize, Vec<(Vec<usize>, Entry)>>,
    warnings: &mut Vec<WalkWarning>,
) {
    for m in moved {
        warnings.push(WalkWarning {
            layer: m.layer,
            path: m.to.clone(),
            message: format!(
                "`{}` is under a symlink of a lower layer: a runtime unpacks it at `{}`",
                m.from, m.to
            ),
        });
        let Some(entry) = layers
            .iter()
            .find(|l| l.index == m.layer)
            .and_then(|l| l.entries.iter().rev().find(|e| e.path == m.to))
        else {
            continue;
        };
        let wanting: Vec<usize> = visitors
            .iter()
            .enumerate()
            .filter(|(_, v)| v.selector().matches(&entry.path, entry.size, entry.mode))
            .map(|(i, _)| i)
            .collect();
        let source = match entry.kind {
            EntryKind::File => m.from.clone(),
            EntryKind::Hardlink => entry.link_target.clone().unwrap_or_default(),
            _ => continue,
        };
        if !wanting.is_empty() {
            let as_link = Entry {
                kind: EntryKind::Hardlink,
                link_target: Some(source),
                ..entry.clone()
            };
            offers.entry(m.layer).or_default().push((wanting, as_link));
        }
    }
}

/// The files a reader finds through a symlinked directory: `dpkg` reads
/// `/var/lib/dpkg/status` even when `/var/lib/dpkg` is a symlink to `/x`,
/// so an image cannot hide its package database at `/x/status`. For each
/// exact path and directory a visitor wants that is not itself in the image
/// but leads through a symlink to regular files that are (and that the
/// visitor does not want under their own name), returns (visitor, layer,
/// the file as a link named by the wanted path to its real path), with a
/// warning each.
fn aliases(
    visitors: &[&dyn FileVisitor],
    index: &FileIndex,
    warnings: &mut Vec<WalkWarning>,
) -> Vec<(usize, usize, Entry)> {
    let mut out = Vec::new();
    let mut offer = |v: usize, alias: String, layer: usize, entry: &Entry| {
        warnings.push(WalkWarning {
            layer,
            path: alias.clone(),
            message: format!(
                "`{alias}` leads through a symlink to `{}`: read as `{alias}`",
                entry.path
            ),
        });
        out.push((
            v,
            layer,
            Entry {
                path: alias,
                kind: EntryKind::Hardlink,
                link_target: Some(entry.path.clone()),
                ..entry.clone()
            },
        ));
    };
    for (v, visitor) in visitors.iter().enumerate() {
        let selector = visitor.selector();
        for wanted in selector.exact_paths() {
            if index.get(wanted).is_some() {
                continue;
            }
            if let Some(found) = index.resolve(wanted)
                && found.entry.kind == EntryKind::File
                && found.entry.path != wanted
                && !selector.matches(&found.entry.path, found.entry.size, found.entry.mode)
            {
                offer(v, wanted.to_owned(), found.layer, found.entry);
            }
        }
        for prefix in selector.prefixes() {
            let dir = prefix.trim_end_matches('/');
            if index
                .get(dir)
                .is_some_and(|(_, e)| e.kind == EntryKind::Directory)
            {
                continue;
            }
            let Some(real) = index.real_path(dir).filter(|r| r != dir) else {
                continue;
            };
            for (layer, entry) in index.under(&real) {
                if entry.kind != EntryKind::File
                    || selector.matches(&entry.path, entry.size, entry.mode)
                {
                    continue;
                }
                let alias = format!("{dir}{}", &entry.path[real.len()..]);
                if selector.matches(&alias, entry.size, entry.mode) {
                    offer(v, alias, layer, entry);
                }
            }
        }
    }
    out
}

/// Handles one entry of the first pass: whiteouts, listing, visitors.
fn on_entry(
    ctx: &LayerContext<'_>,
    entry: Entry,
    content: &mut dyn Read,
    listing: &mut LayerListing,
    deferred: &mut Vec<(Vec<usize>, Entry)>,
    delivered: &mut HashSet<(usize, String)>,
    warnings: &mut Vec<WalkWarning>,
) -> io::Result<()> {
    let base = entry.path.rsplit('/').next().unwrap_or("");
    if let Some(hidden) = base.strip_prefix(".wh.") {
        let dir = parent(&entry.path);
        if hidden == ".wh..opq" {
            listing.opaque_dirs.push(dir.to_owned());
        } else if !hidden.starts_with(".wh.") && !hidden.is_empty() {
            let target = if dir == "/" {
                format!("/{hidden}")
            } else {
                format!("{dir}/{hidden}")
            };
            listing.whiteouts.push(target);
        }
        // Other `.wh..wh.*` names are aufs metadata: nothing to list.
        return Ok(());
    }
    let wanting: Vec<usize> = ctx
        .visitors
        .iter()
        .enumerate()
        .filter(|(_, v)| v.selector().matches(&entry.path, entry.size, entry.mode))
        .map(|(i, _)| i)
        .collect();
    if !wanting.is_empty() {
        match entry.kind {
            EntryKind::File => {
                dispatch(
                    ctx.visitors,
                    ctx.input.index,
                    &entry,
                    &wanting,
                    content,
                    warnings,
                )?;
                delivered.extend(wanting.iter().map(|&v| (v, entry.path.clone())));
            }
            EntryKind::Hardlink => {
                // A hard link is the same file as its target: a visitor that
                // already read the target in this pass does not need the
                // layer decompressed a second time for it.
                let target = entry.link_target.clone().unwrap_or_default();
                let unseen: Vec<usize> = wanting
                    .into_iter()
                    .filter(|&v| !delivered.contains(&(v, target.clone())))
                    .collect();
                if !unseen.is_empty() {
                    deferred.push((unseen, entry.clone()));
                }
            }
            _ => {}
        }
    }
    listing.entries.push(entry);
    Ok(())
}

/// Gives a file to every visitor that wants it, streaming it to a lone
/// visitor and spooling it (memory, then a temporary file) for several.
fn dispatch(
    visitors: &[&dyn FileVisitor],
    layer: usize,
    entry: &Entry,
    wanting: &[usize],
    content: &mut dyn Read,
    warnings: &mut Vec<WalkWarning>,
) -> io::Result<()> {
    let event = FileEvent { layer, entry };
    let mut soft = Vec::new();
    if let [only] = wanting {
        let mut failure = None;
        if let Err(message) = visitors[*only].visit(
            &event,
            &mut Guarded {
                inner: content,
                failure: &mut failure,
            },
        ) {
            soft.push((*only, message));
        }
        if let Some(e) = failure {
            return Err(e);
        }
    } else {
        // The head decides who still wants the file; one visitor left reads
        // it straight from the stream, several share a spooled copy.
        let mut head = Vec::with_capacity(HEAD_BYTES);
        (&mut *content)
            .take(HEAD_BYTES as u64)
            .read_to_end(&mut head)?;
        let still: Vec<usize> = wanting
            .iter()
            .copied()
            .filter(|&v| visitors[v].wants_content(&event, &head))
            .collect();
        if let [only] = still[..] {
            let mut failure = None;
            let mut chained = io::Cursor::new(head).chain(Guarded {
                inner: content,
                failure: &mut failure,
            });
            if let Err(message) = visitors[only].visit(&event, &mut chained) {
                soft.push((only, message));
            }
            if let Some(e) = failure {
                return Err(e);
            }
        } else if !still.is_empty() {
            let mut spool = tempfile::SpooledTempFile::new(SPOOL_IN_MEMORY);
            spool.write_all(&head)?;
            io::copy(content, &mut spool)?;
            for &v in &still {
                spool.rewind()?;
                if let Err(message) = visitors[v].visit(&event, &mut spool) {
                    soft.push((v, message));
                }
            }
        }
    }
    for (v, message) in soft {
        warnings.push(WalkWarning {
            layer,
            path: entry.path.clone(),
            message: format!("{}: {message}", visitors[v].name()),
        });
    }
    Ok(())
}

fn map_error(e: io::Error, what: &str, ctx: &LayerContext<'_>, limits: &Limits) -> WalkError {
    if let Some(inner) = e.get_ref() {
        if let Some(integrity) = inner.downcast_ref::<IntegrityError>() {
            return WalkError::Integrity(integrity.clone());
        }
        if let Some(meter) = inner.downcast_ref::<MeterError>() {
            return match meter {
                MeterError::Uncompressed => WalkError::UncompressedTooLarge {
                    image: ctx.image.to_owned(),
                    limit: limits.max_uncompressed_bytes,
                },
                MeterError::Metadata => WalkError::MetadataTooLarge {
                    what: what.to_owned(),
                },
            };
        }
        if inner.is::<TooManyInAll>() {
            return WalkError::TooManyEntriesTotal {
                image: ctx.image.to_owned(),
                limit: limits.max_entries_total,
            };
        }
        if inner.is::<TooMany>() {
            return WalkError::TooManyEntries {
                what: what.to_owned(),
                limit: limits.max_entries_per_layer,
            };
        }
        if let Some(long) = inner.downcast_ref::<PathTooLong>() {
            return WalkError::PathTooLong {
                what: what.to_owned(),
                limit: limits.max_path_bytes,
                start: long.0.clone(),
            };
        }
    }
    WalkError::Layer {
        what: what.to_owned(),
        source: e,
    }
}
