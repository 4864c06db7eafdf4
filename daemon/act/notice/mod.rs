//! Notices: tell the staff channel what happened (a new ticket, a deadline
//! that fired, a quarantined message, a reply seen in Sent) and take staff
//! commands back (`!claim N`, `!queue`, ...). Sinks are the IRC channel and
//! an optional webhook; both get the same one-line rendering.
//!
//! Everything here treats user-derived text (sender, subject, reasons) as
//! hostile: it is stripped of CR/LF, control and IRC formatting codes and cut
//! to length before it reaches any wire, so a subject can never inject an
//! IRC command or fake a second line. Apart from claims, which staff own,
//! nothing here changes a ticket; other requests go to the daemon as
//! [`StaffCommand`]s.

mod commands;
pub mod irc;
pub mod webhook;

use serde::Serialize;
use tokio::sync::mpsc;

use crate::store::TicketId;

pub use irc::spawn_irc;
pub use webhook::spawn_webhook;

/// Something staff should know about, rendered as one line by
/// [`Notice::render`].
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "data", rename_all = "snake_case")]
pub enum Notice {
    NewTicket {
        ticket: TicketId,
        procedure: String,
        from: String,
        subject: String,
        /// Short identity summary, e.g. from [`identity_summary`].
        identity: String,
        draft_ready: bool,
    },
    DeadlineFired {
        ticket: TicketId,
        procedure: String,
        /// What the deadline was for ("no reply from the user in 14 days").
        what: String,
        draft_ready: bool,
    },
    Quarantined {
        folder: String,
        uid: u32,
        from: Option<String>,
        subject: Option<String>,
        reason: String,
    },
    Answered {
        ticket: TicketId,
        by: String,
        /// Set when the reply did not come from the claim holder.
        warning: Option<String>,
    },
    Text(String),
}

const FROM_CHARS: usize = 80;
const SUBJECT_CHARS: usize = 120;
const FIELD_CHARS: usize = 200;

impl Notice {
    /// The line staff read. Never contains CR, LF or control characters.
    pub fn render(&self) -> String {
        let f = |s: &str, n: usize| cut(&sanitise(s), n);
        let draft = |ready: bool| if ready { " — draft ready in Drafts" } else { "" };
        match self {
            Notice::NewTicket {
                ticket,
                procedure,
                from,
                subject,
                identity,
                draft_ready,
            } => format!(
                "{ticket} {} from {}: \"{}\" — identity: {}{} — !claim {}",
                f(procedure, 60),
                f(from, FROM_CHARS),
                f(subject, SUBJECT_CHARS),
                f(identity, FIELD_CHARS),
                draft(*draft_ready),
                ticket.0
            ),
            Notice::DeadlineFired {
                ticket,
                procedure,
                what,
                draft_ready,
            } => format!(
                "{ticket} deadline reached ({}): {}{}",
                f(procedure, 60),
                f(what, FIELD_CHARS),
                draft(*draft_ready)
            ),
            Notice::Quarantined {
                folder,
                uid,
                from,
                subject,
                reason,
            } => format!(
                "quarantined {} UID {uid} from {}: \"{}\" — {} (see `triaged status`)",
                f(folder, 60),
                from.as_deref()
                    .map(|s| f(s, FROM_CHARS))
                    .unwrap_or_else(|| "(unknown sender)".into()),
                subject.as_deref().map(|s| f(s, SUBJECT_CHARS)).unwrap_or_default(),
                f(reason, FIELD_CHARS)
            ),
            Notice::Answered { ticket, by, warning } => {
                let mut line = format!("{ticket} answered by {}", f(by, FROM_CHARS));
                if let Some(w) = warning {
                    line.push_str(" — warning: ");
                    line.push_str(&f(w, FIELD_CHARS));
                }
                line
            }
            Notice::Text(t) => sanitise(t),
        }
    }
}

/// A request from staff that only the daemon can carry out. Also the
/// format of the command line's requests to the running daemon (see
/// `control.rs`), hence the JSON shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(tag = "action", rename_all = "snake_case", deny_unknown_fields)]
pub enum StaffCommand {
    Reclassify {
        ticket: TicketId,
        procedure: String,
        by: String,
    },
    /// Facts staff know (`!set N key=value ...`), keys already checked.
    SetFacts {
        ticket: TicketId,
        facts: Vec<(String, serde_json::Value)>,
        by: String,
    },
}

/// Hands notices to every configured sink. Cheap to clone; never blocks.
/// A sink that is reconnecting keeps its notices queued and posts them
/// once it is back.
#[derive(Debug, Clone, Default)]
pub struct Notifier {
    sinks: Vec<mpsc::UnboundedSender<Notice>>,
}

impl Notifier {
    /// A notifier with no sinks (no IRC or webhook configured).
    pub fn disabled() -> Notifier {
        Notifier::default()
    }

    pub(crate) fn channel() -> (Notifier, mpsc::UnboundedReceiver<Notice>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (Notifier { sinks: vec![tx] }, rx)
    }

