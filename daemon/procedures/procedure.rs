//! A written procedure as the engine reads it: its identity policy, the
//! rules that recognise its requests, and its steps with their replies,
//! deadlines, routes and staff actions. Plain data, checked by [`super::pack`]
//! when a pack is loaded.

use serde::Deserialize;

/// Who must be proven to be the account holder before the procedure acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentityPolicy {
    /// Nothing is disclosed or changed: no verification needed.
    None,
    /// The account's rule: one factor, two when the account has (or may
    /// have) two-factor authentication. What "verified" means is decided
    /// in one place: `verify::conversation::TicketIdentity::required`.
    One,
    /// Two factors whatever the directory says: the procedure is about 2FA.
    #[serde(rename = "two_for_2fa")]
    TwoFor2fa,
    /// Billing matters: the account's rule, and the last four card digits
    /// count as a factor.
    Billing,
}

impl IdentityPolicy {
    /// The last four card digits prove identity only for billing matters.
    pub fn card_digits_count(self) -> bool {
        self == IdentityPolicy::Billing
    }

    /// The procedure changes or discloses an account: its mail goes to the
    /// From address whose owner it concerns, never to an unsigned
    /// Reply-To, and a reply moves it only by what ties it to that mail.
    pub fn acts_on_account(self) -> bool {
        self != IdentityPolicy::None
    }

    /// The word `procedures.toml` spells it with.
    pub fn as_str(self) -> &'static str {
        match self {
            IdentityPolicy::None => "none",
            IdentityPolicy::One => "one",
            IdentityPolicy::TwoFor2fa => "two_for_2fa",
            IdentityPolicy::Billing => "billing",
        }
    }
}

/// The ticket state a step leaves behind: the store's states.
pub use crate::store::TicketState;

/// Which part of a message a rule looks at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Field {
    Subject,
    Body,
    /// Subject and body.
    Text,
    /// One header, by name (case-insensitive); all its values.
    Header(String),
}

impl Field {
    pub(super) fn parse(s: &str) -> Option<Field> {
        match s {
            "subject" => Some(Field::Subject),
            "body" => Some(Field::Body),
            "text" => Some(Field::Text),
            _ => s
                .strip_prefix("header:")
                .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic() && b != b':'))
                .map(|h| Field::Header(h.to_ascii_lowercase())),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Rule {
    /// `procedure/rule-name`, as shown in explanations.
    pub name: String,
    pub field: Field,
    /// Searched forward only, one search cache for every worker:
    /// `crate::forward_regex`. Shared
    /// with every other rule of the pack that has the same pattern (the
    /// word lists that speak against every procedure, such as `{bulk}`):
    /// compiled once, searched once a message (`Pack::scores`).
    pub regex: std::sync::Arc<crate::forward_regex::ForwardRegex>,
    /// Whether another rule of the pack holds the same `regex`.
    pub shared: bool,
    /// The place of `regex` among the pack's distinct patterns: where the
    /// pack's one pass over a text marks whether it is worth searching
    /// (`super::rule_words`).
    pub slot: usize,
    /// Negative for rules that speak against the procedure.
    pub weight: f64,
}

#[derive(Debug, Clone)]
pub struct StepDeadline {
    pub name: String,
    /// Time after entering the step (or after `at`).
    pub after: Option<jiff::Span>,
    /// A condition-language expression giving a date (`YYYY-MM-DD`); the
    /// deadline is the start of that day in the configured time zone.
    pub at: Option<String>,
    pub next: String,
}

#[derive(Debug, Clone)]
pub struct Route {
    pub when: String,
    pub next: String,
}

#[derive(Debug, Clone)]
pub struct Allocate {
    /// The numbering series, e.g. `a20111128.3`.
    pub series: String,
    /// The ticket data key that receives `series.N`.
    pub key: String,
}

#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub template: Option<String>,
    pub staff_note: Option<String>,
    pub queue: Option<String>,
    pub state: TicketState,
    pub on_reply: Option<String>,
    pub on_confirmation: Option<String>,
    /// Where a reply that takes the request back goes (sent by accident,
    /// do not delete); without it such a reply takes `on_reply`.
    pub on_decline: Option<String>,
    /// Where a reply that says nothing more is needed goes ("it works
    /// again", "solved"); without it such a reply takes `on_reply`.
    pub on_resolved: Option<String>,
    /// Something staff must carry out (refund, delete, lock...) before the
    /// procedure goes on: shown with the ticket, which waits open until
    /// staff say it is done; then `on_done`.
    pub staff_action: Option<String>,
    pub on_done: Option<String>,
    pub deadlines: Vec<StepDeadline>,
    pub routes: Vec<Route>,
    /// Data updates: key → expression, evaluated in order.
    pub set: Vec<(String, String)>,
    pub allocate: Option<Allocate>,
    pub document: Vec<String>,
}

impl Step {
    /// Its condition-language expressions: routes' `when`, `set` values,
    /// deadlines' `at`.
    pub fn expressions(&self) -> impl Iterator<Item = &str> {
        let when = self.routes.iter().map(|r| r.when.as_str());
        let set = self.set.iter().map(|(_, e)| e.as_str());
        let at = self.deadlines.iter().filter_map(|d| d.at.as_deref());
        when.chain(set).chain(at)
    }
}

#[derive(Debug, Clone)]
pub struct Procedure {
    pub id: String,
    pub title: String,
    pub identity: IdentityPolicy,
    pub billing: bool,
    /// Confusing this procedure with a harmless one would be harmful.
    pub sensitive: bool,
    /// The procedure involves a second account (a billing transfer): its
    /// owner may reply into the ticket from that account's address, and is
    /// verified by the same rules (`other_account_verified`).
    pub second_account: bool,
    /// Routed to only on a sign of the team's own services (`[own]`, a
    /// known sender): `classify::own`.
    pub needs_own: bool,
    /// Held by the precision guard like a sensitive procedure: a route
    /// needs the writer's own request (`classify::guard`). Always true for
    /// a sensitive one.
    pub needs_request: bool,
    /// Decided by what the message carries (a secret, an encrypted
    /// block), not by what its writer asks: the guard does not ask it for
    /// a positive sign of a request (`classify::guard`), only that it is
    /// no report, story or talk about others.
    pub by_content: bool,
    /// A reply that points elsewhere and asks or promises nothing (2i2c's
    /// everyday questions to the forum): a wrong guess of it harms no one,
    /// so the pack's model may route it on less certainty
    /// (`classify::pack_model::MIN_ROUTE_REDIRECT`).
    pub redirect: bool,
    /// The ticket data staff record on its tickets (`!set`, `triaged
    /// set`): no other key can be set by hand.
    pub facts: Vec<Fact>,
    pub rules: Vec<Rule>,
    pub steps: Vec<Step>,
}

/// A fact a procedure declares, as its conditions read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    pub name: String,
    /// A condition reads it as a number (`assurances | int`, `n > 0`):
    /// text there is an error that stops the procedure, so only a whole
    /// number may be recorded.
    pub number: bool,
}

impl Procedure {
    pub fn step(&self, name: &str) -> Option<&Step> {
        self.steps.iter().find(|s| s.name == name)
    }

    pub fn fact(&self, name: &str) -> Option<&Fact> {
        self.facts.iter().find(|f| f.name == name)
    }
}

