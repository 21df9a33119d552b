//! cosign signatures next to an image in a registry, where cosign, Kyverno
//! and policy-controller look for them: an OCI image manifest at the tag
//! `sha256-<hex>.sig` of the image's repository, one layer per signature,
//! each layer the simple-signing payload with its signature in the
//! `dev.cosignproject.cosign/signature` annotation (cosign's
//! `specs/SIGNATURE_SPEC.md`).

use std::collections::BTreeMap;

use customs_oci::manifest::{Descriptor, ImageIndex, ImageManifest};
use customs_oci::{RegistrySource, SourceError};
use customs_sign::dsse::{self, Envelope};
use customs_sign::intoto::Statement;
use customs_sign::simple_signing::{MEDIA_TYPE, SIGNATURE_ANNOTATION};
use customs_sign::{Bundle, Payload, PrivateKey, SignatureLayer};
use customs_types::Digest;
use serde::Serialize;

use customs_oci::media_type::{OCI_CONFIG, OCI_EMPTY, OCI_INDEX, OCI_MANIFEST};

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

/// Whether `tag` holds what is attached to an image rather than an image:
/// cosign's `sha256-<hex>.sig`, `.att` and `.sbom` tags, and the OCI 1.1
/// referrers tag schema's `sha256-<hex>` index.
#[must_use]
pub fn is_attachment_tag(tag: &str) -> bool {
    let Some(rest) = tag.strip_prefix("sha256-") else {
        return false;
    };
    [".sig", ".att", ".sbom"]
        .iter()
        .any(|suffix| rest.ends_with(suffix))
        || (rest.len() == 64 && rest.bytes().all(|b| b.is_ascii_hexdigit()))
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

async fn current<T: serde::de::DeserializeOwned>(
    source: &RegistrySource,
    tag: &str,
) -> Result<Option<(T, Digest)>, SignatureError> {
    let Some((bytes, digest)) = source.manifest_at(tag).await? else {
        return Ok(None);
    };
    let manifest: T = serde_json::from_slice(&bytes).map_err(|e| SignatureError::Malformed {
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
    let repository = source.reference().name();
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
    let name = source.reference().name();
    let statement = Statement::new(&name, digest, predicate_type, predicate);
    let tag = attestation_tag(digest);
    let envelope = Envelope::sign(dsse::IN_TOTO, &to_json(&statement, &tag)?, key);
    let envelope = to_json(&envelope, &tag)?;
    let layer_annotations =
        BTreeMap::from([("predicateType".to_owned(), predicate_type.to_owned())]);
    attach(
        source,
        digest,
        &tag,
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
    let repository = source.reference().name();
    let mut layer = source.push_blob(media_type, payload).await?;
    layer.annotations = layer_annotations;
    let merged = merge_tag::<ImageManifest, _, _>(
        source,
        tag,
        |m| {
            m.layers
                .iter()
                .any(|l| l.digest == layer.digest && l.annotations == layer.annotations)
        },
        |existing| async {
            let mut layers = existing.map(|m| m.layers).unwrap_or_default();
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
            Ok((OCI_MANIFEST, to_json(&manifest, tag)?))
        },
    )
    .await?;
    Ok(Signed {
        image: format!("{repository}@{digest}"),
        location: format!("{repository}:{tag}"),
        manifest_digest: merged.digest,
        signatures: merged.value.map_or(0, |m| m.layers.len()),
        already_present: merged.already_present,
    })
}

fn to_json(value: &impl Serialize, tag: &str) -> Result<Vec<u8>, SignatureError> {
    serde_json::to_vec(value).map_err(|e| SignatureError::Malformed {
        tag: tag.to_owned(),
        reason: e.to_string(),
    })
}

/// What a tag holds after [`merge_tag`].
struct Merged<T> {
    value: Option<T>,
    digest: String,
    already_present: bool,
}

/// Read-modify-write of the JSON document at `tag` until `present` holds
/// for it: `write` makes the new document from the current one (`None`
/// when there is none) and returns its media type and bytes. The
/// distribution API has no compare-and-swap: a writer that read the tag
/// before another wrote it would overwrite that write. So after writing,
/// read the tag again until ours is there on `SETTLE_READS` reads spaced
/// apart, merging again whenever it is gone.
async fn merge_tag<T, F, Fut>(
    source: &RegistrySource,
    tag: &str,
    present: impl Fn(&T) -> bool,
    write: F,
) -> Result<Merged<T>, SignatureError>
where
    T: serde::de::DeserializeOwned,
    F: Fn(Option<T>) -> Fut,
    Fut: std::future::Future<Output = Result<(&'static str, Vec<u8>), SignatureError>>,
{
    let mut wrote = false;
    let mut confirmations = 0;
    for _ in 0..MERGE_ATTEMPTS * (SETTLE_READS + 1) {
        let existing = current::<T>(source, tag).await?;
        if let Some((_, digest_now)) = existing.as_ref().filter(|(v, _)| present(v)) {
            let digest_now = digest_now.to_string();
            if !wrote || confirmations + 1 >= SETTLE_READS {
                return Ok(Merged {
                    value: existing.map(|(v, _)| v),
                    digest: digest_now,
                    already_present: !wrote,
                });
            }
            confirmations += 1;
            tokio::time::sleep(settle_pause()).await;
            continue;
        }
        confirmations = 0;
        let (media_type, bytes) = write(existing.map(|(v, _)| v)).await?;
        source.push_manifest(tag, media_type, &bytes).await?;
        wrote = true;
        tokio::time::sleep(settle_pause()).await;
    }
    Err(SignatureError::Contended {
        tag: tag.to_owned(),
    })
}

/// The media type and predicate type of the bundles customs attaches.
pub use customs_sign::bundle::BUNDLE_V03;
pub use customs_sign::intoto::SIGN_PREDICATE;

/// The descriptor of the manifest `bytes` at `digest` (its media type from
/// the document, as the registry served it).
#[must_use]
pub fn subject_descriptor(bytes: &[u8], digest: &Digest) -> Descriptor {
    let media_type = serde_json::from_slice::<serde_json::Value>(bytes)
        .ok()
        .and_then(|v| v["mediaType"].as_str().map(str::to_owned))
        .unwrap_or_else(|| OCI_MANIFEST.to_owned());
    Descriptor {
        media_type,
        digest: digest.clone(),
        size: bytes.len() as u64,
        urls: Vec::new(),
        annotations: BTreeMap::new(),
        platform: None,
        artifact_type: None,
    }
}

/// Signs the image as cosign v3 does: an in-toto statement about it
/// (predicate type [`SIGN_PREDICATE`], `-a` annotations on the subject)
/// in a DSSE envelope, in a Sigstore bundle, attached as an OCI 1.1
/// referrer (see [`attach_bundle`]).
///
/// # Errors
/// [`SignatureError`].
pub async fn sign_bundle(
    source: &RegistrySource,
    subject: &Descriptor,
    key: &PrivateKey,
    annotations: Option<BTreeMap<String, serde_json::Value>>,
) -> Result<Signed, SignatureError> {
    let name = source.reference().name();
    let mut statement = Statement::new(
        &name,
        &subject.digest,
        SIGN_PREDICATE,
        serde_json::json!({}),
    );
    if let (Some(annotations), Some(s)) = (annotations, statement.subject.first_mut()) {
        s.annotations = annotations;
    }
    bundle_statement(source, subject, key, &statement).await
}

/// Attests `predicate` about the image in a Sigstore bundle attached as an
/// OCI 1.1 referrer (cosign v3's `attest`).
///
/// # Errors
/// [`SignatureError`].
pub async fn attest_bundle(
    source: &RegistrySource,
    subject: &Descriptor,
    key: &PrivateKey,
    predicate_type: &str,
    predicate: serde_json::Value,
) -> Result<Signed, SignatureError> {
    let name = source.reference().name();
    let statement = Statement::new(&name, &subject.digest, predicate_type, predicate);
    bundle_statement(source, subject, key, &statement).await
}

async fn bundle_statement(
    source: &RegistrySource,
    subject: &Descriptor,
    key: &PrivateKey,
    statement: &Statement,
) -> Result<Signed, SignatureError> {
    let tag = customs_oci::referrers_tag(&subject.digest);
    let payload = to_json(statement, &tag)?;
    let bundle =
        Bundle::sign_dsse(key, dsse::IN_TOTO, &payload).map_err(|e| SignatureError::Malformed {
            tag: tag.clone(),
            reason: e.to_string(),
        })?;
    attach_bundle(source, subject, &bundle, Some(&statement.predicate_type)).await
}

/// Attaches `bundle` to `subject` as cosign's bundle spec says: the bundle
/// as a blob, an OCI 1.1 artifact manifest (`artifactType` the bundle
/// media type, empty config, `subject`, `dev.sigstore.bundle.*`
/// annotations) pushed by digest, which a registry with the referrers API
/// lists; and the same descriptor merged into the referrers tag schema's
/// index (`sha256-<hex>`), which clients of registries without it read.
///
/// # Errors
/// [`SignatureError`].
pub async fn attach_bundle(
    source: &RegistrySource,
    subject: &Descriptor,
    bundle: &Bundle,
    predicate_type: Option<&str>,
) -> Result<Signed, SignatureError> {
    let repository = source.reference().name();
    let tag = customs_oci::referrers_tag(&subject.digest);
    let json = bundle.to_json().map_err(|e| SignatureError::Malformed {
        tag: tag.clone(),
        reason: e.to_string(),
    })?;
    let layer = source.push_blob(BUNDLE_V03, json.as_bytes()).await?;
    let config = source.push_blob(OCI_EMPTY, b"{}").await?;
    let mut annotations = BTreeMap::from([
        (
            "dev.sigstore.bundle.content".to_owned(),
            if bundle.envelope().is_some() {
                "dsse-envelope"
            } else {
                "message-signature"
            }
            .to_owned(),
        ),
        (
            "org.opencontainers.image.created".to_owned(),
            customs_sbom::rfc3339(customs_sbom::timestamp()),
        ),
    ]);
    if let Some(t) = predicate_type {
        annotations.insert("dev.sigstore.bundle.predicateType".to_owned(), t.to_owned());
    }
    let mut subject = subject.clone();
    subject.annotations.clear();
    subject.platform = None;
    let manifest = ImageManifest {
        schema_version: 2,
        media_type: Some(OCI_MANIFEST.to_owned()),
        artifact_type: Some(BUNDLE_V03.to_owned()),
        config,
        layers: vec![layer],
        subject: Some(subject.clone()),
        annotations: annotations.clone(),
    };
    let bytes = to_json(&manifest, &tag)?;
    let manifest_digest = source
        .push_manifest(&Digest::sha256(&bytes).to_string(), OCI_MANIFEST, &bytes)
        .await?;
    let descriptor = Descriptor {
        media_type: OCI_MANIFEST.to_owned(),
        digest: manifest_digest.clone(),
        size: bytes.len() as u64,
        urls: Vec::new(),
        annotations,
        platform: None,
        artifact_type: Some(BUNDLE_V03.to_owned()),
    };
    let merged = merge_tag::<ImageIndex, _, _>(
        source,
        &tag,
        |index| index.manifests.iter().any(|d| d.digest == manifest_digest),
        |existing| async {
            let mut index = existing.unwrap_or(ImageIndex {
                schema_version: 2,
                media_type: Some(OCI_INDEX.to_owned()),
                manifests: Vec::new(),
                annotations: BTreeMap::new(),
            });
            index.manifests.push(descriptor.clone());
            Ok((OCI_INDEX, to_json(&index, &tag)?))
        },
    )
    .await?;
    Ok(Signed {
        image: format!("{repository}@{}", subject.digest),
        location: format!("{repository}@{manifest_digest} (referrer; tag {tag})"),
        manifest_digest: manifest_digest.to_string(),
        signatures: merged.value.map_or(0, |i| {
            i.manifests
                .iter()
                .filter(|d| d.artifact_type.as_deref() == Some(BUNDLE_V03))
                .count()
        }),
        already_present: false,
    })
}

/// A Sigstore bundle attached to an image as a referrer.
#[derive(Debug, Clone)]
pub struct BundleReferrer {
    /// Where: `registry/repository@sha256:… (referrer)`.
    pub source: String,
    /// The `dev.sigstore.bundle.predicateType` annotation.
    pub predicate_type: Option<String>,
    /// The bundle's bytes, read and checked against the descriptor.
    pub bytes: Vec<u8>,
}

/// The Sigstore bundles attached to `digest` as OCI 1.1 referrers (the
/// referrers API and the tag schema), each manifest and bundle blob read
/// and verified against its digest.
///
/// # Errors
/// [`SignatureError`] when the registry cannot be read or a blob does not
/// match its descriptor.
pub async fn read_bundles(
    source: &RegistrySource,
    digest: &Digest,
) -> Result<Vec<BundleReferrer>, SignatureError> {
    let repository = source.reference().name();
    let referrers = source.referrers(digest, Some(BUNDLE_V03)).await?;
    let mut out = Vec::new();
    for descriptor in &referrers {
        let where_ = format!("{repository}@{} (referrer)", descriptor.digest);
        let Some((bytes, _)) = source.manifest_at(&descriptor.digest.to_string()).await? else {
            continue; // listed, then deleted: nothing to verify
        };
        let manifest: ImageManifest =
            serde_json::from_slice(&bytes).map_err(|e| SignatureError::Malformed {
                tag: where_.clone(),
                reason: e.to_string(),
            })?;
        let Some(layer) = manifest.layers.iter().find(|l| l.media_type == BUNDLE_V03) else {
            continue;
        };
        if layer.size > MAX_PAYLOAD {
            out.push(BundleReferrer {
                source: format!("{where_}: bundle of {} bytes, over the limit", layer.size),
                predicate_type: None,
                bytes: Vec::new(),
            });
            continue;
        }
        let bytes = source.small_blob(layer, MAX_PAYLOAD, &where_).await?;
        out.push(BundleReferrer {
            source: where_,
            predicate_type: manifest
                .annotations
                .get("dev.sigstore.bundle.predicateType")
                .or_else(|| {
                    descriptor
                        .annotations
                        .get("dev.sigstore.bundle.predicateType")
                })
                .cloned(),
            bytes,
        });
    }
    Ok(out)
}

/// Everything cosign attached to one digest, each payload read and
/// verified against its descriptor.
#[derive(Debug, Clone, Default)]
pub struct Attachments {
    /// The `.sig` layers and the bundle referrers that are signatures.
    pub signatures: Vec<SignatureLayer>,
    /// The `.att` layers and the bundle referrers that are attestations.
    pub attestations: Vec<SignatureLayer>,
}

/// The `.sig` and `.att` tags and the bundle referrers of `digest`, read
/// at once, the referrers once for both kinds.
///
/// # Errors
/// [`SignatureError`] when the registry cannot be read; a blob whose bytes
/// do not match its descriptor is an integrity error, never a signature.
pub async fn read_all(
    source: &RegistrySource,
    digest: &Digest,
) -> Result<Attachments, SignatureError> {
    let (sig, att) = (signature_tag(digest), attestation_tag(digest));
    let (signatures, attestations, bundles) = tokio::join!(
        read_tag(source, &sig, &[MEDIA_TYPE]),
        read_tag(source, &att, &[dsse::MEDIA_TYPE]),
        read_bundles(source, digest)
    );
    let mut out = Attachments {
        signatures: signatures?,
        attestations: attestations?,
    };
    out.add_bundles(bundles?);
    Ok(out)
}

impl Attachments {
    /// Routes bundle referrers by their predicate-type annotation; one
    /// without it goes to both, and the verification says what it is.
    fn add_bundles(&mut self, bundles: Vec<BundleReferrer>) {
        for bundle in bundles {
            let kind = bundle
                .predicate_type
                .as_deref()
                .map(|t| t == SIGN_PREDICATE);
            let layer = SignatureLayer {
                source: bundle.source,
                media_type: BUNDLE_V03.to_owned(),
                payload: bundle.bytes,
                annotations: bundle
                    .predicate_type
                    .map(|t| BTreeMap::from([("predicateType".to_owned(), t)]))
                    .unwrap_or_default(),
            };
            match kind {
                Some(true) => self.signatures.push(layer),
                Some(false) => self.attestations.push(layer),
                None => {
                    self.signatures.push(layer.clone());
                    self.attestations.push(layer);
                }
            }
        }
    }
}

/// The signatures of `digest`: the `.sig` tag and the bundle referrers
/// that are signatures, read at once.
///
/// # Errors
/// As [`read_all`].
pub async fn read(
    source: &RegistrySource,
    digest: &Digest,
) -> Result<Vec<SignatureLayer>, SignatureError> {
    let tag = signature_tag(digest);
    let (tagged, bundles) = tokio::join!(
        read_tag(source, &tag, &[MEDIA_TYPE]),
        read_bundles(source, digest)
    );
    let mut out = Attachments {
        signatures: tagged?,
        attestations: Vec::new(),
    };
    out.add_bundles(bundles?);
    Ok(out.signatures)
}

/// The attestations of `digest`: the `.att` tag and the bundle referrers
/// that are attestations, read at once.
///
/// # Errors
/// As [`read_all`].
pub async fn read_attestations(
    source: &RegistrySource,
    digest: &Digest,
) -> Result<Vec<SignatureLayer>, SignatureError> {
    let tag = attestation_tag(digest);
    let (tagged, bundles) = tokio::join!(
        read_tag(source, &tag, &[dsse::MEDIA_TYPE]),
        read_bundles(source, digest)
    );
    let mut out = Attachments {
        signatures: Vec::new(),
        attestations: tagged?,
    };
    out.add_bundles(bundles?);
    Ok(out.attestations)
}

async fn read_tag(
    source: &RegistrySource,
    tag: &str,
    wanted: &[&str],
) -> Result<Vec<SignatureLayer>, SignatureError> {
    let repository = source.reference().name();
    let Some((manifest, _)) = current::<ImageManifest>(source, tag).await? else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for (i, layer) in manifest.layers.iter().enumerate() {
        let where_ = format!("{repository}:{tag} layer {}", i + 1);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_tags() {
        let digest = Digest::sha256(b"x");
        for tag in [
            signature_tag(&digest),
            attestation_tag(&digest),
            format!("{}.sbom", customs_oci::referrers_tag(&digest)),
            customs_oci::referrers_tag(&digest),
        ] {
            assert!(is_attachment_tag(&tag), "{tag}");
        }
        for tag in ["1.0", "sha256-abc", "sha256-", "latest.sig"] {
            assert!(!is_attachment_tag(tag), "{tag}");
        }
    }
}
