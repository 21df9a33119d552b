//! An HTTP client for one registry: scheme detection, authentication
//! (anonymous, basic, bearer tokens cached per scope, identity tokens), and
//! retries with backoff on 429 and 5xx responses honouring `Retry-After`.
//!
//! Protocol: [OCI distribution spec](https://github.com/opencontainers/distribution-spec/blob/main/spec.md)
//! and Docker's [token authentication](https://distribution.github.io/distribution/spec/auth/token/).

use std::collections::HashMap;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use customs_types::{Digest, Hasher, Redacted};
use futures_util::{StreamExt as _, TryStreamExt as _};
use reqwest::header::{self, HeaderMap};
use reqwest::{RequestBuilder, Response, StatusCode};
use tokio::sync::{Mutex, OnceCell};

use super::challenge::{self, Challenge};
use super::{Progress, RegistryError};
use crate::error::{IntegrityError, SourceError};

/// Credentials for a registry.
#[derive(Clone)]
pub enum Credential {
    /// A username and password (or personal access token).
    Basic {
        /// The user.
        username: String,
        /// The password, never printed.
        password: Redacted<String>,
    },
    /// An OAuth2 refresh token from `docker login` against an identity provider.
    IdentityToken(Redacted<String>),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Basic { username, .. } => write!(f, "Basic({username}, [redacted])"),
            Self::IdentityToken(_) => f.write_str("IdentityToken([redacted])"),
        }
    }
}

/// How registries are reached.
#[derive(Debug, Clone)]
pub struct RegistryOptions {
    /// Hosts (`host[:port]`) that may be reached over plain HTTP. Loopback
    /// hosts are always allowed to fall back to HTTP.
    pub insecure_hosts: Vec<String>,
    /// Credentials given on the command line, for the image's registry.
    pub credentials: Option<Credential>,
    /// Whether to read `~/.docker/config.json` and credential helpers.
    pub use_docker_config: bool,
    /// Where verified blobs are cached (content-addressed).
    pub cache_dir: PathBuf,
    /// Timeout for establishing a connection.
    pub connect_timeout: Duration,
    /// Timeout between two reads of a response.
    pub read_timeout: Duration,
    /// The whole of one request for a manifest, config or token, body
    /// included: a body trickled byte by byte ends here.
    pub request_timeout: Duration,
    /// The slowest a blob may arrive on average, after `request_timeout`:
    /// a blob of N bytes must be in within `request_timeout + N / rate`.
    pub min_blob_rate: u64,
    /// How long one request may keep being retried (429 with
    /// `Retry-After`, 5xx, network errors) before customs gives up.
    pub retry_window: Duration,
    /// Attempts per request for 429, 5xx and network errors.
    pub max_attempts: u32,
    /// First backoff delay, doubled each attempt.
    pub base_delay: Duration,
    /// Longest wait between attempts, also the cap on `Retry-After`.
    pub max_delay: Duration,
    /// Blobs downloaded at once.
    pub concurrency: usize,
}

impl RegistryOptions {
    /// Defaults with blobs cached under `cache_dir`.
    #[must_use]
    pub fn new(cache_dir: PathBuf) -> Self {
        Self {
            insecure_hosts: Vec::new(),
            credentials: None,
            use_docker_config: true,
            cache_dir,
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(60),
            request_timeout: Duration::from_secs(60),
            min_blob_rate: 64 * 1024,
            retry_window: Duration::from_secs(120),
            max_attempts: 5,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(30),
            concurrency: 4,
        }
    }
}

#[derive(Default)]
struct AuthState {
    challenge: Option<Challenge>,
    tokens: HashMap<String, (Redacted<String>, Instant)>,
}

/// A client for one registry host.
pub struct RegistryClient {
    http: reqwest::Client,
    registry: String,
    api_host: String,
    base: OnceCell<String>,
    credential: Option<Credential>,
    auth: Mutex<AuthState>,
    options: Arc<RegistryOptions>,
}

/// A fetched manifest.
pub(crate) struct FetchedManifest {
    pub(crate) bytes: Vec<u8>,
    pub(crate) media_type: Option<String>,
    pub(crate) digest: Digest,
}

