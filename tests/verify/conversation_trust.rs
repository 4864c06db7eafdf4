//! Conversation trust, played as an attacker would, through the daemon
//! against a real Dovecot and a real DNS server: every header nobody signed
//! (From, Reply-To, In-Reply-To, References, Subject) is the attacker's.
//! Whatever they write, a ticket does not move, nothing is drafted to an
//! address no signature vouches for, and no account fact reaches an
//! unverified sender. The genuine flows next to each attack still work.


use std::path::Path;
use std::time::Duration;

use crate::support::dns::{Dns, Gate, Record};
use crate::support::gpg::Gpg;
use crate::support::harness::*;
use crate::support::ssh::{challenge_text, keygen, sign};
use triaged::message::Message;
use crate::support::verify_fixture::{SIGNED, World};

/// A support team with alice (one factor, card 4242), carol (2FA), bob
/// (alice's new account) and dave (a PGP key on file), all at example.org,
/// whose DKIM key the test DNS serves.
struct Team {
    world: World,
    s: Setup,
    keys: tempfile::TempDir,
    /// dave's GnuPG, whose key is on his account.
    gpg: Gpg,
}

impl Team {
    fn start() -> Team {
        let keys = tempfile::tempdir().unwrap();
        let alice = keygen(keys.path(), "alice");
        let carol = keygen(keys.path(), "carol");
        let gpg = Gpg::new();
        let fpr = gpg.key("Dave <dave@example.org>", "ed25519", "never", &[]);
        let dave = gpg.export(&fpr);
        let accounts = format!(
            "[[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\ntwo_factor = false\nbilling_last4 = \"4242\"\nssh_keys = [\"{alice}\"]\n\n\
             [[account]]\nusername = \"carol\"\nemail = \"carol@example.org\"\ntwo_factor = true\nssh_keys = [\"{carol}\"]\n\n\
             [[account]]\nusername = \"bob\"\nemail = \"bob@example.org\"\ntwo_factor = false\n\n\
             [[account]]\nusername = \"dave\"\nemail = \"dave@example.org\"\ntwo_factor = false\npgp_keys = [\"\"\"{dave}\"\"\"]\n"
        );
        let world = World::start_with(&accounts, "");
        let s = setup();
        let team = Team { world, s, keys, gpg };
        team.use_dns(&team.world.dns.addr().to_string());
        team
    }

    fn use_dns(&self, nameserver: &str) {
        self.use_dns_waiting(nameserver, 1);
    }

    /// As `use_dns`, waiting up to `timeout_secs` for an answer.
    fn use_dns_waiting(&self, nameserver: &str, timeout_secs: u64) {
        let extra = format!(
            "[identity]\naccounts = \"{}\"\n[dns]\nnameservers = [\"{nameserver}\"]\ntimeout_secs = {timeout_secs}\n[intake]\naddresses = [\"support@sr.ht\"]\n",
            self.world.dir.path().join("accounts.toml").display()
        );
        self.s.reconfigure("none", None, "", &extra);
    }

    /// `message` with a DKIM signature by example.org over the usual
    /// headers plus `also`.
    fn dkim(&self, message: &str, also: &[&str]) -> String {
        let mut headers: Vec<&str> = SIGNED.to_vec();
        headers.extend_from_slice(also);
        crate::support::verify_fixture::plain_with_headers(self.world.rsa.mail_auth_key(), "example.org", "rsa", &headers, message)
    }

    fn deliver_and_run(&self, raw: &str) {
        self.s.deliver_and_run(raw);
    }

    fn tickets(&self) -> Vec<serde_json::Value> {
        self.s.tickets()
    }

    fn ticket(&self, n: u64) -> serde_json::Value {
        self.s.ticket(n)
    }

    /// Every draft with the address it is to.
    fn drafts(&self) -> Vec<(String, Message)> {
        self.s
            .dovecot
            .messages("Drafts")
            .into_iter()
            .map(|raw| {
                let to = first_header(&raw, "To");
                (to, Message::parse(raw).unwrap())
            })
            .collect()
    }

    /// Staff carried out the ticket's action (`triaged done N`); the "it is
    /// done" draft follows at the next pass.
    fn staff_done(&self, n: u64) {
        let out = triaged(&self.s.config, &["done", &n.to_string()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        run_once(&self.s);
    }

    /// Staff had not carried out the action taken back (`triaged
    /// not-done N`), applied at the next pass.
    fn staff_not_done(&self, n: u64) {
        let out = triaged(&self.s.config, &["not-done", &n.to_string()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        run_once(&self.s);
    }

    fn keys(&self) -> &Path {
        self.keys.path()
    }
}

/// A mail as a user (or an attacker) writes it; `extra` are more header
/// lines, each ending in CRLF.
fn mail(from: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: support@sr.ht\r\n{extra}Subject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        rand::random::<u64>()
    )
}

/// In-Reply-To and References naming `id`, and a Reply-To when given.
fn reply_headers(id: &str, reply_to: Option<&str>) -> String {
    let mut h = format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n");
    if let Some(r) = reply_to {
        h.push_str(&format!("Reply-To: {r}\r\n"));
    }
    h
}

fn no_draft_to(team: &Team, who: &str) {
    for (to, d) in team.drafts() {
        assert!(!to.contains(who), "a draft went to {to}:\n{}", d.text);
    }
}

const DELETE: &str = "Hello,\r\n\r\nplease delete my account.\r\n\r\nAlice";
const MALLORY: &str = "mallory@attacker.test";

#[test]
fn a_forged_reply_does_not_inherit_the_requests_verification() {
    let team = Team::start();
    team.deliver_and_run(&team.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", DELETE), &[]));
    let first = team.drafts();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, "Alice <alice@example.org>");
    assert_eq!(team.ticket(1)["step"], "self-service");
    let ours = first[0].1.message_id.clone();

    // The attacker even knows our draft's Message-ID and the ticket tag.
    let forged = mail(
        "Alice <alice@example.org>",
        "Re: [#1] Please delete my account",
        &reply_headers(&ours, Some(MALLORY)),
        "Yes, go ahead, I cannot log in any more.",
    );
    team.deliver_and_run(&forged);
    // Signed, but by a domain that is not alice's.
    let by_attacker = crate::support::verify_fixture::plain(
        team.world.rsa.mail_auth_key(),
        "attacker.test",
        "rsa",
        &mail("Alice <alice@example.org>", "Re: [#1] Please delete my account", &reply_headers(&ours, None), "Yes."),
    );
    team.deliver_and_run(&by_attacker);

    let t = team.ticket(1);
    assert_eq!(t["step"], "self-service", "the ticket did not move: {t}");
    assert_eq!(team.tickets().len(), 1, "the forged replies joined ticket #1 and changed nothing");
    assert_eq!(team.drafts().len(), 1, "nothing drafted for the forged replies");
    no_draft_to(&team, MALLORY);
}

#[test]
fn a_genuine_signed_mail_grafted_onto_a_forged_ticket_verifies_nothing() {
    let team = Team::start();
    // The attacker opens the ticket as alice, unsigned.
    team.deliver_and_run(&mail("Alice <alice@example.org>", "Please delete my account", "", DELETE));
    let ours = team.drafts()[0].1.message_id.clone();
    team.deliver_and_run(&mail(
        "Alice <alice@example.org>",
        "Re: [#1] Please delete my account",
        &reply_headers(&ours, None),
        "Yes, go ahead.",
    ));
    // Then re-sends a genuine mail of alice's about something else, with
    // an In-Reply-To and References added outside her signature.
    let genuine = team.dkim(&mail("Alice <alice@example.org>", "Builds are slow today", "", "Is the build farm down?"), &[]);
    let grafted = format!("{}{genuine}", reply_headers(&ours, None));
    team.deliver_and_run(&grafted);

    let t = team.ticket(1);
    assert!(t["identity"].as_str().unwrap().contains("NOT verified"), "{t}");
    assert_eq!(t["step"], "self-service", "{t}");
    for (_, d) in team.drafts() {
        assert!(!d.text.contains("has been deleted"), "{}", d.text);
    }
}

#[test]
fn drafts_go_to_the_accounts_address_not_an_unsigned_reply_to() {
    let team = Team::start();
    // Reply-To added after alice signed: DKIM no longer holds, and the
    // unsigned Reply-To is ignored.
    let signed = team.dkim(
        &mail("Alice <alice@example.org>", "Financial aid", "", "I am a student and cannot afford the subscription."),
        &[],
    );
    team.deliver_and_run(&format!("Reply-To: {MALLORY}\r\n{signed}"));
    let d = team.drafts();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0, "Alice <alice@example.org>", "{}", d[0].1.text);
    no_draft_to(&team, MALLORY);
}

#[test]
fn a_forged_reply_after_a_published_dns_token_does_not_disable_2fa() {
    let team = Team::start();
    team.deliver_and_run(&team.dkim(
        &mail("Carol <carol@example.org>", "Please disable 2FA", "", "I lost my phone, please disable two-factor authentication."),
        &[],
    ));
    let first = team.drafts();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].0, "Carol <carol@example.org>");
    let ours = first[0].1.message_id.clone();
    let token = first[0]
        .1
        .text
        .split_whitespace()
        .find_map(|w| w.trim_matches('"').strip_prefix("triaged-challenge=").map(str::to_string))
        .expect("the draft offers a DNS challenge");
    // Carol publishes the token on her mail domain, as the draft says.
    let dns = Dns::start(&[
        Record::txt("rsa._domainkey.example.org", format!("v=DKIM1; k=rsa; p={}", team.world.rsa.public_b64)),
        Record::txt("_triaged-challenge.example.org", format!("triaged-challenge={token}")),
    ]);
    team.use_dns(&dns.addr().to_string());

