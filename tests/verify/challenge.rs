//! DNS and web challenges against real peers on loopback: a dnsmasq serving
//! TXT records, and an HTTPS server whose certificate comes from a test CA
//! made by openssl at test time. The client maps the account's domain to the
//! local server with `ClientBuilder::resolve`, exactly as production would
//! reach the real host.


use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig};
use triaged::verify::challenge::{Challenge, check_dns, check_web, issue, web_client_builder};
use triaged::verify::{Factor, Outcome};

use crate::support::dns::{Dns, Record, resolver};

const DOMAIN: &str = "example.org";

fn domains(list: &[&str]) -> Vec<String> {
    list.iter().map(|d| d.to_string()).collect()
}

#[track_caller]
fn assert_outcome(f: &Factor, result: Outcome, temporary: bool) {
    assert_eq!((f.result, f.temporary), (result, temporary), "{f:?}");
}

// ---- DNS -------------------------------------------------------------------

fn dns_with(records: &[(&str, String)]) -> Dns {
    let mut all: Vec<Record> = records.iter().map(|(n, v)| Record::txt(*n, v.clone())).collect();
    all.push(Record::Failing("broken.example".into()));
    Dns::start(&all)
}

#[tokio::test]
async fn dns_txt_with_the_token_passes_and_a_wrong_token_fails() {
    let c = issue(7, "alice", "triaged.txt");
    let other = issue(8, "alice", "triaged.txt");
    let dns = dns_with(&[
        ("_triaged-challenge.example.org", c.txt_value()),
        ("_triaged-challenge.stale.example.org", other.txt_value()),
    ]);
    let r = resolver(dns.addr());
    let f = check_dns(&r, &domains(&[DOMAIN]), Some(&c)).await;
    assert_outcome(&f, Outcome::Pass, false);
    assert!(
        f.reason.contains("_triaged-challenge.example.org"),
        "{}",
        f.reason
    );
    // The token of another ticket does not count.
    let f = check_dns(&r, &domains(&["stale.example.org"]), Some(&c)).await;
    assert_outcome(&f, Outcome::Fail, false);
    // The bare token is not the documented format.
    let bare = dns_with(&[("_triaged-challenge.example.org", c.token.clone())]);
    let f = check_dns(&resolver(bare.addr()), &domains(&[DOMAIN]), Some(&c)).await;
    assert_outcome(&f, Outcome::Fail, false);
}

#[tokio::test]
async fn dns_without_a_record_is_none_and_any_domain_on_file_may_pass() {
    let c = issue(7, "alice", "triaged.txt");
    let dns = dns_with(&[("_triaged-challenge.second.example.org", c.txt_value())]);
    let r = resolver(dns.addr());
    let f = check_dns(&r, &domains(&[DOMAIN]), Some(&c)).await;
    assert_outcome(&f, Outcome::None, false);
    let f = check_dns(&r, &domains(&[DOMAIN, "second.example.org"]), Some(&c)).await;
    assert_outcome(&f, Outcome::Pass, false);
}

#[tokio::test]
async fn dns_upstream_failure_and_stopped_server_are_temporary() {
    let c = issue(7, "alice", "triaged.txt");
    let mut dns = dns_with(&[("_triaged-challenge.example.org", c.txt_value())]);
    let r = resolver(dns.addr());
    let f = check_dns(&r, &domains(&["broken.example"]), Some(&c)).await;
    assert_outcome(&f, Outcome::None, true);
    // A temporary answer outranks a definite none or fail elsewhere.
    let f = check_dns(
        &r,
        &domains(&["broken.example", "stale.example.org"]),
        Some(&c),
    )
    .await;
    assert!(f.temporary, "{f:?}");
    assert_outcome(
        &check_dns(&r, &domains(&[DOMAIN]), Some(&c)).await,
        Outcome::Pass,
        false,
    );
    dns.stop();
    let f = check_dns(&r, &domains(&[DOMAIN]), Some(&c)).await;
    assert_outcome(&f, Outcome::None, true);
    assert!(f.reason.starts_with("temporary:"), "{}", f.reason);
}

