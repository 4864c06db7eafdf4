//! Support mail that arrives through a mailing list, through the daemon
//! against a real Dovecot, a real DNS server and (for the staff line) a real
//! ngIRCd: the list rewrites From, adds a tag and a footer, and seals what
//! it passes on. Only a list configured in `[[lists]]`, sealed by its own
//! sealer, gives the author and the author's DKIM back; anything else
//! unlocks nothing, and no draft ever goes to the list's rewritten From.


use std::time::Duration;

use crate::support::harness::*;
use crate::support::ircd::{IrcClient, Ircd, daemon_irc_section};
use crate::support::ssh::{challenge_text, keygen, sign};
use triaged::message::Message;
use crate::support::verify_fixture::list::{Author, LIST_ADDRESS, LIST_ID, SEALER, through_list};
use crate::support::verify_fixture::{SIGNED, World};

const T: Duration = Duration::from_secs(30);
const CH: &str = "#support-staff";
const DISABLE: &str = "I lost my phone, please disable two-factor authentication.";

/// A support desk whose users carol (2FA, an SSH key on file) and alice
/// write at example.org, whose DKIM key (and the list's sealing key) the
/// test DNS serves.
struct Desk {
    world: World,
    s: Setup,
    keys: tempfile::TempDir,
}

impl Desk {
    /// `lists`: the `[[lists]]` blocks; `extra`: more config sections.
    fn start(lists: &str, extra: &str) -> Desk {
        let keys = tempfile::tempdir().unwrap();
        let carol = keygen(keys.path(), "carol");
        let accounts = format!(
            "[[account]]\nusername = \"carol\"\nemail = \"carol@example.org\"\ntwo_factor = true\nssh_keys = [\"{carol}\"]\n\n\
             [[account]]\nusername = \"alice\"\nemail = \"alice@example.org\"\ntwo_factor = false\n"
        );
        let world = World::start_with(&accounts, "");
        let s = setup();
        let config = format!(
            "[identity]\naccounts = \"{}\"\n[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n{extra}\n{lists}",
            world.dir.path().join("accounts.toml").display(),
            world.dns.addr()
        );
        s.reconfigure("none", None, "", &config);
        Desk { world, s, keys }
    }

    /// `message` DKIM-signed by example.org over the usual headers and the
    /// thread's.
    fn dkim(&self, message: &str) -> String {
        let mut headers: Vec<&str> = SIGNED.to_vec();
        headers.extend(["In-Reply-To", "References"]);
        crate::support::verify_fixture::plain_with_headers(self.world.rsa.mail_auth_key(), "example.org", "rsa", &headers, message)
    }

    /// Every draft with its To and Cc.
    fn drafts(&self) -> Vec<(String, String, Message)> {
        self.drafts_of(None)
    }

    /// The drafts of ticket `n` (all with `None`).
    fn drafts_of(&self, n: Option<u64>) -> Vec<(String, String, Message)> {
        self.s
            .dovecot
            .messages("Drafts")
            .into_iter()
            .filter(|raw| n.is_none_or(|n| first_header(raw, "X-Triaged-Ticket") == n.to_string()))
            .map(|raw| (first_header(&raw, "To"), first_header(&raw, "Cc"), Message::parse(raw).unwrap()))
            .collect()
    }

