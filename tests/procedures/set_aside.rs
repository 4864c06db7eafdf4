//! Mail that is not a request, through the daemon against a real Dovecot:
//! a bounce, an auto-reply, a newsletter and spam flagged by our receiving
//! server get no draft and no procedure, and `status` counts them per kind;
//! the same spam header written by the sender is not believed; staff pull
//! one back with `reclassify`; an auto-reply on an open ticket neither
//! advances it nor gets a draft; staff are told once a day, in one line,
//! what was set aside.


use std::time::Duration;

use crate::support::harness::*;
use crate::support::ircd::{IrcClient, Ircd, daemon_irc_section, privmsg_from};

const INTAKE: &str = "[intake]\nreceiving_server = \"mx.example.org\"\n";

/// Received lines as our server writes them above the sender's own.
const DELIVERED: &str = "Received: from mx.example.org by mx.example.org (Dovecot) with LMTP id 7; Mon, 30 Nov 2026 10:00:02 +0000\r\n";
const RECEIVED: &str = "Received: from out.example.net (out.example.net [192.0.2.7])\r\n\tby mx.example.org (Postfix) with ESMTPS id 4F1; Mon, 30 Nov 2026 10:00:01 +0000\r\n";
const SENDERS_OWN: &str = "Received: from laptop by out.example.net with ESMTPSA; Mon, 30 Nov 2026 10:00:00 +0000\r\n";

fn message(n: usize, extra_headers: &str, subject: &str, body: &str) -> Vec<u8> {
    let plain = String::from_utf8(mail(n, subject, body)).unwrap();
    format!("{extra_headers}{plain}").into_bytes()
}

