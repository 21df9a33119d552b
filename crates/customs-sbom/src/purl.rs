//! Package URLs ([purl spec](https://github.com/package-url/purl-spec)),
//! built with the `packageurl` crate so encoding follows the spec.

use packageurl::PackageUrl;

/// Why a purl could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build a package URL for `{name}`: {reason}")]
pub struct PurlError {
    name: String,
    reason: String,
}

/// Builds `pkg:TYPE/NAMESPACE/NAME@VERSION?QUALIFIERS`.
///
/// # Errors
/// When the type or name is empty or invalid for the spec.
pub fn purl(
    ty: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, &str)],
) -> Result<String, PurlError> {
    let fail = |e: packageurl::Error| PurlError {
        name: name.to_owned(),
        reason: e.to_string(),
    };
    let mut p = PackageUrl::new(ty, name).map_err(fail)?;
    if let Some(ns) = namespace.filter(|n| !n.is_empty()) {
        p.with_namespace(ns).map_err(fail)?;
    }
    if !version.is_empty() {
        p.with_version(version).map_err(fail)?;
    }
    let mut sorted: Vec<_> = qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    sorted.sort();
    for (k, v) in sorted {
        p.add_qualifier(*k, *v).map_err(fail)?;
    }
    Ok(p.to_string())
}

#[cfg(test)]
mod tests {
    use super::purl;

    #[test]
    fn builds_purls() {
        assert_eq!(
            purl(
                "deb",
                Some("debian"),
                "libssl3",
                "3.0.15-1~deb12u1",
                &[("distro", "debian-12"), ("arch", "amd64")]
            )
            .unwrap(),
            "pkg:deb/debian/libssl3@3.0.15-1~deb12u1?arch=amd64&distro=debian-12"
        );
        assert_eq!(
            purl("npm", Some("@babel"), "core", "7.0.0", &[]).unwrap(),
            "pkg:npm/%40babel/core@7.0.0"
        );
        assert_eq!(
            purl("pypi", None, "jinja2", "2.11.2", &[]).unwrap(),
            "pkg:pypi/jinja2@2.11.2"
        );
        assert_eq!(
            purl("golang", Some("golang.org/x"), "sys", "v0.0.0-2023", &[]).unwrap(),
            "pkg:golang/golang.org/x/sys@v0.0.0-2023"
        );
        assert_eq!(
            purl("deb", Some("debian"), "libc6", "2.36-9+deb12u4", &[]).unwrap(),
            "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4"
        );
        assert!(purl("npm", None, "", "1", &[]).is_err());
    }
}
