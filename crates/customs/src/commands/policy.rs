//! What every policy command reads: `customs.toml` (environments, the
//! policy folder, exceptions, VEX, KEV, block list), the flags that add to
//! it, the evaluation time, and the keys an environment trusts; and
//! `customs policy`, which lists the rules and their levels.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use customs_cli::{Format, GlobalArgs, PolicyArgs, PolicyFiles};
use customs_policy::blocklist::BlockList;
use customs_policy::kev::Kev;
use customs_policy::vex::VexSet;
use customs_policy::{Environment, Exceptions, Policy, PolicyConfig};

use crate::exit::ExitStatus;
use crate::render;

/// The evaluation time: `--now` (RFC 3339 or a date), else the clock.
pub(crate) fn now(files: &PolicyFiles) -> anyhow::Result<i64> {
    match &files.now {
        None => Ok(i64::try_from(customs_sbom::timestamp())?),
        Some(text) => customs_types::time::parse_rfc3339(text)
            .map(|ns| ns.div_euclid(1_000_000_000))
            .or_else(|| customs_types::time::parse_date(text).map(|d| d * 86_400))
            .ok_or_else(|| {
                anyhow::anyhow!("--now `{text}` is neither an RFC 3339 time nor a YYYY-MM-DD date")
            }),
    }
}

/// The customs.toml in use: `--config`, else `./customs.toml` if present.
pub(crate) fn config_path(files: &PolicyFiles) -> Option<PathBuf> {
    files.config.clone().or_else(|| {
        let here = PathBuf::from("customs.toml");
        here.is_file().then_some(here)
    })
}

/// The policy configuration (built-in environments without a file).
pub(crate) fn config(files: &PolicyFiles) -> anyhow::Result<PolicyConfig> {
    let mut config = match config_path(files) {
        Some(path) => PolicyConfig::parse(&path, &super::read_text(&path)?)?,
        None => PolicyConfig::builtin(),
    };
    if files.policy.is_some() {
        config.dir.clone_from(&files.policy);
    }
    config.exceptions.extend(files.exceptions.iter().cloned());
    config.vex.extend(files.vex.iter().cloned());
    if files.kev.is_some() {
        config.kev.clone_from(&files.kev);
    }
    if files.blocklist.is_some() {
        config.blocklist.clone_from(&files.blocklist);
    }
    Ok(config)
}

/// Everything a gate evaluation reads from files.
pub(crate) struct Loaded {
    pub(crate) config: PolicyConfig,
    pub(crate) policy: Policy,
    pub(crate) exceptions: Exceptions,
    pub(crate) vex: VexSet,
    pub(crate) kev: Option<Kev>,
    pub(crate) blocklist: Option<BlockList>,
    pub(crate) now: i64,
    pub(crate) allow: customs_checks::secrets::AllowList,
}

/// Loads and validates every policy file before any image is read, so a
/// typo fails fast and names its file.
pub(crate) fn load(files: &PolicyFiles) -> anyhow::Result<Loaded> {
    let now = now(files)?;
    let config = config(files)?;
    let policy = Policy::load(config.dir.as_deref())?;
    let exceptions = Exceptions::load(
        &config.exceptions,
        now.div_euclid(86_400),
        config.max_exception_days,
    )?;
    let vex = VexSet::load(&config.vex)?;
    let kev = config.kev.as_deref().map(Kev::load).transpose()?;
    let blocklist = config
        .blocklist
        .as_deref()
        .map(BlockList::load)
        .transpose()?;
    let allow = super::secrets::allow_list(config_path(files).as_deref())?;
    Ok(Loaded {
        config,
        policy,
        exceptions,
        vex,
        kev,
        blocklist,
        now,
        allow,
    })
}

/// The verifiers of what an environment trusts: each key, each identity.
pub(crate) fn trusted(env: &Environment) -> anyhow::Result<Vec<super::keys::Trust>> {
    let mut out = Vec::new();
    let root = env.trusted_root.as_ref().map(PathBuf::from);
    for key in &env.keys {
        let keyless = customs_cli::KeylessArgs {
            trusted_root: root.clone(),
            ..customs_cli::KeylessArgs::default()
        };
        out.push(
            super::keys::trust(Some(key), &keyless)
                .with_context(|| format!("a key the environment trusts: {key}"))?,
        );
    }
    for id in &env.identities {
        let keyless = customs_cli::KeylessArgs {
            certificate_identity: id.identity.clone(),
            certificate_identity_regexp: id.identity_regexp.clone(),
            certificate_oidc_issuer: id.issuer.clone(),
            certificate_oidc_issuer_regexp: id.issuer_regexp.clone(),
            trusted_root: root.clone(),
        };
        out.push(super::keys::trust(None, &keyless)?);
    }
    Ok(out)
}

/// The base catalogue's path: the flag, else the data directory.
pub(crate) fn catalogue_path(flag: Option<&Path>) -> PathBuf {
    flag.map_or_else(
        || {
            super::xdg_base("XDG_DATA_HOME", ".local/share")
                .join("customs")
                .join("bases.json")
        },
        Path::to_path_buf,
    )
}

/// `customs policy`: every rule, whether built in, and its level in each
/// configured environment.
pub(crate) fn run(args: &PolicyArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let config = config(&args.policy)?;
    let policy = Policy::load(config.dir.as_deref())?;
    let levels = |rule: &customs_policy::RuleMeta| -> Vec<(String, &'static str)> {
        config
            .environments
            .iter()
            .map(|(name, env)| (name.clone(), rule.level_in(name, env).as_str()))
            .collect()
    };
    match args.output {
        Format::Json => {
            let rules: Vec<_> = policy
                .rules()
                .iter()
                .map(|r| {
                    serde_json::json!({
                        "id": r.id, "title": r.title, "description": r.description,
                        "package": r.package, "builtin": r.builtin,
                        "levels": levels(r).into_iter().collect::<std::collections::BTreeMap<_, _>>(),
                    })
                })
                .collect();
            render::json(&serde_json::json!({
                "bundle_digest": policy.digest(),
                "files": policy.files(),
                "rules": rules,
            }))?;
        }
        Format::Table => {
            let envs: Vec<&str> = config.environments.keys().map(String::as_str).collect();
            let mut header = vec!["RULE"];
            header.extend(envs.iter().map(|e| e.to_owned()));
            header.extend(["SOURCE", "TITLE"]);
            let mut t = render::table(&header);
            for r in policy.rules() {
                let mut row = vec![r.id.clone()];
                row.extend(levels(r).into_iter().map(|(_, l)| l.to_owned()));
                row.push(if r.builtin {
                    "built-in".to_owned()
                } else {
                    r.package.clone()
                });
                row.push(r.title.clone());
                t.add_row(render::row(row));
            }
            render::text(&format!(
                "{}\n\nPolicy bundle {}",
                t.trim_fmt(),
                policy.digest()
            ))?;
        }
    }
    Ok(ExitStatus::Success)
}
