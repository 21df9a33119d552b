//! The layer walk on images built in code: squashing, subscriptions, and
//! every kind of hostile or broken layer.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::io::Read;
use std::path::Path;
use std::sync::Mutex;

use customs_layer::{
    EntryKind, Fate, FileEvent, FileVisitor, LayerWalker, Selector, Walk, WalkError,
};
use customs_oci::{
    AnySource, Image, ImageRef, Limits, PlatformChoice, RegistryOptions, SourceOptions, Target,
};
use customs_test::{Compression, ImageBuilder, LayerBuilder};

/// Records what it was given: (layer, path, content).
struct Recorder {
    selector: Selector,
    seen: Mutex<Vec<(usize, String, Vec<u8>)>>,
    fail_on: Option<&'static str>,
}

impl Recorder {
    fn new(selector: Selector) -> Self {
        Self {
            selector,
            seen: Mutex::new(Vec::new()),
            fail_on: None,
        }
    }

    fn seen(&self) -> Vec<(usize, String, Vec<u8>)> {
        let mut seen = self.seen.lock().unwrap().clone();
        seen.sort();
        seen
    }
}

impl FileVisitor for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn selector(&self) -> &Selector {
        &self.selector
    }
    fn visit(&self, event: &FileEvent<'_>, content: &mut dyn Read) -> Result<(), String> {
        let mut bytes = Vec::new();
        content.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
        self.seen
            .lock()
            .unwrap()
            .push((event.layer, event.entry.path.clone(), bytes));
        if self.fail_on == Some(event.entry.path.as_str()) {
            return Err("cannot parse this".to_owned());
        }
        Ok(())
    }
}

fn options(dir: &Path, limits: Limits) -> SourceOptions {
    SourceOptions {
        limits,
        registry: std::sync::Arc::new(RegistryOptions::new(dir.join("cache"))),
    }
}

async fn open(builder: &ImageBuilder, dir: &Path, limits: &Limits) -> (AnySource, Image) {
    let layout = dir.join("layout");
    builder.build().write_oci_layout(&layout, Some("t"));
    let reference = ImageRef::parse(&format!("oci:{}:t", layout.display())).unwrap();
    let Target::Image(source) =
        customs_oci::open(&reference, &options(dir, limits.clone())).unwrap()
    else {
        panic!()
    };
    let image = source.image(&PlatformChoice::default()).await.unwrap();
    (source, image)
}

async fn walk(builder: ImageBuilder, visitors: &[&dyn FileVisitor]) -> Result<Walk, WalkError> {
    walk_with(builder, visitors, Limits::default()).await
}

async fn walk_with(
    builder: ImageBuilder,
    visitors: &[&dyn FileVisitor],
    limits: Limits,
) -> Result<Walk, WalkError> {
    let dir = tempfile::tempdir().unwrap();
    let (source, image) = open(&builder, dir.path(), &limits).await;
    LayerWalker::new(limits).walk_image(&source, &image, visitors)
}

#[tokio::test]
async fn squashes_whiteouts_opaque_dirs_and_overwrites() {
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .dir("etc")
                .file("etc/os-release", "ID=debian\n")
                .file("etc/secret.key", "KEY1")
                .dir("opt/app")
                .file("opt/app/a", "a")
                .file("opt/app/b", "b")
                .file("keep", "k"),
        )
        .layer(
            LayerBuilder::new()
                .whiteout("etc/secret.key")
                .opaque("opt/app")
                .file("opt/app/c", "c")
                .file("keep", "k2"),
        )
        .layer(LayerBuilder::new().file("keep", "k3").file("keep", "k4"));
    let w = walk(image, &[]).await.unwrap();
    let paths: Vec<&str> = w.index.iter().map(|(_, e)| e.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/etc", "/etc/os-release", "/keep", "/opt/app", "/opt/app/c"]
    );
    assert_eq!(
        w.index.get("/keep").unwrap().0,
        2,
        "the last layer's keep wins"
    );
    assert_eq!(
        w.index.fate(0, "/etc/secret.key"),
        Fate::Deleted { by_layer: 1 }
    );
    assert_eq!(w.index.fate(0, "/opt/app/a"), Fate::Deleted { by_layer: 1 });
    assert_eq!(w.index.fate(0, "/keep"), Fate::Overwritten { by_layer: 1 });
    assert_eq!(w.index.fate(1, "/keep"), Fate::Overwritten { by_layer: 2 });
    assert_eq!(w.index.fate(1, "/opt/app/c"), Fate::Present);
    assert_eq!(w.layers[1].whiteouts, ["/etc/secret.key"]);
    assert_eq!(w.layers[1].opaque_dirs, ["/opt/app"]);
    let mut deleted: Vec<&str> = w
        .index
        .shadowed()
        .filter(|s| matches!(s.fate, Fate::Deleted { .. }))
        .map(|s| s.entry.path.as_str())
        .collect();
    deleted.sort_unstable();
    assert_eq!(deleted, ["/etc/secret.key", "/opt/app/a", "/opt/app/b"]);
}

