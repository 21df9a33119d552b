//! Image configuration signals (`customs lint IMAGE`): what the runtime
//! configuration says about how the container will run — as root, without a
//! health check, without the OCI labels that tie it to its source, with
//! secrets in its environment, exposing ports it should not, with a
//! shell-form entrypoint — and how much it grew against a previous image.

use std::collections::BTreeSet;

use customs_oci::config::{ContainerConfig, ImageConfig};
use customs_types::Severity;

use crate::secrets::SecretScanner;
use crate::{Finding, Location, RuleInfo};

const fn info(code: &'static str, severity: Severity, title: &'static str) -> RuleInfo {
    RuleInfo {
        code,
        severity,
        title,
        check: "image-config",
    }
}

/// The image-config rules.
pub const RULES: &[RuleInfo] = &[
    info(
        "image-runs-as-root",
        Severity::High,
        "The image runs as root",
    ),
    info(
        "image-no-healthcheck",
        Severity::Low,
        "The image has no HEALTHCHECK",
    ),
    info(
        "image-missing-oci-label",
        Severity::Low,
        "A standard OCI label is missing",
    ),
    info(
        "image-secret-in-env",
        Severity::High,
        "A secret in the image environment",
    ),
    info(
        "image-unexpected-port",
        Severity::Medium,
        "The image exposes an unexpected port",
    ),
    info(
        "image-shell-form-entrypoint",
        Severity::Medium,
        "The entrypoint runs through a shell",
    ),
    info(
        "image-no-command",
        Severity::Low,
        "The image has neither ENTRYPOINT nor CMD",
    ),
    info(
        "image-size-growth",
        Severity::Medium,
        "The image grew against the previous one",
    ),
];

/// The OCI labels every released image should carry.
pub const REQUIRED_LABELS: [&str; 4] = [
    "org.opencontainers.image.source",
    "org.opencontainers.image.revision",
    "org.opencontainers.image.version",
    "org.opencontainers.image.created",
];

/// Ports that should not be exposed unless meant to be (remote shells,
/// databases, container runtimes), flagged when no allow-list is given.
pub const SENSITIVE_PORTS: [(u16, &str); 14] = [
    (22, "SSH"),
    (23, "telnet"),
    (2375, "Docker API without TLS"),
    (2376, "Docker API"),
    (3306, "MySQL"),
    (3389, "RDP"),
    (5432, "PostgreSQL"),
    (5900, "VNC"),
    (6379, "Redis"),
    (9200, "Elasticsearch"),
    (11211, "memcached"),
    (27017, "MongoDB"),
    (2379, "etcd"),
    (10250, "kubelet"),
];

/// How the checks are tuned.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// When set, every exposed port not in it is flagged; otherwise the
    /// [`SENSITIVE_PORTS`] are.
    pub allowed_ports: Option<Vec<u16>>,
}

fn finding(
    code: &'static str,
    title: String,
    field: &str,
    evidence: Option<String>,
    remediation: &str,
) -> Finding {
    let severity = RULES
        .iter()
        .find(|r| r.code == code)
        .map_or(Severity::Medium, |r| r.severity);
    Finding {
        rule: code,
        severity,
        title,
        location: Location {
            path: "image config".to_owned(),
            field: Some(field.to_owned()),
            ..Location::default()
        },
        evidence: evidence.map(|e| crate::redact::redact_text(&e)),
        fingerprint: None,
        remediation: remediation.to_owned(),
    }
}

fn is_root(user: &str) -> bool {
    let name = user.split(':').next().unwrap_or("").trim();
    name.is_empty() || name == "root" || name == "0"
}

