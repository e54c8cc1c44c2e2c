//! HTTPS mode: a throwaway certificate authority and a leaf certificate for
//! `127.0.0.1` and `localhost`, made fresh at every start with rcgen, and the
//! rustls server configuration that presents the leaf. Tests trust the CA
//! (and only it), so they exercise real certificate verification without
//! any file on disk or system trust store involved.

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::ServerConfig;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

pub(crate) struct TlsMaterial {
    pub config: Arc<ServerConfig>,
    pub ca_pem: String,
}

fn tls_err(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("{what}: {e}"))
}

/// Generates the CA and leaf and builds the server configuration.
pub(crate) fn generate() -> io::Result<TlsMaterial> {
    let gen_err = |e: rcgen::Error| tls_err("generating the fixture certificates", e);

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "postbin fixture CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(gen_err)?)
        .map_err(gen_err)?;

    // "127.0.0.1" becomes an IP SAN and "localhost" a DNS SAN.
    let mut leaf_params = CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".into()])
        .map_err(gen_err)?;
    leaf_params
        .distinguished_name
        .push(DnType::CommonName, "postbin fixture server");
    leaf_params.is_ca = IsCa::NoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().map_err(gen_err)?;
    let leaf = leaf_params.signed_by(&leaf_key, &ca).map_err(gen_err)?;

    // The ring provider is passed explicitly: the process-wide default
    // provider may be unset (or another one) in the test binaries using us.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| tls_err("configuring TLS", e))?
        .with_no_client_auth()
        .with_single_cert(
            vec![leaf.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der())),
        )
        .map_err(|e| tls_err("configuring TLS", e))?;
    // We only speak HTTP/1.1; saying so stops clients from hoping for h2.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];

    Ok(TlsMaterial {
        config: Arc::new(config),
        ca_pem: ca.pem(),
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn generates_a_pem_ca() {
        let m = super::generate().unwrap();
        assert!(m.ca_pem.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(m.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    }
}
