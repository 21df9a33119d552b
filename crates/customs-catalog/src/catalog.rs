//! Running catalogers during the walk and resolving what they found
//! against the squashed filesystem.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::sync::Mutex;

use customs_layer::{Fate, FileEvent, FileVisitor, Selector, Walk};
use customs_sbom::{
    Distro, Location, Package, PackageType, Relationship, RelationshipKind, Unknown, purl,
};
use customs_types::Digest;

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

struct Record {
    layer: usize,
    path: String,
    result: Result<Found, CatalogError>,
    /// Parts of the file that could not be read ([`Found::Partial`]).
    dropped: Vec<String>,
}

struct Adapter {
    cataloger: Box<dyn Cataloger>,
    selector: Selector,
    records: Mutex<Vec<Record>>,
}

impl FileVisitor for Adapter {
    fn name(&self) -> &'static str {
        self.cataloger.name()
    }

    fn selector(&self) -> &Selector {
        &self.selector
    }

    fn visit(&self, event: &FileEvent<'_>, content: &mut dyn Read) -> Result<(), String> {
        let limit = self.cataloger.max_file_size();
        // Sniff first: files the cataloger declines are never buffered.
        let mut bytes =
            Vec::with_capacity(usize::try_from(event.entry.size.min(limit).min(4096)).unwrap_or(0));
        content
            .take(4096)
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        if !self.cataloger.accepts(&bytes) {
            return Ok(());
        }
        if self.cataloger.streams() {
            let input = FileInput {
                path: &event.entry.path,
                layer: event.layer,
                mode: event.entry.mode,
                content: &bytes,
            };
            let result = self.cataloger.catalog_stream(&input, content);
            self.record(event, result);
            return Ok(());
        }
        bytes.reserve(
            usize::try_from(event.entry.size.min(limit))
                .unwrap_or(0)
                .saturating_sub(bytes.len()),
        );
        content
            .take((limit + 1).saturating_sub(bytes.len() as u64))
            .read_to_end(&mut bytes)
            .map_err(|e| e.to_string())?;
        let result = if bytes.len() as u64 > limit {
            Err(CatalogError::TooLarge(limit))
        } else {
            let input = FileInput {
                path: &event.entry.path,
                layer: event.layer,
                mode: event.entry.mode,
                content: &bytes,
            };
            self.cataloger.catalog(&input)
        };
        self.record(event, result);
        Ok(())
    }
}

impl Adapter {
    fn record(&self, event: &FileEvent<'_>, result: Result<Found, CatalogError>) {
        if let Ok(mut records) = self.records.lock() {
            let (result, dropped) = match result {
                Ok(Found::Partial { found, dropped }) => (Ok(*found), dropped),
                other => (other, Vec::new()),
            };
            records.push(Record {
                layer: event.layer,
                path: event.entry.path.clone(),
                result,
                dropped,
            });
        }
    }
}

/// Catalogers ready to run as visitors of one walk.
pub struct CatalogRun {
    adapters: Vec<Adapter>,
}

/// What the catalogers found in the final filesystem.
#[derive(Debug, Default)]
pub struct Catalog {
    /// The OS distribution.
    pub distro: Option<Distro>,
    /// Packages whose evidence survives, sorted.
    pub packages: Vec<Package>,
    /// Relationships between them.
    pub relationships: Vec<Relationship>,
    /// Files that could not be read.
    pub unknowns: Vec<Unknown>,
}

impl CatalogRun {
    /// Wraps `catalogers` for one walk.
    #[must_use]
    pub fn new(catalogers: Vec<Box<dyn Cataloger>>) -> Self {
        Self {
            adapters: catalogers
                .into_iter()
                .map(|cataloger| Adapter {
                    selector: cataloger.selector(),
                    cataloger,
                    records: Mutex::new(Vec::new()),
                })
                .collect(),
        }
    }

    /// The visitors to hand to the walker.
    #[must_use]
    pub fn visitors(&self) -> Vec<&dyn FileVisitor> {
        self.adapters
            .iter()
            .map(|a| a as &dyn FileVisitor)
            .collect()
    }

