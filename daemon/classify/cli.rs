//! `triaged classify [--json] FILE.eml...`: what the daemon would make of
//! saved messages were they new requests, offline. One line per file; a
//! file that cannot be read or parsed gets an error line and the others
//! still run; `-` is standard input.
//!
//! The decision is the daemon's own (`act::read_new_request`): the message
//! read as its author sent it, set aside or classified by the pack and what
//! was learned, the account directory asked whether it knows the sender.
//! While the daemon runs it holds the store, so it is asked through the
//! request spool (`control.rs`), as `show` asks it.

use std::io::Write;
use std::path::PathBuf;

use super::aside::{Aside, AsidePolicy, SET_ASIDE};
use super::Classification;
use crate::act::Reading;
use crate::procedures::Pack;
use crate::config::Config;
use crate::learn::{Learner, Opinion};
use crate::message::Message;
use crate::store::{Store, StoreError};
use crate::verify::Verifier;

/// The model's part of a text line: its vote and the words behind it.
fn model_column(m: &Opinion) -> String {
    let words = if m.vote.words.is_empty() { String::new() } else { format!(" [{}]", m.vote.words.join(", ")) };
    format!("  {}{words}", m.explain())
}

/// The pack's model's part of a text line, when it routed.
fn pack_model_column(c: &Classification) -> String {
    c.pack_model.as_ref().map(|m| format!("  routed by the pack's model: {} {} [{}]", m.procedure, m.probability, m.words.join(", "))).unwrap_or_default()
}

#[derive(serde::Serialize)]
struct Row<'a> {
    file: &'a str,
    #[serde(flatten)]
    decision: &'a Decision,
}

#[derive(serde::Serialize)]
struct ErrorRow<'a> {
    file: &'a str,
    error: &'a str,
}

/// The configured pack could not be loaded: every problem found, each
/// with its file:line and the fix.
#[derive(Debug)]
pub struct PackLoadError {
    pub problems: Vec<crate::config::Problem>,
}

impl std::fmt::Display for PackLoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let lines: Vec<String> = self.problems.iter().map(|p| p.to_string()).collect();
        f.write_str(&lines.join("\n"))
    }
}

impl std::error::Error for PackLoadError {}

/// The commands that print an I/O error print this one the same way.
impl From<PackLoadError> for std::io::Error {
    fn from(e: PackLoadError) -> std::io::Error {
        std::io::Error::other(e)
    }
}

/// Load the configured pack or say why not.
pub fn load_pack(config: &Config) -> Result<Pack, PackLoadError> {
    let mut pack = Pack::load(&config.procedures.pack_dir()).map_err(|problems| PackLoadError { problems })?;
    pack.default_threshold = config.procedures.threshold;
    Ok(pack)
}

/// For `check-config`: every problem of the configured pack, with file:line.
pub fn check_pack(config: &Config) -> Result<(), Vec<crate::config::Problem>> {
    Pack::load(&config.procedures.pack_dir()).map(|_| ())
}

/// What `classify` says of one message: what the daemon would make of it
/// were it a new request. Also the running daemon's answer to a
/// `classify` request (`control.rs`), hence serde both ways.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Decision {
    #[serde(flatten)]
    pub class: Classification,
    /// Set aside before classification: why (procedure `set-aside`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aside: Option<Aside>,
}

impl From<Reading> for Decision {
    fn from(reading: Reading) -> Decision {
        match reading {
            Reading::SetAside(aside) => Decision { class: Classification { procedure: SET_ASIDE.into(), ..Default::default() }, aside: Some(aside) },
            Reading::Classified(class, _) => Decision { class, aside: None },
        }
    }
}

/// The daemon's reading of `msg`, here: the same verifier (account
/// directory, lists), pack and aside policy, and what was learned when the
/// store could be opened. Without a verifier (its config is broken, and
/// the daemon would not start), the text alone speaks.
async fn decide_here(verifier: Option<&Verifier>, pack: &Pack, policy: &AsidePolicy, learner: Option<&Learner>, msg: &Message) -> Decision {
    match verifier {
        Some(v) => crate::act::read_as_new(v, pack, policy, learner, msg).await.into(),
        None => match policy.judge(msg) {
            Some(aside) => Reading::SetAside(aside).into(),
            None => Decision { class: learner.map(|l| l.classify(pack, msg).0).unwrap_or_else(|| pack.classify(msg)), aside: None },
        },
    }
}

