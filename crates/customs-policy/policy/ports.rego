package customs.rules.ports

import rego.v1

metadata := {
	"id": "ports",
	"title": "Only expected ports are exposed",
	"description": "With the environment's ports list, every other exposed port; without it, remote shells, databases and container runtimes.",
	"levels": data.customs.lib.strict,
}

sensitive := {
	22: "SSH", 23: "telnet", 2375: "Docker API without TLS", 2376: "Docker API", 2379: "etcd",
	3306: "MySQL", 3389: "RDP", 5432: "PostgreSQL", 5900: "VNC", 6379: "Redis",
	9200: "Elasticsearch", 10250: "kubelet", 11211: "memcached", 27017: "MongoDB",
}

number(p) := to_number(split(p, "/")[0])

violation contains v if {
	allowed := input.environment.config.ports
	allowed != null
	some p in input.image.config.exposed_ports
	not number(p) in allowed
	v := {
		"message": sprintf("the image exposes %s, which is not in the expected ports %v", [p, allowed]),
		"evidence": p,
	}
}

violation contains v if {
	object.get(input.environment.config, "ports", null) == null
	some p in input.image.config.exposed_ports
	what := sensitive[number(p)]
	v := {
		"message": sprintf("the image exposes %s (%s)", [p, what]),
		"evidence": p,
	}
}