    /// Resolves the findings against the walk's squashed view.
    #[must_use]
    pub fn finish(self, walk: &Walk, layer_digests: &[Digest]) -> Catalog {
        let mut records: Vec<(String, PackageType, Record)> = Vec::new();
        for adapter in self.adapters {
            let name = adapter.cataloger.name().to_owned();
            let kind = kind_of(adapter.cataloger.tags());
            for record in adapter.records.into_inner().unwrap_or_default() {
                records.push((name.clone(), kind, record));
            }
        }
        // A file read under a name the runtime does not use (a symlinked parent
        // moved it) was offered again under its real name: drop the first.
        let present = |r: &Record| {
            !walk.index.was_moved(r.layer, &r.path)
                && walk.index.fate(r.layer, &r.path) == Fate::Present
        };
        // Lowest layer in which each (path, type, name, version) appears.
        let mut first_seen: HashMap<(String, PackageType, String, String), usize> = HashMap::new();
        for (_, _, record) in &records {
            if let Ok(Found::Packages(packages)) = &record.result {
                for p in packages {
                    let key = (
                        p.path().to_owned(),
                        p.kind,
                        p.name.clone(),
                        p.version.clone(),
                    );
                    let layer = first_seen.entry(key).or_insert(record.layer);
                    *layer = (*layer).min(record.layer);
                }
            }
        }
        let mut catalog = Catalog::default();
        let mut distros: Vec<(String, Distro)> = Vec::new();
        // File lists and licences, keyed by the cataloger that read them and
        // the package's name or the path of its primary evidence.
        let mut owned: HashMap<(String, String), (usize, String, Vec<String>)> = HashMap::new();
        let mut licenses: HashMap<(String, String), Vec<String>> = HashMap::new();
        let location = |layer: usize, path: &str| Location {
            path: path.to_owned(),
            layer: Some(layer),
            layer_digest: layer_digests.get(layer).cloned(),
        };
        for (cataloger, kind, record) in records.into_iter().filter(|(_, _, r)| present(r)) {
            catalog
                .unknowns
                .extend(record.dropped.iter().map(|message| Unknown {
                    path: record.path.clone(),
                    layer: Some(record.layer),
                    message: format!("{cataloger} ({}): {message}", kind.as_str()),
                    package_type: Some(kind),
                }));
            match record.result {
                Err(e) => catalog.unknowns.push(Unknown {
                    path: record.path.clone(),
                    layer: Some(record.layer),
                    message: format!("{cataloger} ({}): {e}", kind.as_str()),
                    package_type: Some(kind),
                }),
                Ok(Found::Packages(packages)) => {
                    for mut p in packages {
                        let primary = p.path().to_owned();
                        p.locations[0] = location(record.layer, &primary);
                        p.introduced_by_layer = first_seen
                            .get(&(primary, p.kind, p.name.clone(), p.version.clone()))
                            .copied();
                        catalog.packages.push(p);
                    }
                }
                Ok(Found::OwnedFiles { package, files }) => {
                    owned.insert((cataloger, package), (record.layer, record.path, files));
                }
                Ok(Found::Licenses {
                    package,
                    licenses: found,
                }) => {
                    licenses.insert((cataloger, package), found);
                }
                Ok(Found::Distro(distro)) => distros.push((record.path, distro)),
                // Unwrapped when recorded.
                Ok(Found::Partial { .. }) => {}
            }
        }
        distros.sort_by_key(|(path, _)| path != "/etc/os-release");
        catalog.distro = distros.into_iter().next().map(|(_, d)| d);
        for p in &mut catalog.packages {
            let by_path = (p.found_by.clone(), p.path().to_owned());
            let by_name = (p.found_by.clone(), p.name.clone());
            if let Some((layer, path, files)) = owned.get(&by_path).or_else(|| owned.get(&by_name))
            {
                p.files.clone_from(files);
                p.locations.push(location(*layer, path));
            }
            if let Some(found) = licenses.get(&by_path).or_else(|| licenses.get(&by_name)) {
                p.licenses.clone_from(found);
            }
        }
        // What the walk itself found odd (names climbing above the root,
        // entries moved by symlinked parents, skipped entry types, visitors
        // that could not read a file) is part of what the SBOM cannot vouch for.
        catalog
            .unknowns
            .extend(walk.warnings.iter().map(|w| Unknown {
                path: w.path.clone(),
                layer: Some(w.layer),
                message: w.message.clone(),
                package_type: None,
            }));
        merge_declared(&mut catalog.packages);
        let distro = catalog.distro.clone();
        for p in &mut catalog.packages {
            if p.purl.is_empty() {
                p.purl = os_purl(p, distro.as_ref());
            }
        }
        crate::catalogers::classifiers::drop_repeated(&mut catalog.packages);
        link_locations(&mut catalog.packages, walk, layer_digests);
        catalog.relationships = ownership(&catalog.packages);
        catalog.relationships.extend(containment(&catalog.packages));
        catalog.packages.sort_by(|a, b| {
            (a.kind, &a.name, &a.version, a.path()).cmp(&(b.kind, &b.name, &b.version, b.path()))
        });
        catalog
    }
}

/// The package type a cataloger reports, from its tags (for unknowns).
fn kind_of(tags: &[&str]) -> PackageType {
    PackageType::ALL
        .into_iter()
        .find(|k| tags.contains(&k.as_str()))
        .unwrap_or(PackageType::Deb)
}

