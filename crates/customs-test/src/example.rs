//! The example image bundled at `examples/hello`: a small Debian 12 based
//! image with Python and npm packages, a fake secret deleted in a later
//! layer, and a runtime config with the usual omissions (root user, no
//! health check). `customs`'s tests check the committed layout is exactly
//! what this builds (`CUSTOMS_BLESS=1` rewrites it).

use serde_json::json;

use crate::{ImageBuilder, LayerBuilder};

const DPKG_STATUS: &str = include_str!("../data/example/dpkg-status");
const OS_RELEASE: &str = include_str!("../data/example/os-release");
const REQUESTS: &str = include_str!("../data/example/METADATA-requests");
const URLLIB3: &str = include_str!("../data/example/METADATA-urllib3");

/// The example image.
#[must_use]
pub fn example_image() -> ImageBuilder {
    let site = "usr/local/lib/python3.11/site-packages";
    ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .created_by("/bin/sh -c #(nop) ADD file:debian-12-rootfs.tar.xz in /")
                .dir("bin")
                .dir("etc")
                .dir("usr")
                .dir("usr/bin")
                .dir("usr/lib")
                .dir("var")
                .dir("var/lib")
                .dir("var/lib/dpkg")
                .file("usr/lib/os-release", OS_RELEASE)
                .symlink("etc/os-release", "../usr/lib/os-release")
                .file_mode("bin/dash", "\u{7f}ELF (placeholder for dash)\n", 0o755)
                .symlink("bin/sh", "dash")
                .file_mode("usr/bin/openssl", "\u{7f}ELF (placeholder for openssl)\n", 0o755)
                .file("etc/passwd", "root:x:0:0:root:/root:/bin/bash\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n")
                .file("var/lib/dpkg/status", DPKG_STATUS),
        )
        .layer(
            LayerBuilder::new()
                .created_by("RUN /bin/sh -c pip install --no-deps requests==2.25.1 urllib3==1.26.4 # buildkit")
                .dir("usr/local/lib/python3.11/site-packages")
                .file(&format!("{site}/requests-2.25.1.dist-info/METADATA"), REQUESTS)
                .file(&format!("{site}/requests-2.25.1.dist-info/RECORD"), "requests/__init__.py,sha256=,4000\nrequests-2.25.1.dist-info/METADATA,,\n")
                .file(&format!("{site}/requests/__init__.py"), "__version__ = '2.25.1'\n")
                .file(&format!("{site}/urllib3-1.26.4.dist-info/METADATA"), URLLIB3)
                .file(&format!("{site}/urllib3/__init__.py"), "__version__ = '1.26.4'\n"),
        )
        .layer(
            LayerBuilder::new()
                .created_by("COPY . /app # buildkit")
                .dir("app")
                .file("app/app.py", "import requests\nprint(requests.get('http://localhost:8080/health').status_code)\n")
                .file("app/package.json", r#"{"name":"hello","version":"1.0.0","dependencies":{"lodash":"4.17.15"}}"#)
                .file("app/node_modules/lodash/package.json", r#"{"name":"lodash","version":"4.17.15","license":"MIT"}"#)
                .file("app/.env", "AWS_ACCESS_KEY_ID=AKIAEXAMPLEFAKEKEY01\nAWS_SECRET_ACCESS_KEY=fakeSecretKeyForTheCustomsExample0000000\n"),
        )
        .layer(LayerBuilder::new().created_by("RUN /bin/sh -c rm /app/.env # buildkit").whiteout("app/.env"))
        .config_field("Env", json!(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "DB_PASSWORD=example-fake-password"]))
        .config_field("Cmd", json!(["python3", "/app/app.py"]))
        .config_field("WorkingDir", json!("/app"))
        .config_field("ExposedPorts", json!({"8080/tcp": {}}))
        .config_field(
            "Labels",
            json!({"org.opencontainers.image.source": "https://example.com/customs/hello", "org.opencontainers.image.version": "1.0.0"}),
        )
        .annotation("org.opencontainers.image.base.name", "docker.io/library/debian:12")
}
