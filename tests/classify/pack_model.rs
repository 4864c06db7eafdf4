//! The pack's model (`daemon/classify/pack_model.rs`): its weights are the
//! ones the tree's labelled text trains, it routes only ordinary
//! procedures, and only where the rules and whose service it is allow.

use std::path::Path;

use triaged::classify::pack_model::{self, PackModel};
use triaged::procedures::Pack;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn pack(name: &str) -> Pack {
    Pack::load(&root().join("templates").join(name)).expect("the pack loads")
}

/// A labelled text as a bare message, for the guard's and the request
/// model's checks in the measurements below.
fn message(subject: &str, body: &str) -> triaged::message::Message {
    let raw = format!("From: s@example.net\r\nSubject: {subject}\r\n\r\n{body}\r\n");
    triaged::message::Message::parse(raw.into_bytes()).expect("parses")
}

fn classify(pack: &Pack, subject: &str, body: &str) -> triaged::classify::Classification {
    let raw = format!("From: someone@example.net\r\nTo: support@example.org\r\nSubject: {subject}\r\nMessage-ID: <p@example.net>\r\n\r\n{body}\r\n");
    pack.classify(&triaged::message::Message::parse(raw.into_bytes()).expect("parses"))
}

#[test]
fn the_shipped_pack_models_are_the_ones_the_real_text_trains() {
    for name in ["2i2c", "sourcehut"] {
        let dir = root().join("templates").join(name);
        let shipped = std::fs::read(dir.join(pack_model::FILE)).expect("the shipped model");
        let examples = pack_model::corpus(root(), name).expect("the real sets read");
        let pack = pack(name);
        let ids = pack_model::trained_procedures(&pack, &examples);
        assert!(!ids.is_empty(), "{name}: the model has procedures to learn");
        assert!(
            PackModel::train(&examples, &ids).to_bytes() == shipped,
            "templates/{name}/{} is not what tests/corpus/real trains: run `cargo run --release --example train_pack_model -- {name}` and commit the file",
            pack_model::FILE
        );
    }
}

/// A model that learned this very text as a request for `procedure`, and
/// is sure of it.
fn sure_of(subject: &str, body: &str, procedure: &str) -> std::sync::Arc<PackModel> {
    let mut examples = Vec::new();
    for _ in 0..5 {
        examples.push((pack_model::features(subject, body), procedure.to_string()));
        examples.push((pack_model::features("Build failed", "The build of my project fails since the last update of the image."), "unclassified".to_string()));
    }
    let model = PackModel::train(&examples, &[procedure]);
    assert!(model.probability(procedure, &pack_model::features(subject, body)).is_some_and(|x| x >= pack_model::MIN_ROUTE));
    std::sync::Arc::new(model)
}

/// A model that learned this very text as an `out-of-scope` question
/// and as no procedure, in the first of these proportions that leaves it
/// fairly sure: above the redirect's 0.6, below the 0.9 anything else
/// needs.
fn fairly_sure_of_a_question(subject: &str, body: &str) -> std::sync::Arc<PackModel> {
    let model = [(3, 1), (4, 2), (2, 1), (5, 3), (6, 3), (7, 4)]
        .into_iter()
        .map(|(question, none)| {
            let mut examples = vec![(pack_model::features(subject, body), "out-of-scope".to_string()); question];
            examples.extend(vec![(pack_model::features(subject, body), "unclassified".to_string()); none]);
            PackModel::train(&examples, &["out-of-scope"])
        })
        .find(|m| m.probability("out-of-scope", &pack_model::features(subject, body)).is_some_and(|x| (pack_model::MIN_ROUTE_REDIRECT..pack_model::MIN_ROUTE).contains(&x)))
        .expect("a model fairly sure of it");
    std::sync::Arc::new(model)
}

/// "When the rules leave a message unclassified, it may route it to an
/// ordinary procedure it finds at 0.9 or more": a usage question in words
/// no rule of 2i2c's knows, with the words that weighed most.
#[test]
fn a_question_the_rules_miss_goes_where_the_pack_model_is_sure() {
    let p = pack("2i2c");
    let c = classify(&p, "Reading a shapefile", "I can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?");
    assert_eq!(c.procedure, "out-of-scope", "{c:?}");
    let m = c.pack_model.clone().expect("the pack's model was asked");
    assert!(m.probability >= pack_model::MIN_ROUTE, "{m:?}");
    assert!(m.words.iter().any(|w| w == "shapefile" || w == "geopandas"), "{m:?}");
    assert!(c.held_back.is_none(), "{c:?}");
    let line = triaged::classify::explain(&p, &c);
    assert!(line.contains("out-of-scope (the pack's model, probability"), "{line}");
    // The rules alone left it to a person.
    let mut bare = pack("2i2c");
    bare.model = None;
    assert_eq!(classify(&bare, "Reading a shapefile", "I can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?").procedure, "unclassified");
}

/// "hi" and "hi, here" carry no request a reader could name: a model
/// sure of them routes neither, while it routes a question of a sentence
/// it is as sure of.
#[test]
fn the_pack_model_routes_no_text_of_a_few_letters() {
    for (subject, body) in [("hi", ""), ("hi", "here")] {
        let mut p = pack("2i2c");
        p.model = Some(sure_of(subject, body, "out-of-scope"));
        let c = classify(&p, subject, body);
        assert_eq!(c.procedure, "unclassified", "{subject} {body}: {c:?}");
        assert!(c.pack_model.is_none(), "{c:?}");
    }
    let (subject, body) = ("hi", "how do I read a csv file?");
    let mut p = pack("2i2c");
    p.model = Some(sure_of(subject, body, "out-of-scope"));
    assert_eq!(classify(&p, subject, body).procedure, "out-of-scope");
}

