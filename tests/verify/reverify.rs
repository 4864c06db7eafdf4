//! A DNS outage while a request arrives: the DKIM factor is `none
//! (temporary)`, never `fail`; the message is checked again later, and when
//! the resolver answers, the sender is verified and the waiting procedure
//! moves on by itself. A reply held in an outage is handled, once a
//! re-check proves it, as the reply it is; one it does not prove stays
//! held.


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

/// `args` run as `triaged` would at `now`.
fn at(s: &Setup, now: &str, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&s.config)
        .args(args)
        .env("TRIAGED_NOW", now)
        .output()
        .unwrap();
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Points the daemon at `nameserver` from its next run on.
fn use_nameserver(s: &Setup, nameserver: &str) {
    let text = std::fs::read_to_string(&s.config).unwrap();
    let swapped: Vec<String> = text
        .lines()
        .map(|l| if l.starts_with("nameservers = ") { format!("nameservers = [\"{nameserver}\"]") } else { l.to_string() })
        .collect();
    std::fs::write(&s.config, swapped.join("\n")).unwrap();
}

const ALICE: &str = "Alice <alice@example.org>";
const BEFORE: &str = "2026-12-01T09:00:00Z";
const OUTAGE: &str = "2026-12-01T10:00:00Z";
/// The first re-check, the resolver back.
const BACK: &str = "2026-12-01T10:06:00Z";

/// A mail from `from`, DKIM-signed by `domain` over the usual headers and
/// the ones that thread it.
fn signed_by(world: &World, domain: &str, from: &str, subject: &str, extra: &str, body: &str) -> String {
    let raw = format!(
        "From: {from}\r\nTo: support@cacert.org\r\n{extra}Subject: {subject}\r\nDate: Tue, 01 Dec 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        rand::random::<u64>()
    );
    let headers: Vec<&str> = crate::support::verify_fixture::SIGNED.iter().copied().chain(["In-Reply-To", "References"]).collect();
    crate::support::verify_fixture::plain_with_headers(world.rsa.mail_auth_key(), domain, "rsa", &headers, &raw)
}

/// A reply as alice, signed by `domain`, to our latest mail on ticket 1.
fn alice_replies(world: &World, s: &Setup, domain: &str, body: &str) -> String {
    replies_as(world, s, ALICE, domain, body)
}

/// A reply from `from`, signed by `domain`, to our latest mail on ticket 1.
fn replies_as(world: &World, s: &Setup, from: &str, domain: &str, body: &str) -> String {
    let ours = our_latest_draft(s, 1);
    let threads = format!("In-Reply-To: <{ours}>\r\nReferences: <{ours}>\r\n");
    signed_by(world, domain, from, "Re: [#1] Please delete my account", &threads, body)
}

/// A reply as alice that claims her domain's signature: signed by
/// attacker.test, its header then made to say d=example.org. Only her
/// domain's key (DNS) tells it is no valid signature.
fn claims_her_domain(world: &World, s: &Setup, body: &str) -> String {
    let forged = alice_replies(world, s, "attacker.test", body);
    assert!(forged.contains("d=attacker.test;"), "{forged}");
    forged.replacen("d=attacker.test;", "d=example.org;", 1)
}

/// `raw` with its DKIM-Signature header cut: a mail nobody signed.
fn unsigned(raw: &str) -> String {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let mut kept = Vec::new();
    let mut in_signature = false;
    for line in head.split("\r\n") {
        if !line.starts_with([' ', '\t']) {
            in_signature = line.to_ascii_lowercase().starts_with("dkim-signature:");
        }
        if !in_signature {
            kept.push(line);
        }
    }
    format!("{}\r\n\r\n{body}", kept.join("\r\n"))
}

