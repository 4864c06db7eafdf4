//! Acting on a message: classify it, check who sent it, let the procedure
//! engine plan the step, render and build the draft, persist all of it in
//! one transaction, then carry out the side effects. Every action is safe
//! to repeat, so a crash at any point followed by a restart yields exactly
//! one draft per message.
//!
//! Staff-only facts (verification report, classification, staff notes)
//! live in the ticket's notes (`store::TicketNotes`) and never reach a
//! user-facing draft except through a template that names them.

pub mod aside;
pub mod draft;
pub mod facts;
pub mod reverify;
pub mod staff_action;
pub mod withdraw;

use serde_json::{Map, Value, json};
use tokio::sync::{Mutex, Notify, watch};

use crate::procedures::intent::Intent;
use crate::procedures::engine::{Engine, Event, Plan, ReplyFrom, SystemClock, TicketView};
use crate::classify::sensitive::Findings;
use crate::classify::{self, Classification, UNCLASSIFIED};
use crate::learn::Features;
use crate::procedures::{self, IdentityPolicy, Pack};
use crate::config::Config;
use crate::mailbox::MailboxError;
use crate::mailbox::plans::PlanError;
use crate::message::{Message, sanitize_line};
use crate::store::{Action, CaseNumber, Commit, Deadline, Intake, Store, StoreError, Ticket, TicketId, TicketNotes, TicketState, Uid};
use crate::store::ReplyTarget;
use crate::verify::conversation::{Binding, TicketIdentity};
use crate::verify::list::Arrival;
use crate::verify::{Report, VerifyContext, Verifier, challenge};
use draft::{DraftError, Drafter, reply_target};
use crate::staff::{Claimed, Notice, Notifier, lines};

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
    Pack(#[from] crate::classify::cli::PackLoadError),
    /// Staff named a procedure the pack does not have.
    #[error("no procedure {procedure:?} in pack {pack}; known: {known}")]
    UnknownProcedure { procedure: String, pack: String, known: String },
    #[error("identity checks: {0}")]
    Verify(#[from] crate::verify::VerifyError),
    /// Staff asked for something that cannot be done; the text says why.
    #[error("{0}")]
    Refused(String),
}

impl From<PlanError> for ActError {
    fn from(e: PlanError) -> ActError {
        match e {
            PlanError::Mailbox(e) => ActError::Mailbox(e),
            PlanError::Store(e) => ActError::Store(e),
        }
    }
}

/// What became of a message.
#[derive(Debug)]
pub enum Handled {
    Opened(Ticket, Vec<(u64, Action)>),
    Reply(Ticket, Vec<(u64, Action)>),
}

/// What staff's mail in the Sent folder was to the ticket it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// It reached the ticket's address (or the list its drafts are
    /// copied to, or the list its request came through): the ticket is
    /// answered.
    Answered(TicketId),
    /// It reached none of them (a forward to a colleague): kept in the
    /// history, nothing changed.
    Elsewhere(TicketId),
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
    /// What is set aside before classification (bounces, auto-replies,
    /// bulk, spam): see `classify::aside`.
    aside: classify::aside::AsidePolicy,
    /// When staff are told each day what was set aside (`[intake]
    /// aside_digest`), or never.
    aside_digest: Option<jiff::civil::Time>,
    /// The team's addresses (`[intake] addresses` and `[draft] from`):
    /// a mail whose signed To and Cc name none of them was written to
    /// someone else (`binding`).
    own_addresses: Vec<String>,
    /// The local model: routes what the rules leave unclassified, learns
    /// from staff moving tickets.
    pub learner: crate::learn::Learner,
    /// `[limits]`: a message `triaged classify` hands over is read under
    /// them, as one fetched is.
    pub limits: crate::config::Limits,
}

impl Actor {
    pub async fn new(config: &Config, store: Store, notifier: Notifier) -> Result<Actor, ActError> {
        let pack = classify::cli::load_pack(config)?;
        let verifier = Verifier::new(config).await?;
        let drafter = Drafter::new(&config.draft.from)?
            .quoting(config.draft.quote)
            .with_key(store.draft_key()?);
        let learner = crate::learn::Learner::open(&store, config.learning)?;
        Ok(Actor {
            store,
            pack,
            drafter,
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
            aside: classify::aside::AsidePolicy::from_config(config),
            aside_digest: config.intake.aside_digest,
            own_addresses: config.intake.addresses.clone(),
            learner,
            limits: config.limits.clone(),
        })
    }

