//! `triaged learn`: labelled examples for the local model, from .eml files
//! or a whole archive, straight into the store when the daemon is stopped,
//! else through the request spool (`control.rs`) like `reclassify`. Only
//! the features travel and are kept, never the mail.

use std::io::Write;
use std::path::{Path, PathBuf};

use super::{Features, Learner};
use crate::classify::UNCLASSIFIED;
use crate::procedures::Pack;
use crate::config::Config;
use crate::control::{self, Request};
use crate::message::{Message, ParseError, ReadError};
use crate::store::{Example, ExampleKey, Store, StoreError};

/// What `triaged learn` was asked to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Task {
    /// `learn PROCEDURE FILE...` or `learn --not FILE...`.
    Files { label: String, files: Vec<PathBuf> },
    /// `learn --archive DIR --map FOLDER=PROCEDURE...`: each sub-folder's
    /// .eml files and Maildir messages (recursively) under its procedure;
    /// folders not mapped are skipped and named.
    Archive { dir: PathBuf, map: Vec<(String, String)> },
    /// `learn --forget KEY|FILE...`.
    Forget { items: Vec<String> },
    /// `learn --list`.
    List { json: bool },
}

#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Control(#[from] control::ControlError),
    #[error("{0}")]
    Pack(#[from] crate::classify::cli::PackLoadError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The running daemon, asked because it holds the store, did not give
    /// what was asked; the text says why and what to do.
    #[error("the running daemon: {0}")]
    Daemon(String),
}

/// Makes a [`Task`] of the command line's words, or says what is wrong.
pub fn task(not: bool, list: bool, forget: bool, json: bool, archive: Option<PathBuf>, map: &[String], args: &[String]) -> Result<Task, LearnError> {
    let usage = |s: &str| Err(LearnError::Usage(format!("{s}; usage: learn PROCEDURE FILE.eml... | learn --not FILE.eml... | learn --archive DIR --map FOLDER=PROCEDURE... | learn --list [--json] | learn --forget ID|FILE.eml...")));
    if json && !list {
        // The other forms print one line of what was learned; --json
        // there would be ignored, and a script reading JSON would break.
        return usage("--json goes with --list only (learn --list --json)");
    }
    match (not, list, forget, archive) {
        (false, true, false, None) if args.is_empty() => Ok(Task::List { json }),
        (false, false, true, None) if !args.is_empty() => Ok(Task::Forget { items: args.to_vec() }),
        (true, false, false, None) if !args.is_empty() => Ok(Task::Files { label: UNCLASSIFIED.into(), files: args.iter().map(PathBuf::from).collect() }),
        (false, false, false, None) if args.len() >= 2 => Ok(Task::Files { label: args[0].clone(), files: args[1..].iter().map(PathBuf::from).collect() }),
        (false, false, false, Some(dir)) if args.is_empty() && !map.is_empty() => {
            let map = map
                .iter()
                .map(|m| match m.split_once('=') {
                    Some((f, p)) if !f.is_empty() && !p.is_empty() => Ok((f.to_string(), p.to_string())),
                    _ => Err(LearnError::Usage(format!("--map {m:?}: expected FOLDER=PROCEDURE (PROCEDURE may be {UNCLASSIFIED} for \"no procedure\")"))),
                })
                .collect::<Result<_, _>>()?;
            Ok(Task::Archive { dir, map })
        }
        (false, false, false, Some(_)) => usage("--archive needs at least one --map FOLDER=PROCEDURE and no other arguments"),
        (false, false, false, None) => usage("name a procedure and at least one file"),
        _ => usage("--not, --list, --forget and --archive do not go together, and each needs its arguments"),
    }
}

