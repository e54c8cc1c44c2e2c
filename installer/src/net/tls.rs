//! The TLS trust store: Mozilla's roots, plus the system bundle where one
//! exists (corporate CAs are often installed there), plus every CA the user
//! named (POSTBIN_CA_FILE, NODE_EXTRA_CA_CERTS, SSL_CERT_FILE, cafile, ca).
//! Extra CAs add to the roots; they never replace them.

use crate::settings::{Origin, Settings};
use std::fmt;
use std::path::PathBuf;
use ureq::tls::{Certificate, PemItem, RootCerts, TlsConfig};

#[derive(Debug)]
pub enum Error {
    CaFile {
        path: PathBuf,
        origin: Origin,
        source: std::io::Error,
    },
    NoCertificates {
        what: String,
        origin: Origin,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::CaFile { path, origin, .. } => write!(
                f,
                "cannot read the CA file {} (set by {origin}); fix or unset that setting",
                path.display()
            ),
            Error::NoCertificates { what, origin } => write!(
                f,
                "{what} (set by {origin}) holds no PEM certificate (expected -----BEGIN CERTIFICATE-----)"
            ),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::CaFile { source, .. } => Some(source),
            Error::NoCertificates { .. } => None,
        }
    }
}

/// Bundles that distributions keep their trusted roots in.
const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

pub fn config(settings: &Settings) -> Result<TlsConfig, Error> {
    if !settings.strict_ssl.value {
        crate::warn!(
            "TLS certificate verification is OFF (strict-ssl=false, from {}). \
             Anyone on the network path can impersonate the server; the pinned SHA-256 still guards the download.",
            settings.strict_ssl.origin
        );
        return Ok(TlsConfig::builder().disable_verification(true).build());
    }
    let mut roots = Roots::default();
    for der in mozilla_roots() {
        roots.add(Certificate::from_der(&der).to_owned());
    }
    if let Some(bundle) = SYSTEM_BUNDLES
        .iter()
        .find(|p| std::path::Path::new(p).is_file())
        && let Ok(pem) = std::fs::read(bundle)
    {
        roots.extend(parse_certs(&pem));
    }
    for file in &settings.ca_files {
        let pem = std::fs::read(&file.value).map_err(|source| Error::CaFile {
            path: file.value.clone(),
            origin: file.origin.clone(),
            source,
        })?;
        let certs = parse_certs(&pem);
        if certs.is_empty() {
            return Err(Error::NoCertificates {
                what: format!("the CA file {}", file.value.display()),
                origin: file.origin.clone(),
            });
        }
        crate::debug!(
            "trusting {} extra CA certificate(s) from {}",
            certs.len(),
            file.value.display()
        );
        roots.extend(certs);
    }
    if let Some(inline) = &settings.ca_inline {
        let certs = parse_certs(inline.value.as_bytes());
        if certs.is_empty() {
            return Err(Error::NoCertificates {
                what: "the `ca` setting".into(),
                origin: inline.origin.clone(),
            });
        }
        roots.extend(certs);
    }
    Ok(TlsConfig::builder()
        .root_certs(RootCerts::new_with_certs(&roots.certs))
        .build())
}

/// Mozilla's root certificates (webpki-root-certs), as build.rs stored them
/// xz-compressed: each a 2-byte big-endian length, then the DER.
static MOZILLA_ROOTS: &[u8] = include_bytes!(concat!(env!("OUT_DIR"), "/mozilla-roots.xz"));

fn mozilla_roots() -> Vec<Vec<u8>> {
    use std::io::Read;
    let mut source: &[u8] = MOZILLA_ROOTS;
    // The reader types `extract` unpacks tar.xz with: no second copy of the
    // decoder's code.
    let source: &mut dyn Read = &mut source;
    let mut bytes = Vec::new();
    lzma_rust2::XzReader::new(std::io::BufReader::with_capacity(256 * 1024, source), true)
        .read_to_end(&mut bytes)
        .expect("build.rs wrote a valid xz stream");
    let mut certs = Vec::new();
    let mut rest = bytes.as_slice();
    while let [a, b, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*a, *b]));
        certs.push(tail[..len].to_vec());
        rest = &tail[len..];
    }
    certs
}

/// The trust store, each certificate once: the system bundle mostly repeats
/// the built-in Mozilla roots (and NODE_EXTRA_CA_CERTS often names that same
/// bundle), and every root is parsed again when the TLS config is built.
#[derive(Default)]
struct Roots {
    certs: Vec<Certificate<'static>>,
    seen: std::collections::HashSet<crate::hash::Sha256Hash>,
}

impl Roots {
    fn add(&mut self, cert: Certificate<'static>) {
        if self.seen.insert(crate::hash::hash_bytes(cert.der())) {
            self.certs.push(cert);
        }
    }

    fn extend(&mut self, certs: Vec<Certificate<'static>>) {
        for cert in certs {
            self.add(cert);
        }
    }
}

fn parse_certs(pem: &[u8]) -> Vec<Certificate<'static>> {
    ureq::tls::parse_pem(pem)
        .filter_map(|item| match item {
            // A PEM block around bytes that are no certificate is dropped
            // here, so the caller reports "no certificate" (exit 3) instead
            // of every TLS handshake failing later with UnknownIssuer.
            Ok(PemItem::Certificate(c))
                if rustls::RootCertStore::empty()
                    .add(rustls::pki_types::CertificateDer::from(c.der()))
                    .is_ok() =>
            {
                Some(c)
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_stored_roots_are_mozillas() {
        let stored = super::mozilla_roots();
        let original: Vec<Vec<u8>> = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .map(|c| c.as_ref().to_vec())
            .collect();
        assert!(stored.len() > 100, "{}", stored.len());
        assert_eq!(stored, original);
    }
}