    team.deliver_and_run(&mail(
        "Carol <carol@example.org>",
        "Re: [#1] Please disable 2FA",
        &reply_headers(&ours, Some(MALLORY)),
        "Done, I published it.",
    ));
    let t = team.ticket(1);
    assert_ne!(t["step"], "disable", "{t}");
    assert_eq!(team.drafts().len(), 1, "nothing drafted for the forged reply");
    no_draft_to(&team, MALLORY);

    // Carol's own signed reply: DKIM and the DNS token, two factors.
    team.deliver_and_run(&team.dkim(
        &mail("Carol <carol@example.org>", "Re: [#1] Please disable 2FA", &reply_headers(&ours, None), "Done, I published it."),
        &["In-Reply-To", "References"],
    ));
    let t = team.ticket(1);
    assert_eq!(t["step"], "disable", "{t}");
    assert!(t["identity"].as_str().unwrap().contains("verified 2/2 (dkim, dns)"), "{t}");
    team.staff_done(1);
    let d = team.drafts();
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|(to, _)| to == "Carol <carol@example.org>"), "{:?}", d.iter().map(|x| &x.0).collect::<Vec<_>>());
}

#[test]
fn the_first_draft_to_an_unverified_sender_names_no_account_facts() {
    let team = Team::start();
    team.deliver_and_run(&mail(
        "Someone <carol@example.org>",
        "Please disable 2FA",
        &format!("Reply-To: {MALLORY}\r\n"),
        "I lost my phone, please disable two-factor authentication.",
    ));
    let d = team.drafts();
    assert_eq!(d.len(), 1);
    assert_eq!(d[0].0, "Someone <carol@example.org>", "to the account's address, never the attacker's");
    let text = &d[0].1.text;
    assert!(!text.contains("~carol"), "no username: {text}");
    assert!(!text.contains("Your account has"), "no 2FA status: {text}");
    assert!(!text.contains("challenge for carol,"), "the challenge names no username: {text}");
}

#[test]
fn two_factors_even_to_disable_2fa_on_a_one_factor_account() {
    let team = Team::start();
    team.deliver_and_run(&team.dkim(
        &mail("Alice <alice@example.org>", "Please disable 2FA", "", "I lost my phone, please disable two-factor authentication."),
        &[],
    ));
    let t = team.ticket(1);
    assert_eq!(t["step"], "check", "DKIM alone is one factor: {t}");
    assert!(t["identity"].as_str().unwrap().contains("NOT verified 1/2 (dkim)"), "{t}");
}

/// carol (2FA) asks, DKIM-signed, for 2FA to be disabled, and answers
/// the identity request with its challenge signed by her SSH key after
/// `words`. The answer is not DKIM-signed: the SSH signature over this
/// ticket's challenge is what ties it to the ticket.
fn carol_answers_the_2fa_identity_request(team: &Team, words: &str) {
    team.deliver_and_run(&team.dkim(
        &mail("Carol <carol@example.org>", "Please disable 2FA", "", "I lost my phone, please disable two-factor authentication."),
        &[],
    ));
    let first = &team.drafts()[0].1;
    let signature = sign(team.keys(), "carol", &challenge_text(&first.text));
    team.deliver_and_run(&mail(
        "Carol <carol@example.org>",
        "Re: [#1] Please disable 2FA",
        &reply_headers(&first.message_id, None),
        &format!("{words}\r\n\r\n{}", signature.replace('\n', "\r\n")),
    ));
}

#[test]
fn a_2fa_user_with_dkim_and_an_ssh_answer_gets_2fa_disabled() {
    let team = Team::start();
    carol_answers_the_2fa_identity_request(&team, "Here it is.");
    let t = team.ticket(1);
    assert_eq!(t["step"], "disable", "{t}");
    assert!(t["identity"].as_str().unwrap().contains("verified 2/2 (dkim, ssh)"), "{t}");
    team.staff_done(1);
    let d = team.drafts();
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|(to, _)| to == "Carol <carol@example.org>"));
    assert!(d[1].1.text.to_lowercase().contains("disabled") || d[0].1.text.to_lowercase().contains("disabled"));
}

/// "accounts with two factor authentication must be verified with two
/// factors, before ... any modifications to their account": carol proves
/// both, and in the same signed answer says she found her phone and 2FA
/// need not be disabled. Her proof does not outweigh her words: nobody is
/// asked to disable it, and a person reads her reply. When she then
/// confirms after all, staff are asked to.
#[test]
fn a_2fa_user_whose_signed_answer_takes_the_request_back_gets_nothing_disabled() {
    let team = Team::start();
    carol_answers_the_2fa_identity_request(&team, "Here it is. Actually I found my phone again, so no need to disable it any more.");
    let t = team.ticket(1);
    assert!(t["identity"].as_str().unwrap().contains("verified 2/2 (dkim, ssh)"), "{t}");
    assert!(t["staff_action"].is_null() && t["staff_note"].is_null(), "nobody is asked to disable 2FA: {t}");
    assert!(t["needs_person"].as_str().is_some_and(|h| h.contains("takes the request back")), "{t}");
    assert_eq!(team.drafts().len(), 1, "nothing drafted");

    team.deliver_and_run(&team.dkim(&mail("Carol <carol@example.org>", "Re: [#1] Please disable 2FA", "", "Yes, please go ahead."), &[]));
    let t = team.ticket(1);
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("disable two-factor")), "confirmed, staff are asked: {t}");
}

/// carol proves both factors and asks a question in the same answer:
/// staff are still asked to disable 2FA, and told to read her question
/// first and answer it by hand, which the "disabled" mail does not.
/// Before, the question was only in the ticket's history.
#[test]
fn a_2fa_user_whose_signed_answer_asks_a_question_has_it_read_before_2fa_is_disabled() {
    let team = Team::start();
    carol_answers_the_2fa_identity_request(&team, "Here it is. Will I have to set up 2FA again afterwards?");
    let t = team.ticket(1);
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("disable two-factor")), "{t}");
    assert!(t["needs_person"].as_str().is_some_and(|h| h.contains("also asks a question: read it before you disable")), "{t}");
    team.staff_done(1);
    assert!(team.ticket(1)["needs_person"].is_null(), "done: {}", team.ticket(1));
}

#[test]
fn a_forged_reply_cannot_close_a_pending_ticket_nor_a_case_variant_join_it() {
    let team = Team::start();
    // alice asks without a signature: the ticket waits for her proof.
    team.deliver_and_run(&mail("Alice <alice@example.org>", "Financial aid", "", "I am a student and cannot afford the subscription."));
    let t = team.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("check"), Some("waiting")), "{t}");
    let ours = team.drafts()[0].1.message_id.clone();

    team.deliver_and_run(&mail("Alice <alice@example.org>", "Re: [#1] Financial aid", &reply_headers(&ours, None), "Never mind."));
    let t = team.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("check"), Some("waiting")), "not refused: {t}");

    // ALICE@ is no address of alice's account (the local part is exact):
    // it does not join her ticket.
    team.deliver_and_run(&mail("ALICE@example.org", "Re: [#1] Financial aid", &reply_headers(&ours, None), "Never mind."));
    let t = team.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("check"), Some("waiting")), "{t}");
    assert_eq!(team.tickets().len(), 2, "the case variant is a ticket of its own");
    assert_eq!(team.drafts().iter().filter(|(_, d)| d.text.contains("unable to help")).count(), 0, "no refusal");
}

