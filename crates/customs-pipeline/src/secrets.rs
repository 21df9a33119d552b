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
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// The visitor: scans every file it is offered, and reads dpkg's checksums.
pub struct SecretsVisitor {
    scanner: SecretScanner,
    selector: Selector,
    found: Mutex<Vec<RawSecret>>,
    /// path → (md5 hex, package) from `/var/lib/dpkg/info/*.md5sums`.
    packaged: Mutex<HashMap<String, (String, String)>>,
    files: AtomicU64,
    bytes: AtomicU64,
    binary: AtomicU64,
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
        Self {
            scanner: SecretScanner::new(),
            selector: Selector::all(),
            found: Mutex::new(Vec::new()),
            packaged: Mutex::new(HashMap::new()),
            files: AtomicU64::new(0),
            bytes: AtomicU64::new(0),
            binary: AtomicU64::new(0),
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
        let matches = self.scanner.scan(path, &bytes);
        if matches.is_empty() {
            return Ok(());
        }
        self.record(event, &md5::Md5::digest(&bytes), matches)
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
            for mut m in self.scanner.scan(path, &window) {
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
        self.record(event, &md5.finalize(), kept)
    }

    /// Keeps what was found in one file, with the file's MD5 (to tell a
    /// distro package's own files apart later).
    fn record(
        &self,
        event: &FileEvent<'_>,
        md5: &[u8],
        matches: Vec<customs_checks::secrets::SecretMatch>,
    ) -> Result<(), String> {
        let md5: String = md5.iter().map(|b| format!("{b:02x}")).collect();
        let mut found = self.found.lock().map_err(|_| "poisoned".to_owned())?;
        for m in matches {
            found.push(RawSecret {
                layer: event.layer,
                path: event.entry.path.clone(),
                md5: md5.clone(),
                found: m,
            });
        }
        Ok(())
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
    /// Resolves what the walk found into findings.
    #[must_use]
    pub fn finish(self, walk: &Walk, allow: &AllowList) -> SecretsReport {
        let packaged_files = self.packaged.into_inner().unwrap_or_default();
        let mut report = SecretsReport {
            files: self.files.into_inner(),
            bytes: self.bytes.into_inner(),
            binary_files: self.binary.into_inner(),
            ..SecretsReport::default()
        };
        for raw in self.found.into_inner().unwrap_or_default() {
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
