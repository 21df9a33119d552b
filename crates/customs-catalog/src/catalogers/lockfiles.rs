//! Declared dependencies in lock files and package manager manifests:
//! npm `package-lock.json` (v1–v3), `yarn.lock` (classic and Berry),
//! `pnpm-lock.yaml` (v5–v9), `Cargo.lock`, Composer `composer.lock` and
//! `vendor/composer/installed.json`, and .NET `*.deps.json`.
//!
//! A lock file describes what an application was built with, not what an
//! image contains (Debian's node packages ship hundreds of upstream lock
//! files), so the catalogers tagged `lockfile` run by default only on
//! unpacked source trees (`dir:`), and on images with `--catalogers
//! +lockfile`. Packages also found installed are merged into the installed
//! ones (the lock file becomes one more location); the rest are marked
//! `evidence: declared`.

use std::sync::LazyLock;

use customs_layer::Selector;
use customs_sbom::{Package, PackageType, purl};
use serde_json::Value;

use crate::cataloger::{CatalogError, Cataloger, FileInput, Found};
use crate::catalogers::npm::npm_purl;

fn malformed(what: &str, e: impl std::fmt::Display) -> CatalogError {
    CatalogError::Malformed(format!("invalid {what}: {e}"))
}

fn declared(mut p: Package) -> Package {
    p.metadata
        .insert("evidence".to_owned(), "declared".to_owned());
    p
}

fn npm_package(name: &str, version: &str, path: &str, found_by: &str) -> Option<Package> {
    if name.is_empty() || version.is_empty() {
        return None;
    }
    // Aliases (`npm:real@1.0.0`), links and git URLs are not registry versions.
    if version.contains(':') || version.starts_with("file") || version.contains('/') {
        return None;
    }
    let purl = npm_purl(name, version).ok()?;
    Some(declared(Package::new(
        PackageType::Npm,
        name,
        version,
        purl,
        found_by,
        path,
    )))
}

/// `package-lock.json` and `npm-shrinkwrap.json`, lockfileVersion 1 to 3.
pub struct NpmLock;

fn walk_v1(deps: &serde_json::Map<String, Value>, path: &str, out: &mut Vec<Package>) {
    for (name, entry) in deps {
        if let Some(version) = entry.get("version").and_then(Value::as_str) {
            out.extend(npm_package(name, version, path, NpmLock.name()));
        }
        if let Some(nested) = entry.get("dependencies").and_then(Value::as_object) {
            walk_v1(nested, path, out);
        }
    }
}

impl Cataloger for NpmLock {
    fn name(&self) -> &'static str {
        "javascript-lock-cataloger"
    }
    fn tags(&self) -> &'static [&'static str] {
        &["language", "npm", "javascript", "lockfile"]
    }
    fn selector(&self) -> Selector {
        Selector::new()
            .basename("package-lock.json")
            .basename("npm-shrinkwrap.json")
            .basename("yarn.lock")
            .basename("pnpm-lock.yaml")
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let base = file.path.rsplit('/').next().unwrap_or_default();
        let mut out = Vec::new();
        match base {
            "yarn.lock" => yarn(&String::from_utf8_lossy(file.content), file.path, &mut out),
            "pnpm-lock.yaml" => pnpm(file.content, file.path, &mut out)?,
            _ => {
                let lock: Value =
                    serde_json::from_slice(file.content).map_err(|e| malformed("JSON", e))?;
                if let Some(packages) = lock.get("packages").and_then(Value::as_object) {
                    for (key, entry) in packages {
                        if key.is_empty()
                            || entry.get("link").and_then(Value::as_bool) == Some(true)
                        {
                            continue;
                        }
                        let name = entry.get("name").and_then(Value::as_str).map_or_else(
                            || key.rsplit("node_modules/").next().unwrap_or(key).to_owned(),
                            str::to_owned,
                        );
                        if let Some(version) = entry.get("version").and_then(Value::as_str) {
                            let mut p = npm_package(&name, version, file.path, self.name());
                            if let (Some(p), Some(license)) =
                                (&mut p, entry.get("license").and_then(Value::as_str))
                            {
                                p.licenses.push(license.to_owned());
                            }
                            out.extend(p);
                        }
                    }
                } else if let Some(deps) = lock.get("dependencies").and_then(Value::as_object) {
                    walk_v1(deps, file.path, &mut out);
                }
            }
        }
        out.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
        out.dedup_by(|a, b| a.name == b.name && a.version == b.version);
        Ok(Found::Packages(out))
    }
}

