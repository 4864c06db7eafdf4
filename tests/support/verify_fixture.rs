//! The identity-test world: DKIM keys made at test time (openssl and
//! mail-auth), published by a real dnsmasq, an accounts file, and a config
//! that points triaged at both. Shared by the identity tests (tests/verify/).

pub mod list;

use std::marker::PhantomData;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine;
use mail_auth::common::crypto::{
    Algorithm, Ed25519Key, HashImpl, RsaKey, Sha1, Sha256, SigningKey,
};
use mail_auth::common::headers::{HeaderWriter, Writable};
use mail_auth::dkim::DkimSigner;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;

use crate::support::dns::{Dns, Record};
use triaged::config::Config;
use triaged::message::Message;
use triaged::verify::{Report, Verifier, VerifyContext};

pub const SIGNED: [&str; 8] = [
    "From",
    "To",
    "Subject",
    "Date",
    "Message-ID",
    "Reply-To",
    "Content-Type",
    "MIME-Version",
];

pub fn openssl(args: &[&str], stdin: Option<&[u8]>) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl must be installed");
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or_default()).unwrap();
    drop(input);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// An RSA key pair made by openssl; the private key stays in a PEM file.
pub struct RsaPair {
    pub pem: PathBuf,
    /// base64 SubjectPublicKeyInfo, the DKIM `p=` value.
    pub public_b64: String,
}

impl RsaPair {
    pub fn generate(dir: &Path, bits: u32) -> RsaPair {
        let pem = dir.join(format!("rsa{bits}.pem"));
        openssl(
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                &format!("rsa_keygen_bits:{bits}"),
                "-out",
                pem.to_str().unwrap(),
            ],
            None,
        );
        let der = openssl(
            &[
                "pkey",
                "-in",
                pem.to_str().unwrap(),
                "-pubout",
                "-outform",
                "DER",
            ],
            None,
        );
        RsaPair {
            pem,
            public_b64: base64::engine::general_purpose::STANDARD.encode(der),
        }
    }

    /// mail-auth's own RSA signer (rsa-sha256, keys of 2048 bits and more).
    pub fn mail_auth_key(&self) -> RsaKey<Sha256> {
        let der = openssl(
            &[
                "pkcs8",
                "-topk8",
                "-nocrypt",
                "-in",
                self.pem.to_str().unwrap(),
                "-outform",
                "DER",
            ],
            None,
        );
        RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(der.into())).expect("RSA key")
    }

    /// A signer that lets openssl do the RSA operation, for what mail-auth
    /// refuses to produce: rsa-sha1 and short keys.
    pub fn openssl_key<H: HashImpl>(&self) -> OpensslRsa<H> {
        OpensslRsa {
            pem: self.pem.clone(),
            _hash: PhantomData,
        }
    }
}

pub struct OpensslRsa<H> {
    pem: PathBuf,
    _hash: PhantomData<H>,
}

fn openssl_sign(pem: &Path, digest: &str, input: impl Writable) -> Vec<u8> {
    let mut data = Vec::new();
    input.write(&mut data);
    openssl(
        &["dgst", digest, "-sign", pem.to_str().unwrap()],
        Some(&data),
    )
}

impl SigningKey for OpensslRsa<Sha256> {
    type Hasher = Sha256;
    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        Ok(openssl_sign(&self.pem, "-sha256", input))
    }
    fn algorithm(&self) -> Algorithm {
        Algorithm::RsaSha256
    }
}

impl SigningKey for OpensslRsa<Sha1> {
    type Hasher = Sha1;
    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        Ok(openssl_sign(&self.pem, "-sha1", input))
    }
    fn algorithm(&self) -> Algorithm {
        Algorithm::RsaSha1
    }
}

pub struct Ed25519Pair {
    pub pkcs8: Vec<u8>,
    pub public_b64: String,
}

impl Ed25519Pair {
    pub fn generate() -> Ed25519Pair {
        let pkcs8 = Ed25519Key::generate_pkcs8().unwrap();
        let key = Ed25519Key::from_pkcs8_der(&pkcs8).unwrap();
        Ed25519Pair {
            public_b64: base64::engine::general_purpose::STANDARD.encode(key.public_key()),
            pkcs8,
        }
    }

    pub fn key(&self) -> Ed25519Key {
        Ed25519Key::from_pkcs8_der(&self.pkcs8).unwrap()
    }
}

/// Signs `message` with the usual header set and returns the message with
/// its DKIM-Signature on top.
pub fn sign<K: SigningKey>(
    key: K,
    domain: &str,
    selector: &str,
    message: &str,
    tweak: impl FnOnce(DkimSigner<K, mail_auth::dkim::Done>) -> DkimSigner<K, mail_auth::dkim::Done>,
) -> String {
    let signer = tweak(
        DkimSigner::from_key(key)
            .domain(domain)
            .selector(selector)
            .headers(SIGNED),
    );
    let sig = signer.sign(message.as_bytes()).expect("signing");
    format!("{}{message}", sig.to_header())
}

/// Signs only `headers`, so others can be added without breaking the
/// signature (what a careless signer allows).
pub fn plain_with_headers(
    key: impl SigningKey,
    domain: &str,
    selector: &str,
    headers: &[&str],
    message: &str,
) -> String {
    let sig = DkimSigner::from_key(key)
        .domain(domain)
        .selector(selector)
        .headers(headers.iter().copied())
        .sign(message.as_bytes())
        .expect("signing");
    format!("{}{message}", sig.to_header())
}

