//! Precedent case a20111128.3 through the whole daemon: the request waits
//! for the Support Engineer's facts, the initial mail sets the 14-day
//! deadline, silence past it leads to the on-hold mail (the last
//! certificate expired less than three months ago), the retention date
//! leads to the execution, and a confirmation goes straight to it. The SE
//! executes (`triaged done N`), and only then is "I executed" drafted,
//! dated that day. Arbitration sub-numbers come without gaps. A reply that
//! the request was sent by accident executes nothing. The clock is moved
//! with `TRIAGED_NOW`, the daemon's rehearsal clock.


use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use crate::support::harness::*;

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
        "From: {from}\r\nTo: support@cacert.org\r\nSubject: Please delete my account\r\nMessage-ID: <del{n}@example.net>\r\nDate: Sat, 28 Nov 2026 18:00:00 +0000\r\n\r\nHello, please delete my CAcert account, I do not need it any more.\r\n"
    )
    .into_bytes()
}

/// A reply to our latest draft for ticket `n`, as a mail client threads it.
fn reply(s: &Setup, n: usize, from: &str, text: &str) -> Vec<u8> {
    let ours = our_latest_draft(s, n as u64);
    format!(
        "From: {from}\r\nSubject: Re: [#{n}] Please delete my account\r\nMessage-ID: <re{n}@example.org>\r\nIn-Reply-To: <{ours}>\r\nReferences: <del{n}@example.net> <{ours}>\r\n\r\n{text}\r\n"
    )
    .into_bytes()
}

/// Ann's deletion request, its facts recorded: the initial mail asks her
/// to confirm or to say it was sent by accident.
fn waiting_for_a_reply() -> Setup {
    let s = setup_pack("cacert", "");
    initial_mail_to_ann(&s);
    s
}

/// Ann's request on 2026-12-01, no assurances, no certificates: the
/// initial mail is drafted.
fn initial_mail_to_ann(s: &Setup) {
    let day0 = "2026-12-01T09:00:00Z";
    s.dovecot.deliver("INBOX", &request(1, "Ann <ann@example.net>"));
    at(&s.config, day0, &["run", "--once"]);
    at(&s.config, day0, &["set", "1", "assurances=0", "active_certificates=0"]);
    at(&s.config, day0, &["run", "--once"]);
    assert_eq!(ticket(s, 1)["step"], "initial");
}

