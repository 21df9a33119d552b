//! A minimal, read-only reader of one table of an
//! [SQLite database file](https://www.sqlite.org/fileformat2.html): enough to
//! read `Packages(hnum, blob)` from `rpmdb.sqlite` without a C library and
//! without writing the untrusted file anywhere. Every page number, offset and
//! length is bounds-checked; cycles and deep trees are refused.

use std::collections::HashSet;

/// Why a database could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("SQLite: {0}")]
pub struct SqliteError(String);

fn fail<T>(message: impl Into<String>) -> Result<T, SqliteError> {
    Err(SqliteError(message.into()))
}

struct Db<'a> {
    data: &'a [u8],
    page_size: usize,
    usable: usize,
}

fn varint(data: &[u8], at: &mut usize) -> Result<u64, SqliteError> {
    let mut value = 0u64;
    for i in 0..9 {
        let Some(&byte) = data.get(*at) else {
            return fail("truncated varint");
        };
        *at += 1;
        if i == 8 {
            return Ok((value << 8) | u64::from(byte));
        }
        value = (value << 7) | u64::from(byte & 0x7f);
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Ok(value)
}

fn be(data: &[u8], at: usize, n: usize) -> Result<u64, SqliteError> {
    let bytes = data
        .get(at..at + n)
        .ok_or_else(|| SqliteError("truncated integer".into()))?;
    Ok(bytes.iter().fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
}

/// A column value of a record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value<'a> {
    /// NULL (and rowid aliases).
    Null,
    /// An integer.
    Int(i64),
    /// Text or a blob.
    Bytes(&'a [u8]),
}

impl<'a> Db<'a> {
    fn open(data: &'a [u8]) -> Result<Self, SqliteError> {
        if !data.starts_with(b"SQLite format 3\0") || data.len() < 100 {
            return fail("not an SQLite 3 database");
        }
        let page_size = match be(data, 16, 2)? {
            1 => 65_536,
            n if (512..=32_768).contains(&n) && n.is_power_of_two() => {
                usize::try_from(n).unwrap_or(4096)
            }
            _ => return fail("invalid page size"),
        };
        let reserved = usize::from(data[20]);
        if reserved >= page_size - 480 {
            return fail("invalid reserved space");
        }
        Ok(Self {
            data,
            page_size,
            usable: page_size - reserved,
        })
    }

    fn page(&self, number: u64) -> Result<&'a [u8], SqliteError> {
        let index = usize::try_from(number)
            .ok()
            .filter(|n| *n >= 1)
            .ok_or_else(|| SqliteError(format!("invalid page number {number}")))?;
        let start = (index - 1)
            .checked_mul(self.page_size)
            .ok_or_else(|| SqliteError("page offset overflow".into()))?;
        self.data
            .get(start..start + self.page_size)
            .ok_or_else(|| SqliteError(format!("page {number} is past the end of the file")))
    }

    /// The payload of a leaf cell, following overflow pages.
    fn payload(&self, page: &'a [u8], at: usize, length: usize) -> Result<Vec<u8>, SqliteError> {
        let u = self.usable;
        let max_local = u - 35;
        let local = if length <= max_local {
            length
        } else {
            let min_local = (u - 12) * 32 / 255 - 23;
            let k = min_local + (length - min_local) % (u - 4);
            if k <= max_local { k } else { min_local }
        };
        let mut out = Vec::with_capacity(length.min(1 << 20));
        out.extend_from_slice(
            page.get(at..at + local)
                .ok_or_else(|| SqliteError("cell past the end of its page".into()))?,
        );
        let mut next = if local < length {
            be(page, at + local, 4)?
        } else {
            0
        };
        let mut seen = HashSet::new();
        while out.len() < length {
            if next == 0 || !seen.insert(next) {
                return fail("broken overflow chain");
            }
            let overflow = self.page(next)?;
            next = be(overflow, 0, 4)?;
            let take = (length - out.len()).min(u - 4);
            out.extend_from_slice(
                overflow
                    .get(4..4 + take)
                    .ok_or_else(|| SqliteError("short overflow page".into()))?,
            );
        }
        Ok(out)
    }

    /// Visits every row of the table b-tree rooted at `root`.
    fn rows(
        &self,
        root: u64,
        visit: &mut dyn FnMut(Vec<u8>) -> Result<(), SqliteError>,
    ) -> Result<(), SqliteError> {
        let mut seen = HashSet::new();
        let mut stack = vec![(root, 0usize)];
        while let Some((number, depth)) = stack.pop() {
            if depth > 32 || !seen.insert(number) || seen.len() > 1_000_000 {
                return fail("the b-tree loops or is too deep");
            }
            let page = self.page(number)?;
            let base = if number == 1 { 100 } else { 0 };
            let kind = *page
                .get(base)
                .ok_or_else(|| SqliteError("empty page".into()))?;
            let cells = usize::try_from(be(page, base + 3, 2)?).unwrap_or(0);
            let header = match kind {
                0x0d => 8,
                0x05 => 12,
                other => {
                    return fail(format!(
                        "page {number} is not a table b-tree page (type {other:#x})"
                    ));
                }
            };
            if kind == 0x05 {
                stack.push((be(page, base + 8, 4)?, depth + 1));
            }
            for i in 0..cells {
                let pointer =
                    usize::try_from(be(page, base + header + 2 * i, 2)?).unwrap_or(usize::MAX);
                let mut at = pointer;
                if kind == 0x05 {
                    stack.push((be(page, at, 4)?, depth + 1));
                } else {
                    let length = usize::try_from(varint(page, &mut at)?)
                        .map_err(|_| SqliteError("huge payload".into()))?;
                    if length > 256 << 20 {
                        return fail("a row is larger than 256 MiB");
                    }
                    let _rowid = varint(page, &mut at)?;
                    visit(self.payload(page, at, length)?)?;
                }
            }
        }
        Ok(())
    }
}

/// Decodes a record into its column values.
///
/// # Errors
/// When the record header or a value runs past the payload.
pub fn record(payload: &[u8]) -> Result<Vec<Value<'_>>, SqliteError> {
    let mut at = 0;
    let header_len = usize::try_from(varint(payload, &mut at)?)
        .map_err(|_| SqliteError("huge record header".into()))?;
    let mut types = Vec::new();
    while at < header_len.min(payload.len()) {
        types.push(varint(payload, &mut at)?);
    }
    let mut body = header_len;
    let mut values = Vec::with_capacity(types.len());
    for t in types {
        let size = match t {
            0 | 8 | 9 => 0,
            1..=4 => usize::try_from(t).unwrap_or(0),
            5 => 6,
            6 | 7 => 8,
            n if n >= 12 => {
                usize::try_from((n - 12) / 2).map_err(|_| SqliteError("huge value".into()))?
            }
            _ => return fail("reserved serial type"),
        };
        let bytes = payload
            .get(
                body..body
                    .checked_add(size)
                    .ok_or_else(|| SqliteError("value overflow".into()))?,
            )
            .ok_or_else(|| SqliteError("value past the end of its record".into()))?;
        body += size;
        values.push(match t {
            0 => Value::Null,
            8 => Value::Int(0),
            9 => Value::Int(1),
            1..=6 => {
                let raw = bytes.iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b));
                let shift = 64 - 8 * size as u32;
                Value::Int((raw << shift) >> shift)
            }
            _ => Value::Bytes(bytes),
        });
    }
    Ok(values)
}

/// Every row of `table` as column values.
///
/// # Errors
/// When the file is not SQLite, the table does not exist, or a page is corrupt.
pub fn table(data: &[u8], table: &str) -> Result<Vec<Vec<u8>>, SqliteError> {
    let db = Db::open(data)?;
    let mut root = None;
    db.rows(1, &mut |payload| {
        let values = record(&payload)?;
        if let [
            Value::Bytes(b"table"),
            Value::Bytes(name),
            _,
            Value::Int(page),
            ..,
        ] = values.as_slice()
            && *name == table.as_bytes()
        {
            root = u64::try_from(*page).ok();
        }
        Ok(())
    })?;
    let Some(root) = root else {
        return fail(format!("no table `{table}`"));
    };
    let mut rows = Vec::new();
    db.rows(root, &mut |payload| {
        rows.push(payload);
        Ok(())
    })?;
    Ok(rows)
}
