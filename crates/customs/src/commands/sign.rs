//! `customs sign REF --key K`: sign an image by digest as cosign does.

use std::collections::BTreeMap;

use customs_cli::{Format, GlobalArgs, SignArgs};
use customs_oci::{AnySource, RegistrySource, Target};
use customs_types::Digest;

use crate::exit::ExitStatus;
use crate::render;

/// The registry source of `reference`, the digest it resolves to (the
/// index of a multi-platform image, as cosign signs it) and that
/// manifest's bytes, saying so when a tag was resolved: a tag can move, the
/// digest cannot.
pub(crate) async fn resolve(
    reference: &str,
    args: &customs_cli::SourceArgs,
    global: &GlobalArgs,
    done: &str,
) -> anyhow::Result<(RegistrySource, Digest, Vec<u8>)> {
    let (_, target, _) = super::open(reference, args)?;
    let Target::Image(AnySource::Registry(source)) = target else {
        anyhow::bail!(
            "{reference}: signatures and attestations live in a registry next to the image; only a registry image can be {done}"
        );
    };
    // One request: the manifest or index the reference names (an index
    // digest for a multi-platform image, as cosign signs it).
    let (manifest, digest) = source.resolve_manifest().await?;
    if source.reference().digest().is_none() && !global.quiet {
        super::warn_info(&format!(
            "{reference} resolved to {}@{digest}; the digest is what is {done}",
            source.reference().name()
        ));
    }
    Ok((source, digest, manifest))
}

/// The platform manifests an index lists (not BuildKit's attestation
/// manifests); none for a single image's manifest.
fn platform_manifests(manifest: &[u8]) -> Vec<Digest> {
    serde_json::from_slice::<customs_oci::manifest::ImageIndex>(manifest).map_or_else(
        |_| Vec::new(),
        |index| {
            index
                .manifests
                .iter()
                .filter(|d| !d.is_attestation_manifest())
                .map(|d| d.digest.clone())
                .collect()
        },
    )
}

pub(crate) async fn run(args: SignArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let key = super::keys::private_key(&args.key)?;
    let annotations = super::keys::annotations(&args.annotations)?;
    let (source, digest, manifest) = resolve(&args.image, &args.source, global, "signed").await?;
    let optional = (!annotations.is_empty()).then(|| {
        annotations
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect::<BTreeMap<_, _>>()
    });
    let mut digests = vec![digest.clone()];
    if args.recursive {
        digests.extend(platform_manifests(&manifest));
    }
    let mut done = Vec::new();
    for d in &digests {
        if args.bundle_format.tag() {
            done.push(
                customs_pipeline::signatures::sign(&source, d, &key, optional.clone()).await?,
            );
        }
        if args.bundle_format.bundle() {
            let subject = if *d == digest {
                customs_pipeline::signatures::subject_descriptor(&manifest, d)
            } else {
                let (bytes, _) = source.manifest_at(&d.to_string()).await?.ok_or_else(|| {
                    anyhow::anyhow!("{d}: listed in the index but not in the registry")
                })?;
                customs_pipeline::signatures::subject_descriptor(&bytes, d)
            };
            done.push(
                customs_pipeline::signatures::sign_bundle(
                    &source,
                    &subject,
                    &key,
                    optional.clone(),
                )
                .await?,
            );
        }
    }
    match args.format {
        Format::Json if done.len() > 1 => render::json(&done)?,
        Format::Json => render::json(&done[0])?,
        Format::Table => {
            let lines: Vec<String> = done
                .iter()
                .map(|signed| {
                    format!(
                        "{} {}\n  stored at {} ({} signature{})",
                        if signed.already_present {
                            "Already signed with this key:"
                        } else {
                            "Signed"
                        },
                        signed.image,
                        signed.location,
                        signed.signatures,
                        if signed.signatures == 1 { "" } else { "s" }
                    )
                })
                .collect();
            render::text(&lines.join("\n"))?;
        }
    }
    super::ledger::record(
        global,
        super::ledger::new_record(
            super::ledger::seen_in(&source, &digest),
            "sign",
            serde_json::json!({
                "line": format!("signed ({})", done.iter().map(|d| d.location.clone()).collect::<Vec<_>>().join("; ")),
                "locations": done.iter().map(|d| d.location.clone()).collect::<Vec<_>>(),
                "recursive": args.recursive,
            }),
        ),
    )
    .await?;
    Ok(ExitStatus::Success)
}
