//! Regression tests named after their issue: hostile images and inputs that
//! once got through, each built in code.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::{customs, stderr, stdout};
use customs_test::{ImageBuilder, LayerBuilder};

fn example_data(name: &str) -> String {
    fs_err::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../customs-test/data/example")
            .join(name),
    )
    .unwrap()
}

/// Layer 1 makes `x` a symlink to `/var/lib/dpkg`; layer 2 writes
/// `x/status`: a runtime's unpacker puts it at `/var/lib/dpkg/status`.
fn hidden_dpkg_image() -> ImageBuilder {
    ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .dir("etc")
                .dir("usr")
                .dir("usr/lib")
                .file("usr/lib/os-release", example_data("os-release"))
                .symlink("etc/os-release", "../usr/lib/os-release")
                .dir("var")
                .dir("var/lib")
                .dir("var/lib/dpkg")
                .symlink("x", "/var/lib/dpkg")
                .symlink("lib", "usr/lib"),
        )
        .layer(
            LayerBuilder::new()
                .file("x/status", example_data("dpkg-status"))
                .file("lib/x86_64-linux-gnu/libssl.so.3", "\u{7f}ELF")
                .file("plain", "p"),
        )
}

fn layout(dir: &Path, image: &ImageBuilder) -> String {
    image
        .build()
        .write_oci_layout(&dir.join("layout"), Some("t"));
    format!("oci:{}:t", dir.join("layout").display())
}

