package customs.rules.kev_vulnerability

import rego.v1

metadata := {
	"id": "kev-vulnerability",
	"title": "No vulnerability known to be exploited (CISA KEV)",
	"description": "A vulnerability on the CISA Known Exploited Vulnerabilities catalogue, with or without a fix (checked when a KEV file is given).",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	some f in input.vulnerabilities
	f.kev
	v := data.customs.lib.vulnerability_violation(f)
}
