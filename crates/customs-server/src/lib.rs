//! `customs serve`: a JSON API over the evidence store, registry webhooks
//! that queue a scan and gate of each pushed digest, a worker pool and a
//! scheduler on a queue in the store, and a Kubernetes admission webhook.
//!
//! The server decides nothing itself: scanning, gating and signature checks
//! are the [`Engine`] the `customs` binary gives it — the same code its
//! commands run — so that the CLI and the server never disagree. Routes and
//! the OpenAPI document come from one list ([`routes`]), and each route
//! names the token scope it needs; a guard applies it before the handler.

mod admission;
mod api;
mod auth;
mod hooks;
mod html;
mod log;
mod metrics;
mod openapi;
mod routes;
mod tls;
mod ui;
mod worker;

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use customs_store::Store;
use customs_types::Digest;

pub use admission::AdmissionConfig;
pub use auth::{Scope, hash_token, new_token};
pub use log::Logger;
pub use tls::TlsFiles;
pub use worker::{WorkerConfig, run_workers};

/// The parsers of what the server is sent, as plain functions (for the
/// fuzz targets): each returns a value or an error, never panics.
pub mod inputs {
    /// The images a distribution notification envelope asks to scan.
    ///
    /// # Errors
    /// Not an envelope.
    pub fn registry_notification(body: &[u8]) -> Result<Vec<String>, String> {
        crate::hooks::registry_pushes(body).map(scans)
    }

    fn scans(pushes: Vec<crate::hooks::Push>) -> Vec<String> {
        pushes
            .into_iter()
            .filter_map(|p| match p {
                crate::hooks::Push::Scan { reference } => Some(reference),
                crate::hooks::Push::Ignored(_) => None,
            })
            .collect()
    }

    /// The images a Harbor webhook asks to scan.
    ///
    /// # Errors
    /// Not a Harbor payload.
    pub fn harbor_event(body: &[u8]) -> Result<Vec<String>, String> {
        crate::hooks::harbor_pushes(body).map(scans)
    }

    /// The container images of an AdmissionReview's object, each with
    /// the JSON pointer to it (empty when it runs no pod).
    ///
    /// # Errors
    /// Not an admission.k8s.io/v1 AdmissionReview.
    pub fn admission_review(body: &[u8]) -> Result<Vec<(String, String)>, String> {
        crate::admission::images_of_review(body)
    }
}

/// A boxed future, as [`Engine`]'s methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// What the server asks of the rest of customs.
pub trait Engine: Send + Sync + 'static {
    /// Scans `reference` (`registry/repository@digest`), gates it for each
    /// environment, records everything in the store, and sums it up.
    fn scan<'a>(
        &'a self,
        reference: &'a str,
        environments: &'a [String],
    ) -> BoxFuture<'a, anyhow::Result<serde_json::Value>>;

    /// Brings the advisory database up to date (an update, or the import
    /// of a dropped file); a description of what changed, `None` if
    /// nothing did.
    fn refresh(&self) -> BoxFuture<'_, anyhow::Result<Option<String>>>;

    /// The digest `reference` (a tag) names now, from its registry.
    fn resolve<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, anyhow::Result<Digest>>;

    /// Whether `image` (`registry/repository@digest`) may run in
    /// `environment`: signed by a signer the environment trusts, and a
    /// gate decision that is not `deny`.
    fn admit<'a>(
        &'a self,
        image: &'a str,
        environment: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Admit>>;

    /// The exceptions that expire within `days` days or have expired:
    /// `{id, waives, scope, owner, state}` each.
    fn expiring(&self, days: i64) -> BoxFuture<'_, anyhow::Result<Vec<serde_json::Value>>>;
}

/// An admission check's answer for one image.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Admit {
    /// Whether it may run.
    pub allowed: bool,
    /// Why not (or why, for an allow).
    pub reasons: Vec<String>,
    /// Warnings for the user (a `warn` verdict's reasons).
    pub warnings: Vec<String>,
}

