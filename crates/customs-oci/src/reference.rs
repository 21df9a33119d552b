//! Image references: where an image comes from and which one it is.
//!
//! The transports follow skopeo's and syft's conventions (`oci:DIR[:TAG]`,
//! `oci-archive:FILE[:TAG]`, `docker-archive:FILE[:NAME:TAG|@N]`, `dir:ROOTFS`,
//! `registry:NAME…`), and a bare name is a registry reference normalised the
//! way Docker does it (`alpine` is `docker.io/library/alpine:latest`). The
//! registry grammar is the one of
//! [distribution/reference](https://github.com/distribution/reference/blob/main/reference.go).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use customs_types::Digest;

/// Docker Hub's canonical registry name.
pub const DOCKER_HUB: &str = "docker.io";
/// The host that actually serves Docker Hub's registry API.
pub(crate) const DOCKER_HUB_API: &str = "registry-1.docker.io";
const MAX_NAME_LEN: usize = 255;

/// Why a reference could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid image reference `{input}`: {reason}")]
pub struct ReferenceError {
    input: String,
    reason: String,
}

impl ReferenceError {
    fn new(input: &str, reason: impl Into<String>) -> Self {
        let mut input = input.to_owned();
        if input.len() > 300 {
            let mut end = 300;
            while !input.is_char_boundary(end) {
                end -= 1;
            }
            input.truncate(end);
            input.push('…');
        }
        Self {
            input,
            reason: reason.into(),
        }
    }
}

/// Where an image is read from.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImageRef {
    /// An OCI image layout directory, optionally selecting a tag by its
    /// `org.opencontainers.image.ref.name` annotation.
    OciLayout { path: PathBuf, tag: Option<String> },
    /// A tar archive of an OCI image layout.
    OciArchive { path: PathBuf, tag: Option<String> },
    /// A `docker save` archive; the selector picks one of several images.
    DockerArchive {
        path: PathBuf,
        selector: Option<ArchiveSelector>,
    },
    /// An unpacked root filesystem (a build output): no manifest, one layer.
    Dir { path: PathBuf },
    /// An image in an OCI distribution registry.
    Registry(RegistryRef),
}

/// Which image of a multi-image docker-archive to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArchiveSelector {
    /// A `RepoTags` entry, normalised (`lab/app:latest`).
    Tag(String),
    /// The position in `manifest.json`, as skopeo's `@N`.
    Index(usize),
}

/// The prefixes that name a transport explicitly (what [`ImageRef::parse`]
/// reads before the path or name).
pub(crate) const TRANSPORT_PREFIXES: &[&str] = &[
    "oci:",
    "oci-archive:",
    "docker-archive:",
    "dir:",
    "registry:",
    "docker://",
];

impl ImageRef {
    /// Parses a reference in any of the supported transports.
    ///
    /// # Errors
    /// Returns [`ReferenceError`] naming the input and what is wrong with it.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        if input.is_empty() {
            return Err(ReferenceError::new(input, "it is empty"));
        }
        if let Some(rest) = input.strip_prefix("oci:") {
            let (path, tag) = split_path(input, rest)?;
            return Ok(Self::OciLayout { path, tag });
        }
        if let Some(rest) = input.strip_prefix("oci-archive:") {
            let (path, tag) = split_path(input, rest)?;
            return Ok(Self::OciArchive { path, tag });
        }
        if let Some(rest) = input.strip_prefix("docker-archive:") {
            let (path, selector) = split_path(input, rest)?;
            let selector = match selector {
                None => None,
                Some(s) if s.starts_with('@') => {
                    let n = s[1..].parse::<usize>().map_err(|_| {
                        ReferenceError::new(input, "`@N` must be a non-negative number")
                    })?;
                    Some(ArchiveSelector::Index(n))
                }
                Some(s) => {
                    let named = RegistryRef::parse(&s).map_err(|e| {
                        ReferenceError::new(input, format!("archive image name: {}", e.reason))
                    })?;
                    if named.digest().is_some() {
                        return Err(ReferenceError::new(
                            input,
                            "a docker-archive image is chosen by NAME:TAG or @N, not by digest",
                        ));
                    }
                    Some(ArchiveSelector::Tag(named.familiar()))
                }
            };
            return Ok(Self::DockerArchive { path, selector });
        }
        if let Some(rest) = input.strip_prefix("dir:") {
            if rest.is_empty() {
                return Err(ReferenceError::new(input, "`dir:` needs a directory"));
            }
            return Ok(Self::Dir {
                path: PathBuf::from(rest),
            });
        }
        let bare = input
            .strip_prefix("registry:")
            .or_else(|| input.strip_prefix("docker://"))
            .unwrap_or(input);
        RegistryRef::parse(bare)
            .map(Self::Registry)
            .map_err(|e| ReferenceError::new(input, e.reason))
    }

    /// The transport's name, as written before the colon.
    #[must_use]
    pub fn transport(&self) -> &'static str {
        match self {
            Self::OciLayout { .. } => "oci",
            Self::OciArchive { .. } => "oci-archive",
            Self::DockerArchive { .. } => "docker-archive",
            Self::Dir { .. } => "dir",
            Self::Registry(_) => "registry",
        }
    }
}