    /// The lock a ticket's move is planned and written under
    /// ([`Store::moving`]), taken after the move's last `.await`.
    fn moving(&self) -> std::sync::MutexGuard<'_, ()> {
        self.store.moving()
    }

    /// Ticket `id` as stored now; `read` (the copy read before an
    /// `.await`) if it is gone.
    fn as_stored(&self, read: Ticket) -> Result<Ticket, ActError> {
        Ok(self.store.ticket(read.id)?.unwrap_or(read))
    }

    /// The team's addresses for mail that came as `arrival`: its own and,
    /// through a configured list, the posting address the seal vouches
    /// for (mail to the list is mail to the team).
    fn team_addresses(&self, arrival: &Arrival<'_>) -> Vec<String> {
        let mut ours = self.own_addresses.clone();
        if let crate::verify::list::ListVerdict::Vouched(list) = &arrival.list {
            ours.extend(list.post.iter().map(|p| p.to_ascii_lowercase()));
        }
        ours
    }

    fn wake_workers(&self) {
        self.wake.send_modify(|n| *n = n.wrapping_add(1));
    }

    /// For a folder worker: changes when there is work planned for it.
    pub fn wake_receiver(&self) -> watch::Receiver<u64> {
        self.wake.subscribe()
    }

    /// A new message, parsed once by the folder worker: read as its author
    /// sent it (`Arrival`: a list's changes undone), then a reply to one of
    /// our tickets (`reply`, `second_reply`) or a new request (`open`).
    /// `commit` says how a new ticket is committed (the folder worker's
    /// choice); a reply's change is always durable at once. `None`: the
    /// message is a ticket's already (a duplicate).
    pub async fn intake(&self, folder: &str, uid: Uid, msg: &Message, commit: Commit) -> Result<Option<Handled>, ActError> {
        let _one_at_a_time = self.intake.lock().await;
        // Two folders may hold the same mail (sent to two of our
        // addresses), and their workers take it at once: the first one
        // here handles it, the other finds it a ticket's already.
        if self.store.ticket_for_message_id(&msg.message_id)?.is_some() {
            return Ok(None);
        }
        // From here on the message is read as its author sent it (a list's
        // rewritten From, tag and footer are the list's, not theirs).
        let arrival = self.verifier.arrival(msg).await;
        let msg = arrival.message();
        let intake = Intake {
            folder: folder.to_string(),
            uid,
            message_id: msg.message_id.clone(),
        };
        // Before the sender's ticket: a bounce comes from a mail server,
        // and is about our mail, not a message of its own.
        if let Some((t, a)) = self.bounce(&intake, msg)? {
            return Ok(Some(Handled::Reply(t, a)));
        }
        if let Some((ticket, joined_by, party)) = self.thread_of(msg)?
            && let Some((t, a)) = self.reply(ticket, joined_by, party, &intake, &arrival).await?
        {
            return Ok(Some(Handled::Reply(t, a)));
        }
        let (t, a) = self.open(&intake, &arrival, commit).await?;
        self.named_from_elsewhere(msg, &t)?;
        Ok(Some(Handled::Opened(t, a)))
    }

    /// The ticket `msg` would join, for a quarantine entry's log line.
    pub(crate) fn ticket_of(&self, msg: &Message) -> Option<TicketId> {
        self.thread_of(msg).ok().flatten().map(|(t, _, _)| t.id)
    }

    /// The ticket `msg` answers, and the header that says so. A message
    /// joins a ticket only from the ticket's own address (normalised as the
    /// account lookup normalises it) and only by naming one of *our*
    /// drafts (In-Reply-To/References) or the `[#N]` subject tag: incoming
    /// Message-IDs are chosen by whoever sent them, so they never pick a
    /// ticket. Whether the joining header is signed is decided later
    /// ([`Binding`]); joining alone changes nothing.
    ///
    /// A procedure that involves a second account (`second_account`) also
    /// takes a message from another address naming the ticket the same
    /// way; whether it is that account's is checked when it is verified.
    fn thread_of(&self, msg: &Message) -> Result<Option<(Ticket, JoinedBy, Party)>, ActError> {
        let Some(sender) = msg.single_from() else {
            return Ok(None);
        };
        let mut candidates: Vec<(TicketId, JoinedBy, Option<&str>)> = Vec::new();
        for (header, ids) in [(JoinedBy::InReplyTo, &msg.in_reply_to), (JoinedBy::References, &msg.references)] {
            for id in ids.iter().rev() {
                if let Some(t) = self.store.ticket_for_message_id(id)?
                    && t.0 != 0
                {
                    candidates.push((t, header, Some(id.as_str())));
                }
            }
        }
        if let Some(n) = classify::rules::ticket_tag(&msg.subject) {
            candidates.push((TicketId(n), JoinedBy::SubjectTag, None));
        }
        for (id, header, draft) in candidates {
            let Some(t) = self.store.ticket(id)? else { continue };
            if !draft.is_none_or(|d| names_our_mail(&t, d)) {
                continue;
            }
            if is_ticket_address(&t, &sender.email) {
                return Ok(Some((t, header, Party::Owner)));
            }
            let second_wanted = self.second_account(&t);
            let second_fits = t.identity.second.as_ref().is_none_or(|s| s.is_address(&sender.email));
            if second_wanted && second_fits {
                return Ok(Some((t, header, Party::Second)));
            }
        }
        Ok(None)
    }

    /// A new request, stage by stage: classify, verify, record, procedure
    /// step (plan, render), store. Classification comes before the
    /// identity check because the procedure decides what the check counts:
    /// a billing matter counts the card digits, and only a procedure that
    /// needs identity issues a challenge for the user to answer.
    async fn open(&self, intake: &Intake, arrival: &Arrival<'_>, commit: Commit) -> Result<(Ticket, Vec<(u64, Action)>), ActError> {
        let msg = arrival.message();
        let (class, features) = match read_new_request(&self.verifier, &self.pack, &self.aside, Some(&self.learner), msg).await {
            // Not a request (bounce, auto-reply, bulk, spam): recorded,
            // never answered.
            Reading::SetAside(aside) => return self.open_set_aside(intake, msg, &aside, commit),
            Reading::Classified(class, features) => (class, features),
        };
        let classified = self.classify_request(msg, class, features);
        let id = self.store.next_ticket_id()?;
        let (report, identity) = self.verify_request(id, arrival, &classified).await;
        // Kept with the ticket, in its transaction, for a later decision.
        let features = self.learner.ticket_features(classified.features.as_ref(), msg);
        tracing::info!(ticket = id.0, "classified: {}", classified.explanation);
        let (mut ticket, address_note) = self.new_ticket(id, intake, arrival, classified, &report, identity);
        if self.second_account(&ticket) {
            ticket.identity.note_names(&msg.message_id, &msg.text);
        }
        // Checks that could not run, on a request no re-check could prove:
        // staff are told it is not checked again, as for a held reply.
        let unchecked = report.temporary && !self.worth_a_recheck(&ticket, msg, &report);
        let address_note = match (address_note, unchecked) {
            (Some(note), true) => Some(format!("{note}{}", reverify::NOT_KEPT)),
            (None, true) => Some(reverify::NOT_KEPT.trim_start_matches("; ").to_string()),
            (note, false) => note,
        };
        self.schedule_reverify(&mut ticket, msg, &report, None, Party::Owner, None)?;
        let actions = self.step(&mut ticket, &Event::NewMessage)?;
        let notice = self
            .notifier
            .outgoing(&self.ticket_notice(&ticket, !actions.is_empty(), None, address_note.as_deref()));
        let (t, planned) = self.store.open_ticket_with(&ticket, intake, &actions, notice.as_ref(), features.as_deref(), commit)?;
        self.record_document(&t)?;
        Ok((t, planned))
    }

    /// How this daemon would read `msg` were it a new request
    /// ([`read_as_new`]): `triaged classify` asks while the daemon runs.
    pub async fn read_as_new(&self, msg: &Message) -> Reading {
        read_as_new(&self.verifier, &self.pack, &self.aside, Some(&self.learner), msg).await
    }

    /// Classify stage of a new request: its procedure (rules, then the
    /// local model, as `read_new` decided), and what its text tells: the
    /// language, and which credentials it gave away.
    fn classify_request(&self, msg: &Message, class: Classification, features: Option<Features>) -> Classified {
        let procedure = self.pack.procedure(&class.procedure);
        Classified {
            explanation: classify::explain(&self.pack, &class),
            billing: procedure.is_some_and(|p| p.billing),
            needs_identity: procedure.is_some_and(|p| p.identity.acts_on_account()),
            language: classify::language::of_message(msg),
            findings: classify::sensitive::scan(&msg.text),
            subject: classify::sensitive::redact(&msg.subject_line(200)),
            class,
            features,
        }
    }

    /// Verify stage of a new request, under what its procedure counts.
    async fn verify_request(&self, id: TicketId, arrival: &Arrival<'_>, classified: &Classified) -> (Report, TicketIdentity) {
        let msg = arrival.message();
        let Classified { billing, needs_identity, .. } = *classified;
        let address = msg.single_from().map(|a| a.email.clone()).unwrap_or_default();
        // Issued before the check, so the DNS and web tokens of a user who
        // publishes them early are read too; the SSH answer comes later.
        let challenge = needs_identity.then(|| challenge::issue(id.0, &address, &self.web_path));
        let report = self
            .verifier
            .verify(msg, &VerifyContext { billing, challenge: challenge.clone(), list: arrival.list.clone() })
            .await;
        let mut identity = TicketIdentity::open(&address, &report, &msg.message_id);
        identity.challenge = challenge;
        (report, identity)
    }

    /// Record stage of a new request: the ticket, whom its drafts answer
    /// (and what staff must know about that address), what triaged knows.
    fn new_ticket(
        &self,
        id: TicketId,
        intake: &Intake,
        arrival: &Arrival<'_>,
        classified: Classified,
        report: &Report,
        identity: TicketIdentity,
    ) -> (Ticket, Option<String>) {
        let msg = arrival.message();
        let on_account = self.pack.identity_policy(&classified.class.procedure).acts_on_account();
        let (target, address_note) = through(arrival, &self.own_addresses, addressed(msg, report, on_account));
        let mut ticket = Ticket::new(id, intake, &msg.from[0].display(), &classified.subject, &classified.class.procedure);
        ticket.sender_email = identity.address.clone();
        ticket.notes = TicketNotes {
            sender_name: Some(target.name.as_deref().map(classify::sensitive::redact).unwrap_or_default()),
            sender_email: Some(target.email.clone()),
            explanation: Some(classified.explanation),
            language: classified.language.map(str::to_string),
            received: Some(facts::request_date(msg, &self.clock)),
            ..self.request_notes(classified.subject, classified.class, &classified.findings)
        };
        ticket.reply_to = Some(target);
        ticket.identity = identity;
        (ticket, address_note)
    }

    /// What every ticket a request opens starts with, whatever becomes of
    /// it: the subject, the signature, the classification, and which
    /// credentials the text gave away (whom drafts greet and address is
    /// decided once the sender is checked).
    fn request_notes(&self, subject: String, class: Classification, findings: &Findings) -> TicketNotes {
        TicketNotes {
            subject: Some(subject),
            signature: Some(self.signature.clone()),
            classification: Some(class),
            credential_kinds: Some(findings.credentials.iter().map(|k| k.to_string()).collect()),
            age_blocks: Some(findings.age_blocks as u64),
            ..TicketNotes::default()
        }
    }

    /// A reply to a ticket, from its sender or (`party`) the second
    /// account of a procedure that involves one, stage by stage: verify
    /// (the procedure is known, so the check counts what it counts from
    /// the start), record its evidence on the identity of whoever wrote it
    /// (`judge`), classify what it means and take the procedure's step
    /// (`plan`), store. A reply that does not prove what it must (see
    /// `judge_reply`, `judge_second`) stops after the record stage
    /// (`hold`), and is kept for a re-check when a check could not run.
    /// `None` when a message from another address is no other account's:
    /// it opens a ticket of its own instead.
    async fn reply(
        &self,
        ticket: Ticket,
        joined_by: JoinedBy,
        party: Party,
        intake: &Intake,
        arrival: &Arrival<'_>,
    ) -> Result<Option<(Ticket, Vec<(u64, Action)>)>, ActError> {
        let msg = arrival.message();
        // Answering a bounce or an auto-reply starts a mail loop.
        if let Some(aside) = self.aside.judge(msg).filter(|a| a.kind.is_automatic()) {
            return self.automatic_answer(&ticket, intake, msg, &aside).map(Some);
        }
        let report = self.check_in(&ticket, arrival).await;
        let _moving = self.moving();
        // Staff may have moved the ticket while its sender was checked.
        let ticket = self.as_stored(ticket)?;
        if party == Party::Second && other_account(&ticket, &report).is_none() {
            return Ok(None);
        }
        let mut planned_ticket = ticket.clone();
        let unproven = self.judge(party, &mut planned_ticket, arrival, &report, joined_by).err();
        let held = unproven.as_ref().map(|u| u.reason.as_str());
        let given_up = self.schedule_reverify(&mut planned_ticket, msg, &report, Some(joined_by), party, held)?;
        if let Some(Unproven { claimed, mut reason }) = unproven {
            if self.worth_a_recheck(&planned_ticket, msg, &report) {
                reason.push_str(reverify::HELD_UNTIL);
            } else if report.temporary {
                reason.push_str(reverify::NOT_KEPT);
            }
            let held = self.hold(&planned_ticket, intake, msg, claimed, reason)?;
            self.given_up(ticket.id, given_up)?;
            return Ok(Some(held));
        }
        let planned = self.plan_move(party, planned_ticket, arrival, &report, false)?;
        let (t, actions) = self.store.update_ticket(ticket.id, Some(intake), &planned.event, planned.notice.as_ref(), |t| {
            apply(t, &planned.ticket);
            planned.actions.clone()
        })?;
        self.record_document(&t)?;
        self.given_up(ticket.id, given_up)?;
        Ok(Some((t, actions)))
    }

    /// `judge_reply` or `judge_second`, by whose reply it is.
    fn judge(&self, party: Party, planned: &mut Ticket, arrival: &Arrival<'_>, report: &Report, joined_by: JoinedBy) -> Result<(), Unproven> {
        match party {
            Party::Owner => self.judge_reply(planned, arrival, report, joined_by),
            Party::Second => self.judge_second(planned, arrival, report, joined_by),
        }
    }

    /// `plan_reply` or `plan_second`, by whose reply it is.
    fn plan_move(&self, party: Party, planned: Ticket, arrival: &Arrival<'_>, report: &Report, rechecked: bool) -> Result<Move, ActError> {
        match party {
            Party::Owner => self.plan_reply(planned, arrival, report, rechecked),
            Party::Second => self.plan_second(planned, arrival, rechecked),
        }
    }

    /// Records the evidence of a reply checked as `report` on `planned`
    /// (its ticket as stored, changed in place), and says whether it may
    /// move the ticket: `Err` when it is held (see `reply`), with whom it
    /// claims to be and why it does not prove it. The rules a reply is
    /// held by, whether it arrives now or a re-check proves it later.
    fn judge_reply(&self, planned: &mut Ticket, arrival: &Arrival<'_>, report: &Report, joined_by: JoinedBy) -> Result<(), Unproven> {
        let msg = arrival.message();
        let binding = binding(planned, msg, report, joined_by, &self.team_addresses(arrival));
        let counts = planned.identity.record(report, &msg.message_id, binding);
        if let Some(account) = planned.identity.account.clone()
            && !counts
        {
            let reason = unauthenticated_reason(report, binding, joined_by);
            return Err(Unproven { claimed: Claimed::Account(account), reason });
        }
        if let Some(reason) = planned.identity.falls_short(&msg.message_id) {
            return Err(Unproven { claimed: Claimed::Address(planned.identity.address.clone()), reason });
        }
        if planned.identity.account.is_none()
            && joined_by == JoinedBy::SubjectTag
            && binding == Binding::Unsigned
            && self.policy(planned).acts_on_account()
        {
            // Nothing signed, no account: what ties a reply to a ticket
            // that acts on an account is naming our mail, which only its
            // recipient knows. Ticket numbers count up; the tag is
            // anyone's to write.
            let claimed = Claimed::Address(planned.identity.address.clone());
            return Err(Unproven { claimed, reason: tag_only_reason(planned.id) });
        }
        if self.second_account(planned) {
            planned.identity.note_names(&msg.message_id, &msg.text);
        }
        Ok(())
    }

    /// The move of a reply that may move its ticket (`planned`, as
    /// `judge_reply` left it): whom drafts answer, what the reply means,
    /// the procedure step and its draft, what staff are told. `rechecked`:
    /// it was held until a re-check proved it, and staff are told so.
    fn plan_reply(&self, mut planned: Ticket, arrival: &Arrival<'_>, report: &Report, rechecked: bool) -> Result<Move, ActError> {
        let msg = arrival.message();
        let (mut target, address_note) = through(arrival, &self.own_addresses, addressed(msg, report, self.policy(&planned).acts_on_account()));
        // The list the request came through stays the ticket's whatever
        // way a reply comes: its author reads answers there, and its
        // archive shows our mail to anyone (`Kept::public`).
        if target.list.is_none() {
            target.list = planned.reply_to.as_ref().and_then(|t| t.list.clone());
        }
        planned.reply_to = Some(target);
        planned.notes.newest_reply = Some(msg.message_id.clone());
        let intent = self.pack.intent(msg);
        let event = Event::Reply {
            text: classify::sensitive::redact(&msg.text),
            intent,
            from: ReplyFrom::Requester,
        };
        let actions = self.step_answering(&mut planned, &event, Some(msg))?;
        // A thank-you asks nothing the waiting draft leaves unanswered.
        if intent != Intent::Thanks {
            staff_action::words_after_the_draft(&mut planned, &actions);
        }
        let mut note = format!("reply {} ({}), {}", msg.message_id, report.summary(), intent.as_str());
        if rechecked {
            note.push_str(reverify::RELEASED);
        }
        let mut notice = self.ticket_notice(&planned, !actions.is_empty(), Some(&msg.from[0].email), address_note.as_deref());
        if let Notice::Reply { rechecked: r, .. } = &mut notice {
            *r = rechecked;
        }
        let notice = self.notifier.outgoing(&notice);
        Ok(Move { ticket: planned, actions, event: note, notice })
    }

    /// Records the evidence of a reply from another address than the
    /// ticket's, checked as `report`, on the second account's identity in
    /// `planned` (its ticket as stored, changed in place), and says whether
    /// it may move the ticket: `Err` when it is held, with whom it claims
    /// to be and why it does not prove it. As `judge_reply`, the rules
    /// whether it arrives now or a re-check proves it later.
    fn judge_second(&self, planned: &mut Ticket, arrival: &Arrival<'_>, report: &Report, joined_by: JoinedBy) -> Result<(), Unproven> {
        let msg = arrival.message();
        let address = msg.single_from().map(|a| a.email.clone()).unwrap_or_default();
        // Arriving, such a message opens a ticket of its own (`reply`);
        // re-checked, the directory changed meanwhile.
        let Some(account) = other_account(planned, report) else {
            let reason = "its address is no longer an account other than the ticket's".to_string();
            return Err(Unproven { claimed: Claimed::Address(address), reason });
        };
        // Proving who one is proves nothing about whose billing moves:
        // only an account the requester named may be the other one, and
        // none other takes its place in the ticket.
        if !planned.identity.names(&account, &address) {
            let reason = format!(
                "~{} is no account the requester named (named: {})",
                sanitize_line(&account),
                planned.identity.named_words()
            );
            return Err(Unproven { claimed: Claimed::Account(account), reason });
        }
        // Arriving, only the second account's address joins a ticket that
        // has one (`thread_of`); re-checked, another may have taken the
        // place meanwhile.
        if let Some(other) = planned.identity.second.as_ref().filter(|s| !s.is_address(&address)) {
            let reason = format!("the ticket's other account is already {}", sanitize_line(&other.address));
            return Err(Unproven { claimed: Claimed::Account(account), reason });
        }
        let binding = binding(planned, msg, report, joined_by, &self.team_addresses(arrival));
        let had_second = planned.identity.second.is_some();
        let second = match planned.identity.second.take() {
            Some(mut s) => {
                s.record(report, &msg.message_id, binding);
                s
            }
            None => Box::new(TicketIdentity::second_party(&address, report, &msg.message_id, binding)),
        };
        let counts = second.counted(&msg.message_id);
        // Unproven, it takes no account's place: once the ticket has a
        // second account only that address joins it, so a forged reply as
        // one named account would lock out the one who proves himself (his
        // reply would open a ticket of its own).
        if counts || had_second {
            planned.identity.second = Some(second);
        }
        if !counts {
            let reason = unauthenticated_reason(report, binding, joined_by);
            return Err(Unproven { claimed: Claimed::Account(account), reason });
        }
        Ok(())
    }

    /// The move of a second account's reply that may move its ticket
    /// (`planned`, as `judge_second` left it). Its words confirm nothing;
    /// its proof is what the procedure waited for. Its "no" ("do not
    /// transfer, I never agreed") or "not yet" stops the procedure as the
    /// requester's would: a person decides, and no staff action stands on
    /// it. `rechecked`: as for `plan_reply`.
    fn plan_second(&self, mut planned: Ticket, arrival: &Arrival<'_>, rechecked: bool) -> Result<Move, ActError> {
        let msg = arrival.message();
        let objects = match self.pack.intent(msg) {
            i @ (Intent::Decline | Intent::Deferral) => Some(i),
            _ => None,
        };
        let event = Event::Reply {
            text: String::new(),
            intent: objects.unwrap_or(Intent::Other),
            from: ReplyFrom::Second,
        };
        let actions = self.step_answering(&mut planned, &event, Some(msg))?;
        // With every account the requester named: staff check that the
        // one who proved itself is the one meant ("~carol pays for it").
        let second = planned.identity.second.as_deref().map(|s| {
            format!("{} (the request named {})", s.summary(self.policy(&planned)), planned.identity.named_words())
        });
        let mut note = format!("second account reply {} ({})", msg.message_id, second.clone().unwrap_or_default());
        if rechecked {
            note.push_str(reverify::RELEASED);
        }
        if let Some(i) = objects {
            note.push_str(&format!(", {}", i.as_str()));
        }
        // What staff must read of an objection: the hand-off it made, or
        // the note of the step it reached.
        let objection = objects.and_then(|_| planned.notes.handoff.clone().or_else(|| planned.notes.staff_note.clone()));
        let notice = self.notifier.outgoing(&Notice::SecondAccount {
            ticket: planned.id,
            identity: second.unwrap_or_default(),
            step: (!actions.is_empty()).then(|| planned.step.clone().unwrap_or_else(|| "-".into())),
            rechecked,
            objection,
        });
        Ok(Move { ticket: planned, actions, event: note, notice })
    }

    /// The checks of a message on `ticket`: its challenge, and the card
    /// digits when the procedure is a billing matter.
    async fn check_in(&self, ticket: &Ticket, arrival: &Arrival<'_>) -> Report {
        let challenge = ticket.identity.challenge.clone();
        let billing = self.pack.procedure(&ticket.procedure).map(|p| p.billing).unwrap_or(false);
        let ctx = VerifyContext { billing, challenge, list: arrival.list.clone() };
        self.verifier.verify(arrival.message(), &ctx).await
    }

    /// Someone wrote as the `claimed` account (or, on a ticket without one,
    /// its address) without proving it as the ticket asks, or as an
    /// account the ticket is not about: the message is kept (its evidence
    /// in `planned`'s identity) and shown to staff with `reason`; nothing
    /// moves and nothing is drafted.
    fn hold(
        &self,
        planned: &Ticket,
        intake: &Intake,
        msg: &Message,
        claimed: Claimed,
        reason: String,
    ) -> Result<(Ticket, Vec<(u64, Action)>), ActError> {
        let what = lines::unproven(&msg.message_id, &claimed, &reason);
        let notice = self.notifier.outgoing(&Notice::Unproven {
            ticket: planned.id,
            message_id: msg.message_id.clone(),
            claimed,
            reason,
        });
        let (t, actions) = self.store.update_ticket(planned.id, Some(intake), &what, notice.as_ref(), |t| {
            t.identity = planned.identity.clone();
            t.deadlines = planned.deadlines.clone();
            Vec::new()
        })?;
        self.notifier.wake();
        Ok((t, actions))
    }

    /// The procedures' "now" (see `SystemClock`).
    pub fn now(&self) -> jiff::Timestamp {
        use crate::procedures::Clock;
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
            let _moving = self.moving();
            let Some(mut ticket) = self.store.ticket(*id)? else { continue };
            // A move since the deadlines were read (`!done`, a reply) may
            // have disarmed it; its index entry went with that change.
            if !ticket.deadlines.iter().any(|d| &d.name == name && d.due <= now) {
                continue;
            }
            ticket.deadlines.retain(|d| &d.name != name);
            // A reply handed to a person is not settled by the clock: the
            // step the deadline leads to (CAcert: the execution after the
            // retention date) keeps it in front of staff until they act
            // or answer the user.
            let unsettled = ticket.notes.handoff.clone().filter(|_| ticket.state != TicketState::Closed);
            let since = ticket.notes.handoff_at.unwrap_or(now);
            let actions = self.step(&mut ticket, &Event::DeadlineDue { name: name.clone() })?;
            if let Some(h) = unsettled
                && ticket.notes.handoff.is_none()
                && ticket.state != TicketState::Closed
            {
                // The same reply still waits: a person who answered it
                // since it was handed over has looked.
                ticket.notes.hand_off(format!("{h} (still open when the deadline {name} moved the ticket on)"), since);
            }
            let notice = self.notifier.outgoing(&Notice::DeadlineFired {
                ticket: *id,
                procedure: ticket.procedure.clone(),
                what: lines::deadline_reached(name, &ticket),
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
            return Err(ActError::UnknownProcedure { procedure: procedure.to_string(), pack: self.pack.name.clone(), known: known.join(", ") });
        }
        let moving = self.moving();
        let Some(mut ticket) = self.store.ticket(id)? else {
            return Err(ActError::Store(StoreError::NoTicket(id)));
        };
        let was_on_account = self.policy(&ticket).acts_on_account();
        ticket.procedure = procedure.to_string();
        ticket.step = None;
        let readdressed = if !was_on_account && self.policy(&ticket).acts_on_account() {
            to_from_address(&mut ticket)
        } else {
            None
        };
        // A ticket that started without a procedure needing identity (set
        // aside, unclassified) has no challenge yet for the new one's
        // verification request to name.
        if self.pack.procedure(procedure).is_some_and(|p| p.identity.acts_on_account())
            && ticket.identity.challenge.is_none()
        {
            let address = if ticket.identity.address.is_empty() { &ticket.sender_email } else { &ticket.identity.address };
            ticket.identity.challenge = Some(challenge::issue(id.0, address, &self.web_path));
        }
        ticket.deadlines.retain(|d| d.name.starts_with("triaged:"));
        // The old procedure's drafts are stale: the new one drafts its own.
        let mut actions = withdraw::superseded(&mut ticket, &self.drafts_mailbox);
        actions.extend(self.step(&mut ticket, &Event::NewMessage)?);
        let event = match &readdressed {
            Some(note) => format!("reclassified as {procedure} by {by}; {note}"),
            None => format!("reclassified as {procedure} by {by}"),
        };
        let (t, _) = self.store.update_ticket(id, None, &event, None, |t| {
            t.procedure = ticket.procedure.clone();
            if readdressed.is_some() {
                // Before this step's own draft joins them.
                let before: Vec<String> = t.drafts.iter().chain(&t.sent).cloned().collect();
                t.sent_elsewhere.extend(before);
            }
            apply(t, &ticket);
            actions.clone()
        })?;
        drop(moving);
        self.wake_workers();
        // Staff know better than rules and model: the next mail like this
        // one goes where they put it ("unclassified": to a person).
        if let Err(e) = self.learner.staff_decided(id, procedure, by) {
            tracing::warn!(ticket = id.0, "reclassified, but not learned from: {e}");
        }
        Ok(t)
    }

    /// A message staff sent from their mail client (seen in the Sent
    /// folder): the ticket it answers becomes answered and the channel is
    /// told, with a warning when it did not come from the claim holder; a
    /// reply staff wrote after a hand-off settles it (`staff_action::looked`);
    /// a draft of ours sent word for word teaches the model its procedure.
    /// Mail about a ticket that reached none of its addresses nor the list
    /// its drafts are copied to or its request came through (a forward to a colleague who is asked to
    /// help) answers nobody: it is kept in the ticket's history and
    /// changes nothing.
    /// Returns the ticket and which of the two it was, or `None` when the
    /// message is about no ticket.
    pub fn sent(&self, intake: &Intake, msg: &Message) -> Result<Option<Sent>, ActError> {
        // A move (`moves`): a reply planned meanwhile would write back the
        // draft still waiting, "needs a person" and the state this clears.
        let _moving = self.moving();
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
        let theirs = |r: &str| answers_to(&ticket, r);
        // The list a ticket's drafts are copied to (`reply_to_list`): the
        // author reads the answer there.
        let their_list = |r: &str| ticket.reply_to.as_ref().and_then(|t| t.cc.as_deref()).is_some_and(|cc| cc.eq_ignore_ascii_case(r));
        // The list the request came through, copied or not: the author
        // reads it, so an answer there is no forward (but no key either).
        let came_through = |r: &str| ticket.reply_to.as_ref().and_then(|t| t.list.as_deref()).is_some_and(|l| l.eq_ignore_ascii_case(r));
        if !msg.recipients.iter().any(|r| theirs(r) || their_list(r) || came_through(r)) {
            let to: Vec<String> = msg.recipients.iter().map(|r| sanitize_line(r)).collect();
            let event = format!(
                "mail by {} ({}) to {}, none of them the ticket's address: no answer, nothing changed",
                sanitize_line(&by),
                msg.message_id,
                if to.is_empty() { "nobody".to_string() } else { to.join(", ") }
            );
            self.store.update_ticket(ticket.id, Some(intake), &event, None, |_| Vec::new())?;
            return Ok(Some(Sent::Elsewhere(ticket.id)));
        }
        let notice = self.notifier.outgoing(&Notice::Answered {
            ticket: ticket.id,
            by: by.clone(),
            warning,
        });
        let event = format!("answered by {by} ({})", msg.message_id);
        let as_drafted = withdraw::sent_as_drafted(&ticket, &msg.text);
        let drafts = self.drafts_mailbox.clone();
        // Its Message-ID ties a reply to the ticket only when the mail went
        // to the ticket's own address, and elsewhere only to the team (and
        // the list a ticket from a list is copied to): a forward to a
        // colleague, a post to a public list, or a Cc or Bcc to anyone
        // else would hand the key to whoever reads it.
        // On a ticket that acts on no account, the address drafts answer
        // may be a Reply-To nobody checked: mail there is no key either.
        let on_account = self.policy(&ticket).acts_on_account();
        let keyed = |r: &str| is_ticket_address(&ticket, r) || (on_account && theirs(r));
        let team = |r: &str| self.own_addresses.iter().chain(self.staff_addresses.values()).any(|a| a.eq_ignore_ascii_case(r));
        let to_them = msg.recipients.iter().any(|r| keyed(r)) && msg.recipients.iter().all(|r| keyed(r) || their_list(r) || team(r));
        let sent_id = (to_them && !msg.message_id_synthetic).then(|| msg.message_id.clone());
        let sent_at = msg.date.as_deref().and_then(|d| d.parse::<jiff::Timestamp>().ok());
        let now = self.now();
        // Drafted after this mail was written (its copy in Sent read after
        // the user's answer to it): what they answer is still unanswered.
        let newer = withdraw::drafted_after(&ticket, msg, sent_at);
        let event = match newer.as_slice() {
            [] => event,
            ids => format!("{event}; written before our draft {} was made for what came since: it stays", ids.join(", ")),
        };
        self.store.update_ticket(ticket.id, Some(intake), &event, notice.as_ref(), |t| {
            let newer = withdraw::drafted_after(t, msg, sent_at);
            if newer.is_empty() {
                staff_action::answered(t, as_drafted.is_some());
            }
            staff_action::looked(t, as_drafted.is_some(), sent_at, now);
            if let Some(id) = &sent_id
                && !t.sent.contains(id)
                && !t.drafts.contains(id)
            {
                t.sent.push(id.clone());
            }
            // Answered: any draft of ours still waiting from before it is
            // stale.
            withdraw::answered_by(t, &drafts, &newer)
        })?;
        self.notifier.wake();
        self.wake_workers();
        // Sent as we drafted it: staff agreed with the route.
        if let Some(procedure) = as_drafted
            && let Err(e) = self.learner.draft_sent_unchanged(ticket.id, &procedure, &by)
        {
            tracing::warn!(ticket = ticket.id.0, "draft sent unchanged, but not learned from: {e}");
        }
        Ok(Some(Sent::Answered(ticket.id)))
    }

    /// The procedure step for `event` on `ticket` (changed in place):
    /// plan it, record it on the ticket, render its draft. Returns the
    /// draft to append, if the step has one.
    fn step(&self, ticket: &mut Ticket, event: &Event) -> Result<Vec<Action>, ActError> {
        self.step_answering(ticket, event, None)
    }

    /// `step` for the reply `msg`: its draft remembers the reply it
    /// answers, so staff's answer to that reply (naming it in In-Reply-To
    /// or References) answers the draft too, though dated before it was
    /// made (triaged was stopped meanwhile: `withdraw::drafted_after`).
    fn step_answering(&self, ticket: &mut Ticket, event: &Event, msg: Option<&Message>) -> Result<Vec<Action>, ActError> {
        let Some(plan) = self.plan(ticket, event) else {
            return Ok(Vec::new());
        };
        self.record_plan(ticket, &plan);
        let answering = msg.filter(|m| !m.message_id_synthetic).map(|m| m.message_id.as_str());
        self.render(ticket, &plan, answering)
    }

    /// Runs the procedure engine. A message no procedure claims gets the
    /// acknowledgement; `None` when nothing is to be done (staff decide).
    fn plan(&self, ticket: &mut Ticket, event: &Event) -> Option<Plan> {
        if ticket.procedure == UNCLASSIFIED || self.pack.procedure(&ticket.procedure).is_none() {
            if !matches!(event, Event::NewMessage) {
                // A reply to an unclassified ticket waits for staff; a
                // thank-you asks nothing of them (`Engine::stay`).
                if !matches!(event, Event::Reply { intent: Intent::Thanks, .. }) {
                    ticket.state = TicketState::New;
                }
                return None;
            }
            Some(acknowledgement(ticket, self.context(ticket)))
        } else {
            let engine = Engine::new(&self.pack, &self.clock);
            let context = self.context(ticket);
            let view = TicketView {
                number: ticket.id.0,
                step: ticket.step.as_deref(),
                data: &context,
            };
            let mut numbers = self.store.clone();
            match engine.plan(&ticket.procedure, view, event, &mut numbers) {
                Ok(p) => Some(p),
                Err(e) => {
                    // The message still gets an answer; staff see why the
                    // procedure could not run.
                    tracing::warn!(ticket = ticket.id.0, "procedure engine: {e}");
                    ticket.notes.hand_off(e.to_string(), self.now());
                    matches!(event, Event::NewMessage).then(|| acknowledgement(ticket, self.context(ticket)))
                }
            }
        }
    }

    /// What the plan changes on the ticket: its step, state, queue,
    /// deadlines and notes.
    fn record_plan(&self, ticket: &mut Ticket, plan: &Plan) {
        // For `status` and `!show`, which know no procedure policy.
        ticket.notes.identity_summary = Some(ticket.identity.summary(self.policy(ticket)));
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
        if let Err(e) = ticket.notes.record_procedure_data(&plan.data) {
            tracing::warn!(ticket = ticket.id.0, "{e}");
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
            ticket.notes.hand_off(h.clone(), self.now());
        }
        if let Some((series, number)) = &plan.number {
            ticket.notes.number = Some(CaseNumber { series: series.clone(), number: *number });
        }
        if let Some(doc) = &plan.document {
            ticket.notes.document = Some(doc.clone());
        }
        staff_action::record(ticket, plan);
    }

    /// The texts the plan names, rendered: the staff note onto the ticket,
    /// the reply into a draft to append.
    /// `answering`: the Message-ID of the reply the draft answers, if any.
    fn render(&self, ticket: &mut Ticket, plan: &Plan, answering: Option<&str>) -> Result<Vec<Action>, ActError> {
        if let Some(note) = &plan.staff_note {
            match procedures::render(&self.pack, note, &plan.context) {
                Ok(text) => {
                    ticket.notes.staff_note = Some(text);
                }
                Err(e) => tracing::warn!(ticket = ticket.id.0, "staff note: {e}"),
            }
        }
        let Some(template) = &plan.template else {
            return Ok(Vec::new());
        };
        if ticket.reply_to.as_ref().is_some_and(|t| t.email.is_empty()) {
            // Nobody to answer (`through`): staff were told why.
            return Ok(Vec::new());
        }
        let chosen = classify::language::template_for(&self.pack, template, ticket.notes.language.as_deref());
        let body = procedures::render(&self.pack, chosen, &plan.context).map_err(DraftError::from)?;
        let mut target = ticket
            .reply_to
            .clone()
            .ok_or_else(|| DraftError::Build("the ticket has no message to reply to".into()))?;
        // A translated reply quotes the request under a line in its own
        // language ("Am … schrieb Ann:").
        if let (true, Some(lang), Some(attribution)) = (chosen != template, ticket.notes.language.as_deref(), target.attribution.as_ref())
            && let Some(quote) = &target.quote
        {
            target.quote = Some(draft::quote_in(quote, attribution, lang));
        }
        let message_id = self.drafter.draft_message_id(ticket.id, ticket.drafts.len(), &target.message_id);
        let draft = self.drafter.build(&target, ticket.id, &message_id, body)?;
        // Addressed as a mail client replies (a Reply-To nobody checked,
        // on a ticket that acts on no account), it is read by whoever is
        // there: it names the ticket for nobody's reply, also once staff
        // move the ticket onto a procedure that acts on an account and a
        // later mail has brought its drafts back to the ticket's address.
        if !self.policy(ticket).acts_on_account() && !is_ticket_address(ticket, &target.email) {
            ticket.sent_elsewhere.push(draft.message_id.clone());
        }
        staff_action::draft_waiting(ticket, plan);
        withdraw::remember(ticket, &draft.message_id, &draft.bytes, self.now(), answering);
        Ok(vec![Action::AppendDraft {
            ticket: ticket.id,
            folder: ticket.folder.clone(),
            mailbox: self.drafts_mailbox.clone(),
            message_id: draft.message_id,
            bytes: draft.bytes,
        }])
    }

    fn record_document(&self, t: &Ticket) -> Result<(), ActError> {
        if let (Some(doc), Some(num)) = (&t.notes.document, &t.notes.number) {
            self.store.record_document(&num.series, num.number, doc)?;
        }
        Ok(())
    }
}