    fn staff_done(&self, n: u64) {
        let out = triaged(&self.s.config, &["done", &n.to_string()]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        run_once(&self.s);
    }
}

fn mail(from: &str, subject: &str, extra: &str, body: &str) -> String {
    format!(
        "From: {from}\r\nTo: {LIST_ADDRESS}\r\n{extra}Subject: {subject}\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <{}@example.org>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n",
        rand::random::<u64>()
    )
}

fn replying_to(id: &str) -> String {
    format!("In-Reply-To: <{id}>\r\nReferences: <{id}>\r\n")
}

fn trusted(reply_to_list: bool) -> String {
    format!("[[lists]]\nid = \"{LIST_ID}\"\nsealers = [\"{SEALER}\"]\nreply_to_list = {reply_to_list}\n")
}

/// No draft is to the list, and none names anything of carol's account.
fn nothing_unlocked(desk: &Desk) {
    for t in desk.s.tickets() {
        let identity = t["identity"].as_str().unwrap_or_default();
        assert!(!identity.contains("as ~carol") || identity.contains("NOT verified"), "{t}");
        assert_ne!(t["step"], "disable", "{t}");
    }
    for (to, cc, d) in desk.drafts() {
        assert!(!to.contains(LIST_ADDRESS) && !cc.contains(LIST_ADDRESS), "a draft to the list: {to} {cc}\n{}", d.text);
        assert!(!d.text.contains("~carol"), "{}", d.text);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_2fa_request_through_a_trusted_list_reaches_the_verified_step_with_every_draft_to_the_author() {
    let ircd = Ircd::start();
    let desk = Desk::start(&trusted(false), &daemon_irc_section(&ircd, CH));
    let mut staff = IrcClient::connect(ircd.port, "alice").await;
    staff.join(CH).await;

    // carol's own DKIM holds when the list receives it; the list's tag,
    // footer and From break it on the way.
    let request = desk.dkim(&mail("Carol <carol@example.org>", "Please disable 2FA", "", DISABLE));
    desk.s.deliver_and_run(&through_list(&desk.world, &request, Author::OriginalFrom, SEALER).await);

    let line = staff.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    assert!(line.contains("via the list's ARC seal (lists.example.net)"), "{line}");
    assert!(line.contains(" carol@example.org ") && line.contains("NOT verified 1/2 (dkim)"), "{line}");
    let t = desk.s.ticket(1);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("2fa-disable"), Some("check")), "{t}");
    let d = desk.drafts();
    assert_eq!(d.len(), 1);
    let (to, cc, first) = &d[0];
    assert_eq!((to.as_str(), cc.as_str()), ("Carol <carol@example.org>", ""), "to the author, not the list");
    assert!(!first.subject.contains("[sr.ht-support]"), "the list's tag is not the author's: {}", first.subject);
    assert!(!first.text.contains("unsubscribe"), "the list's footer is not quoted:\n{}", first.text);

    // The SSH answer comes back through the list, unsigned but for the
    // SSH signature over this ticket's challenge.
    let signature = sign(desk.keys.path(), "carol", &challenge_text(&first.text));
    let answer = mail(
        "Carol <carol@example.org>",
        "Re: [#1] Please disable 2FA",
        &replying_to(&first.message_id),
        &format!("Here it is.\r\n\r\n{}", signature.replace('\n', "\r\n")),
    );
    desk.s.deliver_and_run(&through_list(&desk.world, &answer, Author::ReplyTo, SEALER).await);
    let t = desk.s.ticket(1);
    assert_eq!(t["step"], "disable", "{t}");
    assert!(t["identity"].as_str().unwrap().contains("verified 2/2 (dkim, ssh)"), "{t}");
    assert_eq!(desk.s.tickets().len(), 1, "the answer joined by its vouched author, not the list's From");

    desk.staff_done(1);
    let d = desk.drafts();
    assert_eq!(d.len(), 2);
    for (to, cc, _) in &d {
        assert_eq!((to.as_str(), cc.as_str()), ("Carol <carol@example.org>", ""));
    }
}

#[test]
fn with_reply_to_list_the_draft_goes_to_the_author_and_the_list_in_its_thread() {
    let desk = Desk::start(&trusted(true), "");
    let request = desk.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", "Please delete my account, I no longer use it."));
    let via = block_on(through_list(&desk.world, &request, Author::ReplyTo, SEALER));
    let incoming = Message::parse(via.clone().into_bytes()).unwrap();
    desk.s.deliver_and_run(&via);
    let d = desk.drafts();
    assert_eq!(d.len(), 1);
    let (to, cc, draft) = &d[0];
    assert_eq!(to, "Alice <alice@example.org>");
    assert_eq!(cc, LIST_ADDRESS, "copied to the list, as the team set");
    assert_eq!(draft.in_reply_to, vec![incoming.message_id.clone()], "threaded under the list's message");
    assert!(draft.references.contains(&incoming.message_id));
}

/// With `reply_to_list`, staff answer on the list alone (the author reads
/// it there): the ticket is answered and our draft withdrawn, as for a
/// reply to the author.
#[test]
fn with_reply_to_list_a_reply_to_the_list_alone_answers_the_ticket() {
    answered_on_the_list_alone(true);
}

/// alice's request through the list (`reply_to_list` as given), then
/// staff's answer to the list alone: the ticket is answered.
fn answered_on_the_list_alone(reply_to_list: bool) {
    let desk = Desk::start(&trusted(reply_to_list), "");
    desk.s.dovecot.create("Sent");
    let request = desk.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", "Please delete my account, I no longer use it."));
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &request, Author::ReplyTo, SEALER)));
    assert_eq!(desk.drafts().len(), 1);
    desk.s.dovecot.deliver(
        "Sent",
        format!("From: Support <support@example.org>\r\nTo: {LIST_ADDRESS}\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <on-list@example.org>\r\n\r\nDone, Alice.\r\n").as_bytes(),
    );
    run_once(&desk.s);
    run_once(&desk.s);
    assert!(desk.drafts().is_empty(), "answered: our draft is withdrawn");
    let t = desk.s.ticket(1);
    assert_eq!(t["state"], "answered", "{t}");
}

