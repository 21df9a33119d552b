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
}
