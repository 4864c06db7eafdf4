//! The backbone against a real Dovecot: mail in INBOX becomes exactly one
//! threaded draft in Drafts, whatever happens to the daemon in between.


use std::time::{Duration, Instant};

use crate::support::harness::*;

#[test]
fn drafts_are_threaded_replies_and_non_ascii_survives() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Please delete my account", "Hi, please delete it."));
    s.dovecot.deliver(
        "INBOX",
        "From: =?utf-8?q?J=C3=BCrgen_M=C3=BCller?= <jm@example.net>\r\nReply-To: Jürgen <reply@example.net>\r\nSubject: =?utf-8?q?Konto_l=C3=B6schen_=E2=9C=93?=\r\nMessage-ID: <m2@example.net>\r\nReferences: <earlier@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nBitte lösche mein Konto. Grüße\r\n"
            .as_bytes(),
    );
    // A rename changes nothing on an account: its reply goes where a mail
    // client would send it.
    s.dovecot.deliver(
        "INBOX",
        b"From: Kim <kim@example.net>\r\nReply-To: Kim at work <kim@work.example>\r\nSubject: rename\r\nMessage-ID: <m3@example.net>\r\n\r\nCan you rename my account from ~kim to ~kimberly?\r\n",
    );
    run_once(&s);

    let d = drafts(&s);
    assert_eq!(d.len(), 3, "one draft per message");
    let first = d.iter().find(|m| m.in_reply_to == ["m1@example.net"]).unwrap();
    assert_eq!(first.subject, "Re: [#1] Please delete my account");
    assert_eq!(first.references, vec!["m1@example.net"]);
    assert_eq!(first.from[0].email, "support@example.org");
    let raw1 = String::from_utf8_lossy(first.raw()).into_owned();
    assert!(raw1.contains("To: \"User 1\" <user1@example.net>") || raw1.contains("To: User 1 <user1@example.net>"), "{raw1}");
    assert!(first.text.contains("Hi User 1,"), "{}", first.text);
    assert!(first.date.is_some());
    assert!(first.message_id.ends_with("@example.org"));

    let second = d.iter().find(|m| m.in_reply_to == ["m2@example.net"]).unwrap();
    assert_eq!(second.subject, "Re: [#2] Konto löschen ✓");
    assert_eq!(second.references, vec!["earlier@example.net", "m2@example.net"]);
    assert_eq!(second.from.len(), 1);
    let to = second.raw();
    let to = String::from_utf8_lossy(to);
    // A deletion acts on the account of the From address: an unsigned
    // Reply-To (anyone may write one) does not take its mail elsewhere.
    assert!(to.contains("jm@example.net") && !to.contains("reply@example.net"), "From, not an unsigned Reply-To: {to}");
    let third = d.iter().find(|m| m.in_reply_to == ["m3@example.net"]).unwrap();
    let to3 = String::from_utf8_lossy(third.raw()).into_owned();
    assert!(to3.contains("kim@work.example"), "Reply-To wins over From when no account is acted on: {to3}");
    assert!(second.text.contains("Jürgen"), "{}", second.text);
    assert!(to.is_ascii(), "the draft is 7-bit clean with RFC 2047 / transfer encodings");

    assert!(s.dovecot.flags("Drafts").iter().all(|f| f.contains("\\Draft")));
    let inbox_flags = s.dovecot.flags("INBOX");
    assert!(
        inbox_flags.iter().all(|f| !f.contains("\\Seen")),
        "BODY.PEEK[] must not mark the originals read"
    );
    assert!(
        inbox_flags[0].contains("triaged-account-deletion"),
        "the original carries keywords a mail client can show: {inbox_flags:?}"
    );

    // A second pass finds nothing new.
    run_once(&s);
    assert_eq!(drafts(&s).len(), 3);

    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["tickets"].as_array().unwrap().len(), 3);
    assert_eq!(v["pending_actions"], 0);
    assert_eq!(v["folders"][0]["folder"], "INBOX");
}

