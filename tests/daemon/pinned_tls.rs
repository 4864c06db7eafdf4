//! A server whose certificate is self-signed by `openssl req -x509` (so it
//! carries CA:TRUE, which webpki refuses as a server's own certificate) is
//! reachable when the operator pins that certificate, by file
//! (`imap.ca_file`) or by fingerprint (`imap.tls_fingerprint`), and only
//! then. A real Dovecot, restarted on such a certificate.


use std::process::Command;

use crate::support::harness::*;

/// Replaces Dovecot's certificate with a self-signed CA:TRUE one; returns
/// its path and its `sha256:AB:CD:...` fingerprint.
fn self_signed(s: &mut Setup) -> (std::path::PathBuf, String) {
    let dir = s.dovecot.dir().to_path_buf();
    let out = Command::new("openssl")
        .current_dir(&dir)
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"])
        .args(["-keyout", "key.pem", "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-addext", "basicConstraints=critical,CA:TRUE"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fp = Command::new("openssl").current_dir(&dir).args(["x509", "-noout", "-fingerprint", "-sha256", "-in", "cert.pem"]).output().unwrap();
    let fp = String::from_utf8(fp.stdout).unwrap();
    let hex = fp.trim().rsplit('=').next().unwrap().to_string();
    // Dovecot reads its certificate at start.
    s.dovecot.restart();
    (dir.join("cert.pem"), format!("sha256:{hex}"))
}

fn configure(s: &Setup, imap_extra: &str) {
    s.reconfigure("implicit", None, "", "");
    // The harness names the test CA; these tests decide the trust.
    let text = std::fs::read_to_string(&s.config).unwrap();
    let text: String = text
        .lines()
        .filter(|l| !l.starts_with("ca_file = "))
        .map(|l| if l == "[imap]" { format!("{l}\n{imap_extra}\n") } else { format!("{l}\n") })
        .collect();
    std::fs::write(&s.config, text).unwrap();
}

fn run(s: &Setup) -> (bool, String) {
    let out = triaged(&s.config, &["run", "--once"]);
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_pinned_self_signed_certificate_is_accepted_and_nothing_else() {
    let mut s = setup_with("implicit", "");
    let test_ca = s.dovecot.ca_file();
    let (cert, fingerprint) = self_signed(&mut s);
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "Hi, please delete it."));

    // Trusting the old CA is not enough: the server's certificate is not
    // from it, and webpki will not take a CA as a server's certificate.
    configure(&s, &format!("ca_file = \"{}\"", test_ca.display()));
    let (ok, log) = run(&s);
    assert!(!ok, "{log}");
    assert!(log.contains("TLS with 127.0.0.1 failed") && log.contains("imap.tls_fingerprint"), "{log}");
    assert!(drafts(&s).is_empty());

    // A wrong fingerprint does not open it either.
    configure(&s, &format!("tls_fingerprint = \"sha256:{}\"", "AB:".repeat(31) + "AB"));
    let (ok, log) = run(&s);
    assert!(!ok, "{log}");

    // The certificate itself in ca_file: accepted.
    configure(&s, &format!("ca_file = \"{}\"", cert.display()));
    let (ok, log) = run(&s);
    assert!(ok, "{log}");
    assert_eq!(drafts(&s).len(), 1);

    // Its fingerprint, as openssl prints it: accepted.
    s.dovecot.deliver("INBOX", &mail(2, "Please delete my other account", "Hi, please delete it too."));
    configure(&s, &format!("tls_fingerprint = \"{fingerprint}\""));
    let (ok, log) = run(&s);
    assert!(ok, "{log}");
    assert_eq!(drafts(&s).len(), 2);
}

#[test]
fn a_malformed_fingerprint_is_a_config_problem() {
    let s = setup_with("implicit", "");
    configure(&s, "tls_fingerprint = \"AB:CD\"");
    let out = triaged(&s.config, &["check-config"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("imap.tls_fingerprint: must start with \"sha256:\""), "{text}");
}
