//! Dockerfile lint (`customs lint Dockerfile`), on the faithful parser of
//! `parse-dockerfile` (line continuations, heredocs, parser directives,
//! multi-stage builds): each rule reports `file:line`; `# customs:ignore=RULE`
//! on the comment lines right above an instruction suppresses it there.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::LazyLock;

use customs_types::Severity;
use parse_dockerfile::{Command, Instruction, Source};
use regex::Regex;

use crate::{Finding, Location, RuleInfo};

const fn info(code: &'static str, severity: Severity, title: &'static str) -> RuleInfo {
    RuleInfo {
        code,
        severity,
        title,
        check: "dockerfile",
    }
}

/// The Dockerfile rules.
pub const RULES: &[RuleInfo] = &[
    info(
        "dockerfile-from-latest",
        Severity::Medium,
        "Base image uses `latest` or no tag",
    ),
    info(
        "dockerfile-from-not-pinned",
        Severity::Low,
        "Base image is not pinned by digest",
    ),
    info(
        "dockerfile-curl-pipe-shell",
        Severity::High,
        "A downloaded script is piped into a shell",
    ),
    info(
        "dockerfile-add-url-without-checksum",
        Severity::Medium,
        "ADD downloads a URL without --checksum",
    ),
    info(
        "dockerfile-package-upgrade",
        Severity::Medium,
        "The build upgrades every distro package",
    ),
    info(
        "dockerfile-npm-install",
        Severity::Low,
        "`npm install` where `npm ci` belongs",
    ),
    info(
        "dockerfile-lockfile-not-copied",
        Severity::Medium,
        "Dependencies are installed before the lock file is copied",
    ),
    info(
        "dockerfile-pip-without-hashes",
        Severity::Info,
        "pip installs without --require-hashes",
    ),
    info(
        "dockerfile-secret-in-arg-or-env",
        Severity::High,
        "A secret in ARG or ENV",
    ),
    info(
        "dockerfile-final-stage-root",
        Severity::Medium,
        "The final stage runs as root",
    ),
    info(
        "dockerfile-build-tools-in-final-stage",
        Severity::Info,
        "Build tools are installed in the final stage",
    ),
    info(
        "dockerfile-missing-oci-label",
        Severity::Info,
        "The final stage lacks a standard OCI label",
    ),
];

/// Why a Dockerfile could not be linted.
#[derive(Debug, thiserror::Error)]
#[error("{path}:{line}:{column}: {message}")]
pub struct ParseError {
    /// The file.
    pub path: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The parser's message.
    pub message: String,
}

static CURL_PIPE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:\b(?:curl|wget)\b[^|;&\n]*\|\s*(?:sudo\s+)?(?:/usr)?(?:/bin/)?(?:ba|z|da|k)?sh\b|\b(?:ba|z|da)?sh\s+-c\s+[\x22']?\$\((?:curl|wget)\b|\b(?:ba)?sh\s+<\(\s*(?:curl|wget)\b)")
        .unwrap_or_else(|_| unreachable!("literal"))
});
static UPGRADE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:apt-get|apt|aptitude)\s+(?:-\S+\s+)*(?:upgrade|dist-upgrade|full-upgrade)\b|\bapk\s+(?:-\S+\s+)*upgrade\b|\b(?:yum|dnf|microdnf)\s+(?:-\S+\s+)*(?:update|upgrade)\b(?:\s*$|\s*[;&|])")
        .unwrap_or_else(|_| unreachable!("literal"))
});
static NPM_INSTALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bnpm\s+(?:install|i)\b((?:\s+-{1,2}[\w=-]+)*)\s*(?:$|&&|;|\|)")
        .unwrap_or_else(|_| unreachable!("literal"))
});
static PIP_INSTALL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\bpip[0-9.]*\s+install\b[^;&|\n]*").unwrap_or_else(|_| unreachable!("literal"))
});
static BUILD_TOOLS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:apt-get|apt|apk|yum|dnf)\b[^;&|\n]*\b(?:install|add)\b[^;&|\n]*\s(build-essential|gcc|g\+\+|make|clang|cmake|build-base|musl-dev|libc6-dev|gcc-c\+\+)\b")
        .unwrap_or_else(|_| unreachable!("literal"))
});
static VARIABLE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-+]([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")
        .unwrap_or_else(|_| unreachable!("literal"))
});

