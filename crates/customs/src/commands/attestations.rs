//! `customs attestations REF`: everything attached to one digest, from every
//! place it can be — cosign's `.sig` and `.att` tags and Sigstore bundles
//! attached as OCI 1.1 referrers (registries), and the attestation
//! manifests BuildKit puts in the image index — with its predicate type and
//! state.

use customs_cli::{AttestationsArgs, Format, GlobalArgs};
use customs_oci::{AnySource, Target};
use serde::Serialize;

use super::output::{Mode, write_file};
use crate::exit::ExitStatus;
use crate::render;

/// One thing attached to the image.
#[derive(Debug, Serialize)]
struct Attached {
    /// Where it is.
    source: String,
    /// `signature`, `attestation` (cosign) or `buildkit-attestation`.
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    predicate_type: Option<String>,
    /// `verified`, `signed (not verified: no --key or identity)`,
    /// `unsigned`, or the check that failed.
    state: String,
    /// Who signed it, once verified: the key, or the certificate identity.
    #[serde(skip_serializing_if = "Option::is_none")]
    signer: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statement: Option<serde_json::Value>,
    #[serde(skip)]
    bytes: Vec<u8>,
}

#[derive(Serialize)]
struct Listing {
    digest: String,
    attached: Vec<Attached>,
}

/// One cosign signature or attestation as listed: its statement (an
/// attestation's predicate type from it when the layer does not say), and
/// its state and signer when it was verified (`outcome`).
fn listed(
    layer: &customs_sign::SignatureLayer,
    kind: &'static str,
    predicate_type: Option<String>,
    outcome: Option<(&customs_sign::Check, Option<&str>)>,
    trust: Option<&super::keys::Trust>,
) -> Attached {
    let statement = layer.statement();
    let predicate_type = predicate_type.or_else(|| {
        (kind == "attestation")
            .then(|| {
                statement.as_ref()?["predicateType"]
                    .as_str()
                    .map(str::to_owned)
            })
            .flatten()
    });
    let signer = match (outcome, trust) {
        (Some((check, signer)), Some(trust)) if check.verified => trust.signer_name(signer),
        _ => None,
    };
    Attached {
        source: layer.source.clone(),
        kind: match (kind, layer.is_bundle()) {
            ("signature", true) => "signature (bundle)",
            ("attestation", true) => "attestation (bundle)",
            (kind, _) => kind,
        },
        predicate_type,
        state: outcome.map_or_else(
            || "signed (not verified: no --key or identity)".to_owned(),
            |(check, _)| check.outcome().to_owned(),
        ),
        signer,
        bytes: statement
            .as_ref()
            .and_then(|s| serde_json::to_vec_pretty(s).ok())
            .unwrap_or_default(),
        statement,
    }
}

pub(crate) async fn run(
    args: AttestationsArgs,
    _global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let wanted = super::keys::predicate_filter(args.predicate_type.as_deref())?;
    let trust = (args.key.is_some() || args.keyless.any())
        .then(|| super::keys::trust(args.key.as_deref(), &args.keyless))
        .transpose()?;
    let (_, target, _) = super::open(&args.image, &args.source)?;
    let Target::Image(source) = target else {
        anyhow::bail!("{}: a root filesystem has nothing attached", args.image);
    };
    let image = source.image(&super::platform_choice(&args.source)?).await?;
    let digest = image.manifest_digest.clone();
    let mut attached = Vec::new();
    for a in customs_pipeline::attestations::buildkit(&source, &image).await? {
        attached.push(Attached {
            source: a.source,
            kind: "buildkit-attestation",
            predicate_type: a.predicate_type,
            state: a.problem.unwrap_or_else(|| "unsigned".to_owned()),
            signer: None,
            statement: serde_json::from_slice(&a.bytes).ok(),
            bytes: a.bytes,
        });
    }
    if let AnySource::Registry(registry) = &source {
        // What cosign attached to the digest the reference resolves to (the
        // index of a multi-platform image) and to the platform manifest.
        let mut digests = vec![digest.clone()];
        if let Some(index) = image.index_digest() {
            digests.insert(0, index.clone());
        }
        for d in &digests {
            // The tags and the bundle referrers, read once for both kinds.
            let found = customs_pipeline::signatures::read_all(registry, d).await?;
            let signatures = trust.as_ref().map(|t| {
                customs_sign::verify_image(
                    &found.signatures,
                    t.verifier(),
                    &customs_sign::verify::Expectations {
                        digest: d,
                        repository: None,
                        strict_reference: false,
                        annotations: &[],
                    },
                )
            });
            let attestations = trust.as_ref().map(|t| {
                customs_sign::verify_attestations(&found.attestations, t.verifier(), d, None)
            });
            for (i, layer) in found.signatures.iter().enumerate() {
                let outcome = signatures
                    .as_ref()
                    .map(|v| (&v.signatures[i].check, v.signatures[i].signer.as_deref()));
                let predicate_type = layer
                    .is_bundle()
                    .then(|| customs_pipeline::signatures::SIGN_PREDICATE.to_owned());
                attached.push(listed(
                    layer,
                    "signature",
                    predicate_type,
                    outcome,
                    trust.as_ref(),
                ));
            }
            for (i, layer) in found.attestations.iter().enumerate() {
                let outcome = attestations.as_ref().map(|v| {
                    (
                        &v.attestations[i].check,
                        v.attestations[i].signer.as_deref(),
                    )
                });
                let predicate_type = layer.annotations.get("predicateType").cloned();
                attached.push(listed(
                    layer,
                    "attestation",
                    predicate_type,
                    outcome,
                    trust.as_ref(),
                ));
            }
        }
    }
    if let Some(t) = &wanted {
        attached.retain(|a| a.predicate_type.as_deref() == Some(t.as_str()));
    }
    if let Some(dir) = &args.download {
        fs_err::create_dir_all(dir)?;
        for (i, a) in attached.iter().enumerate() {
            let name = format!("{}-{}.json", i + 1, a.kind);
            write_file(&dir.join(name), &a.bytes, Mode::Public)?;
        }
    }
    match args.format {
        Format::Json => render::json(&Listing {
            digest: digest.to_string(),
            attached,
        })?,
        Format::Table => {
            if attached.is_empty() {
                render::text(&format!("nothing is attached to {digest}"))?;
            } else {
                let mut t = render::table(&["KIND", "PREDICATE TYPE", "STATE", "SIGNER", "WHERE"]);
                for a in &attached {
                    t.add_row(render::row([
                        a.kind.to_owned(),
                        a.predicate_type.clone().unwrap_or_else(|| "-".to_owned()),
                        a.state.clone(),
                        a.signer.clone().unwrap_or_else(|| "-".to_owned()),
                        a.source.clone(),
                    ]));
                }
                render::text(&format!("{digest}\n{}", t.trim_fmt()))?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