/// What the daemon makes of a new request before it checks who sent it.
pub enum Reading {
    /// Not a request (bounce, auto-reply, bulk, spam): recorded, never
    /// answered.
    SetAside(classify::aside::Aside),
    /// The procedure, and the features the local model read (`None` when
    /// it was not asked).
    Classified(Classification, Option<Features>),
}

/// A new request (`msg` read as its author sent it, `Verifier::arrival`)
/// as the daemon reads it: set aside, or classified. The one place this is
/// decided, so that `run`, `triaged classify` and `triaged verify` agree.
pub async fn read_new_request(
    verifier: &Verifier,
    pack: &Pack,
    aside: &classify::aside::AsidePolicy,
    learner: Option<&crate::learn::Learner>,
    msg: &Message,
) -> Reading {
    if let Some(aside) = aside.judge(msg) {
        return Reading::SetAside(aside);
    }
    let (class, features) = classify_new_request(verifier, pack, learner, msg).await;
    Reading::Classified(class, features)
}

/// `msg` as the daemon would read it were it a new request: as its author
/// sent it (`Verifier::arrival`), then [`read_new_request`]. A message that
/// names one of our tickets would join it instead (`Actor::intake`); this
/// reads it as a new request all the same.
pub async fn read_as_new(
    verifier: &Verifier,
    pack: &Pack,
    aside: &classify::aside::AsidePolicy,
    learner: Option<&crate::learn::Learner>,
    msg: &Message,
) -> Reading {
    let arrival = verifier.arrival(msg).await;
    read_new_request(verifier, pack, aside, learner, arrival.message()).await
}

