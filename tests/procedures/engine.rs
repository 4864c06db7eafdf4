//! The packs' procedures, step by step, as the seeds describe them: each
//! test drives the engine with a hand-moved clock and checks the drafts it
//! renders, the states and deadlines it plans and, for CAcert, the
//! arbitration numbering kept in a real store.


use std::path::Path;

use jiff::{Span, Timestamp, ToSpan, Zoned};
use serde_json::{Map, Value, json};
use triaged::procedures::Clock;
use triaged::procedures::engine::{ActionChange, Engine, Event, ManualClock, MemoryNumbers, Numbers, Plan, ReplyFrom, TicketView};
use triaged::procedures::{Pack, render};
use triaged::message::Message;
use triaged::store::Store;

fn pack(name: &str) -> Pack {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").join(name);
    Pack::load(&dir).unwrap_or_else(|p| panic!("{}", p.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("\n")))
}

fn berlin(s: &str) -> Zoned {
    format!("{s}[Europe/Berlin]").parse().unwrap()
}

/// One ticket moving through one procedure, the way the backbone keeps it.
struct Ticket<'a> {
    pack: &'a Pack,
    clock: &'a ManualClock,
    number: u64,
    procedure: String,
    step: Option<String>,
    data: Map<String, Value>,
    deadlines: Vec<(String, Timestamp)>,
    drafts: Vec<String>,
    notes: Vec<String>,
}

impl<'a> Ticket<'a> {
    fn new(pack: &'a Pack, clock: &'a ManualClock, number: u64, procedure: &str, data: Value) -> Self {
        let mut d = json!({
            "sender_name": "Alice Example",
            "sender_email": "alice@example.org",
            "subject": "Delete my account",
            "signature": "Sam from Support",
            "challenge": {
                "ssh_text": "triaged challenge 7f3a9c for ticket #1\n",
                "dns_name": "_triaged-challenge.example.org",
                "dns_label": "_triaged-challenge",
                "dns_value": "triaged-7f3a9c",
                "web_path": ".well-known/triaged-challenge.txt"
            }
        });
        d.as_object_mut().unwrap().extend(data.as_object().unwrap().clone());
        Ticket {
            pack,
            clock,
            number,
            procedure: procedure.into(),
            step: None,
            data: d.as_object().unwrap().clone(),
            deadlines: Vec::new(),
            drafts: Vec::new(),
            notes: Vec::new(),
        }
    }

    fn on(&mut self, event: Event, numbers: &mut dyn Numbers) -> Plan {
        let view = TicketView { number: self.number, step: self.step.as_deref(), data: &self.data };
        let plan = Engine::new(self.pack, self.clock).plan(&self.procedure, view, &event, numbers).unwrap();
        if let Some(s) = &plan.step {
            self.step = Some(s.clone());
            self.deadlines = plan.deadlines.clone();
        }
        self.data.extend(plan.data.clone());
        if let Some(t) = &plan.template {
            self.drafts.push(render(self.pack, t, &plan.context).unwrap());
        }
        if let Some(t) = &plan.staff_note {
            self.notes.push(render(self.pack, t, &plan.context).unwrap());
        }
        plan
    }

    fn reply(&mut self, text: &str, numbers: &mut dyn Numbers) -> Plan {
        let raw = format!("From: Ann <ann@example.net>\r\nSubject: Re: request\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n");
        let intent = self.pack.intent(&triaged::message::Message::parse(raw.into_bytes()).unwrap());
        self.on(Event::Reply { text: text.into(), intent, from: ReplyFrom::Requester }, numbers)
    }

    /// A reply from the second account of a billing transfer, verified as
    /// that account's: its words confirm nothing (`Actor::plan_second`).
    fn second_reply(&mut self, numbers: &mut dyn Numbers) -> Plan {
        self.on(Event::Reply { text: String::new(), intent: triaged::procedures::Intent::Other, from: ReplyFrom::Second }, numbers)
    }

    /// Fire the earliest deadline that is due by the clock, if any.
    fn fire_due(&mut self, numbers: &mut dyn Numbers) -> Option<Plan> {
        let now = self.clock.now().timestamp();
        let (name, _) = self.deadlines.iter().filter(|(_, at)| *at <= now).min_by_key(|(_, at)| *at)?.clone();
        Some(self.on(Event::DeadlineDue { name }, numbers))
    }

    /// Staff say they carried out the step's staff action (`!done N`).
    fn done(&mut self, numbers: &mut dyn Numbers) -> Plan {
        self.on(Event::StaffDone { by: "sam".into() }, numbers)
    }

    fn last_draft(&self) -> &str {
        self.drafts.last().map(String::as_str).unwrap_or("")
    }
}

fn cacert_facts(last_expiry: Option<&str>) -> Value {
    let mut v = json!({ "assurances": 0, "active_certificates": 0, "received": "2024-03-01" });
    if let Some(d) = last_expiry {
        v["last_certificate_expiry"] = json!(d);
    }
    v
}

// ---------------------------------------------------------------- CAcert

#[test]
fn cacert_confirmation_executes_with_the_next_arbitration_number() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut t = Ticket::new(&pack, &clock, 17, "account-deletion", cacert_facts(Some("2023-06-30")));

    let p = t.on(Event::NewMessage, &mut store);
    assert_eq!(p.path, ["preconditions", "initial"]);
    assert_eq!(p.state, "waiting");
    assert_eq!(p.queue.as_deref(), Some("SE"));
    assert_eq!(t.data["pending"], "pending reminder");
    assert_eq!(t.data["issue_type"], "Delete account precedent");
    assert_eq!(p.deadlines, vec![("reminder".to_string(), berlin("2024-03-16T00:00:00").timestamp())], "once 2024-03-15 has passed");
    let mail = t.last_draft();
    assert!(mail.contains("account deletion request dated 2024-03-01."), "{mail}");
    assert!(mail.contains("(deadline set to: 2024-03-15)"), "{mail}");
    assert!(mail.contains("http://wiki.cacert.org/Arbitrations/a20111128.3"), "{mail}");
    assert!(mail.contains("Sam from Support"), "{mail}");

    clock.advance(3.days());
    let p = t.reply("Yes, I confirm the deletion and accept the arbitration.\n\nCAcert Support <support@cacert.org> wrote:\n> If this was sent by accident", &mut store);
    assert_eq!(p.path, ["decide", "execute"]);
    assert_eq!(p.state, "new", "open until the SE has executed");
    assert!(p.staff_action.as_deref().unwrap().contains("anonymise the account"));
    assert_eq!(t.data["arbitration_number"], "a20111128.3.1");
    assert_eq!(t.drafts.len(), 1, "\"I executed\" is not drafted before anyone executed");
    assert!(t.notes.last().unwrap().contains("anonymising string a20111128.3.1"));

    // The SE executes two days later: that day terminates the CCA.
    clock.advance(2.days());
    let p = t.done(&mut store);
    assert_eq!(p.path, ["executed"]);
    assert_eq!(p.state, "closed");
    assert_eq!(t.data["cca_termination_date"], "2024-03-06");
    let mail = t.last_draft();
    assert!(mail.contains("CCA [2] is terminated on 2024-03-06."), "{mail}");
    assert_eq!(
        p.document.unwrap(),
        json!({"ticket": 17, "arbitration_number": "a20111128.3.1", "cca_termination_date": "2024-03-06"})
            .as_object()
            .unwrap()
            .clone()
    );
}

