//! The cataloger seam.

use customs_layer::Selector;
use customs_sbom::{Distro, Package};

/// What one file says.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Found {
    /// Packages.
    Packages(Vec<Package>),
    /// The files a package installed (dpkg `info/*.list`, Python `RECORD`),
    /// joined to the packages the same cataloger found.
    OwnedFiles {
        /// The package's name, or the path of its primary evidence file.
        package: String,
        /// Absolute paths.
        files: Vec<String>,
    },
    /// Licences of a package (machine-readable `copyright`), joined like
    /// [`Found::OwnedFiles`].
    Licenses {
        /// The package's name, or the path of its primary evidence file.
        package: String,
        /// SPDX-ish licence names.
        licenses: Vec<String>,
    },
    /// The OS distribution (`os-release`).
    Distro(Distro),
    /// What could be read of a file, and what could not: each dropped part
    /// (a malformed record, a nested archive past a limit) becomes an
    /// unknown of the SBOM naming the file, never a silent loss.
    Partial {
        /// What was read.
        found: Box<Found>,
        /// What was dropped, and why.
        dropped: Vec<String>,
    },
}

impl Found {
    /// `found`, or [`Found::Partial`] when something was dropped.
    #[must_use]
    pub fn with_dropped(found: Found, dropped: Vec<String>) -> Self {
        if dropped.is_empty() {
            found
        } else {
            Self::Partial {
                found: Box::new(found),
                dropped,
            }
        }
    }
}

/// One file offered to a cataloger.
#[derive(Debug, Clone, Copy)]
pub struct FileInput<'a> {
    /// Absolute path in the image.
    pub path: &'a str,
    /// Layer (0-based).
    pub layer: usize,
    /// Permission bits.
    pub mode: u32,
    /// The whole content.
    pub content: &'a [u8],
}

/// Why a file could not be cataloged. The message names the problem; the
/// caller adds the file and package type.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CatalogError {
    /// The file is not valid for its format.
    #[error("malformed: {0}")]
    Malformed(String),
    /// The file is larger than the cataloger reads.
    #[error("larger than {0} bytes, not read")]
    TooLarge(u64),
}

/// Finds packages in files of one kind.
pub trait Cataloger: Send + Sync {
    /// Stable kebab-case name, recorded as each package's `found_by`.
    fn name(&self) -> &'static str;
    /// Bumped when output changes (part of any cache key).
    fn version(&self) -> u32 {
        1
    }
    /// Tags for selection (`os`, `language`, `binary`, and the ecosystem).
    fn tags(&self) -> &'static [&'static str];
    /// Which files it reads.
    fn selector(&self) -> Selector;
    /// The largest file it reads; larger ones become unknowns.
    fn max_file_size(&self) -> u64 {
        64 << 20
    }
    /// Parses one file. Packages it returns carry the file as their first
    /// location; the catalog fills in layers.
    ///
    /// # Errors
    /// [`CatalogError`] when the file cannot be read as its format.
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError>;
    /// Whether a file is interesting beyond its path (magic bytes); files it
    /// declines are skipped silently. Defaults to every selected file.
    fn accepts(&self, _head: &[u8]) -> bool {
        true
    }
    /// Whether it reads files as a stream ([`Cataloger::catalog_stream`])
    /// instead of whole (a binary of hundreds of megabytes is never held
    /// in memory).
    fn streams(&self) -> bool {
        false
    }
    /// Parses one file as a stream: `file.content` holds its first bytes
    /// (up to 4 KiB, what [`Cataloger::accepts`] saw) and `rest` the
    /// remainder. Called only when [`Cataloger::streams`] says so.
    ///
    /// # Errors
    /// [`CatalogError`] when the file cannot be read as its format.
    fn catalog_stream(
        &self,
        file: &FileInput<'_>,
        _rest: &mut dyn std::io::Read,
    ) -> Result<Found, CatalogError> {
        self.catalog(file)
    }
}

/// Every cataloger, in one explicit list (no self-registration).
#[must_use]
pub fn default_catalogers() -> Vec<Box<dyn Cataloger>> {
    use crate::catalogers::{
        apk, binary, classifiers, dpkg, java, lockfiles, npm, os_release, python, rpm,
    };
    vec![
        Box::new(os_release::OsRelease),
        Box::new(dpkg::Dpkg),
        Box::new(apk::Apk),
        Box::new(rpm::Rpm),
        Box::new(python::Python),
        Box::new(npm::Npm),
        Box::new(binary::Binary),
        Box::new(classifiers::Classifiers),
        Box::new(java::JavaArchive),
        Box::new(lockfiles::Gemspec),
        Box::new(lockfiles::Composer { lock: false }),
        Box::new(lockfiles::Composer { lock: true }),
        Box::new(lockfiles::DotnetDeps),
        Box::new(lockfiles::NpmLock),
        Box::new(lockfiles::CargoLock),
    ]
}

/// Why a cataloger selection is invalid.
#[derive(Debug, thiserror::Error)]
#[error("no cataloger is named or tagged `{0}` (names and tags: {1})")]
pub struct SelectionError(String, String);

/// Applies a selection such as `dpkg,python` (only these), `+x` (add) and
/// `-x` (remove) to `all`, matching names and tags. Catalogers tagged
/// `lockfile` (declared, not installed, packages) start out selected only
/// when `declared` is true (source trees); a selection can add them.
///
/// # Errors
/// [`SelectionError`] when a word matches no cataloger.
pub fn select(
    all: Vec<Box<dyn Cataloger>>,
    selection: &[String],
    declared: bool,
) -> Result<Vec<Box<dyn Cataloger>>, SelectionError> {
    let matches = |c: &dyn Cataloger, word: &str| {
        c.name() == word || c.name().starts_with(&format!("{word}-")) || c.tags().contains(&word)
    };
    let known: Vec<String> = all
        .iter()
        .map(|c| c.name().to_owned())
        .chain(
            all.iter()
                .flat_map(|c| c.tags().iter().map(|t| (*t).to_owned())),
        )
        .collect();
    for word in selection {
        let word = word.trim_start_matches(['+', '-']);
        if !word.is_empty() && !all.iter().any(|c| matches(c.as_ref(), word)) {
            let mut names = known.clone();
            names.sort();
            names.dedup();
            return Err(SelectionError(word.to_owned(), names.join(", ")));
        }
    }
    let only: Vec<&str> = selection
        .iter()
        .map(String::as_str)
        .filter(|w| !w.starts_with(['+', '-']) && !w.is_empty())
        .collect();
    // Declared-package catalogers (lock files) start selected only for source trees.
    let default = |c: &dyn Cataloger| declared || !c.tags().contains(&"lockfile");
    let mut keep: Vec<bool> = all
        .iter()
        .map(|c| {
            if only.is_empty() {
                default(c.as_ref())
            } else {
                only.iter().any(|w| matches(c.as_ref(), w))
            }
        })
        .collect();
    for word in selection {
        if let Some(w) = word.strip_prefix('+') {
            for (k, c) in keep.iter_mut().zip(&all) {
                *k |= matches(c.as_ref(), w);
            }
        } else if let Some(w) = word.strip_prefix('-') {
            for (k, c) in keep.iter_mut().zip(&all) {
                *k &= !matches(c.as_ref(), w);
            }
        }
    }
    Ok(all
        .into_iter()
        .zip(keep)
        .filter_map(|(c, k)| k.then_some(c))
        .collect())
}
