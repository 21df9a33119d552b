//! `customs exceptions list|check` and `customs vex export`: the state of
//! the exceptions files, and the active vulnerability exceptions as an
//! OpenVEX document.

use customs_cli::{ExceptionsArgs, ExceptionsCommand, Format, GlobalArgs, VexExportArgs};
use customs_policy::Exceptions;
use customs_policy::exceptions::{Exception, Status};

use crate::exit::ExitStatus;
use crate::render;

/// `14d`, `2w`, `36h` (rounded up to days).
fn days(text: &str) -> anyhow::Result<i64> {
    let bad = || anyhow::anyhow!("`{text}` is not a duration (examples: 14d, 2w, 48h)");
    let number = |suffix: char| {
        text.strip_suffix(suffix)
            .and_then(|n| n.parse::<i64>().ok())
            .filter(|n| (0..=100_000).contains(n))
    };
    number('d')
        .or_else(|| number('w').map(|n| n * 7))
        .or_else(|| number('h').map(|n| (n + 23) / 24))
        .ok_or_else(bad)
}

/// The exceptions of the files given, else of customs.toml.
pub(crate) fn load(
    files: &[std::path::PathBuf],
    policy: &customs_cli::PolicyFiles,
) -> anyhow::Result<(Exceptions, i64)> {
    let now = super::policy::now(policy)?;
    let config = super::policy::config(policy)?;
    let paths = if files.is_empty() {
        config.exceptions.clone()
    } else {
        files.to_vec()
    };
    anyhow::ensure!(
        !paths.is_empty(),
        "no exceptions files: name them, or list them in customs.toml ([policy] exceptions = [...])"
    );
    Ok((
        Exceptions::load(&paths, now.div_euclid(86_400), config.max_exception_days)?,
        now,
    ))
}

pub(crate) fn state(e: &Exception, today: i64, within: i64) -> (Status, String) {
    let status = e.status(today, within);
    let text = match status {
        Status::Active => format!("active ({} days left)", e.expires_day - today),
        Status::Expiring => format!("EXPIRING in {} days", e.expires_day - today),
        Status::Expired => format!("EXPIRED on {}", e.expires),
    };
    (status, text)
}

/// What an exception waives: `CVE-… in pkg`, `rule R`.
pub(crate) fn waives(e: &Exception) -> String {
    let what = match (&e.vulnerability, &e.rule) {
        (Some(v), _) => v.clone(),
        (None, Some(r)) => format!("rule {r}"),
        (None, None) => "-".to_owned(),
    };
    match &e.package {
        Some(p) => format!("{what} in {p}"),
        None => what,
    }
}

/// The images an exception is for.
pub(crate) fn scope(e: &Exception) -> String {
    e.scope
        .digest
        .clone()
        .or_else(|| e.scope.repository.clone())
        .unwrap_or_else(|| "all images".to_owned())
}

