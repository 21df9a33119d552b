//! Deploy-manifest lint (`customs lint compose.yaml | k8s.yaml | stack.yml`):
//! docker-compose and swarm stack files, and Kubernetes workloads (Pod,
//! Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, and `List`s
//! of them) in multi-document YAML. Every finding names the document, the
//! field path and its line.

use customs_types::Severity;
use serde::Deserialize as _;
use serde_json::Value;

use crate::{Finding, Location, RuleInfo};

const fn info(code: &'static str, severity: Severity, title: &'static str) -> RuleInfo {
    RuleInfo {
        code,
        severity,
        title,
        check: "manifest",
    }
}

/// The manifest rules.
pub const RULES: &[RuleInfo] = &[
    info(
        "manifest-image-latest",
        Severity::Medium,
        "Image uses `latest` or no tag",
    ),
    info(
        "manifest-image-not-pinned",
        Severity::Low,
        "Image is not pinned by digest (an error for production)",
    ),
    info(
        "manifest-privileged",
        Severity::High,
        "Container runs privileged",
    ),
    info(
        "manifest-host-namespace",
        Severity::High,
        "Container shares a host namespace",
    ),
    info(
        "manifest-run-as-root",
        Severity::Medium,
        "Container may run as root",
    ),
    info(
        "manifest-privilege-escalation",
        Severity::Medium,
        "Privilege escalation is not disabled",
    ),
    info(
        "manifest-dangerous-capability",
        Severity::High,
        "A dangerous capability is added",
    ),
    info(
        "manifest-secret-in-env",
        Severity::High,
        "A secret literal in the environment",
    ),
];

/// Capabilities that amount to root on the host or network.
const DANGEROUS_CAPABILITIES: [&str; 9] = [
    "ALL",
    "SYS_ADMIN",
    "NET_ADMIN",
    "SYS_PTRACE",
    "SYS_MODULE",
    "DAC_READ_SEARCH",
    "SYS_RAWIO",
    "BPF",
    "PERFMON",
];

/// The capability's bare name when it is a dangerous one (`CAP_SYS_ADMIN`
/// and `sys_admin` both name `SYS_ADMIN`).
fn dangerous_capability(cap: &str) -> Option<String> {
    let bare = cap.trim_start_matches("CAP_").to_ascii_uppercase();
    DANGEROUS_CAPABILITIES
        .contains(&bare.as_str())
        .then_some(bare)
}

/// How the lint is tuned.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// A production environment (`--env prod`): an image not pinned by
    /// digest is an error (high) instead of a warning.
    pub production: bool,
}

/// Why a manifest could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ManifestError {
    /// Not valid YAML.
    #[error("{path}:{line}:{column}: invalid YAML: {message}")]
    Yaml {
        /// The file.
        path: String,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// Valid YAML, but neither compose nor Kubernetes.
    #[error("{path}: neither a compose file (no `services`) nor Kubernetes manifests (no `kind`)")]
    Unknown {
        /// The file.
        path: String,
    },
}

/// Parses every YAML document of `text` (merge keys resolved), with the
/// line each document starts on.
///
/// # Errors
/// [`ManifestError::Yaml`] with the line and column.
pub fn documents(path: &str, text: &str) -> Result<Vec<(usize, Value)>, ManifestError> {
    check_nesting(path, text)?;
    let starts = document_start_lines(text);
    let mut out = Vec::new();
    for (i, document) in yaml_serde::Deserializer::from_str(text).enumerate() {
        let mut value = yaml_serde::Value::deserialize(document).map_err(|e| {
            let location = e.location();
            ManifestError::Yaml {
                path: path.to_owned(),
                line: location.as_ref().map_or(0, yaml_serde::Location::line),
                column: location.as_ref().map_or(0, yaml_serde::Location::column),
                message: e.to_string(),
            }
        })?;
        value.apply_merge().map_err(|e| ManifestError::Yaml {
            path: path.to_owned(),
            line: starts.get(i).copied().unwrap_or(1),
            column: 1,
            message: e.to_string(),
        })?;
        let json: Value = serde_json::to_value(&value).unwrap_or(Value::Null);
        if !json.is_null() {
            out.push((starts.get(i).copied().unwrap_or(1), json));
        }
    }
    Ok(out)
}

/// How deep flow collections (`[`, `{`) may nest. Real manifests nest a
/// few levels; a document nested 100,000 deep took the parser half a
/// minute to refuse (issue 14), so it is refused here first, in one pass.
const MAX_FLOW_NESTING: usize = 128;

