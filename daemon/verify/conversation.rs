//! The identity of a conversation, decided in one place.
//!
//! A single message is judged by [`Verifier::verify`](super::Verifier); a
//! *ticket* is a conversation of several messages, most of whose headers
//! nobody signed. This module decides what those messages together prove,
//! resting every decision on a signed fact:
//!
//! - The ticket belongs to the account its opening From address belongs
//!   to, and to nobody else: a later message never changes the account.
//! - A message *counts* only when it carries a passing factor of its own
//!   for that account (DKIM aligned with the account's address, a PGP
//!   signature by its key, the SSH challenge answer, or for billing matters
//!   the card digits) and, for a reply, when the link to this ticket is
//!   signed too (see [`Binding`]). DNS and web challenges prove control of a
//!   domain, not who wrote a message: they add up only inside a message
//!   that counts.
//! - Factors add up across the messages that count, and only those.
//! - How many factors a step needs comes from the account *and* the
//!   procedure's policy (`two_for_2fa`: two, whatever the directory says).
//! - A second account (a billing transfer's new one) is one the account's
//!   own counted messages name (`~bob`, or its address): whoever else
//!   proves who they are has proved nothing about this ticket.
//! - A ticket whose sender has no account is never verified, but its
//!   replies prove as much as its request did: after a request DKIM-signed
//!   by the sender's domain, a reply moves it only when signed so too, over
//!   its link to the ticket ([`TicketIdentity::falls_short`]).
//!
//! A message that does not count is kept and shown to staff ("unsigned
//! reply claiming to be erin") and changes nothing.

use std::collections::BTreeSet;
use std::sync::LazyLock;

use regex::Regex;
use serde::{Deserialize, Serialize};

use super::{Challenge, Report};
use crate::procedures::IdentityPolicy;
use crate::message::sanitize_line;

/// Factors a message carries itself: each proves who wrote *this* message.
/// (`dns` and `web` prove control of a domain at the time of the check.)
const MESSAGE_FACTORS: [&str; 4] = ["dkim", "pgp", "ssh", "billing_last4"];

/// How a reply is tied to its ticket, and whether a signature covers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Binding {
    /// The message that opened the ticket: the request itself.
    Opening,
    /// The SSH answer signs the challenge issued to this ticket.
    Challenge,
    /// A passing DKIM signature covers the header that joined it
    /// (In-Reply-To/References naming our draft, or the `[#N]` subject).
    SignedHeader,
    /// A PGP signature covers text that names this ticket in the writer's
    /// own words, or its challenge.
    SignedText,
    /// Card digits: the seed accepts them for billing matters wherever they
    /// are written, so the link adds nothing to protect.
    CardDigits,
    /// Nothing signed ties the message to this ticket.
    Unsigned,
}

/// What one message of the ticket proved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evidence {
    pub message_id: String,
    /// The account the message's From address belongs to.
    pub account: Option<String>,
    /// Factors that passed for this message.
    pub passed: BTreeSet<String>,
    pub binding: Binding,
    /// The From domain a passing, aligned DKIM signature vouched for,
    /// whether or not an account has the address: all a message proves of
    /// a sender the directory does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dkim_domain: Option<String>,
}

impl Evidence {
    /// The factors that passed and that the message carries itself.
    fn own_factors(&self) -> impl Iterator<Item = &str> {
        self.passed.iter().map(String::as_str).filter(|f| MESSAGE_FACTORS.contains(f))
    }

    pub fn authenticates(&self) -> bool {
        self.own_factors().next().is_some()
    }
}

/// The typed identity state of a ticket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TicketIdentity {
    /// The opening message's From address, normalised as the account
    /// lookup normalises it; replies join only from this address.
    pub address: String,
    /// The account that address belongs to, if any.
    pub account: Option<String>,
    /// Factors the account needs (two with 2FA or when unknown), before
    /// the procedure's policy.
    pub account_required: u32,
    /// The challenge issued to this ticket.
    pub challenge: Option<Challenge>,
    /// One entry per message checked, in order.
    pub messages: Vec<Evidence>,
    /// The latest report, for staff.
    pub last_report: Option<Report>,
    /// A second account the procedure involves (a billing transfer), with
    /// its own messages and factors: the two never add up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub second: Option<Box<TicketIdentity>>,
    /// The accounts the messages that count name in their own words
    /// (`~bob`, `bob@example.org`): the only ones a second account may be.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub named: BTreeSet<String>,
}

