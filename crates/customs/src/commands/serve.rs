//! `customs serve`, `customs worker` and `customs token`: the server, a
//! worker process, and the API's tokens. The server's engine is this
//! binary's own code — the scan and gate of `customs gate`, the signature
//! check of `customs verify`, the import of `customs db import` — so the
//! server and the CLI cannot disagree.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use customs_cli::{
    EngineArgs, Format, GlobalArgs, ServeArgs, TokenCommand, TokenCreateArgs, WorkerArgs,
};
use customs_oci::Target;
use customs_policy::{Gatekeeper, Verdict};
use customs_server::{Admit, BoxFuture, Config, Engine, Logger, Scope, State};
use customs_types::Digest;

use crate::exit::ExitStatus;

/// `6h`, `30m`, `1d`, `90s`.
pub(crate) fn duration(text: &str) -> anyhow::Result<Duration> {
    let bad = || anyhow::anyhow!("`{text}` is not a duration (examples: 90s, 30m, 6h, 1d)");
    let (number, unit) = text.split_at(text.len().saturating_sub(1));
    let n: u64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit {
        "s" => n,
        "m" => n * 60,
        "h" => n * 3_600,
        "d" => n * 86_400,
        _ => return Err(bad()),
    };
    anyhow::ensure!(
        seconds > 0,
        "`{text}`: the period must be longer than nothing"
    );
    Ok(Duration::from_secs(seconds))
}

/// The engine: what jobs and admission reviews run.
struct CliEngine {
    args: EngineArgs,
    global: GlobalArgs,
    gate_on_admission: bool,
}

impl CliEngine {
    /// Scans `reference` once and gates it for each environment, recording
    /// the SBOM, a scan record and each decision.
    async fn scan_and_gate(
        &self,
        reference: &str,
        environments: &[String],
    ) -> anyhow::Result<serde_json::Value> {
        let loaded = super::policy::load(&self.args.policy)?;
        let index = super::scan::open_index(&super::db_dir(&self.args.db))?;
        let first = environments
            .first()
            .context("a scan job names no environment to gate for")?;
        let ask = |env| super::gate::Ask {
            env,
            manifest: &[],
            compare: None,
            base_catalogue: None,
            catalogers: &self.args.catalogers.selection,
            index: &index,
            source: &self.args.source,
        };
        let walked = super::gate::walk(&ask(first), reference, &loaded, &self.global).await?;
        let scan = super::gate::record_scan(&walked, &index, &self.global).await?;
        let gatekeeper = Gatekeeper {
            policy: &loaded.policy,
            config: &loaded.config,
            exceptions: &loaded.exceptions,
        };
        let mut verdicts = serde_json::Map::new();
        let mut digest = String::new();
        for env in environments {
            let assessed =
                super::gate::assess_walked(&ask(env), &walked, reference, &loaded, &self.global)
                    .await?;
            let record = gatekeeper.evaluate(&assessed.input, reference)?;
            super::gate::record_decision(
                &record,
                &assessed,
                &self.args.policy,
                &loaded,
                &self.global,
            )
            .await?;
            digest = record.digest.clone();
            verdicts.insert(env.clone(), serde_json::json!(record.verdict));
        }
        Ok(serde_json::json!({
            "reference": reference,
            "digest": digest,
            "scan": scan,
            "verdicts": verdicts,
        }))
    }

