# Helpers shared by the built-in rules.
package customs.lib

import rego.v1

# Default levels: dev warns, staging warns, prod denies.
strict := {"dev": "warn", "staging": "warn", "prod": "deny"}

# A package as messages name it.
package_name(p) := sprintf("%s %s", [p.name, p.version])

# Whether the configured user is root (empty, root or uid 0, with or without a group).
is_root(user) if user == ""

is_root(user) if {
	name := split(user, ":")[0]
	name in {"root", "0"}
}

# The violation of a vulnerability finding: exceptions and VEX match its id,
# aliases and package.
vulnerability_violation(f) := {
	"message": sprintf("%s (%s) in %s, fixed in %s", [f.id, f.severity, package_name(f.package), fixed_text(f)]),
	"evidence": f.package.purl,
	"vulnerability": f.id,
	"aliases": f.aliases,
	"package": f.package.purl,
}

fixed_text(f) := concat(", ", f.fixed_versions) if count(f.fixed_versions) > 0

fixed_text(f) := "no version yet" if count(f.fixed_versions) == 0
