//! Staff acting on tickets from the command line (`triaged reclassify`,
//! `triaged set`). The store allows one process at a time, so while the daemon
//! runs the command cannot open it; instead it leaves a request in a spool
//! beside the store (`<store>/requests/`), which the daemon picks up within
//! seconds, applies, and answers there, in the staff channel and in its log.
//! When the daemon is stopped the command applies the request itself; the
//! draft it plans is appended when the daemon next starts. Commands that
//! only read what the daemon holds ask the same way (`show`, `learn
//! --list`, `classify`, whose request carries the message), and their
//! answers go to nobody else.
//!
//! A request file is JSON, written to a hidden temporary name and renamed
//! into place, so the daemon never reads half of one. Requests are applied
//! in name order (the name starts with the time it was made); a file that
//! is not a request is moved to `requests/rejected/`. Whoever may write
//! into the store folder may act on tickets: the same people who could
//! change the store itself. The checks (known ticket and procedure, keys
//! that may be set) are the daemon's, whoever wrote the file.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

use crate::staff::{Notice, Notifier, lines, sanitise};
use crate::act::staff_action::{self, Done};
use crate::act::{ActError, Actor, facts};
use crate::config::Config;
use crate::store::claims::DoneOutcome;
use crate::store::{Store, StoreError, TicketId};

/// How often the daemon looks into the spool.
const POLL: Duration = Duration::from_secs(2);
/// How long the command waits for the running daemon's answer.
pub const ANSWER_WAIT: Duration = Duration::from_secs(15);
/// Answers nobody collected (the command gave up) are removed after this.
const ANSWER_KEEP: Duration = Duration::from_secs(3600);
/// A request is a few hundred bytes; anything much larger is not one,
/// except a message handed over to be classified (see [`max_request_bytes`]).
const MAX_REQUEST_BYTES: u64 = 64 * 1024;

/// The largest request the daemon reads: a message within `[limits]
/// max_message_bytes`, in base64 (4 bytes for every 3), and the rest.
fn max_request_bytes(limits: &crate::config::Limits) -> u64 {
    limits.max_message_bytes.saturating_add(2).div_ceil(3).saturating_mul(4).saturating_add(MAX_REQUEST_BYTES)
}

const REJECTED: &str = "rejected";
const ANSWERS: &str = "answers";

/// Something staff want done to a ticket: the same requests the channel
/// forwards, stored as JSON in the spool.
pub use crate::staff::StaffCommand as Request;

/// What became of a request, as staff read it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    /// False when the request was refused (unknown ticket, procedure, key).
    pub ok: bool,
    /// A draft was planned; a folder worker appends it.
    pub draft: bool,
    pub text: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Act(#[from] ActError),
    #[error("request spool {}: {source}; check that the store folder is writable by this user", path.display())]
    Spool { path: PathBuf, source: std::io::Error },
}

/// A ticket number as staff write it: `12` or `#12`.
pub fn parse_ticket(s: &str) -> Result<u64, String> {
    match s.trim_start_matches('#').parse::<u64>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{s:?} is not a ticket number (N or #N)")),
    }
}

/// Who runs the command, for the ticket's history: the login name.
pub fn command_line_user() -> String {
    let user: String = std::env::var("USER")
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "._-".contains(*c))
        .take(32)
        .collect();
    if user.is_empty() { "command line".into() } else { format!("{user} (command line)") }
}

pub fn reclassify_request(ticket: u64, procedure: &str) -> Request {
    Request::Reclassify {
        ticket: TicketId(ticket),
        procedure: procedure.to_string(),
        by: command_line_user(),
    }
}

/// `triaged done N`: staff carried out the ticket's staff action, or
/// close it; as `!done N`.
pub fn done_request(ticket: u64) -> Request {
    Request::Done {
        ticket: TicketId(ticket),
        by: command_line_user(),
    }
}

/// `triaged not-done N`: staff had not carried out the action the user
/// took back; as `!notdone N`.
pub fn not_done_request(ticket: u64) -> Request {
    Request::NotDone {
        ticket: TicketId(ticket),
        by: command_line_user(),
    }
}

/// `triaged set N key=value...`: the facts checked as `!set` checks them.
pub fn set_request(ticket: u64, args: &[String]) -> Result<Request, facts::FactError> {
    let facts = args.iter().map(|a| facts::parse_fact(a)).collect::<Result<Vec<_>, _>>()?;
    Ok(Request::SetFacts {
        ticket: TicketId(ticket),
        facts,
        by: command_line_user(),
    })
}

