//! Mail that came through a mailing list the team configured (`[[lists]]`):
//! who wrote it and whether the author's DKIM held before the list, as the
//! list vouches for it with its ARC seal (RFC 8617).
//!
//! A list that protects against DMARC rewrites From to its own address
//! ("Alice via sr.ht-support <list@…>") and puts the author in Reply-To or
//! X-Original-From. Those headers are anybody's unless a seal the team
//! trusts covers them, so the author is read only when: the List-Id names a
//! configured list, the ARC chain validates, the newest ARC-Seal and
//! ARC-Message-Signature are by one of that list's sealers, and that
//! signature covers the author header (every copy of it). The author's DKIM
//! result is the one the trusted sealer recorded in its own
//! ARC-Authentication-Results on arrival: an earlier hop's record is only
//! that hop's word. Anything else yields advice for staff, never an author.
//!
//! [`Arrival`] is what the rest of the pipeline reads: the message as its
//! author sent it (From the vouched author, no Reply-To, the list's tag and
//! footer cut), decided once per message. A From that is a list's own
//! address is never an account, whoever vouches ([`from_is_list`]).

use std::borrow::Cow;
use std::time::Duration;

use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters};

use super::Factor;
use super::dkim::{Bounded, OneCheck, aligned, beyond_length, header_end};
use crate::config::ListConfig;
use crate::message::{Address, Message, sanitize_line};

/// The author of list mail, as a trusted list vouches for them.
#[derive(Debug, Clone, PartialEq)]
pub struct ListAuthor {
    /// The configured List-Id it came through.
    pub list_id: String,
    /// From the list's rewritten headers (X-Original-From, else Reply-To),
    /// covered by the trusted sealer's signature.
    pub author: Address,
    /// The author's DKIM result before the list: `pass` only when the
    /// trusted sealer recorded `dkim=pass` for a domain aligned with the
    /// author's address, "pass via the list's ARC seal (lists.example.org)".
    pub dkim: Factor,
    /// The sealer (d= of the newest ARC-Seal), one of the list's `sealers`.
    pub sealer: String,
    /// Headers (lowercase) the list vouches the author signed: covered,
    /// every copy, by the sealer's signature and by each of the author's
    /// own DKIM signatures (which the sealer's signature covers too). What
    /// ties a reply through the list to its ticket, like a DKIM signature's
    /// `h=` for direct mail.
    pub signed: Vec<String>,
    /// The list's posting address (List-Post), when the sealer's signature
    /// covers it.
    pub post: Option<String>,
}

/// What list headers prove about a message.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum ListVerdict {
    /// No List-Id header: not list mail.
    #[default]
    NotListMail,
    /// Through a configured list whose seal vouches for the author.
    Vouched(ListAuthor),
    /// List mail that proves nothing about its author; the reason, for staff.
    Advice(String),
}

impl ListVerdict {
    pub fn author(&self) -> Option<&ListAuthor> {
        match self {
            ListVerdict::Vouched(a) => Some(a),
            _ => None,
        }
    }

    pub fn advice(&self) -> Option<&str> {
        match self {
            ListVerdict::Advice(s) => Some(s),
            _ => None,
        }
    }
}

/// Headers that carry the author of a From-munged list message, in the
/// order they are believed. A list that leaves From alone vouches for From.
const AUTHOR_HEADERS: [&str; 2] = ["x-original-from", "reply-to"];

