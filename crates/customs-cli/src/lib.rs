//! The command-line interface of customs, as clap derive types only.
//!
//! Shared arguments are flattened groups ([`SourceArgs`], [`OutputArgs`]) so
//! that every command that reads an image accepts the same flags, named as
//! trivy, grype and skopeo users expect.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Environment variables customs reads, in one place.
pub struct EnvVars;

impl EnvVars {
    /// Where verified registry blobs are cached.
    pub const CUSTOMS_CACHE_DIR: &'static str = "CUSTOMS_CACHE_DIR";
    /// Set to disable progress bars (as `--quiet` does).
    pub const CUSTOMS_QUIET: &'static str = "CUSTOMS_QUIET";
    /// The folder of the vulnerability database.
    pub const CUSTOMS_DB_DIR: &'static str = "CUSTOMS_DB_DIR";
    /// Where `db update` downloads OSV exports from.
    pub const CUSTOMS_OSV_URL: &'static str = "CUSTOMS_OSV_URL";
    /// The customs.toml with allow-lists.
    pub const CUSTOMS_CONFIG: &'static str = "CUSTOMS_CONFIG";
    /// The password of an encrypted private key.
    pub const CUSTOMS_PASSWORD: &'static str = "CUSTOMS_PASSWORD";
    /// The same, under the name cosign users already set.
    pub const COSIGN_PASSWORD: &'static str = "COSIGN_PASSWORD";
    /// The evidence store (`sqlite://PATH` or `postgres://…`).
    pub const CUSTOMS_DATABASE_URL: &'static str = "CUSTOMS_DATABASE_URL";
    /// Set to record nothing in the evidence store (as `--no-record`).
    pub const CUSTOMS_NO_RECORD: &'static str = "CUSTOMS_NO_RECORD";
    /// Who records are by (default: the CI's identity, else `$USER`).
    pub const CUSTOMS_ACTOR: &'static str = "CUSTOMS_ACTOR";
}

/// customs — container image supply-chain evidence: which image, what is in
/// it, what is wrong with it, and whether it may ship.
#[derive(Debug, Parser)]
#[command(name = "customs", version, long_about = None, propagate_version = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
    /// Global flags.
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Flags every command accepts.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// No progress bars, informational lines or `--fail-on` explanations on
    /// stderr. Warnings (stale data, unreadable files, incomplete results)
    /// are always printed.
    #[arg(long, short, global = true, env = EnvVars::CUSTOMS_QUIET)]
    pub quiet: bool,
    /// Give up on the whole command after this many seconds (0: never):
    /// the bound on every download, retry and wait together. Work already
    /// running on the CPU finishes its current step first.
    #[arg(long, global = true, value_name = "SECONDS", default_value_t = 3600)]
    pub deadline: u64,
    /// The evidence store: `sqlite://PATH` (default: customs.db in
    /// $XDG_DATA_HOME/customs) or `postgres://USER@HOST/DB`.
    #[arg(
        long,
        global = true,
        env = EnvVars::CUSTOMS_DATABASE_URL,
        value_name = "URL",
        hide_env_values = true
    )]
    pub database: Option<String>,
    /// Record nothing in the evidence store.
    #[arg(long, global = true, env = EnvVars::CUSTOMS_NO_RECORD)]
    pub no_record: bool,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Print the manifest digest of an image (what `skopeo inspect` reports).
    Digest(DigestArgs),
    /// Show an image's digest, platforms, config, history and layers.
    Inspect(InspectArgs),
    /// List the files of an image: the squashed filesystem, or every layer's
    /// entries with what became of them.
    Files(FilesArgs),
    /// Make the software bill of materials of an image (SPDX 2.3,
    /// CycloneDX 1.6, native JSON or a table).
    Sbom(SbomArgs),
    /// Find known vulnerabilities in an image, a root filesystem or an SBOM
    /// (table by severity, JSON, SARIF, CycloneDX).
    Scan(ScanArgs),
    /// One screen about an image: digest, OS, base image, packages and
    /// vulnerability counts.
    Quickview(QuickviewArgs),
    /// Manage the local vulnerability database (OSV).
    #[command(subcommand)]
    Db(DbCommand),
    /// Find secrets in every layer of an image (deleted files included), its
    /// environment, labels and build history.
    Secrets(SecretsArgs),
    /// Lint an image's configuration, a Dockerfile, or compose / Kubernetes
    /// manifests.
    Lint(LintArgs),
    /// Pin the image references of Dockerfiles, compose files and Kubernetes
    /// manifests to digests (name:tag@sha256:…).
    Pin(PinArgs),
    /// Make and manage signing keys (cosign's formats).
    #[command(subcommand)]
    Key(KeyCommand),
    /// Sign an image by digest as cosign does: the signature is stored next
    /// to the image, at the `sha256-<hex>.sig` tag and/or as a Sigstore
    /// bundle referrer (`--bundle-format`).
    Sign(SignArgs),
    /// Verify an image's signatures (cosign's `.sig` tag and v3 bundle
    /// referrers) with a public key or a certificate identity; exit 3 when
    /// none verifies, naming the check that failed.
    Verify(VerifyArgs),
    /// Attach a signed in-toto attestation (an SBOM, provenance, a scan,
    /// VEX, …) to an image, as `cosign attest` does.
    Attest(AttestArgs),
    /// Verify an image's attestations with a public key or a certificate
    /// identity and print their statements; exit 3 when none verifies.
    VerifyAttestation(VerifyAttestationArgs),
    /// List everything attached to an image: cosign signatures and
    /// attestations (tags and v3 bundle referrers), and the SBOM and
    /// provenance BuildKit puts in the index.
    Attestations(AttestationsArgs),
    /// Sign a file with a key: a Sigstore bundle (v0.3, as `cosign
    /// sign-blob --bundle`), or the base64 signature.
    SignBlob(SignBlobArgs),
    /// Write a SLSA Provenance v1 predicate from the CI job's environment
    /// (GitHub Actions, GitLab CI, or CUSTOMS_* variables), for `customs
    /// attest --type slsaprovenance1`.
    Provenance(ProvenanceArgs),
    /// Verify a file (or `sha256:<hex>` of one) against a Sigstore bundle
    /// (v0.1–v0.3), with a key or a certificate identity and a trusted
    /// root; exit 3 naming the check that failed.
    VerifyBlob(VerifyBlobArgs),
    /// May this digest ship to this environment? Gathers the evidence in
    /// one walk, evaluates the Rego policy (built-in bundle plus yours) with
    /// exceptions and VEX, and prints pass, warn or deny with every reason;
    /// exit 1 on deny.
    Gate(GateArgs),
    /// List or check the exceptions files (active, expiring, expired).
    #[command(subcommand)]
    Exceptions(ExceptionsCommand),
    /// VEX: write exceptions as an OpenVEX document.
    #[command(subcommand)]
    Vex(VexCommand),
    /// Every package's licences, grouped by licence, with the policy's
    /// verdict per package.
    Licenses(LicensesArgs),
    /// The local catalogue of base images (layer chains, owners, approval).
    #[command(subcommand)]
    Base(BaseCommand),
    /// Recommend a newer base image: newer tags of the base repository,
    /// scanned, with vulnerabilities fixed and introduced, size and age.
    Recommend(RecommendArgs),
    /// The rules of the policy bundle (built-in and yours) and their levels
    /// per environment.
    Policy(PolicyArgs),
    /// Everything the evidence store knows about a digest: tags, scans,
    /// decisions, signatures, promotions, releases, deployments, blocks.
    History(HistoryArgs),
    /// Copy an image (every platform, blob and referrer) to another
    /// repository or registry after gating it for the target environment;
    /// the digest stays the same.
    Promote(PromoteArgs),
    /// Make, store and print the release evidence bundle of a service
    /// release; `release show` reads one back.
    #[command(subcommand)]
    Release(ReleaseCommand),
    /// Record and verify deployments.
    #[command(subcommand)]
    Deploy(DeployCommand),
    /// Every environment, service and cluster where a digest runs or ran.
    Where(WhereArgs),
    /// Every stored image (or running service) that contains a package.
    WhoHas(WhoHasArgs),
    /// Which stored and deployed digests advisories affect, by re-matching
    /// stored SBOMs against the current advisory database (nothing is pulled).
    Affected(AffectedArgs),
    /// Re-match the stored SBOMs of deployed digests and record what is new.
    Rescan(RescanArgs),
    /// Block a digest: the gate denies it in every environment and promote
    /// refuses it.
    Block(BlockArgs),
    /// Lift the block of a digest.
    Unblock(UnblockArgs),
    /// What changed between two images: packages, size, layers, config,
    /// vulnerabilities fixed and new.
    Diff(DiffArgs),
    /// The evidence store itself: where it is, what it holds, whether it
    /// is consistent.
    #[command(subcommand)]
    Store(StoreCommand),
    /// Serve the JSON API, registry webhooks, the admission webhook and
    /// the work queue over the evidence store.
    Serve(ServeArgs),
    /// Work the queue only (scans of pushed images, rescans): run several
    /// on one PostgreSQL store to share the work.
    Worker(WorkerArgs),
    /// API tokens for `customs serve`: create (the token is printed once,
    /// only its hash is kept), list, revoke.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Registry governance: audit access, tags and signatures; prune old
    /// feature-branch and build-cache images.
    #[command(subcommand)]
    Registry(RegistryCommand),
}