/// Said of a sender while the account directory does not answer, instead
/// of "no account has" their address (`Report::directory_unanswered`).
pub const DIRECTORY_UNANSWERED: &str = "the account directory could not be asked whose address it is";

/// `~username` as sourcehut writes an account, not inside a word or a path
/// (`/home/~bob`, `x~y`).
static TILDE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?:^|[^\w~/@.-])~([A-Za-z0-9_][A-Za-z0-9_.-]*)").expect("static regex"));
/// A mail address written in the text.
static ADDRESS: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+").expect("static regex"));

/// The accounts `text` names in the writer's own words (quotes cut): each
/// `~username` as `~username`, each address as the account lookup
/// normalises it.
fn names_in(text: &str) -> impl Iterator<Item = String> {
    let own = crate::message::strip_quoted(text);
    let tildes: Vec<String> = TILDE_NAME
        .captures_iter(&own)
        .map(|c| format!("~{}", c[1].trim_end_matches(['.', '-'])))
        .collect();
    let addresses: Vec<String> = ADDRESS
        .find_iter(&own)
        .filter_map(|m| crate::verify::accounts::normalize_address(m.as_str().trim_end_matches(['.', '-'])))
        .collect();
    tildes.into_iter().chain(addresses)
}

/// What the procedures may read about identity: the only way identity
/// reaches a step's expressions or templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub verified: bool,
    pub required: u32,
    pub factors: BTreeSet<String>,
}

impl Verdict {
    /// `verified 2/2 (dkim, pgp)` or `NOT verified 0/1`.
    pub fn summary(&self) -> String {
        let met = self.factors.len().min(u32::MAX as usize) as u32;
        let word = if self.verified { "verified" } else { "NOT verified" };
        if self.factors.is_empty() {
            format!("{word} {met}/{}", self.required)
        } else {
            let names: Vec<&str> = self.factors.iter().map(String::as_str).collect();
            format!("{word} {met}/{} ({})", self.required, names.join(", "))
        }
    }
}

impl TicketIdentity {
    /// A ticket opened by a message whose check gave `report`.
    pub fn open(address: &str, report: &Report, message_id: &str) -> TicketIdentity {
        let mut id = TicketIdentity {
            address: crate::verify::accounts::normalize_address(address).unwrap_or_else(|| address.to_string()),
            account: report.account.clone(),
            account_required: report.required,
            challenge: None,
            messages: Vec::new(),
            last_report: None,
            second: None,
            named: BTreeSet::new(),
        };
        id.record(report, message_id, Binding::Opening);
        id
    }

    /// Takes note of the accounts `text` names, when the message with
    /// `message_id` counted: an unproven message names nobody.
    pub fn note_names(&mut self, message_id: &str, text: &str) {
        if self.counted(message_id) {
            self.named.extend(names_in(text));
        }
    }

    /// Whether the account's counted messages named `account` (its
    /// username) or `address`.
    pub fn names(&self, account: &str, address: &str) -> bool {
        self.named.contains(&format!("~{account}"))
            || crate::verify::accounts::normalize_address(address).is_some_and(|a| self.named.contains(&a))
    }

    /// The accounts named, for staff: `~bob, bob@example.org` or `none`.
    pub fn named_words(&self) -> String {
        if self.named.is_empty() {
            return "none".into();
        }
        self.named.iter().map(|n| sanitize_line(n)).collect::<Vec<_>>().join(", ")
    }

    /// The identity of a second account, first heard of in a reply tied to
    /// the ticket by `binding` (never the opening's).
    pub fn second_party(address: &str, report: &Report, message_id: &str, binding: Binding) -> TicketIdentity {
        let mut id = TicketIdentity::open(address, report, message_id);
        id.record(report, message_id, binding);
        id
    }

    /// Adds (or, for a message checked again, replaces) one message's
    /// evidence. Returns whether the message counts for this ticket.
    pub fn record(&mut self, report: &Report, message_id: &str, binding: Binding) -> bool {
        let evidence = Evidence {
            message_id: message_id.to_string(),
            account: report.account.clone(),
            passed: report
                .factors
                .iter()
                .filter(|(_, f)| f.passed())
                .map(|(n, _)| n.to_string())
                .collect(),
            binding,
            dkim_domain: report.dkim_domain.clone(),
        };
        let counts = self.counts(&evidence);
        match self.messages.iter_mut().find(|e| e.message_id == message_id) {
            Some(e) => *e = evidence,
            None => self.messages.push(evidence),
        }
        self.last_report = Some(report.clone());
        counts
    }