fn split_path(input: &str, rest: &str) -> Result<(PathBuf, Option<String>), ReferenceError> {
    let (path, tag) = match rest.split_once(':') {
        Some((path, tag)) => (path, Some(tag.to_owned())),
        None => (rest, None),
    };
    if path.is_empty() {
        return Err(ReferenceError::new(input, "the path is empty"));
    }
    if tag.as_deref() == Some("") {
        return Err(ReferenceError::new(input, "the part after `:` is empty"));
    }
    Ok((PathBuf::from(path), tag))
}

impl fmt::Display for ImageRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OciLayout { path, tag } | Self::OciArchive { path, tag } => {
                write!(f, "{}:{}", self.transport(), path.display())?;
                if let Some(tag) = tag {
                    write!(f, ":{tag}")?;
                }
                Ok(())
            }
            Self::DockerArchive { path, selector } => {
                write!(f, "docker-archive:{}", path.display())?;
                match selector {
                    Some(ArchiveSelector::Tag(t)) => write!(f, ":{t}"),
                    Some(ArchiveSelector::Index(n)) => write!(f, ":@{n}"),
                    None => Ok(()),
                }
            }
            Self::Dir { path } => write!(f, "dir:{}", path.display()),
            Self::Registry(r) => write!(f, "{r}"),
        }
    }
}

impl FromStr for ImageRef {
    type Err = ReferenceError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// A fully normalised registry reference: `registry/repository[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RegistryRef {
    registry: String,
    repository: String,
    tag: Option<String>,
    digest: Option<Digest>,
}

impl RegistryRef {
    /// Parses `NAME[:TAG][@DIGEST]` with Docker Hub normalisation. Without a
    /// tag or digest the tag is `latest`.
    ///
    /// # Errors
    /// Returns [`ReferenceError`] when the name, tag or digest is malformed.
    pub fn parse(input: &str) -> Result<Self, ReferenceError> {
        let err = |reason: &str| ReferenceError::new(input, reason);
        let (name_tag, digest) = match input.split_once('@') {
            Some((n, d)) => (
                n,
                Some(Digest::parse(d).map_err(|e| ReferenceError::new(input, e.to_string()))?),
            ),
            None => (input, None),
        };
        let last_slash = name_tag.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match name_tag[last_slash..].rfind(':') {
            Some(i) => {
                let split = last_slash + i;
                (&name_tag[..split], Some(&name_tag[split + 1..]))
            }
            None => (name_tag, None),
        };
        if let Some(tag) = tag
            && !valid_tag(tag)
        {
            return Err(err("the tag must match [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"));
        }
        if name.is_empty() {
            return Err(err("the repository name is empty"));
        }
        if name.split('/').any(|c| c == "." || c == "..") {
            return Err(err(
                "`.` and `..` are never part of a registry reference; for a local path name its format: oci:DIR, oci-archive:FILE, docker-archive:FILE or dir:DIR",
            ));
        }
        // Bound the input before the checks below walk it.
        if name.len() > 2 * MAX_NAME_LEN {
            return Err(err("the repository name is longer than 255 characters"));
        }
        let (registry, path) = match name.split_once('/') {
            Some((first, rest))
                if first.contains(['.', ':'])
                    || first == "localhost"
                    || first.chars().any(|c| c.is_ascii_uppercase()) =>
            {
                (first.to_owned(), rest.to_owned())
            }
            _ => (DOCKER_HUB.to_owned(), name.to_owned()),
        };
        if !valid_domain(&registry) {
            return Err(err("the registry host is not a valid host[:port]"));
        }
        let registry = if registry == "index.docker.io" {
            DOCKER_HUB.to_owned()
        } else {
            registry
        };
        if !path.split('/').all(valid_path_component) {
            return Err(err(
                "repository path components must be lowercase letters, digits and separators (`.`, `_`, `__`, `-`)",
            ));
        }
        let repository = if registry == DOCKER_HUB && !path.contains('/') {
            format!("library/{path}")
        } else {
            path
        };
        // On the normalised path, so that a printed reference parses again.
        if repository.len() > MAX_NAME_LEN {
            return Err(err("the repository name is longer than 255 characters"));
        }
        let tag = match (tag, &digest) {
            (Some(t), _) => Some(t.to_owned()),
            (None, Some(_)) => None,
            (None, None) => Some("latest".to_owned()),
        };
        Ok(Self {
            registry,
            repository,
            tag,
            digest,
        })
    }

