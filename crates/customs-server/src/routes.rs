//! Every route, once: its method and path, the scope it needs, what the
//! OpenAPI document says of it, and its handler. The router and the
//! document are both made from this list.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State as Shared};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, delete, get, post};
use serde_json::json;

use crate::State;
use crate::api::{self, ApiError};
use crate::auth::{Access, Refusal, Scope};

/// A query or path parameter.
pub(crate) struct Param {
    pub(crate) name: &'static str,
    /// `path` or `query`.
    pub(crate) location: &'static str,
    /// A JSON schema type: `string`, `boolean`, `integer`.
    pub(crate) kind: &'static str,
    pub(crate) required: bool,
    pub(crate) description: &'static str,
}

const fn path(name: &'static str, description: &'static str) -> Param {
    Param {
        name,
        location: "path",
        kind: "string",
        required: true,
        description,
    }
}

const fn query(
    name: &'static str,
    kind: &'static str,
    required: bool,
    description: &'static str,
) -> Param {
    Param {
        name,
        location: "query",
        kind,
        required,
        description,
    }
}

/// One route.
pub(crate) struct Route {
    /// `get`, `post`, `delete`.
    pub(crate) method: &'static str,
    /// The path, in OpenAPI's (and axum's) `{param}` syntax.
    pub(crate) path: &'static str,
    pub(crate) access: Access,
    pub(crate) tag: &'static str,
    pub(crate) operation: &'static str,
    pub(crate) summary: &'static str,
    pub(crate) params: Vec<Param>,
    /// The request body's schema (a component name).
    pub(crate) body: Option<&'static str>,
    /// The success status, its media type and schema (a component name).
    pub(crate) ok: (u16, &'static str, &'static str),
    pub(crate) handler: fn() -> MethodRouter<Arc<State>>,
}

const DIGEST: Param = path("digest", "A manifest digest, `sha256:…`.");
const JSON: &str = "application/json";
const HTML: &str = "text/html";

