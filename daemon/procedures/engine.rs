//! The procedure engine: pure planning. Given a procedure, where a ticket
//! stands in it (its step and data) and what just happened (a new message,
//! a reply, a due deadline), it works out the next step and returns a
//! [`Plan`]: which template to draft with which variables, the ticket state,
//! the deadlines to arm and the data to record. It performs no I/O except
//! allocating a number from a [`Numbers`] source, so the caller can persist
//! the plan before acting on it, and tests can drive it with a [`ManualClock`].
//!
//! Conditions (`route.when`, `set`, `deadline.at`) are minijinja
//! expressions written by the pack author over the ticket data; user text is
//! never an expression's source.

use std::collections::HashMap;
use std::sync::Mutex;

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Span, Timestamp, Zoned};
use minijinja::Environment;
use serde_json::{Map, Value};

use super::intent::Intent;
use super::pack::Pack;
use super::procedure::{Procedure, Step};

/// Where "now" comes from: the system in production, a hand-moved clock in
/// tests. The zone of the returned time is the configured one.
pub trait Clock {
    fn now(&self) -> Zoned;
}

pub struct SystemClock {
    pub tz: TimeZone,
    /// Added to the system time: zero, except for a rehearsal started with
    /// `TRIAGED_NOW` (see [`SystemClock::from_config`]).
    pub offset: jiff::SignedDuration,
}

impl SystemClock {
    /// The system clock in the configured time zone. `TRIAGED_NOW` (an
    /// RFC 3339 instant) starts the clock at that instant instead, running
    /// on from there: a way to rehearse what the deadlines of the coming
    /// weeks will do (and how the tests check the CAcert timeline end to
    /// end) without touching the system clock.
    pub fn from_config(config: &crate::config::Config) -> SystemClock {
        let offset = match std::env::var("TRIAGED_NOW") {
            Ok(s) => match s.parse::<Timestamp>() {
                Ok(t) => {
                    tracing::warn!("TRIAGED_NOW is set: the procedures' clock starts at {t}, not at the system time");
                    t.duration_since(Timestamp::now())
                }
                Err(e) => {
                    tracing::warn!("TRIAGED_NOW={s:?} is not an RFC 3339 instant ({e}); using the system time");
                    jiff::SignedDuration::ZERO
                }
            },
            Err(_) => jiff::SignedDuration::ZERO,
        };
        SystemClock {
            tz: config.procedures.timezone.clone(),
            offset,
        }
    }
}

impl Clock for SystemClock {
    fn now(&self) -> Zoned {
        (Timestamp::now() + self.offset).to_zoned(self.tz.clone())
    }
}

/// A clock that only moves when told to.
pub struct ManualClock(Mutex<Zoned>);

impl ManualClock {
    pub fn new(start: Zoned) -> ManualClock {
        ManualClock(Mutex::new(start))
    }

