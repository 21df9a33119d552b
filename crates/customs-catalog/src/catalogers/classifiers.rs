//! Runtimes and servers installed outside any package manager — upstream
//! Node in `node:*`, CPython in `python:*`, a JDK under `/opt/java`,
//! PostgreSQL, nginx, static `busybox`/`curl`/`openssl` — found by a table
//! of classifiers: the file names each looks at and the evidence (a byte
//! pattern capturing the version) that names the runtime. A new runtime
//! is one entry. The table was written from the runtimes Syft's
//! `binary-classifier-cataloger` knows, with Syft's package names and
//! purls so that SBOMs compare, and each entry's Bitnami component (for
//! Bitnami's OSV data).
//!
//! Files are read as a stream, a window at a time (never a whole binary in
//! memory), and only executables (ELF, Mach-O, PE) unless an entry reads a
//! text file (a JDK's `release`).

use std::io::Read;
use std::sync::LazyLock;

use customs_layer::Selector;
use customs_sbom::{Package, PackageType};
use regex::bytes::Regex;

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};

/// How a classifier picks files by base name.
#[derive(Debug, Clone, Copy)]
enum Name {
    /// Exactly this base name.
    Exact(&'static str),
    /// A base name starting with this.
    Prefix(&'static str),
}

/// One runtime.
#[derive(Debug)]
struct Classifier {
    /// Syft's class name (recorded as the evidence).
    class: &'static str,
    names: &'static [Name],
    /// With a version in the file name (`python3.11`): this regex on the
    /// base name captures it as `v`, and `{v}` in the patterns stands for
    /// it (the content must name the same version).
    name_version: Option<&'static str>,
    /// Evidence patterns, tried in order; `version` is the capture.
    patterns: &'static [&'static str],
    /// The package name.
    package: &'static str,
    /// The purl without its version (`pkg:generic/node`).
    purl: &'static str,
    /// CPEs (NVD dictionary names).
    cpes: &'static [&'static str],
    /// The component in Bitnami's OSV data.
    bitnami: Option<&'static str>,
    /// Whether the file must be an executable (ELF, Mach-O, PE).
    binary: bool,
    /// Classifiers of one branch group: only the first in table order that
    /// matches a file reports (a `java` binary is GraalVM, else Zulu, else
    /// OpenJDK, else a JRE).
    branch: Option<&'static str>,
    /// A string the file's path must contain (`zulu`, `/ibm/`).
    path_contains: Option<&'static str>,
}

const fn classifier(
    class: &'static str,
    names: &'static [Name],
    patterns: &'static [&'static str],
    package: &'static str,
    purl: &'static str,
    cpes: &'static [&'static str],
    bitnami: Option<&'static str>,
) -> Classifier {
    Classifier {
        class,
        names,
        name_version: None,
        patterns,
        package,
        purl,
        cpes,
        bitnami,
        binary: true,
        branch: None,
        path_contains: None,
    }
}

use Name::{Exact, Prefix};

const PYTHON_CPES: &[&str] = &[
    "cpe:2.3:a:python_software_foundation:python:*:*:*:*:*:*:*:*",
    "cpe:2.3:a:python:python:*:*:*:*:*:*:*:*",
];

