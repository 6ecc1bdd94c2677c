//! TLS (rustls) for a server reachable off loopback: the certificate chain and
//! key read from PEM files, HTTP/2 (gRPC) and HTTP/1.1 offered by ALPN, and the
//! accept loop that serves the router over it with the plain path's graceful
//! shutdown (no new connection once asked to stop; requests in flight finish).

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto::Builder;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio_rustls::TlsAcceptor;

/// A handshake not finished by then is dropped: a client that opens connections
/// and stays silent holds no task for long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// The TLS side of a server: its certificate and key.
#[derive(Clone)]
pub struct Tls(TlsAcceptor);

impl Tls {
    /// Reads the certificate chain (`cert`, PEM, the server's first) and its
    /// private key (`key`, PEM: PKCS#8, PKCS#1 or SEC1). Errors name the file.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Tls, String> {
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
            .and_then(|certs| certs.collect())
            .map_err(|e| format!("{}: not a PEM certificate chain: {e}", cert.display()))?;
        if certs.is_empty() {
            return Err(format!("{}: no certificate in it", cert.display()));
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| format!("{}: not a PEM private key: {e}", key.display()))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .and_then(|b| b.with_no_client_auth().with_single_cert(certs, key))
            .map_err(|e| format!("{}: {e}", cert.display()))?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Tls(TlsAcceptor::from(Arc::new(config))))
    }
}

/// Serves `app` over TLS on `listener` until `shutdown` resolves.
pub async fn serve(listener: tokio::net::TcpListener, app: axum::Router, tls: Tls, shutdown: impl Future<Output = ()>) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, say: the next accept may succeed.
                Err(e) => { log::warn!("accept: {e}"); continue }
            },
            () = &mut shutdown => break,
        };
        let (acceptor, app, builder, watcher) = (tls.0.clone(), app.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                Ok(Ok(stream)) => stream,
                Ok(Err(e)) => return log::debug!("{peer}: TLS handshake: {e}"),
                Err(_) => return log::debug!("{peer}: TLS handshake not finished in {HANDSHAKE_TIMEOUT:?}"),
            };
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(app));
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                log::debug!("{peer}: {e}");
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}
