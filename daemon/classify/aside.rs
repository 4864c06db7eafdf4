//! Mail that is not a request, set aside before classification: bounces,
//! auto-replies, list and bulk mail, and spam as judged by our own mail
//! server's filter. None of it gets a draft or a notice: drafting a reply
//! to an auto-reply or a bounce starts a mail loop once staff send it, and
//! a newsletter that reaches a procedure drafts that procedure's reply.
//!
//! What is believed, and why: every header here except the spam verdict
//! can be written by the sender, and believing it can only take the
//! sender's own message out of the queue (a sender who forges
//! `Auto-Submitted` silences only themselves). A spam verdict is the one
//! judgement a third party makes about a sender, so it is believed only
//! when our receiving server wrote it: it must stand above the lowest
//! `Received:` line in the unbroken run of `Received:` lines, counted from
//! the top, that name `[intake] receiving_server` after "by". Everything
//! below that line came in from outside, including a forged
//! `X-Spam-Flag: YES` the sender wrote in their own mail.

use std::sync::LazyLock;

use regex::Regex;

use crate::config::Config;
use crate::message::Message;

/// The procedure name of a ticket set aside (no procedure, no draft).
pub const SET_ASIDE: &str = "set-aside";

/// Why a message is not a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AsideKind {
    /// A delivery status notification or other null-sender report.
    Bounce,
    /// An out-of-office or other automatic answer (RFC 3834).
    AutoReply,
    /// A mailing list or bulk sender (newsletter, notification).
    Bulk,
    /// Spam, as our receiving server's filter judged it.
    Spam,
}

impl AsideKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AsideKind::Bounce => "bounce",
            AsideKind::AutoReply => "auto-reply",
            AsideKind::Bulk => "bulk",
            AsideKind::Spam => "spam",
        }
    }

    /// Written by a machine in answer to mail: a reply to it must never be
    /// drafted, also when it arrives on an existing ticket.
    pub fn is_automatic(self) -> bool {
        matches!(self, AsideKind::Bounce | AsideKind::AutoReply)
    }
}

/// The verdict, with the header that decided it (for staff).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Aside {
    pub kind: AsideKind,
    pub reason: String,
}

/// What the configuration says about where mail comes from.
#[derive(Debug, Clone, Default)]
pub struct AsidePolicy {
    /// `[intake] receiving_server`, lowercase.
    pub receiving_server: Option<String>,
    /// `[[lists]]` ids, lowercase: mail through them is support mail.
    pub support_lists: Vec<String>,
}

impl AsidePolicy {
    pub fn from_config(config: &Config) -> AsidePolicy {
        AsidePolicy {
            receiving_server: config.intake.receiving_server.clone(),
            support_lists: config.lists.iter().map(|l| l.id.clone()).collect(),
        }
    }

    /// Whether `msg` is not a request, and why. Checked in this order: a
    /// bounce or auto-reply is named as such even when it also came through
    /// a list; spam before bulk, since spam often carries list headers.
    pub fn judge(&self, msg: &Message) -> Option<Aside> {
        let headers = super::rules::headers(msg.raw());
        bounce(msg, &headers)
            .or_else(|| auto_reply(msg, &headers))
            .or_else(|| self.spam(&headers))
            .or_else(|| self.bulk(&headers))
    }

    /// Whether our receiving server judged `msg` spam. `judge` names a
    /// bounce a bounce first; a bounce our server flagged (backscatter)
    /// still must not hand a ticket to a person (`Actor::bounce`).
    pub fn flagged_spam(&self, msg: &Message) -> bool {
        self.spam(&super::rules::headers(msg.raw())).is_some()
    }

    fn spam(&self, headers: &[(String, String)]) -> Option<Aside> {
        let server = self.receiving_server.as_deref()?;
        let trusted = trusted_top(headers, server);
        headers[..trusted].iter().find_map(|(name, value)| {
            spam_verdict(name, value).then(|| Aside {
                kind: AsideKind::Spam,
                reason: format!("{}: {} (added by {server})", display_name(name), clip(value)),
            })
        })
    }

