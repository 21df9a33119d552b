package customs.rules.license_unknown

import rego.v1

metadata := {
	"id": "license-unknown",
	"title": "Every package's licence is a known SPDX licence",
	"description": "A package without a licence, or with one that is not an SPDX expression, cannot be judged.",
	"levels": {"dev": "warn", "staging": "warn", "prod": "warn"},
}

violation contains v if {
	some p in input.licenses
	p.verdict == "unknown"
	v := {
		"message": sprintf("%s: %s", [data.customs.lib.package_name(p), concat("; ", p.reasons)]),
		"evidence": p.purl,
		"package": p.purl,
	}
}