/// Every route.
#[allow(clippy::too_many_lines)]
pub(crate) fn routes() -> Vec<Route> {
    use Access::{Public, Token};
    use Scope::{Admin, Read, Write};
    vec![
        Route {
            method: "get",
            path: "/healthz",
            access: Public,
            tag: "server",
            operation: "health",
            summary: "Whether the server and its store answer.",
            params: vec![],
            body: None,
            ok: (200, JSON, "Health"),
            handler: || get(api::health),
        },
        Route {
            method: "get",
            path: "/openapi.json",
            access: Public,
            tag: "server",
            operation: "openapi",
            summary: "This document.",
            params: vec![],
            body: None,
            ok: (200, JSON, "Object"),
            handler: || get(api::openapi),
        },
        Route {
            method: "get",
            path: "/metrics",
            access: Token(Read),
            tag: "server",
            operation: "metrics",
            summary: "Prometheus metrics: requests, latencies, admission reviews, the queue.",
            params: vec![],
            body: None,
            ok: (200, "text/plain", "Text"),
            handler: || get(api::metrics),
        },
        Route {
            method: "get",
            path: "/api/v1/images",
            access: Token(Read),
            tag: "images",
            operation: "findImages",
            summary: "The digests a reference (tag, digest or digest prefix) names in the store.",
            params: vec![query(
                "reference",
                "string",
                true,
                "`registry/repository:tag`, a digest or a prefix of one.",
            )],
            body: None,
            ok: (200, JSON, "Object"),
            handler: || get(api::images),
        },
        Route {
            method: "get",
            path: "/api/v1/images/{digest}",
            access: Token(Read),
            tag: "images",
            operation: "getImage",
            summary: "A digest's tags, block, deployments and whole history.",
            params: vec![DIGEST],
            body: None,
            ok: (200, JSON, "Image"),
            handler: || get(api::image),
        },
        Route {
            method: "get",
            path: "/api/v1/images/{digest}/sbom",
            access: Token(Read),
            tag: "images",
            operation: "getSbom",
            summary: "The stored SBOM, as SPDX 2.3 or CycloneDX 1.6 JSON.",
            params: vec![
                DIGEST,
                query(
                    "format",
                    "string",
                    false,
                    "`spdx-json` (default) or `cyclonedx-json`.",
                ),
            ],
            body: None,
            ok: (200, "application/spdx+json", "Object"),
            handler: || get(api::sbom),
        },
        Route {
            method: "get",
            path: "/api/v1/images/{digest}/records",
            access: Token(Read),
            tag: "images",
            operation: "getRecords",
            summary: "The digest's records (scans, decisions, signature checks, …), oldest first.",
            params: vec![
                DIGEST,
                query(
                    "kind",
                    "string",
                    false,
                    "Only records of this kind: `scan`, `gate`, `verify`, …",
                ),
            ],
            body: None,
            ok: (200, JSON, "Array"),
            handler: || get(api::records),
        },
        Route {
            method: "get",
            path: "/api/v1/images/{digest}/decision",
            access: Token(Read),
            tag: "images",
            operation: "getDecision",
            summary: "The newest gate decision of the digest for an environment, with its decision record.",
            params: vec![DIGEST, query("env", "string", true, "The environment.")],
            body: None,
            ok: (200, JSON, "Object"),
            handler: || get(api::decision),
        },
        Route {
            method: "get",
            path: "/api/v1/images/{digest}/findings",
            access: Token(Read),
            tag: "images",
            operation: "getFindings",
            summary: "What the newest gate decision found: vulnerabilities (and the suppressed), secrets (redacted), lint, signatures, attestations, provenance.",
            params: vec![
                DIGEST,
                query(
                    "env",
                    "string",
                    false,
                    "The newest decision for this environment (default: of any).",
                ),
            ],
            body: None,
            ok: (200, JSON, "Object"),
            handler: || get(api::findings),
        },
        Route {
            method: "get",
            path: "/api/v1/where/{digest}",
            access: Token(Read),
            tag: "inventory",
            operation: "where",
            summary: "Where a digest runs and ran, and whether it is blocked.",
            params: vec![DIGEST],
            body: None,
            ok: (200, JSON, "Object"),
            handler: || get(api::where_),
        },
        Route {
            method: "get",
            path: "/api/v1/who-has",
            access: Token(Read),
            tag: "inventory",
            operation: "whoHas",
            summary: "The images holding a package (optionally below a version), optionally only those deployed.",
            params: vec![
                query(
                    "package",
                    "string",
                    true,
                    "`name`, `name@1.2.3` or `name@<1.2.3`.",
                ),
                query(
                    "type",
                    "string",
                    false,
                    "The package type: `deb`, `apk`, `npm`, …",
                ),
                query("deployed", "boolean", false, "Only images that run now."),
                query(
                    "env",
                    "string",
                    false,
                    "Only images that run in this environment.",
                ),
            ],
            body: None,
            ok: (200, JSON, "Array"),
            handler: || get(api::who_has),
        },
        Route {
            method: "get",
            path: "/api/v1/affected",
            access: Token(Read),
            tag: "inventory",
            operation: "affected",
            summary: "The stored images an advisory affects, matched against the advisory database as it is now.",
            params: vec![
                query(
                    "id",
                    "string",
                    true,
                    "Advisory ids (CVE, GHSA, …), comma-separated.",
                ),
                query(
                    "env",
                    "string",
                    false,
                    "Only images deployed in this environment.",
                ),
            ],
            body: None,
            ok: (200, JSON, "Array"),
            handler: || get(api::affected),
        },
        Route {
            method: "get",
            path: "/api/v1/deployments",
            access: Token(Read),
            tag: "deployments",
            operation: "listDeployments",
            summary: "What runs where now (every event with `all`).",
            params: vec![
                query("env", "string", false, "Only this environment."),
                query(
                    "all",
                    "boolean",
                    false,
                    "Every event, not only the current deployment of each slot.",
                ),
            ],
            body: None,
            ok: (200, JSON, "Array"),
            handler: || get(api::deployments),
        },
        Route {
            method: "post",
            path: "/api/v1/deployments",
            access: Token(Write),
            tag: "deployments",
            operation: "recordDeployment",
            summary: "Records that an image runs as a service; a tag is resolved to its digest at the registry.",
            params: vec![],
            body: Some("DeploymentRequest"),
            ok: (201, JSON, "Object"),
            handler: || post(api::record_deployment),
        },
        Route {
            method: "get",
            path: "/api/v1/blocks",
            access: Token(Read),
            tag: "blocks",
            operation: "listBlocks",
            summary: "The digests blocked now.",
            params: vec![],
            body: None,
            ok: (200, JSON, "Array"),
            handler: || get(api::blocks),
        },
        Route {
            method: "post",
            path: "/api/v1/blocks",
            access: Token(Admin),
            tag: "blocks",
            operation: "block",
            summary: "Blocks a digest in every environment (until a date, when given).",
            params: vec![],
            body: Some("BlockRequest"),
            ok: (201, JSON, "Object"),
            handler: || post(api::block),
        },
        Route {
            method: "delete",
            path: "/api/v1/blocks/{digest}",
            access: Token(Admin),
            tag: "blocks",
            operation: "unblock",
            summary: "Lifts a digest's block.",
            params: vec![DIGEST, query("reason", "string", true, "Why.")],
            body: None,
            ok: (204, JSON, "Object"),
            handler: || delete(api::unblock),
        },
        Route {
            method: "post",
            path: "/api/v1/scans",
            access: Token(Write),
            tag: "jobs",
            operation: "queueScan",
            summary: "Queues a scan and gate of an image; a tag is resolved to its digest first.",
            params: vec![],
            body: Some("ScanRequest"),
            ok: (202, JSON, "Job"),
            handler: || post(api::scan),
        },
        Route {
            method: "post",
            path: "/api/v1/rescans",
            access: Token(Write),
            tag: "jobs",
            operation: "queueRescan",
            summary: "Queues an advisory update and a rescan of every deployed digest's stored SBOM.",
            params: vec![],
            body: None,
            ok: (202, JSON, "Job"),
            handler: || post(api::rescan),
        },
        Route {
            method: "get",
            path: "/api/v1/jobs",
            access: Token(Read),
            tag: "jobs",
            operation: "listJobs",
            summary: "The newest jobs of the queue.",
            params: vec![
                query(
                    "state",
                    "string",
                    false,
                    "`queued`, `running`, `done` or `failed`.",
                ),
                query(
                    "limit",
                    "integer",
                    false,
                    "At most this many (1 to 1000, default 100).",
                ),
            ],
            body: None,
            ok: (200, JSON, "Array"),
            handler: || get(api::jobs),
        },
        Route {
            method: "get",
            path: "/api/v1/jobs/{id}",
            access: Token(Read),
            tag: "jobs",
            operation: "getJob",
            summary: "One job, with its result once done.",
            params: vec![path("id", "The job's id.")],
            body: None,
            ok: (200, JSON, "Job"),
            handler: || get(api::job),
        },
        Route {
            method: "get",
            path: "/api/v1/tokens",
            access: Token(Admin),
            tag: "server",
            operation: "listTokens",
            summary: "The API tokens (names, scopes, environments; never the tokens).",
            params: vec![],
            body: None,
            ok: (200, JSON, "Array"),
            handler: || get(api::tokens),
        },
        Route {
            method: "post",
            path: "/hooks/registry",
            access: Token(Write),
            tag: "webhooks",
            operation: "registryNotification",
            summary: "A distribution (docker-registry) notification envelope: each manifest push queues a scan and gate.",
            params: vec![],
            body: Some("RegistryEnvelope"),
            ok: (202, JSON, "Queued"),
            handler: || post(crate::hooks::registry),
        },
        Route {
            method: "post",
            path: "/hooks/harbor",
            access: Token(Write),
            tag: "webhooks",
            operation: "harborWebhook",
            summary: "A Harbor webhook (PUSH_ARTIFACT): each pushed artifact queues a scan and gate.",
            params: vec![],
            body: Some("HarborEvent"),
            ok: (202, JSON, "Queued"),
            handler: || post(crate::hooks::harbor),
        },
        Route {
            method: "get",
            path: "/ui",
            access: Access::Page,
            tag: "dashboard",
            operation: "fleetPage",
            summary: "Dashboard: what runs where with each digest's verdict, blocked digests still running, expiring exceptions.",
            params: vec![query("env", "string", false, "Only this environment.")],
            body: None,
            ok: (200, HTML, "Text"),
            handler: || get(crate::ui::fleet),
        },
        Route {
            method: "get",
            path: "/ui/images/{digest}",
            access: Access::Page,
            tag: "dashboard",
            operation: "imagePage",
            summary: "Dashboard: a digest's evidence chain (tags, decisions, findings, secrets, signatures, attestations, promotions, deployments, SBOM, history).",
            params: vec![
                DIGEST,
                query(
                    "q",
                    "string",
                    false,
                    "Find packages of the SBOM by name or purl.",
                ),
            ],
            body: None,
            ok: (200, HTML, "Text"),
            handler: || get(crate::ui::image),
        },
        Route {
            method: "get",
            path: "/ui/services/{service}",
            access: Access::Page,
            tag: "dashboard",
            operation: "servicePage",
            summary: "Dashboard: findings over time of the digests a service ran.",
            params: vec![
                path("service", "The service."),
                query("env", "string", false, "Only this environment."),
            ],
            body: None,
            ok: (200, HTML, "Text"),
            handler: || get(crate::ui::service),
        },
        Route {
            method: "get",
            path: "/ui/search",
            access: Access::Page,
            tag: "dashboard",
            operation: "searchPage",
            summary: "Dashboard: who has a package, or which images an advisory affects.",
            params: vec![
                query("q", "string", false, "A package spec or an advisory id."),
                query("deployed", "string", false, "Only images that run now."),
            ],
            body: None,
            ok: (200, HTML, "Text"),
            handler: || get(crate::ui::search),
        },
        Route {
            method: "get",
            path: "/ui/login",
            access: Access::Public,
            tag: "dashboard",
            operation: "signInForm",
            summary: "Dashboard: the sign-in form.",
            params: vec![query(
                "next",
                "string",
                false,
                "The dashboard page to go to after.",
            )],
            body: None,
            ok: (200, HTML, "Text"),
            handler: || get(crate::ui::login_form),
        },
        Route {
            method: "post",
            path: "/ui/login",
            access: Access::Public,
            tag: "dashboard",
            operation: "signIn",
            summary: "Dashboard: sign in with a read token (sets an HttpOnly, SameSite=Strict session cookie).",
            params: vec![],
            body: Some("SignIn"),
            ok: (303, HTML, "Text"),
            handler: || post(crate::ui::login),
        },
        Route {
            method: "post",
            path: "/ui/logout",
            access: Access::Public,
            tag: "dashboard",
            operation: "signOut",
            summary: "Dashboard: sign out (clears the session cookie).",
            params: vec![],
            body: None,
            ok: (303, HTML, "Text"),
            handler: || post(crate::ui::logout),
        },
        Route {
            method: "get",
            path: "/ui/static/customs.css",
            access: Access::Public,
            tag: "dashboard",
            operation: "stylesheet",
            summary: "Dashboard: the stylesheet.",
            params: vec![],
            body: None,
            ok: (200, "text/css", "Text"),
            handler: || get(crate::ui::css),
        },
        Route {
            method: "post",
            path: "/admission",
            access: Token(Read),
            tag: "admission",
            operation: "validate",
            summary: "Kubernetes validating admission webhook (AdmissionReview v1): allows a workload only if each image is signed and passed the gate for the namespace's environment.",
            params: vec![],
            body: Some("AdmissionReview"),
            ok: (200, JSON, "AdmissionReview"),
            handler: || post(crate::admission::validate),
        },
        Route {
            method: "post",
            path: "/admission/mutate",
            access: Token(Read),
            tag: "admission",
            operation: "mutate",
            summary: "Kubernetes mutating admission webhook: rewrites each image tag to its digest (`image@sha256:…`).",
            params: vec![],
            body: Some("AdmissionReview"),
            ok: (200, JSON, "AdmissionReview"),
            handler: || post(crate::admission::mutate),
        },
    ]
}

