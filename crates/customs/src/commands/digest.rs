//! `customs digest REF`: the manifest digest, exactly as `skopeo inspect` reports it.

use customs_cli::{DigestArgs, GlobalArgs};

use crate::exit::ExitStatus;
use crate::render;

pub(crate) async fn run(args: DigestArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (_, image) = super::open_image(&args.image, &args.source).await?;
    let digest = if args.index {
        image.index_digest().ok_or_else(|| {
            anyhow::anyhow!(
                "{} is a single-platform image: it has no index digest",
                args.image
            )
        })?
    } else {
        &image.manifest_digest
    };
    render::text(digest.as_str())?;
    Ok(ExitStatus::Success)
}
