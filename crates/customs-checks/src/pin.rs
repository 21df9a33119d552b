//! `customs pin`: the image references of Dockerfiles (`FROM`), compose
//! files and Kubernetes manifests (`image:`), with the exact byte span of
//! each, so that pinning rewrites only the reference and leaves every other
//! byte of the file — formatting, comments, quoting — as it was.

use std::collections::HashSet;
use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use serde_json::Value;

/// One reference in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// 1-based line.
    pub line: usize,
    /// Byte span of the reference.
    pub span: Range<usize>,
    /// The reference as written.
    pub reference: String,
    /// Why it cannot be pinned (a variable, `scratch`), when it cannot.
    pub skip: Option<&'static str>,
}

impl Target {
    /// Whether the reference already names a digest.
    #[must_use]
    pub fn is_pinned(&self) -> bool {
        self.reference.contains("@sha256:")
    }
}

/// Why a file's references could not be found.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PinError {
    /// The Dockerfile does not parse.
    #[error(transparent)]
    Dockerfile(#[from] crate::dockerfile::ParseError),
    /// The YAML does not parse.
    #[error(transparent)]
    Manifest(#[from] crate::manifest::ManifestError),
}

static IMAGE_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?m)^[ \t]*(?:-[ \t]+)?image[ \t]*:[ \t]*(["']?)([^\s"'#]+)["']?"#)
        .unwrap_or_else(|_| unreachable!("literal"))
});

/// Whether a file name is a Dockerfile's.
#[must_use]
pub fn is_dockerfile(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    name.starts_with("Dockerfile")
        || name.starts_with("Containerfile")
        || name.ends_with(".dockerfile")
        || name.ends_with(".Dockerfile")
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset].matches('\n').count() + 1
}

/// The image references of a file.
///
/// # Errors
/// [`PinError`] when the file does not parse.
pub fn targets(path: &str, text: &str) -> Result<Vec<Target>, PinError> {
    if is_dockerfile(path) {
        return dockerfile_targets(path, text);
    }
    // Parse first, so that only real `image` fields are touched (and a
    // broken file is an error, not a partial rewrite).
    let mut images = HashSet::new();
    for (_, doc) in crate::manifest::documents(path, text)? {
        collect_images(&doc, &mut images);
    }
    Ok(IMAGE_LINE
        .captures_iter(text)
        .filter_map(|caps| {
            let m = caps.get(2)?;
            let reference = m.as_str().to_owned();
            if !images.contains(&reference) {
                return None;
            }
            let skip = reference.contains('$').then_some("built from a variable");
            Some(Target {
                line: line_of(text, m.start()),
                span: m.range(),
                reference,
                skip,
            })
        })
        .collect())
}

/// The `image` of compose services and of Kubernetes containers.
fn collect_images(value: &Value, out: &mut HashSet<String>) {
    let mut add = |item: &Value| {
        if let Some(image) = item.get("image").and_then(Value::as_str) {
            out.insert(image.to_owned());
        }
    };
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("services", Value::Object(services)) => services.values().for_each(&mut add),
                    (
                        "containers" | "initContainers" | "ephemeralContainers",
                        Value::Array(list),
                    ) => {
                        list.iter().for_each(&mut add);
                    }
                    _ => {}
                }
            }
            for v in map.values() {
                collect_images(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_images(v, out)),
        _ => {}
    }
}