/// Who wrote `msg` according to the configured list it came through, if
/// any. `timeout` bounds the DNS work of the ARC check (three times it, as
/// for DKIM); the ARC work itself is bounded like DKIM's
/// (`dkim::MAX_ARC_SETS`).
pub async fn list_author(auth: &MessageAuthenticator, lists: &[ListConfig], msg: &Message, timeout: Duration) -> ListVerdict {
    // The header section first: most mail is no list's, and costs no more.
    let ids = list_ids(msg);
    let id = match ids.as_slice() {
        [] => return ListVerdict::NotListMail,
        [id] => id.clone(),
        _ => return ListVerdict::Advice(format!("{} List-Id headers: list headers prove nothing", ids.len())),
    };
    let shown = sanitize_line(&id);
    let Some(list) = lists.iter().find(|l| l.id == id) else {
        return ListVerdict::Advice(format!(
            "came through the list <{shown}>, which is not configured in [[lists]]: its headers and ARC seal prove nothing"
        ));
    };
    let from_domain = msg.single_from().and_then(|a| a.email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()));
    let view = Bounded::of(msg.raw(), from_domain.as_deref().unwrap_or(""));
    let Some(parsed) = AuthenticatedMessage::parse_with_opts(&view.raw, None, false) else {
        return ListVerdict::Advice(format!("came through the list <{shown}>, but its header section cannot be parsed"));
    };
    let sealers = list.sealers.join(", ");
    if let Some(why) = &view.arc_left_out {
        return ListVerdict::Advice(format!("came through the list <{shown}>, but {why}"));
    }
    let keys = OneCheck::default();
    let arc = match tokio::time::timeout(timeout * 3, auth.verify_arc(Parameters::new(&parsed).with_txt_cache(&keys))).await {
        Ok(o) => o,
        Err(_) => return ListVerdict::Advice(format!("came through the list <{shown}>, but its ARC keys could not be fetched in time")),
    };
    let Some(newest) = arc.sets().last() else {
        return ListVerdict::Advice(format!("came through the list <{shown}> without an ARC seal: the author cannot be told"));
    };
    if *arc.result() != DkimResult::Pass {
        return ListVerdict::Advice(format!(
            "came through the list <{shown}>, but its ARC chain does not validate ({}): the author cannot be told",
            arc.result()
        ));
    }
    let seal_d = newest.seal.header.d.to_ascii_lowercase();
    let ams_d = newest.signature.header.d.to_ascii_lowercase();
    if !list.sealers.contains(&seal_d) || !list.sealers.contains(&ams_d) {
        return ListVerdict::Advice(format!(
            "came through the list <{shown}>, but the newest ARC seal is by {}, not by its sealer(s) {sealers}",
            sanitize_line(&seal_d)
        ));
    }
    // The chain validates over the body up to the seal's l=; what follows
    // would be read as the author's text.
    if let Some(added) = beyond_length(newest.signature.header.cb, newest.signature.header.l, parsed.raw_body()) {
        return ListVerdict::Advice(format!(
            "came through the list <{shown}>, but its seal covers only the first {} bytes of the body (l=); {added} bytes were added after sealing",
            newest.signature.header.l
        ));
    }
    let sealed = &newest.signature.header.h;
    let covers = |name: &str| covered(&parsed, sealed, name);
    // One sealer may serve many lists: only a List-Id under its signature
    // says which one this came through (and so what the team trusts it for).
    if !covers("list-id") {
        return ListVerdict::Advice(format!(
            "came through the list <{shown}>, but its seal does not cover its List-Id: it may be another list of {}",
            sanitize_line(&seal_d)
        ));
    }
    // One List-Post, the list's: a sender's own passed on next to it would
    // take the copy of the draft, and make its From read as the list's.
    let post = match header_values(&parsed, "list-post").as_slice() {
        [one] if covers("list-post") => mailto(one),
        _ => None,
    };
    // A list that rewrites From against DMARC puts its own address there.
    let Some(from) = msg.single_from() else {
        return ListVerdict::Advice(format!("came through the list <{shown}>, but not with exactly one From address"));
    };
    let munged = is_list_address(&from.email, &id) || post.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&from.email));
    let candidates: &[&str] = if munged { &AUTHOR_HEADERS } else { &["from"] };
    // Every author header present must be the list's one copy and name the
    // same address: a list passes on headers the sender wrote (an
    // X-Original-From to a list that writes Reply-To, a second copy next
    // to the list's own), and its seal covers those just the same.
    let mut author: Option<(&str, Address)> = None;
    for &header in candidates {
        let values = header_values(&parsed, header);
        let value = match values.as_slice() {
            [] => continue,
            [one] => *one,
            _ => {
                return ListVerdict::Advice(format!(
                    "came through the list <{shown}> with {} {header} headers: the author cannot be told",
                    values.len()
                ));
            }
        };
        if !covers(header) {
            let signed = sealed.iter().filter(|h| h.trim().eq_ignore_ascii_case(header)).count();
            return ListVerdict::Advice(format!(
                "came through the list <{shown}>, but its seal does not cover the {header} header (1 present, {signed} signed): the author cannot be told"
            ));
        }
        let Some(named) = single_address(value) else {
            return ListVerdict::Advice(format!("came through the list <{shown}>, but its {header} header does not hold exactly one address"));
        };
        match &author {
            Some((first, a)) if !a.email.eq_ignore_ascii_case(&named.email) => {
                return ListVerdict::Advice(format!(
                    "came through the list <{shown}>, whose {first} ({}) and {header} ({}) name different authors: the author cannot be told",
                    sanitize_line(&a.email),
                    sanitize_line(&named.email)
                ));
            }
            Some(_) => {}
            None => author = Some((header, named)),
        }
    }
    let Some((header, author)) = author else {
        return ListVerdict::Advice(format!("came through the list <{shown}> with neither X-Original-From nor Reply-To: the author cannot be told"));
    };
    if is_list_address(&author.email, &id) || post.as_deref().is_some_and(|p| p.eq_ignore_ascii_case(&author.email)) {
        return ListVerdict::Advice(format!("came through the list <{shown}>, whose {header} names the list itself: the author cannot be told"));
    }
    let author_domain = author.email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    let dkim = author_dkim(newest.results.value, &author, &seal_d);
    let signed = vouched_headers(&parsed, sealed, &author_domain);
    ListVerdict::Vouched(ListAuthor { list_id: id, author, dkim, sealer: seal_d, signed, post })
}

