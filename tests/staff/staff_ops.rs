//! Staff acting on tickets while triaged runs and while it is stopped:
//! `triaged reclassify`, `set` and `done` on the command line (straight to
//! the store when it is free, through the request spool when the daemon
//! holds it), and `!set` in a real ngIRCd channel, with the drafts read
//! back from a real Dovecot.


use std::path::Path;
use std::process::{Child, Output};
use std::time::Duration;

use crate::support::harness::*;
use crate::support::ircd::{IrcClient, Ircd};
use triaged::staff::lines;
use triaged::store::TicketId;
use triaged::store::claims::DoneOutcome;

const T: Duration = Duration::from_secs(30);
const CH: &str = "#support-staff";
const DELETE_ME: &str = "I do not use it any more, please delete my account.";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The command line, off the async runtime (it may wait for the daemon).
async fn cli(config: &Path, args: &[&str]) -> Output {
    let config = config.to_path_buf();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        triaged(&config, &args)
    })
    .await
    .unwrap()
}

/// SIGTERM, then the daemon's log.
fn stop(child: Child) -> String {
    stderr(&sigterm(child))
}

/// Today plus 14 days in UTC (the test config's time zone), as the
/// CAcert initial mail writes it.
fn in_14_days() -> String {
    let today = jiff::Timestamp::now().to_zoned(jiff::tz::TimeZone::UTC).date();
    today.checked_add(jiff::Span::new().days(14)).unwrap().to_string()
}

/// Starts the daemon and waits until it has synced once, so it holds the
/// store. The old snapshot goes first: one written by an earlier `run
/// --once` is dated by its second rounded up, which can be later than this
/// call, so a date alone does not tell whose snapshot it is.
async fn spawn_daemon_synced(s: &Setup) -> Child {
    let snapshot = s.dir.path().join("store").join("status.json");
    match std::fs::remove_file(&snapshot) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => panic!("{}: {e}", snapshot.display()),
    }
    let mut child = spawn_daemon(s);
    let deadline = tokio::time::Instant::now() + T;
    while !snapshot.exists() {
        assert_running(&mut child);
        assert!(tokio::time::Instant::now() < deadline, "the daemon did not sync");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    child
}

fn spool_files(s: &Setup) -> Vec<String> {
    let dir = s.dir.path().join("store").join("requests");
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(Result::ok).filter(|e| e.path().is_file()).map(|e| e.file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread")]
async fn reclassify_with_the_daemon_stopped_drafts_on_the_next_start() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);

    let out = cli(&s.config, &["reclassify", "1", "account-rename"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    assert!(said.starts_with("applied directly (the daemon is not running): #1 is now account-rename/"), "{said}");
    assert!(said.contains("new draft planned") && said.contains("when the daemon next starts"), "{said}");
    assert_eq!(drafts(&s).len(), 1, "the draft waits for the daemon");

    run_once(&s);
    let d = drafts(&s);
    assert_eq!(d.len(), 1, "the stale deletion draft is withdrawn");
    assert!(d[0].subject.starts_with("Re: [#1]"), "the draft belongs to ticket 1");
    assert!(d[0].text.to_lowercase().contains("renaming accounts is not available"), "the rename answer");

    // Refusals: exit 1 and a reason; usage and config errors: exit 2.
    let out = cli(&s.config, &["reclassify", "9", "account-rename"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("there is no ticket #9"), "{}", stdout(&out));
    let out = cli(&s.config, &["reclassify", "1", "no-such-procedure"]).await;
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).contains("no procedure \"no-such-procedure\""), "{}", stdout(&out));
    let out = cli(&s.config, &["reclassify", "zero", "account-rename"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let out = cli(&s.dir.path().join("missing.toml"), &["reclassify", "1", "account-rename"]).await;
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));

    // Nothing refused planned a draft.
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1);

    // A request the daemon did not pick up before it stopped is applied
    // by the next pass, before the folders are synced.
    let spool = s.dir.path().join("store").join("requests");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(
        spool.join("00000000000000000005-left.json"),
        br#"{"action":"reclassify","ticket":1,"procedure":"account-deletion","by":"bob"}"#,
    )
    .unwrap();
    let out = run_once(&s);
    assert!(stderr(&out).contains("#1 is now account-deletion/"), "{}", stderr(&out));
    let d = drafts(&s);
    assert_eq!(d.len(), 1, "the rename draft is stale in turn");
    assert!(d[0].text.contains("https://meta.sr.ht"), "the deletion answer again: {}", d[0].text);
    assert!(spool_files(&s).is_empty(), "{:?}", spool_files(&s));
}

