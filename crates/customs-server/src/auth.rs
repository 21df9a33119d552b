//! Bearer tokens: `cst_` and 43 base64url characters (256 random bits),
//! stored as their SHA-256 only. A scope (`read` < `write` < `admin`) and
//! optionally one environment: a token for staging cannot record a prod
//! deployment. No token, no access; no scope, no access.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use base64::Engine as _;
use customs_store::{Store, Token};
use sha2::Digest as _;

/// What a route needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Access {
    /// Anyone (health, the OpenAPI document).
    Public,
    /// A token of this scope or a larger one.
    Token(Scope),
    /// A dashboard page: a read token from the session cookie (or the
    /// header), else the sign-in form; anyone with `public_dashboard`.
    Page,
}

/// A token's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Scope {
    /// Read everything.
    Read,
    /// Also queue scans, record deployments, send webhooks.
    Write,
    /// Also block digests and read the token list.
    Admin,
}

impl Scope {
    /// `read`, `write`, `admin`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Admin => "admin",
        }
    }

    /// The scope named so.
    ///
    /// # Errors
    /// An unknown name.
    pub fn parse(name: &str) -> Result<Self, String> {
        match name {
            "read" => Ok(Self::Read),
            "write" => Ok(Self::Write),
            "admin" => Ok(Self::Admin),
            other => Err(format!(
                "unknown token scope `{other}` (scopes: read, write, admin)"
            )),
        }
    }
}

/// A new token: what to give the user (once) and what to store.
#[must_use]
pub fn new_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    // The OS's random source failing is not something to work around.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    let token = format!(
        "cst_{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    );
    let hash = hash_token(&token);
    (token, hash)
}

/// What the store keeps of a token: its SHA-256, hex.
#[must_use]
pub fn hash_token(token: &str) -> String {
    let digest = sha2::Sha256::digest(token.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Who is calling: the token's row.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub(crate) token: Token,
}

impl Caller {
    /// `name#id`, for logs: never the token.
    pub(crate) fn label(&self) -> String {
        format!("{}#{}", self.token.name, self.token.id)
    }

    /// Whether the token may act on `environment` (a token tied to one
    /// environment acts on that one only).
    pub(crate) fn may_change(&self, environment: &str) -> bool {
        self.token
            .environment
            .as_deref()
            .is_none_or(|e| e == environment)
    }

    /// Whether the token may act on every environment.
    pub(crate) fn unrestricted(&self) -> bool {
        self.token.environment.is_none()
    }
}

/// Why a request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No or an unknown token: 401.
    Unauthenticated(&'static str),
    /// A token without the scope: 403.
    Forbidden(String),
}

/// The token of an `Authorization` header's value (`Bearer <token>`).
pub(crate) fn bearer(authorization: &str) -> Option<&str> {
    authorization
        .strip_prefix("Bearer ")
        .or_else(|| authorization.strip_prefix("bearer "))
}

/// Looks tokens up, with a short cache so that a busy client does not cost
/// a query per request. A revoked token stops working within `ttl`.
pub(crate) struct Tokens {
    cache: Mutex<HashMap<String, (Instant, Option<Token>)>>,
    ttl: Duration,
}

impl Tokens {
    pub(crate) fn new(ttl: Duration) -> Self {
        Self {
            cache: Mutex::new(HashMap::new()),
            ttl,
        }
    }

    /// The caller a token (from an `Authorization: Bearer` header, see
    /// [`bearer`], or the dashboard's session) is, if it may do what
    /// `needed` asks.
    pub(crate) async fn check(
        &self,
        store: &Store,
        token: Option<&str>,
        needed: Scope,
    ) -> Result<Caller, Refusal> {
        let token = token
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(Refusal::Unauthenticated("a bearer token is required"))?;
        let hash = hash_token(token);
        let row = self.lookup(store, &hash).await?;
        let row = row.ok_or(Refusal::Unauthenticated("the token is unknown or revoked"))?;
        let scope = Scope::parse(&row.scope).map_err(Refusal::Forbidden)?;
        if scope < needed {
            return Err(Refusal::Forbidden(format!(
                "this needs a {} token; {}#{} is {}",
                needed.name(),
                row.name,
                row.id,
                scope.name()
            )));
        }
        Ok(Caller { token: row })
    }

    async fn lookup(&self, store: &Store, hash: &str) -> Result<Option<Token>, Refusal> {
        let now = Instant::now();
        if let Ok(cache) = self.cache.lock()
            && let Some((at, row)) = cache.get(hash)
            && now.duration_since(*at) < self.ttl
        {
            return Ok(row.clone());
        }
        let row = store
            .token_by_hash(hash)
            .await
            .map_err(|_| Refusal::Unauthenticated("the token could not be checked"))?;
        if let Ok(mut cache) = self.cache.lock() {
            if cache.len() > 10_000 {
                cache.clear();
            }
            cache.insert(hash.to_owned(), (now, row.clone()));
        }
        Ok(row)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, hash) = new_token();
        let (b, _) = new_token();
        assert_ne!(a, b);
        assert!(a.starts_with("cst_") && a.len() == 47, "{a}");
        assert_eq!(hash, hash_token(&a));
        assert_eq!(hash.len(), 64);
        assert!(!hash.contains(&a[4..]));
    }

    #[test]
    fn scopes_order_and_environments_bind() {
        assert!(Scope::Read < Scope::Write && Scope::Write < Scope::Admin);
        assert!(Scope::parse("root").is_err());
        let token = |environment: Option<&str>| Caller {
            token: Token {
                id: 1,
                name: "t".to_owned(),
                scope: "write".to_owned(),
                environment: environment.map(str::to_owned),
                created_at: String::new(),
                created_by: String::new(),
                revoked_at: None,
            },
        };
        assert!(token(Some("staging")).may_change("staging"));
        assert!(!token(Some("staging")).may_change("prod"));
        assert!(!token(Some("staging")).unrestricted());
        assert!(token(None).may_change("prod"));
    }
}
