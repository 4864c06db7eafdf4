//! Every line staff read, rendered here and nowhere else: notices, digests,
//! and the text that makes user-derived fields safe to show (redacted,
//! stripped of line breaks, control, invisible and IRC formatting codes, cut
//! to length). A line too long for one message is split, and every piece
//! after the first starts with our own [`CONTINUED`] mark: a split never
//! makes mail text the start of a line, whatever the sender chose as its
//! "spaces".

use crate::message::{is_blank, is_invisible};

use super::{Claimed, Notice};
use crate::act::staff_action;
use crate::store::claims::{Claim, ClaimOutcome, DoneOutcome, ReleaseOutcome};
use crate::store::{Ticket, TicketId, TicketState};
use crate::verify::conversation::Verdict;

/// The width of the client staff read in. A new-ticket line fits it: its
/// subject is cut to the room the other fields leave.
pub const COLUMNS: usize = 100;

const FROM_CHARS: usize = 80;
const PROCEDURE_CHARS: usize = 60;
const SUBJECT_CHARS: usize = 120;
/// However long the other fields, this much of a subject is shown.
const SUBJECT_MIN: usize = 20;
/// A subject in the daily set-aside line, which names several.
const ASIDE_SUBJECT_CHARS: usize = 40;
const FIELD_CHARS: usize = 200;
/// A step's staff note, several lines in its template, as one line.
const NOTE_CHARS: usize = 300;

impl Notice {
    /// The line staff read. Never contains CR, LF or control characters.
    pub fn render(&self) -> String {
        let f = |s: &str, n: usize| cut(&shown(s), n);
        let draft = |ready: bool| if ready { " — draft ready in Drafts" } else { "" };
        let moved = |step: &Option<String>| match step {
            Some(step) => format!("; now at step {}, draft ready", f(step, PROCEDURE_CHARS)),
            None => String::new(),
        };
        match self {
            Notice::NewTicket {
                ticket,
                procedure,
                from,
                subject,
                identity,
                draft_ready,
            } => {
                // The procedure may carry the staff action: never cut short.
                let head = format!("{ticket} {} {}", f(procedure, FIELD_CHARS), f(bare(from), FROM_CHARS));
                let tail = format!(" {}{}", f(identity, FIELD_CHARS), if *draft_ready { ", draft ready" } else { "" });
                let room = COLUMNS.saturating_sub(head.chars().count() + tail.chars().count() + 3);
                format!("{head} \"{}\"{tail}", f(subject, room.clamp(SUBJECT_MIN, SUBJECT_CHARS)))
            }
            Notice::Reply {
                ticket,
                from,
                procedure,
                identity,
                draft_ready,
                note,
                rechecked,
            } => format!(
                "{ticket} reply from {}{} → {}; {}{}{}",
                f(bare(from), FROM_CHARS),
                if *rechecked { crate::act::reverify::RELEASED } else { "" },
                f(procedure, FIELD_CHARS),
                f(identity, FIELD_CHARS),
                if *draft_ready { "; draft ready" } else { "" },
                note.as_deref().map(|n| format!("; staff note: {}", f(n, NOTE_CHARS))).unwrap_or_default()
            ),
            Notice::Unproven {
                ticket,
                message_id,
                claimed,
                reason,
            } => format!("{ticket} {}", unproven(message_id, claimed, reason)),
            Notice::SecondAccount { ticket, identity, step, rechecked, objection } => format!(
                "{ticket} second account {}{}{}{}",
                f(identity, FIELD_CHARS),
                if *rechecked { crate::act::reverify::RELEASED } else { "" },
                moved(step),
                objection.as_deref().map(|n| format!("; it objects: {}", f(n, NOTE_CHARS))).unwrap_or_default()
            ),
            Notice::Rechecked {
                ticket,
                outcome,
                identity,
                latest,
                step,
            } => format!(
                "{ticket} identity re-checked, {}: {}; latest: {}{}",
                f(outcome, FIELD_CHARS),
                f(identity, FIELD_CHARS),
                f(latest, FIELD_CHARS),
                moved(step)
            ),
            Notice::Bounced { ticket, to, why, stopped, closed } => format!(
                "{ticket}: our mail to {} bounced: {}; {}",
                f(bare(to), FROM_CHARS),
                f(why, FIELD_CHARS),
                bounce_outcome(stopped, *closed)
            ),
            Notice::StaleDraftEdited { ticket, mailbox } => format!(
                "{ticket} a draft of ours that is out of date was edited in {}; left there: check it before sending",
                f(mailbox, PROCEDURE_CHARS)
            ),
            Notice::DeadlineFired {
                ticket,
                procedure,
                what,
                draft_ready,
            } => format!(
                "{ticket} deadline reached ({}): {}{}",
                f(procedure, PROCEDURE_CHARS),
                f(what, FIELD_CHARS),
                draft(*draft_ready)
            ),
            Notice::Quarantined {
                folder,
                uid,
                from,
                subject,
                reason,
            } => format!(
                "quarantined {} UID {uid} from {}: \"{}\" — {} (see `triaged status`)",
                f(folder, PROCEDURE_CHARS),
                from.as_deref()
                    .map(|s| f(s, FROM_CHARS))
                    .unwrap_or_else(|| "(unknown sender)".into()),
                subject.as_deref().map(|s| f(s, SUBJECT_CHARS)).unwrap_or_default(),
                f(reason, FIELD_CHARS)
            ),
            Notice::Answered { ticket, by, warning } => {
                let mut line = format!("{ticket} answered by {}", f(by, FROM_CHARS));
                if let Some(w) = warning {
                    line.push_str(" — warning: ");
                    line.push_str(&f(w, FIELD_CHARS));
                }
                line
            }
            Notice::Text(t) => shown(t),
            Notice::SetAside { since, kinds, newest } => {
                let total: usize = kinds.iter().map(|(_, n)| n).sum();
                let per: Vec<String> = kinds.iter().map(|(k, n)| format!("{} {n}", f(k, PROCEDURE_CHARS))).collect();
                let since = since.as_deref().map_or_else(|| "so far".to_string(), |s| format!("since {}", f(s, PROCEDURE_CHARS)));
                let examples: Vec<String> = newest
                    .iter()
                    .map(|i| format!("{} {} {} \"{}\"", i.ticket, f(&i.kind, PROCEDURE_CHARS), f(bare(&i.from), FROM_CHARS), f(&i.subject, ASIDE_SUBJECT_CHARS)))
                    .collect();
                format!(
                    "set aside {since}: {total} ({}), no draft, no notice; newest {} — `triaged status` lists them, !reclassify N PROCEDURE answers one",
                    per.join(", "),
                    examples.join(", ")
                )
            }
        }
    }
}

/// A reply that claims an account (`~erin`) or, on a ticket without one,
/// an address without proving it, as its notice and the ticket's history
/// tell it.
pub fn unproven(message_id: &str, claimed: &Claimed, reason: &str) -> String {
    let who = match claimed {
        Claimed::Account(account) => format!("~{}", cut(&shown(account), FROM_CHARS)),
        Claimed::Address(address) => cut(&shown(address), FROM_CHARS),
    };
    format!(
        "unauthenticated reply {} claiming to be {who} ({}): kept, changes nothing; a person decides",
        cut(&shown(message_id), FROM_CHARS),
        cut(&shown(reason), FIELD_CHARS)
    )
}

/// What every [`named_from_elsewhere`] line says: a "needs a person"
/// that holds it was handed over for such mail already.
pub const NAMES_OUR_MAIL: &str = "names our mail to";

