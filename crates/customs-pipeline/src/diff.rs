//! What changed between two images: the release review a human reads.

use std::collections::{BTreeMap, BTreeSet};

use customs_oci::Image;
use customs_sbom::Sbom;
use customs_vuln::MatchReport;
use serde::Serialize;

/// The difference between two images.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImageDiff {
    /// The old digest.
    pub old: String,
    /// The new digest.
    pub new: String,
    /// Packages only in the new image (`type name version`).
    pub added: Vec<PackageChange>,
    /// Packages only in the old image.
    pub removed: Vec<PackageChange>,
    /// Packages whose versions changed.
    pub changed: Vec<PackageChange>,
    /// Compressed size before and after.
    pub size: (u64, u64),
    /// Layers before and after.
    pub layers: (usize, usize),
    /// Layers (by digest) both share.
    pub shared_layers: usize,
    /// Config fields that changed: field, before, after.
    pub config: Vec<(String, String, String)>,
    /// Findings the new image no longer has.
    pub fixed: Vec<String>,
    /// Findings only the new image has.
    pub introduced: Vec<String>,
    /// Whether vulnerabilities were compared (an advisory database was there).
    pub vulnerabilities_compared: bool,
}

/// A package added, removed or changed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct PackageChange {
    /// The package type.
    #[serde(rename = "type")]
    pub kind: String,
    /// The name.
    pub name: String,
    /// The versions before (empty when added).
    pub before: Vec<String>,
    /// The versions after (empty when removed).
    pub after: Vec<String>,
}

fn versions(sbom: &Sbom) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for p in &sbom.packages {
        out.entry((p.kind.as_str().to_owned(), p.name.clone()))
            .or_default()
            .insert(p.version.clone());
    }
    out
}

fn findings(matches: &MatchReport) -> BTreeSet<String> {
    matches
        .findings
        .iter()
        .map(|f| {
            format!(
                "{} {} {}@{}",
                f.severity(),
                f.id,
                f.package.name,
                f.package.version
            )
        })
        .collect()
}

fn config_fields(image: &Image) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let Some(c) = &image.config.config else {
        return out;
    };
    // Values are shown as `inspect` shows them: secret-looking ones redacted.
    let redact = customs_checks::redact::redact_text;
    let list =
        |v: &Option<Vec<String>>| v.as_ref().map(|l| redact(&l.join(" "))).unwrap_or_default();
    out.insert("user".to_owned(), c.user.clone().unwrap_or_default());
    out.insert("entrypoint".to_owned(), list(&c.entrypoint));
    out.insert("cmd".to_owned(), list(&c.cmd));
    out.insert(
        "workdir".to_owned(),
        c.working_dir.clone().unwrap_or_default(),
    );
    for env in c.env.iter().flatten() {
        let redacted = customs_checks::redact::redact_env(env);
        let (name, value) = redacted.split_once('=').unwrap_or((&redacted, ""));
        out.insert(format!("env {name}"), value.to_owned());
    }
    for (name, value) in c.labels.iter().flatten() {
        out.insert(format!("label {name}"), redact(value));
    }
    for port in c.exposed_ports.iter().flat_map(BTreeMap::keys) {
        out.insert(format!("port {port}"), "exposed".to_owned());
    }
    out
}

/// Compares two images, their SBOMs and (when given) their matches.
#[must_use]
pub fn diff(
    old: (&Image, &Sbom, Option<&MatchReport>),
    new: (&Image, &Sbom, Option<&MatchReport>),
) -> ImageDiff {
    let (before, after) = (versions(old.1), versions(new.1));
    let mut out = ImageDiff {
        old: old.0.manifest_digest.to_string(),
        new: new.0.manifest_digest.to_string(),
        size: (old.0.compressed_size(), new.0.compressed_size()),
        layers: (old.0.manifest.layers.len(), new.0.manifest.layers.len()),
        ..ImageDiff::default()
    };
    let old_layers: BTreeSet<_> = old.0.manifest.layers.iter().map(|l| &l.digest).collect();
    out.shared_layers = new
        .0
        .manifest
        .layers
        .iter()
        .filter(|l| old_layers.contains(&l.digest))
        .count();
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    for key in keys {
        let change = |b: Option<&BTreeSet<String>>, a: Option<&BTreeSet<String>>| PackageChange {
            kind: key.0.clone(),
            name: key.1.clone(),
            before: b.map(|s| s.iter().cloned().collect()).unwrap_or_default(),
            after: a.map(|s| s.iter().cloned().collect()).unwrap_or_default(),
        };
        match (before.get(key), after.get(key)) {
            (None, Some(a)) => out.added.push(change(None, Some(a))),
            (Some(b), None) => out.removed.push(change(Some(b), None)),
            (Some(b), Some(a)) if a != b => out.changed.push(change(Some(b), Some(a))),
            _ => {}
        }
    }
    let (cb, ca) = (config_fields(old.0), config_fields(new.0));
    let fields: BTreeSet<&String> = cb.keys().chain(ca.keys()).collect();
    for field in fields {
        let (b, a) = (cb.get(field), ca.get(field));
        if b != a {
            out.config.push((
                field.clone(),
                b.cloned().unwrap_or_else(|| "(none)".to_owned()),
                a.cloned().unwrap_or_else(|| "(none)".to_owned()),
            ));
        }
    }
    if let (Some(bm), Some(am)) = (old.2, new.2) {
        out.vulnerabilities_compared = true;
        let (fb, fa) = (findings(bm), findings(am));
        out.fixed = fb.difference(&fa).cloned().collect();
        out.introduced = fa.difference(&fb).cloned().collect();
    }
    out
}
