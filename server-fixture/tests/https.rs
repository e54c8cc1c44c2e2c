//! HTTPS mode, checked with a rustls client that trusts only the fixture CA.

mod common;

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Duration;

use common::*;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use server_fixture::{Fault, Fixture, Options};

fn client_config(ca_pem: Option<&str>) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    if let Some(pem) = ca_pem {
        roots
            .add(CertificateDer::from_pem_slice(pem.as_bytes()).unwrap())
            .unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// One GET over TLS to `url` (an absolute https URL), as server name `name`.
fn https_get(config: &Arc<ClientConfig>, name: &str, url: &str) -> io::Result<Response> {
    let tcp = TcpStream::connect(addr_of(url))?;
    tcp.set_read_timeout(Some(Duration::from_secs(10)))?;
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    let conn = ClientConnection::new(Arc::clone(config), server_name).unwrap();
    let mut tls = StreamOwned::new(conn, tcp);
    write!(tls, "GET {} HTTP/1.1\r\nHost: {name}\r\n\r\n", path_of(url))?;
    tls.flush()?;
    let (bytes, error) = read_all(&mut tls);
    if bytes.is_empty() {
        return Err(io::Error::new(
            error.unwrap_or(io::ErrorKind::UnexpectedEof),
            "no response",
        ));
    }
    Ok(parse_response(&bytes, error))
}

/// The release tree served over HTTPS; the tree (kept while serving) and
/// the fixture.
fn https_fixture() -> (tempfile::TempDir, Fixture) {
    let tree = release_tree();
    let fx = Fixture::start_with(Options {
        root: tree.path().to_path_buf(),
        https: true,
    })
    .unwrap();
    (tree, fx)
}

#[test]
fn https_release_download_with_the_fixture_ca() {
    let (tree, fx) = https_fixture();
    assert!(fx.base_url().starts_with("https://127.0.0.1:"));
    assert!(fx.objects_url().starts_with("https://127.0.0.1:"));
    let pem = fx.ca_pem().unwrap();
    let config = client_config(Some(&pem));

    let r = https_get(&config, "127.0.0.1", &format!("{}{ASSET}", fx.base_url())).unwrap();
    assert_eq!(r.status, 302);
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with(&fx.objects_url()));

    let r = https_get(&config, "127.0.0.1", &location).unwrap();
    assert_eq!((r.status, r.error), (200, None), "clean TLS close");
    assert_eq!(r.body, asset_bytes());

    // The leaf also names localhost.
    let r = https_get(
        &config,
        "localhost",
        &format!("{}/checksums.txt", fx.base_url()),
    )
    .unwrap();
    assert_eq!(r.body, CHECKSUMS);

    // Faults work the same over TLS.
    fx.set_fault(ASSET, Fault::Truncate { after_bytes: 100 }, Some(1));
    let r = https_get(&config, "127.0.0.1", &location).unwrap();
    assert_eq!((r.content_length(), r.body.len()), (ASSET_LEN, 100));

    // The CA can be written out for other processes.
    let ca_file = tree.path().join("ca.pem");
    fx.write_ca_pem(&ca_file).unwrap();
    assert_eq!(std::fs::read_to_string(ca_file).unwrap(), pem);
}

#[test]
fn https_is_refused_by_a_client_without_the_ca() {
    let (_tree, fx) = https_fixture();
    let untrusting = client_config(None);
    let err = https_get(
        &untrusting,
        "127.0.0.1",
        &format!("{}/checksums.txt", fx.base_url()),
    )
    .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
    assert!(err.to_string().contains("UnknownIssuer"), "{err}");
    // Nothing was answered, so nothing was logged.
    assert!(fx.requests().is_empty());
}

#[test]
fn plain_http_has_no_ca() {
    let (tree, fx) = serving();
    assert!(fx.ca_pem().is_none());
    assert!(fx.write_ca_pem(tree.path().join("ca.pem")).is_err());
}
