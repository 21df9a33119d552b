//! Every rule finds its format and redacts it; near misses and placeholders
//! are not findings. Samples are assembled at run time so that no
//! token-shaped literal sits in the source.

use super::*;

fn alnum(n: usize, seed: u8) -> String {
    const SET: &[u8] = b"A1b2C3d4E5f6G7h8J9k0LmNpQrStUvWxYz";
    (0..n)
        .map(|i| SET[(i * 7 + usize::from(seed)) % SET.len()] as char)
        .collect()
}

fn hex(n: usize, seed: u8) -> String {
    const SET: &[u8] = b"0123456789abcdef";
    (0..n)
        .map(|i| SET[(i * 5 + usize::from(seed)) % SET.len()] as char)
        .collect()
}

fn upper(n: usize) -> String {
    const SET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZ234567";
    (0..n).map(|i| SET[(i * 11) % SET.len()] as char).collect()
}

fn samples() -> Vec<(&'static str, &'static str, String)> {
    let b64_88 = format!("{}==", alnum(86, 3).replace(['1', '3'], "+"));
    vec![
        (
            "aws-access-key-id",
            "/app/.env",
            format!("AWS_ACCESS_KEY_ID=AKIA{}", upper(16)),
        ),
        (
            "aws-secret-access-key",
            "/app/.env",
            format!("aws_secret_access_key = {}", alnum(40, 1)),
        ),
        (
            "gcp-service-account-key",
            "/sa.json",
            format!(
                "{{\"type\": \"service_account\", \"private_key\": \"-----BEGIN PRIVATE KEY-----\\n{}\"}}",
                alnum(80, 2)
            ),
        ),
        (
            "gcp-api-key",
            "/app/config.js",
            format!("key: 'AIza{}'", alnum(35, 4)),
        ),
        (
            "azure-storage-account-key",
            "/app/appsettings.json",
            format!("DefaultEndpointsProtocol=https;AccountName=x;AccountKey={b64_88};"),
        ),
        (
            "azure-sas-token",
            "/app/x",
            format!(
                "https://a.blob.core.windows.net/c?sv=2022-11-02&ss=b&sig={}",
                alnum(44, 5)
            ),
        ),
        ("digitalocean-token", "/x", format!("dop_v1_{}", hex(64, 1))),
        (
            "heroku-api-key",
            "/x",
            format!(
                "HEROKU_API_KEY={}-{}-{}-{}-{}",
                hex(8, 1),
                hex(4, 2),
                hex(4, 3),
                hex(4, 4),
                hex(12, 5)
            ),
        ),
        (
            "alibaba-access-key-id",
            "/x",
            format!("LTAI{}", alnum(20, 6)),
        ),
        ("github-pat", "/x", format!("token=ghp_{}", alnum(36, 7))),
        (
            "github-fine-grained-pat",
            "/x",
            format!("github_pat_{}", alnum(82, 8)),
        ),
        ("github-oauth-token", "/x", format!("gho_{}", alnum(36, 9))),
        ("github-app-token", "/x", format!("ghs_{}", alnum(36, 10))),
        (
            "github-refresh-token",
            "/x",
            format!("ghr_{}", alnum(40, 11)),
        ),
        ("gitlab-pat", "/x", format!("glpat-{}", alnum(20, 12))),
        (
            "gitlab-runner-token",
            "/x",
            format!("glrt-{}", alnum(24, 13)),
        ),
        (
            "gitlab-deploy-token",
            "/x",
            format!("gldt-{}", alnum(24, 14)),
        ),
        (
            "slack-token",
            "/x",
            format!(
                "xoxb-{}-{}",
                hex(12, 1).replace(char::is_alphabetic, "7"),
                alnum(24, 15)
            ),
        ),
        (
            "slack-webhook-url",
            "/x",
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                upper(8),
                upper(8),
                alnum(24, 16)
            ),
        ),
        (
            "discord-webhook-url",
            "/x",
            format!(
                "https://discord.com/api/webhooks/123456789012345678/{}",
                alnum(68, 17)
            ),
        ),
        (
            "telegram-bot-token",
            "/x",
            format!("bot 123456789:AA{}", alnum(33, 18)),
        ),
        (
            "stripe-secret-key",
            "/x",
            format!("sk_live_{}", alnum(24, 19)),
        ),
        (
            "stripe-test-key",
            "/x",
            format!("sk_test_{}", alnum(24, 20)),
        ),
        (
            "twilio-api-key",
            "/x",
            format!("twilio key SK{}", hex(32, 2)),
        ),
        (
            "twilio-auth-token",
            "/x",
            format!("TWILIO_AUTH_TOKEN={}", hex(32, 3)),
        ),
        (
            "sendgrid-api-key",
            "/x",
            format!("SG.{}.{}", alnum(22, 21), alnum(43, 22)),
        ),
        (
            "mailgun-api-key",
            "/x",
            format!("MAILGUN_KEY=key-{}", hex(32, 4)),
        ),
        (
            "mailchimp-api-key",
            "/x",
            format!("MAILCHIMP_KEY={}-us21", hex(32, 5)),
        ),
        ("shopify-token", "/x", format!("shpat_{}", hex(32, 6))),
        (
            "openai-api-key",
            "/x",
            format!("sk-proj-{}T3BlbkFJ{}", alnum(24, 23), alnum(24, 24)),
        ),
        (
            "anthropic-api-key",
            "/x",
            format!("sk-ant-api03-{}", alnum(93, 25)),
        ),
        (
            "huggingface-token",
            "/x",
            format!("hf_{}", alnum(34, 26).replace(char::is_numeric, "q")),
        ),
        (
            "hashicorp-vault-token",
            "/x",
            format!("VAULT_TOKEN=hvs.{}", alnum(24, 27)),
        ),
        ("databricks-token", "/x", format!("dapi{}", hex(32, 7))),
        ("npm-access-token", "/x", format!("npm_{}", alnum(36, 28))),
        (
            "pypi-upload-token",
            "/x",
            format!("pypi-AgEIcHlwaS5vcmc{}", alnum(60, 29)),
        ),
        ("dockerhub-pat", "/x", format!("dckr_pat_{}", alnum(27, 30))),
        ("rubygems-api-key", "/x", format!("rubygems_{}", hex(48, 8))),
        ("nuget-api-key", "/x", format!("oy2{}", hex(43, 9))),
        (
            "private-key-rsa",
            "/root/.ssh/id_rsa",
            "-----BEGIN RSA PRIVATE KEY-----\nMIIE...".to_owned(),
        ),
        (
            "private-key-ec",
            "/k.pem",
            "-----BEGIN EC PRIVATE KEY-----".to_owned(),
        ),
        (
            "private-key-dsa",
            "/k.pem",
            "-----BEGIN DSA PRIVATE KEY-----".to_owned(),
        ),
        (
            "private-key-pkcs8",
            "/k.pem",
            "-----BEGIN PRIVATE KEY-----".to_owned(),
        ),
        (
            "private-key-pkcs8-encrypted",
            "/k.pem",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----".to_owned(),
        ),
        (
            "private-key-openssh",
            "/k",
            "-----BEGIN OPENSSH PRIVATE KEY-----".to_owned(),
        ),
        (
            "private-key-pgp",
            "/k.asc",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----".to_owned(),
        ),
        (
            "age-secret-key",
            "/k.txt",
            format!("AGE-SECRET-KEY-1{}", upper(58)),
        ),
        (
            "jwt",
            "/x",
            format!(
                "Authorization: Bearer eyJ{}.eyJ{}.{}",
                alnum(20, 31),
                alnum(30, 32),
                alnum(32, 33)
            ),
        ),
        (
            "npmrc-auth-token",
            "/root/.npmrc",
            format!("//registry.npmjs.org/:_authToken={}", alnum(30, 34)),
        ),
        (
            "pypirc-password",
            "/root/.pypirc",
            "[pypi]\nusername = me\npassword = s3cr3t-Passw0rd\n".to_owned(),
        ),
        (
            "docker-config-auth",
            "/root/.docker/config.json",
            format!(
                "{{\"auths\":{{\"r.io\":{{\"auth\":\"{}\"}}}}}}",
                alnum(24, 35)
            ),
        ),
        (
            "git-credentials",
            "/root/.git-credentials",
            "https://me:Gh7s9Kq2LmZx@github.com\n".to_owned(),
        ),
        (
            "netrc-password",
            "/root/.netrc",
            "machine ftp.example.org login me password Tz8qLm2Kp9\n".to_owned(),
        ),
        (
            "htpasswd-hash",
            "/etc/nginx/.htpasswd",
            format!("admin:$apr1${}${}", alnum(8, 36), alnum(22, 37)),
        ),
        (
            "database-connection-string",
            "/app/config/settings.yaml",
            "url: postgres://app:labFakeDbPassw0rd@db:5432/app".to_owned(),
        ),
        (
            "url-password",
            "/app/x.txt",
            "mirror: https://deploy:Kq8zT2mLx9@files.internal.example.net/pkg".to_owned(),
        ),
        (
            "generic-secret-assignment",
            "/app/settings.py",
            "DB_PASSWORD = \"k8Hq2Zx9LmTq4Wv7\"".to_owned(),
        ),
    ]
}