fn dockerfile_targets(path: &str, text: &str) -> Result<Vec<Target>, PinError> {
    let dockerfile = parse_dockerfile::parse(text).map_err(|e| crate::dockerfile::ParseError {
        path: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let mut stages: HashSet<String> = HashSet::new();
    let mut out = Vec::new();
    for stage in dockerfile.stages() {
        let from = stage.from;
        let reference = from.image.value.to_string();
        let skip = if stages.contains(&reference.to_ascii_lowercase()) {
            Some("an earlier build stage")
        } else if reference == "scratch" {
            Some("scratch is not an image")
        } else if reference.contains('$') {
            Some("built from a variable")
        } else {
            None
        };
        // The span covers the written reference (quotes and escapes are
        // not allowed in FROM image names, so it is the text itself).
        let span = from.image.span.clone();
        if text.get(span.clone()) == Some(reference.as_str()) {
            out.push(Target {
                line: line_of(text, span.start),
                span,
                reference,
                skip,
            });
        }
        if let Some((_, name)) = &from.as_ {
            stages.insert(name.value.to_ascii_lowercase());
        }
    }
    Ok(out)
}

/// `name:tag@digest` (a reference that already has a digest keeps it).
#[must_use]
pub fn pinned(reference: &str, digest: &str) -> String {
    if reference.contains('@') {
        reference.to_owned()
    } else {
        format!("{reference}@{digest}")
    }
}

/// Applies replacements (non-overlapping spans) and leaves every other byte.
#[must_use]
pub fn rewrite(text: &str, replacements: &[(Range<usize>, String)]) -> String {
    let mut sorted: Vec<&(Range<usize>, String)> = replacements.iter().collect();
    sorted.sort_by_key(|(r, _)| r.start);
    let mut out = String::with_capacity(text.len() + 80 * sorted.len());
    let mut at = 0;
    for (range, new) in sorted {
        if range.start < at || range.end > text.len() {
            continue;
        }
        out.push_str(&text[at..range.start]);
        out.push_str(new);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dockerfile_from_lines() {
        let text = "# syntax=docker/dockerfile:1\nARG BASE=debian:12\nFROM golang:1.22 AS build\nRUN go build\nFROM  --platform=linux/amd64 debian:12-slim\nCOPY --from=build /x /x\nFROM build AS again\nFROM ${BASE}\nFROM scratch\nFROM alpine:3.19@sha256:0000000000000000000000000000000000000000000000000000000000000000\n";
        let t = targets("Dockerfile", text).unwrap();
        let refs: Vec<(&str, Option<&str>, usize)> = t
            .iter()
            .map(|t| (t.reference.as_str(), t.skip, t.line))
            .collect();
        assert_eq!(
            refs,
            [
                ("golang:1.22", None, 3),
                ("debian:12-slim", None, 5),
                ("build", Some("an earlier build stage"), 7),
                ("${BASE}", Some("built from a variable"), 8),
                ("scratch", Some("scratch is not an image"), 9),
                (
                    "alpine:3.19@sha256:0000000000000000000000000000000000000000000000000000000000000000",
                    None,
                    10
                ),
            ]
        );
        assert!(t[5].is_pinned());
        let digest = "sha256:1111111111111111111111111111111111111111111111111111111111111111";
        let new = rewrite(
            text,
            &[(t[0].span.clone(), pinned(&t[0].reference, digest))],
        );
        assert_eq!(
            new,
            text.replace(
                "FROM golang:1.22 AS",
                &format!("FROM golang:1.22@{digest} AS")
            )
        );
    }

    #[test]
    fn yaml_image_fields_keep_their_formatting() {
        let text = "services:\n  web:\n    image: \"nginx:1.25\"   # the proxy\n    environment:\n      image: not-an-image-field\n  db:\n    image: postgres\n";
        let t = targets("compose.yaml", text).unwrap();
        let refs: Vec<(&str, usize)> = t.iter().map(|t| (t.reference.as_str(), t.line)).collect();
        // `environment.image` is a variable named `image`, not an image.
        assert_eq!(refs, [("nginx:1.25", 3), ("postgres", 7)]);
        let new = rewrite(
            text,
            &[(t[0].span.clone(), "nginx:1.25@sha256:ab".to_owned())],
        );
        assert!(
            new.contains("    image: \"nginx:1.25@sha256:ab\"   # the proxy\n"),
            "{new}"
        );
        assert_eq!(new.len(), text.len() + "@sha256:ab".len());
        let k8s = "apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n    - name: a\n      image: busybox:1.36\n";
        let t = targets("pod.yaml", k8s).unwrap();
        assert_eq!(t[0].reference, "busybox:1.36");
        assert!(targets("bad.yaml", "a: [").is_err());
    }
}