    /// The registry as users write it (`docker.io`, `127.0.0.1:5000`).
    #[must_use]
    pub fn registry(&self) -> &str {
        &self.registry
    }

    /// The host that serves the registry API (`registry-1.docker.io` for Docker Hub).
    #[must_use]
    pub fn api_host(&self) -> &str {
        if self.registry == DOCKER_HUB {
            DOCKER_HUB_API
        } else {
            &self.registry
        }
    }

    /// The repository path (`library/alpine`).
    #[must_use]
    pub fn repository(&self) -> &str {
        &self.repository
    }

    /// `registry/repository`, as signatures and statements name an image.
    #[must_use]
    pub fn name(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }

    /// The tag, if one was given or implied.
    #[must_use]
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest, if one was given: it always wins over the tag.
    #[must_use]
    pub fn digest(&self) -> Option<&Digest> {
        self.digest.as_ref()
    }

    /// What to ask the registry for: the digest when known, else the tag.
    #[must_use]
    pub fn reference(&self) -> String {
        match (&self.digest, &self.tag) {
            (Some(d), _) => d.to_string(),
            (None, Some(t)) => t.clone(),
            (None, None) => "latest".to_owned(),
        }
    }

    /// The same image pinned to `digest` (keeps the tag for readability).
    #[must_use]
    pub fn with_digest(&self, digest: Digest) -> Self {
        Self {
            digest: Some(digest),
            ..self.clone()
        }
    }

    /// `repository:tag` without the Docker Hub prefixes, as `docker images` shows.
    #[must_use]
    pub fn familiar(&self) -> String {
        let repo = if self.registry == DOCKER_HUB {
            self.repository
                .strip_prefix("library/")
                .unwrap_or(&self.repository)
                .to_owned()
        } else {
            format!("{}/{}", self.registry, self.repository)
        };
        match &self.tag {
            Some(t) => format!("{repo}:{t}"),
            None => repo,
        }
    }
}

impl fmt::Display for RegistryRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