/// The spool folder for the store at `store_path`.
pub fn spool_dir(store_path: &Path) -> PathBuf {
    store_path.join("requests")
}

/// Carries out `req`, tells the staff channel and the log, and says what
/// happened. Refusals are answers too, never errors.
pub async fn apply(actor: &Actor, req: &Request) -> Answer {
    // Reading changes nothing: nobody needs to hear about it.
    match req {
        Request::Show { ticket, .. } => return show(actor, *ticket),
        Request::Classify { message, .. } => return classify(actor, message).await,
        Request::Examples { .. } => return examples(actor),
        _ => {}
    }
    let answer = carry_out(actor, req);
    if answer.ok && answer.text.is_empty() {
        return answer; // nothing to tell: a closed ticket without drafts to withdraw
    }
    let by = match req {
        Request::Reclassify { by, .. }
        | Request::SetFacts { by, .. }
        | Request::StaffDone { by, .. }
        | Request::Done { by, .. }
        | Request::NotDone { by, .. }
        | Request::WithdrawStale { by, .. }
        | Request::Show { by, .. }
        | Request::Classify { by, .. }
        | Request::Examples { by }
        | Request::Learn { by, .. }
        | Request::Forget { by, .. } => sanitise(by),
    };
    if answer.ok {
        info!(by, "{}", answer.text);
    } else {
        warn!(by, "refused: {}", answer.text);
    }
    actor.notifier.notify(Notice::Text(answer.text.clone()));
    answer
}

fn carry_out(actor: &Actor, req: &Request) -> Answer {
    let (id, by) = match req {
        Request::Reclassify { ticket, by, .. }
        | Request::SetFacts { ticket, by, .. }
        | Request::StaffDone { ticket, by }
        | Request::Done { ticket, by }
        | Request::NotDone { ticket, by }
        | Request::WithdrawStale { ticket, by }
        | Request::Show { ticket, by } => (*ticket, sanitise(by)),
        Request::Learn { .. } | Request::Forget { .. } => return apply_learning(&actor.learner, req),
        Request::Classify { .. } | Request::Examples { .. } => unreachable!("answered in apply"),
    };
    let drafts_before = match actor.store.ticket(id) {
        Ok(Some(t)) => t.drafts.len(),
        Ok(None) => return refused(format!("{id}: there is no ticket {id}")),
        Err(e) => return refused(format!("{id}: {e}")),
    };
    let drafted = |t: &crate::store::Ticket| t.drafts.len() > drafts_before;
    match req {
        Request::Reclassify { procedure, .. } => match actor.reclassify(id, procedure, &by) {
            Ok(t) => ok(drafted(&t), lines::reclassified(&t, drafted(&t))),
            Err(e) => refused(format!("{id} not reclassified: {e}")),
        },
        Request::SetFacts { facts: f, .. } => match actor.record_facts(id, f, &by) {
            Ok(t) => ok(drafted(&t), lines::facts_recorded(&t, &facts::describe(f), drafted(&t))),
            Err(e) => refused(format!("{id}: nothing recorded: {e}")),
        },
        Request::Learn { .. } | Request::Forget { .. } | Request::Classify { .. } | Request::Examples { .. } => unreachable!("answered above"),
        Request::StaffDone { .. } => staff_done(actor, id, &by, drafts_before),
        Request::Done { .. } => match {
            let _moving = actor.store.moving();
            staff_action::done(&actor.store, id, &by, actor.now())
        } {
            Ok(Done::StaffAction) => staff_done(actor, id, &by, drafts_before),
            Ok(Done::Closing(outcome @ DoneOutcome::Done(_))) => {
                let closed = lines::done(&by, id, &outcome, actor.now());
                match actor.withdraw_stale(id) {
                    Ok(0) => ok(false, closed),
                    Ok(n) => ok(false, format!("{closed}; {}", lines::closed_withdrawn(id, n))),
                    Err(e) => ok(false, format!("{closed}; drafts of ours not withdrawn: {e}")),
                }
            }
            Ok(Done::Closing(outcome)) => refused(lines::done(&by, id, &outcome, actor.now())),
            Ok(Done::OnHold(action)) => refused(lines::done_on_hold(&by, id, &action)),
            Err(e) => refused(format!("{id}: {e}")),
        },
        Request::NotDone { .. } => match actor.not_done(id, &by) {
            Ok(n) => ok(false, lines::not_done(&n, &by)),
            Err(e) => refused(format!("{by}: {e}")),
        },
        Request::WithdrawStale { .. } => match actor.withdraw_stale(id) {
            Ok(0) => ok(false, String::new()),
            Ok(n) => ok(false, lines::closed_withdrawn(id, n)),
            Err(e) => refused(format!("{id}: {e}")),
        },
        Request::Show { .. } => show(actor, id),
    }
}

