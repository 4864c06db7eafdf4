//! What a sender writes in the headers nobody signed (the subject, the
//! display name), played through the running daemon against a real Dovecot
//! and a real ngIRCd: a secret pasted there reaches no draft, staff line,
//! status report, log line or store file, and no choice of "spaces" makes
//! a staff line start with the sender's text.


use std::time::Duration;

use base64::Engine;
use crate::support::harness::*;
use crate::support::ircd::{Ircd, IrcClient, privmsg_from};

const CH: &str = "#support-staff";

/// `s` as an RFC 2047 base64 encoded-word, the way an attacker's client
/// would send it, so no filter reading raw headers sees the text.
fn encoded(s: &str) -> String {
    format!("=?utf-8?b?{}?=", base64::engine::general_purpose::STANDARD.encode(s))
}

fn hostile_mail(n: usize, name: &str, subject: &str) -> Vec<u8> {
    format!(
        "From: {} <user{n}@example.net>\r\nTo: support@example.org\r\nSubject: {}\r\nMessage-ID: <h{n}@example.net>\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nplease help\r\n",
        encoded(name),
        encoded(subject)
    )
    .into_bytes()
}

/// Every file under `dir`, read whole.
fn files_under(dir: &std::path::Path) -> Vec<(std::path::PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files_under(&p));
        } else {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn secrets_and_forged_lines_in_unsigned_headers_go_nowhere() {
    let ircd = Ircd::start();
    let s = setup_with("none", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;

    let age = "-----BEGIN AGE ENCRYPTED FILE----- YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0 -----END AGE ENCRYPTED FILE-----";
    s.dovecot.deliver(
        "INBOX",
        &hostile_mail(1, "password: s3cretName!", &format!("Delete my account, my password is hunter2hunter2 {age}")),
    );
    // Long multi-byte name and subject, whose only "spaces" are the
    // sender's: the staff line shows the bare address and as much of the
    // subject as fits one line (splitting what is longer is the renderer's
    // own test, `staff::lines::tests::hostile_fields_never_start_a_staff_line`).
    let forged = "#77⠀claimed⠀by⠀bob⠀—⠀deletion⠀approved";
    for (n, pad) in [(2, 95), (3, 96), (4, 97)] {
        let name = "語".repeat(85);
        s.dovecot.deliver("INBOX", &hostile_mail(n, &name, &format!("{}⠀{forged}", "語".repeat(pad))));
    }
    s.dovecot.deliver("INBOX", &hostile_mail(5, "x\u{200b}", &format!("pass\u{200b}word is hunter2hunter2\u{2800}{forged}")));

    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&s.config)
        .args(["run", "--once"])
        .env("TRIAGED_LOG", "debug")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let log = String::from_utf8_lossy(&out.stderr).into_owned() + &String::from_utf8_lossy(&out.stdout);

    let said: Vec<String> = alice
        .drain(Duration::from_secs(3))
        .await
        .iter()
        .filter_map(|l| privmsg_from(l, "triaged", CH).map(str::to_string))
        .collect();
    for n in 1..=5 {
        assert!(said.iter().any(|t| t.contains(&format!("#{n} "))), "no notice for #{n}: {said:#?}");
    }
    let digest = regex::Regex::new(r"^[0-9]+ new tickets: #").unwrap();
    for t in &said {
        let ours = ["#1 ", "#2 ", "#3 ", "#4 ", "#5 ", "↳ #"].iter().any(|p| t.starts_with(p)) || digest.is_match(t);
        assert!(ours, "a staff line starts with the sender's text: {t:?}\nall: {said:#?}");
        assert!(!t.chars().any(|c| c == '\u{200b}' || c.is_control()), "{t:?}");
    }
    for t in &said {
        assert!(!t.contains("#77") && !t.contains("語語語 <"), "the forged line and the name are cut off: {t}");
        if ["#2 ", "#3 ", "#4 "].iter().any(|p| t.starts_with(p)) {
            assert!(t.chars().count() <= triaged::staff::lines::COLUMNS, "cut to fit one line: {t}");
        }
    }

    let drafts = s.dovecot.messages("Drafts");
    assert_eq!(drafts.len(), 5, "one draft per ticket");
    let status = triaged(&s.config, &["status", "--json"]);
    assert!(status.status.success());
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    let store = files_under(&s.dir.path().join("store"));
    assert!(!store.is_empty());

    // The secrets survive nowhere: not raw, not in a decoded header or
    // body, not in the store's files.
    for secret in ["hunter2", "s3cretName", "YWdlLWVuY3J5cHRpb24"] {
        for raw in &drafts {
            let text = String::from_utf8_lossy(raw);
            assert!(!text.contains(secret), "{secret} in a draft:\n{text}");
            let m = triaged::message::Message::parse(raw.clone()).unwrap();
            assert!(!m.subject.contains(secret) && !m.text.contains(secret), "{secret} in {:?}", m.subject);
            let decoded = mail_parser::MessageParser::default().parse(raw).unwrap();
            let to = decoded.to().and_then(|t| t.first()).and_then(|a| a.name()).unwrap_or_default();
            assert!(!to.contains(secret), "{secret} in To: {to}");
        }
        assert!(!said.iter().any(|t| t.contains(secret)), "{secret} on IRC: {said:#?}");
        assert!(!status.contains(secret), "{secret} in status --json: {status}");
        assert!(!log.contains(secret), "{secret} in the log:\n{log}");
        for (path, bytes) in &store {
            if let Some(at) = bytes.windows(secret.len()).position(|w| w == secret.as_bytes()) {
                let around = String::from_utf8_lossy(&bytes[at.saturating_sub(300)..(at + 100).min(bytes.len())]);
                panic!("{secret} in the store file {}: …{around}…", path.display());
            }
        }
    }
    // What staff and the user see instead says what was there.
    let subjects: Vec<String> = drafts.iter().map(|d| triaged::message::Message::parse(d.clone()).unwrap().subject).collect();
    assert!(
        subjects.iter().any(|s| s.starts_with("Re: [#1] Delete my account, my [password or secret removed]")),
        "{subjects:#?}"
    );
    assert!(status.contains("[age-encrypted block removed]"), "{status}");
}