/// "It confirms the rules' near miss of an ordinary procedure, scored on
/// more than one weak word, when it agrees at 0.5 and the guard finds the
/// writer's own request": a notebook question the rules score 2 for
/// out-of-scope routes with a model that agrees below the 0.9 it needs to
/// route alone; one they score 1.5 (a library's name) does not, nor an
/// onboarding notice they score 2 for infrastructure ("hub", "sign in")
/// that never speaks for its writer, with the same model as sure of each.
#[test]
fn an_ordinary_near_miss_routes_when_the_pack_model_agrees() {
    let near = ("Nothing appears", "When I run the cells in my notebook nothing appears, no figure at all.");
    let weak = ("Plot not showing", "plt.show() shows nothing, no figure at all.");
    let notice = ("Getting started on the LEAP hub", "Welcome to LEAP! To get started, sign in to the LEAP hub with your GitHub account and pick the default image. Office hours are Tuesdays at 2pm.");
    let mut p = pack("2i2c");
    p.model = None;
    // The confirmation alone: out-of-scope as an ordinary procedure, not
    // the redirect it is in the pack (`a_redirect_is_routed_on_less_certainty`).
    p.procedures.iter_mut().filter(|q| q.id == "out-of-scope").for_each(|q| q.redirect = false);
    for ((subject, body), procedure, score) in [(near, "out-of-scope", pack_model::MIN_ORDINARY_SIGN), (weak, "out-of-scope", 1.5), (notice, "infrastructure", pack_model::MIN_ORDINARY_SIGN)] {
        let rules = classify(&p, subject, body);
        assert!(rules.procedure == "unclassified" && rules.runner_up.as_deref() == Some(procedure) && rules.score == score, "the rules' near miss: {rules:?}");
    }
    // Each text learned as its procedure three times and as no procedure
    // twice: a model that agrees, unsure.
    let mut examples = Vec::new();
    for ((subject, body), procedure) in [(near, "out-of-scope"), (weak, "out-of-scope"), (notice, "infrastructure")] {
        for label in [procedure, procedure, procedure, "unclassified", "unclassified"] {
            examples.push((pack_model::features(subject, body), label.to_string()));
        }
    }
    let model = PackModel::train(&examples, &["infrastructure", "out-of-scope"]);
    for ((subject, body), procedure) in [(near, "out-of-scope"), (weak, "out-of-scope"), (notice, "infrastructure")] {
        let x = model.probability(procedure, &pack_model::features(subject, body)).expect("a procedure it learned");
        assert!((pack_model::MIN_CONFIRM_ORDINARY..pack_model::MIN_ROUTE).contains(&x), "{subject}: {x}");
    }
    p.model = Some(std::sync::Arc::new(model));
    let c = classify(&p, near.0, near.1);
    assert_eq!(c.procedure, "out-of-scope", "{c:?}");
    assert!(c.pack_model.is_some(), "the explanation names the model: {c:?}");
    assert_eq!(classify(&p, weak.0, weak.1).procedure, "unclassified");
    assert_eq!(classify(&p, notice.0, notice.1).procedure, "unclassified", "a notice is no request");
}

/// "A redirect (a reply that points elsewhere, asking and promising
/// nothing) it may route at 0.6": a usage question no rule scores, which
/// a model fairly sure of sends to out-of-scope, and would not if
/// out-of-scope were not a redirect.
#[test]
fn a_redirect_is_routed_on_less_certainty() {
    let (subject, body) = ("Widgets", "My ipywidgets sliders stopped responding after I upgraded, what changed?");
    let mut p = pack("2i2c");
    p.model = None;
    let rules = classify(&p, subject, body);
    assert!(rules.procedure == "unclassified" && rules.runner_up.is_none(), "no rule scores it: {rules:?}");
    p.model = Some(fairly_sure_of_a_question(subject, body));
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "out-of-scope", "{c:?}");
    assert!(c.pack_model.is_some(), "{c:?}");
    let oos = p.procedures.iter_mut().find(|q| q.id == "out-of-scope").unwrap();
    assert!(oos.redirect, "the 2i2c pack's out-of-scope is a redirect");
    oos.redirect = false;
    assert_eq!(classify(&p, subject, body).procedure, "unclassified", "an ordinary procedure needs 0.9");
}

/// "A redirect it finds at 0.6 it routes whatever the rules scored": a
/// notebook that stops running code, told on a bug report's template,
/// which the rules score 2 for out-of-scope (code run in a notebook),
/// routes with a model fairly sure of it as the same text with no rule
/// word would. As an ordinary procedure's near miss it would need the
/// guard to find its writer's own request, and the guard reads a report.
#[test]
fn a_redirects_near_miss_routes_where_the_model_alone_would() {
    let (subject, body) = ("Notebook stops", "Steps to reproduce: start running code in the notebook. Expected behavior: the cells run. Actual behavior: after a while it just stops, nothing more happens.");
    let mut p = pack("2i2c");
    p.model = None;
    let rules = classify(&p, subject, body);
    assert!(rules.procedure == "unclassified" && rules.runner_up.as_deref() == Some("out-of-scope") && rules.score >= pack_model::MIN_ORDINARY_SIGN, "the rules' near miss: {rules:?}");
    p.model = Some(fairly_sure_of_a_question(subject, body));
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "out-of-scope", "{c:?}");
    assert!(c.pack_model.is_some(), "{c:?}");
    p.procedures.iter_mut().filter(|q| q.id == "out-of-scope").for_each(|q| q.redirect = false);
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "unclassified", "an ordinary near miss needs the guard: {c:?}");
}

