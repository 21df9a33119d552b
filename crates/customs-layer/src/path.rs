//! Lexical path normalisation inside an image root.

/// Normalises a tar entry name to an absolute path: leading `./` and `/`
/// dropped, `.` removed, `..` resolved lexically. Returns the path and
/// whether a `..` tried to climb above the root (clamped there, as a chroot
/// would, and reported by the walker as hostile).
#[must_use]
pub fn normalize(name: &str) -> (String, bool) {
    let mut parts: Vec<&str> = Vec::new();
    let mut escaped = false;
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    escaped = true;
                }
            }
            p => parts.push(p),
        }
    }
    let mut out = String::with_capacity(name.len() + 1);
    for p in &parts {
        out.push('/');
        out.push_str(p);
    }
    if out.is_empty() {
        out.push('/');
    }
    (out, escaped)
}

/// The parent of an absolute normalised path (`/` for top-level entries).
pub(crate) fn parent(path: &str) -> &str {
    match path.rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// Joins a normalised directory and a link target, lexically.
pub(crate) fn join(dir: &str, target: &str) -> (String, bool) {
    if target.starts_with('/') {
        normalize(target)
    } else {
        normalize(&format!("{dir}/{target}"))
    }
}

/// Resolves the directory `dir` through symlinks in every component, as a
/// runtime's unpacker does before it creates an entry in it (containerd's
/// `fs.RootPath`, umoci's `SecureJoin`): links are followed inside the image
/// root, absolute targets start at the root, `..` stops at `/`, and a
/// missing component is an implicit directory. `link` says whether a path is
/// a symlink (and where it points). Returns `dir` itself, without
/// allocating a new path, when no ancestor is a link; `None` when links
/// loop or nest deeper than `max_hops`.
pub(crate) fn resolve_dir<'a, 't>(
    dir: &'a str,
    link: impl Fn(&str) -> Option<&'t str>,
    max_hops: usize,
) -> Option<std::borrow::Cow<'a, str>> {
    // Fast path: most entries have no symlinked ancestor (and no `.` or
    // `..` to resolve) at all.
    let linked = dir.split('/').any(|c| c == "." || c == "..")
        || dir
            .match_indices('/')
            .map(|(i, _)| i)
            .skip(1)
            .chain(std::iter::once(dir.len()))
            .any(|end| dir.len() > 1 && link(&dir[..end]).is_some());
    if !linked {
        return Some(std::borrow::Cow::Borrowed(dir));
    }
    let mut pending: Vec<String> = dir
        .split('/')
        .filter(|p| !p.is_empty())
        .rev()
        .map(str::to_owned)
        .collect();
    let mut current = String::from("/");
    let mut hops = 0;
    while let Some(part) = pending.pop() {
        let candidate = match part.as_str() {
            "." => continue,
            ".." => {
                current = parent(&current).to_owned();
                continue;
            }
            p if current == "/" => format!("/{p}"),
            p => format!("{current}/{p}"),
        };
        if let Some(target) = link(&candidate) {
            hops += 1;
            if hops > max_hops {
                return None;
            }
            let (joined, _) = join(parent(&candidate), target);
            current = "/".to_owned();
            pending.extend(
                joined
                    .split('/')
                    .filter(|p| !p.is_empty())
                    .rev()
                    .map(str::to_owned),
            );
        } else {
            current = candidate;
        }
    }
    Some(std::borrow::Cow::Owned(current))
}

/// Resolves the parent directories of `path` (not its last component, which
/// the entry replaces) as [`resolve_dir`] does.
pub(crate) fn resolve_parents<'a, 't>(
    path: &'a str,
    link: impl Fn(&str) -> Option<&'t str>,
    max_hops: usize,
) -> Option<std::borrow::Cow<'a, str>> {
    let dir = parent(path);
    if dir == "/" {
        return Some(std::borrow::Cow::Borrowed(path));
    }
    match resolve_dir(dir, link, max_hops)? {
        std::borrow::Cow::Borrowed(_) => Some(std::borrow::Cow::Borrowed(path)),
        std::borrow::Cow::Owned(resolved) => {
            let base = &path[dir.len() + 1..];
            Some(std::borrow::Cow::Owned(if resolved == "/" {
                format!("/{base}")
            } else {
                format!("{resolved}/{base}")
            }))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises() {
        assert_eq!(
            normalize("./etc/os-release"),
            ("/etc/os-release".into(), false)
        );
        assert_eq!(normalize("/usr//bin/./x"), ("/usr/bin/x".into(), false));
        assert_eq!(normalize("a/b/../c/"), ("/a/c".into(), false));
        assert_eq!(normalize("../../etc/passwd"), ("/etc/passwd".into(), true));
        assert_eq!(normalize("./"), ("/".into(), false));
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(join("/usr/lib", "../../../etc/x"), ("/etc/x".into(), true));
        assert_eq!(join("/usr/lib", "/bin/sh"), ("/bin/sh".into(), false));
    }

    #[test]
    fn resolves_parents_through_links_inside_the_root() {
        let links = [
            ("/x", "/var/lib/dpkg"),
            ("/rel", "../../usr/lib"),
            ("/usr/lib/up", ".."),
            ("/loop", "/loop"),
        ];
        let link = |p: &str| links.iter().find(|(l, _)| *l == p).map(|(_, t)| *t);
        let r = |p: &str| resolve_parents(p, link, 8).map(|c| c.into_owned());
        assert_eq!(r("/x/status").as_deref(), Some("/var/lib/dpkg/status"));
        // The last component is not followed: the entry replaces it.
        assert_eq!(r("/x").as_deref(), Some("/x"));
        // A relative target climbing above the root stops there.
        assert_eq!(r("/rel/a/b").as_deref(), Some("/usr/lib/a/b"));
        assert_eq!(r("/usr/lib/up/etc/f").as_deref(), Some("/usr/etc/f"));
        assert_eq!(r("/plain/dir/f").as_deref(), Some("/plain/dir/f"));
        assert_eq!(r("/loop/f"), None);
        assert!(matches!(
            resolve_parents("/a/b/c", link, 8),
            Some(std::borrow::Cow::Borrowed(_))
        ));
    }
}
