//! Which OSV ecosystem and name an SBOM package is known by, and how each
//! ecosystem normalises names, so that the index and the queries agree.
//!
//! Distro packages are looked up by **source** package in the release's own
//! ecosystem (`Debian:12`, `Alpine:v3.19`): that is how the distributions
//! publish advisories, and it keeps backported fixes from being judged
//! against upstream versions.

use customs_sbom::{Distro, Package, PackageType};
use customs_version::Scheme;
use packageurl::PackageUrl;

/// How a query reached the package: by its own name, or by the source
/// package it was built from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Via {
    /// The package's own name.
    Direct,
    /// The distro source package (`openssl` for `libssl3`).
    SourcePackage,
    /// The runtime a binary classifier named, by its Bitnami component.
    BinaryClassifier,
}

/// One lookup in the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    /// The OSV ecosystem (`PyPI`, `Debian:12`).
    pub ecosystem: String,
    /// The normalised name.
    pub name: String,
    /// The version to compare, in the ecosystem's syntax.
    pub version: String,
    /// How versions compare.
    pub scheme: Scheme,
    /// Direct or via the source package.
    pub via: Via,
}

/// Why a package cannot be matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unmatchable {
    /// The package has no version.
    NoVersion,
    /// A distro package, but the image's distro release is unknown or has no
    /// advisory ecosystem.
    UnknownDistro,
    /// No advisory ecosystem covers this kind of package.
    NoEcosystem,
}

/// The OSV ecosystem base name of a package type (`None` for distro types,
/// whose ecosystem depends on the release).
#[must_use]
pub fn language_ecosystem(kind: PackageType) -> Option<&'static str> {
    Some(match kind {
        PackageType::Python => "PyPI",
        PackageType::Npm => "npm",
        PackageType::GoModule => "Go",
        PackageType::RustCrate => "crates.io",
        PackageType::JavaArchive => "Maven",
        PackageType::Gem => "RubyGems",
        PackageType::PhpComposer => "Packagist",
        PackageType::Dotnet => "NuGet",
        _ => return None,
    })
}

/// How versions of a package type compare: its distribution's scheme, its
/// language ecosystem's, SemVer-with-zeros for runtimes found in binaries.
#[must_use]
pub fn scheme_of(kind: PackageType) -> Option<Scheme> {
    match kind {
        PackageType::Deb => Some(Scheme::Dpkg),
        PackageType::Apk => Some(Scheme::Apk),
        PackageType::Rpm => Some(Scheme::Rpm),
        PackageType::Binary => Some(Scheme::Runtime),
        _ => language_ecosystem(kind).and_then(Scheme::for_ecosystem),
    }
}

/// The ecosystems a distro release publishes advisories under, most
/// specific first (`Ubuntu:22.04:LTS` and `Ubuntu:22.04`).
#[must_use]
pub fn distro_ecosystems(distro: &Distro) -> Vec<String> {
    let version = distro.version_id.as_deref().unwrap_or("").trim();
    let major = version.split('.').next().unwrap_or("");
    let mut out = Vec::new();
    match distro.id.as_str() {
        "debian" if !major.is_empty() => out.push(format!("Debian:{major}")),
        "ubuntu" if !version.is_empty() => {
            out.push(format!("Ubuntu:{version}:LTS"));
            out.push(format!("Ubuntu:{version}"));
        }
        "alpine" => {
            let mut parts = version.split('.');
            if let (Some(a), Some(b)) = (parts.next(), parts.next()) {
                out.push(format!("Alpine:v{a}.{b}"));
            }
        }
        "wolfi" => out.push("Wolfi".to_owned()),
        "chainguard" => out.push("Chainguard".to_owned()),
        "rocky" if !major.is_empty() => out.push(format!("Rocky Linux:{major}")),
        "almalinux" if !major.is_empty() => out.push(format!("AlmaLinux:{major}")),
        "mageia" if !major.is_empty() => out.push(format!("Mageia:{major}")),
        "opensuse-leap" if !version.is_empty() => {
            out.push(format!("openSUSE:Leap {version}"));
        }
        _ => {}
    }
    out
}

