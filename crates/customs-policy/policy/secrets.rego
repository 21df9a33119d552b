package customs.rules.secrets

import rego.v1

metadata := {
	"id": "secrets",
	"title": "No secrets in any layer, the environment or the history",
	"description": "A secret in an image is readable by everyone who can pull it, even after a later layer deletes the file.",
	"levels": {"dev": "warn", "staging": "deny", "prod": "deny"},
}

violation contains v if {
	some s in input.secrets
	v := {
		"message": sprintf("%s at %s", [s.title, s.location]),
		"evidence": object.get(s, "fingerprint", s.location),
	}
}