/// "It never routes into a sensitive procedure on its own words": a
/// deletion request the rules find too little of stays with a person,
/// even when the model is sure of it (here a model that learned this very
/// text as a deletion request).
#[test]
fn the_pack_model_never_routes_into_a_sensitive_procedure_on_its_own_words() {
    let (subject, body) = ("Close everything", "I'm done with the service. Please wipe my user and every repository I own.");
    let mut p = pack("sourcehut");
    p.model = None;
    let rules = classify(&p, subject, body);
    assert!(rules.procedure == "unclassified" && rules.score < pack_model::MIN_SENSITIVE_SIGN, "the rules see little of a deletion: {rules:?}");
    p.model = Some(sure_of(subject, body, "account-deletion"));
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "unclassified", "{c:?}");
    assert!(c.pack_model.is_none(), "{c:?}");
}

/// A 2FA request the rules hold back as a sensitive near miss (two signs,
/// 3 < 3.5).
const NEAR_MISS: (&str, &str) = (
    "New phone",
    "I got a new phone and the codes from the old one are gone. I have no access to my account since then. Could you please turn it off for me so I can set it up again?",
);

/// "It may confirm the rules' near miss of a sensitive procedure": the
/// rules scored 2FA at least twice but below the sensitive threshold, the
/// shipped model finds it at 0.9 or more, and the request model read it
/// as its writer's own request: routed, and the explanation names the
/// model.
#[test]
fn the_pack_model_confirms_a_sensitive_near_miss_of_the_rules() {
    let (subject, body) = NEAR_MISS;
    let mut bare = pack("sourcehut");
    bare.model = None;
    let rules = classify(&bare, subject, body);
    assert_eq!((rules.procedure.as_str(), rules.runner_up.as_deref()), ("unclassified", Some("2fa-disable")), "{rules:?}");
    assert!(rules.held_back.as_deref().is_some_and(|h| h.contains("(sensitive)")), "held back below the sensitive threshold: {rules:?}");
    assert!(rules.score >= pack_model::MIN_SENSITIVE_SIGN, "{rules:?}");
    let p = pack("sourcehut");
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "2fa-disable", "{c:?}");
    let m = c.pack_model.clone().expect("the pack's model confirmed it");
    assert!(m.probability >= pack_model::MIN_ROUTE, "{m:?}");
    let line = triaged::classify::explain(&p, &c);
    assert!(line.contains("2fa-disable (the pack's model, probability"), "{line}");
}

/// "Only a text the request model reads": the same near miss in a few
/// words is too short to judge, and stays with a person even under a
/// model sure of it.
#[test]
fn the_pack_model_confirms_no_short_text() {
    let (subject, body) = ("New phone", "Codes gone, no access to my account. Turn it off?");
    let mut p = pack("sourcehut");
    p.model = None;
    let rules = classify(&p, subject, body);
    assert!(rules.procedure == "unclassified" && rules.score >= pack_model::MIN_SENSITIVE_SIGN, "a near miss: {rules:?}");
    p.model = Some(sure_of(subject, body, "2fa-disable"));
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "unclassified", "{c:?}");
    assert!(c.pack_model.is_none(), "{c:?}");
}

/// "Never take an irreversible step on a guess": the same near miss from
/// a writer who asks us *not* to turn 2FA off is not confirmed, however
/// sure the model is of the topic.
#[test]
fn the_pack_model_confirms_no_denial() {
    let (subject, body) = (
        "New phone",
        "I got a new phone and the codes from the old one are gone. I have no access to my account since then. Please do NOT turn it off for me, I will set it up again myself, I just wanted to let you know.",
    );
    let mut p = pack("sourcehut");
    p.model = Some(sure_of(subject, body, "2fa-disable"));
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "unclassified", "{c:?}");
    assert!(c.pack_model.is_none(), "{c:?}");
}

/// Through the daemon, a confirmed 2FA request is still gated by
/// identity: the ticket is 2fa-disable, its notice says a model chose,
/// and the draft asks for two proofs instead of saying 2FA is off.
#[test]
fn through_the_daemon_a_confirmed_2fa_request_still_needs_two_factors() {
    use crate::support::harness::*;
    let s = setup();
    let (subject, body) = NEAR_MISS;
    s.dovecot.deliver("INBOX", &mail(1, subject, body));
    let out = run_once(&s);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("classified: 2fa-disable (the pack's model, probability"), "the log says what routed it: {log}");
    let status: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).expect("status --json");
    assert_eq!(status["tickets"][0]["procedure"], "2fa-disable", "{status}");
    let d = drafts(&s);
    assert_eq!(d.len(), 1, "one draft");
    assert!(d[0].text.contains("needs TWO of the proofs"), "the identity request: {}", d[0].text);
    assert!(!d[0].text.contains("has been disabled"), "{}", d[0].text);
}

/// "The rules lean to no other": where the rules found a rename and a
/// deletion as likely, a person decides, even when the model is sure of
/// the rename.
#[test]
fn the_pack_model_does_not_break_a_tie_the_rules_left_to_a_person() {
    let (subject, body) = ("Account", "Change my username and delete my account.");
    let mut p = pack("sourcehut");
    let before = classify(&p, subject, body);
    assert!(before.held_back.as_deref().is_some_and(|h| h.contains("a route needs a lead")), "a tie: {before:?}");
    p.model = Some(sure_of(subject, body, "account-rename"));
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "unclassified", "{c:?}");
    assert!(c.pack_model.is_none() && c.held_back.is_some(), "{c:?}");
}

