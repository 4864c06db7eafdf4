//! The parsed message every later stage reads. Parsing happens once, here;
//! only signature verification goes back to the exact raw bytes, which this
//! type keeps beside the extracted fields.

use std::sync::LazyLock;

use mail_parser::{HeaderName, MessageParser, PartType};
use crate::forward_regex::ForwardRegex;

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

/// Why a message file given to an offline command (`verify`, `classify`,
/// `learn`) was not read: each command words its own fix for the kinds it
/// cares about (`learn` for a file with no sender, say) and prints the
/// rest as they are.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    Io(String),
    #[error(transparent)]
    Limit(#[from] LimitExceeded),
    #[error(transparent)]
    Parse(#[from] ParseError),
}

/// A message bigger or deeper than `[limits]` allows: it is quarantined
/// before any stage reads it. The text names the key to raise.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum LimitExceeded {
    #[error("{bytes} bytes is over limits.max_message_bytes = {max}")]
    MessageBytes { bytes: u64, max: u64 },
    #[error("MIME depth {depth} is over limits.max_mime_depth = {max}")]
    MimeDepth { depth: usize, max: usize },
    #[error("a header section of {bytes} bytes is over limits.max_header_bytes = {max}")]
    HeaderBytes { bytes: usize, max: usize },
    #[error("{count} attachments are over limits.max_attachments = {max}")]
    Attachments { count: usize, max: usize },
}

