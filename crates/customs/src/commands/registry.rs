//! `customs registry audit | prune`: registry governance.

use std::collections::BTreeSet;

use anyhow::Context as _;
use customs_cli::{
    Format, GlobalArgs, RegistryAuditArgs, RegistryCommand, RegistryPruneArgs, SourceArgs,
};
use customs_oci::{AnySource, RegistrySource, Target};
use customs_pipeline::governance::{PruneRule, TagInfo, plan_prune};
use customs_types::Digest;
use serde::Serialize;

use crate::exit::ExitStatus;

pub(crate) async fn run(
    command: RegistryCommand,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    match command {
        RegistryCommand::Audit(args) => audit(&args, global).await,
        RegistryCommand::Prune(args) => prune(&args, global).await,
    }
}

/// A registry source for `reference`; anonymous (no Docker config, no
/// credentials) when asked.
fn source(reference: &str, args: &SourceArgs, anonymous: bool) -> anyhow::Result<RegistrySource> {
    let mut args = args.clone();
    if anonymous {
        args.no_docker_config = true;
        args.username = None;
        args.password_stdin = false;
    }
    let (_, target, _) = super::open(reference, &args)?;
    match target {
        Target::Image(AnySource::Registry(registry)) => Ok(registry),
        _ => anyhow::bail!("`{reference}` is not a registry repository"),
    }
}

/// One audit result.
#[derive(Debug, Serialize)]
struct Finding {
    target: String,
    check: &'static str,
    /// `pass`, `info`, `warn` or `fail`.
    level: &'static str,
    detail: String,
}

fn finding(
    target: &str,
    check: &'static str,
    level: &'static str,
    detail: impl Into<String>,
) -> Finding {
    Finding {
        target: target.to_owned(),
        check,
        level,
        detail: detail.into(),
    }
}