fn is_loopback(host: &str) -> bool {
    let name = host
        .strip_prefix('[')
        .and_then(|h| h.split_once(']').map(|(h, _)| h))
        .unwrap_or_else(|| {
            host.rsplit_once(':').map_or(host, |(h, p)| {
                if p.bytes().all(|b| b.is_ascii_digit()) {
                    h
                } else {
                    host
                }
            })
        });
    name == "localhost" || name.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Whether a registry may be reached over plain HTTP: loopback hosts, and
/// hosts the user named with `--insecure-registry` (by API host or by the
/// name users write). Everything else is HTTPS only.
fn plain_http_allowed(api_host: &str, registry: &str, insecure_hosts: &[String]) -> bool {
    is_loopback(api_host)
        || insecure_hosts
            .iter()
            .any(|h| h == api_host || h == registry)
}

impl RegistryClient {
    /// A client for `registry` (as users write it) served at `api_host`.
    ///
    /// # Errors
    /// When the HTTP client cannot be built or the Docker config is unreadable.
    pub fn new(
        registry: &str,
        api_host: &str,
        options: Arc<RegistryOptions>,
    ) -> Result<Self, RegistryError> {
        crate::install_crypto_provider();
        let http = reqwest::Client::builder()
            .user_agent(concat!("customs/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(options.connect_timeout)
            .read_timeout(options.read_timeout)
            .build()
            .map_err(|source| RegistryError::Client { source })?;
        let credential = match &options.credentials {
            Some(c) => Some(c.clone()),
            None if options.use_docker_config => docker_config_credential(registry)?,
            None => None,
        };
        Ok(Self {
            http,
            registry: registry.to_owned(),
            api_host: api_host.to_owned(),
            base: OnceCell::new(),
            credential,
            auth: Mutex::new(AuthState::default()),
            options,
        })
    }

    /// The registry's name as users write it.
    pub fn registry(&self) -> &str {
        &self.registry
    }

    async fn base(&self) -> Result<&str, RegistryError> {
        self.base
            .get_or_try_init(|| async {
                let insecure_allowed = plain_http_allowed(
                    &self.api_host,
                    &self.registry,
                    &self.options.insecure_hosts,
                );
                let https = format!("https://{}", self.api_host);
                let attempts = if insecure_allowed {
                    1
                } else {
                    self.options.max_attempts
                };
                match self.ping(&https, attempts).await {
                    Ok(()) => Ok(https),
                    Err(RegistryError::Transport { .. }) if insecure_allowed => {
                        let http = format!("http://{}", self.api_host);
                        self.ping(&http, self.options.max_attempts)
                            .await
                            .map(|()| http)
                    }
                    Err(e) => Err(e),
                }
            })
            .await
            .map(String::as_str)
    }

    async fn ping(&self, base: &str, attempts: u32) -> Result<(), RegistryError> {
        let url = format!("{base}/v2/");
        let response = self
            .with_attempts(&url, attempts, self.options.request_timeout, || {
                self.http.get(&url)
            })
            .await?;
        if response.status() == StatusCode::UNAUTHORIZED {
            self.remember_challenge(response.headers()).await;
        }
        Ok(())
    }

    async fn remember_challenge(&self, headers: &HeaderMap) {
        let parsed = headers
            .get_all(header::WWW_AUTHENTICATE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .filter_map(challenge::parse)
            .max_by_key(|c| matches!(c, Challenge::Bearer { .. }));
        if let Some(c) = parsed {
            self.auth.lock().await.challenge = Some(c);
        }
    }

    /// Sends a request, retrying on network errors, 429 and 5xx.
    async fn with_retries(
        &self,
        url: &str,
        timeout: Duration,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        self.with_attempts(url, self.options.max_attempts, timeout, make)
            .await
    }

    /// Sends a request, each attempt bounded by `timeout` (body included),
    /// retrying within [`RegistryOptions::retry_window`]: a wait that would
    /// end past the window is not waited, and says so.
    async fn with_attempts(
        &self,
        url: &str,
        max_attempts: u32,
        timeout: Duration,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let started = Instant::now();
        let window = self.options.retry_window;
        let too_long = |attempt: u32, wait: Duration, why: &str| RegistryError::TimedOut {
            url: redact_url(url),
            what: format!(
                "gave up after {attempt} attempts in {}s: {why}, and waiting {}s more would pass the {}s retry window",
                started.elapsed().as_secs(),
                wait.as_secs(),
                window.as_secs()
            ),
        };
        let mut attempt = 0;
        loop {
            attempt += 1;
            let last = attempt >= max_attempts;
            match make().timeout(timeout).send().await {
                Err(source) if source.is_timeout() => {
                    return Err(RegistryError::TimedOut {
                        url: redact_url(url),
                        what: format!("no answer within {}s (--timeout)", timeout.as_secs()),
                    });
                }
                Err(source)
                    if last
                        || !(source.is_connect() || source.is_timeout() || source.is_request()) =>
                {
                    return Err(RegistryError::Transport {
                        url: redact_url(url),
                        source,
                    });
                }
                Err(_) => {
                    let wait = self.backoff(attempt);
                    if started.elapsed() + wait > window {
                        return Err(too_long(attempt, wait, "the registry cannot be reached"));
                    }
                    tokio::time::sleep(wait).await;
                }
                Ok(response) => {
                    let status = response.status();
                    if status == StatusCode::TOO_MANY_REQUESTS
                        || matches!(status.as_u16(), 500 | 502 | 503 | 504)
                    {
                        if last {
                            return Err(RegistryError::RetriesExhausted {
                                url: redact_url(url),
                                attempts: attempt,
                                status: status.as_u16(),
                            });
                        }
                        let asked = retry_after(response.headers());
                        let delay = asked.map_or_else(
                            || self.backoff(attempt),
                            |d| d.min(self.options.max_delay),
                        );
                        if started.elapsed() + delay > window {
                            let why = match asked {
                                Some(asked) => format!(
                                    "HTTP {} asking to wait {}s (Retry-After)",
                                    status.as_u16(),
                                    asked.as_secs()
                                ),
                                None => format!("HTTP {}", status.as_u16()),
                            };
                            return Err(too_long(attempt, delay, &why));
                        }
                        tokio::time::sleep(delay).await;
                        continue;
                    }
                    return Ok(response);
                }
            }
        }
    }

    /// How long a blob of `size` bytes may take, up or down: the request
    /// timeout plus its size at the slowest rate allowed.
    fn blob_timeout(&self, size: u64) -> Duration {
        self.options.request_timeout + Duration::from_secs(size / self.options.min_blob_rate.max(1))
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .options
            .base_delay
            .saturating_mul(1 << attempt.min(10).saturating_sub(1));
        // Jitter of up to a quarter, from the clock (no RNG needed for this).
        let nanos = u64::from(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos()),
        );
        let jitter = Duration::from_nanos(nanos % (exp.as_nanos() as u64 / 4 + 1));
        (exp + jitter).min(self.options.max_delay)
    }

    /// Sends an authenticated request for `scope`, answering one 401 challenge.
    async fn send(
        &self,
        url: &str,
        scope: &str,
        timeout: Duration,
        make: impl Fn() -> RequestBuilder,
    ) -> Result<Response, RegistryError> {
        let mut challenged = false;
        loop {
            let authorization = self.authorization(scope).await?;
            let response = self
                .with_retries(url, timeout, || {
                    let request = make();
                    match &authorization {
                        Some(value) => request.header(header::AUTHORIZATION, value.expose()),
                        None => request,
                    }
                })
                .await?;
            if response.status() != StatusCode::UNAUTHORIZED {
                return Ok(response);
            }
            if challenged {
                return Err(if self.credential.is_some() {
                    RegistryError::AuthenticationFailed {
                        registry: self.registry.clone(),
                    }
                } else {
                    RegistryError::AuthenticationRequired {
                        registry: self.registry.clone(),
                    }
                });
            }
            challenged = true;
            self.remember_challenge(response.headers()).await;
            self.auth.lock().await.tokens.remove(scope);
        }
    }

    async fn authorization(&self, scope: &str) -> Result<Option<Redacted<String>>, RegistryError> {
        let challenge = self.auth.lock().await.challenge.clone();
        match challenge {
            None => Ok(None),
            Some(Challenge::Basic) => Ok(match &self.credential {
                Some(Credential::Basic { username, password }) => {
                    let raw = format!("{username}:{}", password.expose());
                    Some(Redacted::new(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(raw)
                    )))
                }
                _ => None,
            }),
            Some(Challenge::Bearer { realm, service, .. }) => {
                if let Some((token, expires)) = self.auth.lock().await.tokens.get(scope)
                    && *expires > Instant::now()
                {
                    return Ok(Some(Redacted::new(format!("Bearer {}", token.expose()))));
                }
                let (token, lifetime) = self.fetch_token(&realm, service.as_deref(), scope).await?;
                let value = Redacted::new(format!("Bearer {}", token.expose()));
                // Renew a little before the registry would refuse the token.
                let expires = Instant::now()
                    + lifetime
                        .saturating_sub(Duration::from_secs(10))
                        .max(Duration::from_secs(5));
                self.auth
                    .lock()
                    .await
                    .tokens
                    .insert(scope.to_owned(), (token, expires));
                Ok(Some(value))
            }
        }
    }

    async fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
    ) -> Result<(Redacted<String>, Duration), RegistryError> {
        let realm_url = reqwest::Url::parse(realm).map_err(|_| RegistryError::BadChallenge {
            registry: self.registry.clone(),
            reason: "the token realm is not a URL".to_owned(),
        })?;
        if realm_url.scheme() != "https"
            && !(realm_url.scheme() == "http" && self.base().await?.starts_with("http://"))
        {
            return Err(RegistryError::BadChallenge {
                registry: self.registry.clone(),
                reason: format!("the token realm `{}` is not HTTPS", redact_url(realm)),
            });
        }
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(service) = service {
            query.push(("service", service));
        }
        // Several scopes (a cross-repository mount needs pull on the
        // source and push on the target) travel as repeated parameters.
        for scope in scope.split(' ').filter(|s| !s.is_empty()) {
            query.push(("scope", scope));
        }
        let response = match &self.credential {
            Some(Credential::IdentityToken(token)) => {
                let form = [
                    ("grant_type", "refresh_token"),
                    ("refresh_token", token.expose().as_str()),
                    ("service", service.unwrap_or_default()),
                    ("scope", scope),
                    ("client_id", "customs"),
                ];
                // (OAuth2 form: scopes are space-separated in one field.)
                self.with_retries(realm, self.options.request_timeout, || {
                    self.http.post(realm_url.clone()).form(&form)
                })
                .await?
            }
            Some(Credential::Basic { username, password }) => {
                self.with_retries(realm, self.options.request_timeout, || {
                    self.http
                        .get(realm_url.clone())
                        .query(&query)
                        .basic_auth(username, Some(password.expose()))
                })
                .await?
            }
            None => {
                self.with_retries(realm, self.options.request_timeout, || {
                    self.http.get(realm_url.clone()).query(&query)
                })
                .await?
            }
        };
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(if self.credential.is_some() {
                RegistryError::AuthenticationFailed {
                    registry: self.registry.clone(),
                }
            } else {
                RegistryError::AuthenticationRequired {
                    registry: self.registry.clone(),
                }
            });
        }
        if !status.is_success() {
            return Err(RegistryError::Status {
                url: redact_url(realm),
                status: status.as_u16(),
                detail: "token request failed".to_owned(),
            });
        }
        let body = read_limited(response, 1 << 20, realm).await?;
        #[derive(serde::Deserialize)]
        struct TokenResponse {
            token: Option<String>,
            access_token: Option<String>,
            expires_in: Option<u64>,
        }
        let parsed: TokenResponse =
            serde_json::from_slice(&body).map_err(|_| RegistryError::BadChallenge {
                registry: self.registry.clone(),
                reason: "the token endpoint answered with something that is not a token response"
                    .to_owned(),
            })?;
        let token = parsed
            .token
            .or(parsed.access_token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| RegistryError::BadChallenge {
                registry: self.registry.clone(),
                reason: "the token response has no token".to_owned(),
            })?;
        Ok((
            Redacted::new(token),
            Duration::from_secs(parsed.expires_in.unwrap_or(60).max(1)),
        ))
    }

    /// Fetches a manifest by tag or digest. A digest reference is verified
    /// against the bytes; a tag's digest is computed from the bytes and must
    /// agree with the registry's `Docker-Content-Digest` header.
    pub(crate) async fn manifest(
        &self,
        repository: &str,
        reference: &str,
        limit: u64,
        accept: &str,
    ) -> Result<FetchedManifest, SourceError> {
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/manifests/{reference}");
        let scope = pull_scope(repository);
        let what = format!("manifest {reference} of {}/{repository}", self.registry);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let response = self
                .send(&url, &scope, self.options.request_timeout, || {
                    self.http.get(&url).header(header::ACCEPT, accept)
                })
                .await?;
            let status = response.status();
            if status == StatusCode::NOT_FOUND {
                return Err(RegistryError::ManifestUnknown {
                    reference: format!("{}/{repository}:{reference}", self.registry)
                        .replace(":sha256:", "@sha256:"),
                }
                .into());
            }
            check_status(&response, &url)?;
            let media_type = response
                .headers()
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.split(';').next().unwrap_or_default().trim().to_owned());
            let header_digest = content_digest(response.headers());
            let bytes = match read_limited(response, limit, &url).await {
                Ok(b) => b,
                Err(RegistryError::BodyTooLarge { .. }) => {
                    return Err(SourceError::too_large(what, limit));
                }
                Err(e @ RegistryError::TimedOut { .. }) => return Err(e.into()),
                Err(_) if attempt < self.options.max_attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            let digest = match Digest::parse(reference) {
                Ok(expected) => {
                    crate::verify::verify_bytes(&bytes, &expected, None, &what)?;
                    expected
                }
                Err(_) => {
                    let computed = Digest::sha256(&bytes);
                    if let Some(header_digest) =
                        header_digest.filter(|d| d.algorithm() == computed.algorithm())
                        && header_digest != computed
                    {
                        return Err(IntegrityError::DigestMismatch {
                            what,
                            expected: header_digest,
                            actual: computed,
                        }
                        .into());
                    }
                    computed
                }
            };
            return Ok(FetchedManifest {
                bytes,
                media_type,
                digest,
            });
        }
    }

    /// GETs a blob: 404 is "blob unknown", other failures are status errors.
    async fn get_blob(
        &self,
        url: &str,
        scope: &str,
        repository: &str,
        digest: &Digest,
        timeout: Duration,
    ) -> Result<Response, RegistryError> {
        let response = self
            .send(url, scope, timeout, || self.http.get(url))
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Err(RegistryError::BlobUnknown {
                digest: digest.clone(),
                repository: format!("{}/{repository}", self.registry),
            });
        }
        check_status(&response, url)?;
        Ok(response)
    }

    /// Fetches a small blob (a config) whole, verified.
    pub(crate) async fn small_blob(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        limit: u64,
        what: &str,
    ) -> Result<Vec<u8>, SourceError> {
        if size > limit {
            return Err(SourceError::too_large(what, limit));
        }
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/blobs/{digest}");
        let scope = pull_scope(repository);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let response = self
                .get_blob(
                    &url,
                    &scope,
                    repository,
                    digest,
                    self.options.request_timeout,
                )
                .await?;
            match read_limited(response, limit, &url).await {
                Ok(bytes) if (bytes.len() as u64) < size && attempt < self.options.max_attempts => {
                }
                Ok(bytes) => {
                    crate::verify::verify_bytes(&bytes, digest, Some(size), what)?;
                    return Ok(bytes);
                }
                Err(RegistryError::BodyTooLarge { .. }) => {
                    return Err(SourceError::too_large(what, limit));
                }
                Err(e @ RegistryError::TimedOut { .. }) => return Err(e.into()),
                Err(_) if attempt < self.options.max_attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Downloads a blob to `dest`, verifying size and digest as it streams; a
    /// truncated or interrupted download is retried, a wrong digest is not.
    pub(crate) async fn download_blob(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        dest: &Path,
        progress: &dyn Progress,
    ) -> Result<(), SourceError> {
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/blobs/{digest}");
        let scope = pull_scope(repository);
        let what = format!("blob {digest} of {}/{repository}", self.registry);
        let dir = dest.parent().unwrap_or(Path::new("."));
        fs_err::create_dir_all(dir).map_err(|e| SourceError::read(dir.display().to_string(), e))?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            progress.blob_started(digest, size);
            // The whole blob within --timeout plus its size at the slowest
            // rate allowed: a body trickled byte by byte ends.
            let allowed = self.blob_timeout(size);
            let response = self
                .get_blob(&url, &scope, repository, digest, allowed)
                .await?;
            let mut file = tempfile::NamedTempFile::new_in(dir)
                .map_err(|e| SourceError::read(dir.display().to_string(), e))?;
            let mut hasher = Hasher::new(digest.algorithm());
            let mut received: u64 = 0;
            let mut stream = response.bytes_stream();
            let mut interrupted = false;
            while let Some(chunk) = stream.next().await {
                let chunk = match chunk {
                    Ok(chunk) => chunk,
                    Err(e) if e.is_timeout() => {
                        return Err(RegistryError::TimedOut {
                            url: redact_url(&url),
                            what: format!(
                                "{what}: {received} of {size} bytes in {}s; a blob must arrive within --timeout plus its size at {} KiB/s",
                                allowed.as_secs(),
                                self.options.min_blob_rate / 1024
                            ),
                        }
                        .into());
                    }
                    Err(_) => {
                        interrupted = true;
                        break;
                    }
                };
                received += chunk.len() as u64;
                if received > size {
                    return Err(IntegrityError::TooLong {
                        what,
                        expected: size,
                    }
                    .into());
                }
                hasher.update(&chunk);
                file.write_all(&chunk)
                    .map_err(|e| SourceError::read(dir.display().to_string(), e))?;
                progress.blob_advanced(digest, chunk.len() as u64);
            }
            if interrupted || received < size {
                if attempt < self.options.max_attempts {
                    progress.blob_restarted(digest);
                    tokio::time::sleep(self.backoff(attempt)).await;
                    continue;
                }
                return Err(RegistryError::Truncated {
                    url: redact_url(&url),
                    expected: size,
                    received,
                }
                .into());
            }
            let actual = hasher.finish();
            if &actual != digest {
                return Err(IntegrityError::DigestMismatch {
                    what,
                    expected: digest.clone(),
                    actual,
                }
                .into());
            }
            file.as_file().sync_data().ok();
            file.persist(dest)
                .map_err(|e| SourceError::read(dest.display().to_string(), e.error))?;
            progress.blob_finished(digest);
            return Ok(());
        }
    }
}