/// "Whose service it is holds": the shipped model is sure this is a hub
/// request, but nothing in it names a hub of 2i2c's, so it is not routed.
#[test]
fn the_pack_model_does_not_route_another_services_request() {
    let (subject, body) = ("Need more memory", "Our workshop participants run out of memory on the default server size, can the hub offer an 8 GB option for next week?");
    let p = pack("2i2c");
    let (best, x) = p.model.as_ref().expect("2i2c ships a model").best(&pack_model::features(subject, body)).expect("a procedure");
    assert_eq!(best, "infrastructure");
    assert!(x >= pack_model::MIN_ROUTE, "{x}");
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "unclassified", "{c:?}");
    assert!(c.pack_model.is_none(), "{c:?}");
    assert!(c.held_back.unwrap_or_default().contains("names none of our own services"));
}

/// A damaged model file is a located error at load, with what to do.
#[test]
fn a_damaged_pack_model_is_an_error_naming_the_file() {
    fn copy(from: &Path, to: &Path) {
        std::fs::create_dir_all(to).expect("a folder");
        for entry in std::fs::read_dir(from).expect("the pack") {
            let path = entry.expect("an entry").path();
            let target = to.join(path.file_name().expect("a name"));
            if path.is_dir() { copy(&path, &target) } else { std::fs::copy(&path, &target).map(|_| ()).expect("copied") }
        }
    }
    let dir = tempfile::tempdir().expect("a temp dir");
    copy(&root().join("templates/2i2c"), dir.path());
    Pack::load(dir.path()).expect("the copy loads with its model");
    std::fs::write(dir.path().join(pack_model::FILE), b"TRPM0001\x01\x00").expect("written");
    let problems = Pack::load(dir.path()).expect_err("the pack does not load");
    let text = format!("{problems:?}");
    assert!(text.contains(pack_model::FILE) && text.contains("train_pack_model"), "{text}");
}

/// The measure behind `MIN_ROUTE` (docs/CLASSIFICATION-LOG.md, "The pack's
/// model"): each sealed set's one look replayed from
/// tests/corpus/real/first-looks.tsv (the rules' routes before anyone read
/// the set), with a pack model trained on everything but that set. A
/// message the rules left unclassified is routed to the model's best
/// ordinary procedure at `MIN_ROUTE`.
///
///     cargo test --test classify pack_model_on_the_first_looks -- --ignored --nocapture
#[test]
#[ignore = "a measurement: prints the table of docs/CLASSIFICATION-LOG.md"]
fn pack_model_on_the_first_looks() {
    use triaged::classify::request;
    let looks = std::fs::read_to_string(root().join("tests/corpus/real/first-looks.tsv")).expect("first-looks.tsv");
    let looks: Vec<Vec<&str>> = looks.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    println!("| first looks r4 to r10 | rules: right, wrong routes; requests | routed by the model: right, wrong |");
    println!("|---|---|---|");
    for name in ["sourcehut", "2i2c", "cacert"] {
        let p = pack(name);
        let texts = request::labelled(root(), &[name]).expect("the real sets read");
        let (mut rules, mut routed) = ([0usize; 3], [0usize; 2]);
        for round in ["r4", "r5", "r6", "r7", "r8", "r9", "r10"] {
            let file = format!("issues-{round}.tsv");
            let examples: Vec<_> = texts.iter().filter(|t| t.set != file).map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
            let ids = pack_model::trained_procedures(&p, &examples);
            let model = PackModel::train(&examples, &ids);
            for row in looks.iter().filter(|r| r[0] == round && r[3] == name) {
                let (source, label, route) = (row[2], row[4], row[5]);
                let t = texts.iter().find(|t| t.set == file && t.source == source).expect("the look's row is in its set");
                rules[2] += usize::from(label != "unclassified");
                if route != "unclassified" {
                    rules[usize::from(route != label)] += 1;
                } else if let Some((best, x)) = model.best(&pack_model::features(&t.subject, &t.body))
                    && x >= pack_model::MIN_ROUTE
                {
                    routed[usize::from(best != label)] += 1;
                }
            }
        }
        println!("| {name} | {}, {}; {} | {}, {} |", rules[0], rules[1], rules[2], routed[0], routed[1]);
    }
}

/// Through the daemon: a usage question in words no 2i2c rule knows gets
/// the out-of-scope ticket and draft, and `status` names the pack's model
/// as what routed it.
#[test]
fn through_the_daemon_a_question_the_pack_model_routes_gets_its_draft() {
    use crate::support::harness::*;
    let s = setup_pack("2i2c", "");
    s.dovecot.deliver(
        "INBOX",
        &mail(1, "Reading a shapefile", "I can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?"),
    );
    let out = run_once(&s);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{log}");
    assert!(log.contains("classified: out-of-scope (the pack's model, probability"), "the log says what routed it: {log}");
    let status: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).expect("status --json");
    let t = &status["tickets"][0];
    assert_eq!(t["procedure"], "out-of-scope", "{status}");
    let d = drafts(&s);
    assert_eq!(d.len(), 1, "one draft");
    assert!(d[0].text.contains("Questions about day-to-day work in a"), "the out-of-scope reply: {}", d[0].text);
}