/// Whether every copy of header `name` in the message is covered by a
/// signature whose `h=` is `signed` (RFC 6376 sec 5.4.2: a name listed k
/// times covers the k bottom-most copies). A header that is not there is
/// not covered.
fn covered(parsed: &AuthenticatedMessage<'_>, signed: &[String], name: &str) -> bool {
    let present = header_values(parsed, name).len();
    present > 0 && present <= signed.iter().filter(|h| h.trim().eq_ignore_ascii_case(name)).count()
}

/// The headers the list vouches the author signed: those the sealer's
/// signature covers (every copy) that each DKIM signature aligned with the
/// author's domain covered too (every copy), provided the sealer's
/// signature covers those DKIM signatures themselves (else they could
/// have been rewritten after sealing). The sealer recorded that one of
/// them passed, not which: a header counts only when all of them cover it.
fn vouched_headers(parsed: &AuthenticatedMessage<'_>, sealed: &[String], author_domain: &str) -> Vec<String> {
    if !covered(parsed, sealed, "dkim-signature") {
        return Vec::new();
    }
    let by_author: Vec<&[String]> = parsed
        .dkim_headers
        .iter()
        .filter(|h| aligned(&h.header.d, author_domain))
        .map(|h| h.header.h.as_slice())
        .collect();
    if by_author.is_empty() {
        return Vec::new();
    }
    let mut out: Vec<String> = sealed
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .filter(|h| covered(parsed, sealed, h) && by_author.iter().all(|signed| covered(parsed, signed, h)))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// Whether `address` is the list's own: Mailman, Google Groups and others
/// form the List-Id from the posting address with `@` made a dot.
fn is_list_address(address: &str, list_id: &str) -> bool {
    address.to_ascii_lowercase().replacen('@', ".", 1) == list_id
}

/// The address of a `List-Post: <mailto:list@example.org>` value.
fn mailto(value: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(value);
    let start = text.find("<mailto:")? + "<mailto:".len();
    let end = start + text[start..].find('>')?;
    let address = text[start..end].split('?').next()?.trim();
    let ok = address.contains('@') && !address.chars().any(|c| c.is_whitespace() || c.is_control() || "<>,;\"".contains(c));
    ok.then(|| address.to_string())
}

/// The List-Id when `msg`'s single From is that list's own address (or its
/// List-Post address): mail a list rewrote, whose From no account may own.
/// Read from unsigned headers on purpose: it can only take trust away.
pub fn from_is_list(msg: &Message) -> Option<String> {
    let from = msg.single_from()?;
    let (ids, posts) = list_headers(msg);
    let own = ids.iter().find(|id| is_list_address(&from.email, id)).cloned();
    let posted = posts.iter().any(|p| p.eq_ignore_ascii_case(&from.email));
    own.or_else(|| posted.then(|| ids.first().cloned()).flatten())
}

/// The List-Id values of `msg` (lower case), read from its header section.
fn list_ids(msg: &Message) -> Vec<String> {
    list_headers(msg).0
}

/// The List-Id values and List-Post addresses of `msg`.
fn list_headers(msg: &Message) -> (Vec<String>, Vec<String>) {
    let raw = msg.raw();
    let Some(parsed) = AuthenticatedMessage::parse_with_opts(&raw[..header_end(raw)], None, false) else {
        return (Vec::new(), Vec::new());
    };
    let ids = header_values(&parsed, "list-id").iter().filter_map(|v| list_id(v)).collect();
    let posts = header_values(&parsed, "list-post").iter().filter_map(|v| mailto(v)).collect();
    (ids, posts)
}

/// How a message reached the mailbox, decided once per message
/// ([`Verifier::arrival`](super::Verifier::arrival)) and read by every
/// later stage: classification, the identity checks, thread joining and
/// the draft's recipients all see [`Arrival::message`].
#[derive(Debug)]
pub struct Arrival<'m> {
    message: Cow<'m, Message>,
    /// What the list headers prove; carried into the identity checks
    /// (`VerifyContext::list`).
    pub list: ListVerdict,
    /// The list's posting address, when the team replies to the list
    /// (`reply_to_list`) and the seal vouches for the address.
    copy_to: Option<String>,
    /// `reply_to_list` is set but no posting address is vouched for.
    copy_refused: bool,
    /// The List-Id, when From is that list's own address and nobody
    /// vouches for the author: nobody to answer but the list.
    list_from: Option<String>,
    /// The address drafts are sent from, in list mail: the list hands
    /// the replies staff send back to us like any post.
    ours: Option<String>,
}