#[tokio::test]
async fn visitors_see_every_layer_including_deleted_files_and_only_what_they_asked_for() {
    let recorder = Recorder::new(Selector::new().basename("id_rsa").path("/etc/os-release"));
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", "ID=debian\n")
                .file("etc/passwd", "root:x:0:0"),
        )
        .layer(LayerBuilder::new().file("root/.ssh/id_rsa", "-----BEGIN RSA PRIVATE KEY-----"))
        .layer(LayerBuilder::new().whiteout("root/.ssh/id_rsa"));
    let w = walk(image, &[&recorder]).await.unwrap();
    assert_eq!(
        recorder.seen(),
        [
            (0, "/etc/os-release".to_owned(), b"ID=debian\n".to_vec()),
            (
                1,
                "/root/.ssh/id_rsa".to_owned(),
                b"-----BEGIN RSA PRIVATE KEY-----".to_vec()
            )
        ]
    );
    assert_eq!(
        w.index.fate(1, "/root/.ssh/id_rsa"),
        Fate::Deleted { by_layer: 2 }
    );
    assert!(w.index.get("/root/.ssh/id_rsa").is_none());
}

#[tokio::test]
async fn several_visitors_share_one_read_and_soft_failures_are_warnings() {
    let mut first = Recorder::new(Selector::new().suffix(".json"));
    first.fail_on = Some("/a.json");
    let second = Recorder::new(Selector::all());
    let image =
        ImageBuilder::new().layer(LayerBuilder::new().file("a.json", "{}").file("b.txt", "b"));
    let w = walk(image, &[&first, &second]).await.unwrap();
    assert_eq!(first.seen(), [(0, "/a.json".to_owned(), b"{}".to_vec())]);
    assert_eq!(second.seen().len(), 2);
    assert_eq!(w.warnings.len(), 1);
    assert_eq!(w.warnings[0].path, "/a.json");
    assert_eq!(w.warnings[0].message, "recorder: cannot parse this");
}

#[tokio::test]
async fn reads_gzip_zstd_and_plain_layers() {
    let recorder = Recorder::new(Selector::all());
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("g", "gzip")
                .compression(Compression::Gzip),
        )
        .layer(
            LayerBuilder::new()
                .file("z", "zstd")
                .compression(Compression::Zstd),
        )
        .layer(
            LayerBuilder::new()
                .file("p", "plain")
                .compression(Compression::None),
        );
    let w = walk(image, &[&recorder]).await.unwrap();
    assert_eq!(
        recorder
            .seen()
            .iter()
            .map(|s| s.2.clone())
            .collect::<Vec<_>>(),
        [b"gzip".to_vec(), b"zstd".to_vec(), b"plain".to_vec()]
    );
    assert_eq!(w.layers.len(), 3);
    assert!(w.layers.iter().all(|l| l.uncompressed_size >= 1024));
}