    pub fn set(&self, to: Zoned) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = to;
    }

    pub fn advance(&self, by: Span) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add(by).expect("clock stays within jiff's range");
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Zoned {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// A source of gap-free sequence numbers per series (e.g. arbitration
/// sub-numbers). Asking again for the same ticket must return the same
/// number, so a retried plan never burns a number.
pub trait Numbers {
    fn allocate(&mut self, series: &str, ticket: u64) -> Result<u64, String>;
}

/// Numbers kept in memory (offline tools, tests).
#[derive(Default)]
pub struct MemoryNumbers {
    next: HashMap<String, u64>,
    given: HashMap<(String, u64), u64>,
}

impl Numbers for MemoryNumbers {
    fn allocate(&mut self, series: &str, ticket: u64) -> Result<u64, String> {
        if let Some(n) = self.given.get(&(series.to_string(), ticket)) {
            return Ok(*n);
        }
        let n = self.next.entry(series.to_string()).or_insert(0);
        *n += 1;
        self.given.insert((series.to_string(), ticket), *n);
        Ok(*n)
    }
}

impl Numbers for crate::store::Store {
    fn allocate(&mut self, series: &str, ticket: u64) -> Result<u64, String> {
        self.allocate_number(series, ticket).map_err(|e| e.to_string())
    }
}

/// What happened to the ticket.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// A new ticket (or a reclassified one): start at the first step.
    NewMessage,
    /// The user answered; `intent` is what the answer means for the step
    /// that asked (see [`Pack::intent`]). Only a [`Intent::Confirm`] takes
    /// `on_confirmation`. `from`: whose reply it is, as the daemon proved
    /// it (never as the mail says).
    Reply { text: String, intent: Intent, from: ReplyFrom },
    /// Staff say they carried out the step's `staff_action` (`!done N`,
    /// `triaged done N`).
    StaffDone { by: String },
    /// A deadline armed by the current step is due.
    DeadlineDue { name: String },
    /// A factor that could not be checked before settled (an identity
    /// re-check): only the current step's own routes may move the ticket
    /// (a step waiting for identity reads `verified`). Nobody answered,
    /// so no `on_reply` is taken: at sourcehut's self-service mail that
    /// would read as a request for the admin deletion.
    IdentitySettled,
}

/// Whose reply moves the ticket: its requester's, or (a procedure with
/// `second_account`) the other account's, verified as that account's
/// before it is planned. Routes read it as `reply_from`: a second
/// account's reply is no failure of the requester to prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyFrom {
    Requester,
    Second,
}

impl ReplyFrom {
    pub fn as_str(self) -> &'static str {
        match self {
            ReplyFrom::Requester => "requester",
            ReplyFrom::Second => "second",
        }
    }
}

/// Where the ticket stands.
#[derive(Debug, Clone, Copy)]
pub struct TicketView<'a> {
    pub number: u64,
    pub step: Option<&'a str>,
    pub data: &'a Map<String, Value>,
}

/// What to do, as data: persist it, then act on it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Plan {
    /// The step the ticket is in afterwards; `None` when it does not move.
    pub step: Option<String>,
    /// Steps passed through, for the audit log.
    pub path: Vec<String>,
    pub template: Option<String>,
    /// Staff-only notes template (never part of the user's draft).
    pub staff_note: Option<String>,
    /// What staff must carry out before the procedure goes on (`!done N`):
    /// the ticket waits for them, open.
    pub staff_action: Option<String>,
    /// The staff queue the ticket belongs in (e.g. "SE", "dispute").
    pub queue: Option<String>,
    pub context: Value,
    /// The ticket's state afterwards; empty: as it is (a thank-you on an
    /// answered or closed ticket).
    pub state: String,
    pub deadlines: Vec<(String, Timestamp)>,
    /// Keys the step records (`set`, `allocate`), for the ticket's notes.
    pub data: Map<String, Value>,
    /// The number this step allocated (series, number): the key of the
    /// documentation row in the store.
    pub number: Option<(String, u64)>,
    /// A row for the procedure's documentation table.
    pub document: Option<Map<String, Value>>,
    /// Why a human must look (the event did not match the procedure).
    pub handoff: Option<String>,
    /// What a reply that does not move the ticket does to the step's staff
    /// action, if anything.
    pub action_change: Option<ActionChange>,
}

/// A reply at a step that waits for its staff action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ActionChange {
    /// The user took the request back: the action no longer stands, and
    /// staff say whether they had carried it out already (`!done`: the
    /// procedure goes on as done) or not (`!notdone`: closed, nothing
    /// drafted).
    Withdrawn,
    /// The user put it off ("don't do it yet"): the action is on hold
    /// until they confirm again, and staff say whether they had carried
    /// it out already (`!done`) or not (`!notdone`: it stays on hold).
    PutOff,
    /// The user confirms it (again, after taking it back): the action
    /// stands. Its note is not rendered again (a step's note may name
    /// what only entering the step provides); the action says what to do.
    Reinstated,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("pack {pack} has no procedure {id:?}; reclassify the ticket to one of its procedures")]
    UnknownProcedure { pack: String, id: String },
    #[error("procedure {procedure} has no step {step:?} (the pack changed under a running ticket?); move the ticket by hand")]
    UnknownStep { procedure: String, step: String },
    #[error("procedure {procedure}, step {step}: {what} failed: {reason}; fix the expression in procedures.toml or the ticket data")]
    Expression {
        procedure: String,
        step: String,
        what: String,
        reason: String,
    },
    #[error("procedure {procedure}: routes loop through {path}; fix the routes in procedures.toml")]
    Loop { procedure: String, path: String },
    #[error("numbering series {series}: {reason}")]
    Numbering { series: String, reason: String },
}

