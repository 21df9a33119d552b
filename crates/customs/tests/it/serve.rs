//! `customs serve` end to end with real parts: Debian's `docker-registry`
//! sends its notifications to the server, a skopeo push becomes a stored
//! scan and decision, a dropped advisory file becomes a recorded new
//! finding of a deployed digest (and a notification), and the admission
//! webhook judges real AdmissionReview documents against the registry.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use customs_test::registry::{TestRegistry, write_docker_config_for};
use serde_json::{Value, json};

use crate::common::example_ref;
use crate::ledger::Home;

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub(crate) use customs_test::http::json as http;

/// A server process, stopped (SIGTERM) on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) addr: String,
}

impl Server {
    pub(crate) fn start(home: &Home, port: u16, extra: &[&str]) -> Self {
        let addr = format!("127.0.0.1:{port}");
        let mut cmd = customs_test::isolated(assert_cmd::cargo::cargo_bin("customs"), home.path());
        cmd.env("DOCKER_CONFIG", &home.docker)
            .env("CUSTOMS_PASSWORD", "correct horse")
            .env("CUSTOMS_ACTOR", "ci:test")
            .current_dir(home.path())
            .args(["serve", "--listen", &addr])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(url) = &home.database {
            cmd.env("CUSTOMS_DATABASE_URL", url);
        }
        let mut child = cmd.spawn().unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                let mut err = String::new();
                child
                    .stderr
                    .take()
                    .unwrap()
                    .read_to_string(&mut err)
                    .unwrap();
                panic!("customs serve exited ({status}): {err}");
            }
            if TcpStream::connect(&addr).is_ok()
                && http(&addr, "GET", "/healthz", None, None).0 == 200
            {
                break;
            }
            assert!(Instant::now() < deadline, "customs serve did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, addr }
    }

