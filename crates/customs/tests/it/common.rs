use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `customs` binary with an isolated cache and no Docker config.
pub(crate) fn customs(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("customs").unwrap();
    cmd.env("HOME", home)
        .env("CUSTOMS_CACHE_DIR", home.join("cache"))
        .env_remove("DOCKER_CONFIG")
        .env_remove("CUSTOMS_QUIET");
    cmd
}

/// The committed example image.
pub(crate) fn example_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/hello")
}

/// `oci:<example>:latest`.
pub(crate) fn example_ref() -> String {
    format!("oci:{}:latest", example_dir().display())
}

pub(crate) fn stdout(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

pub(crate) fn stderr(output: &std::process::Output) -> String {
    String::from_utf8(output.stderr.clone()).unwrap()
}
