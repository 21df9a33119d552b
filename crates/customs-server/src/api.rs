//! The JSON API's handlers. Each answers from the store (or queues work)
//! and nothing else; the guard has checked the token's scope before.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, Query, State as Shared};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use customs_store::{NewDeployment, PackageFilter, Seen};
use customs_types::Digest;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::State;
use crate::auth::Caller;

/// An error answer: a status and `{"error": message}`.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub(crate) status: StatusCode,
    pub(crate) message: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({"error": self.message}))).into_response()
    }
}

impl From<customs_store::StoreError> for ApiError {
    fn from(e: customs_store::StoreError) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
    }
}

pub(crate) type Answer = Result<Response, ApiError>;

fn ok(value: impl serde::Serialize) -> Answer {
    Ok(Json(value).into_response())
}

fn digest(text: &str) -> Result<Digest, ApiError> {
    Digest::parse(text).map_err(|e| ApiError::bad(format!("`{text}` is not a digest: {e}")))
}

/// `text` parsed, and the digest it names: its own, else what its tag
/// names at the registry now (a record names what runs, never a tag).
async fn pinned(state: &State, text: &str) -> Result<(customs_oci::RegistryRef, Digest), ApiError> {
    let reference = customs_oci::RegistryRef::parse(text)
        .map_err(|e| ApiError::bad(format!("`{text}`: {e}")))?;
    let digest = match reference.digest() {
        Some(d) => d.clone(),
        None => state.engine.resolve(text).await.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                format!("cannot resolve {text} to a digest: {e:#}"),
            )
        })?,
    };
    Ok((reference, digest))
}

/// Blocks hold in every environment: only a token for every one may
/// change them.
fn every_environment(caller: &Caller) -> Result<(), ApiError> {
    if caller.unrestricted() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!(
            "a block applies to every environment; token {} is for one",
            caller.label()
        )))
    }
}

pub(crate) async fn health(Shared(state): Shared<Arc<State>>) -> Answer {
    let schema = state.store.schema_version().await?;
    ok(json!({
        "status": "ok",
        "store": state.store.backend().name(),
        "schema": schema,
        "version": env!("CARGO_PKG_VERSION"),
    }))
}

pub(crate) async fn openapi() -> Answer {
    ok(crate::openapi_document())
}

pub(crate) async fn metrics(Shared(state): Shared<Arc<State>>) -> Answer {
    let jobs = state.store.job_counts().await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        state.metrics.render(&jobs),
    )
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct ReferenceQuery {
    reference: String,
}

/// Which digests a reference (a tag, a digest, a digest prefix) names in
/// the store.
pub(crate) async fn images(
    Shared(state): Shared<Arc<State>>,
    Query(q): Query<ReferenceQuery>,
) -> Answer {
    let matches = state.store.tag_matches(&q.reference).await?;
    let digests = state.store.resolve(&q.reference).await?;
    ok(json!({
        "reference": q.reference,
        "digests": digests.iter().map(Digest::to_string).collect::<Vec<_>>(),
        "tags": matches.iter().map(|(t, d)| json!({"tag": t, "digest": d.to_string()})).collect::<Vec<_>>(),
    }))
}

pub(crate) async fn image(Shared(state): Shared<Arc<State>>, Path(text): Path<String>) -> Answer {
    let digest = digest(&text)?;
    if !state.store.knows(&digest).await? {
        return Err(ApiError::not_found(format!(
            "the store knows nothing of {digest}"
        )));
    }
    let dossier = state.store.dossier(&digest).await?;
    let block = state.store.block_of(&digest, &customs_store::now()).await?;
    ok(json!({
        "digest": digest.to_string(),
        "tags": dossier.tags.iter().map(|(tag, first_seen)| json!({"tag": tag, "first_seen": first_seen})).collect::<Vec<_>>(),
        "blocked": block,
        "deployments": dossier.deployments,
        "promotions": dossier.promotions,
        "releases": dossier.releases,
        "history": dossier.history,
    }))
}