    fn bulk(&self, headers: &[(String, String)]) -> Option<Aside> {
        if let Some((_, id)) = headers.iter().find(|(n, _)| n == "list-id") {
            let id = list_id(id);
            if self.support_lists.iter().any(|l| *l == id) {
                return None;
            }
            return Some(Aside { kind: AsideKind::Bulk, reason: format!("List-Id: {}", clip(&id)) });
        }
        headers.iter().find_map(|(name, value)| {
            let bulk = match name.as_str() {
                "list-unsubscribe" => true,
                "precedence" => matches!(value.trim().to_ascii_lowercase().as_str(), "bulk" | "list" | "junk"),
                _ => false,
            };
            bulk.then(|| Aside { kind: AsideKind::Bulk, reason: format!("{}: {}", display_name(name), clip(value)) })
        })
    }
}

/// `<support.lists.example.org>` or `Support <support.lists.example.org>`
/// → `support.lists.example.org`.
fn list_id(value: &str) -> String {
    let inner = match (value.rfind('<'), value.rfind('>')) {
        (Some(a), Some(b)) if a < b => &value[a + 1..b],
        _ => value,
    };
    inner.trim().to_ascii_lowercase()
}

static NULL_PATH: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^<\s*>$").expect("static regex"));
/// A report a machine sends about mail: delivery (RFC 3464), a read
/// receipt (RFC 8098), or a mailbox provider's abuse feedback (RFC 5965):
/// an answer to any of them would go to no person.
static DSN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)^multipart/report\s*;.*\breport-type\s*=\s*"?(delivery-status|disposition-notification|feedback-report)"#)
        .expect("static regex")
});

fn bounce(msg: &Message, headers: &[(String, String)]) -> Option<Aside> {
    let bounce = |reason: String| Some(Aside { kind: AsideKind::Bounce, reason });
    if let Some((_, ct)) = headers.iter().find(|(n, _)| n == "content-type")
        && DSN.is_match(ct)
    {
        return bounce(format!("Content-Type: {}", clip(ct)));
    }
    for a in &msg.from {
        let local = a.email.split('@').next().unwrap_or_default().to_ascii_lowercase();
        if matches!(local.as_str(), "mailer-daemon" | "postmaster") {
            return bounce(format!("sent by {}", clip(&a.email)));
        }
    }
    // The delivering server writes Return-Path from the envelope; `<>` is
    // the null sender that only reports and automatic answers use.
    if let Some((_, rp)) = headers.iter().find(|(n, _)| n == "return-path")
        && NULL_PATH.is_match(rp.trim())
    {
        return bounce("Return-Path: <> (null sender)".into());
    }
    None
}

/// What a bounce says of the mail it returns, as its headers come back
/// in it (a DSN's `text/rfc822-headers` or `message/rfc822` part, or quoted
/// in a classic bounce's text). Nothing here is signed: a bounce is anyone's
/// to write, so what it names may only take a ticket to a person
/// (`act::aside`), never move it on.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Returned {
    /// The returned message's Message-ID(s), without angle brackets.
    pub message_ids: Vec<String>,
    /// Its subject lines, and the bounce's own (an NDR repeats the one it
    /// returns).
    pub subjects: Vec<String>,
    /// The recipients the report says failed, lowercase: a DSN's
    /// Final-Recipient and Original-Recipient of a failed action (RFC 3464
    /// sec. 2.3), Exim's `X-Failed-Recipients`.
    pub failed: Vec<String>,
    /// Why, in one line: the Status and Diagnostic-Code, else the bounce's
    /// subject.
    pub why: String,
}

/// How much of a bounce's body is read for the headers it returns: they
/// come before the returned text, which may be long.
const RETURNED_BYTES: usize = 256 * 1024;

static RETURNED_ID: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?im)^[\t >]*message-id:\s*<([^<>\s]+)>").expect("static regex"));
static RETURNED_SUBJECT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?im)^[\t >]*subject:[\t ]*([^\r\n]*)").expect("static regex"));
static RECIPIENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?im)^(?:final|original)-recipient:\s*rfc822\s*;\s*<?([^\s<>;]+@[^\s<>;]+?)>?\s*$").expect("static regex")
});
static ACTION: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?im)^action:\s*([a-z]+)").expect("static regex"));
static STATUS: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"(?im)^status:\s*([245]\.\d{1,3}\.\d{1,3})").expect("static regex"));
static DIAGNOSTIC: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?im)^diagnostic-code:[\t ]*([^\r\n]*(?:\r?\n[\t ]+[^\r\n]*)*)").expect("static regex"));
static BLANK_LINE: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\r?\n[\t ]*\r?\n").expect("static regex"));

