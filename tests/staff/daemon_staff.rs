//! The whole daemon as support staff meet it: mail arrives in a real
//! Dovecot, triaged announces it in a real ngIRCd channel, staff claim and
//! reclassify from IRC, and the drafts follow in Drafts.


use std::time::Duration;

use crate::support::harness::*;
use crate::support::ircd::{Ircd, IrcClient};

const T: Duration = Duration::from_secs(30);
const CH: &str = "#support-staff";

#[tokio::test(flavor = "multi_thread")]
async fn new_mail_is_announced_claimed_and_reclassified_from_irc() {
    let ircd = Ircd::start();
    let s = setup_with("none", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    let mut mallory = IrcClient::connect(ircd.port, "mallory").await;
    mallory.join(CH).await;

    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "I do not use it any more, please delete my account."));
    s.dovecot.create("Sent");
    let child = spawn_daemon(&s);

    let notice = alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    assert!(notice.contains("account-deletion"), "{notice}");
    assert!(notice.contains("user1@example.net"), "{notice}");
    assert!(notice.contains("draft ready"), "{notice}");
    wait_drafts(&s, 1).await;

    mallory.say(CH, "!claim 1").await;
    mallory.said_by("triaged", CH, |t| t.contains("mallory") && !t.contains("claimed by"), T).await;

    alice.say(CH, "!claim 1").await;
    alice.said_by("triaged", CH, |t| t == crate::support::ircd::claimed("alice", 1), T).await;
    // The original message in INBOX shows who holds it.
    let deadline = tokio::time::Instant::now() + T;
    while !s.dovecot.flags("INBOX")[0].contains("triaged-claimed-alice") {
        assert!(tokio::time::Instant::now() < deadline, "claimed-by keyword: {:?}", s.dovecot.flags("INBOX"));
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Staff move the ticket to the rename procedure: a new draft follows,
    // and the deletion draft, now stale, is withdrawn.
    let stale = drafts(&s)[0].message_id.clone();
    alice.say(CH, "!reclassify 1 account-rename").await;
    let answer = alice.said_by("triaged", CH, |t| t.starts_with("#1 is now") || t.contains("not reclassified"), T).await;
    assert!(answer.starts_with("#1 is now account-rename"), "{answer}");
    let deadline = tokio::time::Instant::now() + T;
    loop {
        let d = drafts(&s);
        if d.len() == 1 && d[0].message_id != stale {
            assert!(d[0].subject.starts_with("Re: [#1]"), "the draft belongs to ticket 1");
            assert!(d[0].text.to_lowercase().contains("renaming accounts is not available"), "the rename answer");
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "the stale draft is replaced: {:?}", d.iter().map(|m| &m.message_id).collect::<Vec<_>>());
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // A reply from the sender joins the ticket instead of opening #2.
    s.dovecot.deliver(
        "INBOX",
        b"From: User 1 <user1@example.net>\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <r1@example.net>\r\nIn-Reply-To: <m1@example.net>\r\n\r\nThanks, I will do that.\r\n",
    );
    let reply = alice.said_by("triaged", CH, |t| t.starts_with("#1 reply from "), T).await;
    assert!(reply.contains("user1@example.net"), "{reply}");

    // The same tag from a stranger opens a ticket of its own.
    s.dovecot.deliver(
        "INBOX",
        b"From: Eve <eve@example.com>\r\nSubject: Re: [#1] yes, delete it\r\nMessage-ID: <e1@example.com>\r\nIn-Reply-To: <m1@example.net>\r\n\r\nyes\r\n",
    );
    alice.said_by("triaged", CH, |t| t.starts_with("#2 "), T).await;

    // Bob answers #1 from his mail client although Alice holds it: the
    // Sent folder shows it, the ticket is answered, the channel warned.
    s.dovecot.deliver(
        "Sent",
        b"From: Bob <bob@example.org>\r\nTo: user1@example.net\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <s1@example.org>\r\nIn-Reply-To: <m1@example.net>\r\n\r\nDone.\r\n",
    );
    let answered = alice.said_by("triaged", CH, |t| t.starts_with("#1 answered"), T).await;
    assert_eq!(
        answered,
        "#1 answered by bob@example.org — warning: sent by bob@example.org, but #1 is held by alice (alice@example.org)"
    );

    sigterm(child);
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"][0]["state"], "answered");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_quarantined_message_is_announced() {
    let ircd = Ircd::start();
    let s = setup_with("none", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    s.dovecot.deliver("INBOX", b"\x00\x01 not mail at all\r\n");
    // A one-shot pass posts its notices before it exits.
    let out = triaged(&s.config, &["run", "--once"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let line = alice.said_by("triaged", CH, |t| t.to_lowercase().contains("quarantine"), T).await;
    assert!(line.contains("cannot parse"), "{line}");
}