impl<'m> Arrival<'m> {
    /// `msg` as it came, whatever its headers say about lists.
    pub fn direct(msg: &'m Message) -> Arrival<'m> {
        Arrival {
            message: Cow::Borrowed(msg),
            list: ListVerdict::NotListMail,
            copy_to: None,
            copy_refused: false,
            list_from: None,
            ours: None,
        }
    }

    /// `msg` read with what `list` proves. Through a configured list its
    /// tag and footer are cut whoever vouches; only a vouched author
    /// replaces From (and drops the list's Reply-To, so replies go to the
    /// author).
    pub fn new(msg: &'m Message, list: ListVerdict, lists: &[ListConfig]) -> Arrival<'m> {
        let list_from = list.author().is_none().then(|| from_is_list(msg)).flatten();
        let id = match &list {
            ListVerdict::Vouched(a) => Some(a.list_id.clone()),
            ListVerdict::Advice(_) => Some(list_ids(msg)).filter(|ids| ids.len() == 1).map(|mut ids| ids.remove(0)),
            ListVerdict::NotListMail => None,
        };
        let Some(config) = id.and_then(|id| lists.iter().find(|l| l.id == id)) else {
            return Arrival { list, list_from, ..Arrival::direct(msg) };
        };
        let words = undecorated(config, &msg.subject, &msg.text);
        let mut view = msg.clone();
        view.subject = words.subject;
        view.text = words.text;
        let (mut copy_to, mut copy_refused) = (None, false);
        if let ListVerdict::Vouched(a) = &list {
            view.from = vec![a.author.clone()];
            view.from_header_count = 1;
            view.reply_to = None;
            // Every subscriber reads the copy: only for an author whose
            // own signature the seal records, never for a name alone.
            copy_to = a.post.clone().filter(|_| config.reply_to_list && a.dkim.passed());
            copy_refused = config.reply_to_list && copy_to.is_none();
        }
        Arrival { message: Cow::Owned(view), list, copy_to, copy_refused, list_from, ours: None }
    }

    /// The arrival, knowing `address` is ours (`[draft] from`): list mail
    /// from it is a reply staff sent, which nobody is to answer.
    pub fn answering_as(mut self, address: Option<&str>) -> Self {
        if !matches!(self.list, ListVerdict::NotListMail) {
            self.ours = address.map(str::to_string);
        }
        self
    }

    /// Whether `address` is ours, in list mail (`answering_as`).
    pub fn is_ours(&self, address: &str) -> bool {
        self.ours.as_deref().is_some_and(|o| o.eq_ignore_ascii_case(address))
    }

    /// Whether `address` is the list's own, in list mail whose author
    /// nobody vouches for: a draft there would go to every subscriber,
    /// answering someone nobody can name. Besides a From that is the list,
    /// a Reply-To can be (a list that sets it to itself, or a sender who
    /// does): any List-Id or List-Post address counts, signed or not, as it
    /// only takes a recipient away.
    pub fn is_the_list(&self, address: &str) -> bool {
        if let Some(id) = &self.list_from
            && (is_list_address(address, id) || self.message.single_from().is_some_and(|f| f.email.eq_ignore_ascii_case(address)))
        {
            return true;
        }
        if !matches!(self.list, ListVerdict::Advice(_)) {
            return false;
        }
        let (ids, posts) = list_headers(&self.message);
        ids.iter().any(|id| is_list_address(address, id)) || posts.iter().any(|p| p.eq_ignore_ascii_case(address))
    }

    /// The message as its author sent it, as far as signed facts tell.
    pub fn message(&self) -> &Message {
        &self.message
    }

    /// Where drafts go besides the author: the list, when the team
    /// replies to it (`reply_to_list`).
    pub fn copy_to(&self) -> Option<&str> {
        self.copy_to.as_deref()
    }

    /// For staff: how the message came through a list, if it did.
    pub fn note(&self) -> Option<String> {
        match &self.list {
            ListVerdict::NotListMail => None,
            ListVerdict::Advice(why) => Some(format!("list mail that proves nothing: {why}")),
            ListVerdict::Vouched(a) => {
                let copy = match (&self.copy_to, self.copy_refused) {
                    (Some(list), _) => format!("; drafts go to the author and the list {}", sanitize_line(list)),
                    (None, true) if !a.dkim.passed() => {
                        "; reply_to_list is set, but the seal records no passing signature of the author: drafts go to the author only".into()
                    }
                    (None, true) => "; reply_to_list is set, but the seal covers no List-Post address: drafts go to the author only".into(),
                    (None, false) => String::new(),
                };
                Some(format!(
                    "via the list's ARC seal ({}): author {}, list <{}>{copy}",
                    sanitize_line(&a.sealer),
                    sanitize_line(&a.author.email),
                    sanitize_line(&a.list_id)
                ))
            }
        }
    }
}

/// The author's words in list mail, without what the list added: its
/// subject tag (`[sr.ht-support]`, any bracketed prefix of the List-Id)
/// and its footer (from the last separator line of underscores, else the
/// last "-- ", when at most ten lines follow and they name the list or how
/// to unsubscribe). Classification
/// and quoting read this, not the list's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Undecorated {
    pub subject: String,
    pub text: String,
}

/// `subject` and `text` of mail through `list` without the list's tag and
/// footer; unchanged when the list added neither.
pub fn undecorated(list: &ListConfig, subject: &str, text: &str) -> Undecorated {
    Undecorated { subject: without_tag(&list.id, subject), text: without_footer(&list.id, text) }
}

fn without_tag(list_id: &str, subject: &str) -> String {
    let mut from = 0;
    while let Some(open) = subject[from..].find('[').map(|i| i + from) {
        let Some(close) = subject[open..].find(']').map(|i| i + open) else { break };
        let tag = subject[open + 1..close].trim().to_ascii_lowercase();
        let ours = !tag.is_empty() && (tag == list_id || list_id.starts_with(&format!("{tag}.")));
        if ours {
            let rest = subject[close + 1..].trim_start();
            return sanitize_line(&format!("{}{rest}", &subject[..open]));
        }
        from = close + 1;
    }
    subject.to_string()
}

fn without_footer(list_id: &str, text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let is_rule = |l: &str| l.trim().len() >= 20 && l.trim().chars().all(|c| c == '_');
    let domain = list_id.split_once('.').map_or(list_id, |(_, d)| d);
    let names_list = |rest: &[&str]| {
        rest.iter().any(|l| {
            let l = l.to_ascii_lowercase();
            l.contains(domain) || l.contains("unsubscribe") || l.contains("mailing list")
        })
    };
    // Only a short last block that names the list is its footer: a rule or
    // a "-- " in the author's own text (above a challenge answer, a
    // "do not delete it yet") is theirs to the end.
    let footer = |at: usize| (lines.len() - at <= 10 && names_list(&lines[at + 1..])).then_some(at);
    let cut = lines
        .iter()
        .rposition(|l| is_rule(l))
        .and_then(footer)
        .or_else(|| lines.iter().rposition(|l| *l == "-- ").and_then(footer));
    match cut {
        Some(at) => lines[..at].join("\n").trim_end().to_string() + "\n",
        None => text.to_string(),
    }
}

/// A PGP/MIME message the list wrapped to add its footer as a second part
/// (`multipart/mixed` of the author's `multipart/signed` and one
/// `text/plain` footer), as the author sent it: the same header section
/// with the signed entity as the whole body. The footer part is dropped,
/// not trusted, so what is verified and read is the signed text alone.
/// `None` for any other shape. Inline signatures do not survive a footer
/// added to their text, and nothing here restores them.
pub fn without_footer_part(msg: &Message) -> Option<Message> {
    use mail_parser::{MessageParser, MimeHeaders, PartType};
    let raw = msg.raw();
    let parsed = MessageParser::default().parse(raw)?;
    let root = parsed.parts.first()?;
    let PartType::Multipart(children) = &root.body else { return None };
    if !root.content_type().is_some_and(|ct| ct.ctype().eq_ignore_ascii_case("multipart") && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case("mixed"))) {
        return None;
    }
    let [signed, footer] = children.as_slice() else { return None };
    let (signed, footer) = (parsed.parts.get(*signed as usize)?, parsed.parts.get(*footer as usize)?);
    let is = |p: &mail_parser::MessagePart<'_>, t: &str, sub: &str| {
        p.content_type().is_some_and(|ct| ct.ctype().eq_ignore_ascii_case(t) && ct.subtype().is_some_and(|s| s.eq_ignore_ascii_case(sub)))
    };
    if !is(signed, "multipart", "signed") || !is(footer, "text", "plain") || footer.attachment_name().is_some() {
        return None;
    }
    // The top-level headers but Content-Type, then the signed entity.
    let mut out = Vec::with_capacity(raw.len());
    for h in &root.headers {
        if h.name.as_str().eq_ignore_ascii_case("content-type") || h.name.as_str().eq_ignore_ascii_case("content-transfer-encoding") {
            continue;
        }
        out.extend_from_slice(raw.get(h.offset_field as usize..h.offset_end as usize)?);
    }
    out.extend_from_slice(raw.get(signed.offset_header as usize..signed.offset_end as usize)?);
    Message::parse(out).ok()
}