/// Ann's reply with `content_type` and this body, in UTF-8.
fn reply_as(s: &Setup, content_type: &str, body: &str) -> Vec<u8> {
    let ours = our_latest_draft(s, 1);
    format!(
        "From: Ann <ann@example.net>\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <re1@example.org>\r\n\
         In-Reply-To: <{ours}>\r\nReferences: <del1@example.net> <{ours}>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

fn status_text(s: &Setup) -> String {
    String::from_utf8(triaged(&s.config, &["status"]).stdout).unwrap()
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
    assert!(t["next_deadline"].as_str().unwrap().starts_with("2026-12-16T00:00:00"), "once the 14th day has passed: {t}");
    let initial = draft_texts(&s);
    assert_eq!(initial.len(), 1);
    assert!(initial[0].contains("deadline set to: 2026-12-15"), "{}", initial[0]);
    // "deletion request dated": the request's own date, not the day the
    // facts were recorded.
    assert!(initial[0].contains("deletion request dated 2026-11-28."), "{}", initial[0]);

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
    s.dovecot.deliver("INBOX", &reply(&s, 2, "Bo <bo@example.org>", "Yes, I confirm the deletion and accept the arbitration."));
    at(&s.config, "2026-12-21T09:00:00Z", &["run", "--once"]);
    let t2 = ticket(&s, 2);
    assert_eq!(t2["step"], "execute");
    assert_eq!(t2["state"], "new", "open until the SE has executed: {t2}");
    assert_eq!(t2["case_number"], "a20111128.3.1");
    assert!(t2["staff_action"].as_str().unwrap().contains("anonymise the account"), "{t2}");
    assert!(!draft_texts(&s).iter().any(|t| t.contains("I executed")), "nothing says executed before the SE executed");
    let status = status_text(&s);
    assert!(status.contains("#2     waiting for staff account-deletion/execute"), "{status}");
    assert!(status.contains("queue SE, issue type Delete account precedent"), "{status}");
    assert!(status.contains("anonymising string a20111128.3.1"), "the staff note is shown: {status}");

    // The SE executes the next day: "I executed", dated that day.
    at(&s.config, "2026-12-22T15:00:00Z", &["done", "2"]);
    at(&s.config, "2026-12-22T15:00:00Z", &["run", "--once"]);
    let t2 = ticket(&s, 2);
    assert_eq!((t2["step"].as_str(), t2["draft_waiting"].as_bool()), (Some("executed"), Some(true)), "{t2}");
    assert!(draft_texts(&s).iter().any(|t| t.contains("terminated on 2026-12-22")));
    assert!(status_text(&s).contains("#2     draft waiting"), "open until the mail is sent");

    // The retention date passes: ticket 1 is executed and gets the next
    // number, with no gap.
    at(&s.config, "2027-02-15T10:00:00Z", &["run", "--once"]);
    let t1 = ticket(&s, 1);
    assert_eq!(t1["step"], "execute");
    assert_eq!(t1["case_number"], "a20111128.3.2");
    at(&s.config, "2027-02-16T10:00:00Z", &["done", "1"]);
    at(&s.config, "2027-02-16T10:00:00Z", &["run", "--once"]);
    assert!(draft_texts(&s).iter().any(|t| t.contains("terminated on 2027-02-16")));

    // The documentation table at the end of the precedent case.
    let table = at(&s.config, "2027-02-16T10:00:00Z", &["document", "a20111128.3"]);
    assert_eq!(
        String::from_utf8(table.stdout).unwrap(),
        "| ticket | arbitration_number | cca_termination_date |\n|---|---|---|\n| 2 | a20111128.3.1 | 2026-12-22 |\n| 1 | a20111128.3.2 | 2027-02-16 |\n"
    );
    let csv = at(&s.config, "2027-02-16T10:00:00Z", &["document", "a20111128.3", "--csv"]);
    assert!(String::from_utf8(csv.stdout).unwrap().ends_with("1,a20111128.3.2,2027-02-16\r\n"));

    // Every deadline fired once: a later pass adds nothing.
    let before = drafts(&s).len();
    at(&s.config, "2027-06-01T10:00:00Z", &["run", "--once"]);
    assert_eq!(drafts(&s).len(), before);
}

/// "if the user confirms the deletion, continue ... otherwise see what
/// has to be done": Ann first asks a question, which goes to the SE
/// (`review`); once answered, she confirms, and the case goes on to the
/// execution with the next number. Before, her yes at `review` was only
/// handed to a person, and nothing but a restart with a second initial
/// mail and another 14 days could reach the execution.
#[test]
fn a_confirmation_after_a_question_goes_on_to_the_execution() {
    let s = waiting_for_a_reply();
    s.dovecot.deliver("INBOX", &reply(&s, 1, "Ann <ann@example.net>", "Before I confirm: will my domains be removed too?"));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "review");

    let yes = String::from_utf8(reply(&s, 1, "Ann <ann@example.net>", "Yes, I confirm the deletion and accept the arbitration.")).unwrap();
    s.dovecot.deliver("INBOX", yes.replace("<re1@example.org>", "<re1b@example.org>").as_bytes());
    at(&s.config, "2026-12-03T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["case_number"].as_str()), (Some("execute"), Some("a20111128.3.1")), "{t}");
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("anonymise the account")), "{t}");
    assert!(t["needs_person"].is_null(), "{t}");
}

#[test]
fn a_reply_that_the_request_was_sent_by_accident_deletes_nothing_and_uses_no_number() {
    let s = waiting_for_a_reply();

    s.dovecot.deliver("INBOX", &reply(&s, 1, "Ann <ann@example.net>", "yes, it was sent by accident, do NOT delete"));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("withdrawn"), Some("closed")), "{t}");
    assert!(t["case_number"].is_null(), "no arbitration number used: {t}");
    assert!(t["staff_note"].as_str().unwrap().contains("sent by accident"), "staff are told: {t}");
    assert_eq!(drafts(&s).len(), 1, "no execution mail");

    // The 14-day deadline passes: nothing happens to a withdrawn request.
    at(&s.config, "2026-12-20T09:00:00Z", &["run", "--once"]);
    assert_eq!(drafts(&s).len(), 1);
    assert!(ticket(&s, 1)["next_deadline"].is_null());
    let out = triaged(&s.config, &["document", "a20111128.3"]);
    assert!(!out.status.success(), "an empty table says so");
    assert_eq!(String::from_utf8(out.stdout).unwrap(), "| ticket | arbitration_number | cca_termination_date |\n|---|---|---|\n");
}

/// Ann's case locked on hold; she writes what no step covers ("I'd like
/// to keep it after all"), which goes to a person, and the retention date
/// then moves the case on to the execution.
fn a_reply_on_hold_then_the_retention_date() -> Setup {
    let s = a_reply_on_hold();
    at(&s.config, "2027-02-15T10:00:00Z", &["run", "--once"]);
    s
}

