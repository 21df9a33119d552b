//! The CLI against a real registry: credentials from the Docker config and
//! from standard input, digests equal to skopeo's, and the layer walk.

use predicates::prelude::*;

use crate::common::{customs, example_dir, stderr, stdout};
use customs_test::registry::{TestRegistry, write_docker_config};

/// A registry holding the example image as `examples/hello:TAG`.
fn registry_with_example(tag: &str, format: Option<&str>) -> TestRegistry {
    let registry = TestRegistry::start();
    registry.push(
        &format!("oci:{}:latest", example_dir().display()),
        "examples/hello",
        tag,
        format,
    );
    registry
}

#[test]
fn reads_a_pushed_image_with_docker_config_credentials() {
    let registry = registry_with_example("1.0", Some("v2s2"));
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("docker");
    fs_err::create_dir_all(&config).unwrap();
    write_docker_config(&config, &registry.addr, &registry.user, &registry.password);
    let reference = format!("{}/examples/hello:1.0", registry.addr);

    customs(home.path())
        .args(["digest", &reference])
        .assert()
        .code(2)
        .stderr(predicate::str::contains(format!(
            "registry {} requires authentication",
            registry.addr
        )));

    let out = customs(home.path())
        .env("DOCKER_CONFIG", &config)
        .args(["digest", &reference])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        registry.skopeo_digest("examples/hello", "1.0")
    );

    let out = customs(home.path())
        .env("DOCKER_CONFIG", &config)
        .args(["files", "--summary", "-o", "json", &reference])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["deleted"], 1);
    assert!(
        stderr(&out).is_empty(),
        "no progress bars when stderr is not a terminal: {}",
        stderr(&out)
    );
}

#[test]
fn password_from_stdin_is_used_and_never_printed() {
    let registry = registry_with_example("latest", None);
    let home = tempfile::tempdir().unwrap();
    let reference = format!("registry:{}/examples/hello", registry.addr);
    customs(home.path())
        .args([
            "inspect",
            &reference,
            "--username",
            &registry.user,
            "--password-stdin",
        ])
        .write_stdin(format!("{}\n", registry.password))
        .assert()
        .success()
        .stdout(predicate::str::contains(
            registry.skopeo_digest("examples/hello", "latest"),
        ));
    let out = customs(home.path())
        .args([
            "inspect",
            &reference,
            "--username",
            &registry.user,
            "--password-stdin",
        ])
        .write_stdin("WrongPassword-314159\n")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("refused the credentials"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("WrongPassword-314159")
            && !stdout(&out).contains("WrongPassword-314159")
    );
}

#[test]
fn uses_a_docker_credential_helper() {
    let registry = registry_with_example("latest", None);
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    fs_err::create_dir_all(&bin).unwrap();
    // A helper speaking the docker-credential protocol: server URL on stdin, JSON on stdout.
    let helper = bin.join("docker-credential-customs-test");
    let log = home.path().join("helper.log");
    fs_err::write(
        &helper,
        format!(
            "#!/bin/sh\n[ \"$1\" = get ] || exit 1\nread server\necho \"$server\" >> {}\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{}\",\"Secret\":\"{}\"}}' \"$server\"\n",
            log.display(),
            registry.user,
            registry.password
        ),
    )
    .unwrap();
    std::fs::set_permissions(&helper, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let config = home.path().join("docker");
    fs_err::create_dir_all(&config).unwrap();
    fs_err::write(
        config.join("config.json"),
        format!(
            r#"{{"credHelpers":{{"{}":"customs-test"}}}}"#,
            registry.addr
        ),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = customs(home.path())
        .env("DOCKER_CONFIG", &config)
        .env("PATH", path)
        .args(["digest", &format!("{}/examples/hello", registry.addr)])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        registry.skopeo_digest("examples/hello", "latest")
    );
    assert_eq!(
        fs_err::read_to_string(&log).unwrap().trim(),
        registry.addr,
        "the helper was asked for this registry"
    );
}

/// Progress bars appear on a terminal and never with `--quiet`; `script`
/// gives the command a pseudo-terminal.
#[test]
fn progress_bars_show_on_a_terminal_only() {
    let registry = registry_with_example("latest", None);
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("docker");
    fs_err::create_dir_all(&config).unwrap();
    write_docker_config(&config, &registry.addr, &registry.user, &registry.password);
    let binary = assert_cmd::cargo::cargo_bin("customs");
    let run = |quiet: bool| {
        let _ = fs_err::remove_dir_all(home.path().join("cache"));
        let command = format!(
            "{} files --summary {} {}/examples/hello",
            binary.display(),
            if quiet { "--quiet" } else { "" },
            registry.addr
        );
        let out = customs_test::isolated("script", home.path())
            .args(["-qec", &command, "/dev/null"])
            .env("DOCKER_CONFIG", &config)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let layer = customs_test::example_image().build().layers[0]
        .0
        .short()
        .to_owned();
    assert!(
        run(false).contains(&layer),
        "a bar names each blob it downloads"
    );
    assert!(
        !run(true).contains(&format!("{layer} ")),
        "--quiet shows no bar"
    );
}
