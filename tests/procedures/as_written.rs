//! The seeds' rules that decide what happens in a conversation, through the
//! running daemon against a real Dovecot (and a real ngIRCd for the staff
//! channel): staff see what they must do and say when it is done, a
//! drafted reply is not an answer until it is sent, and a user who did it
//! themselves gets no "we did it" mail.


use std::time::Duration;

use crate::support::harness::*;
use crate::support::ircd::{IrcClient, Ircd, privmsg_from};

const T: Duration = Duration::from_secs(30);
const CH: &str = "#support-staff";

fn status_json(s: &Setup) -> serde_json::Value {
    serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap()
}

fn status_text(s: &Setup) -> String {
    String::from_utf8(triaged(&s.config, &["status"]).stdout).unwrap()
}

/// The user's reply to our latest draft, as a mail client threads it.
fn reply_from_user(s: &Setup, n: usize, text: &str) -> Vec<u8> {
    let ours = our_latest_draft(s, n as u64);
    format!(
        "From: User {n} <user{n}@example.net>\r\nTo: support@example.org\r\nSubject: Re: [#{n}] request\r\nMessage-ID: <re{n}@example.net>\r\nIn-Reply-To: <{ours}>\r\nReferences: <m{n}@example.net> <{ours}>\r\n\r\n{text}\r\n"
    )
    .into_bytes()
}

fn sent_by_staff(n: usize) -> Vec<u8> {
    format!(
        "From: Support <support@example.org>\r\nTo: user{n}@example.net\r\nSubject: Re: [#{n}] request\r\nMessage-ID: <sent{n}@example.org>\r\nIn-Reply-To: <m{n}@example.net>\r\n\r\nSent as drafted.\r\n"
    )
    .into_bytes()
}

/// CAcert: "SE hijacks the account and anonymizes the account ... the user
/// needs to be informed that the execution was successful. The CCA
/// termination date is the date of the execution." The SE sees the action
/// in the channel (the notice, `!show`, `!queue`), says `!done 1`, and only
/// then is "I executed" drafted; the ticket stays open until it is sent.
#[tokio::test(flavor = "multi_thread")]
async fn the_se_sees_what_to_execute_and_i_executed_is_drafted_only_after_done() {
    let ircd = Ircd::start();
    let s = setup_pack("cacert", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    s.dovecot.create("Sent");
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "I do not use it any more, please delete my account."));
    let child = spawn_daemon(&s);
    alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    alice.say(CH, "!set 1 assurances=0 active_certificates=0").await;
    alice.said_by("triaged", CH, |t| t.starts_with("#1 ") && t.contains("now at step initial"), T).await;
    wait_drafts(&s, 1).await;

    s.dovecot.deliver("INBOX", &reply_from_user(&s, 1, "Yes, I confirm the deletion and accept the arbitration."));
    let notice = alice.said_by("triaged", CH, |t| t.starts_with("#1 reply from "), T).await;
    assert!(notice.contains("account-deletion/execute"), "{notice}");
    assert!(notice.contains("[queue SE, issue type Delete account precedent]"), "{notice}");
    assert!(
        notice.contains("staff action: hijack and anonymise the account following the Delete Account Procedure, then !done 1"),
        "{notice}"
    );

    alice.say(CH, "!show 1").await;
    let first = alice.said_by("triaged", CH, |t| t.starts_with("#1 account-deletion"), T).await;
    assert!(first.contains("waiting for staff, unclaimed"), "{first}");
    let lines = [
        alice.said_by("triaged", CH, |t| t.starts_with("#1 queue"), T).await,
        alice.said_by("triaged", CH, |t| t.starts_with("#1 staff action"), T).await,
        alice.said_by("triaged", CH, |t| t.starts_with("#1 staff note"), T).await,
    ];
    assert_eq!(lines[0], "#1 queue SE, issue type Delete account precedent");
    assert!(lines[1].ends_with("then !done 1"), "{}", lines[1]);
    assert!(lines[2].contains("anonymising string a20111128.3.1"), "{}", lines[2]);
    assert_eq!(s.dovecot.uids("Drafts").len(), 1, "nothing says executed before the SE executed");

    alice.say(CH, "!queue").await;
    let q = alice.said_by("triaged", CH, |t| t.starts_with("queue"), T).await;
    assert!(q.contains("#1 account-deletion (waiting for staff, unclaimed"), "{q}");

    alice.say(CH, "!done 1").await;
    let done = alice.said_by("triaged", CH, |t| t.starts_with("#1 staff action done"), T).await;
    assert_eq!(done, "#1 staff action done by alice; now at step executed, draft planned");
    wait_drafts(&s, 2).await;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    assert!(
        drafts(&s).iter().any(|d| d.text.contains(&format!("CCA [2] is terminated on {today}."))),
        "dated the day of the execution"
    );

    // Drafted is not sent: the ticket is open ("draft waiting") until the
    // reply shows up in Sent; then the step's own state (closed) holds.
    alice.say(CH, "!queue").await;
    let q = alice.said_by("triaged", CH, |t| t.starts_with("queue"), T).await;
    assert!(q.contains("#1 account-deletion (draft waiting, unclaimed"), "{q}");
    s.dovecot.deliver("Sent", &sent_by_staff(1));
    alice.said_by("triaged", CH, |t| t.starts_with("#1 answered"), T).await;
    sigterm(child);
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["state"].as_str(), t["draft_waiting"].as_bool()), (Some("closed"), Some(false)), "{t}");
    assert!(t["staff_action"].is_null() && t["staff_note"].is_null(), "nothing left to tell staff to do: {t}");
}