/// Carries out a `learn` request (the other requests are refused).
pub fn apply_learning(learner: &crate::learn::Learner, req: &Request) -> Answer {
    match req {
        Request::Learn { examples, .. } => {
            let mut tally = crate::learn::Tally::default();
            for ex in examples {
                match learner.learn(ex) {
                    Ok(learned) => tally.add(&learned, &ex.label),
                    Err(e) => return refused(format!("learning stopped after {}: {e}", tally.line())),
                }
            }
            ok(false, tally.line())
        }
        Request::Forget { keys, .. } => {
            let mut forgotten = 0;
            let mut unknown = Vec::new();
            for k in keys {
                match crate::store::ExampleKey::parse(k).map(|key| learner.forget(key)) {
                    Some(Ok(true)) => forgotten += 1,
                    Some(Err(e)) => return refused(format!("forgetting stopped: {e}")),
                    _ => unknown.push(sanitise(k)),
                }
            }
            if unknown.is_empty() {
                ok(false, format!("forgot {}", crate::learn::examples(forgotten)))
            } else {
                refused(format!("forgot {}; no example {} (see learn --list)", crate::learn::examples(forgotten), unknown.join(", ")))
            }
        }
        Request::Reclassify { .. }
        | Request::SetFacts { .. }
        | Request::StaffDone { .. }
        | Request::Done { .. }
        | Request::NotDone { .. }
        | Request::WithdrawStale { .. }
        | Request::Show { .. }
        | Request::Classify { .. }
        | Request::Examples { .. } => refused("not a learning request".into()),
    }
}


/// The ticket's staff action carried out: its procedure goes on.
fn staff_done(actor: &Actor, id: TicketId, by: &str, drafts_before: usize) -> Answer {
    match actor.staff_done(id, by) {
        Ok(t) => {
            let drafted = t.drafts.len() > drafts_before;
            ok(drafted, lines::staff_action_done(&t, by, drafted))
        }
        Err(e) => refused(format!("{id}: {e}")),
    }
}

/// `triaged show`: the history as JSON in the answer's text.
fn show(actor: &Actor, id: TicketId) -> Answer {
    match crate::history::History::load(&actor.store, id) {
        Ok(Some(h)) => ok(false, serde_json::to_string(&h).expect("a history serialises")),
        Ok(None) => refused(format!("{id}: there is no ticket {id}")),
        Err(e) => refused(format!("{id}: {e}")),
    }
}

/// `triaged classify`: how the daemon would read the message were it a
/// new request, as `classify::cli::Decision` JSON in the answer's text.
async fn classify(actor: &Actor, message: &str) -> Answer {
    use base64::Engine;
    let raw = match base64::engine::general_purpose::STANDARD.decode(message) {
        Ok(raw) => raw,
        Err(e) => return refused(format!("not a message to classify: its base64 does not decode: {e}")),
    };
    match crate::message::Message::read_bytes(raw, &actor.limits) {
        Ok(msg) => {
            let decision = crate::classify::cli::Decision::from(actor.read_as_new(&msg).await);
            ok(false, serde_json::to_string(&decision).expect("a classification serialises"))
        }
        Err(e) => refused(e.to_string()),
    }
}

/// `triaged learn --list`: the examples, as a JSON array of
/// `learn::cli::Listed`.
fn examples(actor: &Actor) -> Answer {
    match crate::learn::cli::listed(&actor.store) {
        Ok(rows) => ok(false, serde_json::to_string(&rows).expect("examples serialise")),
        Err(e) => refused(format!("cannot read the examples: {e}")),
    }
}

pub fn show_request(ticket: u64) -> Request {
    Request::Show {
        ticket: TicketId(ticket),
        by: command_line_user(),
    }
}

