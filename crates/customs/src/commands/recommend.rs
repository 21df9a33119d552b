//! `customs recommend REF`: as `docker scout recommendations` does, find
//! newer tags of the image's base repository, scan each candidate, and show
//! what moving to it fixes and introduces, its size and age, recommending
//! the one with the fewest critical and high findings (on a tie, the same
//! major line first, then the newest).

use std::collections::BTreeSet;

use anyhow::Context as _;
use customs_cli::{Format, GlobalArgs, RecommendArgs};
use customs_oci::{AnySource, RegistryRef, Target};
use customs_types::Severity;
use serde::Serialize;

use crate::exit::ExitStatus;
use crate::render;

/// A tag read as a version: its numeric components and the rest
/// (`3.19.1-slim` is `[3, 19, 1]` and `-slim`).
fn version(tag: &str) -> Option<(Vec<u64>, String)> {
    let tag = tag.strip_prefix('v').unwrap_or(tag);
    let end = tag
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(tag.len());
    let (numbers, rest) = tag.split_at(end);
    let parts: Vec<u64> = numbers
        .split('.')
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    (!parts.is_empty()).then(|| (parts, rest.to_owned()))
}

/// A candidate and what its scan says.
#[derive(Debug, Clone, Serialize)]
struct Candidate {
    tag: String,
    digest: String,
    current: bool,
    same_line: bool,
    critical: usize,
    high: usize,
    total: usize,
    fixed: usize,
    introduced: usize,
    size: u64,
    created: Option<String>,
    age_days: Option<i64>,
}

/// What one base tag holds: its findings as (id, package) pairs.
async fn scan(
    reference: &str,
    args: &RecommendArgs,
    index: &customs_vuln::VulnIndex,
    global: &GlobalArgs,
) -> anyhow::Result<(Candidate, BTreeSet<(String, String)>)> {
    let (sbom, image) = super::make_sbom(reference, &args.source, &[], global).await?;
    let image = image.context("a base image")?;
    let matches = tokio::task::block_in_place(|| customs_vuln::match_sbom(index, &sbom))?;
    let findings: BTreeSet<(String, String)> = matches
        .findings
        .iter()
        .map(|f| (f.id.clone(), f.package.name.clone()))
        .collect();
    let count = |s: Severity| {
        matches
            .findings
            .iter()
            .filter(|f| f.severity() == s)
            .count()
    };
    let now = i64::try_from(customs_sbom::timestamp())?;
    let created = image.config.created.clone();
    let age_days = created
        .as_deref()
        .and_then(|c| customs_types::time::days_since(c, now));
    Ok((
        Candidate {
            tag: String::new(),
            digest: image.manifest_digest.to_string(),
            current: false,
            same_line: false,
            critical: count(Severity::Critical),
            high: count(Severity::High),
            total: matches.findings.len(),
            fixed: 0,
            introduced: 0,
            size: image.compressed_size(),
            created,
            age_days,
        },
        findings,
    ))
}

