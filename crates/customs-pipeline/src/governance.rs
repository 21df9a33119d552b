//! Registry governance: which tags of a repository a lifecycle rule
//! deletes, and which it must keep. Nothing released, deployed, or also
//! named by a tag that stays is ever deleted (deleting a manifest deletes
//! every tag on it).

use std::collections::{BTreeMap, BTreeSet};

use customs_types::Digest;
use serde::Serialize;

/// A tag of the repository, what it points at and when that was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TagInfo {
    pub tag: String,
    pub digest: Digest,
    /// The image config's `created` (seconds since the epoch), if any.
    pub created: Option<i64>,
}

/// The lifecycle rule.
#[derive(Debug, Clone)]
pub struct PruneRule {
    /// Tags the rule is about (globs); every tag when empty.
    pub matching: Vec<String>,
    /// Keep this many of the newest matching tags whatever their age.
    pub keep_last: usize,
    /// Only tags made more than this many seconds ago may go.
    pub older_than: Option<i64>,
    /// Now (seconds since the epoch).
    pub now: i64,
}

/// What happens to one tag.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TagPlan {
    pub tag: String,
    pub digest: String,
    pub delete: bool,
    /// Why it goes or stays.
    pub why: String,
}

/// The plan for every tag: deletions first, by age; then what stays.
/// `protected` says why a digest must stay (released, deployed), if it
/// must.
pub fn plan_prune(
    tags: &[TagInfo],
    rule: &PruneRule,
    protected: &dyn Fn(&Digest) -> Option<String>,
) -> Vec<TagPlan> {
    let matches = |tag: &str| {
        rule.matching.is_empty()
            || rule
                .matching
                .iter()
                .any(|g| customs_policy::matching::glob_matches(g, tag))
    };
    let mut candidates: Vec<&TagInfo> = tags.iter().filter(|t| matches(&t.tag)).collect();
    // Newest first; tags without a creation time last (kept, without
    // taking a place among the newest).
    candidates.sort_by(|a, b| {
        b.created
            .unwrap_or(i64::MIN)
            .cmp(&a.created.unwrap_or(i64::MIN))
            .then_with(|| a.tag.cmp(&b.tag))
    });
    let mut plans: BTreeMap<&str, TagPlan> = BTreeMap::new();
    let keep = |t: &TagInfo, why: String| TagPlan {
        tag: t.tag.clone(),
        digest: t.digest.to_string(),
        delete: false,
        why,
    };
    for t in tags.iter().filter(|t| !matches(&t.tag)) {
        plans.insert(&t.tag, keep(t, "does not match the rule".to_owned()));
    }
    for (rank, t) in candidates.iter().enumerate() {
        let plan = if t.created.is_none() {
            keep(t, "its image has no creation time".to_owned())
        } else if rank < rule.keep_last {
            keep(t, format!("one of the {} newest", rule.keep_last))
        } else if let Some(age) = rule.older_than
            && t.created.is_some_and(|c| c > rule.now - age)
        {
            keep(t, "younger than the rule's age".to_owned())
        } else if let Some(why) = protected(&t.digest) {
            keep(t, why)
        } else {
            TagPlan {
                tag: t.tag.clone(),
                digest: t.digest.to_string(),
                delete: true,
                why: format!(
                    "made {} days ago",
                    (rule.now - t.created.unwrap_or(rule.now)).div_euclid(86_400)
                ),
            }
        };
        plans.insert(&t.tag, plan);
    }
    // A digest a kept tag also names stays (deleting it would take that
    // tag with it).
    let kept: BTreeMap<String, String> = plans
        .values()
        .filter(|p| !p.delete)
        .map(|p| (p.digest.clone(), p.tag.clone()))
        .collect();
    for plan in plans.values_mut().filter(|p| p.delete) {
        if let Some(other) = kept.get(&plan.digest) {
            plan.delete = false;
            plan.why = format!("its digest is also tagged {other}, which stays");
        }
    }
    let mut out: Vec<TagPlan> = plans.into_values().collect();
    out.sort_by(|a, b| b.delete.cmp(&a.delete).then_with(|| a.tag.cmp(&b.tag)));
    out
}

/// The digests a plan deletes, each once.
#[must_use]
pub fn doomed(plan: &[TagPlan]) -> BTreeSet<String> {
    plan.iter()
        .filter(|p| p.delete)
        .map(|p| p.digest.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: i64 = 86_400;

    fn tag(name: &str, n: u8, age_days: Option<i64>) -> TagInfo {
        TagInfo {
            tag: name.to_owned(),
            digest: Digest::sha256(&[n]),
            created: age_days.map(|d| 100 * DAY - d * DAY),
        }
    }

    #[test]
    fn keeps_the_newest_the_young_the_protected_and_what_kept_tags_name() {
        let tags = vec![
            tag("feature-a", 1, Some(90)),
            tag("feature-b", 2, Some(60)),
            tag("feature-c", 3, Some(40)),
            tag("feature-d", 4, Some(5)),
            tag("feature-e", 5, Some(1)),
            tag("feature-f", 6, Some(70)),
            tag("feature-g", 7, None),
            tag("1.4.2", 2, Some(60)),
            tag("main", 8, Some(200)),
        ];
        let rule = PruneRule {
            matching: vec!["feature-*".to_owned()],
            keep_last: 2,
            older_than: Some(30 * DAY),
            now: 100 * DAY,
        };
        let released = Digest::sha256(&[3]);
        let plan = plan_prune(&tags, &rule, &|d| {
            (*d == released).then(|| "released as shop 1.0".to_owned())
        });
        let of = |t: &str| plan.iter().find(|p| p.tag == t).unwrap();
        assert!(of("feature-a").delete && of("feature-f").delete);
        assert_eq!(of("feature-a").why, "made 90 days ago");
        assert_eq!(of("feature-g").why, "its image has no creation time");
        assert_eq!(of("feature-e").why, "one of the 2 newest");
        assert_eq!(of("feature-d").why, "one of the 2 newest");
        assert_eq!(of("feature-c").why, "released as shop 1.0");
        assert_eq!(
            of("feature-b").why,
            "its digest is also tagged 1.4.2, which stays"
        );
        assert_eq!(of("main").why, "does not match the rule");
        assert!(!of("main").delete, "old but outside the rule");
        assert_eq!(
            doomed(&plan),
            BTreeSet::from([
                Digest::sha256(&[1]).to_string(),
                Digest::sha256(&[6]).to_string()
            ])
        );
        assert!(
            plan[0].delete && plan[1].delete && !plan[2].delete,
            "deletions first"
        );
        // Younger than the age: kept even beyond keep-last.
        let young = PruneRule {
            keep_last: 0,
            older_than: Some(100 * DAY),
            ..rule
        };
        assert!(
            plan_prune(&tags, &young, &|_| None)
                .iter()
                .all(|p| !p.delete)
        );
    }
}
