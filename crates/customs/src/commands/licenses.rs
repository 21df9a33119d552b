//! `customs licenses REF`: every package's licences grouped by licence,
//! with the environment's licence policy's verdict per package.

use std::collections::BTreeMap;

use customs_cli::{Format, GlobalArgs, LicensesArgs};
use customs_policy::licenses::{self, PackageLicenses, Verdict};

use crate::exit::ExitStatus;
use crate::render;

pub(crate) async fn run(args: LicensesArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let config = super::policy::config(&args.policy)?;
    let env = config.environment(&args.env)?;
    let (sbom, _) = super::make_sbom(
        &args.image,
        &args.source,
        &args.catalogers.selection,
        global,
    )
    .await?;
    let judged = licenses::judge(&env.licenses, &sbom);
    let mut groups: BTreeMap<String, Vec<&PackageLicenses>> = BTreeMap::new();
    for p in &judged {
        let key = if p.licenses.is_empty() {
            "(none declared)".to_owned()
        } else {
            p.licenses.join(" AND ")
        };
        groups.entry(key).or_default().push(p);
    }
    let count = |v: Verdict| judged.iter().filter(|p| p.verdict == v).count();
    match args.output {
        Format::Json => render::json(&serde_json::json!({
            "subject": sbom.subject,
            "environment": args.env,
            "policy": env.licenses,
            "summary": {
                "packages": judged.len(),
                "allowed": count(Verdict::Allowed),
                "denied": count(Verdict::Denied),
                "unknown": count(Verdict::Unknown),
                "not_judged": count(Verdict::NotJudged),
            },
            "by_license": groups.iter().map(|(k, v)| (k.clone(), v.iter().map(|p| &p.purl).collect::<Vec<_>>())).collect::<BTreeMap<_, _>>(),
            "packages": judged,
        }))?,
        Format::Table => {
            let mut t = render::table(&["LICENSE", "VERDICT", "PACKAGES"]);
            let mut rows: Vec<_> = groups.iter().collect();
            // Denied first, then unknown, then the rest; larger groups first.
            rows.sort_by_key(|(k, v)| {
                let worst = v
                    .iter()
                    .map(|p| match p.verdict {
                        Verdict::Denied => 0,
                        Verdict::Unknown => 1,
                        Verdict::Allowed => 2,
                        Verdict::NotJudged => 3,
                    })
                    .min()
                    .unwrap_or(3);
                (worst, std::cmp::Reverse(v.len()), (*k).clone())
            });
            for (license, packages) in rows {
                let mut verdicts: Vec<&str> = packages.iter().map(|p| p.verdict.as_str()).collect();
                verdicts.sort_unstable();
                verdicts.dedup();
                let names: Vec<String> = packages
                    .iter()
                    .map(|p| format!("{} {}", p.name, p.version))
                    .collect();
                let shown = if names.len() > 6 {
                    format!("{} … ({} packages)", names[..6].join(", "), names.len())
                } else {
                    names.join(", ")
                };
                t.add_row(render::row([license.clone(), verdicts.join(","), shown]));
            }
            render::text(&format!(
                "{}\n\n{} packages: {} allowed, {} denied, {} unknown, {} distribution packages not judged ({} policy; licenses.include_os_packages to judge them)",
                t.trim_fmt(),
                judged.len(),
                count(Verdict::Allowed),
                count(Verdict::Denied),
                count(Verdict::Unknown),
                count(Verdict::NotJudged),
                args.env
            ))?;
        }
    }
    Ok(if args.fail_on_denied && count(Verdict::Denied) > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}