/// Where what was learned is: in the store, opened here, or in the
/// running daemon, which holds the store and is asked.
enum Learned {
    /// Learning is off, or nothing was ever stored (`None`), or the store
    /// was free.
    Here(Option<Learner>),
    /// The running daemon holds the store.
    Daemon,
}

/// Opens what was learned from the configured store.
fn learned(config: &Config) -> Learned {
    if !config.learning.enabled || !Store::exists(&config.store_path) {
        return Learned::Here(None);
    }
    match Store::open(&config.store_path).and_then(|s| Learner::open(&s, config.learning)) {
        Ok(l) => Learned::Here(Some(l)),
        Err(StoreError::Locked { .. }) => Learned::Daemon,
        Err(e) => {
            eprintln!("note: classifying with the rules alone: {e}");
            Learned::Here(None)
        }
    }
}

/// What was learned, from the configured store; `None` (with the reason
/// on stderr) when learning is off, nothing was ever stored, or the
/// running daemon holds the store.
pub(crate) fn open_learner(config: &Config) -> Option<Learner> {
    match learned(config) {
        Learned::Here(l) => l,
        Learned::Daemon => {
            eprintln!(
                "note: the running daemon holds the store {}: classifying with the rules alone (the daemon itself uses what was learned)",
                config.store_path.display()
            );
            None
        }
    }
}

/// The name `classify` gives standard input, as a file argument and in
/// its output.
pub const STDIN: &str = "-";

/// Messages read, decided and printed at a time: what `classify` holds in
/// memory, and hands the running daemon's spool, at once, however many
/// files it is given.
const BATCH: usize = 64;

/// Reads each file, and standard input for `-` (once: a second `-` finds
/// it read, `stdin_read`).
fn read_all(files: &[PathBuf], limits: &crate::config::Limits, stdin_read: &mut bool) -> Vec<Result<Message, String>> {
    files
        .iter()
        .map(|file| {
            if file.as_os_str() != STDIN {
                return Message::read_file(file, limits).map_err(|e| e.to_string());
            }
            if std::mem::replace(stdin_read, true) {
                return Err("standard input was read already, for an earlier -: give - once".into());
            }
            Message::read_stream(std::io::stdin().lock(), limits).map_err(|e| format!("standard input: {e}"))
        })
        .collect()
}

/// Asks the running daemon for its reading of each message, all at once;
/// `None` for one it did not answer in time.
async fn ask_daemon(config: &Config, messages: &[Result<Message, String>]) -> Result<Vec<Option<Result<Decision, String>>>, crate::control::ControlError> {
    use base64::Engine;
    let by = crate::control::command_line_user();
    let requests: Vec<crate::control::Request> = messages
        .iter()
        .flatten()
        .map(|m| crate::control::Request::Classify { message: base64::engine::general_purpose::STANDARD.encode(m.raw()), by: by.clone() })
        .collect();
    let answers = crate::control::submit_queued(config, &requests).await?;
    Ok(answers
        .into_iter()
        .map(|a| {
            a.map(|a| match a.ok {
                true => serde_json::from_str(&a.text).map_err(|e| format!("the daemon's answer is not a classification ({e}): is it an older triaged? restart it")),
                false => Err(a.text),
            })
        })
        .collect())
}

/// The running daemon's reading of each readable message, in order
/// (`None`: not answered in time), each failure said on stderr.
async fn asked_of_daemon(config: &Config, messages: &[Result<Message, String>]) -> Vec<Option<Result<Decision, String>>> {
    let store = config.store_path.display();
    match ask_daemon(config, messages).await {
        Ok(answers) => {
            let unanswered = answers.iter().filter(|a| a.is_none()).count();
            if unanswered > 0 {
                eprintln!(
                    "note: the running daemon holds the store {store} and did not answer for {unanswered} of {} messages within {} s (is it busy or stopping?): those are classified with the rules alone",
                    answers.len(),
                    crate::control::ANSWER_WAIT.as_secs()
                );
            }
            answers
        }
        Err(e) => {
            eprintln!("note: the running daemon holds the store {store} and cannot be asked: {e}; classifying with the rules alone");
            Vec::new()
        }
    }
}

