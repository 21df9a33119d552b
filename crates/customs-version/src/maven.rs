//! Maven's `ComparableVersion` ordering (Maven 3.9, including MNG-5568,
//! MNG-6572, MNG-6964 and MNG-7644), ported item for item: the version is
//! split on `.`, `-` and digit/letter transitions into integers, strings,
//! "combinations" (`alpha2`, `sp1`: a qualifier and its number) and
//! sub-lists (opened by `-`, by a digit→letter transition, and by a trailing
//! `.qualifier`, which counts as `-qualifier`); null items (`0`, `""`,
//! `final`, `ga`, `release`) are trimmed; qualifiers order `alpha < beta <
//! milestone < rc = cr < snapshot < "" < sp < others (lexically)`; `a`, `b`,
//! `m` directly followed by a digit mean alpha, beta, milestone.

use std::cmp::Ordering;

use crate::{ParseVersionError, VersionScheme};

/// The Maven scheme.
pub struct Maven;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    /// A number, leading zeros stripped (compared by length, then digits:
    /// any size works, as Maven's `BigIntegerItem`).
    Int(String),
    /// A qualifier, aliases resolved.
    Str(String),
    /// A qualifier with a number (`alpha2`).
    Combination(String, Box<Item>),
    /// A sub-list.
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: &str = "5";

fn comparable(qualifier: &str) -> String {
    match QUALIFIERS.iter().position(|q| *q == qualifier) {
        Some(i) => i.to_string(),
        None => format!("{}-{qualifier}", QUALIFIERS.len()),
    }
}

fn string_item(text: &str, followed_by_digit: bool) -> Item {
    let text = match (text, followed_by_digit) {
        ("a", true) => "alpha",
        ("b", true) => "beta",
        ("m", true) => "milestone",
        ("ga" | "final" | "release", _) => "",
        ("cr", _) => "rc",
        (other, _) => other,
    };
    Item::Str(text.to_owned())
}

fn int_item(digits: &str) -> Item {
    let stripped = digits.trim_start_matches('0');
    Item::Int(if stripped.is_empty() {
        "0".to_owned()
    } else {
        stripped.to_owned()
    })
}

fn combination(text: &str) -> Item {
    let text = text.replace('-', "");
    let split = text
        .find(|c: char| c.is_ascii_digit())
        .unwrap_or(text.len());
    let (word, digits) = text.split_at(split);
    Item::Combination(
        match string_item(word, true) {
            Item::Str(s) => s,
            _ => String::new(),
        },
        Box::new(int_item(digits)),
    )
}

fn parse_item(is_combination: bool, is_digit: bool, text: &str) -> Item {
    if is_combination {
        combination(text)
    } else if is_digit {
        int_item(text)
    } else {
        string_item(text, false)
    }
}

fn cmp_int(a: &str, b: &str) -> Ordering {
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Self::Int(v) => v == "0",
            Self::Str(s) => s.is_empty(),
            Self::Combination(..) => false,
            Self::List(l) => l.is_empty(),
        }
    }

    /// `self.compareTo(other)`, with `None` for Maven's `null`.
    fn compare(&self, other: Option<&Self>) -> Ordering {
        match self {
            Self::Int(a) => match other {
                None => {
                    if a == "0" {
                        Ordering::Equal
                    } else {
                        Ordering::Greater
                    }
                }
                Some(Self::Int(b)) => cmp_int(a, b),
                Some(_) => Ordering::Greater,
            },
            Self::Str(a) => match other {
                None => comparable(a).as_str().cmp(RELEASE),
                Some(Self::Int(_) | Self::List(_)) => Ordering::Less,
                Some(Self::Str(b)) => comparable(a).cmp(&comparable(b)),
                Some(Self::Combination(b, _)) => match self.compare(Some(&Self::Str(b.clone()))) {
                    Ordering::Equal => Ordering::Less,
                    o => o,
                },
            },
            Self::Combination(word, digits) => match other {
                None => Self::Str(word.clone()).compare(None),
                Some(Self::Int(_) | Self::List(_)) => Ordering::Less,
                Some(Self::Str(_)) => match Self::Str(word.clone()).compare(other) {
                    Ordering::Equal => Ordering::Greater,
                    o => o,
                },
                Some(Self::Combination(other_word, other_digits)) => {
                    match Self::Str(word.clone()).compare(Some(&Self::Str(other_word.clone()))) {
                        Ordering::Equal => digits.compare(Some(other_digits)),
                        o => o,
                    }
                }
            },
            Self::List(items) => match other {
                None => items
                    .iter()
                    .map(|i| i.compare(None))
                    .find(|o| *o != Ordering::Equal)
                    .unwrap_or(Ordering::Equal),
                Some(Self::Int(_)) => Ordering::Less,
                Some(Self::Str(_) | Self::Combination(..)) => Ordering::Greater,
                Some(Self::List(theirs)) => {
                    for i in 0..items.len().max(theirs.len()) {
                        let order = match (items.get(i), theirs.get(i)) {
                            (Some(l), r) => l.compare(r),
                            (None, Some(r)) => r.compare(None).reverse(),
                            (None, None) => Ordering::Equal,
                        };
                        if order != Ordering::Equal {
                            return order;
                        }
                    }
                    Ordering::Equal
                }
            },
        }
    }
}