#[derive(Deserialize)]
pub(crate) struct FormatQuery {
    format: Option<String>,
}

pub(crate) async fn sbom(
    Shared(state): Shared<Arc<State>>,
    Path(text): Path<String>,
    Query(q): Query<FormatQuery>,
) -> Answer {
    let digest = digest(&text)?;
    let stored = state
        .store
        .sbom(&digest)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("no SBOM of {digest} is stored")))?;
    let (bytes, media_type) = match q.format.as_deref().unwrap_or("spdx-json") {
        "spdx-json" | "spdx" => (
            customs_sbom::format::spdx23::to_vec(&stored.sbom),
            "application/spdx+json",
        ),
        "cyclonedx-json" | "cyclonedx" => (
            customs_sbom::format::cyclonedx16::to_vec(&stored.sbom),
            "application/vnd.cyclonedx+json",
        ),
        other => {
            return Err(ApiError::bad(format!(
                "unknown SBOM format `{other}` (formats: spdx-json, cyclonedx-json)"
            )));
        }
    };
    let bytes = bytes.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("cannot write the SBOM: {e}"),
        )
    })?;
    Ok(([(header::CONTENT_TYPE, media_type)], bytes).into_response())
}

#[derive(Deserialize)]
pub(crate) struct KindQuery {
    kind: Option<String>,
}

pub(crate) async fn records(
    Shared(state): Shared<Arc<State>>,
    Path(text): Path<String>,
    Query(q): Query<KindQuery>,
) -> Answer {
    let digest = digest(&text)?;
    ok(state.store.records(&digest, q.kind.as_deref()).await?)
}

#[derive(Deserialize)]
pub(crate) struct EnvQuery {
    env: String,
}

/// The newest gate decision of a digest in an environment: the decision
/// record document as `customs gate -o json` wrote it.
pub(crate) async fn decision(
    Shared(state): Shared<Arc<State>>,
    Path(text): Path<String>,
    Query(q): Query<EnvQuery>,
) -> Answer {
    let digest = digest(&text)?;
    let (record, document) = newest_decision(&state, &digest, Some(&q.env)).await?;
    ok(json!({"record": record, "document": document}))
}

/// The newest gate record of `digest` (in `environment` when given) and
/// its decision document.
async fn newest_decision(
    state: &State,
    digest: &Digest,
    environment: Option<&str>,
) -> Result<(customs_store::Record, Value), ApiError> {
    let record = state
        .store
        .latest_record(digest, "gate", environment)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(match environment {
                Some(e) => format!("{digest} has no gate decision for {e}"),
                None => format!("{digest} has no gate decision"),
            })
        })?;
    let document = match &record.document {
        Some(d) => state.store.document(d).await?,
        None => None,
    };
    let document = document
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or(Value::Null);
    Ok((record, document))
}

#[derive(Deserialize)]
pub(crate) struct MaybeEnvQuery {
    env: Option<String>,
}

/// What the newest decision (in an environment, when asked) found: the
/// vulnerabilities (and those VEX or exceptions suppressed), secrets
/// (redacted), lint of the image and its manifests, signatures,
/// attestations and provenance, as the gate's policy input holds them.
pub(crate) async fn findings(
    Shared(state): Shared<Arc<State>>,
    Path(text): Path<String>,
    Query(q): Query<MaybeEnvQuery>,
) -> Answer {
    let digest = digest(&text)?;
    let (record, document) = newest_decision(&state, &digest, q.env.as_deref()).await?;
    let input = &document["input"];
    ok(json!({
        "digest": digest.to_string(),
        "environment": record.environment,
        "evaluated_at": record.created_at,
        "verdict": record.summary["verdict"],
        "vulnerabilities": input["vulnerabilities"],
        "suppressed": input["suppressed"],
        "secrets": input["secrets"],
        "lint": input["lint"],
        "manifests": input["manifests"],
        "signatures": input["signatures"],
        "attestations": input["attestations"],
        "provenance": input["provenance"],
    }))
}