pub struct Engine<'a> {
    pub pack: &'a Pack,
    pub clock: &'a dyn Clock,
}

impl<'a> Engine<'a> {
    pub fn new(pack: &'a Pack, clock: &'a dyn Clock) -> Self {
        Engine { pack, clock }
    }

    pub fn plan(
        &self,
        procedure: &str,
        ticket: TicketView<'_>,
        event: &Event,
        numbers: &mut dyn Numbers,
    ) -> Result<Plan, EngineError> {
        let proc = self.pack.procedure(procedure).ok_or_else(|| EngineError::UnknownProcedure {
            pack: self.pack.name.clone(),
            id: procedure.to_string(),
        })?;
        let current = match ticket.step {
            Some(s) => Some(proc.step(s).ok_or_else(|| EngineError::UnknownStep {
                procedure: proc.id.clone(),
                step: s.to_string(),
            })?),
            None => None,
        };
        let target = match (event, current) {
            (Event::DeadlineDue { .. }, None) => None,
            (Event::NewMessage, _) | (Event::Reply { .. }, None) => Some(proc.steps[0].name.clone()),
            (Event::Reply { intent, .. }, Some(cur)) => match intent {
                Intent::Confirm => cur.on_confirmation.clone().or_else(|| cur.on_reply.clone()),
                // Anything not clearly a confirmation never takes
                // `on_confirmation`; `on_reply` of a step that asks for a
                // confirmation is a review step (checked at load).
                Intent::Decline => cur.on_decline.clone().or_else(|| cur.on_reply.clone()),
                Intent::Resolved => cur.on_resolved.clone().or_else(|| cur.on_reply.clone()),
                _ => cur.on_reply.clone(),
            },
            (Event::StaffDone { .. }, None) => None,
            (Event::StaffDone { .. }, Some(cur)) => cur.on_done.clone(),
            (Event::DeadlineDue { name }, Some(cur)) => {
                cur.deadlines.iter().find(|d| &d.name == name).map(|d| d.next.clone())
            }
            (Event::IdentitySettled, None) => None,
            (Event::IdentitySettled, Some(cur)) => self.route_from(proc, ticket, cur, event)?,
        };
        match target {
            Some(t) => {
                let plan = self.enter(proc, ticket, &t, event, numbers)?;
                Ok(read_against_the_reply(plan, current, event))
            }
            None => Ok(self.stay(proc, ticket, current, event)),
        }
    }

