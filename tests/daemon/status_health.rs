//! `triaged status` as an operator reads it: while the daemon runs, from its
//! snapshot (last sync and backlog per folder, the staff channel's state as
//! ngIRCd goes away and comes back); while it is stopped, from the store
//! (due deadlines, quarantine). Real Dovecot and ngIRCd.


use std::process::Child;
use std::time::{Duration, Instant};

use serde_json::Value;
use crate::support::harness::*;
use crate::support::ircd::Ircd;
use triaged::store::{Deadline, Store, TicketId};

const T: Duration = Duration::from_secs(60);

fn status(s: &Setup) -> Value {
    try_status(s).unwrap_or_else(|e| panic!("status failed: {e}"))
}

/// Fails while the daemon holds the store and has not written a snapshot.
fn try_status(s: &Setup) -> Result<Value, String> {
    let out = triaged(&s.config, &["status", "--json"]);
    if !out.status.success() {
        return Err(String::from_utf8_lossy(&out.stderr).into_owned());
    }
    Ok(serde_json::from_slice(&out.stdout).unwrap())
}

fn status_text(s: &Setup) -> String {
    let out = triaged(&s.config, &["status"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn inbox(v: &Value) -> Option<&Value> {
    v["folders"].as_array()?.iter().find(|f| f["folder"] == "INBOX")
}

fn irc_state(v: &Value) -> &str {
    v["irc"]["state"].as_str().unwrap_or("")
}

/// Polls the snapshot until `f` holds for it; on timeout, stops the daemon
/// and shows the last snapshot and the daemon's log.
fn wait_status(s: &Setup, daemon: &mut Option<Child>, what: &str, mut f: impl FnMut(&Value) -> bool) -> Value {
    let deadline = Instant::now() + T;
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = try_status(s).unwrap_or_default();
        if last["snapshot"] == true && f(&last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = daemon.take().map(|c| String::from_utf8_lossy(&sigterm(c).stderr).into_owned());
    panic!("timed out waiting for {what}; last status {last:#}\ndaemon log:\n{}", log.unwrap_or_default());
}

#[test]
fn a_running_daemon_reports_backlog_sync_and_its_irc_connection() {
    let mut ircd = Ircd::start();
    let irc = format!(
        "[irc]\nserver = \"127.0.0.1\"\nport = {}\ntls = false\nnick = \"triaged\"\nchannel = \"#staff\"\nstaff = [\"alice\"]\n",
        ircd.port
    );
    let s = setup_with("none", &irc);
    const N: usize = 150;
    for n in 1..=N {
        s.dovecot.deliver("INBOX", &mail(n, "Password reset", "I forgot my password."));
    }
    let mut daemon = Some(spawn_daemon(&s));

    // The catch-up pass shows how much is waiting while it works through it.
    let mut seen = Vec::new();
    let v = wait_status(&s, &mut daemon, "the backlog handled", |v| {
        let backlog = inbox(v).and_then(|f| f["backlog"].as_u64());
        seen.extend(backlog);
        backlog == Some(0) && !inbox(v).unwrap()["last_sync"].is_null()
    });
    assert!(seen.iter().any(|&b| b > 0 && b <= N as u64), "no backlog seen while catching up: {seen:?}");
    assert_eq!(inbox(&v).unwrap()["last_uid"], N as u64);
    assert_eq!(v["tickets"].as_array().unwrap().len(), N);

    let v = wait_status(&s, &mut daemon, "the channel joined", |v| irc_state(v) == "joined");
    assert_eq!(v["irc"]["detail"], "#staff");
    let joined_since = v["irc"]["since"].as_str().unwrap().to_string();

    // The snapshot follows the connection without waiting for mail.
    ircd.stop();
    let v = wait_status(&s, &mut daemon, "the channel lost", |v| irc_state(v) == "disconnected");
    assert_ne!(v["irc"]["since"].as_str().unwrap(), joined_since);
    assert!(!v["irc"]["detail"].as_str().unwrap().is_empty(), "{v}");
    let text = status_text(&s);
    assert!(text.contains("(the daemon is running; snapshot from"), "{text}");
    assert!(text.contains("IRC: disconnected since"), "{text}");
    assert!(text.contains("backlog 0"), "{text}");

    ircd.start_again();
    wait_status(&s, &mut daemon, "the channel joined again", |v| irc_state(v) == "joined");
    let text = status_text(&s);
    assert!(text.contains("IRC: joined since"), "{text}");
    sigterm(daemon.take().unwrap());
}

#[test]
fn a_stopped_daemon_reports_due_deadlines_from_the_store() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Password reset", "I forgot my password."));
    s.dovecot.deliver("INBOX", b"\x00\x01 not mail\r\n");
    run_once(&s);

    // The deadline index keeps milliseconds.
    let now = jiff::Timestamp::from_millisecond(jiff::Timestamp::now().as_millisecond()).unwrap();
    let overdue = now - jiff::SignedDuration::from_hours(2);
    let later = now + jiff::SignedDuration::from_hours(48);
    {
        let store = Store::open(&s.dir.path().join("store")).unwrap();
        store
            .update_ticket(TicketId(1), None, "test: deadlines armed", None, |t| {
                t.deadlines = vec![
                    Deadline { name: "reminder".into(), due: overdue },
                    Deadline { name: "close".into(), due: later },
                ];
                Vec::new()
            })
            .unwrap();
    }

    let v = status(&s);
    assert_eq!(v["snapshot"], false);
    let due = v["deadlines"]["due"].as_array().unwrap();
    assert_eq!(due.len(), 1, "{v}");
    assert_eq!(due[0]["ticket"], 1);
    assert_eq!(due[0]["deadline"], "reminder");
    assert_eq!(due[0]["at"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap(), overdue);
    assert_eq!(v["deadlines"]["next"].as_str().unwrap().parse::<jiff::Timestamp>().unwrap(), overdue);
    assert_eq!(v["quarantine"].as_array().unwrap().len(), 1);
    assert!(v["irc"].is_null());
    assert!(inbox(&v).unwrap()["backlog"].is_null(), "no backlog known without the daemon");

    let text = status_text(&s);
    assert!(text.contains("Deadlines: 1 due, next"), "{text}");
    assert!(text.contains("#1     reminder"), "{text}");
    assert!(text.contains("IRC: not configured\n"), "no [irc] in the config, whether the daemon runs or not: {text}");
    assert!(text.contains("Quarantine: 1"), "{text}");
}

/// A review found `last sync never` once a run could not reach the server,
/// the moment the last good sync matters most, and the set-aside breakdown
/// empty while the daemon ran. A good pass, then a daemon started while
/// nothing listens on the server's port: while it runs and once stopped.
#[test]
fn a_daemon_that_cannot_reach_the_server_keeps_the_last_good_sync_and_says_why() {
    let s = setup_custom("none", None, "backoff_max_secs = 1", "");
    s.dovecot.deliver("INBOX", &mail(1, "Password reset", "I forgot my password."));
    s.dovecot.deliver(
        "INBOX",
        b"From: User 2 <user2@example.net>\r\nTo: support@example.org\r\nSubject: Out of office\r\nMessage-ID: <m2@example.net>\r\nAuto-Submitted: auto-replied\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\n\r\nI am away until Monday.\r\n",
    );
    run_once(&s);
    let synced = inbox(&status(&s)).unwrap()["last_sync"].as_str().unwrap().to_string();
    const ASIDE: &str = "(no draft; `triaged reclassify N PROCEDURE` answers one): 1 (auto-reply 1)\n";
    assert!(status_text(&s).contains(ASIDE), "{}", status_text(&s));

    // The server is down: the new daemon's last sync is an earlier run's,
    // and status says why there is none since.
    let closed = crate::support::free_port();
    s.reconfigure("none", Some(closed), "backoff_max_secs = 1", "");
    let mut daemon = Some(spawn_daemon(&s));
    let v = wait_status(&s, &mut daemon, "the new daemon's failure", |v| !inbox(v).unwrap()["failing"].is_null());
    assert_eq!(inbox(&v).unwrap()["last_sync"], synced.as_str(), "{v}");
    let text = status_text(&s);
    assert!(text.contains(&format!("last sync {synced} (none since the daemon started)")), "{text}");
    assert!(text.contains(&format!("    sync failing since {}: cannot connect to 127.0.0.1:{closed}", inbox(&v).unwrap()["failing"]["since"].as_str().unwrap())), "{text}");
    assert!(text.contains(ASIDE), "the same breakdown as when stopped: {text}");
    // A monitor hears of it once it has lasted a minute (here the
    // procedures' clock, a minute ahead), not during a reconnect.
    let check = triaged(&s.config, &["status", "--check"]);
    assert!(!String::from_utf8_lossy(&check.stdout).contains("sync failing"), "{check:?}");
    // (A few seconds more: `since` is kept to the second, rounded.)
    let ahead = (jiff::Timestamp::now() + triaged::status::SYNC_FAILING_ALERT + jiff::SignedDuration::from_secs(5)).to_string();
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .args(["--config", s.config.to_str().unwrap(), "status", "--check"])
        .env("TRIAGED_NOW", &ahead)
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&check.stdout).contains("INBOX: sync failing since "), "{check:?} {}", status(&s));

    // Stopped: still the good sync, and the failure it stopped with.
    sigterm(daemon.take().unwrap());
    let v = status(&s);
    assert_eq!(inbox(&v).unwrap()["last_sync"], synced.as_str(), "{v}");
    let text = status_text(&s);
    assert!(text.contains(&format!("last sync {synced} (daemon not running)")), "{text}");
    assert!(text.contains("    sync was failing when the daemon stopped (since "), "{text}");
}
