//! Every test runs on SQLite and on a real PostgreSQL server (Debian's
//! binaries, started per test on loopback).
#![allow(clippy::unwrap_used)]

use std::future::Future;

use customs_sbom::{Distro, Package, PackageType, Sbom};
use customs_test::postgres::Postgres;
use customs_types::Digest;

use super::*;

/// Runs `test` on a fresh SQLite file, then on a fresh PostgreSQL database.
async fn each_backend<F, Fut>(test: F)
where
    F: Fn(Store) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("sub/customs.db").to_str().unwrap())
        .await
        .unwrap()
        .with_actor("tester");
    assert_eq!(store.backend(), Backend::Sqlite);
    test(store.clone()).await;
    store.close().await;
    let server = Postgres::start();
    let store = Store::open(&server.database())
        .await
        .unwrap()
        .with_actor("tester");
    assert_eq!(store.backend(), Backend::Postgres);
    test(store.clone()).await;
    store.close().await;
}

fn digest(n: u8) -> Digest {
    Digest::sha256(&[n])
}

fn seen(n: u8, tag: &str) -> Seen {
    Seen {
        digest: digest(n),
        name: format!("registry.test:5000/shop/app:{tag}"),
        tags: vec![format!("registry.test:5000/shop/app:{tag}")],
    }
}

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

