//! Builds images from in-memory file lists, deterministically: the same
//! inputs give byte-identical blobs and digests.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use customs_types::Digest;
use serde_json::{Value, json};

/// How a layer blob is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    /// Plain tar.
    None,
    /// gzip.
    Gzip,
    /// zstd.
    Zstd,
}

#[derive(Debug, Clone)]
enum Item {
    File {
        path: String,
        content: Vec<u8>,
        mode: u32,
    },
    Dir {
        path: String,
    },
    Symlink {
        path: String,
        target: String,
    },
    Hardlink {
        path: String,
        target: String,
    },
    /// A name written verbatim into the header, bypassing the tar crate's
    /// checks: for hostile names such as `../../etc/passwd`.
    RawName {
        name: Vec<u8>,
        content: Vec<u8>,
        kind: u8,
        link: Vec<u8>,
    },
    /// A GNU long-name record of this many bytes, then a file.
    LongName {
        length: usize,
    },
}

/// The entries of one layer.
#[derive(Debug, Clone)]
pub struct LayerBuilder {
    items: Vec<Item>,
    compression: Compression,
    created_by: String,
}

impl Default for LayerBuilder {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            compression: Compression::Gzip,
            created_by: "customs-test".to_owned(),
        }
    }
}

impl LayerBuilder {
    /// An empty gzip layer.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a regular file (mode 0644). Parent directories are not implied.
    #[must_use]
    pub fn file(mut self, path: &str, content: impl AsRef<[u8]>) -> Self {
        self.items.push(Item::File {
            path: path.to_owned(),
            content: content.as_ref().to_vec(),
            mode: 0o644,
        });
        self
    }

    /// Adds a regular file with a mode.
    #[must_use]
    pub fn file_mode(mut self, path: &str, content: impl AsRef<[u8]>, mode: u32) -> Self {
        self.items.push(Item::File {
            path: path.to_owned(),
            content: content.as_ref().to_vec(),
            mode,
        });
        self
    }

    /// Adds a directory.
    #[must_use]
    pub fn dir(mut self, path: &str) -> Self {
        self.items.push(Item::Dir {
            path: path.to_owned(),
        });
        self
    }

