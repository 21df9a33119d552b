//! The worker pool and the scheduler. Work is a queue in the store: any
//! number of `customs serve` and `customs worker` processes on one
//! PostgreSQL server share it; each job is leased to one worker, its
//! lease renewed while it works, and a job whose worker died is taken
//! again when the lease runs out.

use std::sync::Arc;
use std::time::Duration;

use customs_store::{Job, StoreError};
use serde_json::{Value, json};

use crate::State;

/// The workers and scheduler of one process.
#[derive(Debug, Clone)]
pub struct WorkerConfig {
    /// Workers in this process (0: none, the API only).
    pub workers: usize,
    /// This process's name in leases (`host-pid`).
    pub name: String,
    /// How long a claimed job is leased before another worker may take
    /// it; renewed every third of it while the job runs.
    pub lease: Duration,
    /// Attempts before a job fails for good.
    pub max_attempts: i64,
    /// Wait before a failed job is tried again.
    pub retry_after: Duration,
    /// How often an idle worker looks at the queue (a job queued by this
    /// process wakes it at once).
    pub poll: Duration,
    /// Queue an advisory update and rescan this often.
    pub rescan_every: Option<Duration>,
    /// Where to POST (Slack-compatible JSON) when a rescan finds a new
    /// critical or high finding in a deployed digest.
    pub notify_url: Option<String>,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            workers: 2,
            name: format!("customs-{}", std::process::id()),
            lease: Duration::from_secs(300),
            max_attempts: 3,
            retry_after: Duration::from_secs(30),
            poll: Duration::from_secs(2),
            rescan_every: None,
            notify_url: None,
        }
    }
}

/// Queues a scan and gate of `reference` (pinned to a digest) for
/// `environments`: the job, and whether it is new.
pub(crate) async fn queue_scan(
    state: &Arc<State>,
    reference: &str,
    environments: &[String],
    by: &str,
) -> Result<(Job, bool), StoreError> {
    let (job, new) = state
        .store
        .clone()
        .with_actor(by)
        .enqueue(
            "scan",
            reference,
            &json!({"reference": reference, "environments": environments}),
        )
        .await?;
    state.queued.notify_waiters();
    Ok((job, new))
}

/// Queues an advisory update and rescan of the deployed digests.
pub(crate) async fn queue_rescan(state: &Arc<State>, by: &str) -> Result<Job, StoreError> {
    let (job, _) = state
        .store
        .clone()
        .with_actor(by)
        .enqueue("rescan", "deployed", &json!({"deployed": true}))
        .await?;
    state.queued.notify_waiters();
    Ok(job)
}

/// Starts this process's workers and scheduler; they stop taking work
/// when `stop` turns true (a job in hand is finished first).
pub fn run_workers(
    state: &Arc<State>,
    stop: &tokio::sync::watch::Receiver<bool>,
) -> Vec<tokio::task::JoinHandle<()>> {
    let config = &state.config.worker;
    let mut tasks = Vec::new();
    for n in 0..config.workers {
        let state = state.clone();
        let stop = stop.clone();
        let name = format!("{}-{n}", config.name);
        tasks.push(tokio::spawn(async move { work(state, name, stop).await }));
    }
    if let Some(every) = config.rescan_every {
        let state = state.clone();
        let mut stop = stop.clone();
        tasks.push(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.changed() => return,
                }
                if *stop.borrow() {
                    return;
                }
                if let Err(e) = queue_rescan(&state, "scheduler").await {
                    state.logger.log(
                        "error",
                        "cannot queue the scheduled rescan",
                        json!({"error": e.to_string()}),
                    );
                }
            }
        }));
    }
    tasks
}

async fn work(state: Arc<State>, name: String, mut stop: tokio::sync::watch::Receiver<bool>) {
    let config = state.config.worker.clone();
    loop {
        if *stop.borrow() {
            return;
        }
        let job = match state
            .store
            .claim(&name, config.lease.as_secs(), config.max_attempts)
            .await
        {
            Ok(job) => job,
            Err(e) => {
                state.logger.log(
                    "error",
                    "cannot read the queue",
                    json!({"worker": name, "error": e.to_string()}),
                );
                None
            }
        };
        let Some(job) = job else {
            tokio::select! {
                () = state.queued.notified() => {}
                () = tokio::time::sleep(config.poll) => {}
                _ = stop.changed() => {}
            }
            continue;
        };
        run_one(&state, &name, &job).await;
    }
}

