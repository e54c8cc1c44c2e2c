//! Default caps on what one install may download and unpack, where the
//! settings (which let the user raise them) and the code that enforces them
//! both read them.

/// `POSTBIN_MAX_DOWNLOAD_SIZE` unless set: no release archive is this large,
/// and a source that keeps sending is stopped.
pub const DEFAULT_MAX_DOWNLOAD_SIZE: u64 = 2 << 30;

/// `POSTBIN_MAX_UNPACKED_SIZE` unless set: a decompression bomb stops here.
pub const DEFAULT_MAX_UNPACKED_SIZE: u64 = 4 << 30;
