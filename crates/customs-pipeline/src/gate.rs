//! The gate's evidence: everything known about one digest turned into the
//! policy input document, from one walk of the image (SBOM and secrets
//! together), the advisory index, the signatures and attestations next to
//! it (verified against what the environment trusts), its base image, the
//! deploy manifests and the previous release. The CLI and the server call
//! this same function.

use std::collections::BTreeMap;

use customs_oci::{AnySource, Image, ImageRef};
use customs_policy::input::{
    AttestationInput, BaseImageInput, CheckInput, ConfigInput, DatabaseInput, EnvironmentInput,
    HistoryInput, ImageInput, PackageInput, PolicyInput, PreviousInput, ProvenanceInput, SbomInput,
    SignaturesInput, SignerInput, VexInput, VulnerabilityInput,
};
use customs_policy::vex::{FindingRef, VexSet};
use customs_policy::{Environment, kev::Kev};
use customs_sbom::Sbom;
use customs_vuln::{FixState, MatchReport};

use crate::base::{BaseCatalogue, DetectedBase};
use crate::{Evidence, PipelineError};

/// What the environment trusts, loaded: a description for people and the
/// verifier.
pub struct Trusted<'a> {
    /// `key cosign.pub`, `identity … from …`.
    pub described: String,
    /// The verifier.
    pub trust: customs_sign::Trust<'a>,
}

impl Trusted<'_> {
    /// Who a verification says signed: this key's description, or the
    /// certificate identity.
    fn signer_name(&self, signer: Option<&str>) -> String {
        match signer {
            Some("key") | None => self.described.clone(),
            Some(identity) => identity.to_owned(),
        }
    }
}

/// A finding's id and aliases: what exceptions and VEX match on.
fn ids(f: &customs_vuln::Finding) -> Vec<String> {
    let mut ids = vec![f.id.clone()];
    ids.extend(f.aliases.iter().cloned());
    ids
}

/// Everything besides the image that goes into the input.
pub struct GateContext<'a> {
    /// The reference as given.
    pub reference: &'a str,
    /// The environment's name.
    pub environment: &'a str,
    /// Its configuration.
    pub config: &'a Environment,
    /// What it trusts.
    pub trusted: &'a [Trusted<'a>],
    /// VEX statements.
    pub vex: &'a VexSet,
    /// The KEV catalogue, when given.
    pub kev: Option<&'a Kev>,
    /// The base catalogue.
    pub bases: &'a BaseCatalogue,
    /// Deploy-manifest findings.
    pub manifests: Vec<customs_checks::Finding>,
    /// The previous release.
    pub previous: Option<PreviousInput>,
    /// The block-list entry of the digest.
    pub blocked: Option<customs_policy::input::BlockInput>,
    /// The advisory database.
    pub database: Option<DatabaseInput>,
    /// When (seconds since the epoch): injected, so that tests and
    /// re-checks can say when.
    pub now: i64,
}

/// The repository (`registry/name`) a registry reference names.
#[must_use]
pub fn repository_of(reference: &str) -> Option<String> {
    match ImageRef::parse(reference) {
        Ok(ImageRef::Registry(r)) => Some(r.name()),
        _ => None,
    }
}

/// How the reference chose the image.
fn resolution(reference: &str) -> (String, Option<String>, Option<String>) {
    match ImageRef::parse(reference) {
        Ok(ImageRef::Registry(r)) => {
            let by = if r.digest().is_some() {
                "digest"
            } else {
                "tag"
            };
            (by.to_owned(), r.tag().map(str::to_owned), Some(r.name()))
        }
        Ok(
            ImageRef::OciLayout { tag: Some(tag), .. }
            | ImageRef::OciArchive { tag: Some(tag), .. },
        ) => ("tag".to_owned(), Some(tag), None),
        _ if reference.contains("@sha256:") => ("digest".to_owned(), None, None),
        _ => ("local".to_owned(), None, None),
    }
}

fn check(f: &customs_checks::Finding) -> CheckInput {
    CheckInput {
        rule: f.rule.to_owned(),
        severity: f.severity.to_string(),
        title: f.title.clone(),
        location: f.location.display(),
        fingerprint: f.fingerprint.clone(),
    }
}

