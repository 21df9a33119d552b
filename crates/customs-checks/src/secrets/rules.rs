//! The secret rules, as data (like trivy's `builtinRules` and gitleaks'
//! config): each has keywords for the Aho-Corasick prefilter (a rule's
//! regex runs only on text that contains one of them, case-insensitively)
//! and a regex whose first capture group is the secret. Specific formats come
//! before generic ones: when two rules find the same secret on the same
//! line, the first listed wins.

use customs_types::Severity;

/// One secret rule.
#[derive(Debug, Clone, Copy)]
pub struct SecretRule {
    /// Stable kebab-case code.
    pub id: &'static str,
    /// What it finds.
    pub title: &'static str,
    /// How bad a leak is.
    pub severity: Severity,
    /// Lower-case keywords; the regex runs only where one occurs.
    pub keywords: &'static [&'static str],
    /// The pattern; capture group 1 is the secret (the whole match when it
    /// has none).
    pub regex: &'static str,
    /// When not empty, only files whose path ends with one of these (the
    /// credential files: `.npmrc`, `.netrc`, `.docker/config.json` …).
    pub paths: &'static [&'static str],
    /// Minimum Shannon entropy (bits per character) of the secret, for the
    /// generic rules; 0 for formats that are specific enough.
    pub min_entropy: f64,
    /// Whether obvious placeholders (`${VAR}`, `changeme`, `password`) are
    /// not findings: true for rules whose format allows any value (URLs,
    /// generic assignments), false for formats a placeholder cannot take.
    pub skip_placeholders: bool,
    /// What to do.
    pub remediation: &'static str,
}

const ROTATE: &str = "Revoke and rotate the credential, remove it from every layer (rebuild without it: deleting it in a later layer does not remove it from the image), and pass secrets at run time or with BuildKit secret mounts.";
const KEY: &str = "Treat the key as compromised: replace it, rebuild the image without it (a later deletion does not remove it from earlier layers), and mount keys at run time.";

macro_rules! rule {
    ($id:literal, $title:literal, $severity:ident, [$($kw:literal),*], $re:literal) => {
        rule!($id, $title, $severity, [$($kw),*], $re, [], 0.0, ROTATE)
    };
    ($id:literal, $title:literal, $severity:ident, [$($kw:literal),*], $re:literal, [$($path:literal),*], $entropy:literal, $fix:expr) => {
        SecretRule {
            id: $id,
            title: $title,
            severity: Severity::$severity,
            keywords: &[$($kw),*],
            regex: $re,
            paths: &[$($path),*],
            min_entropy: $entropy,
            skip_placeholders: false,
            remediation: $fix,
        }
    };
}