/// CAcert, with alice's account on file: her deletion request, DKIM-signed
/// by her domain (she is verified), its facts recorded (her last certificate
/// expired on 2026-11-15, so a confirmation puts the deletion on hold,
/// with a mail). The initial mail asks her to confirm.
fn alice_asked_to_confirm(world: &World) -> Setup {
    let accounts = world.dir.path().join("accounts.toml");
    let extra = format!("[identity]\naccounts = \"{}\"\n[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n", accounts.display(), world.dns.addr());
    let s = setup_pack("cacert", &extra);
    let request = signed_by(world, "example.org", ALICE, "Please delete my account", "", "Hello, please delete my CAcert account, I do not need it any more.");
    s.dovecot.deliver("INBOX", request.as_bytes());
    at(&s, BEFORE, &["run", "--once"]);
    at(&s, BEFORE, &["set", "1", "assurances=0", "active_certificates=0", "last_certificate_expiry=2026-11-15"]);
    at(&s, BEFORE, &["run", "--once"]);
    assert_eq!(first_ticket(&s)["step"], "initial");
    assert_eq!(drafts(&s).len(), 1);
    s
}

/// `triaged show 1`: the ticket and its history.
fn show(s: &Setup) -> String {
    String::from_utf8_lossy(&triaged(&s.config, &["show", "1"]).stdout).into_owned()
}

const YES: &str = "Yes, I confirm the deletion and accept the arbitration.";

fn on_hold_drafts(s: &Setup) -> usize {
    drafts(s).iter().filter(|d| d.text.contains("on hold")).count()
}

/// `replies` arrive while the resolver takes queries and never answers:
/// each is held, and staff read that it is checked again. Then the
/// resolver is back, and the first re-check runs.
fn held_in_an_outage_then_rechecked(world: &World, s: &Setup, replies: &[&str]) {
    held_in_an_outage_keeping(world, s, replies, replies.len());
}

/// As `held_in_an_outage_then_rechecked`, where staff read of `kept` of
/// the `replies` that they are checked again, and of the others that they
/// are not.
fn held_in_an_outage_keeping(world: &World, s: &Setup, replies: &[&str], kept: usize) {
    // A socket held while the outage lasts (see the first test).
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    use_nameserver(s, &silent.local_addr().unwrap().to_string());
    for r in replies {
        s.dovecot.deliver("INBOX", r.as_bytes());
    }
    let (before, drafted) = (first_ticket(s), drafts(s).len());
    at(s, OUTAGE, &["run", "--once"]);
    let t = first_ticket(s);
    assert_eq!((&t["step"], &t["state"]), (&before["step"], &before["state"]), "held: {t}");
    assert_eq!(drafts(s).len(), drafted, "nothing drafted for what is held");
    let shown = show(s);
    assert_eq!(shown.matches("tried again every 5 minutes").count(), kept, "staff know which are checked again: {shown}");
    assert_eq!(shown.matches("could find valid: not checked again").count(), replies.len() - kept, "and which are not: {shown}");

    drop(silent);
    use_nameserver(s, &world.dns.addr().to_string());
    at(s, BACK, &["run", "--once"]);
}

/// alice's signed confirmation arrives while the resolver is down: it
/// proves nothing yet and is held. Once the re-check proves it, it is read
/// as what it says: the deletion goes on hold, with its mail, once, and
/// staff are told it was re-checked. Before, the re-check only recorded
/// the evidence, and her "yes" was lost.
#[test]
fn a_confirmation_held_while_dns_fails_moves_the_ticket_once_the_recheck_proves_it() {
    let world = World::start();
    let s = alice_asked_to_confirm(&world);
    held_in_an_outage_then_rechecked(&world, &s, &[&alice_replies(&world, &s, "example.org", YES)]);
    let t = first_ticket(&s);
    assert_eq!(t["step"], "on-hold", "her yes, proven, moved the ticket: {t}");
    assert_eq!(on_hold_drafts(&s), 1, "the on-hold mail is drafted");
    let shown = show(&s);
    assert!(shown.contains(", confirm, held until a re-check proved it"), "{shown}");

    // Later passes (each a restart) handle it no more.
    at(&s, "2026-12-01T10:12:00Z", &["run", "--once"]);
    at(&s, "2026-12-01T11:30:00Z", &["run", "--once"]);
    assert_eq!(drafts(&s).len(), 2, "one mail for her yes, once");
    assert_eq!(first_ticket(&s)["step"], "on-hold");
}

