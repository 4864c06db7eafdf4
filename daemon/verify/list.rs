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

use std::time::Duration;

use mail_auth::{AuthenticatedMessage, DkimResult, MessageAuthenticator, Parameters};

use super::Factor;
use super::dkim::{Bounded, OneCheck, aligned};
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
}

/// What list headers prove about a message.
#[derive(Debug, Clone, PartialEq)]
pub enum ListVerdict {
    /// No List-Id header: not list mail.
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
/// order they are believed.
const AUTHOR_HEADERS: [&str; 2] = ["x-original-from", "reply-to"];

/// Who wrote `msg` according to the configured list it came through, if
/// any. `timeout` bounds the DNS work of the ARC check (three times it, as
/// for DKIM); the ARC work itself is bounded like DKIM's
/// (`dkim::MAX_ARC_SETS`).
pub async fn list_author(auth: &MessageAuthenticator, lists: &[ListConfig], msg: &Message, timeout: Duration) -> ListVerdict {
    let from_domain = msg.single_from().and_then(|a| a.email.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase()));
    let view = Bounded::of(msg.raw(), from_domain.as_deref().unwrap_or(""));
    let Some(parsed) = AuthenticatedMessage::parse_with_opts(&view.raw, None, false) else {
        return ListVerdict::NotListMail;
    };
    let ids: Vec<String> = header_values(&parsed, "list-id").iter().filter_map(|v| list_id(v)).collect();
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
    let signed = |name: &str| newest.signature.header.h.iter().filter(|h| h.trim().eq_ignore_ascii_case(name)).count();
    let Some((header, value)) = AUTHOR_HEADERS
        .iter()
        .find_map(|name| header_values(&parsed, name).first().map(|v| (*name, *v)))
    else {
        return ListVerdict::Advice(format!("came through the list <{shown}> with neither X-Original-From nor Reply-To: the author cannot be told"));
    };
    let present = header_values(&parsed, header).len();
    if present > signed(header) {
        return ListVerdict::Advice(format!(
            "came through the list <{shown}>, but its seal does not cover the {header} header ({present} present, {} signed): the author cannot be told",
            signed(header)
        ));
    }
    let Some(author) = single_address(value) else {
        return ListVerdict::Advice(format!("came through the list <{shown}>, but its {header} header does not hold exactly one address"));
    };
    let dkim = author_dkim(newest.results.value, &author, &seal_d);
    ListVerdict::Vouched(ListAuthor { list_id: id, author, dkim })
}

/// The author's words in list mail, without what the list added: its
/// subject tag (`[sr.ht-support]`, any bracketed prefix of the List-Id)
/// and its footer (from the last separator line of underscores, or a last
/// "-- " block that names the list or how to unsubscribe). Classification
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
    let cut = lines.iter().rposition(|l| is_rule(l)).or_else(|| {
        let sig = lines.iter().rposition(|l| *l == "-- ")?;
        (lines.len() - sig <= 10 && names_list(&lines[sig + 1..])).then_some(sig)
    });
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
/// signing domain (header.d, else the domain of header.i).
fn dkim_results(value: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in strip_comments(value).split(';') {
        let mut words = part.split_whitespace();
        let Some(result) = words.next().and_then(|w| w.to_ascii_lowercase().strip_prefix("dkim=").map(str::to_string)) else {
            continue;
        };
        let mut domain = None;
        for w in words {
            let Some((k, v)) = w.split_once('=') else { continue };
            let v = v.trim_matches('"');
            match k.to_ascii_lowercase().as_str() {
                "header.d" => domain = Some(v.to_ascii_lowercase()),
                "header.i" if domain.is_none() => {
                    domain = v.rsplit_once('@').map(|(_, d)| d.to_ascii_lowercase());
                }
                _ => {}
            }
        }
        out.push((result, domain.unwrap_or_default()));
    }
    out
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
    fn list_ids_and_addresses() {
        assert_eq!(list_id(b" Sr.ht Support <SR.HT-support.lists.example.org>").as_deref(), Some("sr.ht-support.lists.example.org"));
        assert_eq!(list_id(b" no brackets"), None);
        assert_eq!(single_address(b" Alice <alice@example.org>").map(|a| a.email).as_deref(), Some("alice@example.org"));
        assert_eq!(single_address(b" a@example.org, b@example.org"), None);
    }
}