pub(crate) fn run(command: ExceptionsCommand, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (check, args): (bool, ExceptionsArgs) = match command {
        ExceptionsCommand::List(a) => (false, a),
        ExceptionsCommand::Check(a) => (true, a),
    };
    let within = days(&args.expiring_within)?;
    let (exceptions, now) = load(&args.files, &args.policy)?;
    let today = now.div_euclid(86_400);
    let rows: Vec<_> = exceptions
        .entries
        .iter()
        .map(|e| (e, state(e, today, within)))
        .collect();
    match args.output {
        Format::Json => render::json(
            &rows
                .iter()
                .map(|(e, (status, text))| {
                    let mut v = serde_json::to_value(e).unwrap_or_default();
                    v["state"] = serde_json::Value::from(match status {
                        Status::Active => "active",
                        Status::Expiring => "expiring",
                        Status::Expired => "expired",
                    });
                    v["days_left"] = serde_json::Value::from(e.expires_day - today);
                    v["state_text"] = serde_json::Value::from(text.as_str());
                    v
                })
                .collect::<Vec<_>>(),
        )?,
        Format::Table => {
            let mut t = render::table(&[
                "ID", "STATE", "WAIVES", "SCOPE", "ENVS", "OWNER", "APPROVER",
            ]);
            for (e, (_, text)) in &rows {
                t.add_row(render::row([
                    e.id.clone(),
                    text.clone(),
                    waives(e),
                    scope(e),
                    if e.environments.is_empty() {
                        "all".to_owned()
                    } else {
                        e.environments.join(",")
                    },
                    e.owner.clone().unwrap_or_else(|| "-".to_owned()),
                    e.approver.clone().unwrap_or_else(|| "-".to_owned()),
                ]));
            }
            let count = |s: Status| rows.iter().filter(|(_, (x, _))| *x == s).count();
            render::text(&format!(
                "{}\n\n{} exceptions: {} active, {} expiring within {within} days, {} expired",
                t.trim_fmt(),
                rows.len(),
                count(Status::Active),
                count(Status::Expiring),
                count(Status::Expired)
            ))?;
        }
    }
    if !check {
        return Ok(ExitStatus::Success);
    }
    let mut failed = false;
    for (e, (status, text)) in &rows {
        let fails = *status == Status::Expired || (args.strict && *status == Status::Expiring);
        if fails {
            super::warn(&format!("exception {} ({}): {text}", e.id, e.file));
            failed = true;
        }
    }
    Ok(if failed {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

/// `customs vex export`: active vulnerability exceptions as OpenVEX 0.2.
pub(crate) fn export(args: &VexExportArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let (exceptions, now) = load(&args.files, &args.policy)?;
    let today = now.div_euclid(86_400);
    let timestamp = customs_sbom::rfc3339(u64::try_from(now)?);
    let mut statements = Vec::new();
    for e in &exceptions.entries {
        let Some(vulnerability) = &e.vulnerability else {
            continue; // a rule exception is not a VEX statement
        };
        if e.status(today, 0) == Status::Expired {
            continue;
        }
        let product = match (&e.scope.digest, &e.package) {
            (Some(digest), Some(package)) => serde_json::json!({
                "@id": digest, "subcomponents": [{"@id": package}]
            }),
            (Some(digest), None) => serde_json::json!({"@id": digest}),
            (None, Some(package)) => serde_json::json!({"@id": package}),
            (None, None) => {
                super::warn(&format!(
                    "exception {} names no digest and no package: OpenVEX needs a product, so it is left out",
                    e.id
                ));
                continue;
            }
        };
        let mut impact = e.justification.clone();
        if let Some(control) = &e.compensating_control {
            impact.push_str(&format!(" Compensating control: {control}."));
        }
        impact.push_str(&format!(
            " (customs exception {}, expires {})",
            e.id, e.expires
        ));
        let mut statement = serde_json::json!({
            "vulnerability": {"name": vulnerability},
            "timestamp": timestamp,
            "products": [product],
            "status": "not_affected",
            "impact_statement": impact,
        });
        if e.compensating_control.is_some() {
            statement["justification"] = "inline_mitigations_already_exist".into();
        }
        if let Some(remediation) = &e.remediation {
            statement["status_notes"] = format!("tracked at {remediation}").into();
        }
        statements.push(statement);
    }
    let body = serde_json::json!({
        "author": args.author,
        "timestamp": timestamp,
        "version": 1,
        "statements": statements,
    });
    let id = customs_types::Digest::sha256(body.to_string().as_bytes());
    let mut document = serde_json::json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("https://openvex.dev/docs/public/vex-{}", id.hex()),
    });
    if let (Some(d), serde_json::Value::Object(b)) = (document.as_object_mut(), body) {
        d.extend(b);
    }
    let mut bytes = serde_json::to_vec_pretty(&document)?;
    bytes.push(b'\n');
    super::output::emit(&bytes, args.output.as_deref())?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    #[test]
    fn durations() {
        assert_eq!(super::days("14d").unwrap(), 14);
        assert_eq!(super::days("2w").unwrap(), 14);
        assert_eq!(super::days("25h").unwrap(), 2);
        for bad in ["", "d", "14", "14é", "-1d", "99999999999999999999d"] {
            assert!(super::days(bad).is_err(), "{bad}");
        }
    }
}