#[tokio::test]
async fn hard_links_are_read_through_their_target() {
    let recorder = Recorder::new(Selector::new().path("/usr/bin/perl"));
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .file("usr/bin/perl5.36.0", "ELF perl")
            .hardlink("usr/bin/perl", "usr/bin/perl5.36.0"),
    );
    let w = walk(image, &[&recorder]).await.unwrap();
    assert_eq!(
        recorder.seen(),
        [(0, "/usr/bin/perl".to_owned(), b"ELF perl".to_vec())]
    );
    let (_, link) = w.index.get("/usr/bin/perl").unwrap();
    assert_eq!(link.kind, EntryKind::Hardlink);
    assert_eq!(link.link_target.as_deref(), Some("/usr/bin/perl5.36.0"));
}

#[tokio::test]
async fn symlinks_resolve_inside_the_root_and_loops_stop() {
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .dir("usr/lib")
            .file("usr/lib/os-release", "ID=debian")
            .symlink("etc/os-release", "../usr/lib/os-release")
            .symlink("lib", "usr/lib")
            .symlink("escape", "../../../../usr/lib/os-release")
            .symlink("loop-a", "loop-b")
            .symlink("loop-b", "loop-a"),
    );
    let w = walk(image, &[]).await.unwrap();
    assert_eq!(
        w.index.resolve("/etc/os-release").unwrap().entry.path,
        "/usr/lib/os-release"
    );
    assert_eq!(
        w.index.resolve("/lib/os-release").unwrap().entry.path,
        "/usr/lib/os-release"
    );
    assert_eq!(
        w.index.resolve("/escape").unwrap().entry.path,
        "/usr/lib/os-release",
        "`..` stops at the root"
    );
    assert!(w.index.resolve("/loop-a").is_none());
    assert!(w.index.resolve("/missing").is_none());
}

#[tokio::test]
async fn hostile_names_stay_inside_the_root_and_are_reported() {
    let recorder = Recorder::new(Selector::all());
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .raw(b"../../../etc/passwd", b'0', b"", "evil")
            .raw(b"/abs/file", b'0', b"", "abs"),
    );
    let w = walk(image, &[&recorder]).await.unwrap();
    let paths: Vec<String> = recorder.seen().into_iter().map(|s| s.1).collect();
    assert_eq!(paths, ["/abs/file", "/etc/passwd"]);
    assert_eq!(w.warnings.len(), 1, "{:?}", w.warnings);
    assert!(
        w.warnings[0].message.contains("climbs above the root"),
        "{:?}",
        w.warnings
    );
}

#[tokio::test]
async fn a_huge_gnu_long_name_is_refused() {
    let image = ImageBuilder::new().layer(LayerBuilder::new().long_name(3 << 20));
    let err = walk(image, &[]).await.unwrap_err();
    assert!(matches!(err, WalkError::MetadataTooLarge { .. }), "{err}");
    assert!(err.to_string().contains("layer 1 ("), "{err}");
}

