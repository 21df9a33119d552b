//! The server in process (`oneshot` requests on the router) over a real
//! store, with an engine that answers from tables.
#![allow(clippy::unwrap_used)]

use std::collections::HashMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::body::Body;
use axum::http::{Request, StatusCode};
use customs_types::Digest;
use serde_json::{Value, json};
use tower::ServiceExt as _;

use super::*;

#[derive(Default)]
struct Fake {
    tags: HashMap<String, Digest>,
    verdicts: HashMap<(String, String), Admit>,
    resolves: AtomicUsize,
    admits: AtomicUsize,
    scanned: Mutex<Vec<(String, Vec<String>)>>,
    delay: Duration,
}

impl Engine for Fake {
    fn scan<'a>(
        &'a self,
        reference: &'a str,
        environments: &'a [String],
    ) -> BoxFuture<'a, anyhow::Result<Value>> {
        Box::pin(async move {
            self.scanned
                .lock()
                .unwrap()
                .push((reference.to_owned(), environments.to_vec()));
            Ok(json!({"reference": reference, "verdicts": {"dev": "allow"}}))
        })
    }

    fn refresh(&self) -> BoxFuture<'_, anyhow::Result<Option<String>>> {
        Box::pin(async { Ok(None) })
    }

    fn expiring(&self, _days: i64) -> BoxFuture<'_, anyhow::Result<Vec<Value>>> {
        Box::pin(async {
            Ok(vec![
                json!({"id": "EXC-1", "waives": "CVE-2024-1", "scope": "all images", "owner": "team-<b>", "state": "2026-12-10 (3 days)"}),
            ])
        })
    }

    fn resolve<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, anyhow::Result<Digest>> {
        Box::pin(async move {
            self.resolves.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.tags
                .get(reference)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("manifest unknown: {reference}"))
        })
    }

    fn admit<'a>(
        &'a self,
        image: &'a str,
        environment: &'a str,
    ) -> BoxFuture<'a, anyhow::Result<Admit>> {
        Box::pin(async move {
            self.admits.fetch_add(1, Ordering::SeqCst);
            tokio::time::sleep(self.delay).await;
            self.verdicts
                .get(&(image.to_owned(), environment.to_owned()))
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("the registry is down"))
        })
    }
}

struct Harness {
    fake: Arc<Fake>,
    state: Arc<State>,
    router: axum::Router,
    admin: String,
    read: String,
    write: String,
    staging: String,
    logs: Arc<Mutex<Vec<u8>>>,
    _dir: tempfile::TempDir,
}

async fn token(store: &Store, name: &str, scope: &str, env: Option<&str>) -> String {
    let (token, hash) = new_token();
    store.create_token(name, &hash, scope, env).await.unwrap();
    token
}

async fn harness(engine: Fake, tune: impl FnOnce(&mut Config)) -> Harness {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("c.db").to_str().unwrap())
        .await
        .unwrap();
    let admin = token(&store, "root", "admin", None).await;
    let read = token(&store, "viewer", "read", None).await;
    let write = token(&store, "ci", "write", None).await;
    let staging = token(&store, "staging-ci", "write", Some("staging")).await;
    let mut config = Config {
        db_dir: dir.path().join("db"),
        ..Config::default()
    };
    config.admission.namespaces = vec![
        ("prod-*".to_owned(), "prod".to_owned()),
        ("staging".to_owned(), "staging".to_owned()),
    ];
    tune(&mut config);
    let (logger, logs) = Logger::buffer();
    let fake = Arc::new(engine);
    let dynamic: Arc<dyn Engine> = fake.clone();
    let state = State::new(store, dynamic, config, logger);
    let router = router(&state);
    Harness {
        fake,
        state,
        router,
        admin,
        read,
        write,
        staging,
        logs,
        _dir: dir,
    }
}