fn ok(draft: bool, text: String) -> Answer {
    Answer { ok: true, draft, text }
}

fn refused(text: String) -> Answer {
    Answer { ok: false, draft: false, text }
}

/// What the command line did with a request.
#[derive(Debug)]
pub enum Submitted {
    /// The store was free: applied here.
    Applied(Answer),
    /// The daemon holds the store: queued, with its answer if it came in
    /// time.
    Queued { file: PathBuf, answer: Option<Answer> },
}

impl Submitted {
    /// Refused (by this process or the daemon).
    pub fn refused(&self) -> bool {
        match self {
            Submitted::Applied(a) | Submitted::Queued { answer: Some(a), .. } => !a.ok,
            Submitted::Queued { answer: None, .. } => false,
        }
    }

    /// What to print: which of the two happened, and the answer.
    pub fn report(&self) -> String {
        match self {
            Submitted::Applied(a) if a.draft => format!(
                "applied directly (the daemon is not running): {}; the draft is appended to Drafts when the daemon next starts",
                a.text
            ),
            Submitted::Applied(a) => format!("applied directly (the daemon is not running): {}", a.text),
            Submitted::Queued { answer: Some(a), .. } => format!("queued for the running daemon, which answered: {}", a.text),
            Submitted::Queued { file, answer: None } => format!(
                "queued for the running daemon as {}; no answer within {} s (is it busy or stopping?): it is applied when the daemon picks it up, and the result goes to the staff channel and the log",
                file.display(),
                ANSWER_WAIT.as_secs()
            ),
        }
    }
}

/// For the command line: applies `req` to the store at
/// `config.store_path` when it is free, else hands it to the running
/// daemon through the spool and waits a little for the answer.
pub async fn submit(config: &Config, req: &Request) -> Result<Submitted, ControlError> {
    match Store::open(&config.store_path) {
        Ok(store) => {
            let actor = Actor::new(config, store, Notifier::disabled()).await?;
            Ok(Submitted::Applied(apply(&actor, req).await))
        }
        Err(StoreError::Locked { .. }) => {
            let spool = Spool::new(spool_dir(&config.store_path));
            let file = spool.put(req)?;
            let answer = spool.wait_answer(&file, ANSWER_WAIT).await;
            Ok(Submitted::Queued { file, answer })
        }
        Err(e) => Err(e.into()),
    }
}

/// For the command line while the daemon runs: queues every request at
/// once (the daemon applies them in one pass), then collects the answers;
/// `None` for one that did not come in time: [`ANSWER_WAIT`] with no
/// answer at all, however many there are. A request that only reads and
/// was not answered is taken back, so the daemon spends nothing on it.
pub async fn submit_queued(config: &Config, reqs: &[Request]) -> Result<Vec<Option<Answer>>, ControlError> {
    let spool = Spool::new(spool_dir(&config.store_path));
    let files = reqs.iter().map(|r| spool.put(r)).collect::<Result<Vec<_>, _>>()?;
    Ok(spool.collect(reqs, &files, ANSWER_WAIT).await)
}

/// The daemon's side: applies waiting requests every [`POLL`] until
/// `cancel` fires.
pub async fn serve(actor: Arc<Actor>, dir: PathBuf, cancel: CancellationToken) {
    let spool = Spool::new(dir);
    let mut stuck = HashSet::new();
    loop {
        spool.apply_waiting(&actor, &mut stuck).await;
        spool.prune_answers();
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            _ = cancel.cancelled() => return,
        }
    }
}

/// Applies the requests waiting in `dir` once (`run --once`); returns how
/// many there were.
pub async fn apply_waiting(actor: &Actor, dir: &Path) -> usize {
    Spool::new(dir.to_path_buf()).apply_waiting(actor, &mut HashSet::new()).await
}

struct Spool {
    dir: PathBuf,
}

impl Spool {
    fn new(dir: PathBuf) -> Spool {
        Spool { dir }
    }

    fn io_error(&self, path: &Path) -> impl FnOnce(std::io::Error) -> ControlError {
        let path = path.to_path_buf();
        move |source| ControlError::Spool { path, source }
    }