#[test]
fn cacert_sent_by_accident_do_not_delete_executes_nothing_and_uses_no_number() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut t = Ticket::new(&pack, &clock, 18, "account-deletion", cacert_facts(None));
    t.on(Event::NewMessage, &mut store);
    let p = t.reply("yes, it was sent by accident, do NOT delete", &mut store);
    assert_eq!((p.path.as_slice(), p.state.as_str()), (["withdrawn".to_string()].as_slice(), "closed"));
    assert!(p.template.is_none() && p.staff_action.is_none());
    assert!(t.notes.last().unwrap().contains("sent by accident"), "staff are told why");
    assert!(!t.data.contains_key("arbitration_number"));
    // The deadline of the initial mail is gone with its step.
    assert!(t.deadlines.is_empty());
    // The next case still gets .1: nothing was used up.
    let mut next = Ticket::new(&pack, &clock, 19, "account-deletion", cacert_facts(None));
    next.on(Event::NewMessage, &mut store);
    next.reply("I confirm.", &mut store);
    assert_eq!(next.data["arbitration_number"], "a20111128.3.1");
}

#[test]
fn cacert_numbering_continues_from_the_last_number_of_the_precedent_table() {
    let dir = tempfile::tempdir().unwrap();
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates").join("cacert");
    let ok = std::process::Command::new("cp").arg("-r").arg(&src).arg(dir.path()).status().unwrap();
    assert!(ok.success());
    let toml = dir.path().join("cacert/procedures.toml");
    let text = std::fs::read_to_string(&toml).unwrap().replace("[numbering]\n", "[numbering]\n\"a20111128.3\" = 41\n");
    std::fs::write(&toml, text).unwrap();
    let pack = Pack::load(&dir.path().join("cacert")).unwrap();
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut numbers = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 3, "account-deletion", cacert_facts(None));
    t.on(Event::NewMessage, &mut numbers);
    let p = t.reply("Yes, I confirm.", &mut numbers);
    assert_eq!(t.data["arbitration_number"], "a20111128.3.42");
    assert_eq!(p.number, Some(("a20111128.3".to_string(), 42)), "the documentation row is keyed by the same number");
}

#[test]
fn cacert_silence_until_the_deadline_executes_once_the_deadline_day_has_passed() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-20T16:30:00"));
    let mut numbers = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 5, "account-deletion", cacert_facts(None));
    t.on(Event::NewMessage, &mut numbers);
    assert!(t.last_draft().contains("(deadline set to: 2024-04-03)"), "{}", t.last_draft());
    // 14 days across the change to summer time (31 March): the whole of
    // the day the mail names, in the configured zone.
    assert_eq!(t.deadlines[0].1, berlin("2024-04-04T00:00:00").timestamp());

    clock.set(berlin("2024-04-03T23:59:59"));
    assert!(t.fire_due(&mut numbers).is_none(), "fired on the deadline day");
    clock.advance(Span::new().seconds(1));
    let p = t.fire_due(&mut numbers).expect("deadline due");
    assert_eq!(p.step.as_deref(), Some("execute"));
    assert_eq!(t.data["arbitration_number"], "a20111128.3.1");
    t.done(&mut numbers);
    assert_eq!(t.data["cca_termination_date"], "2024-04-04");
    // The deadline of the old step is gone: nothing fires twice.
    assert!(t.fire_due(&mut numbers).is_none());
}

/// "please respond to this notification within 14 days (deadline set to:
/// ####-##-##)": a reply in the evening of that day is within it, and
/// nothing has been executed before it arrives.
#[test]
fn cacert_a_reply_on_the_deadline_day_is_within_the_deadline() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut numbers = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 6, "account-deletion", cacert_facts(None));
    t.on(Event::NewMessage, &mut numbers);
    assert!(t.last_draft().contains("(deadline set to: 2024-03-15)"), "{}", t.last_draft());
    clock.set(berlin("2024-03-15T20:00:00"));
    assert!(t.fire_due(&mut numbers).is_none(), "the deadline day is not over");
    let p = t.reply("It was sent by accident, please do not delete my account.", &mut numbers);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("withdrawn"), "closed"));
    assert!(!t.data.contains_key("arbitration_number"));
}

#[test]
fn cacert_recent_expiry_puts_the_case_on_hold_until_the_retention_date() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T09:00:00"));
    let mut numbers = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 8, "account-deletion", cacert_facts(Some("2024-02-10")));
    t.on(Event::NewMessage, &mut numbers);
    clock.set(berlin("2024-03-16T00:00:00"));
    let p = t.fire_due(&mut numbers).unwrap();
    assert_eq!(p.path, ["decide", "on-hold"]);
    assert_eq!(p.state, "waiting");
    assert_eq!(t.data["retention_date"], "2024-05-10");
    assert_eq!(p.staff_action.as_deref(), Some("lock the account for the retention time"));
    assert!(!t.data.contains_key("account_locked"), "locked when staff say so");
    assert_eq!(p.deadlines, vec![("retention".to_string(), berlin("2024-05-10T00:00:00").timestamp())]);
    let mail = t.last_draft();
    assert!(mail.contains("on hold until 2024-05-10"), "{mail}");
    assert!(mail.contains("latest\ncertificate expiration date which is 2024-02-10"), "{mail}");
    assert!(mail.contains("Lesson20#CCATermCalc"), "{mail}");
    assert!(t.notes.last().unwrap().contains("lock the account"));
    assert!(!t.data.contains_key("arbitration_number"), "no number before execution");
    clock.advance(1.days());
    let p = t.done(&mut numbers);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("locked"), "waiting"));
    assert_eq!(t.data["account_locked"], true);
    assert_eq!(p.deadlines, vec![("retention".to_string(), berlin("2024-05-10T00:00:00").timestamp())], "still due then");

    clock.set(berlin("2024-05-09T23:59:59"));
    assert!(t.fire_due(&mut numbers).is_none());
    clock.set(berlin("2024-05-10T00:00:00"));
    let p = t.fire_due(&mut numbers).unwrap();
    assert_eq!(p.step.as_deref(), Some("execute"));
    clock.set(berlin("2024-05-11T09:00:00"));
    t.done(&mut numbers);
    assert_eq!(t.data["cca_termination_date"], "2024-05-11", "the day the SE executed");
    assert!(t.last_draft().contains("terminated on 2024-05-11"));
}

/// "If this was sent by accident, please respond": a member who takes the
/// request back while it is on hold is not executed at the retention
/// date; the SE undoes the lock and the case ends, nothing deleted and no
/// number used.
#[test]
fn cacert_a_request_taken_back_while_on_hold_is_not_executed_at_the_retention_date() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T09:00:00"));
    let mut numbers = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 8, "account-deletion", cacert_facts(Some("2024-02-10")));
    t.on(Event::NewMessage, &mut numbers);
    t.reply("I confirm.", &mut numbers);
    assert_eq!(t.step.as_deref(), Some("on-hold"));
    t.done(&mut numbers);
    assert_eq!(t.step.as_deref(), Some("locked"));

    clock.set(berlin("2024-04-02T09:00:00"));
    let p = t.reply("I changed my mind, please do not delete my account.", &mut numbers);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("unlock"), "new"));
    assert_eq!(p.staff_action.as_deref(), Some("unlock the account: the member took the deletion request back"));
    assert!(t.notes.last().unwrap().contains("took the deletion request back"), "{}", t.notes.last().unwrap());
    assert!(t.deadlines.is_empty(), "the retention date executes nothing");
    // Taken back again meanwhile ("as I wrote before"): the unlock
    // still stands. Withdrawn, the account would stay locked with nobody
    // asked to unlock it.
    let p = t.reply("As I wrote before: please do NOT delete my account!", &mut numbers);
    assert_ne!(p.action_change, Some(ActionChange::Withdrawn), "{p:?}");
    assert_eq!(p.staff_action.as_deref(), Some("unlock the account: the member took the deletion request back"));
    assert_eq!(t.step.as_deref(), Some("unlock"));
    clock.set(berlin("2024-05-10T00:00:00"));
    assert!(t.fire_due(&mut numbers).is_none());
    let p = t.done(&mut numbers);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("kept"), "closed"));
    assert!(p.template.is_none() && p.staff_action.is_none());
    assert!(!t.data.contains_key("arbitration_number"));

    // Taken back before the lock was recorded: closed at once, and staff
    // are told to undo a lock they may already have set.
    let mut t = Ticket::new(&pack, &clock, 9, "account-deletion", cacert_facts(Some("2024-04-20")));
    t.on(Event::NewMessage, &mut numbers);
    t.reply("I confirm.", &mut numbers);
    assert_eq!(t.step.as_deref(), Some("on-hold"));
    let p = t.reply("Nein, bitte nicht löschen.", &mut numbers);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("kept"), "closed"));
    assert!(t.deadlines.is_empty());
    assert!(t.notes.last().unwrap().contains("If you locked the account already, unlock it"), "{}", t.notes.last().unwrap());
}

