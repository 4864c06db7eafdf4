//! The dkim factor against a real DNS server (dnsmasq) serving keys made at
//! test time. Each attack is paired with its valid control, which must pass
//! in the same world: a test that only ever sees failures proves nothing.


use mail_auth::common::crypto::{Sha1, Sha256};
use triaged::verify::{Outcome, Report};
use crate::support::verify_fixture::*;

const ALICE: &str = "Alice <alice@example.org>";

fn assert_verified(r: &Report) {
    assert_eq!(r.account.as_deref(), Some("alice"), "{r:#?}");
    assert_eq!(r.factors.dkim.result, Outcome::Pass, "{r:#?}");
    assert!(r.verified, "{r:#?}");
}

fn assert_dkim(r: &Report, outcome: Outcome, reason_part: &str) {
    assert_eq!(r.factors.dkim.result, outcome, "{r:#?}");
    assert!(
        r.factors.dkim.reason.contains(reason_part),
        "reason {:?} lacks {reason_part:?}",
        r.factors.dkim.reason
    );
    assert!(!r.verified, "{r:#?}");
    assert_eq!(r.met, 0, "{r:#?}");
}

/// The control every other case is measured against, with both key types.
#[tokio::test]
async fn valid_signatures_pass() {
    let w = World::start();
    let rsa = w.signed(ALICE, "Delete");
    let r = w.verify(&rsa).await;
    assert_verified(&r);
    assert!(r.factors.dkim.reason.contains("d=example.org"), "{r:#?}");
    assert_eq!((r.required, r.met), (1, 1));

    let ed = plain(
        w.ed.key(),
        "example.org",
        "ed",
        &message(ALICE, "Delete", BODY),
    );
    assert_verified(&w.verify(&ed).await);

    // A subdomain sender aligns with a parent-domain signature.
    let sub = w.signed("carol@mail.example.org", "x");
    let r = w.verify(&sub).await;
    assert_eq!(r.account.as_deref(), Some("carol"));
    assert!(r.factors.dkim.passed(), "{r:#?}");
}

/// The key our own rules judge (its size, t=y) is the key mail-auth
/// verified the signature with: fetched once per check, not asked for a
/// second time, when the zone might already answer differently.
#[tokio::test]
async fn the_key_is_fetched_once_per_check() {
    let w = World::start();
    let queries = || w.dns.log_text().matches("query[TXT] rsa._domainkey.example.org").count();
    assert_eq!(queries(), 0);
    assert_verified(&w.verify(&w.signed(ALICE, "Delete")).await);
    assert_eq!(queries(), 1, "{}", w.dns.log_text());
    // Each message asks again: nothing is kept beyond one check.
    assert_verified(&w.verify(&w.signed(ALICE, "Delete")).await);
    assert_eq!(queries(), 2, "{}", w.dns.log_text());
}

#[tokio::test]
async fn two_factor_account_needs_a_second_factor() {
    let w = World::start();
    let raw = w.signed("carol@example.org", "Disable 2FA");
    let r = w.verify(&raw).await;
    assert_eq!(r.account.as_deref(), Some("carol"));
    assert!(r.factors.dkim.passed(), "{r:#?}");
    assert_eq!((r.required, r.met, r.verified), (2, 1, false));
    assert!(r.summary().contains("1/2 NOT verified"), "{}", r.summary());
}

#[tokio::test]
async fn multiple_from_headers_give_no_identity() {
    let w = World::start();
    let control = w.signed(ALICE, "x");
    assert_verified(&w.verify(&control).await);

    // Signed by the real domain, but with a second From the signer let in.
    let two = message(ALICE, "x", BODY).replacen("To:", "From: evil@attacker.test\r\nTo:", 1);
    let r = w
        .verify(&plain(w.rsa.mail_auth_key(), "example.org", "rsa", &two))
        .await;
    assert_eq!(r.account, None);
    assert!(r.factors.iter().all(|(_, f)| !f.passed()), "{r:#?}");
    assert!(!r.verified);

    // A From prepended after signing.
    let r = w
        .verify(&format!("From: evil@attacker.test\r\n{control}"))
        .await;
    assert_eq!(r.account, None);
    assert_dkim(&r, Outcome::Fail, "exactly one sender");
}