/// What a bounce returns (see [`Returned`]); `None` when it names no
/// message of any kind, or when it is a DSN that reports no failure (a
/// delay warning: the mail may still arrive).
pub fn returned(msg: &Message) -> Option<Returned> {
    let headers = super::rules::headers(msg.raw());
    // A read receipt or an abuse report returns our headers too, but says
    // the mail arrived.
    if let Some((_, ct)) = headers.iter().find(|(n, _)| n == "content-type")
        && DSN.captures(ct).is_some_and(|c| !c[1].eq_ignore_ascii_case("delivery-status"))
    {
        return None;
    }
    let raw = msg.outline();
    let start = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .or_else(|| raw.windows(2).position(|w| w == b"\n\n"))
        .unwrap_or(raw.len());
    let body = &raw[start..raw.len().min(start + RETURNED_BYTES)];
    // The raw body holds the report's parts as sent (message/* parts are
    // never encoded, RFC 2046 sec. 5.2.1); the decoded text holds a classic
    // bounce's quote when its text was encoded.
    let text = format!("{}\n\n{}", String::from_utf8_lossy(body), msg.text);
    let mut r = Returned::default();
    let mut reports = false;
    for block in BLANK_LINE.split(&text) {
        let Some(action) = ACTION.captures(block).map(|c| c[1].to_ascii_lowercase()) else {
            continue;
        };
        reports = true;
        if action == "failed" {
            r.failed.extend(RECIPIENT.captures_iter(block).map(|c| c[1].to_ascii_lowercase()));
            let status = STATUS.captures(block).map(|c| c[1].to_string());
            let diagnostic = DIAGNOSTIC.captures(block).map(|c| c[1].split_whitespace().collect::<Vec<_>>().join(" "));
            if r.why.is_empty() {
                r.why = match (status, diagnostic) {
                    (Some(s), Some(d)) => format!("{s} ({d})"),
                    (s, d) => s.or(d).unwrap_or_default(),
                };
            }
        }
    }
    if reports && r.failed.is_empty() && r.why.is_empty() {
        return None;
    }
    for (name, value) in &headers {
        if name == "x-failed-recipients" {
            r.failed.extend(value.split(',').map(|a| a.trim().trim_matches(['<', '>']).to_ascii_lowercase()).filter(|a| a.contains('@')));
        }
    }
    r.message_ids = RETURNED_ID.captures_iter(&text).map(|c| c[1].to_string()).collect();
    r.subjects = RETURNED_SUBJECT.captures_iter(&text).map(|c| c[1].trim().to_string()).collect();
    r.subjects.push(msg.subject.clone());
    if r.why.is_empty() {
        r.why = msg.subject.clone();
    }
    // A diagnostic names the failed address and the server's words.
    r.why = clip_to(&r.why, 160);
    // The raw body and the decoded text repeat what neither encoded.
    for v in [&mut r.message_ids, &mut r.subjects, &mut r.failed] {
        let mut seen = std::collections::HashSet::new();
        v.retain(|x| seen.insert(x.clone()));
    }
    (!r.message_ids.is_empty() || !r.failed.is_empty()).then_some(r)
}

/// Subjects of out-of-office answers: only a hint, believed together with
/// In-Reply-To (an answer to some message), never alone.
static OUT_OF_OFFICE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?i)^\s*(out of (the )?office|automatic reply|auto(matic)?[- ]?reply|autoreply|abwesenheitsnotiz|automatische antwort|réponse automatique|absence du bureau|respuesta automática|fuera de la oficina|risposta automatica|fuori sede|resposta automática|fora do escritório|automatisch antwoord|afwezig)\b",
    )
    .expect("static regex")
});