/// Issue 14, hostile 1: a symlinked parent directory hid every package.
#[test]
fn issue14_a_symlinked_parent_directory_does_not_hide_packages() {
    let home = tempfile::tempdir().unwrap();
    let reference = layout(home.path(), &hidden_dpkg_image());
    let out = customs(home.path())
        .args(["sbom", &reference, "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let libssl = doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "libssl3")
        .unwrap_or_else(|| panic!("libssl3 hidden: {}", stdout(&out)));
    assert_eq!(libssl["locations"][0]["path"], "/var/lib/dpkg/status");
    assert!(
        stderr(&out).contains("a runtime unpacks it at `/var/lib/dpkg/status`"),
        "{}",
        stderr(&out)
    );
}

/// The squashed view agrees with what `umoci unpack` (a real runtime
/// unpacker) makes of the same layout.
#[test]
fn issue14_the_squashed_view_matches_umoci_unpack() {
    let home = tempfile::tempdir().unwrap();
    let reference = layout(home.path(), &hidden_dpkg_image());
    let bundle = home.path().join("bundle");
    let unpacked = std::process::Command::new("umoci")
        .args(["unpack", "--rootless", "--image"])
        .arg(format!("{}:t", home.path().join("layout").display()))
        .arg(&bundle)
        .output()
        .expect("umoci is installed by scripts/test");
    assert!(
        unpacked.status.success(),
        "{}",
        String::from_utf8_lossy(&unpacked.stderr)
    );
    let rootfs = bundle.join("rootfs");
    let mut theirs = BTreeSet::new();
    let mut stack = vec![rootfs.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs_err::read_dir(&dir).unwrap() {
            let entry = entry.unwrap();
            let kind = entry.file_type().unwrap();
            let path = entry.path();
            let name = format!("/{}", path.strip_prefix(&rootfs).unwrap().display());
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                theirs.insert(name);
            }
        }
    }
    let out = customs(home.path())
        .args(["files", "-o", "json", &reference])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let files: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    let ours: BTreeSet<String> = files
        .iter()
        .filter(|f| f["kind"] == "file")
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ours, theirs);
    assert!(ours.contains("/var/lib/dpkg/status"));
    assert!(ours.contains("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
}

/// Issue 14: with `XDG_DATA_HOME`, `XDG_CACHE_HOME` or `CUSTOMS_DB_DIR` set
/// by the caller, tests imported advisories into the user's real database.
/// Every command a test starts sees only locations inside its own home.
#[test]
fn issue14_tests_never_see_the_callers_locations() {
    let home = tempfile::tempdir().unwrap();
    let out = customs_test::isolated("env", home.path()).output().unwrap();
    assert!(out.status.success());
    let env = String::from_utf8(out.stdout).unwrap();
    let home_text = home.path().display().to_string();
    for line in env.lines() {
        let (name, value) = line.split_once('=').unwrap();
        if name == "HOME" || name.starts_with("XDG_") || name.starts_with("CUSTOMS_") {
            assert!(
                value.starts_with(&home_text),
                "{line} is outside the test's home"
            );
        }
        assert!(
            !name.starts_with("DOCKER_"),
            "{line} leaks the caller's Docker config"
        );
    }
    for name in ["HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME"] {
        assert!(
            env.contains(&format!("{name}={home_text}")),
            "{name} not set: {env}"
        );
    }
    assert!(!env.contains("CUSTOMS_DB_DIR"), "{env}");
    // And customs itself puts its database there.
    let out = customs(home.path())
        .args(["db", "status"])
        .output()
        .unwrap();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    assert!(text.contains(&home_text), "{text}");
}

/// `customs sbom EXAMPLE -o json=PATH`, under `umask 022`.
fn write_sbom_to(home: &Path, target: &Path) -> std::process::Output {
    let binary = assert_cmd::cargo::cargo_bin("customs");
    customs_test::isolated("sh", home)
        .arg("-c")
        .arg("umask 022; exec \"$0\" sbom \"$1\" -q -o json=\"$2\"")
        .arg(binary)
        .arg(crate::common::example_ref())
        .arg(target)
        .output()
        .unwrap()
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    fs_err::metadata(path).unwrap().permissions().mode() & 0o7777
}

/// Issue 14 (high): `-o FORMAT=/dev/null` turned `/dev/null` into a regular
/// file when run as root. Special files are written in place.
#[cfg(unix)]
#[test]
fn issue14_output_to_a_device_writes_it_in_place() {
    use std::os::unix::fs::FileTypeExt as _;
    let home = tempfile::tempdir().unwrap();
    let out = write_sbom_to(home.path(), Path::new("/dev/null"));
    assert!(out.status.success(), "{}", stderr(&out));
    let meta = fs_err::metadata("/dev/null").unwrap();
    assert!(meta.file_type().is_char_device(), "/dev/null was replaced");
    // A FIFO too: read by another process, never replaced.
    let fifo = home.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let reader = std::process::Command::new("cat")
        .arg(&fifo)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let out = write_sbom_to(home.path(), &fifo);
    assert!(out.status.success(), "{}", stderr(&out));
    let read = reader.wait_with_output().unwrap();
    assert!(String::from_utf8_lossy(&read.stdout).contains("customs.sbom/v1"));
    assert!(
        fs_err::symlink_metadata(&fifo)
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

/// Output files get the usual mode (0644 under umask 022), an existing
/// file keeps its mode and its hard links, and a symlink is written through.
#[cfg(unix)]
#[test]
fn issue14_output_files_keep_modes_links_and_symlinks() {
    let home = tempfile::tempdir().unwrap();
    let dir = home.path();
    let new = dir.join("new.json");
    assert!(write_sbom_to(dir, &new).status.success());
    assert_eq!(mode(&new), 0o644);

    let existing = dir.join("existing.json");
    fs_err::write(&existing, "old").unwrap();
    fs_err::set_permissions(
        &existing,
        std::os::unix::fs::PermissionsExt::from_mode(0o640),
    )
    .unwrap();
    let linked = dir.join("hardlink.json");
    fs_err::hard_link(&existing, &linked).unwrap();
    assert!(write_sbom_to(dir, &existing).status.success());
    assert_eq!(mode(&existing), 0o640);
    assert!(
        fs_err::read_to_string(&linked)
            .unwrap()
            .contains("customs.sbom/v1")
    );

    let real = dir.join("real.json");
    fs_err::write(&real, "old").unwrap();
    let link = dir.join("link.json");
    std::os::unix::fs::symlink("real.json", &link).unwrap();
    assert!(write_sbom_to(dir, &link).status.success());
    assert!(
        fs_err::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert!(
        fs_err::read_to_string(&real)
            .unwrap()
            .contains("customs.sbom/v1")
    );

    // A dangling link is refused and nothing is created.
    let dangling = dir.join("dangling.json");
    std::os::unix::fs::symlink(dir.join("nowhere/x.json"), &dangling).unwrap();
    let out = write_sbom_to(dir, &dangling);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("does not exist"), "{}", stderr(&out));
    assert!(!dir.join("nowhere").exists());
    // And a directory is an error, not replaced.
    let out = write_sbom_to(dir, dir);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("is a directory"), "{}", stderr(&out));
}

/// Issue 14 (hostile 3): file names, package fields and warnings with
/// ESC/OSC sequences reached the terminal raw. No human-readable output may
/// carry a control character.
#[test]
fn issue14_control_characters_never_reach_the_terminal() {
    let home = tempfile::tempdir().unwrap();
    let evil = "\u{1b}]0;pwned\u{7}\u{1b}[2K\u{9b}1A\u{202e}";
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .file(
                &format!("app/node_modules/{evil}x/package.json"),
                format!(r#"{{"name":"lodash","version":"4.17.15{}"}}"#, "\\u001b[2K"),
            )
            .file(&format!("etc/{evil}\nfake-row"), "x")
            .raw(format!("../../{evil}").as_bytes(), b'2', b"/etc/passwd", ""),
    );
    let reference = layout(home.path(), &image);
    for args in [
        vec!["files", reference.as_str()],
        vec!["files", "--all-layers", reference.as_str()],
        vec!["sbom", reference.as_str()],
        vec!["inspect", reference.as_str()],
    ] {
        let out = customs(home.path()).args(&args).output().unwrap();
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
            let text = String::from_utf8_lossy(bytes);
            assert!(
                !text
                    .chars()
                    .any(|c| c.is_control() && c != '\n' && c != '\t'
                        || ('\u{202a}'..='\u{202e}').contains(&c)),
                "{args:?} {stream}: {text:?}"
            );
        }
        if args[0] == "files" {
            assert!(
                stdout(&out).contains("\\x1b]0;pwned\\x07"),
                "{}",
                stdout(&out)
            );
            assert!(!stdout(&out).lines().any(|l| l.starts_with("fake-row")));
        }
    }
}

/// Issue 14, errors a new user meets: a local path without its transport,
/// a transport written as a URL, a missing layout, a missing lint file, an
/// import of nothing, and one folder imported under two spellings.
#[test]
fn issue14_errors_a_new_user_meets_say_what_to_do() {
    let home = tempfile::tempdir().unwrap();
    let example = crate::common::example_dir();
    let run = |args: &[&str]| {
        let out = customs(home.path())
            .current_dir(example.parent().unwrap())
            .args(args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", stdout(&out));
        stderr(&out)
    };
    let err = run(&["inspect", "hello"]);
    assert!(
        err.contains("`hello` is a local path, not a registry image: write `oci:hello`"),
        "{err}"
    );
    let err = run(&["inspect", "./hello"]);
    assert!(err.contains("write `oci:./hello`"), "{err}");
    assert!(!err.contains("https://"), "never a registry for `.`: {err}");
    let err = run(&["inspect", "./missing/image"]);
    assert!(
        err.contains("`.` and `..` are never part of a registry reference"),
        "{err}"
    );
    let err = run(&["inspect", "oci://hello"]);
    assert!(err.contains("not `oci://DIR`"), "{err}");
    let err = run(&["inspect", "oci:missing"]);
    assert!(err.contains("error: missing: does not exist"), "{err}");
    assert!(!err.contains("resolved metadata"), "{err}");
    let err = run(&["lint", "Dockerfile.missing"]);
    assert!(err.contains("Dockerfile.missing: no such file"), "{err}");

    let empty = home.path().join("empty.json");
    fs_err::write(&empty, "{}").unwrap();
    let err = run(&["db", "import", empty.to_str().unwrap()]);
    assert!(err.contains("no valid OSV advisory in it"), "{err}");

    let advisories = example.parent().unwrap().join("advisories");
    for spelling in [
        advisories.clone(),
        advisories.join("."),
        advisories.join("../advisories/"),
    ] {
        let out = customs(home.path())
            .args(["db", "import", "-q"])
            .arg(&spelling)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let out = customs(home.path())
        .args(["db", "status", "-o", "json"])
        .output()
        .unwrap();
    let status: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["sources"].as_array().unwrap().len(), 1, "{status}");
}

/// Issue 14 (hostile 10): a credential that no rule recognises, on the
/// line of one that a rule does, was quoted in full in JSON and SARIF
/// evidence, and `inspect -o json` history showed the curl password.
#[test]
fn issue14_evidence_and_history_never_quote_credentials() {
    let home = tempfile::tempdir().unwrap();
    let token = "ghp_R7kq2PzX9mWv4LtY8sNc3HdJ6fBg1QaE5uTo".to_owned();
    let image = ImageBuilder::new().layer(
        LayerBuilder::new()
            .created_by("RUN curl -u admin:S3cr3tP4ssw0rd https://repo/x # buildkit")
            .file(
                "app/deploy.sh",
                format!(
                    "curl -u admin:S3cr3tP4ssw0rd -H 'Authorization: token {token}' https://x\nDB_PASS=ohnoS3cretDb MYSQL_PWD=rootRootPw GH={token}\n"
                ),
            ),
    );
    let reference = layout(home.path(), &image);
    for args in [
        vec!["secrets", "-o", "json", reference.as_str()],
        vec!["secrets", "-o", "sarif", reference.as_str()],
        vec!["secrets", reference.as_str()],
        vec!["inspect", "-o", "json", reference.as_str()],
        vec!["inspect", reference.as_str()],
    ] {
        let out = customs(home.path()).args(&args).output().unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        for secret in [
            "S3cr3tP4ssw0rd",
            "ohnoS3cretDb",
            "rootRootPw",
            token.as_str(),
        ] {
            assert!(!all.contains(secret), "{args:?} printed {secret}: {all}");
        }
        if args[0] == "secrets" && args.len() > 2 {
            assert!(all.contains("admin:[redacted]"), "{args:?}: {all}");
        }
    }
}

/// Issue 14 (hostile 4): `secrets` skipped files over 16 MiB in silence.
/// A 40 MiB text file is scanned whole: a secret at its start, one across
/// the first 16 MiB window boundary, and one at its end, each once, with
/// its line counted from the start of the file.
#[test]
fn issue14_large_files_are_scanned_whole() {
    let home = tempfile::tempdir().unwrap();
    let filler_line = "INSERT INTO log VALUES ('nothing to see here, just a long dump line');\n";
    let lines_per_window = (16 << 20) / filler_line.len();
    let key = "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi6XfNkSsiwRbdW5RSKG4PK8eUq\n-----END RSA PRIVATE KEY-----\n";
    let mut text = String::with_capacity(41 << 20);
    text.push_str("aws_access_key_id = AKIAQX7ZPL3MN5RT2WYB\n");
    for _ in 0..lines_per_window - 2 {
        text.push_str(filler_line);
    }
    let key_line = text.matches('\n').count() + 1;
    text.push_str(key);
    while text.len() < 40 << 20 {
        text.push_str(filler_line);
    }
    let last_line = text.matches('\n').count() + 1;
    text.push_str("GITHUB_TOKEN=ghp_R7kq2PzX9mWv4LtY8sNc3HdJ6fBg1QaE5uTo\n");
    let image = ImageBuilder::new().layer(LayerBuilder::new().file("srv/dump.sql", &text));
    let reference = layout(home.path(), &image);
    let out = customs(home.path())
        .args(["secrets", "-q", "-o", "json", &reference])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut found: Vec<(String, u64)> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["location"]["line"].as_u64().unwrap(),
            )
        })
        .collect();
    found.sort_by_key(|f| f.1);
    let lines: Vec<u64> = found.iter().map(|f| f.1).collect();
    assert_eq!(lines, [1, key_line as u64, last_line as u64], "{found:?}");
}

