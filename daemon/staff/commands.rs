//! Staff commands typed in the channel: parsed from the message text and
//! answered from the store. Who may run them is decided before `run` is
//! called (see `irc/authorise.rs`); here the nick is already known to be staff.

use std::collections::HashMap;

use crate::act::facts::{self, MAX_FACTS};
use crate::act::staff_action::{self, Done};
use crate::store::claims::{Claim, ClaimOutcome, DoneOutcome, ReleaseOutcome};
use crate::store::{Store, StoreError, Ticket, TicketId, TicketState};

use super::{StaffCommand, lines};

/// Queue entries shown before "… and N more", to keep the channel readable.
const QUEUE_MAX: usize = 12;

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Command {
    Claim(TicketId),
    Release(TicketId),
    Done(TicketId),
    NotDone(TicketId),
    Queue,
    Show(TicketId),
    Reclassify(TicketId, String),
    Set(TicketId, Vec<(String, serde_json::Value)>),
    Help,
}

impl Command {
    pub(crate) fn name(&self) -> &'static str {
        match self {
            Command::Claim(_) => "!claim",
            Command::Release(_) => "!release",
            Command::Done(_) => "!done",
            Command::NotDone(_) => "!notdone",
            Command::Queue => "!queue",
            Command::Show(_) => "!show",
            Command::Reclassify(..) => "!reclassify",
            Command::Set(..) => "!set",
            Command::Help => "!help",
        }
    }
}

/// `None` when the text is not one of our commands (other bots in the
/// channel have their own `!` commands); `Some(Err(usage))` when it is ours
/// but malformed.
pub(crate) fn parse(text: &str) -> Option<Result<Command, String>> {
    let mut words = text.trim().split_whitespace();
    let verb = words.next()?.strip_prefix('!')?.to_ascii_lowercase();
    let args: Vec<&str> = words.collect();
    let ticket = |usage: &str| -> Result<TicketId, String> {
        match args.first().map(|a| a.trim_start_matches('#').parse::<u64>()) {
            Some(Ok(n)) if n > 0 => Ok(TicketId(n)),
            _ => Err(format!("usage: {usage}")),
        }
    };
    let exact = |n: usize, usage: &str, cmd: Result<Command, String>| {
        if args.len() == n {
            cmd
        } else {
            Err(format!("usage: {usage}"))
        }
    };
    let cmd = match verb.as_str() {
        "claim" => exact(1, "!claim N", ticket("!claim N").map(Command::Claim)),
        "release" => exact(1, "!release N", ticket("!release N").map(Command::Release)),
        "done" => exact(1, "!done N", ticket("!done N").map(Command::Done)),
        "notdone" => exact(1, "!notdone N", ticket("!notdone N").map(Command::NotDone)),
        "show" => exact(1, "!show N", ticket("!show N").map(Command::Show)),
        "queue" => exact(0, "!queue", Ok(Command::Queue)),
        "help" => Ok(Command::Help),
        "reclassify" => {
            let usage = "!reclassify N PROCEDURE";
            let procedure = args.get(1).copied().unwrap_or("");
            let valid = !procedure.is_empty()
                && procedure.len() <= 64
                && procedure
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
            if valid {
                exact(
                    2,
                    usage,
                    ticket(usage).map(|t| Command::Reclassify(t, procedure.to_string())),
                )
            } else {
                Err(format!("usage: {usage} (a procedure name: letters, digits, - _ .)"))
            }
        }
        "set" => {
            let usage = "usage: !set N key=value [key=value...]";
            if args.len() < 2 || args.len() > MAX_FACTS + 1 {
                Err(usage.to_string())
            } else {
                ticket("!set N key=value [key=value...]").and_then(|t| {
                    let facts = args[1..].iter().map(|a| facts::parse_fact(a));
                    let facts = facts.collect::<Result<Vec<_>, _>>().map_err(|e| format!("not recorded: {e}"))?;
                    Ok(Command::Set(t, facts))
                })
            }
        }
        _ => return None,
    };
    Some(cmd)
}

