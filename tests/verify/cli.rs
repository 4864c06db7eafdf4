//! `triaged verify [--json] FILE...` as scripts see it, and the account
//! directory backends behind it: the TOML file, the external command, and
//! sourcehut's key endpoints served by a small HTTP server on loopback.


use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use triaged::verify::accounts::Directory;
use triaged::verify::cli::verify_files;
use crate::support::verify_fixture::*;

async fn run(w: &World, files: &[PathBuf], json: bool) -> (bool, String) {
    let mut out = Vec::new();
    let ok = verify_files(&w.config, files, json, &mut out)
        .await
        .unwrap();
    (ok, String::from_utf8(out).unwrap())
}

fn json_lines(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

fn write(w: &World, name: &str, text: &str) -> PathBuf {
    let p = w.dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[tokio::test]
async fn json_lines_follow_the_design_contract() {
    let w = World::start();
    let good = write(&w, "good.eml", &w.signed("alice@example.org", "Delete"));
    let missing = w.dir.path().join("missing.eml");
    let garbage = write(&w, "empty.eml", "");
    let unknown = write(
        &w,
        "unknown.eml",
        &message("mallory@example.org", "x", BODY),
    );

    let (ok, out) = run(&w, &[good.clone(), missing.clone(), garbage, unknown], true).await;
    assert!(!ok, "an unreadable file makes the run fail");
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 4, "{out}");

    let first = &lines[0];
    assert_eq!(
        keys(first),
        BTreeSet::from(["file", "account", "factors", "required", "met", "verified", "procedure"]),
        "{first}"
    );
    assert_eq!(first["procedure"], "account-deletion", "{first}");
    assert_eq!(first["file"], good.display().to_string());
    assert_eq!(first["account"], "alice");
    assert_eq!(
        keys(&first["factors"]),
        BTreeSet::from(["dkim", "pgp", "ssh", "dns", "web", "billing_last4"])
    );
    for (_, f) in first["factors"].as_object().unwrap() {
        assert_eq!(keys(f), BTreeSet::from(["result", "reason"]), "{f}");
        assert!(["pass", "fail", "none"].contains(&f["result"].as_str().unwrap()));
    }
    assert_eq!(first["factors"]["dkim"]["result"], "pass");
    assert_eq!(
        (
            first["required"].as_u64(),
            first["met"].as_u64(),
            first["verified"].as_bool()
        ),
        (Some(1), Some(1), Some(true))
    );

    assert_eq!(keys(&lines[1]), BTreeSet::from(["file", "error"]));
    assert_eq!(lines[1]["file"], missing.display().to_string());
    assert!(lines[1]["error"].as_str().unwrap().contains("cannot read"));
    assert!(
        lines[2]["error"]
            .as_str()
            .unwrap()
            .contains("not a mail message"),
        "{}",
        lines[2]
    );
    assert_eq!(lines[3]["account"], Value::Null);
    assert_eq!(lines[3]["verified"], false);

    // Only good files: success.
    let (ok, _) = run(&w, &[good], true).await;
    assert!(ok);
}

/// `verify` reads a file under the daemon's own `[limits]`: what the
/// daemon would quarantine is an error line here, naming the key to raise,
/// and the other files are still checked.
#[tokio::test]
async fn files_over_the_limits_are_refused_with_the_key_to_raise() {
    let w = World::start();
    let good = write(&w, "good.eml", &w.signed("alice@example.org", "Delete"));
    let long_body = format!("{BODY}{}", "more text\r\n".repeat(2000));
    let big = write(&w, "big.eml", &message("alice@example.org", "Delete", &long_body));
    let attached = write(
        &w,
        "attached.eml",
        &message("alice@example.org", "Delete", BODY).replace(
            "Content-Type: text/plain; charset=utf-8\r\n\r\n",
            "Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=a.pdf\r\n\r\nxx\r\n--b--\r\n",
        ),
    );
    let mut config = w.config.clone();
    config.limits.max_message_bytes = 10_000;
    config.limits.max_attachments = 0;
    let mut out = Vec::new();
    let ok = verify_files(&config, &[good, big, attached], true, &mut out).await.unwrap();
    let out = String::from_utf8(out).unwrap();
    assert!(!ok, "{out}");
    let lines = json_lines(&out);
    assert_eq!(lines[0]["factors"]["dkim"]["result"], "pass", "{out}");
    let error = |i: usize| lines[i]["error"].as_str().unwrap_or_default().to_string();
    assert!(error(1).contains("over limits.max_message_bytes = 10000"), "{out}");
    assert!(error(2).contains("1 attachments are over limits.max_attachments = 0"), "{out}");
}

#[tokio::test]
async fn table_output_is_readable() {
    let w = World::start();
    let good = write(&w, "good.eml", &w.signed("alice@example.org", "x"));
    let (ok, out) = run(&w, &[good], false).await;
    assert!(ok);
    assert!(out.contains("account   alice"), "{out}");
    assert!(out.contains("procedure account-deletion (identity \"one\")"), "{out}");
    assert!(
        out.lines()
            .any(|l| l.trim_start().starts_with("dkim") && l.contains("pass")),
        "{out}"
    );
    assert!(out.contains("1 of 1 factor: verified"), "{out}");
}

/// The review's case: dana's refund request gives her card's last four
/// digits. The daemon classifies it as a refund, a billing matter, where
/// the digits count; `verify` classifies it with the same pack and says
/// what the daemon says, naming the procedure.
#[tokio::test]
async fn verify_counts_card_digits_for_a_mail_the_pack_classifies_as_a_billing_matter() {
    let dana = "[[account]]\nusername = \"dana\"\nemail = \"dana@example.org\"\ntwo_factor = false\nbilling_last4 = \"4242\"\n";
    let w = World::start_with(dana, "");
    let mut config = w.config.clone();
    config.procedures.templates = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"));
    config.procedures.pack = "sourcehut".into();
    let refund = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/mail/05-refund.eml"));
    let mut out = Vec::new();
    assert!(verify_files(&config, &[refund], true, &mut out).await.unwrap());
    let line = &json_lines(std::str::from_utf8(&out).unwrap())[0];
    assert_eq!(line["procedure"], "refund", "{line}");
    assert_eq!(line["factors"]["billing_last4"]["result"], "pass", "{line}");
    assert_eq!(
        (line["account"].as_str(), line["required"].as_u64(), line["met"].as_u64(), line["verified"].as_bool()),
        (Some("dana"), Some(1), Some(1), Some(true)),
        "{line}"
    );
}

/// A team may configure no account directory; then no sender has an
/// account, and both `verify` and `check-config` say that is why (and
/// what to set) rather than "no account has the address" for everyone.
#[tokio::test]
async fn without_an_account_directory_verify_and_check_config_say_none_is_configured() {
    let w = World::start();
    let path = w.dir.path().join("triaged.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(&path, text.replace("accounts = \"accounts.toml\"\n", "")).unwrap();
    let config = triaged::config::Config::load(&path).unwrap();
    let good = write(&w, "good.eml", &w.signed("alice@example.org", "Delete"));
    let mut out = Vec::new();
    assert!(verify_files(&config, &[good], false, &mut out).await.unwrap());
    let out = String::from_utf8(out).unwrap();
    assert!(out.contains("account   (none): no account directory is configured: set [identity] accounts"), "{out}");
    let pgp = out.lines().find(|l| l.trim_start().starts_with("pgp")).unwrap();
    assert!(pgp.ends_with("none  no account directory is configured"), "{out}");

    let check = triaged::check::check(&path).await;
    assert!(check.ok(), "a team may choose no directory: {check:?}");
    assert!(check.notes.iter().any(|n| n.starts_with("note: identity: no account directory is configured")), "{check:?}");
}