impl Limits {
    /// Whether a message of `bytes` may be read at all.
    pub fn check_size(&self, bytes: u64) -> Result<(), LimitExceeded> {
        if bytes > self.max_message_bytes {
            return Err(LimitExceeded::MessageBytes { bytes, max: self.max_message_bytes });
        }
        Ok(())
    }
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

mod html_quotes;
mod visible;

/// The text an HTML body shows its reader: what is hidden left out
/// ([`visible::visible_html`]), the rest as text with each block on a line
/// of its own and quoted lines marked "> " as plain text marks them
/// ([`html_quotes::text`]).
fn shown_text(html: &str) -> String {
    html_quotes::text(&visible::visible_html(html))
}

/// The text a parsed message is read by: its first text body, and an
/// HTML-only message as its reader sees it ([`shown_text`]).
pub fn read_text(parsed: &mail_parser::Message<'_>) -> String {
    match parsed.text_body.first().and_then(|&i| parsed.parts.get(i as usize)).map(|p| &p.body) {
        Some(PartType::Html(html)) => shown_text(html),
        _ => parsed.body_text(0).map(|t| t.into_owned()).unwrap_or_default(),
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
    /// `raw` without the bulk of its large base64 attachments, when it has
    /// any: see [`outline`].
    outline: Option<Vec<u8>>,
    /// As in the header, without angle brackets; synthesised from a hash of
    /// the bytes when missing so that duplicates are still recognised.
    pub message_id: String,
    pub message_id_synthetic: bool,
    /// Every address of every From header: more than one means no identity.
    pub from: Vec<Address>,
    pub from_header_count: usize,
    pub reply_to: Option<Address>,
    /// The addresses of To, Cc and Bcc, as written (unsigned: only our
    /// own Sent folder's are believed, to know whom our reply went to).
    pub recipients: Vec<String>,
    /// The addresses of the To header and of the Cc header, each only when
    /// the header appears once: a signature covers the last one, and a
    /// second one added above it is anybody's word. Whom the author wrote
    /// to, when a signature covers the header (`Report::signs_header`).
    pub to: Option<Vec<String>>,
    pub cc: Option<Vec<String>>,
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
        let outline = outline(&raw);
        let parsed = Flat(
            MessageParser::default()
                .parse(outline.as_deref().unwrap_or(&raw))
                .ok_or(ParseError::NotMail)?,
        );
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
        let mut recipients = Vec::new();
        for name in [HeaderName::To, HeaderName::Cc, HeaderName::Bcc] {
            for value in parsed.header_values(name) {
                if let Some(addr) = value.as_address() {
                    recipients.extend(addr.iter().filter_map(|a| a.address()).map(str::to_string));
                }
            }
        }
        let once = |name: HeaderName| -> Option<Vec<String>> {
            match parsed.header_values(name).collect::<Vec<_>>().as_slice() {
                [one] => Some(one.as_address().map(|a| a.iter().filter_map(|a| a.address()).map(str::to_ascii_lowercase).collect()).unwrap_or_default()),
                _ => None,
            }
        };
        let (to, cc) = (once(HeaderName::To), once(HeaderName::Cc));
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
        let text = read_text(&parsed);
        let msg = Message {
            message_id,
            message_id_synthetic,
            from,
            from_header_count,
            reply_to,
            recipients,
            to,
            cc,
            subject: parsed.subject().unwrap_or("").to_string(),
            date: parsed.date().map(|d| d.to_rfc3339()),
            in_reply_to: ids(parsed.in_reply_to()),
            references: ids(parsed.references()),
            text,
            attachment_count: parsed.attachment_count(),
            shape: Shape::of(&parsed.0),
            raw: Vec::new(),
            outline: None,
        };
        drop(parsed);
        Ok(Message { raw, outline, ..msg })
    }

    /// The message for reading its MIME structure, text and small parts:
    /// the raw bytes, or their [`outline`] when large attachments were left
    /// out. The header and every part's offsets up to the first cut are the
    /// same in both; signature checks over exact bytes use [`Message::raw`].
    pub fn outline(&self) -> &[u8] {
        self.outline.as_deref().unwrap_or(&self.raw)
    }

    /// The HTML alternative of the text the message is read by, as text
    /// without what it hides: what a mail client shows its reader when the
    /// message carries both a plain and an HTML body that are not the same
    /// part. `None` when there is one body only.
    pub fn html_alternative(&self) -> Option<String> {
        let parsed = Flat(MessageParser::default().parse(self.outline())?);
        let (text, html) = (*parsed.text_body.first()?, *parsed.html_body.first()?);
        if text == html {
            return None;
        }
        match &parsed.parts.get(html as usize)?.body {
            PartType::Html(html) => Some(shown_text(html)),
            _ => None,
        }
    }

    /// What a reader is shown besides [`Message::text`] that could say
    /// something else, if any: a second text part, an attachment that is
    /// not an image (a letter, a PDF), or HTML text that is hidden or
    /// struck through. A reply that confirms an irreversible step is read
    /// whole or by a person.
    pub fn shown_besides_text(&self) -> Option<&'static str> {
        let parsed = Flat(MessageParser::default().parse(self.outline())?);
        // mail-parser lists inline images among the text bodies too.
        let texts = parsed
            .text_body
            .iter()
            .filter(|&&i| parsed.parts.get(i as usize).is_some_and(|p| matches!(p.body, PartType::Text(_) | PartType::Html(_))))
            .count();
        if texts > 1 {
            return Some("a second text part");
        }
        let not_image = parsed.attachments().any(|a| mail_parser::MimeHeaders::content_type(a).is_none_or(|ct| !ct.ctype().eq_ignore_ascii_case("image")));
        if not_image {
            return Some("an attachment that is not an image");
        }
        let html = parsed.html_body.first().and_then(|&i| parsed.parts.get(i as usize)).and_then(|p| match &p.body {
            PartType::Html(html) => Some(html.as_ref()),
            _ => None,
        })?;
        visible::hides_or_strikes_text(html).then_some("HTML text that is hidden or struck through")
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

    /// A message file for the offline commands (`verify`, `classify`),
    /// under the daemon's own `[limits]`: a file over
    /// `max_message_bytes` is not even read. The error says why, for the
    /// command's per-file error line.
    pub fn read_file(path: &std::path::Path, limits: &Limits) -> Result<Message, ReadError> {
        let size = std::fs::metadata(path).map_err(|e| ReadError::Io(e.to_string()))?.len();
        limits.check_size(size)?;
        let raw = std::fs::read(path).map_err(|e| ReadError::Io(e.to_string()))?;
        Message::read_bytes(raw, limits)
    }

    /// As [`Message::read_file`], for a message on standard input
    /// (`classify -`): no more than `max_message_bytes` and one byte is
    /// read, so a message over the limit is refused without holding it.
    pub fn read_stream(input: impl std::io::Read, limits: &Limits) -> Result<Message, ReadError> {
        use std::io::Read;
        let mut raw = Vec::new();
        input
            .take(limits.max_message_bytes.saturating_add(1))
            .read_to_end(&mut raw)
            .map_err(|e| ReadError::Io(e.to_string()))?;
        limits.check_size(raw.len() as u64)?;
        Message::read_bytes(raw, limits)
    }

    /// A whole message under the daemon's `[limits]`, as the offline
    /// commands read it.
    pub fn read_bytes(raw: Vec<u8>, limits: &Limits) -> Result<Message, ReadError> {
        let msg = Message::parse(raw)?;
        msg.check_limits(limits)?;
        Ok(msg)
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

/// Base64 kept from each long encoded attachment: far more than any
/// signature or text a stage reads from one, small beside a 20 MB file.
const OUTLINE_KEEP: usize = 64 * 1024;
/// A header block longer than this is not looked at for an encoding.
const OUTLINE_HEADER_BYTES: usize = 16 * 1024;

/// `raw` with all but the first [`OUTLINE_KEEP`] bytes of every long base64
/// attachment body left out, or `None` when there is nothing to leave out.
///
/// mail-parser decodes every part it parses; nothing in triaged reads more
/// than the start of an attachment, and decoding a 20 MB one cost 20 MB on
/// top of the 27 MB message. Only the body of a part whose own header says
/// `Content-Transfer-Encoding: base64`, and which is not inline text, is
/// shortened: the text a user wrote is never cut. A cut starts and ends at
/// a line end, so the structure (boundaries, headers, part count) stays and
/// what is kept still decodes.
fn outline(raw: &[u8]) -> Option<Vec<u8>> {
    let mut cuts: Vec<std::ops::Range<usize>> = Vec::new();
    let mut block_start = 0;
    let mut pos = 0;
    while pos < raw.len() {
        let end = line_end(raw, pos);
        let line = trim_eol(&raw[pos..end]);
        if line.is_empty() {
            let body = end;
            if cuttable_part(&raw[block_start..pos]) {
                let mut run = body;
                while run < raw.len() {
                    let e = line_end(raw, run);
                    let l = trim_eol(&raw[run..e]);
                    if l.is_empty() || !l.iter().all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) {
                        break;
                    }
                    if run - body >= OUTLINE_KEEP && cuts.last().is_none_or(|c| c.end != run) {
                        cuts.push(run..run);
                    }
                    if let Some(c) = cuts.last_mut().filter(|c| c.end == run) {
                        c.end = e;
                    }
                    run = e;
                }
            }
            block_start = end;
        } else if line.starts_with(b"--") {
            block_start = end;
        }
        pos = end;
    }
    if cuts.is_empty() {
        return None;
    }
    let mut out = Vec::with_capacity(raw.len() - cuts.iter().map(|c| c.len()).sum::<usize>());
    let mut from = 0;
    for c in cuts {
        out.extend_from_slice(&raw[from..c.start]);
        from = c.end;
    }
    out.extend_from_slice(&raw[from..]);
    Some(out)
}

/// Just past the next LF, or the end.
fn line_end(raw: &[u8], from: usize) -> usize {
    raw[from..].iter().position(|&b| b == b'\n').map_or(raw.len(), |i| from + i + 1)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// Whether `block` is a MIME header block announcing a base64 body that is
/// not inline text (a missing Content-Type means text/plain).
fn cuttable_part(block: &[u8]) -> bool {
    if block.is_empty() || block.len() > OUTLINE_HEADER_BYTES {
        return false;
    }
    let Ok(text) = std::str::from_utf8(block) else {
        return false;
    };
    let (mut base64, mut text_type, mut attachment) = (false, true, false);
    let mut fields: Vec<String> = Vec::new();
    for line in text.lines() {
        match fields.last_mut() {
            Some(f) if line.starts_with([' ', '\t']) => f.push_str(line),
            _ => fields.push(line.to_string()),
        }
    }
    for field in &fields {
        let Some((name, value)) = field.split_once(':') else {
            // Not a header block: a paragraph of text before a blank line.
            return false;
        };
        if name.is_empty() || name.bytes().any(|b| !b.is_ascii_graphic()) {
            return false;
        }
        let value = value.trim().to_ascii_lowercase();
        match name.to_ascii_lowercase().as_str() {
            "content-transfer-encoding" => base64 = value == "base64",
            "content-type" => text_type = value.starts_with("text/"),
            "content-disposition" => attachment = value.starts_with("attachment"),
            _ => {}
        }
    }
    base64 && (attachment || !text_type)
}

/// One line of text: control characters (CR, LF, ESC, IRC formatting)
/// replaced by spaces, invisible ones ([`is_invisible`]) dropped, blank
/// look-alikes ([`is_blank`]) and runs of whitespace collapsed to one space.
pub fn sanitize_line(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut last_space = false;
    for c in s.chars().filter(|c| !is_invisible(*c)) {
        let c = if c.is_control() || is_blank(c) { ' ' } else { c };
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

/// Characters that draw nothing but can hide text from a reader or a
/// filter: Unicode's format characters (general category Cf: zero-width
/// space and joiners, bidi controls, the BOM, soft hyphen, tags) and the
/// other default-ignorable code points (variation selectors, Hangul
/// fillers, Mongolian selectors). A sender can put them anywhere.
pub fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{ad}' | '\u{34f}' | '\u{61c}' | '\u{600}'..='\u{605}' | '\u{6dd}' | '\u{70f}' | '\u{890}'..='\u{891}'
        | '\u{8e2}' | '\u{17b4}'..='\u{17b5}' | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200f}'
        | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{206f}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}'
        | '\u{fff0}'..='\u{fffb}' | '\u{110bd}' | '\u{110cd}' | '\u{13430}'..='\u{1343f}'
        | '\u{1bca0}'..='\u{1bca3}' | '\u{1d173}'..='\u{1d17a}' | '\u{e0000}'..='\u{e0fff}')
}

/// Characters that draw as an empty space without being Unicode white
/// space, so a sender can use them where a reader sees word breaks:
/// U+2800 BRAILLE PATTERN BLANK and the Hangul fillers. Read as a space.
pub fn is_blank(c: char) -> bool {
    c.is_whitespace() || matches!(c, '\u{2800}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}')
}

// ---------------------------------------------------------------- the author's own words

static ATTRIBUTION: LazyLock<ForwardRegex> = LazyLock::new(|| {
    ForwardRegex::fixed(r"(?i)^(on .{1,200} wrote:|am .{1,200} schrieb .{1,200}:|le .{1,200} a écrit ?:|el .{1,200} escribió:)\s*$")
});

/// Any line that ends as an attribution does ("Support wrote:"): enough to
/// say that the quoted lines after it are another's.
static WROTE: LazyLock<ForwardRegex> =
    LazyLock::new(|| ForwardRegex::fixed(r"(?i)\b(wrote|schrieb|a écrit|escribió|escreveu|ha scritto) ?:\s*$"));

/// The writer speaking of themselves or to the reader: a client's
/// attribution names another ("CAcert support wrote:"), never "my wife".
/// Not French "mon" or Spanish "mi": dates in attributions abbreviate
/// Monday and German Wednesday so ("On Mon, 1 Dec", "Am Mi., 2. Dez.").
static WRITERS_OWN: LazyLock<ForwardRegex> =
    LazyLock::new(|| ForwardRegex::fixed(r"(?i)\b(i|my|me|we|our|you|your|ich|mein\w*|wir|je|yo)\b"));

/// The second line of an attribution a mail client wrapped in two.
static WRAPPED_ATTRIBUTION_ENDS: LazyLock<ForwardRegex> =
    LazyLock::new(|| ForwardRegex::fixed(r"(?i)^<?[^\s<>@]+@[^\s<>]+> (wrote|schrieb|a écrit|escribió) ?:\s*$"));

/// Where a top-posted reply's unquoted copy of the original begins
/// (Outlook and friends): everything after it is the other side's text.
static ORIGINAL_BEGINS: LazyLock<ForwardRegex> = LazyLock::new(|| {
    ForwardRegex::fixed(r"(?i)^(-+ ?(original message|ursprüngliche nachricht|message d'origine|mensaje original) ?-+|_{10,})\s*$")
});

/// Outlook's header of the original: "From: X" then "Sent: " and a date
/// (French Outlook puts a space before the colon: "De : X", "Envoyé :
/// ...").
static OUTLOOK_FROM: LazyLock<ForwardRegex> =
    LazyLock::new(|| ForwardRegex::fixed(r"(?i)^\*?(from|von|de) ?:\*? ?\S.*"));
static OUTLOOK_SENT: LazyLock<ForwardRegex> =
    LazyLock::new(|| ForwardRegex::fixed(r"(?i)^\*?(sent|date|gesendet|datum|envoyé|enviado|fecha) ?:\*? ?\S.*\d"));



/// The body without quoted lines, attribution lines and the signature.
///
/// Classifying one message asks it of the same body four or five times
/// (the rules, the precision guard, the spam look, the pack's model): the
/// last answer is kept, per thread, and given again for the same text.
/// On a German letter of 2 KiB each asking was about 12 µs
/// (docs/BENCHMARKS.md, "German under 1 ms").
pub fn strip_quoted(text: &str) -> String {
    if let Some(known) = LAST_STRIPPED.with_borrow(|last| last.as_ref().filter(|(body, _)| body == text).map(|(_, own)| own.clone())) {
        return known;
    }
    let own = own_words(text).text;
    LAST_STRIPPED.with_borrow_mut(|last| *last = Some((text.to_string(), own.clone())));
    own
}

thread_local! {
    /// The last body [`strip_quoted`] read on this thread, and its answer.
    static LAST_STRIPPED: std::cell::RefCell<Option<(String, String)>> = const { std::cell::RefCell::new(None) };
}

/// What the writer wrote of a body ([`own_words`]).
pub struct OwnWords {
    /// The body without quoted lines, attribution lines and the signature.
    pub text: String,
    /// Why what was cut may have held words of the writer's, if it may: a
    /// cut is a reading of how mail clients quote and sign, and a writer
    /// can type the same shapes. Reading a request, a guess costs a few
    /// words; a reply that confirms an irreversible step is not read from
    /// a guess.
    pub uncertain_cut: Option<&'static str>,
}

/// The writer's own words in a body: quoted lines, attribution lines, an
/// original below the reply and the signature cut.
pub fn own_words(text: &str) -> OwnWords {
    let mut out = String::with_capacity(text.len());
    let mut uncertain_cut = None;
    // Whether an attribution ("On ..., X wrote:") came before: quoted
    // lines without one may be the writer's own ("> only the old one").
    let mut attributed = false;
    let lines: Vec<&str> = text.lines().collect();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim_end();
        let outlook_header = outlook_header_at(&lines, i);
        let rest = &lines[i + 1..];
        if t == "--" || t == "-- " {
            if !rest.iter().all(|l| signature_line(l)) {
                uncertain_cut = Some("the lines below the signature separator read as sentences, not a signature");
            }
            return OwnWords { text: out, uncertain_cut };
        }
        if ORIGINAL_BEGINS.is_match(t.trim()) || outlook_header {
            // An original begins with its header: "From: ..." right below
            // the separator.
            let first = (i + 1..lines.len()).find(|&j| !lines[j].trim().is_empty());
            let header_follows = outlook_header || first.is_some_and(|j| outlook_header_at(&lines, j));
            if !header_follows {
                uncertain_cut = Some("no original's header (From:, Sent:) follows the line the original was cut at");
            }
            return OwnWords { text: out, uncertain_cut };
        }
        // Gmail wraps a long attribution at the address: "On ..., Support
        // <" and "support@example.org> wrote:" on the next line.
        let wrapped = WRAPPED_ATTRIBUTION_ENDS.is_match(t.trim())
            && i > 0
            && lines[i - 1].trim_start().to_lowercase().starts_with("on ")
            && lines[i - 1].contains(|c: char| c.is_ascii_digit());
        if dated_attribution(t) || wrapped {
            attributed = true;
            if wrapped {
                // Its first half was taken for the writer's line.
                let kept = out.trim_end_matches('\n').rfind('\n').map_or(0, |at| at + 1);
                out.truncate(kept);
            }
            if rest.iter().find(|l| !l.trim().is_empty()).is_some_and(|l| !l.trim_start().starts_with('>')) {
                // Yahoo and some webmail quote the original without ">".
                uncertain_cut = Some("lines without \">\" below an attribution were cut as the original");
                return OwnWords { text: out, uncertain_cut };
            }
            continue;
        }
        // "Support wrote:" alone, right above a quote, attributes it; not
        // the writer's own "as my wife wrote:".
        if named_wrote(t) && rest.iter().find(|l| !l.trim().is_empty()).is_some_and(|l| l.trim_start().starts_with('>')) {
            attributed = true;
            continue;
        }
        if let Some(quoted) = t.trim_start().strip_prefix('>') {
            // Apple Mail quotes its attribution with the original.
            let quoted = quoted.trim_start_matches(['>', ' ']).trim();
            if dated_attribution(quoted) || named_wrote(quoted) {
                attributed = true;
            }
            if !attributed {
                uncertain_cut = Some("lines quoted with \">\" follow no attribution (\"On ..., X wrote:\")");
            }
            continue;
        }
        out.push_str(t);
        out.push('\n');
    }
    OwnWords { text: out, uncertain_cut }
}

