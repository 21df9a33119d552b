//! SLSA Provenance v1 predicates (<https://slsa.dev/spec/v1.0/provenance>)
//! from a CI job's environment: GitHub Actions, GitLab CI, and a generic
//! set of `CUSTOMS_*` variables for any other system. The mapping is in
//! `docs/provenance.md`; the predicate is attached with `customs attest
//! --type slsaprovenance1`.
//!
//! The environment is passed in (a map), never read here, so the mapping
//! is tested without touching the process environment.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

/// The predicate type of SLSA Provenance v1.
pub const SLSA_PROVENANCE_V1: &str = "https://slsa.dev/provenance/v1";
/// The build type of GitHub Actions workflows (GitHub's own).
pub const GITHUB_BUILD_TYPE: &str = "https://actions.github.io/buildtypes/workflow/v1";
/// The build type customs documents for GitLab CI jobs.
pub const GITLAB_BUILD_TYPE: &str = "https://customs.dev/provenance/gitlab-ci/v1";
/// The build type customs documents for the generic variables.
pub const GENERIC_BUILD_TYPE: &str = "https://customs.dev/provenance/generic/v1";

/// Why no provenance could be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProvenanceError {
    /// No CI system recognised.
    #[error(
        "no CI environment recognised: GitHub Actions (GITHUB_ACTIONS=true), GitLab CI (GITLAB_CI=true), or set CUSTOMS_BUILDER_ID (see docs/provenance.md)"
    )]
    NoCi,
    /// A variable the mapping needs is not set.
    #[error("{system}: the environment variable {variable} is not set")]
    Missing {
        /// The CI system.
        system: &'static str,
        /// The variable.
        variable: &'static str,
    },
}

/// A SLSA Provenance v1 predicate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// What was built and how.
    pub build_definition: BuildDefinition,
    /// Who built it, when.
    pub run_details: RunDetails,
}

/// `buildDefinition`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BuildDefinition {
    /// The build type URI.
    pub build_type: String,
    /// Inputs the builder was given from outside (workflow, ref,
    /// repository).
    pub external_parameters: Value,
    /// Inputs of the platform itself.
    #[serde(skip_serializing_if = "Value::is_null")]
    pub internal_parameters: Value,
    /// The source, resolved to a commit.
    pub resolved_dependencies: Vec<ResourceDescriptor>,
}

/// An in-toto ResourceDescriptor.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResourceDescriptor {
    /// Where it is.
    pub uri: String,
    /// Its digests (`gitCommit`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub digest: BTreeMap<String, String>,
}

/// `runDetails`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RunDetails {
    /// `{ "id": … }`.
    pub builder: Value,
    /// Invocation id and start time.
    pub metadata: Value,
}

struct Env<'a> {
    vars: &'a BTreeMap<String, String>,
    system: &'static str,
}

impl Env<'_> {
    fn get(&self, variable: &'static str) -> Option<&str> {
        self.vars
            .get(variable)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    fn need(&self, variable: &'static str) -> Result<&str, ProvenanceError> {
        self.get(variable).ok_or(ProvenanceError::Missing {
            system: self.system,
            variable,
        })
    }
}

fn commit(sha: Option<&str>) -> BTreeMap<String, String> {
    sha.map(|s| BTreeMap::from([("gitCommit".to_owned(), s.to_owned())]))
        .unwrap_or_default()
}

/// The provenance of the job whose environment is `vars`, started at
/// `now` (RFC 3339) when the CI system does not say.
///
/// # Errors
/// [`ProvenanceError`]: no CI system recognised, or a needed variable
/// missing.
pub fn from_env(vars: &BTreeMap<String, String>, now: &str) -> Result<Provenance, ProvenanceError> {
    let flag = |name: &str| vars.get(name).is_some_and(|v| v == "true");
    if flag("GITHUB_ACTIONS") {
        github(
            &Env {
                vars,
                system: "GitHub Actions",
            },
            now,
        )
    } else if flag("GITLAB_CI") {
        gitlab(
            &Env {
                vars,
                system: "GitLab CI",
            },
            now,
        )
    } else if vars.contains_key("CUSTOMS_BUILDER_ID") {
        generic(
            &Env {
                vars,
                system: "generic",
            },
            now,
        )
    } else {
        Err(ProvenanceError::NoCi)
    }
}

