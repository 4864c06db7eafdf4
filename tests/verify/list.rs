//! Mail through a mailing list, rewritten the way Mailman 3 does it against
//! DMARC (From munged to "Alice via sr.ht-support <list@…>", the author in
//! Reply-To or X-Original-From, a subject tag, a footer) and ARC-sealed by a
//! test sealer whose key the test DNS serves. Only a configured list whose
//! own sealer signed the author header gives the author back.


use mail_auth::arc::ArcSealer;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, MessageAuthenticator};
use triaged::config::ListConfig;
use triaged::message::Message;
use triaged::verify::list::{ListVerdict, list_author};
use crate::support::verify_fixture::*;

const LIST_ID: &str = "sr.ht-support.lists.example.net";
const SEALER: &str = "lists.example.net";

fn lists() -> Vec<ListConfig> {
    vec![ListConfig { id: LIST_ID.into(), sealers: vec![SEALER.into()], reply_to_list: false }]
}

fn authenticator(w: &World) -> MessageAuthenticator {
    MessageAuthenticator(triaged::verify::dkim::resolver(&w.config.dns).unwrap())
}

/// How the list rewrites a message it passes on.
#[derive(Clone, Copy)]
enum Author {
    ReplyTo,
    OriginalFrom,
}

/// `original` as the list delivers it: From munged, the author moved,
/// List-Id, subject tag and footer added, then sealed by `sealer` (d=)
/// after checking the author's DKIM, as the list's MTA does on arrival.
async fn through_list(w: &World, original: &str, author: Author, sealer: &str) -> String {
    let list = authenticator(w);
    let parsed = AuthenticatedMessage::parse(original.as_bytes()).unwrap();
    let dkim = list.verify_dkim(&parsed).await;
    let results = AuthenticationResults::new(sealer).with_dkim_results(&dkim, "alice@example.org");

    let (head, body) = original.split_once("\r\n\r\n").unwrap();
    let mut headers = Vec::new();
    let mut from = String::new();
    for line in head.split("\r\n") {
        if let Some(v) = line.strip_prefix("From: ") {
            from = v.to_string();
            headers.push("From: Alice via sr.ht-support <sr.ht-support@lists.example.net>".to_string());
        } else if let Some(v) = line.strip_prefix("Subject: ") {
            headers.push(format!("Subject: [sr.ht-support] {v}"));
        } else {
            headers.push(line.to_string());
        }
    }
    headers.push(match author {
        Author::ReplyTo => format!("Reply-To: {from}"),
        Author::OriginalFrom => format!("X-Original-From: {from}"),
    });
    headers.push(format!("List-Id: \"sr.ht support\" <{LIST_ID}>"));
    let footer = "_______________________________________________\r\nsr.ht-support mailing list -- sr.ht-support@lists.example.net\r\nTo unsubscribe send an email to sr.ht-support-leave@lists.example.net\r\n";
    let rewritten = format!("{}\r\n\r\n{body}{footer}", headers.join("\r\n"));

    let parsed = AuthenticatedMessage::parse(rewritten.as_bytes()).unwrap();
    let arc_so_far = list.verify_arc(&parsed).await;
    let set = ArcSealer::from_key(w.rsa.mail_auth_key())
        .domain(sealer)
        .selector("rsa")
        .headers(["From", "To", "Subject", "Date", "Message-ID", "Reply-To", "X-Original-From", "List-Id", "DKIM-Signature"])
        .seal(&parsed, &results, &arc_so_far)
        .unwrap();
    format!("{}{rewritten}", set.to_header())
}

async fn verdict(w: &World, lists: &[ListConfig], raw: &str) -> ListVerdict {
    let msg = Message::parse(raw.as_bytes().to_vec()).unwrap();
    list_author(&authenticator(w), lists, &msg, std::time::Duration::from_secs(1)).await
}

fn advice(v: &ListVerdict) -> &str {
    v.advice().unwrap_or_else(|| panic!("expected advice, got {v:?}"))
}

#[tokio::test]
async fn a_trusted_list_gives_back_the_author_and_the_dkim_before_it() {
    let w = World::start();
    let original = w.signed("Alice <alice@example.org>", "Please delete my account");
    for how in [Author::ReplyTo, Author::OriginalFrom] {
        let raw = through_list(&w, &original, how, SEALER).await;
        // The munged mail alone proves nothing: the author's signature is
        // broken by the subject tag and the footer.
        assert!(!w.verify(&raw).await.verified);
        let v = verdict(&w, &lists(), &raw).await;
        let a = v.author().unwrap_or_else(|| panic!("{v:?}"));
        assert_eq!(a.list_id, LIST_ID);
        assert_eq!(a.author.email, "alice@example.org");
        assert!(a.dkim.passed(), "{:?}", a.dkim);
        assert!(a.dkim.reason.contains("via the list's ARC seal (lists.example.net)"), "{}", a.dkim.reason);
    }
}