/// Normalises a package name the way the ecosystem compares names: PEP 503
/// for PyPI, case-insensitive for NuGet, Packagist and Alpine/Debian source
/// names as published, unchanged elsewhere.
#[must_use]
pub fn normalize_name(ecosystem: &str, name: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    match base {
        "PyPI" => {
            let mut out = String::with_capacity(name.len());
            let mut separator = false;
            for c in name.trim().chars() {
                if matches!(c, '-' | '_' | '.') {
                    separator = true;
                } else {
                    if separator && !out.is_empty() {
                        out.push('-');
                    }
                    separator = false;
                    out.extend(c.to_lowercase());
                }
            }
            out
        }
        "NuGet" | "Packagist" => name.trim().to_lowercase(),
        _ => name.trim().to_owned(),
    }
}

/// The index key of an ecosystem name: distro ecosystems keep their release
/// (`Debian:12`), language ecosystems lose any suffix.
#[must_use]
pub fn normalize_ecosystem(ecosystem: &str) -> String {
    let base = ecosystem.split(':').next().unwrap_or(ecosystem);
    if language_base(base) {
        base.to_owned()
    } else {
        ecosystem.trim().to_owned()
    }
}

fn language_base(base: &str) -> bool {
    matches!(
        base,
        "PyPI"
            | "npm"
            | "Go"
            | "crates.io"
            | "Maven"
            | "RubyGems"
            | "Packagist"
            | "NuGet"
            | "Hex"
            | "Pub"
    )
}

/// The queries that find advisories for `package` in an image of `distro`.
///
/// # Errors
/// [`Unmatchable`] when no advisory can apply.
pub fn queries(package: &Package, distro: Option<&Distro>) -> Result<Vec<Query>, Unmatchable> {
    let version = package.version.trim();
    if version.is_empty() || version.eq_ignore_ascii_case("unknown") || version == "(devel)" {
        return Err(Unmatchable::NoVersion);
    }
    if package.kind.is_os() {
        return distro_queries(package, distro);
    }
    if package.kind == PackageType::Binary {
        // A runtime found by a binary classifier: Bitnami's advisories for
        // its component, versions compared as SemVer with missing parts
        // zero.
        let component = package
            .metadata
            .get("bitnami")
            .ok_or(Unmatchable::NoEcosystem)?;
        return Ok(vec![Query {
            ecosystem: "Bitnami".to_owned(),
            name: normalize_name("Bitnami", component),
            version: version.to_owned(),
            scheme: Scheme::Runtime,
            via: Via::BinaryClassifier,
        }]);
    }
    let ecosystem = language_ecosystem(package.kind).ok_or(Unmatchable::NoEcosystem)?;
    let scheme = Scheme::for_ecosystem(ecosystem).ok_or(Unmatchable::NoEcosystem)?;
    let purl = parsed_purl(package);
    let (name, version) = match package.kind {
        PackageType::GoModule if package.name == "stdlib" => {
            ("stdlib".to_owned(), go_toolchain_semver(version))
        }
        // The module path is the purl's (a main package's name may be
        // `module/cmd/tool`; the purl keeps `cmd/tool` as its subpath).
        PackageType::GoModule => (
            purl.as_ref()
                .map_or_else(|| package.name.clone(), purl_path),
            version.strip_prefix('v').unwrap_or(version).to_owned(),
        ),
        PackageType::JavaArchive => (maven_name(package, purl.as_ref()), version.to_owned()),
        PackageType::Npm | PackageType::PhpComposer if !package.name.contains('/') => (
            purl.as_ref()
                .map_or_else(|| package.name.clone(), purl_path),
            version.to_owned(),
        ),
        _ => (package.name.clone(), version.to_owned()),
    };
    Ok(vec![Query {
        ecosystem: ecosystem.to_owned(),
        name: normalize_name(ecosystem, &name),
        version,
        scheme,
        via: Via::Direct,
    }])
}

fn distro_queries(package: &Package, distro: Option<&Distro>) -> Result<Vec<Query>, Unmatchable> {
    let ecosystems = distro.map(distro_ecosystems).unwrap_or_default();
    let scheme = scheme_of(package.kind).unwrap_or(Scheme::Rpm);
    if ecosystems.is_empty() {
        return Err(Unmatchable::UnknownDistro);
    }
    // A package read from another tool's SBOM carries its source package
    // only in the purl (`upstream=openssl`, or `openssl@3.0.2-1` when the
    // versions differ).
    let (purl_source, purl_source_version) = purl_upstream(parsed_purl(package).as_ref());
    let source = package.source_name.clone().or(purl_source);
    let source_version = package.source_version.clone().or(purl_source_version);
    let version = rpm_version(package);
    let mut out = Vec::new();
    for ecosystem in ecosystems {
        if let Some(source) = source.as_deref().filter(|s| *s != package.name) {
            out.push(Query {
                ecosystem: ecosystem.clone(),
                name: normalize_name(&ecosystem, source),
                version: source_version.clone().unwrap_or_else(|| version.clone()),
                scheme,
                via: Via::SourcePackage,
            });
        }
        out.push(Query {
            name: normalize_name(&ecosystem, &package.name),
            ecosystem,
            version: version.clone(),
            scheme,
            via: Via::Direct,
        });
    }
    Ok(out)
}

