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

fn escape_sarif_language_patterns(value: &mut Value) {
    const BROKEN: &str = "^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$";
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                if key == "pattern" && v == BROKEN {
                    *v = Value::from(BROKEN.replace("]?$", "\\]?$"));
                } else {
                    escape_sarif_language_patterns(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(escape_sarif_language_patterns),
        _ => {}
    }
}

/// The validation errors of `document` against `schema_file` (empty when valid).
#[must_use]
pub fn errors(schema_file: &str, document: &[u8]) -> Vec<String> {
    errors_at(&dir().join(schema_file), document)
}

/// The validation errors of `document` against the schema at `path` (one
/// kept elsewhere, such as `../shared/interop`'s OpenVEX schema).
#[must_use]
pub fn errors_at(path: &std::path::Path, document: &[u8]) -> Vec<String> {
    let mut schema: Value = serde_json::from_slice(&fs_err::read(path).unwrap()).unwrap();
    // The official SARIF 2.1.0 schema's `language` patterns end in `]?$`: a
    // literal `]`, valid ECMA-262 that jsonschema's meta-schema check
    // rejects. The file stays unmodified; the same pattern, escaped, is used.
    escape_sarif_language_patterns(&mut schema);
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
