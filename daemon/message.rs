//! The parsed message every later stage reads. Parsing happens once, here;
//! only signature verification goes back to the exact raw bytes, which this
//! type keeps beside the extracted fields.

use mail_parser::{HeaderName, MessageParser, PartType};

use crate::config::Limits;

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

/// A message bigger or deeper than `[limits]` allows: it is quarantined
/// before any stage reads it. The text names the key to raise.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LimitExceeded {
    #[error("MIME depth {depth} is over limits.max_mime_depth = {max}")]
    MimeDepth { depth: usize, max: usize },
    #[error("a header section of {bytes} bytes is over limits.max_header_bytes = {max}")]
    HeaderBytes { bytes: usize, max: usize },
    #[error("{count} attachments are over limits.max_attachments = {max}")]
    Attachments { count: usize, max: usize },
}

/// The size of the MIME structure, measured once at parse time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Shape {
    /// Containers (multipart or attached message) around the deepest part:
    /// 0 for a single-part message.
    pub mime_depth: usize,
    /// The longest header section: the message's own, or any part's.
    pub header_bytes: usize,
    /// Attachments in the whole tree, those of attached messages included.
    pub attachments: usize,
}

impl Shape {
    /// Walks the part tree with an explicit stack: a hostile nesting depth
    /// must not become recursion depth.
    fn of(root: &mail_parser::Message<'_>) -> Shape {
        let mut shape = Shape {
            attachments: root.attachments.len(),
            ..Shape::default()
        };
        let mut stack = vec![(root, 0u32, 0usize)];
        while let Some((msg, id, depth)) = stack.pop() {
            let Some(part) = msg.parts.get(id as usize) else {
                continue;
            };
            shape.mime_depth = shape.mime_depth.max(depth);
            shape.header_bytes = shape.header_bytes.max(part.offset_body.saturating_sub(part.offset_header) as usize);
            match &part.body {
                // Children always come after their parent; anything else
                // would be a cycle.
                PartType::Multipart(children) => {
                    stack.extend(children.iter().filter(|&&c| c > id).map(|&c| (msg, c, depth + 1)));
                }
                PartType::Message(inner) => {
                    shape.attachments += inner.attachments.len();
                    stack.push((inner, 0, depth + 1));
                }
                _ => {}
            }
        }
        shape
    }
}

/// A parsed tree that is taken apart level by level when dropped:
/// mail-parser's own drop recurses once per attached message, and ten
/// thousand messages attached inside each other would overflow the stack
/// before any limit could quarantine them.
struct Flat<'x>(mail_parser::Message<'x>);

impl<'x> std::ops::Deref for Flat<'x> {
    type Target = mail_parser::Message<'x>;
    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Drop for Flat<'_> {
    fn drop(&mut self) {
        let mut pending = vec![std::mem::take(&mut self.0.parts)];
        while let Some(mut parts) = pending.pop() {
            for part in &mut parts {
                if let PartType::Message(inner) = &mut part.body {
                    pending.push(std::mem::take(&mut inner.parts));
                }
            }
        }
    }
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
    pub shape: Shape,
}

