//! The data flow of customs, written once and shared by the CLI and server:
//! a reference is opened, its image resolved and verified, every layer
//! walked once with the catalogers subscribed, and the findings resolved
//! into an [`Sbom`] that names the image by digest.

pub mod attestations;
pub mod base;
pub mod deploy;
pub mod diff;
pub mod gate;
pub mod governance;
pub mod ledger;
pub mod secrets;
pub mod signatures;

use std::path::Path;

use customs_catalog::{Catalog, CatalogRun, Cataloger};
use customs_layer::{FileVisitor, LayerWalker, Walk, WalkError};
use customs_oci::{
    AnySource, ArchiveSelector, Image, ImageRef, Limits, Progress, RegistryRef, SourceError,
};
use customs_sbom::{Creator, Sbom, Subject, timestamp};

/// Why an SBOM could not be made. An integrity or limit failure aborts;
/// unreadable package files do not (they are the SBOM's unknowns).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The image could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// A layer could not be walked.
    #[error(transparent)]
    Walk(#[from] WalkError),
    /// Signatures or attestations could not be read.
    #[error(transparent)]
    Signatures(#[from] signatures::SignatureError),
    /// A policy, exceptions, VEX or configuration file is not valid.
    #[error(transparent)]
    Policy(#[from] customs_policy::PolicyError),
    /// A document (an SBOM) cannot be read.
    #[error("{what}: {reason}")]
    Document {
        /// The document.
        what: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Reads an SBOM document: SPDX 2.3 JSON, CycloneDX JSON (customs's or
/// another tool's), or customs's native JSON; `what` names it in errors.
///
/// # Errors
/// [`PipelineError::Document`] naming the format it looked like and why
/// it is not valid.
pub fn read_sbom_document(bytes: &[u8], what: &str) -> Result<Sbom, PipelineError> {
    use customs_sbom::format::{cyclonedx16, native, spdx23};
    let head = String::from_utf8_lossy(&bytes[..bytes.len().min(64 * 1024)]).into_owned();
    let failed = |kind: &str, e: &dyn std::fmt::Display| PipelineError::Document {
        what: what.to_owned(),
        reason: format!("{kind}: {e}"),
    };
    let mut sbom = if head.contains("\"bomFormat\"") {
        cyclonedx16::from_slice(bytes)
            .map_err(|e| failed("not a valid CycloneDX JSON document", &e))?
    } else if head.contains("\"spdxVersion\"") {
        spdx23::from_slice(bytes).map_err(|e| failed("not a valid SPDX 2.3 JSON document", &e))?
    } else {
        native::from_slice(bytes)
            .map_err(|e| failed("neither SPDX JSON, CycloneDX JSON nor a customs SBOM", &e))?
    };
    if sbom.subject.name.is_empty() {
        sbom.subject.name = format!("sbom:{what}");
    }
    Ok(sbom)
}

/// What an SBOM says about the image it describes.
#[must_use]
pub fn image_subject(image: &Image) -> Subject {
    Subject {
        name: image.name.clone(),
        purl: image_purl(image),
        digest: Some(image.manifest_digest.clone()),
        index_digest: image.index_digest().cloned(),
        config_digest: Some(image.manifest.config.digest.clone()),
        platform: Some(image.platform().to_string()),
        layers: image
            .layers()
            .into_iter()
            .map(|l| l.descriptor.digest)
            .collect(),
    }
}

/// Downloads what is missing and walks every layer once with `visitors`.
///
/// # Errors
/// [`PipelineError`] on any integrity, format or limit failure.
pub async fn walk_image(
    source: &AnySource,
    image: &Image,
    visitors: &[&dyn FileVisitor],
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<Walk, PipelineError> {
    source.fetch_layers(image, progress).await?;
    Ok(tokio::task::block_in_place(|| {
        LayerWalker::new(limits.clone()).walk_image(source, image, visitors)
    })?)
}

/// Makes the SBOM of an image: downloads what is missing, walks every layer
/// once with `catalogers`, and resolves the result.
///
/// # Errors
/// [`PipelineError`] on any integrity, format or limit failure.
pub async fn sbom_of_image(
    source: &AnySource,
    image: &Image,
    catalogers: Vec<Box<dyn Cataloger>>,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<Sbom, PipelineError> {
    let run = CatalogRun::new(catalogers);
    let (catalog, _) = catalog_image(source, image, run, &[], limits, progress).await?;
    Ok(assemble(image_subject(image), catalog))
}

/// Walks an image once with `run`'s catalogers and the `others` visitors,
/// and resolves the catalog.
async fn catalog_image(
    source: &AnySource,
    image: &Image,
    run: CatalogRun,
    others: &[&dyn FileVisitor],
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<(Catalog, Walk), PipelineError> {
    let mut visitors = run.visitors();
    visitors.extend_from_slice(others);
    let walk = walk_image(source, image, &visitors, limits, progress).await?;
    drop(visitors);
    let layers: Vec<_> = image
        .layers()
        .into_iter()
        .map(|l| l.descriptor.digest)
        .collect();
    Ok((run.finish(&walk, &layers), walk))
}

/// The package URL of an image, as the purl spec's `oci` type says: the
/// name is the last component of the repository, the version the manifest
/// digest, and the `repository_url`, `tag` and `arch` qualifiers say where
/// it was found. A local layout or archive has no repository: its name is
/// the file's, and only a tag the reference chose is kept.
#[must_use]
pub fn image_purl(image: &Image) -> Option<String> {
    let reference = ImageRef::parse(&image.name).ok()?;
    let stem = |path: &Path| -> Option<String> {
        // `.` and `..` have no name of their own: use the directory's.
        let named = match path.file_stem() {
            Some(stem) => stem.to_owned(),
            None => path.canonicalize().ok()?.file_name()?.to_owned(),
        };
        Some(named.to_string_lossy().into_owned())
    };
    let from_registry = |r: &RegistryRef| {
        let name = r
            .repository()
            .rsplit('/')
            .next()
            .unwrap_or(r.repository())
            .to_owned();
        let url = r.name();
        (name, Some(url), r.tag().map(str::to_owned))
    };
    let (name, repository_url, tag) = match &reference {
        ImageRef::Registry(r) => from_registry(r),
        ImageRef::OciLayout { path, tag } | ImageRef::OciArchive { path, tag } => {
            (stem(path)?, None, tag.clone())
        }
        ImageRef::DockerArchive {
            selector: Some(ArchiveSelector::Tag(named)),
            ..
        } => from_registry(&RegistryRef::parse(named).ok()?),
        ImageRef::DockerArchive { path, .. } => (stem(path)?, None, None),
        _ => return None,
    };
    let platform = image.platform();
    let mut qualifiers = vec![("arch", platform.architecture.as_str())];
    if let Some(url) = &repository_url {
        qualifiers.push(("repository_url", url.as_str()));
    }
    if let Some(tag) = &tag {
        qualifiers.push(("tag", tag.as_str()));
    }
    customs_sbom::purl(
        "oci",
        None,
        &name.to_ascii_lowercase(),
        image.manifest_digest.as_str(),
        &qualifiers,
    )
    .ok()
}

fn assemble(subject: Subject, catalog: Catalog) -> Sbom {
    let mut sbom = Sbom {
        subject,
        distro: catalog.distro,
        packages: catalog.packages,
        relationships: catalog.relationships,
        unknowns: catalog.unknowns,
        creator: Creator::default(),
        created: timestamp(),
    };
    sbom.normalize();
    sbom
}

/// What one walk of an image gives the gate: its SBOM and its secrets.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The SBOM.
    pub sbom: Sbom,
    /// The secrets (layers, configuration and history).
    pub secrets: secrets::SecretsReport,
}

/// Makes the SBOM of an image and scans it for secrets in **one** walk:
/// the catalogers and the secret scanner subscribe to the same pass over
/// each layer.
///
/// # Errors
/// [`PipelineError`] on any integrity, format or limit failure.
pub async fn evidence_of_image(
    source: &AnySource,
    image: &Image,
    catalogers: Vec<Box<dyn Cataloger>>,
    allow: &customs_checks::secrets::AllowList,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<Evidence, PipelineError> {
    let run = CatalogRun::new(catalogers);
    let visitor = secrets::SecretsVisitor::new();
    let (catalog, walk) = catalog_image(source, image, run, &[&visitor], limits, progress).await?;
    Ok(Evidence {
        sbom: assemble(image_subject(image), catalog),
        secrets: visitor.finish_image(&walk, image, allow),
    })
}

/// Makes the SBOM of an unpacked root filesystem (`dir:`).
///
/// # Errors
/// [`PipelineError`] when the directory cannot be read.
pub fn sbom_of_rootfs(
    root: &Path,
    catalogers: Vec<Box<dyn Cataloger>>,
    limits: &Limits,
) -> Result<Sbom, PipelineError> {
    let run = CatalogRun::new(catalogers);
    let walk = LayerWalker::new(limits.clone()).walk_rootfs(root, &run.visitors())?;
    let catalog = run.finish(&walk, &[]);
    let subject = Subject {
        name: format!("dir:{}", root.display()),
        ..Subject::default()
    };
    Ok(assemble(subject, catalog))
}

/// Scans every layer of an image for secrets (deleted and overwritten files
/// included), then its configuration and history.
///
/// # Errors
/// [`PipelineError`] on any integrity, format or limit failure.
pub async fn secrets_of_image(
    source: &AnySource,
    image: &Image,
    allow: &customs_checks::secrets::AllowList,
    limits: &Limits,
    progress: &dyn Progress,
) -> Result<secrets::SecretsReport, PipelineError> {
    let visitor = secrets::SecretsVisitor::new();
    let walk = walk_image(source, image, &[&visitor], limits, progress).await?;
    Ok(visitor.finish_image(&walk, image, allow))
}

/// Scans an unpacked root filesystem (`dir:`) for secrets.
///
/// # Errors
/// [`PipelineError`] when the directory cannot be read.
pub fn secrets_of_rootfs(
    root: &Path,
    allow: &customs_checks::secrets::AllowList,
    limits: &Limits,
) -> Result<secrets::SecretsReport, PipelineError> {
    let visitor = secrets::SecretsVisitor::new();
    let walk = LayerWalker::new(limits.clone()).walk_rootfs(root, &[&visitor])?;
    Ok(visitor.finish(&walk, allow))
}