/// Whether `line` is a client's attribution: "On <date>, X wrote:" (and
/// its German, French and Spanish forms), with a date in it and not the
/// writer speaking ("On second thought, as my wife wrote:").
fn dated_attribution(line: &str) -> bool {
    let line = line.trim();
    OUR_ATTRIBUTION.is_match(line)
        || (ATTRIBUTION.is_match(line) && !WRITERS_OWN.is_match(line) && line.contains(|c: char| c.is_ascii_digit()))
}

/// The attribution lines our drafts write (`act::draft::Attribution`),
/// whatever the name in them: a customer called "My" or "Je" is no writer
/// speaking of themselves.
static OUR_ATTRIBUTION: LazyLock<ForwardRegex> = LazyLock::new(|| {
    ForwardRegex::fixed(concat!(
        r"^(?:On (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2} UTC, .{1,80} wrote:",
        r"|Am \d{2}\.\d{2}\.\d{4} um \d{2}:\d{2} UTC schrieb .{1,80}:",
        r"|Le \d{2}/\d{2}/\d{4} à \d{2}:\d{2} UTC, .{1,80} a écrit :",
        r"|El \d{2}/\d{2}/\d{4} a las \d{2}:\d{2} UTC, .{1,80} escribió:)$",
    ))
});

/// Whether `lines[i]` begins an Outlook header of an original: "From: "
/// and a name or an address (capitalised words, or an "@"), then "Sent:"
/// or "Date:" and a date (a year or a time of day). "From: my son, who
/// sent the request" is the writer's sentence.
fn outlook_header_at(lines: &[&str], i: usize) -> bool {
    let from = lines[i].trim();
    let Some(sent) = lines.get(i + 1).map(|l| l.trim()) else { return false };
    if !OUTLOOK_FROM.is_match(from) || !OUTLOOK_SENT.is_match(sent) {
        return false;
    }
    let who = from.split_once(':').map_or("", |(_, v)| v).trim_matches(['*', ' ']);
    let named = who.contains('@') || who.split_whitespace().all(|w| !w.starts_with(|c: char| c.is_lowercase()));
    let when = sent.split_once(':').map_or("", |(_, v)| v);
    named && DATE_LIKE.is_match(when) && !when.contains(';')
}