/// CAcert: a member who takes the request back while it is on hold closes
/// the case (`kept`) before anyone said the lock was set. A closed ticket
/// is not opened again, so the channel's notice of that move carries the
/// step's note itself: staff who locked the account already read there
/// that they must unlock it.
#[tokio::test(flavor = "multi_thread")]
async fn a_request_taken_back_on_hold_tells_the_channel_to_unlock_a_lock_already_set() {
    let ircd = Ircd::start();
    let s = setup_pack("cacert", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "I do not use it any more, please delete my account."));
    let child = spawn_daemon(&s);
    alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    let expiry = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date() - jiff::Span::new().days(40);
    alice.say(CH, &format!("!set 1 assurances=0 active_certificates=0 last_certificate_expiry={expiry}")).await;
    alice.said_by("triaged", CH, |t| t.starts_with("#1 ") && t.contains("now at step initial"), T).await;
    wait_drafts(&s, 1).await;
    s.dovecot.deliver("INBOX", &reply_from_user(&s, 1, "Yes, I confirm the deletion and accept the arbitration."));
    alice.said_by("triaged", CH, |t| t.starts_with("#1 reply from ") && t.contains("account-deletion/on-hold"), T).await;
    wait_drafts(&s, 2).await;

    let decline = String::from_utf8(reply_from_user(&s, 1, "I changed my mind, please do not delete my account.")).unwrap();
    s.dovecot.deliver("INBOX", decline.replace("<re1@example.net>", "<re1b@example.net>").as_bytes());
    let head = alice.said_by("triaged", CH, |t| t.starts_with("#1 reply from ") && t.contains("account-deletion/kept"), T).await;
    // A long notice goes out in pieces; staff read them one after another.
    let mut notice = head;
    for line in alice.drain(Duration::from_secs(1)).await {
        if let Some(more) = privmsg_from(&line, "triaged", CH).and_then(|t| t.strip_prefix("↳ #1 (cont.) ")) {
            notice = format!("{notice} {more}");
        }
    }
    sigterm(child);
    assert!(notice.contains("staff note: Ticket #1: the user took the deletion request back while it was on hold"), "{notice}");
    assert!(notice.contains("If you locked the account already, unlock it."), "{notice}");
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("kept"), Some("closed")), "{t}");
}

/// sourcehut: "Users can perform self-service account deletion ... This is
/// preferred to admin intervention". A reply that they did it themselves
/// asks for nothing more: the ticket closes, no "account has been
/// deleted" draft, no verification mail.
#[test]
fn a_user_who_deleted_the_account_themselves_gets_no_account_deleted_mail() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Delete my account", "Please delete my account."));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);
    assert!(drafts(&s)[0].text.contains("https://meta.sr.ht"), "self-service first");

    s.dovecot.deliver("INBOX", &reply_from_user(&s, 1, "Thanks, I deleted it myself."));
    run_once(&s);
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("nothing-more"), Some("closed")), "{t}");
    assert_eq!(drafts(&s).len(), 1, "nothing more is drafted");
}