/// `customs registry …`.
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// Can anonymous users pull or push (tried with a throwaway blob,
    /// removed after)? Were release tags moved? Are release tags signed and
    /// attested? Do repositories mix environments? Is there a referrers
    /// API? Exit 1 when a check fails.
    Audit(RegistryAuditArgs),
    /// Delete the tags a lifecycle rule lets go (dry run unless --delete),
    /// never a digest that is released, deployed, or named by a tag that
    /// stays; signatures, attestations and referrers go with their image.
    Prune(RegistryPruneArgs),
}

/// `customs registry audit`.
#[derive(Debug, Args)]
pub struct RegistryAuditArgs {
    /// `REGISTRY` (its repositories known to the store) or
    /// `REGISTRY/REPOSITORY`. Repeatable.
    #[arg(required = true, value_name = "REGISTRY[/REPO]")]
    pub targets: Vec<String>,
    /// Release tags (a regular expression; default: SemVer-like).
    #[arg(long, value_name = "REGEX")]
    pub release_pattern: Option<String>,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs registry prune`.
#[derive(Debug, Args)]
pub struct RegistryPruneArgs {
    /// `REGISTRY/REPOSITORY`.
    #[arg(value_name = "REPO")]
    pub repository: String,
    /// Tags the rule is about (globs such as `feature-*`). Repeatable;
    /// every tag when not given.
    #[arg(long = "match", value_name = "GLOB")]
    pub matching: Vec<String>,
    /// Keep this many of the newest matching tags whatever their age.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub keep_last: usize,
    /// Only tags made longer ago than this may go (`30d`, `12h`).
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,
    /// Delete (without it, only say what would go).
    #[arg(long)]
    pub delete: bool,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it (alone, on stdout; it is shown once).
    Create(TokenCreateArgs),
    /// List the tokens: names, scopes, environments, never the tokens.
    List(TokenListArgs),
    /// Revoke a token by its id.
    Revoke(TokenRevokeArgs),
}

/// `customs token create`.
#[derive(Debug, Args)]
pub struct TokenCreateArgs {
    /// `read` (everything), `write` (also scans, deployments, webhooks),
    /// `admin` (also blocks and the token list).
    #[arg(long, value_name = "SCOPE")]
    pub scope: String,
    /// The one environment the token may change (deployments, gates);
    /// every one when not given.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// A name for logs and listings (`ci`, `k8s-admission`).
    #[arg(long, default_value = "token")]
    pub name: String,
}

/// `customs token list`.
#[derive(Debug, Args)]
pub struct TokenListArgs {
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// `customs token revoke`.
#[derive(Debug, Args)]
pub struct TokenRevokeArgs {
    /// The token's id (`customs token list`).
    pub id: i64,
}

/// What scans and gates of the server's jobs read: the same flags as
/// `customs gate`.
#[derive(Debug, Args, Clone)]
pub struct EngineArgs {
    /// Environments a pushed image is gated for. Repeatable.
    #[arg(long = "push-env", value_name = "NAME", default_value = "dev")]
    pub push_environments: Vec<String>,
    /// Workers in this process.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub workers: usize,
    /// Seconds a worker holds a job before another may take it over (the
    /// lease is renewed while the job runs).
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub lease: u64,
    /// Queue an advisory update and a rescan of the deployed digests this
    /// often (`6h`, `30m`, `1d`).
    #[arg(long, value_name = "DURATION")]
    pub rescan_every: Option<String>,
    /// Before each rescan, import the OSV files dropped in this folder
    /// (each is moved to `imported/` once imported).
    #[arg(long, value_name = "DIR")]
    pub advisories_drop: Option<PathBuf>,
    /// Before each rescan, download osv.dev's exports (`customs db update`).
    #[arg(long)]
    pub db_update: bool,
    /// POST a Slack-compatible message here when a rescan finds a new
    /// critical or high finding in a deployed digest.
    #[arg(long, value_name = "URL")]
    pub notify_url: Option<String>,
    /// Policy files.
    #[command(flatten)]
    pub policy: PolicyFiles,
    /// Which catalogers make the SBOM.
    #[command(flatten)]
    pub catalogers: CatalogerArgs,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs worker`.
#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The work.
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `customs serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// The address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// A PEM certificate chain: serve HTTPS (with --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's PEM private key.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Requests per second per token (twice that as a burst); 0: no limit.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub rate_limit: u32,
    /// The largest request body (K, M suffixes).
    #[arg(long, value_name = "SIZE", default_value = "4M")]
    pub max_body: String,
    /// Serve the dashboard's pages read-only without sign-in (for an
    /// internal network; the API stays guarded).
    #[arg(long)]
    pub public_dashboard: bool,
    /// Admission: the environment of the namespaces matching PATTERN (a
    /// name, `prefix-*` or `*-suffix`); first match wins. Repeatable.
    #[arg(long = "namespace-env", value_name = "PATTERN=ENV")]
    pub namespace_env: Vec<String>,
    /// Admission: the environment of namespaces no --namespace-env names
    /// (default: their workloads are denied).
    #[arg(long, value_name = "ENV")]
    pub default_env: Option<String>,
    /// Admission: namespaces never checked. Repeatable.
    #[arg(
        long = "exempt-namespace",
        value_name = "NAME",
        default_value = "kube-system"
    )]
    pub exempt_namespaces: Vec<String>,
    /// Admission: allow (with a warning) when a check cannot be made
    /// (registry or store down) instead of denying.
    #[arg(long)]
    pub admission_fail_open: bool,
    /// Admission: gate an image on the spot when the store has no decision
    /// for it in the namespace's environment (else it is denied).
    #[arg(long)]
    pub gate_on_admission: bool,
    /// Admission: seconds an answer is reused per digest and environment.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub admission_cache: u64,
    /// The work (workers, scheduler, what jobs read).
    #[command(flatten)]
    pub engine: EngineArgs,
}

/// `customs store …`.
#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// Where the store is, its schema version, size and contents.
    Info(StoreArgs),
    /// Verify every document against its digest and every SBOM index
    /// against its count (and SQLite's integrity check); exit 1 on a problem.
    Check(StoreArgs),
}

/// `customs store info|check`.
#[derive(Debug, Args)]
pub struct StoreArgs {
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// `customs history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// A digest (or a unique prefix of one), or a `repository:tag` the
    /// store has seen.
    pub image: String,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Source flags (an image the store does not know by name is read
    /// for its digest).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs promote`.
#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The image to promote (a registry reference; pinned to its digest
    /// before anything else).
    pub source: String,
    /// Where to: `REGISTRY/REPOSITORY[:TAG]` (no tag: the source's tag,
    /// else the digest only).
    pub target: String,
    /// The environment the target serves: the gate runs for it first.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Tags that may move to another digest (channel tags such as `1.4`,
    /// `latest`); a release tag never moves.
    #[arg(long, value_name = "TAG")]
    pub allow_mutable: Vec<String>,
    /// What a release tag looks like (a regular expression; default
    /// `^v?[0-9]+\.[0-9]+\.[0-9]+([-+.].*)?$`).
    #[arg(long, value_name = "REGEX")]
    pub release_pattern: Option<String>,
    /// Gate anew even when a decision for this digest, environment, policy,
    /// exceptions and advisory database is recorded.
    #[arg(long)]
    pub regate: bool,
    /// Blobs copied at once.
    #[arg(long, value_name = "N", default_value_t = 4)]
    pub jobs: usize,
    /// Output format of the promotion summary.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Policy files.
    #[command(flatten)]
    pub policy: PolicyFiles,
    /// Which catalogers make the SBOM.
    #[command(flatten)]
    pub catalogers: CatalogerArgs,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
    /// Source flags (they apply to both registries).
    #[command(flatten)]
    pub source_flags: SourceArgs,
}

/// `customs release …`.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum ReleaseCommand {
    /// Assemble the evidence bundle of a release from the store and the
    /// image, store it, print it (and attach it with --attest).
    #[command(disable_version_flag = true)]
    Create(ReleaseArgs),
    /// Print a stored release bundle.
    Show(ReleaseShowArgs),
}

