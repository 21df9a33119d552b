//! BuildKit's attestations: `docker buildx build --sbom=true
//! --provenance=true` puts, in the image index beside each platform's
//! manifest, an attestation manifest (`vnd.docker.reference.type:
//! attestation-manifest`, `vnd.docker.reference.digest: <that manifest>`)
//! whose layers are unsigned in-toto statements (`application/vnd.in-toto+json`,
//! `in-toto.io/predicate-type` annotation): the SBOM and SLSA provenance.

use customs_oci::manifest::ImageManifest;
use customs_oci::{AnySource, Image, SourceError};
use customs_sign::intoto::Statement;

/// The largest attestation manifest and statement read.
const MAX_MANIFEST: u64 = 4 << 20;
const MAX_STATEMENT: u64 = 64 << 20;

/// One BuildKit attestation of the image.
#[derive(Debug, Clone)]
pub struct BuildkitAttestation {
    /// Where it is: `attestation-manifest sha256:… layer N`.
    pub source: String,
    /// The layer's predicate type annotation, else the statement's.
    pub predicate_type: Option<String>,
    /// The statement, when it parsed.
    pub statement: Option<Statement>,
    /// The raw statement bytes (what `--download` writes).
    pub bytes: Vec<u8>,
    /// Why it cannot be used, when it cannot: not a statement, or about
    /// another digest than the image's.
    pub problem: Option<String>,
}

/// The BuildKit attestations of `image`'s platform manifest, from the index
/// it was chosen from (none without an index).
///
/// # Errors
/// [`SourceError`] when a referenced manifest or blob cannot be read or
/// does not match its digest.
pub async fn buildkit(
    source: &AnySource,
    image: &Image,
) -> Result<Vec<BuildkitAttestation>, SourceError> {
    let Some(index) = &image.index else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for entry in index
        .manifests
        .iter()
        .filter(|e| e.attestation && e.attests.as_ref() == Some(&image.manifest_digest))
    {
        let what = format!("attestation-manifest {}", entry.digest);
        let bytes = source
            .fetch_small(&entry.descriptor(), MAX_MANIFEST, &what)
            .await?;
        let manifest: ImageManifest = serde_json::from_slice(&bytes)
            .map_err(|e| SourceError::malformed(&what, format!("not an image manifest: {e}")))?;
        for (i, layer) in manifest.layers.iter().enumerate() {
            let where_ = format!("{what} layer {}", i + 1);
            let bytes = source.fetch_small(layer, MAX_STATEMENT, &where_).await?;
            let statement: Option<Statement> = serde_json::from_slice(&bytes).ok();
            let problem = match &statement {
                None => Some("not an in-toto statement".to_owned()),
                Some(s) if !s.is_about(&image.manifest_digest) => Some(format!(
                    "about another digest than {}",
                    image.manifest_digest
                )),
                Some(_) => None,
            };
            out.push(BuildkitAttestation {
                source: where_,
                predicate_type: layer
                    .annotations
                    .get("in-toto.io/predicate-type")
                    .cloned()
                    .or_else(|| statement.as_ref().map(|s| s.predicate_type.clone())),
                statement,
                bytes,
                problem,
            });
        }
    }
    Ok(out)
}
