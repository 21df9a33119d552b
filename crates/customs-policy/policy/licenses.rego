package customs.rules.license_denied

import rego.v1

metadata := {
	"id": "license-denied",
	"title": "No package under a denied licence",
	"description": "The environment's licence policy (deny list, or allow-list mode) applied to every package's SPDX expressions.",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	some p in input.licenses
	p.verdict == "denied"
	v := {
		"message": sprintf("%s is licensed %s (denied: %s)", [data.customs.lib.package_name(p), concat(" AND ", p.licenses), concat(", ", p.reasons)]),
		"evidence": p.purl,
		"package": p.purl,
	}
}
