//! Drafts: build the reply the way a mail client builds one (Reply-To else
//! From; `Re: [#N]` subject; In-Reply-To; References; Date; our own
//! Message-ID; RFC 2047 / UTF-8 encodings done by lettre). The body comes
//! rendered from the pack (`procedures::render`, where user text is only
//! ever data); only single-line, control-free text reaches headers. A
//! secret the sender pasted (a password in the subject, an age block) is
//! redacted from every header and the body here, at the last step before
//! the bytes exist, whatever the target was built from.

use lettre::message::header::ContentType;
use lettre::message::{Mailbox, header};

use crate::classify::sensitive::redact;
use crate::message::{Message, sanitize_line};
use crate::store::{ReplyTarget, TicketId};

#[derive(Debug, thiserror::Error)]
pub enum DraftError {
    #[error(transparent)]
    Template(#[from] crate::procedures::RenderError),
    #[error("cannot reply to {address:?}: {detail}")]
    Recipient { address: String, detail: String },
    #[error("draft.from {0:?} is not a mail address")]
    From(String),
    #[error("cannot build the reply: {0}")]
    Build(String),
}

/// A reply ready to append to Drafts.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Without angle brackets.
    pub message_id: String,
    pub bytes: Vec<u8>,
}

pub struct Drafter {
    from: Mailbox,
    key: [u8; 32],
    /// `[draft] quote`: the customer's text below the reply.
    quote: bool,
}

/// What a reply to `msg` answers: Reply-To else From, and its thread.
pub fn reply_target(msg: &Message) -> ReplyTarget {
    let rcpt = msg.reply_recipient();
    let mut references: Vec<String> = if msg.references.is_empty() {
        msg.in_reply_to.clone()
    } else {
        msg.references.clone()
    };
    references.push(msg.message_id.clone());
    // Long threads: the first and the last few are what threading needs
    // (RFC 5322 3.6.4 suggests keeping the first).
    if references.len() > 10 {
        let tail = references.split_off(references.len() - 9);
        references.truncate(1);
        references.extend(tail);
    }
    ReplyTarget {
        name: rcpt.name.as_deref().map(sanitize_line).filter(|n| !n.is_empty()),
        email: rcpt.email.clone(),
        subject: msg.subject.clone(),
        message_id: msg.message_id.clone(),
        references,
        quote: quote(msg),
        attribution: Some(Attribution::of(msg)),
        cc: None,
        list: None,
    }
}

/// The most of the customer's text a draft quotes: enough to review the
/// reply without opening the original, bounded so a long message (or a
/// pasted log) neither swamps the draft nor grows the store.
pub const QUOTE_MAX_LINES: usize = 40;
pub const QUOTE_MAX_CHARS: usize = 3000;

/// The customer's text as a reply quotes it: "On DATE, NAME wrote:" and
/// "> " lines, with secrets redacted (`classify::sensitive::redact`), cut
/// to [`QUOTE_MAX_LINES`] and [`QUOTE_MAX_CHARS`]. The name and date are
/// the sender's and may say anything: they are made single-line and
/// bounded. None when there is no text.
pub fn quote(msg: &Message) -> Option<String> {
    let text = crate::classify::sensitive::redact(msg.text.trim());
    if text.is_empty() {
        return None;
    }
    let mut out = Attribution::of(msg).line(None);
    let mut cut = false;
    for (n, line) in text.lines().enumerate() {
        if n == QUOTE_MAX_LINES || out.len() + line.len() > QUOTE_MAX_CHARS {
            cut = true;
            break;
        }
        // Control characters other than tabs would reach the draft as is.
        let line: String = line.trim_end().chars().filter(|c| !c.is_control() || *c == '\t').collect();
        out.push_str(if line.is_empty() { ">" } else { "> " });
        out.push_str(&line);
        out.push('\n');
    }
    if cut {
        out.push_str("> [...]\n");
    }
    Some(out)
}

/// The line that opens a quote: whose words, and when. The name and date
/// are the sender's and may say anything: they are kept single-line,
/// redacted and bounded.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Attribution {
    pub who: String,
    /// The message's Date, when it parsed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at: Option<jiff::Timestamp>,
    /// The Date header as written, when it did not parse.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
}