    /// Writes `req` atomically; returns the file's path.
    fn put(&self, req: &Request) -> Result<PathBuf, ControlError> {
        std::fs::create_dir_all(&self.dir).map_err(self.io_error(&self.dir))?;
        let now = jiff::Timestamp::now().as_nanosecond();
        let name = format!("{now:020}-{:08}-{:08x}.json", std::process::id(), rand::random::<u32>());
        let tmp = self.dir.join(format!(".{name}.tmp"));
        let path = self.dir.join(&name);
        let bytes = serde_json::to_vec_pretty(req).expect("a request serialises");
        std::fs::write(&tmp, bytes).map_err(self.io_error(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(self.io_error(&path))?;
        Ok(path)
    }

    /// Request files ready to apply, in name order.
    fn waiting(&self) -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.ends_with(".json") && !n.starts_with('.'))
            })
            .collect();
        files.sort();
        files
    }

    /// Applies every waiting request and answers it. `stuck`: files that
    /// could not be removed after applying (permissions), so they are not
    /// applied twice by this process.
    async fn apply_waiting(&self, actor: &Actor, stuck: &mut HashSet<PathBuf>) -> usize {
        let mut n = 0;
        for path in self.waiting() {
            if stuck.contains(&path) {
                continue;
            }
            n += 1;
            let answer = match read_request(&path, max_request_bytes(&actor.limits)) {
                Ok(req) => {
                    let answer = apply(actor, &req).await;
                    let removed = std::fs::remove_file(&path).or_else(|e| match e.kind() {
                        // A read-only request its command took back meanwhile.
                        std::io::ErrorKind::NotFound if req.reads_only() => Ok(()),
                        _ => Err(e),
                    });
                    if let Err(e) = removed {
                        warn!("request {}: applied, but cannot remove it: {e}; fix the spool's permissions", path.display());
                        stuck.insert(path.clone());
                    }
                    answer
                }
                Err(reason) => self.reject(&path, reason, stuck),
            };
            self.answer(&path, &answer);
        }
        n
    }

    fn reject(&self, path: &Path, reason: String, stuck: &mut HashSet<PathBuf>) -> Answer {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let to = self.dir.join(REJECTED).join(&name);
        warn!("request {}: {reason}; moved to {}", path.display(), to.display());
        let moved = std::fs::create_dir_all(self.dir.join(REJECTED)).and_then(|()| std::fs::rename(path, &to));
        if let Err(e) = moved {
            warn!("request {}: cannot move it aside: {e}", path.display());
            stuck.insert(path.to_path_buf());
        }
        refused(format!("request {name} rejected: {reason}"))
    }

    fn answer_path(&self, request: &Path) -> PathBuf {
        let name = request.file_name().unwrap_or_default();
        self.dir.join(ANSWERS).join(name)
    }

    /// Leaves the answer for a waiting command; best effort.
    fn answer(&self, request: &Path, answer: &Answer) {
        let path = self.answer_path(request);
        let tmp = path.with_extension("tmp");
        let bytes = serde_json::to_vec(answer).expect("an answer serialises");
        let written = std::fs::create_dir_all(self.dir.join(ANSWERS))
            .and_then(|()| std::fs::write(&tmp, bytes))
            .and_then(|()| std::fs::rename(&tmp, &path));
        if let Err(e) = written {
            warn!("request {}: cannot leave the answer: {e}", request.display());
        }
    }

    /// The daemon's answer to the request in `file`, if it comes within
    /// `limit`; the answer file is removed once read.
    async fn wait_answer(&self, file: &Path, limit: Duration) -> Option<Answer> {
        let path = self.answer_path(file);
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if let Ok(bytes) = std::fs::read(&path) {
                let _ = std::fs::remove_file(&path);
                return serde_json::from_slice(&bytes).ok();
            }
            if tokio::time::Instant::now() >= deadline {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The answers to `reqs`, queued as `files`, in order. The daemon
    /// answers them one after another: the command waits while answers
    /// keep coming, up to `quiet` after the latest (or after it began), not
    /// `quiet` for each. A read-only request nobody answered is removed
    /// (the daemon, should it have it already, answers nobody).
    async fn collect(&self, reqs: &[Request], files: &[PathBuf], quiet: Duration) -> Vec<Option<Answer>> {
        let mut last = tokio::time::Instant::now();
        let mut answers = Vec::with_capacity(files.len());
        for (req, file) in reqs.iter().zip(files) {
            let left = (last + quiet).saturating_duration_since(tokio::time::Instant::now());
            let answer = self.wait_answer(file, left).await;
            if answer.is_some() {
                last = tokio::time::Instant::now();
            } else if req.reads_only() {
                let _ = std::fs::remove_file(file);
            }
            answers.push(answer);
        }
        answers
    }

    /// Removes answers no command came back for.
    fn prune_answers(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join(ANSWERS)) else {
            return;
        };
        for e in entries.filter_map(Result::ok) {
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|age| age > ANSWER_KEEP));
            if old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// The request in `path`, or why it is not one.
fn read_request(path: &Path, max: u64) -> Result<Request, String> {
    let size = std::fs::metadata(path).map_err(|e| format!("cannot read it: {e}"))?.len();
    if size > max {
        return Err(format!("{size} bytes, more than any request ({max})"));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    serde_json::from_slice(&bytes).map_err(|e| format!("not a request: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn requests_round_trip_through_json() {
        let r = Request::SetFacts {
            ticket: TicketId(3),
            facts: vec![("assurances".into(), json!(0)), ("last_certificate_expiry".into(), json!("2026-01-31"))],
            by: "alice".into(),
        };
        let text = serde_json::to_string(&r).unwrap();
        assert_eq!(
            text,
            r#"{"action":"set_facts","ticket":3,"facts":[["assurances",0],["last_certificate_expiry","2026-01-31"]],"by":"alice"}"#
        );
        assert_eq!(serde_json::from_str::<Request>(&text).unwrap(), r);
        assert!(serde_json::from_str::<Request>(r#"{"action":"drop_tables","ticket":1,"by":"x"}"#).is_err());
        assert!(serde_json::from_str::<Request>(r#"{"action":"reclassify","ticket":1,"procedure":"p","by":"x","extra":1}"#).is_err());
    }

    #[test]
    fn spool_lists_only_finished_requests_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().join("requests"));
        let req = |n| Request::Reclassify {
            ticket: TicketId(n),
            procedure: "refund".into(),
            by: "cli".into(),
        };
        let a = spool.put(&req(1)).unwrap();
        let b = spool.put(&req(2)).unwrap();
        std::fs::write(spool.dir.join(".half.json.tmp"), "{").unwrap();
        std::fs::write(spool.dir.join(".hidden.json"), "{").unwrap();
        assert_eq!(spool.waiting(), vec![a.clone(), b]);
        assert_eq!(read_request(&a, MAX_REQUEST_BYTES).unwrap(), req(1));
        std::fs::write(&a, "not json").unwrap();
        assert!(read_request(&a, MAX_REQUEST_BYTES).unwrap_err().starts_with("not a request"));
    }

    #[tokio::test]
    async fn many_requests_wait_for_a_silent_daemon_once_not_once_each_and_read_only_ones_are_taken_back() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().join("requests"));
        let classify = |n: u8| Request::Classify { message: format!("{n}"), by: "cli".into() };
        let learn = Request::Learn { examples: Vec::new(), by: "cli".into() };
        let reqs = vec![classify(1), classify(2), learn, classify(3)];
        let files: Vec<PathBuf> = reqs.iter().map(|r| spool.put(r).unwrap()).collect();
        // The daemon answers the first at once, then nothing more.
        std::fs::remove_file(&files[0]).unwrap();
        spool.answer(&files[0], &ok(false, "{}".into()));
        let started = std::time::Instant::now();
        let answers = spool.collect(&reqs, &files, Duration::from_millis(300)).await;
        assert!(started.elapsed() < Duration::from_millis(900), "{:?} for one quiet spell", started.elapsed());
        assert_eq!(answers.iter().map(Option::is_some).collect::<Vec<_>>(), [true, false, false, false]);
        // What only reads is taken back; what changes something waits for
        // the daemon.
        assert_eq!(spool.waiting(), vec![files[2].clone()]);
    }

    #[tokio::test]
    async fn an_answer_is_collected_once() {
        let dir = tempfile::tempdir().unwrap();
        let spool = Spool::new(dir.path().to_path_buf());
        let file = dir.path().join("1.json");
        assert_eq!(spool.wait_answer(&file, Duration::from_millis(50)).await, None);
        let a = ok(true, "#1 done".into());
        spool.answer(&file, &a);
        assert_eq!(spool.wait_answer(&file, Duration::from_millis(50)).await, Some(a));
        assert!(!spool.answer_path(&file).exists());
    }
}