/// Checks an image's configuration.
#[must_use]
pub fn check(config: &ImageConfig, options: &Options, scanner: &SecretScanner) -> Vec<Finding> {
    let mut out = Vec::new();
    let empty = ContainerConfig::default();
    let c = config.config.as_ref().unwrap_or(&empty);
    let user = c.user.clone().unwrap_or_default();
    if is_root(&user) {
        out.push(finding(
            "image-runs-as-root",
            if user.is_empty() {
                "The image sets no USER, so it runs as root".to_owned()
            } else {
                format!("The image runs as `{user}`")
            },
            "User",
            Some(format!("User={user}")),
            "Add a non-root user and `USER 10001` (a numeric UID, so that Kubernetes' runAsNonRoot can verify it).",
        ));
    }
    let healthcheck_disabled = c
        .healthcheck
        .as_ref()
        .is_some_and(|h| h.test.first().is_some_and(|t| t == "NONE"));
    if c.healthcheck.is_none() || healthcheck_disabled {
        out.push(finding(
            "image-no-healthcheck",
            "The image has no HEALTHCHECK".to_owned(),
            "Healthcheck",
            None,
            "Add `HEALTHCHECK CMD …` (or rely on orchestrator probes and say so in an allow-list).",
        ));
    }
    let labels = c.labels.clone().unwrap_or_default();
    for label in REQUIRED_LABELS {
        if labels.get(label).is_none_or(|v| v.trim().is_empty()) {
            out.push(finding(
                "image-missing-oci-label",
                format!("The label `{label}` is missing"),
                "Labels",
                None,
                "Set the OCI annotation labels at build time (`docker buildx build --label`, or `LABEL` with build args) so the image can be traced to its source.",
            ));
        }
    }
    for entry in c.env.iter().flatten() {
        let (name, value) = entry.split_once('=').unwrap_or((entry, ""));
        if value.is_empty() {
            continue;
        }
        if scanner.is_secret_assignment(name, value) {
            out.push(finding(
                "image-secret-in-env",
                format!("The environment variable `{name}` holds a secret"),
                "Env",
                Some(format!("{name}={}", crate::secrets::redact(value))),
                "Remove it from the image; inject secrets at run time (orchestrator secrets, mounted files).",
            ));
        }
    }
    for port in c.exposed_ports.iter().flat_map(|p| p.keys()) {
        let number: Option<u16> = port.split('/').next().and_then(|n| n.parse().ok());
        let Some(number) = number else { continue };
        let unexpected = match &options.allowed_ports {
            Some(allowed) => {
                (!allowed.contains(&number)).then(|| "not in the allowed list".to_owned())
            }
            None => SENSITIVE_PORTS
                .iter()
                .find(|(p, _)| *p == number)
                .map(|(_, what)| format!("{what} should not be exposed from an application image")),
        };
        if let Some(why) = unexpected {
            out.push(finding(
                "image-unexpected-port",
                format!("The image exposes port {port}: {why}"),
                "ExposedPorts",
                Some(port.clone()),
                "Remove the EXPOSE, or allow the port explicitly (--allowed-ports).",
            ));
        }
    }
    let shell_form = |cmd: &[String]| {
        cmd.len() >= 2
            && ["/bin/sh", "sh", "/bin/bash", "bash", "/bin/ash"].contains(&cmd[0].as_str())
            && cmd[1] == "-c"
    };
    match (&c.entrypoint, &c.cmd) {
        (Some(e), _) if shell_form(e) => out.push(finding(
            "image-shell-form-entrypoint",
            "The ENTRYPOINT is in shell form: the process does not receive signals (SIGTERM) and cannot be given arguments".to_owned(),
            "Entrypoint",
            Some(crate::redact::redact_text(&e.join(" "))),
            "Use the exec form: ENTRYPOINT [\"/app/server\", \"--flag\"].",
        )),
        (None, Some(cmd)) if shell_form(cmd) => out.push(finding(
            "image-shell-form-entrypoint",
            "The CMD is in shell form: the process does not receive signals (SIGTERM)".to_owned(),
            "Cmd",
            Some(crate::redact::redact_text(&cmd.join(" "))),
            "Use the exec form: CMD [\"/app/server\"].",
        )),
        (e, cmd) if e.as_ref().is_none_or(Vec::is_empty) && cmd.as_ref().is_none_or(Vec::is_empty) => {
            out.push(finding(
                "image-no-command",
                "The image has neither ENTRYPOINT nor CMD".to_owned(),
                "Entrypoint",
                None,
                "Set an exec-form ENTRYPOINT or CMD so the image says what it runs.",
            ));
        }
        _ => {}
    }
    out
}

/// What `--compare` needs of an image.
#[derive(Debug, Clone, Default)]
pub struct SizeSummary {
    /// The reference.
    pub name: String,
    /// Compressed size of all layers.
    pub size: u64,
    /// Layer count.
    pub layers: usize,
    /// `type name version` of every package.
    pub packages: BTreeSet<String>,
}

