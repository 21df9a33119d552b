//! Policy: may this digest ship to this environment?
//!
//! The flow is: evidence (gathered by `customs-pipeline`) → [`PolicyInput`]
//! → Rego rules ([`Policy`], the built-in bundle plus the user's) →
//! [`Outcome`]s → [`decide`] with the environment's levels and the
//! [`Exceptions`] → [`Decision`], wrapped in a [`DecisionRecord`] that pins
//! what it was computed from. VEX ([`vex`]) suppresses findings before the
//! rules see them; licences ([`licenses`]) are judged in Rust, where SPDX
//! expressions can be evaluated properly.

pub mod blocklist;
pub mod config;
pub mod decision;
pub mod engine;
pub mod exceptions;
pub mod input;
pub mod kev;
pub mod licenses;
pub mod matching;
pub mod vex;

use std::path::Path;

use serde::{Deserialize, Serialize};

pub use config::{Environment, Level, PolicyConfig};
pub use decision::{Context, Decision, Reason, Verdict, decide};
pub use engine::{Outcome, Policy, RuleMeta, Violation};
pub use exceptions::{Exception, Exceptions};
pub use input::PolicyInput;

/// What went wrong reading or evaluating a policy. Each names its input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PolicyError {
    /// A `customs.toml` is not valid.
    #[error("{path}: {reason}")]
    Config {
        /// The file.
        path: String,
        /// The problem (with its line, for syntax).
        reason: String,
    },
    /// An environment that is not configured.
    #[error("unknown environment `{name}` (known: {}); add [environments.{name}] to customs.toml", known.join(", "))]
    UnknownEnvironment {
        /// The name asked.
        name: String,
        /// The ones there are.
        known: Vec<String>,
    },
    /// An exceptions file is not valid.
    #[error("{path}: {reason}")]
    Exceptions {
        /// The file.
        path: String,
        /// The entry and the problem.
        reason: String,
    },
    /// A VEX document is not valid.
    #[error("{what}: {reason}")]
    Vex {
        /// The document.
        what: String,
        /// The statement and the problem.
        reason: String,
    },
    /// A Rego file does not parse, or a rule's metadata is unusable.
    #[error("{what}: {reason}")]
    Rego {
        /// The file or package.
        what: String,
        /// The problem (regorus names the line and column).
        reason: String,
    },
    /// Another input file (block list, KEV catalogue) is not valid.
    #[error("{what}: {reason}")]
    Input {
        /// The file.
        what: String,
        /// The problem.
        reason: String,
    },
    /// A file could not be read.
    #[error("{what}: {reason}")]
    Io {
        /// The file.
        what: String,
        /// The problem.
        reason: String,
    },
}

/// Reads a UTF-8 text file of at most `max` bytes.
pub(crate) fn read_text(path: &Path, max: usize) -> Result<String, PolicyError> {
    let io = |reason: String| PolicyError::Io {
        what: path.display().to_string(),
        reason,
    };
    let meta = fs_err::metadata(path).map_err(|e| io(e.to_string()))?;
    if meta.len() > max as u64 {
        return Err(io(format!("larger than {max} bytes")));
    }
    let bytes = fs_err::read(path).map_err(|e| io(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| io(format!("not UTF-8 text: {e}")))
}

/// The version of the decision record format.
pub const RECORD_VERSION: u32 = 1;

/// The policy bundle a decision was computed with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BundleRef {
    /// The bundle digest.
    pub digest: String,
    /// Its files.
    pub files: Vec<String>,
}

/// A decision and everything it was computed from, by digest: re-running
/// the gate with the same bundle, exceptions, database and input gives the
/// same decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecisionRecord {
    /// [`RECORD_VERSION`].
    pub record_version: u32,
    /// The image digest.
    pub digest: String,
    /// The reference as given.
    pub reference: String,
    /// The environment.
    pub environment: String,
    /// The verdict.
    pub verdict: Verdict,
    /// Every reason.
    pub reasons: Vec<Reason>,
    /// Exceptions that waived something.
    pub exceptions_applied: Vec<decision::AppliedException>,
    /// Exceptions that expired.
    pub exceptions_expired: Vec<decision::ExpiredException>,
    /// The policy bundle.
    pub policy: BundleRef,
    /// The digest of the policy input document (its canonical JSON).
    pub input_digest: String,
    /// The digest of the exceptions files, when there were any.
    pub exceptions_digest: Option<String>,
    /// The advisory database.
    pub database: Option<input::DatabaseInput>,
    /// The customs version.
    pub customs_version: String,
    /// When (RFC 3339).
    pub evaluated_at: String,
}

/// The digest of an input document: SHA-256 of its JSON text as
/// serialised (fields in declaration order).
#[must_use]
pub fn input_digest(json: &str) -> String {
    customs_types::Digest::sha256(json.as_bytes()).to_string()
}

/// Everything one evaluation needs besides the input.
#[derive(Debug)]
pub struct Gatekeeper<'a> {
    /// The loaded bundle.
    pub policy: &'a Policy,
    /// The configuration.
    pub config: &'a PolicyConfig,
    /// The exceptions.
    pub exceptions: &'a Exceptions,
}

impl Gatekeeper<'_> {
    /// Evaluates an input document into a decision record. `today` is the
    /// evaluation day (days since the epoch), taken from `input.now`.
    ///
    /// # Errors
    /// [`PolicyError`] when the environment is unknown or the input cannot
    /// be given to the engine; a rule that fails is a deny reason instead.
    pub fn evaluate(
        &self,
        input: &PolicyInput,
        reference: &str,
    ) -> Result<DecisionRecord, PolicyError> {
        let env = self.config.environment(&input.environment.name)?;
        // Serialised once: what the engine reads is what the digest names.
        let json = serde_json::to_string(input).map_err(|e| PolicyError::Rego {
            what: "policy input".to_owned(),
            reason: e.to_string(),
        })?;
        let outcomes = self.policy.evaluate(&json)?;
        let decision = decide(
            &outcomes,
            &Context {
                environment: &input.environment.name,
                config: env,
                digest: &input.image.digest,
                repository: input.image.repository.as_deref(),
                exceptions: self.exceptions,
                today: input.now.div_euclid(86_400),
            },
        );
        Ok(DecisionRecord {
            record_version: RECORD_VERSION,
            digest: input.image.digest.clone(),
            reference: reference.to_owned(),
            environment: input.environment.name.clone(),
            verdict: decision.verdict,
            reasons: decision.reasons,
            exceptions_applied: decision.exceptions_applied,
            exceptions_expired: decision.exceptions_expired,
            policy: BundleRef {
                digest: self.policy.digest().to_owned(),
                files: self.policy.files().to_vec(),
            },
            input_digest: input_digest(&json),
            exceptions_digest: self.exceptions.digest.clone(),
            database: input.database.clone(),
            customs_version: env!("CARGO_PKG_VERSION").to_owned(),
            evaluated_at: input.evaluated_at.clone(),
        })
    }
}

#[cfg(test)]
mod tests;