/// The author's DKIM result as the sealer recorded it on arrival.
fn author_dkim(results: &[u8], author: &Address, sealer: &str) -> Factor {
    let author_domain = author.email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default();
    let text = String::from_utf8_lossy(results);
    let mut seen = Vec::new();
    for (result, domain) in dkim_results(&text) {
        if result == "pass" && aligned(&domain, &author_domain) {
            return Factor::pass(format!(
                "pass via the list's ARC seal ({sealer}): it saw a valid signature by d={} on arrival",
                sanitize_line(&domain)
            ));
        }
        seen.push(format!("dkim={} header.d={}", sanitize_line(&result), sanitize_line(&domain)));
    }
    if seen.is_empty() {
        return Factor::none(format!("the list's ARC seal ({sealer}) records no DKIM signature on arrival"));
    }
    Factor::fail(format!(
        "the list's ARC seal ({sealer}) records no passing signature aligned with {author_domain}: {}",
        seen.join(", ")
    ))
}

/// `dkim=RESULT` entries of an Authentication-Results value, each with the
/// signing domain (header.d, else the domain of header.i). The sealer
/// writes the sender's words into it too (`smtp.mailfrom`, a signature's
/// `i=`): a quoted `;` or "dkim=pass" there is text, not an entry, and a
/// domain is only ever letters, digits, dots and hyphens.
fn dkim_results(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for words in results_parts(value) {
        let mut words = words.iter();
        let Some(result) = words.next().and_then(|w| w.to_ascii_lowercase().strip_prefix("dkim=").map(str::to_string)) else {
            continue;
        };
        let (mut d, mut i) = (None, None);
        for w in words {
            let Some((k, v)) = w.split_once('=') else { continue };
            let v = v.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(v);
            match k.to_ascii_lowercase().as_str() {
                "header.d" if d.is_none() => d = Some(v.to_ascii_lowercase()),
                "header.i" if i.is_none() => i = Some(v.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()).unwrap_or_default()),
                _ => {}
            }
        }
        let domain = d.or(i).filter(|d| d.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')).unwrap_or_default();
        out.push((result, domain));
    }
    out
}

