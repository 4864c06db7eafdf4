//! Per-stage costs on one realistic message: parse, classify (the
//! sourcehut pack; the 2i2c pack on a hub incident), the set-aside check and draft (render + build). Run with `cargo bench --bench pipeline`; results in
//! docs/BENCHMARKS.md.

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use triaged::act::draft::{Drafter, reply_target};
use triaged::procedures::Pack;
use triaged::message::Message;
use triaged::store::TicketId;

fn sample() -> Vec<u8> {
    let mut m = String::from(
        "From: =?utf-8?q?J=C3=BCrgen?= <j@example.net>\r\nTo: support@example.org\r\nSubject: Please delete my account\r\nMessage-ID: <bench@example.net>\r\nReferences: <a@x> <b@x>\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
    );
    for _ in 0..40 {
        m.push_str("Hello, I would like my account and all my repositories removed, thanks.\r\n");
    }
    m.push_str("--b\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>Hello, please delete my account.</p>\r\n--b--\r\n");
    m.into_bytes()
}

fn stages(c: &mut Criterion) {
    let raw = sample();
    let mut g = c.benchmark_group("stages");
    g.throughput(Throughput::Elements(1));
    g.bench_function("parse", |b| b.iter(|| Message::parse(raw.clone()).unwrap()));

    let pack = Pack::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/sourcehut"))).unwrap();
    let msg = Message::parse(raw.clone()).unwrap();
    g.bench_function("classify", |b| b.iter(|| pack.classify(&msg)));
    // A sensitive route the request model judges (English the language
    // detector is sure of, over 80 characters; the sample above is not
    // one), and the model's own share of it.
    let judged = Message::parse(
        b"From: a@example.net\r\nTo: support@example.org\r\nSubject: Please delete my account\r\nMessage-ID: <j@example.net>\r\n\r\nHi, I no longer use the service and would like you to delete my account and all my repositories. Thank you!\r\n".to_vec(),
    )
    .unwrap();
    let (subject, body) = (triaged::classify::rules::clean_subject(&judged.subject), triaged::message::strip_quoted(&judged.text));
    assert!(triaged::classify::request::judged(&subject, &body), "the request model judges this one");
    g.bench_function("classify, judged by the request model", |b| b.iter(|| pack.classify(&judged)));
    g.bench_function("classify: the request model alone", |b| b.iter(|| triaged::classify::request::hold(&subject, &body)));
    // A deletion request in German, as long as a polite letter runs: a
    // text with non-ASCII letters, where the lazy DFA cannot read a
    // Unicode `\b` and the rules are searched near their words or by a
    // slower engine (`forward_regex`).
    let german = Message::parse(include_bytes!("german-request.eml").to_vec()).unwrap();
    assert_eq!(pack.classify(&german).procedure, "account-deletion", "the German request is routed");
    g.bench_function("classify: a 2 KiB request in German", |b| b.iter(|| pack.classify(&german)));
    // What the daemon does before classifying: is it mail nobody answers?
    let aside = triaged::classify::aside::AsidePolicy {
        receiving_server: Some("mx.example.org".into()),
        support_lists: vec!["support.lists.example.org".into()],
    };
    g.bench_function("set-aside check", |b| b.iter(|| aside.judge(&msg)));
    // The 2i2c pack on a hub incident as community representatives write
    // them (the real set's kind of text).
    let twoi2c = Pack::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/2i2c"))).unwrap();
    let incident = Message::parse(
        b"From: a@example.net\r\nSubject: Our hub is unreachable\r\n\r\nSince this morning nobody can start a server on https://ohw.2i2c.cloud: spawn failed, 503 errors. Kernels that were running died. We have a class at 2pm, please have a look.\r\n".to_vec(),
    )
    .unwrap();
    g.bench_function("classify (2i2c pack)", |b| b.iter(|| twoi2c.classify(&incident)));
    // A usage question the rules miss and the pack's model routes, and the
    // model's own share of it.
    let question = Message::parse(
        b"From: a@example.net\r\nSubject: Reading a shapefile\r\n\r\nI can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?\r\n".to_vec(),
    )
    .unwrap();
    assert!(twoi2c.classify(&question).pack_model.is_some(), "the pack's model routes this one");
    g.bench_function("classify (2i2c pack), routed by the pack's model", |b| b.iter(|| twoi2c.classify(&question)));
    let model = twoi2c.model.clone().expect("the 2i2c pack ships a model");
    g.bench_function("classify: the pack's model alone", |b| {
        b.iter(|| model.best(&triaged::classify::pack_model::features("Reading a shapefile", "I can not open a shapefile with geopandas, it says the driver is not available. Any idea how to read it?")))
    });

    // The rules and the local model, trained on the 10,003 messages of
    // tests/learn-data (features only; the model the daemon would hold).
    let dir = tempfile::tempdir().unwrap();
    let store = triaged::store::Store::open(dir.path()).unwrap();
    let learner = triaged::learn::Learner::open(&store, triaged::config::LearningConfig::default()).unwrap();
    let csv = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/learn-data/banking77-train.csv")).unwrap();
    for line in csv.lines().skip(1) {
        let Some((text, intent)) = line.rsplit_once(',') else { continue };
        let label = if intent == "request_refund" { "refund" } else { triaged::classify::UNCLASSIFIED };
        let features = triaged::learn::Features::of_text("", text).hashes();
        let ex = triaged::store::Example { label: label.into(), source: String::new(), added: jiff::Timestamp::UNIX_EPOCH, features };
        learner.learn(&ex).unwrap();
    }
    g.bench_function("classify+model", |b| b.iter(|| learner.classify(&pack, &msg)));
    let unclassified = Message::parse(
        b"From: a@example.net\r\nSubject: a question\r\n\r\nI was billed for a plan I never used, could you return what I paid?\r\n".to_vec(),
    )
    .unwrap();
    g.bench_function("classify+model, rules unsure", |b| b.iter(|| learner.classify(&pack, &unclassified)));
    // The model sure of a sensitive procedure the rules saw no sign of:
    // the sketches of all 10,003 examples are searched for a request taught
    // before (docs/CLASSIFICATION.md, "Learning from the team").
    let searched = ["The merchant will not take back the item, can you get my money?", "I was charged for something I didn't buy."]
        .into_iter()
        .map(|text| Message::parse(format!("From: a@example.net\r\nSubject: \r\n\r\n{text}\r\n").into_bytes()).unwrap())
        .find(|m| learner.classify(&pack, m).0.model.and_then(|o| o.not_used).is_some_and(|w| w.contains("no example taught of it is that alike")))
        .expect("a query whose sensitive vote is searched for a twin");
    g.bench_function("classify+model, a sensitive vote searched for a request taught before", |b| b.iter(|| learner.classify(&pack, &searched)));

    // A Gmail reply sent as HTML alone, quoting the initial mail (about
    // 3 KiB): its text is read with the quote as quoted lines, and what it
    // means for the step that asked is read from the whole message.
    let mut html = String::from(
        "From: Ann Example <ann@example.net>\r\nSubject: Re: [#1] Please delete my account\r\nMIME-Version: 1.0\r\n\
         Content-Type: text/html; charset=utf-8\r\n\r\n<div dir=\"ltr\">Yes, I confirm the deletion and accept the arbitration.<div><br></div><div>Ann</div></div>\
         <br><div class=\"gmail_quote\"><div dir=\"ltr\" class=\"gmail_attr\">On Tue, Dec 1, 2026 at 9:00 AM CAcert support &lt;support@cacert.org&gt; wrote:<br></div>\
         <blockquote class=\"gmail_quote\" style=\"margin:0 0 0 .8ex;border-left:1px #ccc solid;padding-left:1ex\">",
    );
    for _ in 0..30 {
        html.push_str("<div>If this was sent by accident, please respond to this notification within 14 days.</div>");
    }
    html.push_str("</blockquote></div>\r\n");
    let reply_raw = html.into_bytes();
    g.bench_function("parse: an HTML-only reply with a quote", |b| b.iter(|| Message::parse(reply_raw.clone()).unwrap()));
    let cacert = Pack::load(std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/cacert"))).unwrap();
    let reply = Message::parse(reply_raw.clone()).unwrap();
    assert_eq!(cacert.intent(&reply), triaged::procedures::intent::Intent::Confirm, "the bench reads a confirmation");
    g.bench_function("reply intent of that reply", |b| b.iter(|| cacert.intent(&reply)));

    let drafter = Drafter::new("Support <support@example.org>").unwrap();
    let ctx = serde_json::json!({"ticket": 42, "sender_name": "Jürgen", "sender_email": "j@example.net", "subject": msg.subject, "signature": "-- \nSupport"});
    g.bench_function("render+build draft", |b| {
        b.iter(|| {
            let body = triaged::procedures::render(&pack, "acknowledge.txt", &ctx).unwrap();
            let id = drafter.draft_message_id(TicketId(42), 0, &msg.message_id);
            drafter.build(&reply_target(&msg), TicketId(42), &id, body).unwrap()
        })
    });
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