/// A year or a time of day, as an original's "Sent:" line gives them.
static DATE_LIKE: LazyLock<ForwardRegex> = LazyLock::new(|| ForwardRegex::fixed(r"\b(19|20)\d\d\b|\b\d{1,2}:\d\d\b"));

/// The lowercase words of names: "Ludwig van Beethoven", "Ana de la Cruz".
const NAME_PARTICLES: &[&str] = &["van", "von", "de", "del", "da", "der", "den", "la", "le", "du", "des", "di", "y", "e"];

/// Whether `line` is "X wrote:" with X a name or an address (capitalised
/// words, "<...>", an "@"): a client's attribution, not the writer's "as
/// support wrote:" or "as my wife wrote:".
fn named_wrote(line: &str) -> bool {
    let line = line.trim();
    let Some(m) = WROTE.find_ranges(line).into_iter().next() else { return false };
    let who: Vec<&str> = line[..m.start].split_whitespace().collect();
    !who.is_empty()
        && who.len() <= 6
        && !WRITERS_OWN.is_match(line)
        && who.iter().all(|w| {
            w.contains('@') || w.starts_with(['<', '"', '(', '\'']) || NAME_PARTICLES.contains(w) || !w.starts_with(|c: char| c.is_lowercase())
        })
}

/// Whether a line below "-- " reads as a signature's rather than a
/// sentence of the writer's: at most seven words, no "!" or "?", none of
/// the words that turn a reply ([`TURNS_MEANING`]), and either contact
/// data (an address, a link, a "|" separated line, a number) or names and
/// titles, capitalised but for a few joining words ("Ann Example", "Head
/// of Support, ACME Corp"). "Do not delete before June 1st", "NB: only
/// the old account, keep ann@new.example!" and "sorry my son typed the
/// yes above" are not.
fn signature_line(line: &str) -> bool {
    const JOINING: &[&str] = &["at", "of", "and", "the", "for", "de", "del", "la", "von", "und", "der", "du", "des", "van", "y", "e", "&"];
    let line = line.trim();
    let digits = line.chars().filter(char::is_ascii_digit).count();
    let contact = line.contains('@')
        || line.contains("http")
        || line.contains("www.")
        || line.contains('|')
        || digits * 2 >= line.chars().filter(|c| !c.is_whitespace()).count().max(1);
    let words: Vec<&str> = line.split_whitespace().collect();
    if words.len() > 7 || line.ends_with(['!', '?']) || TURNS_MEANING.is_match(line) {
        return false;
    }
    contact || (!line.ends_with('.') && words.iter().all(|w| JOINING.contains(w) || !w.starts_with(|c: char| c.is_lowercase())))
}

