//! Writes the messages scripts/bench feeds to Dovecot, in one pass: a mix
//! of plain-text and HTML (multipart/alternative) requests drawn from a
//! small set of realistic procedures, optionally with attachments (a few
//! large ones, up to 20 MiB decoded) and optionally DKIM-signed with
//! mail-auth's signer (rsa-sha256, relaxed/relaxed), so the key served by
//! the benchmark's dnsmasq verifies them.
//!
//! With --realistic the mix is the backlog a support team comes back to
//! (see `realistic`): requests in nine languages, quoted-printable and
//! base64 text, replies with long References chains and quoted history,
//! long Received chains, pasted logs, attachments up to 7 MiB decoded and
//! a 20 MiB one every 100 messages (27 MiB encoded: over the default
//! `limits.max_message_bytes`, so quarantined without being fetched).
//!
//! Usage: bench_mbox --n N --out PATH [--files] [--attachments | --realistic]
//!        [--dkim KEY.pk8.der --domain D --selector S] [--senders K]
//! Without --files PATH is one mbox; with it, a folder of one file per
//! message (for delivering them one at a time).

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use base64::Engine;
use mail_auth::common::crypto::{RsaKey, Sha256};
use mail_auth::common::headers::HeaderWriter;
use mail_auth::dkim::DkimSigner;
use rand::RngCore;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;

/// Subject and first paragraph of requests support teams really get: most
/// match a sourcehut procedure, the last one none.
const REQUESTS: [(&str, &str); 7] = [
    ("Please delete my account", "I would like my account and all my repositories removed, thanks."),
    ("Rename my account", "Could you rename my account? I changed my name and would like the new username."),
    ("Lost my 2FA device", "I lost my phone and cannot log in. Please disable two-factor authentication on my account."),
    ("Cannot pay for my FOSS project", "I maintain a free software project and cannot afford the subscription. Is there financial aid?"),
    ("Refund request", "I was charged twice this month, please refund the second payment."),
    ("Transfer billing to my organisation", "Please transfer billing for my account to my colleague's account."),
    ("Question about builds", "My builds time out after 45 minutes. Is there a limit I can raise?"),
];

const SIGNED: [&str; 7] = ["From", "To", "Subject", "Date", "Message-ID", "Content-Type", "MIME-Version"];

struct Args {
    n: usize,
    out: PathBuf,
    files: bool,
    attachments: bool,
    realistic: bool,
    dkim: Option<(PathBuf, String, String)>,
    senders: usize,
}

