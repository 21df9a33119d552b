//! Each scheme against examples from its own specification, plus order
//! properties (total, antisymmetric, transitive) on generated versions.

use std::cmp::Ordering;

use proptest::prelude::*;

use crate::Scheme;

/// Asserts that the versions are listed in strictly increasing order.
fn ascending(scheme: Scheme, versions: &[&str]) {
    for pair in versions.windows(2) {
        assert_eq!(
            scheme.compare(pair[0], pair[1]),
            Ok(Ordering::Less),
            "{scheme:?}: {} < {}",
            pair[0],
            pair[1]
        );
        assert_eq!(
            scheme.compare(pair[1], pair[0]),
            Ok(Ordering::Greater),
            "{scheme:?}: {} > {}",
            pair[1],
            pair[0]
        );
    }
}

fn equal(scheme: Scheme, a: &str, b: &str) {
    assert_eq!(
        scheme.compare(a, b),
        Ok(Ordering::Equal),
        "{scheme:?}: {a} == {b}"
    );
}

#[test]
fn dpkg_policy_examples() {
    // Debian Policy 5.6.12: `~` sorts before everything, even the end.
    ascending(
        Scheme::Dpkg,
        &[
            "1.0~rc1", "1.0", "1.0-1", "1.0-1+b1", "1.0-2", "1.0a", "1.0.1", "1:0.9",
        ],
    );
    ascending(
        Scheme::Dpkg,
        &[
            "3.0.11-1~deb12u2",
            "3.0.11-1~deb12u3",
            "3.0.15-1~deb12u1",
            "3.0.15-1",
        ],
    );
    equal(Scheme::Dpkg, "0:1.0", "1.0");
    assert!(Scheme::Dpkg.compare("1.0", "a:b").is_err());
}

#[test]
fn apk_tools_examples() {
    ascending(
        Scheme::Apk,
        &[
            "1.0_alpha",
            "1.0_alpha2",
            "1.0_beta",
            "1.0_pre1",
            "1.0_rc1",
            "1.0",
            "1.0-r1",
            "1.0_p1",
            "1.0a",
            "1.0.1",
        ],
    );
    ascending(
        Scheme::Apk,
        &["1.2.4_git20230717-r4", "1.2.4_git20230717-r5", "1.2.5-r0"],
    );
    ascending(Scheme::Apk, &["3.1.4-r5", "3.1.4-r6", "3.1.10-r0"]);
    ascending(Scheme::Apk, &["1.01", "1.1"]);
    // A number after a letter (sudo, opensmtpd, libretls in Alpine).
    ascending(
        Scheme::Apk,
        &[
            "1.9.5-r0",
            "1.9.5p1-r0",
            "1.9.5p2-r0",
            "1.9.5p10-r0",
            "1.9.6-r0",
        ],
    );
    equal(Scheme::Apk, "1.0-r0", "1.0-r0");
    for bad in ["", "a1", "1.0-r", "1.0_foo", "1..0"] {
        assert!(!Scheme::Apk.is_valid(bad), "{bad:?}");
    }
}

#[test]
fn composer_follows_php_version_compare() {
    // PHP's documented version_compare examples and Composer's stabilities.
    ascending(
        Scheme::Composer,
        &[
            "1.0.0-dev",
            "1.0.0-alpha1",
            "1.0.0-beta2",
            "1.0.0-RC1",
            "1.0.0",
            "1.0.0-p1",
            "1.0.1",
            "1.0.10",
            "3.9",
            "3.11",
            "6.4.1.1",
            "6.4.2",
        ],
    );
    ascending(Scheme::Composer, &["5.2", "5.2.0.1", "5.3.0-rc1", "5.3.0"]);
    ascending(Scheme::Composer, &["1.0rc1", "1.0", "1.0pl1"]);
    equal(Scheme::Composer, "v2.1.0", "2.1.0");
    equal(Scheme::Composer, "2.0", "2.0.0.0");
    equal(Scheme::Composer, "1.0-beta1", "1.0.beta.1");
    for bad in ["", "dev-master", "1.0 beta", "x1"] {
        assert!(!Scheme::Composer.is_valid(bad), "{bad:?}");
    }
}

#[test]
fn rpm_examples() {
    ascending(
        Scheme::Rpm,
        &["1.0~rc1", "1.0", "1.0^git1", "1.0a", "1.0.1"],
    );
    ascending(
        Scheme::Rpm,
        &["3.0.7-24.el9", "3.0.7-27.el9", "1:3.0.1-1.el9"],
    );
    equal(Scheme::Rpm, "0:1.0-1", "1.0-1");
    assert!(Scheme::Rpm.compare("1.0", "x:1").is_err());
}

#[test]
fn semver_precedence() {
    ascending(
        Scheme::Semver,
        &[
            "1.0.0-alpha",
            "1.0.0-alpha.1",
            "1.0.0-alpha.beta",
            "1.0.0-beta",
            "1.0.0-beta.2",
            "1.0.0-beta.11",
            "1.0.0-rc.1",
            "1.0.0",
        ],
    );
    equal(Scheme::Semver, "1.0.0+build.1", "v1.0.0");
    assert!(Scheme::Semver.compare("1.0", "1.0.0").is_err());
}

#[test]
fn go_modules() {
    ascending(
        Scheme::Go,
        &[
            "v0.0.0-20220715151400-c0bba94af5f8",
            "v0.0.0-20230808041426-22f0818cf810",
            "v0.1.0",
            "v1.2.0-rc.1",
            "v1.2",
            "v2.0.0+incompatible",
            "2.8.2",
        ],
    );
    equal(Scheme::Go, "v1", "1.0.0");
}