/// Words no signature holds and that turn what a reply says: a negation,
/// a limit, a condition, a delay, an apology.
static TURNS_MEANING: LazyLock<ForwardRegex> = LazyLock::new(|| {
    ForwardRegex::fixed(r"(?i)\b(not|no|never|keep|only|wait|sorry|but|until|before|after|nicht|nur|kein\w*|warte\w*|pas|seulement|jamais|attendez|solo|sólo|nunca|hasta|espera\w*)\b")
});

#[cfg(test)]
mod tests {
    use super::*;
    use mail_parser::MimeHeaders;

    /// A message with a text part and one base64 part of `kib` KiB whose
    /// part header is `part_header`.
    fn with_part(part_header: &str, kib: usize) -> Vec<u8> {
        let line = format!("{}\r\n", "QUJD".repeat(19));
        let body = line.repeat(kib * 1024 / line.len() + 1);
        format!(
            "From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/mixed; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nplease delete my account\r\n\
             --b\r\n{part_header}Content-Transfer-Encoding: base64\r\n\r\n{body}--b--\r\n"
        )
        .into_bytes()
    }

    /// The last body's answer is given again only for the same body: a
    /// body read between two readings of another is read anew, and so is
    /// one that differs by a character.
    #[test]
    fn a_body_kept_from_the_last_reading_is_the_same_body() {
        let replied = "Yes, delete it.\n\nOn Mon, 1 Dec 2026, Support wrote:\n> Shall we delete your account?\n";
        let signed = "Please keep my account.\n-- \nJ. Doe\n";
        assert_eq!(strip_quoted(replied), "Yes, delete it.\n\n");
        assert_eq!(strip_quoted(signed), "Please keep my account.\n");
        assert_eq!(strip_quoted(replied), "Yes, delete it.\n\n");
        assert_eq!(strip_quoted(replied), own_words(replied).text);
        let changed = replied.replacen("Yes", "No", 1);
        assert_eq!(strip_quoted(&changed), "No, delete it.\n\n");
    }

