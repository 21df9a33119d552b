//! One module per verb; this module turns the shared flags into a source.

pub(crate) mod attest;
pub(crate) mod attestations;
pub(crate) mod base;
pub(crate) mod blob;
mod checks_output;
pub(crate) mod db;
pub(crate) mod diff;
pub(crate) mod digest;
pub(crate) mod exceptions;
pub(crate) mod files;
pub(crate) mod gate;
pub(crate) mod inspect;
pub(crate) mod key;
mod keys;
pub(crate) mod ledger;
pub(crate) mod licenses;
pub(crate) mod lint;
mod output;
pub(crate) mod pin;
pub(crate) mod policy;
pub(crate) mod promote;
pub(crate) mod quickview;
pub(crate) mod recommend;
pub(crate) mod registry;
pub(crate) mod release;
pub(crate) mod sbom;
pub(crate) mod scan;
pub(crate) mod secrets;
pub(crate) mod serve;
pub(crate) mod sign;
pub(crate) mod verify;

use std::io::Read as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use customs_cli::{DbArgs, GlobalArgs, SourceArgs};
use customs_oci::{
    AnySource, Credential, Image, ImageRef, Limits, Platform, PlatformChoice, RegistryOptions,
    SourceError, SourceOptions, Target,
};
use customs_sbom::Sbom;
use customs_types::Redacted;

use crate::render::parse_size;

/// The blob cache: `--cache-dir`, else `$XDG_CACHE_HOME/customs`, else `~/.cache/customs`.
fn cache_dir(args: &SourceArgs) -> PathBuf {
    if let Some(dir) = &args.cache_dir {
        return dir.clone();
    }
    xdg_base("XDG_CACHE_HOME", ".cache").join("customs")
}

/// An XDG base directory: the variable's value, else `$HOME/<fallback>`,
/// else the temporary directory.
pub(crate) fn xdg_base(variable: &str, fallback: &str) -> PathBuf {
    std::env::var_os(variable)
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(fallback)))
        .unwrap_or_else(std::env::temp_dir)
}

/// The limits and registry options the flags ask for.
pub(crate) fn source_options(args: &SourceArgs) -> anyhow::Result<SourceOptions> {
    let limits = Limits {
        max_uncompressed_bytes: parse_size(&args.max_uncompressed_size)
            .context("invalid --max-uncompressed-size")?,
        max_entries_total: args.max_entries,
        max_entries_per_layer: args.max_entries,
        ..Limits::default()
    };
    let mut registry = RegistryOptions::new(cache_dir(args));
    registry
        .insecure_hosts
        .clone_from(&args.insecure_registries);
    registry.use_docker_config = !args.no_docker_config;
    let timeout = Duration::from_secs(args.timeout.clamp(1, 3600));
    registry.connect_timeout = timeout;
    registry.read_timeout = timeout;
    registry.request_timeout = timeout;
    registry.retry_window = timeout * 2;
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
    if let Some(meant) = customs_oci::local_path_suggestion(reference) {
        let registry = if reference.starts_with(['.', '/']) {
            String::new()
        } else {
            format!(" (or `registry:{reference}` for the registry image of that name)")
        };
        anyhow::bail!(
            "`{reference}` is a local path, not a registry image: write `{meant}`{registry}"
        );
    }
    let parsed = ImageRef::parse(reference)?;
    let options = source_options(args)?;
    let target = customs_oci::open(&parsed, &options)?;
    Ok((parsed, target, options))
}

/// The largest SBOM document `sbom:FILE` reads.
const MAX_SBOM_BYTES: u64 = 1024 * 1024 * 1024;

