package customs.rules.healthcheck

import rego.v1

metadata := {
	"id": "healthcheck",
	"title": "The image declares a health check",
	"description": "A HEALTHCHECK lets the runtime restart a container that is up but not working.",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	not input.image.config.healthcheck
	v := {"message": "the image has no HEALTHCHECK", "evidence": "image config Healthcheck"}
}
