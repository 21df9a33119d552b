use std::path::{Path, PathBuf};

use assert_cmd::Command;

/// The `customs` binary with every location inside `home` and nothing of
/// the caller's environment ([`customs_test::isolated`]).
pub(crate) fn customs(home: &Path) -> Command {
    Command::from_std(customs_test::isolated(
        assert_cmd::cargo::cargo_bin("customs"),
        home,
    ))
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
