//! Rego evaluation on `regorus`: the built-in bundle plus the user's
//! policies, every rule a package under `data.customs.rules` with a
//! `metadata` object (id, title, description, default `levels` per built-in
//! environment) and a `violation` set of objects (`message`, and optionally
//! `evidence`, `vulnerability`, `aliases`, `package`).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::PolicyError;
use crate::config::Level;

/// The built-in bundle: (file name, Rego text).
pub const BUILTIN: &[(&str, &str)] = &[
    ("lib.rego", include_str!("../policy/lib.rego")),
    ("blocked.rego", include_str!("../policy/blocked.rego")),
    ("reference.rego", include_str!("../policy/reference.rego")),
    ("sbom.rego", include_str!("../policy/sbom.rego")),
    ("provenance.rego", include_str!("../policy/provenance.rego")),
    ("signature.rego", include_str!("../policy/signature.rego")),
    ("critical.rego", include_str!("../policy/critical.rego")),
    ("high.rego", include_str!("../policy/high.rego")),
    ("kev.rego", include_str!("../policy/kev.rego")),
    ("secrets.rego", include_str!("../policy/secrets.rego")),
    ("base.rego", include_str!("../policy/base.rego")),
    ("base_age.rego", include_str!("../policy/base_age.rego")),
    ("non_root.rego", include_str!("../policy/non_root.rego")),
    ("labels.rego", include_str!("../policy/labels.rego")),
    (
        "healthcheck.rego",
        include_str!("../policy/healthcheck.rego"),
    ),
    ("ports.rego", include_str!("../policy/ports.rego")),
    ("manifests.rego", include_str!("../policy/manifests.rego")),
    ("licenses.rego", include_str!("../policy/licenses.rego")),
    (
        "license_unknown.rego",
        include_str!("../policy/license_unknown.rego"),
    ),
    ("growth.rego", include_str!("../policy/growth.rego")),
];

/// Where rules live.
const RULES_PREFIX: &str = "data.customs.rules.";

/// The largest policy file read, and the most read from a folder.
const MAX_POLICY_BYTES: usize = 4 << 20;
const MAX_POLICY_FILES: usize = 1000;

/// The deepest `{`/`[` nesting accepted in a policy file: regorus's parser
/// backtracks over set, object and array comprehensions, and its time
/// doubles with each level (22 levels: seconds; found by fuzzing). Real
/// policies nest far less.
pub const MAX_NESTING: usize = 12;

/// The longest one rule package may evaluate.
const EVAL_LIMIT: Duration = Duration::from_secs(10);

/// What a rule says of itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleMeta {
    /// The stable id (`non-root`).
    pub id: String,
    /// One line.
    pub title: String,
    /// What it checks and why.
    #[serde(default)]
    pub description: String,
    /// The default level per built-in environment.
    #[serde(default)]
    pub levels: BTreeMap<String, Level>,
    /// The Rego package (`data.customs.rules.non_root`).
    #[serde(skip_deserializing)]
    pub package: String,
    /// Whether it is one of customs's own.
    #[serde(skip_deserializing)]
    pub builtin: bool,
}

impl RuleMeta {
    /// Its level in the environment `name` configured as `env`: what
    /// customs.toml sets, else the default of the environment's profile.
    #[must_use]
    pub fn level_in(&self, name: &str, env: &crate::Environment) -> Level {
        env.rules
            .get(&self.id)
            .copied()
            .unwrap_or_else(|| self.default_level(env.profile(name)))
    }

    /// The default level for a built-in environment (profile): what the
    /// rule says, else deny in prod and warn elsewhere.
    #[must_use]
    pub fn default_level(&self, profile: &str) -> Level {
        self.levels
            .get(profile)
            .copied()
            .unwrap_or(if profile == "prod" {
                Level::Deny
            } else {
                Level::Warn
            })
    }
}

