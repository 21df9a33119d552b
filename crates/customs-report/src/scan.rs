//! The vulnerability scan report and its renderers: a table grouped by
//! severity (as `trivy image` prints), versioned JSON
//! ([docs/scan-json.md](../../../docs/scan-json.md)), SARIF for GitHub code
//! scanning, and CycloneDX 1.6 with `vulnerabilities`.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use customs_sbom::Sbom;
use customs_sbom::format::cyclonedx16;
use customs_types::Severity;
use customs_vuln::{Finding, FixState, MatchReport};
use serde::Serialize;

use crate::{columns, sarif};

/// The version of the JSON document; bumped on any incompatible change.
pub const SCHEMA: &str = "customs.scan/v1";

/// What the index the scan used says about itself.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DatabaseInfo {
    /// When it was built (seconds since the epoch).
    pub built_at: u64,
    /// The `modified` time of its newest record (seconds since the epoch).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_advisory: Option<u64>,
    /// The index file.
    pub path: String,
}

/// A scan: the SBOM it matched and what matched.
#[derive(Debug, Clone)]
pub struct ScanReport {
    /// The SBOM.
    pub sbom: Sbom,
    /// The findings (those that apply).
    pub matches: MatchReport,
    /// The index used.
    pub database: DatabaseInfo,
    /// Findings a VEX statement or an exception suppressed.
    pub suppressed: Vec<Suppressed>,
    /// Whether the table lists the suppressed findings.
    pub show_suppressed: bool,
}

/// A finding that does not apply, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Suppressed {
    /// The finding.
    #[serde(flatten)]
    pub finding: Finding,
    /// Why: `vex`, or `exception`.
    pub suppressed_by: &'static str,
    /// The statement or exception, for people (`not_affected
    /// (vulnerable_code_not_in_execute_path) in vex.json`, `EXC-1 until …`).
    pub reason: String,
}

/// Counts by severity, with and without a fix.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Findings per severity.
    pub by_severity: BTreeMap<Severity, usize>,
    /// Findings per severity that have a fixed version.
    pub fixable_by_severity: BTreeMap<Severity, usize>,
    /// All findings.
    pub total: usize,
    /// Findings with a fixed version.
    pub fixable: usize,
    /// Distinct packages with at least one finding.
    pub vulnerable_packages: usize,
}

impl Counts {
    /// Counts `findings`.
    #[must_use]
    pub fn of(findings: &[Finding]) -> Self {
        let mut c = Self::default();
        let mut packages = BTreeSet::new();
        for f in findings {
            *c.by_severity.entry(f.severity()).or_default() += 1;
            if f.fix_state == FixState::Fixed {
                *c.fixable_by_severity.entry(f.severity()).or_default() += 1;
                c.fixable += 1;
            }
            packages.insert(&f.package.id);
            c.total += 1;
        }
        c.vulnerable_packages = packages.len();
        c
    }
}

impl ScanReport {
    /// Keeps only findings at one of `severities` (all when empty) and, with
    /// `only_fixed`, those with a fix.
    pub fn filter(&mut self, severities: &[Severity], only_fixed: bool) {
        self.matches.findings.retain(|f| {
            (severities.is_empty() || severities.contains(&f.severity()))
                && (!only_fixed || f.fix_state == FixState::Fixed)
        });
    }

    /// Whether any finding is at least `threshold`.
    #[must_use]
    pub fn fails(&self, threshold: Severity) -> bool {
        self.matches
            .findings
            .iter()
            .any(|f| f.severity() >= threshold)
    }
}

fn layer(f: &Finding) -> String {
    f.package
        .introduced_by_layer
        .map_or_else(|| "-".to_owned(), |l| (l + 1).to_string())
}

fn fixed(f: &Finding) -> String {
    if f.fixed_versions.is_empty() {
        "(none)".to_owned()
    } else {
        f.fixed_versions.join(", ")
    }
}

/// The title line of a report: what was scanned.
fn subject_line(sbom: &Sbom) -> String {
    let mut line = sbom.subject.name.clone();
    if let Some(d) = &sbom.subject.digest {
        let _ = write!(line, " ({d})");
    }
    if let Some(distro) = &sbom.distro {
        let name = distro.pretty_name.clone().unwrap_or_else(|| {
            format!(
                "{} {}",
                distro.id,
                distro.version_id.as_deref().unwrap_or("")
            )
        });
        let _ = write!(line, ", {}", name.trim());
    }
    line
}