    /// The event does not move the ticket: a stale deadline is ignored; an
    /// unexpected reply goes to a human.
    fn stay(&self, proc: &Procedure, ticket: TicketView<'_>, cur: Option<&Step>, event: &Event) -> Plan {
        let action = cur.and_then(|s| s.staff_action.clone());
        // Taken back before staff said it was carried out: what they were
        // asked to do no longer stands, and they say whether it was done
        // already (`!done`) or not (`!notdone`).
        // Put off ("don't do it yet"), it must not be done now either: on
        // hold until they confirm again. Where the step says what a
        // take-back does (`on_decline`: CAcert's unlock), its action is
        // that answer, and stands.
        let puts_off = matches!(event, Event::Reply { intent: Intent::Deferral, .. }) && cur.is_some_and(|s| s.on_decline.is_none());
        let action_change = match (event, &action) {
            (_, None) => None,
            (Event::Reply { intent: Intent::Decline, .. }, Some(_)) => Some(ActionChange::Withdrawn),
            (Event::Reply { .. }, Some(_)) if puts_off => Some(ActionChange::PutOff),
            (Event::Reply { intent: Intent::Confirm, .. }, Some(_)) => Some(ActionChange::Reinstated),
            _ => None,
        };
        let withdraws_action = matches!(action_change, Some(ActionChange::Withdrawn | ActionChange::PutOff));
        // Thanks and nothing else, where the step reads no reply (an
        // answered or closed ticket, one waiting for staff): nothing to
        // decide, and the ticket stays as it is; a closed one is not
        // reopened for a thank-you.
        let thanks_only = matches!(event, Event::Reply { intent: Intent::Thanks, .. }) && action_change.is_none();
        // Staff may have carried it out before the words came: they say
        // which, and neither answer is presumed. A number the step
        // allocated is used by the one, documented as not used by the other.
        let n = ticket.number;
        let unused = cur
            .and_then(|s| s.allocate.as_ref())
            .and_then(|a| ticket.data.get(&a.key))
            .and_then(Value::as_str)
            .map(|number| format!("; {number} documented as not used"))
            .unwrap_or_default();
        let answers = format!(
            "if you had carried it out already, !done {n} (it goes on as done); if not, !notdone {n} (closed, nothing drafted{unused})"
        );
        let handoff = match event {
            Event::Reply { .. } if withdraws_action && puts_off => Some(format!(
                "the user puts the request off (a deferral) after staff were asked to {}: that action is on hold until they confirm again (a plain confirmation puts it back); if you had carried it out already, !done {n} (it goes on as done); if not, !notdone {n} (it stays on hold, nothing drafted)",
                action.as_deref().unwrap_or("-")
            )),
            Event::Reply { .. } if withdraws_action => Some(format!(
                "the user takes the request back (a decline) after staff were asked to {}: that action is withdrawn; {answers}",
                action.as_deref().unwrap_or("-")
            )),
            Event::Reply { .. } if thanks_only => None,
            Event::Reply { intent, .. } => Some(format!(
                "a reply ({}) in step {:?} of {} that the procedure does not cover: a person decides what to do",
                intent.as_str(),
                cur.map(|s| s.name.as_str()).unwrap_or("-"),
                proc.id
            )),
            _ => None,
        };
        Plan {
            step: None,
            path: Vec::new(),
            template: None,
            staff_note: None,
            staff_action: if withdraws_action { None } else { action },
            queue: cur.and_then(|s| s.queue.clone()),
            context: Value::Object(ticket.data.clone()),
            state: match (&handoff, thanks_only) {
                (Some(_), _) => "new".into(),
                (None, true) => String::new(),
                (None, false) => cur.map(|s| s.state.as_str()).unwrap_or("new").into(),
            },
            deadlines: Vec::new(),
            data: Map::new(),
            number: None,
            document: None,
            handoff,
            action_change,
        }
    }