/// Ann's request on 2026-12-01, her last certificate expired on
/// 2026-11-15: the initial mail is drafted, and her confirmation would put
/// the case on hold.
fn initial_mail_with_a_retention_time() -> Setup {
    let s = setup_pack("cacert", "");
    s.dovecot.create("Sent");
    let day0 = "2026-12-01T09:00:00Z";
    s.dovecot.deliver("INBOX", &request(1, "Ann <ann@example.net>"));
    at(&s.config, day0, &["run", "--once"]);
    at(&s.config, day0, &["set", "1", "assurances=0", "active_certificates=0", "last_certificate_expiry=2026-11-15"]);
    at(&s.config, day0, &["run", "--once"]);
    s
}

/// Ann confirmed, her account is locked on hold, and on 2027-01-10 she
/// writes `text` in answer to our latest mail.
fn locked_then_her_reply(text: &str) -> Setup {
    let s = initial_mail_with_a_retention_time();
    s.dovecot.deliver("INBOX", &reply(&s, 1, "Ann <ann@example.net>", "Yes, I confirm."));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "on-hold");
    at(&s.config, "2026-12-02T10:00:00Z", &["done", "1"]);
    at(&s.config, "2026-12-02T10:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "locked");

    let mut later = reply(&s, 1, "Ann <ann@example.net>", text);
    later = String::from_utf8(later).unwrap().replace("<re1@example.org>", "<re1b@example.org>").into_bytes();
    s.dovecot.deliver("INBOX", &later);
    at(&s.config, "2027-01-10T09:00:00Z", &["run", "--once"]);
    s
}

/// Ann's case locked on hold, and her reply that no step covers before a
/// person.
fn a_reply_on_hold() -> Setup {
    let s = locked_then_her_reply("My son sent the request. I would like to keep it after all.");
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "locked", "{t}");
    assert!(t["needs_person"].as_str().unwrap_or_default().contains("a reply (other)"), "{t}");
    s
}

/// "otherwise see what has to be done": a reply while the deletion is on
/// hold that no step covers ("I'd like to keep it after all") goes to a
/// person, and the retention date does not make it disappear: the SE told
/// to execute is told of it too, in `status` as in the channel.
#[test]
fn a_reply_while_on_hold_is_still_before_staff_when_the_retention_date_moves_the_case_on() {
    let s = a_reply_on_hold_then_the_retention_date();
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "execute", "{t}");
    let person = t["needs_person"].as_str().unwrap_or_default();
    assert!(person.contains("a reply (other)") && person.contains("deadline retention"), "{t}");
    assert!(status_text(&s).contains("needs a person: a reply (other)"), "{}", status_text(&s));
}

/// A bounce our own receiving server flagged as spam (backscatter from a
/// forger's run) stays set aside like other spam: it hands no ticket to a
/// person and the 14 days run on.
#[test]
fn a_bounce_our_server_flagged_as_spam_stops_nothing() {
    let s = setup_pack("cacert", "[intake]\nreceiving_server = \"mx.example.org\"\n");
    initial_mail_to_ann(&s);
    let armed = ticket(&s, 1)["next_deadline"].clone();
    let flagged = format!(
        "Received: from mx.example.org by mx.example.org (Dovecot) with LMTP id 7; Wed, 02 Dec 2026 09:00:02 +0000\r\n\
         X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=12.0 required=5.0\r\n\
         Received: from bad.example (bad.example [192.0.2.9])\r\n\tby mx.example.org (Postfix) with ESMTP id 5A; Wed, 02 Dec 2026 09:00:01 +0000\r\n{}",
        forged_bounce_for_ann("backscatter")
    );
    s.dovecot.deliver("INBOX", flagged.as_bytes());
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["next_deadline"], armed, "the 14 days run on: {t}");
    assert!(t["needs_person"].is_null(), "{t}");
}