/// Refuses flow collections nested deeper than [`MAX_FLOW_NESTING`],
/// naming the line and column, in linear time. Quoted scalars and comments
/// are skipped.
fn check_nesting(path: &str, text: &str) -> Result<(), ManifestError> {
    let (mut depth, mut line, mut column) = (0usize, 1usize, 0usize);
    let mut quote: Option<char> = None;
    let mut comment = false;
    let mut previous = '\n';
    for c in text.chars() {
        column += 1;
        if c == '\n' {
            // Quoted scalars may span lines; comments end here.
            (line, column, comment) = (line + 1, 0, false);
        } else if comment {
        } else if let Some(q) = quote {
            if c == q && previous != '\\' {
                quote = None;
            }
        } else {
            match c {
                '#' if previous.is_whitespace() => comment = true,
                '"' | '\'' => quote = Some(c),
                '[' | '{' => {
                    depth += 1;
                    if depth > MAX_FLOW_NESTING {
                        return Err(ManifestError::Yaml {
                            path: path.to_owned(),
                            line,
                            column,
                            message: format!(
                                "collections nest more than {MAX_FLOW_NESTING} levels deep"
                            ),
                        });
                    }
                }
                ']' | '}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        previous = c;
    }
    Ok(())
}

/// The 1-based line where each YAML document begins.
fn document_start_lines(text: &str) -> Vec<usize> {
    let mut starts = vec![1];
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("---") && i > 0 {
            starts.push(i + 2);
        }
    }
    if text.lines().next().is_some_and(|l| l.starts_with("---")) {
        starts[0] = 2;
    }
    starts
}

struct Context<'a> {
    path: &'a str,
    text: &'a str,
    /// The byte offset where each line starts.
    line_starts: Vec<usize>,
    /// The line after the document being linted: searches stop there, so
    /// that linting stays linear in the number of documents.
    document_end: usize,
    options: Options,
    findings: Vec<Finding>,
}

impl Context<'_> {
    /// The first line at or after `from`, within the current document, that
    /// contains `needle` (`from` when none does).
    fn line_of(&self, from: usize, needle: &str) -> usize {
        if needle.is_empty() || from == 0 {
            return from;
        }
        let byte = |line: usize| {
            self.line_starts
                .get(line - 1)
                .copied()
                .unwrap_or(self.text.len())
        };
        let (start, end) = (byte(from), byte(self.document_end.max(from)));
        let Some(window) = self.text.get(start..end) else {
            return from;
        };
        window.find(needle).map_or(from, |at| {
            // The line holding byte `start + at`.
            self.line_starts.partition_point(|&s| s <= start + at)
        })
    }

    #[allow(clippy::too_many_arguments)] // every rule reports through this one call shape
    fn report(
        &mut self,
        code: &'static str,
        severity: Option<Severity>,
        line: usize,
        field: String,
        title: String,
        evidence: Option<String>,
        fix: &str,
    ) {
        let info = RULES
            .iter()
            .find(|r| r.code == code)
            .copied()
            .unwrap_or(RULES[0]);
        self.findings.push(Finding {
            rule: code,
            severity: severity.unwrap_or(info.severity),
            title,
            location: Location {
                path: self.path.to_owned(),
                line: Some(line as u64),
                field: Some(field),
                ..Location::default()
            },
            evidence: evidence.map(|e| crate::redact::redact_text(&e)),
            fingerprint: None,
            remediation: fix.to_owned(),
        });
    }

    fn image(&mut self, start: usize, field: &str, image: &str) {
        let line = self.line_of(start, image);
        let has_digest = image.contains("@sha256:");
        let last = image
            .split('@')
            .next()
            .unwrap_or(image)
            .rsplit('/')
            .next()
            .unwrap_or(image);
        let tag = last.split_once(':').map(|(_, t)| t);
        if !has_digest && tag.is_none_or(|t| t == "latest") {
            self.report(
                "manifest-image-latest",
                None,
                line,
                field.to_owned(),
                format!(
                    "`{image}` uses {}",
                    if tag.is_some() {
                        "the `latest` tag"
                    } else {
                        "no tag (so `latest`)"
                    }
                ),
                Some(image.to_owned()),
                "Name an explicit version and pin it: `customs pin FILE --write`.",
            );
        }
        if !has_digest {
            self.report(
                "manifest-image-not-pinned",
                Some(if self.options.production { Severity::High } else { Severity::Low }),
                line,
                field.to_owned(),
                format!("`{image}` is not pinned by digest: what runs can change without a deploy"),
                Some(image.to_owned()),
                "Pin every image: `customs pin FILE --write` (and `customs pin FILE --check` in CI).",
            );
        }
    }

    fn env_value(
        &mut self,
        start: usize,
        field: &str,
        name: &str,
        value: &str,
        scanner: &crate::secrets::SecretScanner,
    ) {
        if value.is_empty() || value.starts_with('$') {
            return;
        }
        if scanner.is_secret_assignment(name, value) {
            let line = self.line_of(start, name);
            self.report(
                "manifest-secret-in-env",
                None,
                line,
                field.to_owned(),
                format!("`{name}` is set to a secret literal"),
                Some(format!("{name}={}", crate::secrets::redact(value))),
                "Reference a Secret (Kubernetes `valueFrom.secretKeyRef`, compose `secrets:`) instead.",
            );
        }
    }
}