/// Why a ticket was handed to a person when mail of ours on it was named
/// from another address (`Actor::named_from_elsewhere`): for its history,
/// its "needs a person" and the channel.
pub fn named_from_elsewhere(from: &str, opened: TicketId, address: &str, stopped: &[String]) -> String {
    let head = format!(
        "a reply from {} ({opened}) {NAMES_OUR_MAIL} {}: perhaps the user writing from another address; needs a person, no draft",
        shown(from),
        shown(address)
    );
    match stopped {
        [] => head,
        names => format!("{head}; deadline {} stopped: their silence here is no answer while it waits", cut(&shown(&names.join(", ")), FIELD_CHARS)),
    }
}

/// What a bounce of our mail did to its ticket, for its notice and the
/// ticket's history: `needs a person, deadline reminder stopped`.
pub fn bounce_outcome(stopped: &[String], closed: bool) -> String {
    match stopped {
        _ if closed => "the ticket is closed: recorded, nothing changed, no draft".into(),
        [] => "needs a person, no draft".into(),
        names => format!(
            "needs a person, no draft; deadline {} stopped: silence after a notice that never arrived is no answer",
            cut(&shown(&names.join(", ")), FIELD_CHARS)
        ),
    }
}

/// `alice@example.org` out of `Alice <alice@example.org>`: notices queued
/// before they carried the bare address still show one.
fn bare(from: &str) -> &str {
    match from.trim().strip_suffix('>').and_then(|f| f.rsplit_once('<')) {
        Some((_, address)) if !address.is_empty() => address,
        _ => from,
    }
}

/// The identity as every staff line shows it: `verified 2/2 (dkim, pgp)`
/// or `NOT verified 0/1` (the verdict's own words, which the templates
/// read too).
pub fn identity(v: &Verdict) -> String {
    v.summary()
}

/// Marks a line whose notices were handed to the server before a crash or
/// a lost connection: they may have been posted already. Only such lines
/// carry it, so staff can trust every unmarked line to be a first post.
pub const REPEAT_MARK: &str = "(may be a repeat) ";

/// More waiting new-ticket notices than this are posted as digest lines.
pub const DIGEST_AFTER: usize = 4;

/// One post for a sink that speaks lines: the queued notices it covers
/// (by sequence number) and its line. `waiting` is the queue, oldest
/// first, each with its sequence and whether it was in flight before.
/// Usually the oldest notice alone; when more than [`DIGEST_AFTER`]
/// new-ticket notices wait, as many of them as fit in one digest line of
/// at most `max` bytes. Notices that were in flight go out on their own
/// marked lines, so a possible repeat never hides a first post.
pub fn next_post(waiting: &[(u64, Notice, bool)], max: usize) -> Option<(Vec<u64>, String)> {
    let (_, first, repeat) = waiting.first()?;
    let mark = if *repeat { REPEAT_MARK } else { "" };
    let max = max - mark.len();
    let new: Vec<(u64, &Notice)> = waiting
        .iter()
        .filter(|(_, n, r)| matches!(n, Notice::NewTicket { .. }) && r == repeat)
        .map(|(seq, n, _)| (*seq, n))
        .collect();
    if matches!(first, Notice::NewTicket { .. }) && new.len() > DIGEST_AFTER {
        let notices: Vec<&Notice> = new.iter().map(|(_, n)| *n).collect();
        let (line, taken) = digest(&notices, max).into_iter().next()?;
        return Some((new[..taken].iter().map(|(seq, _)| *seq).collect(), format!("{mark}{line}")));
    }
    Some((vec![waiting[0].0], format!("{mark}{}", first.render())))
}

const DIGEST_TAIL: &str = " — !queue for details";

/// New-ticket notices as digest lines of at most `max` bytes, each with
/// how many of `tickets` (in order) it names: every ticket in exactly one
/// line, as `12 new tickets: #101 account-deletion (alice@example.org), …`.
/// Other notices among `tickets` are left out.
pub fn digest(tickets: &[&Notice], max: usize) -> Vec<(String, usize)> {
    let items: Vec<String> = tickets
        .iter()
        .filter_map(|n| match n {
            Notice::NewTicket { ticket, procedure, from, .. } => Some(format!(
                "{ticket} {} ({})",
                cut(&shown(procedure), 40),
                cut(&shown(bare(from)), 60)
            )),
            _ => None,
        })
        .collect();
    // The widest head this digest can need: the count of all of them.
    let head = |n: usize| format!("{n} new ticket{}: ", if n == 1 { "" } else { "s" });
    let budget = max.saturating_sub(head(items.len().max(2)).len() + DIGEST_TAIL.len());
    let mut out = Vec::new();
    let mut rest = &items[..];
    while !rest.is_empty() {
        let mut line = cut_bytes(&rest[0], budget);
        let mut taken = 1;
        for item in &rest[1..] {
            if line.len() + 2 + item.len() > budget {
                break;
            }
            line.push_str(", ");
            line.push_str(item);
            taken += 1;
        }
        out.push((format!("{}{line}{DIGEST_TAIL}", head(taken)), taken));
        rest = &rest[taken..];
    }
    out
}

/// At most `max` bytes, cut on a character boundary, with "…" marking a cut.
pub fn cut_bytes(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub('…'.len_utf8());
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", s[..end].trim_end())
}

/// User text as staff may see it: [`sanitise`]d, then secrets redacted
/// (after, so that a zero-width character inside "pass\u{200b}word: ..."
/// does not hide it from the redaction and then vanish).
pub fn shown(s: &str) -> String {
    crate::classify::sensitive::redact(&sanitise(s))
}

/// `s` made safe for one IRC line: IRC formatting (bold, colours with
/// their digits, reverse, ...), bidi controls and every other invisible
/// character removed, line breaks, tabs and blank look-alikes (U+2800)
/// turned into spaces, other control characters dropped, runs of
/// whitespace collapsed.
pub fn sanitise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut space = false;
    let push = |out: &mut String, c: char, space: &mut bool| {
        if c == ' ' {
            *space = !out.is_empty();
        } else {
            if *space {
                out.push(' ');
                *space = false;
            }
            out.push(c);
        }
    };
    while let Some(c) = chars.next() {
        match c {
            // mIRC colour: ^C[fg[,bg]], one or two digits each.
            '\x03' => skip_colour(&mut chars, |c| c.is_ascii_digit(), 2),
            // Hex colour: ^D[RRGGBB[,RRGGBB]].
            '\x04' => skip_colour(&mut chars, |c| c.is_ascii_hexdigit(), 6),
            '\t' | '\n' | '\r' | '\x0b' | '\x0c' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                push(&mut out, ' ', &mut space)
            }
            c if is_invisible(c) || c.is_control() => {}
            c if is_blank(c) => push(&mut out, ' ', &mut space),
            c => push(&mut out, c, &mut space),
        }
    }
    out
}

fn skip_colour(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, digit: impl Fn(char) -> bool, max: usize) {
    let skip_digits = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut n = 0;
        while n < max && chars.peek().is_some_and(|c| digit(*c)) {
            chars.next();
            n += 1;
        }
        n
    };
    if skip_digits(chars) > 0 && chars.peek() == Some(&',') {
        let mut ahead = chars.clone();
        ahead.next();
        if ahead.peek().is_some_and(|c| digit(*c)) {
            chars.next();
            skip_digits(chars);
        }
    }
}

