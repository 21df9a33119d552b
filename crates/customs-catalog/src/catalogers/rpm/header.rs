//! RPM header blobs as stored in an rpmdb: an index of (tag, type, offset,
//! count) entries and a data store, all big-endian
//! ([format](https://rpm-software-management.github.io/rpm/manual/format_header.html)).

use std::collections::HashMap;

use crate::cataloger::CatalogError;

/// Tags customs reads.
pub(crate) mod tag {
    pub(crate) const NAME: i32 = 1000;
    pub(crate) const VERSION: i32 = 1001;
    pub(crate) const RELEASE: i32 = 1002;
    pub(crate) const EPOCH: i32 = 1003;
    pub(crate) const LICENSE: i32 = 1014;
    pub(crate) const VENDOR: i32 = 1011;
    pub(crate) const ARCH: i32 = 1022;
    pub(crate) const SOURCERPM: i32 = 1044;
    pub(crate) const DIRINDEXES: i32 = 1116;
    pub(crate) const BASENAMES: i32 = 1117;
    pub(crate) const DIRNAMES: i32 = 1118;
    pub(crate) const MODULARITYLABEL: i32 = 5096;
}

/// A value of a header entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Entry {
    /// INT32 values.
    Ints(Vec<i64>),
    /// One or more strings.
    Strings(Vec<String>),
}

fn malformed(what: &str) -> CatalogError {
    CatalogError::Malformed(format!("rpm header: {what}"))
}

fn i32_at(data: &[u8], at: usize) -> Result<i32, CatalogError> {
    let bytes: [u8; 4] = data
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| malformed("truncated"))?;
    Ok(i32::from_be_bytes(bytes))
}

/// Parses a header blob into the entries customs reads.
///
/// # Errors
/// A header whose index or data store is inconsistent.
pub(crate) fn parse(blob: &[u8]) -> Result<HashMap<i32, Entry>, CatalogError> {
    let entries =
        usize::try_from(i32_at(blob, 0)?).map_err(|_| malformed("negative index length"))?;
    let data_len =
        usize::try_from(i32_at(blob, 4)?).map_err(|_| malformed("negative data length"))?;
    if entries > 100_000 || data_len > 256 << 20 {
        return Err(malformed("implausibly large"));
    }
    let store_start = 8 + entries * 16;
    let store = blob
        .get(store_start..store_start + data_len)
        .ok_or_else(|| malformed("data store past the end of the blob"))?;
    let mut out = HashMap::new();
    for i in 0..entries {
        let at = 8 + i * 16;
        let (tag, kind, offset, count) = (
            i32_at(blob, at)?,
            i32_at(blob, at + 4)?,
            i32_at(blob, at + 8)?,
            i32_at(blob, at + 12)?,
        );
        let wanted = [
            tag::NAME,
            tag::VERSION,
            tag::RELEASE,
            tag::EPOCH,
            tag::LICENSE,
            tag::VENDOR,
            tag::ARCH,
            tag::SOURCERPM,
            tag::DIRINDEXES,
            tag::BASENAMES,
            tag::DIRNAMES,
            tag::MODULARITYLABEL,
        ];
        if !wanted.contains(&tag) {
            continue;
        }
        let offset = usize::try_from(offset).map_err(|_| malformed("negative offset"))?;
        let count = usize::try_from(count).map_err(|_| malformed("negative count"))?;
        if offset > store.len() || count > 1_000_000 {
            return Err(malformed("entry outside the data store"));
        }
        let value = match kind {
            4 => {
                let bytes = store
                    .get(offset..offset + 4 * count)
                    .ok_or_else(|| malformed("INT32 array past the data store"))?;
                Entry::Ints(
                    bytes
                        .chunks_exact(4)
                        .map(|c| i64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                        .collect(),
                )
            }
            6 | 8 | 9 => {
                let mut strings = Vec::with_capacity(count.min(4096));
                let mut at = offset;
                for _ in 0..count.max(1) {
                    let rest = store
                        .get(at..)
                        .ok_or_else(|| malformed("string past the data store"))?;
                    let end = rest
                        .iter()
                        .position(|b| *b == 0)
                        .ok_or_else(|| malformed("unterminated string"))?;
                    strings.push(String::from_utf8_lossy(&rest[..end]).into_owned());
                    at += end + 1;
                    if kind == 6 {
                        break;
                    }
                }
                Entry::Strings(strings)
            }
            _ => continue,
        };
        out.insert(tag, value);
    }
    Ok(out)
}
