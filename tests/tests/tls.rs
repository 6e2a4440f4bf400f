//! TLS on the gRPC listener and mutual TLS for the telephony account, with certificates
//! made in the test: TLS clients are served and plain ones refused; with a client CA
//! configured, users may connect without a certificate but the telephony account may not.

use hotline_proto::v1 as pb;
use hotline_server::config::{Config, TlsConfig};
use hotline_tests::{Backend, DEMO_PASSWORD, TestDb, on_both_backends};
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use std::path::{Path, PathBuf};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};

on_both_backends!(tls_serves_tls_clients_only, telephony_needs_a_client_certificate);

/// A PEM certificate and its key.
struct Pem {
    cert: String,
    key: String,
}

struct Pki {
    ca: CertifiedIssuer<'static, KeyPair>,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name.push(DnType::CommonName, name);
        Pki { ca: CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap() }
    }

    fn ca_pem(&self) -> String {
        self.ca.pem()
    }

    fn issue(&self, names: &[&str], common_name: &str) -> Pem {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
        params.distinguished_name.push(DnType::CommonName, common_name);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca).unwrap();
        Pem { cert: cert.pem(), key: key.serialize_pem() }
    }
}

struct Server {
    addr: std::net::SocketAddr,
    dir: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    _db: TestDb,
}

