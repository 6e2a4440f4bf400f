//! TLS on the gRPC listener (rustls with the ring provider): a certificate and key from
//! PEM files, and optionally a client CA, which turns on client-certificate
//! verification. Client certificates stay optional for ordinary users; the telephony
//! role must present one (enforced in [`crate::limits`]). Startup applies the settings
//! to the listener ([`crate::startup::serve`]).

use crate::config::Config;
use anyhow::Context;
use tonic::transport::{Certificate, Identity, ServerTlsConfig};

/// The listener's TLS settings and whether client certificates are verified, or
/// `(None, false)` when no certificate is configured.
pub fn server_tls(config: &Config) -> anyhow::Result<(Option<ServerTlsConfig>, bool)> {
    let (cert_file, key_file) = match (&config.tls.cert_file, &config.tls.key_file) {
        (None, None) => {
            anyhow::ensure!(
                config.tls.client_ca_file.is_none(),
                "[tls] client_ca_file needs cert_file and key_file"
            );
            return Ok((None, false));
        }
        (Some(c), Some(k)) => (c, k),
        _ => anyhow::bail!("[tls] cert_file and key_file must be set together"),
    };
    let cert = std::fs::read(cert_file).with_context(|| format!("reading {}", cert_file.display()))?;
    let key = std::fs::read(key_file).with_context(|| format!("reading {}", key_file.display()))?;
    anyhow::ensure!(
        String::from_utf8_lossy(&cert).contains("-----BEGIN CERTIFICATE-----"),
        "{} holds no PEM certificate",
        cert_file.display()
    );
    anyhow::ensure!(
        String::from_utf8_lossy(&key).contains("PRIVATE KEY-----"),
        "{} holds no PEM private key",
        key_file.display()
    );
    // A client that stops in the handshake is dropped within the handshake timeout.
    let handshake = std::time::Duration::from_secs(u64::from(config.listen.handshake_timeout_secs.max(1)));
    let mut tls = ServerTlsConfig::new().identity(Identity::from_pem(cert, key)).timeout(handshake);
    let mutual = verifies_client_certificates(config);
    if let Some(ca_file) = &config.tls.client_ca_file {
        let ca = std::fs::read(ca_file).with_context(|| format!("reading {}", ca_file.display()))?;
        anyhow::ensure!(
            String::from_utf8_lossy(&ca).contains("-----BEGIN CERTIFICATE-----"),
            "{} holds no PEM certificate",
            ca_file.display()
        );
        tls = tls.client_ca_root(Certificate::from_pem(ca)).client_auth_optional(true);
    }
    Ok((Some(tls), mutual))
}

/// Client certificates are verified when a client CA is configured (which
/// [`server_tls`] accepts only beside a certificate and key).
pub fn verifies_client_certificates(config: &Config) -> bool {
    config.tls.client_ca_file.is_some()
}
