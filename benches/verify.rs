//! The identity stage on one DKIM-signed request (rsa-sha256, 2048 bits)
//! from a registered account: mail-auth's verification plus our own rules,
//! as `Verifier::verify` runs them in the daemon. The key is served by a
//! real dnsmasq on loopback that the bench starts itself. dnsmasq serves its
//! own records with TTL 0, so no resolver cache keeps the key: every
//! measured verification includes one UDP round trip to dnsmasq over
//! loopback (dnsmasq itself answers from memory). That is the cost with
//! the warmest cache a real deployment has short of a local cache hit.
//! Run with `cargo bench --bench verify`; results in docs/BENCHMARKS.md.

use std::process::Command;

use base64::Engine;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;
use triaged::config::Config;
use triaged::message::Message;
use triaged::verify::factor::Outcome;
use triaged::verify::{Verifier, VerifyContext};

#[path = "../tests/support/dns.rs"]
#[allow(dead_code)]
mod dns;

/// Used by the shared dnsmasq helper.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn openssl(args: &[&str]) -> Vec<u8> {
    let out = Command::new("openssl").args(args).output().expect("openssl must be installed");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out.stdout
}

const MESSAGE: &str = "From: Alice <alice@example.org>\r\nTo: support@example.org\r\nSubject: Please delete my account\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <verify-bench@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello,\r\n\r\nI would like my account and all my repositories removed, thanks.\r\n\r\nAlice\r\n";

fn verify(c: &mut Criterion) {
    let dir = tempfile::tempdir().unwrap();
    let pem = dir.path().join("dkim.pem");
    let pem_s = pem.to_str().unwrap();
    openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", pem_s]);
    let public = openssl(&["pkey", "-in", pem_s, "-pubout", "-outform", "DER"]);
    let private = openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", pem_s, "-outform", "DER"]);
    let server = dns::Dns::start(&[dns::Record::txt(
        "bench._domainkey.example.org",
        format!("v=DKIM1; k=rsa; p={}", base64::engine::general_purpose::STANDARD.encode(public)),
    )]);

    let key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(private.into())).unwrap();
    let sig = DkimSigner::from_key(key)
        .domain("example.org")
        .selector("bench")
        .headers(["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "MIME-Version"])
        .sign(MESSAGE.as_bytes())
        .unwrap();
    let raw = format!("{}{MESSAGE}", sig.to_header()).into_bytes();

    std::fs::write(dir.path().join("pw"), "x\n").unwrap();
    std::fs::write(
        dir.path().join("accounts.toml"),
        "[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\ntwo_factor = false\n",
    )
    .unwrap();
    let config_path = dir.path().join("triaged.toml");
    std::fs::write(
        &config_path,
        format!(
            "[imap]\nhost = \"127.0.0.1\"\nport = 1143\ntls = \"none\"\nusername = \"support@example.org\"\npassword_file = \"pw\"\n[procedures]\ntemplates = \"{}\"\n[dns]\nnameservers = [\"{}\"]\n[identity]\naccounts = \"accounts.toml\"\n",
            concat!(env!("CARGO_MANIFEST_DIR"), "/templates"),
            server.addr()
        ),
    )
    .unwrap();
    let config = Config::load(&config_path).unwrap();

    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let verifier = rt.block_on(Verifier::new(&config)).unwrap();
    let msg = Message::parse(raw).unwrap();
    let ctx = VerifyContext::default();
    // A bench of a failing check would measure the wrong thing.
    let first = rt.block_on(verifier.verify(&msg, &ctx));
    assert_eq!(first.factors.dkim.result, Outcome::Pass, "{:?}", first.factors.dkim);

    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(1));
    g.bench_function("verify (DKIM, key via loopback dnsmasq)", |b| {
        b.iter(|| rt.block_on(verifier.verify(&msg, &ctx)))
    });
    g.finish();

    // The worst case the limits are for: a 4 MB genuine request carrying
    // 1,000 more signatures, each with its own d= (a DNS query) and its
    // own l= (a pass over the body).
    let body: String = (0..52_000).map(|i| format!("line {i:06} of a long message, as long as a real one can be.......\r\n")).collect();
    let big = MESSAGE.replacen("Hello,\r\n", &body, 1);
    let key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(openssl(&["pkcs8", "-topk8", "-nocrypt", "-in", pem_s, "-outform", "DER"]).into())).unwrap();
    let sig = DkimSigner::from_key(key)
        .domain("example.org")
        .selector("bench")
        .headers(["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "MIME-Version"])
        .sign(big.as_bytes())
        .unwrap();
    let crowd: String = (0..1000)
        .map(|i| format!("DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=d{i}.attacker.test; s=s; h=from; l={};\r\n bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=\r\n", body.len() - i * 1000))
        .collect();
    let worst = Message::parse(format!("{}{crowd}{big}", sig.to_header()).into_bytes()).unwrap();
    let first = rt.block_on(verifier.verify(&worst, &ctx));
    assert_eq!(first.factors.dkim.result, Outcome::Pass, "{:?}", first.factors.dkim);
    let mut g = c.benchmark_group("worst case");
    // Seconds per iteration before the limits: ten single runs.
    g.sample_size(10).sampling_mode(criterion::SamplingMode::Flat);
    g.bench_function("verify (4 MB, 1,001 DKIM signatures, distinct d= and l=)", |b| {
        b.iter(|| rt.block_on(verifier.verify(&worst, &ctx)))
    });
    g.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