/// `yarn.lock`: classic (`version "1.2.3"`) and Berry (`version: 1.2.3`).
fn yarn(text: &str, path: &str, out: &mut Vec<Package>) {
    let mut name: Option<String> = None;
    for line in text.lines() {
        if !line.starts_with(' ') && line.ends_with(':') && !line.starts_with('#') {
            // `"@scope/pkg@^1.0.0", "@scope/pkg@npm:^1.1":` → `@scope/pkg`
            let first = line
                .trim_end_matches(':')
                .split(',')
                .next()
                .unwrap_or("")
                .trim()
                .trim_matches('"');
            let at = first
                .char_indices()
                .skip(1)
                .find(|(_, c)| *c == '@')
                .map(|(i, _)| i);
            name = at
                .map(|i| first[..i].to_owned())
                .filter(|n| n != "__metadata");
        } else if let Some(rest) = line.trim_start().strip_prefix("version")
            && let Some(n) = name.take()
        {
            let version = rest.trim_start_matches(':').trim().trim_matches('"');
            out.extend(npm_package(&n, version, path, NpmLock.name()));
        }
    }
}

/// `pnpm-lock.yaml` package keys: `/name/1.0.0` (v5), `/name@1.0.0` (v6),
/// `name@1.0.0` (v9), with peer suffixes `(…)` or `_…` dropped.
fn pnpm(content: &[u8], path: &str, out: &mut Vec<Package>) -> Result<(), CatalogError> {
    let doc: yaml_serde::Value =
        yaml_serde::from_slice(content).map_err(|e| malformed("YAML", e))?;
    let Some(packages) = doc.get("packages").and_then(yaml_serde::Value::as_mapping) else {
        return Ok(());
    };
    for key in packages.keys().filter_map(yaml_serde::Value::as_str) {
        let key = key.trim_start_matches('/');
        let key = key.split('(').next().unwrap_or(key);
        let (name, version) = match key.char_indices().skip(1).find(|(_, c)| *c == '@') {
            Some((i, _)) => (&key[..i], &key[i + 1..]),
            None => match key.rsplit_once('/') {
                Some((n, v)) => (n, v),
                None => continue,
            },
        };
        let version = version.split('_').next().unwrap_or(version);
        out.extend(npm_package(name, version, path, NpmLock.name()));
    }
    Ok(())
}

/// `Cargo.lock`.
pub struct CargoLock;

impl Cataloger for CargoLock {
    fn name(&self) -> &'static str {
        "rust-cargo-lock-cataloger"
    }
    fn tags(&self) -> &'static [&'static str] {
        &["language", "rust", "rust-crate", "cargo", "lockfile"]
    }
    fn selector(&self) -> Selector {
        Selector::new().basename("Cargo.lock")
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        #[derive(serde::Deserialize)]
        struct Lock {
            #[serde(default)]
            package: Vec<Entry>,
        }
        #[derive(serde::Deserialize)]
        struct Entry {
            name: String,
            version: String,
            source: Option<String>,
        }
        let text =
            std::str::from_utf8(file.content).map_err(|_| malformed("Cargo.lock", "not UTF-8"))?;
        let lock: Lock = toml::from_str(text).map_err(|e| malformed("Cargo.lock", e))?;
        let packages = lock
            .package
            .into_iter()
            .filter_map(|e| {
                let purl = purl("cargo", None, &e.name, &e.version, &[]).ok()?;
                let mut p = declared(Package::new(
                    PackageType::RustCrate,
                    &e.name,
                    &e.version,
                    purl,
                    self.name(),
                    file.path,
                ));
                if let Some(source) = e.source {
                    p.metadata.insert("source".to_owned(), source);
                }
                Some(p)
            })
            .collect();
        Ok(Found::Packages(packages))
    }
}

