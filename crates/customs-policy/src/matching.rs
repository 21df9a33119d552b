//! How exceptions, VEX statements and approved lists name things: globs of
//! repositories and package URLs with or without a version.

/// Whether `name` matches `glob`: `*` matches within one path segment,
/// `**` across segments; everything else literally. Case-sensitive, as
/// repository names are lower case by the distribution spec.
#[must_use]
pub fn glob_matches(glob: &str, name: &str) -> bool {
    fn go(g: &[u8], n: &[u8]) -> bool {
        match g.split_first() {
            None => n.is_empty(),
            Some((b'*', rest)) if rest.first() == Some(&b'*') => {
                let rest = &rest[1..];
                (0..=n.len()).any(|i| go(rest, &n[i..]))
            }
            Some((b'*', rest)) => {
                let segment = n.iter().position(|&c| c == b'/').unwrap_or(n.len());
                (0..=segment).any(|i| go(rest, &n[i..]))
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(glob.as_bytes(), name.as_bytes())
}

/// A package URL without its qualifiers and subpath, split into the part
/// before the version and the version.
fn purl_parts(purl: &str) -> (&str, Option<&str>) {
    let core = purl.split(['?', '#']).next().unwrap_or(purl);
    // The version follows the last `@` after the type (a namespace may
    // hold an encoded `%40`, never a raw `@`).
    match core.rfind('@') {
        Some(at) => (&core[..at], Some(&core[at + 1..])),
        None => (core, None),
    }
}

/// Whether the package URL `found` is the package `wanted` names: the same
/// type, namespace and name, and — when `wanted` has a version — the same
/// version (percent-encoding of `+` and `:` aside). Qualifiers are ignored
/// unless `wanted` pins a version and an architecture both.
#[must_use]
pub fn purl_matches(wanted: &str, found: &str) -> bool {
    let (wanted_name, wanted_version) = purl_parts(wanted);
    let (found_name, found_version) = purl_parts(found);
    let decode = |s: &str| {
        s.replace("%2B", "+")
            .replace("%2b", "+")
            .replace("%3A", ":")
            .replace("%3a", ":")
    };
    if !wanted_name.eq_ignore_ascii_case(found_name) {
        return false;
    }
    match wanted_version {
        None => true,
        Some(v) => found_version.is_some_and(|f| decode(f) == decode(v)),
    }
}

/// The digest an image product names: `sha256:…` itself, or the version of
/// a `pkg:oci/…@sha256%3A…` package URL.
#[must_use]
pub fn image_digest_of(product: &str) -> Option<String> {
    if product.starts_with("sha256:") || product.starts_with("sha512:") {
        return Some(product.to_owned());
    }
    if product.starts_with("pkg:oci/") || product.starts_with("pkg:docker/") {
        let (_, version) = purl_parts(product);
        let v = version?.replace("%3A", ":").replace("%3a", ":");
        return v.starts_with("sha256:").then_some(v);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_matches(
            "registry.example.com/shop/*",
            "registry.example.com/shop/cart"
        ));
        assert!(!glob_matches(
            "registry.example.com/shop/*",
            "registry.example.com/shop/a/b"
        ));
        assert!(glob_matches(
            "registry.example.com/**",
            "registry.example.com/shop/a/b"
        ));
        assert!(glob_matches(
            "docker.io/library/debian",
            "docker.io/library/debian"
        ));
        assert!(!glob_matches(
            "docker.io/library/debian",
            "docker.io/library/debian-slim"
        ));
        assert!(glob_matches("*", "x"));
    }

    #[test]
    fn purls() {
        assert!(purl_matches(
            "pkg:deb/debian/openssl",
            "pkg:deb/debian/openssl@3.0.11-1?arch=amd64"
        ));
        assert!(purl_matches(
            "pkg:deb/debian/openssl@3.0.11-1",
            "pkg:deb/debian/openssl@3.0.11-1?arch=amd64"
        ));
        assert!(!purl_matches(
            "pkg:deb/debian/openssl@3.0.10",
            "pkg:deb/debian/openssl@3.0.11-1"
        ));
        assert!(!purl_matches(
            "pkg:deb/debian/openssl",
            "pkg:deb/debian/openssl-dev@1"
        ));
        assert!(purl_matches(
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4",
            "pkg:deb/debian/libc6@2.36-9+deb12u4"
        ));
        assert!(purl_matches(
            "pkg:npm/%40babel/core",
            "pkg:npm/%40babel/core@7.0.0"
        ));
    }

    #[test]
    fn image_products() {
        let d = "sha256:124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126";
        assert_eq!(image_digest_of(d).as_deref(), Some(d));
        assert_eq!(
            image_digest_of("pkg:oci/alpine@sha256%3A124c7d2707904eea7431fffe91522a01e5a861a624ee31d03372cc1d138a3126?repository_url=index.docker.io/library").as_deref(),
            Some(d)
        );
        assert_eq!(image_digest_of("pkg:apk/wolfi/bash@1.0.0"), None);
    }
}