#[test]
fn pep440_examples() {
    ascending(
        Scheme::Pep440,
        &[
            "1.0.dev456",
            "1.0a1",
            "1.0a2.dev456",
            "1.0a12",
            "1.0b1.dev456",
            "1.0b2",
            "1.0b2.post345",
            "1.0rc1",
            "1.0",
            "1.0+abc.5",
            "1.0.post456.dev34",
            "1.0.post456",
            "1.1.dev1",
        ],
    );
    equal(Scheme::Pep440, "1.0", "1.0.0");
    equal(Scheme::Pep440, "2020.12.5", "2020.12.05");
}

#[test]
fn maven_comparable_version() {
    ascending(
        Scheme::Maven,
        &[
            "1-alpha-1",
            "1-alpha-2",
            "1-beta-1",
            "1-milestone-1",
            "1-rc-1",
            "1-snapshot",
            "1",
            "1-sp",
            "1-foo",
            "1.1",
        ],
    );
    ascending(
        Scheme::Maven,
        &[
            "1.0.alpha1",
            "1.0.beta1",
            "1.0.m1",
            "1.0.rc1",
            "1.0",
            "1.0.1",
        ],
    );
    ascending(
        Scheme::Maven,
        &["2.14.0-rc1", "2.14.0", "2.14.0.1", "2.14.1"],
    );
    for (a, b) in [
        ("1", "1.0"),
        ("1.0", "1.0.0"),
        ("1-ga", "1"),
        ("1-final", "1.0"),
        ("1-release", "1"),
        ("1cr1", "1rc1"),
        ("1a1", "1-alpha-1"),
        ("1.0.0.RELEASE", "1.0.0"),
        ("1.0-0", "1.0"),
    ] {
        equal(Scheme::Maven, a, b);
    }
}

#[test]
fn rubygems_examples() {
    ascending(
        Scheme::Gem,
        &[
            "1.0.a", "1.0.a.1", "1.0.b", "1.0.rc1", "1.0", "1.0.1", "1.1",
        ],
    );
    equal(Scheme::Gem, "1.0", "1.0.0");
    ascending(Scheme::Gem, &["13.0.6", "13.1.0"]);
}

#[test]
fn nuget_examples() {
    ascending(
        Scheme::Nuget,
        &[
            "1.0.0-alpha",
            "1.0.0-Beta",
            "1.0.0-rc.1",
            "1.0.0",
            "1.0.0.1",
            "1.0.1",
            "13.0.1",
        ],
    );
    equal(Scheme::Nuget, "1.0", "1.0.0.0");
    equal(Scheme::Nuget, "1.0.0-BETA", "1.0.0-beta");
    assert!(Scheme::Nuget.compare("1.0.0.0.0", "1").is_err());
}

#[test]
fn ecosystems_map_to_schemes() {
    assert_eq!(Scheme::for_ecosystem("Debian:12"), Some(Scheme::Dpkg));
    assert_eq!(Scheme::for_ecosystem("Alpine:v3.19"), Some(Scheme::Apk));
    assert_eq!(Scheme::for_ecosystem("PyPI"), Some(Scheme::Pep440));
    assert_eq!(Scheme::for_ecosystem("crates.io"), Some(Scheme::Semver));
    assert_eq!(Scheme::for_ecosystem("GIT"), None);
}

fn version_strategy() -> impl Strategy<Value = String> {
    "[0-9]{1,3}(\\.[0-9]{1,3}){0,3}([-_.~+]?(alpha|beta|rc|pre|p|sp|a|b|[0-9]{1,2}|r[0-9]))?"
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn orders_are_total_antisymmetric_and_transitive(a in version_strategy(), b in version_strategy(), c in version_strategy()) {
        for scheme in Scheme::ALL {
            let (Ok(ab), Ok(bc), Ok(ac), Ok(ba)) = (scheme.compare(&a, &b), scheme.compare(&b, &c), scheme.compare(&a, &c), scheme.compare(&b, &a)) else { continue };
            prop_assert_eq!(ab, ba.reverse(), "{:?} antisymmetry {} {}", scheme, &a, &b);
            prop_assert_eq!(scheme.compare(&a, &a).unwrap(), Ordering::Equal);
            if ab != Ordering::Greater && bc != Ordering::Greater {
                prop_assert_ne!(ac, Ordering::Greater, "{:?} transitivity {} {} {}", scheme, &a, &b, &c);
            }
        }
    }

    #[test]
    fn parsing_never_panics(s in "\\PC{0,40}") {
        for scheme in Scheme::ALL {
            let _ = scheme.compare(&s, "1.0");
        }
    }
}

#[test]
fn runtime_versions_pad_missing_parts_with_zero() {
    // Bitnami's ranges compare `16.2` as `16.2.0` (issue 15).
    equal(Scheme::Runtime, "16.2", "16.2.0");
    equal(Scheme::Runtime, "v18.4.0", "18.4.0+build.1");
    ascending(
        Scheme::Runtime,
        &[
            "1",
            "1.0.1",
            "9.6.24",
            "15.0.0-rc1",
            "15",
            "15.1",
            "25.3.2",
            "25.3.2.7",
            "25.3.10",
        ],
    );
    for bad in ["", "a1", "1..0", "1.0-", "-1", "1.x"] {
        assert!(!Scheme::Runtime.is_valid(bad), "{bad:?}");
    }
}
