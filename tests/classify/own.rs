//! Whose hub is it (docs/CLASSIFICATION-LOG.md, "Whose hub"): 2i2c's seed says
//! it "provides support for major infrastructure problems, outages, or
//! upgrades" of the hubs it runs, asked for by a hub's Community
//! Representative, and "doesn't provide support for daily workflow
//! questions like debugging tracebacks in Python libraries". A hub outage
//! is 2i2c's only when the hub is: its address, its community's name, a
//! link into 2i2c's trackers, or a sender the account directory knows. The
//! same words about someone else's hub go to a person, or, when they are a
//! code question, to `out-of-scope`; the local model is held to the same.

use std::path::Path;

use triaged::classify::own::Sender;
use triaged::classify::{Classification, UNCLASSIFIED};
use triaged::config::LearningConfig;
use triaged::learn::{Features, Learner};
use triaged::message::Message;
use triaged::procedures::Pack;
use triaged::store::{Example, Store};

fn twoi2c() -> Pack {
    Pack::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/2i2c")).expect("the shipped pack loads")
}

fn message(subject: &str, body: &str) -> Message {
    let raw = format!(
        "From: Rep <rep@uni.example.edu>\r\nTo: support@2i2c.example\r\nSubject: {subject}\r\nMessage-ID: <own@example.net>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    );
    Message::parse(raw.into_bytes()).unwrap()
}

fn classify(pack: &Pack, subject: &str, body: &str, sender: Sender) -> Classification {
    pack.classify_from(&message(subject, body), sender)
}

#[test]
fn an_outage_of_a_2i2c_hub_is_infrastructure() {
    let p = twoi2c();
    let cases = [
        // The hub's address (any hub under 2i2c.cloud).
        ("Hub is down", "Our hub at https://staging.leap.2i2c.cloud is down: nobody can log in since this morning.", r#"hub address "staging.leap.2i2c.cloud""#),
        // A community's own address for a hub 2i2c runs.
        ("Outage", "The hub at jupyter.utoronto.ca returns 502 errors for all our students.", r#"hub address "jupyter.utoronto.ca""#),
        // The community's name, wherever it is written.
        ("Upgrade request", "As community representative for NASA VEDA we would like to request an upgrade of the hub image.", r#"name "NASA VEDA""#),
        // A hub's short name next to "hub".
        ("Spawn failures", "Users of the leap hub cannot start their servers, spawn fails with a timeout.", r#"hub name "leap hub""#),
        // A coined community name counts alone, as a name.
        ("Spawn failures", "Our Openscapes workshop starts Monday and nobody can start a server, spawn fails with a timeout.", r#"name "Openscapes""#),
        // A link into 2i2c's tracker.
        ("Follow-up", "Following up on https://github.com/2i2c-org/infrastructure/issues/3137: the hub is down again with 503 errors.", "tracker link"),
    ];
    for (subject, body, sign) in cases {
        let c = classify(&p, subject, body, Sender::Unknown);
        assert_eq!(c.procedure, "infrastructure", "{body}: {c:?}");
        let found = c.own.as_ref().and_then(|o| o.sign.clone()).unwrap_or_default();
        assert!(found.starts_with(sign), "{body}: sign {found:?}, want {sign}");
    }
}

#[test]
fn the_same_words_about_someone_elses_hub_go_to_a_person() {
    let p = twoi2c();
    for (subject, body) in [
        // A university's own JupyterHub.
        ("Hub down", "The datahub at our university is down, nobody can log in and the spawn fails with a 503."),
        // Another project's hub, in words 2i2c's reps also use.
        ("Please increase memory", "Could you increase the memory limit on the hub for our course? Students run out of memory."),
        // A newsletter-like note that mentions an upgrade of a hub.
        ("Cluster upgrade", "We will upgrade the Kubernetes cluster of the hub on Friday; expect an outage of an hour."),
    ] {
        let c = classify(&p, subject, body, Sender::Unknown);
        assert_eq!(c.procedure, UNCLASSIFIED, "{body}: {c:?}");
        let held = c.held_back.as_deref().unwrap_or_default();
        assert!(held.starts_with("infrastructure scored") && held.contains("names none of our own services"), "{body}: {held}");
        assert!(!held.contains("datahub") && !held.contains("university"), "held_back reaches notices: no message text: {held}");
        let own = c.own.expect("the 2i2c pack lists its own services");
        assert_eq!(own.sign, None);
        assert!(own.gated.iter().any(|g| g.starts_with("infrastructure ")), "{:?}", own.gated);
        // The runner-up shown to staff is the near miss.
        assert_eq!(c.runner_up.as_deref(), Some("infrastructure"));
    }
}

#[test]
fn a_code_question_about_a_foreign_hub_is_redirected() {
    let p = twoi2c();
    // "daily workflow questions like debugging tracebacks in Python
    // libraries": not infrastructure without our hub, out of scope by its
    // own words.
    let body = "My notebook on the hub crashed with a traceback: KeyError in pandas when I merge two dataframes. How do I fix my code?";
    let c = classify(&p, "Kernel crashed", body, Sender::Unknown);
    assert_eq!(c.procedure, "out-of-scope", "{c:?}");
    assert!(c.own.as_ref().is_some_and(|o| o.sign.is_none()));
}

#[test]
fn a_sender_the_directory_knows_is_a_sign() {
    let p = twoi2c();
    let body = "Our hub is down since this morning, nobody can log in and every spawn times out.";
    assert_eq!(classify(&p, "Hub down", body, Sender::Unknown).procedure, UNCLASSIFIED);
    let c = classify(&p, "Hub down", body, Sender::Account);
    assert_eq!(c.procedure, "infrastructure", "{c:?}");
    assert_eq!(c.own.and_then(|o| o.sign).as_deref(), Some("the sender is a known account"));
    // A known sender is a sign of whose hub, not a route by itself.
    assert_eq!(classify(&p, "Hello", "Thanks for the workshop yesterday!", Sender::Account).procedure, UNCLASSIFIED);
}

#[test]
fn packs_without_own_services_are_unchanged() {
    let p = Pack::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/sourcehut")).unwrap();
    let c = p.classify(&message("Delete account", "Please delete my account."));
    assert_eq!(c.procedure, "account-deletion");
    assert_eq!(c.own, None);
}

#[test]
fn the_model_never_routes_a_foreign_hub_to_infrastructure() {
    let p = twoi2c();
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let learner = Learner::open(&store, LearningConfig::default()).unwrap();
    let learn = |label: &str, body: &str| {
        let features = Features::of_message(&message("", body)).hashes();
        let example = Example { label: label.into(), source: body.into(), added: jiff::Timestamp::now(), features };
        learner.learn(&example).unwrap();
    };
    // A team that taught the model its hub mail in words a foreign hub
    // shares, and some ordinary mail.
    for body in [
        "the jupyter lab sessions keep disconnecting for everyone",
        "the jupyter lab sessions disconnect every few minutes",
        "our jupyter lab sessions keep disconnecting during class",
        "jupyter lab sessions keep disconnecting since the morning",
    ] {
        learn("infrastructure", body);
    }
    for body in ["thanks for the workshop", "see you at the meeting next week", "here are the slides from the talk"] {
        learn(UNCLASSIFIED, body);
    }
    let foreign = message("", "jupyter lab sessions keep disconnecting on our university server");
    let (c, _) = learner.classify(&p, &foreign);
    let model = c.model.expect("the model gave its opinion");
    assert_eq!(model.vote.procedure, "infrastructure", "the model's guess, which the gate refuses: {model:?}");
    assert_eq!(c.procedure, UNCLASSIFIED);
    assert!(!model.decided);
    assert!(model.not_used.as_deref().unwrap_or_default().contains("needs a sign of our own services"), "{model:?}");
    // Named as one of 2i2c's hubs, the same words may be the model's.
    let ours = message("", "jupyter lab sessions keep disconnecting on the leap hub");
    let (c, _) = learner.classify_from(&p, &ours, Sender::Unknown);
    assert!(c.own.as_ref().is_some_and(|o| o.sign.is_some()), "{c:?}");
    let model = c.model.expect("the model gave its opinion");
    assert_ne!(model.not_used.as_deref().map(|w| w.contains("needs a sign")), Some(true), "{model:?}");
}

fn pack_with(own: &str, needs_own: bool) -> Result<Pack, Vec<String>> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("acknowledge.txt"), "hi").unwrap();
    let toml = format!(
        "[pack]\nname = \"t\"\n{own}\n[[procedure]]\nid = \"infra\"\ntitle = \"Infra\"\nidentity = \"none\"\nneeds_own = {needs_own}\n[[procedure.rule]]\nname = \"down\"\non = \"text\"\npattern = 'down'\nweight = 3\n[[procedure.step]]\nname = \"s\"\nstate = \"new\"\n"
    );
    std::fs::write(dir.path().join("procedures.toml"), toml).unwrap();
    Pack::load(dir.path()).map_err(|ps| ps.iter().map(|p| p.to_string()).collect())
}

#[test]
fn check_config_names_bad_entries_with_their_line() {
    let errs = pack_with("[own]\ndomains = [\"*.Hub..org\"]\nshort_names = [\"leap\"]\nbogus = 1\n", true).unwrap_err();
    let has = |line: u32, text: &str| errs.iter().any(|e| e.contains(&format!(":{line}: ")) && e.contains(text));
    assert!(has(4, "own.domains: \"*.Hub..org\" is not a host name"), "{errs:?}");
    assert!(has(5, "own.short_names: these count only next to a kind of service"), "{errs:?}");
    assert!(has(6, "unknown key `bogus` in a [own] table"), "{errs:?}");
    let errs = pack_with("", true).unwrap_err();
    assert!(errs.iter().any(|e| e.contains(":8: procedure[0].needs_own: ") && e.contains("no [own] table")), "{errs:?}");
    let p = pack_with("[own]\ndomains = [\"*.example.org\"]\n", true).unwrap();
    assert_eq!(p.classify(&message("", "hub.example.org is down")).procedure, "infra");
    assert_eq!(p.classify(&message("", "hub.example.net is down")).procedure, UNCLASSIFIED);
}
