//! Validation against the official JSON schemas kept in `schemas/`
//! (SPDX 2.3, CycloneDX 1.6 and the documents it references), offline.

use std::path::PathBuf;

use serde_json::Value;

/// The folder holding the schemas.
#[must_use]
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

struct LocalSchemas;

impl jsonschema::Retrieve for LocalSchemas {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        let name = uri.as_str().rsplit('/').next().unwrap_or_default();
        Ok(serde_json::from_slice(&fs_err::read(dir().join(name))?)?)
    }
}

/// The validation errors of `document` against `schema_file` (empty when valid).
#[must_use]
pub fn errors(schema_file: &str, document: &[u8]) -> Vec<String> {
    let schema: Value =
        serde_json::from_slice(&fs_err::read(dir().join(schema_file)).unwrap()).unwrap();
    let validator = jsonschema::options()
        .with_retriever(LocalSchemas)
        .should_validate_formats(true)
        .build(&schema)
        .unwrap();
    let instance: Value = serde_json::from_slice(document).unwrap();
    validator
        .iter_errors(&instance)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect()
}

/// Panics with every error unless `document` is valid against `schema_file`.
pub fn assert_valid(schema_file: &str, document: &[u8]) {
    let errors = errors(schema_file, document);
    assert!(errors.is_empty(), "{schema_file}:\n{}", errors.join("\n"));
}
