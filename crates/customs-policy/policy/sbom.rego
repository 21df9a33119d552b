package customs.rules.sbom

import rego.v1

metadata := {
	"id": "sbom",
	"title": "A complete SBOM is present",
	"description": "The image's software bill of materials, attested or made by the gate, with every package database readable.",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	not input.sbom.present
	v := {"message": "no SBOM: the image's packages are unknown"}
}

violation contains v if {
	input.sbom.present
	some unknown in input.sbom.incomplete
	v := {
		"message": sprintf("the SBOM is incomplete: %s", [unknown]),
		"evidence": unknown,
	}
}