/// `customs release create`.
#[derive(Debug, Args)]
pub struct ReleaseArgs {
    /// The image released.
    pub image: String,
    /// The service.
    #[arg(long, value_name = "NAME")]
    pub service: String,
    /// The release version.
    #[arg(long, value_name = "VERSION")]
    pub version: String,
    /// The environment.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Who approved it (default: the recording identity).
    #[arg(long, value_name = "WHO")]
    pub approver: Option<String>,
    /// A file to keep with the bundle (Dockerfile, build log, manifest);
    /// stored content-addressed. Repeatable.
    #[arg(long, value_name = "FILE")]
    pub file: Vec<PathBuf>,
    /// Output: yaml or json.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = ReleaseFormat::Yaml)]
    pub output: ReleaseFormat,
    /// Attach the bundle to the image as a signed attestation.
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs release show`.
#[derive(Debug, Args)]
pub struct ReleaseShowArgs {
    /// The service.
    pub service: String,
    /// The release version.
    #[arg(value_name = "VERSION")]
    pub release: String,
    /// Only this environment's.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Output: yaml or json.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = ReleaseFormat::Yaml)]
    pub output: ReleaseFormat,
    /// Write the bundle's files into this folder, each checked against its
    /// digest.
    #[arg(long, value_name = "DIR")]
    pub extract: Option<PathBuf>,
}

/// A release bundle's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReleaseFormat {
    /// YAML.
    Yaml,
    /// JSON.
    Json,
}

/// `customs deploy …`.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
pub enum DeployCommand {
    /// Record what runs: one `IMAGE@DIGEST` (or a tag, resolved) with
    /// --service, or every image of Kubernetes / compose manifests.
    Record(DeployRecordArgs),
    /// The current deployments (every event with --all).
    List(DeployListArgs),
    /// Compare what a cluster reports (`kubectl get pods -o json`, `docker
    /// service ps --no-trunc` / `docker service inspect` JSON) with the
    /// recorded deployments; exit 1 when anything differs.
    Verify(DeployVerifyArgs),
}