fn pull_scope(repository: &str) -> String {
    format!("repository:{repository}:pull")
}

fn check_status(response: &Response, url: &str) -> Result<(), RegistryError> {
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    Err(match status {
        StatusCode::FORBIDDEN => RegistryError::Denied {
            url: redact_url(url),
        },
        _ => RegistryError::Status {
            url: redact_url(url),
            status: status.as_u16(),
            detail: status.canonical_reason().unwrap_or("").to_owned(),
        },
    })
}

/// Reads a response body, refusing more than `limit` bytes.
async fn read_limited(response: Response, limit: u64, url: &str) -> Result<Vec<u8>, RegistryError> {
    if response.content_length().is_some_and(|l| l > limit) {
        return Err(RegistryError::BodyTooLarge {
            url: redact_url(url),
            limit,
        });
    }
    let expected = response.content_length();
    let mut body = Vec::new();
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|source| {
            if source.is_timeout() {
                RegistryError::TimedOut {
                    url: redact_url(url),
                    what: format!(
                        "the answer did not arrive whole in time ({} bytes so far; --timeout bounds it)",
                        body.len()
                    ),
                }
            } else {
                RegistryError::Transport {
                    url: redact_url(url),
                    source,
                }
            }
        })?;
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(RegistryError::BodyTooLarge {
                url: redact_url(url),
                limit,
            });
        }
        body.extend_from_slice(&chunk);
    }
    if let Some(expected) = expected
        && (body.len() as u64) < expected
    {
        return Err(RegistryError::Truncated {
            url: redact_url(url),
            expected,
            received: body.len() as u64,
        });
    }
    Ok(body)
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = httpdate(value)?;
    let now = std::time::SystemTime::now();
    Some(when.duration_since(now).unwrap_or_default())
}