/// The table. Patterns match bytes (`(?-u)`): `\x00` is a NUL byte.
static CLASSIFIERS: &[Classifier] = &[
    Classifier {
        name_version: Some(r"^python(?P<v>[0-9]+(?:\.[0-9]+)+)$"),
        ..classifier(
            "python-binary",
            &[Prefix("python")],
            &[r"\x00(?P<version>{v}[-._a-zA-Z0-9]*)\x00"],
            "python",
            "pkg:generic/python",
            PYTHON_CPES,
            Some("python"),
        )
    },
    Classifier {
        name_version: Some(r"^libpython(?P<v>[0-9]+(?:\.[0-9]+)+)[a-z]?\.so"),
        ..classifier(
            "python-binary-lib",
            &[Prefix("libpython")],
            &[r"\x00(?P<version>{v}[-._a-zA-Z0-9]*)\x00"],
            "python",
            "pkg:generic/python",
            PYTHON_CPES,
            Some("python"),
        )
    },
    classifier(
        "nodejs-binary",
        &[Exact("node")],
        &[
            r"\x00(?:node )?v(?P<version>(?:0|4|5|6)\.[0-9]+\.[0-9]+)\x00",
            r"node\.js/v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
        ],
        "node",
        "pkg:generic/node",
        &["cpe:2.3:a:nodejs:node.js:*:*:*:*:*:*:*:*"],
        Some("node"),
    ),
    classifier(
        "go-binary",
        &[Exact("go")],
        &[r"go(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+|beta[0-9]+|alpha[0-9]+|rc[0-9]+)?)\x00"],
        "go",
        "pkg:generic/go",
        &["cpe:2.3:a:golang:go:*:*:*:*:*:*:*:*"],
        Some("golang"),
    ),
    Classifier {
        binary: false,
        ..classifier(
            "java-release-file",
            &[Exact("release")],
            &[r#"(?m)^JAVA_VERSION="(?P<version>[0-9][0-9A-Za-z._+-]*)""#],
            "openjdk",
            "pkg:generic/oracle/openjdk",
            &["cpe:2.3:a:oracle:openjdk:*:*:*:*:*:*:*:*"],
            Some("java"),
        )
    },
    Classifier {
        branch: Some("java"),
        ..classifier(
            "java-binary-graalvm",
            &[Exact("java"), Exact("jdb")],
            &[r"\x00(?P<version>[0-9]+[.0-9]+[.0-9]+\+[0-9]+-jvmci-[0-9]+[.0-9]+-b[0-9]+)\x00"],
            "graalvm",
            "pkg:generic/oracle/graalvm",
            &["cpe:2.3:a:oracle:graalvm:*:*:*:*:*:*:*:*"],
            None,
        )
    },
    Classifier {
        branch: Some("java"),
        path_contains: Some("zulu"),
        ..classifier(
            "java-binary-openjdk-zulu",
            &[Exact("java"), Exact("jdb")],
            &[
                r"\x00java\x00[0-9]+[.0-9]*\x00(?P<version>[0-9]+[^\x00]+)\x00",
                r"\x00[0-9]+[.0-9]*\x00+(?P<version>[0-9]+[^\x00]+)\x00+(?:openjdk|java)",
            ],
            "zulu",
            "pkg:generic/azul/zulu",
            &["cpe:2.3:a:azul:zulu:*:*:*:*:*:*:*:*"],
            None,
        )
    },
    Classifier {
        branch: Some("java"),
        ..classifier(
            "java-binary-openjdk",
            &[Exact("java"), Exact("jdb")],
            &[
                r"\x00openjdk\x00java\x00[0-9]+[.0-9]*\x00(?P<version>[0-9]+[^\x00]+)\x00",
                r"\x00[0-9]+[.0-9]*\x00+(?P<version>[0-9]+[^\x00]+)\x00+openjdk\x00java",
            ],
            "openjdk",
            "pkg:generic/oracle/openjdk",
            &["cpe:2.3:a:oracle:openjdk:*:*:*:*:*:*:*:*"],
            Some("java"),
        )
    },
    Classifier {
        branch: Some("java"),
        path_contains: Some("/ibm/"),
        ..classifier(
            "java-binary-ibm",
            &[Exact("java")],
            &[r"\x00java\x00+[0-9]+[.0-9]+\x00+(?P<version>[0-9]+[-._a-zA-Z0-9]+)\x00"],
            "java",
            "pkg:generic/ibm/java",
            &["cpe:2.3:a:ibm:java:*:*:*:*:*:*:*:*"],
            None,
        )
    },
    Classifier {
        branch: Some("java"),
        ..classifier(
            "java-binary-oracle",
            &[Exact("java")],
            &[r"\x00(?P<version>[0-9]+\.[0-9]+\.[-._+a-zA-Z0-9]+)\x00"],
            "jre",
            "pkg:generic/oracle/jre",
            &["cpe:2.3:a:oracle:jre:*:*:*:*:*:*:*:*"],
            Some("jre"),
        )
    },
    Classifier {
        branch: Some("java"),
        ..classifier(
            "java-binary-jdk",
            &[Exact("jdb")],
            &[r"\x00(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:\+[0-9]+)?(?:[-._a-zA-Z0-9]+)?)\x00"],
            "jdk",
            "pkg:generic/oracle/jdk",
            &["cpe:2.3:a:oracle:jdk:*:*:*:*:*:*:*:*"],
            Some("java"),
        )
    },
    classifier(
        "ruby-binary",
        &[Exact("ruby"), Prefix("libruby.so")],
        &[r"ruby (?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:(?:p|preview|rc|dev)[0-9]*)?) "],
        "ruby",
        "pkg:generic/ruby",
        &["cpe:2.3:a:ruby-lang:ruby:*:*:*:*:*:*:*:*"],
        Some("ruby"),
    ),
    classifier(
        "php-cli-binary",
        &[Prefix("php"), Prefix("libphp")],
        &[
            r"X-Powered-By: PHP/(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:beta[0-9]+|alpha[0-9]+|RC[0-9]+)?)",
        ],
        "php",
        "pkg:generic/php",
        &["cpe:2.3:a:php:php:*:*:*:*:*:*:*:*"],
        Some("php"),
    ),
    classifier(
        "perl-binary",
        &[Exact("perl")],
        &[r"/usr/local/lib/perl[0-9]/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "perl",
        "pkg:generic/perl",
        &["cpe:2.3:a:perl:perl:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "bash-binary",
        &[Exact("bash")],
        &[r"@\(#\)Bash version (?P<version>[0-9]+\.[0-9]+\.[0-9]+)\([0-9]\) [a-z0-9]+ GNU"],
        "bash",
        "pkg:generic/bash",
        &["cpe:2.3:a:gnu:bash:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "busybox-binary",
        &[Exact("busybox")],
        &[r"BusyBox\s+v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "busybox",
        "pkg:generic/busybox",
        &["cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "curl-binary",
        &[Exact("curl")],
        &[r"curl/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "curl",
        "pkg:generic/curl",
        &["cpe:2.3:a:haxx:curl:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "openssl-binary",
        &[
            Exact("openssl"),
            Prefix("libcrypto.so"),
            Prefix("libssl.so"),
        ],
        &[
            r"\x00OpenSSL (?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:[a-z]+|-alpha[0-9]|-beta[0-9]|-rc[0-9])?)",
        ],
        "openssl",
        "pkg:generic/openssl",
        &["cpe:2.3:a:openssl:openssl:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "util-linux-binary",
        &[Exact("getopt")],
        &[r"\x00util-linux\s(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00"],
        "util-linux",
        "pkg:generic/util-linux",
        &["cpe:2.3:a:kernel:util-linux:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "nginx-binary",
        &[Exact("nginx")],
        &[
            r"(?:\x00|\?)nginx version: [^/]+/(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:\+[0-9]+)?(?:-[0-9]+)?)",
        ],
        "nginx",
        "pkg:generic/nginx",
        &[
            "cpe:2.3:a:f5:nginx:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:nginx:nginx:*:*:*:*:*:*:*:*",
        ],
        Some("nginx"),
    ),
    classifier(
        "httpd-binary",
        &[Exact("httpd")],
        &[r"Apache/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "httpd",
        "pkg:generic/httpd",
        &["cpe:2.3:a:apache:http_server:*:*:*:*:*:*:*:*"],
        Some("apache"),
    ),
    classifier(
        "haproxy-binary",
        &[Exact("haproxy")],
        &[
            r"version (?P<version>[0-9]+\.[0-9]+(?:\.|-dev|-rc)[0-9]+)(?:-[a-z0-9]{7})?, released 20",
            r"HA-Proxy version (?P<version>[0-9]+\.[0-9]+(?:\.|-dev)[0-9]+)",
            r"(?P<version>[0-9]+\.[0-9]+(?:\.|-dev)[0-9]+)-[0-9a-zA-Z]{7}.+HAProxy version",
        ],
        "haproxy",
        "pkg:generic/haproxy",
        &["cpe:2.3:a:haproxy:haproxy:*:*:*:*:*:*:*:*"],
        Some("haproxy"),
    ),
    classifier(
        "redis-binary",
        &[Exact("redis-server")],
        &[
            r"[^0-9](?P<version>[0-9]+\.[0-9]+\.[0-9]+)buildkitsandbox-[0-9]+",
            r"[^0-9](?P<version>[0-9]+\.[0-9]+\.[0-9]+)[0-9a-zA-Z_]{12}-[0-9]+",
            r"Redis version (?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
        ],
        "redis",
        "pkg:generic/redis",
        &[
            "cpe:2.3:a:redislabs:redis:*:*:*:*:*:*:*:*",
            "cpe:2.3:a:redis:redis:*:*:*:*:*:*:*:*",
        ],
        Some("redis"),
    ),
    classifier(
        "valkey-binary",
        &[Exact("valkey-server")],
        &[r"[^0-9](?P<version>[0-9]+\.[0-9]+\.[0-9]+)buildkitsandbox-[0-9]+"],
        "valkey",
        "pkg:generic/valkey",
        &["cpe:2.3:a:lfprojects:valkey:*:*:*:*:*:*:*:*"],
        Some("valkey"),
    ),
    classifier(
        "memcached-binary",
        &[Exact("memcached")],
        &[r"memcached\s(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "memcached",
        "pkg:generic/memcached",
        &["cpe:2.3:a:memcached:memcached:*:*:*:*:*:*:*:*"],
        Some("memcached"),
    ),
    classifier(
        "postgresql-binary",
        &[Exact("postgres")],
        &[
            r"(?:\x00|\?)PostgreSQL (?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)",
        ],
        "postgresql",
        "pkg:generic/postgresql",
        &["cpe:2.3:a:postgresql:postgresql:*:*:*:*:*:*:*:*"],
        Some("postgresql"),
    ),
    classifier(
        "mariadb-binary",
        &[
            Exact("mariadb"),
            Exact("mysql"),
            Exact("mariadbd"),
            Exact("mysqld"),
        ],
        &[
            r"(?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)-MariaDB",
        ],
        "mariadb",
        "pkg:generic/mariadb",
        &["cpe:2.3:a:mariadb:mariadb:*:*:*:*:*:*:*:*"],
        Some("mariadb"),
    ),
    classifier(
        "mysql-binary",
        &[Exact("mysql"), Exact("mysqld")],
        &[
            r"\x00(?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)\x00+mysql",
            r"/mysql-(?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)",
        ],
        "mysql",
        "pkg:generic/mysql",
        &["cpe:2.3:a:oracle:mysql:*:*:*:*:*:*:*:*"],
        Some("mysql"),
    ),
    classifier(
        "traefik-binary",
        &[Exact("traefik")],
        &[r"(?:\x00v?)(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-alpha[0-9]|-beta[0-9]|-rc[0-9])?)\x00"],
        "traefik",
        "pkg:generic/traefik",
        &["cpe:2.3:a:traefik:traefik:*:*:*:*:*:*:*:*"],
        Some("traefik"),
    ),
    classifier(
        "erlang-binary",
        &[Exact("erlexec"), Exact("beam.smp")],
        &[
            r"/src/otp_src_(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+){0,2}(?:-rc[0-9])?)/erts/",
            r"/usr/local/src/otp-(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+){0,2}(?:-rc[0-9])?)/erts/",
            r"\x00+(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+){0,2}(?:-rc[0-9])?)\x00+Erlang/OTP",
        ],
        "erlang",
        "pkg:generic/erlang",
        &["cpe:2.3:a:erlang:erlang/otp:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "helm",
        &[Exact("helm")],
        &[r"\x00v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00"],
        "helm",
        "pkg:golang/helm.sh/helm",
        &["cpe:2.3:a:helm:helm:*:*:*:*:*:*:*:*"],
        Some("helm"),
    ),
    classifier(
        "consul-binary",
        &[Exact("consul")],
        &[
            r"CONSUL_VERSION: (?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
            r#"GitDescribe=(?P<version>[0-9]+\.[0-9]+\.[0-9]+)""#,
        ],
        "consul",
        "pkg:golang/github.com/hashicorp/consul",
        &["cpe:2.3:a:hashicorp:consul:*:*:*:*:*:*:*:*"],
        Some("consul"),
    ),
    classifier(
        "hashicorp-vault-binary",
        &[Exact("vault")],
        &[
            r"revoke(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
            r"state(?P<version>[0-9]+\.[0-9]+\.[0-9]+-rc[0-9])",
        ],
        "github.com/hashicorp/vault",
        "pkg:golang/github.com/hashicorp/vault",
        &["cpe:2.3:a:hashicorp:vault:*:*:*:*:*:*:*:*"],
        Some("vault"),
    ),
    classifier(
        "rust-standard-library-linux",
        &[Prefix("libstd-")],
        &[
            r"\x00clang LLVM \(rustc version (?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)) \([0-9a-f]+ [0-9]{4}-[0-9]{2}-[0-9]{2}\)",
        ],
        "rust",
        "pkg:generic/rust",
        &["cpe:2.3:a:rust-lang:rust:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "openldap-search-binary",
        &[Exact("ldapsearch")],
        &[r"\$OpenLDAP:\sldapsearch\s(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "openldap",
        "pkg:generic/openldap",
        &["cpe:2.3:a:openldap:openldap:*:*:*:*:*:*:*:*"],
        Some("openldap"),
    ),
    classifier(
        "fluent-bit-binary",
        &[Exact("fluent-bit")],
        &[
            r"\x00\x00?(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00(?:\x1b\[1m\x00|\x00|\x00\x00)?(?:%s)?Fluent",
        ],
        "fluent-bit",
        "pkg:github/fluent/fluent-bit",
        &["cpe:2.3:a:treasuredata:fluent_bit:*:*:*:*:*:*:*:*"],
        Some("fluent-bit"),
    ),
    classifier(
        "lighttpd-binary",
        &[Exact("lighttpd")],
        &[r"\x00lighttpd/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00"],
        "lighttpd",
        "pkg:generic/lighttpd",
        &["cpe:2.3:a:lighttpd:lighttpd:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "xz-binary",
        &[Exact("xz")],
        &[r"\x00xz \(XZ Utils\) (?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00"],
        "xz",
        "pkg:generic/xz",
        &["cpe:2.3:a:tukaani:xz:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "gcc-binary",
        &[Exact("gcc")],
        &[r"GCC: \(GNU\) (?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "gcc",
        "pkg:generic/gcc",
        &["cpe:2.3:a:gnu:gcc:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "pypy-binary-lib",
        &[Prefix("libpypy")],
        &[r"\[PyPy (?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "pypy",
        "pkg:generic/pypy",
        &[],
        None,
    ),
    classifier(
        "julia-binary",
        &[Exact("libjulia-internal.so")],
        &[r"__init__\x00(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00verify"],
        "julia",
        "pkg:generic/julia",
        &["cpe:2.3:a:julialang:julia:*:*:*:*:*:*:*:*"],
        None,
    ),
    Classifier {
        binary: false,
        ..classifier(
            "php-composer-binary",
            &[Prefix("composer")],
            &[
                r"'pretty_version'\s*=>\s*'(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:beta[0-9]+|alpha[0-9]+|RC[0-9]+)?)'",
            ],
            "composer",
            "pkg:generic/composer",
            &["cpe:2.3:a:getcomposer:composer:*:*:*:*:*:*:*:*"],
            Some("composer"),
        )
    },
    classifier(
        "arangodb-binary",
        &[Exact("arangosh")],
        &[r"\x00*(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9]+)?)\s(?:enterprise\s)?\[linux\]"],
        "arangodb",
        "pkg:generic/arangodb",
        &["cpe:2.3:a:arangodb:arangodb:*:*:*:*:*:*:*:*"],
        Some("arangodb"),
    ),
    classifier(
        "mysql-binary",
        &[Exact("mysql")],
        &[
            r"/percona-server-(?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)",
        ],
        "percona-server",
        "pkg:generic/percona-server",
        &["cpe:2.3:a:percona:percona_server:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "mysql-binary",
        &[Exact("mysql")],
        &[
            r"/Percona-XtraDB-Cluster-(?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)",
        ],
        "percona-xtradb-cluster",
        "pkg:generic/percona-xtradb-cluster",
        &["cpe:2.3:a:percona:xtradb_cluster:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "xtrabackup-binary",
        &[Exact("xtrabackup")],
        &[
            r"/percona-xtrabackup-(?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)?(?:alpha[0-9]|beta[0-9]|rc[0-9])?)",
        ],
        "percona-xtrabackup",
        "pkg:generic/percona-xtrabackup",
        &["cpe:2.3:a:percona:xtrabackup:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "rust-standard-library-macos",
        &[Prefix("libstd-")],
        &[
            r"c (?P<version>[0-9]+(?:\.[0-9]+)?(?:\.[0-9]+)) \([0-9a-f]+ [0-9]{4}-[0-9]{2}-[0-9]{2}\)",
        ],
        "rust",
        "pkg:generic/rust",
        &["cpe:2.3:a:rust-lang:rust:*:*:*:*:*:*:*:*"],
        None,
    ),
    Classifier {
        binary: false,
        ..classifier(
            "erlang-library",
            &[Exact("liberts_internal.a")],
            &[
                r"/src/otp_src_(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+){0,2}(?:-rc[0-9])?)/erts/",
                r"/usr/local/src/otp-(?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+){0,2}(?:-rc[0-9])?)/erts/",
            ],
            "erlang",
            "pkg:generic/erlang",
            &["cpe:2.3:a:erlang:erlang/otp:*:*:*:*:*:*:*:*"],
            None,
        )
    },
    classifier(
        "swipl-binary",
        &[Exact("swipl")],
        &[r"swipl-(?P<version>[0-9]+\.[0-9]+\.[0-9]+)/"],
        "swipl",
        "pkg:generic/swipl",
        &[],
        None,
    ),
    classifier(
        "dart-binary",
        &[Exact("dart")],
        &[r"\x00(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9]+(?:\.[0-9]+)?\.beta)?) "],
        "dart",
        "pkg:generic/dart",
        &["cpe:2.3:a:dart:dart_software_development_kit:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "deno-binary",
        &[Exact("deno")],
        &[r"Deno/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
        "deno",
        "pkg:generic/deno",
        &["cpe:2.3:a:deno:deno:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "haskell-ghc-binary",
        &[Prefix("ghc")],
        &[
            r"\x00GHC (?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00",
            r"\x00libHSghc-(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-(?:[a-zA-Z0-9]+-)?ghc[0-9]+\.[0-9]+\.[0-9]+\.so\x00",
        ],
        "haskell/ghc",
        "pkg:generic/haskell/ghc",
        &["cpe:2.3:a:haskell:ghc:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "haskell-cabal-binary",
        &[Exact("cabal")],
        &[r"\x00Cabal-(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:\.[0-9]+)?)-"],
        "haskell/cabal",
        "pkg:generic/haskell/cabal",
        &["cpe:2.3:a:haskell:cabal:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "haskell-stack-binary",
        &[Exact("stack")],
        &[r"Version\s*(?P<version>[0-9]+\.[0-9]+\.[0-9]+),\s*Git"],
        "haskell/stack",
        "pkg:generic/haskell/stack",
        &["cpe:2.3:a:haskell:stack:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "qt-qtbase-lib",
        &[Prefix("libQt")],
        &[
            r"\x00\x00Qt (?P<version>[0-9]+\.[0-9]+\.[0-9]+) \(",
            r"QtCore library version (?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
        ],
        "qtbase",
        "pkg:generic/qtbase",
        &["cpe:2.3:a:qt:qt:*:*:*:*:*:*:*:*"],
        None,
    ),
    Classifier {
        binary: false,
        ..classifier(
            "wordpress-cli-binary",
            &[Exact("wp")],
            &[r"wp-cli/wp-cli (?P<version>[0-9]+\.[0-9]+\.[0-9]+)"],
            "wp-cli",
            "pkg:generic/wp-cli",
            &["cpe:2.3:a:wp-cli:wp-cli:*:*:*:*:*:*:*:*"],
            Some("wp-cli"),
        )
    },
    classifier(
        "proftpd-binary",
        &[Exact("proftpd")],
        &[r"\x00ProFTPD Version (?P<version>[0-9]+\.[0-9]+\.[0-9]+[a-z]?)\x00"],
        "proftpd",
        "pkg:generic/proftpd",
        &["cpe:2.3:a:proftpd:proftpd:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "zstd-binary",
        &[Exact("zstd")],
        &[r"\x00v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00"],
        "zstd",
        "pkg:generic/zstd",
        &["cpe:2.3:a:facebook:zstandard:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "gzip-binary",
        &[Exact("gzip")],
        &[r"\x00(?P<version>[0-9]+\.[0-9]+)\x00"],
        "gzip",
        "pkg:generic/gzip",
        &["cpe:2.3:a:gnu:gzip:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "sqlcipher-binary",
        &[Exact("sqlcipher")],
        &[r"[^0-9]\x00(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00"],
        "sqlcipher",
        "pkg:generic/sqlcipher",
        &["cpe:2.3:a:zetetic:sqlcipher:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "jq-binary",
        &[Exact("jq")],
        &[r"\x00(?P<version>[0-9]{1,3}\.[0-9]{1,3}(?:\.[0-9]+)?)\x00"],
        "jq",
        "pkg:generic/jq",
        &["cpe:2.3:a:jqlang:jq:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "chrome-binary",
        &[Exact("chrome")],
        &[r"\x00(?P<version>[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+)\x00Default"],
        "chrome",
        "pkg:generic/chrome",
        &["cpe:2.3:a:google:chrome:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "ffmpeg-binary",
        &[Exact("ffmpeg")],
        &[r"%s version (?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+)?)"],
        "ffmpeg",
        "pkg:generic/ffmpeg",
        &["cpe:2.3:a:ffmpeg:ffmpeg:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "ffmpeg-library",
        &[Prefix("libav"), Prefix("libswresample")],
        &[
            r"FFmpeg version (?P<version>[0-9]+\.[0-9]+(?:\.[0-9]+)?)",
            r"Lavc(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
            r"Lavf(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
        ],
        "ffmpeg",
        "pkg:generic/ffmpeg",
        &["cpe:2.3:a:ffmpeg:ffmpeg:*:*:*:*:*:*:*:*"],
        None,
    ),
    Classifier {
        binary: false,
        ..classifier(
            "elixir-binary",
            &[Exact("elixir")],
            &[r"ELIXIR_VERSION=(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-[a-z0-9]+(?:\.[0-9]+)?)?)"],
            "elixir",
            "pkg:generic/elixir",
            &["cpe:2.3:a:elixir-lang:elixir:*:*:*:*:*:*:*:*"],
            None,
        )
    },
    Classifier {
        binary: false,
        path_contains: Some("/elixir/ebin/"),
        ..classifier(
            "elixir-library",
            &[Exact("elixir.app")],
            &[r#"\{vsn,"(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-[a-z0-9]+(?:\.[0-9]+)?)?)"\}"#],
            "elixir",
            "pkg:generic/elixir",
            &["cpe:2.3:a:elixir-lang:elixir:*:*:*:*:*:*:*:*"],
            None,
        )
    },
    classifier(
        "istio-binary",
        &[Exact("pilot-discovery"), Exact("pilot-agent")],
        &[
            r"[0-9]+\.[0-9]+\.[0-9]+\x00+(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-alpha\.[0-9]+|-beta\.[0-9]+|-rc\.[0-9]+|-dev)?)\x00+",
            r"Clean\x00+(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-alpha\.[0-9]+|-beta\.[0-9]+|-rc\.[0-9]+|-dev)?)\x00+",
        ],
        "istio",
        "pkg:generic/istio",
        &["cpe:2.3:a:istio:istio:*:*:*:*:*:*:*:*"],
        None,
    ),
    classifier(
        "grafana-binary",
        &[Exact("grafana"), Exact("grafana-server")],
        &[
            r"\x00+release-(?P<version>[0-9]{2}\.[0-9]+\.[0-9]+(?:-beta[0-9]|-test|-preview)?)(?:\+security-[0-9]+)?\x00+",
            r"[a-z0-9]+\x00+(?P<version>[0-9]\.[0-9]+\.[0-9]+(?:-beta[0-9]|-test)?)\x00+/usr/local/go",
        ],
        "grafana",
        "pkg:generic/grafana",
        &["cpe:2.3:a:grafana:grafana:*:*:*:*:*:*:*:*"],
        Some("grafana"),
    ),
    classifier(
        "envoy-binary",
        &[Exact("envoy")],
        &[r"(?s)\x00(?P<version>1\.3[0-9]\.[0-9]+(?:-dev)?)\x00.{0,1000}envoy_reloadable_features"],
        "envoy",
        "pkg:generic/envoy",
        &["cpe:2.3:a:envoyproxy:envoy:*:*:*:*:*:*:*:*"],
        Some("envoy"),
    ),
    classifier(
        "mongodb-binary",
        &[Exact("mongod")],
        &[
            r"(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00tcmalloc",
            r"(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00+heap_size",
            r"(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00+cppdefines",
        ],
        "mongodb",
        "pkg:generic/mongodb",
        &["cpe:2.3:a:mongodb:mongodb:*:*:*:*:*:*:*:*"],
        Some("mongodb"),
    ),
    classifier(
        "ingress-nginx-binary",
        &[Exact("nginx-ingress-controller")],
        &[
            r"\x00+go[0-9]+\.[0-9]+\.[0-9]+\x00+v(?P<version>[0-9]+\.[0-9]+\.[0-9]+(?:-(?:alpha|beta)\.[0-9])?)\x00+",
            r"\x00+v(?P<version>[0-9]+\.[0-9]+\.[0-9]+-(?:alpha|beta)\.[0-9])\x00+",
        ],
        "nginx-ingress-controller",
        "pkg:generic/nginx-ingress-controller",
        &["cpe:2.3:a:kubernetes:ingress-nginx:*:*:*:*:*:*:*:*"],
        None,
    ),
];

/// Bytes read per step, and kept from the previous step so that evidence
/// straddling two steps is still seen whole.
const STEP: usize = 1 << 20;
const OVERLAP: usize = 4096;
/// The most of one file read (a 2 GiB binary is scanned that far; what
/// lies beyond is said in the SBOM).
const MAX_READ: u64 = 2 << 30;

/// Each classifier's compiled patterns (none for one with a file-name
/// version: those are made per version) and file-name regex, compiled once.
static COMPILED: LazyLock<Vec<(Vec<Regex>, Option<regex::Regex>)>> = LazyLock::new(|| {
    CLASSIFIERS
        .iter()
        .map(|c| match c.name_version {
            Some(name) => (Vec::new(), regex::Regex::new(name).ok()),
            None => (c.patterns.iter().map(|p| compile(p)).collect(), None),
        })
        .collect()
});

/// A table pattern as a byte regex. The table is tested: a pattern that
/// does not compile fails `every_pattern_compiles`.
fn compile(pattern: &str) -> Regex {
    regex::bytes::RegexBuilder::new(&format!("(?-u){pattern}"))
        .size_limit(1 << 22)
        .build()
        .unwrap_or_else(|_| Regex::new("(?-u)\\x00\\A").unwrap_or_else(|_| unreachable!()))
}

/// The classifiers that look at a file of this base name, with their
/// compiled patterns (a file-name version filled in).
fn candidates(path: &str, base: &str) -> Vec<(usize, Vec<Regex>)> {
    CLASSIFIERS
        .iter()
        .enumerate()
        .filter(|(_, c)| c.path_contains.is_none_or(|p| path.contains(p)))
        .filter(|(_, c)| {
            c.names.iter().any(|n| match n {
                Name::Exact(e) => base == *e,
                Name::Prefix(p) => base.starts_with(p),
            })
        })
        .filter_map(|(i, c)| match &COMPILED[i] {
            (patterns, None) => Some((i, patterns.clone())),
            (_, Some(name)) => {
                let version = name.captures(base)?.name("v")?.as_str().to_owned();
                Some((
                    i,
                    c.patterns
                        .iter()
                        .map(|p| compile(&p.replace("{v}", &regex::escape(&version))))
                        .collect(),
                ))
            }
        })
        .collect()
}

/// Classifier packages that repeat another finding, dropped once every
/// cataloger has run. A runtime a classifier found in a file a distro
/// package installed is that package's: the distro package stays the one finding (its
/// advisories know its backports). Paths compare across the `/usr` merge
/// (`/bin/bash` in a dpkg list is `/usr/bin/bash` on disk).
pub(crate) fn drop_repeated(packages: &mut Vec<Package>) {
    let merged = |path: &str| path.strip_prefix("/usr").unwrap_or(path).to_owned();
    let owned: std::collections::HashSet<String> = packages
        .iter()
        .filter(|p| p.kind.is_os())
        .flat_map(|p| p.files.iter().map(|f| merged(f)))
        .collect();
    // The Go toolchain's runtime is the `stdlib` its build information
    // names: one mechanism for it, not two.
    let go_stdlib: std::collections::HashSet<String> = packages
        .iter()
        .filter(|p| p.kind == PackageType::GoModule && p.name == "stdlib")
        .map(|p| p.path().to_owned())
        .collect();
    // A JDK's `release` file and its `java` binary are one runtime: the
    // binary's answer (vendor and build) wins when both are there.
    let java_binaries: Vec<String> = packages
        .iter()
        .filter(|p| {
            p.kind == PackageType::Binary
                && p.metadata
                    .get("classifier")
                    .is_some_and(|c| c.starts_with("java-binary"))
        })
        .map(|p| p.path().to_owned())
        .collect();
    let release_shadowed = |p: &Package| {
        p.metadata.get("classifier").map(String::as_str) == Some("java-release-file")
            && p.path()
                .strip_suffix("release")
                .is_some_and(|root| java_binaries.iter().any(|b| b.starts_with(root)))
    };
    packages.retain(|p| {
        p.kind != PackageType::Binary
            || !(owned.contains(&merged(p.path()))
                || go_stdlib.contains(p.path())
                || release_shadowed(p))
    });
}

/// A version as found, made safe to print: control and non-ASCII bytes
/// escaped (`\x07`).
fn printable(bytes: &[u8]) -> String {
    bytes
        .iter()
        .flat_map(|b| std::ascii::escape_default(*b))
        .map(char::from)
        .collect()
}

/// The binary classifier cataloger.
pub struct Classifiers;

impl Cataloger for Classifiers {
    fn name(&self) -> &'static str {
        "binary-classifier-cataloger"
    }
    fn tags(&self) -> &'static [&'static str] {
        &["binary", "binary-classifier"]
    }
    fn selector(&self) -> Selector {
        CLASSIFIERS
            .iter()
            .flat_map(|c| c.names.iter())
            .fold(Selector::new(), |s, n| match n {
                Name::Exact(e) => s.basename(e),
                Name::Prefix(p) => s.basename_prefix(p),
            })
    }
    fn max_file_size(&self) -> u64 {
        MAX_READ
    }
    fn streams(&self) -> bool {
        true
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        self.catalog_stream(file, &mut std::io::empty())
    }
    fn catalog_stream(
        &self,
        file: &FileInput<'_>,
        rest: &mut dyn Read,
    ) -> Result<Found, CatalogError> {
        let base = file.path.rsplit('/').next().unwrap_or(file.path);
        let executable = crate::catalogers::golang::is_executable(file.content);
        // A text file that says "Python 3.11" is not a package: binary
        // classifiers need an executable.
        let mut pending: Vec<(usize, Vec<Regex>)> = candidates(file.path, base)
            .into_iter()
            .filter(|(i, _)| !CLASSIFIERS[*i].binary || executable)
            .collect();
        if pending.is_empty() {
            return Ok(Found::Packages(Vec::new()));
        }
        let mut found: Vec<(usize, String, String)> = Vec::new();
        let mut buffer = file.content.to_vec();
        let mut read = buffer.len() as u64;
        let mut dropped = Vec::new();
        loop {
            pending.retain(|(i, patterns)| {
                let hit = patterns.iter().find_map(|p| {
                    let caps = p.captures(&buffer)?;
                    Some((
                        printable(caps.name("version")?.as_bytes()),
                        printable(caps.get(0)?.as_bytes()),
                    ))
                });
                match hit {
                    Some((version, evidence)) if !version.is_empty() => {
                        found.push((*i, version, evidence));
                        false
                    }
                    _ => true,
                }
            });
            if pending.is_empty() {
                break;
            }
            let keep_from = buffer.len().saturating_sub(OVERLAP);
            buffer.drain(..keep_from);
            let before = buffer.len();
            rest.take(STEP as u64)
                .read_to_end(&mut buffer)
                .map_err(|e| CatalogError::Malformed(format!("cannot read: {e}")))?;
            let n = buffer.len() - before;
            if n == 0 {
                break;
            }
            read += n as u64;
            if read > MAX_READ {
                dropped.push(format!(
                    "only the first {MAX_READ} bytes were searched for runtime versions"
                ));
                break;
            }
        }
        // One answer per branch group: the first classifier in table order.
        found.sort_by_key(|(i, ..)| *i);
        let mut branches = std::collections::HashSet::new();
        found.retain(|(i, ..)| CLASSIFIERS[*i].branch.is_none_or(|b| branches.insert(b)));
        let packages = found
            .into_iter()
            .map(|(i, version, evidence)| {
                let c = &CLASSIFIERS[i];
                let purl = format!("{}@{}", c.purl, purl_version(&version));
                let mut p = Package::new(
                    PackageType::Binary,
                    c.package,
                    &version,
                    purl,
                    self.name(),
                    file.path,
                );
                p.metadata
                    .insert("classifier".to_owned(), c.class.to_owned());
                p.metadata
                    .insert("evidence".to_owned(), evidence.chars().take(160).collect());
                if let Some(cpe) = c.cpes.first() {
                    p.metadata.insert(
                        "cpe".to_owned(),
                        cpe.replacen(":*:*:*:*:*:*:*:*", &format!(":{version}:*:*:*:*:*:*:*"), 1),
                    );
                }
                if let Some(component) = c.bitnami {
                    p.metadata
                        .insert("bitnami".to_owned(), component.to_owned());
                }
                p
            })
            .collect();
        Ok(Found::with_dropped(Found::Packages(packages), dropped))
    }
}

/// A version as a purl writes it (percent-encoding what is not allowed).
fn purl_version(version: &str) -> String {
    version
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_pattern_compiles_and_names_a_version() {
        for c in CLASSIFIERS {
            for p in c.patterns {
                let p = p.replace("{v}", "3\\.11");
                let re = regex::bytes::Regex::new(&format!("(?-u){p}"))
                    .unwrap_or_else(|e| panic!("{}: {e}", c.class));
                assert!(
                    re.capture_names().any(|n| n == Some("version")),
                    "{}",
                    c.class
                );
            }
            if let Some(n) = c.name_version {
                regex::Regex::new(n).unwrap();
            }
        }
    }

    fn elf(body: &[u8]) -> Vec<u8> {
        let mut v = b"\x7fELF\x02\x01\x01\x00".to_vec();
        v.extend_from_slice(&[0; 56]);
        v.extend_from_slice(body);
        v
    }

    fn run(path: &str, head: &[u8], rest: &[u8]) -> Vec<Package> {
        let input = FileInput {
            path,
            layer: 0,
            mode: 0o755,
            content: head,
        };
        match Classifiers.catalog_stream(&input, &mut &rest[..]).unwrap() {
            Found::Packages(p) => p,
            Found::Partial { found, .. } => match *found {
                Found::Packages(p) => p,
                other => panic!("{other:?}"),
            },
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_files_that_name_a_runtime_are_not_packages() {
        assert!(
            run(
                "/usr/local/bin/python3.11",
                b"#!/bin/sh\n\x003.11.4\x00",
                b""
            )
            .is_empty()
        );
        assert!(run("/usr/bin/node", b"node.js/v18.4.0", b"").is_empty());
    }

    #[test]
    fn evidence_straddling_two_reads_is_found_and_versions_are_escaped() {
        let mut rest = vec![b'x'; STEP - 3];
        rest.extend_from_slice(b"node.js/v18.4.0 ");
        let found = run("/usr/local/bin/node", &elf(b""), &rest);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].version, "18.4.0");
        assert_eq!(found[0].purl, "pkg:generic/node@18.4.0");
        assert_eq!(found[0].metadata["classifier"], "nodejs-binary");
        // The file-name version must be the content's.
        let python = run(
            "/usr/local/bin/python3.11",
            &elf(b"\x003.11.4\x00\x003.12.1\x00"),
            b"",
        );
        assert_eq!(python[0].version, "3.11.4");
        assert!(run("/usr/local/bin/python3.9", &elf(b"\x003.11.4\x00"), b"").is_empty());
        assert_eq!(printable(b"1.2\x07"), "1.2\\x07");
    }

    #[test]
    fn a_java_binary_gets_one_answer_from_its_branch() {
        let found = run(
            "/opt/java/openjdk/bin/java",
            &elf(b"\x00openjdk\x00java\x000.0\x0017.0.9+9\x00"),
            b"",
        );
        let names: Vec<(&str, &str)> = found
            .iter()
            .map(|p| (p.name.as_str(), p.version.as_str()))
            .collect();
        assert_eq!(names, [("openjdk", "17.0.9+9")], "not also a jre");
        let zulu = run(
            "/usr/lib/jvm/zulu17/bin/java",
            &elf(b"\x00java\x0017\x0017.0.9+8-LTS\x00"),
            b"",
        );
        assert_eq!(zulu[0].name, "zulu");
        // A JDK's release file is text, and read as such.
        let release = run(
            "/opt/java/openjdk/release",
            b"IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"17.0.9\"\n",
            b"",
        );
        assert_eq!(release[0].version, "17.0.9");
        assert_eq!(release[0].metadata["bitnami"], "java");
    }

    #[test]
    fn one_file_can_hold_two_runtimes() {
        let found = run(
            "/usr/bin/mysql",
            &elf(b"10.6.15-MariaDB\x00/build/mysql-8.0.4 "),
            b"",
        );
        let names: Vec<&str> = found.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["mariadb", "mysql"]);
    }
}