/// The summary sentence: `12 vulnerabilities in 5 packages: 1 critical, …`.
#[must_use]
pub fn summary_line(counts: &Counts) -> String {
    if counts.total == 0 {
        return "no vulnerabilities found".to_owned();
    }
    let parts: Vec<String> = Severity::ALL
        .iter()
        .rev()
        .filter_map(|s| counts.by_severity.get(s).map(|n| format!("{n} {s}")))
        .collect();
    format!(
        "{} vulnerabilit{} in {} package{}: {} ({} with a fix)",
        counts.total,
        if counts.total == 1 { "y" } else { "ies" },
        counts.vulnerable_packages,
        if counts.vulnerable_packages == 1 {
            ""
        } else {
            "s"
        },
        parts.join(", "),
        counts.fixable
    )
}

/// The table: one section per severity, most severe first.
#[must_use]
pub fn table(report: &ScanReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", subject_line(&report.sbom));
    let counts = Counts::of(&report.matches.findings);
    out.push_str(&columns::by_severity(
        &report.matches.findings,
        Finding::severity,
        &[
            "ID",
            "PACKAGE",
            "INSTALLED",
            "FIXED IN",
            "TYPE",
            "LAYER",
            "SEVERITY",
            "SCORE",
            "SUMMARY",
        ],
        |f| {
            vec![
                f.id.clone(),
                f.package.name.clone(),
                f.package.version.clone(),
                fixed(f),
                f.package.kind.as_str().to_owned(),
                layer(f),
                severity_with_source(f, report.sbom.distro.as_ref()),
                f.rating
                    .score
                    .map_or_else(|| "-".to_owned(), |s| format!("{s:.1}")),
                columns::truncate(f.summary.as_deref().unwrap_or(""), 60),
            ]
        },
    ));
    if !report.matches.unmatched.is_empty() {
        let rows: Vec<Vec<String>> = report
            .matches
            .unmatched
            .iter()
            .map(|u| vec![u.name.clone(), u.version.clone(), u.reason.clone()])
            .collect();
        let _ = writeln!(out, "\nNOT MATCHED ({})", rows.len());
        out.push_str(&columns::render(&["PACKAGE", "VERSION", "REASON"], &rows));
    }
    if !report.suppressed.is_empty() && report.show_suppressed {
        let rows: Vec<Vec<String>> = report
            .suppressed
            .iter()
            .map(|x| {
                vec![
                    x.finding.id.clone(),
                    x.finding.package.name.clone(),
                    x.finding.package.version.clone(),
                    x.finding.severity().to_string(),
                    x.reason.clone(),
                ]
            })
            .collect();
        let _ = writeln!(out, "\nSUPPRESSED ({})", rows.len());
        out.push_str(&columns::render(
            &["ID", "PACKAGE", "INSTALLED", "SEVERITY", "WHY"],
            &rows,
        ));
    }
    let _ = writeln!(out, "\n{}", summary_line(&counts));
    if !report.suppressed.is_empty() && !report.show_suppressed {
        let _ = writeln!(
            out,
            "{} more suppressed by VEX or exceptions (--show-suppressed lists them)",
            report.suppressed.len()
        );
    }
    for caveat in caveats(report) {
        let _ = writeln!(out, "{caveat}");
    }
    crate::terminal::escape(&out).into_owned()
}

/// `high (cvss)`, `negligible (debian)`: the severity and where it comes
/// from, so that a NEGLIGIBLE beside a 9.8 score explains itself (the
/// distribution's urgency wins for its own packages).
fn severity_with_source(f: &Finding, distro: Option<&customs_sbom::Distro>) -> String {
    let source = match f.rating.source {
        Some("distribution") => distro.map_or("distribution", |d| d.id.as_str()),
        Some("database") => "advisory",
        Some("malicious-package") => "malicious",
        Some(other) => other,
        None => return f.severity().as_str().to_owned(),
    };
    match &f.rating.via {
        // Taken from a record aliasing it: say which.
        Some(via) => format!("{} ({source} via {via})", f.severity().as_str()),
        None => format!("{} ({source})", f.severity().as_str()),
    }
}

/// What makes a result less than complete: packages whose version could not
/// be compared, ecosystems the database has no advisories for, and files
/// the SBOM could not read. A scan with any of these is never "clean".
#[must_use]
pub fn caveats(report: &ScanReport) -> Vec<String> {
    let mut out = Vec::new();
    let unmatched = report.matches.unmatched.len();
    if unmatched > 0 {
        out.push(format!(
            "incomplete: {} not matched because the version does not parse (listed above)",
            columns::count(unmatched, "package was", "packages were")
        ));
    }
    if !report.matches.ecosystems_without_advisories.is_empty() {
        let list: Vec<String> = report
            .matches
            .ecosystems_without_advisories
            .iter()
            .map(|(e, n)| format!("{e} ({})", columns::count(*n, "package", "packages")))
            .collect();
        out.push(format!(
            "incomplete: the vulnerability database has no advisories for {}; those packages were not checked (import that ecosystem's export)",
            list.join(", ")
        ));
    }
    let unknowns = report
        .sbom
        .unknowns
        .iter()
        .map(|u| (&u.path, u.layer))
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    if unknowns > 0 {
        out.push(format!(
            "incomplete: {} could not be read completely (see the warnings and the SBOM's unknowns)",
            columns::count(unknowns, "file", "files")
        ));
    }
    out
}