/// Parses an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`).
fn httpdate(value: &str) -> Option<std::time::SystemTime> {
    let parts: Vec<&str> = value.split_whitespace().collect();
    let [_, day, month, year, time, "GMT"] = parts.as_slice() else {
        return None;
    };
    let day: u64 = day.parse().ok()?;
    let month = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ]
    .iter()
    .position(|m| m == month)? as u64
        + 1;
    let year: u64 = year.parse().ok()?;
    let mut hms = time.split(':').map(|p| p.parse::<u64>().ok());
    let (h, m, s) = (hms.next()??, hms.next()??, hms.next()??);
    // Days from civil (Howard Hinnant's algorithm).
    let (y, mo) = if month <= 2 {
        (year - 1, month + 9)
    } else {
        (year, month - 3)
    };
    let era = y / 400;
    let yoe = y - era * 400;
    let doy = (153 * mo + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = (era * 146_097 + doe).checked_sub(719_468)?;
    Some(std::time::UNIX_EPOCH + Duration::from_secs(days * 86_400 + h * 3600 + m * 60 + s))
}

/// Drops any query string (tokens may travel there) from a URL shown to users.
pub(crate) fn redact_url(url: &str) -> String {
    url.split_once('?')
        .map_or_else(|| url.to_owned(), |(u, _)| format!("{u}?[redacted]"))
}