fn truthy(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        _ => false,
    }
}

/// Lints a compose file or Kubernetes manifests.
///
/// # Errors
/// [`ManifestError`] when the file is not valid YAML or neither format.
pub fn lint(path: &str, text: &str, options: Options) -> Result<Vec<Finding>, ManifestError> {
    let documents = documents(path, text)?;
    let scanner = crate::secrets::SecretScanner::shared();
    let mut line_starts = vec![0];
    line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
    let mut ctx = Context {
        path,
        text,
        line_starts,
        document_end: usize::MAX,
        options,
        findings: Vec::new(),
    };
    let mut recognised = false;
    for (i, (start, doc)) in documents.iter().enumerate() {
        ctx.document_end = documents
            .get(i + 1)
            .map_or(ctx.line_starts.len() + 1, |(next, _)| *next);
        if let Some(services) = doc.get("services").and_then(Value::as_object) {
            recognised = true;
            for (name, service) in services {
                compose_service(&mut ctx, *start, name, service, scanner);
            }
        } else if doc.get("kind").is_some() {
            recognised = true;
            kubernetes(&mut ctx, *start, doc, scanner);
        }
    }
    if !recognised && !documents.is_empty() {
        return Err(ManifestError::Unknown {
            path: path.to_owned(),
        });
    }
    let mut findings = ctx.findings;
    crate::sort(&mut findings);
    Ok(findings)
}

fn compose_service(
    ctx: &mut Context<'_>,
    start: usize,
    name: &str,
    service: &Value,
    scanner: &crate::secrets::SecretScanner,
) {
    let base = ctx.line_of(start, &format!("{name}:"));
    let field = |f: &str| format!("services.{name}.{f}");
    if let Some(image) = service.get("image").and_then(Value::as_str) {
        ctx.image(base, &field("image"), image);
    }
    if truthy(service.get("privileged")) {
        let line = ctx.line_of(base, "privileged");
        ctx.report(
            "manifest-privileged",
            None,
            line,
            field("privileged"),
            format!("Service `{name}` runs privileged: full access to the host"),
            None,
            "Remove `privileged: true`; add only the capabilities it needs.",
        );
    }
    for (key, namespace) in [("network_mode", "network"), ("pid", "PID"), ("ipc", "IPC")] {
        if service.get(key).and_then(Value::as_str) == Some("host") {
            let line = ctx.line_of(base, key);
            ctx.report(
                "manifest-host-namespace",
                None,
                line,
                field(key),
                format!("Service `{name}` shares the host's {namespace} namespace (`{key}: host`)"),
                Some(format!("{key}: host")),
                "Remove the host namespace; publish ports instead of host networking.",
            );
        }
    }
    let user = service.get("user").map(|u| match u {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    });
    if user.as_deref().is_none_or(|u| {
        let n = u.split(':').next().unwrap_or("").trim();
        n.is_empty() || n == "root" || n == "0"
    }) {
        ctx.report("manifest-run-as-root", None, base, field("user"), format!("Service `{name}` sets no non-root `user`, so it runs as the image's user (often root)"), user.map(|u| format!("user: {u}")), "Set `user: \"10001:10001\"` (or make the image non-root).");
    }
    for cap in service
        .get("cap_add")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
    {
        if let Some(bare) = dangerous_capability(cap) {
            let line = ctx.line_of(base, cap);
            ctx.report(
                "manifest-dangerous-capability",
                None,
                line,
                field("cap_add"),
                format!("Service `{name}` adds {bare}"),
                Some(cap.to_owned()),
                "Drop it; grant a narrower capability if one is really needed.",
            );
        }
    }
    match service.get("environment") {
        Some(Value::Object(env)) => {
            for (k, v) in env {
                let value = match v {
                    Value::String(s) => s.clone(),
                    Value::Null => String::new(),
                    other => other.to_string(),
                };
                ctx.env_value(base, &field("environment"), k, &value, scanner);
            }
        }
        Some(Value::Array(list)) => {
            for item in list.iter().filter_map(Value::as_str) {
                let (k, v) = item.split_once('=').unwrap_or((item, ""));
                ctx.env_value(base, &field("environment"), k, v, scanner);
            }
        }
        _ => {}
    }
}