/// Composer: `vendor/composer/installed.json` (v1 and v2, what is
/// installed) or, with `lock`, `composer.lock` (what is declared).
pub struct Composer {
    /// Read lock files instead of installed.json.
    pub lock: bool,
}

impl Cataloger for Composer {
    fn name(&self) -> &'static str {
        if self.lock {
            "php-composer-lock-cataloger"
        } else {
            "php-composer-installed-cataloger"
        }
    }
    fn tags(&self) -> &'static [&'static str] {
        if self.lock {
            &["language", "php", "php-composer", "composer", "lockfile"]
        } else {
            &["language", "php", "php-composer", "composer"]
        }
    }
    fn selector(&self) -> Selector {
        if self.lock {
            Selector::new().basename("composer.lock")
        } else {
            Selector::new().suffix("/vendor/composer/installed.json")
        }
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let doc: Value = serde_json::from_slice(file.content).map_err(|e| malformed("JSON", e))?;
        let installed = file.path.ends_with("installed.json");
        let lists: Vec<&Value> = match &doc {
            Value::Array(_) => vec![&doc],
            _ => ["packages", "packages-dev"]
                .iter()
                .filter_map(|k| doc.get(*k))
                .collect(),
        };
        let mut out = Vec::new();
        for entry in lists.into_iter().filter_map(Value::as_array).flatten() {
            let (Some(name), Some(version)) = (
                entry.get("name").and_then(Value::as_str),
                entry.get("version").and_then(Value::as_str),
            ) else {
                continue;
            };
            let Some((vendor, project)) = name.split_once('/') else {
                continue;
            };
            let Ok(purl) = purl("composer", Some(vendor), project, version, &[]) else {
                continue;
            };
            let mut p = Package::new(
                PackageType::PhpComposer,
                name,
                version,
                purl,
                self.name(),
                file.path,
            );
            p.licenses = entry
                .get("license")
                .and_then(Value::as_array)
                .map(|l| {
                    l.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default();
            out.push(if installed { p } else { declared(p) });
        }
        Ok(Found::Packages(out))
    }
}

/// .NET `*.deps.json`: the libraries of type `package` an application loads.
pub struct DotnetDeps;

impl Cataloger for DotnetDeps {
    fn name(&self) -> &'static str {
        "dotnet-deps-cataloger"
    }
    fn tags(&self) -> &'static [&'static str] {
        &["language", "dotnet", "nuget", "c#"]
    }
    fn selector(&self) -> Selector {
        Selector::new().suffix(".deps.json")
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        let doc: Value = serde_json::from_slice(file.content).map_err(|e| malformed("JSON", e))?;
        let mut out = Vec::new();
        for (key, library) in doc
            .get("libraries")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            if library.get("type").and_then(Value::as_str) != Some("package") {
                continue;
            }
            let Some((name, version)) = key.rsplit_once('/') else {
                continue;
            };
            if let Ok(purl) = purl("nuget", None, name, version, &[]) {
                out.push(Package::new(
                    PackageType::Dotnet,
                    name,
                    version,
                    purl,
                    self.name(),
                    file.path,
                ));
            }
        }
        Ok(Found::Packages(out))
    }
}