/// Runs one claimed job, renewing its lease meanwhile, and records the
/// outcome (only while this worker still holds the job).
async fn run_one(state: &Arc<State>, worker: &str, job: &Job) {
    let config = &state.config.worker;
    let started = std::time::Instant::now();
    state.logger.log(
        "info",
        "job started",
        json!({"worker": worker, "job": job.id, "kind": job.kind, "subject": job.subject, "attempt": job.attempts}),
    );
    let renew_every = (config.lease / 3).max(Duration::from_millis(100));
    let heartbeat = async {
        loop {
            tokio::time::sleep(renew_every).await;
            match state
                .store
                .renew(job.id, worker, config.lease.as_secs())
                .await
            {
                Ok(true) => {}
                Ok(false) => return "lost its lease to another worker",
                Err(_) => {}
            }
        }
    };
    let outcome = tokio::select! {
        outcome = execute(state, job) => outcome,
        why = heartbeat => Err(anyhow::anyhow!("{why}")),
    };
    let error = outcome.as_ref().err().map(|e| format!("{e:#}"));
    // Done, or back to the queue after a wait (failed for good after the
    // last attempt).
    let (result, retry_after) = match &outcome {
        Ok(result) => (Ok(result), 0),
        Err(_) => (
            Err(error.as_deref().unwrap_or_default()),
            config.retry_after.as_secs(),
        ),
    };
    let finished = state
        .store
        .finish(job.id, worker, result, config.max_attempts, retry_after)
        .await;
    state
        .metrics
        .count("jobs", if outcome.is_ok() { "done" } else { "failed" });
    state.logger.log(
        if outcome.is_ok() { "info" } else { "error" },
        "job finished",
        json!({
            "worker": worker, "job": job.id, "kind": job.kind, "subject": job.subject,
            "ms": started.elapsed().as_millis(), "error": error,
            "recorded": finished.as_ref().is_ok_and(|f| *f),
        }),
    );
}

async fn execute(state: &Arc<State>, job: &Job) -> anyhow::Result<Value> {
    match job.kind.as_str() {
        "scan" => {
            let reference = job.payload["reference"]
                .as_str()
                .ok_or_else(|| anyhow::anyhow!("job {}: no reference", job.id))?;
            let environments: Vec<String> = job.payload["environments"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|e| e.as_str().map(str::to_owned))
                        .collect()
                })
                .unwrap_or_default();
            state.engine.scan(reference, &environments).await
        }
        "rescan" => rescan(state).await,
        other => anyhow::bail!("job {}: unknown kind `{other}`", job.id),
    }
}

/// Updates the advisories, re-matches every deployed digest's stored
/// SBOM, records what is new, and notifies when a deployed digest gained
/// a critical or high finding.
async fn rescan(state: &Arc<State>) -> anyhow::Result<Value> {
    let refreshed = state.engine.refresh().await?;
    let dir = state.config.db_dir.clone();
    let store = state.store.clone();
    let results = crate::on_blocking(move || async move {
        let index = customs_vuln::VulnIndex::open(&dir)?;
        let digests = store.deployed_digests(None).await?;
        anyhow::Ok(customs_pipeline::ledger::rescan(&store, &index, &digests).await?)
    })
    .await??;
    let mut severe = Vec::new();
    for r in results.iter().filter(|r| !r.severe.is_empty()) {
        let digest = customs_types::Digest::parse(&r.digest)?;
        let running: Vec<String> = state
            .store
            .deployments_of(&digest)
            .await?
            .iter()
            .filter(|d| d.current())
            .map(|d| format!("{}/{}", d.environment, d.service))
            .collect();
        severe.push(json!({"digest": r.digest, "runs_as": running, "findings": r.severe}));
    }
    let notified = match (&state.config.worker.notify_url, severe.is_empty()) {
        (Some(url), false) => Some(notify(url, &severe).await.map_err(|e| format!("{e:#}"))),
        _ => None,
    };
    if let Some(Err(e)) = &notified {
        state.logger.log(
            "error",
            "the rescan notification failed",
            json!({"error": e}),
        );
    }
    Ok(json!({
        "refreshed": refreshed,
        "rescanned": results.iter().filter(|r| r.sbom).count(),
        "without_sbom": results.iter().filter(|r| !r.sbom).map(|r| r.digest.clone()).collect::<Vec<_>>(),
        "new": results.iter().map(|r| r.new.len()).sum::<usize>(),
        "severe": severe,
        "notified": notified.map(|n| n.is_ok()),
    }))
}

/// Posts Slack-compatible JSON (`text`, and the details under `customs`).
async fn notify(url: &str, severe: &[Value]) -> anyhow::Result<()> {
    let mut lines = vec![format!(
        ":rotating_light: customs: {} deployed image(s) gained critical or high findings",
        severe.len()
    )];
    for s in severe {
        let findings: Vec<&str> = s["findings"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let runs: Vec<&str> = s["runs_as"]
            .as_array()
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        lines.push(format!(
            "• {} ({}): {}",
            s["digest"].as_str().unwrap_or_default(),
            runs.join(", "),
            findings.join("; ")
        ));
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?;
    let response = client
        .post(url)
        .json(&json!({"text": lines.join("\n"), "customs": {"severe": severe}}))
        .send()
        .await?;
    anyhow::ensure!(
        response.status().is_success(),
        "the notification webhook answered {}",
        response.status()
    );
    Ok(())
}
