//! Environments and where the policy's files are: the `[policy]` and
//! `[environments.NAME]` tables of a `customs.toml`.
//!
//! ```toml
//! [policy]
//! dir = "policy"                      # the user's Rego, beside the built-in bundle
//! exceptions = ["exceptions.yaml"]
//! vex = ["vex/app.openvex.json"]
//! kev = "known_exploited_vulnerabilities.json"
//! blocklist = "blocked.yaml"
//! max_exception_days = 180
//!
//! [environments.prod]
//! keys = ["cosign.pub"]
//! identities = [{ identity = "https://github.com/acme/app/.github/workflows/release.yml@refs/heads/main", issuer = "https://token.actions.githubusercontent.com" }]
//! builders = ["https://github.com/actions/runner"]
//! base_images = ["docker.io/library/debian", "gcr.io/distroless/*"]
//! base_max_age_days = 90
//! ports = [8080]
//! size_growth_ratio = 1.2
//! licenses = { deny = ["GPL-3.0-only", "AGPL-3.0-only"] }
//! rules = { healthcheck = "warn", "oci-labels" = "off" }
//!
//! [environments.qa]
//! profile = "staging"                 # default levels of a built-in environment
//! ```
//!
//! Paths are relative to the file that names them. `dev`, `staging` and
//! `prod` exist without being written down; any other name must be.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::PolicyError;

/// How a rule's violations count in one environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Not evaluated into the decision.
    Off,
    /// Reported; the verdict is at most `warn`.
    Warn,
    /// The verdict is `deny`.
    Deny,
}

impl Level {
    /// `off`, `warn` or `deny`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Warn => "warn",
            Self::Deny => "deny",
        }
    }

    /// Parses `off`, `warn` or `deny`.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "off" => Some(Self::Off),
            "warn" => Some(Self::Warn),
            "deny" => Some(Self::Deny),
            _ => None,
        }
    }
}

/// The built-in environments whose default levels a rule declares.
pub const PROFILES: [&str; 3] = ["dev", "staging", "prod"];

/// A trusted keyless signer.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IdentityConfig {
    /// The certificate identity, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<String>,
    /// The certificate identity, as a regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_regexp: Option<String>,
    /// The OIDC issuer, exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// The OIDC issuer, as a regular expression.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer_regexp: Option<String>,
}

/// Which licences may ship.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LicensePolicy {
    /// Licences (SPDX ids) that may not ship.
    #[serde(default = "default_denied")]
    pub deny: Vec<String>,
    /// When not empty, only these licences may ship (allow-list mode).
    #[serde(default)]
    pub allow: Vec<String>,
    /// Judge the distribution's own packages too (off by default: a base
    /// image's GPL tools are system components, not the product).
    #[serde(default)]
    pub include_os_packages: bool,
}

fn default_denied() -> Vec<String> {
    [
        "GPL-3.0-only",
        "GPL-3.0-or-later",
        "AGPL-3.0-only",
        "AGPL-3.0-or-later",
    ]
    .map(str::to_owned)
    .to_vec()
}

impl Default for LicensePolicy {
    fn default() -> Self {
        Self {
            deny: default_denied(),
            allow: Vec::new(),
            include_os_packages: false,
        }
    }
}