#[tokio::test]
async fn a_long_path_is_refused() {
    let image = ImageBuilder::new().layer(LayerBuilder::new().long_name(5000));
    let err = walk(image, &[]).await.unwrap_err();
    assert!(
        matches!(err, WalkError::PathTooLong { limit: 4096, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn a_decompression_bomb_hits_the_limit() {
    let image = ImageBuilder::new().layer(LayerBuilder::new().file("zeros", vec![0u8; 4 << 20]));
    let limits = Limits {
        max_uncompressed_bytes: 1 << 20,
        ..Limits::default()
    };
    let err = walk_with(image, &[], limits).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("decompress to more than 1048576 bytes"),
        "{err}"
    );
    assert!(err.to_string().contains("--max-uncompressed-size"), "{err}");
}

#[tokio::test]
async fn too_many_entries_is_refused() {
    let mut layer = LayerBuilder::new();
    for i in 0..20 {
        layer = layer.file(&format!("f{i}"), "x");
    }
    let limits = Limits {
        max_entries_per_layer: 10,
        ..Limits::default()
    };
    let err = walk_with(ImageBuilder::new().layer(layer), &[], limits)
        .await
        .unwrap_err();
    assert!(
        matches!(err, WalkError::TooManyEntries { limit: 10, .. }),
        "{err}"
    );
}

/// Replaces a layer blob in a layout with other bytes under the same name.
fn tamper(dir: &Path, image: &customs_test::BuiltImage, bytes: &[u8]) {
    let digest = &image.layers[0].0;
    fs_err::write(dir.join("layout/blobs/sha256").join(digest.hex()), bytes).unwrap();
}

#[tokio::test]
async fn a_tampered_layer_fails_verification_and_yields_nothing() {
    let builder = ImageBuilder::new().layer(LayerBuilder::new().file("a", "original"));
    let built = builder.build();
    for (case, bytes) in [
        ("same size, other bytes", {
            let mut b = built.layers[0].1.clone();
            let last = b.len() - 9;
            b[last] ^= 0xff;
            b
        }),
        (
            "truncated",
            built.layers[0].1[..built.layers[0].1.len() / 2].to_vec(),
        ),
        (
            "longer",
            [built.layers[0].1.clone(), b"trailing".to_vec()].concat(),
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let (source, image) = open(&builder, dir.path(), &Limits::default()).await;
        tamper(dir.path(), &built, &bytes);
        let recorder = Recorder::new(Selector::all());
        let err = LayerWalker::new(Limits::default())
            .walk_image(&source, &image, &[&recorder])
            .unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("mismatch") || text.contains("cannot read layer 1"),
            "{case}: {text}"
        );
        assert!(
            text.contains(built.layers[0].0.as_str()) || matches!(err, WalkError::Layer { .. }),
            "{case}: {text}"
        );
    }
}

#[tokio::test]
async fn garbage_instead_of_a_tar_is_an_error_naming_the_layer() {
    let garbage = b"this is not a tar archive at all, just text. ".repeat(20);
    let builder = ImageBuilder::new().layer(LayerBuilder::new().file("a", "x"));
    let dir = tempfile::tempdir().unwrap();
    let built = builder.build();
    // A layout whose layer blob is garbage with a matching digest.
    let mut layer_desc = built.clone();
    layer_desc.layers[0] = (
        customs_types::Digest::sha256(&garbage),
        garbage.clone(),
        "application/vnd.oci.image.layer.v1.tar".to_owned(),
    );
    let manifest: serde_json::Value = serde_json::from_slice(&built.manifest).unwrap();
    let mut manifest = manifest;
    manifest["layers"][0]["digest"] = serde_json::json!(layer_desc.layers[0].0.to_string());
    manifest["layers"][0]["size"] = serde_json::json!(garbage.len());
    layer_desc.manifest = serde_json::to_vec(&manifest).unwrap();
    layer_desc.manifest_digest = customs_types::Digest::sha256(&layer_desc.manifest);
    layer_desc.write_oci_layout(&dir.path().join("layout"), None);
    let reference =
        ImageRef::parse(&format!("oci:{}", dir.path().join("layout").display())).unwrap();
    let Target::Image(source) =
        customs_oci::open(&reference, &options(dir.path(), Limits::default())).unwrap()
    else {
        panic!()
    };
    let image = source.image(&PlatformChoice::default()).await.unwrap();
    let err = LayerWalker::new(Limits::default())
        .walk_image(&source, &image, &[])
        .unwrap_err();
    assert!(err.to_string().starts_with("cannot read layer 1"), "{err}");
}

#[test]
fn walks_an_unpacked_root_filesystem() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    fs_err::create_dir_all(root.join("etc")).unwrap();
    fs_err::write(root.join("etc/os-release"), "ID=alpine\n").unwrap();
    std::os::unix::fs::symlink("/etc/os-release", root.join("os")).unwrap();
    std::os::unix::fs::symlink("/", root.join("rootlink")).unwrap();
    let recorder = Recorder::new(Selector::new().basename("os-release"));
    let w = LayerWalker::new(Limits::default())
        .walk_rootfs(root, &[&recorder])
        .unwrap();
    assert_eq!(
        recorder.seen(),
        [(0, "/etc/os-release".to_owned(), b"ID=alpine\n".to_vec())]
    );
    assert_eq!(
        w.index.resolve("/os").unwrap().entry.path,
        "/etc/os-release"
    );
    assert_eq!(w.index.get("/rootlink").unwrap().1.kind, EntryKind::Symlink);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Arbitrary bytes as a layer never panic: they are an error or an empty walk.
    #[test]
    fn arbitrary_layer_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4096)) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let builder = ImageBuilder::new().layer(LayerBuilder::new().file("a", "x"));
            let (source, image) = open(&builder, dir.path(), &Limits::default()).await;
            let built = builder.build();
            tamper(dir.path(), &built, &bytes);
            let _ = LayerWalker::new(Limits::default()).walk_image(&source, &image, &[]);
        });
    }
}

