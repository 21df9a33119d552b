//! cosign signatures next to an image in a registry, where cosign, Kyverno
//! and policy-controller look for them: an OCI image manifest at the tag
//! `sha256-<hex>.sig` of the image's repository, one layer per signature,
//! each layer the simple-signing payload with its signature in the
//! `dev.cosignproject.cosign/signature` annotation (cosign's
//! `specs/SIGNATURE_SPEC.md`).

use std::collections::BTreeMap;

use customs_oci::manifest::{Descriptor, ImageManifest};
use customs_oci::{RegistrySource, SourceError};
use customs_sign::dsse::{self, Envelope};
use customs_sign::intoto::Statement;
use customs_sign::simple_signing::{MEDIA_TYPE, SIGNATURE_ANNOTATION};
use customs_sign::{Payload, PrivateKey, SignatureLayer};
use customs_types::Digest;
use serde::Serialize;

/// The manifest media type of signature manifests.
const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_CONFIG: &str = "application/vnd.oci.image.config.v1+json";
/// The largest signature payload or attestation envelope read (a signature
/// is a few hundred bytes; an SBOM attestation can be tens of MiB).
const MAX_PAYLOAD: u64 = dsse::MAX_ENVELOPE_BYTES as u64;
/// How often a signature manifest changed by someone else while we wrote
/// ours is read again and merged before giving up.
const MERGE_ATTEMPTS: usize = 8;
/// Reads, spaced by [`settle_pause`], that must all show our signature
/// before a write counts as done.
const SETTLE_READS: usize = 2;

/// 100–350 ms, varying from one signer to the next so that two signers
/// settle apart (jitter from the clock; no RNG needed for this).
fn settle_pause() -> std::time::Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    std::time::Duration::from_millis(100 + u64::from(nanos % 250))
}

/// The tag holding an image's cosign signatures (`sha256-<hex>.sig`).
#[must_use]
pub fn signature_tag(digest: &Digest) -> String {
    format!("{}-{}.sig", digest.algorithm().name(), digest.hex())
}

/// Why signing or reading signatures failed (a failed verification is not
/// an error: it is [`customs_sign::ImageVerification`] data).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SignatureError {
    /// The registry could not be read or written.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The existing signature manifest is not a manifest.
    #[error("{tag}: the existing signature manifest is malformed: {reason}")]
    Malformed {
        /// The tag.
        tag: String,
        /// What is wrong.
        reason: String,
    },
    /// Someone else kept rewriting the signature manifest.
    #[error(
        "{tag} kept changing while it was written ({MERGE_ATTEMPTS} attempts); nothing was lost, try again"
    )]
    Contended {
        /// The tag.
        tag: String,
    },
}

/// What `sign` did.
#[derive(Debug, Clone, Serialize)]
pub struct Signed {
    /// `registry/repository@digest` signed.
    pub image: String,
    /// Where the signature is: `registry/repository:sha256-….sig`.
    pub location: String,
    /// The signature manifest's digest after the write.
    pub manifest_digest: String,
    /// Signatures in it now.
    pub signatures: usize,
    /// Whether this exact signature was there already (nothing written).
    pub already_present: bool,
}

/// The config of a signature manifest, as go-containerregistry writes it
/// for an empty image with layers appended (what cosign pushes).
fn config(layers: &[Descriptor]) -> Vec<u8> {
    let diff_ids: Vec<String> = layers.iter().map(|l| l.digest.to_string()).collect();
    let config = serde_json::json!({
        "architecture": "",
        "created": "0001-01-01T00:00:00Z",
        "history": layers.iter().map(|_| serde_json::json!({"created": "0001-01-01T00:00:00Z"})).collect::<Vec<_>>(),
        "os": "",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "config": {}
    });
    serde_json::to_vec(&config).unwrap_or_default()
}