#[allow(clippy::too_many_lines)]
async fn audit(args: &RegistryAuditArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let release = regex::Regex::new(
        args.release_pattern
            .as_deref()
            .unwrap_or(customs_pipeline::ledger::RELEASE_PATTERN),
    )
    .context("--release-pattern is not a regular expression")?;
    let store = super::ledger::open_store(global).await?;
    let mut findings = Vec::new();
    for target in &args.targets {
        let (registry, repositories) = match target.split_once('/') {
            Some((registry, _)) => (registry.to_owned(), vec![target.clone()]),
            None => (target.clone(), store.repositories_of(target).await?),
        };
        if repositories.is_empty() {
            findings.push(finding(
                target,
                "repositories",
                "warn",
                "the store knows no repository of this registry: name them (REGISTRY/REPO)",
            ));
            continue;
        }
        let first = &repositories[0];
        // Anonymous pull: the tag list without credentials.
        let anonymous = source(&format!("{first}:latest"), &args.source, true)?;
        match anonymous.tags().await {
            Ok(tags) => findings.push(finding(
                &registry,
                "anonymous pull",
                "warn",
                format!(
                    "allowed: anyone can list and pull {first} ({} tags)",
                    tags.len()
                ),
            )),
            Err(e) => findings.push(finding(
                &registry,
                "anonymous pull",
                "pass",
                format!("refused ({})", first_line(&e.to_string())),
            )),
        }
        // Anonymous push: a throwaway blob, removed after.
        let probe = format!("customs registry audit probe {}", customs_store::now());
        match anonymous
            .push_blob("application/octet-stream", probe.as_bytes())
            .await
        {
            Ok(descriptor) => {
                let authed = source(&format!("{first}:latest"), &args.source, false)?;
                let cleaned = match authed.delete_blob(&descriptor.digest).await {
                    Ok(_) => "removed".to_owned(),
                    Err(e) => match anonymous.delete_blob(&descriptor.digest).await {
                        Ok(_) => "removed".to_owned(),
                        Err(_) => format!(
                            "NOT removed ({}): delete blob {} by hand",
                            first_line(&e.to_string()),
                            descriptor.digest
                        ),
                    },
                };
                findings.push(finding(
                    &registry,
                    "anonymous push",
                    "fail",
                    format!(
                        "ALLOWED: a blob pushed without credentials was accepted; probe {cleaned}"
                    ),
                ));
            }
            Err(e) => findings.push(finding(
                &registry,
                "anonymous push",
                "pass",
                format!("refused ({})", first_line(&e.to_string())),
            )),
        }
        let mut referrers_checked = false;
        let mut environments_by_repository = Vec::new();
        let deployments = store.deployments(None, true).await?;
        for repository in &repositories {
            let authed = source(&format!("{repository}:latest"), &args.source, false)?;
            let tags = authed
                .tags()
                .await
                .with_context(|| format!("cannot list the tags of {repository}"))?;
            let releases: Vec<&String> = tags.iter().filter(|t| release.is_match(t)).collect();
            // Moved release tags: the store saw them on two digests.
            for (tag, seen) in store.tag_history(repository).await? {
                if release.is_match(&tag) && seen.len() > 1 {
                    let digests: Vec<String> = seen
                        .iter()
                        .map(|(d, at)| format!("{d} (seen {at})"))
                        .collect();
                    findings.push(finding(
                        repository,
                        "release tag moved",
                        "fail",
                        format!("{tag} pointed at {}", digests.join(", then ")),
                    ));
                }
            }
            let (mut unsigned, mut unattested) = (Vec::new(), Vec::new());
            for tag in &releases {
                let Some(digest) = authed.tag_digest(tag).await? else {
                    continue;
                };
                if !referrers_checked {
                    let level_detail = match authed.has_referrers_api(&digest).await {
                        Ok(true) => ("pass", "the OCI 1.1 referrers API answers".to_owned()),
                        Ok(false) => ("info", "no referrers API: signatures and attestations use tags (sha256-….sig/.att) and the referrers tag schema".to_owned()),
                        Err(e) => ("warn", format!("could not be asked: {}", first_line(&e.to_string()))),
                    };
                    findings.push(finding(
                        &registry,
                        "referrers API",
                        level_detail.0,
                        level_detail.1,
                    ));
                    referrers_checked = true;
                }
                let attached = customs_pipeline::signatures::read_all(&authed, &digest).await?;
                if attached.signatures.is_empty() {
                    unsigned.push((*tag).clone());
                }
                if attached.attestations.is_empty() {
                    unattested.push((*tag).clone());
                }
            }
            findings.push(if releases.is_empty() {
                finding(repository, "release tags signed", "info", "no release tag")
            } else if unsigned.is_empty() {
                finding(
                    repository,
                    "release tags signed",
                    "pass",
                    format!("all {} signed", releases.len()),
                )
            } else {
                finding(
                    repository,
                    "release tags signed",
                    "fail",
                    format!("unsigned: {}", unsigned.join(", ")),
                )
            });
            if !releases.is_empty() {
                findings.push(if unattested.is_empty() {
                    finding(
                        repository,
                        "release tags attested",
                        "pass",
                        format!("all {} have attestations", releases.len()),
                    )
                } else {
                    finding(
                        repository,
                        "release tags attested",
                        "warn",
                        format!("no attestation: {}", unattested.join(", ")),
                    )
                });
            }
            let environments: BTreeSet<&str> = deployments
                .iter()
                .filter(|d| {
                    d.reference.starts_with(&format!("{repository}:"))
                        || d.reference.starts_with(&format!("{repository}@"))
                })
                .map(|d| d.environment.as_str())
                .collect();
            environments_by_repository.push((repository.clone(), environments.len()));
            if environments.len() > 1 && environments.contains("prod") {
                findings.push(finding(
                    repository,
                    "environments separated",
                    "warn",
                    format!(
                        "one repository serves {}: keep production images in their own repository",
                        environments.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            } else if !environments.is_empty() {
                findings.push(finding(
                    repository,
                    "environments separated",
                    "pass",
                    format!(
                        "deployed to {} only",
                        environments.into_iter().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
    }
    let failed = findings.iter().any(|f| f.level == "fail");
    match args.output {
        Format::Json => crate::render::json(&findings)?,
        Format::Table => {
            let rows: Vec<Vec<String>> = findings
                .iter()
                .map(|f| {
                    vec![
                        f.target.clone(),
                        f.check.to_owned(),
                        f.level.to_uppercase(),
                        f.detail.clone(),
                    ]
                })
                .collect();
            crate::render::text(
                customs_report::columns::render(&["TARGET", "CHECK", "RESULT", "DETAIL"], &rows)
                    .trim_end(),
            )?;
        }
    }
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn first_line(text: &str) -> &str {
    text.lines().next().unwrap_or(text)
}

async fn prune(args: &RegistryPruneArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    anyhow::ensure!(
        args.repository.contains('/')
            && !args.repository.contains('@')
            && !args
                .repository
                .rsplit('/')
                .next()
                .unwrap_or("")
                .contains(':'),
        "{}: give REGISTRY/REPOSITORY, without a tag",
        args.repository
    );
    anyhow::ensure!(
        args.keep_last > 0 || args.older_than.is_some(),
        "say what to keep: --keep-last N and/or --older-than DURATION"
    );
    let older_than = args
        .older_than
        .as_deref()
        .map(|d| super::serve::duration(d).map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX)))
        .transpose()?;
    let store = super::ledger::open_store(global).await?;
    let registry = source(&format!("{}:latest", args.repository), &args.source, false)?;
    let names = registry
        .tags()
        .await
        .with_context(|| format!("cannot list the tags of {}", args.repository))?;
    let mut tags = Vec::new();
    for tag in names
        .iter()
        .filter(|t| !customs_pipeline::signatures::is_attachment_tag(t))
    {
        // The image gives the digest its tag names and its creation time
        // at once; what is no image has no time (and is kept).
        let (digest, created) =
            match super::open_image(&format!("{}:{tag}", args.repository), &args.source).await {
                Ok((_, image)) => (
                    image.resolved_digest().clone(),
                    image
                        .config
                        .created
                        .as_deref()
                        .and_then(customs_types::time::parse_rfc3339)
                        .map(|ns| ns.div_euclid(1_000_000_000)),
                ),
                Err(_) => match registry.tag_digest(tag).await? {
                    Some(digest) => (digest, None),
                    None => continue,
                },
            };
        tags.push(TagInfo {
            tag: tag.clone(),
            digest,
            created,
        });
    }
    // What must stay: released or deployed digests.
    let mut protected = std::collections::HashMap::new();
    for t in &tags {
        if protected.contains_key(&t.digest) {
            continue;
        }
        let releases = store.releases_of(&t.digest).await?;
        let deployments = store.deployments_of(&t.digest).await?;
        let why = if let Some(r) = releases.first() {
            Some(format!("released as {} {}", r.service, r.version))
        } else {
            deployments
                .iter()
                .find(|d| d.current())
                .map(|d| format!("deployed in {}/{}", d.environment, d.service))
        };
        protected.insert(t.digest.clone(), why);
    }
    let rule = PruneRule {
        matching: args.matching.clone(),
        keep_last: args.keep_last,
        older_than,
        now: i64::try_from(customs_types::time::timestamp()).unwrap_or(i64::MAX),
    };
    let plan = plan_prune(&tags, &rule, &|d: &Digest| {
        protected.get(d).cloned().flatten()
    });
    let mut deleted = Vec::new();
    if args.delete {
        for digest in customs_pipeline::governance::doomed(&plan) {
            let digest = Digest::parse(&digest)?;
            // Signatures, attestations, SBOMs and referrers first.
            let mut attached = Vec::new();
            for suffix in ["sig", "att", "sbom"] {
                let tag = format!("{}.{suffix}", customs_oci::referrers_tag(&digest));
                if let Some(d) = registry.tag_digest(&tag).await? {
                    attached.push(d);
                }
            }
            for referrer in registry.referrers(&digest, None).await? {
                attached.push(referrer.digest);
            }
            if let Some(d) = registry
                .tag_digest(&customs_oci::referrers_tag(&digest))
                .await?
            {
                attached.push(d);
            }
            for d in &attached {
                registry
                    .delete_manifest(d)
                    .await
                    .with_context(|| format!("cannot delete {d}, attached to {digest}"))?;
            }
            registry
                .delete_manifest(&digest)
                .await
                .with_context(|| format!("cannot delete {}@{digest}", args.repository))?;
            deleted.push(
                serde_json::json!({"digest": digest.to_string(), "attached": attached.len()}),
            );
        }
    }
    match args.output {
        Format::Json => crate::render::json(
            &serde_json::json!({"repository": args.repository, "deleted": args.delete, "plan": plan, "removed": deleted}),
        )?,
        Format::Table => {
            let rows: Vec<Vec<String>> = plan
                .iter()
                .map(|p| {
                    vec![
                        p.tag.clone(),
                        p.digest.get(..19).unwrap_or(&p.digest).to_owned(),
                        if p.delete {
                            if args.delete {
                                "DELETED"
                            } else {
                                "would delete"
                            }
                        } else {
                            "keep"
                        }
                        .to_owned(),
                        p.why.clone(),
                    ]
                })
                .collect();
            crate::render::text(
                customs_report::columns::render(&["TAG", "DIGEST", "ACTION", "WHY"], &rows)
                    .trim_end(),
            )?;
            if !args.delete && plan.iter().any(|p| p.delete) {
                super::warn_info("a dry run: nothing was deleted (--delete deletes)");
            }
        }
    }
    Ok(ExitStatus::Success)
}