/// `s.name = "rake"` / `s.version = "13.0.6"` in a normalised gemspec.
static GEM_FIELD: LazyLock<Option<regex::Regex>> = LazyLock::new(|| {
    regex::Regex::new(r#"(?m)^\s*\w+\.(name|version)\s*=\s*["']([^"']+)["']"#).ok()
});
/// `s.licenses = ["MIT".freeze]` (or `s.license = "MIT"`).
static GEM_LICENSES: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r#"\.licenses?\s*=\s*\[?([^\]\n]*)"#).ok());
static QUOTED: LazyLock<Option<regex::Regex>> =
    LazyLock::new(|| regex::Regex::new(r#"["']([^"']+)["']"#).ok());

/// Installed Ruby gems: `specifications/*.gemspec` (the normalised specs
/// RubyGems writes), read as text without running Ruby.
pub struct Gemspec;

impl Cataloger for Gemspec {
    fn name(&self) -> &'static str {
        "ruby-installed-gemspec-cataloger"
    }
    fn tags(&self) -> &'static [&'static str] {
        &["language", "ruby", "gem"]
    }
    fn selector(&self) -> Selector {
        Selector::new().suffix(".gemspec")
    }
    fn catalog(&self, file: &FileInput<'_>) -> Result<Found, CatalogError> {
        if !file.path.contains("/specifications/") {
            return Ok(Found::Packages(Vec::new()));
        }
        let text = String::from_utf8_lossy(file.content);
        let (mut name, mut version) = (None, None);
        for c in GEM_FIELD
            .as_ref()
            .into_iter()
            .flat_map(|re| re.captures_iter(&text))
        {
            let slot = if &c[1] == "name" {
                &mut name
            } else {
                &mut version
            };
            slot.get_or_insert_with(|| c[2].to_owned());
        }
        let (Some(name), Some(version)) = (name, version) else {
            return Err(CatalogError::Malformed(
                "no name or version assignment".to_owned(),
            ));
        };
        let purl = purl("gem", None, &name, &version, &[])
            .map_err(|e| CatalogError::Malformed(e.to_string()))?;
        let mut p = Package::new(
            PackageType::Gem,
            &name,
            &version,
            purl,
            self.name(),
            file.path,
        );
        if let (Some(list), Some(quoted)) = (
            GEM_LICENSES.as_ref().and_then(|re| re.captures(&text)),
            QUOTED.as_ref(),
        ) {
            p.licenses = quoted
                .captures_iter(&list[1])
                .map(|c| c[1].to_owned())
                .collect();
        }
        Ok(Found::Packages(vec![p]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(c: &dyn Cataloger, path: &str, content: &str) -> Vec<(String, String, String)> {
        match c
            .catalog(&FileInput {
                path,
                layer: 0,
                mode: 0o644,
                content: content.as_bytes(),
            })
            .unwrap()
        {
            Found::Packages(p) => p.into_iter().map(|p| (p.name, p.version, p.purl)).collect(),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn package_lock_versions() {
        let v3 = r#"{"lockfileVersion":3,"packages":{"":{"name":"app"},"node_modules/lodash":{"version":"4.17.15"},"node_modules/@babel/core":{"version":"7.0.0"},"node_modules/send/node_modules/ms":{"version":"2.1.1"},"node_modules/alias":{"version":"npm:real@1.0.0"}}}"#;
        assert_eq!(
            run(&NpmLock, "/app/package-lock.json", v3)
                .iter()
                .map(|p| (p.0.as_str(), p.1.as_str()))
                .collect::<Vec<_>>(),
            [
                ("@babel/core", "7.0.0"),
                ("lodash", "4.17.15"),
                ("ms", "2.1.1")
            ]
        );
        let v1 = r#"{"lockfileVersion":1,"dependencies":{"a":{"version":"1.0.0","dependencies":{"b":{"version":"2.0.0"}}}}}"#;
        assert_eq!(run(&NpmLock, "/p/package-lock.json", v1).len(), 2);
    }

    #[test]
    fn yarn_and_pnpm() {
        let classic = "# yarn lockfile v1\n\n\"@babel/code-frame@^7.0.0\", \"@babel/code-frame@^7.10.4\":\n  version \"7.12.13\"\n  resolved \"https://x\"\n\nlodash@^4.17.15:\n  version \"4.17.21\"\n";
        assert_eq!(
            run(&NpmLock, "/a/yarn.lock", classic)
                .iter()
                .map(|p| p.2.as_str())
                .collect::<Vec<_>>(),
            [
                "pkg:npm/%40babel/code-frame@7.12.13",
                "pkg:npm/lodash@4.17.21"
            ]
        );
        let berry = "__metadata:\n  version: 6\n\n\"lodash@npm:^4.17.21\":\n  version: 4.17.21\n  resolution: \"lodash@npm:4.17.21\"\n";
        assert_eq!(run(&NpmLock, "/a/yarn.lock", berry)[0].1, "4.17.21");
        let pnpm = "lockfileVersion: '6.0'\npackages:\n  /lodash@4.17.21:\n    resolution: {integrity: x}\n  /@types/node@20.1.0(typescript@5.0.0):\n    dev: true\n";
        assert_eq!(
            run(&NpmLock, "/a/pnpm-lock.yaml", pnpm)
                .iter()
                .map(|p| (p.0.as_str(), p.1.as_str()))
                .collect::<Vec<_>>(),
            [("@types/node", "20.1.0"), ("lodash", "4.17.21")]
        );
        let pnpm5 = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.21:\n    dev: false\n";
        assert_eq!(run(&NpmLock, "/a/pnpm-lock.yaml", pnpm5)[0].1, "4.17.21");
    }

    #[test]
    fn cargo_composer_dotnet_gems() {
        let lock = "version = 3\n\n[[package]]\nname = \"smallvec\"\nversion = \"1.6.0\"\nsource = \"registry+https://github.com/rust-lang/crates.io-index\"\n\n[[package]]\nname = \"app\"\nversion = \"0.1.0\"\n";
        assert_eq!(run(&CargoLock, "/src/Cargo.lock", lock).len(), 2);
        let composer = r#"{"packages":[{"name":"monolog/monolog","version":"2.9.1","license":["MIT"]}],"packages-dev":[]}"#;
        assert_eq!(
            run(&Composer { lock: true }, "/app/composer.lock", composer)[0].2,
            "pkg:composer/monolog/monolog@2.9.1"
        );
        let deps = r#"{"libraries":{"app/1.0.0":{"type":"project"},"Newtonsoft.Json/13.0.1":{"type":"package"}}}"#;
        assert_eq!(
            run(&DotnetDeps, "/app/app.deps.json", deps),
            [(
                "Newtonsoft.Json".to_owned(),
                "13.0.1".to_owned(),
                "pkg:nuget/Newtonsoft.Json@13.0.1".to_owned()
            )]
        );
        let gem = "# -*- encoding: utf-8 -*-\nGem::Specification.new do |s|\n  s.name = \"rake\".freeze\n  s.version = \"13.0.6\"\n  s.licenses = [\"MIT\".freeze]\nend\n";
        assert_eq!(
            run(
                &Gemspec,
                "/usr/local/bundle/specifications/rake-13.0.6.gemspec",
                gem
            )[0]
            .2,
            "pkg:gem/rake@13.0.6"
        );
    }

    #[test]
    fn malformed_lock_files_are_errors() {
        for (c, path) in [
            (&NpmLock as &dyn Cataloger, "/a/package-lock.json"),
            (&CargoLock, "/a/Cargo.lock"),
            (&Composer { lock: true }, "/a/composer.lock"),
            (&NpmLock, "/a/pnpm-lock.yaml"),
        ] {
            assert!(
                c.catalog(&FileInput {
                    path,
                    layer: 0,
                    mode: 0o644,
                    content: b"{[: not valid"
                })
                .is_err(),
                "{path}"
            );
        }
    }
}
