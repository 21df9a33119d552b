//! Secrets in an image: every regular file of **every** layer (a file a later
//! layer deleted or overwrote is still in the image, and is reported with
//! its fate), the runtime configuration (Env, Labels) and the build history
//! (`created_by`, where build arguments leak).
//!
//! Files a distro package installed byte for byte (their MD5 is the one in
//! dpkg's `info/*.md5sums`) are the distribution's own — test keys in
//! `python3-cryptography`, sample certificates in documentation — and are
//! kept apart as *packaged* findings instead of being hidden by weakening a
//! rule or skipping a path: a file that differs from what the package
//! shipped is reported like any other.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use customs_checks::secrets::{AllowList, MAX_FILE_BYTES, SecretScanner, fingerprint, redact};
use customs_checks::{Finding, Location};
use customs_layer::{Fate, FileEvent, FileVisitor, Selector, Walk};
use customs_oci::config::ImageConfig;
use md5::Digest as _;

/// How much of one window is scanned again at the start of the next, so
/// that a secret across the boundary is found whole (PEM keys are a few KiB).
pub const OVERLAP_BYTES: usize = 1 << 20;

/// A secret before its file's fate and package are known.
struct RawSecret {
    layer: usize,
    path: String,
    md5: String,
    found: customs_checks::secrets::SecretMatch,
}

/// Files at most this large are scanned on a worker thread while the walk
/// goes on decompressing (larger ones, rare, are scanned in place).
const OFFLOAD_MAX_BYTES: usize = 256 * 1024;

/// Files are handed to the workers in batches of about this many bytes
/// (one wake-up per batch, not per file).
const BATCH_BYTES: usize = 1 << 20;

/// How many batches may wait for a worker: at most about 64 MiB in flight.
const QUEUE: usize = 64;

/// A file waiting to be scanned.
struct Job {
    layer: usize,
    path: String,
    bytes: Vec<u8>,
}

/// What the walk's threads and the scanning workers share.
struct Shared {
    scanner: SecretScanner,
    found: Mutex<Vec<RawSecret>>,
}

impl Shared {
    /// Scans one file and keeps what it holds.
    fn scan(&self, layer: usize, path: &str, bytes: &[u8]) -> Result<(), String> {
        let matches = self.scanner.scan(path, bytes);
        if matches.is_empty() {
            return Ok(());
        }
        self.record(layer, path, &md5::Md5::digest(bytes), matches)
    }

    /// Keeps what was found in one file, with the file's MD5 (to tell a
    /// distro package's own files apart later).
    fn record(
        &self,
        layer: usize,
        path: &str,
        md5: &[u8],
        matches: Vec<customs_checks::secrets::SecretMatch>,
    ) -> Result<(), String> {
        let md5: String = md5.iter().map(|b| format!("{b:02x}")).collect();
        let mut found = self.found.lock().map_err(|_| "poisoned".to_owned())?;
        for m in matches {
            found.push(RawSecret {
                layer,
                path: path.to_owned(),
                md5: md5.clone(),
                found: m,
            });
        }
        Ok(())
    }
}

/// The visitor: scans every file it is offered, and reads dpkg's checksums.
/// The scanning (regular expressions over text) runs on worker threads fed
/// by the walk, so that it overlaps with decompression instead of adding to
/// it.
pub struct SecretsVisitor {
    shared: Arc<Shared>,
    selector: Selector,
    queue: Mutex<Option<SyncSender<Vec<Job>>>>,
    /// The batch being filled, and its size in bytes.
    batch: Mutex<(Vec<Job>, usize)>,
    workers: Mutex<Vec<JoinHandle<()>>>,
    /// path → (md5 hex, package) from `/var/lib/dpkg/info/*.md5sums`.
    packaged: Mutex<HashMap<String, (String, String)>>,
    files: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
}

fn work(shared: &Shared, batches: &Mutex<Receiver<Vec<Job>>>) {
    loop {
        let batch = match batches.lock() {
            Ok(rx) => rx.recv(),
            Err(_) => return,
        };
        let Ok(batch) = batch else {
            return; // the walk is over
        };
        for job in batch {
            // Only a poisoned lock fails, after a panic elsewhere, which
            // `drain` passes on.
            if shared.scan(job.layer, &job.path, &job.bytes).is_err() {
                return;
            }
        }
    }
}

impl Default for SecretsVisitor {
    fn default() -> Self {
        Self::new()
    }
}

