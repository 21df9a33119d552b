//! SBOM formats. Each writer is one module; all take a [`crate::Sbom`].

pub mod cyclonedx16;
pub mod native;
pub mod spdx23;

use sha2::Digest as _;

/// A license as formats want it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum License {
    /// A valid SPDX expression, canonical form (`MIT`, `Apache-2.0 OR MIT`).
    Expression { expression: String, single_id: bool },
    /// Free text that is not an SPDX expression.
    Other(String),
}

/// The canonical SPDX expression declared licence text stands for (read
/// leniently, as the SBOM writers do), or `None` when it is free text.
#[must_use]
pub fn spdx_expression(text: &str) -> Option<String> {
    match license(text) {
        License::Expression { expression, .. } => Some(expression),
        License::Other(_) => None,
    }
}

/// Reads declared licence text as an SPDX expression when it is one
/// (leniently: `Apache 2.0`, `GPL-2+`, `MIT/X11` are understood), as free
/// text otherwise.
pub(crate) fn license(text: &str) -> License {
    let text = text.trim();
    let canonical = match spdx::Expression::canonicalize(text) {
        Ok(Some(c)) => Some(c),
        Ok(None) => Some(text.to_owned()),
        Err(_) => None,
    };
    let parsed = canonical
        .and_then(|c| spdx::Expression::parse(&c).ok())
        .or_else(|| {
            // A whole phrase that names one licence ("Apache License 2.0").
            spdx::imprecise_license_id(text)
                .filter(|(_, matched)| *matched == text.len())
                .and_then(|(id, _)| spdx::Expression::parse(id.name).ok())
        });
    match parsed {
        Some(expression) => {
            let single_id = expression.requirements().count() == 1
                && expression.requirements().all(|r| {
                    matches!(
                        r.req.license,
                        spdx::LicenseItem::Spdx {
                            or_later: false,
                            ..
                        }
                    ) && r.req.addition.is_none()
                });
            License::Expression {
                expression: expression.to_string(),
                single_id,
            }
        }
        None => License::Other(text.to_owned()),
    }
}

/// A package read back from another tool's document: its type comes from
/// its purl; documents carry no layer evidence.
pub(crate) fn package_from_purl(
    name: &str,
    version: &str,
    purl: String,
    found_by: &str,
) -> Option<crate::Package> {
    let ty = purl
        .strip_prefix("pkg:")
        .and_then(|r| r.split('/').next())
        .unwrap_or("");
    let kind = crate::PackageType::from_purl_type(ty)?;
    let mut package = crate::Package::new(kind, name, version, purl, found_by, "");
    package.locations.clear();
    Some(package)
}

/// Fills in the distro of an SBOM read from another tool's document, when
/// the document did not name it: from the `distro` qualifier of its distro
/// packages' purls (`pkg:deb/debian/bash@5.2?distro=debian-12`), which both
/// customs and Syft write.
pub(crate) fn infer_distro(sbom: &mut crate::Sbom) {
    if sbom.distro.is_some() {
        return;
    }
    let qualifier = sbom
        .packages
        .iter()
        .filter(|p| p.kind.is_os())
        .filter_map(|p| p.purl.parse::<packageurl::PackageUrl<'static>>().ok())
        .find_map(|p| p.qualifiers().get("distro").map(ToString::to_string));
    if let Some(q) = qualifier {
        let (id, version) = q.split_once('-').unwrap_or((q.as_str(), ""));
        sbom.distro = Some(crate::Distro {
            id: id.to_ascii_lowercase(),
            version_id: Some(version.to_owned()).filter(|v| !v.is_empty()),
            ..crate::Distro::default()
        });
    }
}

/// Joins licence expressions with `AND`, parenthesising compound ones.
pub(crate) fn and_join(parts: impl IntoIterator<Item = String>) -> String {
    let parts: Vec<String> = parts.into_iter().collect();
    if let [only] = parts.as_slice() {
        return only.clone();
    }
    let wrapped: Vec<String> = parts
        .into_iter()
        .map(|p| if p.contains(' ') { format!("({p})") } else { p })
        .collect();
    wrapped.join(" AND ")
}

/// `LicenseRef-…` for free licence text, stable for the same text.
pub(crate) fn license_ref(text: &str) -> String {
    let cleaned: String = text
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .take(40)
        .collect();
    format!(
        "LicenseRef-{}-{}",
        cleaned.trim_matches('-'),
        &short_hash(text.as_bytes())[..8]
    )
}

/// Hex of the first 8 bytes of SHA-256.
pub(crate) fn short_hash(bytes: &[u8]) -> String {
    sha2::Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A name-based UUID (version 5 layout) from arbitrary bytes, so the same
/// document always gets the same serial number.
pub(crate) fn uuid_from(bytes: &[u8]) -> String {
    let mut h: [u8; 16] = [0; 16];
    h.copy_from_slice(&sha2::Sha256::digest(bytes)[..16]);
    h[6] = (h[6] & 0x0f) | 0x50;
    h[8] = (h[8] & 0x3f) | 0x80;
    let hex: String = h.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn licenses() {
        assert_eq!(
            license("MIT"),
            License::Expression {
                expression: "MIT".into(),
                single_id: true
            }
        );
        assert_eq!(
            license("Apache-2.0 OR MIT"),
            License::Expression {
                expression: "Apache-2.0 OR MIT".into(),
                single_id: false
            }
        );
        assert!(
            matches!(license("Apache 2.0"), License::Expression { ref expression, .. } if expression == "Apache-2.0")
        );
        assert_eq!(
            license("Some custom licence, see LICENSE"),
            License::Other("Some custom licence, see LICENSE".into())
        );
        assert!(license_ref("Some custom licence").starts_with("LicenseRef-Some-custom-licence-"));
        let u = uuid_from(b"x");
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
    }
}