/// "The team's own examples come last": what the pack's model routed, the
/// team's model may route elsewhere, once staff have taught it that this
/// kind of mail is another procedure.
#[test]
fn the_teams_model_may_route_elsewhere_what_the_pack_model_routed() {
    use triaged::learn::{Features, Learner};
    let p = pack("2i2c");
    let (subject, body) = ("Reading a shapefile", "I can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?");
    // A known account writes: a sign of 2i2c's own hubs, which
    // infrastructure needs.
    let known = triaged::classify::own::Sender::Account;
    let raw = format!("From: a@example.net\r\nSubject: {subject}\r\nMessage-ID: <t@example.net>\r\n\r\n{body}\r\n");
    let msg = triaged::message::Message::parse(raw.into_bytes()).expect("parses");
    let by_pack = p.classify_from(&msg, known);
    assert_eq!((by_pack.procedure.as_str(), by_pack.pack_model.is_some()), ("out-of-scope", true), "{by_pack:?}");
    let dir = tempfile::tempdir().expect("a temp dir");
    let store = triaged::store::Store::open(dir.path()).expect("a store");
    let settings = triaged::config::LearningConfig { min_examples: 1, ..Default::default() };
    let learner = Learner::open(&store, settings).expect("a learner");
    let teach = |label: &str, text: &str| {
        let m = triaged::message::Message::parse(format!("From: b@example.net\r\nSubject: x\r\n\r\n{text}\r\n").into_bytes()).expect("parses");
        let example = triaged::store::Example { label: label.into(), source: text.into(), added: jiff::Timestamp::now(), features: Features::of_message(&m).hashes() };
        learner.learn(&example).expect("learned");
    };
    // Staff moved such mail to infrastructure: on this team's hubs the
    // geospatial drivers are part of the image.
    teach("infrastructure", "I can not open a shapefile with geopandas, the driver is not available on the hub.");
    teach("infrastructure", "geopandas cannot read my shapefile, driver not available in the hub image");
    teach("unclassified", "Thanks for the workshop yesterday, see you next month.");
    let (c, _) = learner.classify_from(&p, &msg, known);
    assert_eq!(c.procedure, "infrastructure", "{c:?}");
    assert!(c.model.as_ref().is_some_and(|m| m.decided), "{c:?}");
    assert!(c.pack_model.is_none(), "the pack's model no longer decided it: {c:?}");
}

