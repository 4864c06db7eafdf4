//! Mail through a mailing list, rewritten the way Mailman 3 does it against
//! DMARC (From munged to "Alice via sr.ht-support <list@…>", the author in
//! Reply-To or X-Original-From, a subject tag, a footer) and ARC-sealed by a
//! test sealer whose key the test DNS serves. Only a configured list whose
//! own sealer signed the author header gives the author back.


use mail_auth::arc::ArcSealer;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::{AuthenticatedMessage, AuthenticationResults};
use triaged::config::ListConfig;
use triaged::message::Message;
use crate::support::gpg::Gpg;
use triaged::verify::list::{ListVerdict, list_author};
use triaged::verify::{Verifier, VerifyContext};
use crate::support::verify_fixture::list::{Author, LIST_ID, SEALER, authenticator, through_list};
use crate::support::verify_fixture::*;

fn lists() -> Vec<ListConfig> {
    vec![ListConfig { id: LIST_ID.into(), sealers: vec![SEALER.into()], reply_to_list: false }]
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

/// Through the verifier: the vouched author is the account, the DKIM factor
/// is the list's word, and an inline signature the list's footer broke
/// fails saying so. Without the list configured, its From is no account.
#[tokio::test]
async fn the_verifier_reads_the_author_and_says_when_the_footer_broke_an_inline_signature() {
    let gpg = Gpg::new();
    let fpr = gpg.key("Alice <alice@example.org>", "ed25519", "never", &[]);
    let accounts = format!(
        "[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\ntwo_factor = true\npgp_keys = [\"\"\"{}\"\"\"]\n",
        gpg.export(&fpr)
    );
    let mut w = World::start_with(&accounts, "");
    let body = gpg.clearsign("alice@example.org", "Please delete my account.\n", &[]).replace("\r\n", "\n").replace('\n', "\r\n");
    let original = plain(w.rsa.mail_auth_key(), "example.org", "rsa", &message("Alice <alice@example.org>", "Please delete my account", &body));
    let raw = through_list(&w, &original, Author::OriginalFrom, SEALER).await;
    let msg = Message::parse(raw.clone().into_bytes()).unwrap();

    let unconfigured = w.verify(&raw).await;
    assert_eq!(unconfigured.account, None, "the list's own From is no account: {unconfigured:#?}");
    assert!(unconfigured.factors.dkim.reason.contains("From is the address of the list"), "{unconfigured:#?}");

    w.config.lists = lists();
    let v = Verifier::new(&w.config).await.unwrap();
    let arrival = v.arrival(&msg).await;
    let ctx = VerifyContext { list: arrival.list.clone(), ..Default::default() };
    let r = v.verify(arrival.message(), &ctx).await;
    assert_eq!(r.account.as_deref(), Some("alice"), "{r:#?}");
    assert!(r.factors.dkim.passed() && r.factors.dkim.reason.contains("via the list's ARC seal (lists.example.net)"), "{r:#?}");
    assert!(!r.factors.pgp.passed(), "{r:#?}");
    assert!(r.factors.pgp.reason.contains("appended its footer to the inline-signed text"), "{:?}", r.factors.pgp);
    // `triaged verify FILE` reads it the same way.
    let file = w.dir.path().join("through-list.eml");
    std::fs::write(&file, &raw).unwrap();
    let mut out = Vec::new();
    assert!(triaged::verify::cli::verify_files(&w.config, &[file], true, &mut out).await.unwrap());
    let offline: serde_json::Value = serde_json::from_slice(&out).unwrap();
    assert_eq!((offline["account"].as_str(), offline["factors"]["dkim"]["result"].as_str()), (Some("alice"), Some("pass")), "{offline}");
}

/// The headers a reply through the list is tied to its ticket by are those
/// both the seal and the author's own signature cover; the List-Post
/// address is the seal's word too.
#[tokio::test]
async fn the_link_of_a_reply_counts_only_where_the_author_signed_it_too() {
    use crate::support::verify_fixture::list::LIST_ADDRESS;
    let w = World::start();
    let reply = |signed: &[&str]| {
        let m = message("Alice <alice@example.org>", "Re: [#1] Please delete my account", BODY);
        let m = m.replacen("Subject:", "In-Reply-To: <draft@example.org>\r\nSubject:", 1);
        crate::support::verify_fixture::plain_with_headers(w.rsa.mail_auth_key(), "example.org", "rsa", signed, &m)
    };
    let mut with_link: Vec<&str> = SIGNED.to_vec();
    with_link.push("In-Reply-To");
    for (signed, linked) in [(with_link.as_slice(), true), (&SIGNED[..], false)] {
        let raw = through_list(&w, &reply(signed), Author::ReplyTo, SEALER).await;
        let v = verdict(&w, &lists(), &raw).await;
        let a = v.author().unwrap_or_else(|| panic!("{v:?}"));
        assert!(a.dkim.passed(), "{a:?}");
        assert_eq!(a.signed.contains(&"in-reply-to".to_string()), linked, "{:?}", a.signed);
        assert!(a.signed.contains(&"subject".to_string()), "{:?}", a.signed);
        assert_eq!(a.post.as_deref(), Some(LIST_ADDRESS));
    }
}

#[tokio::test]
async fn an_author_header_the_sender_wrote_is_not_the_lists_word() {
    let w = World::start();
    // Mallory has a mailbox at alice's provider: the list records a pass
    // for example.org, the domain, whoever the author header names.
    let with = |header: &str| {
        let sent = message("Mallory <mallory@example.org>", "Please delete my account", BODY).replacen("To: ", &format!("{header}\r\nTo: "), 1);
        plain(w.rsa.mail_auth_key(), "example.org", "rsa", &sent)
    };
    let control = through_list(&w, &with("Comments: none"), Author::ReplyTo, SEALER).await;
    assert_eq!(verdict(&w, &lists(), &control).await.author().map(|a| a.author.email.as_str()), Some("mallory@example.org"));

    // Her own X-Original-From, passed on by a list that writes Reply-To.
    let raw = through_list(&w, &with("X-Original-From: Alice <alice@example.org>"), Author::ReplyTo, SEALER).await;
    let v = verdict(&w, &lists(), &raw).await;
    assert!(advice(&v).contains("name different authors"), "{v:?}");
    // Her own X-Original-From next to the one the list writes.
    let raw = through_list(&w, &with("X-Original-From: Alice <alice@example.org>"), Author::OriginalFrom, SEALER).await;
    let v = verdict(&w, &lists(), &raw).await;
    assert!(advice(&v).contains("with 2 x-original-from headers"), "{v:?}");
}

#[tokio::test]
async fn a_list_post_the_sender_wrote_is_not_where_the_list_takes_mail() {
    let w = World::start();
    let sent = w.signed("Alice <alice@example.org>", "Please delete my account").replacen(
        "To: ",
        "List-Post: <mailto:mallory@attacker.test>\r\nTo: ",
        1,
    );
    let raw = through_list(&w, &sent, Author::ReplyTo, SEALER).await;
    let v = verdict(&w, &lists(), &raw).await;
    let a = v.author().unwrap_or_else(|| panic!("{v:?}"));
    assert_eq!(a.post, None, "two List-Post headers: neither is the list's word");
}

/// A host seals all its lists with one key: a seal that does not cover
/// List-Id does not say which of them the mail came through.
#[tokio::test]
async fn a_seal_that_does_not_cover_the_list_id_does_not_name_the_list() {
    let w = World::start();
    let original = w.signed("Alice <alice@example.org>", "Please delete my account");
    let through_other = through_list(&w, &original, Author::ReplyTo, SEALER).await;
    // The host's next hop seals again, over everything but List-Id.
    let sealed = reseal(&w, &through_other, &["From", "To", "Subject", "Date", "Message-ID", "Reply-To", "List-Post", "DKIM-Signature"], false).await;
    let support = vec![ListConfig { id: "support.lists.example.net".into(), sealers: vec![SEALER.into()], reply_to_list: true }];
    let control = sealed.replace(&format!("<{LIST_ID}>"), "<support.lists.example.net>");
    assert_ne!(control, sealed);
    let v = verdict(&w, &support, &control).await;
    assert!(advice(&v).contains("does not cover its List-Id"), "{v:?}");
    assert!(verdict(&w, &lists(), &sealed).await.author().is_none(), "not even for the list it came through");
}

/// `raw` sealed once more by the list's sealer over `headers` (with `l=`
/// when `body_length`), recording what it saw of alice's DKIM.
async fn reseal(w: &World, raw: &str, headers: &[&str], body_length: bool) -> String {
    let list = authenticator(w);
    let parsed = AuthenticatedMessage::parse(raw.as_bytes()).unwrap();
    let arc_so_far = list.verify_arc(&parsed).await;
    let dkim = list.verify_dkim(&parsed).await;
    let results = AuthenticationResults::new(SEALER).with_dkim_results(&dkim, "alice@example.org");
    let set = ArcSealer::from_key(w.rsa.mail_auth_key())
        .domain(SEALER)
        .selector("rsa")
        .headers(headers.iter().copied())
        .body_length(body_length)
        .seal(&parsed, &results, &arc_so_far)
        .unwrap();
    format!("{}{raw}", set.to_header())
}

/// A seal with `l=` covers the body up to there: what follows is anybody's.
#[tokio::test]
async fn text_added_after_a_seals_body_length_is_not_the_authors() {
    let w = World::start();
    let original = w.signed("Alice <alice@example.org>", "Please delete my account");
    let through = through_list(&w, &original, Author::ReplyTo, SEALER).await;
    let headers = ["From", "To", "Subject", "Date", "Message-ID", "Reply-To", "List-Id", "List-Post", "DKIM-Signature"];
    let sealed = reseal(&w, &through, &headers, true).await;
    assert!(verdict(&w, &lists(), &sealed).await.author().is_some(), "the control: nothing added");
    let added = format!("{sealed}Also disable two-factor authentication, please.\r\n");
    let v = verdict(&w, &lists(), &added).await;
    assert!(advice(&v).contains("bytes were added after sealing"), "{v:?}");
}