/// Runs `task`; returns false when some file could not be learned.
pub async fn run(config: &Config, task: Task, out: &mut dyn Write) -> Result<bool, LearnError> {
    if !config.learning.enabled {
        writeln!(out, "note: [learning] enabled = false in {}: examples are kept, but classify and the daemon do not use them", config.source.display())?;
    }
    let pack = crate::classify::cli::load_pack(config)?;
    match task {
        Task::List { json } => list(config, json, out).await,
        Task::Forget { items } => {
            let mut keys = Vec::new();
            let mut ok = true;
            for item in &items {
                match ExampleKey::parse(item) {
                    Some(k) => keys.push(k),
                    None => match example_of(config, Path::new(item), UNCLASSIFIED) {
                        Ok(ex) => keys.push(ExampleKey::of(&ex.features)),
                        Err(e) => {
                            ok = false;
                            writeln!(out, "{item}: not forgotten: {e} (give an id from learn --list or a .eml file learned before)")?;
                        }
                    },
                }
            }
            // The same example named twice (its id and its file, or a file
            // given twice) is forgotten once, and is no error.
            let mut seen = std::collections::HashSet::new();
            let keys = keys.iter().map(ToString::to_string).filter(|k| seen.insert(k.clone())).collect();
            Ok(submit(config, vec![Request::Forget { keys, by: control::command_line_user() }], out).await? && ok)
        }
        Task::Files { label, files } => {
            check_label(&pack, &label)?;
            let mut ok = true;
            let mut examples = Vec::new();
            for f in &files {
                match example_of(config, f, &label) {
                    Ok(ex) => examples.push(ex),
                    Err(e) => {
                        ok = false;
                        writeln!(out, "{}: not learned: {e}", f.display())?;
                    }
                }
            }
            Ok(learn_all(config, examples, out).await? && ok)
        }
        Task::Archive { dir, map } => {
            for (_, label) in &map {
                check_label(&pack, label)?;
            }
            let (examples, ok) = read_archive(config, &dir, &map, out)?;
            Ok(learn_all(config, examples, out).await? && ok)
        }
    }
}

fn check_label(pack: &Pack, label: &str) -> Result<(), LearnError> {
    if label == UNCLASSIFIED || pack.procedure(label).is_some() {
        return Ok(());
    }
    let known: Vec<_> = pack.procedures.iter().map(|p| p.id.as_str()).collect();
    Err(LearnError::Usage(format!(
        "no procedure {label:?} in pack {}; known: {} (or {UNCLASSIFIED}, as with --not)",
        pack.name,
        known.join(", ")
    )))
}

fn example_of(config: &Config, file: &Path, label: &str) -> Result<Example, String> {
    let msg = Message::read_file(file, &config.limits).map_err(|e| match e {
        // "There is nobody to reply to" is the daemon's reason; here the
        // file is an archive's, and the fix is the file's.
        ReadError::Parse(ParseError::NoSender) => "no From address: a message is learned as the daemon reads it, and it reads none without a sender; add a From: line (any address) to learn from it".to_string(),
        other => other.to_string(),
    })?;
    Ok(Example {
        label: label.to_string(),
        source: file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        added: jiff::Timestamp::now(),
        features: Features::of_message(&msg).example_hashes(&msg, Default::default()),
    })
}

/// Every .eml file under each mapped folder of `dir`, with progress on
/// stderr.
fn read_archive(config: &Config, dir: &Path, map: &[(String, String)], out: &mut dyn Write) -> Result<(Vec<Example>, bool), LearnError> {
    let mut files: Vec<(PathBuf, &str)> = Vec::new();
    for (folder, label) in map {
        let root = dir.join(folder);
        if !root.is_dir() {
            return Err(LearnError::Usage(format!("--map {folder}={label}: {} is not a folder", root.display())));
        }
        let mut found = Vec::new();
        eml_files(&root, &mut found)?;
        files.extend(found.into_iter().map(|f| (f, label.as_str())));
    }
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut unmapped: Vec<String> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().is_dir())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| !map.iter().any(|(f, _)| f == n))
            .collect();
        unmapped.sort();
        if !unmapped.is_empty() {
            writeln!(out, "skipped (no --map): {}", unmapped.join(", "))?;
        }
    }
    let mut examples = Vec::with_capacity(files.len());
    let mut ok = true;
    let total = files.len();
    let step = (total / 20).max(100);
    for (i, (file, label)) in files.iter().enumerate() {
        match example_of(config, file, label) {
            Ok(ex) => examples.push(ex),
            Err(e) => {
                ok = false;
                writeln!(out, "{}: not learned: {e}", file.display())?;
            }
        }
        if (i + 1) % step == 0 || i + 1 == total {
            eprintln!("learn: read {}/{total} files ({}%)", i + 1, (i + 1) * 100 / total.max(1));
        }
    }
    Ok((examples, ok))
}