    /// Adds a symlink.
    #[must_use]
    pub fn symlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Symlink {
            path: path.to_owned(),
            target: target.to_owned(),
        });
        self
    }

    /// Adds a hard link to an earlier path of this layer.
    #[must_use]
    pub fn hardlink(mut self, path: &str, target: &str) -> Self {
        self.items.push(Item::Hardlink {
            path: path.to_owned(),
            target: target.to_owned(),
        });
        self
    }

    /// Deletes `path` of a lower layer (`.wh.NAME`).
    #[must_use]
    pub fn whiteout(mut self, path: &str) -> Self {
        let (dir, name) = path.rsplit_once('/').unwrap_or(("", path));
        let marker = if dir.is_empty() {
            format!(".wh.{name}")
        } else {
            format!("{dir}/.wh.{name}")
        };
        self.items.push(Item::File {
            path: marker,
            content: Vec::new(),
            mode: 0o644,
        });
        self
    }

    /// Hides the lower layers' contents of `dir` (`.wh..wh..opq`).
    #[must_use]
    pub fn opaque(mut self, dir: &str) -> Self {
        let dir = dir.trim_end_matches('/');
        self.items.push(Item::File {
            path: format!("{dir}/.wh..wh..opq"),
            content: Vec::new(),
            mode: 0o644,
        });
        self
    }

    /// Adds an entry whose name (and link name) is written verbatim.
    /// `kind` is the tar type flag (`b'0'` file, `b'2'` symlink, `b'1'` hard link).
    #[must_use]
    pub fn raw(mut self, name: &[u8], kind: u8, link: &[u8], content: impl AsRef<[u8]>) -> Self {
        self.items.push(Item::RawName {
            name: name.to_vec(),
            content: content.as_ref().to_vec(),
            kind,
            link: link.to_vec(),
        });
        self
    }

    /// Adds a GNU long-name record of `length` bytes (then a small file).
    #[must_use]
    pub fn long_name(mut self, length: usize) -> Self {
        self.items.push(Item::LongName { length });
        self
    }

    /// Sets the compression.
    #[must_use]
    pub fn compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Sets the history `created_by`.
    #[must_use]
    pub fn created_by(mut self, created_by: &str) -> Self {
        self.created_by = created_by.to_owned();
        self
    }

    /// The uncompressed tar stream.
    #[must_use]
    pub fn tar(&self) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        for item in &self.items {
            match item {
                Item::File {
                    path,
                    content,
                    mode,
                } => {
                    let mut h = header(tar::EntryType::Regular, *mode, content.len() as u64);
                    builder
                        .append_data(&mut h, path, content.as_slice())
                        .unwrap();
                }
                Item::Dir { path } => {
                    let mut h = header(tar::EntryType::Directory, 0o755, 0);
                    builder.append_data(&mut h, path, &[][..]).unwrap();
                }
                Item::Symlink { path, target } => {
                    let mut h = header(tar::EntryType::Symlink, 0o777, 0);
                    builder.append_link(&mut h, path, target).unwrap();
                }
                Item::Hardlink { path, target } => {
                    let mut h = header(tar::EntryType::Link, 0o644, 0);
                    builder.append_link(&mut h, path, target).unwrap();
                }
                Item::RawName {
                    name,
                    content,
                    kind,
                    link,
                } => {
                    let mut h = header(tar::EntryType::new(*kind), 0o644, content.len() as u64);
                    {
                        let old = h.as_old_mut();
                        let n = name.len().min(100);
                        old.name[..n].copy_from_slice(&name[..n]);
                        let l = link.len().min(100);
                        old.linkname[..l].copy_from_slice(&link[..l]);
                    }
                    h.set_cksum();
                    builder.append(&h, content.as_slice()).unwrap();
                }
                Item::LongName { length } => {
                    let name = vec![b'a'; *length];
                    let mut ln = header(tar::EntryType::GNULongName, 0o644, *length as u64 + 1);
                    {
                        let old = ln.as_old_mut();
                        old.name[..13].copy_from_slice(b"././@LongLink");
                    }
                    ln.set_cksum();
                    let mut data = name;
                    data.push(0);
                    builder.append(&ln, data.as_slice()).unwrap();
                    let mut h = header(tar::EntryType::Regular, 0o644, 1);
                    h.as_old_mut().name[..5].copy_from_slice(b"short");
                    h.set_cksum();
                    builder.append(&h, &b"x"[..]).unwrap();
                }
            }
        }
        builder.into_inner().unwrap()
    }

    fn blob(&self) -> (Vec<u8>, &'static str) {
        let tar = self.tar();
        match self.compression {
            Compression::None => (tar, "application/vnd.oci.image.layer.v1.tar"),
            Compression::Gzip => {
                let mut enc = flate2::GzBuilder::new()
                    .mtime(0)
                    .write(Vec::new(), flate2::Compression::fast());
                enc.write_all(&tar).unwrap();
                (
                    enc.finish().unwrap(),
                    "application/vnd.oci.image.layer.v1.tar+gzip",
                )
            }
            Compression::Zstd => (
                zstd::encode_all(tar.as_slice(), 3).unwrap(),
                "application/vnd.oci.image.layer.v1.tar+zstd",
            ),
        }
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(kind);
    h.set_mode(mode);
    h.set_size(size);
    h.set_mtime(0);
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// An image description.
#[derive(Debug, Clone)]
pub struct ImageBuilder {
    layers: Vec<LayerBuilder>,
    config: Value,
    manifest_annotations: BTreeMap<String, String>,
    os: String,
    architecture: String,
    variant: Option<String>,
    created: Option<String>,
    diff_ids: BTreeMap<usize, String>,
}

impl Default for ImageBuilder {
    fn default() -> Self {
        Self::new()
    }
}

/// The blobs and digests of a built image.
#[derive(Debug, Clone)]
pub struct BuiltImage {
    /// The manifest bytes.
    pub manifest: Vec<u8>,
    /// The manifest digest.
    pub manifest_digest: Digest,
    /// The config bytes.
    pub config: Vec<u8>,
    /// The config digest.
    pub config_digest: Digest,
    /// Layer blobs as stored, with digest and media type.
    pub layers: Vec<(Digest, Vec<u8>, String)>,
    /// Uncompressed layer tars.
    pub tars: Vec<Vec<u8>>,
    /// `os/arch[/variant]`.
    pub platform: (String, String, Option<String>),
}

impl ImageBuilder {
    /// A linux/amd64 image with no layers.
    #[must_use]
    pub fn new() -> Self {
        Self {
            layers: Vec::new(),
            config: json!({}),
            manifest_annotations: BTreeMap::new(),
            os: "linux".to_owned(),
            architecture: "amd64".to_owned(),
            variant: None,
            created: None,
            diff_ids: BTreeMap::new(),
        }
    }

    /// Declares `diff_id` for layer `index` (0-based) in the config instead
    /// of the real one: a config that lies about its layers.
    #[must_use]
    pub fn diff_id(mut self, index: usize, diff_id: &str) -> Self {
        self.diff_ids.insert(index, diff_id.to_owned());
        self
    }

    /// Adds a layer.
    #[must_use]
    pub fn layer(mut self, layer: LayerBuilder) -> Self {
        self.layers.push(layer);
        self
    }

    /// Sets the platform.
    #[must_use]
    pub fn platform(mut self, os: &str, architecture: &str, variant: Option<&str>) -> Self {
        os.clone_into(&mut self.os);
        architecture.clone_into(&mut self.architecture);
        self.variant = variant.map(str::to_owned);
        self
    }

    /// Sets a field of the runtime config (`User`, `Env`, `Labels`, …).
    #[must_use]
    pub fn config_field(mut self, key: &str, value: Value) -> Self {
        self.config[key] = value;
        self
    }

    /// Sets the config's `created` (default 2024-01-01T00:00:00Z).
    #[must_use]
    pub fn created(mut self, created: &str) -> Self {
        self.created = Some(created.to_owned());
        self
    }

    /// Adds a manifest annotation.
    #[must_use]
    pub fn annotation(mut self, key: &str, value: &str) -> Self {
        self.manifest_annotations
            .insert(key.to_owned(), value.to_owned());
        self
    }

    /// Builds blobs, config and manifest.
    #[must_use]
    pub fn build(&self) -> BuiltImage {
        let mut layers = Vec::new();
        let mut tars = Vec::new();
        let mut diff_ids = Vec::new();
        let mut history = Vec::new();
        for layer in &self.layers {
            let tar = layer.tar();
            let declared = self.diff_ids.get(&diff_ids.len()).cloned();
            diff_ids.push(declared.unwrap_or_else(|| Digest::sha256(&tar).to_string()));
            let (blob, media_type) = layer.blob();
            layers.push((Digest::sha256(&blob), blob, media_type.to_owned()));
            tars.push(tar);
            history
                .push(json!({"created": "2024-01-01T00:00:00Z", "created_by": layer.created_by}));
        }
        let cmd = self
            .config
            .get("Cmd")
            .map_or_else(|| "[\"sh\"]".to_owned(), ToString::to_string);
        history.push(json!({"created": "2024-01-01T00:00:00Z", "created_by": format!("/bin/sh -c #(nop)  CMD {cmd}"), "empty_layer": true}));
        let mut config = json!({
            "created": self.created.as_deref().unwrap_or("2024-01-01T00:00:00Z"),
            "architecture": self.architecture,
            "os": self.os,
            "config": self.config,
            "rootfs": {"type": "layers", "diff_ids": diff_ids},
            "history": history,
        });
        if let Some(v) = &self.variant {
            config["variant"] = json!(v);
        }
        let config = serde_json::to_vec(&config).unwrap();
        let config_digest = Digest::sha256(&config);
        let mut manifest = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest.to_string(), "size": config.len()},
            "layers": layers.iter().map(|(d, b, m)| json!({"mediaType": m, "digest": d.to_string(), "size": b.len()})).collect::<Vec<_>>(),
        });
        if !self.manifest_annotations.is_empty() {
            manifest["annotations"] = json!(self.manifest_annotations);
        }
        let manifest = serde_json::to_vec(&manifest).unwrap();
        BuiltImage {
            manifest_digest: Digest::sha256(&manifest),
            manifest,
            config,
            config_digest,
            layers,
            tars,
            platform: (
                self.os.clone(),
                self.architecture.clone(),
                self.variant.clone(),
            ),
        }
    }
}