impl SecretsVisitor {
    /// A visitor for every regular file, whatever its size: a text file
    /// larger than [`MAX_FILE_BYTES`] is scanned in windows of that size
    /// that overlap by [`OVERLAP_BYTES`], never skipped.
    #[must_use]
    pub fn new() -> Self {
        let shared = Arc::new(Shared {
            scanner: SecretScanner::new(),
            found: Mutex::new(Vec::new()),
        });
        let (tx, rx) = sync_channel::<Vec<Job>>(QUEUE);
        let rx = Arc::new(Mutex::new(rx));
        let count = std::thread::available_parallelism()
            .map_or(1, |n| n.get().saturating_sub(1))
            .clamp(1, 4);
        let workers = (0..count)
            .filter_map(|i| {
                let (shared, rx) = (Arc::clone(&shared), Arc::clone(&rx));
                std::thread::Builder::new()
                    .name(format!("secrets-{i}"))
                    .spawn(move || work(&shared, &rx))
                    .ok()
            })
            .collect::<Vec<_>>();
        Self {
            shared,
            selector: Selector::all(),
            // No worker could start: scan in place.
            queue: Mutex::new((!workers.is_empty()).then_some(tx)),
            batch: Mutex::new((Vec::new(), 0)),
            workers: Mutex::new(workers),
            packaged: Mutex::new(HashMap::new()),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            binary: AtomicU64::new(0),
        }
    }

    /// Hands a batch to the workers (scanning it here if they are gone).
    fn send(&self, batch: Vec<Job>) -> Result<(), String> {
        let queue = self
            .queue
            .lock()
            .map_err(|_| "poisoned".to_owned())?
            .clone();
        let unsent = match queue {
            Some(queue) => match queue.send(batch) {
                Ok(()) => return Ok(()),
                Err(e) => e.0,
            },
            None => batch,
        };
        for job in unsent {
            self.shared.scan(job.layer, &job.path, &job.bytes)?;
        }
        Ok(())
    }

    /// Waits for the workers to scan what is queued.
    fn drain(&self) {
        let last = self
            .batch
            .lock()
            .map(|mut b| std::mem::take(&mut b.0))
            .unwrap_or_default();
        if !last.is_empty() {
            // Only a poisoned lock fails here, after a panic passed on below.
            let _ = self.send(last);
        }
        if let Ok(mut queue) = self.queue.lock() {
            queue.take();
        }
        if let Ok(mut workers) = self.workers.lock() {
            for w in workers.drain(..) {
                // A worker that panicked would leave files unscanned: never
                // a silent partial result, the panic goes on.
                if let Err(panic) = w.join() {
                    std::panic::resume_unwind(panic);
                }
            }
        }
    }
}

impl FileVisitor for SecretsVisitor {
    fn name(&self) -> &'static str {
        "secret-scanner"
    }

    fn selector(&self) -> &Selector {
        &self.selector
    }

    fn visit(&self, event: &FileEvent<'_>, content: &mut dyn Read) -> Result<(), String> {
        let path = &event.entry.path;
        // One buffer of the file's size: the first 8 KiB decide whether it
        // is text, the rest is read only if it is.
        let mut bytes =
            Vec::with_capacity(usize::try_from(event.entry.size.min(MAX_FILE_BYTES)).unwrap_or(0));
        (&mut *content)
            .take(8192)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read: {e}"))?;
        self.files.fetch_add(1, Ordering::Relaxed);
        if SecretScanner::is_binary(&bytes) {
            self.binary.fetch_add(1, Ordering::Relaxed);
            return Ok(());
        }
        content
            .take(MAX_FILE_BYTES - bytes.len() as u64)
            .read_to_end(&mut bytes)
            .map_err(|e| format!("cannot read: {e}"))?;
        if bytes.len() as u64 >= MAX_FILE_BYTES {
            return self.scan_windows(event, bytes, content);
        }
        self.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
        if let Some(package) = path
            .strip_prefix("/var/lib/dpkg/info/")
            .and_then(|p| p.strip_suffix(".md5sums"))
        {
            let package = package.split(':').next().unwrap_or(package).to_owned();
            let mut map = self.packaged.lock().map_err(|_| "poisoned".to_owned())?;
            for line in String::from_utf8_lossy(&bytes).lines() {
                if let Some((md5, file)) = line.split_once("  ") {
                    map.insert(
                        format!("/{}", file.trim_start_matches('/')),
                        (md5.to_owned(), package.clone()),
                    );
                }
            }
        }
        if bytes.len() > OFFLOAD_MAX_BYTES {
            return self.shared.scan(event.layer, path, &bytes);
        }
        let full = {
            let mut batch = self.batch.lock().map_err(|_| "poisoned".to_owned())?;
            batch.1 += bytes.len();
            batch.0.push(Job {
                layer: event.layer,
                path: path.clone(),
                bytes,
            });
            (batch.1 >= BATCH_BYTES).then(|| {
                batch.1 = 0;
                std::mem::take(&mut batch.0)
            })
        };
        match full {
            Some(batch) => self.send(batch),
            None => Ok(()),
        }
    }

    fn wants_content(&self, _event: &FileEvent<'_>, head: &[u8]) -> bool {
        // A binary is decided by its head, as `visit` would: counted here.
        if SecretScanner::is_binary(head) {
            self.files.fetch_add(1, Ordering::Relaxed);
            self.binary.fetch_add(1, Ordering::Relaxed);
            return false;
        }
        true
    }
}