/// The member agreed and the account is locked until the retention date.
/// A bounce, which anyone can forge, asks a person to look, but stops
/// nothing the member already agreed to: only a step that takes a
/// confirmation could take silence for one. Before, it disarmed the
/// retention date and told staff `!reclassify` would start over.
#[test]
fn a_bounce_after_the_member_agreed_stops_no_retention_date() {
    let s = a_reply_on_hold();
    let armed = ticket(&s, 1)["next_deadline"].clone();
    assert!(armed.is_string(), "the retention date is armed");
    s.dovecot.deliver("INBOX", forged_bounce_for_ann("forged-locked").as_bytes());
    at(&s.config, "2027-01-11T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["next_deadline"], armed, "the retention date stands: {t}");
    let person = t["needs_person"].as_str().unwrap_or_default();
    assert!(person.contains("bounced") && !person.contains("!reclassify"), "{t}");
    at(&s.config, "2027-02-15T10:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "execute", "the retention date moved it on: {}", ticket(&s, 1));
}

/// Our draft `containing` these words as the Sent folder files it once
/// staff send it unedited.
fn sent_as_drafted(s: &Setup, containing: &str, date: &str) -> Vec<u8> {
    let i = draft_texts(s).iter().position(|t| t.contains(containing)).expect("the draft");
    sent_copy(&s.dovecot.messages("Drafts")[i], "<sent-hold@cacert.org>", date, |b| b.replace('\n', "\r\n"))
}

/// Staff who answer Ann's reply from their mail client have looked at it:
/// "needs a person" goes, from `status` too. Not so for the on-hold mail
/// drafted before her reply and sent as drafted later: it answers what
/// came before her words, not them.
#[test]
fn staff_answering_the_reply_by_mail_clears_needs_a_person_and_our_older_draft_does_not() {
    let s = a_reply_on_hold_then_the_retention_date();
    let sent_later = "Tue, 16 Feb 2027 09:00:00 +0000";
    s.dovecot.deliver("Sent", &sent_as_drafted(&s, "on hold", sent_later));
    at(&s.config, "2027-02-16T10:00:00Z", &["run", "--once"]);
    assert!(ticket(&s, 1)["needs_person"].as_str().is_some(), "{}", ticket(&s, 1));

    s.dovecot.deliver(
        "Sent",
        format!(
            "From: SE <support@cacert.org>\r\nTo: ann@example.net\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <se1@cacert.org>\r\n\
             In-Reply-To: <re1b@example.org>\r\nDate: {sent_later}\r\n\r\nDear Ann, we keep your account: nothing will be deleted.\r\n"
        )
        .as_bytes(),
    );
    at(&s.config, "2027-02-16T10:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert!(t["needs_person"].is_null(), "{t}");
    assert!(!status_text(&s).contains("needs a person"), "{}", status_text(&s));
}

/// Staff sent the initial mail from their mail client while triaged was
/// stopped; Ann confirmed, and the on-hold mail was drafted for her
/// answer before the Sent folder's copy of the initial mail was read (the
/// inbox's pass came first). That copy, written before her answer, answers
/// what came before it: the on-hold mail stays in Drafts to be sent, and
/// the ticket still waits for it.
#[test]
fn staff_mail_written_before_the_users_answer_leaves_the_draft_made_for_it() {
    let s = initial_mail_with_a_retention_time();
    let initial = sent_copy(&s.dovecot.messages("Drafts")[0], "<sent-initial@cacert.org>", "Tue, 01 Dec 2026 10:00:00 +0000", |b| b.to_string());
    s.dovecot.deliver("INBOX", &reply(&s, 1, "Ann <ann@example.net>", "Yes, I confirm."));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "on-hold");
    assert!(draft_texts(&s).iter().any(|t| t.contains("on hold")), "{:?}", draft_texts(&s));

    s.dovecot.deliver("Sent", &initial);
    at(&s.config, "2026-12-02T09:05:00Z", &["run", "--once"]);
    at(&s.config, "2026-12-02T09:05:00Z", &["run", "--once"]);
    assert!(draft_texts(&s).iter().any(|t| t.contains("on hold")), "the on-hold mail is still to be sent: {:?}", draft_texts(&s));
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["draft_waiting"].as_bool()), (Some("on-hold"), Some(true)), "{t}");
    let history = String::from_utf8(triaged(&s.config, &["show", "1"]).stdout).unwrap();
    assert!(history.contains("answered by"), "{history}");
}