#[test]
fn every_rule_compiles_and_has_a_sample_that_it_finds() {
    let scanner = SecretScanner::new();
    let samples = samples();
    for rule in RULES {
        assert!(
            samples.iter().any(|(id, _, _)| *id == rule.id),
            "no sample for {}",
            rule.id
        );
        assert!(!rule.keywords.is_empty(), "{} has no keyword", rule.id);
        for kw in rule.keywords {
            assert_eq!(
                *kw,
                kw.to_ascii_lowercase(),
                "{}: keywords are lower-case",
                rule.id
            );
        }
    }
    for (id, path, text) in &samples {
        let found = scanner.scan(path, text.as_bytes());
        let ids: Vec<&str> = found.iter().map(|m| m.rule.id).collect();
        assert!(ids.contains(id), "{id}: not found in {path}; found {ids:?}");
        for m in &found {
            // The secret never appears whole in what is shown.
            assert!(m.redacted.contains('…'), "{id}: {}", m.redacted);
            assert!(m.fingerprint.starts_with("sha256:") && m.fingerprint.len() == 23);
            assert_eq!(m.line, if *id == "pypirc-password" { 3 } else { 1 });
        }
    }
}

#[test]
fn secrets_are_redacted_everywhere() {
    let scanner = SecretScanner::new();
    let key = format!("AKIA{}", upper(16));
    let secret = alnum(40, 40);
    let text = format!("x=1\nexport AWS_ACCESS_KEY_ID={key} AWS_SECRET_ACCESS_KEY={secret}\n");
    let found = scanner.scan("/app/.env", text.as_bytes());
    assert_eq!(found.len(), 2, "{found:?}");
    for m in &found {
        assert_eq!(m.line, 2);
        assert!(
            !m.context.contains(&key) && !m.context.contains(&secret),
            "{}",
            m.context
        );
        assert!(
            m.context.starts_with("export AWS_ACCESS_KEY_ID=AKIA…(20)"),
            "{}",
            m.context
        );
    }
    assert_eq!(redact("AKIAEXAMPLEFAKEKEY01"), "AKIA…(20)");
    assert_eq!(redact("hunter2hunter2"), "hu…(14)");
    assert_eq!(redact("short"), "…(5)");
}

