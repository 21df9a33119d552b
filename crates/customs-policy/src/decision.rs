//! From rule outcomes to a decision: each violation gets the level its rule
//! has in the environment, active exceptions waive what they cover, expired
//! ones are named, and the verdict is the worst level left. This one
//! function is what `gate`, `scan` and the server share, so they cannot
//! disagree about an exception.

use serde::{Deserialize, Serialize};

use crate::config::{Environment, Level};
use crate::engine::Outcome;
use crate::exceptions::{Exception, Exceptions, Subject};

/// The decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Nothing stands in the way.
    Pass,
    /// It may ship; the reasons are worth reading.
    Warn,
    /// It may not ship.
    Deny,
}

impl Verdict {
    /// `pass`, `warn`, `deny`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Warn => "warn",
            Self::Deny => "deny",
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An exception that no longer applies, named in the decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiredException {
    /// Its id.
    pub id: String,
    /// The last day it applied.
    pub expired_on: String,
    /// `exception X expired on D`.
    pub message: String,
}

impl ExpiredException {
    /// The note for `exception`.
    #[must_use]
    pub fn of(exception: &Exception) -> Self {
        Self {
            id: exception.id.clone(),
            expired_on: exception.expires.clone(),
            message: format!(
                "exception {} expired on {}",
                exception.id, exception.expires
            ),
        }
    }

    /// Adds the note for `exception` to `notes` once.
    pub fn note(notes: &mut Vec<Self>, exception: &Exception) -> Self {
        let note = Self::of(exception);
        if !notes.iter().any(|x| x.id == note.id) {
            notes.push(note.clone());
        }
        note
    }
}

/// An exception that waived something.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppliedException {
    /// Its id.
    pub id: String,
    /// The last day it applies.
    pub expires: String,
    /// Its justification.
    pub justification: String,
    /// Who approved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approver: Option<String>,
    /// How many reasons it waived.
    pub waived: usize,
}

/// One reason of a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule id (`policy-error` when a rule failed to evaluate).
    pub rule: String,
    /// The rule's level in this environment.
    pub level: Level,
    /// The rule's title.
    pub title: String,
    /// What is wrong.
    pub message: String,
    /// What it points at.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The vulnerability.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// The package (purl).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The exception that waived it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived_by: Option<String>,
    /// An exception that covered it and expired.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expired_exception: Option<ExpiredException>,
}

impl Reason {
    /// Whether it counts towards the verdict.
    #[must_use]
    pub fn counts(&self) -> bool {
        self.waived_by.is_none() && self.level != Level::Off
    }
}

/// A decision and its reasons.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// The verdict.
    pub verdict: Verdict,
    /// Every reason: counting ones first (deny, then warn), then waived ones.
    pub reasons: Vec<Reason>,
    /// Exceptions that waived something.
    pub exceptions_applied: Vec<AppliedException>,
    /// Exceptions that would have waived something had they not expired.
    pub exceptions_expired: Vec<ExpiredException>,
}

/// What a decision is about.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The environment's name.
    pub environment: &'a str,
    /// Its configuration.
    pub config: &'a Environment,
    /// The image digest.
    pub digest: &'a str,
    /// Its repository, if any.
    pub repository: Option<&'a str>,
    /// The exceptions.
    pub exceptions: &'a Exceptions,
    /// Today, as days since 1970-01-01 (injected, never read here).
    pub today: i64,
}

/// Decides; see the module documentation.
#[must_use]
pub fn decide(outcomes: &[Outcome], ctx: &Context<'_>) -> Decision {
    let mut reasons = Vec::new();
    let mut applied: Vec<AppliedException> = Vec::new();
    let mut expired: Vec<ExpiredException> = Vec::new();
    for outcome in outcomes {
        match outcome {
            Outcome::Error {
                package,
                rule,
                message,
            } => reasons.push(Reason {
                rule: "policy-error".to_owned(),
                level: Level::Deny,
                title: "A policy rule failed to evaluate".to_owned(),
                message: format!(
                    "{} ({package}) failed to evaluate, which is never a pass: {message}",
                    rule.as_deref().unwrap_or("a rule")
                ),
                evidence: Some(package.clone()),
                vulnerability: None,
                package: None,
                waived_by: None,
                expired_exception: None,
            }),
            Outcome::Rule { meta, violations } => {
                let level = meta.level_in(ctx.environment, ctx.config);
                if level == Level::Off {
                    continue;
                }
                for v in violations {
                    let mut ids: Vec<String> = v.vulnerability.iter().cloned().collect();
                    ids.extend(v.aliases.iter().cloned());
                    let subject = Subject {
                        rule: &meta.id,
                        vulnerabilities: &ids,
                        package: v.package.as_deref(),
                        digest: ctx.digest,
                        repository: ctx.repository,
                        environment: ctx.environment,
                    };
                    let (active, lapsed) = ctx.exceptions.covering(&subject, ctx.today);
                    let expired_exception = match (active, lapsed) {
                        (None, Some(e)) => Some(ExpiredException::note(&mut expired, e)),
                        _ => None,
                    };
                    if let Some(e) = active {
                        match applied.iter_mut().find(|a| a.id == e.id) {
                            Some(a) => a.waived += 1,
                            None => applied.push(AppliedException {
                                id: e.id.clone(),
                                expires: e.expires.clone(),
                                justification: e.justification.clone(),
                                approver: e.approver.clone(),
                                waived: 1,
                            }),
                        }
                    }
                    reasons.push(Reason {
                        rule: meta.id.clone(),
                        level,
                        title: meta.title.clone(),
                        message: v.message.clone(),
                        evidence: v.evidence.clone(),
                        vulnerability: v.vulnerability.clone(),
                        package: v.package.clone(),
                        waived_by: active.map(|e| e.id.clone()),
                        expired_exception,
                    });
                }
            }
        }
    }
    let verdict = reasons
        .iter()
        .filter(|r| r.counts())
        .map(|r| match r.level {
            Level::Deny => Verdict::Deny,
            Level::Warn | Level::Off => Verdict::Warn,
        })
        .max()
        .unwrap_or(Verdict::Pass);
    // Counting reasons first, deny before warn; the rules' order within.
    reasons.sort_by_key(|r| (!r.counts(), std::cmp::Reverse(r.level)));
    Decision {
        verdict,
        reasons,
        exceptions_applied: applied,
        exceptions_expired: expired,
    }
}
