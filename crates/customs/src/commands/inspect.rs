//! `customs inspect REF`: what `docker buildx imagetools inspect` and
//! `docker image inspect` show together, with secrets redacted.
//!
//! The JSON form (`-o json`) is versioned by its `schema` field
//! (`customs.inspect/v1`) and documented in `docs/inspect-json.md`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use customs_cli::{Format, GlobalArgs, InspectArgs};
use customs_oci::media_type::{ANNOTATION_BASE_DIGEST, ANNOTATION_BASE_NAME};
use customs_oci::{Image, IndexSummary};
use customs_types::Digest;
use serde::Serialize;

use crate::exit::ExitStatus;
use crate::render;
use customs_checks::redact::{redact_env, redact_text};

#[derive(Serialize)]
struct Inspection {
    schema: &'static str,
    reference: String,
    digest: Digest,
    index_digest: Option<Digest>,
    media_type: String,
    platform: String,
    platforms: Vec<String>,
    index: Option<IndexSummary>,
    tags: Vec<String>,
    created: Option<String>,
    author: Option<String>,
    config_digest: Digest,
    config: RuntimeConfig,
    base_image: Option<BaseImage>,
    annotations: BTreeMap<String, String>,
    layers: Vec<LayerView>,
    history: Vec<HistoryView>,
    total_size: u64,
}

#[derive(Serialize, Default)]
struct RuntimeConfig {
    user: Option<String>,
    runs_as_root: bool,
    entrypoint: Option<Vec<String>>,
    cmd: Option<Vec<String>>,
    working_dir: Option<String>,
    env: Vec<String>,
    labels: BTreeMap<String, String>,
    exposed_ports: Vec<String>,
    volumes: Vec<String>,
    healthcheck: Option<HealthcheckView>,
    stop_signal: Option<String>,
    shell: Option<Vec<String>>,
    on_build: Vec<String>,
}

#[derive(Serialize)]
struct HealthcheckView {
    test: Vec<String>,
    interval_seconds: Option<f64>,
    timeout_seconds: Option<f64>,
    start_period_seconds: Option<f64>,
    retries: Option<i64>,
}

#[derive(Serialize)]
struct BaseImage {
    name: Option<String>,
    digest: Option<String>,
}

#[derive(Serialize)]
struct LayerView {
    index: usize,
    digest: Digest,
    diff_id: Option<Digest>,
    media_type: String,
    size: u64,
    created_by: Option<String>,
}

#[derive(Serialize)]
struct HistoryView {
    created: Option<String>,
    created_by: Option<String>,
    comment: Option<String>,
    empty_layer: bool,
    layer: Option<usize>,
}

#[allow(clippy::cast_precision_loss)]
fn seconds(nanos: Option<i64>) -> Option<f64> {
    nanos.map(|n| n as f64 / 1e9)
}

