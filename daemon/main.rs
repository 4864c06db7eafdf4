//! The command line: parse arguments, load the config, pick the command.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use triaged::config::Config;
use triaged::status::StatusReport;

#[derive(Parser)]
#[command(name = "triaged", version, about = "Support-mailbox triage: IMAP in, verified and classified, reply drafted")]
struct Cli {
    /// The config file (see config.example.toml).
    #[arg(long, short, global = true, default_value = "/etc/triaged/config.toml")]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the daemon.
    Run {
        /// One full pass over every folder, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Load what `run` loads (config, secrets, pack, templates, accounts);
    /// print every problem with file:line. Exit 0: ok, 1: problems.
    CheckConfig,
    /// Classify .eml files by procedure, offline, as the daemon would
    /// (while it runs, it is asked: it holds what was learned).
    Classify {
        /// One JSON object per file (docs/DESIGN.md has its fields).
        #[arg(long)]
        json: bool,
        /// The messages, as .eml files (RFC 5322); `-` reads one from
        /// standard input.
        #[arg(required = true, value_name = "FILE.eml")]
        files: Vec<PathBuf>,
    },
    /// Verify the sender identity of .eml files, offline.
    Verify {
        /// One JSON object per file (docs/DESIGN.md has its fields).
        #[arg(long)]
        json: bool,
        /// The messages, as .eml files (RFC 5322).
        #[arg(required = true, value_name = "FILE.eml")]
        files: Vec<PathBuf>,
    },
    /// Health, tickets, claims, set-aside mail, pending work and quarantine.
    Status {
        /// The whole report as one JSON object.
        #[arg(long)]
        json: bool,
        /// For monitoring: print what needs attention (daemon stopped,
        /// quarantine, backlog, deadlines not fired, missing folder, staff
        /// channel down), or "ok"; exit 1 when there is any.
        #[arg(long)]
        check: bool,
    },
    /// Move ticket N to another procedure; the draft of its first step follows.
    Reclassify {
        /// The ticket's number (N or #N).
        #[arg(value_parser = triaged::control::parse_ticket, value_name = "N")]
        ticket: u64,
        /// A procedure of the configured pack (`classify` names them).
        procedure: String,
    },
    /// Labelled examples for the local model: `learn PROCEDURE FILE.eml...`,
    /// `learn --not FILE.eml...`, `learn --archive DIR --map FOLDER=PROCEDURE...`,
    /// `learn --list`, `learn --forget ID|FILE.eml...`.
    Learn {
        /// The files are examples of "no procedure".
        #[arg(long)]
        not: bool,
        /// List the examples learned.
        #[arg(long)]
        list: bool,
        /// Forget examples, by id (from --list) or by the .eml file learned.
        #[arg(long)]
        forget: bool,
        /// With --list: one JSON object per example.
        #[arg(long)]
        json: bool,
        /// A folder of archived mail, one sub-folder per --map.
        #[arg(long, value_name = "DIR")]
        archive: Option<PathBuf>,
        /// Which procedure a sub-folder's mail belongs to (`unclassified`: none).
        #[arg(long, value_name = "FOLDER=PROCEDURE")]
        map: Vec<String>,
        #[arg(value_name = "PROCEDURE|FILE|ID")]
        args: Vec<String>,
    },
    /// Messages that could not be handled (unreadable, over a limit,
    /// failing): list them, or retry or dismiss one.
    Quarantine {
        #[command(subcommand)]
        action: QuarantineAction,
    },
    /// One ticket's history (messages, drafts, notes, claims, actions).
    Show {
        /// The ticket's number (N or #N).
        #[arg(value_parser = triaged::control::parse_ticket, value_name = "N")]
        ticket: u64,
        /// The history as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Record facts staff know on ticket N; a ticket waiting for them moves on.
    Set {
        /// The ticket's number (N or #N).
        #[arg(value_parser = triaged::control::parse_ticket, value_name = "N")]
        ticket: u64,
        /// Facts the ticket's procedure declares (`facts` in its pack).
        #[arg(required = true, value_name = "KEY=VALUE")]
        facts: Vec<String>,
    },
    /// Staff carried out ticket N's staff action (refund, delete, lock...) and the procedure
    /// goes on, also when the user took it back meanwhile (see `not-done`); a ticket waiting
    /// for none is closed. As `!done N` in the channel.
    Done {
        /// The ticket's number (N or #N).
        #[arg(value_parser = triaged::control::parse_ticket, value_name = "N")]
        ticket: u64,
    },
    /// Staff had not carried out ticket N's staff action before the user took the request
    /// back: the ticket closes with nothing drafted, and a number allocated for it is
    /// documented as not used (put off: on hold; said again, closed). Said after a `done` of
    /// it while that draft waits unsent, it undoes the done. As `!notdone N` in the channel.
    NotDone {
        /// The ticket's number (N or #N).
        #[arg(value_parser = triaged::control::parse_ticket, value_name = "N")]
        ticket: u64,
    },
    /// Rewrite the store to hold only its live data (daemon stopped):
    /// smaller on disk, faster to open, less memory (docs/BENCHMARKS.md).
    Compact,
    /// Print a numbering series' documentation table (e.g. a20111128.3).
    Document {
        series: String,
        /// CSV instead of a Markdown table.
        #[arg(long)]
        csv: bool,
    },
}

#[derive(Subcommand)]
enum QuarantineAction {
    /// What is quarantined, and why (also while the daemon runs).
    List {
        /// One JSON object per entry.
        #[arg(long)]
        json: bool,
    },
    /// Read FOLDER's message UID again at the next start (daemon stopped).
    Retry {
        /// The watched folder, as `quarantine list` names it.
        folder: String,
        /// The message's IMAP UID in that folder.
        uid: u32,
    },
    /// Forget the entry; the message stays unhandled (daemon stopped).
    Dismiss {
        /// The watched folder, as `quarantine list` names it.
        folder: String,
        /// The message's IMAP UID in that folder.
        uid: u32,
    },
}

fn main() -> ExitCode {
    triaged::service::tune_allocator();
    let cli = Cli::parse();
    init_logging();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            // Our errors carry their causes in their message already;
            // the alternate form would repeat each one.
            let priority = if triaged::logging::to_journal() { "<3>" } else { "" };
            for line in format!("triaged: {e}").lines() {
                eprintln!("{priority}{line}");
            }
            ExitCode::from(2)
        }
    }
}

