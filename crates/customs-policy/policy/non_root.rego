package customs.rules.non_root

import rego.v1

metadata := {
	"id": "non-root",
	"title": "The image runs as a non-root user",
	"description": "Set USER to an unprivileged user (by number, so that Kubernetes' runAsNonRoot can check it).",
	"levels": data.customs.lib.strict,
}

violation contains v if {
	user := input.image.config.user
	data.customs.lib.is_root(user)
	shown := user_text(user)
	v := {
		"message": sprintf("the image runs as root (User %s)", [shown]),
		"evidence": "image config User",
	}
}

user_text("") := "unset"

user_text(u) := sprintf("%q", [u]) if u != ""