/// How the server runs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Environments a pushed digest is gated for.
    pub push_environments: Vec<String>,
    /// The advisory database folder (for `affected` and rescans).
    pub db_dir: PathBuf,
    /// Requests per second per token (with twice that as a burst); 0: no
    /// limit.
    pub rate_limit: u32,
    /// The largest request body.
    pub body_limit: usize,
    /// How long one request may take.
    pub request_timeout: Duration,
    /// How long a looked-up token is trusted before it is looked up again
    /// (a revocation takes this long at most to apply).
    pub token_cache: Duration,
    /// The admission webhook's settings.
    pub admission: AdmissionConfig,
    /// The worker pool and scheduler.
    pub worker: WorkerConfig,
    /// Serve the dashboard's pages read-only without sign-in (an internal
    /// network); the API stays guarded.
    pub public_dashboard: bool,
    /// Mark the session cookie `Secure` (the server speaks TLS).
    pub secure_cookies: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            push_environments: vec!["dev".to_owned()],
            db_dir: PathBuf::from("."),
            rate_limit: 1_000,
            body_limit: 4 << 20,
            request_timeout: Duration::from_secs(60),
            token_cache: Duration::from_secs(5),
            admission: AdmissionConfig::default(),
            worker: WorkerConfig::default(),
            public_dashboard: false,
            secure_cookies: false,
        }
    }
}

/// What every handler shares.
pub struct State {
    store: Store,
    engine: Arc<dyn Engine>,
    config: Config,
    tokens: auth::Tokens,
    metrics: metrics::Metrics,
    limiter: metrics::Limiter,
    admission: admission::Cache,
    logger: Logger,
    /// Wakes this process's workers when a job is queued.
    queued: tokio::sync::Notify,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

impl State {
    /// The shared state of one server process.
    #[must_use]
    pub fn new(store: Store, engine: Arc<dyn Engine>, config: Config, logger: Logger) -> Arc<Self> {
        Arc::new(Self {
            tokens: auth::Tokens::new(config.token_cache),
            limiter: metrics::Limiter::new(config.rate_limit),
            admission: admission::Cache::new(config.admission.cache_ttl),
            metrics: metrics::Metrics::default(),
            store,
            engine,
            config,
            logger,
            queued: tokio::sync::Notify::new(),
        })
    }

    /// The store.
    #[must_use]
    pub fn store(&self) -> &Store {
        &self.store
    }
}

/// The application: every route of [`routes`], guarded, with limits,
/// metrics and logs.
pub fn router(state: &Arc<State>) -> axum::Router {
    routes::router(state)
}

/// The OpenAPI 3.1 document of the routes.
#[must_use]
pub fn openapi_document() -> serde_json::Value {
    openapi::document(&routes::routes())
}

/// Serves `router` on `listener` (with TLS when `tls` is given) until
/// `shutdown` resolves; requests in flight are finished.
///
/// # Errors
/// Unreadable TLS files, or the listener failing.
pub async fn serve(
    listener: tokio::net::TcpListener,
    tls: Option<&TlsFiles>,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let app = router.into_make_service();
    match tls {
        Some(files) => {
            let listener = tls::TlsListener::new(listener, files)?;
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
    }
    Ok(())
}

/// Runs `make()`'s future on a blocking thread: for work that holds the
/// advisory index (a SQLite connection, not `Sync`) across awaits, here
/// and in the engine the binary gives the server.
///
/// # Errors
/// The task panicked or was cancelled.
pub async fn on_blocking<T, F>(
    make: impl FnOnce() -> F + Send + 'static,
) -> Result<T, tokio::task::JoinError>
where
    T: Send + 'static,
    F: Future<Output = T>,
{
    let handle = tokio::runtime::Handle::current();
    tokio::task::spawn_blocking(move || handle.block_on(make())).await
}

#[cfg(test)]
mod tests;
