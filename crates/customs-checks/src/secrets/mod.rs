//! Secret scanning: an Aho-Corasick pass over each file for every rule's
//! keywords (case-insensitive), then only the rules whose keywords occur run
//! their regexes — the cost stays close to reading the bytes. Secrets are
//! never kept or printed whole: a match becomes a short prefix, its length
//! and a SHA-256 fingerprint.

pub mod rules;

use std::collections::HashSet;

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::bytes::Regex;
use serde::Deserialize;
use sha2::Digest as _;

use self::rules::{RULES, SecretRule};

/// The most of one file scanned at once: a larger file is scanned in
/// overlapping windows of this size, never skipped.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// A secret found in some text, redacted.
#[derive(Debug, Clone)]
pub struct SecretMatch {
    /// The rule.
    pub rule: &'static SecretRule,
    /// 1-based line.
    pub line: u64,
    /// The secret as shown: a short prefix, an ellipsis and its length.
    pub redacted: String,
    /// The line around it, every secret on it redacted, at most 160 chars.
    pub context: String,
    /// `sha256:` + the first 16 hex digits of the secret's SHA-256.
    pub fingerprint: String,
}

/// Why a configuration could not be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not valid TOML or not the expected shape.
    #[error("{path}: not a valid customs configuration")]
    Invalid {
        /// The file.
        path: String,
        /// The parser's complaint (with line and column).
        #[source]
        source: toml::de::Error,
    },
    /// A glob that cannot be compiled.
    #[error("{path}: allow-list entry {index}: invalid path glob `{glob}`")]
    Glob {
        /// The file.
        path: String,
        /// 1-based entry number.
        index: usize,
        /// The glob.
        glob: String,
    },
    /// An entry names a rule that does not exist.
    #[error("{path}: allow-list entry {index}: unknown rule `{rule}`")]
    UnknownRule {
        /// The file.
        path: String,
        /// 1-based entry number.
        index: usize,
        /// The rule.
        rule: String,
    },
    /// An entry that would allow everything.
    #[error("{path}: allow-list entry {index} names no rule, path or fingerprint")]
    Empty {
        /// The file.
        path: String,
        /// 1-based entry number.
        index: usize,
    },
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    secrets: SecretsConfig,
    // The policy's tables, read (and checked) by customs-policy.
    #[serde(default, rename = "policy")]
    _policy: Option<toml::Table>,
    #[serde(default, rename = "environments")]
    _environments: Option<toml::Table>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsConfig {
    #[serde(default)]
    allow: Vec<AllowEntry>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AllowEntry {
    rule: Option<String>,
    path: Option<String>,
    fingerprint: Option<String>,
    #[allow(dead_code)] // documentation for people reading the file
    reason: Option<String>,
}

/// What the configuration allows: each entry matches by rule, path glob
/// and fingerprint (every field given must match).
#[derive(Debug, Default)]
pub struct AllowList {
    entries: Vec<(Option<String>, Option<Regex>, Option<String>)>,
}

/// A path glob (`*` within a segment, `**` across segments, `?` one
/// character) as an anchored regex.
///
/// # Errors
/// When the result is not a valid regex (never for a plain glob).
pub fn glob(glob: &str) -> Result<Regex, regex::Error> {
    let mut out = String::from("^");
    let mut chars = glob.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '*' if chars.peek() == Some(&'*') => {
                chars.next();
                if chars.peek() == Some(&'/') {
                    chars.next();
                    out.push_str("(?:.*/)?");
                } else {
                    out.push_str(".*");
                }
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            c => out.push_str(&regex::escape(&c.to_string())),
        }
    }
    out.push('$');
    Regex::new(&out)
}