impl Attribution {
    pub fn of(msg: &Message) -> Attribution {
        let rcpt = msg.from.first();
        let who = rcpt
            .and_then(|a| a.name.as_deref().map(sanitize_line).filter(|n| !n.is_empty()))
            .or_else(|| rcpt.map(|a| a.email.clone()))
            .unwrap_or_else(|| "you".into());
        let who: String = redact(&who).chars().take(80).collect();
        let (at, date) = match msg.date.as_deref().map(|d| (d.parse::<jiff::Timestamp>(), d)) {
            Some((Ok(t), _)) => (Some(t), None),
            Some((Err(_), d)) => (None, Some(sanitize_line(d).chars().take(64).collect::<String>()).filter(|d| !d.is_empty())),
            None => (None, None),
        };
        Attribution { who, at, date }
    }

    /// "On Mon, 23 Nov 2026 10:00 UTC, Ann wrote:" in English, and as a
    /// mail client writing `lang` puts it for German, French and Spanish
    /// (the forms `message` recognises as attributions when the customer
    /// quotes the reply back); any other language gets the English line.
    pub fn line(&self, lang: Option<&str>) -> String {
        let who = &self.who;
        let date = |format: &str| self.at.map(|t| t.strftime(format).to_string()).or_else(|| self.date.clone());
        let line = match lang {
            Some("de") => match date("%d.%m.%Y um %H:%M UTC") {
                Some(d) => format!("Am {d} schrieb {who}:"),
                None => format!("{who} schrieb:"),
            },
            Some("fr") => match date("%d/%m/%Y à %H:%M UTC") {
                Some(d) => format!("Le {d}, {who} a écrit :"),
                None => format!("{who} a écrit :"),
            },
            Some("es") => match date("%d/%m/%Y a las %H:%M UTC") {
                Some(d) => format!("El {d}, {who} escribió:"),
                None => format!("{who} escribió:"),
            },
            // The parsed Date is RFC 3339; people read "Mon, 23 Nov 2026
            // 10:00 UTC".
            _ => match date("%a, %-d %b %Y %H:%M UTC") {
                Some(d) => format!("On {d}, {who} wrote:"),
                None => format!("{who} wrote:"),
            },
        };
        line + "\n"
    }
}

/// `quote` opened in `lang` instead of English: the reply it goes under is
/// written in `lang`. A quote that does not open with the English line of
/// `attribution` is left as it is.
pub fn quote_in(quote: &str, attribution: &Attribution, lang: &str) -> String {
    match quote.strip_prefix(&attribution.line(None)) {
        Some(rest) => attribution.line(Some(lang)) + rest,
        None => quote.to_string(),
    }
}

impl Drafter {
    pub fn new(from: &str) -> Result<Drafter, DraftError> {
        Ok(Drafter {
            from: from.parse().map_err(|_| DraftError::From(from.to_string()))?,
            key: [0; 32],
            quote: true,
        })
    }

    /// Derive draft Message-IDs with `key` (the store's draft key), so no
    /// sender can compute one.
    pub fn with_key(mut self, key: [u8; 32]) -> Drafter {
        self.key = key;
        self
    }

    /// Whether drafts quote the customer's text (`[draft] quote`).
    pub fn quoting(mut self, quote: bool) -> Drafter {
        self.quote = quote;
        self
    }

    /// The Message-ID of ticket `ticket`'s draft number `seq`: stable for a
    /// given ticket and incoming message, so planning twice names the same
    /// draft.
    pub fn draft_message_id(&self, ticket: TicketId, seq: usize, incoming: &str) -> String {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(self.key);
        h.update(ticket.0.to_be_bytes());
        h.update(incoming.as_bytes());
        let h = h.finalize();
        let domain = self.from.email.domain();
        format!("triaged.{}.{}.{}@{}", ticket.0, seq, hex::encode(&h[..12]), domain)
    }

    /// Builds the reply to `target` for ticket `ticket` with `body`.
    pub fn build(&self, target: &ReplyTarget, ticket: TicketId, message_id: &str, mut body: String) -> Result<Draft, DraftError> {
        if let (true, Some(quote)) = (self.quote, &target.quote) {
            if !body.ends_with('\n') {
                body.push('\n');
            }
            body.push('\n');
            body.push_str(quote);
        }
        let address = target.email.parse().map_err(|e: lettre::address::AddressError| DraftError::Recipient {
            address: target.email.clone(),
            detail: e.to_string(),
        })?;
        let to = Mailbox::new(target.name.as_deref().map(|n| redact(&sanitize_line(n))), address);
        let refs = target
            .references
            .iter()
            .filter(|r| is_msg_id(r))
            .map(|r| format!("<{r}>"))
            .collect::<Vec<_>>()
            .join(" ");
        let mut b = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(reply_subject(&target.subject, ticket))
            .date_now()
            .message_id(Some(format!("<{message_id}>")))
            .header(TicketHeader(ticket.0.to_string()))
            .header(header::MIME_VERSION_1_0)
            .header(ContentType::TEXT_PLAIN);
        if let Some(list) = &target.cc {
            let address = list.parse().map_err(|e: lettre::address::AddressError| DraftError::Recipient {
                address: list.clone(),
                detail: e.to_string(),
            })?;
            b = b.cc(Mailbox::new(None, address));
        }
        if is_msg_id(&target.message_id) {
            b = b.in_reply_to(format!("<{}>", target.message_id));
        }
        if !refs.is_empty() {
            b = b.references(refs);
        }
        let m = b.body(redact(&body)).map_err(|e| DraftError::Build(e.to_string()))?;
        Ok(Draft {
            message_id: message_id.to_string(),
            bytes: m.formatted(),
        })
    }
}