/// "answered" means a reply was sent: a drafted answer leaves the ticket
/// open ("draft waiting") in `status` until the Sent folder shows it.
#[test]
fn a_drafted_answer_is_open_until_the_sent_folder_shows_it() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Rename my account", "Can you rename my account from ~bob to ~robert?"));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);
    let text = status_text(&s);
    assert!(text.contains("Tickets: 1 in all, 1 open"), "{text}");
    assert!(text.contains("#1     draft waiting account-rename/explain"), "{text}");

    s.dovecot.deliver("Sent", &sent_by_staff(1));
    run_once(&s);
    let text = status_text(&s);
    assert!(text.contains("Tickets: 1 in all, 0 open"), "{text}");
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["state"].as_str(), t["draft_waiting"].as_bool()), (Some("answered"), Some(false)), "{t}");
}

/// A thank-you asks nothing more. Said while our answer waits in Drafts,
/// that answer, sent as drafted, still answers the ticket; said after,
/// the ticket stays answered and nobody is asked to look; closed by staff,
/// it is not reopened for one. Before, every "Thank you!" handed the
/// ticket to a person, open again.
#[test]
fn a_thank_you_after_the_answer_opens_nothing_again() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Rename my account", "Can you rename my account from ~bob to ~robert?"));
    run_once(&s);
    let ours = our_latest_draft(&s, 1);
    let thanks = |id: &str, text: &str| {
        format!("From: User 1 <user1@example.net>\r\nTo: support@example.org\r\nSubject: Re: [#1] request\r\nMessage-ID: <{id}@example.net>\r\nIn-Reply-To: <{ours}>\r\n\r\n{text}\r\n")
    };
    s.dovecot.deliver("INBOX", thanks("thanks0", "Thanks!").as_bytes());
    run_once(&s);
    let drafted = drafts(&s)[0].raw().to_vec();
    s.dovecot.deliver("Sent", &drafted);
    run_once(&s);
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["state"].as_str(), t["needs_person"].as_str()), (Some("answered"), None), "{t}");

    s.dovecot.deliver("INBOX", thanks("thanks1", "Thank you very much!").as_bytes());
    run_once(&s);
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["state"].as_str(), t["needs_person"].as_str()), (Some("answered"), None), "{t}");

    let done = triaged(&s.config, &["done", "1"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    s.dovecot.deliver("INBOX", thanks("thanks2", "Thanks again!").as_bytes());
    run_once(&s);
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["state"].as_str(), t["needs_person"].as_str()), (Some("closed"), None), "{t}");
    assert!(status_text(&s).contains("Tickets: 1 in all, 0 open"), "{}", status_text(&s));
}

/// A question the user asks after our answer was drafted, before staff
/// sent it, is still open once that draft goes as drafted: it answers what
/// came before the question. Staff's own reply after it answers it.
#[test]
fn a_question_after_the_draft_stays_open_when_the_draft_is_sent() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Rename my account", "Can you rename my account from ~bob to ~robert?"));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);
    s.dovecot.deliver("INBOX", &reply_from_user(&s, 1, "Also, will my repositories keep their URLs? What about my mailing lists?"));
    run_once(&s);
    let before = status_json(&s)["tickets"][0].clone();
    // Staff send the draft as it was drafted.
    let drafted = drafts(&s)[0].raw().to_vec();
    s.dovecot.deliver("Sent", &drafted);
    run_once(&s);
    let text = status_text(&s);
    assert!(text.contains("Tickets: 1 in all, 1 open"), "the question is still open after the older draft went: {text}\nbefore: {before}");
    // A reply in staff's own words answered it.
    s.dovecot.deliver("Sent", &sent_by_staff(1));
    run_once(&s);
    assert!(status_text(&s).contains("Tickets: 1 in all, 0 open"), "{}", status_text(&s));
}

