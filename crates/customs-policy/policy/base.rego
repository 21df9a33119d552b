package customs.rules.base_image_approved

import rego.v1

metadata := {
	"id": "base-image-approved",
	"title": "The base image is on the approved list",
	"description": "The base image (from OCI annotations, BuildKit provenance or the base catalogue) is on the environment's base_images list or approved in the base catalogue (checked when either is set).",
	"levels": data.customs.lib.strict,
}

enforced if count(input.environment.config.base_images) > 0

enforced if input.base_catalogue > 0

violation contains v if {
	enforced
	input.base_image == null
	v := {"message": "the base image is unknown (no base annotations, provenance or catalogue match), so it cannot be approved"}
}

violation contains v if {
	enforced
	b := input.base_image
	b != null
	not b.approved
	v := {
		"message": sprintf("the base image %s is not approved for %s", [object.get(b, "name", b.digest), input.environment.name]),
		"evidence": object.get(b, "digest", ""),
	}
}
