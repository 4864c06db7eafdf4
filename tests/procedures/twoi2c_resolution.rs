//! 2i2c: "When the issue is resolved, we'll send you a confirmation via
//! support@2i2c.org, and we'll close the support ticket." A community
//! representative (DKIM-verified against a real DNS server on loopback)
//! reports an outage; the ticket waits for the engineers, who say it is
//! resolved with `triaged done N`; the confirmation is drafted, and the
//! ticket closes once the Sent folder shows it.


use crate::support::harness::*;
use crate::support::verify_fixture::World;

fn ticket(s: &Setup) -> serde_json::Value {
    let v: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
    v["tickets"][0].clone()
}

/// The 2i2c pack, with the world's account directory (Alice is a
/// community representative) and DNS.
fn setup_2i2c(world: &World) -> Setup {
    let s = setup_pack("2i2c", "");
    let extra = format!(
        "[identity]\naccounts = \"{}\"\n[dns]\nnameservers = [\"{}\"]\ntimeout_secs = 1\n",
        world.dir.path().join("accounts.toml").display(),
        world.dns.addr()
    );
    s.reconfigure("none", None, "", &extra);
    let text = std::fs::read_to_string(&s.config).unwrap();
    std::fs::write(&s.config, text.replacen("pack = \"sourcehut\"", "pack = \"2i2c\"", 1)).unwrap();
    s
}

#[test]
fn when_the_issue_is_resolved_we_send_a_confirmation_and_close_the_ticket() {
    let world = World::start();
    let s = setup_2i2c(&world);
    s.dovecot.create("Sent");

    let request = crate::support::verify_fixture::plain(
        world.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &crate::support::verify_fixture::message(
            "Alice <alice@example.org>",
            "Our hub is down",
            "Hello,\r\n\r\nour JupyterHub is down: users can't start their servers since this morning.\r\n",
        ),
    );
    s.dovecot.deliver("INBOX", request.as_bytes());
    run_once(&s);
    let t = ticket(&s);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("infrastructure"), Some("accept")), "{t}");
    assert!(t["staff_action"].as_str().unwrap().contains("resolve the issue"), "{t}");
    assert_eq!(drafts(&s).len(), 1, "the acknowledgement");

    // The engineers resolved it.
    let done = triaged(&s.config, &["done", "1"]);
    assert!(done.status.success(), "{}", String::from_utf8_lossy(&done.stderr));
    assert!(String::from_utf8_lossy(&done.stdout).contains("#1 staff action done"), "{}", String::from_utf8_lossy(&done.stdout));
    run_once(&s);
    let d = drafts(&s);
    assert_eq!(d.len(), 2);
    let texts: Vec<String> = d.iter().map(|m| m.text.replace("\r\n", "\n")).collect();
    assert!(
        texts.iter().any(|t| t.contains("is\nresolved, and we are closing the ticket")),
        "the confirmation: {texts:?}"
    );
    let t = ticket(&s);
    assert_eq!((t["step"].as_str(), t["draft_waiting"].as_bool()), (Some("resolved"), Some(true)), "{t}");

    // A second `done` soon after is the same action said twice, not an
    // order to close: the confirmation just drafted stays.
    let again = triaged(&s.config, &["done", "1"]);
    assert!(!again.status.success(), "refused");
    let said = String::from_utf8_lossy(&again.stdout);
    assert!(said.contains("#1 not closed:") && said.contains("did its staff action at") && said.contains("again after"), "{said}");
    let t = ticket(&s);
    assert!(t["state"] != "closed" && t["draft_waiting"] == true, "{t}");

    let in_reply_to = d[0].in_reply_to.first().cloned().unwrap_or_default();
    s.dovecot.deliver(
        "Sent",
        format!("From: support@2i2c.org\r\nTo: alice@example.org\r\nSubject: Re: [#1] Our hub is down\r\nMessage-ID: <sent1@2i2c.org>\r\nIn-Reply-To: <{in_reply_to}>\r\n\r\nResolved.\r\n").as_bytes(),
    );
    run_once(&s);
    assert_eq!(ticket(&s)["state"], "closed");
}

/// Whose hub (docs/CLASSIFICATION-LOG.md): the same words from someone the
/// account directory does not know name no hub of 2i2c's, so no
/// infrastructure ticket is opened for them. The message is acknowledged
/// and handed to a person, who sees why.
#[test]
fn the_same_outage_from_a_stranger_goes_to_a_person() {
    let world = World::start();
    let s = setup_2i2c(&world);

    let body = "Hello,\r\n\r\nour JupyterHub is down: users can't start their servers since this morning.\r\n";
    let stranger = crate::support::verify_fixture::message("Dana <dana@university.example>", "Our hub is down", body);
    s.dovecot.deliver("INBOX", stranger.as_bytes());
    let out = run_once(&s);
    let t = ticket(&s);
    assert_eq!(t["procedure"].as_str(), Some("unclassified"), "{t}");
    // The log's `classified:` line (and the notice) says why.
    let log = String::from_utf8_lossy(&out.stderr);
    assert!(log.contains("infrastructure scored") && log.contains("names none of our own services"), "{log}");
    assert_eq!(drafts(&s).len(), 1, "the acknowledgement only");

    // Naming the hub by its address is a sign, whoever sends it.
    let named = crate::support::verify_fixture::message(
        "Dana <dana@university.example>",
        "Hub down",
        "Hello,\r\n\r\nour JupyterHub at https://dana-lab.2i2c.cloud is down: users can't start their servers.\r\n",
    );
    s.dovecot.deliver("INBOX", named.as_bytes());
    run_once(&s);
    let v: serde_json::Value = serde_json::from_slice(&triaged(&s.config, &["status", "--json"]).stdout).unwrap();
    let procedures: Vec<&str> = v["tickets"].as_array().unwrap().iter().filter_map(|t| t["procedure"].as_str()).collect();
    assert!(procedures.contains(&"infrastructure"), "{v}");
}

/// A known sender is a sign for routing only (docs/CLASSIFICATION.md,
/// "Whose service"): a From line is the attacker's to write. Mail that
/// claims to be from Alice, a representative the directory knows, but
/// carries no signature of hers reaches `infrastructure` and stops at its
/// check: no acceptance, no staff action, only the reply that asks for the
/// community's representative.
#[test]
fn a_forged_representative_is_routed_but_not_accepted() {
    let world = World::start();
    let s = setup_2i2c(&world);

    let forged = crate::support::verify_fixture::message(
        "Alice <alice@example.org>",
        "Our hub is down",
        "Hello,\r\n\r\nour JupyterHub is down: please restart it and give me admin rights.\r\n",
    );
    s.dovecot.deliver("INBOX", forged.as_bytes());
    run_once(&s);
    let t = ticket(&s);
    assert_eq!((t["procedure"].as_str(), t["step"].as_str()), (Some("infrastructure"), Some("check")), "{t}");
    assert!(t["staff_action"].is_null(), "nothing for the engineers to do on an unsigned claim: {t}");
    let d = drafts(&s);
    assert_eq!(d.len(), 1, "one reply");
    let words = d[0].text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("could not match your address to a Community Representative"), "{}", d[0].text);
}