/// A Message-ID we can safely put between angle brackets in a header.
fn is_msg_id(s: &str) -> bool {
    !s.is_empty() && s.len() < 500 && s.bytes().all(|b| b.is_ascii_graphic() && b != b'<' && b != b'>')
}

/// `Re: [#N] subject`, without stacking `Re:`/`AW:` prefixes or tags, and
/// with any secret in it redacted.
pub fn reply_subject(original: &str, ticket: TicketId) -> String {
    let mut s = redact(&sanitize_line(original));
    loop {
        let lower = s.to_lowercase();
        let cut = ["re:", "aw:", "sv:", "antw:", "fwd:", "fw:", "wg:"]
            .iter()
            .find(|p| lower.starts_with(*p))
            .map(|p| p.len());
        match cut {
            Some(n) => s = s[n..].trim_start().to_string(),
            None => break,
        }
    }
    let tag = format!("[{ticket}]");
    if s.contains(&tag) {
        format!("Re: {s}")
    } else if s.is_empty() {
        format!("Re: {tag}")
    } else {
        format!("Re: {tag} {s}")
    }
}

/// `X-Triaged-Ticket`: lets the Sent folder and staff tools find the ticket
/// even when a mail client rewrites the subject.
#[derive(Clone)]
struct TicketHeader(String);