    fn enter(
        &self,
        proc: &Procedure,
        ticket: TicketView<'_>,
        first: &str,
        event: &Event,
        numbers: &mut dyn Numbers,
    ) -> Result<Plan, EngineError> {
        let env = super::expression::env();
        let now = self.clock.now();
        let mut updates = Map::new();
        let mut path = vec![first.to_string()];
        let mut name = first.to_string();
        let ctx = |updates: &Map<String, Value>| -> Map<String, Value> { self.context(proc, ticket, updates, event, &now) };
        let eval = |step: &Step, what: &str, src: &str, c: &Map<String, Value>| eval(&env, proc, step, what, src, c);
        let step = loop {
            let step = proc.step(&name).ok_or_else(|| EngineError::UnknownStep {
                procedure: proc.id.clone(),
                step: name.clone(),
            })?;
            // Entering a step: record its data first, so its own routes
            // (and later steps) can use it.
            for (key, src) in &step.set {
                let v = eval(step, &format!("set.{key}"), src, &ctx(&updates))?;
                let v = serde_json::to_value(&v).unwrap_or(Value::Null);
                updates.insert(key.clone(), v);
            }
            match route(&env, proc, step, &ctx(&updates))? {
                Some(n) if path.len() < 32 => {
                    path.push(n.clone());
                    name = n;
                }
                Some(_) => {
                    return Err(EngineError::Loop { procedure: proc.id.clone(), path: path.join(" → ") });
                }
                None => break step,
            }
        };
        // Allocation is idempotent per ticket, so planning the same event
        // again (after a crash) yields the same number, never a new one.
        let mut number = None;
        if let Some(a) = &step.allocate {
            let n = numbers.allocate(&a.series, ticket.number).map_err(|reason| EngineError::Numbering {
                series: a.series.clone(),
                reason,
            })?;
            // The store counts from 1 in every store; the pack says which
            // number the real table already reached.
            let n = n + self.pack.numbering.get(&a.series).copied().unwrap_or(0);
            updates.insert(a.key.clone(), Value::from(format!("{}.{n}", a.series)));
            number = Some((a.series.clone(), n));
        }
        let mut deadlines = Vec::new();
        let mut deadline_dates = Map::new();
        for d in &step.deadlines {
            let fail = |reason: String| EngineError::Expression {
                procedure: proc.id.clone(),
                step: step.name.clone(),
                what: format!("deadline {}", d.name),
                reason,
            };
            let mut at = match &d.at {
                Some(src) => {
                    let v = eval(step, "deadline.at", src, &ctx(&updates))?;
                    let s = v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string());
                    let date: Date = s.parse().map_err(|e| fail(format!("{s:?} is not a date: {e}")))?;
                    date.to_zoned(now.time_zone().clone()).map_err(|e| fail(e.to_string()))?
                }
                None => now.clone(),
            };
            if let Some(after) = d.after {
                at = at.checked_add(after).map_err(|e| fail(e.to_string()))?;
            }
            deadline_dates.insert(d.name.clone(), Value::from(at.date().to_string()));
            deadlines.push((d.name.clone(), at.timestamp()));
        }
        let mut context = ctx(&updates);
        context.insert("deadlines".into(), Value::Object(deadline_dates));
        let document = (!step.document.is_empty()).then(|| {
            step.document
                .iter()
                .map(|k| (k.clone(), context.get(k).cloned().unwrap_or(Value::Null)))
                .collect()
        });
        Ok(Plan {
            step: Some(step.name.clone()),
            path,
            template: step.template.clone(),
            staff_note: step.staff_note.clone(),
            staff_action: step.staff_action.clone(),
            queue: step.queue.clone(),
            context: Value::Object(context),
            state: step.state.as_str().to_string(),
            deadlines,
            data: updates,
            number,
            document,
            handoff: None,
            action_change: None,
        })
    }

    /// What a step's expressions see: the ticket's data, what this plan
    /// recorded so far (`updates`), and the facts of the moment.
    fn context(&self, proc: &Procedure, ticket: TicketView<'_>, updates: &Map<String, Value>, event: &Event, now: &Zoned) -> Map<String, Value> {
        let mut c = ticket.data.clone();
        c.extend(updates.clone());
        c.insert("ticket".into(), Value::from(ticket.number));
        c.insert("today".into(), Value::from(now.date().to_string()));
        c.insert("now".into(), Value::from(now.timestamp().to_string()));
        c.insert("procedure_title".into(), Value::from(proc.title.clone()));
        // A billing matter: the last four card digits count as a proof.
        c.insert("billing".into(), Value::from(proc.billing));
        // What the reply that moved the ticket meant, for routes such as
        // "nothing more requested": only while this event is planned.
        // Whose it was likewise; never a stored value, so that no other
        // event reads a reply's author.
        c.remove("reply_from");
        if let Event::Reply { intent, from, .. } = event {
            c.insert("reply_intent".into(), Value::from(intent.as_str()));
            c.insert("reply_from".into(), Value::from(from.as_str()));
        }
        c
    }

    /// Where the current step's own routes lead now, if anywhere: its
    /// `set`s were recorded when the ticket entered it.
    fn route_from(&self, proc: &Procedure, ticket: TicketView<'_>, cur: &Step, event: &Event) -> Result<Option<String>, EngineError> {
        let c = self.context(proc, ticket, &Map::new(), event, &self.clock.now());
        route(&super::expression::env(), proc, cur, &c)
    }
}

