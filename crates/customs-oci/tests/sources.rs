//! Local sources: OCI layouts, oci-archives and docker-archives built in
//! code, checked against skopeo's digests, and broken in every way.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::path::Path;
use std::sync::Arc;

use customs_oci::{
    AnySource, Image, ImageRef, Limits, Platform, PlatformChoice, RegistryOptions, SourceError,
    SourceOptions, Target,
};
use customs_test::registry::skopeo_digest;
use customs_test::{ImageBuilder, LayerBuilder, write_docker_archive_multi, write_index_layout};
use customs_types::Digest;

fn options(limits: Limits) -> SourceOptions {
    SourceOptions {
        limits,
        registry: Arc::new(RegistryOptions::new(
            std::env::temp_dir().join("customs-test-cache"),
        )),
    }
}

fn source(reference: &str) -> Result<AnySource, SourceError> {
    source_with(reference, Limits::default())
}

fn source_with(reference: &str, limits: Limits) -> Result<AnySource, SourceError> {
    match customs_oci::open(&ImageRef::parse(reference)?, &options(limits))? {
        Target::Image(s) => Ok(s),
        Target::RootFs(_) => panic!("not an image"),
    }
}

/// The error of reading `reference` under `limits`.
async fn error_with(reference: &str, limits: Limits) -> SourceError {
    source_with(reference, limits)
        .unwrap()
        .image(&PlatformChoice::default())
        .await
        .unwrap_err()
}

async fn image(reference: &str) -> Result<Image, SourceError> {
    source(reference)?.image(&PlatformChoice::default()).await
}

async fn image_for(reference: &str, platform: &str) -> Result<Image, SourceError> {
    source(reference)?
        .image(&PlatformChoice {
            platform: platform.parse::<Platform>().unwrap(),
            explicit: true,
        })
        .await
}

fn sample() -> ImageBuilder {
    ImageBuilder::new()
        .layer(LayerBuilder::new().file("etc/os-release", "ID=debian\n"))
        .layer(LayerBuilder::new().file("app/main.py", "print('hi')\n"))
        .config_field("Env", serde_json::json!(["PATH=/usr/bin", "API_TOKEN=abc"]))
}

#[tokio::test]
async fn oci_layout_and_archive_agree_with_skopeo() {
    let dir = tempfile::tempdir().unwrap();
    let built = sample().build();
    let layout = dir.path().join("layout");
    built.write_oci_layout(&layout, Some("v1"));
    let archive = dir.path().join("image.tar");
    built.write_oci_archive(&archive, Some("v1"));

    let from_layout = image(&format!("oci:{}:v1", layout.display()))
        .await
        .unwrap();
    let from_archive = image(&format!("oci-archive:{}:v1", archive.display()))
        .await
        .unwrap();
    let untagged = image(&format!("oci:{}", layout.display())).await.unwrap();
    assert_eq!(from_layout.manifest_digest, built.manifest_digest);
    assert_eq!(from_archive.manifest_digest, built.manifest_digest);
    assert_eq!(
        untagged.manifest_digest, built.manifest_digest,
        "a single image needs no tag"
    );
    assert_eq!(from_layout.tags, ["v1"]);
    assert_eq!(from_layout.layers().len(), 2);
    assert_eq!(
        from_layout.manifest_digest.as_str(),
        skopeo_digest(&format!("oci:{}:v1", layout.display()), None)
    );
    assert_eq!(
        from_archive.manifest_digest.as_str(),
        skopeo_digest(&format!("oci-archive:{}:v1", archive.display()), None)
    );
}

#[tokio::test]
async fn docker_archives_in_both_forms_give_skopeos_digest() {
    let dir = tempfile::tempdir().unwrap();
    let built = sample().build();
    for legacy in [true, false] {
        let file = dir.path().join(format!("docker-{legacy}.tar"));
        built.write_docker_archive(&file, &["lab/app:latest"], legacy);
        let reference = format!("docker-archive:{}", file.display());
        let ours = image(&reference).await.unwrap();
        assert_eq!(
            ours.manifest_digest.as_str(),
            skopeo_digest(&reference, None),
            "legacy={legacy}"
        );
        assert_eq!(ours.tags, ["lab/app:latest"]);
        // Layers are the uncompressed tars, addressed by diff ID.
        let layers = ours.layers();
        assert_eq!(layers[0].descriptor.digest, Digest::sha256(&built.tars[0]));
        let source = source(&reference).unwrap();
        let mut blob = Vec::new();
        std::io::Read::read_to_end(
            &mut source.open_layer(&ours, &layers[1]).unwrap(),
            &mut blob,
        )
        .unwrap();
        assert_eq!(blob, built.tars[1]);
    }
}

