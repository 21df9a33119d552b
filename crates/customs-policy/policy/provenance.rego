package customs.rules.provenance

import rego.v1

metadata := {
	"id": "provenance",
	"title": "Signed provenance from an allowed builder",
	"description": "A SLSA provenance attestation, signed by a trusted key or identity, naming a builder on the environment's list (any builder when the list is empty).",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	count(input.provenance) == 0
	v := {"message": "no provenance attestation: who built the image, and from what, is unknown"}
}

violation contains v if {
	count(input.provenance) > 0
	not any_verified
	sources := [p.source | some p in input.provenance]
	v := {
		"message": sprintf("the provenance is not signed by a trusted key or identity (found: %s)", [concat(", ", sources)]),
		"evidence": sources[0],
	}
}

violation contains v if {
	some p in input.provenance
	p.verified
	not p.builder_allowed
	v := {
		"message": sprintf("the provenance names the builder %s, which is not allowed in %s", [object.get(p, "builder", "(none)"), input.environment.name]),
		"evidence": p.source,
	}
}

any_verified if {
	some p in input.provenance
	p.verified
}