#[tokio::test]
async fn multiple_from_addresses_give_no_identity() {
    let w = World::start();
    let raw = w.signed("alice@example.org, evil@attacker.test", "x");
    let r = w.verify(&raw).await;
    assert_eq!(r.account, None);
    assert_dkim(&r, Outcome::Fail, "2 address(es)");
}

#[tokio::test]
async fn display_name_and_encoded_word_tricks_select_no_account() {
    let w = World::start();
    for from in [
        "\"alice@example.org\" <evil@attacker.test>",
        "=?utf-8?b?YWxpY2VAZXhhbXBsZS5vcmc=?= <evil@attacker.test>",
        "=?utf-8?q?alice=40example=2Eorg?= <evil@attacker.test>",
    ] {
        // A perfectly valid signature by the attacker's own domain.
        let raw = plain(
            w.rsa.mail_auth_key(),
            "attacker.test",
            "rsa",
            &message(from, "x", BODY),
        );
        let r = w.verify(&raw).await;
        assert_eq!(r.account, None, "{from}: {r:#?}");
        assert!(
            r.factors.dkim.reason.contains("evil@attacker.test"),
            "{r:#?}"
        );
        assert!(!r.verified);
    }
    // Control: the real alice, same shape of header.
    let raw = w.signed("\"Alice\" <alice@example.org>", "x");
    assert_verified(&w.verify(&raw).await);
}

#[tokio::test]
async fn headers_added_after_signing_do_not_pass() {
    let w = World::start();
    let control = w.signed(ALICE, "Question about billing");
    assert_verified(&w.verify(&control).await);

    // A second Subject on top: it is the one a mail client shows.
    let r = w
        .verify(&format!("Subject: Please delete my account\r\n{control}"))
        .await;
    assert_dkim(&r, Outcome::Fail, "added after signing");

    // Reply-To is in h= even when absent (mail-auth signs it as empty),
    // so adding one breaks the signature.
    let r = w
        .verify(&control.replacen(
            "To: support",
            "Reply-To: evil@attacker.test\r\nTo: support",
            1,
        ))
        .await;
    assert_dkim(&r, Outcome::Fail, "does not match");

    // A signer that does not cover Reply-To: adding one keeps the
    // signature valid, but it would send our answer to the attacker.
    let loose = plain_with_headers(
        w.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &["From", "To", "Subject", "Date", "Content-Type"],
        &message(ALICE, "x", BODY),
    );
    assert_verified(&w.verify(&loose).await);
    let r = w
        .verify(&loose.replacen(
            "To: support",
            "Reply-To: evil@attacker.test\r\nTo: support",
            1,
        ))
        .await;
    assert_dkim(&r, Outcome::Fail, "reply-to header is not signed");
}

/// Regression guard for the rule above: hops add Received headers after
/// signing, and a signer that covered its own Received must still pass.
#[tokio::test]
async fn trace_headers_added_in_transit_still_pass() {
    let w = World::start();
    let msg = format!(
        "Received: from desk by mx.example.org; Mon, 23 Nov 2026 10:00:00 +0000\r\n{}",
        message(ALICE, "x", BODY)
    );
    let mut headers = SIGNED.to_vec();
    headers.push("Received");
    let signed = plain_with_headers(w.rsa.mail_auth_key(), "example.org", "rsa", &headers, &msg);
    let relayed = format!(
        "Received: from mx.example.org by mx.sr.ht; Mon, 23 Nov 2026 10:00:01 +0000\r\nAuthentication-Results: mx.sr.ht; dkim=pass\r\n{signed}"
    );
    assert_verified(&w.verify(&relayed).await);
}