impl Message {
    pub fn parse(raw: Vec<u8>) -> Result<Message, ParseError> {
        let parsed = Flat(MessageParser::default().parse(&raw[..]).ok_or(ParseError::NotMail)?);
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
            shape: Shape::of(&parsed.0),
            raw: Vec::new(),
        };
        drop(parsed);
        Ok(Message { raw, ..msg })
    }

    /// The first `[limits]` this message is over, if any.
    pub fn check_limits(&self, limits: &Limits) -> Result<(), LimitExceeded> {
        let s = &self.shape;
        if s.mime_depth > limits.max_mime_depth {
            return Err(LimitExceeded::MimeDepth { depth: s.mime_depth, max: limits.max_mime_depth });
        }
        if s.header_bytes > limits.max_header_bytes {
            return Err(LimitExceeded::HeaderBytes { bytes: s.header_bytes, max: limits.max_header_bytes });
        }
        if s.attachments > limits.max_attachments {
            return Err(LimitExceeded::Attachments { count: s.attachments, max: limits.max_attachments });
        }
        Ok(())
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

    fn limits() -> Limits {
        Limits {
            max_message_bytes: 25 * 1024 * 1024,
            max_attempts: 3,
            max_mime_depth: 20,
            max_header_bytes: 256 * 1024,
            max_attachments: 100,
        }
    }

    /// `depth` multiparts, each holding the next, around one text part.
    fn nested(depth: usize) -> Vec<u8> {
        let mut m = String::from("From: a@x.org\r\nSubject: deep\r\nMIME-Version: 1.0\r\n");
        for i in 0..depth {
            m.push_str(&format!("Content-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n--b{i}\r\n"));
        }
        m.push_str("Content-Type: text/plain\r\n\r\nhello\r\n");
        for i in (0..depth).rev() {
            m.push_str(&format!("--b{i}--\r\n"));
        }
        m.into_bytes()
    }

    /// A text part and `n` small attachments.
    fn with_attachments(n: usize) -> Vec<u8> {
        let mut m = String::from(
            "From: a@x.org\r\nSubject: many\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n",
        );
        for i in 0..n {
            m.push_str(&format!(
                "--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"f{i}.bin\"\r\n\r\nxyz\r\n"
            ));
        }
        m.push_str("--B--\r\n");
        m.into_bytes()
    }

    #[test]
    fn a_plain_message_is_within_every_limit() {
        let m = Message::parse(b"From: a@x.org\r\nSubject: x\r\n\r\nbody\r\n".to_vec()).unwrap();
        assert_eq!(m.shape.mime_depth, 0);
        assert_eq!(m.shape.attachments, 0);
        assert_eq!(m.shape.header_bytes, "From: a@x.org\r\nSubject: x\r\n\r\n".len());
        assert_eq!(m.check_limits(&limits()), Ok(()));
    }

    #[test]
    fn mime_depth_counts_nested_containers() {
        for depth in [1, 5, 20] {
            let m = Message::parse(nested(depth)).unwrap();
            assert_eq!(m.shape.mime_depth, depth);
            assert_eq!(m.check_limits(&limits()), Ok(()), "depth {depth}");
        }
        let m = Message::parse(nested(57)).unwrap();
        let err = m.check_limits(&limits()).unwrap_err();
        assert_eq!(err, LimitExceeded::MimeDepth { depth: 57, max: 20 });
        assert_eq!(err.to_string(), "MIME depth 57 is over limits.max_mime_depth = 20");
    }

    #[test]
    fn an_attached_message_is_one_level_deeper_and_its_attachments_count() {
        let inner = String::from_utf8(with_attachments(3)).unwrap();
        let outer = format!(
            "From: b@y.org\r\nSubject: fwd\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"O\"\r\n\r\n--O\r\nContent-Type: text/plain\r\n\r\nforwarded\r\n--O\r\nContent-Type: message/rfc822\r\n\r\n{inner}--O--\r\n"
        );
        let m = Message::parse(outer.into_bytes()).unwrap();
        // outer multipart → message/rfc822 → inner multipart → parts
        assert_eq!(m.shape.mime_depth, 3);
        // the attached message itself and its three attachments
        assert_eq!(m.shape.attachments, 4);
        let tight = Limits { max_attachments: 3, ..limits() };
        assert_eq!(m.check_limits(&tight), Err(LimitExceeded::Attachments { count: 4, max: 3 }));
    }

    #[test]
    fn too_many_attachments_name_the_key() {
        let m = Message::parse(with_attachments(100)).unwrap();
        assert_eq!(m.shape.attachments, 100);
        assert_eq!(m.check_limits(&limits()), Ok(()));
        let m = Message::parse(with_attachments(101)).unwrap();
        let err = m.check_limits(&limits()).unwrap_err();
        assert_eq!(err.to_string(), "101 attachments are over limits.max_attachments = 100");
    }

    #[test]
    fn a_long_header_section_is_over_the_limit() {
        let long = format!("From: a@x.org\r\nSubject: x\r\nX-Filler: {}\r\n\r\nbody\r\n", "y".repeat(300 * 1024));
        let m = Message::parse(long.into_bytes()).unwrap();
        assert!(m.shape.header_bytes > 300 * 1024, "{:?}", m.shape);
        let err = m.check_limits(&limits()).unwrap_err();
        assert!(matches!(err, LimitExceeded::HeaderBytes { max: 262144, .. }), "{err}");
        assert!(err.to_string().contains("limits.max_header_bytes = 262144"), "{err}");
        // Within the default when the filler is short.
        let m = Message::parse(b"From: a@x.org\r\nX-Filler: short\r\n\r\nbody\r\n".to_vec()).unwrap();
        assert_eq!(m.check_limits(&limits()), Ok(()));
    }

    #[test]
    fn a_part_header_section_counts_too() {
        let m = format!(
            "From: a@x.org\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"B\"\r\n\r\n--B\r\nContent-Type: text/plain\r\nX-Filler: {}\r\n\r\nhi\r\n--B--\r\n",
            "z".repeat(2000)
        );
        let m = Message::parse(m.into_bytes()).unwrap();
        let tight = Limits { max_header_bytes: 1024, ..limits() };
        assert!(matches!(m.check_limits(&tight), Err(LimitExceeded::HeaderBytes { max: 1024, .. })));
    }

    #[test]
    fn thousands_of_levels_do_not_overflow_the_stack() {
        let m = Message::parse(nested(5000)).unwrap();
        assert_eq!(m.shape.mime_depth, 5000);
    }

    #[test]
    fn ten_thousand_attached_messages_parse_and_drop() {
        let mut m = String::new();
        for _ in 0..10_000 {
            m.push_str("From: a@x.org\r\nContent-Type: message/rfc822\r\n\r\n");
        }
        m.push_str("From: a@x.org\r\n\r\nhi\r\n");
        let m = Message::parse(m.into_bytes()).unwrap();
        assert_eq!(m.shape.mime_depth, 10_000);
        assert!(matches!(m.check_limits(&limits()), Err(LimitExceeded::MimeDepth { depth: 10_000, max: 20 })));
    }
}