#[tokio::test]
async fn docker_archive_with_several_images_is_chosen_by_tag_or_position() {
    let dir = tempfile::tempdir().unwrap();
    let a = sample().build();
    let b = ImageBuilder::new()
        .layer(LayerBuilder::new().file("b", "b"))
        .build();
    let file = dir.path().join("multi.tar");
    write_docker_archive_multi(
        &file,
        &[
            (&a, &["lab/a:1"][..]),
            (&b, &["lab/b:2", "docker.io/library/bee:latest"][..]),
        ],
        true,
    );
    let path = file.display();
    let err = image(&format!("docker-archive:{path}")).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{path} holds 2 images; choose one with `:TAG` (available: lab/a:1, lab/b:2, docker.io/library/bee:latest)"
        )
    );
    let by_tag = image(&format!("docker-archive:{path}:lab/b:2"))
        .await
        .unwrap();
    let by_hub_name = image(&format!("docker-archive:{path}:bee")).await.unwrap();
    let by_index = image(&format!("docker-archive:{path}:@1")).await.unwrap();
    assert_eq!(by_tag.manifest_digest, by_index.manifest_digest);
    assert_eq!(by_tag.manifest_digest, by_hub_name.manifest_digest);
    assert_eq!(
        by_tag.manifest_digest.as_str(),
        skopeo_digest(&format!("docker-archive:{path}:@1"), None)
    );
    let missing = image(&format!("docker-archive:{path}:lab/c:3"))
        .await
        .unwrap_err();
    assert!(
        missing
            .to_string()
            .contains("has no image tagged `lab/c:3`"),
        "{missing}"
    );
}

#[tokio::test]
async fn multi_platform_index_picks_the_platform_and_lists_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let amd = sample().build();
    let arm = sample()
        .platform("linux", "arm64", Some("v8"))
        .layer(LayerBuilder::new().file("arm", "1"))
        .build();
    let layout = dir.path().join("multi");
    let index_digest = write_index_layout(&layout, &[&amd, &arm], Some("latest"));
    let reference = format!("oci:{}:latest", layout.display());

    let arm_image = image_for(&reference, "linux/arm64").await.unwrap();
    assert_eq!(arm_image.manifest_digest, arm.manifest_digest);
    assert_eq!(arm_image.index_digest(), Some(&index_digest));
    assert_eq!(arm_image.platform().to_string(), "linux/arm64/v8");
    let amd_image = image_for(&reference, "linux/amd64").await.unwrap();
    assert_eq!(amd_image.manifest_digest, amd.manifest_digest);
    // skopeo reports what the tag points at: the index.
    assert_eq!(
        index_digest.as_str(),
        skopeo_digest(&format!("oci:{}:latest", layout.display()), None)
    );

    let err = image_for(&reference, "linux/s390x").await.unwrap_err();
    assert!(
        err.to_string().ends_with(
            "has no image for platform linux/s390x (available: linux/amd64, linux/arm64/v8)"
        ),
        "{err}"
    );
}

#[tokio::test]
async fn an_explicit_platform_must_match_a_single_image() {
    let dir = tempfile::tempdir().unwrap();
    sample()
        .build()
        .write_oci_layout(&dir.path().join("l"), None);
    let err = image_for(
        &format!("oci:{}", dir.path().join("l").display()),
        "linux/arm64",
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("(available: linux/amd64)"),
        "{err}"
    );
}

#[tokio::test]
async fn layout_tag_errors_list_what_exists() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("l");
    sample().build().write_oci_layout(&layout, Some("v1"));
    let err = image(&format!("oci:{}:v2", layout.display()))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} has no image tagged `v2` (available: v1)",
            layout.display()
        )
    );
    let not_a_layout = image(&format!("oci:{}", dir.path().display()))
        .await
        .unwrap_err();
    assert!(
        not_a_layout
            .to_string()
            .contains("is not an OCI image layout"),
        "{not_a_layout}"
    );
    let missing = image("oci:/nonexistent/customs").await.unwrap_err();
    assert!(
        missing
            .to_string()
            .starts_with("/nonexistent/customs: does not exist"),
        "{missing}"
    );
}

fn blob_path(layout: &Path, digest: &Digest) -> std::path::PathBuf {
    layout.join("blobs/sha256").join(digest.hex())
}