fn args() -> Result<Args, String> {
    let mut a = Args { n: 1000, out: PathBuf::new(), files: false, attachments: false, realistic: false, dkim: None, senders: 200 };
    let (mut key, mut domain, mut selector) = (None, None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        match flag.as_str() {
            "--n" => a.n = value()?.parse().map_err(|e| format!("--n: {e}"))?,
            "--senders" => a.senders = value()?.parse().map_err(|e| format!("--senders: {e}"))?,
            "--out" => a.out = value()?.into(),
            "--files" => a.files = true,
            "--attachments" => a.attachments = true,
            "--realistic" => a.realistic = true,
            "--dkim" => key = Some(PathBuf::from(value()?)),
            "--domain" => domain = Some(value()?),
            "--selector" => selector = Some(value()?),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    if a.attachments && a.realistic {
        return Err("--attachments and --realistic are two different mixes: give one".into());
    }
    if a.out.as_os_str().is_empty() || a.senders == 0 {
        return Err("--out is required and --senders must be at least 1".into());
    }
    if let Some(key) = key {
        a.dkim = Some((key, domain.ok_or("--dkim needs --domain")?, selector.ok_or("--dkim needs --selector")?));
    }
    Ok(a)
}

/// Decoded attachment size for message `i`, if it has one: three large
/// ones (1, 5 and 20 MiB) early in the run, 200 KiB on every 100th.
fn attachment(i: usize) -> Option<usize> {
    match i {
        10 => Some(1 << 20),
        20 => Some(5 << 20),
        30 => Some(20 << 20),
        _ if i % 100 == 50 => Some(200 << 10),
        _ => None,
    }
}

pub(crate) fn base64_lines(bytes: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut out = String::with_capacity(b64.len() + b64.len() / 38);
    for line in b64.as_bytes().chunks(76) {
        out.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
        out.push_str("\r\n");
    }
    out
}

/// Message `i` with CRLF line ends, as IMAP serves it.
fn message(i: usize, a: &Args, domain: &str) -> String {
    let (subject, text) = REQUESTS[i % REQUESTS.len()];
    let sender = i % a.senders;
    let mut m = format!(
        "From: User {sender} <user{sender}@{domain}>\r\nTo: support@example.org\r\nSubject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <bench-{i}@{domain}>\r\nMIME-Version: 1.0\r\n"
    );
    let plain = format!("Hello,\r\n\r\n{text}\r\n\r\nMy username is user{sender}.\r\n\r\nRegards,\r\nUser {sender}\r\n");
    let html = i % 3 == 0;
    let att = if a.attachments { attachment(i) } else { None };
    if !html && att.is_none() {
        m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        m.push_str(&plain);
        return m;
    }
    m.push_str("Content-Type: multipart/mixed; boundary=\"outer\"\r\n\r\n--outer\r\n");
    if html {
        m.push_str("Content-Type: multipart/alternative; boundary=\"alt\"\r\n\r\n--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
        m.push_str(&plain);
        m.push_str("--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<html><body><p>Hello,</p>");
        m.push_str(&format!("<p>{text}</p><p>My username is <b>user{sender}</b>.</p><p>Regards,<br>User {sender}</p></body></html>\r\n--alt--\r\n"));
    } else {
        m.push_str("Content-Type: text/plain; charset=utf-8\r\n\r\n");
        m.push_str(&plain);
    }
    if let Some(size) = att {
        let mut data = vec![0u8; size];
        rand::thread_rng().fill_bytes(&mut data);
        m.push_str("--outer\r\nContent-Type: application/octet-stream; name=\"screenshot.bin\"\r\nContent-Disposition: attachment; filename=\"screenshot.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n");
        m.push_str(&base64_lines(&data));
    }
    m.push_str("--outer--\r\n");
    m
}

#[path = "bench_mbox/realistic.rs"]
mod realistic;

fn main() -> Result<(), String> {
    let a = args()?;
    let signer = match &a.dkim {
        Some((path, domain, selector)) => {
            let der = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
            let key = RsaKey::<Sha256>::from_key_der(PrivateKeyDer::Pkcs8(der.into()))
                .map_err(|e| format!("{}: not a PKCS#8 RSA key: {e}", path.display()))?;
            Some(DkimSigner::from_key(key).domain(domain).selector(selector).headers(SIGNED))
        }
        None => None,
    };
    let domain = a.dkim.as_ref().map_or("example.org", |d| d.1.as_str()).to_string();
    if a.files {
        std::fs::create_dir_all(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
    }
    let mut mbox = if a.files {
        None
    } else {
        let f = std::fs::File::create(&a.out).map_err(|e| format!("{}: {e}", a.out.display()))?;
        Some(BufWriter::with_capacity(1 << 20, f))
    };
    for i in 1..=a.n {
        let mut m = if a.realistic { realistic::message(i, a.senders, &domain) } else { message(i, &a, &domain) };
        if let Some(s) = &signer {
            let sig = s.sign(m.as_bytes()).map_err(|e| format!("signing message {i}: {e}"))?;
            m.insert_str(0, &sig.to_header());
        }
        // Dovecot stores LF and serves CRLF: the signed bytes come back.
        let lf = m.replace("\r\n", "\n");
        let written = match &mut mbox {
            Some(w) => write!(w, "From user@{domain} Mon Nov 23 10:00:00 2026\n{lf}\n"),
            None => std::fs::write(a.out.join(format!("{i:06}.eml")), lf),
        };
        written.map_err(|e| format!("writing message {i}: {e}"))?;
    }
    if let Some(mut w) = mbox {
        w.flush().map_err(|e| format!("{}: {e}", a.out.display()))?;
    }
    Ok(())
}
