//! Policy evaluation time alone, for `scripts/bench-gate`: loads the
//! built-in bundle once, then decides a saved input document (`INPUT`,
//! from `customs gate … --input-only`) `RUNS` times (default 50) and prints
//! the median and the slowest time per evaluation, and the bundle's load
//! time. Run with `INPUT=input.json cargo bench -p customs-policy --bench evaluate`.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::cast_precision_loss)]

use std::time::Instant;

use customs_policy::{Exceptions, Gatekeeper, Policy, PolicyConfig, PolicyInput};

fn main() {
    let runs: usize = std::env::var("RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(50);
    let path = std::env::var("INPUT").expect("INPUT=policy-input.json");
    let input: PolicyInput = serde_json::from_slice(&fs_err::read(&path).unwrap()).unwrap();
    let load = Instant::now();
    let policy = Policy::builtin().unwrap();
    let load = load.elapsed();
    let config = PolicyConfig::builtin();
    let exceptions = Exceptions::default();
    let gate = Gatekeeper {
        policy: &policy,
        config: &config,
        exceptions: &exceptions,
    };
    let mut times = Vec::with_capacity(runs);
    let mut verdict = None;
    for _ in 0..runs {
        let t = Instant::now();
        let record = gate.evaluate(&input, "bench").unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        verdict = Some((record.verdict, record.reasons.len()));
    }
    times.sort_by(f64::total_cmp);
    let (verdict, reasons) = verdict.unwrap();
    println!(
        "policy evaluation of {path} ({} packages, {} findings): median {:.2} ms, max {:.2} ms over {runs} runs; bundle load {:.2} ms; verdict {} with {reasons} reasons",
        input.sbom.packages.len(),
        input.vulnerabilities.len(),
        times[times.len() / 2],
        times[times.len() - 1],
        load.as_secs_f64() * 1000.0,
        verdict.as_str()
    );
}