#[test]
fn cacert_expiry_exactly_three_months_ago_executes_at_once() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-01-01T09:00:00"));
    let mut numbers = MemoryNumbers::default();
    // Deadline 2024-01-15, acted on once it has passed: on 2024-01-16;
    // expiry 2023-10-16 + 3 months = 2024-01-16.
    let mut t = Ticket::new(&pack, &clock, 9, "account-deletion", cacert_facts(Some("2023-10-16")));
    t.on(Event::NewMessage, &mut numbers);
    clock.set(berlin("2024-01-16T00:00:00"));
    assert_eq!(t.fire_due(&mut numbers).unwrap().path, ["decide", "execute"]);
}

#[test]
fn cacert_preconditions_route_to_staff_queues() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut numbers = MemoryNumbers::default();

    let mut disputed = Ticket::new(&pack, &clock, 1, "account-deletion", json!({ "assurances": 2, "active_certificates": 0 }));
    let p = disputed.on(Event::NewMessage, &mut numbers);
    assert_eq!((p.step.as_deref(), p.queue.as_deref(), p.template.as_deref()), (Some("dispute"), Some("dispute"), None));
    assert!(disputed.notes[0].contains("NOT met"));

    let mut active = Ticket::new(&pack, &clock, 2, "account-deletion", json!({ "assurances": 0, "active_certificates": 1 }));
    assert_eq!(active.on(Event::NewMessage, &mut numbers).queue.as_deref(), Some("dispute"));

    let mut as_text = Ticket::new(&pack, &clock, 5, "account-deletion", json!({ "assurances": "1", "active_certificates": "0" }));
    assert_eq!(as_text.on(Event::NewMessage, &mut numbers).queue.as_deref(), Some("dispute"));
    let garbage = json!({ "assurances": "many", "active_certificates": 0 });
    let view = TicketView { number: 6, step: None, data: garbage.as_object().unwrap() };
    let err = Engine::new(&pack, &clock).plan("account-deletion", view, &Event::NewMessage, &mut numbers).unwrap_err();
    assert!(err.to_string().contains("step preconditions: route"), "{err}");

    let mut unknown = Ticket::new(&pack, &clock, 3, "account-deletion", json!({}));
    let p = unknown.on(Event::NewMessage, &mut numbers);
    assert_eq!((p.step.as_deref(), p.queue.as_deref(), p.template.as_deref()), (Some("facts-needed"), Some("SE"), None));
    assert!(unknown.drafts.is_empty(), "no mail before the facts are known");
    // Once staff record the facts, the procedure starts over and proceeds.
    unknown.data.extend(cacert_facts(None).as_object().unwrap().clone());
    assert_eq!(unknown.on(Event::NewMessage, &mut numbers).step.as_deref(), Some("initial"));
}

#[test]
fn cacert_reply_without_confirmation_goes_to_a_person_and_stale_deadlines_do_nothing() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut numbers = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 4, "account-deletion", cacert_facts(None));
    t.on(Event::NewMessage, &mut numbers);
    let p = t.reply("Wait, I only lost my password. How can I recover the account?", &mut numbers);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("review"), "new"));
    assert!(p.template.is_none());
    let p = t.on(Event::DeadlineDue { name: "reminder".into() }, &mut numbers);
    assert_eq!(p.step, None, "the reminder belonged to the step the ticket left");
    assert!(!t.data.contains_key("arbitration_number"));
}

#[test]
fn cacert_numbers_are_gap_free_across_tickets_and_retries_in_the_store() {
    let pack = pack("cacert");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(dir.path()).unwrap();
    let mut numbers_seen = Vec::new();
    for ticket in [30u64, 31, 32] {
        let mut t = Ticket::new(&pack, &clock, ticket, "account-deletion", cacert_facts(None));
        t.on(Event::NewMessage, &mut store);
        let view_data = t.data.clone();
        let step = t.step.clone();
        let p = t.reply("I confirm.", &mut store);
        // A crash before the plan was saved: the same event planned again
        // from the same saved state gets the same number.
        let again = Engine::new(&pack, &clock)
            .plan(
                "account-deletion",
                TicketView { number: ticket, step: step.as_deref(), data: &view_data },
                &Event::Reply { text: "I confirm.".into(), intent: triaged::procedures::Intent::Confirm, from: ReplyFrom::Requester },
                &mut store,
            )
            .unwrap();
        assert_eq!(again.data["arbitration_number"], p.data["arbitration_number"]);
        let (series, n) = p.number.unwrap();
        let row = t.done(&mut store).document.unwrap();
        assert_eq!(row["arbitration_number"], format!("{series}.{n}"));
        store.record_document(&series, n, &row).unwrap();
        numbers_seen.push(n);
    }
    assert_eq!(numbers_seen, [1, 2, 3]);
    let table = store.documents("a20111128.3").unwrap();
    assert_eq!(table.iter().map(|(n, _)| *n).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(table[2].1["ticket"], 32);
    assert_eq!(table[2].1["cca_termination_date"], "2024-03-01");
}

// ---------------------------------------------------------------- sourcehut

#[test]
fn sourcehut_deletion_offers_self_service_first_then_verifies() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 1, "account-deletion", json!({}));
    let p = t.on(Event::NewMessage, &mut n);
    assert_eq!(p.state, "answered");
    assert!(t.last_draft().contains("https://meta.sr.ht"));
    assert!(t.last_draft().contains("Delete account"));
    let p = t.reply("I can't log in any more, please delete it for me.", &mut n);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("admin-check"), "waiting"));
    let mail = t.last_draft();
    assert!(mail.contains("ssh-keygen -Y sign -n file -f ~/.ssh/<key> message.txt"), "{mail}");
    assert!(mail.contains("triaged challenge 7f3a9c for ticket #1"), "{mail}");
    assert!(mail.contains("_triaged-challenge.example.org  TXT  \"triaged-7f3a9c\""), "{mail}");
    assert!(mail.contains("https://<your profile's domain>/.well-known/triaged-challenge.txt"), "{mail}");
    // The first draft to a sender not yet verified says nothing about the
    // account, not even whether it has 2FA.
    assert!(mail.contains("An account with two-factor\nauthentication needs TWO"), "{mail}");
    t.data.insert("verified".into(), json!(true));
    let p = t.reply("Signed, see attachment.", &mut n);
    assert_eq!(p.path, ["admin-recheck", "admin-delete"]);
    assert!(t.notes.last().unwrap().contains("user dashboard"));
}

#[test]
fn sourcehut_2fa_needs_two_factors_and_refusal_means_a_new_account() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 2, "2fa-disable", json!({ "two_factor": true, "verified": false }));
    t.on(Event::NewMessage, &mut n);
    assert!(t.last_draft().contains("needs TWO of the proofs below"), "{}", t.last_draft());
    assert!(t.last_draft().contains("also applies when the request is to disable 2FA"));
    assert!(!t.last_draft().contains("credit card"), "card digits count only for billing matters");
    let p = t.reply("I really am Alice, please just do it.", &mut n);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("refuse"), "closed"));
    let mail = t.last_draft();
    assert!(mail.contains("register a new account"), "{mail}");
    assert!(mail.contains("account cannot be deleted"), "{mail}");

    // Only a real boolean from the verify stage counts, not a truthy string.
    let mut text = Ticket::new(&pack, &clock, 4, "2fa-disable", json!({ "two_factor": true, "verified": "false" }));
    assert_eq!(text.on(Event::NewMessage, &mut n).path, ["check"]);

    let mut ok = Ticket::new(&pack, &clock, 3, "2fa-disable", json!({ "two_factor": true, "verified": true }));
    let p = ok.on(Event::NewMessage, &mut n);
    assert_eq!(p.path, ["check", "disable"]);
    assert!(ok.drafts.is_empty(), "nothing says \"disabled\" before staff disabled it");
    assert!(p.staff_action.is_some());
    ok.done(&mut n);
    assert!(ok.last_draft().contains("Two-factor\nauthentication has been disabled"));
}