/// In the same outage, after alice's signed "yes", a "no" as alice that
/// claims her domain's signature (a header anyone can write) is held too,
/// and kept: only her domain's key tells. The re-check proves her yes and
/// not the forged no: the deletion goes on hold, and the no is still held,
/// taking back nothing.
#[test]
fn a_forged_reply_held_in_the_same_outage_is_still_held_after_the_recheck() {
    let world = World::start();
    let s = alice_asked_to_confirm(&world);
    let yes = alice_replies(&world, &s, "example.org", YES);
    let forged = claims_her_domain(&world, &s, "No, do not delete my account, I changed my mind.");
    held_in_an_outage_then_rechecked(&world, &s, &[&yes, &forged]);
    let t = first_ticket(&s);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("on-hold"), Some("waiting")), "her yes counts, the forged no does not: {t}");
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("lock the account")), "{t}");
    assert_eq!(drafts(&s).len(), 2);
    let forged_id = triaged::message::Message::parse(forged.into_bytes()).unwrap().message_id;
    let shown = show(&s);
    assert!(shown.contains(&format!("reply {forged_id} still held (no factor of its own passed)")), "{shown}");
}

/// Two replies from alice held in one outage: each is kept and checked
/// again, in the order they came, and each is handled as a reply (before,
/// the second replaced the first, and neither moved anything).
#[test]
fn two_held_replies_on_one_ticket_are_both_rechecked() {
    let world = World::start();
    let s = alice_asked_to_confirm(&world);
    let (first, again) = (alice_replies(&world, &s, "example.org", YES), alice_replies(&world, &s, "example.org", YES));
    held_in_an_outage_then_rechecked(&world, &s, &[&first, &again]);
    let t = first_ticket(&s);
    assert_eq!(t["step"], "on-hold", "{t}");
    let shown = show(&s);
    assert_eq!(shown.matches("held until a re-check proved it").count(), 2, "both were released: {shown}");
    assert_eq!(on_hold_drafts(&s), 1, "the second yes, read at the step the first led to, drafts no second on-hold mail");
}

/// A ticket keeps 4 held replies for a re-check. Five arrive in
/// one outage (alice's signed "yes", then four "no"s that claim her
/// domain's signature and name our mail, as only someone who received it
/// can): her yes is pushed out and never checked again. Staff were told
/// it would be, so they are told it will not, in the hold of the reply
/// that pushed it out, and not only in the log.
#[test]
fn a_held_reply_pushed_out_of_the_recheck_is_named_to_staff() {
    let world = World::start();
    let s = alice_asked_to_confirm(&world);
    let yes = alice_replies(&world, &s, "example.org", YES);
    let forged: Vec<String> = (0..4).map(|_| claims_her_domain(&world, &s, "No, do not delete my account.")).collect();
    let replies: Vec<&str> = std::iter::once(yes.as_str()).chain(forged.iter().map(String::as_str)).collect();
    held_in_an_outage_then_rechecked(&world, &s, &replies);
    let yes_id = triaged::message::Message::parse(yes.into_bytes()).unwrap().message_id;
    let shown = show(&s);
    assert!(shown.contains(&format!("held reply {yes_id} no longer checked again (a ticket keeps 4 for one): check it by hand")), "{shown}");
    assert_eq!(first_ticket(&s)["step"], "initial", "nothing released it");
}