/// The procedure of a new request: the pack's rules, then what was
/// learned (`learner`), knowing whether the account directory knows the
/// sender; for a pack whose procedures ask, a sender the directory knows
/// is one of the people the team serves (`classify::own`).
pub async fn classify_new_request(
    verifier: &Verifier,
    pack: &Pack,
    learner: Option<&crate::learn::Learner>,
    msg: &Message,
) -> (Classification, Option<Features>) {
    let sender = verifier.sender_for(pack, msg).await;
    match learner {
        Some(l) => l.classify_from(pack, msg, sender),
        None => (pack.classify_from(msg, sender), None),
    }
}

/// A new request after the classify stage: what the verify and record
/// stages need of it.
struct Classified {
    class: Classification,
    /// What the local model read, to learn from staff moving the ticket.
    features: Option<Features>,
    explanation: String,
    /// The procedure counts the card digits as a proof.
    billing: bool,
    /// The procedure needs the sender's identity: a challenge is issued.
    needs_identity: bool,
    language: Option<&'static str>,
    findings: Findings,
    /// The subject, redacted and cut, as staff and drafts show it.
    subject: String,
}

/// A ticket's move, planned from the ticket as stored and not yet
/// written: the ticket as it becomes, the actions to carry out, the line
/// for its history and the notice for staff.
struct Move {
    ticket: Ticket,
    actions: Vec<Action>,
    event: String,
    notice: Option<crate::store::Outgoing>,
}

