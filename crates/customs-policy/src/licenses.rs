//! Licence policy: every package's licences read as SPDX expressions and
//! judged against the environment's deny or allow list. Expressions are
//! evaluated, not string-matched: `MIT OR GPL-3.0-only` is allowed when MIT
//! is, `MIT AND GPL-3.0-only` is not.

use customs_sbom::Sbom;
use serde::{Deserialize, Serialize};

use crate::config::LicensePolicy;

/// What the policy says of one package's licences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    /// Every licence expression is satisfied by allowed licences.
    Allowed,
    /// An expression can only be satisfied by a denied (or, in allow-list
    /// mode, unlisted) licence.
    Denied,
    /// No licence, or one that is not an SPDX expression.
    Unknown,
    /// A distribution package, and the policy leaves those alone.
    NotJudged,
}

impl Verdict {
    /// The kebab-case name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Unknown => "unknown",
            Self::NotJudged => "not-judged",
        }
    }
}

/// One package's licences and the verdict on them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PackageLicenses {
    /// Package name.
    pub name: String,
    /// Package version.
    pub version: String,
    /// Package type (`deb`, `npm`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// Package URL.
    pub purl: String,
    /// Each declared licence: its canonical SPDX expression, or the
    /// declared text where it is not one.
    pub licenses: Vec<String>,
    /// Whether every declared licence is an SPDX expression.
    pub spdx: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// The licences that made it denied (or why it is unknown).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

/// The SPDX id a requirement names, with `+` and the deprecated GNU ids
/// spelled as the current `-only` / `-or-later` ids, so that a list saying
/// `GPL-3.0-only` catches `GPL-3.0` and `GPL-3.0+` catches `GPL-3.0-or-later`.
fn normal_id(name: &str, or_later: bool) -> String {
    const GNU: [&str; 9] = [
        "GPL-1.0", "GPL-2.0", "GPL-3.0", "LGPL-2.0", "LGPL-2.1", "LGPL-3.0", "AGPL-1.0",
        "AGPL-3.0", "GFDL-1.3",
    ];
    let base = name
        .strip_suffix("-only")
        .or_else(|| name.strip_suffix("-or-later"))
        .unwrap_or(name);
    let later = or_later || name.ends_with("-or-later") || name.ends_with('+');
    let base = base.trim_end_matches('+');
    if GNU.contains(&base) {
        format!("{base}{}", if later { "-or-later" } else { "-only" })
    } else if later {
        format!("{base}+")
    } else {
        base.to_owned()
    }
}

fn requirement_id(req: &spdx::LicenseReq) -> String {
    let id = match &req.license {
        spdx::LicenseItem::Spdx { id, or_later } => normal_id(id.name, *or_later),
        spdx::LicenseItem::Other(r) => r.to_string(),
    };
    match &req.addition {
        Some(addition) => format!("{id} WITH {addition}"),
        None => id,
    }
}

/// What [`judge_one`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Judged {
    /// Each declared licence, canonical SPDX where it is SPDX.
    pub licenses: Vec<String>,
    /// Whether all of them are SPDX expressions of listed licences.
    pub spdx: bool,
    /// The verdict.
    pub verdict: Verdict,
    /// The denied licences, or why the verdict is unknown.
    pub reasons: Vec<String>,
}

/// How bad a verdict is: denied over unknown over allowed.
fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Allowed | Verdict::NotJudged => 0,
        Verdict::Unknown => 1,
        Verdict::Denied => 2,
    }
}

/// Judges one package's declared licences (each a separate obligation:
/// all of them must be satisfiable by allowed licences).
#[must_use]
pub fn judge_one(policy: &LicensePolicy, os_package: bool, declared: &[String]) -> Judged {
    Lists::new(policy).judge(os_package, declared)
}

/// A licence policy's lists with their ids normalised, once for all the
/// packages judged.
struct Lists {
    denied: Vec<String>,
    allowed: Vec<String>,
    include_os_packages: bool,
}

impl Lists {
    fn new(policy: &LicensePolicy) -> Self {
        let normal = |ids: &[String]| ids.iter().map(|d| normal_id(d, false)).collect();
        Self {
            denied: normal(&policy.deny),
            allowed: normal(&policy.allow),
            include_os_packages: policy.include_os_packages,
        }
    }

