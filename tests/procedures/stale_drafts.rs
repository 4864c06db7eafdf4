//! Drafts of ours that a later event made stale are withdrawn from Drafts,
//! by Message-ID, against a real Dovecot: after a reclassification (the new
//! procedure drafts its own) and once staff answered the ticket another
//! way. A copy staff edited is never touched.


use crate::support::harness::*;

fn message_ids(s: &Setup) -> Vec<String> {
    drafts(s).into_iter().map(|d| d.message_id).collect()
}

#[test]
fn a_reclassified_ticket_keeps_only_the_new_procedures_draft() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Refund please", "Please refund my last payment, I was charged twice."));
    run_once(&s);
    let old = message_ids(&s);
    assert_eq!(old.len(), 1);

    let out = triaged(&s.config, &["reclassify", "1", "account-rename"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    run_once(&s);
    let now = drafts(&s);
    assert_eq!(now.len(), 1, "the stale draft is withdrawn, the new one appended");
    assert_ne!(now[0].message_id, old[0]);
    assert!(now[0].text.contains("not available"), "the rename draft: {}", now[0].text);
}

#[test]
fn a_stale_draft_that_staff_edited_is_left_in_drafts() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Refund please", "Please refund my last payment, I was charged twice."));
    run_once(&s);
    let original = s.dovecot.messages("Drafts").remove(0);
    // Staff edited it in their mail client: same Message-ID, other bytes.
    let original = String::from_utf8(original).unwrap().replace("\r\n", "\n");
    let edited = original.replacen("\n\n", "\n\nEdited by Sam: please hold.\n\n", 1);
    assert_ne!(edited, original);
    s.dovecot.deliver("Drafts", edited.as_bytes());

    let out = triaged(&s.config, &["reclassify", "1", "account-rename"]);
    assert!(out.status.success());
    let log = String::from_utf8_lossy(&run_once(&s).stderr).into_owned();
    let left: Vec<String> = drafts(&s).into_iter().map(|d| d.text).collect();
    assert!(left.iter().any(|t| t.contains("Edited by Sam")), "the edited copy stays: {left:?}");
    assert!(left.iter().any(|t| t.contains("not available")), "the new draft is there");
    assert_eq!(left.len(), 2, "only the unedited copy is gone: {left:?}");
    assert!(log.contains("was edited by staff; left in Drafts"), "{log}");
}

#[test]
fn an_answered_ticket_has_no_draft_of_ours_left() {
    let s = setup();
    s.dovecot.create("Sent");
    s.dovecot.deliver("INBOX", &mail(1, "Rename my account", "Can you rename my account from ~bob to ~robert?"));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);
    // Staff wrote their own answer instead of sending the draft.
    s.dovecot.deliver(
        "Sent",
        b"From: Sam <support@example.org>\r\nTo: user1@example.net\r\nSubject: Re: [#1] Rename my account\r\nMessage-ID: <own1@example.org>\r\nIn-Reply-To: <m1@example.net>\r\n\r\nWe cannot rename accounts yet, sorry.\r\n",
    );
    // The Sent folder's pass plans the withdrawal; the inbox's carries it
    // out (in the next pass when both run at once).
    run_once(&s);
    run_once(&s);
    assert!(drafts(&s).is_empty(), "the stale draft is withdrawn");
    let v: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
    assert_eq!(v["tickets"][0]["state"], "answered");
    assert_eq!(v["pending_actions"], 0);
}

/// Staff forward a request to a colleague to ask about it (the `[#N]`
/// tag in the subject names the ticket): the user has no answer yet. The
/// ticket is not answered, and our draft stays for staff to send.
#[test]
fn a_forward_to_a_colleague_answers_nobody_and_leaves_our_draft() {
    let s = setup();
    s.dovecot.create("Sent");
    s.dovecot.deliver("INBOX", &mail(1, "Rename my account", "Can you rename my account from ~bob to ~robert?"));
    run_once(&s);
    let ours = message_ids(&s);
    assert_eq!(ours.len(), 1);
    let state = |s: &Setup| {
        let v: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
        v["tickets"][0]["state"].clone()
    };
    let before = state(&s);
    s.dovecot.deliver(
        "Sent",
        b"From: Sam <support@example.org>\r\nTo: dana@colleague.example\r\nSubject: Fwd: [#1] Rename my account\r\nMessage-ID: <fwd1@example.org>\r\n\r\nDana, can we do this one?\r\n",
    );
    run_once(&s);
    run_once(&s);
    assert_eq!(message_ids(&s), ours, "our draft is still there to send");
    assert_eq!(state(&s), before);
    let shown = String::from_utf8_lossy(&triaged(&s.config, &["show", "1"]).stdout).into_owned();
    assert!(shown.contains("to dana@colleague.example, none of them the ticket's address: no answer, nothing changed"), "{shown}");
}