#[tokio::test]
async fn dns_without_challenge_or_domain_is_none_and_runs_on_a_spawned_task() {
    let c = issue(7, "alice", "triaged.txt");
    let dns = dns_with(&[("_triaged-challenge.example.org", c.txt_value())]);
    let r = resolver(dns.addr());
    let f = check_dns(&r, &domains(&[DOMAIN]), None).await;
    assert_eq!(
        (f.result, f.reason.as_str()),
        (Outcome::None, "no DNS challenge issued")
    );
    assert_outcome(&check_dns(&r, &[], Some(&c)).await, Outcome::None, false);
    assert_outcome(
        &check_dns(&r, &domains(&["evil.org/x"]), Some(&c)).await,
        Outcome::None,
        false,
    );
    // The daemon checks factors on spawned tasks: the future must be Send.
    let f = tokio::spawn(async move { check_dns(&r, &domains(&[DOMAIN]), Some(&c)).await })
        .await
        .unwrap();
    assert_outcome(&f, Outcome::Pass, false);
}

// ---- Web -------------------------------------------------------------------

/// A test CA and a server certificate for `example.org` (and `www.`).
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let dir = tempfile::tempdir().unwrap();
        crate::support::make_certs(dir.path(), "DNS:example.org,DNS:www.example.org");
        Pki { dir }
    }

    fn ca(&self) -> reqwest::Certificate {
        reqwest::Certificate::from_pem(&std::fs::read(self.dir.path().join("ca.pem")).unwrap())
            .unwrap()
    }

    fn server_config(&self) -> Arc<ServerConfig> {
        let certs = rustls_pemfile::certs(
            &mut &std::fs::read(self.dir.path().join("cert.pem")).unwrap()[..],
        )
        .collect::<Result<Vec<_>, _>>()
        .unwrap();
        let key = rustls_pemfile::private_key(
            &mut &std::fs::read(self.dir.path().join("key.pem")).unwrap()[..],
        )
        .unwrap()
        .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        Arc::new(config)
    }
}

#[derive(Clone)]
enum Reply {
    Body(String),
    Status(u16),
    Redirect(String),
    /// Accept the request and never answer.
    Hang,
}

/// A minimal HTTPS/1.1 server on loopback; records the paths it was asked.
struct Https {
    addr: SocketAddr,
    asked: Arc<Mutex<Vec<String>>>,
}

impl Https {
    async fn start(pki: &Pki, routes: &[(&str, Reply)]) -> Https {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = TlsAcceptor::from(pki.server_config());
        let routes: Arc<HashMap<String, Reply>> = Arc::new(
            routes
                .iter()
                .map(|(p, r)| (p.to_string(), r.clone()))
                .collect(),
        );
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = asked.clone();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let (acceptor, routes, log) = (acceptor.clone(), routes.clone(), log.clone());
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let Some(path) = read_request_path(&mut tls).await else {
                        return;
                    };
                    log.lock().unwrap().push(path.clone());
                    let response = match routes.get(&path) {
                        Some(Reply::Body(b)) => {
                            format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{b}", b.len())
                        }
                        Some(Reply::Status(s)) => {
                            format!("HTTP/1.1 {s} X\r\nContent-Length: 0\r\n\r\n")
                        }
                        Some(Reply::Redirect(to)) => {
                            format!(
                                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\n\r\n"
                            )
                        }
                        Some(Reply::Hang) => {
                            tokio::time::sleep(Duration::from_secs(60)).await;
                            return;
                        }
                        None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
                    };
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                });
            }
        });
        Https { addr, asked }
    }

    fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

