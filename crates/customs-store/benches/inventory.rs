//! Inventory queries on a synthetic fleet (issue 12): FLEET images (10,000
//! by default) of 500 packages each — 300 Debian packages from one of 12
//! base releases, 200 npm and PyPI packages from a shared pool — 3,000
//! services deployed across three environments. Times `who-has` (a package
//! every image has, a rare one, with --deployed), `where`, and `affected`
//! for one advisory, on SQLite and on a PostgreSQL server started here;
//! prints the store's size per image.
//!
//!   cargo bench -p customs-store --bench inventory
//!   FLEET=2000 INVENTORY_DIR=/tmp/fleet cargo bench -p customs-store --bench inventory
//!   INVENTORY_PG_URL=postgres://… keeps the PostgreSQL fleet on that server.
#![allow(clippy::unwrap_used, clippy::print_stdout, clippy::print_stderr)]

use std::time::{Duration, Instant};

use customs_sbom::{Distro, Package, PackageType, Sbom};
use customs_store::{NewDeployment, PackageFilter, Seen, Store};
use customs_types::Digest;

const PACKAGES_PER_IMAGE: usize = 500;
const RUNS: usize = 21;

fn deb(name: &str, version: &str) -> Package {
    Package::new(
        PackageType::Deb,
        name,
        version,
        format!("pkg:deb/debian/{name}@{version}?arch=amd64&distro=debian-12"),
        "dpkg-db-cataloger",
        "var/lib/dpkg/status",
    )
}

fn npm(name: &str, version: &str) -> Package {
    Package::new(
        PackageType::Npm,
        name,
        version,
        format!("pkg:npm/{name}@{version}"),
        "javascript-package-cataloger",
        "app/node_modules/x/package.json",
    )
}

fn python(name: &str, version: &str) -> Package {
    Package::new(
        PackageType::Python,
        name,
        version,
        format!("pkg:pypi/{name}@{version}"),
        "python-package-cataloger",
        "usr/lib/python3/dist-packages/x/METADATA",
    )
}

/// Image `n` of the fleet: a base release (its 300 Debian packages, the
/// n-th release bumping a few versions) and 200 language packages.
fn sbom_of(n: usize) -> Sbom {
    let base = n % 12;
    let mut packages = Vec::with_capacity(PACKAGES_PER_IMAGE);
    for p in 0..299 {
        let bump = if p % 25 == base { 2 } else { 1 };
        packages.push(deb(&format!("lib{p}"), &format!("1.{p}-{bump}")));
    }
    // openssl: half the bases carry the vulnerable build.
    let openssl = if base < 6 {
        "3.0.11-1~deb12u1"
    } else {
        "3.0.11-1~deb12u2"
    };
    packages.push(deb("openssl", openssl));
    for p in 0..200 {
        let pick = (n * 7 + p * 13) % 4000;
        let version = format!("{}.{}.{}", 1 + pick % 5, p % 10, n % 3);
        if p % 2 == 0 {
            packages.push(npm(&format!("npm-lib-{pick}"), &version));
        } else {
            packages.push(python(&format!("py-lib-{pick}"), &version));
        }
    }
    // One rare package: in one image of a hundred.
    if n.is_multiple_of(100) {
        packages.push(npm("left-pad", "1.3.0"));
    }
    Sbom {
        distro: Some(Distro {
            id: "debian".to_owned(),
            version_id: Some("12".to_owned()),
            ..Distro::default()
        }),
        packages,
        ..Sbom::default()
    }
}

fn digest(n: usize) -> Digest {
    Digest::sha256(format!("image-{n}").as_bytes())
}

async fn fill(store: &Store, fleet: usize) -> Duration {
    let started = Instant::now();
    for n in 0..fleet {
        let seen = Seen {
            digest: digest(n),
            name: format!("registry.example/team-{}/svc-{n}:1.{n}", n % 40),
            tags: vec![format!("registry.example/team-{}/svc-{n}:1.{n}", n % 40)],
        };
        store.record_sbom(&seen, &sbom_of(n)).await.unwrap();
        if n % 1000 == 999 {
            eprintln!("  {} images stored in {:.0?}", n + 1, started.elapsed());
        }
    }
    let services = 3000.min(fleet);
    for s in 0..services {
        for (e, environment) in ["dev", "staging", "prod"].iter().enumerate() {
            // Each environment runs a slightly older build of the service.
            let n = (s + e * 997) % fleet;
            store
                .record_deployment(&NewDeployment {
                    environment: (*environment).to_owned(),
                    service: format!("svc-{s}"),
                    cluster: format!("cluster-{}", s % 4),
                    namespace: format!("team-{}", s % 40),
                    image: Seen::digest(digest(n)),
                    reference: format!("registry.example/svc-{s}@{}", digest(n)),
                    source: "bench".to_owned(),
                })
                .await
                .unwrap();
        }
    }
    started.elapsed()
}

