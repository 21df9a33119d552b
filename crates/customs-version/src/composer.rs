//! Composer (Packagist) versions: Composer normalises a version (`v` prefix
//! dropped, up to four numeric parts, `-beta2`, `-RC1`, `-p1`) and compares
//! with PHP's `version_compare`, whose rules this module follows: parts
//! split at `.`, `-`, `_`, `+` and at every digit/non-digit change; numbers
//! compare numerically; words by their rank `dev` < `alpha`/`a` <
//! `beta`/`b` < `RC`/`rc` < number < `pl`/`p` (other words below `dev`),
//! after padding the release to four numbers as Composer does;
//! where one version runs out, a further number makes the longer one
//! greater and a further word compares against a number (`1.0rc1 < 1.0 <
//! 1.0pl1`).

use std::cmp::Ordering;

use crate::{ParseVersionError, VersionScheme};

/// The Composer scheme.
pub struct Composer;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Number(u128),
    Word(String),
}

/// A parsed Composer version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposerVersion(Vec<Part>);

/// The rank of a word, as PHP's `compare_special_version_forms` (prefix
/// match on the form; unknown words rank below `dev`).
fn rank(word: &str) -> i8 {
    const FORMS: [(&str, i8); 10] = [
        ("dev", 0),
        ("alpha", 1),
        ("a", 1),
        ("beta", 2),
        ("b", 2),
        ("RC", 3),
        ("rc", 3),
        ("#", 4),
        ("pl", 5),
        ("p", 5),
    ];
    FORMS
        .iter()
        .find(|(form, _)| word.starts_with(form))
        .map_or(-6, |(_, r)| *r)
}

fn part_rank(part: &Part) -> i8 {
    match part {
        Part::Number(_) => 4,
        Part::Word(w) => rank(w),
    }
}

impl Ord for ComposerVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        let (a, b) = (&self.0, &other.0);
        for (x, y) in a.iter().zip(b) {
            let o = match (x, y) {
                (Part::Number(m), Part::Number(n)) => m.cmp(n),
                _ => part_rank(x).cmp(&part_rank(y)),
            };
            if o != Ordering::Equal {
                return o;
            }
        }
        let rest = |longer: &[Part], n: usize| match longer.get(n) {
            Some(Part::Number(_)) => Ordering::Greater,
            Some(Part::Word(w)) => rank(w).cmp(&4),
            None => Ordering::Equal,
        };
        match a.len().cmp(&b.len()) {
            Ordering::Equal => Ordering::Equal,
            Ordering::Greater => rest(a, b.len()),
            Ordering::Less => rest(b, a.len()).reverse(),
        }
    }
}

impl PartialOrd for ComposerVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl VersionScheme for Composer {
    type Version = ComposerVersion;

    fn parse(version: &str) -> Result<ComposerVersion, ParseVersionError> {
        let err = || ParseVersionError::new("Composer", version);
        let v = version.trim();
        let v = v.strip_prefix(['v', 'V']).unwrap_or(v);
        if v.is_empty() || v.len() > 128 || !v.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(err());
        }
        let mut parts = Vec::new();
        let mut current = String::new();
        let flush =
            |current: &mut String, parts: &mut Vec<Part>| -> Result<(), ParseVersionError> {
                if current.is_empty() {
                    return Ok(());
                }
                let part = if current.bytes().all(|b| b.is_ascii_digit()) {
                    Part::Number(current.parse().map_err(|_| err())?)
                } else {
                    Part::Word(std::mem::take(current))
                };
                current.clear();
                parts.push(part);
                Ok(())
            };
        for c in v.chars() {
            if matches!(c, '.' | '-' | '_' | '+') {
                flush(&mut current, &mut parts)?;
            } else if c.is_ascii_alphanumeric() {
                if current
                    .chars()
                    .last()
                    .is_some_and(|l| l.is_ascii_digit() != c.is_ascii_digit())
                {
                    flush(&mut current, &mut parts)?;
                }
                current.push(c);
            } else {
                return Err(err());
            }
        }
        flush(&mut current, &mut parts)?;
        // Composer's VersionParser::normalize pads the release to four
        // numbers (`1.0` is `1.0.0.0`), so `2.0` and `2.0.0` are equal.
        let numbers = parts
            .iter()
            .take_while(|p| matches!(p, Part::Number(_)))
            .count();
        for _ in numbers..4 {
            parts.insert(numbers, Part::Number(0));
        }
        Ok(ComposerVersion(parts))
    }
}