impl Harness {
    async fn call(
        &self,
        method: &str,
        uri: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value, axum::http::HeaderMap) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => request
                .header("content-type", "application/json")
                .body(Body::from(body.to_string())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value, headers)
    }
}

fn digest(n: u8) -> Digest {
    Digest::sha256(&[n])
}

/// A concrete URI for a documented path.
fn concrete(path: &str) -> String {
    path.replace("{digest}", digest(1).as_str())
        .replace("{id}", "1")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_document_is_valid_openapi_and_matches_the_routes() {
    let h = harness(Fake::default(), |_| {}).await;
    let (status, doc, _) = h.call("GET", "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    customs_test::schema::assert_valid(
        "openapi-3.1-2022-10-07.schema.json",
        doc.to_string().as_bytes(),
    );
    let paths = doc["paths"].as_object().unwrap();
    let mut documented = 0;
    for (path, operations) in paths {
        for (method, operation) in operations.as_object().unwrap() {
            documented += 1;
            let uri = concrete(path);
            let (status, body, _) = h
                .call(
                    &method.to_uppercase(),
                    &uri,
                    Some(&h.admin),
                    Some(json!({})),
                )
                .await;
            // Every documented route is real: whatever the (empty) request
            // gets, it is not "no such route" or "method not allowed".
            assert!(
                status != StatusCode::METHOD_NOT_ALLOWED
                    && !(status == StatusCode::NOT_FOUND
                        && body["error"]
                            .as_str()
                            .is_some_and(|e| e.starts_with("no such route"))),
                "{method} {path}: {status} {body}"
            );
            if operation["security"] == json!([]) {
                continue;
            }
            let scope = operation["x-customs-scope"].as_str().unwrap();
            if scope == "page" {
                // A page without a session: to the sign-in form.
                for token in [None, Some("cst_forged")] {
                    let (status, _, headers) =
                        h.call(&method.to_uppercase(), &uri, token, None).await;
                    assert_eq!(status, StatusCode::SEE_OTHER, "{method} {path}");
                    assert!(
                        headers["location"]
                            .to_str()
                            .unwrap()
                            .starts_with("/ui/login?next=")
                    );
                }
                continue;
            }
            // Every guarded route refuses a missing, a wrong and a revoked token.
            let (status, _, headers) = h.call(&method.to_uppercase(), &uri, None, None).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} without a token"
            );
            assert!(headers.contains_key("www-authenticate"));
            let (status, _, _) = h
                .call(&method.to_uppercase(), &uri, Some("cst_forged"), None)
                .await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with a forged token"
            );
            if scope != "read" {
                let (status, _, _) = h
                    .call(&method.to_uppercase(), &uri, Some(&h.read), Some(json!({})))
                    .await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} with a read token"
                );
            }
            if scope == "admin" {
                let (status, _, _) = h
                    .call(
                        &method.to_uppercase(),
                        &uri,
                        Some(&h.write),
                        Some(json!({})),
                    )
                    .await;
                assert_eq!(
                    status,
                    StatusCode::FORBIDDEN,
                    "{method} {path} with a write token"
                );
            }
        }
    }
    assert_eq!(
        documented,
        routes::routes().len(),
        "every route is documented"
    );
    let (status, body, _) = h.call("GET", "/api/v1/nothing", Some(&h.admin), None).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (StatusCode::NOT_FOUND, "no such route (see /openapi.json)")
    );
    // A revoked token stops working (after the token cache's few seconds:
    // none here, a fresh harness caches nothing yet).
    let h = harness(Fake::default(), |c| c.token_cache = Duration::ZERO).await;
    let id = h.state.store.tokens().await.unwrap()[1].id;
    assert_eq!(
        h.call("GET", "/api/v1/deployments", Some(&h.read), None)
            .await
            .0,
        StatusCode::OK
    );
    h.state.store.revoke_token(id).await.unwrap();
    assert_eq!(
        h.call("GET", "/api/v1/deployments", Some(&h.read), None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn environments_bind_tokens_and_logs_hold_no_secret() {
    let mut fake = Fake::default();
    fake.tags
        .insert("registry.test/shop/app:1.0".to_owned(), digest(7));
    let h = harness(fake, |_| {}).await;
    let deploy = |env: &str| json!({"environment": env, "service": "shop", "image": "registry.test/shop/app:1.0"});
    let (status, body, _) = h
        .call(
            "POST",
            "/api/v1/deployments",
            Some(&h.staging),
            Some(deploy("prod")),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("may not record deployments in prod")
    );
    let (status, body, _) = h
        .call(
            "POST",
            "/api/v1/deployments",
            Some(&h.staging),
            Some(deploy("staging")),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body["digest"],
        digest(7).to_string(),
        "the tag was resolved to its digest"
    );
    assert_eq!(body["actor"], "staging-ci#4");
    let (status, body, _) = h
        .call(
            "GET",
            &format!("/api/v1/where/{}", digest(7)),
            Some(&h.read),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["running"][0]["environment"], "staging");
    // Blocks are for every environment: an admin token for one may not.
    let block = json!({"digest": digest(7).to_string(), "reason": "INC-1", "until": "2099-01-01"});
    assert_eq!(
        h.call(
            "POST",
            "/api/v1/blocks",
            Some(&h.write),
            Some(block.clone())
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, body, _) = h
        .call("POST", "/api/v1/blocks", Some(&h.admin), Some(block))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (_, image, _) = h
        .call(
            "GET",
            &format!("/api/v1/images/{}", digest(7)),
            Some(&h.read),
            None,
        )
        .await;
    assert_eq!(image["blocked"]["reason"], "INC-1");
    assert_eq!(image["tags"][0]["tag"], "registry.test/shop/app:1.0");
    let uri = format!("/api/v1/blocks/{}?reason=fixed", digest(7));
    assert_eq!(
        h.call("DELETE", &uri, Some(&h.admin), None).await.0,
        StatusCode::NO_CONTENT
    );
    assert_eq!(
        h.call("DELETE", &uri, Some(&h.admin), None).await.0,
        StatusCode::NOT_FOUND
    );
    // Bad input is a 400 naming the problem.
    let (status, body, _) = h
        .call(
            "POST",
            "/api/v1/deployments",
            Some(&h.write),
            Some(json!({"environment": "prod"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (status, body, _) = h
        .call("GET", "/api/v1/images/sha256:zz", Some(&h.read), None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["error"].as_str().unwrap().contains("is not a digest"));
    let (status, _, _) = h
        .call(
            "GET",
            "/api/v1/who-has?package=zlib1g@%3C1",
            Some(&h.read),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let logs = String::from_utf8(h.logs.lock().unwrap().clone()).unwrap();
    for secret in [&h.admin, &h.read, &h.write, &h.staging] {
        assert!(!logs.contains(secret.as_str()), "a token in the log");
        assert!(!logs.contains(&secret[4..20]));
    }
    let line: Value = serde_json::from_str(logs.lines().next().unwrap()).unwrap();
    assert_eq!(line["msg"], "request");
    assert_eq!(line["route"], "/api/v1/deployments");
    assert_eq!(line["status"], 403);
    assert!(logs.contains("\"caller\":\"staging-ci#4\""));
    let (status, metrics, _) = h.call("GET", "/metrics", Some(&h.read), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(metrics.as_str().unwrap().contains("customs_http_requests_total{route=\"/api/v1/deployments\",method=\"POST\",status=\"201\"} 1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn limits() {
    let h = harness(Fake::default(), |c| {
        c.rate_limit = 2;
        c.body_limit = 1_000;
    })
    .await;
    let mut limited = None;
    for _ in 0..10 {
        let (status, _, headers) = h.call("GET", "/api/v1/blocks", Some(&h.read), None).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(headers);
            break;
        }
    }
    let headers = limited.expect("the rate limit applies");
    assert!(headers.contains_key("retry-after"));
    let big = json!({"events": [{"action": "x".repeat(2_000)}]});
    let (status, _, _) = h
        .call("POST", "/hooks/registry", Some(&h.write), Some(big))
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_registry_push_queues_a_scan_that_a_worker_runs() {
    let h = harness(Fake::default(), |c| {
        c.push_environments = vec!["dev".to_owned(), "staging".to_owned()];
        c.worker.poll = Duration::from_millis(50);
    })
    .await;
    let d = digest(3);
    let envelope = json!({"events": [{"action": "push", "target": {
        "mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": d.to_string(),
        "repository": "shop/app", "url": format!("http://127.0.0.1:5000/v2/shop/app/manifests/{d}"), "tag": "1.0"}}]});
    // A staging token cannot have pushes gated for dev.
    assert_eq!(
        h.call(
            "POST",
            "/hooks/registry",
            Some(&h.staging),
            Some(envelope.clone())
        )
        .await
        .0,
        StatusCode::FORBIDDEN
    );
    let (status, body, _) = h
        .call(
            "POST",
            "/hooks/registry",
            Some(&h.write),
            Some(envelope.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let job = body["queued"][0]["id"].as_i64().unwrap();
    let (_, again, _) = h
        .call("POST", "/hooks/registry", Some(&h.write), Some(envelope))
        .await;
    assert_eq!(again["queued"], json!([]), "queued once");
    let (_, bad, _) = h
        .call(
            "POST",
            "/hooks/registry",
            Some(&h.write),
            Some(json!({"events": 1})),
        )
        .await;
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .starts_with("not a registry notification envelope")
    );
    let (stop_send, stop) = tokio::sync::watch::channel(false);
    let tasks = run_workers(&h.state, &stop);
    let mut done = Value::Null;
    for _ in 0..100 {
        let (_, j, _) = h
            .call("GET", &format!("/api/v1/jobs/{job}"), Some(&h.read), None)
            .await;
        if j["state"] == "done" {
            done = j;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        done["result"]["reference"],
        format!("127.0.0.1:5000/shop/app@{d}"),
        "{done}"
    );
    assert_eq!(done["queued_by"], "ci#3");
    stop_send.send(true).unwrap();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        h.fake.scanned.lock().unwrap().clone(),
        vec![(
            format!("127.0.0.1:5000/shop/app@{d}"),
            vec!["dev".to_owned(), "staging".to_owned()]
        )],
        "scanned once, gated for every push environment"
    );
    let logs = String::from_utf8(h.logs.lock().unwrap().clone()).unwrap();
    assert!(logs.contains("\"msg\":\"job finished\""));
}

fn review(file: &str, registry: &str, pinned: &Digest) -> Value {
    let text = fs_err::read_to_string(format!("{}/tests/data/{file}", env!("CARGO_MANIFEST_DIR")))
        .unwrap()
        .replace("REGISTRY", registry)
        .replace("DIGEST", pinned.as_str());
    serde_json::from_str(&text).unwrap()
}

/// The message of a review's denial.
fn denial(body: &Value) -> &str {
    body["response"]["status"]["message"].as_str().unwrap()
}

fn allowed(verdict: bool) -> Admit {
    Admit {
        allowed: verdict,
        reasons: vec![
            if verdict {
                "signed and allowed"
            } else {
                "gate decision: deny (critical CVE-2024-1)"
            }
            .to_owned(),
        ],
        warnings: Vec::new(),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn admission_allows_signed_gated_digests_only_and_fails_closed() {
    let (good, bad) = (digest(10), digest(11));
    let mut fake = Fake {
        delay: Duration::from_millis(30),
        ..Fake::default()
    };
    fake.tags
        .insert("reg.test/shop/app:1.0".to_owned(), good.clone());
    fake.verdicts.insert(
        (format!("reg.test/shop/app@{good}"), "prod".to_owned()),
        allowed(true),
    );
    fake.verdicts.insert(
        (format!("reg.test/shop/app@{bad}"), "prod".to_owned()),
        allowed(false),
    );
    let h = harness(fake, |_| {}).await;
    // Every image allowed: allowed, and the answer names the request.
    let (status, body, _) = h
        .call(
            "POST",
            "/admission",
            Some(&h.read),
            Some(review("pod-create.json", "reg.test", &good)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["apiVersion"], "admission.k8s.io/v1");
    assert_eq!(
        body["response"]["uid"],
        "705ab4f5-6393-11e8-b7cc-42010a800002"
    );
    assert_eq!(body["response"]["allowed"], true, "{body}");
    // One tag lookup and one check for three containers of one image,
    // then the cache answers.
    assert_eq!(
        h.call(
            "POST",
            "/admission",
            Some(&h.read),
            Some(review("pod-create.json", "reg.test", &good))
        )
        .await
        .1["response"]["allowed"],
        true
    );
    assert_eq!(h.fake.resolves.load(Ordering::SeqCst), 1, "one tag lookup");
    assert_eq!(h.fake.admits.load(Ordering::SeqCst), 1, "one check");
    // A denied digest: refused, with the reason.
    let (_, body, _) = h
        .call(
            "POST",
            "/admission",
            Some(&h.read),
            Some(review("pod-create.json", "reg.test", &bad)),
        )
        .await;
    assert_eq!(body["response"]["allowed"], false);
    assert_eq!(body["response"]["status"]["code"], 403);
    let message = denial(&body);
    assert!(
        message.contains("CVE-2024-1") && message.contains(bad.as_str()),
        "{message}"
    );
    // A check that cannot be made (staging has no verdicts: "the registry
    // is down") denies, unless fail-open.
    let (_, body, _) = h
        .call(
            "POST",
            "/admission",
            Some(&h.read),
            Some(review("deployment-update.json", "reg.test", &good)),
        )
        .await;
    assert_eq!(body["response"]["allowed"], false);
    assert!(denial(&body).contains("the registry is down"));
    // A namespace of no environment is denied; DELETE and other kinds pass.
    let mut stray = review("pod-create.json", "reg.test", &good);
    stray["request"]["namespace"] = json!("sandbox");
    let (_, body, _) = h
        .call("POST", "/admission", Some(&h.read), Some(stray))
        .await;
    assert!(denial(&body).contains("namespace sandbox belongs to no environment"));
    let (_, body, _) = h
        .call(
            "POST",
            "/admission",
            Some(&h.read),
            Some(review("configmap-delete.json", "reg.test", &good)),
        )
        .await;
    assert_eq!(body["response"]["allowed"], true);
    // Not a review: 400.
    let (status, _, _) = h
        .call(
            "POST",
            "/admission",
            Some(&h.read),
            Some(json!({"kind": "Pod"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let metrics = h.call("GET", "/metrics", Some(&h.read), None).await.1;
    let metrics = metrics.as_str().unwrap();
    assert!(
        metrics.contains("customs_admission_cache_total{result=\"hit\"}"),
        "{metrics}"
    );

    let mut fake = Fake::default();
    fake.tags
        .insert("reg.test/shop/app:1.0".to_owned(), good.clone());
    let open = harness(fake, |c| c.admission.fail_open = true).await;
    let (_, body, _) = open
        .call(
            "POST",
            "/admission",
            Some(&open.read),
            Some(review("deployment-update.json", "reg.test", &good)),
        )
        .await;
    assert_eq!(body["response"]["allowed"], true);
    assert!(
        body["response"]["warnings"][0]
            .as_str()
            .unwrap()
            .contains("fail-open")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_reviews_of_one_image_cost_one_check() {
    let good = digest(10);
    let mut fake = Fake {
        delay: Duration::from_millis(100),
        ..Fake::default()
    };
    fake.tags
        .insert("reg.test/shop/app:1.0".to_owned(), good.clone());
    fake.verdicts.insert(
        (format!("reg.test/shop/app@{good}"), "prod".to_owned()),
        allowed(true),
    );
    let fake = Arc::new(fake);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path().join("c.db").to_str().unwrap())
        .await
        .unwrap();
    let read = token(&store, "k8s", "read", None).await;
    let mut config = Config::default();
    config.admission.namespaces = vec![("prod-*".to_owned(), "prod".to_owned())];
    let engine: Arc<dyn Engine> = fake.clone();
    let state = State::new(store, engine, config, Logger::off());
    let app = router(&state);
    let body = review("pod-create.json", "reg.test", &good).to_string();
    let calls = (0..20).map(|_| {
        let request = Request::post("/admission")
            .header("authorization", format!("Bearer {read}"))
            .header("content-type", "application/json")
            .body(Body::from(body.clone()))
            .unwrap();
        app.clone().oneshot(request)
    });
    for response in futures_util::future::join_all(calls).await {
        let response = response.unwrap();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["response"]["allowed"], true);
    }
    assert_eq!(fake.resolves.load(Ordering::SeqCst), 1, "one tag lookup");
    assert_eq!(fake.admits.load(Ordering::SeqCst), 1, "one check");
}

#[tokio::test(flavor = "multi_thread")]
async fn mutation_pins_tags_to_digests() {
    let good = digest(10);
    let mut fake = Fake::default();
    fake.tags
        .insert("reg.test/shop/app:1.0".to_owned(), good.clone());
    let h = harness(fake, |_| {}).await;
    let (status, body, _) = h
        .call(
            "POST",
            "/admission/mutate",
            Some(&h.read),
            Some(review("pod-create.json", "reg.test", &good)),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["response"]["patchType"], "JSONPatch");
    use base64::Engine as _;
    let patch: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(body["response"]["patch"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(
        patch,
        json!([
            {"op": "replace", "path": "/spec/initContainers/0/image", "value": format!("reg.test/shop/app:1.0@{good}")},
            {"op": "replace", "path": "/spec/containers/0/image", "value": format!("reg.test/shop/app:1.0@{good}")},
        ])
    );
    // An unknown tag: refused (fail-closed).
    let (_, body, _) = h
        .call(
            "POST",
            "/admission/mutate",
            Some(&h.read),
            Some(review("pod-create.json", "reg.test:5000", &good)),
        )
        .await;
    assert_eq!(body["response"]["allowed"], false);
    assert!(denial(&body).contains("manifest unknown"));
}

#[tokio::test(flavor = "multi_thread")]
async fn tls_when_given_a_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let out = std::process::Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost,IP:127.0.0.1",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    customs_oci::install_crypto_provider();
    let h = harness(Fake::default(), |_| {}).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let files = TlsFiles {
        cert: cert.clone(),
        key: key.clone(),
    };
    let router = h.router.clone();
    let server =
        tokio::spawn(
            async move { serve(listener, Some(&files), router, std::future::pending()).await },
        );
    let client = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&fs_err::read(&cert).unwrap()).unwrap()])
        .build()
        .unwrap();
    let health: Value = client
        .get(format!("https://127.0.0.1:{}/healthz", addr.port()))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    // Plain HTTP to the TLS port gets no answer.
    let plain = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{}/healthz", addr.port()))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(plain.is_err() || !plain.unwrap().status().is_success());
    server.abort();
    // A key that does not fit the certificate is an error naming both.
    let other = dir.path().join("other.pem");
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
        ])
        .arg(&other)
        .output()
        .unwrap();
    assert!(out.status.success());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let files = TlsFiles { cert, key: other };
    let error = serve(
        listener,
        Some(&files),
        h.router.clone(),
        std::future::pending(),
    )
    .await
    .unwrap_err();
    assert!(
        format!("{error:#}").contains("the key does not fit the certificate"),
        "{error:#}"
    );
}

impl Harness {
    async fn page(
        &self,
        method: &str,
        uri: &str,
        cookie: Option<&str>,
        form: Option<&str>,
    ) -> (StatusCode, String, axum::http::HeaderMap) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(cookie) = cookie {
            request = request.header("cookie", cookie);
        }
        let request = match form {
            Some(form) => request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form.to_owned())),
            None => request.body(Body::empty()),
        }
        .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        let bytes = axum::body::to_bytes(response.into_body(), 64 << 20)
            .await
            .unwrap();
        (status, String::from_utf8(bytes.to_vec()).unwrap(), headers)
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_signs_in_with_a_cookie_and_escapes_what_it_shows() {
    let h = harness(Fake::default(), |_| {}).await;
    h.state
        .store
        .record_deployment(&customs_store::NewDeployment {
            environment: "prod".to_owned(),
            service: "<script>alert(1)</script>".to_owned(),
            cluster: "eu".to_owned(),
            namespace: "shop".to_owned(),
            image: customs_store::Seen {
                digest: digest(20),
                name: "reg.test/shop/app".to_owned(),
                tags: vec!["reg.test/shop/app:\"><img src=x>".to_owned()],
            },
            reference: "reg.test/shop/app:1".to_owned(),
            source: "test".to_owned(),
        })
        .await
        .unwrap();
    let (status, _, headers) = h.page("GET", "/ui", None, None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert_eq!(headers["location"], "/ui/login?next=%2Fui");
    let (status, form, _) = h.page("GET", "/ui/login?next=/ui", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        form.contains("<label for=\"token\">") && form.contains("id=\"token\""),
        "labelled"
    );
    // A wrong token: back to the form; an outside `next`: ignored.
    let (_, _, headers) = h
        .page("POST", "/ui/login", None, Some("token=cst_nope&next=%2Fui"))
        .await;
    assert!(
        headers["location"]
            .to_str()
            .unwrap()
            .starts_with("/ui/login?failed=1")
    );
    assert!(!headers.contains_key("set-cookie"));
    let (_, _, headers) = h
        .page(
            "POST",
            "/ui/login",
            None,
            Some(&format!("token={}&next=https%3A%2F%2Fevil.example", h.read)),
        )
        .await;
    assert_eq!(headers["location"], "/ui");
    let cookie = headers["set-cookie"].to_str().unwrap().to_owned();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let session = cookie.split(';').next().unwrap().to_owned();
    let (status, body, headers) = h.page("GET", "/ui", Some(&session), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        headers["content-security-policy"]
            .to_str()
            .unwrap()
            .contains("default-src 'none'")
    );
    assert!(
        body.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "escaped"
    );
    assert!(!body.contains("<script>"), "no markup from the store");
    assert!(
        body.contains("team-&lt;b&gt;"),
        "the expiring exception, escaped"
    );
    assert!(body.contains("Sign out"));
    let (status, body, _) = h
        .page(
            "GET",
            &format!("/ui/images/{}", digest(20)),
            Some(&session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains(digest(20).as_str()) && !body.contains("<img src=x>"));
    let (status, body, _) = h
        .page("GET", "/ui/search?q=zlib1g", Some(&session), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body.contains("Images holding zlib1g"));
    let (status, _, _) = h
        .page(
            "GET",
            &format!("/ui/images/{}", digest(21)),
            Some(&session),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (_, _, headers) = h.page("POST", "/ui/logout", Some(&session), None).await;
    assert!(
        headers["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );

    // Public: pages without sign-in, the API still guarded.
    let public = harness(Fake::default(), |c| c.public_dashboard = true).await;
    let (status, body, _) = public.page("GET", "/ui", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(!body.contains("Sign out"));
    assert_eq!(
        public
            .call("GET", "/api/v1/deployments", None, None)
            .await
            .0,
        StatusCode::UNAUTHORIZED
    );
}
