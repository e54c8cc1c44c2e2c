//! A plain tar stream, through the installer's extractor (as a tar.gz of
//! stored blocks, so every mutated byte reaches the tar reader as is).
#![no_main]
use libfuzzer_sys::fuzz_target;
use postbin::plan::Format;

fuzz_target!(|data: &[u8]| {
    postbin_fuzz::unpack_and_check(Format::TarGz, &postbin_fuzz::stored_gzip(data));
});