    /// Whether `image` (pinned) may run in `environment`.
    async fn check(&self, image: &str, environment: &str) -> anyhow::Result<Admit> {
        let deny = |reasons: Vec<String>| Admit {
            allowed: false,
            reasons,
            warnings: Vec::new(),
        };
        // The configuration alone: no Rego bundle is compiled per review.
        let config = super::policy::config(&self.args.policy)?;
        let env = config.environment(environment)?;
        let trusts = super::policy::trusted(env)?;
        if trusts.is_empty() {
            return Ok(deny(vec![format!(
                "environment {environment} trusts no signer (keys or identities in customs.toml)"
            )]));
        }
        let (_, target, _) = super::open(image, &self.args.source)?;
        let Target::Image(customs_oci::AnySource::Registry(registry)) = target else {
            anyhow::bail!("{image} is not a registry image");
        };
        let digest: Digest = registry
            .reference()
            .digest()
            .cloned()
            .context("the image to admit has no digest")?;
        let found = customs_pipeline::signatures::read_all(&registry, &digest).await?;
        let trusted: Vec<customs_pipeline::gate::Trusted<'_>> =
            trusts.iter().map(super::keys::Trust::trusted).collect();
        let signatures = customs_pipeline::gate::check_signatures(
            &found.signatures,
            &registry,
            &digest,
            &trusted,
        );
        if signatures.verified.is_empty() {
            return Ok(deny(vec![format!(
                "not signed by a trusted signer: {}",
                signatures.outcome
            )]));
        }
        let store = super::ledger::open_store(&self.global).await?;
        if let Some(block) = store.block_of(&digest, &customs_store::now()).await? {
            return Ok(deny(vec![format!("blocked: {}", block.reason)]));
        }
        let mut record = store
            .latest_record(&digest, "gate", Some(environment))
            .await?;
        if record.is_none() && self.gate_on_admission {
            self.scan_and_gate(image, &[environment.to_owned()]).await?;
            record = store
                .latest_record(&digest, "gate", Some(environment))
                .await?;
        }
        let Some(record) = record else {
            return Ok(deny(vec![format!(
                "no gate decision for {environment}: gate it first (customs gate {image} --env {environment})"
            )]));
        };
        let Some((decision, _)) = super::gate::read_decision(&store, &record).await? else {
            anyhow::bail!(
                "the gate record {} of {digest} has no readable decision",
                record.digest
            );
        };
        let reasons: Vec<String> = decision
            .reasons
            .iter()
            .filter(|r| r.counts())
            .map(|r| format!("{}: {}", r.rule, r.message))
            .collect();
        let signed_by: Vec<String> = signatures
            .verified
            .iter()
            .map(|s| s.signer.clone())
            .collect();
        Ok(match decision.verdict {
            Verdict::Deny => deny(
                std::iter::once(format!("gate decision of {}: deny", decision.evaluated_at))
                    .chain(reasons)
                    .collect(),
            ),
            Verdict::Warn => Admit {
                allowed: true,
                reasons: vec![format!("signed by {}; gate: warn", signed_by.join(", "))],
                warnings: reasons,
            },
            Verdict::Pass => Admit {
                allowed: true,
                reasons: vec![format!("signed by {}; gate: pass", signed_by.join(", "))],
                warnings: Vec::new(),
            },
        })
    }

    /// The exceptions expiring within `days` days, or expired.
    fn expiring_exceptions(&self, days: i64) -> anyhow::Result<Vec<serde_json::Value>> {
        // The exceptions alone: no Rego bundle is compiled for a page.
        if super::policy::config(&self.args.policy)?
            .exceptions
            .is_empty()
        {
            return Ok(Vec::new());
        }
        let (exceptions, now) = super::exceptions::load(&[], &self.args.policy)?;
        let today = now.div_euclid(86_400);
        Ok(exceptions
            .entries
            .iter()
            .filter_map(|e| {
                let (status, state) = super::exceptions::state(e, today, days);
                (status != customs_policy::exceptions::Status::Active).then(|| {
                    serde_json::json!({
                        "id": e.id,
                        "waives": super::exceptions::waives(e),
                        "scope": super::exceptions::scope(e),
                        "owner": e.owner.clone().unwrap_or_else(|| "-".to_owned()),
                        "state": state,
                    })
                })
            })
            .collect())
    }

    /// Imports the files dropped in the drop folder (moving each to
    /// `imported/`), and runs `db update` when asked.
    async fn refresh_database(&self) -> anyhow::Result<Option<String>> {
        let dir = super::db_dir(&self.args.db);
        let mut changes = Vec::new();
        if let Some(drop) = &self.args.advisories_drop {
            let mut files: Vec<PathBuf> = fs_err::read_dir(drop)?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect();
            files.sort();
            if !files.is_empty() {
                let sources: Vec<_> = files
                    .iter()
                    .map(|p| customs_vuln::index::ImportSource::path(p))
                    .collect();
                let summary = tokio::task::block_in_place(|| {
                    customs_vuln::import(&dir, &sources, customs_sbom::timestamp())
                })
                .with_context(|| format!("importing the files dropped in {}", drop.display()))?;
                let done = drop.join("imported");
                fs_err::create_dir_all(&done)?;
                for file in &files {
                    if let Some(name) = file.file_name() {
                        fs_err::rename(file, done.join(name))?;
                    }
                }
                changes.push(format!("imported {} file(s): {summary:?}", files.len()));
            }
        }
        if self.args.db_update {
            let summary = super::db::download_and_import(&dir, None, &[], 60, &self.global).await?;
            changes.push(format!("updated from osv.dev: {summary:?}"));
        }
        Ok((!changes.is_empty()).then(|| changes.join("; ")))
    }
}

