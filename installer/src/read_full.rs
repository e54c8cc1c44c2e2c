//! Reading until a buffer is full: decoders and sockets hand out short
//! reads, and both the unpacker and the chunk hasher need whole blocks.

use std::io::{self, Read};

/// Reads until `buf` is full or the stream ends; how much was read.
pub fn fill(content: &mut dyn Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match content.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}
