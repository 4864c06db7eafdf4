//! Fills a triaged store with a history of N tickets, directly through the
//! store API (no IMAP), for scripts/bench --history: the same transitions
//! the daemon makes for each request (ticket opened with its draft planned
//! and a staff notice queued, the draft appended, the notice posted), with
//! staff-facing data of the size the daemon writes; every tenth ticket gets
//! a reply, a third are claimed, most are closed, spread over the last two
//! years. The tickets belong to a folder the benchmark does not watch
//! ("Archive"), so the daemon's own folders start empty.
//!
//! Usage: bench_history --store PATH --n N [--rss] [--retention-days D]
//! --rss: after the fill, open the store again, read it as the daemon
//! does at start (a snapshot) and print the resident memory.
//! --retention-days D: then drop the content of tickets closed more than
//! D days ago as the daemon would (counting the fill's dates: the
//! benchmark backdates them), and print the store's size before and
//! after, and after a reopen.

use std::path::PathBuf;
use std::time::Instant;

use serde_json::json;
use triaged::classify::Classification;
use triaged::store::{Action, Intake, Outgoing, Store, Ticket, TicketId, TicketNotes, Uid};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut store_path = None;
    let mut n = 100_000u64;
    let mut rss = false;
    let mut retention_days: Option<u64> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--store" => store_path = args.next().map(PathBuf::from),
            "--n" => n = args.next().ok_or("--n needs a number")?.parse()?,
            "--rss" => rss = true,
            "--retention-days" => retention_days = Some(args.next().ok_or("--retention-days needs a number")?.parse()?),
            _ => return Err(format!("unknown argument {a}; usage: bench_history --store PATH --n N [--rss]").into()),
        }
    }
    let store_path = store_path.ok_or("--store PATH is required")?;
    let t0 = Instant::now();
    let store = Store::open(&store_path)?;
    let first = store.next_ticket_id()?.0;
    let now = jiff::Timestamp::now();
    let two_years = jiff::SignedDuration::from_hours(2 * 365 * 24);
    for k in 0..n {
        let i = first + k;
        let intake = Intake {
            folder: "Archive".into(),
            uid: Uid { validity: 1, uid: i as u32 },
            message_id: format!("<{i}.history@example.org>"),
        };
        let sender = format!("user{}@example.org", i % 2000);
        let mut t = Ticket::new(TicketId(i), &intake, &format!("User {} <{sender}>", i % 2000), "Please delete my account", "delete-account");
        t.sender_email = sender.clone();
        // Oldest first, evenly over two years.
        t.created = now - two_years + jiff::SignedDuration::from_secs((two_years.as_secs() * k as i64) / n.max(1) as i64);
        t.step = Some("confirm".into());
        t.notes = staff_notes(&sender);
        let draft = Action::AppendDraft {
            ticket: t.id,
            folder: "Archive".into(),
            mailbox: "Drafts".into(),
            message_id: format!("<draft.{i}@triaged.example.org>"),
            bytes: draft_bytes(i, &sender),
        };
        let notice = Outgoing { sinks: vec!["irc".into()], notice: json!(format!("#{i}: new ticket from {sender}: delete-account; dkim pass")) };
        let (t, planned) = store.open_ticket(&t, &intake, &[draft], Some(&notice))?;
        let done: Vec<_> = planned.iter().map(|(id, _)| (*id, t.id, format!("draft <draft.{i}@triaged.example.org> appended to Drafts"))).collect();
        store.complete_actions(&done)?;
        if i % 10 == 0 {
            let reply = Intake { folder: "Archive".into(), uid: Uid { validity: 1, uid: (n + i) as u32 }, message_id: format!("<{i}.reply@example.org>") };
            store.update_ticket(t.id, Some(&reply), "reply: confirmed", None, |t| {
                t.step = Some("delete".into());
                Vec::new()
            })?;
        }
        if i % 3 == 0 {
            store.claim(t.id, "alice", t.created)?;
        }
        // The newest 2 % are still open.
        if k < n - n / 50 {
            let nick = if i % 3 == 0 { "alice" } else { "bob" };
            store.done(t.id, nick, t.created + jiff::SignedDuration::from_hours(24))?;
        }
        // The notices went out long ago.
        if k % 1000 == 999 || k + 1 == n {
            let seqs: Vec<u64> = store.ready_notices("irc", usize::MAX)?.into_iter().map(|(s, _)| s).collect();
            store.notices_done("irc", &seqs)?;
        }
    }
    store.persist()?;
    let stale: Vec<_> = store.claim_keywords_to_sync("Archive")?;
    for (t, _, want) in stale {
        store.set_claim_keyword(t.id, want.as_deref())?;
    }
    drop(store);
    eprintln!(
        "{n} tickets written in {:.1} s; store {:.1} MiB on disk",
        t0.elapsed().as_secs_f64(),
        dir_bytes(&store_path) as f64 / 1048576.0
    );
    if rss {
        let t1 = Instant::now();
        let store = Store::open_waiting(&store_path, std::time::Duration::from_secs(5))?;
        let opened = t1.elapsed();
        let report = triaged::status::StatusReport::from_store(&store, &Default::default(), triaged::status::TicketList::Newest(triaged::status::SNAPSHOT_TICKETS))?;
        eprintln!(
            "reopened in {} ms, snapshot of {} tickets in {} ms; resident {} KiB",
            opened.as_millis(),
            report.tickets.len(),
            (t1.elapsed() - opened).as_millis(),
            vm_rss_kib()
        );
    }
    if let Some(days) = retention_days {
        prune(&store_path, days, n)?;
    }
    Ok(())
}