fn inspection(image: &Image) -> Inspection {
    let config = image.config.config.clone().unwrap_or_default();
    let user = config.user.clone().filter(|u| !u.is_empty());
    let runs_as_root = user.as_deref().is_none_or(|u| {
        let name = u.split(':').next().unwrap_or(u);
        name == "root" || name == "0"
    });
    let mut layer_number = 0;
    let history: Vec<HistoryView> = image
        .config
        .history
        .iter()
        .map(|h| {
            let layer = if h.empty_layer {
                None
            } else {
                layer_number += 1;
                Some(layer_number)
            };
            HistoryView {
                created: h.created.clone(),
                created_by: h.created_by.as_deref().map(redact_text),
                comment: h.comment.clone(),
                empty_layer: h.empty_layer,
                layer,
            }
        })
        .collect();
    let layers = image
        .layers()
        .into_iter()
        .map(|l| LayerView {
            index: l.index + 1,
            created_by: history
                .iter()
                .find(|h| h.layer == Some(l.index + 1))
                .and_then(|h| h.created_by.clone()),
            digest: l.descriptor.digest,
            diff_id: l.diff_id,
            media_type: l.descriptor.media_type,
            size: l.descriptor.size,
        })
        .collect();
    let annotations = image.manifest.annotations.clone();
    let base_name = annotations.get(ANNOTATION_BASE_NAME).cloned();
    let base_digest = annotations.get(ANNOTATION_BASE_DIGEST).cloned();
    let platforms = match &image.index {
        Some(index) => index
            .manifests
            .iter()
            .filter(|m| !m.attestation)
            .filter_map(|m| m.platform.as_ref().map(ToString::to_string))
            .collect(),
        None => vec![image.platform().to_string()],
    };
    Inspection {
        schema: "customs.inspect/v1",
        reference: image.name.clone(),
        digest: image.manifest_digest.clone(),
        index_digest: image.index_digest().cloned(),
        media_type: image.manifest_media_type.clone(),
        platform: image.platform().to_string(),
        platforms,
        index: image.index.clone(),
        tags: image.tags.clone(),
        created: image.config.created.clone(),
        author: image.config.author.clone(),
        config_digest: image.manifest.config.digest.clone(),
        config: RuntimeConfig {
            runs_as_root,
            user,
            entrypoint: config.entrypoint,
            cmd: config.cmd,
            working_dir: config.working_dir.filter(|w| !w.is_empty()),
            env: config
                .env
                .unwrap_or_default()
                .iter()
                .map(|e| redact_env(e))
                .collect(),
            labels: config
                .labels
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| (k, redact_text(&v)))
                .collect(),
            exposed_ports: config
                .exposed_ports
                .unwrap_or_default()
                .into_keys()
                .collect(),
            volumes: config.volumes.unwrap_or_default().into_keys().collect(),
            healthcheck: config.healthcheck.map(|h| HealthcheckView {
                test: h.test.iter().map(|t| redact_text(t)).collect(),
                interval_seconds: seconds(h.interval),
                timeout_seconds: seconds(h.timeout),
                start_period_seconds: seconds(h.start_period),
                retries: h.retries,
            }),
            stop_signal: config.stop_signal,
            shell: config.shell,
            on_build: config
                .on_build
                .unwrap_or_default()
                .iter()
                .map(|o| redact_text(o))
                .collect(),
        },
        base_image: (base_name.is_some() || base_digest.is_some()).then_some(BaseImage {
            name: base_name,
            digest: base_digest,
        }),
        annotations,
        layers,
        history,
        total_size: image.compressed_size(),
    }
}

pub(crate) async fn run(args: InspectArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (_, image) = super::open_image(&args.image, &args.source).await?;
    let view = inspection(&image);
    match args.output {
        Format::Json => render::json(&view)?,
        Format::Table => render::text(&table(&view))?,
    }
    super::ledger::record_image(
        global,
        &image,
        "inspect",
        serde_json::json!({
            "line": format!("inspected: {} layers, {} compressed, {}", image.manifest.layers.len(),
                render::size(image.compressed_size()), image.platform()),
            "platform": image.platform().to_string(),
            "layers": image.manifest.layers.len(),
            "size": image.compressed_size(),
            "config": image.manifest.config.digest.to_string(),
        }),
    )
    .await?;
    Ok(ExitStatus::Success)
}

fn argv(v: Option<&Vec<String>>) -> String {
    v.map_or_else(
        || "-".to_owned(),
        |v| serde_json::to_string(v).unwrap_or_default(),
    )
}

