//! Base images: which image an image was built `FROM`, and the local
//! catalogue of base images (who owns each, whether it is approved).
//!
//! Detection, in order of trust: the OCI annotations
//! `org.opencontainers.image.base.name` / `.base.digest` on the manifest;
//! the materials of a BuildKit (SLSA) provenance; and — when neither is
//! there — the catalogued base whose layer chain (uncompressed `diff_ids`,
//! so recompression does not matter) is the longest prefix of the image's.

use std::path::Path;

use customs_oci::media_type::{ANNOTATION_BASE_DIGEST, ANNOTATION_BASE_NAME};
use customs_oci::{Image, RegistryRef};
use serde::{Deserialize, Serialize};

use crate::PipelineError;

/// The catalogue file format version.
pub const CATALOGUE_VERSION: u32 = 1;

/// The largest catalogue read.
const MAX_CATALOGUE_BYTES: u64 = 64 << 20;

/// One catalogued base image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseEntry {
    /// Its reference as added (`docker.io/library/debian:bookworm`).
    pub name: String,
    /// Its repository (`docker.io/library/debian`), when it has one.
    #[serde(default)]
    pub repository: Option<String>,
    /// Its manifest digest.
    pub digest: String,
    /// Its layer chain (the config's `rootfs.diff_ids`).
    pub diff_ids: Vec<String>,
    /// When it was built (its config's `created`).
    #[serde(default)]
    pub created: Option<String>,
    /// The team that owns it and keeps it updated.
    #[serde(default)]
    pub owner: Option<String>,
    /// Whether it is approved as a base.
    #[serde(default)]
    pub approved: bool,
    /// When it was added (RFC 3339).
    pub added: String,
}

/// The base catalogue: a JSON file under the data directory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseCatalogue {
    /// [`CATALOGUE_VERSION`].
    pub version: u32,
    /// Every base, in the order added.
    pub bases: Vec<BaseEntry>,
}

fn io(path: &Path, e: impl std::fmt::Display) -> PipelineError {
    PipelineError::Document {
        what: path.display().to_string(),
        reason: e.to_string(),
    }
}

impl BaseCatalogue {
    /// Reads the catalogue; a missing file is an empty catalogue.
    ///
    /// # Errors
    /// [`PipelineError::Document`] naming the file when it cannot be read
    /// or is not a catalogue.
    pub fn load(path: &Path) -> Result<Self, PipelineError> {
        let meta = match fs_err::metadata(path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(Self {
                    version: CATALOGUE_VERSION,
                    bases: Vec::new(),
                });
            }
            Err(e) => return Err(io(path, e)),
        };
        if meta.len() > MAX_CATALOGUE_BYTES {
            return Err(io(path, format!("larger than {MAX_CATALOGUE_BYTES} bytes")));
        }
        let bytes = fs_err::read(path).map_err(|e| io(path, e))?;
        let catalogue: Self = serde_json::from_slice(&bytes)
            .map_err(|e| io(path, format!("not a base catalogue: {e}")))?;
        if catalogue.version != CATALOGUE_VERSION {
            return Err(io(
                path,
                format!(
                    "catalogue version {} (this customs reads {CATALOGUE_VERSION})",
                    catalogue.version
                ),
            ));
        }
        Ok(catalogue)
    }

    /// Writes the catalogue atomically (a temporary file renamed over it).
    ///
    /// # Errors
    /// [`PipelineError::Document`] naming the file.
    pub fn save(&self, path: &Path) -> Result<(), PipelineError> {
        if let Some(dir) = path.parent() {
            fs_err::create_dir_all(dir).map_err(|e| io(path, e))?;
        }
        let tmp = path.with_extension(format!("tmp.{}", std::process::id()));
        let text = serde_json::to_vec_pretty(self).map_err(|e| io(path, e))?;
        fs_err::write(&tmp, text).map_err(|e| io(&tmp, e))?;
        fs_err::rename(&tmp, path).map_err(|e| io(path, e))
    }

    /// Adds a base (replacing the entry of the same digest).
    pub fn add(&mut self, entry: BaseEntry) {
        self.bases.retain(|b| b.digest != entry.digest);
        self.bases.push(entry);
    }

    /// The entry of a digest.
    #[must_use]
    pub fn by_digest(&self, digest: &str) -> Option<&BaseEntry> {
        self.bases.iter().find(|b| b.digest == digest)
    }

    /// The base whose layer chain is the longest prefix of `diff_ids` (the
    /// image itself excluded: a prefix must leave at least one layer, unless
    /// the digests differ).
    #[must_use]
    pub fn by_layers(&self, diff_ids: &[String], own_digest: &str) -> Option<&BaseEntry> {
        self.bases
            .iter()
            .filter(|b| {
                !b.diff_ids.is_empty()
                    && b.diff_ids.len() <= diff_ids.len()
                    && diff_ids.starts_with(&b.diff_ids)
                    && b.digest != own_digest
            })
            .max_by_key(|b| b.diff_ids.len())
    }
}