    /// One notifier that feeds both.
    pub fn and(mut self, other: Notifier) -> Notifier {
        self.sinks.extend(other.sinks);
        self
    }

    pub fn notify(&self, n: Notice) {
        for s in &self.sinks {
            // A sink that has stopped (shutdown) just drops the notice.
            let _ = s.send(n.clone());
        }
    }
}

/// reqwest's rustls needs a process-wide crypto provider when more than one
/// is compiled in; ring is the one the rest of triaged uses.
pub(crate) fn install_crypto_provider() {
    let _ = tokio_rustls::rustls::crypto::ring::default_provider().install_default();
}

/// `s` made safe for one IRC line: IRC formatting (bold, colours with
/// their digits, reverse, ...) and bidi overrides removed, line breaks and
/// tabs turned into spaces, other control characters dropped, runs of
/// whitespace collapsed.
pub fn sanitise(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    let mut space = false;
    let push = |out: &mut String, c: char, space: &mut bool| {
        if c == ' ' {
            *space = !out.is_empty();
        } else {
            if *space {
                out.push(' ');
                *space = false;
            }
            out.push(c);
        }
    };
    while let Some(c) = chars.next() {
        match c {
            // mIRC colour: ^C[fg[,bg]], one or two digits each.
            '\x03' => skip_colour(&mut chars, |c| c.is_ascii_digit(), 2),
            // Hex colour: ^D[RRGGBB[,RRGGBB]].
            '\x04' => skip_colour(&mut chars, |c| c.is_ascii_hexdigit(), 6),
            '\t' | '\n' | '\r' | '\x0b' | '\x0c' | '\u{85}' | '\u{2028}' | '\u{2029}' => {
                push(&mut out, ' ', &mut space)
            }
            '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}' => {}
            c if c.is_control() => {}
            c if c.is_whitespace() => push(&mut out, ' ', &mut space),
            c => push(&mut out, c, &mut space),
        }
    }
    out
}

fn skip_colour(chars: &mut std::iter::Peekable<std::str::Chars<'_>>, digit: impl Fn(char) -> bool, max: usize) {
    let skip_digits = |chars: &mut std::iter::Peekable<std::str::Chars<'_>>| {
        let mut n = 0;
        while n < max && chars.peek().is_some_and(|c| digit(*c)) {
            chars.next();
            n += 1;
        }
        n
    };
    if skip_digits(chars) > 0 && chars.peek() == Some(&',') {
        let mut ahead = chars.clone();
        ahead.next();
        if ahead.peek().is_some_and(|c| digit(*c)) {
            chars.next();
            skip_digits(chars);
        }
    }
}

/// At most `max` characters, with "…" marking a cut.
pub fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.truncate(out.trim_end().len());
    out.push('…');
    out
}

/// Splits a line into pieces of at most `max` bytes, on character
/// boundaries, preferring the last space in the second half of a piece.
pub fn split_line(line: &str, max: usize) -> Vec<String> {
    let max = max.max(8);
    let mut out = Vec::new();
    let mut rest = line.trim();
    while rest.len() > max {
        let mut end = max;
        while !rest.is_char_boundary(end) {
            end -= 1;
        }
        if let Some(sp) = rest[..end].rfind(' ')
            && sp >= max / 2
        {
            end = sp;
        }
        out.push(rest[..end].trim_end().to_string());
        rest = rest[end..].trim_start();
    }
    if !rest.is_empty() || out.is_empty() {
        out.push(rest.to_string());
    }
    out
}

/// "14:02 UTC" today, "2026-11-22 14:02 UTC" on another day.
pub fn when(t: jiff::Timestamp, now: jiff::Timestamp) -> String {
    let (d, nd) = (
        t.to_zoned(jiff::tz::TimeZone::UTC),
        now.to_zoned(jiff::tz::TimeZone::UTC),
    );
    if d.date() == nd.date() {
        d.strftime("%H:%M UTC").to_string()
    } else {
        d.strftime("%Y-%m-%d %H:%M UTC").to_string()
    }
}

/// The staff-facing summary of a verification report as stored in
/// `ticket.data["verification"]` (the `verify --json` shape:
/// `account`, `factors.{name}.{result,reason}`, `required`, `met`,
/// `verified`): "verified 2/2 as alice (dkim, pgp)".
pub fn identity_summary(v: &serde_json::Value) -> String {
    identity_text(v, false)
}

/// Like [`identity_summary`], with every factor and its reason.
pub fn identity_report(v: &serde_json::Value) -> String {
    identity_text(v, true)
}

