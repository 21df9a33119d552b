package customs.rules.blocked_digest

import rego.v1

metadata := {
	"id": "blocked-digest",
	"title": "The digest is not on the block list",
	"description": "A digest blocked with a reason (a compromised build, a recalled release) may not ship anywhere.",
	"levels": {"dev": "deny", "staging": "deny", "prod": "deny"},
}

violation contains v if {
	b := input.blocked
	b != null
	until := object.get(b, "until", null)
	v := {
		"message": sprintf("the digest is blocked: %s%s", [b.reason, until_text(until)]),
		"evidence": input.image.digest,
	}
}

until_text(null) := ""

until_text(u) := sprintf(" (until %s)", [u]) if u != null
