package customs.rules.digest_reference

import rego.v1

metadata := {
	"id": "digest-reference",
	"title": "Referenced by digest, not by a mutable tag",
	"description": "A tag can be moved to another image after the gate; a digest cannot. Deploy `name@sha256:…`.",
	"levels": {"dev": "warn", "staging": "warn", "prod": "deny"},
}

violation contains v if {
	input.image.resolved_by == "tag"
	input.image.tag == "latest"
	v := {
		"message": sprintf("%s uses the `latest` tag, which moves with every push: reference the digest %s", [input.image.reference, input.image.digest]),
		"evidence": input.image.reference,
	}
}

violation contains v if {
	input.image.resolved_by == "tag"
	input.image.tag != "latest"
	v := {
		"message": sprintf("%s is referenced by the tag `%s`, which can be moved: reference the digest %s", [input.image.reference, input.image.tag, input.image.digest]),
		"evidence": input.image.reference,
	}
}
