//! Free disk space, checked against `Content-Length` before a download
//! writes its first byte.

use std::path::Path;

/// Bytes free for this user on the disk holding `dir`; `None` when unknown
/// (the download then goes ahead, and a full disk is a write error).
/// `POSTBIN_TEST_FREE_SPACE` pretends, for tests.
pub fn free_space(dir: &Path) -> Option<u64> {
    if let Some(pretend) = crate::env_vars::get(crate::env_vars::POSTBIN_TEST_FREE_SPACE) {
        return crate::settings::parse_size(&pretend);
    }
    os_free_space(dir)
}

#[cfg(all(
    any(target_os = "linux", target_os = "macos"),
    target_pointer_width = "64",
    target_endian = "little"
))]
pub(super) fn os_free_space(dir: &Path) -> Option<u64> {
    use std::os::unix::ffi::OsStrExt;
    unsafe extern "C" {
        // `struct statvfs` is read as 64-bit words; the buffer is larger
        // than the struct on every target this is compiled for.
        fn statvfs(path: *const std::ffi::c_char, buf: *mut u64) -> std::ffi::c_int;
    }
    let path = std::ffi::CString::new(dir.as_os_str().as_bytes()).ok()?;
    let mut buf = [0u64; 64];
    // SAFETY: `path` is NUL-terminated; `buf` (512 bytes) outsizes `struct
    // statvfs` (112 bytes on Linux, 64 on macOS), which statvfs fills.
    if unsafe { statvfs(path.as_ptr(), buf.as_mut_ptr()) } != 0 {
        return None;
    }
    // Both: f_bsize, f_frsize (unsigned long) come first.
    let frsize = buf[1];
    // Linux: f_blocks, f_bfree, f_bavail are 64-bit; macOS: 32-bit each,
    // so f_bavail is the low half of the fourth word.
    let avail = if cfg!(target_os = "linux") {
        buf[4]
    } else {
        buf[3] & 0xffff_ffff
    };
    (frsize > 0).then(|| avail.saturating_mul(frsize))
}

#[cfg(windows)]
pub(super) fn os_free_space(dir: &Path) -> Option<u64> {
    use std::os::windows::ffi::OsStrExt;
    let wide: Vec<u16> = dir.as_os_str().encode_wide().chain(Some(0)).collect();
    let mut available = 0u64;
    // SAFETY: `wide` is NUL-terminated; the two totals may be null.
    let ok = unsafe {
        windows_sys::Win32::Storage::FileSystem::GetDiskFreeSpaceExW(
            wide.as_ptr(),
            &mut available,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    (ok != 0).then_some(available)
}

#[cfg(not(any(
    windows,
    all(
        any(target_os = "linux", target_os = "macos"),
        target_pointer_width = "64",
        target_endian = "little"
    )
)))]
pub(super) fn os_free_space(_dir: &Path) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_space_is_known_here() {
        let dir = std::env::temp_dir();
        if cfg!(any(target_os = "linux", windows)) {
            assert!(os_free_space(&dir).is_some_and(|n| n > 0));
        }
    }
}