#[derive(Serialize)]
struct JsonDocument<'a> {
    schema: &'static str,
    subject: &'a customs_sbom::Subject,
    #[serde(skip_serializing_if = "Option::is_none")]
    distro: Option<&'a customs_sbom::Distro>,
    database: &'a DatabaseInfo,
    summary: JsonSummary,
    findings: &'a [Finding],
    /// Findings VEX or an exception suppressed.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    suppressed: &'a [Suppressed],
    /// Packages whose version could not be compared.
    unmatched: &'a [customs_vuln::Unmatched],
    /// Ecosystems without any advisory in the database, with package counts.
    ecosystems_without_advisories: &'a BTreeMap<String, usize>,
    /// Files that could not be read.
    unknowns: &'a [customs_sbom::Unknown],
    /// Why the result is not complete (empty when it is).
    caveats: Vec<String>,
}

#[derive(Serialize)]
struct JsonSummary {
    packages: usize,
    packages_matched: usize,
    packages_not_matched: BTreeMap<String, usize>,
    #[serde(flatten)]
    counts: Counts,
}

/// The versioned JSON document.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn json(report: &ScanReport) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec_pretty(&document(report))?;
    out.push(b'\n');
    Ok(out)
}

fn document(report: &ScanReport) -> JsonDocument<'_> {
    JsonDocument {
        schema: SCHEMA,
        subject: &report.sbom.subject,
        distro: report.sbom.distro.as_ref(),
        database: &report.database,
        summary: JsonSummary {
            packages: report.sbom.packages.len(),
            packages_matched: report.matches.packages_matched,
            packages_not_matched: report.matches.packages_not_matched.clone(),
            counts: Counts::of(&report.matches.findings),
        },
        findings: &report.matches.findings,
        suppressed: &report.suppressed,
        unmatched: &report.matches.unmatched,
        ecosystems_without_advisories: &report.matches.ecosystems_without_advisories,
        unknowns: &report.sbom.unknowns,
        caveats: caveats(report),
    }
}

/// cosign's vulnerability attestation predicate
/// (`https://cosign.sigstore.dev/attestation/vuln/v1`): the scanner, the
/// advisory database it used — its build time, newest advisory and the
/// digest of the index file (`database`), so a finding can be traced to the
/// data it came from — and the scan document itself as `scanner.result`.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn vuln_predicate(
    report: &ScanReport,
    database: &customs_types::Digest,
    started: u64,
    finished: u64,
) -> Result<serde_json::Value, serde_json::Error> {
    let version = env!("CARGO_PKG_VERSION");
    Ok(serde_json::json!({
        "invocation": {"parameters": null, "uri": "", "event_id": "", "builder.id": ""},
        "scanner": {
            "uri": format!("pkg:generic/customs@{version}"),
            "version": version,
            "db": {
                "uri": database.to_string(),
                "version": customs_sbom::rfc3339(report.database.built_at),
                "newest_advisory": report.database.newest_advisory.map(customs_sbom::rfc3339),
            },
            "result": serde_json::to_value(document(report))?,
        },
        "metadata": {
            "scanStartedOn": customs_sbom::rfc3339(started),
            "scanFinishedOn": customs_sbom::rfc3339(finished),
        }
    }))
}

fn osv_url(id: &str) -> String {
    format!("https://osv.dev/vulnerability/{id}")
}