/// A staff action a reply starts is read against the reply's words.
/// Taking the request back (a decline) or putting it off (a deferral), it
/// starts none: "Here is the signature. I found my phone again, no need
/// to disable 2FA" proves who wrote it, and the step it leads to would
/// ask staff to disable 2FA all the same. The ticket stays at that step
/// with nobody asked to act, and a person decides; a plain confirmation
/// afterwards asks staff again (`stay`, `ActionChange::Reinstated`). Where
/// the step the reply came to says what a decline does (`on_decline`,
/// CAcert's unlock), that stands, and a step whose action staff were asked
/// for already withdraws it (`stay`). Asking a question as well ("Here is
/// the signature. Will my mailing lists go too?"), the action stands, and
/// staff are told to read the question before they act and answer it by
/// hand: the mail that follows the action does not.
fn read_against_the_reply(mut plan: Plan, current: Option<&Step>, event: &Event) -> Plan {
    let Event::Reply { intent, .. } = event else {
        return plan;
    };
    let asked_already = current.is_some_and(|c| c.staff_action.is_some());
    let said_by_the_step = *intent == Intent::Decline && current.is_some_and(|c| c.on_decline.is_some());
    if asked_already || said_by_the_step {
        return plan;
    }
    let Some(action) = plan.staff_action.clone() else {
        return plan;
    };
    let what = match intent {
        Intent::Question => {
            plan.handoff = Some(format!("the user's reply also asks a question: read it before you {action}, and answer it by hand"));
            return plan;
        }
        Intent::Decline => "takes the request back (a decline)",
        Intent::Deferral => "puts the request off (a deferral)",
        _ => return plan,
    };
    plan.handoff = Some(format!(
        "the user's reply {what}, and it would have asked staff to {action}: nobody is asked to; read it and decide (a plain confirmation from the user asks staff again)"
    ));
    plan.staff_action = None;
    plan.template = None;
    plan.staff_note = None;
    plan.deadlines.clear();
    plan.state = "new".into();
    plan
}

/// The first of `step`'s routes whose condition holds in `c`.
fn route(env: &Environment<'_>, proc: &Procedure, step: &Step, c: &Map<String, Value>) -> Result<Option<String>, EngineError> {
    for r in &step.routes {
        if eval(env, proc, step, "route", &r.when, c)?.is_true() {
            return Ok(Some(r.next.clone()));
        }
    }
    Ok(None)
}

/// One of the pack author's expressions, evaluated over `c`.
fn eval(env: &Environment<'_>, proc: &Procedure, step: &Step, what: &str, src: &str, c: &Map<String, Value>) -> Result<minijinja::Value, EngineError> {
    let fail = |reason: String| EngineError::Expression {
        procedure: proc.id.clone(),
        step: step.name.clone(),
        what: format!("{what} {src:?}"),
        reason,
    };
    let expr = env.compile_expression(src).map_err(|e| fail(e.to_string()))?;
    expr.eval(c).map_err(|e| fail(format!("{e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_numbers_do_not_repeat_for_a_retry() {
        let mut n = MemoryNumbers::default();
        assert_eq!(n.allocate("a", 7).unwrap(), 1);
        assert_eq!(n.allocate("a", 7).unwrap(), 1);
        assert_eq!(n.allocate("a", 8).unwrap(), 2);
        assert_eq!(n.allocate("b", 8).unwrap(), 1);
    }
}
