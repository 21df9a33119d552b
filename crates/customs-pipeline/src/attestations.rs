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

/// The predicate types of SBOM attestations.
pub const SBOM_PREDICATES: [&str; 2] = [
    customs_sign::intoto::SPDX_PREDICATE,
    customs_sign::intoto::CYCLONEDX_PREDICATE,
];

/// An SBOM found attached to an image.
#[derive(Debug, Clone)]
pub struct AttestedSbom {
    /// Where it was found.
    pub source: String,
    /// Who signed it, when it was verified (`key` or the certificate
    /// identity); `None` when it was taken unverified.
    pub signer: Option<String>,
    /// Its predicate type.
    pub predicate_type: String,
    /// The SBOM document (the statement's predicate).
    pub document: Vec<u8>,
}

impl AttestedSbom {
    fn new(source: String, signer: Option<String>, statement: Statement) -> Self {
        Self {
            source,
            signer,
            // A `Value` always serialises.
            document: serde_json::to_vec(&statement.predicate).unwrap_or_default(),
            predicate_type: statement.predicate_type,
        }
    }
}

/// Why no attested SBOM could be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AttestedSbomError {
    /// The registry could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// Attachments could not be read.
    #[error(transparent)]
    Signature(#[from] crate::signatures::SignatureError),
    /// Nothing usable is attached.
    #[error("no {what} SBOM attestation of {digest} was found{hint}")]
    None {
        /// `verified` or `attached`.
        what: &'static str,
        /// The image.
        digest: String,
        /// What to do about it.
        hint: &'static str,
    },
}

/// The SBOM attested for `image` (its platform manifest first, then the
/// index it was chosen from). With `trust`, only an attestation that
/// verifies with it counts (cosign's `.att` tag or a v3 bundle referrer);
/// without, cosign attestations and BuildKit's SBOM attestation in the
/// index are taken as found (the caller says they are unverified).
///
/// # Errors
/// [`AttestedSbomError`]: nothing usable, or the registry cannot be read.
pub async fn attested_sbom(
    source: &AnySource,
    image: &Image,
    trust: Option<customs_sign::Trust<'_>>,
) -> Result<AttestedSbom, AttestedSbomError> {
    let is_sbom = |t: &str| SBOM_PREDICATES.contains(&t);
    let mut digests = vec![image.manifest_digest.clone()];
    digests.extend(image.index_digest().cloned());
    if let AnySource::Registry(registry) = source {
        for digest in &digests {
            let layers = crate::signatures::read_attestations(registry, digest).await?;
            let found = match trust {
                Some(trust) => customs_sign::verify_attestations(&layers, trust, digest, None)
                    .attestations
                    .into_iter()
                    .filter(|a| a.check.verified)
                    .find_map(|a| {
                        let statement = a.statement?;
                        is_sbom(&statement.predicate_type).then_some((
                            a.check.source,
                            a.signer,
                            statement,
                        ))
                    }),
                None => layers.iter().find_map(|layer| {
                    let statement: Statement = serde_json::from_value(layer.statement()?).ok()?;
                    (is_sbom(&statement.predicate_type) && statement.is_about(digest))
                        .then(|| (layer.source.clone(), None, statement))
                }),
            };
            if let Some((source, signer, statement)) = found {
                return Ok(AttestedSbom::new(source, signer, statement));
            }
        }
    }
    if trust.is_none() {
        for a in buildkit(source, image).await? {
            if let (None, Some(statement)) = (&a.problem, a.statement)
                && is_sbom(&statement.predicate_type)
            {
                return Ok(AttestedSbom::new(a.source, None, statement));
            }
        }
    }
    Err(AttestedSbomError::None {
        what: if trust.is_some() {
            "verified"
        } else {
            "attached"
        },
        digest: image.manifest_digest.to_string(),
        hint: if trust.is_some() {
            " (BuildKit's are unsigned and never count as verified)"
        } else {
            " (attach one with `customs sbom REF --attest --key K`, or build with `docker buildx build --sbom=true`)"
        },
    })
}