/// In an outage every mail in alice's name has checks that could not run,
/// forged or not. Four "no"s as alice that carry no signature of her
/// domain (two unsigned, two signed by attacker.test) cannot be proven by
/// any re-check: each is held as it is, without the promise of one, and is
/// not kept. Her signed "yes" before them is thus not pushed out of the
/// four a ticket keeps, and the re-check proves it. Before, each forgery
/// was kept, and the fourth pushed her yes out.
#[test]
fn a_forged_unsigned_reply_during_an_outage_is_not_kept_for_a_recheck() {
    let world = World::start();
    let s = alice_asked_to_confirm(&world);
    let yes = alice_replies(&world, &s, "example.org", YES);
    let no = "No, do not delete my account.";
    let forged: Vec<String> = (0..4)
        .map(|n| {
            let by_attacker = alice_replies(&world, &s, "attacker.test", no);
            if n % 2 == 0 { unsigned(&by_attacker) } else { by_attacker }
        })
        .collect();
    let replies: Vec<&str> = std::iter::once(yes.as_str()).chain(forged.iter().map(String::as_str)).collect();
    held_in_an_outage_keeping(&world, &s, &replies, 1);
    let shown = show(&s);
    assert!(!shown.contains("no longer checked again"), "{shown}");
    assert_eq!(first_ticket(&s)["step"], "on-hold", "her yes, proven, moved the ticket: {shown}");
    assert_eq!(shown.matches("held until a re-check proved it").count(), 1, "{shown}");
}

/// Forgeries that claim her domain's signature are kept (only its key
/// tells), but four that name the ticket by its subject tag alone, which
/// anyone can write, do not push out her signed "yes" to our mail, which
/// only she received: a full ticket drops those first. The re-check
/// proves her yes and none of them.
#[test]
fn forged_replies_that_only_tag_the_ticket_do_not_push_out_one_that_answers_our_mail() {
    let world = World::start();
    let s = alice_asked_to_confirm(&world);
    let yes = alice_replies(&world, &s, "example.org", YES);
    let tagged = || {
        let forged = signed_by(&world, "attacker.test", ALICE, "Re: [#1] Please delete my account", "", "No, do not delete my account.");
        forged.replacen("d=attacker.test;", "d=example.org;", 1)
    };
    let forged: Vec<String> = (0..4).map(|_| tagged()).collect();
    let replies: Vec<&str> = std::iter::once(yes.as_str()).chain(forged.iter().map(String::as_str)).collect();
    held_in_an_outage_then_rechecked(&world, &s, &replies);
    let shown = show(&s);
    assert!(!shown.contains(&format!("held reply {} no longer", triaged::message::Message::parse(yes.into_bytes()).unwrap().message_id)), "{shown}");
    assert_eq!(first_ticket(&s)["step"], "on-hold", "her yes, proven, moved the ticket: {shown}");
    assert_eq!(shown.matches("held until a re-check proved it").count(), 1, "no forgery was released: {shown}");
}

