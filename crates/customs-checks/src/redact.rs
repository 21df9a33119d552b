//! Keeps secret-looking values out of `inspect` output: environment values
//! under secret-looking names, well-known token formats, passwords in URLs,
//! and `NAME=value` build arguments in history. There is no switch to turn
//! this off: customs never prints a full secret.

use std::sync::LazyLock;

use regex::Regex;

/// What stands for a redacted value.
pub const REDACTED: &str = "[redacted]";

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
    Regex::new(r#"\b([A-Za-z_][A-Za-z0-9_.-]*)=("[^"]*"|'[^']*'|\S+)"#)
        .unwrap_or_else(|_| unreachable!("literal"))
});
/// `user:password` given to a command-line flag (`curl -u`, `--user`,
/// `--proxy-user`, `wget --http-user`).
static FLAG_CREDENTIALS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"((?:^|\s)(?:-u|-U|--user|--proxy-user|--http-user)(?:\s+|=)["']?[^\s:"']*:)([^\s"']+)"#,
    )
    .unwrap_or_else(|_| unreachable!("literal"))
});
/// The value of a password flag (`--password X`, `--http-password=X`).
static FLAG_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"((?:^|\s)--(?:password|passwd|pass|http-password|ftp-password|proxy-password|registry-password)(?:\s+|=)["']?)([^\s"']+)"#)
        .unwrap_or_else(|_| unreachable!("literal"))
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

/// Redacts known token formats, URL passwords, credentials given to
/// command-line flags and the values of secret-named assignments inside any
/// text: evidence lines, history, commands.
pub fn redact_text(text: &str) -> String {
    let text = URL_PASSWORD.replace_all(text, format!("${{1}}{REDACTED}${{3}}"));
    let text = FLAG_CREDENTIALS.replace_all(&text, format!("${{1}}{REDACTED}"));
    let text = FLAG_PASSWORD.replace_all(&text, format!("${{1}}{REDACTED}"));
    let text = TOKEN.replace_all(&text, REDACTED);
    ASSIGNMENT
        .replace_all(&text, |caps: &regex::Captures<'_>| {
            // Already redacted here, or by a secret rule (`ab…(40)`).
            let done = &caps[2] == REDACTED || caps[2].contains("…(");
            if secret_name(&caps[1]) && !done {
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

    /// Issue 14 (hostile 10): credentials no rule recognises were quoted
    /// whole in evidence and history.
    #[test]
    fn command_line_credentials_and_secret_assignments() {
        for (line, secret, kept) in [
            (
                "RUN curl -u admin:S3cr3tP4ss https://x/y",
                "S3cr3tP4ss",
                "-u admin:[redacted]",
            ),
            (
                "curl --user=deploy:hunter2hunter2 -O",
                "hunter2",
                "--user=deploy:[redacted]",
            ),
            ("curl --user 'ci:pa ss' x", "pa", "--user 'ci:[redacted]"),
            (
                "wget --http-user=bob --http-password=Tr0ub4dor x",
                "Tr0ub4dor",
                "--http-password=[redacted]",
            ),
            (
                "docker login --password s3cretpw reg",
                "s3cretpw",
                "--password [redacted]",
            ),
            ("export DB_PASS=ohno123", "ohno123", "DB_PASS=[redacted]"),
            (
                "MYSQL_PWD=rootpw mysql -h db",
                "rootpw",
                "MYSQL_PWD=[redacted]",
            ),
            (
                r#"ENV API_TOKEN="with spaces""#,
                "spaces",
                "API_TOKEN=[redacted]",
            ),
        ] {
            let out = redact_text(line);
            assert!(!out.contains(secret), "{secret} leaked: {out}");
            assert!(out.contains(kept), "{out}");
        }
        assert_eq!(redact_text("ls -u -la /usr"), "ls -u -la /usr");
        assert_eq!(redact_text("useradd -u 1000 app"), "useradd -u 1000 app");
    }
}