/// The engine as the server holds it.
struct Shared(Arc<CliEngine>);

impl Engine for Shared {
    fn scan<'a>(
        &'a self,
        reference: &'a str,
        environments: &'a [String],
    ) -> BoxFuture<'a, anyhow::Result<serde_json::Value>> {
        let this = self.0.clone();
        let (reference, environments) = (reference.to_owned(), environments.to_vec());
        Box::pin(async move {
            customs_server::on_blocking(move || async move {
                this.scan_and_gate(&reference, &environments).await
            })
            .await?
        })
    }

    fn refresh(&self) -> BoxFuture<'_, anyhow::Result<Option<String>>> {
        let this = self.0.clone();
        Box::pin(async move {
            customs_server::on_blocking(move || async move { this.refresh_database().await })
                .await?
        })
    }

    fn expiring(&self, days: i64) -> BoxFuture<'_, anyhow::Result<Vec<serde_json::Value>>> {
        Box::pin(async move { self.0.expiring_exceptions(days) })
    }

    fn resolve<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, anyhow::Result<Digest>> {
        Box::pin(async move {
            // What the tag names: an index's digest for a multi-platform
            // image (what is signed and what a pinned reference names).
            let (_, image) = super::open_image(reference, &self.0.args.source).await?;
            Ok(image.resolved_digest().clone())
        })
    }

    fn admit<'a>(
        &'a self,
        image: &'a str,
        environment: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Admit>> {
        let this = self.0.clone();
        let (image, environment) = (image.to_owned(), environment.to_owned());
        Box::pin(async move {
            customs_server::on_blocking(
                move || async move { this.check(&image, &environment).await },
            )
            .await?
        })
    }
}

fn server_config(args: &EngineArgs) -> anyhow::Result<Config> {
    let mut config = Config {
        push_environments: args.push_environments.clone(),
        db_dir: super::db_dir(&args.db),
        ..Config::default()
    };
    config.worker.workers = args.workers;
    config.worker.lease = Duration::from_secs(args.lease.max(5));
    config.worker.rescan_every = args.rescan_every.as_deref().map(duration).transpose()?;
    config.worker.notify_url.clone_from(&args.notify_url);
    if let Some(url) = &args.notify_url {
        anyhow::ensure!(
            url.starts_with("https://") || url.starts_with("http://"),
            "--notify-url {url}: not an http(s) URL"
        );
    }
    if let Some(drop) = &args.advisories_drop {
        anyhow::ensure!(
            drop.is_dir(),
            "--advisories-drop {}: not a folder",
            drop.display()
        );
    }
    // Every environment named must exist in the policy configuration.
    let loaded = super::policy::load(&args.policy)?;
    for env in &args.push_environments {
        loaded.config.environment(env)?;
    }
    Ok(config)
}

fn engine(args: &EngineArgs, global: &GlobalArgs, gate_on_admission: bool) -> Arc<dyn Engine> {
    let mut global = global.clone();
    global.quiet = true;
    Arc::new(Shared(Arc::new(CliEngine {
        args: args.clone(),
        global,
        gate_on_admission,
    })))
}

/// Ctrl-C or SIGTERM (how systemd and Kubernetes stop a process).
async fn shutdown_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