/// Ann, whom no directory knows, asks CAcert by mail DKIM-signed by her
/// domain while the resolver is down: her request is kept for a re-check,
/// which cannot settle while the outage lasts. Each try is written in the
/// ticket's history, but the channel hears nothing of a try that changes
/// nothing; it hears of the last one, which gives up and asks for a
/// person. Before, it heard "still partly unreachable; trying again in 5
/// minutes" every 5 minutes for an hour.
#[tokio::test(flavor = "multi_thread")]
async fn the_channel_hears_of_a_recheck_only_when_its_outcome_changes_or_it_gives_up() {
    use crate::support::ircd::{Ircd, IrcClient, daemon_irc_section, privmsg_from};
    const CH: &str = "#support";
    let ircd = Ircd::start();
    let mut bob = IrcClient::connect(ircd.port, "bob").await;
    bob.join(CH).await;
    let seen = tokio::task::spawn_blocking(move || {
        let world = World::start();
        // The default resolver of a test is down (refused at once).
        let s = setup_pack("cacert", &daemon_irc_section(&ircd, CH));
        let request = signed_by(&world, "example.org", "Ann <ann@example.org>", "Please delete my account", "", "Hello, please delete my CAcert account, I do not need it any more.");
        s.dovecot.deliver("INBOX", request.as_bytes());
        at(&s, "2026-12-01T09:00:00Z", &["run", "--once"]);
        assert!(first_ticket(&s)["identity"].as_str().unwrap().contains("dkim retry"), "{}", first_ticket(&s));
        for n in 1..=12 {
            at(&s, &format!("2026-12-01T{:02}:{:02}:00Z", 9 + n * 6 / 60, n * 6 % 60), &["run", "--once"]);
        }
        let shown = show(&s);
        assert_eq!(shown.matches("identity re-checked (").count(), 12, "every try is in the history: {shown}");
        (s, ircd)
    })
    .await
    .unwrap();
    let lines = bob.drain(std::time::Duration::from_secs(2)).await;
    let rechecked: Vec<&str> = lines.iter().filter_map(|l| privmsg_from(l, "triaged", CH)).filter(|t| t.contains("identity re-checked")).collect();
    assert_eq!(rechecked.len(), 1, "{rechecked:?}");
    assert!(rechecked[0].starts_with("#1 identity re-checked, still partly unreachable after 12 tries; check by hand"), "{}", rechecked[0]);
    drop(seen);
}

/// A CAcert member no directory knows (CAcert records the facts by hand)
/// asks, DKIM-signed by her domain, for her account to be deleted; her
/// signed "yes" arrives while the resolver is down. It is held (the
/// request was signed, the reply's signature could not be checked), and
/// once the re-check proves it, it takes the deletion on. Before, the
/// check dropped "could not run" for a sender without an account, and
/// her yes was held for good, never checked again.
#[test]
fn a_reply_from_a_sender_without_an_account_held_while_dns_fails_is_released_by_the_recheck() {
    const ANN: &str = "Ann <ann@example.org>";
    let world = World::start();
    let s = setup_pack("cacert", &format!("[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n", world.dns.addr()));
    let request = signed_by(&world, "example.org", ANN, "Please delete my account", "", "Hello, please delete my CAcert account, I do not need it any more.");
    s.dovecot.deliver("INBOX", request.as_bytes());
    at(&s, BEFORE, &["run", "--once"]);
    at(&s, BEFORE, &["set", "1", "assurances=0", "active_certificates=0"]);
    at(&s, BEFORE, &["run", "--once"]);
    assert_eq!(first_ticket(&s)["step"], "initial");

    held_in_an_outage_then_rechecked(&world, &s, &[&replies_as(&world, &s, ANN, "example.org", YES)]);
    let t = first_ticket(&s);
    assert_eq!(t["step"], "execute", "her yes, proven, moved the ticket: {t}");
    let shown = show(&s);
    assert!(shown.contains(", confirm, held until a re-check proved it"), "{shown}");
}

/// A billing transfer: alice, verified by her signed request, names her
/// new account ~bob. bob's signed reply arrives while the resolver is
/// down: held, and once the re-check proves it, the ticket moves on to
/// the transfer, as had the check run. Before, a second account's reply
/// was never kept for a re-check and stayed held for good.
#[test]
fn a_second_accounts_reply_held_while_dns_fails_is_released_by_the_recheck() {
    // No domains on file: no web challenge to wait for.
    let accounts = "[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\ntwo_factor = false\n\n\
                    [[account]]\nusername = \"bob\"\nemail = \"bob@example.org\"\ntwo_factor = false\n";
    let world = World::start_with(accounts, "");
    let s = setup();
    config_with_dns(&s, &world, &world.dns.addr().to_string());
    let request = from_alice(&world, "Transfer my billing information to my new account", "Hello,\r\n\r\nplease move the billing information of ~alice to my new account ~bob.\r\n");
    s.dovecot.deliver("INBOX", request.as_bytes());
    at(&s, BEFORE, &["run", "--once"]);
    let t = first_ticket(&s);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("billing-transfer"), Some("check")), "{t}");

    let bob = replies_as(&world, &s, "Bob <bob@example.org>", "example.org", "Yes, ~bob is my new account.");
    held_in_an_outage_then_rechecked(&world, &s, &[&bob]);
    let t = first_ticket(&s);
    assert_eq!(t["step"], "transfer", "bob's reply, proven, moved the ticket: {t}");
    assert_eq!(s.tickets().len(), 1, "no ticket of its own for bob's reply");
    let shown = show(&s);
    assert!(shown.contains("second account reply") && shown.contains("held until a re-check proved it"), "{shown}");
}