#[tokio::test(flavor = "multi_thread")]
async fn reclassify_while_the_daemon_runs_goes_through_the_spool() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    let child = spawn_daemon(&s);
    wait_drafts(&s, 1).await;

    let out = cli(&s.config, &["reclassify", "#1", "account-rename"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let said = stdout(&out);
    assert!(said.starts_with("queued for the running daemon, which answered: #1 is now account-rename/"), "{said}");
    // The daemon appends the rename answer and withdraws the stale one.
    wait_until("the rename answer alone", T, || {
        let d = drafts(&s);
        d.len() == 1 && d[0].text.to_lowercase().contains("renaming accounts is not available")
    });

    let out = cli(&s.config, &["reclassify", "9", "account-rename"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("there is no ticket #9"), "{}", stdout(&out));

    // A file that is not a request is put aside, and the next one still runs.
    let spool = s.dir.path().join("store").join("requests");
    std::fs::write(spool.join("00000000000000000001-bad.json"), b"{\"action\":\"drop_tables\"}").unwrap();
    let out = cli(&s.config, &["reclassify", "1", "account-deletion"]).await;
    assert!(stdout(&out).contains("#1 is now account-deletion/"), "{}", stdout(&out));
    wait_until("the deletion answer alone", T, || {
        let d = drafts(&s);
        d.len() == 1 && d[0].text.contains("https://meta.sr.ht")
    });
    assert!(spool.join("rejected").join("00000000000000000001-bad.json").exists());
    assert!(spool_files(&s).is_empty(), "applied requests are removed: {:?}", spool_files(&s));

    let log = stop(child);
    assert!(log.contains("00000000000000000001-bad.json: not a request"), "{log}");
    assert!(log.contains("#1 is now account-rename"), "{log}");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_moves_a_cacert_deletion_from_facts_needed_to_the_initial_mail() {
    let s = setup_pack("cacert", "");
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    run_once(&s);
    assert!(drafts(&s).is_empty(), "the procedure waits for staff at facts-needed");

    // Identity is never set by hand, and nothing else of the request is kept.
    let out = cli(&s.config, &["set", "1", "assurances=0", "verified=true"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stderr(&out).contains("identity can never be set by hand"), "{}", stderr(&out));
    let out = cli(&s.config, &["set", "1", "sender_email=x@example.org"]).await;
    assert_eq!(out.status.code(), Some(1));
    let out = cli(&s.config, &["set", "1", "assurances"]).await;
    assert_eq!(out.status.code(), Some(2), "not key=value is a usage error");

    // One fact of two: recorded, the ticket still waits.
    let out = cli(&s.config, &["set", "1", "assurances=0"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_eq!(
        stdout(&out).trim(),
        "applied directly (the daemon is not running): #1 assurances=0 recorded; at step facts-needed"
    );

    // The second, with the daemon running: through the spool, and the
    // procedure moves on to the initial mail with its 14-day deadline.
    let mut child = spawn_daemon_synced(&s).await;
    let out = cli(&s.config, &["set", "9", "assurances=0"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("there is no ticket #9"), "{}", stdout(&out));
    assert_running(&mut child);
    let out = cli(&s.config, &["set", "1", "active_certificates=0"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    assert_running(&mut child);
    assert_eq!(
        stdout(&out).trim(),
        "queued for the running daemon, which answered: #1 active_certificates=0 recorded; now at step initial, draft planned"
    );
    wait_drafts(&s, 1).await;
    let d = drafts(&s);
    assert!(d[0].subject.starts_with("Re: [#1]"), "{}", d[0].subject);
    assert!(d[0].text.contains(&format!("deadline set to: {}", in_14_days())), "{}", d[0].text);
    stop(child);

    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"][0]["state"], "waiting", "{v}");
    assert_eq!(v["tickets"][0]["drafts"], 1, "{v}");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_from_the_staff_channel() {
    let ircd = Ircd::start();
    let s = setup_pack("cacert", &crate::support::ircd::daemon_irc_section(&ircd, CH));
    let mut alice = IrcClient::connect(ircd.port, "alice").await;
    alice.join(CH).await;
    let mut mallory = IrcClient::connect(ircd.port, "mallory").await;
    mallory.join(CH).await;
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    let child = spawn_daemon(&s);
    let notice = alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    assert!(notice.contains("account-deletion/facts-needed"), "{notice}");

    mallory.say(CH, "!set 1 assurances=0 active_certificates=0").await;
    let no = mallory.said_by("triaged", CH, |t| t.starts_with("mallory:"), T).await;
    assert!(no.contains("!set is for support staff only"), "{no}");

    alice.say(CH, "!set 1 verified=true").await;
    let no = alice.said_by("triaged", CH, |t| t.starts_with("alice:"), T).await;
    assert!(no.contains("identity can never be set by hand"), "{no}");

    alice.say(CH, "!set 9 assurances=0").await;
    alice.said_by("triaged", CH, |t| t == "alice: there is no ticket #9", T).await;

    // The pack's checks, as on the command line: a misspelt key, a word for a count.
    alice.say(CH, "!set 1 asurances=0").await;
    let no = alice.said_by("triaged", CH, |t| t.starts_with("#1: nothing recorded"), T).await;
    assert!(no.ends_with("did you mean assurances?"), "{no}");
    alice.say(CH, "!set 1 assurances=none").await;
    let no = alice.said_by("triaged", CH, |t| t.starts_with("#1: nothing recorded: assurances:"), T).await;
    assert!(no.contains("expected a whole number"), "{no}");

    alice.say(CH, "!set 1 assurances=0 active_certificates=0").await;
    let done = alice.said_by("triaged", CH, |t| t.starts_with("#1 ") && t.contains("recorded"), T).await;
    assert_eq!(done, "#1 assurances=0 active_certificates=0 recorded; now at step initial, draft planned");
    wait_drafts(&s, 1).await;
    assert_eq!(drafts(&s).len(), 1, "mallory's attempt planned nothing");

    // The command line's answer reaches the channel too.
    let out = cli(&s.config, &["set", "1", "last_certificate_expiry=2020-01-31"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    let line = alice.said_by("triaged", CH, |t| t.contains("last_certificate_expiry"), T).await;
    assert_eq!(line, "#1 last_certificate_expiry=2020-01-31 recorded; at step initial");
    stop(child);
}

#[tokio::test(flavor = "multi_thread")]
async fn set_refuses_a_key_the_procedure_does_not_declare_and_names_the_one_meant() {
    let s = setup_pack("cacert", "");
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    run_once(&s);

    let out = cli(&s.config, &["set", "1", "asurances=0"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(
        stdout(&out).trim(),
        "applied directly (the daemon is not running): #1: nothing recorded: asurances is not a fact of account-deletion (it declares assurances, active_certificates, last_certificate_expiry); did you mean assurances?"
    );
    // One key refused, none recorded: the good one beside it waits too.
    let out = cli(&s.config, &["set", "1", "active_certificates=0", "username=alice"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("(it declares assurances, active_certificates, last_certificate_expiry)\n"), "nothing close: {}", stdout(&out));
    let shown = stdout(&triaged(&s.config, &["show", "1"]));
    assert!(!shown.contains("recorded by"), "{shown}");
}

#[tokio::test(flavor = "multi_thread")]
async fn set_refuses_text_for_a_fact_the_procedure_compares_as_a_number() {
    let s = setup_pack("cacert", "");
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    run_once(&s);

    let out = cli(&s.config, &["set", "1", "assurances=none", "active_certificates=0"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert_eq!(
        stdout(&out).trim(),
        "applied directly (the daemon is not running): #1: nothing recorded: assurances: expected a whole number (account-deletion compares it as one), found \"none\""
    );
    // A date is compared as a date, not as a number; the ticket still
    // waits for the counts.
    let out = cli(&s.config, &["set", "1", "last_certificate_expiry=2020-01-31"]).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).ends_with("#1 last_certificate_expiry=2020-01-31 recorded; at step facts-needed\n"), "{}", stdout(&out));
}

#[tokio::test(flavor = "multi_thread")]
async fn done_on_the_command_line_closes_a_ticket_waiting_for_no_staff_action_as_done_in_the_channel_does() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    run_once(&s);
    assert_eq!(drafts(&s).len(), 1, "the ticket waits for the sender's proof, not for staff");

    let out = cli(&s.config, &["done", "1"]).await;
    assert_eq!(out.status.code(), Some(0), "{}{}", stdout(&out), stderr(&out));
    // `!done 1`'s own line, never "staff action done".
    let by = triaged::control::command_line_user();
    let closed = lines::done(&by, TicketId(1), &DoneOutcome::Done(None), jiff::Timestamp::now());
    assert_eq!(
        stdout(&out).trim(),
        format!("applied directly (the daemon is not running): {closed}; {}", lines::closed_withdrawn(TicketId(1), 1))
    );
    run_once(&s);
    assert!(drafts(&s).is_empty(), "the closed ticket's draft is withdrawn");

    let out = cli(&s.config, &["done", "1"]).await;
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains(&lines::done(&by, TicketId(1), &DoneOutcome::AlreadyClosed, jiff::Timestamp::now())), "{}", stdout(&out));
}

/// A `done` meant for a staff action that was already recorded (two
/// `!done` in the channel before the daemon applied the first) records
/// nothing and closes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn a_staff_action_done_twice_is_not_taken_for_a_close() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", DELETE_ME));
    run_once(&s);
    let spool = s.dir.path().join("store").join("requests");
    std::fs::create_dir_all(&spool).unwrap();
    std::fs::write(spool.join("00000000000000000001-done.json"), br#"{"action":"staff_done","ticket":1,"by":"bob"}"#).unwrap();
    let log = stderr(&run_once(&s));
    assert!(log.contains("#1 waits for no staff action (step "), "{log}");
    assert!(log.contains("nothing recorded as done"), "{log}");
    assert_ne!(s.ticket(1)["state"], "closed");
    assert_eq!(drafts(&s).len(), 1);
}
