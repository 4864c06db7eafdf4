//! Pinned server certificates. A server with a self-signed certificate
//! made by `openssl req -x509` carries CA:TRUE; webpki rightly refuses such
//! a certificate as a server's own (CaUsedAsEndEntity), yet it is what many
//! small mail servers have. When the operator names the certificate itself
//! (`imap.ca_file`) or its SHA-256 fingerprint (`imap.tls_fingerprint`),
//! a server presenting exactly that certificate is accepted, as mbsync and
//! mail clients do; anything else goes through the usual webpki checks.
//! The pin is used for the IMAP server only.

use std::sync::Arc;

use sha2::Digest;
use tokio_rustls::rustls;
use tokio_rustls::rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use tokio_rustls::rustls::client::WebPkiServerVerifier;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{DigitallySignedStruct, SignatureScheme};

/// A certificate's SHA-256 over its DER bytes, as `openssl x509 -noout
/// -fingerprint -sha256` prints it.
pub type Fingerprint = [u8; 32];

pub fn fingerprint(cert: &[u8]) -> Fingerprint {
    sha2::Sha256::digest(cert).into()
}

/// `sha256:AB:CD:...` or `sha256:abcd...` (64 hex digits, colons allowed).
pub fn parse_fingerprint(s: &str) -> Result<Fingerprint, String> {
    let hex_part = s
        .strip_prefix("sha256:")
        .or_else(|| s.strip_prefix("SHA256:"))
        .ok_or_else(|| "must start with \"sha256:\"".to_string())?;
    let digits: String = hex_part.chars().filter(|c| *c != ':').collect();
    let bytes = hex::decode(&digits).map_err(|_| "holds a character that is not a hex digit".to_string())?;
    bytes
        .try_into()
        .map_err(|_| "must be 32 bytes (64 hex digits), the SHA-256 of the certificate".to_string())
}

#[derive(Debug)]
pub struct PinnedVerifier {
    /// Fingerprints of the certificates in ca_file and of tls_fingerprint.
    pins: Vec<Fingerprint>,
    webpki: Arc<WebPkiServerVerifier>,
    provider: Arc<CryptoProvider>,
}

impl PinnedVerifier {
    pub fn new(pins: Vec<Fingerprint>, webpki: Arc<WebPkiServerVerifier>, provider: Arc<CryptoProvider>) -> PinnedVerifier {
        PinnedVerifier { pins, webpki, provider }
    }
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        // The operator named this very certificate: it is the server's
        // identity, whatever its extensions or names say.
        if self.pins.contains(&fingerprint(end_entity.as_ref())) {
            return Ok(ServerCertVerified::assertion());
        }
        self.webpki.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_parse_as_openssl_prints_them() {
        let colons = format!("sha256:{}", ["AB"; 32].join(":"));
        assert_eq!(parse_fingerprint(&colons).unwrap(), [0xab; 32]);
        assert_eq!(parse_fingerprint(&format!("sha256:{}", "01".repeat(32))).unwrap(), [1; 32]);
        assert!(parse_fingerprint(&"ab".repeat(32)).unwrap_err().contains("sha256:"));
        assert!(parse_fingerprint("sha256:abcd").unwrap_err().contains("64 hex digits"));
        assert!(parse_fingerprint(&format!("sha256:{}", "zz".repeat(32))).unwrap_err().contains("hex digit"));
    }
}