/// At most `max` characters, with "…" marking a cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Starts every piece of a split line after the first, so that what
/// follows a split is always ours: "↳ #12 (cont.) " when the line is about
/// ticket #12, else "↳ (cont.) ".
pub const CONTINUED: &str = "↳ (cont.) ";

/// Splits a line into pieces of at most `max` bytes, on character
/// boundaries, preferring the last space in the second half of a piece.
/// Pieces after the first start with the continuation mark (see
/// [`CONTINUED`]): the split point may be one the sender chose (a subject
/// of "spaces" that are not spaces, a name padded to push `#77 claimed
/// by bob` to the start of the next line), the start of a line never is.
pub fn split_line(line: &str, max: usize) -> Vec<String> {
    let line = line.trim();
    let mark = continuation_mark(line);
    let max = max.max(mark.len() + 8);
    let mut out = Vec::new();
    let mut rest = line;
    loop {
        let room = if out.is_empty() { max } else { max - mark.len() };
        if rest.len() <= room {
            break;
        }
        let mut end = room;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if let Some(sp) = rest[..end].rfind(' ')
            && sp >= room / 2
        {
            end = sp;
        }
        out.push(rest[..end].trim_end().to_string());
        rest = rest[end..].trim_start();
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_string());
    }
    for piece in out.iter_mut().skip(1) {
        piece.insert_str(0, &mark);
    }
    out
}

/// The continuation mark for `line`: it names the ticket when the line
/// starts with one (`#12 ...`, `#12: ...`), as all ticket notices do.
fn continuation_mark(line: &str) -> String {
    let digits = line.strip_prefix('#').map(|r| r.bytes().take_while(u8::is_ascii_digit).count()).unwrap_or(0);
    if digits == 0 || digits > 20 {
        return CONTINUED.to_string();
    }
    format!("↳ {} (cont.) ", &line[..=digits])
}