fn init_logging() {
    // A bare level ("debug") is triaged's own: the TLS and IMAP libraries'
    // debug lines would drown it. Directives ("info,rustls=debug") are
    // taken as written.
    let wanted = std::env::var("TRIAGED_LOG").unwrap_or_default();
    let directives = match wanted.trim() {
        "" => "info".to_string(),
        level if !level.contains(['=', ',']) => format!("info,triaged={level}"),
        written => written.to_string(),
    };
    let filter = tracing_subscriber::EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("triaged: TRIAGED_LOG={wanted:?} is not a log filter ({e}); logging at info");
        tracing_subscriber::EnvFilter::new("info")
    });
    let fmt = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false);
    if triaged::logging::to_journal() {
        fmt.with_ansi(false).event_format(triaged::logging::JournalFormat::default()).init();
    } else {
        fmt.with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr())).init();
    }
}

fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

/// The runtime of the commands other than `run`: one thread, so that they
/// work wherever a thread cannot be spared (a unit's TasksMax=).
fn command_runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))
}

fn real_main(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::CheckConfig => {
            let report = command_runtime()?.block_on(triaged::check::check(&cli.config));
            for line in report.problems.iter().chain(&report.notes) {
                println!("{line}");
            }
            if report.ok() {
                println!("{}", report.summary);
                Ok(ExitCode::SUCCESS)
            } else {
                println!("{}: {} problem{}; `triaged run` would refuse to start", cli.config.display(), report.problems.len(), if report.problems.len() == 1 { "" } else { "s" });
                Ok(ExitCode::from(1))
            }
        }
        Command::Run { once } => {
            let config = load(&cli.config)?;
            // Secrets and trust roots are read at each use; a missing one
            // stops the start here, with every one named, rather than at
            // the first login.
            let unreadable: Vec<String> = config
                .unreadable_secrets()
                .into_iter()
                .map(|u| u.problem.to_string())
                .chain(config.missing_files().iter().map(|p| p.to_string()))
                .collect();
            if !unreadable.is_empty() {
                anyhow::bail!("{}", unreadable.join("\n"));
            }
            let rt = triaged::service::runtime(config.workers)?;
            let cancel = CancellationToken::new();
            rt.block_on(async {
                tokio::spawn(stop_on_signal(cancel.clone()));
                triaged::daemon::run(config, once, cancel).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json, check } => {
            let config = load(&cli.config)?;
            let mut report = StatusReport::load(&config.store_path)?;
            report.irc_configured = Some(config.irc.is_some());
            // The procedures' clock, so that a rehearsal (`TRIAGED_NOW`)
            // ages a failing sync as it ages deadlines.
            let now = triaged::procedures::engine::Clock::now(&triaged::procedures::engine::SystemClock::from_config(&config)).timestamp();
            let problems = report.problems_at(now);
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            } else if check {
                for p in &problems {
                    writeln!(out, "{p}")?;
                }
                if problems.is_empty() {
                    writeln!(out, "ok")?;
                }
            } else {
                report.write_text(&mut out)?;
            }
            Ok(if check && !problems.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Classify { json, files } => {
            let config = load(&cli.config)?;
            let ok = command_runtime()?.block_on(async {
                let mut out = std::io::stdout();
                triaged::classify::cli::classify_files(&config, &files, json, &mut out).await
            })?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Learn { not, list, forget, json, archive, map, args } => {
            let task = triaged::learn::cli::task(not, list, forget, json, archive, &map, &args)?;
            let config = load(&cli.config)?;
            let ok = command_runtime()?.block_on(triaged::learn::cli::run(&config, task, &mut std::io::stdout().lock()))?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Reclassify { ticket, procedure } => {
            let req = triaged::control::reclassify_request(ticket, &procedure);
            staff_request(&cli.config, req)
        }
        Command::Set { ticket, facts } => match triaged::control::set_request(ticket, &facts) {
            Ok(req) => staff_request(&cli.config, req),
            Err(e) => {
                eprintln!("triaged: nothing recorded: {e}");
                Ok(ExitCode::from(if matches!(e, triaged::act::facts::FactError::NotKeyValue(_)) { 2 } else { 1 }))
            }
        },
        Command::Done { ticket } => staff_request(&cli.config, triaged::control::done_request(ticket)),
        Command::NotDone { ticket } => staff_request(&cli.config, triaged::control::not_done_request(ticket)),
        Command::Document { series, csv } => {
            let config = load(&cli.config)?;
            let table = triaged::document::load(&config, &series)?;
            let mut out = std::io::stdout().lock();
            if csv { table.write_csv(&mut out)? } else { table.write_markdown(&mut out)? }
            Ok(if table.rows.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Compact => {
            let config = load(&cli.config)?;
            triaged::store::set_cache_mib(config.store_cache_mib);
            match triaged::store::compact(&config.store_path) {
                Ok(c) => {
                    let mib = |b: u64| b as f64 / 1048576.0;
                    println!(
                        "store {} compacted: {:.1} MiB before, {:.1} MiB after ({} keys, {:.1} s)",
                        config.store_path.display(),
                        mib(c.before),
                        mib(c.after),
                        c.keys,
                        c.took.as_secs_f64()
                    );
                    Ok(ExitCode::SUCCESS)
                }
                Err(triaged::store::StoreError::Locked { path }) => {
                    eprintln!("triaged: store {} is in use: the daemon is running; stop it, compact, then start it again", path.display());
                    Ok(ExitCode::from(1))
                }
                Err(e) => {
                    eprintln!("triaged: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Quarantine { action } => {
            let config = load(&cli.config)?;
            let decision = match action {
                QuarantineAction::List { json } => {
                    let report = StatusReport::load(&config.store_path)?;
                    let mut out = std::io::stdout().lock();
                    if json {
                        serde_json::to_writer(&mut out, &report.quarantine)?;
                        writeln!(out)?;
                    } else {
                        for q in &report.quarantine {
                            let ticket = q.ticket.map(|n| format!(" [reply to ticket #{n}]")).unwrap_or_default();
                            let from = q.from.as_deref().unwrap_or("sender unknown");
                            writeln!(out, "{} {} ({from}){ticket}: {}", q.folder, q.uid.uid, q.reason)?;
                        }
                    }
                    return Ok(ExitCode::SUCCESS);
                }
                QuarantineAction::Retry { folder, uid } => (folder, uid, triaged::quarantine::Decision::Retry),
                QuarantineAction::Dismiss { folder, uid } => (folder, uid, triaged::quarantine::Decision::Dismiss),
            };
            match triaged::quarantine::decide(&config.store_path, &decision.0, decision.1, decision.2) {
                Ok(text) => {
                    println!("{text}");
                    Ok(ExitCode::SUCCESS)
                }
                Err(e) => {
                    eprintln!("triaged: {e}");
                    Ok(ExitCode::from(1))
                }
            }
        }
        Command::Show { ticket, json } => {
            let config = load(&cli.config)?;
            let req = triaged::control::show_request(ticket);
            let done = command_runtime()?.block_on(triaged::control::submit(&config, &req))?;
            let answer = match done {
                triaged::control::Submitted::Applied(a) | triaged::control::Submitted::Queued { answer: Some(a), .. } => a,
                queued @ triaged::control::Submitted::Queued { answer: None, .. } => {
                    eprintln!("triaged: {}", queued.report());
                    return Ok(ExitCode::from(1));
                }
            };
            if !answer.ok {
                eprintln!("triaged: {}", answer.text);
                return Ok(ExitCode::from(1));
            }
            let mut out = std::io::stdout().lock();
            if json {
                writeln!(out, "{}", answer.text)?;
            } else {
                let history: triaged::history::History = serde_json::from_str(&answer.text)?;
                history.write_text(&mut out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { json, files } => {
            let config = load(&cli.config)?;
            let ok = command_runtime()?.block_on(async {
                let mut out = std::io::stdout();
                triaged::verify::cli::verify_files(&config, &files, json, &mut out).await
            })?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

/// Applies a staff request, or queues it for the running daemon; exit 1
/// when refused.
fn staff_request(config: &std::path::Path, req: triaged::control::Request) -> anyhow::Result<ExitCode> {
    let config = load(config)?;
    let done = command_runtime()?.block_on(triaged::control::submit(&config, &req))?;
    println!("{}", done.report());
    Ok(if done.refused() { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// SIGTERM or SIGINT: finish the message in hand, log out, exit 0.
async fn stop_on_signal(cancel: CancellationToken) {
    use tokio::signal::unix::{SignalKind, signal};
    let (Ok(mut term), Ok(mut int)) = (signal(SignalKind::terminate()), signal(SignalKind::interrupt())) else {
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("stop requested; finishing the message in hand");
    cancel.cancel();
}