impl AllowList {
    /// Parses the `[secrets]` part of a `customs.toml`:
    ///
    /// ```toml
    /// [[secrets.allow]]
    /// rule = "generic-secret-assignment"
    /// path = "/app/tests/**"
    /// reason = "fixtures"
    ///
    /// [[secrets.allow]]
    /// fingerprint = "sha256:0123456789abcdef"
    /// ```
    ///
    /// # Errors
    /// [`ConfigError`] naming the file and the entry.
    pub fn parse(path: &str, text: &str) -> Result<Self, ConfigError> {
        let file: ConfigFile = toml::from_str(text).map_err(|source| ConfigError::Invalid {
            path: path.to_owned(),
            source,
        })?;
        let mut entries = Vec::new();
        for (i, e) in file.secrets.allow.into_iter().enumerate() {
            let index = i + 1;
            if e.rule.is_none() && e.path.is_none() && e.fingerprint.is_none() {
                return Err(ConfigError::Empty {
                    path: path.to_owned(),
                    index,
                });
            }
            if let Some(rule) = &e.rule
                && !RULES.iter().any(|r| r.id == rule)
            {
                return Err(ConfigError::UnknownRule {
                    path: path.to_owned(),
                    index,
                    rule: rule.clone(),
                });
            }
            let regex = e
                .path
                .as_deref()
                .map(|g| {
                    glob(g).map_err(|_| ConfigError::Glob {
                        path: path.to_owned(),
                        index,
                        glob: g.to_owned(),
                    })
                })
                .transpose()?;
            entries.push((e.rule, regex, e.fingerprint));
        }
        Ok(Self { entries })
    }

    /// Whether a finding is allowed.
    #[must_use]
    pub fn allows(&self, rule: &str, path: &str, fingerprint: &str) -> bool {
        self.entries.iter().any(|(r, p, f)| {
            r.as_deref().is_none_or(|r| r == rule)
                && p.as_ref().is_none_or(|p| p.is_match(path.as_bytes()))
                && f.as_deref().is_none_or(|f| f == fingerprint)
        })
    }

    /// How many entries there are.
    #[must_use]
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// The compiled rules.
pub struct SecretScanner {
    regexes: Vec<Regex>,
    prefilter: AhoCorasick,
    /// For each prefilter pattern, the rules it selects.
    selects: Vec<Vec<usize>>,
}

impl std::fmt::Debug for SecretScanner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretScanner")
            .field("rules", &self.regexes.len())
            .finish_non_exhaustive()
    }
}

impl Default for SecretScanner {
    fn default() -> Self {
        Self::new()
    }
}

/// Shannon entropy in bits per character.
#[must_use]
pub fn entropy(text: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in text.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    #[allow(clippy::cast_precision_loss)]
    let total = total as f64;
    counts
        .values()
        .map(|&n| {
            #[allow(clippy::cast_precision_loss)]
            let p = n as f64 / total;
            -p * p.log2()
        })
        .sum()
}

/// `sha256:` + 16 hex digits of the SHA-256 of `secret`.
#[must_use]
pub fn fingerprint(secret: &[u8]) -> String {
    let digest = sha2::Sha256::digest(secret);
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256:{hex}")
}

/// A short prefix of the secret, an ellipsis and its length: `AKIA…(20)`.
#[must_use]
pub fn redact(secret: &str) -> String {
    let n = secret.chars().count();
    let keep = if n >= 20 {
        4
    } else if n >= 12 {
        2
    } else {
        0
    };
    let prefix: String = secret.chars().take(keep).collect();
    format!("{prefix}…({n})")
}

/// Values that are obviously not secrets: variables, templates,
/// placeholders, masks.
#[must_use]
pub fn is_placeholder(secret: &str) -> bool {
    let lower = secret.to_ascii_lowercase();
    let first = secret.chars().next().unwrap_or(' ');
    if matches!(first, '$' | '%' | '{' | '<' | '*' | '[' | '(' | '@' | '&') {
        return true;
    }
    if secret
        .chars()
        .all(|c| c == secret.chars().next().unwrap_or(c))
    {
        return true;
    }
    const WORDS: [&str; 14] = [
        "example",
        "changeme",
        "change_me",
        "placeholder",
        "your",
        "xxxx",
        "****",
        "dummy",
        "redacted",
        "replace",
        "<",
        "${",
        "{{",
        "null",
    ];
    WORDS.iter().any(|w| lower.contains(w))
        || matches!(
            lower.as_str(),
            "password"
                | "secret"
                | "pass"
                | "passwd"
                | "token"
                | "none"
                | "true"
                | "false"
                | "fake"
                | "test"
        )
}