#[test]
fn the_last_four_card_digits_verify_a_billing_question() {
    let team = Team::start();
    team.deliver_and_run(&mail(
        "Alice <alice@example.org>",
        "Refund please",
        "",
        "I was charged twice this month, please refund one payment. My card ends in 4242.",
    ));
    let t = team.ticket(1);
    assert_eq!(t["procedure"], "refund");
    assert!(t["identity"].as_str().unwrap().contains("verified 1/1 (billing_last4)"), "{t}");
    assert_eq!(t["step"], "lookup", "verified, staff look up the payment date: {t}");
}

/// alice asks for a refund of a payment made today: staff are asked to
/// refund it (ticket 1, step `refund`).
fn alice_asks_for_a_refund(team: &Team) {
    team.deliver_and_run(&mail("Alice <alice@example.org>", "Refund please", "", "Please refund my last payment. My card ends in 4242."));
    let paid = jiff::Zoned::now().date().to_string();
    let out = triaged(&team.s.config, &["set", "1", &format!("payment_date={paid}")]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    run_once(&team.s);
}

/// alice, asked for her refund, puts it off ("don't do it yet"), signed.
fn alice_puts_her_refund_off(team: &Team) {
    let said = team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", "Please don't do it yet, I need to check my bank statement first."), &[]);
    team.deliver_and_run(&said);
}

/// alice takes her refund request back, signed, after staff were asked to
/// refund: the action no longer stands, and staff who had not refunded
/// say so (`not-done`): the ticket closes without the "refunded" draft.
#[test]
fn a_refund_taken_back_before_staff_refunded_gets_no_refunded_draft() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    let t = team.ticket(1);
    assert_eq!(t["step"], "refund", "{t}");
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("refund the payment")), "{t}");

    // Someone writing as alice without a signature: it withdraws nothing.
    team.deliver_and_run(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", "I changed my mind, please cancel my request."));
    let t = team.ticket(1);
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("refund the payment")), "a forged decline leaves the action: {t}");

    team.deliver_and_run(&team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", "I changed my mind, please cancel my request."), &[]));
    let t = team.ticket(1);
    assert!(t["staff_action"].is_null() && t["staff_note"].is_null(), "the refund no longer stands: {t}");
    assert!(t["needs_person"].as_str().is_some_and(|h| h.contains("takes the request back")), "{t}");
    assert!(t["needs_person"].as_str().is_some_and(|h| h.contains("if not, !notdone 1 (closed, nothing drafted)")), "{t}");

    team.staff_not_done(1);
    let t = team.ticket(1);
    assert_eq!(t["state"], "closed", "{t}");
    assert!(team.drafts().iter().all(|(_, d)| !d.text.contains("non-paying account")), "no \"refunded\" draft");
}

/// alice takes her refund back, and staff say `done`: read as "refunded
/// already", the answer says so and how to take it back; it was meant as
/// a close, so they say `not-done` while the "refunded" draft waits: the
/// ticket closes at the step it was taken back at and the draft is
/// withdrawn (a number would be documented as not used, overwriting its
/// row). Before, `not-done` was refused and said to `done` it, which left
/// the action documented as carried out.
#[test]
fn a_done_said_of_a_refund_taken_back_is_undone_by_not_done_while_its_draft_waits() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    team.deliver_and_run(&team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", "I changed my mind, please cancel my request."), &[]));
    let out = triaged(&team.s.config, &["done", "1"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(said.contains("(carried out although the user took it back; if it was not, notdone 1 while the draft waits)"), "{said}");
    run_once(&team.s);
    assert!(team.drafts().iter().any(|(_, d)| d.text.contains("non-paying account")), "the \"refunded\" draft");
    // `done` again, as a close: refused, naming the way back.
    let out = triaged(&team.s.config, &["done", "1"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("the user had taken it back: if it was not carried out, notdone 1"), "{said}");

    team.staff_not_done(1);
    let t = team.ticket(1);
    assert_eq!((t["state"].as_str(), t["step"].as_str()), (Some("closed"), Some("refund")), "{t}");
    assert!(team.drafts().iter().all(|(_, d)| !d.text.contains("non-paying account")), "no \"refunded\" draft");
}

/// alice puts her refund off ("don't do it yet") after staff were asked
/// to refund: staff who had not refunded say so (`not-done`), and the
/// ticket stays open, on hold until she confirms again, which asks staff
/// to refund once more; nothing is drafted meanwhile.
#[test]
fn a_refund_put_off_and_not_carried_out_waits_for_her_confirmation() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    let said = |text: &str| team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", text), &[]);
    alice_puts_her_refund_off(&team);
    let t = team.ticket(1);
    assert_eq!((t["taken_back"].as_str(), t["put_off"].as_bool()), (Some("refund the payment and set the account type to non-paying"), Some(true)), "{t}");

    let out = triaged(&team.s.config, &["not-done", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("on hold until the user confirms again"), "{}", String::from_utf8_lossy(&out.stdout));
    run_once(&team.s);
    let t = team.ticket(1);
    assert!(t["state"] != "closed" && t["taken_back"].is_null() && t["staff_action"].is_null(), "open, on hold: {t}");

    team.deliver_and_run(&said("Yes, I confirm."));
    let t = team.ticket(1);
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("refund the payment")), "asked to refund again: {t}");
    assert!(team.drafts().iter().all(|(_, d)| !d.text.contains("non-paying account")), "no \"refunded\" draft");
}

/// alice puts her refund off, staff had not refunded (`not-done`: on hold),
/// then she takes it back for good: staff are asked again, and `not-done`
/// closes the ticket, as for any take-back (a number it had is documented
/// as not used). Before, on hold the ticket owed no answer: `not-done` was
/// refused and `done` closed it leaving its number undocumented, while the
/// channel still offered both. On hold, what staff read no longer offers
/// `done` as "it goes on as done".
#[test]
fn a_refund_put_off_then_taken_back_is_closed_by_not_done() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    let said = |text: &str| team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", text), &[]);
    alice_puts_her_refund_off(&team);
    team.staff_not_done(1);
    let t = team.ticket(1);
    assert!(t["needs_person"].as_str().is_some_and(|h| h.contains("on hold until they confirm again")), "{t}");
    assert!(!t["needs_person"].as_str().unwrap_or_default().contains("it goes on as done"), "answered already: {t}");

    team.deliver_and_run(&said("I changed my mind, please cancel my request."));
    let t = team.ticket(1);
    assert_eq!(t["taken_back"].as_str(), Some("refund the payment and set the account type to non-paying"), "{t}");
    team.staff_not_done(1);
    assert_eq!(team.ticket(1)["state"], "closed");
    assert!(team.drafts().iter().all(|(_, d)| !d.text.contains("non-paying account")), "no \"refunded\" draft");
}

/// alice puts her refund off and staff had not refunded (`not-done`: on
/// hold); she never confirms, and staff give up on it: `done` does not
/// close it (its number would go undocumented) but says `not-done` does,
/// which closes it as a take-back. Before, `done` closed it plainly.
#[test]
fn a_refund_on_hold_is_closed_by_not_done_and_not_by_done() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    alice_puts_her_refund_off(&team);
    team.staff_not_done(1);
    let out = triaged(&team.s.config, &["done", "1"]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{said}");
    assert!(said.contains("not closed: the user put off") && said.contains("to close it, notdone 1"), "{said}");
    run_once(&team.s);
    assert_ne!(team.ticket(1)["state"], "closed");
    team.staff_not_done(1);
    assert_eq!(team.ticket(1)["state"], "closed");
}

