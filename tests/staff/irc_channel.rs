//! The staff channel as staff see it: a real ngIRCd, triaged's IRC task, and
//! raw IRC clients standing in for the people typing commands.


use std::time::Duration;

use crate::support::ircd::{bot_joined, claim_is_refused, claimed, scene};
use triaged::staff::{CONTINUED, Notice, StaffCommand, lines};
use triaged::store::claims::{DoneOutcome, ReleaseOutcome};
use triaged::store::{TicketId, TicketState};

const T: Duration = Duration::from_secs(15);
const CH: &str = "#staff";

#[tokio::test]
async fn a_new_ticket_is_announced_and_every_command_works() {
    let (sc, mut alice, mut bot) = scene(CH, "alice", 2, &["alice", "bob"], |_| ()).await;
    let ircd = &sc.ircd;
    let store = &sc.store;

    let new_ticket = Notice::NewTicket {
        ticket: TicketId(1),
        procedure: "account-deletion".into(),
        from: "User One <user1@example.org>".into(),
        subject: "Please\r\nQUIT :delete \x0304my\x03 \x02account\x02\x07".into(),
        identity: "verified 1/1 (dkim)".into(),
        draft_ready: true,
    };
    bot.notifier.notify(new_ticket.clone());
    let notice = alice.said_by("triaged", CH, |t| t.starts_with("#1 "), T).await;
    // The line as rendered, whole, on one line of the channel; its exact
    // words are the renderer's own test.
    assert_eq!(notice, new_ticket.render());
    assert!(notice.chars().count() <= lines::COLUMNS, "{notice}");

    alice.say(CH, "!claim 1").await;
    alice.said_by("triaged", CH, |t| t == claimed("alice", 1), T).await;
    let since = store.claim_of(TicketId(1)).unwrap().expect("claim stored").since;
    assert_eq!(store.ticket(TicketId(1)).unwrap().unwrap().state, TicketState::Claimed);

    // A second claim is refused and names the holder and since when.
    let mut bob = ircd.connect("bob").await;
    bob.join(CH).await;
    claim_is_refused(&mut bob, CH, 1, "alice", since).await;
    assert_eq!(store.claim_of(TicketId(1)).unwrap().unwrap().nick, "alice");

    bob.say(CH, "!show 1").await;
    let show = bob
        .said_by("triaged", CH, |t| t.starts_with("#1 account-deletion — "), T)
        .await;
    assert!(show.contains("claimed (held by alice since"), "{show}");
    assert!(
        show.contains("from user1@example.org: \"Please delete my account (1)\""),
        "{show}"
    );
    let t1 = store.ticket(TicketId(1)).unwrap().unwrap();
    let claim = store.claim_of(TicketId(1)).unwrap();
    let lines_of_show = lines::show(&t1, claim.as_ref(), None, jiff::Timestamp::now());
    assert_eq!(lines_of_show[1], "#1 identity: no verification report");
    bob.said_by("triaged", CH, |t| t == lines_of_show[1], T).await;

    bob.say(CH, "!queue").await;
    let queue = bob.said_by("triaged", CH, |t| t.starts_with("queue "), T).await;
    assert!(
        queue.starts_with("queue (1): #2 account-deletion (new, unclaimed, "),
        "{queue}"
    );

    bob.say(CH, "!done 1").await;
    let refused = bob.said_by("triaged", CH, |t| t.starts_with("bob: "), T).await;
    let held = store.claim_of(TicketId(1)).unwrap().unwrap();
    assert_eq!(refused, lines::done("bob", TicketId(1), &DoneOutcome::HeldBy(held.clone()), jiff::Timestamp::now()));

    alice.say(CH, "!release 1").await;
    let released = lines::release("alice", TicketId(1), &ReleaseOutcome::Released(held), jiff::Timestamp::now());
    bob.said_by("triaged", CH, |t| t == released, T).await;
    assert_eq!(store.ticket(TicketId(1)).unwrap().unwrap().state, TicketState::New);

    bob.say(CH, "!claim 1").await;
    bob.said_by("triaged", CH, |t| t == claimed("bob", 1), T).await;
    bob.say(CH, "!done 1").await;
    let closed = lines::done("bob", TicketId(1), &DoneOutcome::Done(None), jiff::Timestamp::now());
    bob.said_by("triaged", CH, |t| t == closed, T).await;
    assert_eq!(store.ticket(TicketId(1)).unwrap().unwrap().state, TicketState::Closed);
    assert_eq!(store.claim_of(TicketId(1)).unwrap(), None);
    // The daemon is asked to withdraw the closed ticket's drafts of ours.
    let fwd = tokio::time::timeout(T, bot.commands.recv()).await.unwrap().unwrap();
    assert_eq!(fwd, StaffCommand::WithdrawStale { ticket: TicketId(1), by: "bob".into() });

    alice.say(CH, "!reclassify 2 billing").await;
    alice
        .said_by(
            "triaged",
            CH,
            |t| t == lines::reclassifying("alice", TicketId(2), "billing"),
            T,
        )
        .await;
    let fwd = tokio::time::timeout(T, bot.commands.recv()).await.unwrap().unwrap();
    assert_eq!(
        fwd,
        StaffCommand::Reclassify {
            ticket: TicketId(2),
            procedure: "billing".into(),
            by: "alice".into()
        }
    );

    alice.say(CH, "!claim").await;
    alice.said_by("triaged", CH, |t| t == lines::malformed("alice", "usage: !claim N"), T).await;
    alice.say(CH, "!claim 99").await;
    alice
        .said_by("triaged", CH, |t| t == lines::no_ticket("alice", TicketId(99)), T)
        .await;

    // Someone not on the staff list is refused politely and nothing changes.
    let mut mallory = ircd.connect("mallory").await;
    mallory.join(CH).await;
    mallory.say(CH, "!claim 2").await;
    let refused = mallory.said_by("triaged", CH, |t| t.starts_with("mallory: "), T).await;
    assert_eq!(refused, lines::refused("mallory", "!claim", "a nick listed in irc.staff"));
    assert_eq!(store.claim_of(TicketId(2)).unwrap(), None);

    bot.stop().await;
    alice
        .wait_for(|l| l.starts_with(":triaged!") && l.contains(" QUIT "), T)
        .await;
}