fn docker_config_credential(registry: &str) -> Result<Option<Credential>, RegistryError> {
    // No config file is no credentials (the crate calls that a read error).
    let dir = std::env::var_os("DOCKER_CONFIG")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker")));
    if !dir.is_some_and(|d| d.join("config.json").is_file()) {
        return Ok(None);
    }
    let server = if registry == crate::reference::DOCKER_HUB {
        "https://index.docker.io/v1/"
    } else {
        registry
    };
    match docker_credential::get_credential(server) {
        Ok(docker_credential::DockerCredential::UsernamePassword(username, password)) => {
            Ok(Some(Credential::Basic {
                username,
                password: Redacted::new(password),
            }))
        }
        Ok(docker_credential::DockerCredential::IdentityToken(token)) => {
            Ok(Some(Credential::IdentityToken(Redacted::new(token))))
        }
        Err(
            docker_credential::CredentialRetrievalError::NoCredentialConfigured
            | docker_credential::CredentialRetrievalError::ConfigNotFound,
        ) => Ok(None),
        Err(docker_credential::CredentialRetrievalError::HelperFailure { helper, .. }) => {
            Err(RegistryError::Credentials {
                registry: registry.to_owned(),
                reason: format!("credential helper `{helper}` failed"),
            })
        }
        Err(other) => Err(RegistryError::Credentials {
            registry: registry.to_owned(),
            // These variants carry no secret; their text is fixed.
            reason: other.to_string().to_lowercase(),
        }),
    }
}

/// The `Docker-Content-Digest` a registry answered with, when it parses.
fn content_digest(headers: &HeaderMap) -> Option<Digest> {
    headers
        .get("docker-content-digest")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Digest::parse(v.trim()).ok())
}

/// A URL the registry gave (`Location`, `Link`): as given when absolute,
/// else a path on `base`.
fn registry_url(base: &str, given: &str) -> String {
    if given.starts_with("http://") || given.starts_with("https://") {
        given.to_owned()
    } else {
        format!("{base}{given}")
    }
}

/// The target of a `Link: <url>; rel="next"` header.
fn next_link(header: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (target, params) = part.split_once(';')?;
        let rel_next = params
            .split(';')
            .any(|p| p.trim().replace(' ', "") == "rel=\"next\"" || p.trim() == "rel=next");
        let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
        rel_next.then(|| target.to_owned())
    })
}

