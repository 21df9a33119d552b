package customs.rules.critical_vulnerability

import rego.v1

metadata := {
	"id": "critical-vulnerability",
	"title": "No critical vulnerability with a fix available",
	"description": "A critical vulnerability that has a fixed version: upgrade the package (or except it, with a reason and an expiry).",
	"levels": {"dev": "warn", "staging": "deny", "prod": "deny"},
}

violation contains v if {
	some f in input.vulnerabilities
	f.severity == "critical"
	f.fix_available
	v := data.customs.lib.vulnerability_violation(f)
}
