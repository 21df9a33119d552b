//! `customs promote SRC DST[:TAG] --env NAME`: gate the digest for the
//! target environment (reusing a recorded decision when nothing it was
//! computed from changed), copy it with every platform, blob and referrer,
//! tag it last, read the tag back, and record the promotion.

use anyhow::Context as _;
use customs_cli::{Format, GlobalArgs, PromoteArgs};
use customs_oci::{AnySource, RegistrySource, Target};
use customs_pipeline::ledger::{PromoteError, TagPlan};
use customs_policy::{DecisionRecord, Gatekeeper, Verdict};
use customs_store::Store;
use customs_types::Digest;

use crate::exit::ExitStatus;

/// Opens a registry reference (with or without `registry:`).
fn registry(reference: &str, args: &PromoteArgs) -> anyhow::Result<RegistrySource> {
    let text = if reference.starts_with("registry:") {
        reference.to_owned()
    } else {
        format!("registry:{reference}")
    };
    let (_, target, _) = super::open(&text, &args.source_flags)?;
    let Target::Image(AnySource::Registry(source)) = target else {
        anyhow::bail!(
            "{reference}: promote copies between registries; this is not a registry image"
        );
    };
    Ok(source)
}

/// The tag a target names explicitly (`reg/repo:tag`), if any.
fn explicit_tag(target: &str) -> Option<&str> {
    let last = target.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    (!tag.is_empty() && !target.contains('@')).then_some(tag)
}

/// A recorded decision for this digest and environment computed from the
/// same policy, exceptions, advisory database and settings, still within
/// the life of the exceptions it used.
async fn reusable(
    store: &Store,
    digest: &Digest,
    env: &str,
    current: &serde_json::Value,
    today: &str,
) -> anyhow::Result<Option<(DecisionRecord, String)>> {
    let Some(record) = store.latest_record(digest, "gate", Some(env)).await? else {
        return Ok(None);
    };
    let same = ["policy", "exceptions", "database", "settings"]
        .iter()
        .all(|k| record.summary.get(*k) == current.get(*k));
    let fresh = record
        .summary
        .get("expires")
        .and_then(|e| e.as_str())
        .is_none_or(|expires| expires >= today);
    if !same || !fresh {
        return Ok(None);
    }
    Ok(super::gate::read_decision(store, &record)
        .await?
        .map(|(d, _)| (d, record.digest)))
}