/// "If the user is unable to verify their identity, refuse their support
/// inquiry." A signed reply that still lacks a factor but says the missing
/// one is on its way has not failed to verify: the request waits for it,
/// with no draft, and the promise is put before a person. The proof, when
/// it comes, moves the request on; a reply that brings none and promises
/// none is refused. The seed sets no number of tries and no time limit, so
/// the wait has none. The same at every identity check of the pack.
#[test]
fn sourcehut_a_proof_promised_for_later_waits_and_is_not_refused() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let checks = [
        ("2fa-disable", "check", "disable", "refuse"),
        ("account-deletion", "admin-check", "admin-delete", "refuse"),
        ("cannot-pay", "check", "grant", "refuse"),
        ("refund", "check", "lookup", "refuse"),
        ("billing-transfer", "check", "await-other", "refuse"),
    ];
    for (procedure, check, proved, refused) in checks {
        let data = json!({ "two_factor": true, "verified": false, "factors": 1 });
        let mut t = Ticket::new(&pack, &clock, 50, procedure, data.clone());
        t.step = Some(check.into());
        // A question about the proof is no failure to give it either: a
        // person answers it.
        for promise in [
            "I'll publish the DNS record tonight.",
            "Signed with my PGP key. Will add the SSH key signature tomorrow.",
            "Which domain does the TXT record go on?",
        ] {
            let p = t.reply(promise, &mut n);
            assert_eq!((p.step.as_deref(), p.state.as_str()), (Some(p.path[1].as_str()), "waiting"), "{procedure}: {p:?}");
            assert!(p.path[1].ends_with("await-proof") && p.template.is_none() && p.deadlines.is_empty(), "{procedure}: {p:?}");
            let note = t.notes.last().map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
            assert!(note.contains("says the missing proof will follow") && note.contains("answer that by hand") && note.contains("refuse by hand"), "{note}");
        }
        assert!(t.drafts.is_empty(), "{procedure}: no refusal drafted: {:?}", t.drafts);
        clock.set(berlin("2024-06-01T10:00:00"));
        assert!(t.fire_due(&mut n).is_none(), "{procedure}: no time limit the seed does not set");
        clock.set(berlin("2024-03-01T10:00:00"));
        t.data.insert("verified".into(), json!(true));
        let p = t.reply("Here is the signature.", &mut n);
        assert_eq!(p.path.last().map(String::as_str), Some(proved), "{procedure}: {p:?}");

        let mut t = Ticket::new(&pack, &clock, 51, procedure, data);
        t.step = Some(check.into());
        let p = t.reply("I really am Alice, please just do it.", &mut n);
        assert_eq!((p.step.as_deref(), p.state.as_str()), (Some(refused), "closed"), "{procedure}: {p:?}");
        assert!(t.last_draft().contains("could not verify"), "{procedure}: {}", t.last_draft());
    }
}

/// A proof refused is no proof promised, however the sentence is built:
/// German puts "nicht" after the record it names, Spanish puts "no"
/// before the "voy a" that promises, and "I will refuse to add it" says
/// "will add". Each is refused, as the seed says, never left waiting for a
/// proof that will not come.
#[test]
fn sourcehut_a_proof_refused_in_a_sentence_that_names_it_is_refused() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    for no in [
        "Ich werde den DNS-Eintrag nicht anlegen.",
        "Wir werden die Signatur sicher nicht schicken.",
        "No voy a añadir el registro DNS.",
        "Je ne vais jamais publier l'enregistrement DNS.",
        "I will refuse to add the DNS record.",
    ] {
        let data = json!({ "two_factor": true, "verified": false, "factors": 1 });
        let mut t = Ticket::new(&pack, &clock, 52, "2fa-disable", data);
        t.step = Some("check".into());
        let p = t.reply(no, &mut n);
        assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("refuse"), "closed"), "{no:?}: {p:?}");
    }
}

#[test]
fn sourcehut_rename_is_not_available_and_explains_the_way_around() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut t = Ticket::new(&pack, &clock, 4, "account-rename", json!({}));
    t.on(Event::NewMessage, &mut MemoryNumbers::default());
    let mail = t.last_draft();
    for needle in ["not available", "prioritized for the beta", "Register a new account", "import/export", "billing information to be transferred"] {
        assert!(mail.contains(needle), "{needle}: {mail}");
    }
}

#[test]
fn sourcehut_cannot_pay_grants_a_year_but_not_for_foss_alone() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let classified = |text: &str| {
        let raw = format!("From: a@example.org\r\nSubject: help\r\n\r\n{text}\r\n");
        serde_json::to_value(pack.classify(&Message::parse(raw.into_bytes()).unwrap())).unwrap()
    };
    let need = classified("I'm a student and can't afford the subscription.");
    assert_eq!(need["procedure"], "cannot-pay");
    let mut t = Ticket::new(&pack, &clock, 5, "cannot-pay", json!({ "verified": true, "classification": need }));
    let p = t.on(Event::NewMessage, &mut n);
    assert_eq!(p.path, ["check", "grant"]);
    assert_eq!(t.data["aid_until"], "2025-03-01");
    assert!(t.drafts.is_empty(), "granted once the zero invoice exists");
    let note = t.notes.last().unwrap().clone();
    let p = t.done(&mut n);
    assert_eq!(p.deadlines, vec![("aid-ends".to_string(), berlin("2025-03-01T10:00:00").timestamp())]);
    let mail = t.last_draft();
    assert!(mail.contains("one year of\nfree service, until 2025-03-01"), "{mail}");
    assert!(mail.contains("email us\nagain"), "{mail}");
    // Staff-only instructions stay out of the user's draft.
    assert!(note.contains("\"Financial aid\", amount 0, term 1 year"), "{note}");
    for secret in ["Financial aid", "amount 0", "invoice"] {
        assert!(!mail.contains(secret), "staff detail {secret:?} leaked into the draft: {mail}");
    }

    let foss = classified("Our project is open source, so please give us free service.");
    assert_eq!(foss["procedure"], "cannot-pay");
    let mut f = Ticket::new(&pack, &clock, 6, "cannot-pay", json!({ "verified": true, "classification": foss }));
    let p = f.on(Event::NewMessage, &mut n);
    assert_eq!(p.path, ["check", "decline-foss"]);
    assert!(f.last_draft().contains("not by itself a reason"));
    // Declaring a need afterwards is enough: no proof asked.
    assert_eq!(f.reply("Honestly I'm between jobs and can't pay.", &mut n).step.as_deref(), Some("grant"));

    // "If in doubt, offer them free service": a request that gives no
    // reason at all is granted once verified.
    // (Classifying "free service" alone is held back for a person: the pack
    // needs stronger evidence before a sensitive procedure. Once staff
    // route it here, the engine gives the benefit of the doubt.)
    let doubtful = json!({ "procedure": "cannot-pay", "score": 3.0, "rules": ["cannot-pay/free-service"], "runner_up": null });
    let mut d = Ticket::new(&pack, &clock, 7, "cannot-pay", json!({ "verified": true, "classification": doubtful }));
    assert_eq!(d.on(Event::NewMessage, &mut n).path, ["check", "grant"]);
}

