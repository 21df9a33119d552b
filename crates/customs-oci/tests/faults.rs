//! Fault injection with a scripted in-process registry: rate limits, server
//! errors, truncated and wrong bodies, and the bearer-token flow.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use customs_oci::{
    AnySource, Credential, Image, ImageRef, Limits, NoProgress, PlatformChoice, RegistryOptions,
    SourceError, SourceOptions, Target,
};
use customs_test::fault::{FaultServer, Reply, Request};
use customs_test::{BuiltImage, ImageBuilder, LayerBuilder};
use customs_types::Redacted;

fn built() -> BuiltImage {
    ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", "ID=debian\n")
                .file("big", vec![1u8; 100_000]),
        )
        .build()
}

/// Serves `image` as repository `r` like a registry would.
fn registry_reply(image: &BuiltImage, request: &Request) -> Reply {
    let path = request.path.as_str();
    if path == "/v2/" {
        return Reply::new(200, "{}");
    }
    if path.starts_with("/v2/r/manifests/") {
        return Reply::new(200, image.manifest.clone())
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            .header("Docker-Content-Digest", image.manifest_digest.as_str());
    }
    if path == format!("/v2/r/blobs/{}", image.config_digest) {
        return Reply::new(200, image.config.clone());
    }
    for (digest, blob, _) in &image.layers {
        if path == format!("/v2/r/blobs/{digest}") {
            return Reply::new(200, blob.clone());
        }
    }
    Reply::new(404, r#"{"errors":[{"code":"NOT_FOUND"}]}"#)
}

fn options(cache: &std::path::Path, credentials: Option<Credential>) -> SourceOptions {
    let mut registry = RegistryOptions::new(cache.to_owned());
    registry.use_docker_config = false;
    registry.base_delay = Duration::from_millis(5);
    registry.max_attempts = 3;
    registry.credentials = credentials;
    SourceOptions {
        limits: Limits::default(),
        registry: Arc::new(registry),
    }
}

fn source(
    server: &FaultServer,
    cache: &std::path::Path,
    credentials: Option<Credential>,
) -> AnySource {
    source_with(server, &options(cache, credentials))
}

fn source_with(server: &FaultServer, options: &SourceOptions) -> AnySource {
    let reference = ImageRef::parse(&format!("{}/r:latest", server.addr)).unwrap();
    match customs_oci::open(&reference, options).unwrap() {
        Target::Image(s) => s,
        Target::RootFs(_) => panic!(),
    }
}

async fn pull(source: &AnySource) -> Result<Image, SourceError> {
    let image = source.image(&PlatformChoice::default()).await?;
    source.fetch_layers(&image, &NoProgress).await?;
    Ok(image)
}

#[tokio::test]
async fn honours_retry_after_on_429() {
    let image = built();
    let served = image.clone();
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&calls);
    let server = FaultServer::start(move |r| {
        if r.path.starts_with("/v2/r/manifests/") && seen.fetch_add(1, Ordering::SeqCst) == 0 {
            return Reply::new(429, "slow down").header("Retry-After", "1");
        }
        registry_reply(&served, r)
    });
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let got = pull(&source(&server, dir.path(), None)).await.unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(got.manifest_digest, image.manifest_digest);
    assert_eq!(server.count("/v2/r/manifests/"), 2);
}

#[tokio::test]
async fn retries_server_errors_then_succeeds() {
    let image = built();
    let served = image.clone();
    let failures = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&failures);
    let server = FaultServer::start(move |r| {
        if r.path.starts_with("/v2/r/blobs/") && seen.fetch_add(1, Ordering::SeqCst) < 2 {
            return Reply::new(500, "oops");
        }
        registry_reply(&served, r)
    });
    let dir = tempfile::tempdir().unwrap();
    pull(&source(&server, dir.path(), None)).await.unwrap();
}