async fn current(
    source: &RegistrySource,
    tag: &str,
) -> Result<Option<(ImageManifest, Digest)>, SignatureError> {
    let Some((bytes, digest)) = source.manifest_at(tag).await? else {
        return Ok(None);
    };
    let manifest: ImageManifest =
        serde_json::from_slice(&bytes).map_err(|e| SignatureError::Malformed {
            tag: tag.to_owned(),
            reason: e.to_string(),
        })?;
    Ok(Some((manifest, digest)))
}

/// Signs `digest` of the source's repository with `key` and stores the
/// signature where cosign does (see [`attach`]).
///
/// # Errors
/// [`SignatureError`]; a registry that refuses the push leaves the tag as
/// it was (blobs are uploaded before the manifest that names them).
pub async fn sign(
    source: &RegistrySource,
    digest: &Digest,
    key: &PrivateKey,
    annotations: Option<BTreeMap<String, serde_json::Value>>,
) -> Result<Signed, SignatureError> {
    let reference = source.reference();
    let repository = format!("{}/{}", reference.registry(), reference.repository());
    let payload = Payload {
        docker_reference: repository,
        manifest_digest: digest.clone(),
        optional: annotations,
    }
    .to_bytes();
    let signature = key.sign_base64(&payload);
    let layer_annotations = BTreeMap::from([(SIGNATURE_ANNOTATION.to_owned(), signature)]);
    attach(
        source,
        digest,
        &signature_tag(digest),
        MEDIA_TYPE,
        &payload,
        layer_annotations,
    )
    .await
}

/// The tag holding an image's cosign attestations (`sha256-<hex>.att`).
#[must_use]
pub fn attestation_tag(digest: &Digest) -> String {
    format!("{}-{}.att", digest.algorithm().name(), digest.hex())
}