#[tokio::test]
async fn broken_accounts_file_is_reported_with_its_line_for_every_file() {
    let w = World::start();
    std::fs::write(
        w.dir.path().join("accounts.toml"),
        "[[account]]\nusername = \"alice\"\nemail = \"alice\"\n",
    )
    .unwrap();
    let a = write(&w, "a.eml", &message("alice@example.org", "x", BODY));
    let b = write(&w, "b.eml", &message("alice@example.org", "y", BODY));
    let (ok, out) = run(&w, &[a, b], true).await;
    assert!(!ok);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    for l in &lines {
        let e = l["error"].as_str().unwrap();
        assert!(
            e.contains("accounts.toml:3: ") && e.contains("not a mail address"),
            "{e}"
        );
    }
}

#[tokio::test]
async fn broken_challenges_file_is_reported_with_its_line() {
    let w = World::start();
    let challenges = w.dir.path().join("challenges.toml");
    std::fs::write(&challenges, "alice = \"triaged challenge 1\\n\"\nbob = \n").unwrap();
    let config = write_config(
        w.dir.path(),
        &w.dns,
        ACCOUNTS,
        "challenges = \"challenges.toml\"",
    );
    let a = write(&w, "a.eml", &message("alice@example.org", "x", BODY));
    let mut out = Vec::new();
    assert!(!verify_files(&config, &[a], true, &mut out).await.unwrap());
    let e = json_lines(std::str::from_utf8(&out).unwrap())[0]["error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(e.contains("challenges.toml") && e.contains("line 2"), "{e}");
}

fn script(w: &World, name: &str, body: &str) -> PathBuf {
    let p = w.dir.path().join(name);
    std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    p
}

const ALICE_JSON: &str = r#"{"username": "alice", "email": "alice@example.org", "two_factor": false, "domains": ["example.org"]}"#;

#[tokio::test]
async fn command_backend_answers_by_address() {
    let w = World::start();
    let s = script(
        &w,
        "lookup.sh",
        &format!("case \"$2\" in alice@example.org) echo '{ALICE_JSON}';; *) echo null;; esac"),
    );
    let config = write_config(
        w.dir.path(),
        &w.dns,
        "",
        &format!(
            "accounts_command = [\"sh\", \"{}\", \"--json\"]",
            s.display()
        ),
    );
    let mut out = Vec::new();
    let good = write(&w, "good.eml", &w.signed("alice@example.org", "x"));
    let other = write(&w, "other.eml", &message("bob@example.org", "x", BODY));
    assert!(
        verify_files(&config, &[good, other], true, &mut out)
            .await
            .unwrap()
    );
    let lines = json_lines(std::str::from_utf8(&out).unwrap());
    assert_eq!(lines[0]["account"], "alice", "{}", lines[0]);
    assert_eq!(lines[0]["verified"], true);
    assert_eq!(lines[1]["account"], Value::Null);
}

/// A directory backed only by the shell script `script`.
fn command_directory(script: &std::path::Path) -> Directory {
    Directory::new(None, Some((vec!["sh".into(), script.display().to_string()], Duration::from_secs(5))), None).unwrap()
}

#[tokio::test]
async fn command_answering_for_another_address_gives_no_identity() {
    let w = World::start();
    // A buggy helper: whoever asks, it answers alice.
    let s = script(&w, "lookup.sh", &format!("echo '{ALICE_JSON}'"));
    let dir = command_directory(&s);
    assert_eq!(
        dir.lookup("alice@example.org")
            .await
            .unwrap()
            .account
            .unwrap()
            .username,
        "alice"
    );
    let err = dir
        .lookup("mallory@example.org")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("does not list that address"), "{err}");

    let s = script(&w, "bad.sh", "echo '{\"username\": \"x\"'");
    let dir = command_directory(&s);
    let err = dir.lookup("x@example.org").await.unwrap_err().to_string();
    assert!(err.contains("not one account as JSON"), "{err}");
}

