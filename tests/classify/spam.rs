//! Spam by its words (`daemon/classify/spam.rs`): the shipped model is
//! the one the tree's text trains; a spam that reads like a request goes
//! to a person, not to a draft, through the daemon too; a report about
//! spam is never set aside; no request is taken for spam.

use std::path::Path;

use triaged::classify::aside::AsidePolicy;
use triaged::classify::pack_model::{self, PackModel};
use triaged::classify::spam;
use triaged::message::Message;
use triaged::procedures::Pack;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn message(subject: &str, body: &str) -> Message {
    let raw = format!("From: someone@example.net\r\nTo: support@example.org\r\nSubject: {subject}\r\nMessage-ID: <s@example.net>\r\n\r\n{body}\r\n");
    Message::parse(raw.into_bytes()).expect("parses")
}

fn shipped() -> PackModel {
    PackModel::from_bytes(&std::fs::read(root().join(spam::FILE)).expect("the shipped model")).expect("a model")
}

#[test]
fn the_shipped_spam_model_is_the_one_the_text_trains() {
    let examples = spam::corpus(root()).expect("the text reads");
    assert!(
        spam::train(&examples).to_bytes() == std::fs::read(root().join(spam::FILE)).expect("the shipped model"),
        "{} is not what tests/learn-data/enron-spam.tsv and tests/corpus/real train: run `cargo run --release --example train_spam_model` and commit the file",
        spam::FILE
    );
}

/// Only our receiving server's verdict sets mail aside unseen: a report
/// about spam in spam's own words, which the model is sure of, is a
/// request like any other.
#[test]
fn a_report_about_spam_is_not_set_aside() {
    let (subject, body) = ("pharma spam on my list", "Hi, since yesterday ~anna/dev-list gets dozens of pharmacy spam mails (viagra, cialis, cheap pills). Can you block them?");
    assert!(spam::probability(&shipped(), subject, body) >= spam::MIN_HOLD);
    let policy = AsidePolicy { receiving_server: None, support_lists: Vec::new() };
    assert_eq!(policy.judge(&message(subject, body)), None);
}

const GRACE: (&str, &str) = (
    "From Mrs Grace",
    "Dear beloved friend, I am writing this mail to you in good faith. I am Mrs Grace, widow of a late oil minister, and I run a charity for orphans. I cannot pay the transfer fees for the funds my late husband deposited in a security company, kindly assist me and you will be rewarded with 30 percent. This transaction is 100% risk free. God bless you. Reply to my private email.",
);

/// "Never draft a wrong procedure's reply": an advance-fee letter that
/// cannot pay a fee for a charity reaches cannot-pay by the rules, but
/// its words read as spam, so a person decides.
#[test]
fn a_spam_that_reads_like_a_request_goes_to_a_person() {
    let (subject, body) = GRACE;
    let p = spam::probability(&shipped(), subject, body);
    assert!(p >= spam::MIN_HOLD, "{p}");
    let pack = Pack::load(&root().join("templates/sourcehut")).expect("the pack loads");
    let c = pack.classify(&message(subject, body));
    assert_eq!((c.procedure.as_str(), c.runner_up.as_deref()), ("unclassified", Some("cannot-pay")), "{c:?}");
    assert!(c.held_back.as_deref().is_some_and(|h| h.contains("its words read as spam")), "{c:?}");
}

/// Through the daemon, against a real Dovecot: the same letter opens an
/// unclassified ticket for a person, whose only draft is the
/// acknowledgement, not cannot-pay's reply.
#[test]
fn through_the_daemon_a_spam_that_reads_like_a_request_gets_no_procedures_draft() {
    use crate::support::harness::*;
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, GRACE.0, GRACE.1));
    run_once(&s);
    let d = drafts(&s);
    assert_eq!(d.len(), 1, "one draft");
    assert!(d[0].text.contains("A member of\r\nstaff will read it") || d[0].text.contains("staff will read it"), "the acknowledgement: {}", d[0].text);
    assert!(!d[0].text.contains("free software"), "no cannot-pay reply: {}", d[0].text);
    let out = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status is JSON");
    assert_eq!(v["tickets"][0]["procedure"], "unclassified", "{v}");
}

/// Requests in the seeds' words are no spam, however much they talk of
/// money, accounts and passwords.
#[test]
fn requests_are_not_spam() {
    let model = shipped();
    for (subject, body) in [
        ("Please delete my account", "Hello, I no longer use my account ~jane and would like it deleted, with all my repositories. Thanks, Jane"),
        ("Card declined", "Hi, my card keeps getting declined when I try to pay for my subscription. Is there another way to pay?"),
        ("refund", "I was charged twice for this month, please refund the second charge. My account is ~bob."),
        ("Lost my phone", "I lost the phone with my authenticator app, please disable 2FA on my account. I can sign a challenge with my SSH key."),
        ("Hub down", "Our hub at ohw.2i2c.cloud is returning 502 errors since this morning, students cannot log in. Can you take a look?"),
        ("Free plan?", "We are a non-profit research group and cannot pay; would a free plan be possible for our lab?"),
        ("Close my CAcert account", "Please close my CAcert account and delete all my personal data."),
        ("credentials", "Here is the password for our cloud account: hunter2. Please set up the hub."),
    ] {
        let p = spam::probability(&model, subject, body);
        assert!(p < spam::MIN_HOLD, "{subject}: {p}");
    }
}

/// Of the real requests and issue reports the model never learned
/// (Banking77's other train half, the held-out question sets, the
/// sealed sets), none is held for its words, let alone set aside. Counts
/// only: the sealed text is not shown.
#[test]
fn no_unlearned_real_request_reads_as_spam() {
    let model = shipped();
    let mut texts: Vec<(String, String)> =
        triaged::classify::request::banking77_train(root(), "any", false).expect("Banking77 reads").into_iter().map(|t| (t.subject, t.body)).collect();
    for set in ["questions-3.tsv", "software-questions-3.tsv", "issues-r23.tsv", "generic-issues.tsv"] {
        let text = std::fs::read_to_string(root().join("tests/corpus/real").join(set)).expect("the set reads");
        texts.extend(text.lines().skip(1).filter_map(|l| {
            let r: Vec<&str> = l.split('\t').collect();
            (r.len() == 6).then(|| (r[4].to_string(), r[5].to_string()))
        }));
    }
    assert!(texts.len() > 6000, "{}", texts.len());
    let held = texts.iter().filter(|(s, b)| model.probability(spam::SPAM, &pack_model::features(s, b)).unwrap_or(0.0) >= spam::MIN_HOLD).count();
    assert_eq!(held, 0, "{held} of {} unlearned real texts read as spam", texts.len());
}