/// "verify who is asking" starts with a mail to the user: until staff
/// send the drafted identity request, nobody was asked anything, and
/// `status` says the draft waits rather than "waiting" (the user's turn).
/// Once Sent shows it, the ticket waits for the user.
#[test]
fn an_identity_request_in_drafts_is_a_draft_waiting_until_sent_then_the_users_turn() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Refund", "I was charged for a yearly plan by mistake. Could you refund the payment?"));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);
    let text = status_text(&s);
    assert!(text.contains("#1     draft waiting refund/check"), "{text}");
    assert!(text.contains("Tickets: 1 in all, 1 open"), "{text}");

    s.dovecot.deliver("Sent", &sent_by_staff(1));
    run_once(&s);
    let t = &status_json(&s)["tickets"][0];
    assert_eq!((t["step"].as_str(), t["state"].as_str(), t["draft_waiting"].as_bool()), (Some("check"), Some("waiting"), Some(false)), "{t}");
    assert!(status_text(&s).contains("#1     waiting   refund/check"), "{}", status_text(&s));
}

/// "Hi ," was the greeting of a sender without a display name.
#[test]
fn a_sender_without_a_display_name_is_greeted_hello() {
    let s = setup();
    s.dovecot.deliver(
        "INBOX",
        b"From: bob@example.net\r\nTo: support@example.org\r\nSubject: rename\r\nMessage-ID: <bare@example.net>\r\n\r\nCan you rename my account from ~bob to ~robert?\r\n",
    );
    run_once(&s);
    let d = drafts(&s);
    assert_eq!(d.len(), 1);
    assert!(d[0].text.starts_with("Hello,\r\n") || d[0].text.starts_with("Hello,\n"), "{:?}", d[0].text);
}