fn github(env: &Env<'_>, now: &str) -> Result<Provenance, ProvenanceError> {
    let server = env.get("GITHUB_SERVER_URL").unwrap_or("https://github.com");
    let repository = env.need("GITHUB_REPOSITORY")?;
    let workflow_ref = env.need("GITHUB_WORKFLOW_REF")?;
    let git_ref = env.need("GITHUB_REF")?;
    let sha = env.need("GITHUB_SHA")?;
    let run_id = env.need("GITHUB_RUN_ID")?;
    let attempt = env.get("GITHUB_RUN_ATTEMPT").unwrap_or("1");
    // `owner/repo/.github/workflows/build.yml@refs/heads/main` → the path.
    let path = workflow_ref
        .split_once('@')
        .map_or(workflow_ref, |(p, _)| p)
        .strip_prefix(&format!("{repository}/"))
        .unwrap_or(workflow_ref)
        .to_owned();
    let repository_url = format!("{server}/{repository}");
    let hosted = env.get("RUNNER_ENVIRONMENT").unwrap_or("github-hosted");
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: GITHUB_BUILD_TYPE.to_owned(),
            external_parameters: json!({
                "workflow": {"ref": git_ref, "repository": repository_url, "path": path},
            }),
            internal_parameters: json!({
                "github": {
                    "event_name": env.get("GITHUB_EVENT_NAME"),
                    "repository_id": env.get("GITHUB_REPOSITORY_ID"),
                    "repository_owner_id": env.get("GITHUB_REPOSITORY_OWNER_ID"),
                    "runner_environment": hosted,
                }
            }),
            resolved_dependencies: vec![ResourceDescriptor {
                uri: format!("git+{repository_url}@{git_ref}"),
                digest: commit(Some(sha)),
            }],
        },
        run_details: RunDetails {
            builder: json!({"id": format!("https://github.com/actions/runner/{hosted}")}),
            metadata: json!({
                "invocationId": format!("{repository_url}/actions/runs/{run_id}/attempts/{attempt}"),
                "startedOn": now,
            }),
        },
    })
}

fn gitlab(env: &Env<'_>, now: &str) -> Result<Provenance, ProvenanceError> {
    let server = env.need("CI_SERVER_URL")?;
    let project_url = env.need("CI_PROJECT_URL")?;
    let sha = env.need("CI_COMMIT_SHA")?;
    let git_ref = env
        .get("CI_COMMIT_REF_NAME")
        .or_else(|| env.get("CI_COMMIT_TAG"))
        .ok_or(ProvenanceError::Missing {
            system: "GitLab CI",
            variable: "CI_COMMIT_REF_NAME",
        })?;
    let job_url = env.need("CI_JOB_URL")?;
    let runner = env.get("CI_RUNNER_ID").unwrap_or("unknown");
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: GITLAB_BUILD_TYPE.to_owned(),
            external_parameters: json!({
                "repository": project_url,
                "ref": git_ref,
                "config": env.get("CI_CONFIG_PATH").unwrap_or(".gitlab-ci.yml"),
                "job": env.get("CI_JOB_NAME"),
                "source": env.get("CI_PIPELINE_SOURCE"),
            }),
            internal_parameters: json!({
                "gitlab": {
                    "project_id": env.get("CI_PROJECT_ID"),
                    "pipeline_id": env.get("CI_PIPELINE_ID"),
                    "runner_description": env.get("CI_RUNNER_DESCRIPTION"),
                }
            }),
            resolved_dependencies: vec![ResourceDescriptor {
                uri: format!("git+{project_url}@{git_ref}"),
                digest: commit(Some(sha)),
            }],
        },
        run_details: RunDetails {
            builder: json!({"id": format!("{server}/runners/{runner}")}),
            metadata: json!({
                "invocationId": job_url,
                "startedOn": env.get("CI_JOB_STARTED_AT").unwrap_or(now),
            }),
        },
    })
}