/// triaged was stopped while Ann confirmed (08:00) and the SE answered
/// her by hand (08:30, "your account is on hold", In-Reply-To her
/// answer); started again at 09:00, it drafts the on-hold mail for her
/// answer (the inbox's pass first) and then reads the SE's answer in
/// Sent. Dated before the draft was made, it still answers what the
/// draft answers: the draft goes and the ticket is answered.
#[test]
fn staff_mail_written_after_the_users_answer_while_triaged_was_stopped_withdraws_the_draft_made_for_it() {
    let s = initial_mail_with_a_retention_time();
    let initial = sent_copy(&s.dovecot.messages("Drafts")[0], "<sent-initial@cacert.org>", "Tue, 01 Dec 2026 10:00:00 +0000", |b| b.to_string());
    s.dovecot.deliver("Sent", &initial);
    at(&s.config, "2026-12-01T10:05:00Z", &["run", "--once"]);

    let ours = "sent-initial@cacert.org";
    s.dovecot.deliver(
        "INBOX",
        format!(
            "From: Ann <ann@example.net>\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <re1@example.org>\r\n\
             In-Reply-To: <{ours}>\r\nReferences: <del1@example.net> <{ours}>\r\nDate: Wed, 02 Dec 2026 08:00:00 +0000\r\n\r\nYes, I confirm.\r\n"
        )
        .as_bytes(),
    );
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    assert!(draft_texts(&s).iter().any(|d| d.contains("on hold")), "{:?}", draft_texts(&s));
    s.dovecot.deliver(
        "Sent",
        b"From: SE <support@cacert.org>\r\nTo: ann@example.net\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <se-hold@cacert.org>\r\n\
          In-Reply-To: <re1@example.org>\r\nDate: Wed, 02 Dec 2026 08:30:00 +0000\r\n\r\nDear Ann, your account is locked and kept until its retention date.\r\n",
    );
    at(&s.config, "2026-12-02T09:05:00Z", &["run", "--once"]);
    at(&s.config, "2026-12-02T09:05:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    let history = String::from_utf8(triaged(&s.config, &["show", "1"]).stdout).unwrap();
    assert_eq!(t["step"], "on-hold", "{t}");
    assert!(!draft_texts(&s).iter().any(|d| d.contains("on hold")), "the SE answered her already: {history}");
    assert_ne!(t["draft_waiting"].as_bool(), Some(true), "{t}");
    assert!(history.contains("answered by") && !history.contains("it stays"), "{history}");
}

/// Ann's address forwards to another mailbox, and she answers the
/// initial mail from there: "do NOT delete". Her answer names our mail,
/// which only its recipients know, but comes from an address the ticket
/// is not about: it opens a ticket of its own and moves nothing, and the
/// ticket it names goes to a person with the 14 days stopped, so day 15
/// deletes nothing while staff read it. A list's public copy is no such
/// sign.
#[test]
fn an_answer_from_another_address_of_the_member_stops_the_fourteen_days() {
    let s = waiting_for_a_reply();
    s.dovecot.deliver("INBOX", &reply(&s, 1, "Ann <ann@other.example>", "No! Please do NOT delete my account."));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    assert_eq!(s.tickets().len(), 2, "her answer is a ticket of its own");
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "initial", "{t}");
    assert!(t["next_deadline"].is_null(), "the 14 days are stopped: {t}");
    let person = t["needs_person"].as_str().unwrap_or_default();
    assert!(person.contains("ann@other.example") && person.contains("#2"), "{t}");

    at(&s.config, "2026-12-16T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "initial", "silence deletes nothing: {t}");
}

/// Whoever learned our Message-ID (copied on the thread) may answer it
/// from address after address: the ticket goes to a person once, and
/// its "needs a person" says so once, not once a message.
#[test]
fn answers_from_other_addresses_that_name_our_mail_hand_the_ticket_over_once() {
    let s = waiting_for_a_reply();
    let ours = our_latest_draft(&s, 1);
    for (i, from) in ["ann@other.example", "x1@mallory.example", "x2@mallory.example"].iter().enumerate() {
        s.dovecot.deliver(
            "INBOX",
            format!(
                "From: {from}\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <named{i}@example.org>\r\n\
                 In-Reply-To: <{ours}>\r\nReferences: <del1@example.net> <{ours}>\r\n\r\nDo NOT delete it.\r\n"
            )
            .as_bytes(),
        );
    }
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    assert_eq!(s.tickets().len(), 4, "each answer is a ticket of its own");
    let t = ticket(&s, 1);
    assert!(t["next_deadline"].is_null(), "the 14 days are stopped: {t}");
    let person = t["needs_person"].as_str().unwrap_or_default();
    assert_eq!(person.matches("names our mail").count(), 1, "{t}");
}

/// "Bitte löschen Sie mein Konto nicht": the polite German order puts
/// "nicht" after the verb and its object. It takes the request back as
/// "Please do not delete my account" does: with the account locked on
/// hold, the lock is undone rather than the retention date moving the
/// case on to the execution.
#[test]
fn a_german_please_do_not_delete_my_account_takes_the_request_back() {
    let s = locked_then_her_reply("Bitte löschen Sie mein Konto nicht, ich brauche es noch.");
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "unlock", "{t}");
    at(&s.config, "2027-02-16T09:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "unlock", "the retention date executes nothing");
}

/// A reply as a phone types it: "don’t" with the typographic apostrophe
/// (U+2019), in UTF-8. It takes the request back as "don't" does.
#[test]
fn a_reply_typed_on_a_phone_that_says_dont_delete_deletes_nothing() {
    let s = waiting_for_a_reply();

    s.dovecot.deliver("INBOX", &reply_as(&s, "text/plain", "Yes \u{2014} I just checked, please don\u{2019}t delete it\r\n\r\nSent from my iPhone"));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("withdrawn"), Some("closed")), "{t}");
    assert!(t["case_number"].is_null(), "no arbitration number used: {t}");
    assert_eq!(drafts(&s).len(), 1, "no execution mail");
}

