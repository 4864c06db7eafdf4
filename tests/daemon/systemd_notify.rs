//! The sd_notify protocol as systemd sees it: the test plays the service
//! manager, binding the datagram socket named by NOTIFY_SOCKET, and runs
//! `triaged run` against a real Dovecot. READY=1 once the workers run,
//! STATUS= lines after each sync, WATCHDOG=1 at half of WATCHDOG_USEC, and
//! STOPPING=1 on SIGTERM before a clean exit.


use std::os::unix::net::UnixDatagram;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::support::harness::*;

/// Every datagram the daemon sends, with when it arrived.
fn listen(socket: UnixDatagram) -> mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = vec![0u8; 4096];
        while let Ok(n) = socket.recv(&mut buf) {
            let text = String::from_utf8_lossy(&buf[..n]).into_owned();
            for line in text.lines() {
                if tx.send((Instant::now(), line.to_string())).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

/// Collects messages until `done` holds for what has arrived, or `limit`.
fn collect_until(
    rx: &mpsc::Receiver<(Instant, String)>,
    seen: &mut Vec<(Instant, String)>,
    what: &str,
    limit: Duration,
    done: impl Fn(&[(Instant, String)]) -> bool,
) {
    let deadline = Instant::now() + limit;
    while !done(seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(m) => seen.push(m),
            Err(_) => panic!("timed out waiting for {what}; got {:?}", lines(seen)),
        }
    }
}

fn lines(seen: &[(Instant, String)]) -> Vec<&str> {
    seen.iter().map(|(_, l)| l.as_str()).collect()
}

fn count(seen: &[(Instant, String)], line: &str) -> usize {
    seen.iter().filter(|(_, l)| l == line).count()
}

/// After the daemon exited: STOPPING=1 came, once.
fn stopped(rx: &mpsc::Receiver<(Instant, String)>, seen: &mut Vec<(Instant, String)>) {
    collect_until(rx, seen, "STOPPING=1 on SIGTERM", Duration::from_secs(5), |s| count(s, "STOPPING=1") >= 1);
    std::thread::sleep(Duration::from_millis(100));
    seen.extend(rx.try_iter());
    assert_eq!(count(seen, "STOPPING=1"), 1, "{:?}", lines(seen));
}

#[test]
fn ready_status_watchdog_and_stopping_reach_the_service_manager() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Password reset", "I forgot my password."));
    let path = s.dir.path().join("notify.sock");
    let rx = listen(UnixDatagram::bind(&path).unwrap());

    let started = Instant::now();
    let child = spawn_daemon_with_env(
        &s,
        &[("NOTIFY_SOCKET", path.to_str().unwrap()), ("WATCHDOG_USEC", "2000000")],
    );
    let mut seen = Vec::new();
    collect_until(&rx, &mut seen, "READY=1", Duration::from_secs(30), |s| count(s, "READY=1") == 1);
    let ready_at = seen.iter().find(|(_, l)| l == "READY=1").unwrap().0;
    println!("READY=1 after {:?}", ready_at - started);

    collect_until(&rx, &mut seen, "a STATUS line after the first sync", Duration::from_secs(30), |s| {
        s.iter().any(|(_, l)| l.starts_with("STATUS=INBOX: synced at"))
    });
    wait_until("the draft", Duration::from_secs(30), || s.dovecot.uids("Drafts").len() == 1);

    // WATCHDOG_USEC = 2 s: a ping every second, the first at once.
    collect_until(&rx, &mut seen, "three watchdog pings", Duration::from_secs(5), |s| count(s, "WATCHDOG=1") >= 3);
    let pings: Vec<Instant> = seen.iter().filter(|(_, l)| l == "WATCHDOG=1").map(|(t, _)| *t).collect();
    let span = pings[2] - pings[0];
    assert!(
        span >= Duration::from_millis(1500) && span <= Duration::from_millis(3500),
        "pings are not a second apart: {:?}",
        pings.windows(2).map(|w| w[1] - w[0]).collect::<Vec<_>>()
    );
    assert_eq!(count(&seen, "STOPPING=1"), 0, "stopping before being asked to");

    let out = sigterm(child);
    stopped(&rx, &mut seen);
    assert_eq!(count(&seen, "READY=1"), 1, "READY=1 sent more than once");
    let stopping = seen.iter().position(|(_, l)| l == "STOPPING=1").unwrap();
    let ready = seen.iter().position(|(_, l)| l == "READY=1").unwrap();
    assert!(ready < stopping, "{:?}", lines(&seen));
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("triaged stopped"), "{log}");
}

#[test]
fn a_watchdog_meant_for_another_process_is_not_pinged() {
    let s = setup();
    let path = s.dir.path().join("notify.sock");
    let rx = listen(UnixDatagram::bind(&path).unwrap());
    // As a child of a supervised process would inherit it.
    let child = spawn_daemon_with_env(
        &s,
        &[
            ("NOTIFY_SOCKET", path.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
            ("WATCHDOG_PID", "1"),
        ],
    );
    let mut seen = Vec::new();
    collect_until(&rx, &mut seen, "READY=1", Duration::from_secs(30), |s| count(s, "READY=1") == 1);
    std::thread::sleep(Duration::from_millis(600));
    sigterm(child);
    stopped(&rx, &mut seen);
    assert_eq!(count(&seen, "WATCHDOG=1"), 0, "{:?}", lines(&seen));
}
