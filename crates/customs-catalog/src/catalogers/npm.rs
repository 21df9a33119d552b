//! npm packages installed on disk: every `package.json` with a name and a
//! version (`node_modules/**`, and applications' own manifests), as
//! [package.json](https://docs.npmjs.com/cli/v10/configuring-npm/package-json) defines them.

use customs_layer::Selector;
use customs_sbom::{Package, PackageType, PurlError, purl};
use serde_json::Value;

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

/// The npm cataloger.
pub struct Npm;

const NAME: &str = "javascript-package-cataloger";

/// `pkg:npm/%40scope/name@version`: an npm scope is the purl namespace.
pub(crate) fn npm_purl(name: &str, version: &str) -> Result<String, PurlError> {
    let (namespace, short) = match name.split_once('/') {
        Some((scope, rest)) if scope.starts_with('@') => (Some(scope), rest),
        _ => (None, name),
    };
    purl("npm", namespace, short, version, &[])
}

fn licenses(manifest: &Value) -> Vec<String> {
    let one = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("type").and_then(Value::as_str).map(str::to_owned),
        _ => None,
    };
    if let Some(l) = manifest.get("license").and_then(one) {
        return vec![l];
    }
    manifest
        .get("licenses")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(one).collect())
        .unwrap_or_default()
}

fn parse(content: &[u8], path: &str) -> Result<Option<Package>, CatalogError> {
    let manifest: Value = serde_json::from_slice(content)
        .map_err(|e| CatalogError::Malformed(format!("invalid JSON: {e}")))?;
    let (Some(name), Some(version)) = (
        manifest.get("name").and_then(Value::as_str),
        manifest.get("version").and_then(Value::as_str),
    ) else {
        return Ok(None); // not a package (a workspace root, a test fixture)
    };
    if name.is_empty() || version.is_empty() {
        return Ok(None);
    }
    let purl = npm_purl(name, version).map_err(|e| CatalogError::Malformed(e.to_string()))?;
    let mut package = Package::new(PackageType::Npm, name, version, purl, NAME, path);
    package.licenses = licenses(&manifest);
    if manifest.get("private").and_then(Value::as_bool) == Some(true) {
        package
            .metadata
            .insert("private".to_owned(), "true".to_owned());
    }
    Ok(Some(package))
}

impl Cataloger for Npm {
    fn name(&self) -> &'static str {
        NAME
    }
    fn tags(&self) -> &'static [&'static str] {
        &["language", "npm", "javascript", "node"]
    }
    fn selector(&self) -> Selector {
        Selector::new().basename("package.json")
    }
    fn max_file_size(&self) -> u64 {
        8 << 20
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        parse(file.content, file.path).map(|p| Found::Packages(p.into_iter().collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_scoped_and_plain_packages() {
        let p = parse(
            br#"{"name":"@babel/core","version":"7.0.0","license":"MIT"}"#,
            "/n/package.json",
        )
        .unwrap()
        .unwrap();
        assert_eq!(
            (p.purl.as_str(), p.licenses.clone()),
            ("pkg:npm/%40babel/core@7.0.0", vec!["MIT".to_owned()])
        );
        let q = parse(
            br#"{"name":"x","version":"1.0.0","licenses":[{"type":"MIT"},{"type":"Apache-2.0"}]}"#,
            "/p",
        )
        .unwrap()
        .unwrap();
        assert_eq!(q.licenses, ["MIT", "Apache-2.0"]);
        assert!(parse(br#"{"name":"no-version"}"#, "/p").unwrap().is_none());
    }

    #[test]
    fn invalid_json_is_an_error() {
        let err = parse(b"{\"name\": \"x\", ", "/p").unwrap_err();
        assert!(
            err.to_string().starts_with("malformed: invalid JSON: EOF"),
            "{err}"
        );
    }
}