/// Issue 14 (hostile 5): no overall deadline. `--deadline` bounds the whole
/// command and says so.
#[test]
fn issue14_the_command_deadline_stops_a_trickling_registry() {
    use customs_test::fault::{FaultServer, Reply};
    let server = FaultServer::start(|r| {
        if r.path == "/v2/" {
            return Reply::new(200, "{}");
        }
        Reply::new(200, vec![b' '; 10_000])
            .header("Content-Type", "application/vnd.oci.image.manifest.v1+json")
            .trickled(std::time::Duration::from_millis(50))
    });
    let home = tempfile::tempdir().unwrap();
    let start = std::time::Instant::now();
    let out = customs(home.path())
        .args(["inspect", "--timeout", "600", "--deadline", "2"])
        .arg(format!("{}/r:latest", server.addr))
        .output()
        .unwrap();
    assert!(start.elapsed() < std::time::Duration::from_secs(20));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("gave up after 2s: the command did not finish within --deadline"),
        "{}",
        stderr(&out)
    );
}

/// Issue 14 (hostile 1), the other direction: `/var/lib/dpkg` is itself a
/// symlink to where the database really is. `dpkg` reads through it, so the
/// packages are found, in an image and in an unpacked root filesystem.
#[test]
fn issue14_a_symlinked_package_database_directory_does_not_hide_packages() {
    let home = tempfile::tempdir().unwrap();
    let status = example_data("dpkg-status");
    let image = ImageBuilder::new()
        .layer(
            LayerBuilder::new()
                .file("etc/os-release", example_data("os-release"))
                .dir("var/lib")
                .symlink("var/lib/dpkg", "../../opt/pkgdb"),
        )
        .layer(LayerBuilder::new().file("opt/pkgdb/status", &status));
    let reference = layout(home.path(), &image);
    let rootfs = home.path().join("rootfs");
    fs_err::create_dir_all(rootfs.join("etc")).unwrap();
    fs_err::create_dir_all(rootfs.join("var/lib")).unwrap();
    fs_err::create_dir_all(rootfs.join("opt/pkgdb")).unwrap();
    fs_err::write(rootfs.join("etc/os-release"), example_data("os-release")).unwrap();
    fs_err::write(rootfs.join("opt/pkgdb/status"), &status).unwrap();
    std::os::unix::fs::symlink("../../opt/pkgdb", rootfs.join("var/lib/dpkg")).unwrap();
    for reference in [reference, format!("dir:{}", rootfs.display())] {
        let out = customs(home.path())
            .args(["sbom", &reference, "-o", "json"])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let doc: Value = serde_json::from_slice(&out.stdout).unwrap();
        let libssl = doc["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "libssl3")
            .unwrap_or_else(|| panic!("{reference}: libssl3 hidden"));
        assert_eq!(
            libssl["locations"][0]["path"], "/var/lib/dpkg/status",
            "{reference}"
        );
        assert!(
            stderr(&out)
                .contains("`/var/lib/dpkg/status` leads through a symlink to `/opt/pkgdb/status`"),
            "{}",
            stderr(&out)
        );
    }
}

/// `-o json=/dev/stdout` with the shell's `>>` keeps what the file held:
/// the redirection is written through, never replaced or rewound.
#[cfg(unix)]
#[test]
fn issue14_dev_stdout_appends_to_the_shells_redirection() {
    let home = tempfile::tempdir().unwrap();
    let log = home.path().join("log.json");
    fs_err::write(&log, "kept\n").unwrap();
    let binary = assert_cmd::cargo::cargo_bin("customs");
    let out = customs_test::isolated("sh", home.path())
        .arg("-c")
        .arg("exec \"$0\" sbom -q -o json=/dev/stdout \"$1\" >> \"$2\"")
        .arg(binary)
        .arg(crate::common::example_ref())
        .arg(&log)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let text = fs_err::read_to_string(&log).unwrap();
    assert!(
        text.starts_with("kept\n{"),
        "{}",
        &text[..40.min(text.len())]
    );
    assert!(text.contains("customs.sbom/v1"));
}