/// A reader that waits before its first byte, to hold a layer mid-walk.
struct Slow {
    inner: std::io::Cursor<Vec<u8>>,
    waited: bool,
}

impl Read for Slow {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if !self.waited {
            self.waited = true;
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
        let n = buf.len().min(512);
        self.inner.read(&mut buf[..n])
    }
}

/// When one layer fails, the layers walked beside it stop early; the error
/// must be the failing layer's, not "stopped" from a lower one.
#[test]
fn the_error_names_the_layer_that_failed_not_one_that_stopped() {
    let healthy = LayerBuilder::new()
        .file("a", "a")
        .file("b", "b")
        .file("c", "c")
        .tar();
    let garbage = b"not a tar, not gzip, not zstd".repeat(40);
    let inputs = [
        customs_layer::LayerInput::new(0, "layer 1 (healthy)", 1000, move || {
            Ok(Box::new(Slow {
                inner: std::io::Cursor::new(healthy.clone()),
                waited: false,
            }) as customs_oci::BoxRead)
        }),
        customs_layer::LayerInput::new(1, "layer 2 (broken)", 10, move || {
            Ok(Box::new(std::io::Cursor::new(garbage.clone())) as customs_oci::BoxRead)
        }),
    ];
    let err = LayerWalker::new(Limits::default())
        .threads(2)
        .walk_inputs(&inputs, &[], "test")
        .unwrap_err();
    assert_eq!(err.to_string(), "cannot read layer 2 (broken)");
}

/// A hard link whose target the visitor already read costs no second pass
/// over the layer; one whose target it did not want costs exactly one.
#[test]
fn hard_links_to_files_already_read_need_no_second_pass() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let tar = LayerBuilder::new()
        .file("usr/bin/perl5.36.0", "ELF perl")
        .hardlink("usr/bin/perl", "usr/bin/perl5.36.0")
        .tar();
    for (selector, opens_wanted, seen_wanted) in [
        (Selector::all(), 1, vec!["/usr/bin/perl5.36.0"]),
        (
            Selector::new().path("/usr/bin/perl"),
            2,
            vec!["/usr/bin/perl"],
        ),
    ] {
        let opens = AtomicUsize::new(0);
        let bytes = tar.clone();
        let input = customs_layer::LayerInput::new(0, "layer 1", bytes.len() as u64, || {
            opens.fetch_add(1, Ordering::SeqCst);
            Ok(Box::new(std::io::Cursor::new(bytes.clone())) as customs_oci::BoxRead)
        });
        let recorder = Recorder::new(selector);
        LayerWalker::new(Limits::default())
            .walk_inputs(&[input], &[&recorder], "test")
            .unwrap();
        assert_eq!(opens.load(Ordering::SeqCst), opens_wanted);
        assert_eq!(
            recorder.seen().into_iter().map(|s| s.1).collect::<Vec<_>>(),
            seen_wanted
        );
    }
}

/// Issue 14 (hostile 1): a symlinked parent directory must not hide a file
/// from the analyzers. A runtime unpacks `x/status` under `x -> /var/lib/dpkg`
/// at `/var/lib/dpkg/status`; so does the walk, within a layer and across.
#[tokio::test]
async fn issue14_symlinked_parent_in_the_same_layer_is_followed() {
    let dpkg = Recorder::new(Selector::new().path("/var/lib/dpkg/status"));
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .symlink("x", "/var/lib/dpkg")
            .file("x/status", "Package: libssl3\n"),
    );
    let w = walk(image, &[&dpkg]).await.unwrap();
    assert_eq!(
        dpkg.seen(),
        [(
            0,
            "/var/lib/dpkg/status".to_owned(),
            b"Package: libssl3\n".to_vec()
        )]
    );
    assert!(w.index.get("/var/lib/dpkg/status").is_some());
    assert!(w.index.get("/x/status").is_none());
    assert!(
        w.warnings.iter().any(|warning| warning
            .message
            .contains("runtime unpacks it at `/var/lib/dpkg/status`")),
        "{:?}",
        w.warnings
    );
}

