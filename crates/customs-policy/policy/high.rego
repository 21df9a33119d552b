package customs.rules.high_vulnerability

import rego.v1

metadata := {
	"id": "high-vulnerability",
	"title": "No high vulnerability with a fix available",
	"description": "A high-severity vulnerability that has a fixed version.",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	some f in input.vulnerabilities
	f.severity == "high"
	f.fix_available
	v := data.customs.lib.vulnerability_violation(f)
}
