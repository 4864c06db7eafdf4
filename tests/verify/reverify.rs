//! A DNS outage while a request arrives: the DKIM factor is `none
//! (temporary)`, never `fail`; the message is checked again later, and when
//! the resolver answers, the sender is verified and the waiting procedure
//! moves on by itself.


use std::process::Command;

use crate::support::harness::*;
use crate::support::verify_fixture::World;

fn run_at(s: &Setup, now: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&s.config)
        .args(["run", "--once"])
        .env("TRIAGED_NOW", now)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

fn config_with_dns(s: &Setup, world: &World, nameserver: &str) {
    let extra = format!(
        "[identity]\naccounts = \"{}\"\n[dns]\nnameservers = [\"{nameserver}\"]\ntimeout_secs = 1\n",
        world.dir.path().join("accounts.toml").display()
    );
    s.reconfigure("none", None, "", &extra);
}

/// A request from alice, DKIM-signed by example.org.
fn from_alice(world: &World, subject: &str, body: &str) -> String {
    crate::support::verify_fixture::plain(
        world.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &crate::support::verify_fixture::message("Alice <alice@example.org>", subject, body),
    )
}

fn first_ticket(s: &Setup) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
    v["tickets"][0].clone()
}

#[test]
fn a_dns_outage_is_temporary_and_the_identity_is_checked_again() {
    let world = World::start();
    let s = setup();
    // The resolver is down: it takes the query and never answers. A socket
    // held for the whole test, not a port found free once: another test's
    // DNS server could bind a released port and answer for it.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    config_with_dns(&s, &world, &silent.local_addr().unwrap().to_string());
    let request = from_alice(&world, "Financial aid", "Hello,\r\n\r\nI am a student and cannot afford the subscription any more.\r\n");
    s.dovecot.deliver("INBOX", request.as_bytes());
    run_at(&s, "2026-12-01T09:00:00Z");

    let t = first_ticket(&s);
    assert_eq!(t["procedure"], "cannot-pay");
    let identity = t["identity"].as_str().unwrap().to_string();
    assert!(identity.contains("NOT verified"), "{identity}");
    assert!(identity.contains("dkim retry") && !identity.contains("FAIL"), "a DNS outage is never a failure: {identity}");
    assert!(t["next_deadline"].as_str().unwrap().starts_with("2026-12-01T09:05"), "re-check in 5 minutes: {t}");
    let asked = drafts(&s);
    assert_eq!(asked.len(), 1, "the user is asked to verify meanwhile");

    drop(silent);
    // The resolver is back; five minutes later the check runs again.
    config_with_dns(&s, &world, &world.dns.addr().to_string());
    run_at(&s, "2026-12-01T09:04:00Z");
    assert_eq!(drafts(&s).len(), 1, "not before it is due");
    run_at(&s, "2026-12-01T09:06:00Z");
    let t = first_ticket(&s);
    let identity = t["identity"].as_str().unwrap();
    assert!(identity.contains("verified 1/1 (dkim)") && !identity.contains("NOT verified"), "{identity}");
    assert_eq!(t["step"], "grant", "the request moved on to staff issuing the zero invoice: {t}");
    assert!(t["staff_action"].is_string(), "{t}");
    assert_eq!(drafts(&s).len(), 1, "the grant is drafted only once staff did it");
    let next = t["next_deadline"].as_str().unwrap_or_default();
    assert!(!next.starts_with("2026-12-01"), "no more re-checks: {t}");
}

/// Regression: a billing transfer from an already verified sender was
/// quarantined, because its template names the challenge for the second
/// account and none had been issued.
#[test]
fn a_verified_sender_asking_for_a_billing_transfer_gets_a_draft() {
    let world = World::start();
    let s = setup();
    config_with_dns(&s, &world, &world.dns.addr().to_string());
    let request = from_alice(&world, "Transfer my billing information to my new account", "Hello,\r\n\r\nplease move the billing information of ~alice to my new account ~alice2.\r\n");
    s.dovecot.deliver("INBOX", request.as_bytes());
    run_at(&s, "2026-12-01T09:00:00Z");
    let v: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
    assert!(v["quarantine"].as_array().unwrap().is_empty(), "{}", v["quarantine"]);
    assert_eq!(v["tickets"][0]["procedure"], "billing-transfer");
    assert!(v["tickets"][0]["identity"].as_str().unwrap().contains("(dkim)"), "{}", v["tickets"][0]);
    assert_eq!(drafts(&s).len(), 1);
}

/// A deletion request whose DKIM check met a DNS outage gets the
/// self-service mail. When the check settles, the sender is verified,
/// but nobody answered that mail: the ticket stays where it is, and
/// staff are not asked to delete the account (before, the re-check moved
/// it on as if the user had asked for the admin deletion).
#[test]
fn a_request_checked_again_later_is_no_reply_to_the_self_service_mail() {
    let world = World::start();
    let s = setup();
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    config_with_dns(&s, &world, &silent.local_addr().unwrap().to_string());
    let request = from_alice(&world, "Please delete my account", "Hello,\r\n\r\nplease delete my account.\r\n\r\nAlice\r\n");
    s.dovecot.deliver("INBOX", request.as_bytes());
    run_at(&s, "2026-12-01T09:00:00Z");
    let t = first_ticket(&s);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("account-deletion"), Some("self-service")), "{t}");

    drop(silent);
    config_with_dns(&s, &world, &world.dns.addr().to_string());
    run_at(&s, "2026-12-01T09:06:00Z");
    let t = first_ticket(&s);
    assert!(t["identity"].as_str().unwrap().contains("verified 1/1 (dkim)"), "{t}");
    assert_eq!(t["step"], "self-service", "nobody asked for the admin deletion: {t}");
    assert!(t["staff_action"].is_null(), "{t}");
    assert_eq!(drafts(&s).len(), 1);
}