/// A ticket staff close with `!done N` keeps no draft of ours in Drafts.
#[tokio::test(flavor = "multi_thread")]
async fn a_ticket_closed_with_done_leaves_no_draft_of_ours() {
    let ircd = Ircd::start();
    let s = setup_with("none", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    s.dovecot.deliver("INBOX", &mail(1, "Rename my account", "Can you rename my account from ~bob to ~robert?"));
    let child = spawn_daemon(&s);
    alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    wait_drafts(&s, 1).await;

    alice.say(CH, "!done 1").await;
    alice.said_by("triaged", CH, |t| t == "#1 closed by alice", T).await;
    let said = alice.said_by("triaged", CH, |t| t.starts_with("#1 closed:"), T).await;
    assert_eq!(said, "#1 closed: 1 draft of ours withdrawn from Drafts unless edited");
    wait_until("the draft withdrawn", T, || s.dovecot.uids("Drafts").is_empty());
    sigterm(child);
}

/// CAcert: the member writes "do NOT delete" once the SE was asked to
/// execute. The SE may have anonymised the account already ("The CCA
/// termination date is the date of the execution", and the execution must
/// be documented) or not: the channel asks which, and a plain close is no
/// answer. #1: the SE had executed (`!done 1`): "I executed" is drafted,
/// dated that day, and documented. #2: not carried out (`!notdone 2`):
/// closed, nothing drafted, and its number documented as not used, so the
/// precedent table has no gap. #3: `!done 3` meant as a close, then
/// `!notdone 3` while "I executed" waits unsent: undone, as #2.
#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_taken_back_at_execute_is_documented_as_the_se_says_it_was_or_was_not_carried_out() {
    let ircd = Ircd::start();
    let s = setup_pack("cacert", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "I do not use it any more, please delete my account."));
    s.dovecot.deliver("INBOX", &mail(2, "Please delete my account", "I do not use it any more, please delete my account."));
    s.dovecot.deliver("INBOX", &mail(3, "Please delete my account", "I do not use it any more, please delete my account."));
    let child = spawn_daemon(&s);
    let mut opened = std::collections::BTreeSet::new();
    while opened.len() < 3 {
        opened.insert(alice.said_by("triaged", CH, |t| ["#1 ", "#2 ", "#3 "].iter().any(|p| t.starts_with(p)), T).await[..2].to_string());
    }
    for n in 1..=3 {
        alice.say(CH, &format!("!set {n} assurances=0 active_certificates=0")).await;
        alice.said_by("triaged", CH, |t| t.starts_with(&format!("#{n} ")) && t.contains("now at step initial"), T).await;
        wait_drafts(&s, n).await;
        s.dovecot.deliver("INBOX", &reply_from_user(&s, n, "Yes, I confirm the deletion and accept the arbitration."));
        alice.said_by("triaged", CH, |t| t.starts_with(&format!("#{n} reply from ")) && t.contains("account-deletion/execute"), T).await;
    }
    for n in 1..=3 {
        let decline = String::from_utf8(reply_from_user(&s, n, "I changed my mind, please do NOT delete my account.")).unwrap();
        s.dovecot.deliver("INBOX", decline.replace(&format!("<re{n}@example.net>"), &format!("<re{n}b@example.net>")).as_bytes());
        let notice = alice.said_by("triaged", CH, |t| t.starts_with(&format!("#{n} reply from ")), T).await;
        assert!(
            notice.contains(&format!("account-deletion/execute — action taken back: !done {n} if it was carried out already, !notdone {n} if not (staff: the user takes the request back")),
            "{notice}"
        );
        alice.say(CH, &format!("!show {n}")).await;
        let asked = alice.said_by("triaged", CH, |t| t.starts_with(&format!("#{n} staff action taken back")), T).await;
        assert_eq!(
            asked,
            format!("#{n} staff action taken back: hijack and anonymise the account following the Delete Account Procedure; carried out already: !done {n}, not carried out: !notdone {n}")
        );
    }

    alice.say(CH, "!done 1").await;
    let done = alice.said_by("triaged", CH, |t| t.starts_with("#1 staff action done"), T).await;
    assert_eq!(
        done,
        "#1 staff action done by alice (carried out although the user took it back; if it was not, notdone 1 while the draft waits); now at step executed, draft planned"
    );
    wait_drafts(&s, 4).await;
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date().to_string();
    let executed: Vec<_> = drafts(&s).into_iter().filter(|d| d.text.contains("CCA [2] is terminated on")).collect();
    assert_eq!(executed.len(), 1, "one \"I executed\" mail");
    assert!(executed[0].subject.contains("[#1]") && executed[0].text.contains(&today), "{}", executed[0].text);

    alice.say(CH, "!notdone 2").await;
    let closed = alice.said_by("triaged", CH, |t| t.starts_with("#2 closed"), T).await;
    assert_eq!(
        closed,
        "#2 closed by alice, not carried out (hijack and anonymise the account following the Delete Account Procedure): nothing drafted; a20111128.3.2 documented as not used; 1 draft of ours withdrawn from Drafts unless edited"
    );
    wait_until("#2's stale draft withdrawn", T, || !drafts(&s).iter().any(|d| d.subject.contains("[#2]")));

    // #3: `!done` meant as a close; said not done while "I executed" waits.
    alice.say(CH, "!done 3").await;
    alice.said_by("triaged", CH, |t| t.starts_with("#3 staff action done"), T).await;
    wait_until("#3's \"I executed\" drafted", T, || drafts(&s).iter().any(|d| d.subject.contains("[#3]") && d.text.contains("CCA [2] is terminated on")));
    alice.say(CH, "!notdone 3").await;
    let closed = alice.said_by("triaged", CH, |t| t.starts_with("#3 closed"), T).await;
    assert!(closed.contains("; the done alice recorded is undone; a20111128.3.3 documented as not used; 2 drafts of ours withdrawn"), "{closed}");
    wait_until("#3's drafts withdrawn", T, || !drafts(&s).iter().any(|d| d.subject.contains("[#3]")));
    sigterm(child);
    assert!(!drafts(&s).iter().any(|d| d.text.contains("CCA [2] is terminated on") && d.subject.contains("[#2]")), "nothing says #2 was executed");
    let t = &status_json(&s)["tickets"][1];
    assert_eq!((t["state"].as_str(), t["taken_back"].as_str()), (Some("closed"), None), "{t}");

    let table = triaged(&s.config, &["document", "a20111128.3"]);
    assert_eq!(
        String::from_utf8(table.stdout).unwrap(),
        format!(
            "| ticket | arbitration_number | cca_termination_date |\n|---|---|---|\n| 1 | a20111128.3.1 | {today} |\n| 2 | a20111128.3.2 | not used: taken back, not carried out |\n| 3 | a20111128.3.3 | not used: taken back, not carried out |\n"
        )
    );
}