/// alice's second take-back comes after staff said the refund was not
/// carried out (`not-done` closed the ticket): it reopens the ticket for a
/// person to read, but staff owe no answer any more, so what they read
/// offers none; `done` closes it again, with no "refunded" draft. Before,
/// it said `done` would go on as done and `not-done` would close it, and
/// `not-done` was then refused.
#[test]
fn a_take_back_after_not_done_offers_no_answer_already_given() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    let said = |text: &str| team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", text), &[]);
    team.deliver_and_run(&said("I changed my mind, please cancel my request."));
    team.staff_not_done(1);
    team.deliver_and_run(&said("Sorry, to be clear: please do not refund anything."));
    let t = team.ticket(1);
    let why = t["needs_person"].as_str().unwrap_or_default();
    assert!(t["state"] != "closed" && !why.is_empty(), "a person reads it: {t}");
    assert!(!why.contains("!notdone") && !why.contains("it goes on as done") && t["taken_back"].is_null(), "nothing owed: {t}");
    team.staff_done(1);
    assert_eq!(team.ticket(1)["state"], "closed");
    assert!(team.drafts().iter().all(|(_, d)| !d.text.contains("non-paying account")), "no \"refunded\" draft");
}

/// A reply is planned from the ticket as it is once its sender is
/// checked, not as it was when it arrived. alice takes her refund back
/// while staff record it as done: her DKIM key is still being looked up
/// when `done` moves the ticket on. Her decline then finds the refund done
/// (a person reads it); it does not put the ticket back at the refund step
/// with the action withdrawn, and the "refunded" draft stays.
#[test]
fn a_reply_checked_while_staff_record_the_action_does_not_undo_it() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    assert_eq!(team.ticket(1)["step"], "refund");

    let gate = Gate::start(team.world.dns.addr());
    team.use_dns_waiting(&gate.addr().to_string(), 30);
    let daemon = spawn_daemon(&team.s);
    gate.shut();
    let decline = team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", "I changed my mind, please cancel my request."), &[]);
    team.s.dovecot.deliver("INBOX", decline.as_bytes());
    wait_until("the decline's key lookup waits at the gate", Duration::from_secs(30), || gate.held() > 0);

    let out = triaged(&team.s.config, &["done", "1"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // The folder worker, which appends drafts, is still waiting for the
    // key: the "refunded" draft is planned, not yet in Drafts.
    wait_until("done is recorded", Duration::from_secs(20), || team.ticket(1)["step"] != "refund");
    let done = team.ticket(1);
    gate.open();
    wait_until("the decline is read", Duration::from_secs(30), || team.ticket(1)["needs_person"].is_string());

    let t = team.ticket(1);
    assert_eq!((&t["step"], &t["state"]), (&done["step"], &done["state"]), "the decline did not move the done ticket back: {t}");
    assert!(t["staff_action"].is_null(), "{t}");
    assert!(team.drafts().iter().any(|(_, d)| d.text.contains("non-paying account")), "the \"refunded\" draft stays");
    sigterm(daemon);
}

/// The same signed mail in two watched folders (sent to two of our
/// addresses): their two workers take it at once. The first one to reach
/// the intake checks its sender, its DKIM key lookup held at the gate;
/// the second has already looked for the mail among the tickets and not
/// found it. The mail still opens one ticket with one draft.
#[test]
fn the_same_mail_in_two_folders_taken_at_once_opens_one_ticket() {
    let team = Team::start();
    let gate = Gate::start(team.world.dns.addr());
    team.use_dns_waiting(&gate.addr().to_string(), 30);
    team.s.dovecot.create("Other");
    let text = std::fs::read_to_string(&team.s.config).unwrap().replace("folders = [\"INBOX\"]", "folders = [\"INBOX\", \"Other\"]");
    std::fs::write(&team.s.config, text).unwrap();
    let request = team.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", DELETE), &[]);
    team.s.dovecot.deliver("INBOX", request.as_bytes());
    team.s.dovecot.deliver("Other", request.as_bytes());
    gate.shut();
    let daemon = spawn_daemon(&team.s);
    wait_until("a key lookup waits at the gate", Duration::from_secs(30), || gate.held() > 0);
    // The other worker reads its copy meanwhile, and waits its turn.
    std::thread::sleep(Duration::from_secs(1));
    gate.open();
    wait_until("the draft", Duration::from_secs(30), || !team.drafts().is_empty());
    std::thread::sleep(Duration::from_secs(1));
    sigterm(daemon);
    assert_eq!(team.tickets().len(), 1, "{:?}", team.tickets());
    assert_eq!(team.drafts().len(), 1);
}

/// alice's billing transfer request, signed, in her own words.
fn alice_asks_to_transfer(team: &Team, words: &str) {
    team.deliver_and_run(&team.dkim(&mail("Alice <alice@example.org>", "Transfer my billing information to my new account", "", words), &[]));
}

#[test]
fn a_billing_transfer_verifies_both_accounts_in_one_ticket() {
    let team = Team::start();
    alice_asks_to_transfer(&team, "Please move the billing information of ~alice to my new account ~bob.");
    let t = team.ticket(1);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("billing-transfer"), Some("check")), "{t}");
    let ours = team.drafts()[0].1.message_id.clone();

    // Staff cannot type the second account's verification in.
    let out = triaged(&team.s.config, &["set", "1", "other_account_verified=true"]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));

    // Someone writing as dave, an account alice did not name, without a
    // signature: it takes no place in the ticket that bob's would need.
    team.deliver_and_run(&mail("Dave <dave@example.org>", "Re: [#1] Transfer", &reply_headers(&ours, None), "Yes, ~dave is my new account."));
    // dave himself, signed: he proves who he is, not that alice's billing
    // should go to him.
    team.deliver_and_run(&team.dkim(
        &mail("Dave <dave@example.org>", "Re: [#1] Transfer", &reply_headers(&ours, None), "Yes, ~dave is my new account."),
        &["In-Reply-To", "References"],
    ));
    let t = team.ticket(1);
    assert_eq!(t["step"], "check", "only the account alice named is the other account: {t}");
    assert_eq!(team.tickets().len(), 1);

    // Someone writing as bob without a signature: nothing.
    team.deliver_and_run(&mail("Bob <bob@example.org>", "Re: [#1] Transfer", &reply_headers(&ours, Some(MALLORY)), "Yes, that is my new account."));
    assert_eq!(team.ticket(1)["step"], "check");
    assert_eq!(team.tickets().len(), 1);

    // bob's own signed reply, as the draft asks: the same ticket moves on.
    team.deliver_and_run(&team.dkim(
        &mail("Bob <bob@example.org>", "Re: [#1] Transfer", &reply_headers(&ours, None), "Yes, ~bob is my new account."),
        &["In-Reply-To", "References"],
    ));
    let t = team.ticket(1);
    assert_eq!(t["step"], "transfer", "{t}");
    assert_eq!(team.tickets().len(), 1, "no second ticket for the second account");
    team.staff_done(1);
    let d = team.drafts();
    assert_eq!(d.len(), 2);
    assert!(d.iter().all(|(to, _)| to == "Alice <alice@example.org>"), "{:?}", d.iter().map(|x| &x.0).collect::<Vec<_>>());
    no_draft_to(&team, MALLORY);
}

/// "Verify both accounts": the new account's owner proving who he is
/// while saying no ("Do not transfer, I never agreed to this") gives no
/// go-ahead. His signed no stops the transfer before staff are asked, and
/// withdraws the staff action once they were; a person reads it. Before,
/// the second account's words were never read: his refusal proved the
/// other account, and the transfer went to staff.
#[test]
fn the_second_accounts_signed_no_does_not_move_the_transfer_on() {
    let team = Team::start();
    let bob_says = |ticket: u64, words: &str| {
        let ours = team.drafts().into_iter().find(|(_, d)| d.subject.contains(&format!("[#{ticket}]"))).unwrap().1.message_id;
        team.deliver_and_run(&team.dkim(
            &mail("Bob <bob@example.org>", &format!("Re: [#{ticket}] Transfer"), &reply_headers(&ours, None), words),
            &["In-Reply-To", "References"],
        ));
    };
    alice_asks_to_transfer(&team, "Please move the billing information of ~alice to my new account ~bob.");
    assert_eq!(team.ticket(1)["step"], "check");
    bob_says(1, "Do not transfer anything to my account, I never agreed to this.");
    let t = team.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("objected"), Some("new")), "{t}");
    assert!(t["staff_action"].is_null(), "nobody is asked to transfer: {t}");
    assert_eq!(team.drafts().len(), 1, "nothing drafted to alice: {t}");

    // Asked again, bob agrees, and staff are asked to transfer; then he
    // takes it back, signed: the action no longer stands.
    alice_asks_to_transfer(&team, "Please move the billing information of ~alice to my new account ~bob.");
    bob_says(2, "Yes, ~bob is my new account.");
    assert_eq!(team.ticket(2)["step"], "transfer");
    bob_says(2, "Do not transfer, I changed my mind.");
    let t = team.ticket(2);
    assert!(t["staff_action"].is_null(), "the transfer no longer stands: {t}");
    assert_eq!(team.tickets().len(), 2, "bob's replies open no ticket of their own");
}

