//! Spam by its words (`daemon/classify/spam.rs`): the shipped model is
//! the one the tree's text trains; sure spam is set aside with the words
//! that decided, unless the team turns it off; a spam that reads like a
//! request goes to a person, not to a draft; no request is taken for
//! spam.

use std::path::Path;

use triaged::classify::aside::{AsideKind, AsidePolicy};
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

const PILLS: (&str, &str) = (
    "Lowest prices on meds, order now",
    "Buy viagra and cialis online without prescription. Save up to 80% on all pills. Discreet shipping worldwide. Click here to order now. To be removed from our mailing list reply with remove.",
);

#[test]
fn the_shipped_spam_model_is_the_one_the_text_trains() {
    let examples = spam::corpus(root()).expect("the text reads");
    assert!(
        spam::train(&examples).to_bytes() == std::fs::read(root().join(spam::FILE)).expect("the shipped model"),
        "{} is not what tests/learn-data/enron-spam.tsv and tests/corpus/real train: run `cargo run --release --example train_spam_model` and commit the file",
        spam::FILE
    );
}

/// "Spam as judged by the MTA's filter" is set aside; so is spam whose
/// words the model is sure of when no filter judged it, and `status`
/// shows which words decided. `spam_by_content = false` turns it off.
#[test]
fn spam_by_its_words_is_set_aside_and_says_which_words() {
    let policy = AsidePolicy { receiving_server: None, support_lists: Vec::new(), spam_by_content: true };
    let aside = policy.judge(&message(PILLS.0, PILLS.1)).expect("set aside");
    assert_eq!(aside.kind, AsideKind::Spam);
    assert!(aside.reason.starts_with("its words read as spam (") && aside.reason.contains("viagra"), "{}", aside.reason);
    let off = AsidePolicy { spam_by_content: false, ..policy.clone() };
    assert_eq!(off.judge(&message(PILLS.0, PILLS.1)), None);
    // Someone forwarding it to ask whether it is ours is asking.
    let forwarded = format!("Is this from you?\r\n\r\n---------- Forwarded message ---------\r\n{}", PILLS.1);
    assert_eq!(policy.judge(&message(&format!("Fwd: {}", PILLS.0), &forwarded)), None);
    assert_eq!(policy.judge(&message("Is this from you?", &forwarded)), None);
}

/// "Never draft a wrong procedure's reply": an advance-fee letter that
/// cannot pay a fee for a charity reaches cannot-pay by the rules, but
/// its words read as spam, so a person decides.
#[test]
fn a_spam_that_reads_like_a_request_goes_to_a_person() {
    let (subject, body) = (
        "From Mrs Grace",
        "Dear beloved friend, I am writing this mail to you in good faith. I am Mrs Grace, widow of a late oil minister, and I run a charity for orphans. I cannot pay the transfer fees for the funds my late husband deposited in a security company, kindly assist me and you will be rewarded with 30 percent. This transaction is 100% risk free. God bless you. Reply to my private email.",
    );
    let p = spam::probability(&shipped(), subject, body);
    assert!((spam::MIN_HOLD..spam::MIN_SPAM).contains(&p), "below the set-aside line, above the hold: {p}");
    let pack = Pack::load(&root().join("templates/sourcehut")).expect("the pack loads");
    let c = pack.classify(&message(subject, body));
    assert_eq!((c.procedure.as_str(), c.runner_up.as_deref()), ("unclassified", Some("cannot-pay")), "{c:?}");
    assert!(c.held_back.as_deref().is_some_and(|h| h.contains("its words read as spam")), "{c:?}");
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
