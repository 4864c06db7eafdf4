//! Through the daemon, against a real Dovecot: a refund asked after is a
//! question for a person, a refund asked for is the refund procedure
//! (seed 001: "if a user asks for a refund"; docs/CLASSIFICATION-LOG.md,
//! "Refunds asked after").

use crate::support::harness::*;

/// Two writers, one run: the policy question opens an unclassified
/// ticket whose only draft is the acknowledgement; the request opens a
/// refund ticket whose draft asks for proof of identity, as refunds do.
#[test]
fn a_refund_policy_question_gets_a_person_and_a_refund_request_gets_the_procedure() {
    let s = setup();
    s.dovecot.deliver("INBOX", &mail(1, "Refunds", "Could you show me your refund policy? In what cases can I ask for my money back?"));
    s.dovecot.deliver("INBOX", &mail(2, "Refund", "I was charged for a year I will not use. Please refund my last payment."));
    run_once(&s);
    let out = triaged(&s.config, &["status", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status is JSON");
    let tickets = v["tickets"].as_array().expect("tickets");
    let procedure_of = |from: &str| {
        tickets.iter().find(|t| t.to_string().contains(from)).map(|t| t["procedure"].clone()).unwrap_or_else(|| panic!("no ticket from {from}: {v}"))
    };
    assert_eq!(procedure_of("user1@example.net"), "unclassified", "{v}");
    assert_eq!(procedure_of("user2@example.net"), "refund", "{v}");
    let drafts = drafts(&s);
    assert_eq!(drafts.len(), 2, "one draft each");
    let to = |n: usize| drafts.iter().find(|d| d.in_reply_to.iter().any(|m| m == &format!("<m{n}@example.net>") || m == &format!("m{n}@example.net"))).unwrap_or_else(|| panic!("no draft answers message {n}"));
    assert!(to(1).text.contains("staff will read it"), "the question gets the acknowledgement: {}", to(1).text);
    assert!(!to(1).text.contains("make sure we are talking to its owner"), "and no step of the refund procedure: {}", to(1).text);
    assert!(to(2).text.contains("make sure we are talking to its owner"), "the request gets the refund procedure's first step: {}", to(2).text);
}