/// The .eml files under `dir`, and the messages of any Maildir in it (the
/// files of its `cur` and `new`, whatever their names; `tmp` holds mail
/// still being written). A Maildir is what an IMAP folder becomes when a
/// standard tool copies it (`mbsync`, `offlineimap`, `doveadm backup`), so
/// an archive on the server is learned without `learn` connecting to it.
fn eml_files(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let maildir_part = dir.file_name().is_some_and(|n| n == "cur" || n == "new");
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.filter_map(Result::ok).map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        let hidden = p.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.'));
        if p.is_dir() {
            if !(p.file_name().is_some_and(|n| n == "tmp") && p.with_file_name("cur").is_dir()) {
                eml_files(&p, out)?;
            }
        } else if (maildir_part && !hidden) || p.extension().is_some_and(|e| e.eq_ignore_ascii_case("eml")) {
            out.push(p);
        }
    }
    Ok(())
}

/// A spool request stays well under the spool's size limit.
const REQUEST_BYTES: usize = 40 * 1024;

async fn learn_all(config: &Config, examples: Vec<Example>, out: &mut dyn Write) -> Result<bool, LearnError> {
    if examples.is_empty() {
        return Ok(true);
    }
    let by = control::command_line_user();
    let mut requests = Vec::new();
    let mut chunk: Vec<Example> = Vec::new();
    let mut bytes = 0;
    for ex in examples {
        let size = 64 + ex.features.len() * 6;
        if bytes + size > REQUEST_BYTES && !chunk.is_empty() {
            requests.push(Request::Learn { examples: std::mem::take(&mut chunk), by: by.clone() });
            bytes = 0;
        }
        bytes += size;
        chunk.push(ex);
    }
    requests.push(Request::Learn { examples: chunk, by });
    submit(config, requests, out).await
}

/// Applies the requests to the store when it is free, else queues them all
/// for the daemon and collects its answers; prints one line for them.
async fn submit(config: &Config, requests: Vec<Request>, out: &mut dyn Write) -> Result<bool, LearnError> {
    match Store::open(&config.store_path) {
        Ok(store) => {
            let learner = Learner::open(&store, config.learning)?;
            let mut ok = true;
            let mut texts = Vec::new();
            for req in &requests {
                let answer = control::apply_learning(&learner, req);
                ok &= answer.ok;
                texts.push(answer.text);
            }
            store.persist()?;
            writeln!(out, "applied directly (the daemon is not running): {}", summary(&texts))?;
            let counts: Vec<String> = learner.counts()?.iter().map(|(l, n)| format!("{l} {n}")).collect();
            writeln!(out, "examples now: {}", if counts.is_empty() { "none".into() } else { counts.join(", ") })?;
            Ok(ok)
        }
        Err(StoreError::Locked { .. }) => {
            let answers = control::submit_queued(config, &requests).await?;
            let ok = answers.iter().all(|a| a.as_ref().is_none_or(|a| a.ok));
            let texts: Vec<String> = answers.iter().flatten().map(|a| a.text.clone()).collect();
            let missing = answers.iter().filter(|a| a.is_none()).count();
            write!(out, "queued for the running daemon, which answered: {}", summary(&texts))?;
            if missing > 0 {
                write!(out, " ({missing} of {} requests not answered yet: they are applied when the daemon picks them up)", answers.len())?;
            }
            writeln!(out)?;
            Ok(ok)
        }
        Err(e) => Err(e.into()),
    }
}

