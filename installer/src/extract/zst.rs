//! zstd decoding by C libzstd (zstd-sys, decoder only): about 3x faster
//! than the pure-Rust ruzstd it replaced, which left a tar.zst install 1.4x
//! slower than `sha256sum A && tar --zstd -xf A` (docs/benchmarks.md).
//!
//! A streaming `Read` over `ZSTD_decompressStream`. It decodes every frame
//! in the stream (skippable frames are skipped by libzstd), and fails with
//! libzstd's own message (`ZSTD_getErrorName`) as `InvalidData`, which the
//! tar reader maps to `Error::Corrupt`.

use std::ffi::{CStr, c_void};
use std::io::{self, BufRead, Read};
use std::ptr::NonNull;
use zstd_sys as z;

pub(super) struct Decoder<R> {
    source: R,
    ctx: NonNull<z::ZSTD_DCtx>,
    /// A frame is expected (none yet: an empty stream is no zstd stream)
    /// or started and not finished: the end of input is an error.
    in_frame: bool,
}

impl<R: BufRead> Decoder<R> {
    pub(super) fn new(source: R) -> Self {
        // SAFETY: no precondition; a null return is an allocation failure,
        // handled as every other allocation of the installer is (abort):
        // it is no property of the archive.
        let ctx = NonNull::new(unsafe { z::ZSTD_createDCtx() }).unwrap_or_else(|| {
            std::alloc::handle_alloc_error(std::alloc::Layout::new::<[u8; 1 << 16]>())
        });
        Self {
            source,
            ctx,
            in_frame: true,
        }
    }
}

impl<R: BufRead> Read for Decoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            let input = self.source.fill_buf()?;
            // At the end of input, a started frame may still have output
            // buffered in `ctx`: one more call flushes it.
            let end = input.is_empty();
            if end && !self.in_frame {
                return Ok(0);
            }
            let mut inb = z::ZSTD_inBuffer {
                src: input.as_ptr().cast::<c_void>(),
                size: input.len(),
                pos: 0,
            };
            let mut outb = z::ZSTD_outBuffer {
                dst: buf.as_mut_ptr().cast::<c_void>(),
                size: buf.len(),
                pos: 0,
            };
            // SAFETY: `ctx` is live; both buffers describe memory borrowed
            // for this call (input readable, output writable), and libzstd
            // keeps `pos <= size`. On no progress (impossible with input
            // and room left) libzstd errors after a few calls, so the loop ends.
            let ret = unsafe { z::ZSTD_decompressStream(self.ctx.as_ptr(), &mut outb, &mut inb) };
            self.source.consume(inb.pos);
            // SAFETY: plain functions of a return code; the name is a
            // static NUL-terminated string.
            if unsafe { z::ZSTD_isError(ret) } != 0 {
                let name = unsafe { CStr::from_ptr(z::ZSTD_getErrorName(ret)) };
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    name.to_string_lossy().into_owned(),
                ));
            }
            // 0: a frame just ended (the next input, if any, starts another).
            self.in_frame = ret != 0;
            if outb.pos > 0 {
                return Ok(outb.pos);
            }
            if end && self.in_frame {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the zstd stream ends inside a frame",
                ));
            }
        }
    }
}

impl<R> Drop for Decoder<R> {
    fn drop(&mut self) {
        // SAFETY: `ctx` came from ZSTD_createDCtx and is freed only here.
        unsafe { z::ZSTD_freeDCtx(self.ctx.as_ptr()) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compress(data: &[u8]) -> Vec<u8> {
        ruzstd::encoding::compress_to_vec(data, ruzstd::encoding::CompressionLevel::Fastest)
    }

    fn decode(stream: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        // A small buffer, so frames end and restart across reads.
        Decoder::new(io::BufReader::with_capacity(7, stream)).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn decodes_every_frame_of_a_stream() {
        let (a, b) = (vec![b'a'; 100_000], b"second frame".to_vec());
        let mut stream = compress(&a);
        stream.extend(compress(&b));
        assert_eq!(decode(&stream).unwrap(), [a, b].concat());
    }

    #[test]
    fn garbage_empty_and_truncated_streams_are_errors() {
        let e = decode(b"not zstd at all").unwrap_err();
        assert_eq!(
            (e.kind(), e.to_string()),
            (
                io::ErrorKind::InvalidData,
                "Unknown frame descriptor".into()
            )
        );
        assert_eq!(
            decode(b"").unwrap_err().kind(),
            io::ErrorKind::UnexpectedEof
        );
        let whole = compress(&vec![b'x'; 50_000]);
        let e = decode(&whole[..whole.len() - 3]).unwrap_err();
        assert_eq!(e.to_string(), "the zstd stream ends inside a frame");
    }
}