/// Signatures that must not count, one row each: what is wrong, the
/// message as signed (or changed after signing), the verdict and a part of
/// its reason. The controls before the table pass in the same world, with
/// the same keys and signers.
#[tokio::test]
async fn signatures_that_do_not_count() {
    let w = World::start();
    let msg = || message(ALICE, "x", BODY);
    let rsa = |domain: &str, selector: &str| plain(w.rsa.mail_auth_key(), domain, selector, &msg());
    let with_l = sign(w.rsa.mail_auth_key(), "example.org", "rsa", &msg(), |s| s.body_length(true));
    assert!(with_l.contains(" l="), "{with_l}");
    let sha1 = plain(w.rsa.openssl_key::<Sha1>(), "example.org", "rsa", &msg());
    assert!(sha1.contains("a=rsa-sha1"), "{sha1}");
    let body = w.signed(ALICE, "x");
    let subject = w.signed(ALICE, "Refund please");

    // Controls: l= covering the whole body, the openssl-backed signer with
    // SHA-256, and the untouched messages.
    for control in [&with_l, &plain(w.rsa.openssl_key::<Sha256>(), "example.org", "rsa", &msg()), &body, &subject] {
        assert_verified(&w.verify(control).await);
    }

    let cases = [
        (
            "text beyond l=",
            format!("{with_l}\r\nP.S. also transfer my billing to evil@attacker.test\r\n"),
            Outcome::Fail,
            "l=",
        ),
        ("d= not aligned with From", rsa("attacker.test", "rsa"), Outcome::Fail, "does not align"),
        ("rsa-sha1", sha1, Outcome::Fail, "rsa-sha1"),
        ("weak key", plain(w.weak.openssl_key::<Sha256>(), "example.org", "weak", &msg()), Outcome::Fail, "bits"),
        ("testing-mode key (t=y): unsigned", rsa("example.org", "testing"), Outcome::None, "t=y"),
        ("revoked key", rsa("example.org", "revoked"), Outcome::Fail, "revoked"),
        ("unpublished selector", rsa("example.org", "nosuch"), Outcome::Fail, "no DKIM key"),
        ("body changed", body.replace("delete my account", "give evil my account"), Outcome::Fail, "body was changed"),
        (
            "signed header changed",
            subject.replace("Subject: Refund please", "Subject: Delete everything"),
            Outcome::Fail,
            "does not match",
        ),
    ];
    for (case, raw, outcome, reason) in cases {
        let r = w.verify(&raw).await;
        assert_eq!(r.account.as_deref(), Some("alice"), "{case}: the address still names the account: {r:#?}");
        assert_eq!(r.factors.dkim.result, outcome, "{case}: {r:#?}");
        assert!(r.factors.dkim.reason.contains(reason), "{case}: reason {:?} lacks {reason:?}", r.factors.dkim.reason);
        assert!(!r.verified && r.met == 0, "{case}: {r:#?}");
        // NXDOMAIN for a selector is an answer, not an outage.
        assert!(!r.temporary, "{case}: {r:#?}");
    }
}