/// Every secret rule, specific formats first.
pub const RULES: &[SecretRule] = &[
    // Cloud providers.
    rule!(
        "aws-access-key-id",
        "AWS access key ID",
        High,
        ["akia", "asia", "abia", "acca"],
        r"\b((?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})\b"
    ),
    rule!(
        "aws-secret-access-key",
        "AWS secret access key",
        Critical,
        [
            "aws_secret",
            "secret_access_key",
            "aws-secret",
            "awssecret",
            "secretaccesskey"
        ],
        r#"(?i)(?:aws_?secret_?access_?key|aws_?secret_?key|secretaccesskey)["']?\s*[:=]\s*["']?([A-Za-z0-9/+=]{30,60})(?:["'\s,;]|$)"#
    ),
    rule!(
        "gcp-service-account-key",
        "Google Cloud service account key (JSON)",
        Critical,
        ["service_account"],
        r#""private_key"\s*:\s*"(-----BEGIN PRIVATE KEY-----[A-Za-z0-9+/=\\ n]{64,})"#
    ),
    rule!(
        "gcp-api-key",
        "Google API key",
        High,
        ["aiza"],
        r"\b(AIza[0-9A-Za-z_\-]{35})\b"
    ),
    rule!(
        "azure-storage-account-key",
        "Azure storage account key",
        Critical,
        ["accountkey"],
        r"(?i)AccountKey=([A-Za-z0-9+/]{86}==)"
    ),
    rule!(
        "azure-sas-token",
        "Azure shared access signature",
        High,
        ["sig="],
        r"[?&]sv=\d{4}-\d{2}-\d{2}[^\s]*&sig=([A-Za-z0-9%+/=]{40,})"
    ),
    rule!(
        "digitalocean-token",
        "DigitalOcean token",
        High,
        ["dop_v1_", "doo_v1_", "dor_v1_"],
        r"\b(do[opr]_v1_[a-f0-9]{64})\b"
    ),
    rule!(
        "heroku-api-key",
        "Heroku API key",
        High,
        ["heroku"],
        r"(?i)heroku[a-z0-9_ .\-]{0,20}[:=]\s*[\x22']?([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\b"
    ),
    rule!(
        "alibaba-access-key-id",
        "Alibaba Cloud access key ID",
        High,
        ["ltai"],
        r"\b(LTAI[A-Za-z0-9]{20})\b"
    ),
    // Source hosting and CI.
    rule!(
        "github-pat",
        "GitHub personal access token",
        Critical,
        ["ghp_"],
        r"\b(ghp_[A-Za-z0-9]{36})\b"
    ),
    rule!(
        "github-fine-grained-pat",
        "GitHub fine-grained personal access token",
        Critical,
        ["github_pat_"],
        r"\b(github_pat_[A-Za-z0-9_]{82})\b"
    ),
    rule!(
        "github-oauth-token",
        "GitHub OAuth access token",
        Critical,
        ["gho_"],
        r"\b(gho_[A-Za-z0-9]{36})\b"
    ),
    rule!(
        "github-app-token",
        "GitHub App token",
        Critical,
        ["ghu_", "ghs_"],
        r"\b((?:ghu|ghs)_[A-Za-z0-9]{36})\b"
    ),
    rule!(
        "github-refresh-token",
        "GitHub refresh token",
        High,
        ["ghr_"],
        r"\b(ghr_[A-Za-z0-9]{36,76})\b"
    ),
    rule!(
        "gitlab-pat",
        "GitLab personal access token",
        Critical,
        ["glpat-"],
        r"\b(glpat-[A-Za-z0-9_\-]{20,})"
    ),
    rule!(
        "gitlab-runner-token",
        "GitLab runner token",
        High,
        ["glrt-", "gr1348941"],
        r"\b((?:glrt-|GR1348941)[A-Za-z0-9_\-]{20,})"
    ),
    rule!(
        "gitlab-deploy-token",
        "GitLab deploy token",
        High,
        ["gldt-"],
        r"\b(gldt-[A-Za-z0-9_\-]{20,})"
    ),
    // Messaging and SaaS.
    rule!(
        "slack-token",
        "Slack token",
        High,
        ["xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-", "xoxe-"],
        r"\b(xox[abeprs]-[0-9A-Za-z\-]{10,})"
    ),
    rule!(
        "slack-webhook-url",
        "Slack incoming webhook",
        High,
        ["hooks.slack.com"],
        r"(https://hooks\.slack\.com/(?:services|workflows)/T[A-Z0-9]+/[A-Z0-9]+/[A-Za-z0-9]{16,})"
    ),
    rule!(
        "discord-webhook-url",
        "Discord webhook",
        Medium,
        ["discord"],
        r"(https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[A-Za-z0-9_\-]{60,})"
    ),
    rule!(
        "telegram-bot-token",
        "Telegram bot token",
        High,
        [":aa"],
        r"\b(\d{8,10}:AA[0-9A-Za-z_\-]{33})\b"
    ),
    rule!(
        "stripe-secret-key",
        "Stripe secret or restricted key",
        Critical,
        ["sk_live_", "rk_live_"],
        r"\b((?:sk|rk)_live_[0-9a-zA-Z]{24,})\b"
    ),
    rule!(
        "stripe-test-key",
        "Stripe test secret key",
        Low,
        ["sk_test_"],
        r"\b(sk_test_[0-9a-zA-Z]{24,})\b"
    ),
    rule!(
        "twilio-api-key",
        "Twilio API key",
        High,
        ["twilio"],
        r"\b(SK[0-9a-fA-F]{32})\b"
    ),
    rule!(
        "twilio-auth-token",
        "Twilio auth token",
        High,
        ["twilio"],
        r"(?i)twilio[a-z_ ]{0,20}(?:auth)?_?token[\x22']?\s*[:=]\s*[\x22']?([0-9a-f]{32})\b"
    ),
    rule!(
        "sendgrid-api-key",
        "SendGrid API key",
        High,
        ["sg."],
        r"\b(SG\.[A-Za-z0-9_\-]{22}\.[A-Za-z0-9_\-]{43})\b"
    ),
    rule!(
        "mailgun-api-key",
        "Mailgun API key",
        High,
        ["key-"],
        r"(?i)mailgun[^\n]{0,40}\b(key-[0-9a-f]{32})\b"
    ),
    rule!(
        "mailchimp-api-key",
        "Mailchimp API key",
        High,
        ["-us"],
        r"(?i)(?:mailchimp|mc_api)[^\n]{0,40}\b([0-9a-f]{32}-us\d{1,2})\b"
    ),
    rule!(
        "shopify-token",
        "Shopify access token",
        High,
        ["shpat_", "shpca_", "shppa_", "shpss_"],
        r"\b(shp(?:at|ca|pa|ss)_[a-fA-F0-9]{32})\b"
    ),
    rule!(
        "openai-api-key",
        "OpenAI API key",
        High,
        ["t3blbkfj"],
        r"\b(sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_\-]{20,}T3BlbkFJ[A-Za-z0-9_\-]{20,})\b"
    ),
    rule!(
        "anthropic-api-key",
        "Anthropic API key",
        High,
        ["sk-ant-"],
        r"\b(sk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_\-]{80,})"
    ),
    rule!(
        "huggingface-token",
        "Hugging Face access token",
        High,
        ["hf_"],
        r"\b(hf_[A-Za-z]{34})\b"
    ),
    rule!(
        "hashicorp-vault-token",
        "HashiCorp Vault token",
        High,
        ["hvs.", "hvb."],
        r"\b(hv[sb]\.[A-Za-z0-9_\-]{24,})\b"
    ),
    rule!(
        "databricks-token",
        "Databricks access token",
        High,
        ["dapi"],
        r"\b(dapi[a-f0-9]{32}(?:-\d)?)\b"
    ),
    // Package registries.
    rule!(
        "npm-access-token",
        "npm access token",
        Critical,
        ["npm_"],
        r"\b(npm_[A-Za-z0-9]{36})\b"
    ),
    rule!(
        "pypi-upload-token",
        "PyPI upload token",
        Critical,
        ["pypi-ageichlwas5vcmc"],
        r"\b(pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{50,})"
    ),
    rule!(
        "dockerhub-pat",
        "Docker Hub personal access token",
        Critical,
        ["dckr_pat_"],
        r"\b(dckr_pat_[A-Za-z0-9_\-]{27,})"
    ),
    rule!(
        "rubygems-api-key",
        "RubyGems API key",
        High,
        ["rubygems_"],
        r"\b(rubygems_[a-f0-9]{48})\b"
    ),
    rule!(
        "nuget-api-key",
        "NuGet API key",
        High,
        ["oy2"],
        r"\b(oy2[a-z0-9]{43})\b"
    ),
    // Keys.
    rule!(
        "private-key-rsa",
        "RSA private key",
        Critical,
        ["begin rsa private key"],
        r"(-----BEGIN RSA PRIVATE KEY-----)",
        [],
        0.0,
        KEY
    ),
    rule!(
        "private-key-ec",
        "EC private key",
        Critical,
        ["begin ec private key"],
        r"(-----BEGIN EC PRIVATE KEY-----)",
        [],
        0.0,
        KEY
    ),
    rule!(
        "private-key-dsa",
        "DSA private key",
        Critical,
        ["begin dsa private key"],
        r"(-----BEGIN DSA PRIVATE KEY-----)",
        [],
        0.0,
        KEY
    ),
    rule!(
        "private-key-pkcs8",
        "PKCS #8 private key",
        Critical,
        ["begin private key"],
        r"(-----BEGIN PRIVATE KEY-----)",
        [],
        0.0,
        KEY
    ),
    rule!(
        "private-key-pkcs8-encrypted",
        "Encrypted PKCS #8 private key",
        Medium,
        ["begin encrypted private key"],
        r"(-----BEGIN ENCRYPTED PRIVATE KEY-----)",
        [],
        0.0,
        KEY
    ),
    rule!(
        "private-key-openssh",
        "OpenSSH private key",
        Critical,
        ["begin openssh private key"],
        r"(-----BEGIN OPENSSH PRIVATE KEY-----)",
        [],
        0.0,
        KEY
    ),
    rule!(
        "private-key-pgp",
        "PGP private key block",
        Critical,
        ["begin pgp private key block"],
        r"(-----BEGIN PGP PRIVATE KEY BLOCK-----)",
        [],
        0.0,
        KEY
    ),
    rule!(
        "age-secret-key",
        "age secret key",
        Critical,
        ["age-secret-key-1"],
        r"\b(AGE-SECRET-KEY-1[0-9A-Z]{58})\b",
        [],
        0.0,
        KEY
    ),
    rule!(
        "jwt",
        "JSON Web Token",
        Medium,
        ["eyj"],
        r"\b(eyJ[A-Za-z0-9_\-]{10,}\.eyJ[A-Za-z0-9_\-]{10,}\.[A-Za-z0-9_\-]{16,})"
    ),
    // Credential files.
    rule!(
        "npmrc-auth-token",
        "npm registry token in .npmrc",
        Critical,
        ["_authtoken", "_auth", "_password"],
        r"(?m)(?:_authToken|_auth|_password)\s*=\s*[\x22']?([^\s\x22'$][^\s\x22']{7,})",
        [".npmrc"],
        0.0,
        ROTATE
    ),
    rule!(
        "pypirc-password",
        "Password in .pypirc",
        Critical,
        ["password"],
        r"(?mi)^\s*password\s*[:=]\s*(\S{4,})",
        [".pypirc"],
        0.0,
        ROTATE
    ),
    rule!(
        "docker-config-auth",
        "Registry credentials in a Docker config.json",
        Critical,
        ["\"auth\""],
        r#""auth"\s*:\s*"([A-Za-z0-9+/=]{8,})""#,
        [".docker/config.json", "/.dockercfg"],
        0.0,
        ROTATE
    ),
    SecretRule {
        skip_placeholders: true,
        ..rule!(
            "git-credentials",
            "Password in .git-credentials",
            Critical,
            ["://"],
            r"(?m)^\s*[a-z][a-z0-9+.\-]*://[^:/\s@]+:([^@\s]+)@",
            [".git-credentials"],
            0.0,
            ROTATE
        )
    },
    rule!(
        "netrc-password",
        "Password in .netrc",
        Critical,
        ["password"],
        r"(?m)\bpassword\s+(\S{3,})",
        ["/.netrc", "/_netrc"],
        0.0,
        ROTATE
    ),
    rule!(
        "htpasswd-hash",
        "Password hash in an htpasswd file",
        Medium,
        [":$"],
        r"(?m)^[^:\s#]+:(\$(?:2[aby]|apr1|5|6)\$[^\s]{20,})",
        ["htpasswd", ".htpasswd"],
        0.0,
        ROTATE
    ),
    // Connection strings and URLs.
    SecretRule {
        skip_placeholders: true,
        ..rule!(
            "database-connection-string",
            "Password in a database connection string",
            High,
            [
                "postgres", "mysql", "mongodb", "redis", "amqp", "mssql", "mariadb"
            ],
            r"(?i)\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver)://[^:/\s@\x22']+:([^@/\s\x22']{3,})@[^\s\x22']+"
        )
    },
    SecretRule {
        skip_placeholders: true,
        ..rule!(
            "url-password",
            "Password in a URL",
            Medium,
            ["://"],
            r"\b[a-z][a-z0-9+.\-]{1,20}://[^:/\s@\x22'<>]{1,64}:([^@/\s\x22'<>]{3,})@[a-zA-Z0-9.\-]+"
        )
    },
    // Generic assignments, gated by entropy.
    SecretRule {
        skip_placeholders: true,
        ..rule!(
            "generic-secret-assignment",
            "Secret-looking value assigned to a password, secret, token or key",
            Medium,
            [
                "password",
                "passwd",
                "secret",
                "token",
                "api_key",
                "apikey",
                "api-key",
                "credential"
            ],
            r#"(?i)\b[a-z0-9_.\-]*(?:password|passwd|secret|token|api_?key|api-key|credentials?)\b["']?\s*(?::|=|:=|=>)\s*["']?([^\s"'`#,;(){}\[\]<>]{8,128})"#,
            [],
            3.5,
            ROTATE
        )
    },
];