#[tokio::test]
async fn tampered_manifests_and_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("l");
    let built = sample().build();
    built.write_oci_layout(&layout, None);
    let reference = format!("oci:{}", layout.display());

    let mut config = built.config.clone();
    config[10] ^= 1;
    fs_err::write(blob_path(&layout, &built.config_digest), &config).unwrap();
    let err = image(&reference).await.unwrap_err();
    assert!(matches!(err, SourceError::Integrity(_)), "{err}");
    assert!(
        err.to_string()
            .contains(&format!("config {}", built.config_digest)),
        "{err}"
    );
    assert!(err.to_string().contains("digest mismatch"), "{err}");

    fs_err::write(blob_path(&layout, &built.config_digest), &built.config).unwrap();
    let mut manifest = built.manifest.clone();
    manifest.push(b' ');
    fs_err::write(blob_path(&layout, &built.manifest_digest), &manifest).unwrap();
    let err = image(&reference).await.unwrap_err();
    assert!(err.to_string().contains("size mismatch"), "{err}");

    fs_err::remove_file(blob_path(&layout, &built.manifest_digest)).unwrap();
    let err = image(&reference).await.unwrap_err();
    assert!(
        err.to_string()
            .contains(&format!("does not contain blob {}", built.manifest_digest)),
        "{err}"
    );
}

#[tokio::test]
async fn oversized_and_malformed_documents_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("l");
    sample().build().write_oci_layout(&layout, None);
    let reference = format!("oci:{}", layout.display());
    let tiny = Limits {
        max_manifest_bytes: 10,
        ..Limits::default()
    };
    let err = error_with(&reference, tiny).await;
    assert!(
        err.to_string()
            .contains("is larger than the limit of 10 bytes"),
        "{err}"
    );

    fs_err::write(layout.join("index.json"), b"{not json").unwrap();
    let err = image(&reference).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("index.json is not a valid manifest or index"),
        "{err}"
    );
}

#[tokio::test]
async fn too_many_layers_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("l");
    let mut builder = ImageBuilder::new();
    for i in 0..5 {
        builder = builder.layer(LayerBuilder::new().file(&format!("f{i}"), "x"));
    }
    builder.build().write_oci_layout(&layout, None);
    let limits = Limits {
        max_layers: 3,
        ..Limits::default()
    };
    let err = error_with(&format!("oci:{}", layout.display()), limits).await;
    assert!(
        err.to_string()
            .ends_with("has 5 layers, more than the limit of 3"),
        "{err}"
    );
}

#[tokio::test]
async fn nested_indexes_are_followed_up_to_the_limit() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("nested");
    let inner = sample().build();
    let inner_digest = write_index_layout(&layout, &[&inner], None);
    // Wrap the inner index in another index, twice.
    let mut child = inner_digest.clone();
    for _ in 0..2 {
        let size = fs_err::metadata(blob_path(&layout, &child)).unwrap().len();
        let outer = serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": child.to_string(), "size": size, "platform": {"os": "linux", "architecture": "amd64"}}]})).unwrap();
        child = Digest::sha256(&outer);
        fs_err::write(blob_path(&layout, &child), &outer).unwrap();
    }
    let size = fs_err::metadata(blob_path(&layout, &child)).unwrap().len();
    fs_err::write(layout.join("index.json"), serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json", "digest": child.to_string(), "size": size}]})).unwrap()).unwrap();
    let reference = format!("oci:{}", layout.display());
    let found = image(&reference).await.unwrap();
    assert_eq!(found.manifest_digest, inner.manifest_digest);
    let shallow = Limits {
        max_index_depth: 2,
        ..Limits::default()
    };
    let err = error_with(&reference, shallow).await;
    assert!(
        err.to_string()
            .contains("indexes nest deeper than 2 levels"),
        "{err}"
    );
}

#[tokio::test]
async fn a_schema_1_manifest_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let layout = dir.path().join("s1");
    let manifest = br#"{"schemaVersion":1,"name":"x","tag":"y","fsLayers":[],"history":[]}"#;
    let digest = Digest::sha256(manifest);
    fs_err::create_dir_all(layout.join("blobs/sha256")).unwrap();
    fs_err::write(blob_path(&layout, &digest), manifest).unwrap();
    fs_err::write(
        layout.join("oci-layout"),
        br#"{"imageLayoutVersion":"1.0.0"}"#,
    )
    .unwrap();
    fs_err::write(layout.join("index.json"), serde_json::to_vec(&serde_json::json!({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.docker.distribution.manifest.v1+prettyjws", "digest": digest.to_string(), "size": manifest.len()}]})).unwrap()).unwrap();
    let err = image(&format!("oci:{}", layout.display()))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("is a Docker schema 1 manifest"),
        "{err}"
    );
}