#[tokio::test]
async fn slow_command_is_killed_and_the_result_is_temporary() {
    let w = World::start();
    let pidfile = w.dir.path().join("pid");
    let s = script(
        &w,
        "slow.sh",
        &format!("echo $$ > {}\nexec sleep 30", pidfile.display()),
    );
    let config = write_config(
        w.dir.path(),
        &w.dns,
        "",
        &format!(
            "accounts_command = [\"sh\", \"{}\"]\naccounts_command_timeout_secs = 1",
            s.display()
        ),
    );
    let a = write(&w, "a.eml", &w.signed("alice@example.org", "x"));
    let started = Instant::now();
    let mut out = Vec::new();
    verify_files(&config, &[a], true, &mut out).await.unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let line = &json_lines(std::str::from_utf8(&out).unwrap())[0];
    assert_eq!(line["account"], Value::Null, "{line}");
    assert_eq!(line["verified"], false);
    assert_eq!(line["temporary"], true, "{line}");
    let reason = line["factors"]["dkim"]["reason"].as_str().unwrap();
    assert!(reason.contains("killed"), "{reason}");

    let pid = std::fs::read_to_string(&pidfile).unwrap();
    let proc_dir = PathBuf::from(format!("/proc/{}", pid.trim()));
    let deadline = Instant::now() + Duration::from_secs(3);
    // Gone, or a zombie nobody will run again.
    while proc_dir.exists()
        && !std::fs::read_to_string(proc_dir.join("stat"))
            .unwrap_or_default()
            .contains(") Z")
    {
        assert!(
            Instant::now() < deadline,
            "the lookup command was not killed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A sourcehut stand-in on loopback: `/~alice.keys`, `/~alice.pgp`, 404
/// for anyone else, 500 for `~broken`. Counts requests.
async fn sourcehut() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut conn, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let mut len = 0;
                while !buf[..len].windows(4).any(|w| w == b"\r\n\r\n") {
                    match conn.read(&mut buf[len..]).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => len += n,
                    }
                }
                let head = String::from_utf8_lossy(&buf[..len]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let (status, body) = match path.as_str() {
                    "/~alice.keys" => ("200 OK", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFromSourcehutKey alice@laptop\n\n".to_string()),
                    "/~alice.pgp" => ("200 OK", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZfromsourcehut\n-----END PGP PUBLIC KEY BLOCK-----\n".to_string()),
                    p if p.starts_with("/~broken.") => ("500 Internal Server Error", "oops".to_string()),
                    _ => ("404 Not Found", "no such user".to_string()),
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
            });
        }
    });
    (base, hits)
}