pub(crate) async fn run(args: RecommendArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let index = super::scan::open_index(&super::db_dir(&args.db))?;
    let base_name = match &args.base {
        Some(b) => b.clone(),
        None => {
            let catalogue = customs_pipeline::base::BaseCatalogue::load(
                &super::policy::catalogue_path(args.catalogue.path.as_deref()),
            )?;
            let (source, image) = super::open_image(&args.image, &args.source).await?;
            customs_pipeline::base::detect_image(&source, &image, &catalogue)
                .await?
                .and_then(|d| d.name)
                .with_context(|| {
                    format!(
                        "the base image of {} is unknown: give it with --base REF (or record it with `customs base add`)",
                        args.image
                    )
                })?
        }
    };
    let base = RegistryRef::parse(base_name.trim_start_matches("registry:"))
        .with_context(|| format!("the base image {base_name} is not a registry image"))?;
    let current_tag = base
        .tag()
        .with_context(|| format!("the base image {base_name} has no tag to compare versions with"))?
        .to_owned();
    let (current_version, variant) = version(&current_tag).with_context(|| {
        format!("the base tag `{current_tag}` is not a version (like 12.1 or 3.19-slim)")
    })?;
    let (_, target, _) = super::open(
        &format!("registry:{}:{current_tag}", base.name()),
        &args.source,
    )?;
    let Target::Image(AnySource::Registry(registry)) = target else {
        anyhow::bail!("{base_name} is not a registry image");
    };
    let mut tags: Vec<(Vec<u64>, String)> = registry
        .tags()
        .await?
        .into_iter()
        .filter_map(|t| {
            let (v, rest) = version(&t)?;
            // Same variant, as precise as the current tag, not older.
            (rest == variant && v.len() == current_version.len() && v >= current_version)
                .then_some((v, t))
        })
        .collect();
    tags.sort();
    tags.dedup();
    // The newest candidates (and the current tag) only.
    let keep = args.max_candidates.max(1);
    let mut chosen: Vec<(Vec<u64>, String)> = tags
        .iter()
        .rev()
        .filter(|(_, t)| *t != current_tag)
        .take(keep)
        .cloned()
        .collect();
    chosen.push((current_version.clone(), current_tag.clone()));
    chosen.sort();
    let mut candidates = Vec::new();
    let mut current_findings = BTreeSet::new();
    let mut scans = Vec::new();
    for (v, tag) in &chosen {
        let reference = format!("registry:{}:{tag}", base.name());
        let (mut c, findings) = scan(&reference, &args, &index, global).await?;
        c.tag.clone_from(tag);
        c.current = *tag == current_tag;
        c.same_line = v.first() == current_version.first();
        if c.current {
            current_findings.clone_from(&findings);
        }
        scans.push((c, findings));
    }
    for (mut c, findings) in scans {
        c.fixed = current_findings.difference(&findings).count();
        c.introduced = findings.difference(&current_findings).count();
        candidates.push(c);
    }
    let best = candidates
        .iter()
        .min_by_key(|c| {
            (
                c.critical,
                c.high,
                c.total,
                // On a tie, staying on the same major line is the smaller move.
                !c.same_line,
                std::cmp::Reverse(version(&c.tag).map(|(v, _)| v).unwrap_or_default()),
            )
        })
        .map(|c| c.tag.clone());
    match args.output {
        Format::Json => render::json(&serde_json::json!({
            "image": args.image,
            "base": base_name,
            "recommended": best,
            "candidates": candidates,
        }))?,
        Format::Table => {
            let mut t = render::table(&[
                "TAG", "DIGEST", "CRITICAL", "HIGH", "TOTAL", "FIXED", "NEW", "SIZE", "AGE", "NOTE",
            ]);
            for c in candidates.iter().rev() {
                let mut note = Vec::new();
                if c.current {
                    note.push("current");
                }
                if Some(&c.tag) == best.as_ref() {
                    note.push("RECOMMENDED");
                }
                if !c.same_line {
                    note.push("major upgrade");
                }
                t.add_row(render::row([
                    c.tag.clone(),
                    c.digest.get(..19).unwrap_or(&c.digest).to_owned(),
                    c.critical.to_string(),
                    c.high.to_string(),
                    c.total.to_string(),
                    c.fixed.to_string(),
                    c.introduced.to_string(),
                    render::size(c.size),
                    c.age_days
                        .map_or_else(|| "-".to_owned(), |d| format!("{d}d")),
                    note.join(", "),
                ]));
            }
            let summary = match candidates.iter().find(|c| Some(&c.tag) == best.as_ref()) {
                Some(c) if c.current => format!(
                    "{base_name} is already the best of {} candidates",
                    candidates.len()
                ),
                Some(c) => format!(
                    "Recommended: {}:{} — fixes {}, introduces {} vulnerabilities ({} critical, {} high left)",
                    base.name(),
                    c.tag,
                    c.fixed,
                    c.introduced,
                    c.critical,
                    c.high
                ),
                None => "no candidates".to_owned(),
            };
            render::text(&format!(
                "Base image of {}: {base_name}\n\n{}\n\n{summary}",
                args.image,
                t.trim_fmt()
            ))?;
        }
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    #[test]
    fn tags_as_versions() {
        assert_eq!(
            super::version("3.19.1-slim"),
            Some((vec![3, 19, 1], "-slim".to_owned()))
        );
        assert_eq!(super::version("v1.2"), Some((vec![1, 2], String::new())));
        assert_eq!(super::version("latest"), None);
        assert_eq!(super::version("bookworm"), None);
    }
}
