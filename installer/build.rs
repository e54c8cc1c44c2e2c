//! Stores Mozilla's root certificates (webpki-root-certs) gzipped, for
//! net/tls.rs to inflate when a TLS connection is first needed: 127 KB of
//! DER become 95 KB in the size-budgeted installer, and the inflater is the
//! one archives already use. Each certificate is its length (2 bytes, big
//! endian), then its DER.

use std::io::Write;

fn main() {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    for der in webpki_root_certs::TLS_SERVER_ROOT_CERTS {
        let der = der.as_ref();
        let len = u16::try_from(der.len()).expect("a root certificate is under 64 KiB");
        gz.write_all(&len.to_be_bytes()).unwrap();
        gz.write_all(der).unwrap();
    }
    let out =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap()).join("mozilla-roots.gz");
    std::fs::write(out, gz.finish().unwrap()).unwrap();
    println!("cargo::rerun-if-changed=build.rs");
}
