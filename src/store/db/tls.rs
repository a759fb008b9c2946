//! The TLS client of the PostgreSQL backend: a rustls configuration (crypto from `ring`) whose
//! certificate check follows libpq's `sslmode`: none (disable/allow/prefer/require without root
//! certificates: the connection is encrypted, the server not authenticated), the chain only
//! (verify-ca, and the weaker modes when a root certificate file is there), or the chain and the
//! host name (verify-full).

use std::path::Path;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};

use super::dsn::{RootCerts, Tls};

/// The rustls configuration for `tls`. Errors (an unreadable or empty root certificate file, no
/// system certificates) are one line.
pub fn client_config(tls: &Tls) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS: {e}"))?;
    let chain = match &tls.roots {
        Some(roots) => {
            let store = Arc::new(root_store(roots)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(store, provider.clone())
                .build()
                .map_err(|e| format!("TLS: {e}"))?;
            if tls.checks_host_name() {
                return Ok(builder.with_webpki_verifier(webpki).with_no_client_auth());
            }
            Some(webpki)
        }
        None => None,
    };
    Ok(builder
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Lenient { chain, provider }))
        .with_no_client_auth())
}

fn root_store(roots: &RootCerts) -> Result<RootCertStore, String> {
    let (certs, source) = match roots {
        RootCerts::File(path) => (pem_certificates(path)?, path.display().to_string()),
        RootCerts::System => {
            let found = rustls_native_certs::load_native_certs();
            if found.certs.is_empty() {
                let why = found.errors.first().map(|e| format!(": {e}"));
                return Err(format!(
                    "no system root certificates found{}; name a file with sslrootcert=",
                    why.unwrap_or_default()
                ));
            }
            (found.certs, "the system's root certificates".to_string())
        }
    };
    let mut store = RootCertStore::empty();
    let (added, _ignored) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("{source}: no usable root certificate"));
    }
    Ok(store)
}

/// The certificates of a PEM file (other PEM sections, such as keys, are skipped).
fn pem_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let shown = path.display();
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("root certificate file {shown}: {e}"))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("root certificate file {shown}: {e}"))?;
    if certs.is_empty() {
        return Err(format!(
            "root certificate file {shown}: no PEM certificate in it"
        ));
    }
    Ok(certs)
}

/// The checks weaker than verify-full: with no root certificates (libpq's `require` without a
/// file) any certificate is accepted; with them (verify-ca) the chain must lead to one, the host
/// name is not checked (webpki checks the chain before the name, so a name mismatch means the
/// chain was good). The handshake's signatures are checked either way: the connection is
/// encrypted to whoever holds the certificate's key.
#[derive(Debug)]
struct Lenient {
    chain: Option<Arc<WebPkiServerVerifier>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Lenient {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls12_signature(message, cert, dss, algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algorithms = &self.provider.signature_verification_algorithms;
        verify_tls13_signature(message, cert, dss, algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::store::db::dsn::SslMode;

    #[test]
    fn a_root_file_without_a_certificate_is_one_line_naming_it() {
        let d = tempfile::tempdir().unwrap();
        let empty = d.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let key_only = d.path().join("key.pem");
        std::fs::write(
            &key_only,
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
        )
        .unwrap();
        let garbled = d.path().join("garbled.pem");
        std::fs::write(
            &garbled,
            "-----BEGIN CERTIFICATE-----\n!!!not base64!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        for f in [&empty, &key_only, &garbled, &d.path().join("missing.pem")] {
            let tls = Tls {
                mode: SslMode::VerifyFull,
                roots: Some(RootCerts::File(f.clone())),
            };
            let err = client_config(&tls).err().unwrap();
            assert!(err.contains(&f.display().to_string()), "{err}");
            assert_eq!(err.lines().count(), 1, "{err}");
        }
    }

    #[test]
    fn without_root_certificates_any_certificate_is_accepted_but_signatures_still_checked() {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let v = Lenient {
            chain: None,
            provider,
        };
        let junk = CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x01]);
        let name = ServerName::try_from("db.example").unwrap();
        assert!(v
            .verify_server_cert(&junk, &[], &name, &[], UnixTime::now())
            .is_ok());
        // The handshake's signatures are checked with the provider's algorithms.
        assert!(v
            .supported_verify_schemes()
            .contains(&SignatureScheme::ECDSA_NISTP256_SHA256));
        let tls = Tls {
            mode: SslMode::Require,
            roots: None,
        };
        assert!(client_config(&tls).is_ok());
    }
}