fn status(s: &Setup) -> serde_json::Value {
    let out = triaged(&s.config, &["status", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn status_text(s: &Setup) -> String {
    String::from_utf8(triaged(&s.config, &["status"]).stdout).unwrap()
}

/// Delivers `raw`, runs one pass, and expects it set aside as `kind`:
/// no draft, a closed ticket of procedure `set-aside`, counted in status.
fn expect_set_aside(s: &Setup, raw: &[u8], kind: &str, reason: &str) {
    s.dovecot.deliver("INBOX", raw);
    run_once(s);
    assert_eq!(drafts(s).len(), 0, "no draft for {kind}");
    let v = status(s);
    let t = &v["tickets"][0];
    assert_eq!((t["procedure"].as_str(), t["state"].as_str()), (Some("set-aside"), Some("closed")), "{v}");
    assert_eq!(t["set_aside"]["kind"], kind, "{v}");
    assert!(t["set_aside"]["reason"].as_str().unwrap().contains(reason), "{v}");
    assert_eq!(v["set_aside"][kind], 1, "{v}");
    let text = status_text(s);
    assert!(text.contains(&format!("Set aside (no draft; `triaged reclassify N PROCEDURE` answers one): 1 ({kind} 1)")), "{text}");
}

#[test]
fn a_bounce_gets_no_draft() {
    let s = setup();
    let dsn = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: support@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn1@mx.example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour message about deleting your account could not be delivered.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; user1@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n";
    expect_set_aside(&s, dsn.as_bytes(), "bounce", "multipart/report");
}

#[test]
fn an_auto_reply_gets_no_draft_and_staff_can_pull_it_back() {
    let s = setup();
    let ooo = message(2, "Auto-Submitted: auto-replied\r\n", "Out of office", "I am away. Please delete my account request will be handled later.");
    expect_set_aside(&s, &ooo, "auto-reply", "Auto-Submitted: auto-replied");

    // Staff disagree: the ticket starts the procedure and gets its draft.
    let out = triaged(&s.config, &["reclassify", "1", "refund"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    run_once(&s);
    let d = drafts(&s);
    assert_eq!(d.len(), 1);
    assert!(d[0].subject.starts_with("Re: [#1]"), "{}", d[0].subject);
    assert!(d[0].text.contains("_triaged-challenge."), "the refund's identity request names its challenge: {}", d[0].text);
    let v = status(&s);
    assert_eq!(v["tickets"][0]["procedure"], "refund", "{v}");
    assert!(v["tickets"][0].get("set_aside").is_none(), "{v}");
    assert_eq!(v["set_aside"], serde_json::json!({}), "{v}");
}

#[test]
fn pulled_back_onto_a_procedure_that_acts_on_an_account_its_drafts_go_to_from_not_an_unsigned_reply_to() {
    let s = setup();
    // Nothing is answered, so no address was checked when it came; the
    // Reply-To is anyone's to write.
    let ooo = message(7, "Auto-Submitted: auto-replied\r\nReply-To: Helper <mallory@evil.example>\r\n", "Out of office", "Away. About my account: please delete it.");
    expect_set_aside(&s, &ooo, "auto-reply", "Auto-Submitted: auto-replied");

    let out = triaged(&s.config, &["reclassify", "1", "account-deletion"]);
    assert!(out.status.success(), "{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    run_once(&s);
    let d = drafts(&s);
    assert_eq!(d.len(), 1);
    let raw = String::from_utf8_lossy(d[0].raw()).into_owned();
    assert!(raw.contains("user7@example.net") && !raw.contains("mallory@evil.example"), "the deletion's mail goes to From: {raw}");
    let show = String::from_utf8_lossy(&triaged(&s.config, &["show", "1"]).stdout).into_owned();
    assert!(show.contains("Reply-To mallory@evil.example ignored"), "staff are told why: {show}");
}

#[test]
fn a_newsletter_gets_no_draft() {
    let s = setup();
    let news = message(
        3,
        "List-Id: Weekly News <news.example.net>\r\nList-Unsubscribe: <https://news.example.net/u/1>\r\nPrecedence: bulk\r\n",
        "Our free service is back: refunds, FOSS and more",
        "This week: how to get a refund, why FOSS matters, and our free service tier.",
    );
    expect_set_aside(&s, &news, "bulk", "List-Id: news.example.net");
}

#[test]
fn spam_flagged_by_our_receiving_server_gets_no_draft() {
    let s = setup_with("none", INTAKE);
    let spam = message(
        4,
        &format!("{DELIVERED}X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=14.2 required=5.0\r\n{RECEIVED}{SENDERS_OWN}"),
        "Your account password",
        "Your account will be deleted, confirm your password here.",
    );
    expect_set_aside(&s, &spam, "spam", "X-Spam-Flag: YES (added by mx.example.org)");
}

#[test]
fn a_spam_verdict_written_by_the_sender_is_not_believed() {
    let s = setup_with("none", INTAKE);
    // The verdict stands below our Received line: the sender wrote it.
    let forged = message(
        5,
        &format!("{DELIVERED}{RECEIVED}X-Spam-Flag: YES\r\nX-Spam-Status: Yes, score=99\r\n{SENDERS_OWN}"),
        "Please delete my account",
        "I do not use it any more, please delete my account.",
    );
    s.dovecot.deliver("INBOX", &forged);
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1, "handled like any request");
    let v = status(&s);
    assert_eq!(v["tickets"][0]["procedure"], "account-deletion", "{v}");
    assert_eq!(v["set_aside"], serde_json::json!({}), "{v}");
}

#[test]
fn an_auto_reply_on_an_open_ticket_neither_advances_it_nor_gets_a_draft() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(6, "Refund please", "I was charged twice this month, please refund one payment."));
    run_once(&s);
    let first = drafts(&s);
    assert_eq!(first.len(), 1);
    let before = status(&s)["tickets"][0].clone();
    assert_eq!(before["step"], "check", "{before}");

    // The sender's out-of-office answers our draft: any other reply would
    // move the refund on to its identity re-check.
    let auto = format!(
        "From: User 6 <user6@example.net>\r\nTo: support@example.org\r\nSubject: Automatic reply: {}\r\nMessage-ID: <ooo6@example.net>\r\nIn-Reply-To: <{}>\r\nAuto-Submitted: auto-replied\r\nX-Auto-Response-Suppress: All\r\n\r\nyes, I am out until Monday.\r\n",
        first[0].subject, first[0].message_id
    );
    s.dovecot.deliver("INBOX", auto.as_bytes());
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1, "no draft to an auto-reply");
    let after = status(&s)["tickets"][0].clone();
    assert_eq!(after["ticket"], 1, "{after}");
    assert_eq!((&after["step"], &after["state"]), (&before["step"], &before["state"]), "{after}");
    assert_eq!(status(&s)["tickets"].as_array().unwrap().len(), 1, "the auto-reply joined the ticket");

    // A person's reply still moves it on.
    let human = format!(
        "From: User 6 <user6@example.net>\r\nTo: support@example.org\r\nSubject: {}\r\nMessage-ID: <r6@example.net>\r\nIn-Reply-To: <{}>\r\n\r\nI cannot do any of these, sorry.\r\n",
        first[0].subject, first[0].message_id
    );
    s.dovecot.deliver("INBOX", human.as_bytes());
    let out = run_once(&s);
    assert_eq!(drafts(&s).len(), 2, "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(status(&s)["tickets"][0]["step"], "refuse", "unverified: the refund is refused");
}

const CH: &str = "#support-staff";

/// `run --once` with the procedures' clock at `now` (`TRIAGED_NOW`).
fn run_once_at(s: &Setup, now: &str) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&s.config)
        .args(["run", "--once"])
        .env("TRIAGED_NOW", now)
        .env("TRIAGED_LOG", "info")
        .output()
        .unwrap();
    assert!(out.status.success(), "run --once at {now}: {}", String::from_utf8_lossy(&out.stderr));
}

/// What triaged said in the channel, until it has been quiet a while.
async fn said(alice: &mut IrcClient) -> Vec<String> {
    alice.drain(Duration::from_secs(2)).await.iter().filter_map(|l| privmsg_from(l, "triaged", CH).map(str::to_string)).collect()
}

/// Issue 14: set-aside mail gets "no draft and no per-message notice;
/// staff see them counted in `status` and in a daily digest line". The
/// line goes once a day at `[intake] aside_digest` (local time), counts
/// each kind since the last line and names the newest; before that time
/// there is none, a second pass the same day posts none again, a message
/// staff pulled back is not counted, a day with nothing set aside posts
/// nothing, a rehearsal with the clock weeks ahead does not silence the
/// days after it, and requests keep their own notices.
#[tokio::test(flavor = "multi_thread")]
async fn staff_are_told_once_a_day_in_one_line_what_was_set_aside() {
    let ircd = Ircd::start();
    let s = setup_with("none", &format!("{}\n[intake]\naside_digest = \"09:00\"\n", daemon_irc_section(&ircd, CH)));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    let news = |n: usize, subject: &str| message(n, "List-Id: Weekly News <news.example.net>\r\nPrecedence: bulk\r\n", subject, "This week: refunds, FOSS and our free tier.");

    // Monday 08:00: a newsletter and an out-of-office, and a request.
    s.dovecot.deliver("INBOX", &news(1, "Weekly news #47"));
    s.dovecot.deliver("INBOX", &message(2, "Auto-Submitted: auto-replied\r\n", "Out of office", "I am away until Monday."));
    s.dovecot.deliver("INBOX", &mail(3, "Delete my account", "Please delete my account, I no longer use it."));
    run_once_at(&s, "2026-11-30T08:00:00Z");
    let lines = said(&mut alice).await;
    assert!(lines.iter().any(|l| l.starts_with("#3 account-deletion")), "the request's own notice: {lines:?}");
    assert!(!lines.iter().any(|l| l.contains("set aside") || l.contains("Weekly news") || l.contains("Out of office")), "no line before 09:00, no notice of its own: {lines:?}");

    // 09:30: a bounce arrives; the day's line counts all three.
    s.dovecot.deliver("INBOX", DSN.as_bytes());
    run_once_at(&s, "2026-11-30T09:30:00Z");
    let lines = said(&mut alice).await;
    assert_eq!(
        lines,
        ["set aside so far: 3 (auto-reply 1, bounce 1, bulk 1), no draft, no notice; newest #4 bounce MAILER-DAEMON@mx.example.net \"Undelivered Mail Returned to Sender\", #2 auto-reply user2@example.net \"Out of office\", #1 bulk user1@example.net \"Weekly news #47\" — `triaged status` lists them, !reclassify N PROCEDURE answers one"],
        "one line, and no notice of the bounce"
    );

    // 10:00, the same day: more set aside and a request, but no second line.
    s.dovecot.deliver("INBOX", &news(5, "Weekly news #48"));
    s.dovecot.deliver("INBOX", &news(6, "A donation drive, refunds explained"));
    s.dovecot.deliver("INBOX", &mail(7, "Refund please", "I was charged twice this month, please refund one payment."));
    run_once_at(&s, "2026-11-30T10:00:00Z");
    let lines = said(&mut alice).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("#7 refund"), "{lines:?}");

    // Staff pull #6 back before Tuesday's line: it is a request now.
    let out = triaged(&s.config, &["reclassify", "6", "refund"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Tuesday 09:05: since Monday's line, one newsletter.
    run_once_at(&s, "2026-12-01T09:05:00Z");
    let lines: Vec<String> = said(&mut alice).await.into_iter().filter(|l| l.starts_with("set aside")).collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("set aside since 2026-11-30 09:30: 1 (bulk 1), no draft, no notice; newest #5 bulk user5@example.net \"Weekly news #48\" — "), "{lines:?}");

    // Wednesday: nothing set aside, nothing said.
    run_once_at(&s, "2026-12-02T09:05:00Z");
    assert_eq!(said(&mut alice).await, Vec::<String>::new());
    assert_eq!(status(&s)["set_aside"], serde_json::json!({"auto-reply": 1, "bounce": 1, "bulk": 2}), "status counts every one still set aside");
    let text = status_text(&s);
    assert!(text.contains("(the staff channel's daily line has told of those set aside before 2026-12-02 09:05)"), "{text}");

    // A rehearsal weeks ahead (README: `TRIAGED_NOW=... run --once`),
    // then the real Thursday: its newsletter is still told of.
    run_once_at(&s, "2027-01-15T09:30:00Z");
    assert_eq!(said(&mut alice).await, Vec::<String>::new());
    s.dovecot.deliver("INBOX", &news(8, "Weekly news #49"));
    run_once_at(&s, "2026-12-03T09:30:00Z");
    let lines = said(&mut alice).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].starts_with("set aside since 2027-01-15 09:30: 1 (bulk 1), no draft, no notice; newest #8 bulk"), "{lines:?}");
}

/// With no staff channel and no webhook there is nobody to tell: nothing
/// is marked, and `status` does not say the channel was told.
#[test]
fn without_a_staff_channel_nothing_says_staff_were_told() {
    let s = setup_with("none", "[intake]\naside_digest = \"09:00\"\n");
    s.dovecot.deliver("INBOX", &message(1, "List-Id: Weekly News <news.example.net>\r\nPrecedence: bulk\r\n", "Weekly news #47", "This week."));
    run_once_at(&s, "2026-11-30T09:30:00Z");
    let text = status_text(&s);
    assert!(text.contains("Set aside (no draft; `triaged reclassify N PROCEDURE` answers one): 1 (bulk 1)"), "{text}");
    assert!(!text.contains("daily line"), "{text}");
}

const DSN: &str = "From: Mail Delivery System <MAILER-DAEMON@mx.example.net>\r\nTo: support@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn7@mx.example.net>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; user1@example.net\r\nAction: failed\r\nStatus: 5.1.1\r\n--b1--\r\n";
