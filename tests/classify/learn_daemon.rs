//! Learning through the running daemon, as staff meet it: a paraphrase the
//! rules do not know goes unclassified, staff `!reclassify` it in the
//! channel, and the next mail phrased like it is routed by the model, which
//! the notice names. And a German request gets the German draft.


use std::time::Duration;

use crate::support::harness::*;
use crate::support::ircd::{IrcClient, Ircd};

const T: Duration = Duration::from_secs(30);
const CH: &str = "#support-staff";

/// Waits for a draft to the message with Message-ID `to` that says
/// `says` (the procedure's own reply).
async fn wait_for_draft(s: &Setup, to: &str, says: &str) {
    let deadline = tokio::time::Instant::now() + T;
    let ready = || drafts(s).iter().any(|d| d.in_reply_to.first().is_some_and(|r| r == to) && d.text.contains(says));
    while !ready() {
        assert!(tokio::time::Instant::now() < deadline, "timed out waiting for a draft to {to} that says {says:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// A desk with IRC, learning from one example on, without the pack's
/// shipped model (which knows these phrasings by now: what is shown is
/// what the team's own model learns), whose archive taught it what
/// ordinary mail looks like; and alice in the staff channel.
async fn desk_that_knows_ordinary_mail(ircd: &Ircd) -> (Setup, IrcClient) {
    let extra = format!("{}\n[learning]\nmin_examples = 1\n", crate::support::ircd::daemon_irc_section(ircd, CH));
    let s = setup_with("none", &extra).without_pack_model("sourcehut");
    for (name, body) in [
        ("n1.eml", "git push over ssh fails with permission denied on my repository."),
        ("n2.eml", "My builds are stuck in the queue since yesterday, is the build service down?"),
    ] {
        let path = s.dir.path().join(name);
        std::fs::write(&path, format!("From: x@example.net\r\nSubject: question\r\n\r\n{body}\r\n")).unwrap();
        let out = triaged(&s.config, &["learn", "--not", path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    }
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    (s, alice)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_paraphrase_staff_reclassified_routes_the_next_one_like_it() {
    let ircd = Ircd::start();
    let (s, mut alice) = desk_that_knows_ordinary_mail(&ircd).await;

    s.dovecot.deliver("INBOX", &mail(1, "embarrassing name", "I picked an embarrassing name when I signed up, ~coolguy. Could I be called ~jdoe on the site instead?"));
    let child = spawn_daemon(&s);
    let first = alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    assert!(first.contains("unclassified"), "the rules do not know this phrasing: {first}");
    assert!(!first.contains("chosen by the model"), "{first}");

    alice.say(CH, "!reclassify 1 account-rename").await;
    let answer = alice.said_by("triaged", CH, |t| t.starts_with("#1 is now") || t.contains("not reclassified"), T).await;
    assert!(answer.starts_with("#1 is now account-rename"), "{answer}");
    // The acknowledgement is withdrawn and the rename reply takes its place.
    wait_for_draft(&s, "m1@example.net", "Renaming accounts is not available").await;

    s.dovecot.deliver("INBOX", &mail(2, "my name", "I signed up under an embarrassing name. Can I be called ~jane on the site instead?"));
    let second = alice.said_by("triaged", CH, |t| t.starts_with("#2 "), T).await;
    assert!(second.contains("account-rename") && second.contains("chosen by the model"), "{second}");
    wait_for_draft(&s, "m2@example.net", "Renaming accounts is not available").await;
    let rename = drafts(&s).into_iter().find(|d| d.in_reply_to.first().is_some_and(|r| r == "m2@example.net")).unwrap();
    assert!(rename.text.contains("Renaming accounts is not available"), "the procedure's own reply: {}", rename.text);

    // While the daemon holds the store, learn goes through the spool.
    let path = s.dir.path().join("n3.eml");
    std::fs::write(&path, "From: x@example.net\r\nSubject: docs\r\n\r\nWhere is the documentation for the mailing lists?\r\n").unwrap();
    let out = triaged(&s.config, &["learn", "--not", path.to_str().unwrap()]);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && said.contains("queued for the running daemon, which answered: learned 1 example"), "{said}");

    // The regression: while the daemon held the store, `classify` used the
    // rules alone and `learn --list` was refused. Both ask the daemon now:
    // the message of ticket #2 is classified as the daemon classified it.
    let second = s.dir.path().join("m2.eml");
    std::fs::write(&second, mail(2, "my name", "I signed up under an embarrassing name. Can I be called ~jane on the site instead?")).unwrap();
    let out = triaged(&s.config, &["classify", "--json", second.to_str().unwrap()]);
    let line: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(line["procedure"], s.ticket(2)["procedure"], "{line}");
    assert_eq!((line["procedure"].as_str(), line["model"]["decided"].as_bool()), (Some("account-rename"), Some(true)), "{line}");
    assert_eq!(line["file"], second.display().to_string());
    let out = triaged(&s.config, &["learn", "--list", "--json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rows: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rows.len(), 4, "{rows:?}");
    assert!(rows.iter().any(|r| r["source"] == "n3.eml" && r["label"] == "unclassified"), "{rows:?}");

    let out = sigterm(child);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("account-rename (model, probability"), "the log explains the choice: {log}");
    let out = triaged(&s.config, &["learn", "--list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("ticket #1, reclassified by alice"), "{list}");
    assert!(list.contains("4 examples: account-rename 1, unclassified 3"), "{list}");
}

/// Deletion is sensitive: learned words alone never route into it. But a
/// request the team moved there by hand is one they answered before, and
/// the next mail nearly the same goes there too, naming the example; the
/// procedure's own first reply (self-service) is drafted, as for a rule's
/// route. One merely like it in words stays a person's.
#[tokio::test(flavor = "multi_thread")]
async fn a_deletion_staff_reclassified_routes_its_twin_and_not_a_mere_paraphrase() {
    let ircd = Ircd::start();
    let (s, mut alice) = desk_that_knows_ordinary_mail(&ircd).await;

    let words = "I am done with the site. Please make my profile and everything under it go away for good.";
    s.dovecot.deliver("INBOX", &mail(1, "leaving", words));
    let child = spawn_daemon(&s);
    let first = alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    assert!(first.contains("unclassified"), "no rule knows this phrasing: {first}");
    alice.say(CH, "!reclassify 1 account-deletion").await;
    let answer = alice.said_by("triaged", CH, |t| t.starts_with("#1 is now") || t.contains("not reclassified"), T).await;
    assert!(answer.starts_with("#1 is now account-deletion"), "{answer}");

    // Nearly the same words from someone else.
    s.dovecot.deliver("INBOX", &mail(2, "leaving", "I am done with the site. Please make my profile and everything under it go away for good!"));
    let second = alice.said_by("triaged", CH, |t| t.starts_with("#2 "), T).await;
    assert!(second.contains("account-deletion") && second.contains("chosen by the model"), "{second}");
    // The procedure's own first reply.
    wait_for_draft(&s, "m2@example.net", "You can delete your account yourself").await;

    // The same wish in other words: the model may be sure, but nothing
    // the team taught is this alike and no rule saw a sign of deletion.
    s.dovecot.deliver("INBOX", &mail(3, "leaving", "I'm through with this site; could my profile and all that's under it disappear for good?"));
    let third = alice.said_by("triaged", CH, |t| t.starts_with("#3 "), T).await;
    assert!(third.contains("unclassified") && !third.contains("chosen by the model"), "{third}");

    let out = sigterm(child);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("account-deletion (model, probability"), "the log explains the choice: {log}");
    assert!(log.contains("like example ") && log.contains("ticket #1, reclassified by alice"), "and names the example: {log}");
    assert!(log.contains("no example taught of it is that alike"), "and why the paraphrase was not routed: {log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_german_request_gets_the_german_draft_and_an_english_one_the_default() {
    let s = setup();
    s.dovecot.deliver(
        "INBOX",
        &mail(1, "Konto löschen", "Hallo, bitte löschen Sie mein Konto und alle dazugehörigen Daten. Ich brauche es nicht mehr. Vielen Dank!"),
    );
    s.dovecot.deliver("INBOX", &mail(2, "Delete my account", "Hello, please delete my account and all its data, I no longer need it. Thanks!"));
    run_once(&s);
    wait_drafts(&s, 2).await;
    let drafts = drafts(&s);
    let to = |n: usize| drafts.iter().find(|d| d.in_reply_to.first().is_some_and(|r| r == &format!("m{n}@example.net"))).expect("a draft per message");
    let german = &to(1).text;
    assert!(german.contains("Sie können Ihr Konto selbst löschen"), "{german}");
    assert!(german.contains("https://meta.sr.ht"), "{german}");
    assert!(german.contains("-- \nThe support team") || german.contains("The support team"), "the team's signature stays: {german}");
    let english = &to(2).text;
    assert!(english.contains("You can delete your account yourself"), "{english}");
    // Each quotes the request under a line in its own language.
    assert!(german.contains("Am 23.11.2026 um 10:00 UTC schrieb User 1:\n> Hallo, bitte"), "{german}");
    assert!(english.contains("On Mon, 23 Nov 2026 10:00 UTC, User 2 wrote:\n> Hello, please"), "{english}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_procedure_the_model_chooses_is_still_gated_by_identity() {
    let s = setup_with("none", "[learning]\nmin_examples = 2\nmin_probability_sensitive = 0.9\n");
    let learn = |label: &str, name: &str, body: &str| {
        let path = s.dir.path().join(name);
        std::fs::write(&path, format!("From: x@example.net\r\nSubject: question\r\n\r\n{body}\r\n")).unwrap();
        let out = triaged(&s.config, &["learn", label, path.to_str().unwrap()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    learn("refund", "r1.eml", "I was billed for a yearly plan I never used. Could you return what I paid to my card?");
    learn("refund", "r2.eml", "You billed my card for a plan I did not want. Please return the payment.");
    learn("--not", "n1.eml", "git push over ssh fails with permission denied on my repository.");
    learn("--not", "n2.eml", "My builds are stuck in the queue since yesterday, is the build service down?");

    // Unsigned mail from an address no account has: refund is a billing
    // matter, so the draft asks for proof instead of promising money.
    s.dovecot.deliver("INBOX", &mail(1, "plan I never used", "An unexpected charge for a plan I never used, can you return the payment to my card?"));
    run_once(&s);
    wait_drafts(&s, 1).await;
    let draft = &drafts(&s)[0];
    assert!(draft.text.contains("make sure we are talking to its owner"), "{}", draft.text);
    assert!(!draft.text.contains("We have refunded"), "{}", draft.text);
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"][0]["procedure"], "refund", "{v}");
}

/// Staff sending our draft as it was drafted agree with its procedure: the
/// ticket's message becomes an example of it. A reply they wrote
/// themselves teaches nothing (it may be the correction), and an unanswered
/// ticket nothing either.
#[test]
fn a_draft_sent_unchanged_is_learned_and_an_edited_one_is_not() {
    let s = setup_with("none", "");
    s.dovecot.deliver("INBOX", &mail(1, "Rename my account", "Can you rename my account from ~bob to ~robert?"));
    s.dovecot.deliver("INBOX", &mail(2, "New username", "Please rename my account from ~ann to ~anne."));
    s.dovecot.deliver("INBOX", &mail(3, "Delete my account", "Please delete my account."));
    run_once(&s);
    let drafts = drafts(&s);
    assert_eq!(drafts.len(), 3, "one draft per request");
    let raw = s.dovecot.messages("Drafts");
    let draft_to = |n: usize| {
        let i = drafts.iter().position(|d| d.in_reply_to.first().is_some_and(|r| r == &format!("m{n}@example.net"))).unwrap();
        String::from_utf8(raw[i].clone()).unwrap()
    };

    // #1 as drafted, as a mail client files it: its own Message-ID and
    // Date, the body re-wrapped.
    let sent = sent_copy(draft_to(1).as_bytes(), "<sent1@example.org>", "Tue, 24 Nov 2026 09:00:00 +0000", |b| {
        b.replace('\n', " \r\n").replace(". ", ".\r\n")
    });
    s.dovecot.deliver("Sent", &sent);
    // #2 answered in the staff member's own words.
    s.dovecot.deliver(
        "Sent",
        b"From: Support <support@example.org>\r\nTo: user2@example.net\r\nSubject: Re: [#2] New username\r\nMessage-ID: <sent2@example.org>\r\nIn-Reply-To: <m2@example.net>\r\n\r\nDone, you are ~anne now.\r\n",
    );
    run_once(&s);

    let t: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
    let state = |n: usize| t["tickets"].as_array().unwrap().iter().find(|x| x["ticket"] == n).unwrap()["state"].clone();
    assert_eq!((state(1), state(2)), ("answered".into(), "answered".into()), "{t}");
    let out = triaged(&s.config, &["learn", "--list"]);
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("ticket #1, draft sent unchanged by support@example.org"), "{list}");
    assert!(list.contains("1 example: account-rename 1"), "only the draft sent as drafted: {list}");
}
