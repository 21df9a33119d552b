//! Index load and match times, printed (run by `scripts/bench-vuln`).
//!
//! `cargo bench -p customs-vuln --bench vuln -- DB_DIR [SBOM.json]…`
//!
//! Prints, for the index in `DB_DIR`: the time to open it and answer a
//! first lookup; for each SBOM given (customs native JSON): the time to
//! match it; and for a synthetic SBOM of 10,000 packages drawn from the
//! index itself (half Debian 12 source packages, half language packages,
//! all with versions low enough to hit ranges): the time to match it.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a benchmark program

use std::path::Path;
use std::time::{Duration, Instant};

use customs_sbom::{Distro, Package, PackageType, Sbom};
use customs_vuln::{VulnIndex, match_sbom};

const RUNS: usize = 5;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time_match(index: &VulnIndex, sbom: &Sbom) -> (Duration, usize) {
    let mut samples = Vec::new();
    let mut findings = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        let report = match_sbom(index, sbom).unwrap();
        samples.push(start.elapsed());
        findings = report.findings.len();
    }
    (median(samples), findings)
}

/// 10,000 packages named as the index names them.
fn synthetic(db: &Path) -> Sbom {
    let conn = rusqlite::Connection::open(db.join(customs_vuln::index::INDEX_FILE)).unwrap();
    let mut packages = Vec::new();
    let add = |packages: &mut Vec<Package>, sql: &str, make: &dyn Fn(&str, &str) -> Package| {
        let mut stmt = conn.prepare(sql).unwrap();
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))
            .unwrap();
        let limit = if packages.is_empty() {
            5_000
        } else {
            10_000 - packages.len()
        };
        for (ecosystem, name) in rows.map(Result::unwrap).take(limit) {
            packages.push(make(&ecosystem, &name));
        }
    };
    add(
        &mut packages,
        "SELECT DISTINCT ecosystem, name FROM handles WHERE ecosystem = 'Debian:12' ORDER BY name",
        &|_, name| {
            let mut p = Package::new(
                PackageType::Deb,
                &format!("lib{name}-bin"),
                "1.0-1",
                format!("pkg:deb/debian/{name}@1.0-1"),
                "bench",
                "/var/lib/dpkg/status",
            );
            p.source_name = Some(name.to_owned());
            p
        },
    );
    add(
        &mut packages,
        "SELECT DISTINCT ecosystem, name FROM handles WHERE ecosystem IN ('npm','PyPI','Go','Maven','crates.io','RubyGems','NuGet') ORDER BY random()",
        &|ecosystem, name| {
            let (kind, purl_type) = match ecosystem {
                "npm" => (PackageType::Npm, "npm"),
                "PyPI" => (PackageType::Python, "pypi"),
                "Go" => (PackageType::GoModule, "golang"),
                "Maven" => (PackageType::JavaArchive, "maven"),
                "crates.io" => (PackageType::RustCrate, "cargo"),
                "RubyGems" => (PackageType::Gem, "gem"),
                _ => (PackageType::Dotnet, "nuget"),
            };
            let version = if kind == PackageType::GoModule {
                "v0.1.0"
            } else {
                "0.1.0"
            };
            let purl = format!("pkg:{purl_type}/{}@{version}", name.replace(':', "/"));
            Package::new(kind, name, version, purl, "bench", "/app")
        },
    );
    Sbom {
        distro: Some(Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Distro::default()
        }),
        packages,
        ..Sbom::default()
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let Some(db) = args.first() else {
        println!("usage: cargo bench -p customs-vuln --bench vuln -- DB_DIR [SBOM.json]…");
        return;
    };
    let db = Path::new(db);
    let mut opens = Vec::new();
    for _ in 0..RUNS {
        let start = Instant::now();
        let index = VulnIndex::open(db).unwrap();
        let _ = index.lookup("Debian:12", "openssl").unwrap();
        opens.push(start.elapsed());
    }
    let index = VulnIndex::open(db).unwrap();
    println!(
        "index load (open + first lookup), median of {RUNS}: {:.1} ms   (goal < 50 ms)",
        median(opens).as_secs_f64() * 1e3
    );
    for path in &args[1..] {
        let sbom = customs_sbom::format::native::from_slice(&fs_err::read(path).unwrap()).unwrap();
        let (t, findings) = time_match(&index, &sbom);
        println!(
            "match {path}: {} packages, {findings} findings, median of {RUNS}: {:.1} ms  ({:.1} ms per 1,000 packages; goal < 100 ms)",
            sbom.packages.len(),
            t.as_secs_f64() * 1e3,
            t.as_secs_f64() * 1e6 / sbom.packages.len().max(1) as f64
        );
    }
    let sbom = synthetic(db);
    let (t, findings) = time_match(&index, &sbom);
    println!(
        "match synthetic: {} packages, {findings} findings, median of {RUNS}: {:.1} ms  ({:.1} ms per 1,000 packages; goal < 100 ms)",
        sbom.packages.len(),
        t.as_secs_f64() * 1e3,
        t.as_secs_f64() * 1e6 / sbom.packages.len() as f64
    );
}
