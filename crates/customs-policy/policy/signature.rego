package customs.rules.signature

import rego.v1

metadata := {
	"id": "signature",
	"title": "A valid signature from a trusted key or identity",
	"description": "At least one cosign signature of the digest verifies with a key or keyless identity the environment trusts.",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	count(input.signatures.trusted) == 0
	v := {"message": sprintf("no trusted keys or identities are configured for %s (customs.toml: environments.%s.keys / identities), so no signature can count", [input.environment.name, input.environment.name])}
}

violation contains v if {
	count(input.signatures.trusted) > 0
	count(input.signatures.verified) == 0
	v := {
		"message": sprintf("no valid signature from %s: %s", [concat(" or ", input.signatures.trusted), input.signatures.outcome]),
		"evidence": input.image.digest,
	}
}
