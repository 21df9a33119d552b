//! Layer decompression: gzip (every member, as Go's reader does) and zstd.

use std::io::{self, BufReader, Read};

/// A gzip decoder that reads concatenated members to the end.
pub fn gzip<R: Read>(reader: R) -> impl Read {
    flate2::read::MultiGzDecoder::new(BufReader::with_capacity(256 * 1024, reader))
}

/// A zstd decoder.
///
/// # Errors
/// When the decoder cannot be set up.
pub fn zstd<R: Read>(reader: R) -> io::Result<impl Read> {
    let mut decoder = zstd::stream::read::Decoder::new(reader)?;
    // Refuse frames that need a window over 128 MiB (a memory bomb): zstd's
    // own default decoder limit; `zstd --long=31` layers are vanishingly rare.
    decoder.window_log_max(27)?;
    Ok(decoder)
}