fn valid_tag(tag: &str) -> bool {
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && (bytes[0].is_ascii_alphanumeric() || bytes[0] == b'_')
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

fn valid_path_component(component: &str) -> bool {
    // [a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*
    let bytes = component.as_bytes();
    if bytes.is_empty() || !is_alnum_lower(bytes[0]) || !is_alnum_lower(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if is_alnum_lower(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !is_alnum_lower(bytes[i]) {
            i += 1;
        }
        let sep = &component[start..i];
        let ok = sep == "."
            || sep == "_"
            || sep == "__"
            || (!sep.is_empty() && sep.bytes().all(|b| b == b'-'));
        if !ok {
            return false;
        }
    }
    true
}

fn is_alnum_lower(b: u8) -> bool {
    b.is_ascii_lowercase() || b.is_ascii_digit()
}

fn valid_domain(domain: &str) -> bool {
    let (host, port) = if let Some(rest) = domain.strip_prefix('[') {
        // [ipv6]:port
        match rest.split_once(']') {
            Some((h, p)) => (h, p.strip_prefix(':')),
            None => return false,
        }
    } else {
        match domain.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (domain, None),
        }
    };
    if let Some(port) = port
        && (port.is_empty() || port.len() > 5 || !port.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    !host.is_empty()
        && host.len() <= 253
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reg(s: &str) -> RegistryRef {
        RegistryRef::parse(s).unwrap()
    }

    #[test]
    fn docker_hub_normalisation() {
        assert_eq!(reg("alpine").to_string(), "docker.io/library/alpine:latest");
        assert_eq!(
            reg("alpine:3.19").to_string(),
            "docker.io/library/alpine:3.19"
        );
        assert_eq!(
            reg("bitnami/redis").to_string(),
            "docker.io/bitnami/redis:latest"
        );
        assert_eq!(
            reg("index.docker.io/library/alpine").registry(),
            "docker.io"
        );
        assert_eq!(reg("alpine").api_host(), "registry-1.docker.io");
        assert_eq!(reg("docker.io/library/alpine:3").familiar(), "alpine:3");
    }

    #[test]
    fn registries_ports_and_digests() {
        let d = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let r = reg(&format!("127.0.0.1:5000/lab/app:v1@{d}"));
        assert_eq!(r.registry(), "127.0.0.1:5000");
        assert_eq!(r.repository(), "lab/app");
        assert_eq!(r.tag(), Some("v1"));
        assert_eq!(r.reference(), d, "a digest wins over the tag");
        let r = reg(&format!("localhost/app@{d}"));
        assert_eq!((r.registry(), r.tag()), ("localhost", None));
        assert_eq!(reg("localhost:5000/a/b/c").repository(), "a/b/c");
        assert_eq!(reg("ghcr.io/o-r/x__y.z").repository(), "o-r/x__y.z");
    }

    #[test]
    fn rejects_bad_names() {
        for bad in [
            "Alpine",
            "alpine:",
            "alpine:-x",
            "alpine@sha256:123",
            "a//b",
            "a/-b",
            "a/b_",
            "a/b...c",
            "host:port/x",
            ":tag",
            "",
        ] {
            assert!(RegistryRef::parse(bad).is_err(), "{bad:?} must be rejected");
        }
        assert!(RegistryRef::parse(&"a".repeat(300)).is_err());
    }

    #[test]
    fn transports() {
        assert_eq!(
            ImageRef::parse("oci:/tmp/lay:v1").unwrap(),
            ImageRef::OciLayout {
                path: "/tmp/lay".into(),
                tag: Some("v1".into())
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:a.tar:lab/app").unwrap(),
            ImageRef::DockerArchive {
                path: "a.tar".into(),
                selector: Some(ArchiveSelector::Tag("lab/app:latest".into()))
            }
        );
        assert_eq!(
            ImageRef::parse("docker-archive:a.tar:@1").unwrap(),
            ImageRef::DockerArchive {
                path: "a.tar".into(),
                selector: Some(ArchiveSelector::Index(1))
            }
        );
        assert!(matches!(
            ImageRef::parse("registry:alpine").unwrap(),
            ImageRef::Registry(_)
        ));
        assert!(matches!(
            ImageRef::parse("dir:/x").unwrap(),
            ImageRef::Dir { .. }
        ));
        assert!(ImageRef::parse("oci:").is_err());
        assert!(ImageRef::parse("oci:x:").is_err());
        assert!(ImageRef::parse("dir:").is_err());
        let e = ImageRef::parse("docker-archive:a.tar:@x").unwrap_err();
        assert!(e.to_string().contains("docker-archive:a.tar:@x"), "{e}");
    }

    /// Found by `cargo fuzz run reference`: a name under 255 characters that
    /// grew past it with `library/` did not parse back from its own printed form.
    #[test]
    fn fuzz_regression_normalised_length_round_trips() {
        let name = format!("{}:latest", "gh-r.c-".repeat(35));
        if let Ok(parsed) = ImageRef::parse(&name) {
            assert_eq!(ImageRef::parse(&parsed.to_string()).unwrap(), parsed);
        }
        let at_limit = "a".repeat(255 - "library/".len());
        let parsed = RegistryRef::parse(&at_limit).unwrap();
        assert_eq!(RegistryRef::parse(&parsed.to_string()).unwrap(), parsed);
        assert!(RegistryRef::parse(&format!("{at_limit}a")).is_err());
    }

    /// Found by `cargo fuzz run reference`: a digest in a docker-archive
    /// selector was dropped, so the printed reference chose another image.
    #[test]
    fn fuzz_regression_archive_selector_with_digest() {
        let input = "docker-archive:/:p821@sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        let err = ImageRef::parse(input).unwrap_err();
        assert!(err.to_string().contains("not by digest"), "{err}");
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let _ = ImageRef::parse(&s);
        }

        #[test]
        fn display_round_trips(name in "[a-z0-9]{1,8}(/[a-z0-9]{1,8}){0,2}", tag in "[a-z0-9][a-z0-9._-]{0,10}") {
            let r = RegistryRef::parse(&format!("{name}:{tag}")).unwrap();
            proptest::prop_assert_eq!(RegistryRef::parse(&r.to_string()).unwrap(), r);
        }
    }
}