    /// Whether `e` is evidence about this ticket's account: the same
    /// account, a factor of its own, and a signed link to the ticket.
    pub fn counts(&self, e: &Evidence) -> bool {
        self.account.is_some()
            && e.account == self.account
            && e.authenticates()
            && match e.binding {
                Binding::Unsigned => false,
                // The card digits count only when they are the factor.
                Binding::CardDigits => e.own_factors().any(|f| f == "billing_last4"),
                _ => true,
            }
    }

    /// Whether the message with `message_id` counted.
    pub fn counted(&self, message_id: &str) -> bool {
        self.messages.iter().any(|e| e.message_id == message_id && self.counts(e))
    }

    /// For a ticket no account is known for: why the reply with
    /// `message_id` may not move it, when it proves less of its sender
    /// than the request did; `None` when it may. Without an account, the
    /// request's DKIM signature is all there is to ask for, and a reply
    /// must carry one of its own over the header that names the ticket,
    /// as a reply on an account's ticket must (`counts`). A request that
    /// proved nothing asks nothing more of its replies.
    pub fn falls_short(&self, message_id: &str) -> Option<String> {
        if self.account.is_some() {
            return None;
        }
        let opening = self.messages.iter().find(|e| e.binding == Binding::Opening)?;
        let signer = sanitize_line(opening.dkim_domain.as_deref()?);
        let reply = self.messages.iter().find(|e| e.message_id == message_id);
        match reply.map(|e| (e.dkim_domain.is_some(), e.binding)) {
            Some((_, Binding::Opening)) => None,
            None | Some((false, _)) => Some(format!("the request was DKIM-signed by {signer}; this reply is not")),
            Some((true, Binding::Unsigned)) => Some(format!(
                "the request was DKIM-signed by {signer}; this reply's signature does not cover the header that names this ticket"
            )),
            Some((true, _)) => None,
        }
    }

    /// Factors needed under `policy`. An account whose 2FA status the
    /// directory does not know needs two (the directory reports it so).
    pub fn required(&self, policy: IdentityPolicy) -> u32 {
        match policy {
            // Seed: two factors "even when requesting to have 2FA disabled".
            IdentityPolicy::TwoFor2fa => 2,
            // Seed: accounts with 2FA "must be verified with two factors,
            // before any disclosure of account information via email or any
            // modifications to their account" (a procedure without identity
            // issues no challenge, but "verified" means the same there).
            IdentityPolicy::None | IdentityPolicy::One | IdentityPolicy::Billing => self.account_required.max(1),
        }
    }

    /// The one answer to "is the sender verified for this procedure".
    pub fn verdict(&self, policy: IdentityPolicy) -> Verdict {
        let mut factors = BTreeSet::new();
        for e in self.messages.iter().filter(|e| self.counts(e)) {
            for f in &e.passed {
                if f == "billing_last4" && policy != IdentityPolicy::Billing {
                    continue;
                }
                factors.insert(f.clone());
            }
        }
        let required = self.required(policy);
        Verdict {
            verified: self.account.is_some() && !factors.is_empty() && factors.len() as u32 >= required,
            required,
            factors,
        }
    }

    /// For staff: who the ticket is about and what the latest message
    /// proved, e.g. `verified 2/2 (dkim, ssh) as ~alice`.
    /// Until verified, what the latest message's checks said follows
    /// (`; latest: dkim retry, pgp FAIL`), so staff see why.
    pub fn summary(&self, policy: IdentityPolicy) -> String {
        let v = self.verdict(policy);
        let head = match &self.account {
            Some(a) => format!("{} as ~{}", v.summary(), sanitize_line(a)),
            None if self.last_report.as_ref().is_some_and(|r| r.no_directory) => {
                format!("{} ({})", v.summary(), super::accounts::NO_DIRECTORY)
            }
            None if self.last_report.as_ref().is_some_and(Report::directory_unanswered) => {
                format!("{} ({DIRECTORY_UNANSWERED})", v.summary())
            }
            None => format!("{} (no account has {})", v.summary(), sanitize_line(&self.address)),
        };
        match &self.last_report {
            Some(r) if !v.verified => format!("{head}; latest: {}", r.factor_words().join(", ")),
            _ => head,
        }
    }

