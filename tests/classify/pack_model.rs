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

/// "Never a sensitive one": a deletion request the rules miss stays with a
/// person, even when the model is sure of it (here a model that learned
/// this very text as a deletion request).
#[test]
fn the_pack_model_never_routes_into_a_sensitive_procedure() {
    let (subject, body) = ("Close everything", "I'm done with the service. Please wipe my user and every repository I own.");
    let mut p = pack("sourcehut");
    p.model = Some(sure_of(subject, body, "account-deletion"));
    let c = classify(&p, subject, body);
    assert_eq!(c.procedure, "unclassified", "{c:?}");
    assert!(c.pack_model.is_none(), "{c:?}");
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

/// The measure behind `MIN_ROUTE` (docs/CLASSIFICATION.md, "The pack's
/// model"): each sealed set's one look replayed from
/// tests/corpus/real/first-looks.tsv (the rules' routes before anyone read
/// the set), with a pack model trained on everything but that set. A
/// message the rules left unclassified is routed to the model's best
/// ordinary procedure at `MIN_ROUTE`.
///
///     cargo test --test classify pack_model_on_the_first_looks -- --ignored --nocapture
#[test]
#[ignore = "a measurement: prints the table of docs/CLASSIFICATION.md"]
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