/// What deciding needs, set up once for every batch: where what was
/// learned is, and the verifier, made when first needed.
struct Decider<'a> {
    config: &'a Config,
    pack: &'a Pack,
    policy: AsidePolicy,
    learned: Learned,
    /// `None`: not made yet; `Some(None)`: the config has no verifier.
    verifier: Option<Option<Verifier>>,
}

impl<'a> Decider<'a> {
    fn new(config: &'a Config, pack: &'a Pack) -> Decider<'a> {
        Decider { config, pack, policy: AsidePolicy::from_config(config), learned: learned(config), verifier: None }
    }

    async fn make_verifier(&mut self) {
        if self.verifier.is_none() {
            let made = Verifier::new(self.config)
                .await
                .inspect_err(|e| eprintln!("note: {e}: classifying from the text alone, as if no sender had an account (the daemon does not start so; check-config names the fix)"))
                .ok();
            self.verifier = Some(made);
        }
    }

    /// Every message's decision, or why there is none: asked of the
    /// running daemon when it holds what was learned, else decided here
    /// the same way.
    async fn decide_all(&mut self, messages: &[Result<Message, String>]) -> Vec<Result<Decision, String>> {
        let asked = match self.learned {
            Learned::Daemon if messages.iter().any(Result::is_ok) => asked_of_daemon(self.config, messages).await,
            _ => Vec::new(),
        };
        let mut asked = asked.into_iter();
        let mut decisions = Vec::with_capacity(messages.len());
        for m in messages {
            decisions.push(match m {
                Err(e) => Err(e.clone()),
                Ok(msg) => match asked.next().flatten() {
                    Some(answer) => answer,
                    None => {
                        self.make_verifier().await;
                        let verifier = self.verifier.as_ref().and_then(Option::as_ref);
                        let learner = match &self.learned {
                            Learned::Here(l) => l.as_ref(),
                            Learned::Daemon => None,
                        };
                        Ok(decide_here(verifier, self.pack, &self.policy, learner, msg).await)
                    }
                },
            });
        }
        decisions
    }
}

/// Returns `Ok(false)` when any file could not be classified. A file
/// named `-` is standard input.
pub async fn classify_files(config: &Config, files: &[PathBuf], json: bool, out: &mut (dyn Write + Send)) -> std::io::Result<bool> {
    let pack = load_pack(config)?;
    let mut decider = Decider::new(config, &pack);
    let mut stdin_read = false;
    let mut all_ok = true;
    if !json {
        writeln!(out, "{:<40} {:<24} {:>6}  {:<20} rules", "file", "procedure", "score", "runner-up")?;
    }
    for batch in files.chunks(BATCH) {
        let messages = read_all(batch, &config.limits, &mut stdin_read);
        let decisions = decider.decide_all(&messages).await;
        drop(messages);
        all_ok &= print_rows(batch, &decisions, json, out)?;
    }
    Ok(all_ok)
}

/// One line (or JSON object) per file; `Ok(false)` when any has none.
fn print_rows(files: &[PathBuf], decisions: &[Result<Decision, String>], json: bool, out: &mut (dyn Write + Send)) -> std::io::Result<bool> {
    let mut all_ok = true;
    for (file, result) in files.iter().zip(decisions) {
        let name = file.display().to_string();
        all_ok &= result.is_ok();
        match (result, json) {
            (Ok(decision), true) => writeln!(out, "{}", serde_json::to_string(&Row { file: &name, decision })?)?,
            (Err(e), true) => writeln!(out, "{}", serde_json::to_string(&ErrorRow { file: &name, error: e })?)?,
            (Ok(Decision { class: c, aside }), false) => writeln!(
                out,
                "{:<40} {:<24} {:>6.2}  {:<20} {}{}{}",
                name,
                c.procedure,
                c.score,
                c.runner_up.as_deref().unwrap_or("-"),
                aside.as_ref().map(|a| format!("{}: {}", a.kind.as_str(), a.reason)).unwrap_or_else(|| c.rules.join(", ")),
                c.model.as_ref().map(model_column).unwrap_or_default(),
                pack_model_column(c)
            )?,
            (Err(e), false) => writeln!(out, "{name:<40} error: {e}")?,
        }
    }
    Ok(all_ok)
}