/// What one environment trusts, approves and expects. Serialised into the
/// policy input as `environment.config`, so Rego reads the same values.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// The built-in environment whose default levels apply (`dev`,
    /// `staging`, `prod`): the name itself for those, `prod` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<String>,
    /// Levels by rule id (`deny`, `warn`, `off`), over the defaults.
    #[serde(default)]
    pub rules: BTreeMap<String, Level>,
    /// Public keys (PEM files) whose signatures count.
    #[serde(default)]
    pub keys: Vec<String>,
    /// Keyless signers whose signatures count.
    #[serde(default)]
    pub identities: Vec<IdentityConfig>,
    /// A Sigstore trusted root for keyless signatures (else the built-in one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_root: Option<String>,
    /// Builder ids a provenance attestation may name (`*` as a wildcard);
    /// empty: any builder, as long as the provenance is signed.
    #[serde(default)]
    pub builders: Vec<String>,
    /// Approved base images: repositories (`docker.io/library/debian`), globs
    /// (`gcr.io/distroless/*`) or digests; empty: no list is enforced.
    #[serde(default)]
    pub base_images: Vec<String>,
    /// A base image older than this many days is a violation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_max_age_days: Option<u64>,
    /// Ports the image may expose; unset: the sensitive ones are flagged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<u16>>,
    /// Growth over the previous release (`--compare`) beyond this ratio is a
    /// violation (default 1.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size_growth_ratio: Option<f64>,
    /// The licence policy.
    #[serde(default)]
    pub licenses: LicensePolicy,
}

impl Environment {
    /// The built-in environment whose default levels apply.
    #[must_use]
    pub fn profile<'a>(&'a self, name: &'a str) -> &'a str {
        match &self.profile {
            Some(p) => p,
            None if PROFILES.contains(&name) => name,
            None => "prod",
        }
    }
}

/// The `[policy]` table.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct PolicyTable {
    dir: Option<PathBuf>,
    #[serde(default)]
    exceptions: Vec<PathBuf>,
    #[serde(default)]
    vex: Vec<PathBuf>,
    kev: Option<PathBuf>,
    blocklist: Option<PathBuf>,
    max_exception_days: Option<u32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    policy: PolicyTable,
    #[serde(default)]
    environments: BTreeMap<String, Environment>,
    // `[secrets]` belongs to the secret scanner, which checks it.
    #[serde(default, rename = "secrets")]
    _secrets: Option<toml::Value>,
}

/// The longest an exception may run, by default.
pub const DEFAULT_MAX_EXCEPTION_DAYS: u32 = 180;

/// Everything a `customs.toml` says about policy, with paths resolved.
#[derive(Debug, Clone, Default)]
pub struct PolicyConfig {
    /// The user's Rego folder.
    pub dir: Option<PathBuf>,
    /// Exceptions files.
    pub exceptions: Vec<PathBuf>,
    /// OpenVEX / CycloneDX VEX documents.
    pub vex: Vec<PathBuf>,
    /// A CISA KEV catalogue (JSON).
    pub kev: Option<PathBuf>,
    /// A block list of digests.
    pub blocklist: Option<PathBuf>,
    /// The longest an exception may run, in days from now.
    pub max_exception_days: u32,
    /// Environments by name, the built-in ones included.
    pub environments: BTreeMap<String, Environment>,
}

impl PolicyConfig {
    /// The built-in environments and nothing else.
    #[must_use]
    pub fn builtin() -> Self {
        Self {
            max_exception_days: DEFAULT_MAX_EXCEPTION_DAYS,
            environments: PROFILES
                .iter()
                .map(|p| ((*p).to_owned(), Environment::default()))
                .collect(),
            ..Self::default()
        }
    }