#[test]
fn specific_rules_win_over_generic_ones() {
    let scanner = SecretScanner::new();
    let found = scanner.scan(
        "/app/settings.yaml",
        b"url: postgres://app:labFakeDbPassw0rd@db:5432/app\n",
    );
    let ids: Vec<&str> = found.iter().map(|m| m.rule.id).collect();
    assert_eq!(ids, ["database-connection-string"]);
    let token = format!("ghp_{}", alnum(36, 41));
    let found = scanner.scan("/x", format!("GITHUB_TOKEN={token}").as_bytes());
    let ids: Vec<&str> = found.iter().map(|m| m.rule.id).collect();
    assert_eq!(ids, ["github-pat"], "the generic rule does not repeat it");
}

#[test]
fn near_misses_and_placeholders_are_not_findings() {
    let scanner = SecretScanner::new();
    for (path, text) in [
        ("/x", "AKIA1234".to_owned()),           // too short
        ("/x", format!("ghp_{}", alnum(20, 1))), // too short
        ("/etc/app.conf", "password = ${DB_PASSWORD}".to_owned()),
        ("/etc/app.conf", "password: changeme".to_owned()),
        (
            "/etc/app.conf",
            "password = \"<your password here>\"".to_owned(),
        ),
        (
            "/etc/app.conf",
            "secret_key = aaaaaaaaaaaaaaaaaaaa".to_owned(),
        ),
        ("/etc/app.conf", "token: true".to_owned()),
        (
            "/usr/share/doc/x/README",
            "Set the password with --password=yourpassword".to_owned(),
        ),
        ("/x", "postgres://user:password@localhost/db".to_owned()),
        ("/x", "https://user:$PASS@host/x".to_owned()),
        (
            "/home/x/notes.txt",
            "_authToken=aaaabbbbccccdddd".to_owned(),
        ), // not an .npmrc
        (
            "/etc/app.conf",
            "api_key = get_api_key_from_env()".to_owned(),
        ),
    ] {
        let found = scanner.scan(path, text.as_bytes());
        assert!(
            found.is_empty(),
            "{path}: {text:?} gave {:?}",
            found.iter().map(|m| m.rule.id).collect::<Vec<_>>()
        );
    }
    assert!(SecretScanner::is_binary(b"\x7fELF\0\0\0"));
    assert!(!SecretScanner::is_binary(b"text"));
}