/// A Reply-To anybody writes may name one of the team's own addresses
/// (`[draft] from`, `[intake] addresses`): the draft would go to
/// ourselves. No draft then; staff are told, as for a list's own address.
#[test]
fn a_reply_to_our_own_address_gets_no_draft() {
    let s = setup_with("none", "[intake]\naddresses = [\"help@example.org\"]\n");
    let rename = |n: usize, reply_to: &str| {
        format!(
            "From: Kim <kim{n}@example.net>\r\nReply-To: {reply_to}\r\nTo: help@example.org\r\nSubject: rename\r\nMessage-ID: <own{n}@example.net>\r\n\r\nCan you rename my account from ~kim to ~kimberly?\r\n"
        )
        .into_bytes()
    };
    s.dovecot.deliver("INBOX", &rename(1, "Support <Support@example.org>"));
    s.dovecot.deliver("INBOX", &rename(2, "help@example.org"));
    s.dovecot.deliver("INBOX", &rename(3, "Kim at work <kim@work.example>"));
    // A subaddress of ours is delivered to us all the same.
    s.dovecot.deliver("INBOX", &rename(4, "Support+kim@Example.org"));
    run_once(&s);

    let d = drafts(&s);
    assert_eq!(d.len(), 1, "only the mail answered elsewhere than our own address is drafted");
    assert_eq!(d[0].in_reply_to, ["own3@example.net"]);
    assert_eq!(s.tickets().len(), 4, "each is a ticket staff can answer by hand");
}

#[test]
fn implicit_tls_and_starttls_with_a_private_ca() {
    for mode in ["implicit", "starttls"] {
        let s = setup_with(mode, "");
        s.dovecot.deliver("INBOX", &mail(1, "hello over TLS", "body"));
        run_once(&s);
        assert_eq!(drafts(&s).len(), 1, "{mode}");
    }
}