#[tokio::test]
async fn an_author_whose_dkim_failed_before_the_list_gets_no_factor() {
    let w = World::start();
    // Forged: alice's From, unsigned.
    let forged = message("Alice <alice@example.org>", "Please delete my account", BODY);
    let raw = through_list(&w, &forged, Author::ReplyTo, SEALER).await;
    let v = verdict(&w, &lists(), &raw).await;
    let a = v.author().expect("the list still says who it came from");
    assert!(!a.dkim.passed(), "{:?}", a.dkim);
}

#[tokio::test]
async fn untrusted_sealer_broken_chain_or_unconfigured_list_give_nothing() {
    let w = World::start();
    let original = w.signed("Alice <alice@example.org>", "Please delete my account");
    let good = through_list(&w, &original, Author::ReplyTo, SEALER).await;
    assert!(verdict(&w, &lists(), &good).await.author().is_some(), "the control passes");

    // Sealed by a domain that is not the list's sealer (its key is served).
    let evil = through_list(&w, &original, Author::ReplyTo, "attacker.test").await;
    let v = verdict(&w, &lists(), &evil).await;
    assert!(advice(&v).contains("not by its sealer(s) lists.example.net"), "{v:?}");

    // The author header changed after sealing: the chain breaks.
    let changed = good.replace("Reply-To: Alice <alice@example.org>", "Reply-To: Alice <mallory@attacker.test>");
    assert_ne!(changed, good);
    let v = verdict(&w, &lists(), &changed).await;
    assert!(advice(&v).contains("does not validate"), "{v:?}");

    // An unsigned X-Original-From added on top of a sealed Reply-To mail.
    let added = format!("X-Original-From: Mallory <mallory@attacker.test>\r\n{good}");
    let v = verdict(&w, &lists(), &added).await;
    assert!(v.author().is_none(), "{v:?}");

    // A second, unsigned Reply-To.
    let second = good.replacen("List-Id:", "Reply-To: mallory@attacker.test\r\nList-Id:", 1);
    let v = verdict(&w, &lists(), &second).await;
    assert!(v.author().is_none(), "{v:?}");

    // The list is not configured, or another list is.
    let v = verdict(&w, &[], &good).await;
    assert!(advice(&v).contains("not configured in [[lists]]"), "{v:?}");
    let other = vec![ListConfig { id: "other.lists.example.net".into(), sealers: vec![SEALER.into()], reply_to_list: false }];
    assert!(verdict(&w, &other, &good).await.author().is_none());

    // No ARC at all.
    let unsealed = &good[good.find("\r\nDKIM-Signature:").unwrap() + 2..];
    assert!(!unsealed.contains("ARC-Seal"));
    let v = verdict(&w, &lists(), unsealed).await;
    assert!(v.author().is_none(), "{v:?}");

    // Not list mail.
    assert_eq!(verdict(&w, &lists(), &original).await, ListVerdict::NotListMail);
}

/// A chain longer than the sets checked per message is not checked at all
/// (each set is a key query and a body hash): advice, no author. One at
/// the limit is checked.
#[tokio::test]
async fn a_chain_over_the_limit_is_not_checked() {
    use triaged::verify::dkim::MAX_ARC_SETS;
    let w = World::start();
    let original = w.signed("Alice <alice@example.org>", "Please delete my account");
    let mut raw = through_list(&w, &original, Author::ReplyTo, SEALER).await;
    let list = authenticator(&w);
    for sets in 2..=MAX_ARC_SETS + 1 {
        let parsed = AuthenticatedMessage::parse(raw.as_bytes()).unwrap();
        let arc_so_far = list.verify_arc(&parsed).await;
        let results = AuthenticationResults::new(SEALER).with_arc_result(&arc_so_far, "127.0.0.1".parse().unwrap());
        let set = ArcSealer::from_key(w.rsa.mail_auth_key())
            .domain(SEALER)
            .selector("rsa")
            .headers(["From", "Reply-To", "List-Id"])
            .seal(&parsed, &results, &arc_so_far)
            .unwrap();
        raw = format!("{}{raw}", set.to_header());
        if sets == MAX_ARC_SETS {
            // The control: a chain at the limit, all sealed by the list.
            let v = verdict(&w, &lists(), &raw).await;
            assert!(v.author().is_some(), "{sets} sets: {v:?}");
        }
    }
    let v = verdict(&w, &lists(), &raw).await;
    assert!(advice(&v).contains(&format!("ARC not checked: {} sets", MAX_ARC_SETS + 1)), "{v:?}");
}