/// The request came through the list, then its author writes to us
/// directly. The list stays the one the request came through: staff's
/// answer there alone still answers the ticket. Before, her direct reply
/// made the ticket forget the list, and that answer was taken for a
/// forward to a colleague, our draft left to be sent again.
#[test]
fn after_a_direct_reply_an_answer_on_the_list_the_request_came_through_still_answers() {
    let desk = Desk::start(&trusted(false), "");
    desk.s.dovecot.create("Sent");
    let request = desk.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", "Please delete my account, I no longer use it."));
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &request, Author::ReplyTo, SEALER)));
    let ours = our_latest_draft(&desk.s, 1);
    let direct = mail(
        "Alice <alice@example.org>",
        "Re: [#1] Please delete my account",
        &format!("In-Reply-To: <{ours}>\r\nReferences: <{ours}>\r\n"),
        "Thank you. Will my repositories go too?",
    )
    .replace(&format!("To: {LIST_ADDRESS}"), "To: support@example.org");
    desk.s.deliver_and_run(&desk.dkim(&direct));
    assert_eq!(desk.s.tickets().len(), 1, "her reply joined #1");
    desk.s.dovecot.deliver(
        "Sent",
        format!("From: Support <support@example.org>\r\nTo: {LIST_ADDRESS}\r\nSubject: Re: [#1] Please delete my account\r\nMessage-ID: <on-list-2@example.org>\r\n\r\nYes, Alice.\r\n").as_bytes(),
    );
    run_once(&desk.s);
    run_once(&desk.s);
    let t = desk.s.ticket(1);
    assert_eq!(t["state"], "answered", "{t}");
    assert!(desk.drafts().is_empty(), "answered: our drafts are withdrawn");
}

#[test]
fn with_reply_to_list_a_post_that_only_names_the_author_is_not_copied_to_the_list() {
    let desk = Desk::start(&trusted(true), "");
    // Mallory posts as carol, unsigned: the seal covers the name the list
    // moved to X-Original-From, and records her DKIM as absent.
    let as_carol = mail("Carol <carol@example.org>", "Please disable 2FA", "", DISABLE);
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &as_carol, Author::OriginalFrom, SEALER)));
    let d = desk.drafts();
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].0.as_str(), d[0].1.as_str()), ("Carol <carol@example.org>", ""), "to the address only, never to the subscribers");
    nothing_unlocked(&desk);
}

#[test]
fn the_same_request_through_a_list_not_configured_unlocks_nothing() {
    let other = format!("[[lists]]\nid = \"other.lists.example.net\"\nsealers = [\"{SEALER}\"]\n");
    for lists in [String::new(), other] {
        let desk = Desk::start(&lists, "");
        let request = desk.dkim(&mail("Carol <carol@example.org>", "Please disable 2FA", "", DISABLE));
        desk.s.deliver_and_run(&block_on(through_list(&desk.world, &request, Author::ReplyTo, SEALER)));
        // Mail from a list nobody configured is bulk: set aside, no draft.
        let t = desk.s.tickets();
        assert_eq!(t.len(), 1);
        assert!(t[0]["set_aside"].is_object(), "{}", t[0]);
        assert!(desk.drafts().is_empty());
        nothing_unlocked(&desk);
    }
}

