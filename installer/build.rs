//! Stores Mozilla's root certificates (webpki-root-certs) xz-compressed, for
//! net/tls.rs to unpack when a TLS connection is first needed: 127 KB of DER
//! become 92 KB in the size-budgeted installer (gzip: 95 KB), and the decoder
//! is the one tar.xz archives already use. Each certificate is its length
//! (2 bytes, big endian), then its DER.

use std::io::Write;

fn main() {
    let mut options = lzma_rust2::XzOptions::with_preset(9);
    // A dictionary no larger than the data: the decoder allocates what the
    // stream declares (preset 9 would make it 64 MiB).
    options.lzma_options.dict_size = 256 << 10;
    let mut xz = lzma_rust2::XzWriter::new(Vec::new(), options).unwrap();
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let der = der.as_ref();
        let len = u16::try_from(der.len()).expect("a root certificate is under 64 KiB");
        xz.write_all(&len.to_be_bytes()).unwrap();
        xz.write_all(der).unwrap();
    }
    let out =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("mozilla-roots.xz");
    std::fs::write(out, xz.finish().unwrap()).unwrap();
    println!("cargo::rerun-if-changed=build.rs");
}