/// Chunks of a blob on their way somewhere.
pub(crate) type Chunks =
    futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>;

/// A file's bytes as a stream of 256 KiB chunks (read on the runtime's
/// blocking pool).
pub(crate) fn file_chunks(file: fs_err::File) -> Chunks {
    futures_util::stream::unfold(Some(file), |state| async move {
        let mut file = state?;
        let read = tokio::task::spawn_blocking(move || {
            let mut buf = vec![0u8; 256 * 1024];
            let n = std::io::Read::read(&mut file, &mut buf)?;
            buf.truncate(n);
            Ok::<_, std::io::Error>((buf, file))
        })
        .await;
        match read {
            Ok(Ok((buf, _))) if buf.is_empty() => None,
            Ok(Ok((buf, file))) => Some((Ok(bytes::Bytes::from(buf)), Some(file))),
            Ok(Err(e)) => Some((Err(e), None)),
            Err(e) => Some((Err(std::io::Error::other(e)), None)),
        }
    })
    .boxed()
}

/// Passes `inner` on while checking it against the blob's size and digest:
/// more bytes than the size, or a different digest at the end, end the
/// stream with an error, so that the upload is abandoned, never completed.
pub(crate) fn verifying(inner: Chunks, digest: Digest, size: u64) -> Chunks {
    struct State {
        inner: Chunks,
        hasher: Option<Hasher>,
        received: u64,
        digest: Digest,
        size: u64,
    }
    let hasher = Some(Hasher::new(digest.algorithm()));
    futures_util::stream::unfold(
        Some(State {
            inner,
            hasher,
            received: 0,
            digest,
            size,
        }),
        |state| async move {
            let mut st = state?;
            match st.inner.next().await {
                Some(Ok(chunk)) => {
                    st.received += chunk.len() as u64;
                    if st.received > st.size {
                        let e = std::io::Error::other(format!(
                            "blob {}: more than its {} bytes",
                            st.digest, st.size
                        ));
                        return Some((Err(e), None));
                    }
                    if let Some(h) = st.hasher.as_mut() {
                        h.update(&chunk);
                    }
                    Some((Ok(chunk), Some(st)))
                }
                Some(Err(e)) => Some((Err(e), None)),
                None => {
                    let actual = st.hasher.take()?.finish();
                    if st.received == st.size && actual == st.digest {
                        None
                    } else {
                        let e = std::io::Error::other(format!(
                            "blob {}: {} bytes with digest {actual} arrived",
                            st.digest, st.received
                        ));
                        Some((Err(e), None))
                    }
                }
            }
        },
    )
    .boxed()
}

fn push_scope(repository: &str) -> String {
    format!("repository:{repository}:pull,push")
}

/// Writing to a registry: blobs (monolithic upload, skipped when present)
/// and manifests, per the OCI distribution spec.
impl RegistryClient {
    /// Whether the registry has `digest` in `repository` (`HEAD`).
    ///
    /// # Errors
    /// Transport and status errors other than 404.
    pub(crate) async fn has_blob(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<bool, RegistryError> {
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/blobs/{digest}");
        let response = self
            .send(
                &url,
                &push_scope(repository),
                self.options.request_timeout,
                || self.http.head(&url),
            )
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        check_status(&response, &url)?;
        Ok(true)
    }

    /// Uploads `bytes` as the blob `digest` of `repository`, unless it is
    /// there already, as [`Self::push_blob_stream`] does.
    ///
    /// # Errors
    /// Transport, auth and status errors (a registry that refuses the push
    /// says so).
    pub(crate) async fn push_blob(
        &self,
        repository: &str,
        digest: &Digest,
        bytes: &[u8],
    ) -> Result<(), RegistryError> {
        if self.has_blob(repository, digest).await? {
            return Ok(());
        }
        let bytes = bytes::Bytes::copy_from_slice(bytes);
        self.push_blob_stream(repository, digest, bytes.len() as u64, || {
            let bytes = bytes.clone();
            futures_util::stream::once(async move { Ok(bytes) }).boxed()
        })
        .await
    }

    /// Opens an upload session for `digest` in `repository` and returns
    /// the URL to `PUT` the bytes to (the session's, with the digest).
    async fn start_upload(
        &self,
        repository: &str,
        digest: &Digest,
    ) -> Result<String, RegistryError> {
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/blobs/uploads/");
        let response = self
            .send(
                &url,
                &push_scope(repository),
                self.options.request_timeout,
                || self.http.post(&url).header(header::CONTENT_LENGTH, "0"),
            )
            .await?;
        check_status(&response, &url)?;
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| RegistryError::Status {
                url: redact_url(&url),
                status: response.status().as_u16(),
                detail: "no Location header for the upload".to_owned(),
            })?;
        let mut upload = registry_url(base, location);
        upload.push(if upload.contains('?') { '&' } else { '?' });
        upload.push_str(&format!("digest={digest}"));
        Ok(upload)
    }

    /// Mounts `digest` from `from` (another repository of this registry)
    /// into `repository`: no bytes through the client. `false` when the
    /// registry declined (it may answer with an upload session instead,
    /// which is cancelled).
    ///
    /// # Errors
    /// Transport, auth and status errors.
    pub(crate) async fn mount_blob(
        &self,
        repository: &str,
        digest: &Digest,
        from: &str,
    ) -> Result<bool, RegistryError> {
        let base = self.base().await?;
        let scope = format!("{} repository:{from}:pull", push_scope(repository));
        let url = format!("{base}/v2/{repository}/blobs/uploads/?mount={digest}&from={from}");
        let response = self
            .send(&url, &scope, self.options.request_timeout, || {
                self.http.post(&url).header(header::CONTENT_LENGTH, "0")
            })
            .await?;
        if response.status() == StatusCode::CREATED {
            return Ok(true);
        }
        check_status(&response, &url)?;
        if let Some(location) = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
        {
            let session = registry_url(base, location);
            let _ = self
                .send(
                    &session,
                    &push_scope(repository),
                    self.options.request_timeout,
                    || self.http.delete(&session),
                )
                .await;
        }
        Ok(false)
    }