pub(crate) async fn where_(Shared(state): Shared<Arc<State>>, Path(text): Path<String>) -> Answer {
    let digest = digest(&text)?;
    let deployments = state.store.deployments_of(&digest).await?;
    let block = state.store.block_of(&digest, &customs_store::now()).await?;
    ok(json!({
        "digest": digest.to_string(),
        "running": deployments.iter().filter(|d| d.current()).collect::<Vec<_>>(),
        "deployments": deployments,
        "blocked": block,
    }))
}

#[derive(Deserialize)]
pub(crate) struct WhoHasQuery {
    package: String,
    #[serde(rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    deployed: bool,
    env: Option<String>,
}

pub(crate) async fn who_has(
    Shared(state): Shared<Arc<State>>,
    Query(q): Query<WhoHasQuery>,
) -> Answer {
    let filter = PackageFilter::parse(&q.package, q.kind.as_deref()).map_err(ApiError::bad)?;
    ok(state
        .store
        .who_has(&filter, q.deployed || q.env.is_some(), q.env.as_deref())
        .await?)
}

#[derive(Deserialize)]
pub(crate) struct AffectedQuery {
    id: String,
    env: Option<String>,
}

pub(crate) async fn affected(
    Shared(state): Shared<Arc<State>>,
    Query(q): Query<AffectedQuery>,
) -> Answer {
    let dir = state.config.db_dir.clone();
    let store = state.store.clone();
    let out = crate::on_blocking(move || async move {
        let index = customs_vuln::VulnIndex::open(&dir).map_err(|e| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                format!("the advisory database cannot be opened: {e}"),
            )
        })?;
        let mut out = Vec::new();
        for id in q.id.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            out.push(store.affected(&index, id, q.env.as_deref()).await?);
        }
        Ok::<_, ApiError>(out)
    })
    .await
    .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))??;
    ok(out)
}

#[derive(Deserialize)]
pub(crate) struct DeploymentsQuery {
    env: Option<String>,
    #[serde(default)]
    all: bool,
}

