//! Real peers for the integration tests: each helper starts a Debian server
//! on 127.0.0.1 with free ports and a temporary directory, and stops it when
//! dropped.
// Each test binary (one per area) uses part of the support code.
#![allow(dead_code)]

pub mod dns;
pub mod dovecot;
pub mod gpg;
pub mod harness;
pub mod ircd;
pub mod proxy;
pub mod ssh;
pub mod verify_fixture;

/// A free TCP port on 127.0.0.1 (bound and released; the race with another
/// process taking it meanwhile is accepted in tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Files of a test PKI made by [`make_certs`].
pub struct Certs {
    pub ca: std::path::PathBuf,
    pub cert: std::path::PathBuf,
    pub key: std::path::PathBuf,
}

/// A test CA (`ca.pem`) and a server certificate signed by it (`cert.pem`,
/// `key.pem`) in `dir`, valid for `sans` (e.g. "DNS:localhost,IP:127.0.0.1").
/// rustls rightly refuses a self-signed certificate that is its own CA, so
/// tests use a real chain. P-256 keys: quick to make.
pub fn make_certs(dir: &std::path::Path, sans: &str) -> Certs {
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .current_dir(dir)
            .args(args)
            .output()
            .expect("openssl is installed");
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend(["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=triaged test CA"]);
    ca.extend(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"]);
    openssl(&ca);
    let mut req = vec!["req"];
    req.extend(ec);
    req.extend(["-keyout", "key.pem", "-out", "server.csr", "-subj", "/CN=triaged test server"]);
    openssl(&req);
    std::fs::write(
        dir.join("ext.cnf"),
        format!("subjectAltName={sans}\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n"),
    )
    .unwrap();
    openssl(&[
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile",
        "ext.cnf", "-out", "cert.pem",
    ]);
    Certs {
        ca: dir.join("ca.pem"),
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}
