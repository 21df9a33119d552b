//! `customs quickview`: one screen about an image, like
//! `docker scout quickview` — which image, which OS and base, how many
//! packages, and how many vulnerabilities by severity with and without a fix.

use std::fmt::Write as _;

use customs_types::Severity;
use serde::Serialize;

use crate::scan::{Counts, ScanReport};

/// The base image, from the `org.opencontainers.image.base.*` annotations.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BaseImage {
    /// `docker.io/library/debian:12`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Its digest.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
}

/// Seconds since the epoch as `YYYY-MM-DD`.
fn date(seconds: u64) -> String {
    customs_sbom::rfc3339(seconds)
        .get(..10)
        .unwrap_or("")
        .to_owned()
}

/// Renders the overview.
#[must_use]
pub fn render(report: &ScanReport, base: Option<&BaseImage>) -> String {
    let sbom = &report.sbom;
    let mut out = String::new();
    let mut lines: Vec<(&str, String)> = vec![("Target", sbom.subject.name.clone())];
    if let Some(d) = &sbom.subject.digest {
        lines.push(("digest", d.to_string()));
    }
    if let Some(p) = &sbom.subject.platform {
        lines.push(("platform", p.clone()));
    }
    let os = sbom.distro.as_ref().map_or_else(
        || "unknown".to_owned(),
        |d| {
            d.pretty_name
                .clone()
                .unwrap_or_else(|| format!("{} {}", d.id, d.version_id.as_deref().unwrap_or("")))
        },
    );
    lines.push(("OS", os));
    let base_text = base
        .filter(|b| b.name.is_some() || b.digest.is_some())
        .map_or_else(
            || "unknown (no base annotation, no catalogued base: customs base add)".to_owned(),
            |b| match (&b.name, &b.digest) {
                (Some(n), Some(d)) => format!("{n}@{d}"),
                (Some(n), None) => n.clone(),
                (None, Some(d)) => d.clone(),
                (None, None) => String::new(),
            },
        );
    lines.push(("base image", base_text));
    let per_type: Vec<String> = sbom
        .counts()
        .iter()
        .map(|(t, n)| format!("{t} {n}"))
        .collect();
    lines.push((
        "packages",
        format!("{} ({})", sbom.packages.len(), per_type.join(", ")),
    ));
    lines.push((
        "advisories",
        format!(
            "database built {}, newest advisory {}",
            date(report.database.built_at),
            report
                .database
                .newest_advisory
                .map_or_else(|| "unknown".to_owned(), date)
        ),
    ));
    for (i, (name, value)) in lines.iter().enumerate() {
        if i == 0 {
            let _ = writeln!(out, "{name:<13} {value}");
        } else {
            let _ = writeln!(out, "  {name:<11} {value}");
        }
    }
    let counts = Counts::of(&report.matches.findings);
    // `info` is a lint level; no advisory has it.
    let order: Vec<Severity> = Severity::ALL
        .iter()
        .rev()
        .copied()
        .filter(|s| *s != Severity::Info)
        .collect();
    let _ = writeln!(out);
    let mut header = format!("{:<16}", "Vulnerabilities");
    for s in &order {
        let _ = write!(header, "{:>11}", s.as_str().to_uppercase());
    }
    let _ = write!(header, "{:>8}", "TOTAL");
    let _ = writeln!(out, "{header}");
    for (label, map, total) in [
        ("  all", &counts.by_severity, counts.total),
        ("  with a fix", &counts.fixable_by_severity, counts.fixable),
    ] {
        let mut line = format!("{label:<16}");
        for s in &order {
            let _ = write!(line, "{:>11}", map.get(s).copied().unwrap_or(0));
        }
        let _ = write!(line, "{total:>8}");
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(
        out,
        "\n{} of {} packages vulnerable. Details: customs scan {}",
        counts.vulnerable_packages,
        sbom.packages.len(),
        sbom.subject.name
    );
    crate::terminal::escape(&out).into_owned()
}
