//! Berkeley DB hash databases, read-only: the `Packages` file of RHEL 7/8
//! rpmdbs. Every hash page's data items are header blobs, stored inline
//! (`H_KEYDATA`) or in overflow page chains (`H_OFFPAGE`); the layout is
//! Berkeley DB's `db_page.h`. Both byte orders are accepted; every page
//! number, offset and length is bounds-checked and chains cannot loop.

use std::collections::HashSet;

/// Why a database could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("Berkeley DB: {0}")]
pub struct BdbError(String);

const HASH_MAGIC: u32 = 0x0006_1561;
const PAGE_HEADER: usize = 26;
const P_HASH_UNSORTED: u8 = 2;
const P_HASH: u8 = 13;
const H_KEYDATA: u8 = 1;
const H_OFFPAGE: u8 = 3;

struct Reader<'a> {
    data: &'a [u8],
    page_size: usize,
    big_endian: bool,
}

impl<'a> Reader<'a> {
    fn u32_at(&self, bytes: &[u8], at: usize) -> Result<u32, BdbError> {
        let b: [u8; 4] = bytes
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| BdbError("truncated".into()))?;
        Ok(if self.big_endian {
            u32::from_be_bytes(b)
        } else {
            u32::from_le_bytes(b)
        })
    }

    fn u16_at(&self, bytes: &[u8], at: usize) -> Result<u16, BdbError> {
        let b: [u8; 2] = bytes
            .get(at..at + 2)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| BdbError("truncated".into()))?;
        Ok(if self.big_endian {
            u16::from_be_bytes(b)
        } else {
            u16::from_le_bytes(b)
        })
    }

    fn page(&self, number: u32) -> Result<&'a [u8], BdbError> {
        let start = usize::try_from(number)
            .ok()
            .and_then(|n| n.checked_mul(self.page_size))
            .ok_or_else(|| BdbError("page offset overflow".into()))?;
        self.data
            .get(start..start + self.page_size)
            .ok_or_else(|| BdbError(format!("page {number} is past the end of the file")))
    }

    /// Follows an overflow chain of `length` bytes from `first`.
    fn overflow(&self, first: u32, length: usize) -> Result<Vec<u8>, BdbError> {
        if length > 256 << 20 {
            return Err(BdbError("an item is larger than 256 MiB".into()));
        }
        let mut out = Vec::with_capacity(length);
        let mut next = first;
        let mut seen = HashSet::new();
        while out.len() < length {
            if next == 0 || !seen.insert(next) {
                return Err(BdbError("broken overflow chain".into()));
            }
            let page = self.page(next)?;
            let on_page = usize::from(self.u16_at(page, 22)?);
            let chunk = page
                .get(PAGE_HEADER..PAGE_HEADER + on_page)
                .ok_or_else(|| BdbError("overflow page length past the page".into()))?;
            out.extend_from_slice(&chunk[..on_page.min(length - out.len())]);
            next = self.u32_at(page, 16)?;
        }
        Ok(out)
    }
}

/// Every data item (value) of a hash database.
///
/// # Errors
/// When the file is not a Berkeley DB hash database or a page is corrupt.
pub fn values(data: &[u8]) -> Result<Vec<Vec<u8>>, BdbError> {
    let magic = data
        .get(12..16)
        .ok_or_else(|| BdbError("too short".into()))?;
    let big_endian = match (
        u32::from_le_bytes(magic.try_into().unwrap_or_default()),
        u32::from_be_bytes(magic.try_into().unwrap_or_default()),
    ) {
        (HASH_MAGIC, _) => false,
        (_, HASH_MAGIC) => true,
        _ => return Err(BdbError("not a Berkeley DB hash database".into())),
    };
    let mut reader = Reader {
        data,
        page_size: 0,
        big_endian,
    };
    let page_size = usize::try_from(reader.u32_at(data, 20)?).unwrap_or(0);
    if !(512..=65_536).contains(&page_size) || !page_size.is_power_of_two() {
        return Err(BdbError("invalid page size".into()));
    }
    reader.page_size = page_size;
    let last = reader.u32_at(data, 32)?;
    if u64::from(last) * page_size as u64 >= data.len() as u64 + page_size as u64 {
        return Err(BdbError("the last page is past the end of the file".into()));
    }
    let mut out = Vec::new();
    for number in 1..=last {
        let page = reader.page(number)?;
        if !matches!(page[25], P_HASH | P_HASH_UNSORTED) {
            continue;
        }
        let entries = usize::from(reader.u16_at(page, 20)?);
        let offsets: Vec<usize> = (0..entries)
            .map(|i| reader.u16_at(page, PAGE_HEADER + 2 * i).map(usize::from))
            .collect::<Result<_, _>>()?;
        // Items alternate key, data; an item ends where the previous one starts.
        for i in (1..entries).step_by(2) {
            let start = offsets[i];
            let end = offsets[i - 1].max(start);
            let item = page
                .get(start..end.min(page_size))
                .ok_or_else(|| BdbError("item past the page".into()))?;
            match item.first() {
                Some(&H_KEYDATA) => out.push(item[1..].to_vec()),
                Some(&H_OFFPAGE) => {
                    let first = reader.u32_at(item, 4)?;
                    let length = usize::try_from(reader.u32_at(item, 8)?).unwrap_or(usize::MAX);
                    out.push(reader.overflow(first, length)?);
                }
                _ => {}
            }
        }
    }
    Ok(out)
}