/// alice names two accounts; someone writing as carol, without a
/// signature, answers first. That proves nothing, so it takes no account's
/// place in the ticket: bob, the one who proves himself, is the other
/// account, in the same ticket.
#[test]
fn an_unsigned_reply_as_one_named_account_keeps_no_place_from_the_other() {
    let team = Team::start();
    alice_asks_to_transfer(&team, "Please move the billing information of ~alice to my new account ~bob. ~carol pays for it today.");
    assert_eq!(team.ticket(1)["step"], "check");

    team.deliver_and_run(&mail("Carol <carol@example.org>", "Re: [#1] Transfer", "", "Yes, ~carol is the new account."));
    assert_eq!(team.ticket(1)["step"], "check", "the unsigned reply moved nothing");

    team.deliver_and_run(&team.dkim(
        &mail("Bob <bob@example.org>", "Re: [#1] Transfer", "", "Yes, ~bob is my new account."),
        &[],
    ));
    let t = team.ticket(1);
    assert_eq!(t["step"], "transfer", "bob's signed reply is the one that proves the other account: {t}");
    assert_eq!(team.tickets().len(), 1, "no ticket of its own for bob's reply");
    // Staff are told which account proved itself, beside every one alice
    // named, to check that it is the one she meant.
    let shown = triaged(&team.s.config, &["show", "1"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(shown.contains("as ~bob (the request named ~alice, ~bob, ~carol)"), "{shown}");
}

/// `text` clear-signed by dave, as a mail body.
fn signed_by_dave(team: &Team, text: &str) -> String {
    team.gpg.clearsign("dave@example.org", text, &[]).replace("\r\n", "\n").replace('\n', "\r\n")
}

/// "Users can perform self-service account deletion ... This is preferred
/// to admin intervention": alice, verified by her domain's signature,
/// answers the self-service mail with a plain "Thank you very much!". It
/// asks no admin to delete her account: the ticket closes with nothing
/// more drafted. Before, any reply but a few words was taken for the
/// admin deletion, and staff were asked to delete the account.
#[test]
fn a_thank_you_for_the_self_service_mail_asks_no_admin_to_delete_the_account() {
    let team = Team::start();
    team.deliver_and_run(&team.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", DELETE), &[]));
    assert_eq!(team.ticket(1)["step"], "self-service");
    let ours = team.drafts()[0].1.message_id.clone();
    team.deliver_and_run(&team.dkim(
        &mail("Alice <alice@example.org>", "Re: [#1] Please delete my account", &reply_headers(&ours, None), "Thank you very much!\r\n\r\nAlice"),
        &["In-Reply-To"],
    ));
    let t = team.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("nothing-more"), Some("closed")), "{t}");
    assert!(t["staff_action"].is_null(), "{t}");
    assert_eq!(team.drafts().len(), 1, "nothing more drafted");
}

#[test]
fn a_pgp_signed_deletion_reaches_the_admin_step_and_a_replayed_signed_mail_does_not() {
    let team = Team::start();
    let request = signed_by_dave(&team, "Hello,\n\nplease delete my account.\n\nDave\n");
    team.deliver_and_run(&mail("Dave <dave@example.org>", "Please delete my account", "", &request));
    let t = team.ticket(1);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("account-deletion"), Some("self-service")), "{t}");
    assert!(t["identity"].as_str().unwrap().contains("verified 1/1 (pgp)"), "{t}");
    let ours = team.drafts()[0].1.message_id.clone();

    // A mail dave signed for some other purpose, grafted on: it proves dave
    // wrote it, not that he answers ticket #1.
    let elsewhere = signed_by_dave(&team, "I cannot log in any more, please do it for me.\n");
    team.deliver_and_run(&mail("Dave <dave@example.org>", "Re: [#1] Please delete my account", &reply_headers(&ours, None), &elsewhere));
    assert_eq!(team.ticket(1)["step"], "self-service");
    assert_eq!(team.drafts().len(), 1);

    // His answer names the ticket inside the signed text, as the drafts ask.
    let answer = signed_by_dave(&team, "Re [#1]: I cannot log in any more, please delete it for me.\n");
    team.deliver_and_run(&mail("Dave <dave@example.org>", "Re: [#1] Please delete my account", &reply_headers(&ours, None), &answer));
    let t = team.ticket(1);
    assert_eq!(t["step"], "admin-delete", "{t}");
    let d = team.drafts();
    assert!(d.iter().all(|(to, _)| to == "Dave <dave@example.org>"));
}

/// A CAcert member the directory does not know (CAcert's usual case: it
/// records the facts by hand) asks, DKIM-signed by their domain, for their
/// account to be deleted. A forged "yes" (From, In-Reply-To naming our
/// draft and `[#1]`, all headers nobody signed) does not take it to the
/// execution, and staff are told why; the member's own signed "yes" does.
#[test]
fn without_an_account_a_reply_proves_as_much_as_the_signed_request() {
    let world = World::start();
    let s = setup_pack("cacert", &format!("[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n", world.dns.addr()));
    let signed = |raw: &str| {
        let headers: Vec<&str> = SIGNED.iter().copied().chain(["In-Reply-To", "References"]).collect();
        crate::support::verify_fixture::plain_with_headers(world.rsa.mail_auth_key(), "example.org", "rsa", &headers, raw)
    };
    const ANN: &str = "Ann <ann@example.org>";
    s.deliver_and_run(&signed(&mail(ANN, "Please delete my account", "", "Hello, please delete my CAcert account, I do not need it any more.")));
    let set = triaged(&s.config, &["set", "1", "assurances=0", "active_certificates=0"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    run_once(&s);
    assert_eq!(s.ticket(1)["step"], "initial");
    let ours = drafts(&s)[0].message_id.clone();
    let yes = "Yes, I confirm the deletion and accept the arbitration.";

    s.deliver_and_run(&mail(ANN, "Re: [#1] Please delete my account", &reply_headers(&ours, None), yes));
    let t = s.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("initial"), Some("waiting")), "the forged yes moved nothing: {t}");
    assert_eq!(drafts(&s).len(), 1, "nothing drafted for it");
    let shown = String::from_utf8_lossy(&triaged(&s.config, &["show", "1"]).stdout).into_owned();
    assert!(
        shown.contains("claiming to be ann@example.org (the request was DKIM-signed by example.org; this reply is not)"),
        "{shown}"
    );

    s.deliver_and_run(&signed(&mail(ANN, "Re: [#1] Please delete my account", &reply_headers(&ours, None), yes)));
    let t = s.ticket(1);
    assert_eq!(t["step"], "execute", "the member's own signed yes: {t}");
    assert_eq!(s.tickets().len(), 1);
}