#[test]
fn sourcehut_refund_within_a_quarter_of_the_payment_date() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-05-31T10:00:00"));
    let mut n = MemoryNumbers::default();
    let cases = [
        (json!({ "verified": true, "payment_date": "2024-03-01" }), "refund"),
        (json!({ "verified": true, "payment_date": "2024-02-29" }), "late"),
        (json!({ "verified": true }), "lookup"),
        (json!({ "verified": false, "payment_date": "2024-05-01" }), "check"),
    ];
    for (i, (data, step)) in cases.into_iter().enumerate() {
        let mut t = Ticket::new(&pack, &clock, 10 + i as u64, "refund", data);
        let p = t.on(Event::NewMessage, &mut n);
        assert_eq!(p.step.as_deref(), Some(step), "case {i}");
        if step == "late" {
            // "Generally speaking": staff decide, the draft is no firm refusal.
            let mail = t.last_draft();
            assert!(mail.contains("Generally speaking") && mail.contains("cannot promise a refund"), "{mail}");
            assert!(!mail.contains("not able to refund"), "{mail}");
        }
        if step == "check" {
            assert!(t.last_draft().contains("last four digits of the credit card on\nfile also count as one proof"), "{}", t.last_draft());
        }
        if step == "refund" {
            assert!(t.drafts.is_empty(), "no \"refunded\" before anyone refunded");
            assert!(t.notes.last().unwrap().contains("set the account type to\nnon-paying"));
            t.done(&mut n);
            assert!(t.last_draft().contains("non-paying account"));
        }
    }
}

/// Taken back before staff said they carried it out, a request's staff
/// action no longer stands: staff are asked whether it was done already
/// (`!done`) or not (`!notdone`). Every step
/// of every pack that waits for staff, with a plain decline; a question
/// leaves the action standing. Put off ("don't do it yet"), it is on hold
/// the same way, except where the step says what a take-back does
/// (`on_decline`: CAcert's unlock stands).
#[test]
fn a_request_taken_back_while_staff_are_asked_to_act_withdraws_the_action() {
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut steps = 0;
    for name in ["sourcehut", "2i2c", "cacert"] {
        let pack = pack(name);
        for proc in &pack.procedures {
            for step in proc.steps.iter().filter(|s| s.staff_action.is_some() && s.on_reply.is_none()) {
                let mut t = Ticket::new(&pack, &clock, 32, &proc.id, json!({ "verified": true }));
                t.step = Some(step.name.clone());
                let p = t.reply("Please don't do it yet, I need to export my data first.", &mut n);
                assert_eq!(p.step, None, "{name} {} {}", proc.id, step.name);
                // A step with its own way for a decline goes that way.
                if step.on_decline.is_some() {
                    assert!(p.action_change.is_none() && p.staff_action == step.staff_action, "{name} {} {}: {p:?}", proc.id, step.name);
                    continue;
                }
                assert!(p.action_change == Some(ActionChange::PutOff) && p.staff_action.is_none(), "{name} {} {}: {p:?}", proc.id, step.name);
                let why = p.handoff.unwrap_or_default();
                assert!(why.contains("if not, !notdone 32 (it stays on hold, nothing drafted)"), "{why}");
                assert!(why.contains("puts the request off") && why.contains(step.staff_action.as_deref().unwrap()), "{why}");
                let p = t.reply("Yes, I confirm.", &mut n);
                assert!(p.action_change == Some(ActionChange::Reinstated) && p.staff_action == step.staff_action, "{name} {} {}: {p:?}", proc.id, step.name);

                steps += 1;
                let mut t = Ticket::new(&pack, &clock, 30, &proc.id, json!({ "verified": true }));
                t.step = Some(step.name.clone());
                let p = t.reply("I changed my mind, please cancel my request.", &mut n);
                assert_eq!(p.step, None, "{name} {} {}", proc.id, step.name);
                assert!(p.action_change == Some(ActionChange::Withdrawn) && p.staff_action.is_none(), "{name} {} {}: {p:?}", proc.id, step.name);
                let why = p.handoff.unwrap_or_default();
                assert!(why.contains("takes the request back") && why.contains(step.staff_action.as_deref().unwrap()), "{why}");
                assert!(why.contains("if you had carried it out already, !done 30") && why.contains("if not, !notdone 30"), "{why}");

                let mut t = Ticket::new(&pack, &clock, 31, &proc.id, json!({ "verified": true }));
                t.step = Some(step.name.clone());
                let p = t.reply("When will this be done?", &mut n);
                assert!(p.action_change.is_none() && p.staff_action == step.staff_action, "{name} {} {}: {p:?}", proc.id, step.name);
                // Confirmed again after all: the action stands again.
                let p = t.reply("Yes, I confirm.", &mut n);
                assert!(p.action_change == Some(ActionChange::Reinstated) && p.staff_action == step.staff_action, "{name} {} {}: {p:?}", proc.id, step.name);
            }
        }
    }
    assert!(steps >= 6, "only {steps} staff-action steps checked");
}

/// An identity check that settled later (a DNS outage at arrival) moves a
/// ticket only by its step's own routes: a step waiting for proof goes on,
/// one waiting for the user's words (the self-service mail) stays.
#[test]
fn an_identity_settled_later_is_no_reply() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 40, "account-deletion", json!({}));
    t.on(Event::NewMessage, &mut n);
    t.data.insert("verified".into(), json!(true));
    let p = t.on(Event::IdentitySettled, &mut n);
    assert_eq!((p.step.as_deref(), p.handoff.as_deref()), (None, None), "{p:?}");
    assert_eq!(t.step.as_deref(), Some("self-service"));

    let mut t = Ticket::new(&pack, &clock, 41, "2fa-disable", json!({}));
    t.on(Event::NewMessage, &mut n);
    assert_eq!(t.step.as_deref(), Some("check"));
    t.data.insert("verified".into(), json!(true));
    let p = t.on(Event::IdentitySettled, &mut n);
    assert_eq!(p.path, ["disable"]);
}

#[test]
fn sourcehut_billing_transfer_needs_both_accounts_verified() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 20, "billing-transfer", json!({ "verified": true }));
    let p = t.on(Event::NewMessage, &mut n);
    assert_eq!(p.step.as_deref(), Some("check"));
    assert!(t.last_draft().contains("BOTH accounts"));
    assert!(t.last_draft().contains("last four digits"));
    t.data.insert("other_account_verified".into(), json!(true));
    let p = t.reply("Here is the mail from the other account too.", &mut n);
    assert_eq!(p.path, ["recheck", "transfer"]);
    assert!(t.notes.last().unwrap().contains("meta.sr.ht user admin UI"));
}

/// "Verify both accounts ... then ... transfer the billing info": an
/// account that says no, or not yet, gives no go-ahead, however well it
/// proves itself. Before staff are asked, the ticket goes to a person and
/// nobody is asked to transfer; once they were, the action is withdrawn.
/// A plain reply or a confirmation moves the transfer on as before.
#[test]
fn sourcehut_no_billing_transfer_while_either_account_says_no() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let both = json!({ "verified": true, "other_account_verified": true });
    for step in ["check", "await-other", "await-proof"] {
        for (no, path) in [("Do not transfer, I never agreed to this.", vec!["objected"]), ("Please don't transfer it yet.", vec!["recheck", "objected"])] {
            let mut t = Ticket::new(&pack, &clock, 21, "billing-transfer", both.clone());
            t.step = Some(step.into());
            let p = t.reply(no, &mut n);
            assert_eq!((&p.path, p.state.as_str()), (&path.iter().map(|s| s.to_string()).collect(), "new"), "{step} {no:?}: {p:?}");
            assert!(p.staff_action.is_none() && p.template.is_none(), "{step}: {p:?}");
            let note = t.notes.last().map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
            assert!(note.contains("says not to transfer, or not yet") && note.contains("Nothing is transferred"), "{note}");
        }
        for go in ["Yes, go ahead.", "Here is the mail from the other account too."] {
            let mut t = Ticket::new(&pack, &clock, 22, "billing-transfer", both.clone());
            t.step = Some(step.into());
            assert_eq!(t.reply(go, &mut n).path, ["recheck", "transfer"], "{step} {go:?}");
        }
    }
    let mut t = Ticket::new(&pack, &clock, 23, "billing-transfer", both);
    t.step = Some("transfer".into());
    let p = t.reply("Do not transfer, I never agreed to this.", &mut n);
    assert!(p.action_change == Some(ActionChange::Withdrawn) && p.staff_action.is_none(), "{p:?}");
}

