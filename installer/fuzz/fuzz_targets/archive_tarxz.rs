//! A xz archive as downloaded, through the installer's extractor: the
//! decompressor and the archive reader see the fuzzer's bytes as they are.
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::plan::Format;

fuzz_target!(|data: &[u8]| {
    postbin_fuzz::unpack_and_check(Format::TarXz, data);
});
