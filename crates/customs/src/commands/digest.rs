//! `customs digest REF`: the manifest digest, exactly as `skopeo inspect` reports it.

use customs_cli::{DigestArgs, GlobalArgs};
use customs_oci::{SourceError, Target};

use crate::exit::ExitStatus;
use crate::render;

pub(crate) async fn run(args: DigestArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (_, target, _) = super::open(&args.image, &args.source)?;
    let source = match target {
        Target::Image(source) => source,
        Target::RootFs(path) => {
            return Err(SourceError::NoManifest {
                what: path.display().to_string(),
            }
            .into());
        }
    };
    let image = source.image(&super::platform_choice(&args.source)?).await?;
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