fn auto_reply(msg: &Message, headers: &[(String, String)]) -> Option<Aside> {
    let found = headers.iter().find_map(|(name, value)| {
        let v = value.trim().to_ascii_lowercase();
        let automatic = match name.as_str() {
            // RFC 3834: anything but "no" is automatic.
            "auto-submitted" => !v.is_empty() && !v.starts_with("no"),
            "x-autoreply" | "x-autorespond" | "x-autoreply-from" | "x-mail-autoreply" => v != "no",
            // Exchange: set on its own automatic replies (OOF, rules).
            "x-auto-response-suppress" => v.split(',').any(|t| matches!(t.trim(), "all" | "oof" | "autoreply")),
            "x-ms-exchange-inbox-rules-loop" => true,
            "precedence" | "x-precedence" => v == "auto_reply",
            // Outlook.com's and Hotmail's automatic replies.
            "x-autogenerated" => v == "reply",
            _ => false,
        };
        automatic.then(|| format!("{}: {}", display_name(name), clip(value)))
    });
    let reason = found.or_else(|| {
        (OUT_OF_OFFICE.is_match(&msg.subject) && !msg.in_reply_to.is_empty())
            .then(|| format!("out-of-office subject {:?} in answer to a message", clip(&msg.subject)))
    })?;
    Some(Aside { kind: AsideKind::AutoReply, reason })
}

