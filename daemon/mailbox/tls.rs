//! Transport for IMAP: TCP, then TLS (implicit or after STARTTLS) with the
//! system trust roots plus an optional extra CA file. Plain text exists
//! only for loopback, which config validation enforces.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls;

use super::pinned::{Fingerprint, PinnedVerifier};
use crate::config::{FileRef, Problem};

#[derive(Debug)]
pub enum ImapStream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl AsyncRead for ImapStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for ImapStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_flush(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            ImapStream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            ImapStream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TlsSetupError {
    /// `imap.ca_file` cannot be read or holds no certificate; the problem
    /// names the config line.
    #[error("{0}")]
    CaFile(Problem),
    #[error("no trust roots: the system store is empty and no ca_file is set; install ca-certificates or set ca_file")]
    NoRoots,
    #[error("{host:?} is not a valid TLS server name")]
    ServerName { host: String },
    #[error("cannot set up certificate checks: {0}")]
    Verifier(String),
}

/// A TLS client configuration: system roots, plus `ca_file` when given;
/// a server certificate that is one of `ca_file`'s, or has the
/// `fingerprint`, is accepted as pinned (see [`super::pinned`]).
pub fn client_config(ca_file: Option<&FileRef>, fingerprint: Option<Fingerprint>) -> Result<Arc<rustls::ClientConfig>, TlsSetupError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        // A broken system certificate must not stop us; the others count.
        let _ = roots.add(cert);
    }
    let mut pins: Vec<Fingerprint> = fingerprint.into_iter().collect();
    if let Some(file) = ca_file {
        for cert in file.certificates().map_err(TlsSetupError::CaFile)? {
            pins.push(super::pinned::fingerprint(cert.as_ref()));
            // A self-signed server certificate may not be a usable root;
            // it still counts as pinned.
            let _ = roots.add(cert);
        }
    }
    if roots.is_empty() {
        return Err(TlsSetupError::NoRoots);
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions");
    let config = if pins.is_empty() {
        builder.with_root_certificates(roots).with_no_client_auth()
    } else {
        let webpki = rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
            .build()
            .map_err(|e| TlsSetupError::Verifier(e.to_string()))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedVerifier::new(pins, webpki, provider)))
            .with_no_client_auth()
    };
    Ok(Arc::new(config))
}

pub async fn wrap(
    config: Arc<rustls::ClientConfig>,
    host: &str,
    tcp: TcpStream,
) -> Result<ImapStream, io::Error> {
    let name = rustls::pki_types::ServerName::try_from(host.to_string()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            TlsSetupError::ServerName { host: host.into() },
        )
    })?;
    let tls = TlsConnector::from(config).connect(name, tcp).await?;
    Ok(ImapStream::Tls(Box::new(tls)))
}