fn write_blob(dir: &Path, digest: &Digest, bytes: &[u8]) {
    let path = dir.join("blobs").join(digest.algorithm().name());
    fs_err::create_dir_all(&path).unwrap();
    fs_err::write(path.join(digest.hex()), bytes).unwrap();
}

impl BuiltImage {
    /// Writes an OCI layout at `dir` whose `index.json` lists this image
    /// under `tag` (or untagged).
    pub fn write_oci_layout(&self, dir: &Path, tag: Option<&str>) {
        self.write_blobs(dir);
        let mut descriptor = json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": self.manifest_digest.to_string(),
            "size": self.manifest.len(),
        });
        if let Some(tag) = tag {
            descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
        }
        write_layout_index(dir, &[descriptor]);
    }

    /// Writes this image's blobs into a layout directory.
    pub fn write_blobs(&self, dir: &Path) {
        write_blob(dir, &self.manifest_digest, &self.manifest);
        write_blob(dir, &self.config_digest, &self.config);
        for (digest, blob, _) in &self.layers {
            write_blob(dir, digest, blob);
        }
    }

    /// Writes an `oci-archive` (a tar of an OCI layout).
    pub fn write_oci_archive(&self, file: &Path, tag: Option<&str>) {
        let dir = tempfile::tempdir().unwrap();
        self.write_oci_layout(dir.path(), tag);
        tar_directory(dir.path(), file);
    }

    /// Writes a `docker save` archive. `legacy` gives the classic form
    /// (`<id>/layer.tar`, `<id>.json`); otherwise Docker 25's OCI form.
    pub fn write_docker_archive(&self, file: &Path, repo_tags: &[&str], legacy: bool) {
        write_docker_archive_multi(file, &[(self, repo_tags)], legacy);
    }
}

