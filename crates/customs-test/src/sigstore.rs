//! The Sigstore conformance suite's bundle cases in `../shared/interop`,
//! with the inputs the suite gives a client for each: the artifact, the
//! trusted root, and the key or the identity and issuer.

use std::path::{Path, PathBuf};

/// The certificate identity the suite's keyless cases were signed as.
pub const IDENTITY: &str = "https://github.com/sigstore-conformance/extremely-dangerous-public-oidc-beacon/.github/workflows/extremely-dangerous-oidc-beacon.yml@refs/heads/main";
/// Its OIDC issuer.
pub const ISSUER: &str = "https://token.actions.githubusercontent.com";

/// `../shared/interop/<path>`.
#[must_use]
pub fn interop(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/interop")
        .join(path)
}

/// One case.
#[derive(Debug, Clone)]
pub struct Case {
    /// Its folder's name (`…_fail` must fail).
    pub name: String,
    /// The bundle.
    pub bundle: PathBuf,
    /// The artifact: the case's own, else the suite's `a.txt`.
    pub artifact: PathBuf,
    /// The trusted root: the case's own, else the public-good production
    /// root (offline copy).
    pub trusted_root: PathBuf,
    /// The managed key, for the key-signed cases.
    pub key: Option<PathBuf>,
}

impl Case {
    /// Whether the suite says it must verify.
    #[must_use]
    pub fn must_verify(&self) -> bool {
        !self.name.ends_with("_fail")
    }
}

/// Every case, sorted by name.
#[must_use]
pub fn cases() -> Vec<Case> {
    let dir = interop("sigstore-conformance/test/assets/bundle-verify");
    let mut out: Vec<Case> = fs_err::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .map(|case| {
            let own = |name: &str| Some(case.join(name)).filter(|p| p.exists());
            Case {
                name: case.file_name().unwrap().to_string_lossy().into_owned(),
                bundle: case.join("bundle.sigstore.json"),
                artifact: own("artifact").unwrap_or_else(|| dir.join("a.txt")),
                trusted_root: own("trusted_root.json").unwrap_or_else(|| {
                    interop("sigstore-rust/crates/sigstore-trust-root/src/trusted_root.json")
                }),
                key: own("key.pub"),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// `sha256:<hex>` of a file.
#[must_use]
pub fn sha256_of(path: &Path) -> String {
    customs_types::Digest::sha256(&fs_err::read(path).unwrap()).to_string()
}
