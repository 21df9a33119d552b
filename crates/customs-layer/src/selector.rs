//! Which files an analyzer wants to read. The walker opens nothing else.

use std::collections::HashSet;

/// A set of path patterns: exact paths, base names, suffixes, and directory
/// prefixes. An empty selector wants nothing; [`Selector::all`] wants every
/// regular file.
#[derive(Debug, Clone, Default)]
pub struct Selector {
    all: bool,
    executables: bool,
    paths: HashSet<String>,
    basenames: HashSet<String>,
    basename_prefixes: Vec<String>,
    suffixes: Vec<String>,
    under: Vec<String>,
    max_size: Option<u64>,
}

impl Selector {
    /// Wants nothing (add patterns with the builder methods).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Wants every regular file.
    #[must_use]
    pub fn all() -> Self {
        Self {
            all: true,
            ..Self::default()
        }
    }

    /// The exact paths it wants (well-known files: package databases,
    /// `os-release`), which a symlinked directory may stand in front of.
    pub fn exact_paths(&self) -> impl Iterator<Item = &str> {
        self.paths.iter().map(String::as_str)
    }

    /// The directories it wants everything under.
    pub fn prefixes(&self) -> impl Iterator<Item = &str> {
        self.under.iter().map(String::as_str)
    }

    /// Wants an exact absolute path (`/etc/os-release`).
    #[must_use]
    pub fn path(mut self, path: &str) -> Self {
        self.paths.insert(path.to_owned());
        self
    }

    /// Wants every file with this base name (`METADATA`).
    #[must_use]
    pub fn basename(mut self, name: &str) -> Self {
        self.basenames.insert(name.to_owned());
        self
    }

    /// Wants every file whose base name starts with this (`python` for
    /// `python3.11`, `libpython` for `libpython3.11.so.1.0`).
    #[must_use]
    pub fn basename_prefix(mut self, prefix: &str) -> Self {
        self.basename_prefixes.push(prefix.to_owned());
        self
    }

    /// Wants every file whose path ends with this (`.jar`, `.dist-info/METADATA`).
    #[must_use]
    pub fn suffix(mut self, suffix: &str) -> Self {
        self.suffixes.push(suffix.to_owned());
        self
    }

    /// Wants every file below this directory (`/var/lib/dpkg/status.d`).
    #[must_use]
    pub fn under(mut self, dir: &str) -> Self {
        let mut dir = dir.trim_end_matches('/').to_owned();
        dir.push('/');
        self.under.push(dir);
        self
    }

    /// Wants every file with an executable bit (binaries to inspect).
    #[must_use]
    pub fn executables(mut self) -> Self {
        self.executables = true;
        self
    }

    /// Skips files larger than this (their metadata is still listed).
    #[must_use]
    pub fn max_size(mut self, bytes: u64) -> Self {
        self.max_size = Some(bytes);
        self
    }

    /// Whether the selector wants the file at `path` of `size` bytes.
    #[must_use]
    pub fn matches(&self, path: &str, size: u64, mode: u32) -> bool {
        if self.max_size.is_some_and(|m| size > m) {
            return false;
        }
        if self.all || (self.executables && mode & 0o111 != 0) || self.paths.contains(path) {
            return true;
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        self.basenames.contains(base)
            || self
                .basename_prefixes
                .iter()
                .any(|p| base.starts_with(p.as_str()))
            || self.suffixes.iter().any(|s| path.ends_with(s.as_str()))
            || self.under.iter().any(|d| path.starts_with(d.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::Selector;

    #[test]
    fn matches_patterns() {
        let s = Selector::new()
            .path("/etc/os-release")
            .basename("METADATA")
            .suffix(".jar")
            .under("/var/lib/dpkg/status.d/");
        assert!(s.matches("/etc/os-release", 10, 0o644));
        assert!(s.matches("/usr/lib/python3/x.dist-info/METADATA", 10, 0o644));
        assert!(s.matches("/app/lib/a.jar", 10, 0o644));
        assert!(s.matches("/var/lib/dpkg/status.d/base", 10, 0o644));
        assert!(!s.matches("/var/lib/dpkg/status.dx", 10, 0o644));
        assert!(!s.matches("/etc/passwd", 10, 0o644));
        assert!(!Selector::new().matches("/etc/passwd", 1, 0o644));
        let p = Selector::new().basename_prefix("python");
        assert!(p.matches("/usr/local/bin/python3.11", 1, 0o755));
        assert!(!p.matches("/usr/local/bin/cpython", 1, 0o755));
        assert!(Selector::all().matches("/etc/passwd", 1, 0o644));
        assert!(!Selector::all().max_size(5).matches("/etc/passwd", 6, 0o644));
        assert!(
            Selector::new()
                .executables()
                .matches("/usr/bin/x", 6, 0o755)
        );
        assert!(
            !Selector::new()
                .executables()
                .matches("/usr/bin/x", 6, 0o644)
        );
    }
}
