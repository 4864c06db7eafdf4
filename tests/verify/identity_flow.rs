//! Identity inside a ticket, end to end: the draft hands out an SSH
//! challenge, the user signs exactly that text with a registered key and
//! replies, and the procedure moves on; a signature by any other key gets
//! the refusal instead. Staff-only facts never reach the user's draft.


use std::path::Path;

use crate::support::harness::*;
use crate::support::ssh::{challenge_text, keygen, sign};

fn setup_account(keys: &Path, two_factor: bool) -> Setup {
    let alice = keygen(keys, "alice");
    let accounts = keys.join("accounts.toml");
    std::fs::write(
        &accounts,
        format!(
            "[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\ntwo_factor = {two_factor}\nssh_keys = [\"{alice}\"]\n"
        ),
    )
    .unwrap();
    // Nothing may leave loopback: the resolver is a closed local port.
    setup_with(
        "none",
        &format!(
            "[identity]\naccounts = \"{}\"\n[dns]\nnameservers = [\"127.0.0.1:9\"]\ntimeout_secs = 1\n",
            accounts.display()
        ),
    )
}

const REQUEST: &[u8] = b"From: Alice <alice@example.org>\r\nTo: support@example.org\r\nSubject: Please disable 2FA on my account\r\nMessage-ID: <req@example.org>\r\n\r\nI lost my phone and cannot log in; please disable two-factor authentication.\r\n";

/// A request one factor is enough for (on an account without 2FA). Its
/// subject is its own: a 2FA subject over an aid body is a mixed request,
/// which the pack leaves to a person.
const AID: &[u8] = b"From: Alice <alice@example.org>\r\nTo: support@example.org\r\nSubject: I can no longer pay for my account\r\nMessage-ID: <req@example.org>\r\n\r\nI am a student and cannot afford the subscription any more.\r\n";

fn reply(signature: &str) -> Vec<u8> {
    format!(
        "From: Alice <alice@example.org>\r\nTo: support@example.org\r\nSubject: Re: [#1] Please disable 2FA on my account\r\nMessage-ID: <rep@example.org>\r\nIn-Reply-To: <req@example.org>\r\nReferences: <req@example.org>\r\n\r\nHere is the signature.\r\n\r\n{}\r\n",
        signature.replace('\n', "\r\n")
    )
    .into_bytes()
}

#[test]
fn a_signed_challenge_verifies_the_sender_and_the_procedure_moves_on() {
    let keys = tempfile::tempdir().unwrap();
    let s = setup_account(keys.path(), false);
    s.dovecot.deliver("INBOX", AID);
    run_once(&s);

    let first = drafts(&s);
    assert_eq!(first.len(), 1);
    let text = &first[0].text;
    assert!(text.contains("ssh-keygen -Y sign -n file"), "{text}");
    assert!(!text.contains("dkim"), "the verification report is staff-only: {text}");
    let challenge = challenge_text(text);
    assert!(challenge.contains("ticket #1"), "{challenge}");

    s.dovecot.deliver("INBOX", &reply(&sign(keys.path(), "alice", &challenge)));
    run_once(&s);
    // Verified: staff issue the zero invoice, and only then is the grant
    // drafted.
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"].as_array().unwrap().len(), 1, "no second ticket");
    assert_eq!(v["tickets"][0]["step"], "grant");
    assert!(v["tickets"][0]["staff_action"].is_string(), "{v}");
    assert_eq!(drafts(&s).len(), 1);
    let done = triaged(&s.config, &["done", "1"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    run_once(&s);
    let d = drafts(&s);
    assert_eq!(d.len(), 2, "the reply joins ticket #1 and gets its answer");
    let answer = &d.iter().find(|m| m.in_reply_to == ["rep@example.org"]).expect("reply to the reply").text;
    assert!(answer.contains("one year of\nfree service"), "{answer}");

    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"][0]["draft_waiting"], true, "open until the answer is sent: {v}");
}

/// A reply whose signature is by a key not on the account proves nothing:
/// it is kept for staff and changes nothing (a forged "reply" must not be
/// able to close someone's ticket either).
#[test]
fn a_challenge_signed_by_an_unregistered_key_changes_nothing() {
    let keys = tempfile::tempdir().unwrap();
    let s = setup_account(keys.path(), false);
    keygen(keys.path(), "mallory");
    s.dovecot.deliver("INBOX", AID);
    run_once(&s);
    let challenge = challenge_text(&drafts(&s)[0].text);

    s.dovecot.deliver("INBOX", &reply(&sign(keys.path(), "mallory", &challenge)));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1, "nothing drafted for it");
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"][0]["state"], "waiting");
    assert!(v["tickets"][0]["identity"].as_str().unwrap().contains("NOT verified"), "{}", v["tickets"][0]);
}

#[test]
fn with_two_factor_one_signature_is_not_enough() {
    let keys = tempfile::tempdir().unwrap();
    let s = setup_account(keys.path(), true);
    s.dovecot.deliver("INBOX", REQUEST);
    run_once(&s);
    let first = &drafts(&s)[0].text;
    assert!(first.contains("TWO of the proofs"), "{first}");
    let challenge = challenge_text(first);

    s.dovecot.deliver("INBOX", &reply(&sign(keys.path(), "alice", &challenge)));
    run_once(&s);
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_ne!(v["tickets"][0]["state"], "answered", "one factor must not disable 2FA on a 2FA account");
}