/// "Verify both accounts": the mail asks each account to reply from its
/// own address, so the second may prove itself before the requester has
/// (a second factor still to come). Its reply is no failure of the
/// requester to verify: the ticket waits for the requester, with no
/// draft. "If the user is unable to verify their identity, refuse": the
/// requester's own reply that proves nothing is refused as before, and
/// the requester proving itself moves the transfer on. Before, the second
/// account's reply went through `recheck` to `refuse`.
#[test]
fn sourcehut_billing_transfer_a_second_accounts_reply_is_no_failure_of_the_requester() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    // Proven or still short of a factor itself, the second account's
    // reply refuses nobody.
    for (step, other) in [("check", true), ("await-proof", true), ("check", false), ("await-requester", true)] {
        let mut t = Ticket::new(&pack, &clock, 24, "billing-transfer", json!({ "verified": false, "other_account_verified": other }));
        t.step = Some(step.into());
        let p = t.second_reply(&mut n);
        assert_eq!((&p.path, p.state.as_str()), (&vec!["recheck".to_string(), "await-requester".to_string()], "waiting"), "{step} {other}: {p:?}");
        assert!(p.template.is_none() && p.staff_action.is_none(), "{step}: {p:?}");

        let p = t.reply("Here is my reply.", &mut n);
        assert_eq!((&p.path, p.state.as_str()), (&vec!["recheck".to_string(), "refuse".to_string()], "closed"), "{step}: the requester's own failure: {p:?}");
        assert!(t.last_draft().contains("could not verify"), "{}", t.last_draft());
    }

    let mut t = Ticket::new(&pack, &clock, 25, "billing-transfer", json!({ "verified": false, "other_account_verified": true }));
    t.step = Some("check".into());
    t.second_reply(&mut n);
    t.data.insert("verified".into(), json!(true));
    assert_eq!(t.reply("Here is my second factor.", &mut n).path, ["recheck", "transfer"]);

    // The requester's proof settled later (a DNS look-up that failed at
    // arrival): no reply, and the transfer goes on.
    let mut t = Ticket::new(&pack, &clock, 26, "billing-transfer", json!({ "verified": false, "other_account_verified": true }));
    t.step = Some("check".into());
    t.second_reply(&mut n);
    t.data.insert("verified".into(), json!(true));
    assert_eq!(t.on(Event::IdentitySettled, &mut n).path, ["recheck", "transfer"]);
}

#[test]
fn sourcehut_a_reply_that_the_user_deleted_it_themselves_closes_the_ticket() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 7, "account-deletion", json!({}));
    t.on(Event::NewMessage, &mut n);
    let p = t.reply("Thanks, I deleted it myself.", &mut n);
    assert_eq!(p.path, ["self-service-reply", "nothing-more"]);
    assert_eq!(p.state, "closed");
    assert_eq!(t.drafts.len(), 1, "no \"account has been deleted\" draft");
}

/// "This is preferred to admin intervention": a user who says they will
/// delete it themselves asks nothing more of us, so no admin deletion
/// starts and no proof of identity is asked for.
#[test]
fn sourcehut_a_user_who_will_delete_it_themselves_is_not_asked_for_proof() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    for reply in ["Thanks, I'll do that.", "Danke, mache ich.", "Merci, je vais le faire."] {
        let mut t = Ticket::new(&pack, &clock, 8, "account-deletion", json!({}));
        t.on(Event::NewMessage, &mut n);
        let p = t.reply(reply, &mut n);
        assert_eq!(p.path, ["self-service-reply", "nothing-more"], "{reply}");
        assert_eq!(t.drafts.len(), 1, "no identity request: {reply}");
    }
    // Asking us to do it after all still starts the admin path.
    let mut t = Ticket::new(&pack, &clock, 9, "account-deletion", json!({}));
    t.on(Event::NewMessage, &mut n);
    let p = t.reply("Thanks, I'll try that. If it fails, please delete it for me.", &mut n);
    assert_eq!(p.path, ["self-service-reply", "admin-check"]);
}

/// Each reply, to the self-service mail of a verified sender, goes to a
/// person at `step` (its staff note saying `note`): no deletion, no
/// draft. The conversation goes on as after the self-service mail: once
/// they ask us to delete it, the admin path starts.
fn self_service_replies_go_to_a_person(replies: &[&str], step: &str, note: &str) {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    for reply in replies {
        let mut t = Ticket::new(&pack, &clock, 11, "account-deletion", json!({ "verified": true }));
        t.on(Event::NewMessage, &mut n);
        let p = t.reply(reply, &mut n);
        assert_eq!(p.path, ["self-service-reply", step], "{reply}");
        assert_eq!(p.state, "new", "{reply}");
        assert!(p.staff_action.is_none() && p.template.is_none(), "{reply}: nothing to delete, nothing drafted");
        assert!(t.notes.last().unwrap().contains(note), "{}", t.notes.last().unwrap());
        let p = t.reply("I can't log in any more, please delete it for me.", &mut n);
        assert_eq!(p.path, ["self-service-reply", "admin-check", "admin-delete"], "{reply}");
    }
}

/// "Users can perform self-service account deletion ... This is preferred
/// to admin intervention": a question about doing it themselves ("where is
/// the button?") is answered by a person, not taken for a request that
/// admins delete the account, even from a verified sender.
#[test]
fn sourcehut_a_question_about_self_service_deletion_is_answered_not_taken_for_an_admin_deletion() {
    let questions = [
        "Thanks! Where exactly is \"Delete account\"? I don't see it in my profile settings.",
        "Danke. Werden meine Repositories dabei auch gelöscht?",
        "Merci, est-ce que mes listes seront supprimées aussi ?",
    ];
    self_service_replies_go_to_a_person(&questions, "self-service-question", "asked a question");
}

/// "This is preferred to admin intervention": a reply to the self-service
/// mail that puts the deletion off ("not yet", "noch nicht") wants the
/// account kept for now. A person reads it; it is no request that admins
/// delete the account, not even from a verified sender. A plain take-back
/// still closes the ticket.
#[test]
fn sourcehut_a_deletion_put_off_after_the_self_service_mail_starts_no_admin_deletion() {
    let later = [
        "Thanks, but please don't delete it yet, I still need to move my repositories.",
        "Danke, aber bitte noch nicht löschen.",
        "Merci, mais ne supprimez pas encore mon compte.",
    ];
    self_service_replies_go_to_a_person(&later, "self-service-later", "put the deletion off");
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 13, "account-deletion", json!({ "verified": true }));
    t.on(Event::NewMessage, &mut n);
    let p = t.reply("I changed my mind, please do not delete my account.", &mut n);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("nothing-more"), "closed"));
}

