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

/// Writes `bytes` to `file` atomically, or to stdout.
pub(crate) fn emit(bytes: &[u8], file: Option<&Path>) -> anyhow::Result<()> {
    match file {
        Some(path) => write_atomically(path, bytes),
        None => {
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(bytes)?;
            stdout.flush()?;
            Ok(())
        }
    }
}

/// Writes a file whole or not at all.
fn write_atomically(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(bytes)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.persist(path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}
