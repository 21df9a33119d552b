//! A real registry for tests: Debian's `docker-registry` (distribution 2.8)
//! on a free loopback port with htpasswd (bcrypt) auth, plus `skopeo` to push.
//!
//! Missing tools are a test failure with an install hint, never a skip:
//! `.ci/run` installs them.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry, stopped on drop.
pub struct TestRegistry {
    child: Child,
    /// `127.0.0.1:PORT`.
    pub addr: String,
    /// The htpasswd user.
    pub user: String,
    /// The user's password.
    pub password: String,
    _dir: tempfile::TempDir,
}

/// Fails the test with an install hint when `tool` is missing.
pub(crate) fn require(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "`{tool}` is not installed: run `apt-get install -y {package}` (what .ci/run does)"
    );
}

impl TestRegistry {
    /// Starts a registry and waits until `/v2/` answers 401.
    #[must_use]
    pub fn start() -> Self {
        Self::start_with(None, true)
    }

    /// Starts a registry without authentication: anyone may pull and push
    /// (what `customs registry audit` must flag).
    #[must_use]
    pub fn start_open() -> Self {
        Self::start_with(None, false)
    }

    /// Starts a registry that sends its notifications (distribution's
    /// event envelopes) to `url` with `Authorization: Bearer <token>`.
    #[must_use]
    pub fn start_notifying(url: &str, token: &str) -> Self {
        Self::start_with(Some((url, token)), true)
    }

    fn start_with(notify: Option<(&str, &str)>, auth: bool) -> Self {
        require("docker-registry", "docker-registry");
        require("htpasswd", "apache2-utils");
        let dir = tempfile::tempdir().unwrap();
        let user = "customs".to_owned();
        let password = format!("pw-{}", std::process::id());
        let out = Command::new("htpasswd")
            .args(["-Bbn", &user, &password])
            .output()
            .unwrap();
        assert!(out.status.success(), "htpasswd failed");
        fs_err::write(dir.path().join("htpasswd"), &out.stdout).unwrap();
        for _ in 0..5 {
            let port = TcpListener::bind("127.0.0.1:0")
                .unwrap()
                .local_addr()
                .unwrap()
                .port();
            let addr = format!("127.0.0.1:{port}");
            let config = format!(
                "version: 0.1\nlog:\n  level: error\n  accesslog:\n    disabled: true\nstorage:\n  filesystem:\n    rootdirectory: {root}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n  secret: customs-test\nauth:\n  htpasswd:\n    realm: customs-test\n    path: {htpasswd}\n",
                root = dir.path().join("data").display(),
                htpasswd = dir.path().join("htpasswd").display(),
            );
            let config = if auth {
                config
            } else {
                config[..config.find("auth:").unwrap_or(config.len())].to_owned()
            };
            let config = match notify {
                Some((url, token)) => format!(
                    "{config}notifications:\n  endpoints:\n    - name: customs\n      url: {url}\n      headers:\n        Authorization: [\"Bearer {token}\"]\n      timeout: 5s\n      threshold: 3\n      backoff: 1s\n"
                ),
                None => config,
            };
            let config_path = dir.path().join("config.yml");
            fs_err::write(&config_path, config).unwrap();
            let log = fs_err::File::create(dir.path().join("registry.log")).unwrap();
            let mut child = Command::new("docker-registry")
                .arg("serve")
                .arg(&config_path)
                .stdout(Stdio::null())
                .stderr(Stdio::from(log.into_parts().0))
                .spawn()
                .unwrap();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Instant::now() < deadline {
                if child.try_wait().unwrap().is_some() {
                    break;
                }
                if std::net::TcpStream::connect(&addr).is_ok() {
                    return Self {
                        child,
                        addr,
                        user,
                        password,
                        _dir: dir,
                    };
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        panic!("docker-registry did not start; see its log");
    }

    /// `user:password` for skopeo's `--creds`.
    #[must_use]
    pub fn creds(&self) -> String {
        format!("{}:{}", self.user, self.password)
    }

    /// Copies `source` (a skopeo reference such as `oci:/dir:tag`) to
    /// `repository:tag` in this registry. `format` is skopeo's
    /// `--format` (`oci` or `v2s2`), `None` to keep the source's.
    pub fn push(&self, source: &str, repository: &str, tag: &str, format: Option<&str>) {
        self.copy(source, repository, tag, format, false);
    }

    /// Copies a whole multi-platform image (skopeo's `--all`).
    pub fn push_all(&self, source: &str, repository: &str, tag: &str) {
        self.copy(source, repository, tag, None, true);
    }

    fn copy(&self, source: &str, repository: &str, tag: &str, format: Option<&str>, all: bool) {
        require("skopeo", "skopeo");
        let dest = format!("docker://{}/{repository}:{tag}", self.addr);
        let mut cmd = Command::new("skopeo");
        cmd.args([
            "--insecure-policy",
            "copy",
            "--quiet",
            "--dest-tls-verify=false",
            "--dest-creds",
            &self.creds(),
        ]);
        if let Some(f) = format {
            cmd.args(["--format", f]);
        }
        if all {
            cmd.arg("--all");
        }
        let out = cmd.arg(source).arg(&dest).output().unwrap();
        assert!(
            out.status.success(),
            "skopeo copy {source} {dest} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// What `skopeo inspect` says the digest of `repository:tag` is.
    #[must_use]
    pub fn skopeo_digest(&self, repository: &str, tag: &str) -> String {
        skopeo_digest(
            &format!("docker://{}/{repository}:{tag}", self.addr),
            Some(&self.creds()),
        )
    }
}

/// `skopeo inspect --format {{.Digest}}` of any skopeo reference.
#[must_use]
pub fn skopeo_digest(reference: &str, creds: Option<&str>) -> String {
    require("skopeo", "skopeo");
    let mut cmd = Command::new("skopeo");
    cmd.args([
        "--insecure-policy",
        "inspect",
        "--tls-verify=false",
        "--format",
        "{{.Digest}}",
    ]);
    if let Some(c) = creds {
        cmd.args(["--creds", c]);
    }
    let out = cmd.arg(reference).output().unwrap();
    assert!(
        out.status.success(),
        "skopeo inspect {reference} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

/// Writes a Docker config with credentials for `registry` into `dir`
/// (for `DOCKER_CONFIG`).
pub fn write_docker_config(dir: &Path, registry: &str, user: &str, password: &str) {
    write_docker_config_for(dir, &[(registry, user, password)]);
}

/// Writes a Docker config with credentials for several registries.
pub fn write_docker_config_for(dir: &Path, registries: &[(&str, &str, &str)]) {
    use base64_lite::encode;
    let mut auths = serde_json::Map::new();
    for (registry, user, password) in registries {
        let auth = encode(format!("{user}:{password}").as_bytes());
        auths.insert((*registry).to_owned(), serde_json::json!({"auth": auth}));
    }
    let config = serde_json::json!({"auths": auths});
    fs_err::write(
        dir.join("config.json"),
        serde_json::to_vec(&config).unwrap(),
    )
    .unwrap();
}

mod base64_lite {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub(super) fn encode(input: &[u8]) -> String {
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(char::from(TABLE[((n >> (18 - 6 * i)) & 63) as usize]));
                } else {
                    out.push('=');
                }
            }
        }
        out
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
