//! The staff channel through trouble: the server restarting under the bot,
//! the bot itself restarting, TLS with a private CA, a keyed channel, and a
//! SASL password the server cannot honour.


use std::time::{Duration, Instant};

use crate::support::ircd::{
    Bot, Ircd, IrcdOptions, Scene, bot_joined, claim_is_refused, irc_config, irc_config_from_toml, scene,
    store_with_tickets,
};
use triaged::staff::{Notice, REPEAT_MARK};
use triaged::store::{Store, TicketId};

const T: Duration = Duration::from_secs(20);
const CH: &str = "#staff";

#[tokio::test]
async fn the_bot_reconnects_after_the_server_restarts_and_later_notices_arrive() {
    let (mut sc, mut alice, bot) = scene(CH, "alice", 1, &["alice"], |_| ()).await;
    let ircd = &mut sc.ircd;
    bot.notifier.notify(Notice::Text("before the restart".into()));
    alice.said_by("triaged", CH, |t| t == "before the restart", T).await;

    ircd.stop();
    let stopped = Instant::now();
    // Posted while the server is down: queued, not lost.
    bot.notifier.notify(Notice::Text("during the outage".into()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ircd.start_again();
    let mut alice = ircd.connect("alice").await;
    alice.join(CH).await;
    // Usually alice is back first and sees the bot join; if the bot's retry
    // won the race, the NAMES reply to her JOIN lists it already.
    let bot_was_first = alice.log.iter().any(|l| {
        l.contains(" 353 alice ")
            && l.rsplit(':')
                .next()
                .is_some_and(|n| n.split(' ').any(|n| n.trim_start_matches('@') == "triaged"))
    });
    if bot_was_first {
        eprintln!("the bot rejoined before alice; its queued notice went out before she could see it");
    } else {
        alice.wait_for(bot_joined, Duration::from_secs(30)).await;
        eprintln!(
            "bot back in the channel {:?} after the server stopped",
            stopped.elapsed()
        );
        // The bot may have sent it into the dying connection before it
        // noticed: then it cannot know and posts it again, marked.
        let during = alice.said_by("triaged", CH, |t| t.ends_with("during the outage"), T).await;
        assert!(during == "during the outage" || during == format!("{REPEAT_MARK}during the outage"), "{during}");
    }

    bot.notifier.notify(Notice::Text("after the restart".into()));
    alice.said_by("triaged", CH, |t| t == "after the restart", T).await;
    // Commands work on the new connection too.
    alice.say(CH, "!claim 1").await;
    alice.said_by("triaged", CH, |t| t == crate::support::ircd::claimed("alice", 1), T).await;
    bot.stop().await;
}

#[tokio::test]
async fn the_bot_rejoins_after_a_kick() {
    // First in the channel: operator, allowed to kick.
    let (_sc, mut alice, bot) = scene(CH, "alice", 0, &["alice"], |_| ()).await;
    alice.send_raw("KICK #staff triaged :testing").await;
    alice.wait_for(|l| l.contains(" KICK #staff triaged "), T).await;
    // A line the bot sends before it has read the KICK is lost (the server
    // answers 404); one posted once it knows waits for the rejoin.
    tokio::time::sleep(Duration::from_millis(500)).await;
    bot.notifier.notify(Notice::Text("while kicked".into()));
    alice.wait_for(bot_joined, T).await;
    alice.said_by("triaged", CH, |t| t == "while kicked", T).await;
    bot.stop().await;
}

#[tokio::test]
async fn claims_survive_a_restart_of_the_bot_and_the_store() {
    let (sc, mut alice, bot) = scene(CH, "alice", 1, &["alice", "bob"], |_| ()).await;
    let Scene { ircd, store_dir, store } = sc;
    alice.say(CH, "!claim 1").await;
    alice.said_by("triaged", CH, |t| t == crate::support::ircd::claimed("alice", 1), T).await;
    bot.stop().await;
    drop(store);

    // The bot may still hold a handle for a moment after it stops.
    let store = Store::open_waiting(store_dir.path(), std::time::Duration::from_secs(5)).unwrap();
    let since = store.claim_of(TicketId(1)).unwrap().expect("claim persisted").since;
    let bot = Bot::start(irc_config(&ircd, CH, &["alice", "bob"]), store);
    alice.wait_for(bot_joined, T).await;
    let mut bob = ircd.connect("bob").await;
    bob.join(CH).await;
    claim_is_refused(&mut bob, CH, 1, "alice", since).await;
    bot.stop().await;
}

#[tokio::test]
async fn tls_with_the_test_ca_and_not_without_it() {
    let ircd = Ircd::start_with(IrcdOptions {
        tls: true,
        ..Default::default()
    });
    let (_d, store) = store_with_tickets(0);
    let mut alice = ircd.connect("alice").await;
    alice.join(CH).await;

    // Without the test CA the certificate is not trusted: no connection.
    let mut untrusting = irc_config(&ircd, CH, &["alice"]);
    untrusting.tls = true;
    untrusting.port = ircd.tls_port.unwrap();
    untrusting.nick = "untrusting".into();
    let stranger = Bot::start(untrusting.clone(), store.clone());

    let mut cfg = untrusting;
    cfg.nick = "triaged".into();
    cfg.ca_file = ircd.ca_file.clone().map(|p| triaged::config::FileRef::unlocated(p, "irc.ca_file"));
    let bot = Bot::start(cfg, store);
    alice.wait_for(bot_joined, T).await;
    bot.notifier.notify(Notice::Text("over TLS".into()));
    alice.said_by("triaged", CH, |t| t == "over TLS", T).await;

    let later = alice.drain(Duration::from_secs(2)).await;
    assert!(
        !alice.log.iter().any(|l| l.starts_with(":untrusting!")),
        "joined without trusting the certificate: {later:?}"
    );
    stranger.stop().await;
    bot.stop().await;
}

#[tokio::test]
async fn a_keyed_channel_is_joined_with_the_key_from_its_file() {
    let ircd = Ircd::start_with(IrcdOptions {
        keyed_channel: Some(("#locked".into(), "sekrit".into())),
        ..Default::default()
    });
    let (_d, store) = store_with_tickets(0);
    let mut alice = ircd.connect("alice").await;
    alice.join_with_key("#locked", Some("sekrit")).await;
    // The key is really required.
    let mut mallory = ircd.connect("mallory").await;
    mallory.send_raw("JOIN #locked").await;
    mallory.wait_for(|l| l.contains(" 475 mallory #locked "), T).await;

    std::fs::write(ircd.dir().join("channel-key"), "sekrit\n").unwrap();
    let cfg = irc_config_from_toml(
        ircd.dir(),
        &format!(
            "server = \"127.0.0.1\"\nport = {}\ntls = false\nnick = \"triaged\"\nchannel = \"#locked\"\nchannel_key_file = \"channel-key\"\nstaff = [\"alice\"]",
            ircd.port
        ),
    );
    let bot = Bot::start(cfg, store);
    alice.wait_for(bot_joined, T).await;
    bot.notifier.notify(Notice::Text("behind the key".into()));
    alice.said_by("triaged", "#locked", |t| t == "behind the key", T).await;
    bot.stop().await;
}

#[tokio::test]
async fn a_password_is_never_dropped_for_a_server_without_sasl() {
    let ircd = Ircd::start();
    let (_d, store) = store_with_tickets(0);
    let mut alice = ircd.connect("alice").await;
    alice.join(CH).await;

    std::fs::write(ircd.dir().join("irc-password"), "hunter2\n").unwrap();
    let cfg = irc_config_from_toml(
        ircd.dir(),
        &format!(
            "server = \"127.0.0.1\"\nport = {}\ntls = false\nnick = \"triaged\"\nchannel = \"#staff\"\npassword_file = \"irc-password\"",
            ircd.port
        ),
    );
    assert!(cfg.password.is_some());
    let bot = Bot::start(cfg, store);
    // ngIRCd offers no SASL: the bot must not carry on unauthenticated.
    let seen = alice.drain(Duration::from_secs(4)).await;
    assert!(!seen.iter().any(|l| bot_joined(l)), "joined without SASL: {seen:?}");
    let log = ircd.log();
    assert!(!log.contains("User \"triaged!"), "registered without SASL:\n{log}");
    bot.stop().await;
}