/// SARIF 2.1.0: one rule per vulnerability and package (as grype does, so
/// that one CVE in two packages is two alerts), located at the file that
/// evidences the package.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn sarif(report: &ScanReport) -> Result<Vec<u8>, serde_json::Error> {
    let mut rules = Vec::new();
    let mut results = Vec::new();
    let mut seen = BTreeSet::new();
    // Suppressed findings stay in the log, marked, as code scanning expects.
    let all =
        report
            .matches
            .findings
            .iter()
            .map(|f| (f, None))
            .chain(report.suppressed.iter().map(|x| {
                (
                    &x.finding,
                    Some(format!("{}: {}", x.suppressed_by, x.reason)),
                )
            }));
    for (f, suppressed) in all {
        let rule_id = format!("{}-{}", f.id, f.package.name);
        let what = format!("{} {}", f.package.name, f.package.version);
        let fix = if f.fixed_versions.is_empty() {
            "No fixed version is known.".to_owned()
        } else {
            format!(
                "Upgrade {} to {}.",
                f.package.name,
                f.fixed_versions.join(" or ")
            )
        };
        if seen.insert(rule_id.clone()) {
            let mut help = format!(
                "**{}** in {what} ({}). Severity: {}{}.\n\n{fix}",
                f.id,
                f.package.kind,
                f.severity(),
                f.rating
                    .score
                    .map_or_else(String::new, |s| format!(", CVSS {s:.1}"))
            );
            if !f.aliases.is_empty() {
                let _ = write!(help, "\n\nAlso known as: {}.", f.aliases.join(", "));
            }
            rules.push(sarif::Rule {
                id: rule_id.clone(),
                short: format!("{} in {}", f.id, f.package.name),
                full: f
                    .summary
                    .clone()
                    .unwrap_or_else(|| format!("{} affects {what}", f.id)),
                help,
                severity: f.severity(),
                score: f.rating.score,
                help_uri: Some(osv_url(&f.id)),
            });
        }
        let path = f
            .package
            .locations
            .first()
            .map_or_else(|| report.sbom.subject.name.clone(), |l| l.path.clone());
        let layer = f
            .package
            .introduced_by_layer
            .map_or_else(String::new, |l| format!(" (layer {})", l + 1));
        results.push(sarif::Finding {
            rule_id,
            severity: f.severity(),
            message: format!(
                "{}: {what} is vulnerable{}. Installed at {path}{layer} in {}. {fix}",
                f.id,
                f.summary
                    .as_deref()
                    .map_or_else(String::new, |s| format!(" ({s})")),
                report.sbom.subject.name
            ),
            path,
            line: None,
            fingerprint: format!("{}:{}:{}", f.id, f.package.purl, f.package.version),
            suppressed,
        });
    }
    let category = report.sbom.subject.digest.as_ref().map(ToString::to_string);
    sarif::to_vec(&rules, &results, category.as_deref())
}

/// CycloneDX 1.6: the SBOM with a `vulnerabilities` array whose `affects`
/// refer to the package components.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn cyclonedx(report: &ScanReport) -> Result<Vec<u8>, serde_json::Error> {
    let mut bom = cyclonedx16::to_value(&report.sbom)?;
    let refs: BTreeMap<String, String> = report
        .sbom
        .packages
        .iter()
        .map(|p| (p.id(), cyclonedx16::bom_ref(p)))
        .collect();
    let mut vulnerabilities = Vec::new();
    for (i, f) in report.matches.findings.iter().enumerate() {
        let Some(reference) = refs.get(&f.package.id) else {
            continue;
        };
        let osv = serde_json::json!({"name": "OSV", "url": osv_url(&f.id)});
        let mut ratings: Vec<serde_json::Value> = f
            .rating
            .cvss
            .iter()
            .map(|c| {
                let method = match c.version.as_str() {
                    "4.0" => "CVSSv4",
                    "3.1" => "CVSSv31",
                    "3.0" => "CVSSv3",
                    _ => "CVSSv2",
                };
                serde_json::json!({
                    "source": osv,
                    "score": c.score,
                    "severity": cyclonedx_severity(Severity::from_cvss_score(c.score)),
                    "method": method,
                    "vector": c.vector,
                })
            })
            .collect();
        if ratings.is_empty() {
            ratings.push(serde_json::json!({
                "source": osv,
                "severity": cyclonedx_severity(f.severity()),
                "method": "other",
            }));
        }
        let mut v = serde_json::json!({
            "bom-ref": format!("vulnerability-{i}-{}", f.id),
            "id": f.id,
            "source": osv,
            "references": f.aliases.iter().map(|a| serde_json::json!({
                "id": a,
                "source": {"name": "OSV", "url": osv_url(a)},
            })).collect::<Vec<_>>(),
            "ratings": ratings,
            "advisories": f.references.iter().map(|u| serde_json::json!({"url": u})).collect::<Vec<_>>(),
            "affects": [{
                "ref": reference,
                "versions": [{"version": f.package.version, "status": "affected"}],
            }],
        });
        if let Some(s) = &f.summary {
            v["description"] = serde_json::json!(s);
        }
        if !f.fixed_versions.is_empty() {
            v["recommendation"] = serde_json::json!(format!(
                "Upgrade {} to {}",
                f.package.name,
                f.fixed_versions.join(" or ")
            ));
        }
        vulnerabilities.push(v);
    }
    bom["vulnerabilities"] = serde_json::Value::Array(vulnerabilities);
    let mut out = serde_json::to_vec_pretty(&bom)?;
    out.push(b'\n');
    Ok(out)
}

fn cyclonedx_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Negligible | Severity::Info => "info",
        _ => "unknown",
    }
}
