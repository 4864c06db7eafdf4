//! `triaged classify [--json] FILE.eml...`: classify saved messages offline
//! with the configured pack. One line per file; a file that cannot be read
//! or parsed gets an error line and the others still run.

use std::io::Write;
use std::path::PathBuf;

use super::aside::{Aside, AsidePolicy, SET_ASIDE};
use super::Classification;
use crate::procedures::Pack;
use crate::config::Config;
use crate::learn::{Learner, Opinion};
use crate::message::Message;
use crate::store::{Store, StoreError};

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
    result: &'a Classification,
    /// Set aside before classification: why (procedure `set-aside`).
    #[serde(skip_serializing_if = "Option::is_none")]
    aside: Option<&'a Aside>,
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

/// What the daemon would decide: set aside, or the pack's classification
/// (with what was learned, when there is a model).
fn classify_file(
    pack: &Pack,
    policy: &AsidePolicy,
    learner: Option<&Learner>,
    file: &PathBuf,
    limits: &crate::config::Limits,
) -> Result<(Classification, Option<Aside>), String> {
    let msg = Message::read_file(file, limits).map_err(|e| e.to_string())?;
    Ok(match policy.judge(&msg) {
        Some(aside) => {
            let c = Classification { procedure: SET_ASIDE.into(), ..Default::default() };
            (c, Some(aside))
        }
        None => match learner {
            Some(l) => (l.classify(pack, &msg).0, None),
            None => (pack.classify(&msg), None),
        },
    })
}

/// What was learned, from the configured store; `None` (with the reason
/// on stderr) when learning is off, nothing was ever stored, or the
/// running daemon holds the store.
pub(crate) fn open_learner(config: &Config) -> Option<Learner> {
    if !config.learning.enabled || !Store::exists(&config.store_path) {
        return None;
    }
    let opened = Store::open(&config.store_path).and_then(|s| Learner::open(&s, config.learning));
    match opened {
        Ok(l) => Some(l),
        Err(StoreError::Locked { .. }) => {
            eprintln!(
                "note: the running daemon holds the store {}: classifying with the rules alone (the daemon itself uses what was learned)",
                config.store_path.display()
            );
            None
        }
        Err(e) => {
            eprintln!("note: classifying with the rules alone: {e}");
            None
        }
    }
}

/// Returns `Ok(false)` when any file could not be classified.
pub fn classify_files(config: &Config, files: &[PathBuf], json: bool, out: &mut dyn Write) -> std::io::Result<bool> {
    let pack = load_pack(config)?;
    let policy = AsidePolicy::from_config(config);
    let learner = open_learner(config);
    let mut all_ok = true;
    if !json {
        writeln!(out, "{:<40} {:<24} {:>6}  {:<20} rules", "file", "procedure", "score", "runner-up")?;
    }
    for file in files {
        let name = file.display().to_string();
        let result = classify_file(&pack, &policy, learner.as_ref(), file, &config.limits);
        all_ok &= result.is_ok();
        match (&result, json) {
            (Ok((c, aside)), true) => {
                writeln!(out, "{}", serde_json::to_string(&Row { file: &name, result: c, aside: aside.as_ref() })?)?
            }
            (Err(e), true) => writeln!(out, "{}", serde_json::to_string(&ErrorRow { file: &name, error: e })?)?,
            (Ok((c, aside)), false) => writeln!(
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