/// One violation a rule reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Violation {
    /// What is wrong, for people.
    pub message: String,
    /// What it points at (a path, a purl, a fingerprint, a digest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    /// The vulnerability, for exceptions and VEX.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vulnerability: Option<String>,
    /// Its aliases.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
    /// The package (purl), for exceptions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

/// What one rule package gave.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The rule evaluated.
    Rule {
        /// Its metadata.
        meta: RuleMeta,
        /// Its violations, in a stable order.
        violations: Vec<Violation>,
    },
    /// The package failed to evaluate: never a pass.
    Error {
        /// The Rego package.
        package: String,
        /// The rule id, when its metadata could be read.
        rule: Option<String>,
        /// What went wrong.
        message: String,
    },
}

/// A loaded policy bundle.
#[derive(Clone)]
pub struct Policy {
    engine: regorus::Engine,
    rules: Vec<RuleMeta>,
    digest: String,
    files: Vec<String>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("digest", &self.digest)
            .field("files", &self.files)
            .finish_non_exhaustive()
    }
}

fn to_json(value: &regorus::Value, package: &str) -> Result<serde_json::Value, String> {
    let text = value
        .to_json_str()
        .map_err(|e| format!("{package}: the result is not JSON: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{package}: the result is not JSON: {e}"))
}

/// Refuses a policy file whose brackets nest deeper than [`MAX_NESTING`]
/// (strings and comments aside), naming the place, before the parser sees
/// it.
///
/// # Errors
/// [`PolicyError::Rego`] naming the file, line and column.
pub fn check_nesting(name: &str, text: &str) -> Result<(), PolicyError> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        column += 1;
        match c {
            '\n' => {
                line += 1;
                column = 0;
            }
            '#' => while chars.next_if(|&c| c != '\n').is_some() {},
            '"' => {
                // An unterminated string ends at the line's end, which the
                // loop above still counts.
                while let Some(c) = chars.next_if(|&c| c != '\n') {
                    column += 1;
                    match c {
                        '\\' => {
                            chars.next_if(|&c| c != '\n');
                            column += 1;
                        }
                        '"' => break,
                        _ => {}
                    }
                }
            }
            '`' => {
                for c in chars.by_ref() {
                    column += 1;
                    if c == '\n' {
                        line += 1;
                        column = 0;
                    }
                    if c == '`' {
                        break;
                    }
                }
            }
            '{' | '[' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Err(PolicyError::Rego {
                        what: name.to_owned(),
                        reason: format!(
                            "{name}:{line}:{column}: brackets nested deeper than {MAX_NESTING} levels (refused: the Rego parser's time grows exponentially with nesting)"
                        ),
                    });
                }
            }
            '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Adds one policy file to an engine as [`Policy::load`] does: its nesting
/// checked first, then parsed; returns its package.
fn add_module(engine: &mut regorus::Engine, name: &str, text: &str) -> Result<String, PolicyError> {
    check_nesting(name, text)?;
    engine
        .add_policy(name.to_owned(), text.to_owned())
        .map_err(|e| PolicyError::Rego {
            what: name.to_owned(),
            reason: format!("invalid Rego\n{}", e.to_string().trim()),
        })
}

/// Checks one policy module as [`Policy::load`] does (nesting, then the
/// parser), without loading a bundle: for fuzzing and editors.
///
/// # Errors
/// As [`Policy::load`] for that file.
pub fn check_module(name: &str, text: &str) -> Result<(), PolicyError> {
    add_module(&mut regorus::Engine::new(), name, text).map(|_| ())
}

/// The value at a path, `None` when it is undefined.
fn evaluate_path(
    engine: &mut regorus::Engine,
    path: &str,
) -> Result<Option<regorus::Value>, String> {
    let results = engine
        .eval_query(path.to_owned(), false)
        .map_err(|e| e.to_string())?;
    Ok(results
        .result
        .into_iter()
        .next()
        .and_then(|r| r.expressions.into_iter().next())
        .map(|e| e.value)
        .filter(|v| *v != regorus::Value::Undefined))
}

