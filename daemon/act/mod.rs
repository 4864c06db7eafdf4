//! Acting on a message: classify it, check who sent it, let the procedure
//! engine plan the step, render and build the draft, persist all of it in
//! one transaction, then carry out the side effects. Every action is safe
//! to repeat, so a crash at any point followed by a restart yields exactly
//! one draft per message.
//!
//! Staff-only facts (verification report, classification, staff notes)
//! live in the ticket's data and never reach a user-facing draft except
//! through a template that names them.

pub mod draft;
pub mod facts;
pub mod notice;
pub mod reverify;
pub mod staff_action;
pub mod withdraw;

use serde_json::{Map, Value, json};
use tokio::sync::{Mutex, Notify, watch};

use crate::classify::procedure::{Engine, Event, Plan, SystemClock, TicketView};
use crate::classify::{self, IdentityPolicy, Pack, UNCLASSIFIED};
use crate::config::Config;
use crate::mailbox::{Connection, MailboxError};
use crate::message::{Message, sanitize_line};
use crate::store::{Action, Deadline, Intake, Store, StoreError, Ticket, TicketId, TicketState, Uid};
use crate::verify::{Report, VerifyContext, Verifier, challenge};
use draft::{DraftError, Drafter, reply_target};
use notice::{Notice, Notifier};

/// The generic reply used when no procedure claims the message.
pub const ACKNOWLEDGE_TEMPLATE: &str = "acknowledge.txt";