#[tokio::test]
async fn long_notices_are_split_and_sent_at_a_flood_safe_rate() {
    let (_sc, mut alice, bot) = scene(CH, "alice", 0, &["alice"], |_| ()).await;

    // One notice far over the IRC line limit, with multi-byte characters.
    let long: String = (0..150).map(|i| format!("wörd{i}")).collect::<Vec<_>>().join(" ");
    assert!(long.len() > 1000);
    bot.notifier.notify(Notice::Text(long.clone()));
    // Every line after the first says it continues one.
    let mut parts: Vec<String> = Vec::new();
    let text = |parts: &[String]| parts.iter().map(|p| p.trim_start_matches(CONTINUED)).collect::<Vec<_>>().join(" ");
    while text(&parts).len() < long.len() {
        parts.push(alice.said_by("triaged", CH, |_| true, T).await);
    }
    assert!(parts.len() >= 3, "{parts:?}");
    assert!(parts.iter().all(|p| p.len() <= 400), "{parts:?}");
    assert!(parts[1..].iter().all(|p| p.starts_with(CONTINUED)), "{parts:?}");
    assert_eq!(text(&parts), long);

    // Eight short notices: a burst, then about one line a second.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for i in 0..8 {
        bot.notifier.notify(Notice::Text(format!("burst {i}")));
    }
    let mut at = Vec::new();
    for i in 0..8 {
        let want = format!("burst {i}");
        alice.said_by("triaged", CH, |t| t == want, T).await;
        at.push(std::time::Instant::now());
    }
    let spread = at[7] - at[0];
    let burst = at[3] - at[0];
    eprintln!("8 lines: first 4 within {burst:?}, all 8 within {spread:?}");
    assert!(burst < Duration::from_millis(900), "burst took {burst:?}");
    assert!(
        spread >= Duration::from_millis(3500),
        "8 lines in {spread:?}: not rate limited"
    );
    bot.stop().await;
}