/// Why a reply moves nothing: whom it claims to be, and why that is not
/// proven.
struct Unproven {
    claimed: Claimed,
    reason: String,
}

/// Whose message a reply is: the ticket's own sender, or the second
/// account of a procedure that involves one. Kept with a message kept for
/// a re-check (`store::Kept`), so its name is stored.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    #[default]
    Owner,
    Second,
}

impl Party {
    pub fn is_owner(&self) -> bool {
        *self == Party::Owner
    }
}

/// The header by which a reply named its ticket. Kept with a message
/// kept for a re-check (`store::Kept`), so its name is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinedBy {
    InReplyTo,
    References,
    SubjectTag,
}

impl JoinedBy {
    fn header(self) -> &'static str {
        match self {
            JoinedBy::InReplyTo => "in-reply-to",
            JoinedBy::References => "references",
            JoinedBy::SubjectTag => "subject",
        }
    }
}

/// The account a reply from another address than `ticket`'s claims,
/// when it is one and not the ticket's own: what a second account may be.
fn other_account(ticket: &Ticket, report: &Report) -> Option<String> {
    report.account.clone().filter(|a| Some(a) != ticket.identity.account.as_ref())
}

/// Whether `address` is the address ticket `t` is about, under the account
/// lookup's normalisation (`ALICE@` is not `alice@`).
fn is_ticket_address(t: &Ticket, address: &str) -> bool {
    if !t.identity.address.is_empty() {
        return t.identity.is_address(address);
    }
    // A ticket stored before the typed identity: its sender address.
    let norm = crate::verify::accounts::normalize_address;
    norm(address).is_some_and(|a| Some(a) == norm(&t.sender_email))
}