pub(crate) async fn serve(args: ServeArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let mut config = server_config(&args.engine)?;
    config.rate_limit = args.rate_limit;
    config.body_limit = usize::try_from(crate::render::parse_size(&args.max_body)?)?;
    config.admission.fail_open = args.admission_fail_open;
    config.public_dashboard = args.public_dashboard;
    config.secure_cookies = args.tls_cert.is_some();
    config.admission.cache_ttl = Duration::from_secs(args.admission_cache);
    config
        .admission
        .default_environment
        .clone_from(&args.default_env);
    config.admission.exempt.clone_from(&args.exempt_namespaces);
    for rule in &args.namespace_env {
        let (pattern, env) = rule
            .split_once('=')
            .with_context(|| format!("--namespace-env {rule}: write PATTERN=ENV"))?;
        config
            .admission
            .namespaces
            .push((pattern.to_owned(), env.to_owned()));
    }
    let store = super::ledger::open_store(global).await?;
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => Some(customs_server::TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    let listener = tokio::net::TcpListener::bind(&args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let address = listener.local_addr()?;
    let logger = Logger::stderr();
    logger.log(
        "info",
        "listening",
        serde_json::json!({
            "address": format!("{}://{address}", if tls.is_some() { "https" } else { "http" }),
            "store": store.location(),
            "workers": config.worker.workers,
        }),
    );
    let state = State::new(
        store,
        engine(&args.engine, global, args.gate_on_admission),
        config,
        logger,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = customs_server::run_workers(&state, &stopped);
    let router = customs_server::router(&state);
    customs_server::serve(listener, tls.as_ref(), router, shutdown_signal()).await?;
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn worker(args: WorkerArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let config = server_config(&args.engine)?;
    anyhow::ensure!(
        config.worker.workers > 0,
        "--workers 0: a worker with no workers does nothing"
    );
    let store = super::ledger::open_store(global).await?;
    let logger = Logger::stderr();
    logger.log(
        "info",
        "working",
        serde_json::json!({"store": store.location(), "workers": config.worker.workers}),
    );
    let state = State::new(store, engine(&args.engine, global, false), config, logger);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let workers = customs_server::run_workers(&state, &stopped);
    shutdown_signal().await;
    let _ = stop.send(true);
    for worker in workers {
        let _ = worker.await;
    }
    Ok(ExitStatus::Success)
}

pub(crate) async fn token(
    command: TokenCommand,
    global: &GlobalArgs,
) -> anyhow::Result<ExitStatus> {
    let store = super::ledger::open_store(global).await?;
    match command {
        TokenCommand::Create(TokenCreateArgs { scope, env, name }) => {
            let scope = Scope::parse(&scope).map_err(anyhow::Error::msg)?;
            anyhow::ensure!(
                !name.trim().is_empty() && name.len() <= 100,
                "--name must be 1 to 100 characters"
            );
            let (token, hash) = customs_server::new_token();
            let row = store
                .create_token(&name, &hash, scope.name(), env.as_deref())
                .await?;
            super::warn_info(&format!(
                "token {}#{} ({}{}) created; it is shown once, below",
                row.name,
                row.id,
                row.scope,
                row.environment
                    .as_deref()
                    .map_or_else(String::new, |e| format!(", {e} only"))
            ));
            crate::render::text(&token)?;
        }
        TokenCommand::List(args) => {
            let tokens = store.tokens().await?;
            match args.output {
                Format::Json => crate::render::json(&tokens)?,
                Format::Table => {
                    let rows: Vec<Vec<String>> = tokens
                        .iter()
                        .map(|t| {
                            vec![
                                t.id.to_string(),
                                t.name.clone(),
                                t.scope.clone(),
                                t.environment.clone().unwrap_or_else(|| "*".to_owned()),
                                t.created_at.clone(),
                                t.created_by.clone(),
                                t.revoked_at.clone().unwrap_or_else(|| "-".to_owned()),
                            ]
                        })
                        .collect();
                    crate::render::text(
                        customs_report::columns::render(
                            &["ID", "NAME", "SCOPE", "ENV", "CREATED", "BY", "REVOKED"],
                            &rows,
                        )
                        .trim_end(),
                    )?;
                }
            }
        }
        TokenCommand::Revoke(args) => {
            anyhow::ensure!(
                store.revoke_token(args.id).await?,
                "there is no unrevoked token {}",
                args.id
            );
            super::warn_info(&format!(
                "token {} revoked (servers stop accepting it within 5 seconds)",
                args.id
            ));
        }
    }
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration("90s").unwrap(), Duration::from_secs(90));
        assert_eq!(duration("6h").unwrap(), Duration::from_secs(21_600));
        assert_eq!(duration("1d").unwrap(), Duration::from_secs(86_400));
        for bad in ["", "h", "0m", "5", "-1h", "1w"] {
            assert!(duration(bad).is_err(), "{bad}");
        }
    }
}