impl SecretsVisitor {
    /// Scans a file larger than one window: windows of [`MAX_FILE_BYTES`],
    /// each starting at a line within the last [`OVERLAP_BYTES`] of the one
    /// before; a secret found twice in an overlap is kept once, with its
    /// line counted from the start of the file.
    fn scan_windows(
        &self,
        event: &FileEvent<'_>,
        mut window: Vec<u8>,
        content: &mut dyn Read,
    ) -> Result<(), String> {
        let path = &event.entry.path;
        let mut md5 = md5::Md5::new();
        md5.update(&window);
        let mut scanned = window.len() as u64;
        let mut lines_before = 0u64;
        let mut previous: HashSet<(u64, &'static str, String)> = HashSet::new();
        let mut kept = Vec::new();
        loop {
            let mut here = HashSet::new();
            for mut m in self.shared.scanner.scan(path, &window) {
                m.line += lines_before;
                let key = (m.line, m.rule.id, m.fingerprint.clone());
                if !previous.contains(&key) {
                    kept.push(m);
                }
                here.insert(key);
            }
            previous = here;
            let keep_from = window.len().saturating_sub(OVERLAP_BYTES);
            let tail = window[keep_from..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(keep_from, |i| keep_from + i + 1);
            lines_before += window[..tail].iter().filter(|&&b| b == b'\n').count() as u64;
            window.drain(..tail);
            let kept_len = window.len();
            let room = (MAX_FILE_BYTES as usize).saturating_sub(kept_len) as u64;
            content
                .take(room)
                .read_to_end(&mut window)
                .map_err(|e| format!("cannot read: {e}"))?;
            if window.len() == kept_len {
                break;
            }
            md5.update(&window[kept_len..]);
            scanned += (window.len() - kept_len) as u64;
        }
        self.bytes.fetch_add(scanned, Ordering::Relaxed);
        if kept.is_empty() {
            return Ok(());
        }
        self.shared
            .record(event.layer, &event.entry.path, &md5.finalize(), kept)
    }
}

/// What a secret scan found.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct SecretsReport {
    /// Findings to act on, most severe first.
    pub findings: Vec<Finding>,
    /// Findings in files a distro package installed unchanged.
    pub packaged: Vec<Finding>,
    /// How many findings the allow-list suppressed.
    pub allowed: usize,
    /// Files read.
    pub files: u64,
    /// Bytes of text scanned.
    pub bytes: u64,
    /// Files skipped as binary.
    pub binary_files: u64,
}

fn fate_text(fate: Fate) -> Option<String> {
    match fate {
        Fate::Present => None,
        Fate::Deleted { by_layer } => Some(format!("deleted in layer {}", by_layer + 1)),
        Fate::Overwritten { by_layer } => Some(format!("overwritten in layer {}", by_layer + 1)),
    }
}

impl SecretsVisitor {
    /// Resolves what the walk of an image found, with the secrets of its
    /// configuration and history, most severe first.
    #[must_use]
    pub fn finish_image(
        self,
        walk: &Walk,
        image: &customs_oci::Image,
        allow: &AllowList,
    ) -> SecretsReport {
        let mut report = self.finish(walk, allow);
        report.findings.extend(config_secrets(&image.config, allow));
        customs_checks::sort(&mut report.findings);
        report
    }