static RECEIVED_BY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bby\s+\[?([a-z0-9.\-]+)").expect("static regex"));

/// How many headers from the top our receiving server wrote: everything
/// above the lowest `Received:` in the top run of `Received:` lines naming
/// it after "by". 0 when the top `Received:` is not ours (or there is none).
fn trusted_top(headers: &[(String, String)], server: &str) -> usize {
    let mut end = 0;
    for (i, (name, value)) in headers.iter().enumerate() {
        if name != "received" {
            continue;
        }
        let by = RECEIVED_BY.captures(value).map(|c| c[1].trim_end_matches('.').to_ascii_lowercase());
        let ours = by.is_some_and(|h| h == server || h.ends_with(&format!(".{server}")));
        if !ours {
            break;
        }
        end = i;
    }
    end
}

/// Spam verdicts of SpamAssassin and rspamd (its milter and its
/// SpamAssassin-compatible headers).
fn spam_verdict(name: &str, value: &str) -> bool {
    let v = value.trim().to_ascii_lowercase();
    match name {
        "x-spam-flag" | "x-spam" => v.starts_with("yes") || v == "true",
        "x-spam-status" => v.starts_with("yes"),
        // `default: True [12.40 / 15.00]`: True is rspamd's is-spam.
        "x-spamd-result" => v.split_whitespace().nth(1).is_some_and(|w| w == "true"),
        "x-rspamd-action" => matches!(v.as_str(), "add header" | "rewrite subject" | "reject" | "soft reject"),
        _ => false,
    }
}

fn display_name(lower: &str) -> String {
    lower
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// A header value for a reason line: one line, at most 80 characters.
fn clip(v: &str) -> String {
    clip_to(v, 80)
}

/// A text for a reason line: one line, at most `max` characters.
fn clip_to(v: &str, max: usize) -> String {
    let s = crate::message::sanitize_line(v);
    if s.chars().count() > max { s.chars().take(max - 1).collect::<String>() + "…" } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(head: &str) -> Message {
        let head = head.replace('\n', "\r\n");
        Message::parse(format!("{head}\r\nSubject: hello\r\n\r\nplease delete my account\r\n").into_bytes()).unwrap()
    }

    fn policy() -> AsidePolicy {
        AsidePolicy {
            receiving_server: Some("mx.example.org".into()),
            support_lists: vec!["support.lists.example.org".into()],
        }
    }

    fn kind(head: &str) -> Option<AsideKind> {
        policy().judge(&msg(head)).map(|a| a.kind)
    }

    const FROM: &str = "From: Ann <ann@example.net>";
    const OURS: &str = "Received: from out.example.net (out.example.net [192.0.2.1])\n by mx.example.org (Postfix) with ESMTPS id 1;\n Mon, 1 Dec 2026 10:00:00 +0000";
    const THEIRS: &str = "Received: from laptop by out.example.net with ESMTPSA; Mon, 1 Dec 2026 09:59:59 +0000";

    #[test]
    fn a_plain_request_is_not_set_aside() {
        assert_eq!(kind(&format!("{OURS}\n{THEIRS}\n{FROM}")), None);
    }

    #[test]
    fn bounces() {
        assert_eq!(kind("From: MAILER-DAEMON@mx.example.net"), Some(AsideKind::Bounce));
        assert_eq!(kind("From: Mail Delivery System <postmaster@example.net>"), Some(AsideKind::Bounce));
        assert_eq!(kind(&format!("Return-Path: <>\n{FROM}")), Some(AsideKind::Bounce));
        let dsn = format!("{FROM}\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status;\n boundary=\"b\"");
        let a = policy().judge(&msg(&dsn)).unwrap();
        assert_eq!(a.kind, AsideKind::Bounce);
        assert!(a.reason.starts_with("Content-Type: multipart/report"), "{}", a.reason);
        assert_eq!(kind(&format!("Return-Path: <ann@example.net>\n{FROM}")), None);
        // A mailbox provider's abuse report (ARF) is a report too.
        let arf = format!("{FROM}\nMIME-Version: 1.0\nContent-Type: multipart/report; report-type=feedback-report;\n boundary=\"b\"");
        assert_eq!(kind(&arf), Some(AsideKind::Bounce));
        let mixed = format!("{FROM}\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b\"");
        assert_eq!(kind(&mixed), None);
    }

    #[test]
    fn what_a_bounce_returns() {
        let report = |action: &str| {
            let raw = format!(
                "From: MAILER-DAEMON@mx.example.net\r\nSubject: Undelivered Mail\r\nMIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n\
                 --b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\nFinal-Recipient: rfc822; Ann@Example.net\r\n\
                 Action: {action}\r\nStatus: 4.4.1\r\nDiagnostic-Code: smtp; 451 try\r\n again\r\n\r\n--b\r\nContent-Type: text/rfc822-headers\r\n\r\n\
                 Subject: Re: [#7] Delete\r\nMessage-ID: <d7@example.org>\r\n\r\n--b--\r\n"
            );
            returned(&Message::parse(raw.into_bytes()).unwrap())
        };
        let r = report("failed").unwrap();
        assert_eq!(r.message_ids, ["d7@example.org"]);
        assert_eq!(r.failed, ["ann@example.net"]);
        assert_eq!(r.subjects, ["Re: [#7] Delete", "Undelivered Mail"]);
        assert_eq!(r.why, "4.4.1 (smtp; 451 try again)");
        // A delay is a warning: the mail may still arrive.
        assert_eq!(report("delayed"), None);
        // A read receipt returns our headers, but the mail was read.
        let mdn = "From: MAILER-DAEMON@mx.example.net\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=\"b\"\r\n\r\n\
                   --b\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: <d7@example.org>\r\n\r\n--b--\r\n";
        assert_eq!(returned(&Message::parse(mdn.as_bytes().to_vec()).unwrap()), None);
        // A classic bounce: the failed address in a header, the headers quoted.
        let classic = "From: Mailer-Daemon@mx.example.net\r\nSubject: Mail delivery failed\r\nX-Failed-Recipients: ann@example.net\r\n\r\n\
                       The following address(es) failed:\r\n\r\n  ann@example.net\r\n\r\n> Message-ID: <d8@example.org>\r\n";
        let r = returned(&Message::parse(classic.as_bytes().to_vec()).unwrap()).unwrap();
        assert_eq!((r.message_ids, r.failed, r.why), (vec!["d8@example.org".to_string()], vec!["ann@example.net".to_string()], "Mail delivery failed".to_string()));
        // The bounce's own Message-ID is not the returned one.
        let plain = "From: Mailer-Daemon@mx.example.net\r\nMessage-ID: <own@mx.example.net>\r\nSubject: x\r\n\r\nsorry\r\n";
        assert_eq!(returned(&Message::parse(plain.as_bytes().to_vec()).unwrap()), None);
    }

    #[test]
    fn auto_replies() {
        assert_eq!(kind(&format!("{FROM}\nAuto-Submitted: auto-replied")), Some(AsideKind::AutoReply));
        assert_eq!(kind(&format!("{FROM}\nAuto-Submitted: no")), None, "RFC 3834: no means a person");
        assert_eq!(kind(&format!("{FROM}\nX-Autoreply: yes")), Some(AsideKind::AutoReply));
        assert_eq!(kind(&format!("{FROM}\nPrecedence: auto_reply")), Some(AsideKind::AutoReply));
        assert_eq!(kind(&format!("{FROM}\nX-Autogenerated: Reply")), Some(AsideKind::AutoReply));
        assert_eq!(kind(&format!("{FROM}\nX-Autogenerated: Forward")), None, "a rule's forward carries a person's mail");
        assert_eq!(kind(&format!("{FROM}\nX-Auto-Response-Suppress: All")), Some(AsideKind::AutoReply));
        assert_eq!(kind(&format!("{FROM}\nX-MS-Exchange-Inbox-Rules-Loop: ann@example.net")), Some(AsideKind::AutoReply));
        // The subject alone is a hint, not a verdict.
        let ooo = |extra: &str| {
            let raw = format!("{FROM}\r\n{extra}Subject: Out of Office: your ticket\r\n\r\nback Monday\r\n");
            policy().judge(&Message::parse(raw.into_bytes()).unwrap()).map(|a| a.kind)
        };
        assert_eq!(ooo(""), None);
        assert_eq!(ooo("In-Reply-To: <d1@example.org>\r\n"), Some(AsideKind::AutoReply));
    }

    #[test]
    fn bulk_unless_it_is_our_own_list() {
        assert_eq!(kind(&format!("{FROM}\nList-Id: News <news.example.net>")), Some(AsideKind::Bulk));
        assert_eq!(kind(&format!("{FROM}\nList-Unsubscribe: <mailto:u@example.net>")), Some(AsideKind::Bulk));
        assert_eq!(kind(&format!("{FROM}\nPrecedence: bulk")), Some(AsideKind::Bulk));
        assert_eq!(kind(&format!("{FROM}\nPrecedence: first-class")), None);
        let ours = format!("{FROM}\nList-Id: Support <Support.Lists.Example.org>\nList-Unsubscribe: <mailto:x>\nPrecedence: list");
        assert_eq!(kind(&ours), None, "a configured list is support mail");
        // A bounce through our list is still a bounce.
        assert_eq!(kind(&format!("{ours}\nAuto-Submitted: auto-generated")), Some(AsideKind::AutoReply));
    }

    #[test]
    fn spam_only_from_our_receiving_server() {
        let trusted = format!("Received: from mx.example.org by mx.example.org (Dovecot) with LMTP\nX-Spam-Flag: YES\n{OURS}\n{THEIRS}\n{FROM}");
        let a = policy().judge(&msg(&trusted)).unwrap();
        assert_eq!(a.kind, AsideKind::Spam);
        assert_eq!(a.reason, "X-Spam-Flag: YES (added by mx.example.org)");
        for header in ["X-Spam-Status: Yes, score=9.1", "X-Spamd-Result: default: True [12.40 / 15.00]", "X-Rspamd-Action: add header"] {
            assert_eq!(kind(&format!("{header}\n{OURS}\n{FROM}")), Some(AsideKind::Spam), "{header}");
        }
        for header in ["X-Spam-Status: No, score=0.1", "X-Spamd-Result: default: False [1.0 / 15.0]", "X-Rspamd-Action: no action"] {
            assert_eq!(kind(&format!("{header}\n{OURS}\n{FROM}")), None, "{header}");
        }
        // Written by the sender below our Received line: not believed.
        assert_eq!(kind(&format!("{OURS}\nX-Spam-Flag: YES\n{THEIRS}\n{FROM}")), None);
        // Above a Received line of another server: not ours either.
        assert_eq!(kind(&format!("X-Spam-Flag: YES\n{THEIRS}\n{OURS}\n{FROM}")), None);
        // No Received line at all (a file, not delivered mail): not believed.
        assert_eq!(kind(&format!("X-Spam-Flag: YES\n{FROM}")), None);
        // Without [intake] receiving_server nothing is believed.
        let none = AsidePolicy::default().judge(&msg(&format!("X-Spam-Flag: YES\n{OURS}\n{FROM}")));
        assert_eq!(none, None);
        // A subdomain of the configured name is ours; a look-alike is not.
        let p = AsidePolicy { receiving_server: Some("example.org".into()), ..policy() };
        assert!(p.judge(&msg(&format!("X-Spam-Flag: YES\n{OURS}\n{FROM}"))).is_some());
        let evil = "Received: from x by mx.evilexample.org; Mon, 1 Dec 2026 10:00:00 +0000";
        assert_eq!(p.judge(&msg(&format!("X-Spam-Flag: YES\n{evil}\n{FROM}"))), None);
    }
}