#[derive(Debug, Default, PartialEq)]
pub(crate) struct Reply {
    pub lines: Vec<String>,
    pub forward: Option<StaffCommand>,
}

impl Reply {
    fn line(s: String) -> Reply {
        Reply {
            lines: vec![s],
            forward: None,
        }
    }
}

/// The ticket's next armed deadline.
fn deadline(t: &Ticket) -> Option<jiff::Timestamp> {
    t.deadlines.iter().map(|d| d.due).min()
}

/// Carries out a command for `nick` and says what to answer.
pub(crate) fn run(store: &Store, cmd: &Command, nick: &str, now: jiff::Timestamp) -> Result<Reply, StoreError> {
    let missing = |id: TicketId| Reply::line(lines::no_ticket(nick, id));
    Ok(match cmd {
        Command::Help => Reply::line(lines::usage(nick)),
        // A claim, a release and a close are moves ([`Store::moving`]).
        Command::Claim(id) => match {
            let _moving = store.moving();
            store.claim(*id, nick, now)?
        } {
            ClaimOutcome::NoSuchTicket => missing(*id),
            outcome => Reply::line(lines::claim(nick, *id, &outcome, now)),
        },
        Command::Release(id) => match {
            let _moving = store.moving();
            store.release(*id, nick, now)?
        } {
            ReleaseOutcome::NoSuchTicket => missing(*id),
            outcome => Reply::line(lines::release(nick, *id, &outcome, now)),
        },
        // The daemon drafts "it is done", or withdraws the drafts a closed
        // ticket no longer needs.
        Command::Done(id) => match {
            let _moving = store.moving();
            staff_action::done(store, *id, nick, now)?
        } {
            Done::StaffAction => Reply {
                lines: Vec::new(),
                forward: Some(StaffCommand::StaffDone { ticket: *id, by: nick.to_string() }),
            },
            Done::Closing(outcome @ DoneOutcome::Done(_)) => Reply {
                lines: vec![lines::done(nick, *id, &outcome, now)],
                forward: Some(StaffCommand::WithdrawStale { ticket: *id, by: nick.to_string() }),
            },
            Done::Closing(outcome) => Reply::line(lines::done(nick, *id, &outcome, now)),
            Done::OnHold(action) => Reply::line(lines::done_on_hold(nick, *id, &action)),
        },
        // The daemon answers with what became of the ticket.
        Command::NotDone(id) => match store.ticket(*id)? {
            Some(_) => Reply { lines: Vec::new(), forward: Some(StaffCommand::NotDone { ticket: *id, by: nick.to_string() }) },
            None => missing(*id),
        },
        Command::Queue => Reply::line(queue(store, now)?),
        Command::Show(id) => match store.ticket(*id)? {
            Some(t) => Reply {
                lines: lines::show(&t, store.claim_of(*id)?.as_ref(), deadline(&t), now),
                forward: None,
            },
            None => missing(*id),
        },
        Command::Reclassify(id, procedure) => {
            if store.ticket(*id)?.is_none() {
                return Ok(missing(*id));
            }
            Reply {
                lines: vec![lines::reclassifying(nick, *id, procedure)],
                forward: Some(StaffCommand::Reclassify {
                    ticket: *id,
                    procedure: procedure.clone(),
                    by: nick.to_string(),
                }),
            }
        }
        // The daemon answers with what became of the ticket.
        Command::Set(id, facts) => match store.ticket(*id)? {
            Some(_) => Reply {
                lines: Vec::new(),
                forward: Some(StaffCommand::SetFacts {
                    ticket: *id,
                    facts: facts.clone(),
                    by: nick.to_string(),
                }),
            },
            None => missing(*id),
        },
    })
}