/// Whether `address` is our mailbox `own`: `support+kim@` is delivered to
/// `support@` by any mail server that takes subaddresses.
fn same_mailbox(own: &str, address: &str) -> bool {
    let mailbox = |a: &str| {
        let (local, domain) = a.trim().rsplit_once('@')?;
        let local = local.split_once('+').map_or(local, |(l, _)| l);
        Some((local.to_ascii_lowercase(), domain.trim_end_matches('.').to_ascii_lowercase()))
    };
    mailbox(own).is_some_and(|o| mailbox(address) == Some(o))
}

/// Whether `address` is one our mail on `t` goes to: the ticket's own, or
/// the one its drafts answer.
pub(super) fn answers_to(t: &Ticket, address: &str) -> bool {
    is_ticket_address(t, address) || t.reply_to.as_ref().is_some_and(|r| r.email.eq_ignore_ascii_case(address))
}

/// Whether `message_id` is mail of ours on `t` that reached the address
/// the ticket answers: a draft, or a reply as Sent shows it, not one that
/// went elsewhere ([`Ticket::sent_elsewhere`]).
pub(super) fn names_our_mail(t: &Ticket, message_id: &str) -> bool {
    t.drafts.iter().chain(&t.sent).any(|ours| ours == message_id) && !t.sent_elsewhere.iter().any(|e| e == message_id)
}