/// Writes several images into one `docker save` archive.
pub fn write_docker_archive_multi(file: &Path, images: &[(&BuiltImage, &[&str])], legacy: bool) {
    let mut builder = tar::Builder::new(Vec::new());
    builder.mode(tar::HeaderMode::Deterministic);
    let mut manifest = Vec::new();
    let add = |builder: &mut tar::Builder<Vec<u8>>, name: &str, bytes: &[u8]| {
        let mut h = header(tar::EntryType::Regular, 0o644, bytes.len() as u64);
        builder.append_data(&mut h, name, bytes).unwrap();
    };
    for (image, tags) in images {
        let config_name = if legacy {
            format!("{}.json", image.config_digest.hex())
        } else {
            format!("blobs/sha256/{}", image.config_digest.hex())
        };
        add(&mut builder, &config_name, &image.config);
        let mut layer_names = Vec::new();
        for tar in &image.tars {
            let id = Digest::sha256(tar);
            let name = if legacy {
                format!("{}/layer.tar", id.hex())
            } else {
                format!("blobs/sha256/{}", id.hex())
            };
            add(&mut builder, &name, tar);
            layer_names.push(name);
        }
        manifest.push(json!({"Config": config_name, "RepoTags": tags, "Layers": layer_names}));
    }
    add(
        &mut builder,
        "manifest.json",
        &serde_json::to_vec(&manifest).unwrap(),
    );
    if !legacy {
        add(
            &mut builder,
            "oci-layout",
            br#"{"imageLayoutVersion":"1.0.0"}"#,
        );
    }
    fs_err::write(file, builder.into_inner().unwrap()).unwrap();
}

fn write_layout_index(dir: &Path, manifests: &[Value]) {
    fs_err::create_dir_all(dir).unwrap();
    fs_err::write(dir.join("oci-layout"), br#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    let index = json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests});
    fs_err::write(dir.join("index.json"), serde_json::to_vec(&index).unwrap()).unwrap();
}

/// Writes a multi-platform image: an index blob listing `images`, referenced
/// from `index.json` under `tag`. Returns the index digest.
pub fn write_index_layout(dir: &Path, images: &[&BuiltImage], tag: Option<&str>) -> Digest {
    let mut manifests = Vec::new();
    for image in images {
        image.write_blobs(dir);
        let (os, architecture, variant) = &image.platform;
        let mut platform = json!({"os": os, "architecture": architecture});
        if let Some(v) = variant {
            platform["variant"] = json!(v);
        }
        manifests.push(json!({
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": image.manifest_digest.to_string(),
            "size": image.manifest.len(),
            "platform": platform,
        }));
    }
    let index = serde_json::to_vec(&json!({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": manifests})).unwrap();
    let digest = Digest::sha256(&index);
    write_blob(dir, &digest, &index);
    let mut descriptor = json!({"mediaType": "application/vnd.oci.image.index.v1+json", "digest": digest.to_string(), "size": index.len()});
    if let Some(tag) = tag {
        descriptor["annotations"] = json!({"org.opencontainers.image.ref.name": tag});
    }
    write_layout_index(dir, &[descriptor]);
    digest
}

fn tar_directory(dir: &Path, file: &Path) {
    let mut builder = tar::Builder::new(fs_err::File::create(file).unwrap());
    builder.mode(tar::HeaderMode::Deterministic);
    builder.append_dir_all(".", dir).unwrap();
    builder.finish().unwrap();
}
