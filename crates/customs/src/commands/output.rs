//! `-o FORMAT[=FILE]` handling shared by the commands that can write several
//! formats from one run, and writing files whole or not at all.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use customs_cli::OutputArgs;

/// Parses `-o FORMAT[=FILE]` values and `--output FILE` (which names the
/// file of the one format without `=FILE`).
pub(crate) fn outputs<F>(
    args: &OutputArgs,
    parse: impl Fn(&str) -> anyhow::Result<F>,
) -> anyhow::Result<Vec<(F, Option<PathBuf>)>> {
    let output = args.output.as_ref();
    let mut out = Vec::new();
    for spec in &args.formats {
        let (name, file) = match spec.split_once('=') {
            Some((n, f)) if !f.is_empty() => (n, Some(PathBuf::from(f))),
            Some((n, _)) => anyhow::bail!("`-o {n}=` needs a file name after `=`"),
            None => (spec.as_str(), None),
        };
        out.push((parse(name)?, file));
    }
    let to_stdout = out.iter().filter(|(_, f)| f.is_none()).count();
    anyhow::ensure!(
        to_stdout <= 1,
        "only one format can go to standard output; give the others `=FILE`"
    );
    if let Some(file) = output {
        match out.iter_mut().find(|(_, f)| f.is_none()) {
            Some((_, f)) => *f = Some(file.clone()),
            None => anyhow::bail!("--output names a file, but every -o already has `=FILE`"),
        }
    }
    Ok(out)
}

/// Writes `bytes` to `file` (see [`write_file`]), or to stdout.
pub(crate) fn emit(bytes: &[u8], file: Option<&Path>) -> anyhow::Result<()> {
    match file {
        Some(path) => write_file(path, bytes, Mode::Public),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// Who may read a file customs creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// The usual mode under the user's umask (0644 with the default umask),
    /// as every other tool's output.
    Public,
    /// Only the owner (0600): files that hold secrets, such as keys;
    /// an existing file is made 0600 too.
    Private,
}

/// Writes a file the way a careful tool does:
/// - a new or existing regular file is replaced whole or not at all (a
///   temporary file beside it, renamed over it); an existing file keeps its
///   mode and owner, and one with several hard links is rewritten in place
///   so that every link still names it;
/// - a symlink is written through to its target, which is then treated as
///   above; the link itself stays. A dangling link, and a link someone else
///   planted in a sticky world-writable directory such as `/tmp` (the
///   kernel's `protected_symlinks` rule), are refused;
/// - a device, FIFO or `/dev/stdout` is written in place, never replaced.
pub(crate) fn write_file(path: &Path, bytes: &[u8], mode: Mode) -> anyhow::Result<()> {
    let name = path.display();
    let link = match fs_err::symlink_metadata(path) {
        Ok(meta) => Some(meta),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(e) => return Err(e).with_context(|| format!("cannot write {name}")),
    };
    let Some(link) = link else {
        return replace(path, bytes, None, mode).with_context(|| format!("cannot write {name}"));
    };
    let target = if link.file_type().is_symlink() {
        refuse_planted_link(path, &link)?;
        match fs_err::metadata(path) {
            Ok(meta) => meta,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => anyhow::bail!(
                "cannot write {name}: it is a symlink to a file that does not exist; customs does not create files through symlinks"
            ),
            Err(e) => return Err(e).with_context(|| format!("cannot write {name}")),
        }
    } else {
        link
    };
    let kind = target.file_type();
    anyhow::ensure!(!kind.is_dir(), "cannot write {name}: it is a directory");
    if !kind.is_file() || through_proc(path) {
        // A device, FIFO, socket or a /proc/self/fd link: write where it is,
        // appending, so that `-o json=/dev/stdout >> log` keeps what the
        // shell's redirection already holds.
        let mut file = fs_err::OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot write {name}"))?;
        file.write_all(bytes)
            .and_then(|()| file.flush())
            .with_context(|| format!("cannot write {name}"))?;
        return Ok(());
    }
    let real = fs_err::canonicalize(path).with_context(|| format!("cannot write {name}"))?;
    // Rewritten in place so every hard link still names it — except a
    // private file, which must end up 0600 whatever the old file was.
    if mode == Mode::Public && hard_links(&target) > 1 {
        let mut file = fs_err::OpenOptions::new()
            .write(true)
            .truncate(true)
            .open(&real)
            .with_context(|| format!("cannot write {name}"))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .with_context(|| format!("cannot write {name}"))?;
        return Ok(());
    }
    replace(&real, bytes, Some(&target), mode).with_context(|| format!("cannot write {name}"))
}

/// Writes a temporary file beside `path` and renames it over `path`.
fn replace(
    path: &Path,
    bytes: &[u8],
    existing: Option<&std::fs::Metadata>,
    mode: Mode,
) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".customs-").suffix(".tmp");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        // Created 0666 less the umask, like any `open(O_CREAT)`.
        if mode == Mode::Public && existing.is_none() {
            builder.permissions(std::fs::Permissions::from_mode(0o666));
        }
    }
    let mut file = builder.tempfile_in(dir)?;
    file.write_all(bytes)?;
    // A private file keeps the temporary file's 0600, whatever it replaces.
    if let (Mode::Public, Some(meta)) = (mode, existing) {
        file.as_file().set_permissions(meta.permissions())?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt as _;
            let now = file.as_file().metadata()?;
            if now.uid() != meta.uid() || now.gid() != meta.gid() {
                // Only root may give a file away; others keep their own.
                let _ =
                    std::os::unix::fs::fchown(file.as_file(), Some(meta.uid()), Some(meta.gid()));
            }
        }
    }
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(unix)]
fn hard_links(meta: &std::fs::Metadata) -> u64 {
    use std::os::unix::fs::MetadataExt as _;
    meta.nlink()
}

#[cfg(not(unix))]
fn hard_links(_: &std::fs::Metadata) -> u64 {
    1
}

/// `/dev/stdout` and friends lead into `/proc/self/fd`: the open file of
/// the shell's redirection (`> out.json`, `>> log`), which must be written,
/// never replaced, even when it is a regular file.
fn through_proc(path: &Path) -> bool {
    path.starts_with("/dev")
        || path.starts_with("/proc")
        || fs_err::canonicalize(path).map_or(true, |real| real.starts_with("/proc"))
}

/// Refuses to follow a symlink that another user planted in a sticky,
/// world-writable directory (`/tmp`): the attack the kernel's
/// `fs.protected_symlinks` stops, which root would otherwise fall for.
#[cfg(unix)]
fn refuse_planted_link(path: &Path, link: &std::fs::Metadata) -> anyhow::Result<()> {
    use std::os::unix::fs::MetadataExt as _;
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(dir_meta) = fs_err::metadata(dir) else {
        return Ok(());
    };
    let sticky_public = dir_meta.mode() & 0o1002 == 0o1002;
    // Our own uid, without unsafe code: the owner of /proc/self.
    let me = fs_err::metadata("/proc/self").map(|m| m.uid()).ok();
    let ours = Some(link.uid()) == me || link.uid() == dir_meta.uid();
    anyhow::ensure!(
        !sticky_public || ours,
        "cannot write {}: it is a symlink owned by another user in a shared directory; refusing to follow it",
        path.display()
    );
    Ok(())
}

#[cfg(not(unix))]
fn refuse_planted_link(_: &Path, _: &std::fs::Metadata) -> anyhow::Result<()> {
    Ok(())
}