fn table(v: &Inspection) -> String {
    let mut out = String::new();
    let mut field = |name: &str, value: &str| {
        let _ = writeln!(out, "{name:<14}{value}");
    };
    field("Reference", &v.reference);
    field("Digest", v.digest.as_str());
    if let Some(index) = &v.index_digest {
        field("Index digest", index.as_str());
    }
    field("Media type", &v.media_type);
    field("Platform", &v.platform);
    if v.platforms.len() > 1 {
        field("Platforms", &v.platforms.join(", "));
    }
    if !v.tags.is_empty() {
        field("Tags", &v.tags.join(", "));
    }
    field("Created", v.created.as_deref().unwrap_or("-"));
    if let Some(base) = &v.base_image {
        let text = format!(
            "{} {}",
            base.name.as_deref().unwrap_or("-"),
            base.digest.as_deref().unwrap_or("")
        )
        .trim()
        .to_owned();
        field("Base image", &text);
    }
    field(
        "Size",
        &format!(
            "{} in {} layers",
            render::size(v.total_size),
            v.layers.len()
        ),
    );
    field("Config", v.config_digest.as_str());
    let c = &v.config;
    out.push_str("\nRuntime\n");
    let mut rt = |name: &str, value: &str| {
        let _ = writeln!(out, "  {name:<13}{value}");
    };
    rt(
        "User",
        &match &c.user {
            Some(u) if c.runs_as_root => format!("{u} (root)"),
            Some(u) => u.clone(),
            None => "- (runs as root)".to_owned(),
        },
    );
    rt("Entrypoint", &argv(c.entrypoint.as_ref()));
    rt("Cmd", &argv(c.cmd.as_ref()));
    rt("WorkingDir", c.working_dir.as_deref().unwrap_or("-"));
    rt(
        "ExposedPorts",
        &if c.exposed_ports.is_empty() {
            "-".to_owned()
        } else {
            c.exposed_ports.join(", ")
        },
    );
    if !c.volumes.is_empty() {
        rt("Volumes", &c.volumes.join(", "));
    }
    rt(
        "Healthcheck",
        &match &c.healthcheck {
            Some(h) => {
                let mut s = h.test.join(" ");
                if let Some(i) = h.interval_seconds {
                    let _ = write!(s, " (every {i}s)");
                }
                s
            }
            None => "-".to_owned(),
        },
    );
    if let Some(signal) = &c.stop_signal {
        rt("StopSignal", signal);
    }
    for (i, e) in c.env.iter().enumerate() {
        rt(if i == 0 { "Env" } else { "" }, e);
    }
    for (i, (k, value)) in c.labels.iter().enumerate() {
        rt(if i == 0 { "Labels" } else { "" }, &format!("{k}={value}"));
    }
    for (i, o) in c.on_build.iter().enumerate() {
        rt(if i == 0 { "OnBuild" } else { "" }, o);
    }
    out.push_str("\nLayers\n");
    let mut layers = render::table(&["#", "DIGEST", "SIZE", "CREATED BY"]);
    for l in &v.layers {
        layers.add_row(render::row([
            l.index.to_string(),
            l.digest.to_string(),
            render::size(l.size),
            shorten(l.created_by.as_deref().unwrap_or("-"), 70),
        ]));
    }
    let _ = writeln!(out, "{}", layers.trim_fmt());
    out.push_str("\nHistory\n");
    let mut history = render::table(&["LAYER", "CREATED", "CREATED BY"]);
    for h in &v.history {
        history.add_row(render::row([
            h.layer.map_or_else(|| "-".to_owned(), |l| l.to_string()),
            h.created.clone().unwrap_or_default(),
            shorten(h.created_by.as_deref().unwrap_or("-"), 90),
        ]));
    }
    let _ = writeln!(out, "{}", history.trim_fmt());
    if let Some(index) = &v.index {
        out.push_str("\nIndex\n");
        let mut t = render::table(&["PLATFORM", "DIGEST", "MEDIA TYPE"]);
        for m in &index.manifests {
            let platform = m
                .platform
                .as_ref()
                .map_or_else(|| "-".to_owned(), ToString::to_string);
            let platform = if m.attestation {
                format!("{platform} (attestation)")
            } else {
                platform
            };
            t.add_row(render::row([
                platform,
                m.digest.to_string(),
                m.media_type.clone(),
            ]));
        }
        let _ = writeln!(out, "{}", t.trim_fmt());
    }
    out
}

fn shorten(s: &str, max: usize) -> String {
    let s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if s.chars().count() <= max {
        return s;
    }
    let mut t: String = s.chars().take(max - 1).collect();
    t.push('…');
    t
}