/// The image part of the input.
#[must_use]
pub fn image_input(reference: &str, image: &Image) -> ImageInput {
    let (resolved_by, tag, repository) = resolution(reference);
    let c = image.config.config.clone().unwrap_or_default();
    let redact = |s: &str| customs_checks::redact::redact_text(s);
    ImageInput {
        reference: reference.to_owned(),
        resolved_by,
        tag,
        repository,
        digest: image.manifest_digest.to_string(),
        index_digest: image.index_digest().map(ToString::to_string),
        platform: image.platform().to_string(),
        created: image.config.created.clone(),
        size: image.compressed_size(),
        layers: image.manifest.layers.len(),
        config: ConfigInput {
            user: c.user.clone().unwrap_or_default(),
            // Values as `lint` shows them: a token in a label is redacted
            // (and reported by the secrets rule).
            labels: c
                .labels
                .iter()
                .flatten()
                .map(|(k, v)| {
                    let secret = customs_checks::redact::secret_name(k) && !v.is_empty();
                    let value = if secret {
                        customs_checks::redact::REDACTED.to_owned()
                    } else {
                        redact(v)
                    };
                    (k.clone(), value)
                })
                .collect(),
            healthcheck: c.healthcheck.as_ref().is_some_and(|h| {
                !h.test.is_empty() && h.test.first().map(String::as_str) != Some("NONE")
            }),
            exposed_ports: c
                .exposed_ports
                .as_ref()
                .map(|p| p.keys().cloned().collect())
                .unwrap_or_default(),
            entrypoint: c.entrypoint.iter().flatten().map(|a| redact(a)).collect(),
            cmd: c.cmd.iter().flatten().map(|a| redact(a)).collect(),
            env_names: c
                .env
                .iter()
                .flatten()
                .map(|e| e.split('=').next().unwrap_or(e).to_owned())
                .collect(),
            working_dir: c.working_dir.clone().unwrap_or_default(),
        },
        annotations: image
            .manifest
            .annotations
            .iter()
            .map(|(k, v)| (k.clone(), redact(v)))
            .collect(),
        history: image
            .config
            .history
            .iter()
            .map(|h| HistoryInput {
                created_by: redact(h.created_by.as_deref().unwrap_or("")),
                empty_layer: h.empty_layer,
            })
            .collect(),
    }
}

/// The SBOM part of the input.
#[must_use]
pub fn sbom_input(sbom: &Sbom, source: &str) -> SbomInput {
    SbomInput {
        present: true,
        source: source.to_owned(),
        incomplete: sbom
            .unknowns
            .iter()
            .filter(|u| u.package_type.is_some_and(customs_sbom::PackageType::is_os))
            .map(|u| format!("{}: {}", u.path, u.message))
            .collect(),
        distro: sbom.distro.as_ref().map(|d| {
            format!("{} {}", d.id, d.version_id.as_deref().unwrap_or(""))
                .trim()
                .to_owned()
        }),
        counts: sbom
            .counts()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        packages: sbom
            .packages
            .iter()
            .map(|p| PackageInput {
                name: p.name.clone(),
                version: p.version.clone(),
                kind: p.kind.to_string(),
                purl: p.purl.clone(),
            })
            .collect(),
    }
}

/// A finding as the policy sees it, with its KEV mark and the VEX
/// statement that decided it (if any).
fn vulnerability(
    f: &customs_vuln::Finding,
    digest: &str,
    vex: &VexSet,
    kev: Option<&Kev>,
) -> VulnerabilityInput {
    let ids = ids(f);
    let statement = vex.decide(&FindingRef {
        ids: &ids,
        purl: &f.package.purl,
        image_digest: Some(digest),
    });
    VulnerabilityInput {
        id: f.id.clone(),
        aliases: f.aliases.clone(),
        severity: f.severity().to_string(),
        cvss_score: f.rating.score,
        fix_available: f.fix_state == FixState::Fixed,
        fixed_versions: f.fixed_versions.clone(),
        package: PackageInput {
            name: f.package.name.clone(),
            version: f.package.version.clone(),
            kind: f.package.kind.to_string(),
            purl: f.package.purl.clone(),
        },
        kev: kev.is_some_and(|k| k.lists(&ids)),
        vex: statement.map(|s| VexInput {
            status: s.status.as_str().to_owned(),
            justification: s.justification.clone(),
            statement: s
                .impact_statement
                .clone()
                .or_else(|| s.action_statement.clone()),
            document: s.document.clone(),
        }),
    }
}

/// Splits findings into those that apply and those VEX suppressed.
#[must_use]
pub fn vulnerabilities(
    matches: &MatchReport,
    digest: &str,
    vex: &VexSet,
    kev: Option<&Kev>,
) -> (Vec<VulnerabilityInput>, Vec<VulnerabilityInput>) {
    matches
        .findings
        .iter()
        .map(|f| vulnerability(f, digest, vex, kev))
        .partition(|v| {
            !v.vex
                .as_ref()
                .is_some_and(|s| matches!(s.status.as_str(), "not_affected" | "fixed"))
        })
}

