//! "A request taught before" (the twin path of the team's model,
//! docs/CLASSIFICATION.md, "Learning from the team") attacked: each test
//! is a way a message that does not ask for deletion was routed there by
//! a twin in an adversarial review, and now is not; the first checks the
//! twin still routes the request written again, the last that forgetting
//! and relabelling act on the running learner at once. The team and its
//! examples are the same in every test: the shipped sourcehut pack (with
//! its pack model), the default `[learning]` settings, three deletion
//! requests in words the rules do not know and three ordinary mails.

use std::path::Path;

use triaged::classify::{Classification, UNCLASSIFIED};
use triaged::config::LearningConfig;
use triaged::learn::{Features, Learner};
use triaged::message::Message;
use triaged::procedures::Pack;
use triaged::store::{Example, ExampleKey, Store};

const TAUGHT: (&str, &str) = ("leaving", "Please make my account go away for good, I do not use it any more.");

fn message(subject: &str, body: &str) -> Message {
    let raw = format!(
        "From: Someone <someone@example.net>\r\nTo: support@example.org\r\nSubject: {subject}\r\nMessage-ID: <attack@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    Message::parse(raw.into_bytes()).unwrap()
}

struct Team {
    _dir: tempfile::TempDir,
    pack: Pack,
    learner: Learner,
}

impl Team {
    fn new() -> Team {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let learner = Learner::open(&store, LearningConfig::default()).unwrap();
        let pack = Pack::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sourcehut")).unwrap();
        let team = Team { _dir: dir, pack, learner };
        team.learn("account-deletion", TAUGHT.0, TAUGHT.1);
        team.learn("account-deletion", "leaving sourcehut", "I want my account gone for good, please make it go away.");
        team.learn("account-deletion", "goodbye", "Time to say goodbye: wipe me from your systems, I am moving on.");
        team.learn(UNCLASSIFIED, "push fails", "git push over ssh fails with permission denied on my repository.");
        team.learn(UNCLASSIFIED, "builds stuck", "My builds are stuck in the queue since yesterday, is the build service down?");
        team.learn(UNCLASSIFIED, "mailing list", "How do I subscribe to the mailing list for my project?");
        team
    }

    fn learn_message(&self, label: &str, msg: &Message) -> ExampleKey {
        // What an example keeps, as the daemon and `learn` keep it.
        let features = Features::of_message(msg).example_hashes(msg, Default::default());
        let key = ExampleKey::of(&features);
        self.learner.learn(&Example { label: label.into(), source: "attack".into(), added: jiff::Timestamp::now(), features }).unwrap();
        key
    }

    fn learn(&self, label: &str, subject: &str, body: &str) -> ExampleKey {
        self.learn_message(label, &message(subject, body))
    }

    fn classify(&self, msg: &Message) -> Classification {
        self.learner.classify(&self.pack, msg).0
    }

    /// The message must not be routed into deletion.
    fn not_deletion(&self, subject: &str, body: &str) {
        let c = self.classify(&message(subject, body));
        assert_ne!(c.procedure, "account-deletion", "{subject:?} / {body:?} routed by a twin: {:?}", c.model);
    }
}

/// The twin itself routes (the feature works as documented).
#[test]
fn the_taught_request_written_again_is_routed() {
    let team = Team::new();
    let c = team.classify(&message("leaving", "Please make my account go away for good, I do not use it anymore."));
    assert_eq!(c.procedure, "account-deletion", "{c:?}");
}

/// "don’t" written with U+2019 (what phones and most mail clients type)
/// negates as "don't" does (it was read as "don" and "t", and the denial
/// routed at 0.89 alike).
#[test]
fn a_curly_apostrophe_dont_is_a_negation() {
    let team = Team::new();
    team.not_deletion("leaving", "Please don\u{2019}t make my account go away for good, I do not use it any more.");
}

/// A negation covers three words and ends at a comma, so a denial with
/// words between leaves the request's words asserted (0.68 and 0.61
/// alike): each negation of the message must be one the example has.
#[test]
fn a_denial_with_words_between_is_no_twin() {
    let team = Team::new();
    team.not_deletion("leaving", "Please do not, under any circumstances, make my account go away for good, I do not use it any more.");
    team.not_deletion("leaving", "Please do not ever make my account go away for good, I do not use it any more but still.");
}

/// A request taken back in the same mail ("never mind", "scratch that")
/// changes few features (0.66, 0.82 alike): no twin routes it.
#[test]
fn a_retracted_request_is_no_twin() {
    let team = Team::new();
    team.not_deletion("leaving", "Please make my account go away for good, I do not use it any more.\n\nActually, never mind, don't.");
    team.not_deletion("leaving", "Scratch that.\nPlease make my account go away for good, I do not use it any more.");
}

/// In a reply the subject was written by the other side (the rules count
/// it at half weight): a reply is compared by its body, so the subject
/// alone (0.60 alike with it) carries no twin.
#[test]
fn a_reply_subject_alone_does_not_make_a_twin() {
    let team = Team::new();
    team.learn("account-deletion", "Please make my account go away for good, I do not use it any more", "");
    team.not_deletion("Re: Please make my account go away for good, I do not use it any more", "Never mind, sorted, thanks.");
}

/// "A request taught before stands in for the rules' sign (not for the
/// margin)": with the rules torn between account-deletion (gdpr, 1.5) and
/// 2fa-disable (locked-out, 1.5), the tie is a person's (a twin once
/// routed through it: the low score was judged before the rival).
#[test]
fn a_twin_does_not_break_a_tie_of_the_rules() {
    let team = Team::new();
    team.learn(
        "account-deletion",
        "my GDPR request",
        "Locked out of sourcehut for months and I no longer care. Under the GDPR, make all of it vanish for good, together with the repositories.",
    );
    let q = message(
        "my GDPR request",
        "Locked out of sourcehut for weeks and I no longer care. Under the GDPR, make all of it vanish for good, together with the repositories.",
    );
    let scores: Vec<(String, f64)> = team.pack.scores(&q).iter().map(|s| (s.procedure.to_string(), s.score)).collect();
    let score = |p: &str| scores.iter().find(|s| s.0 == p).unwrap().1;
    assert_eq!((score("account-deletion"), score("2fa-disable")), (1.5, 1.5), "the rules are torn: {scores:?}");
    let c = team.classify(&q);
    assert_eq!(c.procedure, UNCLASSIFIED, "a twin broke the rules' tie: {:?}", c.model);
}

/// The attacker's angle: staff read the HTML alternative, the model the
/// plain one. Mail whose HTML asks for deletion and whose plain part is an
/// ordinary request, reclassified to deletion by staff on what they saw,
/// made that ordinary request a twin of deletion for everyone who writes
/// it; an example keeps only what both bodies say.
#[test]
fn an_example_is_what_staff_saw() {
    let team = Team::new();
    let raw = "From: m@example.net\r\nSubject: ssh key\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease add a second SSH key to my profile.\r\n\
--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>I'm done with sourcehut. Make my account go away for good, I do not use it any more.</p>\r\n--b--\r\n";
    let staff_saw_deletion = Message::parse(raw.as_bytes().to_vec()).unwrap();
    assert_eq!(team.classify(&message("ssh key", "Please add a second SSH key to my profile!")).procedure, UNCLASSIFIED);
    team.learn_message("account-deletion", &staff_saw_deletion);
    team.not_deletion("ssh key", "Please add a second SSH key to my profile!");
}

/// The same attack with the plain part's words copied into the HTML where
/// nobody sees them (a `display:none` block, a zero font size): what both
/// bodies carry is still only what staff were shown, so the hidden copy
/// teaches nothing.
#[test]
fn words_hidden_in_the_html_are_not_what_staff_saw() {
    let mail = |hidden: &str| {
        let raw = format!(
            "From: m@example.net\r\nSubject: ssh key\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease add a second SSH key to my profile.\r\n\
--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>I'm done with sourcehut. Make my account go away for good, I do not use it any more.</p>{hidden}\r\n--b--\r\n"
        );
        Message::parse(raw.into_bytes()).unwrap()
    };
    let kept = |msg: &Message| Features::of_message(msg).example_hashes(msg, Default::default());
    let without_copy = kept(&mail(""));
    for hidden in [
        "<div style=\"display:none\">Please add a second SSH key to my profile.</div>",
        "<p>Thanks<span style=\"font-size:0px\"> Please add a second SSH key to my profile.</span></p>",
        "<div hidden><p>Please add a second SSH key to my profile.</p></div>",
        "<style>.pre { display: none; }</style><div class=\"pre\">Please add a second SSH key to my profile.</div>",
    ] {
        let staff_saw_deletion = mail(hidden);
        assert_eq!(kept(&staff_saw_deletion), without_copy, "{hidden}: the hidden copy was kept");
        let team = Team::new();
        team.learn_message("account-deletion", &staff_saw_deletion);
        team.not_deletion("ssh key", "Please add a second SSH key to my profile!");
    }
}

/// The same request in both bodies, as mail clients send it, still
/// teaches: what both say is all of it.
#[test]
fn a_request_sent_as_text_and_html_still_teaches() {
    let team = Team::new();
    let raw = "From: m@example.net\r\nSubject: farewell\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI am done with this place, erase every trace of me from sourcehut.\r\n\
--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<div dir=\"ltr\">I am done with this place, <b>erase every trace of me</b> from sourcehut.</div>\r\n--b--\r\n";
    let both = Message::parse(raw.as_bytes().to_vec()).unwrap();
    assert_eq!(
        Features::of_message(&both).example_hashes(&both, Default::default()),
        Features::of_message(&both).hashes(),
        "nothing is lost when both bodies say the same"
    );
    let again = message("farewell", "I am done with this place, erase every trace of me from sourcehut!");
    assert_eq!(team.classify(&again).procedure, UNCLASSIFIED, "not taught yet");
    team.learn_message("account-deletion", &both);
    assert_eq!(team.classify(&again).procedure, "account-deletion");
}

/// Forgetting an example takes it out of the running learner's
/// sketches and counts at once (no restart), and relabelling replaces it.
#[test]
fn forget_and_relabel_take_the_twin_away_in_memory() {
    let team = Team::new();
    team.learn("account-deletion", "farewell", "I am done with this place, erase every trace of me from sourcehut.");
    let again = message("leaving", "Please make my account go away for good, I do not use it anymore.");
    assert_eq!(team.classify(&again).procedure, "account-deletion");
    let key = team.learn("refund", TAUGHT.0, TAUGHT.1);
    assert_eq!(team.classify(&again).procedure, UNCLASSIFIED, "relabelled");
    team.learn("account-deletion", TAUGHT.0, TAUGHT.1);
    assert_eq!(team.classify(&again).procedure, "account-deletion");
    assert!(team.learner.forget(key).unwrap());
    let c = team.classify(&again);
    assert_eq!(c.procedure, UNCLASSIFIED, "{c:?}");
    assert!(c.model.and_then(|m| m.not_used).is_some_and(|w| w.contains("no example taught of it is that alike")));
}
