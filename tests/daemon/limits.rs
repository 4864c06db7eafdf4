//! `[limits]` against a real Dovecot: a message nested too deeply, one with
//! too many attachments and one with an oversized header are quarantined
//! with a reason naming the key to raise, and the ordinary message behind
//! them is drafted as usual. A message larger than one FETCH slice, within
//! the limits, arrives whole. The workers allocate from one heap.


use crate::support::harness::*;

fn header(n: usize, subject: &str, content_type: &str) -> String {
    format!(
        "From: User {n} <user{n}@example.net>\r\nTo: support@example.org\r\nSubject: {subject}\r\nMessage-ID: <m{n}@example.net>\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
    )
}

/// Multiparts nested `depth` deep, a question at the bottom.
fn deeply_nested(n: usize, depth: usize) -> Vec<u8> {
    let mut m = header(n, "Password reset", "multipart/mixed; boundary=\"d0\"");
    for i in 1..depth {
        m += &format!("\r\n--d{}\r\nContent-Type: multipart/mixed; boundary=\"d{i}\"\r\n", i - 1);
    }
    m += &format!("\r\n--d{}\r\nContent-Type: text/plain\r\n\r\nI forgot my password.\r\n", depth - 1);
    for i in (0..depth).rev() {
        m += &format!("--d{i}--\r\n");
    }
    m.into_bytes()
}

fn many_attachments(n: usize, count: usize) -> Vec<u8> {
    let mut m = header(n, "Logs attached", "multipart/mixed; boundary=\"A\"");
    m += "\r\n--A\r\nContent-Type: text/plain\r\n\r\nMy account is locked, logs attached.\r\n";
    for i in 0..count {
        m += &format!("--A\r\nContent-Type: text/plain; name=\"log{i}.txt\"\r\nContent-Disposition: attachment\r\n\r\nline {i}\r\n");
    }
    m += "--A--\r\n";
    m.into_bytes()
}

fn long_header(n: usize) -> Vec<u8> {
    let mut m = header(n, "Account deletion", "text/plain");
    m += &format!("X-Padding: {}\r\n\r\nPlease delete my account.\r\n", "p".repeat(300 * 1024));
    m.into_bytes()
}