#[test]
fn a_forged_chain_or_an_untrusted_sealer_unlocks_nothing() {
    let desk = Desk::start(&trusted(false), "");
    let request = desk.dkim(&mail("Carol <carol@example.org>", "Please disable 2FA", "", DISABLE));
    // Sealed by a domain that is not the list's sealer (its key is served).
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &request, Author::ReplyTo, "attacker.test")));
    // The list's own seal, but the author changed after sealing.
    let request = desk.dkim(&mail("Carol <carol@example.org>", "Please disable 2FA", "", DISABLE));
    let sealed = block_on(through_list(&desk.world, &request, Author::OriginalFrom, SEALER));
    let forged = sealed.replace("X-Original-From: Carol <carol@example.org>", "X-Original-From: Carol <alice@example.org>");
    assert_ne!(forged, sealed);
    desk.s.deliver_and_run(&forged);

    let t = desk.s.tickets();
    assert_eq!(t.len(), 2, "{t:?}");
    for t in &t {
        let identity = t["identity"].as_str().unwrap_or_default();
        assert!(identity.contains("no account has sr.ht-support@lists.example.net"), "the list's From is no account: {t}");
    }
    // Neither has an author anyone vouches for, and disabling 2FA acts on
    // an account: Mailman's way (the claimed author in an unsigned
    // Reply-To) is anyone's to write, and X-Original-From alone leaves
    // only the list to answer. No draft; a person decides.
    let d = desk.drafts();
    assert!(d.is_empty(), "{:?}", d.iter().map(|x| &x.0).collect::<Vec<_>>());
    nothing_unlocked(&desk);
}

#[test]
fn a_reply_through_the_list_claiming_the_author_without_her_seal_does_not_move_the_ticket() {
    let desk = Desk::start(&trusted(false), "");
    let request = desk.dkim(&mail("Carol <carol@example.org>", "Please disable 2FA", "", DISABLE));
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &request, Author::OriginalFrom, SEALER)));
    let ours = desk.drafts()[0].2.message_id.clone();
    let signed_step = desk.s.ticket(1)["step"].clone();

    // Mallory posts to the list, then adds carol as X-Original-From to the
    // sealed copy: the seal does not cover it.
    let posted = mail("Mallory <mallory@attacker.test>", "Re: [#1] Please disable 2FA", &replying_to(&ours), "Yes, disable it.");
    let sealed = block_on(through_list(&desk.world, &posted, Author::ReplyTo, SEALER));
    desk.s.deliver_and_run(&format!("X-Original-From: Carol <carol@example.org>\r\n{sealed}"));
    // Or sends it as carol, unsigned: the list records her DKIM failing.
    let as_carol = mail("Carol <carol@example.org>", "Re: [#1] Please disable 2FA", &replying_to(&ours), "Yes, disable it.");
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &as_carol, Author::OriginalFrom, SEALER)));

    let t = desk.s.ticket(1);
    assert_eq!(t["step"], signed_step, "{t}");
    assert!(t["identity"].as_str().unwrap().contains("NOT verified 1/2 (dkim)"), "{t}");
    assert_eq!(desk.drafts_of(Some(1)).len(), 1, "nothing drafted on #1 for either");
    // The first is a ticket of its own, from the list's address (whoever
    // wrote it gets the reply any stranger gets); the second joined #1 by
    // its vouched author and was held.
    assert_eq!(desk.s.tickets().len(), 2);
    nothing_unlocked(&desk);
}

fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