/// What signed fact ties a reply to its ticket (see [`Binding`]).
fn binding(ticket: &Ticket, msg: &Message, report: &Report, joined_by: JoinedBy, ours: &[String]) -> Binding {
    if report.factors.ssh.passed() {
        // The SSH answer signs the text issued to this very ticket.
        return Binding::Challenge;
    }
    // Naming our mail (In-Reply-To, References) takes having received it.
    // The tag is anybody's to write: whoever puts "[#1]" in a subject to
    // the requester gets it back signed in her answer, and can hand that
    // to us. It counts only in mail she signed as written to us.
    if report.signs_header(joined_by.header()) && (joined_by != JoinedBy::SubjectTag || written_to_us(msg, report, ours)) {
        return Binding::SignedHeader;
    }
    if report.factors.pgp.passed() {
        // A PGP signature covers the whole text the user wrote; it ties the
        // message to this ticket only when that text names it. The tag in
        // her own words: quoted, it is whoever she answered (put "[#1]" in
        // a mail to her, and her signed answer quotes it). The token only
        // our mail to her carries, so it counts quoted from our draft too.
        let tag = format!("[{}]", ticket.id);
        let token = ticket.identity.challenge.as_ref().map(|c| c.token.as_str());
        if crate::message::strip_quoted(&msg.text).contains(&tag) || token.is_some_and(|t| msg.text.contains(t)) {
            return Binding::SignedText;
        }
    }
    if report.factors.billing_last4.passed() {
        return Binding::CardDigits;
    }
    Binding::Unsigned
}

/// Whether `msg`'s signed To or Cc names one of the team's addresses.
fn written_to_us(msg: &Message, report: &Report, ours: &[String]) -> bool {
    [("To", &msg.to), ("Cc", &msg.cc)]
        .into_iter()
        .any(|(header, addresses)| report.signs_header(header) && addresses.iter().flatten().any(|a| ours.contains(a)))
}

/// Why a reply that names its ticket only by the `[#N]` tag moved
/// nothing, for staff.
pub fn tag_only_reason(id: TicketId) -> String {
    format!("it names {id} only by its subject tag, which anyone can write; a reply to our mail names it in In-Reply-To")
}

/// Why a reply did not count, for staff.
fn unauthenticated_reason(report: &Report, binding: Binding, joined_by: JoinedBy) -> String {
    let passed: Vec<&str> = report.factors.iter().filter(|(_, f)| f.passed()).map(|(n, _)| n).collect();
    if report.directory_unanswered() {
        crate::verify::conversation::DIRECTORY_UNANSWERED.into()
    } else if report.account.is_none() {
        "its address matches no account".into()
    } else if passed.is_empty() {
        "no factor of its own passed".into()
    } else if binding == Binding::Unsigned && joined_by == JoinedBy::SubjectTag && report.signs_header("Subject") {
        format!(
            "{} passed, but only the subject tag names this ticket, and the signed To and Cc name none of the team's addresses ([intake] addresses): mail written to someone else",
            passed.join(", ")
        )
    } else if binding == Binding::Unsigned {
        format!(
            "{} passed, but no signature covers the header that names this ticket",
            passed.join(", ")
        )
    } else {
        format!("only {} passed, which prove no author", passed.join(", "))
    }
}

/// Where a draft to `msg`'s sender goes. When the From address belongs to
/// an account, or the procedure acts on an account (`on_account`: its
/// identity policy is not "none"), to that address: the one the directory
/// vouches for, or the one whose owner the procedure's mail must reach
/// (CAcert's confirmation is proof by the address). Its Reply-To only when
/// a passing DKIM signature covers it: an unsigned one is the attacker's,
/// who would otherwise receive the confirmation and answer it. Otherwise
/// the reply a mail client would send (Reply-To, else From): nothing about
/// an account is disclosed and nothing changes on one. The second value
/// tells staff when From and Reply-To differ.
fn addressed(msg: &Message, report: &Report, on_account: bool) -> (ReplyTarget, Option<String>) {
    let mut target = reply_target(msg);
    if on_account && msg.single_from().is_none() {
        // Nobody whom the procedure's mail must reach: a Reply-To or the
        // first of several From addresses is anyone's, and a notice that
        // silence makes final (CAcert's 14 days) would reach the wrong one
        // (as `to_from_address` decides for a ticket moved here later).
        let ignored = sanitize_line(&target.email);
        target.email.clear();
        target.name = None;
        let note = format!("{ignored} not answered: the procedure acts on an account and the request has no single From address; no draft");
        return (target, Some(note));
    }
    let Some(from) = msg.single_from().filter(|_| on_account || report.account.is_some()) else {
        return (target, reply_to_note(msg));
    };
    let Some(reply_to) = msg.reply_to.as_ref().filter(|r| !r.email.eq_ignore_ascii_case(&from.email)) else {
        return (target, None);
    };
    if report.signs_header("reply-to") {
        return (target, Some(format!("Reply-To {} (signed) differs from From", sanitize_line(&reply_to.email))));
    }
    target.email = from.email.clone();
    target.name = from.name.as_deref().map(sanitize_line).filter(|n| !n.is_empty());
    let note = format!(
        "Reply-To {} ignored: no signature covers it; drafts go to {}",
        sanitize_line(&reply_to.email),
        sanitize_line(&from.email)
    );
    (target, Some(note))
}