/// rpm versions carry their epoch in metadata; OSV writes `epoch:version-release`.
fn rpm_version(package: &Package) -> String {
    match (package.kind, package.metadata.get("epoch")) {
        (PackageType::Rpm, Some(epoch)) if epoch != "0" && !package.version.contains(':') => {
            format!("{epoch}:{}", package.version)
        }
        _ => package.version.clone(),
    }
}

/// The package's purl, parsed (`None` for a missing or invalid one).
fn parsed_purl(package: &Package) -> Option<PackageUrl<'static>> {
    package.purl.parse().ok()
}

/// `upstream=NAME` or `upstream=NAME@VERSION` from a distro purl.
fn purl_upstream(purl: Option<&PackageUrl<'_>>) -> (Option<String>, Option<String>) {
    let Some(value) = purl.and_then(|p| p.qualifiers().get("upstream")) else {
        return (None, None);
    };
    match value.split_once('@') {
        Some((n, v)) => (Some(n.to_owned()), Some(v.to_owned())),
        None => (Some(value.to_string()), None),
    }
}

/// `namespace/name` of a purl (npm scope, Composer vendor, Go module path).
fn purl_path(purl: &PackageUrl<'_>) -> String {
    match purl.namespace().filter(|ns| !ns.is_empty()) {
        Some(ns) => format!("{ns}/{}", purl.name()),
        None => purl.name().to_owned(),
    }
}

/// `group:artifact` for Maven, from metadata or the purl namespace.
fn maven_name(package: &Package, purl: Option<&PackageUrl<'_>>) -> String {
    if package.name.contains(':') {
        return package.name.clone();
    }
    let group = package
        .metadata
        .get("group-id")
        .map(String::as_str)
        .or_else(|| purl.and_then(PackageUrl::namespace));
    match group {
        Some(g) if !g.is_empty() => format!("{g}:{}", package.name),
        _ => package.name.clone(),
    }
}