/// The `;`-separated parts of an Authentication-Results value, each as its
/// whitespace-separated words: comments dropped, a quoted string kept whole
/// inside its word (its `;`, spaces and parentheses are text).
fn results_parts(value: &str) -> Vec<Vec<String>> {
    let (mut parts, mut words, mut word) = (Vec::new(), Vec::new(), String::new());
    let (mut depth, mut quoted, mut escaped) = (0usize, false, false);
    for c in value.chars() {
        if quoted {
            word.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => quoted = false,
                _ => {}
            }
            continue;
        }
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            _ if depth > 0 => {}
            '"' => {
                quoted = true;
                word.push(c);
            }
            ';' => {
                words.extend((!word.is_empty()).then(|| std::mem::take(&mut word)));
                parts.push(std::mem::take(&mut words));
            }
            c if c.is_whitespace() => words.extend((!word.is_empty()).then(|| std::mem::take(&mut word))),
            c => word.push(c),
        }
    }
    words.extend((!word.is_empty()).then_some(word));
    parts.push(words);
    parts
}

/// RFC 5322 comments (nested parentheses) removed.
fn strip_comments(s: &str) -> String {
    let mut depth = 0usize;
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            c if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out
}

/// The unfolded values of every `name` header, top to bottom.
fn header_values<'x>(parsed: &'x AuthenticatedMessage<'x>, name: &str) -> Vec<&'x [u8]> {
    parsed
        .raw_parsed_headers()
        .iter()
        .filter(|(n, _)| String::from_utf8_lossy(n).trim().eq_ignore_ascii_case(name))
        .map(|(_, v)| *v)
        .collect()
}

/// The id of a List-Id value: `Name <id>` or `<id>`, lower case.
fn list_id(value: &[u8]) -> Option<String> {
    let text = strip_comments(&String::from_utf8_lossy(value));
    let start = text.rfind('<')? + 1;
    let end = start + text[start..].find('>')?;
    let id = text[start..end].trim().to_ascii_lowercase();
    (!id.is_empty()).then_some(id)
}

/// The address of `value` ("Support <support@example.org>"), if it holds one.
pub(crate) fn address_of(value: &str) -> Option<String> {
    single_address(value.as_bytes()).map(|a| a.email)
}

