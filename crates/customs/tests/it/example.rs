//! The bundled example image is exactly what the builder makes, and the
//! README's quick start works on it.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{customs, example_dir, example_ref, stdout};

fn tree(root: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in fs_err::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                files.insert(
                    path.strip_prefix(root).unwrap().display().to_string(),
                    fs_err::read(&path).unwrap(),
                );
            }
        }
    }
    files
}

/// Fails when `examples/hello` drifts from `customs_test::example_image()`;
/// `CUSTOMS_BLESS=1` rewrites it.
#[test]
fn example_image_is_current() {
    let dir = tempfile::tempdir().unwrap();
    customs_test::example_image()
        .build()
        .write_oci_layout(dir.path(), Some("latest"));
    if std::env::var_os("CUSTOMS_BLESS").is_some() {
        let _ = fs_err::remove_dir_all(example_dir());
        customs_test::example_image()
            .build()
            .write_oci_layout(&example_dir(), Some("latest"));
    }
    let (want, have) = (tree(dir.path()), tree(&example_dir()));
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        have.keys().collect::<Vec<_>>(),
        "run with CUSTOMS_BLESS=1 to regenerate examples/hello"
    );
    assert!(
        want == have,
        "examples/hello differs from the builder: run with CUSTOMS_BLESS=1"
    );
}

#[test]
fn digest_of_the_example_matches_skopeo() {
    let home = tempfile::tempdir().unwrap();
    let out = customs(home.path())
        .args(["digest", &example_ref()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let expected = customs_test::registry::skopeo_digest(&example_ref(), None);
    assert_eq!(stdout(&out).trim(), expected);
    assert_eq!(
        expected,
        customs_test::example_image()
            .build()
            .manifest_digest
            .as_str()
    );
}