/// Installers and the files they install from.
const INSTALLERS: &[(&str, &[&str])] = &[
    (
        r"\bnpm\s+(?:ci|install|i)\b",
        &["package-lock.json", "npm-shrinkwrap.json", "package.json"],
    ),
    (
        r"\byarn(?:\s+install)?\s*(?:$|&&|;|--)",
        &["yarn.lock", "package.json"],
    ),
    (
        r"\bpnpm\s+(?:install|i)\b",
        &["pnpm-lock.yaml", "package.json"],
    ),
    (
        r"\bpip[0-9.]*\s+install\b[^;&|\n]*\s-r\s",
        &["requirements"],
    ),
    (r"\bpoetry\s+install\b", &["poetry.lock", "pyproject.toml"]),
    (r"\bpipenv\s+install\b", &["Pipfile.lock", "Pipfile"]),
    (r"\bbundle\s+install\b", &["Gemfile.lock", "Gemfile"]),
    (
        r"\bcomposer\s+install\b",
        &["composer.lock", "composer.json"],
    ),
    (r"\bgo\s+mod\s+download\b", &["go.sum", "go.mod"]),
];

fn rule_info(code: &str) -> RuleInfo {
    RULES
        .iter()
        .copied()
        .find(|r| r.code == code)
        .unwrap_or(RULES[0])
}

struct Linter<'a> {
    path: &'a str,
    line_starts: Vec<usize>,
    suppressed: BTreeMap<usize, BTreeSet<String>>,
    findings: Vec<Finding>,
}

impl Linter<'_> {
    fn line(&self, offset: usize) -> usize {
        self.line_starts.partition_point(|&s| s <= offset)
    }

    fn report(
        &mut self,
        code: &'static str,
        offset: usize,
        title: String,
        evidence: Option<String>,
        remediation: &str,
    ) {
        let line = self.line(offset);
        if self
            .suppressed
            .get(&line)
            .is_some_and(|s| s.contains(code) || s.contains("all"))
        {
            return;
        }
        let info = rule_info(code);
        self.findings.push(Finding {
            rule: code,
            severity: info.severity,
            title,
            location: Location::file(self.path, Some(line as u64)),
            evidence,
            fingerprint: None,
            remediation: remediation.to_owned(),
        });
    }
}

/// `# customs:ignore=a,b` comment lines apply to the next instruction line.
fn suppressions(text: &str) -> BTreeMap<usize, BTreeSet<String>> {
    let mut out: BTreeMap<usize, BTreeSet<String>> = BTreeMap::new();
    let mut pending: BTreeSet<String> = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim();
        if let Some(comment) = trimmed.strip_prefix('#') {
            if let Some(list) = comment.trim().strip_prefix("customs:ignore=") {
                pending.extend(
                    list.split(',')
                        .map(|s| s.trim().to_owned())
                        .filter(|s| !s.is_empty()),
                );
            }
            continue;
        }
        if trimmed.is_empty() {
            continue;
        }
        if !pending.is_empty() {
            out.insert(i + 1, std::mem::take(&mut pending));
        }
    }
    out
}

/// The shell text of a RUN: continuations joined, heredocs appended.
fn shell_text(command: &Command<'_>, heredocs: &[String], escape: char) -> String {
    let mut text = match command {
        Command::Shell(s) => s.value.to_owned(),
        Command::Exec(args) => args
            .value
            .iter()
            .map(|a| a.value.as_ref())
            .collect::<Vec<_>>()
            .join(" "),
        _ => String::new(),
    };
    let continuation = format!("{escape}\n");
    text = text
        .replace(&continuation, " ")
        .replace(&format!("{escape}\r\n"), " ");
    // Comment lines inside a continued instruction are dropped by Docker.
    text = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .collect::<Vec<_>>()
        .join("\n");
    for h in heredocs {
        text.push('\n');
        text.push_str(h);
    }
    text
}