    /// Resolves what the walk found into findings.
    #[must_use]
    pub fn finish(self, walk: &Walk, allow: &AllowList) -> SecretsReport {
        self.drain();
        let packaged_files = self.packaged.into_inner().unwrap_or_default();
        let mut report = SecretsReport {
            files: self.files.into_inner(),
            bytes: self.bytes.into_inner(),
            binary_files: self.binary.into_inner(),
            ..SecretsReport::default()
        };
        let found = self
            .shared
            .found
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        for raw in found {
            // Read again under its real path (a symlinked parent moved it).
            if walk.index.was_moved(raw.layer, &raw.path) {
                continue;
            }
            let m = &raw.found;
            if allow.allows(m.rule.id, &raw.path, &m.fingerprint) {
                report.allowed += 1;
                continue;
            }
            let fate = fate_text(walk.index.fate(raw.layer, &raw.path));
            let package = packaged_files
                .get(&raw.path)
                .filter(|(md5, _)| *md5 == raw.md5)
                .map(|(_, p)| p.clone());
            let mut title = m.rule.title.to_owned();
            if let Some(fate) = &fate {
                title.push_str(&format!(" ({fate}: still in the image)"));
            }
            if let Some(p) = &package {
                title.push_str(&format!(" — shipped unchanged by the distro package {p}"));
            }
            let finding = Finding {
                rule: m.rule.id,
                severity: m.rule.severity,
                title,
                location: Location {
                    path: raw.path.clone(),
                    line: Some(m.line),
                    layer: Some(raw.layer),
                    fate,
                    field: None,
                },
                evidence: Some(m.context.clone()),
                fingerprint: Some(m.fingerprint.clone()),
                remediation: m.rule.remediation.to_owned(),
            };
            if package.is_some() {
                report.packaged.push(finding);
            } else {
                report.findings.push(finding);
            }
        }
        customs_checks::sort(&mut report.findings);
        customs_checks::sort(&mut report.packaged);
        report
    }
}

/// Secrets in the runtime configuration and the build history.
#[must_use]
pub fn config_secrets(config: &ImageConfig, allow: &AllowList) -> Vec<Finding> {
    let scanner = SecretScanner::shared();
    let mut out = Vec::new();
    let push = |field: String, name: Option<&str>, value: &str, out: &mut Vec<Finding>| {
        let by_rule = scanner.scan("/image-config", value.as_bytes());
        let by_name =
            name.is_some_and(customs_checks::redact::secret_name) && !value.trim().is_empty();
        if by_rule.is_empty() && !by_name {
            return;
        }
        let (rule, title, severity, print, fp) = match by_rule.first() {
            Some(m) => (
                m.rule.id,
                m.rule.title.to_owned(),
                m.rule.severity,
                m.context.clone(),
                m.fingerprint.clone(),
            ),
            None => (
                "generic-secret-assignment",
                format!("Secret-looking value of `{}`", name.unwrap_or("")),
                customs_types::Severity::High,
                format!("{}={}", name.unwrap_or(""), redact(value)),
                fingerprint(value.as_bytes()),
            ),
        };
        if allow.allows(rule, "image config", &fp) {
            return;
        }
        out.push(Finding {
            rule,
            severity,
            title,
            location: Location {
                path: "image config".to_owned(),
                field: Some(field),
                ..Location::default()
            },
            evidence: Some(match name {
                Some(n) if !print.contains('=') => format!("{n}={print}"),
                _ => print,
            }),
            fingerprint: Some(fp),
            remediation: "Remove it from the image configuration (rebuild without it) and rotate it; pass secrets at run time.".to_owned(),
        });
    };
    if let Some(c) = &config.config {
        for entry in c.env.iter().flatten() {
            let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
            push(format!("Env {name}"), Some(name), value, &mut out);
        }
        for (name, value) in c.labels.iter().flatten() {
            push(format!("Labels {name}"), Some(name), value, &mut out);
        }
    }
    for (i, h) in config.history.iter().enumerate() {
        let Some(created_by) = &h.created_by else {
            continue;
        };
        // Build arguments: `|2 NAME=value NAME2=value2 /bin/sh -c …`.
        let mut found_argument = false;
        for word in created_by.split_whitespace() {
            if let Some((name, value)) = word.split_once('=')
                && customs_checks::redact::secret_name(name)
                && !value.is_empty()
                && !value.starts_with('$')
            {
                found_argument = true;
                push(
                    format!("history[{i}] build argument {name}"),
                    Some(name),
                    value,
                    &mut out,
                );
            }
        }
        if !found_argument {
            push(
                format!("history[{i}] created_by"),
                None,
                created_by,
                &mut out,
            );
        }
    }
    out
}
