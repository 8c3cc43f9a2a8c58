//! The TLS configuration: rustls with ring and the webpki roots compiled
//! into the binary, plus the certificates of `SSL_CERT_FILE` when set (a
//! company proxy's root, a private index's CA).

use std::sync::Arc;

use super::NetError;

/// A fresh rustls client configuration. `extra_roots` reads
/// `SSL_CERT_FILE`: only the client for `https://` needs it, and parsing a
/// whole system bundle is most of a plain-HTTP run's start-up.
pub(super) fn config(extra_roots: bool) -> Result<rustls::ClientConfig, NetError> {
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = std::env::var_os("SSL_CERT_FILE").filter(|p| extra_roots && !p.is_empty()) {
        add_pem_file(&mut roots, std::path::Path::new(&path))?;
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| NetError::setup_msg(format!("cannot set up TLS: {e}")))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

pub(super) fn add_pem_file(
    roots: &mut rustls::RootCertStore,
    path: &std::path::Path,
) -> Result<(), NetError> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let bad = |why: String| {
        NetError::setup_msg(format!(
            "SSL_CERT_FILE={}: {why}; point it at a PEM file of CA certificates or unset it",
            path.display()
        ))
    };
    let certs = CertificateDer::pem_file_iter(path).map_err(|e| bad(e.to_string()))?;
    let mut added = 0;
    for cert in certs {
        let cert = cert.map_err(|e| bad(e.to_string()))?;
        roots
            .add(cert)
            .map_err(|e| bad(format!("a certificate cannot be used ({e})")))?;
        added += 1;
    }
    if added == 0 {
        return Err(bad("no PEM certificate in it".into()));
    }
    Ok(())
}