/// What is attached to an image, checked.
struct Attached {
    signatures: SignaturesInput,
    attestations: Vec<AttestationInput>,
    provenance: Vec<(ProvenanceInput, serde_json::Value)>,
    /// OpenVEX statements from attestations a trusted signer signed.
    vex: Vec<customs_policy::vex::Statement>,
}

/// The signatures found next to `digest` in `registry`, each checked
/// against every trusted signer: what the gate's input and the admission
/// webhook judge by.
#[must_use]
pub fn check_signatures(
    found: &[customs_sign::SignatureLayer],
    registry: &customs_oci::RegistrySource,
    digest: &customs_types::Digest,
    trusted: &[Trusted<'_>],
) -> SignaturesInput {
    let mut signatures = SignaturesInput {
        checked: true,
        trusted: trusted.iter().map(|t| t.described.clone()).collect(),
        found: found.len(),
        ..SignaturesInput::default()
    };
    let repository = registry.reference().name();
    let mut failures = Vec::new();
    for t in trusted {
        let v = customs_sign::verify_image(
            found,
            t.trust,
            &customs_sign::verify::Expectations {
                digest,
                repository: Some(&repository),
                strict_reference: false,
                annotations: &[],
            },
        );
        for s in v.signatures.iter().filter(|s| s.check.verified) {
            signatures.verified.push(SignerInput {
                signer: t.signer_name(s.signer.as_deref()),
                source: s.check.source.clone(),
            });
        }
        if let Some(failure) = v.failure() {
            failures.push(format!("{}: {failure}", t.described));
        }
    }
    signatures.outcome = if signatures.verified.is_empty() {
        if found.is_empty() {
            "no signature found".to_owned()
        } else if failures.is_empty() {
            "no trusted signer is configured".to_owned()
        } else {
            failures.join("; ")
        }
    } else {
        "verified".to_owned()
    };
    signatures
}

/// Signatures and attestations next to the image, each checked against
/// every trusted signer. An image outside a registry has none to check.
async fn attachments(
    source: &AnySource,
    image: &Image,
    ctx: &GateContext<'_>,
) -> Result<Attached, PipelineError> {
    let digest = &image.manifest_digest;
    let mut signatures = SignaturesInput {
        trusted: ctx.trusted.iter().map(|t| t.described.clone()).collect(),
        ..SignaturesInput::default()
    };
    let mut attestations = Vec::new();
    let mut provenance = Vec::new();
    let mut vex = Vec::new();
    let builder_allowed = |builder: Option<&str>| {
        ctx.config.builders.is_empty()
            || builder.is_some_and(|b| {
                ctx.config
                    .builders
                    .iter()
                    .any(|g| customs_policy::matching::glob_matches(g, b))
            })
    };
    let mut add_provenance =
        |predicate_type: &str, p: &serde_json::Value, source: &str, verified: bool| {
            if !predicate_type.starts_with("https://slsa.dev/provenance/") {
                return;
            }
            let builder = p
                .pointer("/runDetails/builder/id")
                .or_else(|| p.pointer("/builder/id"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            let repository = p
                .pointer("/buildDefinition/externalParameters/workflow/repository")
                .or_else(|| p.pointer("/invocation/configSource/uri"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            let revision = p
                .pointer("/invocation/configSource/digest/sha1")
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned);
            provenance.push((
                ProvenanceInput {
                    predicate_type: predicate_type.to_owned(),
                    source: source.to_owned(),
                    verified,
                    builder_allowed: builder_allowed(builder.as_deref()),
                    builder,
                    build_type: p
                        .pointer("/buildDefinition/buildType")
                        .or_else(|| p.pointer("/buildType"))
                        .and_then(serde_json::Value::as_str)
                        .map(str::to_owned),
                    source_repository: repository,
                    source_revision: revision,
                },
                p.clone(),
            ));
        };
    if let AnySource::Registry(registry) = source {
        let found = crate::signatures::read_all(registry, digest).await?;
        signatures = check_signatures(&found.signatures, registry, digest, ctx.trusted);
        // Attestations: verified when any trusted signer verifies them.
        let mut verified: BTreeMap<String, (String, customs_sign::intoto::Statement)> =
            BTreeMap::new();
        for t in ctx.trusted {
            let v = customs_sign::verify_attestations(&found.attestations, t.trust, digest, None);
            for a in v.attestations {
                if let (true, Some(statement)) = (a.check.verified, a.statement) {
                    verified
                        .entry(a.check.source.clone())
                        .or_insert((t.signer_name(a.signer.as_deref()), statement));
                }
            }
        }
        for layer in &found.attestations {
            let hit = verified.get(&layer.source);
            let predicate_type = hit
                .map(|(_, s)| s.predicate_type.clone())
                .or_else(|| layer.annotations.get("predicateType").cloned())
                .unwrap_or_default();
            attestations.push(AttestationInput {
                predicate_type: predicate_type.clone(),
                source: layer.source.clone(),
                verified: hit.is_some(),
                signer: hit.map(|(s, _)| s.clone()),
            });
            match hit {
                Some((_, statement))
                    if statement
                        .predicate_type
                        .starts_with("https://openvex.dev/ns") =>
                {
                    // Signed VEX: its statements count like --vex documents.
                    let bytes = serde_json::to_vec(&statement.predicate).unwrap_or_default();
                    vex.extend(customs_policy::vex::parse(&layer.source, &bytes)?);
                }
                Some((_, statement)) => add_provenance(
                    &statement.predicate_type,
                    &statement.predicate,
                    &layer.source,
                    true,
                ),
                // Unverified: present, unread, and the rule says it is unsigned.
                None => add_provenance(
                    &predicate_type,
                    &serde_json::Value::Null,
                    &layer.source,
                    false,
                ),
            }
        }
    } else {
        signatures.outcome =
            "signatures are only read from a registry: gate the image by its registry reference"
                .to_owned();
    }
    // BuildKit's own attestations, unsigned.
    for b in crate::attestations::buildkit(source, image).await? {
        let Some(statement) = &b.statement else {
            continue;
        };
        if b.problem.is_some() {
            continue;
        }
        attestations.push(AttestationInput {
            predicate_type: statement.predicate_type.clone(),
            source: b.source.clone(),
            verified: false,
            signer: None,
        });
        add_provenance(
            &statement.predicate_type,
            &statement.predicate,
            &b.source,
            false,
        );
    }
    Ok(Attached {
        signatures,
        attestations,
        provenance,
        vex,
    })
}

fn base_input(detected: DetectedBase, config: &Environment, now: i64) -> BaseImageInput {
    let entry = detected.entry.as_ref();
    let created = entry.and_then(|e| e.created.clone());
    let age_days = created
        .as_deref()
        .and_then(|c| customs_types::time::days_since(c, now));
    let repository = |name: &str| {
        customs_oci::RegistryRef::parse(name)
            .map(|r| r.name())
            .unwrap_or_else(|_| name.to_owned())
    };
    let on_list = config.base_images.iter().any(|allowed| {
        detected.digest.as_deref() == Some(allowed.as_str())
            || detected.name.as_deref().is_some_and(|n| {
                customs_policy::matching::glob_matches(allowed, &repository(n))
                    || customs_policy::matching::glob_matches(allowed, n)
            })
    });
    BaseImageInput {
        name: detected
            .name
            .clone()
            .or_else(|| entry.map(|e| e.name.clone())),
        digest: detected
            .digest
            .clone()
            .or_else(|| entry.map(|e| e.digest.clone())),
        detected_by: detected.detected_by.to_owned(),
        created,
        age_days,
        owner: entry.and_then(|e| e.owner.clone()),
        approved: on_list || entry.is_some_and(|e| e.approved),
    }
}

/// Builds the policy input document of an image whose evidence (one walk)
/// and vulnerability matches are at hand.
///
/// # Errors
/// [`PipelineError`] when the signatures or attestations cannot be read.
pub async fn input(
    source: &AnySource,
    image: &Image,
    evidence: &Evidence,
    matches: &MatchReport,
    ctx: &GateContext<'_>,
) -> Result<PolicyInput, PipelineError> {
    let digest = image.manifest_digest.to_string();
    let Attached {
        signatures,
        attestations,
        provenance,
        vex: attached_vex,
    } = attachments(source, image, ctx).await?;
    let predicates: Vec<&serde_json::Value> = provenance.iter().map(|(_, p)| p).collect();
    let merged;
    let vex = if attached_vex.is_empty() {
        ctx.vex
    } else {
        let mut all = ctx.vex.clone();
        all.extend(attached_vex);
        merged = all;
        &merged
    };
    let base = crate::base::detect(image, &predicates, ctx.bases)
        .map(|d| base_input(d, ctx.config, ctx.now));
    let (vulnerabilities, suppressed) = vulnerabilities(matches, &digest, vex, ctx.kev);
    let lint = customs_checks::image_config::check(
        &image.config,
        &customs_checks::image_config::Options {
            allowed_ports: ctx.config.ports.clone(),
        },
        customs_checks::secrets::SecretScanner::shared(),
    );
    Ok(PolicyInput {
        schema_version: customs_policy::input::SCHEMA_VERSION,
        evaluated_at: customs_sbom::rfc3339(u64::try_from(ctx.now).unwrap_or(0)),
        now: ctx.now,
        environment: EnvironmentInput {
            name: ctx.environment.to_owned(),
            profile: ctx.config.profile(ctx.environment).to_owned(),
            config: ctx.config.clone(),
        },
        image: image_input(ctx.reference, image),
        sbom: sbom_input(&evidence.sbom, "generated"),
        vulnerabilities,
        suppressed,
        secrets: evidence.secrets.findings.iter().map(check).collect(),
        lint: lint.iter().map(check).collect(),
        manifests: ctx.manifests.iter().map(check).collect(),
        licenses: customs_policy::licenses::judge(&ctx.config.licenses, &evidence.sbom),
        signatures,
        attestations,
        provenance: provenance.into_iter().map(|(p, _)| p).collect(),
        base_image: base,
        base_catalogue: ctx.bases.bases.len(),
        previous: ctx.previous.clone(),
        blocked: ctx.blocked.clone(),
        database: ctx.database.clone(),
    })
}

/// The gate rule a finding would be reported under (so that an exception
/// naming one applies the same way in `scan` as in `gate`).
fn rule_of(f: &customs_vuln::Finding) -> &'static str {
    use customs_types::Severity;
    match (f.severity(), f.fix_state) {
        (Severity::Critical, FixState::Fixed) => "critical-vulnerability",
        (Severity::High, FixState::Fixed) => "high-vulnerability",
        _ => "vulnerability",
    }
}

/// Who a scan's findings are suppressed for.
pub struct Suppression<'a> {
    /// VEX statements.
    pub vex: &'a VexSet,
    /// Exceptions.
    pub exceptions: &'a customs_policy::Exceptions,
    /// The environment exceptions are scoped to, if any.
    pub environment: Option<&'a str>,
    /// Today (days since the epoch).
    pub today: i64,
}

/// Moves the findings VEX says are `not_affected`/`fixed`, and those an
/// active exception waives, out of `matches`; returns them with why, and
/// the exceptions that would have applied had they not expired. The same
/// matching as the gate's, so `scan` and `gate` cannot disagree.
#[must_use]
pub fn suppress(
    matches: &mut MatchReport,
    digest: Option<&str>,
    repository: Option<&str>,
    how: &Suppression<'_>,
) -> (
    Vec<customs_report::scan::Suppressed>,
    Vec<customs_policy::decision::ExpiredException>,
) {
    let mut suppressed = Vec::new();
    let mut expired: Vec<customs_policy::decision::ExpiredException> = Vec::new();
    let mut kept = Vec::new();
    for f in std::mem::take(&mut matches.findings) {
        let ids = ids(&f);
        if let Some(s) = how.vex.decide(&FindingRef {
            ids: &ids,
            purl: &f.package.purl,
            image_digest: digest,
        }) && s.status.suppresses()
        {
            let reason = format!(
                "{}{} in {}",
                s.status.as_str(),
                s.justification
                    .as_deref()
                    .map_or_else(String::new, |j| format!(" ({j})")),
                s.document
            );
            suppressed.push(customs_report::scan::Suppressed {
                finding: f,
                suppressed_by: "vex",
                reason,
            });
            continue;
        }
        let subject = customs_policy::exceptions::Subject {
            rule: rule_of(&f),
            vulnerabilities: &ids,
            package: Some(&f.package.purl),
            digest: digest.unwrap_or(""),
            repository,
            environment: how.environment.unwrap_or(""),
        };
        // Without --env, `covers` leaves out the exceptions scoped to one.
        match how.exceptions.covering(&subject, how.today) {
            (Some(e), _) => suppressed.push(customs_report::scan::Suppressed {
                finding: f,
                suppressed_by: "exception",
                reason: format!("{} (expires {}): {}", e.id, e.expires, e.justification),
            }),
            (None, Some(e)) => {
                customs_policy::decision::ExpiredException::note(&mut expired, e);
                kept.push(f);
            }
            (None, None) => kept.push(f),
        }
    }
    matches.findings = kept;
    (suppressed, expired)
}
