package customs.rules.size_growth

import rego.v1

metadata := {
	"id": "size-growth",
	"title": "The image did not grow too much against the previous release",
	"description": "Compared with --compare REF: growth beyond the environment's size_growth_ratio (1.2 by default).",
	"levels": data.customs.lib.strict,
}

ratio := object.get(input.environment.config, "size_growth_ratio", 1.2)

violation contains v if {
	prev := input.previous
	prev != null
	prev.size > 0
	input.image.size / prev.size > ratio
	v := {
		"message": sprintf("the image grew from %d to %d bytes against %s (x%.2f, at most x%.2f)", [prev.size, input.image.size, prev.reference, input.image.size / prev.size, ratio]),
		"evidence": prev.digest,
	}
}