/// "14:02 UTC" today, "2026-11-22 14:02 UTC" on another day.
pub fn when(t: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let (d, nd) = (
        t.to_zoned(jiff::tz::TimeZone::UTC),
        now.to_zoned(jiff::tz::TimeZone::UTC),
    );
    if d.date() == nd.date() {
        d.strftime("%H:%M UTC").to_string()
    } else {
        d.strftime("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// A verification report as `!show` gives it, every factor with its
/// reason: `NOT verified 1/2 as bob; dkim pass: aligned; pgp fail: bad sig`.
/// `v` is the report in its `verify --json` shape (`account`,
/// `factors.{name}.{result,reason}`, `required`, `met`, `verified`).
pub fn identity_report(v: &serde_json::Value) -> String {
    if let Some(s) = v.as_str() {
        return shown(s);
    }
    let Some(obj) = v.as_object() else {
        return "no verification report".into();
    };
    let Some(account) = obj.get("account").and_then(|a| a.as_str()) else {
        return "NOT verified: no account on file for the sender".into();
    };
    let met = obj.get("met").and_then(|m| m.as_u64()).unwrap_or(0);
    let required = obj.get("required").and_then(|m| m.as_u64()).unwrap_or(1);
    let verified = obj.get("verified").and_then(|m| m.as_bool()).unwrap_or(false);
    let mut line = format!(
        "{} {met}/{required} as {}",
        if verified { "verified" } else { "NOT verified" },
        cut(&sanitise(account), 40)
    );
    for (name, f) in obj.get("factors").and_then(|f| f.as_object()).into_iter().flatten() {
        let result = f.get("result").and_then(|r| r.as_str()).unwrap_or("none");
        let reason = f.get("reason").and_then(|r| r.as_str()).unwrap_or("");
        line.push_str(&format!("; {name} {result}: {}", cut(&shown(reason), 100)));
    }
    line
}

// ------------------------------------------------ answers in the channel

const USAGE: &str =
    "commands: !claim N, !release N, !done N, !notdone N, !queue, !show N, !reclassify N PROCEDURE, !set N key=value [key=value...]";

/// `!help`: `alice: commands: !claim N, …`
pub fn usage(nick: &str) -> String {
    format!("{nick}: {USAGE}")
}

pub fn no_ticket(nick: &str, id: TicketId) -> String {
    format!("{nick}: there is no ticket {id}")
}

fn held(id: TicketId, c: &Claim, now: jiff::Timestamp) -> String {
    format!("{id} is held by {} since {}", c.nick, when(c.since, now))
}

/// `!done` or `!claim` on a ticket someone else holds.
pub fn held_by_another(nick: &str, id: TicketId, c: &Claim, now: jiff::Timestamp) -> String {
    format!("{nick}: {}; ask them, or !release {} first", held(id, c, now), id.0)
}

pub fn claim(nick: &str, id: TicketId, outcome: &ClaimOutcome, now: jiff::Timestamp) -> String {
    match outcome {
        ClaimOutcome::Claimed => format!("{id} claimed by {nick}"),
        ClaimOutcome::AlreadyYours(c) => format!("{nick}: you already hold {id} (since {})", when(c.since, now)),
        ClaimOutcome::HeldBy(c) => format!("{nick}: {}", held(id, c, now)),
        ClaimOutcome::Finished => format!("{nick}: {id} is closed"),
        ClaimOutcome::NoSuchTicket => no_ticket(nick, id),
    }
}

pub fn release(nick: &str, id: TicketId, outcome: &ReleaseOutcome, now: jiff::Timestamp) -> String {
    match outcome {
        ReleaseOutcome::Released(c) if c.nick.eq_ignore_ascii_case(nick) => format!("{id} released by {nick}, back in the queue"),
        ReleaseOutcome::Released(c) => format!(
            "{id} released by {nick} (was held by {} since {}), back in the queue",
            c.nick,
            when(c.since, now)
        ),
        ReleaseOutcome::NotClaimed => format!("{nick}: {id} is not claimed"),
        ReleaseOutcome::NoSuchTicket => no_ticket(nick, id),
    }
}

pub fn done(nick: &str, id: TicketId, outcome: &DoneOutcome, now: jiff::Timestamp) -> String {
    match outcome {
        DoneOutcome::Done(_) => format!("{id} closed by {nick}"),
        DoneOutcome::HeldBy(c) => held_by_another(nick, id, c, now),
        DoneOutcome::AlreadyClosed => format!("{nick}: {id} is already closed"),
        DoneOutcome::NoSuchTicket => no_ticket(nick, id),
        DoneOutcome::JustActed { by, action, at, until, taken_back } => {
            // A close would leave the action documented as carried out.
            let not_done = if *taken_back {
                format!("; the user had taken it back: if it was not carried out, notdone {}", id.0)
            } else {
                String::new()
            };
            format!(
                "{nick}: {id} not closed: {} did its staff action at {} ({}), and closing now would withdraw the reply that drafted; to close it anyway, done {} again after {}{not_done}",
                sanitise(by),
                when(*at, now),
                sanitise(action),
                id.0,
                when(*until, now)
            )
        }
    }
}

pub fn reclassifying(nick: &str, id: TicketId, procedure: &str) -> String {
    format!("reclassifying {id} as {procedure} (asked by {nick})")
}

fn step_of(t: &Ticket) -> &str {
    t.step.as_deref().unwrap_or("-")
}

/// What a fired deadline did, for its notice: `confirm; now at step
/// execute`, with the staff action the step waits for.
pub fn deadline_reached(name: &str, t: &Ticket) -> String {
    let person = match t.notes.handoff.as_deref().filter(|_| t.state != TicketState::Closed) {
        Some(h) => format!(" (staff: {})", cut(&sanitise(h), 200)),
        None => String::new(),
    };
    format!("{name}; now at step {}{person}{}", step_of(t), staff_suffix(t))
}

/// `!reclassify` carried out: `#1 is now account-rename/explain; new draft
/// planned`.
pub fn reclassified(t: &Ticket, drafted: bool) -> String {
    let what = if drafted { "new draft planned" } else { "no draft for this step" };
    format!("{} is now {}/{}; {what}", t.id, t.procedure, step_of(t))
}

/// `!set` carried out; `described`: the facts as `key=value ...`.
pub fn facts_recorded(t: &Ticket, described: &str, drafted: bool) -> String {
    let now = if drafted { format!("now at step {}, draft planned", step_of(t)) } else { format!("at step {}", step_of(t)) };
    format!("{} {} recorded; {now}", t.id, sanitise(described))
}

/// `!done` on a ticket that waited for its staff action.
pub fn staff_action_done(t: &Ticket, by: &str, drafted: bool) -> String {
    let what = if drafted { ", draft planned" } else { "" };
    // Said of an action the user took back: it may have been meant as a
    // plain close, so the line says what it recorded, and the way back.
    let taken_back = match &t.notes.acted {
        Some(a) if a.taken_back_at.is_some() => {
            format!(" (carried out although the user took it back; if it was not, notdone {} while the draft waits)", t.id.0)
        }
        _ => String::new(),
    };
    format!("{} staff action done by {by}{taken_back}; now at step {}{what}", t.id, step_of(t))
}

/// `!done N` on a ticket whose action is on hold (put off, not carried
/// out): refused, with what closes it.
pub fn done_on_hold(nick: &str, id: TicketId, action: &str) -> String {
    format!(
        "{nick}: {id} not closed: the user put off {} and it was not carried out (on hold); a confirmation from them puts it back; to close it, notdone {} (its number documented as not used)",
        sanitise(action),
        id.0
    )
}

/// `!notdone N`: the action the user took back was not carried out.
pub fn not_done(n: &crate::act::staff_action::NotDone, by: &str) -> String {
    let id = n.ticket.id;
    if n.on_hold {
        return format!("{id} not carried out ({}), said {by}: on hold until the user confirms again; nothing drafted", sanitise(&n.action));
    }
    let mut line = format!("{id} closed by {by}, not carried out ({}): nothing drafted", sanitise(&n.action));
    if let Some(who) = &n.undone {
        line.push_str(&format!("; the done {} recorded is undone", sanitise(who)));
    }
    if let Some(num) = &n.unused {
        line.push_str(&format!("; {num} documented as not used"));
    }
    if n.withdrawn > 0 {
        let drafts = if n.withdrawn == 1 { "1 draft".to_string() } else { format!("{} drafts", n.withdrawn) };
        line.push_str(&format!("; {drafts} of ours withdrawn from Drafts unless edited"));
    }
    line
}

/// `!done` closed a ticket with `n` drafts of ours still waiting.
pub fn closed_withdrawn(id: TicketId, n: usize) -> String {
    let drafts = if n == 1 { "1 draft".to_string() } else { format!("{n} drafts") };
    format!("{id} closed: {drafts} of ours withdrawn from Drafts unless edited")
}

/// Someone not allowed to run `cmd`; `who` says who is.
pub fn refused(nick: &str, cmd: &str, who: &str) -> String {
    format!("{nick}: sorry, {cmd} is for support staff only ({who})")
}

/// A command waited for a WHOIS answer that never came.
pub fn unchecked(nick: &str, cmd: &str) -> String {
    format!("{nick}: could not check who you are (no WHOIS answer); {cmd} not run, try again")
}

/// Too many nicks wait for a WHOIS answer at once.
pub fn too_many_asking(nick: &str) -> String {
    format!("{nick}: too many people asking at once; try again in a moment")
}

pub fn store_failed(nick: &str, cmd: &str) -> String {
    format!("{nick}: {cmd} failed: the store did not answer; see the daemon's log")
}

pub fn daemon_busy(nick: &str, cmd: &str) -> String {
    format!("{nick}: the daemon is busy or stopping; {cmd} was not done, try again")
}

/// A malformed command of ours: its usage.
pub fn malformed(nick: &str, usage: &str) -> String {
    format!("{nick}: {usage}")
}

fn state_word(s: TicketState) -> &'static str {
    match s {
        TicketState::New => "new",
        TicketState::Claimed => "claimed",
        TicketState::Waiting => "waiting",
        TicketState::Answered => "answered",
        TicketState::Closed => "closed",
    }
}

fn ticket_state(t: &Ticket) -> String {
    staff_action::shown_state(state_word(t.state), staff_action::pending(t).is_some(), staff_action::waiting_draft(t)).into()
}

fn age(from: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let mins = now.duration_since(from).as_secs().max(0) / 60;
    match mins {
        0..60 => format!("{mins}m"),
        60..2880 => format!("{}h", mins / 60),
        _ => format!("{}d", mins / 1440),
    }
}

/// One ticket in `!queue`: `#9 billing (waiting, held by dave, due since
/// 09:00 UTC, 3d old)`.
pub fn queue_entry(t: &Ticket, claim: Option<&Claim>, due: Option<jiff::Timestamp>, now: jiff::Timestamp) -> String {
    let mut parts = vec![ticket_state(t)];
    match claim {
        Some(c) => parts.push(format!("held by {}", c.nick)),
        None => parts.push("unclaimed".into()),
    }
    if let Some(d) = due {
        parts.push(format!("due since {}", when(d, now)));
    }
    parts.push(format!("{} old", age(t.created, now)));
    format!("{} {} ({})", t.id, cut(&sanitise(&t.procedure), 40), parts.join(", "))
}

/// `!queue`'s answer: the first `entries` of `total`.
pub fn queue(entries: &[String], total: usize) -> String {
    if total == 0 {
        return "queue is empty: nothing unclaimed or due".into();
    }
    let mut line = format!("queue ({total}): {}", entries.join("; "));
    if total > entries.len() {
        line.push_str(&format!("; … and {} more", total - entries.len()));
    }
    line
}

/// `!show N`: the ticket, its identity report, and what staff need.
pub fn show(t: &Ticket, claim: Option<&Claim>, deadline: Option<jiff::Timestamp>, now: jiff::Timestamp) -> Vec<String> {
    let state = match (claim, t.state) {
        (_, TicketState::Closed) => "closed".to_string(),
        (Some(c), _) => format!("{} (held by {} since {})", ticket_state(t), c.nick, when(c.since, now)),
        (None, _) => format!("{}, unclaimed", ticket_state(t)),
    };
    let mut first = format!(
        "{} {} — {state} — from {}: \"{}\" — opened {}",
        t.id,
        cut(&sanitise(&t.procedure), 60),
        cut(&shown(&t.from), 80),
        cut(&shown(&t.subject), 120),
        when(t.created, now)
    );
    if let Some(d) = deadline {
        first.push_str(&format!(" — deadline {}{}", when(d, now), if d <= now { " (passed)" } else { "" }));
    }
    let mut lines = vec![first, format!("{} identity: {}", t.id, ticket_identity(t))];
    lines.extend(staff_lines(t).into_iter().map(|l| format!("{} {l}", t.id)));
    lines
}

/// Who is asking, as far as the ticket's messages proved it under its
/// procedure's policy, and the latest message's own checks.
pub fn ticket_identity(t: &Ticket) -> String {
    let latest = t
        .identity
        .last_report
        .as_ref()
        .and_then(|r| serde_json::to_value(r).ok())
        .map(|v| identity_report(&v))
        .unwrap_or_else(|| "no verification report".into());
    match t.notes.identity_summary.as_deref() {
        Some(s) => format!("{}; latest message: {latest}", sanitise(s)),
        None => latest,
    }
}

/// What staff need to act on the ticket: its queue and issue type, the
/// action it waits for, the step's staff note, why a person must look.
pub fn staff_lines(t: &Ticket) -> Vec<String> {
    staff_lines_with(t, true)
}

/// [`staff_lines`] but the staff action, for `show N`, which says it with
/// the command that answers it (`triaged done N`, not `!done N`).
pub fn staff_context(t: &Ticket) -> Vec<String> {
    staff_lines_with(t, false)
}

fn staff_lines_with(t: &Ticket, action: bool) -> Vec<String> {
    let text = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    let mut head = Vec::new();
    if let Some(q) = &t.queue {
        head.push(format!("queue {}", sanitise(q)));
    }
    if let Some(i) = text(&t.notes.issue_type) {
        head.push(format!("issue type {}", sanitise(&i)));
    }
    let mut out = Vec::new();
    if !head.is_empty() {
        out.push(head.join(", "));
    }
    if let Some(a) = staff_action::pending(t).filter(|_| action) {
        out.push(format!("staff action: {} — then !done {}", cut(&sanitise(a), 200), t.id.0));
    }
    if let Some(a) = staff_action::withdrawn(t) {
        out.push(taken_back(a, t.notes.withdrawn_put_off == Some(true), t.id, action));
    }
    if let Some(n) = text(&t.notes.staff_note) {
        // Several lines in the template: one line in the channel.
        let one: Vec<&str> = n.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
        out.push(format!("staff note: {}", cut(&sanitise(&one.join(" ")), NOTE_CHARS)));
    }
    if let Some(h) = text(&t.notes.handoff).filter(|_| t.state != TicketState::Closed) {
        out.push(format!("needs a person: {}", cut(&sanitise(&h), 200)));
    }
    out
}

/// A staff action the user took back (or `put_off`) before staff said it
/// was done, and the two answers staff give: in the channel (`irc`) or
/// from a shell.
pub fn taken_back(action: &str, put_off: bool, id: TicketId, irc: bool) -> String {
    let n = id.0;
    let (done, not_done) = if irc {
        (format!("!done {n}"), format!("!notdone {n}"))
    } else {
        (format!("`triaged done {n}`"), format!("`triaged not-done {n}`"))
    };
    let how = if put_off { "put off" } else { "taken back" };
    format!("staff action {how}: {}; carried out already: {done}, not carried out: {not_done}", cut(&sanitise(action), 200))
}

/// A ticket's procedure as its notices name it: procedure/step, who must
/// look and why, the queue and the staff action it waits for, and whether
/// the local model chose it.
pub fn ticket_procedure(t: &Ticket, by_model: bool) -> String {
    let mut procedure = t.procedure.clone();
    if let Some(step) = &t.step {
        procedure = format!("{procedure}/{step}");
    }
    // Before the reason, which may be long: a notice is cut, and this is
    // what staff must answer.
    if staff_action::withdrawn(t).is_some() {
        let n = t.id.0;
        let how = if t.notes.withdrawn_put_off == Some(true) { "put off" } else { "taken back" };
        procedure = format!("{procedure} — action {how}: !done {n} if it was carried out already, !notdone {n} if not");
    }
    if let Some(h) = &t.notes.handoff {
        procedure = format!("{procedure} (staff: {h})");
    }
    procedure.push_str(&staff_suffix(t));
    if by_model {
        procedure.push_str(" (chosen by the model: the rules were not sure)");
    }
    procedure
}

/// What a ticket notice adds to its procedure: the queue and issue type,
/// and the staff action it waits for.
pub fn staff_suffix(t: &Ticket) -> String {
    let mut parts = Vec::new();
    if let Some(q) = &t.queue {
        parts.push(format!("queue {q}"));
    }
    if let Some(i) = &t.notes.issue_type {
        parts.push(format!("issue type {i}"));
    }
    let mut out = if parts.is_empty() { String::new() } else { format!(" [{}]", parts.join(", ")) };
    if let Some(a) = staff_action::pending(t) {
        out.push_str(&format!(" — staff action: {a}, then !done {}", t.id.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::staff::irc;
    use crate::store::TicketId;
    use serde_json::json;

    #[test]
    fn sanitise_strips_line_breaks_colours_and_controls() {
        assert_eq!(sanitise("a\r\nPRIVMSG #x :owned"), "a PRIVMSG #x :owned");
        assert_eq!(
            sanitise("\x0304,12red\x03 \x02bold\x02 \x1funder\x0f"),
            "red bold under"
        );
        assert_eq!(sanitise("\x03,5 keeps comma"), ",5 keeps comma");
        assert_eq!(sanitise("\x0412ab34hex\x04"), "hex");
        assert_eq!(sanitise("  tab\there\u{7}\u{202e}gnp.exe  "), "tab heregnp.exe");
        assert_eq!(sanitise("\x0399,99 ok"), "ok");
        assert_eq!(sanitise("\x031,2a\x03b\x0312c\x03,d\x03123e"), "abc,d3e");
        assert_eq!(sanitise("\x04FF00FF,00ff00x\x04ABCy"), "xy");
    }

    #[test]
    fn invisible_characters_go_and_blank_look_alikes_become_spaces() {
        let s = "a\u{200b}b\u{200d}c\u{2060}d\u{feff}e\u{ad}f\u{61c}g\u{e0041}h\u{fe0f}i\u{2066}j\u{180e}k";
        assert_eq!(sanitise(s), "abcdefghijk");
        let s = "#77\u{2800}claimed\u{3000}by\u{a0}bob\u{3164}\u{2800}\u{2800}now\u{2029}x";
        assert_eq!(sanitise(s), "#77 claimed by bob now x");
    }

    #[test]
    fn the_daily_set_aside_line_counts_each_kind_and_names_the_newest() {
        let item = |n: u64, kind: &str, from: &str, subject: &str| crate::staff::AsideItem {
            ticket: TicketId(n),
            kind: kind.into(),
            from: from.into(),
            subject: subject.into(),
        };
        let n = Notice::SetAside {
            since: Some("2026-11-30 09:00".into()),
            kinds: vec![("bulk".into(), 2), ("bounce".into(), 1)],
            newest: vec![
                item(7, "bulk", "News <news@example.net>", "Weekly news: refunds, FOSS and more, all in one long subject line"),
                item(5, "bounce", "MAILER-DAEMON@mx.example.net", "Undelivered Mail\r\nPRIVMSG #x :owned"),
            ],
        };
        assert_eq!(
            n.render(),
            "set aside since 2026-11-30 09:00: 3 (bulk 2, bounce 1), no draft, no notice; newest #7 bulk news@example.net \"Weekly news: refunds, FOSS and more, al…\", #5 bounce MAILER-DAEMON@mx.example.net \"Undelivered Mail PRIVMSG #x :owned\" — `triaged status` lists them, !reclassify N PROCEDURE answers one"
        );
        let first = Notice::SetAside { since: None, kinds: vec![("spam".into(), 1)], newest: vec![item(1, "spam", "x@example.net", "Win")] };
        assert!(first.render().starts_with("set aside so far: 1 (spam 1), no draft"), "{}", first.render());
        // Queued as JSON: a queue written now is read back the same.
        let back: Notice = serde_json::from_value(serde_json::to_value(&n).unwrap()).unwrap();
        assert_eq!(back, n);
    }

    #[test]
    fn an_unproven_reply_claims_an_account_or_an_address_and_old_queues_still_read() {
        let queued = json!({"kind": "unproven", "data": {"ticket": 7, "message_id": "<f00@example.org>", "account": "erin", "reason": "no factor of its own passed"}});
        let old: Notice = serde_json::from_value(queued.clone()).unwrap();
        assert_eq!(serde_json::to_value(&old).unwrap(), queued, "an account is queued as it always was");
        assert!(old.render().contains("claiming to be ~erin (no factor"), "{}", old.render());
        let n = Notice::Unproven {
            ticket: TicketId(8),
            message_id: "<f01@example.net>".into(),
            claimed: Claimed::Address("ann@example.net".into()),
            reason: "the request was DKIM-signed by example.net; this reply is not".into(),
        };
        let data = serde_json::to_value(&n).unwrap();
        assert_eq!(data["data"]["address"], "ann@example.net", "{data}");
        assert_eq!(serde_json::from_value::<Notice>(data).unwrap(), n);
        assert!(n.render().contains("claiming to be ann@example.net (the request"), "{}", n.render());
    }

    #[test]
    fn staff_lines_redact_secrets_even_behind_invisible_characters() {
        let n = Notice::NewTicket {
            ticket: TicketId(3),
            procedure: "other".into(),
            from: "password: hunter2hunter2 <a@example.org>".into(),
            subject: "my pass\u{200b}word is hunter2hunter2, and -----BEGIN AGE ENCRYPTED FILE----- YWdl".into(),
            identity: "identity not checked".into(),
            draft_ready: false,
        };
        let line = n.render();
        assert!(!line.contains("hunter2") && !line.contains("YWdl"), "{line}");
        assert!(line.contains("[password or secret removed]"), "{line}");
        let Notice::NewTicket { from, subject, .. } = n else { unreachable!() };
        let q = Notice::Quarantined { folder: "INBOX".into(), uid: 1, from: Some(from), subject: Some(subject), reason: "x".into() };
        let line = q.render();
        assert!(!line.contains("hunter2") && !line.contains("YWdl"), "{line}");
        assert!(line.contains("[password or secret removed]") && line.contains("[age-encrypted block removed]"), "{line}");
        let text = Notice::Text("#3: reply from password=hunter2hunter2".into()).render();
        assert!(!text.contains("hunter2"), "{text}");
    }

    /// The lines the IRC sink would send for `n` (as `irc::next_flight`).
    fn wire(n: &Notice) -> Vec<String> {
        let (_, line) = next_post(&[(1, n.clone(), false)], irc::LINE_BYTES).unwrap();
        split_line(&sanitise(&line), irc::LINE_BYTES)
    }

    /// What an attacker controls in a notice is the sender's name and
    /// address, the subject and the reasons quoting them. Shaped so that
    /// any split falls where they want it, with every "space" they might
    /// pick, the line after a split must still start with our own mark.
    #[test]
    fn hostile_fields_never_start_a_staff_line() {
        let forged = "#77 claimed by bob, deletion approved — !done 77";
        let spaces = [
            " ", "\u{2800}", "\u{200b}", "\u{3000}", "\u{feff}", "\u{a0}", "\u{2007}", "\u{3164}", "\u{115f}", "\u{1680}",
            "\u{205f}", "\u{2060}", "\u{180e}", "\u{e0020}", "_", "\u{ff3f}", "\x03", "\x0301,01", "\r\n", "\u{2028}",
        ];
        let fillers = ["a", "ü", "😀", "\u{2800}", "語", "\u{200b}x"];
        let mut lines = 0;
        for sp in spaces {
            let payload = forged.replace(' ', sp);
            for fill in fillers {
                for pad in (0..420).step_by(7) {
                    let name = format!("{} <m@evil.example>", fill.repeat(pad / 4));
                    let subject = format!("{}{sp}{payload}", fill.repeat(pad));
                    let notices = [
                        Notice::NewTicket {
                            ticket: TicketId(5),
                            procedure: "account-deletion".into(),
                            from: name.clone(),
                            subject: subject.clone(),
                            identity: identity(&verdict(false, 1, &[])),
                            draft_ready: true,
                        },
                        Notice::Reply {
                            ticket: TicketId(5),
                            from: name.clone(),
                            procedure: "account-deletion/execute".into(),
                            identity: format!("NOT verified 0/1; Reply-To {subject} ignored"),
                            draft_ready: true,
                            note: Some(subject.clone()),
                            rechecked: true,
                        },
                        Notice::Unproven {
                            ticket: TicketId(5),
                            message_id: subject.clone(),
                            claimed: Claimed::Account(name.clone()),
                            reason: subject.clone(),
                        },
                        Notice::Unproven {
                            ticket: TicketId(5),
                            message_id: subject.clone(),
                            claimed: Claimed::Address(name.clone()),
                            reason: subject.clone(),
                        },
                        Notice::Quarantined {
                            folder: "INBOX".into(),
                            uid: 9,
                            from: Some(name.clone()),
                            subject: Some(subject.clone()),
                            reason: format!("cannot reply to {subject:?}"),
                        },
                        Notice::Text(format!("#5: reply from {name}{sp}{payload} → account-deletion")),
                    ];
                    for n in &notices {
                        for (i, l) in wire(n).iter().enumerate() {
                            lines += 1;
                            assert!(l.len() <= irc::LINE_BYTES, "{} bytes", l.len());
                            assert!(!l.chars().any(|c| c.is_control() || is_invisible(c)), "{l:?}");
                            let ours = if i == 0 {
                                l.starts_with("#5 ") || l.starts_with("#5: ") || l.starts_with("quarantined INBOX UID 9 ")
                            } else {
                                l.starts_with("↳ #5 (cont.) ") || l.starts_with(CONTINUED)
                            };
                            assert!(ours, "line {i} of {n:?} starts with the sender's text: {l:?}");
                        }
                    }
                }
            }
        }
        assert!(lines > 3000, "{lines} lines");
    }

    #[test]
    fn cut_and_split_respect_characters() {
        assert_eq!(cut("héllo wörld", 6), "héllo…");
        assert_eq!(cut("short", 6), "short");
        let long = "ü".repeat(300);
        let parts = split_line(&long, 401);
        assert!(parts.iter().all(|p| p.len() <= 401));
        assert!(parts[1..].iter().all(|p| p.starts_with(CONTINUED)), "{parts:?}");
        assert_eq!(parts.iter().map(|p| p.trim_start_matches(CONTINUED)).collect::<String>(), long);
        let words = "word ".repeat(200);
        let parts = split_line(&words, 400);
        assert!(
            parts
                .iter()
                .all(|p| p.len() <= 400 && !p.starts_with(' ') && p.ends_with("word"))
        );
        assert_eq!(split_line("", 400), vec![String::new()]);
        let ticket = format!("#12 {}", "x".repeat(500));
        let parts = split_line(&ticket, 400);
        assert_eq!(parts.len(), 2);
        assert!(parts[1].starts_with("↳ #12 (cont.) x"), "{}", parts[1]);
    }

    fn verdict(verified: bool, required: u32, factors: &[&str]) -> Verdict {
        Verdict { verified, required, factors: factors.iter().map(|f| f.to_string()).collect() }
    }

    #[test]
    fn new_ticket_fits_a_100_column_client_on_one_clean_line() {
        let n = |subject: &str| Notice::NewTicket {
            ticket: TicketId(12),
            procedure: "account-deletion".into(),
            from: "Alice <alice@example.org>".into(),
            subject: subject.into(),
            identity: identity(&verdict(true, 2, &["pgp", "dkim"])),
            draft_ready: true,
        };
        assert_eq!(
            n("Delete\r\nmy \x0304account\x03").render(),
            "#12 account-deletion alice@example.org \"Delete my account\" verified 2/2 (dkim, pgp), draft ready"
        );
        let long = n(&"a long subject ".repeat(20)).render();
        assert_eq!(long.chars().count(), COLUMNS, "{long}");
        assert!(long.ends_with("…\" verified 2/2 (dkim, pgp), draft ready"), "{long}");
    }

    #[test]
    fn identity_texts() {
        assert_eq!(identity(&verdict(false, 1, &[])), "NOT verified 0/1");
        assert_eq!(identity(&verdict(true, 2, &["pgp", "dkim"])), "verified 2/2 (dkim, pgp)");
        assert_eq!(identity_report(&json!({"account": null})), "NOT verified: no account on file for the sender");
        let v = json!({"account": "bob", "required": 2, "met": 1, "verified": false,
            "factors": {"dkim": {"result": "pass", "reason": "aligned"}, "pgp": {"result": "fail", "reason": "bad\nsig"}}});
        assert_eq!(identity_report(&v), "NOT verified 1/2 as bob; dkim pass: aligned; pgp fail: bad sig");
    }

    fn new_ticket(n: u64, procedure: &str, from: &str) -> Notice {
        Notice::NewTicket {
            ticket: TicketId(n),
            procedure: procedure.into(),
            from: from.into(),
            subject: format!("request {n}"),
            identity: "identity not checked".into(),
            draft_ready: true,
        }
    }

    /// Every `#N` named in a line.
    fn named(line: &str) -> Vec<u64> {
        line.split('#').skip(1).filter_map(|p| p.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()).collect()
    }

    #[test]
    fn digest_names_each_ticket_once_within_the_line_limit() {
        let hostile = "Mallory\r\nPRIVMSG #x :\x0304owned\x03 \u{202e}";
        let notices: Vec<Notice> = (1..=500)
            .map(|n| match n % 7 {
                0 => new_ticket(n, "account-deletion\r\nQUIT :bye", hostile),
                3 => new_ticket(n, &"ü".repeat(300), &"😀".repeat(300)),
                _ => new_ticket(n, "billing", &format!("User {n} <user{n}@example.net>")),
            })
            .collect();
        let refs: Vec<&Notice> = notices.iter().collect();
        let lines = digest(&refs, 400);
        assert!(lines.len() > 1 && lines.len() < 500, "{} lines", lines.len());
        let mut seen = Vec::new();
        for (line, taken) in &lines {
            assert!(line.len() <= 400, "{} bytes: {line}", line.len());
            assert!(!line.chars().any(|c| c.is_control() || c == '\u{202e}'), "{line:?}");
            assert!(line.starts_with(&format!("{taken} new ticket")), "{line}");
            assert!(line.ends_with(" — !queue for details"), "{line}");
            let n = named(line);
            assert_eq!(n.len(), *taken, "{line}");
            seen.extend(n);
        }
        assert_eq!(seen, (1..=500).collect::<Vec<_>>(), "every ticket exactly once, in order");
        // An IRC command smuggled in a field stays text on the same line.
        assert!(lines.iter().any(|(l, _)| l.contains("account-deletion QUIT :bye")));
    }

    #[test]
    fn few_waiting_go_one_by_one_and_many_as_a_digest() {
        let few: Vec<_> = (1..=4).map(|n| (n, new_ticket(n, "billing", "a@x"), false)).collect();
        let (seqs, line) = next_post(&few, 400).unwrap();
        assert_eq!(seqs, [1]);
        assert_eq!(line, few[0].1.render());

        let mut many: Vec<_> = (1..=6).map(|n| (n, new_ticket(n, "billing", "a@x"), false)).collect();
        many.insert(2, (100, Notice::Text("between".into()), false));
        let (seqs, line) = next_post(&many, 400).unwrap();
        assert_eq!(seqs, [1, 2, 3, 4, 5, 6]);
        assert_eq!(
            line,
            "6 new tickets: #1 billing (a@x), #2 billing (a@x), #3 billing (a@x), #4 billing (a@x), #5 billing (a@x), #6 billing (a@x) — !queue for details"
        );

        // Notices in flight at a crash: their own line, marked.
        let mut after_crash: Vec<_> = (1..=6).map(|n| (n, new_ticket(n, "billing", "a@x"), n <= 2)).collect();
        after_crash.push((7, Notice::Text("later".into()), false));
        let (seqs, line) = next_post(&after_crash, 400).unwrap();
        assert_eq!(seqs, [1]);
        assert!(line.starts_with(REPEAT_MARK), "{line}");
        let (seqs, line) = next_post(&after_crash[2..], 400).unwrap();
        assert_eq!(seqs, [3]);
        assert!(!line.starts_with(REPEAT_MARK));
        assert_eq!(next_post(&[], 400), None);
    }

    #[test]
    fn when_shows_the_date_only_for_other_days() {
        let now: jiff::Timestamp = "2026-11-23T18:00:00Z".parse().unwrap();
        assert_eq!(when("2026-11-23T14:02:00Z".parse().unwrap(), now), "14:02 UTC");
        assert_eq!(
            when("2026-11-22T14:02:00Z".parse().unwrap(), now),
            "2026-11-22 14:02 UTC"
        );
    }

    /// README.md and docs/IRC.md show staff lines as the daemon renders
    /// them: each line here must appear there, whole, after `<triaged> `.
    #[test]
    fn the_documented_lines_are_the_rendered_ones() {
        let readme = include_str!("../../README.md");
        let irc_md = include_str!("../../docs/IRC.md");
        let now: jiff::Timestamp = "2026-11-23T18:00:00Z".parse().unwrap();
        let bob = Claim { nick: "bob".into(), since: "2026-11-23T14:02:00Z".parse().unwrap() };
        let new_ticket = |ticket: u64, procedure: &str, from: &str, subject: &str, identity: &str| Notice::NewTicket {
            ticket: TicketId(ticket),
            procedure: procedure.into(),
            from: from.into(),
            subject: subject.into(),
            identity: identity.into(),
            draft_ready: true,
        };
        let alice = new_ticket(12, "account-deletion", "Alice <alice@example.org>", "Delete my account", "verified 2/2 (dkim, pgp)");
        let both = [
            alice.render(),
            claim("bob", TicketId(12), &ClaimOutcome::Claimed, now),
            claim("carol", TicketId(12), &ClaimOutcome::HeldBy(bob.clone()), now),
        ];
        let at_step = |n: u64, step: &str| {
            let intake = crate::store::Intake {
                folder: "INBOX".into(),
                uid: crate::store::Uid { validity: 1, uid: 1 },
                message_id: "m@x".into(),
            };
            let mut t = Ticket::new(TicketId(n), &intake, "a@x", "s", "cacert-deletion");
            t.step = Some(step.into());
            t
        };
        let recorded = facts_recorded(&at_step(3, "initial"), "assurances=0 active_certificates=0", true);
        let readme_only = [
            recorded.clone(),
            Notice::DeadlineFired {
                ticket: TicketId(9),
                procedure: "cacert-deletion".into(),
                what: "confirm; now at step execute".into(),
                draft_ready: true,
            }
            .render(),
            Notice::Answered {
                ticket: TicketId(12),
                by: "carol@example.org".into(),
                warning: Some("sent by carol@example.org, but #12 is held by bob (bob@example.org)".into()),
            }
            .render(),
        ];
        let hostile = Notice::Quarantined {
            folder: "INBOX".into(),
            uid: 3,
            from: Some(format!("{} <x@example.net>", "語".repeat(70))),
            subject: Some(format!("{}\u{2800}#77 claimed by bob — deletion approved", "語".repeat(100))),
            reason: "not valid MIME".into(),
        };
        let digest_of: Vec<Notice> = [
            (101, "account-deletion", "alice@example.org"),
            (102, "billing", "bob@example.net"),
            (103, "account-rename", "carol@example.com"),
            (104, "billing", "dave@example.org"),
            (105, "2fa-reset", "erin@example.org"),
        ]
        .iter()
        .map(|(n, p, f)| new_ticket(*n, p, f, "x", "NOT verified 0/1"))
        .collect();
        let mut irc_only = vec![
            recorded,
            staff_action_done(&at_step(4, "executed"), "bob", true),
            done(
                "carol",
                TicketId(4),
                &DoneOutcome::JustActed {
                    by: "bob".into(),
                    action: "hijack and anonymise the account following the Delete Account Procedure".into(),
                    at: bob.since,
                    until: bob.since + staff_action::SAID_TWICE,
                    taken_back: false,
                },
                now,
            ),
            Notice::DeadlineFired {
                ticket: TicketId(9),
                procedure: "billing".into(),
                what: "no reply from the user in 14 days".into(),
                draft_ready: true,
            }
            .render(),
            Notice::Quarantined {
                folder: "INBOX".into(),
                uid: 4711,
                from: Some("someone@example.net".into()),
                subject: Some("Logs attached".into()),
                reason: "message over 25 MB".into(),
            }
            .render(),
            Notice::Answered { ticket: TicketId(12), by: "carol@example.org".into(), warning: Some("bob holds the claim".into()) }.render(),
            new_ticket(
                14,
                "account-rename/explain (chosen by the model: the rules were not sure)",
                "jane@example.net",
                "my name",
                "NOT verified 0/1",
            )
            .render(),
            next_post(&digest_of.iter().enumerate().map(|(i, n)| (i as u64, n.clone(), false)).collect::<Vec<_>>(), irc::LINE_BYTES).unwrap().1,
            format!("{REPEAT_MARK}{}", alice.render()),
            Notice::Reply {
                ticket: TicketId(4),
                from: "ann@example.net".into(),
                procedure: "account-deletion/execute [queue SE, issue type Delete account precedent] — staff action: hijack and anonymise the account following the Delete Account Procedure, then !done 4".into(),
                identity: "verified 1/1 (dkim)".into(),
                draft_ready: false,
                note: None,
                rechecked: false,
            }
            .render(),
            Notice::Reply {
                ticket: TicketId(6),
                from: "ann@example.net".into(),
                procedure: "account-deletion/kept [queue SE, issue type Delete account precedent]".into(),
                identity: "verified 1/1 (dkim)".into(),
                draft_ready: false,
                note: Some("Ticket #6: the user took the deletion request back while it was on hold (retention until 2027-02-15). Nothing is deleted and no arbitration number is used; the retention date executes nothing and the case is closed. If you locked the account already, unlock it. Read the reply if in doubt.".into()),
                rechecked: false,
            }
            .render(),
            Notice::SecondAccount {
                ticket: TicketId(20),
                identity: "verified 1/1 (dkim) as ~bob (the request named ~bob)".into(),
                step: None,
                rechecked: false,
                objection: Some("Ticket #20: an account of this billing transfer (the requester\nor the one it would move to) says not to transfer, or not yet. Nothing is\ntransferred and nobody is asked to; read the reply and answer by hand.\n".into()),
            }
            .render(),
            Notice::Unproven {
                ticket: TicketId(7),
                message_id: "<f00@example.org>".into(),
                claimed: Claimed::Account("erin".into()),
                reason: "no factor of its own passed".into(),
            }
            .render(),
            Notice::Unproven {
                ticket: TicketId(8),
                message_id: "<f01@example.net>".into(),
                claimed: Claimed::Address("ann@example.net".into()),
                reason: "the request was DKIM-signed by example.net; this reply is not".into(),
            }
            .render(),
            Notice::Unproven {
                ticket: TicketId(9),
                message_id: "<f02@example.net>".into(),
                claimed: Claimed::Address("bo@example.net".into()),
                reason: crate::act::tag_only_reason(TicketId(9)),
            }
            .render(),
            Notice::Reply {
                ticket: TicketId(7),
                from: "Erin <erin@example.org>".into(),
                procedure: "account-deletion/admin-delete".into(),
                identity: "verified 1/1 (ssh); Reply-To mallory@example.net ignored: no signature covers it; drafts go to erin@example.org".into(),
                draft_ready: true,
                note: None,
                rechecked: false,
            }
            .render(),
            Notice::Unproven {
                ticket: TicketId(10),
                message_id: "<yes@example.org>".into(),
                claimed: Claimed::Account("ann".into()),
                reason: format!("no factor of its own passed{}", crate::act::reverify::HELD_UNTIL),
            }
            .render(),
            Notice::Reply {
                ticket: TicketId(10),
                from: "ann@example.org".into(),
                procedure: "account-deletion/on-hold [queue SE, issue type Delete account precedent] — staff action: lock the account for the retention time, then !done 10".into(),
                identity: "verified 1/1 (dkim)".into(),
                draft_ready: true,
                rechecked: true,
                note: None,
            }
            .render(),
            Notice::SecondAccount {
                ticket: TicketId(11),
                identity: "verified 1/1 (dkim) as ~bob (the request named ~bob)".into(),
                step: Some("transfer".into()),
                rechecked: true,
                objection: None,
            }
            .render(),
        ];
        let aside = |n: u64, kind: &str, from: &str, subject: &str| crate::staff::AsideItem {
            ticket: TicketId(n),
            kind: kind.into(),
            from: from.into(),
            subject: subject.into(),
        };
        irc_only.push(
            Notice::SetAside {
                since: Some("2026-11-30 09:00".into()),
                kinds: vec![("bulk".into(), 11), ("spam".into(), 2), ("auto-reply".into(), 1)],
                newest: vec![
                    aside(212, "bulk", "news@example.net", "Weekly news #48"),
                    aside(209, "spam", "win@example.com", "You have won"),
                    aside(208, "auto-reply", "bob@example.org", "Out of office"),
                ],
            }
            .render(),
        );
        irc_only.push(
            Notice::Bounced {
                ticket: TicketId(31),
                to: "ann@example.net".into(),
                why: "5.1.1 (smtp; 550 5.1.1 <ann@example.net>: Recipient address rejected: User unknown)".into(),
                stopped: vec!["reminder".into()],
                closed: false,
            }
            .render(),
        );
        irc_only.extend(split_line(&hostile.render(), irc::LINE_BYTES));
        let mut missing = Vec::new();
        for (doc, name, lines) in [
            (readme, "README.md", both.iter().chain(&readme_only).collect::<Vec<_>>()),
            (irc_md, "docs/IRC.md", both.iter().chain(&irc_only).collect()),
        ] {
            for line in lines {
                if !doc.contains(&format!("<triaged> {line}\n")) {
                    missing.push(format!("{name}: <triaged> {line}"));
                }
            }
        }
        assert!(missing.is_empty(), "not shown as rendered:\n{}", missing.join("\n"));
    }
}