/// An image's layer chain: its config's `diff_ids`.
fn diff_ids(image: &Image) -> Vec<String> {
    image
        .config
        .rootfs
        .diff_ids
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// A catalogue entry for an image.
#[must_use]
pub fn entry_of(image: &Image, owner: Option<String>, approved: bool) -> BaseEntry {
    let repository = RegistryRef::parse(&image.name).ok().map(|r| r.name());
    BaseEntry {
        name: image.name.clone(),
        repository,
        digest: image.manifest_digest.to_string(),
        diff_ids: diff_ids(image),
        created: image.config.created.clone(),
        owner,
        approved,
        added: customs_sbom::rfc3339(customs_sbom::timestamp()),
    }
}

/// A detected base image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetectedBase {
    /// Its name (`docker.io/library/debian:bookworm`).
    pub name: Option<String>,
    /// Its digest.
    pub digest: Option<String>,
    /// `annotation`, `provenance` or `catalogue`.
    pub detected_by: &'static str,
    /// Its catalogue entry, when catalogued.
    pub entry: Option<BaseEntry>,
}

/// `pkg:docker/debian@bookworm?platform=…` as `docker.io/library/debian:bookworm`.
fn name_of_material(uri: &str) -> Option<String> {
    let rest = uri.strip_prefix("pkg:docker/")?;
    let (path, qualifiers) = rest.split_once('?').unwrap_or((rest, ""));
    let (name, tag) = path.split_once('@').unwrap_or((path, "latest"));
    let registry = qualifiers
        .split('&')
        .find_map(|q| q.strip_prefix("repository_url="))
        .map(|u| u.replace("%2F", "/"));
    let full = match registry {
        Some(r) => format!("{r}:{tag}"),
        None => format!("{name}:{tag}"),
    };
    let parsed = RegistryRef::parse(&full.replace("%2F", "/")).ok()?;
    Some(match parsed.tag() {
        Some(t) => format!("{}:{t}", parsed.name()),
        None => parsed.name(),
    })
}

/// The base named by a provenance predicate's materials (SLSA v0.2
/// `materials`, v1 `buildDefinition.resolvedDependencies`): the first
/// container image among them.
#[must_use]
pub fn from_provenance(predicate: &serde_json::Value) -> Option<(String, Option<String>)> {
    let lists = [
        predicate.get("materials"),
        predicate
            .get("buildDefinition")
            .and_then(|b| b.get("resolvedDependencies")),
    ];
    lists
        .into_iter()
        .flatten()
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .find_map(|m| {
            let name = name_of_material(m.get("uri")?.as_str()?)?;
            let digest = m
                .get("digest")
                .and_then(|d| d.get("sha256"))
                .and_then(serde_json::Value::as_str)
                .map(|h| format!("sha256:{h}"));
            Some((name, digest))
        })
}

/// Detects the base image of an opened image, reading the provenance
/// BuildKit put in its index (signed provenance is the gate's business).
///
/// # Errors
/// [`PipelineError`] when the index's attestations cannot be read.
pub async fn detect_image(
    source: &customs_oci::AnySource,
    image: &Image,
    catalogue: &BaseCatalogue,
) -> Result<Option<DetectedBase>, PipelineError> {
    let provenance: Vec<serde_json::Value> = crate::attestations::buildkit(source, image)
        .await?
        .into_iter()
        .filter_map(|b| b.statement)
        .filter(|s| s.predicate_type.starts_with("https://slsa.dev/provenance/"))
        .map(|s| s.predicate)
        .collect();
    let refs: Vec<&serde_json::Value> = provenance.iter().collect();
    Ok(detect(image, &refs, catalogue))
}