#[test]
fn a_signed_mail_grafted_onto_a_ticket_before_the_list_does_not_count_and_her_own_reply_does() {
    let desk = Desk::start(&trusted(false), "");
    const AID: &str = "I am a student and cannot afford the subscription.";
    // alice asks through the list without a signature: the ticket waits.
    let request = mail("Alice <alice@example.org>", "Financial aid", "", AID);
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &request, Author::ReplyTo, SEALER)));
    let waiting = desk.s.ticket(1);
    assert!(waiting["identity"].as_str().unwrap().contains("NOT verified"), "{waiting}");
    let ours = desk.drafts()[0].2.message_id.clone();

    // A genuine mail of alice's about something else, its signature not
    // covering the In-Reply-To someone added before posting it to the
    // list: the list's seal covers the link, alice's signature does not.
    let genuine = crate::support::verify_fixture::plain_with_headers(
        desk.world.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &SIGNED,
        &mail("Alice <alice@example.org>", "Re: [#1] Financial aid", "", "Is the build farm down?"),
    );
    let grafted = format!("{}{genuine}", replying_to(&ours));
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &grafted, Author::ReplyTo, SEALER)));
    let t = desk.s.ticket(1);
    assert_eq!(t["step"], waiting["step"], "{t}");
    assert!(t["identity"].as_str().unwrap().contains("NOT verified"), "{t}");
    assert_eq!(desk.drafts_of(Some(1)).len(), 1);

    // Her own reply, signed with its link, through the list: it counts.
    let reply = desk.dkim(&mail("Alice <alice@example.org>", "Re: [#1] Financial aid", &replying_to(&ours), "Yes, it is me."));
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &reply, Author::ReplyTo, SEALER)));
    let t = desk.s.ticket(1);
    assert!(t["identity"].as_str().unwrap().contains("verified 1/1 (dkim) as ~alice"), "{t}");
    assert_ne!(t["step"], waiting["step"], "{t}");
    assert_eq!(desk.s.tickets().len(), 1);
    assert!(desk.drafts().iter().all(|(to, cc, _)| to == "Alice <alice@example.org>" && cc.is_empty()));
}

#[test]
fn a_stranger_whose_reply_to_is_the_list_gets_no_draft_to_the_list() {
    // A list that sets Reply-To to itself and leaves From alone; the seal
    // is missing (or anybody's), so nothing is vouched and Reply-To stays.
    let desk = Desk::start(&trusted(false), "");
    let stranger = mail(
        "Dave <dave@stranger.test>",
        "[sr.ht-support] How do I delete my account?",
        &format!("Reply-To: {LIST_ADDRESS}\r\nList-Id: <{LIST_ID}>\r\nList-Post: <mailto:{LIST_ADDRESS}>\r\n"),
        "How do I delete my account?",
    );
    desk.s.deliver_and_run(&stranger);
    assert_eq!(desk.s.tickets().len(), 1);
    for (to, cc, d) in desk.drafts() {
        assert!(!to.contains(LIST_ADDRESS) && !cc.contains(LIST_ADDRESS), "a draft to every subscriber: {to} {cc}\n{}", d.text);
    }
}

#[test]
fn our_own_reply_coming_back_through_the_list_gets_no_draft() {
    // With reply_to_list the reply staff send reaches the list, and the
    // list delivers it to us like any post, sealed, our DKIM passing.
    let desk = Desk::start(&trusted(true), "");
    let request = desk.dkim(&mail("Alice <alice@example.org>", "Please delete my account", "", "Please delete my account, I no longer use it."));
    let via = block_on(through_list(&desk.world, &request, Author::ReplyTo, SEALER));
    desk.s.deliver_and_run(&via);
    let asked = Message::parse(via.into_bytes()).unwrap().message_id;
    assert_eq!(desk.drafts().len(), 1);

    let sent = desk.dkim(&mail(
        "Example Support <support@example.org>",
        "Re: [#1] Please delete my account",
        &replying_to(&asked),
        "We have deleted your account.",
    ));
    desk.s.deliver_and_run(&block_on(through_list(&desk.world, &sent, Author::OriginalFrom, SEALER)));
    for (to, cc, d) in desk.drafts() {
        assert!(!to.contains("support@example.org") && !cc.contains("support@example.org"), "a draft to ourselves: {to} {cc}\n{}", d.text);
    }
    assert_eq!(desk.drafts().len(), 1, "nothing drafted for our own reply");
}

/// Without `reply_to_list`, our drafts go to the author alone; staff who
/// answer on the list the request came through (which the author reads)
/// answer the ticket all the same: our draft is withdrawn. Before, that
/// answer was taken for a forward to a colleague, and our draft stayed
/// to be sent a second time.
#[test]
fn without_reply_to_list_a_reply_on_the_list_still_answers_the_ticket() {
    answered_on_the_list_alone(false);
}