impl header::Header for TicketHeader {
    fn name() -> header::HeaderName {
        header::HeaderName::new_from_ascii_str("X-Triaged-Ticket")
    }

    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(TicketHeader(s.to_string()))
    }

    fn display(&self) -> header::HeaderValue {
        header::HeaderValue::new(Self::name(), self.0.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_gets_one_re_and_one_tag() {
        let t = TicketId(7);
        assert_eq!(reply_subject("Delete my account", t), "Re: [#7] Delete my account");
        assert_eq!(reply_subject("RE: Aw: re: hello", t), "Re: [#7] hello");
        assert_eq!(reply_subject("Re: [#7] hello", t), "Re: [#7] hello");
        assert_eq!(reply_subject("evil\r\nBcc: x@y", t), "Re: [#7] evil Bcc: x@y");
        assert_eq!(reply_subject("", t), "Re: [#7]");
    }

    #[test]
    fn reply_headers_thread_and_encode() {
        let d = Drafter::new("Support <support@example.org>").unwrap();
        let msg = Message::parse(
            "From: Jürgen <j@example.net>\r\nReply-To: Jürgen Müller <jm@example.net>\r\nSubject: Konto löschen\r\nMessage-ID: <m1@example.net>\r\nReferences: <r0@example.net>\r\n\r\nBitte löschen\r\n"
                .as_bytes()
                .to_vec(),
        )
        .unwrap();
        let id = d.draft_message_id(TicketId(4), 0, &msg.message_id);
        let draft = d.build(&reply_target(&msg), TicketId(4), &id, "Grüße ✓\n".into()).unwrap();
        let parsed = Message::parse(draft.bytes.clone()).unwrap();
        assert_eq!(parsed.subject, "Re: [#4] Konto löschen");
        assert_eq!(parsed.in_reply_to, vec!["m1@example.net"]);
        assert_eq!(parsed.references, vec!["r0@example.net", "m1@example.net"]);
        assert_eq!(parsed.message_id, id);
        assert!(parsed.text.contains("Grüße ✓"));
        let raw = String::from_utf8_lossy(&draft.bytes);
        assert!(raw.contains("To: =?utf-8?"), "{raw}");
        assert!(raw.contains("jm@example.net"));
        assert!(raw.is_ascii(), "headers and body must be encoded");
    }

    /// A password and an age block in the subject and the name, sent
    /// RFC 2047-encoded: the draft neither repeats them raw nor encoded,
    /// and the stored target keeps neither.
    #[test]
    fn secrets_in_subject_and_name_never_reach_the_draft() {
        let d = Drafter::new("Support <support@example.org>").unwrap();
        let raw = "From: =?utf-8?b?cGFzc3dvcmQ6IHMzY3JldE5hbWUh?= <a@example.net>\r\n\
                   Subject: =?utf-8?q?Konto_l=C3=B6schen=2C_my_password_is_hunter2hunter2_?= \r\n \
                   =?utf-8?q?-----BEGIN_AGE_ENCRYPTED_FILE-----_YWdlLWVuY3J5cHRpb24?=\r\n\
                   Message-ID: <m1@example.net>\r\n\r\nhello\r\n";
        let msg = Message::parse(raw.as_bytes().to_vec()).unwrap();
        assert!(msg.subject.contains("hunter2hunter2") && msg.from[0].display().contains("s3cretName!"), "the test sends them");
        let target = reply_target(&msg);
        let stored = serde_json::to_string(&target).unwrap();
        assert!(!stored.contains("hunter2") && !stored.contains("YWdl") && !stored.contains("s3cret"), "{stored}");
        let body = "You wrote: my password is hunter2hunter2\n".to_string();
        let draft = d.build(&target, TicketId(2), "x@example.org", body).unwrap();
        let parsed = Message::parse(draft.bytes.clone()).unwrap();
        let raw = String::from_utf8(draft.bytes.clone()).unwrap();
        for secret in ["hunter2", "YWdl", "s3cret", "aHVudGVy", "czNjcmV0"] {
            assert!(!raw.contains(secret), "{secret} in {raw}");
            assert!(!parsed.subject.contains(secret) && !parsed.text.contains(secret), "{secret}: {parsed:?}");
        }
        let decoded = mail_parser::MessageParser::default().parse(&draft.bytes).unwrap();
        let to = decoded.to().and_then(|t| t.first()).expect("a To header");
        assert_eq!(to.name(), Some("[password or secret removed]"));
        assert_eq!(
            parsed.subject,
            "Re: [#2] Konto löschen, my [password or secret removed] [age-encrypted block removed]"
        );
    }

    /// Found by the `pipeline` fuzz target on a corpus message from
    /// `tomás@example.org`: an internationalised address has no 7-bit form
    /// (RFC 6532), so it is the one thing left as UTF-8; the name, subject
    /// and body around it are still encoded, and the draft reads back.
    #[test]
    fn fuzz_found_internationalised_recipient_stays_utf8() {
        let d = Drafter::new("Support <support@example.org>").unwrap();
        let msg = Message::parse("From: Tomás Ruiz <tomás@example.org>\r\nSubject: Grüße\r\n\r\nhallo\r\n".as_bytes().to_vec()).unwrap();
        let target = reply_target(&msg);
        let draft = d.build(&target, TicketId(9), "x@example.org", "Grüße\n".into()).unwrap();
        let raw = String::from_utf8(draft.bytes.clone()).unwrap();
        assert!(raw.replace("tomás@example.org", "").is_ascii(), "{raw}");
        let parsed = Message::parse(draft.bytes).unwrap();
        assert_eq!(parsed.single_from().unwrap().email, "support@example.org");
        assert_eq!(parsed.subject, "Re: [#9] Grüße");
    }

    fn parsed(raw: &str) -> Message {
        Message::parse(raw.as_bytes().to_vec()).unwrap()
    }

    #[test]
    fn drafts_quote_the_customer_redacted_and_say_mime_version() {
        let d = Drafter::new("Support <support@example.org>").unwrap();
        let msg = parsed(
            "From: Ann <ann@example.net>\r\nSubject: help\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q1@example.net>\r\n\r\nHello,\r\n\r\nmy password is hunter2hunter2 please help\r\n",
        );
        let draft = d.build(&reply_target(&msg), TicketId(3), "x@example.org", "We are on it.".into()).unwrap();
        let raw = String::from_utf8(draft.bytes.clone()).unwrap();
        assert!(raw.contains("MIME-Version: 1.0\r\n"), "{raw}");
        let text = Message::parse(draft.bytes).unwrap().text.replace("\r\n", "\n");
        assert!(text.starts_with("We are on it.\n\nOn Mon, 23 Nov 2026 10:00 UTC, Ann wrote:\n> Hello,\n>\n> my "), "{text}");
        assert!(text.contains("[password or secret removed]") && !text.contains("hunter2"), "{text}");

        let plain = Drafter::new("Support <support@example.org>").unwrap().quoting(false);
        let draft = plain.build(&reply_target(&msg), TicketId(3), "x@example.org", "We are on it.\n".into()).unwrap();
        assert!(!Message::parse(draft.bytes).unwrap().text.contains("wrote:"));
    }

    #[test]
    fn a_translated_reply_opens_its_quote_in_its_own_language_and_the_customer_quoting_it_back_is_still_recognised() {
        let msg = parsed(
            "From: Ann <ann@example.net>\r\nSubject: Konto\r\nDate: Mon, 23 Nov 2026 10:00:00 +0000\r\nMessage-ID: <q2@example.net>\r\n\r\nBitte l\u{f6}schen Sie mein Konto.\r\n",
        );
        let target = reply_target(&msg);
        let (q, a) = (target.quote.as_deref().unwrap(), target.attribution.as_ref().unwrap());
        assert!(q.starts_with("On Mon, 23 Nov 2026 10:00 UTC, Ann wrote:\n> Bitte"), "{q}");
        let cases = [
            ("de", "Am 23.11.2026 um 10:00 UTC schrieb Ann:\n"),
            ("fr", "Le 23/11/2026 \u{e0} 10:00 UTC, Ann a \u{e9}crit :\n"),
            ("es", "El 23/11/2026 a las 10:00 UTC, Ann escribi\u{f3}:\n"),
            ("ja", "On Mon, 23 Nov 2026 10:00 UTC, Ann wrote:\n"),
        ];
        for (lang, line) in cases {
            let translated = quote_in(q, a, lang);
            assert_eq!(translated, format!("{line}> Bitte l\u{f6}schen Sie mein Konto.\n"), "{lang}");
            // The customer answers above our quoted reply: their own words
            // are what is read, not the quote.
            let back = parsed(&format!(
                "From: Ann <ann@example.net>\r\nSubject: Re: Konto\r\n\r\nJa.\r\n\r\n{}",
                translated.lines().map(|l| format!("{l}\r\n")).collect::<String>()
            ));
            let own = crate::message::own_words(&back.text);
            assert_eq!((own.text.trim(), own.uncertain_cut), ("Ja.", None), "{lang}: {translated}");
        }
        // A customer whose name reads like a writer's own word ("My",
        // "Je") is still quoted, not taken for the writer speaking.
        for name in ["My Nguyen", "Je-won Park", "I. Ivanova"] {
            let a = Attribution { who: name.into(), ..a.clone() };
            for lang in ["de", "fr", "es", "en"] {
                let quoted = format!("{}> Bitte\n", a.line(Some(lang)));
                let back = parsed(&format!("From: x@example.net\r\nSubject: Re\r\n\r\nJa.\r\n\r\n{}", quoted.replace('\n', "\r\n")));
                let own = crate::message::own_words(&back.text);
                assert_eq!((own.text.trim(), own.uncertain_cut), ("Ja.", None), "{name}/{lang}: {quoted}");
            }
        }
        // A date that did not parse is kept as written; none, none said.
        let undated = Attribution { who: "Ann".into(), at: None, date: None };
        assert_eq!(undated.line(Some("de")), "Ann schrieb:\n");
        let odd = Attribution { who: "Ann".into(), at: None, date: Some("gestern".into()) };
        assert_eq!(odd.line(Some("de")), "Am gestern schrieb Ann:\n");
        // A quote that opens otherwise is left alone.
        assert_eq!(quote_in("> x\n", a, "de"), "> x\n");
    }

    #[test]
    fn quotes_are_bounded_and_the_senders_words_stay_on_their_lines() {
        let long: String = (0..500).map(|n| format!("line {n}\r\n")).collect();
        let msg = parsed(&format!("From: \"Evil\\r\\nBcc: x@y\" <e@example.net>\r\nSubject: s\r\n\r\n{long}"));
        let q = quote(&msg).unwrap();
        assert_eq!(q.lines().filter(|l| l.starts_with("> line")).count(), QUOTE_MAX_LINES, "{q}");
        assert!(q.ends_with("> [...]\n"), "{q}");
        assert!(q.lines().next().unwrap().ends_with(" wrote:"), "{q}");
        assert!(q.lines().skip(1).all(|l| l.starts_with('>')), "{q}");
        let wide = parsed(&format!("From: a@example.net\r\nSubject: s\r\n\r\n{}\r\n", "word ".repeat(2000)));
        let q = quote(&wide).unwrap();
        assert!(q.len() <= QUOTE_MAX_CHARS + 100, "{}", q.len());
        assert!(quote(&parsed("From: a@example.net\r\nSubject: s\r\n\r\n\r\n")).is_none());
    }
}
