//! The request model's weights are the ones its corpus trains: nobody can
//! ship weights from text that is not in the tree, and a changed set is
//! not forgotten in the model.

use std::path::Path;

use triaged::classify::request;

#[test]
fn the_shipped_request_model_is_the_one_the_real_text_trains() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = request::corpus(root).expect("the real sets read");
    let examples: Vec<_> = corpus.iter().map(|t| (request::features(&t.subject, &t.body), t.request)).collect();
    assert!(examples.iter().filter(|(_, y)| *y).count() > 400, "the requests of the real sets are learned");
    let (bias, weights) = request::train(&examples);
    let shipped = std::fs::read(root.join("daemon/classify/request_model.bin")).expect("the shipped weights");
    assert!(
        request::to_bytes(bias, &weights) == shipped,
        "daemon/classify/request_model.bin is not what tests/corpus/real trains: run `cargo run --release --example train_request_model` and commit the file"
    );
}

/// The measure behind `MIN_REQUEST` and `MIN_CHARS` (docs/CLASSIFICATION-LOG.md,
/// "The request model"): each sealed set's one look replayed, its routes
/// into sensitive procedures taken from tests/corpus/real/first-looks.tsv
/// (the rules as they were before anyone read the set), judged by a model
/// trained on everything but that set; and the packs' written mail, half
/// learned and half judged.
///
///     cargo test --test classify request_model_on_the_first_looks -- --ignored --nocapture
#[test]
#[ignore = "a measurement: prints the tables of docs/CLASSIFICATION-LOG.md"]
fn request_model_on_the_first_looks() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = request::corpus(root).expect("the real sets read");
    let packs: std::collections::BTreeMap<&str, triaged::procedures::Pack> = ["sourcehut", "cacert"]
        .into_iter()
        .map(|p| (p, triaged::procedures::Pack::load(&root.join("templates").join(p)).expect("the pack loads")))
        .collect();
    let sensitive = |pack: &str, id: &str| packs[pack].procedure(id).is_some_and(|p| p.sensitive);
    let looks = std::fs::read_to_string(root.join("tests/corpus/real/first-looks.tsv")).expect("first-looks.tsv");
    let looks: Vec<Vec<&str>> = looks.lines().skip(1).map(|l| l.split('\t').collect()).collect();
    let model_without = |leave: &dyn Fn(&request::Text) -> bool| {
        let examples: Vec<_> = corpus.iter().filter(|t| !leave(t)).map(|t| (request::features(&t.subject, &t.body), t.request)).collect();
        let (bias, weights) = request::train(&examples);
        request::to_bytes(bias, &weights)
    };
    let thresholds = [0.0, 0.3, 0.4, 0.5];
    // (threshold, gated) -> (right kept, right held, wrong kept, wrong held)
    let mut table: std::collections::BTreeMap<(usize, bool), [usize; 4]> = Default::default();
    for round in ["r4", "r5", "r6", "r7", "r8", "r9", "r10"] {
        let file = format!("issues-{round}.tsv");
        let bytes = model_without(&|t: &request::Text| t.set == file);
        let model = request::RequestModel::from_bytes(&bytes).expect("a model");
        let texts: std::collections::HashMap<(&str, bool), &request::Text> = corpus.iter().filter(|t| t.set == file).map(|t| ((t.source.as_str(), t.request), t)).collect();
        for row in looks.iter().filter(|r| r[0] == round && packs.contains_key(r[3]) && sensitive(r[3], r[5])) {
            let (source, label, route) = (row[2], row[4], row[5]);
            let t = texts[&(source, label != "unclassified")];
            let p = model.probability(&t.subject, &t.body);
            for (i, min) in thresholds.iter().enumerate() {
                for gated in [false, true] {
                    let held = p < *min && (!gated || request::judged(&t.subject, &t.body));
                    let cell = &mut table.entry((i, gated)).or_default()[usize::from(label != route) * 2 + usize::from(held)];
                    *cell += 1;
                }
            }
        }
    }
    println!("| sensitive routes of the first looks (r4 to r10) | gates | right kept | right held back | wrong kept | wrong held back |");
    println!("|---|---|---|---|---|---|");
    for ((i, gated), c) in &table {
        println!("| p < {} | {} | {} | {} | {} | {} |", thresholds[*i], if *gated { "English, > 80 chars" } else { "none" }, c[0], c[1], c[2], c[3]);
    }
    // Written mail: every other file learned, the rest judged.
    let mail: Vec<&request::Text> = corpus.iter().filter(|t| t.set == "mail").collect();
    let judged: std::collections::HashSet<&str> = mail.iter().skip(1).step_by(2).map(|t| t.source.as_str()).collect();
    let bytes = model_without(&|t: &request::Text| judged.contains(t.source.as_str()));
    let model = request::RequestModel::from_bytes(&bytes).expect("a model");
    for min in thresholds {
        let requests: Vec<&&request::Text> = mail.iter().filter(|t| t.request && judged.contains(t.source.as_str())).collect();
        let held = requests.iter().filter(|t| request::judged(&t.subject, &t.body) && model.probability(&t.subject, &t.body) < min).count();
        println!("written mail not learned, requests held back at p < {min} (gated): {held}/{}", requests.len());
    }
}

fn classify(pack: &str, subject: &str, body: &str) -> triaged::classify::Classification {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let pack = triaged::procedures::Pack::load(&root.join("templates").join(pack)).expect("the pack loads");
    let raw = format!("From: someone@example.net\r\nTo: support@example.org\r\nSubject: {subject}\r\nMessage-ID: <r@example.net>\r\n\r\n{body}\r\n");
    pack.classify(&triaged::message::Message::parse(raw.into_bytes()).expect("parses"))
}

/// "A sensitive route that passes the guard's signs still needs the
/// request model to read the text as its writer's own request": a
/// question about a student plan (a row of the real set, which the model
/// learned as no request) is held back, and `held_back` says by what.
#[test]
fn a_sensitive_route_the_model_reads_as_talk_goes_to_a_person() {
    let c = classify(
        "sourcehut",
        "Free to personal account - Do we need it?",
        "I can read this in the website: As a student you can upgrade your free account to a personal account (normally $7/month). Do we need to do it now? Thank you",
    );
    assert_eq!(c.procedure, "unclassified", "{c:?}");
    assert_eq!(c.runner_up.as_deref(), Some("cannot-pay"));
    let why = c.held_back.unwrap_or_default();
    assert!(why.contains("the request model reads it as talk about the topic"), "{why}");
}

/// The writer's own request, in English and long enough to be judged,
/// still routes.
#[test]
fn a_request_in_plain_words_passes_the_request_model() {
    let c = classify(
        "sourcehut",
        "Please delete my account",
        "Hi, I no longer use the service and would like you to delete my account and all my repositories. Thank you!",
    );
    assert_eq!(c.procedure, "account-deletion", "{c:?}");
}

/// "It judges only English text longer than 80 characters": a request in
/// German of any length is the rules' and the guard's alone.
#[test]
fn text_in_other_languages_is_not_judged_by_the_request_model() {
    assert!(!request::judged("Konto löschen", "Hallo, bitte löschen Sie mein Konto und alle meine Repositories. Ich brauche es nicht mehr. Vielen Dank!"));
    assert!(!request::judged("Delete", "Please delete my account."), "too short to judge");
    assert!(request::judged("Please delete my account", "Hi, I no longer use the service and would like you to delete my account and all my repositories. Thank you!"));
}