/// Drops the content of the tickets closed more than `days` ago, as the
/// daemon's first pass after retention is turned on would.
fn prune(store_path: &std::path::Path, days: u64, n: u64) -> Result<(), Box<dyn std::error::Error>> {
    let store = Store::open_waiting(store_path, std::time::Duration::from_secs(5))?;
    let before = dir_bytes(store_path);
    let t0 = Instant::now();
    let dropped = store.drop_old_content(std::time::Duration::from_secs(days * 86_400), jiff::Timestamp::now())?.tickets;
    let took = t0.elapsed();
    let after = dir_bytes(store_path);
    drop(store);
    let store = Store::open_waiting(store_path, std::time::Duration::from_secs(5))?;
    store.persist()?;
    drop(store);
    eprintln!(
        "content of {dropped} of {n} tickets dropped in {:.1} s; store {:.1} MiB before, {:.1} MiB after, {:.1} MiB after a reopen",
        took.as_secs_f64(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        dir_bytes(store_path) as f64 / 1048576.0
    );
    Ok(())
}

/// What the daemon keeps for staff about a request: identity report,
/// classification reasons, sender and redacted subject (about 1 KiB).
fn staff_notes(sender: &str) -> TicketNotes {
    TicketNotes {
        sender_name: Some("User".into()),
        sender_email: Some(sender.into()),
        subject: Some("Please delete my account".into()),
        signature: Some("The support team".into()),
        classification: Some(Classification {
            procedure: "delete-account".into(),
            score: 3.5,
            rules: vec!["delete-account/subject".into(), "delete-account/removal".into(), "delete-account/account".into()],
            words: vec!["delete-account/subject: \"delete my account\"".into()],
            ..Classification::default()
        }),
        credential_kinds: Some(Vec::new()),
        age_blocks: Some(0),
        identity_summary: Some(format!("verified: dkim pass (example.org, rsa-2048), {sender} is the registered address of account user")),
        ..TicketNotes::default()
    }
}

fn draft_bytes(i: u64, sender: &str) -> Vec<u8> {
    let mut d = format!(
        "From: Support <support@example.org>\r\nTo: {sender}\r\nSubject: Re: Please delete my account\r\nMessage-ID: <draft.{i}@triaged.example.org>\r\nIn-Reply-To: <{i}.history@example.org>\r\nReferences: <{i}.history@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
    );
    for _ in 0..12 {
        d.push_str("Thank you for your request. Before we delete the account we need you to confirm it from the address on file.\r\n");
    }
    d.into_bytes()
}

fn dir_bytes(p: &std::path::Path) -> u64 {
    let Ok(rd) = std::fs::read_dir(p) else { return 0 };
    rd.flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_bytes(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

fn vm_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}