/// sourcehut, its accounts told by a command (alice: card 4242): alice
/// asks for a refund without proof, and the command fails for a while
/// (every factor `none (temporary)`). A reply as alice that gives no card
/// digits, unsigned, can be proven by no re-check: it is held once and
/// not kept, as any other forgery in an outage. Her reply that gives the
/// digits is kept, and the re-check once the command answers proves it.
/// Before, every reply on a billing matter was kept, digits or not, and
/// its hold promised a re-check that could prove nothing.
#[test]
fn in_a_directory_outage_a_billing_reply_without_card_digits_is_not_kept() {
    let world = World::start();
    let down = world.dir.path().join("directory-down");
    let script = world.dir.path().join("accounts.sh");
    let alice = r#"{"username": "alice", "email": "alice@example.org", "two_factor": false, "billing_last4": "4242"}"#;
    std::fs::write(
        &script,
        format!("if [ -e '{}' ]; then echo 'directory down' >&2; exit 1; fi\ncase \"$1\" in alice@example.org) echo '{alice}';; *) echo null;; esac\n", down.display()),
    )
    .unwrap();
    let extra = format!("[identity]\naccounts_command = [\"sh\", \"{}\"]\n[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n", script.display(), world.dns.addr());
    let s = setup_with("none", &extra);
    let request = crate::support::verify_fixture::message(ALICE, "Refund please", "Please refund my last payment, I was charged twice.");
    s.dovecot.deliver("INBOX", request.as_bytes());
    at(&s, BEFORE, &["run", "--once"]);
    let t = first_ticket(&s);
    assert_eq!((t["procedure"].as_str(), t["state"].as_str()), (Some("refund"), Some("waiting")), "unproven, she is asked for proof: {t}");

    std::fs::write(&down, "").unwrap();
    let tagged = |body: &str| crate::support::verify_fixture::message(ALICE, "Re: [#1] Refund please", body);
    s.dovecot.deliver("INBOX", tagged("Never mind, do not refund it.").as_bytes());
    at(&s, OUTAGE, &["run", "--once"]);
    let shown = show(&s);
    assert_eq!(shown.matches("could find valid: not checked again").count(), 1, "no digits, nothing a re-check could pass: {shown}");
    assert!(shown.contains("the account directory could not be asked whose address it is") && !shown.contains("matches no account"), "staff are not told she has no account: {shown}");
    assert!(!shown.contains("tried again every 5 minutes"), "{shown}");

    // Hers answers our mail, as only she can.
    let ours = our_latest_draft(&s, 1);
    let digits = tagged("Sorry, forgot: my card ends in 4242.").replacen("Subject: ", &format!("In-Reply-To: <{ours}>\r\nReferences: <{ours}>\r\nSubject: "), 1);
    s.dovecot.deliver("INBOX", digits.as_bytes());
    at(&s, OUTAGE, &["run", "--once"]);
    let shown = show(&s);
    assert_eq!(shown.matches("tried again every 5 minutes").count(), 1, "her digits are kept for the re-check: {shown}");

    std::fs::remove_file(&down).unwrap();
    at(&s, BACK, &["run", "--once"]);
    let t = first_ticket(&s);
    assert!(t["identity"].as_str().unwrap().contains("verified 1/1 (billing_last4)"), "the re-check proved her digits: {t}");
}

