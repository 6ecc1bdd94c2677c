//! The accept loop, plain or over TLS, and TLS (rustls) for a server reachable
//! off loopback: the certificate chain and key read from PEM files, HTTP/2 (gRPC)
//! and HTTP/1.1 offered by ALPN. Shutdown is graceful: no new connection once
//! asked to stop, requests in flight finish.

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

/// Serves `app` on `listener` (over `tls` when given) until `shutdown` resolves;
/// `closed` runs once the listener is closed, before requests in flight finish.
/// Why its own loop rather than axum's: axum's loop may still accept a
/// connection after the shutdown future resolved (its select is not biased), so
/// "new ones are refused" was printed before it was true (the SIGTERM test saw a
/// request answered after it, under load).
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: axum::Router,
    tls: Option<Tls>,
    shutdown: impl Future<Output = ()>,
    closed: impl FnOnce(),
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    let builder = Builder::new(TokioExecutor::new());
    tokio::pin!(shutdown);
    loop {
        let (tcp, peer) = tokio::select! {
            biased;
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of descriptors, say: the next accept may succeed.
                Err(e) => { log::warn!("accept: {e}"); continue }
            },
        };
        let (tls, app, builder, watcher) = (tls.clone(), app.clone(), builder.clone(), graceful.watcher());
        tokio::spawn(async move {
            let service = TowerToHyperService::new(app);
            let served = match tls {
                None => watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(tcp), service).into_owned()).await,
                Some(tls) => {
                    let stream = match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.0.accept(tcp)).await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => return log::debug!("{peer}: TLS handshake: {e}"),
                        Err(_) => return log::debug!("{peer}: TLS handshake not finished in {HANDSHAKE_TIMEOUT:?}"),
                    };
                    watcher.watch(builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned()).await
                }
            };
            if let Err(e) = served {
                log::debug!("{peer}: {e}");
            }
        });
    }
    drop(listener);
    closed();
    graceful.shutdown().await;
    Ok(())
}
