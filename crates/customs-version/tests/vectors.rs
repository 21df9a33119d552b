//! Each ordering against its reference implementation's own test vectors
//! (`tests/vectors/*.data`, each file naming its source): dpkg's
//! `Dpkg_Version.t`, rpm's `rpmvercmp.at`, apk-tools' `version.data`,
//! packaging's PEP 440 `VERSIONS` list and Maven's `ComparableVersionTest`.
#![allow(clippy::unwrap_used)] // test helpers fail loudly

use std::cmp::Ordering;
use std::path::Path;

use customs_version::Scheme;

fn lines(file: &str) -> Vec<String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/vectors")
        .join(file);
    fs_err::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

fn ordering(text: &str) -> Ordering {
    match text {
        "-1" | "<" => Ordering::Less,
        "0" | "=" => Ordering::Equal,
        "1" | ">" => Ordering::Greater,
        other => panic!("bad expectation {other}"),
    }
}

/// The `(a, b, expected)` rows of a vector file whose columns are
/// `a b expected` (dpkg, rpm) or `a OP b` (apk-tools).
fn rows(file: &str, op_in_the_middle: bool) -> Vec<(String, String, Ordering)> {
    lines(file)
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            if op_in_the_middle {
                (f[0].to_owned(), f[2].to_owned(), ordering(f[1]))
            } else {
                (f[0].to_owned(), f[1].to_owned(), ordering(f[2]))
            }
        })
        .collect()
}

/// Checks `a b expected` triples; returns how many were checked and which
/// lines were skipped because a version does not parse.
fn check_triples(scheme: Scheme, rows: &[(String, String, Ordering)]) -> (usize, Vec<String>) {
    let mut checked = 0;
    let mut skipped = Vec::new();
    let mut failures = Vec::new();
    for (a, b, expected) in rows {
        match (scheme.compare(a, b), scheme.compare(b, a)) {
            (Ok(ab), Ok(ba)) => {
                checked += 1;
                if ab != *expected || ba != expected.reverse() {
                    failures.push(format!("{a} vs {b}: got {ab:?}, want {expected:?}"));
                }
            }
            _ => skipped.push(format!("{a} {b}")),
        }
    }
    assert!(failures.is_empty(), "{scheme:?}:\n{}", failures.join("\n"));
    (checked, skipped)
}

#[test]
fn dpkg_vectors() {
    let rows = rows("dpkg.data", false);
    let (checked, skipped) = check_triples(Scheme::Dpkg, &rows);
    // dpkg itself warns about `-0.6.5` (an upstream version must start
    // with a digit); customs refuses it.
    assert_eq!(skipped, ["-0.6.5 0.9.1"]);
    assert_eq!(checked, rows.len() - 1);
}

#[test]
fn rpm_vectors() {
    let rows = rows("rpmvercmp.data", false);
    let (checked, skipped) = check_triples(Scheme::Rpm, &rows);
    // rpm compares any string; customs accepts what rpm package versions
    // can contain, so the separator-only cases of RhBug:178798 are refused.
    assert!(
        skipped.iter().all(|s| s.chars().any(|c| "+_".contains(c))),
        "{skipped:?}"
    );
    assert!(checked >= 50, "{checked} of {}", rows.len());
}

#[test]
fn apk_vectors() {
    let rows = rows("apk.data", true);
    let (checked, skipped) = check_triples(Scheme::Apk, &rows);
    // apk-tools string-sorts the versions it calls invalid (`1.0bc`,
    // `23_foo`, `0.1.0_alpha_pre2`); customs refuses them.
    assert!(skipped.len() <= 5, "{skipped:?}");
    assert_eq!(checked + skipped.len(), rows.len());
}

#[test]
fn pep440_vectors() {
    let versions = lines("pep440.data");
    for (i, a) in versions.iter().enumerate() {
        for b in &versions[i + 1..] {
            assert_eq!(
                Scheme::Pep440.compare(a, b).unwrap(),
                Ordering::Less,
                "{a} < {b}"
            );
            assert_eq!(
                Scheme::Pep440.compare(b, a).unwrap(),
                Ordering::Greater,
                "{b} > {a}"
            );
        }
    }
    assert_eq!(versions.len(), 92);
}

#[test]
fn maven_vectors() {
    let mut checked = 0;
    for line in lines("maven.data") {
        let mut fields = line.split_whitespace();
        let kind = fields.next().unwrap();
        let versions: Vec<&str> = fields.collect();
        match kind {
            "order" => {
                for (i, a) in versions.iter().enumerate() {
                    for b in &versions[i + 1..] {
                        assert_eq!(
                            Scheme::Maven.compare(a, b).unwrap(),
                            Ordering::Less,
                            "{a} < {b}"
                        );
                        assert_eq!(
                            Scheme::Maven.compare(b, a).unwrap(),
                            Ordering::Greater,
                            "{b} > {a}"
                        );
                        checked += 1;
                    }
                }
            }
            "equal" => {
                let (a, b) = (versions[0], versions[1]);
                assert_eq!(
                    Scheme::Maven.compare(a, b).unwrap(),
                    Ordering::Equal,
                    "{a} == {b}"
                );
                checked += 1;
            }
            other => panic!("bad line kind {other}"),
        }
    }
    assert!(checked > 500, "{checked}");
}