/// The initial mail quoted in HTML, as Gmail quotes it when it sends HTML
/// alone: a `blockquote`. The quote's "if this was sent by accident" is
/// ours, not Ann's: her own words confirm, and the confirmation goes
/// straight to the execution.
#[test]
fn a_confirmation_in_html_above_a_quote_of_our_mail_confirms() {
    let s = waiting_for_a_reply();
    let quoted: String = draft_texts(&s)[0].lines().map(|l| format!("{l}<br>")).collect();
    let html = format!(
        "<div dir=\"ltr\">Yes, I confirm the deletion and accept the arbitration.<div><br></div><div>Ann</div></div><br>\
         <div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Tue, Dec 1, 2026 at 9:00 AM CAcert support &lt;support@cacert.org&gt; wrote:<br></div>\
         <blockquote class=\"gmail_quote\" style=\"margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex\">{quoted}</blockquote></div>"
    );
    s.dovecot.deliver("INBOX", &reply_as(&s, "text/html", &html));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "execute", "{t}");
    assert_eq!(t["case_number"], "a20111128.3.1", "{t}");
}

/// Yahoo quotes the original without ">" below "On ..., X wrote:". What
/// is below may be ours or Ann's, so her "yes" above it is not taken as a
/// confirmation on that guess, and our quoted "sent by accident" is not
/// taken as her decline: a person reads it, and nothing is executed.
#[test]
fn a_yes_above_an_original_quoted_without_marks_goes_to_a_person() {
    let s = waiting_for_a_reply();
    let original = draft_texts(&s)[0].clone();
    let body = format!(
        "Yes, I confirm the deletion and accept the arbitration.\r\n\r\n\r\nOn Tuesday, December 1, 2026, 09:00:00 AM GMT, CAcert support <support@cacert.org> wrote:\r\n\r\n\r\n{}",
        original.replace('\n', "\r\n")
    );
    s.dovecot.deliver("INBOX", &reply_as(&s, "text/plain", &body));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("review"), Some("new")), "staff read it, it is neither executed nor withdrawn: {t}");
    assert!(t["case_number"].is_null(), "no arbitration number used: {t}");
}

/// A mail client shows the HTML of a multipart/alternative reply. A plain
/// part that confirms beside an HTML part that takes it back is no
/// confirmation: a person reads it, and nothing is executed.
#[test]
fn a_plain_yes_beside_an_html_no_executes_nothing() {
    let s = waiting_for_a_reply();
    let body = "--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYes, I confirm the deletion and accept the arbitration.\r\n\
                --alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Yes - NO WAIT, it was my son, leave the account as it is!</p>\r\n--alt--";
    s.dovecot.deliver("INBOX", &reply_as(&s, "multipart/alternative; boundary=\"alt\"", body));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("review"), Some("new")), "{t}");
    assert!(t["case_number"].is_null(), "no arbitration number used: {t}");
}

const CH: &str = "#support-staff";

/// A delivery status report from Ann's mail server, returning the mail
/// whose headers are `returned`, as Postfix writes one.
fn dsn(message_id: &str, failed: &str, returned: &str) -> Vec<u8> {
    format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: support@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\
         Message-ID: <{message_id}>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n\
         --b1\r\nContent-Type: text/plain\r\n\r\nThis is the mail system at host mx.example.net. Your message could not be delivered.\r\n\r\n\
         --b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n\
         Final-Recipient: rfc822; {failed}\r\nOriginal-Recipient: rfc822;{failed}\r\nAction: failed\r\nStatus: 5.1.1\r\n\
         Diagnostic-Code: smtp; 550 5.1.1 <{failed}>: Recipient address rejected:\r\n User unknown in virtual mailbox table\r\n\r\n\
         --b1\r\nContent-Type: text/rfc822-headers\r\n\r\n{returned}\r\n--b1--\r\n"
    )
    .into_bytes()
}

