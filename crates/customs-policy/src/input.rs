//! The policy input document: everything known about one digest, as one
//! JSON document Rego reads as `input` (`docs/policy-input.md` describes
//! every field). Absent facts are `null` or empty, never missing, so that a
//! rule testing `input.base_image == null` means what it says.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::config::Environment;
use crate::licenses::PackageLicenses;

/// The schema version of the input document; bumped on any change that is
/// not an added field.
pub const SCHEMA_VERSION: u32 = 1;

/// The policy input document.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PolicyInput {
    /// [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// When it was evaluated (RFC 3339, UTC).
    pub evaluated_at: String,
    /// The same, as seconds since the epoch.
    pub now: i64,
    /// The environment.
    pub environment: EnvironmentInput,
    /// The image.
    pub image: ImageInput,
    /// The SBOM.
    pub sbom: SbomInput,
    /// Vulnerability findings that apply (VEX-suppressed ones are in
    /// `suppressed`).
    pub vulnerabilities: Vec<VulnerabilityInput>,
    /// Findings a VEX statement suppressed (`not_affected`, `fixed`).
    pub suppressed: Vec<VulnerabilityInput>,
    /// Secrets found (redacted).
    pub secrets: Vec<CheckInput>,
    /// Image-configuration lint findings.
    pub lint: Vec<CheckInput>,
    /// Deploy-manifest lint findings (`--manifest`).
    pub manifests: Vec<CheckInput>,
    /// Every package's licences and the licence policy's verdict.
    pub licenses: Vec<PackageLicenses>,
    /// Signatures.
    pub signatures: SignaturesInput,
    /// Every attestation found, verified or not.
    pub attestations: Vec<AttestationInput>,
    /// The provenance attestations among them.
    pub provenance: Vec<ProvenanceInput>,
    /// The base image, when it could be told.
    pub base_image: Option<BaseImageInput>,
    /// How many base images the local catalogue holds (approval by the
    /// catalogue counts when it holds any).
    pub base_catalogue: usize,
    /// The previous release (`--compare`).
    pub previous: Option<PreviousInput>,
    /// The block-list entry of this digest.
    pub blocked: Option<BlockInput>,
    /// The advisory database the findings came from.
    pub database: Option<DatabaseInput>,
}

/// The environment and its configuration.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EnvironmentInput {
    /// Its name (`prod`).
    pub name: String,
    /// The built-in environment whose default levels apply.
    pub profile: String,
    /// Its configuration from `customs.toml`.
    pub config: Environment,
}

/// The image.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ImageInput {
    /// The reference as given.
    pub reference: String,
    /// How it was resolved: `digest` (it named one), `tag`, or `local` (a
    /// layout or archive without either).
    pub resolved_by: String,
    /// The tag, when it named one.
    pub tag: Option<String>,
    /// The repository (`registry/name`), for registry images.
    pub repository: Option<String>,
    /// The manifest digest.
    pub digest: String,
    /// The index digest, for a multi-platform image.
    pub index_digest: Option<String>,
    /// `os/arch[/variant]`.
    pub platform: String,
    /// The config's `created`.
    pub created: Option<String>,
    /// Compressed size of the layers, in bytes.
    pub size: u64,
    /// Number of layers.
    pub layers: usize,
    /// The runtime configuration.
    pub config: ConfigInput,
    /// The manifest's annotations.
    pub annotations: BTreeMap<String, String>,
    /// The build history.
    pub history: Vec<HistoryInput>,
}

/// The runtime configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigInput {
    /// `User` (empty: root).
    pub user: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Whether a HEALTHCHECK is set (and not `NONE`).
    pub healthcheck: bool,
    /// Exposed ports (`8080/tcp`).
    pub exposed_ports: Vec<String>,
    /// Entrypoint.
    pub entrypoint: Vec<String>,
    /// Cmd.
    pub cmd: Vec<String>,
    /// The names of the environment variables (values are left out: they
    /// may be secrets, which `secrets` reports redacted).
    pub env_names: Vec<String>,
    /// Working directory.
    pub working_dir: String,
}

/// One history entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryInput {
    /// The instruction, redacted.
    pub created_by: String,
    /// Whether it made no layer.
    pub empty_layer: bool,
}

/// What the SBOM says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SbomInput {
    /// Whether there is one.
    pub present: bool,
    /// `generated` (by this gate) or `attestation` (attached, verified).
    pub source: String,
    /// Package databases that could not be read (each makes it incomplete).
    pub incomplete: Vec<String>,
    /// The distribution (`debian 12`).
    pub distro: Option<String>,
    /// Packages by type.
    pub counts: BTreeMap<String, usize>,
    /// Every package.
    pub packages: Vec<PackageInput>,
}