#[test]
fn messages_over_the_limits_are_quarantined_and_the_next_is_drafted() {
    let s = setup();
    s.dovecot.deliver("INBOX", &deeply_nested(1, 57));
    s.dovecot.deliver("INBOX", &many_attachments(2, 150));
    s.dovecot.deliver("INBOX", &long_header(3));
    // Within every default limit: 20 levels, 100 attachments.
    s.dovecot.deliver("INBOX", &deeply_nested(4, 20));
    s.dovecot.deliver("INBOX", &many_attachments(5, 100));
    s.dovecot.deliver("INBOX", &mail(6, "Password reset", "I forgot my password."));

    let out = run_once(&s);
    let log = String::from_utf8_lossy(&out.stderr);
    for line in [
        "quarantined: MIME depth 57 is over limits.max_mime_depth = 20",
        "quarantined: 150 attachments are over limits.max_attachments = 100",
        "is over limits.max_header_bytes = 262144",
    ] {
        assert!(log.contains(line), "no log line {line:?} in:\n{log}");
    }

    let status = triaged(&s.config, &["status", "--json"]);
    assert!(status.status.success(), "{}", String::from_utf8_lossy(&status.stderr));
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    let quarantined: Vec<(String, String)> = status["quarantine"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| (q["message_id"].as_str().unwrap_or("").to_string(), q["reason"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(quarantined.len(), 3, "{quarantined:?}");
    let reason = |id: &str| quarantined.iter().find(|(m, _)| m == id).map(|(_, r)| r.as_str());
    assert_eq!(reason("m1@example.net"), Some("MIME depth 57 is over limits.max_mime_depth = 20"));
    assert_eq!(reason("m2@example.net"), Some("150 attachments are over limits.max_attachments = 100"));
    assert!(reason("m3@example.net").is_some_and(|r| r.contains("limits.max_header_bytes")), "{quarantined:?}");

    let per = drafts_per_message(&s);
    let mut drafted: Vec<&str> = per.keys().map(String::as_str).collect();
    drafted.sort();
    assert_eq!(drafted, ["m4@example.net", "m5@example.net", "m6@example.net"], "{per:?}");
    assert!(per.values().all(|&n| n == 1), "{per:?}");
}

#[test]
fn raised_limits_let_the_same_messages_through() {
    let s = setup_with(
        "none",
        "[limits]\nmax_mime_depth = 60\nmax_attachments = 200\nmax_header_bytes = 1048576\n",
    );
    s.dovecot.deliver("INBOX", &deeply_nested(1, 57));
    s.dovecot.deliver("INBOX", &many_attachments(2, 150));
    s.dovecot.deliver("INBOX", &long_header(3));
    run_once(&s);
    let status = triaged(&s.config, &["status", "--json"]);
    let status: serde_json::Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["quarantine"].as_array().unwrap().len(), 0, "{status}");
    assert_eq!(drafts_per_message(&s).len(), 3);
}

/// A message larger than one FETCH slice (1 MiB) arrives whole: the request
/// is in the text part after a 2 MiB attachment, so a body cut after any
/// slice would leave nothing to route.
#[test]
fn a_message_of_several_slices_is_fetched_whole() {
    let s = setup();
    let mut m = header(7, "Hello", "multipart/mixed; boundary=\"B\"");
    m += "\r\n--B\r\nContent-Type: application/octet-stream; name=\"dump.bin\"\r\nContent-Disposition: attachment\r\nContent-Transfer-Encoding: base64\r\n\r\n";
    let line = format!("{}\r\n", "QUJDRA".repeat(12) + "QUJD");
    m += &line.repeat(2 * 1024 * 1024 / 57);
    m += "--B\r\nContent-Type: text/plain\r\n\r\nPlease delete my account, my username is user7.\r\n--B--\r\n";
    assert!(m.len() > 2 << 20, "{}", m.len());
    s.dovecot.deliver("INBOX", m.as_bytes());
    run_once(&s);
    let tickets = s.tickets();
    assert_eq!(tickets.len(), 1, "{tickets:?}");
    assert_eq!(tickets[0]["procedure"], "account-deletion", "{tickets:?}");
    assert_eq!(drafts_per_message(&s).get("m7@example.net"), Some(&1));
}

/// The heaps glibc's malloc made beside the main one in process `pid`:
/// each is a 64 MiB reservation, the part not yet used mapped without
/// access (thread stacks' guards are a page).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn thread_heaps(pid: u32) -> usize {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap();
    maps.lines()
        .filter(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (start, end) = fields[0].split_once('-').unwrap();
            let size = u64::from_str_radix(end, 16).unwrap() - u64::from_str_radix(start, 16).unwrap();
            fields[1] == "---p" && fields[4] == "0" && fields.len() == 5 && size >= 1 << 20
        })
        .count()
}

/// Two workers that parse, verify and classify side by side allocate from
/// one heap: free space left by one is used by the other (docs/BENCHMARKS.md,
/// "One heap"). An operator's own MALLOC_ARENA_MAX is kept.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn the_workers_allocate_from_one_heap_unless_the_operator_says_otherwise() {
    let s = setup_with("none", "[daemon]\nworkers = 2\n");
    for n in 1..=20 {
        s.dovecot.deliver("INBOX", &mail(n, "Password reset", "I forgot my password, please help."));
    }
    let heaps = |env: &[(&str, &str)], drafts: usize| {
        let mut child = spawn_daemon_with_env(&s, env);
        wait_until("the drafts", std::time::Duration::from_secs(60), || s.dovecot.uids("Drafts").len() >= drafts);
        assert_running(&mut child);
        let heaps = thread_heaps(child.id());
        sigterm(child);
        heaps
    };
    assert_eq!(heaps(&[], 20), 0);
    for n in 21..=40 {
        s.dovecot.deliver("INBOX", &mail(n, "Password reset", "I forgot my password, please help."));
    }
    assert!(heaps(&[("MALLOC_ARENA_MAX", "8")], 40) > 0);
}