#[tokio::test]
async fn bytes_that_are_not_utf8_do_not_disconnect_the_bot() {
    let (sc, mut alice, bot) = scene(CH, "alice", 1, &["alice"], |_| ()).await;
    let ircd = &sc.ircd;

    let mut mallory = ircd.connect("mallory").await;
    mallory.join(CH).await;
    mallory.send_bytes(b"PRIVMSG #staff :caf\xe9 \xff\xfe !claim 1").await;
    mallory.send_bytes(b"PRIVMSG #staff :!claim \xff").await;
    alice.say(CH, "!queue").await;
    alice
        .said_by("triaged", CH, |t| t.starts_with("queue (1): #1 "), T)
        .await;
    let joins = alice.log.iter().filter(|l| bot_joined(l)).count();
    assert_eq!(joins, 1, "the bot reconnected:\n{}", alice.log.join("\n"));
    bot.stop().await;
}

#[tokio::test]
async fn channel_operators_may_use_commands_when_allowed() {
    // The first to join a new channel is its operator.
    let (sc, mut carol, bot) = scene(CH, "carol", 2, &[], |c| c.allow_channel_operators = true).await;
    let ircd = &sc.ircd;
    let store = &sc.store;
    let mut dave = ircd.connect("dave").await;
    dave.join(CH).await;

    carol.say(CH, "!claim 1").await;
    carol.said_by("triaged", CH, |t| t == claimed("carol", 1), T).await;
    dave.say(CH, "!claim 2").await;
    let refused = dave.said_by("triaged", CH, |t| t.starts_with("dave: "), T).await;
    assert_eq!(refused, lines::refused("dave", "!claim", "a nick listed in irc.staff or a channel operator"));
    assert_eq!(store.claim_of(TicketId(2)).unwrap(), None);
    bot.stop().await;
}

#[tokio::test]
async fn a_services_account_is_required_when_configured() {
    let (sc, mut alice, bot) = scene(CH, "alice", 3, &["alice"], |c| c.staff_require_account = true).await;
    let ircd = &sc.ircd;
    let store = &sc.store;
    let mut services = ircd.services().await;

    // The right nick without the account proves nothing.
    alice.say(CH, "!claim 1").await;
    let refused = alice.said_by("triaged", CH, |t| t.starts_with("alice: "), T).await;
    assert!(
        refused.starts_with("alice: sorry, !claim is for support staff only (logged in to a services account"),
        "{refused}"
    );
    assert_eq!(store.claim_of(TicketId(1)).unwrap(), None);

    services.log_in("alice", "alice").await;
    alice.say(CH, "!claim 1").await;
    alice.said_by("triaged", CH, |t| t == claimed("alice", 1), T).await;

    // The account counts, not the nick.
    let mut ally = ircd.connect("ally").await;
    ally.join(CH).await;
    services.log_in("ally", "alice").await;
    ally.say(CH, "!claim 2").await;
    ally.said_by("triaged", CH, |t| t == claimed("ally", 2), T).await;

    let mut mallory = ircd.connect("mallory").await;
    mallory.join(CH).await;
    services.log_in("mallory", "mallory").await;
    mallory.say(CH, "!claim 3").await;
    mallory
        .said_by("triaged", CH, |t| t.starts_with("mallory: sorry"), T)
        .await;
    assert_eq!(store.claim_of(TicketId(3)).unwrap(), None);
    bot.stop().await;
}