/// "If the user is unable to verify their identity, refuse": proving it
/// in a reply that also puts the deletion off ("don't delete it yet")
/// asks no admin to delete the account; a person reads it, and a plain
/// confirmation afterwards asks staff to. A reply that takes a FOSS-only
/// aid request back starts no grant either.
#[test]
fn sourcehut_a_proof_given_with_a_deferral_or_a_take_back_starts_no_staff_action() {
    let pack = pack("sourcehut");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 14, "account-deletion", json!({ "verified": false }));
    t.on(Event::NewMessage, &mut n);
    let p = t.reply("I can't log in any more, please delete it for me.", &mut n);
    assert_eq!(p.step.as_deref(), Some("admin-check"));
    t.data.insert("verified".into(), json!(true));
    let p = t.reply("Here is my signature, but please don't delete it yet, I need to export my repositories first.", &mut n);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("admin-delete"), "new"), "{p:?}");
    assert!(p.staff_action.is_none() && p.staff_note.is_none() && p.template.is_none(), "{p:?}");
    assert!(p.handoff.as_deref().is_some_and(|h| h.contains("puts the request off") && h.contains("delete the account")), "{p:?}");
    let p = t.reply("Yes, go ahead.", &mut n);
    assert_eq!(p.action_change, Some(ActionChange::Reinstated), "{p:?}");
    assert!(p.staff_action.as_deref().is_some_and(|a| a.contains("delete the account")), "{p:?}");

    let mut f = Ticket::new(&pack, &clock, 15, "cannot-pay", json!({ "verified": true, "foss_only": true }));
    f.step = Some("decline-foss".into());
    let p = f.reply("Never mind, I changed my mind, we will pay.", &mut n);
    assert_eq!(p.step.as_deref(), Some("grant"));
    assert!(p.staff_action.is_none() && p.handoff.as_deref().is_some_and(|h| h.contains("takes the request back")), "{p:?}");
}

// ---------------------------------------------------------------- 2i2c

#[test]
fn twoi2c_when_the_issue_is_resolved_we_send_a_confirmation_and_close_the_ticket() {
    let pack = pack("2i2c");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut t = Ticket::new(&pack, &clock, 1, "infrastructure", json!({ "verified": true, "subject": "hub down" }));
    t.on(Event::NewMessage, &mut n);
    let p = t.reply("It is still down for everyone.", &mut n);
    assert_eq!(p.step.as_deref(), Some("follow-up"));
    let p = t.reply("Any news?", &mut n);
    assert_eq!(p.step, None, "the follow-up does not loop: the reply goes to a person");
    assert!(p.handoff.is_some());
    let p = t.done(&mut n);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("resolved"), "closed"));
    let mail = t.last_draft();
    assert!(mail.contains("is\nresolved, and we are closing the ticket"), "{mail}");
}

/// "A Community Representative ... should work with others in their
/// community ... to ensure that it is something that requires
/// intervention from a 2i2c Engineer": when the representative takes the
/// request back, nothing is left for the engineers to resolve. At every
/// step that waits for them, the decline closes the ticket: the action
/// no longer stands, no "resolved" confirmation is drafted (we resolved
/// nothing), and the engineers are told, in case they started on it.
#[test]
fn twoi2c_a_request_the_representative_takes_back_leaves_the_engineers_nothing_to_resolve() {
    let steps = at_each_2i2c_step_waiting_for_the_engineers("Please cancel this request, we no longer need it.", |at, _, p, t| {
        assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("withdrawn"), "closed"), "{at}: {p:?}");
        assert!(p.staff_action.is_none() && p.template.is_none(), "{at}: {p:?}");
        let note = t.notes.last().map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        assert!(note.contains("took the request back") && note.contains("infrastructure repository"), "{note}");
    });
    assert_eq!(steps, 2, "accept and follow-up");
}

/// "When the issue is resolved, we'll send you a confirmation via
/// support@2i2c.org, and we'll close the support ticket." The
/// representative writing that it works again while the engineers are asked
/// to resolve it is that resolution: at every step that waits for them, the
/// action no longer stands, the engineers are told (in case they started
/// on it), and the confirmation is drafted; the ticket closes once it is
/// sent. News that it still does not work leaves the action standing.
#[test]
fn twoi2c_an_issue_that_works_again_gets_the_confirmation_and_leaves_the_engineers_nothing_to_resolve() {
    let steps = at_each_2i2c_step_waiting_for_the_engineers("It works again now, thanks!", |at, _, p, t| {
        assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("works-again"), "closed"), "{at}: {p:?}");
        assert!(p.staff_action.is_none(), "{at}: {p:?}");
        let mail = t.last_draft().split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(mail.contains("it works again") && mail.contains("we are closing the ticket"), "{mail}");
        let note = t.notes.last().map(|n| n.split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
        assert!(note.contains("nothing is left for the engineers") && note.contains("infrastructure repository"), "{note}");
    });
    assert_eq!(steps, 2, "accept and follow-up");
    at_each_2i2c_step_waiting_for_the_engineers("It's still not working now.", |at, action, p, _| {
        assert_ne!(p.step.as_deref(), Some("works-again"), "{at}: {p:?}");
        assert_eq!(p.staff_action.as_deref(), Some(action), "{at}: {p:?}");
    });
}

/// News that it does not work, or works only in part, is no resolution,
/// however it is put: "not resolved" in Spanish or French, "nothing
/// works", what the representative did and the error that stayed, one
/// part working and another still broken. The engineers' action stands
/// and no "it works again" confirmation is drafted.
#[test]
fn twoi2c_an_issue_that_does_not_work_again_keeps_the_engineers_on_it() {
    for reply in [
        "No está resuelto.",
        "Todavía no está resuelto, el hub sigue caído.",
        "Rien n'est résolu.",
        "Nothing works again now.",
        "It never works again after a restart.",
        "We have done what you asked, the error persists.",
        "I did what you suggested and restarted my server. Same error.",
        "Hub works again now. Storage is still broken.",
        "Login works again now; the notebooks still fail to start.",
        "It works again now... for five minutes, then it crashes again.",
        "We fixed our config file as you said; please restart the hub now.",
        "I figured it out: the node pool is exhausted. Please add nodes.",
    ] {
        at_each_2i2c_step_waiting_for_the_engineers(reply, |at, action, p, _| {
            assert_ne!(p.step.as_deref(), Some("works-again"), "{at} {reply:?}: {p:?}");
            assert_eq!(p.staff_action.as_deref(), Some(action), "{at} {reply:?}: {p:?}");
        });
    }
}