/// "if there is no response until the deadline, continue" takes silence
/// for consent; a notice that bounced was never read, so its silence is no
/// answer. The bounce (from MAILER-DAEMON, set aside as mail nobody
/// answers) returns the initial mail staff sent: it joins ticket #1 by that
/// mail's Message-ID, the 14 days stop, a person is told in the channel and
/// in `status`, and day 15 executes nothing. No draft answers the bounce.
#[tokio::test(flavor = "multi_thread")]
async fn cacert_a_bounced_deletion_notice_stops_the_fourteen_days_and_goes_to_a_person() {
    use crate::support::ircd::{IrcClient, Ircd, daemon_irc_section, privmsg_from};
    let ircd = Ircd::start();
    let s = setup_pack("cacert", &daemon_irc_section(&ircd, CH));
    s.dovecot.create("Sent");
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    initial_mail_to_ann(&s);
    // Staff send the initial mail as drafted.
    let sent = sent_copy(&s.dovecot.messages("Drafts")[0], "<sent-initial@example.org>", "Tue, 01 Dec 2026 10:00:00 +0000", |b| b.to_string());
    s.dovecot.deliver("Sent", &sent);
    at(&s.config, "2026-12-01T10:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["state"], "waiting");
    alice.drain(Duration::from_secs(2)).await;
    let drafted = drafts(&s).len();

    let returned = "From: Example Support <support@example.org>\r\nTo: Ann <ann@example.net>\r\nSubject: Re: [#1] Please delete my account\r\n\
                    Message-ID: <sent-initial@example.org>\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\n";
    s.dovecot.deliver("INBOX", &dsn("dsn1@mx.example.net", "ann@example.net", returned));
    at(&s.config, "2026-12-01T10:05:00Z", &["run", "--once"]);
    let said: Vec<String> = alice
        .drain(Duration::from_secs(2))
        .await
        .iter()
        .filter_map(|l| privmsg_from(l, "triaged", CH).map(str::to_string))
        .filter(|l| !l.starts_with("#1 answered by"))
        .collect();
    assert_eq!(
        said,
        ["#1: our mail to ann@example.net bounced: 5.1.1 (smtp; 550 5.1.1 <ann@example.net>: Recipient address rejected: User unknown in virtual mailbox table); needs a person, no draft; deadline reminder stopped: silence after a notice that never arrived is no answer"],
    );
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("initial"), Some("new")), "{t}");
    assert!(t["next_deadline"].is_null(), "the 14 days are stopped: {t}");
    assert!(t["needs_person"].as_str().unwrap_or_default().starts_with("our mail to ann@example.net bounced (5.1.1"), "{t}");
    assert_eq!(s.tickets().len(), 1, "the bounce joined #1, no ticket of its own");
    assert!(drafts(&s).len() <= drafted, "no draft answers a bounce");
    let history = String::from_utf8(triaged(&s.config, &["show", "1"]).stdout).unwrap();
    assert!(history.contains("bounce dsn1@mx.example.net"), "{history}");

    // The same bounce again, as a server retries or anyone can send it a
    // thousand times: recorded, but the channel heard of it already.
    s.dovecot.deliver("INBOX", &dsn("dsn2@mx.example.net", "ann@example.net", returned));
    at(&s.config, "2026-12-01T10:10:00Z", &["run", "--once"]);
    let again: Vec<String> =
        alice.drain(Duration::from_secs(2)).await.iter().filter_map(|l| privmsg_from(l, "triaged", CH).map(str::to_string)).collect();
    assert!(!again.iter().any(|l| l.contains("bounced")), "{again:?}");
    let history = String::from_utf8(triaged(&s.config, &["show", "1"]).stdout).unwrap();
    assert!(history.contains("bounce dsn2@mx.example.net"), "{history}");

    // Day 15: silence, but nothing is executed, no number is used.
    at(&s.config, "2026-12-16T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "initial", "{t}");
    assert!(t["case_number"].is_null(), "{t}");
    assert!(drafts(&s).len() <= drafted, "no draft");
    assert!(status_text(&s).contains("needs a person: our mail to ann@example.net bounced"), "{}", status_text(&s));
}