/// Source code, not a value: a call (`get_key()`), an attribute
/// (`settings.password`), a plain identifier (`user_password`, `apiKey`).
fn looks_like_code(secret: &str, next: Option<u8>) -> bool {
    if matches!(next, Some(b'(' | b'[' | b'.')) {
        return true;
    }
    let identifier = secret
        .bytes()
        .all(|b| b.is_ascii_alphabetic() || b == b'_' || b == b'.')
        && secret
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    let lower_snake = secret
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b == b'_' || b == b'.');
    let camel = identifier
        && secret
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase())
        && !secret.contains('_');
    identifier && (lower_snake || camel || secret.contains('.'))
}

static SHARED: std::sync::LazyLock<SecretScanner> = std::sync::LazyLock::new(SecretScanner::new);

impl SecretScanner {
    /// The rules compiled once per process (compiling them costs far more
    /// than scanning a short value).
    #[must_use]
    pub fn shared() -> &'static Self {
        &SHARED
    }

    /// Compiles every rule.
    ///
    /// # Panics
    /// Never for the built-in rules (a test compiles them all).
    #[must_use]
    pub fn new() -> Self {
        // ASCII semantics (`\b`, classes, case folding): every format is
        // ASCII, and it lets the regex engine use its DFAs instead of the
        // much slower PikeVM that Unicode word boundaries need.
        #[allow(clippy::unwrap_used)] // the rule table is static and tested
        let regexes: Vec<Regex> = RULES
            .iter()
            .map(|r| {
                regex::bytes::RegexBuilder::new(r.regex)
                    .unicode(false)
                    .build()
                    .unwrap()
            })
            .collect();
        let mut keywords: Vec<&str> = Vec::new();
        let mut selects: Vec<Vec<usize>> = Vec::new();
        for (i, rule) in RULES.iter().enumerate() {
            for kw in rule.keywords {
                match keywords.iter().position(|k| k == kw) {
                    Some(p) => selects[p].push(i),
                    None => {
                        keywords.push(kw);
                        selects.push(vec![i]);
                    }
                }
            }
        }
        #[allow(clippy::unwrap_used)] // plain literal keywords always build
        let prefilter = AhoCorasickBuilder::new()
            .ascii_case_insensitive(true)
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .match_kind(MatchKind::Standard)
            .build(&keywords)
            .unwrap();
        Self {
            regexes,
            prefilter,
            selects,
        }
    }

    /// Whether `name=value` holds a secret: the name says so
    /// (`DB_PASSWORD`, not `GPG_KEY_FILE`), or the value is one by a rule.
    #[must_use]
    pub fn is_secret_assignment(&self, name: &str, value: &str) -> bool {
        crate::redact::secret_name(name)
            || (!value.is_empty() && !self.scan("/", value.as_bytes()).is_empty())
    }

    /// Whether content looks binary (a NUL in its first 8 KiB).
    #[must_use]
    pub fn is_binary(content: &[u8]) -> bool {
        content[..content.len().min(8192)].contains(&0)
    }

    /// Finds the secrets in `content` of the file at `path` (for the
    /// path-scoped rules). One match per rule, line and secret; when two
    /// rules find the same secret on a line, the first listed wins.
    #[must_use]
    pub fn scan(&self, path: &str, content: &[u8]) -> Vec<SecretMatch> {
        let mut candidates: Vec<usize> = Vec::new();
        let mut seen_patterns = HashSet::new();
        for m in self.prefilter.find_overlapping_iter(content) {
            if seen_patterns.insert(m.pattern().as_usize()) {
                candidates.extend(&self.selects[m.pattern().as_usize()]);
            }
        }
        if candidates.is_empty() {
            return Vec::new();
        }
        candidates.sort_unstable();
        candidates.dedup();
        // (rule, start, end) of every secret, before deduplication.
        let mut spans: Vec<(usize, usize, usize)> = Vec::new();
        for &i in &candidates {
            let rule = &RULES[i];
            if !rule.paths.is_empty() && !rule.paths.iter().any(|p| path.ends_with(p)) {
                continue;
            }
            for caps in self.regexes[i].captures_iter(content) {
                let Some(m) = caps.get(1).or_else(|| caps.get(0)) else {
                    continue;
                };
                let Ok(secret) = std::str::from_utf8(m.as_bytes()) else {
                    continue;
                };
                if rule.skip_placeholders && is_placeholder(secret) {
                    continue;
                }
                if rule.min_entropy > 0.0
                    && (entropy(secret) < rule.min_entropy
                        || looks_like_code(secret, content.get(m.end()).copied()))
                {
                    continue;
                }
                spans.push((i, m.start(), m.end()));
            }
        }
        spans.sort_by_key(|&(rule, start, _)| (start, rule));
        let mut kept: Vec<(usize, usize, usize)> = Vec::new();
        for span in spans {
            // The same bytes found by an earlier-listed rule: keep that one.
            if kept
                .iter()
                .any(|&(r, s, e)| s < span.2 && span.1 < e && r <= span.0)
            {
                continue;
            }
            kept.retain(|&(r, s, e)| !(s < span.2 && span.1 < e && r > span.0));
            kept.push(span);
        }
        if kept.is_empty() {
            return Vec::new();
        }
        let line_starts: Vec<usize> = std::iter::once(0)
            .chain(
                content
                    .iter()
                    .enumerate()
                    .filter(|(_, b)| **b == b'\n')
                    .map(|(i, _)| i + 1),
            )
            .collect();
        kept.iter()
            .map(|&(i, start, end)| {
                let line = line_starts.partition_point(|&s| s <= start);
                let secret = String::from_utf8_lossy(&content[start..end]);
                SecretMatch {
                    rule: &RULES[i],
                    line: line as u64,
                    redacted: redact(&secret),
                    context: context(content, &line_starts, line, &kept),
                    fingerprint: fingerprint(&content[start..end]),
                }
            })
            .collect()
    }
}