/// Ann's unsigned request to CAcert (no account directory), at the step
/// that asks her to confirm: the setup and the Message-ID of her request.
fn ann_asks_cacert_to_delete_unsigned() -> (Setup, String) {
    let s = setup_pack("cacert", "");
    const ANN: &str = "Ann <ann@example.org>";
    s.deliver_and_run(&mail(ANN, "Please delete my account", "", "Hello, please delete my CAcert account, I do not need it any more."));
    let set = triaged(&s.config, &["set", "1", "assurances=0", "active_certificates=0"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    run_once(&s);
    assert_eq!(s.ticket(1)["step"], "initial");
    let request = drafts(&s)[0].in_reply_to[0].clone();
    (s, request)
}

/// CAcert, no account directory, a request nobody signed: the address is
/// all there is, and the confirmation proves it by reaching it. A "yes"
/// that names the ticket only by its `[#N]` tag (ticket numbers count up:
/// anyone can write one) is kept for staff and moves nothing; a reply to
/// the mail staff sent, which their client gave a Message-ID of its own,
/// moves it.
#[test]
fn without_a_signature_a_reply_moves_a_ticket_by_naming_our_mail_not_by_its_tag() {
    let (s, request) = ann_asks_cacert_to_delete_unsigned();
    const ANN: &str = "Ann <ann@example.org>";
    // Staff send the draft; their client gives it a new Message-ID.
    s.dovecot.deliver(
        "Sent",
        format!("From: CAcert Support <support@sr.ht>\r\nTo: {ANN}\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <sent-by-client@sr.ht>\r\nIn-Reply-To: <{request}>\r\n\r\nPlease confirm.\r\n").as_bytes(),
    );
    run_once(&s);
    let yes = "Yes, I confirm the deletion and accept the arbitration.";

    s.deliver_and_run(&mail(ANN, "Re: [#1] Please delete my account", "", yes));
    let t = s.ticket(1);
    assert_eq!(t["step"], "initial", "the tag alone moved nothing: {t}");
    let shown = String::from_utf8_lossy(&triaged(&s.config, &["show", "1"]).stdout).into_owned();
    assert!(shown.contains("claiming to be ann@example.org (it names #1 only by its subject tag"), "{shown}");

    // A forward to a colleague (or a post to a list) is no mail to Ann:
    // whoever read it cannot name it to move her ticket.
    s.dovecot.deliver(
        "Sent",
        format!("From: CAcert Support <support@sr.ht>\r\nTo: colleague@sr.ht\r\nSubject: Fwd: [#1] Please delete my account\r\nMessage-ID: <forwarded@sr.ht>\r\nIn-Reply-To: <{request}>\r\n\r\nCan you look?\r\n").as_bytes(),
    );
    run_once(&s);
    s.deliver_and_run(&mail(ANN, "Re: [#1] Please delete my account", &reply_headers("forwarded@sr.ht", None), yes));
    assert_eq!(s.ticket(1)["step"], "initial", "naming a forward moved nothing");

    s.deliver_and_run(&mail(ANN, "Re: [#1] Please delete my account", &reply_headers("sent-by-client@sr.ht", None), yes));
    let t = s.ticket(1);
    assert_eq!(t["step"], "execute", "a reply to the mail staff sent: {t}");
    assert_eq!(s.tickets().len(), 1);
}

/// CAcert, nothing signed, as above: staff answer Ann from their client
/// and copy someone outside the team (a public list, a friend of the
/// member's). The Message-ID of that mail is no longer known to Ann
/// alone: a forged "yes" that names it moves nothing. Copying our own
/// address (the team's archive) keeps it Ann's.
#[test]
fn a_reply_staff_also_sent_to_someone_else_does_not_tie_an_unsigned_reply() {
    let (s, request) = ann_asks_cacert_to_delete_unsigned();
    const ANN: &str = "Ann <ann@example.org>";
    let sent = |copied: &str, id: &str| {
        s.dovecot.deliver(
            "Sent",
            format!("From: CAcert Support <support@example.org>\r\nTo: {ANN}\r\n{copied}Subject: Re: [#1] Please delete my account\r\nMessage-ID: <{id}>\r\nIn-Reply-To: <{request}>\r\n\r\nPlease confirm.\r\n").as_bytes(),
        );
        run_once(&s);
    };
    let yes = "Yes, I confirm the deletion and accept the arbitration.";

    sent("Cc: cacert-public@lists.example.net\r\n", "copied@example.org");
    sent("Bcc: friend@elsewhere.example\r\n", "blind-copied@example.org");
    for id in ["copied@example.org", "blind-copied@example.org"] {
        s.deliver_and_run(&mail(ANN, "Re: [#1] Please delete my account", &reply_headers(id, None), yes));
        let t = s.ticket(1);
        assert_eq!(t["step"], "initial", "naming mail the list (or a friend) read moved nothing: {t}");
    }

    sent("Cc: CAcert Support <support@example.org>\r\n", "archived@example.org");
    s.deliver_and_run(&mail(ANN, "Re: [#1] Please delete my account", &reply_headers("archived@example.org", None), yes));
    let t = s.ticket(1);
    assert_eq!(t["step"], "execute", "a reply to mail only Ann and the team got: {t}");
    assert_eq!(s.tickets().len(), 1);
}

/// CAcert: a deletion request whose From names two addresses (Ann's and
/// Mallory's) and whose Reply-To is Mallory's. It has no identity, and its
/// notice must not go to Mallory: 14 days of silence from whoever got it
/// would delete the account of the address it did not reach.
#[test]
fn a_deletion_with_two_from_addresses_is_drafted_to_nobody() {
    let s = setup_pack("cacert", "");
    s.deliver_and_run(&mail(
        "Ann <ann@example.org>, Mallory <mallory@evil.example>",
        "Please delete my account",
        "Reply-To: <mallory@evil.example>\r\n",
        "Hello, please delete my CAcert account, I do not need it any more.",
    ));
    let set = triaged(&s.config, &["set", "1", "assurances=0", "active_certificates=0"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    run_once(&s);
    let t = s.ticket(1);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("account-deletion"), Some("initial")), "{t}");
    let drafted: Vec<String> = drafts(&s).iter().map(|d| String::from_utf8_lossy(d.raw()).into_owned()).collect();
    assert!(drafted.is_empty(), "no address to answer, no draft: {drafted:?}");
}

/// CAcert again: a question nobody classified is acknowledged at its
/// Reply-To, which nobody checked (a question changes nothing). Staff
/// move it onto the deletion: its mail now goes to From, and the
/// acknowledgement, which went elsewhere, no longer names the ticket for
/// anyone: whoever read it at the Reply-To cannot confirm as Ann.
#[test]
fn mail_that_went_to_an_unchecked_reply_to_does_not_tie_a_reply_once_the_ticket_acts_on_an_account() {
    let s = setup_pack("cacert", "");
    const ANN: &str = "Ann <ann@example.org>";
    s.deliver_and_run(&mail(ANN, "A question", "Reply-To: <mallory@evil.example>\r\n", "Hello, which browsers does your website support?"));
    assert_eq!(s.ticket(1)["procedure"], "unclassified");
    let ack = drafts(&s);
    assert_eq!(ack.len(), 1);
    assert!(String::from_utf8_lossy(ack[0].raw()).contains("mallory@evil.example"), "a question is answered where a mail client would");
    let ack = ack[0].message_id.clone();

    confirming_what_mallory_read_moves_nothing_once_staff_move_it_onto_the_deletion(&s, &[&ack]);
}

/// Staff move Ann's ticket onto the deletion: a "yes" that names mail of
/// ours Mallory read (`read_by_mallory`) moves nothing; Ann's, naming the
/// notice that reached her, confirms.
fn confirming_what_mallory_read_moves_nothing_once_staff_move_it_onto_the_deletion(s: &Setup, read_by_mallory: &[&str]) {
    const ANN: &str = "Ann <ann@example.org>";
    let moved = triaged(&s.config, &["reclassify", "1", "account-deletion"]);
    assert!(moved.status.success(), "{}", String::from_utf8_lossy(&moved.stderr));
    let set = triaged(&s.config, &["set", "1", "assurances=0", "active_certificates=0"]);
    assert!(set.status.success(), "{}", String::from_utf8_lossy(&set.stderr));
    run_once(s);
    assert_eq!(s.ticket(1)["step"], "initial");
    let yes = "Yes, I confirm the deletion and accept the arbitration.";

    for id in read_by_mallory {
        s.deliver_and_run(&mail(ANN, "Re: [#1] A question", &reply_headers(id, None), yes));
        let t = s.ticket(1);
        assert_eq!(t["step"], "initial", "a reply to mail Mallory read ({id}) moved nothing: {t}");
    }

    let ours = our_latest_draft(s, 1);
    s.deliver_and_run(&mail(ANN, "Re: [#1] A question", &reply_headers(&ours, None), yes));
    let t = s.ticket(1);
    assert_eq!(t["step"], "execute", "Ann's reply to the mail that reached her: {t}");
    assert_eq!(s.tickets().len(), 1);
}

/// As above, but Mallory, who forged the question in Ann's name, then
/// forges a follow-up in her name without a Reply-To ("please delete my
/// account"): the ticket's mail goes to Ann's address again before staff
/// move it onto the deletion. The acknowledgement still went to Mallory,
/// and staff's own answer to his Reply-To too: neither names the ticket
/// for a reply once it acts on an account.
#[test]
fn mail_that_went_to_an_unchecked_reply_to_does_not_tie_a_reply_after_a_later_one_without_it() {
    let s = setup_pack("cacert", "");
    s.dovecot.create("Sent");
    const ANN: &str = "Ann <ann@example.org>";
    s.deliver_and_run(&mail(ANN, "A question", "Reply-To: <mallory@evil.example>\r\n", "Hello, which browsers does your website support?"));
    assert_eq!(s.ticket(1)["procedure"], "unclassified");
    let ack = drafts(&s)[0].clone();
    assert!(String::from_utf8_lossy(ack.raw()).contains("mallory@evil.example"));
    s.dovecot.deliver(
        "Sent",
        format!(
            "From: CAcert Support <support@example.org>\r\nTo: <mallory@evil.example>\r\nSubject: Re: [#1] A question\r\nMessage-ID: <answered-mallory@example.org>\r\n\
             In-Reply-To: <{}>\r\n\r\nAll of them.\r\n",
            ack.in_reply_to[0]
        )
        .as_bytes(),
    );
    run_once(&s);
    s.deliver_and_run(&mail(ANN, "Re: [#1] A question", "", "Also, please delete my account."));
    confirming_what_mallory_read_moves_nothing_once_staff_move_it_onto_the_deletion(&s, &[&ack.message_id, "answered-mallory@example.org"]);
}

/// The verification mail asks each account to reply from its address.
/// alice's request was not signed; her signed reply proves her first,
/// and the ticket waits for bob instead of refusing her (before, her
/// reply went to `recheck`, found no second account yet, and the whole
/// request was refused before bob could answer).
#[test]
fn a_billing_transfer_waits_for_the_second_account_after_the_first_proves_itself() {
    let team = Team::start();
    team.deliver_and_run(&mail(
        "Alice <alice@example.org>",
        "Transfer my billing information to my new account",
        "",
        "Please move the billing information of ~alice to my new account ~bob.",
    ));
    let t = team.ticket(1);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("billing-transfer"), Some("check")), "{t}");
    let ours = team.drafts()[0].1.message_id.clone();

    team.deliver_and_run(&team.dkim(
        &mail("Alice <alice@example.org>", "Re: [#1] Transfer", &reply_headers(&ours, None), "Here is ~alice; ~bob answers next."),
        &["In-Reply-To", "References"],
    ));
    let t = team.ticket(1);
    assert_ne!(t["state"], "closed", "not refused while bob has yet to answer: {t}");
    assert_eq!(team.drafts().len(), 1, "no refusal drafted: {t}");

    team.deliver_and_run(&team.dkim(
        &mail("Bob <bob@example.org>", "Re: [#1] Transfer", &reply_headers(&ours, None), "Yes, ~bob is my new account."),
        &["In-Reply-To", "References"],
    ));
    let t = team.ticket(1);
    assert_eq!(t["step"], "transfer", "{t}");
    assert_eq!(team.tickets().len(), 1);
}