#[tokio::test]
async fn sourcehut_keys_are_added_and_cached() {
    let w = World::start();
    let (base, hits) = sourcehut().await;
    let accounts = w.dir.path().join("sh-accounts.toml");
    std::fs::write(
        &accounts,
        "[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\nssh_keys = [\"ssh-ed25519 AAAAlocal alice@desk\"]\n\n[[account]]\nusername = \"broken\"\nemail = \"broken@example.org\"\n\n[[account]]\nusername = \"dave\"\nemail = \"dave@example.org\"\n",
    )
    .unwrap();
    let dir = Directory::new(
        Some(accounts.clone()),
        None,
        Some((base.clone(), Duration::from_secs(600))),
    )
    .unwrap();
    let alice = dir.lookup("alice@example.org").await.unwrap();
    assert!(alice.keys_unavailable.is_none());
    let alice = alice.account.unwrap();
    assert_eq!(alice.ssh_keys.len(), 2, "{alice:?}");
    assert!(alice.ssh_keys[1].contains("FromSourcehutKey"));
    assert_eq!(alice.pgp_keys.len(), 1);
    assert!(alice.pgp_keys[0].contains("mDMEZfromsourcehut"));
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // Cached: no new requests.
    dir.lookup("alice@example.org").await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 2);

    // No such user on sourcehut: no keys, not an error.
    let dave = dir.lookup("dave@example.org").await.unwrap();
    assert!(dave.keys_unavailable.is_none());
    assert!(dave.account.unwrap().ssh_keys.is_empty());

    // A server error is reported, and the account still found.
    let broken = dir.lookup("broken@example.org").await.unwrap();
    assert!(broken.keys_unavailable.unwrap().contains("500"));
    assert!(broken.account.is_some());

    // sourcehut never decides who owns an address.
    assert!(
        dir.lookup("mallory@example.org")
            .await
            .unwrap()
            .account
            .is_none()
    );

    // With no cache lifetime, every lookup fetches again.
    let dir = Directory::new(Some(accounts), None, Some((base, Duration::ZERO))).unwrap();
    let before = hits.load(Ordering::SeqCst);
    dir.lookup("alice@example.org").await.unwrap();
    dir.lookup("alice@example.org").await.unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), before + 4);
}

