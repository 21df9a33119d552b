package customs.rules.base_image_age

import rego.v1

metadata := {
	"id": "base-image-age",
	"title": "The base image is recent",
	"description": "A base image older than the environment's base_max_age_days misses the fixes published since (checked when set; an unknown age does not pass).",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	max := input.environment.config.base_max_age_days
	b := input.base_image
	b != null
	b.age_days != null
	b.age_days > max
	v := {
		"message": sprintf("the base image %s is %d days old (at most %d)", [object.get(b, "name", b.digest), b.age_days, max]),
		"evidence": object.get(b, "digest", ""),
	}
}

# An age limit with a base whose age cannot be told is not a pass.
violation contains v if {
	max := input.environment.config.base_max_age_days
	not known_age
	v := {"message": sprintf("the base image's age is unknown (record it with `customs base add`, which reads its build date), so the %d-day limit cannot be checked", [max])}
}

known_age if {
	input.base_image != null
	input.base_image.age_days != null
}