/// carol (2FA) asks, DKIM-signed, to move her billing to ~bob: one factor
/// of the two her account needs. The draft asks each account to reply
/// from its own address.
fn carol_asks_to_transfer_to_bob(team: &Team) -> Message {
    team.deliver_and_run(&team.dkim(
        &mail("Carol <carol@example.org>", "Transfer my billing information to my new account", "", "Please move the billing information of ~carol to my new account ~bob."),
        &[],
    ));
    let t = team.ticket(1);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("billing-transfer"), Some("check")), "{t}");
    assert!(t["identity"].as_str().unwrap().contains("NOT verified 1/2 (dkim)"), "{t}");
    team.drafts().remove(0).1
}

/// bob's own signed reply to `ours`.
fn bob_proves_himself(team: &Team, ours: &str) {
    team.deliver_and_run(&team.dkim(
        &mail("Bob <bob@example.org>", "Re: [#1] Transfer", &reply_headers(ours, None), "Yes, ~bob is my new account."),
        &["In-Reply-To", "References"],
    ));
}

/// "Verify both accounts": bob proves himself before carol has given her
/// second factor. His reply is no failure of carol's to verify: the
/// ticket waits for her, nothing is drafted, and her SSH answer moves the
/// transfer on. Before, bob's reply went through `recheck`, found carol
/// unverified, and refused her request.
#[test]
fn sourcehut_billing_transfer_the_second_account_proving_itself_first_waits_for_the_requester() {
    let team = Team::start();
    let first = carol_asks_to_transfer_to_bob(&team);

    bob_proves_himself(&team, &first.message_id);
    let t = team.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("await-requester"), Some("waiting")), "not refused while carol has yet to answer: {t}");
    assert_eq!(team.drafts().len(), 1, "no refusal drafted: {t}");

    let signature = sign(team.keys(), "carol", &challenge_text(&first.text));
    team.deliver_and_run(&mail(
        "Carol <carol@example.org>",
        "Re: [#1] Transfer",
        &reply_headers(&first.message_id, None),
        &format!("Here it is.\r\n\r\n{}", signature.replace('\n', "\r\n")),
    ));
    let t = team.ticket(1);
    assert_eq!(t["step"], "transfer", "{t}");
    assert!(t["identity"].as_str().unwrap().contains("verified 2/2 (dkim, ssh)"), "{t}");
    assert_eq!(team.tickets().len(), 1);
}

/// "If the user is unable to verify their identity, refuse their support
/// inquiry": once bob has proved himself, carol's own reply that brings
/// no second factor (and promises none) is refused, to her.
#[test]
fn sourcehut_billing_transfer_the_requesters_own_failure_after_the_second_account_is_refused() {
    let team = Team::start();
    let first = carol_asks_to_transfer_to_bob(&team);
    bob_proves_himself(&team, &first.message_id);
    assert_eq!(team.ticket(1)["step"], "await-requester");

    team.deliver_and_run(&team.dkim(
        &mail("Carol <carol@example.org>", "Re: [#1] Transfer", &reply_headers(&first.message_id, None), "Here is my reply from ~carol."),
        &["In-Reply-To", "References"],
    ));
    let t = team.ticket(1);
    // Closed once the refusal is sent.
    assert_eq!((t["step"].as_str(), t["draft_waiting"].as_bool()), (Some("refuse"), Some(true)), "{t}");
    let d = team.drafts();
    assert_eq!(d.len(), 2);
    assert_eq!(d[1].0, "Carol <carol@example.org>");
    assert!(d[1].1.text.contains("could not verify"), "{}", d[1].1.text);
}

/// Writing as bob without proving it (unsigned, or signed by another
/// domain) while carol is still unproven: held for staff, as any reply
/// in the second account's name that is not verified as its own. It
/// neither refuses carol's request nor takes bob's place in the ticket:
/// his own signed reply still does.
#[test]
fn sourcehut_billing_transfer_a_forged_reply_as_the_second_account_moves_nothing() {
    let team = Team::start();
    let first = carol_asks_to_transfer_to_bob(&team);
    let words = "Yes, ~bob is my new account.";
    team.deliver_and_run(&mail("Bob <bob@example.org>", "Re: [#1] Transfer", &reply_headers(&first.message_id, Some(MALLORY)), words));
    let headers: Vec<&str> = SIGNED.iter().copied().chain(["In-Reply-To", "References"]).collect();
    let by_attacker = crate::support::verify_fixture::plain_with_headers(
        team.world.rsa.mail_auth_key(),
        "attacker.test",
        "rsa",
        &headers,
        &mail("Bob <bob@example.org>", "Re: [#1] Transfer", &reply_headers(&first.message_id, None), words),
    );
    team.deliver_and_run(&by_attacker);
    let t = team.ticket(1);
    assert_eq!((t["step"].as_str(), t["state"].as_str()), (Some("check"), Some("waiting")), "the forged replies moved nothing: {t}");
    assert_eq!(team.drafts().len(), 1, "nothing drafted for them: {t}");
    assert_eq!(team.tickets().len(), 1);
    no_draft_to(&team, MALLORY);

    bob_proves_himself(&team, &first.message_id);
    assert_eq!(team.ticket(1)["step"], "await-requester", "bob's own reply is the second account's: {}", team.ticket(1));
}