/// Detects the base image; see the module documentation.
#[must_use]
pub fn detect(
    image: &Image,
    provenance: &[&serde_json::Value],
    catalogue: &BaseCatalogue,
) -> Option<DetectedBase> {
    let annotations = &image.manifest.annotations;
    let labels = image.config.config.as_ref().and_then(|c| c.labels.as_ref());
    let annotated = |key: &str| {
        annotations
            .get(key)
            .or_else(|| labels.and_then(|l| l.get(key)))
            .cloned()
    };
    // The catalogued base sharing the longest layer prefix: the base itself
    // when nothing else names one, its catalogue entry when something does.
    let layered = catalogue.by_layers(&diff_ids(image), image.manifest_digest.as_str());
    let with_entry = |name: Option<String>, digest: Option<String>, by: &'static str| {
        let entry = digest
            .as_deref()
            .and_then(|d| catalogue.by_digest(d))
            .or(layered)
            .cloned();
        DetectedBase {
            name,
            digest,
            detected_by: by,
            entry,
        }
    };
    let (name, digest) = (
        annotated(ANNOTATION_BASE_NAME),
        annotated(ANNOTATION_BASE_DIGEST),
    );
    if name.is_some() || digest.is_some() {
        return Some(with_entry(name, digest, "annotation"));
    }
    if let Some((name, digest)) = provenance.iter().find_map(|p| from_provenance(p)) {
        return Some(with_entry(Some(name), digest, "provenance"));
    }
    layered.map(|b| DetectedBase {
        name: Some(b.name.clone()),
        digest: Some(b.digest.clone()),
        detected_by: "catalogue",
        entry: Some(b.clone()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provenance_materials_name_the_base() {
        let v02 = serde_json::json!({"materials": [
            {"uri": "pkg:docker/debian@bookworm?platform=linux%2Famd64", "digest": {"sha256": "aa"}}]});
        assert_eq!(
            from_provenance(&v02),
            Some((
                "docker.io/library/debian:bookworm".to_owned(),
                Some("sha256:aa".to_owned())
            ))
        );
        let v1 = serde_json::json!({"buildDefinition": {"resolvedDependencies": [
            {"uri": "git+https://github.com/acme/app"},
            {"uri": "pkg:docker/gcr.io/distroless/static@nonroot", "digest": {"sha256": "bb"}}]}});
        assert_eq!(
            from_provenance(&v1).unwrap().0,
            "gcr.io/distroless/static:nonroot"
        );
        assert_eq!(from_provenance(&serde_json::json!({})), None);
    }

    fn entry(digest: &str, chain: &[&str]) -> BaseEntry {
        BaseEntry {
            name: format!("base-{digest}"),
            repository: None,
            digest: digest.to_owned(),
            diff_ids: chain.iter().map(|s| (*s).to_owned()).collect(),
            created: None,
            owner: None,
            approved: false,
            added: String::new(),
        }
    }

    #[test]
    fn the_longest_layer_prefix_wins() {
        let mut c = BaseCatalogue::default();
        c.add(entry("sha256:os", &["a"]));
        c.add(entry("sha256:runtime", &["a", "b"]));
        c.add(entry("sha256:other", &["x"]));
        let chain: Vec<String> = ["a", "b", "c"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            c.by_layers(&chain, "sha256:app").unwrap().digest,
            "sha256:runtime"
        );
        // An image is not its own base.
        let own: Vec<String> = ["a", "b"].iter().map(|s| (*s).to_owned()).collect();
        assert_eq!(
            c.by_layers(&own, "sha256:runtime").unwrap().digest,
            "sha256:os"
        );
        let none: Vec<String> = vec!["z".to_owned()];
        assert!(c.by_layers(&none, "sha256:app").is_none());
    }
}