fn generic(env: &Env<'_>, now: &str) -> Result<Provenance, ProvenanceError> {
    let builder = env.need("CUSTOMS_BUILDER_ID")?;
    let mut dependencies = Vec::new();
    if let Some(uri) = env.get("CUSTOMS_SOURCE_URI") {
        let uri = match env.get("CUSTOMS_SOURCE_REF") {
            Some(r) => format!("{uri}@{r}"),
            None => uri.to_owned(),
        };
        dependencies.push(ResourceDescriptor {
            uri,
            digest: commit(env.get("CUSTOMS_SOURCE_COMMIT")),
        });
    }
    Ok(Provenance {
        build_definition: BuildDefinition {
            build_type: env
                .get("CUSTOMS_BUILD_TYPE")
                .unwrap_or(GENERIC_BUILD_TYPE)
                .to_owned(),
            external_parameters: json!({
                "source": env.get("CUSTOMS_SOURCE_URI"),
                "ref": env.get("CUSTOMS_SOURCE_REF"),
                "entryPoint": env.get("CUSTOMS_BUILD_ENTRY_POINT"),
            }),
            internal_parameters: Value::Null,
            resolved_dependencies: dependencies,
        },
        run_details: RunDetails {
            builder: json!({"id": builder}),
            metadata: json!({
                "invocationId": env.get("CUSTOMS_INVOCATION_ID"),
                "startedOn": env.get("CUSTOMS_BUILD_STARTED_ON").unwrap_or(now),
            }),
        },
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const NOW: &str = "2026-12-06T00:00:00Z";

    #[test]
    fn nothing_recognised_is_an_error_naming_the_ways() {
        let err = from_env(&vars(&[("CI", "true")]), NOW).unwrap_err();
        assert_eq!(err, ProvenanceError::NoCi);
        assert!(err.to_string().contains("CUSTOMS_BUILDER_ID"));
    }

    #[test]
    fn github_actions_as_github_writes_it() {
        let mut env = vars(&[
            ("GITHUB_ACTIONS", "true"),
            ("GITHUB_SERVER_URL", "https://github.com"),
            ("GITHUB_REPOSITORY", "acme/shop"),
            (
                "GITHUB_WORKFLOW_REF",
                "acme/shop/.github/workflows/release.yml@refs/tags/v1.2.0",
            ),
            ("GITHUB_REF", "refs/tags/v1.2.0"),
            ("GITHUB_SHA", "0123456789abcdef0123456789abcdef01234567"),
            ("GITHUB_RUN_ID", "42"),
            ("GITHUB_RUN_ATTEMPT", "2"),
            ("GITHUB_EVENT_NAME", "push"),
            ("RUNNER_ENVIRONMENT", "github-hosted"),
        ]);
        let p = serde_json::to_value(from_env(&env, NOW).unwrap()).unwrap();
        assert_eq!(p["buildDefinition"]["buildType"], GITHUB_BUILD_TYPE);
        assert_eq!(
            p["buildDefinition"]["externalParameters"]["workflow"],
            json!({"ref": "refs/tags/v1.2.0", "repository": "https://github.com/acme/shop", "path": ".github/workflows/release.yml"})
        );
        assert_eq!(
            p["buildDefinition"]["resolvedDependencies"][0],
            json!({"uri": "git+https://github.com/acme/shop@refs/tags/v1.2.0", "digest": {"gitCommit": "0123456789abcdef0123456789abcdef01234567"}})
        );
        assert_eq!(
            p["runDetails"]["builder"]["id"],
            "https://github.com/actions/runner/github-hosted"
        );
        assert_eq!(
            p["runDetails"]["metadata"]["invocationId"],
            "https://github.com/acme/shop/actions/runs/42/attempts/2"
        );
        assert_eq!(p["runDetails"]["metadata"]["startedOn"], NOW);
        env.remove("GITHUB_SHA");
        assert_eq!(
            from_env(&env, NOW).unwrap_err(),
            ProvenanceError::Missing {
                system: "GitHub Actions",
                variable: "GITHUB_SHA"
            }
        );
    }

    #[test]
    fn gitlab_ci_and_generic() {
        let env = vars(&[
            ("GITLAB_CI", "true"),
            ("CI_SERVER_URL", "https://gitlab.example"),
            ("CI_PROJECT_URL", "https://gitlab.example/acme/shop"),
            ("CI_COMMIT_SHA", "abc123"),
            ("CI_COMMIT_REF_NAME", "main"),
            ("CI_JOB_URL", "https://gitlab.example/acme/shop/-/jobs/7"),
            ("CI_RUNNER_ID", "12"),
            ("CI_JOB_STARTED_AT", "2026-12-05T10:00:00Z"),
        ]);
        let p = serde_json::to_value(from_env(&env, NOW).unwrap()).unwrap();
        assert_eq!(
            p["runDetails"]["builder"]["id"],
            "https://gitlab.example/runners/12"
        );
        assert_eq!(
            p["runDetails"]["metadata"]["startedOn"],
            "2026-12-05T10:00:00Z"
        );
        assert_eq!(
            p["buildDefinition"]["resolvedDependencies"][0]["uri"],
            "git+https://gitlab.example/acme/shop@main"
        );
        let env = vars(&[
            ("CUSTOMS_BUILDER_ID", "https://ci.example/builders/linux"),
            ("CUSTOMS_SOURCE_URI", "git+https://git.example/shop"),
            ("CUSTOMS_SOURCE_REF", "refs/heads/main"),
            ("CUSTOMS_SOURCE_COMMIT", "def456"),
        ]);
        let p = serde_json::to_value(from_env(&env, NOW).unwrap()).unwrap();
        assert_eq!(p["buildDefinition"]["buildType"], GENERIC_BUILD_TYPE);
        assert!(p["buildDefinition"].get("internalParameters").is_none());
        assert_eq!(
            p["buildDefinition"]["resolvedDependencies"][0]["digest"]["gitCommit"],
            "def456"
        );
    }
}
