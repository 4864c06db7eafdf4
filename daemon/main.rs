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
    /// Validate the config; print every problem with file:line.
    CheckConfig,
    /// Classify .eml files by procedure, offline.
    Classify {
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Verify the sender identity of .eml files, offline.
    Verify {
        #[arg(long)]
        json: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Tickets, pending work and quarantine.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Move ticket N to another procedure; the draft of its first step follows.
    Reclassify {
        #[arg(value_parser = triaged::control::parse_ticket)]
        ticket: u64,
        procedure: String,
    },
    /// Record facts staff know on ticket N; a ticket waiting for them moves on.
    Set {
        #[arg(value_parser = triaged::control::parse_ticket)]
        ticket: u64,
        #[arg(required = true, value_name = "KEY=VALUE")]
        facts: Vec<String>,
    },
    /// Staff carried out ticket N's staff action (refund, delete, lock...); the procedure goes on.
    Done {
        #[arg(value_parser = triaged::control::parse_ticket)]
        ticket: u64,
    },
    /// Print a numbering series' documentation table (e.g. a20111128.3).
    Document {
        series: String,
        /// CSV instead of a Markdown table.
        #[arg(long)]
        csv: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match real_main(cli) {
        Ok(code) => code,
        Err(e) => {
            // Our errors carry their causes in their message already;
            // the alternate form would repeat each one.
            eprintln!("triaged: {e}");
            ExitCode::from(2)
        }
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("TRIAGED_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
}

fn load(path: &std::path::Path) -> anyhow::Result<Config> {
    Ok(Config::load(path)?)
}

fn real_main(cli: Cli) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Runtime::new().map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    match cli.command {
        Command::CheckConfig => match Config::load(&cli.config) {
            Ok(c) => match triaged::classify::cli::check_pack(&c) {
                Ok(()) => {
                    println!("{}: ok (imap {}:{}, pack {})", cli.config.display(), c.imap.host, c.imap.port, c.procedures.pack);
                    Ok(ExitCode::SUCCESS)
                }
                Err(problems) => {
                    for p in problems {
                        println!("{p}");
                    }
                    Ok(ExitCode::from(1))
                }
            },
            Err(e) => {
                println!("{e}");
                Ok(ExitCode::from(1))
            }
        },
        Command::Run { once } => {
            let config = load(&cli.config)?;
            let cancel = CancellationToken::new();
            rt.block_on(async {
                tokio::spawn(stop_on_signal(cancel.clone()));
                triaged::daemon::run(config, once, cancel).await
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Status { json } => {
            let config = load(&cli.config)?;
            let report = StatusReport::load(&config.store_path)?;
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer(&mut out, &report)?;
                writeln!(out)?;
            } else {
                report.write_text(&mut out)?;
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Classify { json, files } => {
            let config = load(&cli.config)?;
            let ok = triaged::classify::cli::classify_files(&config, &files, json, &mut std::io::stdout().lock())?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Reclassify { ticket, procedure } => {
            let req = triaged::control::reclassify_request(ticket, &procedure);
            staff_request(&rt, &cli.config, req)
        }
        Command::Set { ticket, facts } => match triaged::control::set_request(ticket, &facts) {
            Ok(req) => staff_request(&rt, &cli.config, req),
            Err(e) => {
                eprintln!("triaged: nothing recorded: {e}");
                Ok(ExitCode::from(if matches!(e, triaged::act::facts::FactError::NotKeyValue(_)) { 2 } else { 1 }))
            }
        },
        Command::Done { ticket } => staff_request(&rt, &cli.config, triaged::control::done_request(ticket)),
        Command::Document { series, csv } => {
            let config = load(&cli.config)?;
            let table = triaged::document::load(&config, &series)?;
            let mut out = std::io::stdout().lock();
            if csv { table.write_csv(&mut out)? } else { table.write_markdown(&mut out)? }
            Ok(if table.rows.is_empty() { ExitCode::from(1) } else { ExitCode::SUCCESS })
        }
        Command::Verify { json, files } => {
            let config = load(&cli.config)?;
            let ok = rt.block_on(async {
                let mut out = std::io::stdout();
                triaged::verify::cli::verify_files(&config, &files, json, &mut out).await
            })?;
            Ok(if ok { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
    }
}

/// Applies a staff request, or queues it for the running daemon; exit 1
/// when refused.
fn staff_request(rt: &tokio::runtime::Runtime, config: &std::path::Path, req: triaged::control::Request) -> anyhow::Result<ExitCode> {
    let config = load(config)?;
    let done = rt.block_on(triaged::control::submit(&config, &req))?;
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
