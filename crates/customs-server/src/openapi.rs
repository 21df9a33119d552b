//! The OpenAPI 3.1 document, made from the route list.

use serde_json::{Map, Value, json};

use crate::auth::Access;
use crate::routes::Route;

/// The document.
pub(crate) fn document(routes: &[Route]) -> Value {
    let mut paths = Map::new();
    for route in routes {
        let parameters: Vec<Value> = route
            .params
            .iter()
            .map(|p| {
                json!({
                    "name": p.name,
                    "in": p.location,
                    "required": p.required,
                    "description": p.description,
                    "schema": {"type": p.kind},
                })
            })
            .collect();
        let (status, media_type, schema) = route.ok;
        let mut responses = Map::new();
        let success = if status == 204 {
            json!({"description": "Done."})
        } else {
            json!({
                "description": "Success.",
                "content": {media_type: {"schema": {"$ref": format!("#/components/schemas/{schema}")}}},
            })
        };
        responses.insert(status.to_string(), success);
        let error = |description: &str| {
            json!({
                "description": description,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
            })
        };
        if !route.params.is_empty() || route.body.is_some() {
            responses.insert("400".to_owned(), error("The request is malformed."));
        }
        let security = match route.access {
            Access::Public => json!([]),
            Access::Page => {
                responses.insert("303".to_owned(), json!({"description": "Not signed in: to the sign-in form (unless the dashboard is public)."}));
                json!([{"session": []}, {"bearer": ["read"]}, {}])
            }
            Access::Token(scope) => {
                responses.insert(
                    "401".to_owned(),
                    error("No token, or an unknown or revoked one."),
                );
                responses.insert(
                    "403".to_owned(),
                    error("The token's scope or environment does not allow this."),
                );
                responses.insert(
                    "429".to_owned(),
                    error("Rate limit: retry after the Retry-After header's seconds."),
                );
                json!([{"bearer": [scope.name()]}])
            }
        };
        responses.insert("500".to_owned(), error("The store or the server failed."));
        let mut operation = json!({
            "operationId": route.operation,
            "summary": route.summary,
            "tags": [route.tag],
            "security": security,
            "responses": responses,
        });
        match route.access {
            Access::Token(scope) => operation["x-customs-scope"] = json!(scope.name()),
            Access::Page => operation["x-customs-scope"] = json!("page"),
            Access::Public => {}
        }
        if !parameters.is_empty() {
            operation["parameters"] = Value::Array(parameters);
        }
        if let Some(body) = route.body {
            let media_type = if body == "SignIn" {
                "application/x-www-form-urlencoded"
            } else {
                "application/json"
            };
            operation["requestBody"] = json!({
                "required": true,
                "content": {media_type: {"schema": {"$ref": format!("#/components/schemas/{body}")}}},
            });
        }
        let entry = paths
            .entry(route.path.to_owned())
            .or_insert_with(|| json!({}));
        entry[route.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "customs",
            "version": env!("CARGO_PKG_VERSION"),
            "summary": "Container-image supply-chain evidence: digests, SBOMs, findings, signatures, decisions, deployments.",
            "license": {"name": "Apache-2.0 OR MIT", "identifier": "Apache-2.0 OR MIT"},
        },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "session": {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "customs_session",
                    "description": "The dashboard's session: set by POST /ui/login.",
                },
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A token from `customs token create --scope read|write|admin [--env E]`.",
                },
            },
            "schemas": schemas(),
        },
    })
}

