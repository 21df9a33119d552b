//! Against a real registry: Debian's `docker-registry` (distribution 2.8) on
//! a free loopback port with htpasswd auth; images pushed with skopeo.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::sync::Arc;

use customs_oci::{
    AnySource, Credential, ImageRef, Limits, NoProgress, Platform, PlatformChoice, RegistryOptions,
    SourceError, SourceOptions, Target,
};
use customs_test::registry::TestRegistry;
use customs_test::{ImageBuilder, LayerBuilder, write_index_layout};
use customs_types::Redacted;

fn options(cache: &std::path::Path, credentials: Option<(&str, &str)>) -> SourceOptions {
    let mut registry = RegistryOptions::new(cache.to_owned());
    registry.use_docker_config = false;
    registry.base_delay = std::time::Duration::from_millis(5);
    registry.credentials = credentials.map(|(u, p)| Credential::Basic {
        username: u.to_owned(),
        password: Redacted::new(p.to_owned()),
    });
    SourceOptions {
        limits: Limits::default(),
        registry: Arc::new(registry),
    }
}

fn open(reference: &str, options: &SourceOptions) -> AnySource {
    match customs_oci::open(&ImageRef::parse(reference).unwrap(), options).unwrap() {
        Target::Image(s) => s,
        Target::RootFs(_) => panic!(),
    }
}

fn sample() -> ImageBuilder {
    ImageBuilder::new()
        .layer(LayerBuilder::new().file("etc/os-release", "ID=debian\n"))
        .layer(LayerBuilder::new().file("app/x", vec![7u8; 300_000]))
}

#[tokio::test]
async fn pulls_oci_and_docker_manifests_with_skopeos_digests() {
    let registry = TestRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    let built = sample().build();
    built.write_oci_layout(&dir.path().join("l"), Some("v1"));
    let layout = format!("oci:{}:v1", dir.path().join("l").display());
    registry.push(&layout, "lab/app", "oci", Some("oci"));
    registry.push(&layout, "lab/app", "v2s2", Some("v2s2"));
    let opts = options(
        &dir.path().join("cache"),
        Some((&registry.user, &registry.password)),
    );
    for tag in ["oci", "v2s2"] {
        let source = open(&format!("{}/lab/app:{tag}", registry.addr), &opts);
        let image = source.image(&PlatformChoice::default()).await.unwrap();
        assert_eq!(
            image.manifest_digest.as_str(),
            registry.skopeo_digest("lab/app", tag),
            "{tag}"
        );
        // Pull again by digest: the digest is verified against the bytes.
        let pinned = open(
            &format!("{}/lab/app@{}", registry.addr, image.manifest_digest),
            &opts,
        );
        assert_eq!(
            pinned
                .image(&PlatformChoice::default())
                .await
                .unwrap()
                .manifest_digest,
            image.manifest_digest
        );
    }
    let oci = open(&format!("{}/lab/app:oci", registry.addr), &opts)
        .image(&PlatformChoice::default())
        .await
        .unwrap();
    assert_eq!(
        oci.manifest_digest, built.manifest_digest,
        "skopeo keeps an OCI manifest byte for byte"
    );
}