#[tokio::test]
async fn issue14_symlinked_parent_of_a_lower_layer_is_followed() {
    let dpkg = Recorder::new(Selector::new().path("/var/lib/dpkg/status"));
    let everything = Recorder::new(Selector::all());
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .symlink("x", "../var/./lib/dpkg")
                .symlink("deep", "x/info"),
        )
        .layer(
            LayerBuilder::new()
                .file("x/status", "Package: libssl3\n")
                .file("deep/libssl3.list", "/usr/lib/libssl.so.3\n")
                .hardlink("x/status-old", "x/status"),
        )
        // A whiteout through the link deletes the real file.
        .layer(LayerBuilder::new().whiteout("x/status-old"));
    let w = walk(image, &[&dpkg, &everything]).await.unwrap();
    assert_eq!(
        dpkg.seen(),
        [(
            1,
            "/var/lib/dpkg/status".to_owned(),
            b"Package: libssl3\n".to_vec()
        )]
    );
    assert!(w.index.get("/var/lib/dpkg/status").is_some());
    assert!(w.index.get("/var/lib/dpkg/info/libssl3.list").is_some());
    assert!(w.index.get("/x/status").is_none());
    assert_eq!(
        w.index.fate(1, "/var/lib/dpkg/status-old"),
        Fate::Deleted { by_layer: 2 }
    );
    // A visitor that was first given the old name is told to drop it, and
    // was given the real one as well.
    assert!(w.index.was_moved(1, "/x/status"));
    assert!(!w.index.was_moved(1, "/var/lib/dpkg/status"));
    let seen: Vec<String> = everything.seen().into_iter().map(|s| s.1).collect();
    assert!(
        seen.contains(&"/var/lib/dpkg/status".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"/var/lib/dpkg/info/libssl3.list".to_owned()),
        "{seen:?}"
    );
    assert!(
        seen.contains(&"/var/lib/dpkg/status-old".to_owned()),
        "{seen:?}"
    );
}

#[tokio::test]
async fn issue14_a_symlink_loop_above_an_entry_is_a_warning_not_a_hang() {
    let image = ImageBuilder::new()
        .layer(LayerBuilder::new().symlink("a", "b").symlink("b", "a"))
        .layer(LayerBuilder::new().file("a/f", "x"));
    let w = walk(image, &[]).await.unwrap();
    assert!(w.index.get("/a/f").is_some(), "kept under its own name");
}

/// Issue 14 (hostile 12): a config whose `diff_ids` do not match the
/// uncompressed layers is refused (containerd refuses to unpack it), naming
/// the layer; plain and compressed layers alike.
#[tokio::test]
async fn issue14_diff_ids_are_verified() {
    let other = customs_types::Digest::sha256(b"another layer").to_string();
    for compression in [Compression::Gzip, Compression::Zstd, Compression::None] {
        let image = ImageBuilder::new()
            .layer(LayerBuilder::new().file("a", "a"))
            .layer(LayerBuilder::new().file("b", "b").compression(compression))
            .diff_id(1, &other);
        let err = walk(image, &[]).await.unwrap_err();
        let text = err.to_string();
        assert!(
            matches!(err, WalkError::Integrity(_)),
            "{compression:?}: {text}"
        );
        assert!(
            text.contains("layer 2") && text.contains("diff_id") && text.contains(&other),
            "{text}"
        );
    }
    // The right ones pass.
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("a", "a")
                .compression(Compression::None),
        )
        .layer(LayerBuilder::new().file("b", "b"));
    walk(image, &[]).await.unwrap();
}