#[derive(Debug, thiserror::Error)]
pub enum ActError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Mailbox(#[from] MailboxError),
    #[error(transparent)]
    Draft(#[from] DraftError),
    #[error("procedure pack: {0}")]
    Pack(String),
    #[error("identity checks: {0}")]
    Verify(String),
    /// Staff asked for something that cannot be done; the text says why.
    #[error("{0}")]
    Refused(String),
}

/// What became of a message.
#[derive(Debug)]
pub enum Handled {
    Opened(Ticket, Vec<(u64, Action)>),
    Reply(Ticket, Vec<(u64, Action)>),
}

impl Handled {
    /// The planned actions (with their store ids) still to carry out.
    pub fn actions(&self) -> &[(u64, Action)] {
        match self {
            Handled::Opened(_, a) | Handled::Reply(_, a) => a,
        }
    }
}

pub struct Actor {
    pub store: Store,
    pub pack: Pack,
    drafter: Drafter,
    verifier: Verifier,
    clock: SystemClock,
    drafts_mailbox: String,
    web_path: String,
    signature: String,
    /// Ticket numbers are planned before the transaction that takes them;
    /// one intake at a time keeps the plan's number the one it gets.
    intake: Mutex<()>,
    /// Bumped when actions were planned outside a folder's own sync (a
    /// deadline, a reclassification), so every worker carries out its own;
    /// a watch, so a bump while a worker is busy is not lost.
    wake: watch::Sender<u64>,
    /// Woken when a ticket may have armed a deadline.
    pub deadlines_changed: Notify,
    /// The staff channel (IRC, webhook), or nothing.
    pub notifier: Notifier,
    /// Staff nick → sending address, to check who answered a claimed ticket.
    staff_addresses: std::collections::BTreeMap<String, String>,
}

impl Actor {
    pub async fn new(config: &Config, store: Store, notifier: Notifier) -> Result<Actor, ActError> {
        let pack = classify::cli::load_pack(config).map_err(|e| ActError::Pack(e.to_string()))?;
        let verifier = Verifier::new(config).await.map_err(|e| ActError::Verify(e.to_string()))?;
        Ok(Actor {
            store,
            pack,
            drafter: Drafter::new(&config.draft.from)?,
            verifier,
            clock: SystemClock::from_config(config),
            drafts_mailbox: config.imap.drafts.clone(),
            web_path: config.identity.web_path.clone(),
            signature: config.draft.signature.clone(),
            intake: Mutex::new(()),
            wake: watch::Sender::new(0),
            deadlines_changed: Notify::new(),
            notifier,
            staff_addresses: config.irc.as_ref().map(|i| i.staff_addresses.clone()).unwrap_or_default(),
        })
    }

    fn wake_workers(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// For a folder worker: changes when there is work planned for it.
    pub fn wake_receiver(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// A new message: the reply it is to a ticket of the same sender, or a
    /// new ticket.
    pub async fn intake(&self, folder: &str, uid: Uid, msg: &Message) -> Result<Handled, ActError> {
        let _one_at_a_time = self.intake.lock().await;
        let intake = Intake {
            folder: folder.to_string(),
            uid,
            message_id: msg.message_id.clone(),
        };
        if let Some(ticket) = self.thread_of(msg)? {
            let (t, a) = self.reply(ticket, &intake, msg).await?;
            return Ok(Handled::Reply(t, a));
        }
        let (t, a) = self.open(&intake, msg).await?;
        Ok(Handled::Opened(t, a))
    }

    /// The ticket `msg` answers: by In-Reply-To/References, else by the
    /// `[#N]` subject tag; only when it comes from the ticket's sender.
    /// Anyone can quote a Message-ID or a tag from a public list, and a
    /// stranger's "yes" must not confirm someone else's deletion.
    fn thread_of(&self, msg: &Message) -> Result<Option<Ticket>, ActError> {
        let Some(sender) = msg.single_from() else {
            return Ok(None);
        };
        let mut candidates: Vec<TicketId> = Vec::new();
        for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
            if let Some(t) = self.store.ticket_for_message_id(id)?
                && t.0 != 0
            {
                candidates.push(t);
            }
        }
        if let Some(n) = classify::rules::ticket_tag(&msg.subject) {
            candidates.push(TicketId(n));
        }
        for id in candidates {
            if let Some(t) = self.store.ticket(id)?
                && t.sender_email.eq_ignore_ascii_case(&sender.email)
            {
                return Ok(Some(t));
            }
        }
        Ok(None)
    }

    async fn open(&self, intake: &Intake, msg: &Message) -> Result<(Ticket, Vec<(u64, Action)>), ActError> {
        let class = self.pack.classify(msg);
        let procedure = self.pack.procedure(&class.procedure);
        let billing = procedure.map(|p| p.billing).unwrap_or(false);
        let report = self
            .verifier
            .verify(msg, &VerifyContext { billing, challenge: None })
            .await;
        let id = self.store.next_ticket_id()?;
        let sender = msg.reply_recipient();
        let mut data = Map::new();
        data.insert("sender_name".into(), Value::from(sender.name.as_deref().map(sanitize_line).unwrap_or_default()));
        data.insert("sender_email".into(), Value::from(sender.email.clone()));
        data.insert("subject".into(), Value::from(classify::sensitive::redact(&msg.subject_line(200))));
        data.insert("signature".into(), Value::from(self.signature.clone()));
        data.insert("classification".into(), serde_json::to_value(&class).unwrap_or_default());
        let findings = classify::sensitive::scan(&msg.text);
        data.insert("credential_kinds".into(), json!(findings.credentials));
        data.insert("age_blocks".into(), json!(findings.age_blocks));
        record_identity(&mut data, &report);
        facts::record_request_date(&mut data, msg, &self.clock);
        // Issued whenever the procedure needs identity, also to a sender
        // already verified: a step may still ask for more (a second account,
        // a second factor later), and its template names the challenge.
        if let Some(p) = procedure
            && p.identity != IdentityPolicy::None
        {
            let domain = sender.email.rsplit_once('@').map(|(_, d)| d.to_string()).unwrap_or_default();
            let ch = challenge::issue(id.0, report.account.as_deref().unwrap_or(&sender.email), &self.web_path);
            data.insert(
                "challenge".into(),
                json!({
                    "ssh_text": ch.ssh_text,
                    "ssh_command": challenge::SSH_SIGN_COMMAND,
                    "dns_name": ch.txt_name(&domain),
                    "dns_value": ch.txt_value(),
                    "web_url": ch.web_url(&domain),
                }),
            );
            data.insert("challenge_issued".into(), serde_json::to_value(&ch).unwrap_or_default());
        }
        let target = reply_target(msg);
        let subject = classify::sensitive::redact(&msg.subject_line(200));
        let mut ticket = Ticket::new(id, intake, &msg.from[0].display(), &subject, &class.procedure);
        ticket.sender_email = msg.single_from().map(|a| a.email.clone()).unwrap_or_default();
        ticket.reply_to = Some(target);
        ticket.data = data;
        self.schedule_reverify(&mut ticket, msg, &report)?;
        let actions = self.step(&mut ticket, &Event::NewMessage)?;
        let notice = self.notifier.outgoing(&ticket_notice(&ticket, !actions.is_empty(), false));
        let (t, planned) = self.store.open_ticket(&ticket, intake, &actions, notice.as_ref())?;
        self.record_document(&t)?;
        Ok((t, planned))
    }

    async fn reply(&self, ticket: Ticket, intake: &Intake, msg: &Message) -> Result<(Ticket, Vec<(u64, Action)>), ActError> {
        let challenge = ticket
            .data
            .get("challenge_issued")
            .and_then(|v| serde_json::from_value(v.clone()).ok());
        let billing = self.pack.procedure(&ticket.procedure).map(|p| p.billing).unwrap_or(false);
        let report = self.verifier.verify(msg, &VerifyContext { billing, challenge }).await;
        let intent = self.pack.intent(&msg.text);
        let event = Event::Reply {
            text: classify::sensitive::redact(&msg.text),
            intent,
        };
        let target = reply_target(msg);
        let mut planned_ticket = ticket.clone();
        record_identity(&mut planned_ticket.data, &report);
        planned_ticket.reply_to = Some(target);
        self.schedule_reverify(&mut planned_ticket, msg, &report)?;
        let actions = self.step(&mut planned_ticket, &event)?;
        let note = format!("reply {} ({}), {}", msg.message_id, report.summary(), intent.as_str());
        let notice = self.notifier.outgoing(&ticket_notice(&planned_ticket, !actions.is_empty(), true));
        let (t, planned) = self.store.update_ticket(ticket.id, Some(intake), &note, notice.as_ref(), |t| {
            apply(t, &planned_ticket);
            actions.clone()
        })?;
        self.record_document(&t)?;
        Ok((t, planned))
    }

    /// The procedures' "now" (see `SystemClock`).
    pub fn now(&self) -> jiff::Timestamp {
        use crate::classify::Clock;
        self.clock.now().timestamp()
    }

    /// Fires every deadline due now; returns how many fired.
    pub async fn fire_due(&self) -> Result<usize, ActError> {
        let now = self.now();
        let due = self.store.due_deadlines(now)?;
        for (_, id, name) in &due {
            if name == reverify::REVERIFY {
                self.reverify(*id).await?;
                continue;
            }
            let Some(mut ticket) = self.store.ticket(*id)? else { continue };
            ticket.deadlines.retain(|d| &d.name != name);
            let actions = self.step(&mut ticket, &Event::DeadlineDue { name: name.clone() })?;
            let notice = self.notifier.outgoing(&Notice::DeadlineFired {
                ticket: *id,
                procedure: ticket.procedure.clone(),
                what: format!("{name}; now at step {}{}", ticket.step.as_deref().unwrap_or("-"), staff_action::notice_suffix(&ticket)),
                draft_ready: !actions.is_empty(),
            });
            let (t, _) = self.store.update_ticket(*id, None, &format!("deadline {name} fired"), notice.as_ref(), |t| {
                apply(t, &ticket);
                actions.clone()
            })?;
            self.record_document(&t)?;
            tracing::info!(ticket = id.0, deadline = %name, step = ?t.step, "deadline fired");
        }
        if !due.is_empty() {
            // A notice without a draft may go now; the others once the
            // workers have appended theirs.
            self.notifier.wake();
            self.wake_workers();
        }
        Ok(due.len())
    }

    /// Staff moved the ticket to another procedure: start it over there.
    pub fn reclassify(&self, id: TicketId, procedure: &str, by: &str) -> Result<Ticket, ActError> {
        if procedure != UNCLASSIFIED && self.pack.procedure(procedure).is_none() {
            let known: Vec<_> = self.pack.procedures.iter().map(|p| p.id.as_str()).collect();
            return Err(ActError::Pack(format!("no procedure {procedure:?} in pack {}; known: {}", self.pack.name, known.join(", "))));
        }
        let Some(mut ticket) = self.store.ticket(id)? else {
            return Err(ActError::Store(StoreError::Plan(format!("no ticket {id}"))));
        };
        ticket.procedure = procedure.to_string();
        ticket.step = None;
        ticket.deadlines.retain(|d| d.name.starts_with("triaged:"));
        // The old procedure's drafts are stale: the new one drafts its own.
        let mut actions = withdraw::superseded(&mut ticket, &self.drafts_mailbox);
        actions.extend(self.step(&mut ticket, &Event::NewMessage)?);
        let (t, _) = self.store.update_ticket(id, None, &format!("reclassified as {procedure} by {by}"), None, |t| {
            t.procedure = ticket.procedure.clone();
            apply(t, &ticket);
            actions.clone()
        })?;
        self.wake_workers();
        Ok(t)
    }

    /// A message staff sent from their mail client (seen in the Sent
    /// folder): the ticket it answers becomes answered and the channel is
    /// told, with a warning when it did not come from the claim holder.
    /// Returns the ticket, or `None` when the message answers no ticket.
    pub fn sent(&self, intake: &Intake, msg: &Message) -> Result<Option<TicketId>, ActError> {
        let mut candidates: Vec<TicketId> = Vec::new();
        for id in msg.in_reply_to.iter().chain(msg.references.iter().rev()) {
            if let Some(t) = self.store.ticket_for_message_id(id)?
                && t.0 != 0
            {
                candidates.push(t);
            }
        }
        // Our own Sent folder: the subject tag is trusted here.
        candidates.extend(classify::rules::ticket_tag(&msg.subject).map(TicketId));
        let Some(ticket) = candidates.into_iter().find_map(|id| self.store.ticket(id).ok().flatten()) else {
            return Ok(None);
        };
        let by = msg.from.first().map(|a| a.email.clone()).unwrap_or_default();
        let warning = match self.store.claim_of(ticket.id)? {
            Some(claim) => match self.staff_addresses.get(&claim.nick) {
                Some(addr) if !addr.eq_ignore_ascii_case(&by) => Some(format!(
                    "sent by {by}, but {} is held by {} ({addr})",
                    ticket.id, claim.nick
                )),
                _ => None,
            },
            None => None,
        };
        let notice = self.notifier.outgoing(&Notice::Answered {
            ticket: ticket.id,
            by: by.clone(),
            warning,
        });
        let event = format!("answered by {by} ({})", msg.message_id);
        let drafts = self.drafts_mailbox.clone();
        self.store.update_ticket(ticket.id, Some(intake), &event, notice.as_ref(), |t| {
            staff_action::answered(t);
            // Answered: any draft of ours still waiting is stale.
            withdraw::superseded(t, &drafts)
        })?;
        self.notifier.wake();
        self.wake_workers();
        Ok(Some(ticket.id))
    }

    /// Runs the procedure engine for `event` on `ticket` (changed in
    /// place) and returns the draft to append, if the step has one. A
    /// message no procedure claims gets the acknowledgement.
    fn step(&self, ticket: &mut Ticket, event: &Event) -> Result<Vec<Action>, ActError> {
        let plan = if ticket.procedure == UNCLASSIFIED || self.pack.procedure(&ticket.procedure).is_none() {
            if !matches!(event, Event::NewMessage) {
                // A reply to an unclassified ticket waits for staff.
                ticket.state = TicketState::New;
                return Ok(Vec::new());
            }
            acknowledgement(ticket)
        } else {
            let engine = Engine::new(&self.pack, &self.clock);
            let view = TicketView {
                number: ticket.id.0,
                step: ticket.step.as_deref(),
                data: &ticket.data,
            };
            let mut numbers = self.store.clone();
            match engine.plan(&ticket.procedure, view, event, &mut numbers) {
                Ok(p) => p,
                Err(e) => {
                    // The message still gets an answer; staff see why the
                    // procedure could not run.
                    tracing::warn!(ticket = ticket.id.0, "procedure engine: {e}");
                    ticket.data.insert("handoff".into(), Value::from(e.to_string()));
                    if !matches!(event, Event::NewMessage) {
                        return Ok(Vec::new());
                    }
                    acknowledgement(ticket)
                }
            }
        };
        self.apply_plan(ticket, &plan)
    }

    fn apply_plan(&self, ticket: &mut Ticket, plan: &Plan) -> Result<Vec<Action>, ActError> {
        if let Some(step) = &plan.step {
            ticket.step = Some(step.clone());
        }
        if let Some(state) = TicketState::parse(&plan.state) {
            // A claim stays a claim until staff release it; the procedure
            // only moves unclaimed tickets between new and waiting.
            if !(ticket.state == TicketState::Claimed && matches!(state, TicketState::New | TicketState::Waiting)) {
                ticket.state = state;
            }
        }
        if plan.queue.is_some() {
            ticket.queue = plan.queue.clone();
        }
        for (k, v) in &plan.data {
            ticket.data.insert(k.clone(), v.clone());
        }
        if plan.step.is_some() {
            // A new step arms its own deadlines; triaged's own timers
            // (identity re-checks) stay.
            ticket.deadlines.retain(|d| d.name.starts_with("triaged:"));
            ticket
                .deadlines
                .extend(plan.deadlines.iter().map(|(name, due)| Deadline { name: name.clone(), due: *due }));
        }
        if let Some(h) = &plan.handoff {
            ticket.data.insert("handoff".into(), Value::from(h.clone()));
        }
        if let Some((series, number)) = &plan.number {
            ticket.data.insert("number".into(), json!({"series": series, "number": number}));
        }
        if let Some(doc) = &plan.document {
            ticket.data.insert("document".into(), Value::Object(doc.clone()));
        }
        staff_action::record(ticket, plan);
        if let Some(note) = &plan.staff_note {
            match classify::render(&self.pack, note, &plan.context) {
                Ok(text) => {
                    ticket.data.insert("staff_note".into(), Value::from(text));
                }
                Err(e) => tracing::warn!(ticket = ticket.id.0, "staff note: {e}"),
            }
        }
        let Some(template) = &plan.template else {
            return Ok(Vec::new());
        };
        let body = classify::render(&self.pack, template, &plan.context).map_err(DraftError::from)?;
        let target = ticket
            .reply_to
            .clone()
            .ok_or_else(|| DraftError::Build("the ticket has no message to reply to".into()))?;
        let message_id = self.drafter.draft_message_id(ticket.id, ticket.drafts.len(), &target.message_id);
        let draft = self.drafter.build(&target, ticket.id, &message_id, body)?;
        staff_action::draft_waiting(ticket, plan);
        withdraw::remember(ticket, &draft.message_id, &draft.bytes);
        Ok(vec![Action::AppendDraft {
            ticket: ticket.id,
            folder: ticket.folder.clone(),
            mailbox: self.drafts_mailbox.clone(),
            message_id: draft.message_id,
            bytes: draft.bytes,
        }])
    }

    fn record_document(&self, t: &Ticket) -> Result<(), ActError> {
        if let (Some(doc), Some(num)) = (t.data.get("document").and_then(Value::as_object), t.data.get("number")) {
            let series = num["series"].as_str().unwrap_or_default();
            if let Some(n) = num["number"].as_u64() {
                self.store.record_document(series, n, doc)?;
            }
        }
        Ok(())
    }

    /// Carries out one planned action. `check_first`: look for an earlier
    /// attempt's result before acting (after a restart or a lost
    /// connection, when the server may have applied it).
    pub async fn execute(&self, conn: &mut Connection, id: u64, action: &Action, check_first: bool) -> Result<(), ActError> {
        self.store.persist()?;
        match action {
            Action::AppendDraft {
                ticket,
                mailbox,
                message_id,
                bytes,
                ..
            } => {
                if check_first && conn.contains_message_id(mailbox, message_id).await? {
                    tracing::info!(ticket = ticket.0, mailbox, "draft already there, not appending again");
                    self.store.complete_action(id, *ticket, "draft found in the drafts folder after a restart")?;
                    return Ok(());
                }
                conn.append_draft(mailbox, bytes).await?;
                self.store
                    .complete_action(id, *ticket, &format!("draft <{message_id}> appended to {mailbox}"))?;
            }
            Action::WithdrawDraft { .. } => self.withdraw(conn, id, action).await?,
        }
        Ok(())
    }

    /// Carries out freshly planned actions (never attempted before) as one
    /// batch: drafts for the same folder go in one MULTIAPPEND where the
    /// server allows, and are recorded done in one transaction.
    pub async fn execute_fresh(&self, conn: &mut Connection, actions: &[(u64, Action)]) -> Result<(), ActError> {
        // The tickets behind these drafts are durable before the server
        // sees a draft (plan, persist, then act).
        self.store.persist()?;
        // Withdrawals are never planned by intake (they select Drafts, and
        // a sync pass holds its folder selected): left pending, they run
        // with the next `run_pending`.
        let mut by_mailbox: std::collections::BTreeMap<&str, Vec<(u64, TicketId, &str, &[u8])>> = Default::default();
        for (id, a) in actions {
            if let Action::AppendDraft { ticket, mailbox, message_id, bytes, .. } = a {
                by_mailbox.entry(mailbox.as_str()).or_default().push((*id, *ticket, message_id, bytes));
            }
        }
        for (mailbox, group) in by_mailbox {
            let bytes: Vec<&[u8]> = group.iter().map(|g| g.3).collect();
            conn.append_drafts(mailbox, &bytes).await?;
            let done: Vec<_> = group
                .iter()
                .map(|(id, ticket, message_id, _)| (*id, *ticket, format!("draft <{message_id}> appended to {mailbox}")))
                .collect();
            self.store.complete_actions(&done)?;
        }
        Ok(())
    }

    /// Carries out what is pending for `folder`: after a restart or a lost
    /// connection (`check_first`), or actions planned by a deadline.
    pub async fn run_pending(&self, conn: &mut Connection, folder: &str, check_first: bool) -> Result<usize, ActError> {
        let pending: Vec<_> = self
            .store
            .pending_actions()?
            .into_iter()
            .filter(|(_, a)| a.folder() == folder)
            .collect();
        for (id, action) in &pending {
            self.execute(conn, *id, action, check_first).await?;
        }
        if !pending.is_empty() {
            // Notices queued with these drafts (before a restart too) may go.
            self.notifier.wake();
        }
        Ok(pending.len())
    }
}

/// What staff are told about a ticket a message opened (`reply`: advanced),
/// queued in the same transaction as the ticket: a crash after the draft
/// can never lose it.
fn ticket_notice(t: &Ticket, draft_ready: bool, reply: bool) -> Notice {
    let identity = t
        .data
        .get("identity_summary")
        .and_then(Value::as_str)
        .unwrap_or("identity not checked")
        .to_string();
    let mut procedure = t.procedure.clone();
    if let Some(step) = &t.step {
        procedure = format!("{procedure}/{step}");
    }
    if let Some(h) = t.data.get("handoff").and_then(Value::as_str) {
        procedure = format!("{procedure} (staff: {h})");
    }
    procedure.push_str(&staff_action::notice_suffix(t));
    if reply {
        Notice::Text(format!(
            "{}: reply from {} → {procedure}; {identity}{}",
            t.id,
            t.from,
            if draft_ready { "; draft ready" } else { "" }
        ))
    } else {
        Notice::NewTicket {
            ticket: t.id,
            procedure,
            from: t.from.clone(),
            subject: t.subject.clone(),
            identity,
            draft_ready,
        }
    }
}

/// Identity facts the procedures read: `verified` only as a real boolean,
/// and the union of factors passed over the ticket's messages (DKIM on the
/// request, then an SSH signature in the reply, make two).
fn record_identity(data: &mut Map<String, Value>, report: &Report) {
    let mut passed: Vec<String> = data
        .get("factors_passed")
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default();
    for (name, factor) in report.factors.iter() {
        if factor.passed() && !passed.iter().any(|p| p == name) {
            passed.push(name.to_string());
        }
    }
    let required = report.required as usize;
    let same_account = match (data.get("account").and_then(Value::as_str), report.account.as_deref()) {
        (Some(a), Some(b)) => a == b,
        (None, _) => true,
        (Some(_), None) => false,
    };
    if !same_account {
        // Factors for another account never add up with this one's.
        passed.clear();
    }
    let verified = report.account.is_some() && same_account && (report.verified || passed.len() >= required);
    if let Some(a) = &report.account {
        data.insert("account".into(), Value::from(a.clone()));
    }
    data.insert("factors_passed".into(), json!(passed));
    data.insert("verified".into(), Value::Bool(verified));
    data.insert("two_factor".into(), Value::Bool(report.required >= 2));
    data.insert("verification".into(), serde_json::to_value(report).unwrap_or_default());
    data.insert("identity_summary".into(), Value::from(report.summary()));
}

/// The plan for a message no procedure claims: acknowledge, leave it new.
fn acknowledgement(ticket: &Ticket) -> Plan {
    let mut context = ticket.data.clone();
    context.insert("ticket".into(), Value::from(ticket.id.0));
    Plan {
        step: None,
        path: Vec::new(),
        template: Some(ACKNOWLEDGE_TEMPLATE.into()),
        staff_note: None,
        staff_action: None,
        queue: None,
        context: Value::Object(context),
        state: TicketState::New.as_str().into(),
        deadlines: Vec::new(),
        data: Map::new(),
        number: None,
        document: None,
        handoff: None,
    }
}

/// Copies what a plan changed from `planned` onto the stored ticket,
/// leaving what others change concurrently (claims) alone.
fn apply(stored: &mut Ticket, planned: &Ticket) {
    stored.step = planned.step.clone();
    if !(stored.state == TicketState::Claimed && matches!(planned.state, TicketState::New | TicketState::Waiting)) {
        stored.state = planned.state;
    }
    stored.queue = planned.queue.clone();
    stored.deadlines = planned.deadlines.clone();
    stored.reply_to = planned.reply_to.clone();
    for (k, v) in &planned.data {
        stored.data.insert(k.clone(), v.clone());
    }
    staff_action::carry(stored, planned);
}