#[tokio::test]
async fn downloads_layers_once_verifies_them_and_reads_them_from_the_cache() {
    let registry = TestRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    let built = sample().build();
    built.write_oci_layout(&dir.path().join("l"), None);
    registry.push(
        &format!("oci:{}", dir.path().join("l").display()),
        "lab/app",
        "latest",
        None,
    );
    let cache = dir.path().join("cache");
    let opts = options(&cache, Some((&registry.user, &registry.password)));
    let reference = format!("{}/lab/app:latest", registry.addr);
    let source = open(&reference, &opts);
    let image = source.image(&PlatformChoice::default()).await.unwrap();
    source.fetch_layers(&image, &NoProgress).await.unwrap();
    for (layer, (digest, blob, _)) in image.layers().iter().zip(&built.layers) {
        assert_eq!(&layer.descriptor.digest, digest);
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut source.open_layer(&image, layer).unwrap(), &mut read)
            .unwrap();
        assert_eq!(&read, blob);
    }
    // With the registry gone, the cached layers still read.
    drop(registry);
    source.fetch_layers(&image, &NoProgress).await.unwrap();
    // A corrupted cache entry is detected, reported and removed.
    let cached = cache.join("blobs/sha256").join(built.layers[1].0.hex());
    let mut bytes = fs_err::read(&cached).unwrap();
    bytes[100] ^= 0xff;
    fs_err::write(&cached, &bytes).unwrap();
    let mut sink = Vec::new();
    let err = std::io::Read::read_to_end(
        &mut source.open_layer(&image, &image.layers()[1]).unwrap(),
        &mut sink,
    )
    .unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
    assert!(
        !cached.exists(),
        "the corrupt blob must be removed from the cache"
    );
}

#[tokio::test]
async fn picks_a_platform_from_a_pushed_index() {
    let registry = TestRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    let amd = sample().build();
    let arm = sample()
        .platform("linux", "arm64", None)
        .layer(LayerBuilder::new().file("arm", "1"))
        .build();
    let index = write_index_layout(&dir.path().join("l"), &[&amd, &arm], Some("latest"));
    registry.push_all(
        &format!("oci:{}:latest", dir.path().join("l").display()),
        "lab/multi",
        "latest",
    );
    let opts = options(
        &dir.path().join("cache"),
        Some((&registry.user, &registry.password)),
    );
    let source = open(&format!("{}/lab/multi:latest", registry.addr), &opts);
    let chosen = source
        .image(&PlatformChoice {
            platform: "linux/arm64".parse::<Platform>().unwrap(),
            explicit: true,
        })
        .await
        .unwrap();
    assert_eq!(chosen.manifest_digest, arm.manifest_digest);
    assert_eq!(chosen.index_digest(), Some(&index));
    assert_eq!(
        index.as_str(),
        registry.skopeo_digest("lab/multi", "latest")
    );
    let err = source
        .image(&PlatformChoice {
            platform: "linux/ppc64le".parse::<Platform>().unwrap(),
            explicit: true,
        })
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("(available: linux/amd64, linux/arm64)"),
        "{err}"
    );
}

#[tokio::test]
async fn authentication_failures_are_clear_and_never_show_the_password() {
    let registry = TestRegistry::start();
    let dir = tempfile::tempdir().unwrap();
    sample()
        .build()
        .write_oci_layout(&dir.path().join("l"), None);
    registry.push(
        &format!("oci:{}", dir.path().join("l").display()),
        "lab/app",
        "latest",
        None,
    );
    let reference = format!("{}/lab/app:latest", registry.addr);

    let anonymous = open(&reference, &options(dir.path(), None))
        .image(&PlatformChoice::default())
        .await
        .unwrap_err();
    assert_eq!(
        anonymous.to_string(),
        format!(
            "registry {0} requires authentication: log in with `docker login {0}` or pass --username and --password-stdin",
            registry.addr
        )
    );
    let wrong = open(
        &reference,
        &options(dir.path(), Some(("customs", "not-the-password-42"))),
    )
    .image(&PlatformChoice::default())
    .await
    .unwrap_err();
    assert_eq!(
        wrong.to_string(),
        format!("registry {} refused the credentials", registry.addr)
    );
    assert!(!format!("{wrong:?}").contains("not-the-password-42"));

    let missing = open(
        &format!("{}/lab/nothing:latest", registry.addr),
        &options(dir.path(), Some((&registry.user, &registry.password))),
    )
    .image(&PlatformChoice::default())
    .await
    .unwrap_err();
    assert!(matches!(missing, SourceError::Registry(_)), "{missing}");
    assert!(
        missing
            .to_string()
            .ends_with("manifest unknown (no such repository, tag or digest)"),
        "{missing}"
    );
}