/// The application.
pub(crate) fn router(state: &Arc<State>) -> Router {
    let mut router: Router<Arc<State>> = Router::new();
    for route in routes() {
        let handler = (route.handler)();
        let handler = match route.access {
            Access::Public => handler,
            Access::Token(scope) => {
                handler.route_layer(from_fn_with_state((state.clone(), scope), guard))
            }
            Access::Page => handler.route_layer(from_fn_with_state(state.clone(), page_guard)),
        };
        router = router.route(route.path, handler);
    }
    router
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "no such route (see /openapi.json)")
        })
        .layer(DefaultBodyLimit::max(state.config.body_limit))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            state.config.request_timeout,
        ))
        .layer(from_fn_with_state(state.clone(), observe))
        .with_state(state.clone())
}

/// Who called, for the request log.
#[derive(Clone)]
struct CallerLabel(String);

/// Checks the token and its scope, and the caller's rate, before the
/// handler runs. The client hears 401, 403 or 429; the log hears why.
async fn guard(
    Shared((state, scope)): Shared<(Arc<State>, Scope)>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::auth::bearer);
    let caller = match state.tokens.check(&state.store, token, scope).await {
        Ok(caller) => caller,
        Err(Refusal::Unauthenticated(why)) => {
            let mut response = ApiError::new(StatusCode::UNAUTHORIZED, why).into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"customs\""),
            );
            return response;
        }
        Err(Refusal::Forbidden(why)) => {
            let mut response = ApiError::new(
                StatusCode::FORBIDDEN,
                "the token's scope does not allow this",
            )
            .into_response();
            response.extensions_mut().insert(CallerLabel(why));
            return response;
        }
    };
    let label = caller.label();
    if let Some(wait) = state.limiter.admit(caller.token.id) {
        let mut response = retry_after(
            ApiError::new(StatusCode::TOO_MANY_REQUESTS, "rate limit: slow down").into_response(),
            wait,
        );
        response.extensions_mut().insert(CallerLabel(label));
        return response;
    }
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    response.extensions_mut().insert(CallerLabel(label));
    response
}

