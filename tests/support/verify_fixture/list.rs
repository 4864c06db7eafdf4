//! Mail as a mailing list passes it on: rewritten the way Mailman 3 does it
//! against DMARC (From munged to "Alice via sr.ht-support <list@…>", the
//! author in Reply-To or X-Original-From, a subject tag, a footer) and
//! ARC-sealed by a test sealer whose key the test DNS serves
//! (`rsa._domainkey.lists.example.net`, and attacker.test's).

use mail_auth::arc::ArcSealer;
use mail_auth::common::headers::HeaderWriter;
use mail_auth::{AuthenticatedMessage, AuthenticationResults, MessageAuthenticator};

use super::World;

pub const LIST_ID: &str = "sr.ht-support.lists.example.net";
pub const LIST_ADDRESS: &str = "sr.ht-support@lists.example.net";
pub const SEALER: &str = "lists.example.net";
pub const FOOTER: &str = "_______________________________________________\r\nsr.ht-support mailing list -- sr.ht-support@lists.example.net\r\nTo unsubscribe send an email to sr.ht-support-leave@lists.example.net\r\n";

/// Where the list puts the author when it rewrites From.
#[derive(Clone, Copy, Debug)]
pub enum Author {
    ReplyTo,
    OriginalFrom,
}

pub fn authenticator(w: &World) -> MessageAuthenticator {
    MessageAuthenticator(triaged::verify::dkim::resolver(&w.config.dns).unwrap())
}

/// `original` as the list delivers it: From munged, the author moved,
/// List-Id, List-Post, subject tag and footer added, then sealed by
/// `sealer` (d=) after checking the author's DKIM, as the list's MTA does
/// on arrival.
pub async fn through_list(w: &World, original: &str, author: Author, sealer: &str) -> String {
    let list = authenticator(w);
    let (head, body) = original.split_once("\r\n\r\n").unwrap();
    let from = head
        .split("\r\n")
        .find_map(|l| l.strip_prefix("From: "))
        .expect("a From line")
        .to_string();
    let address = from.rsplit_once('<').map_or(from.as_str(), |(_, a)| a.trim_end_matches('>')).to_string();
    let parsed = AuthenticatedMessage::parse(original.as_bytes()).unwrap();
    let dkim = list.verify_dkim(&parsed).await;
    let results = AuthenticationResults::new(sealer).with_dkim_results(&dkim, &address);

    let mut headers = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with("From: ") {
            let name = from.split(" <").next().unwrap_or("someone").trim_matches('"');
            headers.push(format!("From: {name} via sr.ht-support <{LIST_ADDRESS}>"));
        } else if let Some(v) = line.strip_prefix("Subject: ") {
            headers.push(format!("Subject: [sr.ht-support] {v}"));
        } else {
            headers.push(line.to_string());
        }
    }
    headers.push(match author {
        Author::ReplyTo => format!("Reply-To: {from}"),
        Author::OriginalFrom => format!("X-Original-From: {from}"),
    });
    headers.push(format!("List-Id: \"sr.ht support\" <{LIST_ID}>"));
    headers.push(format!("List-Post: <mailto:{LIST_ADDRESS}>"));
    let rewritten = format!("{}\r\n\r\n{body}{FOOTER}", headers.join("\r\n"));

    let parsed = AuthenticatedMessage::parse(rewritten.as_bytes()).unwrap();
    let arc_so_far = list.verify_arc(&parsed).await;
    let set = ArcSealer::from_key(w.rsa.mail_auth_key())
        .domain(sealer)
        .selector("rsa")
        .headers([
            "From", "To", "Subject", "Date", "Message-ID", "In-Reply-To", "References", "Reply-To", "X-Original-From", "List-Id",
            "List-Post", "DKIM-Signature",
        ])
        .seal(&parsed, &results, &arc_so_far)
        .unwrap();
    format!("{}{rewritten}", set.to_header())
}
