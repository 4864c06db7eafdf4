//! Precedent case a20111128.3 through the whole daemon: the request waits
//! for the Support Engineer's facts, the initial mail sets the 14-day
//! deadline, silence past it leads to the on-hold mail (the last
//! certificate expired less than three months ago), the retention date
//! leads to the execution mail, and a confirmation goes straight to
//! execution. Arbitration sub-numbers come without gaps. The clock is moved
//! with `TRIAGED_NOW`, the daemon's rehearsal clock.

mod support;

use std::path::Path;
use std::process::{Command, Output};

use support::harness::*;

fn at(config: &Path, now: &str, args: &[&str]) -> Output {
    let out = Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(config)
        .args(args)
        .env("TRIAGED_NOW", now)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn ticket(s: &Setup, n: u64) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
    v["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["ticket"] == n)
        .cloned()
        .unwrap_or_else(|| panic!("no ticket #{n} in {v}"))
}

fn draft_texts(s: &Setup) -> Vec<String> {
    drafts(s).into_iter().map(|d| d.text).collect()
}

fn request(n: usize, from: &str) -> Vec<u8> {
    format!(
        "From: {from}\r\nTo: support@cacert.org\r\nSubject: Please delete my account\r\nMessage-ID: <del{n}@example.net>\r\n\r\nHello, please delete my CAcert account, I do not need it any more.\r\n"
    )
    .into_bytes()
}

#[test]
fn silence_then_retention_then_execution_and_a_confirmation_with_numbering() {
    let s = setup_pack("cacert", "");
    let day0 = "2026-12-01T09:00:00Z";

    // Ticket 1: the request waits for the facts; no mail goes out yet.
    s.dovecot.deliver("INBOX", &request(1, "Ann <ann@example.net>"));
    at(&s.config, day0, &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "facts-needed");
    assert!(drafts(&s).is_empty(), "nothing is sent before the preconditions are known");

    // The Support Engineer records them: no assurances, no active
    // certificates, the last one expired on 2026-11-15.
    at(&s.config, day0, &["set", "1", "assurances=0", "active_certificates=0", "last_certificate_expiry=2026-11-15"]);
    at(&s.config, day0, &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "initial");
    assert_eq!(t["state"], "waiting");
    assert!(t["next_deadline"].as_str().unwrap().starts_with("2026-12-15T09:00:00"), "14 days: {t}");
    let initial = draft_texts(&s);
    assert_eq!(initial.len(), 1);
    assert!(initial[0].contains("deadline set to: 2026-12-15"), "{}", initial[0]);

    // Day 13: nothing fires yet.
    at(&s.config, "2026-12-14T09:00:00Z", &["run", "--once"]);
    assert_eq!(drafts(&s).len(), 1);

    // Day 15, silence: the certificate expired less than 3 months ago, so
    // the deletion is on hold until 2027-02-15.
    at(&s.config, "2026-12-16T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "on-hold");
    let texts = draft_texts(&s);
    assert_eq!(texts.len(), 2);
    let hold = texts.iter().find(|t| t.contains("on hold")).expect("on-hold mail");
    assert!(hold.contains("until 2027-02-15"), "{hold}");
    assert!(hold.contains("which is 2026-11-15"), "{hold}");

    // Ticket 2 confirms within the window and has no certificates at all.
    s.dovecot.deliver("INBOX", &request(2, "Bo <bo@example.org>"));
    at(&s.config, "2026-12-20T09:00:00Z", &["run", "--once"]);
    at(&s.config, "2026-12-20T09:00:00Z", &["set", "2", "assurances=0", "active_certificates=0"]);
    at(&s.config, "2026-12-20T09:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 2)["step"], "initial");
    s.dovecot.deliver(
        "INBOX",
        b"From: Bo <bo@example.org>\r\nSubject: Re: [#2] Please delete my account\r\nMessage-ID: <conf2@example.org>\r\nIn-Reply-To: <del2@example.net>\r\n\r\nYes, I confirm the deletion and accept the arbitration.\r\n",
    );
    at(&s.config, "2026-12-21T09:00:00Z", &["run", "--once"]);
    let t2 = ticket(&s, 2);
    assert_eq!(t2["step"], "execute");
    assert_eq!(t2["state"], "closed");
    assert_eq!(t2["case_number"], "a20111128.3.1");
    assert!(draft_texts(&s).iter().any(|t| t.contains("terminated on 2026-12-21")));

    // The retention date passes: ticket 1 is executed and gets the next
    // number, with no gap.
    at(&s.config, "2027-02-15T10:00:00Z", &["run", "--once"]);
    let t1 = ticket(&s, 1);
    assert_eq!(t1["step"], "execute");
    assert_eq!(t1["state"], "closed");
    assert_eq!(t1["case_number"], "a20111128.3.2");
    assert!(draft_texts(&s).iter().any(|t| t.contains("terminated on 2027-02-15")));

    // Every deadline fired once: a later pass adds nothing.
    let before = drafts(&s).len();
    at(&s.config, "2027-06-01T10:00:00Z", &["run", "--once"]);
    assert_eq!(drafts(&s).len(), before);
}