/// Mallory writes to alice with `[#1]` in the subject; alice's mail client
/// answers him, signing the subject it copied. Mallory hands her signed
/// answer to support: it names #1 only by the tag he chose, and was
/// addressed to him. It must not move her ticket to the admin deletion.
#[test]
fn a_signed_answer_to_someone_else_relayed_by_its_subject_tag_moves_nothing() {
    let team = Team::start();
    team.deliver_and_run(&team.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", DELETE), &[]));
    assert_eq!(team.ticket(1)["step"], "self-service");

    let to_mallory = format!(
        "From: Alice <alice@example.org>\r\nTo: {MALLORY}\r\nIn-Reply-To: <hello@attacker.test>\r\nSubject: Re: [#1] Hello from an old friend\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nSorry, I don't know you.\r\n",
        rand::random::<u64>()
    );
    team.deliver_and_run(&team.dkim(&to_mallory, &["In-Reply-To"]));
    let t = team.ticket(1);
    assert_eq!(t["step"], "self-service", "alice's answer to mallory asked for no admin deletion: {t}");
    assert!(t["staff_action"].is_null(), "{t}");
    assert_eq!(team.tickets().len(), 1);

    // The same words, signed and written to the team's address
    // (`[intake] addresses`) with the tag: hers, to us.
    team.deliver_and_run(&team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Please delete my account", "", "I cannot find the button, please delete it for me."), &[]));
    assert_eq!(team.ticket(1)["step"], "admin-delete", "{}", team.ticket(1));
}

/// The same through PGP: mallory writes to dave with `[#1]` in the subject
/// and the text; dave's signed answer quotes it. Mallory hands it to
/// support, the tag in a subject nobody signed: the tag in dave's signed
/// text is mallory's, quoted, so it ties nothing to #1. Dave writing it in
/// his own words does.
#[test]
fn a_pgp_signed_answer_quoting_someone_elses_tag_moves_nothing() {
    let team = Team::start();
    let request = signed_by_dave(&team, "Hello,\n\nplease delete my account.\n\nDave\n");
    team.deliver_and_run(&mail("Dave <dave@example.org>", "Please delete my account", "", &request));
    assert_eq!(team.ticket(1)["step"], "self-service");

    let to_mallory = signed_by_dave(
        &team,
        "Sorry, I don't know you.\n\nOn Mon, 23 Nov 2026 09:00, Mallory <mallory@attacker.test> wrote:\n> Hi Dave, about [#1]: do you remember me?\n",
    );
    team.deliver_and_run(&mail("Dave <dave@example.org>", "Re: [#1] Hello from an old friend", "", &to_mallory));
    let t = team.ticket(1);
    assert_eq!(t["step"], "self-service", "dave's answer to mallory asked for no admin deletion: {t}");
    assert!(t["staff_action"].is_null(), "{t}");

    let his = signed_by_dave(&team, "[#1]: I cannot find the button, please delete it for me.\n");
    team.deliver_and_run(&mail("Dave <dave@example.org>", "Re: [#1] Please delete my account", "", &his));
    assert_eq!(team.ticket(1)["step"], "admin-delete", "{}", team.ticket(1));
}

/// `triaged run --once` at `at` (the daemon's clock).
fn run_at(team: &Team, at: jiff::Timestamp) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_triaged"))
        .arg("--config")
        .arg(&team.s.config)
        .args(["run", "--once"])
        .env("TRIAGED_NOW", at.to_string())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
}

/// alice's "go ahead" is held while her domain's DNS does not answer; when
/// it answers again she has taken the refund back, signed, before the
/// re-check ran. Her older words, proven later, are no newer answer: the
/// refund she withdrew is not asked of staff again.
#[test]
fn a_held_reply_proven_after_a_newer_one_was_handled_does_not_undo_it() {
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    assert_eq!(team.ticket(1)["step"], "refund");
    let t0 = jiff::Timestamp::now();
    let min = jiff::SignedDuration::from_mins;

    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    team.use_dns(&silent.local_addr().unwrap().to_string());
    team.s.dovecot.deliver("INBOX", team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", "Yes, please go ahead."), &[]).as_bytes());
    run_at(&team, t0 + min(1));
    let t = team.ticket(1);
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("refund the payment")), "held, it changed nothing: {t}");

    drop(silent);
    team.use_dns(&team.world.dns.addr().to_string());
    team.s.dovecot.deliver("INBOX", team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", "I changed my mind, please cancel my request."), &[]).as_bytes());
    run_at(&team, t0 + min(2));
    assert!(team.ticket(1)["staff_action"].is_null(), "{}", team.ticket(1));

    run_at(&team, t0 + min(7));
    let t = team.ticket(1);
    assert!(t["staff_action"].is_null(), "her withdrawal stands: {t}");
    assert!(t["needs_person"].as_str().is_some_and(|h| h.contains("takes the request back")), "{t}");
    let shown = String::from_utf8_lossy(&triaged(&team.s.config, &["show", "1"]).stdout).into_owned();
    assert!(shown.contains("was handled first: its words are not read; check them by hand"), "staff are told: {shown}");
}

/// `!claim` and `!release` said in the channel while alice's reply is
/// being checked (her DKIM key lookup held at the gate, so both meet on
/// ticket 1 at once): her take-back is read once, and neither the claim
/// nor the release said meanwhile is lost or undone by it.
#[tokio::test(flavor = "multi_thread")]
async fn a_claim_and_a_release_said_while_a_reply_is_checked_are_kept_and_the_reply_read_once() {
    use crate::support::ircd::{IrcClient, Ircd, daemon_irc_section};
    const CH: &str = "#support-staff";
    const T: Duration = Duration::from_secs(30);
    let team = Team::start();
    alice_asks_for_a_refund(&team);
    let ircd = Ircd::start();
    let gate = Gate::start(team.world.dns.addr());
    team.use_dns_waiting(&gate.addr().to_string(), 30);
    let config = std::fs::read_to_string(&team.s.config).unwrap();
    std::fs::write(&team.s.config, format!("{config}\n{}", daemon_irc_section(&ircd, CH))).unwrap();
    let mut staff = IrcClient::connect(ircd.port, "alice").await;
    staff.join(CH).await;
    let daemon = spawn_daemon(&team.s);
    staff.wait_for(|l| l.starts_with(":triaged!") && l.contains(" JOIN "), T).await;
    let drafts = team.drafts().len();
    let said = |text: &str| team.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Refund please", "", text), &[]);

    // Her take-back waits at the gate; the claim goes through meanwhile.
    let held = gate.held();
    gate.shut();
    team.s.dovecot.deliver("INBOX", said("I changed my mind, please cancel my request.").as_bytes());
    wait_until("the take-back's key lookup waits at the gate", T, || gate.held() > held);
    staff.say(CH, "!claim 1").await;
    staff.said_by("triaged", CH, |t| t == "#1 claimed by alice", T).await;
    gate.open();
    staff.said_by("triaged", CH, |t| t.starts_with("#1 reply from ") && t.contains("takes the request back"), T).await;
    staff.say(CH, "!show 1").await;
    let shown = staff.said_by("triaged", CH, |t| t.starts_with("#1 refund"), T).await;
    assert!(shown.contains("held by alice"), "the claim stands: {shown}");
    let shown = staff.said_by("triaged", CH, |t| t.starts_with("#1 staff action taken back"), T).await;
    assert!(shown.contains("refund the payment"), "her take-back was read: {shown}");

    // Her confirmation after all waits at the gate; the release goes through.
    let held = gate.held();
    gate.shut();
    team.s.dovecot.deliver("INBOX", said("Yes, I confirm.").as_bytes());
    wait_until("the confirmation's key lookup waits at the gate", T, || gate.held() > held);
    staff.say(CH, "!release 1").await;
    staff.said_by("triaged", CH, |t| t.starts_with("#1 released by alice"), T).await;
    gate.open();
    staff.said_by("triaged", CH, |t| t.starts_with("#1 reply from "), T).await;
    sigterm(daemon);
    let t = team.ticket(1);
    assert!(t["claimed_by"].is_null() && t["state"] != "claimed", "the release stands: {t}");
    assert!(t["staff_action"].as_str().is_some_and(|a| a.contains("refund the payment")) && t["taken_back"].is_null(), "confirmed again: {t}");
    assert_eq!(team.drafts().len(), drafts, "nothing drafted for either reply");
    let history: serde_json::Value = serde_json::from_slice(&triaged(&team.s.config, &["show", "1", "--json"]).stdout).unwrap();
    let events: Vec<&str> = history["events"].as_array().unwrap().iter().filter_map(|e| e["event"].as_str()).collect();
    for read in ["), decline", "), confirm"] {
        assert_eq!(events.iter().filter(|e| e.starts_with("reply ") && e.ends_with(read)).count(), 1, "read once: {events:?}");
    }
    assert_eq!(events.iter().filter(|e| e.starts_with("claimed by alice")).count(), 1, "{events:?}");
}