async fn read_request_path<S: AsyncReadExt + Unpin>(s: &mut S) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.len() < 16384 {
        let n = s.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let head = String::from_utf8_lossy(&buf);
    Some(head.split_whitespace().nth(1)?.to_string())
}

/// A plain TCP listener that records the first bytes of every connection:
/// proof of what protocol a client spoke to it.
struct Plain {
    addr: SocketAddr,
    first_bytes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl Plain {
    async fn start() -> Plain {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let first_bytes = Arc::new(Mutex::new(Vec::new()));
        let log = first_bytes.clone();
        tokio::spawn(async move {
            while let Ok((mut tcp, _)) = listener.accept().await {
                let mut buf = [0u8; 16];
                let n = tcp.read(&mut buf).await.unwrap_or(0);
                log.lock().unwrap().push(buf[..n].to_vec());
            }
        });
        Plain { addr, first_bytes }
    }

    fn seen(&self) -> Vec<Vec<u8>> {
        self.first_bytes.lock().unwrap().clone()
    }
}

/// The production client, trusting the test CA and reaching `example.org`
/// (and `www.example.org`) at `addr`.
fn client(pki: &Pki, addr: SocketAddr) -> reqwest::Client {
    web_client_builder()
        .add_root_certificate(pki.ca())
        .resolve(DOMAIN, addr)
        .resolve("www.example.org", addr)
        .timeout(Duration::from_secs(3))
        .build()
        .unwrap()
}

/// The web factor for `example.org` served at `addr`.
async fn web_at(pki: &Pki, addr: SocketAddr, c: &Challenge) -> Factor {
    check_web(&client(pki, addr), &domains(&[DOMAIN]), Some(c)).await
}

fn challenge() -> Challenge {
    issue(7, "alice", ".well-known/triaged.txt")
}

const PATH: &str = "/.well-known/triaged.txt";

#[tokio::test]
async fn web_token_over_https_passes_and_other_answers_do_not() {
    let pki = Pki::new();
    let c = challenge();
    let server = Https::start(&pki, &[(PATH, Reply::Body(format!("{}\n", c.token)))]).await;
    let f = web_at(&pki, server.addr, &c).await;
    assert_outcome(&f, Outcome::Pass, false);
    assert!(
        f.reason
            .contains("https://example.org/.well-known/triaged.txt"),
        "{}",
        f.reason
    );
    assert_eq!(server.asked(), vec![PATH.to_string()]);

    let other = issue(8, "alice", ".well-known/triaged.txt");
    let f = web_at(&pki, server.addr, &other).await;
    assert_outcome(&f, Outcome::Fail, false);

    let empty = Https::start(&pki, &[]).await;
    let f = web_at(&pki, empty.addr, &c).await;
    assert_outcome(&f, Outcome::None, false);

    let broken = Https::start(&pki, &[(PATH, Reply::Status(503))]).await;
    let f = web_at(&pki, broken.addr, &c).await;
    assert_outcome(&f, Outcome::None, true);
}

#[tokio::test]
async fn web_body_is_read_only_up_to_4_kib() {
    let pki = Pki::new();
    let c = challenge();
    let late = format!("{}{}", "x".repeat(8192), c.token);
    let server = Https::start(&pki, &[(PATH, Reply::Body(late))]).await;
    let f = web_at(&pki, server.addr, &c).await;
    assert_outcome(&f, Outcome::Fail, false);
    let early = format!("{}\n{}", c.token, "x".repeat(100_000));
    let server = Https::start(&pki, &[(PATH, Reply::Body(early))]).await;
    let f = web_at(&pki, server.addr, &c).await;
    assert_outcome(&f, Outcome::Pass, false);
}

#[tokio::test]
async fn web_never_speaks_plain_http() {
    let pki = Pki::new();
    let c = challenge();
    let plain = Plain::start().await;
    // A redirect to http:// on the same host is refused, not followed.
    let to_http = format!("http://example.org:{}{PATH}", plain.addr.port());
    let server = Https::start(&pki, &[(PATH, Reply::Redirect(to_http.clone()))]).await;
    let f = web_at(&pki, server.addr, &c).await;
    assert_outcome(&f, Outcome::Fail, false);
    assert!(f.reason.contains("redirect"), "{}", f.reason);
    // Even a caller's default client (follows redirects, allows http) does not
    // turn an http answer into a pass.
    let lax = reqwest::Client::builder()
        .add_root_certificate(pki.ca())
        .resolve(DOMAIN, server.addr)
        .build()
        .unwrap();
    let f = check_web(&lax, &domains(&[DOMAIN]), Some(&c)).await;
    assert!(!f.passed(), "{f:?}");
    let http_requests = plain.seen().len();
    assert_eq!(
        http_requests, 1,
        "only the lax client followed the redirect"
    );
    // Pointed at a plain-HTTP port, the production client speaks TLS to it.
    let f = web_at(&pki, plain.addr, &c).await;
    assert_outcome(&f, Outcome::None, true);
    let seen = plain.seen();
    assert_eq!(seen.len(), 2, "{seen:?}");
    assert_eq!(
        seen[1].first(),
        Some(&0x16),
        "a TLS handshake record, not an HTTP request: {seen:?}"
    );
}

#[tokio::test]
async fn web_redirects_are_followed_only_to_https_on_the_same_host() {
    let pki = Pki::new();
    let c = challenge();
    let target = Https::start(&pki, &[("/moved.txt", Reply::Body(c.token.clone()))]).await;
    let same = format!("https://example.org:{}/moved.txt", target.addr.port());
    let server = Https::start(&pki, &[(PATH, Reply::Redirect(same))]).await;
    let f = web_at(&pki, server.addr, &c).await;
    assert_outcome(&f, Outcome::Pass, false);
    assert_eq!(target.asked(), vec!["/moved.txt".to_string()]);
    // The same file on another host (also trusted, also reachable) is not followed.
    let other = format!("https://www.example.org:{}/moved.txt", target.addr.port());
    let server = Https::start(&pki, &[(PATH, Reply::Redirect(other))]).await;
    let f = web_at(&pki, server.addr, &c).await;
    assert_outcome(&f, Outcome::Fail, false);
    assert_eq!(target.asked().len(), 1, "the other host was never asked");
}

#[tokio::test]
async fn web_unreachable_or_silent_server_is_temporary() {
    let pki = Pki::new();
    let c = challenge();
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let f = web_at(&pki, closed, &c).await;
    assert_outcome(&f, Outcome::None, true);
    let silent = Https::start(&pki, &[(PATH, Reply::Hang)]).await;
    let f = web_at(&pki, silent.addr, &c).await;
    assert_outcome(&f, Outcome::None, true);
    // An untrusted certificate is not accepted either.
    let good = Https::start(&pki, &[(PATH, Reply::Body(c.token.clone()))]).await;
    let untrusting = web_client_builder()
        .resolve(DOMAIN, good.addr)
        .build()
        .unwrap();
    let f = check_web(&untrusting, &domains(&[DOMAIN]), Some(&c)).await;
    assert!(!f.passed(), "{f:?}");
}

#[tokio::test]
async fn web_without_challenge_or_domain_is_none() {
    let pki = Pki::new();
    let c = challenge();
    let server = Https::start(&pki, &[(PATH, Reply::Body(c.token.clone()))]).await;
    let http = client(&pki, server.addr);
    let f = check_web(&http, &domains(&[DOMAIN]), None).await;
    assert_eq!(
        (f.result, f.reason.as_str()),
        (Outcome::None, "no web challenge issued")
    );
    assert_outcome(&check_web(&http, &[], Some(&c)).await, Outcome::None, false);
    assert_outcome(
        &check_web(&http, &domains(&["user@example.org"]), Some(&c)).await,
        Outcome::None,
        false,
    );
    assert!(server.asked().is_empty());
}