#[tokio::test]
async fn accounts_file_is_reread_when_it_changes() {
    let w = World::start();
    let path = w.dir.path().join("accounts.toml");
    let dir = Directory::new(Some(path.clone()), None, None).unwrap();
    assert!(
        dir.lookup("dave@example.org")
            .await
            .unwrap()
            .account
            .is_none()
    );
    // Make sure the modification time moves on coarse file systems.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::write(
        &path,
        format!("{ACCOUNTS}\n[[account]]\nusername = \"dave\"\nemail = \"dave@example.org\"\n"),
    )
    .unwrap();
    assert_eq!(
        dir.lookup("dave@example.org")
            .await
            .unwrap()
            .account
            .unwrap()
            .username,
        "dave"
    );
    // A broken edit keeps what was loaded before.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    std::fs::write(&path, "[[account]\n").unwrap();
    assert_eq!(
        dir.lookup("dave@example.org")
            .await
            .unwrap()
            .account
            .unwrap()
            .username,
        "dave"
    );
}

/// sourcehut down: the keys it would add are missing, so PGP and SSH
/// results that did not pass may change later and are marked temporary;
/// DKIM does not depend on them.
#[tokio::test]
async fn sourcehut_outage_marks_key_factors_temporary() {
    let w = World::start();
    let (base, _) = sourcehut().await;
    let accounts = ACCOUNTS.replace("username = \"alice\"", "username = \"broken\"");
    let config = write_config(
        w.dir.path(),
        &w.dns,
        &accounts,
        &format!("sourcehut_base = \"{base}\""),
    );
    let a = write(&w, "a.eml", &w.signed("alice@example.org", "x"));
    let mut out = Vec::new();
    assert!(verify_files(&config, &[a], true, &mut out).await.unwrap());
    let line = &json_lines(std::str::from_utf8(&out).unwrap())[0];
    assert_eq!(line["account"], "broken");
    assert_eq!(line["factors"]["dkim"]["result"], "pass", "{line}");
    for f in ["pgp", "ssh"] {
        assert_eq!(line["factors"][f]["result"], "none", "{line}");
        assert_eq!(line["factors"][f]["temporary"], true, "{line}");
        assert!(
            line["factors"][f]["reason"]
                .as_str()
                .unwrap()
                .contains("500"),
            "{line}"
        );
    }
    assert_eq!(
        line["verified"], true,
        "one factor is enough for this account"
    );
}

/// The sender's checks need no pack, only the procedure's policy does: a
/// pack that fails to load (when an operator most needs `verify`) still
/// leaves the checks, under the account's own rule, and the exit status
/// says something is wrong.
#[tokio::test]
async fn a_pack_that_fails_to_load_still_lets_verify_check_the_sender() {
    let w = World::start();
    let good = write(&w, "good.eml", &w.signed("alice@example.org", "Delete"));
    std::fs::write(w.dir.path().join("templates/identity/procedures.toml"), "[pack\nbroken").unwrap();
    let (ok, out) = run(&w, &[good], true).await;
    let lines = json_lines(&out);
    assert!(!ok, "the broken pack is a failure: {out}");
    assert_eq!(lines[0]["account"], "alice", "{out}");
    assert_eq!(lines[0]["factors"]["dkim"]["result"], "pass", "{out}");
    assert_eq!(lines[0]["procedure"], "(pack not loaded)", "{out}");
}