/// The items of a Kubernetes `List`, or the document itself.
fn kubernetes_items(doc: &Value) -> Vec<&Value> {
    if doc.get("kind").and_then(Value::as_str) == Some("List") {
        doc.get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .flat_map(kubernetes_items)
            .collect()
    } else {
        vec![doc]
    }
}

/// The containers of a pod spec — init, regular and ephemeral, in that
/// order — each with its list's name and its index there.
pub fn containers(spec: &Value) -> impl Iterator<Item = (&'static str, usize, &Value)> {
    ["initContainers", "containers", "ephemeralContainers"]
        .into_iter()
        .flat_map(move |list| {
            spec.get(list)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
                .map(move |(i, c)| (list, i, c))
        })
}

/// A workload's pod spec and the path to it (dotted), by kind: `None`
/// for kinds that run no pod.
#[must_use]
pub fn pod_spec(doc: &Value) -> Option<(&'static str, &Value)> {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let (path, spec) = match kind {
        "Pod" => ("spec", doc.get("spec")),
        "Deployment"
        | "StatefulSet"
        | "DaemonSet"
        | "ReplicaSet"
        | "Job"
        | "ReplicationController" => ("spec.template.spec", doc.pointer("/spec/template/spec")),
        "CronJob" => (
            "spec.jobTemplate.spec.template.spec",
            doc.pointer("/spec/jobTemplate/spec/template/spec"),
        ),
        _ => return None,
    };
    spec.map(|spec| (path, spec))
}

fn kubernetes(
    ctx: &mut Context<'_>,
    start: usize,
    doc: &Value,
    scanner: &crate::secrets::SecretScanner,
) {
    for item in kubernetes_items(doc) {
        workload(ctx, start, item, scanner);
    }
}

