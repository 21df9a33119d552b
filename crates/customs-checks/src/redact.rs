//! Keeps secret-looking values out of `inspect` output: environment values
//! under secret-looking names, well-known token formats, passwords in URLs,
//! and `NAME=value` build arguments in history. There is no switch to turn
//! this off: customs never prints a full secret.

use std::sync::LazyLock;

use regex::Regex;

const REDACTED: &str = "[redacted]";

/// Words that make a variable name secret-looking on their own.
const SECRET_WORDS: &[&str] = &[
    "PASSWORD",
    "PASSWD",
    "PASS",
    "PWD",
    "SECRET",
    "SECRETS",
    "TOKEN",
    "TOKENS",
    "APIKEY",
    "CREDENTIAL",
    "CREDENTIALS",
    "PRIVATEKEY",
    "DSN",
];
/// Words that make a following `KEY` secret-looking (`API_KEY`, not `GPG_KEY`).
const KEY_QUALIFIERS: &[&str] = &[
    "API",
    "ACCESS",
    "SECRET",
    "PRIVATE",
    "ENCRYPTION",
    "SIGNING",
    "MASTER",
    "CLIENT",
    "AUTH",
    "APP",
    "LICENSE",
    "SERVICE",
    "ACCOUNT",
    "STORAGE",
];
/// Suffixes naming where a secret is, not the secret.
const REFERENCE_SUFFIXES: &[&str] = &["FILE", "PATH", "DIR", "LOCATION", "ENV", "NAME", "ID_FILE"];

static TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r"(?:\b(?:AKIA|ASIA)[A-Z0-9]{16}\b",
        r"|\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{30,}",
        r"|\bgithub_pat_[A-Za-z0-9_]{40,}",
        r"|\bglpat-[A-Za-z0-9_-]{20,}",
        r"|\bxox[abposr]-[A-Za-z0-9-]{10,}",
        r"|\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}",
        r"|\bnpm_[A-Za-z0-9]{36}",
        r"|\bpypi-AgE[A-Za-z0-9_-]{50,}",
        r"|\bdckr_pat_[A-Za-z0-9_-]{20,}",
        r"|\bSG\.[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{20,}",
        r"|\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}",
        r"|-----BEGIN [A-Z ]*PRIVATE KEY-----)"
    ))
    .unwrap_or_else(|_| unreachable!("the pattern is a literal"))
});
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"([A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:)([^@\s]+)(@)")
        .unwrap_or_else(|_| unreachable!("literal"))
});
static ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b([A-Za-z_][A-Za-z0-9_.-]*)=(\S+)").unwrap_or_else(|_| unreachable!("literal"))
});

/// Whether a variable name says its value is a secret.
pub fn secret_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(['_', '-', '.'])
        .filter(|w| !w.is_empty())
        .collect();
    if words.last().is_some_and(|w| REFERENCE_SUFFIXES.contains(w)) {
        return false;
    }
    words.iter().enumerate().any(|(i, w)| {
        SECRET_WORDS.contains(w)
            || (*w == "KEY" && i > 0 && KEY_QUALIFIERS.contains(&words[i - 1]))
            || w.ends_with("PASSWORD")
            || w.ends_with("SECRET")
            || w.ends_with("TOKEN")
    })
}

/// Redacts known token formats and URL passwords inside any text.
pub fn redact_text(text: &str) -> String {
    let text = URL_PASSWORD.replace_all(text, format!("${{1}}{REDACTED}${{3}}"));
    let text = TOKEN.replace_all(&text, REDACTED);
    ASSIGNMENT
        .replace_all(&text, |caps: &regex::Captures<'_>| {
            if secret_name(&caps[1]) && &caps[2] != REDACTED {
                format!("{}={REDACTED}", &caps[1])
            } else {
                caps[0].to_owned()
            }
        })
        .into_owned()
}

/// Redacts one `NAME=value` environment entry.
pub fn redact_env(entry: &str) -> String {
    match entry.split_once('=') {
        Some((name, value)) if secret_name(name) && !value.is_empty() => {
            format!("{name}={REDACTED}")
        }
        Some((name, value)) => format!("{name}={}", redact_text(value)),
        None => entry.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for secret in [
            "DB_PASSWORD",
            "PASSWORD",
            "api_key",
            "GITHUB_TOKEN",
            "AWS_SECRET_ACCESS_KEY",
            "MYSQL_ROOT_PASSWORD",
            "CLIENT_SECRET",
            "SENTRY_DSN",
            "AWS_ACCESS_KEY",
        ] {
            assert!(secret_name(secret), "{secret}");
        }
        for plain in [
            "PATH",
            "GPG_KEY",
            "PYTHON_VERSION",
            "PASSWORD_FILE",
            "TOKEN_PATH",
            "KEYBOARD",
            "HOME",
            "LANG",
            "PASSENGER_ROOT",
        ] {
            assert!(!secret_name(plain), "{plain}");
        }
    }

    #[test]
    fn env_entries() {
        assert_eq!(
            redact_env("DB_PASSWORD=labFakeDbPassw0rd"),
            "DB_PASSWORD=[redacted]"
        );
        assert_eq!(redact_env("PATH=/usr/bin:/bin"), "PATH=/usr/bin:/bin");
        assert_eq!(
            redact_env("DATABASE_URL=postgres://app:s3cret@db:5432/x"),
            "DATABASE_URL=postgres://app:[redacted]@db:5432/x"
        );
        assert_eq!(redact_env("X=AKIALABTESTFAKEKEYXX"), "X=[redacted]");
        assert_eq!(redact_env("EMPTY_PASSWORD="), "EMPTY_PASSWORD=");
    }

    #[test]
    fn history_lines() {
        let line = "/bin/sh -c #(nop) ARG NPM_TOKEN=abc123 VERSION=1.2 && curl https://u:pw@x/y ghp_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
        let out = redact_text(line);
        assert_eq!(
            out,
            "/bin/sh -c #(nop) ARG NPM_TOKEN=[redacted] VERSION=1.2 && curl https://u:[redacted]@x/y [redacted]"
        );
        for secret in ["abc123", "pw@", "ghp_a"] {
            assert!(!out.contains(secret), "{secret} leaked: {out}");
        }
    }
}