    /// Parses a `customs.toml` (its path names it in errors and anchors its
    /// relative paths).
    ///
    /// # Errors
    /// [`PolicyError::Config`] naming the file, line and problem.
    pub fn parse(path: &Path, text: &str) -> Result<Self, PolicyError> {
        let failed = |reason: String| PolicyError::Config {
            path: path.display().to_string(),
            reason,
        };
        let file: ConfigFile = toml::from_str(text).map_err(|e| failed(e.to_string()))?;
        let base = path.parent().unwrap_or(Path::new(""));
        let at = |p: PathBuf| if p.is_absolute() { p } else { base.join(p) };
        let mut config = Self::builtin();
        config.dir = file.policy.dir.map(at);
        config.exceptions = file.policy.exceptions.into_iter().map(at).collect();
        config.vex = file.policy.vex.into_iter().map(at).collect();
        config.kev = file.policy.kev.map(at);
        config.blocklist = file.policy.blocklist.map(at);
        if let Some(days) = file.policy.max_exception_days {
            config.max_exception_days = days;
        }
        for (name, mut env) in file.environments {
            if let Some(profile) = &env.profile
                && !PROFILES.contains(&profile.as_str())
            {
                return Err(failed(format!(
                    "environments.{name}.profile: `{profile}` is not one of {}",
                    PROFILES.join(", ")
                )));
            }
            if let Some(ratio) = env.size_growth_ratio
                && !(ratio.is_finite() && ratio >= 1.0)
            {
                return Err(failed(format!(
                    "environments.{name}.size_growth_ratio: {ratio} is not a ratio of at least 1"
                )));
            }
            for (i, id) in env.identities.iter().enumerate() {
                let who = id.identity.is_some() || id.identity_regexp.is_some();
                let issuer = id.issuer.is_some() || id.issuer_regexp.is_some();
                if !(who && issuer) {
                    return Err(failed(format!(
                        "environments.{name}.identities[{i}]: an identity needs both the identity (or identity_regexp) and the issuer (or issuer_regexp)"
                    )));
                }
            }
            let resolve = |p: &str| at(PathBuf::from(p)).display().to_string();
            env.keys = env.keys.iter().map(|k| resolve(k)).collect();
            env.trusted_root = env.trusted_root.as_deref().map(resolve);
            config.environments.insert(name, env);
        }
        Ok(config)
    }

    /// The environment of that name.
    ///
    /// # Errors
    /// [`PolicyError::UnknownEnvironment`] listing the known ones.
    pub fn environment(&self, name: &str) -> Result<&Environment, PolicyError> {
        self.environments
            .get(name)
            .ok_or_else(|| PolicyError::UnknownEnvironment {
                name: name.to_owned(),
                known: self.environments.keys().cloned().collect(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_environments_exist_and_others_must_be_written() {
        let config = PolicyConfig::builtin();
        assert!(config.environment("prod").is_ok());
        let err = config.environment("qa").unwrap_err().to_string();
        assert!(
            err.contains("qa") && err.contains("dev, prod, staging"),
            "{err}"
        );
    }

    #[test]
    fn parses_and_resolves_paths() {
        let text = r#"
[secrets]
allow = []
[policy]
dir = "rego"
exceptions = ["exceptions.yaml"]
max_exception_days = 30
[environments.qa]
profile = "staging"
keys = ["keys/cosign.pub"]
rules = { healthcheck = "off" }
"#;
        let config = PolicyConfig::parse(Path::new("/repo/customs.toml"), text).unwrap();
        assert_eq!(config.dir.as_deref(), Some(Path::new("/repo/rego")));
        assert_eq!(config.max_exception_days, 30);
        let qa = config.environment("qa").unwrap();
        assert_eq!(qa.profile("qa"), "staging");
        assert_eq!(qa.keys, ["/repo/keys/cosign.pub"]);
        assert_eq!(qa.rules["healthcheck"], Level::Off);
        assert_eq!(config.environment("prod").unwrap().profile("prod"), "prod");
    }

    #[test]
    fn bad_files_name_the_problem() {
        for (text, wanted) in [
            ("[environments.qa]\nrules = { x = \"block\" }", "line 2"),
            ("[environments.qa]\nprofile = \"live\"", "profile"),
            (
                "[environments.qa]\nsize_growth_ratio = 0.5",
                "size_growth_ratio",
            ),
            (
                "[environments.qa]\nidentities = [{ identity = \"a\" }]",
                "issuer",
            ),
            ("[policy]\nfolder = \"x\"", "unknown field"),
            (
                "[enviroments.prod]\nkeys = []",
                "unknown field `enviroments`",
            ),
        ] {
            let err = PolicyConfig::parse(Path::new("customs.toml"), text)
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("customs.toml") && err.contains(wanted),
                "{err}"
            );
        }
    }
}