/// The Rego files of a folder (recursively), in path order.
fn rego_files(dir: &Path) -> Result<Vec<std::path::PathBuf>, PolicyError> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = fs_err::read_dir(&d).map_err(|e| PolicyError::Io {
            what: d.display().to_string(),
            reason: e.to_string(),
        })?;
        for entry in entries {
            let entry = entry.map_err(|e| PolicyError::Io {
                what: d.display().to_string(),
                reason: e.to_string(),
            })?;
            let path = entry.path();
            let kind = entry.file_type().map_err(|e| PolicyError::Io {
                what: path.display().to_string(),
                reason: e.to_string(),
            })?;
            if kind.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rego")
                && !path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().ends_with("_test.rego"))
            {
                out.push(path);
            }
            if out.len() > MAX_POLICY_FILES {
                return Err(PolicyError::Io {
                    what: dir.display().to_string(),
                    reason: format!("more than {MAX_POLICY_FILES} policy files"),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

impl Policy {
    /// The built-in bundle alone.
    ///
    /// # Errors
    /// Never for the shipped bundle (a test parses it); an error names the
    /// file otherwise.
    pub fn builtin() -> Result<Self, PolicyError> {
        Self::load(None)
    }

    /// The built-in bundle plus every `.rego` file under `dir` (tests named
    /// `*_test.rego` left out).
    ///
    /// # Errors
    /// [`PolicyError::Rego`] naming the file, line and problem of a file that
    /// does not parse, a rule without usable metadata, or two rules with one
    /// id.
    pub fn load(dir: Option<&Path>) -> Result<Self, PolicyError> {
        let mut sources: Vec<(String, String, bool)> = BUILTIN
            .iter()
            .map(|(name, text)| (format!("builtin/{name}"), (*text).to_owned(), true))
            .collect();
        if let Some(dir) = dir {
            for path in rego_files(dir)? {
                let text = crate::read_text(&path, MAX_POLICY_BYTES)?;
                sources.push((path.display().to_string(), text, false));
            }
        }
        let mut engine = regorus::Engine::new();
        engine.set_rego_v0(false);
        engine.set_execution_timer_config(regorus::utils::limits::ExecutionTimerConfig {
            limit: EVAL_LIMIT,
            check_interval: std::num::NonZeroU32::MIN.saturating_add(999),
        });
        let mut hasher = customs_types::Hasher::new(customs_types::Algorithm::Sha256);
        let mut builtin_packages = Vec::new();
        for (name, text, builtin) in &sources {
            let package = add_module(&mut engine, name, text)?;
            if *builtin {
                builtin_packages.push(package);
            }
            hasher.update(name.trim_start_matches("builtin/").as_bytes());
            hasher.update(&[0]);
            hasher.update(text.as_bytes());
            hasher.update(&[0]);
        }
        let mut policy = Self {
            engine,
            rules: Vec::new(),
            digest: hasher.finish().to_string(),
            files: sources.into_iter().map(|(n, _, _)| n).collect(),
        };
        policy.rules = policy.read_metadata(&builtin_packages)?;
        Ok(policy)
    }

    fn rule_packages(&self) -> Result<Vec<String>, PolicyError> {
        let mut packages = self.engine.get_packages().map_err(|e| PolicyError::Rego {
            what: "policy bundle".to_owned(),
            reason: e.to_string(),
        })?;
        packages.retain(|p| p.starts_with(RULES_PREFIX));
        packages.sort();
        packages.dedup();
        Ok(packages)
    }

    fn read_metadata(&mut self, builtin: &[String]) -> Result<Vec<RuleMeta>, PolicyError> {
        let mut rules: Vec<RuleMeta> = Vec::new();
        let mut engine = self.engine.clone();
        engine.set_input(regorus::Value::new_object());
        for package in self.rule_packages()? {
            let failed = |reason: String| PolicyError::Rego {
                what: package.clone(),
                reason,
            };
            let value = evaluate_path(&mut engine, &format!("{package}.metadata"))
                .map_err(|e| failed(format!("metadata: {e}")))?
                .ok_or_else(|| {
                    failed(
                        "no `metadata` object (id, title, description, levels) in a rule package"
                            .to_owned(),
                    )
                })?;
            match engine.eval_rule(format!("{package}.violation")) {
                Err(e) if e.to_string().contains("not a valid rule path") => {
                    return Err(failed(
                        "no `violation` rule (a set of {message, …} objects) in a rule package"
                            .to_owned(),
                    ));
                }
                _ => {}
            }
            let json = to_json(&value, &package).map_err(&failed)?;
            let mut meta: RuleMeta = serde_json::from_value(json).map_err(|e| {
                failed(format!(
                    "metadata is not {{id, title, description, levels}}: {e}"
                ))
            })?;
            if meta.id.is_empty()
                || !meta
                    .id
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            {
                return Err(failed(format!(
                    "metadata.id `{}` is not a kebab-case id",
                    meta.id
                )));
            }
            if let Some(other) = rules.iter().find(|r| r.id == meta.id) {
                return Err(failed(format!(
                    "the rule id `{}` is already used by {}",
                    meta.id, other.package
                )));
            }
            meta.builtin = builtin.contains(&package.trim_start_matches("data.").to_owned())
                || builtin.contains(&package);
            meta.package = package;
            rules.push(meta);
        }
        Ok(rules)
    }

    /// Every rule, in package order.
    #[must_use]
    pub fn rules(&self) -> &[RuleMeta] {
        &self.rules
    }

    /// The digest of the bundle (every file's name and text, in order).
    #[must_use]
    pub fn digest(&self) -> &str {
        &self.digest
    }

    /// The files of the bundle.
    #[must_use]
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// Evaluates every rule against an input document (its JSON text). A rule that fails to
    /// evaluate (a runtime error, a malformed violation, the time limit) is
    /// an [`Outcome::Error`], never a rule without violations.
    ///
    /// # Errors
    /// [`PolicyError::Rego`] when the input cannot be given to the engine.
    pub fn evaluate(&self, input_json: &str) -> Result<Vec<Outcome>, PolicyError> {
        let mut engine = self.engine.clone();
        let value = regorus::Value::from_json_str(input_json).map_err(|e| PolicyError::Rego {
            what: "policy input".to_owned(),
            reason: e.to_string(),
        })?;
        engine.set_input(value);
        let mut out = Vec::new();
        for meta in &self.rules {
            let package = &meta.package;
            let result = evaluate_path(&mut engine, &format!("{package}.violation"))
                .and_then(|v| {
                    let Some(v) = v else {
                        return Ok(Vec::new());
                    };
                    let json = to_json(&v, package)?;
                    let items = match json {
                        serde_json::Value::Array(items) => items,
                        other => {
                            return Err(format!(
                                "violation must be a set of objects, not {other}"
                            ));
                        }
                    };
                    items
                        .into_iter()
                        .map(|item| {
                            serde_json::from_value::<Violation>(item.clone()).map_err(|e| {
                                format!("violation {item} is not {{message, evidence?, vulnerability?, aliases?, package?}}: {e}")
                            })
                        })
                        .collect()
                });
            out.push(match result {
                Ok(mut violations) => {
                    violations.sort_by(|a, b| {
                        (&a.vulnerability, &a.package, &a.message).cmp(&(
                            &b.vulnerability,
                            &b.package,
                            &b.message,
                        ))
                    });
                    Outcome::Rule {
                        meta: meta.clone(),
                        violations,
                    }
                }
                Err(message) => Outcome::Error {
                    package: package.clone(),
                    rule: Some(meta.id.clone()),
                    message,
                },
            });
        }
        Ok(out)
    }
}