/// Median and worst of RUNS timed calls, in milliseconds.
async fn time<F, Fut, T>(f: F) -> (f64, f64, T)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let started = Instant::now();
        last = Some(f().await);
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    (times[RUNS / 2], times[RUNS - 1], last.unwrap())
}

async fn bench(name: &str, store: &Store, fleet: usize, index: &customs_vuln::VulnIndex) {
    let (_, stored) = store.size().await.unwrap();
    if stored as usize >= fleet {
        println!("{name}: reusing the {stored} images stored by an earlier run");
    } else {
        eprintln!("{name}: storing {fleet} images × {PACKAGES_PER_IMAGE} packages");
        let took = fill(store, fleet).await;
        println!(
            "{name}: {fleet} images stored in {:.1} s ({:.1} ms per image)",
            took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / fleet as f64,
        );
    }
    let (bytes, images) = store.size().await.unwrap();
    println!(
        "{name}: store {:.1} MB for {images} images: {:.1} kB per image",
        bytes as f64 / 1e6,
        bytes as f64 / 1e3 / images.max(1) as f64
    );
    let common = PackageFilter::parse("openssl", None).unwrap();
    let (m, w, r) = time(|| store.who_has(&common, false, None)).await;
    println!(
        "{name}: who-has openssl (in every image): median {m:.1} ms, worst {w:.1} ms, {} images (goal < 50 ms)",
        r.unwrap().len()
    );
    let vulnerable = PackageFilter::parse("openssl@<3.0.11-1~deb12u2", Some("deb")).unwrap();
    let (m, w, r) = time(|| store.who_has(&vulnerable, true, Some("prod"))).await;
    println!(
        "{name}: who-has openssl@<3.0.11-1~deb12u2 --deployed --env prod: median {m:.1} ms, worst {w:.1} ms, {} images (goal < 50 ms)",
        r.unwrap().len()
    );
    let rare = PackageFilter::parse("left-pad", None).unwrap();
    let (m, w, r) = time(|| store.who_has(&rare, true, None)).await;
    println!(
        "{name}: who-has left-pad --deployed (1 image in 100): median {m:.1} ms, worst {w:.1} ms, {} images (goal < 50 ms)",
        r.unwrap().len()
    );
    let target = digest(1234 % fleet);
    let (m, w, r) = time(|| store.deployments_of(&target)).await;
    println!(
        "{name}: where DIGEST: median {m:.2} ms, worst {w:.2} ms, {} deployments (goal < 50 ms)",
        r.unwrap().len()
    );
    let (m, w, r) = time(|| store.affected(index, "CVE-2099-0001", None)).await;
    let r = r.unwrap();
    println!(
        "{name}: affected CVE-2099-0001 over the fleet: median {m:.1} ms, worst {w:.1} ms, {} images, {} of them deployed (goal < 1 s)",
        r.images.len(),
        r.images
            .iter()
            .filter(|i| !i.deployments.is_empty())
            .count()
    );
}

fn main() {
    let fleet: usize = std::env::var("FLEET")
        .ok()
        .and_then(|f| f.parse().ok())
        .unwrap_or(10_000);
    let advisories = tempfile::tempdir().unwrap();
    customs_test::write_debian_advisory(
        advisories.path(),
        "DSA-9999-1",
        "CVE-2099-0001",
        "openssl",
        "3.0.11-1~deb12u2",
    );
    let db = tempfile::tempdir().unwrap();
    customs_vuln::import(
        db.path(),
        &[customs_vuln::ImportSource::path(advisories.path())],
        1,
    )
    .unwrap();
    let index = customs_vuln::VulnIndex::open(db.path()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // INVENTORY_DIR keeps the SQLite fleet between runs (filling it
        // takes minutes).
        let temporary = tempfile::tempdir().unwrap();
        let dir = std::env::var_os("INVENTORY_DIR")
            .map_or_else(|| temporary.path().to_path_buf(), std::path::PathBuf::from);
        let sqlite = Store::open(dir.join(format!("fleet-{fleet}.db")).to_str().unwrap())
            .await
            .unwrap();
        bench("SQLite", &sqlite, fleet, &index).await;
        sqlite.close().await;
        // INVENTORY_PG_URL: a server of the caller's (scripts/bench-server
        // keeps its fleet there); else one started here, for this run.
        let server = std::env::var("INVENTORY_PG_URL")
            .is_err()
            .then(customs_test::postgres::Postgres::start);
        let url = server.as_ref().map_or_else(
            || std::env::var("INVENTORY_PG_URL").unwrap_or_default(),
            customs_test::postgres::Postgres::database,
        );
        let postgres = Store::open(&url).await.unwrap();
        bench("PostgreSQL", &postgres, fleet, &index).await;
        postgres.close().await;
    });
}