/// Attests `predicate` (of `predicate_type`) about `digest` with `key`: an
/// in-toto Statement v1 whose subject is the image, in a DSSE envelope,
/// stored as cosign does at the `.att` tag with the `predicateType` layer
/// annotation.
///
/// # Errors
/// [`SignatureError`].
pub async fn attest(
    source: &RegistrySource,
    digest: &Digest,
    key: &PrivateKey,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Result<Signed, SignatureError> {
    let reference = source.reference();
    let name = format!("{}/{}", reference.registry(), reference.repository());
    let statement = Statement::new(&name, digest, predicate_type, predicate);
    let statement = serde_json::to_vec(&statement).map_err(|e| SignatureError::Malformed {
        tag: attestation_tag(digest),
        reason: e.to_string(),
    })?;
    let envelope = Envelope::sign(dsse::IN_TOTO, &statement, key);
    let envelope = serde_json::to_vec(&envelope).map_err(|e| SignatureError::Malformed {
        tag: attestation_tag(digest),
        reason: e.to_string(),
    })?;
    let layer_annotations =
        BTreeMap::from([("predicateType".to_owned(), predicate_type.to_owned())]);
    attach(
        source,
        digest,
        &attestation_tag(digest),
        dsse::MEDIA_TYPE,
        &envelope,
        layer_annotations,
    )
    .await
}

/// Appends one layer (`payload` with `layer_annotations`) to the manifest
/// at `tag`. An existing manifest is read first and the layer appended:
/// attaching again never drops what is there, and a layer already there
/// is not added twice.
async fn attach(
    source: &RegistrySource,
    digest: &Digest,
    tag: &str,
    media_type: &str,
    payload: &[u8],
    layer_annotations: BTreeMap<String, String>,
) -> Result<Signed, SignatureError> {
    let reference = source.reference();
    let repository = format!("{}/{}", reference.registry(), reference.repository());
    let location = format!("{repository}:{tag}");
    let mut layer = source.push_blob(media_type, payload).await?;
    layer.annotations = layer_annotations;
    let done = |manifest_digest: String, count: usize, already_present: bool| Signed {
        image: format!("{repository}@{digest}"),
        location: location.clone(),
        manifest_digest,
        signatures: count,
        already_present,
    };
    // The distribution API has no compare-and-swap: a writer that read the
    // manifest before another wrote it would overwrite that layer. So after
    // writing, read the tag again until ours is there on `SETTLE_READS`
    // reads spaced apart, merging again whenever it is gone.
    let mut wrote = false;
    let mut confirmations = 0;
    for _ in 0..MERGE_ATTEMPTS * (SETTLE_READS + 1) {
        let existing = current(source, tag).await?;
        let mut layers = existing
            .as_ref()
            .map(|(m, _)| m.layers.clone())
            .unwrap_or_default();
        if layers
            .iter()
            .any(|l| l.digest == layer.digest && l.annotations == layer.annotations)
        {
            let digest_now = existing.map(|(_, d)| d.to_string()).unwrap_or_default();
            if !wrote {
                return Ok(done(digest_now, layers.len(), true));
            }
            confirmations += 1;
            if confirmations >= SETTLE_READS {
                return Ok(done(digest_now, layers.len(), false));
            }
            tokio::time::sleep(settle_pause()).await;
            continue;
        }
        confirmations = 0;
        layers.push(layer.clone());
        let config = source.push_blob(OCI_CONFIG, &config(&layers)).await?;
        let manifest = ImageManifest {
            schema_version: 2,
            media_type: Some(OCI_MANIFEST.to_owned()),
            artifact_type: None,
            config,
            layers,
            subject: None,
            annotations: BTreeMap::new(),
        };
        let bytes = serde_json::to_vec(&manifest).map_err(|e| SignatureError::Malformed {
            tag: tag.to_owned(),
            reason: e.to_string(),
        })?;
        source.push_manifest(tag, OCI_MANIFEST, &bytes).await?;
        wrote = true;
        tokio::time::sleep(settle_pause()).await;
    }
    Err(SignatureError::Contended {
        tag: tag.to_owned(),
    })
}

/// Every layer of the image's signature manifest, each payload read and
/// verified against its descriptor; empty when there is none.
///
/// # Errors
/// [`SignatureError`] when the registry cannot be read; a blob whose bytes
/// do not match its descriptor is an integrity error, never a signature.
pub async fn read(
    source: &RegistrySource,
    digest: &Digest,
) -> Result<Vec<SignatureLayer>, SignatureError> {
    read_tag(source, &signature_tag(digest), &[MEDIA_TYPE]).await
}

/// Every layer of the image's attestation manifest (`.att`), each
/// envelope read and verified against its descriptor.
///
/// # Errors
/// As [`read`].
pub async fn read_attestations(
    source: &RegistrySource,
    digest: &Digest,
) -> Result<Vec<SignatureLayer>, SignatureError> {
    read_tag(source, &attestation_tag(digest), &[dsse::MEDIA_TYPE]).await
}

async fn read_tag(
    source: &RegistrySource,
    tag: &str,
    wanted: &[&str],
) -> Result<Vec<SignatureLayer>, SignatureError> {
    let reference = source.reference();
    let Some((manifest, _)) = current(source, tag).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, layer) in manifest.layers.iter().enumerate() {
        let where_ = format!(
            "{}/{}:{tag} layer {}",
            reference.registry(),
            reference.repository(),
            i + 1
        );
        let mut media_type = layer.media_type.clone();
        let payload = if !wanted.contains(&media_type.as_str()) {
            // Another attachment: reported as not a signature, never read.
            Vec::new()
        } else if layer.size > MAX_PAYLOAD {
            // One oversized layer fails alone; the others are still checked.
            media_type = format!(
                "{media_type} of {} bytes, over the {MAX_PAYLOAD}-byte limit",
                layer.size
            );
            Vec::new()
        } else {
            source.small_blob(layer, MAX_PAYLOAD, &where_).await?
        };
        out.push(SignatureLayer {
            source: where_,
            media_type,
            payload,
            annotations: layer.annotations.clone(),
        });
    }
    Ok(out)
}