/// Issue 14 (hostile 11): `files --all-layers` showed whited-out
/// directories as present after `.wh.etc` or an opaque root.
#[tokio::test]
async fn issue14_deleted_directories_have_a_fate() {
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .dir("etc")
                .file("etc/passwd", "root")
                .dir("opt"),
        )
        .layer(LayerBuilder::new().whiteout("etc"))
        .layer(LayerBuilder::new().dir("srv"))
        .layer(LayerBuilder::new().opaque(".").file("new", "n"));
    let w = walk(image, &[]).await.unwrap();
    assert_eq!(w.index.fate(0, "/etc"), Fate::Deleted { by_layer: 1 });
    assert_eq!(
        w.index.fate(0, "/etc/passwd"),
        Fate::Deleted { by_layer: 1 }
    );
    assert_eq!(w.index.fate(0, "/opt"), Fate::Deleted { by_layer: 3 });
    assert_eq!(w.index.fate(2, "/srv"), Fate::Deleted { by_layer: 3 });
    assert_eq!(w.index.fate(3, "/new"), Fate::Present);
    // Directories are not listed as shadowed content.
    assert!(
        w.index
            .shadowed()
            .all(|s| s.entry.kind != EntryKind::Directory)
    );
}

/// Issue 14 (hostile 2): the entry limit was per layer, so one huge layer
/// repeated a thousand times exhausted memory. Entries are bounded over the
/// whole walk, and the error names the image and the flag.
#[tokio::test]
async fn issue14_entries_are_bounded_over_the_whole_walk() {
    let layer = LayerBuilder::new()
        .file("a", "a")
        .file("b", "b")
        .file("c", "c");
    let image = ImageBuilder::new()
        .layer(layer.clone())
        .layer(layer.clone())
        .layer(layer);
    let limits = Limits {
        max_entries_total: 8,
        ..Limits::default()
    };
    let err = walk_with(image.clone(), &[], limits).await.unwrap_err();
    assert!(
        matches!(err, WalkError::TooManyEntriesTotal { limit: 8, .. }),
        "{err}"
    );
    assert!(err.to_string().contains("--max-entries"), "{err}");
    let limits = Limits {
        max_entries_total: 9,
        ..Limits::default()
    };
    walk_with(image, &[], limits).await.unwrap();
}

/// A recorder that declines files whose head holds a NUL byte, as a text
/// scanner does.
struct TextOnly(Recorder);

impl FileVisitor for TextOnly {
    fn name(&self) -> &'static str {
        "text-only"
    }
    fn selector(&self) -> &Selector {
        self.0.selector()
    }
    fn visit(&self, event: &FileEvent<'_>, content: &mut dyn Read) -> Result<(), String> {
        self.0.visit(event, content)
    }
    fn wants_content(&self, _event: &FileEvent<'_>, head: &[u8]) -> bool {
        !head.contains(&0)
    }
}

#[tokio::test]
async fn a_visitor_declining_a_file_by_its_head_leaves_the_others_the_whole_file() {
    // Larger than the head, so the one visitor left reads head and rest
    // chained; a text file both want is still shared whole.
    let mut binary = vec![0u8; 3];
    binary.extend((0..40_000u32).map(|i| (i % 251) as u8 + 1));
    let text = "x=1\n".repeat(5000);
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .dir("bin")
            .file("bin/tool", &binary)
            .file("bin/notes.txt", &text),
    );
    let all = Recorder::new(Selector::all());
    let text_only = TextOnly(Recorder::new(Selector::all()));
    walk(image, &[&all, &text_only]).await.unwrap();
    let by_path = |r: &Recorder, path: &str| {
        r.seen()
            .into_iter()
            .find(|(_, p, _)| p == path)
            .map(|(_, _, bytes)| bytes)
    };
    assert_eq!(by_path(&all, "/bin/tool").unwrap(), binary);
    assert_eq!(by_path(&all, "/bin/notes.txt").unwrap(), text.as_bytes());
    assert!(
        by_path(&text_only.0, "/bin/tool").is_none(),
        "declined by its head"
    );
    assert_eq!(
        by_path(&text_only.0, "/bin/notes.txt").unwrap(),
        text.as_bytes()
    );
}