pub(crate) async fn run(args: PromoteArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let release = regex::Regex::new(
        args.release_pattern
            .as_deref()
            .unwrap_or(customs_pipeline::ledger::RELEASE_PATTERN),
    )
    .context("invalid --release-pattern")?;
    let loaded = super::policy::load(&args.policy)?;
    loaded.config.environment(&args.env)?;
    let source = registry(&args.source, &args)?;
    let (_, digest) = source
        .resolve_manifest()
        .await
        .with_context(|| format!("cannot read {}", args.source))?;
    // From here on the source is its digest: the tag is never read again.
    let pinned = format!("{}@{digest}", source.reference().name());
    let source = registry(&pinned, &args)?;
    let target = registry(&args.target, &args)?;
    let tag = explicit_tag(&args.target).map(str::to_owned).or_else(|| {
        explicit_tag(&args.source)
            .map(str::to_owned)
            .filter(|_| !args.source.contains('@'))
    });
    let store = super::ledger::open_store(global).await?;
    let now = customs_sbom::rfc3339(u64::try_from(loaded.now).unwrap_or(0));
    if let Some(block) = store.block_of(&digest, &now).await? {
        super::warn(&format!(
            "{digest} is blocked ({}, by {} at {}): it is not promoted",
            block.reason, block.actor, block.at
        ));
        return Ok(ExitStatus::Failure);
    }
    // The tag is checked before anything is gated or copied.
    let plan = match customs_pipeline::ledger::plan_tag(
        &target,
        tag.as_deref(),
        &digest,
        &args.allow_mutable,
        &release,
    )
    .await
    {
        Ok(plan) => plan,
        Err(e @ (PromoteError::ImmutableTag { .. } | PromoteError::MutableTag { .. })) => {
            super::warn(&format!("{e}: nothing was copied"));
            return Ok(ExitStatus::Failure);
        }
        Err(e) => return Err(e.into()),
    };
    let index = super::scan::open_index(&super::db_dir(&args.db))?;
    let current = serde_json::json!({
        "policy": loaded.policy.digest(),
        "exceptions": loaded.exceptions.digest,
        "database": index.file_digest()?.to_string(),
        // The gate below reads the default base catalogue (no flag here).
        "settings": super::gate::settings_digest(
            &args.policy,
            &loaded,
            &super::policy::catalogue_path(None),
            &args.env,
        ),
    });
    let today = customs_types::time::format_date(loaded.now.div_euclid(86_400));
    let reused = if args.regate {
        None
    } else {
        reusable(&store, &digest, &args.env, &current, &today).await?
    };
    // The decision, and the digest of its record in the store (what the
    // promotion record points at; none with --no-record).
    let (decision, decision_record, reused) = match reused {
        Some((decision, record)) => {
            if !global.quiet {
                super::warn_info(&format!(
                    "reusing the {} decision of {} for {} (policy, exceptions, advisory database and settings unchanged; --regate to evaluate anew)",
                    decision.verdict, decision.evaluated_at, args.env
                ));
            }
            (decision, Some(record), true)
        }
        None => {
            let ask = super::gate::Ask {
                env: &args.env,
                manifest: &[],
                compare: None,
                base_catalogue: None,
                catalogers: &args.catalogers.selection,
                index: &index,
                source: &args.source_flags,
            };
            let assessed = super::gate::assess(&ask, &pinned, &loaded, global).await?;
            let gatekeeper = Gatekeeper {
                policy: &loaded.policy,
                config: &loaded.config,
                exceptions: &loaded.exceptions,
            };
            let decision = gatekeeper.evaluate(&assessed.input, &pinned)?;
            let record =
                super::gate::record_decision(&decision, &assessed, &args.policy, &loaded, global)
                    .await?;
            (decision, record.map(|r| r.digest), false)
        }
    };
    if decision.verdict == Verdict::Deny {
        crate::render::text(&customs_report::gate::table(&decision))?;
        super::warn(&format!(
            "{digest} is denied in {}: it is not promoted",
            args.env
        ));
        return Ok(ExitStatus::Failure);
    }
    let report = match customs_pipeline::ledger::promote(
        &source, &target, &digest, &plan, args.jobs,
    )
    .await
    {
        Ok(report) => report,
        Err(e @ PromoteError::ReadBack { .. }) => return Err(e.into()),
        Err(e) => {
            return Err(anyhow::Error::from(e).context(format!(
                "the promotion of {digest} to {} stopped; no tag was written (run it again to copy what is missing)",
                target.reference().name()
            )));
        }
    };
    let target_text = match plan.tag() {
        Some(tag) => format!("{}:{tag}", target.reference().name()),
        None => format!("{}@{digest}", target.reference().name()),
    };
    let copied = serde_json::json!({"copy": report, "tag": plan});
    if !global.no_record {
        store
            .record_promotion(
                &digest,
                &pinned,
                &target_text,
                &args.env,
                decision_record.as_deref(),
                &copied,
            )
            .await?;
    }
    let summary = serde_json::json!({
        "digest": digest.to_string(),
        "source": pinned,
        "target": target_text,
        "environment": args.env,
        "verdict": decision.verdict,
        "decision_reused": reused,
        "decision": decision_record,
        "copied": report,
        "tag": plan,
    });
    match args.output {
        Format::Json => crate::render::json(&summary)?,
        Format::Table => {
            let tag_line = match &plan {
                TagPlan::None => "no tag (by digest)".to_owned(),
                TagPlan::Create { tag } => format!("{tag} created"),
                TagPlan::Unchanged { tag } => format!("{tag} already there"),
                TagPlan::Move { tag, from } => format!("{tag} moved from {from}"),
            };
            crate::render::text(&format!(
                "promoted {digest}\n  from      {pinned}\n  to        {target_text}\n  gate      {} in {}{}\n  manifests {} pushed, {} present\n  blobs     {} copied ({}), {} mounted, {} present\n  referrers {}\n  tag       {tag_line}\n",
                decision.verdict,
                args.env,
                if reused {
                    " (recorded decision reused)"
                } else {
                    ""
                },
                report.manifests_pushed,
                report.manifests_present,
                report.blobs_copied,
                crate::render::size(report.bytes_copied),
                report.blobs_mounted,
                report.blobs_present,
                report.referrers,
            ))?;
        }
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_named_in_targets() {
        assert_eq!(explicit_tag("127.0.0.1:5000/prod/app:1.4.2"), Some("1.4.2"));
        assert_eq!(explicit_tag("127.0.0.1:5000/prod/app"), None);
        assert_eq!(explicit_tag("localhost:5000/app@sha256:abc"), None);
    }
}