/// Go toolchain versions as the Go vulnerability database writes them:
/// `go1.20.7` → `1.20.7`, `go1.21` → `1.21.0`, `go1.21rc2` → `1.21.0-rc.2`.
#[must_use]
pub fn go_toolchain_semver(version: &str) -> String {
    let v = version.trim();
    let v = v.strip_prefix("go").unwrap_or(v);
    let v = v.split([' ', '+']).next().unwrap_or(v);
    let (core, pre) = match v.find(|c: char| c.is_ascii_alphabetic()) {
        Some(i) => (&v[..i], Some(&v[i..])),
        None => (v, None),
    };
    let mut parts: Vec<&str> = core.split('.').filter(|p| !p.is_empty()).collect();
    while parts.len() < 3 {
        parts.push("0");
    }
    let core = parts.join(".");
    match pre {
        Some(pre) => {
            let digits = pre.trim_start_matches(|c: char| c.is_ascii_alphabetic());
            let word = &pre[..pre.len() - digits.len()];
            if digits.is_empty() {
                format!("{core}-{word}")
            } else {
                format!("{core}-{word}.{digits}")
            }
        }
        None => core,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package(kind: PackageType, name: &str, version: &str, purl: &str) -> Package {
        Package::new(kind, name, version, purl.to_owned(), "test", "/x")
    }

    #[test]
    fn names_normalise_per_ecosystem() {
        assert_eq!(normalize_name("PyPI", "Jinja2"), "jinja2");
        assert_eq!(
            normalize_name("PyPI", "zope.interface__x"),
            "zope-interface-x"
        );
        assert_eq!(normalize_name("PyPI", "PyYAML"), "pyyaml");
        assert_eq!(
            normalize_name("NuGet", "Newtonsoft.Json"),
            "newtonsoft.json"
        );
        assert_eq!(normalize_name("npm", "@Babel/core"), "@Babel/core");
        assert_eq!(normalize_ecosystem("Debian:12"), "Debian:12");
        assert_eq!(normalize_ecosystem("PyPI"), "PyPI");
    }

    #[test]
    fn go_toolchain_versions() {
        assert_eq!(go_toolchain_semver("go1.20.7"), "1.20.7");
        assert_eq!(go_toolchain_semver("go1.21"), "1.21.0");
        assert_eq!(go_toolchain_semver("go1.21rc2"), "1.21.0-rc.2");
        assert_eq!(go_toolchain_semver("go1.22.1 X:boringcrypto"), "1.22.1");
    }

    #[test]
    fn distro_packages_query_the_source_package_of_the_release() {
        let distro = Distro {
            id: "debian".into(),
            version_id: Some("12".into()),
            ..Distro::default()
        };
        let mut p = package(
            PackageType::Deb,
            "libssl3",
            "3.0.11-1~deb12u2",
            "pkg:deb/debian/libssl3@3.0.11-1~deb12u2",
        );
        p.source_name = Some("openssl".into());
        let q = queries(&p, Some(&distro)).unwrap();
        assert_eq!(q[0].ecosystem, "Debian:12");
        assert_eq!(
            (q[0].name.as_str(), q[0].via),
            ("openssl", Via::SourcePackage)
        );
        assert_eq!(q[0].version, "3.0.11-1~deb12u2");
        assert_eq!((q[1].name.as_str(), q[1].via), ("libssl3", Via::Direct));
        assert_eq!(queries(&p, None), Err(Unmatchable::UnknownDistro));

        // From another tool's SBOM: the purl carries the source package.
        let p = package(
            PackageType::Deb,
            "bash",
            "5.2.15-2+b8",
            "pkg:deb/debian/bash@5.2.15-2%2Bb8?upstream=bash%405.2.15-2&distro=debian-12",
        );
        let q = queries(&p, Some(&distro)).unwrap();
        assert_eq!(q.len(), 1, "same name: one query");
        let p = package(
            PackageType::Deb,
            "libc6",
            "2.36-9",
            "pkg:deb/debian/libc6@2.36-9?upstream=glibc",
        );
        assert_eq!(queries(&p, Some(&distro)).unwrap()[0].name, "glibc");

        let alpine = Distro {
            id: "alpine".into(),
            version_id: Some("3.19.1".into()),
            ..Distro::default()
        };
        let p = package(PackageType::Apk, "busybox", "1.36.1-r15", "");
        assert_eq!(
            queries(&p, Some(&alpine)).unwrap()[0].ecosystem,
            "Alpine:v3.19"
        );
    }

    #[test]
    fn language_packages_query_their_ecosystem() {
        let p = package(
            PackageType::Python,
            "Jinja2",
            "2.11.2",
            "pkg:pypi/jinja2@2.11.2",
        );
        let q = queries(&p, None).unwrap();
        assert_eq!(
            (q[0].ecosystem.as_str(), q[0].name.as_str()),
            ("PyPI", "jinja2")
        );
        let p = package(
            PackageType::GoModule,
            "stdlib",
            "go1.20.7",
            "pkg:golang/stdlib@1.20.7",
        );
        assert_eq!(queries(&p, None).unwrap()[0].version, "1.20.7");
        let p = package(PackageType::GoModule, "golang.org/x/sys", "v0.10.0", "");
        assert_eq!(queries(&p, None).unwrap()[0].version, "0.10.0");
        let p = package(
            PackageType::GoModule,
            "github.com/docker/distribution/cmd/registry",
            "v2.8.2+ds1",
            "pkg:golang/github.com/docker/distribution@v2.8.2%2Bds1#cmd/registry",
        );
        let q = &queries(&p, None).unwrap()[0];
        assert_eq!(
            (q.name.as_str(), q.version.as_str()),
            ("github.com/docker/distribution", "2.8.2+ds1")
        );
        let mut p = package(
            PackageType::JavaArchive,
            "log4j-core",
            "2.14.1",
            "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
        );
        assert_eq!(
            queries(&p, None).unwrap()[0].name,
            "org.apache.logging.log4j:log4j-core"
        );
        p.metadata.insert("group-id".into(), "g".into());
        assert_eq!(queries(&p, None).unwrap()[0].name, "g:log4j-core");
        let p = package(
            PackageType::Npm,
            "core",
            "7.0.0",
            "pkg:npm/%40babel/core@7.0.0",
        );
        assert_eq!(queries(&p, None).unwrap()[0].name, "@babel/core");
        let p = package(PackageType::Npm, "x", "", "");
        assert_eq!(queries(&p, None), Err(Unmatchable::NoVersion));
    }
}