fn identity_text(v: &serde_json::Value, detail: bool) -> String {
    if let Some(s) = v.as_str() {
        return sanitise(s);
    }
    let Some(obj) = v.as_object() else {
        return "no verification report".into();
    };
    let Some(account) = obj.get("account").and_then(|a| a.as_str()) else {
        return "NOT verified: no account on file for the sender".into();
    };
    let met = obj.get("met").and_then(|m| m.as_u64()).unwrap_or(0);
    let required = obj.get("required").and_then(|m| m.as_u64()).unwrap_or(1);
    let verified = obj.get("verified").and_then(|m| m.as_bool()).unwrap_or(false);
    let mut parts = Vec::new();
    if let Some(factors) = obj.get("factors").and_then(|f| f.as_object()) {
        for (name, f) in factors {
            let result = f.get("result").and_then(|r| r.as_str()).unwrap_or("none");
            if detail {
                let reason = f.get("reason").and_then(|r| r.as_str()).unwrap_or("");
                parts.push(format!("{name} {result}: {}", cut(&sanitise(reason), 100)));
            } else if result == "pass" {
                parts.push(name.clone());
            }
        }
    }
    let head = format!(
        "{} {met}/{required} as {}",
        if verified { "verified" } else { "NOT verified" },
        cut(&sanitise(account), 40)
    );
    match (parts.is_empty(), detail) {
        (true, _) => head,
        (false, false) => format!("{head} ({})", parts.join(", ")),
        (false, true) => format!("{head}; {}", parts.join("; ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sanitise_strips_line_breaks_colours_and_controls() {
        assert_eq!(sanitise("a\r\nPRIVMSG #x :owned"), "a PRIVMSG #x :owned");
        assert_eq!(
            sanitise("\x0304,12red\x03 \x02bold\x02 \x1funder\x0f"),
            "red bold under"
        );
        assert_eq!(sanitise("\x03,5 keeps comma"), ",5 keeps comma");
        assert_eq!(sanitise("\x0412ab34hex\x04"), "hex");
        assert_eq!(sanitise("  tab\there\u{7}\u{202e}gnp.exe  "), "tab heregnp.exe");
        assert_eq!(sanitise("\x0399,99 ok"), "ok");
    }

    #[test]
    fn cut_and_split_respect_characters() {
        assert_eq!(cut("héllo wörld", 6), "héllo…");
        assert_eq!(cut("short", 6), "short");
        let long = "ü".repeat(300);
        let parts = split_line(&long, 401);
        assert!(parts.iter().all(|p| p.len() <= 401));
        assert_eq!(parts.concat(), long);
        let words = "word ".repeat(200);
        let parts = split_line(&words, 400);
        assert!(
            parts
                .iter()
                .all(|p| p.len() <= 400 && !p.starts_with(' ') && p.ends_with("word"))
        );
        assert_eq!(split_line("", 400), vec![String::new()]);
    }

    #[test]
    fn new_ticket_renders_on_one_clean_line() {
        let n = Notice::NewTicket {
            ticket: TicketId(12),
            procedure: "account-deletion".into(),
            from: "alice@example.org".into(),
            subject: "Please\r\nQUIT :delete \x0304my\x03 account".into(),
            identity: identity_summary(&json!({
                "account": "alice", "required": 2, "met": 2, "verified": true,
                "factors": {"dkim": {"result": "pass", "reason": "d=example.org"}, "pgp": {"result": "pass", "reason": "key 0x1"}, "ssh": {"result": "none", "reason": "no reply"}}
            })),
            draft_ready: true,
        };
        assert_eq!(
            n.render(),
            "#12 account-deletion from alice@example.org: \"Please QUIT :delete my account\" — identity: verified 2/2 as alice (dkim, pgp) — draft ready in Drafts — !claim 12"
        );
    }

    #[test]
    fn identity_texts() {
        assert_eq!(
            identity_summary(&json!({"account": null})),
            "NOT verified: no account on file for the sender"
        );
        let v = json!({"account": "bob", "required": 2, "met": 1, "verified": false,
            "factors": {"dkim": {"result": "pass", "reason": "aligned"}, "pgp": {"result": "fail", "reason": "bad\nsig"}}});
        assert_eq!(identity_summary(&v), "NOT verified 1/2 as bob (dkim)");
        assert_eq!(
            identity_report(&v),
            "NOT verified 1/2 as bob; dkim pass: aligned; pgp fail: bad sig"
        );
    }

    #[test]
    fn notifier_fans_out_and_survives_closed_sinks() {
        let (a, mut ra) = Notifier::channel();
        let (b, rb) = Notifier::channel();
        drop(rb);
        let n = a.and(b);
        n.notify(Notice::Text("hi".into()));
        assert_eq!(ra.try_recv().unwrap(), Notice::Text("hi".into()));
        Notifier::disabled().notify(Notice::Text("nobody".into()));
    }

    #[test]
    fn when_shows_the_date_only_for_other_days() {
        let now: jiff::Timestamp = "2026-11-23T18:00:00Z".parse().unwrap();
        assert_eq!(when("2026-11-23T14:02:00Z".parse().unwrap(), now), "14:02 UTC");
        assert_eq!(
            when("2026-11-22T14:02:00Z".parse().unwrap(), now),
            "2026-11-22 14:02 UTC"
        );
    }
}