fn sbom(packages: Vec<Package>) -> Sbom {
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

fn deployment(environment: &str, service: &str, image: Seen) -> NewDeployment {
    NewDeployment {
        environment: environment.to_owned(),
        service: service.to_owned(),
        cluster: String::new(),
        namespace: String::new(),
        reference: image.name.clone(),
        image,
        source: "test".to_owned(),
    }
}

/// Release 1.0 with a vulnerable openssl and 1.1 with the fixed one, both
/// SBOMs stored.
async fn two_releases(store: &Store) -> (Seen, Seen) {
    let old = seen(1, "1.0");
    let new = seen(2, "1.1");
    for (image, version) in [(&old, "3.0.9-1"), (&new, "3.0.11-1~deb12u2")] {
        store
            .record_sbom(image, &sbom(vec![deb("openssl", version)]))
            .await
            .unwrap();
    }
    (old, new)
}

#[tokio::test(flavor = "multi_thread")]
async fn records_are_kept_and_the_sbom_stored_once() {
    each_backend(|store| async move {
        let image = seen(1, "1.0");
        let first = store
            .record(NewRecord {
                subject: image.clone(),
                kind: "scan".to_owned(),
                environment: None,
                summary: serde_json::json!({"line": "2 findings", "findings": 2}),
                document: Some(
                    Document::json(&serde_json::json!({"big": "x".repeat(10_000)}), "report")
                        .unwrap(),
                ),
            })
            .await
            .unwrap();
        let second = store
            .record(NewRecord {
                subject: image.clone(),
                kind: "scan".to_owned(),
                environment: None,
                summary: serde_json::json!({"line": "1 finding", "findings": 1}),
                document: None,
            })
            .await
            .unwrap();
        assert!(second.id > first.id);
        assert_ne!(first.digest, second.digest);
        let records = store.records(&image.digest, Some("scan")).await.unwrap();
        assert_eq!(records, vec![first.clone(), second]);
        // The document reads back whole (stored compressed: over 4 KiB).
        let bytes = store
            .document(first.document.as_deref().unwrap())
            .await
            .unwrap()
            .unwrap();
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .contains(&"x".repeat(10_000))
        );

        let packages = vec![deb("openssl", "3.0.9-1"), deb("bash", "5.2.15-2+b2")];
        assert!(
            store
                .record_sbom(&image, &sbom(packages.clone()))
                .await
                .unwrap()
        );
        // Stored once: a second SBOM of the same digest is not.
        assert!(
            !store
                .record_sbom(&image, &sbom(vec![deb("zlib", "1")]))
                .await
                .unwrap()
        );
        let stored = store.sbom(&image.digest).await.unwrap().unwrap();
        assert_eq!(stored.sbom.packages, packages);

        let history = store.history(&image.digest).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|h| h.kind.as_str()).collect();
        assert_eq!(kinds, ["tag", "scan", "scan", "sbom-stored"]);
        assert_eq!(history[0].what, "seen as registry.test:5000/shop/app:1.0");
        assert_eq!(history[1].what, "2 findings");
        assert_eq!(history[1].actor, "tester");

        // Found by tag, full digest and prefix; an unknown one is not.
        let prefix = &image.digest.hex()[..10];
        assert_eq!(
            store.resolve("shop/app:1.0").await.unwrap(),
            vec![image.digest.clone()]
        );
        assert_eq!(
            store.resolve(prefix).await.unwrap(),
            vec![image.digest.clone()]
        );
        assert_eq!(
            store.resolve(image.digest.as_str()).await.unwrap(),
            vec![image.digest.clone()]
        );
        assert!(store.resolve("shop/app:2.0").await.unwrap().is_empty());
        assert!(store.knows(&image.digest).await.unwrap());
        assert!(!store.knows(&digest(99)).await.unwrap());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deployments_blocks_and_inventory() {
    each_backend(|store| async move {
        let (old, new) = two_releases(&store).await;
        store
            .record_deployment(&deployment("prod", "shop", old.clone()))
            .await
            .unwrap();
        store
            .record_deployment(&deployment("staging", "shop", new.clone()))
            .await
            .unwrap();
        store
            .record_deployment(&deployment("prod", "shop", new.clone()))
            .await
            .unwrap();

        // `where`: the old digest ran in prod until the new one replaced it.
        let old_runs = store.deployments_of(&old.digest).await.unwrap();
        assert_eq!(old_runs.len(), 1);
        assert!(old_runs[0].until.is_some());
        let new_runs = store.deployments_of(&new.digest).await.unwrap();
        assert_eq!(new_runs.len(), 2);
        assert!(new_runs.iter().all(Deployment::current));
        let current = store.deployments(Some("prod"), false).await.unwrap();
        assert_eq!(current.len(), 1);
        assert_eq!(current[0].digest, new.digest.to_string());
        assert_eq!(store.deployments(None, true).await.unwrap().len(), 3);

        // who-has: by range in dpkg order, and only what runs.
        let filter = PackageFilter::parse("openssl@<3.0.11-1~deb12u2", Some("deb")).unwrap();
        let holders = store.who_has(&filter, false, None).await.unwrap();
        assert_eq!(holders.len(), 1);
        assert_eq!(holders[0].digest, old.digest.to_string());
        assert!(store.who_has(&filter, true, None).await.unwrap().is_empty());
        let any = PackageFilter::parse("openssl", None).unwrap();
        let running = store.who_has(&any, true, Some("staging")).await.unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].deployments[0].service, "shop");

        // Blocks: in force until lifted or past their day.
        let now = "2027-01-01T00:00:00Z";
        store
            .block(&old.digest, "CVE-2023-5678 exploited", Some("2027-06-30"))
            .await
            .unwrap();
        assert_eq!(
            store
                .block_of(&old.digest, now)
                .await
                .unwrap()
                .unwrap()
                .reason,
            "CVE-2023-5678 exploited"
        );
        assert!(
            store
                .block_of(&old.digest, "2027-07-01T00:00:00Z")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(store.blocks(now).await.unwrap().len(), 1);
        store.unblock(&old.digest, "rebuilt").await.unwrap();
        assert!(store.block_of(&old.digest, now).await.unwrap().is_none());
        assert!(store.blocks(now).await.unwrap().is_empty());
        let kinds: Vec<String> = store
            .history(&old.digest)
            .await
            .unwrap()
            .into_iter()
            .map(|h| h.kind)
            .collect();
        assert!(
            kinds.ends_with(&["block".to_owned(), "unblock".to_owned()]),
            "{kinds:?}"
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn affected_rematches_stored_packages() {
    let advisories = tempfile::tempdir().unwrap();
    customs_test::write_debian_advisory(
        advisories.path(),
        "DSA-0001-1",
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
    let db = db.path().to_path_buf();
    each_backend(|store| {
        let db = db.clone();
        async move {
            let index = customs_vuln::VulnIndex::open(&db).unwrap();
            let (old, _fixed) = two_releases(&store).await;
            let other = seen(3, "1.2");
            store
                .record_sbom(
                    &other,
                    &sbom(vec![deb("openssl", "3.0.8-1"), deb("bash", "5")]),
                )
                .await
                .unwrap();
            store
                .record_deployment(&deployment("prod", "shop", old.clone()))
                .await
                .unwrap();
            let affected = store.affected(&index, "CVE-2099-0001", None).await.unwrap();
            assert!(affected.known);
            assert_eq!(affected.advisories, ["DSA-0001-1"]);
            let digests: Vec<&str> = affected.images.iter().map(|i| i.digest.as_str()).collect();
            // Deployed first, then by digest; the fixed build is not there.
            assert_eq!(digests[0], old.digest.as_str());
            assert_eq!(digests.len(), 2);
            assert!(digests.contains(&other.digest.as_str()));
            assert_eq!(
                affected.images[0].fixed.as_deref(),
                Some("3.0.11-1~deb12u2")
            );
            assert_eq!(affected.images[0].deployments[0].environment, "prod");
            let in_prod = store
                .affected(&index, "DSA-0001-1", Some("prod"))
                .await
                .unwrap();
            assert_eq!(in_prod.images.len(), 1);
            let unknown = store.affected(&index, "CVE-1900-0001", None).await.unwrap();
            assert!(!unknown.known && unknown.images.is_empty());
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_writers_lose_nothing() {
    each_backend(|store| async move {
        let mut tasks = Vec::new();
        for writer in 0..4u8 {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                for n in 0..20u8 {
                    let image = seen(writer * 50 + n, "x");
                    // Overlapping package sets: the same rows race.
                    let packages = (0..30)
                        .map(|p| deb(&format!("pkg{p}"), &format!("{}", (p + n) % 7)))
                        .collect();
                    store.record_sbom(&image, &sbom(packages)).await.unwrap();
                    store
                        .record(NewRecord {
                            subject: image,
                            kind: "scan".to_owned(),
                            environment: None,
                            summary: serde_json::json!({"n": n}),
                            document: None,
                        })
                        .await
                        .unwrap();
                }
            }));
        }
        for task in tasks {
            task.await.unwrap();
        }
        let (_, images) = store.size().await.unwrap();
        assert_eq!(images, 80);
        for writer in 0..4u8 {
            for n in 0..20u8 {
                let image = seen(writer * 50 + n, "x");
                assert_eq!(store.records(&image.digest, None).await.unwrap().len(), 1);
                assert_eq!(
                    store
                        .sbom(&image.digest)
                        .await
                        .unwrap()
                        .unwrap()
                        .sbom
                        .packages
                        .len(),
                    30
                );
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_newer_schema_is_refused_before_anything_is_written() {
    each_backend(|store| async move {
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) VALUES (99, 'from the future', TRUE, $1, 0)",
        )
        .bind(vec![0u8; 48])
        .execute(&store.pool)
        .await
        .unwrap();
        let url = match store.backend() {
            Backend::Sqlite => {
                let file: String = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                    .fetch_one(&store.pool)
                    .await
                    .unwrap();
                file
            }
            Backend::Postgres => {
                let db: String = sqlx::query_scalar("SELECT CAST(current_database() AS TEXT)").fetch_one(&store.pool).await.unwrap();
                let port: String = sqlx::query_scalar("SELECT current_setting('port')").fetch_one(&store.pool).await.unwrap();
                format!("postgres://postgres@127.0.0.1:{port}/{db}")
            }
        };
        let error = Store::open(&url).await.unwrap_err();
        assert!(matches!(error, StoreError::NewerSchema { found: 99, known: SCHEMA_VERSION, .. }), "{error}");
        assert!(error.to_string().contains("upgrade customs"), "{error}");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn damaged_documents_and_unreachable_servers_are_errors() {
    each_backend(|store| async move {
        let record = store
            .record(NewRecord {
                subject: seen(1, "1"),
                kind: "gate".to_owned(),
                environment: Some("prod".to_owned()),
                summary: serde_json::json!({}),
                document: Some(
                    Document::json(&serde_json::json!({"verdict": "pass"}), "decision").unwrap(),
                ),
            })
            .await
            .unwrap();
        let digest = record.document.unwrap();
        // Tampered with behind customs's back.
        sqlx::query("UPDATE documents SET content = $1 WHERE digest = $2")
            .bind(br#"{"verdict":"deny"}"#.to_vec())
            .bind(&digest)
            .execute(&store.pool)
            .await
            .unwrap();
        let error = store.document(&digest).await.unwrap_err();
        assert!(
            error.to_string().contains("does not match its digest"),
            "{error}"
        );
    })
    .await;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let error = Store::open(&format!(
        "postgres://alice:hunter2@127.0.0.1:{port}/customs"
    ))
    .await
    .unwrap_err();
    let text = format!("{error}");
    assert!(
        text.contains(&format!("postgres://alice:***@127.0.0.1:{port}/customs")),
        "{text}"
    );
    assert!(!format!("{error:?}").contains("hunter2"));
    assert!(Store::open("mysql://x/y").await.is_err());
}

#[tokio::test(flavor = "multi_thread")]
async fn odd_sqlite_paths_are_the_files_they_name() {
    let dir = tempfile::tempdir().unwrap();
    let odd = dir.path().join("a b?c#d%20e.db");
    let store = Store::open(odd.to_str().unwrap()).await.unwrap();
    store.close().await;
    assert!(odd.is_file(), "{}", odd.display());
    let url = format!("sqlite://{}", dir.path().join("plain.db").display());
    Store::open(&url).await.unwrap().close().await;
    assert!(dir.path().join("plain.db").is_file());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tag_seen_in_two_repositories_names_both() {
    each_backend(|store| async move {
        for (n, repository) in [(1u8, "r.example/team-a/app"), (2, "r.example/team-b/app")] {
            let image = Seen {
                digest: digest(n),
                name: format!("{repository}:1.0"),
                tags: vec![format!("{repository}:1.0")],
            };
            store
                .record(NewRecord {
                    subject: image,
                    kind: "inspect".to_owned(),
                    environment: None,
                    summary: serde_json::json!({}),
                    document: None,
                })
                .await
                .unwrap();
        }
        let both = store.tag_matches("app:1.0").await.unwrap();
        assert_eq!(both.len(), 2);
        let one = store.tag_matches("team-a/app:1.0").await.unwrap();
        assert_eq!(one, vec![("r.example/team-a/app".to_owned(), digest(1))]);
        assert!(store.tag_matches("app:2.0").await.unwrap().is_empty());
    })
    .await;
}

/// A process opening a fresh SQLite file while another holds its write
/// lock (creating it): the switch to WAL mode waits for the lock instead
/// of failing at once (found by CI: two `deploy record`s at once).
#[tokio::test(flavor = "multi_thread")]
async fn opening_waits_for_another_writer_of_a_fresh_file() {
    use sqlx::Connection as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("customs.db");
    sqlx::any::install_default_drivers();
    let mut other = sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=rwc", path.display()))
        .await
        .unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut other)
        .await
        .unwrap();
    sqlx::query("CREATE TABLE other_writer (a INTEGER)")
        .execute(&mut other)
        .await
        .unwrap();
    let open = tokio::spawn({
        let path = path.clone();
        async move { Store::open(path.to_str().unwrap()).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert!(!open.is_finished(), "it waits for the lock");
    sqlx::query("COMMIT").execute(&mut other).await.unwrap();
    let store = open.await.unwrap().unwrap();
    assert_eq!(store.schema_version().await.unwrap(), SCHEMA_VERSION);
}

#[tokio::test(flavor = "multi_thread")]
async fn tokens_are_found_by_hash_until_revoked() {
    each_backend(async |store| {
        let token = store
            .create_token("ci", "ab12", "write", Some("staging"))
            .await
            .unwrap();
        assert_eq!(token.scope, "write");
        assert_eq!(token.environment.as_deref(), Some("staging"));
        assert_eq!(token.created_by, "tester");
        assert_eq!(
            store.token_by_hash("ab12").await.unwrap(),
            Some(token.clone())
        );
        assert_eq!(store.token_by_hash("ab13").await.unwrap(), None);
        assert!(
            store
                .create_token("again", "ab12", "read", None)
                .await
                .is_err(),
            "hashes are unique"
        );
        assert!(store.revoke_token(token.id).await.unwrap());
        assert!(!store.revoke_token(token.id).await.unwrap(), "once");
        assert_eq!(store.token_by_hash("ab12").await.unwrap(), None);
        let all = store.tokens().await.unwrap();
        assert_eq!(all.len(), 1);
        assert!(all[0].revoked_at.is_some());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_job_is_claimed_once_and_finished_by_its_holder_only() {
    each_backend(async |store| {
        let payload = serde_json::json!({"reference": "r@sha256:1"});
        let (job, new) = store.enqueue("scan", "r@sha256:1", &payload).await.unwrap();
        assert!(new);
        assert_eq!(job.state, "queued");
        let again = store.enqueue("scan", "r@sha256:1", &payload).await.unwrap();
        assert_eq!(again, (job.clone(), false), "queued once");
        let (second, _) = store.enqueue("scan", "r@sha256:2", &payload).await.unwrap();
        let claimed = store.claim("w1", 60, 3).await.unwrap().unwrap();
        assert_eq!(
            (claimed.id, claimed.attempts, claimed.state.as_str()),
            (job.id, 1, "running")
        );
        assert_eq!(claimed.payload, payload);
        assert_eq!(
            store.claim("w2", 60, 3).await.unwrap().unwrap().id,
            second.id,
            "oldest first, each once"
        );
        assert!(store.claim("w2", 60, 3).await.unwrap().is_none());
        assert!(
            !store
                .finish(job.id, "w2", Ok(&serde_json::json!({})), 3, 0)
                .await
                .unwrap(),
            "not w2's"
        );
        assert!(store.renew(job.id, "w1", 60).await.unwrap());
        assert!(
            store
                .finish(
                    job.id,
                    "w1",
                    Ok(&serde_json::json!({"verdict": "allow"})),
                    3,
                    0
                )
                .await
                .unwrap()
        );
        assert!(
            !store
                .finish(job.id, "w1", Ok(&serde_json::json!({})), 3, 0)
                .await
                .unwrap(),
            "done once"
        );
        let done = store.job(job.id).await.unwrap().unwrap();
        assert_eq!(done.state, "done");
        assert_eq!(done.result, Some(serde_json::json!({"verdict": "allow"})));
        // A failure goes back to the queue, then fails for good.
        assert!(
            store
                .finish(second.id, "w2", Err("registry down"), 2, 0)
                .await
                .unwrap()
        );
        let again = store.job(second.id).await.unwrap().unwrap();
        assert_eq!(
            (again.state.as_str(), again.error.as_deref()),
            ("queued", Some("registry down"))
        );
        assert_eq!(store.claim("w1", 60, 2).await.unwrap().unwrap().attempts, 2);
        assert!(
            store
                .finish(second.id, "w1", Err("registry down"), 2, 0)
                .await
                .unwrap()
        );
        assert_eq!(store.job(second.id).await.unwrap().unwrap().state, "failed");
        assert_eq!(
            store.job_counts().await.unwrap(),
            vec![("done".to_owned(), 1), ("failed".to_owned(), 1)]
        );
        assert_eq!(store.jobs(Some("failed"), 10).await.unwrap().len(), 1);
        assert_eq!(
            store.jobs(None, 10).await.unwrap()[0].id,
            second.id,
            "newest first"
        );
    })
    .await;
}

/// A worker killed mid-job: its lease runs out, another worker takes the
/// job, and the dead worker's late finish is refused; a job whose workers
/// keep dying fails after `max_attempts`.
#[tokio::test(flavor = "multi_thread")]
async fn a_lost_lease_is_claimed_again() {
    each_backend(async |store| {
        let (job, _) = store
            .enqueue("scan", "s", &serde_json::json!({}))
            .await
            .unwrap();
        assert_eq!(store.claim("dead", 0, 2).await.unwrap().unwrap().id, job.id);
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let retried = store.claim("alive", 60, 2).await.unwrap().unwrap();
        assert_eq!((retried.id, retried.attempts), (job.id, 2));
        assert!(!store.renew(job.id, "dead", 60).await.unwrap());
        assert!(
            !store
                .finish(job.id, "dead", Ok(&serde_json::json!({})), 2, 0)
                .await
                .unwrap()
        );
        assert!(
            store
                .finish(job.id, "alive", Ok(&serde_json::json!({})), 2, 0)
                .await
                .unwrap()
        );
        let (doomed, _) = store
            .enqueue("scan", "t", &serde_json::json!({}))
            .await
            .unwrap();
        store.claim("a", 0, 2).await.unwrap().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        store.claim("b", 0, 2).await.unwrap().unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert!(store.claim("c", 0, 2).await.unwrap().is_none());
        let failed = store.job(doomed.id).await.unwrap().unwrap();
        assert_eq!(failed.state, "failed");
        assert!(failed.error.unwrap().contains("gave up after 2 attempts"));
    })
    .await;
}

/// Two workers (two connection pools, as two processes) drain one queue:
/// every job is done exactly once.
#[tokio::test(flavor = "multi_thread")]
async fn two_workers_share_a_queue_without_loss_or_repeats() {
    let dir = tempfile::tempdir().unwrap();
    let server = Postgres::start();
    for url in [
        dir.path().join("q.db").display().to_string(),
        server.database(),
    ] {
        let store = Store::open(&url).await.unwrap();
        let jobs = if store.backend() == Backend::Postgres {
            400
        } else {
            150
        };
        for n in 0..jobs {
            store
                .enqueue("scan", &format!("image-{n}"), &serde_json::json!({"n": n}))
                .await
                .unwrap();
        }
        let mut workers = Vec::new();
        for name in ["w1", "w2"] {
            let store = Store::open(&url).await.unwrap();
            workers.push(tokio::spawn(async move {
                let mut seen = Vec::new();
                while let Some(job) = store.claim(name, 60, 3).await.unwrap() {
                    assert!(
                        store
                            .finish(job.id, name, Ok(&serde_json::json!({"by": name})), 3, 0)
                            .await
                            .unwrap()
                    );
                    seen.push(job.id);
                }
                seen
            }));
        }
        let mut all = Vec::new();
        let mut each = Vec::new();
        for worker in workers {
            let seen = worker.await.unwrap();
            each.push(seen.len());
            all.extend(seen);
        }
        all.sort_unstable();
        let before = all.len();
        all.dedup();
        assert_eq!(before, all.len(), "no job done twice");
        assert_eq!(all.len(), jobs, "none lost");
        assert!(each.iter().all(|n| *n > 0), "both worked: {each:?}");
        assert_eq!(
            store.job_counts().await.unwrap(),
            vec![("done".to_owned(), i64::try_from(jobs).unwrap())]
        );
    }
}

/// What the dashboard and `registry audit` read: the fleet with verdicts
/// and blocks, a service's scans over time, a tag's history.
#[tokio::test(flavor = "multi_thread")]
async fn the_fleet_a_service_over_time_and_moved_tags() {
    each_backend(|store| async move {
        let (old, new) = two_releases(&store).await;
        let record = |image: &Seen,
                      kind: &str,
                      environment: Option<&str>,
                      summary: serde_json::Value| NewRecord {
            subject: image.clone(),
            kind: kind.to_owned(),
            environment: environment.map(str::to_owned),
            summary,
            document: None,
        };
        store
            .record(record(
                &old,
                "scan",
                None,
                serde_json::json!({"counts": {"critical": 2, "high": 1}}),
            ))
            .await
            .unwrap();
        store
            .record(record(
                &new,
                "scan",
                None,
                serde_json::json!({"counts": {"high": 1}}),
            ))
            .await
            .unwrap();
        store
            .record(record(
                &new,
                "gate",
                Some("prod"),
                serde_json::json!({"verdict": "deny"}),
            ))
            .await
            .unwrap();
        store
            .record(record(
                &new,
                "gate",
                Some("prod"),
                serde_json::json!({"verdict": "warn"}),
            ))
            .await
            .unwrap();
        store
            .record(record(
                &new,
                "gate",
                Some("dev"),
                serde_json::json!({"verdict": "deny"}),
            ))
            .await
            .unwrap();
        store
            .record_deployment(&deployment("prod", "shop", old.clone()))
            .await
            .unwrap();
        store
            .record_deployment(&deployment("prod", "shop", new.clone()))
            .await
            .unwrap();
        store
            .record_deployment(&deployment("staging", "shop", old.clone()))
            .await
            .unwrap();
        store.block(&old.digest, "INC-9", None).await.unwrap();
        let newest = |env| {
            let store = store.clone();
            let digest = new.digest.clone();
            async move {
                store
                    .latest_record(&digest, "gate", env)
                    .await
                    .unwrap()
                    .unwrap()
                    .summary["verdict"]
                    .clone()
            }
        };
        assert_eq!(newest(Some("prod")).await, "warn");
        assert_eq!(newest(None).await, "deny", "the newest of any environment");
        assert!(
            store
                .latest_record(&old.digest, "gate", None)
                .await
                .unwrap()
                .is_none()
        );
        let fleet = store.fleet(None, 100).await.unwrap();
        assert_eq!(fleet.len(), 2, "current deployments only");
        let prod = fleet
            .iter()
            .find(|r| r.deployment.environment == "prod")
            .unwrap();
        assert_eq!(
            (prod.verdict.as_deref(), prod.blocked.as_deref()),
            (Some("warn"), None),
            "the newest prod decision"
        );
        assert!(prod.decided_at.is_some());
        let staging = fleet
            .iter()
            .find(|r| r.deployment.environment == "staging")
            .unwrap();
        assert_eq!(
            (staging.verdict.as_deref(), staging.blocked.as_deref()),
            (None, Some("INC-9"))
        );
        assert_eq!(store.fleet(Some("staging"), 100).await.unwrap().len(), 1);
        assert_eq!(store.fleet(None, 1).await.unwrap().len(), 1, "limited");
        let scans = store.service_scans("shop", Some("prod")).await.unwrap();
        assert_eq!(scans.len(), 2);
        assert_eq!(scans[0].digest, old.digest.to_string());
        assert_eq!(scans[0].counts.get("critical"), Some(&2));
        assert!(
            store
                .service_scans("nothing", None)
                .await
                .unwrap()
                .is_empty()
        );
        // A tag seen on two digests: moved.
        let moved = Seen {
            digest: digest(9),
            name: old.name.clone(),
            tags: old.tags.clone(),
        };
        store
            .record_sbom(&moved, &sbom(vec![deb("openssl", "3.0.9-1")]))
            .await
            .unwrap();
        let history = store
            .tag_history("registry.test:5000/shop/app")
            .await
            .unwrap();
        let tag = history.iter().find(|(t, _)| t == "1.0").unwrap();
        assert_eq!(tag.1.len(), 2, "{history:?}");
        assert_eq!(tag.1[0].0, old.digest.to_string(), "oldest first");
        assert_eq!(
            store.repositories_of("registry.test:5000").await.unwrap(),
            vec!["registry.test:5000/shop/app".to_owned()]
        );
        assert!(
            store
                .repositories_of("registry.test:5")
                .await
                .unwrap()
                .is_empty(),
            "whole registry names only"
        );
    })
    .await;
}