#[tokio::test]
async fn expired_signature_does_not_pass() {
    let w = World::start();
    let raw = sign(
        w.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &message(ALICE, "x", BODY),
        |s| s.expiration(1),
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_dkim(&w.verify(&raw).await, Outcome::Fail, "expired");
    // Control: a generous x= still passes.
    let raw = sign(
        w.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &message(ALICE, "x", BODY),
        |s| s.expiration(3600),
    );
    assert_verified(&w.verify(&raw).await);
}

#[tokio::test]
async fn unknown_sender_has_no_account() {
    let w = World::start();
    let raw = w.signed("mallory@example.org", "x");
    let r = w.verify(&raw).await;
    assert_eq!(r.account, None);
    assert_dkim(
        &r,
        Outcome::None,
        "no account has the address mallory@example.org",
    );
    // The local part is exact: Alice@ is not alice@.
    let raw = w.signed("Alice@EXAMPLE.org", "x");
    assert_eq!(w.verify(&raw).await.account, None);
    // The domain is not: alice@EXAMPLE.ORG is alice.
    let raw = w.signed("alice@EXAMPLE.ORG", "x");
    assert_verified(&w.verify(&raw).await);
}

#[tokio::test]
async fn dns_outage_is_temporary_none_never_fail() {
    let mut w = World::start();
    let raw = w.signed(ALICE, "x");
    let verifier = w.verifier().await;
    w.dns.stop();
    let msg = triaged::message::Message::parse(raw.into_bytes()).unwrap();
    let r = verifier.verify(&msg, &Default::default()).await;
    assert_eq!(r.factors.dkim.result, Outcome::None, "{r:#?}");
    assert!(r.factors.dkim.temporary, "{r:#?}");
    assert!(r.temporary && !r.verified);
    assert!(r.summary().contains("dkim retry"), "{}", r.summary());

    // A sender no account has: the same, or a reply of theirs held for want
    // of a signature would never be checked again.
    let raw = w.signed("mallory@example.org", "x");
    let msg = triaged::message::Message::parse(raw.into_bytes()).unwrap();
    let r = verifier.verify(&msg, &Default::default()).await;
    assert_eq!((r.account.as_deref(), r.factors.dkim.result), (None, Outcome::None), "{r:#?}");
    assert!(r.factors.dkim.temporary && r.temporary && !r.verified, "{r:#?}");
    assert!(r.factors.dkim.reason.starts_with("no account has the address mallory@example.org (signature not checked: temporary: "), "{r:#?}");
    assert!(r.dkim_domain.is_none() && !r.signs_header("in-reply-to"), "nothing vouched for: {r:#?}");
    assert!(r.summary().contains("(no account): dkim retry"), "{}", r.summary());
}

#[tokio::test]
async fn unsigned_message_is_none() {
    let w = World::start();
    let r = w.verify(&message(ALICE, "x", BODY)).await;
    assert_eq!(r.account.as_deref(), Some("alice"));
    assert_dkim(&r, Outcome::None, "no DKIM signature");
}

#[tokio::test]
async fn long_keys_are_served_in_255_byte_strings() {
    // The 2048-bit key record is ~410 bytes: more than one TXT string.
    let w = World::start();
    assert!(w.rsa.public_b64.len() > 255);
    let raw = w.signed(ALICE, "x");
    assert_verified(&w.verify(&raw).await);
}

/// A mailing list that checked DKIM, then added a footer (breaking it) and
/// sealed the result with ARC. Staff see what the list claims; the claim
/// never counts as a factor.
#[tokio::test]
async fn arc_is_shown_but_never_counted() {
    use mail_auth::arc::ArcSealer;
    use mail_auth::common::headers::HeaderWriter;
    use mail_auth::{AuthenticatedMessage, AuthenticationResults, MessageAuthenticator};

    let w = World::start();
    let original = w.signed(ALICE, "x");
    let r = w.verify(&original).await;
    assert_verified(&r);
    assert_eq!(r.arc, None);

    let list = MessageAuthenticator(triaged::verify::dkim::resolver(&w.config.dns).unwrap());
    let parsed = AuthenticatedMessage::parse(original.as_bytes()).unwrap();
    let dkim = list.verify_dkim(&parsed).await;
    let results = AuthenticationResults::new("lists.example.net")
        .with_dkim_results(&dkim, "alice@example.org");
    let modified = format!("{original}-- \r\nYou are subscribed to support-users.\r\n");
    let parsed = AuthenticatedMessage::parse(modified.as_bytes()).unwrap();
    let arc_so_far = list.verify_arc(&parsed).await;
    let set = ArcSealer::from_key(w.rsa.mail_auth_key())
        .domain("lists.example.net")
        .selector("rsa")
        .headers(["From", "To", "Subject", "DKIM-Signature"])
        .seal(&parsed, &results, &arc_so_far)
        .unwrap();
    let sealed = format!("{}{modified}", set.to_header());

    let r = w.verify(&sealed).await;
    let arc = r.arc.clone().expect("ARC summary");
    assert!(arc.starts_with("ARC pass"), "{arc}");
    assert!(
        arc.contains("lists.example.net") && arc.contains("dkim=pass"),
        "{arc}"
    );
    assert_dkim(&r, Outcome::Fail, "body was changed");
}

/// The last four card digits count only when the procedure is a billing
/// matter, and then they are a second factor for a 2FA account.
#[tokio::test]
async fn card_digits_count_only_for_billing() {
    use triaged::verify::VerifyContext;
    let w = World::start_with(
        &ACCOUNTS.replace("two_factor = false", "two_factor = true"),
        "",
    );
    let body = "Hello,\r\n\r\nplease refund my last payment, the card ends in 4242.\r\n";
    let raw = plain(
        w.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &message(ALICE, "Refund", body),
    );
    let msg = triaged::message::Message::parse(raw.into_bytes()).unwrap();
    let v = w.verifier().await;

    let r = v.verify(&msg, &VerifyContext::default()).await;
    assert_eq!(r.factors.billing_last4.result, Outcome::None, "{r:#?}");
    assert_eq!((r.required, r.met, r.verified), (2, 1, false));

    let billing = VerifyContext {
        billing: true,
        ..Default::default()
    };
    let r = v.verify(&msg, &billing).await;
    assert!(r.factors.billing_last4.passed(), "{r:#?}");
    assert_eq!((r.required, r.met, r.verified), (2, 2, true));

    // Wrong digits: fail, still one factor.
    let raw = plain(
        w.rsa.mail_auth_key(),
        "example.org",
        "rsa",
        &message(ALICE, "Refund", &body.replace("4242", "1234")),
    );
    let r = v
        .verify(
            &triaged::message::Message::parse(raw.into_bytes()).unwrap(),
            &billing,
        )
        .await;
    assert_eq!(r.factors.billing_last4.result, Outcome::Fail);
    assert!(!r.verified);
}

/// The helper other identity tests rely on: A records and TXT records of
/// any length, through the resolver triaged builds from the config.
#[tokio::test]
async fn dns_helper_serves_a_and_long_txt_records() {
    use crate::support::dns::{Dns, Record};
    let long = "x".repeat(600);
    let dns = Dns::start(&[
        Record::a("www.example.org", std::net::Ipv4Addr::LOCALHOST),
        Record::txt("_triaged-challenge.example.org", long.clone()),
    ]);
    let config = triaged::config::DnsConfig {
        nameservers: vec![dns.addr()],
        timeout: std::time::Duration::from_secs(2),
    };
    let resolver = triaged::verify::dkim::resolver(&config).unwrap();
    let ips = resolver.ipv4_lookup("www.example.org.").await.unwrap();
    assert_eq!(ips.answers().len(), 1, "{ips:?}");
    let txt = resolver
        .txt_lookup("_triaged-challenge.example.org.")
        .await
        .unwrap();
    let joined: Vec<u8> = txt
        .answers()
        .iter()
        .filter_map(|r| match &r.data {
            hickory_resolver::proto::rr::RData::TXT(t) => Some(t.txt_data.concat()),
            _ => None,
        })
        .flatten()
        .collect();
    assert_eq!(joined, long.as_bytes());
    assert!(resolver.txt_lookup("nosuch.example.org.").await.is_err());
}

/// A nameserver that takes queries and never answers (fault injection, in
/// the place of the real server): the check gives up after the configured
/// timeout and says "temporary", never "fail".
#[tokio::test]
async fn dns_timeout_is_temporary_and_bounded() {
    let w = World::start();
    let raw = w.signed(ALICE, "x");
    // The same port for UDP and TCP; another process may hold the TCP one.
    let (hole, tcp_hole) = (0..50)
        .find_map(|_| {
            let udp = std::net::UdpSocket::bind("127.0.0.1:0").ok()?;
            let tcp = std::net::TcpListener::bind(udp.local_addr().ok()?).ok()?;
            Some((udp, tcp))
        })
        .expect("a free UDP and TCP port pair");
    let config = triaged::config::DnsConfig {
        nameservers: vec![hole.local_addr().unwrap()],
        timeout: std::time::Duration::from_secs(1),
    };
    let mut config_all = w.config.clone();
    config_all.dns = config;
    let v = triaged::verify::Verifier::new(&config_all).await.unwrap();
    let msg = triaged::message::Message::parse(raw.into_bytes()).unwrap();
    let started = std::time::Instant::now();
    let r = v.verify(&msg, &Default::default()).await;
    assert!(
        started.elapsed() < std::time::Duration::from_secs(8),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(r.factors.dkim.result, Outcome::None, "{r:#?}");
    assert!(r.factors.dkim.temporary && r.temporary, "{r:#?}");
    drop((hole, tcp_hole));
}

/// Malformed signatures and key records give a reason, never a crash, and
/// never a pass.
#[tokio::test]
async fn malformed_signatures_and_keys_give_a_reason() {
    let w = World::start();
    for selector in ["garbage", "dsa", "short"] {
        let raw = plain(
            w.rsa.mail_auth_key(),
            "example.org",
            selector,
            &message(ALICE, "x", BODY),
        );
        let r = w.verify(&raw).await;
        assert_eq!(r.factors.dkim.result, Outcome::Fail, "{selector}: {r:#?}");
        assert!(
            r.factors.dkim.reason.contains(&format!("s={selector}")),
            "{r:#?}"
        );
        assert!(!r.verified);
    }
    let control = w.signed(ALICE, "x");
    for bad in [
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=rsa; h=from; bh=@@@; b=@@@\r\n",
        "DKIM-Signature: v=2; a=rsa-sha256; d=example.org; s=rsa; h=from; bh=AAAA; b=AAAA\r\n",
        "DKIM-Signature: v=1; a=rsa-md5; d=example.org; s=rsa; h=from; bh=AAAA; b=AAAA\r\n",
        "DKIM-Signature: \r\n",
        "DKIM-Signature: v=1; a=rsa-sha256; d=example.org; s=rsa; h=from; bh=AAAA; b=AAAA; l=99999999999999999999999\r\n",
    ] {
        // Alone: no pass.
        let r = w
            .verify(&format!("{bad}{}", message(ALICE, "x", BODY)))
            .await;
        assert!(!r.factors.dkim.passed(), "{bad}: {r:#?}");
        assert!(!r.factors.dkim.reason.is_empty());
        // Beside a valid signature: the valid one still counts.
        assert_verified(&w.verify(&format!("{bad}{control}")).await);
    }
}

/// A DKIM-Signature header nobody can verify: `d`, `s` and `l` as given.
fn bogus_signature(d: &str, s: &str, l: usize) -> String {
    format!(
        "DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={d}; s={s}; h=from:subject; l={l};\r\n bh=47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=; b=dGhpcyBpcyBub3QgYSBzaWduYXR1cmU=\r\n"
    )
}

/// DNS queries of any type the test DNS server has answered so far.
fn dns_queries(w: &World) -> usize {
    w.dns.log_text().matches("query[").count()
}

/// RFC 6376 sec 6.1 lets a verifier limit the signatures it checks. A
/// genuine message buried in 1,000 signatures with distinct d= and l=
/// (each a DNS query and a pass over the body, unbounded) costs a handful
/// of queries, and the genuine signature still passes when it is among the
/// first aligned ones.
#[tokio::test]
async fn a_thousand_signatures_cost_a_bounded_number_of_dns_queries() {
    use triaged::verify::dkim::{MAX_ARC_SETS, MAX_SIGNATURES};
    let w = World::start();
    let genuine = w.signed(ALICE, "Delete");
    let crowd = |from: usize, n: usize| -> String {
        (from..from + n).map(|i| bogus_signature(&format!("d{i}.attacker.test"), "s", i)).collect()
    };
    let aligned_decoys = |n: usize, tag: &str| -> String {
        (1..=n).map(|i| bogus_signature("example.org", &format!("{tag}{i}"), i)).collect()
    };
    let budget = 2 * MAX_SIGNATURES + MAX_ARC_SETS + 1;

    // Two forged aligned signatures above it, a crowd of foreign ones and
    // more aligned decoys below it.
    let below = genuine.replacen("From: ", &format!("{}From: ", aligned_decoys(20, "low")), 1);
    let raw = format!("{}{}{}{below}", crowd(0, 500), aligned_decoys(2, "top"), crowd(500, 500));
    assert_eq!(raw.matches("DKIM-Signature:").count(), 1023);
    let before = dns_queries(&w);
    let r = w.verify(&raw).await;
    let used = dns_queries(&w) - before;
    assert_verified(&r);
    assert!(used <= budget, "{used} DNS queries, more than {budget}:\n{}", w.dns.log_text());
    assert!(used >= 1, "the genuine key was asked for");
    assert!(r.factors.dkim.reason.contains("not checked"), "{}", r.factors.dkim.reason);

    // Pushed below the first MAX_SIGNATURES aligned ones, it is not
    // checked: the limit is real, and says so.
    let raw = format!("{}{}{genuine}", aligned_decoys(MAX_SIGNATURES, "top"), crowd(0, 1000));
    let before = dns_queries(&w);
    let r = w.verify(&raw).await;
    let used = dns_queries(&w) - before;
    assert!(used <= budget, "{used} DNS queries:\n{}", w.dns.log_text());
    assert_dkim(&r, Outcome::Fail, "over the limit of 5 signatures");
}

/// Within the limits nothing is left out: a foreign signature next to the
/// genuine one is still checked and named.
#[tokio::test]
async fn a_few_signatures_are_all_checked() {
    let w = World::start();
    let raw = format!("{}{}", bogus_signature("attacker.test", "s", 0), w.signed(ALICE, "Delete"));
    let r = w.verify(&raw).await;
    assert_verified(&r);
    assert!(!r.factors.dkim.reason.contains("not checked"), "{}", r.factors.dkim.reason);
    let only_foreign = format!("{}{}", bogus_signature("attacker.test", "s", 0), message(ALICE, "x", BODY));
    assert_dkim(&w.verify(&only_foreign).await, Outcome::Fail, "signed by d=attacker.test s=s, which does not align");
}