/// `reply` from the representative at each 2i2c step where the engineers
/// are asked to act, each on a ticket of its own: `check(where, the
/// step's action, plan, ticket)`. Returns how many steps were tried.
fn at_each_2i2c_step_waiting_for_the_engineers(reply: &str, check: impl Fn(&str, &str, Plan, &Ticket<'_>)) -> usize {
    let pack = pack("2i2c");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut steps = 0;
    for proc in &pack.procedures {
        for step in proc.steps.iter() {
            let Some(action) = &step.staff_action else { continue };
            steps += 1;
            let mut t = Ticket::new(&pack, &clock, 40 + steps, &proc.id, json!({ "verified": true, "subject": "hub down" }));
            t.step = Some(step.name.clone());
            let p = t.reply(reply, &mut n);
            check(&format!("{} {}", proc.id, step.name), action, p, &t);
        }
    }
    steps as usize
}

#[test]
fn twoi2c_only_community_representatives_get_infrastructure_support() {
    let pack = pack("2i2c");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut n = MemoryNumbers::default();
    let mut rep = Ticket::new(&pack, &clock, 1, "infrastructure", json!({ "verified": true }));
    let p = rep.on(Event::NewMessage, &mut n);
    assert_eq!((p.step.as_deref(), p.state.as_str()), (Some("accept"), "new"));
    assert!(p.staff_action.is_some(), "open until an engineer resolves it");
    assert!(rep.last_draft().contains("https://github.com/2i2c-org/infrastructure"));
    assert!(rep.last_draft().contains("support@2i2c.org"));

    let mut other = Ticket::new(&pack, &clock, 2, "infrastructure", json!({ "verified": false }));
    other.on(Event::NewMessage, &mut n);
    assert!(other.last_draft().contains("Community Representative"));

    let mut debug = Ticket::new(&pack, &clock, 3, "out-of-scope", json!({}));
    debug.on(Event::NewMessage, &mut n);
    assert!(debug.last_draft().contains("https://discourse.jupyter.org"));
    assert!(debug.last_draft().contains("major problems, outages and upgrades"));
}

const AGE: &str = "-----BEGIN AGE ENCRYPTED FILE-----\nYWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSAzOW1zTEwrM0FOZ2dWQUo0\n-----END AGE ENCRYPTED FILE-----";

#[test]
fn twoi2c_age_blocks_are_routed_and_never_repeated() {
    let pack = pack("2i2c");
    let raw = format!("From: rep@example.org\r\nSubject: Re: outage, traceback and password\r\n\r\nHub is down! Here is the key:\r\n{}\r\n", AGE.replace('\n', "\r\n"));
    let msg = Message::parse(raw.into_bytes()).unwrap();
    assert_eq!(pack.classify(&msg).procedure, "encrypted-content");
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    // Even if the whole message text were in the ticket data, the draft and
    // the staff note would not repeat it.
    let mut t = Ticket::new(&pack, &clock, 7, "encrypted-content", json!({ "verified": true, "text": msg.text }));
    t.on(Event::NewMessage, &mut MemoryNumbers::default());
    for out in t.drafts.iter().chain(&t.notes) {
        assert!(!out.contains("YWdl") && !out.contains("BEGIN AGE"), "{out}");
    }
    let redacted = triaged::classify::sensitive::redact(&msg.text);
    assert!(!redacted.contains("YWdl"));
}

#[test]
fn twoi2c_clear_text_credentials_are_flagged_and_age_is_explained() {
    let pack = pack("2i2c");
    let raw = b"From: rep@example.org\r\nSubject: access\r\n\r\nThe admin password is Sup3rS3cret!2024 for the hub.\r\n".to_vec();
    let msg = Message::parse(raw).unwrap();
    assert_eq!(pack.classify(&msg).procedure, "cleartext-credentials");
    let kinds = triaged::classify::sensitive::scan(&msg.text).credentials;
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let mut t = Ticket::new(&pack, &clock, 8, "cleartext-credentials", json!({ "credential_kinds": kinds }));
    t.on(Event::NewMessage, &mut MemoryNumbers::default());
    let mail = t.last_draft();
    assert!(mail.contains("age -e -r age1mmx8hfzalmn3tmpryrfvcud5vyfakxdfqe683r40qkr6pjd2ag6s72cat5 -a"), "{mail}");
    assert!(mail.contains("password or secret"), "{mail}");
    assert!(mail.contains("rotate"), "{mail}");
    assert!(!mail.contains("Sup3rS3cret"), "{mail}");
}

// ---------------------------------------------------------------- templates

#[test]
fn user_text_is_data_never_template_source() {
    for name in ["sourcehut", "2i2c", "cacert"] {
        let pack = pack(name);
        let ctx = json!({
            "ticket": 42,
            "sender_name": "{{ 7*7 }}{% for x in range(3) %}X{% endfor %}",
            "sender_email": "evil@example.org",
            "subject": "hi\r\nBcc: victim@example.org {{ signature }}",
            "signature": "Support",
        });
        let out = render(&pack, "acknowledge.txt", &ctx).unwrap();
        assert!(out.contains("{{ 7*7 }}{% for x in range(3) %}X{% endfor %}"), "{name}: {out}");
        assert!(!out.contains("49") && !out.contains("XXX"), "{name}: {out}");
        assert!(out.contains("hi Bcc: victim@example.org {{ signature }}"), "{name}: {out}");
        assert!(!out.contains("\r\nBcc"), "{name}: {out}");
    }
}

#[test]
fn a_missing_variable_is_an_error_not_a_blank() {
    let pack = pack("sourcehut");
    let err = render(&pack, "acknowledge.txt", &json!({ "ticket": 1 })).unwrap_err().to_string();
    assert!(err.contains("acknowledge.txt"), "{err}");
    assert!(render(&pack, "nope.txt", &json!({})).is_err());
}

/// Every template and staff note a step names renders with the context the
/// engine builds from the documented ticket data (strict undefined would
/// fail on a variable nobody provides).
/// Seed 10: "Hi ," when the sender gave no display name. Every draft's
/// greeting reads well with and without one.
#[test]
fn every_greeting_reads_well_without_a_display_name() {
    let mut checked = 0;
    for name in ["sourcehut", "2i2c", "cacert"] {
        let pack = pack(name);
        for (file, src) in &pack.templates {
            if file.starts_with("staff/") {
                continue;
            }
            let greeting = src.lines().next().unwrap_or_default();
            let env = minijinja::Environment::new();
            // A translation (`de/…`) greets in its own language.
            let translated = file.contains('/');
            for (sender, want) in [("", "Hello,"), ("Ann Example", "Ann Example,")] {
                let out = env.render_str(greeting, minijinja::context! { sender_name => sender }).unwrap();
                let fits = if translated && sender.is_empty() { out.ends_with(',') } else { out.ends_with(want) };
                assert!(fits && !out.contains(" ,"), "{name}/{file}: {out:?}");
            }
            checked += 1;
        }
    }
    assert!(checked >= 24, "{checked}");
}

/// A translation says what its template says: it fills in the same
/// ticket data (a dropped challenge or date would leave the user without
/// it), and sourcehut's replies are all translated into German and French.
#[test]
fn every_translation_uses_the_data_its_template_uses() {
    let vars = |src: &str| -> std::collections::BTreeSet<String> {
        let re = regex::Regex::new(r"\{\{-?\s*([A-Za-z_][A-Za-z0-9_.]*)").unwrap();
        re.captures_iter(src).map(|c| c[1].to_string()).collect()
    };
    let mut checked = 0;
    for name in ["sourcehut", "2i2c", "cacert"] {
        let pack = pack(name);
        for (file, src) in &pack.templates {
            let Some((lang, base)) = file.split_once('/').filter(|(dir, _)| *dir != "staff") else { continue };
            let original = &pack.templates[base];
            assert_eq!(vars(src), vars(original), "{name}/{file} ({lang}) against {base}");
            checked += 1;
        }
    }
    let sourcehut = pack("sourcehut");
    for file in sourcehut.templates.keys().filter(|f| !f.contains('/')) {
        for lang in ["de", "fr"] {
            assert!(sourcehut.templates.contains_key(&format!("{lang}/{file}")), "sourcehut/{file} has no {lang} translation");
        }
    }
    assert!(checked >= 28, "{checked}");
}

#[test]
fn every_step_template_renders_with_the_documented_data() {
    let clock = ManualClock::new(berlin("2024-03-01T10:00:00"));
    let documented = json!({
        "verified": true, "factors": ["dkim", "ssh"], "other_account_verified": true,
        "payment_date": "2024-02-01", "credential_kinds": ["AWS access key"],
        "assurances": 0, "active_certificates": 0, "last_certificate_expiry": "2024-01-15",
        "received": "2024-02-28", "deadline_date": "2024-03-15", "retention_date": "2024-04-15", "aid_until": "2025-03-01",
        "cca_termination_date": "2024-03-01", "arbitration_number": "a20111128.3.1",
    });
    let mut rendered = 0;
    for name in ["sourcehut", "2i2c", "cacert"] {
        let pack = pack(name);
        for proc in &pack.procedures {
            let t = Ticket::new(&pack, &clock, 1, &proc.id, documented.clone());
            let mut ctx = t.data.clone();
            ctx.insert("ticket".into(), json!(1));
            ctx.insert("today".into(), json!("2024-03-01"));
            ctx.insert("deadlines".into(), json!({ "reminder": "2024-03-15" }));
            ctx.insert("billing".into(), json!(proc.billing));
            for step in &proc.steps {
                for tmpl in step.template.iter().chain(&step.staff_note) {
                    let out = render(&pack, tmpl, &Value::Object(ctx.clone()))
                        .unwrap_or_else(|e| panic!("{name}/{}/{}: {e}", proc.id, step.name));
                    assert!(!out.trim().is_empty());
                    rendered += 1;
                }
            }
        }
    }
    assert!(rendered > 30, "{rendered}");
}