pub(crate) async fn deployments(
    Shared(state): Shared<Arc<State>>,
    Query(q): Query<DeploymentsQuery>,
) -> Answer {
    ok(state.store.deployments(q.env.as_deref(), q.all).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeploymentRequest {
    environment: String,
    service: String,
    #[serde(default)]
    cluster: String,
    #[serde(default)]
    namespace: String,
    /// `registry/repository@sha256:…` (a tag is resolved at the registry).
    image: String,
}

/// Records a deployment. A tag is resolved to its digest at the registry
/// now: the record names what runs, never a tag alone.
pub(crate) async fn record_deployment(
    Shared(state): Shared<Arc<State>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<DeploymentRequest>,
) -> Answer {
    if !caller.may_change(&body.environment) {
        return Err(ApiError::forbidden(format!(
            "token {} may not record deployments in {}",
            caller.label(),
            body.environment
        )));
    }
    for (field, value) in [
        ("environment", &body.environment),
        ("service", &body.service),
    ] {
        if value.is_empty() || value.len() > 256 {
            return Err(ApiError::bad(format!(
                "`{field}` must be 1 to 256 characters"
            )));
        }
    }
    let (reference, digest) = pinned(&state, &body.image).await?;
    let tags = reference
        .tag()
        .map(|t| vec![format!("{}:{t}", reference.name())])
        .unwrap_or_default();
    let deployment = state
        .store
        .clone()
        .with_actor(caller.label())
        .record_deployment(&NewDeployment {
            environment: body.environment,
            service: body.service,
            cluster: body.cluster,
            namespace: body.namespace,
            image: Seen {
                digest,
                name: reference.name(),
                tags,
            },
            reference: body.image,
            source: "api".to_owned(),
        })
        .await?;
    Ok((StatusCode::CREATED, Json(deployment)).into_response())
}

pub(crate) async fn blocks(Shared(state): Shared<Arc<State>>) -> Answer {
    ok(state.store.blocks(&customs_store::now()).await?)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BlockRequest {
    digest: String,
    reason: String,
    /// The last day of the block (YYYY-MM-DD).
    until: Option<String>,
}

/// Blocks a digest in every environment: an admin token for every
/// environment only.
pub(crate) async fn block(
    Shared(state): Shared<Arc<State>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<BlockRequest>,
) -> Answer {
    every_environment(&caller)?;
    let digest = digest(&body.digest)?;
    if body.reason.trim().is_empty() {
        return Err(ApiError::bad("give the reason for the block"));
    }
    if let Some(until) = &body.until
        && customs_types::time::parse_date(until).is_none()
    {
        return Err(ApiError::bad(format!(
            "`until` {until} is not a date (YYYY-MM-DD)"
        )));
    }
    let block = state
        .store
        .clone()
        .with_actor(caller.label())
        .block(&digest, &body.reason, body.until.as_deref())
        .await?;
    state.admission.forget(&digest);
    Ok((StatusCode::CREATED, Json(block)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct UnblockQuery {
    reason: String,
}

pub(crate) async fn unblock(
    Shared(state): Shared<Arc<State>>,
    Extension(caller): Extension<Caller>,
    Path(text): Path<String>,
    Query(q): Query<UnblockQuery>,
) -> Answer {
    every_environment(&caller)?;
    let digest = digest(&text)?;
    if state
        .store
        .block_of(&digest, &customs_store::now())
        .await?
        .is_none()
    {
        return Err(ApiError::not_found(format!("{digest} is not blocked")));
    }
    state
        .store
        .clone()
        .with_actor(caller.label())
        .unblock(&digest, &q.reason)
        .await?;
    state.admission.forget(&digest);
    Ok(StatusCode::NO_CONTENT.into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ScanRequest {
    /// `registry/repository@sha256:…` or a tag (resolved now).
    reference: String,
    /// Environments to gate it for (default: the server's push
    /// environments).
    environments: Option<Vec<String>>,
}

/// Queues a scan and gate of one image; the answer is the job.
pub(crate) async fn scan(
    Shared(state): Shared<Arc<State>>,
    Extension(caller): Extension<Caller>,
    Json(body): Json<ScanRequest>,
) -> Answer {
    let environments = body
        .environments
        .unwrap_or_else(|| state.config.push_environments.clone());
    if let Some(env) = environments.iter().find(|e| !caller.may_change(e)) {
        return Err(ApiError::forbidden(format!(
            "token {} may not gate for {env}",
            caller.label()
        )));
    }
    let (reference, digest) = pinned(&state, &body.reference).await?;
    let pinned = format!("{}@{digest}", reference.name());
    let (job, _) =
        crate::worker::queue_scan(&state, &pinned, &environments, &caller.label()).await?;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

/// Queues a rescan of every deployed digest now.
pub(crate) async fn rescan(
    Shared(state): Shared<Arc<State>>,
    Extension(caller): Extension<Caller>,
) -> Answer {
    let job = crate::worker::queue_rescan(&state, &caller.label()).await?;
    Ok((StatusCode::ACCEPTED, Json(job)).into_response())
}

#[derive(Deserialize)]
pub(crate) struct JobsQuery {
    state: Option<String>,
    limit: Option<i64>,
}

pub(crate) async fn jobs(Shared(state): Shared<Arc<State>>, Query(q): Query<JobsQuery>) -> Answer {
    let limit = q.limit.unwrap_or(100).clamp(1, 1_000);
    ok(state.store.jobs(q.state.as_deref(), limit).await?)
}

pub(crate) async fn job(Shared(state): Shared<Arc<State>>, Path(id): Path<String>) -> Answer {
    let id: i64 = id
        .parse()
        .map_err(|_| ApiError::bad(format!("`{id}` is not a job id")))?;
    match state.store.job(id).await? {
        Some(job) => ok(job),
        None => Err(ApiError::not_found(format!("no job {id}"))),
    }
}

pub(crate) async fn tokens(Shared(state): Shared<Arc<State>>) -> Answer {
    ok(state.store.tokens().await?)
}