/// The line `line` (1-based) with every kept secret on it redacted.
fn context(
    content: &[u8],
    line_starts: &[usize],
    line: usize,
    secrets: &[(usize, usize, usize)],
) -> String {
    let start = line_starts[line - 1];
    let end = line_starts
        .get(line)
        .map_or(content.len(), |e| e.saturating_sub(1));
    let mut out = String::new();
    let mut at = start;
    let mut on_line: Vec<(usize, usize)> = secrets
        .iter()
        .filter(|&&(_, s, e)| s < end && e > start)
        .map(|&(_, s, e)| (s.max(start), e.min(end)))
        .collect();
    on_line.sort_unstable();
    for (s, e) in on_line {
        if s < at {
            continue;
        }
        out.push_str(&String::from_utf8_lossy(&content[at..s]));
        out.push_str(&redact(&String::from_utf8_lossy(&content[s..e])));
        at = e;
    }
    out.push_str(&String::from_utf8_lossy(&content[at..end]));
    // Credentials on the same line that no rule recognises (`curl -u
    // user:pass`, `DB_PASS=…`) are never quoted either.
    let out = crate::redact::redact_text(&out);
    let trimmed = out.trim();
    if trimmed.chars().count() > 160 {
        format!("{}…", trimmed.chars().take(159).collect::<String>())
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests;