    /// Waits until job `id` is done and returns it.
    fn job(&self, token: &str, id: i64) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let (status, job) = http(
                &self.addr,
                "GET",
                &format!("/api/v1/jobs/{id}"),
                Some(token),
                None,
            );
            assert_eq!(status, 200, "{job}");
            match job["state"].as_str() {
                Some("done") => return job,
                Some("failed") => panic!("job {id} failed: {job}"),
                _ => {}
            }
            assert!(Instant::now() < deadline, "job {id} did not finish: {job}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Stops it as Kubernetes would (SIGTERM); its stderr.
    pub(crate) fn stop(mut self) -> String {
        let pid = self.child.id().to_string();
        std::process::Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.child.try_wait().unwrap().is_none() {
            assert!(
                Instant::now() < deadline,
                "customs serve did not stop on SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        let status = self.child.try_wait().unwrap().unwrap();
        let mut err = String::new();
        self.child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        assert!(status.success(), "customs serve: {status}: {err}");
        err
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Accepts one POST and answers 200; the body arrives on the channel.
fn webhook_receiver() -> (String, std::sync::mpsc::Receiver<Value>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (send, receive) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if line.trim().is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        stream
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
            .unwrap();
        send.send(serde_json::from_slice(&body).unwrap()).unwrap();
    });
    (url, receive)
}

fn review(namespace: &str, image: &str) -> Value {
    json!({
        "apiVersion": "admission.k8s.io/v1",
        "kind": "AdmissionReview",
        "request": {
            "uid": "3e6b1d8e-2f0a-4b7e-9a55-0d1c2b3a4f5e",
            "kind": {"group": "", "version": "v1", "kind": "Pod"},
            "resource": {"group": "", "version": "v1", "resource": "pods"},
            "namespace": namespace,
            "operation": "CREATE",
            "userInfo": {"username": "system:serviceaccount:kube-system:replicaset-controller"},
            "object": {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {"name": "shop-1", "namespace": namespace},
                "spec": {"containers": [{"name": "app", "image": image}]},
            },
            "dryRun": false,
        },
    })
}

#[test]
fn a_push_is_scanned_and_gated_a_new_advisory_flags_what_runs_and_admission_checks_signatures() {
    let home = Home::new(&[]);
    let (key, _) = home.key();
    fs_err::write(
        home.path().join("customs.toml"),
        "[environments.dev]\nkeys = [\"cosign.pub\"]\n",
    )
    .unwrap();
    let write = home
        .ok(&["token", "create", "--scope", "write", "--name", "registry"])
        .trim()
        .to_owned();
    let read = home
        .ok(&["token", "create", "--scope", "read", "--name", "k8s"])
        .trim()
        .to_owned();
    assert!(write.starts_with("cst_") && read.starts_with("cst_"));
    let listed = home.json(&["token", "list", "-o", "json"]);
    assert_eq!(listed.as_array().unwrap().len(), 2);
    assert!(
        !listed.to_string().contains(&write[4..]),
        "the list holds no token"
    );

    let port = free_port();
    let registry =
        TestRegistry::start_notifying(&format!("http://127.0.0.1:{port}/hooks/registry"), &write);
    write_docker_config_for(
        &home.docker,
        &[(&registry.addr, &registry.user, &registry.password)],
    );
    let drop = home.path().join("drop");
    fs_err::create_dir_all(&drop).unwrap();
    let (notify_url, notified) = webhook_receiver();
    let server = Server::start(
        &home,
        port,
        &[
            "--workers",
            "1",
            "--push-env",
            "dev",
            "--advisories-drop",
            drop.to_str().unwrap(),
            "--notify-url",
            &notify_url,
            "--namespace-env",
            "shop-*=dev",
            "--admission-cache",
            "1",
        ],
    );

    // A push: the registry notifies, the server queues, the worker scans
    // and gates, the store has it.
    registry.push(&example_ref(), "shop/app", "1.0", None);
    let digest = registry.skopeo_digest("shop/app", "1.0");
    let pinned = format!("{}/shop/app@{digest}", registry.addr);
    let deadline = Instant::now() + Duration::from_secs(60);
    let job = loop {
        let (_, jobs) = http(&server.addr, "GET", "/api/v1/jobs", Some(&read), None);
        if let Some(job) = jobs
            .as_array()
            .unwrap()
            .iter()
            .find(|j| j["subject"] == pinned.as_str())
        {
            break job["id"].as_i64().unwrap();
        }
        assert!(Instant::now() < deadline, "no job for the push: {jobs}");
        std::thread::sleep(Duration::from_millis(200));
    };
    let done = server.job(&read, job);
    assert_eq!(done["result"]["digest"], digest, "{done}");
    assert_eq!(done["queued_by"], "registry#1");
    let verdict = done["result"]["verdicts"]["dev"]
        .as_str()
        .unwrap()
        .to_owned();
    let history = home.ok(&["history", &pinned]);
    assert!(
        history.contains("scan") && history.contains("gate"),
        "{history}"
    );
    let (_, image) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/images/{digest}"),
        Some(&read),
        None,
    );
    assert!(
        image["history"]
            .as_array()
            .unwrap()
            .iter()
            .any(|h| h["kind"] == "gate"),
        "{image}"
    );
    let (status, decision) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/images/{digest}/decision?env=dev"),
        Some(&read),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(
        decision["document"]["decision"]["verdict"],
        verdict.as_str()
    );
    let (status, found) = http(
        &server.addr,
        "GET",
        &format!("/api/v1/images/{digest}/findings?env=dev"),
        Some(&read),
        None,
    );
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["verdict"], verdict.as_str());
    assert!(
        found["vulnerabilities"].as_array().unwrap().len() >= 20,
        "{found}"
    );
    assert!(
        !found["secrets"].as_array().unwrap().is_empty(),
        "the example's secrets"
    );
    assert_eq!(found["signatures"]["checked"], true);
    assert!(
        !found
            .to_string()
            .contains("fakeSecretKeyForTheCustomsExample"),
        "secrets stay redacted"
    );

    // Admission: the tag resolves at the registry; unsigned is refused.
    let by_tag = format!("{}/shop/app:1.0", registry.addr);
    let (status, answer) = http(
        &server.addr,
        "POST",
        "/admission",
        Some(&read),
        Some(&review("shop-eu", &by_tag)),
    );
    assert_eq!(status, 200);
    assert_eq!(answer["response"]["allowed"], false, "{answer}");
    let message = answer["response"]["status"]["message"].as_str().unwrap();
    assert!(
        message.contains("not signed by a trusted signer"),
        "{message}"
    );
    // Signed: allowed when the gate did not deny.
    home.ok(&["sign", &pinned, "--key", &key]);
    std::thread::sleep(Duration::from_millis(1_100));
    let (_, answer) = http(
        &server.addr,
        "POST",
        "/admission",
        Some(&read),
        Some(&review("shop-eu", &by_tag)),
    );
    assert_eq!(
        verdict, "warn",
        "the example passes dev's gate with warnings"
    );
    assert_eq!(answer["response"]["allowed"], true, "{answer}");
    assert!(
        !answer["response"]["warnings"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{answer}"
    );
    // Mutation pins the tag to the digest the registry serves.
    let (_, answer) = http(
        &server.addr,
        "POST",
        "/admission/mutate",
        Some(&read),
        Some(&review("shop-eu", &by_tag)),
    );
    use base64::Engine as _;
    let patch: Value = serde_json::from_slice(
        &base64::engine::general_purpose::STANDARD
            .decode(answer["response"]["patch"].as_str().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(patch[0]["value"], format!("{by_tag}@{digest}"));
    // An unknown tag cannot be resolved: denied (fail-closed).
    let missing = format!("{}/shop/app:9.9", registry.addr);
    let (_, answer) = http(
        &server.addr,
        "POST",
        "/admission",
        Some(&read),
        Some(&review("shop-eu", &missing)),
    );
    assert_eq!(answer["response"]["allowed"], false, "{answer}");

    // It runs in prod; a new advisory is dropped; the rescan flags it.
    let (status, recorded) = http(
        &server.addr,
        "POST",
        "/api/v1/deployments",
        Some(&write),
        Some(&json!({"environment": "prod", "service": "shop", "image": by_tag})),
    );
    assert_eq!(status, 201, "{recorded}");
    assert_eq!(recorded["digest"], digest);
    fs_err::write(
        drop.join("CUSTOMS-TEST-2026-0001.json"),
        json!({
            "id": "CUSTOMS-TEST-2026-0001",
            "modified": "2026-12-01T00:00:00Z",
            "published": "2026-12-01T00:00:00Z",
            "summary": "a test advisory published after the image was scanned",
            "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected": [{
                "package": {"ecosystem": "Debian:12", "name": "zlib"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "1:9.9-1"}]}],
            }],
        })
        .to_string(),
    )
    .unwrap();
    let (status, job) = http(&server.addr, "POST", "/api/v1/rescans", Some(&write), None);
    assert_eq!(status, 202, "{job}");
    let done = server.job(&read, job["id"].as_i64().unwrap());
    assert!(
        done["result"]["refreshed"]
            .as_str()
            .unwrap()
            .contains("imported 1 file"),
        "{done}"
    );
    let severe = &done["result"]["severe"][0];
    assert_eq!(severe["digest"], digest, "{done}");
    assert_eq!(severe["runs_as"], json!(["prod/shop"]));
    assert!(
        severe["findings"]
            .to_string()
            .contains("CUSTOMS-TEST-2026-0001"),
        "{done}"
    );
    assert!(drop.join("imported/CUSTOMS-TEST-2026-0001.json").is_file());
    let message = notified.recv_timeout(Duration::from_secs(30)).unwrap();
    assert!(
        message["text"].as_str().unwrap().contains(&digest),
        "{message}"
    );
    let history = home.ok(&["history", &pinned]);
    assert!(history.contains("1 new"), "{history}");

    let log = server.stop();
    for secret in [&write, &read] {
        assert!(
            !log.contains(secret.as_str()),
            "a token in the server's log"
        );
    }
    assert!(log.contains("\"msg\":\"job finished\""), "{log}");
}