/// One line for many answers: the first refusal, or the sum of the counts.
fn summary(texts: &[String]) -> String {
    if texts.len() == 1 {
        return texts[0].clone();
    }
    let mut all = super::Tally::default();
    let mut learned = 0;
    for t in texts.iter().filter_map(|t| super::Tally::parse(t)) {
        all.merge(&t);
        learned += 1;
    }
    match texts.iter().find(|t| super::Tally::parse(t).is_none()) {
        // What the other requests learned stays learned: say so too.
        Some(refused) => format!("{} in {learned} requests; {} refused, the first: {refused}", all.line(), texts.len() - learned),
        None => format!("{} in {} requests", all.line(), texts.len()),
    }
}

/// One example as `learn --list` shows it (the JSON line of `--json`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub struct Listed {
    pub id: String,
    pub label: String,
    pub source: String,
    pub added: jiff::Timestamp,
    /// How many features were kept of the message.
    pub features: usize,
}

/// The examples in `store`, in the store's order.
pub fn listed(store: &Store) -> Result<Vec<Listed>, StoreError> {
    Ok(store
        .examples()?
        .into_iter()
        .map(|(key, ex)| Listed { id: key.to_string(), label: ex.label, source: ex.source, added: ex.added, features: ex.features.len() })
        .collect())
}

/// The examples from the store, or from the running daemon that holds it.
async fn examples(config: &Config) -> Result<Vec<Listed>, LearnError> {
    let store_in_use = match Store::open(&config.store_path) {
        Ok(store) => return Ok(listed(&store)?),
        Err(StoreError::Locked { path }) => path,
        Err(e) => return Err(e.into()),
    };
    let asked = control::submit_queued(config, &[Request::Examples { by: control::command_line_user() }]).await?;
    match asked.into_iter().next().flatten() {
        Some(a) if a.ok => serde_json::from_str(&a.text).map_err(|e| LearnError::Daemon(format!("its answer is not a list of examples ({e}): is it an older triaged? restart it"))),
        Some(a) => Err(LearnError::Daemon(a.text)),
        None => Err(LearnError::Daemon(format!(
            "it holds the store {} and did not answer within {} s (is it busy or stopping?); try again, or stop it and run learn --list again",
            store_in_use.display(),
            control::ANSWER_WAIT.as_secs()
        ))),
    }
}

async fn list(config: &Config, json: bool, out: &mut dyn Write) -> Result<bool, LearnError> {
    let examples = examples(config).await?;
    if json {
        for ex in &examples {
            let row = serde_json::json!({"id": ex.id, "label": ex.label, "source": ex.source, "added": ex.added, "features": ex.features});
            writeln!(out, "{row}")?;
        }
        return Ok(true);
    }
    writeln!(out, "{:<16}  {:<24} {:<20} source", "id", "label", "added")?;
    for ex in &examples {
        writeln!(out, "{}  {:<24} {:<20} {}", ex.id, ex.label, ex.added.strftime("%Y-%m-%d %H:%M"), crate::staff::sanitise(&ex.source))?;
    }
    let mut counts: std::collections::BTreeMap<&str, u32> = Default::default();
    for ex in &examples {
        *counts.entry(ex.label.as_str()).or_default() += 1;
    }
    let counts: Vec<String> = counts.iter().map(|(l, n)| format!("{l} {n}")).collect();
    writeln!(out, "{}: {}", super::examples(examples.len()), if counts.is_empty() { "none".into() } else { counts.join(", ") })?;
    Ok(true)
}