#[tokio::test]
async fn gives_up_after_the_last_attempt() {
    let server = FaultServer::start(|r| {
        if r.path == "/v2/" {
            Reply::new(200, "{}")
        } else {
            Reply::new(503, "down")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let err = pull(&source(&server, dir.path(), None)).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "http://{}/v2/r/manifests/latest kept failing with HTTP 503 after 3 attempts",
            server.addr
        )
    );
}

#[tokio::test]
async fn restarts_a_truncated_download_and_fails_when_it_stays_truncated() {
    let image = built();
    let layer = image.layers[0].0.clone();
    for always in [false, true] {
        let served = image.clone();
        let layer_path = format!("/v2/r/blobs/{layer}");
        let cuts = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&cuts);
        let server = FaultServer::start(move |r| {
            let reply = registry_reply(&served, r);
            if r.path == layer_path && (always || seen.fetch_add(1, Ordering::SeqCst) == 0) {
                return reply.truncated_to(1000);
            }
            reply
        });
        let dir = tempfile::tempdir().unwrap();
        let result = pull(&source(&server, dir.path(), None)).await;
        if always {
            let err = result.unwrap_err();
            assert!(
                err.to_string().contains("the response ended after 1000 of"),
                "{err}"
            );
            assert_eq!(server.count(&format!("/v2/r/blobs/{layer}")), 3);
            assert!(
                !dir.path().join("blobs/sha256").join(layer.hex()).exists(),
                "nothing unverified is cached"
            );
        } else {
            result.unwrap();
            assert!(dir.path().join("blobs/sha256").join(layer.hex()).exists());
        }
    }
}

#[tokio::test]
async fn a_blob_with_the_wrong_content_is_refused_without_retrying() {
    let image = built();
    let served = image.clone();
    let layer = image.layers[0].0.clone();
    let server = FaultServer::start(move |r| {
        let mut reply = registry_reply(&served, r);
        if r.path.ends_with(layer.as_str()) {
            let last = reply.body.len() - 1;
            reply.body[last] ^= 0xff;
        }
        reply
    });
    let dir = tempfile::tempdir().unwrap();
    let err = pull(&source(&server, dir.path(), None)).await.unwrap_err();
    assert!(matches!(err, SourceError::Integrity(_)), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "blob {} of {}/r: digest mismatch",
            image.layers[0].0, server.addr
        )),
        "{err}"
    );
    assert_eq!(
        server.count(&format!("/v2/r/blobs/{}", image.layers[0].0)),
        1
    );
}

#[tokio::test]
async fn a_manifest_that_disagrees_with_its_digest_header_is_refused() {
    let image = built();
    let served = image.clone();
    let server = FaultServer::start(move |r| {
        if r.path.starts_with("/v2/r/manifests/") {
            return Reply::new(200, served.manifest.clone())
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
                .header(
                    "Docker-Content-Digest",
                    "sha256:0000000000000000000000000000000000000000000000000000000000000000",
                );
        }
        registry_reply(&served, r)
    });
    let dir = tempfile::tempdir().unwrap();
    let err = pull(&source(&server, dir.path(), None)).await.unwrap_err();
    assert!(err.to_string().contains("digest mismatch"), "{err}");
}