    /// Uploads blob `digest` of `repository` from the chunks `body` makes
    /// (called again for each attempt): an upload session, then one
    /// streamed `PUT` with the digest, which the registry checks too. A
    /// failed attempt starts a new session.
    ///
    /// # Errors
    /// Transport, auth and status errors after the last attempt.
    pub(crate) async fn push_blob_stream(
        &self,
        repository: &str,
        digest: &Digest,
        size: u64,
        body: impl Fn() -> Chunks,
    ) -> Result<(), RegistryError> {
        let scope = push_scope(repository);
        let mut attempt = 0;
        loop {
            attempt += 1;
            let result = async {
                let upload = self.start_upload(repository, digest).await?;
                let allowed = self.blob_timeout(size);
                let response = self
                    .send(&upload, &scope, allowed, || {
                        self.http
                            .put(&upload)
                            .header(header::CONTENT_TYPE, "application/octet-stream")
                            .header(header::CONTENT_LENGTH, size.to_string())
                            .body(reqwest::Body::wrap_stream(body()))
                    })
                    .await?;
                check_status(&response, &upload)
            }
            .await;
            match result {
                Ok(()) => return Ok(()),
                Err(
                    e @ (RegistryError::Denied { .. }
                    | RegistryError::AuthenticationFailed { .. }
                    | RegistryError::AuthenticationRequired { .. }),
                ) => return Err(e),
                Err(_) if attempt < self.options.max_attempts => {
                    tokio::time::sleep(self.backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The bytes of blob `digest` of `repository` as they arrive (the
    /// request is sent when the stream is first polled).
    pub(crate) fn blob_chunks(
        self: Arc<Self>,
        repository: String,
        digest: Digest,
        size: u64,
    ) -> Chunks {
        futures_util::stream::once(async move {
            let base = self.base().await.map_err(std::io::Error::other)?;
            let url = format!("{base}/v2/{repository}/blobs/{digest}");
            let response = self
                .get_blob(
                    &url,
                    &pull_scope(&repository),
                    &repository,
                    &digest,
                    self.blob_timeout(size),
                )
                .await
                .map_err(std::io::Error::other)?;
            Ok::<_, std::io::Error>(
                response
                    .bytes_stream()
                    .map(|c| c.map_err(std::io::Error::other)),
            )
        })
        .try_flatten()
        .boxed()
    }

    /// The OCI 1.1 referrers API: every manifest whose `subject` is
    /// `digest`, all pages followed (`Link: <…>; rel="next"`), or `None`
    /// when the registry has no such API (404 as the spec says, or 400,
    /// 405, 501, or an answer that is not an image index). The endpoint
    /// itself is probed; an `OCI-Subject` header is never taken for it.
    ///
    /// # Errors
    /// Transport, auth, size and status errors; more than `max_pages`.
    pub(crate) async fn referrers(
        &self,
        repository: &str,
        digest: &Digest,
        artifact_type: Option<&str>,
        limit: u64,
        max_pages: usize,
    ) -> Result<Option<Vec<crate::manifest::Descriptor>>, SourceError> {
        let base = self.base().await?;
        let mut url = format!("{base}/v2/{repository}/referrers/{digest}");
        if let Some(t) = artifact_type {
            url.push_str("?artifactType=");
            url.push_str(&t.replace('+', "%2B").replace('/', "%2F"));
        }
        let what = format!("referrers of {digest} in {}/{repository}", self.registry);
        let Some(pages) = self
            .pages(
                url,
                repository,
                crate::media_type::OCI_INDEX,
                limit,
                max_pages,
                &what,
                true,
            )
            .await?
        else {
            return Ok(None);
        };
        let mut out = Vec::new();
        for (i, (url, bytes)) in pages.into_iter().enumerate() {
            let Ok(index) = serde_json::from_slice::<crate::manifest::ImageIndex>(&bytes) else {
                if i == 0 {
                    return Ok(None);
                }
                return Err(SourceError::malformed(
                    redact_url(&url),
                    "a referrers page is not an image index",
                ));
            };
            out.extend(index.manifests);
        }
        if let Some(t) = artifact_type {
            // The registry may ignore the filter (no `OCI-Filters-Applied`).
            out.retain(|d| d.artifact_type.as_deref() == Some(t));
        }
        Ok(Some(out))
    }

    /// Every page of a paginated listing (`Link: <…>; rel="next"`, followed
    /// on the same registry only: credentials never follow a link
    /// elsewhere), each page's URL and bytes. With `optional`, a first page
    /// answered 400, 404, 405 or 501 means the registry has no such API:
    /// `None`.
    #[allow(clippy::too_many_arguments)]
    async fn pages(
        &self,
        mut url: String,
        repository: &str,
        accept: &'static str,
        limit: u64,
        max_pages: usize,
        what: &str,
        optional: bool,
    ) -> Result<Option<Vec<(String, Vec<u8>)>>, SourceError> {
        let base = self.base().await?;
        let scope = pull_scope(repository);
        let mut out = Vec::new();
        for page in 0.. {
            if page == max_pages {
                return Err(SourceError::malformed(
                    what.to_owned(),
                    format!("more than {max_pages} pages"),
                ));
            }
            let response = self
                .send(&url, &scope, self.options.request_timeout, || {
                    self.http.get(&url).header(header::ACCEPT, accept)
                })
                .await?;
            let status = response.status().as_u16();
            if optional && page == 0 && matches!(status, 400 | 404 | 405 | 501) {
                return Ok(None);
            }
            check_status(&response, &url)?;
            let next = response
                .headers()
                .get(header::LINK)
                .and_then(|v| v.to_str().ok())
                .and_then(next_link);
            let bytes = read_limited(response, limit, &url).await?;
            out.push((url.clone(), bytes));
            let Some(next) = next.map(|n| registry_url(base, &n)) else {
                break;
            };
            if !next.starts_with(base) {
                return Err(SourceError::malformed(
                    redact_url(&url),
                    format!("the next page of {what} is on another host"),
                ));
            }
            url = next;
        }
        Ok(Some(out))
    }

    /// The tags of a repository (`/v2/<name>/tags/list`), every page;
    /// `limit` bounds each page's bytes.
    pub(crate) async fn tags(
        &self,
        repository: &str,
        limit: u64,
        max_pages: usize,
    ) -> Result<Vec<String>, SourceError> {
        #[derive(serde::Deserialize)]
        struct TagList {
            #[serde(default)]
            tags: Option<Vec<String>>,
        }
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/tags/list?n=1000");
        let what = format!("tags of {}/{repository}", self.registry);
        let pages = self
            .pages(
                url,
                repository,
                "application/json",
                limit,
                max_pages,
                &what,
                false,
            )
            .await?
            .unwrap_or_default();
        let mut out = Vec::new();
        for (url, bytes) in pages {
            let list: TagList = serde_json::from_slice(&bytes).map_err(|e| {
                SourceError::malformed(redact_url(&url), format!("not a tag list: {e}"))
            })?;
            out.extend(list.tags.unwrap_or_default());
        }
        Ok(out)
    }

    /// Deletes a manifest or a blob (`kind`: `manifests` or `blobs`) of
    /// `repository` by digest; `false` when it was not there.
    ///
    /// # Errors
    /// Transport, auth and status errors (a registry that does not allow
    /// deletes answers 405, and says so).
    pub(crate) async fn delete(
        &self,
        repository: &str,
        kind: &str,
        digest: &Digest,
    ) -> Result<bool, SourceError> {
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/{kind}/{digest}");
        let response = self
            .send(
                &url,
                &format!("repository:{repository}:delete"),
                self.options.request_timeout,
                || self.http.delete(&url),
            )
            .await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        check_status(&response, &url)?;
        Ok(true)
    }

    /// Puts a manifest at `reference` (a tag or its digest) and returns the
    /// digest the registry reports, checked against the bytes sent.
    ///
    /// # Errors
    /// Transport, auth and status errors, and a registry that stored other
    /// bytes than were sent.
    pub(crate) async fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        bytes: &[u8],
    ) -> Result<Digest, SourceError> {
        let base = self.base().await?;
        let url = format!("{base}/v2/{repository}/manifests/{reference}");
        let response = self
            .send(
                &url,
                &push_scope(repository),
                self.options.request_timeout,
                || {
                    self.http
                        .put(&url)
                        .header(header::CONTENT_TYPE, media_type)
                        .body(bytes.to_vec())
                },
            )
            .await?;
        check_status(&response, &url)?;
        let digest = Digest::sha256(bytes);
        if let Some(said) = content_digest(response.headers())
            && said != digest
        {
            return Err(IntegrityError::DigestMismatch {
                what: format!(
                    "manifest pushed to {}/{repository}:{reference}",
                    self.registry
                ),
                expected: digest,
                actual: said,
            }
            .into());
        }
        Ok(digest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for h in [
            "localhost",
            "localhost:5000",
            "127.0.0.1:5000",
            "127.1.2.3",
            "[::1]:5000",
        ] {
            assert!(is_loopback(h), "{h}");
        }
        for h in ["example.com", "10.0.0.1:5000", "registry-1.docker.io"] {
            assert!(!is_loopback(h), "{h}");
        }
    }

    #[test]
    fn plain_http_only_for_loopback_and_named_hosts() {
        let named = vec!["registry.internal:5000".to_owned()];
        assert!(plain_http_allowed("127.0.0.1:5000", "127.0.0.1:5000", &[]));
        assert!(plain_http_allowed(
            "registry.internal:5000",
            "registry.internal:5000",
            &named
        ));
        assert!(!plain_http_allowed(
            "registry.internal:5001",
            "registry.internal:5001",
            &named
        ));
        assert!(!plain_http_allowed(
            "registry-1.docker.io",
            "docker.io",
            &named
        ));
        assert!(plain_http_allowed(
            "registry-1.docker.io",
            "docker.io",
            &["docker.io".to_owned()]
        ));
    }

    #[test]
    fn http_dates() {
        let t = httpdate("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
            784_111_777
        );
        assert!(httpdate("yesterday").is_none());
    }

    #[test]
    fn link_headers() {
        assert_eq!(
            next_link(r#"</v2/a/referrers/sha256:1?n=2&last=x>; rel="next""#).as_deref(),
            Some("/v2/a/referrers/sha256:1?n=2&last=x")
        );
        assert_eq!(
            next_link(r#"<https://r/p1>; rel="prev", <https://r/p3>; rel="next""#).as_deref(),
            Some("https://r/p3")
        );
        assert_eq!(next_link("garbage"), None);
        assert_eq!(next_link(r#"<https://r/p1>; rel="prev""#), None);
    }

    #[test]
    fn urls_lose_their_query() {
        assert_eq!(
            redact_url("https://a/token?scope=x&account=y"),
            "https://a/token?[redacted]"
        );
        assert_eq!(redact_url("https://a/v2/"), "https://a/v2/");
    }
}