/// A 429 answer says when to come back (whole seconds, at least one).
fn retry_after(mut response: Response, wait: std::time::Duration) -> Response {
    if let Ok(value) = HeaderValue::from_str(&wait.as_secs().max(1).to_string()) {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The session cookie's token, when the request carries one.
fn session(request: &Request) -> Option<String> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|c| {
            c.trim()
                .strip_prefix(crate::ui::COOKIE)
                .and_then(|rest| rest.strip_prefix('='))
                .map(str::to_owned)
        })
        .filter(|t| !t.is_empty())
}

/// A dashboard page: a read token (cookie or header) signs the viewer
/// in; without one, the sign-in form — or, with `public_dashboard`, the
/// page read-only.
async fn page_guard(
    Shared(state): Shared<Arc<State>>,
    mut request: Request,
    next: Next,
) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(crate::auth::bearer)
        .map(str::to_owned)
        .or_else(|| session(&request));
    let caller = match token {
        Some(t) => state
            .tokens
            .check(&state.store, Some(&t), Scope::Read)
            .await
            .ok(),
        None => None,
    };
    let label = caller.as_ref().map(crate::auth::Caller::label);
    if caller.is_none() && !state.config.public_dashboard {
        let path = request.uri().path_and_query().map_or("/ui", |p| p.as_str());
        return crate::ui::redirect(
            &format!("/ui/login?next={}", crate::html::encode(path)),
            None,
        );
    }
    if let Some(caller) = &caller
        && let Some(wait) = state.limiter.admit(caller.token.id)
    {
        return retry_after(
            crate::ui::html(
                StatusCode::TOO_MANY_REQUESTS,
                "rate limit: slow down".to_owned(),
            ),
            wait,
        );
    }
    request.extensions_mut().insert(crate::ui::Viewer {
        signed_in: caller.is_some(),
    });
    let mut response = next.run(request).await;
    if let Some(label) = label {
        response.extensions_mut().insert(CallerLabel(label));
    }
    response
}

/// Counts, times and logs every request.
async fn observe(Shared(state): Shared<Arc<State>>, request: Request, next: Next) -> Response {
    let start = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().to_string();
    let response = next.run(request).await;
    let elapsed = start.elapsed();
    let status = response.status().as_u16();
    state.metrics.request(&route, &method, status, elapsed);
    let caller = response
        .extensions()
        .get::<CallerLabel>()
        .map(|c| c.0.clone());
    state.logger.log(
        if status >= 500 { "error" } else { "info" },
        "request",
        json!({
            "method": method,
            "route": route,
            "status": status,
            "ms": (elapsed.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0,
            "caller": caller,
        }),
    );
    response
}