#[tokio::test]
async fn an_oversized_manifest_is_refused_before_it_is_read() {
    let server = FaultServer::start(|r| {
        if r.path == "/v2/" {
            Reply::new(200, "{}")
        } else {
            Reply::new(200, vec![b' '; 5 << 20])
                .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let err = pull(&source(&server, dir.path(), None)).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("is larger than the limit of 4194304 bytes"),
        "{err}"
    );
}

#[tokio::test]
async fn bearer_tokens_are_fetched_with_credentials_and_cached_per_scope() {
    let image = built();
    let served = image.clone();
    let addr = Arc::new(std::sync::OnceLock::<String>::new());
    let realm = Arc::clone(&addr);
    // base64("alice:s3cret")
    let server = FaultServer::start(move |r| {
        let challenge = format!(
            r#"Bearer realm="http://{}/token",service="fake-registry",scope="repository:r:pull""#,
            realm.get().unwrap()
        );
        if r.path.starts_with("/token") {
            if r.headers.get("authorization").map(String::as_str) != Some("Basic YWxpY2U6czNjcmV0")
            {
                return Reply::new(401, "bad credentials");
            }
            assert!(r.path.contains("scope=repository%3Ar%3Apull"), "{}", r.path);
            assert!(r.path.contains("service=fake-registry"), "{}", r.path);
            return Reply::new(200, r#"{"token":"T0K3N","expires_in":300}"#);
        }
        if r.headers.get("authorization").map(String::as_str) != Some("Bearer T0K3N") {
            return Reply::new(401, "").header("WWW-Authenticate", &challenge);
        }
        registry_reply(&served, r)
    });
    addr.set(server.addr.clone()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let alice = Credential::Basic {
        username: "alice".into(),
        password: Redacted::new("s3cret".into()),
    };
    let got = pull(&source(&server, dir.path(), Some(alice)))
        .await
        .unwrap();
    assert_eq!(got.manifest_digest, image.manifest_digest);
    assert_eq!(
        server.count("/token"),
        1,
        "the token is cached for the scope"
    );

    let mallory = Credential::Basic {
        username: "alice".into(),
        password: Redacted::new("wrong".into()),
    };
    let err = pull(&source(&server, dir.path(), Some(mallory)))
        .await
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("registry {} refused the credentials", server.addr)
    );
    let anonymous = pull(&source(&server, dir.path(), None)).await.unwrap_err();
    assert!(
        anonymous.to_string().contains("requires authentication"),
        "{anonymous}"
    );
}

fn tight(cache: &std::path::Path) -> SourceOptions {
    let mut options = options(cache, None);
    let registry = Arc::get_mut(&mut options.registry).unwrap();
    registry.request_timeout = Duration::from_secs(1);
    registry.read_timeout = Duration::from_secs(5);
    registry.retry_window = Duration::from_secs(2);
    registry.min_blob_rate = 1 << 20;
    options
}

fn tight_source(server: &FaultServer, cache: &std::path::Path) -> AnySource {
    source_with(server, &tight(cache))
}

/// Issue 14 (hostile 5): `--timeout` bounded each read, so a body trickled
/// at one byte per read never ended. A manifest must arrive whole within
/// the request's deadline, and the error says what timed out.
/// Serves the test image, trickling the answers whose path contains
/// `slow`; pulls with tight limits and returns the error's text, checking
/// it came in well under the trickle's length.
async fn pull_trickled(slow: String, pause: Duration) -> (String, FaultServer) {
    let image = built();
    let server = FaultServer::start(move |r| {
        let reply = registry_reply(&image, r);
        if r.path.contains(&slow) {
            return reply.trickled(pause);
        }
        reply
    });
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let err = pull(&tight_source(&server, dir.path())).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "{:?}",
        start.elapsed()
    );
    (err.to_string(), server)
}

#[tokio::test]
async fn a_trickled_manifest_times_out_and_says_so() {
    let (text, server) =
        pull_trickled("/v2/r/manifests/".to_owned(), Duration::from_millis(100)).await;
    assert!(text.contains("/v2/r/manifests/latest"), "{text}");
    assert!(
        text.contains("no answer within 1s") || text.contains("did not arrive whole in time"),
        "{text}"
    );
    assert_eq!(
        server.count("/v2/r/manifests/"),
        1,
        "a trickling server is not retried"
    );
}

/// A blob trickled below the slowest allowed rate is abandoned, with its
/// progress in the message.
#[tokio::test]
async fn a_trickled_blob_times_out_and_says_so() {
    let layer = built().layers[0].0.to_string();
    let (text, _server) = pull_trickled(layer, Duration::from_millis(50)).await;
    assert!(
        text.contains("bytes in 1s") && text.contains("1024 KiB/s"),
        "{text}"
    );
}

/// `Retry-After` waits added up past any bound (30 s per attempt). Waits
/// stop at the retry window, and the error names the registry's request.
#[tokio::test]
async fn retry_after_is_capped_by_the_retry_window() {
    let server = FaultServer::start(move |r| {
        if r.path == "/v2/" {
            return Reply::new(200, "{}");
        }
        Reply::new(429, "slow down").header("Retry-After", "3600")
    });
    let dir = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let err = pull(&tight_source(&server, dir.path())).await.unwrap_err();
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
    let text = err.to_string();
    assert!(
        text.contains("asking to wait 3600s (Retry-After)") && text.contains("retry window"),
        "{text}"
    );
}
