//! Faults injected from outside: connections cut or stalled by a TCP proxy,
//! the IMAP server restarted. The daemon recovers by itself and loses
//! nothing.

mod support;

use std::time::Duration;

use support::harness::*;
use support::proxy::Proxy;

#[test]
fn a_cut_connection_is_reopened_and_nothing_is_lost() {
    let s = setup();
    let proxy = Proxy::start(s.dovecot.port);
    s.reconfigure("none", Some(proxy.port), "backoff_max_secs = 2", "");
    s.dovecot.deliver("INBOX", &mail(1, "before the cut", "one"));
    let child = spawn_daemon(&s);
    wait_until("the first draft", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 1);

    proxy.cut();
    s.dovecot.deliver("INBOX", &mail(2, "after the cut", "two"));
    wait_until("the draft after reconnecting", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 2);
    assert!(proxy.accepted() >= 2, "a new connection was made");

    let log = String::from_utf8_lossy(&sigterm(child).stderr).into_owned();
    assert!(log.contains("reconnecting in"), "{log}");
    let per = drafts_per_message(&s);
    assert_eq!(per.len(), 2);
    assert!(per.values().all(|&n| n == 1), "{per:?}");
}

#[test]
fn a_stalled_connection_is_abandoned_after_the_timeout() {
    let s = setup();
    let proxy = Proxy::start(s.dovecot.port);
    s.reconfigure("none", Some(proxy.port), "idle_renew_secs = 2\ntimeout_secs = 2\nbackoff_max_secs = 2", "");
    s.dovecot.deliver("INBOX", &mail(1, "first", "one"));
    let child = spawn_daemon(&s);
    wait_until("the first draft", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 1);

    // The open session goes silent, as behind a dead NAT entry.
    proxy.stall_open_connections();
    s.dovecot.deliver("INBOX", &mail(2, "while stalled", "two"));
    wait_until("the draft over a fresh connection", Duration::from_secs(30), || {
        s.dovecot.uids("Drafts").len() == 2
    });
    let log = String::from_utf8_lossy(&sigterm(child).stderr).into_owned();
    assert!(log.contains("timed out"), "{log}");
    assert_eq!(drafts_per_message(&s).len(), 2);
}

#[test]
fn dovecot_restart_is_survived() {
    let mut s = setup_custom("none", None, "backoff_max_secs = 2", "");
    s.dovecot.deliver("INBOX", &mail(1, "first", "one"));
    let child = spawn_daemon(&s);
    wait_until("the first draft", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 1);

    s.dovecot.restart();
    s.dovecot.deliver("INBOX", &mail(2, "after the restart", "two"));
    wait_until("the draft after the restart", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 2);
    sigterm(child);
    let per = drafts_per_message(&s);
    assert_eq!(per.len(), 2);
    assert!(per.values().all(|&n| n == 1), "{per:?}");
}

#[test]
fn twenty_sigkills_at_random_points_in_a_500_message_backlog_lose_and_duplicate_nothing() {
    use rand::Rng;
    let s = setup();
    let backlog: Vec<Vec<u8>> = (1..=500).map(|n| mail(n, &format!("request {n}"), "please help me with my account")).collect();
    s.dovecot.deliver_many("INBOX", &backlog);
    assert_eq!(s.dovecot.uids("INBOX").len(), 500);
    let mut rng = rand::thread_rng();
    let mut kills = 0;
    while kills < 20 {
        let mut child = spawn_daemon(&s);
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..400)));
        child.kill().unwrap();
        child.wait().unwrap();
        kills += 1;
    }
    run_once(&s);
    let per = drafts_per_message(&s);
    assert_eq!(per.len(), 500, "every message has a draft");
    let dup: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(dup.is_empty(), "duplicated drafts: {dup:?}");
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let mut numbers: Vec<u64> = v["tickets"].as_array().unwrap().iter().map(|t| t["ticket"].as_u64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=500).collect::<Vec<_>>(), "no ticket lost or duplicated");
    assert_eq!(v["pending_actions"], 0);
    assert!(v["quarantine"].as_array().unwrap().is_empty(), "nothing was wrongly quarantined: {}", v["quarantine"]);
}