/// `KEY=VALUE …` pairs of ENV/LABEL/ARG (and the legacy `ENV KEY VALUE`).
fn pairs(arguments: &str) -> Vec<(String, String)> {
    let arguments = arguments.trim();
    if !arguments.contains('=')
        || arguments
            .split_whitespace()
            .next()
            .is_some_and(|w| !w.contains('='))
    {
        let mut parts = arguments.splitn(2, char::is_whitespace);
        let key = parts.next().unwrap_or("").to_owned();
        let value = parts.next().unwrap_or("").trim().to_owned();
        return vec![(key, unquote(&value))];
    }
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quote: Option<char> = None;
    let mut escaped = false;
    for c in arguments.chars() {
        if escaped {
            current.push(c);
            escaped = false;
            continue;
        }
        match (c, quote) {
            ('\\', _) => escaped = true,
            ('"' | '\'', None) => quote = Some(c),
            (q, Some(open)) if q == open => quote = None,
            (w, None) if w.is_whitespace() => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            (other, _) => current.push(other),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out.into_iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) => (k.to_owned(), v.to_owned()),
            None => (w, String::new()),
        })
        .collect()
}

fn unquote(value: &str) -> String {
    let v = value.trim();
    if v.len() >= 2
        && ((v.starts_with('"') && v.ends_with('"')) || (v.starts_with('\'') && v.ends_with('\'')))
    {
        v[1..v.len() - 1].to_owned()
    } else {
        v.to_owned()
    }
}

/// Expands `$NAME`, `${NAME}`, `${NAME:-default}` from `args`.
fn expand(text: &str, args: &BTreeMap<String, String>) -> String {
    VARIABLE
        .replace_all(text, |caps: &regex::Captures<'_>| {
            let name = caps
                .get(1)
                .or_else(|| caps.get(3))
                .map_or("", |m| m.as_str());
            match args.get(name).filter(|v| !v.is_empty()) {
                Some(v) => v.clone(),
                None => caps
                    .get(2)
                    .map_or_else(String::new, |d| d.as_str().to_owned()),
            }
        })
        .into_owned()
}

/// Whether an image reference has a tag other than `latest`, and a digest.
fn tag_and_digest(image: &str) -> (Option<&str>, bool) {
    let (name, digest) = match image.split_once('@') {
        Some((n, _)) => (n, true),
        None => (image, false),
    };
    let last = name.rsplit('/').next().unwrap_or(name);
    (last.split_once(':').map(|(_, t)| t), digest)
}

fn copied_files(instruction: &Instruction<'_>) -> Vec<String> {
    let sources = match instruction {
        Instruction::Copy(c) => &c.src,
        Instruction::Add(a) => &a.src,
        _ => return Vec::new(),
    };
    sources
        .iter()
        .filter_map(|s| match s {
            Source::Path(p) => Some(p.value.to_string()),
            _ => None,
        })
        .collect()
}

