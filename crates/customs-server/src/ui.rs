//! The dashboard: server-rendered HTML that needs no JavaScript. The
//! fleet (what runs where, each digest's verdict there), a page per digest
//! with its evidence chain, findings over time per service, expiring
//! exceptions, blocked digests still running, and search (`who-has`,
//! `affected`). Signed in with a token (an HttpOnly, SameSite=Strict
//! cookie), or read-only without sign-in with `public_dashboard`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Form;
use axum::extract::{Extension, Path, Query, State as Shared};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;

use crate::State;
use crate::html::{Page, encode, escape};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "customs_session";

/// Who reads the page.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Viewer {
    pub(crate) signed_in: bool,
}

/// An HTML answer with the headers every page has.
pub(crate) fn html(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::CACHE_CONTROL, "no-store"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn failure(viewer: Viewer, status: StatusCode, message: &str) -> Response {
    let mut page = Page::default();
    page.raw("<p role=\"alert\">").text(message).raw("</p>");
    html(status, page.finish("Not available", viewer.signed_in))
}

fn verdict_cell(page: &mut Page, verdict: Option<&str>) {
    match verdict {
        Some(v) => {
            let class = match v {
                "pass" => "verdict-pass",
                "warn" => "verdict-warn",
                _ => "verdict-deny",
            };
            let _ = page
                .raw(&format!("<span class=\"{class}\">"))
                .text(v)
                .raw("</span>");
        }
        None => {
            page.raw("<span class=\"muted\">not gated</span>");
        }
    }
}

/// `cluster / namespace`, `-` for either not said.
fn place(d: &customs_store::Deployment) -> String {
    let or_dash = |s: &str| {
        if s.is_empty() {
            "-".to_owned()
        } else {
            s.to_owned()
        }
    };
    format!("{} / {}", or_dash(&d.cluster), or_dash(&d.namespace))
}

fn digest_link(page: &mut Page, digest: &str) {
    let short = digest.get(..19).unwrap_or(digest);
    let _ = page
        .raw(&format!(
            "<a class=\"digest\" href=\"/ui/images/{}\" title=\"{}\">",
            encode(digest),
            escape(digest)
        ))
        .text(short)
        .raw("…</a>");
}

#[derive(Deserialize)]
pub(crate) struct FleetQuery {
    env: Option<String>,
}

/// Rows per environment the fleet view shows.
const FLEET_ROWS: i64 = 2_000;

pub(crate) async fn fleet(
    Shared(state): Shared<Arc<State>>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<FleetQuery>,
) -> Response {
    let (rows, jobs, expiring) = tokio::join!(
        state.store.fleet(q.env.as_deref(), FLEET_ROWS),
        state.store.job_counts(),
        state.engine.expiring(14),
    );
    let (rows, jobs) = match (rows, jobs) {
        (Ok(r), Ok(j)) => (r, j),
        (Err(e), _) | (_, Err(e)) => {
            return failure(viewer, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string());
        }
    };
    let mut page = Page::default();
    let mut environments: BTreeMap<&str, Vec<&customs_store::FleetRow>> = BTreeMap::new();
    for row in &rows {
        environments
            .entry(row.deployment.environment.as_str())
            .or_default()
            .push(row);
    }
    page.raw("<div class=\"cards\">");
    for (env, list) in &environments {
        let denied = list
            .iter()
            .filter(|r| r.verdict.as_deref() == Some("deny"))
            .count();
        let _ = page
            .raw("<div class=\"card\"><a href=\"/ui?env=")
            .raw(&encode(env))
            .raw("\">")
            .text(env)
            .raw("</a><br>")
            .text(&format!("{} running, {denied} denied", list.len()))
            .raw("</div>");
    }
    let queue: Vec<String> = jobs.iter().map(|(s, n)| format!("{n} {s}")).collect();
    let _ = page
        .raw("<div class=\"card\">Queue<br>")
        .text(&if queue.is_empty() {
            "empty".to_owned()
        } else {
            queue.join(", ")
        })
        .raw("</div></div>");
    if q.env.is_some() {
        page.raw("<p><a href=\"/ui\">All environments</a></p>");
    }
    let blocked: Vec<&customs_store::FleetRow> =
        rows.iter().filter(|r| r.blocked.is_some()).collect();
    page.table(
        "Blocked digests still running",
        &["Environment", "Service", "Digest", "Block"],
        &blocked,
        |p, r, i| match i {
            0 => {
                p.text(&r.deployment.environment);
            }
            1 => {
                p.text(&r.deployment.service);
            }
            2 => digest_link(p, &r.deployment.digest),
            _ => {
                p.raw("<span class=\"blocked\">")
                    .text(r.blocked.as_deref().unwrap_or_default())
                    .raw("</span>");
            }
        },
    );
    match expiring {
        Ok(list) => {
            page.table(
                "Exceptions expiring within 14 days (or expired)",
                &["Exception", "Waives", "Scope", "Owner", "Expires"],
                &list,
                |p, e, i| {
                    let field = ["id", "waives", "scope", "owner", "state"][i];
                    p.text(e[field].as_str().unwrap_or("-"));
                },
            );
        }
        Err(e) => {
            page.raw("<p role=\"alert\">")
                .text(&format!("The exceptions cannot be read: {e:#}"))
                .raw("</p>");
        }
    }
    for (env, list) in &environments {
        let caption = format!("{env}: what runs now");
        page.table(
            &caption,
            &[
                "Service",
                "Cluster / namespace",
                "Digest",
                "Since",
                "Verdict",
                "Block",
            ],
            list,
            |p, r, i| {
                let d = &r.deployment;
                match i {
                    0 => {
                        p.link(
                            &format!(
                                "/ui/services/{}?env={}",
                                encode(&d.service),
                                encode(&d.environment)
                            ),
                            &d.service,
                        );
                    }
                    1 => {
                        p.text(&place(d));
                    }
                    2 => digest_link(p, &d.digest),
                    3 => {
                        p.text(d.since.get(..19).unwrap_or(&d.since));
                    }
                    4 => verdict_cell(p, r.verdict.as_deref()),
                    _ => {
                        if let Some(b) = &r.blocked {
                            p.raw("<span class=\"blocked\">blocked: ")
                                .text(b)
                                .raw("</span>");
                        }
                    }
                }
            },
        );
    }
    if rows.len() >= usize::try_from(FLEET_ROWS).unwrap_or(usize::MAX) {
        page.raw("<p class=\"muted\">")
            .text(&format!(
                "Showing the first {FLEET_ROWS} deployments; choose an environment above."
            ))
            .raw("</p>");
    }
    html(StatusCode::OK, page.finish("Fleet", viewer.signed_in))
}

#[derive(Deserialize)]
pub(crate) struct ImageQuery {
    q: Option<String>,
}

/// Packages of the SBOM a page lists at most.
const SBOM_ROWS: usize = 500;

#[allow(clippy::too_many_lines)]
pub(crate) async fn image(
    Shared(state): Shared<Arc<State>>,
    Extension(viewer): Extension<Viewer>,
    Path(text): Path<String>,
    Query(q): Query<ImageQuery>,
) -> Response {
    let Ok(digest) = customs_types::Digest::parse(&text) else {
        return failure(
            viewer,
            StatusCode::BAD_REQUEST,
            &format!("`{text}` is not a digest"),
        );
    };
    let store = &state.store;
    let result = tokio::try_join!(
        store.knows(&digest),
        store.dossier(&digest),
        store.records(&digest, Some("gate")),
        store.sbom(&digest),
    );
    let (known, dossier, gates, sbom) = match result {
        Ok(all) => all,
        Err(e) => return failure(viewer, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let customs_store::Dossier {
        tags,
        deployments,
        promotions,
        history,
        ..
    } = dossier;
    if !known {
        return failure(
            viewer,
            StatusCode::NOT_FOUND,
            &format!("The store knows nothing of {digest}."),
        );
    }
    let block = store
        .block_of(&digest, &customs_store::now())
        .await
        .ok()
        .flatten();
    let mut page = Page::default();
    page.raw("<p><code>")
        .text(digest.as_str())
        .raw("</code></p>");
    if let Some(b) = &block {
        page.raw("<p class=\"blocked\" role=\"alert\">Blocked: ")
            .text(&b.reason)
            .raw("</p>");
    }
    page.table("Tags", &["Tag", "First seen"], &tags, |p, (tag, at), i| {
        p.text(if i == 0 { tag } else { at });
    });
    page.table(
        "Deployments",
        &[
            "Environment",
            "Service",
            "Cluster / namespace",
            "Since",
            "Until",
        ],
        &deployments,
        |p, d, i| {
            let text = match i {
                0 => d.environment.clone(),
                1 => d.service.clone(),
                2 => place(d),
                3 => d.since.clone(),
                _ => d.until.clone().unwrap_or_else(|| "running".to_owned()),
            };
            p.text(&text);
        },
    );
    // The newest decision per environment, with its input.
    let mut latest: BTreeMap<String, &customs_store::Record> = BTreeMap::new();
    for r in &gates {
        if let Some(env) = &r.environment {
            latest.insert(env.clone(), r);
        }
    }
    let mut decisions = Vec::new();
    for (env, record) in &latest {
        let document = match &record.document {
            Some(d) => store.document(d).await.ok().flatten(),
            None => None,
        };
        let document: Value = document
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or(Value::Null);
        decisions.push((env.clone(), *record, document));
    }
    page.table(
        "Gate decisions (newest per environment)",
        &["Environment", "Verdict", "When", "Reasons"],
        &decisions,
        |p, (env, record, document), i| match i {
            0 => {
                p.text(env);
            }
            1 => verdict_cell(p, record.summary["verdict"].as_str()),
            2 => {
                p.text(&record.created_at);
            }
            _ => {
                let reasons: Vec<String> = document
                    .pointer("/decision/reasons")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .filter(|r| r["waived_by"].is_null() && r["level"] != "off")
                    .map(|r| {
                        format!(
                            "{}: {}",
                            r["level"].as_str().unwrap_or(""),
                            r["message"].as_str().unwrap_or("")
                        )
                    })
                    .collect();
                p.raw("<ul>");
                for r in reasons.iter().take(20) {
                    p.element("li", r);
                }
                p.raw("</ul>");
            }
        },
    );
    // Findings, secrets, signatures and attestations: from the newest
    // decision's input (whichever environment it was for).
    if let Some((env, _, document)) = decisions.iter().max_by_key(|(_, record, _)| record.id) {
        let input = &document["input"];
        let mut findings: Vec<&Value> = input["vulnerabilities"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        let rank = |s: &str| match s {
            "critical" => 0,
            "high" => 1,
            "medium" => 2,
            "low" => 3,
            _ => 4,
        };
        findings.sort_by_key(|f| rank(f["severity"].as_str().unwrap_or("")));
        let mut counts: BTreeMap<i32, (String, usize)> = BTreeMap::new();
        for f in &findings {
            let s = f["severity"].as_str().unwrap_or("unknown");
            counts.entry(rank(s)).or_insert((s.to_owned(), 0)).1 += 1;
        }
        page.raw("<h2>")
            .text(&format!("Findings (as gated for {env})"))
            .raw("</h2><div class=\"cards\">");
        for (s, n) in counts.values() {
            let _ = page
                .raw(&format!("<div class=\"card sev-{}\">", escape(s)))
                .text(&format!("{n} {s}"))
                .raw("</div>");
        }
        page.raw("</div>");
        page.table(
            "Vulnerabilities by severity",
            &["Severity", "Vulnerability", "Package", "Version", "Fix"],
            &findings,
            |p, f, i| match i {
                0 => {
                    let s = f["severity"].as_str().unwrap_or("unknown");
                    let _ = p
                        .raw(&format!("<span class=\"sev-{}\">", escape(s)))
                        .text(s)
                        .raw("</span>");
                }
                1 => {
                    p.text(f["id"].as_str().unwrap_or(""));
                }
                2 => {
                    p.text(
                        f.pointer("/package/name")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    );
                }
                3 => {
                    p.text(
                        f.pointer("/package/version")
                            .and_then(Value::as_str)
                            .unwrap_or(""),
                    );
                }
                _ => {
                    let fixed: Vec<&str> = f["fixed_versions"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(Value::as_str)
                        .collect();
                    p.text(&if fixed.is_empty() {
                        "no fix".to_owned()
                    } else {
                        format!("fixed in {}", fixed.join(", "))
                    });
                }
            },
        );
        let secrets: Vec<&Value> = input["secrets"].as_array().into_iter().flatten().collect();
        page.table(
            "Secrets (redacted)",
            &["Rule", "Severity", "Where"],
            &secrets,
            |p, s, i| {
                let text = match i {
                    0 => s["rule"].as_str().unwrap_or(""),
                    1 => s["severity"].as_str().unwrap_or(""),
                    _ => s["path"]
                        .as_str()
                        .or_else(|| s["message"].as_str())
                        .unwrap_or(""),
                };
                p.text(text);
            },
        );
        let signers: Vec<&Value> = input
            .pointer("/signatures/verified")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        page.raw("<h2>Signatures</h2><p>")
            .text(
                input
                    .pointer("/signatures/outcome")
                    .and_then(Value::as_str)
                    .unwrap_or("not checked"),
            )
            .raw("</p>");
        page.table(
            "Verified signers",
            &["Signer", "Where"],
            &signers,
            |p, s, i| {
                p.text(
                    s[if i == 0 { "signer" } else { "source" }]
                        .as_str()
                        .unwrap_or(""),
                );
            },
        );
        let attestations: Vec<&Value> = input["attestations"]
            .as_array()
            .into_iter()
            .flatten()
            .collect();
        page.table(
            "Attestations",
            &["Type", "Verified", "Signer"],
            &attestations,
            |p, a, i| {
                let text = match i {
                    0 => a["predicate_type"].as_str().unwrap_or("").to_owned(),
                    1 => a["verified"].as_bool().unwrap_or(false).to_string(),
                    _ => a["signer"].as_str().unwrap_or("-").to_owned(),
                };
                p.text(&text);
            },
        );
    }
    page.table(
        "Promotions",
        &["From", "To", "Environment", "When"],
        &promotions,
        |p, pr, i| {
            let v = serde_json::to_value(pr).unwrap_or_default();
            let field = ["source", "target", "environment", "at"][i];
            p.text(v[field].as_str().unwrap_or(""));
        },
    );
    // The SBOM, searchable.
    let needle = q.q.clone().unwrap_or_default();
    page.raw("<h2>SBOM</h2><form class=\"search\" method=\"get\"><label for=\"sbom-q\">Find a package</label><input type=\"search\" id=\"sbom-q\" name=\"q\" value=\"")
        .text(&needle)
        .raw("\"> <button type=\"submit\">Find</button></form>");
    match &sbom {
        Some(stored) => {
            let needle = needle.to_lowercase();
            let packages: Vec<&customs_sbom::Package> = stored
                .sbom
                .packages
                .iter()
                .filter(|p| {
                    needle.is_empty()
                        || p.name.to_lowercase().contains(&needle)
                        || p.purl.to_lowercase().contains(&needle)
                })
                .take(SBOM_ROWS)
                .collect();
            let caption = format!(
                "{} of {} packages",
                packages.len(),
                stored.sbom.packages.len()
            );
            page.table(
                &caption,
                &["Package", "Version", "Type", "purl"],
                &packages,
                |p, pkg, i| {
                    let text = match i {
                        0 => pkg.name.clone(),
                        1 => pkg.version.clone(),
                        2 => pkg.kind.to_string(),
                        _ => pkg.purl.clone(),
                    };
                    p.text(&text);
                },
            );
            let _ = page.raw(&format!("<p><a href=\"/api/v1/images/{}/sbom\">SPDX JSON</a> · <a href=\"/api/v1/images/{}/sbom?format=cyclonedx-json\">CycloneDX JSON</a></p>", encode(digest.as_str()), encode(digest.as_str())));
        }
        None => {
            page.raw("<p class=\"muted\">No SBOM of this digest is stored.</p>");
        }
    }
    page.table(
        "History",
        &["When", "What", "Environment", "Details", "Who"],
        &history,
        |p, h, i| {
            let text = match i {
                0 => h.at.as_str(),
                1 => h.kind.as_str(),
                2 => h.environment.as_deref().unwrap_or("-"),
                3 => h.what.as_str(),
                _ => h.actor.as_str(),
            };
            p.text(text);
        },
    );
    html(StatusCode::OK, page.finish("Image", viewer.signed_in))
}

#[derive(Deserialize)]
pub(crate) struct ServiceQuery {
    env: Option<String>,
}

const SERIES: [(&str, &str); 4] = [
    ("critical", "#a40e26"),
    ("high", "#953800"),
    ("medium", "#7d4e00"),
    ("low", "#0550ae"),
];

/// Findings over time as an SVG line chart (with a data table beside it
/// for screen readers and copying).
fn chart(points: &[customs_store::ScanPoint]) -> String {
    let (width, height, pad) = (720.0_f64, 220.0_f64, 36.0_f64);
    let max = points
        .iter()
        .flat_map(|p| {
            SERIES
                .iter()
                .map(|(s, _)| p.counts.get(*s).copied().unwrap_or(0))
        })
        .max()
        .unwrap_or(0)
        .max(1);
    #[allow(clippy::cast_precision_loss)]
    let x = |i: usize| pad + (width - 2.0 * pad) * (i as f64) / ((points.len().max(2) - 1) as f64);
    #[allow(clippy::cast_precision_loss)]
    let y = |n: u64| height - pad - (height - 2.0 * pad) * (n as f64) / (max as f64);
    let mut svg = format!(
        "<svg role=\"img\" aria-labelledby=\"chart-title\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\"><title id=\"chart-title\">Findings per scan, by severity</title><line x1=\"{pad}\" y1=\"{b}\" x2=\"{r}\" y2=\"{b}\" stroke=\"#57606a\"/><line x1=\"{pad}\" y1=\"{pad}\" x2=\"{pad}\" y2=\"{b}\" stroke=\"#57606a\"/><text x=\"4\" y=\"{t}\">{max}</text><text x=\"4\" y=\"{b}\">0</text>",
        b = height - pad,
        r = width - pad,
        t = pad + 4.0,
    );
    for (k, (severity, colour)) in SERIES.iter().enumerate() {
        let coords: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "{:.1},{:.1}",
                    x(i),
                    y(p.counts.get(*severity).copied().unwrap_or(0))
                )
            })
            .collect();
        let _ = write!(
            svg,
            "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\" points=\"{}\"/>",
            coords.join(" ")
        );
        #[allow(clippy::cast_precision_loss)]
        let lx = pad + 110.0 * k as f64;
        let _ = write!(
            svg,
            "<rect x=\"{lx}\" y=\"6\" width=\"10\" height=\"10\" fill=\"{colour}\"/><text x=\"{}\" y=\"15\">{severity}</text>",
            lx + 14.0
        );
    }
    svg.push_str("</svg>");
    svg
}

pub(crate) async fn service(
    Shared(state): Shared<Arc<State>>,
    Extension(viewer): Extension<Viewer>,
    Path(service): Path<String>,
    Query(q): Query<ServiceQuery>,
) -> Response {
    let points = match state.store.service_scans(&service, q.env.as_deref()).await {
        Ok(p) => p,
        Err(e) => return failure(viewer, StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    let mut page = Page::default();
    if let Some(env) = &q.env {
        page.raw("<p>Environment: ").text(env).raw("</p>");
    }
    if points.is_empty() {
        page.raw("<p class=\"muted\">No scan of a digest this service ran is stored.</p>");
    } else {
        page.raw(&chart(&points));
    }
    page.table(
        "Scans of the digests the service ran",
        &["When", "Digest", "Critical", "High", "Medium", "Low"],
        &points,
        |p, point, i| match i {
            0 => {
                p.text(&point.at);
            }
            1 => digest_link(p, &point.digest),
            _ => {
                p.text(
                    &point
                        .counts
                        .get(SERIES[i - 2].0)
                        .copied()
                        .unwrap_or(0)
                        .to_string(),
                );
            }
        },
    );
    html(
        StatusCode::OK,
        page.finish(&format!("Service {service}"), viewer.signed_in),
    )
}

#[derive(Deserialize)]
pub(crate) struct SearchQuery {
    q: Option<String>,
    #[serde(default)]
    deployed: Option<String>,
}

/// Whether `text` names an advisory (`CVE-…`, `GHSA-…`, `DSA-…`, …).
fn is_advisory(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    [
        "CVE-", "GHSA-", "DSA-", "DLA-", "RUSTSEC-", "GO-", "PYSEC-", "OSV-", "ALPINE-", "BIT-",
    ]
    .iter()
    .any(|p| upper.starts_with(p))
}

pub(crate) async fn search(
    Shared(state): Shared<Arc<State>>,
    Extension(viewer): Extension<Viewer>,
    Query(q): Query<SearchQuery>,
) -> Response {
    let text = q.q.clone().unwrap_or_default();
    let deployed = q.deployed.is_some();
    let mut page = Page::default();
    page.raw("<form class=\"search\" method=\"get\" action=\"/ui/search\" role=\"search\"><label for=\"q\">Package or advisory</label><input type=\"search\" id=\"q\" name=\"q\" placeholder=\"zlib1g@&lt;1:1.2.13 or CVE-2023-45853\" value=\"")
        .text(&text)
        .raw(&format!("\"> <input type=\"checkbox\" id=\"deployed\" name=\"deployed\" value=\"1\"{}><label for=\"deployed\">running only</label> <button type=\"submit\">Search</button></form>", if deployed { " checked" } else { "" }));
    let text = text.trim();
    if text.is_empty() {
        page.raw("<p class=\"muted\">Who has a package (<code>name</code>, <code>name@1.2.3</code>, <code>name@&lt;1.2.3</code>), or which stored images an advisory affects.</p>");
    } else if is_advisory(text) {
        let dir = state.config.db_dir.clone();
        let store = state.store.clone();
        let id = text.to_owned();
        let found = crate::on_blocking(move || async move {
            let index = customs_vuln::VulnIndex::open(&dir).map_err(|e| e.to_string())?;
            store
                .affected(&index, &id, None)
                .await
                .map_err(|e| e.to_string())
        })
        .await;
        match found {
            Ok(Ok(affected)) => {
                if !affected.known {
                    page.raw("<p role=\"status\">")
                        .text(&format!("The advisory database has no record of {text}."))
                        .raw("</p>");
                }
                let images: Vec<&customs_store::AffectedImage> = affected
                    .images
                    .iter()
                    .filter(|i| !deployed || !i.deployments.is_empty())
                    .collect();
                page.table(
                    &format!("Images {text} affects"),
                    &["Digest", "Image", "Package", "Fixed in", "Runs as"],
                    &images,
                    |p, i, c| match c {
                        0 => digest_link(p, &i.digest),
                        1 => {
                            p.text(&i.image);
                        }
                        2 => {
                            p.text(&format!("{} {}", i.package, i.version));
                        }
                        3 => {
                            p.text(i.fixed.as_deref().unwrap_or("-"));
                        }
                        _ => {
                            let runs: Vec<String> = i
                                .deployments
                                .iter()
                                .map(|d| format!("{}/{}", d.environment, d.service))
                                .collect();
                            p.text(&if runs.is_empty() {
                                "-".to_owned()
                            } else {
                                runs.join(", ")
                            });
                        }
                    },
                );
            }
            Ok(Err(e)) => {
                page.raw("<p role=\"alert\">").text(&e).raw("</p>");
            }
            Err(e) => {
                page.raw("<p role=\"alert\">")
                    .text(&e.to_string())
                    .raw("</p>");
            }
        }
    } else {
        match customs_store::PackageFilter::parse(text, None) {
            Ok(filter) => match state.store.who_has(&filter, deployed, None).await {
                Ok(holders) => {
                    page.table(
                        &format!("Images holding {text}"),
                        &["Digest", "Image", "Package", "Runs as"],
                        &holders,
                        |p, h, c| {
                            let v = serde_json::to_value(h).unwrap_or_default();
                            match c {
                                0 => digest_link(p, v["digest"].as_str().unwrap_or("")),
                                1 => {
                                    p.text(v["image"].as_str().unwrap_or(""));
                                }
                                2 => {
                                    let packages: Vec<String> = v["packages"]
                                        .as_array()
                                        .into_iter()
                                        .flatten()
                                        .map(|k| {
                                            format!(
                                                "{} {}",
                                                k["name"].as_str().unwrap_or(""),
                                                k["version"].as_str().unwrap_or("")
                                            )
                                        })
                                        .collect();
                                    p.text(&packages.join(", "));
                                }
                                _ => {
                                    let runs: Vec<String> = v["deployments"]
                                        .as_array()
                                        .into_iter()
                                        .flatten()
                                        .map(|d| {
                                            format!(
                                                "{}/{}",
                                                d["environment"].as_str().unwrap_or(""),
                                                d["service"].as_str().unwrap_or("")
                                            )
                                        })
                                        .collect();
                                    p.text(&if runs.is_empty() {
                                        "-".to_owned()
                                    } else {
                                        runs.join(", ")
                                    });
                                }
                            }
                        },
                    );
                }
                Err(e) => {
                    page.raw("<p role=\"alert\">")
                        .text(&e.to_string())
                        .raw("</p>");
                }
            },
            Err(e) => {
                page.raw("<p role=\"alert\">").text(&e).raw("</p>");
            }
        }
    }
    html(StatusCode::OK, page.finish("Search", viewer.signed_in))
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
    failed: Option<String>,
}

/// Only paths of the dashboard: never another site.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n)
            if n.starts_with("/ui")
                && !n.starts_with("//")
                && !n.contains("://")
                && !n.contains('\\') =>
        {
            n.to_owned()
        }
        _ => "/ui".to_owned(),
    }
}

pub(crate) async fn login_form(Query(q): Query<LoginQuery>) -> Response {
    let mut page = Page::default();
    if q.failed.is_some() {
        page.raw("<p role=\"alert\" class=\"blocked\">That token is unknown, revoked, or cannot read.</p>");
    }
    page.raw("<form method=\"post\" action=\"/ui/login\"><p><label for=\"token\">API token</label><input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required></p><input type=\"hidden\" name=\"next\" value=\"")
        .text(&safe_next(q.next.as_deref()))
        .raw("\"><p><button type=\"submit\">Sign in</button></p></form><p class=\"muted\">A token from <code>customs token create --scope read</code>.</p>");
    html(StatusCode::OK, page.finish("Sign in", false))
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    token: String,
    next: Option<String>,
}

/// A 303 to `location`, setting `cookie` when given.
pub(crate) fn redirect(location: &str, cookie: Option<String>) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, value);
    }
    if let Some(cookie) = cookie
        && let Ok(value) = HeaderValue::from_str(&cookie)
    {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

pub(crate) async fn login(
    Shared(state): Shared<Arc<State>>,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    match state
        .tokens
        .check(&state.store, Some(&form.token), crate::Scope::Read)
        .await
    {
        Ok(_) if !form.token.contains([';', ',', ' ', '"']) => {
            let secure = if state.config.secure_cookies {
                "; Secure"
            } else {
                ""
            };
            redirect(
                &next,
                Some(format!(
                    "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age=43200{secure}",
                    form.token.trim()
                )),
            )
        }
        _ => redirect(&format!("/ui/login?failed=1&next={}", encode(&next)), None),
    }
}

pub(crate) async fn logout() -> Response {
    redirect(
        "/ui/login",
        Some(format!(
            "{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"
        )),
    )
}

pub(crate) async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "max-age=3600"),
        ],
        crate::html::CSS,
    )
        .into_response()
}
