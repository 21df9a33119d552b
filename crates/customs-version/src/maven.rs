//! Maven's `ComparableVersion` ordering, as documented for Maven 3: items
//! split on `.`, `-` and digit/letter transitions (`-` and transitions open
//! a sub-list); trailing "null" items (`0`, `""`, `final`, `ga`, `release`)
//! are dropped; qualifiers order `alpha < beta < milestone < rc = cr <
//! snapshot < "" = final = ga = release < sp < other (lexical)`; `a`, `b`,
//! `m` followed by a digit mean alpha, beta, milestone; a number sorts
//! after a qualifier and after a sub-list.

use std::cmp::Ordering;

use crate::{ParseVersionError, VersionScheme};

/// The Maven scheme.
pub struct Maven;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Int(u128),
    Str(String),
    List(Vec<Item>),
}

const QUALIFIERS: [&str; 7] = ["alpha", "beta", "milestone", "rc", "snapshot", "", "sp"];
const RELEASE: &str = "5";

fn comparable(qualifier: &str) -> String {
    match QUALIFIERS.iter().position(|q| *q == qualifier) {
        Some(i) => i.to_string(),
        None => format!("7-{qualifier}"),
    }
}

fn string_item(text: &str, followed_by_digit: bool) -> Item {
    let text = match (text, followed_by_digit) {
        ("a", true) => "alpha",
        ("b", true) => "beta",
        ("m", true) => "milestone",
        ("cr", _) => "rc",
        ("final" | "ga" | "release", _) => "",
        (other, _) => other,
    };
    Item::Str(text.to_owned())
}

impl Item {
    fn is_null(&self) -> bool {
        match self {
            Self::Int(v) => *v == 0,
            Self::Str(s) => comparable(s) == RELEASE,
            Self::List(l) => l.is_empty(),
        }
    }

    /// Compares with a missing item.
    fn cmp_null(&self) -> Ordering {
        match self {
            Self::Int(v) => v.cmp(&0),
            Self::Str(s) => comparable(s).as_str().cmp(RELEASE),
            Self::List(l) => l.first().map_or(Ordering::Equal, Item::cmp_null),
        }
    }

    fn compare(&self, other: &Self) -> Ordering {
        match (self, other) {
            (Self::Int(a), Self::Int(b)) => a.cmp(b),
            (Self::Int(_), _) | (Self::List(_), Self::Str(_)) => Ordering::Greater,
            (Self::Str(_), Self::Int(_) | Self::List(_)) | (Self::List(_), Self::Int(_)) => {
                Ordering::Less
            }
            (Self::Str(a), Self::Str(b)) => comparable(a).cmp(&comparable(b)),
            (Self::List(a), Self::List(b)) => {
                for i in 0..a.len().max(b.len()) {
                    let order = match (a.get(i), b.get(i)) {
                        (Some(x), Some(y)) => x.compare(y),
                        (Some(x), None) => x.cmp_null(),
                        (None, Some(y)) => y.cmp_null().reverse(),
                        (None, None) => Ordering::Equal,
                    };
                    if order != Ordering::Equal {
                        return order;
                    }
                }
                Ordering::Equal
            }
        }
    }
}

/// Drops null items from the end of a list, looking past non-null
/// sub-lists (Maven's `ListItem.normalize`).
fn normalize(list: &mut Vec<Item>) {
    let mut i = list.len();
    while i > 0 {
        i -= 1;
        if list[i].is_null() {
            list.remove(i);
        } else if !matches!(list[i], Item::List(_)) {
            break;
        }
    }
}

/// A parsed Maven version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MavenVersion(Vec<Item>);

fn parse_items(version: &str) -> Vec<Item> {
    let chars: Vec<char> = version.to_lowercase().chars().collect();
    // A stack of lists: the last is the one being filled.
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut token = String::new();
    let mut digits = false;
    let push_token =
        |stack: &mut Vec<Vec<Item>>, token: &mut String, digits: bool, followed_by_digit: bool| {
            let item = if token.is_empty() {
                Item::Int(0)
            } else if digits {
                Item::Int(token.parse().unwrap_or(u128::MAX))
            } else {
                string_item(token, followed_by_digit)
            };
            if let Some(top) = stack.last_mut() {
                top.push(item);
            }
            token.clear();
        };
    let open_sublist = |stack: &mut Vec<Vec<Item>>| stack.push(Vec::new());
    for &c in &chars {
        match c {
            '.' => {
                push_token(&mut stack, &mut token, digits, false);
            }
            '-' => {
                push_token(&mut stack, &mut token, digits, false);
                open_sublist(&mut stack);
            }
            d if d.is_ascii_digit() => {
                if !digits && !token.is_empty() {
                    push_token(&mut stack, &mut token, false, true);
                    open_sublist(&mut stack);
                }
                digits = true;
                token.push(d);
            }
            other => {
                if digits && !token.is_empty() {
                    push_token(&mut stack, &mut token, true, false);
                    open_sublist(&mut stack);
                }
                digits = false;
                token.push(other);
            }
        }
    }
    if !token.is_empty() {
        push_token(&mut stack, &mut token, digits, false);
    }
    // Close the sub-lists innermost first, normalising each.
    while stack.len() > 1 {
        let mut inner = stack.pop().unwrap_or_default();
        normalize(&mut inner);
        if let Some(top) = stack.last_mut() {
            top.push(Item::List(inner));
        }
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
        Item::List(self.0.clone()).compare(&Item::List(other.0.clone()))
    }
}

impl PartialOrd for MavenVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