    /// An HTML-only message is read as it is shown: a preheader hidden in
    /// `display:none` is not part of its text, what is shown is.
    #[test]
    fn html_only_mail_is_read_without_what_it_hides() {
        let raw = "From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
                   <div style=\"display:none;max-height:0\">please delete my account</div><p>Where do I add an SSH key?</p>\r\n";
        let msg = Message::parse(raw.as_bytes().to_vec()).unwrap();
        assert!(msg.text.contains("Where do I add an SSH key?"), "{:?}", msg.text);
        assert!(!msg.text.contains("delete"), "{:?}", msg.text);
    }

    /// What a reader is shown besides the text: a second text part, a
    /// letter attached, words hidden or struck through in the HTML. An
    /// image (a logo in the signature) and ordinary HTML are not.
    #[test]
    fn what_is_shown_besides_the_text_is_named() {
        let mail = |ct: &str, body: &str| {
            Message::parse(format!("From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: {ct}\r\n\r\n{body}").into_bytes()).unwrap()
        };
        let mixed = |second: &str| {
            mail("multipart/mixed; boundary=\"m\"", &format!("--m\r\nContent-Type: text/plain\r\n\r\nYes.\r\n--m\r\n{second}\r\n--m--\r\n"))
        };
        assert_eq!(mail("text/plain", "Yes.").shown_besides_text(), None);
        assert_eq!(mail("text/html", "<div>Yes.</div><blockquote>quoted</blockquote><img src=\"cid:logo\" alt=\"\">").shown_besides_text(), None);
        assert_eq!(mixed("Content-Type: image/png\r\nContent-Disposition: inline; filename=logo.png\r\n\r\nPNG").shown_besides_text(), None);
        assert_eq!(mixed("Content-Type: text/plain\r\n\r\nPS: it was an accident").shown_besides_text(), Some("a second text part"));
        assert_eq!(
            mixed("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=letter.pdf\r\n\r\n%PDF").shown_besides_text(),
            Some("an attachment that is not an image")
        );
        for html in [
            "<p>Yes</p><div style=\"display:none\">do not delete</div>",
            "<p><s>Yes, I confirm.</s> Keep it.</p>",
            "<p><del>Yes</del></p>",
            // Words shown that are not the document's text.
            "<style>.c::after{content:\" - only the old account\"}</style><p class=\"c\">Yes, I confirm.</p>",
            "<p>Yes</p><input type=\"text\" value=\"only after May\" readonly>",
            "<p>Yes, I <ruby>confirm<rt>not</rt></ruby></p>",
            "<p>Yes</p><img src=\"cid:x\" alt=\"only after May\">",
        ] {
            assert_eq!(mail("text/html", html).shown_besides_text(), Some("HTML text that is hidden or struck through"), "{html}");
        }
    }