fn schemas() -> Value {
    json!({
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {"error": {"type": "string"}},
        },
        "Object": {"type": "object"},
        "SignIn": {
            "type": "object",
            "required": ["token"],
            "properties": {"token": {"type": "string"}, "next": {"type": "string"}},
        },
        "Array": {"type": "array", "items": {"type": "object"}},
        "Text": {"type": "string"},
        "Health": {
            "type": "object",
            "required": ["status", "store", "schema", "version"],
            "properties": {
                "status": {"const": "ok"},
                "store": {"enum": ["sqlite", "postgres"]},
                "schema": {"type": "integer"},
                "version": {"type": "string"},
            },
        },
        "Image": {
            "type": "object",
            "required": ["digest", "tags", "history", "deployments"],
            "properties": {
                "digest": {"type": "string", "pattern": "^sha(256|512):[0-9a-f]+$"},
                "tags": {"type": "array", "items": {
                    "type": "object",
                    "properties": {"tag": {"type": "string"}, "first_seen": {"type": "string"}},
                }},
                "blocked": {"type": ["object", "null"]},
                "deployments": {"type": "array", "items": {"type": "object"}},
                "promotions": {"type": "array", "items": {"type": "object"}},
                "releases": {"type": "array", "items": {"type": "object"}},
                "history": {"type": "array", "items": {"type": "object"}},
            },
        },
        "Job": {
            "type": "object",
            "required": ["id", "kind", "subject", "state", "attempts", "queued_at"],
            "properties": {
                "id": {"type": "integer"},
                "kind": {"enum": ["scan", "rescan"]},
                "subject": {"type": "string"},
                "payload": {"type": "object"},
                "state": {"enum": ["queued", "running", "done", "failed"]},
                "attempts": {"type": "integer"},
                "queued_at": {"type": "string"},
                "queued_by": {"type": "string"},
                "result": {},
                "error": {"type": ["string", "null"]},
            },
        },
        "Queued": {
            "type": "object",
            "required": ["queued", "ignored"],
            "properties": {
                "queued": {"type": "array", "items": {"$ref": "#/components/schemas/Job"}},
                "ignored": {"type": "array", "items": {"type": "string"}},
            },
        },
        "DeploymentRequest": {
            "type": "object",
            "required": ["environment", "service", "image"],
            "additionalProperties": false,
            "properties": {
                "environment": {"type": "string"},
                "service": {"type": "string"},
                "cluster": {"type": "string"},
                "namespace": {"type": "string"},
                "image": {"type": "string", "description": "`registry/repository@sha256:…`; a tag is resolved to its digest."},
            },
        },
        "BlockRequest": {
            "type": "object",
            "required": ["digest", "reason"],
            "additionalProperties": false,
            "properties": {
                "digest": {"type": "string"},
                "reason": {"type": "string"},
                "until": {"type": "string", "format": "date"},
            },
        },
        "ScanRequest": {
            "type": "object",
            "required": ["reference"],
            "additionalProperties": false,
            "properties": {
                "reference": {"type": "string"},
                "environments": {"type": "array", "items": {"type": "string"}},
            },
        },
        "RegistryEnvelope": {
            "type": "object",
            "description": "distribution's notification envelope (application/vnd.docker.distribution.events.v1+json).",
            "required": ["events"],
            "properties": {
                "events": {"type": "array", "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "action": {"type": "string"},
                        "target": {"type": "object", "properties": {
                            "mediaType": {"type": "string"},
                            "digest": {"type": "string"},
                            "repository": {"type": "string"},
                            "url": {"type": "string"},
                            "tag": {"type": "string"},
                        }},
                        "request": {"type": "object", "properties": {"host": {"type": "string"}}},
                    },
                }},
            },
        },
        "HarborEvent": {
            "type": "object",
            "required": ["type", "event_data"],
            "properties": {
                "type": {"type": "string"},
                "event_data": {"type": "object", "properties": {
                    "resources": {"type": "array", "items": {"type": "object", "properties": {
                        "digest": {"type": "string"},
                        "tag": {"type": "string"},
                        "resource_url": {"type": "string"},
                    }}},
                    "repository": {"type": "object", "properties": {"repo_full_name": {"type": "string"}}},
                }},
            },
        },
        "AdmissionReview": {
            "type": "object",
            "description": "Kubernetes admission.k8s.io/v1 AdmissionReview.",
            "required": ["apiVersion", "kind"],
            "properties": {
                "apiVersion": {"const": "admission.k8s.io/v1"},
                "kind": {"const": "AdmissionReview"},
                "request": {"type": "object"},
                "response": {"type": "object"},
            },
        },
    })
}