/// Unclaimed open tickets and tickets past their deadline, due ones first.
fn queue(store: &Store, now: jiff::Timestamp) -> Result<String, StoreError> {
    let claims: HashMap<TicketId, Claim> = store.claims()?.into_iter().collect();
    let mut entries = Vec::new();
    // One ticket at a time: the history may hold 100,000 of them.
    store.for_each_ticket(|t| {
        let due = deadline(&t).filter(|d| *d <= now);
        let claim = claims.get(&t.id);
        let listed = match t.state {
            _ if staff_action::waiting_draft(&t) => claim.is_none() || due.is_some(),
            TicketState::Closed => false,
            // Staff replied; it comes back only when its deadline fires.
            TicketState::Answered => due.is_some(),
            _ => claim.is_none() || due.is_some(),
        };
        if listed {
            entries.push((due.is_none(), t.id, lines::queue_entry(&t, claim, due, now)));
        }
    })?;
    entries.sort();
    let total = entries.len();
    let shown: Vec<String> = entries.into_iter().take(QUEUE_MAX).map(|e| e.2).collect();
    Ok(lines::queue(&shown, total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Intake, Ticket, Uid};

    fn ts(s: &str) -> jiff::Timestamp {
        s.parse().unwrap()
    }

    fn store(n: u32) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(dir.path()).unwrap();
        for uid in 1..=n {
            let intake = Intake {
                folder: "INBOX".into(),
                uid: Uid { validity: 1, uid },
                message_id: format!("m{uid}@x"),
            };
            let mut t = Ticket::new(s.next_ticket_id().unwrap(), &intake, &format!("user{uid}@example.org"), &format!("subject {uid}"), "account-deletion");
            if uid == 2 {
                t.deadlines.push(crate::store::Deadline {
                    name: "reminder".into(),
                    due: "2026-11-23T10:00:00Z".parse().unwrap(),
                });
            }
            s.open_ticket(&t, &intake, &[], None).unwrap();
        }
        (dir, s)
    }

    #[test]
    fn parses_commands_and_ignores_others() {
        assert_eq!(parse("!claim 12"), Some(Ok(Command::Claim(TicketId(12)))));
        assert_eq!(parse("  !CLAIM #12 "), Some(Ok(Command::Claim(TicketId(12)))));
        assert_eq!(parse("!queue"), Some(Ok(Command::Queue)));
        assert_eq!(parse("!notdone #4"), Some(Ok(Command::NotDone(TicketId(4)))));
        assert_eq!(parse("!notdone"), Some(Err("usage: !notdone N".into())));
        assert_eq!(
            parse("!reclassify 3 billing"),
            Some(Ok(Command::Reclassify(TicketId(3), "billing".into())))
        );
        assert_eq!(parse("!claim"), Some(Err("usage: !claim N".into())));
        assert_eq!(parse("!claim 0"), Some(Err("usage: !claim N".into())));
        assert_eq!(parse("!claim 1 2"), Some(Err("usage: !claim N".into())));
        assert!(matches!(parse("!reclassify 3 a;b"), Some(Err(_))));
        assert_eq!(parse("!weather"), None);
        assert_eq!(parse("claim 12"), None);
        assert_eq!(parse(""), None);
    }

    #[test]
    fn set_parses_typed_facts_and_refuses_identity() {
        assert_eq!(
            parse("!set #3 assurances=0 last_certificate_expiry=2026-01-31"),
            Some(Ok(Command::Set(
                TicketId(3),
                vec![
                    ("assurances".into(), serde_json::json!(0)),
                    ("last_certificate_expiry".into(), serde_json::json!("2026-01-31"))
                ]
            )))
        );
        let refused = parse("!set 3 verified=true").unwrap().unwrap_err();
        assert!(refused.contains("identity can never be set by hand"), "{refused}");
        assert_eq!(parse("!set 3"), Some(Err("usage: !set N key=value [key=value...]".into())));
        assert!(matches!(parse("!set x a=1"), Some(Err(_))));
        assert!(matches!(parse("!set 3 a"), Some(Err(_))));
    }

    #[test]
    fn set_is_forwarded_only_for_existing_tickets() {
        let (_d, s) = store(1);
        let now = ts("2026-11-23T12:00:00Z");
        let facts = vec![("payment_date".to_string(), serde_json::json!("2026-10-01"))];
        let r = run(&s, &Command::Set(TicketId(1), facts.clone()), "alice", now).unwrap();
        assert_eq!(
            r.forward,
            Some(StaffCommand::SetFacts { ticket: TicketId(1), facts: facts.clone(), by: "alice".into() })
        );
        let r = run(&s, &Command::Set(TicketId(7), facts), "alice", now).unwrap();
        assert_eq!((r.forward, r.lines), (None, vec!["alice: there is no ticket #7".to_string()]));
    }

    #[test]
    fn done_carries_on_a_ticket_waiting_for_its_staff_action_and_closes_any_other() {
        let (_d, s) = store(2);
        let now = ts("2026-11-23T12:00:00Z");
        s.update_ticket(TicketId(2), None, "test", None, |t| {
            t.notes.staff_action = Some("refund the payment".into());
            Vec::new()
        })
        .unwrap();
        let done = |id: u64, nick: &str| run(&s, &Command::Done(TicketId(id)), nick, now).unwrap();

        // Waiting for its action: the daemon carries the procedure on; nothing is closed.
        let r = done(2, "alice");
        assert_eq!((r.lines, r.forward), (vec![], Some(StaffCommand::StaffDone { ticket: TicketId(2), by: "alice".into() })));
        assert_ne!(s.ticket(TicketId(2)).unwrap().unwrap().state, TicketState::Closed);

        // Waiting for none: closed, and said so, never that an action was done.
        let r = done(1, "alice");
        assert_eq!(r.lines, vec!["#1 closed by alice".to_string()]);
        assert_eq!(r.forward, Some(StaffCommand::WithdrawStale { ticket: TicketId(1), by: "alice".into() }));
        assert_eq!(s.ticket(TicketId(1)).unwrap().unwrap().state, TicketState::Closed);

        // Someone else's claim stops both.
        s.claim(TicketId(2), "bob", now).unwrap();
        let r = done(2, "alice");
        assert_eq!(r.forward, None);
        assert!(r.lines[0].starts_with("alice: #2 is held by bob"), "{:?}", r.lines);
    }

    #[test]
    fn queue_lists_unclaimed_and_due_first() {
        let (_d, s) = store(3);
        let now = ts("2026-11-23T12:00:00Z");
        s.claim(TicketId(1), "alice", now).unwrap();
        s.claim(TicketId(2), "bob", now).unwrap();
        let q = run(&s, &Command::Queue, "carol", now).unwrap().lines.join("\n");
        let (due, unclaimed) = (q.find("#2 ").unwrap(), q.find("#3 ").unwrap());
        assert!(due < unclaimed, "{q}");
        assert!(q.contains("held by bob, due since 10:00 UTC"), "{q}");
        assert!(!q.contains("#1 "), "{q}");
        assert!(q.starts_with("queue (2): "), "{q}");
    }

    #[test]
    fn show_reports_state_claim_and_deadline() {
        let (_d, s) = store(2);
        let now = ts("2026-11-23T12:00:00Z");
        s.claim(TicketId(2), "alice", ts("2026-11-23T11:00:00Z")).unwrap();
        let r = run(&s, &Command::Show(TicketId(2)), "bob", now).unwrap();
        assert!(
            r.lines[0].contains("claimed (held by alice since 11:00 UTC)"),
            "{:?}",
            r.lines
        );
        assert!(r.lines[0].contains("deadline 10:00 UTC (passed)"), "{:?}", r.lines);
        assert_eq!(r.lines[1], "#2 identity: no verification report");
        let r = run(&s, &Command::Show(TicketId(9)), "bob", now).unwrap();
        assert_eq!(r.lines, vec!["bob: there is no ticket #9"]);
    }

    #[test]
    fn reclassify_is_forwarded_only_for_existing_tickets() {
        let (_d, s) = store(1);
        let now = ts("2026-11-23T12:00:00Z");
        let r = run(&s, &Command::Reclassify(TicketId(1), "billing".into()), "alice", now).unwrap();
        assert_eq!(
            r.forward,
            Some(StaffCommand::Reclassify {
                ticket: TicketId(1),
                procedure: "billing".into(),
                by: "alice".into()
            })
        );
        let r = run(&s, &Command::Reclassify(TicketId(5), "billing".into()), "alice", now).unwrap();
        assert_eq!(r.forward, None);
    }
}
