//! Raw bytes to a rendered draft, the way `act` does it for a new ticket:
//! parse, classify against the sourcehut pack, redact and scan, render the
//! acknowledgement (and the classified procedure's first step), build the
//! reply, and parse that reply again. Nothing may panic, and every draft
//! must be 7-bit clean with exactly one From, one To and one Subject, so a
//! sender's name or subject can never smuggle in a header.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use mail_parser::{HeaderName, MessageParser};
use serde_json::{Map, Value, json};
use triaged::act::draft::{Drafter, reply_target};
use triaged::procedures::engine::{Engine, ManualClock, MemoryNumbers, ReplyFrom, TicketView};
use triaged::classify::sensitive;
use triaged::procedures::{Event, Pack, render};
use triaged::message::{Message, sanitize_line};
use triaged::store::TicketId;

const TICKET: TicketId = TicketId(42);

fn pack() -> &'static Pack {
    static PACK: OnceLock<Pack> = OnceLock::new();
    PACK.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/sourcehut");
        Pack::load(&dir).expect("the sourcehut pack loads")
    })
}

fn clock() -> &'static ManualClock {
    static CLOCK: OnceLock<ManualClock> = OnceLock::new();
    CLOCK.get_or_init(|| {
        let start: jiff::Timestamp = "2026-01-15T10:00:00Z".parse().expect("fixed time");
        ManualClock::new(start.to_zoned(jiff::tz::TimeZone::UTC))
    })
}

fn drafter() -> &'static Drafter {
    static DRAFTER: OnceLock<Drafter> = OnceLock::new();
    DRAFTER.get_or_init(|| Drafter::new("Support <support@example.org>").expect("fixed from"))
}

fuzz_target!(|data: &[u8]| {
    let Ok(msg) = Message::parse(data.to_vec()) else { return };
    let pack = pack();
    let class = pack.classify(&msg);
    let findings = sensitive::scan(&msg.text);
    let _ = sensitive::redact(&msg.text);

    // The same context `Actor::open` builds (identity left out: no network).
    let sender = msg.reply_recipient();
    let mut data = Map::new();
    data.insert("sender_name".into(), Value::from(sender.name.as_deref().map(sanitize_line).unwrap_or_default()));
    data.insert("sender_email".into(), Value::from(sender.email.clone()));
    data.insert("subject".into(), Value::from(sensitive::redact(&msg.subject_line(200))));
    data.insert("signature".into(), Value::from("-- \nThe support team"));
    data.insert("classification".into(), serde_json::to_value(&class).unwrap_or_default());
    data.insert("credential_kinds".into(), json!(findings.credentials));
    data.insert("age_blocks".into(), json!(findings.age_blocks));
    let mut ack = data.clone();
    ack.insert("ticket".into(), Value::from(TICKET.0));
    let body = render(pack, "acknowledge.txt", &Value::Object(ack)).expect("the acknowledgement renders for any message");
    check_draft(&msg, body);

    // The classified procedure's first step, then the same message as a reply.
    let engine = Engine::new(pack, clock());
    let mut numbers = MemoryNumbers::default();
    if pack.procedure(&class.procedure).is_some() {
        let view = TicketView { number: TICKET.0, step: None, data: &data };
        if let Ok(plan) = engine.plan(&class.procedure, view, &Event::NewMessage, &mut numbers) {
            if let Some(body) = plan.template.as_deref().and_then(|t| render(pack, t, &plan.context).ok()) {
                check_draft(&msg, body);
            }
            let view = TicketView { number: TICKET.0, step: plan.step.as_deref(), data: &data };
            let event = Event::Reply { text: msg.text.clone(), intent: pack.intent(&msg), from: ReplyFrom::Requester };
            let _ = engine.plan(&class.procedure, view, &event, &mut numbers);
        }
    }
});

fn check_draft(msg: &Message, body: String) {
    let target = reply_target(msg);
    let d = drafter();
    let id = d.draft_message_id(TICKET, 0, &target.message_id);
    let Ok(draft) = d.build(&target, TICKET, &id, body) else { return };
    // 7-bit everywhere, except an internationalised recipient address
    // (RFC 6532): a local part like `tomás` has no ASCII form, and replying
    // to it needs SMTPUTF8 anyway. Names, subject and body are encoded.
    let text = String::from_utf8_lossy(&draft.bytes);
    let rest = if target.email.is_ascii() { text.to_string() } else { text.replace(&target.email, "") };
    assert!(rest.is_ascii(), "draft is not 7-bit: {text:?}");
    let reparsed = Message::parse(draft.bytes.clone()).expect("our own draft parses");
    assert_eq!(reparsed.from_header_count, 1, "draft has {} From headers", reparsed.from_header_count);
    assert_eq!(reparsed.from.len(), 1);
    assert_eq!(reparsed.from[0].email, "support@example.org");
    assert_eq!(reparsed.message_id, id);
    let parsed = MessageParser::default().parse(&draft.bytes[..]).expect("our own draft parses");
    let count = |name: HeaderName| parsed.headers().iter().filter(|h| h.name == name).count();
    assert_eq!(count(HeaderName::To), 1, "draft must have one To");
    assert_eq!(count(HeaderName::Subject), 1, "draft must have one Subject");
    assert_eq!(count(HeaderName::Cc) + count(HeaderName::Bcc), 0, "draft must not copy anyone");
    assert!(reparsed.subject.contains("[#42]"), "subject lost its tag: {:?}", reparsed.subject);
}
