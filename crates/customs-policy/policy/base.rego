package customs.rules.base_image_approved

import rego.v1

metadata := {
	"id": "base-image-approved",
	"title": "The base image is on the approved list",
	"description": "The base image (from OCI annotations, BuildKit provenance or the base catalogue) is one the environment approves (checked when the environment lists base images).",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	count(input.environment.config.base_images) > 0
	input.base_image == null
	v := {"message": "the base image is unknown (no base annotations, provenance or catalogue match), so it cannot be approved"}
}

violation contains v if {
	count(input.environment.config.base_images) > 0
	b := input.base_image
	b != null
	not b.approved
	v := {
		"message": sprintf("the base image %s is not approved for %s", [object.get(b, "name", b.digest), input.environment.name]),
		"evidence": object.get(b, "digest", ""),
	}
}