impl Server {
    async fn start(backend: Backend, pki: &Pki, client_ca: Option<&str>) -> Option<Server> {
        let db = TestDb::create(backend).await?;
        let dir = std::env::temp_dir().join(format!("hotline-tls-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let server = pki.issue(&["localhost"], "hotline");
        let write = |name: &str, text: &str| -> PathBuf {
            let p = dir.join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let mut config = Config::default();
        config.keys.signing_key_file = dir.join("signing.key");
        config.tls = TlsConfig {
            cert_file: Some(write("server.crt", &server.cert)),
            key_file: Some(write("server.key", &server.key)),
            client_ca_file: client_ca.map(|ca| write("client-ca.crt", ca)),
        };
        let store =
            hotline_server::open_store(db.url(), 4, hotline_store::CallerKeys::for_tests()).await.unwrap();
        hotline_server::demo::seed(store.as_ref()).await.unwrap();
        let app = hotline_server::cli::build_app(&config, store).await.unwrap();
        let (tls, _) = hotline_server::tls::server_tls(&config).unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(hotline_server::serve(listener, app, tls, async {
            let _ = rx.await;
        }));
        Some(Server { addr, dir, stop: Some(tx), task: Some(task), _db: db })
    }

    async fn tls_channel(
        &self,
        ca: &str,
        identity: Option<&Pem>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls =
            ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca)).domain_name("localhost");
        if let Some(id) = identity {
            tls = tls.identity(Identity::from_pem(&id.cert, &id.key));
        }
        Channel::from_shared(format!("https://{}", self.addr)).unwrap().tls_config(tls)?.connect().await
    }

    async fn stop(mut self) {
        let _ = self.stop.take().unwrap().send(());
        self.task.take().unwrap().await.unwrap().unwrap();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn sign_in(channel: Channel, username: &str) -> Result<String, tonic::Status> {
    let resp = pb::auth_service_client::AuthServiceClient::new(channel)
        .sign_in(pb::SignInRequest { username: username.into(), password: DEMO_PASSWORD.into() })
        .await?;
    Ok(resp.into_inner().token)
}

fn with_token<T>(token: &str, msg: T) -> tonic::Request<T> {
    let mut req = tonic::Request::new(msg);
    req.metadata_mut().insert("authorization", format!("Bearer {token}").parse().unwrap());
    req
}

fn offered(call_id: &str) -> pb::CallOfferedRequest {
    pb::CallOfferedRequest {
        call_id: call_id.into(),
        caller_phone: "138-0013-8000".into(),
        line: "0635-12348".into(),
        ..Default::default()
    }
}

async fn tls_serves_tls_clients_only(backend: Backend) {
    let pki = Pki::new("hotline test CA");
    let Some(server) = Server::start(backend, &pki, None).await else { return };
    let channel = server.tls_channel(&pki.ca_pem(), None).await.expect("TLS connect");
    let token = sign_in(channel.clone(), "agent").await.expect("sign in over TLS");
    let me = pb::auth_service_client::AuthServiceClient::new(channel.clone())
        .who_am_i(with_token(&token, pb::WhoAmIRequest {}))
        .await
        .expect("who am I over TLS")
        .into_inner();
    assert_eq!(me.username, "agent");
    // Without a client CA, the telephony account needs no client certificate.
    let cti = sign_in(channel.clone(), "cti").await.unwrap();
    pb::telephony_service_client::TelephonyServiceClient::new(channel)
        .call_offered(with_token(&cti, offered("tls-1")))
        .await
        .expect("telephony over one-way TLS");

    // A plain-text client gets nowhere.
    let plain = match Channel::from_shared(format!("http://{}", server.addr)).unwrap().connect().await {
        Err(_) => None,
        Ok(ch) => Some(sign_in(ch, "agent").await),
    };
    assert!(matches!(plain, None | Some(Err(_))), "a plain client was served: {plain:?}");
    // Nor does a client that does not trust the server's CA.
    let stranger = Pki::new("another CA");
    let untrusted = match server.tls_channel(&stranger.ca_pem(), None).await {
        Err(_) => None,
        Ok(ch) => Some(sign_in(ch, "agent").await),
    };
    assert!(matches!(untrusted, None | Some(Err(_))), "{untrusted:?}");
    server.stop().await;
}

async fn telephony_needs_a_client_certificate(backend: Backend) {
    let pki = Pki::new("hotline test CA");
    let clients = Pki::new("hotline client CA");
    let Some(server) = Server::start(backend, &pki, Some(&clients.ca_pem())).await else { return };

    // An ordinary user needs no certificate.
    let bare = server.tls_channel(&pki.ca_pem(), None).await.expect("TLS connect without a certificate");
    let agent = sign_in(bare.clone(), "agent").await.expect("sign in without a certificate");
    pb::auth_service_client::AuthServiceClient::new(bare.clone())
        .who_am_i(with_token(&agent, pb::WhoAmIRequest {}))
        .await
        .expect("a user without a certificate is served");

    // The telephony account without one is refused, on every RPC.
    let cti = sign_in(bare.clone(), "cti").await.expect("signing in itself needs no certificate");
    let refused = pb::telephony_service_client::TelephonyServiceClient::new(bare.clone())
        .call_offered(with_token(&cti, offered("mtls-1")))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied, "{refused:?}");
    assert!(refused.message().contains("client certificate"), "{}", refused.message());
    let refused = pb::auth_service_client::AuthServiceClient::new(bare)
        .who_am_i(with_token(&cti, pb::WhoAmIRequest {}))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // With a certificate from the client CA, the same token is served.
    let adapter = clients.issue(&["cti.hotline.test"], "telephony adapter");
    let mutual = server.tls_channel(&pki.ca_pem(), Some(&adapter)).await.expect("mutual TLS connect");
    pb::telephony_service_client::TelephonyServiceClient::new(mutual.clone())
        .call_offered(with_token(&cti, offered("mtls-2")))
        .await
        .expect("telephony with a client certificate");
    let cti2 = sign_in(mutual, "cti").await.expect("sign in with a certificate");
    assert!(!cti2.is_empty());

    // A certificate from a CA the server does not trust fails the handshake.
    let rogue = Pki::new("rogue CA").issue(&["cti.hotline.test"], "impostor");
    let rejected = match server.tls_channel(&pki.ca_pem(), Some(&rogue)).await {
        Err(_) => None,
        Ok(ch) => Some(
            pb::telephony_service_client::TelephonyServiceClient::new(ch)
                .call_offered(with_token(&cti, offered("mtls-3")))
                .await,
        ),
    };
    assert!(matches!(rejected, None | Some(Err(_))), "{rejected:?}");
    server.stop().await;
}

#[test]
fn tls_settings_must_be_complete() {
    let dir = std::env::temp_dir().join(format!("hotline-tls-cfg-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let pki = Pki::new("config CA");
    let pem = pki.issue(&["localhost"], "hotline");
    let write = |name: &str, text: &str| -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    let cert = write("c.pem", &pem.cert);
    let key = write("k.pem", &pem.key);
    let server_tls =
        |c: Config| hotline_server::tls::server_tls(&c).map(|(tls, mutual)| (tls.is_some(), mutual));
    assert_eq!(server_tls(Config::default()).unwrap(), (false, false));
    let tls = |tls: TlsConfig| Config { tls, ..Config::default() };
    let only_cert = tls(TlsConfig { cert_file: Some(cert.clone()), ..TlsConfig::default() });
    assert!(server_tls(only_cert).unwrap_err().to_string().contains("together"));
    let ca_alone = tls(TlsConfig { client_ca_file: Some(cert.clone()), ..TlsConfig::default() });
    assert!(server_tls(ca_alone).is_err());
    let swapped =
        tls(TlsConfig { cert_file: Some(key.clone()), key_file: Some(cert.clone()), client_ca_file: None });
    assert!(server_tls(swapped).unwrap_err().to_string().contains("no PEM certificate"));
    let missing: &Path = &dir.join("missing.pem");
    let gone =
        tls(TlsConfig { cert_file: Some(missing.into()), key_file: Some(key.clone()), client_ca_file: None });
    assert!(server_tls(gone).unwrap_err().to_string().contains("missing.pem"));
    let full =
        tls(TlsConfig { cert_file: Some(cert.clone()), key_file: Some(key), client_ca_file: Some(cert) });
    assert_eq!(server_tls(full).unwrap(), (true, true));
    std::fs::remove_dir_all(dir).unwrap();
}