/// `customs deploy record`.
#[derive(Debug, Args)]
pub struct DeployRecordArgs {
    /// Images (`reg/app@sha256:…`, or a tag, resolved) or manifest files
    /// (`.yaml`, `.yml`, `.json`).
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// The environment.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// The service (required for an image; manifests name their own).
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// The cluster.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub cluster: String,
    /// The namespace (manifests may name their own).
    #[arg(long, value_name = "NAME", default_value = "")]
    pub namespace: String,
    /// Source flags (to resolve tags).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs deploy list`.
#[derive(Debug, Args)]
pub struct DeployListArgs {
    /// Only this environment.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Every deployment event, not only the current ones.
    #[arg(long)]
    pub all: bool,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// `customs deploy verify`.
#[derive(Debug, Args)]
pub struct DeployVerifyArgs {
    /// What the cluster reports (JSON files; `-` for standard input).
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// The environment the files describe.
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// `customs where`.
#[derive(Debug, Args)]
pub struct WhereArgs {
    /// A digest (or unique prefix), or a `repository:tag` the store saw.
    #[arg(required_unless_present = "blocked")]
    pub image: Option<String>,
    /// Instead: every blocked digest that still runs somewhere (exit 1
    /// when there is one).
    #[arg(long, conflicts_with = "image")]
    pub blocked: bool,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Source flags (an image the store does not know by name is read
    /// for its digest).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs who-has`.
#[derive(Debug, Args)]
pub struct WhoHasArgs {
    /// `NAME`, `NAME@VERSION` or `NAME@RANGE` (`openssl@<3.0.12`,
    /// `log4j-core@>=2.0,<2.17.1`), compared in the package type's order.
    pub package: String,
    /// Only packages of this type (deb, apk, rpm, npm, python, go-module,
    /// java-archive, gem, rust-crate, php-composer, dotnet, binary).
    #[arg(long = "type", value_name = "TYPE")]
    pub kind: Option<String>,
    /// Only images that run now.
    #[arg(long)]
    pub deployed: bool,
    /// Only images that run in this environment.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// `customs affected`.
#[derive(Debug, Args)]
pub struct AffectedArgs {
    /// Vulnerability IDs (CVE, GHSA, DSA, …; aliases are followed).
    #[arg(required = true)]
    pub ids: Vec<String>,
    /// Only images deployed in this environment.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
}

/// `customs rescan`.
#[derive(Debug, Args)]
pub struct RescanArgs {
    /// Every digest deployed now (the only selection so far).
    #[arg(long, required = true)]
    pub deployed: bool,
    /// Only digests deployed in this environment.
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
}

/// `customs block`.
#[derive(Debug, Args)]
pub struct BlockArgs {
    /// The digest (a full `sha256:…`, a unique prefix the store knows, or
    /// `REF@sha256:…`).
    pub digest: String,
    /// Why (shown by the gate, `where` and `history`).
    #[arg(long)]
    pub reason: String,
    /// The last day of the block (`YYYY-MM-DD`); for good when absent.
    #[arg(long, value_name = "DATE")]
    pub until: Option<String>,
    /// Source flags (an image the store does not know by name is read
    /// for its digest).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs unblock`.
#[derive(Debug, Args)]
pub struct UnblockArgs {
    /// The digest.
    pub digest: String,
    /// Why the block is lifted.
    #[arg(long, default_value = "lifted")]
    pub reason: String,
    /// Source flags (an image the store does not know by name is read
    /// for its digest).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The image before.
    pub old: String,
    /// The image after.
    pub new: String,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Which catalogers make the SBOMs.
    #[command(flatten)]
    pub catalogers: CatalogerArgs,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where the policy comes from: `customs.toml` (environments, policy
/// folder, exceptions, VEX, KEV, block list) and flags that add to it.
#[derive(Debug, Args, Clone, Default)]
pub struct PolicyFiles {
    /// The customs.toml to read (default: ./customs.toml when present).
    #[arg(long, env = EnvVars::CUSTOMS_CONFIG, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// A folder of your Rego rules, added to the built-in bundle (instead
    /// of customs.toml's `policy.dir`).
    #[arg(long, value_name = "DIR")]
    pub policy: Option<PathBuf>,
    /// Exceptions files (YAML), in addition to customs.toml's.
    #[arg(long, value_name = "FILE")]
    pub exceptions: Vec<PathBuf>,
    /// OpenVEX or CycloneDX VEX documents, in addition to customs.toml's.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// A CISA Known Exploited Vulnerabilities catalogue (JSON).
    #[arg(long, value_name = "FILE")]
    pub kev: Option<PathBuf>,
    /// A block list of digests (YAML).
    #[arg(long, value_name = "FILE")]
    pub blocklist: Option<PathBuf>,
    /// Evaluate as of this time (RFC 3339, or YYYY-MM-DD): re-check a
    /// decision or an exception's expiry later (default: now).
    #[arg(long, value_name = "TIME")]
    pub now: Option<String>,
}

/// `customs gate`.
#[derive(Debug, Args)]
pub struct GateArgs {
    /// The image (see `customs digest --help`). Not needed with --from-input.
    #[arg(required_unless_present = "from_input")]
    pub image: Option<String>,
    /// The environment (dev, staging, prod, or one from customs.toml).
    #[arg(long, value_name = "NAME")]
    pub env: String,
    /// Output: table, json (the decision record), sarif.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Print the policy input document and stop.
    #[arg(long)]
    pub input_only: bool,
    /// Evaluate a saved policy input document instead of reading an image.
    #[arg(long, value_name = "FILE", conflicts_with = "input_only")]
    pub from_input: Option<PathBuf>,
    /// Deploy manifests (Kubernetes, compose) to check as well.
    #[arg(long, value_name = "FILE")]
    pub manifest: Vec<PathBuf>,
    /// The previous release, for the size-growth rule.
    #[arg(long, value_name = "REF")]
    pub compare: Option<String>,
    /// The base catalogue (default: $XDG_DATA_HOME/customs/bases.json).
    #[arg(long, value_name = "FILE")]
    pub base_catalogue: Option<PathBuf>,
    /// Policy files.
    #[command(flatten)]
    pub policy: PolicyFiles,
    /// Which catalogers make the SBOM.
    #[command(flatten)]
    pub catalogers: CatalogerArgs,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
    /// Attach the decision record to the image as a signed SLSA
    /// verification summary attestation.
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs exceptions …`.
#[derive(Debug, Subcommand)]
pub enum ExceptionsCommand {
    /// Every exception with its state: active, expiring or expired.
    List(ExceptionsArgs),
    /// Validate the files; exit 1 when an exception has expired (or, with
    /// --expiring-within, will expire within that time).
    Check(ExceptionsArgs),
}

/// `customs exceptions list|check`.
#[derive(Debug, Args)]
pub struct ExceptionsArgs {
    /// Exceptions files (default: customs.toml's).
    pub files: Vec<PathBuf>,
    /// Flag exceptions expiring within this time (`14d`, `2w`).
    #[arg(long, value_name = "DURATION", default_value = "14d")]
    pub expiring_within: String,
    /// With check: fail on expiring exceptions too, not only expired ones.
    #[arg(long)]
    pub strict: bool,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Policy files (customs.toml, --now).
    #[command(flatten)]
    pub policy: PolicyFiles,
}

/// `customs vex …`.
#[derive(Debug, Subcommand)]
pub enum VexCommand {
    /// Write the active vulnerability exceptions as an OpenVEX 0.2
    /// document (not_affected, the justification as impact statement).
    Export(VexExportArgs),
}

/// `customs vex export`.
#[derive(Debug, Args)]
pub struct VexExportArgs {
    /// Exceptions files (default: customs.toml's).
    pub files: Vec<PathBuf>,
    /// The document's author.
    #[arg(long, default_value = "customs")]
    pub author: String,
    /// Write to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Policy files (customs.toml, --now).
    #[command(flatten)]
    pub policy: PolicyFiles,
}

/// `customs licenses`.
#[derive(Debug, Args)]
pub struct LicensesArgs {
    /// The image (see `customs digest --help`), dir:ROOTFS, or sbom:FILE.
    pub image: String,
    /// The environment whose licence policy judges (default: prod).
    #[arg(long, value_name = "NAME", default_value = "prod")]
    pub env: String,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Exit 1 when a package's licence is denied.
    #[arg(long)]
    pub fail_on_denied: bool,
    /// Policy files (customs.toml).
    #[command(flatten)]
    pub policy: PolicyFiles,
    /// Which catalogers make the SBOM.
    #[command(flatten)]
    pub catalogers: CatalogerArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs base …`.
#[derive(Debug, Subcommand)]
pub enum BaseCommand {
    /// Record base images (their layer chains), with an owner and approval.
    Add(BaseAddArgs),
    /// List the catalogue.
    List(BaseListArgs),
    /// Remove base images by digest or name.
    Remove(BaseRemoveArgs),
    /// Which catalogued base an image is built on.
    Detect(BaseDetectArgs),
}

/// Where the base catalogue is.
#[derive(Debug, Args, Clone, Default)]
pub struct CatalogueArgs {
    /// The base catalogue (default: $XDG_DATA_HOME/customs/bases.json).
    #[arg(long = "catalogue", value_name = "FILE")]
    pub path: Option<PathBuf>,
}

/// `customs base add`.
#[derive(Debug, Args)]
pub struct BaseAddArgs {
    /// Base images.
    #[arg(required = true)]
    pub images: Vec<String>,
    /// The team that owns them and keeps them updated.
    #[arg(long, value_name = "TEAM")]
    pub owner: Option<String>,
    /// Approve them as bases.
    #[arg(long)]
    pub approved: bool,
    /// Catalogue location.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs base list`.
#[derive(Debug, Args)]
pub struct BaseListArgs {
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Catalogue location.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
}

/// `customs base remove`.
#[derive(Debug, Args)]
pub struct BaseRemoveArgs {
    /// Digests or names as listed.
    #[arg(required = true)]
    pub bases: Vec<String>,
    /// Catalogue location.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
}

/// `customs base detect`.
#[derive(Debug, Args)]
pub struct BaseDetectArgs {
    /// The image.
    pub image: String,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Catalogue location.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs recommend`.
#[derive(Debug, Args)]
pub struct RecommendArgs {
    /// The image whose base to improve.
    pub image: String,
    /// The base image to start from, when it cannot be detected
    /// (`registry/debian:12.1`).
    #[arg(long, value_name = "REF")]
    pub base: Option<String>,
    /// Look at this many newest candidate tags at most.
    #[arg(long, default_value_t = 8)]
    pub max_candidates: usize,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Catalogue location.
    #[command(flatten)]
    pub catalogue: CatalogueArgs,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs policy`.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Policy files (customs.toml, --policy).
    #[command(flatten)]
    pub policy: PolicyFiles,
}

/// Who must have signed, for keyless (certificate) verification: the
/// certificate identity and OIDC issuer (exact or a regular expression),
/// checked against a Sigstore trusted root (the built-in public-good one,
/// or `--trusted-root`; nothing is fetched).
#[derive(Debug, Args, Clone, Default)]
pub struct KeylessArgs {
    /// The certificate's identity (an email or URI SAN), exactly.
    #[arg(
        long,
        value_name = "IDENTITY",
        conflicts_with = "certificate_identity_regexp"
    )]
    pub certificate_identity: Option<String>,
    /// The certificate's identity, as a regular expression (matched
    /// anywhere: anchor it with ^…$).
    #[arg(long, value_name = "REGEX")]
    pub certificate_identity_regexp: Option<String>,
    /// The OIDC issuer that vouched for the identity, exactly.
    #[arg(
        long,
        value_name = "URL",
        conflicts_with = "certificate_oidc_issuer_regexp"
    )]
    pub certificate_oidc_issuer: Option<String>,
    /// The OIDC issuer, as a regular expression.
    #[arg(long, value_name = "REGEX")]
    pub certificate_oidc_issuer_regexp: Option<String>,
    /// A Sigstore `trusted_root.json` (Fulcio CAs, Rekor and CT log keys,
    /// timestamp authorities); default: the Sigstore public-good root built
    /// into customs.
    #[arg(long, value_name = "FILE")]
    pub trusted_root: Option<PathBuf>,
}

impl KeylessArgs {
    /// Whether any identity flag was given.
    #[must_use]
    pub fn any(&self) -> bool {
        self.certificate_identity.is_some()
            || self.certificate_identity_regexp.is_some()
            || self.certificate_oidc_issuer.is_some()
            || self.certificate_oidc_issuer_regexp.is_some()
    }
}

/// `customs provenance`.
#[derive(Debug, Args)]
pub struct ProvenanceArgs {
    /// Read the CI environment (the only source today; required so that a
    /// later source cannot be taken for it).
    #[arg(long, required = true)]
    pub from_env: bool,
    /// Write the predicate here instead of standard output.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `customs sign-blob`.
#[derive(Debug, Args)]
pub struct SignBlobArgs {
    /// The file to sign.
    pub file: PathBuf,
    /// The private key (as for `customs sign`).
    #[arg(long, value_name = "KEY")]
    pub key: String,
    /// Write a Sigstore bundle (v0.3 JSON) here.
    #[arg(long, value_name = "FILE")]
    pub bundle: Option<PathBuf>,
    /// Write the base64 signature here (printed when neither this nor
    /// --bundle is given).
    #[arg(long, value_name = "FILE")]
    pub output_signature: Option<PathBuf>,
}

/// `customs verify-blob`.
#[derive(Debug, Args)]
pub struct VerifyBlobArgs {
    /// The file, or `sha256:<hex>` of it.
    pub file: String,
    /// The Sigstore bundle.
    #[arg(long, value_name = "FILE", required_unless_present = "signature")]
    pub bundle: Option<PathBuf>,
    /// A detached base64 signature (`cosign sign-blob` output) instead of a
    /// bundle; needs --key.
    #[arg(long, value_name = "FILE", conflicts_with = "bundle", requires = "key")]
    pub signature: Option<PathBuf>,
    /// The public key (a PEM file or env://VAR), for key-signed bundles.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Keyless: identity, issuer, trusted root.
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// Output format.
    #[arg(short = 'o', long = "format", value_enum, default_value = "table")]
    pub format: Format,
}

/// Which catalogers make an SBOM.
#[derive(Debug, Args, Clone)]
pub struct CatalogerArgs {
    /// Choose catalogers by name or tag: `dpkg,python` keeps only those,
    /// `+x` adds, `-x` removes (`-java`).
    #[arg(
        long = "catalogers",
        value_delimiter = ',',
        allow_hyphen_values = true,
        value_name = "SELECTION"
    )]
    pub selection: Vec<String>,
}

/// Where and in which formats a command writes its result: `-o FORMAT`,
/// repeatable as `-o FORMAT=FILE` to write several formats from one run,
/// and `--output FILE` for the one without `=FILE`. Each command's help
/// lists its formats.
#[derive(Debug, Args, Clone)]
pub struct OutputArgs {
    /// Output format; repeat with `=FILE` to write several in one run
    /// (`-o json=a.json -o sarif=a.sarif`).
    #[arg(
        long = "format",
        short = 'o',
        value_name = "FORMAT[=FILE]",
        default_value = "table"
    )]
    pub formats: Vec<String>,
    /// Write the format that has no `=FILE` to this file instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// Output of the checks (`secrets`, `lint`): table, json, sarif.
#[derive(Debug, Args, Clone)]
pub struct ChecksOutputArgs {
    /// Formats and files.
    #[command(flatten)]
    pub files: OutputArgs,
    /// Exit with code 1 when a finding is at least this severe (info, low,
    /// medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
}

/// `customs secrets`.
#[derive(Debug, Args)]
pub struct SecretsArgs {
    /// The image (see `customs digest --help`) or dir:ROOTFS.
    pub image: String,
    /// A customs.toml with `[[secrets.allow]]` entries (rule, path glob,
    /// fingerprint).
    #[arg(long, env = EnvVars::CUSTOMS_CONFIG, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Also list secrets in files a distro package installed unchanged
    /// (test keys, sample certificates); they are counted either way.
    #[arg(long)]
    pub include_packaged: bool,
    /// Output flags.
    #[command(flatten)]
    pub output: ChecksOutputArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs lint`.
#[derive(Debug, Args)]
pub struct LintArgs {
    /// What to lint: image references, Dockerfiles, compose files or
    /// Kubernetes manifests (files are recognised by name and content).
    #[arg(required = true, value_name = "TARGET")]
    pub targets: Vec<String>,
    /// The environment the manifests deploy to; with `prod` (or
    /// `production`) an image not pinned by digest is an error.
    #[arg(long, value_name = "ENV")]
    pub env: Option<String>,
    /// Compare an image with a previous one (size, layers, packages).
    #[arg(long, value_name = "REF")]
    pub compare: Option<String>,
    /// The growth over `--compare` that is a finding (1.5 = 50 % larger).
    #[arg(long, value_name = "RATIO", default_value_t = 1.5)]
    pub growth_ratio: f64,
    /// Ports an image may expose (comma-separated); without it, only
    /// well-known sensitive ports (SSH, databases, Docker API …) are flagged.
    #[arg(long, value_delimiter = ',', value_name = "PORT")]
    pub allowed_ports: Vec<u16>,
    /// Output flags.
    #[command(flatten)]
    pub output: ChecksOutputArgs,
    /// Source flags (for image targets).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs pin`.
#[derive(Debug, Args)]
pub struct PinArgs {
    /// Dockerfiles, compose files, Kubernetes manifests.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Rewrite the files in place (otherwise print what would change).
    #[arg(long, conflicts_with = "check")]
    pub write: bool,
    /// Only check: exit 1 when a reference is not pinned (no network).
    #[arg(long)]
    pub check: bool,
    /// Source flags (registry credentials, --insecure-registry).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs key …`.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Make an ECDSA P-256 key pair: PREFIX.key (encrypted as cosign does,
    /// mode 0600) and PREFIX.pub. The password comes from CUSTOMS_PASSWORD
    /// or COSIGN_PASSWORD, else a prompt that does not echo.
    Generate(KeyGenerateArgs),
}

/// `customs key generate`.
#[derive(Debug, Args)]
pub struct KeyGenerateArgs {
    /// Where to write: PREFIX.key and PREFIX.pub.
    #[arg(long, value_name = "PREFIX", default_value = "cosign")]
    pub output_key_prefix: PathBuf,
    /// Replace existing files.
    #[arg(long)]
    pub force: bool,
}

/// `customs sign`.
#[derive(Debug, Args)]
pub struct SignArgs {
    /// The image (a registry reference); a tag is resolved to its digest
    /// and the digest is signed.
    pub image: String,
    /// The private key: a file (cosign's encrypted key, PKCS#8 or SEC1 PEM)
    /// or env://VAR.
    #[arg(long, value_name = "KEY")]
    pub key: String,
    /// An annotation to sign into the payload (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// For a multi-platform image: sign the index and every platform's
    /// manifest (BuildKit attestation manifests are not images, and are
    /// left out).
    #[arg(long)]
    pub recursive: bool,
    /// Where the signature goes: cosign's `.sig` tag (what Kyverno and
    /// policy-controller read), a Sigstore bundle as an OCI 1.1 referrer
    /// (cosign v3's default), or both.
    #[arg(long, value_enum, default_value = "tag")]
    pub bundle_format: BundleFormat,
    /// Print what was done as JSON.
    #[arg(short = 'o', long = "format", value_enum, default_value = "table")]
    pub format: Format,
    /// Source flags (registry credentials, --insecure-registry).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs attest`.
#[derive(Debug, Args)]
pub struct AttestArgs {
    /// The image (a registry reference); a tag is resolved to its digest.
    pub image: String,
    /// The predicate: a JSON file (an SPDX or CycloneDX SBOM, a SLSA
    /// provenance, an OpenVEX document, …), or `-` for standard input.
    #[arg(long, value_name = "FILE")]
    pub predicate: PathBuf,
    /// The predicate type: spdx, cyclonedx, slsaprovenance, slsaprovenance1,
    /// link, vuln, openvex, custom, or a URI.
    #[arg(long = "type", value_name = "TYPE", default_value = "custom")]
    pub predicate_type: String,
    /// The private key (as for `customs sign`).
    #[arg(long, value_name = "KEY")]
    pub key: String,
    /// Where the attestation goes: cosign's `.att` tag (what Kyverno and
    /// policy-controller read), a Sigstore bundle as an OCI 1.1 referrer
    /// (cosign v3), or both (the default: every client finds it).
    #[arg(long, value_enum, default_value = "both")]
    pub bundle_format: BundleFormat,
    /// Print what was done as JSON.
    #[arg(short = 'o', long = "format", value_enum, default_value = "table")]
    pub format: Format,
    /// Source flags (registry credentials, --insecure-registry).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where signatures and attestations are stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BundleFormat {
    /// cosign's `sha256-<hex>.sig` / `.att` tags.
    Tag,
    /// A Sigstore bundle v0.3 as an OCI 1.1 referrer (and in the referrers
    /// tag schema's index, for registries without the API).
    V3,
    /// Both.
    Both,
}

impl BundleFormat {
    /// Whether the tag form is written.
    #[must_use]
    pub fn tag(self) -> bool {
        matches!(self, Self::Tag | Self::Both)
    }

    /// Whether the bundle form is written.
    #[must_use]
    pub fn bundle(self) -> bool {
        matches!(self, Self::V3 | Self::Both)
    }
}

/// `customs verify-attestation`.
#[derive(Debug, Args)]
pub struct VerifyAttestationArgs {
    /// The image (a registry reference).
    pub image: String,
    /// The public key: a PEM file or env://VAR.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Keyless: identity, issuer, trusted root.
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// Only attestations of this predicate type (a name as for `attest
    /// --type`, or a URI).
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,
    /// Output format: a table, or JSON with every verified statement.
    #[arg(short = 'o', long = "format", value_enum, default_value = "table")]
    pub format: Format,
    /// Source flags (registry credentials, --insecure-registry).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs attestations`.
#[derive(Debug, Args)]
pub struct AttestationsArgs {
    /// The image: a registry reference or an OCI layout (BuildKit's
    /// `--output type=oci`).
    pub image: String,
    /// Only attestations of this predicate type (a name as for `attest
    /// --type`, or a URI).
    #[arg(long = "type", value_name = "TYPE")]
    pub predicate_type: Option<String>,
    /// A public key to verify the signed ones with (else they are listed as
    /// signed, not verified).
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Or a certificate identity and issuer (keyless).
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// Write each statement (and signature payload) to this folder.
    #[arg(long, value_name = "DIR")]
    pub download: Option<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long = "format", value_enum, default_value = "table")]
    pub format: Format,
    /// Source flags (platform, registry credentials).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs verify`.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The image (a registry reference).
    pub image: String,
    /// The public key: a PEM file (cosign.pub) or env://VAR.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Keyless: identity, issuer, trusted root.
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// An annotation every accepted signature must hold (repeatable).
    #[arg(short = 'a', long = "annotation", value_name = "KEY=VALUE")]
    pub annotations: Vec<String>,
    /// Fail a signature made for another repository (else it is reported).
    #[arg(long)]
    pub strict_reference: bool,
    /// Output format.
    #[arg(short = 'o', long = "format", value_enum, default_value = "table")]
    pub format: Format,
    /// Source flags (registry credentials, --insecure-registry).
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where the vulnerability database lives.
#[derive(Debug, Args, Clone)]
pub struct DbArgs {
    /// The database folder (default: $XDG_DATA_HOME/customs/vulndb, or
    /// ~/.local/share/customs/vulndb).
    #[arg(long, env = EnvVars::CUSTOMS_DB_DIR, value_name = "DIR")]
    pub db_dir: Option<PathBuf>,
}

/// `customs db …`.
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Import OSV records: JSON files, folders of them, or the per-ecosystem
    /// `all.zip` archives osv.dev publishes. Incremental: records already
    /// present with the same `modified` time are skipped.
    Import(DbImportArgs),
    /// Download osv.dev's exports and import them (online only; offline,
    /// the current database is kept).
    Update(DbUpdateArgs),
    /// Show what the database holds: advisories per ecosystem, sources,
    /// build time.
    Status(DbStatusArgs),
}

/// `customs db import`.
#[derive(Debug, Args)]
pub struct DbImportArgs {
    /// OSV JSON files, folders, or zip archives.
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
}

/// `customs db update`.
#[derive(Debug, Args)]
pub struct DbUpdateArgs {
    /// Base URL of the exports (`<URL>/<ECOSYSTEM>/all.zip`).
    #[arg(long, env = EnvVars::CUSTOMS_OSV_URL, value_name = "URL")]
    pub url: Option<String>,
    /// Ecosystems to download (default: every one customs matches).
    /// Repeatable or comma-separated.
    #[arg(long = "ecosystem", value_delimiter = ',', value_name = "NAME")]
    pub ecosystems: Vec<String>,
    /// Seconds to wait for a connection or between two reads.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
}

/// `customs db status`.
#[derive(Debug, Args)]
pub struct DbStatusArgs {
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
}

/// `customs scan`.
#[derive(Debug, Args)]
pub struct ScanArgs {
    /// The image (see `customs digest --help`), dir:ROOTFS, or sbom:FILE
    /// (SPDX 2.3 or CycloneDX JSON, customs's or another tool's).
    pub image: String,
    /// Output: table, json, sarif, cyclonedx-json.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Only report these severities (comma-separated: critical,high).
    #[arg(long, value_delimiter = ',', value_name = "SEVERITY")]
    pub severity: Vec<String>,
    /// Only report vulnerabilities that have a fixed version.
    #[arg(long)]
    pub only_fixed: bool,
    /// Exit with code 1 when a reported vulnerability is at least this
    /// severe (negligible, low, medium, high, critical).
    #[arg(long, value_name = "SEVERITY")]
    pub fail_on: Option<String>,
    /// Which catalogers make the SBOM.
    #[command(flatten)]
    pub catalogers: CatalogerArgs,
    /// Where the SBOM comes from: a walk of the layers, or an SBOM
    /// attested for the image (cosign attestation, v3 bundle, or BuildKit's
    /// in the index; for the chosen platform).
    #[arg(long, value_enum, default_value = "walk")]
    pub sbom_source: SbomSource,
    /// With --sbom-source attestation: use only an SBOM attestation that
    /// verifies with this public key.
    #[arg(long, value_name = "PUB")]
    pub attestation_key: Option<String>,
    /// With --sbom-source attestation: or one signed by this certificate
    /// identity (keyless).
    #[command(flatten)]
    pub keyless: KeylessArgs,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
    /// OpenVEX or CycloneDX VEX documents: findings they say are
    /// not_affected or fixed are suppressed.
    #[arg(long, value_name = "FILE")]
    pub vex: Vec<PathBuf>,
    /// Exceptions files: vulnerabilities they waive are suppressed (expired
    /// ones are named and do not apply).
    #[arg(long, value_name = "FILE")]
    pub exceptions: Vec<PathBuf>,
    /// The environment exceptions are scoped to (entries naming other
    /// environments do not apply).
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Show suppressed findings too, marked with why.
    #[arg(long)]
    pub show_suppressed: bool,
    /// Attach the result to the image as a signed attestation.
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Where `scan` takes the SBOM from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SbomSource {
    /// Walk the image's layers (the default).
    Walk,
    /// An SBOM attested for the image.
    Attestation,
}

/// `--attest --key K`: attach what a command made to the image it is
/// about, as a signed in-toto attestation, in the same run.
#[derive(Debug, Args, Clone)]
pub struct AttachArgs {
    /// Attach the result to the image (a registry image) as an attestation.
    #[arg(long, requires = "key")]
    pub attest: bool,
    /// The private key to sign the attestation with (as for `customs sign`).
    #[arg(long, value_name = "KEY", requires = "attest")]
    pub key: Option<String>,
    /// Where the attestation goes (as for `customs attest`).
    #[arg(long, value_enum, default_value = "both", requires = "attest")]
    pub bundle_format: BundleFormat,
}

/// `customs quickview`.
#[derive(Debug, Args)]
pub struct QuickviewArgs {
    /// The image (see `customs digest --help`), dir:ROOTFS, or sbom:FILE.
    pub image: String,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Database location.
    #[command(flatten)]
    pub db: DbArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs digest`.
#[derive(Debug, Args)]
pub struct DigestArgs {
    /// The image: NAME[:TAG][@DIGEST], registry:…, oci:DIR[:TAG],
    /// oci-archive:FILE[:TAG], docker-archive:FILE[:NAME:TAG|:@N].
    pub image: String,
    /// Print the index (manifest list) digest instead, when there is one.
    #[arg(long)]
    pub index: bool,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// The image (see `customs digest --help` for the forms).
    pub image: String,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs files`.
#[derive(Debug, Args)]
pub struct FilesArgs {
    /// The image, or dir:ROOTFS.
    pub image: String,
    /// List every layer's entries, including files a later layer deleted or
    /// overwrote, instead of the squashed filesystem.
    #[arg(long)]
    pub all_layers: bool,
    /// Print per-layer totals instead of files.
    #[arg(long, conflicts_with = "all_layers")]
    pub summary: bool,
    /// Output format.
    #[arg(long = "format", short = 'o', value_enum, default_value_t = Format::Table)]
    pub output: Format,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// `customs sbom`.
#[derive(Debug, Args)]
pub struct SbomArgs {
    /// The image (see `customs digest --help`), or dir:ROOTFS.
    pub image: String,
    /// Output: table, json, spdx-json, cyclonedx-json.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Attach the result to the image as a signed attestation.
    #[command(flatten)]
    pub attach: AttachArgs,
    /// Which catalogers run.
    #[command(flatten)]
    pub catalogers: CatalogerArgs,
    /// Source flags.
    #[command(flatten)]
    pub source: SourceArgs,
}

/// Output formats for human and machine readers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// A table for people.
    Table,
    /// Stable JSON for programs.
    Json,
}

/// How the image is read.
#[derive(Debug, Args, Clone)]
pub struct SourceArgs {
    /// Platform to choose from a multi-platform image: os/arch[/variant]
    /// (default: this machine's).
    #[arg(long)]
    pub platform: Option<String>,
    /// Registry host[:port] that may be reached over plain HTTP (loopback
    /// hosts always may). Repeatable.
    #[arg(long = "insecure-registry", value_name = "HOST")]
    pub insecure_registries: Vec<String>,
    /// Registry user name (with --password-stdin).
    #[arg(long, requires = "password_stdin")]
    pub username: Option<String>,
    /// Read the registry password or token from standard input.
    #[arg(long, requires = "username")]
    pub password_stdin: bool,
    /// Ignore ~/.docker/config.json and credential helpers.
    #[arg(long)]
    pub no_docker_config: bool,
    /// Refuse images whose layers decompress to more than this many bytes
    /// (decompression bombs). Suffixes K, M, G, T (powers of 1024).
    #[arg(long, value_name = "SIZE", default_value = "64G")]
    pub max_uncompressed_size: String,
    /// Refuse images whose layers hold more than this many entries in all
    /// (and per layer): what bounds a walk's memory, about 200 bytes per
    /// entry.
    #[arg(long, value_name = "N", default_value_t = 5_000_000)]
    pub max_entries: u64,
    /// Seconds for a registry connection, for the whole of one manifest,
    /// config or token request, and, with 64 KiB/s per byte of a blob, for
    /// one blob; retries stop after twice this.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub timeout: u64,
    /// Where verified registry blobs are cached.
    #[arg(long, env = EnvVars::CUSTOMS_CACHE_DIR, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        super::Cli::command().debug_assert();
        // The tool's own description, not a crate's.
        let about = super::Cli::command().get_about().map(ToString::to_string);
        assert!(about.is_some_and(|a| a.starts_with("customs — ")));
    }
}
