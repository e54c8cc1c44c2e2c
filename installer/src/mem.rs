//! `memcpy` and `memmove` for the static x86_64 musl installer.
//!
//! The LZ decoders (lzma-rust2; ruzstd before libzstd replaced it) copy every
//! match and literal run with `copy_from_slice`/`copy_within`: millions of
//! short copies per 100 MiB. libzstd copies with its own wide loads and
//! calls `memcpy` only for long runs, which go through these too.
//! musl's x86_64 `memcpy` starts each one with byte loops and `rep movsq`,
//! and was a quarter of the time of a tar.xz or tar.zst install (perf);
//! glibc copies short blocks with a few overlapping loads and stores, which
//! is why the glibc release build decoded faster. These do the same: up to
//! 64 bytes with at most four 16-byte loads then stores (every load before
//! any store, so overlap is harmless), longer with `rep movsb`. `memmove` is
//! replaced too, since musl's jumps into its own `memcpy` and would link it
//! beside this one.
//!
//! No loop here copies element by element: the compiler must not recognise
//! one as a copy and turn it into a call to `memcpy` itself.

use core::arch::asm;
use core::arch::x86_64::{__m128i, _mm_loadu_si128, _mm_storeu_si128};

/// Copies `n <= 64` bytes; correct for overlapping ranges.
#[inline(always)]
unsafe fn copy_small(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY (all below): the caller guarantees `n` readable bytes at `s` and
    // writable at `d`; every offset used is below `n`.
    unsafe {
        let load = |at: usize| _mm_loadu_si128(s.add(at).cast::<__m128i>());
        let store = |at: usize, v| _mm_storeu_si128(d.add(at).cast::<__m128i>(), v);
        if n >= 16 {
            if n <= 32 {
                let (a, b) = (load(0), load(n - 16));
                store(0, a);
                store(n - 16, b);
            } else {
                let (a, b, c, e) = (load(0), load(16), load(n - 32), load(n - 16));
                store(0, a);
                store(16, b);
                store(n - 32, c);
                store(n - 16, e);
            }
        } else if n >= 8 {
            let a = s.cast::<u64>().read_unaligned();
            let b = s.add(n - 8).cast::<u64>().read_unaligned();
            d.cast::<u64>().write_unaligned(a);
            d.add(n - 8).cast::<u64>().write_unaligned(b);
        } else if n >= 4 {
            let a = s.cast::<u32>().read_unaligned();
            let b = s.add(n - 4).cast::<u32>().read_unaligned();
            d.cast::<u32>().write_unaligned(a);
            d.add(n - 4).cast::<u32>().write_unaligned(b);
        } else if n > 0 {
            let (a, b, c) = (*s, *s.add(n / 2), *s.add(n - 1));
            *d = a;
            *d.add(n / 2) = b;
            *d.add(n - 1) = c;
        }
    }
}

/// Copies `n` bytes front to back: correct unless `d` overlaps `s` from
/// above (`s < d < s + n`).
#[inline(always)]
unsafe fn copy_forward(d: *mut u8, s: *const u8, n: usize) {
    // SAFETY: as `memcpy`; the direction flag is clear (ABI).
    unsafe {
        if n <= 64 {
            copy_small(d, s, n);
        } else {
            asm!(
                "rep movsb",
                inout("rcx") n => _,
                inout("rdi") d => _,
                inout("rsi") s => _,
                options(nostack, preserves_flags)
            );
        }
    }
}

/// # Safety
/// As C's `memcpy`: `n` bytes readable at `s`, writable at `d`, no overlap.
pub unsafe fn copy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's.
    unsafe { copy_forward(d, s, n) };
    d
}

/// # Safety
/// As C's `memmove`: `n` bytes readable at `s`, writable at `d`.
pub unsafe fn copy_overlapping(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's; a backward copy sets the direction flag and
    // clears it again before returning.
    unsafe {
        if n <= 64 || (d as usize).wrapping_sub(s as usize) >= n {
            // Short, or `d` is not inside (s, s + n): front to back is right.
            copy_forward(d, s, n);
        } else {
            asm!(
                "std",
                "rep movsb",
                "cld",
                inout("rcx") n => _,
                inout("rdi") d.add(n - 1) => _,
                inout("rsi") s.add(n - 1) => _,
                options(nostack)
            );
        }
    }
    d
}

#[cfg(all(target_env = "musl", not(test)))]
mod exported {
    /// # Safety
    /// As C's `memcpy`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memcpy(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller's.
        unsafe { super::copy(d, s, n) }
    }

    /// # Safety
    /// As C's `memmove`.
    #[unsafe(no_mangle)]
    pub unsafe extern "C" fn memmove(d: *mut u8, s: *const u8, n: usize) -> *mut u8 {
        // SAFETY: the caller's.
        unsafe { super::copy_overlapping(d, s, n) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pattern(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 7 + i / 251) as u8).collect()
    }

    #[test]
    fn copies_every_length_and_alignment() {
        let src = pattern(600);
        for n in 0..300 {
            for off in 0..17 {
                let mut dst = vec![0xAAu8; 640];
                // SAFETY: both ranges are in bounds and distinct buffers.
                unsafe { copy(dst.as_mut_ptr().add(off), src.as_ptr().add(off / 2), n) };
                assert_eq!(
                    &dst[off..off + n],
                    &src[off / 2..off / 2 + n],
                    "n={n} off={off}"
                );
                assert!(dst[..off].iter().all(|&b| b == 0xAA), "n={n} off={off}");
                assert!(dst[off + n..].iter().all(|&b| b == 0xAA), "n={n} off={off}");
            }
        }
    }

    #[test]
    fn moves_overlapping_both_ways() {
        for n in [0, 1, 3, 7, 8, 15, 16, 31, 32, 33, 63, 64, 65, 100, 257] {
            for shift in [1usize, 2, 7, 16, 31, 64, 65, 200] {
                for up in [false, true] {
                    let mut buf = pattern(n + 300);
                    let mut want = buf.clone();
                    let (from, to) = if up {
                        (10, 10 + shift)
                    } else {
                        (10 + shift, 10)
                    };
                    want.copy_within(from..from + n, to);
                    let p = buf.as_mut_ptr();
                    // SAFETY: both ranges lie inside `buf`.
                    unsafe { copy_overlapping(p.add(to), p.add(from), n) };
                    assert_eq!(buf, want, "n={n} shift={shift} up={up}");
                }
            }
        }
    }
}