/// A refused password was told as a Rust debug value (`code: None, info:
/// Some(...)`), as a "session ended" that never began, and retried by
/// `run --once` as if the server might change its mind.
#[test]
fn a_wrong_password_is_told_in_the_servers_words_and_run_once_gives_up_at_once() {
    let s = setup();
    std::fs::write(s.dovecot.password_file(), "wrong\n").unwrap();
    let out = triaged(&s.config, &["run", "--once"]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    let config = s.config.display();
    assert!(
        err.contains(&format!(
            "imap: 127.0.0.1 refused the login for support@example.org: [AUTHENTICATIONFAILED] Authentication failed.; check imap.username and the password (imap.password_file, {config}:6)"
        )),
        "{err}"
    );
    assert!(!err.contains("code: None") && !err.contains("session ended"), "{err}");
    assert!(!err.contains("trying again"), "a refused password is not tried again: {err}");
    assert!(!err.contains("wrong"), "the password never appears in logs");
}

/// The daemon keeps trying (the password may be fixed while it runs), but
/// says why only once, not at every attempt.
#[test]
fn a_daemon_refused_its_password_says_so_once_and_keeps_trying() {
    // One worker (no Sent folder): Dovecot delays each failed login more.
    let s = setup_custom("none", None, "sent = \"\"\nbackoff_max_secs = 1", "");
    std::fs::write(s.dovecot.password_file(), "wrong\n").unwrap();
    let mut daemon = spawn_daemon_with_env(&s, &[("TRIAGED_LOG", "triaged=debug")]);
    let stderr = daemon.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufRead::lines(std::io::BufReader::new(stderr)) {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let mut log = Vec::new();
    let inbox = |l: &String| l.contains("folder=INBOX");
    let deadline = Instant::now() + Duration::from_secs(60);
    while !log.iter().any(|l| inbox(l) && l.contains("again; trying again")) {
        match rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(line) => log.push(line),
            Err(e) => {
                daemon.kill().ok();
                panic!("no second attempt logged ({e}): {}", log.join("\n"))
            }
        }
    }
    assert_running(&mut daemon);
    sigterm(daemon);
    let told: Vec<&String> = log.iter().filter(|l| inbox(l) && l.contains(" WARN ") && l.contains("refused the login")).collect();
    assert_eq!(told.len(), 1, "{}", log.join("\n"));
    assert!(told[0].contains("[AUTHENTICATIONFAILED] Authentication failed.; check imap.username") && told[0].contains("; trying again in"), "{}", told[0]);
}

#[test]
fn malformed_and_oversized_are_quarantined_and_the_rest_drafted() {
    let s = setup_with("none", "[limits]\nmax_message_bytes = 4096\n");
    s.dovecot.deliver("INBOX", &mail(1, "first", "ok"));
    s.dovecot.deliver("INBOX", b"\x89PNG\r\n\x1a\n\x00\x00binary garbage with no header at all\r\n");
    s.dovecot.deliver("INBOX", &mail(3, "huge", &"x".repeat(10_000)));
    s.dovecot.deliver("INBOX", b"Subject: nobody sent this\r\n\r\nno From header\r\n");
    s.dovecot.deliver("INBOX", &mail(5, "last", "ok"));
    run_once(&s);

    let per = drafts_per_message(&s);
    assert_eq!(per.len(), 2, "{per:?}");
    assert_eq!(per["m1@example.net"], 1);
    assert_eq!(per["m5@example.net"], 1);

    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let q = v["quarantine"].as_array().unwrap();
    let reasons: Vec<&str> = q.iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert_eq!(q.len(), 3, "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("max_message_bytes")), "{reasons:?}");
    assert!(reasons.iter().filter(|r| r.contains("cannot parse")).count() == 2, "{reasons:?}");

    let text = triaged(&s.config, &["status"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("Quarantine: 3"));
}

/// A message the daemon died in is counted on its own on the next start and
/// quarantined once it has failed `limits.max_attempts` times, even when it
/// is the only new message (a batch of one was marked afresh on every start,
/// so it was never counted: the daemon died on it forever).
#[test]
fn a_lone_message_the_daemon_died_in_is_quarantined_after_its_attempts() {
    let s = setup_with("none", "[limits]\nmax_attempts = 1\n");
    s.dovecot.deliver("INBOX", &mail(1, "first", "ok"));
    run_once(&s);
    s.dovecot.deliver("INBOX", &mail(2, "second", "the daemon dies in this one"));
    // What a daemon killed while handling it leaves behind: its attempt
    // mark on disk, the cursor not moved past it.
    {
        let store = triaged::store::Store::open(&s.dir.path().join("store")).unwrap();
        let validity = store.cursor("INBOX").unwrap().expect("the first run set the cursor").validity;
        store.mark_attempts("INBOX", validity, &[2]).unwrap();
        store.persist().unwrap();
    }
    run_once(&s);

    let per = drafts_per_message(&s);
    assert_eq!(per.get("m1@example.net"), Some(&1), "{per:?}");
    assert_eq!(per.get("m2@example.net"), None, "no draft for the message the daemon died in: {per:?}");
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let reasons: Vec<&str> = v["quarantine"].as_array().unwrap().iter().map(|e| e["reason"].as_str().unwrap()).collect();
    assert_eq!(reasons, ["failed 1 times while being handled; look at it by hand"]);
}

#[test]
fn uidvalidity_reset_resyncs_without_duplicates() {
    let s = setup();
    for n in 1..=3 {
        s.dovecot.deliver("INBOX", &mail(n, "before", "b"));
    }
    run_once(&s);
    assert_eq!(drafts(&s).len(), 3);

    s.dovecot.reset_uidvalidity("INBOX");
    s.dovecot.deliver("INBOX", &mail(4, "after", "a"));
    let out = run_once(&s);
    assert!(String::from_utf8_lossy(&out.stderr).contains("UIDVALIDITY changed"));
    let per = drafts_per_message(&s);
    assert_eq!(per.len(), 4, "{per:?}");
    assert!(per.values().all(|&n| n == 1), "{per:?}");
}

#[test]
fn sigkill_in_a_200_message_backlog_leaves_exactly_one_draft_each() {
    let s = setup();
    for n in 1..=200 {
        s.dovecot.deliver("INBOX", &mail(n, &format!("backlog {n}"), "please help"));
    }
    // Kill the daemon three times at different depths of the backlog.
    for stop_at in [20, 90, 150] {
        let mut child = spawn_daemon(&s);
        wait_until("drafts to pile up", Duration::from_secs(120), || {
            s.dovecot.uids("Drafts").len() >= stop_at
        });
        child.kill().unwrap();
        child.wait().unwrap();
    }
    run_once(&s);
    let per = drafts_per_message(&s);
    assert_eq!(per.len(), 200, "every message has a draft");
    let dup: Vec<_> = per.iter().filter(|(_, n)| **n != 1).collect();
    assert!(dup.is_empty(), "duplicated drafts: {dup:?}");

    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let tickets = v["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 200);
    let mut numbers: Vec<u64> = tickets.iter().map(|t| t["ticket"].as_u64().unwrap()).collect();
    numbers.sort();
    assert_eq!(numbers, (1..=200).collect::<Vec<_>>(), "ticket numbers have no gaps or repeats");
}

#[test]
fn mail_that_arrives_during_a_sync_pass_is_not_left_for_the_idle_renewal() {
    let s = setup();
    let backlog: Vec<Vec<u8>> = (1..=300).map(|n| mail(n, &format!("request {n}"), "please help")).collect();
    s.dovecot.deliver_many("INBOX", &backlog);
    let child = spawn_daemon(&s);
    // The first drafts are in while the rest of the backlog is handled:
    // this one arrives after the pass listed what was waiting, and Dovecot
    // reports it once, in a response to one of the pass's own commands.
    wait_until("the first drafts", Duration::from_secs(30), || !s.dovecot.uids("Drafts").is_empty());
    s.dovecot.deliver("INBOX", &mail(301, "late", "arrived during the pass"));
    assert!(s.dovecot.uids("Drafts").len() < 300, "the pass was over before the late message arrived");
    wait_until("a draft for the late message too", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 301);
    sigterm(child);
}

#[test]
fn idle_picks_up_new_mail_and_sigterm_exits_cleanly() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "first", "one"));
    let child = spawn_daemon(&s);
    wait_until("the first draft", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 1);

    // While the daemon waits in IDLE, status reads its snapshot. The
    // draft is on the server before the pass ends and writes its first
    // snapshot: until then status says the store is in use.
    wait_until("the first snapshot", Duration::from_secs(10), || triaged(&s.config, &["status", "--json"]).status.success());
    let status = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(v["snapshot"], true);
    assert_eq!(v["tickets"].as_array().unwrap().len(), 1);

    let t = Instant::now();
    s.dovecot.deliver("INBOX", &mail(2, "second", "two"));
    wait_until("the IDLE-driven draft", Duration::from_secs(20), || s.dovecot.uids("Drafts").len() == 2);
    // Polling is set to 1s in the test config, but IDLE is what must wake
    // us; the log says which path ran.
    let _ = t;

    let out = sigterm(child);
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("ticket #2"), "{log}");
    assert!(log.contains("stop requested"), "{log}");
    assert!(!log.contains("two\r\n"), "bodies never reach the log");
}

#[test]
fn check_config_reports_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[imap]\nhost = \"mail.example.org\"\ntls = \"none\"\nusername = \"x\"\npassword = \"inline\"\n").unwrap();
    let out = triaged(&path, &["check-config"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("bad.toml:3: imap.tls"), "{text}");
    assert!(text.contains("bad.toml:5: imap.password"), "{text}");
    assert!(!text.contains("inline\""), "{text}");

    let good = setup();
    let out = triaged(&good.config, &["check-config"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    drop(good.dir);
}
