package customs.rules.deploy_manifest

import rego.v1

metadata := {
	"id": "deploy-manifest",
	"title": "The deploy manifests do not run it privileged, in host namespaces or as root",
	"description": "Checked on the manifests given with --manifest (Kubernetes, compose).",
	"levels": data.customs.lib.strict,
}

unsafe := {
	"manifest-privileged", "manifest-host-namespace", "manifest-run-as-root",
	"manifest-privilege-escalation", "manifest-dangerous-capability",
}

violation contains v if {
	some f in input.manifests
	f.rule in unsafe
	v := {
		"message": sprintf("%s (%s)", [f.title, f.location]),
		"evidence": f.location,
	}
}