fn workload(
    ctx: &mut Context<'_>,
    start: usize,
    doc: &Value,
    scanner: &crate::secrets::SecretScanner,
) {
    let kind = doc.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some((spec_path, spec)) = pod_spec(doc) else {
        return;
    };
    let name = doc
        .pointer("/metadata/name")
        .and_then(Value::as_str)
        .unwrap_or("?");
    let base = ctx.line_of(start, &format!("name: {name}"));
    let what = format!("{kind}/{name}");
    for key in ["hostNetwork", "hostPID", "hostIPC"] {
        if truthy(spec.get(key)) {
            let line = ctx.line_of(base, key);
            ctx.report(
                "manifest-host-namespace",
                None,
                line,
                format!("{spec_path}.{key}"),
                format!("{what} sets {key}: true"),
                None,
                "Remove it; host namespaces break the isolation between the pod and the node.",
            );
        }
    }
    let pod_non_root = truthy(spec.pointer("/securityContext/runAsNonRoot"));
    let pod_user = spec
        .pointer("/securityContext/runAsUser")
        .and_then(Value::as_i64);
    for list in ["initContainers", "containers", "ephemeralContainers"] {
        let list_line = ctx.line_of(base, &format!("{list}:"));
        for (i, c) in spec
            .get(list)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            let cname = c.get("name").and_then(Value::as_str).unwrap_or("?");
            let field = format!("{spec_path}.{list}[{i}]");
            let cline = ctx.line_of(list_line, &format!("name: {cname}"));
            if let Some(image) = c.get("image").and_then(Value::as_str) {
                ctx.image(cline, &format!("{field}.image"), image);
            }
            let sc = c.get("securityContext");
            if truthy(sc.and_then(|s| s.get("privileged"))) {
                let line = ctx.line_of(cline, "privileged");
                ctx.report(
                    "manifest-privileged",
                    None,
                    line,
                    format!("{field}.securityContext.privileged"),
                    format!("{what} container `{cname}` runs privileged"),
                    None,
                    "Remove `privileged: true`; add only the capabilities it needs.",
                );
            }
            let user = sc
                .and_then(|s| s.get("runAsUser"))
                .and_then(Value::as_i64)
                .or(pod_user);
            let non_root = sc
                .and_then(|s| s.get("runAsNonRoot"))
                .map_or(pod_non_root, |v| truthy(Some(v)));
            if user == Some(0) || (!non_root && user.is_none_or(|u| u == 0)) {
                ctx.report(
                    "manifest-run-as-root",
                    None,
                    cline,
                    format!("{field}.securityContext"),
                    if user == Some(0) {
                        format!("{what} container `{cname}` sets runAsUser: 0")
                    } else {
                        format!("{what} container `{cname}` does not set runAsNonRoot: true")
                    },
                    None,
                    "Set `securityContext: {runAsNonRoot: true, runAsUser: 10001}`.",
                );
            }
            match sc.and_then(|s| s.get("allowPrivilegeEscalation")) {
                Some(Value::Bool(false)) => {}
                v => {
                    let explicit = truthy(v);
                    ctx.report(
                        "manifest-privilege-escalation",
                        Some(if explicit {
                            Severity::High
                        } else {
                            Severity::Medium
                        }),
                        cline,
                        format!("{field}.securityContext.allowPrivilegeEscalation"),
                        format!(
                            "{what} container `{cname}` {} privilege escalation",
                            if explicit {
                                "allows"
                            } else {
                                "does not disable"
                            }
                        ),
                        None,
                        "Set `allowPrivilegeEscalation: false`.",
                    );
                }
            }
            for cap in sc
                .and_then(|s| s.pointer("/capabilities/add"))
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Some(bare) = dangerous_capability(cap) {
                    let line = ctx.line_of(cline, cap);
                    ctx.report(
                        "manifest-dangerous-capability",
                        None,
                        line,
                        format!("{field}.securityContext.capabilities.add"),
                        format!("{what} container `{cname}` adds {bare}"),
                        Some(cap.to_owned()),
                        "Drop it (`capabilities: {drop: [ALL]}`) and add only narrow ones.",
                    );
                }
            }
            for env in c.get("env").and_then(Value::as_array).into_iter().flatten() {
                if let (Some(n), Some(v)) = (
                    env.get("name").and_then(Value::as_str),
                    env.get("value").and_then(Value::as_str),
                ) {
                    ctx.env_value(cline, &format!("{field}.env"), n, v, scanner);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;

/// An image a workload of a deploy manifest runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkloadImage {
    /// The service: a compose service's name, a Kubernetes workload's
    /// `metadata.name`.
    pub service: String,
    /// The Kubernetes namespace, when the manifest names one.
    pub namespace: Option<String>,
    /// The container (Kubernetes) or the service again (compose).
    pub container: String,
    /// The image reference as written.
    pub image: String,
}

/// Every image the workloads of a compose file or Kubernetes manifests run
/// (`List` items included), in file order.
///
/// # Errors
/// [`ManifestError`] when the file is not valid YAML, or neither compose
/// nor Kubernetes.
pub fn workload_images(path: &str, text: &str) -> Result<Vec<WorkloadImage>, ManifestError> {
    fn kubernetes(doc: &Value, out: &mut Vec<WorkloadImage>) {
        for item in kubernetes_items(doc) {
            let Some((_, spec)) = pod_spec(item) else {
                continue;
            };
            let service = item
                .pointer("/metadata/name")
                .and_then(Value::as_str)
                .unwrap_or("?")
                .to_owned();
            let namespace = item
                .pointer("/metadata/namespace")
                .and_then(Value::as_str)
                .map(str::to_owned);
            // Ephemeral (debug) containers are not what the workload runs.
            for (_, _, c) in containers(spec).filter(|(list, _, _)| *list != "ephemeralContainers")
            {
                if let Some(image) = c.get("image").and_then(Value::as_str) {
                    out.push(WorkloadImage {
                        service: service.clone(),
                        namespace: namespace.clone(),
                        container: c
                            .get("name")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                            .to_owned(),
                        image: image.to_owned(),
                    });
                }
            }
        }
    }
    let documents = documents(path, text)?;
    let mut out = Vec::new();
    let mut recognised = false;
    for (_, doc) in &documents {
        if let Some(services) = doc.get("services").and_then(Value::as_object) {
            recognised = true;
            for (name, service) in services {
                if let Some(image) = service.get("image").and_then(Value::as_str) {
                    out.push(WorkloadImage {
                        service: name.clone(),
                        namespace: None,
                        container: name.clone(),
                        image: image.to_owned(),
                    });
                }
            }
        } else if doc.get("kind").is_some() {
            recognised = true;
            kubernetes(doc, &mut out);
        }
    }
    if !recognised && !documents.is_empty() {
        return Err(ManifestError::Unknown {
            path: path.to_owned(),
        });
    }
    Ok(out)
}