/// Compares an image with a previous one: a finding when the size grew by
/// more than `ratio` (1.5 = 50 %); the evidence lists layers and packages
/// added and removed.
#[must_use]
pub fn size_growth(current: &SizeSummary, previous: &SizeSummary, ratio: f64) -> Option<Finding> {
    #[allow(clippy::cast_precision_loss)]
    let growth = if previous.size == 0 {
        f64::INFINITY
    } else {
        current.size as f64 / previous.size as f64
    };
    if growth <= ratio {
        return None;
    }
    let added: Vec<&String> = current.packages.difference(&previous.packages).collect();
    let removed: Vec<&String> = previous.packages.difference(&current.packages).collect();
    let sample = |v: &[&String]| {
        let mut s: Vec<String> = v.iter().take(5).map(|p| (*p).clone()).collect();
        if v.len() > 5 {
            s.push(format!("… {} more", v.len() - 5));
        }
        s.join(", ")
    };
    Some(finding(
        "image-size-growth",
        format!(
            "The image is {growth:.2}× the size of {} ({} → {} bytes, limit {ratio}×)",
            previous.name, previous.size, current.size
        ),
        "layers",
        Some(format!(
            "layers {} → {}; packages +{} [{}] −{} [{}]",
            previous.layers,
            current.layers,
            added.len(),
            sample(&added),
            removed.len(),
            sample(&removed)
        )),
        "Check what the new layers add (customs files --summary, customs sbom); clean package caches in the same RUN that fills them; use multi-stage builds.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(json: serde_json::Value) -> ImageConfig {
        let mut doc = serde_json::json!({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}});
        doc["config"] = json;
        ImageConfig::parse(&serde_json::to_vec(&doc).unwrap()).unwrap()
    }

    fn codes(f: &[Finding]) -> Vec<&'static str> {
        f.iter().map(|f| f.rule).collect()
    }

    #[test]
    fn a_careless_image_trips_every_signal() {
        let c = config(serde_json::json!({
            "Env": ["PATH=/usr/bin", "DB_PASSWORD=labFakeDbPassw0rd", "EMPTY_TOKEN="],
            "ExposedPorts": {"8080/tcp": {}, "22/tcp": {}},
            "Entrypoint": ["/bin/sh", "-c", "exec /app/server"],
            "Labels": {"org.opencontainers.image.source": "https://x", "org.opencontainers.image.version": "1"}
        }));
        let f = check(&c, &Options::default(), &SecretScanner::new());
        assert_eq!(
            codes(&f),
            [
                "image-runs-as-root",
                "image-no-healthcheck",
                "image-missing-oci-label",
                "image-missing-oci-label",
                "image-secret-in-env",
                "image-unexpected-port",
                "image-shell-form-entrypoint"
            ]
        );
        let env = f.iter().find(|f| f.rule == "image-secret-in-env").unwrap();
        assert_eq!(env.evidence.as_deref(), Some("DB_PASSWORD=la…(17)"));
        assert!(f.iter().any(|f| f.title.contains("port 22/tcp: SSH")));
    }

    #[test]
    fn a_careful_image_is_clean() {
        let c = config(serde_json::json!({
            "User": "10001",
            "Env": ["PATH=/usr/bin", "GPG_KEY=0123"],
            "ExposedPorts": {"8080/tcp": {}},
            "Entrypoint": ["/app/server"],
            "Healthcheck": {"Test": ["CMD", "/app/server", "health"]},
            "Labels": {
                "org.opencontainers.image.source": "https://x",
                "org.opencontainers.image.revision": "abc",
                "org.opencontainers.image.version": "1",
                "org.opencontainers.image.created": "2024-01-01T00:00:00Z"
            }
        }));
        assert!(check(&c, &Options::default(), &SecretScanner::new()).is_empty());
        let strict = Options {
            allowed_ports: Some(vec![443]),
        };
        assert_eq!(
            codes(&check(&c, &strict, &SecretScanner::new())),
            ["image-unexpected-port"]
        );
        let root = config(serde_json::json!({"User": "0:0", "Cmd": ["x"]}));
        assert!(
            codes(&check(&root, &Options::default(), &SecretScanner::new()))
                .contains(&"image-runs-as-root")
        );
    }

    #[test]
    fn growth_against_a_previous_image() {
        let prev = SizeSummary {
            name: "app:1".into(),
            size: 100,
            layers: 3,
            packages: ["deb a 1".to_owned(), "deb b 1".to_owned()].into(),
        };
        let mut cur = SizeSummary {
            name: "app:2".into(),
            size: 140,
            layers: 4,
            packages: ["deb a 1".to_owned(), "deb c 2".to_owned()].into(),
        };
        assert!(size_growth(&cur, &prev, 1.5).is_none());
        cur.size = 200;
        let f = size_growth(&cur, &prev, 1.5).unwrap();
        assert!(
            f.title.starts_with("The image is 2.00× the size of app:1"),
            "{}",
            f.title
        );
        assert_eq!(
            f.evidence.as_deref(),
            Some("layers 3 → 4; packages +1 [deb c 2] −1 [deb b 1]")
        );
    }
}