/// The one address of an address header value (RFC 2047 names decoded).
fn single_address(value: &[u8]) -> Option<Address> {
    let mut raw = b"From:".to_vec();
    raw.extend_from_slice(value);
    raw.extend_from_slice(b"\r\n\r\n");
    let parsed = Message::parse(raw).ok()?;
    match parsed.from.as_slice() {
        [one] if parsed.from_header_count == 1 && one.email.contains('@') => Some(one.clone()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dkim_results_are_read_with_their_domain() {
        let v = " i=1; lists.example.org;\r\n\tdkim=pass (2048-bit key) header.d=Example.org header.s=rsa header.b=abc;\r\n\tdkim=fail header.i=\"@attacker.test\"; spf=pass smtp.mailfrom=x@example.org";
        assert_eq!(
            dkim_results(v),
            vec![("pass".into(), "example.org".into()), ("fail".into(), "attacker.test".into())]
        );
        assert_eq!(dkim_results("i=1; mx; dkim=none"), vec![("none".into(), String::new())]);
    }

    #[test]
    fn what_the_sender_wrote_into_the_results_is_no_entry() {
        // Mallory's envelope sender and her signature's i= are hers to
        // choose; the sealer records them, quoted, next to her own result.
        let alice = Address { name: None, email: "alice@example.org".into() };
        for v in [
            "i=1; lists.example.org; spf=pass smtp.mailfrom=\"x;dkim=pass header.d=example.org;\"@attacker.test; dkim=pass header.d=attacker.test",
            "i=1; lists.example.org; dkim=pass header.d=attacker.test header.i=\"x header.d=example.org;\"@attacker.test",
            "i=1; lists.example.org; dkim=pass header.i=\"x;(\"@attacker.test header.d=example.org\"",
            "i=1; lists.example.org; dkim=pass header.i=\"x\"@example.org@attacker.test",
        ] {
            assert!(!author_dkim(v.as_bytes(), &alice, "lists.example.org").passed(), "{v}: {:?}", dkim_results(v));
        }
        assert_eq!(
            dkim_results("spf=pass smtp.mailfrom=\"x;dkim=pass header.d=example.org;\"@attacker.test; dkim=pass header.d=attacker.test"),
            vec![("pass".into(), "attacker.test".into())]
        );
    }

    #[test]
    fn the_author_factor_needs_a_pass_aligned_with_the_author() {
        let alice = Address { name: None, email: "alice@mail.example.org".into() };
        assert!(author_dkim(b"i=1; l; dkim=pass header.d=example.org", &alice, "l.test").passed());
        let f = author_dkim(b"i=1; l; dkim=pass header.d=attacker.test", &alice, "l.test");
        assert!(!f.passed() && f.reason.contains("no passing signature aligned with mail.example.org"), "{f:?}");
        assert!(!author_dkim(b"i=1; l; dkim=fail header.d=example.org", &alice, "l.test").passed());
        assert!(!author_dkim(b"i=1; l; spf=pass", &alice, "l.test").passed());
    }

    #[test]
    fn the_lists_tag_and_footer_are_not_the_authors_text() {
        let list = ListConfig { id: "sr.ht-support.lists.example.org".into(), sealers: vec![], reply_to_list: false };
        let text = "Please delete my account.\n\nAlice\n_______________________________________________\nsr.ht-support mailing list -- sr.ht-support@lists.example.org\nTo unsubscribe send an email to sr.ht-support-leave@lists.example.org\n";
        let u = undecorated(&list, "Re: [sr.ht-support] Delete my account [urgent]", text);
        assert_eq!(u.subject, "Re: Delete my account [urgent]");
        assert_eq!(u.text, "Please delete my account.\n\nAlice\n");
        let sig = "Delete it.\n-- \nAlice, who writes a long signature\n";
        assert_eq!(undecorated(&list, "[other] x", sig), Undecorated { subject: "[other] x".into(), text: sig.into() });
        let list_sig = "Delete it.\n-- \nYou received this because you are subscribed to sr.ht-support\nunsubscribe: sr.ht-support+unsubscribe@lists.example.org\n";
        assert_eq!(undecorated(&list, "x", list_sig).text, "Delete it.\n");
    }

    #[test]
    fn a_rule_in_the_authors_text_is_not_the_lists_footer() {
        let list = ListConfig { id: "sr.ht-support.lists.example.org".into(), sealers: vec![], reply_to_list: false };
        let text = "Please delete my account.\n______________________________\nSorry, not yet: I still need the repositories.\n";
        assert_eq!(undecorated(&list, "x", text).text, text);
        let answer = "My answer:\n____________________\n-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n";
        assert_eq!(undecorated(&list, "x", answer).text, answer);
        // The list's own footer under the author's rule is still cut there.
        let both = format!("{answer}_______________________________________________\nsr.ht-support mailing list\n");
        assert_eq!(undecorated(&list, "x", &both).text, answer);
    }

    #[test]
    fn list_ids_and_addresses() {
        assert_eq!(list_id(b" Sr.ht Support <SR.HT-support.lists.example.org>").as_deref(), Some("sr.ht-support.lists.example.org"));
        assert_eq!(list_id(b" no brackets"), None);
        assert_eq!(single_address(b" Alice <alice@example.org>").map(|a| a.email).as_deref(), Some("alice@example.org"));
        assert_eq!(single_address(b" a@example.org, b@example.org"), None);
    }

    #[test]
    fn a_lists_own_address_and_its_posting_address() {
        assert!(is_list_address("SR.HT-support@Lists.example.org", "sr.ht-support.lists.example.org"));
        assert!(!is_list_address("alice@example.org", "sr.ht-support.lists.example.org"));
        assert_eq!(mailto(b" <mailto:list@example.org?subject=help>").as_deref(), Some("list@example.org"));
        assert_eq!(mailto(b" NO (posting not allowed)"), None);
        assert_eq!(mailto(b" <mailto:a b@example.org>"), None);
        let m = |h: &str| Message::parse(format!("{h}Subject: x\r\n\r\nhi\r\n").into_bytes()).unwrap();
        let munged = m("From: Alice via support <support@lists.example.org>\r\nList-Id: <support.lists.example.org>\r\n");
        assert_eq!(from_is_list(&munged).as_deref(), Some("support.lists.example.org"));
        let posted = m("From: list@example.org\r\nList-Id: <x.example.org>\r\nList-Post: <mailto:list@example.org>\r\n");
        assert_eq!(from_is_list(&posted).as_deref(), Some("x.example.org"));
        assert_eq!(from_is_list(&m("From: alice@example.org\r\nList-Id: <support.lists.example.org>\r\n")), None);
        assert_eq!(from_is_list(&m("From: support@lists.example.org\r\n")), None, "no List-Id: not list mail");
    }

    #[test]
    fn an_arrival_is_read_as_the_author_sent_it_only_when_vouched() {
        let list = ListConfig { id: "support.lists.example.org".into(), sealers: vec![], reply_to_list: true };
        let raw = "From: Alice via support <support@lists.example.org>\r\nReply-To: Alice <alice@example.org>\r\nList-Id: <support.lists.example.org>\r\nSubject: [support] Delete my account\r\n\r\nPlease delete it.\r\n_______________________________________________\r\nsupport mailing list -- support@lists.example.org\r\n";
        let msg = Message::parse(raw.as_bytes().to_vec()).unwrap();
        let alice = Address { name: Some("Alice".into()), email: "alice@example.org".into() };
        let vouched = ListAuthor {
            list_id: list.id.clone(),
            author: alice,
            dkim: Factor::pass("via the seal"),
            sealer: "lists.example.org".into(),
            signed: Vec::new(),
            post: Some("support@lists.example.org".into()),
        };
        let a = Arrival::new(&msg, ListVerdict::Vouched(vouched), std::slice::from_ref(&list));
        let m = a.message();
        assert_eq!((m.single_from().map(|f| f.email.as_str()), m.reply_to.as_ref()), (Some("alice@example.org"), None));
        assert_eq!((m.subject.as_str(), m.text.as_str()), ("Delete my account", "Please delete it.\n"));
        assert_eq!(a.copy_to(), Some("support@lists.example.org"));
        assert!(!a.is_the_list("support@lists.example.org"), "the author is known: the list is only a copy");
        assert!(a.note().unwrap().starts_with("via the list's ARC seal (lists.example.org): author alice@example.org"));

        let a = Arrival::new(&msg, ListVerdict::Advice("its seal is not trusted".into()), std::slice::from_ref(&list));
        let m = a.message();
        assert_eq!(m.single_from().map(|f| f.email.as_str()), Some("support@lists.example.org"), "nobody vouched: From stays");
        assert_eq!(m.subject, "Delete my account", "the tag is the list's whoever vouches");
        assert_eq!(a.copy_to(), None);
        assert!(a.is_the_list("support@lists.example.org") && !a.is_the_list("alice@example.org"));

        // From is someone, Reply-To the list (or its List-Post address).
        let stranger = raw
            .replace("From: Alice via support <support@lists.example.org>", "From: Dave <dave@stranger.test>")
            .replace("Reply-To: Alice <alice@example.org>", "Reply-To: support@lists.example.org\r\nList-Post: <mailto:post@lists.example.org>");
        let msg = Message::parse(stranger.into_bytes()).unwrap();
        let a = Arrival::new(&msg, ListVerdict::Advice("no ARC seal".into()), std::slice::from_ref(&list));
        assert!(a.is_the_list("support@lists.example.org") && a.is_the_list("Post@lists.example.org"));
        assert!(!a.is_the_list("dave@stranger.test"));
        assert!(!Arrival::direct(&msg).is_the_list("support@lists.example.org"), "not read as list mail: unchanged");
        assert_eq!(address_of("Example Support <Support@example.org>").as_deref(), Some("Support@example.org"));
        let ours = Some("support@example.org");
        assert!(Arrival::new(&msg, ListVerdict::Advice("x".into()), &[]).answering_as(ours).is_ours("Support@example.org"));
        assert!(!Arrival::direct(&msg).answering_as(ours).is_ours("support@example.org"), "mail without List-Id: unchanged");
        assert_eq!(Arrival::new(&msg, ListVerdict::Advice("x".into()), &[]).message().subject, "[support] Delete my account");
    }

    #[test]
    fn the_list_gets_no_copy_for_an_author_whose_signature_the_seal_does_not_record() {
        // The seal covers whatever author header the sender wrote: without
        // the author's own signature that is a name, and a copy to the list
        // would show every subscriber the draft for that name's account.
        let list = ListConfig { id: "support.lists.example.org".into(), sealers: vec![], reply_to_list: true };
        let raw = "From: Alice via support <support@lists.example.org>\r\nReply-To: Alice <alice@example.org>\r\nList-Id: <support.lists.example.org>\r\nSubject: [support] Is 2FA on?\r\n\r\nWhat is my username?\r\n";
        let msg = Message::parse(raw.as_bytes().to_vec()).unwrap();
        let named = ListAuthor {
            list_id: list.id.clone(),
            author: Address { name: Some("Alice".into()), email: "alice@example.org".into() },
            dkim: Factor::fail("the list's ARC seal records no passing signature aligned with example.org: dkim=pass header.d=attacker.test"),
            sealer: "lists.example.org".into(),
            signed: Vec::new(),
            post: Some("support@lists.example.org".into()),
        };
        let a = Arrival::new(&msg, ListVerdict::Vouched(named), std::slice::from_ref(&list));
        assert_eq!(a.copy_to(), None);
        assert!(a.note().unwrap().ends_with("the seal records no passing signature of the author: drafts go to the author only"), "{:?}", a.note());
    }
}