/// A ticket moved onto a procedure that acts on an account from one that
/// does not (set aside, unclassified, a question): its drafts were
/// addressed as a mail client replies, to a Reply-To nobody checked then.
/// From now on they go to the From address, as [`addressed`] sends them
/// for a request classified so on arrival; a list's copy stays. Returns
/// the note for the ticket's history when the address changed.
fn to_from_address(ticket: &mut Ticket) -> Option<String> {
    let norm = crate::verify::accounts::normalize_address;
    let target = ticket.reply_to.as_mut().filter(|t| !t.email.is_empty())?;
    if norm(&target.email) == norm(&ticket.sender_email) {
        return None;
    }
    let ignored = sanitize_line(&target.email);
    // No From to answer (none, or several): no draft (`render`).
    target.email = norm(&ticket.sender_email).map(|_| ticket.sender_email.clone()).unwrap_or_default();
    target.name = None;
    let note = match target.email.as_str() {
        "" => format!("Reply-To {ignored} ignored: the procedure acts on an account and the request has no single From address; no draft"),
        from => format!("Reply-To {ignored} ignored: the procedure acts on an account; drafts go to {}", sanitize_line(from)),
    };
    ticket.notes.sender_email = Some(target.email.clone());
    Some(note)
}

/// The recipients and staff note of `addressed`, for mail that came
/// through a list: the list is copied when the team replies to it, and
/// staff are told what the list proved.
/// A message from a list's own address that nobody vouches for gets no
/// draft (an empty address: see `apply_plan`), never one to the list; nor
/// does one whose address to answer is one of the team's own (`own`:
/// `[intake] addresses`, `[draft] from`), which a Reply-To anybody writes
/// can name: the draft would go to ourselves.
fn through(arrival: &Arrival<'_>, own: &[String], (mut target, note): (ReplyTarget, Option<String>)) -> (ReplyTarget, Option<String>) {
    target.cc = arrival.copy_to().map(str::to_string);
    target.list = arrival.list.author().and_then(|a| a.post.clone());
    let mut notes: Vec<String> = note.into_iter().chain(arrival.note()).collect();
    if arrival.is_ours(&target.email) {
        notes.push(format!("no draft: {} is our own address, a reply we sent that the list handed back", sanitize_line(&target.email)));
        target.email.clear();
        target.cc = None;
    } else if own.iter().any(|o| same_mailbox(o, &target.email)) {
        notes.push(format!("no draft: the address to answer, {}, is our own ([intake] addresses, [draft] from)", sanitize_line(&target.email)));
        target.email.clear();
        target.cc = None;
    } else if arrival.is_the_list(&target.email) {
        notes.push(format!("no draft: the only address to answer is the list's own ({})", sanitize_line(&target.email)));
        target.email.clear();
        target.cc = None;
    }
    (target, (!notes.is_empty()).then(|| notes.join("; ")))
}

/// For a sender no account knows: say when replies go elsewhere than From.
fn reply_to_note(msg: &Message) -> Option<String> {
    let from = msg.from.first()?;
    let reply_to = msg.reply_to.as_ref()?;
    (!reply_to.email.eq_ignore_ascii_case(&from.email)).then(|| {
        format!(
            "Reply-To {} differs from From {}",
            sanitize_line(&reply_to.email),
            sanitize_line(&from.email)
        )
    })
}

impl Actor {
    /// The identity policy of the ticket's procedure.
    fn policy(&self, t: &Ticket) -> IdentityPolicy {
        self.pack.identity_policy(&t.procedure)
    }

    /// Whether the ticket's procedure involves a second account.
    fn second_account(&self, t: &Ticket) -> bool {
        self.pack.procedure(&t.procedure).is_some_and(|p| p.second_account)
    }

    /// What a step's expressions and templates see: staff facts, then what
    /// triaged recorded, then identity, each shadowing the one before, so
    /// a hand-set fact can never stand in for a check. Account facts
    /// (username, 2FA status) are only there once the sender is verified.
    fn context(&self, t: &Ticket) -> Map<String, Value> {
        let mut c = t.facts.clone();
        c.extend(t.notes.to_map());
        let verdict = t.identity.verdict(self.policy(t));
        c.insert("verified".into(), Value::Bool(verdict.verified));
        if self.second_account(t) {
            let other = t.identity.second.as_deref().is_some_and(|s| s.verdict(self.policy(t)).verified);
            c.insert("other_account_verified".into(), Value::Bool(other));
        }
        c.insert("factors".into(), json!(verdict.factors));
        c.remove("account");
        c.remove("two_factor");
        if verdict.verified {
            c.insert("account".into(), json!(t.identity.account));
        }
        match &t.identity.challenge {
            Some(ch) => {
                let domain = t.identity.address.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
                c.insert(
                    "challenge".into(),
                    json!({
                        "ssh_text": ch.ssh_text,
                        "ssh_command": challenge::SSH_SIGN_COMMAND,
                        "dns_name": ch.txt_name(domain),
                        "dns_label": ch.dns_name,
                        "dns_value": ch.txt_value(),
                        "web_path": ch.web_path,
                    }),
                );
            }
            None => {
                c.remove("challenge");
            }
        }
        c
    }

    /// What staff are told about a ticket a message opened (`reply_from`:
    /// a reply moved it), queued in the same transaction as the ticket: a
    /// crash after the draft can never lose it.
    fn ticket_notice(&self, t: &Ticket, draft_ready: bool, reply_from: Option<&str>, address_note: Option<&str>) -> Notice {
        let mut identity = lines::identity(&t.identity.verdict(self.policy(t)));
        if let Some(note) = address_note {
            identity = format!("{identity}; {note}");
        }
        // The team's model or the pack's chose it: staff should know.
        let by_model = t.notes.classification.as_ref().is_some_and(|c| c.model.as_ref().is_some_and(|m| m.decided) || c.pack_model.is_some());
        let procedure = lines::ticket_procedure(t, by_model && reply_from.is_none());
        match reply_from {
            Some(from) => Notice::Reply {
                ticket: t.id,
                from: from.to_string(),
                procedure,
                identity,
                draft_ready,
                // Closed by this reply (CAcert `kept`, 2i2c `withdrawn`):
                // the step's note is all staff will read of it. A closing
                // step with a draft leaves the ticket open until it is sent.
                note: t.notes.staff_note.clone().filter(|_| t.state == TicketState::Closed),
                rechecked: false,
            },
            None => Notice::NewTicket {
                ticket: t.id,
                procedure,
                from: t.identity.address.clone(),
                subject: t.subject.clone(),
                identity,
                draft_ready,
            },
        }
    }
}

/// The plan for a message no procedure claims: acknowledge, leave it new.
fn acknowledgement(ticket: &Ticket, mut context: Map<String, Value>) -> Plan {
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
        action_change: None,
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
    for id in &planned.sent_elsewhere {
        if !stored.sent_elsewhere.contains(id) {
            stored.sent_elsewhere.push(id.clone());
        }
    }
    stored.identity = planned.identity.clone();
    stored.notes.merge(&planned.notes);
}
