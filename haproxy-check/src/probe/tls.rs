//! TLS for check connections (`check-ssl`, `check-sni`, `verify none|required`), on rustls + ring.

use std::fmt;
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

use crate::CheckError;

/// How checks speak TLS to a server.
#[derive(Clone)]
pub struct TlsCheck {
    pub(crate) config: Arc<ClientConfig>,
    pub(crate) sni: Option<ServerName<'static>>,
}

impl fmt::Debug for TlsCheck {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsCheck")
            .field("sni", &self.sni)
            .finish_non_exhaustive()
    }
}

/// `verify none`: any certificate is accepted, but handshake signatures are still checked.
#[derive(Debug)]
struct NoVerify(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for NoVerify {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

fn sni_name(sni: Option<&str>) -> Result<Option<ServerName<'static>>, CheckError> {
    sni.map(|s| {
        ServerName::try_from(s.to_owned())
            .map_err(|_| CheckError::InvalidRule(format!("invalid check-sni '{s}'")))
    })
    .transpose()
}

impl TlsCheck {
    /// `check-ssl verify none [check-sni <name>]`.
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] when `sni` is not a valid DNS name, or the TLS setup fails.
    pub fn verify_none(sni: Option<&str>) -> Result<Self, CheckError> {
        let provider: CryptoProvider = rustls::crypto::ring::default_provider();
        let algs = provider.signature_verification_algorithms;
        let config = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_safe_default_protocol_versions()
            .map_err(|e| CheckError::InvalidRule(format!("tls setup: {e}")))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(NoVerify(algs)))
            .with_no_client_auth();
        Ok(Self {
            config: Arc::new(config),
            sni: sni_name(sni)?,
        })
    }

    /// `check-ssl verify required`: the caller's rustls configuration (roots, client certificate).
    ///
    /// # Errors
    /// [`CheckError::InvalidRule`] when `sni` is not a valid DNS name.
    pub fn with_config(config: Arc<ClientConfig>, sni: Option<&str>) -> Result<Self, CheckError> {
        Ok(Self {
            config,
            sni: sni_name(sni)?,
        })
    }
}
