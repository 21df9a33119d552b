//! Image sources: OCI layouts, archives and registries behind one closed
//! enum, [`AnySource`]. Unpacked root filesystems (`dir:`) have no manifest;
//! [`open`] returns them as [`Target::RootFs`] for the layer walker to read.

mod docker_archive;
mod layout;
pub mod registry;
mod store;

use std::path::PathBuf;
use std::sync::Arc;

pub use docker_archive::DockerArchiveSource;
pub use layout::LayoutSource;
use registry::{Progress, RegistryOptions, RegistrySource};
pub use store::BoxRead;
use store::Store;

use crate::error::SourceError;
use crate::image::{Image, Layer, PlatformChoice};
use crate::limits::Limits;
use crate::reference::ImageRef;

/// Everything needed to open a source.
#[derive(Debug, Clone)]
pub struct SourceOptions {
    /// Bounds on what is read.
    pub limits: Limits,
    /// How registries are reached.
    pub registry: Arc<RegistryOptions>,
}

/// What a reference names.
#[allow(clippy::large_enum_variant)] // made once per command, never stored in bulk
pub enum Target {
    /// An image with a manifest.
    Image(AnySource),
    /// An unpacked root filesystem.
    RootFs(PathBuf),
}

/// One of the image sources.
#[non_exhaustive]
pub enum AnySource {
    /// `oci:` or `oci-archive:`.
    Layout(LayoutSource),
    /// `docker-archive:`.
    DockerArchive(DockerArchiveSource),
    /// A registry.
    Registry(RegistrySource),
}

/// Opens what `reference` names. Local files are checked for their format
/// here; registries are not contacted until the image is read.
///
/// When `input` was written without a transport but names an existing local
/// path, what it most likely meant: `oci:DIR` for an OCI layout,
/// `oci-archive:FILE` or `docker-archive:FILE` for a tarball (by whether it
/// holds `oci-layout` or `manifest.json`), `dir:DIR` for any other folder.
#[must_use]
pub fn local_path_suggestion(input: &str) -> Option<String> {
    if crate::reference::TRANSPORT_PREFIXES
        .iter()
        .any(|t| input.starts_with(t))
    {
        return None;
    }
    let candidates = std::iter::once(input).chain(input.rsplit_once(':').map(|(p, _)| p));
    for candidate in candidates {
        let path = std::path::Path::new(candidate);
        let Ok(meta) = fs_err::metadata(path) else {
            continue;
        };
        let suggestion = if meta.is_dir() {
            if path.join("oci-layout").is_file() {
                format!("oci:{input}")
            } else {
                format!("dir:{input}")
            }
        } else {
            match tar_kind(path) {
                Some("oci-layout") => format!("oci-archive:{input}"),
                Some(_) => format!("docker-archive:{input}"),
                None => format!("oci-archive:{input}` or `docker-archive:{input}"),
            }
        };
        return Some(suggestion);
    }
    None
}

/// `oci-layout` or `manifest.json`, whichever of the two a tarball's first
/// entries hold.
fn tar_kind(path: &std::path::Path) -> Option<&'static str> {
    let file = fs_err::File::open(path).ok()?;
    let mut archive = tar::Archive::new(std::io::BufReader::new(file));
    for entry in archive.entries().ok()?.take(64) {
        let entry = entry.ok()?;
        let name = entry
            .path()
            .ok()?
            .to_string_lossy()
            .trim_start_matches("./")
            .to_owned();
        match name.as_str() {
            "oci-layout" => return Some("oci-layout"),
            "manifest.json" => return Some("manifest.json"),
            _ => {}
        }
    }
    None
}

/// # Errors
/// When the file is missing or not of the named format.
pub fn open(reference: &ImageRef, options: &SourceOptions) -> Result<Target, SourceError> {
    let name = reference.to_string();
    let limits = options.limits.clone();
    Ok(Target::Image(match reference {
        ImageRef::OciLayout { path, tag } => AnySource::Layout(LayoutSource::new(
            Store::open_dir(path)?,
            tag.clone(),
            name,
            limits,
        )?),
        ImageRef::OciArchive { path, tag } => AnySource::Layout(LayoutSource::new(
            Store::open_tar(path, &limits)?,
            tag.clone(),
            name,
            limits,
        )?),
        ImageRef::DockerArchive { path, selector } => {
            AnySource::DockerArchive(DockerArchiveSource::new(
                Store::open_tar(path, &limits)?,
                selector.clone(),
                name,
                limits,
            ))
        }
        ImageRef::Registry(r) => AnySource::Registry(RegistrySource::new(
            r.clone(),
            Arc::clone(&options.registry),
            limits,
        )?),
        ImageRef::Dir { path } => {
            let meta = fs_err::metadata(path).map_err(|e| SourceError::open_path(path, e))?;
            if !meta.is_dir() {
                return Err(SourceError::malformed(
                    path.display().to_string(),
                    "is not a directory",
                ));
            }
            return Ok(Target::RootFs(path.clone()));
        }
    }))
}

impl AnySource {
    /// Reads and verifies the index (if any), the manifest for `choice` and the config.
    ///
    /// # Errors
    /// Integrity, format, limit, platform and registry errors, each naming its input.
    pub async fn image(&self, choice: &PlatformChoice) -> Result<Image, SourceError> {
        match self {
            Self::Layout(s) => s.image(choice).await,
            Self::DockerArchive(s) => s.image(choice),
            Self::Registry(s) => s.image(choice).await,
        }
    }

    /// Reads a small document or blob (a manifest, an attestation layer)
    /// whole, verified against `descriptor`; `limit` bounds it.
    ///
    /// # Errors
    /// When it is missing, larger than `limit`, or not what it should be;
    /// a docker-archive holds nothing but its images.
    pub async fn fetch_small(
        &self,
        descriptor: &crate::manifest::Descriptor,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, SourceError> {
        use crate::image::Fetch as _;
        match self {
            Self::Layout(s) => s.fetch(descriptor, limit, what).await,
            Self::Registry(s) => s.fetch(descriptor, limit, what).await,
            Self::DockerArchive(_) => Err(SourceError::malformed(
                what,
                "a docker-archive holds only images, not attestations",
            )),
        }
    }

    /// Makes every layer blob locally readable (downloads for registries).
    ///
    /// # Errors
    /// Download and integrity errors.
    pub async fn fetch_layers(
        &self,
        image: &Image,
        progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        match self {
            Self::Registry(s) => s.fetch_layers(image, progress).await,
            Self::Layout(_) | Self::DockerArchive(_) => Ok(()),
        }
    }

    /// Opens a layer blob as it is stored (compressed or not). The reader
    /// verifies size and digest and fails the read that reaches the end when
    /// they differ, so callers must read it to the end.
    ///
    /// # Errors
    /// When the blob is missing or unreadable.
    pub fn open_layer(&self, image: &Image, layer: &Layer) -> Result<BoxRead, SourceError> {
        let what = format!(
            "layer {} ({}) of {}",
            layer.index + 1,
            layer.descriptor.digest,
            image.name
        );
        match self {
            Self::Layout(s) => s.open_blob(&layer.descriptor, &what),
            Self::DockerArchive(s) => s.open_layer(&layer.descriptor, &what),
            Self::Registry(s) => s.open_blob(&layer.descriptor, &what),
        }
    }
}