/// A bounce is unsigned: anyone can write one naming `[#1]` and Ann's
/// address. It may only delay: the ticket goes to a person and stops
/// counting silence, but it neither moves on nor closes, and Ann's own
/// confirmation still moves it. A bounce of mail that is not ours (the tag
/// with another address, a Message-ID we never sent) stays set aside.
#[test]
fn a_forged_bounce_only_hands_the_ticket_to_a_person() {
    let s = waiting_for_a_reply();
    let classic = |n: usize, failed: &str, quoted: &str| {
        format!(
            "From: Mail Delivery System <Mailer-Daemon@evil.example>\r\nTo: support@example.org\r\nSubject: Mail delivery failed: returning message to sender\r\n\
             Message-ID: <forged{n}@evil.example>\r\nX-Failed-Recipients: {failed}\r\nAuto-Submitted: auto-replied\r\n\r\n\
             This message was created automatically by mail delivery software.\r\n\r\nA message that you sent could not be delivered to one or more of its\r\n\
             recipients. This is a permanent error. The following address(es) failed:\r\n\r\n  {failed}\r\n    mailbox unavailable\r\n\r\n\
             ------ This is a copy of the message, including all the headers. ------\r\n\r\n{quoted}\r\nPlease confirm.\r\n"
        )
        .into_bytes()
    };
    let tagged = "From: support@example.org\r\nTo: ann@example.net\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <guessed@example.org>\r\n";
    // Not ours: the tag, but another address failed; a Message-ID we never sent.
    s.dovecot.deliver("INBOX", &classic(1, "bob@example.net", tagged));
    s.dovecot.deliver("INBOX", &classic(2, "ann@example.net", "Subject: your order\r\nMessage-ID: <shop1@shop.example>\r\n"));
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    for n in [2, 3] {
        assert_eq!(ticket(&s, n)["procedure"], "set-aside", "{}", ticket(&s, n));
    }
    assert!(ticket(&s, 1)["needs_person"].is_null(), "{}", ticket(&s, 1));

    s.dovecot.deliver("INBOX", &classic(3, "ann@example.net", tagged));
    at(&s.config, "2026-12-02T10:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("initial"), Some("new")), "neither moved on nor closed: {t}");
    assert!(t["needs_person"].as_str().unwrap_or_default().contains("bounced (Mail delivery failed"), "{t}");
    assert_eq!(s.tickets().len(), 3, "it joined #1");
    assert_eq!(drafts(&s).len(), 1, "no draft answers a bounce");
    at(&s.config, "2026-12-20T09:00:00Z", &["run", "--once"]);
    assert_eq!(ticket(&s, 1)["step"], "initial", "silence executes nothing");

    // Ann, who did get the mail, confirms: the procedure goes on.
    s.dovecot.deliver("INBOX", &reply(&s, 1, "Ann <ann@example.net>", "Yes, I confirm the deletion and accept the arbitration."));
    at(&s.config, "2026-12-21T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert_eq!(t["step"], "execute", "{t}");
    assert!(t["needs_person"].is_null(), "her answer shows the mail arrived: {t}");
}

/// A bounce anyone could write: from a mailer daemon of their own, naming
/// `[#1]` and Ann's address, returning a Message-ID nobody sent.
fn forged_bounce_for_ann(id: &str) -> String {
    format!(
        "From: Mail Delivery System <Mailer-Daemon@evil.example>\r\nTo: support@example.org\r\nSubject: Mail delivery failed\r\n\
         Message-ID: <{id}@evil.example>\r\nX-Failed-Recipients: ann@example.net\r\n\r\n\
         ------ This is a copy of the message, including all the headers. ------\r\n\r\n\
         Subject: Re: [#1] Please delete my account\r\nMessage-ID: <guessed-{id}@example.org>\r\n"
    )
}

/// Whoever sent the request in Ann's name can forge a bounce for `[#1]`
/// and her address. On a ticket a person is already needed for (Ann wrote
/// that she would like to keep her account), the bounce adds to that
/// reason; it never takes its place, where staff would read only "our
/// mail bounced ... `!reclassify` starts the procedure over".
#[test]
fn a_forged_bounce_keeps_the_reason_a_person_was_needed_for() {
    let s = a_reply_on_hold();
    s.dovecot.deliver("INBOX", forged_bounce_for_ann("forged-hold").as_bytes());
    at(&s.config, "2027-01-11T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    let person = t["needs_person"].as_str().unwrap_or_default();
    assert!(person.starts_with("a reply (other)") && person.contains("bounced (Mail delivery failed"), "{t}");
    assert!(status_text(&s).contains("needs a person: a reply (other)"), "{}", status_text(&s));
}

/// Ann's address forwards to her mailbox elsewhere, and that one is gone:
/// Exim returns our notice (its Message-ID, which only its recipients
/// know) naming the address it was forwarded to as the one that failed.
/// Ann never got the notice, so the 14 days stop as for any bounce.
#[test]
fn a_bounce_from_the_address_ann_forwards_to_stops_the_fourteen_days() {
    let s = waiting_for_a_reply();
    let ours = our_latest_draft(&s, 1);
    let exim = format!(
        "Return-Path: <>\r\nFrom: Mail Delivery System <Mailer-Daemon@mx.example.net>\r\nTo: support@example.org\r\n\
         Subject: Mail delivery failed: returning message to sender\r\nMessage-ID: <E1fwd-0001@mx.example.net>\r\n\
         X-Failed-Recipients: ann.old@mail.example.com\r\nAuto-Submitted: auto-replied\r\n\r\n\
         This message was created automatically by mail delivery software.\r\n\r\n\
         A message that you sent could not be delivered to one or more of its\r\nrecipients. This is a permanent error. The following address(es) failed:\r\n\r\n\
         \x20 ann.old@mail.example.com\r\n    (generated from ann@example.net)\r\n    SMTP error from remote mail server after RCPT TO:<ann.old@mail.example.com>:\r\n\
         \x20   550 5.1.1 user unknown\r\n\r\n------ This is a copy of the message, including all the headers. ------\r\n\r\n\
         Return-path: <support@example.org>\r\nFrom: Example Support <support@example.org>\r\nTo: Ann <ann@example.net>\r\n\
         Subject: Re: [#1] Please delete my account\r\nMessage-ID: <{ours}>\r\n\r\nPlease confirm.\r\n"
    );
    s.dovecot.deliver("INBOX", exim.as_bytes());
    at(&s.config, "2026-12-02T09:00:00Z", &["run", "--once"]);
    let t = ticket(&s, 1);
    assert!(t["needs_person"].as_str().unwrap_or_default().starts_with("our mail to ann@example.net bounced"), "{t}");
    assert!(t["next_deadline"].is_null(), "the 14 days are stopped: {t}");
    assert_eq!(s.tickets().len(), 1, "the bounce joined #1");
}
