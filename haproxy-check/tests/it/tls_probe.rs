//! `check-ssl` / `check-sni` against a loopback rustls server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use haproxy_check::CheckStatus;
use haproxy_check::probe::{CheckConn, CheckKind, CheckTimeouts, HttpCheck, TlsCheck};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::peer::{Step, peer, send};

fn server_config() -> Arc<rustls::ServerConfig> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/tls");
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(format!("{dir}/cert.pem"))
            .expect("cert")
            .collect::<Result<_, _>>()
            .expect("cert pem");
    let key = PrivateKeyDer::from_pem_file(format!("{dir}/key.pem")).expect("key");
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server cert");
    Arc::new(cfg)
}

/// A TLS server for one connection: replies `reply` after reading, reports the SNI it saw.
async fn tls_peer(reply: &'static [u8]) -> (SocketAddr, oneshot::Receiver<Option<String>>) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    let (tx, rx) = oneshot::channel();
    tokio::spawn(async move {
        let Ok(Ok((tcp, _))) = tokio::time::timeout(Duration::from_secs(5), l.accept()).await
        else {
            return;
        };
        // Read the ClientHello first so the SNI is known even if the client resets right after.
        let lazy = tokio_rustls::LazyConfigAcceptor::new(rustls::server::Acceptor::default(), tcp);
        let Ok(start) = lazy.await else {
            return;
        };
        let _ = tx.send(start.client_hello().server_name().map(str::to_owned));
        let Ok(mut s) = start.into_stream(server_config()).await else {
            return;
        };
        if !reply.is_empty() {
            let mut buf = [0u8; 1024];
            let _ = tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await;
            let _ = s.write_all(reply).await;
            let _ = s.shutdown().await;
        }
    });
    (addr, rx)
}

fn conn(sni: Option<&str>) -> CheckConn {
    CheckConn::new(CheckTimeouts::uniform(Duration::from_secs(2)))
        .with_tls(Some(TlsCheck::verify_none(sni).expect("tls config")))
}

#[tokio::test]
async fn connect_check_over_tls_is_l6ok_without_sni() {
    let (addr, sni) = tls_peer(b"").await;
    let o = CheckKind::Connect.run(addr, conn(None), None).await;
    assert_eq!(o.status, CheckStatus::L6Ok, "{o:?}");
    assert_eq!(sni.await.unwrap(), None);
}

#[tokio::test]
async fn http_check_over_tls_with_sni() {
    let (addr, sni) = tls_peer(b"HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n").await;
    let o = HttpCheck::default()
        .run(addr, conn(Some("check.example")), None)
        .await;
    assert_eq!((o.status, o.code), (CheckStatus::L7Ok, Some(200)), "{o:?}");
    assert_eq!(sni.await.unwrap().as_deref(), Some("check.example"));
}

#[tokio::test]
async fn tls_check_against_plain_server_is_l6rsp() {
    let (addr, _h) = peer(vec![Step::Recv, send("HTTP/1.0 400 Bad\r\n\r\n")]).await;
    let o = CheckKind::Connect.run(addr, conn(None), None).await;
    assert_eq!(o.status, CheckStatus::L6Rsp, "{o:?}");
}

#[tokio::test]
async fn silent_tls_server_is_l6tout() {
    let (addr, _h) = peer(vec![Step::Recv, Step::Sleep(1500)]).await;
    let c = CheckConn::new(CheckTimeouts::uniform(Duration::from_millis(200)))
        .with_tls(Some(TlsCheck::verify_none(None).unwrap()));
    let o = CheckKind::Connect.run(addr, c, None).await;
    assert_eq!(o.status, CheckStatus::L6Timeout, "{o:?}");
}

#[test]
fn bad_sni_is_rejected() {
    assert!(TlsCheck::verify_none(Some("not a name")).is_err());
}