/// Makes the SBOM of `reference` (an image, `dir:ROOTFS`, or `sbom:FILE`
/// read back from SPDX or CycloneDX JSON), printing unreadable package files
/// as warnings. Returns the image too, when there is one.
pub(crate) async fn make_sbom(
    reference: &str,
    args: &SourceArgs,
    catalogers: &[String],
    global: &GlobalArgs,
) -> anyhow::Result<(Sbom, Option<Image>)> {
    if let Some(path) = reference.strip_prefix("sbom:") {
        return Ok((read_sbom(std::path::Path::new(path))?, None));
    }
    let (_, target, options) = open(reference, args)?;
    let declared = matches!(target, Target::RootFs(_));
    let catalogers =
        customs_catalog::select(customs_catalog::default_catalogers(), catalogers, declared)?;
    let (sbom, image) = match target {
        Target::RootFs(path) => (
            tokio::task::block_in_place(|| {
                customs_pipeline::sbom_of_rootfs(&path, catalogers, &options.limits)
            })?,
            None,
        ),
        Target::Image(source) => {
            let image = source.image(&platform_choice(args)?).await?;
            let sbom = customs_pipeline::sbom_of_image(
                &source,
                &image,
                catalogers,
                &options.limits,
                crate::progress::progress(global.quiet).as_ref(),
            )
            .await?;
            (sbom, Some(image))
        }
    };
    warn_unknowns(&sbom);
    Ok((sbom, image))
}

/// The package files an SBOM could not read, as warnings (they stay with
/// --quiet: it hides progress and information only).
pub(crate) fn warn_unknowns(sbom: &Sbom) {
    for unknown in &sbom.unknowns {
        warn(&format!(
            "{}{}: {}",
            unknown.path,
            unknown
                .layer
                .map_or_else(String::new, |l| format!(" (layer {})", l + 1)),
            unknown.message
        ));
    }
}

/// Reads an SPDX 2.3 or CycloneDX JSON document (customs's or another
/// tool's), or customs's native SBOM JSON.
fn read_sbom(path: &std::path::Path) -> anyhow::Result<Sbom> {
    let file = fs_err::File::open(path)?;
    let mut bytes = Vec::new();
    file.take(MAX_SBOM_BYTES + 1).read_to_end(&mut bytes)?;
    anyhow::ensure!(
        bytes.len() as u64 <= MAX_SBOM_BYTES,
        "{}: larger than {MAX_SBOM_BYTES} bytes",
        path.display()
    );
    Ok(customs_pipeline::read_sbom_document(
        &bytes,
        &path.display().to_string(),
    )?)
}

/// The vulnerability database folder: `--db-dir`, else
/// `$XDG_DATA_HOME/customs/vulndb`, else `~/.local/share/customs/vulndb`.
pub(crate) fn db_dir(args: &DbArgs) -> PathBuf {
    if let Some(dir) = &args.db_dir {
        return dir.clone();
    }
    xdg_base("XDG_DATA_HOME", ".local/share")
        .join("customs")
        .join("vulndb")
}

/// Reads a text file, naming the line of the first byte that is not UTF-8.
pub(crate) fn read_text(path: &std::path::Path) -> anyhow::Result<String> {
    let bytes = fs_err::read(path)?;
    String::from_utf8(bytes).map_err(|e| {
        let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = valid.len() - valid.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) + 1;
        anyhow::anyhow!("{}:{line}:{column}: not valid UTF-8 text", path.display())
    })
}

#[allow(clippy::print_stderr)]
pub(crate) fn warn(message: &str) {
    eprintln!(
        "warning: {}",
        customs_report::terminal::escape_cell(message)
    );
}

/// An informational line on stderr (suppressed by `--quiet` by the caller).
#[allow(clippy::print_stderr)]
pub(crate) fn warn_info(message: &str) {
    eprintln!("{}", customs_report::terminal::escape_cell(message));
}

/// `--fail-on`: exit 1 when something at or above the threshold was found.
pub(crate) fn fail_on(
    threshold: Option<customs_types::Severity>,
    reached: impl Fn(customs_types::Severity) -> bool,
    what: &str,
    quiet: bool,
) -> crate::exit::ExitStatus {
    match threshold {
        Some(t) if reached(t) => {
            if !quiet {
                warn(&format!(
                    "{what} at or above `{t}` were found (--fail-on {t})"
                ));
            }
            crate::exit::ExitStatus::Failure
        }
        _ => crate::exit::ExitStatus::Success,
    }
}
