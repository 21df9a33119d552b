//! Each rule on realistic Dockerfiles: continuations, heredocs, parser
//! directives, ARG scoping, multi-stage builds, inline suppression.

use super::lint;

fn codes(text: &str) -> Vec<(&'static str, u64)> {
    let mut v: Vec<(&'static str, u64)> = lint("Dockerfile", text)
        .unwrap()
        .iter()
        .map(|f| (f.rule, f.location.line.unwrap_or(0)))
        .collect();
    v.sort_unstable();
    v
}

const CARELESS: &str = r#"FROM node
ARG NPM_TOKEN
ENV API_KEY=k8Hq2Zx9LmTq4Wv7pR3s
WORKDIR /app
RUN apt-get update && \
    apt-get -y upgrade && \
    apt-get install -y build-essential curl
RUN curl -fsSL https://example.com/install.sh \
    | bash
ADD https://example.com/tool.tar.gz /opt/
RUN npm install
COPY . .
CMD ["node", "server.js"]
"#;

#[test]
fn a_careless_dockerfile() {
    assert_eq!(
        codes(CARELESS),
        [
            ("dockerfile-add-url-without-checksum", 10),
            ("dockerfile-build-tools-in-final-stage", 5),
            ("dockerfile-curl-pipe-shell", 8),
            ("dockerfile-final-stage-root", 1),
            ("dockerfile-from-latest", 1),
            ("dockerfile-from-not-pinned", 1),
            ("dockerfile-lockfile-not-copied", 11),
            ("dockerfile-missing-oci-label", 1),
            ("dockerfile-missing-oci-label", 1),
            ("dockerfile-missing-oci-label", 1),
            ("dockerfile-missing-oci-label", 1),
            ("dockerfile-npm-install", 11),
            ("dockerfile-package-upgrade", 5),
            ("dockerfile-secret-in-arg-or-env", 2),
            ("dockerfile-secret-in-arg-or-env", 3),
        ]
    );
    let findings = lint("Dockerfile", CARELESS).unwrap();
    let env = findings
        .iter()
        .find(|f| f.location.line == Some(3))
        .unwrap();
    assert_eq!(
        env.evidence.as_deref(),
        Some("ENV API_KEY=k8Hq…(20)"),
        "never the whole secret"
    );
}

const CAREFUL: &str = r#"# syntax=docker/dockerfile:1.7
ARG GO_VERSION=1.22
FROM golang:${GO_VERSION}@sha256:1111111111111111111111111111111111111111111111111111111111111111 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN <<BUILD
set -e
go build -o /out/app ./cmd/app
BUILD

FROM gcr.io/distroless/static-debian12:nonroot@sha256:2222222222222222222222222222222222222222222222222222222222222222
LABEL org.opencontainers.image.source="https://example.com/app" \
      org.opencontainers.image.revision="abc" \
      org.opencontainers.image.version="1.0" \
      org.opencontainers.image.created="2024-01-01T00:00:00Z"
COPY --from=build /out/app /app
USER 65532:65532
ENTRYPOINT ["/app"]
"#;

#[test]
fn a_careful_dockerfile_is_clean() {
    assert_eq!(codes(CAREFUL), []);
}

#[test]
fn arg_scoping_and_stage_references() {
    let text = "ARG BASE=python:3.12-slim\nFROM ${BASE} AS base\nFROM base AS test\nRUN pip install --require-hashes -r requirements.txt\nFROM base\nUSER app\n";
    let c = codes(text);
    // ${BASE} resolves to a tagged image (not latest) that is not pinned;
    // `FROM base` is a stage, not an image.
    assert!(c.contains(&("dockerfile-from-not-pinned", 2)), "{c:?}");
    assert!(
        !c.iter()
            .any(|(r, l)| r.starts_with("dockerfile-from") && (*l == 3 || *l == 5)),
        "{c:?}"
    );
    assert!(
        !c.iter().any(|(r, _)| *r == "dockerfile-from-latest"),
        "{c:?}"
    );
    // requirements.txt was never copied into the stage.
    assert!(c.contains(&("dockerfile-lockfile-not-copied", 4)), "{c:?}");
}

#[test]
fn heredocs_and_exec_form_runs_are_read() {
    let text = "FROM debian:12@sha256:3333333333333333333333333333333333333333333333333333333333333333\nRUN <<SCRIPT\ncurl -sSL https://get.example.com | sh\nSCRIPT\nRUN [\"sh\", \"-c\", \"wget -qO- https://x.example/i.sh | sh\"]\nUSER 1000\n";
    let c = codes(text);
    assert_eq!(
        c.iter()
            .filter(|(r, _)| *r == "dockerfile-curl-pipe-shell")
            .count(),
        2,
        "{c:?}"
    );
}

#[test]
fn inline_suppression() {
    let text = "FROM debian:12\n# customs:ignore=dockerfile-curl-pipe-shell\nRUN curl https://x.example/i.sh | sh\nRUN curl https://y.example/i.sh | sh\n# customs:ignore=dockerfile-final-stage-root\nUSER root\n";
    let c = codes(text);
    let pipes: Vec<_> = c
        .iter()
        .filter(|(r, _)| *r == "dockerfile-curl-pipe-shell")
        .collect();
    assert_eq!(pipes, [&("dockerfile-curl-pipe-shell", 4)]);
    assert!(
        !c.iter().any(|(r, _)| *r == "dockerfile-final-stage-root"),
        "{c:?}"
    );
}

#[test]
fn escape_directive_and_continuations() {
    let text = "# escape=`\nFROM mcr.microsoft.com/windows/servercore:ltsc2022\nRUN curl.exe -o x.ps1 https://x.example/i.ps1 `\n    && echo done\nUSER ContainerUser\n";
    let c = codes(text);
    assert!(c.contains(&("dockerfile-from-not-pinned", 2)), "{c:?}");
    assert!(
        !c.iter().any(|(r, _)| *r == "dockerfile-curl-pipe-shell"),
        "{c:?}"
    );
}

#[test]
fn invalid_dockerfiles_are_errors_with_a_line() {
    let e = lint("bad/Dockerfile", "FROM debian:12\nRUN echo ok\nCOPY\n").unwrap_err();
    assert_eq!(e.line, 3, "{e}");
    assert!(e.to_string().starts_with("bad/Dockerfile:3:"), "{e}");
    let e = lint("Dockerfile", "RUN echo no FROM\n").unwrap_err();
    assert!(e.to_string().starts_with("Dockerfile:1:"), "{e}");
}

proptest::proptest! {
    #[test]
    fn linting_anything_never_panics(text in "(FROM |RUN |ARG |ENV |COPY |ADD |USER |LABEL |#|\\\\|\n| |[a-z$={}:@/.<-]){0,200}") {
        let _ = lint("Dockerfile", &text);
    }
}

/// Patterns seen in real Dockerfiles when comparing with hadolint: globbed
/// manifests count as copied; empty, placeholder and `${ARG}` ENV values
/// are not secrets (the ARG itself is reported); `USER $UID` resolves the
/// ARG default.
#[test]
fn real_world_patterns() {
    let text = "ARG UID=0\nFROM node:20-bookworm-slim\nARG UID\nCOPY package*.json ./\nRUN npm ci\nENV OPENAI_API_KEY=\"\" JWT_SECRET=\"build-placeholder-not-used\"\nARG SIGNING_KEY\nENV SIGNING_KEY=${SIGNING_KEY}\nUSER $UID\n";
    let c = codes(text);
    assert!(
        !c.iter()
            .any(|(r, _)| *r == "dockerfile-lockfile-not-copied"),
        "{c:?}"
    );
    let secrets: Vec<u64> = c
        .iter()
        .filter(|(r, _)| *r == "dockerfile-secret-in-arg-or-env")
        .map(|(_, l)| *l)
        .collect();
    assert_eq!(secrets, [7], "only the ARG that carries the secret");
    assert!(
        c.contains(&("dockerfile-final-stage-root", 9)),
        "USER $UID with UID=0: {c:?}"
    );
}