/// A package.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageInput {
    /// Name.
    pub name: String,
    /// Version.
    pub version: String,
    /// Type (`deb`, `npm`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Package URL.
    pub purl: String,
}

/// A VEX statement that decided a finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VexInput {
    /// `not_affected`, `affected`, `fixed`, `under_investigation`.
    pub status: String,
    /// OpenVEX justification.
    pub justification: Option<String>,
    /// Impact or action statement.
    pub statement: Option<String>,
    /// The document.
    pub document: String,
}

/// A vulnerability finding.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct VulnerabilityInput {
    /// The advisory id.
    pub id: String,
    /// Its aliases (CVE, GHSA, …).
    pub aliases: Vec<String>,
    /// `critical` … `unknown`.
    pub severity: String,
    /// CVSS base score, when known.
    pub cvss_score: Option<f64>,
    /// Whether a fixed version exists.
    pub fix_available: bool,
    /// The fixed versions.
    pub fixed_versions: Vec<String>,
    /// The package.
    pub package: PackageInput,
    /// Whether the vulnerability is on the CISA KEV catalogue given.
    pub kev: bool,
    /// The VEX statement that decided it, if any.
    pub vex: Option<VexInput>,
}

/// A secret or lint finding.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckInput {
    /// Rule code.
    pub rule: String,
    /// Severity.
    pub severity: String,
    /// One line.
    pub title: String,
    /// Where (`/app/.env:3 [layer 7]`).
    pub location: String,
    /// Fingerprint of a secret.
    pub fingerprint: Option<String>,
}

/// Signatures and what they were checked against.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignaturesInput {
    /// Whether signatures could be looked for (a registry image).
    pub checked: bool,
    /// What the environment trusts (`key cosign.pub`, `identity … from …`).
    pub trusted: Vec<String>,
    /// How many signatures were found.
    pub found: usize,
    /// Those that verified.
    pub verified: Vec<SignerInput>,
    /// Why none verified, for people.
    pub outcome: String,
}

/// A verified signer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignerInput {
    /// Who: the key's name, or the certificate identity.
    pub signer: String,
    /// Where the signature was.
    pub source: String,
}

/// An attestation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttestationInput {
    /// Predicate type.
    pub predicate_type: String,
    /// Where it was.
    pub source: String,
    /// Whether its signature verified against what the environment trusts.
    pub verified: bool,
    /// Who signed it, when verified.
    pub signer: Option<String>,
}

/// A provenance attestation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProvenanceInput {
    /// Predicate type (SLSA v0.2 or v1).
    pub predicate_type: String,
    /// Where it was.
    pub source: String,
    /// Whether its signature verified.
    pub verified: bool,
    /// The builder id.
    pub builder: Option<String>,
    /// Whether the builder is on the environment's list (true when the
    /// list is empty).
    pub builder_allowed: bool,
    /// The build type.
    pub build_type: Option<String>,
    /// The source repository and revision, when said.
    pub source_repository: Option<String>,
    /// The source revision.
    pub source_revision: Option<String>,
}

/// The base image.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseImageInput {
    /// Its name (`docker.io/library/debian:bookworm`).
    pub name: Option<String>,
    /// Its manifest digest.
    pub digest: Option<String>,
    /// How it was found: `annotation`, `provenance`, `catalogue`.
    pub detected_by: String,
    /// When it was built (RFC 3339).
    pub created: Option<String>,
    /// Its age in days at evaluation time.
    pub age_days: Option<i64>,
    /// Who owns it (catalogue).
    pub owner: Option<String>,
    /// Whether it is on the environment's approved list (or approved in
    /// the catalogue).
    pub approved: bool,
}

/// The previous release.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PreviousInput {
    /// The reference given.
    pub reference: String,
    /// Its digest.
    pub digest: String,
    /// Its compressed size.
    pub size: u64,
    /// Its layer count.
    pub layers: usize,
}

/// A block-list entry.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockInput {
    /// Why.
    pub reason: String,
    /// Until when (`YYYY-MM-DD`), if not for ever.
    pub until: Option<String>,
}

/// The advisory database.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DatabaseInput {
    /// When it was built (RFC 3339).
    pub built_at: String,
    /// The newest advisory in it (RFC 3339).
    pub newest_advisory: Option<String>,
    /// The digest of the database file.
    pub digest: String,
}