pub fn plain(key: impl SigningKey, domain: &str, selector: &str, message: &str) -> String {
    sign(key, domain, selector, message, |s| s)
}

/// A plain request as a user would write it.
pub fn message(from: &str, subject: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@sr.ht\r\nSubject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}",
        rand::random::<u64>()
    )
}

pub const BODY: &str = "Hello,\r\n\r\nplease delete my account.\r\n\r\nAlice\r\n";

/// The world every DKIM test runs in.
pub struct World {
    pub dir: tempfile::TempDir,
    pub dns: Dns,
    pub rsa: RsaPair,
    pub weak: RsaPair,
    pub ed: Ed25519Pair,
    pub config: Config,
}

pub const ACCOUNTS: &str = r#"
[[account]]
username = "alice"
email = "alice@example.org"
two_factor = false
domains = ["example.org"]
billing_last4 = "4242"

[[account]]
username = "carol"
emails = ["carol@example.org", "carol@mail.example.org"]
two_factor = true
"#;

impl World {
    pub fn start() -> World {
        Self::start_with(ACCOUNTS, "")
    }

    /// `identity_extra`: more lines for the `[identity]` section.
    pub fn start_with(accounts: &str, identity_extra: &str) -> World {
        let dir = tempfile::tempdir().unwrap();
        let rsa = RsaPair::generate(dir.path(), 2048);
        let weak = RsaPair::generate(dir.path(), 512);
        let ed = Ed25519Pair::generate();
        let key = |p: &str| format!("v=DKIM1; k=rsa; p={p}");
        let dns = Dns::start_logging_queries(&[
            Record::txt("rsa._domainkey.example.org", key(&rsa.public_b64)),
            Record::txt(
                "ed._domainkey.example.org",
                format!("v=DKIM1; k=ed25519; p={}", ed.public_b64),
            ),
            Record::txt("weak._domainkey.example.org", key(&weak.public_b64)),
            Record::txt(
                "testing._domainkey.example.org",
                format!("v=DKIM1; k=rsa; t=y; p={}", rsa.public_b64),
            ),
            Record::txt("revoked._domainkey.example.org", "v=DKIM1; k=rsa; p="),
            Record::txt(
                "garbage._domainkey.example.org",
                "v=DKIM1; k=rsa; p=!!!not-base64!!!",
            ),
            Record::txt(
                "dsa._domainkey.example.org",
                "v=DKIM1; k=dsa; p=AAAAB3NzaC1kc3M=",
            ),
            Record::txt("short._domainkey.example.org", "v=DKIM1; k=rsa; p=MAA="),
            Record::txt("rsa._domainkey.attacker.test", key(&rsa.public_b64)),
            Record::txt("rsa._domainkey.lists.example.net", key(&rsa.public_b64)),
        ]);
        let config = write_config(dir.path(), &dns, accounts, identity_extra);
        World {
            dir,
            dns,
            rsa,
            weak,
            ed,
            config,
        }
    }

    /// A plain request from `from`, validly signed by example.org.
    pub fn signed(&self, from: &str, subject: &str) -> String {
        plain(
            self.rsa.mail_auth_key(),
            "example.org",
            "rsa",
            &message(from, subject, BODY),
        )
    }

    pub async fn verifier(&self) -> Verifier {
        Verifier::new(&self.config).await.expect("verifier")
    }

    pub async fn verify(&self, raw: &str) -> Report {
        let msg = Message::parse(raw.as_bytes().to_vec()).expect("parsable test message");
        self.verifier()
            .await
            .verify(&msg, &VerifyContext::default())
            .await
    }
}

/// The identity tests' pack: a procedure that needs the account's factors
/// and a billing matter, each named by one word of the request, so that
/// `verify` (which classifies before it counts) has a procedure to follow
/// without the cost of loading a shipped pack.
pub const PACK: &str = r#"
[pack]
name = "identity"

[[procedure]]
id = "account-deletion"
title = "Account deletion"
identity = "one"
[[procedure.rule]]
name = "delete"
on = "text"
pattern = '\bdelete\b'
weight = 5.0
[[procedure.step]]
name = "answer"
state = "new"
template = "answer.txt"

[[procedure]]
id = "refund"
title = "Refund"
identity = "billing"
billing = true
[[procedure.rule]]
name = "refund"
on = "text"
pattern = '\brefund\b'
weight = 5.0
[[procedure.step]]
name = "answer"
state = "new"
template = "answer.txt"
"#;

pub fn write_config(dir: &Path, dns: &Dns, accounts: &str, identity_extra: &str) -> Config {
    std::fs::write(dir.join("pw"), "x\n").unwrap();
    let pack = dir.join("templates/identity");
    std::fs::create_dir_all(&pack).unwrap();
    std::fs::write(pack.join("procedures.toml"), PACK).unwrap();
    std::fs::write(pack.join("answer.txt"), "Hello,\n").unwrap();
    std::fs::write(pack.join("acknowledge.txt"), "Hello,\n").unwrap();
    std::fs::write(dir.join("accounts.toml"), accounts).unwrap();
    let text = format!(
        "[imap]\nhost = \"127.0.0.1\"\nport = 1143\ntls = \"none\"\nusername = \"support@sr.ht\"\npassword_file = \"pw\"\n\n[procedures]\npack = \"identity\"\ntemplates = \"templates\"\n\n[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n\n[identity]\naccounts = \"accounts.toml\"\n{identity_extra}\n",
        dns.addr()
    );
    let path = dir.join("triaged.toml");
    std::fs::write(&path, text).unwrap();
    Config::load(&path).expect("test config loads")
}
