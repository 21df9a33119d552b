//! customs's own JSON: the model as is, under a versioned `schema` field
//! (`customs.sbom/v1`), documented in `docs/sbom-json.md`.

use serde::{Deserialize, Serialize};

use crate::Sbom;

/// The schema name written in every native document.
pub const SCHEMA: &str = "customs.sbom/v1";

#[derive(Serialize, Deserialize)]
struct Document {
    schema: String,
    #[serde(flatten)]
    sbom: Sbom,
}

/// Serialises `sbom` as pretty JSON.
///
/// # Errors
/// Serialisation errors (none in practice).
pub fn to_vec(sbom: &Sbom) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = serde_json::to_vec_pretty(&Document {
        schema: SCHEMA.to_owned(),
        sbom: sbom.clone(),
    })?;
    out.push(b'\n');
    Ok(out)
}

/// Reads a native document back.
///
/// # Errors
/// When it is not JSON of this schema.
pub fn from_slice(bytes: &[u8]) -> Result<Sbom, serde_json::Error> {
    let doc: Document = serde_json::from_slice(bytes)?;
    if doc.schema != SCHEMA {
        return Err(serde::de::Error::custom(format!(
            "unsupported schema `{}` (expected {SCHEMA})",
            doc.schema
        )));
    }
    Ok(doc.sbom)
}
