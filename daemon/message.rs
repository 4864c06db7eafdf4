//! The parsed message every later stage reads. Parsing happens once, here;
//! only signature verification goes back to the exact raw bytes, which this
//! type keeps beside the extracted fields.

use mail_parser::{HeaderName, MessageParser};

/// A mailbox as the sender wrote it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Address {
    pub name: Option<String>,
    pub email: String,
}

impl Address {
    /// `Name <addr>`, with control characters removed so it can go into a
    /// log line or an IRC notice.
    pub fn display(&self) -> String {
        match &self.name {
            Some(n) if !n.trim().is_empty() => format!("{} <{}>", sanitize_line(n), sanitize_line(&self.email)),
            _ => sanitize_line(&self.email),
        }
    }
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ParseError {
    #[error("not a mail message: no header section could be parsed")]
    NotMail,
    #[error("no From address: there is nobody to reply to")]
    NoSender,
}

#[derive(Debug, Clone)]
pub struct Message {
    raw: Vec<u8>,
    /// As in the header, without angle brackets; synthesised from a hash of
    /// the bytes when missing so that duplicates are still recognised.
    pub message_id: String,
    pub message_id_synthetic: bool,
    /// Every address of every From header: more than one means no identity.
    pub from: Vec<Address>,
    pub from_header_count: usize,
    pub reply_to: Option<Address>,
    pub subject: String,
    pub date: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// The text the user wrote (first text/plain part, or HTML converted).
    pub text: String,
    pub attachment_count: usize,
}

impl Message {
    pub fn parse(raw: Vec<u8>) -> Result<Message, ParseError> {
        let parsed = MessageParser::default().parse(&raw[..]).ok_or(ParseError::NotMail)?;
        if parsed.headers().is_empty() {
            return Err(ParseError::NotMail);
        }
        let from_header_count = parsed
            .headers()
            .iter()
            .filter(|h| h.name == HeaderName::From)
            .count();
        let mut from = Vec::new();
        for value in parsed.header_values(HeaderName::From) {
            if let Some(addr) = value.as_address() {
                for a in addr.iter() {
                    if let Some(email) = a.address() {
                        from.push(Address {
                            name: a.name().map(str::to_string),
                            email: email.to_string(),
                        });
                    }
                }
            }
        }
        if from.is_empty() {
            return Err(ParseError::NoSender);
        }
        let reply_to = parsed.reply_to().and_then(|r| r.first()).and_then(|a| {
            Some(Address {
                name: a.name().map(str::to_string),
                email: a.address()?.to_string(),
            })
        });
        let (message_id, message_id_synthetic) = match parsed.message_id() {
            Some(id) if !id.trim().is_empty() => (id.trim().to_string(), false),
            _ => {
                use sha2::Digest;
                let digest = sha2::Sha256::digest(&raw);
                (format!("{}@synthetic.triaged", hex::encode(&digest[..16])), true)
            }
        };
        let ids = |v: &mail_parser::HeaderValue| -> Vec<String> {
            match v {
                mail_parser::HeaderValue::Text(t) => vec![t.to_string()],
                mail_parser::HeaderValue::TextList(l) => l.iter().map(|t| t.to_string()).collect(),
                _ => Vec::new(),
            }
        };
        let text = parsed
            .body_text(0)
            .map(|t| t.into_owned())
            .unwrap_or_default();
        let msg = Message {
            message_id,
            message_id_synthetic,
            from,
            from_header_count,
            reply_to,
            subject: parsed.subject().unwrap_or("").to_string(),
            date: parsed.date().map(|d| d.to_rfc3339()),
            in_reply_to: ids(parsed.in_reply_to()),
            references: ids(parsed.references()),
            text,
            attachment_count: parsed.attachment_count(),
            raw: Vec::new(),
        };
        Ok(Message { raw, ..msg })
    }

    /// The exact bytes as fetched, for signature checks.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// The single sender, when there is exactly one From header with
    /// exactly one address (RFC 5322 allows more; identity then fails).
    pub fn single_from(&self) -> Option<&Address> {
        (self.from_header_count == 1 && self.from.len() == 1).then(|| &self.from[0])
    }

    /// Who a reply goes to: Reply-To, else the first From.
    pub fn reply_recipient(&self) -> &Address {
        self.reply_to.as_ref().unwrap_or(&self.from[0])
    }

    /// Subject for logs and notices: no control characters, at most `max`
    /// characters.
    pub fn subject_line(&self, max: usize) -> String {
        let s = sanitize_line(&self.subject);
        if s.chars().count() > max {
            let mut cut: String = s.chars().take(max.saturating_sub(1)).collect();
            cut.push('…');
            cut
        } else {
            s
        }
    }
}

/// One line of text: control characters (CR, LF, ESC, IRC formatting)
/// replaced by spaces, runs of whitespace collapsed.
pub fn sanitize_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = false;
    for c in s.chars() {
        let c = if c.is_control() || c == '\u{2028}' || c == '\u{2029}' { ' ' } else { c };
        if c.is_whitespace() {
            if !last_space && !out.is_empty() {
                out.push(' ');
            }
            last_space = true;
        } else {
            out.push(c);
            last_space = false;
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_plain_message() {
        let m = Message::parse(
            b"From: Alice <alice@example.org>\r\nSubject: =?utf-8?q?L=C3=B6schen?=\r\nMessage-ID: <a1@example.org>\r\nReferences: <r1@x> <r2@x>\r\n\r\nHello\r\n".to_vec(),
        )
        .unwrap();
        assert_eq!(m.message_id, "a1@example.org");
        assert_eq!(m.subject, "Löschen");
        assert_eq!(m.single_from().unwrap().email, "alice@example.org");
        assert_eq!(m.references, vec!["r1@x", "r2@x"]);
        assert!(m.text.contains("Hello"));
    }

    #[test]
    fn garbage_is_not_mail() {
        assert!(Message::parse(b"\x00\x01\x02 not a mail".to_vec()).is_err());
        assert_eq!(Message::parse(Vec::new()).unwrap_err(), ParseError::NotMail);
    }

    #[test]
    fn two_from_headers_give_no_single_sender() {
        let m = Message::parse(b"From: a@x.org\r\nFrom: b@y.org\r\nSubject: x\r\n\r\nbody\r\n".to_vec()).unwrap();
        assert!(m.single_from().is_none());
        let m = Message::parse(b"From: a@x.org, b@y.org\r\nSubject: x\r\n\r\nbody\r\n".to_vec()).unwrap();
        assert!(m.single_from().is_none());
    }

    #[test]
    fn missing_message_id_is_stable() {
        let raw = b"From: a@x.org\r\nSubject: x\r\n\r\nbody\r\n".to_vec();
        let a = Message::parse(raw.clone()).unwrap();
        let b = Message::parse(raw).unwrap();
        assert!(a.message_id_synthetic);
        assert_eq!(a.message_id, b.message_id);
    }

    #[test]
    fn sanitize_removes_control_characters() {
        assert_eq!(sanitize_line("a\r\nb\x1b[31m\x03c  d"), "a b [31m c d");
    }
}
