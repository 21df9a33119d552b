package customs.rules.oci_labels

import rego.v1

metadata := {
	"id": "oci-labels",
	"title": "The OCI labels that tie the image to its source are set",
	"description": "org.opencontainers.image.source, .revision and .version say where the image came from.",
	"levels": data.customs.lib.strict,
}

required := ["org.opencontainers.image.source", "org.opencontainers.image.revision", "org.opencontainers.image.version"]

violation contains v if {
	some label in required
	not input.image.config.labels[label]
	v := {
		"message": sprintf("the label %s is missing", [label]),
		"evidence": label,
	}
}
