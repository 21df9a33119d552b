//! One module per verb; this module turns the shared flags into a source.

pub(crate) mod digest;
pub(crate) mod files;
pub(crate) mod inspect;
pub(crate) mod sbom;

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use customs_cli::SourceArgs;
use customs_oci::{
    AnySource, Credential, Image, ImageRef, Limits, Platform, PlatformChoice, RegistryOptions,
    SourceError, SourceOptions, Target,
};
use customs_types::Redacted;

use crate::render::parse_size;

/// The blob cache: `--cache-dir`, else `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`.
fn cache_dir(args: &SourceArgs) -> PathBuf {
    if let Some(dir) = &args.cache_dir {
        return dir.clone();
    }
    let base = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
        .unwrap_or_else(std::env::temp_dir);
    base.join("customs")
}

/// The limits and registry options the flags ask for.
pub(crate) fn source_options(args: &SourceArgs) -> anyhow::Result<SourceOptions> {
    let limits = Limits {
        max_uncompressed_bytes: parse_size(&args.max_uncompressed_size)
            .context("invalid --max-uncompressed-size")?,
        ..Limits::default()
    };
    let mut registry = RegistryOptions::new(cache_dir(args));
    registry
        .insecure_hosts
        .clone_from(&args.insecure_registries);
    registry.use_docker_config = !args.no_docker_config;
    registry.connect_timeout = Duration::from_secs(args.timeout.clamp(1, 3600));
    registry.read_timeout = Duration::from_secs(args.timeout.clamp(1, 3600));
    if let (Some(username), true) = (&args.username, args.password_stdin) {
        let mut password = String::new();
        std::io::stdin()
            .read_to_string(&mut password)
            .context("cannot read the password from standard input")?;
        let password = password.trim_end_matches(['\r', '\n']).to_owned();
        anyhow::ensure!(
            !password.is_empty(),
            "--password-stdin read an empty password"
        );
        registry.credentials = Some(Credential::Basic {
            username: username.clone(),
            password: Redacted::new(password),
        });
    }
    Ok(SourceOptions {
        limits,
        registry: Arc::new(registry),
    })
}

/// The platform choice the flags ask for.
pub(crate) fn platform_choice(args: &SourceArgs) -> anyhow::Result<PlatformChoice> {
    Ok(match &args.platform {
        Some(p) => PlatformChoice {
            platform: p.parse::<Platform>()?,
            explicit: true,
        },
        None => PlatformChoice::default(),
    })
}

/// Opens and resolves an image; an unpacked root filesystem is an error
/// here, since it has no manifest.
pub(crate) async fn open_image(
    reference: &str,
    args: &SourceArgs,
) -> anyhow::Result<(AnySource, Image)> {
    let (_, target, _) = open(reference, args)?;
    let source = match target {
        Target::Image(source) => source,
        Target::RootFs(path) => {
            return Err(SourceError::NoManifest {
                what: path.display().to_string(),
            }
            .into());
        }
    };
    let image = source.image(&platform_choice(args)?).await?;
    Ok((source, image))
}

/// Parses the reference and opens its source.
pub(crate) fn open(
    reference: &str,
    args: &SourceArgs,
) -> anyhow::Result<(ImageRef, Target, SourceOptions)> {
    let parsed = ImageRef::parse(reference)?;
    let options = source_options(args)?;
    let target = customs_oci::open(&parsed, &options)?;
    Ok((parsed, target, options))
}