    #[test]
    fn a_large_attachment_is_left_out_of_the_outline_but_the_structure_stays() {
        let raw = with_part("Content-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"x.pdf\"\r\n", 512);
        let outline = outline(&raw).expect("a 512 KiB attachment is shortened");
        assert!(outline.len() < OUTLINE_KEEP + 2048, "outline is {} bytes", outline.len());
        assert!(outline.ends_with(b"--b--\r\n"), "the closing boundary stays");
        let whole = MessageParser::default().parse(&raw[..]).unwrap();
        let short = MessageParser::default().parse(&outline[..]).unwrap();
        assert_eq!(short.parts.len(), whole.parts.len());
        assert_eq!(short.attachment_count(), 1);
        assert_eq!(short.attachment(0).unwrap().attachment_name(), Some("x.pdf"));
        let kept = short.attachment(0).unwrap().contents();
        assert!(whole.attachment(0).unwrap().contents().starts_with(kept), "what is kept decodes to the start");
        let m = Message::parse(raw.clone()).unwrap();
        assert_eq!(m.raw(), &raw[..], "signature checks still get the exact bytes");
        assert_eq!(m.outline(), &outline[..]);
        assert_eq!(m.text.trim(), "please delete my account");
        assert_eq!(m.attachment_count, 1);
        assert_eq!(m.shape, Shape::of(&whole));
    }

    #[test]
    fn text_the_user_wrote_is_never_shortened() {
        // Inline base64 text, large: the whole text is read.
        let raw = with_part("Content-Type: text/plain; charset=utf-8\r\n", 256);
        assert!(outline(&raw).is_none());
        // No Content-Type means text/plain.
        assert!(outline(&with_part("", 256)).is_none());
        // Text sent as an attachment (a log file) is an attachment.
        assert!(outline(&with_part("Content-Type: text/plain\r\nContent-Disposition: attachment\r\n", 256)).is_some());
        // Small attachments are parsed whole.
        assert!(outline(&with_part("Content-Type: application/pdf\r\n", 32)).is_none());
    }

    #[test]
    fn a_paragraph_that_mentions_base64_is_not_a_header_block() {
        let line = format!("{}\r\n", "QUJD".repeat(19));
        let raw = format!(
            "From: a@example.org\r\nSubject: s\r\n\r\nI was told to set\r\nContent-Transfer-Encoding: base64\r\nContent-Type: image/png\r\n\r\n{}",
            line.repeat(2000)
        );
        assert!(outline(raw.as_bytes()).is_none());
    }

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