/// `pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12&upstream=openssl`.
fn os_purl(p: &Package, distro: Option<&Distro>) -> String {
    let (ty, default_ns) = match p.kind {
        PackageType::Apk => ("apk", "alpine"),
        PackageType::Rpm => ("rpm", "redhat"),
        _ => ("deb", "debian"),
    };
    let namespace = distro.map_or(default_ns, |d| d.id.as_str());
    let distro_q = distro.map(|d| match &d.version_id {
        Some(v) => format!("{}-{v}", d.id),
        None => d.id.clone(),
    });
    let arch = p.metadata.get("architecture").cloned().unwrap_or_default();
    let upstream = match (&p.source_name, &p.source_version) {
        (Some(n), Some(v)) => format!("{n}@{v}"),
        (Some(n), None) => n.clone(),
        (None, _) => String::new(),
    };
    // rpm: the epoch is a qualifier and the upstream is the source rpm (purl spec).
    let (version, epoch, upstream) = if p.kind == PackageType::Rpm {
        let (epoch, version) = match p.version.split_once(':') {
            Some((e, v)) if e.bytes().all(|b| b.is_ascii_digit()) => (e.to_owned(), v.to_owned()),
            _ => (String::new(), p.version.clone()),
        };
        (
            version,
            epoch,
            p.metadata.get("source-rpm").cloned().unwrap_or_default(),
        )
    } else {
        (p.version.clone(), String::new(), upstream)
    };
    let qualifiers = [
        ("arch", arch.as_str()),
        ("distro", distro_q.as_deref().unwrap_or("")),
        ("epoch", epoch.as_str()),
        ("upstream", upstream.as_str()),
    ];
    purl(ty, Some(namespace), &p.name, &version, &qualifiers).unwrap_or_default()
}

/// Folds lock-file entries into the installed packages they describe: the
/// lock file becomes another location; entries not installed stay, marked
/// `evidence: declared`.
fn merge_declared(packages: &mut Vec<Package>) {
    let is_declared = |p: &Package| p.metadata.get("evidence").is_some_and(|e| e == "declared");
    let mut installed: HashMap<(PackageType, String, String), usize> = HashMap::new();
    for (i, p) in packages.iter().enumerate().filter(|(_, p)| !is_declared(p)) {
        installed
            .entry((p.kind, p.name.clone(), p.version.clone()))
            .or_insert(i);
    }
    let mut extra: Vec<(usize, Location)> = Vec::new();
    let mut keep = vec![true; packages.len()];
    for (i, p) in packages.iter().enumerate().filter(|(_, p)| is_declared(p)) {
        if let Some(&target) = installed.get(&(p.kind, p.name.clone(), p.version.clone())) {
            extra.push((target, p.locations[0].clone()));
            keep[i] = false;
        }
    }
    for (target, location) in extra {
        if !packages[target].locations.contains(&location) {
            packages[target].locations.push(location);
        }
    }
    let mut index = 0;
    packages.retain(|_| {
        index += 1;
        keep[index - 1]
    });
}

/// A binary's or archive's main module contains the other modules read
/// from the same file (Go dependencies, crates, nested jars).
fn containment(packages: &[Package]) -> Vec<Relationship> {
    let mut out = Vec::new();
    for main in packages
        .iter()
        .filter(|p| p.metadata.get("main-module").is_some_and(|m| m == "true"))
    {
        for other in packages
            .iter()
            .filter(|o| o.kind == main.kind && o.path() == main.path() && o.id() != main.id())
        {
            out.push(Relationship {
                from: main.id(),
                to: other.id(),
                kind: RelationshipKind::Contains,
            });
        }
    }
    out
}

/// A runtime found in a file that symlinks lead to (`python3` →
/// `python3.11`) is reported once, at the real path, with each link as a
/// further location.
fn link_locations(packages: &mut [Package], walk: &Walk, layer_digests: &[Digest]) {
    let runtimes: HashMap<String, Vec<usize>> = packages
        .iter()
        .enumerate()
        .filter(|(_, p)| p.kind == PackageType::Binary)
        .fold(HashMap::new(), |mut m, (i, p)| {
            m.entry(p.path().to_owned()).or_default().push(i);
            m
        });
    if runtimes.is_empty() {
        return;
    }
    let mut links: Vec<(usize, String, usize)> = Vec::new();
    for (layer, entry) in walk.index.iter() {
        if entry.kind != customs_layer::EntryKind::Symlink {
            continue;
        }
        if let Some(indices) = walk
            .index
            .real_path(&entry.path)
            .and_then(|real| runtimes.get(&real))
        {
            for &i in indices {
                links.push((i, entry.path.clone(), layer));
            }
        }
    }
    links.sort();
    for (i, path, layer) in links {
        packages[i].locations.push(Location {
            path,
            layer: Some(layer),
            layer_digest: layer_digests.get(layer).cloned(),
        });
    }
}

/// Distro packages that installed the file another package was read from.
fn ownership(packages: &[Package]) -> Vec<Relationship> {
    let mut owner_of: BTreeMap<&str, String> = BTreeMap::new();
    for p in packages.iter().filter(|p| p.kind.is_os()) {
        for f in &p.files {
            owner_of.insert(f.as_str(), p.id());
        }
    }
    let mut out = Vec::new();
    for p in packages.iter().filter(|p| !p.kind.is_os()) {
        if let Some(owner) = owner_of.get(p.path()) {
            out.push(Relationship {
                from: owner.clone(),
                to: p.id(),
                kind: RelationshipKind::OwnsFileOf,
            });
        }
    }
    out
}