/// Lints a Dockerfile.
///
/// # Errors
/// [`ParseError`] with the line and column when it does not parse.
#[allow(clippy::too_many_lines)] // one pass over the instructions, rule by rule
pub fn lint(path: &str, text: &str) -> Result<Vec<Finding>, ParseError> {
    let dockerfile = parse_dockerfile::parse(text).map_err(|e| ParseError {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let escape = dockerfile
        .parser_directives
        .escape
        .as_ref()
        .map_or('\\', |e| e.value.value);
    let mut linter = Linter {
        path,
        line_starts: std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect(),
        suppressed: suppressions(text),
        findings: Vec::new(),
    };
    let scanner = crate::secrets::SecretScanner::shared();
    let mut global_args: BTreeMap<String, String> = BTreeMap::new();
    for arg in dockerfile.global_args() {
        for (k, v) in pairs(&arg.arguments.value) {
            global_args.insert(k, v);
        }
    }
    let stages: Vec<_> = dockerfile.stages().collect();
    let mut stage_names: HashSet<String> = HashSet::new();
    // Secrets in global ARGs.
    for arg in dockerfile.global_args() {
        secret_args(
            &mut linter,
            scanner,
            "ARG",
            arg.arg.span.start,
            &arg.arguments.value,
        );
    }
    let last = stages.len().saturating_sub(1);
    for (index, stage) in stages.iter().enumerate() {
        let from = stage.from;
        let image = expand(&from.image.value, &global_args);
        let offset = from.from.span.start;
        let is_stage_ref = stage_names.contains(&image.to_ascii_lowercase());
        if !is_stage_ref && image != "scratch" {
            let (tag, digest) = tag_and_digest(&image);
            if !digest && tag.is_none_or(|t| t == "latest") {
                linter.report(
                    "dockerfile-from-latest",
                    offset,
                    format!("FROM {image} uses {}", if tag.is_some() { "the `latest` tag" } else { "no tag (so `latest`)" }),
                    Some(format!("FROM {}", from.image.value)),
                    "Name an explicit version and pin it by digest: `customs pin Dockerfile --write`.",
                );
            }
            if !digest {
                linter.report(
                    "dockerfile-from-not-pinned",
                    offset,
                    format!("FROM {image} is not pinned by digest: the tag can move"),
                    Some(format!("FROM {}", from.image.value)),
                    "Pin it: `customs pin Dockerfile --write` rewrites FROM to name:tag@sha256:….",
                );
            }
        }
        if let Some((_, name)) = &from.as_ {
            stage_names.insert(name.value.to_ascii_lowercase());
        }
        let final_stage = index == last;
        let mut user: Option<(String, usize)> = None;
        let mut copied: Vec<String> = Vec::new();
        let mut labels: BTreeSet<String> = BTreeSet::new();
        let mut stage_args = global_args.clone();
        for instruction in stage.instructions {
            match instruction {
                Instruction::Arg(arg) => {
                    for (k, v) in pairs(&arg.arguments.value) {
                        stage_args.insert(k, v);
                    }
                    secret_args(
                        &mut linter,
                        scanner,
                        "ARG",
                        arg.arg.span.start,
                        &arg.arguments.value,
                    );
                }
                Instruction::Env(env) => {
                    secret_args(
                        &mut linter,
                        scanner,
                        "ENV",
                        env.env.span.start,
                        &env.arguments.value,
                    );
                }
                Instruction::Label(label) => {
                    labels.extend(pairs(&label.arguments.value).into_iter().map(|(k, _)| k));
                }
                Instruction::User(u) => {
                    user = Some((expand(&u.arguments.value, &stage_args), u.user.span.start));
                }
                Instruction::Copy(_) | Instruction::Add(_) => {
                    copied.extend(copied_files(instruction));
                    if let Instruction::Add(add) = instruction {
                        let has_checksum = add.options.iter().any(|o| o.name.value == "checksum");
                        for src in &add.src {
                            if let Source::Path(p) = src
                                && (p.value.starts_with("http://")
                                    || p.value.starts_with("https://"))
                                && !has_checksum
                            {
                                linter.report(
                                    "dockerfile-add-url-without-checksum",
                                    add.add.span.start,
                                    format!("ADD downloads {} without verifying it", p.value),
                                    Some(format!("ADD {}", p.value)),
                                    "Add `--checksum=sha256:…` (BuildKit), or download in a RUN and verify the hash.",
                                );
                            }
                        }
                    }
                }
                Instruction::Run(run) => {
                    let heredocs: Vec<String> =
                        run.here_docs.iter().map(|h| h.value.to_string()).collect();
                    let shell = shell_text(&run.arguments, &heredocs, escape);
                    let offset = run.run.span.start;
                    lint_run(&mut linter, &shell, offset, &copied, final_stage);
                }
                _ => {}
            }
        }
        if final_stage {
            let root = user.as_ref().is_none_or(|(u, _)| {
                let name = u.split(':').next().unwrap_or("").trim();
                name.is_empty() || name == "root" || name == "0"
            });
            if root {
                let offset = user.as_ref().map_or(from.from.span.start, |(_, o)| *o);
                linter.report(
                    "dockerfile-final-stage-root",
                    offset,
                    match &user {
                        Some((u, _)) => format!("The final stage switches to `{u}`, which is root"),
                        None => {
                            "The final stage has no USER, so the container runs as root".to_owned()
                        }
                    },
                    None,
                    "Create an unprivileged user and end with `USER 10001`.",
                );
            }
            for label in crate::image_config::REQUIRED_LABELS {
                if !labels.contains(label) {
                    linter.report(
                        "dockerfile-missing-oci-label",
                        from.from.span.start,
                        format!("The final stage sets no `{label}` label"),
                        None,
                        "Add `LABEL org.opencontainers.image.source=… revision=… version=… created=…` (from build args).",
                    );
                }
            }
        }
    }
    let mut findings = linter.findings;
    crate::sort(&mut findings);
    Ok(findings)
}

fn secret_args(
    linter: &mut Linter<'_>,
    scanner: &crate::secrets::SecretScanner,
    what: &str,
    offset: usize,
    arguments: &str,
) {
    for (key, value) in pairs(arguments) {
        // ENV with an empty value, or one taken from a variable (the ARG it
        // comes from is reported itself), holds no secret of its own.
        if what == "ENV" && (value.is_empty() || value.starts_with('$')) {
            continue;
        }
        if !value.is_empty() && crate::secrets::is_placeholder(&value) {
            continue;
        }
        if !scanner.is_secret_assignment(&key, &value) {
            continue;
        }
        let evidence = if value.is_empty() {
            format!("{what} {key}")
        } else {
            format!("{what} {key}={}", crate::secrets::redact(&value))
        };
        let title = if value.is_empty() {
            format!(
                "{what} {key} passes a secret as a build argument: it is recorded in the image history"
            )
        } else {
            format!("{what} {key} has a secret value baked into the image")
        };
        linter.report(
            "dockerfile-secret-in-arg-or-env",
            offset,
            title,
            Some(evidence),
            "Use BuildKit secret mounts (`RUN --mount=type=secret,id=…`) at build time and orchestrator secrets at run time.",
        );
    }
}

fn lint_run(
    linter: &mut Linter<'_>,
    shell: &str,
    offset: usize,
    copied: &[String],
    final_stage: bool,
) {
    let one_line = shell.replace('\n', " ; ");
    if let Some(m) = CURL_PIPE.find(&one_line) {
        linter.report(
            "dockerfile-curl-pipe-shell",
            offset,
            "A script is downloaded and run unverified".to_owned(),
            Some(crate::redact::redact_text(m.as_str().trim())),
            "Download to a file, verify its checksum or signature, then run it.",
        );
    }
    if let Some(m) = UPGRADE.find(&one_line) {
        linter.report(
            "dockerfile-package-upgrade",
            offset,
            "The build upgrades every distro package, so two builds of the same Dockerfile differ"
                .to_owned(),
            Some(m.as_str().trim().to_owned()),
            "Use an up-to-date base image (pinned by digest) and install only named packages.",
        );
    }
    if let Some(caps) = NPM_INSTALL.captures(&one_line) {
        let flags = caps.get(1).map_or("", |m| m.as_str());
        if !flags.contains("-g") && !flags.contains("--global") {
            linter.report(
                "dockerfile-npm-install",
                offset,
                "`npm install` may change the lock file and install other versions than were tested".to_owned(),
                Some(caps[0].trim().to_owned()),
                "Use `npm ci`, which installs exactly what package-lock.json says.",
            );
        }
    }
    for m in PIP_INSTALL.find_iter(&one_line) {
        let cmd = m.as_str();
        if !cmd.contains("--require-hashes")
            && (cmd.contains("-r ") || cmd.split_whitespace().count() > 2)
        {
            linter.report(
                "dockerfile-pip-without-hashes",
                offset,
                "pip installs without verifying package hashes".to_owned(),
                Some(cmd.trim().to_owned()),
                "Pin with hashes (`pip install --require-hashes -r requirements.txt`).",
            );
            break;
        }
    }
    for (pattern, files) in INSTALLERS {
        let Ok(re) = Regex::new(pattern) else {
            continue;
        };
        if !re.is_match(&one_line) {
            continue;
        }
        let has = copied.iter().any(|c| {
            let base = c.trim_end_matches('/');
            if base == "." || base.ends_with("/.") || base == "*" {
                return true;
            }
            // `COPY package*.json ./`, `COPY requirements/*.txt`: globs.
            let name = base.rsplit('/').next().unwrap_or(base);
            let pattern = crate::secrets::glob(name).ok();
            files.iter().any(|f| {
                c.contains(f)
                    || pattern.as_ref().is_some_and(|p| p.is_match(f.as_bytes()))
                    || (f.starts_with("requirements") && name.starts_with("requirements"))
            })
        });
        if !has {
            linter.report(
                "dockerfile-lockfile-not-copied",
                offset,
                format!("Dependencies are installed before {} is copied in", files[0]),
                Some(re.find(&one_line).map_or(String::new(), |m| m.as_str().trim().to_owned())),
                "COPY the manifest and lock file first (`COPY package.json package-lock.json ./`), install, then copy the source.",
            );
        }
    }
    if final_stage && let Some(caps) = BUILD_TOOLS.captures(&one_line) {
        linter.report(
            "dockerfile-build-tools-in-final-stage",
            offset,
            format!("`{}` is installed in the final stage", &caps[1]),
            Some(caps[0].trim().to_owned()),
            "Build in an earlier stage and COPY --from it only what runs.",
        );
    }
}

#[cfg(test)]
mod tests;