/// The staff channel: the notice of a ticket the pack's model routed says
/// a model chose, as for the team's model.
#[tokio::test(flavor = "multi_thread")]
async fn the_staff_notice_says_a_model_chose() {
    use crate::support::harness::*;
    use crate::support::ircd::{IrcClient, Ircd};
    const CH: &str = "#support-staff";
    let ircd = Ircd::start();
    let s = setup_pack("2i2c", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    s.dovecot.deliver(
        "INBOX",
        &mail(1, "Reading a shapefile", "I can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?"),
    );
    let child = spawn_daemon(&s);
    let notice = alice.said_by("triaged", CH, |t| t.starts_with("#1 "), std::time::Duration::from_secs(30)).await;
    assert!(notice.contains("out-of-scope") && notice.contains("chosen by the model"), "{notice}");
    sigterm(child);
}

/// The measure behind `MIN_SENSITIVE_SIGN` and the confirmation of
/// sensitive near misses (docs/CLASSIFICATION-LOG.md, "The pack's model"):
/// today's rules over each sealed set r4 to r11 and Banking77's tune half,
/// each judged by a pack model trained without it. A message the rules
/// held back below the sensitive threshold is counted as confirmed when
/// the rules scored at least the sign, the model's best procedure is the
/// near miss at the probability, the guard and the request model let it
/// through and the request model read it (English, long enough). The
/// daemon also asks for a lead over the rules' runner-up, so this is at
/// most what it confirms. Then the held-out halves, once, by a model of
/// all the tune text (none of them in it), at the shipped settings.
///
///     cargo test --release --test classify pack_model_confirms_on_the_sealed_sets -- --ignored --nocapture
#[test]
#[ignore = "a measurement: prints the table of docs/CLASSIFICATION-LOG.md"]
fn pack_model_confirms_on_the_sealed_sets() {
    use triaged::classify::request;
    // The rules' sensitive near miss this model would confirm at (sign, p).
    let confirmed = |p: &Pack, model: &PackModel, subject: &str, body: &str, sign: f64, at: f64| -> Option<String> {
        let c = classify(p, subject, body);
        let near = c.runner_up.clone().filter(|_| c.procedure == "unclassified" && c.held_back.as_deref().is_some_and(|h| h.contains("(sensitive)")))?;
        let (best, x) = model.best(&pack_model::features(subject, body))?;
        let through = best == near && c.score >= sign && x >= at && request::judged(subject, body) && p.sensitive_hold(&message(subject, body), true, true).is_none();
        through.then_some(near)
    };
    println!("| sensitive near misses confirmed, sourcehut | p ≥ 0.7 | p ≥ 0.8 | p ≥ 0.9 |");
    println!("|---|---|---|---|");
    let mut p = pack("sourcehut");
    p.model = None;
    let ids: Vec<String> = p.procedures.iter().filter(|q| !q.by_content).map(|q| q.id.clone()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut texts = request::labelled(root(), &["sourcehut"]).expect("the real sets read");
    texts.extend(request::banking77(root(), false).expect("Banking77's tune half"));
    let sets = ["r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "banking77"];
    let models: Vec<(String, PackModel)> = sets
        .iter()
        .map(|round| {
            let file = if *round == "banking77" { "banking77.tsv".to_string() } else { format!("issues-{round}.tsv") };
            let examples: Vec<_> = texts.iter().filter(|t| t.set != file).map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
            (file, PackModel::train(&examples, &ids))
        })
        .collect();
    for sign in [1.0, 1.5, 2.0] {
        let mut cells = Vec::new();
        for at in [0.7, 0.8, 0.9] {
            let (mut right, mut wrong) = (0, 0);
            for (file, model) in &models {
                for t in texts.iter().filter(|t| &t.set == file) {
                    if let Some(near) = confirmed(&p, model, &t.subject, &t.body, sign, at) {
                        if near == t.label { right += 1 } else { wrong += 1 }
                    }
                }
            }
            cells.push(format!("{right} right, {wrong} wrong"));
        }
        println!("| rules' score ≥ {sign} | {} |", cells.join(" | "));
    }
    let examples: Vec<_> = texts.iter().map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
    let model = PackModel::train(&examples, &ids);
    let (mut right, mut wrong) = (0, 0);
    for file in ["issues.tsv", "issues-r2.tsv", "foreign.tsv", "foreign-issues.tsv"] {
        let rows = std::fs::read_to_string(root().join("tests/corpus/real").join(file)).expect("a set");
        for r in rows.lines().skip(1).map(|l| l.split('\t').collect::<Vec<_>>()).filter(|r| r[1] == "held-out" && r[2] == "sourcehut") {
            if let Some(near) = confirmed(&p, &model, r[4], r[5], pack_model::MIN_SENSITIVE_SIGN, pack_model::MIN_ROUTE) {
                if near == r[3] { right += 1 } else { wrong += 1 }
            }
        }
    }
    println!("held-out halves, shipped settings: {right} right, {wrong} wrong");
}

/// The trial behind "Routing into sensitive procedures alone, tried again
/// (not shipped)" (docs/CLASSIFICATION-LOG.md): on the first looks of the
/// fourth to tenth sets, the requests the rules of that day left unrouted,
/// and their lookalikes, each judged by
/// a model trained without its set. Counted when the model's best
/// procedure is a sensitive one at `p` or more, the text is one the
/// request model reads (English, over 80 characters) and today's guard
/// and the shipped request model let it through (that model learned
/// these sets: it can only hold back more). Not shipped: see the
/// document.
///
///     cargo test --release --test classify pack_model_alone_on_sensitive_first_looks -- --ignored --nocapture
#[test]
#[ignore = "a trial on the first looks, for docs/CLASSIFICATION-LOG.md; prints a table"]
fn pack_model_alone_on_sensitive_first_looks() {
    use triaged::classify::request;
    let looks = std::fs::read_to_string(root().join("tests/corpus/real/first-looks.tsv")).expect("first-looks.tsv");
    let looks: Vec<Vec<&str>> = looks.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let mut p = pack("sourcehut");
    p.model = None;
    let sensitive = |id: &str| p.procedure(id).is_some_and(|q| q.sensitive);
    let ids: Vec<String> = p.procedures.iter().filter(|q| !q.by_content).map(|q| q.id.clone()).collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    let mut texts = request::labelled(root(), &["sourcehut"]).expect("the real sets read");
    texts.extend(request::banking77(root(), false).expect("Banking77's tune half"));
    let thresholds = [0.9, 0.95, 0.98, 0.99];
    let mut counts = vec![(0usize, 0usize); thresholds.len()];
    let mut missed = 0;
    for round in ["r4", "r5", "r6", "r7", "r8", "r9", "r10"] {
        let file = format!("issues-{round}.tsv");
        let examples: Vec<_> = texts.iter().filter(|t| t.set != file).map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
        let model = PackModel::train(&examples, &ids);
        for row in looks.iter().filter(|r| r[0] == round && r[3] == "sourcehut" && r[5] == "unclassified") {
            let (source, label) = (row[2], row[4]);
            let t = texts.iter().find(|t| t.set == file && t.source == source).expect("the look's row is in its set");
            missed += usize::from(label != "unclassified");
            let Some((best, x)) = model.best(&pack_model::features(&t.subject, &t.body)) else { continue };
            if !sensitive(best) || !request::judged(&t.subject, &t.body) || p.sensitive_hold(&message(&t.subject, &t.body), true, true).is_some() {
                continue;
            }
            for (n, at) in thresholds.iter().enumerate() {
                if x >= *at {
                    if best == label { counts[n].0 += 1 } else { counts[n].1 += 1 }
                }
            }
        }
    }
    println!("sourcehut, first looks r4 to r10: {missed} requests the rules left unrouted");
    println!("| the model alone, sensitive | {} |", thresholds.map(|t| format!("p ≥ {t}")).join(" | "));
    println!("|---|{}", "---|".repeat(thresholds.len()));
    println!("| right, wrong | {} |", counts.iter().map(|(r, w)| format!("{r}, {w}")).collect::<Vec<_>>().join(" | "));
}

/// A trial for 2i2c's ordinary procedures (sourcehut's and CAcert's
/// read sets hold no ordinary near miss): the rules' near miss (their
/// best procedure scored at least `sign`, below the threshold) confirmed
/// by a model that agrees at `p`, with and without the precision guard's
/// sign of the writer's own request, on the sets r4 to r11, each judged
/// by a model trained without it, under today's rules. For
/// docs/CLASSIFICATION-LOG.md.
///
///     cargo test --test classify pack_model_confirms_ordinary_near_misses -- --ignored --nocapture
#[test]
#[ignore = "a trial on the read sets, for docs/CLASSIFICATION-LOG.md; prints a table"]
fn pack_model_confirms_ordinary_near_misses() {
    use triaged::classify::request;
    let thresholds = [0.5, 0.7, 0.9];
    let signs = [1.0, 1.5, 2.0, 2.5];
    let mut p = pack("2i2c");
    p.model = None;
    let texts = request::labelled(root(), &["2i2c"]).expect("the real sets read");
    // [guard][sign][threshold] → (right, wrong).
    let mut counts = vec![vec![vec![(0usize, 0usize); thresholds.len()]; signs.len()]; 2];
    let mut near = 0;
    for round in ["r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"] {
        let file = format!("issues-{round}.tsv");
        let examples: Vec<_> = texts.iter().filter(|t| t.set != file).map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
        let ids = pack_model::trained_procedures(&p, &examples);
        let model = PackModel::train(&examples, &ids);
        for t in texts.iter().filter(|t| t.set == file) {
            let c = classify(&p, &t.subject, &t.body);
            let Some(miss) = c.runner_up.clone().filter(|_| c.procedure == "unclassified" && c.held_back.as_deref().is_some_and(|h| h.contains(" < "))) else { continue };
            if p.procedure(&miss).is_none_or(|q| q.sensitive || q.by_content) {
                continue;
            }
            near += 1;
            let Some((best, x)) = model.best(&pack_model::features(&t.subject, &t.body)) else { continue };
            if best != miss {
                continue;
            }
            let held = p.sensitive_hold(&message(&t.subject, &t.body), true, false).is_some();
            let right = best == t.label || (t.label == "unclassified" && best == "out-of-scope");
            for (g, guard) in [false, true].into_iter().enumerate() {
                for (s, sign) in signs.iter().enumerate() {
                    for (n, at) in thresholds.iter().enumerate() {
                        if x >= *at && c.score >= *sign && !(guard && held) {
                            if right { counts[g][s][n].0 += 1 } else { counts[g][s][n].1 += 1 }
                        }
                    }
                }
            }
        }
    }
    println!("2i2c, r4 to r11: {near} ordinary near misses of today's rules");
    println!("| the rules' score, the model confirms: right, wrong | {} |", thresholds.map(|t| format!("p ≥ {t}")).join(" | "));
    println!("|---|{}", "---|".repeat(thresholds.len()));
    for (g, guard) in ["", ", the guard passes"].iter().enumerate() {
        for (s, sign) in signs.iter().enumerate() {
            println!("| ≥ {sign}{guard} | {} |", counts[g][s].iter().map(|(r, w)| format!("{r}, {w}")).collect::<Vec<_>>().join(" | "));
        }
    }
}

/// A trial of more training text: each read set r4 to r11 judged by a
/// pack's model trained without it and without the twelfth to fourteenth
/// sets, then by one trained with those three.
/// Prints counts only: what the model routed, right and wrong, and each
/// pack's recall and precision on the read sets. For
/// docs/CLASSIFICATION-LOG.md.
///
///     cargo test --test classify pack_model_with_more_sets -- --ignored --nocapture
#[test]
#[ignore = "a trial on the read sets, for docs/CLASSIFICATION-LOG.md; prints a table"]
fn pack_model_with_more_sets() {
    use triaged::classify::request;
    println!("| read sets r4 to r11, each without itself | model's routes: right, wrong | recall | precision | sensitive misroutes |");
    println!("|---|---|---|---|---|");
    for name in ["sourcehut", "2i2c", "cacert"] {
        let mut p = pack(name);
        let sensitive = |id: &str| p.procedure(id).is_some_and(|q| q.sensitive);
        let sensitive: std::collections::HashSet<String> = p.procedures.iter().filter(|q| sensitive(&q.id)).map(|q| q.id.clone()).collect();
        // The twelfth to fourteenth sets are in the corpus since this trial
        // chose to learn them: taken out of it, they are the text added.
        let added = ["issues-r12.tsv", "issues-r13.tsv", "issues-r14.tsv"];
        let (more, mut texts): (Vec<_>, Vec<_>) = request::labelled(root(), &[name]).expect("the real sets read").into_iter().partition(|t| added.contains(&t.set.as_str()));
        if name == "sourcehut" {
            texts.extend(request::banking77(root(), false).expect("Banking77's tune half"));
        }
        let more: Vec<_> = more.into_iter().map(|t| (pack_model::features(&t.subject, &t.body), t.label)).collect();
        for (with, extra) in [("without", Vec::new()), ("with r12 to r14", more)] {
            let (mut routed, mut req, mut rec, mut all_routed, mut right, mut smis) = ([0usize; 2], 0, 0, 0, 0, 0);
            for round in ["r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"] {
                let file = format!("issues-{round}.tsv");
                let mut examples: Vec<_> = texts.iter().filter(|t| t.set != file).map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
                examples.extend(extra.iter().cloned());
                let ids = pack_model::trained_procedures(&p, &examples);
                p.model = Some(std::sync::Arc::new(PackModel::train(&examples, &ids)));
                for t in texts.iter().filter(|t| t.set == file) {
                    let c = classify(&p, &t.subject, &t.body);
                    let got = c.procedure.as_str();
                    let ok = got == t.label || (name == "2i2c" && t.label == "unclassified" && got == "out-of-scope");
                    if c.pack_model.is_some() {
                        routed[usize::from(!ok)] += 1;
                    }
                    if t.label != "unclassified" {
                        req += 1;
                        rec += usize::from(got == t.label);
                    }
                    if got != "unclassified" {
                        all_routed += 1;
                        right += usize::from(ok);
                        smis += usize::from(!ok && (sensitive.contains(got) || sensitive.contains(&t.label)));
                    }
                }
            }
            println!("| {name}, {with} | {}, {} | {rec}/{req} | {right}/{all_routed} | {smis} |", routed[0], routed[1]);
        }
    }
}

/// A trial of a lower probability for the one redirect that harms no one
/// when unneeded: 2i2c's `out-of-scope` (everyday questions to the forum).
/// Each read set r4 to r14 judged by a pack's model trained without it;
/// counted: the questions the shipped gates leave unclassified that the
/// model would send to out-of-scope at each probability below
/// `MIN_ROUTE`, where the rules scored nothing else (no runner-up but
/// out-of-scope itself) and no gate of whose hub held it back. Right: a
/// usage question, or a text not ours (the redirect is harmless there);
/// wrong: a hub request of ours sent to the forum.
///
///     cargo test --test classify pack_model_usage_questions_lower -- --ignored --nocapture
#[test]
#[ignore = "a trial on the read sets, for docs/CLASSIFICATION-LOG.md; prints a table"]
fn pack_model_usage_questions_lower() {
    use triaged::classify::request;
    let thresholds = [0.5, 0.6, 0.7, 0.8];
    let mut p = pack("2i2c");
    let texts = request::labelled(root(), &["2i2c"]).expect("the real sets read");
    let mut counts = vec![(0usize, 0usize, 0usize); thresholds.len()];
    let (mut questions, mut found) = (0, 0);
    for round in ["r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12", "r13", "r14"] {
        let file = format!("issues-{round}.tsv");
        let examples: Vec<_> = texts.iter().filter(|t| t.set != file).map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
        let ids = pack_model::trained_procedures(&p, &examples);
        let model = std::sync::Arc::new(PackModel::train(&examples, &ids));
        p.model = Some(model.clone());
        for t in texts.iter().filter(|t| t.set == file) {
            let c = classify(&p, &t.subject, &t.body);
            questions += usize::from(t.label == "out-of-scope");
            found += usize::from(t.label == "out-of-scope" && c.procedure == "out-of-scope");
            if c.procedure != "unclassified" || c.runner_up.as_deref().is_some_and(|r| r != "out-of-scope") || c.own.as_ref().is_some_and(|o| !o.gated.is_empty()) {
                continue;
            }
            let Some((best, x)) = model.best(&pack_model::features(&t.subject, &t.body)) else { continue };
            if best != "out-of-scope" {
                continue;
            }
            for (n, at) in thresholds.iter().enumerate() {
                if x >= *at {
                    match t.label.as_str() {
                        "out-of-scope" => counts[n].0 += 1,
                        "unclassified" => counts[n].1 += 1,
                        _ => counts[n].2 += 1,
                    }
                }
            }
        }
    }
    println!("2i2c, r4 to r14, each without itself: {found} of {questions} usage questions routed as shipped");
    println!("| more routes to out-of-scope | {} |", thresholds.map(|t| format!("p ≥ {t}")).join(" | "));
    println!("|---|{}", "---|".repeat(thresholds.len()));
    println!("| usage questions (right) | {} |", counts.iter().map(|c| c.0.to_string()).collect::<Vec<_>>().join(" | "));
    println!("| not ours (harmless) | {} |", counts.iter().map(|c| c.1.to_string()).collect::<Vec<_>>().join(" | "));
    println!("| hub requests of ours (wrong) | {} |", counts.iter().map(|c| c.2.to_string()).collect::<Vec<_>>().join(" | "));
}

/// Other projects' usage questions (`request::QUESTIONS`) in five folds
/// by the hash of their address: each fold classified by
/// the pack with a model trained on everything but that fold, so every
/// figure is of text the model did not learn (the rules have read none of
/// it either). Prints the routes and, with `SHOW_MISSES=1`, why each
/// usage question missed was not routed.
///
///     cargo test --release --test classify pack_model_on_usage_questions_by_fold -- --ignored --nocapture
#[test]
#[ignore = "a measurement: prints the table of docs/CLASSIFICATION-LOG.md"]
fn pack_model_on_usage_questions_by_fold() {
    use sha2::Digest;
    use triaged::classify::request::QUESTIONS;
    let show = std::env::var_os("SHOW_MISSES").is_some();
    let mut p = pack("2i2c");
    let texts = pack_model::corpus_texts(root(), "2i2c").expect("the corpus reads");
    let fold = |source: &str| sha2::Sha256::digest(source.as_bytes())[0] % 5;
    let asked = |t: &triaged::classify::request::Text| QUESTIONS.contains(&t.set.as_str());
    // set → [questions found, questions, lookalikes routed, lookalikes]
    let mut counts: std::collections::BTreeMap<&str, [usize; 4]> = Default::default();
    let mut reasons: std::collections::BTreeMap<String, usize> = Default::default();
    for k in 0..5 {
        let examples: Vec<_> = texts.iter().filter(|t| !(asked(t) && fold(&t.source) == k)).map(|t| (pack_model::features(&t.subject, &t.body), t.label.clone())).collect();
        let ids = pack_model::trained_procedures(&p, &examples);
        p.model = Some(std::sync::Arc::new(PackModel::train(&examples, &ids)));
        for t in texts.iter().filter(|t| asked(t) && fold(&t.source) == k) {
            let c = classify(&p, &t.subject, &t.body);
            let n = counts.entry(if t.set.starts_with("questions") { "notebook tools" } else { "other software" }).or_default();
            if t.label == "out-of-scope" {
                n[1] += 1;
                if c.procedure == "out-of-scope" {
                    n[0] += 1;
                } else {
                    let why = c.held_back.clone().unwrap_or_else(|| format!("routed to {}", c.procedure));
                    // The reason's kind, without its figures.
                    let kind: String = why.split(|ch: char| ch.is_ascii_digit()).next().unwrap_or_default().trim().to_string();
                    *reasons.entry(kind).or_default() += 1;
                    if show {
                        println!("missed: {} ({why}): {:?}", t.source, t.subject);
                    }
                }
            } else {
                n[3] += 1;
                n[2] += usize::from(c.procedure != "unclassified");
            }
        }
    }
    println!("| usage questions, five folds | questions routed to out-of-scope | lookalikes routed (out-of-scope: harmless) |");
    println!("|---|---|---|");
    for (set, [found, questions, routed, lookalikes]) in &counts {
        println!("| {set} | {found}/{questions} | {routed}/{lookalikes} |");
    }
    for (why, n) in reasons {
        println!("{n:4}  {why}");
    }
}