/// A ticket full of alice's replies to our mail, all held in one outage
/// (four signed "yes"es): a forged "no" that only tags the ticket and
/// claims her domain's signature is the one not kept, and none of hers
/// is pushed out for it. Before, it pushed out her first.
#[test]
fn a_reply_that_only_tags_a_full_ticket_pushes_out_none_that_answer_our_mail() {
    let world = World::start();
    let s = alice_asked_to_confirm(&world);
    let yes: Vec<String> = (0..4).map(|_| alice_replies(&world, &s, "example.org", YES)).collect();
    let forged = signed_by(&world, "attacker.test", ALICE, "Re: [#1] Please delete my account", "", "No, do not delete my account.")
        .replacen("d=attacker.test;", "d=example.org;", 1);
    let replies: Vec<&str> = yes.iter().map(String::as_str).chain([forged.as_str()]).collect();
    held_in_an_outage_then_rechecked(&world, &s, &replies);
    let id = |raw: &str| triaged::message::Message::parse(raw.as_bytes().to_vec()).unwrap().message_id;
    let shown = show(&s);
    assert!(!shown.contains(&format!("held reply {} no longer", id(&yes[0]))), "{shown}");
    assert!(shown.contains(&format!("held reply {} no longer checked again", id(&forged))), "{shown}");
    assert_eq!(first_ticket(&s)["step"], "on-hold", "her yes, proven, moved the ticket: {shown}");
}

/// An unsigned request that comes while the account directory does not
/// answer: nothing in it a re-check could find valid, so it is not kept
/// for one, and staff are told so, and that the directory could not be
/// asked (not that no account has her address). Before, its identity
/// read "no account has alice@example.org" with a retry nothing would
/// ever run.
#[tokio::test(flavor = "multi_thread")]
async fn an_unsigned_request_in_a_directory_outage_tells_staff_it_is_not_checked_again() {
    use crate::support::ircd::{Ircd, IrcClient, daemon_irc_section, privmsg_from};
    const CH: &str = "#support";
    let ircd = Ircd::start();
    let mut bob = IrcClient::connect(ircd.port, "bob").await;
    bob.join(CH).await;
    let kept = tokio::task::spawn_blocking(move || {
        let world = World::start();
        let script = world.dir.path().join("accounts.sh");
        std::fs::write(&script, "echo 'directory down' >&2; exit 1\n").unwrap();
        let extra = format!(
            "[identity]\naccounts_command = [\"sh\", \"{}\"]\n[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n{}",
            script.display(),
            world.dns.addr(),
            daemon_irc_section(&ircd, CH)
        );
        let s = setup_with("none", &extra);
        let request = crate::support::verify_fixture::message(ALICE, "Refund please", "Please refund my last payment, I was charged twice.");
        s.dovecot.deliver("INBOX", request.as_bytes());
        at(&s, BEFORE, &["run", "--once"]);
        let t = first_ticket(&s);
        let identity = t["identity"].as_str().unwrap();
        assert!(identity.contains("the account directory could not be asked whose address it is"), "{t}");
        assert!(!identity.contains("no account has"), "{t}");
        let next = t["next_deadline"].as_str().unwrap_or_default();
        assert!(!next.starts_with("2026-12-01T09:05"), "no re-check is armed for it: {t}");
        (s, world)
    })
    .await
    .unwrap();
    let lines = bob.drain(std::time::Duration::from_secs(2)).await;
    let opened: Vec<&str> = lines.iter().filter_map(|l| privmsg_from(l, "triaged", CH)).filter(|t| t.contains("not checked again")).collect();
    assert_eq!(opened.len(), 1, "{lines:?}");
    assert!(opened[0].contains("carries no signature they could find valid"), "{}", opened[0]);
    drop(kept);
}