#[test]
fn allow_list_by_rule_path_and_fingerprint() {
    let allow = AllowList::parse(
        "customs.toml",
        r#"
        [[secrets.allow]]
        rule = "generic-secret-assignment"
        path = "/app/tests/**"
        reason = "fixtures"

        [[secrets.allow]]
        fingerprint = "sha256:0123456789abcdef"
        "#,
    )
    .unwrap();
    assert_eq!(allow.len(), 2);
    assert!(allow.allows("generic-secret-assignment", "/app/tests/a/b.py", "sha256:x"));
    assert!(!allow.allows("generic-secret-assignment", "/app/src/b.py", "sha256:x"));
    assert!(!allow.allows("github-pat", "/app/tests/b.py", "sha256:x"));
    assert!(allow.allows("github-pat", "/anywhere", "sha256:0123456789abcdef"));

    let e = AllowList::parse("c.toml", "[[secrets.allow]]\nrule = \"nope\"\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "c.toml: allow-list entry 1: unknown rule `nope`"
    );
    let e = AllowList::parse("c.toml", "[[secrets.allow]]\nreason = \"x\"\n").unwrap_err();
    assert!(
        e.to_string().contains("names no rule, path or fingerprint"),
        "{e}"
    );
    let e = AllowList::parse("c.toml", "[secrets\nallow = 1").unwrap_err();
    assert!(
        e.to_string()
            .starts_with("c.toml: not a valid customs configuration"),
        "{e}"
    );
    let e = AllowList::parse("c.toml", "[[secrets.allow]]\nrulez = \"x\"\n").unwrap_err();
    assert!(e.to_string().starts_with("c.toml: not a valid"), "{e}");
}

#[test]
fn globs() {
    let g = glob("/app/**/*.py").unwrap();
    assert!(g.is_match(b"/app/a.py") && g.is_match(b"/app/x/y/a.py"));
    assert!(!g.is_match(b"/app/a.pyc") && !g.is_match(b"/other/a.py"));
    assert!(
        glob("/usr/share/doc/**")
            .unwrap()
            .is_match(b"/usr/share/doc/x/README")
    );
    assert!(glob("*.pem").unwrap().is_match(b"key.pem"));
    assert!(!glob("*.pem").unwrap().is_match(b"/dir/key.pem"));
}

proptest::proptest! {
    #[test]
    fn scanning_anything_never_panics_and_never_leaks(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
        let scanner = SecretScanner::new();
        for m in scanner.scan("/root/.npmrc", &bytes) {
            proptest::prop_assert!(m.redacted.contains('…'));
        }
    }
}