/// Maven's `ListItem.normalize`: drops null items from the end, and null
/// items that a qualifier (or a sub-list starting with one) follows.
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            let remove = match list.get(i + 1) {
                None | Some(Item::Str(_)) => true,
                Some(Item::List(next)) => {
                    matches!(next.first(), Some(Item::Combination(..) | Item::Str(_)))
                }
                Some(_) => false,
            };
            if remove {
                list.remove(i);
            }
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// A parsed Maven version. Equality is the ordering's (`1` = `1.0` = `1ga`).
#[derive(Debug, Clone)]
pub struct MavenVersion(Vec<Item>);

impl PartialEq for MavenVersion {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for MavenVersion {}

/// Maven's `parseVersion`, with lists as a stack of vectors (the last is
/// the one being filled; each is attached to its parent when closed).
fn parse_items(version: &str) -> Vec<Item> {
    let version = version.to_ascii_lowercase();
    let bytes = version.as_bytes();
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut is_digit = false;
    let mut is_combination = false;
    let mut start = 0;
    let open = |stack: &mut Vec<Vec<Item>>| stack.push(Vec::new());
    let add = |stack: &mut Vec<Vec<Item>>, item: Item| {
        if let Some(top) = stack.last_mut() {
            top.push(item);
        }
    };
    let top_is_empty = |stack: &Vec<Vec<Item>>| stack.last().is_none_or(Vec::is_empty);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b'.' => {
                if i == start {
                    add(&mut stack, Item::Int("0".to_owned()));
                } else {
                    add(
                        &mut stack,
                        parse_item(is_combination, is_digit, &version[start..i]),
                    );
                }
                is_combination = false;
                start = i + 1;
            }
            b'-' => {
                if i == start {
                    add(&mut stack, Item::Int("0".to_owned()));
                } else {
                    // `X-1`: a qualifier and its number stay one item.
                    if !is_digit && bytes.get(i + 1).is_some_and(u8::is_ascii_digit) {
                        is_combination = true;
                        i += 1;
                        continue;
                    }
                    add(
                        &mut stack,
                        parse_item(is_combination, is_digit, &version[start..i]),
                    );
                }
                start = i + 1;
                if !top_is_empty(&stack) {
                    open(&mut stack);
                }
                is_combination = false;
            }
            d if d.is_ascii_digit() => {
                if !is_digit && i > start {
                    // `X1`
                    is_combination = true;
                    if !top_is_empty(&stack) {
                        open(&mut stack);
                    }
                }
                is_digit = true;
            }
            _ => {
                if is_digit && i > start {
                    add(
                        &mut stack,
                        parse_item(is_combination, true, &version[start..i]),
                    );
                    start = i;
                    open(&mut stack);
                    is_combination = false;
                }
                is_digit = false;
            }
        }
        i += 1;
    }
    if version.len() > start {
        // `1.0.0.X1 < 1.0.0-X2`: a trailing `.X` counts as `-X`.
        if !is_digit && !top_is_empty(&stack) {
            open(&mut stack);
        }
        add(
            &mut stack,
            parse_item(is_combination, is_digit, &version[start..]),
        );
    }
    while stack.len() > 1 {
        let mut inner = stack.pop().unwrap_or_default();
        normalize(&mut inner);
        add(&mut stack, Item::List(inner));
    }
    let mut root = stack.pop().unwrap_or_default();
    normalize(&mut root);
    root
}

impl VersionScheme for Maven {
    type Version = MavenVersion;

    fn parse(version: &str) -> Result<MavenVersion, ParseVersionError> {
        let v = version.trim();
        if v.is_empty() || v.len() > 256 || v.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(ParseVersionError::new("Maven", version));
        }
        Ok(MavenVersion(parse_items(v)))
    }
}

impl Ord for MavenVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        Item::List(self.0.clone()).compare(Some(&Item::List(other.0.clone())))
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