    /// Whether `address` is the ticket's address, under the account
    /// lookup's normalisation (the local part exact, the domain in any case).
    pub fn is_address(&self, address: &str) -> bool {
        crate::verify::accounts::normalize_address(address).is_some_and(|a| a == self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::verify::{Factor, Factors};

    fn report(account: Option<&str>, required: u32, pass: &[&str]) -> Report {
        let f = |name: &str| {
            if pass.contains(&name) {
                Factor::pass("ok")
            } else {
                Factor::none("no")
            }
        };
        Report {
            account: account.map(str::to_string),
            factors: Factors {
                dkim: f("dkim"),
                pgp: f("pgp"),
                ssh: f("ssh"),
                dns: f("dns"),
                web: f("web"),
                billing_last4: f("billing_last4"),
            },
            required,
            met: pass.len() as u32,
            verified: account.is_some() && pass.len() as u32 >= required,
            arc: None,
            temporary: false,
            no_directory: false,
            dkim_signed: Vec::new(),
            dkim_domain: pass.contains(&"dkim").then(|| "example.org".to_string()),
        }
    }

    #[test]
    fn an_unsigned_reply_adds_nothing_to_a_verified_request() {
        let mut t = TicketIdentity::open("erin@example.org", &report(Some("erin"), 1, &["dkim"]), "a");
        assert!(t.verdict(IdentityPolicy::One).verified);
        let counted = t.record(&report(Some("erin"), 1, &[]), "b", Binding::Unsigned);
        assert!(!counted);
        assert!(!t.counted("b"));
        assert!(t.counted("a"));
    }

    #[test]
    fn factors_add_up_only_over_messages_that_each_authenticate() {
        // DKIM on the request, then the DNS token published and a reply
        // that carries nothing of its own: still one factor.
        let mut t = TicketIdentity::open("alice@example.org", &report(Some("alice"), 2, &["dkim"]), "a");
        t.record(&report(Some("alice"), 2, &["dns"]), "b", Binding::SignedHeader);
        let v = t.verdict(IdentityPolicy::One);
        assert_eq!((v.verified, v.factors.len()), (false, 1));
        // The same DNS token inside a DKIM-signed reply: two.
        t.record(&report(Some("alice"), 2, &["dkim", "dns"]), "c", Binding::SignedHeader);
        assert!(t.verdict(IdentityPolicy::One).verified);
        assert_eq!(t.verdict(IdentityPolicy::One).summary(), "verified 2/2 (dkim, dns)");
    }

    #[test]
    fn a_signed_mail_grafted_by_an_unsigned_header_does_not_count() {
        let mut t = TicketIdentity::open("erin@example.org", &report(Some("erin"), 1, &[]), "forged");
        assert!(!t.record(&report(Some("erin"), 1, &["dkim"]), "genuine", Binding::Unsigned));
        assert!(!t.verdict(IdentityPolicy::One).verified);
    }

    #[test]
    fn another_accounts_factors_never_count() {
        let mut t = TicketIdentity::open("alice@example.org", &report(Some("alice"), 1, &[]), "a");
        assert!(!t.record(&report(Some("bob"), 1, &["dkim"]), "b", Binding::SignedHeader));
        assert!(!t.verdict(IdentityPolicy::One).verified);
    }

    #[test]
    fn two_factors_to_disable_2fa_whatever_the_directory_says() {
        let t = TicketIdentity::open("alice@example.org", &report(Some("alice"), 1, &["dkim"]), "a");
        assert!(t.verdict(IdentityPolicy::One).verified);
        let v = t.verdict(IdentityPolicy::TwoFor2fa);
        assert!(!v.verified);
        assert_eq!(v.summary(), "NOT verified 1/2 (dkim)");
    }

    #[test]
    fn card_digits_count_only_for_billing_matters() {
        let t = TicketIdentity::open("bob@example.org", &report(Some("bob"), 1, &["billing_last4"]), "a");
        assert!(t.verdict(IdentityPolicy::Billing).verified);
        assert!(!t.verdict(IdentityPolicy::One).verified);
    }

    #[test]
    fn no_account_is_never_verified() {
        let t = TicketIdentity::open("x@example.net", &report(None, 1, &["dkim"]), "a");
        assert!(!t.verdict(IdentityPolicy::One).verified);
        assert_eq!(
            t.summary(IdentityPolicy::One),
            "NOT verified 0/1 (no account has x@example.net); latest: dkim pass"
        );
        // Staff are told the cause when there is no directory to ask.
        let nowhere = Report { no_directory: true, ..report(None, 1, &["dkim"]) };
        let t = TicketIdentity::open("x@example.net", &nowhere, "a");
        assert_eq!(
            t.summary(IdentityPolicy::One),
            "NOT verified 0/1 (no account directory is configured); latest: dkim pass"
        );
    }

    #[test]
    fn a_second_account_is_verified_on_its_own() {
        let mut t = TicketIdentity::open("alice@example.org", &report(Some("alice"), 1, &["dkim"]), "a");
        let bob = TicketIdentity::second_party("bob@example.org", &report(Some("bob"), 1, &["dkim"]), "b", Binding::SignedHeader);
        assert!(bob.verdict(IdentityPolicy::Billing).verified);
        let unsigned = TicketIdentity::second_party("bob@example.org", &report(Some("bob"), 1, &["dkim"]), "b", Binding::Unsigned);
        assert!(!unsigned.verdict(IdentityPolicy::Billing).verified, "grafted by an unsigned header");
        t.second = Some(Box::new(bob));
        assert_eq!(t.verdict(IdentityPolicy::Billing).factors.len(), 1, "the accounts' factors never add up");
    }

    #[test]
    fn the_second_account_is_one_the_counted_messages_name() {
        let mut t = TicketIdentity::open("alice@example.org", &report(Some("alice"), 1, &["dkim"]), "a");
        t.note_names("a", "Move ~alice's billing to ~bob. Or to Bob@Example.ORG.\n\n> ~mallory\nsee /home/~eve and x~carol");
        assert!(t.names("bob", "nobody@example.net"));
        assert!(t.names("robert", "Bob@example.org"), "an address names its account");
        for (who, address) in [("mallory", "m@example.net"), ("eve", "e@example.net"), ("carol", "c@example.net"), ("robert", "bob@example.org")] {
            assert!(!t.names(who, address), "{who} <{address}>");
        }
        // A message that proves nothing names nobody.
        t.record(&report(Some("alice"), 1, &[]), "b", Binding::Unsigned);
        t.note_names("b", "Sorry, I meant ~mallory.");
        assert!(!t.names("mallory", "m@example.net"));
        assert_eq!(t.named_words(), "Bob@example.org, ~alice, ~bob");
    }

    /// A sender no account has: DKIM is no factor, `signed_by` is what
    /// their own signature proved.
    fn stranger(signed_by: Option<&str>) -> Report {
        Report { dkim_domain: signed_by.map(str::to_string), ..report(None, 1, &[]) }
    }

    #[test]
    fn without_an_account_a_reply_proves_as_much_as_the_request_did() {
        let mut t = TicketIdentity::open("ann@example.org", &stranger(Some("example.org")), "a");
        t.record(&stranger(None), "forged", Binding::Unsigned);
        assert_eq!(t.falls_short("forged").as_deref(), Some("the request was DKIM-signed by example.org; this reply is not"));
        t.record(&stranger(Some("example.org")), "grafted", Binding::Unsigned);
        assert_eq!(
            t.falls_short("grafted").as_deref(),
            Some("the request was DKIM-signed by example.org; this reply's signature does not cover the header that names this ticket")
        );
        t.record(&stranger(Some("example.org")), "genuine", Binding::SignedHeader);
        assert_eq!(t.falls_short("genuine"), None);
        assert_eq!(t.falls_short("a"), None, "the request itself");
        assert!(t.falls_short("unknown").is_some(), "a message not on the ticket proves nothing");
        assert!(!t.verdict(IdentityPolicy::One).verified, "and still no account is verified");

        // A request that proved nothing asks nothing more of its replies.
        let mut t = TicketIdentity::open("ann@example.org", &stranger(None), "a");
        t.record(&stranger(None), "b", Binding::Unsigned);
        assert_eq!(t.falls_short("b"), None);
        // With an account, whether a reply counts decides (`counts`).
        let mut t = TicketIdentity::open("erin@example.org", &report(Some("erin"), 1, &["dkim"]), "a");
        t.record(&report(Some("erin"), 1, &[]), "b", Binding::Unsigned);
        assert_eq!(t.falls_short("b"), None);
    }

    #[test]
    fn membership_uses_the_account_lookups_normalisation() {
        let t = TicketIdentity::open("alice@Example.org", &report(Some("alice"), 1, &[]), "a");
        assert!(t.is_address("alice@EXAMPLE.ORG"));
        assert!(!t.is_address("ALICE@example.org"));
    }
}
