//! `customs sign REF --key K`: sign an image by digest as cosign does.

use std::collections::BTreeMap;

use customs_cli::{Format, GlobalArgs, SignArgs};
use customs_oci::{AnySource, RegistrySource, Target};
use customs_types::Digest;

use crate::exit::ExitStatus;
use crate::render;

/// The registry source of `reference` and the digest it resolves to (the
/// index of a multi-platform image, as cosign signs it), saying so when a
/// tag was resolved: a tag can move, the digest cannot.
pub(crate) async fn resolve(
    reference: &str,
    args: &customs_cli::SourceArgs,
    global: &GlobalArgs,
    verb: &str,
) -> anyhow::Result<(RegistrySource, Digest)> {
    let (_, target, _) = super::open(reference, args)?;
    let Target::Image(AnySource::Registry(source)) = target else {
        anyhow::bail!(
            "{reference}: signatures live in a registry next to the image; {verb} needs a registry reference"
        );
    };
    // One request: the manifest or index the reference names (an index
    // digest for a multi-platform image, as cosign signs it).
    let digest = source.resolve_digest().await?;
    if source.reference().digest().is_none() && !global.quiet {
        super::warn_info(&format!(
            "{} resolved to {}/{}@{digest}; the digest is what is {verb}ed",
            reference,
            source.reference().registry(),
            source.reference().repository()
        ));
    }
    Ok((source, digest))
}

/// The platform manifests an index lists (not BuildKit's attestation
/// manifests); none when `digest` is a single image.
async fn platform_manifests(
    source: &RegistrySource,
    digest: &Digest,
) -> anyhow::Result<Vec<Digest>> {
    let Some((bytes, _)) = source.manifest_at(digest.as_str()).await? else {
        anyhow::bail!("{digest} disappeared from the registry while it was being signed");
    };
    let Ok(index) = serde_json::from_slice::<customs_oci::manifest::ImageIndex>(&bytes) else {
        return Ok(Vec::new());
    };
    Ok(index
        .manifests
        .iter()
        .filter(|d| {
            d.annotations
                .get("vnd.docker.reference.type")
                .map(String::as_str)
                != Some("attestation-manifest")
        })
        .map(|d| d.digest.clone())
        .collect())
}

pub(crate) async fn run(args: SignArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let key = super::keys::private_key(&args.key)?;
    let annotations = super::keys::annotations(&args.annotations)?;
    let (source, digest) = resolve(&args.image, &args.source, global, "sign").await?;
    let optional = (!annotations.is_empty()).then(|| {
        annotations
            .into_iter()
            .map(|(k, v)| (k, serde_json::Value::String(v)))
            .collect::<BTreeMap<_, _>>()
    });
    let mut digests = vec![digest.clone()];
    if args.recursive {
        digests.extend(platform_manifests(&source, &digest).await?);
    }
    let mut done = Vec::new();
    for d in &digests {
        done.push(customs_pipeline::signatures::sign(&source, d, &key, optional.clone()).await?);
    }
    match args.format {
        Format::Json if args.recursive => render::json(&done)?,
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
    Ok(ExitStatus::Success)
}