    fn judge(&self, os_package: bool, declared: &[String]) -> Judged {
        let Self {
            denied,
            allowed,
            include_os_packages,
        } = self;
        let mut out = Judged {
            licenses: Vec::new(),
            spdx: !declared.is_empty(),
            verdict: Verdict::Allowed,
            reasons: Vec::new(),
        };
        let mut unknown = Vec::new();
        let worsen = |out: &mut Judged, v: Verdict| {
            if rank(v) > rank(out.verdict) {
                out.verdict = v;
            }
        };
        for text in declared {
            let Some(expression) = customs_sbom::format::spdx_expression(text)
                .and_then(|e| spdx::Expression::parse(&e).ok())
            else {
                out.licenses.push(text.clone());
                out.spdx = false;
                unknown.push(format!("not an SPDX expression: {text}"));
                worsen(&mut out, Verdict::Unknown);
                continue;
            };
            out.licenses.push(expression.to_string());
            let listed = |req: &spdx::LicenseReq| {
                let id = requirement_id(req);
                let bare = id.split(" WITH ").next().unwrap_or(&id).to_owned();
                if allowed.is_empty() {
                    // A LicenseRef is on nobody's deny list: it is unknown below.
                    !denied.contains(&bare)
                } else {
                    allowed.contains(&bare) || allowed.contains(&id)
                }
            };
            if let Err(failures) = expression.evaluate_with_failures(listed) {
                worsen(&mut out, Verdict::Denied);
                for f in failures {
                    let id = requirement_id(&f.req);
                    if !out.reasons.contains(&id) {
                        out.reasons.push(id);
                    }
                }
            } else if expression
                .requirements()
                .any(|r| matches!(r.req.license, spdx::LicenseItem::Other(_)))
            {
                out.spdx = false;
                unknown.push(format!("not on the SPDX licence list: {expression}"));
                worsen(&mut out, Verdict::Unknown);
            }
        }
        if declared.is_empty() {
            unknown.push("no licence declared".to_owned());
            out.verdict = Verdict::Unknown;
        }
        if out.verdict == Verdict::Unknown {
            out.reasons = unknown;
        }
        if os_package && !include_os_packages {
            out.verdict = Verdict::NotJudged;
            out.reasons.clear();
        }
        out
    }
}

/// Judges every package of an SBOM, in SBOM order.
#[must_use]
pub fn judge(policy: &LicensePolicy, sbom: &Sbom) -> Vec<PackageLicenses> {
    let lists = Lists::new(policy);
    sbom.packages
        .iter()
        .map(|p| {
            let Judged {
                licenses,
                spdx,
                verdict,
                reasons,
            } = lists.judge(p.kind.is_os(), &p.licenses);
            PackageLicenses {
                name: p.name.clone(),
                version: p.version.clone(),
                kind: p.kind.to_string(),
                purl: p.purl.clone(),
                licenses,
                spdx,
                verdict,
                reasons,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(policy: &LicensePolicy, declared: &[&str]) -> (Verdict, Vec<String>) {
        let declared: Vec<String> = declared.iter().map(|s| (*s).to_owned()).collect();
        let j = judge_one(policy, false, &declared);
        (j.verdict, j.reasons)
    }

    #[test]
    fn expressions_are_evaluated() {
        let p = LicensePolicy::default();
        assert_eq!(verdict(&p, &["MIT"]).0, Verdict::Allowed);
        assert_eq!(verdict(&p, &["MIT OR GPL-3.0-only"]).0, Verdict::Allowed);
        assert_eq!(
            verdict(&p, &["MIT AND GPL-3.0-only"]),
            (Verdict::Denied, vec!["GPL-3.0-only".to_owned()])
        );
        assert_eq!(verdict(&p, &["GPL-3.0+"]).0, Verdict::Denied);
        assert_eq!(verdict(&p, &["AGPL-3.0"]).0, Verdict::Denied);
        assert_eq!(verdict(&p, &["GPL-2.0-or-later"]).0, Verdict::Allowed);
        assert_eq!(verdict(&p, &["MIT", "GPL-3.0-only"]).0, Verdict::Denied);
    }

    #[test]
    fn unknown_and_non_spdx_licences_are_unknown() {
        let p = LicensePolicy::default();
        assert_eq!(verdict(&p, &[]).0, Verdict::Unknown);
        let (v, reasons) = verdict(&p, &["Some Custom Licence v7"]);
        assert_eq!(v, Verdict::Unknown);
        assert!(reasons[0].contains("Some Custom Licence v7"));
        assert_eq!(verdict(&p, &["LicenseRef-acme"]).0, Verdict::Unknown);
    }

    #[test]
    fn allow_list_mode() {
        let p = LicensePolicy {
            allow: vec!["MIT".to_owned(), "Apache-2.0".to_owned()],
            ..LicensePolicy::default()
        };
        assert_eq!(
            verdict(&p, &["Apache-2.0 OR GPL-2.0-only"]).0,
            Verdict::Allowed
        );
        assert_eq!(
            verdict(&p, &["BSD-3-Clause"]),
            (Verdict::Denied, vec!["BSD-3-Clause".to_owned()])
        );
    }

    #[test]
    fn os_packages_are_left_alone_unless_asked() {
        let mut p = LicensePolicy::default();
        let gpl = vec!["GPL-3.0-or-later".to_owned()];
        assert_eq!(judge_one(&p, true, &gpl).verdict, Verdict::NotJudged);
        p.include_os_packages = true;
        assert_eq!(judge_one(&p, true, &gpl).verdict, Verdict::Denied);
    }
}
